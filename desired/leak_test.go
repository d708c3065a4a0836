package desired_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// TestApplyLeaksNothing runs applies that succeed, fail to deliver (an
// exec sink that exits 1, one killed by the context) and fail to create,
// and checks that no goroutine is left behind. It does not run in
// parallel, so that other tests' goroutines do not count.
func TestApplyLeaksNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	f := newFixture(t)
	defer f.c.CloseIdleConnections()
	defer f.srv.Close()
	opts := f.opts()
	opts.DefaultEnvironment = "development"
	for i, sink := range []desired.Sink{
		desired.ExecSink{Command: "cat >/dev/null"},
		desired.ExecSink{Command: "exit 1"},
		desired.ExecSink{Command: "sleep 10", Stdout: io.Discard},
	} {
		old := fmt.Sprint("old", i)
		f.seed(old, unleashadmin.TokenTypeFrontend, "development", nil, 0)
		file := f.parse(fmt.Sprintf("tokens: [{name: a%d, type: client}, {name: b%d, type: client}, {name: %s, type: client}]", i, i, old))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		p, err := desired.NewPlan(ctx, f.c, file, opts)
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Apply(ctx, desired.ApplyOptions{Sink: sink, Parallel: 2})
		cancel()
		if (err == nil) != (i == 0) || len(res.Outcomes) != 3 {
			t.Fatalf("sink %d: %v", i, err)
		}
	}
	// A create that fails with a 500 (and the look-up that follows it).
	p, err := desired.NewPlan(context.Background(), f.c, f.parse("tokens: [{name: c, type: client}]"), opts)
	if err != nil {
		t.Fatal(err)
	}
	observer := func(_ context.Context, s desired.Step) {
		if s.Kind == desired.StepCreate {
			f.srv.FailNext(1, unleashtest.Fault{Status: http.StatusInternalServerError})
		}
	}
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: desired.ExecSink{Command: "true"}, Observer: observer}); err == nil {
		t.Fatal("the 500 did not fail the create")
	}
}
