package unleashadmin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Sentinels matched by errors.Is against an *APIError with that status.
var (
	// ErrBadRequest is a 400: the body or a value was refused, for example
	// an unknown environment or project, or the token type "admin" (on
	// Unleash 7 and 8).
	ErrBadRequest = errors.New("unleashadmin: bad request")
	// ErrUnauthorized is a 401: no key, or a key Unleash does not know.
	ErrUnauthorized = errors.New("unleashadmin: unauthorized")
	// ErrForbidden is a 403: a client, backend or frontend token used as the
	// admin key, or a personal access token without the permission.
	ErrForbidden = errors.New("unleashadmin: forbidden")
	// ErrNotFound is a 404: an unknown project, or a project token delete of
	// a secret Unleash does not hold.
	ErrNotFound = errors.New("unleashadmin: not found")
	// ErrUnsupportedMediaType is a 415. This client always sends
	// application/json; a 415 means something in between changed it.
	ErrUnsupportedMediaType = errors.New("unleashadmin: unsupported media type")
	// ErrRateLimited is a 429 that outlasted the retries, or whose
	// Retry-After asked for a longer wait than the retry-wait maximum.
	ErrRateLimited = errors.New("unleashadmin: rate limited")
)

// ErrInvalidArgument is matched by errors.Is for input refused before any
// request was sent. The error's text says which argument is wrong.
var ErrInvalidArgument = errors.New("invalid argument")

// ErrUnexpectedResponse is matched by errors.Is for an answer that is not
// what Unleash sends: a success status whose body is not JSON (an HTML
// login page of a proxy), JSON of the wrong shape, a truncated body, a body
// larger than MaxResponseBytes, an informational (1xx) status as the final
// answer, or an update or delete answered otherwise than Unleash answers a
// change it made (200 or 204 without a body): 202 Accepted, which means
// the change is not done yet, another 2xx, a body, or an empty page.
var ErrUnexpectedResponse = errors.New("unexpected response")

// ErrNotSupported is matched by errors.Is when the server lacks what a call
// needs: an endpoint older Unleash versions do not have (the event search
// before Unleash 6, a 404 that also matches ErrNotFound), or the backend
// token type before Unleash 7.1 (a 400 that also matches ErrBadRequest).
var ErrNotSupported = errors.New("not supported by this Unleash server")

var sentinels = map[int]error{
	http.StatusBadRequest:           ErrBadRequest,
	http.StatusUnauthorized:         ErrUnauthorized,
	http.StatusForbidden:            ErrForbidden,
	http.StatusNotFound:             ErrNotFound,
	http.StatusUnsupportedMediaType: ErrUnsupportedMediaType,
	http.StatusTooManyRequests:      ErrRateLimited,
}

func invalidArg(op, format string, args ...any) error {
	return fmt.Errorf("unleashadmin: %s: %w: %s", op, ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// ErrorDetail is one entry of the "details" list in an Unleash error body.
// Path names the offending field, such as "/body/type", when Unleash gives
// one.
type ErrorDetail struct {
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

// APIError is a response with a status outside 2xx. It is parsed from every
// body shape Unleash sends (with or without "id", "message" alone, empty) and
// from non-JSON bodies such as a proxy's HTML page, which leave the parsed
// fields empty. Use errors.Is with the Err* sentinels to branch on the
// status, and errors.As to read the details.
type APIError struct {
	StatusCode int
	Method     string
	// URL is the request URL with every secret redacted.
	URL string
	// ID, Name, Message and Details are Unleash's own: ID is the error's
	// UUID (absent on handler errors), Name its class (BadDataError,
	// PermissionError, NotFoundError, ...).
	ID      string
	Name    string
	Message string
	Details []ErrorDetail
	// Body is the raw response body, at most MaxErrorBodyBytes of it, with
	// the request's API key and token secrets redacted where it repeats
	// them (Unleash's 404 for an unknown route quotes the path). A body
	// that repeats a credential in a form that cannot be cleaned safely is
	// dropped (nil), and Error says so.
	Body []byte
	// Header holds the response's headers, such as Retry-After or a
	// proxy's request ID, without Set-Cookie. A header that repeats a
	// credential is dropped.
	Header http.Header

	path        string // redacted path, for Error
	hint        string // what the client knows about the cause, for Error
	unsupported bool   // the server lacks what the call needs (ErrNotSupported)
	dropped     bool   // a text of the response was removed: it repeated a credential
}

// Error reads like "unleashadmin: POST /api/admin/api-tokens: 400 Bad
// Request: BadDataError: Environment=nope does not exist".
func (e *APIError) Error() string {
	var b strings.Builder
	path := e.path
	if path == "" {
		path = e.URL
	}
	fmt.Fprintf(&b, "unleashadmin: %s %s: %d %s", e.Method, path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Name != "" {
		b.WriteString(": " + e.Name)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	for _, d := range e.Details {
		if d.Message == "" || strings.Contains(e.Message, d.Message) {
			continue
		}
		b.WriteString("; ")
		if d.Path != "" && !strings.Contains(d.Message, d.Path) {
			b.WriteString(d.Path + ": ")
		}
		b.WriteString(d.Message)
	}
	if e.Name == "" && e.Message == "" && len(e.Details) == 0 {
		switch {
		case e.dropped:
		case len(e.Body) == 0:
			b.WriteString(" (empty body)")
		default:
			b.WriteString(" (no Unleash error in the body)")
		}
	}
	if e.hint != "" {
		b.WriteString(" (" + e.hint + ")")
	}
	if e.dropped {
		b.WriteString(" (part of the answer was removed: it repeated a credential)")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) and the like match by status, and
// ErrNotSupported match when the server lacks what the call needs.
func (e *APIError) Is(target error) bool {
	if target == ErrNotSupported {
		return e.unsupported
	}
	s, ok := sentinels[e.StatusCode]
	return ok && s == target
}

// routeMissing reports whether e is Unleash's 404 for a path it has no
// route for (the body quotes the path: "The path you were looking for ...
// is not available."), as opposed to a 404 for something the route looked
// up, such as "No project found".
func (e *APIError) routeMissing() bool {
	return e.StatusCode == http.StatusNotFound && strings.HasPrefix(e.Message, "The path you were looking for")
}

// newAPIError reads a bounded part of an error response and parses what it
// can. It never fails: an unreadable or non-JSON body leaves the fields empty.
func newAPIError(method, baseURL, path string, resp *http.Response) *APIError {
	// The response is the client's alone and is not read again: its
	// header map is taken as it is.
	e := &APIError{StatusCode: resp.StatusCode, Method: method, URL: baseURL + path, path: path, Header: resp.Header}
	for k := range e.Header {
		// Any spelling of the name: a transport may hand keys as sent.
		if strings.EqualFold(k, "Set-Cookie") {
			delete(e.Header, k)
		}
	}
	// A longer body is cut; the caller drains and closes the rest.
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBodyBytes))
	if len(body) > 0 {
		e.Body = body
	}
	// The usual body decodes in one pass; an odd one (details that are not
	// a list of objects) falls back to the two passes below.
	var whole struct {
		ID      string        `json:"id"`
		Name    string        `json:"name"`
		Message string        `json:"message"`
		Details []ErrorDetail `json:"details"`
	}
	if json.Unmarshal(body, &whole) == nil {
		e.ID, e.Name, e.Message, e.Details = whole.ID, whole.Name, whole.Message, whole.Details
		return e
	}
	var parsed struct {
		ID      string          `json:"id"`
		Name    string          `json:"name"`
		Message string          `json:"message"`
		Details json.RawMessage `json:"details"`
	}
	if json.Unmarshal(body, &parsed) != nil {
		return e
	}
	e.ID, e.Name, e.Message = parsed.ID, parsed.Name, parsed.Message
	// Details are decoded on their own so that an odd entry does not cost
	// the message.
	var details []ErrorDetail
	if json.Unmarshal(parsed.Details, &details) == nil {
		e.Details = details
	}
	return e
}

// clean hides the request's credentials wherever the response repeated
// them, and drops a text where they cannot be hidden safely. Every text but
// the headers comes from the body, and the check undoes JSON's escapes, so
// a body and headers that show no credential need nothing more.
func (e *APIError) clean(sets []*credSet) {
	if !echoedIn(sets, e.Body) && !e.headerEchoes(sets) {
		return
	}
	text := func(s *string) {
		if cleaned, ok := clean(sets, *s); !ok {
			*s, e.dropped = droppedText, true
		} else {
			*s = cleaned
		}
	}
	text(&e.ID)
	text(&e.Name)
	text(&e.Message)
	for i := range e.Details {
		text(&e.Details[i].Message)
		text(&e.Details[i].Path)
	}
	if body := string(e.Body); body != "" {
		if cleaned, ok := clean(sets, body); !ok {
			e.Body, e.dropped = nil, true
		} else if cleaned != body {
			e.Body = []byte(cleaned)
		}
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			if echoed(sets, k, v) {
				delete(e.Header, k) // the key as it is, canonical or not
				e.dropped = true
				break
			}
		}
	}
}

// headerEchoes reports whether a header of e shows a credential of sets.
func (e *APIError) headerEchoes(sets []*credSet) bool {
	for k, vs := range e.Header {
		for _, v := range vs {
			if echoed(sets, k, v) {
				return true
			}
		}
	}
	return false
}

// RequestError is a request that got no HTTP response: the connection failed,
// the context ended, or the retries ran out on connection errors. Err is the
// cause; errors.Is(err, context.DeadlineExceeded) and the like see through it.
type RequestError struct {
	Method string
	// URL is the request URL with every secret redacted.
	URL string
	Err error
}

// Error reads like "unleashadmin: GET https://unleash.example.com/api/admin/api-tokens:
// dial tcp ...: connection refused", with secrets redacted.
func (e *RequestError) Error() string {
	return fmt.Sprintf("unleashadmin: %s %s: %v", e.Method, e.URL, e.Err)
}

// Unwrap returns the cause, so that errors.Is sees a context's deadline or
// a refused connection through a RequestError.
func (e *RequestError) Unwrap() error { return e.Err }

// RedirectError is a redirect the client did not follow: for a request
// other than a GET (a PUT or DELETE would be re-sent as a GET and reported
// as done; a create might be made twice), or to another scheme, host or
// port than the base URL's (the request carries the API key). Nothing was
// sent to where the redirect points. Change the base URL to where Unleash
// really is.
type RedirectError struct {
	Method string
	// URL is the request URL with every secret redacted.
	URL string
	// StatusCode is the redirect's status, such as 301 or 307.
	StatusCode int
	// Location is where the server pointed, with secrets redacted.
	Location string
	// Reason says why the redirect was not followed.
	Reason string
	// SuggestedBaseURL is Location without the request's path, when
	// Location ends with it: the base URL that would reach Unleash.
	SuggestedBaseURL string
}

// Error says where the server pointed, why the redirect was not followed
// and which base URL to use, with secrets redacted.
func (e *RedirectError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "unleashadmin: %s %s: %d %s to %s, not followed: %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode), e.Location, e.Reason)
	if e.SuggestedBaseURL != "" {
		fmt.Fprintf(&b, "; if Unleash moved there, use the base URL %s", e.SuggestedBaseURL)
	} else {
		b.WriteString("; set the base URL to where Unleash answers without a redirect")
	}
	return b.String()
}
