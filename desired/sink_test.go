package desired_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

func token(name, secret string) unleashadmin.APIToken {
	return unleashadmin.APIToken{TokenName: name, Secret: secret, Type: unleashadmin.TokenTypeBackend,
		Environment: "production", Projects: []string{"b", "a"}, Project: "a,b"}
}

const secretA = "[]:production.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
const secretB = "[]:production.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

func TestDirSinkWritesAtomicallyWithTightModes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "secrets", "unleash")
	sink := desired.DirSink{Dir: dir}
	if err := sink.Deliver(context.Background(), token("checkout", secretA)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir() {
		t.Fatalf("dir: %v, %v", fi.Mode(), err)
	}
	path := filepath.Join(dir, "checkout")
	fi, err = os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("file: %v, %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(path); string(b) != secretA+"\n" {
		t.Fatalf("file holds %q", b)
	}

	// A reader sees one whole secret or the other while it is replaced.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			b, err := os.ReadFile(path)
			if err != nil || (string(b) != secretA+"\n" && string(b) != secretB+"\n") {
				bad.Store(string(b) + " " + errString(err))
				return
			}
		}
	}()
	for i := range 200 {
		s := secretA
		if i%2 == 0 {
			s = secretB
		}
		if err := sink.Deliver(context.Background(), token("checkout", s)); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Fatalf("a reader saw %q", v)
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "checkout" {
		t.Fatalf("dir holds %v", ents)
	}
	// An existing directory is used as it is.
	if err := (desired.DirSink{Dir: dir}).Deliver(context.Background(), token("web", secretB)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "web")); string(b) != secretB+"\n" {
		t.Fatalf("web holds %q", b)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestDirSinkRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"../escape", "a/b", "..", ""} {
		err := desired.DirSink{Dir: dir}.Deliver(context.Background(), token(name, secretA))
		if err == nil || strings.Contains(err.Error(), secretA) {
			t.Errorf("%q: %v", name, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("wrote %v", ents)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
		t.Fatal("wrote outside the directory")
	}
	if err := (desired.DirSink{}).Deliver(context.Background(), token("a", secretA)); err == nil {
		t.Error("no directory: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (desired.DirSink{Dir: dir}).Deliver(ctx, token("a", secretA)); !errors.Is(err, context.Canceled) {
		t.Errorf("ended context: %v", err)
	}
	// A directory that cannot be made is an error.
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (desired.DirSink{Dir: filepath.Join(blocker, "sub")}).Deliver(context.Background(), token("a", secretA)); err == nil {
		t.Error("dir under a file: no error")
	}
}

// TestExecSinkEnvironmentAndStdin sets UNLEASH_API_TOKEN in the process
// environment, so it does not run in parallel.
func TestExecSinkEnvironmentAndStdin(t *testing.T) {
	t.Setenv("UNLEASH_API_TOKEN", "*:*.the-admin-key-must-not-reach-the-command")
	t.Setenv("UNLEASH_TOKEN_NAME", "stale")
	t.Setenv("DESIRED_TEST_KEPT", "yes")
	dir := t.TempDir()
	cmd := `cat > "$OUT/stdin"; env > "$OUT/env"`
	sink := desired.ExecSink{Command: "OUT='" + dir + "'; " + cmd}
	if err := sink.Deliver(context.Background(), token("checkout", secretA)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "stdin")); string(b) != secretA {
		t.Fatalf("stdin %q", b)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "env"))
	env := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			env[k] = v
		}
	}
	for k, want := range map[string]string{
		"UNLEASH_TOKEN_NAME": "checkout", "UNLEASH_TOKEN_TYPE": "backend", "UNLEASH_TOKEN_ENVIRONMENT": "production",
		"UNLEASH_TOKEN_PROJECTS": "a,b", "DESIRED_TEST_KEPT": "yes",
	} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
	if _, ok := env["UNLEASH_API_TOKEN"]; ok {
		t.Error("the command got UNLEASH_API_TOKEN")
	}
	if strings.Contains(string(b), secretA) {
		t.Error("the secret is in the command's environment")
	}
}

func TestExecSinkFailure(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	sink := desired.ExecSink{Command: `echo "refused $(cat)" >&2; exit 3`, Stderr: &out}
	err := sink.Deliver(context.Background(), token("checkout", secretA))
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || strings.Contains(err.Error(), secretA) {
		t.Fatalf("got %v", err)
	}
	if out.String() != "refused "+unleashadmin.RedactSecret(secretA)+"\n" {
		t.Fatalf("stderr %q", out.String())
	}
	if err := (desired.ExecSink{Command: " "}).Deliver(context.Background(), token("a", secretA)); err == nil {
		t.Error("empty command: no error")
	}
}

func TestExecSinkEndsWithTheContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "late")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	// A child in the background holds the output pipe open and would
	// write the marker later if it were not killed with the shell.
	var out bytes.Buffer
	sink := desired.ExecSink{Command: `(sleep 2; touch '` + marker + `') & sleep 30`, Stdout: &out}
	err := sink.Deliver(ctx, token("a", secretA))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v", d)
	}
	time.Sleep(2500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command's child outlived the context")
	}
}

func TestExecSinkThroughApply(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := f.seed("x", unleashadmin.TokenTypeClient, "development", nil, time.Hour)
	dir := t.TempDir()
	file := f.parse("tokens: [{name: x, type: client, renewBefore: 2h}, {name: y, type: frontend, projects: [a]}]")
	// The command refuses x, takes y.
	sink := desired.ExecSink{Command: `[ "$UNLEASH_TOKEN_NAME" = y ] && cat > '` + dir + `'/"$UNLEASH_TOKEN_NAME"`}
	res, err := f.plan(file, f.opts()).Apply(context.Background(), desired.ApplyOptions{Sink: sink})
	if !errors.Is(err, unleashadmin.ErrNotDelivered) {
		t.Fatalf("got %v", err)
	}
	if toks := f.named("x"); len(toks) != 1 || toks[0].Secret != old.Secret {
		t.Fatalf("x: %+v", toks)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "y"))
	if toks := f.named("y"); len(toks) != 1 || toks[0].Secret != string(b) || !res.Outcomes[1].Done {
		t.Fatalf("y: %+v, delivered %q", toks, b)
	}
}
