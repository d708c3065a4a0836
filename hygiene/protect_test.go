package hygiene_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// v2AdminKey is an admin key of secure token storage: lists show only its
// selector, v2Selector.
const (
	v2Selector = "AutomAtion0123456789_-"
	v2AdminKey = "*:*.v2_" + v2Selector + "_" + "s3cr3tPartOfTheAdminKeyOf43CharactersXXXXXX"
)

// plainPruner is a Pruner that is not a Client: it cannot say which token
// is its key, so Prune needs PruneOptions.Key.
type plainPruner struct{ c *unleashadmin.Client }

func (p plainPruner) ListAPITokens(ctx context.Context) ([]unleashadmin.APIToken, error) {
	return p.c.ListAPITokens(ctx)
}

func (p plainPruner) DeleteAPIToken(ctx context.Context, secret string) error {
	return p.c.DeleteAPIToken(ctx, secret)
}

// statuses returns "status name" for each result.
func statuses(r *hygiene.PruneReport) []string {
	var out []string
	for _, res := range r.Results {
		out = append(out, string(res.Status)+" "+res.Token.TokenName)
	}
	return out
}

// TestPruneKeepsTheKeyInEverySpelling: the key in use is written with a
// Bearer prefix in either case, with a space before or after, or is a key
// of secure token storage that lists show by its selector. Prune retires
// the never-seen token beside it and keeps the key: when the Pruner is the
// Client made with that key (no PruneOptions.Key), and when it is another
// Pruner given the key, spelled the same way, in the deprecated
// PruneOptions.Key.
func TestPruneKeepsTheKeyInEverySpelling(t *testing.T) {
	t.Parallel()
	k := unleashtest.DefaultAdminKey
	for _, tc := range []struct {
		name, key string
		secure    bool
	}{
		{"Bearer K", "Bearer " + k, false},
		{"bearer K", "bearer " + k, false},
		{"space K", " " + k, false},
		{"K space", k + " ", false},
		{"selector", v2AdminKey, true},
	} {
		for _, viaKey := range []bool{false, true} {
			name := tc.name + "/client"
			if viaKey {
				name = tc.name + "/PruneOptions.Key"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				clk := newClock(t0)
				opts := []unleashtest.Option{unleashtest.WithClock(clk.Now)}
				keyName := "admin"
				if tc.secure {
					keyName = "automation"
					opts = append(opts, unleashtest.WithSecureTokens(), unleashtest.WithTokens(unleashtest.Token{
						TokenName: keyName, Type: "admin", Secret: v2AdminKey, CreatedAt: t0}))
				}
				srv := unleashtest.NewTestServer(t, opts...)
				c, err := unleashadmin.NewClient(srv.URL(), tc.key, unleashadmin.WithRetryMax(0))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(c.CloseIdleConnections)
				create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "quiet"})

				// A hundred days on, the key is never seen (default
				// storage) or last seen at t0 (secure storage, which
				// notes each use): it matches either way.
				o := hygiene.PruneOptions{NeverSeen: true, UnusedFor: 90 * day, Apply: true, Now: func() time.Time { return t0.Add(100 * day) }}
				var p hygiene.Pruner = c
				if viaKey {
					p, o.Key = plainPruner{c}, tc.key
				}
				r, err := hygiene.Prune(context.Background(), p, o)
				if err != nil {
					t.Fatal(err)
				}
				var keyRes *hygiene.PruneResult
				for i := range r.Results {
					if r.Results[i].Token.TokenName == keyName {
						keyRes = &r.Results[i]
					}
				}
				if keyRes == nil || keyRes.Status != hygiene.StatusProtected || keyRes.Protection != unleashadmin.ProtectedKeyInUse ||
					!strings.HasPrefix(keyRes.Reason, "the key in use; ") {
					t.Fatalf("the key's result %v; results %q", keyRes, statuses(r))
				}
				if tc.secure && keyRes.Token.Secret != v2Selector {
					t.Errorf("the key is listed as %q, not by its selector", keyRes.Token.Secret)
				}
				if !slices.Contains(statuses(r), "retired quiet") || r.Count(hygiene.StatusRetired) != 1 {
					t.Errorf("results %q", statuses(r))
				}
				dels := 0
				for _, req := range srv.Requests() {
					if req.Method == "DELETE" {
						dels++
					}
				}
				held := false
				for _, tk := range srv.Tokens() {
					held = held || tk.TokenName == keyName && (tk.Secret == k || tk.Secret == v2AdminKey)
				}
				if dels != 1 || !held {
					t.Errorf("%d deletes sent, the key still held: %t", dels, held)
				}
			})
		}
	}
}

// TestPruneProtectsAdminTokens: another admin token that matches is
// reported protected and kept, in a dry run and for real, unless
// IncludeAdmin asks for admin tokens; the key is kept even then. The same
// through a Pruner that is not a Client, with PruneOptions.Key.
func TestPruneProtectsAdminTokens(t *testing.T) {
	t.Parallel()
	for _, viaKey := range []bool{false, true} {
		t.Run(map[bool]string{false: "client", true: "PruneOptions.Key"}[viaKey], func(t *testing.T) {
			t.Parallel()
			clk := newClock(t0)
			srv, c := standIn(t, clk, unleashtest.WithTokens(unleashtest.Token{TokenName: "ci-admin", Type: "admin", CreatedAt: t0}))
			later := clk.Now().Add(2 * day)
			o := hygiene.PruneOptions{NeverSeen: true, Now: func() time.Time { return later }}
			var p hygiene.Pruner = c
			if viaKey {
				p, o.Key = plainPruner{c}, srv.AdminKey()
			}

			r, err := hygiene.Prune(context.Background(), p, o)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := statuses(r), []string{"protected admin", "protected ci-admin"}; !slices.Equal(got, want) {
				t.Errorf("dry run: %q, want %q", got, want)
			}
			if res := r.Results[1]; res.Protection != unleashadmin.ProtectedAdmin || !strings.HasPrefix(res.Reason, "an admin token; never seen") {
				t.Errorf("ci-admin: %v", res)
			}
			if r.Count(hygiene.StatusProtected) != 2 || r.Count(hygiene.StatusWouldRetire) != 0 {
				t.Errorf("counts of %v", r)
			}

			o.Apply = true
			if r, err = hygiene.Prune(context.Background(), p, o); err != nil || len(srv.Tokens()) != 2 {
				t.Fatalf("%v, %v; stand-in holds %d tokens", r, err, len(srv.Tokens()))
			}

			o.IncludeAdmin = true
			if r, err = hygiene.Prune(context.Background(), p, o); err != nil {
				t.Fatal(err)
			}
			if got, want := statuses(r), []string{"protected admin", "retired ci-admin"}; !slices.Equal(got, want) {
				t.Errorf("IncludeAdmin: %q, want %q", got, want)
			}
			if toks := srv.Tokens(); len(toks) != 1 || toks[0].Secret != srv.AdminKey() {
				t.Errorf("stand-in holds %v", toks)
			}
		})
	}
}

// TestPruneMustKnowTheKey: a Pruner that cannot say which token is its key
// and no PruneOptions.Key is refused before anything is sent; a Client
// needs no Key.
func TestPruneMustKnowTheKey(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	srv, c := standIn(t, clk)
	for _, key := range []string{"", "  "} {
		r, err := hygiene.Prune(context.Background(), plainPruner{c}, hygiene.PruneOptions{Key: key, Expired: true})
		if !errors.Is(err, unleashadmin.ErrInvalidArgument) || r != nil || !strings.Contains(err.Error(), "PruneOptions.Key") {
			t.Errorf("Key %q: %v, %v", key, r, err)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("sent %d requests", n)
	}
	if _, err := hygiene.Prune(context.Background(), c, hygiene.PruneOptions{Expired: true}); err != nil {
		t.Errorf("a Client without Key: %v", err)
	}
}
