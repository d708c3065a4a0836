package unleashadmin

// Benchmarks that put each SDK call next to the same request made by hand
// with net/http and encoding/json, against one lean in-process server that
// answers with bytes prepared in advance. Both sides send the same method,
// path, headers and body, decode into structs with the same fields, and
// drain and close the body; TestBenchPairsAreEquivalent proves it.
//
// The raw side's http.Client comes from defaultHTTPClient, the function
// NewClient uses when no WithHTTPClient is given: same transport settings,
// but its own connection pool, so each side's new connections can be
// counted on their own.
//
// Run with:
//
//	go test -run '^$' -bench . -benchmem
//
// `make bench` runs them several times and prints the SDK/raw ratios.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/internal/rawclient"
)

// benchWorkers is how many goroutines share one client in the parallel
// benchmarks.
const benchWorkers = 16

const benchKey = "*:*.unleash-insecure-admin-api-token"

// benchCreate is the create request both sides send.
var benchCreate = CreateAPITokenRequest{
	Type:        TokenTypeBackend,
	TokenName:   "bench-backend",
	Environment: "development",
	Projects:    []string{"default"},
	ExpiresAt:   Ptr(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
}

// Canned response bodies, in the exact shapes Unleash 8.2.0 sends (see
// testdata/captures-8.2.0).
var (
	benchCreatedBody = []byte(`{"tokenName":"bench-backend","environment":"development","projects":["default"],` +
		`"expiresAt":"2030-01-02T03:04:05.000Z","secret":"default:development.517cb0bf5002ae8cb2b5fb07dd4b750bbdaece49ec9ddee476e7bf64",` +
		`"type":"backend","alias":null,"project":"default","createdAt":"2026-11-22T07:55:13.082Z","secure":false}`)
	benchNotFoundBody = []byte(`{"name":"NotFoundError","message":"No project found","details":[{"message":"No project found"}]}`)
	benchList10Body   = benchTokenList(10)
	benchList2000Body = benchTokenList(2000)
)

// benchTokenList builds the body of a list of n tokens, keys in the order
// Unleash writes them, with a realistic mix of types, environments,
// projects and optional fields.
func benchTokenList(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"tokens":[`)
	created := time.Date(2026, 11, 22, 7, 55, 13, 82e6, time.UTC)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		sum := sha256.Sum256([]byte(strconv.Itoa(i)))
		random := hex.EncodeToString(sum[:])[:56]
		project, projects, prefix := "default", `["default"]`, "default"
		if i%7 == 3 {
			project, projects, prefix = "default,second", `["default","second"]`, "[]"
		}
		env, typ := "development", "client"
		if i%4 == 1 {
			env, typ = "production", "frontend"
		}
		expires, seen := "null", "null"
		if i%3 == 0 {
			expires = `"2030-01-02T03:04:05.000Z"`
		}
		at := created.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000Z")
		if i%2 == 0 {
			seen = `"` + at + `"`
		}
		fmt.Fprintf(&b, `{"secret":"%s:%s.%s","tokenName":"service-%04d","type":"%s","project":"%s","projects":%s,`+
			`"environment":"%s","expiresAt":%s,"createdAt":"%s","alias":null,"seenAt":%s,"secure":false}`,
			prefix, env, random, i, typ, project, projects, env, expires, at, seen)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// cannedResponse is a status and body with their headers prepared once.
type cannedResponse struct {
	status int
	body   []byte
	length []string // Content-Length
}

func canned(status int, body []byte) *cannedResponse {
	return &cannedResponse{status: status, body: body, length: []string{strconv.Itoa(len(body))}}
}

var (
	benchJSONType = []string{"application/json; charset=utf-8"}
	benchCreated  = canned(http.StatusCreated, benchCreatedBody)
	benchNotFound = canned(http.StatusNotFound, benchNotFoundBody)
)

// benchServer answers the three routes the benchmarks use with canned
// bytes and counts the connections it accepts.
type benchServer struct {
	srv   *httptest.Server
	list  atomic.Pointer[cannedResponse] // what GET /api/admin/api-tokens answers
	conns atomic.Int64
	// record, when set, receives every request; for the equivalence test.
	record atomic.Pointer[func(r *http.Request, body []byte)]
}

func newBenchServer(tb testing.TB) *benchServer {
	tb.Helper()
	s := &benchServer{}
	s.list.Store(canned(http.StatusOK, benchList10Body))
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	tb.Cleanup(s.srv.Close)
	return s
}

func (s *benchServer) serve(w http.ResponseWriter, r *http.Request) {
	if rec := s.record.Load(); rec != nil {
		body, _ := io.ReadAll(r.Body)
		(*rec)(r, body)
	}
	_, _ = io.Copy(io.Discard, r.Body)
	var resp *cannedResponse
	switch {
	case r.Method == http.MethodPost && r.URL.Path == apiTokens:
		resp = benchCreated
	case r.Method == http.MethodGet && r.URL.Path == apiTokens:
		resp = s.list.Load()
	case r.Method == http.MethodGet && r.URL.Path == "/api/admin/projects/nope/api-tokens":
		resp = benchNotFound
	default:
		http.Error(w, "not a benchmark route", http.StatusTeapot)
		return
	}
	h := w.Header()
	h["Content-Type"] = benchJSONType
	h["Content-Length"] = resp.length
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func newRawClient(base string) *rawclient.Client {
	return &rawclient.Client{HTTP: defaultHTTPClient(), Base: base, Key: benchKey, UserAgent: "unleashadmin-go/" + Version}
}

var benchRawCreate = rawclient.CreateRequest{
	Type:        string(benchCreate.Type),
	TokenName:   benchCreate.TokenName,
	Environment: benchCreate.Environment,
	Projects:    benchCreate.Projects,
	ExpiresAt:   benchCreate.ExpiresAt,
}

// benchCase is one call, made by the SDK and by the raw client. Each
// function checks the answer and returns an error when it is not the
// expected one.
type benchCase struct {
	name string
	list *cannedResponse // what the list route answers during this case
	sdk  func(context.Context, *Client) error
	raw  func(context.Context, *rawclient.Client) error
}

func wantCount(n, want int) error {
	if n != want {
		return fmt.Errorf("got %d tokens, want %d", n, want)
	}
	return nil
}

func listCase(name string, body []byte, n int) benchCase {
	return benchCase{
		name: name,
		list: canned(http.StatusOK, body),
		sdk: func(ctx context.Context, c *Client) error {
			toks, err := c.ListAPITokens(ctx)
			if err != nil {
				return err
			}
			return wantCount(len(toks), n)
		},
		raw: func(ctx context.Context, c *rawclient.Client) error {
			toks, err := c.List(ctx)
			if err != nil {
				return err
			}
			return wantCount(len(toks), n)
		},
	}
}

var benchCases = []benchCase{
	{
		name: "create",
		sdk: func(ctx context.Context, c *Client) error {
			tok, err := c.CreateAPIToken(ctx, benchCreate)
			if err != nil {
				return err
			}
			if tok.Secret == "" {
				return fmt.Errorf("no secret")
			}
			return nil
		},
		raw: func(ctx context.Context, c *rawclient.Client) error {
			tok, err := c.Create(ctx, benchRawCreate)
			if err != nil {
				return err
			}
			if tok.Secret == "" {
				return fmt.Errorf("no secret")
			}
			return nil
		},
	},
	listCase("list10", benchList10Body, 10),
	listCase("list2000", benchList2000Body, 2000),
	{
		name: "notfound404",
		sdk: func(ctx context.Context, c *Client) error {
			_, err := c.ListProjectAPITokens(ctx, "nope")
			if e, ok := err.(*APIError); !ok || e.StatusCode != http.StatusNotFound || e.Name != "NotFoundError" {
				return fmt.Errorf("want a 404 NotFoundError, got %v", err)
			}
			return nil
		},
		raw: func(ctx context.Context, c *rawclient.Client) error {
			_, err := c.ListProject(ctx, "nope")
			if e, ok := err.(*rawclient.Error); !ok || e.Status != http.StatusNotFound || e.Name != "NotFoundError" {
				return fmt.Errorf("want a 404 NotFoundError, got %v", err)
			}
			return nil
		},
	},
}

// benchClients returns a server and the two clients that call it.
func benchClients(tb testing.TB) (*benchServer, *Client, *rawclient.Client) {
	tb.Helper()
	s := newBenchServer(tb)
	sdk, err := NewClient(s.srv.URL, benchKey)
	if err != nil {
		tb.Fatal(err)
	}
	raw := newRawClient(s.srv.URL)
	tb.Cleanup(sdk.http.HTTPClient.CloseIdleConnections)
	tb.Cleanup(raw.HTTP.CloseIdleConnections)
	return s, sdk, raw
}

// BenchmarkSerial makes one call after another from one goroutine.
func BenchmarkSerial(b *testing.B) {
	s, sdk, raw := benchClients(b)
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			if tc.list != nil {
				s.list.Store(tc.list)
			}
			b.Run("sdk", func(b *testing.B) {
				call := func(ctx context.Context) error { return tc.sdk(ctx, sdk) }
				runSerial(b, s, call)
				if tc.name == "list2000" {
					reportHeap(b, len(tc.list.body), func(ctx context.Context) (any, error) {
						toks, err := sdk.ListAPITokens(ctx)
						return toks, err
					})
				}
			})
			b.Run("raw", func(b *testing.B) {
				call := func(ctx context.Context) error { return tc.raw(ctx, raw) }
				runSerial(b, s, call)
				if tc.name == "list2000" {
					reportHeap(b, len(tc.list.body), func(ctx context.Context) (any, error) {
						toks, err := raw.List(ctx)
						return toks, err
					})
				}
			})
		})
	}
}

// BenchmarkParallel16 makes the same calls from benchWorkers goroutines
// sharing one client; ns/op is wall time divided by the calls made, so the
// ratio of two ns/op is the inverse ratio of throughputs.
func BenchmarkParallel16(b *testing.B) {
	s, sdk, raw := benchClients(b)
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			if tc.list != nil {
				s.list.Store(tc.list)
			}
			b.Run("sdk", func(b *testing.B) {
				runParallel(b, s, func(ctx context.Context) error { return tc.sdk(ctx, sdk) })
			})
			b.Run("raw", func(b *testing.B) {
				runParallel(b, s, func(ctx context.Context) error { return tc.raw(ctx, raw) })
			})
		})
	}
}

// BenchmarkPaired times the SDK and the raw side of each case in
// alternating blocks of about 5 ms inside one benchmark (SDK first in one
// block pair, raw first in the next), so that both sides meet the same
// load on a busy machine. It reports sdk-ns/op and raw-ns/op (wall time
// per call, the inverse of throughput with several workers) and their
// ratio sdk/raw; b.N counts the calls of each side. B/op and allocs/op are
// those of BenchmarkSerial and BenchmarkParallel16.
func BenchmarkPaired(b *testing.B) {
	s, sdk, raw := benchClients(b)
	modes := []struct {
		name    string
		workers int
	}{{"serial", 1}, {"parallel16", benchWorkers}}
	for _, m := range modes {
		for _, tc := range benchCases {
			b.Run(m.name+"/"+tc.name, func(b *testing.B) {
				if tc.list != nil {
					s.list.Store(tc.list)
				}
				ctx := context.Background()
				sides := [2]func() error{
					func() error { return tc.sdk(ctx, sdk) },
					func() error { return tc.raw(ctx, raw) },
				}
				// Warm both pools up and size the blocks from the time taken.
				var per time.Duration
				for _, call := range sides {
					start := time.Now()
					if err := fanOut(m.workers, 4*m.workers, call); err != nil {
						b.Fatal(err)
					}
					per = max(per, time.Since(start)/time.Duration(4*m.workers))
				}
				block := int(min(max(5*time.Millisecond/max(per, 1), 1), 500))
				var spent [2]time.Duration
				b.ResetTimer()
				for done, round := 0, 0; done < b.N; round++ {
					n := min(block, b.N-done)
					for k := range 2 {
						side := (round + k) % 2
						start := time.Now()
						if err := fanOut(m.workers, n, sides[side]); err != nil {
							b.Fatal(err)
						}
						spent[side] += time.Since(start)
					}
					done += n
				}
				b.StopTimer()
				sdkNs := float64(spent[0].Nanoseconds()) / float64(b.N)
				rawNs := float64(spent[1].Nanoseconds()) / float64(b.N)
				b.ReportMetric(sdkNs, "sdk-ns/op")
				b.ReportMetric(rawNs, "raw-ns/op")
				b.ReportMetric(sdkNs/rawNs, "sdk/raw")
			})
		}
	}
}

// memoryTransport answers from memory what benchServer answers over
// loopback, so that BenchmarkNoNetwork measures the client's own work.
type memoryTransport struct{ list *cannedResponse }

func (m *memoryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	var c *cannedResponse
	switch {
	case r.Method == http.MethodPost && r.URL.Path == apiTokens:
		c = benchCreated
	case r.Method == http.MethodGet && r.URL.Path == apiTokens:
		c = m.list
	default:
		c = benchNotFound
	}
	return &http.Response{
		StatusCode:    c.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": benchJSONType, "Content-Length": c.length},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       r,
	}, nil
}

// BenchmarkNoNetwork makes the calls of BenchmarkSerial through an
// http.Client whose transport answers from memory: what is left is the
// client's own work (building the request, the retry wrapper, decoding,
// errors), without the network and server costs that dominate the other
// benchmarks and their noise. Both sides use the same http.Client (the SDK
// through WithHTTPClient). No targets apply; it shows where the SDK's
// extra time comes from.
func BenchmarkNoNetwork(b *testing.B) {
	for _, tc := range benchCases {
		b.Run(tc.name, func(b *testing.B) {
			mt := &memoryTransport{list: tc.list}
			hc := &http.Client{Transport: mt, Timeout: DefaultTimeout}
			const base = "http://unleash.invalid"
			sdk, err := NewClient(base, benchKey, WithHTTPClient(hc))
			if err != nil {
				b.Fatal(err)
			}
			raw := newRawClient(base)
			raw.HTTP = hc
			ctx := context.Background()
			b.Run("sdk", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := tc.sdk(ctx, sdk); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("raw", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := tc.raw(ctx, raw); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func runSerial(b *testing.B, s *benchServer, call func(context.Context) error) {
	ctx := context.Background()
	// One call first, so that the connection exists before timing starts.
	if err := call(ctx); err != nil {
		b.Fatal(err)
	}
	before := s.conns.Load()
	b.ReportAllocs()
	for b.Loop() {
		if err := call(ctx); err != nil {
			b.Fatal(err)
		}
	}
	reportConns(b, s.conns.Load()-before, 1)
}

func runParallel(b *testing.B, s *benchServer, call func(context.Context) error) {
	ctx := context.Background()
	// Warm up: every worker makes a few calls so that the pool holds about
	// one connection per worker before timing starts.
	if err := fanOut(benchWorkers, 4*benchWorkers, func() error { return call(ctx) }); err != nil {
		b.Fatal(err)
	}
	before := s.conns.Load()
	b.ReportAllocs()
	b.ResetTimer()
	err := fanOut(benchWorkers, b.N, func() error { return call(ctx) })
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	reportConns(b, s.conns.Load()-before, benchWorkers)
}

// fanOut makes n calls from the given number of goroutines and returns the
// first error.
func fanOut(workers, n int, call func() error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr atomic.Pointer[error]
	)
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := call(); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		return *p
	}
	return nil
}

// reportConns reports the connections opened per call while timing ran. A
// pooled client opens at most one per concurrent caller, whatever the
// number of calls; more means connections are not being reused.
func reportConns(b *testing.B, opened int64, callers int) {
	b.ReportMetric(float64(opened)/float64(b.N), "conns/op")
	if opened > int64(callers) {
		b.Errorf("%d new connections for %d calls from %d goroutines: connections are not reused", opened, b.N, callers)
	}
}

// reportHeap measures the heap cost of one call relative to the size of
// the response body and reports it as three metrics:
//
//   - peak-heap/body: the largest live heap seen during the call, above
//     the live heap before it. A second goroutine forces one garbage
//     collection after another while the call runs and reads the live heap
//     each one found. Objects the call allocates while a collection runs
//     count as live in it, so this reads a little high (about 0.2 for the
//     list of 2,000 tokens); the median over five calls is reported.
//   - alloc/body: every byte the call allocated, garbage included; the
//     heap grows by this much when no collection runs during the call.
//   - retained/body: what is still live once the call returned (the
//     result).
//
// The in-process server's own allocations are included; they are small
// (it writes canned bytes) and the same for both sides.
func reportHeap(b *testing.B, bodyLen int, call func(context.Context) (any, error)) {
	const tries = 5
	var peak, alloc, kept []float64
	for range tries {
		p, a, r := measureHeap(b, call)
		peak, alloc, kept = append(peak, float64(p)), append(alloc, float64(a)), append(kept, float64(r))
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	body := float64(bodyLen)
	b.ReportMetric(median(peak)/body, "peak-heap/body")
	b.ReportMetric(median(alloc)/body, "alloc/body")
	b.ReportMetric(median(kept)/body, "retained/body")
}

func measureHeap(b *testing.B, call func(context.Context) (any, error)) (peak, alloc, retained uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	live := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	base := live()
	runtime.ReadMemStats(&ms)
	total := ms.TotalAlloc

	var (
		done    atomic.Bool
		highest uint64
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		for !done.Load() {
			runtime.GC()
			highest = max(highest, live())
		}
	})
	result, err := call(context.Background())
	done.Store(true)
	wg.Wait()
	if err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&ms)
	alloc = ms.TotalAlloc - total
	runtime.GC()
	after := live()
	runtime.KeepAlive(result)
	highest = max(highest, after)
	return sub(highest, base), alloc, sub(after, base)
}

func sub(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

// TestBenchPairsAreEquivalent checks that the SDK and the raw client of
// the benchmarks send the same request and decode the same values.
func TestBenchPairsAreEquivalent(t *testing.T) {
	type seen struct {
		method, uri string
		header      http.Header
		body        []byte
	}
	s, sdk, raw := benchClients(t)
	var (
		mu  sync.Mutex
		got []seen
	)
	rec := func(r *http.Request, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		h := http.Header{}
		for _, k := range []string{"Authorization", "Accept", "Content-Type", "User-Agent", "Content-Length"} {
			if v, ok := r.Header[k]; ok {
				h[k] = v
			}
		}
		got = append(got, seen{r.Method, r.RequestURI, h, body})
	}
	s.record.Store(&rec)
	ctx := context.Background()
	for _, tc := range benchCases {
		if tc.list != nil {
			s.list.Store(tc.list)
		}
		mu.Lock()
		got = nil
		mu.Unlock()
		if err := tc.sdk(ctx, sdk); err != nil {
			t.Fatalf("%s sdk: %v", tc.name, err)
		}
		if err := tc.raw(ctx, raw); err != nil {
			t.Fatalf("%s raw: %v", tc.name, err)
		}
		mu.Lock()
		pair := slices.Clone(got)
		mu.Unlock()
		if len(pair) != 2 {
			t.Fatalf("%s: %d requests, want 2", tc.name, len(pair))
		}
		a, b := pair[0], pair[1]
		if a.method != b.method || a.uri != b.uri || !bytes.Equal(a.body, b.body) || fmt.Sprint(a.header) != fmt.Sprint(b.header) {
			t.Errorf("%s: the two sides differ:\nsdk %s %s %v %s\nraw %s %s %v %s", tc.name,
				a.method, a.uri, a.header, a.body, b.method, b.uri, b.header, b.body)
		}
		if a.header.Get("Authorization") == "" || a.header.Get("User-Agent") == "" || a.header.Get("Accept") == "" {
			t.Errorf("%s: headers missing: %v", tc.name, a.header)
		}
	}

	// Same values decoded on both sides.
	tok, err := sdk.CreateAPIToken(ctx, benchCreate)
	if err != nil {
		t.Fatal(err)
	}
	rtok, err := raw.Create(ctx, benchRawCreate)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "create", tok, rtok)
	s.list.Store(canned(http.StatusOK, benchList2000Body))
	toks, err := sdk.ListAPITokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rtoks, err := raw.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "list2000", toks, rtoks)
}

func sameJSON(t *testing.T, what string, a, b any) {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja, jb) {
		t.Errorf("%s: decoded values differ:\nsdk %.300s\nraw %.300s", what, ja, jb)
	}
}
