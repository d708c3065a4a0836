package desired_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// fakeClock is a clock the tests move by hand, shared by the stand-in
// (WithClock) and the plan (Options.Now).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a stand-in with a fake clock and a client for it.
type fixture struct {
	t   *testing.T
	srv *unleashtest.Server
	c   *unleashadmin.Client
	clk *fakeClock
}

func newFixture(t *testing.T, opts ...unleashtest.Option) *fixture {
	t.Helper()
	clk := newClock()
	opts = append([]unleashtest.Option{unleashtest.WithClock(clk.Now), unleashtest.WithProjects("default", "a", "b")}, opts...)
	srv := unleashtest.NewTestServer(t, opts...)
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithRetryMax(0), unleashadmin.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, srv: srv, c: c, clk: clk}
}

// seed makes a token directly, as something other than the plan would.
func (f *fixture) seed(name string, typ unleashadmin.TokenType, env string, projects []string, expiresIn time.Duration) unleashadmin.APIToken {
	f.t.Helper()
	req := unleashadmin.CreateAPITokenRequest{Type: typ, TokenName: name, Environment: env, Projects: projects}
	if expiresIn != 0 {
		req.ExpiresAt = unleashadmin.Ptr(f.clk.Now().Add(expiresIn))
	}
	tok, err := f.c.CreateAPIToken(context.Background(), req)
	if err != nil {
		f.t.Fatal(err)
	}
	return *tok
}

func (f *fixture) opts() desired.Options {
	return desired.Options{Now: f.clk.Now}
}

func (f *fixture) parse(yaml string) *desired.File {
	f.t.Helper()
	file, err := desired.Parse([]byte(yaml))
	if err != nil {
		f.t.Fatal(err)
	}
	return file
}

func (f *fixture) plan(file *desired.File, opts desired.Options) *desired.Plan {
	f.t.Helper()
	p, err := desired.NewPlan(context.Background(), f.c, file, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

// named returns the server's tokens with this name, oldest first.
func (f *fixture) named(name string) []unleashtest.Token {
	var out []unleashtest.Token
	for _, t := range f.srv.Tokens() {
		if t.TokenName == name {
			out = append(out, t)
		}
	}
	return out
}

// live returns the tokens with this name that work at the fake clock's now.
func (f *fixture) live(name string) []unleashtest.Token {
	now := f.clk.Now()
	return slices.DeleteFunc(f.named(name), func(t unleashtest.Token) bool { return t.ExpiresAt != nil && !t.ExpiresAt.After(now) })
}

func (f *fixture) has(secret string) (unleashtest.Token, bool) {
	for _, t := range f.srv.Tokens() {
		if t.Secret == secret {
			return t, true
		}
	}
	return unleashtest.Token{}, false
}

// requestsSince returns "METHOD path" of the requests after the first n.
func (f *fixture) requestsSince(n int) []string {
	var out []string
	for _, r := range f.srv.Requests()[n:] {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// summary is "kind name" of each action, in order.
func summary(p *desired.Plan) []string {
	out := make([]string, 0, len(p.Actions))
	for _, a := range p.Actions {
		out = append(out, string(a.Kind)+" "+a.Name)
	}
	return out
}

func changes(p *desired.Plan) []string {
	var out []string
	for _, a := range p.Actions {
		if a.Changes() {
			out = append(out, string(a.Kind)+" "+a.Name)
		}
	}
	return out
}

// recorder is a Sink that keeps what it was given, and fails for the names
// in fail.
type recorder struct {
	mu   sync.Mutex
	got  []unleashadmin.APIToken
	fail map[string]bool
}

func (r *recorder) Deliver(_ context.Context, tok unleashadmin.APIToken) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail[tok.TokenName] {
		return errors.New("the vault is sealed")
	}
	r.got = append(r.got, tok)
	return nil
}

func (r *recorder) secrets() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]string{}
	for _, t := range r.got {
		m[t.TokenName] = t.Secret
	}
	return m
}

func mustEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }
