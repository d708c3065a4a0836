package hygiene_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
)

// TestOptionsJSONRoundTrip: AuditOptions and PruneOptions marshal to JSON,
// durations as text ("90d"), the clock and the callback left out, and the
// key never; and they unmarshal back to what they were.
func TestOptionsJSONRoundTrip(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return t0 }

	audit := hygiene.AuditOptions{UnusedFor: 90 * day, ExpiringWithin: 36 * time.Hour, StalledAfter: 2 * day, Now: now}
	b, err := json.Marshal(audit)
	if want := `{"unusedFor":"90d","expiringWithin":"36h","stalledAfter":"2d"}`; err != nil || string(b) != want {
		t.Errorf("AuditOptions: %s, %v; want %s", b, err, want)
	}
	var audit2 hygiene.AuditOptions
	if err := json.Unmarshal(b, &audit2); err != nil || audit2.UnusedFor != audit.UnusedFor || audit2.ExpiringWithin != audit.ExpiringWithin || audit2.StalledAfter != audit.StalledAfter || audit2.Now != nil {
		t.Errorf("AuditOptions back: %+v, %v", audit2, err)
	}
	if b, err := json.Marshal(hygiene.AuditOptions{}); err != nil || string(b) != `{}` {
		t.Errorf("zero AuditOptions: %s, %v", b, err)
	}

	prune := hygiene.PruneOptions{Key: fakeKey, Expired: true, UnusedFor: 36*time.Hour + 30*time.Minute, NeverSeen: true,
		NamePrefix: "ci-", IncludeAdmin: true, Apply: true, Parallel: 8, Now: now, Progress: func(hygiene.PruneResult) {}}
	b, err = json.Marshal(prune)
	want := `{"expired":true,"neverSeen":true,"namePrefix":"ci-","includeAdmin":true,"apply":true,"parallel":8,"unusedFor":"36h30m"}`
	if err != nil || string(b) != want {
		t.Errorf("PruneOptions: %s, %v; want %s", b, err, want)
	}
	var prune2 hygiene.PruneOptions
	if err := json.Unmarshal(b, &prune2); err != nil {
		t.Fatal(err)
	}
	prune.Key, prune.Now, prune.Progress = "", nil, nil
	if prune2.Now != nil || prune2.Progress != nil || prune2.Key != "" {
		t.Errorf("PruneOptions back with a func or a key: %+v", prune2)
	}
	prune2.Now, prune2.Progress = nil, nil
	if b2, _ := json.Marshal(prune2); string(b2) != want || prune2.UnusedFor != prune.UnusedFor || prune2.Parallel != 8 || !prune2.IncludeAdmin {
		t.Errorf("PruneOptions back: %+v", prune2)
	}
	if b, err := json.Marshal(hygiene.PruneOptions{Key: "k"}); err != nil || string(b) != `{}` {
		t.Errorf("PruneOptions with only a key: %s, %v", b, err)
	}

	// A key in the input is not read; a field left out keeps its value.
	keep := hygiene.PruneOptions{UnusedFor: 90 * day, Parallel: 2}
	if err := json.Unmarshal([]byte(`{"key":"*:*.secret","expired":true}`), &keep); err != nil || keep.Key != "" ||
		keep.UnusedFor != 90*day || keep.Parallel != 2 || !keep.Expired {
		t.Errorf("partial input: %+v, %v", keep, err)
	}
	for _, in := range []string{`{"unusedFor":"90 days"}`, `{"unusedFor":90}`, `{"expiringWithin":"soon"}`, `{"stalledAfter":"a day"}`} {
		var a hygiene.AuditOptions
		var p hygiene.PruneOptions
		errs := []error{json.Unmarshal([]byte(in), &a)}
		if strings.Contains(in, "unusedFor") { // expiringWithin is not a field of PruneOptions
			errs = append(errs, json.Unmarshal([]byte(in), &p))
		}
		for _, err := range errs {
			if !errors.Is(err, unleashadmin.ErrInvalidArgument) || !strings.HasPrefix(err.Error(), "hygiene: ") {
				t.Errorf("%s: %v", in, err)
			}
		}
	}
}
