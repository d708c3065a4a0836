package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// TestApplyKeepsTheKeyInEverySpelling: with UNLEASH_API_TOKEN set to
// "Bearer K", "bearer K", " K" or "K ", apply of a file whose entry has the
// name of the key's own token (of another type, so that the entry would
// replace it) makes the entry's token beside it and never retires the key:
// the plan and the report name it as protected, and the key still works
// after every run. Against the stand-in, and against a real server when
// UNLEASH_URL and UNLEASH_API_TOKEN are set. (The key of secure token
// storage, listed by its selector, is tested in package desired against
// the stand-in: Unleash makes no admin token in that mode.)
func TestApplyKeepsTheKeyInEverySpelling(t *testing.T) {
	url, key := server(t)
	ctx := context.Background()
	c, err := unleashadmin.NewClient(url, key)
	if err != nil {
		t.Fatal(err)
	}
	own, err := c.LookupAPIToken(ctx, key)
	if err != nil {
		t.Fatalf("the key's own token: %v", err)
	}
	// Whatever the runs make under the key's name (client tokens) goes
	// when the test ends; the key itself is never touched.
	t.Cleanup(func() {
		toks, err := c.GetAPITokensByName(ctx, own.TokenName)
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		for _, tok := range toks {
			if !c.IsKey(tok) && tok.IsType(unleashadmin.TokenTypeClient) {
				if err := c.DeleteAPIToken(ctx, tok.Secret); err != nil {
					t.Errorf("cleanup: %v", err)
				}
			}
		}
	})
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens.yaml")
	if err := os.WriteFile(file, []byte("tokens:\n  - name: "+strconv.Quote(own.TokenName)+"\n    type: client\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, spelling := range []string{"Bearer " + key, "bearer " + key, " " + key, key + " "} {
		r := binary(t, url, spelling)
		out, errOut, code := r(t, "", "apply", "-f", file, "--deliver-dir", filepath.Join(dir, "out"), "-o", "json")
		if code != exitOK {
			t.Fatalf("spelling %d: apply exit %d: %s", i, code, errOut)
		}
		var res struct {
			Outcomes []struct {
				Action, Status string
				Protection     *string
				Token          *struct{ TokenName, Type string }
				Retired        bool
			}
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("spelling %d: %v:\n%s", i, err, out)
		}
		protected := 0
		for _, o := range res.Outcomes {
			if o.Token == nil || o.Token.Type != "admin" {
				continue
			}
			if o.Retired || o.Protection == nil || *o.Protection != string(unleashadmin.ProtectedKeyInUse) {
				t.Errorf("spelling %d: the key's token: %+v", i, o)
			}
			protected++
		}
		if protected != 1 {
			t.Errorf("spelling %d: the key's token is in %d outcomes, want 1:\n%s", i, protected, out)
		}
		// The key still works, and is still listed.
		if _, err := c.LookupAPIToken(ctx, key); err != nil {
			t.Fatalf("spelling %d: after apply the key %v", i, err)
		}
	}
}

// TestCreateRefusesAnEmptyProject: "--project $PROJ" with PROJ unset must
// not make an all-projects token; nothing is sent.
func TestCreateRefusesAnEmptyProject(t *testing.T) {
	srv := standin(t)
	r := inProcess(srv.URL(), srv.AdminKey())
	for _, p := range []string{"", " ", "a,", ","} {
		_, errOut, code := r(t, "", "create", "--type", "client", "--name", "wide", "--project", p)
		if code != exitUsage || !strings.HasPrefix(errOut, "unleash-tokens create: ") {
			t.Errorf("--project %q: exit %d, %q", p, code, errOut)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// TestExpireAndDeleteGuardTheKeyInUse: expire and delete refuse the token
// of the key the command runs with, however it is spelt, unless asked with
// --own-key; nothing is changed.
func TestExpireAndDeleteGuardTheKeyInUse(t *testing.T) {
	srv := standin(t)
	for _, spelling := range []string{srv.AdminKey(), "Bearer " + srv.AdminKey()} {
		r := inProcess(srv.URL(), spelling)
		for _, args := range [][]string{{"expire", "--at", "+1h", "-"}, {"delete", "-"}} {
			_, errOut, code := r(t, srv.AdminKey()+"\n", args...)
			if code != exitUsage || !strings.Contains(errOut, "--own-key") {
				t.Errorf("%v: exit %d, %q", args, code, errOut)
			}
		}
	}
	for _, req := range srv.Requests() {
		if req.Method != "GET" {
			t.Errorf("sent %s %s", req.Method, req.Path)
		}
	}
	r := inProcess(srv.URL(), srv.AdminKey())
	mustRun(t, r, srv.AdminKey()+"\n", "expire", "--at", "+1h", "--own-key", "-")
}

// TestSelectorStartingWithADash: a selector of secure token storage may
// start with "-" (base64url); given as the SECRET argument it is the
// argument, not an unknown flag.
func TestSelectorStartingWithADash(t *testing.T) {
	sel := "-dashFirst0123456789ab"
	secret := "default:development.v2_" + sel + "_" + strings.Repeat("s", 43)
	srv := unleashtest.NewTestServer(t, unleashtest.WithSecureTokens(),
		unleashtest.WithTokens(unleashtest.Token{Secret: secret, TokenName: "dash", Type: "client"}))
	for name, r := range runners(t, srv.URL(), srv.AdminKey()) {
		out, errOut, code := r(t, "", "expire", sel, "--at", "+1h", "-o", "json")
		if code != exitOK || !strings.Contains(out, `"found": true`) {
			t.Errorf("%s: expire %s: exit %d, %s%s", name, sel, code, out, errOut)
		}
	}
}
