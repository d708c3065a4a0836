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
// above 1. The token it is given carries the name and scope of its entry.
//
// A Sink that is also a SinkReader is the record of what was delivered:
// Apply reads each delivery back from it, and plans by what it holds. One
// that is a SinkLocker is used by one apply at a time.
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
	// StepDeliver is about to hand the new token (or for ActionDeliver the
	// listed one) to the Sink.
	StepDeliver StepKind = "deliver"
	// StepRevoke is about to delete a new token that could not be
	// delivered: one the Sink refused, or that it did not give back when
	// read. A new token deleted before it reached the Sink (the server
	// made another scope or name than asked, or ctx ended first) is
	// deleted without a step. A token that appears after a create that got
	// no answer is never deleted: it may be another party's.
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
	// StatusLeft: an ActionLeave, which changes nothing: a token the
	// sink does not hold, younger than the settle time, or one of an
	// entry that is not delivered.
	StatusLeft Status = "left"
	// StatusWaiting: an ActionWait, which changes nothing: a token the
	// plan would retire, left live until it goes unused (RetireUnused).
	StatusWaiting Status = "waiting"
	// StatusNotDelivered: the ActionKeep of an entry whose token the sink
	// does not hold and that could not be delivered as it is
	// (Action.Undelivered): nothing was changed.
	StatusNotDelivered Status = "not-delivered"
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
	// Delivered reports whether the Sink took New (or for ActionDeliver
	// the listed token), and when the sink can be read, gave it back.
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
	case o.Done && o.Action.Kind == ActionLeave:
		return StatusLeft
	case o.Done && o.Action.Kind == ActionWait:
		return StatusWaiting
	case o.Done && o.Action.Undelivered:
		return StatusNotDelivered
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

// Apply makes the server look like the plan's file. It takes the sink's
// lock when the Sink is a SinkLocker (waiting for another apply within
// ctx; an error matching ErrLocked if it gives up), re-reads the server
// (one list request) and the sink when it can be read (Options.Reader,
// else the Sink when it is a SinkReader), plans again from what it finds,
// and carries out that fresh plan, which is returned in Result.Plan: it
// differs from p when the tokens or the sink changed meanwhile.
//
// For every entry, the new token is made and handed to the Sink before
// any token of that entry is retired (unleashadmin.Client.CreateAndDeliver);
// when the sink can be read, the delivery counts only once reading it back
// gives the new secret. If the delivery fails, the new token is deleted
// again (on a context of its own), the old tokens are left untouched, and
// the action's error matches unleashadmin.ErrNotDelivered. When the
// create's answer held the secret but was otherwise odd, the new token is
// delivered but nothing is retired on its account (ErrNotRetired). An
// ActionDeliver that fails leaves every token of its entry as it is, and
// its error matches unleashadmin.ErrNotDelivered too. Entries are
// independent: one that fails does not stop the others. Up to Parallel
// entries are worked on at once.
//
// The error is nil when every action was done. Otherwise it is the
// failures joined (Result.Err), and Result says what was done and what was
// not; an error before any change (a bad option, ErrNoSink, a failed read,
// a quiet period that a token now listed does not allow: see NewPlan)
// comes with a nil Result. The decisions of a retire policy of
// RetireUnused are made again from the fresh read: a token the plan showed
// waiting is retired when, by then, the rule says so, and one it would
// have retired waits when it was used since. When ctx ends, the steps under way end with it,
// actions not begun fail with ErrNotStarted, and an undelivered token is
// still deleted.
func (p *Plan) Apply(ctx context.Context, ao ApplyOptions) (*Result, error) {
	if p == nil || p.client == nil {
		return nil, fmt.Errorf("desired: Apply: %w: a plan made by NewPlan is needed", unleashadmin.ErrInvalidArgument)
	}
	ao, err := ao.check()
	if err != nil {
		return nil, err
	}
	if ao.Sink == nil && p.Delivers() {
		return nil, fmt.Errorf("desired: Apply: %w", ErrNoSink)
	}
	reader := sinkReader(p.opts.Reader, ao.Sink)
	unlock, err := lockSink(ctx, p.client, ao.Sink, reader)
	if err != nil {
		return nil, err
	}
	defer unlock()
	toks, held, err := readState(ctx, p.client, p.file, p.DefaultEnvironment, reader)
	if err != nil {
		return nil, err
	}
	if err := checkQuiet(p.file, toks, p.info, false); err != nil {
		return nil, fmt.Errorf("desired: Apply: %w", err)
	}
	fresh := &Plan{file: p.file, client: p.client, opts: p.opts, info: p.info, DefaultEnvironment: p.DefaultEnvironment, Now: p.opts.now()}
	fresh.Actions = plan(p.file, toks, held, fresh.Now, fresh.DefaultEnvironment, p.opts, p.client)
	fresh.seen = observe(p.client, p.file, toks, held)
	if ao.Sink == nil && fresh.Delivers() {
		return nil, fmt.Errorf("desired: Apply: %w", ErrNoSink)
	}
	return fresh.carryOut(ctx, ao, reader, toks)
}

// check returns ao with its defaults filled in, or why it cannot be used.
func (ao ApplyOptions) check() (ApplyOptions, error) {
	if ao.Parallel < 0 {
		return ao, fmt.Errorf("desired: Apply: %w: Parallel %d is negative", unleashadmin.ErrInvalidArgument, ao.Parallel)
	}
	if ao.Parallel == 0 {
		ao.Parallel = unleashadmin.DefaultParallel
	}
	return ao, nil
}

// sinkReader is the sink that is read, or nil: r when it can be read,
// else the Sink when it is a SinkReader that can be read.
func sinkReader(r SinkReader, sink Sink) SinkReader {
	reader := readerOf(r)
	if sr, ok := sink.(SinkReader); ok && reader == nil {
		reader = readerOf(sr)
	}
	return reader
}

// lockSink takes the lock of the Sink when it is a SinkLocker, else of
// the reader when that is one, and returns the function that lets it go
// (which does nothing when there was none).
func lockSink(ctx context.Context, c *unleashadmin.Client, sink Sink, reader SinkReader) (func(), error) {
	locker, ok := sink.(SinkLocker)
	if !ok {
		locker, _ = reader.(SinkLocker)
	}
	if locker == nil {
		return func() {}, nil
	}
	unlock, err := locker.Lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("desired: Apply: %w", c.RedactError(err))
	}
	return unlock, nil
}

// carryOut carries out p's actions as they are, with toks the token list
// they were planned (or checked) against and reader the sink that is read
// (nil when none), and returns what was done, with its failures joined.
func (p *Plan) carryOut(ctx context.Context, ao ApplyOptions, reader SinkReader, toks []unleashadmin.APIToken) (*Result, error) {
	x := &applier{p: p, ao: ao, reader: reader, res: &Result{Plan: p, Outcomes: make([]ActionResult, len(p.Actions))},
		known: make(map[string]bool, len(toks)), listed: toks}
	for _, t := range toks {
		x.known[t.Secret] = true
	}
	for i, a := range p.Actions {
		x.res.Outcomes[i].Action = a
	}
	// Group the actions by unit, keeping their order.
	var units [][]int
	for i, a := range p.Actions {
		if i == 0 || a.unit != p.Actions[i-1].unit {
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
	p      *Plan
	ao     ApplyOptions
	reader SinkReader // nil when the sink cannot be read
	res    *Result
	mu     sync.Mutex // serialises Progress and OnDone
	// known holds the secrets of the re-read list, to tell a token that a
	// create without an answer may have made from those that were there.
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
	if o.Action.Kind == ActionKeep || o.Action.Kind == ActionWait {
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
		case !a.Changes():
			x.settle(i, func(*ActionResult) error { return nil })
		case a.Kind == ActionDeliver:
			maker = a
			x.settle(i, func(o *ActionResult) error {
				if ctx.Err() != nil {
					blocked = x.notStarted(ctx, o)
					return blocked
				}
				blocked = x.deliverListed(ctx, o)
				return blocked
			})
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
		if err := x.deliver(ctx, a, tok); err != nil {
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
		return fmt.Errorf("creating the new token: %w%s", err, x.lookAfter(ctx, a, err))
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

// deliver hands tok to the Sink as the token of a's entry (its name and
// scope, not the server's words for them) and, when the sink can be read,
// reads it back: the delivery counts only when the sink gives back tok's
// secret.
func (x *applier) deliver(ctx context.Context, a Action, tok unleashadmin.APIToken) error {
	handed := a.Entry.handed(a.Environment, tok)
	if err := x.ao.Sink.Deliver(ctx, handed); err != nil {
		return err
	}
	if x.reader == nil {
		return nil
	}
	handed.Secret = ""
	got, ok, err := x.reader.Held(ctx, handed)
	switch {
	case err != nil:
		return fmt.Errorf("desired: the delivery could not be read back: %w", err)
	case !ok:
		return errors.New("desired: the delivery was not read back: the sink holds no secret for the token")
	case strings.TrimSpace(got) != tok.Secret:
		return errors.New("desired: the delivery was not read back: the sink holds another secret")
	}
	return nil
}

// deliverListed carries out an ActionDeliver: hands the listed secret of
// the entry's token to the sink, which held none of it. Nothing is made,
// so nothing is revoked when it fails; the retires of the entry wait.
func (x *applier) deliverListed(ctx context.Context, o *ActionResult) error {
	a := o.Action
	x.observe(ctx, StepDeliver, a, a.Token)
	if err := x.deliver(ctx, a, *a.Token); err != nil {
		return listedNotDelivered{x.p.client.RedactError(err, a.Token.Secret)}
	}
	o.Delivered = true
	return nil
}

// listedNotDelivered is the error of an ActionDeliver whose delivery
// failed. It matches unleashadmin.ErrNotDelivered, whose own words are
// about a new token.
type listedNotDelivered struct{ err error }

func (e listedNotDelivered) Error() string {
	return "the listed secret could not be delivered, and every token of the entry is left as it is: " + e.err.Error()
}

func (e listedNotDelivered) Is(target error) bool { return target == unleashadmin.ErrNotDelivered }

func (e listedNotDelivered) Unwrap() error { return e.err }

// lookAfter runs after a create that failed in a way that may have reached
// the server (no answer, a 5xx, an answer that is not Unleash's): a token
// it made would be live with a secret nobody holds. It looks once for
// tokens of the entry's name and scope that the re-read did not list, and
// says what it found. It deletes none of them: any may be another party's
// (another run, a person), made meanwhile. A later plan that can read the
// sink retires such a token once it is older than the settle time.
func (x *applier) lookAfter(ctx context.Context, a Action, cerr error) string {
	var apiErr *unleashadmin.APIError
	if errors.As(cerr, &apiErr) && apiErr.StatusCode < 500 || errors.Is(cerr, unleashadmin.ErrInvalidArgument) {
		return "" // refused: nothing was made
	}
	var redirect *unleashadmin.RedirectError
	if errors.As(cerr, &redirect) {
		return ""
	}
	// The look runs even when ctx has ended, within the bound of a revoke.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unleashadmin.RevokeTimeout)
	defer cancel()
	const later = "a later apply that can read the sink retires a token it does not hold once it is older than the settle time"
	toks, err := x.p.client.GetAPITokensByName(lctx, a.Name)
	if err != nil {
		return fmt.Sprintf("; it may have made a token, and looking for it failed: %v; %s", err, later)
	}
	var found []string
	for i := range toks {
		if t := &toks[i]; !x.known[t.Secret] && matches(a.Entry, a.Environment, t) {
			found = append(found, shownSecret(*t))
		}
	}
	if len(found) > 0 {
		return fmt.Sprintf("; %d token(s) of this name and scope appeared meanwhile (%s), which may be this create's, held by nobody, or another party's, "+
			"so none was deleted; %s", len(found), strings.Join(found, ", "), later)
	}
	return "; no token it made was found, but one may still appear: " + later
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
