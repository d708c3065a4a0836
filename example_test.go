package unleashadmin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"syscall"
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

// seeded is the secret of a token put into the stand-in with
// unleashtest.WithTokens, so that its redacted form is the same on every
// run. A secret Unleash makes has a random part, of which RedactSecret shows
// four characters.
const seeded = "default:production.5f3a9c0e1d2b4a6f8e7d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d"

// stdoutLogger logs as text to standard output, without the time and the
// elapsed durations, which change from run to run.
func stdoutLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 || a.Key == "elapsed" {
				return slog.Attr{}
			}
			return a
		},
	}))
}

func ExampleNewClientWithoutKey() {
	srv := unleashtest.NewServer()
	defer srv.Close()

	// Checking which secrets are live needs no API key.
	c, err := unleashadmin.NewClientWithoutKey(srv.URL())
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	checks, err := c.ValidateTokens(ctx, []string{srv.AdminKey()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(checks[0].Live, checks[0].Type)

	// Every other call is refused before anything is sent.
	_, err = c.ListAPITokens(ctx)
	fmt.Println(errors.Is(err, unleashadmin.ErrInvalidArgument), srv.RequestCount())
	// Output:
	// true admin
	// true 1
}

func ExampleClient_ListAPITokens() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	for _, name := range []string{"web-shop", "checkout"} {
		if _, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeFrontend, TokenName: name}); err != nil {
			log.Fatal(err)
		}
	}

	toks, err := c.ListAPITokens(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// The order is Unleash's own: sort when it matters. The admin key is
	// listed too.
	slices.SortFunc(toks, func(a, b unleashadmin.APIToken) int { return strings.Compare(a.TokenName, b.TokenName) })
	for _, t := range toks {
		fmt.Println(t.TokenName, t.Type, t.Environment, t.ProjectIDs())
	}
	// Output:
	// admin admin * [*]
	// checkout frontend development [*]
	// web-shop frontend development [*]
}

func ExampleClient_RotateAPIToken() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	old, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: "checkout", Environment: "production"})
	if err != nil {
		log.Fatal(err)
	}

	vault := map[string]string{} // stands for your secret manager
	r, err := c.RotateAPIToken(ctx, *old, unleashadmin.RotateOptions{
		// Deliver runs after the new token exists and before the old one
		// is touched.
		Deliver: func(ctx context.Context, fresh unleashadmin.APIToken) error {
			vault["checkout"] = fresh.Secret
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Without a grace period the old token is deleted at once.
	fmt.Println(r.New.TokenName, r.New.Environment, r.OldDeleted, vault["checkout"] == r.New.Secret)
	toks, _ := c.GetAPITokensByName(ctx, "checkout")
	fmt.Println(len(toks), toks[0].Matches(r.New.Secret))
	// Output:
	// checkout production true true
	// 1 true
}

func ExampleClient_RotateAPIToken_gracePeriod() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	old, _ := c.CreateProjectAPIToken(ctx, "default", unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "edge"})

	// The old token keeps working for a day, so that services can switch.
	r, err := c.RotateAPIToken(ctx, *old, unleashadmin.RotateOptions{GracePeriod: 24 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.OldDeleted, time.Until(*r.OldExpiresAt).Round(time.Hour))

	toks, _ := c.GetAPITokensByName(ctx, "edge")
	for _, t := range toks {
		fmt.Println(t.Matches(old.Secret), t.ExpiresAt != nil && t.ExpiresAt.Equal(*r.OldExpiresAt))
	}
	// Output:
	// false 24h0m0s
	// true true
	// false false
}

func ExampleClient_RotateAPIToken_notDelivered() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	old, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "checkout"})

	_, err := c.RotateAPIToken(ctx, *old, unleashadmin.RotateOptions{
		Deliver: func(ctx context.Context, fresh unleashadmin.APIToken) error {
			return errors.New("vault: permission denied")
		},
	})
	// A secret that could not be stored is revoked again; the old token
	// is left as it was.
	fmt.Println(errors.Is(err, unleashadmin.ErrNotDelivered))
	fmt.Println(err)
	toks, _ := c.GetAPITokensByName(ctx, "checkout")
	fmt.Println(len(toks), toks[0].Matches(old.Secret))
	// Output:
	// true
	// unleashadmin: the new token could not be delivered: vault: permission denied; the new token was deleted again, and the old one left as it was
	// 1 true
}

func ExampleClient_RotateAPIToken_incomplete() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithRetryMax(0))
	defer c.CloseIdleConnections()
	ctx := context.Background()
	old, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "checkout"})

	vault := map[string]string{}
	r, err := c.RotateAPIToken(ctx, *old, unleashadmin.RotateOptions{
		Deliver: func(ctx context.Context, fresh unleashadmin.APIToken) error {
			vault["checkout"] = fresh.Secret
			// For this example: the stand-in refuses the delete that follows.
			srv.FailNext(1, unleashtest.Fault{Status: http.StatusServiceUnavailable})
			return nil
		},
	})
	// Both tokens are live; the new one is returned with the error.
	if errors.Is(err, unleashadmin.ErrRotationIncomplete) {
		fmt.Println(r.New.Secret == vault["checkout"], r.OldDeleted)
		// Retire the old token later, or by hand.
		fmt.Println(c.DeleteAPIToken(ctx, old.Secret))
	}
	// Output:
	// true false
	// <nil>
}

func ExampleClient_ListTokenEvents() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	tok, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "edge"})
	_ = c.UpdateAPITokenExpiry(ctx, tok.Secret, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	_ = c.DeleteAPIToken(ctx, tok.Secret)

	page, err := c.ListTokenEvents(ctx, unleashadmin.TokenEventsOptions{Limit: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(page.Total, "events, newest first:")
	for _, e := range page.Events {
		fmt.Println(e.Type, e.Token().TokenName, e.CreatedBy)
	}
	// Output:
	// 3 events, newest first:
	// api-token-deleted edge admin
	// api-token-updated edge admin
}

func ExampleClient_AllTokenEvents() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	for _, name := range []string{"checkout-eu", "checkout-us", "web-shop"} {
		tok, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name})
		_ = c.DeleteAPIToken(ctx, tok.Secret)
	}

	// Who deleted a checkout token? Pages are fetched as the loop goes.
	opts := unleashadmin.TokenEventsOptions{Types: []unleashadmin.EventType{unleashadmin.EventAPITokenDeleted}, Query: "checkout"}
	for e, err := range c.AllTokenEvents(ctx, opts) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(e.Token().TokenName, "deleted by", e.CreatedBy)
	}
	// Output:
	// checkout-us deleted by admin
	// checkout-eu deleted by admin
}

func ExampleEvent_Token() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	tok, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeFrontend, TokenName: "web-shop", Environment: "production"})
	_ = c.DeleteAPIToken(ctx, tok.Secret)

	page, _ := c.ListTokenEvents(ctx, unleashadmin.TokenEventsOptions{})
	for _, e := range page.Events {
		// A delete has no Data; Token reads PreData then.
		t := e.Token()
		fmt.Println(e.Type, e.Data != nil, t.TokenName, t.Type, t.Environment)
	}
	// Output:
	// api-token-deleted false web-shop frontend production
	// api-token-created true web-shop frontend production
}

func ExampleClient_ServerInfo() {
	srv := unleashtest.NewServer(unleashtest.WithTokenLimit(500), unleashtest.WithSecureTokens())
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()

	info, err := c.ServerInfo(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Version, info.TokenLimit, info.SecureTokens)
	// Output: 8.2.0 500 true
}

// serverInfo asks a stand-in that reports version v for its ServerInfo.
func serverInfo(v string) *unleashadmin.ServerInfo {
	srv := unleashtest.NewServer(unleashtest.WithVersion(v))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	info, err := c.ServerInfo(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	return info
}

func ExampleServerInfo_AtLeast() {
	for _, v := range []string{"8.2.0", "6.10.1", "main"} {
		info := serverInfo(v)
		// A version that does not parse (a development build) counts as
		// the newest.
		fmt.Println(info.Version, info.AtLeast(7, 0), info.AtLeast(6, 10))
	}
	// Output:
	// 8.2.0 true true
	// 6.10.1 false true
	// main true true
}

func ExampleServerInfo_DefaultEnvironment() {
	for _, v := range []string{"8.2.0", "6.10.1"} {
		// The environment a token gets when its create names none.
		fmt.Println(v, serverInfo(v).DefaultEnvironment())
	}
	// Output:
	// 8.2.0 development
	// 6.10.1 default
}

func ExampleServerInfo_HasBackendType() {
	for _, v := range []string{"8.2.0", "6.10.1"} {
		// Client grants what backend does; older servers know only client.
		typ := unleashadmin.TokenTypeBackend
		if !serverInfo(v).HasBackendType() {
			typ = unleashadmin.TokenTypeClient
		}
		fmt.Println(v, typ)
	}
	// Output:
	// 8.2.0 backend
	// 6.10.1 client
}

func ExampleClient_ValidateTokens() {
	srv := unleashtest.NewServer(unleashtest.WithTokens(unleashtest.Token{
		Secret: seeded, TokenName: "checkout", Type: "backend", Projects: []string{"default"}, Environment: "production",
	}))
	defer srv.Close()
	c, _ := unleashadmin.NewClientWithoutKey(srv.URL())
	defer c.CloseIdleConnections()

	// "Not live" is reliable; a real server may still report a token it
	// deleted a moment ago as live (its cache).
	checks, err := c.ValidateTokens(context.Background(), []string{seeded, "default:production.deleted-long-ago-0123456789"})
	if err != nil {
		log.Fatal(err)
	}
	for _, ch := range checks {
		if !ch.Live {
			fmt.Println(unleashadmin.RedactSecret(ch.Secret), "is not live")
			continue
		}
		// Unleash reports a backend token as client here.
		fmt.Println(unleashadmin.RedactSecret(ch.Secret), "is live:", ch.Type, ch.Environment, ch.Projects)
	}
	// Output:
	// default:production.5f3a*** is live: client production [default]
	// default:production.dele*** is not live
}

func ExampleClient_CloseIdleConnections() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	// When done with a Client, for example at the end of a test that checks
	// for leaked goroutines, close the connections it keeps.
	defer c.CloseIdleConnections()

	toks, err := c.ListAPITokens(context.Background())
	fmt.Println(len(toks), err)
	c.CloseIdleConnections()
	// A later call opens a new connection.
	toks, err = c.ListAPITokens(context.Background())
	fmt.Println(len(toks), err)
	// Output:
	// 1 <nil>
	// 1 <nil>
}

func ExampleClient_Format() {
	c, err := unleashadmin.NewClient("https://unleash.example.com", "*:*.b5d1c0ffee4a2e6f8a9c7b3d1e5f0a2c", unleashadmin.WithBearerAuth())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c)
	fmt.Printf("%#v\n", c)
	// Output:
	// unleashadmin.Client{URL: https://unleash.example.com, Auth: bearer, Key: [redacted]}
	// unleashadmin.Client{URL: https://unleash.example.com, Auth: bearer, Key: [redacted]}
}

func ExampleClient_LogValue() {
	c, err := unleashadmin.NewClient("https://unleash.example.com", "*:*.b5d1c0ffee4a2e6f8a9c7b3d1e5f0a2c")
	if err != nil {
		log.Fatal(err)
	}
	stdoutLogger().Info("ready", "client", c)
	// Output: level=INFO msg=ready client.url=https://unleash.example.com client.auth=plain client.key=[redacted]
}

func ExampleWithRetryMax() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey(),
		unleashadmin.WithRetryMax(2), unleashadmin.WithRetryWait(time.Millisecond, 10*time.Millisecond))
	defer c.CloseIdleConnections()
	ctx := context.Background()

	// A proxy in front of Unleash answers 503 twice; the third try succeeds.
	srv.FailNext(2, unleashtest.Fault{Status: http.StatusServiceUnavailable})
	toks, err := c.ListAPITokens(ctx)
	fmt.Println(len(toks), err, srv.RequestCount())

	// A create is not re-sent after a 5xx: the token may exist already.
	srv.FailNext(1, unleashtest.Fault{Status: http.StatusServiceUnavailable})
	_, err = c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "edge"})
	fmt.Println(err, srv.RequestCount())
	// Output:
	// 1 <nil> 3
	// unleashadmin: POST /api/admin/api-tokens: 503 Service Unavailable (empty body) (a token named "edge" may have been created: look for it with GetAPITokensByName) 4
}

func ExampleWithRetryWait() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithRetryWait(10*time.Millisecond, 2*time.Second))
	defer c.CloseIdleConnections()
	ctx := context.Background()

	// A Retry-After within the longest wait is waited for...
	srv.FailNext(1, unleashtest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"0"}}})
	_, err := c.ListAPITokens(ctx)
	fmt.Println(err, srv.RequestCount())

	// ...a longer one is not: the call returns ErrRateLimited at once.
	srv.FailNext(1, unleashtest.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"600"}}})
	start := time.Now()
	_, err = c.ListAPITokens(ctx)
	fmt.Println(errors.Is(err, unleashadmin.ErrRateLimited), srv.RequestCount(), time.Since(start) < time.Second)
	// Output:
	// <nil> 2
	// true 3 true
}

func ExampleWithLogger() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug, // the Client logs at debug level
		// Leave out what changes from run to run.
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 || a.Key == "elapsed" {
				return slog.Attr{}
			}
			return a
		},
	}))
	srv := unleashtest.NewServer(unleashtest.WithTokens(unleashtest.Token{Secret: seeded, TokenName: "checkout", Type: "client"}))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithLogger(logger))
	defer c.CloseIdleConnections()

	// The secret in the path is logged redacted.
	if err := c.DeleteAPIToken(context.Background(), seeded); err != nil {
		log.Fatal(err)
	}
	// Output:
	// level=DEBUG msg="unleashadmin: sending request" method=DELETE path=/api/admin/api-tokens/default:production.5f3a*** attempt=1
	// level=DEBUG msg="unleashadmin: response" method=DELETE path=/api/admin/api-tokens/default:production.5f3a*** status=200
}

func ExampleWithUserAgent() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithUserAgent("token-janitor/1.4 (platform team)"))
	defer c.CloseIdleConnections()

	if _, err := c.ListAPITokens(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Requests()[0].Header.Get("User-Agent"))
	// Output: token-janitor/1.4 (platform team)
}

// gatewayHeader adds a header to every request, as a gateway in front of
// Unleash may require.
type gatewayHeader struct {
	next        http.RoundTripper
	name, value string
}

func (g gatewayHeader) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set(g.name, g.value)
	return g.next.RoundTrip(req)
}

func ExampleWithHTTPClient() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	hc := &http.Client{
		Transport: gatewayHeader{next: http.DefaultTransport, name: "X-Gateway-Team", value: "platform"},
		Timeout:   10 * time.Second, // applies to each attempt
	}
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithHTTPClient(hc))
	defer c.CloseIdleConnections()

	if _, err := c.ListAPITokens(context.Background()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Requests()[0].Header.Get("X-Gateway-Team"))
	// The Client uses a copy: hc keeps its own redirect policy.
	fmt.Println(hc.CheckRedirect == nil)
	// Output:
	// platform
	// true
}

func ExampleWithBearerAuth() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	// Unleash accepts the key plain or as a Bearer token.
	for _, opts := range [][]unleashadmin.Option{nil, {unleashadmin.WithBearerAuth()}} {
		c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), opts...)
		_, err := c.ListAPITokens(ctx)
		c.CloseIdleConnections()
		reqs := srv.Requests()
		auth := reqs[len(reqs)-1].Header.Get("Authorization")
		fmt.Println(err, strings.HasPrefix(auth, "Bearer "))
	}
	// Output:
	// <nil> false
	// <nil> true
}

func ExampleAPIToken_IsType() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	if _, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: "checkout"}); err != nil {
		log.Fatal(err)
	}

	toks, _ := c.GetAPITokensByName(ctx, "checkout")
	t := toks[0]
	// Unleash lists a backend token as client: compare with IsType, not ==.
	fmt.Println(t.Type, t.Type == unleashadmin.TokenTypeBackend)
	fmt.Println(t.IsType(unleashadmin.TokenTypeBackend), t.IsType(unleashadmin.TokenTypeClient), t.IsType(unleashadmin.TokenTypeFrontend))
	// Output:
	// client false
	// true true false
}

func ExampleAPIToken_ExpiredAt() {
	now := time.Now()
	srv := unleashtest.NewServer(unleashtest.WithTokens(
		unleashtest.Token{TokenName: "nightly-import", Type: "client", ExpiresAt: unleashadmin.Ptr(now.Add(-time.Hour))},
		unleashtest.Token{TokenName: "checkout", Type: "client", ExpiresAt: unleashadmin.Ptr(now.Add(72 * time.Hour))},
		unleashtest.Token{TokenName: "web-shop", Type: "frontend"},
	))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()

	// Unleash lists expired tokens too.
	toks, _ := c.ListAPITokens(context.Background())
	for _, t := range toks {
		if t.ExpiredAt(now) {
			fmt.Println(t.TokenName, "has expired")
		}
	}
	// Output: nightly-import has expired
}

func ExampleAPIToken_ExpiresWithin() {
	now := time.Now()
	srv := unleashtest.NewServer(unleashtest.WithTokens(
		unleashtest.Token{TokenName: "nightly-import", Type: "client", ExpiresAt: unleashadmin.Ptr(now.Add(-time.Hour))},
		unleashtest.Token{TokenName: "checkout", Type: "client", ExpiresAt: unleashadmin.Ptr(now.Add(72 * time.Hour))},
		unleashtest.Token{TokenName: "billing", Type: "client", ExpiresAt: unleashadmin.Ptr(now.Add(90 * 24 * time.Hour))},
		unleashtest.Token{TokenName: "web-shop", Type: "frontend"},
	))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()

	// Tokens to rotate this week, including those that stopped already.
	toks, _ := c.ListAPITokens(context.Background())
	for _, t := range toks {
		if t.ExpiresWithin(now, 7*24*time.Hour) {
			fmt.Println(t.TokenName, t.ExpiredAt(now))
		}
	}
	// Output:
	// nightly-import true
	// checkout false
}

func ExampleAPIToken_InProject() {
	srv := unleashtest.NewServer(
		unleashtest.WithProjects("default", "payments"),
		unleashtest.WithTokens(
			unleashtest.Token{TokenName: "checkout", Type: "client", Projects: []string{"payments"}},
			unleashtest.Token{TokenName: "reporting", Type: "client", Projects: []string{"default", "payments"}},
			unleashtest.Token{TokenName: "edge", Type: "client"}, // all projects
		))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()

	// An all-projects token is in no single project, an admin token in none.
	toks, _ := c.ListAPITokens(context.Background())
	for _, t := range toks {
		fmt.Println(t.TokenName, t.InProject("payments"))
	}
	// Output:
	// admin false
	// checkout true
	// reporting true
	// edge false
}

func ExampleAPIToken_ProjectIDs() {
	srv := unleashtest.NewServer(
		unleashtest.WithProjects("default", "payments"),
		unleashtest.WithTokens(
			unleashtest.Token{TokenName: "checkout", Type: "client", Projects: []string{"payments"}},
			unleashtest.Token{TokenName: "reporting", Type: "client", Projects: []string{"payments", "default"}},
			unleashtest.Token{TokenName: "edge", Type: "client"},
		))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()

	toks, _ := c.ListAPITokens(context.Background())
	for _, t := range toks {
		fmt.Printf("%s %q %v\n", t.TokenName, t.Project, t.ProjectIDs())
	}
	// Output:
	// admin "*" [*]
	// checkout "payments" [payments]
	// reporting "payments,default" [default payments]
	// edge "*" [*]
}

func ExampleAPIToken_Matches() {
	srv := unleashtest.NewServer(unleashtest.WithSecureTokens())
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	created, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: "checkout"})
	other, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: "checkout"})

	// Under secure token storage a list shows selectors, not secrets:
	// Matches finds the token of a secret all the same.
	toks, _ := c.GetAPITokensByName(ctx, "checkout")
	for _, t := range toks {
		fmt.Println(t.Secret == created.Secret, t.Secure, t.Matches(created.Secret), t.Matches(other.Secret))
	}
	// Output:
	// false true true false
	// false true false true
}

func ExampleSelector() {
	srv := unleashtest.NewServer(unleashtest.WithSecureTokens())
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	created, _ := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "edge"})

	sel, ok := unleashadmin.Selector(created.Secret)
	toks, _ := c.GetAPITokensByName(ctx, "edge")
	// The selector is what lists show; it identifies, but does not
	// authenticate.
	fmt.Println(ok, len(sel), toks[0].Secret == sel)

	// A legacy secret has no selector.
	_, ok = unleashadmin.Selector(seeded)
	fmt.Println(ok)
	// Output:
	// true 22 true
	// false
}

func ExamplePtr() {
	req := unleashadmin.CreateAPITokenRequest{
		Type:      unleashadmin.TokenTypeClient,
		TokenName: "load-test",
		// Optional fields are pointers.
		ExpiresAt: unleashadmin.Ptr(time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)),
	}
	fmt.Println(req.ExpiresAt.Format(time.DateOnly))
	// Output: 2030-06-01
}

// listedSeeded returns the seeded token as the stand-in lists it.
func listedSeeded() unleashadmin.APIToken {
	srv := unleashtest.NewServer(unleashtest.WithTokens(unleashtest.Token{
		Secret: seeded, TokenName: "checkout", Type: "backend", Projects: []string{"default"}, Environment: "production",
		CreatedAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
	}))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	toks, err := c.GetAPITokensByName(context.Background(), "checkout")
	if err != nil {
		log.Fatal(err)
	}
	return toks[0]
}

func ExampleAPIToken_Redacted() {
	tok := listedSeeded()
	// json.Marshal keeps the secret, for a program that stores it; the
	// redacted copy is safe to write anywhere.
	out, _ := json.Marshal(tok.Redacted())
	fmt.Println(string(out))
	fmt.Println(tok.Secret == seeded)
	// Output:
	// {"secret":"default:production.5f3a***","tokenName":"checkout","type":"client","environment":"production","project":"default","projects":["default"],"createdAt":"2030-01-02T03:04:05Z","secure":false}
	// true
}

func ExampleAPIToken_Format() {
	tok := listedSeeded()
	// Every verb prints the secret redacted.
	fmt.Printf("%v\n", tok)
	fmt.Println(fmt.Sprintf("%+v", tok) == fmt.Sprintf("%#v", tok), fmt.Sprintf("%s", tok) == fmt.Sprint(tok))
	// Output:
	// {TokenName:"checkout" Type:client Environment:production Project:default Projects:[default] Secret:default:production.5f3a*** CreatedAt:2030-01-02T03:04:05Z Secure:false}
	// true true
}

func ExampleAPIToken_LogValue() {
	tok := listedSeeded()
	stdoutLogger().Info("found", "token", tok)
	// Output: level=INFO msg=found token.tokenName=checkout token.type=client token.environment=production token.project=default token.projects=[default] token.secret=default:production.5f3a***
}

func ExampleRotation_Format() {
	// A Rotation as RotateAPIToken returns it, with its new secret.
	r := unleashadmin.Rotation{
		New: &unleashadmin.APIToken{Secret: seeded, TokenName: "checkout", Type: unleashadmin.TokenTypeBackend,
			Environment: "production", Project: "default", Projects: []string{"default"}, CreatedAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
		OldExpiresAt: unleashadmin.Ptr(time.Date(2030, 1, 3, 3, 4, 5, 0, time.UTC)),
	}
	fmt.Printf("rotated: %v\n", r)
	// Output: rotated: {New:{TokenName:"checkout" Type:backend Environment:production Project:default Projects:[default] Secret:default:production.5f3a*** CreatedAt:2030-01-02T03:04:05Z Secure:false} OldDeleted:false OldExpiresAt:2030-01-03T03:04:05Z}
}

func ExampleRotation_LogValue() {
	r := unleashadmin.Rotation{
		New:        &unleashadmin.APIToken{Secret: seeded, TokenName: "checkout", Type: unleashadmin.TokenTypeBackend, Environment: "production", Project: "default", Projects: []string{"default"}},
		OldDeleted: true,
	}
	stdoutLogger().Info("rotated", "rotation", r)
	// Output: level=INFO msg=rotated rotation.oldDeleted=true rotation.new.tokenName=checkout rotation.new.type=backend rotation.new.environment=production rotation.new.project=default rotation.new.projects=[default] rotation.new.secret=default:production.5f3a***
}

// checkSeeded returns what ValidateTokens says about the seeded secret.
func checkSeeded() unleashadmin.TokenCheck {
	srv := unleashtest.NewServer(unleashtest.WithTokens(unleashtest.Token{
		Secret: seeded, TokenName: "checkout", Type: "client", Projects: []string{"default"}, Environment: "production",
	}))
	defer srv.Close()
	c, _ := unleashadmin.NewClientWithoutKey(srv.URL())
	defer c.CloseIdleConnections()
	checks, err := c.ValidateTokens(context.Background(), []string{seeded})
	if err != nil {
		log.Fatal(err)
	}
	return checks[0]
}

func ExampleTokenCheck_Format() {
	fmt.Printf("%v\n", checkSeeded())
	// Output: {Secret:default:production.5f3a*** Live:true Type:client Environment:production Projects:[default]}
}

func ExampleTokenCheck_LogValue() {
	stdoutLogger().Info("checked", "check", checkSeeded())
	// Output: level=INFO msg=checked check.secret=default:production.5f3a*** check.live=true check.type=client check.environment=production check.projects=[default]
}

func ExampleAPIError_Error() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()

	_, err := c.CreateProjectAPIToken(context.Background(), "paymnets", unleashadmin.CreateProjectAPITokenRequest{
		Type: unleashadmin.TokenTypeClient, TokenName: "checkout",
	})
	// Method, path, status and Unleash's own words.
	fmt.Println(err)
	// Output: unleashadmin: POST /api/admin/projects/paymnets/api-tokens: 404 Not Found: NotFoundError: No project found
}

// unleash5EventSearch is what Unleash 5.12.8 answers to GET
// /api/admin/search/events: it has no such route (the body of
// testdata/captures-5.12.8/441-events-search-created.txt).
const unleash5EventSearch = `{"id":"695d25e2-bab1-4b00-9358-c27377ef02bc","name":"NotFoundError",` +
	`"message":"The path you were looking for (/api/admin/search/events) is not available.",` +
	`"details":[{"message":"The path you were looking for (/api/admin/search/events) is not available.",` +
	`"description":"The path you were looking for (/api/admin/search/events) is not available."}]}`

func ExampleAPIError_Is() {
	ctx := context.Background()
	// An Unleash 5, which has no event search (the stand-in answers like 8.2,
	// whatever version it reports).
	unleash5 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, unleash5EventSearch)
	}))
	defer unleash5.Close()
	c, _ := unleashadmin.NewClient(unleash5.URL, unleashtest.DefaultAdminKey)
	defer c.CloseIdleConnections()

	_, err := c.ListTokenEvents(ctx, unleashadmin.TokenEventsOptions{})
	fmt.Println(errors.Is(err, unleashadmin.ErrNotSupported), errors.Is(err, unleashadmin.ErrNotFound))

	// A 404 for an unknown project is not found, and supported.
	srv := unleashtest.NewServer()
	defer srv.Close()
	c8, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c8.CloseIdleConnections()
	_, err = c8.CreateProjectAPIToken(ctx, "nope", unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: "x"})
	fmt.Println(errors.Is(err, unleashadmin.ErrNotSupported), errors.Is(err, unleashadmin.ErrNotFound))
	// Output:
	// true true
	// false true
}

func ExampleRedirectError() {
	// The old address of an Unleash that moved; it redirects every request.
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://unleash.example.com"+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	defer moved.Close()
	c, _ := unleashadmin.NewClient(moved.URL, unleashtest.DefaultAdminKey)
	defer c.CloseIdleConnections()

	// A DELETE is never re-sent to where a redirect points.
	err := c.DeleteAPIToken(context.Background(), seeded)
	var re *unleashadmin.RedirectError
	if errors.As(err, &re) {
		fmt.Println(re.Method, re.StatusCode, re.Location)
		fmt.Println(re.Reason)
		fmt.Println("use", re.SuggestedBaseURL)
	}
	// Output:
	// DELETE 301 https://unleash.example.com/api/admin/api-tokens/default:production.5f3a***
	// a DELETE is never re-sent to where a redirect points: net/http would send it as a GET, which Unleash would answer as if it were done
	// use https://unleash.example.com
}

func ExampleRedirectError_Error() {
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://unleash.example.com"+r.URL.RequestURI(), http.StatusFound)
	}))
	defer moved.Close()
	c, _ := unleashadmin.NewClient(moved.URL, unleashtest.DefaultAdminKey)
	defer c.CloseIdleConnections()

	err := c.UpdateAPITokenExpiry(context.Background(), seeded, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
	// The old address is a local port here, which changes from run to run.
	fmt.Println(strings.ReplaceAll(err.Error(), moved.URL, "http://unleash.internal"))
	// Output: unleashadmin: PUT http://unleash.internal/api/admin/api-tokens/default:production.5f3a***: 302 Found to https://unleash.example.com/api/admin/api-tokens/default:production.5f3a***, not followed: a PUT is never re-sent to where a redirect points: net/http would send it as a GET, which Unleash would answer as if it were done; if Unleash moved there, use the base URL https://unleash.example.com
}

// closedPort returns the base URL of a local port where nothing listens.
func closedPort() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

func ExampleRequestError() {
	base := closedPort()
	c, _ := unleashadmin.NewClient(base, unleashtest.DefaultAdminKey, unleashadmin.WithRetryMax(0))
	defer c.CloseIdleConnections()

	// No response came: the connection was refused.
	_, err := c.ListAPITokens(context.Background())
	var re *unleashadmin.RequestError
	if errors.As(err, &re) {
		fmt.Println(re.Method, strings.TrimPrefix(re.URL, base), errors.Is(re.Err, syscall.ECONNREFUSED))
	}
	// Output: GET /api/admin/api-tokens true
}

func ExampleRequestError_Error() {
	base := closedPort()
	c, _ := unleashadmin.NewClient(base, unleashtest.DefaultAdminKey, unleashadmin.WithRetryMax(0))
	defer c.CloseIdleConnections()

	_, err := c.ListAPITokens(context.Background())
	// The port changes from run to run; it is replaced here.
	port := base[strings.LastIndexByte(base, ':'):]
	fmt.Println(strings.ReplaceAll(err.Error(), port, ":4242"))
	// Output: unleashadmin: GET http://127.0.0.1:4242/api/admin/api-tokens: dial tcp 127.0.0.1:4242: connect: connection refused
}

func ExampleRequestError_Unwrap() {
	c, _ := unleashadmin.NewClient(closedPort(), unleashtest.DefaultAdminKey, unleashadmin.WithRetryMax(0))
	defer c.CloseIdleConnections()

	// errors.Is and errors.As see the cause through a RequestError.
	_, err := c.ListAPITokens(context.Background())
	fmt.Println(errors.Is(err, syscall.ECONNREFUSED))

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a signal ended the program's context, say
	_, err = c.ListAPITokens(ctx)
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// true
	// true
}

func ExampleFindAPIToken() {
	srv := unleashtest.NewServer(unleashtest.WithTokens(unleashtest.Token{Secret: seeded, TokenName: "checkout", Type: "client"}))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()

	toks, err := c.ListAPITokens(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	// A secret as a service holds it (or, under secure token storage, its
	// selector) names one token of the list.
	if tok, ok := unleashadmin.FindAPIToken(toks, seeded+"\n"); ok {
		fmt.Println(tok.TokenName, tok.Redacted().Secret)
	}
	_, err = c.LookupAPIToken(context.Background(), "default:production."+strings.Repeat("0", 56))
	fmt.Println(errors.Is(err, unleashadmin.ErrNotFound))
	// Output:
	// checkout default:production.5f3a***
	// true
}

func ExampleClient_CreateScopedAPIToken() {
	srv := unleashtest.NewServer(unleashtest.WithProjects("payments", "shipping"))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()

	// One project goes to the project's endpoint, several (here as one
	// comma list) to the instance's; Unleash stores the same either way.
	for _, projects := range [][]string{{"payments"}, {"shipping,payments"}} {
		tok, err := c.CreateScopedAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
			Type: unleashadmin.TokenTypeClient, TokenName: "checkout", Environment: "production", Projects: projects,
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tok.ProjectIDs())
	}
	for _, r := range srv.Requests() {
		fmt.Println(r.Method, r.Path)
	}
	// Output:
	// [payments]
	// [payments shipping]
	// POST /api/admin/projects/payments/api-tokens
	// POST /api/admin/api-tokens
}

func ExampleClient_CreateAndDeliver() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	req := unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: "checkout", Environment: "production"}

	vault := map[string]string{}
	tok, err := c.CreateAndDeliver(ctx, req, func(ctx context.Context, fresh unleashadmin.APIToken) error {
		vault[fresh.TokenName] = fresh.Secret
		return nil
	})
	fmt.Println(err, vault["checkout"] == tok.Secret)

	// A secret that cannot be stored is taken back: no token is left that
	// nobody holds.
	_, err = c.CreateAndDeliver(ctx, req, func(context.Context, unleashadmin.APIToken) error {
		return errors.New("vault: permission denied")
	})
	fmt.Println(errors.Is(err, unleashadmin.ErrNotDelivered))
	toks, _ := c.GetAPITokensByName(ctx, "checkout")
	fmt.Println(len(toks))
	// Output:
	// <nil> true
	// true
	// 1
}

func ExampleClient_RetireAPIToken() {
	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	srv := unleashtest.NewServer(unleashtest.WithClock(func() time.Time { return now }),
		unleashtest.WithTokens(unleashtest.Token{Secret: seeded, TokenName: "checkout", Type: "client"}))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	old, _ := c.LookupAPIToken(ctx, seeded)

	// With a grace period the old token keeps working for a while; an
	// expiry is never moved later than it was.
	r, err := c.RetireAPIToken(ctx, *old, unleashadmin.RetireOptions{
		GracePeriod: time.Hour, Now: func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Deleted, r.ExpiresAt.Format(time.RFC3339))
	r, _ = c.RetireAPIToken(ctx, *old, unleashadmin.RetireOptions{})
	fmt.Println(r.Deleted)
	// Output:
	// false 2027-01-04T10:00:00Z
	// true
}

func ExampleClient_Protection() {
	srv := unleashtest.NewServer(unleashtest.WithTokens(unleashtest.Token{
		Secret: "*:*.5f3a9c0e1d2b4a6f8e7d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d", TokenName: "ci-automation", Type: "admin",
	}))
	defer srv.Close()
	// The key as an Authorization header holds it: NewClient takes the
	// prefix off and sends it as a bearer token.
	c, _ := unleashadmin.NewClient(srv.URL(), "Bearer "+srv.AdminKey()+"\n")
	defer c.CloseIdleConnections()

	toks, err := c.ListAPITokens(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	slices.SortFunc(toks, func(a, b unleashadmin.APIToken) int { return strings.Compare(a.TokenName, b.TokenName) })
	for _, t := range toks {
		fmt.Printf("%s: %q, with admin tokens included: %q\n", t.TokenName, c.Protection(t, false), c.Protection(t, true))
	}
	// Output:
	// admin: "the key in use", with admin tokens included: "the key in use"
	// ci-automation: "an admin token", with admin tokens included: ""
}

func ExampleRedactText() {
	secret := "default:production.5f3a9c0e1d2b4a6f8e7d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d"
	// What a sink printed: the secret in full, and again upper-cased.
	fmt.Println(unleashadmin.RedactText("stored "+secret, secret))
	fmt.Println(unleashadmin.RedactText("STORED "+strings.ToUpper(secret[19:50]), secret))
	// Output:
	// stored default:production.5f3a***
	// [removed: it repeated a credential]
}

func ExampleRedactSecretN() {
	// Eight characters tell the tokens of a large table apart.
	fmt.Println(unleashadmin.RedactSecretN("default:production.5f3a9c0e1d2b4a6f8e7d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d", 8))
	// Output: default:production.5f3a9c0e***
}

func ExampleGraceExpiry() {
	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	soon := now.Add(30 * time.Minute)
	for _, tok := range []unleashadmin.APIToken{{TokenName: "never-expires"}, {TokenName: "expires-soon", ExpiresAt: &soon}} {
		until, change := unleashadmin.GraceExpiry(tok, now, time.Hour)
		fmt.Println(tok.TokenName, until.Format(time.Kitchen), change)
	}
	// Output:
	// never-expires 10:00AM true
	// expires-soon 9:30AM false
}

func ExampleScopeMismatch() {
	req := unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: "checkout", Environment: "production", Projects: []string{"payments"}}
	// Unleash 7 and 8 answer a backend token as client: the same kind.
	made := unleashadmin.APIToken{TokenName: "checkout", Type: unleashadmin.TokenTypeClient, Environment: "production", Project: "payments"}
	fmt.Printf("%q\n", unleashadmin.ScopeMismatch(req, made))
	made.TokenName, made.Project = "payments", "*"
	fmt.Printf("%q\n", unleashadmin.ScopeMismatch(req, made))
	// Output:
	// ""
	// "another name, other projects"
}

func ExampleRequestFor() {
	// A token listed with only "project" (as some versions list one of
	// several projects) is asked for again in each of them.
	old := unleashadmin.APIToken{TokenName: "checkout", Type: unleashadmin.TokenTypeClient, Environment: "production", Project: "shipping,payments"}
	req := unleashadmin.RequestFor(old)
	fmt.Println(req.TokenName, req.Type, req.Environment, req.Projects)
	// Output: checkout client production [payments shipping]
}

func ExampleParseTokenType() {
	for _, s := range []string{"Backend", "admin"} {
		t, err := unleashadmin.ParseTokenType(s)
		fmt.Printf("%q %v\n", t, errors.Is(err, unleashadmin.ErrInvalidArgument))
	}
	e, _ := unleashadmin.ParseEventType("deleted")
	fmt.Println(e)
	// Output:
	// "backend" false
	// "" true
	// api-token-deleted
}

func ExampleRedactError() {
	secret := "default:production.5f3a9c0e1d2b4a6f8e7d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d"
	err := fmt.Errorf("vault: cannot write %s: %w", secret, os.ErrPermission)
	err = unleashadmin.RedactError(err, secret)
	fmt.Println(err)
	fmt.Println(errors.Is(err, os.ErrPermission))
	// Output:
	// vault: cannot write default:production.5f3a***: permission denied
	// true
}

func ExampleClient_IsKey() {
	srv := unleashtest.NewServer()
	defer srv.Close()
	// However the key is written, the client knows its own token.
	c, _ := unleashadmin.NewClient(srv.URL(), " bearer "+srv.AdminKey()+" ")
	defer c.CloseIdleConnections()
	toks, err := c.ListAPITokens(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range toks {
		fmt.Println(t.TokenName, c.IsKey(t))
	}
	// Output: admin true
}
