package unleashadmin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

func TestUseRecordingDelay(t *testing.T) {
	t.Parallel()
	legacy := APIToken{Secret: "*:development." + hex56}
	listedSecure := APIToken{Secret: v2Sel, Secure: true}
	fullV2 := APIToken{Secret: v2Full}
	secureServer := ServerInfo{Version: "8.2.0", SecureTokens: true}
	for _, tc := range []struct {
		name       string
		info       ServerInfo
		tok        APIToken
		delay, min time.Duration
	}{
		{"legacy, info not read", ServerInfo{}, legacy, 3 * time.Minute, 3*time.Minute + 15*time.Second},
		{"legacy, default storage", ServerInfo{Version: "7.6.5"}, legacy, 3 * time.Minute, 3*time.Minute + 15*time.Second},
		{"legacy token on a secure server", secureServer, legacy, 3 * time.Minute, 3*time.Minute + 15*time.Second},
		{"listed in secure storage", ServerInfo{}, listedSecure, 5 * time.Second, 20 * time.Second},
		{"a full v2 secret on a secure server", secureServer, fullV2, 5 * time.Second, 20 * time.Second},
		{"a full v2 secret, info not read", ServerInfo{}, fullV2, 3 * time.Minute, 3*time.Minute + 15*time.Second},
	} {
		if got := UseRecordingDelay(tc.info, tc.tok); got != tc.delay {
			t.Errorf("%s: UseRecordingDelay %v, want %v", tc.name, got, tc.delay)
		}
		if got := MinQuiet(tc.info, tc.tok); got != tc.min {
			t.Errorf("%s: MinQuiet %v, want %v", tc.name, got, tc.min)
		}
	}
}

func TestUnusedPolicyCheck(t *testing.T) {
	t.Parallel()
	legacy := APIToken{Secret: "*:development." + hex56}
	secure := APIToken{Secret: v2Sel, Secure: true}
	info := ServerInfo{Version: "8.2.0"}
	for _, tc := range []struct {
		name string
		p    UnusedPolicy
		tok  APIToken
		want string // "" for accepted
	}{
		{"10m on default storage", UnusedPolicy{Quiet: 10 * time.Minute, Within: 7 * 24 * time.Hour}, legacy, ""},
		{"the shortest on default storage", UnusedPolicy{Quiet: 3*time.Minute + 15*time.Second}, legacy, ""},
		{"1m on default storage", UnusedPolicy{Quiet: time.Minute}, legacy,
			"quiet 1m is shorter than 3m15s: Unleash 8.2.0 records a use of this token up to 3m late (in default token storage a job writes a token's use to seenAt every 3 minutes), plus a margin of 15s"},
		{"1m on secure storage", UnusedPolicy{Quiet: time.Minute}, secure, ""},
		{"the shortest on secure storage", UnusedPolicy{Quiet: 20 * time.Second}, secure, ""},
		{"19s on secure storage", UnusedPolicy{Quiet: 19 * time.Second}, secure, "quiet 19s is shorter than 20s: Unleash 8.2.0 records a use of this token up to 5s late (in secure token storage"},
		{"no quiet", UnusedPolicy{}, secure, "quiet must be longer than 0"},
		{"negative within", UnusedPolicy{Quiet: time.Hour, Within: -time.Hour}, secure, "within must not be negative"},
		{"within shorter than quiet", UnusedPolicy{Quiet: time.Hour, Within: 30 * time.Minute}, secure, "within 30m is shorter than quiet 1h"},
	} {
		err := tc.p.Check(info, tc.tok)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestUnusedPolicyJSON(t *testing.T) {
	t.Parallel()
	p := UnusedPolicy{Quiet: 10 * time.Minute, Within: 7 * 24 * time.Hour}
	b, err := json.Marshal(p)
	if err != nil || string(b) != `{"quiet":"10m","within":"7d"}` {
		t.Fatalf("%s, %v", b, err)
	}
	var back UnusedPolicy
	if err := json.Unmarshal(b, &back); err != nil || back != p {
		t.Errorf("%+v, %v", back, err)
	}
	if b, _ := json.Marshal(UnusedPolicy{Quiet: time.Hour}); string(b) != `{"quiet":"1h"}` {
		t.Errorf("%s", b)
	}
	if err := json.Unmarshal([]byte(`{"quiet":"ten minutes"}`), &back); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("%v", err)
	}
}

func TestDecideRetire(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	made := now.Add(-time.Hour) // the replacement
	oldTok := func(seen *time.Time) APIToken {
		return APIToken{Secret: "*:development.a" + hex56[1:], TokenName: "svc", CreatedAt: now.Add(-90 * 24 * time.Hour), SeenAt: seen}
	}
	newTok := func(seen *time.Time) APIToken {
		return APIToken{Secret: "*:development.b" + hex56[1:], TokenName: "svc", CreatedAt: made, SeenAt: seen}
	}
	p := UnusedPolicy{Quiet: 10 * time.Minute, Within: 7 * 24 * time.Hour}
	for _, tc := range []struct {
		name                  string
		old, repl             APIToken
		now                   time.Time
		p                     UnusedPolicy
		retire, inUse, within bool
		reason                string
	}{
		{"old used within quiet: waits", oldTok(at(-2 * time.Minute)), newTok(at(-time.Minute)), now, p, false, true, false,
			"waits: the old token was last used 2030-06-01T11:58:00Z, 2m ago, within the quiet period of 10m (unused from 2030-06-01T12:08:00Z at the earliest); retired anyway from 2030-06-08T11:00:00Z (within 7d)"},
		{"new used, old quiet longer: retire", oldTok(at(-11 * time.Minute)), newTok(at(-time.Minute)), now, p, true, false, false,
			"retire: the replacement was used 2030-06-01T11:59:00Z, 1m ago, and the old token was last used 2030-06-01T11:49:00Z, 11m ago, unused for at least the quiet period of 10m"},
		{"quiet to the millisecond: retire", oldTok(at(-10 * time.Minute)), newTok(at(-time.Minute)), now, p, true, false, false, "retire: "},
		{"new never used: waits", oldTok(at(-time.Hour)), newTok(nil), now, p, false, false, false,
			"waits: the replacement has not been used yet; the old token was last used 2030-06-01T11:00:00Z, 1h ago"},
		{"new seen before it was made: not used", oldTok(at(-time.Hour)), newTok(at(-2 * time.Hour)), now, p, false, false, false,
			"waits: the replacement has not been used since it was made 2030-06-01T11:00:00Z, 1h ago (its seenAt 2030-06-01T10:00:00Z is older)"},
		{"within passed, old in use: retired with the note", oldTok(at(p.Within - time.Hour - time.Minute)), newTok(at(p.Within - time.Hour - time.Minute)), made.Add(p.Within), p, true, true, true,
			"retire anyway: the replacement was made 2030-06-01T11:00:00Z, 7d or longer ago (within); the old token is still in use: was last used 2030-06-08T10:59:00Z, 1m ago, within the quiet period of 10m"},
		{"within passed, new never used", oldTok(at(-time.Hour)), newTok(nil), made.Add(p.Within + time.Hour), p, true, false, true,
			"retire anyway: the replacement was made 2030-06-01T11:00:00Z, 7d or longer ago (within); the replacement has not been used yet; the old token was last used"},
		{"no within: waits for ever", oldTok(at(-time.Minute)), newTok(at(-time.Minute)), now.Add(365 * 24 * time.Hour).Add(-time.Hour), UnusedPolicy{Quiet: 365 * 24 * time.Hour}, false, true, false,
			"waits: the old token was last used"},
		{"old never used, made long ago: retire", oldTok(nil), newTok(at(-time.Minute)), now, p, true, false, false,
			"and the old token was never used (made 2030-03-03T12:00:00Z, 90d ago)"},
		{"old never used, made lately: waits", APIToken{Secret: "x", CreatedAt: now.Add(-time.Minute)}, newTok(at(0)), now, p, false, false, false,
			"the old token was never used, but was made 2030-06-01T11:59:00Z, 1m ago, less than the quiet period of 10m ago: a use may not be recorded yet"},
		{"old seen after now (server clock ahead): in use", oldTok(at(time.Minute)), newTok(at(-time.Minute)), now, p, false, true, false,
			"was last used 2030-06-01T12:01:00Z, 1m from now by this clock, within the quiet period of 10m (unused from 2030-06-01T12:10:00Z"},
		{"the replacement is the old token", oldTok(at(-time.Hour)), oldTok(at(-time.Hour)), now, p, false, false, false, "waits: the replacement is the old token itself"},
		{"a listed selector and its full secret", APIToken{Secret: v2Sel, Secure: true, SeenAt: at(-time.Hour)}, APIToken{Secret: v2Full, SeenAt: at(0)}, now, p, false, false, false,
			"waits: the replacement is the old token itself"},
		{"no quiet: never", oldTok(at(-time.Hour)), newTok(at(0)), now, UnusedPolicy{}, false, false, false, "waits: the quiet period must be longer than 0"},
	} {
		d := DecideRetire(tc.old, tc.repl, tc.now, tc.p)
		if d.Retire != tc.retire || d.StillInUse != tc.inUse || d.WithinPassed != tc.within || !strings.HasPrefix(d.Reason, tc.reason) && !strings.Contains(d.Reason, tc.reason) {
			t.Errorf("%s: %+v\nwant retire %t, still in use %t, within passed %t, reason %q", tc.name, d, tc.retire, tc.inUse, tc.within, tc.reason)
		}
		if (d.LastUsed == nil) != (tc.old.SeenAt == nil) || d.LastUsed != nil && !d.LastUsed.Equal(*tc.old.SeenAt) {
			t.Errorf("%s: LastUsed %v, old seenAt %v", tc.name, d.LastUsed, tc.old.SeenAt)
		}
	}
}

// fakeClock is a settable clock for unleashtest.WithClock and Now options.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// useOn uses a token on the stand-in's client API, as an SDK does.
func useOn(t *testing.T, srv *unleashtest.Server, secret string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL()+"/api/client/features", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", secret)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("using a token: %d", resp.StatusCode)
	}
}

// standIn is a stand-in on a clock of its own, in default storage unless
// secure, holding the token "svc" made 30 days before its start and last
// used lastUsed before it, and a client of it.
func standIn(t *testing.T, secure bool, lastUsed time.Duration, opts ...unleashtest.Option) (*unleashtest.Server, *Client, *fakeClock, APIToken) {
	t.Helper()
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := &fakeClock{now: start}
	seen := start.Add(-lastUsed)
	seed := unleashtest.Token{TokenName: "svc", Type: "client", Environment: "development", Projects: []string{"*"},
		CreatedAt: start.Add(-30 * 24 * time.Hour), SeenAt: &seen, Secure: secure}
	opts = append([]unleashtest.Option{unleashtest.WithClock(clock.Now), unleashtest.WithTokens(seed)}, opts...)
	if secure {
		opts = append(opts, unleashtest.WithSecureTokens())
	}
	srv := unleashtest.NewTestServer(t, opts...)
	c, err := NewClient(srv.URL(), srv.AdminKey(), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	toks, err := c.GetAPITokensByName(context.Background(), "svc")
	if err != nil || len(toks) != 1 {
		t.Fatalf("%v, %v", toks, err)
	}
	var old APIToken
	for _, tok := range srv.Tokens() {
		if tok.TokenName == "svc" {
			old = toks[0]
			old.Secret = tok.Secret // the full secret, as a caller holds it
		}
	}
	return srv, c, clock, old
}

// script runs step i at the i-th look of a watch and records each
// decision; a look past the last step repeats it.
type script struct {
	t         *testing.T
	steps     []func()
	decisions []RetireDecision
}

func (s *script) progress(d RetireDecision) {
	s.decisions = append(s.decisions, d)
	if i := len(s.decisions) - 1; i < len(s.steps) {
		s.steps[i]()
	} else if len(s.steps) > 0 {
		s.steps[len(s.steps)-1]()
	}
}

// newSecret is the secret of the stand-in's token named svc that is not old.
func newSecret(t *testing.T, srv *unleashtest.Server, old APIToken) string {
	t.Helper()
	for _, tok := range srv.Tokens() {
		if tok.TokenName == "svc" && tok.Secret != old.Secret {
			return tok.Secret
		}
	}
	t.Fatal("no new token")
	return ""
}

// TestRotateWaitsUntilUnused runs RotateAPIToken with WaitUnused against
// the stand-in on its clock, in default storage (uses written every three
// minutes): the old token in use waits, the new one's first use and the
// old one's quiet period retire it.
func TestRotateWaitsUntilUnused(t *testing.T) {
	t.Parallel()
	srv, c, clock, old := standIn(t, false, time.Minute)
	var fresh string
	s := &script{t: t}
	s.steps = []func(){
		func() { // both in use: services are switching
			fresh = newSecret(t, srv, old)
			useOn(t, srv, old.Secret)
			useOn(t, srv, fresh)
			clock.Add(3 * time.Minute) // past the job's first write
		},
		func() { // the last service has switched
			useOn(t, srv, fresh)
			clock.Add(3 * time.Minute)
		},
		func() {
			useOn(t, srv, fresh)
			clock.Add(7 * time.Minute)
		},
	}
	before := srv.RequestCount()
	r, err := c.RotateAPIToken(context.Background(), old, RotateOptions{Now: clock.Now, WaitUnused: &UnusedWait{
		Policy: UnusedPolicy{Quiet: 10 * time.Minute}, Timeout: time.Minute, PollInterval: time.Millisecond, Progress: s.progress,
	}})
	if err != nil || r == nil || !r.OldDeleted || r.Waited == nil || !r.Waited.Retire {
		t.Fatalf("%+v, %v", r, err)
	}
	var got []string
	for _, d := range s.decisions {
		got = append(got, d.Reason)
	}
	want := []string{
		"waits: the replacement has not been used yet; the old token was last used 2030-01-02T03:03:05Z, 1m ago, within the quiet period of 10m (unused from 2030-01-02T03:13:05Z at the earliest)",
		// Both uses were written by the job at start + 3m.
		"waits: the old token was last used 2030-01-02T03:07:05Z, just now, within the quiet period of 10m (unused from 2030-01-02T03:17:05Z at the earliest)",
		"waits: the old token was last used 2030-01-02T03:07:05Z, 3m ago, within the quiet period of 10m (unused from 2030-01-02T03:17:05Z at the earliest)",
		"retire: the replacement was used 2030-01-02T03:13:05Z, 4m ago, and the old token was last used 2030-01-02T03:07:05Z, 10m ago, unused for at least the quiet period of 10m",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("decisions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(s.decisions) != 4 {
		t.Fatalf("decisions:\n%s", strings.Join(got, "\n"))
	}
	for i, d := range s.decisions {
		if d.Retire != (i == 3) || d.StillInUse != (i < 3) {
			t.Errorf("decision %d: %+v", i, d)
		}
	}
	// What was sent: the create, a list of the name per look, the delete.
	reqs := srv.Requests()[before:]
	var sent []string
	for _, q := range reqs {
		if !strings.HasPrefix(q.Path, "/api/client/") {
			sent = append(sent, q.Method+" "+q.Path)
		}
	}
	wantSent := []string{"POST /api/admin/api-tokens", "GET /api/admin/api-tokens/svc", "GET /api/admin/api-tokens/svc",
		"GET /api/admin/api-tokens/svc", "GET /api/admin/api-tokens/svc", "DELETE /api/admin/api-tokens/" + strings.Replace(old.Secret, "*", "%2A", 1)}
	if strings.Join(sent, "\n") != strings.Join(wantSent, "\n") {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(sent, "\n"), strings.Join(wantSent, "\n"))
	}
	if toks := srv.Tokens(); len(toks) != 2 || toks[1].Secret != fresh { // the admin key and the new one
		t.Errorf("the server holds %d tokens", len(toks))
	}
}

// TestRotateWaitsForTheNewTokensUse: a new token nobody uses keeps the old
// one, however quiet, until the watch's time runs out: both are live, and
// the error says so and why.
func TestRotateWaitsForTheNewTokensUse(t *testing.T) {
	t.Parallel()
	srv, c, clock, old := standIn(t, false, time.Hour)
	s := &script{t: t, steps: []func(){func() { clock.Add(time.Hour) }}}
	r, err := c.RotateAPIToken(context.Background(), old, RotateOptions{Now: clock.Now, WaitUnused: &UnusedWait{
		Policy: UnusedPolicy{Quiet: 10 * time.Minute}, Timeout: 50 * time.Millisecond, PollInterval: 5 * time.Millisecond, Progress: s.progress,
	}})
	if r == nil || r.New == nil || r.OldDeleted || r.Waited == nil || r.Waited.Retire ||
		!errors.Is(err, ErrRotationIncomplete) || !errors.Is(err, ErrStillInUse) ||
		!strings.Contains(err.Error(), "not seen unused in the 50ms watched") || !strings.Contains(err.Error(), "the replacement has not been used yet; the old token was last used 2030-01-02T02:04:05Z") {
		t.Fatalf("%+v, %v", r, err)
	}
	if len(s.decisions) < 2 {
		t.Errorf("%d looks", len(s.decisions))
	}
	if strings.Contains(err.Error(), randomOf(old.Secret)) || strings.Contains(err.Error(), randomOf(r.New.Secret)) {
		t.Errorf("the error holds a secret: %v", err)
	}
	if toks := srv.Tokens(); len(toks) != 3 {
		t.Errorf("%d tokens on the server, want the admin key, the old and the new", len(toks))
	}
	for _, q := range srv.Requests() {
		if q.Method == http.MethodDelete || q.Method == http.MethodPut {
			t.Errorf("sent %s %s", q.Method, q.Path)
		}
	}
}

// TestRotateRetiresAnywayWithin: an old token in use all the time is
// retired once the new one is Within old, and the decision says it was
// still in use; with a grace period its expiry moves.
func TestRotateRetiresAnywayWithin(t *testing.T) {
	t.Parallel()
	srv, c, clock, old := standIn(t, false, time.Minute)
	s := &script{t: t, steps: []func(){func() {
		useOn(t, srv, old.Secret)
		clock.Add(20 * time.Minute)
	}}}
	r, err := c.RotateAPIToken(context.Background(), old, RotateOptions{Now: clock.Now, GracePeriod: time.Hour, WaitUnused: &UnusedWait{
		Policy: UnusedPolicy{Quiet: 30 * time.Minute, Within: time.Hour}, Timeout: time.Minute, PollInterval: time.Millisecond, Progress: s.progress,
	}})
	if err != nil || r.OldDeleted || r.OldExpiresAt == nil || r.Waited == nil || !r.Waited.Retire || !r.Waited.StillInUse || !r.Waited.WithinPassed {
		t.Fatalf("%+v, %v", r, err)
	}
	if want := "retire anyway: the replacement was made 2030-01-02T03:04:05Z, 1h or longer ago (within); the old token is still in use: was last used 2030-01-02T03:46:05Z, 18m ago, within the quiet period of 30m"; !strings.HasPrefix(r.Waited.Reason, want) {
		t.Errorf("reason %q", r.Waited.Reason)
	}
	if len(s.decisions) != 4 {
		t.Errorf("%d looks, want 4 (at 0, 20, 40 and 60 minutes)", len(s.decisions))
	}
	if want := clock.Now().Add(time.Hour); !r.OldExpiresAt.Equal(want) {
		t.Errorf("old expires %v, want %v", r.OldExpiresAt, want)
	}
	oldOnServer, ok := findTok(srv.Tokens(), old.Secret)
	if !ok || oldOnServer.ExpiresAt == nil || !oldOnServer.ExpiresAt.Equal(*r.OldExpiresAt) {
		t.Errorf("old token on the server: %+v", oldOnServer)
	}
}

func findTok(toks []unleashtest.Token, secret string) (unleashtest.Token, bool) {
	for _, tok := range toks {
		if tok.Secret == secret {
			return tok, true
		}
	}
	return unleashtest.Token{}, false
}

// TestRotateWaitsUnderSecureStorage: under secure token storage a use is
// written at once, so a quiet period of 20 s is accepted and a rotation
// finishes as soon as the new token is used and the old one has been quiet
// that long.
func TestRotateWaitsUnderSecureStorage(t *testing.T) {
	t.Parallel()
	srv, c, clock, old := standIn(t, true, 0)
	var fresh string
	s := &script{t: t, steps: []func(){
		func() { // the old one still in use, the new one already
			fresh = newSecret(t, srv, old)
			useOn(t, srv, old.Secret)
			useOn(t, srv, fresh)
			clock.Add(19 * time.Second)
		},
		func() { clock.Add(time.Second) },
	}}
	r, err := c.RotateAPIToken(context.Background(), old, RotateOptions{Now: clock.Now, WaitUnused: &UnusedWait{
		Policy: UnusedPolicy{Quiet: 20 * time.Second}, Timeout: time.Minute, PollInterval: time.Millisecond, Progress: s.progress,
	}})
	if err != nil || !r.OldDeleted || len(s.decisions) != 3 || s.decisions[1].Retire || !s.decisions[1].StillInUse || !s.decisions[2].Retire {
		t.Fatalf("%+v, %v, %+v", r, err, s.decisions)
	}
	if _, ok := findTok(srv.Tokens(), old.Secret); ok {
		t.Error("the old token is still on the server")
	}
	if _, ok := findTok(srv.Tokens(), fresh); !ok {
		t.Error("the new token is gone")
	}
}

// TestRotateRefusesAShortQuiet: a quiet period shorter than the recording
// delay is refused before anything is created.
func TestRotateRefusesAShortQuiet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		secure bool
		quiet  time.Duration
		want   string
	}{
		{false, time.Minute, "quiet 1m is shorter than 3m15s"},
		{true, 10 * time.Second, "quiet 10s is shorter than 20s"},
	} {
		srv, c, _, old := standIn(t, tc.secure, time.Hour)
		before := srv.RequestCount()
		r, err := c.RotateAPIToken(context.Background(), old, RotateOptions{WaitUnused: &UnusedWait{Policy: UnusedPolicy{Quiet: tc.quiet}, Timeout: time.Minute}})
		if r != nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("secure %t: %+v, %v", tc.secure, r, err)
		}
		// The old token here is listed: nothing needed reading, not even
		// the server's mode.
		if n := srv.RequestCount() - before; n != 0 {
			t.Errorf("secure %t: sent %d requests", tc.secure, n)
		}
		for _, bad := range []UnusedWait{{Policy: UnusedPolicy{Quiet: time.Hour}}, {Policy: UnusedPolicy{Quiet: time.Hour}, Timeout: time.Second, PollInterval: -1}} {
			if _, err := c.RotateAPIToken(context.Background(), old, RotateOptions{WaitUnused: &bad}); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		if n := srv.RequestCount() - before; n != 0 {
			t.Errorf("secure %t: sent %d requests", tc.secure, n)
		}
	}
}

// TestRotateCorrectsAServerClockBehind: the caller's clock is an hour ahead
// of the server's. Judged by the caller's clock, the old token (last used
// 30 minutes before the server's now) would look quiet for 90 minutes; the
// new token's createdAt shows the server is behind, so it waits until the
// server's clock says 40 minutes.
func TestRotateCorrectsAServerClockBehind(t *testing.T) {
	t.Parallel()
	srv, c, clock, old := standIn(t, false, 30*time.Minute, unleashtest.WithSeenAtInterval(0))
	ahead := func() time.Time { return clock.Now().Add(time.Hour) }
	s := &script{t: t, steps: []func(){
		func() { useOn(t, srv, newSecret(t, srv, old)) },
		func() { clock.Add(9 * time.Minute) },
		func() { clock.Add(time.Minute) },
	}}
	r, err := c.RotateAPIToken(context.Background(), old, RotateOptions{Now: ahead, WaitUnused: &UnusedWait{
		Policy: UnusedPolicy{Quiet: 40 * time.Minute}, Timeout: time.Minute, PollInterval: time.Millisecond, Progress: s.progress,
	}})
	if err != nil || !r.OldDeleted || len(s.decisions) != 4 {
		t.Fatalf("%+v, %v, %d looks", r, err, len(s.decisions))
	}
	for i, d := range s.decisions[:3] {
		if d.Retire {
			t.Errorf("look %d retired: %s", i, d.Reason)
		}
	}
	if want := "and the old token was last used 2030-01-02T02:34:05Z, 40m ago"; !strings.Contains(s.decisions[3].Reason, want) {
		t.Errorf("reason %q", s.decisions[3].Reason)
	}
}

// TestRetireWhenUnusedEnds: the watch ends without retiring when the old
// token is gone (nothing to do), when the replacement is gone (nothing
// would take over), and when the context ends.
func TestRetireWhenUnusedEnds(t *testing.T) {
	t.Parallel()
	srv, c, clock, old := standIn(t, false, time.Hour, unleashtest.WithSeenAtInterval(0))
	ctx := context.Background()
	fresh, err := c.CreateAPIToken(ctx, RequestFor(old))
	if err != nil {
		t.Fatal(err)
	}
	w := UnusedWait{Policy: UnusedPolicy{Quiet: 10 * time.Minute}, Timeout: time.Minute, PollInterval: time.Millisecond}
	opts := RetireOptions{Now: clock.Now}

	// The context ends during the watch.
	cctx, cancel := context.WithCancel(ctx)
	w.Progress = func(RetireDecision) { cancel() }
	res, err := c.RetireWhenUnused(cctx, old, *fresh, w, opts)
	if !errors.Is(err, ErrStillInUse) || !errors.Is(err, context.Canceled) || res == nil || res.Looks != 1 || res.Retirement != nil {
		t.Errorf("context ended: %+v, %v", res, err)
	}
	w.Progress = nil

	// The replacement is deleted: the old one stays.
	if err := c.DeleteAPIToken(ctx, fresh.Secret); err != nil {
		t.Fatal(err)
	}
	res, err = c.RetireWhenUnused(ctx, old, *fresh, w, opts)
	if !errors.Is(err, ErrNotFound) || res.Retirement != nil || !strings.Contains(err.Error(), "no longer listed") {
		t.Errorf("replacement gone: %+v, %v", res, err)
	}
	if _, ok := findTok(srv.Tokens(), old.Secret); !ok {
		t.Fatal("the old token was retired")
	}

	// The old one is deleted by someone else: nothing to do.
	fresh, err = c.CreateAPIToken(ctx, RequestFor(old))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAPIToken(ctx, old.Secret); err != nil {
		t.Fatal(err)
	}
	before := srv.RequestCount()
	res, err = c.RetireWhenUnused(ctx, old, *fresh, w, opts)
	if err != nil || !res.Gone || res.Retirement != nil || srv.RequestCount()-before != 1 {
		t.Errorf("old gone: %+v, %v, %d requests", res, err, srv.RequestCount()-before)
	}

	// Bad input is refused before anything is sent.
	for _, tc := range []struct {
		old, repl APIToken
		w         UnusedWait
		opts      RetireOptions
	}{
		{old, old, w, opts},
		{APIToken{Secret: old.Secret}, *fresh, w, opts},
		{old, *fresh, UnusedWait{Policy: w.Policy}, opts},
		{old, *fresh, UnusedWait{Policy: UnusedPolicy{Quiet: time.Minute}, Timeout: time.Minute}, opts},
		{old, *fresh, w, RetireOptions{GracePeriod: -time.Second}},
	} {
		if _, err := c.RetireWhenUnused(ctx, tc.old, tc.repl, tc.w, tc.opts); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: %v", tc.w, err)
		}
	}
	if n := srv.RequestCount() - before; n != 1 {
		t.Errorf("bad input sent %d requests", n-1)
	}
}

// TestCheckPolicyReadsTheModeOfAFullV2Secret: a caller holding the old
// token by its full v2 secret, without the listed Secure flag, gets a
// quiet period of secure storage accepted after one read of the server's
// mode; on a server in default storage it stays refused.
func TestCheckPolicyReadsTheModeOfAFullV2Secret(t *testing.T) {
	t.Parallel()
	old := APIToken{Secret: v2Full, TokenName: "svc"}
	p := UnusedPolicy{Quiet: time.Minute}
	c, m := newTestClient(t, []reply{jsonReply(200, `{"version":"8.2.0","flags":{"secureTokenStorage":true}}`)})
	if err := c.checkPolicy(context.Background(), p, old); err != nil || len(m.sent()) != 1 || m.sent()[0].Path != "/api/admin/ui-config" {
		t.Errorf("%v, sent %+v", err, m.sent())
	}
	c, m = newTestClient(t, []reply{jsonReply(200, `{"version":"8.2.0","flags":{"secureTokenStorage":false}}`)})
	if err := c.checkPolicy(context.Background(), p, old); !errors.Is(err, ErrInvalidArgument) || len(m.sent()) != 1 {
		t.Errorf("%v, sent %d", err, len(m.sent()))
	}
	c, m = newTestClient(t, nil)
	if err := c.checkPolicy(context.Background(), UnusedPolicy{Quiet: 10 * time.Minute}, old); err != nil || len(m.sent()) != 0 {
		t.Errorf("%v, sent %d", err, len(m.sent()))
	}
}
