package unleashtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

var v2SecretRE = regexp.MustCompile(`^(.+)\.v2_([A-Za-z0-9_-]{22})_([A-Za-z0-9_-]{43})$`)

// secureServer is a stand-in in secure mode with the projects default and
// second.
func secureServer(t *testing.T, opts ...unleashtest.Option) *unleashtest.Server {
	t.Helper()
	return unleashtest.NewTestServer(t, append([]unleashtest.Option{
		unleashtest.WithSecureTokens(), unleashtest.WithProjects("default", "second"),
	}, opts...)...)
}

// find returns the token of the Server whose secret is secret.
func find(t *testing.T, s *unleashtest.Server, secret string) (unleashtest.Token, bool) {
	t.Helper()
	for _, tok := range s.Tokens() {
		if tok.Secret == secret {
			return tok, true
		}
	}
	return unleashtest.Token{}, false
}

func TestSecureCreate(t *testing.T) {
	t.Parallel()
	s := secureServer(t)
	cases := []struct {
		path, body, prefix, typ string
		projects                []any
		keys                    string
	}{
		{"/api/admin/api-tokens", `{"tokenName":"c","type":"client"}`, "*:development", "client", []any{"*"},
			"projects,tokenName,type,environment,createdAt,secure,secret,project"},
		{"/api/admin/api-tokens", `{"type":"BACKEND","tokenName":"b","expiresAt":"2030-01-02T03:04:05+02:00","environment":"production","projects":["default"]}`,
			"default:production", "backend", []any{"default"},
			"projects,tokenName,type,environment,expiresAt,createdAt,secure,secret,project"},
		{"/api/admin/api-tokens", `{"tokenName":"m","type":"frontend","projects":["second","default"]}`, "[]:development", "frontend",
			[]any{"second", "default"}, "projects,tokenName,type,environment,createdAt,secure,secret,project"},
		{"/api/admin/api-tokens", `{"tokenName":"s","type":"client","projects":["default","*"]}`, "*:development", "client", []any{"*"},
			"projects,tokenName,type,environment,createdAt,secure,secret,project"},
		{"/api/admin/projects/second/api-tokens", `{"tokenName":"p","type":"backend","projects":["default"]}`, "second:development", "backend",
			[]any{"second"}, "projects,tokenName,type,environment,createdAt,secure,secret,project"},
	}
	for _, c := range cases {
		r := admin(t, s, "POST", c.path, c.body)
		wantStatus(t, r, http.StatusCreated)
		if loc := r.header.Get("Location"); loc != "api-tokens" {
			t.Errorf("%s: Location %q", c.body, loc)
		}
		if got := topKeys(t, r.body); got != c.keys {
			t.Errorf("%s: keys %s, want %s", c.body, got, c.keys)
		}
		m := object(t, r)
		secret, _ := m["secret"].(string)
		parts := v2SecretRE.FindStringSubmatch(secret)
		if parts == nil || parts[1] != c.prefix {
			t.Errorf("%s: secret %q, want %s.v2_<22>_<43>", c.body, secret, c.prefix)
			continue
		}
		if m["type"] != c.typ || m["secure"] != true || !reflect.DeepEqual(m["projects"], c.projects) ||
			m["project"] != strings.Join(anyStrings(c.projects), ",") {
			t.Errorf("%s: created %s", c.body, r.body)
		}
		if _, ok := m["alias"]; ok {
			t.Errorf("%s: alias in the answer %s", c.body, r.body)
		}
		tok, ok := find(t, s, secret)
		if !ok || tok.Selector != parts[2] || !tok.Secure || tok.Type != c.typ || tok.SeenAt != nil {
			t.Errorf("%s: held %+v", c.body, tok)
		}
	}
	if tok, _ := find(t, s, s.AdminKey()); tok.Secure || tok.Selector != "" {
		t.Errorf("the admin key is held as %+v", tok)
	}
}

func anyStrings(v []any) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i], _ = x.(string)
	}
	return out
}

func TestSecureLists(t *testing.T) {
	t.Parallel()
	s := secureServer(t)
	exp := create(t, s, `{"tokenName":"exp","type":"backend","expiresAt":"2031-01-01T00:00:00Z","projects":["default","second"]}`)
	plain := create(t, s, `{"tokenName":"plain","type":"client","projects":["second"]}`)
	selOf := func(secret any) string { return v2SecretRE.FindStringSubmatch(secret.(string))[2] }

	r := admin(t, s, "GET", "/api/admin/api-tokens")
	list := tokens(t, r)
	if len(list) != 3 {
		t.Fatalf("%d tokens: %s", len(list), r.body)
	}
	// The admin key (legacy) first, as Unleash lists its legacy store
	// before the secure one, and with its full secret.
	if list[0]["secret"] != s.AdminKey() || list[0]["secure"] != false || list[0]["seenAt"] != nil || list[0]["alias"] != nil {
		t.Errorf("admin key listed as %v", list[0])
	}
	if _, ok := list[0]["alias"]; !ok {
		t.Errorf("the legacy admin key lacks alias: %v", list[0])
	}
	want := []map[string]any{
		{"secret": selOf(exp["secret"]), "tokenName": "exp", "type": "backend", "projects": []any{"default", "second"},
			"project": "default,second", "environment": "development", "expiresAt": "2031-01-01T00:00:00.000Z", "secure": true},
		{"secret": selOf(plain["secret"]), "tokenName": "plain", "type": "client", "projects": []any{"second"},
			"project": "second", "environment": "development", "secure": true},
	}
	for i, w := range want {
		got := list[i+1]
		if _, ok := got["createdAt"].(string); !ok {
			t.Errorf("no createdAt in %v", got)
		}
		delete(got, "createdAt")
		if !reflect.DeepEqual(got, w) {
			t.Errorf("listed %v\n want %v", got, w)
		}
	}
	byName := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/plain"))
	if len(byName) != 1 || byName[0]["secret"] != selOf(plain["secret"]) {
		t.Errorf("by name: %v", byName)
	}
	if proj := tokens(t, admin(t, s, "GET", "/api/admin/projects/default/api-tokens")); len(proj) != 3 {
		t.Errorf("the admin key's project list holds %d tokens, want all 3", len(proj))
	}
}

func TestSecureUpdateAndDelete(t *testing.T) {
	t.Parallel()
	s := secureServer(t)
	secret := create(t, s, `{"tokenName":"u","type":"client","projects":["default"]}`)["secret"].(string)
	parts := v2SecretRE.FindStringSubmatch(secret)
	sel := parts[2]
	expiry := func() string {
		tok, ok := find(t, s, secret)
		if !ok {
			return "gone"
		}
		if tok.ExpiresAt == nil {
			return ""
		}
		return tok.ExpiresAt.Format(time.RFC3339)
	}
	put := func(ref, at string) {
		t.Helper()
		wantEmpty(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+url.PathEscape(ref), `{"expiresAt":"`+at+`"}`), http.StatusOK)
	}
	put(sel, "2031-01-01T00:00:00Z")
	if got := expiry(); got != "2031-01-01T00:00:00Z" {
		t.Errorf("after a PUT by selector: %q", got)
	}
	put(secret, "2032-01-01T00:00:00Z")
	if got := expiry(); got != "2032-01-01T00:00:00Z" {
		t.Errorf("after a PUT by the full secret: %q", got)
	}
	// Unleash finds the token by the selector alone.
	put("junk.v2_"+sel+"_"+strings.Repeat("B", 43), "2033-01-01T00:00:00Z")
	if got := expiry(); got != "2033-01-01T00:00:00Z" {
		t.Errorf("after a PUT by another prefix and secret part: %q", got)
	}
	// Selectors are case-sensitive; unknown ones are not an error.
	put(strings.ToLower(sel), "2034-01-01T00:00:00Z")
	put(strings.Repeat("A", 22), "2034-01-01T00:00:00Z")
	if got := expiry(); got != "2033-01-01T00:00:00Z" {
		t.Errorf("after PUTs of unknown selectors: %q", got)
	}

	// The project endpoint: 404 for an unknown selector, 400 for a token of
	// several projects, and the selector of a full secret.
	multi := create(t, s, `{"tokenName":"m","type":"client","projects":["default","second"]}`)["secret"].(string)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+strings.Repeat("A", 22)), http.StatusNotFound)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+v2SecretRE.FindStringSubmatch(multi)[2]), http.StatusBadRequest)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/second/api-tokens/"+url.PathEscape(secret)), http.StatusBadRequest)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+url.PathEscape(parts[1]+".v2_"+sel+"_"+strings.Repeat("C", 43))), http.StatusOK)
	if got := expiry(); got != "gone" {
		t.Errorf("after the project delete: %q", got)
	}
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+sel), http.StatusNotFound)

	// The general endpoint: by selector and by full secret, unknown ones
	// included.
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+strings.Repeat("A", 22)), http.StatusOK)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+url.PathEscape(multi)), http.StatusOK)
	if _, ok := find(t, s, multi); ok {
		t.Error("deleting by the full secret left the token")
	}
	other := create(t, s, `{"tokenName":"o","type":"frontend"}`)["secret"].(string)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+v2SecretRE.FindStringSubmatch(other)[2]), http.StatusOK)
	if n := len(s.Tokens()); n != 1 {
		t.Errorf("%d tokens left, want the admin key alone", n)
	}
}

// In secure mode a legacy token (here seeded) is still changed by its
// secret, and a v2-looking reference never reaches it.
func TestSecureModeKeepsLegacyTokens(t *testing.T) {
	t.Parallel()
	const legacy = "default:development.legacy-token-secret"
	s := secureServer(t, unleashtest.WithTokens(unleashtest.Token{Secret: legacy, TokenName: "legacy", Type: "backend", Projects: []string{"default"}}))
	list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/legacy"))
	if len(list) != 1 || list[0]["secret"] != legacy || list[0]["secure"] != false || list[0]["type"] != "client" {
		t.Fatalf("legacy seed listed as %v", list)
	}
	wantEmpty(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+legacy, `{"expiresAt":"2030-01-01T00:00:00Z"}`), http.StatusOK)
	tok, _ := find(t, s, legacy)
	if tok.ExpiresAt == nil {
		t.Error("PUT by the legacy secret changed nothing")
	}
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+legacy), http.StatusOK)
	if _, ok := find(t, s, legacy); ok {
		t.Error("the project delete left the legacy token")
	}
	if ev := s.Events(); len(ev) != 2 || ev[0].Type != unleashtest.EventAPITokenUpdated || ev[0].Project != "*" {
		t.Errorf("events %+v", ev)
	}
}

func TestSecureAuthentication(t *testing.T) {
	t.Parallel()
	var now = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	s := secureServer(t, unleashtest.WithClock(func() time.Time { return now }))
	secret := create(t, s, `{"tokenName":"c","type":"client"}`)["secret"].(string)
	parts := v2SecretRE.FindStringSubmatch(secret)
	const forbidden = "invalid token: expected a different token type for this endpoint"
	for _, auth := range []string{secret, "Bearer " + secret} {
		wantMessageOnly(t, send(t, s, "GET", "/api/admin/api-tokens", auth, "", nil), 403, forbidden)
	}
	// The whole secret must match: not another prefix, not another secret
	// part, not the selector alone.
	for _, bad := range []string{
		"default:development.v2_" + parts[2] + "_" + parts[3],
		parts[1] + ".v2_" + parts[2] + "_" + strings.Repeat("A", 43),
		parts[2],
	} {
		wantError(t, send(t, s, "GET", "/api/admin/api-tokens", bad, "", nil), 401, "UnauthorizedError", true)
	}
	// A token in secure storage that authenticates has its seenAt set at
	// once (even where its type is then refused).
	tok, _ := find(t, s, secret)
	if tok.SeenAt == nil || !tok.SeenAt.Equal(now) {
		t.Errorf("seenAt %v after use, want %v", tok.SeenAt, now)
	}
	seen := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/c"))[0]
	if seen["seenAt"] != "2030-05-06T07:08:09.000Z" {
		t.Errorf("listed after use: %v", seen)
	}
	// An expired one does not authenticate, and is not marked.
	exp := create(t, s, `{"tokenName":"x","type":"client","expiresAt":"2001-01-01T00:00:00Z"}`)["secret"].(string)
	wantError(t, send(t, s, "GET", "/api/admin/api-tokens", exp, "", nil), 401, "UnauthorizedError", true)
	if tok, _ := find(t, s, exp); tok.SeenAt != nil {
		t.Errorf("expired token marked seen: %+v", tok)
	}
}

func TestSecureCreateErrors(t *testing.T) {
	t.Parallel()
	s := secureServer(t)
	fk := "INSERT INTO api_tokens_v2_project\n                         VALUES ($1, $2) - insert or update on table \"api_tokens_v2_project\" " +
		"violates foreign key constraint \"api_tokens_v2_project_project_fkey\""
	dup := "INSERT INTO api_tokens_v2_project\n                         VALUES ($1, $2) - duplicate key value violates unique constraint \"api_tokens_v2_project_pkey\""
	for body, msg := range map[string]string{
		`{"tokenName":"n","type":"client","projects":["nope"]}`:              fk,
		`{"tokenName":"n","type":"client","projects":["default","nope"]}`:    fk,
		`{"tokenName":"n","type":"client","projects":["default","default"]}`: dup,
	} {
		e := wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", body), http.StatusInternalServerError, "UnknownError", false)
		if e.Message != msg || len(e.Details) != 1 || e.Details[0].Message != msg {
			t.Errorf("%s: %+v", body, e)
		}
	}
	// The environment is checked first, as in default mode.
	e := wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"n","type":"client","environment":"nope","projects":["nope"]}`),
		400, "BadDataError", false)
	if e.Details[0].Message != "Environment=nope does not exist" {
		t.Errorf("%+v", e)
	}
	wantError(t, admin(t, s, "POST", "/api/admin/projects/nope/api-tokens", `{"tokenName":"n","type":"client"}`), 404, "NotFoundError", false)
	if n, ev := len(s.Tokens()), len(s.Events()); n != 1 || ev != 0 {
		t.Errorf("after failed creates: %d tokens, %d events", n, ev)
	}
}

// Only tokens in secure storage count against the limit in secure mode:
// not the admin key, not legacy seeds.
func TestSecureTokenLimit(t *testing.T) {
	t.Parallel()
	s := secureServer(t, unleashtest.WithTokenLimit(2), unleashtest.WithTokens(
		unleashtest.Token{Secret: "*:development.legacy-one", TokenName: "l1", Type: "client"},
		unleashtest.Token{Secret: "*:development.legacy-two", TokenName: "l2", Type: "client"},
	))
	create(t, s, `{"tokenName":"s1","type":"client"}`)
	create(t, s, `{"tokenName":"s2","type":"client"}`)
	wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"s3","type":"client"}`), 400, "ExceedsLimitError", false)
	wantError(t, admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":"s3","type":"client"}`), 400, "ExceedsLimitError", false)

	// And the other way round: secure seeds do not count in default mode.
	d := unleashtest.NewTestServer(t, unleashtest.WithTokenLimit(2), unleashtest.WithTokens(
		unleashtest.Token{TokenName: "v2", Type: "client", Secure: true},
	))
	create(t, d, `{"tokenName":"l","type":"client"}`)
	wantError(t, admin(t, d, "POST", "/api/admin/api-tokens", `{"tokenName":"l2","type":"client"}`), 400, "ExceedsLimitError", false)
}

func TestSecureEvents(t *testing.T) {
	t.Parallel()
	s := secureServer(t)
	secret := create(t, s, `{"tokenName":"ev","type":"backend","projects":["default"]}`)["secret"].(string)
	sel := v2SecretRE.FindStringSubmatch(secret)[2]
	wantEmpty(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+sel, `{"expiresAt":"2031-01-01T00:00:00Z"}`), http.StatusOK)
	wantEmpty(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+sel, `{"expiresAt":"2031-01-01T00:00:00Z"}`), http.StatusOK) // no change, no event
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+url.PathEscape(secret)), http.StatusOK)

	r := admin(t, s, "GET", "/api/admin/search/events")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.body), v2SecretRE.FindStringSubmatch(secret)[3]) {
		t.Fatalf("an event holds the secret: %s", r.body)
	}
	var page struct {
		Events []map[string]any `json:"events"`
		Total  int              `json:"total"`
	}
	decode(t, r.body, &page)
	if page.Total != 3 || len(page.Events) != 3 {
		t.Fatalf("events: %s", r.body)
	}
	del, upd, cre := page.Events[0], page.Events[1], page.Events[2]
	for _, e := range page.Events {
		if e["groupType"] != "transaction" || !regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`).MatchString(e["groupId"].(string)) {
			t.Errorf("event %v: groupType %v, groupId %v", e["id"], e["groupType"], e["groupId"])
		}
		if e["project"] != "default" {
			t.Errorf("event %v: project %v, want default (an update in secure storage keeps it)", e["type"], e["project"])
		}
	}
	data := cre["data"].(map[string]any)
	if data["selector"] != sel || data["tokenVersion"] != 2.0 || data["type"] != "backend" || data["secure"] != true {
		t.Errorf("created data %v", data)
	}
	var raw struct {
		Events []json.RawMessage `json:"events"`
	}
	decode(t, r.body, &raw)
	var withData struct {
		Data json.RawMessage `json:"data"`
	}
	decode(t, raw.Events[2], &withData)
	if got := topKeys(t, withData.Data); got != "tokenName,type,projects,project,environment,createdAt,secure,selector,tokenVersion" {
		t.Errorf("created data keys %s", got)
	}
	if d := upd["data"].(map[string]any); d["expiresAt"] != "2031-01-01T00:00:00.000Z" || d["selector"] != sel {
		t.Errorf("updated data %v", d)
	}
	if p := upd["preData"].(map[string]any); p["expiresAt"] != nil || p["selector"] != sel {
		t.Errorf("updated preData %v", p)
	}
	if p := del["preData"].(map[string]any); del["data"] != nil || p["selector"] != sel || p["expiresAt"] != "2031-01-01T00:00:00.000Z" {
		t.Errorf("deleted %v", del)
	}
	// The search finds them by selector.
	var found struct{ Total int }
	decode(t, admin(t, s, "GET", "/api/admin/search/events?query="+sel).body, &found)
	if found.Total != 3 {
		t.Errorf("%d events found by selector, want 3", found.Total)
	}
}
