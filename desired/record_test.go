package desired_test

// The tests of issue 17, "Apply must know what was delivered": each
// numbered reproduction of the issue against the stand-in.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// created is a create answer of the stand-in's shape, for a Fault.
func created(name, typ, env, projects, secret string) unleashtest.Fault {
	return unleashtest.Fault{Status: http.StatusCreated, Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"tokenName":"` + name + `","type":"` + typ + `","environment":"` + env + `","projects":` + projects +
			`,"secret":"` + secret + `","createdAt":"2026-03-01T12:00:00.000Z"}`)}
}

// Item 3: a sink command that exits 0 without reading the whole secret
// from its standard input (the `token=-` forgotten, a command that reads
// 5 bytes of it) has not delivered it.
func TestExecSinkMustReadTheWholeSecret(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd string
		ok  bool
	}{
		{"true", false},
		{"head -c 5 >/dev/null", false},
		{"exec 0<&-", false},
		{"cat >/dev/null", true},
		{"v=$(cat); [ -n \"$v\" ]", true},
	} {
		err := desired.ExecSink{Command: tc.cmd}.Deliver(context.Background(), token("checkout", secretA))
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.cmd, err)
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "desired: ExecSink: ") || strings.Contains(err.Error(), secretA)) {
			t.Errorf("%q: %v", tc.cmd, err)
		}
	}

	// Through apply: the rotation's new token is deleted again, the old
	// one stays.
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	p := f.plan(f.parse("tokens: [{name: x, type: client, renewBefore: 2h}]"), f.opts())
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: desired.ExecSink{Command: "true"}})
	if !errors.Is(err, unleashadmin.ErrNotDelivered) || errors.Is(err, unleashadmin.ErrUndeliveredLive) {
		t.Fatalf("got %v", err)
	}
	if o := res.Outcomes[0]; !o.Revoked || o.Delivered || o.Retired || !strings.Contains(o.Err.Error(), "without reading") {
		t.Fatalf("%v", o)
	}
	if toks := f.named("x"); len(toks) != 1 || toks[0].Secret != old.Secret {
		t.Fatalf("server holds %v", toks)
	}
}

// Item 4: a token of the entry's name and scope that appears after a
// create got no answer may be anyone's: the look after the create deletes
// nothing, and says so.
func TestLookAfterAFailedCreateDeletesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	p := f.plan(f.parse("tokens: [{name: x, type: client, renewBefore: 2h}]"), f.opts())
	// The create's answer is lost (a 502 from a proxy) and, meanwhile,
	// someone else makes a token of the same name and scope.
	var theirs unleashadmin.APIToken
	observer := func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepCreate {
			theirs = f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
			f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusBadGateway, Body: []byte("<html>bad gateway</html>")})
		}
		if s.Kind == desired.StepRevoke {
			t.Errorf("a revoke after a create without an answer: %v", s)
		}
	}
	n := f.srv.RequestCount()
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}, Observer: observer})
	if err == nil || strings.Contains(err.Error(), "which was deleted") || !strings.Contains(err.Error(), "none was deleted") {
		t.Fatalf("got %v", err)
	}
	for _, tok := range []unleashadmin.APIToken{old, theirs} {
		if _, ok := f.has(tok.Secret); !ok {
			t.Errorf("%s was deleted", unleashadmin.RedactSecret(tok.Secret))
		}
	}
	for _, r := range f.requestsSince(n) {
		if strings.HasPrefix(r, "DELETE") || strings.HasPrefix(r, "PUT") {
			t.Errorf("sent %s", r)
		}
	}
	if o := res.Outcomes[0]; o.Done || o.New != nil || o.Revoked {
		t.Fatalf("%v", o)
	}
}

// Item 6: a create answered with a token of another name is revoked and
// delivered nowhere; the exec sink's environment comes from the entry,
// never from the answer.
func TestCreateAnswerOfAnotherNameIsDeliveredNowhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("checkout", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	dir := t.TempDir()
	file := f.parse("tokens: [{name: checkout, type: client, renewBefore: 2h}]")
	for _, sink := range []desired.Sink{
		desired.DirSink{Dir: dir},
		desired.ExecSink{Command: `cat > '` + dir + `'/"exec-$UNLEASH_TOKEN_NAME"`},
	} {
		p := f.plan(file, f.opts())
		observer := func(_ context.Context, s desired.Step) {
			if s.Kind == desired.StepCreate {
				f.srv.FailNext(1, created("payments", "client", "development", `["*"]`, "*:development."+strings.Repeat("ab", 28)))
			}
		}
		res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer})
		if !errors.Is(err, unleashadmin.ErrUnexpectedResponse) || !errors.Is(err, unleashadmin.ErrNotDelivered) {
			t.Fatalf("%T: got %v", sink, err)
		}
		if o := res.Outcomes[0]; o.Done || o.Delivered || !o.Revoked || o.Retired {
			t.Fatalf("%T: %v", sink, o)
		}
		for _, name := range []string{"payments", "checkout", "exec-payments", "exec-checkout"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				t.Fatalf("%T: delivered %s", sink, name)
			}
		}
		if toks := f.named("checkout"); len(toks) != 1 || toks[0].Secret != old.Secret {
			t.Fatalf("%T: checkout's tokens %v", sink, toks)
		}
	}

	// An answer of the entry's scope whose words differ (backend for a
	// client entry, which counts as one kind): the command hears the
	// entry's.
	p := f.plan(f.parse("tokens: [{name: web, type: client, projects: [b, a]}]"), f.opts())
	observer := func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepCreate {
			f.srv.FailNext(1, created("web", "backend", "development", `["a","b"]`, "[]:development."+strings.Repeat("cd", 28)))
		}
	}
	hook := desired.ExecSink{Command: `cat >/dev/null; echo "$UNLEASH_TOKEN_NAME $UNLEASH_TOKEN_TYPE $UNLEASH_TOKEN_ENVIRONMENT $UNLEASH_TOKEN_PROJECTS" > '` + dir + `/env'`}
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: hook, Observer: observer}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "env")); string(b) != "web client development a,b\n" {
		t.Fatalf("the command heard %q", b)
	}
}

// Item 7: what a sink command prints is cleaned of the secret; a secret
// with a line break is delivered nowhere; a name of 255 bytes can be
// delivered by the directory sink.
func TestSinkOutputNamesAndSecrets(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	echo := desired.ExecSink{Command: `v=$(cat); echo "stored $v"; echo "debug: $v" >&2`, Stdout: &out, Stderr: &errOut}
	if err := echo.Deliver(context.Background(), token("checkout", secretA)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{out.String(), errOut.String()} {
		if strings.Contains(s, secretA[len(secretA)-20:]) || !strings.Contains(s, unleashadmin.RedactSecret(secretA)) {
			t.Errorf("the command's output reached its writer as %q", s)
		}
	}

	dir := t.TempDir()
	broken := secretA[:30] + "\n" + secretA[30:]
	for _, sink := range []desired.Sink{desired.DirSink{Dir: dir}, desired.ExecSink{Command: `cat > '` + dir + `/exec'`}} {
		err := sink.Deliver(context.Background(), token("checkout", broken))
		if !errors.Is(err, unleashadmin.ErrUnexpectedResponse) || strings.Contains(err.Error(), secretA[30:]) {
			t.Errorf("%T: %v", sink, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("delivered %v", ents)
	}

	long := strings.Repeat("n", 255)
	if err := (desired.DirSink{Dir: dir}).Deliver(context.Background(), token(long, secretA)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, long)); string(b) != secretA+"\n" {
		t.Fatalf("holds %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left %v", ents)
	}
}

// Item 5: a list that names one token twice is no answer of Unleash's: the
// plan fails, and an apply whose re-read gets one changes nothing.
func TestListNamingATokenTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
	one := `{"secret":"` + tok.Secret + `","tokenName":"x","type":"client","projects":["*"],"environment":"development","createdAt":"2026-03-01T12:00:00.000Z"}`
	twice := unleashtest.Fault{Status: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`{"tokens":[` + one + `,` + one + `]}`)}
	file := f.parse("tokens: [{name: x, type: client, maxAge: 1h}]")
	f.srv.FailNext(1, twice)
	if _, err := desired.NewPlan(context.Background(), f.c, file, f.opts()); !errors.Is(err, unleashadmin.ErrUnexpectedResponse) || !strings.HasPrefix(err.Error(), "desired: ") {
		t.Fatalf("plan: %v", err)
	}
	p := f.plan(file, f.opts())
	f.clk.Advance(2 * time.Hour) // due: a rotate if the apply went on
	f.srv.FailNext(1, twice)
	n := f.srv.RequestCount()
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}})
	if res != nil || !errors.Is(err, unleashadmin.ErrUnexpectedResponse) || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("apply: %v, %v", res, err)
	}
	mustEqual(t, "requests", f.requestsSince(n), []string{"GET /api/admin/api-tokens"})
	if toks := f.named("x"); len(toks) != 1 || toks[0].Secret != tok.Secret {
		t.Fatalf("server holds %v", toks)
	}
}

// standIn is a stand-in on the real clock (tokens' ages grow as the test
// runs) and a client for it.
func standIn(t *testing.T, opts ...unleashtest.Option) (*unleashtest.Server, *unleashadmin.Client) {
	t.Helper()
	srv := unleashtest.NewTestServer(t, opts...)
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithRetryMax(0), unleashadmin.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// Item 1: applies of one file at once through one directory take turns,
// and each keeps the token the directory holds: after every round each
// file holds a live secret, and each entry has exactly one live token.
// Every apply rotates every entry (maxAge 1ms).
func TestConcurrentAppliesKeepWhatTheDirectoryHolds(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprint("secure=", secure), func(t *testing.T) {
			t.Parallel()
			var opts []unleashtest.Option
			if secure {
				opts = append(opts, unleashtest.WithSecureTokens())
			}
			srv, c := standIn(t, opts...)
			names := []string{"a", "b", "c", "d", "e"}
			var b strings.Builder
			b.WriteString("tokens:\n")
			for _, n := range names {
				fmt.Fprintf(&b, "  - {name: %s, type: client, maxAge: 1ms}\n", n)
			}
			sink := desired.DirSink{Dir: t.TempDir()}
			apply := func() error {
				// A file of its own: Validate writes to it.
				file, err := desired.Parse([]byte(b.String()))
				if err != nil {
					return err
				}
				time.Sleep(2 * time.Millisecond) // every token is older than maxAge
				p, err := desired.NewPlan(context.Background(), c, file, desired.Options{Reader: sink})
				if err != nil {
					return err
				}
				_, err = p.Apply(context.Background(), desired.ApplyOptions{Sink: sink})
				return err
			}
			check := func(when string) {
				t.Helper()
				for _, n := range names {
					held, ok, err := sink.Held(context.Background(), unleashadmin.APIToken{TokenName: n})
					var live []unleashtest.Token
					for _, tok := range srv.Tokens() {
						if tok.TokenName == n {
							live = append(live, tok)
						}
					}
					if err != nil || !ok || len(live) != 1 || live[0].Secret != held {
						t.Fatalf("%s: %s: %d tokens, or not the one the directory holds (%v)", when, n, len(live), err)
					}
				}
			}
			for round := 1; round <= 10; round++ {
				errs := make(chan error, 3)
				for range 3 {
					go func() { errs <- apply() }()
				}
				for range 3 {
					if err := <-errs; err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
				check(fmt.Sprint("after round ", round))
			}
			if err := apply(); err != nil {
				t.Fatal(err)
			}
			check("after the final apply")
		})
	}
}

// Item 2: a rotation whose delivery fails and whose new token cannot be
// deleted (a 503) leaves that token live; the next apply keeps the token
// the sink holds and leaves the undelivered one, until it is older than
// the settle time: then it is retired.
func TestUndeliveredTokenIsNeverKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := desired.DirSink{Dir: t.TempDir()}
	file := f.parse("tokens: [{name: x, type: client, maxAge: 1h}]")
	opts := f.opts()
	opts.Reader = dir
	opts.Settle = 30 * time.Minute
	if _, err := f.plan(file, opts).Apply(context.Background(), desired.ApplyOptions{Sink: dir}); err != nil {
		t.Fatal(err)
	}
	delivered := f.named("x")[0]
	f.clk.Advance(2 * time.Hour)
	observer := func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepRevoke {
			f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusServiceUnavailable, Body: []byte(`{"message":"unavailable"}`)})
		}
	}
	_, err := f.plan(file, opts).Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{fail: map[string]bool{"x": true}}, Observer: observer})
	if !errors.Is(err, unleashadmin.ErrUndeliveredLive) {
		t.Fatalf("got %v", err)
	}
	if len(f.named("x")) != 2 {
		t.Fatal("the undelivered token is not live")
	}
	var undelivered unleashtest.Token
	for _, tok := range f.named("x") {
		if tok.Secret != delivered.Secret {
			undelivered = tok
		}
	}
	file = f.parse("tokens: [{name: x, type: client, maxAge: 10h}]")
	for _, step := range []struct {
		advance time.Duration
		want    []string
	}{
		{time.Minute, []string{"keep x", "leave x"}},
		{29 * time.Minute, []string{"keep x", "retire x"}},
		{time.Minute, []string{"keep x"}},
	} {
		f.clk.Advance(step.advance)
		res, err := f.plan(file, opts).Apply(context.Background(), desired.ApplyOptions{Sink: dir})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "plan", summary(res.Plan), step.want)
		if res.Plan.Actions[0].Token.Secret != delivered.Secret {
			t.Fatalf("kept %v", res.Plan.Actions[0].Token)
		}
		if len(step.want) > 1 && res.Plan.Actions[1].Token.Secret != undelivered.Secret {
			t.Fatalf("%v", res.Plan.Actions[1])
		}
		if held, _, _ := dir.Held(context.Background(), unleashadmin.APIToken{TokenName: "x"}); held != delivered.Secret {
			t.Fatal("the directory no longer holds the delivered secret")
		}
	}
	if toks := f.named("x"); len(toks) != 1 || toks[0].Secret != delivered.Secret {
		t.Fatalf("server holds %v", toks)
	}
}

// A sink that holds nothing for an entry (the first run after adopting an
// instance, a lost file) is no reason to replace anything: the listed
// secret is delivered as it is; under secure token storage, where the list
// shows none, the entry is reported as not delivered and left, unless
// RotateUndelivered.
func TestSinkHoldingNothing(t *testing.T) {
	t.Parallel()
	t.Run("default storage", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
		f.clk.Advance(time.Second)
		kept := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
		other := f.seed("y", unleashadmin.TokenTypeClient, "development", nil, 0)
		dir := t.TempDir()
		sink := desired.DirSink{Dir: dir}
		// y's file holds a secret of no token of its own.
		if err := sink.Deliver(context.Background(), token("y", secretA)); err != nil {
			t.Fatal(err)
		}
		file := f.parse("tokens: [{name: x, type: client}, {name: y, type: client}]")
		opts := f.opts()
		opts.Reader = sink
		p := f.plan(file, opts)
		mustEqual(t, "plan", summary(p), []string{"deliver x", "retire x", "deliver y"})
		if p.Actions[0].Token.Secret != kept.Secret || !strings.Contains(p.Actions[2].Reason, "holds a secret of no token of this entry") {
			t.Fatalf("%v", p)
		}
		n := f.srv.RequestCount()
		res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "requests", f.requestsSince(n), []string{"GET /api/admin/api-tokens", "DELETE /api/admin/api-tokens/" + strings.Replace(old.Secret, "*", "%2A", 1)})
		for name, want := range map[string]string{"x": kept.Secret, "y": other.Secret} {
			if held, _, _ := sink.Held(context.Background(), unleashadmin.APIToken{TokenName: name}); held != want {
				t.Errorf("%s: the sink holds another secret", name)
			}
		}
		if o := res.Outcomes[0]; !o.Done || !o.Delivered || o.New != nil || o.Status() != desired.StatusDone {
			t.Fatalf("%v", o)
		}
		if p := f.plan(file, opts); !p.Empty() {
			t.Fatalf("second plan: %v", p)
		}
	})
	t.Run("secure storage", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, unleashtest.WithSecureTokens())
		f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
		f.clk.Advance(time.Second)
		f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
		sink := desired.DirSink{Dir: t.TempDir()}
		file := f.parse("tokens: [{name: x, type: client}]")
		opts := f.opts()
		opts.Reader = sink
		p := f.plan(file, opts)
		mustEqual(t, "plan", summary(p), []string{"keep x", "leave x"})
		if !p.Actions[0].Undelivered || !p.Empty() || !strings.HasPrefix(p.Actions[0].Reason, "NOT delivered") {
			t.Fatalf("%v", p)
		}
		n := f.srv.RequestCount()
		res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "requests", f.requestsSince(n), []string{"GET /api/admin/api-tokens"})
		if res.Outcomes[0].Status() != desired.StatusNotDelivered || res.Outcomes[1].Status() != desired.StatusLeft {
			t.Fatalf("%v", res)
		}
		// Asked to, it rotates the token nobody holds, and retires the
		// other after the delivery.
		opts.RotateUndelivered = true
		res, err = f.plan(file, opts).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, "applied", summary(res.Plan), []string{"rotate x", "retire x"})
		held, _, _ := sink.Held(context.Background(), unleashadmin.APIToken{TokenName: "x"})
		if toks := f.named("x"); len(toks) != 1 || toks[0].Secret != held {
			t.Fatalf("server holds %v", toks)
		}
		if p := f.plan(file, opts); !p.Empty() || p.Actions[0].Undelivered {
			t.Fatalf("next plan: %v", p)
		}
	})
}

// heldBy is a Sink and SinkReader whose Held says what it is told to.
type heldBy struct {
	recorder
	held func(name string) (string, bool, error)
}

func (h *heldBy) Held(_ context.Context, tok unleashadmin.APIToken) (string, bool, error) {
	return h.held(tok.TokenName)
}

// A delivery counts only when reading the sink back gives the new secret;
// otherwise the new token is deleted again and the old one left.
func TestDeliveryIsReadBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	file := f.parse("tokens: [{name: x, type: client, renewBefore: 2h}]")
	for _, tc := range []struct {
		held func(string) (string, bool, error)
		msg  string
	}{
		{func(string) (string, bool, error) { return old.Secret, true, nil }, "the sink holds another secret"},
		{func(string) (string, bool, error) { return "", false, nil }, "the sink holds no secret for the token"},
	} {
		sink := &heldBy{held: tc.held}
		res, err := f.plan(file, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
		if !errors.Is(err, unleashadmin.ErrNotDelivered) || !strings.Contains(err.Error(), tc.msg) {
			t.Fatalf("got %v", err)
		}
		if o := res.Outcomes[0]; !o.Revoked || o.Delivered || o.Retired {
			t.Fatalf("%v", o)
		}
		if toks := f.named("x"); len(toks) != 1 || toks[0].Secret != old.Secret {
			t.Fatalf("server holds %v", toks)
		}
	}
	// A sink that cannot be read fails the plan before anything changes.
	sink := &heldBy{held: func(string) (string, bool, error) { return "", false, errors.New("vault sealed") }}
	opts := f.opts()
	opts.Reader = sink
	if _, err := desired.NewPlan(context.Background(), f.c, file, opts); err == nil || !strings.Contains(err.Error(), `desired: reading what the sink holds for "x": vault sealed`) {
		t.Fatalf("got %v", err)
	}
	n := f.srv.RequestCount()
	if _, err := f.plan(file, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink}); err == nil {
		t.Fatal("no error")
	}
	for _, r := range f.requestsSince(n) {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("sent %s", r)
		}
	}
}

// One apply at a time per directory: a second one waits for the lock
// within its context, or gives up and changes nothing.
func TestDirSinkLock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sink := desired.DirSink{Dir: filepath.Join(t.TempDir(), "secrets")}
	file := f.parse("tokens: [{name: x, type: client}]")
	unlock, err := sink.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := f.plan(file, f.opts())
	n := f.srv.RequestCount()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := p.Apply(ctx, desired.ApplyOptions{Sink: sink})
	if res != nil || !errors.Is(err, desired.ErrLocked) || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), filepath.Join(sink.Dir, ".unleash-tokens.lock")) {
		t.Fatalf("got %v, %v", res, err)
	}
	if got := f.requestsSince(n); len(got) != 0 {
		t.Fatalf("sent %v", got)
	}
	// A waiting apply goes on once the lock is let go.
	done := make(chan error, 1)
	go func() {
		_, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink})
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if got := f.requestsSince(n); len(got) != 0 {
		t.Fatalf("sent %v while the lock was held", got)
	}
	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(f.named("x")) != 1 {
		t.Fatal("not applied")
	}
	// The lock file is the sink's own: no token may be delivered over it.
	if err := sink.Deliver(context.Background(), token(".unleash-tokens.lock", secretA)); err == nil {
		t.Fatal("delivered over the lock file")
	}
}

// DirSink.Held and ExecSink.Held: what the sink holds, nothing, or an
// error.
func TestSinksSayWhatTheyHold(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	d := desired.DirSink{Dir: dir}
	for name, content := range map[string]string{"a": secretA + "\n", "empty": "", "big": strings.Repeat("x", 5000)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		secret string
		ok     bool
		err    bool
	}{{"a", secretA, true, false}, {"empty", "", false, false}, {"missing", "", false, false}, {"big", "", false, true}, {"../a", "", false, true}} {
		s, ok, err := d.Held(ctx, unleashadmin.APIToken{TokenName: tc.name})
		if s != tc.secret || ok != tc.ok || (err != nil) != tc.err {
			t.Errorf("DirSink %s: %q %t %v", tc.name, s, ok, err)
		}
	}
	if _, ok, err := (desired.DirSink{Dir: filepath.Join(dir, "none")}).Held(ctx, unleashadmin.APIToken{TokenName: "a"}); ok || err != nil {
		t.Errorf("a missing directory: %t %v", ok, err)
	}

	var errOut bytes.Buffer
	for _, tc := range []struct {
		cmd    string
		secret string
		ok     bool
		err    string
	}{
		{`printf '  %s\n' "$(cat "` + dir + `/$UNLEASH_TOKEN_NAME")"; echo "read $(cat "` + dir + `/$UNLEASH_TOKEN_NAME")" >&2`, secretA, true, ""},
		{`true`, "", false, ""},
		{`echo "$UNLEASH_TOKEN_NAME $UNLEASH_TOKEN_TYPE $UNLEASH_TOKEN_ENVIRONMENT $UNLEASH_TOKEN_PROJECTS"`, "a backend production a,b", true, ""},
		{`exit 3`, "", false, "desired: ExecSink: the read command failed: exit status 3"},
	} {
		e := desired.ExecSink{ReadCommand: tc.cmd, Stderr: &errOut}
		s, ok, err := e.Held(ctx, token("a", ""))
		if s != tc.secret || ok != tc.ok || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("ExecSink %q: %q %t %v", tc.cmd, s, ok, err)
		}
	}
	if strings.Contains(errOut.String(), secretA[20:40]) || !strings.Contains(errOut.String(), "read "+unleashadmin.RedactSecret(secretA)) {
		t.Errorf("the read command's stderr reached its writer as %q", errOut.String())
	}
	if (desired.ExecSink{Command: "cat"}).Readable() || !(desired.ExecSink{ReadCommand: "cat"}).Readable() {
		t.Error("Readable")
	}
	if _, _, err := (desired.ExecSink{Command: "cat"}).Held(ctx, token("a", "")); err == nil {
		t.Error("Held without a read command: no error")
	}
}

// Settle and RotateUndelivered go to JSON and back; a negative settle time
// is refused.
func TestOptionsSettleJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(desired.Options{Settle: 90 * time.Second, RotateUndelivered: true, Reader: desired.DirSink{Dir: "x"}})
	if err != nil || string(b) != `{"settle":"1m30s","rotateUndelivered":true}` {
		t.Fatalf("%s %v", b, err)
	}
	var o desired.Options
	if err := json.Unmarshal(b, &o); err != nil || o.Settle != 90*time.Second || !o.RotateUndelivered {
		t.Fatalf("%+v %v", o, err)
	}
	if err := json.Unmarshal([]byte(`{"settle":"soon"}`), &o); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Fatalf("got %v", err)
	}
	f := newFixture(t)
	if _, err := desired.NewPlan(context.Background(), f.c, f.parse("tokens: []"), desired.Options{Settle: -time.Second}); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Fatalf("got %v", err)
	}
}

// A listed secret that cannot be delivered leaves every token of its entry
// as it is.
func TestDeliverListedFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.clk.Advance(time.Second)
	kept := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, 0)
	sink := &heldBy{recorder: recorder{fail: map[string]bool{"x": true}}, held: func(string) (string, bool, error) { return "", false, nil }}
	opts := f.opts()
	opts.Reader = sink
	n := f.srv.RequestCount()
	res, err := f.plan(f.parse("tokens: [{name: x, type: client}]"), opts).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if !errors.Is(err, unleashadmin.ErrNotDelivered) || !strings.Contains(err.Error(), "desired: deliver x: the listed secret could not be delivered, and every token of the entry is left as it is: the vault is sealed") {
		t.Fatalf("got %v", err)
	}
	mustEqual(t, "applied", summary(res.Plan), []string{"deliver x", "retire x"})
	if o := res.Outcomes[0]; o.Delivered || o.Revoked || o.Status() != desired.StatusFailed || res.Outcomes[1].Retired {
		t.Fatalf("%v", res)
	}
	mustEqual(t, "requests", f.requestsSince(n), []string{"GET /api/admin/ui-config", "GET /api/admin/api-tokens", "GET /api/admin/api-tokens"})
	for _, tok := range []unleashadmin.APIToken{old, kept} {
		if _, ok := f.has(tok.Secret); !ok {
			t.Error("a token was retired")
		}
	}
}
