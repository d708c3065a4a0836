package main

// Tests of export: the desired-state file of an instance's live tokens,
// which plan, against the same instance, leaves as it is.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// exportServer is the server of the export round trip: the one named by
// UNLEASH_URL and UNLEASH_API_TOKEN, else a stand-in with a second project
// (in secure token storage with UNLEASH_STANDIN_SECURE=1, or secure).
// other is the second project: UNLEASH_TEST_OTHER_PROJECT on a real
// server, as for the integration suite ("second", which scripts/unleash.sh
// seeds).
func exportServer(t *testing.T, secure bool) (url, key, other string, c *unleashadmin.Client) {
	t.Helper()
	other = "second"
	if u, k := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN"); u != "" && k != "" {
		url, key = u, k
		if p := os.Getenv("UNLEASH_TEST_OTHER_PROJECT"); p != "" {
			other = p
		}
	} else {
		opts := []unleashtest.Option{unleashtest.WithProjects("default", other)}
		if secure || os.Getenv("UNLEASH_STANDIN_SECURE") == "1" {
			opts = append(opts, unleashtest.WithSecureTokens())
		}
		srv := unleashtest.NewTestServer(t, opts...)
		url, key = srv.URL(), srv.AdminKey()
	}
	c, err := unleashadmin.NewClient(url, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return url, key, other, c
}

// TestExportRoundTrip drives export and plan as built binaries: the file
// of an instance with backend, client and frontend tokens of one, several
// and all projects, tokens with expiries and names with spaces and odd
// characters parses, names no secret, and plans no change; with
// duplicates and expired tokens of its names, the plan retires exactly
// those, which export named. Against a real server it exports the names
// of its own run only (--name-prefix), and the file has no prune rule.
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	url, key, other, c := exportServer(t, false)
	testExportRoundTrip(t, url, key, other, c)
}

// TestExportRoundTripSecure runs the same against a stand-in in secure
// token storage mode; against a real server it is TestExportRoundTrip's
// job, whatever mode the server is in.
func TestExportRoundTripSecure(t *testing.T) {
	t.Parallel()
	if os.Getenv("UNLEASH_URL") != "" && os.Getenv("UNLEASH_API_TOKEN") != "" {
		t.Skip("runs against the stand-in only; TestExportRoundTrip covers the real server")
	}
	url, key, other, c := exportServer(t, true)
	testExportRoundTrip(t, url, key, other, c)
}

func testExportRoundTrip(t *testing.T, url, key, other string, c *unleashadmin.Client) {
	ctx := context.Background()
	info := serverFacts(t, url, key)
	r := binary(t, url, key)
	prefix := uniqueName(t) + "-"
	dir := t.TempDir()
	cleanup := filepath.Join(dir, "cleanup.yaml")
	writeFile(t, cleanup, "tokens: []\nprune:\n  namePrefix: "+prefix+"\n")
	t.Cleanup(func() {
		if _, errOut, code := r(t, "", "apply", "-f", cleanup); code != 0 {
			t.Errorf("cleanup: exit %d: %s", code, errOut)
		}
		toks, err := c.ListAPITokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range toks {
			if strings.HasPrefix(tok.TokenName, prefix) {
				t.Errorf("left behind: %s", tok.TokenName)
			}
		}
	})
	var made []unleashadmin.APIToken // every token of the run, secrets included
	mk := func(name string, typ unleashadmin.TokenType, env string, projects []string, expires *time.Time) unleashadmin.APIToken {
		t.Helper()
		tok, err := c.CreateScopedAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: typ, TokenName: prefix + name,
			Environment: env, Projects: projects, ExpiresAt: expires})
		if err != nil {
			t.Fatalf("creating %s: %v", name, err)
		}
		made = append(made, *tok)
		return *tok
	}
	expire := func(tok unleashadmin.APIToken) {
		t.Helper()
		if err := c.UpdateAPITokenExpiry(ctx, tok.Secret, time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	backend := unleashadmin.TokenTypeBackend
	if !info.HasBackendType() {
		backend = unleashadmin.TokenTypeClient
	}
	in30d := unleashadmin.Ptr(time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second))
	in1h := unleashadmin.Ptr(time.Now().Add(time.Hour).UTC().Truncate(time.Second))
	odd := `odd: #ü 'q' "dq" [x] {y} & * ! | > % @ ` + "`" + ` ~ 名前 🙂`
	mk("checkout svc", backend, "production", []string{"default"}, nil)
	multi := mk("multi", unleashadmin.TokenTypeClient, "development", []string{"default", other}, nil)
	mk("web all", unleashadmin.TokenTypeFrontend, "production", nil, nil)
	mk("web one", unleashadmin.TokenTypeFrontend, "development", []string{other}, in30d)
	mk("expiring", unleashadmin.TokenTypeClient, "production", nil, in30d)
	mk(odd, unleashadmin.TokenTypeClient, "development", []string{"default"}, nil)
	// Left out, and said so: two scopes, an invisible character, two
	// names that differ by case.
	mk("mixed", unleashadmin.TokenTypeClient, "development", []string{"default"}, nil)
	mk("mixed", unleashadmin.TokenTypeFrontend, "production", []string{"default"}, nil)
	mk("zero\u200bwidth", unleashadmin.TokenTypeClient, "development", nil, nil)
	mk("Case", unleashadmin.TokenTypeClient, "development", nil, nil)
	mk("case", unleashadmin.TokenTypeClient, "development", nil, nil)
	// Left out without a word: only expired tokens.
	expire(mk("gone", unleashadmin.TokenTypeClient, "development", nil, in1h))

	// The entries a reader expects, each with the type the server lists.
	listedType := func(name string) string {
		toks := byName(t, c, prefix+name)
		if len(toks) == 0 {
			t.Fatalf("no token %s", name)
		}
		return strings.ToLower(string(toks[0].Type))
	}
	want := []string{
		prefix + "checkout svc " + listedType("checkout svc") + " production [default]",
		prefix + "expiring client production []",
		prefix + "multi client development " + fmt.Sprint(slices.Sorted(slices.Values([]string{"default", other}))),
		prefix + odd + " client development [default]",
		prefix + "web all frontend production []",
		prefix + "web one frontend development [" + other + "]",
	}
	if info.SecureTokens && listedType("checkout svc") != string(backend) {
		t.Errorf("under secure token storage a backend token lists as %s", listedType("checkout svc"))
	}
	entries := func(f *desired.File) []string {
		var out []string
		for _, e := range f.Tokens {
			out = append(out, fmt.Sprintf("%s %s %s %v", e.Name, e.Type, e.Environment, e.Projects))
		}
		return out
	}
	noSecret := func(what, text string) {
		t.Helper()
		for _, tok := range made {
			_, random, _ := strings.Cut(tok.Secret, ".")
			parts := []string{random}
			if sel, ok := unleashadmin.Selector(tok.Secret); ok {
				parts = []string{sel, strings.TrimPrefix(random, "v2_"+sel+"_")}
			}
			for _, p := range parts {
				if strings.Contains(text, p) {
					t.Fatalf("%s holds the secret or selector of %s", what, tok.TokenName)
				}
			}
		}
	}
	exported := filepath.Join(dir, "exported.yaml")
	export := func() (*desired.File, string, string) {
		t.Helper()
		out, errOut, code := r(t, "", "export", "--name-prefix", prefix)
		if code != exitOK {
			t.Fatalf("export: exit %d: %s", code, errOut)
		}
		noSecret("export's output", out)
		noSecret("export's stderr", errOut)
		clean(t, "export's stderr", errOut)
		writeFile(t, exported, out)
		f, err := desired.ReadFile(exported)
		if err != nil {
			t.Fatalf("the exported file: %v\n%s", err, out)
		}
		mustEqualLines(t, "entries", entries(f), want)
		if f.Prune != (desired.PruneRule{}) {
			t.Errorf("prune %+v", f.Prune)
		}
		// -o json: the same file, in the file's JSON form.
		js, errJS, code := r(t, "", "export", "--name-prefix", prefix, "-o", "json")
		if code != exitOK || errJS != errOut {
			t.Fatalf("export -o json: exit %d: %s", code, errJS)
		}
		noSecret("export -o json", js)
		fj, err := desired.Parse([]byte(js))
		if err != nil || !reflect.DeepEqual(entries(fj), entries(f)) || !strings.HasPrefix(js, "{") {
			t.Fatalf("export -o json: %v\n%s", err, js)
		}
		var raw map[string]any
		if err := json.Unmarshal([]byte(js), &raw); err != nil || len(raw) != 1 || raw["tokens"] == nil {
			t.Fatalf("export -o json is not {\"tokens\": [...]}: %v\n%s", err, js)
		}
		return f, out, errOut
	}
	// notes are the lines export prints on stderr, less its prefix, but
	// the summary; each is a comment at the top of the file as well.
	notes := func(out, errOut string) []string {
		t.Helper()
		var ns []string
		for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
			n, ok := strings.CutPrefix(line, "unleash-tokens export: ")
			if !ok {
				t.Fatalf("stderr line %q", line)
			}
			if !strings.HasPrefix(n, "exported ") {
				ns = append(ns, n)
				if !strings.Contains(out, "\n# "+n+"\n") && !strings.HasPrefix(out, "# "+n+"\n") {
					t.Errorf("the file lacks the comment %q:\n%s", n, out)
				}
			}
		}
		return ns
	}
	leftOut := []string{
		fmt.Sprintf(`left out "%sCase": another exported name differs from it only by case or Unicode form, which the file format refuses`, prefix),
		fmt.Sprintf(`left out "%scase": another exported name differs from it only by case or Unicode form, which the file format refuses`, prefix),
		fmt.Sprintf(`left out "%smixed": its live tokens have different scopes, and an entry has one: client in development for default; frontend in production for default`, prefix),
		fmt.Sprintf(`left out "%szero\u200bwidth": the file format refuses it: name holds an invisible or format character U+200B`, prefix),
	}

	// Without duplicates or expired tokens of its names: plan of the file
	// changes nothing.
	f, out, errOut := export()
	mustEqualLines(t, "notes", notes(out, errOut), leftOut)
	if !strings.Contains(errOut, "exported 6 name(s); 4 left out; the first apply retires 0 token(s)") {
		t.Errorf("summary:\n%s", errOut)
	}
	if _, errPlan, code := r(t, "", "plan", "-f", exported, "--detailed-exitcode"); code != exitOK {
		t.Fatalf("plan of the exported file: exit %d: %s", code, errPlan)
	}
	planOut, _, _ := r(t, "", "plan", "-f", exported, "-o", "json")
	var p struct {
		Actions []struct {
			Action, Name string
			Token        struct{ CreatedAt time.Time }
		}
	}
	if err := json.Unmarshal([]byte(planOut), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != len(f.Tokens) {
		t.Fatalf("plan: %s", planOut)
	}
	for _, a := range p.Actions {
		if a.Action != "keep" {
			t.Fatalf("plan: %s", planOut)
		}
	}

	// A duplicate of one name (newer: the plan keeps it) and an expired
	// token of another: the file is the same, and export names the two
	// tokens the plan retires.
	time.Sleep(10 * time.Millisecond) // a later createdAt, on any server
	mk("multi", unleashadmin.TokenTypeClient, "development", []string{other, "default"}, nil)
	stale := mk("expiring", unleashadmin.TokenTypeClient, "production", nil, in1h)
	expire(stale)
	created := func(tok unleashadmin.APIToken) time.Time {
		for _, l := range byName(t, c, tok.TokenName) {
			if l.Matches(tok.Secret) {
				return l.CreatedAt
			}
		}
		t.Fatalf("no token %s", tok.TokenName)
		return time.Time{}
	}
	retired := map[string]time.Time{multi.TokenName: created(multi), stale.TokenName: created(stale)}
	f2, out, errOut := export()
	if !reflect.DeepEqual(entries(f2), entries(f)) {
		t.Fatalf("second export: %v", entries(f2))
	}
	var retires []string
	for _, n := range notes(out, errOut) {
		if !slices.Contains(leftOut, n) {
			retires = append(retires, n)
		}
	}
	mustEqualLines(t, "retires", retires, []string{
		fmt.Sprintf(`the first apply retires a token of "%sexpiring" (client in production for *, made %s, expired %s): expired at %[3]s`,
			prefix, created(stale).UTC().Format(time.RFC3339), expiryOf(t, c, stale).UTC().Format(time.RFC3339)),
		fmt.Sprintf(`the first apply retires a token of "%smulti" (client in development for %s, made %s): a duplicate: a newer token of the same scope is kept`,
			prefix, strings.Join(slices.Sorted(slices.Values([]string{"default", other})), ","), created(multi).UTC().Format(time.RFC3339)),
	})
	if _, _, code := r(t, "", "plan", "-f", exported, "--detailed-exitcode"); code != exitChanges {
		t.Fatalf("plan with duplicates: exit %d, want %d", code, exitChanges)
	}
	planOut, _, _ = r(t, "", "plan", "-f", exported, "-o", "json")
	p.Actions = nil
	if err := json.Unmarshal([]byte(planOut), &p); err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, a := range p.Actions {
		switch a.Action {
		case "keep":
		case "retire":
			got[a.Name] = a.Token.CreatedAt
		default:
			t.Fatalf("plan: %s", planOut)
		}
	}
	if len(got) != 2 || !got[multi.TokenName].Equal(retired[multi.TokenName]) || !got[stale.TokenName].Equal(retired[stale.TokenName]) {
		t.Fatalf("the plan retires %v, want %v:\n%s", got, retired, planOut)
	}
	mustRun(t, r, "", "apply", "-f", exported)
	if _, errPlan, code := r(t, "", "plan", "-f", exported, "--detailed-exitcode"); code != exitOK {
		t.Fatalf("plan after the apply: exit %d: %s", code, errPlan)
	}
	// The names left out were not touched.
	for _, name := range []string{"mixed", "zero\u200bwidth", "Case", "case", "gone"} {
		if n := len(byName(t, c, prefix+name)); n == 0 || name == "mixed" && n != 2 {
			t.Errorf("%s: %d tokens", name, n)
		}
	}
}

// expiryOf returns the expiry tok has on the server.
func expiryOf(t *testing.T, c *unleashadmin.Client, tok unleashadmin.APIToken) time.Time {
	t.Helper()
	for _, l := range byName(t, c, tok.TokenName) {
		if l.Matches(tok.Secret) && l.ExpiresAt != nil {
			return *l.ExpiresAt
		}
	}
	t.Fatalf("no expiry of %s", tok.TokenName)
	return time.Time{}
}

func mustEqualLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestExportNotesCannotDriveTheTerminal: names and environments a server
// hands out are escaped in the notes, on stderr and in the file's
// comments, which stay comments: the file parses, each note on one line.
// U+FFFF, which YAML refuses even in a comment, is escaped too.
func TestExportNotesCannotDriveTheTerminal(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	bad := "prod\u202e"
	srv := unleashtest.NewTestServer(t, unleashtest.WithEnvironments("development", "production", bad), unleashtest.WithTokens(
		unleashtest.Token{TokenName: hostile, Type: "client"},
		unleashtest.Token{TokenName: "line\nbreak\u0085nel", Type: "client"},
		unleashtest.Token{TokenName: "nonchar\uffff\ufffe", Type: "client"},
		unleashtest.Token{TokenName: "env", Type: "client", Environment: bad},
		unleashtest.Token{TokenName: "ok", Type: "client", CreatedAt: now.Add(-time.Hour)},
		unleashtest.Token{TokenName: "ok", Type: "frontend", Environment: bad, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: unleashadmin.Ptr(now.Add(-time.Minute))},
	))
	out, errOut, code := inProcess(srv.URL(), srv.AdminKey())(t, "", "export")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	clean(t, "stderr", errOut)
	clean(t, "stdout", out)
	for _, text := range []string{out, errOut} {
		if strings.ContainsAny(text, "\uffff\ufffe") {
			t.Errorf("a noncharacter printed raw:\n%q", text)
		}
	}
	f, err := desired.Parse([]byte(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(f.Tokens) != 1 || f.Tokens[0].Name != "ok" {
		t.Fatalf("%+v", f)
	}
	comments := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "# ") {
			comments++
		}
	}
	// Four names left out, one token retired: five notes, one line each.
	if stderrLines := strings.Count(errOut, "\n"); comments != 5 || stderrLines != 6 {
		t.Fatalf("%d comments, %d lines on stderr:\n%s\n%s", comments, stderrLines, out, errOut)
	}
	for _, want := range []string{`\u202e\u0085\x1b]52;c;aGk=\x07\r\x1b[1A`, `line\nbreak\u0085nel`, `nonchar\uffff\ufffe`,
		`environment holds an invisible or format character U+202E`, `frontend in prod\u202e for *`} {
		if !strings.Contains(errOut, want) || !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s\n%s", want, errOut, out)
		}
	}
}

// TestExportUsage: export takes no arguments, -o yaml or json (yaml by
// default), and says so in its help; nothing is sent on a mistake.
func TestExportUsage(t *testing.T) {
	t.Parallel()
	srv := unleashtest.NewTestServer(t)
	r := inProcess(srv.URL(), srv.AdminKey())
	before := len(srv.Requests())
	for _, args := range [][]string{{"export", "extra"}, {"export", "-o", "table"}, {"export", "-o", "wide"}} {
		if _, errOut, code := r(t, "", args...); code != exitUsage || !strings.HasPrefix(errOut, "unleash-tokens export: ") {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	if _, errOut, _ := r(t, "", "export", "-o", "table"); !strings.Contains(errOut, `-o must be yaml or json, not "table"`) {
		t.Errorf("-o table: %s", errOut)
	}
	if n := len(srv.Requests()); n != before {
		t.Errorf("%d requests sent", n-before)
	}
	help, _, code := r(t, "", "export", "--help")
	for _, want := range []string{"usage: unleash-tokens export [-f FILE [--instance NAME]...] [--name-prefix P]\n    [--project ID] [-o yaml|json]", "-name-prefix P", "-project ID",
		"output: yaml", "(default yaml)", "plan -f", "stderr"} {
		if code != exitOK || !strings.Contains(help, want) {
			t.Errorf("export --help lacks %q:\n%s", want, help)
		}
	}
	main, _, _ := r(t, "", "--help")
	if !strings.Contains(main, "  export ") {
		t.Errorf("--help does not list export:\n%s", main)
	}
	out := mustRun(t, r, "", "export")
	if out != "tokens: []\n" {
		t.Errorf("export of an instance with no tokens but its admin key: %q", out)
	}
}
