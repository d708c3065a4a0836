package desired_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// TestSavedPlanRetiresNothingUsedSincePlan: a saved plan retires an old
// token that nobody had used for the quiet period (retire: {when:
// unused}); the token is used again between the plan and its apply (an
// idle service wakes up). The saved plan is stale: nothing is retired.
func TestSavedPlanRetiresNothingUsedSincePlan(t *testing.T) {
	f, df, _, old, fresh := rotated(t, unusedFile)
	f.clk.Advance(time.Minute)
	f.use(fresh, false)
	f.clk.Advance(11 * time.Minute)
	p := f.plan(df, f.opts())
	sp, err := p.Saved()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := desired.ReadPlan(data)
	if err != nil {
		t.Fatal(err)
	}
	saved.Now = f.clk.Now
	f.clk.Advance(time.Minute)
	f.use(old, false)
	_, err = saved.Apply(context.Background(), f.c, desired.ApplyOptions{Sink: &recorder{}})
	if !errors.Is(err, desired.ErrStalePlan) {
		t.Errorf("apply of the saved plan: %v, want ErrStalePlan", err)
	}
	if _, ok := f.has(old); !ok {
		t.Errorf("the old token, used a minute ago (quiet 10m), was retired by the saved plan")
	}
}
