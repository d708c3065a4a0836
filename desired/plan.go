package desired

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
)

// ActionKind is what an action does.
type ActionKind string

// The kinds of action a plan holds. ActionCreate, ActionRotate and
// ActionReplace make a new token and deliver it before anything of their
// entry is retired.
const (
	// ActionCreate makes a token for an entry that has none.
	ActionCreate ActionKind = "create"
	// ActionRotate replaces the entry's token, which is expired or due,
	// with a new one of the same scope, then retires it.
	ActionRotate ActionKind = "rotate"
	// ActionReplace makes a token of the entry's scope where the entry has
	// only tokens of another scope (the entry's type, environment or
	// projects changed), then retires the one it replaces.
	ActionReplace ActionKind = "replace"
	// ActionRetire deletes a token, or with a grace period moves its
	// expiry.
	ActionRetire ActionKind = "retire"
	// ActionKeep leaves a token as it is. It changes nothing.
	ActionKeep ActionKind = "keep"
	// ActionDeliver hands the secret of an entry's live token, as the
	// token list shows it, to a sink that holds no secret of it (the first
	// run after adopting an instance, a lost file), then retires the
	// entry's other tokens. Planned only with a SinkReader, and only where
	// the list shows full secrets (not under secure token storage).
	ActionDeliver ActionKind = "deliver"
	// ActionLeave leaves a token of an entry as it is for now: one that a
	// sink (SinkReader) does not hold, newer than the one it holds and
	// younger than Options.Settle (another run may be delivering it), or
	// a token of an entry that is not delivered (Action.Undelivered). It
	// changes nothing; a later plan decides again.
	ActionLeave ActionKind = "leave"
	// ActionWait leaves a token that the plan would retire (the old token
	// of a rotate or replace, a duplicate, one of another scope) live for
	// now, because the entry's retire policy is RetireUnused and
	// unleashadmin.DecideRetire says to wait: its replacement has not
	// been used yet, or it was used within the quiet period. Action.Reason
	// says when it was last used and why it waits; Action.Decision holds
	// the decision. It changes nothing; a later plan decides again, from
	// the tokens' createdAt and seenAt and the time.
	ActionWait ActionKind = "wait"
)

// DefaultSettle is how old a token that the sink does not hold, newer than
// the one it holds, must be before a plan retires it as the leftover of a
// failed or concurrent run, when Options.Settle is zero.
const DefaultSettle = 10 * time.Minute

// Action is one step of a plan: what is done, for which entry, to which
// token and why. Its printed form (every fmt verb, slog and json.Marshal)
// redacts the token's secret.
type Action struct {
	// Kind is what the action does.
	Kind ActionKind
	// Name is the entry's name, or for a prune the token's name.
	Name string
	// Token is the token acted on: kept, rotated, replaced or retired.
	// It is nil for ActionCreate.
	Token *unleashadmin.APIToken
	// Entry is the entry the action serves; nil for a prune.
	Entry *Entry
	// Reason says why, in a few words.
	Reason string
	// ExpiresAt is, for a retire with a grace period (and the old token of
	// a rotate or replace), the expiry the token is given.
	ExpiresAt *time.Time
	// Environment is the environment a new token is made in (the entry's,
	// or the server's default), for ActionCreate, ActionRotate and
	// ActionReplace.
	Environment string
	// Protected says why Token is never retired (the key the client
	// authenticates with, an admin token: Client.Protection), when the
	// rules would otherwise retire it: the action is then an ActionKeep,
	// or a rotate or replace that leaves the old token as it is. Empty
	// when nothing protects it, or nothing would retire it.
	Protected unleashadmin.Protection
	// Undelivered is set on the ActionKeep of an entry whose live token
	// the sink (SinkReader) does not hold and cannot be handed as it is:
	// under secure token storage the list shows no secret. The entry is
	// reported as not delivered and left as it is, its other tokens too,
	// unless Options.RotateUndelivered rotates such tokens.
	Undelivered bool
	// Decision is, under a retire policy of RetireUnused
	// (RetirePolicy), the decision on Token: set on an ActionWait, and on
	// an ActionRetire that the policy allowed (Decision.StillInUse when it
	// retires a token still in use because Within has passed). Nil
	// otherwise.
	Decision *unleashadmin.RetireDecision

	// unit groups the actions of one entry (or one pruned token).
	unit int
	// retireOld is set on a rotate or replace whose Token is retired
	// once the new token is delivered.
	retireOld bool
}

// Makes reports whether the action makes a new token: ActionCreate,
// ActionRotate and ActionReplace.
func (a Action) Makes() bool {
	return a.Kind == ActionCreate || a.Kind == ActionRotate || a.Kind == ActionReplace
}

// Delivers reports whether the action hands a secret to the sink: the
// makers (Makes) and ActionDeliver.
func (a Action) Delivers() bool { return a.Makes() || a.Kind == ActionDeliver }

// Changes reports whether the action changes anything: every kind but
// ActionKeep, ActionLeave and ActionWait.
func (a Action) Changes() bool {
	return a.Kind != ActionKeep && a.Kind != ActionLeave && a.Kind != ActionWait
}

// Format prints the action on one line with the token's secret redacted:
// "rotate checkout default:production.d17f***: expires within 14d".
func (a Action) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "%s %s", a.Kind, a.Name)
	if a.Token != nil {
		fmt.Fprintf(f, " %s", shownSecret(*a.Token))
	}
	if a.Reason != "" {
		fmt.Fprintf(f, ": %s", a.Reason)
	}
}

// LogValue logs the action with the token's secret redacted.
func (a Action) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("action", string(a.Kind)), slog.String("name", a.Name), slog.String("reason", a.Reason)}
	if a.Token != nil {
		attrs = append(attrs, slog.Any("token", *a.Token))
	}
	if a.ExpiresAt != nil {
		attrs = append(attrs, slog.Time("expiresAt", *a.ExpiresAt))
	}
	if a.Protected != "" {
		attrs = append(attrs, slog.String("protected", string(a.Protected)))
	}
	if a.Decision != nil {
		attrs = append(attrs, slog.Bool("stillInUse", a.Decision.StillInUse))
	}
	return slog.GroupValue(attrs...)
}

// actionJSON is the JSON form of an Action.
type actionJSON struct {
	Action      ActionKind   `json:"action"`
	Name        string       `json:"name"`
	Reason      string       `json:"reason"`
	Token       *redactedTok `json:"token,omitempty"`
	Type        string       `json:"type,omitempty"`
	Environment string       `json:"environment,omitempty"`
	Projects    []string     `json:"projects,omitempty"`
	ExpiresAt   *time.Time   `json:"expiresAt,omitempty"`
	Protected   string       `json:"protected,omitempty"`
	// Decision is Action.Decision: the core's RetireDecision, which holds
	// no secret.
	Decision *unleashadmin.RetireDecision `json:"retireDecision,omitempty"`
}

// redactedTok is a token in JSON with its secret redacted.
type redactedTok struct {
	Secret      string     `json:"secret"`
	Type        string     `json:"type"`
	Environment string     `json:"environment"`
	Projects    []string   `json:"projects"`
	CreatedAt   time.Time  `json:"createdAt"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
}

func redacted(t *unleashadmin.APIToken) *redactedTok {
	if t == nil {
		return nil
	}
	return &redactedTok{Secret: shownSecret(*t), Type: string(t.Type), Environment: t.Environment,
		Projects: t.ProjectIDs(), CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
}

// shownSecret is how a token's secret is printed: redacted, but a selector
// of secure token storage (not a credential) in full, as the core prints it.
func shownSecret(t unleashadmin.APIToken) string { return t.Redacted().Secret }

// MarshalJSON writes the action as {"action","name","reason",...} with the
// token's secret redacted.
func (a Action) MarshalJSON() ([]byte, error) { return json.Marshal(a.jsonValue()) }

func (a Action) jsonValue() actionJSON {
	j := actionJSON{Action: a.Kind, Name: a.Name, Reason: a.Reason, Token: redacted(a.Token), ExpiresAt: a.ExpiresAt, Protected: string(a.Protected), Decision: a.Decision}
	if a.Makes() && a.Entry != nil {
		j.Type, j.Environment, j.Projects = string(a.Entry.Type), a.Environment, a.Entry.projectIDs()
	}
	return j
}

// Plan is what applying a File would do to a server: one Action for every
// token of the file's names (and of the prune prefix), and one for each
// token to be made. It is computed from one read of the token list and is
// deterministic: the same file and tokens give the same actions in the same
// order (the file's order; in an entry, the new token first, then the kept
// one, then the retired and waiting ones oldest first; pruned tokens
// last, by name).
//
// Its printed form (every fmt verb, slog and json.Marshal) redacts every
// secret.
type Plan struct {
	// Actions are the plan's steps.
	Actions []Action
	// Now is the time the plan was made at, by Options.Now.
	Now time.Time
	// DefaultEnvironment is the environment of the entries that name none.
	DefaultEnvironment string

	file   *File
	client *unleashadmin.Client
	opts   Options
	// seen is what the plan relied on, for its saved form (Plan.Saved).
	seen *observed
	// info is the server's settings as NewPlan read them (zero when it did
	// not need them), for Apply's check of the quiet periods.
	info unleashadmin.ServerInfo
}

// Options says how a plan is made, and is kept for its Apply. It marshals
// to JSON and back as {"gracePeriod":"1d","defaultEnvironment":"...",
// "settle":"10m","rotateUndelivered":true}: durations as text (Go's units
// and "d" for days), Reader, the func fields and OwnKey left out.
type Options struct {
	// GracePeriod, when positive, retires a token by moving its expiry to
	// now + GracePeriod (never later than the expiry it has:
	// unleashadmin.GraceExpiry) instead of deleting it. A token that
	// already expires within the grace period needs no retiring, and a
	// plan says nothing about it.
	GracePeriod time.Duration `json:"gracePeriod,omitempty"`
	// DefaultEnvironment is the environment of entries that name none.
	// Empty: the plan asks the server once, through ServerInfo.
	DefaultEnvironment string `json:"defaultEnvironment,omitempty"`
	// ServerInfo reads the server's settings when DefaultEnvironment is
	// empty and an entry names no environment; nil for the client's
	// ServerInfo. A server that does not serve them (a 404) is taken to
	// be Unleash 7 or later, whose default environment is "development".
	ServerInfo func(ctx context.Context) (*unleashadmin.ServerInfo, error) `json:"-"`
	// Now reads the time; nil for time.Now. Expiry, maxAge, grace and
	// settle are judged by it. Tests give the fake clock of their server.
	Now func() time.Time `json:"-"`

	// Reader is the record of what was delivered: the sink's word for
	// which secret it holds for each entry (read beside the token list,
	// a few entries at a time). With one, an entry keeps the token whose
	// secret the sink holds, never merely the newest; a token the sink
	// does not hold that is newer than the one it holds is retired once
	// older than Settle, and left alone before; an entry whose sink holds
	// nothing is delivered its listed secret as it is (ActionDeliver), or
	// under secure token storage reported (Action.Undelivered). Nil: the
	// plan knows nothing of the sink and keeps the newest token; Apply
	// then uses its Sink when that is a SinkReader. A SinkReader whose
	// Readable method returns false counts as none.
	Reader SinkReader `json:"-"`
	// Settle is how old a token the Reader does not hold, newer than the
	// one it holds, must be before it is retired as the leftover of a
	// failed or concurrent run; zero for DefaultSettle.
	Settle time.Duration `json:"settle,omitempty"`
	// RotateUndelivered rotates the live token of an entry that the
	// Reader does not hold and whose secret the list does not show
	// (secure token storage), instead of reporting it as not delivered.
	RotateUndelivered bool `json:"rotateUndelivered,omitempty"`

	// Clock is the old name of Now, used when Now is nil.
	//
	// Deprecated: use Now.
	Clock func() time.Time `json:"-"`
	// OwnKey is an API key whose token is never retired, besides the key
	// the client authenticates with, which the plan knows from the client
	// (Client.Protection) whether OwnKey is set or not.
	//
	// Deprecated: the client's own key is protected without it; set it only
	// to protect the token of another key (unleashadmin.ProtectionFor).
	OwnKey string `json:"-"`
}

// settle is Settle, or DefaultSettle when zero.
func (o Options) settle() time.Duration { return cmp.Or(o.Settle, DefaultSettle) }

// now reads the time: Now, else the deprecated Clock, else time.Now.
func (o Options) now() time.Time {
	switch {
	case o.Now != nil:
		return o.Now()
	case o.Clock != nil:
		return o.Clock()
	}
	return time.Now()
}

// Format prints the options, for every verb, with OwnKey (shown only when
// set) redacted.
func (o Options) Format(f fmt.State, _ rune) {
	if o.OwnKey != "" {
		fmt.Fprintf(f, "{OwnKey:%s GracePeriod:%s DefaultEnvironment:%q}", unleashadmin.RedactSecret(o.OwnKey), o.GracePeriod, o.DefaultEnvironment)
		return
	}
	fmt.Fprintf(f, "{GracePeriod:%s DefaultEnvironment:%q}", o.GracePeriod, o.DefaultEnvironment)
}

// LogValue logs the options, with OwnKey (logged only when set) redacted.
func (o Options) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Duration("gracePeriod", o.GracePeriod), slog.String("defaultEnvironment", o.DefaultEnvironment)}
	if o.OwnKey != "" {
		attrs = append(attrs, slog.String("ownKey", unleashadmin.RedactSecret(o.OwnKey)))
	}
	return slog.GroupValue(attrs...)
}

// optionsJSON is the JSON form of Options.
type optionsJSON struct {
	GracePeriod        *string `json:"gracePeriod,omitempty"`
	DefaultEnvironment *string `json:"defaultEnvironment,omitempty"`
	Settle             *string `json:"settle,omitempty"`
	RotateUndelivered  *bool   `json:"rotateUndelivered,omitempty"`
}

// MarshalJSON writes the grace period and the settle time as text ("1d",
// "36h"), the default environment and RotateUndelivered, each left out
// when zero; Reader, the func fields and OwnKey are never written.
func (o Options) MarshalJSON() ([]byte, error) {
	var j optionsJSON
	if o.GracePeriod != 0 {
		j.GracePeriod = unleashadmin.Ptr(durations.Format(o.GracePeriod))
	}
	if o.Settle != 0 {
		j.Settle = unleashadmin.Ptr(durations.Format(o.Settle))
	}
	if o.RotateUndelivered {
		j.RotateUndelivered = &o.RotateUndelivered
	}
	if o.DefaultEnvironment != "" {
		j.DefaultEnvironment = &o.DefaultEnvironment
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes and sets the fields it
// holds, leaving the others as they are. An unknown key is an error, so
// that a misspelt "gracePeriod" does not turn every retire into a delete;
// so is a duration that does not parse. Both match
// unleashadmin.ErrInvalidArgument.
func (o *Options) UnmarshalJSON(data []byte) error {
	var j optionsJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return fmt.Errorf("desired: Options: %w: %v", unleashadmin.ErrInvalidArgument, err)
	}
	if j.GracePeriod != nil {
		g, err := durations.Parse(*j.GracePeriod)
		switch {
		case err != nil:
			return fmt.Errorf("desired: Options: gracePeriod: %w: %v", unleashadmin.ErrInvalidArgument, err)
		case g < 0:
			return fmt.Errorf("desired: Options: gracePeriod: %w: it is negative", unleashadmin.ErrInvalidArgument)
		}
		o.GracePeriod = g
	}
	if j.DefaultEnvironment != nil {
		o.DefaultEnvironment = *j.DefaultEnvironment
	}
	if j.Settle != nil {
		d, err := durations.Parse(*j.Settle)
		if err != nil {
			return fmt.Errorf("desired: Options: settle: %w: %v", unleashadmin.ErrInvalidArgument, err)
		}
		o.Settle = d
	}
	if j.RotateUndelivered != nil {
		o.RotateUndelivered = *j.RotateUndelivered
	}
	return nil
}

// Changes returns how many actions change something (all but ActionKeep,
// ActionLeave and ActionWait).
func (p *Plan) Changes() int {
	n := 0
	for _, a := range p.Actions {
		if a.Changes() {
			n++
		}
	}
	return n
}

// Empty reports whether the plan changes nothing: it holds ActionKeep,
// ActionLeave and ActionWait actions only, or none. A plan whose tokens
// wait to go unused (a switch under way) is empty.
func (p *Plan) Empty() bool { return p.Changes() == 0 }

// Makes reports whether the plan makes any token.
func (p *Plan) Makes() bool { return slices.ContainsFunc(p.Actions, Action.Makes) }

// Delivers reports whether the plan hands any secret to a sink (it makes a
// token, or delivers a listed one), and so needs a Sink.
func (p *Plan) Delivers() bool { return slices.ContainsFunc(p.Actions, Action.Delivers) }

// Format prints the plan one action a line, secrets redacted.
func (p Plan) Format(f fmt.State, verb rune) {
	if len(p.Actions) == 0 {
		_, _ = f.Write([]byte("no tokens"))
		return
	}
	for i, a := range p.Actions {
		if i > 0 {
			_, _ = f.Write([]byte("\n"))
		}
		a.Format(f, verb)
	}
}

// LogValue logs the plan's actions, secrets redacted.
func (p Plan) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(p.Actions)+1)
	attrs = append(attrs, slog.Int("changes", p.Changes()))
	for i, a := range p.Actions {
		attrs = append(attrs, slog.Any(fmt.Sprint(i), a))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes {"actions":[...]}, secrets redacted.
func (p Plan) MarshalJSON() ([]byte, error) {
	actions := p.Actions
	if actions == nil {
		actions = []Action{}
	}
	return json.Marshal(struct {
		Actions []Action `json:"actions"`
	}{actions})
}

// NewPlan reads the server's tokens once (one list request, and when an
// entry names no environment and Options.DefaultEnvironment is empty, one
// read of the server's settings), and with Options.Reader what the sink
// holds for each entry, and returns what applying f would do. It changes
// nothing; a failed read of the sink fails the plan. A token that c.Protection protects (the key c
// authenticates with, however it was spelt; an admin token) is never
// retired: its action says why (Action.Protected). f is checked first
// (File.Validate): a mistake is an error matching
// unleashadmin.ErrInvalidArgument, and nothing is sent.
//
// An entry whose retire policy is RetireUnused has its quiet period
// checked against each of its tokens, and against the tokens the server
// makes (unleashadmin.UnusedPolicy.Check): one shorter than the delay with
// which the server records a use, plus a margin, is an error matching
// unleashadmin.ErrInvalidArgument that names the entry. The server's
// settings are read for it only when the answer depends on its token
// storage mode (a quiet period under 3m15s).
func NewPlan(ctx context.Context, c *unleashadmin.Client, f *File, opts Options) (*Plan, error) {
	if c == nil {
		return nil, fmt.Errorf("desired: NewPlan: %w: no client", unleashadmin.ErrInvalidArgument)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("desired: NewPlan: %w", err)
	}
	if opts.GracePeriod < 0 {
		return nil, fmt.Errorf("desired: NewPlan: %w: GracePeriod %s is negative", unleashadmin.ErrInvalidArgument, opts.GracePeriod)
	}
	if opts.Settle < 0 {
		return nil, fmt.Errorf("desired: NewPlan: %w: Settle %s is negative", unleashadmin.ErrInvalidArgument, opts.Settle)
	}
	p := &Plan{file: f, client: c, opts: opts, DefaultEnvironment: opts.DefaultEnvironment}
	if err := p.readSettings(ctx); err != nil {
		return nil, err
	}
	toks, held, err := readState(ctx, c, f, p.DefaultEnvironment, readerOf(opts.Reader))
	if err != nil {
		return nil, err
	}
	if err := checkQuiet(f, toks, p.info, true); err != nil {
		return nil, fmt.Errorf("desired: NewPlan: %w", err)
	}
	p.Now = opts.now()
	p.Actions = plan(f, toks, held, p.Now, p.DefaultEnvironment, opts, c)
	p.seen = observe(c, f, toks, held)
	return p, nil
}

// heldSecret is what a sink holds for an entry.
type heldSecret struct {
	secret string
	ok     bool
}

// readState reads the server's tokens (one list request) and, with a
// reader, what it holds for each entry of f, a few entries at a time
// beside the list request. held is nil without a reader, else one per
// entry. A failed read of either is the error; nothing more is read after
// it.
func readState(ctx context.Context, c *unleashadmin.Client, f *File, defEnv string, r SinkReader) (toks []unleashadmin.APIToken, held []heldSecret, err error) {
	if r == nil || len(f.Tokens) == 0 {
		toks, err = c.ListAPITokens(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("desired: reading the tokens: %w", err)
		}
		if r != nil {
			held = []heldSecret{}
		}
		return toks, held, nil
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	held = make([]heldSecret, len(f.Tokens))
	errs := make([]error, len(f.Tokens))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(unleashadmin.DefaultParallel, len(f.Tokens)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(f.Tokens) || rctx.Err() != nil {
					return
				}
				e := &f.Tokens[i]
				secret, ok, err := r.Held(rctx, e.handed(cmp.Or(e.Environment, defEnv), unleashadmin.APIToken{}))
				if err != nil {
					errs[i] = c.RedactError(err)
					cancel()
					return
				}
				held[i] = heldSecret{secret: strings.TrimSpace(secret), ok: ok && strings.TrimSpace(secret) != ""}
			}
		})
	}
	toks, lerr := c.ListAPITokens(rctx)
	if lerr != nil {
		cancel()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, nil, fmt.Errorf("desired: reading what the sink holds for %s: %w", quote(f.Tokens[i].Name), err)
		}
	}
	if lerr != nil {
		return nil, nil, fmt.Errorf("desired: reading the tokens: %w", lerr)
	}
	return toks, held, nil
}

// handed returns the token a sink is given for e in environment env: the
// entry's name and scope, never the server's words for them (an answer of
// another name must not pick the file a secret goes to), with the secret
// and times of tok.
func (e *Entry) handed(env string, tok unleashadmin.APIToken) unleashadmin.APIToken {
	ids := unleashadmin.APIToken{Projects: e.Projects}.ProjectIDs()
	if len(ids) == 0 {
		ids = []string{"*"}
	}
	return unleashadmin.APIToken{Secret: tok.Secret, TokenName: e.Name, Type: e.Type, Environment: env,
		Project: strings.Join(ids, ","), Projects: ids, CreatedAt: tok.CreatedAt, ExpiresAt: tok.ExpiresAt, Secure: tok.Secure}
}

// readSettings reads what p needs of the server's settings, once: its
// default environment when an entry names none, and its token storage when
// a retire policy's quiet period depends on it.
func (p *Plan) readSettings(ctx context.Context) error {
	needEnv := p.DefaultEnvironment == "" && slices.ContainsFunc(p.file.Tokens, func(e Entry) bool { return e.Environment == "" })
	if !needEnv && !p.file.needsServerMode() {
		return nil
	}
	si, err := readServerInfo(ctx, p.client, p.opts.ServerInfo)
	if err != nil {
		return err
	}
	if si != nil {
		p.info = *si
	}
	if needEnv {
		p.DefaultEnvironment = "development"
		if si != nil {
			p.DefaultEnvironment = si.DefaultEnvironment()
		}
	}
	return nil
}

// readServerInfo asks the server for its settings: its default
// environment, its token storage mode. It returns nil, and no error, for a
// server that does not serve them (a 404), which is taken for today's
// releases: default environment "development", default token storage.
func readServerInfo(ctx context.Context, c *unleashadmin.Client, info func(context.Context) (*unleashadmin.ServerInfo, error)) (*unleashadmin.ServerInfo, error) {
	if info == nil {
		info = c.ServerInfo
	}
	si, err := info(ctx)
	switch {
	case errors.Is(err, unleashadmin.ErrNotFound):
		// No ui-config: not an Unleash release (every one since 4.x
		// serves it) but something in its place.
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("desired: reading the server's settings (default environment, token storage): %w", err)
	}
	return si, nil
}

// plan computes the actions for f against toks at time now, and held (one
// per entry: what the sink holds; nil when the sink cannot be read). It is
// a pure function of its arguments; c, which may be nil, only says which
// token is its key.
func plan(f *File, toks []unleashadmin.APIToken, held []heldSecret, now time.Time, defEnv string, opts Options, c *unleashadmin.Client) []Action {
	byName := make(map[string][]*unleashadmin.APIToken, len(f.Tokens))
	listed := make(map[string]bool, len(f.Tokens))
	for i := range f.Tokens {
		listed[f.Tokens[i].Name] = true
	}
	var pruned []*unleashadmin.APIToken
	owned := 0
	for i := range toks {
		t := &toks[i]
		switch {
		case listed[t.TokenName]:
			byName[t.TokenName] = append(byName[t.TokenName], t)
			owned++
		case f.Prune.NamePrefix != "" && strings.HasPrefix(t.TokenName, f.Prune.NamePrefix):
			pruned = append(pruned, t)
		}
	}
	// At most one action per token, and one more per entry.
	pl := planner{now: now, opts: opts, client: c, file: f, actions: make([]Action, 0, len(f.Tokens)+owned+len(pruned))}
	for i := range f.Tokens {
		e := &f.Tokens[i]
		env := cmp.Or(e.Environment, defEnv)
		var h *heldSecret
		if held != nil {
			h = &held[i]
		}
		pl.entry(i, e, env, byName[e.Name], h)
	}
	slices.SortFunc(pruned, func(a, b *unleashadmin.APIToken) int {
		return cmp.Or(strings.Compare(a.TokenName, b.TokenName), olderFirst(a, b))
	})
	for i, t := range pruned {
		pl.retire(len(f.Tokens)+i, t.TokenName, nil, t, "not in the file; its name has the prune prefix "+quote(f.Prune.NamePrefix))
	}
	return pl.actions
}

type planner struct {
	now     time.Time
	opts    Options
	client  *unleashadmin.Client // nil in tests of plan alone
	file    *File                // for the entries' retire policies
	actions []Action
}

// olderFirst orders tokens by creation, then secret, so that ties do not
// depend on the list's order.
func olderFirst(a, b *unleashadmin.APIToken) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.Secret, b.Secret))
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// protected says why a token is never retired, or "": the core's rule
// (Client.Protection) with the plan's client, and for the deprecated
// Options.OwnKey the same rule with that key. The key in use is named
// before what else protects it.
func (pl *planner) protected(t *unleashadmin.APIToken) unleashadmin.Protection {
	p := unleashadmin.ProtectionFor(pl.opts.OwnKey, *t, false)
	if pl.client != nil && p != unleashadmin.ProtectedKeyInUse {
		if q := pl.client.Protection(*t, false); q != unleashadmin.Unprotected {
			p = q
		}
	}
	return p
}

// retire adds an ActionRetire of t, or nothing when retiring it would
// change nothing (a grace period and an expiry already within it), or an
// ActionKeep when t is protected. It returns the ActionRetire it added,
// nil for none.
func (pl *planner) retire(unit int, name string, e *Entry, t *unleashadmin.APIToken, reason string) *Action {
	if why := pl.protected(t); why != unleashadmin.Unprotected {
		pl.actions = append(pl.actions, Action{Kind: ActionKeep, Name: name, Token: t, Entry: e,
			Reason: string(why) + ": never retired", Protected: why, unit: unit})
		return nil
	}
	a := Action{Kind: ActionRetire, Name: name, Token: t, Entry: e, Reason: reason, unit: unit}
	if g := pl.opts.GracePeriod; g > 0 {
		until, change := unleashadmin.GraceExpiry(*t, pl.now, g)
		if !change {
			return nil
		}
		a.ExpiresAt = &until
		a.Reason += "; expires in " + durations.Format(g)
	}
	pl.actions = append(pl.actions, a)
	return &pl.actions[len(pl.actions)-1]
}

// request is the create request of a token for e in environment env.
func (e *Entry) request(env string) unleashadmin.CreateAPITokenRequest {
	return unleashadmin.CreateAPITokenRequest{Type: e.Type, TokenName: e.Name, Environment: env, Projects: e.Projects}
}

// matches reports whether t has e's scope in environment env, by the
// core's rule (unleashadmin.ScopeMismatch): type (backend and client are
// one), environment and projects.
func matches(e *Entry, env string, t *unleashadmin.APIToken) bool {
	return unleashadmin.ScopeMismatch(e.request(env), *t) == ""
}

// due says why a live token that matches its entry must be rotated, or "".
func (pl *planner) due(e *Entry, t *unleashadmin.APIToken) string {
	if e.RenewBefore > 0 && t.ExpiresWithin(pl.now, e.RenewBefore) {
		return fmt.Sprintf("expires within renewBefore %s (at %s)", durations.Format(e.RenewBefore), t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if e.MaxAge > 0 && pl.now.Sub(t.CreatedAt) > e.MaxAge {
		return fmt.Sprintf("older than maxAge %s (made %s)", durations.Format(e.MaxAge), t.CreatedAt.UTC().Format(time.RFC3339))
	}
	return ""
}

func scopeOf(t *unleashadmin.APIToken) string {
	return fmt.Sprintf("%s in %s for %s", strings.ToLower(string(t.Type)), t.Environment, strings.Join(t.ProjectIDs(), ","))
}

func (e *Entry) scope(env string) string {
	return fmt.Sprintf("%s in %s for %s", e.Type, env, strings.Join(e.projectIDs(), ","))
}

// listedSecret reports whether a listed token carries its full secret,
// which can be delivered as it is: not under secure token storage, where
// a list shows only a selector.
func listedSecret(t *unleashadmin.APIToken) bool { return t.Secret != "" && !t.Secure }

// ago prints how long ago something was, to the second (to the millisecond
// under a second).
func ago(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return durations.Format(d.Truncate(time.Second))
}

// entry adds the actions of one entry, given the tokens with its name and,
// when the sink can be read, what it holds (nil when it cannot).
//
// The token the entry's first action is about (the anchor) is the one the
// sink holds when it holds one of them; otherwise the newest live token of
// the entry's scope, else the newest expired one, else the newest of
// another scope. The others are retired after the first action, except
// that a live token newer than the one the sink holds is a leftover of a
// failed or concurrent run: retired once older than the settle time, left
// alone before.
func (pl *planner) entry(unit int, e *Entry, env string, toks []*unleashadmin.APIToken, held *heldSecret) {
	slices.SortFunc(toks, olderFirst)
	var holder *unleashadmin.APIToken // the token whose secret the sink holds
	if held != nil && held.ok {
		for _, t := range toks {
			if sinkHolds(t, held.secret) {
				holder = t
				break
			}
		}
	}
	var live, expired, other []*unleashadmin.APIToken
	for _, t := range toks {
		switch {
		case !matches(e, env, t):
			other = append(other, t)
		case t.ExpiredAt(pl.now):
			expired = append(expired, t)
		default:
			live = append(live, t)
		}
	}
	mk := func(k ActionKind, t *unleashadmin.APIToken, reason string) Action {
		a := Action{Kind: k, Name: e.Name, Token: t, Entry: e, Reason: reason, Environment: env, unit: unit}
		switch {
		case t == nil || k == ActionKeep || k == ActionDeliver:
		case pl.protected(t) != unleashadmin.Unprotected:
			a.Protected = pl.protected(t)
		case pl.opts.GracePeriod > 0:
			if until, change := unleashadmin.GraceExpiry(*t, pl.now, pl.opts.GracePeriod); change {
				a.ExpiresAt, a.retireOld = &until, true
			}
		default:
			a.retireOld = true
		}
		return a
	}
	keepReason := func(t *unleashadmin.APIToken) string {
		reason := "matches " + e.scope(env)
		if t.ExpiresAt != nil {
			reason += "; expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
		}
		return reason
	}
	var anchor *unleashadmin.APIToken
	undelivered := false
	switch {
	case holder != nil:
		anchor = holder
		const holds = "the sink holds it; "
		switch {
		case !matches(e, env, holder):
			pl.actions = append(pl.actions, mk(ActionReplace, holder, holds+"is "+scopeOf(holder)+"; the file asks for "+e.scope(env)))
		case holder.ExpiredAt(pl.now):
			pl.actions = append(pl.actions, mk(ActionRotate, holder, holds+"expired at "+holder.ExpiresAt.UTC().Format(time.RFC3339)))
		case pl.due(e, holder) != "":
			pl.actions = append(pl.actions, mk(ActionRotate, holder, holds+pl.due(e, holder)))
		default:
			pl.actions = append(pl.actions, mk(ActionKeep, holder, holds+keepReason(holder)))
		}
	case len(live) > 0:
		anchor = live[len(live)-1]
		why := pl.due(e, anchor)
		notHeld := "the sink holds no secret of it"
		if held != nil && held.ok {
			notHeld = "the sink holds a secret of no token of this entry"
		}
		switch {
		case why != "":
			pl.actions = append(pl.actions, mk(ActionRotate, anchor, why))
		case held == nil:
			pl.actions = append(pl.actions, mk(ActionKeep, anchor, keepReason(anchor)))
		case listedSecret(anchor):
			pl.actions = append(pl.actions, mk(ActionDeliver, anchor, notHeld+": the secret the list shows is delivered as it is"))
		case pl.opts.RotateUndelivered:
			pl.actions = append(pl.actions, mk(ActionRotate, anchor, notHeld+", and the list shows none (secure token storage): rotated, as asked"))
		default:
			a := mk(ActionKeep, anchor, "NOT delivered: "+notHeld+", and the list shows none (secure token storage); "+
				"the entry is left as it is: rotating undelivered tokens replaces it")
			a.Undelivered, undelivered = true, true
			pl.actions = append(pl.actions, a)
		}
	case len(expired) > 0:
		anchor = expired[len(expired)-1]
		pl.actions = append(pl.actions, mk(ActionRotate, anchor, "expired at "+anchor.ExpiresAt.UTC().Format(time.RFC3339)))
	case len(other) > 0:
		// The newest token of another scope is the one replaced; the
		// others of its kind are retired beside it.
		anchor = other[len(other)-1]
		pl.actions = append(pl.actions, mk(ActionReplace, anchor, "is "+scopeOf(anchor)+"; the file asks for "+e.scope(env)))
	default:
		pl.actions = append(pl.actions, mk(ActionCreate, nil, "no token named "+quote(e.Name)))
	}
	first := len(pl.actions) - 1
	if last := &pl.actions[first]; last.Protected != unleashadmin.Unprotected {
		// A protected token cannot be replaced: it stays, and the new one
		// is made beside it.
		last.Reason += "; the old token stays: " + string(last.Protected)
	}
	// Under a retire policy of RetireUnused, the old token of a rotate or
	// replace waits, and the others wait for the token the entry keeps
	// (or makes) to take over.
	repl := pl.replacement(e, pl.actions[first])
	pl.waitForOld(first, e)
	// The rest, oldest first.
	settle := pl.opts.settle()
	for _, t := range toks {
		if t == anchor {
			continue
		}
		leave := func(reason string) {
			pl.actions = append(pl.actions, Action{Kind: ActionLeave, Name: e.Name, Token: t, Entry: e, Reason: reason, unit: unit})
		}
		switch age := pl.now.Sub(t.CreatedAt); {
		case undelivered:
			leave("left with the entry, whose token is not delivered")
		case holder != nil && olderFirst(holder, t) < 0 && !t.ExpiredAt(pl.now) && age < settle:
			leave(fmt.Sprintf("newer than the token the sink holds, and not held by it; made %s ago: another run may be delivering it; "+
				"retired once older than the settle time, %s", ago(age), durations.Format(settle)))
		case holder != nil && olderFirst(holder, t) < 0 && !t.ExpiredAt(pl.now):
			pl.retire(unit, e.Name, e, t, fmt.Sprintf("a leftover of a failed or concurrent run: newer than the token the sink holds, and never delivered to it; "+
				"made %s ago, more than the settle time, %s", ago(age), durations.Format(settle)))
		case t.ExpiredAt(pl.now):
			pl.retire(unit, e.Name, e, t, "expired at "+t.ExpiresAt.UTC().Format(time.RFC3339))
		case !matches(e, env, t):
			pl.retireUnused(unit, e, t, repl, "is "+scopeOf(t)+"; the file asks for "+e.scope(env))
		case holder != nil:
			pl.retireUnused(unit, e, t, repl, "an older token of the same scope: the sink holds a newer one")
		default:
			pl.retireUnused(unit, e, t, repl, "a duplicate: a newer token of the same scope is kept")
		}
	}
}
