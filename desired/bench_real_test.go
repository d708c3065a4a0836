package desired_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// realBenchPrefix starts the name of every token BenchmarkRealApply100
// makes; a run removes what an interrupted one left behind.
const realBenchPrefix = "desired-bench-"

// BenchmarkRealApply100 applies a file of 100 new entries to the real
// Unleash named by UNLEASH_URL and UNLEASH_API_TOKEN, once with Parallel 4
// and once with Parallel 1 (the same 100 creates one by one), in every
// round, taking turns at going first so that both see the same load.
// Between applies (outside the measured time) the tokens are removed with a
// prune of their prefix. It reports the median time of each side and the
// median of the rounds' parallel/serial ratios (target: at most 0.6).
//
//	eval "$(scripts/unleash.sh start)"
//	go test -run '^$' -bench RealApply100 -benchtime 10x ./desired/
//
// Without UNLEASH_URL it skips.
func BenchmarkRealApply100(b *testing.B) {
	url, key := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN")
	if url == "" || key == "" {
		b.Skip("UNLEASH_URL and UNLEASH_API_TOKEN are not set: this benchmark needs a real Unleash")
	}
	c, err := unleashadmin.NewClient(url, key)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	opts := desired.Options{} // the client protects its own key
	prune := func(prefix string) {
		b.Helper()
		f := &desired.File{Prune: desired.PruneRule{NamePrefix: prefix}}
		p, err := desired.NewPlan(ctx, c, f, opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Apply(ctx, desired.ApplyOptions{Parallel: 8}); err != nil {
			b.Fatal(err)
		}
	}
	prune(realBenchPrefix) // leftovers of an interrupted run
	run := make([]byte, 3)
	_, _ = rand.Read(run)
	prefix := realBenchPrefix + hex.EncodeToString(run) + "-"
	b.Cleanup(func() { prune(prefix) })

	var delivered atomic.Int64
	sink := desired.SinkFunc(func(context.Context, unleashadmin.APIToken) error { delivered.Add(1); return nil })
	apply := func(round int, side string, parallel int) time.Duration {
		b.Helper()
		var sb strings.Builder
		sb.WriteString("tokens:\n")
		for i := range 100 {
			fmt.Fprintf(&sb, "  - {name: %s%d-%s-%03d, type: backend, environment: development, projects: [default]}\n", prefix, round, side, i)
		}
		f, err := desired.Parse([]byte(sb.String()))
		if err != nil {
			b.Fatal(err)
		}
		p, err := desired.NewPlan(ctx, c, f, opts)
		if err != nil {
			b.Fatal(err)
		}
		if p.Changes() != 100 {
			b.Fatalf("plan has %d changes", p.Changes())
		}
		start := time.Now()
		res, err := p.Apply(ctx, desired.ApplyOptions{Sink: sink, Parallel: parallel})
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Outcomes) != 100 {
			b.Fatalf("%d outcomes", len(res.Outcomes))
		}
		return d
	}
	var par, ser, ratio []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var dp, ds time.Duration
		if i%2 == 0 {
			dp = apply(i, "p", 4)
			ds = apply(i, "s", 1)
		} else {
			ds = apply(i, "s", 1)
			dp = apply(i, "p", 4)
		}
		b.StopTimer()
		prune(prefix)
		b.StartTimer()
		b.Logf("round %d: parallel 4 %v, serial %v, ratio %.3f", i, dp.Round(time.Millisecond), ds.Round(time.Millisecond), float64(dp)/float64(ds))
		par = append(par, float64(dp.Milliseconds()))
		ser = append(ser, float64(ds.Milliseconds()))
		ratio = append(ratio, float64(dp)/float64(ds))
	}
	b.StopTimer()
	if got := delivered.Load(); got != int64(200*b.N) {
		b.Fatalf("delivered %d tokens, want %d", got, 200*b.N)
	}
	b.ReportMetric(median(par), "parallel4-ms")
	b.ReportMetric(median(ser), "serial-ms")
	b.ReportMetric(median(ratio), "parallel/serial")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
