package unleashadmin_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// provision stands for a user's code: it mints a backend token for a
// service in a project. The test below is the one the README shows.
func provision(ctx context.Context, c *unleashadmin.Client, project, service string) error {
	_, err := c.CreateProjectAPIToken(ctx, project, unleashadmin.CreateProjectAPITokenRequest{
		Type: unleashadmin.TokenTypeBackend, TokenName: service, Environment: "production",
	})
	return err
}

func TestProvisionRetriesNothingOn503(t *testing.T) {
	srv := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "payments"))
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	if err != nil {
		t.Fatal(err)
	}

	// Your code under test: provision a token for a service.
	if err := provision(context.Background(), c, "payments", "checkout"); err != nil {
		t.Fatal(err)
	}
	toks := srv.Tokens()
	if len(toks) != 2 || toks[1].Project != "payments" { // the admin key, then ours
		t.Fatalf("server holds %+v", toks)
	}

	// A 503 on create comes back as an error, and the create is not re-sent.
	srv.FailNext(1, unleashtest.Fault{Status: 503, Body: []byte(`{"message":"maintenance"}`)})
	before := srv.RequestCount()
	if err := provision(context.Background(), c, "payments", "billing"); err == nil {
		t.Fatal("want the 503")
	}
	if n := srv.RequestCount() - before; n != 1 {
		t.Fatalf("sent %d requests", n)
	}
}

// TestREADMEShowsThisTest keeps the README's copy of the test above the
// same as the one that runs.
func TestREADMEShowsThisTest(t *testing.T) {
	const start = "func TestProvisionRetriesNothingOn503("
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, shown, ok := strings.Cut(string(readme), "```go\n"+start)
	shown, _, closed := strings.Cut(shown, "\n```")
	_, runs, found := strings.Cut(string(self), "\n"+start)
	runs, _, _ = strings.Cut(runs, "\n}\n")
	if !ok || !closed || !found || shown != runs+"\n}" {
		t.Errorf("README.md's %s...} differs from the one in readme_test.go", start)
	}
}
