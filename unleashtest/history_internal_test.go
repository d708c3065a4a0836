package unleashtest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// serve sends one request straight to s's handler, without a network.
func serve(s *Server, method, target string, body []byte) int {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/octet-stream")
	rec := httptest.NewRecorder()
	s.serveHTTP(rec, req)
	return rec.Code
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// 600 unauthenticated POSTs of 1 MiB each leave the Server holding a
// bounded history, not 600 MiB; the newest requests stay inspectable and
// RequestCount still counts them all. Not parallel: it measures the heap.
func TestRequestHistoryMemoryBounded(t *testing.T) {
	s, err := newServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("x"), 1<<20)
	before := heapInUse()
	const n = 600
	for i := range n {
		copy(payload, fmt.Sprintf("%08d", i))
		if code := serve(s, "POST", "/api/admin/api-tokens", payload); code != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i, code)
		}
	}
	after := heapInUse()
	var retained int64
	if after > before {
		retained = int64(after - before)
	}
	t.Logf("heap retained after %d POSTs of 1 MiB: %d MiB", n, retained>>20)
	if retained > 64<<20 {
		t.Errorf("heap retained after %d POSTs of 1 MiB: %d MiB, want under 64 MiB", n, retained>>20)
	}

	if got := s.RequestCount(); got != n {
		t.Errorf("RequestCount %d, want %d", got, n)
	}
	reqs := s.Requests()
	if len(reqs) == 0 || len(reqs) == n {
		t.Fatalf("%d requests kept of %d, want the most recent few", len(reqs), n)
	}
	var kept int
	for i, r := range reqs {
		kept += len(r.Body)
		want := fmt.Sprintf("%08d", n-len(reqs)+i)
		if len(r.Body) != 1<<20 || string(r.Body[:8]) != want || r.Method != "POST" || r.Path != "/api/admin/api-tokens" {
			t.Fatalf("request %d of the history: %s %s, %d bytes starting %q; want request %s", i, r.Method, r.Path, len(r.Body), r.Body[:min(8, len(r.Body))], want)
		}
	}
	if kept > maxHistoryBytes {
		t.Errorf("history holds %d body bytes, more than %d", kept, maxHistoryBytes)
	}
	runtime.KeepAlive(s)
}

// Small requests are kept up to maxHistoryRequests, the newest ones.
func TestRequestHistoryCount(t *testing.T) {
	t.Parallel()
	s, err := newServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = maxHistoryRequests + 50
	for i := range n {
		serve(s, "GET", fmt.Sprintf("/r/%d", i), nil)
	}
	reqs := s.Requests()
	if len(reqs) != maxHistoryRequests || s.RequestCount() != n {
		t.Fatalf("%d kept, %d counted; want %d and %d", len(reqs), s.RequestCount(), maxHistoryRequests, n)
	}
	if reqs[0].Path != "/r/50" || reqs[len(reqs)-1].Path != fmt.Sprintf("/r/%d", n-1) {
		t.Errorf("history from %s to %s", reqs[0].Path, reqs[len(reqs)-1].Path)
	}
}

// A Listen server has read and idle timeouts: a client that stops sending
// its body, or keeps an idle connection, is cut off. A Fault's Delay longer
// than the read timeout is still served (net/http lifts the read deadline
// once the body is read; this keeps it so).
func TestListenTimeouts(t *testing.T) {
	t.Parallel()
	d, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if c := d.ts.Config; c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.IdleTimeout <= 0 {
		t.Errorf("Listen's http.Server: read header timeout %v, read timeout %v, idle timeout %v; want all set",
			c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout)
	}
	d.Close()

	const timeout = 300 * time.Millisecond
	s, err := Listen("127.0.0.1:0", withTimeouts(timeout, timeout))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr := strings.TrimPrefix(s.URL(), "http://")

	// closedWithin reads what the server sends on conn until it closes the
	// connection, and reports whether it did within limit.
	closedWithin := func(conn net.Conn, limit time.Duration) (string, bool) {
		_ = conn.SetReadDeadline(time.Now().Add(limit))
		got, err := io.ReadAll(conn)
		return string(got), err == nil
	}

	// A body that stops coming.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprint(conn, "POST /api/admin/api-tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
	if got, ok := closedWithin(conn, 5*time.Second); !ok {
		t.Errorf("a stalled body kept its connection open for 5s (got %q)", got)
	} else if d := time.Since(start); d < timeout-50*time.Millisecond {
		t.Errorf("a stalled body was cut off after %v, before the read timeout", d)
	}

	// An idle keep-alive connection.
	conn2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	fmt.Fprint(conn2, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = conn2.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn2)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("health: %d, close %v", res.StatusCode, res.Close)
	}
	if rest, err := io.ReadAll(br); err != nil {
		t.Errorf("an idle connection stayed open for 5s (got %q)", rest)
	}

	// A delay longer than the read timeout still ends in its response.
	s.FailNext(1, Fault{Delay: 3 * timeout, Status: http.StatusServiceUnavailable})
	res, err = s.Client().Get(s.URL() + "/health")
	if err != nil {
		t.Fatalf("delayed request: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("delayed request: %d, want 503", res.StatusCode)
	}
}

// The event log keeps its newest maxEvents events; ids go on counting.
func TestEventLogBounded(t *testing.T) {
	s := NewServer()
	defer s.Close()
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	s.mu.Lock()
	for i := range maxEvents + 50 {
		s.recordLocked(now, "api-token-created", Token{TokenName: fmt.Sprintf("t%d", i)}, nil, nil)
	}
	s.mu.Unlock()
	ev := s.Events()
	if len(ev) != maxEvents {
		t.Fatalf("%d events kept, want %d", len(ev), maxEvents)
	}
	if first, last := ev[0], ev[len(ev)-1]; first.TokenName != "t50" || last.TokenName != fmt.Sprintf("t%d", maxEvents+49) || last.ID != first.ID+maxEvents-1 {
		t.Errorf("kept %s (id %d) to %s (id %d)", first.TokenName, first.ID, last.TokenName, last.ID)
	}
}
