package main

// Tests of a fleet: one file that names several instances, planned,
// applied, exported and audited at once; each instance fails alone.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// inProcessEnv runs the command in process with exactly these
// environment variables.
func inProcessEnv(vars map[string]string) runner {
	return func(t *testing.T, stdin string, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), nil, args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return vars[k] })
		return out.String(), errOut.String(), code
	}
}

// binaryWith runs the built binary with this process's environment, less
// every UNLEASH_ variable and COLUMNS, plus vars.
func binaryWith(t *testing.T, vars map[string]string) runner {
	bin := binaryPath(t)
	return func(t *testing.T, stdin string, args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "UNLEASH_") && !strings.HasPrefix(kv, "COLUMNS=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		code := exitCode(t, cmd.Run())
		return out.String(), errOut.String(), code
	}
}

// instancesIn returns the instance of every action, outcome and finding of
// a command's JSON output.
func instancesIn(v any) []any {
	m, _ := v.(map[string]any)
	var out []any
	for _, k := range []string{"actions", "outcomes", "findings"} {
		list, _ := m[k].([]any)
		for _, e := range list {
			if o, ok := e.(map[string]any); ok {
				out = append(out, o["instance"])
			}
		}
	}
	return out
}

// standinFleet is a fleet of stand-ins: their names, in order, each
// stand-in, and the variables that hold their keys.
type standinFleet struct {
	names []string
	srv   map[string]*unleashtest.Server
	vars  map[string]string
}

// newStandinFleet starts a stand-in per name, in secure token storage for
// the names in secure, and says how a file names them.
func newStandinFleet(t *testing.T, names []string, secure ...string) *standinFleet {
	t.Helper()
	sf := &standinFleet{names: names, srv: map[string]*unleashtest.Server{}, vars: map[string]string{}}
	for _, name := range names {
		var opts []unleashtest.Option
		if slices.Contains(secure, name) || os.Getenv("UNLEASH_STANDIN_SECURE") == "1" {
			opts = append(opts, unleashtest.WithSecureTokens())
		}
		sf.srv[name] = unleashtest.NewTestServer(t, opts...)
		sf.vars[sf.keyVar(name)] = sf.srv[name].AdminKey()
	}
	return sf
}

func (sf *standinFleet) keyVar(name string) string { return "KEY_" + strings.ToUpper(name) }

// instances is the instances section of the fleet.
func (sf *standinFleet) instances() string {
	var b strings.Builder
	b.WriteString("instances:\n")
	for _, name := range sf.names {
		fmt.Fprintf(&b, "  %s: {url: %s, tokenEnv: %s}\n", name, sf.srv[name].URL(), sf.keyVar(name))
	}
	return b.String()
}

// requests counts what the stand-ins were sent.
func (sf *standinFleet) requests() int {
	n := 0
	for _, s := range sf.srv {
		n += s.RequestCount()
	}
	return n
}

// named returns the tokens of a name on the stand-in of an instance.
func (sf *standinFleet) named(instance, name string) []unleashtest.Token {
	var out []unleashtest.Token
	for _, tok := range sf.srv[instance].Tokens() {
		if tok.TokenName == name {
			out = append(out, tok)
		}
	}
	return out
}

// testFleetJSONShapes runs plan, apply, audit and export over a fleet of
// two stand-ins with -o json, and checks each output against the fleet
// examples of docs/JSON.md: every action, outcome and finding names its
// instance.
func testFleetJSONShapes(t *testing.T, d jsonDoc) {
	sf := newStandinFleet(t, []string{"eu", "us"}, "us")
	r := inProcessEnv(sf.vars)
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.yaml")
	writeFile(t, file, sf.instances()+"tokens:\n  - {name: shape-a, type: client, environment: development}\n"+
		"  - {name: shape-eu, type: frontend, projects: [default], instances: [eu]}\n")
	// The fleet's plan file, of a file whose entries have the keys of the
	// documented one: made before the apply below, so that it has actions
	// on tokens.
	planned := filepath.Join(dir, "planned.yaml")
	writeFile(t, planned, sf.instances()+"tokens:\n  - {name: shape-a, type: client, environment: development, projects: [default], instances: [eu, us]}\n")
	for _, step := range [][]string{
		{"apply", "-f", planned, "--deliver-dir", filepath.Join(dir, "planned")},
		{"plan", "-f", planned, "--deliver-dir", filepath.Join(dir, "planned"), "--grace", "1d", "-out", filepath.Join(dir, "plan.json")},
	} {
		if _, errOut, code := r(t, "", step...); code != exitOK {
			t.Fatalf("%v: exit %d: %s", step, code, errOut)
		}
	}
	planFile := mustRead(t, filepath.Join(dir, "plan.json"))
	var got any
	if err := json.Unmarshal([]byte(planFile), &got); err != nil {
		t.Fatal(err)
	}
	if toks := d.match(t, "fleet plan -out", d.fleet["plan -out"], got); len(toks) != 2 || fullSecret.MatchString(planFile) {
		t.Errorf("fleet plan -out: %d token objects, or a secret:\n%s", len(toks), planFile)
	}
	for _, tt := range []struct {
		name   string
		args   []string
		tokens int
	}{
		{"plan", []string{"plan", "-f", file}, 0},
		{"apply", []string{"apply", "-f", file, "--deliver-dir", filepath.Join(dir, "secrets")}, 3},
		{"plan", []string{"apply", "-f", file, "--deliver-dir", filepath.Join(dir, "secrets"), "--dry-run"}, 3},
		{"audit", []string{"audit", "-f", file}, 0},
		{"export", []string{"export", "-f", file}, 0},
	} {
		out, errOut, code := r(t, "", append(tt.args, "-o", "json")...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", tt.args, code, errOut)
		}
		var got any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v\n%s", tt.args, err, out)
		}
		where := "fleet " + strings.Join(tt.args, " ")
		if fullSecret.MatchString(out) {
			t.Errorf("%s printed a secret", where)
		}
		if tt.name == "export" {
			// The file's JSON form: the file's keys, as documented.
			f, err := desired.Parse([]byte(out))
			m, _ := got.(map[string]any)
			if err != nil || !slices.Equal(keysOf(m), keysOf(d.fleet["export"].(map[string]any))) ||
				!slices.Equal(f.InstanceNames(), sf.names) || len(f.Tokens) != 2 || !slices.Equal(f.Tokens[1].Instances, []string{"eu"}) {
				t.Errorf("%s: %v\n%s", where, err, out)
			}
			continue
		}
		toks := d.match(t, where, d.fleet[tt.name], got)
		if len(toks) < tt.tokens {
			t.Errorf("%s: %d token objects, want %d or more:\n%s", where, len(toks), tt.tokens, out)
		}
		ins := instancesIn(got)
		if len(ins) == 0 && tt.name != "audit" {
			t.Errorf("%s: no actions:\n%s", where, out)
		}
		for _, in := range ins {
			if in != "eu" && in != "us" {
				t.Errorf("%s: instance %v", where, in)
			}
		}
		var env struct {
			Instances []struct {
				Instance, URL string
				Error         *string
			}
		}
		_ = json.Unmarshal([]byte(out), &env)
		if len(env.Instances) != 2 || env.Instances[0].Instance != "eu" || env.Instances[1].URL != sf.srv["us"].URL() || env.Instances[0].Error != nil {
			t.Errorf("%s: instances %+v", where, env.Instances)
		}
	}
}

// TestFleetEndToEnd drives a fleet of three stand-ins (one in secure
// token storage) as a built binary: one table with an INSTANCE column and
// a summary line per instance; secrets under DIR/<instance>/, which check
// finds live on its instance; a second apply that changes nothing; the
// exec sink with UNLEASH_INSTANCE and the instance's UNLEASH_URL and no
// key; --instance; export and audit of the fleet.
func TestFleetEndToEnd(t *testing.T) {
	t.Parallel()
	sf := newStandinFleet(t, []string{"eu", "us", "staging"}, "us")
	r := binaryWith(t, sf.vars)
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.yaml")
	writeFile(t, file, sf.instances()+`tokens:
  - {name: checkout, type: backend, environment: production, projects: [default]}
  - {name: storefront, type: frontend, instances: [eu, us]}
  - {name: batch, type: client, environment: development, instances: [staging]}
`)
	plan, errOut, code := r(t, "", "plan", "-f", file, "-o", "wide")
	if code != exitOK || errOut != "" {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(plan), "\n")
	if !strings.HasPrefix(lines[0], "INSTANCE  ACTION  NAME") || len(lines) != 1+6+3 {
		t.Fatalf("plan:\n%s", plan)
	}
	for _, want := range []string{"eu        create  checkout", "staging   create  batch", "eu: Plan: 2 to create, 0 kept.",
		"us: Plan: 2 to create, 0 kept.", "staging: Plan: 2 to create, 0 kept."} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	// Only some instances: the others are not read.
	before := sf.srv["us"].RequestCount()
	out, _, code := r(t, "", "plan", "-f", file, "--instance", "staging", "--instance", "eu", "--detailed-exitcode")
	if code != exitChanges || strings.Contains(out, "us:") || sf.srv["us"].RequestCount() != before {
		t.Fatalf("--instance: exit %d\n%s", code, out)
	}
	secrets := filepath.Join(dir, "secrets")
	out, errOut, code = r(t, "", "apply", "-f", file, "--deliver-dir", secrets)
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"eu: applied: 2 of 2 actions done.", "us: applied: 2 of 2 actions done.", "staging: applied: 2 of 2 actions done."} {
		if !strings.Contains(out, want) {
			t.Errorf("apply lacks %q:\n%s", want, out)
		}
	}
	want := map[string][]string{"eu": {"checkout", "storefront"}, "us": {"checkout", "storefront"}, "staging": {"batch", "checkout"}}
	for name, files := range want {
		got, err := os.ReadDir(filepath.Join(secrets, name))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range got {
			if !strings.HasPrefix(e.Name(), ".") {
				names = append(names, e.Name())
			}
		}
		mustEqualLines(t, name, names, files)
		// Each directory's secrets are live on its instance.
		check := binaryWith(t, map[string]string{"UNLEASH_URL": sf.srv[name].URL()})
		if out, errOut, code := check(t, "", "check", "--dir", filepath.Join(secrets, name)); code != exitOK {
			t.Errorf("check --dir %s: exit %d\n%s%s", name, code, out, errOut)
		}
		for _, entry := range files {
			held, _ := os.ReadFile(filepath.Join(secrets, name, entry))
			if toks := sf.named(name, entry); len(toks) != 1 || toks[0].Secret != strings.TrimSpace(string(held)) {
				t.Errorf("%s %s: %d tokens", name, entry, len(toks))
			}
		}
	}
	if len(sf.named("staging", "storefront")) != 0 || len(sf.named("eu", "batch")) != 0 {
		t.Error("an entry was made on an instance it is not for")
	}
	// The second apply changes nothing.
	out, errOut, code = r(t, "", "apply", "-f", file, "--deliver-dir", secrets, "-o", "json")
	var res struct {
		Outcomes []struct{ Instance, Action, Status string }
	}
	if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil || len(res.Outcomes) != 6 {
		t.Fatalf("second apply: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	for _, o := range res.Outcomes {
		if o.Action != "keep" || o.Status != "done" {
			t.Errorf("second apply: %+v", o)
		}
	}
	// The exec sink: each instance's name and URL, and no key.
	execDir := t.TempDir()
	deliver := fmt.Sprintf(`cat > '%[1]s'/"$UNLEASH_INSTANCE-$UNLEASH_TOKEN_NAME"; env > '%[1]s'/"env-$UNLEASH_INSTANCE"`, execDir)
	if out, errOut, code := r(t, "", "apply", "-f", file, "--instance", "eu", "--deliver-exec", deliver, "--grace", "1h"); code != exitOK {
		t.Fatalf("apply --deliver-exec: exit %d\n%s%s", code, out, errOut)
	}
	writeFile(t, file+".moved", strings.Replace(mustRead(t, file), "environment: production", "environment: development", 1))
	if out, errOut, code := r(t, "", "apply", "-f", file+".moved", "--instance", "eu", "--deliver-exec", deliver); code != exitOK {
		t.Fatalf("apply --deliver-exec: exit %d\n%s%s", code, out, errOut)
	}
	env := mustRead(t, filepath.Join(execDir, "env-eu"))
	for _, want := range []string{"UNLEASH_INSTANCE=eu\n", "UNLEASH_URL=" + sf.srv["eu"].URL() + "\n", "UNLEASH_TOKEN_NAME=checkout\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("the exec sink's environment lacks %q", want)
		}
	}
	for _, s := range sf.srv {
		if strings.Contains(env, s.AdminKey()) {
			t.Errorf("a key reached the exec sink")
		}
	}
	if held := mustRead(t, filepath.Join(execDir, "eu-checkout")); len(sf.named("eu", "checkout")) != 1 || sf.named("eu", "checkout")[0].Secret != held {
		t.Errorf("the exec sink holds %d bytes", len(held))
	}
	// Export: one file, per-instance entries where the instances differ.
	exported, errOut, code := r(t, "", "export", "-f", file)
	if code != exitOK {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	ef, err := desired.Parse([]byte(exported))
	if err != nil {
		t.Fatalf("%v\n%s", err, exported)
	}
	var entries []string
	for _, e := range ef.Tokens {
		entries = append(entries, fmt.Sprintf("%s %s %s %v", e.Name, e.Environment, e.Type, e.Instances))
	}
	// A backend token lists as client but under secure token storage (us).
	euType := "client"
	if os.Getenv("UNLEASH_STANDIN_SECURE") == "1" {
		euType = "backend"
	}
	mustEqualLines(t, "exported", entries, []string{
		"batch development client [staging]",
		"checkout development " + euType + " [eu]",
		"checkout production backend [us staging]",
		"storefront development frontend [eu us]",
	})
	if !strings.Contains(errOut, "unleash-tokens export: instance eu: exported 2 name(s); 0 left out; the first apply retires 0 token(s)") {
		t.Errorf("export's stderr:\n%s", errOut)
	}
	writeFile(t, filepath.Join(dir, "exported.yaml"), exported)
	if out, errOut, code := r(t, "", "plan", "-f", filepath.Join(dir, "exported.yaml"), "--detailed-exitcode"); code != exitOK {
		t.Errorf("plan of the exported file: exit %d\n%s%s", code, out, errOut)
	}
	// Audit: a line per instance, and the findings with their instance.
	out, errOut, code = r(t, "", "audit", "-f", file, "--fail-on", "all-projects")
	if code != exitFindings || !strings.Contains(errOut, "found all-projects on eu, us, staging (--fail-on)") {
		t.Errorf("audit: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"eu: tokens: ", "staging: tokens: ", "INSTANCE  NAME"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit lacks %q:\n%s", want, out)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFleetInstancesFailAlone: against stand-ins, an instance whose key is
// refused, one that answers 500 to its list and one that hangs (bounded by
// --timeout) each fail alone: the fourth is applied, the exit code is 10,
// and stderr names each failed instance and why.
func TestFleetInstancesFailAlone(t *testing.T) {
	t.Parallel()
	sf := newStandinFleet(t, []string{"good", "refused", "broken", "hung"})
	sf.vars["KEY_REFUSED"] = "*:*." + strings.Repeat("0", 56)
	sf.srv["broken"].FailNext(math.MaxInt, unleashtest.Fault{Status: 500, Body: []byte(`{"name":"UnknownError","message":"the database is down"}`)})
	sf.srv["hung"].FailNext(math.MaxInt, unleashtest.Fault{Delay: time.Hour})
	r := inProcessEnv(sf.vars)
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.yaml")
	writeFile(t, file, sf.instances()+"tokens:\n  - {name: svc, type: client, environment: development}\n")
	start := time.Now()
	out, errOut, code := r(t, "", "apply", "-f", file, "--deliver-dir", filepath.Join(dir, "secrets"), "--timeout", "4s")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("took %s", took)
	}
	if code != exitPartial {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"good      create  svc   done", "good: applied: 1 of 1 actions done.",
		"refused: not applied, nothing was changed (see stderr).", "broken: not applied", "hung: not applied"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{
		"unleash-tokens apply: instance refused: reading the tokens: unleashadmin: GET /api/admin/api-tokens: 401",
		"unleash-tokens apply: instance broken: reading the tokens: unleashadmin: GET /api/admin/api-tokens: 500",
		"the database is down",
		"unleash-tokens apply: instance hung: reading the tokens: ",
		"context deadline exceeded",
		"unleash-tokens apply: 3 of 4 instances failed (named above: 3 not applied); the rest was applied",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, sf.vars["KEY_REFUSED"]) || strings.Contains(errOut, randomPart(sf.vars["KEY_REFUSED"])) {
		t.Error("stderr holds a key")
	}
	if len(sf.named("good", "svc")) != 1 || mustRead(t, filepath.Join(dir, "secrets", "good", "svc")) == "" {
		t.Error("the good instance was not applied")
	}
	for _, name := range []string{"refused", "broken", "hung"} {
		for _, req := range sf.srv[name].Requests() {
			if req.Method != "GET" {
				t.Errorf("%s was sent %s %s", name, req.Method, req.Path)
			}
		}
	}
	// plan: the same, exit as the failures say (they differ: 1).
	sf.srv["hung"].ClearFaults()
	out, errOut, code = r(t, "", "plan", "-f", file, "-o", "json")
	var p fleetPlanJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil || code != exitFailure || len(p.Instances) != 4 || p.Instances[0].Error != nil ||
		p.Instances[1].Error == nil || !strings.HasPrefix(*p.Instances[1].Error, "instance refused: reading the tokens: ") {
		t.Errorf("plan: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	if !strings.Contains(errOut, "unleash-tokens plan: 2 of 4 instances could not be planned (named above); the others were") {
		t.Errorf("plan: %s", errOut)
	}
	// One failure: its own exit code (3 for a refused key).
	if _, errOut, code := r(t, "", "audit", "-f", file, "--instance", "refused", "--instance", "good"); code != exitAuth || !strings.Contains(errOut, "instance refused: ") {
		t.Errorf("audit: exit %d: %s", code, errOut)
	}
}

// TestFleetUsageErrorsSendNothing: an unknown instance, a missing key, a
// URL the client refuses, a bad --instance and flags that do not go with
// a fleet exit 2, name the line where there is one, and send nothing to
// any instance.
func TestFleetUsageErrorsSendNothing(t *testing.T) {
	t.Parallel()
	sf := newStandinFleet(t, []string{"eu", "us"})
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		writeFile(t, path, text)
		return path
	}
	good := write("good.yaml", sf.instances()+"tokens:\n  - {name: a, type: client}\n")
	unknown := write("unknown.yaml", sf.instances()+"tokens:\n  - name: a\n    type: client\n    instances: [eu, mars]\n")
	noKey := write("nokey.yaml", sf.instances()+"  mars: {url: http://127.0.0.1:1, tokenEnv: KEY_MARS}\ntokens: []\n")
	badURL := write("badurl.yaml", "instances:\n  eu: {url: 'ftp://unleash.example.com', tokenEnv: KEY_EU}\ntokens: []\n")
	plain := write("plain.yaml", "tokens: []\n")
	r := inProcessEnv(sf.vars)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"plan", "-f", unknown}, unknown + ":5: instances: item 2 names no instance of the file (it has eu, us)"},
		{[]string{"apply", "-f", noKey, "--deliver-dir", dir}, noKey + ":4: instance mars: its key is missing: tokenEnv names KEY_MARS, which is not set or empty"},
		{[]string{"export", "-f", noKey}, noKey + ":4: instance mars: its key is missing"},
		{[]string{"audit", "-f", noKey}, noKey + ":4: instance mars"},
		{[]string{"plan", "-f", badURL}, badURL + ":2: instance eu: url must start with http:// or https://"},
		{[]string{"plan", "-f", good, "--instance", "mars"}, `--instance "mars": the file has no such instance (it has eu, us)`},
		{[]string{"plan", "-f", good, "--instance", "eu", "--instance", "eu"}, "given twice"},
		{[]string{"plan", "-f", good, "--url", sf.srv["eu"].URL()}, "the file names its instances, each with its URL and where its key is: --url does not apply"},
		{[]string{"apply", "-f", good, "--token", sf.vars["KEY_EU"], "--deliver-dir", dir}, "--token does not apply"},
		{[]string{"plan", "-f", good, "--parallel-instances", "0"}, "--parallel-instances must be at least 1"},
		{[]string{"plan", "-f", plain, "--instance", "eu"}, "--instance goes with a file that names its instances"},
		{[]string{"audit", "-f", plain}, "names no instances"},
		{[]string{"export", "--instance", "eu"}, "--instance goes with -f FILE"},
		{[]string{"plan", "-f", plain}, "no server: UNLEASH_URL is not set"},
		{[]string{"audit"}, "no server: UNLEASH_URL is not set"},
		// No sink for plans that make tokens: nothing is changed anywhere.
		{[]string{"apply", "-f", good}, "the plans make tokens (1 on eu, 1 on us) and no sink was given"},
	} {
		_, errOut, code := r(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.msg) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.msg)
		}
		if strings.Contains(errOut, sf.vars["KEY_EU"]) {
			t.Errorf("%v: stderr holds a key", tc.args)
		}
	}
	for name, s := range sf.srv {
		for _, req := range s.Requests() {
			if req.Method != "GET" || req.Path != "/api/admin/api-tokens" && req.Path != "/api/admin/ui-config" {
				t.Errorf("%s was sent %s %s", name, req.Method, req.Path)
			}
		}
	}
	// Only the plans without a sink read anything.
	if n := sf.requests(); n != 4 {
		t.Errorf("%d requests", n)
	}
	// --instance is for the file's instances: a file without them does as
	// it always did, against UNLEASH_URL.
	vars := map[string]string{"UNLEASH_URL": sf.srv["eu"].URL(), "UNLEASH_API_TOKEN": sf.vars["KEY_EU"]}
	if out, errOut, code := inProcessEnv(vars)(t, "", "plan", "-f", plain); code != exitOK || !strings.HasPrefix(out, "No tokens") {
		t.Errorf("plain file: exit %d\n%s%s", code, out, errOut)
	}
}

// fleetEnv are the variables that name the three real servers of
// TestFleetRealServers, by instance.
var fleetEnv = map[string][2]string{
	"v8":       {"UNLEASH_FLEET_V8_URL", "UNLEASH_FLEET_V8_TOKEN"},
	"v8secure": {"UNLEASH_FLEET_V8SECURE_URL", "UNLEASH_FLEET_V8SECURE_TOKEN"},
	"v6":       {"UNLEASH_FLEET_V6_URL", "UNLEASH_FLEET_V6_TOKEN"},
}

// TestFleetRealServers applies one file, as built binaries, to three real
// Unleash servers running at once: 8.2.0, 8.2.0 with secure token storage
// and 6.10.1 (scripts/integration-real.sh starts them and sets
// UNLEASH_FLEET_{V8,V8SECURE,V6}_{URL,TOKEN}). Entries for all and for
// some; secrets under DIR/<instance>/, each directory checked against its
// instance; a second apply that changes nothing; the export of the fleet
// plans no change. Then the same with one instance stopped (a URL of a
// closed port): the other two are applied, the exit code is 10 and stderr
// names the stopped one. Names are of this run only, and retired at the
// end.
func TestFleetRealServers(t *testing.T) {
	vars := map[string]string{}
	urls := map[string]string{}
	for name, v := range fleetEnv {
		urls[name] = os.Getenv(v[0])
		vars[v[1]] = os.Getenv(v[1])
		if urls[name] == "" || vars[v[1]] == "" {
			t.Skipf("%s and %s are not set: this test needs three real Unleash servers running at once (scripts/integration-real.sh starts them)", v[0], v[1])
		}
	}
	names := []string{"v8", "v8secure", "v6"}
	clients := map[string]*unleashadmin.Client{}
	for _, name := range names {
		c, err := unleashadmin.NewClient(urls[name], vars[fleetEnv[name][1]])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		clients[name] = c
	}
	r := binaryWith(t, vars)
	prefix := uniqueName(t) + "-"
	dir := t.TempDir()
	instances := func(names ...string) string {
		var b strings.Builder
		b.WriteString("instances:\n")
		for _, name := range names {
			if name == "stopped" {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr := l.Addr().String()
				_ = l.Close()
				fmt.Fprintf(&b, "  stopped: {url: http://%s, tokenEnv: UNLEASH_FLEET_STOPPED_TOKEN}\n", addr)
				continue
			}
			fmt.Fprintf(&b, "  %s: {url: %s, tokenEnv: %s}\n", name, urls[name], fleetEnv[name][1])
		}
		return b.String()
	}
	cleanup := filepath.Join(dir, "cleanup.yaml")
	writeFile(t, cleanup, instances(names...)+"tokens: []\nprune:\n  namePrefix: "+prefix+"\n")
	t.Cleanup(func() {
		if out, errOut, code := r(t, "", "apply", "-f", cleanup); code != exitOK {
			t.Errorf("cleanup: exit %d\n%s%s", code, out, errOut)
		}
		for name, c := range clients {
			toks, err := c.ListAPITokens(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range toks {
				if strings.HasPrefix(tok.TokenName, prefix) {
					t.Errorf("%s: left behind: %s", name, tok.TokenName)
				}
			}
		}
	})
	file := filepath.Join(dir, "fleet.yaml")
	writeFile(t, file, instances(names...)+fmt.Sprintf(`tokens:
  - {name: %[1]sall, type: backend, environment: production, projects: [default], expiresIn: 30d, renewBefore: 7d}
  - {name: %[1]sdefault-env, type: client}
  - {name: %[1]sweb, type: frontend, environment: production, instances: [v8, v6]}
  - {name: %[1]ssecure, type: client, environment: development, instances: [v8secure]}
`, prefix))
	secrets := filepath.Join(dir, "secrets")
	want := map[string][]string{
		"v8":       {prefix + "all", prefix + "default-env", prefix + "web"},
		"v8secure": {prefix + "all", prefix + "default-env", prefix + "secure"},
		"v6":       {prefix + "all", prefix + "default-env", prefix + "web"},
	}
	checkDirs := func(secrets string, want map[string][]string) {
		t.Helper()
		for name, files := range want {
			d := filepath.Join(secrets, name)
			got, err := os.ReadDir(d)
			if err != nil {
				t.Fatal(err)
			}
			var held []string
			for _, e := range got {
				if !strings.HasPrefix(e.Name(), ".") {
					held = append(held, e.Name())
				}
			}
			mustEqualLines(t, name, held, files)
			check := binaryWith(t, map[string]string{"UNLEASH_URL": urls[name]})
			if out, errOut, code := check(t, "", "check", "--dir", d); code != exitOK {
				t.Errorf("check --dir %s against %s: exit %d\n%s%s", d, name, code, out, errOut)
			}
			for _, f := range files {
				if toks := byName(t, clients[name], f); len(toks) != 1 {
					t.Errorf("%s: %d tokens named %s", name, len(toks), f)
				}
			}
		}
	}
	out, errOut, code := r(t, "", "apply", "-f", file, "--deliver-dir", secrets, "--timeout", "2m")
	if code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, name := range names {
		if !strings.Contains(out, name+": applied: 3 of 3 actions done.") {
			t.Errorf("apply's summary of %s:\n%s", name, out)
		}
	}
	checkDirs(secrets, want)
	// Each instance's own rules: 6.10.1 has no backend type and its
	// default environment is "default".
	v6all, v6env := byName(t, clients["v6"], prefix+"all"), byName(t, clients["v6"], prefix+"default-env")
	if len(v6all) != 1 || v6all[0].Type != unleashadmin.TokenTypeClient || len(v6env) != 1 || v6env[0].Environment != "default" {
		t.Errorf("v6: %+v %+v", v6all, v6env)
	}
	if env := byName(t, clients["v8"], prefix+"default-env"); len(env) != 1 || env[0].Environment != "development" {
		t.Errorf("v8: %+v", env)
	}
	// The second apply changes nothing.
	out, errOut, code = r(t, "", "apply", "-f", file, "--deliver-dir", secrets, "-o", "json")
	var res fleetApplyJSON
	if err := json.Unmarshal([]byte(out), &res); code != exitOK || err != nil || len(res.Outcomes) != 9 {
		t.Fatalf("second apply: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	for _, o := range res.Outcomes {
		if o.Action != "keep" || o.Status != "done" {
			t.Errorf("second apply: %s %s %s %s", *o.Instance, o.Action, o.Name, o.Status)
		}
	}
	// The fleet's export: per-instance entries where they differ, and a
	// plan of it changes nothing.
	exported, errOut, code := r(t, "", "export", "-f", file, "--name-prefix", prefix)
	if code != exitOK {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	ef, err := desired.Parse([]byte(exported))
	if err != nil {
		t.Fatalf("%v\n%s", err, exported)
	}
	instancesOf := map[string]string{}
	for _, e := range ef.Tokens {
		instancesOf[strings.TrimPrefix(e.Name, prefix)] += fmt.Sprint(e.Instances)
	}
	if instancesOf["all"] != "[]" || instancesOf["web"] != "[v8 v6]" || instancesOf["secure"] != "[v8secure]" {
		t.Errorf("exported:\n%s", exported)
	}
	writeFile(t, filepath.Join(dir, "exported.yaml"), exported)
	if out, errOut, code := r(t, "", "plan", "-f", filepath.Join(dir, "exported.yaml"), "--detailed-exitcode"); code != exitOK {
		t.Errorf("plan of the export: exit %d\n%s%s", code, out, errOut)
	}

	// One instance stopped: the others are applied, exit 10, and stderr
	// names the stopped one.
	stopped := filepath.Join(dir, "stopped.yaml")
	writeFile(t, stopped, instances("v8", "stopped", "v6")+fmt.Sprintf(`tokens:
  - {name: %[1]sfleet-all, type: client, environment: development}
  - {name: %[1]sfleet-some, type: frontend, environment: production, instances: [stopped, v6]}
`, prefix))
	secrets2 := filepath.Join(dir, "secrets2")
	vars["UNLEASH_FLEET_STOPPED_TOKEN"] = "*:*." + strings.Repeat("5", 56)
	r = binaryWith(t, vars)
	out, errOut, code = r(t, "", "apply", "-f", stopped, "--deliver-dir", secrets2, "--timeout", "2m")
	if code != exitPartial {
		t.Fatalf("apply with one instance stopped: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"unleash-tokens apply: instance stopped: reading the tokens: ", "connection refused", "1 of 3 instances failed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, want := range []string{"v8: applied: 1 of 1 actions done.", "v6: applied: 2 of 2 actions done.", "stopped: not applied, nothing was changed (see stderr)."} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	checkDirs(secrets2, map[string][]string{"v8": {prefix + "fleet-all"}, "v6": {prefix + "fleet-all", prefix + "fleet-some"}})
	// Its directory has the lock apply took before reading, and no secret.
	if held, _ := os.ReadDir(filepath.Join(secrets2, "stopped")); slices.ContainsFunc(held, func(e os.DirEntry) bool { return !strings.HasPrefix(e.Name(), ".") }) {
		t.Errorf("the stopped instance's directory holds %v", held)
	}
	if out, errOut, code := r(t, "", "plan", "-f", stopped, "--deliver-dir", secrets2, "--instance", "v8", "--instance", "v6", "--detailed-exitcode"); code != exitOK {
		t.Errorf("plan of the two: exit %d\n%s%s", code, out, errOut)
	}
}
