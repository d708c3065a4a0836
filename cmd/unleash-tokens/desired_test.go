package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// desiredServer is the server of the plan and apply tests: the one named
// by UNLEASH_URL and UNLEASH_API_TOKEN, else a stand-in.
func desiredServer(t *testing.T) (url, key string, c *unleashadmin.Client) {
	t.Helper()
	url, key = server(t)
	c, err := unleashadmin.NewClient(url, key)
	if err != nil {
		t.Fatal(err)
	}
	return url, key, c
}

// byName returns the server's tokens named name.
func byName(t *testing.T, c *unleashadmin.Client, name string) []unleashadmin.APIToken {
	t.Helper()
	toks, err := c.GetAPITokensByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPlanAndApplyEndToEnd drives plan and apply as a built binary: from
// nothing, a second apply that changes nothing, a scope change through the
// exec sink, a failed delivery, a failed create, and the prune that
// cleans up. Against a real server it uses names of its own run only.
func TestPlanAndApplyEndToEnd(t *testing.T) {
	t.Parallel()
	url, key, c := desiredServer(t)
	testPlanAndApply(t, url, key, c)
}

// TestPlanAndApplyEndToEndSecure runs the same against a stand-in in
// secure token storage mode (lists show selectors); against a real server
// it is TestPlanAndApplyEndToEnd's job, whatever mode the server is in.
func TestPlanAndApplyEndToEndSecure(t *testing.T) {
	t.Parallel()
	if os.Getenv("UNLEASH_URL") != "" && os.Getenv("UNLEASH_API_TOKEN") != "" {
		t.Skip("runs against the stand-in only; TestPlanAndApplyEndToEnd covers the real server")
	}
	srv := unleashtest.NewTestServer(t, unleashtest.WithSecureTokens())
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	if err != nil {
		t.Fatal(err)
	}
	testPlanAndApply(t, srv.URL(), srv.AdminKey(), c)
}

func testPlanAndApply(t *testing.T, url, key string, c *unleashadmin.Client) {
	r := binary(t, url, key)
	prefix := uniqueName(t) + "-"
	checkout, web, batch := prefix+"checkout", prefix+"web", prefix+"batch"
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.yaml")
	secrets := filepath.Join(dir, "secrets")
	cleanup := filepath.Join(dir, "cleanup.yaml")
	writeFile(t, cleanup, "tokens: []\nprune:\n  namePrefix: "+prefix+"\n")
	t.Cleanup(func() {
		// Whatever happened, nothing of this run stays on the server.
		if _, errOut, code := r(t, "", "apply", "-f", cleanup); code != 0 {
			t.Errorf("cleanup: exit %d: %s", code, errOut)
		}
		toks, err := c.ListAPITokens(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range toks {
			if strings.HasPrefix(tok.TokenName, prefix) {
				t.Errorf("left behind: %s", tok.TokenName)
			}
		}
	})
	yaml := func(webType, checkoutEnv string, more ...string) string {
		return fmt.Sprintf(`tokens:
  - name: %s
    type: backend
    environment: %s
    projects: [default]
    expiresIn: 90d
    renewBefore: 14d
  - name: %s
    type: %s
  - name: %s
    type: client
%sprune:
  namePrefix: %s
`, checkout, checkoutEnv, web, webType, batch, strings.Join(more, ""), prefix)
	}
	writeFile(t, file, yaml("frontend", "production"))
	noSecret := func(args []string, texts ...string) {
		t.Helper()
		for _, s := range texts {
			if m := fullSecret.FindString(s); m != "" {
				t.Fatalf("%v printed a secret", args)
			}
		}
	}
	run := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		out, errOut, code := r(t, "", args...)
		noSecret(args, out, errOut)
		if !strings.Contains(strings.Join(args, " "), "-o json") {
			checkWidth(t, args, out)
		}
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, out, errOut)
		}
		return out, errOut
	}

	// From nothing: the plan creates three, and says so in its exit code.
	out, _ := run(exitChanges, "plan", "-f", file, "--detailed-exitcode")
	for _, name := range []string{checkout, web, batch} {
		if !strings.Contains(out, "create  "+name) {
			t.Errorf("plan lacks the create of %s:\n%s", name, out)
		}
	}
	out, _ = run(exitChanges, "apply", "-f", file, "--dry-run", "--detailed-exitcode", "-o", "json")
	var plan struct {
		Actions []struct{ Action, Name, Reason string } `json:"actions"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan.Actions) != 3 || plan.Actions[0].Action != "create" || plan.Actions[0].Name != checkout || plan.Actions[0].Reason == "" {
		t.Fatalf("plan -o json: %v\n%s", err, out)
	}
	// No sink: refused before anything is made.
	_, errOut := run(exitUsage, "apply", "-f", file)
	if !strings.Contains(errOut, "--deliver-dir") || len(byName(t, c, checkout)) != 0 {
		t.Fatalf("apply without a sink: %s", errOut)
	}

	// Apply through the directory sink.
	out, _ = run(exitOK, "apply", "-f", file, "--deliver-dir", secrets)
	if !strings.Contains(out, "Applied: 3 of 3 actions done.") {
		t.Fatalf("apply:\n%s", out)
	}
	if fi, err := os.Stat(secrets); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("secrets dir: %v %v", fi, err)
	}
	first := map[string]string{}
	for _, name := range []string{checkout, web, batch} {
		path := filepath.Join(secrets, name)
		b, err := os.ReadFile(path)
		fi, _ := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 || !strings.HasSuffix(string(b), "\n") {
			t.Fatalf("%s: %v %v", path, fi, err)
		}
		secret := strings.TrimSuffix(string(b), "\n")
		toks := byName(t, c, name)
		if len(toks) != 1 || !toks[0].Matches(secret) {
			t.Fatalf("%s: the server holds %d tokens, or not the delivered one", name, len(toks))
		}
		first[name] = secret
	}
	if tok := byName(t, c, checkout)[0]; !tok.IsType(unleashadmin.TokenTypeBackend) || tok.Environment != "production" ||
		strings.Join(tok.ProjectIDs(), ",") != "default" || tok.ExpiresAt == nil {
		t.Errorf("checkout: %v", tok)
	}

	// A second apply changes nothing.
	run(exitOK, "plan", "-f", file, "--detailed-exitcode")
	out, _ = run(exitOK, "apply", "-f", file, "--deliver-dir", secrets, "-o", "json")
	var res struct {
		Outcomes []struct{ Action, Name, Status string } `json:"outcomes"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Outcomes) != 3 {
		t.Fatalf("apply -o json: %v\n%s", err, out)
	}
	for _, o := range res.Outcomes {
		if o.Action != "keep" || o.Status != "done" {
			t.Errorf("second apply: %+v", o)
		}
	}
	for name, secret := range first {
		if toks := byName(t, c, name); len(toks) != 1 || !toks[0].Matches(secret) {
			t.Errorf("%s changed on the second apply", name)
		}
	}

	// A scope change: web becomes a backend token, checkout moves to
	// development. The exec sink gets the new ones.
	writeFile(t, file, yaml("backend", "development"))
	out, _ = run(exitChanges, "plan", "-f", file, "--detailed-exitcode")
	if !strings.Contains(out, "replace  "+web) || !strings.Contains(out, "replace  "+checkout) || !strings.Contains(out, "keep     "+batch) {
		t.Fatalf("plan of the scope change:\n%s", out)
	}
	hook := `cat > "` + dir + `/$UNLEASH_TOKEN_NAME.secret" && echo "$UNLEASH_TOKEN_TYPE $UNLEASH_TOKEN_ENVIRONMENT $UNLEASH_TOKEN_PROJECTS" > "` + dir + `/$UNLEASH_TOKEN_NAME.env"`
	run(exitOK, "apply", "-f", file, "--deliver-exec", hook)
	// The hook hears the entry's name and scope, not the server's words
	// for them: backend, also before Unleash 7.1, where a backend entry is
	// made as client (the same kind); web names no environment, so it gets
	// the server's default.
	info := serverFacts(t, url, key)
	kind := "backend"
	for name, env := range map[string]string{web: kind + " " + info.DefaultEnvironment() + " *", checkout: kind + " development default"} {
		secret, _ := os.ReadFile(filepath.Join(dir, name+".secret"))
		gotEnv, _ := os.ReadFile(filepath.Join(dir, name+".env"))
		toks := byName(t, c, name)
		if len(toks) != 1 || !toks[0].Matches(string(secret)) || toks[0].Matches(first[name]) {
			t.Errorf("%s after the scope change: %d tokens, or not the delivered one", name, len(toks))
		}
		if strings.TrimSpace(string(gotEnv)) != env {
			t.Errorf("%s: the hook saw %q, want %q", name, gotEnv, env)
		}
	}
	run(exitOK, "plan", "-f", file, "--detailed-exitcode")

	// A delivery that fails: the new token is deleted again, the old one
	// stays, and the exit code says it was a delivery failure.
	before := byName(t, c, web)
	writeFile(t, file, yaml("frontend", "development"))
	_, errOut = run(exitNotDelivered, "apply", "-f", file, "--deliver-exec", "exit 3")
	if !strings.Contains(errOut, "desired: replace "+web+": unleashadmin: the new token could not be delivered") || !strings.Contains(errOut, "exit status 3") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if after := byName(t, c, web); len(after) != 1 || after[0].Secret != before[0].Secret {
		t.Errorf("web after the failed delivery: %d tokens", len(after))
	}

	// A create the server refuses (an unknown project) fails that entry
	// alone: exit 10, the others done.
	writeFile(t, file, yaml("backend", "development", "  - {name: "+prefix+"bad, type: client, projects: [no-such-project-"+prefix+"]}\n"))
	out, errOut = run(exitPartial, "apply", "-f", file, "--deliver-dir", secrets)
	if !strings.Contains(errOut, "create "+prefix+"bad: creating the new token") || !strings.Contains(out, "failed") || !strings.Contains(out, "Applied: 3 of 4 actions done.") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

// TestDesiredUsageErrorsSendNothing: a bad file or bad flags exit 2 with
// the file's line, before any request.
func TestDesiredUsageErrorsSendNothing(t *testing.T) {
	t.Parallel()
	srv := unleashtest.NewTestServer(t)
	r := inProcess(srv.URL(), srv.AdminKey())
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, "tokens: [{name: a, type: client}]\n")
	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "tokens:\n  - name: a\n    type: client\n    expiresIn: 90 days\n")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"plan", "-f", bad}, bad + `:4: expiresIn: bad duration: unknown unit`},
		{[]string{"apply", "-f", bad, "--deliver-dir", dir}, bad + ":4:"},
		{[]string{"plan"}, "-f FILE is required"},
		{[]string{"plan", "-f", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"plan", "-f", good, "extra"}, "takes no arguments"},
		{[]string{"plan", "-f", good, "--grace", "-1h"}, "--grace must not be negative"},
		{[]string{"apply", "-f", good, "--deliver-dir", dir, "--deliver-exec", "true"}, "not both"},
		{[]string{"apply", "-f", good, "--deliver-dir", dir, "--parallel", "0"}, "--parallel must be at least 1"},
		{[]string{"apply", "-f", good, "--deliver-dir", dir, "--detailed-exitcode"}, "goes with --dry-run"},
		{[]string{"apply", "-f", good, "--read-exec", "cat"}, "--read-exec goes with --deliver-exec"},
		{[]string{"apply", "-f", good, "--deliver-dir", dir, "--settle", "0s"}, "--settle must be longer than 0"},
		{[]string{"plan", "-f", good, "--deliver-dir", dir, "--read-exec", "cat"}, "not both"},
	} {
		_, errOut, code := r(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.msg) || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut, tc.msg)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
	// No sink: the plan is read (a list, and the settings for the default
	// environment), nothing is changed.
	if _, errOut, code := r(t, "", "apply", "-f", good); code != exitUsage || !strings.Contains(errOut, "nothing was changed") {
		t.Errorf("no sink: exit %d: %s", code, errOut)
	}
	for _, req := range srv.Requests() {
		if req.Method != "GET" {
			t.Errorf("sent %s %s", req.Method, req.Path)
		}
	}
}

func TestApplyProgressLine(t *testing.T) {
	t.Parallel()
	var errOut bytes.Buffer
	report := progressReporter(&app{errOut: &errOut}, 3)
	report(desired.Outcome{Done: true})
	report(desired.Outcome{Err: fmt.Errorf("x")})
	if got := errOut.String(); got != "\rapply: 1/3 actions settled, 0 failed\rapply: 2/3 actions settled, 1 failed" {
		t.Fatalf("%q", got)
	}
}
