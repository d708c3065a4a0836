package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// server returns the URL and key to test against: the real server when
// UNLEASH_URL and UNLEASH_API_TOKEN are set, else an in-process one.
func server(t *testing.T) (string, string) {
	t.Helper()
	if u, k := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN"); u != "" && k != "" {
		return u, k
	}
	srv := unleashtest.NewTestServer(t)
	return srv.URL(), srv.AdminKey()
}

func uniqueName(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "cli-" + hex.EncodeToString(b) + "-" + strings.ReplaceAll(t.Name(), "/", "-")
}

// runner runs the command, in process or as a built binary.
type runner func(t *testing.T, args ...string) (stdout, stderr string, code int)

func inProcess(url, key string) runner {
	return func(t *testing.T, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		getenv := func(k string) string {
			return map[string]string{"UNLEASH_URL": url, "UNLEASH_API_TOKEN": key}[k]
		}
		code := run(context.Background(), args, &out, &errOut, getenv)
		return out.String(), errOut.String(), code
	}
}

func binary(t *testing.T, url, key string) runner {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "unleash-tokens")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return func(t *testing.T, args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "UNLEASH_URL="+url, "UNLEASH_API_TOKEN="+key)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			code = exitErr.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
}

var fullSecret = regexp.MustCompile(`[.][0-9a-f]{56}`)

// TestCommand drives every subcommand, in process against the stand-in or
// the server named by the environment, and again as a built binary.
func TestCommand(t *testing.T) {
	url, key := server(t)
	for name, r := range map[string]runner{"in-process": inProcess(url, key), "binary": binary(t, url, key)} {
		t.Run(name, func(t *testing.T) { testCommand(t, r, key) })
	}
}

func testCommand(t *testing.T, r runner, key string) {
	tokName := uniqueName(t)
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, code := r(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}

	// create -o json prints the new secret: a script captures it.
	var created unleashadmin.APIToken
	out := mustRun("create", "--type", "backend", "--name", tokName, "--env", "production", "--project", "default", "--expires", "+48h", "-o", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create output %q: %v", out, err)
	}
	if created.TokenName != tokName || created.Type != "backend" || created.Environment != "production" ||
		created.Project != "default" || created.ExpiresAt == nil || !fullSecret.MatchString(created.Secret) {
		t.Fatalf("created %+v", created)
	}
	secret := created.Secret
	defer r(t, "delete", secret)

	// list and get show the token with its secret redacted.
	for _, args := range [][]string{{"list"}, {"list", "--project", "default"}, {"get", tokName}, {"get", tokName, "-o", "json"}} {
		out := mustRun(args...)
		if !strings.Contains(out, tokName) || !strings.Contains(out, unleashadmin.RedactSecret(secret)) {
			t.Errorf("%v: output lacks the token:\n%s", args, out)
		}
		if strings.Contains(out, secret) || strings.Contains(out, key) {
			t.Errorf("%v printed a secret:\n%s", args, out)
		}
	}
	if out := mustRun("get", tokName, "--show-secrets"); !strings.Contains(out, secret) {
		t.Errorf("--show-secrets did not show the secret:\n%s", out)
	}
	var listed []unleashadmin.APIToken
	if err := json.Unmarshal([]byte(mustRun("get", tokName, "-o", "json")), &listed); err != nil || len(listed) != 1 || listed[0].Type != "client" {
		t.Errorf("get -o json: %+v, %v", listed, err)
	}

	// expire, then read the expiry back.
	out = mustRun("expire", secret, "--at", "2031-07-04T09:00:00Z")
	if !strings.Contains(out, "2031-07-04T09:00:00Z") || strings.Contains(out, secret) {
		t.Errorf("expire printed %q", out)
	}
	_ = json.Unmarshal([]byte(mustRun("get", tokName, "-o", "json")), &listed)
	if len(listed) != 1 || listed[0].ExpiresAt == nil || !listed[0].ExpiresAt.Equal(time.Date(2031, 7, 4, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("after expire: %+v", listed)
	}

	// rotate with a grace period: a new secret is printed, the old one
	// expires within the grace.
	var rot struct {
		New          unleashadmin.APIToken
		OldSecret    string
		OldDeleted   bool
		OldExpiresAt *time.Time
	}
	out = mustRun("rotate", secret, "--grace", "1h", "-o", "json")
	if err := json.Unmarshal([]byte(out), &rot); err != nil {
		t.Fatalf("rotate output %q: %v", out, err)
	}
	if rot.New.Secret == secret || !fullSecret.MatchString(rot.New.Secret) || rot.New.TokenName != tokName ||
		rot.New.Environment != "production" || rot.OldDeleted || rot.OldExpiresAt == nil || time.Until(*rot.OldExpiresAt) > time.Hour {
		t.Fatalf("rotation %+v", rot)
	}
	if strings.Contains(out, secret) {
		t.Errorf("rotate printed the old secret")
	}
	defer r(t, "delete", rot.New.Secret)
	_ = json.Unmarshal([]byte(mustRun("get", tokName, "-o", "json")), &listed)
	if len(listed) != 2 {
		t.Errorf("after rotate %d tokens named %s, want old and new", len(listed), tokName)
	}

	// rotate the new one at once: it is deleted.
	out = mustRun("rotate", rot.New.Secret)
	if !strings.Contains(out, "deleted") || !strings.Contains(out, tokName) {
		t.Errorf("rotate table output %q", out)
	}
	newest := fullSecret.FindString(out)
	if newest == "" {
		t.Fatalf("rotate printed no new secret:\n%s", out)
	}
	_ = json.Unmarshal([]byte(mustRun("get", tokName, "--show-secrets", "-o", "json")), &listed)
	for _, tok := range listed {
		if tok.Secret == rot.New.Secret {
			t.Errorf("rotated-away token still listed")
		}
		if strings.HasSuffix(tok.Secret, newest) {
			defer r(t, "delete", tok.Secret)
		}
	}

	// events: the token's life is in the log, with no secret.
	out = mustRun("events", "--query", tokName, "--limit", "0")
	for _, want := range []string{"created", "updated", "deleted", tokName} {
		if !strings.Contains(out, want) {
			t.Errorf("events lack %q:\n%s", want, out)
		}
	}
	if fullSecret.MatchString(out) {
		t.Errorf("events printed a secret:\n%s", out)
	}
	var events []unleashadmin.Event
	if err := json.Unmarshal([]byte(mustRun("events", "--query", tokName, "--type", "created", "-o", "json")), &events); err != nil || len(events) != 3 {
		t.Errorf("created events: %d, %v", len(events), err)
	}

	// delete through the project, then again: 404 is exit 4.
	mustRun("delete", secret, "--project", "default")
	if _, errOut, code := r(t, "delete", secret, "--project", "default"); code != exitNotFound || strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, secret) {
		t.Errorf("second project delete: exit %d, stderr %q", code, errOut)
	}
}

// TestExitCodes checks the codes a script branches on and the one-line
// errors.
func TestExitCodes(t *testing.T) {
	url, key := server(t)
	r := inProcess(url, key)
	bad := "*:*." + strings.Repeat("cd", 28)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{nil, exitUsage, ""},
		{[]string{"frob"}, exitUsage, "unknown command"},
		{[]string{"create", "--name", "x"}, exitUsage, "--type and --name are required"},
		{[]string{"create", "--type", "client", "--name", "x", "--expires", "tomorrow"}, exitUsage, "bad time"},
		{[]string{"list", "-o", "yaml"}, exitUsage, "-o must be table or json"},
		{[]string{"list", "--nope"}, exitUsage, "flag provided but not defined"},
		{[]string{"get"}, exitUsage, "one NAME"},
		{[]string{"expire", "s"}, exitUsage, "--at is required"},
		{[]string{"events", "--from", "yesterday"}, exitUsage, "bad date"},
		{[]string{"list", "--token", bad}, exitAuth, "401 Unauthorized"},
		{[]string{"list", "--token", bad, "--bearer"}, exitAuth, "401 Unauthorized"},
		{[]string{"list", "--project", "no-such-project"}, exitNotFound, "No project found"},
		{[]string{"rotate", "*:development." + strings.Repeat("0", 56)}, exitNotFound, "no token with secret"},
		{[]string{"create", "--type", "client", "--name", "x", "--env", "nope"}, exitAPI, "Environment=nope does not exist"},
		{[]string{"list", "--url", "http://127.0.0.1:1", "--timeout", "5s"}, exitFailure, "connection refused"},
	}
	for _, tt := range tests {
		out, errOut, code := r(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.err) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.err)
		}
		if code != exitOK && tt.args != nil && (out != "" || strings.Count(errOut, "\n") > 2) {
			t.Errorf("%v: stdout %q, stderr %q", tt.args, out, errOut)
		}
		if strings.Contains(errOut, bad) || strings.Contains(errOut, key) {
			t.Errorf("%v: stderr holds a key: %q", tt.args, errOut)
		}
	}
	// A missing server or key is a usage error.
	var errOut bytes.Buffer
	if code := run(context.Background(), []string{"list"}, &bytes.Buffer{}, &errOut, func(string) string { return "" }); code != exitUsage || !strings.Contains(errOut.String(), "UNLEASH_URL") {
		t.Errorf("no env: exit %d, %q", code, errOut.String())
	}
}

// TestHelp checks that every subcommand has --help, exiting 0.
func TestHelp(t *testing.T) {
	r := inProcess("", "")
	out, _, code := r(t, "--help")
	if code != exitOK || !strings.Contains(out, "exit codes") {
		t.Errorf("--help: %d %q", code, out)
	}
	for _, c := range commands {
		out, _, code := r(t, c.name, "--help")
		if code != exitOK || !strings.Contains(out, "usage: unleash-tokens "+c.name) || !strings.Contains(out, "-url") {
			t.Errorf("%s --help: exit %d\n%s", c.name, code, out)
		}
	}
	// The environment's URL (which may carry a password) and token are
	// not shown as flag defaults.
	const password, key = "hunter2pass", "*:*.0123456789abcdef0123456789abcdef"
	out, _, code = inProcess("https://bob:"+password+"@unleash.example.com", key)(t, "list", "--help")
	if code != exitOK || strings.Contains(out, password) || strings.Contains(out, key) || !strings.Contains(out, "$UNLEASH_URL") {
		t.Errorf("list --help with the environment set: exit %d\n%s", code, out)
	}
}

// TestRotateIncomplete: when the old token cannot be retired, rotate prints
// the new token and exits 6, whatever the status that stopped it.
func TestRotateIncomplete(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	target, _ := neturl.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	refuseDelete := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			http.Error(w, `{"name":"NoAccessError","message":"You do not have access"}`, http.StatusForbidden)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer refuseDelete.Close()
	r := inProcess(refuseDelete.URL, srv.AdminKey())

	out, errOut, code := r(t, "create", "--type", "client", "--name", "rot", "-o", "json")
	var old unleashadmin.APIToken
	if code != exitOK || json.Unmarshal([]byte(out), &old) != nil {
		t.Fatalf("create: exit %d, %q, %q", code, out, errOut)
	}
	out, errOut, code = r(t, "rotate", old.Secret, "-o", "json")
	var rot struct{ New unleashadmin.APIToken }
	if err := json.Unmarshal([]byte(out), &rot); err != nil || !fullSecret.MatchString(rot.New.Secret) || rot.New.Secret == old.Secret {
		t.Errorf("rotate printed %q (%v), want the new token", out, err)
	}
	if code != exitIncomplete || !strings.Contains(errOut, "rotation incomplete") || !strings.Contains(errOut, "403") {
		t.Errorf("rotate: exit %d, stderr %q; want %d", code, errOut, exitIncomplete)
	}
	if n := len(srv.Tokens()); n != 3 { // the admin key, old and new
		t.Errorf("%d tokens on the server, want 3", n)
	}
}

// TestPrintedTokensHideAliases: an alias authenticates like the secret, so
// listed tokens show it redacted, in both outputs.
func TestPrintedTokensHideAliases(t *testing.T) {
	const alias = "0123456789abcdef0123456789abcdef"
	tok := unleashadmin.APIToken{TokenName: "old-proxy", Secret: "*:development." + strings.Repeat("ab", 28), Alias: unleashadmin.Ptr(alias)}
	for _, asJSON := range []bool{false, true} {
		var out bytes.Buffer
		a := &app{out: &out, json: asJSON}
		if err := a.printTokens(false, tok); err != nil {
			t.Fatal(err)
		}
		if err := a.printEvents([]unleashadmin.Event{{Type: unleashadmin.EventAPITokenDeleted, PreData: &tok}}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), alias) || strings.Contains(out.String(), tok.Secret) || !strings.Contains(out.String(), "old-proxy") {
			t.Errorf("json=%t printed:\n%s", asJSON, out.String())
		}
	}
	if *tok.Alias != alias {
		t.Errorf("printing changed the caller's token")
	}
}
