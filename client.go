// Package unleashadmin is a client for the API-token endpoints of Unleash's
// Admin API: create, list, look up, expire, rotate and delete the tokens
// that Unleash SDKs, Edge and frontends use, read the token event log, read
// the server's version and limits ([Client.ServerInfo]), and ask which
// secrets are live ([Client.ValidateTokens], which needs no key). It works
// with Unleash 5 to 8, with or without secure token storage.
//
// Every call takes a context, returns typed values and reports every failure
// as an error value: [*APIError] for a response Unleash (or a proxy in front
// of it) refused, matched by errors.Is against [ErrUnauthorized],
// [ErrForbidden], [ErrUnsupportedMediaType], [ErrBadRequest], [ErrNotFound]
// and [ErrRateLimited], and [ErrNotSupported] where the server lacks what the
// call needs; [ErrInvalidArgument] for bad input, caught before any request
// is sent; [ErrUnexpectedResponse] for an answer that is not what Unleash
// sends; [*RedirectError] for a redirect that was not followed;
// [*RequestError] when no answer came; [ErrRotationIncomplete] and
// [ErrNotDelivered] from [Client.RotateAPIToken].
//
// The API key and token secrets are sent only to the base URL's scheme,
// host and port, and are kept out of error strings, log lines, reported
// URLs and the printed form of every type in this package.
package unleashadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Version is the version of this library, sent in the default User-Agent.
const Version = "0.1.0"

// Limits on what the client reads from a response.
const (
	// MaxResponseBytes bounds a success body. A list of Unleash's default
	// maximum of 2,000 tokens is about 700 KB; a body past this bound is
	// refused with ErrUnexpectedResponse instead of being read into memory.
	// A create whose answer starts with the new token and goes on past it
	// returns that token with the error.
	MaxResponseBytes = 32 << 20
	// MaxErrorBodyBytes bounds the body kept in APIError.Body.
	MaxErrorBodyBytes = 64 << 10
)

// Defaults used when no option says otherwise.
const (
	DefaultRetryMax     = 3
	DefaultRetryWaitMin = 250 * time.Millisecond
	DefaultRetryWaitMax = 5 * time.Second
	// DefaultTimeout bounds one attempt of a request (connect, send, read the
	// whole response) on the HTTP client NewClient makes. A client passed
	// with WithHTTPClient keeps its own Timeout.
	DefaultTimeout = 30 * time.Second
)

// maxDrainBytes bounds how much of an unread body is read so that the
// connection can be reused; past it the connection is closed instead.
const maxDrainBytes = 64 << 10

// Client calls the Unleash Admin API with one API key. Make one with
// NewClient. A Client is safe for concurrent use by many goroutines and
// should be reused: it keeps connections open between calls.
type Client struct {
	base      *url.URL // the base URL as given; its origin is the only one the key goes to
	baseURL   string   // scheme://host[:port][/sub-path], no trailing slash
	shownURL  string   // baseURL without any user:password, for reports
	auth      string   // the Authorization header value; a credential ("" without a key)
	key       string   // the key alone, normalised (normalizeKey); a credential
	bearer    bool
	keyCreds  []*credSet // the API key's forms, to find its echoes
	userAgent string
	logger    *slog.Logger
	// hc is the Client's own copy of the http.Client, with the redirect
	// policy. http sends GET, PUT, DELETE and the POSTs that change
	// nothing; createHTTP sends the create POSTs, under a stricter retry
	// policy. Both share hc.
	hc               *http.Client
	http, createHTTP *retryablehttp.Client
	retryWaitMax     time.Duration
}

// Option configures a Client in NewClient. Later options override earlier
// ones.
type Option func(*options)

type options struct {
	bearer       bool
	httpClient   *http.Client
	retryMax     int
	retryWaitMin time.Duration
	retryWaitMax time.Duration
	logger       *slog.Logger
	userAgent    string
}

// WithBearerAuth sends the key as "Authorization: Bearer <key>". Without it
// the key is sent plain, "Authorization: <key>". Unleash accepts both.
func WithBearerAuth() Option { return func(o *options) { o.bearer = true } }

// WithHTTPClient makes the Client send its requests through a copy of hc,
// for a custom transport, proxy or TLS configuration; hc itself is not
// changed. hc's Timeout applies to each attempt. The copy follows redirects
// only as the Client's own policy allows (a GET within the base URL's
// scheme, host and port), then as hc's CheckRedirect does. Without this
// option the Client uses its own http.Client with DefaultTimeout.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithRetryMax sets how many times a failed request may be retried; 0 turns
// retries off. See the package README for which failures are retried.
func WithRetryMax(n int) Option { return func(o *options) { o.retryMax = n } }

// WithRetryWait sets the shortest and longest wait between two attempts.
// Waits grow exponentially from min up to max. A Retry-After header longer
// than max is not waited for: the call returns ErrRateLimited instead.
func WithRetryWait(min, max time.Duration) Option {
	return func(o *options) { o.retryWaitMin, o.retryWaitMax = min, max }
}

// WithLogger makes the Client log each attempt, retry and failure at debug
// level to l. Without it the Client logs nothing. Secrets are redacted.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithUserAgent replaces the default User-Agent, "unleashadmin-go/<Version>".
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// NewClient returns a Client for the Unleash instance at baseURL (for
// example "https://unleash.example.com" or "https://example.com/unleash"),
// authenticated with apiKey: an admin API token or a personal access token.
// It checks its arguments and does no network I/O.
//
// The key is taken as it would be sent: white space around it is dropped,
// and a key given as "Bearer <key>" (in any letter case, as an
// Authorization header holds it) is sent as a bearer token, as with
// WithBearerAuth.
func NewClient(baseURL, apiKey string, opts ...Option) (*Client, error) {
	key, bearer, err := normalizeKey(apiKey)
	if err != nil {
		return nil, invalidArg("NewClient", "%s", err.Error())
	}
	if bearer {
		opts = append(opts, WithBearerAuth())
	}
	return newClient("NewClient", baseURL, key, opts)
}

// NewClientWithoutKey returns a Client that sends no API key, for the calls
// Unleash answers without one: ValidateTokens. Every other method returns
// an ErrInvalidArgument error without sending anything.
func NewClientWithoutKey(baseURL string, opts ...Option) (*Client, error) {
	return newClient("NewClientWithoutKey", baseURL, "", opts)
}

func newClient(op, baseURL, apiKey string, opts []Option) (*Client, error) {
	o := options{
		retryMax:     DefaultRetryMax,
		retryWaitMin: DefaultRetryWaitMin,
		retryWaitMax: DefaultRetryWaitMax,
		userAgent:    "unleashadmin-go/" + Version,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	base, err := parseBaseURL(op, baseURL)
	if err != nil {
		return nil, err
	}
	switch {
	case o.retryMax < 0:
		return nil, invalidArg(op, "WithRetryMax: %d is negative", o.retryMax)
	case o.retryWaitMin < 0 || o.retryWaitMax < o.retryWaitMin:
		return nil, invalidArg(op, "WithRetryWait: need 0 <= min <= max, got %s and %s", o.retryWaitMin, o.retryWaitMax)
	case strings.TrimSpace(o.userAgent) == "" || hasControl(o.userAgent):
		return nil, invalidArg(op, "WithUserAgent: %q is not a usable User-Agent", o.userAgent)
	}
	hc := o.httpClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	c := &Client{
		base:         base,
		baseURL:      strings.TrimSuffix(base.String(), "/"),
		shownURL:     shownBase(base),
		auth:         apiKey,
		key:          apiKey,
		bearer:       o.bearer,
		keyCreds:     []*credSet{newCredSet(apiKey)},
		userAgent:    o.userAgent,
		logger:       o.logger,
		retryWaitMax: o.retryWaitMax,
	}
	if o.bearer && apiKey != "" {
		c.auth = "Bearer " + apiKey
	}
	// A copy, so that the caller's client keeps its own policy.
	own := *hc
	own.CheckRedirect = c.checkRedirect(hc.CheckRedirect)
	c.hc = &own
	c.http = c.engine(o, true)
	c.createHTTP = c.engine(o, false)
	return c, nil
}

// shownBase is the base URL as reports show it: without any user name or
// password, and without a trailing slash.
func shownBase(base *url.URL) string {
	u := *base
	u.User = nil
	return strings.TrimSuffix(u.String(), "/")
}

// hasControl reports whether s holds a control character, which no HTTP
// header value may carry.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// engine returns a go-retryablehttp client with the retry policy for
// idempotent requests or for creates. It logs nothing itself; with a logger,
// a hook logs each attempt.
func (c *Client) engine(o options, idempotent bool) *retryablehttp.Client {
	e := &retryablehttp.Client{
		HTTPClient:   c.hc,
		RetryMax:     o.retryMax,
		RetryWaitMin: o.retryWaitMin,
		RetryWaitMax: o.retryWaitMax,
		CheckRetry:   c.retryPolicy(idempotent),
		Backoff:      backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	if o.logger != nil {
		e.RequestLogHook = c.logAttempt
	}
	return e
}

func parseBaseURL(op, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, invalidArg(op, "baseURL is empty (is UNLEASH_URL set?)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's own error repeats the input, which may carry a password.
		return nil, invalidArg(op, "baseURL is not a valid URL")
	}
	// The messages name only the parts of the URL that cannot hold a
	// credential: with the arguments swapped, baseURL is the key (a
	// personal access token "user:<hex>" parses as a URL), and a query,
	// fragment, path or user information may carry a token too.
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, invalidArg(op, "baseURL: scheme must be http or https, not %q", u.Scheme)
	case u.Hostname() == "":
		return nil, invalidArg(op, "baseURL has no host name")
	case u.User != nil:
		// net/http would send it as Basic auth on a Client without a key:
		// a credential that the echo check does not know of.
		return nil, invalidArg(op, "baseURL must not carry a user name or password (the part before '@'): the API key is the only credential this client sends")
	case strings.ContainsAny(raw, "?#"):
		// Even an empty query ("https://host/?") would take the API path
		// into the query string.
		return nil, invalidArg(op, "baseURL %s://%s...: must not have a query or fragment", u.Scheme, u.Host)
	}
	return u, nil
}

// defaultHTTPClient is a pooled client whose idle pool is large enough for
// many goroutines sharing one Client against one Unleash.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 100
	t.MaxIdleConnsPerHost = 64
	t.ResponseHeaderTimeout = DefaultTimeout
	return &http.Client{Transport: t, Timeout: DefaultTimeout}
}

// CloseIdleConnections closes the connections the Client keeps open
// between calls (those of the http.Client given with WithHTTPClient, when
// one was). Calls made afterwards open new ones. Tests that check for
// leaked goroutines call it when done with a Client.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// BaseURL returns the base URL the Client sends its requests to, as its
// reports show it: without a trailing slash (NewClient refuses a user name
// or password in it).
func (c *Client) BaseURL() string { return c.shownURL }

// Format prints a Client without its API key, for every verb.
func (c *Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "unleashadmin.Client{URL: %s, Auth: %s, Key: [redacted]}", c.shownURL, c.authMode())
}

// LogValue logs a Client without its API key.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.shownURL), slog.String("auth", c.authMode()), slog.String("key", "[redacted]"))
}

// authMode is how the key is sent: "plain", "bearer", or "none" for a
// Client without a key.
func (c *Client) authMode() string {
	switch {
	case c.auth == "":
		return "none"
	case c.bearer:
		return "bearer"
	}
	return "plain"
}

// apiPath is a request path, escaped for the wire, together with the form
// that is safe to report, where every secret is redacted, the secrets the
// request carries (in its path or body), so that echoes of them can be
// redacted too, and how the request may be sent.
type apiPath struct {
	wire, shown string
	creds       []string
	// keyless: Unleash answers it without an API key.
	keyless bool
	// repeatable: a POST that changes nothing, retried like a GET.
	repeatable bool
	// optional: not every Unleash version has the endpoint.
	optional bool
}

// route starts a path with a fixed part, such as "/api/admin/api-tokens".
func route(fixed string) apiPath { return apiPath{wire: fixed, shown: fixed} }

// then appends a fixed part.
func (p apiPath) then(fixed string) apiPath {
	p.wire += fixed
	p.shown += fixed
	return p
}

// param appends one escaped path segment.
func (p apiPath) param(v string) apiPath {
	s := "/" + escapeSegment(v)
	p.wire += s
	p.shown += s
	return p
}

// secret appends a token secret as one escaped segment, redacted when shown.
func (p apiPath) secret(v string) apiPath {
	shown := RedactSecret(v)
	if kept, ok := strings.CutSuffix(shown, "***"); ok {
		shown = escapeSegment(kept) + "***"
	} else {
		shown = escapeSegment(shown)
	}
	p.wire += "/" + escapeSegment(v)
	p.shown += "/" + shown
	return p.carrying(v)
}

// carrying records secrets the request's body carries.
func (p apiPath) carrying(secrets ...string) apiPath {
	p.creds = append(slices.Clip(p.creds), secrets...)
	return p
}

// query appends a query string. The values of the hidden keys are shown as
// "redacted".
func (p apiPath) query(v url.Values, hidden ...string) apiPath {
	p.wire += "?" + v.Encode()
	for _, k := range hidden {
		if v.Has(k) {
			v = maps.Clone(v)
			v.Set(k, "redacted")
		}
	}
	p.shown += "?" + v.Encode()
	return p
}

// withoutKey marks an endpoint that Unleash answers without an API key
// and that changes nothing, so that it is retried like a GET.
func (p apiPath) withoutKey() apiPath {
	p.keyless, p.repeatable = true, true
	return p
}

// notInEveryVersion marks an endpoint that older Unleash versions lack, so
// that their 404 for it matches ErrNotSupported.
func (p apiPath) notInEveryVersion() apiPath {
	p.optional = true
	return p
}

// escapeSegment escapes v so that it stays one path segment whatever it
// holds: slashes, '?', '#', '%' and the dot segments are all encoded.
func escapeSegment(v string) string {
	switch v {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(v)
}

// call is what the logging hook needs to know about a request; with a
// logger, it travels in the request's context.
type call struct {
	method string
	path   string // shown form
}

type callKey struct{}

// do sends one API request and decodes a success body into out (which may be
// nil). Every endpoint goes through here.
func (c *Client) do(ctx context.Context, method string, p apiPath, in, out any) error {
	if ctx == nil {
		return invalidArg(method+" "+p.shown, "nil context")
	}
	if c.auth == "" && !p.keyless {
		return invalidArg(method+" "+p.shown, "this Client has no API key (NewClientWithoutKey); the call needs one")
	}
	var info *call
	if c.logger != nil {
		info = &call{method: method, path: p.shown}
		ctx = context.WithValue(ctx, callKey{}, info)
	}
	req, err := c.newRequest(ctx, method, p, in)
	if err != nil {
		return err
	}
	engine := c.http
	if method == http.MethodPost && !p.repeatable {
		engine = c.createHTTP
	}
	start := time.Now()
	resp, err := engine.Do(req)
	if err != nil {
		if resp != nil {
			drainClose(resp.Body)
		}
		err = c.requestFailed(method, p, err)
		if c.logger != nil {
			c.log(ctx, slog.LevelDebug, "request failed", info, slog.Duration("elapsed", time.Since(start)), slog.String("error", err.Error()))
		}
		return err
	}
	if resp.StatusCode < 200 {
		// A 101 hands over the raw connection, which no context bounds:
		// close it without reading.
		_ = resp.Body.Close()
		return fmt.Errorf("unleashadmin: %s %s: %w: %d %s is not an answer Unleash sends (is something in front of it?)",
			method, p.shown, ErrUnexpectedResponse, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	defer drainClose(resp.Body)
	if c.logger != nil { // the attributes would cost allocations for nothing
		c.log(ctx, slog.LevelDebug, "response", info, slog.Int("status", resp.StatusCode), slog.Duration("elapsed", time.Since(start)))
	}
	if resp.StatusCode > 299 {
		e := newAPIError(method, c.shownURL, p.shown, resp)
		e.clean(c.credSets(p))
		switch {
		case e.routeMissing() && p.optional:
			e.unsupported = true
			e.hint = "this Unleash does not have " + strings.SplitN(p.shown, "?", 2)[0] + ": it came with a later version"
		case e.routeMissing():
			e.hint = "Unleash has no such route: is the base URL " + c.shownURL + " right?"
		}
		return e
	}
	if out == nil {
		err = checkNoBody(method, p.shown, resp)
	} else {
		err = decodeBody(method, p.shown, resp, out)
	}
	if err != nil {
		return cleanErr(c.credSets(p), err)
	}
	return nil
}

// credSets returns the credentials of a request: the API key's and those
// the request carries. It builds the latter only when called, on the path
// of an error, so that a successful call pays nothing.
func (c *Client) credSets(p apiPath) []*credSet {
	if len(p.creds) == 0 {
		return c.keyCreds
	}
	return append(slices.Clip(c.keyCreds), newCredSet(p.creds...))
}

// requestFailed turns what the engine returned without a response into the
// error a caller gets: a *RedirectError for a refused redirect, a
// *RequestError otherwise, with credentials cleaned from its text.
func (c *Client) requestFailed(method string, p apiPath, err error) error {
	sets := c.credSets(p)
	err = unwrapURLError(err)
	var refused *redirectRefusal
	if errors.As(err, &refused) {
		re := &RedirectError{Method: method, URL: c.shownURL + p.shown, StatusCode: refused.status, Reason: refused.reason}
		if refused.to != nil {
			re.Location, re.SuggestedBaseURL = shownLocation(sets, p, refused.to)
		}
		return re
	}
	return &RequestError{Method: method, URL: c.shownURL + p.shown, Err: cleanErr(sets, err)}
}

// shownLocation is where a redirect pointed, as a report may show it:
// without user information, with the request's own path in its shown form
// (secrets redacted, hidden query values too) when the location ends with
// it, and otherwise without its query. It also returns the base URL that
// the location suggests, when it ends with the request's path.
func shownLocation(sets []*credSet, p apiPath, to *url.URL) (location, base string) {
	u := *to
	u.User = nil
	full := u.String()
	if prefix, ok := strings.CutSuffix(full, p.wire); ok {
		base = cleanOrDrop(sets, strings.TrimSuffix(prefix, "/"))
		return base + p.shown, base
	}
	if u.RawQuery != "" {
		u.RawQuery = "..."
	}
	u.Fragment = ""
	return cleanOrDrop(sets, u.String()), ""
}

// cleanOrDrop is text cleaned of the credentials of sets, or droppedText.
func cleanOrDrop(sets []*credSet, text string) string {
	if cleaned, ok := clean(sets, text); ok {
		return cleaned
	}
	return droppedText
}

func (c *Client) newRequest(ctx context.Context, method string, p apiPath, in any) (*retryablehttp.Request, error) {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return nil, invalidArg(method+" "+p.shown, "request body: %v", err)
		}
	}
	var raw any
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, c.baseURL+p.wire, raw)
	if err != nil {
		return nil, invalidArg(method+" "+p.shown, "cannot build the request")
	}
	h := req.Header
	if c.auth != "" {
		h.Set("Authorization", c.auth)
	}
	h.Set("Accept", "application/json")
	h.Set("User-Agent", c.userAgent)
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return req, nil
}

// logAttempt is go-retryablehttp's hook before every attempt.
func (c *Client) logAttempt(_ retryablehttp.Logger, req *http.Request, attempt int) {
	info, _ := req.Context().Value(callKey{}).(*call)
	if info == nil {
		return
	}
	msg := "sending request"
	if attempt > 0 {
		msg = "retrying request"
	}
	c.log(req.Context(), slog.LevelDebug, msg, info, slog.Int("attempt", attempt+1))
}

func (c *Client) log(ctx context.Context, level slog.Level, msg string, info *call, attrs ...slog.Attr) {
	if c.logger == nil || !c.logger.Enabled(ctx, level) {
		return
	}
	// A name in the path is the caller's text: the key given as a name
	// must not reach the log.
	attrs = append([]slog.Attr{slog.String("method", info.method), slog.String("path", cleanOrDrop(c.keyCreds, info.path))}, attrs...)
	c.logger.LogAttrs(ctx, level, "unleashadmin: "+msg, attrs...)
}

// unwrapURLError drops net/http's *url.Error, whose text repeats the full
// request URL and so any secret in its path; RequestError reports the
// redacted URL instead.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// decodeBody reads a bounded success body and decodes it as JSON into out.
// An out that is a salvager (a create's answer) is read and decoded
// whatever its Content-Type and however it ends (cut short, or going on
// past MaxResponseBytes, of which it gets the first maxSalvageBytes), so
// that a secret that arrived is kept; the error still says what was wrong.
func decodeBody(method, path string, resp *http.Response, out any) error {
	fail := func(cause error, format string, args ...any) error {
		what := fmt.Sprintf(format, args...)
		if cause != nil {
			// The cause is wrapped too, so that errors.Is sees a context's
			// deadline or a reset connection that cut the body.
			return fmt.Errorf("unleashadmin: %s %s: %d response: %w: %s%w", method, path, resp.StatusCode, ErrUnexpectedResponse, what, cause)
		}
		return fmt.Errorf("unleashadmin: %s %s: %d response: %w: %s", method, path, resp.StatusCode, ErrUnexpectedResponse, what)
	}
	salvage, salvaging := out.(salvager)
	ct := resp.Header.Get("Content-Type")
	notJSON := ct != "" && !isJSON(ct)
	if notJSON && !salvaging {
		return fail(nil, "expected a JSON body, got %q (is a proxy or login page in front of Unleash?)", mediaType(ct))
	}
	data, err := readBounded(resp.Body, resp.ContentLength, MaxResponseBytes)
	if salvaging && errors.Is(err, errTooLarge) {
		// A create's answer is the new token, which may open a body too
		// large to read whole: look at its start, of what was read or, when
		// the declared length refused it unread, of what comes.
		if data == nil {
			data, _ = readBounded(resp.Body, -1, maxSalvageBytes)
		}
		data = data[:min(len(data), maxSalvageBytes)]
	}
	var decodeErr error
	if salvaging {
		decodeErr = salvage.decodeSalvaging(data)
	} else if err == nil {
		decodeErr = json.Unmarshal(data, out)
	}
	switch {
	case notJSON:
		return fail(nil, "expected a JSON body, got %q (is a proxy or login page in front of Unleash?)", mediaType(ct))
	case err != nil:
		return fail(err, "")
	case decodeErr != nil:
		return fail(nil, "invalid JSON: %v", decodeErr)
	}
	// Valid JSON of another shape (a proxy's {"status":"ok"}, null) leaves
	// out empty; a body without what Unleash always sends is refused.
	if s, ok := out.(interface{ missing() string }); ok {
		if what := s.missing(); what != "" {
			return fail(nil, "%s", what)
		}
	}
	// Every Unleash answers a create it carried out with 201; a 200 or a
	// 202 with a token in it comes from something else (a cache replaying
	// an earlier answer, a queue that has not made it yet). What it holds
	// is kept (the create returns it with this error), but not trusted.
	if salvaging && resp.StatusCode != http.StatusCreated {
		return fail(nil, "a create is answered 201 Created, not %d %s (is something in front of Unleash?)", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return nil
}

// checkNoBody checks the success answer of a call that changes a token and
// needs no body (update, delete): it says the change is done only when the
// answer is the one Unleash gives to a change it made. Every captured
// version answers 200 with no Content-Type and no body; 204 No Content says
// the same in HTTP's own words, and a gateway that labels every answer JSON
// adds nothing to an empty one. Anything else did not come from Unleash
// making the change: 202 Accepted means queued, not done; 203, 205, 206 and
// the unnamed 2xx are answers Unleash never gives; a body, or a page's
// Content-Type even over an empty body (a proxy's empty text/html page),
// means something else answered. A refused answer's body is closed unread,
// so that a stalled or endless one costs no wait.
func checkNoBody(method, path string, resp *http.Response) error {
	fail := func(format string, args ...any) error {
		_ = resp.Body.Close()
		return fmt.Errorf("unleashadmin: %s %s: %d response: %w: %s (is a proxy or login page in front of Unleash?)",
			method, path, resp.StatusCode, ErrUnexpectedResponse, fmt.Sprintf(format, args...))
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
	case http.StatusAccepted:
		return fail("202 Accepted means the change was queued, not made; Unleash answers a change it made with 200")
	default:
		return fail("%s is not an answer Unleash gives to a change; it answers 200", strings.TrimSpace(fmt.Sprint(resp.StatusCode, " ", http.StatusText(resp.StatusCode))))
	}
	if cts := resp.Header.Values("Content-Type"); len(cts) > 0 && !isJSON(cts[0]) {
		return fail("expected no body, got a %q answer", mediaType(cts[0]))
	}
	if resp.ContentLength == 0 {
		return nil
	}
	var first [1]byte
	if n, _ := io.ReadFull(resp.Body, first[:]); n == 0 {
		return nil
	}
	return fail("expected no body, got a body")
}

var errTooLarge = errors.New("body is larger than the limit")

// maxSalvageBytes is how much of the start of a create's answer over
// MaxResponseBytes is searched for the new token. Unleash's answer is under
// 1 KB; the bound keeps the search of a hostile body short.
const maxSalvageBytes = 1 << 20

// maxPrealloc bounds the buffer reserved for a body from its declared
// Content-Length: memory grows with the bytes that arrive, not with what a
// server claims it will send.
const maxPrealloc = 64 << 10

// readBounded reads at most limit bytes; a longer body is an error, and
// comes with its first limit bytes. When reading fails part way, it returns
// what arrived together with the error. A declared size over the limit is
// an error before anything is read.
// The buffer starts at no more than maxPrealloc and grows with what has
// arrived (four times, towards a declared size; twice, past one or without
// one), never past a declared size that has not been passed: an honest
// Content-Length ends in a buffer of exactly its size after at most a few
// copies, and a false one costs no more than four times what was sent.
func readBounded(r io.Reader, size int64, limit int64) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("%w of %d bytes (Content-Length %d)", errTooLarge, limit, size)
	}
	// One byte more than the declared size, so that reading up to it and
	// then seeing EOF needs no second buffer.
	want := int64(bytes.MinRead)
	if size > 0 {
		want = min(size+1, maxPrealloc)
	}
	buf := make([]byte, 0, want)
	for {
		if len(buf) == cap(buf) {
			next := 2 * int64(cap(buf))
			if size > 0 && int64(cap(buf)) <= size {
				next = min(4*int64(cap(buf)), size+1)
			}
			grown := make([]byte, len(buf), min(next, limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return buf[:limit], fmt.Errorf("%w of %d bytes", errTooLarge, limit)
		}
		switch {
		case err == io.EOF:
			return buf, nil
		case err != nil:
			return buf, fmt.Errorf("reading the body: %w", err)
		}
	}
}

func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func isJSON(contentType string) bool {
	mt := mediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// drainClose reads what is left of a body, up to a bound, so the connection
// can be reused, and closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrainBytes))
	_ = body.Close()
}

// Ptr returns a pointer to v, for optional fields such as ExpiresAt.
func Ptr[T any](v T) *T { return &v }
