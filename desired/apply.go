package desired

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// DefaultParallel is how many entries Apply works on at once when
// ApplyOptions.Parallel is zero.
const DefaultParallel = 4

// revokeTimeout bounds the delete of a token that could not be delivered.
// It runs on a context of its own, so that an ended context (a signal, a
// deadline) does not leave an undelivered token live.
const revokeTimeout = 30 * time.Second

var (
	// ErrNoSink is returned by Apply, before any change, for a plan that
	// would make a token when no Sink was given: a new secret must go
	// somewhere. It matches unleashadmin.ErrInvalidArgument too.
	ErrNoSink = fmt.Errorf("%w: the plan makes tokens but no sink was given to deliver their secrets", unleashadmin.ErrInvalidArgument)
	// ErrUndeliveredLive is matched, together with
	// unleashadmin.ErrNotDelivered, by the error of an action whose new
	// token could not be delivered and then could not be deleted either:
	// it is live, and only Outcome.New holds its secret.
	ErrUndeliveredLive = errors.New("the undelivered new token could not be deleted: it is live")
	// ErrNotRetired is matched by the error of an action whose token could
	// not be retired (deleted, or given its grace expiry): it is still
	// live. For a rotate or replace, the new token was made and delivered.
	ErrNotRetired = errors.New("the token could not be retired: it is still live")
	// ErrNotStarted is matched by the error of an action Apply did not
	// begin because its context ended first; nothing of it was sent.
	ErrNotStarted = errors.New("not started")
)

// Sink receives each new token, secret included, after it is made and
// before anything of its entry is retired. It must return nil only once
// the secret is where the services read it. An error makes Apply delete
// the new token again and leave the old ones as they were. Deliver is
// called from several goroutines at once when ApplyOptions.Parallel is
// above 1.
type Sink interface {
	Deliver(ctx context.Context, tok unleashadmin.APIToken) error
}

// SinkFunc makes a function a Sink.
type SinkFunc func(ctx context.Context, tok unleashadmin.APIToken) error

// Deliver calls f.
func (f SinkFunc) Deliver(ctx context.Context, tok unleashadmin.APIToken) error { return f(ctx, tok) }

// StepKind is a request, or a delivery, that Apply is about to make.
type StepKind string

// The steps of Apply, in the order an entry goes through them.
const (
	// StepCreate is about to send the create request of a Create, Rotate
	// or Replace.
	StepCreate StepKind = "create"
	// StepDeliver is about to hand the new token to the Sink.
	StepDeliver StepKind = "deliver"
	// StepRevoke is about to delete a new token whose delivery failed.
	StepRevoke StepKind = "revoke"
	// StepRetire is about to delete a token, or move its expiry.
	StepRetire StepKind = "retire"
)

// Step is what ApplyOptions.Observer is told before each request and
// delivery. Its printed form (every fmt verb, slog and json.Marshal)
// redacts the token's secret.
type Step struct {
	// Kind is the step about to be taken.
	Kind StepKind
	// Action is the action the step belongs to.
	Action Action
	// Token is the token the step is about: the new one for StepDeliver and
	// StepRevoke, the retired one for StepRetire, nil for StepCreate.
	Token *unleashadmin.APIToken
}

// Format prints the step with its token's secret redacted.
func (s Step) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "%s for %s %s", s.Kind, s.Action.Kind, s.Action.Name)
	if s.Token != nil {
		fmt.Fprintf(f, ": %s", shownSecret(*s.Token))
	}
}

// LogValue logs the step with its token's secret redacted.
func (s Step) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("step", string(s.Kind)), slog.Any("action", s.Action)}
	if s.Token != nil {
		attrs = append(attrs, slog.Any("token", *s.Token))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the step with its token's secret redacted.
func (s Step) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Step   StepKind     `json:"step"`
		Action actionJSON   `json:"action"`
		Token  *redactedTok `json:"token,omitempty"`
	}{s.Kind, s.Action.jsonValue(), redacted(s.Token)})
}

// ApplyOptions says how Apply works.
type ApplyOptions struct {
	// Sink receives each new token. It may be nil only when the plan
	// makes none; otherwise Apply returns ErrNoSink before any change.
	Sink Sink
	// Parallel bounds how many entries are worked on at once; zero for
	// DefaultParallel. The steps of one entry are always in order.
	Parallel int
	// Observer, when set, is called before each step (a create, a
	// delivery, a revoke, a retire) and waited for. It is called from
	// several goroutines at once when Parallel is above 1. Tests use it to
	// look at the server between steps.
	Observer func(ctx context.Context, s Step)
	// OnDone, when set, is called with each action's outcome as it is
	// settled, one call at a time, for progress reports.
	OnDone func(Outcome)
}

// Outcome is what Apply did for one action. Its printed form (every fmt
// verb, slog and json.Marshal) redacts every secret.
type Outcome struct {
	// Action is the action, from the plan Apply made.
	Action Action
	// Done reports whether everything the action asked for was done, each
	// step answered with success by the server (or the sink).
	Done bool
	// New is the token made by a Create, Rotate or Replace, secret
	// included, as the server answered. It is set whenever the token was
	// made, even when the action failed afterwards.
	New *unleashadmin.APIToken
	// Delivered reports whether the Sink took New.
	Delivered bool
	// Revoked reports whether New was deleted again after its delivery
	// failed.
	Revoked bool
	// Retired reports whether Action.Token was retired: Deleted, or given
	// the expiry ExpiresAt.
	Retired bool
	// Deleted reports whether Action.Token was deleted.
	Deleted bool
	// ExpiresAt is the expiry Action.Token has after a retire with a grace
	// period.
	ExpiresAt *time.Time
	// Err is why the action failed, nil when Done. It names the action and
	// never holds a secret.
	Err error
}

// Format prints the outcome on one line, secrets redacted.
func (o Outcome) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "%s: %s", o.status(), o.Action)
	if o.New != nil {
		fmt.Fprintf(f, "; new %s", shownSecret(*o.New))
	}
	if o.Err != nil {
		fmt.Fprintf(f, "; %v", o.Err)
	}
}

// Status says how the action ended, in the words its printed and JSON
// forms use: "done" (Done), "partly done" (the new token was made and
// delivered, a later step failed: Err says which), or "failed".
func (o Outcome) Status() string { return o.status() }

func (o Outcome) status() string {
	switch {
	case o.Done:
		return "done"
	case o.New != nil && o.Delivered:
		return "partly done"
	}
	return "failed"
}

// LogValue logs the outcome, secrets redacted.
func (o Outcome) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("status", o.status()), slog.Any("action", o.Action)}
	if o.New != nil {
		attrs = append(attrs, slog.Any("new", *o.New), slog.Bool("delivered", o.Delivered))
	}
	if o.Retired {
		attrs = append(attrs, slog.Bool("retired", o.Retired))
	}
	if o.Err != nil {
		attrs = append(attrs, slog.String("error", o.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the outcome as its action's JSON with "status",
// "new", "error" and the like added, every secret redacted.
func (o Outcome) MarshalJSON() ([]byte, error) {
	j := struct {
		actionJSON
		Status    string       `json:"status"`
		New       *redactedTok `json:"new,omitempty"`
		Delivered bool         `json:"delivered,omitempty"`
		Revoked   bool         `json:"revoked,omitempty"`
		Retired   bool         `json:"retired,omitempty"`
		Deleted   bool         `json:"deleted,omitempty"`
		ExpiresAt *time.Time   `json:"retiredExpiresAt,omitempty"`
		Error     string       `json:"error,omitempty"`
	}{actionJSON: o.Action.jsonValue(), Status: o.status(), New: redacted(o.New), Delivered: o.Delivered,
		Revoked: o.Revoked, Retired: o.Retired, Deleted: o.Deleted, ExpiresAt: o.ExpiresAt}
	if o.Err != nil {
		j.Error = o.Err.Error()
	}
	return json.Marshal(j)
}

// Result is what Apply did: the plan it made from its fresh read of the
// server, and one Outcome per action of that plan, in the same order. Its
// printed form redacts every secret.
type Result struct {
	Plan     *Plan
	Outcomes []Outcome
}

// Failed returns the outcomes of the actions that failed.
func (r *Result) Failed() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Err != nil {
			out = append(out, o)
		}
	}
	return out
}

// Err joins the errors of the failed actions; nil when every action was
// done.
func (r *Result) Err() error {
	var errs []error
	for _, o := range r.Outcomes {
		if o.Err != nil {
			errs = append(errs, o.Err)
		}
	}
	return errors.Join(errs...)
}

// Format prints one outcome a line, secrets redacted.
func (r Result) Format(f fmt.State, verb rune) {
	if len(r.Outcomes) == 0 {
		_, _ = f.Write([]byte("nothing to do"))
	}
	for i, o := range r.Outcomes {
		if i > 0 {
			_, _ = f.Write([]byte("\n"))
		}
		o.Format(f, verb)
	}
}

// LogValue logs the outcomes, secrets redacted.
func (r Result) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Int("failed", len(r.Failed()))}
	for i, o := range r.Outcomes {
		attrs = append(attrs, slog.Any(fmt.Sprint(i), o))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes {"outcomes":[...]}, secrets redacted.
func (r Result) MarshalJSON() ([]byte, error) {
	out := r.Outcomes
	if out == nil {
		out = []Outcome{}
	}
	return json.Marshal(struct {
		Outcomes []Outcome `json:"outcomes"`
	}{out})
}

// Apply makes the server look like the plan's file. It re-reads the
// server first (one list request), plans again from what it finds, and
// carries out that fresh plan, which is returned in Result.Plan: it differs
// from p when the tokens changed meanwhile.
//
// For every entry, the new token is made and handed to the Sink before
// any token of that entry is retired; if the delivery fails, the new token
// is deleted again (on a context of its own), the old tokens are left
// untouched, and the action's error matches unleashadmin.ErrNotDelivered.
// Entries are independent: one that fails does not stop the others. Up to
// Parallel entries are worked on at once.
//
// The error is nil when every action was done. Otherwise it is the
// failures joined (Result.Err), and Result says what was done and what was
// not; an error before any change (a bad option, ErrNoSink, a failed read)
// comes with a nil Result. When ctx ends, the steps under way end with it,
// actions not begun fail with ErrNotStarted, and an undelivered token is
// still deleted.
func (p *Plan) Apply(ctx context.Context, ao ApplyOptions) (*Result, error) {
	if p == nil || p.client == nil {
		return nil, fmt.Errorf("desired: Apply: %w: a plan made by NewPlan is needed", unleashadmin.ErrInvalidArgument)
	}
	if ao.Parallel < 0 {
		return nil, fmt.Errorf("desired: Apply: %w: Parallel %d is negative", unleashadmin.ErrInvalidArgument, ao.Parallel)
	}
	if ao.Parallel == 0 {
		ao.Parallel = DefaultParallel
	}
	if ao.Sink == nil && p.Makes() {
		return nil, fmt.Errorf("desired: Apply: %w", ErrNoSink)
	}
	toks, err := p.client.ListAPITokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("desired: re-reading the tokens: %w", err)
	}
	fresh := &Plan{file: p.file, client: p.client, opts: p.opts, DefaultEnvironment: p.DefaultEnvironment, Now: p.opts.Clock()}
	fresh.Actions = plan(p.file, toks, fresh.Now, fresh.DefaultEnvironment, p.opts)
	if ao.Sink == nil && fresh.Makes() {
		return nil, fmt.Errorf("desired: Apply: %w", ErrNoSink)
	}
	x := &applier{p: fresh, ao: ao, res: &Result{Plan: fresh, Outcomes: make([]Outcome, len(fresh.Actions))},
		known: make(map[string]bool, len(toks))}
	for _, t := range toks {
		x.known[t.Secret] = true
	}
	for i, a := range fresh.Actions {
		x.res.Outcomes[i].Action = a
	}
	// Group the actions by unit, keeping their order.
	var units [][]int
	for i, a := range fresh.Actions {
		if i == 0 || a.unit != fresh.Actions[i-1].unit {
			units = append(units, nil)
		}
		units[len(units)-1] = append(units[len(units)-1], i)
	}
	sem := make(chan struct{}, ao.Parallel)
	var wg sync.WaitGroup
	for _, u := range units {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			for _, i := range u {
				x.settle(i, func(o *Outcome) { x.notStarted(ctx, o) })
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			x.unit(ctx, u)
		}()
	}
	wg.Wait()
	return x.res, x.res.Err()
}

type applier struct {
	p   *Plan
	ao  ApplyOptions
	res *Result
	mu  sync.Mutex // serialises OnDone
	// known holds the secrets of the re-read list, to tell a token that a
	// failed create may have made from those that were there.
	known map[string]bool
}

// settle fills in outcome i and reports it to OnDone.
func (x *applier) settle(i int, fill func(o *Outcome)) {
	o := &x.res.Outcomes[i]
	fill(o)
	if o.Err == nil && !o.Done {
		o.Done = true
	}
	if x.ao.OnDone != nil {
		x.mu.Lock()
		defer x.mu.Unlock()
		x.ao.OnDone(*o)
	}
}

func (x *applier) observe(ctx context.Context, kind StepKind, a Action, t *unleashadmin.APIToken) {
	if x.ao.Observer != nil {
		x.ao.Observer(ctx, Step{Kind: kind, Action: a, Token: t})
	}
}

func actionErr(a Action, err error) error {
	return fmt.Errorf("%s %s: %w", a.Kind, a.Name, err)
}

func (x *applier) notStarted(ctx context.Context, o *Outcome) {
	if o.Action.Kind == Keep {
		return
	}
	o.Err = actionErr(o.Action, fmt.Errorf("%w: %w", ErrNotStarted, context.Cause(ctx)))
}

// unit carries out the actions of one entry (or one pruned token): the
// making action first, then the retires, none of them once the new token
// could not be made and delivered.
func (x *applier) unit(ctx context.Context, idxs []int) {
	acts := x.p.Actions
	blocked := error(nil)
	for _, i := range idxs {
		a := acts[i]
		switch {
		case a.Kind == Keep:
			x.settle(i, func(*Outcome) {})
		case a.Makes():
			x.settle(i, func(o *Outcome) {
				if ctx.Err() != nil {
					x.notStarted(ctx, o)
					blocked = o.Err
					return
				}
				x.make(ctx, o)
				if o.New == nil || !o.Delivered {
					blocked = o.Err
					return
				}
				if a.retireOld {
					x.retire(ctx, o, a.Token)
				}
			})
		case blocked != nil:
			x.settle(i, func(o *Outcome) {
				o.Err = actionErr(a, fmt.Errorf("not done, the token is left as it was: %w", blocked))
			})
		default:
			x.settle(i, func(o *Outcome) {
				if ctx.Err() != nil {
					x.notStarted(ctx, o)
					return
				}
				x.retire(ctx, o, a.Token)
			})
		}
	}
}

// make creates and delivers the new token of a Create, Rotate or Replace,
// deleting it again when it cannot be delivered.
func (x *applier) make(ctx context.Context, o *Outcome) {
	a := o.Action
	e := a.Entry
	var expires *time.Time
	if e.ExpiresIn > 0 {
		t := x.p.opts.Clock().Add(e.ExpiresIn).UTC().Truncate(time.Millisecond)
		expires = &t
	}
	x.observe(ctx, StepCreate, a, nil)
	fresh, err := x.create(ctx, e, e.Type, a.Environment, expires)
	if errors.Is(err, unleashadmin.ErrNotSupported) && e.Type == unleashadmin.TokenTypeBackend {
		// A server before Unleash 7.1 refused the type (a 400: nothing
		// was made). Client grants the same, and a plan counts it as
		// backend.
		x.observe(ctx, StepCreate, a, nil)
		fresh, err = x.create(ctx, e, unleashadmin.TokenTypeClient, a.Environment, expires)
	}
	switch {
	case err != nil && fresh != nil && fresh.Secret != "":
		// The answer broke off after the secret: the token is live and
		// its secret here, so it is delivered like any other.
	case err != nil:
		o.Err = actionErr(a, fmt.Errorf("creating the new token: %w%s", err, x.sweep(ctx, a, err)))
		return
	}
	o.New = fresh
	if fresh.Secret == "" {
		o.Err = actionErr(a, errors.New("the server made the new token but answered no secret; it is live and cannot be delivered"))
		return
	}
	var derr error
	switch {
	case !matches(e, a.Environment, fresh):
		// A server that made something else than asked (it ignored a
		// field) would make every later plan replace it again.
		derr = fmt.Errorf("the server made a token of another scope (%s) than asked (%s)", scopeOf(fresh), e.scope(a.Environment))
	case ctx.Err() != nil:
		derr = context.Cause(ctx)
	default:
		x.observe(ctx, StepDeliver, a, fresh)
		derr = redactIn(x.ao.Sink.Deliver(ctx, *fresh), fresh.Secret)
	}
	if derr == nil {
		o.Delivered = true
		return
	}
	x.observe(ctx, StepRevoke, a, fresh)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	if err := x.p.client.DeleteAPIToken(rctx, fresh.Secret); err != nil {
		o.Err = actionErr(a, fmt.Errorf("%w (%w), and %w: deleting %s: %w", unleashadmin.ErrNotDelivered, derr,
			ErrUndeliveredLive, unleashadmin.RedactSecret(fresh.Secret), err))
		return
	}
	o.Revoked = true
	o.Err = actionErr(a, fmt.Errorf("%w: %w; the new token was deleted again and the old ones left as they were", unleashadmin.ErrNotDelivered, derr))
}

// create sends the create request of entry e: through the project's
// endpoint for a one-project entry, as RotateAPIToken does.
func (x *applier) create(ctx context.Context, e *Entry, typ unleashadmin.TokenType, env string, expires *time.Time) (*unleashadmin.APIToken, error) {
	if len(e.Projects) == 1 {
		return x.p.client.CreateProjectAPIToken(ctx, e.Projects[0], unleashadmin.CreateProjectAPITokenRequest{
			Type: typ, TokenName: e.Name, Environment: env, ExpiresAt: expires,
		})
	}
	return x.p.client.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
		Type: typ, TokenName: e.Name, Environment: env, Projects: e.Projects, ExpiresAt: expires,
	})
}

// sweepRecheck is how long sweep waits before it looks a second time: a
// create the client gave up on may still be running on the server (behind
// a slow proxy, say). A variable for the tests.
var sweepRecheck = 5 * time.Second

// sweep runs after a create that failed in a way that may have reached
// the server (no answer, a 5xx, an answer that is not Unleash's): a token
// it made would be live with a secret nobody holds, and the next plan would
// keep it as the newest. It deletes the tokens of the entry's name and scope
// that the re-read did not list, looking once at once and once more after
// sweepRecheck, and says what it found. Finding nothing is no proof: the
// message says so.
func (x *applier) sweep(ctx context.Context, a Action, cerr error) string {
	var apiErr *unleashadmin.APIError
	if errors.As(cerr, &apiErr) && apiErr.StatusCode < 500 || errors.Is(cerr, unleashadmin.ErrInvalidArgument) {
		return "" // refused: nothing was made
	}
	var redirect *unleashadmin.RedirectError
	if errors.As(cerr, &redirect) {
		return ""
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	var deleted, failed []string
	seen := map[string]bool{} // x.known is shared by the units: read only
	for look := 0; look < 2; look++ {
		if look == 1 {
			select {
			case <-time.After(sweepRecheck):
			case <-sctx.Done():
			}
		}
		toks, err := x.p.client.GetAPITokensByName(sctx, a.Name)
		if err != nil {
			return fmt.Sprintf("; it may have made a token, and looking for it failed: %v", err)
		}
		for i := range toks {
			t := &toks[i]
			if x.known[t.Secret] || seen[t.Secret] || !matches(a.Entry, a.Environment, t) {
				continue
			}
			seen[t.Secret] = true
			x.observe(ctx, StepRevoke, a, t)
			if err := x.p.client.DeleteAPIToken(sctx, t.Secret); err != nil {
				failed = append(failed, shownSecret(*t)+" ("+err.Error()+")")
			} else {
				deleted = append(deleted, shownSecret(*t))
			}
		}
		if len(deleted)+len(failed) > 0 {
			break
		}
	}
	switch {
	case len(failed) > 0:
		return fmt.Sprintf("; it made a token nobody holds, and deleting it failed, so it is live: %s", strings.Join(failed, ", "))
	case len(deleted) > 0:
		return fmt.Sprintf("; it had made a token nobody holds, which was deleted: %s", strings.Join(deleted, ", "))
	}
	return fmt.Sprintf("; no token it made was found, looking twice %s apart, but one may still appear: "+
		"a token of this name and scope that nobody was given is then live, and the next apply would keep it as the newest; delete it", sweepRecheck)
}

// retire deletes t, or with a grace period moves its expiry to now + grace
// (never later than the expiry it has).
func (x *applier) retire(ctx context.Context, o *Outcome, t *unleashadmin.APIToken) {
	a := o.Action
	x.observe(ctx, StepRetire, a, t)
	if g := x.p.opts.GracePeriod; g > 0 {
		until := x.p.opts.Clock().Add(g).UTC().Truncate(time.Millisecond)
		if t.ExpiresAt != nil && !t.ExpiresAt.After(until) {
			// It stops sooner than the grace period would make it: that
			// is already its retirement.
			o.Retired, o.ExpiresAt = true, t.ExpiresAt
			return
		}
		if err := x.p.client.UpdateAPITokenExpiry(ctx, t.Secret, until); err != nil {
			o.Err = actionErr(a, fmt.Errorf("%w: moving the expiry of %s: %w", ErrNotRetired, shownSecret(*t), err))
			return
		}
		o.Retired, o.ExpiresAt = true, &until
		return
	}
	if err := x.p.client.DeleteAPIToken(ctx, t.Secret); err != nil {
		o.Err = actionErr(a, fmt.Errorf("%w: deleting %s: %w", ErrNotRetired, shownSecret(*t), err))
		return
	}
	o.Retired, o.Deleted = true, true
}

// redactIn keeps a secret out of an error a sink returned: the whole
// secret, and its random part alone, are replaced by the redacted form.
func redactIn(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), secret, unleashadmin.RedactSecret(secret))
	if i := strings.LastIndexAny(secret, "._:"); i >= 0 && len(secret)-i-1 >= 12 {
		msg = strings.ReplaceAll(msg, secret[i+1:], "***")
	}
	if msg == err.Error() {
		return err
	}
	return redactedErr{err: err, msg: msg}
}

// redactedErr is an error whose text had a secret taken out. errors.Is and
// errors.As see the original, but it does not unwrap to it: code that walks
// the chain, such as an error reporter, would print the original's text.
type redactedErr struct {
	err error
	msg string
}

func (e redactedErr) Error() string        { return e.msg }
func (e redactedErr) Is(target error) bool { return errors.Is(e.err, target) }
func (e redactedErr) As(target any) bool   { return errors.As(e.err, target) }
