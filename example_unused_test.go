package unleashadmin_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

func ExampleDecideRetire() {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) *time.Time { t := now.Add(-ago); return &t }
	old := unleashadmin.APIToken{TokenName: "checkout", Secret: "old-secret", CreatedAt: now.AddDate(0, -3, 0), SeenAt: at(4 * time.Minute)}
	replacement := unleashadmin.APIToken{TokenName: "checkout", Secret: "new-secret", CreatedAt: now.Add(-time.Hour), SeenAt: at(time.Minute)}
	p := unleashadmin.UnusedPolicy{Quiet: 10 * time.Minute, Within: 7 * 24 * time.Hour}

	// A service still used the old token four minutes ago.
	d := unleashadmin.DecideRetire(old, replacement, now, p)
	fmt.Println(d.Retire, d.StillInUse)
	fmt.Println(d.Reason)

	// Seven minutes later it has been quiet for eleven.
	d = unleashadmin.DecideRetire(old, replacement, now.Add(7*time.Minute), p)
	fmt.Println(d.Retire, d.StillInUse)
	fmt.Println(d.Reason)
	// Output:
	// false true
	// waits: the old token was last used 2030-06-01T11:56:00Z, 4m ago, within the quiet period of 10m (unused from 2030-06-01T12:06:00Z at the earliest); retired anyway from 2030-06-08T11:00:00Z (within 7d)
	// true false
	// retire: the replacement was used 2030-06-01T11:59:00Z, 8m ago, and the old token was last used 2030-06-01T11:56:00Z, 11m ago, unused for at least the quiet period of 10m
}

func ExampleUnusedPolicy_Check() {
	info := unleashadmin.ServerInfo{Version: "8.2.0"} // default token storage
	old := unleashadmin.APIToken{TokenName: "checkout", Secret: "default:production.0123"}
	fmt.Println(unleashadmin.MinQuiet(info, old))
	fmt.Println(unleashadmin.UnusedPolicy{Quiet: time.Minute}.Check(info, old))
	fmt.Println(unleashadmin.UnusedPolicy{Quiet: 10 * time.Minute}.Check(info, old))
	// Output:
	// 3m15s
	// unleashadmin: UnusedPolicy: invalid argument: quiet 1m is shorter than 3m15s: Unleash 8.2.0 records a use of this token up to 3m late (in default token storage a job writes a token's use to seenAt every 3 minutes), plus a margin of 15s
	// <nil>
}

func ExampleUseRecordingDelay() {
	secure := unleashadmin.ServerInfo{Version: "8.2.0", SecureTokens: true}
	listed := unleashadmin.APIToken{Secret: "AbCdEfGhIjKlMnOpQrStUv", Secure: true} // a v2 token as a list shows it
	legacy := unleashadmin.APIToken{Secret: "*:*.unleash-insecure-admin-api-token"}
	fmt.Println(unleashadmin.UseRecordingDelay(secure, listed), unleashadmin.UseRecordingDelay(secure, legacy))
	// Output: 5s 3m0s
}

// exampleClock is a clock an example moves by hand.
type exampleClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *exampleClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *exampleClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// A rotation that retires the old token only once the services have
// switched: against the stand-in in secure token storage, where a use is
// recorded at once, on a clock the example moves. Against a real server,
// leave Now out and give the watch a Timeout of minutes or hours.
func ExampleClient_RotateAPIToken_waitUnused() {
	clock := &exampleClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv := unleashtest.NewServer(unleashtest.WithSecureTokens(), unleashtest.WithClock(clock.Now))
	defer srv.Close()
	c, _ := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	defer c.CloseIdleConnections()
	ctx := context.Background()
	old, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: "checkout"})
	if err != nil {
		log.Fatal(err)
	}
	// use stands for a service reading its flags with a secret.
	use := func(secret string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/api/client/features", nil)
		req.Header.Set("Authorization", secret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	use(old.Secret)

	var fresh string
	look := 0
	r, err := c.RotateAPIToken(ctx, *old, unleashadmin.RotateOptions{
		Deliver: func(_ context.Context, t unleashadmin.APIToken) error { fresh = t.Secret; return nil },
		Now:     clock.Now,
		WaitUnused: &unleashadmin.UnusedWait{
			Policy:       unleashadmin.UnusedPolicy{Quiet: time.Minute},
			Timeout:      time.Minute,
			PollInterval: time.Millisecond,
			Progress: func(d unleashadmin.RetireDecision) {
				look++
				fmt.Printf("look %d: retire %t\n", look, d.Retire)
				// The services switch to the new secret; the old one goes quiet.
				use(fresh)
				clock.Add(30 * time.Second)
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.OldDeleted, r.Waited.Reason)
	// Output:
	// look 1: retire false
	// look 2: retire false
	// look 3: retire true
	// true retire: the replacement was used 2030-01-02T03:04:35Z, 30s ago, and the old token was last used 2030-01-02T03:04:05Z, 1m ago, unused for at least the quiet period of 1m
}
