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

var (
	// ErrNoSink is returned by Apply, before any change, for a plan that
	// would make a token when no Sink was given: a new secret must go
	// somewhere. It matches unleashadmin.ErrInvalidArgument too.
	ErrNoSink = fmt.Errorf("%w: the plan makes tokens but no sink was given to deliver their secrets", unleashadmin.ErrInvalidArgument)
	// ErrNotRetired is matched by the error of an action whose token could
	// not be retired (deleted, or given its grace expiry), or was not
	// because the answer to the create of its replacement was odd: it is
	// still live. For a rotate or replace, the new token was made and
	// delivered.
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
	// StepCreate is about to send the create request of an ActionCreate,
	// ActionRotate or ActionReplace (unleashadmin.Client.CreateAndDeliver;
	// on a server before Unleash 7.1 a refused backend type is asked for
	// again as client within the step).
	StepCreate StepKind = "create"
	// StepDeliver is about to hand the new token to the Sink.
	StepDeliver StepKind = "deliver"
	// StepRevoke is about to delete a new token that could not be
	// delivered: one the Sink refused, or one that a sweep found after a
	// create that got no answer. A new token deleted before it reached the
	// Sink (the server made another scope than asked, or ctx ended first)
	// is deleted without a step.
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

// ApplyOptions says how Apply works. It marshals to JSON and back as
// {"parallel":4}; the Sink and the func fields are left out.
type ApplyOptions struct {
	// Sink receives each new token. It may be nil only when the plan
	// makes none; otherwise Apply returns ErrNoSink before any change.
	Sink Sink `json:"-"`
	// Parallel bounds how many entries are worked on at once; zero for
	// unleashadmin.DefaultParallel. The steps of one entry are always in
	// order.
	Parallel int `json:"parallel,omitempty"`
	// Observer, when set, is called before each step (a create, a
	// delivery, a revoke, a retire) and waited for. It is called from
	// several goroutines at once when Parallel is above 1. Tests use it to
	// look at the server between steps.
	Observer func(ctx context.Context, s Step) `json:"-"`
	// Progress, when set, is called with each action's result as it is
	// settled, one call at a time, for progress reports.
	Progress func(ActionResult) `json:"-"`

	// OnDone is the old name of Progress; when set, it is called after
	// Progress with the same result.
	//
	// Deprecated: use Progress.
	OnDone func(ActionResult) `json:"-"`
}

// Status is one word for how an action ended, as ActionResult.Status
// gives it and its JSON form writes it.
type Status string

// The statuses of an action.
const (
	// StatusDone: everything the action asked for was done.
	StatusDone Status = "done"
	// StatusProtected: an ActionKeep of a token the rules would have
	// retired, left as it is because it is protected (Action.Protected).
	StatusProtected Status = "protected"
	// StatusPartlyDone: the new token was made and delivered, but what was
	// to be retired after it was not (ActionResult.Err says why).
	StatusPartlyDone Status = "partly-done"
	// StatusFailed: the action was not done (ActionResult.Err says why):
	// its new token was not delivered, its retire failed, or it was not
	// begun (ErrNotStarted, or its entry's new token was not delivered).
	StatusFailed Status = "failed"
)

// ActionResult is what Apply did for one action. Its printed form (every
// fmt verb, slog and json.Marshal) redacts every secret.
type ActionResult struct {
	// Action is the action, from the plan Apply made.
	Action Action
	// Done reports whether everything the action asked for was done, each
	// step answered with success by the server (or the sink).
	Done bool
	// New is the token made by an ActionCreate, ActionRotate or
	// ActionReplace, secret included, as the server answered. It is set
	// whenever the token was handed to the Sink, or is live without having
	// been delivered (an error matching unleashadmin.ErrUndeliveredLive),
	// even when the action failed afterwards. A token deleted again before
	// it reached the Sink (the server made another scope than asked, or
	// the context ended first) no longer exists and is not shown; Revoked
	// says so.
	New *unleashadmin.APIToken
	// Delivered reports whether the Sink took New.
	Delivered bool
	// Revoked reports whether the new token was deleted again because it
	// could not be delivered.
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

// Format prints the result on one line, secrets redacted.
func (o ActionResult) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "%s: %s", o.Status(), o.Action)
	if o.New != nil {
		fmt.Fprintf(f, "; new %s", shownSecret(*o.New))
	}
	if o.Err != nil {
		fmt.Fprintf(f, "; %v", o.Err)
	}
}

// Status says in one word how the action ended.
func (o ActionResult) Status() Status {
	switch {
	case o.Done && o.Action.Kind == ActionKeep && o.Action.Protected != unleashadmin.Unprotected:
		return StatusProtected
	case o.Done:
		return StatusDone
	case o.New != nil && o.Delivered:
		return StatusPartlyDone
	}
	return StatusFailed
}

// LogValue logs the result, secrets redacted.
func (o ActionResult) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("status", string(o.Status())), slog.Any("action", o.Action)}
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

// MarshalJSON writes the result as its action's JSON with "status",
// "new", "error" and the like added, every secret redacted.
func (o ActionResult) MarshalJSON() ([]byte, error) {
	j := struct {
		actionJSON
		Status    Status       `json:"status"`
		New       *redactedTok `json:"new,omitempty"`
		Delivered bool         `json:"delivered,omitempty"`
		Revoked   bool         `json:"revoked,omitempty"`
		Retired   bool         `json:"retired,omitempty"`
		Deleted   bool         `json:"deleted,omitempty"`
		ExpiresAt *time.Time   `json:"retiredExpiresAt,omitempty"`
		Error     string       `json:"error,omitempty"`
	}{actionJSON: o.Action.jsonValue(), Status: o.Status(), New: redacted(o.New), Delivered: o.Delivered,
		Revoked: o.Revoked, Retired: o.Retired, Deleted: o.Deleted, ExpiresAt: o.ExpiresAt}
	if o.Err != nil {
		j.Error = o.Err.Error()
	}
	return json.Marshal(j)
}

// Result is what Apply did: the plan it made from its fresh read of the
// server, and one ActionResult per action of that plan, in the same order.
// Its printed form redacts every secret.
type Result struct {
	Plan     *Plan
	Outcomes []ActionResult
}

// Failed returns the results of the actions that failed.
func (r *Result) Failed() []ActionResult {
	var out []ActionResult
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

// Format prints one action's result a line, secrets redacted.
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

// LogValue logs the actions' results, secrets redacted.
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
		out = []ActionResult{}
	}
	return json.Marshal(struct {
		Outcomes []ActionResult `json:"outcomes"`
	}{out})
}

// Apply makes the server look like the plan's file. It re-reads the
// server first (one list request), plans again from what it finds, and
// carries out that fresh plan, which is returned in Result.Plan: it differs
// from p when the tokens changed meanwhile.
//
// For every entry, the new token is made and handed to the Sink before
// any token of that entry is retired (unleashadmin.Client.CreateAndDeliver);
// if the delivery fails, the new token is deleted again (on a context of
// its own), the old tokens are left untouched, and the action's error
// matches unleashadmin.ErrNotDelivered. When the create's answer held the
// secret but was otherwise odd, the new token is delivered but nothing is
// retired on its account (ErrNotRetired). Entries are independent: one
// that fails does not stop the others. Up to Parallel entries are worked
// on at once.
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
		ao.Parallel = unleashadmin.DefaultParallel
	}
	if ao.Sink == nil && p.Makes() {
		return nil, fmt.Errorf("desired: Apply: %w", ErrNoSink)
	}
	toks, err := p.client.ListAPITokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("desired: re-reading the tokens: %w", err)
	}
	fresh := &Plan{file: p.file, client: p.client, opts: p.opts, DefaultEnvironment: p.DefaultEnvironment, Now: p.opts.now()}
	fresh.Actions = plan(p.file, toks, fresh.Now, fresh.DefaultEnvironment, p.opts, p.client)
	if ao.Sink == nil && fresh.Makes() {
		return nil, fmt.Errorf("desired: Apply: %w", ErrNoSink)
	}
	x := &applier{p: fresh, ao: ao, res: &Result{Plan: fresh, Outcomes: make([]ActionResult, len(fresh.Actions))},
		known: make(map[string]bool, len(toks)), listed: toks}
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
				x.settle(i, func(o *ActionResult) error { return x.notStarted(ctx, o) })
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
	mu  sync.Mutex // serialises Progress and OnDone
	// known holds the secrets of the re-read list, to tell a token that a
	// failed create may have made from those that were there.
	known map[string]bool
	// listed is the re-read list itself: a create answer naming one of its
	// tokens is no new token (CreateAndDeliver's known).
	listed []unleashadmin.APIToken
}

// settle fills in result i by do, whose error (its cause, without the
// action's name) becomes the result's Err, and reports the result to
// Progress and OnDone.
func (x *applier) settle(i int, do func(o *ActionResult) error) {
	o := &x.res.Outcomes[i]
	if err := do(o); err != nil {
		o.Err = fmt.Errorf("desired: %s %s: %w", o.Action.Kind, o.Action.Name, err)
	} else {
		o.Done = true
	}
	if x.ao.Progress == nil && x.ao.OnDone == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ao.Progress != nil {
		x.ao.Progress(*o)
	}
	if x.ao.OnDone != nil {
		x.ao.OnDone(*o)
	}
}

func (x *applier) observe(ctx context.Context, kind StepKind, a Action, t *unleashadmin.APIToken) {
	if x.ao.Observer != nil {
		x.ao.Observer(ctx, Step{Kind: kind, Action: a, Token: t})
	}
}

func (x *applier) notStarted(ctx context.Context, o *ActionResult) error {
	if o.Action.Kind == ActionKeep {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrNotStarted, context.Cause(ctx))
}

// unit carries out the actions of one entry (or one pruned token): the
// making action first, then the retires, none of them once the new token
// could not be made and delivered, or its create's answer was odd.
func (x *applier) unit(ctx context.Context, idxs []int) {
	acts := x.p.Actions
	var blocked error // why the retires of the unit are not done
	var maker Action  // the action that blocked them
	for _, i := range idxs {
		a := acts[i]
		switch {
		case a.Kind == ActionKeep:
			x.settle(i, func(*ActionResult) error { return nil })
		case a.Makes():
			maker = a
			x.settle(i, func(o *ActionResult) error {
				if ctx.Err() != nil {
					blocked = x.notStarted(ctx, o)
					return blocked
				}
				if err := x.make(ctx, o); err != nil {
					blocked = err
					if o.Delivered && !a.retireOld {
						return nil // delivered, and nothing of its own to retire
					}
					return err
				}
				if a.retireOld {
					return x.retire(ctx, o, a.Token)
				}
				return nil
			})
		case blocked != nil:
			x.settle(i, func(*ActionResult) error {
				return fmt.Errorf("not done, the token is left as it was (see %s %s): %w", maker.Kind, maker.Name, blocked)
			})
		default:
			x.settle(i, func(o *ActionResult) error {
				if ctx.Err() != nil {
					return x.notStarted(ctx, o)
				}
				return x.retire(ctx, o, a.Token)
			})
		}
	}
}

// make creates and delivers the new token of an ActionCreate, ActionRotate
// or ActionReplace through CreateAndDeliver, which deletes it again when it
// cannot be delivered. An error with o.Delivered set means the token was
// delivered but nothing may be retired on its account.
func (x *applier) make(ctx context.Context, o *ActionResult) error {
	a := o.Action
	req := a.Entry.request(a.Environment)
	if a.Entry.ExpiresIn > 0 {
		req.ExpiresAt = unleashadmin.Ptr(x.p.opts.now().Add(a.Entry.ExpiresIn).UTC().Truncate(time.Millisecond))
	}
	// The sink, with the steps around it observed: a delivery that fails
	// is followed by the revoke.
	deliver := func(ctx context.Context, tok unleashadmin.APIToken) error {
		o.New = &tok
		x.observe(ctx, StepDeliver, a, &tok)
		if err := x.ao.Sink.Deliver(ctx, tok); err != nil {
			x.observe(ctx, StepRevoke, a, &tok)
			return err
		}
		o.Delivered = true
		return nil
	}
	x.observe(ctx, StepCreate, a, nil)
	fresh, err := x.p.client.CreateAndDeliver(ctx, req, deliver, x.listed...)
	switch {
	case fresh == nil && errors.Is(err, unleashadmin.ErrNotDelivered):
		o.Revoked, o.Delivered = true, false
		return fmt.Errorf("%w, and the old ones left as they were", err)
	case fresh == nil:
		return fmt.Errorf("creating the new token: %w%s", err, x.sweep(ctx, a, err))
	}
	o.New = fresh
	switch {
	case errors.Is(err, unleashadmin.ErrUndeliveredLive):
		o.Delivered = false
		return err
	case err != nil:
		// Delivered, but the answer held the secret and was otherwise
		// odd: what the server made cannot be trusted.
		return fmt.Errorf("%w: the new token was delivered, but the answer to its create was odd, so nothing is retired on its account: %w", ErrNotRetired, err)
	}
	return nil
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
	// The looks and the wait run even when ctx has ended, as the deletes
	// of RevokeAPIToken do, within the same bound.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unleashadmin.RevokeTimeout)
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
			if err := x.p.client.RevokeAPIToken(sctx, t.Secret); err != nil {
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

// retire retires t (unleashadmin.Client.RetireAPIToken): deletes it, or
// with a grace period moves its expiry to now + grace, never later than
// the expiry it has.
func (x *applier) retire(ctx context.Context, o *ActionResult, t *unleashadmin.APIToken) error {
	x.observe(ctx, StepRetire, o.Action, t)
	g := x.p.opts.GracePeriod
	ret, err := x.p.client.RetireAPIToken(ctx, *t, unleashadmin.RetireOptions{GracePeriod: g, Now: x.p.opts.now})
	if err != nil {
		what := "deleting"
		if g > 0 {
			what = "moving the expiry of"
		}
		return fmt.Errorf("%w: %s %s: %w", ErrNotRetired, what, shownSecret(*t), err)
	}
	o.Retired, o.Deleted, o.ExpiresAt = true, ret.Deleted, ret.ExpiresAt
	return nil
}
