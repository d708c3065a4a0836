package desired

import (
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
)

// A sink is the record of delivery only with a secret that authenticates:
// a bare selector (which lists and tables print) or a near miss is not one.
func TestSinkHolds(t *testing.T) {
	t.Parallel()
	sel := "AbCdEfGhIjKlMnOpQrStUv"
	v2 := "default:development.v2_" + sel + "_" + strings.Repeat("k", 43)
	legacy := "default:development." + strings.Repeat("ab", 28)
	secure := &unleashadmin.APIToken{Secret: sel, Secure: true}
	old := &unleashadmin.APIToken{Secret: legacy}
	for _, tc := range []struct {
		tok  *unleashadmin.APIToken
		held string
		want bool
	}{
		{secure, v2, true},
		{secure, sel, false},
		{secure, v2 + "\n", false},
		{secure, "default:development.v2_" + sel + "_short", false},
		{old, legacy, true},
		{old, legacy[:len(legacy)-1], false},
		{old, strings.ToUpper(legacy), false},
		{old, "", false},
	} {
		if got := sinkHolds(tc.tok, tc.held); got != tc.want {
			t.Errorf("sinkHolds(%s, %q) = %t, want %t", tc.tok.Secret, unleashadmin.RedactSecret(tc.held), got, tc.want)
		}
	}
}
