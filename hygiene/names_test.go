package hygiene_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
)

// TestOldNamesStillWork is a program written against the names before
// FindingKind and Status: it still compiles, and the old names mean what
// the new ones do. Its uses of deprecated names are the point.
func TestOldNamesStillWork(t *testing.T) {
	t.Parallel()
	var kind hygiene.Kind = hygiene.KindExpired
	var newKind hygiene.FindingKind = kind
	for old, now := range map[hygiene.Kind]hygiene.FindingKind{
		hygiene.KindNeverSeen: hygiene.FindingNeverSeen, hygiene.KindUnused: hygiene.FindingUnused,
		hygiene.KindExpired: hygiene.FindingExpired, hygiene.KindExpiring: hygiene.FindingExpiring,
		hygiene.KindDuplicate: hygiene.FindingDuplicate, hygiene.KindAllProjects: hygiene.FindingAllProjects,
	} {
		if old != now {
			t.Errorf("old kind %q is not %q", old, now)
		}
	}
	var outcome hygiene.Outcome = hygiene.OutcomeRetired
	var status hygiene.Status = outcome
	for old, now := range map[hygiene.Outcome]hygiene.Status{
		hygiene.OutcomeRetired: hygiene.StatusRetired, hygiene.OutcomeFailed: hygiene.StatusFailed,
		hygiene.OutcomeSkipped: hygiene.StatusSkipped, hygiene.OutcomeWouldRetire: hygiene.StatusWouldRetire,
	} {
		if old != now {
			t.Errorf("old outcome %q is not %q", old, now)
		}
	}
	if hygiene.DefaultParallel != unleashadmin.DefaultParallel || newKind != hygiene.FindingExpired || status != hygiene.StatusRetired {
		t.Errorf("DefaultParallel %d, kind %q, status %q", hygiene.DefaultParallel, newKind, status)
	}

	// A prune written the old way: Key given, results read by Outcome.
	clk := newClock(t0)
	srv, c := standIn(t, clk)
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "old", ExpiresAt: unleashadmin.Ptr(t0.Add(time.Hour))})
	clk.Set(t0.Add(2 * time.Hour))
	r, err := hygiene.Prune(context.Background(), c, hygiene.PruneOptions{Key: srv.AdminKey(), Expired: true, Apply: true,
		Parallel: hygiene.DefaultParallel, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 1 || r.Results[0].Outcome != hygiene.OutcomeRetired || r.Results[0].Status != hygiene.StatusRetired ||
		r.Count(hygiene.OutcomeRetired) != 1 || r.Results[0].Kinds[0] != hygiene.KindExpired || len(srv.Tokens()) != 1 {
		t.Errorf("report %v, stand-in holds %d tokens", r, len(srv.Tokens()))
	}

	// A result made by hand with the old field only is read as its status.
	hand := hygiene.PruneReport{Results: []hygiene.PruneResult{{Kinds: []hygiene.Kind{hygiene.KindUnused}, Outcome: hygiene.OutcomeFailed}}}
	b, err := json.Marshal(hand)
	if err != nil || hand.Count(hygiene.StatusFailed) != 1 || !strings.Contains(string(b), `"status":"failed","outcome":"failed"`) {
		t.Errorf("hand-made report: %s, %v", b, err)
	}
	rep, err := hygiene.Audit(context.Background(), c, hygiene.AuditOptions{Now: func() time.Time { return t0.Add(3 * day) }})
	if err != nil || len(rep.Of(hygiene.KindNeverSeen)) != 1 || !rep.Has(hygiene.KindNeverSeen) {
		t.Errorf("audit by old kinds: %v, %v", rep, err)
	}
}

// TestErrorsStartWithPackageName: every error the package makes, including
// the one a result carries for a delete that was never sent, starts with
// "hygiene: ".
func TestErrorsStartWithPackageName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFake(t, tok("a", t0.Add(-10*day), expires(t0)))
	errs := map[string]error{}
	_, errs["ParseKind"] = hygiene.ParseKind("stale")
	_, errs["Audit nil"] = hygiene.Audit(ctx, nil, hygiene.AuditOptions{})
	_, errs["Audit negative"] = hygiene.Audit(ctx, f.client(), hygiene.AuditOptions{UnusedFor: -day})
	_, errs["Prune nil"] = hygiene.Prune(ctx, nil, hygiene.PruneOptions{Expired: true})
	_, errs["Prune nothing"] = hygiene.Prune(ctx, f.client(), hygiene.PruneOptions{})
	_, errs["Check nil"] = hygiene.Check(ctx, nil, nil)
	_, errs["Check bad"] = hygiene.Check(ctx, f.client(), []string{""})
	_, errs["ReadSecrets"] = hygiene.ReadSecrets(strings.NewReader("a b\n"))
	_, errs["ReadSecretDir"] = hygiene.ReadSecretDir(t.TempDir() + "/missing")
	done, cancel := context.WithCancel(ctx)
	cancel()
	r, err := hygiene.Prune(done, &listOnly{f.client()}, hygiene.PruneOptions{Key: fakeKey, Expired: true, Apply: true,
		Now: func() time.Time { return t0 }})
	errs["Prune incomplete"] = err
	if r != nil && len(r.Results) == 1 {
		errs["not attempted"] = r.Results[0].Err
	}
	for name, err := range errs {
		if err == nil || !strings.HasPrefix(err.Error(), "hygiene: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// listOnly lists through a Client whatever its context, so that Prune gets
// to its deletes with a context that has ended; it deletes through the
// Client.
type listOnly struct{ c *unleashadmin.Client }

func (l *listOnly) ListAPITokens(context.Context) ([]unleashadmin.APIToken, error) {
	return l.c.ListAPITokens(context.Background())
}

func (l *listOnly) DeleteAPIToken(ctx context.Context, secret string) error {
	return l.c.DeleteAPIToken(ctx, secret)
}
