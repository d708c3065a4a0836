package unleashtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

func TestFaultStatusBodyAndCount(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	s.FailNext(2, unleashtest.Fault{
		Status: http.StatusBadGateway,
		Header: http.Header{"Content-Type": {"text/html"}, "Retry-After": {"1"}},
		Body:   []byte("<html>bad gateway</html>"),
	})
	if n := s.PendingFaults(); n != 2 {
		t.Fatalf("PendingFaults %d", n)
	}
	for i := range 2 {
		// Any endpoint, with or without credentials.
		r := send(t, s, "POST", "/api/admin/api-tokens", "", "", nil)
		if r.status != 502 || string(r.body) != "<html>bad gateway</html>" ||
			r.header.Get("Content-Type") != "text/html" || r.header.Get("Retry-After") != "1" {
			t.Fatalf("request %d: %d %v %s", i, r.status, r.header, r.body)
		}
	}
	// Normal service resumes.
	tokens(t, admin(t, s, "GET", "/api/admin/api-tokens"))
	reqs := s.Requests()
	if len(reqs) != 3 || !reqs[0].Faulted || !reqs[1].Faulted || reqs[2].Faulted {
		t.Errorf("request log %+v", reqs)
	}
	if s.PendingFaults() != 0 {
		t.Errorf("faults left")
	}
}

func TestFaultQueueOrderAndClear(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	s.FailNext(1, unleashtest.Fault{Status: 429})
	s.FailNext(1, unleashtest.Fault{Status: 503})
	s.FailNext(0, unleashtest.Fault{Status: 500})
	if r := admin(t, s, "GET", "/api/admin/api-tokens"); r.status != 429 || len(r.body) != 0 {
		t.Errorf("first: %d %q", r.status, r.body)
	}
	if r := admin(t, s, "GET", "/api/admin/api-tokens"); r.status != 503 {
		t.Errorf("second: %d", r.status)
	}
	s.FailNext(5, unleashtest.Fault{Status: 500})
	s.ClearFaults()
	tokens(t, admin(t, s, "GET", "/api/admin/api-tokens"))
}

func TestFailNextPanicsOnBadInput(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	for _, f := range []func(){
		func() { s.FailNext(-1, unleashtest.Fault{}) },
		func() { s.FailNext(1, unleashtest.Fault{Status: 42}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

func TestFaultDelayEndsWithClientContext(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	s.FailNext(1, unleashtest.Fault{Delay: time.Hour, Status: 500})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL()+"/api/admin/api-tokens", nil)
	req.Header.Set("Authorization", s.AdminKey())
	start := time.Now()
	_, err := s.Client().Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	// The fault was used up; the next request is served normally.
	tokens(t, admin(t, s, "GET", "/api/admin/api-tokens"))
}

func TestFaultDelayThenNormalService(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	s.FailNext(1, unleashtest.Fault{Delay: 150 * time.Millisecond})
	start := time.Now()
	r := admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"slow","type":"backend"}`)
	wantStatus(t, r, 201)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v, want at least the delay", d)
	}
	if !s.Requests()[0].Faulted {
		t.Error("delayed request not marked as faulted")
	}
	// A delayed status.
	s.FailNext(1, unleashtest.Fault{Delay: 50 * time.Millisecond, Status: 504})
	wantStatus(t, admin(t, s, "GET", "/api/admin/api-tokens"), 504)
}

func TestFaultDrop(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	// A client that does not reuse connections, so Go's transport has no
	// reason to retry the request by itself.
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}

	s.FailNext(2, unleashtest.Fault{Drop: true})
	for _, method := range []string{"GET", "POST"} {
		req, _ := http.NewRequest(method, s.URL()+"/api/admin/api-tokens", strings.NewReader(`{"tokenName":"x","type":"backend"}`))
		req.Header.Set("Authorization", s.AdminKey())
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err == nil {
			res.Body.Close()
			t.Fatalf("%s: got status %d, want a transport error", method, res.StatusCode)
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "reset") &&
			!strings.Contains(err.Error(), "closed") {
			t.Errorf("%s: unexpected error %v", method, err)
		}
	}
	if n := s.RequestCount(); n != 2 {
		t.Errorf("%d requests recorded, want 2", n)
	}
	// Back to normal, and nothing was created by the dropped POST.
	if list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens")); len(list) != 1 {
		t.Errorf("%d tokens", len(list))
	}
}

func TestCloseDoesNotWaitForDelay(t *testing.T) {
	s := unleashtest.NewServer()
	s.FailNext(1, unleashtest.Fault{Delay: time.Hour, Status: 500})
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", s.URL()+"/api/admin/api-tokens", nil)
		res, err := s.Client().Do(req)
		if err == nil {
			res.Body.Close()
			err = fmt.Errorf("status %d", res.StatusCode)
		}
		done <- err
	}()
	for s.RequestCount() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	select {
	case err := <-done:
		if err == nil || strings.HasPrefix(err.Error(), "status") {
			t.Errorf("client got %v, want a connection error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client still waiting after Close")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	var wg sync.WaitGroup
	const workers = 16
	errs := make(chan error, workers*10)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				var req *http.Request
				switch i % 5 {
				case 0, 1:
					req, _ = http.NewRequest("POST", s.URL()+"/api/admin/projects/second/api-tokens",
						strings.NewReader(fmt.Sprintf(`{"tokenName":"w%d-%d","type":"frontend"}`, w, i)))
					req.Header.Set("Content-Type", "application/json")
				case 2:
					req, _ = http.NewRequest("GET", s.URL()+"/api/admin/api-tokens", nil)
				case 3:
					req, _ = http.NewRequest("DELETE", s.URL()+"/api/admin/api-tokens/none", nil)
				case 4:
					s.FailNext(1, unleashtest.Fault{Status: 503})
					_ = s.Tokens()
					_ = s.Requests()
					req, _ = http.NewRequest("GET", s.URL()+"/api/admin/projects/second/api-tokens", nil)
				}
				req.Header.Set("Authorization", s.AdminKey())
				res, err := s.Client().Do(req)
				if err != nil {
					errs <- err
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode >= 400 && res.StatusCode != 503 {
					errs <- fmt.Errorf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := s.RequestCount(), workers*10; got != want {
		t.Errorf("%d requests, want %d", got, want)
	}
	// 4 creates per worker, minus the ones that met a 503 fault instead.
	created := len(s.Tokens()) - 1
	if created < 2*workers || created > 4*workers {
		t.Errorf("%d tokens created", created)
	}
}

func TestNoGoroutinesLeftAfterClose(t *testing.T) {
	before := runtime.NumGoroutine()

	tr := &http.Transport{}
	c := &http.Client{Transport: tr}
	s := unleashtest.NewServer()
	for range 5 {
		req, _ := http.NewRequest("GET", s.URL()+"/api/admin/api-tokens", nil)
		req.Header.Set("Authorization", s.AdminKey())
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	// One request left hanging in a delay, one dropped.
	s.FailNext(1, unleashtest.Fault{Drop: true})
	if res, err := c.Get(s.URL() + "/health"); err == nil {
		res.Body.Close()
	}
	s.FailNext(1, unleashtest.Fault{Delay: time.Hour})
	hung := make(chan struct{})
	go func() {
		defer close(hung)
		if res, err := c.Get(s.URL() + "/health"); err == nil {
			res.Body.Close()
		}
	}()
	for s.PendingFaults() != 0 {
		time.Sleep(5 * time.Millisecond)
	}
	s.Close()
	<-hung
	tr.CloseIdleConnections()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFailNextForever: a count as large as "always" is one queued run, not
// that many copies.
func TestFailNextForever(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	s.FailNext(math.MaxInt, unleashtest.Fault{Status: 503})
	s.FailNext(1, unleashtest.Fault{Status: 429})
	if n := s.PendingFaults(); n != math.MaxInt {
		t.Errorf("PendingFaults() = %d, want MaxInt (saturated)", n)
	}
	for range 3 {
		if r := admin(t, s, "GET", "/api/admin/api-tokens"); r.status != 503 {
			t.Fatalf("status %d, want 503", r.status)
		}
	}
	if n := s.PendingFaults(); n != math.MaxInt-3+1 {
		t.Errorf("PendingFaults() = %d after 3 requests", n)
	}
	s.ClearFaults()
	tokens(t, admin(t, s, "GET", "/api/admin/api-tokens"))
}
