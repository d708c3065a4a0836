package hygiene_test

// This file holds a small server for what the stand-in (unleashtest) does
// not do: deletes that fail for one secret or wait, a count of deletes in
// flight, a server without GET /api/admin/ui-config, a listed key with an
// alias or a selector, all on one server with POST /edge/validate for the
// redaction test. The shapes are those of Unleash 8.2.0 (lists carry every
// field, nulls included).

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

const fakeKey = "*:*.0123456789abcdef0123456789abcdef0123456789abcdef01234567"

// fakeToken is a token as the fake lists it.
type fakeToken struct {
	Secret      string     `json:"secret"`
	TokenName   string     `json:"tokenName"`
	Type        string     `json:"type"`
	Project     string     `json:"project"`
	Projects    []string   `json:"projects"`
	Environment string     `json:"environment"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	CreatedAt   time.Time  `json:"createdAt"`
	Alias       *string    `json:"alias"`
	SeenAt      *time.Time `json:"seenAt"`
	Secure      bool       `json:"secure"`
}

// fakeUnleash is an httptest server answering the calls hygiene makes.
type fakeUnleash struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	tokens   []fakeToken
	limit    int            // resourceLimits.apiTokens; 0: no ui-config route (404)
	secure   bool           // flags.secureTokenStorage
	failDel  map[string]int // secret or selector -> status to answer its delete with
	delDelay time.Duration
	inFlight int
	maxDel   int      // most deletes in flight at once
	deleted  []string // secrets of successful deletes, in order
	requests []string // "METHOD path"
	auth     []string // Authorization header of each request
}

func newFake(t *testing.T, toks ...fakeToken) *fakeUnleash {
	f := &fakeUnleash{t: t, tokens: toks, failDel: map[string]int{}}
	f.tokens = append(f.tokens, fakeToken{Secret: fakeKey, TokenName: "admin", Type: "admin", Project: "*",
		Projects: []string{"*"}, Environment: "*", CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeUnleash) client() *unleashadmin.Client {
	c, err := unleashadmin.NewClient(f.srv.URL, fakeKey, unleashadmin.WithRetryMax(0))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(c.CloseIdleConnections)
	return c
}

func (f *fakeUnleash) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.EscapedPath())
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.URL.Path == "/edge/validate" && r.Method == http.MethodPost {
		f.validate(w, r)
		return
	}
	if r.Header.Get("Authorization") != fakeKey {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"name":"AuthenticationRequired","message":"You must log in to use Unleash."}`))
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/admin/api-tokens":
		f.mu.Lock()
		body, _ := json.Marshal(map[string]any{"tokens": f.tokens})
		f.mu.Unlock()
		_, _ = w.Write(body)
	case r.Method == http.MethodGet && r.URL.Path == "/api/admin/ui-config":
		f.mu.Lock()
		limit, secure := f.limit, f.secure
		f.mu.Unlock()
		if limit == 0 {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"name":"NotFoundError","message":"The path you were looking for is not available."}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"version": "8.2.0", "resourceLimits": map[string]int{"apiTokens": limit},
			"flags": map[string]bool{"secureTokenStorage": secure}})
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/admin/api-tokens/"):
		f.delete(w, r)
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"name":"NotFoundError","message":"no such route"}`))
	}
}

func (f *fakeUnleash) delete(w http.ResponseWriter, r *http.Request) {
	secret, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/api/admin/api-tokens/"))
	f.mu.Lock()
	f.inFlight++
	f.maxDel = max(f.maxDel, f.inFlight)
	delay, status := f.delDelay, f.failDel[secret]
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"name":"InternalError","message":"database on fire"}`))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, t := range f.tokens {
		if t.Secret == secret {
			f.tokens = append(f.tokens[:i], f.tokens[i+1:]...)
			break
		}
	}
	f.deleted = append(f.deleted, secret)
}

// validate answers POST /edge/validate like Unleash: the live tokens among
// those asked, in the order asked, backend reported as client, unknown and
// expired ones left out.
func (f *fakeUnleash) validate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Tokens []string `json:"tokens"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Tokens == nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"name":"BadDataError","message":"Request validation failed"}`))
		return
	}
	type valid struct {
		Token       string   `json:"token"`
		Type        string   `json:"type"`
		Projects    []string `json:"projects"`
		Environment string   `json:"environment"`
	}
	out := []valid{}
	f.mu.Lock()
	for _, s := range req.Tokens {
		for _, t := range f.tokens {
			if t.Secret == s && (t.ExpiresAt == nil || t.ExpiresAt.After(time.Now())) {
				typ := t.Type
				if typ == "backend" {
					typ = "client"
				}
				out = append(out, valid{s, typ, t.Projects, t.Environment})
			}
		}
	}
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"tokens": out})
}

func (f *fakeUnleash) methods(method string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if strings.HasPrefix(r, method+" ") {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeUnleash) deletedSecrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.deleted...)
}

// secret makes a secret of the default storage for a project and
// environment.
func secret(project, env string) string {
	b := make([]byte, 28)
	_, _ = rand.Read(b)
	return project + ":" + env + "." + hex.EncodeToString(b)
}

// tok makes a listed token of type client for project default in
// development, created at created, with options applied.
func tok(name string, created time.Time, opts ...func(*fakeToken)) fakeToken {
	t := fakeToken{Secret: secret("default", "development"), TokenName: name, Type: "client", Project: "default",
		Projects: []string{"default"}, Environment: "development", CreatedAt: created}
	for _, o := range opts {
		o(&t)
	}
	return t
}

func seen(at time.Time) func(*fakeToken)    { return func(t *fakeToken) { t.SeenAt = &at } }
func expires(at time.Time) func(*fakeToken) { return func(t *fakeToken) { t.ExpiresAt = &at } }
func typed(typ string) func(*fakeToken)     { return func(t *fakeToken) { t.Type = typ } }
func projects(p ...string) func(*fakeToken) {
	return func(t *fakeToken) { t.Projects, t.Project = p, strings.Join(p, ",") }
}
