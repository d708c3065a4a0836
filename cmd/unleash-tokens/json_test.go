package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// jsonDoc is what docs/JSON.md says: the token object's keys with their
// types, its example, and each command's example output.
type jsonDoc struct {
	keys     map[string]string // key -> type, as the table gives it
	token    map[string]any    // the example token object
	examples map[string]any    // command -> example output, <token> filled in
	fleet    map[string]any    // command -> example output over a fleet
}

// readJSONDoc reads docs/JSON.md.
func readJSONDoc(t *testing.T) jsonDoc {
	t.Helper()
	data, err := os.ReadFile("../../docs/JSON.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	_, tokenPart, ok := strings.Cut(doc, "\n## The token object\n")
	tokenPart, _, ok2 := strings.Cut(tokenPart, "\n## ")
	if !ok || !ok2 {
		t.Fatal(`docs/JSON.md has no section "## The token object"`)
	}
	tokenText := jsonBlock(t, tokenPart, "the token object")
	d := jsonDoc{keys: map[string]string{}, examples: map[string]any{}, fleet: map[string]any{}}
	if err := json.Unmarshal([]byte(tokenText), &d.token); err != nil {
		t.Fatalf("docs/JSON.md, the token object: %v", err)
	}
	row := regexp.MustCompile("^\\| `([A-Za-z]+)` \\| ([^|]+?) \\|")
	for _, line := range strings.Split(tokenPart, "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			d.keys[m[1]] = m[2]
		}
	}
	for _, c := range commands {
		heading := regexp.MustCompile("\n### [^\n]*`" + regexp.QuoteMeta(c.name) + "`")
		loc := heading.FindStringIndex(doc)
		if loc == nil {
			t.Errorf("docs/JSON.md has no section for %s", c.name)
			continue
		}
		section, _, _ := strings.Cut(doc[loc[1]:], "\n### ")
		text := strings.ReplaceAll(jsonBlock(t, section, c.name), "<token>", tokenText)
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Errorf("docs/JSON.md, %s: %v", c.name, err)
			continue
		}
		d.examples[c.name] = v
	}
	for _, name := range []string{"plan", "apply", "audit", "export", "plan -out"} {
		_, section, ok := strings.Cut(doc, "\n#### Fleet `"+name+"`\n")
		if !ok {
			t.Errorf("docs/JSON.md has no section for %s over a fleet", name)
			continue
		}
		section, _, _ = strings.Cut(section, "\n#### ")
		text := strings.ReplaceAll(jsonBlock(t, section, name+" over a fleet"), "<token>", tokenText)
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Errorf("docs/JSON.md, %s over a fleet: %v", name, err)
			continue
		}
		d.fleet[name] = v
	}
	return d
}

// jsonBlock returns the first ```json block of text.
func jsonBlock(t *testing.T, text, what string) string {
	t.Helper()
	_, block, ok := strings.Cut(text, "```json\n")
	block, _, ok2 := strings.Cut(block, "\n```")
	if !ok || !ok2 {
		t.Fatalf("docs/JSON.md has no json block for %s", what)
	}
	return block
}

// isToken reports whether v is a token object: an object with the
// documented keys.
func (d jsonDoc) isToken(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != len(d.keys) {
		return false
	}
	for k := range d.keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// checkToken checks a token object's values against the table's types.
func (d jsonDoc) checkToken(t *testing.T, where string, tok map[string]any) {
	t.Helper()
	for k, typ := range d.keys {
		v := tok[k]
		if v == nil && strings.HasSuffix(typ, " or null") {
			continue
		}
		good := false
		switch strings.TrimSuffix(typ, " or null") {
		case "string":
			_, good = v.(string)
		case "boolean":
			_, good = v.(bool)
		case "time":
			s, _ := v.(string)
			_, err := time.Parse(time.RFC3339, s)
			good = err == nil
		case "array of strings":
			list, ok := v.([]any)
			good = ok
			for _, e := range list {
				if _, ok := e.(string); !ok {
					good = false
				}
			}
		default:
			t.Fatalf("docs/JSON.md: unknown type %q of key %s", typ, k)
		}
		if !good {
			t.Errorf("%s: %s is %v, not a %s", where, k, v, typ)
		}
	}
}

// match checks got against the documented example want, and every token
// object in it against the token's keys; it returns the tokens it found.
// A null in the example stands for any value, and a null in the output is
// allowed where the example has a token, a string, a number or a boolean
// (never for an object or a list); a list's entries are each like the
// example's first.
func (d jsonDoc) match(t *testing.T, where string, want, got any) []map[string]any {
	t.Helper()
	if want == nil {
		return nil
	}
	if d.isToken(want) {
		if got == nil {
			return nil
		}
		tok, _ := got.(map[string]any)
		if !d.isToken(got) {
			t.Errorf("%s: %v is not a token object (keys %v)", where, got, keysOf(tok))
			return nil
		}
		d.checkToken(t, where, tok)
		return []map[string]any{tok}
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || !slices.Equal(keysOf(w), keysOf(g)) {
			t.Errorf("%s: keys %v, documented %v", where, keysOf(g), keysOf(w))
			return nil
		}
		var toks []map[string]any
		for _, k := range keysOf(w) {
			toks = append(toks, d.match(t, where+"."+k, w[k], g[k])...)
		}
		return toks
	case []any:
		g, ok := got.([]any)
		if !ok || len(w) == 0 {
			t.Errorf("%s: %v, documented a list %v", where, got, w)
			return nil
		}
		var toks []map[string]any
		for i, e := range g {
			toks = append(toks, d.match(t, fmt.Sprintf("%s[%d]", where, i), w[0], e)...)
		}
		return toks
	default:
		if got != nil && reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("%s: %v, documented like %v", where, got, want)
		}
	}
	return nil
}

func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestJSONDocMatchesTheToken: the keys docs/JSON.md lists are those of its
// example, of the command's token object, and of unleashadmin.APIToken's
// JSON, which the token object is.
func TestJSONDocMatchesTheToken(t *testing.T) {
	d := readJSONDoc(t)
	documented := slices.Sorted(maps.Keys(d.keys))
	if !slices.Equal(documented, keysOf(d.token)) {
		t.Errorf("the table lists %v, the example has %v", documented, keysOf(d.token))
	}
	var object map[string]any
	data, _ := json.Marshal(tokenObject(unleashadmin.APIToken{}, false))
	if err := json.Unmarshal(data, &object); err != nil || !slices.Equal(keysOf(object), documented) {
		t.Errorf("the token object has %v (%v), documented %v", keysOf(object), err, documented)
	}
	var apiKeys []string
	typ := reflect.TypeFor[unleashadmin.APIToken]()
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		apiKeys = append(apiKeys, name)
	}
	sort.Strings(apiKeys)
	if !slices.Equal(apiKeys, documented) {
		t.Errorf("APIToken's JSON has %v, documented %v", apiKeys, documented)
	}
	d.checkToken(t, "the example token", d.token)
}

// TestJSONShapes runs every command with -o json against the stand-in and
// checks each output against docs/JSON.md: the command's envelope as its
// example shows it, and every token in it as the token object.
func TestJSONShapes(t *testing.T) {
	d := readJSONDoc(t)
	now := time.Now().UTC()
	opts := []unleashtest.Option{unleashtest.WithTokens(
		unleashtest.Token{TokenName: "shape-unused", Type: "client", Projects: []string{"default"},
			CreatedAt: now.Add(-200 * 24 * time.Hour), SeenAt: unleashadmin.Ptr(now.Add(-100 * 24 * time.Hour))},
		unleashtest.Token{TokenName: "shape-expired", Type: "frontend", CreatedAt: now.Add(-5 * 24 * time.Hour),
			ExpiresAt: unleashadmin.Ptr(now.Add(-time.Hour))},
	)}
	secure := os.Getenv("UNLEASH_STANDIN_SECURE") == "1"
	if secure {
		opts = append(opts, unleashtest.WithSecureTokens())
	}
	srv := unleashtest.NewTestServer(t, opts...)
	r := inProcess(srv.URL(), srv.AdminKey())
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.yaml")
	// Every entry has the keys of the example of docs/JSON.md's plan
	// file, which the file format leaves out when empty.
	writeFile(t, file, "tokens:\n  - {name: shape-a, type: client, environment: development, projects: [default]}\n"+
		"  - {name: shape-new, type: frontend, environment: development, projects: [default]}\nprune: {namePrefix: shape-}\n")
	planFile := filepath.Join(dir, "plan.json")
	unknown := "*:development." + strings.Repeat("0", 56)

	var created, rotated string
	seen := map[string]bool{}
	secretOf := func(out string) string {
		var v struct {
			Secret string
			Token  struct{ Secret string }
		}
		_ = json.Unmarshal([]byte(out), &v)
		return v.Secret + v.Token.Secret
	}
	tests := []struct {
		name  string
		args  []string
		stdin *string
		// tokens is how many token objects the output holds at least.
		tokens int
		// reveals: the output holds a full secret (create, rotate,
		// --show-secrets but under secure token storage, whose lists hold
		// selectors); every other output holds none.
		reveals bool
		// keep is where the new secret printed goes.
		keep *string
	}{
		{"create", []string{"create", "--type", "client", "--name", "shape-a", "--env", "production", "--project", "default", "--expires", "+30d"}, nil, 1, true, &created},
		{"list", []string{"list"}, nil, 4, false, nil},
		{"list", []string{"list", "--show-secrets"}, nil, 4, !secure, nil},
		{"get", []string{"get", "shape-a"}, nil, 1, false, nil},
		{"expire", []string{"expire", "-", "--at", "+10d"}, &created, 1, false, nil},
		{"expire", []string{"expire", unknown, "--at", "+1d", "--ignore-not-found"}, nil, 0, false, nil},
		{"rotate", []string{"rotate", "-", "--grace", "1h"}, &created, 2, true, &rotated},
		{"events", []string{"events", "--query", "shape-a"}, nil, 1, false, nil},
		{"server", []string{"server"}, nil, 0, false, nil},
		{"audit", []string{"audit"}, nil, 2, false, nil},
		{"prune", []string{"prune", "--expired"}, nil, 1, false, nil},
		{"check", []string{"check", "-", unknown}, &created, 2, false, nil},
		{"delete", []string{"delete", "-"}, &rotated, 1, false, nil},
		{"delete", []string{"delete", unknown, "--ignore-not-found"}, nil, 0, false, nil},
		// The file of the tokens so far: shape-a (the rotated token's old
		// one, in its grace) and shape-unused, each of one project.
		{"export", []string{"export", "--name-prefix", "shape-"}, nil, 0, false, nil},
		// shape-a is in production, the file wants it in development: a
		// replace (a token acted on, a new one), a create, and a prune;
		// written to a plan file too, which apply carries out.
		{"plan", []string{"plan", "-f", file, "--deliver-dir", filepath.Join(dir, "secrets"), "-out", planFile}, nil, 4, false, nil},
		{"apply", []string{"apply", planFile, "--deliver-dir", filepath.Join(dir, "secrets")}, nil, 4, false, nil},
	}
	for _, tt := range tests {
		stdin := ""
		if tt.stdin != nil {
			stdin = *tt.stdin + "\n"
		}
		out, errOut, code := r(t, stdin, append(tt.args, "-o", "json")...)
		if code != exitOK && tt.name != "check" {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		var got any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, out)
		}
		if tt.name == "plan" {
			// The plan file is what plan -o json prints.
			if written, err := os.ReadFile(planFile); err != nil || string(written) != out {
				t.Errorf("the plan file (%v) is not what plan -o json printed:\n%s\n%s", err, written, out)
			}
		}
		toks := d.match(t, strings.Join(tt.args, " "), d.examples[tt.name], got)
		// Outside a fleet, every action, outcome and finding says so.
		for _, in := range instancesIn(got) {
			if in != nil {
				t.Errorf("%v: instance %v outside a fleet", tt.args, in)
			}
		}
		if len(toks) < tt.tokens {
			t.Errorf("%v: %d token objects, want %d or more:\n%s", tt.args, len(toks), tt.tokens, out)
		}
		if full := fullSecret.MatchString(out); full != tt.reveals {
			t.Errorf("%v: a full secret printed: %t, want %t\n%s", tt.args, full, tt.reveals, out)
		}
		if tt.keep != nil {
			if *tt.keep = secretOf(out); !fullSecret.MatchString(*tt.keep) {
				t.Fatalf("%v printed no new secret:\n%s", tt.args, out)
			}
		}
		seen[tt.name] = true
	}
	for _, c := range commands {
		if !seen[c.name] {
			t.Errorf("%s was not run", c.name)
		}
	}
	testFleetJSONShapes(t, d)
}
