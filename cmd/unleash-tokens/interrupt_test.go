package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// TestSecondInterruptStopsAtOnce runs the built command against a server
// that holds the DELETE which revokes an undelivered new token (create and
// rotate with a stdout whose reader has gone, apply with a sink that
// fails). A first SIGINT leaves the revoke running, as it must; a second
// one stops the command at once, exit 130, with one line on stderr that
// names the token left half done.
func TestSecondInterruptStopsAtOnce(t *testing.T) {
	srv := standin(t)
	key := srv.AdminKey()
	old := createToken(t, inProcess(srv.URL(), key), "hang-rotate")
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.yaml")
	writeFile(t, file, "tokens:\n  - {name: hang-apply, type: client}\n")
	for _, tt := range []struct {
		name     string
		args     []string
		noReader bool // stdout is a pipe whose reader has gone
	}{
		{"hang-create", []string{"create", "--type", "client", "--name", "hang-create"}, true},
		{"hang-rotate", []string{"rotate", old.Secret}, true},
		{"hang-apply", []string{"apply", "-f", file, "--deliver-exec", "exit 3"}, false},
	} {
		t.Run(tt.args[0], func(t *testing.T) {
			revoking := make(chan struct{})
			var once sync.Once
			url := proxyTo(t, srv.URL(), func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodDelete {
					return false
				}
				once.Do(func() { close(revoking) })
				select { // hold the revoke until the command hangs up
				case <-r.Context().Done():
				case <-time.After(time.Minute):
				}
				return true
			})
			cmd := exec.Command(binaryPath(t), tt.args...)
			cmd.Env = binaryEnv(url, key)
			var errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = io.Discard, &errOut
			if tt.noReader {
				pr, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				_ = pr.Close()
				defer pw.Close()
				cmd.Stdout = pw
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer func() {
				_ = cmd.Process.Kill()
				<-done
			}()
			select {
			case <-revoking:
			case err := <-done:
				t.Fatalf("exited (%v) before the revoke: %s", err, errOut.String())
			case <-time.After(20 * time.Second):
				t.Fatal("the revoke never started")
			}
			_ = cmd.Process.Signal(syscall.SIGINT)
			select {
			case err := <-done:
				t.Fatalf("the first interrupt stopped the revoke (%v): %s", err, errOut.String())
			case <-time.After(500 * time.Millisecond):
			}
			_ = cmd.Process.Signal(syscall.SIGINT)
			var err error
			select {
			case err = <-done:
				done <- err // for the deferred wait
			case <-time.After(5 * time.Second):
				t.Fatalf("still running 5s after the second interrupt: %s", errOut.String())
			}
			code := exitCode(t, err)
			lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
			last := lines[len(lines)-1]
			if code != exitInterrupted || !strings.Contains(last, tt.name) || !strings.Contains(last, "deleting its undelivered new token") {
				t.Errorf("exit %d, stderr %q; want %d and a last line naming %s", code, errOut.String(), exitInterrupted, tt.name)
			}
		})
	}
}

// TestInFlightLine: the line a second signal prints names each step under
// way, in the order they began, escaped, and forgets the ended ones.
func TestInFlightLine(t *testing.T) {
	var f inFlight
	if line := f.abandoned(); line != "unleash-tokens: interrupted again, stopped without waiting; no token was being created, delivered, revoked or retired" {
		t.Errorf("nothing under way: %q", line)
	}
	f.cmd = "apply"
	old := &unleashadmin.APIToken{TokenName: "b\u202e", Secret: "*:production." + strings.Repeat("cd", 28)}
	fresh := &unleashadmin.APIToken{TokenName: "a", Secret: "*:production." + strings.Repeat("ab", 28)}
	f.start("a", "a", desired.StepCreate, nil)
	f.start("b", "b\u202e", desired.StepRetire, old)
	f.start("c", "c", desired.StepCreate, nil)
	f.start("a", "a", desired.StepDeliver, fresh) // a's next step keeps its place
	f.done("c")
	want := "unleash-tokens apply: interrupted again, stopped without waiting; may be left half done: " +
		"a: delivering its new token *:production.abababab***, which is live and may not have arrived; " +
		`b\u202e: retiring its token *:production.cdcdcdcd***, which may still be live`
	if line := f.abandoned(); line != want {
		t.Errorf("got  %q\nwant %q", line, want)
	}
	if line := f.abandoned(); strings.Contains(line, strings.Repeat("ab", 8)) || strings.Contains(line, strings.Repeat("cd", 8)) {
		t.Errorf("a secret in %q", line)
	}
}

// TestApplyForgetsSettledSteps: every action apply settles leaves the
// record of what is under way, done or failed, so that a second signal
// names only what is not settled.
func TestApplyForgetsSettledSteps(t *testing.T) {
	srv := standin(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.yaml")
	writeFile(t, file, "tokens:\n  - {name: p-1, type: client}\n  - {name: p-2, type: client}\nprune: {namePrefix: p-}\n")
	for _, tt := range []struct {
		text string
		args []string
		code int
	}{
		{"", []string{"--deliver-dir", filepath.Join(dir, "s")}, exitOK},
		{"tokens:\n  - {name: p-1, type: client, projects: [default]}\nprune: {namePrefix: p-}\n", []string{"--deliver-dir", filepath.Join(dir, "s")}, exitOK},
		{"tokens:\n  - {name: p-3, type: client}\n", []string{"--deliver-exec", "exit 3"}, exitNotDelivered},
	} {
		if tt.text != "" {
			writeFile(t, file, tt.text)
		}
		work := &inFlight{}
		var out, errOut bytes.Buffer
		getenv := func(k string) string {
			return map[string]string{"UNLEASH_URL": srv.URL(), "UNLEASH_API_TOKEN": srv.AdminKey()}[k]
		}
		code := run(t.Context(), work, append([]string{"apply", "-f", file, "--parallel", "2"}, tt.args...), strings.NewReader(""), &out, &errOut, getenv)
		if code != tt.code {
			t.Fatalf("apply %v: exit %d: %s%s", tt.args, code, out.String(), errOut.String())
		}
		if n := strings.Count(out.String(), "\n"); n < 3 {
			t.Fatalf("apply did little:\n%s", out.String())
		}
		if line := work.abandoned(); !strings.HasSuffix(line, "no token was being created, delivered, revoked or retired") {
			t.Errorf("after apply %v: %s", tt.args, line)
		}
	}
}
