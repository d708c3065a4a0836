// Command create-token creates a backend token for one environment and
// prints it. It reads UNLEASH_URL and UNLEASH_API_TOKEN; without them it runs
// against an in-process stand-in.
//
//	go run ./examples/create-token -name checkout-service -env production -project default
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/examples/internal/connect"
)

func main() {
	name := flag.String("name", "example-backend", "token name")
	env := flag.String("env", "", "environment (Unleash's default when empty)")
	projects := flag.String("project", "", "comma-separated project IDs (all projects when empty)")
	ttl := flag.Duration("ttl", 0, "time until the token expires (never when 0)")
	show := flag.Bool("show-secret", false, "print the full secret (to store it); redacted otherwise")
	flag.Parse()
	if err := run(*name, *env, *projects, *ttl, *show); err != nil {
		fmt.Fprintln(os.Stderr, "create-token:", err)
		os.Exit(1)
	}
}

func run(name, env, projects string, ttl time.Duration, show bool) error {
	conn, err := connect.Open()
	if err != nil {
		return err
	}
	defer conn.Close()
	c := conn.Client
	fmt.Println("Talking to", conn.Where)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req := unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: name, Environment: env}
	if projects != "" {
		req.Projects = strings.Split(projects, ",")
	}
	if ttl > 0 {
		req.ExpiresAt = unleashadmin.Ptr(time.Now().Add(ttl))
	}
	tok, err := c.CreateAPIToken(ctx, req)
	var apiErr *unleashadmin.APIError
	switch {
	case errors.Is(err, unleashadmin.ErrUnauthorized), errors.Is(err, unleashadmin.ErrForbidden):
		return fmt.Errorf("the API key may not create tokens: %w", err)
	case errors.As(err, &apiErr) && apiErr.Name == "BadDataError":
		// Unleash's message says which value it refused.
		return fmt.Errorf("check -env and -project: %w", err)
	case err != nil:
		return err
	}
	secret := unleashadmin.RedactSecret(tok.Secret)
	if show {
		secret = tok.Secret
	}
	fmt.Printf("Created %s token %q for environment %s, projects %v\nSecret: %s\n", tok.Type, tok.TokenName, tok.Environment, tok.Projects, secret)
	return nil
}
