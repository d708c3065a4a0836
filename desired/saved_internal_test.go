package desired

import (
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// TestFingerprint: a fingerprint changes with everything a plan relies on
// (a token's secret or selector, its scope, creation and expiry), not
// with what it does not (seenAt), and leaves a secret that may be
// guessable out: two tokens alike but for such a secret share one.
func TestFingerprint(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	base := unleashadmin.APIToken{Secret: "default:production.d17fe70d59b3a1f7d63a5f3f0f7e5c2c8a6b1e4d9f2a7c3b5e8d1f6a", TokenName: "checkout",
		Type: "client", Environment: "production", Project: "default", Projects: []string{"default"}, CreatedAt: at}
	fp := fingerprint(&base)
	if !isFingerprint(fp) {
		t.Fatalf("%q is not a fingerprint", fp)
	}
	differs := map[string]func(t *unleashadmin.APIToken){
		"secret":      func(t *unleashadmin.APIToken) { t.Secret = t.Secret[:len(t.Secret)-1] + "b" },
		"name":        func(t *unleashadmin.APIToken) { t.TokenName = "checkout2" },
		"type":        func(t *unleashadmin.APIToken) { t.Type = "frontend" },
		"environment": func(t *unleashadmin.APIToken) { t.Environment = "development" },
		"projects":    func(t *unleashadmin.APIToken) { t.Projects = []string{"default", "a"} },
		"createdAt":   func(t *unleashadmin.APIToken) { t.CreatedAt = at.Add(time.Millisecond) },
		"expiresAt":   func(t *unleashadmin.APIToken) { t.ExpiresAt = unleashadmin.Ptr(at.Add(time.Hour)) },
	}
	for what, change := range differs {
		tok := base
		change(&tok)
		if fingerprint(&tok) == fp {
			t.Errorf("a change of %s keeps the fingerprint", what)
		}
	}
	seen := base
	seen.SeenAt = unleashadmin.Ptr(at)
	if fingerprint(&seen) != fp {
		t.Error("a use changes the fingerprint")
	}
	// Under secure token storage, the selector tells tokens apart.
	sel := base
	sel.Secure, sel.Secret = true, "AbCdEfGhIjKlMnOpQrStUv"
	other := sel
	other.Secret = "AbCdEfGhIjKlMnOpQrStUw"
	if fingerprint(&sel) == fingerprint(&other) || fingerprint(&sel) == fp {
		t.Error("selectors do not tell tokens apart")
	}
	// A secret chosen by hand is left out.
	weak := base
	weak.Secret = "default:production.unleash-insecure-api-token"
	weak2 := weak
	weak2.Secret = "default:production.hunter2"
	if fingerprint(&weak) != fingerprint(&weak2) {
		t.Error("a guessable secret is in the fingerprint")
	}
	for _, tc := range []struct {
		secret string
		made   bool
	}{
		{base.Secret, true},
		{"*:*.unleash-insecure-admin-api-token", false},
		{"default:production." + "0123456789abcdef0123456789abcdef", true},
		{"default:production." + "0123456789abcdef0123456789abcde", false},
		{"", false},
	} {
		if got := madeSecret(tc.secret); got != tc.made {
			t.Errorf("madeSecret(%q) = %v", tc.secret, got)
		}
	}
}
