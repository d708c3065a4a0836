package desired_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

const threeEntries = `
tokens:
  - name: checkout
    type: backend
    environment: production
    projects: [default]
    expiresIn: 90d
  - name: web
    type: frontend
    projects: [a, b]
  - name: batch
    type: client
`

func TestApplyFromEmptyThenNothingToDo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	file := f.parse(threeEntries)
	p := f.plan(file, f.opts())
	mustEqual(t, "plan", summary(p), []string{"create checkout", "create web", "create batch"})
	if p.Empty() || p.Changes() != 3 || !p.Makes() {
		t.Fatalf("Empty %v Changes %d Makes %v", p.Empty(), p.Changes(), p.Makes())
	}
	if p.DefaultEnvironment != "development" {
		t.Fatalf("default environment %q, want the stand-in's (8.2.0: development)", p.DefaultEnvironment)
	}

	sink := &recorder{}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Outcomes {
		if !o.Done || o.New == nil || !o.Delivered || o.Err != nil {
			t.Errorf("%v", o)
		}
	}
	// What the server holds is what the file asks for, and each secret
	// was delivered.
	got := sink.secrets()
	for _, tc := range []struct {
		name, typ, env, projects string
		expires                  bool
	}{
		{"checkout", "client", "production", "default", true},
		{"web", "frontend", "development", "a,b", false},
		{"batch", "client", "development", "*", false},
	} {
		toks := f.named(tc.name)
		if len(toks) != 1 {
			t.Fatalf("%s: %d tokens", tc.name, len(toks))
		}
		tok := toks[0]
		if tok.Type != tc.typ || tok.Environment != tc.env || strings.Join(tok.Projects, ",") != tc.projects || (tok.ExpiresAt != nil) != tc.expires {
			t.Errorf("%s: server holds %+v", tc.name, tok)
		}
		if got[tc.name] != tok.Secret {
			t.Errorf("%s: delivered another secret than the server holds", tc.name)
		}
	}
	if exp := f.named("checkout")[0].ExpiresAt; !exp.Equal(f.clk.Now().Add(90 * day)) {
		t.Errorf("checkout expires %v, want now + 90d", exp)
	}

	// The second plan changes nothing, and applying it sends no change.
	p2 := f.plan(file, f.opts())
	if !p2.Empty() {
		t.Fatalf("second plan: %v", changes(p2))
	}
	mustEqual(t, "second plan", summary(p2), []string{"keep checkout", "keep web", "keep batch"})
	n := f.srv.RequestCount()
	if _, err := p2.Apply(context.Background(), desired.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "requests of an empty apply", f.requestsSince(n), []string{"GET /api/admin/api-tokens"})
}

func TestPlanSendsOneListRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("tokens:\n")
	for i := range 300 {
		fmt.Fprintf(&b, "  - name: svc-%03d\n    type: client\n", i)
		if i%2 == 0 {
			b.WriteString("    environment: production\n")
		}
		if i%3 == 0 {
			f.seed(fmt.Sprintf("svc-%03d", i), unleashadmin.TokenTypeClient, "production", nil, 0)
		}
	}
	b.WriteString("prune:\n  namePrefix: svc-\n")
	file := f.parse(b.String())
	for range 2 {
		n := f.srv.RequestCount()
		p := f.plan(file, f.opts())
		reqs := f.requestsSince(n)
		// One list; one read of the settings (ui-config), as some entries
		// name no environment.
		mustEqual(t, "requests", reqs, []string{"GET /api/admin/ui-config", "GET /api/admin/api-tokens"})
		if len(p.Actions) != 300 {
			t.Fatalf("%d actions", len(p.Actions))
		}
	}
	// With the default environment given, or every entry naming one, the
	// list is the only request.
	opts := f.opts()
	opts.DefaultEnvironment = "development"
	n := f.srv.RequestCount()
	f.plan(file, opts)
	mustEqual(t, "requests", f.requestsSince(n), []string{"GET /api/admin/api-tokens"})
	n = f.srv.RequestCount()
	f.plan(f.parse("tokens:\n  - name: x\n    type: client\n    environment: production\n"), f.opts())
	mustEqual(t, "requests", f.requestsSince(n), []string{"GET /api/admin/api-tokens"})
}

func TestDefaultEnvironmentFromServerInfo(t *testing.T) {
	t.Parallel()
	f := newFixture(t, unleashtest.WithEnvironments("default", "development"))
	f.seed("batch", unleashadmin.TokenTypeClient, "default", nil, 0)
	file := f.parse("tokens:\n  - name: batch\n    type: client\n")
	calls := 0
	opts := f.opts()
	opts.ServerInfo = func(context.Context) (*unleashadmin.ServerInfo, error) {
		calls++
		return &unleashadmin.ServerInfo{Version: "6.10.1"}, nil
	}
	p := f.plan(file, opts)
	if calls != 1 || p.DefaultEnvironment != "default" {
		t.Fatalf("%d calls, default %q", calls, p.DefaultEnvironment)
	}
	mustEqual(t, "on 6.x", summary(p), []string{"keep batch"})
	// Apply uses what the plan read: no second read.
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{}); err != nil || calls != 1 {
		t.Fatalf("apply: %v, %d calls", err, calls)
	}

	// The same token, on a server whose default is development, is of
	// another scope.
	opts.ServerInfo = func(context.Context) (*unleashadmin.ServerInfo, error) {
		return &unleashadmin.ServerInfo{Version: "8.2.0"}, nil
	}
	mustEqual(t, "on 8.x", summary(f.plan(file, opts)), []string{"replace batch"})

	// A server that does not serve ui-config (a 404) is taken to be a
	// current release: development.
	opts.ServerInfo = nil
	f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"id":"4a1c1a0e-4a0e-4c6b-9a56-5c3f0c1e1f00","name":"NotFoundError","message":"The path you were looking for (/api/admin/ui-config) is not available."}`)})
	if p := f.plan(file, opts); p.DefaultEnvironment != "development" {
		t.Fatalf("after a 404: %q", p.DefaultEnvironment)
	}
	// A failed read is the plan's error; nothing else is sent.
	opts.ServerInfo = func(context.Context) (*unleashadmin.ServerInfo, error) {
		return nil, fmt.Errorf("wrapped: %w", unleashadmin.ErrForbidden)
	}
	n := f.srv.RequestCount()
	if _, err := desired.NewPlan(context.Background(), f.c, file, opts); !errors.Is(err, unleashadmin.ErrForbidden) {
		t.Fatalf("got %v", err)
	}
	if f.srv.RequestCount() != n {
		t.Fatal("sent a request after the settings read failed")
	}
}

// observeLive returns an Observer that checks, before every step, that
// each of names has a live token on the server, and records the steps.
func observeLive(t *testing.T, f *fixture, names ...string) (func(context.Context, desired.Step), func() []string) {
	var mu sync.Mutex
	var steps []string
	return func(_ context.Context, s desired.Step) {
			mu.Lock()
			defer mu.Unlock()
			steps = append(steps, string(s.Kind)+" "+s.Action.Name)
			for _, n := range names {
				if len(f.live(n)) == 0 {
					t.Errorf("before %s %s: no live token named %s", s.Kind, s.Action.Name, n)
				}
			}
		}, func() []string {
			mu.Lock()
			defer mu.Unlock()
			return slices.Clone(steps)
		}
}

func TestCreateBeforeRetire(t *testing.T) {
	t.Parallel()
	for _, grace := range []time.Duration{0, 24 * time.Hour} {
		t.Run(fmt.Sprint("grace=", grace), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			// rot: due for rotation; moved: scope changed; dup: three
			// matching tokens.
			rot := f.seed("rot", unleashadmin.TokenTypeClient, "production", nil, 10*day)
			moved := f.seed("moved", unleashadmin.TokenTypeClient, "production", []string{"a"}, 0)
			f.clk.Advance(time.Second)
			dups := []unleashadmin.APIToken{f.seed("dup", unleashadmin.TokenTypeBackend, "production", nil, 0)}
			f.clk.Advance(time.Second)
			dups = append(dups, f.seed("dup", unleashadmin.TokenTypeClient, "production", nil, 0))
			f.clk.Advance(time.Second)
			newest := f.seed("dup", unleashadmin.TokenTypeClient, "production", nil, 0)
			file := f.parse(`tokens:
  - name: rot
    type: client
    environment: production
    renewBefore: 14d
  - name: moved
    type: client
    environment: production
    projects: [b]
  - name: dup
    type: backend
    environment: production
`)
			opts := f.opts()
			opts.GracePeriod = grace
			p := f.plan(file, opts)
			mustEqual(t, "plan", summary(p), []string{"rotate rot", "replace moved", "keep dup", "retire dup", "retire dup"})
			mustEqual(t, "kept", p.Actions[2].Token.Secret, newest.Secret)
			// Duplicates are retired oldest first.
			mustEqual(t, "retired", []string{p.Actions[3].Token.Secret, p.Actions[4].Token.Secret}, []string{dups[0].Secret, dups[1].Secret})

			observer, steps := observeLive(t, f, "rot", "moved", "dup")
			sink := &recorder{}
			res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer, Parallel: 1})
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, "steps", steps(), []string{
				"create rot", "deliver rot", "retire rot",
				"create moved", "deliver moved", "retire moved",
				"retire dup", "retire dup",
			})
			now := f.clk.Now()
			for _, old := range []unleashadmin.APIToken{rot, moved, dups[0], dups[1]} {
				tok, ok := f.has(old.Secret)
				switch {
				case grace == 0 && ok:
					t.Errorf("%s was not deleted", old.TokenName)
				case grace > 0 && (!ok || tok.ExpiresAt == nil):
					t.Errorf("%s: %+v, want its expiry moved", old.TokenName, tok)
				case grace > 0 && old.ExpiresAt == nil && !tok.ExpiresAt.Equal(now.Add(grace)):
					t.Errorf("%s expires %v, want now + grace", old.TokenName, tok.ExpiresAt)
				}
			}
			if _, ok := f.has(newest.Secret); !ok {
				t.Error("the kept duplicate is gone")
			}
			for _, o := range res.Outcomes {
				if o.Action.Kind == desired.ActionRetire && (!o.Retired || o.Deleted != (grace == 0)) {
					t.Errorf("%v: retired %v deleted %v", o, o.Retired, o.Deleted)
				}
			}
			secrets := sink.secrets()
			for _, name := range []string{"rot", "moved"} {
				toks := f.live(name)
				if !slices.ContainsFunc(toks, func(t unleashtest.Token) bool { return t.Secret == secrets[name] }) {
					t.Errorf("%s: the delivered token is not on the server", name)
				}
			}
			// After the apply, and with a grace period while the old
			// tokens still work, the next plan is empty.
			if p2 := f.plan(file, opts); !p2.Empty() {
				t.Fatalf("second plan: %v", p2)
			}
			if grace > 0 {
				f.clk.Advance(grace + time.Second)
				if p3 := f.plan(file, opts); !p3.Empty() {
					t.Fatalf("plan after the grace period: %v", p3)
				}
			}
		})
	}
}

func TestGraceNeverExtendsAnExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	soon := f.seed("x", unleashadmin.TokenTypeClient, "production", nil, 2*time.Hour)
	f.clk.Advance(time.Second)
	late := f.seed("x", unleashadmin.TokenTypeFrontend, "production", nil, 10*day)
	file := f.parse("tokens:\n  - name: x\n    type: frontend\n    environment: development\n")
	opts := f.opts()
	opts.GracePeriod = 24 * time.Hour
	p := f.plan(file, opts)
	// soon expires within the grace period: retiring it would change
	// nothing, so the plan does not list it; late is the one replaced.
	mustEqual(t, "plan", summary(p), []string{"replace x"})
	mustEqual(t, "replaced", p.Actions[0].Token.Secret, late.Secret)
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	want := f.clk.Now().Add(24 * time.Hour)
	if tok, _ := f.has(late.Secret); !tok.ExpiresAt.Equal(want) || !res.Outcomes[0].ExpiresAt.Equal(want) {
		t.Errorf("late expires %v (outcome %v), want %v", tok.ExpiresAt, res.Outcomes[0].ExpiresAt, want)
	}
	if tok, _ := f.has(soon.Secret); !tok.ExpiresAt.Equal(*soon.ExpiresAt) {
		t.Errorf("soon's expiry moved from %v to %v", soon.ExpiresAt, tok.ExpiresAt)
	}
}

func TestRotationByRenewBeforeAndMaxAge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	file := f.parse(`tokens:
  - name: renewed
    type: client
    environment: production
    expiresIn: 60d
    renewBefore: 14d
  - name: aged
    type: frontend
    environment: production
    maxAge: 60d
`)
	sink := &recorder{}
	apply := func() *desired.Result {
		t.Helper()
		res, err := f.plan(file, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	apply()
	first := sink.secrets()

	for _, step := range []struct {
		advance time.Duration
		want    []string
	}{
		{46 * day, nil}, // renewed expires in 14d: not within 14d
		{time.Second, []string{"rotate renewed"}}, // now it does
		{14*day - time.Second, nil},               // aged is 60d old: not older than 60d
		{time.Second, []string{"rotate aged"}},    // now it is
	} {
		f.clk.Advance(step.advance)
		p := f.plan(file, f.opts())
		mustEqual(t, fmt.Sprint("after ", step.advance), changes(p), step.want)
		if len(step.want) > 0 {
			a := p.Actions[slices.IndexFunc(p.Actions, desired.Action.Changes)]
			if !strings.Contains(a.Reason, map[string]string{"rotate renewed": "expires within renewBefore 14d", "rotate aged": "older than maxAge 60d"}[step.want[0]]) {
				t.Errorf("reason %q", a.Reason)
			}
			res := apply()
			if len(res.Failed()) != 0 {
				t.Fatal(res.Err())
			}
			name := strings.Fields(step.want[0])[1]
			live := f.live(name)
			if len(live) != 1 || live[0].Secret != sink.secrets()[name] || live[0].Secret == first[name] {
				t.Fatalf("%s after rotation: %+v", name, live)
			}
			if name == "renewed" && !live[0].ExpiresAt.Equal(f.clk.Now().Add(60*day)) {
				t.Errorf("new token expires %v", live[0].ExpiresAt)
			}
			if p := f.plan(file, f.opts()); !p.Empty() {
				t.Fatalf("after rotating: %v", p)
			}
		}
	}
}

func TestExpiredTokenIsRotated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	f.clk.Advance(2 * time.Hour)
	file := f.parse("tokens:\n  - name: x\n    type: client\n")
	p := f.plan(file, f.opts())
	mustEqual(t, "plan", summary(p), []string{"rotate x"})
	if !strings.HasPrefix(p.Actions[0].Reason, "expired at ") {
		t.Errorf("reason %q", p.Actions[0].Reason)
	}
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.has(old.Secret); ok {
		t.Error("the expired token was not deleted")
	}
	if len(f.live("x")) != 1 || !f.plan(file, f.opts()).Empty() {
		t.Fatal("not one live token, or the next plan is not empty")
	}
}

func TestBackendMatchesClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Listed as client: a backend entry keeps it, and the other way round.
	f.seed("a", unleashadmin.TokenTypeBackend, "development", nil, 0)
	f.seed("b", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("c", unleashadmin.TokenTypeClient, "development", nil, 0)
	p := f.plan(f.parse("tokens:\n  - {name: a, type: backend}\n  - {name: b, type: BACKEND}\n  - {name: c, type: frontend}\n"), f.opts())
	mustEqual(t, "plan", summary(p), []string{"keep a", "keep b", "replace c"})
}

func TestReplaceOnScopeChange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, was, now string }{
		{"environment", "{name: x, type: client, environment: production}", "{name: x, type: client, environment: development}"},
		{"projects", "{name: x, type: client, projects: [a]}", "{name: x, type: client, projects: [a, b]}"},
		{"all projects", "{name: x, type: client, projects: [a]}", "{name: x, type: client}"},
		{"type", "{name: x, type: frontend}", "{name: x, type: backend}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			sink := &recorder{}
			if _, err := f.plan(f.parse("tokens: ["+tc.was+"]"), f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink}); err != nil {
				t.Fatal(err)
			}
			old := sink.secrets()["x"]
			file := f.parse("tokens: [" + tc.now + "]")
			p := f.plan(file, f.opts())
			mustEqual(t, "plan", summary(p), []string{"replace x"})
			if p.Actions[0].Token.Secret != old || !strings.Contains(p.Actions[0].Reason, "the file asks for") {
				t.Fatalf("%v", p.Actions[0])
			}
			observer, _ := observeLive(t, f, "x")
			if _, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer}); err != nil {
				t.Fatal(err)
			}
			toks := f.named("x")
			if len(toks) != 1 || toks[0].Secret == old || toks[0].Secret != sink.secrets()["x"] {
				t.Fatalf("server holds %+v", toks)
			}
			if !f.plan(file, f.opts()).Empty() {
				t.Fatal("second plan not empty")
			}
		})
	}
}

func TestDeliveryFailureDeletesTheNewTokenAndLeavesTheOld(t *testing.T) {
	t.Parallel()
	for _, grace := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprint("grace=", grace), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rot := f.seed("rot", unleashadmin.TokenTypeClient, "development", nil, day)
			moved := f.seed("moved", unleashadmin.TokenTypeFrontend, "development", nil, 0)
			dup := f.seed("moved", unleashadmin.TokenTypeFrontend, "production", nil, 0)
			file := f.parse(`tokens:
  - {name: rot, type: client, renewBefore: 7d}
  - {name: moved, type: client}
  - {name: fresh, type: client}
  - {name: fine, type: client}
`)
			before := f.srv.Tokens()
			sink := &recorder{fail: map[string]bool{"rot": true, "moved": true, "fresh": true}}
			opts := f.opts()
			opts.GracePeriod = grace
			observer, _ := observeLive(t, f, "rot", "moved")
			res, err := f.plan(file, opts).Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer})
			if err == nil {
				t.Fatal("no error")
			}
			mustEqual(t, "actions", summary(res.Plan), []string{"rotate rot", "replace moved", "retire moved", "create fresh", "create fine"})
			for _, o := range res.Outcomes[:4] {
				if o.Done || o.Err == nil || !errors.Is(o.Err, unleashadmin.ErrNotDelivered) || errors.Is(o.Err, unleashadmin.ErrUndeliveredLive) {
					t.Errorf("%v: want a delivery failure", o)
				}
				if o.Action.Makes() && (!o.Revoked || o.Delivered || o.New == nil) {
					t.Errorf("%v: revoked %v delivered %v", o, o.Revoked, o.Delivered)
				}
				if !strings.HasPrefix(o.Err.Error(), "desired: "+string(o.Action.Kind)+" "+o.Action.Name+": ") || !strings.Contains(o.Err.Error(), "the vault is sealed") {
					t.Errorf("error %q", o.Err)
				}
			}
			// The one entry whose delivery worked is done.
			if o := res.Outcomes[4]; !o.Done || sink.secrets()["fine"] == "" {
				t.Errorf("fine: %v", o)
			}
			// Every token of before is there unchanged, and the new ones of
			// the failed entries are gone.
			after := f.srv.Tokens()
			for _, tok := range before {
				i := slices.IndexFunc(after, func(a unleashtest.Token) bool { return a.Secret == tok.Secret })
				if i < 0 || fmt.Sprint(after[i]) != fmt.Sprint(tok) {
					t.Errorf("%s changed or gone", tok.TokenName)
				}
			}
			if len(after) != len(before)+1 || len(f.named("fresh")) != 0 {
				t.Errorf("%d tokens before, %d after", len(before), len(after))
			}
			_ = rot
			_ = moved
			_ = dup
			if !strings.Contains(err.Error(), "rotate rot") || !strings.Contains(err.Error(), "create fresh") {
				t.Errorf("joined error %q does not name each failure", err)
			}
		})
	}
}

func TestDeliveryFailsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The sink sees the signal: the context ends while it works.
	sink := desired.SinkFunc(func(ctx context.Context, _ unleashadmin.APIToken) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	})
	res, err := f.plan(f.parse("tokens: [{name: x, type: client, renewBefore: 2h}]"), f.opts()).Apply(ctx, desired.ApplyOptions{Sink: sink})
	if !errors.Is(err, unleashadmin.ErrNotDelivered) || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	// The undelivered token was deleted on a context of its own.
	if o := res.Outcomes[0]; !o.Revoked {
		t.Fatalf("%v", o)
	}
	if toks := f.named("x"); len(toks) != 1 || toks[0].Secret != old.Secret {
		t.Fatalf("server holds %+v", toks)
	}
}

func TestCancellationStopsBetweenSteps(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := f.seed("a", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	b := f.seed("b", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	file := f.parse("tokens: [{name: a, type: client}, {name: b, type: client}]")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &recorder{}
	// Cancel just before a's old token is retired: a's new token is
	// delivered, nothing more is sent.
	var n int
	observer := func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepRetire {
			cancel()
			n = f.srv.RequestCount()
		}
	}
	res, err := f.plan(file, f.opts()).Apply(ctx, desired.ApplyOptions{Sink: sink, Observer: observer, Parallel: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	oa, ob := res.Outcomes[0], res.Outcomes[1]
	if oa.Done || !oa.Delivered || oa.Retired || !errors.Is(oa.Err, desired.ErrNotRetired) {
		t.Errorf("a: %v", oa)
	}
	if ob.Done || ob.New != nil || !errors.Is(ob.Err, desired.ErrNotStarted) {
		t.Errorf("b: %v", ob)
	}
	if got := f.requestsSince(n); len(got) > 1 {
		// The retire of a was under way when the context ended; the
		// client may or may not have sent it.
		t.Errorf("sent after the cancel: %v", got)
	}
	if _, ok := f.has(a.Secret); !ok {
		t.Error("a's old token is gone although its retire was cancelled")
	}
	if _, ok := f.has(b.Secret); !ok {
		t.Error("b's token is gone")
	}
	if len(f.named("a")) != 2 || sink.secrets()["a"] == "" {
		t.Error("a's new token was not kept")
	}
	// A context that has ended before the apply sends nothing.
	n = f.srv.RequestCount()
	if _, err := f.plan(file, f.opts()).Apply(ctx, desired.ApplyOptions{Sink: sink}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if got := f.requestsSince(n + 2); len(got) != 0 { // after the plan's two
		t.Errorf("sent %v", got)
	}
}

func TestNoSinkIsRefusedBeforeAnyChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed("svc-old", unleashadmin.TokenTypeClient, "development", nil, 0)
	p := f.plan(f.parse("tokens: [{name: x, type: client}]\nprune: {namePrefix: svc-}"), f.opts())
	n := f.srv.RequestCount()
	_, err := p.Apply(context.Background(), desired.ApplyOptions{})
	if !errors.Is(err, desired.ErrNoSink) || !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Fatalf("got %v", err)
	}
	if got := f.requestsSince(n); len(got) != 0 {
		t.Fatalf("sent %v", got)
	}
	// A plan that makes nothing needs no sink.
	if _, err := f.plan(f.parse("tokens: []\nprune: {namePrefix: svc-}"), f.opts()).Apply(context.Background(), desired.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(f.named("svc-old")) != 0 {
		t.Fatal("not pruned")
	}
}

func TestPruneAndUnlistedNames(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	gone := f.seed("svc-gone", unleashadmin.TokenTypeClient, "development", nil, 0)
	kept := f.seed("svc-kept", unleashadmin.TokenTypeClient, "development", nil, 0)
	other := f.seed("other", unleashadmin.TokenTypeClient, "development", nil, 0)
	own := f.seed("svc-ci", unleashadmin.TokenTypeClient, "development", nil, 0)
	file := f.parse("tokens: [{name: svc-kept, type: client}]\nprune: {namePrefix: svc-}")
	opts := f.opts()
	opts.OwnKey = own.Secret // deprecated, still honoured: another key whose token is never retired
	p := f.plan(file, opts)
	mustEqual(t, "plan", summary(p), []string{"keep svc-kept", "keep svc-ci", "retire svc-gone"})
	if p.Actions[1].Protected != unleashadmin.ProtectedKeyInUse || p.Actions[1].Reason != "the key in use: never retired" || !strings.Contains(p.Actions[2].Reason, `prune prefix "svc-"`) {
		t.Errorf("reasons %q, %q", p.Actions[1].Reason, p.Actions[2].Reason)
	}
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tok  unleashadmin.APIToken
		want bool
	}{{gone, false}, {kept, true}, {other, true}, {own, true}} {
		if _, ok := f.has(tc.tok.Secret); ok != tc.want {
			t.Errorf("%s: present %v, want %v", tc.tok.TokenName, ok, tc.want)
		}
	}
	if _, ok := f.has(f.srv.AdminKey()); !ok {
		t.Error("the admin key is gone")
	}
	// Without a prune prefix, names the file does not list are never
	// touched.
	if p := f.plan(f.parse("tokens: []"), opts); len(p.Actions) != 0 {
		t.Fatalf("plan without entries: %v", p)
	}
}

func TestOwnKeyAndAdminTokensAreNeverRetired(t *testing.T) {
	t.Parallel()
	admin2 := "*:*.second-admin-key-0123456789abcdef"
	f := newFixture(t, unleashtest.WithAdminKeys(unleashtest.DefaultAdminKey, admin2))
	own := f.seed("ci", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	opts := f.opts()
	opts.OwnKey = own.Secret
	// An entry named like the admin tokens, and one whose only token is the
	// key in use, of another scope.
	file := f.parse("tokens: [{name: admin, type: client}, {name: ci, type: client}]")
	p := f.plan(file, opts)
	mustEqual(t, "plan", summary(p), []string{"replace admin", "keep admin", "replace ci"})
	sink := &recorder{}
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{unleashtest.DefaultAdminKey, admin2, own.Secret} {
		if _, ok := f.has(k); !ok {
			t.Errorf("%s was retired", unleashadmin.RedactSecret(k))
		}
	}
	if !f.plan(file, opts).Empty() {
		t.Fatal("second plan not empty")
	}
}

func TestApplyRereadsTheServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
	p := f.plan(f.parse("tokens: [{name: x, type: client}]"), f.opts())
	mustEqual(t, "plan", summary(p), []string{"keep x"})
	// Someone deletes the token between plan and apply.
	if err := f.c.DeleteAPIToken(context.Background(), tok.Secret); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{}); !errors.Is(err, desired.ErrNoSink) {
		t.Fatalf("apply of a plan that now creates, without a sink: %v", err)
	}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "applied", summary(res.Plan), []string{"create x"})
	if len(f.named("x")) != 1 {
		t.Fatal("not created")
	}
}

func TestRetireFailureIsReported(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	p := f.plan(f.parse("tokens: [{name: x, type: client}]"), f.opts())
	observer := func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepRetire {
			f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusServiceUnavailable, Body: []byte(`{"message":"down"}`)})
		}
	}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}, Observer: observer})
	if !errors.Is(err, desired.ErrNotRetired) || errors.Is(err, unleashadmin.ErrNotDelivered) {
		t.Fatalf("got %v", err)
	}
	o := res.Outcomes[0]
	if o.Done || !o.Delivered || o.Retired || o.New == nil {
		t.Fatalf("%v", o)
	}
	if _, ok := f.has(old.Secret); !ok {
		t.Fatal("old token gone")
	}
	// The next plan retires the old token: the new one is kept.
	p2 := f.plan(f.parse("tokens: [{name: x, type: client}]"), f.opts())
	mustEqual(t, "next plan", summary(p2), []string{"keep x", "retire x"})
	mustEqual(t, "kept", p2.Actions[0].Token.Secret, o.New.Secret)
}

// A create whose answer is lost may have made a token that nobody holds.
// The look after it names what appeared but deletes nothing (it may be
// another party's); a later apply that reads the sink keeps the token it
// holds, leaves the one nobody holds while it is younger than the settle
// time, and retires it after.
func TestFailedCreateThatReachedTheServerIsLookedAfter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	sink := desired.DirSink{Dir: dir}
	file := f.parse("tokens: [{name: x, type: client, expiresIn: 3h}]")
	due := f.parse("tokens: [{name: x, type: client, renewBefore: 2h, expiresIn: 3h}]")
	if _, err := f.plan(file, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink}); err != nil {
		t.Fatal(err)
	}
	keep := f.named("x")[0]
	f.clk.Advance(2 * time.Hour) // due
	// The create reaches the server, which makes the token, but the
	// answer is lost: a 502 from a proxy, as the client sees it.
	var ghost unleashadmin.APIToken
	observer := func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepCreate {
			ghost = f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
			f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusBadGateway, Body: []byte("<html>bad gateway</html>")})
		}
	}
	res, err := f.plan(due, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer})
	if err == nil || !strings.Contains(err.Error(), "1 token(s) of this name and scope appeared meanwhile ("+unleashadmin.RedactSecret(ghost.Secret)+")") ||
		!strings.Contains(err.Error(), "none was deleted") {
		t.Fatalf("got %v", err)
	}
	if o := res.Outcomes[0]; o.New != nil || o.Done {
		t.Fatalf("%v", o)
	}
	if len(f.named("x")) != 2 {
		t.Fatal("a token was deleted")
	}
	// The next apply, 5 minutes on, keeps the token the sink holds and
	// leaves the newer one that nobody holds.
	f.clk.Advance(5 * time.Minute)
	res, err = f.plan(file, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "plan", summary(res.Plan), []string{"keep x", "leave x"})
	if res.Plan.Actions[0].Token.Secret != keep.Secret || res.Plan.Actions[1].Token.Secret != ghost.Secret || res.Outcomes[1].Status() != desired.StatusLeft {
		t.Fatalf("%v", res)
	}
	// Past the settle time, it is retired as a leftover.
	f.clk.Advance(desired.DefaultSettle)
	res, err = f.plan(file, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "plan", summary(res.Plan), []string{"keep x", "retire x"})
	if res.Plan.Actions[1].Token.Secret != ghost.Secret || !strings.HasPrefix(res.Plan.Actions[1].Reason, "a leftover of a failed or concurrent run") {
		t.Fatalf("%v", res)
	}
	if _, ok := f.has(ghost.Secret); ok || len(f.live("x")) != 1 {
		t.Fatal("the leftover is live")
	}
	// A refused create (a 400) made nothing, and nothing is looked for.
	p := f.plan(f.parse("tokens: [{name: y, type: client}]"), f.opts())
	n := f.srv.RequestCount()
	observer = func(_ context.Context, s desired.Step) {
		f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusBadRequest, Body: []byte(`{"message":"no"}`)})
	}
	_, err = p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}, Observer: observer})
	if !errors.Is(err, unleashadmin.ErrBadRequest) {
		t.Fatalf("got %v", err)
	}
	mustEqual(t, "requests", f.requestsSince(n), []string{"GET /api/admin/api-tokens", "POST /api/admin/api-tokens"})
}

func TestParallelIsBounded(t *testing.T) {
	t.Parallel()
	for _, parallel := range []int{1, 3} {
		t.Run(fmt.Sprint(parallel), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			var b strings.Builder
			b.WriteString("tokens:\n")
			for i := range 12 {
				fmt.Fprintf(&b, "  - {name: s%d, type: client}\n", i)
			}
			var cur, peak atomic.Int32
			sink := desired.SinkFunc(func(context.Context, unleashadmin.APIToken) error {
				n := cur.Add(1)
				defer cur.Add(-1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond)
				return nil
			})
			var done atomic.Int32
			res, err := f.plan(f.parse(b.String()), f.opts()).Apply(context.Background(), desired.ApplyOptions{
				Sink: sink, Parallel: parallel, Progress: func(desired.ActionResult) { done.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			if int(peak.Load()) != parallel {
				t.Errorf("peak %d deliveries at once, want %d", peak.Load(), parallel)
			}
			if done.Load() != 12 || len(res.Outcomes) != 12 {
				t.Errorf("Progress called %d times", done.Load())
			}
			// The outcomes are in the plan's order, whatever the order
			// they finished in.
			for i, o := range res.Outcomes {
				if o.Action.Name != fmt.Sprint("s", i) {
					t.Fatalf("outcome %d is %s", i, o.Action.Name)
				}
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	file := f.parse("tokens: []")
	opts := f.opts()
	opts.GracePeriod = -time.Second
	n := f.srv.RequestCount()
	if _, err := desired.NewPlan(context.Background(), f.c, file, opts); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("negative grace: %v", err)
	}
	if _, err := desired.NewPlan(context.Background(), nil, file, f.opts()); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("no client: %v", err)
	}
	if _, err := desired.NewPlan(context.Background(), f.c, &desired.File{Tokens: []desired.Entry{{Name: "x", Type: "admin"}}}, f.opts()); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("bad file: %v", err)
	}
	if _, err := f.plan(file, f.opts()).Apply(context.Background(), desired.ApplyOptions{Parallel: -1}); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("negative parallel: %v", err)
	}
	if _, err := (&desired.Plan{}).Apply(context.Background(), desired.ApplyOptions{}); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("zero plan: %v", err)
	}
	if got := f.requestsSince(n); len(got) != 1 {
		t.Errorf("sent %v, want the one list of the good plan", got)
	}
}

func TestBackendOnServersWithoutIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	file := f.parse("tokens: [{name: x, type: backend}]")
	p := f.plan(file, f.opts())
	// Unleash 6 refuses the backend type at the schema (captured from
	// 6.10.1, shortened).
	body := []byte(`{"id":"665a5572-a1e7-4c6d-9b07-ac67b5917198","name":"BadDataError","message":"Request validation failed","details":[{"message":"The ` + "`/body/type`" + ` property must match pattern \"^([Cc][Ll][Ii][Ee][Nn][Tt]|[Ff][Rr][Oo][Nn][Tt][Ee][Nn][Dd])$\". You sent \"backend\".","path":"/body/type"}]}`)
	first := true
	observer := func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepCreate && first {
			first = false
			f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusBadRequest, Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
		}
	}
	n := f.srv.RequestCount()
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}, Observer: observer})
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.srv.Requests()[n:]
	if len(reqs) != 3 || !strings.Contains(string(reqs[1].Body), `"type":"backend"`) || !strings.Contains(string(reqs[2].Body), `"type":"client"`) {
		t.Fatalf("sent %v", f.requestsSince(n))
	}
	if !res.Outcomes[0].Done || len(f.named("x")) != 1 || !f.plan(file, f.opts()).Empty() {
		t.Fatalf("%v", res.Outcomes[0])
	}
}

// cutShortAfterSecret is an Observer that has the server answer the next
// create of client token "x" with a body that breaks off after the secret.
func cutShortAfterSecret(f *fixture, secret string) func(context.Context, desired.Step) {
	return func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepCreate {
			f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusCreated, Header: http.Header{"Content-Type": {"application/json"}},
				Body: []byte(`{"tokenName":"x","projects":["*"],"environment":"development","secret":"` + secret + `","type":"client","createdAt":"2026-03-0`)})
		}
	}
}

func TestCreateAnswerCutShortAfterTheSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.plan(f.parse("tokens: [{name: x, type: client}]"), f.opts())
	secret := "*:development." + strings.Repeat("ab", 28)
	observer := cutShortAfterSecret(f, secret)
	sink := &recorder{}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer})
	if err != nil {
		t.Fatal(err)
	}
	// The secret that arrived is delivered, not lost.
	if o := res.Outcomes[0]; !o.Done || !o.Delivered || sink.secrets()["x"] != secret {
		t.Fatalf("%v", o)
	}
}

// A rotate whose create answer broke off after the secret delivers the new
// token but retires nothing on its account, as RotateAPIToken does: what
// the server made cannot be trusted. The old tokens stay, and the error
// says so.
func TestRotateWithAnAnswerCutShortRetiresNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	dup := f.seed("x", unleashadmin.TokenTypeFrontend, "development", nil, 0)
	p := f.plan(f.parse("tokens: [{name: x, type: client, renewBefore: 2h}]"), f.opts())
	mustEqual(t, "plan", summary(p), []string{"rotate x", "retire x"})
	secret := "*:development." + strings.Repeat("cd", 28)
	observer := cutShortAfterSecret(f, secret)
	sink := &recorder{}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer})
	if !errors.Is(err, desired.ErrNotRetired) || !errors.Is(err, unleashadmin.ErrUnexpectedResponse) || errors.Is(err, unleashadmin.ErrNotDelivered) {
		t.Fatalf("got %v", err)
	}
	if o := res.Outcomes[0]; o.Done || !o.Delivered || o.Retired || o.New == nil || sink.secrets()["x"] != secret {
		t.Fatalf("rotate: %v", o)
	}
	if o := res.Outcomes[1]; o.Done || o.Retired || o.Err == nil {
		t.Fatalf("retire: %v", o)
	}
	for _, tok := range []unleashadmin.APIToken{old, dup} {
		if _, ok := f.has(tok.Secret); !ok {
			t.Errorf("%s was retired on account of a token whose answer was odd", tok.Type)
		}
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
