package desired_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// TestDeprecatedNamesStillWork writes a plan and an apply with the
// package's old names only: Kind and its bare constants, Outcome, Prune,
// DefaultParallel, ErrUndeliveredLive, Options.Clock and OwnKey,
// ApplyOptions.OnDone. They compile, and they do what they did.
func TestDeprecatedNamesStillWork(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := f.seed("svc-other-key", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("svc-gone", unleashadmin.TokenTypeClient, "development", nil, 0)
	old := f.seed("rot", unleashadmin.TokenTypeClient, "development", nil, 10*day)
	// The clock is an hour ahead of the server's: Clock, not time.Now,
	// sets the expiry of the new token.
	clockCalls := atomic.Int32{}
	clock := func() time.Time { clockCalls.Add(1); return f.clk.Now().Add(time.Hour) }
	file := &desired.File{
		Tokens: []desired.Entry{{Name: "rot", Type: unleashadmin.TokenTypeClient, ExpiresIn: 30 * day, RenewBefore: 14 * day}},
		Prune:  desired.Prune{NamePrefix: "svc-"},
	}
	p := f.plan(file, desired.Options{Clock: clock, OwnKey: other.Secret})
	kinds := map[desired.Kind][]string{}
	for _, a := range p.Actions {
		kinds[a.Kind] = append(kinds[a.Kind], a.Name)
	}
	want := map[desired.Kind][]string{desired.Rotate: {"rot"}, desired.Keep: {"svc-other-key"}, desired.Retire: {"svc-gone"}}
	if !reflect.DeepEqual(kinds, want) || clockCalls.Load() == 0 {
		t.Fatalf("plan %v, Clock called %d times", kinds, clockCalls.Load())
	}
	for _, k := range []desired.Kind{desired.Create, desired.Rotate, desired.Replace, desired.Retire, desired.Keep} {
		if k != map[desired.Kind]desired.ActionKind{desired.Create: desired.ActionCreate, desired.Rotate: desired.ActionRotate,
			desired.Replace: desired.ActionReplace, desired.Retire: desired.ActionRetire, desired.Keep: desired.ActionKeep}[k] {
			t.Errorf("%s is not its new name's value", k)
		}
	}
	var mu sync.Mutex
	var done []desired.Outcome
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}, Parallel: desired.DefaultParallel,
		OnDone: func(o desired.Outcome) { mu.Lock(); defer mu.Unlock(); done = append(done, o) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != len(res.Outcomes) || len(done) != 3 {
		t.Fatalf("OnDone called %d times for %d actions", len(done), len(res.Outcomes))
	}
	if _, ok := f.has(other.Secret); !ok {
		t.Error("the token of OwnKey was retired")
	}
	if _, ok := f.has(old.Secret); ok {
		t.Error("the rotated token is still there")
	}
	if live := f.live("rot"); len(live) != 1 || !live[0].ExpiresAt.Equal(f.clk.Now().Add(time.Hour+30*day)) {
		t.Errorf("the new token expires %v, want Clock's now + 30d", live)
	}
	if desired.DefaultParallel != unleashadmin.DefaultParallel || desired.ErrUndeliveredLive != unleashadmin.ErrUndeliveredLive {
		t.Error("DefaultParallel or ErrUndeliveredLive is not the core's")
	}
	// Now wins over Clock when both are set.
	p = f.plan(file, desired.Options{Now: f.clk.Now, Clock: func() time.Time { t.Error("Clock called beside Now"); return time.Time{} }})
	if !p.Now.Equal(f.clk.Now()) {
		t.Errorf("plan made at %v", p.Now)
	}
}

// TestProgressAndOnDoneBothCalled: a caller that sets both hears of each
// action once through each.
func TestProgressAndOnDoneBothCalled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var progress, onDone atomic.Int32
	_, err := f.plan(f.parse("tokens: [{name: a, type: client}, {name: b, type: client}]"), f.opts()).Apply(context.Background(),
		desired.ApplyOptions{Sink: &recorder{}, Progress: func(desired.ActionResult) { progress.Add(1) }, OnDone: func(desired.ActionResult) { onDone.Add(1) }})
	if err != nil || progress.Load() != 2 || onDone.Load() != 2 {
		t.Fatalf("%v; Progress %d, OnDone %d", err, progress.Load(), onDone.Load())
	}
}

func TestOptionsJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := desired.Options{GracePeriod: 36 * time.Hour, DefaultEnvironment: "production", Now: time.Now, Clock: time.Now,
		OwnKey: "*:*.0123456789abcdef0123456789abcdef", ServerInfo: func(context.Context) (*unleashadmin.ServerInfo, error) { return nil, nil }}
	b, err := json.Marshal(in)
	if err != nil || string(b) != `{"gracePeriod":"36h","defaultEnvironment":"production"}` {
		t.Fatalf("%s %v", b, err)
	}
	var out desired.Options
	if err := json.Unmarshal(b, &out); err != nil || out.GracePeriod != in.GracePeriod || out.DefaultEnvironment != in.DefaultEnvironment || out.OwnKey != "" {
		t.Fatalf("%v: %v", err, out)
	}
	for _, tc := range []struct {
		opts desired.Options
		json string
	}{
		{desired.Options{}, `{}`},
		{desired.Options{GracePeriod: 90 * day}, `{"gracePeriod":"90d"}`},
		{desired.Options{GracePeriod: 90 * time.Minute}, `{"gracePeriod":"1h30m"}`},
	} {
		b, err := json.Marshal(tc.opts)
		var back desired.Options
		if err == nil {
			err = json.Unmarshal(b, &back)
		}
		if err != nil || string(b) != tc.json || back.GracePeriod != tc.opts.GracePeriod {
			t.Errorf("%v: %s, back %v, %v", tc.opts, b, back, err)
		}
	}
	for _, bad := range []string{`{"gracePeriod":"soon"}`, `{"gracePeriod":3600}`, `{"ownKey":"*:*.x"}`, `{"gracePeriode":"1h"}`, `[]`} {
		var o desired.Options
		if err := json.Unmarshal([]byte(bad), &o); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	// Inside another value, and with fields the JSON does not name left as
	// they were.
	var wrap struct {
		Options desired.Options `json:"options"`
		Apply   desired.ApplyOptions
	}
	wrap.Options.DefaultEnvironment = "kept"
	if err := json.Unmarshal([]byte(`{"options":{"gracePeriod":"1d"},"Apply":{"parallel":8}}`), &wrap); err != nil {
		t.Fatal(err)
	}
	if wrap.Options.GracePeriod != day || wrap.Options.DefaultEnvironment != "kept" || wrap.Apply.Parallel != 8 {
		t.Fatalf("%+v", wrap)
	}
	b, err = json.Marshal(desired.ApplyOptions{Sink: desired.DirSink{Dir: "/run/secrets"}, Parallel: 2, Observer: func(context.Context, desired.Step) {},
		Progress: func(desired.ActionResult) {}, OnDone: func(desired.ActionResult) {}})
	if err != nil || string(b) != `{"parallel":2}` {
		t.Fatalf("ApplyOptions: %s %v", b, err)
	}
}

// TestStepsOfAFailedDelivery: the Observer hears create, deliver, then
// revoke, with the new token, before each; a sweep's delete is a revoke
// too.
func TestStepsOfAFailedDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var steps []string
	var tokens []*unleashadmin.APIToken
	observer := func(_ context.Context, s desired.Step) {
		steps = append(steps, string(s.Kind))
		tokens = append(tokens, s.Token)
		if s.Kind == desired.StepRevoke {
			// About to revoke: the new token is still on the server.
			if _, ok := f.has(s.Token.Secret); !ok {
				t.Error("revoke observed after the delete")
			}
		}
	}
	res, err := f.plan(f.parse("tokens: [{name: x, type: client}]"), f.opts()).Apply(context.Background(),
		desired.ApplyOptions{Sink: &recorder{fail: map[string]bool{"x": true}}, Observer: observer})
	if !errors.Is(err, unleashadmin.ErrNotDelivered) {
		t.Fatalf("got %v", err)
	}
	mustEqual(t, "steps", steps, []string{"create", "deliver", "revoke"})
	o := res.Outcomes[0]
	if tokens[0] != nil || tokens[1] == nil || tokens[2] == nil || tokens[1].Secret != tokens[2].Secret || o.New == nil || o.New.Secret != tokens[1].Secret {
		t.Fatalf("steps' tokens %v, new %v", tokens, o.New)
	}
	if !o.Revoked || o.Delivered || o.Status() != desired.StatusFailed || len(f.named("x")) != 0 {
		t.Fatalf("%v", o)
	}
}

// TestProtectedIsShown: the plan and the report say which token is
// protected and why, in the core's words.
func TestProtectedIsShown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, unleashtest.WithAdminKeys(unleashtest.DefaultAdminKey, "*:*.second-admin-key-0123456789abcdef"))
	p := f.plan(f.parse("tokens: []\nprune: {namePrefix: adm}"), f.opts())
	mustEqual(t, "plan", summary(p), []string{"keep admin", "keep admin"})
	want := map[unleashadmin.Protection]bool{unleashadmin.ProtectedKeyInUse: true, unleashadmin.ProtectedAdmin: true}
	for _, a := range p.Actions {
		if !want[a.Protected] || a.Reason != string(a.Protected)+": never retired" {
			t.Errorf("%v: protected %q", a, a.Protected)
		}
		delete(want, a.Protected)
		if a.Token.Secret == f.srv.AdminKey() && a.Protected != unleashadmin.ProtectedKeyInUse {
			t.Errorf("the client's key is protected as %q", a.Protected)
		}
	}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	var got struct {
		Outcomes []struct{ Status, Protected string }
	}
	if err := json.Unmarshal(b, &got); err != nil || len(got.Outcomes) != 2 {
		t.Fatalf("%s %v", b, err)
	}
	for _, o := range got.Outcomes {
		if o.Status != "protected" || (o.Protected != "the key in use" && o.Protected != "an admin token") {
			t.Errorf("report %s", b)
		}
	}
	if len(f.named("admin")) != 2 {
		t.Fatal("an admin token was retired")
	}
}

// TestErrorsStartWithThePackageName: every error the package makes says
// where it comes from, as "desired: ...".
func TestErrorsStartWithThePackageName(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ended, cancel := context.WithCancel(ctx)
	cancel()
	_, errNoClient := desired.NewPlan(ctx, nil, &desired.File{}, f.opts())
	_, errBadFile := desired.NewPlan(ctx, f.c, &desired.File{Tokens: []desired.Entry{{Name: "x", Type: "admin"}}}, f.opts())
	_, errNoSink := f.plan(f.parse("tokens: [{name: x, type: client}]"), f.opts()).Apply(ctx, desired.ApplyOptions{})
	_, errParallel := f.plan(f.parse("tokens: []"), f.opts()).Apply(ctx, desired.ApplyOptions{Parallel: -1})
	_, errFailed := f.plan(f.parse("tokens: [{name: x, type: client}]"), f.opts()).Apply(ctx, desired.ApplyOptions{Sink: &recorder{fail: map[string]bool{"x": true}}})
	_, errEnded := f.plan(f.parse("tokens: [{name: y, type: client}]"), f.opts()).Apply(ended, desired.ApplyOptions{Sink: &recorder{}})
	var opts desired.Options
	for name, err := range map[string]error{
		"no client":      errNoClient,
		"bad file":       errBadFile,
		"no sink":        errNoSink,
		"parallel":       errParallel,
		"failed action":  errFailed,
		"ended context":  errEnded,
		"options JSON":   json.Unmarshal([]byte(`{"gracePeriod":"x"}`), &opts),
		"DirSink":        desired.DirSink{Dir: t.TempDir()}.Deliver(ended, unleashadmin.APIToken{TokenName: "x", Secret: "s"}),
		"DirSink no dir": desired.DirSink{}.Deliver(ctx, unleashadmin.APIToken{TokenName: "x"}),
		"ExecSink":       desired.ExecSink{Command: "exit 1"}.Deliver(ctx, unleashadmin.APIToken{TokenName: "x"}),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "desired: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	var fe *desired.FileError
	if !errors.As(errBadFile, &fe) {
		t.Errorf("the file's mistake is no *FileError: %v", errBadFile)
	}
}
