package unleashtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
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
	// unleashtest: WithTokens: token 1 ("x"): project "nope" does not exist (WithProjects sets the projects)
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
