// Command quickstart walks through the life of Unleash API tokens: it
// creates a backend token and a project frontend token, lists the project's
// tokens, extends an expiry and deletes both, printing each step as a table
// with secrets redacted.
//
// With UNLEASH_URL and UNLEASH_API_TOKEN set it works on that server (and
// removes what it created); without them it starts an in-process unleashtest
// server, so it runs with nothing installed:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/examples/internal/connect"
)

const project = "default"

func main() {
	conn, err := connect.Open()
	if err == nil {
		fmt.Printf("Talking to %s\n", conn.Where)
		err = run(os.Stdout, conn.Client)
		conn.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, c *unleashadmin.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	suffix := time.Now().UTC().Format("20060102-150405")

	// If a step fails, delete what was created so far (deleting a secret
	// Unleash no longer holds is not an error).
	var created []string
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, secret := range created {
			_ = c.DeleteAPIToken(ctx, secret)
		}
	}()

	step(out, 1, "create a backend token for all projects, expiring in 30 days")
	backend, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{
		Type:      unleashadmin.TokenTypeBackend,
		TokenName: "quickstart-backend-" + suffix,
		ExpiresAt: unleashadmin.Ptr(time.Now().Add(30 * 24 * time.Hour)),
	})
	if err != nil {
		return err
	}
	created = append(created, backend.Secret)
	table(out, *backend)

	step(out, 2, "create a frontend token in project "+project+", environment production")
	frontend, err := c.CreateProjectAPIToken(ctx, project, unleashadmin.CreateProjectAPITokenRequest{
		Type:        unleashadmin.TokenTypeFrontend,
		TokenName:   "quickstart-frontend-" + suffix,
		Environment: "production",
	})
	if err != nil {
		return err
	}
	created = append(created, frontend.Secret)
	table(out, *frontend)

	step(out, 3, "list the tokens of project "+project)
	toks, err := c.ListProjectAPITokens(ctx, project)
	if err != nil {
		return err
	}
	table(out, toks...)

	step(out, 4, "extend the backend token's expiry to 90 days, then read it back")
	if err := c.UpdateAPITokenExpiry(ctx, backend.Secret, time.Now().Add(90*24*time.Hour)); err != nil {
		return err
	}
	same, err := c.GetAPITokensByName(ctx, backend.TokenName)
	if err != nil {
		return err
	}
	table(out, same...)

	step(out, 5, "delete both tokens")
	if err := c.DeleteAPIToken(ctx, backend.Secret); err != nil {
		return err
	}
	if err := c.DeleteProjectAPIToken(ctx, project, frontend.Secret); err != nil {
		return err
	}
	created = nil
	left, err := c.GetAPITokensByName(ctx, backend.TokenName)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "deleted; %d tokens named %s remain\n", len(left), backend.TokenName)
	return nil
}

func step(out io.Writer, n int, what string) {
	fmt.Fprintf(out, "\n%d. %s\n", n, what)
}

// table prints tokens with their secrets redacted.
func table(out io.Writer, toks ...unleashadmin.APIToken) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTYPE\tENVIRONMENT\tPROJECTS\tEXPIRES\tSECRET")
	for _, t := range toks {
		expires := "never"
		if t.ExpiresAt != nil {
			expires = t.ExpiresAt.UTC().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\t%s\n", t.TokenName, t.Type, t.Environment, t.Projects, expires, unleashadmin.RedactSecret(t.Secret))
	}
	_ = w.Flush()
}
