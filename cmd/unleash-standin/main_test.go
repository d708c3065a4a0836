package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	"go.uber.org/goleak"
)

// The binaries under test, built once for the run: this command and
// unleash-tokens, which drives it as a user would.
var built struct {
	once            sync.Once
	dir             string
	standin, tokens string
	err             error
}

func binaries(t *testing.T) (standin, tokens string) {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "unleash-standin-test-")
		if built.err != nil {
			return
		}
		built.standin = filepath.Join(built.dir, "unleash-standin")
		built.tokens = filepath.Join(built.dir, "unleash-tokens")
		for _, b := range [][2]string{{built.standin, "."}, {built.tokens, "../unleash-tokens"}} {
			if out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput(); err != nil {
				built.err = errors.New(string(out))
				return
			}
		}
	})
	if built.err != nil {
		t.Fatalf("go build: %v", built.err)
	}
	return built.standin, built.tokens
}

// TestMain removes the binaries and fails the run when a test left a
// goroutine behind (run in process, a client of the stand-in).
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// process is a running unleash-standin.
type process struct {
	cmd      *exec.Cmd
	url, key string
	stdout   *bytes.Buffer // what came after the export lines
	stderr   *syncBuffer
	done     chan struct{}
	outDone  chan struct{}
	err      error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var exportRE = regexp.MustCompile(`^export (UNLEASH_URL|UNLEASH_API_TOKEN)=((?:'[^']*'|\\')+)$`)

// unquote reads back a value written by shellQuote: single-quoted runs
// joined by \'.
func unquote(s string) string {
	var b strings.Builder
	for s != "" {
		if strings.HasPrefix(s, `\'`) {
			b.WriteByte('\'')
			s = s[2:]
			continue
		}
		end := strings.IndexByte(s[1:], '\'') + 1
		b.WriteString(s[1:end])
		s = s[end+1:]
	}
	return b.String()
}

// start runs the built command and waits (at most 20 s) for its export
// lines. The process is killed at the end of the test if it still runs.
func start(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	bin, _ := binaries(t)
	p := &process{cmd: exec.Command(bin, args...), stdout: &bytes.Buffer{}, stderr: &syncBuffer{},
		done: make(chan struct{}), outDone: make(chan struct{})}
	p.cmd.Env = append(cleanEnv(), env...)
	p.cmd.Stderr = p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	lines := make(chan string, 2)
	go func() {
		defer close(p.outDone)
		r := bufio.NewReader(out)
		for i := 0; i < 2; i++ {
			line, err := r.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- strings.TrimSuffix(line, "\n")
		}
		_, _ = io.Copy(p.stdout, r) // must stay empty
	}()
	go func() {
		<-p.outDone
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	timeout := time.After(20 * time.Second)
	for i := 0; i < 2; i++ {
		select {
		case line, ok := <-lines:
			m := exportRE.FindStringSubmatch(line)
			if !ok || m == nil {
				t.Fatalf("line %d of stdout %q; stderr: %s", i+1, line, p.stderr.String())
			}
			if m[1] == "UNLEASH_URL" {
				p.url = unquote(m[2])
			} else {
				p.key = unquote(m[2])
			}
		case <-timeout:
			t.Fatalf("no export lines within 20 s; stderr: %s", p.stderr.String())
		}
	}
	if p.url == "" || p.key == "" {
		t.Fatalf("export lines gave URL %q", p.url)
	}
	return p
}

// stop sends sig and returns the exit code, failing the test unless the
// process ends within 15 s.
func (p *process) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after %v", sig)
	}
	var exitErr *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exitErr):
		return exitErr.ExitCode()
	}
	t.Fatal(p.err)
	return -1
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "UNLEASH_") {
			env = append(env, kv)
		}
	}
	return env
}

// tokensCLI runs unleash-tokens against p with stdin and returns stdout,
// failing the test on a non-zero exit.
func tokensCLI(t *testing.T, p *process, stdin string, args ...string) string {
	t.Helper()
	_, bin := binaries(t)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cleanEnv(), "UNLEASH_URL="+p.url, "UNLEASH_API_TOKEN="+p.key)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("unleash-tokens %s: %v; stderr: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

type cliToken struct {
	Secret      string   `json:"secret"`
	TokenName   string   `json:"tokenName"`
	Type        string   `json:"type"`
	Environment string   `json:"environment"`
	Projects    []string `json:"projects"`
	Secure      bool     `json:"secure"`
}

func listCLI(t *testing.T, p *process) map[string]cliToken {
	t.Helper()
	var list []cliToken
	if err := json.Unmarshal([]byte(tokensCLI(t, p, "", "list", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	byName := map[string]cliToken{}
	for _, tok := range list {
		byName[tok.TokenName] = tok
	}
	return byName
}

// check asks the stand-in which secrets are live through `unleash-tokens
// check -o json`, with no API key (check needs none); exit 9 means some
// are not.
func check(t *testing.T, p *process, secrets ...string) []unleashadmin.TokenCheck {
	t.Helper()
	_, bin := binaries(t)
	cmd := exec.Command(bin, append([]string{"check", "-o", "json"}, secrets...)...)
	cmd.Env = append(cleanEnv(), "UNLEASH_URL="+p.url)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !(errors.As(err, &exitErr) && exitErr.ExitCode() == 9) {
		t.Fatalf("unleash-tokens check: %v; stderr: %s", err, errOut.String())
	}
	// The shape of docs/JSON.md: each result's token under a key of its
	// own, null for a secret that is not live.
	var res struct {
		Results []struct {
			Live  bool                   `json:"live"`
			Token *unleashadmin.APIToken `json:"token"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Results) != len(secrets) {
		t.Fatalf("unleash-tokens check printed %q (%v)", out.String(), err)
	}
	allLive := true
	checks := make([]unleashadmin.TokenCheck, len(res.Results))
	for i, r := range res.Results {
		allLive = allLive && r.Live
		checks[i].Live = r.Live
		if r.Token != nil {
			checks[i].Type, checks[i].Environment, checks[i].Projects = r.Token.Type, r.Token.Environment, r.Token.Projects
		}
	}
	if (err == nil) != allLive {
		t.Errorf("check exit %v with results %v", err, checks)
	}
	return checks
}

// A create, list, check and delete through unleash-tokens, then a clean
// stop on SIGTERM that closes an open connection.
func TestBinary(t *testing.T) {
	t.Parallel()
	p := start(t, nil, "-project", "payments", "-environment", "staging", "-version", "7.6.5", "-token-limit", "50")
	if p.key != unleashtest.DefaultAdminKey || !strings.HasPrefix(p.url, "http://127.0.0.1:") {
		t.Errorf("exports %s %q", p.url, p.key)
	}

	var created cliToken
	out := tokensCLI(t, p, "", "create", "--type", "backend", "--name", "checkout", "--env", "staging", "--project", "payments", "-o", "json")
	if err := json.Unmarshal([]byte(out), &created); err != nil || !strings.HasPrefix(created.Secret, "payments:staging.") {
		t.Fatalf("create printed %q (%v)", out, err)
	}
	if got, ok := listCLI(t, p)["checkout"]; !ok || got.Type != "client" || got.Environment != "staging" {
		t.Errorf("listed as %+v", got)
	}
	var server struct {
		Version    string `json:"version"`
		TokenLimit int    `json:"tokenLimit"`
	}
	if err := json.Unmarshal([]byte(tokensCLI(t, p, "", "server", "-o", "json")), &server); err != nil ||
		server.Version != "7.6.5" || server.TokenLimit != 50 {
		t.Errorf("server: %+v %v", server, err)
	}
	res := check(t, p, created.Secret, "payments:staging.not-a-token")
	if !res[0].Live || res[0].Type != "client" || res[0].Environment != "staging" || res[1].Live {
		t.Errorf("checked %v", res)
	}
	tokensCLI(t, p, created.Secret+"\n", "delete", "-")
	if _, ok := listCLI(t, p)["checkout"]; ok {
		t.Error("still listed after delete")
	}
	if res := check(t, p, created.Secret); res[0].Live {
		t.Error("live after delete")
	}

	// An idle keep-alive connection is closed by the stop.
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res2, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res2.Body)
	res2.Body.Close()

	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM; stderr: %s", code, p.stderr.String())
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the idle connection is still open after the stop: %v", err)
	}
	if p.stdout.Len() > 0 {
		t.Errorf("stdout after the export lines: %q", p.stdout.String())
	}
	if e := p.stderr.String(); !strings.Contains(e, "Unleash 7.6.5 stand-in (default token storage) listening at "+p.url) ||
		!strings.Contains(e, "unleash-standin: stopped") {
		t.Errorf("stderr: %s", e)
	}
}

// Secure mode with a seed file and an admin key from the environment:
// seeds are listed as the real server lists them, a new token is deleted
// by its full secret, and SIGINT stops it cleanly.
func TestBinarySecureWithSeeds(t *testing.T) {
	t.Parallel()
	const v2 = "default:production.v2_SeedSeedSeedSeedSeed12_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	seeds := `[
  {"tokenName": "old-checkout", "type": "backend", "projects": ["default"], "secret": "default:development.0123456789abcdef0123456789abcdef0123456789abcdef01234567",
   "createdAt": "2024-01-02T03:04:05Z", "seenAt": "2024-02-01T00:00:00Z"},
  {"tokenName": "checkout", "type": "backend", "project": "default", "environment": "production", "secret": "` + v2 + `",
   "expiresAt": "2030-01-01T00:00:00Z"},
  {"tokenName": "web", "type": "frontend", "projects": ["default", "shop"]}
]`
	file := filepath.Join(t.TempDir(), "seeds.json")
	if err := os.WriteFile(file, []byte(seeds), 0o600); err != nil {
		t.Fatal(err)
	}
	const key = "*:*.it's-a-test-key"
	p := start(t, []string{"UNLEASH_STANDIN_ADMIN_KEY=" + key}, "-secure", "-seed", file, "-project", "shop")
	if p.key != key {
		t.Errorf("UNLEASH_API_TOKEN %q", p.key)
	}
	list := listCLI(t, p)
	if got := list["old-checkout"]; got.Secure || got.Type != "client" {
		t.Errorf("legacy seed listed as %+v", got)
	}
	if got := list["checkout"]; !got.Secure || got.Secret != "SeedSeedSeedSeedSeed12" || got.Type != "backend" {
		t.Errorf("v2 seed listed as %+v", got)
	}
	if got := list["web"]; !got.Secure || len(got.Secret) != 22 {
		t.Errorf("generated seed listed as %+v", got)
	}

	var created cliToken
	if err := json.Unmarshal([]byte(tokensCLI(t, p, "", "create", "--type", "client", "--name", "new", "-o", "json")), &created); err != nil ||
		!regexp.MustCompile(`^\*:development\.v2_[A-Za-z0-9_-]{22}_[A-Za-z0-9_-]{43}$`).MatchString(created.Secret) {
		t.Fatalf("create: %+v %v", created, err)
	}
	res := check(t, p, v2, created.Secret, "SeedSeedSeedSeedSeed12")
	if !res[0].Live || res[0].Type != "backend" || !res[1].Live || res[2].Live {
		t.Errorf("checked %v", res)
	}
	tokensCLI(t, p, created.Secret+"\n", "delete", "-")
	if _, ok := listCLI(t, p)["new"]; ok {
		t.Error("still listed after delete by the full secret")
	}
	if code := p.stop(t, os.Interrupt); code != 0 {
		t.Errorf("exit %d after SIGINT; stderr: %s", code, p.stderr.String())
	}
}

// Bad invocations exit 2 (or 1 for a port in use) with one line on stderr
// and nothing on stdout; no error quotes a value of the seed file (each
// below holds SEEDVALUE, or is the one character Q), only its position and
// field names.
func TestBadInvocations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	busy := unleashtest.NewTestServer(t)
	const secret = "default:development.secret-in-the-seed-file"
	cases := []struct {
		args []string
		env  []string
		code int
		want string
	}{
		{[]string{"-nope"}, nil, 2, "flag provided but not defined: -nope"},
		{[]string{"extra"}, nil, 2, `unexpected argument "extra"`},
		{[]string{"-token-limit", "-1"}, nil, 2, "-token-limit must not be negative"},
		{[]string{"-seen-interval", "-1s"}, nil, 2, "-seen-interval must not be negative"},
		{[]string{"-seen-interval", "3"}, nil, 2, `invalid value "3" for flag -seen-interval`},
		{[]string{"-project", ""}, nil, 2, "must not be empty"},
		{[]string{"-seed", filepath.Join(dir, "missing.json")}, nil, 2, "no such file"},
		{[]string{"-seed", write("bad.json", `[{"secret":"`+secret+`"`)}, nil, 2, "not a JSON list of tokens"},
		{[]string{"-seed", write("obj.json", `{"secret":"`+secret+`"}`)}, nil, 2, "not a JSON list of tokens"},
		{[]string{"-seed", write("field.json", `[{"secret":"`+secret+`","name":"x"}]`)}, nil, 2, `unknown field "name"`},
		// A secret in the wrong place is not repeated in the error.
		{[]string{"-seed", write("secret-key.json", `[{"`+secret+`":"x"}]`)}, nil, 2, "a key that is not a token's field"},
		{[]string{"-seed", write("secret-time.json", `[{"tokenName":"x","type":"client","createdAt":"`+secret+`"}]`)}, nil, 2, "does not read"},
		{[]string{"-seed", write("two.json", `[] []`)}, nil, 2, "more than one JSON value"},
		{[]string{"-seed", write("rule.json", `[{"secret":"`+secret+`","tokenName":"x-SEEDVALUE","type":"client","projects":["nope"]}]`)}, nil, 2,
			"token 1: project 1 does not exist"},
		{[]string{"-seed", write("type.json", `[{"tokenName":"x","type":"client"},`+"\n"+`{"tokenName":"y","type":"SEEDVALUE"}]`)}, nil, 2,
			"token 2: Type is not client, backend, frontend or admin"},
		{[]string{"-seed", write("env.json", `[{"tokenName":"x","type":"client","environment":"SEEDVALUE"}]`)}, nil, 2,
			"token 1: Environment does not exist"},
		{[]string{"-seed", write("projects.json", `[{"tokenName":"x","type":"client","projects":["default","SEEDVALUE"]}]`)}, nil, 2,
			"token 1: project 2 does not exist"},
		{[]string{"-seed", write("project.json", `[{"tokenName":"x","type":"client","project":"SEEDVALUE","projects":["default"]}]`)}, nil, 2,
			"token 1: Project disagrees with Projects"},
		{[]string{"-project", "SEEDVALUE", "-seed", write("twice.json", `[{"tokenName":"x","type":"client","projects":["SEEDVALUE","SEEDVALUE"]}]`)}, nil, 2,
			"token 1: project 2 repeats project 1"},
		{[]string{"-seed", write("char.json", "[\n {\"tokenName\": Q}]")}, nil, 2, "not JSON: invalid character looking for beginning of value (line 2, column 16)"},
		{[]string{"-seed", write("kind.json", `[{"tokenName":"x","type":"client","secure":"SEEDVALUE"}]`)}, nil, 2,
			`field "secure" (line 1) must be bool, not string`},
		{[]string{"-addr", strings.TrimPrefix(busy.URL(), "http://")}, nil, 1, "address already in use"},
		{nil, []string{"UNLEASH_STANDIN_ADMIN_KEY= padded"}, 2, "UNLEASH_STANDIN_ADMIN_KEY must not hold spaces"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		env := func(k string) string {
			for _, kv := range c.env {
				if name, v, _ := strings.Cut(kv, "="); name == k {
					return v
				}
			}
			return ""
		}
		code := run(context.Background(), c.args, &out, &errOut, env)
		if code != c.code || !strings.Contains(errOut.String(), c.want) || out.Len() > 0 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, out.String(), errOut.String(), c.code, c.want)
		}
		if strings.Contains(errOut.String(), "secret-in-the-seed-file") {
			t.Errorf("%v: stderr quotes the secret: %s", c.args, errOut.String())
		}
		if strings.Contains(errOut.String(), "SEEDVALUE") || strings.Contains(errOut.String(), "'Q'") {
			t.Errorf("%v: stderr quotes a value of the seed file: %s", c.args, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errOut, func(string) string { return "" }); code != 0 ||
		!strings.Contains(errOut.String(), "usage: unleash-standin") || out.Len() > 0 {
		t.Errorf("-h: exit %d, stderr %q", code, errOut.String())
	}
}

// A syntax error names the line and column of a bad character, not the
// character, whatever it is.
func TestSeedSyntaxErrorQuotesNoCharacter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i, c := range []string{"Q", "'", `\`, "\x01", "é", "#", "\x7f"} {
		f := filepath.Join(dir, fmt.Sprintf("%d.json", i))
		if err := os.WriteFile(f, []byte(`[{"tokenName": `+c+`}]`), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := readSeeds(f)
		const want = "not JSON: invalid character looking for beginning of value (line 1, column 16)"
		if err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %q", c, err, want)
		}
	}
}

// In process: run serves until its context ends, and the export lines
// quote what a shell would otherwise split.
func TestRunInProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errOut syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, nil, pw, &errOut, func(k string) string {
			if k == "UNLEASH_STANDIN_ADMIN_KEY" {
				return "*:*.a key with 'quotes' and $dollars"
			}
			return ""
		})
		pw.Close()
	}()
	r := bufio.NewReader(pr)
	var lines []string
	for i := 0; i < 2; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if want := `export UNLEASH_API_TOKEN='*:*.a key with '\''quotes'\'' and $dollars'` + "\n"; lines[1] != want {
		t.Errorf("key line %q, want %q", lines[1], want)
	}
	url := strings.TrimSuffix(strings.TrimPrefix(lines[0], "export UNLEASH_URL='"), "'\n")
	res, err := http.Get(url + "/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d; stderr %s", c, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if rest, _ := io.ReadAll(r); len(rest) > 0 {
		t.Errorf("more on stdout: %q", rest)
	}
}

// Listening beyond loopback with the well-known development key prints a
// warning on stderr; on loopback, or with a key of one's own, it does not.
func TestWarnsBeyondLoopbackWithDefaultKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		addr, key string
		warn      bool
	}{
		{"", "", false}, // the default, 127.0.0.1:0
		{"127.0.0.1:0", "", false},
		{"localhost:0", "", false},
		{":0", "", true},
		{"0.0.0.0:0", "", true},
		{":0", "*:*.a-key-of-my-own", false},
	}
	for _, c := range cases {
		args := []string{}
		if c.addr != "" {
			args = append(args, "-addr", c.addr)
		}
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		var errOut syncBuffer
		code := make(chan int, 1)
		go func() {
			code <- run(ctx, args, pw, &errOut, func(k string) string {
				if k == "UNLEASH_STANDIN_ADMIN_KEY" {
					return c.key
				}
				return ""
			})
			pw.Close()
		}()
		r := bufio.NewReader(pr)
		for range 2 {
			if _, err := r.ReadString('\n'); err != nil {
				t.Errorf("%v: reading the export lines: %v; stderr %s", args, err, errOut.String())
				break
			}
		}
		cancel()
		_, _ = io.Copy(io.Discard, r)
		if c := <-code; c != 0 {
			t.Errorf("%v: exit %d", args, c)
		}
		got := errOut.String()
		warned := strings.Contains(got, "warning: ")
		if warned != c.warn {
			t.Errorf("%v, key %q: warned %v, want %v; stderr:\n%s", args, c.key, warned, c.warn, got)
		}
		if warned && (!strings.Contains(got, "UNLEASH_STANDIN_ADMIN_KEY") || strings.Contains(got, unleashtest.DefaultAdminKey)) {
			t.Errorf("%v: the warning should name UNLEASH_STANDIN_ADMIN_KEY, not the key: %s", args, got)
		}
	}
}

func TestShellQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                 `''`,
		"plain":            `'plain'`,
		"*:*.key":          `'*:*.key'`,
		"it's":             `'it'\''s'`,
		"$(rm -rf /) `x`":  "'$(rm -rf /) `x`'",
		"http://[::1]:123": `'http://[::1]:123'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// -seen-interval decides when a legacy token's use on the client API shows
// in its seenAt: 0 at once; by default at the first write of the job,
// three minutes after the start, so not right after the use.
func TestSeenInterval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		seen bool
	}{
		{[]string{"-seen-interval", "0"}, true},
		{nil, false},
	} {
		p := start(t, nil, tc.args...)
		call := func(method, path, key, body string) []byte {
			t.Helper()
			req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", key)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil || res.StatusCode/100 != 2 {
				t.Fatalf("%s %s: %d %s %v", method, path, res.StatusCode, b, err)
			}
			return b
		}
		var tok struct{ Secret string }
		if err := json.Unmarshal(call("POST", "/api/admin/api-tokens", p.key, `{"tokenName":"c","type":"client"}`), &tok); err != nil {
			t.Fatal(err)
		}
		call("GET", "/api/client/features", tok.Secret, "")
		var list struct {
			Tokens []struct {
				TokenName string  `json:"tokenName"`
				SeenAt    *string `json:"seenAt"`
			} `json:"tokens"`
		}
		if err := json.Unmarshal(call("GET", "/api/admin/api-tokens/c", p.key, ""), &list); err != nil || len(list.Tokens) != 1 {
			t.Fatalf("%v: list %+v %v", tc.args, list, err)
		}
		if got := list.Tokens[0].SeenAt != nil; got != tc.seen {
			t.Errorf("%v: seenAt %v right after the use, want set %t", tc.args, list.Tokens[0].SeenAt, tc.seen)
		}
	}
}
