package unleashtest_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// Cases where the stand-in used to answer differently from Unleash 8.2.0,
// each taken from a capture (testdata/captures-8.2.0/matrix and
// captures-8.2.0-standin) or from Unleash's own tests.

// A "*" among the projects makes an all-projects token (capture
// 400-create-star-and-default; Unleash's "should strip all other projects
// if ALL_PROJECTS is present").
func TestCreateStarAmongProjects(t *testing.T) {
	t.Parallel()
	s := unleashtest.NewTestServer(t)
	for _, body := range []string{
		`{"tokenName":"sd","type":"client","projects":["*","default"]}`,
		`{"tokenName":"ds","type":"client","projects":["default","*"]}`,
		`{"tokenName":"sn","type":"client","projects":["nope","*"]}`,
	} {
		got := create(t, s, body)
		if !reflect.DeepEqual(got["projects"], []any{"*"}) || got["project"] != "*" ||
			!strings.HasPrefix(got["secret"].(string), "*:development.") {
			t.Errorf("%s: created %v", body, got)
		}
	}
}

// The checks of a create run in the real server's order: an unknown
// environment before the token limit (captures 640 to 649 of
// captures-8.2.0-standin), and on the project endpoint the project of the
// path before anything about the environment or the limit.
func TestCreateCheckOrder(t *testing.T) {
	t.Parallel()
	s := unleashtest.NewTestServer(t, unleashtest.WithTokenLimit(1)) // the admin key fills it
	e := wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"t","type":"client","environment":"nope"}`),
		400, "BadDataError", false)
	if e.Details[0].Message != "Environment=nope does not exist" {
		t.Errorf("unknown environment at the limit: %+v", e)
	}
	wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"t","type":"client","environment":"*"}`),
		400, "BadDataError", false)
	wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"t","type":"client","projects":["nope"]}`),
		400, "ExceedsLimitError", false)
	for _, env := range []string{"nope", "*"} {
		wantError(t, admin(t, s, "POST", "/api/admin/projects/nope/api-tokens", `{"tokenName":"t","type":"client","environment":"`+env+`"}`),
			404, "NotFoundError", false)
	}
	e = wantError(t, admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":"t","type":"client","environment":"*"}`),
		400, "BadDataError", false)
	if e.Details[0].Message != "Client token cannot be scoped to all environments" {
		t.Errorf("project create, environment *: %+v", e)
	}
	wantError(t, admin(t, s, "POST", "/api/admin/projects/default/api-tokens", `{"tokenName":"t","type":"client"}`),
		400, "ExceedsLimitError", false)
}

// A project named twice breaks the primary key of the table of a token's
// projects: a 500, and nothing is stored (capture 603 of
// captures-8.2.0-standin). The first unknown project in the order given is
// the one named (606).
func TestCreateRepeatedOrUnknownProjects(t *testing.T) {
	t.Parallel()
	s := unleashtest.NewTestServer(t, unleashtest.WithProjects("default", "second"))
	r := admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"rep","type":"client","projects":["default","second","default"]}`)
	e := wantError(t, r, http.StatusInternalServerError, "UnknownError", false)
	const msg = `INSERT INTO api_token_project VALUES ($1, $2) - duplicate key value violates unique constraint "api_token_project_pkey"`
	if e.Message != msg || len(e.Details) != 1 || e.Details[0].Message != msg {
		t.Errorf("repeated project: %s", r.body)
	}
	e = wantError(t, admin(t, s, "POST", "/api/admin/api-tokens", `{"tokenName":"n","type":"client","projects":["default","nope","nope2"]}`),
		400, "BadDataError", false)
	if e.Details[0].Message != "Project=nope does not exist" {
		t.Errorf("unknown projects: %+v", e)
	}
	if n := len(s.Tokens()); n != 1 {
		t.Errorf("%d tokens held after failed creates, want the admin key alone", n)
	}
	if n := len(s.Events()); n != 0 {
		t.Errorf("%d events recorded for failed creates", n)
	}
}

// The keys of a legacy create response follow the request body, as the
// real server's schema keeps the order sent and appends its defaults
// (every 201 of the default-mode captures).
func TestCreateResponseKeyOrder(t *testing.T) {
	t.Parallel()
	s := unleashtest.NewTestServer(t)
	cases := []struct{ path, body, keys string }{
		{"/api/admin/api-tokens", `{"tokenName":"a","type":"client"}`,
			"tokenName,projects,environment,secret,type,alias,project,createdAt,secure"},
		{"/api/admin/api-tokens", `{"type":"client","environment":"production","expiresAt":"2030-01-01T00:00:00Z","tokenName":"b"}`,
			"environment,expiresAt,tokenName,projects,secret,type,alias,project,createdAt,secure"},
		{"/api/admin/api-tokens", `{"projects":["default"],"tokenName":"c","type":"client","project":"x"}`,
			"projects,tokenName,environment,secret,type,alias,project,createdAt,secure"},
		{"/api/admin/projects/default/api-tokens", `{"tokenName":"d","type":"client","projects":["default"]}`,
			"tokenName,environment,projects,secret,type,alias,project,createdAt,secure"},
		{"/api/admin/projects/default/api-tokens", `{"tokenName":"e","expiresAt":"2030-01-01T00:00:00Z","type":"client","environment":"development"}`,
			"tokenName,expiresAt,environment,projects,secret,type,alias,project,createdAt,secure"},
	}
	for _, c := range cases {
		r := admin(t, s, "POST", c.path, c.body)
		wantStatus(t, r, http.StatusCreated)
		if got := topKeys(t, r.body); got != c.keys {
			t.Errorf("%s %s: keys %s, want %s", c.path, c.body, got, c.keys)
		}
	}
}
