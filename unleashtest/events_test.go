package unleashtest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// eventsPage is a decoded search response.
type eventsPage struct {
	Events []map[string]any `json:"events"`
	Total  int              `json:"total"`
	raw    []byte
}

// search calls the event search with the given query string and expects a
// 200.
func search(t *testing.T, s *unleashtest.Server, query string) eventsPage {
	t.Helper()
	r := admin(t, s, "GET", "/api/admin/search/events?"+query)
	wantStatus(t, r, http.StatusOK)
	wantJSONHeader(t, r)
	var p eventsPage
	if err := json.Unmarshal(r.body, &p); err != nil || p.Events == nil {
		t.Fatalf("body %q is not an event page: %v", r.body, err)
	}
	p.raw = r.body
	return p
}

// ids returns the event ids of a page, in order.
func (p eventsPage) ids() []int {
	var out []int
	for _, e := range p.Events {
		out = append(out, int(e["id"].(float64)))
	}
	return out
}

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func wantFields(t *testing.T, what string, got map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s: %s = %#v, want %#v", what, k, got[k], v)
		}
	}
}

func TestEventsRecorded(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 23, 15, 16, 15, 566_000_000, time.UTC)}
	s := unleashtest.NewTestServer(t, unleashtest.WithClock(clock.Now))

	backend := create(t, s, `{"tokenName":"b1","type":"backend","expiresAt":"2026-12-23T15:16:15.544Z"}`)
	r := admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":"fe","type":"frontend","environment":"production"}`)
	wantStatus(t, r, 201)
	frontend := object(t, r)
	client := create(t, s, `{"tokenName":"c1","type":"client"}`)

	// Failures record nothing.
	admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"x","type":"backend","environment":"nope"}`)
	admin(t, s, "PUT", "/api/admin/api-tokens/nope", `{"expiresAt":"2030-01-01T00:00:00Z"}`)
	admin(t, s, "DELETE", "/api/admin/api-tokens/nope")
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/nope"), 404)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+url.PathEscape(client["secret"].(string))), 400)
	if n := len(s.Events()); n != 3 {
		t.Fatalf("%d events after 3 creates and failures: %+v", n, s.Events())
	}

	clock.Set(clock.Now().Add(time.Second))
	wantEmpty(t, admin(t, s, "PUT", "/api/admin/api-tokens/"+url.PathEscape(backend["secret"].(string)),
		`{"expiresAt":"2027-02-21T15:16:15.579Z"}`), 200)
	// The same expiry again changes nothing and records nothing.
	admin(t, s, "PUT", "/api/admin/api-tokens/"+url.PathEscape(backend["secret"].(string)),
		`{"expiresAt":"2027-02-21T15:16:15.579Z"}`)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/api-tokens/"+url.PathEscape(backend["secret"].(string))), 200)
	wantEmpty(t, admin(t, s, "DELETE", "/api/admin/projects/default/api-tokens/"+url.PathEscape(frontend["secret"].(string))), 200)

	evs := s.Events()
	var types []string
	for i, e := range evs {
		types = append(types, e.Type)
		if e.ID != i+1 || e.CreatedBy != "admin" || e.CreatedByUserID != unleashtest.AdminTokenUserID {
			t.Errorf("event %d: %+v", i, e)
		}
	}
	wantTypes := []string{
		unleashtest.EventAPITokenCreated, unleashtest.EventAPITokenCreated, unleashtest.EventAPITokenCreated,
		unleashtest.EventAPITokenUpdated, unleashtest.EventAPITokenDeleted, unleashtest.EventAPITokenDeleted,
	}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("types %v", types)
	}
	if e := evs[1]; e.TokenName != "fe" || e.Project != "default" || e.Environment != "production" ||
		!e.CreatedAt.Equal(time.Date(2026, 11, 23, 15, 16, 15, 566_000_000, time.UTC)) {
		t.Errorf("Events()[1] = %+v", e)
	}
	if e := evs[3]; e.TokenName != "b1" || e.Project != "*" || e.Environment != "development" ||
		!e.CreatedAt.Equal(time.Date(2026, 11, 23, 15, 16, 16, 566_000_000, time.UTC)) {
		t.Errorf("Events()[3] = %+v", e)
	}

	p := search(t, s, "")
	if p.Total != 6 || !slices.Equal(p.ids(), []int{6, 5, 4, 3, 2, 1}) {
		t.Fatalf("total %d ids %v", p.Total, p.ids())
	}
	// No secret anywhere, admin keys included.
	for _, secret := range []string{backend["secret"].(string), frontend["secret"].(string), client["secret"].(string), s.AdminKey()} {
		if strings.Contains(string(p.raw), secret) {
			t.Errorf("secret %s in events: %s", secret, p.raw)
		}
	}
	if strings.Contains(string(p.raw), `"secret"`) {
		t.Errorf("a secret field in events: %s", p.raw)
	}

	byID := map[int]map[string]any{}
	for _, e := range p.Events {
		byID[int(e["id"].(float64))] = e
		wantFields(t, fmt.Sprint("event ", e["id"]), e, map[string]any{
			"createdBy": "admin", "createdByUserId": float64(-42), "tags": []any{}, "featureName": nil,
		})
		if len(e) != 13 {
			t.Errorf("event %v has %d fields: %v", e["id"], len(e), e)
		}
	}

	// Created: the token as created, type as asked, expiresAt only when set.
	wantFields(t, "created backend", byID[1], map[string]any{
		"type": "api-token-created", "createdAt": "2026-11-23T15:16:15.566Z", "preData": nil,
		"project": "*", "environment": "development",
		"label": "API token created", "summary": "**admin** created API token ****",
		"data": map[string]any{
			"tokenName": "b1", "environment": "development", "projects": []any{"*"},
			"expiresAt": "2026-12-23T15:16:15.544Z", "type": "backend", "alias": nil, "project": "*",
			"createdAt": "2026-11-23T15:16:15.566Z", "secure": false,
		},
	})
	wantFields(t, "created frontend", byID[2], map[string]any{
		"type": "api-token-created", "project": "default", "environment": "production",
		"data": map[string]any{
			"tokenName": "fe", "environment": "production", "projects": []any{"default"},
			"type": "frontend", "alias": nil, "project": "default",
			"createdAt": "2026-11-23T15:16:15.566Z", "secure": false,
		},
	})

	// Updated: data after, preData before, both with the stored type.
	stored := func(expires any) map[string]any {
		return map[string]any{
			"tokenName": "b1", "type": "client", "project": "*", "projects": []any{"*"},
			"environment": "development", "expiresAt": expires, "createdAt": "2026-11-23T15:16:15.566Z",
			"alias": nil, "seenAt": nil, "secure": false,
		}
	}
	wantFields(t, "updated", byID[4], map[string]any{
		"type": "api-token-updated", "createdAt": "2026-11-23T15:16:16.566Z",
		"project": "*", "environment": "development",
		"label": "api-token-updated", "summary": "**admin** triggered **api-token-updated**",
		"data":    stored("2027-02-21T15:16:15.579Z"),
		"preData": stored("2026-12-23T15:16:15.544Z"),
	})
	// Deleted: no data, the token as it was in preData.
	wantFields(t, "deleted", byID[5], map[string]any{
		"type": "api-token-deleted", "data": nil, "preData": stored("2027-02-21T15:16:15.579Z"),
		"label": "API token deleted", "summary": "**admin** deleted API token ****",
	})
	wantFields(t, "deleted via project", byID[6], map[string]any{
		"type": "api-token-deleted", "data": nil, "project": "default", "environment": "production",
	})
	if pre := byID[6]["preData"].(map[string]any); pre["type"] != "frontend" || pre["tokenName"] != "fe" || pre["expiresAt"] != nil {
		t.Errorf("preData %v", pre)
	}

	// Field order as on the real server: created data follows the request
	// body (tokenName, expiresAt) with the defaults appended (projects,
	// environment); preData comes from a jsonb column.
	for _, want := range []string{
		`{"id":1,"type":"api-token-created","createdBy":"admin","createdAt":"2026-11-23T15:16:15.566Z","createdByUserId":-42,` +
			`"data":{"tokenName":"b1","expiresAt":"2026-12-23T15:16:15.544Z","projects":["*"],"environment":"development",` +
			`"type":"backend","alias":null,"project":"*","createdAt":"2026-11-23T15:16:15.566Z","secure":false},` +
			`"preData":null,"tags":[],"featureName":null,"project":"*","environment":"development",` +
			`"label":"API token created","summary":"**admin** created API token ****"}`,
		`"preData":{"type":"client","alias":null,"secure":false,"seenAt":null,"project":"*","projects":["*"],` +
			`"createdAt":"2026-11-23T15:16:15.566Z","expiresAt":"2026-12-23T15:16:15.544Z","tokenName":"b1","environment":"development"}`,
	} {
		if !strings.Contains(string(p.raw), want) {
			t.Errorf("body lacks %s\nbody: %s", want, p.raw)
		}
	}
}

func TestEventsOfSeveralProjects(t *testing.T) {
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	create(t, s, `{"tokenName":"multi","type":"backend","projects":["default","second"]}`)
	p := search(t, s, "")
	if p.Events[0]["project"] != "default,second" {
		t.Errorf("project %v", p.Events[0]["project"])
	}
	if search(t, s, "project=IS:default").Total != 0 || search(t, s, "project=IS:default,second").Total != 0 {
		t.Error("a project filter matched a token of several projects")
	}
}

func TestEventSearchPaging(t *testing.T) {
	// An hour without a 1 in it, for the query below.
	clock := &fakeClock{now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	s := unleashtest.NewTestServer(t, unleashtest.WithClock(clock.Now))
	for i := range 60 {
		create(t, s, fmt.Sprintf(`{"tokenName":"t%d","type":"client"}`, i))
	}
	desc := func(from, n int) []int {
		var out []int
		for i := range n {
			out = append(out, from-i)
		}
		return out
	}
	cases := []struct {
		query string
		ids   []int
	}{
		{"", desc(60, 50)},
		{"limit=2", []int{60, 59}},
		{"limit=2&offset=2", []int{58, 57}},
		{"offset=58", []int{2, 1}},
		{"offset=59&limit=5", []int{1}},
		{"offset=60", nil},
		{"offset=1000000", nil},
		{"limit=1000", desc(60, 60)},
		{"limit=1", []int{60}},
		// Out of range or not a number: the default page of 50.
		{"limit=0", desc(60, 50)},
		{"limit=-5", desc(60, 50)},
		{"limit=abc", desc(60, 50)},
		{"limit=1001", desc(60, 50)},
		{"limit=", desc(60, 50)},
		// JavaScript numbers, then parseInt.
		{"limit=2.7", []int{60, 59}},
		{"limit=0x3", []int{60, 59, 58}},
		{"limit=%202%20", []int{60, 59}},
		{"limit=1e1", desc(60, 10)},
		{"limit=0.5", nil},
		// An offset that is not a positive number is 0.
		{"offset=-3&limit=1", []int{60}},
		{"offset=abc&limit=1", []int{60}},
		{"offset=&limit=1", []int{60}},
		{"offset=1.9&limit=1", []int{59}},
		{"offset=Infinity&limit=1", []int{60}},
	}
	for _, c := range cases {
		p := search(t, s, c.query)
		if p.Total != 60 {
			t.Errorf("%s: total %d", c.query, p.Total)
		}
		if !slices.Equal(p.ids(), c.ids) {
			t.Errorf("%s: ids %v, want %v", c.query, p.ids(), c.ids)
		}
	}
	// The total counts what the filters match, not the page.
	p := search(t, s, "query=t1&limit=3")
	if p.Total != 11 || len(p.Events) != 3 {
		t.Errorf("total %d, %d events", p.Total, len(p.Events))
	}
}

func TestEventSearchFilters(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 22, 23, 59, 59, 999_000_000, time.UTC)}
	s := unleashtest.NewTestServer(t, unleashtest.WithClock(clock.Now), unleashtest.WithProjects("default", "p2"))
	a := create(t, s, `{"tokenName":"Alpha_1","type":"client","projects":["default"]}`) // 1, Nov 22
	clock.Set(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	create(t, s, `{"tokenName":"beta","type":"frontend","environment":"production","projects":["p2"]}`) // 2, Nov 23
	clock.Set(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	admin(t, s, "PUT", "/api/admin/api-tokens/"+url.PathEscape(a["secret"].(string)), `{"expiresAt":"2030-01-01T00:00:00Z"}`) // 3, Nov 24
	clock.Set(time.Date(2026, 11, 25, 0, 0, 0, 1_000_000, time.UTC))
	admin(t, s, "DELETE", "/api/admin/api-tokens/"+url.PathEscape(a["secret"].(string))) // 4, Nov 25

	cases := []struct {
		query string
		ids   []int
	}{
		{"type=IS:api-token-created", []int{2, 1}},
		{"type=IS_ANY_OF:api-token-updated,api-token-deleted", []int{4, 3}},
		{"type=IS:api-token-created,api-token-deleted", []int{4, 2, 1}},
		{"type=IS:API-TOKEN-CREATED", nil},
		{"type=IS:", []int{4, 3, 2, 1}}, // nothing after the operator: no filter
		{"type=IS_ANY_OF:", []int{4, 3, 2, 1}},
		{"type=IS_ANY_OF:api-token-created,", []int{2, 1}},
		{"project=IS:default", []int{4, 1}}, // the update (3) is recorded under "*"
		{"project=IS_ANY_OF:p2,other", []int{2}},
		{"environment=IS:production", []int{2}},
		{"environment=IS:development&type=IS:api-token-created", []int{1}},
		{"id=IS:3", []int{3}},
		{"id=IS_ANY_OF:1,4,99", []int{4, 1}},
		{"id=IS:%20%2B2%20", []int{2}},
		{"createdBy=IS:-42", []int{4, 3, 2, 1}},
		{"createdBy=IS_ANY_OF:1,-42", []int{4, 3, 2, 1}},
		{"createdBy=IS:1", nil},
		{"feature=IS:anything", nil},
		{"from=IS:2026-11-23", []int{4, 3, 2}},
		{"from=IS:2026-11-25", []int{4}},
		{"to=IS:2026-11-22", []int{1}},
		{"to=IS:2026-11-24", []int{3, 2, 1}},
		{"from=IS:2026-11-23&to=IS:2026-11-24", []int{3, 2}},
		{"from=IS:2026-11-24&to=IS:2026-11-23", nil},
		{"to=IS:2026-02-30", nil}, // JavaScript rolls it over into March
		{"from=IS:2026-11-26", nil},
		// query: case-insensitive, in data and preData, with LIKE wildcards.
		{"query=alpha", []int{4, 3, 1}},
		{"query=BETA", []int{2}},
		{"query=alpha%5f1", []int{4, 3, 1}},
		{"query=alpha_1", []int{4, 3, 1}},
		{"query=alph_", []int{4, 3, 1}},
		{"query=alp%25_1", []int{4, 3, 1}},
		{"query=al%25_1", []int{4, 3, 2, 1}}, // "alias" ... "-11"
		{"query=alpha%5C_1", []int{4, 3, 1}},
		{"query=alpha%5C%25", nil},
		{"query=2030-01-01", []int{4, 3}},
		// data is json text as Node wrote it, preData jsonb text.
		{"query=" + url.QueryEscape(`"type":"client"`), []int{3, 1}},
		{"query=" + url.QueryEscape(`"type": "client"`), []int{4, 3}},
		{`query=[]`, []int{4, 3, 2, 1}}, // the tags
		{"query=", []int{4, 3, 2, 1}},
		{"query=nothing-like-this", nil},
		// Unknown parameters are ignored.
		{"foo=bar", []int{4, 3, 2, 1}},
	}
	for _, c := range cases {
		p := search(t, s, c.query)
		if !slices.Equal(p.ids(), c.ids) || p.Total != len(c.ids) {
			t.Errorf("%s: ids %v total %d, want %v", c.query, p.ids(), p.Total, c.ids)
		}
	}
}

func TestEventSearchPatternErrors(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	const op = `^(IS|IS_ANY_OF):(.*?)(,([a-zA-Z0-9_]+))*$`
	const idOp = `^(IS|IS_ANY_OF):(.*?)(,([0-9]+))*$`
	const day = `^(IS):\d{4}-\d{2}-\d{2}$`
	pattern := func(name, pattern, sent string) string {
		return fmt.Sprintf("The `/query/%s` property must match pattern \"%s\". You sent %s.", name, pattern, sent)
	}
	cases := []struct{ query, path, message string }{
		{"type=api-token-created", "/query/type", pattern("type", op, `"api-token-created"`)},
		{"type=", "/query/type", pattern("type", op, `""`)},
		{"type=is:api-token-created", "/query/type", pattern("type", op, `"is:api-token-created"`)},
		{"type=IS_NOT:x", "/query/type", pattern("type", op, `"IS_NOT:x"`)},
		{"type=IS:a%0Ab", "/query/type", pattern("type", op, `"IS:a\nb"`)},
		{"project=default", "/query/project", pattern("project", op, `"default"`)},
		{"environment=production", "/query/environment", pattern("environment", op, `"production"`)},
		{"createdBy=-42", "/query/createdBy", pattern("createdBy", op, `"-42"`)},
		{"feature=x", "/query/feature", pattern("feature", op, `"x"`)},
		{"id=3", "/query/id", pattern("id", idOp, `"3"`)},
		{"from=2026-11-23", "/query/from", pattern("from", day, `"2026-11-23"`)},
		{"from=IS:2026-1-23", "/query/from", pattern("from", day, `"IS:2026-1-23"`)},
		{"from=IS_ANY_OF:2026-11-23", "/query/from", pattern("from", day, `"IS_ANY_OF:2026-11-23"`)},
		{"to=IS:2026-11-23T00:00:00Z", "/query/to", pattern("to", day, `"IS:2026-11-23T00:00:00Z"`)},
		// The first bad parameter in the schema's order is reported.
		{"type=bad&id=bad", "/query/id", pattern("id", idOp, `"bad"`)},
		{"environment=bad&to=bad", "/query/to", pattern("to", day, `"bad"`)},
		// A repeated parameter is an array.
		{"type=IS:a&type=IS:b", "/query/type", "The `/query/type` property must be string. You sent [\"IS:a\",\"IS:b\"]."},
		{"limit=1&limit=2", "/query/limit", "The `/query/limit` property must be string. You sent [\"1\",\"2\"]."},
	}
	for _, c := range cases {
		r := admin(t, s, "GET", "/api/admin/search/events?"+c.query)
		e := wantError(t, r, 400, "BadDataError", true)
		if e.Message != "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information." {
			t.Errorf("%s: message %q", c.query, e.Message)
		}
		if len(e.Details) != 1 || e.Details[0].Path != c.path || e.Details[0].Message != c.message {
			t.Errorf("%s: details %+v\nwant %q %q", c.query, e.Details, c.path, c.message)
		}
	}
}

func TestEventSearchServerErrors(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	create(t, s, `{"tokenName":"t","type":"client"}`)
	const sel = `select count(*) from "events" where `
	cases := []struct{ query, message string }{
		{"createdBy=IS:admin",
			sel + `"created_by_user_id" = $1 and not "project" is null limit $2 - invalid input syntax for type integer: "admin"`},
		{"createdBy=IS_ANY_OF:-42,admin&type=IS:api-token-created",
			sel + `"created_by_user_id" in ($1, $2) and "type" = $3 and not "project" is null limit $4 - invalid input syntax for type integer: "admin"`},
		{"createdBy=IS:1.5", sel + `"created_by_user_id" = $1 and not "project" is null limit $2 - invalid input syntax for type integer: "1.5"`},
		{"createdBy=IS:99999999999", sel + `"created_by_user_id" = $1 and not "project" is null limit $2 - value "99999999999" is out of range for type integer`},
		{"createdBy=IS_ANY_OF:1,", sel + `"created_by_user_id" in ($1, $2) and not "project" is null limit $3 - invalid input syntax for type integer: ""`},
		{"id=IS:abc&query=x",
			sel + `"id" = $1 and not "project" is null and (data::text ILIKE $2 or tags::text ILIKE $3 or pre_data::text ILIKE $4) limit $5 - invalid input syntax for type integer: "abc"`},
		{"id=IS:abc&createdBy=IS:me",
			sel + `"created_by_user_id" = $1 and "id" = $2 and not "project" is null limit $3 - invalid input syntax for type integer: "me"`},
		{"from=IS:2026-02-30", sel + `"created_at" >= $1 and not "project" is null limit $2 - date/time field value out of range: "2026-02-30"`},
		{"from=IS:0000-01-01&createdBy=IS:x", sel + `"created_at" >= $1 and "created_by_user_id" = $2 and not "project" is null limit $3 - date/time field value out of range: "0000-01-01"`},
		{"to=IS:0000-01-01", sel + `"created_at" < $1 and not "project" is null limit $2 - date/time field value out of range: "0000-01-02"`},
		// JavaScript cannot read the day at all.
		{"to=IS:2026-13-01", "Invalid time value"},
		{"to=IS:2026-11-32&createdBy=IS:x", "Invalid time value"},
	}
	for _, c := range cases {
		r := admin(t, s, "GET", "/api/admin/search/events?"+c.query)
		e := wantError(t, r, 500, "UnknownError", false)
		if e.Message != c.message || len(e.Details) != 1 || e.Details[0].Message != c.message {
			t.Errorf("%s: %+v\nwant message %q", c.query, e, c.message)
		}
	}
	// A valid date that PostgreSQL accepts is no error.
	search(t, s, "from=IS:2024-02-29&to=IS:9999-12-31")
}

func TestEventSearchAuthAndRouting(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	const path = "/api/admin/search/events"
	wantError(t, send(t, s, "GET", path, "", "", nil), 401, "AuthenticationRequired", true)
	wantError(t, send(t, s, "GET", path, "nope", "", nil), 401, "UnauthorizedError", true)
	// Authentication comes before the query schema.
	wantError(t, send(t, s, "GET", path+"?type=bad", "", "", nil), 401, "AuthenticationRequired", true)
	for _, typ := range []string{"client", "backend", "frontend"} {
		secret := create(t, s, `{"tokenName":"t","type":"`+typ+`"}`)["secret"].(string)
		wantMessageOnly(t, send(t, s, "GET", path, secret, "", nil), 403,
			"invalid token: expected a different token type for this endpoint")
		wantMessageOnly(t, send(t, s, "GET", path+"?type=bad", "Bearer "+secret, "", nil), 403,
			"invalid token: expected a different token type for this endpoint")
	}
	if p := search(t, s, ""); p.Total != 3 {
		t.Errorf("total %d", p.Total)
	}
	r := send(t, s, "GET", "/API/Admin/Search/Events/?limit=1", "Bearer "+s.AdminKey(), "", nil)
	wantStatus(t, r, 200)
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		wantError(t, admin(t, s, m, path), 404, "NotFoundError", true)
	}
	wantError(t, admin(t, s, "GET", path+"/x"), 404, "NotFoundError", true)
}

func TestEventsIsACopy(t *testing.T) {
	s := unleashtest.NewTestServer(t)
	if evs := s.Events(); len(evs) != 0 {
		t.Fatalf("events on a new server: %+v", evs)
	}
	create(t, s, `{"tokenName":"t","type":"client"}`)
	evs := s.Events()
	evs[0].TokenName = "changed"
	if s.Events()[0].TokenName != "t" {
		t.Error("Events shares memory with the server")
	}
}

// TestClockMayReadTheServer: the clock is read outside the Server's lock,
// once per change, so a clock that asks the Server something works, and a
// token's createdAt is its create event's.
func TestClockMayReadTheServer(t *testing.T) {
	base := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	var s *unleashtest.Server
	tick := func() time.Time {
		if s == nil { // NewServer reads the clock too
			return base
		}
		return base.Add(time.Duration(s.RequestCount()+len(s.Events())) * time.Second)
	}
	// Not NewTestServer: after a deadlock, Close would wait for the stuck
	// handler forever; the server is closed only when the test gets through.
	s = unleashtest.NewServer(unleashtest.WithClock(tick))

	// The requests run aside, so that a deadlock fails the test instead of
	// hanging it; they report back instead of calling t.Fatal there.
	type result struct {
		status int
		body   string
	}
	do := func(method, path, body string) (result, error) {
		req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if err != nil {
			return result{}, err
		}
		req.Header.Set("Authorization", s.AdminKey())
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.Client().Do(req)
		if err != nil {
			return result{}, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return result{resp.StatusCode, string(b)}, err
	}
	var results []result
	errc := make(chan error, 1)
	go func() {
		created, err := do("POST", "/api/admin/api-tokens", `{"tokenName":"c1","type":"client"}`)
		if err != nil {
			errc <- err
			return
		}
		var tok struct{ Secret string }
		_ = json.Unmarshal([]byte(created.body), &tok)
		results = append(results, created)
		for _, step := range [][2]string{{"PUT", `{"expiresAt":"2030-01-01T00:00:00Z"}`}, {"DELETE", ""}} {
			r, err := do(step[0], "/api/admin/api-tokens/"+tok.Secret, step[1])
			if err != nil {
				errc <- err
				return
			}
			results = append(results, r)
		}
		errc <- nil
	}()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a request hung: the clock was called with the Server's lock held")
	}
	defer s.Close()
	if len(results) != 3 || results[0].status != 201 || results[1].status != 200 || results[2].status != 200 {
		t.Fatalf("results %+v", results)
	}
	var tok struct{ CreatedAt time.Time }
	_ = json.Unmarshal([]byte(results[0].body), &tok)
	events := s.Events()
	if len(events) != 3 || !events[0].CreatedAt.Equal(tok.CreatedAt) || !events[2].CreatedAt.After(events[0].CreatedAt) {
		t.Errorf("token created at %v, events %+v", tok.CreatedAt, events)
	}
}
