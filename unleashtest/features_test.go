package unleashtest_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

const (
	noTokenMessage   = "This endpoint requires an API token. Please add an authorization header to your request with a valid token"
	wrongTypeMessage = "invalid token: expected a different token type for this endpoint"
)

// use sends GET path with auth and the extra headers (name, value pairs).
func use(t *testing.T, s *unleashtest.Server, path, auth string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// TestClientAPI checks GET /api/client/features against what Unleash 8.2.0
// answered for the same tokens (testdata/captures-8.2.0, docs/SERVERS.md):
// the body byte for byte, the ETag, the client spec and the 304.
func TestClientAPI(t *testing.T) {
	t.Parallel()
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	all := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
	proj := create(t, s, `{"tokenName":"p","type":"backend","projects":["default"],"environment":"production"}`)["secret"].(string)
	multi := create(t, s, `{"tokenName":"m","type":"client","projects":["default","second"],"environment":"production"}`)["secret"].(string)

	for _, tc := range []struct {
		name, secret, spec, want, etag string
	}{
		{"all projects", all, "",
			`{"version":2,"features":[],"query":{"environment":"development","inlineSegmentConstraints":true},"meta":{"revisionId":0,"etag":"\"76d8bb0e:0:v1\"","queryHash":"76d8bb0e"}}`,
			`"76d8bb0e:0:v1"`},
		{"one project", proj, "",
			`{"version":2,"features":[],"query":{"project":["default"],"environment":"production","inlineSegmentConstraints":true},"meta":{"revisionId":0,"etag":"\"9e6ab8a8:0:v1\"","queryHash":"9e6ab8a8"}}`,
			`"9e6ab8a8:0:v1"`},
		{"two projects", multi, "",
			`{"version":2,"features":[],"query":{"project":["default","second"],"environment":"production","inlineSegmentConstraints":true},"meta":{"revisionId":0,"etag":"\"ac7d2ac0:0:v1\"","queryHash":"ac7d2ac0"}}`,
			`"ac7d2ac0:0:v1"`},
		{"client spec 5.2.0", multi, "5.2.0",
			`{"version":2,"features":[],"query":{"project":["default","second"],"environment":"production","inlineSegmentConstraints":false},"segments":[],"meta":{"revisionId":0,"etag":"\"8ebbb2ce:0:v1\"","queryHash":"8ebbb2ce"}}`,
			`"8ebbb2ce:0:v1"`},
		{"a pre-release of spec 4.2.0", all, "4.2.0-beta",
			`{"version":2,"features":[],"query":{"environment":"development","inlineSegmentConstraints":true},"meta":{"revisionId":0,"etag":"\"76d8bb0e:0:v1\"","queryHash":"76d8bb0e"}}`,
			`"76d8bb0e:0:v1"`},
		{"Bearer form", "Bearer " + all, "",
			`{"version":2,"features":[],"query":{"environment":"development","inlineSegmentConstraints":true},"meta":{"revisionId":0,"etag":"\"76d8bb0e:0:v1\"","queryHash":"76d8bb0e"}}`,
			`"76d8bb0e:0:v1"`},
	} {
		var hdr []string
		if tc.spec != "" {
			hdr = []string{"Unleash-Client-Spec", tc.spec}
		}
		r := use(t, s, "/api/client/features", tc.secret, hdr...)
		wantStatus(t, r, 200)
		wantJSONHeader(t, r)
		if string(r.body) != tc.want {
			t.Errorf("%s: body\n%s\nwant\n%s", tc.name, r.body, tc.want)
		}
		if got := r.header.Get("ETag"); got != tc.etag {
			t.Errorf("%s: ETag %s, want %s", tc.name, got, tc.etag)
		}
		// The same ETag back gets a bare 304.
		r = use(t, s, "/api/client/features", tc.secret, append(hdr, "If-None-Match", tc.etag)...)
		if r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Errorf("%s: with If-None-Match: %d %q, want a bare 304", tc.name, r.status, r.body)
		}
	}
	// A trailing slash and another letter case are the same route.
	wantStatus(t, use(t, s, "/API/Client/Features/", all), 200)

	// A client spec that is not a strict semantic version: 400 BadDataError
	// without an id, naming the header.
	for spec, msg := range map[string]string{
		"banana": `Invalid prefix in the Unleash-Client-Spec header: "banana".`,
		"v4.3.0": `Invalid prefix in the Unleash-Client-Spec header: "v4.3.0".`,
		"4.2":    `Invalid SemVer in the Unleash-Client-Spec header: "4.2".`,
	} {
		e := wantError(t, use(t, s, "/api/client/features", all, "Unleash-Client-Spec", spec), 400, "BadDataError", false)
		if e.Details[0].Message != msg {
			t.Errorf("spec %q: %+v", spec, e)
		}
	}
	// No flag exists.
	e := wantError(t, use(t, s, "/api/client/features/foo", all), 404, "NotFoundError", false)
	if e.Message != "Could not find feature flag foo" {
		t.Errorf("one flag: %+v", e)
	}
	// Other methods: authenticated as on GET, then an unknown route.
	wantMessageOnly(t, send(t, s, "POST", "/api/client/features", "", "", nil), 401, noTokenMessage)
	e = wantError(t, send(t, s, "POST", "/api/client/features", all, "", nil), 404, "NotFoundError", true)
	if e.Message != "The path you were looking for (/api/client/features) is not available." {
		t.Errorf("POST: %+v", e)
	}
}

// TestFrontendAPI checks GET /api/frontend: the empty toggle list, with
// the headers Unleash 8.2.0 sends.
func TestFrontendAPI(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		s := unleashtest.NewTestServer(t, mode(secure)...)
		fe := create(t, s, `{"tokenName":"f","type":"frontend","environment":"production"}`)["secret"].(string)
		r := use(t, s, "/api/frontend", fe)
		wantStatus(t, r, 200)
		wantJSONHeader(t, r)
		if string(r.body) != `{"toggles":[]}` {
			t.Errorf("secure %t: body %s", secure, r.body)
		}
		for k, v := range map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers": "ETag", "Cache-Control": "no-cache",
		} {
			if got := r.header.Get(k); got != v {
				t.Errorf("secure %t: %s: %q, want %q", secure, k, got, v)
			}
		}
		r = use(t, s, "/api/frontend", "")
		wantMessageOnly(t, r, 401, noTokenMessage)
		if r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("secure %t: no CORS header on the 401", secure)
		}
		wantError(t, send(t, s, "DELETE", "/api/frontend", fe, "", nil), 404, "NotFoundError", true)
	}
}

// mode returns the options of a Server in default or secure token storage.
func mode(secure bool) []unleashtest.Option {
	if secure {
		return []unleashtest.Option{unleashtest.WithSecureTokens()}
	}
	return nil
}

// TestFeatureAPIAuthentication checks who gets in where, in both storage
// modes, as Unleash 8.2.0 answered (docs/SERVERS.md): 401 for no key, an
// unknown or an expired token; 403 for a token of the other API, for the
// admin key and for a personal access token's form.
func TestFeatureAPIAuthentication(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		s := unleashtest.NewTestServer(t, mode(secure)...)
		client := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
		backend := create(t, s, `{"tokenName":"b","type":"backend"}`)["secret"].(string)
		frontend := create(t, s, `{"tokenName":"f","type":"frontend"}`)["secret"].(string)
		expired := create(t, s, `{"tokenName":"x","type":"client","expiresAt":"2001-01-01T00:00:00Z"}`)["secret"].(string)
		expiredFE := create(t, s, `{"tokenName":"xf","type":"frontend","expiresAt":"2001-01-01T00:00:00Z"}`)["secret"].(string)
		for _, tc := range []struct {
			path, key string
			status    int
		}{
			{"/api/client/features", "", 401},
			{"/api/client/features", "garbage", 401},
			{"/api/client/features", "bearer", 401},
			{"/api/client/features", "*:development.0000000000000000000000000000000000000000000000000000000a", 401},
			{"/api/client/features", "*:development.v2_AAAAAAAAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401},
			{"/api/client/features", expired, 401},
			{"/api/client/features", frontend, 403},
			{"/api/client/features", s.AdminKey(), 403},
			{"/api/client/features", "*:*.nonexistent", 403},
			{"/api/client/features", "user:abc", 403},
			{"/api/client/features", client, 200},
			{"/api/client/features", backend, 200},
			{"/api/frontend", "", 401},
			{"/api/frontend", "garbage", 401},
			{"/api/frontend", expiredFE, 401},
			{"/api/frontend", client, 403},
			{"/api/frontend", "Bearer " + backend, 403},
			{"/api/frontend", s.AdminKey(), 403},
			{"/api/frontend", frontend, 200},
			{"/api/frontend", "Bearer " + frontend, 200},
		} {
			r := use(t, s, tc.path, tc.key)
			switch tc.status {
			case 401:
				wantMessageOnly(t, r, 401, noTokenMessage)
			case 403:
				wantMessageOnly(t, r, 403, wrongTypeMessage)
			default:
				wantStatus(t, r, tc.status)
			}
		}
		// The feature tokens still get the admin API's own answers there.
		wantMessageOnly(t, use(t, s, "/api/admin/api-tokens", client), 403, wrongTypeMessage)
	}
}

// TestSeenAtInBatches follows a legacy token's uses into its seenAt on a
// Server in default mode with an injected clock: a use shows at the next
// write of the seenAt job, every three minutes from the Server's start,
// with the write's time as seenAt, as Unleash does.
func TestSeenAtInBatches(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 5, 6, 7, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: start}
	s := unleashtest.NewTestServer(t, unleashtest.WithClock(clock.Now))
	client := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
	frontend := create(t, s, `{"tokenName":"f","type":"frontend"}`)["secret"].(string)
	other := create(t, s, `{"tokenName":"o","type":"client"}`)["secret"].(string)
	expired := create(t, s, `{"tokenName":"x","type":"client","expiresAt":"2001-01-01T00:00:00Z"}`)["secret"].(string)

	listedSeen := func(name string) any {
		t.Helper()
		return tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/"+name))[0]["seenAt"]
	}
	seenOf := func(secret string) *time.Time {
		t.Helper()
		tok, ok := find(t, s, secret)
		if !ok {
			t.Fatal("token gone")
		}
		return tok.SeenAt
	}

	clock.Set(start.Add(10 * time.Second))
	wantStatus(t, use(t, s, "/api/client/features", client), 200)
	wantStatus(t, use(t, s, "/api/frontend", frontend), 200)
	// A frontend token on the client API authenticates before it is
	// refused: its use counts too. An expired token's does not.
	wantStatus(t, use(t, s, "/api/client/features", frontend), 403)
	wantStatus(t, use(t, s, "/api/client/features", expired), 401)
	// Unlike on Unleash, a legacy token's use on the admin API is not
	// recorded: neither that of a client token refused there nor that of
	// the admin key, which every admin call here uses.
	wantStatus(t, use(t, s, "/api/admin/api-tokens", other), 403)

	clock.Set(start.Add(3*time.Minute - time.Millisecond))
	if got := listedSeen("c"); got != nil {
		t.Fatalf("seenAt %v before the job's first write", got)
	}
	if got := seenOf(client); got != nil {
		t.Fatalf("Tokens: seenAt %v before the job's first write", got)
	}

	clock.Set(start.Add(3 * time.Minute))
	for _, name := range []string{"c", "f"} {
		if got := listedSeen(name); got != "2030-05-06T07:03:00.000Z" {
			t.Errorf("%s: seenAt %v at the first write, want 07:03:00.000", name, got)
		}
	}
	if got := seenOf(frontend); got == nil || !got.Equal(start.Add(3*time.Minute)) {
		t.Errorf("Tokens: frontend seenAt %v", got)
	}
	if got := listedSeen("o"); got != nil {
		t.Errorf("token used on the admin API only: seenAt %v", got)
	}
	if got := seenOf(expired); got != nil {
		t.Errorf("expired token: seenAt %v", got)
	}
	if admins := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/admin")); admins[0]["seenAt"] != nil {
		t.Errorf("admin key: %v", admins[0])
	}

	// A use just after a write waits for the next one; Tokens sees it as
	// well as the lists.
	clock.Set(start.Add(3*time.Minute + time.Second))
	wantStatus(t, use(t, s, "/api/client/features", other), 200)
	clock.Set(start.Add(6*time.Minute - time.Millisecond))
	if got := seenOf(other); got != nil {
		t.Errorf("seenAt %v before the second write", got)
	}
	clock.Set(start.Add(6 * time.Minute))
	if got := seenOf(other); got == nil || !got.Equal(start.Add(6*time.Minute)) {
		t.Errorf("seenAt %v at the second write", got)
	}
	if got := listedSeen("c"); got != "2030-05-06T07:03:00.000Z" {
		t.Errorf("a token not used again keeps its seenAt: %v", got)
	}
	// Several writes missed at once (the clock jumped): the use is
	// written at the first write after it.
	clock.Set(start.Add(6*time.Minute + 30*time.Second))
	wantStatus(t, use(t, s, "/api/client/features", client), 200)
	clock.Set(start.Add(time.Hour))
	if got := listedSeen("c"); got != "2030-05-06T07:09:00.000Z" {
		t.Errorf("after a jump: seenAt %v, want 07:09:00.000", got)
	}
}

// TestSeenAtInterval checks WithSeenAtInterval: another interval, and 0
// for at once.
func TestSeenAtInterval(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 5, 6, 7, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		interval time.Duration
		visible  time.Duration // after the start; the use is at 70 s
		seenAt   string
	}{
		{time.Minute, 2 * time.Minute, "2030-05-06T07:02:00.000Z"},
		{0, 70 * time.Second, "2030-05-06T07:01:10.000Z"},
		{-time.Second, 70 * time.Second, "2030-05-06T07:01:10.000Z"},
		{time.Microsecond, 70 * time.Second, "2030-05-06T07:01:10.000Z"}, // cut to 0
	} {
		clock := &fakeClock{now: start}
		s := unleashtest.NewTestServer(t, unleashtest.WithClock(clock.Now), unleashtest.WithSeenAtInterval(tc.interval))
		secret := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
		clock.Set(start.Add(70 * time.Second))
		wantStatus(t, use(t, s, "/api/client/features", secret), 200)
		clock.Set(start.Add(tc.visible - time.Millisecond))
		if tc.visible > 70*time.Second {
			if got := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/c"))[0]["seenAt"]; got != nil {
				t.Errorf("interval %v: seenAt %v too early", tc.interval, got)
			}
		}
		clock.Set(start.Add(tc.visible))
		if got := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/c"))[0]["seenAt"]; got != tc.seenAt {
			t.Errorf("interval %v: seenAt %v, want %s", tc.interval, got, tc.seenAt)
		}
	}
}

// TestSeenAtSecureAtOnce checks that in secure token storage a use shows
// at once, with the use's time, whatever the interval, on the feature APIs
// and on the admin API (where it is refused), while a legacy token waits
// for the job.
func TestSeenAtSecureAtOnce(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 5, 6, 7, 0, 0, 0, time.UTC)
	clock := &fakeClock{now: start}
	const legacy = "*:development.0123456789abcdef0123456789abcdef0123456789abcdef01234567"
	s := secureServer(t, unleashtest.WithClock(clock.Now), unleashtest.WithSeenAtInterval(time.Hour),
		unleashtest.WithTokens(unleashtest.Token{TokenName: "l", Type: "client", Secret: legacy}))
	backend := create(t, s, `{"tokenName":"b","type":"backend"}`)["secret"].(string)
	frontend := create(t, s, `{"tokenName":"f","type":"frontend"}`)["secret"].(string)
	client := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
	clock.Set(start.Add(1234 * time.Millisecond))
	wantStatus(t, use(t, s, "/api/client/features", backend), 200)
	wantStatus(t, use(t, s, "/api/frontend", frontend), 200)
	wantStatus(t, use(t, s, "/api/admin/api-tokens", client), 403)
	wantStatus(t, use(t, s, "/api/client/features", legacy), 200)
	for _, name := range []string{"b", "f", "c"} {
		if got := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/"+name))[0]["seenAt"]; got != "2030-05-06T07:00:01.234Z" {
			t.Errorf("%s: seenAt %v, want the use's time at once", name, got)
		}
	}
	if got := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/l"))[0]["seenAt"]; got != nil {
		t.Errorf("legacy token: seenAt %v before the job's write", got)
	}
	clock.Set(start.Add(time.Hour))
	if got := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/l"))[0]["seenAt"]; got != "2030-05-06T08:00:00.000Z" {
		t.Errorf("legacy token: seenAt %v at the job's write", got)
	}
}
