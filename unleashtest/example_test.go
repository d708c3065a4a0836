package unleashtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

func Example() {
	s := unleashtest.NewServer(unleashtest.WithProjects("default", "payments"))
	defer s.Close()

	req, _ := http.NewRequest("POST", s.URL()+"/api/admin/projects/payments/api-tokens",
		strings.NewReader(`{"tokenName":"checkout","type":"backend"}`))
	req.Header.Set("Authorization", "Bearer "+s.AdminKey())
	req.Header.Set("Content-Type", "application/json")
	res, err := s.Client().Do(req)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status, res.Header.Get("Location"))

	tok := s.Tokens()[1]
	fmt.Println(tok.TokenName, tok.Type, tok.Project, strings.HasPrefix(tok.Secret, "payments:development."))

	// Make the next request fail the way a proxy in front of Unleash might.
	s.FailNext(1, unleashtest.Fault{Status: http.StatusBadGateway, Body: []byte("upstream down")})
	res, err = s.Client().Get(s.URL() + "/api/admin/api-tokens")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(body))
	fmt.Println(s.RequestCount(), "requests")

	// Output:
	// 201 Created api-tokens
	// checkout client payments true
	// 502 upstream down
	// 2 requests
}

// post sends a JSON body with the Server's admin key and returns the
// decoded answer.
func post(s *unleashtest.Server, path, body string) (int, map[string]any) {
	req, _ := http.NewRequest("POST", s.URL()+path, strings.NewReader(body))
	req.Header.Set("Authorization", s.AdminKey())
	req.Header.Set("Content-Type", "application/json")
	res, err := s.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// get sends a GET with the Server's admin key and returns the body.
func get(s *unleashtest.Server, path string) string {
	req, _ := http.NewRequest("GET", s.URL()+path, nil)
	req.Header.Set("Authorization", s.AdminKey())
	res, err := s.Client().Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func ExampleWithSecureTokens() {
	s := unleashtest.NewServer(unleashtest.WithSecureTokens())
	defer s.Close()

	// Only the create response holds the full secret...
	_, created := post(s, "/api/admin/api-tokens", `{"tokenName":"checkout","type":"backend"}`)
	secret := created["secret"].(string)
	fmt.Println(regexp.MustCompile(`^\*:development\.v2_[A-Za-z0-9_-]{22}_[A-Za-z0-9_-]{43}$`).MatchString(secret))

	// ...lists show the selector, and keep the type backend.
	var list struct {
		Tokens []struct {
			Secret, Type string
			Secure       bool
		}
	}
	_ = json.Unmarshal([]byte(get(s, "/api/admin/api-tokens/checkout")), &list)
	tok := s.Tokens()[1] // the admin key, then ours
	fmt.Println(list.Tokens[0].Secret == tok.Selector, list.Tokens[0].Type, list.Tokens[0].Secure)
	fmt.Println(tok.Secret == secret, tok.Secure)
	// Output:
	// true
	// true backend true
	// true true
}

func ExampleWithTokens() {
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := unleashtest.NewServer(
		unleashtest.WithProjects("default", "payments"),
		unleashtest.WithTokens(
			unleashtest.Token{Secret: "payments:production.seeded-secret", TokenName: "checkout", Type: "backend",
				Projects: []string{"payments"}, Environment: "production", ExpiresAt: &expires},
			unleashtest.Token{TokenName: "web", Type: "frontend"}, // secret made by the Server
		))
	defer s.Close()

	for _, t := range s.Tokens() {
		fmt.Println(t.TokenName, t.Type, t.Project, t.Environment, t.ExpiresAt != nil)
	}

	// A seed that breaks a rule is an error of Listen (NewServer panics).
	_, err := unleashtest.Listen("127.0.0.1:0", unleashtest.WithTokens(unleashtest.Token{TokenName: "x", Type: "client", Projects: []string{"nope"}}))
	fmt.Println(err)
	// Output:
	// admin admin * * false
	// checkout client payments production true
	// web frontend * development false
	// unleashtest: WithTokens: token 1: project 1 does not exist (WithProjects sets the projects)
}

func ExampleListen() {
	s, err := unleashtest.Listen("127.0.0.1:0", unleashtest.WithSecureTokens())
	if err != nil {
		panic(err)
	}
	defer s.Close()
	fmt.Println(strings.HasPrefix(s.URL(), "http://127.0.0.1:"))

	// POST /edge/validate needs no key.
	_, created := post(s, "/api/admin/api-tokens", `{"tokenName":"checkout","type":"client"}`)
	res, err := http.Post(s.URL()+"/edge/validate", "application/json",
		strings.NewReader(`{"tokens":["`+created["secret"].(string)+`","not-a-token"]}`))
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var live struct {
		Tokens []struct{ Type, Environment string }
	}
	_ = json.NewDecoder(res.Body).Decode(&live)
	fmt.Println(len(live.Tokens), live.Tokens[0].Type, live.Tokens[0].Environment)
	// Output:
	// true
	// 1 client development
}

func ExampleWithVersion() {
	s := unleashtest.NewServer(unleashtest.WithVersion("7.6.5"), unleashtest.WithTokenLimit(50))
	defer s.Close()

	var cfg struct {
		Version        string
		ResourceLimits struct{ APITokens int }
	}
	_ = json.Unmarshal([]byte(get(s, "/api/admin/ui-config")), &cfg)
	fmt.Println(cfg.Version, cfg.ResourceLimits.APITokens)
	// Output:
	// 7.6.5 50
}

// call sends a request with key as the API key (none when empty) and
// returns the status.
func call(s *unleashtest.Server, key, method, path, body string) int {
	req, _ := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.Client().Do(req)
	if err != nil {
		panic(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func ExampleNewServer() {
	s := unleashtest.NewServer()
	defer s.Close()

	// A fresh Server holds its admin key and nothing else.
	var list struct {
		Tokens []struct{ TokenName, Type string }
	}
	_ = json.Unmarshal([]byte(get(s, "/api/admin/api-tokens")), &list)
	fmt.Println(list.Tokens)
	// Output: [{admin admin}]
}

// In a test, NewTestServer(t) replaces NewServer and the deferred Close:
// the Server is closed when the test ends, and an invalid option fails the
// test. The test for this example's steps reads:
//
//	func TestCreatesCheckoutToken(t *testing.T) {
//		s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "payments"))
//		c, err := unleashadmin.NewClient(s.URL(), s.AdminKey())
//		if err != nil {
//			t.Fatal(err)
//		}
//		// ... the code under test creates a token with c ...
//		if toks := s.Tokens(); len(toks) != 2 || toks[1].Project != "payments" {
//			t.Errorf("server holds %v", toks)
//		}
//	}
//
// An example gets no *testing.T, so it runs the same steps on NewServer.
func ExampleNewTestServer() {
	s := unleashtest.NewServer(unleashtest.WithProjects("default", "payments"))
	defer s.Close()

	// The code under test creates a token.
	post(s, "/api/admin/projects/payments/api-tokens", `{"tokenName":"checkout","type":"backend"}`)

	toks := s.Tokens() // the admin key, then ours
	fmt.Println(len(toks), toks[1].Project)
	// Output: 2 payments
}

func ExampleWithAdminKeys() {
	s := unleashtest.NewServer(unleashtest.WithAdminKeys("*:*.ci-admin-key-one", "*:*.ci-admin-key-two"))
	defer s.Close()

	for _, key := range []string{"*:*.ci-admin-key-two", unleashtest.DefaultAdminKey} {
		fmt.Println(call(s, key, "GET", "/api/admin/api-tokens", ""))
	}
	// Each key is listed as a token named admin.
	fmt.Println(len(s.Tokens()), s.AdminKey() == "*:*.ci-admin-key-one")
	// Output:
	// 200
	// 401
	// 2 true
}

func ExampleWithClock() {
	var mu sync.Mutex // the Server reads the clock from its handlers
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	s := unleashtest.NewServer(unleashtest.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}))
	defer s.Close()

	_, created := post(s, "/api/admin/api-tokens", `{"tokenName":"nightly","type":"client","expiresAt":"2030-01-01T13:00:00.000Z"}`)
	fmt.Println(created["createdAt"])

	// The clock decides whether the token has expired.
	live := func() int {
		_, m := post(s, "/edge/validate", `{"tokens":["`+created["secret"].(string)+`"]}`)
		return len(m["tokens"].([]any))
	}
	fmt.Println(live())
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	fmt.Println(live())
	// Output:
	// 2030-01-01T12:00:00.000Z
	// 1
	// 0
}

func ExampleWithEnvironments() {
	s := unleashtest.NewServer(unleashtest.WithEnvironments("production", "staging"))
	defer s.Close()

	status, _ := post(s, "/api/admin/api-tokens", `{"tokenName":"checkout","type":"client","environment":"staging"}`)
	fmt.Println(status)
	// Without an environment a create asks for development, as on a real
	// server.
	status, m := post(s, "/api/admin/api-tokens", `{"tokenName":"checkout","type":"client"}`)
	fmt.Println(status, m["message"])
	// Output:
	// 201
	// 400 Request validation failed: your request body or params contain invalid data: Environment=development does not exist
}

func ExampleWithProjects() {
	s := unleashtest.NewServer(unleashtest.WithProjects("default", "payments"))
	defer s.Close()

	status, _ := post(s, "/api/admin/projects/payments/api-tokens", `{"tokenName":"checkout","type":"client"}`)
	fmt.Println(status)
	status, m := post(s, "/api/admin/projects/billing/api-tokens", `{"tokenName":"invoices","type":"client"}`)
	fmt.Println(status, m["message"])
	status, m = post(s, "/api/admin/api-tokens", `{"tokenName":"invoices","type":"client","projects":["billing"]}`)
	fmt.Println(status, m["message"])
	// Output:
	// 201
	// 404 No project found
	// 400 Request validation failed: your request body or params contain invalid data: Project=billing does not exist
}

func ExampleWithTokenLimit() {
	// The admin key counts: room for one more token.
	s := unleashtest.NewServer(unleashtest.WithTokenLimit(2))
	defer s.Close()

	for range 2 {
		status, m := post(s, "/api/admin/api-tokens", `{"tokenName":"checkout","type":"client"}`)
		fmt.Println(status, m["name"])
	}
	// Output:
	// 201 <nil>
	// 400 ExceedsLimitError
}

func ExampleServer_AdminKey() {
	s := unleashtest.NewServer()
	defer s.Close()

	// Send it as the API key, plain or as "Bearer <key>".
	fmt.Println(call(s, s.AdminKey(), "GET", "/api/admin/api-tokens", ""))
	fmt.Println(call(s, "Bearer "+s.AdminKey(), "GET", "/api/admin/api-tokens", ""))
	fmt.Println(s.AdminKey() == unleashtest.DefaultAdminKey)
	// Output:
	// 200
	// 200
	// true
}

func ExampleServer_URL() {
	s := unleashtest.NewServer()
	defer s.Close()

	// Append the API paths to it: it has no trailing slash.
	fmt.Println(strings.HasPrefix(s.URL(), "http://127.0.0.1:"), strings.HasSuffix(s.URL(), "/"))
	fmt.Println(get(s, "/health"))
	// Output:
	// true false
	// {"health":"GOOD"}
}

func ExampleServer_Client() {
	s := unleashtest.NewServer()
	defer s.Close()

	// Close closes the client's idle connections: nothing is left behind.
	res, err := s.Client().Get(s.URL() + "/health")
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	fmt.Println(res.Status, res.Header.Get("Content-Type"))
	// Output: 200 OK application/json; charset=utf-8
}

func ExampleServer_Close() {
	s := unleashtest.NewServer()
	s.Close()

	// A closed Server refuses connections; closing it again is harmless.
	_, err := s.Client().Get(s.URL() + "/health")
	fmt.Println(err != nil)
	s.Close()
	// Output: true
}

func ExampleServer_Tokens() {
	s := unleashtest.NewServer(unleashtest.WithProjects("default", "payments"))
	defer s.Close()
	post(s, "/api/admin/projects/payments/api-tokens", `{"tokenName":"checkout","type":"backend","environment":"production"}`)

	// Tokens holds the full secret, whatever the lists show.
	for _, t := range s.Tokens() {
		prefix, _, _ := strings.Cut(t.Secret, ".")
		fmt.Println(t.TokenName, t.Type, t.Project, t.Environment, prefix)
	}
	// Output:
	// admin admin * * *:*
	// checkout client payments production payments:production
}

func ExampleServer_Events() {
	s := unleashtest.NewServer()
	defer s.Close()
	_, created := post(s, "/api/admin/api-tokens", `{"tokenName":"edge","type":"client"}`)
	secret := created["secret"].(string)
	call(s, s.AdminKey(), "PUT", "/api/admin/api-tokens/"+secret, `{"expiresAt":"2031-01-01T00:00:00.000Z"}`)
	call(s, s.AdminKey(), "DELETE", "/api/admin/api-tokens/"+secret, "")

	// Oldest first; no event holds a secret.
	for _, e := range s.Events() {
		fmt.Println(e.ID, e.Type, e.TokenName, e.Project, e.CreatedBy, e.CreatedByUserID)
	}
	// Output:
	// 1 api-token-created edge * admin -42
	// 2 api-token-updated edge * admin -42
	// 3 api-token-deleted edge * admin -42
}

func ExampleServer_FailNext() {
	s := unleashtest.NewServer()
	defer s.Close()

	// Faults queue up: a 429 with Retry-After, then two 502s, then normal
	// service.
	s.FailNext(1, unleashtest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"2"}}})
	s.FailNext(2, unleashtest.Fault{Status: http.StatusBadGateway, Body: []byte("<html>bad gateway</html>")})
	var statuses []int
	for range 4 {
		statuses = append(statuses, call(s, s.AdminKey(), "GET", "/api/admin/api-tokens", ""))
	}
	fmt.Println(statuses)

	// A dropped connection gets no response at all.
	s.FailNext(1, unleashtest.Fault{Drop: true})
	_, err := s.Client().Post(s.URL()+"/api/admin/api-tokens", "application/json", strings.NewReader(`{}`))
	fmt.Println(err != nil)
	// Output:
	// [429 502 502 200]
	// true
}

func ExampleServer_PendingFaults() {
	s := unleashtest.NewServer()
	defer s.Close()
	s.FailNext(3, unleashtest.Fault{Status: http.StatusServiceUnavailable})

	call(s, s.AdminKey(), "GET", "/api/admin/api-tokens", "")
	// Two faults were not used: the code under test gave up after one.
	fmt.Println(s.PendingFaults())
	// Output: 2
}

func ExampleServer_ClearFaults() {
	s := unleashtest.NewServer()
	defer s.Close()
	s.FailNext(5, unleashtest.Fault{Status: http.StatusServiceUnavailable})
	fmt.Println(call(s, s.AdminKey(), "GET", "/api/admin/api-tokens", ""))

	s.ClearFaults()
	fmt.Println(s.PendingFaults(), call(s, s.AdminKey(), "GET", "/api/admin/api-tokens", ""))
	// Output:
	// 503
	// 0 200
}

func ExampleServer_RequestCount() {
	s := unleashtest.NewServer()
	defer s.Close()

	// A create that got a 503 must not be sent again: it may have created
	// a token.
	s.FailNext(1, unleashtest.Fault{Status: http.StatusServiceUnavailable})
	before := s.RequestCount()
	status, _ := post(s, "/api/admin/api-tokens", `{"tokenName":"checkout","type":"client"}`)
	fmt.Println(status, s.RequestCount()-before)
	// Output: 503 1
}

func ExampleServer_Requests() {
	s := unleashtest.NewServer()
	defer s.Close()
	post(s, "/api/admin/api-tokens", `{"tokenName":"checkout","type":"client"}`)
	call(s, s.AdminKey(), "DELETE", "/api/admin/api-tokens/*:development.0123456789abcdef", "")

	// What was sent, as sent: the path as escaped, headers and body.
	for _, r := range s.Requests() {
		fmt.Printf("%s %s %q %s\n", r.Method, r.Path, r.Header.Get("Content-Type"), r.Body)
	}
	// Output:
	// POST /api/admin/api-tokens "application/json" {"tokenName":"checkout","type":"client"}
	// DELETE /api/admin/api-tokens/*:development.0123456789abcdef ""
}
