package main

// Saved plans as built binaries: plan -out, then apply PLANFILE, against
// the stand-in (both storage modes) or the real server named by
// UNLEASH_URL and UNLEASH_API_TOKEN, through a proxy that records what the
// server was sent. Each test uses names of its own run and retires them
// when it ends.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// sentLog records the requests a proxy passed on.
type sentLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *sentLog) add(r *http.Request) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r.Method+" "+r.URL.Path)
	return false
}

// mark returns how many requests were sent so far.
func (l *sentLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// since returns the requests after the first n.
func (l *sentLog) since(n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs[n:])
}

// changesSince returns the requests after the first n that are not GETs.
func (l *sentLog) changesSince(n int) []string {
	var out []string
	for _, r := range l.since(n) {
		if !strings.HasPrefix(r, "GET ") {
			out = append(out, r)
		}
	}
	return out
}

// TestSavedPlans drives plan -out and apply PLANFILE against the server
// under test.
func TestSavedPlans(t *testing.T) {
	t.Parallel()
	url, key, c := desiredServer(t)
	testSavedPlans(t, url, key, c)
}

// TestSavedPlansSecure runs the same against a stand-in in secure token
// storage mode; against a real server it is TestSavedPlans' job, whatever
// mode the server is in.
func TestSavedPlansSecure(t *testing.T) {
	t.Parallel()
	if os.Getenv("UNLEASH_URL") != "" && os.Getenv("UNLEASH_API_TOKEN") != "" {
		t.Skip("runs against the stand-in only; TestSavedPlans covers the real server")
	}
	srv := unleashtest.NewTestServer(t, unleashtest.WithSecureTokens())
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	testSavedPlans(t, srv.URL(), srv.AdminKey(), c)
}

// planned is an action of a plan, or an outcome of an apply, as -o json
// prints it.
type planned struct {
	Action string `json:"action"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Token  *struct {
		Secret string `json:"secret"`
	} `json:"token"`
}

func (p planned) String() string {
	s := p.Action + " " + p.Name
	if p.Token != nil {
		s += " " + p.Token.Secret
	}
	return s
}

func testSavedPlans(t *testing.T, target, key string, c *unleashadmin.Client) {
	ctx := context.Background()
	sent := &sentLog{}
	url := proxyTo(t, target, func(_ http.ResponseWriter, r *http.Request) bool { return sent.add(r) })
	x := newRecordRun(t, url, key, c)
	info := serverFacts(t, target, key)
	keep, dup, fresh, gone, more := x.prefix+"keep", x.prefix+"dup", x.prefix+"new", x.prefix+"gone", x.prefix+"more"
	var secrets []string // every secret of the run
	mk := func(name string, typ unleashadmin.TokenType) unleashadmin.APIToken {
		t.Helper()
		tok, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: typ, TokenName: name, Environment: info.DefaultEnvironment()})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, tok.Secret)
		return *tok
	}
	mk(keep, unleashadmin.TokenTypeClient)
	mk(dup, unleashadmin.TokenTypeClient)
	mk(dup, unleashadmin.TokenTypeClient)
	mk(gone, unleashadmin.TokenTypeFrontend)
	entries := "tokens:\n  - {name: " + keep + ", type: client}\n  - {name: " + dup + ", type: client}\n  - {name: " + fresh + ", type: frontend}\n"
	file := x.write("tokens.yaml", entries+"prune: {namePrefix: "+x.prefix+"}\n")
	planFile := filepath.Join(x.dir, "plan.json")
	delivered := filepath.Join(x.dir, "delivered")
	if err := os.Mkdir(delivered, 0o700); err != nil {
		t.Fatal(err)
	}
	hook := `cat > "` + delivered + `/$UNLEASH_TOKEN_NAME"`
	// The secrets the sink was given, as they arrive.
	deliveredSecrets := func() {
		ents, _ := os.ReadDir(delivered)
		for _, e := range ents {
			b, _ := os.ReadFile(filepath.Join(delivered, e.Name()))
			secrets = append(secrets, string(b))
		}
	}
	// noSecretIn fails unless the plan file holds no 12 characters of a
	// secret's random part (the whole of a legacy secret's hex, whose
	// "selector" is the secret itself), in any letter case.
	noSecretIn := func(path string) {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ToLower(data)
		for _, s := range append(slices.Clone(secrets), key) {
			random := s[strings.LastIndexByte(s, '.')+1:]
			if strings.Contains(s, ".v2_") {
				random = s[len(s)-43:]
			}
			for i := 0; i+12 <= len(random); i++ {
				if bytes.Contains(data, []byte(strings.ToLower(random[i:i+12]))) {
					t.Fatalf("%s holds part of a secret", path)
				}
			}
		}
		if m := fullSecret.Find(data); m != nil {
			t.Fatalf("%s holds a secret", path)
		}
	}
	decode := func(out, key string) []planned {
		t.Helper()
		var v map[string]json.RawMessage
		var list []planned
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if err := json.Unmarshal(v[key], &list); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return list
	}
	// prefixed is every token of the run: its shown secret and name.
	prefixed := func() []string {
		t.Helper()
		toks, err := c.ListAPITokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, tok := range toks {
			if strings.HasPrefix(tok.TokenName, x.prefix) {
				out = append(out, tok.TokenName+" "+tok.Secret)
			}
		}
		slices.Sort(out)
		return out
	}

	// A plan applied unchanged does exactly what it printed.
	out, _ := x.run(exitChanges, "plan", "-f", file, "-out", planFile, "-o", "json", "--detailed-exitcode")
	printed := decode(out, "actions")
	want := []string{"keep " + keep, "keep " + dup, "retire " + dup, "create " + fresh, "retire " + gone}
	var got []string
	for _, p := range printed {
		got = append(got, p.Action+" "+p.Name)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("plan: %v, want %v", got, want)
	}
	noSecretIn(planFile)
	n := sent.mark()
	out, _ = x.run(exitOK, "apply", planFile, "--deliver-exec", hook, "-o", "json")
	outcomes := decode(out, "outcomes")
	for i, o := range outcomes {
		if o.Status != "done" || i >= len(printed) || o.String() != printed[i].String() {
			t.Errorf("outcome %d: %v %s, printed %v", i, o, o.Status, printed)
		}
	}
	if len(outcomes) != len(printed) {
		t.Fatalf("%d outcomes of %d actions", len(outcomes), len(printed))
	}
	if reqs := sent.since(n); reqs[0] != "GET /api/admin/api-tokens" || slices.Index(reqs[1:], "GET /api/admin/api-tokens") >= 0 {
		t.Errorf("apply PLANFILE: %v, want one list request first and no other", reqs)
	}
	deliveredSecrets()
	if toks := x.live(fresh); len(toks) != 1 || !toks[0].Matches(x.held(delivered, fresh)) {
		t.Fatalf("%s: %d live tokens, or not the delivered one", fresh, len(toks))
	}
	if len(x.live(dup)) != 1 || len(x.live(gone)) != 0 || len(x.live(keep)) != 1 {
		t.Fatalf("after the apply: %v", prefixed())
	}
	x.run(exitOK, "plan", "-f", file, "--detailed-exitcode")

	// A token of one of its names made after the plan: refused, exit 11,
	// and nothing changed.
	file2 := x.write("tokens2.yaml", entries+"  - {name: "+more+", type: client}\nprune: {namePrefix: "+x.prefix+"}\n")
	x.run(exitChanges, "plan", "-f", file2, "-out", planFile, "--detailed-exitcode")
	noSecretIn(planFile)
	mk(keep, unleashadmin.TokenTypeClient)
	before := prefixed()
	n = sent.mark()
	_, errOut := x.run(exitStale, "apply", planFile, "--deliver-exec", hook)
	if !strings.Contains(errOut, "the saved plan is stale, and nothing was changed: 1 token(s) of its names are new or changed: \""+keep+"\"") {
		t.Errorf("stderr: %s", errOut)
	}
	if ch := sent.changesSince(n); len(ch) > 0 || !slices.Equal(prefixed(), before) {
		t.Fatalf("a stale plan sent %v", ch)
	}

	// A retired token deleted by hand: refused, nothing changed.
	x.run(exitChanges, "plan", "-f", file2, "-out", planFile, "--detailed-exitcode")
	var plan2 struct {
		Actions []struct {
			Action string
			Name   string
			Token  *struct{ Secret string }
		}
	}
	data, _ := os.ReadFile(planFile)
	if err := json.Unmarshal(data, &plan2); err != nil {
		t.Fatal(err)
	}
	retired := ""
	for _, a := range plan2.Actions {
		if a.Action == "retire" && a.Name == keep {
			retired = a.Token.Secret
		}
	}
	var byHand unleashadmin.APIToken
	for _, tok := range byName(t, c, keep) {
		if (unleashadmin.APIToken{Secret: tok.Secret, Secure: tok.Secure}).Redacted().Secret == retired {
			byHand = tok
		}
	}
	if byHand.Secret == "" {
		t.Fatalf("the plan retires no token of %s: %s", keep, data)
	}
	if err := c.DeleteAPIToken(ctx, byHand.Secret); err != nil {
		t.Fatal(err)
	}
	before = prefixed()
	n = sent.mark()
	_, errOut = x.run(exitStale, "apply", planFile, "--deliver-exec", hook)
	if !strings.Contains(errOut, "token(s) the plan saw are gone or changed (deleted, rotated, or their expiry moved): of \""+keep+"\"") {
		t.Errorf("stderr: %s", errOut)
	}
	if ch := sent.changesSince(n); len(ch) > 0 || !slices.Equal(prefixed(), before) || len(x.live(more)) != 0 {
		t.Fatalf("a stale plan sent %v", ch)
	}
	// --dry-run says so too, and -f of another version of the file
	// refuses the plan before anything is sent.
	x.run(exitStale, "apply", planFile, "--dry-run")
	x.run(exitChanges, "plan", "-f", file2, "-out", planFile, "--detailed-exitcode")
	n = sent.mark()
	_, errOut = x.run(exitStale, "apply", planFile, "-f", file, "--deliver-exec", hook)
	if !strings.Contains(errOut, "it was made from another version of "+file) || len(sent.since(n)) != 0 {
		t.Errorf("-f of another file: %s %v", errOut, sent.since(n))
	}
	out, _ = x.run(exitChanges, "apply", planFile, "-f", file2, "--dry-run", "--detailed-exitcode")
	if !strings.Contains(out, "create  "+more) || !strings.Contains(out, "Plan: 1 to create, 3 kept.") {
		t.Errorf("apply PLANFILE --dry-run:\n%s", out)
	}

	// Bad input is refused before anything is sent: a plan of another
	// instance (exit 11), one changed by hand, cut short, of a newer
	// format, or whose options are given again (exit 2).
	good, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	other := unleashtest.NewTestServer(t)
	otherRun := binary(t, other.URL(), other.AdminKey())
	if _, errOut, code := otherRun(t, "", "apply", planFile, "--deliver-exec", hook); code != exitStale ||
		!strings.Contains(errOut, "it was made for "+url+", and the client is for "+other.URL()+"; nothing was sent") {
		t.Errorf("another instance: exit %d: %s", code, errOut)
	}
	if got := other.RequestCount(); got != 0 {
		t.Errorf("the other instance got %d requests", got)
	}
	for _, tc := range []struct {
		name string
		data []byte
		args []string
		msg  string
	}{
		{"edited", bytes.Replace(good, []byte(`"action": "create"`), []byte(`"action": "keep"`), 1), nil, "the checksum does not match the content"},
		{"cut short", good[:len(good)*2/3], nil, "not a JSON object: cut short"},
		{"newer", bytes.Replace(good, []byte(`"formatVersion": 1,`), []byte(`"formatVersion": 2,`), 1), nil, "formatVersion 2 is newer than this version reads (1)"},
		{"not JSON", []byte("tokens: []\n"), nil, "not a JSON object"},
		{"grace", good, []string{"--grace", "1h"}, "--grace: a PLANFILE is applied with the options it was made with"},
		{"two plans", good, []string{planFile}, "apply takes one PLANFILE"},
		{"no sink", good, []string{"--deliver-dir", ""}, "no sink was given"},
		{"a sink to read", good, []string{"--deliver-dir", delivered}, "the plan was made without reading the sink"},
	} {
		bad := filepath.Join(x.dir, "bad.json")
		writeFile(t, bad, string(tc.data))
		args := append([]string{"apply", bad}, tc.args...)
		if len(tc.args) == 0 {
			args = append(args, "--deliver-exec", hook)
		}
		n := sent.mark()
		_, errOut := x.run(exitUsage, args...)
		if !strings.Contains(errOut, tc.msg) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%s: stderr %q, want %q", tc.name, errOut, tc.msg)
		}
		if len(sent.since(n)) != 0 {
			t.Errorf("%s: sent %v", tc.name, sent.since(n))
		}
	}

	// With a sink that is read: what it holds changes after the plan,
	// and the plan is refused; as it was, the plan is applied.
	dir := filepath.Join(x.dir, "dir")
	x.run(exitChanges, "plan", "-f", file2, "--deliver-dir", dir, "-out", planFile, "--detailed-exitcode")
	noSecretIn(planFile)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, dup), "*:development.not-a-token\n")
	n = sent.mark()
	_, errOut = x.run(exitStale, "apply", planFile, "--deliver-dir", dir)
	if !strings.Contains(errOut, `what the sink holds for "`+dup+`" changed: it held no secret, and holds a secret of no token of its name`) ||
		len(sent.changesSince(n)) != 0 {
		t.Errorf("stderr: %s", errOut)
	}
	if err := os.Remove(filepath.Join(dir, dup)); err != nil {
		t.Fatal(err)
	}
	// (Under secure token storage the list shows no secret to deliver as
	// it is: the entries whose token the directory does not hold are
	// reported not delivered, and left as they are.)
	out, _ = x.run(exitOK, "apply", planFile, "--deliver-dir", dir)
	if !strings.Contains(out, "create") || len(x.live(more)) != 1 {
		t.Errorf("apply of the sink's plan:\n%s", out)
	}
	deliveredSecrets()
	for _, e := range []string{dir, delivered} {
		ents, _ := os.ReadDir(e)
		for _, f := range ents {
			b, _ := os.ReadFile(filepath.Join(e, f.Name()))
			secrets = append(secrets, strings.TrimSpace(string(b)))
		}
	}
	noSecretIn(planFile)
}
