package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

func client(t *testing.T, srv *unleashtest.Server) *unleashadmin.Client {
	t.Helper()
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWalkThrough runs the quickstart against the in-process server and
// checks that every step ran, no full secret was printed and nothing was
// left behind.
func TestWalkThrough(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	var out bytes.Buffer
	if err := run(&out, client(t, srv)); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"1. create a backend", "2. create a frontend", "3. list", "4. extend", "5. delete", "quickstart-frontend-", "deleted; 0 tokens"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if full := regexp.MustCompile(`\.[0-9a-f]{56}`).FindString(text); full != "" {
		t.Errorf("output holds a full secret:\n%s", text)
	}
	if !strings.Contains(text, "***") {
		t.Errorf("no redacted secret in the output:\n%s", text)
	}
	if n := len(srv.Tokens()); n != 1 {
		t.Errorf("%d tokens left on the server, want only the admin key", n)
	}
}

// TestFailureCleansUp: when a step fails, the tokens made before it are
// deleted. Without project "default", step 2 fails after step 1 created a
// token.
func TestFailureCleansUp(t *testing.T) {
	srv := unleashtest.NewTestServer(t, unleashtest.WithProjects("other"))
	var out bytes.Buffer
	err := run(&out, client(t, srv))
	if !strings.Contains(out.String(), "2. create a frontend") || err == nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if n := len(srv.Tokens()); n != 1 {
		t.Errorf("%d tokens left on the server after a failure, want only the admin key", n)
	}
}
