// Package integration holds the suite that proves the client against an
// Unleash server: the real one when UNLEASH_URL and UNLEASH_API_TOKEN are
// set, otherwise the in-process stand-in from package unleashtest (in secure
// token storage mode with UNLEASH_STANDIN_SECURE=1). The same tests run
// unchanged against all of them, adapting to the version and mode the
// server reports.
package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// target is the server under test.
var target struct {
	url, key string
	// shown is url without a password, for output.
	shown string
	real  bool
	// other is a second project; tests that need it skip when the server
	// does not have it.
	other string
	// runID makes this run's token names unique, so that the suite never
	// touches tokens it did not create.
	runID string
	// info is what the server says of itself; the tests adapt their
	// expectations to it (default environment, backend, secure storage).
	info unleashadmin.ServerInfo
}

// statuses counts every status the server answered during the run, to prove
// that no call made by the client ever gets a 415.
var statuses = struct {
	sync.Mutex
	n map[int]int
}{n: map[int]int{}}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	target.runID = "it-" + hex.EncodeToString(b)
	target.other = os.Getenv("UNLEASH_TEST_OTHER_PROJECT")
	if target.other == "" {
		target.other = "second"
	}
	target.url, target.key = os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN")
	if target.url != "" && target.key != "" {
		target.real = true
		target.shown = "(unparsable URL)"
		if u, err := url.Parse(target.url); err == nil {
			target.shown = u.Redacted()
		}
		fmt.Printf("integration: against the Unleash server at %s (run %s)\n", target.shown, target.runID)
	} else {
		opts := []unleashtest.Option{unleashtest.WithProjects("default", target.other)}
		mode := "default token storage"
		if os.Getenv("UNLEASH_STANDIN_SECURE") == "1" {
			opts, mode = append(opts, unleashtest.WithSecureTokens()), "secure token storage"
		}
		srv := unleashtest.NewServer(opts...)
		defer srv.Close()
		target.url, target.key = srv.URL(), srv.AdminKey()
		target.shown = target.url
		fmt.Printf("integration: UNLEASH_URL and UNLEASH_API_TOKEN not set; against the in-process unleashtest server, %s (run %s)\n", mode, target.runID)
	}
	c, err := unleashadmin.NewClient(target.url, target.key)
	if err != nil {
		fmt.Println("integration:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	info, err := c.ServerInfo(ctx)
	cancel()
	c.CloseIdleConnections()
	if err != nil {
		fmt.Println("integration: reading the server's version:", err)
		return 1
	}
	target.info = *info
	fmt.Printf("integration: Unleash %s, secure token storage %t, default environment %s, token limit %d\n",
		info.Version, info.SecureTokens, info.DefaultEnvironment(), info.TokenLimit)
	code := m.Run()
	statuses.Lock()
	defer statuses.Unlock()
	fmt.Printf("integration: statuses seen: %v\n", statuses.n)
	if statuses.n[http.StatusUnsupportedMediaType] > 0 {
		fmt.Println("integration: FAIL: the server answered 415 to a request of the client")
		return 1
	}
	return code
}

// recorder counts the status of every response.
type recorder struct{ next http.RoundTripper }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		statuses.Lock()
		statuses.n[resp.StatusCode]++
		statuses.Unlock()
	}
	return resp, err
}

var transport = recorder{next: http.DefaultTransport}

// newClient returns a client for the target with key (the admin key when
// empty).
func newClient(t testing.TB, key string, opts ...unleashadmin.Option) *unleashadmin.Client {
	t.Helper()
	if key == "" {
		key = target.key
	}
	opts = append([]unleashadmin.Option{unleashadmin.WithHTTPClient(&http.Client{Transport: transport})}, opts...)
	c, err := unleashadmin.NewClient(target.url, key, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// name returns a token name unique to this run and test.
func name(t testing.TB, suffix string) string {
	return fmt.Sprintf("%s-%s-%s", target.runID, t.Name(), suffix)
}
