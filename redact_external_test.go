package unleashadmin_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
)

// TestRedactErrorDropsWhatItCannotClean gives RedactError (and the
// client's) an error that shows a secret in forms an exact replace cannot
// take out: cut short, split by a line break, \u-escaped. The text is
// dropped, as RedactText drops it, and errors.Is still sees the original.
// Found in package desired: a sink's error holding the secret cut to 40
// characters came through RedactError unchanged.
func TestRedactErrorDropsWhatItCannotClean(t *testing.T) {
	t.Parallel()
	secret := "*:development." + strings.Repeat("5e1f", 14)
	c, err := unleashadmin.NewClient("https://unleash.example.com", "*:*."+strings.Repeat("a1b2", 14))
	if err != nil {
		t.Fatal(err)
	}
	var u strings.Builder
	for _, r := range secret {
		fmt.Fprintf(&u, `\u%04x`, r)
	}
	for name, echo := range map[string]string{
		"exact":       secret,
		"upper-cased": strings.ToUpper(secret),
		"cut to 40":   secret[:40],
		"line break":  secret[:30] + "\n" + secret[30:],
		`\u-escaped`:  u.String(),
	} {
		orig := fmt.Errorf("the vault refused %s: %w", echo, context.DeadlineExceeded)
		for how, got := range map[string]error{
			"RedactError":        unleashadmin.RedactError(orig, secret),
			"Client.RedactError": c.RedactError(orig, secret),
		} {
			if strings.Contains(got.Error(), echo) || unleashadmin.RedactText(got.Error(), secret) != got.Error() {
				t.Errorf("%s, %s: %q", name, how, got)
			}
			if !errors.Is(got, context.DeadlineExceeded) || errors.Unwrap(got) != nil {
				t.Errorf("%s, %s: the redacted error does not answer errors.Is as the original, or unwraps to it", name, how)
			}
		}
	}
}
