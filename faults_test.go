package unleashadmin

// The fault matrix: every SDK method against in-process HTTP servers on real
// loopback sockets that fail in the ways real deployments do (5xx from a
// proxy, 429s, refused and reset connections, stalls, broken or endless
// bodies, redirects, TLS). Each case asserts the class of the error, how many
// requests reached the server, how long the call took, that no response body
// was left open and that a create was sent twice only when that is safe.
//
// Run it alone with: go test -run Fault -v .
// With -v, TestFaultMatrix prints the table kept in docs/RELIABILITY.md.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	faultKey       = "*:*.f00dfacecafebeef0123456789abcdef-fault-key"
	faultSecret    = "default:development.4f3c9a0b7d2e51c8a6b9e0d1f2a3b4c5d6e7f8091a2b3c4d5e6f7a8b"
	faultCreated   = `{"tokenName":"fault","environment":"development","projects":["default"],"secret":"` + faultSecret + `","type":"backend","alias":null,"project":"default","createdAt":"2026-11-22T07:55:14.070Z","secure":false}`
	faultListed    = `{"tokens":[{"secret":"` + faultSecret + `","tokenName":"fault","type":"client","project":"default","projects":["default"],"environment":"development","expiresAt":null,"createdAt":"2026-11-22T07:55:14.070Z","alias":null,"seenAt":null,"secure":false}]}`
	faultEvents    = `{"events":[{"id":41,"type":"api-token-created","createdBy":"admin","createdByUserId":1,"createdAt":"2026-11-22T07:55:14.070Z","project":"default","environment":"development","data":{"tokenName":"fault","type":"client","environment":"development","projects":["default"],"project":"default"}}],"total":1}`
	faultValidated = `{"tokens":[{"token":"` + faultSecret + `","type":"client","projects":["default"],"environment":"development"}]}`
	faultUIConfig  = `{"environment":"Open Source","version":"8.2.0","unleashUrl":"http://127.0.0.1:4242","baseUriPath":"","resourceLimits":{"apiTokens":2000}}`
	loginPage      = `<!DOCTYPE html><html><head><title>Sign in</title></head><body><form method="post" action="/oauth2/sign_in"><input name="user"><input type="password" name="password"></form></body></html>`

	// Waits between attempts are kept short; 3 s lets a Retry-After of a
	// second or two be honoured.
	faultWaitMin = time.Millisecond
	faultWaitMax = 3 * time.Second
	// attempts is how many requests an idempotent call makes before giving
	// up with the default retry budget.
	attempts = 1 + DefaultRetryMax

	// quick bounds a call that involves no deliberate wait: a few ms in
	// practice, seconds only on a loaded machine under the race detector.
	quick = 5 * time.Second
	// stall is the context deadline of the calls to a stalled server.
	stall = 300 * time.Millisecond
)

// faultMethod is one SDK method as the matrix calls it.
type faultMethod struct {
	name    string
	verb    string // of its first request
	decodes bool   // its first request reads a JSON body on success
	// repeatable marks a POST that changes nothing (ValidateTokens): it is
	// retried like a GET.
	repeatable bool
	call       func(context.Context, *Client) error
	// after is how many requests follow a successful first one
	// (RotateAPIToken deletes the old token after creating the new one).
	after int
}

var faultMethods = sdkMethods(faultSecret, "fault")

// sdkMethods lists the SDK's methods, called on the token secret and the
// token name given.
func sdkMethods(secret, name string) []faultMethod {
	return []faultMethod{
		{name: "CreateAPIToken", verb: http.MethodPost, decodes: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeBackend, TokenName: name, Projects: []string{"default"}})
			return err
		}},
		{name: "CreateProjectAPIToken", verb: http.MethodPost, decodes: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.CreateProjectAPIToken(ctx, "default", CreateProjectAPITokenRequest{Type: TokenTypeBackend, TokenName: name})
			return err
		}},
		{name: "RotateAPIToken", verb: http.MethodPost, decodes: true, after: 1, call: func(ctx context.Context, c *Client) error {
			// The old token is not the one the create answers with: an
			// answer naming the old token is no new token.
			old := APIToken{Secret: secret[:len(secret)-8] + "0ld0ld00", TokenName: name, Type: TokenTypeClient, Environment: "development", Project: "default", Projects: []string{"default"}}
			_, err := c.RotateAPIToken(ctx, old, RotateOptions{})
			return err
		}},
		{name: "ListAPITokens", verb: http.MethodGet, decodes: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.ListAPITokens(ctx)
			return err
		}},
		{name: "GetAPITokensByName", verb: http.MethodGet, decodes: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.GetAPITokensByName(ctx, name)
			return err
		}},
		{name: "ListProjectAPITokens", verb: http.MethodGet, decodes: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.ListProjectAPITokens(ctx, "default")
			return err
		}},
		{name: "ListTokenEvents", verb: http.MethodGet, decodes: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.ListTokenEvents(ctx, TokenEventsOptions{Project: "default", Limit: 10})
			return err
		}},
		{name: "AllTokenEvents", verb: http.MethodGet, decodes: true, call: func(ctx context.Context, c *Client) error {
			for _, err := range c.AllTokenEvents(ctx, TokenEventsOptions{Query: name}) {
				if err != nil {
					return err
				}
			}
			return nil
		}},
		{name: "ServerInfo", verb: http.MethodGet, decodes: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.ServerInfo(ctx)
			return err
		}},
		{name: "ValidateTokens", verb: http.MethodPost, repeatable: true, decodes: true, call: func(ctx context.Context, c *Client) error {
			_, err := c.ValidateTokens(ctx, []string{secret, "default:production." + strings.Repeat("0", 56)})
			return err
		}},
		{name: "UpdateAPITokenExpiry", verb: http.MethodPut, call: func(ctx context.Context, c *Client) error {
			return c.UpdateAPITokenExpiry(ctx, secret, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
		}},
		{name: "DeleteAPIToken", verb: http.MethodDelete, call: func(ctx context.Context, c *Client) error {
			return c.DeleteAPIToken(ctx, secret)
		}},
		{name: "DeleteProjectAPIToken", verb: http.MethodDelete, call: func(ctx context.Context, c *Client) error {
			return c.DeleteProjectAPIToken(ctx, "default", secret)
		}},
	}
}

func (m faultMethod) create() bool { return m.verb == http.MethodPost && !m.repeatable }

// succeed answers r as Unleash 8.2 does when all is well.
var succeed = answerOK(faultCreated, faultListed)

// answerOK answers as Unleash 8.2 does when all is well, with these bodies
// for a create and a token list.
func answerOK(created, listed string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/edge/validate"):
			writeJSON(w, http.StatusOK, faultValidated)
		case r.Method == http.MethodPost:
			writeJSON(w, http.StatusCreated, created)
		case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/admin/search/events"):
			writeJSON(w, http.StatusOK, faultEvents)
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/api/admin/ui-config"):
			writeJSON(w, http.StatusOK, faultUIConfig)
		case r.Method == http.MethodGet:
			writeJSON(w, http.StatusOK, listed)
		default:
			w.WriteHeader(http.StatusOK) // no Content-Type, empty body
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// faultServer is an httptest server whose handler is the fault under test.
// It records every request and counts the connections it accepted.
type faultServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []seenRequest
	conns   atomic.Int64
	written atomic.Int64  // body bytes written by streaming handlers
	release chan struct{} // closed when the test ends: frees stalled handlers
	// headRead is closed when the client has the response head, so that a
	// handler can break the body only after (see faultTransport.onHead).
	headRead     chan struct{}
	headReadOnce sync.Once
}

// clientHasHead tells the server's handlers that the client has a response
// head.
func (s *faultServer) clientHasHead() { s.headReadOnce.Do(func() { close(s.headRead) }) }

// waitForHead waits until the client has the response head, or the test
// ends.
func (s *faultServer) waitForHead() {
	select {
	case <-s.headRead:
	case <-s.release:
	}
}

type seenRequest struct {
	method, path, auth string
	body               []byte
}

type faultHandler func(w http.ResponseWriter, r *http.Request, n int)

// startFaultServer starts a server running h; n counts requests from 1.
func startFaultServer(t testing.TB, useTLS bool, h faultHandler) *faultServer {
	t.Helper()
	s := &faultServer{release: make(chan struct{}), headRead: make(chan struct{})}
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		s.reqs = append(s.reqs, seenRequest{r.Method, r.URL.EscapedPath(), r.Header.Get("Authorization"), body})
		n := len(s.reqs)
		s.mu.Unlock()
		h(w, r, n)
	}))
	// Hijacked and reset connections make the server complain; the test
	// checks the outcome itself.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	s.Server = ts
	t.Cleanup(ts.Close)
	t.Cleanup(func() { close(s.release) }) // runs before Close
	return s
}

func (s *faultServer) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func (s *faultServer) count(method string) int {
	n := 0
	for _, r := range s.requests() {
		if method == "" || r.method == method {
			n++
		}
	}
	return n
}

// faultTransport is a real http.Transport that counts dials and tracks every
// response body it hands out, so that a test can prove each was closed.
// Dials to a name in hosts go to the mapped address instead.
type faultTransport struct {
	*http.Transport
	dials  atomic.Int64
	bodies atomic.Int64 // handed out
	open   atomic.Int64 // handed out and not yet closed
	hosts  map[string]string
	onHead func() // called when a response head arrives
}

func newFaultTransport(tlsConf *tls.Config, hosts map[string]string) *faultTransport {
	ft := &faultTransport{hosts: hosts}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		ft.dials.Add(1)
		if to, ok := ft.hosts[addr]; ok {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
	ft.Transport = tr
	return ft
}

func (ft *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := ft.Transport.RoundTrip(req)
	if resp != nil && ft.onHead != nil {
		ft.onHead()
	}
	if resp != nil && resp.Body != nil {
		ft.bodies.Add(1)
		ft.open.Add(1)
		resp.Body = &closeTracker{ReadCloser: resp.Body, open: &ft.open}
	}
	return resp, err
}

type closeTracker struct {
	io.ReadCloser
	once sync.Once
	open *atomic.Int64
}

func (c *closeTracker) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.ReadCloser.Close()
}

// newFaultClient returns a Client for baseURL on ft with short retry waits.
func newFaultClient(t testing.TB, baseURL string, ft *faultTransport, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithHTTPClient(&http.Client{Transport: ft}), WithRetryWait(faultWaitMin, faultWaitMax)}, opts...)
	c, err := NewClient(baseURL, faultKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ft.CloseIdleConnections)
	return c
}

// expect is what one fault must produce for one method.
type expect struct {
	class string // the error class, as the table shows it
	ok    func(error) bool
	// requests is how many HTTP requests the server must have received.
	requests int
	// dials, when not zero, is how many connections the client must have
	// tried to open.
	dials int64
	// conns, when not zero, is how many connections the server must have
	// accepted: 1 for several attempts proves the bodies were drained and
	// closed so that the connection was reused.
	conns int64
	// createTwiceOK marks the faults after which a create may be sent
	// again: a 429 and a refused connection.
	createTwiceOK bool
	min, bound    time.Duration // the call's duration must be within
	timeout       time.Duration // the context's deadline; 10 s when zero
}

// Error classes.

func isNil(err error) bool { return err == nil }

func isAPIStatus(code int) func(error) bool {
	return func(err error) bool {
		var e *APIError
		return errors.As(err, &e) && e.StatusCode == code
	}
}

func isSentinel(target error) func(error) bool {
	return func(err error) bool { return errors.Is(err, target) }
}

// isRequestError is a *RequestError (no response came) caused by one of
// causes.
func isRequestError(causes ...error) func(error) bool {
	return func(err error) bool {
		var e *RequestError
		if !errors.As(err, &e) {
			return false
		}
		if len(causes) == 0 {
			return true
		}
		for _, c := range causes {
			if errors.Is(err, c) {
				return true
			}
		}
		return false
	}
}

func isUnexpected(causes ...error) func(error) bool {
	return func(err error) bool {
		if !errors.Is(err, ErrUnexpectedResponse) {
			return false
		}
		for _, c := range causes {
			if !errors.Is(err, c) {
				return false
			}
		}
		return true
	}
}

func both(a, b func(error) bool) func(error) bool {
	return func(err error) bool { return a(err) && b(err) }
}

// checkFault calls m once and checks every assertion of want.
func checkFault(t *testing.T, fault string, m faultMethod, c *Client, srv *faultServer, ft *faultTransport, want expect) {
	t.Helper()
	timeout := want.timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	start := time.Now() // before the deadline is set, so that took >= timeout when it expires
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := m.call(ctx, c)
	took := time.Since(start)

	if !want.ok(err) {
		t.Errorf("%s: err = %v (%T), want %s", m.name, err, err, want.class)
	}
	got := 0
	if srv != nil {
		got = srv.count("")
	}
	if got != want.requests {
		t.Errorf("%s: server received %d requests, want %d", m.name, got, want.requests)
	}
	if srv != nil && m.create() && srv.count(http.MethodPost) > 1 && !want.createTwiceOK {
		t.Errorf("%s: the create was sent %d times", m.name, srv.count(http.MethodPost))
	}
	if want.dials != 0 && ft.dials.Load() != want.dials {
		t.Errorf("%s: %d dials, want %d", m.name, ft.dials.Load(), want.dials)
	}
	if want.conns != 0 && srv.conns.Load() != want.conns {
		t.Errorf("%s: server accepted %d connections, want %d", m.name, srv.conns.Load(), want.conns)
	}
	if open := ft.open.Load(); open != 0 {
		t.Errorf("%s: %d of %d response bodies left open", m.name, open, ft.bodies.Load())
	}
	if took < want.min || took > want.bound {
		t.Errorf("%s: took %v, want between %v and %v", m.name, took, want.min, want.bound)
	}
	recordFault(fault, m, want, took)
}

// The table of results, filled by checkFault and printed by TestFaultMatrix.
var faultTable struct {
	sync.Mutex
	rows map[string]*faultRow
}

type faultRow struct {
	order        int
	fault, class string
	requests     string
	bound, worst time.Duration
	methods      []string
}

func recordFault(fault string, m faultMethod, want expect, took time.Duration) {
	faultTable.Lock()
	defer faultTable.Unlock()
	if faultTable.rows == nil {
		faultTable.rows = map[string]*faultRow{}
	}
	reqs := strconv.Itoa(want.requests)
	if want.dials != 0 && want.requests == 0 {
		reqs = fmt.Sprintf("0 (%d dials)", want.dials)
	}
	key := fault + "\x00" + want.class + "\x00" + reqs
	r := faultTable.rows[key]
	if r == nil {
		r = &faultRow{order: len(faultTable.rows), fault: fault, class: want.class, requests: reqs, bound: want.bound}
		faultTable.rows[key] = r
	}
	r.methods = append(r.methods, m.name)
	r.worst = max(r.worst, took)
}

func faultTableMarkdown() string {
	faultTable.Lock()
	defer faultTable.Unlock()
	rows := make([]*faultRow, 0, len(faultTable.rows))
	for _, r := range faultTable.rows {
		rows = append(rows, r)
	}
	rank := func(r *faultRow) (int, int) {
		i := slices.Index(faultOrder(), r.fault)
		if i < 0 {
			i = len(faultOrder())
		}
		first := slices.IndexFunc(faultMethods, func(m faultMethod) bool { return slices.Contains(r.methods, m.name) })
		return i, first
	}
	sort.Slice(rows, func(i, j int) bool {
		fi, mi := rank(rows[i])
		fj, mj := rank(rows[j])
		if fi != fj {
			return fi < fj
		}
		if mi != mj {
			return mi < mj
		}
		return rows[i].order < rows[j].order
	})
	var b strings.Builder
	b.WriteString("| fault | methods | error class | requests | bound | measured (worst) |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %v | %v |\n", r.fault, methodGroup(r.methods), r.class, r.requests, r.bound, r.worst.Round(100*time.Microsecond))
	}
	return b.String()
}

// faultOrder is the order of the table: the matrix's own faults, then the
// ones with their own setup.
func faultOrder() []string {
	names := append(faultNames(), "connection refused (closed port)")
	for _, status := range redirectStatuses {
		for _, to := range redirectTargets {
			names = append(names, redirectFaultName(status, to))
		}
	}
	return append(names, "TLS, private CA trusted via WithHTTPClient", "TLS, private CA not trusted", "200 with an endless body")
}

// methodGroups are the short names the table gives to sets of methods.
var methodGroups = []struct {
	label   string
	methods []string
}{
	{"2 creates", []string{"CreateAPIToken", "CreateProjectAPIToken"}},
	{"RotateAPIToken", []string{"RotateAPIToken"}},
	{"3 lists", []string{"ListAPITokens", "GetAPITokensByName", "ListProjectAPITokens"}},
	{"2 event reads", []string{"ListTokenEvents", "AllTokenEvents"}},
	{"ServerInfo", []string{"ServerInfo"}},
	{"ValidateTokens", []string{"ValidateTokens"}},
	{"update + 2 deletes", []string{"UpdateAPITokenExpiry", "DeleteAPIToken", "DeleteProjectAPIToken"}},
}

// methodGroup names a set of methods briefly.
func methodGroup(names []string) string {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) == len(faultMethods) {
		return fmt.Sprintf("all %d", len(faultMethods))
	}
	var parts []string
	for _, g := range methodGroups {
		var in []string
		for _, m := range g.methods {
			if slices.Contains(names, m) {
				in = append(in, m)
			}
		}
		if len(in) == len(g.methods) {
			parts = append(parts, g.label)
		} else {
			parts = append(parts, in...)
		}
	}
	return strings.Join(parts, ", ")
}

// A fault is a handler and an expectation per method. applies limits it to
// the methods it makes sense for.
type fault struct {
	name    string
	applies func(faultMethod) bool
	handler func(m faultMethod) faultHandler
	want    func(m faultMethod) expect
}

// failThenSucceed answers the first n requests with fail and the rest as
// Unleash does.
func failThenSucceed(m faultMethod, n int, fail faultHandler) faultHandler {
	return func(w http.ResponseWriter, r *http.Request, i int) {
		if i <= n {
			fail(w, r, i)
			return
		}
		succeed(w, r)
	}
}

func always(h faultHandler) func(faultMethod) faultHandler {
	return func(faultMethod) faultHandler { return h }
}

func decoders(m faultMethod) bool { return m.decodes }

func statusBody(code int, ctype, body string) faultHandler {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func tooMany(retryAfter func() string) faultHandler {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		if retryAfter != nil {
			w.Header().Set("Retry-After", retryAfter())
		}
		writeJSON(w, http.StatusTooManyRequests, `{"message":"too many requests"}`)
	}
}

// hijack takes the raw connection from the server.
func hijack(w http.ResponseWriter) *net.TCPConn {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	return conn.(*net.TCPConn)
}

// resetNow aborts the connection with a TCP RST.
func resetNow(conn *net.TCPConn) {
	_ = conn.SetLinger(0)
	_ = conn.Close()
}

// writeHead writes a response head and part of a body by hand and flushes
// it, declaring a Content-Length larger than what follows.
func writeHead(conn net.Conn, ctype string, length int, part string) {
	_, _ = fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", ctype, length, part)
}

// waitForClient blocks until the client closes conn or the test ends.
func waitForClient(conn net.Conn, release <-chan struct{}) {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn)
		close(done)
	}()
	select {
	case <-done:
	case <-release:
	}
	_ = conn.Close()
	<-done
}

const (
	jsonCT = "application/json; charset=utf-8"
	htmlCT = "text/html; charset=utf-8"
)

func faults(srv func() *faultServer) []fault {
	var out []fault
	// 5xx from Unleash or a proxy, with each body shape.
	bodies := []struct{ name, ctype, body string }{
		{"JSON", jsonCT, `{"id":"8a1c","name":"InternalError","message":"Unexpected error"}`},
		{"HTML", htmlCT, `<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>`},
		{"empty", "", ""},
	}
	for _, code := range []int{500, 502, 503, 504} {
		for _, b := range bodies {
			out = append(out, fault{
				name:    fmt.Sprintf("%d, %s body", code, b.name),
				handler: always(statusBody(code, b.ctype, b.body)),
				want: func(m faultMethod) expect {
					return expect{class: fmt.Sprintf("*APIError %d", code), ok: isAPIStatus(code), requests: attempts, conns: 1, bound: quick}.oneForCreates(m)
				},
			})
		}
	}
	out = append(out, fault{
		name: "503 once, then OK",
		handler: func(m faultMethod) faultHandler {
			return failThenSucceed(m, 1, statusBody(503, jsonCT, `{"message":"down"}`))
		},
		want: func(m faultMethod) expect {
			if m.create() {
				return expect{class: "*APIError 503 (not retried)", ok: isAPIStatus(503), requests: 1, conns: 1, bound: quick}
			}
			return expect{class: "nil (retried)", ok: isNil, requests: 2, conns: 1, bound: quick}
		},
	})

	// 429 in every Retry-After form.
	ok429 := func(min, bound time.Duration) func(faultMethod) expect {
		return func(m faultMethod) expect {
			return expect{class: "nil (retried)", ok: isNil, requests: 2 + m.after, conns: 1, createTwiceOK: true, min: min, bound: bound}
		}
	}
	out = append(out,
		fault{
			name:    "429 Retry-After: 1 (seconds), then OK",
			handler: func(m faultMethod) faultHandler { return failThenSucceed(m, 1, tooMany(func() string { return "1" })) },
			want:    ok429(time.Second, time.Second+quick),
		},
		fault{
			name: "429 Retry-After: HTTP date 2 s ahead, then OK",
			handler: func(m faultMethod) faultHandler {
				return failThenSucceed(m, 1, tooMany(func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }))
			},
			// The date has whole seconds: the wait is between 1 and 2 s.
			want: ok429(900*time.Millisecond, 2*time.Second+quick),
		},
		fault{
			name:    "429 without Retry-After, then OK",
			handler: func(m faultMethod) faultHandler { return failThenSucceed(m, 1, tooMany(nil)) },
			want:    ok429(0, quick),
		},
		fault{
			name: "429 Retry-After: garbage, then OK",
			handler: func(m faultMethod) faultHandler {
				return failThenSucceed(m, 1, tooMany(func() string { return "soon-ish" }))
			},
			want: ok429(0, quick),
		},
		fault{
			name:    "429 every time",
			handler: always(tooMany(nil)),
			want: func(faultMethod) expect {
				return expect{class: "ErrRateLimited", ok: isSentinel(ErrRateLimited), requests: attempts, conns: 1, createTwiceOK: true, bound: quick}
			},
		},
		fault{
			name:    "429 Retry-After: 120 (over the wait max)",
			handler: always(tooMany(func() string { return "120" })),
			want: func(faultMethod) expect {
				return expect{class: "ErrRateLimited (no wait)", ok: isSentinel(ErrRateLimited), requests: 1, bound: quick}
			},
		},
		fault{
			name: "429 Retry-After: HTTP date 1 h ahead",
			handler: always(tooMany(func() string {
				return time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
			})),
			want: func(faultMethod) expect {
				return expect{class: "ErrRateLimited (no wait)", ok: isSentinel(ErrRateLimited), requests: 1, bound: quick}
			},
		},
	)

	// A proxy that refuses the call and echoes the Authorization header
	// encoded: the echo is removed from every text of the error.
	for _, enc := range []struct {
		name   string
		encode func([]byte) string
	}{
		{"base64", base64.StdEncoding.EncodeToString},
		{"hex", hex.EncodeToString},
	} {
		out = append(out, fault{
			name: "401 echoing Authorization in " + enc.name,
			handler: always(func(w http.ResponseWriter, r *http.Request, _ int) {
				echo := enc.encode([]byte(r.Header.Get("Authorization")))
				w.Header().Set("X-Echo", echo)
				writeJSON(w, http.StatusUnauthorized, `{"name":"AuthenticationRequired","message":"unknown credential `+echo+`"}`)
			}),
			want: func(faultMethod) expect {
				return expect{class: "*APIError 401 (the echo removed)", ok: func(err error) bool {
					var e *APIError
					if !errors.As(err, &e) || e.StatusCode != 401 {
						return false
					}
					_, shows := showsEncoded(strings.Join([]string{err.Error(), e.Message, string(e.Body), fmt.Sprint(e.Header)}, "\n"), randomOf(faultKey))
					return !shows && strings.Contains(e.Message, "unknown credential")
				}, requests: 1, conns: 1, bound: quick}
			},
		})
	}

	// The connection dies before any response.
	out = append(out,
		fault{
			name: "reset before the response (RST)",
			handler: always(func(w http.ResponseWriter, _ *http.Request, _ int) {
				conn := hijack(w)
				resetNow(conn)
			}),
			want: func(m faultMethod) expect {
				return expect{class: "*RequestError (ECONNRESET)", ok: isRequestError(syscall.ECONNRESET, syscall.EPIPE), requests: attempts, bound: quick}.oneForCreates(m)
			},
		},
		fault{
			name: "closed before the response (FIN)",
			handler: always(func(w http.ResponseWriter, _ *http.Request, _ int) {
				conn := hijack(w)
				_ = conn.Close()
			}),
			want: func(m faultMethod) expect {
				return expect{class: "*RequestError (EOF)", ok: isRequestError(io.EOF, io.ErrUnexpectedEOF), requests: attempts, bound: quick}.oneForCreates(m)
			},
		},
		fault{
			name: "server stalls before the headers",
			handler: always(func(w http.ResponseWriter, r *http.Request, _ int) {
				select {
				case <-r.Context().Done():
				case <-srv().release:
				}
			}),
			want: func(faultMethod) expect {
				return expect{class: "*RequestError (context.DeadlineExceeded)", ok: isRequestError(context.DeadlineExceeded), requests: 1,
					timeout: stall, min: stall, bound: stall + quick}
			},
		},
	)

	// Informational answers. A 101 hands the connection over: its body is
	// the raw socket, which no context bounds, so the call must not read
	// it; net/http skips other 1xx answers, at most 5 of them.
	out = append(out,
		fault{
			name: "101 Switching Protocols, then the connection is held",
			handler: always(func(w http.ResponseWriter, _ *http.Request, _ int) {
				conn := hijack(w)
				_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
				waitForClient(conn, srv().release)
			}),
			want: func(faultMethod) expect {
				return expect{class: "ErrUnexpectedResponse (at once, whatever the deadline)", ok: isUnexpected(), requests: 1,
					timeout: time.Minute, bound: quick}
			},
		},
		fault{
			name: "103 Early Hints, then the answer",
			handler: always(func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Link", "</style.css>; rel=preload")
				w.WriteHeader(http.StatusEarlyHints)
				w.Header().Del("Link")
				succeed(w, r)
			}),
			want: func(m faultMethod) expect {
				return expect{class: "nil", ok: isNil, requests: 1 + m.after, conns: 1, bound: quick}
			},
		},
		fault{
			name: "100 Continue 20 times, then nothing",
			handler: always(func(w http.ResponseWriter, _ *http.Request, _ int) {
				conn := hijack(w)
				for range 20 {
					if _, err := io.WriteString(conn, "HTTP/1.1 100 Continue\r\n\r\n"); err != nil {
						break
					}
				}
				waitForClient(conn, srv().release)
			}),
			want: func(faultMethod) expect {
				return expect{class: "*RequestError (context.DeadlineExceeded)", ok: isRequestError(context.DeadlineExceeded), requests: 1,
					timeout: stall, min: stall, bound: stall + quick}
			},
		},
	)

	// The body breaks after a success status.
	const part = `{"tokens":[{"secret":"default:development.4f3c`
	out = append(out,
		fault{
			name: "reset in the middle of the body",
			handler: always(func(w http.ResponseWriter, _ *http.Request, _ int) {
				conn := hijack(w)
				writeHead(conn, jsonCT, 4096, part)
				srv().waitForHead() // a reset that overtook the head would be another fault
				resetNow(conn)
			}),
			want: func(m faultMethod) expect {
				if m.decodes {
					return expect{class: "ErrUnexpectedResponse (ECONNRESET)", ok: isUnexpected(syscall.ECONNRESET), requests: 1, bound: quick}
				}
				// Unleash sends no body here: one that starts is not its answer.
				return expect{class: "ErrUnexpectedResponse (a body where Unleash sends none)", ok: isUnexpected(), requests: 1, bound: quick}
			},
		},
		fault{
			name: "server stalls in the middle of the body",
			handler: always(func(w http.ResponseWriter, _ *http.Request, _ int) {
				conn := hijack(w)
				writeHead(conn, jsonCT, 4096, part)
				waitForClient(conn, srv().release)
			}),
			// A call that needs no body sees one start, which Unleash never
			// sends, and gives up at once without waiting for the rest.
			want: func(m faultMethod) expect {
				if m.decodes {
					return expect{class: "ErrUnexpectedResponse (context.DeadlineExceeded)", ok: isUnexpected(context.DeadlineExceeded), requests: 1,
						timeout: stall, min: stall, bound: stall + quick}
				}
				return expect{class: "ErrUnexpectedResponse (a body where Unleash sends none; at once)", ok: isUnexpected(), requests: 1, timeout: stall, bound: stall}
			},
		},
		fault{
			name:    "body shorter than its Content-Length, then FIN",
			applies: decoders,
			handler: always(func(w http.ResponseWriter, _ *http.Request, _ int) {
				conn := hijack(w)
				writeHead(conn, jsonCT, 4096, part)
				_ = conn.Close()
			}),
			want: func(faultMethod) expect {
				return expect{class: "ErrUnexpectedResponse (io.ErrUnexpectedEOF)", ok: isUnexpected(io.ErrUnexpectedEOF), requests: 1, bound: quick}
			},
		},
		fault{
			name:    "truncated JSON body",
			applies: decoders,
			handler: always(func(w http.ResponseWriter, _ *http.Request, _ int) { writeJSON(w, http.StatusOK, part) }),
			want: func(faultMethod) expect {
				return expect{class: "ErrUnexpectedResponse", ok: isUnexpected(), requests: 1, conns: 1, bound: quick}
			},
		},
		fault{
			name:    "200 with an HTML login page",
			handler: always(statusBody(http.StatusOK, htmlCT, loginPage)),
			want: func(faultMethod) expect {
				return expect{class: "ErrUnexpectedResponse", ok: isUnexpected(), requests: 1, conns: 1, bound: quick}
			},
		},
		// A change is done only on Unleash's own answer to it: 200 (or
		// 204) without a body. A proxy's 202 queued it at best; 205, 299
		// and an empty page are answers Unleash never gives.
		fault{
			name:    "204 No Content",
			handler: always(statusBody(http.StatusNoContent, "", "")),
			want: func(m faultMethod) expect {
				if m.decodes {
					return expect{class: "ErrUnexpectedResponse", ok: isUnexpected(), requests: 1, conns: 1, bound: quick}
				}
				return expect{class: "nil", ok: isNil, requests: 1, conns: 1, bound: quick}
			},
		},
		fault{
			name:    "202 Accepted, no body",
			handler: always(statusBody(http.StatusAccepted, "", "")),
			want:    unexpectedAtOnce,
		},
		fault{
			name:    "205 Reset Content, no body",
			handler: always(statusBody(http.StatusResetContent, "", "")),
			want:    unexpectedAtOnce,
		},
		fault{
			name:    "299, no body",
			handler: always(statusBody(299, "", "")),
			want:    unexpectedAtOnce,
		},
		fault{
			name:    "200 with an empty text/html page",
			handler: always(statusBody(http.StatusOK, htmlCT, "")),
			want:    unexpectedAtOnce,
		},
		fault{
			name:    "200 JSON of the wrong type",
			applies: decoders,
			handler: always(statusBody(http.StatusOK, jsonCT, `{"tokens":{"secret":7},"secret":["x"]}`)),
			want: func(faultMethod) expect {
				return expect{class: "ErrUnexpectedResponse", ok: isUnexpected(), requests: 1, conns: 1, bound: quick}
			},
		},
		fault{
			name:    "200 JSON without the expected fields",
			applies: decoders,
			handler: always(statusBody(http.StatusOK, jsonCT, `{"status":"ok","user":{"name":"proxy"}}`)),
			want: func(faultMethod) expect {
				return expect{class: "ErrUnexpectedResponse", ok: isUnexpected(), requests: 1, conns: 1, bound: quick}
			},
		},
		fault{
			name: "200 declaring a 1 GiB Content-Length",
			handler: always(func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Content-Type", jsonCT)
				w.Header().Set("Content-Length", strconv.Itoa(1<<30))
				streamEndless(w, srv(), 1<<30)
			}),
			want: func(m faultMethod) expect {
				if m.create() {
					// Its first MiB is searched for the new token.
					return expect{class: "ErrUnexpectedResponse (over MaxResponseBytes, the first MiB read for a secret)", ok: isUnexpected(errTooLarge), requests: 1, bound: quick}
				}
				if m.decodes {
					return expect{class: "ErrUnexpectedResponse (over MaxResponseBytes, nothing read)", ok: isUnexpected(errTooLarge), requests: 1, bound: quick}
				}
				return expect{class: "ErrUnexpectedResponse (a body where Unleash sends none; one byte read)", ok: isUnexpected(), requests: 1, bound: quick}
			},
		},
		fault{
			// The new token, then more than MaxResponseBytes: its first MiB
			// is read, and the token comes back with the error.
			name:    "201 with the new token, declaring a 1 GiB Content-Length",
			applies: faultMethod.create,
			handler: always(func(w http.ResponseWriter, r *http.Request, _ int) {
				if !strings.HasSuffix(r.URL.Path, "api-tokens") || r.Method != http.MethodPost {
					succeed(w, r) // the rotation's delete, which does not come
					return
				}
				w.Header().Set("Content-Type", jsonCT)
				w.Header().Set("Content-Length", strconv.Itoa(1<<30))
				w.WriteHeader(http.StatusCreated)
				if _, err := io.WriteString(w, faultCreated); err != nil {
					return
				}
				chunk := strings.Repeat(" ", 64<<10)
				for range 32 { // 2 MiB: more than the client reads
					if _, err := io.WriteString(w, chunk); err != nil {
						return
					}
				}
			}),
			want: func(faultMethod) expect {
				return expect{class: "ErrUnexpectedResponse (over MaxResponseBytes), with the token", ok: both(isUnexpected(errTooLarge), func(err error) bool {
					return !strings.Contains(err.Error(), "may have been created") && !strings.Contains(err.Error(), randomOf(faultSecret))
				}), requests: 1, bound: quick}
			},
		},
		fault{
			name: "500 with an endless body",
			handler: always(func(w http.ResponseWriter, r *http.Request, _ int) {
				w.Header().Set("Content-Type", htmlCT)
				w.WriteHeader(500)
				streamEndless(w, srv(), 1<<30)
			}),
			want: func(m faultMethod) expect {
				return expect{class: "*APIError 500 (Body cut at MaxErrorBodyBytes)", ok: func(err error) bool {
					var e *APIError
					return errors.As(err, &e) && e.StatusCode == 500 && len(e.Body) == MaxErrorBodyBytes
				}, requests: attempts, bound: quick}.oneForCreates(m)
			},
		},
	)
	return out
}

// unexpectedAtOnce is ErrUnexpectedResponse after one request.
func unexpectedAtOnce(faultMethod) expect {
	return expect{class: "ErrUnexpectedResponse", ok: isUnexpected(), requests: 1, conns: 1, bound: quick}
}

// streamEndless writes a JSON-looking body until the client goes away or
// limit bytes are written.
func streamEndless(w http.ResponseWriter, s *faultServer, limit int64) {
	chunk := []byte(strings.Repeat(`{"tokenName":"x","type":"client"},`, 2048))
	if _, err := io.WriteString(w, `{"tokens":[`); err != nil {
		return
	}
	for written := int64(0); written < limit; written += int64(len(chunk)) {
		select {
		case <-s.release:
			return
		default:
		}
		if _, err := w.Write(chunk); err != nil {
			return
		}
		s.written.Add(int64(len(chunk)))
	}
}

// TestFaultMatrix runs every fault against every method it applies to, each
// pair on its own server and client. The methods of one fault run at the
// same time: most faults are waits, and t.Parallel alone would queue them
// behind GOMAXPROCS.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	t.Run("cases", func(t *testing.T) {
		for _, name := range faultNames() {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var wg sync.WaitGroup
				for _, m := range faultMethods {
					var srv *faultServer
					// Each pair builds the fault around its own server, so
					// that stalled handlers are released when it ends.
					f, ok := faultFor(faults(func() *faultServer { return srv }), name, m)
					if !ok {
						continue
					}
					srv = startFaultServer(t, false, f.handler(m))
					ft := newFaultTransport(nil, nil)
					ft.onHead = srv.clientHasHead
					c := newFaultClient(t, srv.URL, ft)
					wg.Go(func() { checkFault(t, name, m, c, srv, ft, f.want(m)) })
				}
				wg.Wait()
			})
		}
		t.Run("connection refused", func(t *testing.T) {
			t.Parallel()
			addr := closedPort(t)
			var wg sync.WaitGroup
			for _, m := range faultMethods {
				ft := newFaultTransport(nil, nil)
				c := newFaultClient(t, "http://"+addr, ft)
				wg.Go(func() {
					checkFault(t, "connection refused (closed port)", m, c, nil, ft, expect{
						class: "*RequestError (ECONNREFUSED)", ok: isRequestError(syscall.ECONNREFUSED),
						requests: 0, dials: attempts, createTwiceOK: true, bound: quick,
					})
				})
			}
			wg.Wait()
		})
		t.Run("redirects", testRedirects)
		t.Run("TLS", testTLS)
	})
	if testing.Verbose() {
		t.Logf("fault table (docs/RELIABILITY.md):\n%s", faultTableMarkdown())
	}
	if path := os.Getenv("FAULT_TABLE"); path != "" {
		if err := os.WriteFile(path, []byte(faultTableMarkdown()), 0o644); err != nil {
			t.Error(err)
		}
	}
	checkFaultDoc(t)
}

// faultDoc is the document that keeps the fault table.
const faultDoc = "docs/RELIABILITY.md"

// faultTableHead is the first line of the fault table.
const faultTableHead = "| fault | methods | error class | requests | bound | measured (worst) |"

// checkFaultDoc compares the fault table of docs/RELIABILITY.md with the
// one this run made, every column but the measured time. After a run of the
// whole matrix (every fault of faultOrder recorded; TestFaultEndlessBody,
// which is not parallel, runs before the matrix goes on), the two must be
// the same row for row, and the document must give the number of
// method/fault pairs; after a run of part of it (go test -run), each row it
// made must be in the document. With UPDATE_FAULT_DOC=1, a whole run
// writes its table into the document instead, keeping the measured time of
// the rows the document already had, so that the change shows only what
// changed.
func checkFaultDoc(t *testing.T) {
	t.Helper()
	raw, err := os.ReadFile(faultDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	table := faultTableMarkdown()
	docTable, ok := markdownTable(doc, faultTableHead)
	if !ok {
		t.Fatalf("%s has no table starting %q", faultDoc, faultTableHead)
	}
	whole, pairs := faultRunIsWhole()
	if whole && os.Getenv("UPDATE_FAULT_DOC") == "1" {
		doc = strings.Replace(doc, docTable, keepMeasured(docTable, table), 1)
		doc = pairsRE.ReplaceAllString(doc, fmt.Sprintf("Each of the %d method/fault pairs", pairs))
		if err := os.WriteFile(faultDoc, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, got := withoutMeasured(docTable), withoutMeasured(table)
	const regenerate = "regenerate it with UPDATE_FAULT_DOC=1 go test -run Fault ."
	if whole {
		if !slices.Equal(want, got) {
			t.Errorf("the fault table of %s is not the one this run made (%s):\n%s", faultDoc, regenerate, lineDiff(want, got))
		}
		if m := pairsRE.FindStringSubmatch(doc); m == nil || m[1] != strconv.Itoa(pairs) {
			t.Errorf("%s does not say \"Each of the %d method/fault pairs\" (%s)", faultDoc, pairs, regenerate)
		}
		return
	}
	for _, row := range got {
		if !slices.Contains(want, row) {
			t.Errorf("the fault table of %s lacks the row %s (%s)", faultDoc, row, regenerate)
		}
	}
}

var pairsRE = regexp.MustCompile(`Each of the (\d+) method/fault pairs`)

// faultRunIsWhole reports whether every fault of faultOrder has been
// recorded, and how many method/fault pairs were.
func faultRunIsWhole() (whole bool, pairs int) {
	faultTable.Lock()
	defer faultTable.Unlock()
	seen := map[string]bool{}
	for _, r := range faultTable.rows {
		seen[r.fault] = true
		pairs += len(r.methods)
	}
	for _, name := range faultOrder() {
		if !seen[name] {
			return false, pairs
		}
	}
	return true, pairs
}

// markdownTable returns the table of text that starts with the line head,
// up to its last row, with its final line break.
func markdownTable(text, head string) (string, bool) {
	i := strings.Index(text, head+"\n")
	if i < 0 {
		return "", false
	}
	end := i
	for end < len(text) && text[end] == '|' {
		nl := strings.IndexByte(text[end:], '\n')
		if nl < 0 {
			end = len(text)
			break
		}
		end += nl + 1
	}
	return text[i:end], true
}

// withoutMeasured returns the rows of a fault table without their last
// cell, the measured time, which differs from run to run.
func withoutMeasured(table string) []string {
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		line = strings.TrimSuffix(strings.TrimSpace(line), "|")
		if i := strings.LastIndexByte(line, '|'); i >= 0 {
			line = line[:i+1]
		}
		rows = append(rows, line)
	}
	return rows
}

// keepMeasured returns table with the measured time of each row that old
// has too (every other cell the same) taken from old.
func keepMeasured(old, table string) string {
	kept := map[string]string{}
	for _, line := range strings.Split(old, "\n") {
		if rows := withoutMeasured(line); len(rows) == 1 {
			kept[rows[0]] = line
		}
	}
	lines := strings.Split(table, "\n")
	for i, line := range lines {
		if rows := withoutMeasured(line); len(rows) == 1 && kept[rows[0]] != "" {
			lines[i] = kept[rows[0]]
		}
	}
	return strings.Join(lines, "\n")
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got []string) string {
	var b strings.Builder
	for _, l := range want {
		if !slices.Contains(got, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	if b.Len() == 0 {
		b.WriteString("(the same rows, in another order)\n")
	}
	return b.String()
}

// faultNames lists the faults in the order of the table.
func faultNames() []string {
	var names []string
	for _, f := range faults(nil) {
		if !slices.Contains(names, f.name) {
			names = append(names, f.name)
		}
	}
	return names
}

// faultFor finds the fault called name that applies to m.
func faultFor(fs []fault, name string, m faultMethod) (fault, bool) {
	for _, f := range fs {
		if f.name == name && (f.applies == nil || f.applies(m)) {
			return f, true
		}
	}
	return fault{}, false
}

// closedPort returns an address on which nothing listens.
func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// testTLS calls every method over TLS with a certificate from a private CA:
// through a client that trusts it, and through one that does not.
func testTLS(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for _, m := range faultMethods {
		srv := startFaultServer(t, true, func(w http.ResponseWriter, r *http.Request, _ int) { succeed(w, r) })
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		ft := newFaultTransport(&tls.Config{RootCAs: roots}, nil)
		c := newFaultClient(t, srv.URL, ft)
		wg.Go(func() {
			checkFault(t, "TLS, private CA trusted via WithHTTPClient", m, c, srv, ft, expect{
				class: "nil", ok: isNil, requests: 1 + m.after, conns: 1, bound: quick,
			})
		})

		srv2 := startFaultServer(t, true, func(w http.ResponseWriter, r *http.Request, _ int) { succeed(w, r) })
		ft2 := newFaultTransport(&tls.Config{RootCAs: x509.NewCertPool()}, nil)
		c2 := newFaultClient(t, srv2.URL, ft2)
		wg.Go(func() {
			checkFault(t, "TLS, private CA not trusted", m, c2, srv2, ft2, expect{
				class: "*RequestError (x509.UnknownAuthorityError, not retried)",
				ok: both(isRequestError(), func(err error) bool {
					var certErr *tls.CertificateVerificationError
					var authErr x509.UnknownAuthorityError
					return errors.As(err, &certErr) && errors.As(err, &authErr)
				}),
				requests: 0, dials: 1, conns: 1, bound: quick,
			})
		})
	}
	wg.Wait()
}

// TestFaultEndlessBody streams, to every method, a success body that would
// go on for 1 GiB, and checks that the client stops at MaxResponseBytes (or
// at the 64 KiB it drains when it needs no body) with a bounded heap. It is
// not parallel, so that the heap it measures is its own and so that reading
// 32 MiB under the race detector does not slow the other faults down.
func TestFaultEndlessBody(t *testing.T) {
	const offered = 1 << 30
	for _, m := range faultMethods {
		t.Run(m.name, func(t *testing.T) {
			var srv *faultServer
			srv = startFaultServer(t, false, func(w http.ResponseWriter, _ *http.Request, _ int) {
				w.Header().Set("Content-Type", jsonCT)
				streamEndless(w, srv, offered)
			})
			ft := newFaultTransport(nil, nil)
			c := newFaultClient(t, srv.URL, ft)
			want := expect{class: "ErrUnexpectedResponse (a body where Unleash sends none; one byte read)", ok: isUnexpected(), requests: 1, bound: quick}
			readLimit := int64(maxDrainBytes)
			if m.decodes {
				want = expect{class: "ErrUnexpectedResponse (over MaxResponseBytes)", ok: isUnexpected(errTooLarge), requests: 1, bound: 15 * time.Second}
				readLimit = MaxResponseBytes
			}
			growth := peakHeapGrowth(func() { checkFault(t, "200 with an endless body", m, c, srv, ft, want) })
			written := srv.written.Load()
			t.Logf("offered %d MiB, server wrote %.1f MiB before the client hung up, peak heap growth %.1f MiB",
				offered>>20, float64(written)/(1<<20), float64(growth)/(1<<20))
			// Reading up to the limit doubles the buffer a few times, and
			// the garbage of each step counts until the next GC: about 3.5
			// times the limit (112 MiB), 5 to 6.5 times under the race
			// detector, which allocates more. The bound is a multiple of
			// the limit, whatever the server offers.
			if bound := 8*readLimit + 16<<20; growth > bound {
				t.Errorf("peak heap growth %d MiB, want at most %d MiB", growth>>20, bound>>20)
			}
			// What the server got out is what the client read plus socket
			// buffers: the client stopped reading.
			if written > readLimit+16<<20 {
				t.Errorf("server wrote %d MiB: the client read past its limit", written>>20)
			}
		})
	}
}

// peakHeapGrowth runs f and returns the highest growth of the heap seen
// while it ran, sampled every millisecond.
func peakHeapGrowth(f func()) int64 {
	read := func() int64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		return int64(s[0].Value.Uint64())
	}
	runtime.GC()
	base := read()
	var peak atomic.Int64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	<-stopped
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	return peak.Load() - base
}

// oneForCreates is e with a single request for a create method, which must
// not be re-sent once it may have reached the server.
func (e expect) oneForCreates(m faultMethod) expect {
	if m.create() {
		e.requests = 1
	}
	return e
}
