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
	"sync"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// Defaults and bounds of Prune.
const (
	// DefaultParallel is how many deletes Prune sends at once when
	// PruneOptions.Parallel is zero.
	//
	// Deprecated: use unleashadmin.DefaultParallel, the one default of
	// every layer above the client.
	DefaultParallel = unleashadmin.DefaultParallel
	// MaxParallel is the most deletes Prune sends at once.
	MaxParallel = 64
	// MinPruneUnusedFor is the shortest PruneOptions.UnusedFor Prune
	// accepts. Unleash writes seenAt only every few minutes, and a
	// duration in minutes or hours where days were meant ("90m" for "90d")
	// would retire tokens that are in use.
	MinPruneUnusedFor = 24 * time.Hour
)

// ErrPruneIncomplete is matched by errors.Is when Prune could not retire
// every token it set out to: the PruneReport returned with it says which
// failed and why.
var ErrPruneIncomplete = errors.New("hygiene: some tokens were not retired")

// Pruner is what Prune reads and deletes through: a *unleashadmin.Client
// made with an admin API token satisfies it.
//
// A Pruner that also has the method Protection(unleashadmin.APIToken, bool)
// unleashadmin.Protection, as a *unleashadmin.Client does, tells Prune
// which token is the key it runs with. Any other Pruner needs
// PruneOptions.Key.
type Pruner interface {
	ListAPITokens(ctx context.Context) ([]unleashadmin.APIToken, error)
	DeleteAPIToken(ctx context.Context, secret string) error
}

// protector is a Pruner that knows its key: *unleashadmin.Client.
type protector interface {
	Protection(t unleashadmin.APIToken, includeAdmin bool) unleashadmin.Protection
}

// PruneOptions says which tokens Prune retires. At least one of Expired,
// UnusedFor and NeverSeen must be set. Its printed form (every fmt verb,
// and slog) redacts Key. Its JSON form, {"expired","neverSeen","namePrefix",
// "includeAdmin","apply","parallel","unusedFor"}, each left out when zero,
// writes UnusedFor as text ("90d") and never holds Key, Now or Progress.
//
// Whatever the options, Prune never retires the token of the key it runs
// with, and retires an admin token only with IncludeAdmin: the rule of
// unleashadmin.ProtectionFor.
type PruneOptions struct {
	// Key is the API key the Pruner sends, in any form NewClient takes it
	// ("Bearer <key>", white space around it). The token of this key is
	// never retired, found by its secret, by its selector under secure
	// token storage, or by its alias. It is never marshalled.
	//
	// Deprecated: a *unleashadmin.Client knows its key, and Prune asks it
	// (Client.Protection); Key is needed only for a Pruner that is not a
	// Client, and is honoured whenever it is set.
	Key string `json:"-"`
	// Expired retires the tokens whose expiry has passed (FindingExpired).
	Expired bool `json:"expired,omitempty"`
	// UnusedFor, when not zero, retires the tokens last seen more than
	// this long ago (FindingUnused judged with this duration). It must be at
	// least MinPruneUnusedFor.
	UnusedFor time.Duration `json:"unusedFor,omitempty"`
	// NeverSeen retires the tokens whose seenAt is null and that were
	// created more than NeverSeenAfter ago (FindingNeverSeen).
	NeverSeen bool `json:"neverSeen,omitempty"`
	// NamePrefix, when not empty, limits Prune to tokens whose name starts
	// with it.
	NamePrefix string `json:"namePrefix,omitempty"`
	// IncludeAdmin lets Prune retire admin tokens other than its key.
	// Without it an admin token that matches is reported protected and
	// kept: Unleash 7 and later (and 6.10, as captured) make no admin
	// token through the API, so one retired may be gone for good, and the
	// automation that used it locked out.
	IncludeAdmin bool `json:"includeAdmin,omitempty"`
	// Apply makes Prune delete. Without it Prune is a dry run: it reports
	// what it would retire (StatusWouldRetire) and sends no delete.
	Apply bool `json:"apply,omitempty"`
	// Parallel is how many deletes are sent at once, 1 to MaxParallel;
	// unleashadmin.DefaultParallel when zero.
	Parallel int `json:"parallel,omitempty"`
	// Now reads the current time; time.Now when nil.
	Now func() time.Time `json:"-"`
	// Progress, when set, is called once for each token as soon as its
	// status is known, from one goroutine at a time. It must not block for
	// long: deletes wait for it.
	Progress func(PruneResult) `json:"-"`
}

// Format prints the options with Key redacted, for every verb.
func (o PruneOptions) Format(s fmt.State, _ rune) {
	fmt.Fprintf(s, "{Key:%s Expired:%t UnusedFor:%s NeverSeen:%t NamePrefix:%q IncludeAdmin:%t Apply:%t Parallel:%d}",
		unleashadmin.RedactSecret(o.Key), o.Expired, o.UnusedFor, o.NeverSeen, o.NamePrefix, o.IncludeAdmin, o.Apply, o.Parallel)
}

// MarshalJSON writes the options without Key, Now and Progress, UnusedFor
// as text such as "90d".
func (o PruneOptions) MarshalJSON() ([]byte, error) {
	type plain PruneOptions
	return json.Marshal(struct {
		plain
		UnusedFor string `json:"unusedFor,omitempty"`
	}{plain(o), durationText(o.UnusedFor)})
}

// UnmarshalJSON reads the options MarshalJSON writes; a field left out
// keeps its value, and a "key" is not read. An UnusedFor that is not text
// such as "90d" is an ErrInvalidArgument error.
func (o *PruneOptions) UnmarshalJSON(b []byte) error {
	type plain PruneOptions
	in := struct {
		*plain
		UnusedFor *string `json:"unusedFor"`
	}{plain: (*plain)(o)}
	if err := json.Unmarshal(b, &in); err != nil {
		return optionsError("PruneOptions", err)
	}
	if err := parseDurationText(&o.UnusedFor, in.UnusedFor); err != nil {
		return optionsError("PruneOptions.unusedFor", err)
	}
	return nil
}

// LogValue logs the options with Key redacted.
func (o PruneOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("key", unleashadmin.RedactSecret(o.Key)),
		slog.Bool("expired", o.Expired),
		slog.Duration("unusedFor", o.UnusedFor),
		slog.Bool("neverSeen", o.NeverSeen),
		slog.String("namePrefix", o.NamePrefix),
		slog.Bool("includeAdmin", o.IncludeAdmin),
		slog.Bool("apply", o.Apply),
		slog.Int("parallel", o.Parallel),
	)
}

// Status is what Prune did with one token: a word, the same for the same
// meaning in every package of this module and in the command's output.
type Status string

// The statuses of Prune.
const (
	// StatusRetired: Unleash answered success to the delete.
	StatusRetired Status = "retired"
	// StatusFailed: the delete failed or got no answer (PruneResult.Err
	// says which), or was never sent because the context ended first. The
	// token may still be live.
	StatusFailed Status = "failed"
	// StatusSkipped: the token matched but is left alone: it was listed
	// without a secret to delete it by.
	StatusSkipped Status = "skipped"
	// StatusProtected: the token matched but the protection rule keeps
	// it: it is the key Prune runs with, or an admin token and
	// PruneOptions.IncludeAdmin is not set. PruneResult.Protection says
	// which.
	StatusProtected Status = "protected"
	// StatusWouldRetire: a dry run; a delete would have been sent.
	StatusWouldRetire Status = "would-retire"
)

// Outcome is the old name of Status.
//
// Deprecated: use Status.
type Outcome = Status

// The old names of the statuses.
//
// Deprecated: use the Status constants (StatusRetired, ...).
const (
	// Deprecated: use StatusRetired.
	OutcomeRetired = StatusRetired
	// Deprecated: use StatusFailed.
	OutcomeFailed = StatusFailed
	// Deprecated: use StatusSkipped.
	OutcomeSkipped = StatusSkipped
	// Deprecated: use StatusWouldRetire.
	OutcomeWouldRetire = StatusWouldRetire
)

// PruneResult is what Prune did with one token that matched.
//
// Its printed form (every fmt verb, and slog) and its JSON form show the
// token's secret redacted; Token holds it as listed.
type PruneResult struct {
	Token unleashadmin.APIToken
	// Kinds are the classes the token matched: FindingExpired,
	// FindingUnused, FindingNeverSeen.
	Kinds []FindingKind
	// Status is what Prune did with the token.
	Status Status
	// Protection is why the token is kept (StatusProtected only).
	Protection unleashadmin.Protection
	// Outcome is Status under its old name; Prune sets both.
	//
	// Deprecated: use Status.
	Outcome Status
	// Reason says why the token matched; for a protected or skipped one it
	// starts with why it is kept ("the key in use; never seen; ...").
	Reason string
	// Err is why a delete failed (StatusFailed only).
	Err error
}

// status is r's status: Status, or for a result made by hand with the old
// field only, Outcome.
func (r PruneResult) status() Status { return cmp.Or(r.Status, r.Outcome) }

// Format prints the result with the token's secret redacted, for every
// verb.
func (r PruneResult) Format(s fmt.State, _ rune) {
	fmt.Fprintf(s, "{Token:%v Kinds:%v Status:%s Reason:%q", r.Token, r.Kinds, r.status(), r.Reason)
	if r.Err != nil {
		fmt.Fprintf(s, " Err:%q", r.Err.Error())
	}
	fmt.Fprint(s, "}")
}

// LogValue logs the result with the token's secret redacted.
func (r PruneResult) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.Any("token", r.Token),
		slog.Any("kinds", r.Kinds),
		slog.String("status", string(r.status())),
		slog.String("reason", r.Reason),
	}
	if r.Err != nil {
		attrs = append(attrs, slog.String("err", r.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the result as {"name","secret","type","environment",
// "projects","kinds","status","outcome","protection","reason","error"},
// with the secret redacted; "protection" only for a protected token and
// "error" only for a failed one. "outcome" holds the status too, under its
// old key, for readers written before "status".
func (r PruneResult) MarshalJSON() ([]byte, error) {
	var msg string
	if r.Err != nil {
		msg = r.Err.Error()
	}
	return json.Marshal(struct {
		Name        string        `json:"name"`
		Secret      string        `json:"secret"`
		Type        string        `json:"type"`
		Environment string        `json:"environment"`
		Projects    []string      `json:"projects"`
		Kinds       []FindingKind `json:"kinds"`
		Status      Status        `json:"status"`
		Outcome     Status        `json:"outcome"`
		Protection  string        `json:"protection,omitempty"`
		Reason      string        `json:"reason"`
		Error       string        `json:"error,omitempty"`
	}{r.Token.TokenName, shownSecret(r.Token), string(r.Token.Type), r.Token.Environment, r.Token.ProjectIDs(),
		r.Kinds, r.status(), r.status(), string(r.Protection), r.Reason, msg})
}

// PruneReport is what Prune did, one PruneResult per token that matched,
// by token name and creation time.
//
// Its printed form (every fmt verb, and slog) and its JSON form,
// {"dryRun":B,"retired":N,"failed":N,"skipped":N,"protected":N,
// "wouldRetire":N,"results":[...]}, show every secret redacted.
type PruneReport struct {
	// DryRun is true when nothing was deleted because PruneOptions.Apply
	// was not set.
	DryRun  bool
	Results []PruneResult
}

// Count returns how many results have status st.
func (r PruneReport) Count(st Status) int {
	n := 0
	for _, res := range r.Results {
		if res.status() == st {
			n++
		}
	}
	return n
}

// Format prints the report with every secret redacted, for every verb.
func (r PruneReport) Format(s fmt.State, _ rune) {
	fmt.Fprintf(s, "{DryRun:%t Results:[", r.DryRun)
	for i, res := range r.Results {
		if i > 0 {
			fmt.Fprint(s, " ")
		}
		fmt.Fprintf(s, "%v", res)
	}
	fmt.Fprint(s, "]}")
}

// LogValue logs the report's counts, and no token.
func (r PruneReport) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("dryRun", r.DryRun),
		slog.Int("retired", r.Count(StatusRetired)),
		slog.Int("failed", r.Count(StatusFailed)),
		slog.Int("skipped", r.Count(StatusSkipped)),
		slog.Int("protected", r.Count(StatusProtected)),
		slog.Int("wouldRetire", r.Count(StatusWouldRetire)),
	)
}

// MarshalJSON writes the report with its counts, every secret redacted.
func (r PruneReport) MarshalJSON() ([]byte, error) {
	results := r.Results
	if results == nil {
		results = []PruneResult{}
	}
	return json.Marshal(struct {
		DryRun      bool          `json:"dryRun"`
		Retired     int           `json:"retired"`
		Failed      int           `json:"failed"`
		Skipped     int           `json:"skipped"`
		Protected   int           `json:"protected"`
		WouldRetire int           `json:"wouldRetire"`
		Results     []PruneResult `json:"results"`
	}{r.DryRun, r.Count(StatusRetired), r.Count(StatusFailed), r.Count(StatusSkipped), r.Count(StatusProtected),
		r.Count(StatusWouldRetire), results})
}

func (o PruneOptions) check() (PruneOptions, error) {
	bad := func(format string, args ...any) (PruneOptions, error) {
		return o, fmt.Errorf("hygiene: %w: %s", unleashadmin.ErrInvalidArgument, fmt.Sprintf(format, args...))
	}
	switch {
	case !o.Expired && o.UnusedFor == 0 && !o.NeverSeen:
		return bad("nothing to prune: set Expired, UnusedFor or NeverSeen")
	case o.UnusedFor != 0 && o.UnusedFor < MinPruneUnusedFor:
		return bad("UnusedFor %s is shorter than a day: Unleash records use only every few minutes (did you mean days?)", o.UnusedFor)
	case o.Parallel < 0 || o.Parallel > MaxParallel:
		return bad("Parallel %d is not between 1 and %d", o.Parallel, MaxParallel)
	}
	if o.Parallel == 0 {
		o.Parallel = unleashadmin.DefaultParallel
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Prune lists the tokens once and retires those that match the classes
// opts asks for (the tokens Audit reports as FindingExpired, FindingUnused
// judged with opts.UnusedFor, FindingNeverSeen), limited to
// opts.NamePrefix. Unless opts.Apply is set it is a dry run and sends
// nothing but the list request.
//
// It never retires the token of the key it runs with, nor an admin token
// unless opts.IncludeAdmin is set: those are reported StatusProtected, with
// the unleashadmin.Protection that keeps them. The key is the Pruner's own
// when it is a *unleashadmin.Client (Client.Protection decides), and
// opts.Key when that is set (unleashadmin.ProtectionFor decides). A Pruner
// that is not a Client, without opts.Key, is refused.
//
// Deletes go out opts.Parallel at a time, each by the token's listed secret
// (under secure token storage, its selector, which Unleash accepts). A
// token is reported retired only when Unleash answered success to its
// delete. When the context ends, no further delete is sent; the tokens not
// attempted are reported failed with the context's error.
//
// Bad options are refused before anything is sent. A failed list is
// returned as the error, with no report. When any delete failed, the report
// comes back together with an error matching ErrPruneIncomplete.
func Prune(ctx context.Context, p Pruner, opts PruneOptions) (*PruneReport, error) {
	if p == nil {
		return nil, fmt.Errorf("hygiene: %w: no Pruner", unleashadmin.ErrInvalidArgument)
	}
	opts, err := opts.check()
	if err != nil {
		return nil, err
	}
	keyed, _ := p.(protector)
	if keyed == nil && strings.TrimSpace(opts.Key) == "" {
		return nil, fmt.Errorf("hygiene: %w: Prune cannot tell which token is the key it runs with: "+
			"give it a *unleashadmin.Client, or set PruneOptions.Key", unleashadmin.ErrInvalidArgument)
	}
	toks, err := p.ListAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	protection := func(t unleashadmin.APIToken) unleashadmin.Protection {
		var ps []unleashadmin.Protection
		if keyed != nil {
			ps = append(ps, keyed.Protection(t, opts.IncludeAdmin))
		}
		if strings.TrimSpace(opts.Key) != "" {
			ps = append(ps, unleashadmin.ProtectionFor(opts.Key, t, opts.IncludeAdmin))
		}
		if slices.Contains(ps, unleashadmin.ProtectedKeyInUse) { // the stronger reason
			return unleashadmin.ProtectedKeyInUse
		}
		return cmp.Or(ps...)
	}
	report := &PruneReport{DryRun: !opts.Apply, Results: candidates(toks, opts, protection)}
	var mu sync.Mutex
	done := func(i int) {
		if opts.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		opts.Progress(report.Results[i])
	}
	var todo []int
	for i := range report.Results {
		if report.Results[i].Status == pending {
			if opts.Apply {
				todo = append(todo, i)
				continue
			}
			report.Results[i].set(StatusWouldRetire)
		}
		done(i)
	}
	deleteAll(ctx, p, report.Results, todo, opts.Parallel, done)
	for i := range report.Results {
		if report.Results[i].Status == pending { // cannot happen; never say retired unasked
			report.Results[i].set(StatusFailed)
			report.Results[i].Err = errors.New("hygiene: not attempted")
		}
	}
	if n := report.Count(StatusFailed); n > 0 {
		return report, fmt.Errorf("%w: %d of %d failed", ErrPruneIncomplete, n, len(todo))
	}
	return report, nil
}

// pending is the status of a token to be deleted until its delete has
// been answered.
const pending Status = ""

// set sets r's status, under the old name too.
func (r *PruneResult) set(st Status) { r.Status, r.Outcome = st, st }

// candidates picks the tokens Prune acts on: the findings of the classes
// asked for. The three classes exclude each other (an expired token has no
// other finding; never seen and unused differ in seenAt), so each token
// comes once.
func candidates(toks []unleashadmin.APIToken, opts PruneOptions, protection func(unleashadmin.APIToken) unleashadmin.Protection) []PruneResult {
	audit := AuditOptions{UnusedFor: opts.UnusedFor, Now: opts.Now}
	audit, _ = audit.withDefaults()
	var out []PruneResult
	for _, f := range findings(toks, opts.Now(), audit) {
		want := f.Kind == FindingExpired && opts.Expired ||
			f.Kind == FindingUnused && opts.UnusedFor != 0 ||
			f.Kind == FindingNeverSeen && opts.NeverSeen
		if !want || !strings.HasPrefix(f.Token.TokenName, opts.NamePrefix) {
			continue
		}
		r := PruneResult{Token: f.Token, Kinds: []FindingKind{f.Kind}, Reason: f.Reason}
		switch prot := protection(f.Token); {
		case prot != unleashadmin.Unprotected:
			r.set(StatusProtected)
			r.Protection, r.Reason = prot, string(prot)+"; "+f.Reason
		case f.Token.Secret == "":
			r.set(StatusSkipped)
			r.Reason = "listed without a secret or selector to delete it by; " + f.Reason
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b PruneResult) int {
		return cmp.Or(strings.Compare(a.Token.TokenName, b.Token.TokenName), a.Token.CreatedAt.Compare(b.Token.CreatedAt))
	})
	return out
}

// deleteAll deletes results[i] for every i of todo, at most parallel at a
// time, and records each status.
func deleteAll(ctx context.Context, p Pruner, results []PruneResult, todo []int, parallel int, done func(int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(parallel, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := &results[i]
				if err := ctx.Err(); err != nil {
					r.set(StatusFailed)
					r.Err = fmt.Errorf("hygiene: not attempted: %w", err)
				} else if err := p.DeleteAPIToken(ctx, r.Token.Secret); err != nil {
					r.set(StatusFailed)
					r.Err = err
				} else {
					r.set(StatusRetired)
				}
				done(i)
			}
		}()
	}
	for _, i := range todo {
		work <- i
	}
	close(work)
	wg.Wait()
}
