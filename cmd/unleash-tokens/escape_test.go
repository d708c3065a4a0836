package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// hostile is a token name a server could hand out: a right-to-left
// override, a C1 control (NEL), an OSC 52 (clipboard) sequence, a bell, a
// carriage return and a cursor-up sequence, zero-width characters, DEL, a
// bidi isolate. The characters a table cut may hide come last.
const hostile = "\u202e\u0085\x1b]52;c;aGk=\x07\r\x1b[1A\u200b\ufeff\x7f\u2066svc.exe"

// hostileShown is how hostile's characters must show, in order.
var hostileShown = []string{`\u202e`, `\u0085`, `\x1b]52`, `\x07`, `\r`, `\x1b[1A`, `\u200b`, `\ufeff`, `\x7f`, `\u2066`}

// rawUnsafe returns the runes of s a terminal must not get raw, as the
// project's rules list them, worked out here independently of the
// command's own rule: control characters (C0 but the line break, DEL,
// C1), format characters (bidi controls, zero-width characters, the BOM),
// the line and paragraph separators, and invalid UTF-8 (as -1).
func rawUnsafe(s string) []rune {
	var bad []rune
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			bad = append(bad, -1)
		case r == '\n':
		case r < 0x20, r >= 0x7f && r < 0xa0, r == 0x2028, r == 0x2029, unicode.Is(unicode.Cf, r):
			bad = append(bad, r)
		}
	}
	return bad
}

// clean fails t when out holds a rune rawUnsafe finds.
func clean(t *testing.T, what, out string) {
	t.Helper()
	if bad := rawUnsafe(out); len(bad) > 0 {
		t.Errorf("%s printed %U raw:\n%q", what, bad, out)
	}
}

// shows fails t unless out shows the first n of hostile's characters as
// escapes (all of them when n is 0): a table may cut the name, but never
// inside an escape.
func shows(t *testing.T, what, out string, n int) {
	t.Helper()
	want := hostileShown
	if n > 0 {
		want = want[:n]
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s does not show %s:\n%s", what, w, out)
		}
	}
}

// standin is an in-process stand-in, with secure token storage when
// UNLEASH_STANDIN_SECURE=1: these tests make tokens no real server should
// be given.
func standin(t *testing.T) *unleashtest.Server {
	var opts []unleashtest.Option
	if os.Getenv("UNLEASH_STANDIN_SECURE") == "1" {
		opts = append(opts, unleashtest.WithSecureTokens())
	}
	return unleashtest.NewTestServer(t, opts...)
}

// TestServerTextIsEscaped: a token name, a version and an error message
// from the server reach the terminal escaped, in every command's text
// output, tables included; -o json carries them escaped too, and decodes
// to the same text.
func TestServerTextIsEscaped(t *testing.T) {
	srv := standin(t)
	r := inProcess(srv.URL(), srv.AdminKey())

	out := mustRun(t, r, "", "create", "--type", "client", "--name", hostile)
	clean(t, "create", out)
	shows(t, "create", out, 0)
	secret := fullSecretIn(out)
	out = mustRun(t, r, "", "create", "--type", "client", "--name", hostile, "-o", "json")
	var tok unleashadmin.APIToken
	jsonSame(t, "create -o json", out, &tok)
	if tok.TokenName != hostile {
		t.Errorf("create -o json: name %q, want %q", tok.TokenName, hostile)
	}

	// Tables may cut the name (events most of all), never inside an
	// escape.
	for _, tt := range []struct {
		args  []string
		shown int
	}{{[]string{"list"}, 2}, {[]string{"get", hostile}, 2}, {[]string{"events"}, 1}, {[]string{"audit"}, 2}} {
		args := tt.args
		out := mustRunOrFindings(t, r, args...)
		clean(t, args[0], out)
		shows(t, args[0], out, tt.shown)
		out = mustRunOrFindings(t, r, append(args, "-o", "json")...)
		var v any
		jsonSame(t, args[0]+" -o json", out, &v)
		if !strings.Contains(fmt.Sprint(v), hostile) {
			t.Errorf("%s -o json lost the name: %s", args[0], out)
		}
	}

	out = mustRun(t, r, "", "expire", secret, "--at", "+30d")
	clean(t, "expire", out)
	shows(t, "expire", out, 0)
	out = mustRun(t, r, "", "rotate", secret)
	clean(t, "rotate", out)
	shows(t, "rotate", out, 0)
	out = mustRun(t, r, "", "delete", fullSecretIn(out))
	clean(t, "delete", out)
	shows(t, "delete", out, 0)

	// A server whose version and error messages are hostile.
	odd := proxyTo(t, srv.URL(), func(w http.ResponseWriter, req *http.Request) bool {
		switch {
		case req.URL.Path == "/api/admin/ui-config":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"version": "8.2.0" + hostile})
			return true
		case req.Method == http.MethodDelete:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"name": "BadDataError", "message": hostile})
			return true
		}
		return false
	})
	o := inProcess(odd, srv.AdminKey())
	out = mustRun(t, o, "", "server")
	clean(t, "server", out)
	shows(t, "server", out, 0)
	out = mustRun(t, o, "", "server", "-o", "json")
	var info serverInfo
	jsonSame(t, "server -o json", out, &info)
	if info.Version != "8.2.0"+hostile {
		t.Errorf("server -o json: version %q", info.Version)
	}

	// prune names each token it could not retire, with the server's
	// message.
	for _, tok := range srv.Tokens() {
		if tok.TokenName == hostile {
			mustRun(t, r, "", "expire", tok.Secret, "--at", "now")
		}
	}
	out, errOut, code := o(t, "", "prune", "--expired", "--yes")
	if code != exitPartial || !strings.Contains(errOut, "not retired") {
		t.Fatalf("prune: exit %d, stderr %q", code, errOut)
	}
	clean(t, "prune", out+errOut)
	shows(t, "prune's table", out, 2)
	shows(t, "prune's stderr", errOut, 0)
	if n := strings.Count(errOut, "\n"); n != 2 { // the token, and the summary
		t.Errorf("prune's stderr has %d lines:\n%s", n, errOut)
	}

	// An argument that ends up in a usage error.
	_, errOut, code = r(t, "", "list", "--token-file", "/nonexistent/"+hostile)
	clean(t, "a usage error", errOut)
	if code != exitUsage || !strings.Contains(errOut, `\u202e`) {
		t.Errorf("usage error: exit %d, stderr %q", code, errOut)
	}
}

// TestFileTextIsEscaped: a desired-state file whose name holds bidi
// controls or zero-width characters is refused, with an error that shows
// them escaped; a token of such a name on the server, which the file's
// prune prefix takes in, shows escaped in plan and apply, and their JSON
// decodes to it.
func TestFileTextIsEscaped(t *testing.T) {
	srv := standin(t)
	r := inProcess(srv.URL(), srv.AdminKey())
	name := "svc\u202etxt.exe\u200b\u2066\ufeff"
	dir := t.TempDir()
	refused := filepath.Join(dir, "refused.yaml")
	writeFile(t, refused, "tokens:\n  - name: "+strconv.QuoteToASCII(name)+"\n    type: client\n")
	_, errOut, code := r(t, "", "plan", "-f", refused)
	clean(t, "plan's refusal", errOut)
	if code != exitUsage || !strings.Contains(errOut, ":2:") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("plan of a file with an invisible name: exit %d, %q", code, errOut)
	}

	mustRun(t, r, "", "create", "--type", "client", "--name", name)
	file := filepath.Join(dir, "tokens.yaml")
	writeFile(t, file, "tokens: []\nprune: {namePrefix: svc}\n")
	for _, args := range [][]string{{"plan", "-f", file}, {"apply", "-f", file, "--deliver-dir", filepath.Join(dir, "s")}} {
		out, errOut, _ := r(t, "", args...)
		clean(t, args[0], out+errOut)
		for _, want := range []string{`\u202e`, `\u200b`, `\u2066`, `\ufeff`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s does not show %s:\n%s", args[0], want, out)
			}
		}
		mustRun(t, r, "", "create", "--type", "client", "--name", name)
	}
	out := mustRun(t, r, "", "plan", "-f", file, "-o", "json")
	var v any
	jsonSame(t, "plan -o json", out, &v)
	if !strings.Contains(fmt.Sprint(v), name) {
		t.Errorf("plan -o json lost the name: %s", out)
	}
}

// mustRunOrFindings runs args, which may exit 0 or 9 (audit's findings).
func mustRunOrFindings(t *testing.T, r runner, args ...string) string {
	t.Helper()
	out, errOut, code := r(t, "", args...)
	if code != exitOK && code != exitFindings {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	return out
}

// jsonSame fails t unless out is clean JSON that decodes into v.
func jsonSame(t *testing.T, what, out string, v any) {
	t.Helper()
	clean(t, what, out)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%s: %v:\n%s", what, err, out)
	}
}

// TestEscapeForms pins how each kind of character is shown.
func TestEscapeForms(t *testing.T) {
	for in, want := range map[string]string{
		"plain name":                       "plain name",
		"ünïcode ✓ 名前 🙂":                   "ünïcode ✓ 名前 🙂",
		"a\x1b[2Jb":                        `a\x1b[2Jb`,
		"tab\there\nline\rcr":              `tab\there\nline\rcr`,
		"\x00\x7f":                         `\x00\x7f`,
		"nel\u0085csi\u009b":               `nel\u0085csi\u009b`,
		"rlo\u202eexe":                     `rlo\u202eexe`,
		"\u061c\u200e\u200f":               `\u061c\u200e\u200f`,
		"\u2066\u2067\u2068\u2069":         `\u2066\u2067\u2068\u2069`,
		"zw\u200b\u200c\u200d\u2060\ufeff": `zw\u200b\u200c\u200d\u2060\ufeff`,
		"soft\u00adhyphen":                 `soft\u00adhyphen`,
		"ls\u2028ps\u2029":                 `ls\u2028ps\u2029`,
		"tag\U000e0041":                    `tag\U000e0041`,
		"bad\xff\xc3utf8":                  `bad\xff\xc3utf8`,
		"hangul\u3164filler":               `hangul\u3164filler`,
		"vs\ufe0f":                         `vs\ufe0f`,
		// A backslash is doubled only where it could be read as the start
		// of an escape.
		`C:\dir\x1b\\`:  `C:\dir\\x1b\\\`,
		`a\`:            `a\`,
		"\\\x1b":        `\\\x1b`,
		`say "hi"`:      `say "hi"`,
		`\u202e and \n`: `\\u202e and \\n`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestTableCutKeepsEscapesWhole: a cut column never ends inside an
// escape, and the widths count what is printed.
func TestTableCutKeepsEscapesWhole(t *testing.T) {
	toks := []unleashadmin.APIToken{{TokenName: "n", Type: "client", Environment: "production",
		Projects: []string{strings.Repeat("\u202e", 30)}, Secret: "*:production." + strings.Repeat("ab", 28)}}
	var out bytes.Buffer
	a := &app{out: &out}
	if err := a.printTokens(toks); err != nil {
		t.Fatal(err)
	}
	checkWidth(t, []string{"list"}, out.String())
	clean(t, "list", out.String())
	if partial := regexp.MustCompile(`\\(u[0-9a-f]{0,3})?…`); partial.MatchString(out.String()) || !strings.Contains(out.String(), `\u202e…`) {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestJSONEscapesWhatMarshalLeaves: encoding/json leaves DEL, C1 controls
// and format characters raw; the command's JSON does not, and decodes the
// same.
func TestJSONEscapesWhatMarshalLeaves(t *testing.T) {
	var out bytes.Buffer
	a := &app{out: &out, json: true}
	in := map[string]string{"name": hostile + "\U000e0041\u2028"}
	if err := a.printJSON(in); err != nil {
		t.Fatal(err)
	}
	var back map[string]string
	jsonSame(t, "json", out.String(), &back)
	if back["name"] != in["name"] {
		t.Errorf("decoded %q, want %q", back["name"], in["name"])
	}
	for _, want := range []string{`\u0085`, `\u007f`, `\u202e`, `\u200b`, `\ufeff`, `\udb40\udc41`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("json has no %s: %s", want, out.String())
		}
	}
}

// FuzzEscape: whatever the text, printable leaves no raw control, bidi or
// invisible character and no line break, and what it prints reads back
// into the text alone (so two texts never print the same); a table's cut
// of it to n characters reads back into a prefix of the text (no escape is
// cut in two); the JSON pass leaves none either and decodes to what
// encoding/json would.
func FuzzEscape(f *testing.F) {
	for i, s := range []string{hostile, "", "plain", `\x1b`, "\\\x1b", `C:\u`, "\xff\xfe", "\u2028\u2029", "\U000e0041\ufe0f", "a\\", "\\\\u202e"} {
		f.Add(s, uint8(2+i*3))
	}
	f.Fuzz(func(t *testing.T, s string, n uint8) {
		out := printable(s)
		if bad := rawUnsafe(out); len(bad) > 0 || strings.Contains(out, "\n") {
			t.Fatalf("printable(%q) = %q: raw %U", s, out, bad)
		}
		back, err := unescape(out)
		if err != nil || back != s {
			t.Fatalf("printable(%q) = %q reads back as %q (%v)", s, out, back, err)
		}
		if width := max(int(n), 2); utf8.RuneCountInString(out) > width {
			c := cut(out, width)
			back, err := unescape(strings.TrimSuffix(c, "…"))
			if utf8.RuneCountInString(c) > width || !strings.HasSuffix(c, "…") || err != nil || !strings.HasPrefix(s, back) {
				t.Fatalf("cut(%q, %d) = %q reads back as %q (%v), not a prefix of %q", out, width, c, back, err, s)
			}
		}
		plain, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		escaped := escapeJSON(plain)
		if bad := rawUnsafe(string(escaped)); len(bad) > 0 || !utf8.Valid(escaped) {
			t.Fatalf("escapeJSON(%s) = %s: raw %U", plain, escaped, bad)
		}
		var want, got string
		if err := json.Unmarshal(plain, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(escaped, &got); err != nil || got != want {
			t.Fatalf("escapeJSON(%s) = %s decodes to %q (%v), want %q", plain, escaped, got, err, want)
		}
	})
}

// unescape reads printable's output back, by the rules its doc states:
// \\ is a backslash; \n, \r, \t, \xHH (a C0 control or DEL, or a byte of
// invalid UTF-8), \uHHHH and \UHHHHHHHH are escapes; a backslash before
// anything else is itself.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		digits := 0
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
			i += 2
			continue
		case 'n', 'r', 't':
			b.WriteByte(map[byte]byte{'n': '\n', 'r': '\r', 't': '\t'}[s[i+1]])
			i += 2
			continue
		case 'x':
			digits = 2
		case 'u':
			digits = 4
		case 'U':
			digits = 8
		default:
			b.WriteByte('\\')
			i++
			continue
		}
		if i+2+digits > len(s) {
			return "", fmt.Errorf("a cut escape at %d", i)
		}
		v, err := strconv.ParseUint(s[i+2:i+2+digits], 16, 32)
		if err != nil {
			return "", fmt.Errorf("escape at %d: %v", i, err)
		}
		if digits == 2 {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		i += 2 + digits
	}
	return b.String(), nil
}
