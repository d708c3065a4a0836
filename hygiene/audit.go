package hygiene

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
)

// FindingKind is the kind of a Finding.
type FindingKind string

// Kind is the old name of FindingKind.
//
// Deprecated: use FindingKind.
type Kind = FindingKind

// The kinds of finding Audit reports, in the order Kinds lists them.
const (
	// FindingNeverSeen is a token whose seenAt is null and that was
	// created more than NeverSeenAfter ago.
	FindingNeverSeen FindingKind = "never-seen"
	// FindingUnused is a token last seen more than AuditOptions.UnusedFor
	// ago.
	FindingUnused FindingKind = "unused"
	// FindingExpired is a token whose expiry has passed. Unleash lists
	// expired tokens until they are deleted; they count against the token
	// limit.
	FindingExpired FindingKind = "expired"
	// FindingExpiring is a token that expires within
	// AuditOptions.ExpiringWithin.
	FindingExpiring FindingKind = "expiring"
	// FindingDuplicate is one of several live tokens with the same name,
	// type (backend and client count as one), environment and projects.
	FindingDuplicate FindingKind = "duplicate"
	// FindingAllProjects is a client, backend or frontend token for all
	// projects ("*"), which grants more than most services need. Admin
	// tokens are not reported: every admin token is for all projects.
	FindingAllProjects FindingKind = "all-projects"
	// FindingStalledRotation is a token of a name, type (backend and
	// client count as one), environment and projects that is still used
	// more than AuditOptions.StalledAfter after a newer live token of that
	// name and scope was made: a rotation that made the new token, but some
	// service still reads the old secret. Its seenAt is later than the
	// next newer token's createdAt plus StalledAfter.
	FindingStalledRotation FindingKind = "stalled-rotation"
)

// The old names of the kinds.
//
// Deprecated: use the Finding constants (FindingNeverSeen, ...).
const (
	// Deprecated: use FindingNeverSeen.
	KindNeverSeen = FindingNeverSeen
	// Deprecated: use FindingUnused.
	KindUnused = FindingUnused
	// Deprecated: use FindingExpired.
	KindExpired = FindingExpired
	// Deprecated: use FindingExpiring.
	KindExpiring = FindingExpiring
	// Deprecated: use FindingDuplicate.
	KindDuplicate = FindingDuplicate
	// Deprecated: use FindingAllProjects.
	KindAllProjects = FindingAllProjects
)

// Kinds returns every kind of finding, in the order a Report lists them.
func Kinds() []FindingKind {
	return []FindingKind{FindingNeverSeen, FindingUnused, FindingExpired, FindingExpiring, FindingDuplicate, FindingAllProjects, FindingStalledRotation}
}

// ParseKind reads the name of a kind, such as "never-seen"; the error of an
// unknown name lists the known ones.
func ParseKind(s string) (FindingKind, error) {
	k := FindingKind(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Kinds(), k) {
		return k, nil
	}
	names := make([]string, 0, len(Kinds()))
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return "", fmt.Errorf("hygiene: %w: unknown finding kind %q (known: %s)", unleashadmin.ErrInvalidArgument, s, strings.Join(names, ", "))
}

// Defaults and thresholds of Audit.
const (
	// NeverSeenAfter is how old a token whose seenAt is null must be to be
	// reported as never seen. Unleash writes seenAt every few minutes, so a
	// token in use is seen well within a day of its creation.
	NeverSeenAfter = 24 * time.Hour
	// DefaultUnusedFor is AuditOptions.UnusedFor when it is zero.
	DefaultUnusedFor = 30 * 24 * time.Hour
	// DefaultExpiringWithin is AuditOptions.ExpiringWithin when it is zero.
	DefaultExpiringWithin = 14 * 24 * time.Hour
	// DefaultStalledAfter is AuditOptions.StalledAfter when it is zero: a
	// day, long enough for every service of a scheduled rotation to have
	// been redeployed or to have reread its secret.
	DefaultStalledAfter = 24 * time.Hour
	// LimitWarningPercent is the share of the token limit from which
	// Report.NearLimit is true.
	LimitWarningPercent = 80
)

// Instance is what Audit reads: a *unleashadmin.Client made with an admin
// API token satisfies it. Tests may wrap a Client to serve ServerInfo
// themselves.
type Instance interface {
	ListAPITokens(ctx context.Context) ([]unleashadmin.APIToken, error)
	ServerInfo(ctx context.Context) (*unleashadmin.ServerInfo, error)
}

// AuditOptions tunes Audit. The zero value audits with the defaults.
//
// Its JSON form is {"unusedFor":"30d","expiringWithin":"14d",
// "stalledAfter":"1d"}, durations as text in days or Go's units, each left
// out when zero; Now is left out.
type AuditOptions struct {
	// UnusedFor is how long a token must have gone unseen to be reported
	// as unused; DefaultUnusedFor when zero.
	UnusedFor time.Duration `json:"unusedFor,omitempty"`
	// ExpiringWithin is how soon a token must expire to be reported as
	// expiring; DefaultExpiringWithin when zero.
	ExpiringWithin time.Duration `json:"expiringWithin,omitempty"`
	// StalledAfter is how long after a newer token of its name and scope
	// was made an older one must still be used to be reported as a
	// stalled rotation; DefaultStalledAfter when zero.
	StalledAfter time.Duration `json:"stalledAfter,omitempty"`
	// Now reads the current time; time.Now when nil. A test passes the
	// clock it gives unleashtest.WithClock.
	Now func() time.Time `json:"-"`
}

// MarshalJSON writes the options as {"unusedFor","expiringWithin",
// "stalledAfter"}, each a duration as text ("90d", "36h"), left out when
// zero.
func (o AuditOptions) MarshalJSON() ([]byte, error) {
	type plain AuditOptions
	return json.Marshal(struct {
		plain
		UnusedFor      string `json:"unusedFor,omitempty"`
		ExpiringWithin string `json:"expiringWithin,omitempty"`
		StalledAfter   string `json:"stalledAfter,omitempty"`
	}{plain(o), durationText(o.UnusedFor), durationText(o.ExpiringWithin), durationText(o.StalledAfter)})
}

// UnmarshalJSON reads the options MarshalJSON writes; a field left out
// keeps its value. A duration that is not text such as "90d" or "36h" is an
// ErrInvalidArgument error.
func (o *AuditOptions) UnmarshalJSON(b []byte) error {
	type plain AuditOptions
	in := struct {
		*plain
		UnusedFor      *string `json:"unusedFor"`
		ExpiringWithin *string `json:"expiringWithin"`
		StalledAfter   *string `json:"stalledAfter"`
	}{plain: (*plain)(o)}
	if err := json.Unmarshal(b, &in); err != nil {
		return optionsError("AuditOptions", err)
	}
	if err := parseDurationText(&o.UnusedFor, in.UnusedFor); err != nil {
		return optionsError("AuditOptions.unusedFor", err)
	}
	if err := parseDurationText(&o.ExpiringWithin, in.ExpiringWithin); err != nil {
		return optionsError("AuditOptions.expiringWithin", err)
	}
	if err := parseDurationText(&o.StalledAfter, in.StalledAfter); err != nil {
		return optionsError("AuditOptions.stalledAfter", err)
	}
	return nil
}

// durationText is d as options write it: "90d", "36h"; "" for zero.
func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return durations.Format(d)
}

// parseDurationText sets *d from text such as "90d" when text is not nil.
func parseDurationText(d *time.Duration, text *string) error {
	if text == nil {
		return nil
	}
	if *text == "" {
		*d = 0
		return nil
	}
	v, err := durations.Parse(*text)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// optionsError is the error of options that do not unmarshal.
func optionsError(what string, err error) error {
	return fmt.Errorf("hygiene: %w: %s: %v", unleashadmin.ErrInvalidArgument, what, err)
}

func (o AuditOptions) withDefaults() (AuditOptions, error) {
	if o.UnusedFor < 0 || o.ExpiringWithin < 0 || o.StalledAfter < 0 {
		return o, fmt.Errorf("hygiene: %w: UnusedFor, ExpiringWithin and StalledAfter must not be negative", unleashadmin.ErrInvalidArgument)
	}
	if o.UnusedFor == 0 {
		o.UnusedFor = DefaultUnusedFor
	}
	if o.ExpiringWithin == 0 {
		o.ExpiringWithin = DefaultExpiringWithin
	}
	if o.StalledAfter == 0 {
		o.StalledAfter = DefaultStalledAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Finding is one thing Audit found about one token. A token may have
// several findings (unused and all-projects, say), except that an expired
// token has only its FindingExpired finding: the other kinds are about tokens
// that still work.
//
// Its printed form (every fmt verb, and slog) and its JSON form show the
// token's secret redacted; Token holds it as listed.
type Finding struct {
	Kind  FindingKind
	Token unleashadmin.APIToken
	// Reason says why, in words, with the date that decided it.
	Reason string
}

// Format prints the finding with the token's secret redacted, for every
// verb.
func (f Finding) Format(s fmt.State, _ rune) {
	fmt.Fprintf(s, "{Kind:%s Token:%v Reason:%q}", f.Kind, f.Token, f.Reason)
}

// LogValue logs the finding with the token's secret redacted.
func (f Finding) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", string(f.Kind)),
		slog.Any("token", f.Token),
		slog.String("reason", f.Reason),
	)
}

// Report is what Audit found.
//
// Its printed form (every fmt verb, and slog) and its JSON form,
// {"tokens":N,"counted":C,"limit":L,"nearLimit":B,"findings":[...]}, show
// every secret redacted.
type Report struct {
	// At is the time the audit judged by (AuditOptions.Now).
	At time.Time
	// Tokens is how many tokens the instance lists, admin and expired
	// tokens included.
	Tokens int
	// Counted is how many of them count against the limit. With default
	// token storage that is all of them. Under secure token storage
	// (ServerInfo.SecureTokens) Unleash counts only the tokens made in
	// that mode, which are listed with Secure set.
	Counted int
	// Limit is the instance's token limit (resourceLimits.apiTokens of its
	// UI configuration); 0 when it is not known, because the server did
	// not say or does not serve GET /api/admin/ui-config.
	Limit int
	// Findings lists the findings in the order of Kinds, each kind's by
	// token name and creation time; a duplicate group's tokens are next to
	// each other.
	Findings []Finding
}

// NearLimit reports whether the tokens counted against the limit are
// LimitWarningPercent (80 %) of it or more. It is false when the limit is
// not known.
func (r Report) NearLimit() bool {
	return r.Limit > 0 && r.Counted*100 >= r.Limit*LimitWarningPercent
}

// Of returns the findings of one kind.
func (r Report) Of(kind FindingKind) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// Has reports whether the report has a finding of any of kinds.
func (r Report) Has(kinds ...FindingKind) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return slices.Contains(kinds, f.Kind) })
}

// Format prints the report with every secret redacted, for every verb.
func (r Report) Format(s fmt.State, _ rune) {
	fmt.Fprintf(s, "{At:%s Tokens:%d Counted:%d Limit:%d Findings:[", r.At.UTC().Format(time.RFC3339), r.Tokens, r.Counted, r.Limit)
	for i, f := range r.Findings {
		if i > 0 {
			fmt.Fprint(s, " ")
		}
		fmt.Fprintf(s, "%v", f)
	}
	fmt.Fprint(s, "]}")
}

// LogValue logs the report's counts, with the number of findings of each
// kind, and no token.
func (r Report) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Int("tokens", r.Tokens), slog.Int("counted", r.Counted), slog.Int("limit", r.Limit), slog.Bool("nearLimit", r.NearLimit())}
	for _, k := range Kinds() {
		if n := len(r.Of(k)); n > 0 {
			attrs = append(attrs, slog.Int(string(k), n))
		}
	}
	return slog.GroupValue(attrs...)
}

// Audit reads the instance once, its token list and its token limit, and
// reports what it finds, judged at opts.Now: see the Finding constants. A
// server that does not serve its UI configuration (an ErrNotFound) leaves
// the limit unknown (Report.Limit 0); any other failure is returned.
// Bad options are refused before anything is sent.
func Audit(ctx context.Context, inst Instance, opts AuditOptions) (*Report, error) {
	if inst == nil {
		return nil, fmt.Errorf("hygiene: %w: no Instance", unleashadmin.ErrInvalidArgument)
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	toks, err := inst.ListAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	limit, secure := 0, false
	info, err := inst.ServerInfo(ctx)
	switch {
	case err == nil && info != nil:
		limit, secure = info.TokenLimit, info.SecureTokens
	case errors.Is(err, unleashadmin.ErrNotFound):
	case err != nil:
		return nil, err
	}
	counted := len(toks)
	if secure {
		counted = 0
		for _, t := range toks {
			if t.Secure {
				counted++
			}
		}
	}
	now := opts.Now()
	return &Report{At: now, Tokens: len(toks), Counted: counted, Limit: limit, Findings: findings(toks, now, opts)}, nil
}

// findings judges every token at now.
func findings(toks []unleashadmin.APIToken, now time.Time, opts AuditOptions) []Finding {
	toks = slices.Clone(toks)
	slices.SortStableFunc(toks, func(a, b unleashadmin.APIToken) int {
		return cmp.Or(strings.Compare(a.TokenName, b.TokenName), a.CreatedAt.Compare(b.CreatedAt))
	})
	byKind := map[FindingKind][]Finding{}
	add := func(k FindingKind, t unleashadmin.APIToken, reason string, args ...any) {
		byKind[k] = append(byKind[k], Finding{Kind: k, Token: t, Reason: fmt.Sprintf(reason, args...)})
	}
	groups := map[string][]unleashadmin.APIToken{}
	var keys []string
	for _, t := range toks {
		if t.ExpiredAt(now) {
			add(FindingExpired, t, "expired %s", stamp(*t.ExpiresAt))
			continue
		}
		if neverSeen(t, now) {
			add(FindingNeverSeen, t, "never seen; created %s, over %s ago", stamp(t.CreatedAt), durations.Format(NeverSeenAfter))
		}
		if unused(t, now, opts.UnusedFor) {
			add(FindingUnused, t, "last seen %s, over %s ago", stamp(*t.SeenAt), durations.Format(opts.UnusedFor))
		}
		if t.ExpiresWithin(now, opts.ExpiringWithin) {
			add(FindingExpiring, t, "expires %s, within %s", stamp(*t.ExpiresAt), durations.Format(opts.ExpiringWithin))
		}
		if allProjects(t) {
			add(FindingAllProjects, t, "grants access to all projects")
		}
		key := duplicateKey(t)
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], t)
	}
	for _, key := range keys {
		if g := groups[key]; len(g) > 1 {
			for _, t := range g {
				add(FindingDuplicate, t, "one of %d live tokens with this name, type, environment and projects", len(g))
			}
			for _, s := range stalled(g, opts.StalledAfter) {
				add(FindingStalledRotation, s.old, "still used %s, %s after a newer token of this name and scope (%s) was made %s",
					stamp(*s.old.SeenAt), durations.Format(s.old.SeenAt.Sub(s.newer.CreatedAt).Round(time.Second)), shownSecret(s.newer), stamp(s.newer.CreatedAt))
			}
		}
	}
	var out []Finding
	for _, k := range Kinds() {
		out = append(out, byKind[k]...)
	}
	return out
}

// stalledPair is a token still used long after a newer one of its name
// and scope was made.
type stalledPair struct{ old, newer unleashadmin.APIToken }

// stalled returns the tokens of g, live tokens of one name and scope in
// the order they were made, whose seenAt is more than after later than the
// createdAt of the next token made after them: a rotation whose old secret
// is still read after its replacement had time to reach every service.
func stalled(g []unleashadmin.APIToken, after time.Duration) []stalledPair {
	var out []stalledPair
	for i, t := range g {
		if t.SeenAt == nil {
			continue
		}
		j := slices.IndexFunc(g[i+1:], func(n unleashadmin.APIToken) bool { return n.CreatedAt.After(t.CreatedAt) })
		if j < 0 {
			continue
		}
		newer := g[i+1+j]
		if t.SeenAt.Sub(newer.CreatedAt) > after {
			out = append(out, stalledPair{t, newer})
		}
	}
	return out
}

// neverSeen tells whether t, not expired, was never seen and is older than
// NeverSeenAfter.
func neverSeen(t unleashadmin.APIToken, now time.Time) bool {
	return t.SeenAt == nil && now.Sub(t.CreatedAt) > NeverSeenAfter
}

// unused tells whether t was last seen more than d before now.
func unused(t unleashadmin.APIToken, now time.Time, d time.Duration) bool {
	return t.SeenAt != nil && now.Sub(*t.SeenAt) > d
}

func allProjects(t unleashadmin.APIToken) bool {
	return !t.IsType(unleashadmin.TokenTypeAdmin) && slices.Equal(t.ProjectIDs(), []string{"*"})
}

// duplicateKey is what two tokens share when they are duplicates: name,
// type with backend counted as client, environment and projects in any
// order.
func duplicateKey(t unleashadmin.APIToken) string {
	typ := strings.ToLower(string(t.Type))
	if t.IsType(unleashadmin.TokenTypeClient) {
		typ = string(unleashadmin.TokenTypeClient)
	}
	// The parts are quoted, so that no name or environment can imitate
	// another split.
	return fmt.Sprintf("%q %q %q %q", t.TokenName, typ, t.Environment, t.ProjectIDs())
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// shownSecret is the secret of t as this package prints it: redacted, or
// the selector of a token listed under secure token storage, which
// identifies the token without being a credential.
func shownSecret(t unleashadmin.APIToken) string { return t.Redacted().Secret }

// findingJSON is the JSON form of a Finding.
type findingJSON struct {
	Kind        FindingKind `json:"kind"`
	Name        string      `json:"name"`
	Secret      string      `json:"secret"`
	Type        string      `json:"type"`
	Environment string      `json:"environment"`
	Projects    []string    `json:"projects"`
	CreatedAt   time.Time   `json:"createdAt"`
	ExpiresAt   *time.Time  `json:"expiresAt"`
	SeenAt      *time.Time  `json:"seenAt"`
	Reason      string      `json:"reason"`
}

// MarshalJSON writes the finding as {"kind","name","secret","type",
// "environment","projects","createdAt","expiresAt","seenAt","reason"}, with
// the secret redacted.
func (f Finding) MarshalJSON() ([]byte, error) {
	return json.Marshal(findingJSON{
		Kind: f.Kind, Name: f.Token.TokenName, Secret: shownSecret(f.Token), Type: string(f.Token.Type),
		Environment: f.Token.Environment, Projects: f.Token.ProjectIDs(), CreatedAt: f.Token.CreatedAt,
		ExpiresAt: f.Token.ExpiresAt, SeenAt: f.Token.SeenAt, Reason: f.Reason,
	})
}

// MarshalJSON writes the report as
// {"tokens":N,"counted":C,"limit":L,"nearLimit":B,"findings":[...]}, limit
// null when it is not known, findings [] when there are none, every
// secret redacted.
func (r Report) MarshalJSON() ([]byte, error) {
	var limit *int
	if r.Limit > 0 {
		limit = &r.Limit
	}
	findings := r.Findings
	if findings == nil {
		findings = []Finding{}
	}
	return json.Marshal(struct {
		Tokens    int       `json:"tokens"`
		Counted   int       `json:"counted"`
		Limit     *int      `json:"limit"`
		NearLimit bool      `json:"nearLimit"`
		Findings  []Finding `json:"findings"`
	}{r.Tokens, r.Counted, limit, r.NearLimit(), findings})
}
