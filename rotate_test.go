package unleashadmin

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestRotateAPIToken(t *testing.T) {
	t.Parallel()
	oldGlobal := APIToken{Secret: "*:production." + hex56, TokenName: "svc", Type: TokenTypeClient, Environment: "production", Project: "*", Projects: []string{"*"}}
	// The old project token's secret differs from secretA, the secret of
	// the new token in createdProject, so that a request for the wrong one
	// shows.
	oldProject := APIToken{Secret: "default:development." + hex56, TokenName: "p-backend", Type: TokenTypeClient, Environment: "development", Project: "default", Projects: []string{"default"}}
	soon := time.Now().Add(10 * time.Minute).UTC().Truncate(time.Millisecond)
	oldSoon := oldProject
	oldSoon.ExpiresAt = &soon

	t.Run("global, at once", func(t *testing.T) {
		t.Parallel()
		created := `{"tokenName":"svc","environment":"production","projects":["*"],"secret":"*:production.` + hex56[:50] + `abcdef","type":"client","project":"*","createdAt":"2026-11-22T07:55:13.082Z","secure":false}`
		c, m := newTestClient(t, []reply{jsonReply(201, created), {status: 200}})
		r, err := c.RotateAPIToken(context.Background(), oldGlobal, RotateOptions{})
		if err != nil || r.New == nil || !r.OldDeleted || r.OldExpiresAt != nil {
			t.Fatalf("%+v, %v", r, err)
		}
		reqs := m.sent()
		if len(reqs) != 2 || reqs[0].Method != "POST" || reqs[0].Path != "/api/admin/api-tokens" ||
			reqs[1].Method != "DELETE" || reqs[1].Path != "/api/admin/api-tokens/%2A:production."+hex56 {
			t.Fatalf("sent %+v", reqs)
		}
		jsonEqual(t, reqs[0].Body, `{"type":"client","tokenName":"svc","environment":"production","projects":["*"]}`)
	})

	t.Run("project, with grace", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{jsonReply(201, createdProject), {status: 200}})
		exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		before := time.Now()
		r, err := c.RotateAPIToken(context.Background(), oldProject, RotateOptions{GracePeriod: time.Hour, ExpiresAt: &exp})
		if err != nil || r.OldDeleted || r.OldExpiresAt == nil {
			t.Fatalf("%+v, %v", r, err)
		}
		if d := r.OldExpiresAt.Sub(before.Add(time.Hour)); d < -time.Millisecond || d > time.Minute {
			t.Errorf("old expires at %v", r.OldExpiresAt)
		}
		reqs := m.sent()
		if len(reqs) != 2 || reqs[0].Path != "/api/admin/projects/default/api-tokens" || reqs[1].Method != "PUT" || reqs[1].Path != "/api/admin/api-tokens/"+oldProject.Secret {
			t.Fatalf("sent %+v", reqs)
		}
		jsonEqual(t, reqs[0].Body, `{"type":"client","tokenName":"p-backend","environment":"development","expiresAt":"2030-01-01T00:00:00Z","projects":["default"]}`)
		var put struct{ ExpiresAt time.Time }
		if err := json.Unmarshal(reqs[1].Body, &put); err != nil || !put.ExpiresAt.Equal(*r.OldExpiresAt) {
			t.Errorf("PUT body %s", reqs[1].Body)
		}
	})

	t.Run("project, at once", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{jsonReply(201, createdProject), {status: 200}})
		r, err := c.RotateAPIToken(context.Background(), oldProject, RotateOptions{})
		if err != nil || r.New.Secret != secretA || !r.OldDeleted || r.OldExpiresAt != nil {
			t.Fatalf("%+v, %v", r, err)
		}
		reqs := m.sent()
		if len(reqs) != 2 || reqs[0].Method != "POST" || reqs[0].Path != "/api/admin/projects/default/api-tokens" ||
			reqs[1].Method != "DELETE" || reqs[1].Path != "/api/admin/projects/default/api-tokens/"+oldProject.Secret {
			t.Fatalf("sent %+v", reqs)
		}
	})

	t.Run("old expires sooner than the grace", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{jsonReply(201, createdProject)})
		r, err := c.RotateAPIToken(context.Background(), oldSoon, RotateOptions{GracePeriod: 24 * time.Hour})
		if err != nil || r.OldExpiresAt == nil || !r.OldExpiresAt.Equal(soon) || len(m.sent()) != 1 {
			t.Fatalf("%+v, %v, %d requests", r, err, len(m.sent()))
		}
	})

	t.Run("create fails: old untouched", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{jsonReply(400, `{"name":"ExceedsLimitError","message":"limit"}`)})
		r, err := c.RotateAPIToken(context.Background(), oldGlobal, RotateOptions{})
		if r != nil || !errors.Is(err, ErrBadRequest) || errors.Is(err, ErrRotationIncomplete) || len(m.sent()) != 1 {
			t.Fatalf("%+v, %v, %d requests", r, err, len(m.sent()))
		}
	})

	t.Run("retire fails: the new token comes back with the error", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{jsonReply(201, createdProject), jsonReply(403, `{"message":"invalid token"}`)})
		r, err := c.RotateAPIToken(context.Background(), oldProject, RotateOptions{})
		if r == nil || r.New == nil || r.New.Secret != secretA || r.OldDeleted || !errors.Is(err, ErrRotationIncomplete) || !errors.Is(err, ErrForbidden) {
			t.Fatalf("%+v, %v", r, err)
		}
		if reqs := m.sent(); len(reqs) != 2 || reqs[1].Path != "/api/admin/projects/default/api-tokens/"+oldProject.Secret {
			t.Fatalf("sent %+v", reqs)
		}
		if s, ok := containsAny(err.Error(), randomOf(secretA), randomOf(oldProject.Secret)); ok {
			t.Errorf("error %q holds %q", err, s)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, nil)
		for _, tc := range []struct {
			old  APIToken
			opts RotateOptions
		}{
			{APIToken{TokenName: "x", Type: TokenTypeClient}, RotateOptions{}},
			{oldGlobal, RotateOptions{GracePeriod: -time.Second}},
			{oldGlobal, RotateOptions{ExpiresAt: &time.Time{}}},
		} {
			if _, err := c.RotateAPIToken(context.Background(), tc.old, tc.opts); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("err %v", err)
			}
		}
		if len(m.sent()) != 0 {
			t.Errorf("sent %d", len(m.sent()))
		}
	})
}

const hex56 = "0123456789abcdef0123456789abcdef0123456789abcdef01234567"
