package unleashadmin_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// scope is the part of a secret before its random part, such as
// "default:development".
func scope(secret string) string {
	s, _, _ := strings.Cut(secret, ".")
	return s
}

func ExampleNewClient() {
	// An in-process Unleash; use your server's URL and an admin API token.
	srv := unleashtest.NewServer()
	defer srv.Close()

	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithBearerAuth())
	if err != nil {
		log.Fatal(err)
	}
	toks, err := c.ListAPITokens(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(toks), toks[0].TokenName, toks[0].Type)
	// Output: 1 admin admin
}

func ExampleClient_CreateAPIToken() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())

	tok, err := c.CreateAPIToken(context.Background(), unleashadmin.CreateAPITokenRequest{
		Type:        unleashadmin.TokenTypeBackend,
		TokenName:   "checkout-service",
		Environment: "production",
		Projects:    []string{"default"},
		ExpiresAt:   unleashadmin.Ptr(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenName, tok.Type, tok.Environment, tok.Projects, scope(tok.Secret), tok.ExpiresAt.Format(time.RFC3339))
	// Output: checkout-service backend production [default] default:production 2030-01-02T03:04:05Z
}

func ExampleClient_CreateProjectAPIToken() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())

	tok, err := c.CreateProjectAPIToken(context.Background(), "default", unleashadmin.CreateProjectAPITokenRequest{
		Type:      unleashadmin.TokenTypeFrontend,
		TokenName: "web-shop",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Without an environment, Unleash picks development.
	fmt.Println(tok.TokenName, tok.Type, tok.Environment, tok.Project, scope(tok.Secret))
	// Output: web-shop frontend development default default:development
}

func ExampleClient_ListProjectAPITokens() {
	srv := unleashtest.NewServer(unleashtest.WithProjects("default", "payments"))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	ctx := context.Background()
	for _, p := range []string{"default", "payments"} {
		if _, err := c.CreateProjectAPIToken(ctx, p, unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: p + "-api"}); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "everything"}); err != nil {
		log.Fatal(err)
	}

	// Unleash returns every token to an admin key; the client keeps the
	// project's own.
	toks, err := c.ListProjectAPITokens(ctx, "payments")
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range toks {
		fmt.Println(t.TokenName, t.Type, t.Projects)
	}
	// Output: payments-api client [payments]
}

func ExampleClient_GetAPITokensByName() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	ctx := context.Background()
	for _, env := range []string{"development", "production"} {
		if _, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "edge", Environment: env}); err != nil {
			log.Fatal(err)
		}
	}
	// Names are not unique.
	toks, err := c.GetAPITokensByName(ctx, "edge")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(toks), "tokens named edge")
	// Output: 2 tokens named edge
}

func ExampleClient_UpdateAPITokenExpiry() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	ctx := context.Background()
	tok, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: "batch-job"})
	if err != nil {
		log.Fatal(err)
	}
	at := time.Date(2031, 7, 4, 9, 0, 0, 0, time.UTC)
	if err := c.UpdateAPITokenExpiry(ctx, tok.Secret, at); err != nil {
		log.Fatal(err)
	}
	toks, _ := c.GetAPITokensByName(ctx, "batch-job")
	fmt.Println(toks[0].ExpiresAt.Format(time.RFC3339))
	// Output: 2031-07-04T09:00:00Z
}

func ExampleClient_DeleteAPIToken() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	ctx := context.Background()
	tok, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "old"})

	fmt.Println(c.DeleteAPIToken(ctx, tok.Secret))
	// Deleting again is not an error: Unleash answers 200.
	fmt.Println(c.DeleteAPIToken(ctx, tok.Secret))
	// Output:
	// <nil>
	// <nil>
}

func ExampleClient_DeleteProjectAPIToken() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	ctx := context.Background()
	tok, _ := c.CreateProjectAPIToken(ctx, "default", unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "svc"})

	fmt.Println(c.DeleteProjectAPIToken(ctx, "default", tok.Secret))
	// Through the project, a second delete is a 404.
	err := c.DeleteProjectAPIToken(ctx, "default", tok.Secret)
	fmt.Println(errors.Is(err, unleashadmin.ErrNotFound))
	// Output:
	// <nil>
	// true
}

func ExampleAPIError() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())

	_, err := c.CreateAPIToken(context.Background(), unleashadmin.CreateAPITokenRequest{
		Type: unleashadmin.TokenTypeClient, TokenName: "x", Environment: "staging",
	})
	var apiErr *unleashadmin.APIError
	if errors.Is(err, unleashadmin.ErrBadRequest) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Name)
		fmt.Println(apiErr.Details[0].Message)
	}
	// Output:
	// 400 BadDataError
	// Environment=staging does not exist
}

func ExampleRedactSecret() {
	fmt.Println(unleashadmin.RedactSecret("default:production.5f3a9c0e1d2b4a6f8e7d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d"))
	// Output: default:production.5f3a***
}
