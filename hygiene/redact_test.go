package hygiene_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
)

// TestNothingPrintsASecret renders every exported type of the package that
// holds a token or secret, as real calls return them, with every fmt verb,
// both slog handlers and json.Marshal, and looks for the secrets' random
// parts.
func TestNothingPrintsASecret(t *testing.T) {
	t.Parallel()
	now := t0
	f := newFake(t,
		tok("never", now.Add(-2*day), projects("*")),
		tok("unused", now.Add(-90*day), seen(now.Add(-60*day))),
		tok("expired", now.Add(-9*day), expires(now.Add(-day))),
		tok("expiring", now.Add(-9*day), seen(now), expires(now.Add(day))),
		tok("dup", now.Add(-9*day), seen(now)),
		tok("dup", now.Add(-8*day), seen(now), typed("backend")),
		tok("failing", now.Add(-9*day), expires(now.Add(-day))),
	)
	f.failDel[f.tokens[6].Secret] = 500
	f.tokens[len(f.tokens)-1].ExpiresAt = unleashadmin.Ptr(now.Add(-day)) // the key: protected
	var randoms []string
	for _, tk := range f.tokens {
		_, r, _ := strings.Cut(tk.Secret, ".")
		randoms = append(randoms, r[4:]) // the four shown characters aside
	}
	clk := func() time.Time { return now }
	ctx := context.Background()

	report, err := hygiene.Audit(ctx, f.client(), hygiene.AuditOptions{Now: clk})
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Findings) < 7 {
		t.Fatalf("only %d findings", len(report.Findings))
	}
	pruned, err := hygiene.Prune(ctx, f.client(), hygiene.PruneOptions{Key: fakeKey, Expired: true, Apply: true, Now: clk})
	if !errors.Is(err, hygiene.ErrPruneIncomplete) || pruned.Count(hygiene.StatusProtected) != 1 {
		t.Fatalf("prune: %v %v", pruned, err)
	}
	var secrets []string
	for _, tk := range f.tokens {
		secrets = append(secrets, tk.Secret)
	}
	checked, err := hygiene.Check(ctx, keyless(t, f.srv.URL), append(secrets, "*:*."+strings.Repeat("9", 56)))
	if err != nil {
		t.Fatal(err)
	}
	randoms = append(randoms, strings.Repeat("9", 52))

	values := map[string]any{
		"Report":      *report,
		"*Report":     report,
		"Finding":     report.Findings[0],
		"PruneReport": *pruned,
		"PruneResult": pruned.Results[0],
		"CheckReport": *checked,
		"SecretFile":  hygiene.SecretFile{Name: "x", Secret: secrets[0]},
		"PruneOptions": hygiene.PruneOptions{Key: fakeKey, Expired: true, UnusedFor: 90 * day, NamePrefix: "ci-",
			Now: clk, Progress: func(hygiene.PruneResult) {}},
	}
	for name, v := range values {
		var out bytes.Buffer
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		fmt.Fprintln(&out, v)
		slog.New(slog.NewTextHandler(&out, nil)).Info("m", "v", v)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("m", "v", v)
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		out.Write(b)
		for _, r := range randoms {
			if strings.Contains(out.String(), r) {
				t.Errorf("%s shows a secret:\n%s", name, out.String())
				break
			}
		}
		if out.Len() < 200 && name != "SecretFile" && name != "PruneOptions" {
			t.Errorf("%s printed almost nothing: %s", name, out.String())
		}
	}
}
