package integration

import (
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

// soakWorkers share one Client, each creating, finding, updating, rotating
// and deleting its own tokens. Each holds at most two live tokens (during a
// rotation), far below Unleash's default limit of 2,000 per instance.
const soakWorkers = 32

// TestSoak runs soakWorkers goroutines on one Client against the real
// server for the duration in UNLEASH_SOAK (for example 60s), and checks:
// no call fails, every created token is listed, every update is visible,
// every deleted token is gone, and afterwards the server holds exactly the
// tokens it held before. It reports operations per second and the median
// and 99th-percentile latency of each operation.
//
// It runs only against a real server (UNLEASH_URL and UNLEASH_API_TOKEN)
// with UNLEASH_SOAK set, and is not parallel: the package's parallel tests
// wait until it ends, so nothing else in this process touches the server's
// token list meanwhile. (make integration-real also runs the test binaries
// of its packages one at a time.)
func TestSoak(t *testing.T) {
	soak := os.Getenv("UNLEASH_SOAK")
	if !target.real || soak == "" || soak == "0" || soak == "off" {
		t.Skip("set UNLEASH_URL, UNLEASH_API_TOKEN and UNLEASH_SOAK (a duration such as 60s) to soak a real server")
	}
	dur, err := time.ParseDuration(soak)
	if err != nil || dur <= 0 {
		t.Fatalf("UNLEASH_SOAK=%q is not a positive duration", soak)
	}
	// The SDK as a service would use it: default transport, retries and
	// timeouts.
	c, err := unleashadmin.NewClient(target.url, target.key, unleashadmin.WithUserAgent("unleashadmin-soak/"+unleashadmin.Version))
	if err != nil {
		t.Fatal(err)
	}
	before := soakSnapshot(t, c)
	if len(before) > 2000-2*soakWorkers-100 {
		t.Fatalf("the server holds %d tokens; the soak needs room for %d more under the limit of 2,000", len(before), 2*soakWorkers)
	}

	s := &soakRun{c: c, prefix: target.runID + "-soak-", lat: map[string][]time.Duration{}, live: map[string]string{}}
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for w := range soakWorkers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && !s.tooManyErrors(); i++ {
				s.cycle(t, w, i)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Whatever a failed cycle left behind goes now, so that the comparison
	// below finds a leak only if a delete said it worked and did not.
	for secret, name := range s.liveTokens() {
		t.Errorf("token %s (%s) was still live after the soak", unleashadmin.RedactSecret(secret), name)
		_ = c.DeleteAPIToken(context.Background(), secret)
	}

	after := soakSnapshot(t, c)
	lost, added := diffTokens(before, after)
	for _, tok := range lost {
		t.Errorf("lost: token %q %s was on the server before the soak and is gone", tok.TokenName, unleashadmin.RedactSecret(tok.Secret))
	}
	for _, tok := range added {
		t.Errorf("leaked: token %q %s is on the server after the soak and was not before", tok.TokenName, unleashadmin.RedactSecret(tok.Secret))
	}
	s.report(t, elapsed, len(before), len(after), len(lost), len(added))
}

// soakSnapshot lists every token on the server, by secret.
func soakSnapshot(t *testing.T, c *unleashadmin.Client) map[string]unleashadmin.APIToken {
	t.Helper()
	toks, err := c.ListAPITokens(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]unleashadmin.APIToken, len(toks))
	for _, tok := range toks {
		out[tok.Secret] = tok
	}
	return out
}

func diffTokens(before, after map[string]unleashadmin.APIToken) (lost, added []unleashadmin.APIToken) {
	for s, tok := range before {
		if _, ok := after[s]; !ok {
			lost = append(lost, tok)
		}
	}
	for s, tok := range after {
		if _, ok := before[s]; !ok {
			added = append(added, tok)
		}
	}
	return lost, added
}

// soakRun is the shared state of the workers.
type soakRun struct {
	c      *unleashadmin.Client
	prefix string

	mu      sync.Mutex
	lat     map[string][]time.Duration // per operation
	live    map[string]string          // secret -> name of tokens created and not yet deleted
	errs    int
	created int
	found   int
	updated int
	rotated int
	deleted int
	gone    int
}

func (s *soakRun) tooManyErrors() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errs >= 50
}

func (s *soakRun) liveTokens() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.live)
}

// timed runs one call of operation op and records its latency.
func (s *soakRun) timed(op string, call func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err := call(ctx)
	d := time.Since(start)
	s.mu.Lock()
	s.lat[op] = append(s.lat[op], d)
	s.mu.Unlock()
	return err
}

// fail records an unexpected outcome.
func (s *soakRun) fail(t *testing.T, format string, args ...any) {
	t.Helper()
	s.mu.Lock()
	s.errs++
	n := s.errs
	s.mu.Unlock()
	if n <= 20 {
		t.Errorf(format, args...)
	}
}

func (s *soakRun) count(field *int) {
	s.mu.Lock()
	*field++
	s.mu.Unlock()
}

func (s *soakRun) track(secret, name string, live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if live {
		s.live[secret] = name
	} else {
		delete(s.live, secret)
	}
}

// cycle is one token's life: create, find, update, maybe rotate, delete,
// check it is gone. The iteration number varies the endpoints used.
func (s *soakRun) cycle(t *testing.T, w, i int) {
	c := s.c
	name := fmt.Sprintf("%s%02d-%05d", s.prefix, w, i)
	kinds := types()
	typ := kinds[(w+i)%len(kinds)]
	viaProject := i%2 == 1
	allProjects := !viaProject && i%4 == 0 // a "*" token, not in project default

	var tok *unleashadmin.APIToken
	var err error
	if viaProject {
		err = s.timed("CreateProjectAPIToken", func(ctx context.Context) error {
			tok, err = c.CreateProjectAPIToken(ctx, "default", unleashadmin.CreateProjectAPITokenRequest{Type: typ, TokenName: name})
			return err
		})
	} else {
		req := unleashadmin.CreateAPITokenRequest{Type: typ, TokenName: name, Environment: "development"}
		if !allProjects {
			req.Projects = []string{"default"}
		}
		err = s.timed("CreateAPIToken", func(ctx context.Context) error {
			tok, err = c.CreateAPIToken(ctx, req)
			return err
		})
	}
	if err != nil {
		s.fail(t, "%s: create: %v", name, err)
		return
	}
	s.track(tok.Secret, name, true)
	s.count(&s.created)

	// Found in a list: the whole instance, the project, or by name.
	var listed []unleashadmin.APIToken
	switch {
	case i%3 == 0:
		err = s.timed("ListAPITokens", func(ctx context.Context) error { listed, err = c.ListAPITokens(ctx); return err })
	case i%3 == 1 && !allProjects:
		err = s.timed("ListProjectAPITokens", func(ctx context.Context) error {
			listed, err = c.ListProjectAPITokens(ctx, "default")
			return err
		})
	default:
		err = s.timed("GetAPITokensByName", func(ctx context.Context) error { listed, err = c.GetAPITokensByName(ctx, name); return err })
	}
	if err != nil {
		s.fail(t, "%s: list: %v", name, err)
	} else if !hasToken(listed, tok.Secret) {
		s.fail(t, "%s: created token %s is not in the list of %d", name, unleashadmin.RedactSecret(tok.Secret), len(listed))
	} else {
		s.count(&s.found)
	}

	// An expiry update, visible at once.
	at := time.Now().Add(time.Duration(24+i%48) * time.Hour).UTC().Truncate(time.Millisecond)
	if err := s.timed("UpdateAPITokenExpiry", func(ctx context.Context) error { return c.UpdateAPITokenExpiry(ctx, tok.Secret, at) }); err != nil {
		s.fail(t, "%s: update: %v", name, err)
	} else {
		err = s.timed("GetAPITokensByName", func(ctx context.Context) error { listed, err = c.GetAPITokensByName(ctx, name); return err })
		if err != nil || len(listed) != 1 || listed[0].ExpiresAt == nil || !listed[0].ExpiresAt.Equal(at) {
			s.fail(t, "%s: after the update to %v: %v, %v", name, at, listed, err)
		} else {
			s.count(&s.updated)
		}
	}

	// Every fourth token is rotated: a new one replaces it, the old goes.
	if i%4 == 3 {
		var rot *unleashadmin.Rotation
		err = s.timed("RotateAPIToken", func(ctx context.Context) error {
			rot, err = c.RotateAPIToken(ctx, *tok, unleashadmin.RotateOptions{})
			return err
		})
		if rot != nil && rot.New != nil {
			s.track(rot.New.Secret, name, true)
		}
		if err != nil {
			s.fail(t, "%s: rotate: %v", name, err)
			return
		}
		s.track(tok.Secret, name, false)
		tok = rot.New
		err = s.timed("GetAPITokensByName", func(ctx context.Context) error { listed, err = c.GetAPITokensByName(ctx, name); return err })
		if err != nil || len(listed) != 1 || !hasToken(listed, tok.Secret) {
			s.fail(t, "%s: after the rotation: %v, %v", name, listed, err)
		} else {
			s.count(&s.rotated)
		}
	}

	// Delete, through the project when the token is in that one project.
	if len(tok.Projects) == 1 && tok.Projects[0] == "default" && i%3 != 2 {
		err = s.timed("DeleteProjectAPIToken", func(ctx context.Context) error { return c.DeleteProjectAPIToken(ctx, "default", tok.Secret) })
	} else {
		err = s.timed("DeleteAPIToken", func(ctx context.Context) error { return c.DeleteAPIToken(ctx, tok.Secret) })
	}
	if err != nil {
		s.fail(t, "%s: delete: %v", name, err)
		return
	}
	s.track(tok.Secret, name, false)
	s.count(&s.deleted)

	// Gone: by name every time, from the whole list now and then.
	err = s.timed("GetAPITokensByName", func(ctx context.Context) error { listed, err = c.GetAPITokensByName(ctx, name); return err })
	if err == nil && len(listed) == 0 && i%8 == 0 {
		err = s.timed("ListAPITokens", func(ctx context.Context) error { listed, err = c.ListAPITokens(ctx); return err })
	}
	switch {
	case err != nil:
		s.fail(t, "%s: list after delete: %v", name, err)
	case hasToken(listed, tok.Secret):
		s.fail(t, "%s: deleted token %s is still listed", name, unleashadmin.RedactSecret(tok.Secret))
	default:
		s.count(&s.gone)
	}
}

// hasToken finds a token by secret, or by the selector of a secret under
// secure token storage.
func hasToken(toks []unleashadmin.APIToken, secret string) bool {
	return slices.ContainsFunc(toks, func(t unleashadmin.APIToken) bool { return t.Matches(secret) })
}

// report prints throughput and latency per operation.
func (s *soakRun) report(t *testing.T, elapsed time.Duration, before, after, lost, added int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ops := make([]string, 0, len(s.lat))
	total := 0
	for op, l := range s.lat {
		ops = append(ops, op)
		total += len(l)
	}
	sort.Strings(ops)
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %d workers on one Client for %v against %s\n", soakWorkers, elapsed.Round(time.Millisecond), target.shown)
	fmt.Fprintf(&b, "soak: %d operations, %.1f ops/s, %d unexpected errors\n", total, float64(total)/elapsed.Seconds(), s.errs)
	fmt.Fprintf(&b, "soak: tokens created %d, found in a list %d, updated %d, rotated %d, deleted %d, gone after delete %d\n",
		s.created, s.found, s.updated, s.rotated, s.deleted, s.gone)
	fmt.Fprintf(&b, "soak: server tokens before %d, after %d, lost %d, leaked %d\n", before, after, lost, added)
	fmt.Fprintf(&b, "soak: %-22s %7s %8s %9s %9s %9s\n", "operation", "count", "ops/s", "p50", "p99", "max")
	for _, op := range ops {
		l := slices.Clone(s.lat[op])
		slices.Sort(l)
		fmt.Fprintf(&b, "soak: %-22s %7d %8.1f %9v %9v %9v\n", op, len(l), float64(len(l))/elapsed.Seconds(),
			percentile(l, 50).Round(10*time.Microsecond), percentile(l, 99).Round(10*time.Microsecond), l[len(l)-1].Round(10*time.Microsecond))
	}
	t.Log("\n" + b.String())
	fmt.Print(b.String())
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}
