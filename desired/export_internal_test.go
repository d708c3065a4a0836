package desired

import (
	"fmt"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// TestExportOfOddLists gives export token lists no server of the matrix
// sends, and checks that what the file cannot say is left out rather than
// written in a form a plan would read otherwise: a token without an
// environment (a plan would give the entry the server's default) or no
// projects (a plan would read all projects), a type
// the file format does not know, a project list that holds an ID the
// format refuses, and a token listed with "project" only.
func TestExportOfOddLists(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok := func(name, typ, env string, projects ...string) unleashadmin.APIToken {
		return unleashadmin.APIToken{Secret: "*:" + env + "." + name, TokenName: name, Type: unleashadmin.TokenType(typ),
			Environment: env, Projects: projects, CreatedAt: now.Add(-time.Hour)}
	}
	legacy := tok("legacy", "CLIENT", "production")
	legacy.Project = "b,a"
	toks := []unleashadmin.APIToken{
		tok("no-env", "client", "", "*"),
		tok("no-project", "client", "development"),
		tok("edge", "edge", "development", "*"),
		tok("bad-project", "client", "development", "a", "b\u200b"),
		legacy,
	}
	res, err := export(toks, now, ExportOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.File.Tokens {
		got = append(got, fmt.Sprintf("%s %s %s %v", e.Name, e.Type, e.Environment, e.Projects))
	}
	for _, l := range res.LeftOut {
		got = append(got, l.Name+": "+l.Reason)
	}
	want := []string{
		"legacy client production [a b]",
		"bad-project: the file format refuses it: projects: a project ID holds an invisible or format character U+200B",
		"edge: the file format refuses it: type: want client, backend or frontend",
		"no-env: its newest token names no environment",
		"no-project: its newest token names no project",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if p := plan(res.File, toks, nil, now, "development", Options{}, nil); len(p) != 1 || p[0].Kind != ActionKeep {
		t.Fatalf("plan: %v", p)
	}
}
