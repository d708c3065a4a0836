package unleashtest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

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
