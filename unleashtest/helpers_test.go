package unleashtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// response is what a test request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes one request. auth and contentType are left out when empty; a
// nil body sends none.
func send(t *testing.T, s *unleashtest.Server, method, path, auth, contentType string, body *string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(*body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatalf("new request %s %s: %v", method, path, err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// admin sends a request with the default admin key; a body is sent as JSON.
func admin(t *testing.T, s *unleashtest.Server, method, path string, body ...string) response {
	t.Helper()
	if len(body) == 0 {
		return send(t, s, method, path, s.AdminKey(), "", nil)
	}
	return send(t, s, method, path, s.AdminKey(), "application/json", &body[0])
}

func ptr(s string) *string { return &s }

// object decodes a JSON object body.
func object(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// tokens decodes a {"tokens":[...]} body.
func tokens(t *testing.T, r response) []map[string]any {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.status, r.body)
	}
	var out struct {
		Tokens []map[string]any `json:"tokens"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil || out.Tokens == nil {
		t.Fatalf("body %q is not a token list: %v", r.body, err)
	}
	return out.Tokens
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

func wantJSONHeader(t *testing.T, r response) {
	t.Helper()
	if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// apiError is an Unleash error body.
type apiError struct {
	ID      *string `json:"id"`
	Name    string  `json:"name"`
	Message string  `json:"message"`
	Details []struct {
		Message string `json:"message"`
		Path    string `json:"path"`
	} `json:"details"`
}

// wantError checks status, the error name and whether the body carries an
// id, and returns the decoded error.
func wantError(t *testing.T, r response, status int, name string, withID bool) apiError {
	t.Helper()
	wantStatus(t, r, status)
	wantJSONHeader(t, r)
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	if e.Name != name {
		t.Errorf("name %q, want %q; body %s", e.Name, name, r.body)
	}
	switch {
	case withID && (e.ID == nil || !uuidRE.MatchString(*e.ID)):
		t.Errorf("want a uuid id; body %s", r.body)
	case !withID && e.ID != nil:
		t.Errorf("want no id; body %s", r.body)
	}
	if e.Message == "" || len(e.Details) == 0 {
		t.Errorf("want message and details; body %s", r.body)
	}
	return e
}

// wantMessageOnly checks a {"message": msg} body.
func wantMessageOnly(t *testing.T, r response, status int, msg string) {
	t.Helper()
	wantStatus(t, r, status)
	wantJSONHeader(t, r)
	m := object(t, r)
	if len(m) != 1 || m["message"] != msg {
		t.Errorf("body %s, want only message %q", r.body, msg)
	}
}

func wantEmpty(t *testing.T, r response, status int) {
	t.Helper()
	wantStatus(t, r, status)
	if len(r.body) != 0 {
		t.Errorf("want empty body, got %q", r.body)
	}
}

// create makes a token through the general endpoint and returns the body.
func create(t *testing.T, s *unleashtest.Server, body string) map[string]any {
	t.Helper()
	r := admin(t, s, "POST", "/api/admin/api-tokens", body)
	wantStatus(t, r, http.StatusCreated)
	return object(t, r)
}

// topKeys returns the keys of a JSON object in the order sent, joined by
// commas.
func topKeys(t *testing.T, body []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			if depth == 1 && dec.More() {
				keys = append(keys, v)
				// skip the value
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					t.Fatalf("body %s: %v", body, err)
				}
			}
		}
	}
	return strings.Join(keys, ",")
}

// decode unmarshals a JSON body into v.
func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
}
