package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
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
				Findings  []struct {
					Kind, Reason string
					Token        unleashadmin.APIToken
				}
			}
			out := mustRun(t, r, "", "audit", "-o", "json")
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("audit -o json: %v\n%s", err, out)
			}
			var got []string
			for _, f := range rep.Findings {
				if strings.HasPrefix(f.Token.TokenName, n+"-") {
					got = append(got, f.Kind+" "+strings.TrimPrefix(f.Token.TokenName, n+"-"))
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
				Results                         []struct {
					Status, Outcome string
					Token           unleashadmin.APIToken
				}
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || errOut != "" {
				t.Fatalf("prune --yes: exit %d, %v\n%s%s", code, err, out, errOut)
			}
			if rep.DryRun || rep.Retired != 2 || rep.Failed != 0 || len(rep.Results) != 2 || rep.Results[0].Status != "retired" || rep.Results[0].Outcome != "retired" {
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
			out, errOut, code := r(t, "", "prune", "--expired", "--never-seen", "--yes", "--parallel", "1", "-o", "wide")
			if code != exitPartial {
				t.Errorf("exit %d, want %d", code, exitPartial)
			}
			for _, s := range []string{"protected  admin", "the key in use (expired)", "retired  victim", "failed  refused", "retired 1, failed 1, skipped 0, protected 1"} {
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
			tok := func(i int) map[string]any { m, _ := rep.Results[i]["token"].(map[string]any); return m }
			if r0, t0 := rep.Results[0], tok(0); r0["live"] != true || r0["source"] != "argument 1" || t0["type"] != "frontend" ||
				t0["secret"] != unleashadmin.RedactSecret(live2) || t0["tokenName"] != nil || rep.Results[1]["live"] != false ||
				tok(1)["type"] != nil || tok(1)["secret"] != unleashadmin.RedactSecret(garbage) || len(r0) != 3 || len(tok(1)) != 11 {
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
		Findings        []struct {
			Kind  string
			Token struct{ TokenName string }
		}
	}
	o, errs, code := r(t, "", "audit", "-o", "json", "--fail-on", "near-limit")
	if err := json.Unmarshal([]byte(o), &rep); err != nil || code != exitFindings {
		t.Fatalf("audit: exit %d, %v\n%s%s", code, err, o, errs)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Kind+" "+f.Token.TokenName)
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

// agingProxy stands between the command and target, the stand-in or a
// real server. Its token list holds only the token of key and the tokens
// whose names start with prefix, each shown as created in 2020 and never
// seen, so that --never-seen matches them whatever the server's own dates
// and whatever else it holds. It passes on only the deletes of tokens with
// that prefix: any other delete is answered 200 without reaching the
// server and returned by blocked (redacted), so that a prune that would
// retire the key fails its test and leaves the server as it was.
func agingProxy(t *testing.T, target, key, prefix string) (url string, blocked func() []string) {
	t.Helper()
	u, err := neturl.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ours := map[string]bool{} // listed secrets of the tokens with prefix
	var stopped []string
	const list = "/api/admin/api-tokens"
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Header.Del("Accept-Encoding") // a body this proxy can read
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.Request.Method != http.MethodGet || !strings.HasSuffix(strings.TrimSuffix(resp.Request.URL.Path, "/"), list) || resp.StatusCode != http.StatusOK {
				return nil
			}
			body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
			resp.Body.Close()
			if err != nil {
				return err
			}
			var in struct{ Tokens []json.RawMessage }
			if err := json.Unmarshal(body, &in); err != nil {
				return err
			}
			shown := []map[string]any{}
			mu.Lock()
			for _, raw := range in.Tokens {
				var tok unleashadmin.APIToken
				var m map[string]any
				if json.Unmarshal(raw, &tok) != nil || json.Unmarshal(raw, &m) != nil {
					return errors.New("agingProxy: a token the list holds does not decode")
				}
				mine := strings.HasPrefix(tok.TokenName, prefix)
				if !mine && !tok.Matches(strings.TrimSpace(key)) {
					continue
				}
				ours[tok.Secret] = ours[tok.Secret] || mine
				m["createdAt"], m["seenAt"] = "2020-01-01T00:00:00.000Z", nil
				shown = append(shown, m)
			}
			mu.Unlock()
			out, _ := json.Marshal(map[string]any{"tokens": shown})
			resp.Body = io.NopCloser(bytes.NewReader(out))
			resp.ContentLength = int64(len(out))
			resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
			resp.Header.Del("Content-Encoding")
			return nil
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ref, ok := strings.Cut(r.URL.EscapedPath(), list+"/"); ok && r.Method == http.MethodDelete {
			ref, _ = neturl.PathUnescape(ref)
			mu.Lock()
			pass := ours[ref]
			if !pass {
				stopped = append(stopped, unleashadmin.RedactSecret(ref))
			}
			mu.Unlock()
			if !pass {
				w.WriteHeader(http.StatusOK)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(stopped)
	}
}

// prunedReport is the part of prune -o json this file reads.
type prunedReport struct {
	DryRun                                           bool
	Retired, Failed, Skipped, Protected, WouldRetire int
	Results                                          []struct {
		Status, Protection, Reason string
		Token                      struct{ TokenName, Secret string }
	}
}

// statusRows counts the rows of a prune table by their first column, the
// status; cut cells leave it whole.
func statusRows(out string) map[string]int {
	rows := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			rows[f[0]]++
		}
	}
	return rows
}

// TestPruneCommandKeepsTheKeyInEverySpelling: with UNLEASH_API_TOKEN set
// to "Bearer K", "bearer K", " K" or "K ", prune --never-seen --yes
// retires a never-seen token and keeps its own key, which it lists as
// protected, in a dry run (JSON) and for real (the table). The same with a
// key of secure token storage that lists show by its selector, which only
// the stand-in can make (Unleash makes no admin token in secure storage),
// so that case runs on the stand-in always.
func TestPruneCommandKeepsTheKeyInEverySpelling(t *testing.T) {
	url, key := server(t)
	selectorKey := "*:*.v2_" + "AutomAtion0123456789_-" + "_" + strings.Repeat("k", 43)
	secure := unleashtest.NewTestServer(t, unleashtest.WithSecureTokens(),
		unleashtest.WithTokens(unleashtest.Token{TokenName: "automation", Type: "admin", Secret: selectorKey}))
	for _, tc := range []struct{ name, url, key, spelling string }{
		{"Bearer K", url, key, "Bearer " + key},
		{"bearer K", url, key, "bearer " + key},
		{"space K", url, key, " " + key},
		{"K space", url, key, key + " "},
		{"selector", secure.URL(), selectorKey, selectorKey},
	} {
		admin := inProcess(tc.url, tc.key)
		for _, runner := range []string{"in-process", "binary"} {
			t.Run(tc.name+"/"+runner, func(t *testing.T) {
				n := uniqueName(t)
				makeToken(t, admin, "--type", "client", "--name", n+"-victim", "--project", "default")
				purl, blocked := agingProxy(t, tc.url, tc.key, n)
				r := runners(t, purl, tc.spelling)[runner]

				out, errOut, code := r(t, "", "prune", "--never-seen", "-o", "json")
				var rep prunedReport
				if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
					t.Fatalf("dry run: exit %d, %v\n%s%s", code, err, out, errOut)
				}
				var got []string
				for _, res := range rep.Results {
					got = append(got, res.Status+" "+res.Protection)
					if res.Status == "protected" && (!strings.HasPrefix(res.Reason, "the key in use; never seen") ||
						tc.name == "selector" && res.Token.Secret != "AutomAtion0123456789_-") {
						t.Errorf("the key's result %+v", res)
					}
				}
				slices.Sort(got)
				if want := []string{"protected the key in use", "would-retire "}; !slices.Equal(got, want) || rep.Protected != 1 || rep.WouldRetire != 1 {
					t.Errorf("dry run: %q, want %q\n%s", got, want, out)
				}

				// The table: cells may be cut to 80 columns, the status
				// never is.
				out, errOut, code = r(t, "", "prune", "--never-seen", "--yes")
				if rows := statusRows(out); code != 0 || rows["protected"] != 1 || rows["retired"] != 2 || // the summary line too
					!strings.Contains(out, "\nretired 1, failed 0, skipped 0, protected 1\n") {
					t.Errorf("prune --yes: exit %d:\n%s%s", code, out, errOut)
				}
				if len(blocked()) > 0 {
					t.Errorf("deletes of tokens not made here: %q", blocked())
				}
				if _, _, code := admin(t, "", "get", n+"-victim"); code != exitNotFound {
					t.Errorf("the never-seen token is still there (get: exit %d)", code)
				}
				if strings.Contains(out+errOut, strings.TrimSpace(tc.key)) {
					t.Errorf("printed the key")
				}
			})
		}
	}
}

// TestPruneCommandKeepsAdminTokens: another admin token that prune
// --never-seen --yes matches is kept and reported as protected, with a
// line that names --include-admin; with --include-admin it is retired, and
// the key is still kept. On a real server the admin tokens are made through
// the API, which only Unleash 5 allows: Unleash 6.10 answers 403 ("Admin
// tokens are disabled") and 7 and later 400, and there the test is
// skipped. On the stand-in they are seeded.
func TestPruneCommandKeepsAdminTokens(t *testing.T) {
	prefixes := map[string]string{"in-process": uniqueName(t), "binary": uniqueName(t)}
	url, key := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN")
	if url == "" || key == "" {
		opts := []unleashtest.Option{unleashtest.WithTokens(
			unleashtest.Token{TokenName: prefixes["in-process"] + "-admin", Type: "admin"},
			unleashtest.Token{TokenName: prefixes["binary"] + "-admin", Type: "admin"})}
		if os.Getenv("UNLEASH_STANDIN_SECURE") == "1" {
			opts = append(opts, unleashtest.WithSecureTokens())
		}
		srv := unleashtest.NewTestServer(t, opts...)
		url, key = srv.URL(), srv.AdminKey()
	} else {
		c, err := unleashadmin.NewClient(url, key)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		info := serverFacts(t, url, key)
		for _, p := range prefixes {
			tok, err := c.CreateAPIToken(context.Background(), unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeAdmin, TokenName: p + "-admin"})
			refused := errors.Is(err, unleashadmin.ErrForbidden) || errors.Is(err, unleashadmin.ErrBadRequest)
			if refused && info.AtLeast(6, 0) {
				t.Skipf("Unleash %s makes no admin token through the API (%v); this test needs a second admin token", info.Version, err)
			}
			if err != nil {
				t.Fatalf("Unleash %s: creating an admin token: %v", info.Version, err)
			}
			t.Cleanup(func() { _ = c.DeleteAPIToken(context.Background(), tok.Secret) })
		}
	}
	admin := inProcess(url, key)
	for runner, n := range prefixes {
		t.Run(runner, func(t *testing.T) {
			purl, blocked := agingProxy(t, url, key, n)
			r := runners(t, purl, key)[runner]

			out, errOut, code := r(t, "", "prune", "--never-seen", "--yes", "-o", "json")
			var rep prunedReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
				t.Fatalf("prune --yes: exit %d, %v\n%s%s", code, err, out, errOut)
			}
			for _, res := range rep.Results {
				want := map[bool]string{true: "an admin token", false: "the key in use"}[res.Token.TokenName == n+"-admin"]
				if res.Status != "protected" || res.Protection != want || !strings.HasPrefix(res.Reason, want+"; never seen") {
					t.Errorf("%s: %+v, want protected as %s", res.Token.TokenName, res, want)
				}
			}
			if len(rep.Results) != 2 || rep.Protected != 2 || rep.Retired != 0 {
				t.Errorf("prune --yes: %+v", rep)
			}
			out, errOut, code = r(t, "", "prune", "--never-seen", "--yes")
			if rows := statusRows(out); code != 0 || rows["protected"] != 2 || rows["retired"] != 1 || // the summary line
				!strings.Contains(out, "\nretired 0, failed 0, skipped 0, protected 2\nadmin tokens are protected; give --include-admin to retire them\n") {
				t.Errorf("prune --yes: exit %d\n%s%s", code, out, errOut)
			}
			mustRun(t, admin, "", "get", n+"-admin")

			out, errOut, code = r(t, "", "prune", "--never-seen", "--yes", "--include-admin", "-o", "json")
			rep = prunedReport{}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
				t.Fatalf("--include-admin: exit %d, %v\n%s%s", code, err, out, errOut)
			}
			var got []string
			for _, res := range rep.Results {
				got = append(got, res.Status+" "+res.Protection)
			}
			slices.Sort(got)
			if want := []string{"protected the key in use", "retired "}; !slices.Equal(got, want) || rep.Retired != 1 || rep.Protected != 1 {
				t.Errorf("--include-admin: %q, want %q\n%s", got, want, out)
			}
			if _, _, code := admin(t, "", "get", n+"-admin"); code != exitNotFound {
				t.Errorf("the other admin token is still there (get: exit %d)", code)
			}
			if len(blocked()) > 0 {
				t.Errorf("deletes of tokens not made here: %q", blocked())
			}
		})
	}
}

// TestPruneHelpNamesIncludeAdmin: prune --help says what is protected and
// names the flag that lets admin tokens go.
func TestPruneHelpNamesIncludeAdmin(t *testing.T) {
	srv := unleashtest.NewTestServer(t)
	help := mustRun(t, inProcess(srv.URL(), srv.AdminKey()), "", "prune", "--help")
	for _, s := range []string{"-include-admin", "retire admin tokens too (never the key in use)", "Protected, and never retired: the token of the API key in use"} {
		if !strings.Contains(help, s) {
			t.Errorf("prune --help lacks %q:\n%s", s, help)
		}
	}
	checkWidth(t, []string{"prune", "--help"}, help)
}

// TestAuditStalledRotation: audit reports a token still used over
// --stalled-after (a day by default) after a newer one of its name and
// scope was made, as a table with its last use and in JSON; --fail-on
// stalled-rotation exits 9.
func TestAuditStalledRotation(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	seen := now.Add(-time.Hour)
	seed := func(created time.Duration) unleashtest.Token {
		return unleashtest.Token{TokenName: "checkout", Type: "client", Environment: "production", Projects: []string{"default"},
			CreatedAt: now.Add(created), SeenAt: &seen}
	}
	srv := unleashtest.NewTestServer(t, unleashtest.WithTokens(seed(-30*24*time.Hour), seed(-2*24*time.Hour)))
	for name, r := range runners(t, srv.URL(), srv.AdminKey()) {
		out, errOut, code := r(t, "", "audit", "--fail-on", "stalled-rotation")
		if code != exitFindings || !strings.Contains(errOut, "found stalled-rotation") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
		}
		if want := "\nstalled-rotation (1): still used over 1d after a newer one of their scope\n"; !strings.Contains(out, want) ||
			!strings.Contains(out, "LAST SEEN") || !strings.Contains(out, seen.Format(time.DateOnly)) {
			t.Errorf("%s: the table:\n%s", name, out)
		}
		checkWidth(t, []string{"audit"}, out)
		var rep struct {
			Findings []struct {
				Kind   string
				Reason string
				Token  struct{ CreatedAt time.Time }
			}
		}
		out, _, _ = r(t, "", "audit", "-o", "json")
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		var stalled []string
		for _, f := range rep.Findings {
			if f.Kind == "stalled-rotation" {
				stalled = append(stalled, f.Reason)
				if !f.Token.CreatedAt.Equal(now.Add(-30 * 24 * time.Hour).Truncate(time.Millisecond)) {
					t.Errorf("%s: the stalled token is the newer one: %+v", name, f)
				}
			}
		}
		if len(stalled) != 1 || !strings.HasPrefix(stalled[0], "still used "+seen.Format(time.RFC3339)+", 47h after a newer token of this name and scope (") {
			t.Errorf("%s: stalled rotations %q", name, stalled)
		}
		if out := mustRun(t, r, "", "audit", "--stalled-after", "3d"); strings.Contains(out, "stalled-rotation") {
			t.Errorf("%s: --stalled-after 3d:\n%s", name, out)
		}
		if _, errOut, code := r(t, "", "audit", "--stalled-after", "0s"); code != exitUsage || !strings.Contains(errOut, "--stalled-after must be positive") {
			t.Errorf("%s: --stalled-after 0s: exit %d, %q", name, code, errOut)
		}
	}
}
