package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// server returns the URL and key to test against: the real server when
// UNLEASH_URL and UNLEASH_API_TOKEN are set, else an in-process one (with
// secure token storage when UNLEASH_STANDIN_SECURE=1).
func server(t *testing.T) (string, string) {
	t.Helper()
	if u, k := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN"); u != "" && k != "" {
		return u, k
	}
	var opts []unleashtest.Option
	if os.Getenv("UNLEASH_STANDIN_SECURE") == "1" {
		opts = append(opts, unleashtest.WithSecureTokens())
	}
	srv := unleashtest.NewTestServer(t, opts...)
	return srv.URL(), srv.AdminKey()
}

// uniqueName is a token name of this run only, short enough for a table.
func uniqueName(*testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "cli-" + hex.EncodeToString(b)
}

// runner runs the command with stdin, in process or as a built binary.
type runner func(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int)

func inProcess(url, key string) runner {
	return func(t *testing.T, stdin string, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		getenv := func(k string) string {
			return map[string]string{"UNLEASH_URL": url, "UNLEASH_API_TOKEN": key}[k]
		}
		code := run(context.Background(), nil, args, strings.NewReader(stdin), &out, &errOut, getenv)
		return out.String(), errOut.String(), code
	}
}

var built struct {
	once sync.Once
	path string
	err  error
}

// binaryPath builds the command once for the whole test run.
func binaryPath(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "unleash-tokens-test-")
		if err != nil {
			built.err = err
			return
		}
		built.path = filepath.Join(dir, "unleash-tokens")
		if out, err := exec.Command("go", "build", "-o", built.path, ".").CombinedOutput(); err != nil {
			built.err = errors.New(string(out))
		}
	})
	if built.err != nil {
		t.Fatalf("go build: %v", built.err)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.path != "" {
		_ = os.RemoveAll(filepath.Dir(built.path))
	}
	os.Exit(code)
}

func binaryEnv(url, key string) []string {
	var env []string
	for _, kv := range os.Environ() {
		// Tables fit 80 columns unless COLUMNS says otherwise.
		if !strings.HasPrefix(kv, "UNLEASH_") && !strings.HasPrefix(kv, "COLUMNS=") {
			env = append(env, kv)
		}
	}
	return append(env, "UNLEASH_URL="+url, "UNLEASH_API_TOKEN="+key)
}

func binary(t *testing.T, url, key string) runner {
	bin := binaryPath(t)
	return func(t *testing.T, stdin string, args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = binaryEnv(url, key)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		code := exitCode(t, cmd.Run())
		return out.String(), errOut.String(), code
	}
}

// exitCode returns the exit code of a finished command.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

var fullSecret = regexp.MustCompile(`[.][0-9a-f]{56}|v2_[A-Za-z0-9_-]{22}_[A-Za-z0-9_-]{43}`)

// fullSecretIn returns the whole secret the table output of create or
// rotate prints.
func fullSecretIn(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(line, "secret:"); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// mustRun runs args and fails t unless they exit 0.
func mustRun(t *testing.T, r runner, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := r(t, stdin, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	return out
}

// serverFacts is what the server under test says of itself.
func serverFacts(t *testing.T, url, key string) unleashadmin.ServerInfo {
	t.Helper()
	c, err := unleashadmin.NewClient(url, key)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	info, err := c.ServerInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return *info
}

// TestCommand drives every subcommand, in process against the stand-in or
// the server named by the environment, and again as a built binary.
func TestCommand(t *testing.T) {
	url, key := server(t)
	info := serverFacts(t, url, key)
	for name, r := range map[string]runner{"in-process": inProcess(url, key), "binary": binary(t, url, key)} {
		t.Run(name, func(t *testing.T) { testCommand(t, r, key, info) })
	}
}

func testCommand(t *testing.T, r runner, key string, info unleashadmin.ServerInfo) {
	tokName := uniqueName(t)
	typ := "backend"
	if !info.HasBackendType() {
		typ = "client"
	}

	// create -o json prints the new secret: a script captures it.
	var created unleashadmin.APIToken
	out := mustRun(t, r, "", "create", "--type", typ, "--name", tokName, "--env", "production", "--project", "default", "--expires", "+2d", "-o", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("create output %q: %v", out, err)
	}
	if created.TokenName != tokName || string(created.Type) != typ || created.Environment != "production" ||
		created.Project != "default" || created.ExpiresAt == nil || !fullSecret.MatchString(created.Secret) {
		t.Fatalf("created %+v", created)
	}
	secret := created.Secret
	defer r(t, "", "delete", "--ignore-not-found", secret)

	// list and get show the token with its secret redacted.
	for _, args := range [][]string{{"list"}, {"list", "--project", "default"}, {"get", tokName}, {"get", tokName, "-o", "json"}} {
		out := mustRun(t, r, "", args...)
		if !strings.Contains(out, tokName) {
			t.Errorf("%v: output lacks the token:\n%s", args, out)
		}
		if strings.Contains(out, randomPart(secret)) || strings.Contains(out, key) {
			t.Errorf("%v printed a secret:\n%s", args, out)
		}
		if args[len(args)-1] != "json" {
			checkWidth(t, args, out)
		}
	}
	// The identifier a list shows: the secret, or under secure token
	// storage the selector, in full either way with --show-secrets.
	id := secret
	if sel, ok := unleashadmin.Selector(secret); ok {
		id = sel
	}
	if out := mustRun(t, r, "", "get", tokName, "--show-secrets", "-o", "json"); !strings.Contains(out, `"secret": "`+id+`"`) {
		t.Errorf("--show-secrets did not show %s:\n%s", unleashadmin.RedactSecret(id), out)
	}
	var listed []unleashadmin.APIToken
	if err := json.Unmarshal([]byte(mustRun(t, r, "", "get", tokName, "-o", "json")), &listed); err != nil || len(listed) != 1 || !listed[0].IsType(unleashadmin.TokenType(typ)) {
		t.Errorf("get -o json: %+v, %v", listed, err)
	}
	shownID := listed[0].Secret // as expire, delete and rotate name it

	// expire, with the secret on standard input, then read the expiry back.
	out = mustRun(t, r, secret+"\n", "expire", "-", "--at", "2031-07-04T09:00:00Z")
	if !strings.Contains(out, "2031-07-04T09:00:00Z") || !strings.Contains(out, tokName) || strings.Contains(out, randomPart(secret)) {
		t.Errorf("expire printed %q", out)
	}
	_ = json.Unmarshal([]byte(mustRun(t, r, "", "get", tokName, "-o", "json")), &listed)
	if len(listed) != 1 || listed[0].ExpiresAt == nil || !listed[0].ExpiresAt.Equal(time.Date(2031, 7, 4, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("after expire: %+v", listed)
	}

	// rotate with a grace period: the new token, secret included, under
	// "token", the old one under "old" and what happens to it in "retire".
	var rot struct {
		unleashadmin.APIToken `json:"token"`
		Old                   unleashadmin.APIToken `json:"old"`
		Retire                string                `json:"retire"`
	}
	out, errOut, code := r(t, "", "rotate", secret, "--grace", "1h", "-o", "json")
	if code != 0 {
		t.Fatalf("rotate: exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &rot); err != nil {
		t.Fatalf("rotate output %q: %v", out, err)
	}
	if rot.Secret == secret || !fullSecret.MatchString(rot.Secret) || rot.TokenName != tokName || rot.Environment != "production" ||
		rot.Retire != "expires in 1h" || rot.Old.Secret != shownID || rot.Old.TokenName != tokName || !strings.Contains(errOut, "expires") {
		t.Fatalf("rotation %+v, stderr %q", rot, errOut)
	}
	if strings.Contains(out, randomPart(secret)) {
		t.Errorf("rotate printed the old secret")
	}
	defer r(t, "", "delete", "--ignore-not-found", rot.Secret)
	_ = json.Unmarshal([]byte(mustRun(t, r, "", "get", tokName, "-o", "json")), &listed)
	if len(listed) != 2 {
		t.Errorf("after rotate %d tokens named %s, want old and new", len(listed), tokName)
	}

	// rotate the new one at once, by what a list shows of it (under
	// secure token storage its selector), in table form: it is deleted.
	listedID := ""
	_ = json.Unmarshal([]byte(mustRun(t, r, "", "get", tokName, "--show-secrets", "-o", "json")), &listed)
	for _, tok := range listed {
		if tok.Matches(rot.Secret) {
			listedID = tok.Secret
		}
	}
	if listedID == "" {
		t.Fatalf("the rotated token is not listed")
	}
	out, errOut, code = r(t, "", "rotate", listedID)
	if code != 0 || !strings.Contains(errOut, "deleted") || !strings.Contains(out, "name:         "+tokName) {
		t.Errorf("rotate table output %q, stderr %q, exit %d", out, errOut, code)
	}
	newest := fullSecret.FindString(out)
	if newest == "" {
		t.Fatalf("rotate printed no new secret:\n%s", out)
	}
	_ = json.Unmarshal([]byte(mustRun(t, r, "", "get", tokName, "--show-secrets", "-o", "json")), &listed)
	for _, tok := range listed {
		if tok.Matches(rot.Secret) {
			t.Errorf("rotated-away token still listed")
		}
	}
	defer r(t, "", "delete", "--ignore-not-found", fullSecretIn(out))

	// events: the token's life is in the log, with no secret. Unleash 5
	// has no event search: the command says so.
	if !info.AtLeast(6, 0) {
		if _, errOut, code := r(t, "", "events", "--query", tokName); code != exitAPI || !strings.Contains(errOut, "has no event search") {
			t.Errorf("events on Unleash %s: exit %d, %q", info.Version, code, errOut)
		}
	} else {
		out = mustRun(t, r, "", "events", "--query", tokName, "--limit", "0")
		for _, want := range []string{"created", "updated", "deleted", tokName} {
			if !strings.Contains(out, want) {
				t.Errorf("events lack %q:\n%s", want, out)
			}
		}
		checkWidth(t, []string{"events"}, out)
		if fullSecret.MatchString(out) {
			t.Errorf("events printed a secret:\n%s", out)
		}
		var events []unleashadmin.Event
		if err := json.Unmarshal([]byte(mustRun(t, r, "", "events", "--query", tokName, "--type", "created", "-o", "json")), &events); err != nil || len(events) != 3 {
			t.Errorf("created events: %d, %v", len(events), err)
		}
	}

	// delete through the project, then again: an unknown token is exit 4,
	// or 0 with --ignore-not-found.
	out = mustRun(t, r, "", "delete", secret, "--project", "default")
	if !strings.Contains(out, "deleted "+tokName) {
		t.Errorf("delete printed %q", out)
	}
	if _, errOut, code := r(t, "", "delete", secret, "--project", "default"); code != exitNotFound || strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, randomPart(secret)) {
		t.Errorf("second project delete: exit %d, stderr %q", code, errOut)
	}
	if out, errOut, code := r(t, "", "delete", "--ignore-not-found", secret, "-o", "json"); code != 0 || !strings.Contains(out, `"found": false`) {
		t.Errorf("delete --ignore-not-found of a gone token: exit %d, %q, %q", code, out, errOut)
	}
}

// randomPart is what follows the last dot of a secret.
func randomPart(secret string) string { return secret[strings.LastIndexByte(secret, '.')+1:] }

// checkWidth fails when out is wider than tableWidth where it need not
// be: a line outside a table never is, and a table's line only when its
// descriptive columns (descriptive, below) are cut to minCut characters,
// or narrower, and its identifiers still need more.
func checkWidth(t *testing.T, args []string, out string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		starts := tableHeader(lines[i])
		if starts == nil {
			if n := len([]rune(lines[i])); n > tableWidth {
				t.Errorf("%v: a line of %d columns:\n%s", args, n, lines[i])
			}
			continue
		}
		titles := titlesAt(lines[i], starts)
		table := []string{lines[i]}
		for i+1 < len(lines) && isRow(lines[i+1], starts) {
			i++
			table = append(table, lines[i])
		}
		widest := 0
		for _, line := range table {
			widest = max(widest, len([]rune(line)))
		}
		if widest <= tableWidth {
			continue
		}
		for c, title := range titles {
			if !descriptive[title] {
				continue
			}
			width := 0
			for _, line := range table {
				r := []rune(line)
				end := len(r)
				if c+1 < len(starts) {
					end = min(end, starts[c+1]-2)
				}
				if starts[c] < end {
					width = max(width, len([]rune(strings.TrimRight(string(r[starts[c]:end]), " "))))
				}
			}
			if width > minCut {
				t.Errorf("%v: a table of %d columns whose %s column is %d wide, not cut to %d:\n%s", args, widest, title, width, minCut, strings.Join(table, "\n"))
			}
		}
	}
}

// descriptive are the titles of the columns a table cuts to fit.
var descriptive = map[string]bool{"ENV": true, "PROJECTS": true, "REASON": true, "DETAIL": true, "WHY": true, "BY": true}

var headerLine = regexp.MustCompile(`^[A-Z][A-Z ()…]*[A-Z)…]$`)

// tableHeader returns where (in runes) the columns of a table's header
// line start, nil for a line that is no header.
func tableHeader(line string) []int {
	if !headerLine.MatchString(line) || !strings.Contains(line, "  ") {
		return nil
	}
	r := []rune(line)
	starts := []int{0}
	for i := 2; i < len(r); i++ {
		if r[i] != ' ' && r[i-1] == ' ' && r[i-2] == ' ' {
			starts = append(starts, i)
		}
	}
	return starts
}

func titlesAt(header string, starts []int) []string {
	r := []rune(header)
	titles := make([]string, len(starts))
	for c, s := range starts {
		end := len(r)
		if c+1 < len(starts) {
			end = starts[c+1]
		}
		// A title may be cut like its column.
		titles[c] = strings.TrimSuffix(strings.TrimSpace(string(r[s:end])), "…")
	}
	return titles
}

// isRow reports whether line is a row of the table whose columns start at
// starts: two spaces before each column it reaches.
func isRow(line string, starts []int) bool {
	r := []rune(line)
	if len(r) == 0 {
		return false
	}
	for _, s := range starts[1:] {
		if s < len(r) && (r[s-1] != ' ' || r[s-2] != ' ') {
			return false
		}
	}
	return true
}

// TestExitCodes checks the codes a script branches on and the one-line
// errors, and that nothing is sent for a usage error.
func TestExitCodes(t *testing.T) {
	url, key := server(t)
	for name, r := range map[string]runner{"in-process": inProcess(url, key), "binary": binary(t, url, key)} {
		t.Run(name, func(t *testing.T) { testExitCodes(t, r, key) })
	}
	// A missing server or key is a usage error.
	var errOut bytes.Buffer
	if code := run(context.Background(), nil, []string{"list"}, strings.NewReader(""), &bytes.Buffer{}, &errOut, func(string) string { return "" }); code != exitUsage || !strings.Contains(errOut.String(), "UNLEASH_URL is not set") {
		t.Errorf("no env: exit %d, %q", code, errOut.String())
	}
}

func testExitCodes(t *testing.T, r runner, key string) {
	bad := "*:*." + strings.Repeat("cd", 28)
	unknown := "*:development." + strings.Repeat("0", 56)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{nil, exitUsage, ""},
		{[]string{"frob"}, exitUsage, "unknown command"},
		{[]string{"create", "--name", "x"}, exitUsage, "--type and --name are required"},
		{[]string{"create", "--type", "nope", "--name", "x"}, exitUsage, "--type must be client, backend or frontend"},
		{[]string{"create", "--type", "admin", "--name", "x"}, exitUsage, "--type must be client, backend or frontend"},
		{[]string{"create", "--type", "client", "--name", "x", "--expires", "tomorrow"}, exitUsage, "bad time"},
		{[]string{"create", "--type", "client", "--name", "x", "--expires", "2001-01-01"}, exitUsage, "in the past"},
		{[]string{"list", "-o", "yaml"}, exitUsage, "-o must be table, wide or json"},
		{[]string{"list", "--nope"}, exitUsage, "flag provided but not defined"},
		{[]string{"delete", unknown, "--show-secrets"}, exitUsage, "flag provided but not defined: -show-secrets"},
		{[]string{"list", "--bearer", bad}, exitUsage, "list takes no arguments"},
		{[]string{"list", "--timeout", bad}, exitUsage, "invalid value"},
		{[]string{"list", "--token", bad, "--token-file", "x"}, exitUsage, "not both"},
		{[]string{"list", "--token-file", "/nonexistent/key"}, exitUsage, "--token-file"},
		{[]string{"get"}, exitUsage, "one NAME"},
		{[]string{"get", "no-such-name-" + uniqueName(t)}, exitNotFound, "no token named"},
		{[]string{"expire", "s"}, exitUsage, "--at is required"},
		{[]string{"expire", unknown, "--at", "+30d"}, exitNotFound, "no token"},
		{[]string{"delete", unknown}, exitNotFound, "no token"},
		{[]string{"delete"}, exitUsage, "one SECRET"},
		{[]string{"rotate", unknown, "--grace", "forever"}, exitUsage, "invalid value"},
		{[]string{"rotate", unknown, "--grace", "1d"}, exitNotFound, "no token"},
		{[]string{"events", "--from", "yesterday"}, exitUsage, "bad date"},
		{[]string{"events", "--type", "renamed"}, exitUsage, "--type must be created, updated or deleted"},
		{[]string{"list", "--token", bad}, exitAuth, "401 Unauthorized"},
		{[]string{"list", "--token", bad, "--bearer"}, exitAuth, "401 Unauthorized"},
		{[]string{"list", "--project", "no-such-project"}, exitNotFound, "No project found"},
		{[]string{"create", "--type", "client", "--name", "x", "--env", "nope"}, exitAPI, "Environment=nope does not exist"},
		{[]string{"list", "--url", "http://127.0.0.1:1", "--timeout", "5s"}, exitFailure, "connection refused"},
	}
	for _, tt := range tests {
		out, errOut, code := r(t, "", tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.err) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errOut, tt.code, tt.err)
		}
		if code != exitOK && tt.args != nil && (out != "" || strings.Count(errOut, "\n") > 2) {
			t.Errorf("%v: stdout %q, stderr %q", tt.args, out, errOut)
		}
		if strings.Contains(errOut, randomPart(bad)) || strings.Contains(errOut, key) {
			t.Errorf("%v: stderr holds a key: %q", tt.args, errOut)
		}
	}
}

// TestUsageErrorsSendNothing: a usage error exits before any request.
func TestUsageErrorsSendNothing(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	r := inProcess(srv.URL(), srv.AdminKey())
	for _, args := range [][]string{
		{"create", "--type", "nope", "--name", "x"},
		{"create", "--type", "client", "--name", "x", "--expires", "2001-01-01"},
		{"delete", "a", "b"},
		{"rotate", "-"}, // standard input is empty
		{"expire", "x", "--at", "whenever"},
	} {
		if _, _, code := r(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}

// TestSecretsFromStdinAndFiles: a SECRET of "-" comes from standard input,
// the key from --token-file; neither appears in argv.
func TestSecretsFromStdinAndFiles(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(srv.AdminKey()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]runner{"in-process": inProcess(srv.URL(), ""), "binary": binary(t, srv.URL(), "")} {
		t.Run(name, func(t *testing.T) { testSecretsFromStdinAndFiles(t, r, srv, keyFile) })
	}
}

func testSecretsFromStdinAndFiles(t *testing.T, r runner, srv *unleashtest.Server, keyFile string) {
	out := mustRun(t, r, "", "create", "--type", "client", "--name", "stdin", "-o", "json", "--token-file", keyFile)
	var tok unleashadmin.APIToken
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	mustRun(t, r, tok.Secret+"\n", "delete", "-", "--token-file", keyFile)
	if n := len(srv.Tokens()); n != 1 {
		t.Errorf("%d tokens left, want the admin key alone", n)
	}
	for _, stdin := range []string{"", "a\nb\n"} {
		if _, errOut, code := r(t, stdin, "delete", "-", "--token-file", keyFile); code != exitUsage || !strings.Contains(errOut, "one secret on one line") {
			t.Errorf("stdin %q: exit %d, %q", stdin, code, errOut)
		}
	}
}

// TestHelp checks that every subcommand has --help, exiting 0, and that
// --version works.
func TestHelp(t *testing.T) {
	for name, r := range map[string]runner{"in-process": inProcess("", ""), "binary": binary(t, "", "")} {
		t.Run(name, func(t *testing.T) { testHelp(t, r) })
	}
	// The environment's URL (which may carry a password) and token are
	// not shown as flag defaults.
	const password, key = "hunter2pass", "*:*.0123456789abcdef0123456789abcdef"
	for name, r := range map[string]runner{"in-process": inProcess("https://bob:"+password+"@unleash.example.com", key),
		"binary": binary(t, "https://bob:"+password+"@unleash.example.com", key)} {
		out, _, code := r(t, "", "list", "--help")
		if code != exitOK || strings.Contains(out, password) || strings.Contains(out, key) || !strings.Contains(out, "$UNLEASH_URL") {
			t.Errorf("%s: list --help with the environment set: exit %d\n%s", name, code, out)
		}
	}
}

func testHelp(t *testing.T, r runner) {
	out, _, code := r(t, "", "--help")
	if code != exitOK || !strings.Contains(out, "exit codes") || !strings.Contains(out, "10 apply or prune") {
		t.Errorf("--help: %d %q", code, out)
	}
	checkWidth(t, []string{"--help"}, out)
	for _, c := range commands {
		out, _, code := r(t, "", c.name, "--help")
		if code != exitOK || !strings.Contains(out, "usage: unleash-tokens "+c.name) || !strings.Contains(out, "-o") {
			t.Errorf("%s --help: exit %d\n%s", c.name, code, out)
		}
	}
	if out, _, code := r(t, "", "--version"); code != exitOK || out != "unleash-tokens "+unleashadmin.Version+"\n" {
		t.Errorf("--version: %d %q", code, out)
	}
}

// proxyTo is a reverse proxy to target that lets handle answer first: it
// returns true when it has answered.
func proxyTo(t *testing.T, target string, handle func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	u, _ := neturl.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if handle(w, r) {
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRotateIncomplete: when the old token cannot be retired, rotate has
// printed the new token and exits 6, whatever the status that stopped it.
func TestRotateIncomplete(t *testing.T) {
	target, key := server(t)
	url := proxyTo(t, target, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodDelete {
			http.Error(w, `{"name":"NoAccessError","message":"You do not have access"}`, http.StatusForbidden)
			return true
		}
		return false
	})
	direct := inProcess(target, key)
	old := createToken(t, direct, uniqueName(t))
	defer direct(t, "", "delete", "--ignore-not-found", old.Secret)
	out, errOut, code := inProcess(url, key)(t, "", "rotate", old.Secret, "-o", "json")
	var rotated struct {
		Token unleashadmin.APIToken `json:"token"`
	}
	err := json.Unmarshal([]byte(out), &rotated)
	rot := rotated.Token
	if err != nil || !fullSecret.MatchString(rot.Secret) || rot.Secret == old.Secret {
		t.Errorf("rotate printed %q (%v), want the new token", out, err)
	}
	defer direct(t, "", "delete", "--ignore-not-found", rot.Secret)
	if code != exitIncomplete || !strings.Contains(errOut, "rotation incomplete") || !strings.Contains(errOut, "403") {
		t.Errorf("rotate: exit %d, stderr %q; want %d", code, errOut, exitIncomplete)
	}
	var listed []unleashadmin.APIToken
	if err := json.Unmarshal([]byte(mustRun(t, direct, "", "get", old.TokenName, "-o", "json")), &listed); err != nil || len(listed) != 2 {
		t.Errorf("%d tokens named %s on the server (%v), want old and new", len(listed), old.TokenName, err)
	}
}

func createToken(t *testing.T, r runner, name string) unleashadmin.APIToken {
	t.Helper()
	var tok unleashadmin.APIToken
	out := mustRun(t, r, "", "create", "--type", "client", "--name", name, "-o", "json")
	if err := json.Unmarshal([]byte(out), &tok); err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestNewSecretIsDeliveredFirst runs the built command with a stdout that
// cannot take the new secret: closed, /dev/null, /dev/full. Nothing may be
// retired; a token created for nothing is deleted again; exit 7. Against
// the stand-in or the server named by the environment.
func TestNewSecretIsDeliveredFirst(t *testing.T) {
	url, key := server(t)
	bin := binaryPath(t)
	r := inProcess(url, key)
	old := createToken(t, r, uniqueName(t))
	defer r(t, "", "delete", "--ignore-not-found", old.Secret)
	cases := []struct{ name, redirect string }{{"stdout closed", ">&-"}, {"stdout /dev/null", ">/dev/null"}}
	if _, err := os.Stat("/dev/full"); err == nil {
		cases = append(cases, struct{ name, redirect string }{"stdout /dev/full", ">/dev/full"})
	}
	for _, tt := range cases {
		for _, args := range [][]string{{"rotate", old.Secret}, {"create", "--type", "client", "--name", uniqueName(t)}} {
			before := tokenStates(t, url, key)
			cmd := exec.Command("sh", append([]string{"-c", `exec "$0" "$@" ` + tt.redirect, bin}, args...)...)
			cmd.Env = binaryEnv(url, key)
			var errOut bytes.Buffer
			cmd.Stderr = &errOut
			code := exitCode(t, cmd.Run())
			after := tokenStates(t, url, key)
			if code != exitNotDelivered || !strings.Contains(errOut.String(), "standard output") {
				t.Errorf("%s, %s: exit %d, stderr %q", tt.name, args[0], code, errOut.String())
			}
			if !maps.Equal(before, after) {
				t.Errorf("%s, %s: the tokens changed: %d before, %d after", tt.name, args[0], len(before), len(after))
			}
		}
	}
}

// tokenStates is every token on the server: its listed secret (or
// selector) and expiry.
func tokenStates(t *testing.T, url, key string) map[string]string {
	t.Helper()
	c, err := unleashadmin.NewClient(url, key)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	toks, err := c.ListAPITokens(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tok := range toks {
		out[tok.Secret] = when(tok.ExpiresAt, "never")
	}
	return out
}

// TestSignalDuringRetire: a SIGTERM while the old token is being retired
// ends the command, but the new secret was already on stdout, and the exit
// code says the rotation is incomplete.
func TestSignalDuringRetire(t *testing.T) {
	target, key := server(t)
	retiring := make(chan struct{})
	var once sync.Once
	url := proxyTo(t, target, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodDelete {
			return false
		}
		once.Do(func() { close(retiring) })
		<-r.Context().Done() // hold the retire until the command gives up
		return true
	})
	r := inProcess(target, key)
	old := createToken(t, r, uniqueName(t))
	defer r(t, "", "delete", "--ignore-not-found", old.Secret)

	cmd := exec.Command(binaryPath(t), "rotate", old.Secret, "-o", "json")
	cmd.Env = binaryEnv(url, key)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-retiring:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the retire never started")
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	code := exitCode(t, cmd.Wait())
	var rotated struct {
		Token unleashadmin.APIToken `json:"token"`
	}
	err := json.Unmarshal(out.Bytes(), &rotated)
	fresh := rotated.Token
	if err != nil || !fullSecret.MatchString(fresh.Secret) {
		t.Fatalf("stdout %q (%v): the new secret was lost", out.String(), err)
	}
	defer r(t, "", "delete", "--ignore-not-found", fresh.Secret)
	if code != exitIncomplete {
		t.Errorf("exit %d, stderr %q; want %d", code, errOut.String(), exitIncomplete)
	}
	live := 0
	c, _ := unleashadmin.NewClient(target, key)
	defer c.CloseIdleConnections()
	toks, err := c.GetAPITokensByName(context.Background(), old.TokenName)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if tok.Matches(old.Secret) || tok.Matches(fresh.Secret) {
			live++
		}
	}
	if live != 2 {
		t.Errorf("%d of old and new are on the server, want both", live)
	}
}

// TestTimeoutHoldsAgainstA101: a server that answers 101 and holds the
// connection does not keep the command past --timeout.
func TestTimeoutHoldsAgainstA101(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n"))
		buf := make([]byte, 1)
		_, _ = conn.Read(buf) // until the client hangs up
	}))
	defer srv.Close()
	start := time.Now()
	_, errOut, code := binary(t, srv.URL, "*:*.0123456789abcdef0123456789abcdef")(t, "", "list", "--timeout", "2s")
	if took := time.Since(start); took > 10*time.Second || code != exitFailure {
		t.Errorf("took %v, exit %d, stderr %q", took, code, errOut)
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
		if err := a.printTokens([]unleashadmin.APIToken{tok}); err != nil {
			t.Fatal(err)
		}
		if err := a.printEvents([]unleashadmin.Event{{Type: unleashadmin.EventAPITokenDeleted, PreData: &tok}}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), alias) || strings.Contains(out.String(), randomPart(tok.Secret)) || !strings.Contains(out.String(), "old-proxy") {
			t.Errorf("json=%t printed:\n%s", asJSON, out.String())
		}
	}
	if *tok.Alias != alias {
		t.Errorf("printing changed the caller's token")
	}
}

// TestTablesFit: projects and environments are cut to fit 80 columns; a
// long name, a selector and the shown part of a secret never are (the
// line is longer then).
func TestTablesFit(t *testing.T) {
	long := strings.Repeat("n", 60)
	toks := []unleashadmin.APIToken{
		{TokenName: long, Type: "frontend", Environment: "production-eu-west-1", Projects: []string{"payments", "checkout", "search"}, Secret: "s3lect0rS3lect0rS3lect", Secure: true},
		{TokenName: "short", Type: "client", Environment: "development", Projects: []string{"*"}, Secret: "*:development." + strings.Repeat("ab", 28)},
	}
	var out bytes.Buffer
	a := &app{out: &out}
	if err := a.printTokens(toks); err != nil {
		t.Fatal(err)
	}
	checkWidth(t, []string{"list"}, out.String())
	if !strings.Contains(out.String(), long+"  frontend") || !strings.Contains(out.String(), "s3lect0rS3lect0rS3lect") || !strings.Contains(out.String(), "produ…") ||
		!strings.Contains(out.String(), "*:development.abababab***") {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestLooksLikeCredential pins what usage errors redact.
func TestLooksLikeCredential(t *testing.T) {
	for s, want := range map[string]bool{
		"*:*.unleash-insecure-admin-api-token":                                             true,
		"default:development." + strings.Repeat("ab", 28):                                  true,
		"user:5e1f0c2d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a":                            true,
		"default:production.v2_" + strings.Repeat("A", 22) + "_" + strings.Repeat("b", 43): true,
		"checkout-service": false,
		"--token":          false,
		"2030-01-01":       false,
	} {
		if got := looksLikeCredential(s); got != want {
			t.Errorf("looksLikeCredential(%q) = %t", s, got)
		}
	}
}

// TestBrokenPipe: a stdout whose reader has gone gives a write error, not
// SIGPIPE: the new token is deleted again and the old one left (exit 7).
// Found by the red-team pass: the process died with the token live.
func TestBrokenPipe(t *testing.T) {
	url, key := server(t)
	bin := binaryPath(t)
	r := inProcess(url, key)
	old := createToken(t, r, uniqueName(t))
	defer r(t, "", "delete", "--ignore-not-found", old.Secret)
	for _, args := range [][]string{{"rotate", old.Secret}, {"create", "--type", "client", "--name", uniqueName(t)}} {
		before := tokenStates(t, url, key)
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		_ = pr.Close() // nobody reads: a write gets EPIPE
		cmd := exec.Command(bin, args...)
		cmd.Env = binaryEnv(url, key)
		cmd.Stdout = pw
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		code := exitCode(t, cmd.Run())
		_ = pw.Close()
		if code != exitNotDelivered || !strings.Contains(errOut.String(), "broken pipe") {
			t.Errorf("%s: exit %d, stderr %q", args[0], code, errOut.String())
		}
		if after := tokenStates(t, url, key); !maps.Equal(before, after) {
			t.Errorf("%s: the tokens changed: %d before, %d after", args[0], len(before), len(after))
		}
	}
}

// TestUndeliveredAndNotDeleted: when the new secret cannot be written and
// its token cannot be deleted either, the exit says the token is live (10),
// not that it was deleted (7).
func TestUndeliveredAndNotDeleted(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	url := proxyTo(t, srv.URL(), func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodDelete {
			http.Error(w, `{"message":"down"}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	old := createToken(t, inProcess(srv.URL(), srv.AdminKey()), "x7")
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this machine")
	}
	for _, args := range [][]string{{"create", "--type", "client", "--name", "x7"}, {"rotate", old.Secret}} {
		cmd := exec.Command("sh", append([]string{"-c", `exec "$0" "$@" >/dev/full`, binaryPath(t)}, args...)...)
		cmd.Env = binaryEnv(url, srv.AdminKey())
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if code := exitCode(t, cmd.Run()); code != exitPartial || !strings.Contains(errOut.String(), "live") {
			t.Errorf("%s: exit %d, stderr %q; want %d", args[0], code, errOut.String(), exitPartial)
		}
	}
}

// TestErrorsStayOneLine: a server's message with control characters or
// line separators cannot add lines to stderr or move the cursor, and a
// token name with a line break cannot add a row to a table.
func TestErrorsStayOneLine(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"name":"BadDataError","message":"nope\r\u001b[2Kdeleted checkout (ok)\u2028second line\nthird"}`)
	}))
	defer srv.Close()
	_, errOut, code := inProcess(srv.URL, "*:*.0123456789abcdef0123456789abcdef")(t, "", "list")
	if code != exitAPI || strings.Count(errOut, "\n") != 1 || strings.ContainsAny(errOut, "\r\x1b\u2028") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	var out bytes.Buffer
	a := &app{out: &out}
	if err := a.printTokens([]unleashadmin.APIToken{{TokenName: "a\nfake  row", Type: "client"}}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("%d lines for one token:\n%s", n, out.String())
	}
}

// TestOddCreateAnswerStillPrintsTheSecret: a create answered 201 with the
// secret but a field that does not decode still prints the new token (it
// is live), and says what was odd; rotate then leaves the old token alone
// and says the rotation is incomplete.
func TestOddCreateAnswerStillPrintsTheSecret(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	target, _ := neturl.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodPost {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		odd := regexp.MustCompile(`"createdAt":"[^"]*"`).ReplaceAll(body, []byte(`"createdAt":"yesterday"`))
		resp.Body = io.NopCloser(bytes.NewReader(odd))
		resp.ContentLength = int64(len(odd))
		resp.Header.Set("Content-Length", fmt.Sprint(len(odd)))
		return nil
	}
	odd := httptest.NewServer(proxy)
	defer odd.Close()
	direct := inProcess(srv.URL(), srv.AdminKey())
	old := createToken(t, direct, "odd")
	for name, r := range map[string]runner{"in-process": inProcess(odd.URL, srv.AdminKey()), "binary": binary(t, odd.URL, srv.AdminKey())} {
		out, errOut, code := r(t, "", "create", "--type", "client", "--name", "odd-"+name, "-o", "json")
		var tok unleashadmin.APIToken
		if err := json.Unmarshal([]byte(out), &tok); err != nil || !fullSecret.MatchString(tok.Secret) || code != exitFailure || !strings.Contains(errOut, "createdAt") {
			t.Errorf("%s create: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
		out, errOut, code = r(t, "", "rotate", old.Secret, "-o", "json")
		var rotated struct {
			Token unleashadmin.APIToken `json:"token"`
		}
		if err := json.Unmarshal([]byte(out), &rotated); err != nil || !fullSecret.MatchString(rotated.Token.Secret) || code != exitIncomplete {
			t.Errorf("%s rotate: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}
	if _, ok := findToken(srv.Tokens(), old.Secret); !ok {
		t.Errorf("the old token was retired although the rotation was odd")
	}
}

func findToken(toks []unleashtest.Token, secret string) (unleashtest.Token, bool) {
	for _, tok := range toks {
		if tok.Secret == secret {
			return tok, true
		}
	}
	return unleashtest.Token{}, false
}

// TestProgressOnlyOnATerminal runs apply and prune with stderr on a
// terminal (script(1) gives the command a pseudo-terminal) and on a pipe:
// progress shows on the first only.
func TestProgressOnlyOnATerminal(t *testing.T) {
	scriptCmd, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) here to give the command a terminal")
	}
	srv := unleashtest.NewTestServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.yaml")
	var b strings.Builder
	b.WriteString("tokens:\n")
	for i := range 6 {
		fmt.Fprintf(&b, "  - {name: svc-%d, type: client}\n", i)
	}
	writeFile(t, file, b.String())
	bin := binaryPath(t)
	env := binaryEnv(srv.URL(), srv.AdminKey())
	onTerminal := func(args ...string) string {
		t.Helper()
		// script runs the command on a pseudo-terminal; its own output is
		// what the terminal showed, stdout and stderr mixed.
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		cmd := exec.Command(scriptCmd, "-qec", bin+" "+strings.Join(quoted, " ")+" >/dev/null", "/dev/null")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := onTerminal("apply", "-f", file, "--deliver-dir", filepath.Join(dir, "secrets")); !strings.Contains(out, "apply: ") || !strings.Contains(out, "actions settled") {
		t.Errorf("apply on a terminal showed no progress:\n%q", out)
	}
	// prune --yes on a terminal reports each retire as it goes, on a pipe
	// only its summary: the tokens expired at once are its to retire.
	for i := range 3 {
		createToken(t, inProcess(srv.URL(), srv.AdminKey()), fmt.Sprintf("old-%d", i))
	}
	for _, tok := range srv.Tokens() {
		if strings.HasPrefix(tok.TokenName, "old-") {
			mustRun(t, inProcess(srv.URL(), srv.AdminKey()), "", "expire", tok.Secret, "--at", "now")
		}
	}
	if out := onTerminal("prune", "--expired", "--name-prefix", "old-", "--yes"); !strings.Contains(out, "1: retired old-") {
		t.Errorf("prune on a terminal showed no progress:\n%q", out)
	}
	writeFile(t, file, "tokens: []\nprune: {namePrefix: svc-}\n")
	cmd := exec.Command(bin, "apply", "-f", file)
	cmd.Env = env
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	if err := cmd.Run(); err != nil || strings.Contains(errOut.String(), "actions settled") {
		t.Errorf("apply on a pipe: %v, stderr %q", err, errOut.String())
	}
}
