package unleashadmin

// The redirect rows of the fault matrix: every SDK method against a server
// that answers each redirect status, pointing within the base URL's origin
// or out of it (another host, a subdomain, another port, https to http).
// Host names are mapped to loopback servers by the transport's dialer, so
// that "another host" really is another name.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// redirectTarget is where a redirect points, relative to the base URL.
type redirectTarget struct {
	name string
	// tls serves the base URL over https (example.com:443).
	tls bool
	// location is the scheme://host:port of the Location header; "" for
	// the base URL's own origin (the path then gets a /moved prefix).
	location string
}

var redirectTargets = []redirectTarget{
	{name: "within the origin"},
	{name: "to another host", location: "http://elsewhere.test:8001"},
	{name: "to a subdomain", location: "http://api.example.com:8001"},
	{name: "to another port", location: "http://example.com:8002"},
	{name: "from https to http on the same host", tls: true, location: "http://example.com"},
}

var redirectStatuses = []int{301, 302, 303, 307, 308}

func redirectFaultName(status int, to redirectTarget) string {
	return fmt.Sprintf("%d redirect %s", status, to.name)
}

// testRedirects (in TestFaultMatrix): a GET follows a redirect within the base URL's
// origin; nothing else follows any redirect, and nothing at all leaves the
// origin: the other server never receives a request, so neither the key
// nor a secret (in Authorization, the path or Referer) reaches it.
func testRedirects(t *testing.T) {
	t.Parallel()
	for _, status := range redirectStatuses {
		for _, to := range redirectTargets {
			name := redirectFaultName(status, to)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var wg sync.WaitGroup
				for _, m := range faultMethods {
					first, other, c, ft := redirectSetup(t, status, to)
					wg.Go(func() {
						follows := to.location == "" && m.verb == http.MethodGet
						want := expect{class: "*RedirectError; 0 requests at the other host", ok: isRedirectError(status), requests: 1, bound: quick}
						if follows {
							want = expect{class: "nil (followed within the origin)", ok: isNil, requests: 2, bound: quick}
						}
						checkFault(t, name, m, c, first, ft, want)
						if n := len(other.requests()); n != 0 {
							t.Errorf("%s: the other server received %d requests", m.name, n)
						}
						for _, r := range first.requests() {
							if r.auth != faultKey {
								t.Errorf("%s: the base URL's server got Authorization %q", m.name, r.auth)
							}
						}
					})
				}
				wg.Wait()
			})
		}
	}
}

// redirectSetup starts the base URL's server, which redirects every request
// outside /moved, and the other server, which would answer as Unleash does.
func redirectSetup(t *testing.T, status int, to redirectTarget) (first, other *faultServer, c *Client, ft *faultTransport) {
	t.Helper()
	other = startFaultServer(t, false, func(w http.ResponseWriter, r *http.Request, _ int) { succeed(w, r) })
	first = startFaultServer(t, to.tls, func(w http.ResponseWriter, r *http.Request, _ int) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/moved"); ok {
			r.URL.Path = rest
			succeed(w, r)
			return
		}
		loc := to.location
		if loc == "" {
			loc = "/moved"
		}
		w.Header().Set("Location", loc+r.URL.RequestURI())
		w.WriteHeader(status)
	})
	hosts := map[string]string{}
	base := "http://example.com:8001"
	var tlsConf *tls.Config
	if to.tls {
		base = "https://example.com"
		hosts["example.com:443"] = first.Listener.Addr().String()
		roots := x509.NewCertPool()
		roots.AddCert(first.Certificate())
		tlsConf = &tls.Config{RootCAs: roots}
	} else {
		hosts["example.com:8001"] = first.Listener.Addr().String()
	}
	for _, addr := range []string{"elsewhere.test:8001", "api.example.com:8001", "example.com:8002", "example.com:80"} {
		hosts[addr] = other.Listener.Addr().String()
	}
	ft = newFaultTransport(tlsConf, hosts)
	ft.Transport.Proxy = nil
	c = newFaultClient(t, base, ft)
	return first, other, c, ft
}

// isRedirectError is a *RedirectError for status whose texts hold no
// credential and that says what to do.
func isRedirectError(status int) func(error) bool {
	return func(err error) bool {
		var re *RedirectError
		if !errors.As(err, &re) || re.StatusCode != status || re.Location == "" || re.Reason == "" ||
			!strings.Contains(err.Error(), "base URL") {
			return false
		}
		_, leak := showsRun(err.Error()+re.Location+re.URL, randomOf(faultSecret))
		_, leakKey := showsRun(err.Error(), randomOf(faultKey))
		return !leak && !leakKey
	}
}

// TestRedirectErrorSaysWhereUnleashIs: an http:// base URL behind a 301 to
// https:// (the most common proxy setup) is refused for a DELETE, and the
// error names the base URL to use. Reproduces the finding that the DELETE
// was turned into a GET and reported as done.
func TestRedirectErrorSaysWhereUnleashIs(t *testing.T) {
	t.Parallel()
	var gets, deletes int
	var mu sync.Mutex
	srv := startFaultServer(t, false, func(w http.ResponseWriter, r *http.Request, _ int) {
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			gets++
		case http.MethodDelete:
			deletes++
		}
		w.Header().Set("Location", "https://unleash.example.com"+r.URL.RequestURI())
		w.WriteHeader(http.StatusMovedPermanently)
	})
	ft := newFaultTransport(nil, map[string]string{"unleash.example.com:80": srv.Listener.Addr().String()})
	c := newFaultClient(t, "http://unleash.example.com", ft)
	err := c.DeleteAPIToken(t.Context(), faultSecret)
	var re *RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("DeleteAPIToken = %v, want a *RedirectError", err)
	}
	if re.SuggestedBaseURL != "https://unleash.example.com" || !strings.Contains(err.Error(), "use the base URL https://unleash.example.com") {
		t.Errorf("error %q suggests %q", err, re.SuggestedBaseURL)
	}
	if strings.Contains(err.Error(), randomOf(faultSecret)) || strings.Contains(re.Location, randomOf(faultSecret)) {
		t.Errorf("the error shows the secret: %q", err)
	}
	if gets != 0 || deletes != 1 {
		t.Errorf("server saw %d GETs and %d DELETEs, want 0 and 1", gets, deletes)
	}
}

// TestWithHTTPClientIsNotChanged: the redirect policy goes on the Client's
// copy; the caller's client keeps its own CheckRedirect, which still runs
// for the redirects the policy allows.
func TestWithHTTPClientIsNotChanged(t *testing.T) {
	t.Parallel()
	var calls int
	mine := func(*http.Request, []*http.Request) error { calls++; return nil }
	hc := &http.Client{Transport: newFaultTransport(nil, nil), CheckRedirect: mine}
	srv := startFaultServer(t, false, func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Path == "/moved/api/admin/api-tokens" {
			succeed(w, r)
			return
		}
		http.Redirect(w, r, "/moved"+r.URL.Path, http.StatusFound)
	})
	c, err := NewClient(srv.URL, faultKey, WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.ListAPITokens(t.Context()); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("the caller's CheckRedirect ran %d times, want 1", calls)
	}
	if fmt.Sprintf("%p", hc.CheckRedirect) != fmt.Sprintf("%p", mine) {
		t.Errorf("the caller's client was changed")
	}
	if err := c.DeleteAPIToken(t.Context(), faultSecret); err == nil {
		t.Errorf("a redirected DELETE succeeded")
	}
}

// TestSameOrigin pins the comparison the redirect policy uses.
func TestSameOrigin(t *testing.T) {
	t.Parallel()
	base := mustURL(t, "https://Unleash.Example.com/unleash")
	for raw, want := range map[string]bool{
		"https://unleash.example.com/x":     true,
		"https://unleash.example.com:443/x": true,
		"HTTPS://UNLEASH.EXAMPLE.COM/":      true,
		"http://unleash.example.com/x":      false,
		"https://unleash.example.com:8443/": false,
		"https://api.unleash.example.com/":  false,
		"https://example.com/":              false,
		"https://unleash.example.com.evil/": false,
	} {
		if got := sameOrigin(mustURL(t, raw), base); got != want {
			t.Errorf("sameOrigin(%s) = %t, want %t", raw, got, want)
		}
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
