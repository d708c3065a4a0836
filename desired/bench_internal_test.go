package desired

import (
	"fmt"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// BenchmarkPlanOnly is the planning of BenchmarkPlan500Entries2000Tokens
// without the list request: 500 entries against 2,000 tokens in memory.
// It is the package's own share of a plan.
func BenchmarkPlanOnly(b *testing.B) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f := &File{Prune: PruneRule{NamePrefix: "svc-"}}
	var toks []unleashadmin.APIToken
	tok := func(name string, typ unleashadmin.TokenType, env string, projects []string) {
		ps := projects
		if ps == nil {
			ps = []string{"*"}
		}
		toks = append(toks, unleashadmin.APIToken{Secret: fmt.Sprintf("x:%s.%056d", env, len(toks)), TokenName: name,
			Type: typ, Environment: env, Projects: ps, CreatedAt: now.Add(-time.Duration(len(toks)) * time.Minute)})
	}
	for i := range 500 {
		name := fmt.Sprintf("svc-%03d", i)
		projects := [][]string{nil, {"a"}, {"a", "b"}}[i%3]
		f.Tokens = append(f.Tokens, Entry{Name: name, Type: unleashadmin.TokenTypeBackend, Environment: "production",
			Projects: projects, RenewBefore: 14 * 24 * time.Hour})
		tok(name, unleashadmin.TokenTypeClient, "production", projects)
		tok(name, unleashadmin.TokenTypeFrontend, "development", projects)
	}
	for i := range 1000 {
		prefix := "other-"
		if i%2 == 0 {
			prefix = "svc-old-"
		}
		tok(fmt.Sprintf("%s%04d", prefix, i), unleashadmin.TokenTypeClient, "development", nil)
	}
	if err := f.Validate(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var acts []Action
	for b.Loop() {
		acts = plan(f, toks, nil, now, "development", Options{}, nil)
	}
	if len(acts) != 1500 {
		b.Fatalf("%d actions", len(acts))
	}
}
