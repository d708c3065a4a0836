package desired_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// fleetLatency is what each stand-in of BenchmarkPlanFleet8Instances adds
// to every answer.
const fleetLatency = 50 * time.Millisecond

// BenchmarkPlanFleet8Instances plans one file of 50 entries against a
// fleet of 8 stand-ins, each holding a token for half the entries and
// answering every request fleetLatency late, interleaved in the same run
// (taking turns at going first) with planning the same file against one
// of them alone. ns/op is one plan of each. It reports the time of each
// kind, their ratio (fleet8/one, which must stay within 1.5: the
// instances are read at once) and the list requests per instance of a
// fleet plan, which must be exactly one (it fails otherwise).
func BenchmarkPlanFleet8Instances(b *testing.B) {
	ctx := context.Background()
	var sb strings.Builder
	sb.WriteString("tokens:\n")
	for i := range 50 {
		fmt.Fprintf(&sb, "  - {name: svc-%02d, type: backend, environment: production, renewBefore: 14d}\n", i)
	}
	file, err := desired.Parse([]byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	servers := make([]fleetServer, 8)
	fleet := desired.Fleet{}
	for i := range servers {
		s := newFleetServer(b, unleashtest.WithProjects("default"))
		for j := 0; j < 50; j += 2 {
			if _, err := s.c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{TokenName: fmt.Sprintf("svc-%02d", j),
				Type: unleashadmin.TokenTypeBackend, Environment: "production"}); err != nil {
				b.Fatal(err)
			}
		}
		s.srv.FailNext(math.MaxInt, unleashtest.Fault{Delay: fleetLatency})
		servers[i] = s
		fleet[fmt.Sprintf("i%d", i)] = s.c
	}
	var one, all time.Duration
	planOne := func() {
		start := time.Now()
		p, err := desired.NewPlan(ctx, servers[0].c, file, desired.Options{})
		one += time.Since(start)
		if err != nil || p.Changes() != 25 {
			b.Fatalf("%v", err)
		}
	}
	planAll := func() {
		before := make([]int, len(servers))
		for i, s := range servers {
			before[i] = s.srv.RequestCount()
		}
		start := time.Now()
		fp, err := desired.NewFleetPlan(ctx, fleet, file, desired.FleetOptions{})
		all += time.Since(start)
		if err != nil || len(fp.Instances) != 8 || fp.Changes() != 8*25 {
			b.Fatalf("%v", err)
		}
		b.StopTimer()
		for i, s := range servers {
			sent := s.srv.Requests()[before[i]:]
			if len(sent) != 1 || sent[0].Method != "GET" || sent[0].Path != "/api/admin/api-tokens" {
				b.Fatalf("instance %d: a fleet plan sent %d requests, want the one list", i, len(sent))
			}
		}
		b.StartTimer()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			planOne()
			planAll()
		} else {
			planAll()
			planOne()
		}
	}
	b.StopTimer()
	ratio := float64(all) / float64(one)
	b.ReportMetric(float64(one.Nanoseconds())/float64(b.N), "ns/plan-one")
	b.ReportMetric(float64(all.Nanoseconds())/float64(b.N), "ns/plan-fleet8")
	b.ReportMetric(ratio, "fleet8/one")
	b.ReportMetric(1, "lists/instance")
	// One round can be noise on a loaded machine; several cannot.
	if b.N >= 5 && ratio > 1.5 {
		b.Errorf("planning 8 instances took %.2f times as long as planning one (want at most 1.5)", ratio)
	}
}
