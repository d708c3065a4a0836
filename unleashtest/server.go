package unleashtest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// DefaultAdminKey is the admin API token a Server accepts unless
// WithAdminKeys says otherwise: the insecure development key commonly given
// to a real server through INIT_ADMIN_API_TOKENS.
const DefaultAdminKey = "*:*.unleash-insecure-admin-api-token"

// DefaultTokenLimit is the number of tokens a Server holds before it
// refuses to create more, the real server's default (see WithTokenLimit
// for which tokens count).
const DefaultTokenLimit = 2000

// DefaultVersion is the Unleash version a Server reports unless
// WithVersion says otherwise: the version its behaviour was taken from.
const DefaultVersion = "8.2.0"

// DefaultSeenAtInterval is how often a Server writes the uses of legacy
// tokens to their seenAt unless WithSeenAtInterval says otherwise: every
// three minutes, as Unleash 5 to 8 do (see WithSeenAtInterval).
const DefaultSeenAtInterval = 3 * time.Minute

// defaultEnvironment is used when a create request names no environment.
const defaultEnvironment = "development"

// Token is a token held by a Server, as returned by Server.Tokens and as
// given to WithTokens.
type Token struct {
	// Secret is the full token secret: "default:development.<56 hex>" for a
	// legacy token, "default:development.v2_<selector>_<secret>" for one in
	// secure token storage. Server.Tokens always returns it in full, even
	// where the server's lists show only the selector.
	Secret string
	// TokenName is the name given at creation; names are not unique.
	TokenName string
	// Type is "client", "backend", "frontend" or "admin". A legacy token
	// created as "backend" is stored (and listed) as "client", as the real
	// server does; one in secure token storage keeps "backend".
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
	// SeenAt is when the token was last used, nil for never. A Server sets
	// it when the token authenticates a request, as Unleash does: at once
	// for a token in secure token storage, and for a legacy token at the
	// next write of its batch job, with the time of that write (see
	// WithSeenAtInterval; a legacy token's use on the admin API is not
	// recorded). WithTokens may give a starting value.
	SeenAt *time.Time
	// Selector is the 22-character selector of a token in secure token
	// storage, and "" for a legacy token. Lists show it in place of the
	// secret; update and delete accept it as well as the full secret.
	Selector string
	// Secure reports whether the token is in secure token storage: only
	// the create response showed its secret, and lists show Selector with
	// "secure": true.
	Secure bool
}

// clone returns a deep copy of t.
func (t Token) clone() Token {
	t.Projects = slices.Clone(t.Projects)
	t.ExpiresAt = cloneTime(t.ExpiresAt)
	t.SeenAt = cloneTime(t.SeenAt)
	return t
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// Request is one request the Server received, as recorded by
// Server.Requests. A Server keeps only the most recent requests: see
// Server.Requests for the bound.
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
	// Body is the request body (at most the first MiB, 1<<20 bytes).
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

// Option configures a Server; pass options to NewServer, NewTestServer or
// Listen.
type Option func(*config)

type config struct {
	adminKeys    []string
	projects     []string
	environments []string
	tokenLimit   int
	now          func() time.Time
	secure       bool
	version      string
	seeds        []Token
	readTimeout  time.Duration
	idleTimeout  time.Duration
	seenInterval time.Duration
}

// The timeouts of the http.Server of every Server. The read timeout ends
// with the request's body, as net/http lifts it then: a Fault's Delay is
// not cut short.
const (
	readHeaderTimeout  = 10 * time.Second
	defaultReadTimeout = time.Minute
	defaultIdleTimeout = time.Minute
)

// withTimeouts sets the read and idle timeouts of the http.Server, for
// tests that cannot wait the defaults out.
func withTimeouts(read, idle time.Duration) Option {
	return func(c *config) { c.readTimeout, c.idleTimeout = read, idle }
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

// WithTokenLimit sets how many tokens the Server may hold before a create
// fails with 400 ExceedsLimitError (DefaultTokenLimit unless set). As on
// Unleash 8.2, only the tokens of the storage that new tokens go to count:
// every legacy token, admin keys included, by default; with
// WithSecureTokens only the tokens in secure token storage (the admin keys,
// which are legacy, do not count).
func WithTokenLimit(n int) Option {
	return func(c *config) { c.tokenLimit = n }
}

// WithSecureTokens makes the Server behave like Unleash 8.2.0 started with
// UNLEASH_EXPERIMENTAL_SECURE_TOKEN=true: every token it creates is kept in
// secure token storage, with a secret of the form
// "<project>:<environment>.v2_<selector>_<secret>" that only the create
// response shows. See the package documentation for what changes.
func WithSecureTokens() Option {
	return func(c *config) { c.secure = true }
}

// WithVersion sets the version the Server reports in GET
// /api/admin/ui-config (DefaultVersion unless set; "" keeps the default).
// Only the reported version changes: the Server goes on behaving like
// Unleash 8.2.
func WithVersion(v string) Option {
	return func(c *config) {
		if v != "" {
			c.version = v
		}
	}
}

// WithTokens makes the Server start with these tokens besides its admin
// keys, as if they had been created earlier (no event is recorded for
// them). Each needs a TokenName and a Type (client, backend, frontend or
// admin, in any letter case); the other fields are optional:
//
//   - Secret: a legacy secret, or a full v2 secret
//     ("...v2_<22 characters>_<43 characters>") for a token in secure
//     token storage; when empty, one is made in the Server's mode (or in
//     secure storage when Secure is set);
//   - Projects (or Project, comma-joined): projects the Server has
//     (WithProjects), default all projects ("*"); a list holding "*" means
//     all projects;
//   - Environment: one the Server has (WithEnvironments), default
//     "development"; "*" for an admin token, which must be one of all
//     projects;
//   - CreatedAt (default the Server's start), ExpiresAt, SeenAt;
//   - Secure and Selector, which must agree with Secret when given.
//
// Secrets must be unique, admin keys included. A seed that breaks a rule
// makes Listen return an error, NewTestServer fail the test and NewServer
// panic; the message names the seed by its position (token 1 is the first
// seed) and the field at fault (project 2 is the second of Projects), and
// never quotes a value of the seed. Calls add to the seeds.
func WithTokens(tokens ...Token) Option {
	return func(c *config) {
		for _, t := range tokens {
			c.seeds = append(c.seeds, t.clone())
		}
	}
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

// WithSeenAtInterval sets how often the Server writes the uses of legacy
// tokens to their seenAt (DefaultSeenAtInterval, three minutes, unless
// set). d is cut to whole milliseconds; 0 or less writes them at once.
//
// Unleash keeps the secrets of the legacy tokens that authenticated a
// request in memory, and a job started with the server writes them all
// every three minutes with seenAt the time of the write; tokens in secure
// token storage get their seenAt written at once, at each use. A Server
// models the job on its own clock (WithClock): its writes fall at its
// start plus whole multiples of d, and a use becomes visible (in lists,
// events and Tokens) at the first of them after the use, with that write's
// time as seenAt. So a use at the Server's start plus 10s shows from start
// plus 3m on, as seenAt start+3m. Tokens in secure token storage are not
// affected: their seenAt is the time of the use, at once.
//
// In default mode every token a Server creates is a legacy one; with
// WithSecureTokens only the admin keys and legacy seeds are. The uses of
// legacy tokens that count are those on the client and frontend APIs:
// unlike Unleash, a Server does not record a legacy token's use on the
// admin API, so that its admin keys, which every admin call uses, stay
// never seen unless seeded otherwise.
func WithSeenAtInterval(d time.Duration) Option {
	return func(c *config) { c.seenInterval = max(d.Truncate(time.Millisecond), 0) }
}

// Server is an in-process stand-in for the API-token endpoints of an
// Unleash 8.2 server. Create one with NewServer, NewTestServer or Listen
// and close it with Close. All methods are safe for concurrent use.
type Server struct {
	ts         *httptest.Server
	url        string
	instanceID string
	cfg        config
	closing    chan struct{}
	closeOnce  sync.Once

	mu           sync.Mutex
	tokens       []Token   // in creation order
	requests     []Request // the most recent, oldest first; see Requests
	requestBytes int       // the size of requests, as historySize counts it
	requestCount int       // every request received
	faults       []faultRun
	events       []storedEvent // oldest first
	lastEventID  int
	// started is the Server's start on its clock, from which the writes
	// of the seenAt job are counted.
	started time.Time
	// unwritten holds, by secret, the last use of each legacy token that
	// the seenAt job has not written yet.
	unwritten map[string]time.Time
}

// newServer builds a Server from its options without serving it: the
// options are applied, then the seeds checked.
func newServer(opts []Option) (*Server, error) {
	cfg := config{
		adminKeys:    []string{DefaultAdminKey},
		projects:     []string{"default"},
		environments: []string{"development", "production"},
		tokenLimit:   DefaultTokenLimit,
		now:          time.Now,
		version:      DefaultVersion,
		readTimeout:  defaultReadTimeout,
		idleTimeout:  defaultIdleTimeout,
		seenInterval: DefaultSeenAtInterval,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	s := &Server{cfg: cfg, closing: make(chan struct{}), instanceID: newID(), unwritten: map[string]time.Time{}}
	created := s.now()
	s.started = created
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
	for i, seed := range cfg.seeds {
		tok, err := s.seedToken(seed, created)
		if err != nil {
			// No value of the seed: one from a file (unleash-standin
			// -seed) may be a secret in the wrong field.
			return nil, fmt.Errorf("unleashtest: WithTokens: token %d: %w", i+1, err)
		}
		s.tokens = append(s.tokens, tok)
	}
	return s, nil
}

// NewServer starts a Server on a local port. The caller must call Close.
// It panics when an option is invalid (a WithTokens seed that breaks a
// rule); Listen reports that as an error instead.
func NewServer(opts ...Option) *Server {
	s, err := newServer(opts)
	if err != nil {
		panic(err)
	}
	s.start(httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP)))
	return s
}

// NewTestServer starts a Server and registers its Close with tb.Cleanup.
// An invalid option fails the test at once (tb.Fatal).
func NewTestServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := newServer(opts)
	if err != nil {
		tb.Fatal(err)
		return nil // for a tb whose Fatal returns
	}
	s.start(httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP)))
	tb.Cleanup(s.Close)
	return s
}

// Listen starts a Server on addr, a TCP address as net.Listen takes it:
// "127.0.0.1:0" (what an empty addr means) picks a free port on the
// loopback interface, ":4242" listens on every interface. It returns an
// error when an option is invalid or the address cannot be listened on;
// nothing is left running then. The caller must call Close.
//
// URL then names the address listened on, with 127.0.0.1 (or [::1]) in
// place of an unspecified host such as 0.0.0.0, so that it can be
// connected to.
func Listen(addr string, opts ...Option) (*Server, error) {
	s, err := newServer(opts)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("unleashtest: %w", err)
	}
	s.start(&httptest.Server{
		Listener: l,
		Config:   &http.Server{Handler: http.HandlerFunc(s.serveHTTP)},
	})
	return s, nil
}

// start serves s with ts; the fields the handlers read are set first.
// Every Server has a read header, read and idle timeout, so that a client
// that stops sending or keeps a connection idle cannot hold it for ever.
func (s *Server) start(ts *httptest.Server) {
	ts.Config.ReadHeaderTimeout = readHeaderTimeout
	ts.Config.ReadTimeout = s.cfg.readTimeout
	ts.Config.IdleTimeout = s.cfg.idleTimeout
	s.ts = ts
	s.url = dialableURL(ts.Listener.Addr())
	ts.Start()
}

// dialableURL returns the base URL for a listening address, with a
// loopback address in place of an unspecified one.
func dialableURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if tcp.IP != nil && tcp.IP.To4() == nil {
			ip = net.IPv6loopback
		}
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// URL returns the base URL of the Server, e.g. "http://127.0.0.1:38193",
// with no trailing slash.
func (s *Server) URL() string { return s.url }

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
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeSeenLocked(now)
	out := make([]Token, len(s.tokens))
	for i, t := range s.tokens {
		out[i] = t.clone()
	}
	return out
}

// Requests returns a copy of the most recent requests received, oldest
// first, faulted ones included.
//
// The history is bounded, so that a Server (and unleash-standin) runs in
// bounded memory whatever it is sent: it keeps the last 10,000 requests,
// and fewer when their bodies and headers add up to more than 16 MiB
// (a body counts at most 1 MiB, the most recorded). Older requests are dropped, oldest first; the
// newest request is always kept. RequestCount counts every request,
// dropped ones included, so Requests()[n:] with n from an earlier
// RequestCount holds the requests since then as long as none was dropped
// (RequestCount()-len(Requests()) is how many were).
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

// RequestCount returns how many requests the Server has received, those
// dropped from the history of Requests included.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requestCount
}

// The bounds of the request history; see Requests.
const (
	maxHistoryRequests = 10_000
	maxHistoryBytes    = 16 << 20
)

// historySize is what r counts against maxHistoryBytes: its body, path
// and headers.
func historySize(r Request) int {
	n := len(r.Method) + len(r.Path) + len(r.Body)
	for k, vs := range r.Header {
		n += len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

// record adds r to the history, dropping the oldest requests beyond the
// bounds. The caller holds s.mu.
func (s *Server) record(r Request) {
	s.requestCount++
	s.requests = append(s.requests, r)
	s.requestBytes += historySize(r)
	drop := 0
	for len(s.requests)-drop > 1 &&
		(len(s.requests)-drop > maxHistoryRequests || s.requestBytes > maxHistoryBytes) {
		s.requestBytes -= historySize(s.requests[drop])
		drop++
	}
	if drop > 0 {
		clear(s.requests[:drop]) // let the dropped bodies go now
		s.requests = s.requests[drop:]
	}
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

// readBody reads the body of r up to maxBody+1 bytes (one more tells a
// longer body), into a buffer of the announced size when there is one.
func readBody(r *http.Request) []byte {
	if r.ContentLength > 0 && r.ContentLength <= maxBody {
		b := make([]byte, r.ContentLength)
		n, _ := io.ReadFull(r.Body, b)
		return b[:n]
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	return b
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	truncated := len(body) > maxBody
	if truncated {
		body = body[:maxBody]
	}
	logged := body // nothing writes to body
	if cap(logged)-len(logged) > 4096 {
		logged = bytes.Clone(body) // not ReadAll's spare room: it is kept
	}
	rec := Request{
		Method: r.Method,
		Path:   r.URL.EscapedPath(),
		Header: r.Header.Clone(),
		Body:   logged,
	}
	var fault *Fault
	now := s.now()
	s.mu.Lock()
	s.writeSeenLocked(now)
	if len(s.faults) > 0 {
		f := s.faults[0].f
		if s.faults[0].left--; s.faults[0].left == 0 {
			s.faults = s.faults[1:]
		}
		fault = &f
		rec.Faulted = true
	}
	s.record(rec)
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

// newSecretSuffix returns the 56 hex digits that end a legacy token secret.
func newSecretSuffix() string {
	var b [28]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newV2Credential returns the selector and the rest of a v2 secret of
// secure token storage: 16 and 32 random bytes in unpadded base64url,
// 22 and 43 characters, as Unleash makes them. The secret is
// prefix + ".v2_" + selector + "_" + rest.
func newV2Credential() (selector, rest string) {
	var sel [16]byte
	var sec [32]byte
	_, _ = rand.Read(sel[:])
	_, _ = rand.Read(sec[:])
	return base64.RawURLEncoding.EncodeToString(sel[:]), base64.RawURLEncoding.EncodeToString(sec[:])
}
