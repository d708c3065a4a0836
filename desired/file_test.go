package desired_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

const day = 24 * time.Hour

const exampleYAML = `# the example of the issue
tokens:
  - name: checkout            # the token's name
    type: backend
    environment: production
    projects: [default]
    expiresIn: 90d
    renewBefore: 14d
    maxAge: 60d
  - name: web
    type: Frontend
    projects: [b, a, b]
prune:
  namePrefix: svc-
`

const exampleJSON = `{"tokens": [
  {"name": "checkout", "type": "backend", "environment": "production", "projects": ["default"],
   "expiresIn": "90d", "renewBefore": "14d", "maxAge": "60d"},
  {"name": "web", "type": "Frontend", "projects": ["b", "a", "b"]}
], "prune": {"namePrefix": "svc-"}}`

func TestParseReadsEveryField(t *testing.T) {
	t.Parallel()
	want := &desired.File{
		Tokens: []desired.Entry{
			{Name: "checkout", Type: unleashadmin.TokenTypeBackend, Environment: "production", Projects: []string{"default"},
				ExpiresIn: 90 * day, RenewBefore: 14 * day, MaxAge: 60 * day, Line: 3},
			{Name: "web", Type: unleashadmin.TokenTypeFrontend, Projects: []string{"a", "b"}, Line: 10},
		},
		Prune: desired.Prune{NamePrefix: "svc-"},
	}
	got, err := desired.Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("YAML: got %+v\nwant %+v", got, want)
	}
	// JSON is YAML too; only the lines differ.
	got, err = desired.Parse([]byte(exampleJSON))
	if err != nil {
		t.Fatal(err)
	}
	want.Tokens[0].Line, want.Tokens[1].Line = 2, 4
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("JSON: got %+v\nwant %+v", got, want)
	}
	// JSON indented with tabs, as editors write it.
	if _, err := desired.Parse([]byte("{\n\t\"tokens\": [\n\t\t{\"name\": \"a\", \"type\": \"client\"}\n\t]\n}\n")); err != nil {
		t.Fatalf("JSON with tabs: %v", err)
	}
	// An empty list of tokens is a file too (it owns no names).
	got, err = desired.Parse([]byte("tokens: []\n"))
	if err != nil || len(got.Tokens) != 0 {
		t.Fatalf("tokens: [] gave %+v, %v", got, err)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	entry := "tokens:\n  - name: a\n    type: client\n"
	for _, tc := range []struct {
		name, file string
		line       int
		msg        string
	}{
		{"unknown top key", "tokens: []\nprnue:\n  namePrefix: x\n", 2, `unknown key in the file (want tokens, prune, instances, retire; did you mean "prune"?)`},
		{"unknown entry key", entry + "    enviroment: production\n", 4, `unknown key in a token (want name, type, environment, projects, expiresIn, renewBefore, maxAge, instances, retire; did you mean "environment"?)`},
		{"key in another case", entry + "    ExpiresIn: 90d\n", 4, `; did you mean "expiresIn"?)`},
		{"unknown prune key", "tokens: []\nprune:\n  prefix: x\n", 3, "unknown key in prune (want namePrefix)"},
		{"duplicate name", entry + "  - name: b\n    type: client\n  - name: a\n    type: frontend\n", 6, "name repeated (first on line 2)"},
		{"duplicate key", entry + "    type: frontend\n", 4, `key "type" repeated`},
		{"duplicate top key", "tokens: []\ntokens: []\n", 2, `key "tokens" repeated`},
		{"bad type", "tokens:\n  - name: a\n    type: server\n", 2, "type: want client, backend or frontend"},
		{"admin type", "tokens:\n  - name: a\n    type: admin\n", 2, `type "admin"`},
		{"type not a string", "tokens:\n  - name: a\n    type: [client]\n", 3, "type must be a string, not a list"},
		{"name a number", "tokens:\n  - name: 42\n    type: client\n", 2, "name must be a string, not a number"},
		{"name empty", "tokens:\n  - name: ''\n    type: client\n", 2, "name is empty"},
		{"name null", "tokens:\n  - name:\n    type: client\n", 2, "name must be a string, not empty (null)"},
		{"name with a slash", "tokens:\n  - name: a/b\n    type: client\n", 2, "name holds a slash"},
		{"no name", "tokens:\n  - type: client\n", 2, `a token without "name"`},
		{"no type", "tokens:\n  - name: a\n", 2, `a token without "type"`},
		{"bad duration", entry + "    expiresIn: 90 days\n", 4, `expiresIn: bad duration: unknown unit`},
		{"duration unit", entry + "    maxAge: 3w\n", 4, "maxAge: bad duration: unknown unit (want d, h, m, s or ms)"},
		{"duration a number", entry + "    renewBefore: 3600\n", 4, "renewBefore must be a duration such as 90d or 36h, not a number"},
		{"zero duration", entry + "    maxAge: 0d\n", 4, "maxAge must be positive"},
		{"negative duration", entry + "    expiresIn: -1d\n", 4, "expiresIn must be positive"},
		{"renewBefore too long", entry + "    expiresIn: 7d\n    renewBefore: 7d\n", 2, "renewBefore 7d is not shorter than expiresIn 7d"},
		{"projects not a list", entry + "    projects: default\n", 4, "projects must be a list of project IDs"},
		{"projects empty", entry + "    projects: []\n", 4, "projects is an empty list"},
		{"project a number", entry + "    projects: [1]\n", 4, "a project ID must be a string"},
		{"projects mix star", entry + "    projects: ['*', default]\n", 2, `mixes "*"`},
		{"environment star", entry + "    environment: '*'\n", 2, `environment "*"`},
		{"tokens not a list", "tokens:\n  name: a\n", 2, "tokens must be a list, not a mapping"},
		{"entry not a mapping", "tokens:\n  - a\n", 2, "a token must be a mapping"},
		{"no tokens key", "prune:\n  namePrefix: svc-\n", 1, `no "tokens" key`},
		{"a list at the top", "- name: a\n", 1, "the file must be a mapping"},
		{"syntax", "tokens:\n  - name: a\n   type: client\n", 1, "YAML syntax, at or below this line: did not find expected '-' indicator"},
		{"unclosed flow", "tokens:\n  - name: a\n    type: client\n    projects: [a, b\n", 3, "YAML syntax"},
		{"tab", "tokens:\n\t- name: a\n", 2, "tab"},
		{"second document", "tokens: []\n---\ntokens: []\n", 2, "a second YAML document"},
		{"JSON unknown key", "{\"tokens\": [\n {\"name\": \"a\", \"type\": \"client\",\n  \"project\": [\"default\"]}]}", 3, `unknown key in a token (want name, type, environment, projects, expiresIn, renewBefore, maxAge, instances, retire; did you mean "projects"?)`},
		{"alias value", "tokens:\n  - name: &n a\n    type: client\n  - name: *n\n    type: frontend\n", 4, "name is an alias: aliases are not supported"},
		{"alias entry", "tokens:\n  - &e {name: a, type: client}\n  - *e\n", 3, "a token is an alias"},
		{"alias in a list", "tokens:\n  - name: a\n    type: client\n    projects: [&p x, *p]\n", 4, "a project ID must be a string, not an alias"},
		{"merge key", "tokens:\n  - name: a\n    type: client\n    <<: {environment: x}\n", 4, "a key of a token must be a string, not a merge key (<<)"},
		{"JSON duplicate key", "{\"tokens\": [],\n \"tokens\": []}", 2, `key "tokens" repeated`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := desired.Parse([]byte(tc.file))
			var fe *desired.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("got %v (%T), want a *FileError", err, err)
			}
			if fe.Line != tc.line {
				t.Errorf("line %d, want %d: %v", fe.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
			if !errors.Is(err, unleashadmin.ErrInvalidArgument) {
				t.Errorf("%v does not match ErrInvalidArgument", err)
			}
		})
	}
	_, err := desired.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty file: %v", err)
	}
}

func TestReadFileNamesThePath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "tokens.yaml")
	if err := os.WriteFile(path, []byte("tokens:\n  - name: a\n    type: client\n    colour: red\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := desired.ReadFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":4: unknown key in a token (want name, type,") {
		t.Fatalf("got %v", err)
	}
	if _, err := desired.ReadFile(path + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestValidateChecksFilesBuiltInCode(t *testing.T) {
	t.Parallel()
	f := &desired.File{Tokens: []desired.Entry{
		{Name: "a", Type: "BACKEND", Projects: []string{"y", "x", "y"}},
		{Name: "b", Type: unleashadmin.TokenTypeClient, Projects: []string{"*"}},
	}}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if f.Tokens[0].Type != unleashadmin.TokenTypeBackend || !reflect.DeepEqual(f.Tokens[0].Projects, []string{"x", "y"}) || f.Tokens[1].Projects != nil {
		t.Fatalf("not normalised: %+v", f.Tokens)
	}
	for _, tc := range []struct {
		e   desired.Entry
		msg string
	}{
		{desired.Entry{Name: "", Type: "client"}, "token 1: name is empty"},
		{desired.Entry{Name: "a", Type: "admin"}, `token 1: type "admin"`},
		{desired.Entry{Name: "a", Type: "client", ExpiresIn: -time.Hour}, "token 1: expiresIn -1h is negative"},
		{desired.Entry{Name: "a", Type: "client", Projects: []string{}}, "token 1: projects is an empty list"},
		{desired.Entry{Name: "..", Type: "client"}, `name "." or ".." is not a usable name`},
		{desired.Entry{Name: "a\nb", Type: "client"}, "control character"},
	} {
		err := (&desired.File{Tokens: []desired.Entry{tc.e}}).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.msg) || !errors.Is(err, unleashadmin.ErrInvalidArgument) {
			t.Errorf("%+v: got %v, want %q", tc.e, err, tc.msg)
		}
	}
	dup := &desired.File{Tokens: []desired.Entry{{Name: "a", Type: "client"}, {Name: "a", Type: "frontend"}}}
	if err := dup.Validate(); err == nil || !strings.Contains(err.Error(), "token 2: name repeated (first as token 1)") {
		t.Errorf("duplicate: %v", err)
	}
	if err := (*desired.File)(nil).Validate(); err == nil {
		t.Error("nil file validated")
	}
}

// TestFileErrorsQuoteNoValue: a desired-state file may hold the key in use
// or a token's secret in the wrong place (a name, a type, a duration, a
// key). The error names the line and the field, never a value of the file.
func TestFileErrorsQuoteNoValue(t *testing.T) {
	t.Parallel()
	const (
		random = "5f3a9c1e7b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e"
		admin  = "*:*." + random
		client = "default:production." + random
		digits = "58372619405837261940"
	)
	entry := "tokens:\n  - name: a\n    type: client\n"
	var files []string
	for _, s := range []string{admin, client, random, digits} {
		q := `"` + s + `"`
		files = append(files,
			q,
			"tokens: "+q+"\n",
			"tokens: ["+q+"]\n",
			q+": 1\ntokens: []\n",
			"tokens: []\nprune: {"+q+": x}\n",
			"tokens: []\nprune: {namePrefix: ["+q+"]}\n",
			"tokens: []\nprune: {namePrefix: \""+s+"\\u200b\"}\n",
			entry+"    "+q+": x\n",
			entry+"    environment: \" "+s+"\"\n",
			entry+"    environment: \""+s+"\\t\"\n",
			entry+"    projects: "+q+"\n",
			entry+"    projects: ["+q+", '*']\n",
			entry+"    projects: [\" "+s+"\"]\n",
			entry+"    expiresIn: "+q+"\n",
			entry+"    expiresIn: 90"+s+"\n",
			entry+"    expiresIn: "+s+"d\n",
			entry+"    renewBefore: "+s+"\n",
			entry+"    maxAge: 1d"+s+"\n",
			entry+"    maxAge: !!timestamp "+q+"\n",
			entry+"  - name: b\n    type: "+q+"\n",
			entry+"  - name: b\n    type: ["+q+"]\n",
			entry+"  - name: "+q+"\n    type: client\n  - name: "+q+"\n    type: client\n",
			entry+"  - name: \""+s+"/x\"\n    type: client\n",
			entry+"  - name: \" "+s+"\"\n    type: client\n",
			entry+"  - name: \""+s+"\\u200b\"\n    type: client\n",
			entry+"  - name: \""+s+"\\x01\"\n    type: client\n",
			entry+"  - name: \""+strings.Repeat(s, 20)+"\"\n    type: client\n",
			entry+"  - name: !custom "+q+"\n    type: client\n",
			"{\"tokens\": [{\"name\": \"a\", \"type\": \"client\", "+q+": 1}]}",
			"{\"tokens\": [{\"name\": \"a\", \"type\": "+q+"}]}",
			"tokens: []\n---\n"+q+"\n",
			"tokens:\n  - name: "+q+"\n   type: client\n",
			"tokens:\n  - name: "+q+" x\n",
		)
	}
	// Anchor, alias and tag names are written without quotes and may be
	// any run of letters and digits.
	files = append(files,
		"tokens:\n  - name: *"+random+"\n    type: client\n",
		"tokens:\n  - name: &"+random+" a\n    type: client\n  - name: *"+random+"\n    type: client\n",
		"tokens:\n  - &"+random+" {name: a, type: client}\n  - *"+random+"\n",
		entry+"    type: !!"+random+" client\n",
		"tokens:\n  - name: a\n    type: !"+random+" client\n",
		entry+"    expiresIn: "+digits+"\n",
		entry+"    "+digits+": x\n",
	)
	for _, file := range files {
		_, err := desired.Parse([]byte(file))
		if err == nil {
			t.Errorf("no error for %q", file)
			continue
		}
		msg := err.Error()
		for _, s := range []string{random, digits} {
			for i := 0; i+8 <= len(s); i++ {
				if strings.Contains(msg, s[i:i+8]) {
					t.Errorf("%q: error %q quotes a value of the file", file, msg)
					break
				}
			}
		}
	}
}

// TestParseRefusesLookAlikeNames: names that print alike are one name to a
// reader, and to a sink on a case-insensitive file system. A file that
// lists two of them is refused at the second, naming the first's line; a
// name holding an invisible or control character is refused outright.
func TestParseRefusesLookAlikeNames(t *testing.T) {
	t.Parallel()
	two := func(a, b string) string {
		return "tokens:\n  - name: a\n    type: client\n" +
			"  - name: \"" + a + "\"\n    type: client\n" +
			"  - name: \"" + b + "\"\n    type: frontend\n"
	}
	const lookAlike = "name is the name on line 4 but for case or Unicode form"
	for _, tc := range []struct {
		name, a, b string
	}{
		{"case", "checkout", "Checkout"},
		{"upper case", "checkout", "CHECKOUT"},
		{"NFC and NFD", "caf\u00e9", "cafe\u0301"},
		{"NFD and NFC", "cafe\u0301", "caf\u00e9"},
		{"case and NFD", "caf\u00e9", "CAFE\u0301"},
		{"combining marks in another order", "e\u0301\u0323", "e\u0323\u0301"},
		{"Hangul syllable and jamo", "\ud55c", "\u1112\u1161\u11ab"},
		{"Kelvin sign", "key", "\u212aey"},
		{"Angstrom sign", "\u00c5ngstr\u00f6m", "\u212bngstro\u0308m"},
		{"fullwidth", "checkout", "\uff43\uff48\uff45\uff43\uff4b\uff4f\uff55\uff54"},
		{"ligature", "file", "\ufb01le"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := desired.Parse([]byte(two(tc.a, tc.b)))
			var fe *desired.FileError
			if !errors.As(err, &fe) || fe.Line != 6 || !strings.Contains(err.Error(), lookAlike) {
				t.Fatalf("got %v, want line 6: %s", err, lookAlike)
			}
		})
	}
	for _, tc := range []struct {
		name, in, msg string
	}{
		{"zero-width space", "checkout\\u200b", "invisible or format character U+200B"},
		{"zero-width space inside", "check\\u200bout", "U+200B"},
		{"byte order mark", "\\ufeffcheckout", "U+FEFF"},
		{"right-to-left override", "checkout\\u202e", "U+202E"},
		{"left-to-right isolate", "\\u2066checkout\\u2069", "U+2066"},
		{"left-to-right mark", "checkout\\u200e", "U+200E"},
		{"zero-width joiner", "check\\u200dout", "U+200D"},
		{"soft hyphen", "check\\u00adout", "U+00AD"},
		{"word joiner", "check\\u2060out", "U+2060"},
		{"combining grapheme joiner", "check\\u034fout", "U+034F"},
		{"variation selector", "checkout\\ufe0f", "U+FE0F"},
		{"Hangul filler", "check\\u3164out", "U+3164"},
		{"tag character", "checkout\\U000e0041", "U+E0041"},
		{"no-break space", "check\\u00a0out", "U+00A0"},
		{"ideographic space", "check\\u3000out", "U+3000"},
		{"line separator", "check\\u2028out", "U+2028"},
		{"private use", "check\\ue000out", "U+E000"},
		{"noncharacter", "check\\ufffeout", "U+FFFE"},
		{"escape", "check\\u001b]52out", "control character"},
		{"delete", "check\\u007fout", "control character"},
		{"next line", "check\\u0085out", "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := "tokens:\n  - name: a\n    type: client\n  - name: \"" + tc.in + "\"\n    type: client\n"
			_, err := desired.Parse([]byte(file))
			var fe *desired.FileError
			if !errors.As(err, &fe) || fe.Line != 4 || !strings.Contains(err.Error(), "name holds") || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want line 4: name holds ... %s", err, tc.msg)
			}
		})
	}
	// The other texts of a file that name things on the server are held
	// to the same rule.
	for _, file := range []string{
		"tokens: [{name: a, type: client, environment: \"prod\\u200buction\"}]",
		"tokens: [{name: a, type: client, projects: [\"default\\u202e\"]}]",
		"tokens: []\nprune: {namePrefix: \"svc-\\u200b\"}",
	} {
		if _, err := desired.Parse([]byte(file)); err == nil || !strings.Contains(err.Error(), "holds an invisible or format character") {
			t.Errorf("%q: got %v", file, err)
		}
	}
	// Names that only look alike to a careless eye, and names in any
	// script, stay distinct.
	f, err := desired.Parse([]byte("tokens:\n" +
		"  - {name: checkout, type: client}\n  - {name: check-out, type: client}\n" +
		"  - {name: \"caf\u00e9\", type: client}\n  - {name: cafe, type: client}\n" +
		"  - {name: \"cafe\u0301-nfd\", type: client}\n  - {name: \"\u65e5\u672c\", type: client}\n" +
		"  - {name: \"\u0928\u092e\u0938\u094d\u0924\u0947\", type: client}\n  - {name: \"svc \U0001f680\", type: client}\n" +
		"  - {name: \"stra\u00dfe\", type: client}\n  - {name: strasse, type: client}\n"))
	if err != nil || len(f.Tokens) != 10 {
		t.Fatalf("distinct names: %v", err)
	}
	// A file built in code is checked the same way; its entries are named
	// by their place.
	err = (&desired.File{Tokens: []desired.Entry{{Name: "caf\u00e9", Type: "client"}, {Name: "CAFE\u0301", Type: "client"}}}).Validate()
	if err == nil || !strings.Contains(err.Error(), "token 2: name is the name of token 1 but for case or Unicode form") {
		t.Errorf("built in code: %v", err)
	}
	err = (&desired.File{Tokens: []desired.Entry{{Name: "a\u200b", Type: "client"}}}).Validate()
	if err == nil || !strings.Contains(err.Error(), "token 1: name holds an invisible or format character U+200B") {
		t.Errorf("built in code: %v", err)
	}
	err = (&desired.File{Tokens: []desired.Entry{{Name: "a\xff", Type: "client"}}}).Validate()
	if err == nil || !strings.Contains(err.Error(), "token 1: name is not valid UTF-8") {
		t.Errorf("built in code: %v", err)
	}
}
