package benchreal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/internal/rawclient"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// namePrefix starts the name of every token these benchmarks create.
const namePrefix = "unleashadmin-bench-"

// batch bounds how many benchmark tokens exist at once, well below
// Unleash's default limit of 2,000 tokens.
const batch = 25

// side is one way of making the three calls: through the SDK or by hand.
type side struct {
	name   string
	create func(ctx context.Context, tokenName string) (secret string, err error)
	list   func(ctx context.Context) (int, error)
	delete func(ctx context.Context, secret string) error
}

// newHTTPClient is the http.Client both sides share (passed to the SDK with
// WithHTTPClient): the transport settings of the SDK's own default client.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = unleashadmin.DefaultTimeout
	return &http.Client{Transport: t, Timeout: unleashadmin.DefaultTimeout}
}

func sdkSide(c *unleashadmin.Client) side {
	return side{
		name: "sdk",
		create: func(ctx context.Context, tokenName string) (string, error) {
			tok, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
				Type:        unleashadmin.TokenTypeBackend,
				TokenName:   tokenName,
				Environment: "development",
				Projects:    []string{"default"},
			})
			if err != nil {
				return "", err
			}
			return tok.Secret, nil
		},
		list: func(ctx context.Context) (int, error) {
			toks, err := c.ListAPITokens(ctx)
			return len(toks), err
		},
		delete: func(ctx context.Context, secret string) error {
			return c.DeleteAPIToken(ctx, secret)
		},
	}
}

func rawSide(r *rawclient.Client) side {
	return side{
		name: "raw",
		create: func(ctx context.Context, tokenName string) (string, error) {
			tok, err := r.Create(ctx, rawclient.CreateRequest{Type: "backend", TokenName: tokenName, Environment: "development", Projects: []string{"default"}})
			if err != nil {
				return "", err
			}
			return tok.Secret, nil
		},
		list: func(ctx context.Context) (int, error) {
			toks, err := r.List(ctx)
			return len(toks), err
		},
		delete: func(ctx context.Context, secret string) error { return r.Delete(ctx, secret) },
	}
}

// setup returns the admin client used for setup and cleanup, and the two
// sides, all sharing one http.Client.
func setup(tb testing.TB, base, key string) (*unleashadmin.Client, []side) {
	tb.Helper()
	hc := newHTTPClient()
	tb.Cleanup(hc.CloseIdleConnections)
	c, err := unleashadmin.NewClient(base, key, unleashadmin.WithHTTPClient(hc))
	if err != nil {
		tb.Fatal(err)
	}
	return c, []side{sdkSide(c), rawSide(&rawclient.Client{HTTP: hc, Base: strings.TrimSuffix(base, "/"), Key: key, UserAgent: "unleashadmin-go/" + unleashadmin.Version})}
}

// names hands out token names unique to this process.
type names struct {
	run string
	n   atomic.Int64
}

func newNames() *names {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &names{run: namePrefix + hex.EncodeToString(b) + "-"}
}

func (n *names) next() string { return fmt.Sprintf("%s%d", n.run, n.n.Add(1)) }

// sweep deletes the tokens whose name starts with prefix and that were
// created before the given time; it returns how many it deleted.
func sweep(ctx context.Context, c *unleashadmin.Client, prefix string, before time.Time) (int, error) {
	toks, err := c.ListAPITokens(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range toks {
		if strings.HasPrefix(t.TokenName, prefix) && t.CreatedAt.Before(before) && t.Secret != "" {
			if err := c.DeleteAPIToken(ctx, t.Secret); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// BenchmarkReal measures create, list and delete against the Unleash at
// UNLEASH_URL, through the SDK and by hand, in one run.
func BenchmarkReal(b *testing.B) {
	base, key := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN")
	if base == "" || key == "" {
		b.Skip("UNLEASH_URL and UNLEASH_API_TOKEN are not set; start a server with: eval \"$(scripts/unleash.sh start)\"")
	}
	ctx := context.Background()
	admin, sides := setup(b, base, key)
	// Leftovers of an interrupted run; an hour's margin spares a run that is
	// going on at the same time.
	if n, err := sweep(ctx, admin, namePrefix, time.Now().Add(-time.Hour)); err != nil {
		b.Fatalf("cannot reach the server: %v", err) // the SDK's error names the URL, password hidden
	} else if n > 0 {
		b.Logf("deleted %d tokens left by an earlier run", n)
	}
	nm := newNames()
	b.Cleanup(func() {
		// Everything this run made, should a benchmark have stopped half way.
		if _, err := sweep(ctx, admin, nm.run, time.Now().Add(time.Minute)); err != nil {
			b.Errorf("cleanup: %v", err)
		}
	})
	b.Run("create", func(b *testing.B) {
		for _, s := range sides {
			b.Run(s.name, func(b *testing.B) { benchCreate(b, admin, s, nm) })
		}
	})
	b.Run("list", func(b *testing.B) {
		for _, s := range sides {
			b.Run(s.name, func(b *testing.B) { benchList(b, s) })
		}
	})
	b.Run("delete", func(b *testing.B) {
		for _, s := range sides {
			b.Run(s.name, func(b *testing.B) { benchDelete(b, admin, s, nm) })
		}
	})
}

// BenchmarkRealPaired makes each call through the SDK and by hand in turn
// (which side goes first alternates), timing every call; b.N counts the
// pairs. The server's own variation, large next to what a client adds,
// mostly cancels out within a pair, so the median over the pairs of the
// SDK's time minus the raw one's (sdk-raw-ns/op) estimates what the SDK
// adds to a real round trip. sdk-ns/op and raw-ns/op are each side's
// median call time, sdk/raw their ratio.
func BenchmarkRealPaired(b *testing.B) {
	base, key := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN")
	if base == "" || key == "" {
		b.Skip("UNLEASH_URL and UNLEASH_API_TOKEN are not set; start a server with: eval \"$(scripts/unleash.sh start)\"")
	}
	admin, sides := setup(b, base, key)
	nm := newNames()
	b.Cleanup(func() {
		if _, err := sweep(context.Background(), admin, nm.run, time.Now().Add(time.Minute)); err != nil {
			b.Errorf("cleanup: %v", err)
		}
	})
	b.Run("create", func(b *testing.B) {
		var made []string
		b.Cleanup(func() { deleteAll(b, admin, &made) })
		runPaired(b, sides, func(ctx context.Context, s side) (time.Duration, error) {
			start := time.Now()
			secret, err := s.create(ctx, nm.next())
			took := time.Since(start)
			if err == nil {
				made = append(made, secret)
			}
			if len(made) >= batch {
				deleteAll(b, admin, &made)
			}
			return took, err
		})
	})
	b.Run("list", func(b *testing.B) {
		runPaired(b, sides, func(ctx context.Context, s side) (time.Duration, error) {
			start := time.Now()
			_, err := s.list(ctx)
			return time.Since(start), err
		})
	})
	b.Run("delete", func(b *testing.B) {
		runPaired(b, sides, func(ctx context.Context, s side) (time.Duration, error) {
			tok, err := admin.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
				Type: unleashadmin.TokenTypeBackend, TokenName: nm.next(), Environment: "development", Projects: []string{"default"},
			})
			if err != nil {
				return 0, err
			}
			start := time.Now()
			err = s.delete(ctx, tok.Secret)
			return time.Since(start), err
		})
	})
}

// runPaired runs call for both sides b.N times, alternating which goes
// first, and reports the medians described at BenchmarkRealPaired.
func runPaired(b *testing.B, sides []side, call func(context.Context, side) (time.Duration, error)) {
	ctx := context.Background()
	for _, s := range sides { // open the connections
		if _, err := s.list(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var sdkT, rawT, diff []float64
	b.ResetTimer()
	for i := range b.N {
		var took [2]time.Duration
		for k := range 2 {
			j := (i + k) % 2
			d, err := call(ctx, sides[j])
			if err != nil {
				b.Fatalf("%s: %v", sides[j].name, err)
			}
			took[j] = d
		}
		sdkT = append(sdkT, float64(took[0]))
		rawT = append(rawT, float64(took[1]))
		diff = append(diff, float64(took[0]-took[1]))
	}
	b.StopTimer()
	s, r := median(sdkT), median(rawT)
	b.ReportMetric(s, "sdk-ns/op")
	b.ReportMetric(r, "raw-ns/op")
	b.ReportMetric(s/r, "sdk/raw")
	b.ReportMetric(median(diff), "sdk-raw-ns/op")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// deleteAll deletes the given tokens through the SDK and empties the list.
func deleteAll(b *testing.B, admin *unleashadmin.Client, secrets *[]string) {
	for _, s := range *secrets {
		if err := admin.DeleteAPIToken(context.Background(), s); err != nil {
			b.Errorf("cleanup: %v", err)
		}
	}
	*secrets = (*secrets)[:0]
}

func benchCreate(b *testing.B, admin *unleashadmin.Client, s side, nm *names) {
	ctx := context.Background()
	var made []string
	b.Cleanup(func() { deleteAll(b, admin, &made) })
	if _, err := s.list(ctx); err != nil { // opens the connection
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		secret, err := s.create(ctx, nm.next())
		if err != nil {
			b.Fatal(err)
		}
		made = append(made, secret)
		if len(made) == batch {
			b.StopTimer()
			deleteAll(b, admin, &made)
			b.StartTimer()
		}
	}
	b.StopTimer()
	deleteAll(b, admin, &made)
}

func benchList(b *testing.B, s side) {
	ctx := context.Background()
	n, err := s.list(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if n, err = s.list(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "tokens")
}

func benchDelete(b *testing.B, admin *unleashadmin.Client, s side, nm *names) {
	ctx := context.Background()
	var pending []string
	b.Cleanup(func() { deleteAll(b, admin, &pending) })
	if _, err := s.list(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		for range min(batch, b.N-done) {
			tok, err := admin.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
				Type: unleashadmin.TokenTypeBackend, TokenName: nm.next(), Environment: "development", Projects: []string{"default"},
			})
			if err != nil {
				b.Fatal(err)
			}
			pending = append(pending, tok.Secret)
		}
		b.StartTimer()
		for len(pending) > 0 {
			if err := s.delete(ctx, pending[len(pending)-1]); err != nil {
				b.Fatal(err)
			}
			pending = pending[:len(pending)-1]
			done++
		}
	}
	b.StopTimer()
}

// TestSidesAgainstStandIn runs both sides' calls once against the
// in-process stand-in, so that the benchmark code keeps working where no
// real server runs.
func TestSidesAgainstStandIn(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	admin, sides := setup(t, srv.URL(), srv.AdminKey())
	ctx := context.Background()
	nm := newNames()
	before := len(srv.Tokens())
	for _, s := range sides {
		secret, err := s.create(ctx, nm.next())
		if err != nil || !strings.HasPrefix(secret, "default:development.") {
			t.Fatalf("%s create: %q, %v", s.name, secret, err)
		}
		n, err := s.list(ctx)
		if err != nil || n != before+1 {
			t.Fatalf("%s list: %d tokens, %v; want %d", s.name, n, err, before+1)
		}
		if err := s.delete(ctx, secret); err != nil {
			t.Fatalf("%s delete: %v", s.name, err)
		}
		if got := len(srv.Tokens()); got != before {
			t.Fatalf("%s: %d tokens after delete, want %d", s.name, got, before)
		}
	}
	// sweep finds what a run left behind.
	if _, err := sides[1].create(ctx, nm.next()); err != nil {
		t.Fatal(err)
	}
	if n, err := sweep(ctx, admin, nm.run, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if got := len(srv.Tokens()); got != before {
		t.Fatalf("%d tokens after sweep, want %d", got, before)
	}
}
