package hygiene_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/hygiene"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

func keyless(t *testing.T, url string) *unleashadmin.Client {
	t.Helper()
	c, err := unleashadmin.NewClientWithoutKey(url, unleashadmin.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// liveness returns "live type env projects" or "dead" for each result,
// projects sorted (Unleash gives them in no set order).
func liveness(r *hygiene.CheckReport) []string {
	var out []string
	for _, c := range r.Results {
		if !c.Live {
			out = append(out, "dead")
			continue
		}
		out = append(out, strings.Join([]string{"live", string(c.Type), c.Environment, strings.Join(slices.Sorted(slices.Values(c.Projects)), ",")}, " "))
	}
	return out
}

// TestCheck: order kept, a repeated secret answered each time, garbage,
// expired and deleted tokens not live, backend reported as client (as
// backend under secure token storage, where a selector is not live); no
// key sent.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"legacy", "secure"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			clk := newClock(t0)
			opts := []unleashtest.Option{unleashtest.WithProjects("default", "a", "b"), unleashtest.WithEnvironments("development", "production")}
			backendAs := "client"
			if mode == "secure" {
				opts, backendAs = append(opts, unleashtest.WithSecureTokens()), "backend"
			}
			srv, c := standIn(t, clk, opts...)
			backend := create(t, c, unleashadmin.CreateAPITokenRequest{Type: "backend", TokenName: "b", Environment: "production", Projects: []string{"b", "a"}})
			front := create(t, c, unleashadmin.CreateAPITokenRequest{Type: "frontend", TokenName: "f"})
			dead := create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "d", ExpiresAt: unleashadmin.Ptr(t0.Add(time.Hour))})
			gone := create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "g"})
			if err := c.DeleteAPIToken(context.Background(), gone.Secret); err != nil {
				t.Fatal(err)
			}
			clk.Set(t0.Add(time.Hour))
			secrets := []string{front.Secret, "garbage", backend.Secret, dead.Secret, front.Secret, gone.Secret, secret("default", "development")}
			want := []string{"live frontend development *", "dead", "live " + backendAs + " production a,b", "dead", "live frontend development *", "dead", "dead"}
			if mode == "secure" {
				secrets = append(secrets, srv.Tokens()[1].Selector) // backend's
				want = append(want, "dead")
			}
			before := srv.RequestCount()

			r, err := hygiene.Check(context.Background(), keyless(t, srv.URL()), secrets)
			if err != nil {
				t.Fatal(err)
			}
			if got := liveness(r); !slices.Equal(got, want) {
				t.Errorf("results %q, want %q", got, want)
			}
			for i, c := range r.Results {
				if c.Secret != secrets[i] {
					t.Errorf("result %d is for another secret", i)
				}
			}
			if r.AllLive() || len(r.NotLive()) != len(want)-3 {
				t.Errorf("AllLive %t, %d not live", r.AllLive(), len(r.NotLive()))
			}
			reqs := srv.Requests()[before:]
			if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != "/edge/validate" || reqs[0].Header.Get("Authorization") != "" {
				t.Errorf("sent %+v", reqs)
			}

			r, err = hygiene.Check(context.Background(), keyless(t, srv.URL()), []string{backend.Secret, front.Secret})
			if err != nil || !r.AllLive() || len(r.NotLive()) != 0 {
				t.Errorf("all live: %v, %v", r, err)
			}
		})
	}
}

// TestCheckJSON: one shape per result, secrets redacted, nulls for a
// secret that is not live.
func TestCheckJSON(t *testing.T) {
	t.Parallel()
	srv, c := standIn(t, newClock(t0))
	live := create(t, c, unleashadmin.CreateAPITokenRequest{Type: "client", TokenName: "l", Projects: []string{"default"}})
	garbage := "*:development." + strings.Repeat("f", 56)
	r, err := hygiene.Check(context.Background(), keyless(t, srv.URL()), []string{live.Secret, garbage})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"results":[{"secret":"` + unleashadmin.RedactSecret(live.Secret) + `","live":true,"type":"client","environment":"development","projects":["default"]},` +
		`{"secret":"*:development.ffff***","live":false,"type":null,"environment":null,"projects":null}]}`
	if string(b) != want {
		t.Errorf("JSON\n%s\nwant\n%s", b, want)
	}
	if b, _ := json.Marshal(hygiene.CheckReport{}); string(b) != `{"results":[]}` {
		t.Errorf("empty report: %s", b)
	}
}

// TestCheckBadInput: refused before anything is sent, the error naming the
// position and not the text.
func TestCheckBadInput(t *testing.T) {
	t.Parallel()
	f := newFake(t)
	good := secret("default", "development")
	for _, in := range [][]string{
		{good, ""},
		{good, "two words" + good[10:]},
		{"line\nbreak" + good[10:]},
		{strings.Repeat("x", hygiene.MaxSecretLen+1)},
	} {
		r, err := hygiene.Check(context.Background(), keyless(t, f.srv.URL), in)
		if !errors.Is(err, unleashadmin.ErrInvalidArgument) || r != nil {
			t.Errorf("%d secrets: %v, %v", len(in), r, err)
			continue
		}
		if strings.Contains(err.Error(), good[20:]) || !strings.Contains(err.Error(), "secret ") {
			t.Errorf("error %q", err)
		}
	}
	if r, err := hygiene.Check(context.Background(), keyless(t, f.srv.URL), nil); err != nil || len(r.Results) != 0 {
		t.Errorf("no secrets: %v, %v", r, err)
	}
	if len(f.requests) != 0 {
		t.Errorf("sent %q", f.requests)
	}
}

// TestCheckServerFails: an error answer is the error, with no report.
func TestCheckServerFails(t *testing.T) {
	t.Parallel()
	c := keyless(t, "http://127.0.0.1:1") // nothing listens on port 1
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if r, err := hygiene.Check(ctx, c, []string{secret("default", "development")}); err == nil || r != nil {
		t.Errorf("%v, %v", r, err)
	}
}

func TestReadSecrets(t *testing.T) {
	t.Parallel()
	a, b := secret("default", "development"), secret("*", "production")
	got, err := hygiene.ReadSecrets(strings.NewReader("  " + a + "\r\n\n\t\n" + b + "\n" + a))
	if err != nil || !slices.Equal(got, []string{a, b, a}) {
		t.Errorf("got %d secrets, %v", len(got), err)
	}
	for in, line := range map[string]string{
		a + "\n" + "with space" + b + "\n":                       "line 2 ",
		a + "\n\n" + strings.Repeat("y", hygiene.MaxSecretLen+1): "line 3 ",
		strings.Repeat("z", 70000):                               "line 1 ",
	} {
		_, err := hygiene.ReadSecrets(strings.NewReader(in))
		if !errors.Is(err, unleashadmin.ErrInvalidArgument) || !strings.Contains(err.Error(), line) ||
			strings.Contains(err.Error(), b[20:]) || strings.Contains(err.Error(), "yyyy") {
			t.Errorf("want an error naming %q, got %v", line, err)
		}
	}
	if got, err := hygiene.ReadSecrets(strings.NewReader("\n \n")); err != nil || len(got) != 0 {
		t.Errorf("blank input: %q, %v", got, err)
	}
}

func TestReadSecretDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b, c := secret("default", "development"), secret("*", "production"), secret("default", "production")
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("checkout", a+"\n")
	write("billing", b+"\r\n")
	write("no-newline", c)
	write(".hidden", "not a secret at all\n")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "x"), []byte("nested\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A Kubernetes secret volume: files are links into a hidden folder.
	if err := os.Mkdir(filepath.Join(dir, "..data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "..data", "linked"), []byte(a+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", "linked"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	got, err := hygiene.ReadSecretDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"billing", "checkout", "linked", "no-newline"}) ||
		got[0].Secret != b || got[1].Secret != a || got[2].Secret != a || got[3].Secret != c {
		t.Errorf("read %v", got)
	}

	for name, content := range map[string]string{
		"empty":     "\n",
		"two-lines": a + "\n" + b + "\n",
		"huge":      strings.Repeat("h", 5000),
	} {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := hygiene.ReadSecretDir(d)
		if !errors.Is(err, unleashadmin.ErrInvalidArgument) || !strings.Contains(err.Error(), "file "+name+" ") ||
			strings.Contains(err.Error(), a[20:]) || strings.Contains(err.Error(), b[20:]) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := hygiene.ReadSecretDir(filepath.Join(dir, "missing")); err == nil || errors.Is(err, unleashadmin.ErrInvalidArgument) {
		t.Errorf("missing dir: %v", err)
	}
}
