package desired_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
	"go.yaml.in/yaml/v3"
)

// TestParseRetirePolicy: the file's default policy and an entry's own are
// read, an entry without one takes the default, and the file marshals to
// JSON and YAML in its own form and back.
func TestParseRetirePolicy(t *testing.T) {
	t.Parallel()
	f, err := desired.Parse([]byte(`retire:
  when: unused
  quiet: 10m
  within: 7d
tokens:
  - name: checkout
    type: backend
    maxAge: 30d
    retire: {when: unused, quiet: 30m, within: 3d}
  - name: web
    type: frontend
  - name: batch
    type: client
    retire: {when: now}
  - name: search
    type: client
    retire: {when: unused}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := desired.RetirePolicy{When: desired.RetireUnused, Quiet: 10 * time.Minute, Within: 7 * day, Line: 2}
	if f.Retire != want {
		t.Errorf("the file's policy %+v, want %+v", f.Retire, want)
	}
	for i, w := range []*desired.RetirePolicy{
		{When: desired.RetireUnused, Quiet: 30 * time.Minute, Within: 3 * day, Line: 9},
		nil,
		{When: desired.RetireNow, Line: 14},
		{When: desired.RetireUnused, Line: 17},
	} {
		if got := f.Tokens[i].Retire; !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %+v, want %+v", f.Tokens[i].Name, got, w)
		}
	}

	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"retire":{"when":"unused","quiet":"10m","within":"7d"}`, `"retire":{"when":"unused","quiet":"30m","within":"3d"}`,
		`"retire":{"when":"now"}`, `"retire":{"when":"unused"}`} {
		if !strings.Contains(string(js), s) {
			t.Errorf("JSON %s lacks %s", js, s)
		}
	}
	ym, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ym), "retire: {when: unused, quiet: 30m, within: 3d}") || !strings.Contains(string(ym), "retire: {when: unused, quiet: 10m, within: 7d}") {
		t.Errorf("YAML:\n%s", ym)
	}
	for what, data := range map[string][]byte{"JSON": js, "YAML": ym} {
		again, err := desired.Parse(data)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		again.Retire.Line, f.Retire.Line = 0, 0
		for i := range again.Tokens {
			again.Tokens[i].Line, f.Tokens[i].Line = 0, 0
			if again.Tokens[i].Retire != nil {
				again.Tokens[i].Retire.Line = 0
			}
			if f.Tokens[i].Retire != nil {
				f.Tokens[i].Retire.Line = 0
			}
		}
		if !reflect.DeepEqual(again, f) {
			t.Errorf("%s read back as %+v, want %+v", what, again, f)
		}
	}
	var p desired.RetirePolicy
	if err := json.Unmarshal([]byte(`{"when":"unused","within":"2d"}`), &p); err != nil || p != (desired.RetirePolicy{When: desired.RetireUnused, Within: 2 * day}) {
		t.Errorf("json.Unmarshal: %+v, %v", p, err)
	}
	if err := json.Unmarshal([]byte(`{"when":"later"}`), &p); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("json.Unmarshal of a bad policy: %v", err)
	}
}

// TestRetirePolicyErrorsNameTheLine: a bad policy is a FileError at its
// line, at parse time, and quotes no value of the file.
func TestRetirePolicyErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	const secret = "default:production.5f3a9c1e7b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e"
	entry := "tokens:\n  - name: a\n    type: client\n"
	for _, tc := range []struct {
		name, file string
		line       int
		msg        string
	}{
		{"unknown when", entry + "    retire:\n      when: later\n", 5, "retire.when: want now or unused"},
		{"when a secret", entry + "    retire: {when: \"" + secret + "\"}\n", 4, "retire.when: want now or unused"},
		{"no when", entry + "    retire:\n      quiet: 10m\n", 5, `a retire without "when"`},
		{"negative quiet", entry + "    retire: {when: unused, quiet: -10m}\n", 4, "retire.quiet must be positive"},
		{"negative within", "retire:\n  when: unused\n  within: -1d\ntokens: []\n", 3, "retire.within must be positive"},
		{"within shorter than quiet", entry + "    retire:\n      when: unused\n      quiet: 1h\n      within: 30m\n", 5,
			"retire.within is shorter than retire.quiet: the old token would be retired before it could be seen unused"},
		{"within shorter than the default quiet", "tokens: []\nretire: {when: unused, within: 5m}\n", 2,
			"retire.within is shorter than the default quiet period, 10m"},
		{"quiet below any server's delay", entry + "    retire: {when: unused, quiet: 10s}\n", 4,
			"retire.quiet is shorter than 20s: no Unleash records a token's use sooner, plus a margin (3m15s in default token storage)"},
		{"quiet with when now", "tokens: []\nretire:\n  when: now\n  quiet: 10m\n", 3, "retire: quiet and within go with when: unused"},
		{"unknown key", entry + "    retire: {when: unused, quite: 10m}\n", 4, `unknown key in retire (want when, quiet, within; did you mean "quiet"?)`},
		{"a secret as a key", entry + "    retire: {when: unused, \"" + secret + "\": 10m}\n", 4, "unknown key in retire"},
		{"quiet a secret", entry + "    retire: {when: unused, quiet: \"" + secret + "\"}\n", 4, "retire.quiet: bad duration"},
		{"not a mapping", entry + "    retire: unused\n", 4, "retire must be a mapping, not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := desired.Parse([]byte(tc.file))
			var fe *desired.FileError
			if !errors.As(err, &fe) || !errors.Is(err, unleashadmin.ErrInvalidArgument) {
				t.Fatalf("got %v (%T), want a *FileError", err, err)
			}
			if fe.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("got %q at line %d, want %q at line %d", err, fe.Line, tc.msg, tc.line)
			}
			if strings.Contains(err.Error(), "5f3a9c1e") || strings.Contains(err.Error(), "later") {
				t.Errorf("%q quotes a value of the file", err)
			}
		})
	}
	// A file built in code is checked the same.
	for _, tc := range []struct {
		f   desired.File
		msg string
	}{
		{desired.File{Retire: desired.RetirePolicy{When: "later"}}, "desired state: retire.when: want now or unused"},
		{desired.File{Retire: desired.RetirePolicy{When: desired.RetireUnused, Quiet: -time.Minute}}, "retire.quiet is negative"},
		{desired.File{Tokens: []desired.Entry{{Name: "a", Type: "client",
			Retire: &desired.RetirePolicy{When: desired.RetireUnused, Within: -time.Hour}}}}, "token 1: retire.within is negative"},
		{desired.File{Tokens: []desired.Entry{{Name: "a", Type: "client", Line: 7,
			Retire: &desired.RetirePolicy{When: desired.RetireNow, Within: time.Hour}}}}, "7: retire: quiet and within go with when: unused"},
	} {
		if err := tc.f.Validate(); err == nil || !strings.Contains(err.Error(), tc.msg) || !errors.Is(err, unleashadmin.ErrInvalidArgument) {
			t.Errorf("%+v: got %v, want %q", tc.f, err, tc.msg)
		}
	}
}

// use authenticates secret on the stand-in's client API (or, for a
// frontend token, its frontend API), as an SDK does: the stand-in records
// the use in its seenAt.
func (f *fixture) use(secret string, frontend bool) {
	f.t.Helper()
	path := "/api/client/features"
	if frontend {
		path = "/api/frontend"
	}
	req, err := http.NewRequest(http.MethodGet, f.srv.URL()+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", secret)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("using a token on %s: %d", path, resp.StatusCode)
	}
}

// actionOn returns the plan's action on the token with secret, other than
// the rotate or replace that makes its replacement, failing the test when
// there is none.
func actionOn(t *testing.T, p *desired.Plan, secret string) desired.Action {
	t.Helper()
	for _, a := range p.Actions {
		if a.Token != nil && a.Token.Secret == secret && !a.Makes() {
			return a
		}
	}
	t.Fatalf("no action on the token in %v", p)
	return desired.Action{}
}

const unusedFile = `retire: {when: unused, quiet: 10m, within: 7d}
tokens:
  - name: svc
    type: backend
    environment: development
    maxAge: 30d
`

// rotated is a stand-in (uses written at once) whose entry svc was
// rotated under when: unused: it returns the fixture, the file, the sink,
// and the old and new secrets. The old token was used at the rotation.
func rotated(t *testing.T, file string, opts ...unleashtest.Option) (*fixture, *desired.File, *recorder, string, string) {
	t.Helper()
	f := newFixture(t, append([]unleashtest.Option{unleashtest.WithSeenAtInterval(0)}, opts...)...)
	df := f.parse(file)
	old := f.seed("svc", unleashadmin.TokenTypeBackend, "development", nil, 0).Secret
	f.clk.Advance(31 * day)
	f.use(old, false)
	p := f.plan(df, f.opts())
	mustEqual(t, "the rotation's plan", summary(p), []string{"rotate svc", "wait svc"})
	if w := p.Actions[1]; w.Token.Secret != old || w.Decision == nil || w.Decision.Retire || !w.Decision.StillInUse ||
		!strings.HasPrefix(w.Reason, "replaced by the new token of this rotate; waits: the replacement has not been used yet; the old token was last used ") {
		t.Fatalf("the old token's action: %+v", w)
	}
	if !strings.HasSuffix(p.Actions[0].Reason, "; the old token is retired once unused (retire: when unused)") {
		t.Errorf("the rotate's reason %q", p.Actions[0].Reason)
	}
	sink := &recorder{}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if st := []desired.Status{res.Outcomes[0].Status(), res.Outcomes[1].Status()}; st[0] != desired.StatusDone || st[1] != desired.StatusWaiting ||
		res.Outcomes[0].Retired {
		t.Fatalf("apply: %v", res)
	}
	fresh := sink.secrets()["svc"]
	if _, ok := f.has(old); !ok || fresh == "" {
		t.Fatalf("after the rotation: old listed %t, new %q", ok, fresh)
	}
	return f, df, sink, old, fresh
}

// TestRetireWhenUnused drives a rotation under when: unused on the
// stand-in, with its clock and its feature API recording each use: the old
// token waits while it is used within the quiet period, and while the new
// one has not been used; it is retired once the new one is used and it
// has been quiet for longer than the quiet period, or anyway once within
// has passed, with the note that it was still in use.
func TestRetireWhenUnused(t *testing.T) {
	t.Parallel()
	apply := func(t *testing.T, f *fixture, df *desired.File, sink desired.Sink) *desired.Result {
		t.Helper()
		res, err := f.plan(df, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// keeps checks that the plan keeps the new token, and says of the old
	// one kind, with a reason holding each of reasons.
	keeps := func(t *testing.T, p *desired.Plan, old, fresh string, kind desired.ActionKind, reasons ...string) desired.Action {
		t.Helper()
		if k := actionOn(t, p, fresh); k.Kind != desired.ActionKeep {
			t.Fatalf("the new token: %v", k)
		}
		a := actionOn(t, p, old)
		if a.Kind != kind || a.Decision == nil {
			t.Fatalf("the old token: %v, want %s", a, kind)
		}
		for _, r := range reasons {
			if !strings.Contains(a.Reason, r) {
				t.Errorf("reason %q lacks %q", a.Reason, r)
			}
		}
		return a
	}

	t.Run("old still used within quiet: wait", func(t *testing.T) {
		t.Parallel()
		f, df, sink, old, fresh := rotated(t, unusedFile)
		for range 3 {
			f.clk.Advance(5 * time.Minute)
			f.use(fresh, false)
			f.use(old, false) // a service that has not switched yet
			f.clk.Advance(time.Minute)
			p := f.plan(df, f.opts())
			a := keeps(t, p, old, fresh, desired.ActionWait, "a duplicate: a newer token of the same scope is kept; waits: the old token was last used ",
				"1m ago, within the quiet period of 10m")
			if !a.Decision.StillInUse || !a.Decision.ReplacementUsed || !p.Empty() {
				t.Fatalf("decision %+v, plan empty %t", a.Decision, p.Empty())
			}
			res := apply(t, f, df, sink)
			if _, ok := f.has(old); !ok || len(res.Failed()) > 0 {
				t.Fatalf("the old token was retired while in use: %v", res)
			}
		}
	})

	t.Run("new used, old quiet longer than quiet: retired", func(t *testing.T) {
		t.Parallel()
		f, df, sink, old, fresh := rotated(t, unusedFile)
		f.clk.Advance(time.Minute)
		f.use(fresh, false)
		f.clk.Advance(9*time.Minute - time.Second) // the old token's last use is 10m - 1s ago
		keeps(t, f.plan(df, f.opts()), old, fresh, desired.ActionWait, "within the quiet period of 10m")
		f.clk.Advance(time.Second)
		p := f.plan(df, f.opts())
		a := keeps(t, p, old, fresh, desired.ActionRetire, "a duplicate: a newer token of the same scope is kept; retire: the replacement was used ",
			"and the old token was last used ", "10m ago, unused for at least the quiet period of 10m")
		if a.Decision.StillInUse || !a.Decision.Retire || p.Empty() {
			t.Fatalf("decision %+v", a.Decision)
		}
		res := apply(t, f, df, sink)
		if _, ok := f.has(old); ok || len(res.Failed()) > 0 || !res.Outcomes[1].Deleted {
			t.Fatalf("not retired: %v", res)
		}
		if p := f.plan(df, f.opts()); !p.Empty() || len(p.Actions) != 1 {
			t.Fatalf("after the retire: %v", p)
		}
	})

	t.Run("new never used: wait", func(t *testing.T) {
		t.Parallel()
		f, df, sink, old, fresh := rotated(t, unusedFile)
		f.clk.Advance(6 * day) // the old token has long been quiet
		a := keeps(t, f.plan(df, f.opts()), old, fresh, desired.ActionWait,
			"waits: the replacement has not been used yet; the old token was last used ", "6d ago",
			"; retired anyway from "+f.clk.Now().Add(day).UTC().Format(time.RFC3339)+" (within 7d)")
		if a.Decision.StillInUse || a.Decision.ReplacementUsed {
			t.Fatalf("decision %+v", a.Decision)
		}
		apply(t, f, df, sink)
		if _, ok := f.has(old); !ok {
			t.Fatal("retired before its replacement was used")
		}
	})

	t.Run("within passed: retired, still in use", func(t *testing.T) {
		t.Parallel()
		f, df, sink, old, fresh := rotated(t, unusedFile)
		f.use(fresh, false)
		f.clk.Advance(7*day - time.Minute)
		f.use(old, false) // never switched
		keeps(t, f.plan(df, f.opts()), old, fresh, desired.ActionWait, "; retired anyway from ")
		f.clk.Advance(time.Minute)
		p := f.plan(df, f.opts())
		a := keeps(t, p, old, fresh, desired.ActionRetire, "retire anyway: the replacement was made ", "7d or longer ago (within); ",
			"the old token is still in use: was last used ", "1m ago, within the quiet period of 10m")
		if !a.Decision.StillInUse || !a.Decision.WithinPassed || !a.Decision.Retire {
			t.Fatalf("decision %+v", a.Decision)
		}
		js, err := json.Marshal(a)
		if err != nil || !strings.Contains(string(js), `"retireDecision":{"retire":true,"stillInUse":true,"withinPassed":true,"replacementUsed":true,`) {
			t.Errorf("JSON %s, %v", js, err)
		}
		res := apply(t, f, df, sink)
		o := res.Outcomes[1]
		if _, ok := f.has(old); ok || !o.Deleted || o.Action.Decision == nil || !o.Action.Decision.StillInUse {
			t.Fatalf("not retired: %v", res)
		}
	})

	t.Run("when now: unchanged", func(t *testing.T) {
		t.Parallel()
		for _, file := range []string{strings.Replace(unusedFile, "retire: {when: unused, quiet: 10m, within: 7d}", "", 1),
			unusedFile + "    retire: {when: now}\n"} {
			f := newFixture(t, unleashtest.WithSeenAtInterval(0))
			df := f.parse(file)
			old := f.seed("svc", unleashadmin.TokenTypeBackend, "development", nil, 0).Secret
			f.clk.Advance(31 * day)
			f.use(old, false)
			p := f.plan(df, f.opts())
			mustEqual(t, "plan", summary(p), []string{"rotate svc"})
			if p.Actions[0].Decision != nil || strings.Contains(p.Actions[0].Reason, "unused") {
				t.Errorf("%+v", p.Actions[0])
			}
			res := apply(t, f, df, &recorder{})
			if _, ok := f.has(old); ok || !res.Outcomes[0].Deleted {
				t.Fatalf("the old token in use was not retired at once: %v", res)
			}
		}
	})
}

// TestRetireWhenUnusedWithReadableSink: with a sink that is the record of
// what was delivered, the token kept is the one it holds (the new one)
// and the old one waits; a later apply retires it once unused. The waiting
// token is never kept: not when the sink holds the new one, not when it
// cannot be read, whatever the order of the list.
func TestRetireWhenUnusedWithReadableSink(t *testing.T) {
	t.Parallel()
	f := newFixture(t, unleashtest.WithSeenAtInterval(0))
	df := f.parse(unusedFile)
	sink := desired.DirSink{Dir: t.TempDir()}
	old := f.seed("svc", unleashadmin.TokenTypeBackend, "development", nil, 0).Secret
	if err := sink.Deliver(context.Background(), unleashadmin.APIToken{TokenName: "svc", Secret: old}); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(31 * day)
	f.use(old, false)
	opts := f.opts()
	opts.Reader = sink
	res, err := f.plan(df, opts).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "the rotation", summary(res.Plan), []string{"rotate svc", "wait svc"})
	fresh, _, _ := sink.Held(context.Background(), unleashadmin.APIToken{TokenName: "svc"})
	if fresh == old || fresh == "" {
		t.Fatal("the sink does not hold a new token")
	}
	for range 4 {
		f.clk.Advance(2 * time.Minute)
		f.use(fresh, false)
		f.use(old, false)
		for _, o := range []desired.Options{opts, f.opts()} { // with the sink, and without
			p := f.plan(df, o)
			if k := actionOn(t, p, fresh); k.Kind != desired.ActionKeep {
				t.Fatalf("the new token: %v", k)
			}
			if w := actionOn(t, p, old); w.Kind != desired.ActionWait || !w.Decision.StillInUse {
				t.Fatalf("the old token: %v", w)
			}
		}
	}
	f.clk.Advance(10 * time.Minute)
	f.use(fresh, false)
	res, err = f.plan(df, opts).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if a := actionOn(t, res.Plan, old); a.Kind != desired.ActionRetire ||
		!strings.HasPrefix(a.Reason, "an older token of the same scope: the sink holds a newer one; retire: the replacement was used ") {
		t.Fatalf("%v", a)
	}
	if _, ok := f.has(old); ok {
		t.Fatal("not retired")
	}
	if held, _, _ := sink.Held(context.Background(), unleashadmin.APIToken{TokenName: "svc"}); held != fresh {
		t.Fatal("the sink lost the new token")
	}
}

// TestRetireWhenUnusedApplyDecidesAgain: a plan that shows a wait does
// not bind its apply: the apply reads the tokens again and retires the
// old one when, by then, the rule says so; and a plan made with a retire
// does not retire a token that was used again before the apply.
func TestRetireWhenUnusedApplyDecidesAgain(t *testing.T) {
	t.Parallel()
	f, df, sink, old, fresh := rotated(t, unusedFile)
	f.use(fresh, false)
	f.clk.Advance(9 * time.Minute)
	p := f.plan(df, f.opts())
	if a := actionOn(t, p, old); a.Kind != desired.ActionWait {
		t.Fatalf("%v", a)
	}
	f.clk.Advance(2 * time.Minute)
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.has(old); ok || !res.Outcomes[1].Deleted {
		t.Fatalf("apply did not decide again: %v", res)
	}

	f, df, sink, old, fresh = rotated(t, unusedFile)
	f.use(fresh, false)
	f.clk.Advance(11 * time.Minute)
	p = f.plan(df, f.opts())
	if a := actionOn(t, p, old); a.Kind != desired.ActionRetire {
		t.Fatalf("%v", a)
	}
	f.use(old, false) // a service came back to it
	res, err = p.Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.has(old); !ok || res.Outcomes[1].Status() != desired.StatusWaiting {
		t.Fatalf("apply retired a token used since the plan: %v", res)
	}
}

// TestRetireWhenUnusedKinds: which tokens wait. A duplicate and a token of
// another scope wait for the token the entry keeps; the old token of a
// replace waits; an expired token and a token of the prune prefix go at
// once; a protected token is kept. With a grace period, the retire once
// unused moves the expiry, and a later plan says nothing more of it.
func TestRetireWhenUnusedKinds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, unleashtest.WithSeenAtInterval(0))
	df := f.parse(`retire: {when: unused, quiet: 10m}
prune: {namePrefix: old-}
tokens:
  - name: dup
    type: client
    environment: development
  - name: moved
    type: frontend
    environment: production
  - name: gone
    type: client
    environment: development
    expiresIn: 1d
`)
	dup1 := f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0).Secret
	moved := f.seed("moved", unleashadmin.TokenTypeFrontend, "development", nil, 0).Secret
	expired := f.seed("gone", unleashadmin.TokenTypeClient, "development", nil, time.Hour).Secret
	pruned := f.seed("old-x", unleashadmin.TokenTypeClient, "development", nil, 0).Secret
	f.clk.Advance(time.Minute)
	dup2 := f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0).Secret
	f.clk.Advance(2 * time.Hour)
	f.use(dup1, false)
	f.use(moved, true)
	f.use(pruned, false)

	p := f.plan(df, f.opts())
	for secret, want := range map[string]desired.ActionKind{dup1: desired.ActionWait, dup2: desired.ActionKeep, moved: desired.ActionWait,
		expired: desired.ActionRotate, pruned: desired.ActionRetire} {
		var a desired.Action
		if secret == expired {
			a = p.Actions[indexOf(p, "rotate gone")]
		} else {
			a = actionOn(t, p, secret)
		}
		if a.Kind != want {
			t.Errorf("%s: %v, want %s", a.Name, a, want)
		}
	}
	if a := p.Actions[indexOf(p, "replace moved")]; !strings.Contains(a.Reason, "the old token is retired once unused") {
		t.Errorf("replace: %v", a)
	}
	if a := p.Actions[indexOf(p, "rotate gone")]; strings.Contains(a.Reason, "unused") {
		t.Errorf("an expired token waits: %v", a)
	}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	for secret, want := range map[string]bool{dup1: true, dup2: true, moved: true, expired: false, pruned: false} {
		if _, ok := f.has(secret); ok != want {
			t.Errorf("listed %t, want %t: %v", ok, want, res)
		}
	}
	newMoved := f.named("moved")[1].Secret

	// Once the replacements are used and the old ones quiet: retired, with
	// a grace period given, by their expiry.
	f.use(dup2, false)
	f.use(newMoved, true)
	f.clk.Advance(10 * time.Minute)
	opts := f.opts()
	opts.GracePeriod = day
	p = f.plan(df, opts)
	for _, secret := range []string{dup1, moved} {
		if a := actionOn(t, p, secret); a.Kind != desired.ActionRetire || a.ExpiresAt == nil || !a.ExpiresAt.Equal(f.clk.Now().Add(day)) ||
			!strings.HasSuffix(a.Reason, "; expires in 1d") {
			t.Errorf("%v", a)
		}
	}
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}}); err != nil {
		t.Fatal(err)
	}
	f.use(dup1, false) // used in its grace: it still expires
	f.clk.Advance(time.Hour)
	p = f.plan(df, opts)
	mustEqual(t, "after the grace retire", summary(p), []string{"keep dup", "keep moved", "keep gone"})
}

// indexOf returns the index of the action "kind name" in p, -1 if none.
func indexOf(p *desired.Plan, what string) int {
	for i, s := range summary(p) {
		if s == what {
			return i
		}
	}
	return -1
}

// TestRetireWhenUnusedChecksQuiet: a quiet period shorter than the server
// records a use of the entry's tokens (plus the margin) is refused by
// NewPlan before anything is changed, naming the entry; the server's
// settings are read only when the answer depends on its storage mode.
func TestRetireWhenUnusedChecksQuiet(t *testing.T) {
	t.Parallel()
	short := "tokens:\n  - name: svc\n    type: client\n    environment: development\n    retire: {when: unused, quiet: 1m}\n"

	// Default storage: every token's use waits for the 3-minute job.
	f := newFixture(t)
	before := f.srv.RequestCount()
	_, err := desired.NewPlan(context.Background(), f.c, f.parse(short), f.opts())
	if !errors.Is(err, unleashadmin.ErrInvalidArgument) || !strings.Contains(err.Error(),
		`desired: NewPlan: desired: entry "svc" (line 2): retire: for the tokens it is given: unleashadmin: UnusedPolicy: invalid argument: quiet 1m is shorter than 3m15s: Unleash 8.2.0 records a use of this token up to 3m late`) {
		t.Fatalf("got %v", err)
	}
	mustEqual(t, "requests", f.requestsSince(before), []string{"GET /api/admin/ui-config", "GET /api/admin/api-tokens"})

	// A quiet period that any storage allows needs no settings.
	before = f.srv.RequestCount()
	f.plan(f.parse(strings.Replace(short, "quiet: 1m", "quiet: 3m15s", 1)), f.opts())
	mustEqual(t, "requests", f.requestsSince(before), []string{"GET /api/admin/api-tokens"})

	// Secure storage: 20 s is enough for the tokens it makes, and the plan
	// goes on; a legacy token of the entry (made before the mode was on)
	// is refused by name.
	s := newFixture(t, unleashtest.WithSecureTokens())
	file := strings.Replace(short, "quiet: 1m", "quiet: 20s", 1)
	p := s.plan(s.parse(file), s.opts())
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}}); err != nil {
		t.Fatal(err)
	}
	legacy := newFixture(t, unleashtest.WithSecureTokens(), unleashtest.WithTokens(unleashtest.Token{
		TokenName: "svc", Type: "client", Secret: "*:development." + strings.Repeat("ab", 28)}))
	_, err = desired.NewPlan(context.Background(), legacy.c, legacy.parse(file), legacy.opts())
	if !errors.Is(err, unleashadmin.ErrInvalidArgument) || !strings.Contains(err.Error(),
		`entry "svc" (line 2): retire: for its token *:development.abab***: unleashadmin: UnusedPolicy: invalid argument: quiet 20s is shorter than 3m15s`) {
		t.Fatalf("got %v", err)
	}
	if strings.Contains(err.Error(), strings.Repeat("ab", 8)) {
		t.Errorf("the error holds the secret: %v", err)
	}
}

// TestDocsRetireSection keeps the files of docs/DESIRED.md's section on
// retire: {when: unused} valid: the policy example reads as it says, and
// the scheduled rotation's file rotates a token older than 30 days and
// leaves the old one waiting.
func TestDocsRetireSection(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/DESIRED.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Retiring what nobody uses")
	section, _, ok2 := strings.Cut(section, "\n## ")
	if !ok || !ok2 {
		t.Fatal("no section on retire: {when: unused} in docs/DESIRED.md")
	}
	var blocks []string
	for rest := section; ; {
		var block string
		if _, rest, ok = strings.Cut(rest, "```yaml\n"); !ok {
			break
		}
		block, rest, _ = strings.Cut(rest, "```")
		blocks = append(blocks, block)
	}
	if len(blocks) != 2 {
		t.Fatalf("%d yaml blocks", len(blocks))
	}
	f := newFixture(t, unleashtest.WithSeenAtInterval(0), unleashtest.WithEnvironments("development", "production"))
	example := f.parse(blocks[0])
	if example.Retire != (desired.RetirePolicy{When: desired.RetireUnused, Quiet: 10 * time.Minute, Within: 7 * day, Line: 2}) ||
		*example.Tokens[0].Retire != (desired.RetirePolicy{When: desired.RetireUnused, Quiet: 30 * time.Minute, Within: 3 * day, Line: 9}) ||
		example.Tokens[1].Retire.When != desired.RetireNow {
		t.Fatalf("%+v", example)
	}
	recipe := f.parse(blocks[1])
	old := f.seed("checkout", unleashadmin.TokenTypeBackend, "production", nil, 0).Secret
	f.clk.Advance(31 * day)
	f.use(old, false)
	p := f.plan(recipe, f.opts())
	mustEqual(t, "the night's plan", summary(p), []string{"rotate checkout", "wait checkout", "create storefront"})
}

// TestRetireWhenUnusedLeftoverAndProtected: a leftover of a failed run (a
// token newer than the one the sink holds, which it never held) is
// retired by the settle rule, as without a policy, even in use; a
// protected token is kept, never waits.
func TestRetireWhenUnusedLeftoverAndProtected(t *testing.T) {
	t.Parallel()
	f := newFixture(t, unleashtest.WithSeenAtInterval(0))
	df := f.parse("retire: {when: unused}\ntokens:\n  - {name: svc, type: client, environment: development}\n")
	sink := desired.DirSink{Dir: t.TempDir()}
	held := f.seed("svc", unleashadmin.TokenTypeClient, "development", nil, 0).Secret
	if err := sink.Deliver(context.Background(), unleashadmin.APIToken{TokenName: "svc", Secret: held}); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Minute)
	leftover := f.seed("svc", unleashadmin.TokenTypeClient, "development", nil, 0).Secret
	f.clk.Advance(desired.DefaultSettle)
	f.use(leftover, false)
	opts := f.opts()
	opts.Reader = sink
	if a := actionOn(t, f.plan(df, opts), leftover); a.Kind != desired.ActionRetire || a.Decision != nil ||
		!strings.HasPrefix(a.Reason, "a leftover of a failed or concurrent run") {
		t.Fatalf("the leftover: %v", a)
	}

	// Without the sink the newer token is kept, and the older one, in use,
	// waits, but for its protection.
	f.use(held, false)
	opts = f.opts()
	opts.OwnKey = held
	if a := actionOn(t, f.plan(df, opts), held); a.Kind != desired.ActionKeep || a.Protected == "" || a.Decision != nil {
		t.Fatalf("the protected token: %v", a)
	}
	if a := actionOn(t, f.plan(df, f.opts()), held); a.Kind != desired.ActionWait {
		t.Fatalf("the older token: %v", a)
	}
}
