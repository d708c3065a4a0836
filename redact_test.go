package unleashadmin

import (
	"strings"
	"testing"
)

func TestRedactSecretN(t *testing.T) {
	t.Parallel()
	v2 := "default:production.v2_" + strings.Repeat("S", 22) + "_" + strings.Repeat("x", 20) + strings.Repeat("y", 23)
	tests := []struct {
		secret string
		n      int
		want   string
	}{
		{"", 8, ""},
		{"short", 8, "***"},
		{"a.b", 8, "***"},
		{secretA, 8, "default:development.d17fe70d***"},
		{secretA, 4, RedactSecret(secretA)},
		{secretA, 1, RedactSecret(secretA)},                                       // never fewer than RedactSecret shows
		{secretA, 100, "default:development." + randomPart(secretA)[:28] + "***"}, // never more than half
		{"*:*.unleash-insecure-admin-api-token", 8, "*:*.unleash-***"},
		{"*:*.unleash-insecure-admin-api-token", 20, "*:*.unleash-insecure***"}, // half of 32
		{v2, 30, "default:production.v2_" + strings.Repeat("S", 22) + "_" + strings.Repeat("x", 20) + "y***"},
	}
	for _, tt := range tests {
		if got := RedactSecretN(tt.secret, tt.n); got != tt.want {
			t.Errorf("RedactSecretN(%q, %d) = %q, want %q", RedactSecret(tt.secret), tt.n, got, tt.want)
		}
	}
}
