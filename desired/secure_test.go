package desired_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// TestApplyUnderSecureStorage runs the rules on a stand-in in secure token
// storage mode: lists show selectors, not secrets; backend stays backend;
// retires go through the selector.
func TestApplyUnderSecureStorage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, unleashtest.WithSecureTokens())
	rot := f.seed("rot", unleashadmin.TokenTypeBackend, "production", nil, 10*day)
	moved := f.seed("moved", unleashadmin.TokenTypeFrontend, "development", []string{"a"}, 0)
	dup := f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0)
	f.clk.Advance(time.Second)
	f.seed("dup", unleashadmin.TokenTypeClient, "development", nil, 0)
	ci := f.seed("svc-ci", unleashadmin.TokenTypeClient, "development", nil, 0)
	gone := f.seed("svc-gone", unleashadmin.TokenTypeClient, "development", nil, 0)
	for _, tok := range []unleashadmin.APIToken{rot, ci} {
		if _, ok := unleashadmin.Selector(tok.Secret); !ok {
			t.Fatalf("not a v2 secret: %s", tok.Redacted().Secret)
		}
	}
	file := f.parse(`tokens:
  - {name: rot, type: client, environment: production, renewBefore: 14d}
  - {name: moved, type: frontend, projects: [b]}
  - {name: dup, type: backend}
  - {name: fresh, type: client, expiresIn: 30d}
prune: {namePrefix: svc-}
`)
	opts := f.opts()
	opts.OwnKey = ci.Secret // the key in use, by its full secret
	p := f.plan(file, opts)
	mustEqual(t, "plan", summary(p), []string{"rotate rot", "replace moved", "keep dup", "retire dup", "create fresh", "keep svc-ci", "retire svc-gone"})
	// The plan knows the tokens by the selector the list showed.
	if sel, _ := unleashadmin.Selector(rot.Secret); p.Actions[0].Token.Secret != sel || !p.Actions[0].Token.Secure {
		t.Fatalf("rotated token listed as %v", p.Actions[0].Token)
	}

	observer, _ := observeLive(t, f, "rot", "moved", "dup")
	sink := &recorder{}
	res, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: sink, Observer: observer})
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []unleashadmin.APIToken{rot, moved, dup, gone} {
		if _, ok := f.has(old.Secret); ok {
			t.Errorf("%s was not retired", old.TokenName)
		}
	}
	if _, ok := f.has(ci.Secret); !ok {
		t.Error("the key in use was retired")
	}
	// Each delivered secret is the full one of a token the server holds.
	for name, secret := range sink.secrets() {
		tok, ok := f.has(secret)
		if !ok || tok.TokenName != name || !tok.Secure || !strings.Contains(secret, ".v2_") {
			t.Errorf("%s: delivered %s, server %+v", name, unleashadmin.RedactSecret(secret), tok)
		}
	}
	if len(sink.secrets()) != 3 {
		t.Errorf("delivered %d", len(sink.secrets()))
	}
	for _, o := range res.Outcomes {
		if !o.Done {
			t.Errorf("%v", o)
		}
	}
	if p := f.plan(file, opts); !p.Empty() {
		t.Fatalf("second plan: %v", p)
	}

	// A delivery failure deletes the new token (by its full secret) and
	// leaves the old one.
	before := f.named("fresh")
	f.clk.Advance(20 * day)
	file = f.parse("tokens: [{name: fresh, type: client, expiresIn: 30d, renewBefore: 14d}]")
	_, err = f.plan(file, opts).Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{fail: map[string]bool{"fresh": true}}})
	if err == nil || !slices.EqualFunc(before, f.named("fresh"), func(a, b unleashtest.Token) bool { return a.Secret == b.Secret }) {
		t.Fatalf("after a failed delivery: %v, %d tokens", err, len(f.named("fresh")))
	}

	// With a grace period the old token's expiry moves, through its
	// selector.
	opts.GracePeriod = time.Hour
	if _, err := f.plan(file, opts).Apply(context.Background(), desired.ApplyOptions{Sink: sink}); err != nil {
		t.Fatal(err)
	}
	old, _ := f.has(before[0].Secret)
	if old.ExpiresAt == nil || !old.ExpiresAt.Equal(f.clk.Now().Add(time.Hour)) {
		t.Fatalf("old token expires %v", old.ExpiresAt)
	}
	if p := f.plan(file, opts); !p.Empty() {
		t.Fatalf("plan after the grace rotation: %v", p)
	}
}
