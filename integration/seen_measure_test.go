package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// The feature APIs a token can be used on: backend and client tokens read
// the client API, frontend tokens the frontend API.
const (
	clientFeaturesPath = "/api/client/features"
	frontendPath       = "/api/frontend"
)

// usePath is where a token of typ is used, as an SDK would use it.
func usePath(typ unleashadmin.TokenType) string {
	if typ == unleashadmin.TokenTypeFrontend {
		return frontendPath
	}
	return clientFeaturesPath
}

// useToken sends GET base+path with secret as the Authorization header, as
// an SDK does, and returns the status and up to 64 KiB of the body. The
// secret never appears in an error.
func useToken(ctx context.Context, base, path, secret string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("GET %s: %w", path, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if secret != "" {
		req.Header.Set("Authorization", secret)
	}
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		// A *url.Error names the URL, not the header.
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("GET %s: reading the body: %w", path, err)
	}
	return resp.StatusCode, body, nil
}

// envDuration reads a duration from the environment, def when unset.
func envDuration(t *testing.T, key string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		t.Fatalf("%s=%q is not a duration", key, v)
	}
	return d
}

// seenSample is one measured use: when the token was used, when the admin
// list first showed its seenAt, and the seenAt it showed.
type seenSample struct {
	typ     unleashadmin.TokenType
	used    time.Time // just before the request
	visible time.Duration
	seenAt  time.Time
}

// TestMeasureSeenAt measures how long a real Unleash takes to show a
// token's use in the seenAt of GET /api/admin/api-tokens: per round it
// creates a backend (client before Unleash 7.1) and a frontend token, uses
// each once on its API (GET /api/client/features, GET /api/frontend), and
// polls the list until both have a seenAt. The rounds start
// UNLEASH_MEASURE_SEEN_STAGGER apart (default 47s), so that their uses fall
// at different points of the server's write cycle, and run at the same
// time. It logs every sample and a summary line.
//
// It runs only with UNLEASH_MEASURE_SEEN=1 (it takes about six minutes
// against a server in default token storage); see docs/SERVERS.md:
//
//	eval "$(UNLEASH_SERVER=7.6.5 scripts/unleash.sh start)"
//	UNLEASH_MEASURE_SEEN=1 go test -count=1 -v -run TestMeasureSeenAt -timeout 15m ./integration/
//
// Settings: UNLEASH_MEASURE_SEEN_ROUNDS (default 4), _STAGGER (47s), _BOUND
// (the longest wait for one use, 4m).
func TestMeasureSeenAt(t *testing.T) {
	if os.Getenv("UNLEASH_MEASURE_SEEN") != "1" {
		t.Skip("set UNLEASH_MEASURE_SEEN=1 (and UNLEASH_URL, UNLEASH_API_TOKEN) to measure when the server records a token's use")
	}
	rounds := 4
	if v := os.Getenv("UNLEASH_MEASURE_SEEN_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 20 {
			t.Fatalf("UNLEASH_MEASURE_SEEN_ROUNDS=%q is not a number from 1 to 20", v)
		}
		rounds = n
	}
	stagger := envDuration(t, "UNLEASH_MEASURE_SEEN_STAGGER", 47*time.Second)
	bound := envDuration(t, "UNLEASH_MEASURE_SEEN_BOUND", 4*time.Minute)
	c := newClient(t, "")
	env := "development" // enabled on every version; 5.x and 6.x's "default" is not

	var mu sync.Mutex
	var samples []seenSample
	var wg sync.WaitGroup
	for r := range rounds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := measureRound(t, c, r, time.Duration(r)*stagger, bound, env)
			mu.Lock()
			samples = append(samples, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()

	slices.SortFunc(samples, func(a, b seenSample) int { return a.used.Compare(b.used) })
	for _, typ := range []unleashadmin.TokenType{backend(), unleashadmin.TokenTypeFrontend} {
		var vis, stamp []time.Duration
		for _, s := range samples {
			if s.typ == typ {
				vis = append(vis, s.visible)
				stamp = append(stamp, s.seenAt.Sub(s.used))
			}
		}
		if len(vis) == 0 {
			continue
		}
		t.Logf("summary: Unleash %s, secure token storage %t, %s token: %d uses, visible after %v to %v, seenAt %v to %v after the use",
			target.info.Version, target.info.SecureTokens, typ, len(vis),
			slices.Min(vis).Round(100*time.Millisecond), slices.Max(vis).Round(100*time.Millisecond),
			slices.Min(stamp).Round(time.Millisecond), slices.Max(stamp).Round(time.Millisecond))
	}
	if len(samples) != 2*rounds {
		t.Errorf("%d of %d uses were measured", len(samples), 2*rounds)
	}
}

// measureRound waits delay, then creates, uses and watches one backend (or
// client) and one frontend token, and returns what it saw.
func measureRound(t *testing.T, c *unleashadmin.Client, round int, delay, bound time.Duration, env string) []seenSample {
	time.Sleep(delay)
	type used struct {
		tok  *unleashadmin.APIToken
		at   time.Time
		done bool
	}
	var toks []*used
	for _, typ := range []unleashadmin.TokenType{backend(), unleashadmin.TokenTypeFrontend} {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		tok, err := c.CreateAPIToken(cctx, unleashadmin.CreateAPITokenRequest{
			TokenName: fmt.Sprintf("%s-seen-%d-%s", target.runID, round, typ), Type: typ, Environment: env,
		})
		cancel()
		if err != nil {
			t.Errorf("round %d: creating a %s token: %v", round, typ, err)
			continue
		}
		t.Cleanup(func() {
			if err := c.DeleteAPIToken(context.Background(), tok.Secret); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		toks = append(toks, &used{tok: tok})
	}
	for _, u := range toks {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		u.at = time.Now()
		status, body, err := useToken(cctx, target.url, usePath(u.tok.Type), u.tok.Secret, nil)
		cancel()
		if err != nil || status != http.StatusOK {
			t.Errorf("round %d: using the %s token on %s: %d %s %v", round, u.tok.Type, usePath(u.tok.Type), status, body, err)
			u.done = true
		}
	}

	var out []seenSample
	start := time.Now()
	for wait := 250 * time.Millisecond; ; {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		list, err := c.ListAPITokens(cctx)
		cancel()
		now := time.Now()
		if err != nil {
			t.Errorf("round %d: listing: %v", round, err)
			return out
		}
		left := 0
		for _, u := range toks {
			if u.done {
				continue
			}
			lt, ok := find(list, u.tok.Secret)
			if !ok {
				t.Errorf("round %d: the %s token is not listed", round, u.tok.Type)
				u.done = true
				continue
			}
			if lt.SeenAt == nil {
				left++
				continue
			}
			u.done = true
			s := seenSample{typ: u.tok.Type, used: u.at, visible: now.Sub(u.at), seenAt: *lt.SeenAt}
			out = append(out, s)
			t.Logf("round %d: %s token used at %s, seenAt %s (%+v after the use), listed within %v",
				round, u.tok.Type, u.at.UTC().Format("15:04:05.000"), s.seenAt.UTC().Format("15:04:05.000"),
				s.seenAt.Sub(u.at).Round(time.Millisecond), s.visible.Round(100*time.Millisecond))
		}
		if left == 0 {
			return out
		}
		if time.Since(start) > bound {
			t.Errorf("round %d: %d token(s) still without seenAt after %v", round, left, bound)
			return out
		}
		time.Sleep(wait)
		if time.Since(start) > 5*time.Second {
			wait = 2 * time.Second
		}
	}
}
