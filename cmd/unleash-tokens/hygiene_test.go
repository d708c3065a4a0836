package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// runners returns the command in process and as a built binary, both on
// url with key.
func runners(t *testing.T, url, key string) map[string]runner {
	return map[string]runner{"in-process": inProcess(url, key), "binary": binary(t, url, key)}
}

// makeToken creates a token through the command and deletes it when the
// test ends; it returns the secret.
func makeToken(t *testing.T, r runner, args ...string) string {
	t.Helper()
	var tok unleashadmin.APIToken
	out := mustRun(t, r, "", append([]string{"create", "-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Secret == "" {
		t.Fatalf("create %v: %q, %v", args, out, err)
	}
	t.Cleanup(func() { r(t, "", "delete", "--ignore-not-found", tok.Secret) })
	return tok.Secret
}

// backendType is "backend" where the server has the type, "client" (the
// same kind) before Unleash 7.1.
func backendType(t *testing.T, url, key string) string {
	if serverFacts(t, url, key).HasBackendType() {
		return "backend"
	}
	return "client"
}

// TestAuditCommand: the findings for tokens made here, as tables that fit
// 80 columns and as JSON; --fail-on exits 9.
func TestAuditCommand(t *testing.T) {
	url, key := server(t)
	backend := backendType(t, url, key)
	for name, r := range runners(t, url, key) {
		t.Run(name, func(t *testing.T) {
			n := uniqueName(t)
			var secrets []string
			secrets = append(secrets,
				makeToken(t, r, "--type", "frontend", "--name", n+"-star"),
				makeToken(t, r, "--type", backend, "--name", n+"-dup", "--project", "default"),
				makeToken(t, r, "--type", "client", "--name", n+"-dup", "--project", "default"),
				makeToken(t, r, "--type", "client", "--name", n+"-old", "--project", "default", "--expires", "2020-01-01", "--allow-past"),
				makeToken(t, r, "--type", "client", "--name", n+"-soon", "--project", "default", "--expires", "+2d"))

			var rep struct {
				Tokens    int
				Limit     *int
				NearLimit bool
				Findings  []struct{ Kind, Name, Secret, Reason string }
			}
			out := mustRun(t, r, "", "audit", "-o", "json")
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("audit -o json: %v\n%s", err, out)
			}
			var got []string
			for _, f := range rep.Findings {
				if strings.HasPrefix(f.Name, n+"-") {
					got = append(got, f.Kind+" "+strings.TrimPrefix(f.Name, n+"-"))
				}
			}
			want := []string{"expired old", "expiring soon", "duplicate dup", "duplicate dup", "all-projects star"}
			if !slices.Equal(got, want) || rep.Tokens < 6 {
				t.Errorf("findings %q (want %q), %d tokens", got, want, rep.Tokens)
			}
			// Unleash 5 has no token limit: then audit says none.
			if limit := serverFacts(t, url, key).TokenLimit; limit == 0 && rep.Limit != nil || limit > 0 && (rep.Limit == nil || *rep.Limit != limit) {
				t.Errorf("the server's limit is %d; audit says %v", limit, rep.Limit)
			}

			out = mustRun(t, r, "", "audit", "--expiring-within", "3d")
			// Names may be cut to fit 80 columns (selectors under secure
			// storage are wide): look for the unique part.
			for _, s := range []string{"duplicate (", "all-projects (", "expired (", "expiring (", "expire within 3d", n, "tokens: "} {
				if !strings.Contains(out, s) {
					t.Errorf("audit table lacks %q:\n%s", s, out)
				}
			}
			checkWidth(t, []string{"audit"}, out)
			out2, _, _ := r(t, "", "audit", "--expiring-within", "1d", "-o", "json")
			for _, s := range secrets {
				if strings.Contains(out+out2, s[len(s)-20:]) || strings.Contains(out+out2, key) {
					t.Errorf("audit printed a secret")
				}
			}
			if strings.Contains(out2, n+"-soon") {
				t.Errorf("--expiring-within 1d reports a token expiring in 2d")
			}

			out, errOut, code := r(t, "", "audit", "--fail-on", "never-seen,duplicate")
			if code != exitFindings || !strings.Contains(errOut, "found duplicate") || strings.Count(errOut, "\n") != 1 || !strings.Contains(out, "duplicate (") {
				t.Errorf("--fail-on duplicate: exit %d, stderr %q", code, errOut)
			}
			for _, args := range [][]string{{"--fail-on", "stale"}, {"--unused-for", "0"}, {"--expiring-within", "soon"}, {"extra"}} {
				if _, errOut, code := r(t, "", append([]string{"audit"}, args...)...); code != exitUsage {
					t.Errorf("audit %v: exit %d, %q", args, code, errOut)
				}
			}
		})
	}
}

// TestPruneCommand: a dry run deletes nothing; --yes retires the expired
// tokens of the prefix, and only those.
func TestPruneCommand(t *testing.T) {
	url, key := server(t)
	for name, r := range runners(t, url, key) {
		t.Run(name, func(t *testing.T) {
			n := uniqueName(t)
			makeToken(t, r, "--type", "client", "--name", n+"-a", "--project", "default", "--expires", "2020-01-01", "--allow-past")
			makeToken(t, r, "--type", "client", "--name", n+"-b", "--expires", "2020-01-01", "--allow-past")
			makeToken(t, r, "--type", "client", "--name", n+"-live", "--project", "default", "--expires", "+1d")

			out, errOut, code := r(t, "", "prune", "--expired", "--name-prefix", n)
			if code != 0 || strings.Count(out, "\nwould-retire  cli-") != 2 || !strings.Contains(out, "dry run: would retire 2, skipped 0") || errOut != "" {
				t.Errorf("dry run: exit %d\n%s%s", code, out, errOut)
			}
			checkWidth(t, []string{"prune"}, out)
			mustRun(t, r, "", "get", n+"-a")

			out, errOut, code = r(t, "", "prune", "--expired", "--name-prefix", n, "--yes", "--parallel", "2", "-o", "json")
			var rep struct {
				DryRun                          bool
				Retired, Failed, Skipped, Would int
				Results                         []struct{ Name, Status string }
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || errOut != "" {
				t.Fatalf("prune --yes: exit %d, %v\n%s%s", code, err, out, errOut)
			}
			if rep.DryRun || rep.Retired != 2 || rep.Failed != 0 || len(rep.Results) != 2 || rep.Results[0].Status != "retired" {
				t.Errorf("report %+v", rep)
			}
			for _, gone := range []string{"-a", "-b"} {
				if _, _, code := r(t, "", "get", n+gone); code != exitNotFound {
					t.Errorf("%s%s still there (get: exit %d)", n, gone, code)
				}
			}
			mustRun(t, r, "", "get", n+"-live")

			for _, args := range [][]string{{}, {"--unused-for", "90m"}, {"--expired", "--parallel", "0"}, {"--expired", "x"}} {
				if _, errOut, code := r(t, "", append([]string{"prune"}, args...)...); code != exitUsage || strings.Count(errOut, "\n") != 1 {
					t.Errorf("prune %v: exit %d, %q", args, code, errOut)
				}
			}
		})
	}
}

// TestPruneCommandKeyAndFailures: the server lists the key's own token
// as expired and never seen, and refuses one delete: the key is protected,
// the refused token is named on stderr, and the exit is 10.
func TestPruneCommandKeyAndFailures(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	victim := "default:development." + strings.Repeat("1a", 28)
	refused := "default:development." + strings.Repeat("2b", 28)
	list := map[string]any{"tokens": []map[string]any{
		{"secret": srv.AdminKey(), "tokenName": "admin", "type": "admin", "project": "*", "projects": []string{"*"}, "environment": "*", "createdAt": old, "expiresAt": old, "seenAt": nil},
		{"secret": victim, "tokenName": "victim", "type": "client", "project": "default", "projects": []string{"default"}, "environment": "development", "createdAt": old, "expiresAt": old, "seenAt": nil},
		{"secret": refused, "tokenName": "refused", "type": "client", "project": "default", "projects": []string{"default"}, "environment": "development", "createdAt": old, "seenAt": nil},
	}}
	var mu sync.Mutex
	var deletes []string
	url := proxyTo(t, srv.URL(), func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/admin/api-tokens":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(list)
			return true
		case r.Method == http.MethodDelete:
			mu.Lock()
			deletes = append(deletes, r.URL.Path)
			mu.Unlock()
			if strings.Contains(r.URL.Path, strings.Repeat("2b", 28)) {
				http.Error(w, `{"name":"InternalError","message":"database on fire"}`, http.StatusInternalServerError)
				return true
			}
		}
		return false
	})
	for name, r := range runners(t, url, srv.AdminKey()) {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			deletes = nil
			mu.Unlock()
			out, errOut, code := r(t, "", "prune", "--expired", "--never-seen", "--yes", "--parallel", "1")
			if code != exitPartial {
				t.Errorf("exit %d, want %d", code, exitPartial)
			}
			for _, s := range []string{"protected  admin", "expired: the key in use", "retired  victim", "failed  refused", "retired 1, failed 1, skipped 0, protected 1"} {
				if !strings.Contains(strings.Join(strings.Fields(out), "  "), strings.Join(strings.Fields(s), "  ")) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], "not retired: refused") || !strings.Contains(lines[0], "500") ||
				!strings.Contains(lines[1], "1 of 2 tokens not retired") {
				t.Errorf("stderr:\n%s", errOut)
			}
			mu.Lock()
			defer mu.Unlock()
			// The refused delete is retried (a 500 on a DELETE is); the
			// others are sent once.
			if len(deletes) != 1+1+unleashadmin.DefaultRetryMax || !strings.HasSuffix(deletes[len(deletes)-1], strings.Repeat("1a", 28)) &&
				!strings.HasSuffix(deletes[0], strings.Repeat("1a", 28)) {
				t.Errorf("deletes %q", deletes)
			}
			for _, d := range deletes {
				if strings.Contains(d, "insecure-admin") {
					t.Errorf("the key was deleted: %s", d)
				}
			}
			if strings.Contains(out+errOut, strings.Repeat("1a", 10)) || strings.Contains(out+errOut, srv.AdminKey()) {
				t.Errorf("printed a secret:\n%s%s", out, errOut)
			}
		})
	}
}

// TestCheckCommand: secrets from arguments, standard input and a
// directory; order kept; exit 9 when one is not live; no API token needed.
func TestCheckCommand(t *testing.T) {
	url, key := server(t)
	admin := inProcess(url, key)
	n := uniqueName(t)
	info := serverFacts(t, url, key)
	live1 := makeToken(t, admin, "--type", backendType(t, url, key), "--name", n+"-1", "--project", "default", "--env", "production")
	live2 := makeToken(t, admin, "--type", "frontend", "--name", n+"-2")
	garbage := "*:development." + strings.Repeat("0", 56)
	dir := t.TempDir()
	for name, s := range map[string]string{"checkout": live1, "stale": garbage, ".hidden": "x"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Without an API token: check needs none.
	for name, r := range runners(t, url, "") {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := r(t, "", "check", live1, garbage, live2, live1)
			rows := strings.Split(strings.TrimSpace(out), "\n")
			if code != exitFindings || len(rows) != 5 || !strings.Contains(errOut, "1 of 4 secrets not live") {
				t.Fatalf("exit %d, stdout\n%s\nstderr %q", code, out, errOut)
			}
			for i, want := range []string{"yes", "no", "yes", "yes"} {
				if f := strings.Fields(rows[i+1]); len(f) < 2 || f[1] != want {
					t.Errorf("row %d: %q, want live %s", i+1, rows[i+1], want)
				}
			}
			// A backend token is checked as client, or as backend under
			// secure token storage; Unleash 5 and 6 do not say the
			// environment.
			if f := strings.Fields(rows[1]); len(f) < 4 || !(unleashadmin.APIToken{Type: unleashadmin.TokenType(f[2])}).IsType("backend") ||
				(f[3] != "production") == info.AtLeast(7, 0) || !strings.Contains(rows[3], "frontend") {
				t.Errorf("rows:\n%s", out)
			}
			checkWidth(t, []string{"check"}, out)

			if out, errOut, code := r(t, live1+"\n\n  "+live2+"\n", "check", "-"); code != 0 || strings.Count(out, "yes") != 2 {
				t.Errorf("check -: exit %d\n%s%s", code, out, errOut)
			}
			out, errOut, code = r(t, "", "check", "--dir", dir)
			if code != exitFindings || !strings.Contains(out, "SOURCE") || !strings.Contains(out, "checkout") || !strings.Contains(out, "stale") || strings.Contains(out, ".hidden") {
				t.Errorf("check --dir: exit %d\n%s%s", code, out, errOut)
			}

			out, _, code = r(t, "", "check", "-o", "json", live2, garbage)
			var rep struct {
				Results []map[string]any
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFindings || len(rep.Results) != 2 {
				t.Fatalf("check -o json: exit %d, %v\n%s", code, err, out)
			}
			if r0 := rep.Results[0]; r0["live"] != true || r0["type"] != "frontend" || r0["secret"] != unleashadmin.RedactSecret(live2) ||
				rep.Results[1]["live"] != false || rep.Results[1]["type"] != nil || len(r0) != 5 || len(rep.Results[1]) != 5 {
				t.Errorf("results %v", rep.Results)
			}
			if _, errOut, code := r(t, "", "check", live1, live2); code != 0 || errOut != "" {
				t.Errorf("all live: exit %d, %q", code, errOut)
			}

			for _, args := range [][]string{{}, {"--dir", filepath.Join(dir, "missing")}, {"-", "-"}, {"two words"}} {
				if _, errOut, code := r(t, "", append([]string{"check"}, args...)...); code != exitUsage {
					t.Errorf("check %v: exit %d, %q", args, code, errOut)
				}
			}
			all, _, _ := r(t, live1+"\n", "check", live2, "-", "--dir", dir, "-o", "json")
			for _, s := range []string{live1, live2} {
				if strings.Contains(out+all, s[len(s)-20:]) {
					t.Errorf("check printed a secret")
				}
			}
		})
	}
	help := mustRun(t, admin, "", "check", "--help")
	if !strings.Contains(help, "about a minute") || !strings.Contains(help, "restarts") || strings.Contains(help, "-token string") {
		t.Errorf("check --help:\n%s", help)
	}
	checkWidth(t, []string{"check", "--help"}, help)
}

// TestHygieneAgainstStandinProcess runs audit, prune and check as built
// binaries against cmd/unleash-standin as a process, seeded with tokens
// whose seenAt says they are unused or never seen, and stops it with
// SIGTERM.
func TestHygieneAgainstStandinProcess(t *testing.T) {
	dir := t.TempDir()
	standin := filepath.Join(dir, "unleash-standin")
	if out, err := exec.Command("go", "build", "-o", standin, "../unleash-standin").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	now := time.Now().UTC()
	live := "default:production." + strings.Repeat("5e", 28)
	seeds := []map[string]any{
		{"tokenName": "svc-unused", "type": "client", "projects": []string{"default"}, "createdAt": now.Add(-200 * 24 * time.Hour), "seenAt": now.Add(-100 * 24 * time.Hour)},
		{"tokenName": "svc-never", "type": "client", "projects": []string{"default"}, "createdAt": now.Add(-5 * 24 * time.Hour)},
		{"tokenName": "svc-expired", "type": "frontend", "createdAt": now.Add(-5 * 24 * time.Hour), "expiresAt": now.Add(-time.Hour), "seenAt": now.Add(-2 * time.Hour)},
		{"tokenName": "svc-live", "type": "backend", "secret": live, "projects": []string{"default"}, "environment": "production", "createdAt": now.Add(-5 * 24 * time.Hour), "seenAt": now},
	}
	seedFile := filepath.Join(dir, "seeds.json")
	data, _ := json.Marshal(seeds)
	if err := os.WriteFile(seedFile, data, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(standin, "-seed", seedFile, "-token-limit", "5")
	cmd.Env = binaryEnv("", "")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exports := make(chan map[string]string, 1)
	go func() {
		m := map[string]string{}
		sc := bufio.NewScanner(out)
		for len(m) < 2 && sc.Scan() {
			if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok {
				m[k] = strings.Trim(v, "'") // the test key holds no quote
			}
		}
		exports <- m
		_, _ = io.Copy(io.Discard, out)
		done <- cmd.Wait()
	}()
	defer func() { _ = cmd.Process.Kill() }()
	var env map[string]string
	select {
	case env = <-exports:
	case <-time.After(30 * time.Second):
		t.Fatalf("no export lines in 30 s; stderr: %s", errOut.String())
	}
	if env["UNLEASH_URL"] == "" || env["UNLEASH_API_TOKEN"] == "" {
		t.Fatalf("exports %v; stderr: %s", env, errOut.String())
	}
	r := binary(t, env["UNLEASH_URL"], env["UNLEASH_API_TOKEN"])

	var rep struct {
		Tokens, Counted int
		Limit           *int
		NearLimit       bool
		Findings        []struct{ Kind, Name string }
	}
	o, errs, code := r(t, "", "audit", "-o", "json", "--fail-on", "near-limit")
	if err := json.Unmarshal([]byte(o), &rep); err != nil || code != exitFindings {
		t.Fatalf("audit: exit %d, %v\n%s%s", code, err, o, errs)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Kind+" "+f.Name)
	}
	want := []string{"never-seen svc-never", "unused svc-unused", "expired svc-expired"}
	if !slices.Equal(got, want) || rep.Tokens != 5 || rep.Limit == nil || *rep.Limit != 5 || !rep.NearLimit {
		t.Errorf("audit: %+v, findings %q, want %q", rep, got, want)
	}

	o = mustRun(t, r, "", "prune", "--expired", "--unused-for", "90d", "--never-seen", "--yes")
	if !strings.Contains(o, "retired 3, failed 0, skipped 0") {
		t.Errorf("prune:\n%s", o)
	}
	if o, _, code := r(t, live+"\n", "check", "-"); code != 0 || !strings.Contains(o, "yes") || !strings.Contains(o, "client") {
		t.Errorf("check of the live seed: exit %d\n%s", code, o)
	}
	if o := mustRun(t, r, "", "audit"); !strings.Contains(o, "no findings") || !strings.Contains(o, "tokens: 2 of 5") {
		t.Errorf("audit after prune:\n%s", o)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("stand-in after SIGTERM: %v; stderr: %s", err, errOut.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("stand-in still running 15 s after SIGTERM")
	}
}
