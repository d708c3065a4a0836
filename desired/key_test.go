package desired_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// The key's token: an admin token named "ci", legacy or in secure
// storage (where lists show only its selector).
const (
	ciLegacyKey = "*:*.c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1"
	ciSelector  = "CiKeySelector01234567a"
	ciSecureKey = "*:*.v2_" + ciSelector + "_c2VjcmV0LWNpLWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2h"
)

// TestApplyKeepsTheKeyInUse runs plan and apply with a client made from
// the key however a user spells it, and a file whose entry has the key's
// token name (of another scope, so that the token would be replaced) and a
// prune prefix matching it: the key stays, and the plan and the report say
// it is the key in use that protects it. The client knows its key: no
// option passes it.
func TestApplyKeepsTheKeyInUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, key string
		secure    bool
	}{
		{"Bearer K", "Bearer " + ciLegacyKey, false},
		{"bearer K", "bearer " + ciLegacyKey, false},
		{"space K", " " + ciLegacyKey, false},
		{"K space", ciLegacyKey + " ", false},
		{"secure key, listed by its selector", ciSecureKey, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secret := ciLegacyKey
			opts := []unleashtest.Option{}
			if tc.secure {
				secret = ciSecureKey
				opts = append(opts, unleashtest.WithSecureTokens())
			}
			opts = append(opts, unleashtest.WithTokens(unleashtest.Token{Secret: secret, TokenName: "ci", Type: "admin"}))
			f := newFixture(t, opts...)
			c, err := unleashadmin.NewClient(f.srv.URL(), tc.key, unleashadmin.WithRetryMax(0), unleashadmin.WithHTTPClient(f.srv.Client()))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			file := f.parse("tokens: [{name: ci, type: client}]\nprune: {namePrefix: c}")
			p, err := desired.NewPlan(ctx, c, file, desired.Options{Now: f.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			mustEqual(t, "plan", summary(p), []string{"replace ci"})
			a := p.Actions[0]
			if !a.Token.Matches(secret) || a.Protected != unleashadmin.ProtectedKeyInUse || !strings.Contains(a.Reason, "the old token stays: the key in use") {
				t.Fatalf("plan: %v", a)
			}
			if tc.secure && a.Token.Secret != ciSelector {
				t.Fatalf("listed as %s, want the selector", a.Token.Secret)
			}
			sink := &recorder{}
			res, err := p.Apply(ctx, desired.ApplyOptions{Sink: sink})
			if err != nil {
				t.Fatal(err)
			}
			o := res.Outcomes[0]
			if !o.Done || !o.Delivered || o.Retired {
				t.Fatalf("outcome %v", o)
			}
			if _, ok := f.has(secret); !ok {
				t.Fatal("the key in use was retired")
			}
			if _, err := c.ListAPITokens(ctx); err != nil {
				t.Fatalf("the key no longer works: %v", err)
			}
			b, err := json.Marshal(res)
			if err != nil || !strings.Contains(string(b), `"protected":"the key in use"`) {
				t.Errorf("the report does not say what protects the key: %s %v", b, err)
			}
			// The next plan keeps both: the new token, and the key.
			p, err = desired.NewPlan(ctx, c, file, desired.Options{Now: f.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			if !p.Empty() || len(p.Actions) != 2 {
				t.Fatalf("second plan: %v", p)
			}
		})
	}
}
