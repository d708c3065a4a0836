package main

// Issue 17, "Apply must know what was delivered", items 1 to 3 as built
// binaries: against the stand-in, or the real server named by UNLEASH_URL
// and UNLEASH_API_TOKEN. Each test uses names of its own run and retires
// them when it ends.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// recordRun is a test's names, files and binary.
type recordRun struct {
	t      *testing.T
	r      runner
	c      *unleashadmin.Client
	prefix string
	dir    string
	bin    string
	env    []string
}

// newRecordRun builds the binary for url and key, and retires every token
// whose name has the run's prefix when the test ends.
func newRecordRun(t *testing.T, url, key string, c *unleashadmin.Client) *recordRun {
	t.Helper()
	x := &recordRun{t: t, r: binary(t, url, key), c: c, prefix: uniqueName(t) + "-", dir: t.TempDir(), bin: binaryPath(t), env: binaryEnv(url, key)}
	cleanup := x.write("cleanup.yaml", "tokens: []\nprune:\n  namePrefix: "+x.prefix+"\n")
	t.Cleanup(func() {
		if _, errOut, code := x.r(t, "", "apply", "-f", cleanup); code != 0 {
			t.Errorf("cleanup: exit %d: %s", code, errOut)
		}
	})
	return x
}

func (x *recordRun) write(name, text string) string {
	path := filepath.Join(x.dir, name)
	writeFile(x.t, path, text)
	return path
}

// run runs the binary and checks the exit code; stdout and stderr never
// show a secret.
func (x *recordRun) run(wantCode int, args ...string) (string, string) {
	x.t.Helper()
	out, errOut, code := x.r(x.t, "", args...)
	if m := fullSecret.FindString(out + errOut); m != "" {
		x.t.Fatalf("%v printed a secret", args)
	}
	if code != wantCode {
		x.t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, wantCode, out, errOut)
	}
	return out, errOut
}

// live returns the tokens named name that have not expired.
func (x *recordRun) live(name string) []unleashadmin.APIToken {
	x.t.Helper()
	var out []unleashadmin.APIToken
	for _, tok := range byName(x.t, x.c, name) {
		if !tok.ExpiredAt(time.Now()) {
			out = append(out, tok)
		}
	}
	return out
}

// held returns the secret the directory holds for name.
func (x *recordRun) held(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		x.t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// checkDir runs check --dir and wants every secret of dir live.
func (x *recordRun) checkDir(dir, when string) {
	x.t.Helper()
	if out, errOut, code := x.r(x.t, "", "check", "--dir", dir); code != exitOK {
		x.t.Fatalf("%s: check --dir: exit %d\n%s\n%s", when, code, out, errOut)
	}
}

// Item 1: applies of one file at once through one directory sink take
// turns (the lock), and each keeps the token the directory holds: after
// every round each file of the directory holds a live secret, and after a
// final apply each entry has exactly one live token. Every apply rotates
// every entry (maxAge 1ms). It is the concurrency soak of make test.
func TestConcurrentAppliesSoak(t *testing.T) {
	t.Parallel()
	url, key, c := desiredServer(t)
	x := newRecordRun(t, url, key, c)
	names := []string{x.prefix + "a", x.prefix + "b", x.prefix + "c", x.prefix + "d", x.prefix + "e"}
	var b strings.Builder
	b.WriteString("tokens:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - {name: %s, type: client, maxAge: 1ms}\n", n)
	}
	file := x.write("tokens.yaml", b.String())
	secrets := filepath.Join(x.dir, "secrets")
	const rounds, atOnce = 10, 3
	for round := 1; round <= rounds; round++ {
		var wg sync.WaitGroup
		errs := make([]string, atOnce)
		for i := range atOnce {
			wg.Go(func() {
				cmd := exec.Command(x.bin, "apply", "-f", file, "--deliver-dir", secrets, "--timeout", "2m")
				cmd.Env = x.env
				var out, errOut bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				if err := cmd.Run(); err != nil {
					errs[i] = fmt.Sprintf("apply %d: %v\n%s\n%s", i, err, out.String(), errOut.String())
				}
			})
		}
		wg.Wait()
		for _, e := range errs {
			if e != "" {
				t.Fatalf("round %d: %s", round, e)
			}
		}
		x.checkDir(secrets, fmt.Sprint("after round ", round))
	}
	x.run(exitOK, "apply", "-f", file, "--deliver-dir", secrets)
	x.checkDir(secrets, "after the final apply")
	for _, n := range names {
		if live := x.live(n); len(live) != 1 || !live[0].Matches(x.held(secrets, n)) {
			t.Errorf("%s: %d live tokens, or not the one the directory holds", n, len(live))
		}
	}
}

// Item 2: a rotation whose delivery fails and whose new token cannot be
// deleted (a 503) leaves that token live. The next apply keeps the token
// the directory holds, not the newer one nobody was given; once the
// leftover is older than the settle time, an apply retires it.
func TestApplyAfterAnUndeliveredToken(t *testing.T) {
	t.Parallel()
	target, key, c := desiredServer(t)
	var deny atomic.Bool
	url := proxyTo(t, target, func(w http.ResponseWriter, r *http.Request) bool {
		if deny.Load() && r.Method == http.MethodDelete {
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"name":"ServiceUnavailable","message":"unavailable"}`, http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	x := newRecordRun(t, url, key, c)
	name := x.prefix + "svc"
	file := x.write("tokens.yaml", "tokens: [{name: "+name+", type: client, maxAge: 1h}]\n")
	due := x.write("due.yaml", "tokens: [{name: "+name+", type: client, maxAge: 1ms}]\n")
	secrets := filepath.Join(x.dir, "secrets")
	x.run(exitOK, "apply", "-f", file, "--deliver-dir", secrets)
	delivered := x.held(secrets, name)

	deny.Store(true)
	_, errOut := x.run(exitPartial, "apply", "-f", due, "--deliver-exec", "exit 3")
	deny.Store(false)
	if !strings.Contains(errOut, "still live") {
		t.Fatalf("stderr:\n%s", errOut)
	}
	if live := x.live(name); len(live) != 2 {
		t.Fatalf("%d live tokens, want the delivered one and the undelivered one", len(live))
	}

	out, _ := x.run(exitOK, "apply", "-f", file, "--deliver-dir", secrets)
	if !hasRow(out, "keep", name) || !hasRow(out, "leave", name) || x.held(secrets, name) != delivered {
		t.Fatalf("apply:\n%s", out)
	}
	x.checkDir(secrets, "after the apply that follows")
	if live := x.live(name); len(live) != 2 {
		t.Fatalf("%d live tokens: the leftover is retired before it settled", len(live))
	}

	time.Sleep(50 * time.Millisecond)
	out, _ = x.run(exitOK, "apply", "-f", file, "--deliver-dir", secrets, "--settle", "10ms")
	if !hasRow(out, "retire", name) {
		t.Fatalf("apply after the settle time:\n%s", out)
	}
	x.checkDir(secrets, "after the leftover is retired")
	if live := x.live(name); len(live) != 1 || !live[0].Matches(delivered) {
		t.Fatalf("%d live tokens, or not the delivered one", len(live))
	}
}

// Item 3: a sink command that exits 0 without reading the secret (the
// `token=-` forgotten: true; one that reads 5 bytes of it) has not
// delivered it; nor has one whose read-back command gives another secret.
// The old token stays, the new one is deleted again.
func TestApplySinkThatReadsNothing(t *testing.T) {
	t.Parallel()
	url, key, c := desiredServer(t)
	x := newRecordRun(t, url, key, c)
	name := x.prefix + "svc"
	file := x.write("tokens.yaml", "tokens: [{name: "+name+", type: client, maxAge: 1ms}]\n")
	store := filepath.Join(x.dir, "store")
	x.run(exitOK, "apply", "-f", file, "--deliver-dir", store)
	old := x.held(store, name)
	read := `cat "` + store + `/$UNLEASH_TOKEN_NAME" 2>/dev/null || true`
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--deliver-exec", "true"}, "without reading"},
		{[]string{"--deliver-exec", "head -c 5 >/dev/null"}, "without reading"},
		{[]string{"--deliver-exec", "cat >/dev/null", "--read-exec", read}, "read back"},
	} {
		_, errOut := x.run(exitNotDelivered, append([]string{"apply", "-f", file}, tc.args...)...)
		if !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: stderr:\n%s", tc.args, errOut)
		}
		if live := x.live(name); len(live) != 1 || !live[0].Matches(old) {
			t.Fatalf("%v: %d live tokens, or not the old one", tc.args, len(live))
		}
	}
	// A command that stores what it reads, and reads it back, delivers.
	// What the commands print reaches stderr without the secret (run
	// checks it).
	hook := `v=$(cat); echo "stored $v"; printf %s "$v" > "` + store + `/$UNLEASH_TOKEN_NAME"`
	_, errOut := x.run(exitOK, "apply", "-f", file, "--deliver-exec", hook, "--read-exec", read+`; echo "read $(cat "`+store+`/$UNLEASH_TOKEN_NAME")" >&2`)
	if !strings.Contains(errOut, "stored ") || !strings.Contains(errOut, "read ") {
		t.Errorf("stderr:\n%s", errOut)
	}
	x.checkDir(store, "after the exec sink")
	if live := x.live(name); len(live) != 1 || live[0].Matches(old) || !live[0].Matches(x.held(store, name)) {
		t.Fatalf("%d live tokens, or not the stored one", len(live))
	}
}

// Item 6: a server (or proxy) that answers the create of one name with a
// token of another: the token is deleted again, nothing is written under
// either name, the old token stays, and the exec sink never runs.
func TestApplyCreateAnswerOfAnotherName(t *testing.T) {
	t.Parallel()
	target, key, c := desiredServer(t)
	u, _ := neturl.Parse(target)
	var prefix atomic.Value
	prefix.Store("")
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodPost || resp.StatusCode != http.StatusCreated {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		var tok map[string]any
		if err := json.Unmarshal(body, &tok); err != nil {
			return err
		}
		tok["tokenName"] = prefix.Load().(string) + "payments"
		body, _ = json.Marshal(tok)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	direct := newRecordRun(t, target, key, c)
	prefix.Store(direct.prefix)
	x := &recordRun{t: t, r: binary(t, srv.URL, key), c: c, prefix: direct.prefix, dir: direct.dir}
	name := x.prefix + "checkout"
	file := direct.write("tokens.yaml", "tokens: [{name: "+name+", type: client, maxAge: 1ms}]\n")
	secrets := filepath.Join(x.dir, "secrets")
	direct.run(exitOK, "apply", "-f", file, "--deliver-dir", secrets)
	old := x.held(secrets, name)
	hook := `cat > "` + x.dir + `/exec-$UNLEASH_TOKEN_NAME"`
	for _, sink := range [][]string{{"--deliver-dir", secrets}, {"--deliver-exec", hook}} {
		_, errOut := x.run(exitNotDelivered, append([]string{"apply", "-f", file}, sink...)...)
		if !strings.Contains(errOut, "another name") || !strings.Contains(errOut, "deleted again") {
			t.Errorf("%v: stderr:\n%s", sink, errOut)
		}
		for _, f := range []string{filepath.Join(secrets, x.prefix+"payments"), filepath.Join(x.dir, "exec-"+x.prefix+"payments"), filepath.Join(x.dir, "exec-"+name)} {
			if _, err := os.Stat(f); err == nil {
				t.Errorf("%v: wrote %s", sink, filepath.Base(f))
			}
		}
		if x.held(secrets, name) != old {
			t.Errorf("%v: the directory no longer holds the old secret", sink)
		}
		if live := x.live(name); len(live) != 1 || !live[0].Matches(old) {
			t.Fatalf("%v: %d live tokens, or not the old one", sink, len(live))
		}
		if others := x.live(x.prefix + "payments"); len(others) != 0 {
			t.Fatalf("%v: a token named payments is live", sink)
		}
	}
}

// plan --deliver-dir and --read-exec plan by what the sink holds and
// change nothing, not even the directory.
func TestPlanReadsTheSink(t *testing.T) {
	t.Parallel()
	url, key, c := desiredServer(t)
	x := newRecordRun(t, url, key, c)
	name := x.prefix + "svc"
	file := x.write("tokens.yaml", "tokens: [{name: "+name+", type: client}]\n")
	secrets := filepath.Join(x.dir, "secrets")
	x.run(exitOK, "apply", "-f", file, "--deliver-dir", secrets)
	// A token the directory does not hold, newer than the one it holds.
	out, errOut, code := x.r(t, "", "create", "--type", "client", "--name", name, "-o", "json")
	if code != exitOK {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	var made struct{ Secret string }
	if err := json.Unmarshal([]byte(out), &made); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(x.dir, "empty")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--deliver-dir", secrets}, "leave"},
		{[]string{"--read-exec", `cat "` + secrets + `/$UNLEASH_TOKEN_NAME"`}, "leave"},
		{nil, "retire"},
		{[]string{"--deliver-dir", secrets, "--settle", "1ms"}, "retire"},
	} {
		out, _ := x.run(exitOK, append([]string{"plan", "-f", file}, tc.args...)...)
		if !hasRow(out, "keep", name) || !hasRow(out, tc.want, name) {
			t.Errorf("%v:\n%s", tc.args, out)
		}
	}
	out, _ = x.run(exitOK, "plan", "-f", file, "--deliver-dir", empty)
	if _, err := os.Stat(empty); err == nil {
		t.Error("plan made the directory")
	}
	info := serverFacts(t, url, key)
	if _, secure := unleashadmin.Selector(made.Secret); secure {
		if !strings.Contains(out, "NOT delivered") {
			t.Errorf("an empty directory under secure storage:\n%s", out)
		}
	} else if !hasRow(out, "deliver", name) {
		t.Errorf("an empty directory (%s):\n%s", info.Version, out)
	}
	if live := x.live(name); len(live) != 2 {
		t.Fatalf("%d live tokens after plans", len(live))
	}
	// Applied to the empty directory: the listed secret of the newest is
	// delivered as it is and the older token retired; under secure
	// storage, nothing changes and stderr says the entry is not
	// delivered.
	out, errOut = x.run(exitOK, "apply", "-f", file, "--deliver-dir", empty)
	live := x.live(name)
	if _, secure := unleashadmin.Selector(made.Secret); secure {
		if !strings.Contains(errOut, name+": not delivered") || !strings.Contains(out, "not-delivered") || len(live) != 2 {
			t.Errorf("%d live tokens\n%s\n%s", len(live), out, errOut)
		}
	} else if len(live) != 1 || live[0].Secret != made.Secret || x.held(empty, name) != made.Secret {
		t.Errorf("%d live tokens, or not the delivered one\n%s", len(live), out)
	}
}

// hasRow reports whether a table has a row of this action and name.
func hasRow(table, action, name string) bool {
	return regexp.MustCompile(`(?m)^` + action + ` +` + regexp.QuoteMeta(name) + ` `).MatchString(table)
}

// A second apply through one directory waits for the first within its
// --timeout, then fails with a clear message, having changed nothing.
func TestApplyWaitsForTheDirectoryLock(t *testing.T) {
	t.Parallel()
	srv := unleashtest.NewTestServer(t)
	r := inProcess(srv.URL(), srv.AdminKey())
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.yaml")
	writeFile(t, file, "tokens: [{name: x, type: client}]\n")
	secrets := filepath.Join(dir, "secrets")
	unlock, err := desired.DirSink{Dir: secrets}.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	start := time.Now()
	_, errOut, code := r(t, "", "apply", "-f", file, "--deliver-dir", secrets, "--timeout", "300ms")
	if code != exitFailure || !strings.Contains(errOut, "another apply holds the sink's lock ("+filepath.Join(secrets, ".unleash-tokens.lock")+")") ||
		time.Since(start) > 5*time.Second {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, req := range srv.Requests() {
		if req.Method != http.MethodGet {
			t.Errorf("sent %s %s", req.Method, req.Path)
		}
	}
	if len(srv.Tokens()) != 1 { // the admin key
		t.Fatalf("server holds %d tokens", len(srv.Tokens()))
	}
}
