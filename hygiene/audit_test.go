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
		if got := names(audit(t, c, hygiene.AuditOptions{Now: clk.Now})); !slices.Equal(got, tc.want) {
			t.Errorf("at t0+%s: findings %q, want %q", tc.at.Sub(t0), got, tc.want)
		}
	}
}

// TestAuditUnusedBoundary: unused means unseen for longer than UnusedFor,
// the default 30 days or the one given. The stand-in is seeded with
// seenAt values (it writes none itself for legacy tokens).
func TestAuditUnusedBoundary(t *testing.T) {
	t.Parallel()
	now := t0
	clk := newClock(now)
	seed := func(name string, seenAt time.Time) unleashtest.Token {
		return unleashtest.Token{TokenName: name, Type: "client", Projects: []string{"default"},
			CreatedAt: now.Add(-100 * day), SeenAt: &seenAt}
	}
	_, c := standIn(t, clk, unleashtest.WithTokens(
		seed("exactly-30d", now.Add(-30*day)),
		seed("30d-and-1ms", now.Add(-30*day-time.Millisecond)),
		seed("7d-and-1ms", now.Add(-7*day-time.Millisecond)),
		seed("seen-now", now),
	))
	got := names(audit(t, c, hygiene.AuditOptions{Now: clk.Now}))
	if want := []string{"unused 30d-and-1ms"}; !slices.Equal(got, want) {
		t.Errorf("default UnusedFor: %q, want %q", got, want)
	}
	got = names(audit(t, c, hygiene.AuditOptions{Now: clk.Now, UnusedFor: 7 * day}))
	if want := []string{"unused 30d-and-1ms", "unused 7d-and-1ms", "unused exactly-30d"}; !slices.Equal(got, want) {
		t.Errorf("UnusedFor 7d: %q, want %q", got, want)
	}
	r := audit(t, c, hygiene.AuditOptions{Now: clk.Now})
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

	got := names(audit(t, c, hygiene.AuditOptions{Now: clk.Now}))
	want := []string{"expired ends-now", "expiring ends-in-14d-1ms", "expiring ends-in-1ms", "expiring ends-in-3d"}
	if !slices.Equal(got, want) {
		t.Errorf("default ExpiringWithin: %q, want %q", got, want)
	}
	got = names(audit(t, c, hygiene.AuditOptions{Now: clk.Now, ExpiringWithin: 3 * day}))
	want = []string{"expired ends-now", "expiring ends-in-1ms"}
	if !slices.Equal(got, want) {
		t.Errorf("ExpiringWithin 3d: %q, want %q", got, want)
	}

	// Two days on: every token but the 14-day ones has expired, and an
	// expired all-projects token, never seen, is reported expired only.
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "frontend", TokenName: "dead-star", ExpiresAt: unleashadmin.Ptr(t0.Add(2 * time.Hour))})
	clk.Set(t0.Add(4 * day))
	got = names(audit(t, c, hygiene.AuditOptions{Now: clk.Now}))
	want = []string{"never-seen admin", "never-seen ends-in-14d", "never-seen ends-in-14d-1ms",
		"expired dead-star", "expired ends-in-1ms", "expired ends-in-3d", "expired ends-now",
		"expiring ends-in-14d", "expiring ends-in-14d-1ms"}
	if !slices.Equal(got, want) {
		t.Errorf("four days on: %q, want %q", got, want)
	}
}

// TestAuditDuplicates: live tokens with the same name, type (backend is
// client), environment and projects (in any order) are duplicates; expired
// ones do not count. Under secure token storage the stand-in keeps
// backend as backend, as Unleash does, which is where IsType matters.
func TestAuditDuplicates(t *testing.T) {
	t.Parallel()
	now := t0
	seed := func(name, typ string, age time.Duration, edit ...func(*unleashtest.Token)) unleashtest.Token {
		tk := unleashtest.Token{TokenName: name, Type: typ, Projects: []string{"a", "b"}, CreatedAt: now.Add(-age), SeenAt: &now}
		for _, e := range edit {
			e(&tk)
		}
		return tk
	}
	projects := func(p ...string) func(*unleashtest.Token) { return func(tk *unleashtest.Token) { tk.Projects = p } }
	env := func(e string) func(*unleashtest.Token) { return func(tk *unleashtest.Token) { tk.Environment = e } }
	expired := func(tk *unleashtest.Token) { tk.ExpiresAt = unleashadmin.Ptr(now.Add(-time.Second)) }
	seeds := []unleashtest.Token{
		seed("svc", "backend", 3*day, projects("b", "a")),
		seed("svc", "client", 2*day),
		seed("svc", "CLIENT", day, expired),
		seed("svc", "frontend", day),
		seed("svc", "client", day, env("production")),
		seed("svc", "client", day, projects("a")),
		seed("lonely", "client", 3*day),
		seed("lonely", "client", 2*day, expired),
		seed("web", "frontend", 3*day, projects("*")),
		seed("web", "frontend", 2*day, projects("*")),
	}
	for _, mode := range []string{"legacy", "secure"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			opts := []unleashtest.Option{unleashtest.WithProjects("default", "a", "b"), unleashtest.WithTokens(seeds...)}
			wantTypes := "client client"
			if mode == "secure" {
				opts = append(opts, unleashtest.WithSecureTokens())
				wantTypes = "backend client"
			}
			clk := newClock(now)
			_, c := standIn(t, clk, opts...)
			r := audit(t, c, hygiene.AuditOptions{Now: clk.Now})
			dups := r.Of(hygiene.FindingDuplicate)
			var got []string
			for _, d := range dups {
				got = append(got, d.Token.TokenName+" "+string(d.Token.Type)+" "+d.Token.CreatedAt.Sub(now).String())
			}
			tp := strings.Fields(wantTypes)
			want := []string{"svc " + tp[0] + " -72h0m0s", "svc " + tp[1] + " -48h0m0s", "web frontend -72h0m0s", "web frontend -48h0m0s"}
			if !slices.Equal(got, want) {
				t.Errorf("duplicates %q, want %q", got, want)
			}
			if want := "one of 2 live tokens with this name, type, environment and projects"; len(dups) > 0 && dups[0].Reason != want {
				t.Errorf("reason %q, want %q", dups[0].Reason, want)
			}
			if n := len(r.Of(hygiene.FindingExpired)); n != 2 {
				t.Errorf("%d expired findings, want 2", n)
			}
		})
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
	got := names(audit(t, c, hygiene.AuditOptions{Now: clk.Now}))
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
	r := audit(t, c, hygiene.AuditOptions{Now: clk.Now})
	if r.Tokens != 7 || r.Counted != 7 || r.Limit != 10 || r.NearLimit() {
		t.Errorf("7 of 10: Tokens %d Counted %d Limit %d NearLimit %t", r.Tokens, r.Counted, r.Limit, r.NearLimit())
	}
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "ng", Projects: []string{"default"}})
	r = audit(t, c, hygiene.AuditOptions{Now: clk.Now})
	if r.Tokens != 8 || r.Counted != 8 || !r.NearLimit() {
		t.Errorf("8 of 10: Tokens %d NearLimit %t", r.Tokens, r.NearLimit())
	}
}

// TestAuditLimitSecureStorage: under secure token storage Unleash counts
// only the tokens made in that mode (listed with secure: true) against
// its limit; legacy tokens are listed but not counted.
func TestAuditLimitSecureStorage(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	var legacy []unleashtest.Token
	for i := range 3 {
		legacy = append(legacy, unleashtest.Token{TokenName: "old" + string(rune('a'+i)), Type: "client",
			Secret: secret("default", "development"), SeenAt: &t0})
	}
	_, c := standIn(t, clk, unleashtest.WithSecureTokens(), unleashtest.WithTokenLimit(10), unleashtest.WithTokens(legacy...))
	for i := range 7 {
		create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "n" + string(rune('a'+i)), Projects: []string{"default"}})
	}
	r := audit(t, c, hygiene.AuditOptions{Now: clk.Now})
	if r.Tokens != 11 || r.Counted != 7 || r.NearLimit() {
		t.Errorf("Tokens %d Counted %d NearLimit %t, want 11, 7, false", r.Tokens, r.Counted, r.NearLimit())
	}
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "nh", Projects: []string{"default"}})
	if r := audit(t, c, hygiene.AuditOptions{Now: clk.Now}); r.Counted != 8 || !r.NearLimit() {
		t.Errorf("Counted %d NearLimit %t, want 8, true", r.Counted, r.NearLimit())
	}
}

// TestAuditReadsOnce: one token list and one ui-config, with the key; the
// limit comes from resourceLimits.apiTokens.
func TestAuditReadsOnce(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	srv, c := standIn(t, clk, unleashtest.WithTokenLimit(2), unleashtest.WithTokens(unleashtest.Token{TokenName: "a", Type: "client", SeenAt: &t0}))
	r := audit(t, c, hygiene.AuditOptions{Now: clk.Now})
	var got []string
	for _, req := range srv.Requests() {
		got = append(got, req.Method+" "+req.Path)
		if req.Header.Get("Authorization") != srv.AdminKey() {
			t.Errorf("%s %s sent without the key", req.Method, req.Path)
		}
	}
	if want := []string{"GET /api/admin/api-tokens", "GET /api/admin/ui-config"}; !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	if r.Tokens != 2 || r.Limit != 2 || !r.NearLimit() || !r.At.Equal(t0) {
		t.Errorf("report %v", r)
	}
}

// TestAuditWithoutUIConfig: a server without GET /api/admin/ui-config
// (a 404) leaves the limit unknown: no warning, "limit": null.
func TestAuditWithoutUIConfig(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	f.tokens[0].SeenAt = &t0
	r := audit(t, f.client(), hygiene.AuditOptions{Now: func() time.Time { return t0 }})
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

// TestReportJSON: the documented shape, secrets redacted, the finding of
// a token in secure storage shown by its selector.
func TestReportJSON(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	legacy := secret("default", "development")
	srv, c := standIn(t, clk, unleashtest.WithSecureTokens(), unleashtest.WithTokens(
		unleashtest.Token{TokenName: "svc", Type: "client", Secret: legacy, Projects: []string{"default"},
			CreatedAt: t0.Add(-40 * day), SeenAt: unleashadmin.Ptr(t0.Add(-31 * day)), ExpiresAt: unleashadmin.Ptr(t0.Add(day))},
		unleashtest.Token{TokenName: "sec", Type: "backend", CreatedAt: t0.Add(-2 * day)},
	))
	var sel string
	for _, tk := range srv.Tokens() {
		if tk.TokenName == "sec" {
			sel = tk.Selector
		}
	}
	r := audit(t, c, hygiene.AuditOptions{Now: clk.Now})
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
	if got.Findings[0]["secret"] != sel || got.Findings[1]["secret"] != unleashadmin.RedactSecret(legacy) || sel == "" {
		t.Errorf("secrets %v, %v", got.Findings[0]["secret"], got.Findings[1]["secret"])
	}
	if strings.Contains(string(b), randomOf(legacy)) || strings.Contains(string(b), randomOf(srv.AdminKey())) {
		t.Errorf("JSON holds a secret: %s", b)
	}
}

// randomOf is a secret's random part, less the four characters its
// redacted form shows.
func randomOf(secret string) string {
	_, r, _ := strings.Cut(secret, ".")
	return r[min(4, len(r)):]
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

// TestAuditStalledRotation: of the live tokens of one name and scope, one
// still used more than StalledAfter (a day unless given) after the next
// newer one was made is a stalled rotation; one that stopped in time, a
// newer one, another scope and an expired token are not.
func TestAuditStalledRotation(t *testing.T) {
	t.Parallel()
	now := t0
	clk := newClock(now)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	seed := func(name, env string, created time.Duration, seen *time.Time) unleashtest.Token {
		return unleashtest.Token{TokenName: name, Type: "client", Environment: env, Projects: []string{"default"}, CreatedAt: now.Add(created), SeenAt: seen}
	}
	past := now.Add(-time.Hour)
	expired := seed("expired", "development", -30*day, at(-time.Minute))
	expired.ExpiresAt = &past
	_, c := standIn(t, clk, unleashtest.WithTokens(
		// Made two days ago, and the old one still read an hour ago.
		seed("svc", "development", -30*day, at(-time.Hour)),
		seed("svc", "development", -2*day, at(-time.Hour)),
		// The old one stopped a day after the new one was made, to the
		// millisecond: not stalled; a millisecond later it is.
		seed("switched", "development", -30*day, at(-2*day+day)),
		seed("switched", "development", -2*day, at(-time.Hour)),
		seed("late", "development", -30*day, at(-2*day+day+time.Millisecond)),
		seed("late", "development", -2*day, nil),
		// Three generations: the first is judged against the second.
		seed("three", "development", -60*day, at(-time.Hour)),
		seed("three", "development", -30*day, at(-time.Hour)),
		seed("three", "development", -time.Hour, at(0)),
		// Another environment is another scope.
		seed("scoped", "development", -30*day, at(-time.Hour)),
		seed("scoped", "production", -2*day, at(-time.Hour)),
		// An expired old token is reported expired only.
		expired,
		seed("expired", "development", -2*day, at(-time.Hour)),
	))
	r := audit(t, c, hygiene.AuditOptions{Now: clk.Now})
	var got []string
	for _, f := range r.Of(hygiene.FindingStalledRotation) {
		got = append(got, f.Token.TokenName+" "+f.Token.CreatedAt.Sub(now).String()+": "+f.Reason)
	}
	want := []string{
		"late -720h0m0s: still used 2030-02-28T12:00:00Z, 1d after a newer token of this name and scope",
		"svc -720h0m0s: still used 2030-03-01T11:00:00Z, 47h after a newer token of this name and scope",
		"three -1440h0m0s: still used 2030-03-01T11:00:00Z, 719h after a newer token of this name and scope",
	}
	if len(got) != len(want) {
		t.Fatalf("stalled rotations:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) || !strings.Contains(got[i], ") was made 2030-") {
			t.Errorf("finding %d: %q, want %q...", i, got[i], want[i])
		}
	}
	// With three days, only the three generations' first is stalled.
	r = audit(t, c, hygiene.AuditOptions{Now: clk.Now, StalledAfter: 3 * day})
	if got := names(&hygiene.Report{Findings: r.Of(hygiene.FindingStalledRotation)}); !slices.Equal(got, []string{"stalled-rotation three"}) {
		t.Errorf("with 3d: %q", got)
	}
	if _, err := hygiene.Audit(context.Background(), c, hygiene.AuditOptions{StalledAfter: -day}); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("negative StalledAfter: %v", err)
	}
}
