package desired_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// BenchmarkPlan500Entries2000Tokens plans a file of 500 entries against a
// stand-in holding 2,000 tokens: per entry a matching token and one of
// another scope (1,000), and 1,000 of names the file does not list, half
// of them with its prune prefix. It reports the requests per plan, which
// must be the one list.
func BenchmarkPlan500Entries2000Tokens(b *testing.B) {
	srv := unleashtest.NewTestServer(b, unleashtest.WithTokenLimit(2001), unleashtest.WithProjects("default", "a", "b"))
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	mk := func(name string, typ unleashadmin.TokenType, env string, projects []string) {
		if _, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: typ, TokenName: name, Environment: env, Projects: projects}); err != nil {
			b.Fatal(err)
		}
	}
	var sb strings.Builder
	sb.WriteString("tokens:\n")
	for i := range 500 {
		name := fmt.Sprintf("svc-%03d", i)
		projects := [][]string{nil, {"a"}, {"a", "b"}}[i%3]
		fmt.Fprintf(&sb, "  - name: %s\n    type: backend\n    environment: production\n    renewBefore: 14d\n", name)
		if projects != nil {
			fmt.Fprintf(&sb, "    projects: [%s]\n", strings.Join(projects, ", "))
		}
		mk(name, unleashadmin.TokenTypeBackend, "production", projects)
		mk(name, unleashadmin.TokenTypeFrontend, "development", projects)
	}
	sb.WriteString("prune:\n  namePrefix: svc-\n")
	for i := range 1000 {
		prefix := "other-"
		if i%2 == 0 {
			prefix = "svc-old-"
		}
		mk(fmt.Sprintf("%s%04d", prefix, i), unleashadmin.TokenTypeClient, "development", nil)
	}
	if n := len(srv.Tokens()); n != 2001 {
		b.Fatalf("%d tokens", n)
	}
	file, err := desired.Parse([]byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	opts := desired.Options{}
	before := srv.RequestCount()
	b.ReportAllocs()
	b.ResetTimer()
	var p *desired.Plan
	for i := 0; i < b.N; i++ {
		p, err = desired.NewPlan(ctx, c, file, opts)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sent := srv.Requests()[before:]
	for _, r := range sent {
		if r.Method != "GET" || r.Path != "/api/admin/api-tokens" {
			b.Fatalf("a plan sent %s %s", r.Method, r.Path)
		}
	}
	b.ReportMetric(float64(len(sent))/float64(b.N), "lists/op")
	if len(p.Actions) != 500+500+500 || p.Changes() != 1000 {
		b.Fatalf("%d actions, %d changes", len(p.Actions), p.Changes())
	}
}
