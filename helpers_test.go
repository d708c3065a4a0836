package unleashadmin

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
)

const (
	testBase = "http://unleash.test"
	testKey  = "*:*.0123456789abcdef0123456789abcdef-admin-key"
)

// sent is one request as the mock transport received it.
type sent struct {
	Method string
	Path   string // escaped, as on the wire
	Query  url.Values
	Header http.Header
	Body   []byte
}

// reply is what the mock answers: a status, a body and a content type, or an
// error (a failed connection).
type reply struct {
	status int
	body   string
	ctype  string
	header http.Header
	err    error
}

func jsonReply(status int, body string) reply {
	return reply{status: status, body: body, ctype: "application/json; charset=utf-8"}
}

// mock answers requests from a list of replies, the last one repeating, and
// records every request and every response body it hands out, so that a
// test can check what was sent and that each body was closed.
type mock struct {
	t       testing.TB
	mu      sync.Mutex
	replies []reply
	reqs    []sent
	bodies  []*trackedBody
}

func newMock(t testing.TB, replies ...reply) (*mock, *http.Client) {
	t.Helper()
	m := &mock{t: t, replies: replies}
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(m.respond)
	t.Cleanup(func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		for i, b := range m.bodies {
			if !b.closed {
				t.Errorf("response body %d was not closed", i)
			}
		}
	})
	return m, &http.Client{Transport: mt}
}

func (m *mock) respond(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs = append(m.reqs, sent{Method: req.Method, Path: req.URL.EscapedPath(), Query: req.URL.Query(), Header: req.Header.Clone(), Body: body})
	if len(m.replies) == 0 {
		m.t.Errorf("unexpected request %s %s", req.Method, req.URL.EscapedPath())
		return nil, io.ErrUnexpectedEOF
	}
	r := m.replies[0]
	if len(m.replies) > 1 {
		m.replies = m.replies[1:]
	}
	if r.err != nil {
		return nil, r.err
	}
	tb := &trackedBody{Reader: strings.NewReader(r.body)}
	m.bodies = append(m.bodies, tb)
	h := http.Header{}
	for k, v := range r.header {
		h[k] = v
	}
	if r.ctype != "" {
		h.Set("Content-Type", r.ctype)
	}
	return &http.Response{
		Status:        http.StatusText(r.status),
		StatusCode:    r.status,
		Header:        h,
		Body:          tb,
		ContentLength: int64(len(r.body)),
		Request:       req,
	}, nil
}

func (m *mock) sent() []sent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]sent(nil), m.reqs...)
}

type trackedBody struct {
	io.Reader
	closed bool
}

func (b *trackedBody) Close() error { b.closed = true; return nil }

// newTestClient returns a Client on the mock with no waits between retries.
func newTestClient(t testing.TB, replies []reply, opts ...Option) (*Client, *mock) {
	t.Helper()
	m, hc := newMock(t, replies...)
	opts = append([]Option{WithHTTPClient(hc), WithRetryWait(0, 0)}, opts...)
	c, err := NewClient(testBase, testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

func jsonEqual(t testing.TB, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("sent body %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body sent = %s, want %s", got, want)
	}
}

func containsAny(s string, subs ...string) (string, bool) {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return sub, true
		}
	}
	return "", false
}
