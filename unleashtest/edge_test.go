package unleashtest_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

type validated struct {
	Token       string   `json:"token"`
	Type        string   `json:"type"`
	Projects    []string `json:"projects"`
	Environment string   `json:"environment"`
}

// validate sends POST /edge/validate without a key and returns the tokens
// reported live.
func validate(t *testing.T, s *unleashtest.Server, secrets ...string) []validated {
	t.Helper()
	body, _ := json.Marshal(map[string][]string{"tokens": append([]string{}, secrets...)})
	r := send(t, s, "POST", "/edge/validate", "", "application/json", ptr(string(body)))
	wantStatus(t, r, http.StatusOK)
	wantJSONHeader(t, r)
	var out struct {
		Tokens []validated `json:"tokens"`
	}
	decode(t, r.body, &out)
	if out.Tokens == nil {
		t.Fatalf("no token list in %s", r.body)
	}
	return out.Tokens
}

func TestEdgeValidate(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		opts := []unleashtest.Option{unleashtest.WithProjects("default", "second")}
		backend := "client" // how default mode reports a backend token
		if secure {
			opts = append(opts, unleashtest.WithSecureTokens())
			backend = "backend"
		}
		s := unleashtest.NewTestServer(t, opts...)
		c := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
		b := create(t, s, `{"tokenName":"b","type":"backend","environment":"production","projects":["default"]}`)["secret"].(string)
		f := create(t, s, `{"tokenName":"f","type":"frontend","projects":["default","second"]}`)["secret"].(string)
		x := create(t, s, `{"tokenName":"x","type":"client","expiresAt":"2001-01-01T00:00:00Z"}`)["secret"].(string)

		got := validate(t, s, "nope", f, b, "", c, c, x, s.AdminKey(), ":")
		want := []validated{
			{f, "frontend", []string{"default", "second"}, "development"},
			{b, backend, []string{"default"}, "production"},
			{c, "client", []string{"*"}, "development"},
			{c, "client", []string{"*"}, "development"}, // once per time asked
			{s.AdminKey(), "admin", []string{"*"}, "*"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("secure=%v: validated %+v\n want %+v", secure, got, want)
		}
		if got := validate(t, s); len(got) != 0 {
			t.Errorf("empty list answered %v", got)
		}
		if secure {
			// A bare selector or a full secret with anything changed is
			// not live.
			m := v2SecretRE.FindStringSubmatch(c)
			if got := validate(t, s, m[2], "second:development.v2_"+m[2]+"_"+m[3], m[1]+".v2_"+m[2]+"_"+strings.Repeat("A", 43)); len(got) != 0 {
				t.Errorf("tampered secrets answered %v", got)
			}
		}
		// Deleted tokens are gone at once (the real server's cache keeps
		// them for a while).
		wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+strings.ReplaceAll(c, "*", "%2A")), http.StatusOK)
		if got := validate(t, s, c); len(got) != 0 {
			t.Errorf("deleted token answered %v", got)
		}
	}
}

func TestEdgeValidateRequests(t *testing.T) {
	t.Parallel()
	s := unleashtest.NewTestServer(t)
	secret := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
	body := `{"tokens":["` + secret + `"],"extra":1}`
	// No key needed, and an unknown one is ignored.
	for _, auth := range []string{"", "nope", s.AdminKey()} {
		r := send(t, s, "POST", "/edge/validate", auth, "application/json", &body)
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), secret) {
			t.Errorf("auth %q: %s", auth, r.body)
		}
	}
	for _, path := range []string{"/edge/validate/", "/Edge/Validate", "//edge//validate"} {
		wantStatus(t, send(t, s, "POST", path, "", "application/json", &body), http.StatusOK)
	}
	// Numbers, booleans and null are read as strings (none is live).
	if r := send(t, s, "POST", "/edge/validate", "", "application/json", ptr(`{"tokens":[1,true,null]}`)); string(r.body) != `{"tokens":[]}` {
		t.Errorf("coerced items: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		body, detail, path string
	}{
		{`{}`, "The `/body/tokens` property is required. It was not present on the data you sent.", "/body/tokens"},
		{`{"tokens":"x"}`, "The `/body/tokens` property must be array. You sent \"x\".", "/body/tokens"},
		{`{"tokens":[{}]}`, "The `/body/tokens/0` property must be string. You sent {}.", "/body/tokens/0"},
		{`["x"]`, "The `/body` property must be object. You sent [\"x\"].", "/body"},
	} {
		e := wantError(t, send(t, s, "POST", "/edge/validate", "", "application/json", &c.body), 400, "BadDataError", true)
		if len(e.Details) != 1 || e.Details[0].Message != c.detail || e.Details[0].Path != c.path {
			t.Errorf("%s: %+v", c.body, e.Details)
		}
	}
	wantStatus(t, send(t, s, "POST", "/edge/validate", "", "application/json", nil), 400)
	wantMessageOnly(t, send(t, s, "POST", "/edge/validate", "", "application/json", ptr(`{"tokens":[`)), 400, "Unexpected end of JSON input")
	wantError(t, send(t, s, "POST", "/edge/validate", "", "text/plain", &body), 415, "ContentTypeError", true)
	wantError(t, send(t, s, "POST", "/edge/validate", "", "", &body), 415, "ContentTypeError", true)
	wantError(t, send(t, s, "GET", "/edge/validate", "", "", nil), 404, "NotFoundError", true)
}

func TestUIConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		opts    []unleashtest.Option
		version string
		limit   float64
		secure  bool
	}{
		{nil, "8.2.0", 2000, false},
		{[]unleashtest.Option{unleashtest.WithVersion("7.6.5"), unleashtest.WithTokenLimit(3), unleashtest.WithSecureTokens()}, "7.6.5", 3, true},
		{[]unleashtest.Option{unleashtest.WithVersion(""), unleashtest.WithTokenLimit(-5)}, "8.2.0", 0, false},
	} {
		s := unleashtest.NewTestServer(t, c.opts...)
		r := admin(t, s, "GET", "/api/admin/ui-config")
		wantStatus(t, r, http.StatusOK)
		wantJSONHeader(t, r)
		m := object(t, r)
		flags, _ := m["flags"].(map[string]any)
		info, _ := m["versionInfo"].(map[string]any)
		current, _ := info["current"].(map[string]any)
		limits, _ := m["resourceLimits"].(map[string]any)
		if m["version"] != c.version || current["oss"] != c.version || limits["apiTokens"] != c.limit ||
			flags["secureTokenStorage"] != c.secure || m["unleashUrl"] != s.URL() || m["environment"] != "Open Source" {
			t.Errorf("%+v: %s", c, r.body)
		}
		if id, _ := info["instanceId"].(string); !uuidRE.MatchString(id) {
			t.Errorf("instanceId %v", info["instanceId"])
		}
		if again := object(t, admin(t, s, "GET", "/api/admin/ui-config/")); !reflect.DeepEqual(again, m) {
			t.Errorf("the answer changed: %v", again)
		}
	}
	s := unleashtest.NewTestServer(t)
	wantError(t, send(t, s, "GET", "/api/admin/ui-config", "", "", nil), 401, "AuthenticationRequired", true)
	client := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
	wantMessageOnly(t, send(t, s, "GET", "/api/admin/ui-config", client, "", nil), 403,
		"invalid token: expected a different token type for this endpoint")
	wantError(t, admin(t, s, "POST", "/api/admin/ui-config", `{}`), 404, "NotFoundError", true)
}

// Faults and the request log cover the new endpoints like the others.
func TestNewEndpointsFaultsAndLog(t *testing.T) {
	t.Parallel()
	s := unleashtest.NewTestServer(t, unleashtest.WithClock(func() time.Time { return time.Unix(0, 0) }))
	s.FailNext(1, unleashtest.Fault{Status: 503})
	wantStatus(t, send(t, s, "POST", "/edge/validate", "", "application/json", ptr(`{"tokens":[]}`)), 503)
	wantStatus(t, send(t, s, "POST", "/edge/validate", "", "application/json", ptr(`{"tokens":[]}`)), 200)
	reqs := s.Requests()
	if len(reqs) != 2 || !reqs[0].Faulted || reqs[1].Faulted || reqs[1].Path != "/edge/validate" || string(reqs[1].Body) != `{"tokens":[]}` {
		t.Errorf("requests %+v", reqs)
	}
}
