package unleashtest_test

import (
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

var secretRE = regexp.MustCompile(`^(\*|\[\]|[a-z]+):(development|production)\.[0-9a-f]{56}$`)

func TestInitialAdminTokenListed(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	for _, auth := range []string{s.AdminKey(), "Bearer " + s.AdminKey(), "bearer " + s.AdminKey()} {
		r := send(t, s, "GET", "/api/admin/api-tokens", auth, "", nil)
		wantJSONHeader(t, r)
		list := tokens(t, r)
		if len(list) != 1 {
			t.Fatalf("%d tokens, want 1: %s", len(list), r.body)
		}
		tok := list[0]
		want := map[string]any{
			"secret": unleashtest.DefaultAdminKey, "tokenName": "admin", "type": "admin",
			"project": "*", "projects": []any{"*"}, "environment": "*",
			"expiresAt": nil, "alias": nil, "seenAt": nil, "secure": false,
		}
		for k, v := range want {
			if !reflect.DeepEqual(tok[k], v) {
				t.Errorf("%s = %#v, want %#v", k, tok[k], v)
			}
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", tok["createdAt"].(string)); err != nil {
			t.Errorf("createdAt %v: %v", tok["createdAt"], err)
		}
	}
}

func TestSeveralAdminKeys(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithAdminKeys("*:*.one", "*:*.two"))
	if s.AdminKey() != "*:*.one" {
		t.Errorf("AdminKey %q", s.AdminKey())
	}
	r := send(t, s, "GET", "/api/admin/api-tokens/admin", "Bearer *:*.two", "", nil)
	if list := tokens(t, r); len(list) != 2 {
		t.Errorf("%d admin tokens, want 2", len(list))
	}
	wantError(t, send(t, s, "GET", "/api/admin/api-tokens", unleashtest.DefaultAdminKey, "", nil),
		401, "UnauthorizedError", true)
}

func TestAuthentication(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	routes := [][2]string{
		{"GET", "/api/admin/api-tokens"},
		{"POST", "/api/admin/api-tokens"},
		{"POST", "/api/admin/projects/default/api-tokens"},
		{"GET", "/api/admin/projects/default/api-tokens"},
		{"PUT", "/api/admin/api-tokens/x"},
		{"DELETE", "/api/admin/api-tokens/x"},
		{"DELETE", "/api/admin/projects/default/api-tokens/x"},
		{"PATCH", "/api/admin/api-tokens/x"},
	}
	for _, rt := range routes {
		r := send(t, s, rt[0], rt[1], "", "", nil)
		e := wantError(t, r, 401, "AuthenticationRequired", true)
		m := object(t, r)
		if m["path"] != "/auth/simple/login" || m["type"] != "password" || m["defaultHidden"] != false {
			t.Errorf("%v: body %s", rt, r.body)
		}
		if !strings.Contains(e.Message, "no authorization header") {
			t.Errorf("message %q", e.Message)
		}
		for _, bad := range []string{"garbage", "*:*.unknown-admin-token", "Bearer nope"} {
			e := wantError(t, send(t, s, rt[0], rt[1], bad, "", nil), 401, "UnauthorizedError", true)
			if e.Message != "You must log in to use Unleash." || e.Details[0].Message != e.Message {
				t.Errorf("%v: %+v", rt, e)
			}
		}
	}
	// Checks run in order: an unknown key wins over a wrong content type.
	wantError(t, send(t, s, "POST", "/api/admin/api-tokens", "nope", "text/plain", ptr(`{}`)),
		401, "UnauthorizedError", true)
}

func TestNonAdminTokensForbidden(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	var secrets []string
	for _, typ := range []string{"client", "backend", "frontend"} {
		secrets = append(secrets, create(t, s, `{"tokenName":"t","type":"`+typ+`"}`)["secret"].(string))
	}
	for _, secret := range secrets {
		for _, auth := range []string{secret, "Bearer " + secret} {
			const msg = "invalid token: expected a different token type for this endpoint"
			wantMessageOnly(t, send(t, s, "GET", "/api/admin/api-tokens", auth, "", nil), 403, msg)
			wantMessageOnly(t, send(t, s, "GET", "/api/admin/projects/default/api-tokens", auth, "", nil), 403, msg)
			// 403 comes before 415 and before schema validation.
			wantMessageOnly(t, send(t, s, "POST", "/api/admin/api-tokens", auth, "text/plain", ptr(`x`)), 403, msg)
			wantMessageOnly(t, send(t, s, "POST", "/api/admin/api-tokens", auth, "application/json", ptr(`{}`)), 403, msg)
		}
	}
}

func TestCreate(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))

	r := admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"t-client-min","type":"client"}`)
	wantStatus(t, r, 201)
	wantJSONHeader(t, r)
	if got := r.header.Get("Location"); got != "api-tokens" {
		t.Errorf("Location %q", got)
	}
	m := object(t, r)
	want := map[string]any{
		"tokenName": "t-client-min", "projects": []any{"*"}, "environment": "development",
		"type": "client", "alias": nil, "project": "*", "secure": false,
	}
	for k, v := range want {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if _, ok := m["expiresAt"]; ok {
		t.Error("expiresAt present without being set")
	}
	if _, ok := m["seenAt"]; ok {
		t.Error("seenAt present in a create response")
	}
	if !secretRE.MatchString(m["secret"].(string)) || !strings.HasPrefix(m["secret"].(string), "*:development.") {
		t.Errorf("secret %v", m["secret"])
	}
	if len(m) != 9 {
		t.Errorf("%d fields, want 9: %s", len(m), r.body)
	}

	cases := []struct {
		body string
		want map[string]any
	}{
		{`{"tokenName":"t-backend-full","type":"backend","environment":"development","projects":["default"],"expiresAt":"2030-01-02T03:04:05.000Z"}`,
			map[string]any{"type": "backend", "project": "default", "projects": []any{"default"}, "expiresAt": "2030-01-02T03:04:05.000Z"}},
		{`{"tokenName":"fe","type":"frontend","environment":"production"}`,
			map[string]any{"type": "frontend", "environment": "production", "project": "*"}},
		{`{"tokenName":"up","type":"BACKEND"}`, map[string]any{"type": "backend"}},
		{`{"tokenName":"mixed","type":"Frontend"}`, map[string]any{"type": "frontend", "environment": "development"}},
		{`{"tokenName":"singular","type":"backend","project":"default"}`, map[string]any{"project": "*", "projects": []any{"*"}}},
		{`{"tokenName":"singular-unknown","type":"backend","project":"nope"}`, map[string]any{"project": "*"}},
		{`{"tokenName":"both","type":"backend","project":"second","projects":["default"]}`, map[string]any{"project": "default"}},
		{`{"tokenName":"star","type":"backend","projects":["*"]}`, map[string]any{"project": "*"}},
		{`{"tokenName":"multi","type":"backend","projects":["default","second"]}`,
			map[string]any{"project": "default,second", "projects": []any{"default", "second"}}},
		{`{"tokenName":"offset","type":"backend","expiresAt":"2031-07-04T11:26:24+02:00"}`,
			map[string]any{"expiresAt": "2031-07-04T09:26:24.000Z"}},
		{`{"tokenName":"past","type":"backend","expiresAt":"2001-01-01T00:00:00Z"}`,
			map[string]any{"expiresAt": "2001-01-01T00:00:00.000Z"}},
		{`{"tokenName":"micro","type":"backend","expiresAt":"2030-01-02T03:04:05.123456Z"}`,
			map[string]any{"expiresAt": "2030-01-02T03:04:05.123Z"}},
		{`{"tokenName":5,"type":"backend"}`, map[string]any{"tokenName": "5"}},
		{`{"tokenName":"extra","type":"backend","foo":"bar"}`, map[string]any{"tokenName": "extra"}},
		{`{"tokenName":"my token #1","type":"frontend"}`, map[string]any{"tokenName": "my token #1"}},
	}
	for _, c := range cases {
		m := create(t, s, c.body)
		for k, v := range c.want {
			if !reflect.DeepEqual(m[k], v) {
				t.Errorf("%s: %s = %#v, want %#v", c.body, k, m[k], v)
			}
		}
		if _, ok := m["foo"]; ok {
			t.Errorf("%s: unknown field echoed", c.body)
		}
		secret := m["secret"].(string)
		if !secretRE.MatchString(secret) {
			t.Errorf("%s: secret %q", c.body, secret)
		}
		prefix := m["project"].(string)
		if strings.Contains(prefix, ",") {
			prefix = "[]"
		}
		if !strings.HasPrefix(secret, prefix+":"+m["environment"].(string)+".") {
			t.Errorf("%s: secret %q does not match project/environment", c.body, secret)
		}
	}

	// application/json with a charset is accepted.
	r = send(t, s, "POST", "/api/admin/api-tokens", s.AdminKey(), "application/json; charset=utf-8",
		ptr(`{"tokenName":"charset","type":"backend"}`))
	wantStatus(t, r, 201)
}

func TestBackendListedAsClient(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	if got := create(t, s, `{"tokenName":"b","type":"backend"}`)["type"]; got != "backend" {
		t.Fatalf("create says %v", got)
	}
	list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/b"))
	if len(list) != 1 || list[0]["type"] != "client" {
		t.Fatalf("listed as %v", list)
	}
	for _, k := range []string{"secret", "tokenName", "type", "project", "projects", "environment", "expiresAt", "createdAt", "alias", "seenAt", "secure"} {
		if _, ok := list[0][k]; !ok {
			t.Errorf("list item lacks %s", k)
		}
	}
	if got := s.Tokens()[1].Type; got != "client" {
		t.Errorf("Tokens() type %q", got)
	}
}

func TestCreateSchemaErrors(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	const pattern = `"^([Cc][Ll][Ii][Ee][Nn][Tt]|[Bb][Aa][Cc][Kk][Ee][Nn][Dd]|[Ff][Rr][Oo][Nn][Tt][Ee][Nn][Dd])$"`
	cases := []struct {
		body      *string
		path      string
		message   string
		withOneOf bool
	}{
		{ptr(`{"tokenName":"t","type":"admin"}`), "/body/type",
			"The `/body/type` property must match pattern " + pattern + `. You sent "admin".`, true},
		{ptr(`{"tokenName":"t","type":"ADMIN"}`), "/body/type",
			"The `/body/type` property must match pattern " + pattern + `. You sent "ADMIN".`, true},
		{ptr(`{"tokenName":"t","type":"foo"}`), "/body/type",
			"The `/body/type` property must match pattern " + pattern + `. You sent "foo".`, true},
		{ptr(`{"tokenName":"t","type":1}`), "/body/type",
			"The `/body/type` property must match pattern " + pattern + `. You sent "1".`, true},
		{ptr(`{"type":"backend"}`), "/body/tokenName",
			"The `/body/tokenName` property is required. It was not present on the data you sent.", true},
		{ptr(`{"type":"zzz"}`), "/body/tokenName",
			"The `/body/tokenName` property is required. It was not present on the data you sent.", true},
		{ptr(`{}`), "/body/type",
			"The `/body/type` property is required. It was not present on the data you sent.", true},
		{nil, "/body/type",
			"The `/body/type` property is required. It was not present on the data you sent.", true},
		{ptr(`[]`), "/body", "The `/body` property must be object. You sent [].", false},
		{ptr(`{"tokenName":"t","type":"backend","expiresAt":"2030-01-01"}`), "/body/expiresAt",
			"The `/body/expiresAt` property must match format \"date-time\". You sent \"2030-01-01\".", true},
		{ptr(`{"tokenName":"t","type":"backend","expiresAt":null}`), "/body/expiresAt",
			"The `/body/expiresAt` property must match format \"date-time\". You sent \"\".", true},
		{ptr(`{"tokenName":"t","type":"backend","expiresAt":"not-a-date"}`), "/body/expiresAt",
			"The `/body/expiresAt` property must match format \"date-time\". You sent \"not-a-date\".", true},
		{ptr(`{"tokenName":"t","type":"backend","projects":"default"}`), "/body/projects",
			"The `/body/projects` property must be array. You sent \"default\".", true},
		{ptr(`{"tokenName":{"a":[1.50,true]},"type":"backend"}`), "/body/tokenName",
			"The `/body/tokenName` property must be string. You sent {\"a\":[1.5,true]}.", true},
	}
	for _, c := range cases {
		r := send(t, s, "POST", "/api/admin/api-tokens", s.AdminKey(), "application/json", c.body)
		e := wantError(t, r, 400, "BadDataError", true)
		if !strings.HasPrefix(e.Message, "Request validation failed: your request body or params contain invalid data. Refer to the `details` list") {
			t.Errorf("message %q", e.Message)
		}
		want := 1
		if c.withOneOf {
			want = 2
		}
		if len(e.Details) != want {
			t.Errorf("%v: %d details, want %d: %s", c.body, len(e.Details), want, r.body)
			continue
		}
		if e.Details[0].Path != c.path || e.Details[0].Message != c.message {
			t.Errorf("detail %+v\nwant path %q message %q", e.Details[0], c.path, c.message)
		}
		if c.withOneOf && (e.Details[1].Path != "/body" || !strings.Contains(e.Details[1].Message, "oneOf")) {
			t.Errorf("second detail %+v", e.Details[1])
		}
	}
	if n := len(s.Tokens()); n != 1 {
		t.Errorf("%d tokens after failed creates", n)
	}
}

func TestCreateHandlerErrors(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	cases := []struct{ body, detail, message string }{
		{`{"tokenName":"","type":"backend"}`, `"tokenName" is not allowed to be empty.`,
			"Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information."},
		{`{"tokenName":"t","type":"backend","projects":[]}`, `"projects" must contain at least 1 items. You provided [].`,
			"Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information."},
		{`{"tokenName":"t","type":"backend","environment":"nope"}`, "Environment=nope does not exist",
			"Request validation failed: your request body or params contain invalid data: Environment=nope does not exist"},
		{`{"tokenName":"t","type":"backend","projects":["nope"]}`, "Project=nope does not exist",
			"Request validation failed: your request body or params contain invalid data: Project=nope does not exist"},
		{`{"tokenName":"t","type":"backend","environment":"*"}`, "Client token cannot be scoped to all environments",
			"Request validation failed: your request body or params contain invalid data: Client token cannot be scoped to all environments"},
		{`{"tokenName":"t","type":"client","environment":"*"}`, "Client token cannot be scoped to all environments", ""},
		{`{"tokenName":"t","type":"frontend","environment":"*"}`, "Frontend token cannot be scoped to all environments",
			"Request validation failed: your request body or params contain invalid data: Frontend token cannot be scoped to all environments"},
	}
	for _, c := range cases {
		e := wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", c.body), 400, "BadDataError", false)
		if len(e.Details) != 1 || e.Details[0].Message != c.detail || e.Details[0].Path != "" {
			t.Errorf("%s: details %+v", c.body, e.Details)
		}
		if c.message != "" && e.Message != c.message {
			t.Errorf("%s: message %q", c.body, e.Message)
		}
	}
}

func TestTokenLimit(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithTokenLimit(3))
	create(t, s, `{"tokenName":"l1","type":"backend"}`)
	create(t, s, `{"tokenName":"l2","type":"backend"}`)
	e := wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"l3","type":"backend"}`),
		400, "ExceedsLimitError", false)
	const msg = "Failed to create api token. You can't create more than the established limit of 3."
	if e.Message != msg || e.Details[0].Message != msg {
		t.Errorf("%+v", e)
	}
	wantError(t, admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":"l3","type":"backend"}`),
		400, "ExceedsLimitError", false)
}

func TestMalformedJSON(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	wantMessageOnly(t, admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":`), 400, "Unexpected end of JSON input")
	wantMessageOnly(t, admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":`), 400, "Unexpected end of JSON input")
	wantMessageOnly(t, admin(t, s, "PUT", "/api/admin/api-tokens/x", `{"expiresAt":`), 400, "Unexpected end of JSON input")
	// Other syntax errors also get a bare message.
	r := admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName" "x"}`)
	wantStatus(t, r, 400)
	if m := object(t, r); len(m) != 1 || !strings.HasPrefix(m["message"].(string), "Unexpected token") {
		t.Errorf("body %s", r.body)
	}
	r = admin(t, s, "POST", "/api/admin/api-tokens", `{} x`)
	wantMessageOnly(t, r, 400, "Unexpected non-whitespace character after JSON at position 3")
}

func TestContentType(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	body := ptr(`{"tokenName":"x","type":"backend"}`)
	cases := []struct{ contentType, shown string }{
		{"text/plain", "text/plain"},
		{"", "you didn't provide one"},
		{"application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
	}
	paths := [][2]string{
		{"POST", "/api/admin/api-tokens"},
		{"POST", "/api/admin/projects/default/api-tokens"},
		{"POST", "/api/admin/projects/nope/api-tokens"}, // 415 before the project lookup
		{"PUT", "/api/admin/api-tokens/x"},
	}
	for _, p := range paths {
		for _, c := range cases {
			e := wantError(t, send(t, s, p[0], p[1], s.AdminKey(), c.contentType, body), 415, "ContentTypeError", true)
			want := "We do not accept the content-type you provided (" + c.shown + "). Try using one of the content-types we do accept instead (application/json) and make sure the body is in the corresponding format."
			if e.Message != want || e.Details[0].Message != want {
				t.Errorf("%v %q: message %q", p, c.contentType, e.Message)
			}
		}
	}
	// DELETE accepts anything.
	wantEmpty(t, send(t, s, "DELETE", "/api/admin/api-tokens/x", s.AdminKey(), "text/plain", ptr("hello")), 200)
	// Media type matching ignores case and parameters.
	wantStatus(t, send(t, s, "POST", "/api/admin/api-tokens", s.AdminKey(), "Application/JSON; charset=UTF-8", body), 201)
}

func TestProjectCreate(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	r := admin(t, s, "POST", "/api/admin/projects/default/api-tokens",
		`{"tokenName":"p-extra","type":"backend","projects":["zzz"],"project":"zzz"}`)
	wantStatus(t, r, 201)
	if r.header.Get("Location") != "api-tokens" {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	m := object(t, r)
	if m["project"] != "default" || !reflect.DeepEqual(m["projects"], []any{"default"}) ||
		m["environment"] != "development" || m["type"] != "backend" ||
		!strings.HasPrefix(m["secret"].(string), "default:development.") {
		t.Errorf("body %s", r.body)
	}
	m = object(t, admin(t, s, "POST", "/api/admin/projects/second/api-tokens",
		`{"tokenName":"p","type":"frontend","environment":"production","expiresAt":"2030-01-02T03:04:05Z"}`))
	if m["project"] != "second" || m["expiresAt"] != "2030-01-02T03:04:05.000Z" || m["type"] != "frontend" {
		t.Errorf("body %v", m)
	}

	// Schema errors have no oneOf detail here, and come before the project lookup.
	for _, c := range []struct{ path, body, detailPath string }{
		{"/api/admin/projects/default/api-tokens", `{"tokenName":"x","type":"admin"}`, "/body/type"},
		{"/api/admin/projects/default/api-tokens", `{"type":"backend"}`, "/body/tokenName"},
		{"/api/admin/projects/default/api-tokens", `{}`, "/body/tokenName"},
		{"/api/admin/projects/default/api-tokens", `{"tokenName":"x","type":"backend","expiresAt":"not-a-date"}`, "/body/expiresAt"},
		{"/api/admin/projects/nope/api-tokens", `{"type":"foo"}`, "/body/tokenName"},
	} {
		e := wantError(t, admin(t, s, "POST", c.path, c.body), 400, "BadDataError", true)
		if len(e.Details) != 1 || e.Details[0].Path != c.detailPath {
			t.Errorf("%s: details %+v", c.body, e.Details)
		}
	}
	e := wantError(t, admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":"x","type":"backend","environment":"nope"}`),
		400, "BadDataError", false)
	if e.Details[0].Message != "Environment=nope does not exist" {
		t.Errorf("%+v", e)
	}
	e = wantError(t, admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":"x","type":"backend","environment":"*"}`),
		400, "BadDataError", false)
	if e.Details[0].Message != "Client token cannot be scoped to all environments" {
		t.Errorf("%+v", e)
	}
	r = admin(t, s, "POST", "/api/admin/projects/nope/api-tokens", `{"tokenName":"x","type":"backend"}`)
	wantError(t, r, 404, "NotFoundError", false)
	if string(r.body) != `{"name":"NotFoundError","message":"No project found","details":[{"message":"No project found"}]}` {
		t.Errorf("body %s", r.body)
	}
}

func TestProjectList(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	create(t, s, `{"tokenName":"a","type":"backend","projects":["second"]}`)
	create(t, s, `{"tokenName":"b","type":"backend"}`)
	// The admin key sees every token, whatever the project.
	for _, p := range []string{"/api/admin/projects/default/api-tokens", "/api/admin/projects/second/api-tokens/"} {
		if list := tokens(t, admin(t, s, "GET", p)); len(list) != 3 {
			t.Errorf("%s: %d tokens, want 3", p, len(list))
		}
	}
	wantError(t, admin(t, s, "GET", "/api/admin/projects/nope/api-tokens"), 404, "NotFoundError", false)
}

func TestGetByName(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	create(t, s, `{"tokenName":"dup","type":"client"}`)
	create(t, s, `{"tokenName":"dup","type":"client"}`)
	create(t, s, `{"tokenName":"my token #1","type":"frontend"}`)
	create(t, s, `{"tokenName":"a/b","type":"frontend"}`)
	if list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/dup")); len(list) != 2 {
		t.Errorf("%d tokens named dup", len(list))
	}
	r := admin(t, s, "GET", "/api/admin/api-tokens/no-such-name")
	if string(r.body) != `{"tokens":[]}` {
		t.Errorf("body %s", r.body)
	}
	if list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/my%20token%20%231")); len(list) != 1 || list[0]["tokenName"] != "my token #1" {
		t.Errorf("encoded name: %v", list)
	}
	if list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/a%2Fb")); len(list) != 1 {
		t.Errorf("encoded slash: %v", list)
	}
	if list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/")); len(list) != 5 {
		t.Errorf("trailing slash lists %d tokens, want 5", len(list))
	}
}

func TestUpdateExpiry(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	secret := create(t, s, `{"tokenName":"u","type":"frontend"}`)["secret"].(string)
	wantEmpty(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+secret, `{"expiresAt":"2033-05-06T07:08:09.000Z"}`), 200)
	if got := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/u"))[0]["expiresAt"]; got != "2033-05-06T07:08:09.000Z" {
		t.Errorf("expiresAt %v", got)
	}
	// Encoded secret, extra field, offset.
	enc := strings.Replace(strings.Replace(secret, "*", "%2A", 1), ":", "%3A", 1)
	wantEmpty(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+enc, `{"expiresAt":"2034-01-01T01:00:00+01:00","tokenName":"ignored"}`), 200)
	tok := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/u"))[0]
	if tok["expiresAt"] != "2034-01-01T00:00:00.000Z" || tok["tokenName"] != "u" {
		t.Errorf("after encoded PUT: %v", tok)
	}
	// Unknown secret: silent success.
	wantEmpty(t, admin(t, s, "PUT", "/api/admin/api-tokens/*:development.doesnotexist", `{"expiresAt":"2032-05-06T07:08:09.000Z"}`), 200)

	e := wantError(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+secret, `{}`), 400, "BadDataError", true)
	if len(e.Details) != 1 || e.Details[0].Path != "/body/expiresAt" ||
		e.Details[0].Message != "The `/body/expiresAt` property is required. It was not present on the data you sent." {
		t.Errorf("%+v", e.Details)
	}
	e = wantError(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+secret, `{"expiresAt":"not-a-date"}`), 400, "BadDataError", true)
	if len(e.Details) != 1 || e.Details[0].Message != "The `/body/expiresAt` property must match format \"date-time\". You sent \"not-a-date\"." {
		t.Errorf("%+v", e.Details)
	}
}

func TestDelete(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	a := create(t, s, `{"tokenName":"a","type":"backend"}`)["secret"].(string)
	b := create(t, s, `{"tokenName":"b","type":"frontend","environment":"production"}`)["secret"].(string)
	c := create(t, s, `{"tokenName":"c","type":"backend","projects":["default","second"]}`)["secret"].(string)

	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+a), 200)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+a), 200)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/*:development.doesnotexist"), 200)
	// A deleted token stops authenticating at once.
	wantError(t, send(t, s, "GET", "/api/admin/api-tokens", a, "", nil), 401, "UnauthorizedError", true)

	encoded := "%2A%3A" + strings.TrimPrefix(b, "*:")
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+encoded), 200)
	encoded = "%5B%5D%3A" + strings.TrimPrefix(c, "[]:")
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+encoded), 200)
	if n := len(s.Tokens()); n != 1 {
		t.Errorf("%d tokens left, want only the admin token", n)
	}
}

func TestProjectDelete(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	p := create(t, s, `{"tokenName":"p","type":"backend","projects":["default"]}`)["secret"].(string)
	all := create(t, s, `{"tokenName":"all","type":"backend"}`)["secret"].(string)
	multi := create(t, s, `{"tokenName":"multi","type":"backend","projects":["default","second"]}`)["secret"].(string)
	q := object(t, admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":"q","type":"frontend"}`))["secret"].(string)

	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/nope/api-tokens/"+p), 400)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/second/api-tokens/"+p), 400)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+all), 400)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/%5B%5D%3A"+strings.TrimPrefix(multi, "[]:")), 400)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/default:development.nope"), 404)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/nope/api-tokens/default:development.nope"), 404)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+p), 200)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+p), 404)
	wantEmpty(t, send(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+q, "Bearer "+s.AdminKey(), "", nil), 200)
	var names []string
	for _, tok := range s.Tokens() {
		names = append(names, tok.TokenName)
	}
	if !reflect.DeepEqual(names, []string{"admin", "all", "multi"}) {
		t.Errorf("tokens left: %v", names)
	}
}

func TestUnknownRoutes(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	for _, c := range [][2]string{
		{"PATCH", "/api/admin/api-tokens/*:development.abc"},
		{"PUT", "/api/admin/projects/default/api-tokens/default:development.abc"},
		{"GET", "/api/admin/projects/default/api-tokens/default:development.abc"},
		{"POST", "/api/admin/projects"},
		{"GET", "/api/admin/nothing"},
		{"DELETE", "/api/admin/api-tokens"},
	} {
		r := send(t, s, c[0], c[1], s.AdminKey(), "application/json", ptr(`{"expiresAt":"2034-01-01T00:00:00Z"}`))
		e := wantError(t, r, 404, "NotFoundError", true)
		want := "The path you were looking for (" + c[1] + ") is not available."
		if e.Message != want || e.Details[0].Message != want {
			t.Errorf("%v: message %q", c, e.Message)
		}
	}
	// Outside /api no credentials are needed for the 404; /health answers.
	wantError(t, send(t, s, "GET", "/nothing", "", "", nil), 404, "NotFoundError", true)
	r := send(t, s, "GET", "/health", "", "", nil)
	if r.status != 200 || string(r.body) != `{"health":"GOOD"}` {
		t.Errorf("health: %d %s", r.status, r.body)
	}
	// Repeated slashes are collapsed, as on the real server.
	tokens(t, admin(t, s, "GET", "//api//admin/api-tokens"))
}

func TestExpiredTokenRejected(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var offset atomic.Int64
	clock := func() time.Time { return now.Add(time.Duration(offset.Load())) }
	s := unleashtest.NewTestServer(t, unleashtest.WithClock(clock))
	m := create(t, s, `{"tokenName":"e","type":"backend","expiresAt":"2030-01-01T00:00:01Z"}`)
	if m["createdAt"] != "2030-01-01T00:00:00.000Z" {
		t.Errorf("createdAt %v", m["createdAt"])
	}
	secret := m["secret"].(string)
	wantStatus(t, send(t, s, "GET", "/api/admin/api-tokens", secret, "", nil), 403)
	offset.Store(int64(2 * time.Second))
	wantStatus(t, send(t, s, "GET", "/api/admin/api-tokens", secret, "", nil), 401)
	// Expired tokens are still listed.
	if list := tokens(t, admin(t, s, "GET", "/api/admin/api-tokens/e")); len(list) != 1 {
		t.Errorf("expired token not listed")
	}
}

func TestTokensIsACopy(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	create(t, s, `{"tokenName":"first","type":"backend","expiresAt":"2030-01-01T00:00:00Z"}`)
	create(t, s, `{"tokenName":"second","type":"frontend"}`)
	got := s.Tokens()
	if len(got) != 3 || got[0].Type != "admin" || got[1].TokenName != "first" || got[2].TokenName != "second" {
		t.Fatalf("Tokens() = %+v", got)
	}
	if got[1].ExpiresAt == nil || !got[1].ExpiresAt.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ExpiresAt %v", got[1].ExpiresAt)
	}
	if got[2].ExpiresAt != nil {
		t.Errorf("ExpiresAt %v, want nil", got[2].ExpiresAt)
	}
	got[1].Projects[0] = "changed"
	*got[1].ExpiresAt = time.Time{}
	again := s.Tokens()
	if again[1].Projects[0] != "*" || again[1].ExpiresAt.IsZero() {
		t.Error("Tokens() shares memory with the server")
	}
	if !slices.IsSortedFunc(again, func(a, b unleashtest.Token) int { return a.CreatedAt.Compare(b.CreatedAt) }) {
		t.Error("Tokens() not in creation order")
	}
}

func TestRequestLog(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	admin(t, s, "GET", "/api/admin/api-tokens")
	admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"x","type":"backend"}`)
	admin(t, s, "DELETE", "/api/admin/api-tokens/%2A%3Adevelopment.abc")
	reqs := s.Requests()
	if s.RequestCount() != 3 || len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	if reqs[0].Method != "GET" || reqs[0].Path != "/api/admin/api-tokens" {
		t.Errorf("%+v", reqs[0])
	}
	if string(reqs[1].Body) != `{"tokenName":"x","type":"backend"}` || reqs[1].Header.Get("Content-Type") != "application/json" {
		t.Errorf("%+v", reqs[1])
	}
	if reqs[2].Path != "/api/admin/api-tokens/%2A%3Adevelopment.abc" || reqs[2].Faulted {
		t.Errorf("%+v", reqs[2])
	}
	if reqs[0].Header.Get("Authorization") != s.AdminKey() {
		t.Errorf("header not recorded")
	}
}

func TestNewServerNeedsClose(t *testing.T) {
	s := unleashtest.NewServer()
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q", s.URL())
	}
	s.Close()
	s.Close() // harmless
	if _, err := http.Get(s.URL() + "/health"); err == nil {
		t.Error("server still answers after Close")
	}
}
