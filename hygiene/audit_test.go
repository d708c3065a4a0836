package hygiene_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

const day = 24 * time.Hour

var t0 = time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake clock shared by a stand-in (unleashtest.WithClock) and
// the code under test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(at time.Time) *clock { return &clock{now: at} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = at
}

// standIn is a stand-in whose clock the test sets, and a client for it.
func standIn(t *testing.T, clk *clock, opts ...unleashtest.Option) (*unleashtest.Server, *unleashadmin.Client) {
	t.Helper()
	srv := unleashtest.NewTestServer(t, append([]unleashtest.Option{unleashtest.WithClock(clk.Now)}, opts...)...)
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return srv, c
}

// withLimit serves the token list of a client and a ServerInfo with a token
// limit, for the stand-in, which does not serve GET /api/admin/ui-config
// yet.
type withLimit struct {
	*unleashadmin.Client
	limit int
}

func (w withLimit) ServerInfo(context.Context) (*unleashadmin.ServerInfo, error) {
	return &unleashadmin.ServerInfo{Version: "8.2.0", TokenLimit: w.limit}, nil
}

func create(t *testing.T, c *unleashadmin.Client, req unleashadmin.CreateAPITokenRequest) unleashadmin.APIToken {
	t.Helper()
	tok, err := c.CreateAPIToken(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return *tok
}

// names returns "kind name" for each finding.
func names(r *hygiene.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, string(f.Kind)+" "+f.Token.TokenName)
	}
	return out
}

func audit(t *testing.T, inst hygiene.Instance, opts hygiene.AuditOptions) *hygiene.Report {
	t.Helper()
	r, err := hygiene.Audit(context.Background(), inst, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAuditNeverSeenAfterADay: the stand-in lists seenAt null; a token is
// never-seen once it is older than exactly one day, not at one day.
func TestAuditNeverSeenAfterADay(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	_, c := standIn(t, clk)
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "frontend", TokenName: "web"})

	// The admin token was made when the stand-in started, at t0 too, and
	// is never seen as well: the stand-in never sets seenAt.
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{t0.Add(day), []string{"all-projects web"}},
		{t0.Add(day + time.Millisecond), []string{"never-seen admin", "never-seen web", "all-projects web"}},
	} {
		clk.Set(tc.at)
		if got := names(audit(t, withLimit{c, 2000}, hygiene.AuditOptions{Now: clk.Now})); !slices.Equal(got, tc.want) {
			t.Errorf("at t0+%s: findings %q, want %q", tc.at.Sub(t0), got, tc.want)
		}
	}
}

// TestAuditUnusedBoundary: seenAt values come from a fake server (the
// stand-in always lists null); unused means unseen for longer than
// UnusedFor, the default 30 days or the one given.
func TestAuditUnusedBoundary(t *testing.T) {
	t.Parallel()
	now := t0
	f := newFake(t,
		tok("exactly-30d", now.Add(-100*day), seen(now.Add(-30*day))),
		tok("30d-and-1ms", now.Add(-100*day), seen(now.Add(-30*day-time.Millisecond))),
		tok("7d-and-1ms", now.Add(-100*day), seen(now.Add(-7*day-time.Millisecond))),
		tok("seen-now", now.Add(-100*day), seen(now)),
	)
	f.tokens[len(f.tokens)-1].SeenAt = &now // the admin key is in use
	clk := func() time.Time { return now }
	got := names(audit(t, f.client(), hygiene.AuditOptions{Now: clk}))
	if want := []string{"unused 30d-and-1ms"}; !slices.Equal(got, want) {
		t.Errorf("default UnusedFor: %q, want %q", got, want)
	}
	got = names(audit(t, f.client(), hygiene.AuditOptions{Now: clk, UnusedFor: 7 * day}))
	if want := []string{"unused 30d-and-1ms", "unused 7d-and-1ms", "unused exactly-30d"}; !slices.Equal(got, want) {
		t.Errorf("UnusedFor 7d: %q, want %q", got, want)
	}
	r := audit(t, f.client(), hygiene.AuditOptions{Now: clk})
	if want := "last seen 2030-01-30T11:59:59Z, over 30d ago"; r.Findings[0].Reason != want {
		t.Errorf("reason %q, want %q", r.Findings[0].Reason, want)
	}
}

// TestAuditExpiredAndExpiring: on the stand-in with its clock, a token is
// expired from its expiry on, expiring when it expires before now plus
// ExpiringWithin; an expired token has no other finding.
func TestAuditExpiredAndExpiring(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	_, c := standIn(t, clk)
	for name, at := range map[string]time.Time{
		"ends-now":        t0.Add(time.Hour),
		"ends-in-1ms":     t0.Add(time.Hour + time.Millisecond),
		"ends-in-14d":     t0.Add(time.Hour + 14*day),
		"ends-in-14d-1ms": t0.Add(time.Hour + 14*day - time.Millisecond),
		"ends-in-3d":      t0.Add(time.Hour + 3*day),
	} {
		create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: name, Projects: []string{"default"}, ExpiresAt: &at})
	}
	clk.Set(t0.Add(time.Hour))
	lim := withLimit{c, 2000}

	got := names(audit(t, lim, hygiene.AuditOptions{Now: clk.Now}))
	want := []string{"expired ends-now", "expiring ends-in-14d-1ms", "expiring ends-in-1ms", "expiring ends-in-3d"}
	if !slices.Equal(got, want) {
		t.Errorf("default ExpiringWithin: %q, want %q", got, want)
	}
	got = names(audit(t, lim, hygiene.AuditOptions{Now: clk.Now, ExpiringWithin: 3 * day}))
	want = []string{"expired ends-now", "expiring ends-in-1ms"}
	if !slices.Equal(got, want) {
		t.Errorf("ExpiringWithin 3d: %q, want %q", got, want)
	}

	// Two days on: every token but the 14-day ones has expired, and an
	// expired all-projects token, never seen, is reported expired only.
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "frontend", TokenName: "dead-star", ExpiresAt: unleashadmin.Ptr(t0.Add(2 * time.Hour))})
	clk.Set(t0.Add(4 * day))
	got = names(audit(t, lim, hygiene.AuditOptions{Now: clk.Now}))
	want = []string{"never-seen admin", "never-seen ends-in-14d", "never-seen ends-in-14d-1ms",
		"expired dead-star", "expired ends-in-1ms", "expired ends-in-3d", "expired ends-now",
		"expiring ends-in-14d", "expiring ends-in-14d-1ms"}
	if !slices.Equal(got, want) {
		t.Errorf("four days on: %q, want %q", got, want)
	}
}

// TestAuditDuplicates: live tokens with the same name, type (backend is
// client), environment and projects (in any order) are duplicates; expired
// ones do not count.
func TestAuditDuplicates(t *testing.T) {
	t.Parallel()
	now := t0
	s := seen(now)
	f := newFake(t,
		tok("svc", now.Add(-3*day), s, typed("backend"), projects("b", "a")),
		tok("svc", now.Add(-2*day), s, typed("client"), projects("a", "b")),
		tok("svc", now.Add(-1*day), s, typed("CLIENT"), projects("a", "b"), expires(now.Add(-time.Second))),
		tok("svc", now.Add(-1*day), s, typed("frontend"), projects("a", "b")),
		tok("svc", now.Add(-1*day), s, projects("a", "b"), env("production")),
		tok("svc", now.Add(-1*day), s, projects("a")),
		tok("lonely", now.Add(-3*day), s),
		tok("lonely", now.Add(-2*day), s, expires(now)),
		tok("web", now.Add(-3*day), s, typed("frontend"), projects("*")),
		tok("web", now.Add(-2*day), s, typed("frontend"), projects("*")),
	)
	f.tokens[len(f.tokens)-1].SeenAt = &now
	r := audit(t, f.client(), hygiene.AuditOptions{Now: func() time.Time { return now }})
	dups := r.Of(hygiene.KindDuplicate)
	var got []string
	for _, d := range dups {
		got = append(got, d.Token.TokenName+" "+string(d.Token.Type)+" "+d.Token.CreatedAt.Sub(now).String())
	}
	want := []string{"svc backend -72h0m0s", "svc client -48h0m0s", "web frontend -72h0m0s", "web frontend -48h0m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("duplicates %q, want %q", got, want)
	}
	if want := "one of 2 live tokens with this name, type, environment and projects"; len(dups) > 0 && dups[0].Reason != want {
		t.Errorf("reason %q, want %q", dups[0].Reason, want)
	}
	if n := len(r.Of(hygiene.KindExpired)); n != 2 {
		t.Errorf("%d expired findings, want 2", n)
	}
}

// TestAuditAllProjects: client, backend and frontend tokens for "*" are
// reported; admin tokens, one-project and multi-project tokens are not.
func TestAuditAllProjects(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	_, c := standIn(t, clk, unleashtest.WithProjects("default", "second"))
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "backend", TokenName: "star-backend"})
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "frontend", TokenName: "star-frontend", Projects: []string{"*"}})
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "two", Projects: []string{"default", "second"}})
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "one", Projects: []string{"second"}})
	got := names(audit(t, withLimit{c, 2000}, hygiene.AuditOptions{Now: clk.Now}))
	if want := []string{"all-projects star-backend", "all-projects star-frontend"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
}

// TestAuditLimit: the count includes admin tokens; the warning starts at
// exactly 80 % of the limit.
func TestAuditLimit(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	_, c := standIn(t, clk, unleashtest.WithTokenLimit(10))
	for i := range 6 {
		create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "n" + string(rune('a'+i)), Projects: []string{"default"}})
	}
	r := audit(t, withLimit{c, 10}, hygiene.AuditOptions{Now: clk.Now})
	if r.Tokens != 7 || r.Counted != 7 || r.Limit != 10 || r.NearLimit() {
		t.Errorf("7 of 10: Tokens %d Counted %d Limit %d NearLimit %t", r.Tokens, r.Counted, r.Limit, r.NearLimit())
	}
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "ng", Projects: []string{"default"}})
	r = audit(t, withLimit{c, 10}, hygiene.AuditOptions{Now: clk.Now})
	if r.Tokens != 8 || r.Counted != 8 || !r.NearLimit() {
		t.Errorf("8 of 10: Tokens %d NearLimit %t", r.Tokens, r.NearLimit())
	}
}

// TestAuditLimitSecureStorage: under secure token storage Unleash counts
// only the tokens made in that mode (listed with secure: true) against
// its limit; the others are listed but not counted.
func TestAuditLimitSecureStorage(t *testing.T) {
	t.Parallel()
	var list []fakeToken
	for i := range 9 {
		tk := tok("t", t0, seen(t0))
		tk.Secure = i < 7
		if tk.Secure {
			tk.Secret = strings.Repeat(string(rune('A'+i)), 22)
		}
		list = append(list, tk)
	}
	f := newFake(t, list...)
	f.limit, f.secure = 10, true
	r := audit(t, f.client(), hygiene.AuditOptions{Now: func() time.Time { return t0 }})
	if r.Tokens != 10 || r.Counted != 7 || r.NearLimit() {
		t.Errorf("Tokens %d Counted %d NearLimit %t, want 10, 7, false", r.Tokens, r.Counted, r.NearLimit())
	}
	f.mu.Lock()
	f.tokens[0].Secure = false
	f.tokens[7].Secure = true
	f.tokens = append(f.tokens, tok("u", t0, seen(t0)))
	f.tokens[len(f.tokens)-1].Secure = true
	f.mu.Unlock()
	if r := audit(t, f.client(), hygiene.AuditOptions{Now: func() time.Time { return t0 }}); r.Counted != 8 || !r.NearLimit() {
		t.Errorf("Counted %d NearLimit %t, want 8, true", r.Counted, r.NearLimit())
	}
	f.mu.Lock()
	f.secure = false
	f.mu.Unlock()
	if r := audit(t, f.client(), hygiene.AuditOptions{Now: func() time.Time { return t0 }}); r.Counted != 11 {
		t.Errorf("default storage: Counted %d, want every listed token", r.Counted)
	}
}

// TestAuditReadsOnce: one token list and one ui-config, with the key; the
// limit comes from resourceLimits.apiTokens.
func TestAuditReadsOnce(t *testing.T) {
	t.Parallel()
	f := newFake(t, tok("a", t0, seen(t0)))
	f.limit = 2
	r := audit(t, f.client(), hygiene.AuditOptions{Now: func() time.Time { return t0 }})
	if want := []string{"GET /api/admin/api-tokens", "GET /api/admin/ui-config"}; !slices.Equal(f.requests, want) {
		t.Errorf("requests %q, want %q", f.requests, want)
	}
	if r.Tokens != 2 || r.Limit != 2 || !r.NearLimit() || !r.At.Equal(t0) {
		t.Errorf("report %v", r)
	}
}

// TestAuditWithoutUIConfig: a server without GET /api/admin/ui-config (the
// stand-in today) leaves the limit unknown: no warning, "limit": null.
func TestAuditWithoutUIConfig(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	_, c := standIn(t, clk, unleashtest.WithTokenLimit(1))
	r := audit(t, c, hygiene.AuditOptions{Now: clk.Now})
	if r.Tokens != 1 || r.Limit != 0 || r.NearLimit() {
		t.Errorf("report %v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"tokens":1,"counted":1,"limit":null,"nearLimit":false,"findings":[]}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
}

// TestAuditErrors: bad options send nothing; a refused list or a failed
// ui-config (other than a 404) is the error, with no report.
func TestAuditErrors(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	for _, o := range []hygiene.AuditOptions{{UnusedFor: -1}, {ExpiringWithin: -time.Hour}} {
		if _, err := hygiene.Audit(context.Background(), f.client(), o); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
			t.Errorf("%+v: err %v, want ErrInvalidArgument", o, err)
		}
	}
	if _, err := hygiene.Audit(context.Background(), nil, hygiene.AuditOptions{}); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("nil Instance: err %v", err)
	}
	if len(f.requests) != 0 {
		t.Errorf("sent %q", f.requests)
	}

	bad, err := unleashadmin.NewClient(f.srv.URL, "*:*.not-the-key-not-the-key-not-the-key", unleashadmin.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := hygiene.Audit(context.Background(), bad, hygiene.AuditOptions{}); !errors.Is(err, unleashadmin.ErrUnauthorized) || r != nil {
		t.Errorf("unknown key: %v, %v", r, err)
	}

	clk := newClock(t0)
	srv, c := standIn(t, clk)
	srv.FailNext(1, unleashtest.Fault{Delay: 0})                          // the list goes through
	srv.FailNext(1, unleashtest.Fault{Status: 503, Body: []byte("busy")}) // the ui-config does not
	if r, err := hygiene.Audit(context.Background(), c, hygiene.AuditOptions{}); err == nil || errors.Is(err, unleashadmin.ErrNotFound) || r != nil {
		t.Errorf("ui-config 503: %v, %v", r, err)
	}
}

// TestReportJSON: the documented shape, secrets redacted, findings of a
// secure token shown by selector.
func TestReportJSON(t *testing.T) {
	t.Parallel()
	sel := "AbCdEfGhIjKlMnOpQrStUv"
	full := tok("svc", t0.Add(-40*day), seen(t0.Add(-31*day)), expires(t0.Add(day)))
	secure := tok("sec", t0.Add(-2*day), typed("backend"), projects("*"))
	secure.Secret, secure.Secure = sel, true
	f := newFake(t, full, secure)
	f.limit = 2000
	f.tokens[len(f.tokens)-1].SeenAt = &t0
	r := audit(t, f.client(), hygiene.AuditOptions{Now: func() time.Time { return t0 }})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tokens    int
		Limit     *int
		NearLimit bool
		Findings  []map[string]any
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Tokens != 3 || got.Limit == nil || *got.Limit != 2000 || got.NearLimit || len(got.Findings) != 4 {
		t.Fatalf("JSON %s", b)
	}
	wantKinds := []string{"never-seen", "unused", "expiring", "all-projects"}
	for i, fd := range got.Findings {
		if fd["kind"] != wantKinds[i] {
			t.Errorf("finding %d kind %v, want %s", i, fd["kind"], wantKinds[i])
		}
		for _, k := range []string{"kind", "name", "secret", "type", "environment", "projects", "createdAt", "expiresAt", "seenAt", "reason"} {
			if _, ok := fd[k]; !ok {
				t.Errorf("finding %d lacks %q: %v", i, k, fd)
			}
		}
	}
	if got.Findings[0]["secret"] != sel || got.Findings[1]["secret"] != unleashadmin.RedactSecret(full.Secret) {
		t.Errorf("secrets %v, %v", got.Findings[0]["secret"], got.Findings[1]["secret"])
	}
	if strings.Contains(string(b), full.Secret[len(full.Secret)-20:]) {
		t.Errorf("JSON holds a secret: %s", b)
	}
}

func TestParseKind(t *testing.T) {
	t.Parallel()
	for _, k := range hygiene.Kinds() {
		if got, err := hygiene.ParseKind(" " + strings.ToUpper(string(k))); err != nil || got != k {
			t.Errorf("ParseKind(%s) = %q, %v", k, got, err)
		}
	}
	if _, err := hygiene.ParseKind("stale"); !errors.Is(err, unleashadmin.ErrInvalidArgument) || !strings.Contains(err.Error(), "never-seen, unused") {
		t.Errorf("ParseKind(stale): %v", err)
	}
}
