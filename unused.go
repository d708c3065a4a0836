package unleashadmin

// This file holds the rule of retiring a replaced token only once nobody
// uses it: how late Unleash records a token's use, which quiet period that
// allows, the decision on an old token and its replacement at a time, and
// a watch that retires the old token when the decision says so. Package
// desired, the command and RotateAPIToken call these.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
)

// How late Unleash records a token's use in its seenAt, measured on 5.12.8,
// 6.10.1, 7.6.5 and 8.2.0 with and without secure token storage (the
// measurement and the source it agrees with are in docs/SERVERS.md, "When
// Unleash records a token's use").
const (
	// SeenAtJobInterval is how often Unleash writes the uses of tokens in
	// default storage: it keeps the secrets that authenticated a request
	// in memory, and a job writes them every three minutes from the
	// server's start, with the time of the write as seenAt. A use shows at
	// the next write: measured 0.5 s to 2 min 58.9 s after the use, never
	// later than three minutes. Tokens in default storage on a server with
	// secure token storage on (its INIT_ADMIN_API_TOKENS key) go through
	// the same job.
	SeenAtJobInterval = 3 * time.Minute
	// SecureSeenAtDelay is how late a use of a token in secure token
	// storage (Unleash 8.1 and later with UNLEASH_EXPERIMENTAL_SECURE_TOKEN,
	// v2 tokens) may show: Unleash writes its seenAt at the use, in an
	// UPDATE it does not wait for; measured 3 to 29 ms after the use and
	// listed at the first look (at most 0.5 s). Five seconds leave room
	// for a busy database.
	SecureSeenAtDelay = 5 * time.Second
	// QuietMargin is added to the recording delay to give the shortest
	// quiet period MinQuiet accepts. It covers what the measured bound
	// leaves out: the write itself and the list that reads it (well under
	// a second), a job run that a busy server starts late (seconds), and a
	// difference between the server's clock, which writes seenAt, and the
	// caller's, which decides (milliseconds between hosts that keep time;
	// RotateAPIToken also corrects a server clock that is behind, by the
	// new token's createdAt).
	QuietMargin = 15 * time.Second
	// DefaultUnusedPollInterval is UnusedWait.PollInterval when it is
	// zero: how often RetireWhenUnused reads the two tokens. One list of
	// the tokens of a name each time; seenAt changes no faster than every
	// few seconds under secure storage and every three minutes otherwise.
	DefaultUnusedPollInterval = 15 * time.Second
)

// ErrStillInUse is matched by errors.Is when RetireWhenUnused, or
// RotateAPIToken with WaitUnused, gave up waiting (its time ran out, or its
// context ended) before the old token could be retired by the rule of
// DecideRetire: the old token is left live. The error says when it was
// last used and why it waited.
var ErrStillInUse = errors.New("the old token was not seen unused")

// UseRecordingDelay returns how late a use of tok may show in its seenAt on
// the server info describes: SecureSeenAtDelay for a token in secure token
// storage (listed with Secure set, or held by its full v2 secret on a
// server whose info says SecureTokens), SeenAtJobInterval for every other
// token, on every version measured. A zero info (not read) counts as
// default storage unless tok itself says it is stored securely.
func UseRecordingDelay(info ServerInfo, tok APIToken) time.Duration {
	if storedSecurely(info, tok) {
		return SecureSeenAtDelay
	}
	return SeenAtJobInterval
}

// storedSecurely reports whether tok's uses are written at once: a token
// in secure token storage.
func storedSecurely(info ServerInfo, tok APIToken) bool {
	if tok.Secure {
		return true
	}
	_, v2 := Selector(tok.Secret)
	return info.SecureTokens && v2
}

// MinQuiet is the shortest UnusedPolicy.Quiet that UnusedPolicy.Check
// accepts for old on the server info describes: the recording delay
// (UseRecordingDelay) plus QuietMargin. A shorter quiet period could be
// made of uses that have not been written yet: a token used all the time
// could look unused. It is 20 s under secure token storage and 3 min 15 s
// otherwise.
func MinQuiet(info ServerInfo, old APIToken) time.Duration {
	return UseRecordingDelay(info, old) + QuietMargin
}

// UnusedPolicy says when a token that has been replaced is retired: once
// its replacement has been used and it has not been used for Quiet; or,
// when Within is set, anyway once the replacement is Within old.
//
// What it guarantees: a service that uses the old token at least once
// every Quiet minus the recording delay (UseRecordingDelay: 3 minutes in
// default storage) keeps it from being retired, until Within. What it
// cannot see: a service that was given the new secret but has not used it
// (the replacement's first use by any service counts), a service idle for
// longer than that, and uses Unleash never records (a server stopped
// before its seenAt job wrote them; tokens used through Unleash Edge
// before Unleash 8.2, which reports their uses only from 8.2 on).
//
// Its JSON form is {"quiet":"10m","within":"7d"}, durations as text.
type UnusedPolicy struct {
	// Quiet is how long the old token must have gone unused: seenAt (or,
	// for a token never used, createdAt) at least this long before now.
	// At least MinQuiet.
	Quiet time.Duration `json:"quiet"`
	// Within, when not zero, retires the old token anyway once the
	// replacement was made this long ago, in use or not
	// (RetireDecision.StillInUse says so). Not shorter than Quiet.
	Within time.Duration `json:"within,omitempty"`
}

// MarshalJSON writes the policy as {"quiet":"10m","within":"7d"}, within
// left out when zero.
func (p UnusedPolicy) MarshalJSON() ([]byte, error) {
	out := struct {
		Quiet  string `json:"quiet"`
		Within string `json:"within,omitempty"`
	}{Quiet: durations.Format(p.Quiet)}
	if p.Within != 0 {
		out.Within = durations.Format(p.Within)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON writes; a duration that is not text
// such as "10m" or "7d" is an ErrInvalidArgument error.
func (p *UnusedPolicy) UnmarshalJSON(b []byte) error {
	var in struct {
		Quiet  *string `json:"quiet"`
		Within *string `json:"within"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return invalidArg("UnusedPolicy", "%v", err)
	}
	for _, f := range []struct {
		name string
		text *string
		d    *time.Duration
	}{{"quiet", in.Quiet, &p.Quiet}, {"within", in.Within, &p.Within}} {
		if f.text == nil {
			continue
		}
		d, err := durations.Parse(*f.text)
		if err != nil {
			return invalidArg("UnusedPolicy", "%s: %v", f.name, err)
		}
		*f.d = d
	}
	return nil
}

// validate checks what does not depend on the server.
func (p UnusedPolicy) validate() error {
	const op = "UnusedPolicy"
	switch {
	case p.Quiet <= 0:
		return invalidArg(op, "quiet must be longer than 0, not %s", p.Quiet)
	case p.Within < 0:
		return invalidArg(op, "within must not be negative, not %s", p.Within)
	case p.Within > 0 && p.Within < p.Quiet:
		return invalidArg(op, "within %s is shorter than quiet %s: the old token would be retired before it could be seen unused",
			durations.Format(p.Within), durations.Format(p.Quiet))
	}
	return nil
}

// Check refuses, with an ErrInvalidArgument error that says why, a policy
// that cannot tell whether old is unused on the server info describes: a
// Quiet shorter than MinQuiet (the delay with which Unleash records a use
// of old, plus QuietMargin), a Quiet that is not positive, a negative
// Within, or a Within shorter than Quiet. It sends nothing.
func (p UnusedPolicy) Check(info ServerInfo, old APIToken) error {
	if err := p.validate(); err != nil {
		return err
	}
	if min := MinQuiet(info, old); p.Quiet < min {
		how := "in default token storage a job writes a token's use to seenAt every 3 minutes"
		if storedSecurely(info, old) {
			how = "in secure token storage a token's use is written to seenAt at once"
		}
		server := "Unleash"
		if info.Version != "" {
			server += " " + info.Version
		}
		return invalidArg("UnusedPolicy", "quiet %s is shorter than %s: %s records a use of this token up to %s late (%s), plus a margin of %s",
			durations.Format(p.Quiet), durations.Format(min), server, durations.Format(UseRecordingDelay(info, old)), how, durations.Format(QuietMargin))
	}
	return nil
}

// RetireDecision is what DecideRetire decided, and why.
type RetireDecision struct {
	// Retire is true when the old token is to be retired now.
	Retire bool `json:"retire"`
	// StillInUse is true when the old token was used within the quiet
	// period (its seenAt is less than Quiet before now): a decision to
	// retire it anyway (WithinPassed) retires a token in use.
	StillInUse bool `json:"stillInUse"`
	// WithinPassed is true when the replacement was made Within or longer
	// ago: the old token is retired whatever its use.
	WithinPassed bool `json:"withinPassed"`
	// ReplacementUsed is true when the replacement has been used: its
	// seenAt is set and not before it was made.
	ReplacementUsed bool `json:"replacementUsed"`
	// LastUsed is the old token's seenAt; nil when it was never used.
	LastUsed *time.Time `json:"lastUsed"`
	// Reason says, in words, when the old token was last used and why it
	// goes or waits.
	Reason string `json:"reason"`
}

// DecideRetire is the rule of retiring old, which replacement replaces,
// at time now under policy p:
//
//   - retire when the replacement has been used (seenAt set, and not
//     before it was made) and the old token has not been used for p.Quiet
//     (its seenAt, or for a token never used its createdAt, at least
//     p.Quiet before now);
//   - otherwise, when p.Within is set and the replacement was made
//     p.Within or longer ago, retire anyway (WithinPassed), noting whether
//     the old token is still in use (StillInUse);
//   - otherwise wait.
//
// It reads only the two tokens' createdAt and seenAt, as a list returns
// them, and now: it keeps no state, so any later run decides the same from
// what the server says. p is expected to have passed Check; a p.Quiet that
// is not positive never retires. A replacement that is old itself never
// retires it.
//
// Clocks: createdAt and seenAt are the server's clock, now is the
// caller's. A seenAt after now (a server clock ahead) counts as a use at
// now. A caller clock ahead of the server's makes the old token look
// unused for longer than it was; QuietMargin allows for the difference of
// clocks that keep time, and a caller that knows the server is behind
// passes now minus the difference (RotateAPIToken does).
func DecideRetire(old, replacement APIToken, now time.Time, p UnusedPolicy) RetireDecision {
	d := RetireDecision{LastUsed: cloneTime(old.SeenAt)}
	if p.Quiet <= 0 {
		d.Reason = fmt.Sprintf("waits: the quiet period must be longer than 0, not %s", p.Quiet)
		return d
	}
	if old.Secret != "" && (old.Matches(replacement.Secret) || replacement.Matches(old.Secret)) {
		d.Reason = "waits: the replacement is the old token itself"
		return d
	}
	last := oldLastUse(old)
	quietSince := old.CreatedAt
	if old.SeenAt != nil {
		quietSince = *old.SeenAt
	}
	if quietSince.After(now) {
		quietSince = now
	}
	quiet := quietSince.Add(p.Quiet).Compare(now) <= 0
	d.StillInUse = old.SeenAt != nil && !quiet
	d.ReplacementUsed = replacement.SeenAt != nil && !replacement.SeenAt.Before(replacement.CreatedAt)
	withinAt := replacement.CreatedAt.Add(p.Within)
	d.WithinPassed = p.Within > 0 && withinAt.Compare(now) <= 0

	var repl string
	switch {
	case d.ReplacementUsed:
		repl = "the replacement was used " + stampAgo(*replacement.SeenAt, now)
	case replacement.SeenAt != nil:
		repl = "the replacement has not been used since it was made " + stampAgo(replacement.CreatedAt, now) +
			" (its seenAt " + stamp(*replacement.SeenAt) + " is older)"
	default:
		repl = "the replacement has not been used yet"
	}
	switch {
	case d.ReplacementUsed && quiet:
		d.Retire = true
		d.Reason = fmt.Sprintf("retire: %s, and the old token %s, unused for at least the quiet period of %s", repl, last(now), durations.Format(p.Quiet))
	case d.WithinPassed:
		d.Retire = true
		why := "the old token " + last(now)
		switch {
		case d.StillInUse:
			why = "the old token is still in use: " + last(now) + ", within the quiet period of " + durations.Format(p.Quiet)
		case !d.ReplacementUsed:
			why = repl + "; " + why
		}
		d.Reason = fmt.Sprintf("retire anyway: the replacement was made %s, %s or longer ago (within); %s", stamp(replacement.CreatedAt), durations.Format(p.Within), why)
	default:
		var waits []string
		if !d.ReplacementUsed {
			waits = append(waits, repl)
		}
		switch {
		case d.StillInUse:
			waits = append(waits, fmt.Sprintf("the old token %s, within the quiet period of %s (unused from %s at the earliest)",
				last(now), durations.Format(p.Quiet), stamp(quietSince.Add(p.Quiet))))
		case !quiet:
			waits = append(waits, fmt.Sprintf("the old token was never used, but was made %s, less than the quiet period of %s ago: a use may not be recorded yet",
				stampAgo(old.CreatedAt, now), durations.Format(p.Quiet)))
		default:
			waits = append(waits, "the old token "+last(now))
		}
		d.Reason = "waits: " + strings.Join(waits, "; ")
		if p.Within > 0 {
			d.Reason += fmt.Sprintf("; retired anyway from %s (within %s)", stamp(withinAt), durations.Format(p.Within))
		}
	}
	return d
}

// oldLastUse returns the words for the old token's last use at a time.
func oldLastUse(old APIToken) func(now time.Time) string {
	return func(now time.Time) string {
		if old.SeenAt == nil {
			return "was never used (made " + stampAgo(old.CreatedAt, now) + ")"
		}
		return "was last used " + stampAgo(*old.SeenAt, now)
	}
}

// stamp writes a time as the reasons show it: RFC 3339 in UTC.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// stampAgo writes a time and how long before now it was.
func stampAgo(t, now time.Time) string {
	ago := now.Sub(t).Round(time.Second)
	switch {
	case ago < 0:
		return stamp(t) + ", " + durations.Format(-ago) + " from now by this clock"
	case ago == 0:
		return stamp(t) + ", just now"
	}
	return stamp(t) + ", " + durations.Format(ago) + " ago"
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// UnusedWait says how RetireWhenUnused, or RotateAPIToken with WaitUnused,
// watches the old token.
type UnusedWait struct {
	// Policy is the rule (DecideRetire); it must pass Check.
	Policy UnusedPolicy
	// Timeout bounds the watch; required. When it ends before the rule
	// says retire, the old token is left live and the error matches
	// ErrStillInUse.
	Timeout time.Duration
	// PollInterval is the time between two looks at the tokens;
	// DefaultUnusedPollInterval when zero.
	PollInterval time.Duration
	// Progress, when set, is called with each decision, before the old
	// token is retired on one that says so: for a progress line.
	Progress func(RetireDecision)
}

// UnusedRetirement is what RetireWhenUnused did.
type UnusedRetirement struct {
	// Decision is the last decision, the one that retired the old token
	// or the one it gave up on.
	Decision RetireDecision
	// Retirement is what retiring the old token did; nil when it was not
	// retired.
	Retirement *Retirement
	// Gone is true when the old token was no longer listed: someone else
	// retired it, and nothing was done.
	Gone bool
	// Looks is how many times the tokens were read.
	Looks int
}

// RetireWhenUnused watches old and its replacement, reading them by name
// (GetAPITokensByName, once per look when they share their name) every
// w.PollInterval, and retires old with RetireAPIToken and opts once
// DecideRetire, at opts.Now, says so. It ends:
//
//   - with the Retirement, when old was retired;
//   - with Gone and no error, when old is no longer listed;
//   - with an error matching ErrStillInUse, old left live, when w.Timeout
//     passed or ctx ended first (the context's error is wrapped too); the
//     last decision is returned with it;
//   - with an error matching ErrNotFound, old left live, when the
//     replacement is no longer listed: nothing would take over from old;
//   - with the error of a failed list or retire.
//
// w.Policy is checked against old (UnusedPolicy.Check) before anything is
// retired. Like RetireAPIToken, it does not check whether old may be
// retired: see Client.Protection.
func (c *Client) RetireWhenUnused(ctx context.Context, old, replacement APIToken, w UnusedWait, opts RetireOptions) (*UnusedRetirement, error) {
	const op = "RetireWhenUnused"
	if err := required(op, "old.Secret", old.Secret, "old.TokenName", old.TokenName,
		"replacement.Secret", replacement.Secret, "replacement.TokenName", replacement.TokenName); err != nil {
		return nil, err
	}
	if err := c.checkWait(ctx, op, old, replacement, w, opts); err != nil {
		return nil, err
	}
	res, err := c.retireWhenUnused(ctx, old, replacement, w, opts)
	if err != nil {
		err = fmt.Errorf("unleashadmin: %s: %w", op, err)
	}
	return res, err
}

// checkWait refuses what RetireWhenUnused cannot do, before anything
// changes: the same token twice, a bad grace or wait, a policy that fails
// Check for old (asking the server for its info only when old holds a
// full v2 secret that could make a shorter quiet acceptable).
func (c *Client) checkWait(ctx context.Context, op string, old, replacement APIToken, w UnusedWait, opts RetireOptions) error {
	switch {
	case old.Matches(replacement.Secret) || replacement.Matches(old.Secret):
		return invalidArg(op, "the replacement is the old token itself")
	case opts.GracePeriod < 0:
		return invalidArg(op, "GracePeriod %s is negative", opts.GracePeriod)
	case w.Timeout <= 0:
		return invalidArg(op, "UnusedWait.Timeout must be longer than 0: a watch needs a bound")
	case w.PollInterval < 0:
		return invalidArg(op, "UnusedWait.PollInterval %s is negative", w.PollInterval)
	}
	return c.checkPolicy(ctx, w.Policy, old)
}

// checkPolicy is UnusedPolicy.Check for old, with the server's info read
// only when it can change the answer.
func (c *Client) checkPolicy(ctx context.Context, p UnusedPolicy, old APIToken) error {
	err := p.Check(ServerInfo{}, old)
	if _, v2 := Selector(old.Secret); err == nil || !v2 || old.Secure || p.validate() != nil {
		return err
	}
	info, ierr := c.ServerInfo(ctx)
	if ierr != nil {
		return fmt.Errorf("%w (reading the server's token storage mode failed: %w)", err, ierr)
	}
	return p.Check(*info, old)
}

// retireWhenUnused is RetireWhenUnused after its checks; its errors name
// no operation, for the caller to add.
func (c *Client) retireWhenUnused(ctx context.Context, old, replacement APIToken, w UnusedWait, opts RetireOptions) (*UnusedRetirement, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	interval := w.PollInterval
	if interval == 0 {
		interval = DefaultUnusedPollInterval
	}
	wctx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	res := &UnusedRetirement{}
	for {
		lo, lr, err := c.lookBoth(ctx, old, replacement)
		if err != nil && ctx.Err() != nil {
			return res, gaveUp(ctx, old, res.Decision)
		}
		if err != nil {
			return res, fmt.Errorf("reading the tokens failed, so the old token %s is left live: %w", old.Redacted().Secret, err)
		}
		res.Looks++
		if lo == nil {
			res.Gone = true
			return res, nil
		}
		if lr == nil {
			return res, fmt.Errorf("%w: the replacement %s is no longer listed, so the old token %s is left live",
				ErrNotFound, replacement.Redacted().Secret, old.Redacted().Secret)
		}
		res.Decision = DecideRetire(*lo, *lr, now(), w.Policy)
		if w.Progress != nil {
			w.Progress(res.Decision)
		}
		if res.Decision.Retire {
			t := old
			t.ExpiresAt = lo.ExpiresAt
			if t.Project == "" && len(t.Projects) == 0 {
				t.Project, t.Projects = lo.Project, lo.Projects
			}
			ret, err := c.RetireAPIToken(ctx, t, opts)
			if err != nil {
				return res, err
			}
			res.Retirement = ret
			return res, nil
		}
		if ctx.Err() != nil {
			return res, gaveUp(ctx, old, res.Decision)
		}
		if wctx.Err() != nil {
			return res, fmt.Errorf("%w in the %s watched, so %s is left live: %s",
				ErrStillInUse, durations.Format(w.Timeout), old.Redacted().Secret, res.Decision.Reason)
		}
		timer := time.NewTimer(interval)
		select {
		case <-wctx.Done():
			// One more look when the watch's own time is up; none when
			// the caller's context ended.
		case <-timer.C:
		}
		timer.Stop()
		if ctx.Err() != nil {
			return res, gaveUp(ctx, old, res.Decision)
		}
	}
}

// gaveUp is the error of a watch whose caller's context ended.
func gaveUp(ctx context.Context, old APIToken, d RetireDecision) error {
	reason := d.Reason
	if reason == "" {
		reason = "its use was not read yet"
	}
	return fmt.Errorf("%w (%w), so %s is left live: %s", ErrStillInUse, context.Cause(ctx), old.Redacted().Secret, reason)
}

// lookBoth reads the tokens of old's name (and of the replacement's, when
// it differs) and returns each as listed; nil for one that is not.
func (c *Client) lookBoth(ctx context.Context, old, replacement APIToken) (lo, lr *APIToken, err error) {
	list, err := c.GetAPITokensByName(ctx, old.TokenName)
	if err != nil {
		return nil, nil, err
	}
	if replacement.TokenName != old.TokenName {
		more, err := c.GetAPITokensByName(ctx, replacement.TokenName)
		if err != nil {
			return nil, nil, err
		}
		list = append(list, more...)
	}
	lo, _ = FindAPIToken(list, old.Secret)
	lr, _ = FindAPIToken(list, replacement.Secret)
	return lo, lr, nil
}
