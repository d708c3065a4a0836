package desired_test

// Tests of Export: the file of an instance's live tokens, which a plan
// against the same instance leaves as it is.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
	"go.yaml.in/yaml/v3"
)

// storageModes runs test against a fixture in each token storage mode.
func storageModes(t *testing.T, test func(t *testing.T, f *fixture, secure bool)) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("secure=%t", secure), func(t *testing.T) {
			t.Parallel()
			var opts []unleashtest.Option
			if secure {
				opts = append(opts, unleashtest.WithSecureTokens())
			}
			test(t, newFixture(t, opts...), secure)
		})
	}
}

func (f *fixture) export(opts desired.ExportOptions) *desired.ExportResult {
	f.t.Helper()
	opts.Now = f.clk.Now
	res, err := desired.Export(context.Background(), f.c, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

// marshalYAML writes v as the command does: two-space indents.
func marshalYAML(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// entryLine is an entry as "name\ttype\tenvironment\tprojects".
func entryLine(e desired.Entry) string {
	return fmt.Sprintf("%s\t%s\t%s\t%s", e.Name, e.Type, e.Environment, strings.Join(e.Projects, ","))
}

func entryLines(f *desired.File) []string {
	out := make([]string, len(f.Tokens))
	for i, e := range f.Tokens {
		out[i] = entryLine(e)
	}
	return out
}

// noSecretIn fails t when text holds the random part or the selector of a
// token the server holds.
func noSecretIn(t *testing.T, f *fixture, what string, text []byte) {
	t.Helper()
	for _, tok := range f.srv.Tokens() {
		_, random, _ := strings.Cut(tok.Secret, ".")
		random = strings.TrimPrefix(random, "v2_")
		for _, s := range []string{random, tok.Selector} {
			if s != "" && bytes.Contains(text, []byte(s)) {
				t.Fatalf("%s holds the secret or selector of %q:\n%s", what, tok.TokenName, text)
			}
		}
	}
}

// TestExportRoundTrip: the file of an instance with backend, client and
// frontend tokens of one, several and all projects, tokens with expiries,
// and names that YAML reads as other types or that need quoting, parses
// back to the same file, and its plan against the same instance keeps one
// token per entry and changes nothing, whatever the default environment.
func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	storageModes(t, func(t *testing.T, f *fixture, secure bool) {
		f.seed("checkout", unleashadmin.TokenTypeBackend, "production", []string{"default"}, 0)
		f.seed("multi", unleashadmin.TokenTypeClient, "development", []string{"b", "a"}, 0)
		f.seed("web", unleashadmin.TokenTypeFrontend, "production", nil, 0)
		f.seed("web-a", unleashadmin.TokenTypeFrontend, "development", []string{"a"}, 90*day)
		f.seed("expiring", unleashadmin.TokenTypeClient, "development", []string{"a", "b"}, time.Hour)
		odd := []string{"true", "123", "~", "null", "a: b", "#x", "- x", `'q"`, "caf\u00e9 au lait", "名前 with spaces",
			"?a", "=", "<<", "2026-01-01", "0x1f", "[x]", "{y}", "&a", "*a", "!a", "|a", ">a", "%a", "@a", "`a", "a #b",
			"emoji \U0001F600", strings.Repeat("long name ", 25) + "end"}
		for _, name := range odd {
			f.seed(name, unleashadmin.TokenTypeClient, "development", nil, 0)
		}
		before := len(f.srv.Requests())
		res := f.export(desired.ExportOptions{})
		mustEqual(t, "requests", f.requestsSince(before), []string{"GET /api/admin/api-tokens"})

		backend := "client" // Unleash 7 and 8 list a backend token as client...
		if secure {
			backend = "backend" // ... but under secure token storage
		}
		want := []string{
			"checkout\t" + backend + "\tproduction\tdefault",
			"expiring\tclient\tdevelopment\ta,b",
			"multi\tclient\tdevelopment\ta,b",
			"web\tfrontend\tproduction\t",
			"web-a\tfrontend\tdevelopment\ta",
		}
		for _, name := range odd {
			want = append(want, name+"\tclient\tdevelopment\t")
		}
		// Sorted by name, before the type that follows it.
		slices.SortFunc(want, func(a, b string) int {
			return strings.Compare(strings.SplitN(a, "\t", 2)[0], strings.SplitN(b, "\t", 2)[0])
		})
		mustEqual(t, "entries", strings.Join(entryLines(res.File), "\n"), strings.Join(want, "\n"))
		if len(res.LeftOut) != 0 || len(res.Retires) != 0 || res.File.Prune != (desired.PruneRule{}) {
			t.Fatalf("left out %v, retires %v, prune %v", res.LeftOut, res.Retires, res.File.Prune)
		}
		if !res.Now.Equal(f.clk.Now()) {
			t.Errorf("Now %v", res.Now)
		}

		yamlText := marshalYAML(t, res.File)
		jsonText, err := json.Marshal(res.File)
		if err != nil {
			t.Fatal(err)
		}
		for what, text := range map[string][]byte{"YAML": yamlText, "JSON": jsonText} {
			noSecretIn(t, f, what, text)
			parsed, err := desired.Parse(text)
			if err != nil {
				t.Fatalf("Parse of the %s: %v\n%s", what, err, text)
			}
			if !reflect.DeepEqual(withoutLines(parsed), withoutLines(res.File)) {
				t.Fatalf("the %s reads back as\n%v\nwant\n%v\n%s", what, entryLines(parsed), entryLines(res.File), text)
			}
			// Every entry names its environment: the file means the same
			// whatever the server's default.
			for _, env := range []string{"", "production", "elsewhere"} {
				opts := f.opts()
				opts.DefaultEnvironment = env
				p := f.plan(parsed, opts)
				if !p.Empty() || len(p.Actions) != len(parsed.Tokens) {
					t.Fatalf("plan of the %s (default environment %q):\n%v", what, env, p)
				}
			}
		}
	})
}

// TestExportDuplicatesAndExpired: several live tokens of a name and scope
// are one entry; the first plan retires exactly the surplus duplicates
// and the expired tokens of exported names, which Retires names; after
// the apply, the plan and the export are clean.
func TestExportDuplicatesAndExpired(t *testing.T) {
	t.Parallel()
	storageModes(t, func(t *testing.T, f *fixture, secure bool) {
		dup1 := f.seed("dup", unleashadmin.TokenTypeClient, "development", []string{"a"}, 0)
		f.clk.Advance(time.Second)
		// backend and client are one type: a duplicate too.
		dup2 := f.seed("dup", unleashadmin.TokenTypeBackend, "development", []string{"a"}, 0)
		f.clk.Advance(time.Second)
		f.seed("dup", unleashadmin.TokenTypeClient, "development", []string{"a"}, 0)
		oldSame := f.seed("old", unleashadmin.TokenTypeFrontend, "production", nil, time.Hour)
		f.clk.Advance(time.Second)
		oldOther := f.seed("old", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
		f.seed("gone", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
		f.clk.Advance(2 * time.Hour)
		f.seed("old", unleashadmin.TokenTypeFrontend, "production", nil, 0)

		res := f.export(desired.ExportOptions{})
		mustEqual(t, "entries", entryLines(res.File), []string{"dup\tclient\tdevelopment\ta", "old\tfrontend\tproduction\t"})
		if len(res.LeftOut) != 0 {
			t.Fatalf("left out %v", res.LeftOut)
		}
		retired := func(acts []desired.Action) []string {
			var out []string
			for _, a := range acts {
				if a.Kind != desired.ActionRetire {
					t.Errorf("not a retire: %v", a)
				}
				out = append(out, a.Name+" "+a.Token.Secret+": "+a.Reason)
			}
			return out
		}
		listed := func(tok unleashadmin.APIToken) string {
			if sel, ok := unleashadmin.Selector(tok.Secret); ok {
				return sel
			}
			return tok.Secret
		}
		at := func(tok unleashadmin.APIToken) string { return tok.ExpiresAt.UTC().Format(time.RFC3339) }
		want := []string{
			"dup " + listed(dup1) + ": a duplicate: a newer token of the same scope is kept",
			"dup " + listed(dup2) + ": a duplicate: a newer token of the same scope is kept",
			"old " + listed(oldSame) + ": expired at " + at(oldSame),
			// An expired token is retired as expired, whatever its scope.
			"old " + listed(oldOther) + ": expired at " + at(oldOther),
		}
		mustEqual(t, "retires", retired(res.Retires), want)

		// The plan of the file, read back, retires exactly those.
		file, err := desired.Parse(marshalYAML(t, res.File))
		if err != nil {
			t.Fatal(err)
		}
		p := f.plan(file, f.opts())
		var changes []desired.Action
		for _, a := range p.Actions {
			if a.Changes() {
				changes = append(changes, a)
			}
		}
		mustEqual(t, "plan", retired(changes), want)

		// Nothing the result prints holds a secret.
		js, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{fmt.Sprintf("%v", res), fmt.Sprintf("%+v", *res), fmt.Sprintf("%#v", *res), string(js)} {
			if m := secretLike(f, text); m != "" {
				t.Fatalf("the result prints the secret of %s:\n%s", m, text)
			}
		}

		if _, err := p.Apply(context.Background(), desired.ApplyOptions{}); err != nil {
			t.Fatal(err)
		}
		if p := f.plan(file, f.opts()); !p.Empty() {
			t.Fatalf("second plan: %v", p)
		}
		again := f.export(desired.ExportOptions{})
		if !reflect.DeepEqual(again.File, res.File) || len(again.Retires) != 0 {
			t.Fatalf("second export: %v, retires %v", entryLines(again.File), again.Retires)
		}
		if len(f.named("gone")) != 1 {
			t.Error("a token of a name the file does not list was touched")
		}
	})
}

// secretLike returns the name of a token whose full secret text holds, or
// "". A selector, which is not a credential, may show.
func secretLike(f *fixture, text string) string {
	for _, tok := range f.srv.Tokens() {
		_, random, _ := strings.Cut(tok.Secret, ".")
		if strings.Contains(text, random) {
			return tok.TokenName
		}
		if _, s, ok := strings.Cut(random, tok.Selector+"_"); ok && strings.Contains(text, s) {
			return tok.TokenName
		}
	}
	return ""
}

// TestExportLeftOut: a name whose live tokens have different scopes, a
// name the file format refuses and names that print alike are left out
// and reported; admin tokens and names with only expired tokens are left
// out without a word; the plan of the file touches none of them.
func TestExportLeftOut(t *testing.T) {
	t.Parallel()
	now := newClock().Now()
	admin := unleashtest.Token{TokenName: "ops", Type: "admin", Environment: "*", Projects: []string{"*"}, CreatedAt: now}
	mixedAdmin := unleashtest.Token{TokenName: "with-admin", Type: "admin", Environment: "*", Projects: []string{"*"}, CreatedAt: now}
	f := newFixture(t, unleashtest.WithTokens(admin, mixedAdmin))
	f.seed("with-admin", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("mixed", unleashadmin.TokenTypeClient, "development", []string{"a"}, 0)
	f.seed("mixed", unleashadmin.TokenTypeBackend, "development", []string{"a"}, 0)
	f.seed("mixed", unleashadmin.TokenTypeFrontend, "production", nil, 0)
	f.seed("mixed", unleashadmin.TokenTypeClient, "production", []string{"a", "b"}, 0)
	f.seed("mixed", unleashadmin.TokenTypeClient, "development", []string{"b"}, time.Minute) // expired below: not a scope
	f.seed("a/b", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("zero\u200bwidth", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed(" padded", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("Case", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("case", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("caf\u00e9", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("cafe\u0301", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("expired", unleashadmin.TokenTypeClient, "development", nil, time.Minute)
	f.seed("fine", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.clk.Advance(time.Hour)

	res := f.export(desired.ExportOptions{})
	mustEqual(t, "entries", entryLines(res.File), []string{"fine\tclient\tdevelopment\t"})
	var got []string
	for _, l := range res.LeftOut {
		got = append(got, fmt.Sprintf("%s: %s %q", l.Name, l.Reason, l.Scopes))
	}
	mustEqual(t, "left out", strings.Join(got, "\n"), strings.Join([]string{
		` padded: the file format refuses it: name has surrounding spaces []`,
		`Case: another exported name differs from it only by case or Unicode form, which the file format refuses []`,
		`a/b: the file format refuses it: name holds a slash []`,
		`cafe` + "\u0301" + `: another exported name differs from it only by case or Unicode form, which the file format refuses []`,
		`caf` + "\u00e9" + `: another exported name differs from it only by case or Unicode form, which the file format refuses []`,
		`case: another exported name differs from it only by case or Unicode form, which the file format refuses []`,
		`mixed: its live tokens have different scopes, and an entry has one ["client in development for a" "client in production for a,b" "frontend in production for *"]`,
		`with-admin: its live tokens have different scopes, and an entry has one ["admin in * for *" "client in development for *"]`,
		`zero` + "\u200b" + `width: the file format refuses it: name holds an invisible or format character U+200B []`,
	}, "\n"))
	if len(res.Retires) != 0 {
		t.Fatalf("retires %v", res.Retires)
	}
	// The plan of the file touches none of them.
	before := len(f.srv.Tokens())
	p := f.plan(res.File, f.opts())
	if !p.Empty() || len(p.Actions) != 1 {
		t.Fatalf("plan: %v", p)
	}
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{}); err != nil || len(f.srv.Tokens()) != before {
		t.Fatalf("apply: %v; %d tokens, had %d", err, len(f.srv.Tokens()), before)
	}
}

// TestExportFilters: --name-prefix and --project as ExportOptions. A
// project takes the names whose live tokens are in it, alone or among
// others; an all-projects token is in no single project. A name of
// several scopes is reported only when one of them is in the project.
func TestExportFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.seed("svc-a", unleashadmin.TokenTypeClient, "development", []string{"a"}, 0)
	f.seed("svc-ab", unleashadmin.TokenTypeFrontend, "development", []string{"a", "b"}, 0)
	f.seed("svc-all", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.seed("svc-b", unleashadmin.TokenTypeClient, "development", []string{"b"}, 0)
	f.seed("svc-mixed-a", unleashadmin.TokenTypeClient, "development", []string{"a"}, 0)
	f.seed("svc-mixed-a", unleashadmin.TokenTypeClient, "development", []string{"default"}, 0)
	f.seed("svc-mixed-b", unleashadmin.TokenTypeClient, "development", []string{"b"}, 0)
	f.seed("svc-mixed-b", unleashadmin.TokenTypeClient, "development", []string{"default"}, 0)
	f.seed("other-a", unleashadmin.TokenTypeClient, "development", []string{"a"}, 0)

	leftOut := func(res *desired.ExportResult) []string {
		var out []string
		for _, l := range res.LeftOut {
			out = append(out, l.Name)
		}
		return out
	}
	res := f.export(desired.ExportOptions{NamePrefix: "svc-", Project: "a"})
	mustEqual(t, "prefix and project", entryLines(res.File), []string{"svc-a\tclient\tdevelopment\ta", "svc-ab\tfrontend\tdevelopment\ta,b"})
	mustEqual(t, "prefix and project, left out", leftOut(res), []string{"svc-mixed-a"})

	res = f.export(desired.ExportOptions{NamePrefix: "svc-"})
	mustEqual(t, "prefix", entryLines(res.File), []string{"svc-a\tclient\tdevelopment\ta", "svc-ab\tfrontend\tdevelopment\ta,b",
		"svc-all\tclient\tdevelopment\t", "svc-b\tclient\tdevelopment\tb"})
	mustEqual(t, "prefix, left out", leftOut(res), []string{"svc-mixed-a", "svc-mixed-b"})

	res = f.export(desired.ExportOptions{Project: "a"})
	mustEqual(t, "project", entryLines(res.File), []string{"other-a\tclient\tdevelopment\ta", "svc-a\tclient\tdevelopment\ta", "svc-ab\tfrontend\tdevelopment\ta,b"})

	// Nothing matches: an empty file, which parses.
	res = f.export(desired.ExportOptions{NamePrefix: "none-"})
	text := marshalYAML(t, res.File)
	if string(text) != "tokens: []\n" {
		t.Fatalf("empty export: %q", text)
	}
	if _, err := desired.Parse(text); err != nil {
		t.Fatal(err)
	}
}

// TestExportErrors: no client is an invalid argument, sent nowhere; a
// refused list is the client's error, wrapped.
func TestExportErrors(t *testing.T) {
	t.Parallel()
	if _, err := desired.Export(context.Background(), nil, desired.ExportOptions{}); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Fatalf("no client: %v", err)
	}
	srv := unleashtest.NewTestServer(t)
	c, err := unleashadmin.NewClient(srv.URL(), "*:*.not-the-key", unleashadmin.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	res, err := desired.Export(context.Background(), c, desired.ExportOptions{})
	if res != nil || !errors.Is(err, unleashadmin.ErrUnauthorized) || !strings.HasPrefix(err.Error(), "desired: reading the tokens: ") {
		t.Fatalf("refused: %v, %v", res, err)
	}
}

// TestFileYAML: a File marshals to YAML in the file format, with the
// durations and prune rule of a file built in code, and reads back.
func TestFileYAML(t *testing.T) {
	t.Parallel()
	f := &desired.File{Tokens: []desired.Entry{
		{Name: "checkout", Type: unleashadmin.TokenTypeBackend, Environment: "production", Projects: []string{"default", "payments"},
			ExpiresIn: 90 * day, RenewBefore: 14 * day, MaxAge: 36 * time.Hour, Line: 7},
		{Name: "web", Type: unleashadmin.TokenTypeFrontend},
	}, Prune: desired.PruneRule{NamePrefix: "svc-"}}
	got := string(marshalYAML(t, f))
	want := lines(
		"tokens:",
		"  - name: checkout",
		"    type: backend",
		"    environment: production",
		"    projects: [default, payments]",
		"    expiresIn: 90d",
		"    renewBefore: 14d",
		"    maxAge: 36h",
		"  - name: web",
		"    type: frontend",
		"prune:",
		"  namePrefix: svc-",
	)
	mustEqual(t, "YAML", got, want)
	parsed, err := desired.Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(withoutLines(parsed), withoutLines(f)) {
		t.Fatalf("read back %+v", parsed)
	}
	entry := string(marshalYAML(t, f.Tokens[1]))
	mustEqual(t, "entry", entry, lines("name: web", "type: frontend"))
}
