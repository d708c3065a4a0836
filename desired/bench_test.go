package desired_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// planBench is the server, client and file of the plan benchmarks: a
// stand-in holding 2,000 tokens and a file of 500 entries, per entry a
// matching token and one of another scope (1,000), and 1,000 tokens of
// names the file does not list, half of them with its prune prefix.
type planBench struct {
	srv     *unleashtest.Server
	c       *unleashadmin.Client
	file    *desired.File
	matched map[string]string // each entry's matching token's secret
}

func newPlanBench(b *testing.B) *planBench {
	b.Helper()
	srv := unleashtest.NewTestServer(b, unleashtest.WithTokenLimit(2001), unleashtest.WithProjects("default", "a", "b"))
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey(), unleashadmin.WithHTTPClient(srv.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	mk := func(name string, typ unleashadmin.TokenType, env string, projects []string) string {
		tok, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: typ, TokenName: name, Environment: env, Projects: projects})
		if err != nil {
			b.Fatal(err)
		}
		return tok.Secret
	}
	pb := &planBench{srv: srv, c: c, matched: map[string]string{}}
	var sb strings.Builder
	sb.WriteString("tokens:\n")
	for i := range 500 {
		name := fmt.Sprintf("svc-%03d", i)
		projects := [][]string{nil, {"a"}, {"a", "b"}}[i%3]
		fmt.Fprintf(&sb, "  - name: %s\n    type: backend\n    environment: production\n    renewBefore: 14d\n", name)
		if projects != nil {
			fmt.Fprintf(&sb, "    projects: [%s]\n", strings.Join(projects, ", "))
		}
		pb.matched[name] = mk(name, unleashadmin.TokenTypeBackend, "production", projects)
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
	if pb.file, err = desired.Parse([]byte(sb.String())); err != nil {
		b.Fatal(err)
	}
	return pb
}

// lists checks that the requests after the first n are token lists only,
// and returns how many there were.
func (pb *planBench) lists(b *testing.B, n int) int {
	sent := pb.srv.Requests()[n:]
	for _, r := range sent {
		if r.Method != "GET" || r.Path != "/api/admin/api-tokens" {
			b.Fatalf("a plan sent %s %s", r.Method, r.Path)
		}
	}
	return len(sent)
}

// BenchmarkPlan500Entries2000Tokens plans a file of 500 entries against a
// stand-in holding 2,000 tokens (newPlanBench). It reports the requests
// per plan, which must be the one list.
func BenchmarkPlan500Entries2000Tokens(b *testing.B) {
	pb := newPlanBench(b)
	ctx := context.Background()
	opts := desired.Options{}
	before := pb.srv.RequestCount()
	b.ReportAllocs()
	b.ResetTimer()
	var p *desired.Plan
	var err error
	for i := 0; i < b.N; i++ {
		p, err = desired.NewPlan(ctx, pb.c, pb.file, opts)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(pb.lists(b, before))/float64(b.N), "lists/op")
	if len(p.Actions) != 500+500+500 || p.Changes() != 1000 {
		b.Fatalf("%d actions, %d changes", len(p.Actions), p.Changes())
	}
}

// BenchmarkPlan500Entries2000TokensDirSink plans the same with a directory
// sink of 500 files, one per entry holding its matching token's secret
// (Options.Reader), interleaved with plans without it in the same run.
// ns/op is one plan of each; it reports the time of each kind, their
// ratio (sink/none, which must stay within 1.5) and the list requests per
// plan with the sink (one).
func BenchmarkPlan500Entries2000TokensDirSink(b *testing.B) {
	pb := newPlanBench(b)
	ctx := context.Background()
	sink := desired.DirSink{Dir: b.TempDir()}
	for name, secret := range pb.matched {
		if err := sink.Deliver(ctx, unleashadmin.APIToken{TokenName: name, Secret: secret}); err != nil {
			b.Fatal(err)
		}
	}
	// Each entry's token of another scope is newer than the one the sink
	// holds: a settle time of 1ns retires it, as the plan without the
	// sink does.
	without, with := desired.Options{}, desired.Options{Reader: sink, Settle: time.Nanosecond}
	var none, read time.Duration
	lists := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		p, err := desired.NewPlan(ctx, pb.c, pb.file, without)
		none += time.Since(start)
		if err != nil || p.Changes() != 1000 {
			b.Fatalf("%v", err)
		}
		n := pb.srv.RequestCount()
		start = time.Now()
		p, err = desired.NewPlan(ctx, pb.c, pb.file, with)
		read += time.Since(start)
		b.StopTimer()
		lists += pb.lists(b, n)
		b.StartTimer()
		if err != nil || len(p.Actions) != 1500 || p.Changes() != 1000 || p.Actions[0].Reason[:len("the sink holds it")] != "the sink holds it" {
			b.Fatalf("%v %v", err, p.Actions[0])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(none.Nanoseconds())/float64(b.N), "ns/plan")
	b.ReportMetric(float64(read.Nanoseconds())/float64(b.N), "ns/plan-dirsink")
	b.ReportMetric(float64(read)/float64(none), "dirsink/plan")
	b.ReportMetric(float64(lists)/float64(b.N), "lists/plan-dirsink")
}
