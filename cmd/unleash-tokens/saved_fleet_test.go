package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// TestFleetSavedPlan drives a fleet's saved plan as a built binary over
// three stand-ins: plan -out writes one plan file of every instance, with
// no secret and no key in it; a token of one of its names made on one
// instance after the plan makes apply PLANFILE refuse that instance alone
// (exit 11, nothing sent to it but reads) and apply the others as
// planned; an instance that could not be planned is saved marked failed,
// skipped by apply (exit 10, which wins over 11); a plan file edited by
// hand is refused before anything is sent anywhere; --instance narrows.
func TestFleetSavedPlan(t *testing.T) {
	t.Parallel()
	sf := newStandinFleet(t, []string{"eu", "us", "staging"}, "us")
	r := binaryWith(t, sf.vars)
	dir := t.TempDir()
	file := filepath.Join(dir, "fleet.yaml")
	writeFile(t, file, sf.instances()+`tokens:
  - {name: checkout, type: client, environment: development}
  - {name: storefront, type: frontend, environment: development, instances: [eu, us]}
`)
	secrets := filepath.Join(dir, "secrets")
	ctx := context.Background()
	newToken := func(instance, name, env string) {
		t.Helper()
		c, err := unleashadmin.NewClient(sf.srv[instance].URL(), sf.srv[instance].AdminKey())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name, Environment: env}); err != nil {
			t.Fatal(err)
		}
		c.CloseIdleConnections()
	}
	// A token of checkout on eu before the plan: its secret must not be
	// in the plan file.
	newToken("eu", "checkout", "development")
	plan1 := filepath.Join(dir, "plan1.json")
	out, errOut, code := r(t, "", "plan", "-f", file, "--deliver-dir", secrets, "-out", plan1)
	if code != exitOK || errOut != "" {
		t.Fatalf("plan: exit %d: %s", code, errOut)
	}
	data := mustRead(t, plan1)
	for _, s := range sf.srv {
		for _, tok := range s.Tokens() {
			if strings.Contains(data, randomOfSecret(tok.Secret)) {
				t.Fatalf("the plan file holds a secret")
			}
		}
	}
	for _, key := range sf.vars {
		if strings.Contains(data, key) {
			t.Fatalf("the plan file holds a key")
		}
	}
	for _, want := range []string{`"tokenEnv": "KEY_US"`, `"instance": "staging"`, `"checksum": "sha256:`} {
		if !strings.Contains(data, want) {
			t.Errorf("the plan file lacks %s:\n%s", want, data)
		}
	}
	// Without the desired-state file nothing is applied: where the keys
	// go never comes from a plan file.
	if _, errOut, code := r(t, "", "apply", plan1, "--deliver-dir", secrets); code != exitUsage || !strings.Contains(errOut, "never from the plan file") {
		t.Errorf("apply PLANFILE without -f: exit %d, %q", code, errOut)
	}
	// A token of checkout made on us after the plan: us is stale.
	newToken("us", "checkout", "production")
	before := sf.srv["us"].RequestCount()
	out, errOut, code = r(t, "", "apply", "-f", file, plan1, "--deliver-dir", secrets)
	// Under secure token storage eu's checkout, made before, cannot be
	// delivered: a note, not a failure.
	secure := os.Getenv("UNLEASH_STANDIN_SECURE") == "1"
	if code != exitStale || !strings.Contains(errOut, "instance us: the saved plan is stale") || !secure && strings.Contains(errOut, "instance eu") ||
		!strings.Contains(out, "eu: applied: 2 of 2 actions done.") || !strings.Contains(out, "staging: applied: 1 of 1 actions done.") ||
		!strings.Contains(out, "us: not applied, nothing was changed") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, req := range sf.srv["us"].Requests()[before:] {
		if req.Method != "GET" {
			t.Errorf("us was sent %s %s", req.Method, req.Path)
		}
	}
	if n := len(sf.named("us", "checkout")); n != 1 {
		t.Errorf("us: %d tokens of checkout", n)
	}
	if _, err := os.Stat(filepath.Join(secrets, "us", "checkout")); err == nil {
		t.Error("a secret delivered for us")
	}
	for _, p := range []string{"eu/checkout", "eu/storefront", "staging/checkout"} {
		if _, err := os.Stat(filepath.Join(secrets, p)); err != nil && !(secure && p == "eu/checkout") {
			t.Errorf("%s: %v", p, err)
		}
	}
	if n := len(sf.named("eu", "checkout")); n != 1 {
		t.Errorf("eu: %d tokens of checkout: the plan delivered one, as printed", n)
	}
	// A new plan, with staging failing to answer: saved marked failed.
	sf.srv["staging"].FailNext(1000, unleashtest.Fault{Status: 500, Body: []byte(`{"name":"UnknownError","message":"db down"}`)})
	plan2 := filepath.Join(dir, "plan2.json")
	_, errOut, code = r(t, "", "plan", "-f", file, "--deliver-dir", secrets, "-out", plan2)
	sf.srv["staging"].ClearFaults()
	if code == exitOK || !strings.Contains(errOut, "instance staging") || !strings.Contains(mustRead(t, plan2), `"error": "reading the tokens: `) {
		t.Fatalf("plan with staging down: exit %d: %s", code, errOut)
	}
	// --dry-run: us would be applied, staging was not planned.
	out, errOut, code = r(t, "", "apply", "-f", file, "--dry-run", plan2, "--deliver-dir", secrets)
	if code != exitPartial || !strings.Contains(out, "us        replace  checkout") || !strings.Contains(errOut, "instance staging") {
		t.Fatalf("apply --dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	// --instance narrows: staging alone, not planned, is sent nothing.
	n := sf.requests()
	_, errOut, code = r(t, "", "apply", "-f", file, plan2, "--deliver-dir", secrets, "--instance", "staging")
	if code != exitPartial || !strings.Contains(errOut, "could not be planned") || sf.requests() != n {
		t.Fatalf("apply --instance staging: exit %d: %s", code, errOut)
	}
	// Edited by hand: refused before anything is sent anywhere.
	edited := filepath.Join(dir, "edited.json")
	text := strings.Replace(mustRead(t, plan2), `"replace"`, `"keep"`, 1)
	if text == mustRead(t, plan2) {
		t.Fatal("no replace to edit")
	}
	writeFile(t, edited, text)
	_, errOut, code = r(t, "", "apply", "-f", file, edited, "--deliver-dir", secrets)
	if code != exitUsage || !strings.Contains(errOut, "checksum does not match") || sf.requests() != n {
		t.Fatalf("edited: exit %d: %s", code, errOut)
	}
	// Applied: us as planned (its production token replaced), staging
	// skipped: exit 10.
	out, errOut, code = r(t, "", "apply", "-f", file, plan2, "--deliver-dir", secrets, "--instance", "us", "--instance", "staging")
	if code != exitPartial || !strings.Contains(out, "us: applied:") || !strings.Contains(errOut, "instance staging") {
		t.Fatalf("apply plan2: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := sf.named("us", "checkout"); len(got) != 1 || got[0].Environment != "development" {
		t.Errorf("us: %+v", got)
	}
	// Mistakes exit 2 and send nothing: an --instance the plan lacks, a
	// server flag, a missing key.
	n = sf.requests()
	for _, args := range [][]string{
		{"apply", "-f", file, plan2, "--deliver-dir", secrets, "--instance", "mars"},
		{"apply", "-f", file, plan2, "--deliver-dir", secrets, "--url", sf.srv["eu"].URL()},
		{"apply", plan2},
	} {
		if _, errOut, code := r(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
		}
	}
	noKey := binaryWith(t, map[string]string{"KEY_EU": sf.vars["KEY_EU"]})
	if _, errOut, code := noKey(t, "", "apply", "-f", file, plan2, "--deliver-dir", secrets); code != exitUsage || !strings.Contains(errOut, "instance us: its key is missing") {
		t.Errorf("no key: exit %d: %s", code, errOut)
	}
	if sf.requests() != n {
		t.Errorf("mistakes sent %d requests", sf.requests()-n)
	}
}

// randomOfSecret is what of a secret must never be shown: the part after
// a v2 secret's selector (which base64url may fill with '_' and '-'), or
// after a legacy secret's last '.'.
func randomOfSecret(secret string) string {
	if _, ok := unleashadmin.Selector(secret); ok {
		return secret[len(secret)-43:]
	}
	return secret[strings.LastIndexByte(secret, '.')+1:]
}
