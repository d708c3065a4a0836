package hygiene_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// TestPruneDryRun: without Apply, Prune lists once and sends no delete;
// the stand-in still holds every token.
func TestPruneDryRun(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	srv, c := standIn(t, clk)
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "old", ExpiresAt: unleashadmin.Ptr(t0.Add(time.Hour))})
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "quiet"})
	clk.Set(t0.Add(2 * day))
	before := srv.RequestCount()

	r, err := hygiene.Prune(context.Background(), c, hygiene.PruneOptions{Expired: true, NeverSeen: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The admin key is never seen on the stand-in too: protected.
	want := []string{"protected admin", "would-retire old", "would-retire quiet"}
	if got := statuses(r); !r.DryRun || !slices.Equal(got, want) {
		t.Errorf("dry run %t, results %q, want %q", r.DryRun, got, want)
	}
	reqs := srv.Requests()[before:]
	if len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/api/admin/api-tokens" {
		t.Errorf("sent %d requests: %+v", len(reqs), reqs)
	}
	if n := len(srv.Tokens()); n != 3 {
		t.Errorf("stand-in holds %d tokens, want 3", n)
	}
}

// TestPruneClasses: with Apply, only the classes asked for are deleted,
// judged exactly at their thresholds, and NamePrefix narrows them. The
// stand-in is seeded with seenAt values.
func TestPruneClasses(t *testing.T) {
	t.Parallel()
	now := t0
	seed := func(name string, created time.Time, seenAt, expiresAt *time.Time) unleashtest.Token {
		return unleashtest.Token{TokenName: name, Type: "client", Projects: []string{"default"}, CreatedAt: created, SeenAt: seenAt, ExpiresAt: expiresAt}
	}
	p := unleashadmin.Ptr[time.Time]
	seeds := []unleashtest.Token{
		seed("svc-expired", now.Add(-10*day), p(now), p(now)),
		seed("svc-unused-90d-1ms", now.Add(-200*day), p(now.Add(-90*day-time.Millisecond)), nil),
		seed("svc-unused-90d", now.Add(-200*day), p(now.Add(-90*day)), nil),
		seed("svc-never-1d-1ms", now.Add(-day-time.Millisecond), nil, nil),
		seed("svc-never-1d", now.Add(-day), nil, nil),
		seed("svc-live", now.Add(-day), p(now), p(now.Add(time.Millisecond))),
		seed("other-expired", now.Add(-10*day), p(now), p(now.Add(-day))),
	}
	for _, tc := range []struct {
		name string
		opts hygiene.PruneOptions
		want []string // names deleted
	}{
		{"expired", hygiene.PruneOptions{Expired: true}, []string{"other-expired", "svc-expired"}},
		{"unused 90d", hygiene.PruneOptions{UnusedFor: 90 * day}, []string{"svc-unused-90d-1ms"}},
		{"never seen", hygiene.PruneOptions{NeverSeen: true}, []string{"svc-never-1d-1ms"}},
		{"all three, prefix", hygiene.PruneOptions{Expired: true, UnusedFor: 90 * day, NeverSeen: true, NamePrefix: "svc-"},
			[]string{"svc-expired", "svc-never-1d-1ms", "svc-unused-90d-1ms"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock(now)
			srv, c := standIn(t, clk, unleashtest.WithTokens(seeds...))
			bySecret := map[string]string{}
			for _, tk := range srv.Tokens() {
				bySecret[tk.Secret] = tk.TokenName
			}
			opts := tc.opts
			opts.Key, opts.Apply, opts.Now = srv.AdminKey(), true, clk.Now
			r, err := hygiene.Prune(context.Background(), c, opts)
			if err != nil {
				t.Fatal(err)
			}
			left := map[string]bool{}
			for _, tk := range srv.Tokens() {
				left[tk.TokenName] = true
			}
			var deleted []string
			for _, tk := range seeds {
				if !left[tk.TokenName] {
					deleted = append(deleted, tk.TokenName)
				}
			}
			slices.Sort(deleted)
			if !slices.Equal(deleted, tc.want) || !left["admin"] {
				t.Errorf("deleted %q, want %q (admin key left: %t)", deleted, tc.want, left["admin"])
			}
			var retired []string
			for _, res := range r.Results {
				if res.Status != hygiene.StatusRetired {
					t.Errorf("%s: %s", res.Token.TokenName, res.Status)
				}
				retired = append(retired, res.Token.TokenName)
			}
			if !slices.Equal(retired, tc.want) || r.Count(hygiene.StatusRetired) != len(tc.want) || r.DryRun {
				t.Errorf("report %v", r)
			}
			dels := 0
			for _, req := range srv.Requests() {
				if req.Method == "DELETE" {
					dels++
				}
			}
			if dels != len(tc.want) {
				t.Errorf("%d deletes sent for %d tokens", dels, len(tc.want))
			}
		})
	}
}

// TestPruneProtectsKeyOnStandIn: the admin key is never seen on the
// stand-in; two days on it matches --never-seen and is still left alone.
func TestPruneProtectsKeyOnStandIn(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	srv, c := standIn(t, clk)
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "quiet"})
	clk.Set(t0.Add(2 * day))
	r, err := hygiene.Prune(context.Background(), c, hygiene.PruneOptions{NeverSeen: true, Apply: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(r), []string{"protected admin", "retired quiet"}; !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
	if toks := srv.Tokens(); len(toks) != 1 || toks[0].TokenName != "admin" {
		t.Errorf("stand-in holds %v", toks)
	}
}

// TestPruneNeverDeletesKey: the key's token matches every class and is
// still protected as the key in use: by its secret, by its selector under
// secure token storage, and by its alias, given as PruneOptions.Key.
func TestPruneNeverDeletesKey(t *testing.T) {
	t.Parallel()
	const selector = "AbCdEfGhIjKlMnOpQrStUv"
	v2Key := "*:*.v2_" + selector + "_" + strings.Repeat("k", 43)
	for _, tc := range []struct {
		name string
		key  string
		edit func(*fakeToken)
	}{
		{"secret", fakeKey, func(*fakeToken) {}},
		{"selector", v2Key, func(t *fakeToken) { t.Secret, t.Secure = selector, true }},
		{"alias", "legacy-proxy-secret", func(t *fakeToken) { t.Alias = unleashadmin.Ptr("legacy-proxy-secret") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, tok("victim", t0.Add(-100*day), expires(t0.Add(-day))))
			key := &f.tokens[len(f.tokens)-1]
			key.ExpiresAt = unleashadmin.Ptr(t0.Add(-day)) // expired, never seen: matches all
			tc.edit(key)
			c, err := unleashadmin.NewClient(f.srv.URL, fakeKey, unleashadmin.WithRetryMax(0))
			if err != nil {
				t.Fatal(err)
			}
			r, err := hygiene.Prune(context.Background(), c, hygiene.PruneOptions{Key: tc.key, Expired: true, NeverSeen: true,
				UnusedFor: day, Apply: true, Now: func() time.Time { return t0 }})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := statuses(r), []string{"protected admin", "retired victim"}; !slices.Equal(got, want) {
				t.Errorf("results %q, want %q", got, want)
			}
			if res := r.Results[0]; res.Protection != unleashadmin.ProtectedKeyInUse || !strings.HasPrefix(res.Reason, "the key in use; ") {
				t.Errorf("the key's result %v", res)
			}
			if del := f.deletedSecrets(); len(del) != 1 || del[0] != f.tokens[0].Secret && len(f.tokens) != 1 {
				t.Errorf("deleted %d tokens", len(del))
			}
			if len(f.tokens) != 1 || f.tokens[0].TokenName != "admin" || len(f.methods("DELETE")) != 1 {
				t.Errorf("server holds %d tokens, got %d deletes", len(f.tokens), len(f.methods("DELETE")))
			}
		})
	}
}

// TestPruneFailedDelete: a delete answered 500 is reported failed with the
// error, never retired, the others are done, and the error matches
// ErrPruneIncomplete.
func TestPruneFailedDelete(t *testing.T) {
	t.Parallel()
	f := newFake(t,
		tok("a", t0.Add(-10*day), expires(t0)),
		tok("b", t0.Add(-10*day), expires(t0)),
		tok("c", t0.Add(-10*day), expires(t0)),
	)
	f.failDel[f.tokens[1].Secret] = 500
	r, err := hygiene.Prune(context.Background(), f.client(), hygiene.PruneOptions{Key: fakeKey, Expired: true, Apply: true,
		Now: func() time.Time { return t0 }})
	if !errors.Is(err, hygiene.ErrPruneIncomplete) || r == nil {
		t.Fatalf("err %v, report %v", err, r)
	}
	if got, want := statuses(r), []string{"retired a", "failed b", "retired c"}; !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
	var apiErr *unleashadmin.APIError
	if !errors.As(r.Results[1].Err, &apiErr) || apiErr.StatusCode != 500 {
		t.Errorf("failed result's error %v", r.Results[1].Err)
	}
	if n := len(f.deletedSecrets()); n != 2 {
		t.Errorf("server deleted %d", n)
	}
	if r.Count(hygiene.StatusFailed) != 1 || r.Count(hygiene.StatusRetired) != 2 {
		t.Errorf("counts %v", r)
	}
}

// TestPruneFailedDeleteOnStandIn: the same through the stand-in's fault
// queue, one delete at a time: the second delete's 503 is reported failed
// and the token is still held.
func TestPruneFailedDeleteOnStandIn(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	srv, c := standIn(t, clk)
	for _, n := range []string{"a", "b", "c"} {
		create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: n, ExpiresAt: unleashadmin.Ptr(t0.Add(time.Hour))})
	}
	clk.Set(t0.Add(time.Hour))
	var once sync.Once
	r, err := hygiene.Prune(context.Background(), c, hygiene.PruneOptions{Key: srv.AdminKey(), Expired: true, Apply: true, Parallel: 1,
		Now: clk.Now, Progress: func(res hygiene.PruneResult) {
			once.Do(func() { srv.FailNext(1, unleashtest.Fault{Status: 503, Body: []byte(`{"message":"busy"}`)}) })
		}})
	if !errors.Is(err, hygiene.ErrPruneIncomplete) {
		t.Fatalf("err %v", err)
	}
	if got, want := statuses(r), []string{"retired a", "failed b", "retired c"}; !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
	var held []string
	for _, tk := range srv.Tokens() {
		held = append(held, tk.TokenName)
	}
	if want := []string{"admin", "b"}; !slices.Equal(held, want) {
		t.Errorf("stand-in holds %q, want %q", held, want)
	}
}

// TestPruneConcurrencyBounded: deletes that take a while overlap, but never
// more than Parallel (default 4) at once.
func TestPruneConcurrencyBounded(t *testing.T) {
	t.Parallel()
	for _, parallel := range []int{0, 1, 3, 16} {
		want := parallel
		if want == 0 {
			want = unleashadmin.DefaultParallel
		}
		var list []fakeToken
		for i := range 20 {
			list = append(list, tok("t"+string(rune('a'+i)), t0.Add(-10*day), expires(t0)))
		}
		f := newFake(t, list...)
		f.delDelay = 30 * time.Millisecond
		r, err := hygiene.Prune(context.Background(), f.client(), hygiene.PruneOptions{Key: fakeKey, Expired: true, Apply: true,
			Parallel: parallel, Now: func() time.Time { return t0 }})
		if err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		most := f.maxDel
		f.mu.Unlock()
		if most != want || r.Count(hygiene.StatusRetired) != 20 {
			t.Errorf("Parallel %d: %d deletes at once (want %d), %d retired", parallel, most, want, r.Count(hygiene.StatusRetired))
		}
	}
}

// TestPruneContextEnds: once the context ends no more deletes are sent;
// what was not deleted is reported failed, and exactly the tokens the
// server deleted are reported retired.
func TestPruneContextEnds(t *testing.T) {
	t.Parallel()
	var list []fakeToken
	for i := range 10 {
		list = append(list, tok("t"+string(rune('a'+i)), t0.Add(-10*day), expires(t0)))
	}
	f := newFake(t, list...)
	f.delDelay = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var progress []string
	r, err := hygiene.Prune(ctx, f.client(), hygiene.PruneOptions{Key: fakeKey, Expired: true, Apply: true, Parallel: 2,
		Now: func() time.Time { return t0 }, Progress: func(res hygiene.PruneResult) {
			mu.Lock()
			defer mu.Unlock()
			progress = append(progress, res.Token.TokenName)
			if len(progress) == 3 {
				cancel()
			}
		}})
	if !errors.Is(err, hygiene.ErrPruneIncomplete) {
		t.Fatalf("err %v", err)
	}
	deleted := map[string]bool{}
	for _, s := range f.deletedSecrets() {
		deleted[s] = true
	}
	notAttempted := 0
	for _, res := range r.Results {
		// Retired only when the server did delete it. (A delete cut off
		// by the context may have been done all the same: that one is
		// reported failed, which is the truth as far as anyone knows.)
		if res.Status == hygiene.StatusRetired && !deleted[res.Token.Secret] {
			t.Errorf("%s reported retired, not deleted on the server", res.Token.TokenName)
		}
		if res.Status == hygiene.StatusFailed && !errors.Is(res.Err, context.Canceled) {
			t.Errorf("%s failed with %v", res.Token.TokenName, res.Err)
		}
		if res.Err != nil && strings.HasPrefix(res.Err.Error(), "hygiene: not attempted") {
			notAttempted++
		}
	}
	if len(deleted) > 5 || notAttempted < 4 || len(progress) != 10 {
		t.Errorf("%d deleted, %d not attempted, %d progress calls", len(deleted), notAttempted, len(progress))
	}
	if got := len(f.methods("DELETE")); got > 5 {
		t.Errorf("%d deletes sent after cancelling at the third answer", got)
	}
}

// TestPruneSecureStorage: listed tokens hold selectors; the delete is sent
// with the selector, and the stand-in no longer holds the token.
func TestPruneSecureStorage(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	srv, c := standIn(t, clk, unleashtest.WithSecureTokens())
	create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "x", ExpiresAt: unleashadmin.Ptr(t0.Add(time.Hour))})
	sel := srv.Tokens()[1].Selector
	clk.Set(t0.Add(time.Hour))
	before := srv.RequestCount()
	r, err := hygiene.Prune(context.Background(), c, hygiene.PruneOptions{Key: srv.AdminKey(), Expired: true, Apply: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var dels []string
	for _, req := range srv.Requests()[before:] {
		if req.Method == "DELETE" {
			dels = append(dels, req.Path)
		}
	}
	if !slices.Equal(dels, []string{"/api/admin/api-tokens/" + sel}) || r.Count(hygiene.StatusRetired) != 1 || len(srv.Tokens()) != 1 || sel == "" {
		t.Errorf("deletes %q, report %v", dels, r)
	}
}

// TestPruneBadOptions: refused before anything is sent.
func TestPruneBadOptions(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	for _, o := range []hygiene.PruneOptions{
		{Key: fakeKey},
		{Key: fakeKey, UnusedFor: 90 * time.Minute},
		{Key: fakeKey, UnusedFor: -day},
		{Key: fakeKey, Expired: true, Parallel: -1},
		{Key: fakeKey, Expired: true, Parallel: hygiene.MaxParallel + 1},
	} {
		r, err := hygiene.Prune(context.Background(), f.client(), o)
		if !errors.Is(err, unleashadmin.ErrInvalidArgument) || r != nil {
			t.Errorf("%+v: %v, %v", o, r, err)
		}
	}
	if _, err := hygiene.Prune(context.Background(), nil, hygiene.PruneOptions{Key: fakeKey, Expired: true}); !errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("nil Pruner: %v", err)
	}
	if len(f.requests) != 0 {
		t.Errorf("sent %q", f.requests)
	}
}

// TestPruneListFails: a refused list is the error; nothing is deleted.
func TestPruneListFails(t *testing.T) {
	t.Parallel()
	f := newFake(t, tok("a", t0.Add(-10*day), expires(t0)))
	c, err := unleashadmin.NewClient(f.srv.URL, "*:*.not-the-key-not-the-key-not-the-key", unleashadmin.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	r, err := hygiene.Prune(context.Background(), c, hygiene.PruneOptions{Key: fakeKey, Expired: true, Apply: true})
	if !errors.Is(err, unleashadmin.ErrUnauthorized) || r != nil || len(f.methods("DELETE")) != 0 {
		t.Errorf("%v, %v, %q", r, err, f.requests)
	}
}
