package unleashtest_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

func TestWithTokens(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	created := time.Date(2029, 2, 3, 4, 5, 6, 789_999_999, time.FixedZone("x", 3600))
	expires := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := time.Date(2029, 12, 31, 23, 0, 0, 0, time.UTC)
	const v2 = "default:production.v2_AAAAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"),
		unleashtest.WithClock(func() time.Time { return start }),
		unleashtest.WithTokens(
			unleashtest.Token{Secret: "default:development.legacy", TokenName: "legacy", Type: "BACKEND", Project: "default",
				CreatedAt: created, ExpiresAt: &expires, SeenAt: &seen},
			unleashtest.Token{Secret: v2, TokenName: "secure", Type: "backend", Projects: []string{"default"}, Environment: "production"},
		),
		unleashtest.WithTokens(
			unleashtest.Token{TokenName: "generated", Type: "frontend", Projects: []string{"second", "default"}},
			unleashtest.Token{TokenName: "generated-v2", Type: "client", Secure: true, Projects: []string{"default", "*"}},
			unleashtest.Token{Secret: "*:*.second-admin", TokenName: "ops", Type: "admin"},
		),
	)
	toks := s.Tokens()
	if len(toks) != 6 {
		t.Fatalf("%d tokens held", len(toks))
	}
	ms := created.UTC().Truncate(time.Millisecond)
	want := []unleashtest.Token{
		{Secret: "default:development.legacy", TokenName: "legacy", Type: "client", Project: "default", Projects: []string{"default"},
			Environment: "development", CreatedAt: ms, ExpiresAt: &expires, SeenAt: &seen},
		{Secret: v2, TokenName: "secure", Type: "backend", Project: "default", Projects: []string{"default"},
			Environment: "production", CreatedAt: start, Selector: "AAAAAAAAAAAAAAAAAAAAAA", Secure: true},
	}
	for i, w := range want {
		if !reflect.DeepEqual(toks[i+1], w) {
			t.Errorf("seed %d held as %+v\n want %+v", i+1, toks[i+1], w)
		}
	}
	if g := toks[3]; !strings.HasPrefix(g.Secret, "[]:development.") || len(g.Secret) != len("[]:development.")+56 || g.Secure || g.Project != "second,default" {
		t.Errorf("generated legacy seed %+v", g)
	}
	if g := toks[4]; !v2SecretRE.MatchString(g.Secret) || !strings.HasPrefix(g.Secret, "*:development.v2_") || !g.Secure || g.Project != "*" {
		t.Errorf("generated secure seed %+v", g)
	}
	// Seeds work like created tokens: listed, live, and an admin seed is a
	// key.
	list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens"))
	if len(list) != 6 || list[1]["seenAt"] != "2029-12-31T23:00:00.000Z" || list[1]["createdAt"] != "2029-02-03T03:05:06.789Z" {
		t.Errorf("list %v", list)
	}
	if got := validate(t, s, "default:development.legacy", v2, toks[5].Secret); len(got) != 3 {
		t.Errorf("seeds validated as %v", got)
	}
	wantStatus(t, send(t, s, "GET", "/api/admin/api-tokens", "*:*.second-admin", "", nil), http.StatusOK)
	if n := len(s.Events()); n != 0 {
		t.Errorf("%d events for seeds", n)
	}
	// A secure seed in default mode stays secure (listed by selector).
	d := unleashtest.NewTestServer(t, unleashtest.WithTokens(unleashtest.Token{Secret: v2, TokenName: "v2", Type: "client", Environment: "development"}))
	if l := tokens(t, admin(t, d, "GET", "/api/admin/api-tokens/v2")); len(l) != 1 || l[0]["secret"] != "AAAAAAAAAAAAAAAAAAAAAA" || l[0]["secure"] != true {
		t.Errorf("secure seed in default mode listed as %v", l)
	}
}

// Seed errors name the seed by its position and the field at fault, never
// a value of the seed: a seed file's values may hold a secret put in the
// wrong place. Every value below holds "SEEDVALUE" (or is a secret).
func TestWithTokensErrors(t *testing.T) {
	t.Parallel()
	const v2 = "*:development.v2_AAAAAAAAAAAAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	const (
		name = "name-SEEDVALUE"
		dup  = "dup-SEEDVALUE" // a project the Server has
	)
	ok := unleashtest.Token{TokenName: name, Type: "client"}
	cases := []struct {
		seeds []unleashtest.Token
		want  string
	}{
		{[]unleashtest.Token{{Type: "client"}}, "token 1: TokenName is empty"},
		{[]unleashtest.Token{ok, {TokenName: name}}, "token 2: Type is empty"},
		{[]unleashtest.Token{{TokenName: name, Type: "root-SEEDVALUE"}}, "token 1: Type is not client, backend, frontend or admin"},
		{[]unleashtest.Token{{TokenName: name, Type: "client", Projects: []string{"default", "nope-SEEDVALUE"}}}, "token 1: project 2 does not exist (WithProjects sets the projects)"},
		{[]unleashtest.Token{{TokenName: name, Type: "client", Project: "default,nope-SEEDVALUE"}}, "token 1: project 2 does not exist"},
		{[]unleashtest.Token{{TokenName: name, Type: "client", Projects: []string{"default", ""}}}, "project 2 is empty"},
		{[]unleashtest.Token{{TokenName: name, Type: "client", Projects: []string{dup, "default", dup}}}, "token 1: project 3 repeats project 1"},
		{[]unleashtest.Token{{TokenName: name, Type: "client", Project: "x-SEEDVALUE", Projects: []string{"default"}}}, "token 1: Project disagrees with Projects"},
		{[]unleashtest.Token{{TokenName: name, Type: "client", Environment: "nope-SEEDVALUE"}}, "token 1: Environment does not exist (WithEnvironments sets the environments)"},
		{[]unleashtest.Token{{TokenName: name, Type: "frontend", Environment: "*"}}, `token 1: Environment "*" is for admin tokens only`},
		{[]unleashtest.Token{{TokenName: "t", Type: "admin", Environment: "development"}}, "an admin token must have all projects"},
		{[]unleashtest.Token{{TokenName: "t", Type: "admin", Projects: []string{"default"}}}, "an admin token must have all projects"},
		{[]unleashtest.Token{{TokenName: "t", Type: "client", Secret: "has space"}}, "Secret holds a space"},
		{[]unleashtest.Token{{TokenName: "t", Type: "client", Secret: "*:development.legacy", Secure: true}}, "Secure is set but Secret is not a v2 secret"},
		{[]unleashtest.Token{{TokenName: "t", Type: "client", Secret: "*:development.legacy", Selector: "AAAAAAAAAAAAAAAAAAAAAA"}}, "Selector is set but Secret is not a v2 secret"},
		{[]unleashtest.Token{{TokenName: "t", Type: "client", Secret: v2, Selector: "CCCCCCCCCCCCCCCCCCCCCC"}}, "Selector is not the selector of Secret"},
		{[]unleashtest.Token{{TokenName: "t", Type: "client", Selector: "CCCCCCCCCCCCCCCCCCCCCC"}}, "Selector is set but Secret is empty"},
		{[]unleashtest.Token{{TokenName: "t", Type: "admin", Secret: unleashtest.DefaultAdminKey}}, "Secret is one of the admin keys"},
		{[]unleashtest.Token{{TokenName: "a", Type: "client", Secret: "x"}, {TokenName: name, Type: "client", Secret: "x"}}, "token 2: Secret is the secret of an earlier token"},
		{[]unleashtest.Token{{TokenName: "a", Type: "client", Secret: v2}, {TokenName: "b", Type: "client",
			Secret: "default:development.v2_AAAAAAAAAAAAAAAAAAAAAA_CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", Projects: []string{"default"}}},
			"the selector of Secret is that of an earlier token"},
	}
	for _, c := range cases {
		s, err := unleashtest.Listen("127.0.0.1:0", unleashtest.WithProjects("default", dup), unleashtest.WithTokens(c.seeds...))
		if err == nil {
			s.Close()
			t.Errorf("%+v: no error", c.seeds)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "unleashtest: WithTokens: token ") {
			t.Errorf("error %q, want it to hold %q", err, c.want)
		}
		if strings.Contains(err.Error(), "SEEDVALUE") {
			t.Errorf("error %q quotes a value of the seed", err)
		}
		for _, seed := range c.seeds {
			if seed.Secret != "" && len(seed.Secret) > 3 && strings.Contains(err.Error(), seed.Secret) {
				t.Errorf("error %q holds a secret", err)
			}
		}
	}

	// NewTestServer fails the test; NewServer panics with the same message.
	bad := unleashtest.WithTokens(unleashtest.Token{TokenName: "t", Type: "root"})
	ft := &fatalTB{TB: t}
	if s := unleashtest.NewTestServer(ft, bad); s != nil || !strings.Contains(ft.msg, "token 1: Type is not") {
		t.Errorf("NewTestServer: %v, fatal %q", s, ft.msg)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "token 1: Type is not") {
				t.Errorf("NewServer panicked with %v", r)
			}
		}()
		unleashtest.NewServer(bad).Close()
	}()
}

// fatalTB records Fatal instead of stopping the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...) }

func TestListen(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"", "127.0.0.1:0", "0.0.0.0:0", "localhost:0"} {
		s, err := unleashtest.Listen(addr, unleashtest.WithSecureTokens())
		if err != nil {
			t.Fatalf("Listen(%q): %v", addr, err)
		}
		if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") && !strings.HasPrefix(s.URL(), "http://[::1]:") {
			t.Errorf("Listen(%q): URL %s", addr, s.URL())
		}
		wantStatus(t, admin(t, s, "GET", "/api/admin/api-tokens"), http.StatusOK)
		c := create(t, s, `{"tokenName":"c","type":"client"}`)
		if !v2SecretRE.MatchString(c["secret"].(string)) {
			t.Errorf("Listen(%q): options not applied: %v", addr, c)
		}
		s.Close()
		s.Close()
		if _, err := http.Get(s.URL() + "/health"); err == nil {
			t.Errorf("Listen(%q): still serving after Close", addr)
		}
	}
	// A port in use, and an address that is not one.
	s := unleashtest.NewTestServer(t)
	if _, err := unleashtest.Listen(strings.TrimPrefix(s.URL(), "http://")); err == nil || !strings.HasPrefix(err.Error(), "unleashtest: ") {
		t.Errorf("Listen on a port in use: %v", err)
	}
	if _, err := unleashtest.Listen("no-port"); err == nil {
		t.Error("Listen(no-port): no error")
	}
}

// A Server from Listen closes connections that hang around, and Close
// ends while a client holds an idle keep-alive connection.
func TestListenCloseWithIdleClient(t *testing.T) {
	t.Parallel()
	s, err := unleashtest.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	res, err := c.Get(s.URL() + "/health")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	// A half-sent request: the connection never completes a request.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("GET /health HTTP/1.1\r\n"))

	var wg sync.WaitGroup
	wg.Add(1)
	done := make(chan struct{})
	go func() {
		defer wg.Done()
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	wg.Wait()
}
