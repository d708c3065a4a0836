package unleashtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// DefaultAdminKey is the admin API token a Server accepts unless
// WithAdminKeys says otherwise: the insecure development key commonly given
// to a real server through INIT_ADMIN_API_TOKENS.
const DefaultAdminKey = "*:*.unleash-insecure-admin-api-token"

// DefaultTokenLimit is the number of tokens (admin tokens included) a Server
// holds before it refuses to create more, the real server's default.
const DefaultTokenLimit = 2000

// defaultEnvironment is used when a create request names no environment.
const defaultEnvironment = "development"

// Token is a token held by a Server, as returned by Server.Tokens.
type Token struct {
	// Secret is the full token secret, e.g. "default:development.<hex>".
	Secret string
	// TokenName is the name given at creation; names are not unique.
	TokenName string
	// Type is "client", "frontend" or "admin". A token created as
	// "backend" is stored (and listed) as "client", as the real server does.
	Type string
	// Project is "*" for all projects, the project id for one project, and
	// the comma-joined ids for several.
	Project string
	// Projects lists the project ids, or holds just "*".
	Projects []string
	// Environment is the environment name, or "*" for admin tokens.
	Environment string
	// ExpiresAt is nil when the token never expires.
	ExpiresAt *time.Time
	// CreatedAt is when the server created the token (UTC, milliseconds).
	CreatedAt time.Time
}

// clone returns a deep copy of t.
func (t Token) clone() Token {
	t.Projects = slices.Clone(t.Projects)
	if t.ExpiresAt != nil {
		e := *t.ExpiresAt
		t.ExpiresAt = &e
	}
	return t
}

// Request is one request the Server received, as recorded by
// Server.Requests.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is the request path exactly as escaped by the client, without
	// the query string (e.g. "/api/admin/api-tokens/%2A%3Adevelopment.abc").
	Path string
	// Header is a copy of the request headers, Authorization included: a
	// Request printed in a test log shows the key the client sent (the
	// Server's own keys are test values unless WithAdminKeys says otherwise).
	Header http.Header
	// Body is the request body (at most the first MiB).
	Body []byte
	// Faulted reports whether a Fault queued with FailNext was applied to
	// this request instead of (or, for a pure delay, before) normal service.
	Faulted bool
}

// Fault describes a response a Server gives in place of normal service; see
// Server.FailNext.
//
// The fields combine as follows. Delay is waited first; the wait ends early,
// without any response, when the request's context ends (the client gave
// up), and the connection is closed when the Server is closed meanwhile.
// Then, if Drop is set, the connection is closed without any response.
// Otherwise, if Status is not zero, the response is Status with Header and
// Body (net/http fills in a Content-Type from the body when Header has
// none). A Fault with Status zero and Drop unset only delays the request,
// which is then served normally.
//
// Note that Go's http.Transport retries a GET or HEAD request (or one with
// an Idempotency-Key header) on its own when a reused keep-alive connection
// is closed before any response arrives, so a dropped GET may reach the
// server twice; the retry is a new request and takes the next queued Fault,
// if any. Use a client with keep-alives disabled, or a POST, to see the
// drop itself.
type Fault struct {
	// Status is the status code to send, e.g. 502 or 429; 0 for none.
	Status int
	// Header holds headers to send with Status, e.g. Retry-After.
	Header http.Header
	// Body is the response body to send with Status.
	Body []byte
	// Delay is how long to wait before acting.
	Delay time.Duration
	// Drop closes the connection without sending a response.
	Drop bool
}

// Option configures a Server; pass options to NewServer.
type Option func(*config)

type config struct {
	adminKeys    []string
	projects     []string
	environments []string
	tokenLimit   int
	now          func() time.Time
}

// WithAdminKeys sets the admin API tokens the Server holds and accepts,
// replacing DefaultAdminKey. Each appears in token lists as a token named
// "admin" of type "admin". Empty keys are ignored; with no key left the
// default is kept.
func WithAdminKeys(keys ...string) Option {
	return func(c *config) {
		var ks []string
		for _, k := range keys {
			if k != "" && !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
		if len(ks) > 0 {
			c.adminKeys = ks
		}
	}
}

// WithProjects sets the ids of the projects that exist, replacing the
// default list ("default"). Include "default" if you still want it.
func WithProjects(ids ...string) Option {
	return func(c *config) { c.projects = slices.Clone(ids) }
}

// WithEnvironments sets the names of the environments that exist, replacing
// the default list ("development", "production"). A create request without
// an environment uses "development", which then fails with
// "Environment=development does not exist" if it is not in the list, as on
// a real server.
func WithEnvironments(names ...string) Option {
	return func(c *config) { c.environments = slices.Clone(names) }
}

// WithTokenLimit sets how many tokens, admin tokens included, the Server
// may hold (DefaultTokenLimit unless set). Creating one more fails with
// 400 ExceedsLimitError.
func WithTokenLimit(n int) Option {
	return func(c *config) { c.tokenLimit = n }
}

// WithClock sets the function the Server uses to read the current time: it
// stamps createdAt and decides whether a token has expired. The default is
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// Server is an in-process stand-in for the API-token endpoints of an
// Unleash 8.2 server. Create one with NewServer or NewTestServer and close
// it with Close. All methods are safe for concurrent use.
type Server struct {
	ts        *httptest.Server
	cfg       config
	closing   chan struct{}
	closeOnce sync.Once

	mu          sync.Mutex
	tokens      []Token // in creation order
	requests    []Request
	faults      []faultRun
	events      []storedEvent // oldest first
	lastEventID int
}

// NewServer starts a Server on a local port. The caller must call Close.
func NewServer(opts ...Option) *Server {
	cfg := config{
		adminKeys:    []string{DefaultAdminKey},
		projects:     []string{"default"},
		environments: []string{"development", "production"},
		tokenLimit:   DefaultTokenLimit,
		now:          time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{cfg: cfg, closing: make(chan struct{})}
	created := s.now()
	for _, k := range cfg.adminKeys {
		s.tokens = append(s.tokens, Token{
			Secret:      k,
			TokenName:   "admin",
			Type:        "admin",
			Project:     "*",
			Projects:    []string{"*"},
			Environment: "*",
			CreatedAt:   created,
		})
	}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// NewTestServer starts a Server and registers its Close with tb.Cleanup.
func NewTestServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	tb.Cleanup(s.Close)
	return s
}

// URL returns the base URL of the Server, e.g. "http://127.0.0.1:38193",
// with no trailing slash.
func (s *Server) URL() string { return s.ts.URL }

// AdminKey returns the first admin API token the Server accepts.
func (s *Server) AdminKey() string { return s.cfg.adminKeys[0] }

// Client returns an HTTP client set up for the Server; its idle connections
// are closed by Close.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Close shuts the Server down. Requests held by a Fault's Delay end at
// once (their connections are closed); Close then waits for running
// requests to finish. Calling Close more than once is harmless.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ts.Close()
	})
}

// Tokens returns a copy of every token the Server holds, admin tokens
// included, in the order they were created.
func (s *Server) Tokens() []Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Token, len(s.tokens))
	for i, t := range s.tokens {
		out[i] = t.clone()
	}
	return out
}

// Requests returns a copy of the log of requests received so far, oldest
// first, faulted ones included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// RequestCount returns how many requests the Server has received.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// FailNext makes the next n requests, whatever their endpoint, get f
// instead of normal service. Calls add to a queue: FailNext(1, a) followed
// by FailNext(2, b) gives a, b, b. It panics if n is negative or f.Status
// is neither 0 nor a valid HTTP status code (100 to 999).
func (s *Server) FailNext(n int, f Fault) {
	if n < 0 {
		panic("unleashtest: FailNext with negative count")
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 999) {
		panic("unleashtest: FailNext with invalid status code")
	}
	f.Header = f.Header.Clone()
	f.Body = bytes.Clone(f.Body)
	if n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faultRun{f, n})
}

// faultRun is one FailNext call: a fault for the next left requests. A run
// is kept once, so FailNext(math.MaxInt, f) costs no more than FailNext(1, f).
type faultRun struct {
	f    Fault
	left int
}

// PendingFaults returns how many queued faults have not been used yet.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for _, r := range s.faults {
		if r.left > math.MaxInt-total {
			return math.MaxInt
		}
		total += r.left
	}
	return total
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) now() time.Time {
	return s.cfg.now().UTC().Truncate(time.Millisecond)
}

// maxBody is how much of a request body is read and logged.
const maxBody = 1 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	truncated := len(body) > maxBody
	if truncated {
		body = body[:maxBody]
	}
	rec := Request{
		Method: r.Method,
		Path:   r.URL.EscapedPath(),
		Header: r.Header.Clone(),
		Body:   body, // ReadAll's own buffer; nothing writes to it
	}
	var fault *Fault
	s.mu.Lock()
	if len(s.faults) > 0 {
		f := s.faults[0].f
		if s.faults[0].left--; s.faults[0].left == 0 {
			s.faults = s.faults[1:]
		}
		fault = &f
		rec.Faulted = true
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	if fault != nil && s.applyFault(w, r, *fault) {
		return
	}
	s.handle(w, r, body, truncated)
}

// applyFault carries out f and reports whether the request is finished.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-s.closing:
			dropConnection(w)
			return true
		}
	}
	if f.Drop {
		dropConnection(w)
		return true
	}
	if f.Status == 0 {
		return false
	}
	h := w.Header()
	for k, vs := range f.Header {
		h[k] = slices.Clone(vs)
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write(f.Body)
	return true
}

// dropConnection closes the client's connection without a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (e.g. HTTP/2): abort the response instead.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// newSecretSuffix returns the 56 hex digits that end a token secret.
func newSecretSuffix() string {
	var b [28]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
