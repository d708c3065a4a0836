package integration

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// TestRotate rotates a project token with a grace period, then the new one
// at once.
func TestRotate(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	old := mustCreateIn(t, c, "default", unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeFrontend, TokenName: name(t, "tok"), Environment: "production"})

	r, err := c.RotateAPIToken(ctx(t), *old, unleashadmin.RotateOptions{GracePeriod: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	created(t, c, r.New)
	if r.New.Secret == old.Secret || r.New.TokenName != old.TokenName || r.New.Type != old.Type || r.New.Environment != "production" || r.New.Project != "default" {
		t.Errorf("new token %+v", *r.New)
	}
	byName, err := c.GetAPITokensByName(ctx(t), old.TokenName)
	if err != nil {
		t.Fatal(err)
	}
	oldNow, ok := find(byName, old.Secret)
	if !ok || oldNow.ExpiresAt == nil || !oldNow.ExpiresAt.Equal(*r.OldExpiresAt) || time.Until(*oldNow.ExpiresAt) > time.Hour {
		t.Errorf("old token after the grace rotation: %+v (want expiry %v)", oldNow, r.OldExpiresAt)
	}
	if _, ok := find(byName, r.New.Secret); !ok {
		t.Errorf("the new token is not listed")
	}

	r2, err := c.RotateAPIToken(ctx(t), *r.New, unleashadmin.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created(t, c, r2.New)
	proj, err := c.ListProjectAPITokens(ctx(t), "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := find(proj, r.New.Secret); ok || !r2.OldDeleted {
		t.Errorf("the rotated-away token is still listed")
	}
	if _, ok := find(proj, r2.New.Secret); !ok {
		t.Errorf("the newest token is not in the project")
	}

	// A token of a project Unleash does not know: the create fails (404),
	// nothing is returned and nothing is retired.
	unknown := *r2.New
	unknown.Projects, unknown.Project = []string{"no-such-project-" + target.runID}, ""
	r3, err := c.RotateAPIToken(ctx(t), unknown, unleashadmin.RotateOptions{})
	if r3 != nil {
		created(t, c, r3.New)
	}
	if !errors.Is(err, unleashadmin.ErrNotFound) || r3 != nil {
		t.Errorf("rotation into an unknown project: %v, %+v", err, r3)
	}

	// Retiring fails: an all-projects token presented as one of project
	// default is created anew through the project, and the project's delete
	// refuses the old one (400). The new token comes back with the error and
	// the old one stays live.
	global := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name(t, "global")})
	mislabelled := *global
	mislabelled.Projects, mislabelled.Project = []string{"default"}, "default"
	r4, err := c.RotateAPIToken(ctx(t), mislabelled, unleashadmin.RotateOptions{})
	if r4 != nil && r4.New != nil {
		created(t, c, r4.New)
	}
	if !errors.Is(err, unleashadmin.ErrRotationIncomplete) || !errors.Is(err, unleashadmin.ErrBadRequest) ||
		r4 == nil || r4.New == nil || r4.New.Secret == "" || r4.OldDeleted {
		t.Fatalf("retire refused: %v, %+v", err, r4)
	}
	all, err := c.ListAPITokens(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := find(all, global.Secret); !ok {
		t.Errorf("the old token is gone although retiring it failed")
	}
	if _, ok := find(all, r4.New.Secret); !ok {
		t.Errorf("the new token of the incomplete rotation is not listed")
	}
}

// TestTokenEvents finds the created, updated and deleted events of one
// token, newest first, with no secret in them.
func TestTokenEvents(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	if !target.info.AtLeast(6, 0) {
		// Unleash 5 has no event search.
		_, err := c.ListTokenEvents(ctx(t), unleashadmin.TokenEventsOptions{})
		if !errors.Is(err, unleashadmin.ErrNotSupported) || !errors.Is(err, unleashadmin.ErrNotFound) {
			t.Errorf("event search on Unleash %s: %v, want ErrNotSupported", target.info.Version, err)
		}
		return
	}
	tokName := name(t, "tok")
	tok := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: tokName, Projects: []string{"default"}})
	if err := c.UpdateAPITokenExpiry(ctx(t), tok.Secret, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteAPIToken(ctx(t), tok.Secret); err != nil {
		t.Fatal(err)
	}

	today := time.Now().UTC()
	var got []unleashadmin.Event
	for e, err := range c.AllTokenEvents(ctx(t), unleashadmin.TokenEventsOptions{Query: tokName, From: today.Add(-24 * time.Hour), To: today, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	wantTypes := []unleashadmin.EventType{unleashadmin.EventAPITokenDeleted, unleashadmin.EventAPITokenUpdated, unleashadmin.EventAPITokenCreated}
	if len(got) != 3 {
		t.Fatalf("%d events for %s, want 3", len(got), tokName)
	}
	for i, e := range got {
		if e.Type != wantTypes[i] || e.Token() == nil || e.Token().TokenName != tokName || e.CreatedBy == "" {
			t.Errorf("event %d: %+v", i, e)
		}
		if i > 0 && e.ID >= got[i-1].ID {
			t.Errorf("events not newest first: %d then %d", got[i-1].ID, e.ID)
		}
		for _, d := range []*unleashadmin.APIToken{e.Data, e.PreData} {
			if d != nil && d.Secret != "" {
				t.Errorf("event %d carries a secret in its token", e.ID)
			}
		}
		if _, ok := containsSecret(e.Summary+e.Label, tok.Secret); ok {
			t.Errorf("event %d carries the secret in its summary or label", e.ID)
		}
	}
	if got[2].Data == nil || got[2].PreData != nil || got[0].Data != nil || got[0].PreData == nil {
		t.Errorf("data/preData of create and delete: %+v / %+v", got[2], got[0])
	}
	if got[1].Data.ExpiresAt == nil || got[1].PreData.ExpiresAt != nil {
		t.Errorf("update event data %+v, preData %+v", got[1].Data, got[1].PreData)
	}

	page, err := c.ListTokenEvents(ctx(t), unleashadmin.TokenEventsOptions{Query: tokName, Types: []unleashadmin.EventType{unleashadmin.EventAPITokenCreated}})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || len(page.Events) != 1 || page.Events[0].ID != got[2].ID {
		t.Errorf("created-only page: total %d, %d events", page.Total, len(page.Events))
	}
	page, err = c.ListTokenEvents(ctx(t), unleashadmin.TokenEventsOptions{Query: tokName, From: today.Add(48 * time.Hour)})
	if err != nil || page.Total != 0 || len(page.Events) != 0 {
		t.Errorf("events from the day after tomorrow: %+v, %v", page, err)
	}
}

// TestRotateFromAList is what an operator's program does: list the tokens,
// pick one by name, rotate it. Under secure token storage the listed token
// carries only its selector, which is enough.
func TestRotateFromAList(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	for _, inProject := range []bool{false, true} {
		var orig *unleashadmin.APIToken
		if inProject {
			orig = mustCreateIn(t, c, "default", unleashadmin.CreateProjectAPITokenRequest{Type: backend(), TokenName: name(t, "p"), Environment: "production"})
		} else {
			orig = mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeFrontend, TokenName: name(t, "g"), Projects: []string{"default"}})
		}
		all, err := c.ListAPITokens(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		var listed *unleashadmin.APIToken
		for i := range all {
			if all[i].TokenName == orig.TokenName {
				listed = &all[i]
			}
		}
		if listed == nil {
			t.Fatalf("%s not listed", orig.TokenName)
		}
		if target.info.SecureTokens && (listed.Secret == orig.Secret || !listed.Secure) {
			t.Errorf("secure storage lists the full secret: %+v", *listed)
		}
		var delivered string
		r, err := c.RotateAPIToken(ctx(t), *listed, unleashadmin.RotateOptions{Deliver: func(_ context.Context, fresh unleashadmin.APIToken) error {
			delivered = fresh.Secret
			return nil
		}})
		if r != nil && r.New != nil {
			created(t, c, r.New)
		}
		if err != nil || !r.OldDeleted || delivered != r.New.Secret || r.New.Environment != orig.Environment ||
			!slices.Equal(r.New.ProjectIDs(), orig.ProjectIDs()) || !r.New.IsType(orig.Type) {
			t.Fatalf("project %t: %+v, %v", inProject, r, err)
		}
		byName, err := c.GetAPITokensByName(ctx(t), orig.TokenName)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := find(byName, orig.Secret); ok || len(byName) != 1 {
			t.Errorf("project %t: after the rotation %d tokens by name, the old one listed: %t", inProject, len(byName), ok)
		}
		if _, ok := find(byName, r.New.Secret); !ok {
			t.Errorf("project %t: the new token is not listed", inProject)
		}
	}
}
