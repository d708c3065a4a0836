// Package unleashadmin is a client for the API-token endpoints of Unleash's
// Admin API: create, list, look up, expire and delete the tokens that Unleash
// SDKs, Edge and frontends use.
//
// Every call takes a context, returns typed values and reports every failure
// as an error value: [*APIError] for a response Unleash (or a proxy in front
// of it) refused, matched by errors.Is against [ErrUnauthorized],
// [ErrForbidden], [ErrUnsupportedMediaType], [ErrBadRequest], [ErrNotFound]
// and [ErrRateLimited]; [ErrInvalidArgument] for bad input, caught before any
// request is sent; [ErrUnexpectedResponse] for a success response that is not
// what Unleash sends.
//
// The API key and token secrets are kept out of error strings, log lines,
// reported URLs and the printed form of every type in this package.
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
	"net"
	"net/http"
	"net/url"
	"strconv"
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
	baseURL   string // scheme://host[:port][/sub-path], no trailing slash
	shownURL  string // baseURL without any user:password, for reports
	auth      string // the Authorization header value; a credential
	bearer    bool
	userAgent string
	logger    *slog.Logger
	// http sends GET, PUT and DELETE; createHTTP sends the create POSTs,
	// under a stricter retry policy. Both share one *http.Client.
	http, createHTTP *retryablehttp.Client
	retryWaitMax     time.Duration
	// keyNeedles are what an echo of the API key contains (see needles).
	keyNeedles []string
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

// WithHTTPClient makes the Client send its requests through hc, for a custom
// transport, proxy or TLS configuration. hc's Timeout and redirect policy
// apply to each attempt. Without it the Client uses its own http.Client with
// DefaultTimeout.
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
func NewClient(baseURL, apiKey string, opts ...Option) (*Client, error) {
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
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(apiKey) == "":
		return nil, invalidArg("NewClient", "apiKey is empty")
	case strings.ContainsAny(apiKey, "\r\n"):
		return nil, invalidArg("NewClient", "apiKey contains a line break")
	case o.retryMax < 0:
		return nil, invalidArg("NewClient", "WithRetryMax: %d is negative", o.retryMax)
	case o.retryWaitMin < 0 || o.retryWaitMax < o.retryWaitMin:
		return nil, invalidArg("NewClient", "WithRetryWait: need 0 <= min <= max, got %s and %s", o.retryWaitMin, o.retryWaitMax)
	case o.userAgent == "" || strings.ContainsAny(o.userAgent, "\r\n"):
		return nil, invalidArg("NewClient", "WithUserAgent: %q is not a usable User-Agent", o.userAgent)
	}
	hc := o.httpClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	c := &Client{
		baseURL:   strings.TrimSuffix(base.String(), "/"),
		shownURL:  strings.TrimSuffix(base.Redacted(), "/"),
		auth:      apiKey,
		bearer:    o.bearer,
		userAgent: o.userAgent,
		logger:    o.logger,
	}
	if o.bearer {
		c.auth = "Bearer " + apiKey
	}
	c.keyNeedles = needles(apiKey)
	c.retryWaitMax = o.retryWaitMax
	c.http = c.engine(hc, o, true)
	c.createHTTP = c.engine(hc, o, false)
	return c, nil
}

// engine returns a go-retryablehttp client with the retry policy for
// idempotent requests or for creates. It logs nothing itself; with a logger,
// a hook logs each attempt.
func (c *Client) engine(hc *http.Client, o options, idempotent bool) *retryablehttp.Client {
	e := &retryablehttp.Client{
		HTTPClient:   hc,
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

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url's own error repeats the input, which may carry a password.
		return nil, invalidArg("NewClient", "baseURL is not a valid URL")
	}
	// The messages name only the parts of the URL that cannot hold a
	// credential: with the arguments swapped, baseURL is the key (a
	// personal access token "user:<hex>" parses as a URL), and a query,
	// fragment or path may carry a token too.
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalidArg("NewClient", "baseURL: scheme must be http or https, not %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, invalidArg("NewClient", "baseURL has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, invalidArg("NewClient", "baseURL %s://%s...: must not have a query or fragment", u.Scheme, u.Host)
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

// Format prints a Client without its API key, for every verb.
func (c *Client) Format(f fmt.State, verb rune) {
	auth := "plain"
	if c.bearer {
		auth = "bearer"
	}
	fmt.Fprintf(f, "unleashadmin.Client{URL: %s, Auth: %s, Key: [redacted]}", c.shownURL, auth)
}

// LogValue logs a Client without its API key.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.shownURL), slog.String("key", "[redacted]"))
}

// apiPath is a request path, escaped for the wire, together with the form
// that is safe to report, where every secret is redacted, and the secret it
// carries (cred), if any, so that echoes of it can be redacted too.
type apiPath struct{ wire, shown, cred string }

// route starts a path with a fixed part, such as "/api/admin/api-tokens".
func route(fixed string) apiPath { return apiPath{wire: fixed, shown: fixed} }

// then appends a fixed part.
func (p apiPath) then(fixed string) apiPath {
	return apiPath{p.wire + fixed, p.shown + fixed, p.cred}
}

// param appends one escaped path segment.
func (p apiPath) param(v string) apiPath {
	s := "/" + escapeSegment(v)
	return apiPath{p.wire + s, p.shown + s, p.cred}
}

// secret appends a token secret as one escaped segment, redacted when shown.
func (p apiPath) secret(v string) apiPath {
	shown := RedactSecret(v)
	if kept, ok := strings.CutSuffix(shown, "***"); ok {
		shown = escapeSegment(kept) + "***"
	} else {
		shown = escapeSegment(shown)
	}
	return apiPath{p.wire + "/" + escapeSegment(v), p.shown + "/" + shown, v}
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
	if method == http.MethodPost {
		engine = c.createHTTP
	}
	start := time.Now()
	resp, err := engine.Do(req)
	if err != nil {
		if resp != nil {
			drainClose(resp.Body)
		}
		err = &RequestError{Method: method, URL: c.shownURL + p.shown, Err: c.redactErr(unwrapURLError(err), p)}
		if c.logger != nil {
			c.log(ctx, slog.LevelDebug, "request failed", info, slog.Duration("elapsed", time.Since(start)), slog.String("error", err.Error()))
		}
		return err
	}
	defer drainClose(resp.Body)
	if c.logger != nil { // the attributes would cost allocations for nothing
		c.log(ctx, slog.LevelDebug, "response", info, slog.Int("status", resp.StatusCode), slog.Duration("elapsed", time.Since(start)))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := newAPIError(method, c.shownURL, p.shown, resp)
		if c.echoed(p, e.texts()...) {
			e.redact(c.redactor(p))
		}
		return e
	}
	if out == nil {
		return c.redactErr(checkNoBody(method, p.shown, resp), p)
	}
	return c.redactErr(decodeBody(method, p.shown, resp, out), p)
}

// redactor hides the credentials of a request in text that a server, a
// proxy or net/http echoed back (Unleash's 404 repeats the path, secret
// included; a malformed response is quoted in net/http's error): the API
// key and the path's token secret, whole or their random part alone, raw or
// escaped. Each is replaced by its RedactSecret form.
func (c *Client) redactor(p apiPath) *strings.Replacer {
	key := c.auth
	if c.bearer {
		key = strings.TrimPrefix(key, "Bearer ")
	}
	var pairs []string
	// Whole credentials first: at one position the first match wins.
	for _, cred := range []string{key, p.cred} {
		if len(cred) < minRedacted {
			continue
		}
		for _, form := range []string{cred, url.PathEscape(cred), url.QueryEscape(cred)} {
			pairs = append(pairs, form, RedactSecret(cred))
		}
	}
	for _, cred := range []string{key, p.cred} {
		_, random, ok := splitSecret(cred)
		if !ok {
			continue
		}
		for _, form := range []string{random, url.PathEscape(random), url.QueryEscape(random)} {
			pairs = append(pairs, form, random[:4]+"***")
		}
	}
	return strings.NewReplacer(pairs...)
}

// needles returns the strings that every echo of cred the redactor
// replaces contains: its random part (or, without one, cred itself), raw and
// escaped. None for a credential too short to search for.
func needles(cred string) []string {
	_, n, ok := splitSecret(cred)
	if !ok {
		if len(cred) < minRedacted {
			return nil
		}
		n = cred
	}
	return []string{n, url.PathEscape(n), url.QueryEscape(n)}
}

// echoed reports whether any of texts holds a credential of the request, so
// that the common error response costs no redaction work.
func (c *Client) echoed(p apiPath, texts ...string) bool {
	forms := c.keyNeedles
	if p.cred != "" {
		forms = append(needles(p.cred), forms...)
	}
	for _, f := range forms {
		for _, t := range texts {
			if strings.Contains(t, f) {
				return true
			}
		}
	}
	return false
}

// minRedacted is the length below which a credential is not searched for in
// echoed text: replacing a two-letter key everywhere would garble messages
// and protect nothing.
const minRedacted = 8

// redactErr returns err, or a stand-in with the request's credentials
// removed from its text when it held one. The replacer is built only for an
// error, so a successful call pays nothing.
func (c *Client) redactErr(err error, p apiPath) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if hidden := c.redactor(p).Replace(msg); hidden != msg {
		return &redactedError{msg: hidden, orig: err}
	}
	return err
}

// redactedError stands for an error whose text held a credential. It gives
// the redacted text and answers errors.Is as the original does (a context's
// deadline, ErrUnexpectedResponse), but does not unwrap to the original:
// code that walks the chain, such as an error reporter, would print its
// text.
type redactedError struct {
	msg  string
	orig error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }

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
	h.Set("Authorization", c.auth)
	h.Set("Accept", "application/json")
	h.Set("User-Agent", c.userAgent)
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return req, nil
}

// retryPolicy is the retry policy: idempotent requests (GET, PUT, DELETE)
// are retried on connection errors, 429 and 5xx (but 501); a create POST
// only on 429 and on connection errors that prove the request never left
// this machine. A 429 whose Retry-After is longer than the retry-wait
// maximum is not retried.
func (c *Client) retryPolicy(idempotent bool) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return false, ctxErr
		}
		if err != nil {
			if !idempotent {
				return notSent(err), nil
			}
			retry, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
			return retry, nil
		}
		switch code := resp.StatusCode; {
		case code == http.StatusTooManyRequests:
			wait, ok := retryAfter(resp)
			return !ok || wait <= c.retryWaitMax, nil
		case idempotent && code >= 500 && code != http.StatusNotImplemented:
			return true, nil
		}
		return false, nil
	}
}

// notSent reports whether err proves the request never reached a server:
// the connection could not be made or the host could not be resolved.
func notSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// backoff waits as long as a 429 or 503 asks in Retry-After, at most max,
// and otherwise exponentially from min to max.
func backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if wait, ok := retryAfter(resp); ok {
			return clamp(wait, 0, max)
		}
	}
	return retryablehttp.DefaultBackoff(min, max, attempt, nil)
}

func clamp(d, lo, hi time.Duration) time.Duration { return max(lo, min(d, hi)) }

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			return 24 * time.Hour, true
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
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
	attrs = append([]slog.Attr{slog.String("method", info.method), slog.String("path", info.path)}, attrs...)
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
func decodeBody(method, path string, resp *http.Response, out any) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("unleashadmin: %s %s: %d response: %w: %s", method, path, resp.StatusCode, ErrUnexpectedResponse, fmt.Sprintf(format, args...))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !isJSON(ct) {
		return bad("expected a JSON body, got %q (is a proxy or login page in front of Unleash?)", mediaType(ct))
	}
	data, err := readBounded(resp.Body, resp.ContentLength, MaxResponseBytes)
	if err != nil {
		// The cause is wrapped too, so that errors.Is sees a context's
		// deadline or a reset connection that cut the body.
		return fmt.Errorf("unleashadmin: %s %s: %d response: %w: %w", method, path, resp.StatusCode, ErrUnexpectedResponse, err)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return bad("invalid JSON: %v", err)
	}
	// Valid JSON of another shape (a proxy's {"status":"ok"}, null) leaves
	// out empty; a body without what Unleash always sends is refused.
	if s, ok := out.(interface{ missing() string }); ok {
		if what := s.missing(); what != "" {
			return bad("%s", what)
		}
	}
	return nil
}

// checkNoBody checks the success response of a call that needs no body.
// Unleash sends none; a non-JSON page in its place (a proxy's login page
// answered with 200) means the request never reached Unleash.
func checkNoBody(method, path string, resp *http.Response) error {
	ct := resp.Header.Get("Content-Type")
	if ct == "" || isJSON(ct) || resp.ContentLength == 0 {
		return nil
	}
	var first [1]byte
	if n, _ := io.ReadFull(resp.Body, first[:]); n == 0 {
		return nil
	}
	return fmt.Errorf("unleashadmin: %s %s: %d response: %w: expected no body, got %q (is a proxy or login page in front of Unleash?)",
		method, path, resp.StatusCode, ErrUnexpectedResponse, mediaType(ct))
}

var errTooLarge = errors.New("body is larger than the limit")

// readBounded reads at most limit bytes; a longer body is an error.
func readBounded(r io.Reader, size int64, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > limit {
		return nil, fmt.Errorf("%w of %d bytes (Content-Length %d)", errTooLarge, limit, size)
	}
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w of %d bytes", errTooLarge, limit)
	}
	return buf.Bytes(), nil
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
