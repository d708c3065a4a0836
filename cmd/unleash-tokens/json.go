package main

// The JSON every command prints: one token object everywhere, and the
// envelope each command puts around it. docs/JSON.md documents these
// shapes, and TestJSONShapes holds the code to that page.

import (
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
)

// tokenJSON is the token object: the keys of unleashadmin.APIToken's JSON,
// each always present, null where the token has no such value or the
// command cannot know it.
type tokenJSON struct {
	Secret      *string    `json:"secret"`
	TokenName   *string    `json:"tokenName"`
	Type        *string    `json:"type"`
	Environment *string    `json:"environment"`
	Project     *string    `json:"project"`
	Projects    []string   `json:"projects"`
	CreatedAt   *time.Time `json:"createdAt"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	SeenAt      *time.Time `json:"seenAt"`
	Alias       *string    `json:"alias"`
	Secure      *bool      `json:"secure"`
}

// tokenObject is t as the token object, its secret and alias redacted
// (APIToken.Redacted) unless reveal: only a command that hands over a
// secret reveals it.
func tokenObject(t unleashadmin.APIToken, reveal bool) *tokenJSON {
	if !reveal {
		t = t.Redacted()
	}
	o := &tokenJSON{Secret: text(t.Secret), TokenName: text(t.TokenName), Type: text(string(t.Type)),
		Environment: text(t.Environment), Project: text(t.Project), Projects: projectIDs(t.ProjectIDs()),
		ExpiresAt: t.ExpiresAt, SeenAt: t.SeenAt, Alias: t.Alias, Secure: &t.Secure}
	if !t.CreatedAt.IsZero() {
		o.CreatedAt = &t.CreatedAt
	}
	return o
}

// tokenObjectOf is tokenObject of a token that may be missing (null).
func tokenObjectOf(t *unleashadmin.APIToken) *tokenJSON {
	if t == nil {
		return nil
	}
	return tokenObject(*t, false)
}

// text is s, or null when it is empty.
func text(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// projectIDs is a token's projects, null when it has none.
func projectIDs(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	return ids
}

// rotateJSON is what rotate prints: the new token, secret included, the
// old one and what is done to it next.
type rotateJSON struct {
	Token *tokenJSON `json:"token"`
	Old   *tokenJSON `json:"old"`
	// Retire is "deleted next" or "expires in <grace>", and with
	// --wait-unused "deleted once unused for <quiet> (watched for up to
	// <wait>)" or "expires in <grace> once unused for ...": the new token
	// is printed before the old one is touched; the outcome goes to stderr
	// and the exit code (6 when the old token could not be retired).
	Retire string `json:"retire"`
}

// foundJSON is what expire and delete print: the token acted on, or with
// --ignore-not-found none.
type foundJSON struct {
	Found bool       `json:"found"`
	Token *tokenJSON `json:"token"`
}

// eventJSON is one event of the token event log.
type eventJSON struct {
	ID              int64      `json:"id"`
	Type            string     `json:"type"`
	CreatedBy       string     `json:"createdBy"`
	CreatedByUserID *int64     `json:"createdByUserId"`
	CreatedAt       time.Time  `json:"createdAt"`
	Project         *string    `json:"project"`
	Environment     *string    `json:"environment"`
	Label           *string    `json:"label"`
	Summary         *string    `json:"summary"`
	Data            *tokenJSON `json:"data"`
	PreData         *tokenJSON `json:"preData"`
}

func eventsJSON(events []unleashadmin.Event) []eventJSON {
	out := make([]eventJSON, len(events))
	for i, e := range events {
		// Event data never holds a secret, but it is redacted all the
		// same: an older or a future server might put one there.
		out[i] = eventJSON{ID: e.ID, Type: string(e.Type), CreatedBy: e.CreatedBy, CreatedByUserID: e.CreatedByUserID,
			CreatedAt: e.CreatedAt, Project: text(e.Project), Environment: text(e.Environment), Label: text(e.Label),
			Summary: text(e.Summary), Data: tokenObjectOf(e.Data), PreData: tokenObjectOf(e.PreData)}
	}
	return out
}

// actionJSON is an action of a plan in apply's outcomes: the keys of an
// action of the plan document (planDocument) less its fingerprint and
// undelivered.
type actionJSON struct {
	// Instance is the instance of a fleet the action is on (fleet.go);
	// null for a file without instances.
	Instance *string    `json:"instance"`
	Action   string     `json:"action"`
	Name     string     `json:"name"`
	Reason   string     `json:"reason"`
	Token    *tokenJSON `json:"token"`
	// New is the token a create, rotate or replace makes, with what is
	// known of it before it exists; for an outcome, the token made.
	New             *tokenJSON `json:"new"`
	RetireExpiresAt *time.Time `json:"retireExpiresAt"`
	// Protection is why token is never retired (the key in use, an admin
	// token), null when nothing protects it.
	Protection *string `json:"protection"`
	// StillInUse is true when a retire policy of when: unused found token
	// used within its quiet period: on a wait, the reason it waits; on a
	// retire, that it is retired anyway because within has passed.
	StillInUse bool `json:"stillInUse"`
}

func actionOf(act desired.Action) actionJSON {
	j := actionJSON{Action: string(act.Kind), Name: act.Name, Reason: act.Reason, Token: tokenObjectOf(act.Token), RetireExpiresAt: act.ExpiresAt}
	if act.Protected != unleashadmin.Unprotected {
		j.Protection = text(string(act.Protected))
	}
	if act.Decision != nil {
		j.StillInUse = act.Decision.StillInUse
	}
	if act.Makes() && act.Entry != nil {
		// An entry without projects is for all projects.
		projects := unleashadmin.APIToken{Projects: act.Entry.Projects}.ProjectIDs()
		if len(projects) == 0 {
			projects = []string{"*"}
		}
		j.New = &tokenJSON{TokenName: text(act.Name), Type: text(string(act.Entry.Type)), Environment: text(act.Environment), Projects: projects}
	}
	return j
}

// applyJSON is what apply prints.
type applyJSON struct {
	Outcomes []outcomeJSON `json:"outcomes"`
}

// outcomeJSON is what apply did for one action.
type outcomeJSON struct {
	actionJSON
	Status    string  `json:"status"`
	Delivered bool    `json:"delivered"`
	Revoked   bool    `json:"revoked"`
	Retired   bool    `json:"retired"`
	Deleted   bool    `json:"deleted"`
	Error     *string `json:"error"`
}

func applyOf(res *desired.Result) applyJSON {
	out := applyJSON{Outcomes: make([]outcomeJSON, len(res.Outcomes))}
	for i, o := range res.Outcomes {
		j := outcomeJSON{actionJSON: actionOf(o.Action), Status: string(o.Status()), Delivered: o.Delivered, Revoked: o.Revoked,
			Retired: o.Retired, Deleted: o.Deleted}
		j.New, j.RetireExpiresAt = tokenObjectOf(o.New), o.ExpiresAt
		if o.Err != nil {
			j.Error = text(o.Err.Error())
		}
		out.Outcomes[i] = j
	}
	return out
}

// auditJSON is what audit prints.
type auditJSON struct {
	Tokens    int           `json:"tokens"`
	Counted   int           `json:"counted"`
	Limit     *int          `json:"limit"`
	NearLimit bool          `json:"nearLimit"`
	Findings  []findingJSON `json:"findings"`
}

type findingJSON struct {
	// Instance is the instance of a fleet the finding is on (fleet.go);
	// null outside a fleet.
	Instance *string    `json:"instance"`
	Kind     string     `json:"kind"`
	Reason   string     `json:"reason"`
	Token    *tokenJSON `json:"token"`
}

func auditOf(r *hygiene.Report) auditJSON {
	out := auditJSON{Tokens: r.Tokens, Counted: r.Counted, NearLimit: r.NearLimit(), Findings: make([]findingJSON, len(r.Findings))}
	if r.Limit > 0 {
		out.Limit = &r.Limit
	}
	for i, f := range r.Findings {
		out.Findings[i] = findingJSON{Kind: string(f.Kind), Reason: f.Reason, Token: tokenObject(f.Token, false)}
	}
	return out
}

// pruneJSON is what prune prints.
type pruneJSON struct {
	DryRun      bool              `json:"dryRun"`
	Retired     int               `json:"retired"`
	Failed      int               `json:"failed"`
	Skipped     int               `json:"skipped"`
	WouldRetire int               `json:"wouldRetire"`
	Protected   int               `json:"protected"`
	Results     []pruneResultJSON `json:"results"`
}

type pruneResultJSON struct {
	Status string `json:"status"`
	// Outcome is Status under the name the first release of prune's JSON
	// used, kept for the scripts written against it.
	Outcome    string     `json:"outcome"`
	Kinds      []string   `json:"kinds"`
	Reason     string     `json:"reason"`
	Protection *string    `json:"protection"`
	Error      *string    `json:"error"`
	Token      *tokenJSON `json:"token"`
}

func pruneOf(r *hygiene.PruneReport) pruneJSON {
	out := pruneJSON{DryRun: r.DryRun, Retired: r.Count(hygiene.StatusRetired), Failed: r.Count(hygiene.StatusFailed),
		Skipped: r.Count(hygiene.StatusSkipped), WouldRetire: r.Count(hygiene.StatusWouldRetire), Protected: r.Count(hygiene.StatusProtected),
		Results: make([]pruneResultJSON, len(r.Results))}
	for i, res := range r.Results {
		j := pruneResultJSON{Status: string(res.Status), Outcome: string(res.Status), Kinds: []string{}, Reason: res.Reason, Token: tokenObject(res.Token, false)}
		if res.Protection != unleashadmin.Unprotected {
			j.Protection = text(string(res.Protection))
		}
		for _, k := range res.Kinds {
			j.Kinds = append(j.Kinds, string(k))
		}
		if res.Err != nil {
			j.Error = text(res.Err.Error())
		}
		out.Results[i] = j
	}
	return out
}

// checkJSON is what check prints.
type checkJSON struct {
	Results []checkResultJSON `json:"results"`
}

type checkResultJSON struct {
	Source string     `json:"source"`
	Live   bool       `json:"live"`
	Token  *tokenJSON `json:"token"`
}

func checkOf(r *hygiene.CheckReport, sources []string) checkJSON {
	out := checkJSON{Results: make([]checkResultJSON, len(r.Results))}
	for i, c := range r.Results {
		// What /edge/validate says: for a live secret its type,
		// environment and projects; nothing else.
		tok := unleashadmin.APIToken{Secret: c.Secret}
		if c.Live {
			tok.Type, tok.Environment, tok.Projects = c.Type, c.Environment, c.Projects
		}
		j := tokenObject(tok, false)
		j.Secure = nil
		out.Results[i] = checkResultJSON{Source: sources[i], Live: c.Live, Token: j}
	}
	return out
}
