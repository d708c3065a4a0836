// Command list-project-tokens prints the tokens of one project as a table,
// secrets redacted. It reads UNLEASH_URL and UNLEASH_API_TOKEN; without them
// it runs against an in-process stand-in holding two sample tokens.
//
//	go run ./examples/list-project-tokens -project default
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/examples/internal/connect"
)

func main() {
	project := flag.String("project", "default", "project ID")
	flag.Parse()
	if err := run(*project); err != nil {
		fmt.Fprintln(os.Stderr, "list-project-tokens:", err)
		os.Exit(1)
	}
}

func run(project string) error {
	conn, err := connect.Open()
	if err != nil {
		return err
	}
	defer conn.Close()
	c := conn.Client
	fmt.Println("Talking to", conn.Where)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if conn.StandIn {
		// The stand-in starts empty: give it something to list.
		for _, typ := range []unleashadmin.TokenType{unleashadmin.TokenTypeBackend, unleashadmin.TokenTypeFrontend} {
			if _, err := c.CreateProjectAPIToken(ctx, project, unleashadmin.CreateProjectAPITokenRequest{Type: typ, TokenName: "sample-" + string(typ)}); err != nil {
				return err
			}
		}
	}
	toks, err := c.ListProjectAPITokens(ctx, project)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tTYPE\tENVIRONMENT\tPROJECTS\tEXPIRES\tSECRET")
	for _, t := range toks {
		expires := "never"
		if t.ExpiresAt != nil {
			expires = t.ExpiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\t%s\n", t.TokenName, t.Type, t.Environment, t.Projects, expires, unleashadmin.RedactSecret(t.Secret))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Printf("%d tokens in project %s\n", len(toks), project)
	return nil
}
