package unleashadmin

// The policies of the transport: which failures are retried, how long to
// wait, which redirects are followed, and which statuses are answers at
// all. Endpoints know nothing of them.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// maxRedirects bounds the redirects a GET follows within the base URL's
// origin, as net/http's default policy does.
const maxRedirects = 10

// retryPolicy is the retry policy: idempotent requests (GET, PUT, DELETE,
// and POSTs that change nothing) are retried on connection errors, 429 and
// 5xx (but 501); a create POST only on 429 and on connection errors that
// prove the request never left this machine. A 429 whose Retry-After is
// longer than the retry-wait maximum is not retried. A redirect that was
// refused and a 1xx answer are never retried.
func (c *Client) retryPolicy(idempotent bool) retryablehttp.CheckRetry {
	return func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctxErr := ctx.Err(); ctxErr != nil {
			if err == nil && resp != nil {
				// The answer arrived as the context ended: it is used (a
				// create's answer holds a live token's secret), not retried.
				return false, nil
			}
			return false, ctxErr
		}
		if err != nil {
			var refused *redirectRefusal
			if errors.As(err, &refused) {
				return false, nil
			}
			if !idempotent {
				return notSent(err), nil
			}
			retry, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
			return retry, nil
		}
		switch code := resp.StatusCode; {
		case code < 200:
			// A 101 hands over the connection: its body is the raw socket,
			// which no context bounds, so nothing may read it.
			return false, nil
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
// Redirects are not followed for a POST, so the host is the base URL's own
// (or the proxy in front of it).
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

// redirectRefusal is why the redirect policy stopped a request; do turns
// it into a *RedirectError.
type redirectRefusal struct {
	status int
	to     *url.URL
	reason string
}

func (r *redirectRefusal) Error() string { return "redirect not followed: " + r.reason }

// checkRedirect is the redirect policy, installed on the Client's copy of
// the http.Client. Only a GET follows a redirect, and only within the base
// URL's scheme, host and port: a PUT or DELETE would be re-sent as a GET
// (and reported as done), a POST might create a token twice, and any
// request carries the API key, which must not leave the base URL's origin
// (net/http keeps Authorization for a subdomain, another port or plain
// http, and puts the previous URL, secret included, in Referer). A
// caller's own CheckRedirect runs after this one.
func (c *Client) checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		status := 0
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		refuse := func(reason string) error {
			return &redirectRefusal{status: status, to: req.URL, reason: reason}
		}
		first := via[0]
		switch {
		case first.Method == http.MethodPost && req.Method == http.MethodPost:
			return refuse("a POST is never re-sent to where a redirect points: a create sent twice could make two tokens")
		case first.Method == http.MethodPost:
			return refuse("a POST is never re-sent to where a redirect points: net/http would send it as a GET, and a create sent twice could make two tokens")
		case first.Method != http.MethodGet && req.Method != first.Method:
			return refuse("a " + first.Method + " is never re-sent to where a redirect points: net/http would send it as a " + req.Method + ", which Unleash would answer as if it were done")
		case first.Method != http.MethodGet:
			return refuse("a " + first.Method + " changes a token and is sent only to the base URL, never to where a redirect points")
		case !sameOrigin(req.URL, c.base):
			return refuse("it leads away from " + origin(c.base) + " and the request carries the API key")
		case len(via) >= maxRedirects:
			return refuse("too many redirects")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// sameOrigin reports whether a and b have the same scheme, host and port.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// origin is scheme://host[:port] of u, without any user information.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }
