package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// inProcessWith runs the command in process with more of the environment
// set: COLUMNS, say.
func inProcessWith(url, key string, more map[string]string) runner {
	return func(t *testing.T, stdin string, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		getenv := func(k string) string {
			if v, ok := more[k]; ok {
				return v
			}
			return map[string]string{"UNLEASH_URL": url, "UNLEASH_API_TOKEN": key}[k]
		}
		code := run(context.Background(), nil, args, strings.NewReader(stdin), &out, &errOut, getenv)
		return out.String(), errOut.String(), code
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)[:n]
}

// TestTablesIdentifyTwoThousandTokens lists and dry-run-prunes 2,000
// expired tokens with 60-character names on an 80-column output: every
// name is whole, and every token shows a part of its secret that no other
// shows, though two of them share the first 12 characters of theirs.
func TestTablesIdentifyTwoThousandTokens(t *testing.T) {
	const n = 2000
	past := time.Now().Add(-48 * time.Hour)
	var seeds []unleashtest.Token
	for i := range n {
		env := []string{"development", "production"}[i%2]
		seeds = append(seeds, unleashtest.Token{TokenName: fmt.Sprintf("hyg-prune-%050d", i), Type: "client",
			Environment: env, Projects: []string{"default"}, ExpiresAt: &past})
	}
	// Two secrets alike in their first 12 random characters: 8 would not
	// tell them apart.
	alike := "c0ffee00c0ff"
	for i := range 2 {
		seeds[i].Environment = "development"
		seeds[i].Secret = "default:development." + alike + randomHex(t, 44)
	}
	opts := []unleashtest.Option{unleashtest.WithTokenLimit(3 * n), unleashtest.WithTokens(seeds...)}
	if os.Getenv("UNLEASH_STANDIN_SECURE") == "1" {
		opts = append(opts, unleashtest.WithSecureTokens())
	}
	srv := unleashtest.NewTestServer(t, opts...)
	secretOf := map[string]unleashtest.Token{}
	for _, tok := range srv.Tokens() {
		if strings.HasPrefix(tok.TokenName, "hyg-prune-") {
			secretOf[tok.TokenName] = tok
		}
	}
	if len(secretOf) != n {
		t.Fatalf("the stand-in holds %d of the %d tokens", len(secretOf), n)
	}

	r := inProcessWith(srv.URL(), srv.AdminKey(), map[string]string{"COLUMNS": "80"})
	for _, tc := range []struct {
		args            []string
		nameAt, shownAt int // fields of a row
	}{
		{[]string{"list"}, 0, -1},
		{[]string{"prune", "--expired", "--name-prefix", "hyg-prune-"}, 1, 4},
	} {
		out := mustRun(t, r, "", tc.args...)
		checkWidth(t, tc.args, out)
		shown := map[string]string{}
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) <= tc.nameAt {
				continue
			}
			tok, ok := secretOf[f[tc.nameAt]] // the name, whole
			if !ok {
				continue
			}
			id := f[len(f)-1]
			if tc.shownAt >= 0 {
				id = f[tc.shownAt]
			}
			if other, dup := shown[id]; dup {
				t.Errorf("%v: %s and %s both show %s", tc.args, other, tok.TokenName, id)
			}
			shown[id] = tok.TokenName
			if tok.Selector != "" {
				if id != tok.Selector {
					t.Errorf("%v: %s shows %q, not its selector", tc.args, tok.TokenName, id)
				}
				continue
			}
			head, redacted := strings.CutSuffix(id, "***")
			prefix := "default:" + tok.Environment + "."
			if !redacted || !strings.HasPrefix(tok.Secret, head) || !strings.HasPrefix(head, prefix) || len(head)-len(prefix) < minShown {
				t.Errorf("%v: %s shows %q of its secret", tc.args, tok.TokenName, id)
			}
		}
		if len(shown) != n {
			t.Errorf("%v: %d of %d tokens found by their whole name:\n%.2000s", tc.args, len(shown), n, out)
		}
	}

	// At 200 columns, or with -o wide, nothing is cut.
	for _, args := range [][]string{{"list"}, {"list", "-o", "wide"}} {
		width := map[string]string{"COLUMNS": "200"}
		if slices.Contains(args, "wide") {
			width["COLUMNS"] = "20"
		}
		out := mustRun(t, inProcessWith(srv.URL(), srv.AdminKey(), width), "", args...)
		if strings.Contains(out, "…") || !strings.Contains(out, " development ") {
			t.Errorf("%v with COLUMNS=%s cut a column:\n%.1000s", args, width["COLUMNS"], out)
		}
	}
}

// TestLayout: descriptive columns are cut in their order, each only as far
// as needed and never below minCut; identifiers never; -o wide nothing.
func TestLayout(t *testing.T) {
	cols := []column{ident("NAME"), desc("ENV", 2), desc("REASON", 1), ident("SECRET")}
	rows := [][]string{{"NAME", "ENV", "REASON", "SECRET"}, {strings.Repeat("n", 20), "production-eu", strings.Repeat("r", 30), strings.Repeat("s", 30)}}
	// Natural: 20 + 13 + 30 + 30 + 3*2 = 99.
	for _, tt := range []struct {
		width int
		wide  bool
		want  []int
	}{
		{120, false, []int{20, 13, 30, 30}},
		{90, false, []int{20, 13, 21, 30}}, // the reason alone
		{70, false, []int{20, 8, 6, 30}},   // the reason to its least, then the environment
		{40, false, []int{20, 6, 6, 30}},   // both at their least: the line is 68 long
		{40, true, []int{20, 13, 30, 30}},  // -o wide
		{0, false, []int{20, 6, 6, 30}},    // no width at all
	} {
		if got := layout(cols, rows, tt.width, tt.wide); !slices.Equal(got, tt.want) {
			t.Errorf("width %d, wide %t: %v, want %v", tt.width, tt.wide, got, tt.want)
		}
	}
	// A descriptive column narrower than minCut stays as it is.
	if got := layout(cols, [][]string{{"N", "E", "R", "S"}}, 1, false); !slices.Equal(got, []int{1, 1, 1, 1}) {
		t.Errorf("narrow columns: %v", got)
	}
}

// TestSecretIDs: what a table shows of secrets.
func TestSecretIDs(t *testing.T) {
	hexOf := func(c string) string { return strings.Repeat(c, 56) }
	selector := "s3lect0rS3lect0rS3lect"
	v2 := "default:production.v2_" + selector + "_" + strings.Repeat("x", 43)
	a := unleashadmin.APIToken{Secret: "default:production." + hexOf("a")}
	toks := []unleashadmin.APIToken{
		a,
		{Secret: "*:development." + hexOf("b")},
		{Secret: selector, Secure: true}, // listed under secure token storage
		{Secret: v2},                     // a full v2 secret, as check is given
		{},                               // no secret
		a,                                // the same token twice
	}
	want := []string{"default:production.aaaaaaaa***", "*:development.bbbbbbbb***", selector, selector, "-", "default:production.aaaaaaaa***"}
	if got := secretIDs(toks); !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
	// Secrets alike in their first 12 characters show 13, all of the
	// table's alike; alike in more than half, half (the most shown).
	alike := []unleashadmin.APIToken{
		{Secret: "default:production." + strings.Repeat("c", 12) + hexOf("1")[:44]},
		{Secret: "default:production." + strings.Repeat("c", 12) + hexOf("2")[:44]},
		{Secret: "*:development." + hexOf("d")},
	}
	if got := secretIDs(alike); got[0] != "default:production.cccccccccccc1***" || got[1] != "default:production.cccccccccccc2***" ||
		got[2] != "*:development."+strings.Repeat("d", 13)+"***" {
		t.Errorf("alike: %q", got)
	}
	same := []unleashadmin.APIToken{{Secret: "default:production." + hexOf("e")}, {Secret: "default:production." + hexOf("e")[:55] + "f"}}
	if got := secretIDs(same); got[0] != "default:production."+hexOf("e")[:28]+"***" || got[0] != got[1] {
		t.Errorf("alike beyond half: %q", got)
	}
}

// TestTablesFitTheTerminal: on a terminal the table fits the terminal's
// width, on a pipe 80 columns. script(1) gives the command a terminal.
func TestTablesFitTheTerminal(t *testing.T) {
	scriptCmd, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) here to give the command a terminal")
	}
	srv := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "payments"), unleashtest.WithTokens(
		unleashtest.Token{TokenName: strings.Repeat("w", 30), Type: "client", Projects: []string{"default", "payments"}}))
	bin := binaryPath(t)
	env := binaryEnv(srv.URL(), srv.AdminKey())
	// Natural width 109: at 80 columns the projects are cut to minCut,
	// at 120 nothing is.
	cmd := exec.Command(scriptCmd, "-qec", "stty cols 120 && "+bin+" list", "/dev/null")
	cmd.Env = env
	onTerminal, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, onTerminal)
	}
	cmd = exec.Command(bin, "list")
	cmd.Env = env
	onPipe, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(onTerminal, []byte("default,payments")) || bytes.Contains(onTerminal, []byte("…")) {
		t.Errorf("on a terminal of 120 columns:\n%s", onTerminal)
	}
	if !bytes.Contains(onPipe, []byte("defau…")) {
		t.Errorf("on a pipe:\n%s", onPipe)
	}
}

// TestStatusWords: apply's table and JSON say an outcome's status in the
// same words, those of package desired.
func TestStatusWords(t *testing.T) {
	made := unleashadmin.APIToken{TokenName: "checkout", Type: "client", Secret: "default:production." + strings.Repeat("ab", 28)}
	old := unleashadmin.APIToken{TokenName: "checkout", Type: "client", Secret: "default:production." + strings.Repeat("cd", 28)}
	act := desired.Action{Kind: desired.Rotate, Name: "checkout", Token: &old, Reason: "expired"}
	res := &desired.Result{Outcomes: []desired.Outcome{
		{Action: act, Done: true, New: &made, Delivered: true, Retired: true, Deleted: true},
		{Action: act, New: &made, Delivered: true, Err: errors.New("retire: 503")},
		{Action: act, Err: errors.New("create: 400")},
	}}
	var table, asJSON bytes.Buffer
	if err := printOutcomes(&app{out: &table}, res); err != nil {
		t.Fatal(err)
	}
	if err := printOutcomes(&app{out: &asJSON, json: true}, res); err != nil {
		t.Fatal(err)
	}
	var got applyJSON
	if err := json.Unmarshal(asJSON.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(table.String(), "\n")[1:]
	for i, want := range []string{"done", "partly-done", "failed"} {
		if got.Outcomes[i].Status != want || string(res.Outcomes[i].Status()) != want || !strings.Contains(rows[i], "  "+want+"  ") {
			t.Errorf("outcome %d: JSON %q, table %q; want %q", i, got.Outcomes[i].Status, rows[i], want)
		}
	}
}
