package desired

// The retire policy of a file: when a token that a plan would retire (a
// rotated, replaced or duplicate one) goes: at once, or only once nobody
// uses it. The rule itself is the core's (unleashadmin.DecideRetire,
// UnusedPolicy.Check, MinQuiet); this file reads the policy, checks it,
// and asks the rule.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/internal/durations"
	"go.yaml.in/yaml/v3"
)

// RetireWhen says when a token that a plan would retire goes.
type RetireWhen string

// The values of RetirePolicy.When.
const (
	// RetireNow retires a rotated, replaced or duplicate token in the
	// apply that makes or finds its replacement: the behaviour without a
	// policy. The empty RetireWhen means the same.
	RetireNow RetireWhen = "now"
	// RetireUnused retires such a token only once the token that replaces
	// it has been used and it has gone unused for RetirePolicy.Quiet
	// (unleashadmin.DecideRetire), or anyway once the replacement is
	// RetirePolicy.Within old. Until then a plan shows an ActionWait.
	RetireUnused RetireWhen = "unused"
)

// DefaultQuiet is the quiet period of a policy with When RetireUnused and
// no Quiet: the default of rotate --quiet.
const DefaultQuiet = 10 * time.Minute

// RetirePolicy says when an entry's tokens that a plan would retire go. A
// file has one as its default (File.Retire) and an entry may have its own
// (Entry.Retire), which replaces the default as a whole. The zero policy
// is RetireNow.
//
// With RetireUnused it applies to the tokens a plan retires because a
// newer token of the entry takes over from them: the old token of a
// rotate or a replace, a token of another scope than the entry's, a
// duplicate (an older live token of the entry's scope, also one older than
// the token the sink holds). It does not apply to an expired token (it
// works for nobody), to a token retired by the file's prune prefix, nor to
// a leftover of a failed or concurrent run (a token newer than the one the
// sink holds, which the sink never held: the settle rule retires it);
// those go as without a policy. The replacement it waits for is the token
// the entry keeps, or the new token the plan makes.
//
// Its JSON form is {"when":"unused","quiet":"10m","within":"7d"},
// durations as text, zero ones and Line left out.
type RetirePolicy struct {
	// When is RetireNow (or empty) or RetireUnused.
	When RetireWhen `json:"when"`
	// Quiet is, with RetireUnused, how long the old token must have gone
	// unused (seenAt, or for a token never used createdAt, at least this
	// long ago); DefaultQuiet when zero. It must be at least the delay
	// with which the server records a use, plus a margin
	// (unleashadmin.MinQuiet: 20 s under secure token storage, 3m15s
	// otherwise); NewPlan checks it against each token of the entry.
	Quiet time.Duration `json:"quiet,omitempty"`
	// Within, when set (with RetireUnused), retires the old token anyway
	// once its replacement was made this long ago, in use or not: the
	// plan's reason and Action.Decision say so when it was still in use.
	// Not shorter than Quiet.
	Within time.Duration `json:"within,omitempty"`
	// Line is the line of the policy in the file it was read from; zero
	// for one built in code. It is not marshalled.
	Line int `json:"-"`
}

// unused returns the core's policy for p, and whether p waits for its
// tokens to go unused at all.
func (p RetirePolicy) unused() (unleashadmin.UnusedPolicy, bool) {
	if p.When != RetireUnused {
		return unleashadmin.UnusedPolicy{}, false
	}
	q := p.Quiet
	if q == 0 {
		q = DefaultQuiet
	}
	return unleashadmin.UnusedPolicy{Quiet: q, Within: p.Within}, true
}

// shortestQuiet is the shortest quiet period of any token on any server:
// a use recorded at once (secure token storage), plus the margin.
func shortestQuiet() time.Duration {
	return unleashadmin.MinQuiet(unleashadmin.ServerInfo{}, unleashadmin.APIToken{Secure: true})
}

// check says what is wrong with p, without quoting any of its values (a
// file's errors quote none), or nil. What depends on the server (a quiet
// period shorter than its recording delay) is NewPlan's to check.
func (p RetirePolicy) check() error {
	switch p.When {
	case "", RetireNow:
		if p.Quiet != 0 || p.Within != 0 {
			return errors.New("retire: quiet and within go with when: unused")
		}
		return nil
	case RetireUnused:
	default:
		return errors.New("retire.when: want now or unused")
	}
	up, _ := p.unused()
	switch {
	case p.Quiet < 0:
		return errors.New("retire.quiet is negative")
	case p.Within < 0:
		return errors.New("retire.within is negative")
	case up.Quiet < shortestQuiet():
		return fmt.Errorf("retire.quiet is shorter than %s: no Unleash records a token's use sooner, plus a margin (%s in default token storage)",
			durations.Format(shortestQuiet()), durations.Format(unleashadmin.MinQuiet(unleashadmin.ServerInfo{}, unleashadmin.APIToken{})))
	case p.Within > 0 && p.Within < up.Quiet:
		what := "retire.quiet"
		if p.Quiet == 0 {
			what = "the default quiet period, " + durations.Format(DefaultQuiet)
		}
		return fmt.Errorf("retire.within is shorter than %s: the old token would be retired before it could be seen unused", what)
	}
	return nil
}

// retireOf returns the policy of e: its own, else the file's default.
func (f *File) retireOf(e *Entry) RetirePolicy {
	if e.Retire != nil {
		return *e.Retire
	}
	return f.Retire
}

// policyJSON is a RetirePolicy in the file format, as JSON and YAML.
type policyJSON struct {
	When   string `json:"when" yaml:"when"`
	Quiet  string `json:"quiet,omitempty" yaml:"quiet,omitempty"`
	Within string `json:"within,omitempty" yaml:"within,omitempty"`
}

func (p RetirePolicy) form() policyJSON {
	when := p.When
	if when == "" {
		when = RetireNow
	}
	return policyJSON{When: string(when), Quiet: durationText(p.Quiet), Within: durationText(p.Within)}
}

// MarshalJSON writes the policy in the file format:
// {"when":"unused","quiet":"10m","within":"7d"}, an empty When as "now".
func (p RetirePolicy) MarshalJSON() ([]byte, error) { return json.Marshal(p.form()) }

// UnmarshalJSON reads one policy of the file format, as strictly as Parse
// does. A policy read alone has no line. A null leaves p as it is.
func (p *RetirePolicy) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	doc, err := parseYAML(data, "an empty retire policy")
	if err != nil {
		return err
	}
	got, err := decodeRetire(documentRoot(doc))
	if err != nil {
		return err
	}
	got.Line = 0
	*p = got
	return nil
}

// MarshalYAML writes the policy in the file format, on one line:
// {when: unused, quiet: 10m}.
func (p RetirePolicy) MarshalYAML() (any, error) {
	var n yaml.Node
	if err := n.Encode(p.form()); err != nil {
		return nil, err
	}
	n.Style = yaml.FlowStyle
	return &n, nil
}

var retireKeys = []string{"when", "quiet", "within"}

// decodeRetire reads a retire mapping, and refuses one that check
// refuses, at its line.
func decodeRetire(n *yaml.Node) (RetirePolicy, error) {
	p := RetirePolicy{Line: n.Line}
	hasWhen := false
	err := fields(n, "retire", retireKeys, func(key string, _, v *yaml.Node) error {
		var err error
		switch key {
		case "when":
			hasWhen = true
			var s string
			if s, err = str(v, "retire.when"); err != nil {
				return err
			}
			switch w := RetireWhen(s); w {
			case RetireNow, RetireUnused:
				p.When = w
			default:
				return nodeErr(v, "retire.when: want now or unused")
			}
		case "quiet":
			p.Quiet, err = duration(v, "retire.quiet")
		case "within":
			p.Within, err = duration(v, "retire.within")
		}
		return err
	})
	if err != nil {
		return p, err
	}
	if !hasWhen {
		return p, nodeErr(n, `a retire without "when": say now or unused (an entry's retire replaces the file's as a whole)`)
	}
	if err := p.check(); err != nil {
		return p, nodeErr(n, "%v", err)
	}
	return p, nil
}

// needsServerMode reports whether the answer to a quiet period of f
// depends on the server's token storage mode: some entry waits with a
// quiet period shorter than default storage allows.
func (f *File) needsServerMode() bool {
	floor := unleashadmin.MinQuiet(unleashadmin.ServerInfo{}, unleashadmin.APIToken{})
	for i := range f.Tokens {
		if up, ok := f.retireOf(&f.Tokens[i]).unused(); ok && up.Quiet < floor {
			return true
		}
	}
	return false
}

// checkQuiet refuses, before anything is changed, an entry whose quiet
// period is shorter than the server allows for one of its tokens
// (unleashadmin.UnusedPolicy.Check with info, the server's settings; zero
// when not read): each token the list holds of the entry's name and, with
// made, a token the entry would be given (in secure token storage when
// the server has it on).
func checkQuiet(f *File, toks []unleashadmin.APIToken, info unleashadmin.ServerInfo, made bool) error {
	var byName map[string][]*unleashadmin.APIToken
	for i := range f.Tokens {
		e := &f.Tokens[i]
		up, ok := f.retireOf(e).unused()
		if !ok {
			continue
		}
		if byName == nil {
			byName = make(map[string][]*unleashadmin.APIToken, len(toks))
			for j := range toks {
				byName[toks[j].TokenName] = append(byName[toks[j].TokenName], &toks[j])
			}
		}
		where := quote(e.Name)
		if e.Line > 0 {
			where = fmt.Sprintf("%s (line %d)", where, e.Line)
		}
		if made {
			if err := up.Check(info, unleashadmin.APIToken{Secure: info.SecureTokens}); err != nil {
				return fmt.Errorf("desired: entry %s: retire: for the tokens it is given: %w", where, err)
			}
		}
		for _, t := range byName[e.Name] {
			if err := up.Check(info, *t); err != nil {
				return fmt.Errorf("desired: entry %s: retire: for its token %s: %w", where, shownSecret(*t), err)
			}
		}
	}
	return nil
}

// retireUnused retires t, which repl takes over from, by the entry's
// policy: as retire does under RetireNow (and for a protected token);
// under RetireUnused only when unleashadmin.DecideRetire says so at the
// plan's time, and otherwise an ActionWait that says why. reason says
// what t is.
func (pl *planner) retireUnused(unit int, e *Entry, t, repl *unleashadmin.APIToken, reason string) {
	up, ok := pl.file.retireOf(e).unused()
	if !ok || pl.protected(t) != unleashadmin.Unprotected {
		pl.retire(unit, e.Name, e, t, reason)
		return
	}
	if g := pl.opts.GracePeriod; g > 0 {
		if _, change := unleashadmin.GraceExpiry(*t, pl.now, g); !change {
			return // retired with a grace period already: it expires within it
		}
	}
	d := unleashadmin.DecideRetire(*t, *repl, pl.now, up)
	if !d.Retire {
		pl.actions = append(pl.actions, Action{Kind: ActionWait, Name: e.Name, Token: t, Entry: e,
			Reason: reason + "; " + d.Reason, Decision: &d, unit: unit})
		return
	}
	if a := pl.retire(unit, e.Name, e, t, reason+"; "+d.Reason); a != nil {
		a.Decision = &d
	}
}

// replacement is the token that takes over from the others of an entry
// whose first action is first: the token kept (ActionKeep,
// ActionDeliver), else the one the action makes, which is made at the
// plan's time and cannot have been used yet.
func (pl *planner) replacement(e *Entry, first Action) *unleashadmin.APIToken {
	if first.Token != nil && !first.Makes() {
		return first.Token
	}
	return &unleashadmin.APIToken{TokenName: e.Name, CreatedAt: pl.now}
}

// waitForOld makes the rotate or replace at pl.actions[i] leave its old
// token live, when the entry's policy is RetireUnused and the token works
// (an expired one is retired as without a policy), and adds the
// ActionWait of that token: its replacement is made by this plan, so it
// cannot have been used yet.
func (pl *planner) waitForOld(i int, e *Entry) {
	a := &pl.actions[i]
	up, ok := pl.file.retireOf(e).unused()
	if !ok || !a.retireOld || a.Token == nil || a.Token.ExpiredAt(pl.now) {
		return
	}
	a.retireOld, a.ExpiresAt = false, nil
	a.Reason += "; the old token is retired once unused (retire: when unused)"
	t, unit := a.Token, a.unit
	d := unleashadmin.DecideRetire(*t, *pl.replacement(e, *a), pl.now, up)
	pl.actions = append(pl.actions, Action{Kind: ActionWait, Name: e.Name, Token: t, Entry: e,
		Reason: "replaced by the new token of this " + string(a.Kind) + "; " + d.Reason, Decision: &d, unit: unit})
}
