package integration

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
)

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// created registers the token's deletion at the end of the test.
func created(t testing.TB, c *unleashadmin.Client, tok *unleashadmin.APIToken) {
	t.Helper()
	t.Cleanup(func() {
		if err := c.DeleteAPIToken(context.Background(), tok.Secret); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// mustCreate creates a token, fails t if it cannot, and deletes the token
// when t ends.
func mustCreate(t testing.TB, c *unleashadmin.Client, req unleashadmin.CreateAPITokenRequest) *unleashadmin.APIToken {
	t.Helper()
	tok, err := c.CreateAPIToken(ctx(t), req)
	if err != nil {
		t.Fatal(err)
	}
	created(t, c, tok)
	return tok
}

// mustCreateIn is mustCreate through a project's endpoint.
func mustCreateIn(t testing.TB, c *unleashadmin.Client, project string, req unleashadmin.CreateProjectAPITokenRequest) *unleashadmin.APIToken {
	t.Helper()
	tok, err := c.CreateProjectAPIToken(ctx(t), project, req)
	if err != nil {
		t.Fatal(err)
	}
	created(t, c, tok)
	return tok
}

// find returns the listed token of secret: the same secret, or under
// secure token storage the token listed by the secret's selector.
func find(toks []unleashadmin.APIToken, secret string) (unleashadmin.APIToken, bool) {
	for _, t := range toks {
		if t.Matches(secret) {
			return t, true
		}
	}
	return unleashadmin.APIToken{}, false
}

// listedType is the type Unleash lists a token under: backend comes back
// as client, except under secure token storage.
func listedType(asked unleashadmin.TokenType) unleashadmin.TokenType {
	if asked == unleashadmin.TokenTypeBackend && !target.info.SecureTokens {
		return unleashadmin.TokenTypeClient
	}
	return asked
}

// types are the token types the server can create.
func types() []unleashadmin.TokenType {
	if !target.info.HasBackendType() {
		return []unleashadmin.TokenType{unleashadmin.TokenTypeClient, unleashadmin.TokenTypeFrontend}
	}
	return []unleashadmin.TokenType{unleashadmin.TokenTypeClient, unleashadmin.TokenTypeBackend, unleashadmin.TokenTypeFrontend}
}

// backend is the type for a token whose type does not matter to a test:
// backend where the server has it, client before Unleash 7.1.
func backend() unleashadmin.TokenType {
	if target.info.HasBackendType() {
		return unleashadmin.TokenTypeBackend
	}
	return unleashadmin.TokenTypeClient
}

// TestCreateAndFind creates every kind of token, globally and in project
// default, with and without environment and expiry, checks each returned
// field and finds each one again through the three list calls.
func TestCreateAndFind(t *testing.T) {
	t.Parallel()
	expiry := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Millisecond)
	for _, typ := range types() {
		for _, inProject := range []bool{false, true} {
			for _, full := range []bool{false, true} {
				label := string(typ)
				if inProject {
					label += "/project"
				} else {
					label += "/global"
				}
				if full {
					label += "/env+expiry"
				}
				t.Run(label, func(t *testing.T) {
					t.Parallel()
					c := newClient(t, "")
					env, exp := "", (*time.Time)(nil)
					wantEnv := target.info.DefaultEnvironment()
					if full {
						env, exp, wantEnv = "production", &expiry, "production"
					}
					tokName := name(t, "tok")
					before := time.Now()
					var tok *unleashadmin.APIToken
					var err error
					if inProject {
						tok, err = c.CreateProjectAPIToken(ctx(t), "default", unleashadmin.CreateProjectAPITokenRequest{Type: typ, TokenName: tokName, Environment: env, ExpiresAt: exp})
					} else {
						tok, err = c.CreateAPIToken(ctx(t), unleashadmin.CreateAPITokenRequest{Type: typ, TokenName: tokName, Environment: env, ExpiresAt: exp})
					}
					if err != nil {
						t.Fatal(err)
					}
					created(t, c, tok)

					wantProject := "*"
					if inProject {
						wantProject = "default"
					}
					if tok.TokenName != tokName || tok.Type != typ || tok.Environment != wantEnv ||
						tok.Project != wantProject || !slices.Equal(tok.Projects, []string{wantProject}) ||
						!strings.HasPrefix(tok.Secret, wantProject+":"+wantEnv+".") || tok.Secure != target.info.SecureTokens || tok.Alias != nil || tok.SeenAt != nil {
						t.Errorf("created %+v", *tok)
					}
					if (tok.ExpiresAt == nil) != (exp == nil) || (exp != nil && !tok.ExpiresAt.Equal(*exp)) {
						t.Errorf("expiresAt = %v, want %v", tok.ExpiresAt, exp)
					}
					if d := tok.CreatedAt.Sub(before); d < -time.Minute || d > time.Minute {
						t.Errorf("createdAt %v is far from now (%v)", tok.CreatedAt, before)
					}

					all, err := c.ListAPITokens(ctx(t))
					if err != nil {
						t.Fatal(err)
					}
					got, ok := find(all, tok.Secret)
					if !ok {
						t.Fatalf("not in ListAPITokens (%d tokens)", len(all))
					}
					if got.Type != listedType(typ) || got.TokenName != tokName || got.Environment != wantEnv || !slices.Equal(got.Projects, tok.Projects) {
						t.Errorf("listed as %+v", got)
					}
					if (got.ExpiresAt == nil) != (exp == nil) || (exp != nil && !got.ExpiresAt.Equal(*exp)) {
						t.Errorf("listed expiresAt = %v, want %v", got.ExpiresAt, exp)
					}

					byName, err := c.GetAPITokensByName(ctx(t), tokName)
					if err != nil {
						t.Fatal(err)
					}
					if _, ok := find(byName, tok.Secret); !ok || len(byName) != 1 || byName[0].TokenName != tokName || byName[0].Secure != target.info.SecureTokens {
						t.Errorf("GetAPITokensByName gave %v", byName)
					}

					proj, err := c.ListProjectAPITokens(ctx(t), "default")
					if err != nil {
						t.Fatal(err)
					}
					if _, ok := find(proj, tok.Secret); ok != inProject {
						t.Errorf("in the project list: %v, want %v", ok, inProject)
					}
					checkProjectList(t, proj, "default")
				})
			}
		}
	}
}

// checkProjectList fails on any token that is not the project's alone or
// shared with it.
func checkProjectList(t *testing.T, toks []unleashadmin.APIToken, project string) {
	t.Helper()
	for _, tok := range toks {
		if tok.Type == unleashadmin.TokenTypeAdmin || tok.Project == "*" || !slices.Contains(tok.Projects, project) {
			t.Errorf("project %s list holds %+v", project, tok)
		}
	}
}

// TestNamesAreNotUnique creates two tokens with one name.
func TestNamesAreNotUnique(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	tokName := name(t, "same name / with ?#% and spaces")
	var want []string
	for range 2 {
		tok := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: tokName})
		want = append(want, tok.Secret)
	}
	got, err := c.GetAPITokensByName(ctx(t), tokName)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("by name: %d tokens, want the 2 created", len(got))
	}
	for _, s := range want {
		if _, ok := find(got, s); !ok {
			t.Errorf("by name: %s is missing", unleashadmin.RedactSecret(s))
		}
	}
}

// TestProjectListHoldsOnlyTheProject checks that tokens of another project
// and all-projects tokens stay out of a project's list, also with the admin
// key, for which Unleash itself returns every token.
func TestProjectListHoldsOnlyTheProject(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	if _, err := c.ListProjectAPITokens(ctx(t), target.other); errors.Is(err, unleashadmin.ErrNotFound) {
		t.Skipf("the server has no project %q (set UNLEASH_TEST_OTHER_PROJECT to one it has)", target.other)
	}
	mine := mustCreateIn(t, c, "default", unleashadmin.CreateProjectAPITokenRequest{Type: backend(), TokenName: name(t, "default")})
	other := mustCreateIn(t, c, target.other, unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeFrontend, TokenName: name(t, "other")})
	shared := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name(t, "shared"), Projects: []string{"default", target.other}})
	if shared.Project != "default,"+target.other && shared.Project != target.other+",default" || !strings.HasPrefix(shared.Secret, "[]:") {
		t.Errorf("multi-project token: %+v", *shared)
	}
	global := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name(t, "global")})

	for project, want := range map[string][]string{"default": {mine.Secret, shared.Secret}, target.other: {other.Secret, shared.Secret}} {
		list, err := c.ListProjectAPITokens(ctx(t), project)
		if err != nil {
			t.Fatal(err)
		}
		checkProjectList(t, list, project)
		for _, s := range want {
			if _, ok := find(list, s); !ok {
				t.Errorf("%s list lacks %s", project, unleashadmin.RedactSecret(s))
			}
		}
		for _, s := range []string{global.Secret, target.key} {
			if _, ok := find(list, s); ok {
				t.Errorf("%s list holds %s", project, unleashadmin.RedactSecret(s))
			}
		}
	}
}

// TestUpdateExpiry moves an expiry twice and reads it back.
func TestUpdateExpiry(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	tok := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: backend(), TokenName: name(t, "tok")})
	for _, at := range []time.Time{
		time.Now().Add(30 * 24 * time.Hour).Truncate(time.Millisecond),
		time.Date(2031, 7, 4, 11, 26, 24, 0, time.FixedZone("CEST", 2*3600)),
	} {
		if err := c.UpdateAPITokenExpiry(ctx(t), tok.Secret, at); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetAPITokensByName(ctx(t), tok.TokenName)
		if err != nil {
			t.Fatal(err)
		}
		listed, ok := find(got, tok.Secret)
		if !ok || listed.ExpiresAt == nil || !listed.ExpiresAt.Equal(at) {
			t.Errorf("after update to %v: %+v", at, listed)
		}
	}
	// An unknown secret is not an error.
	if err := c.UpdateAPITokenExpiry(ctx(t), "*:development."+strings.Repeat("0", 56), time.Now().Add(time.Hour)); err != nil {
		t.Errorf("update of an unknown secret: %v", err)
	}
}

// TestDelete deletes a global token and a project token and checks they
// are gone.
func TestDelete(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	global := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name(t, "global"), Projects: []string{"default"}})
	proj := mustCreateIn(t, c, "default", unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeFrontend, TokenName: name(t, "project")})
	if err := c.DeleteAPIToken(ctx(t), global.Secret); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteProjectAPIToken(ctx(t), "default", proj.Secret); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListAPITokens(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{global.Secret, proj.Secret} {
		if _, ok := find(all, s); ok {
			t.Errorf("%s still listed", unleashadmin.RedactSecret(s))
		}
	}
	// Deleting again: silent for the global call, 404 through the project.
	if err := c.DeleteAPIToken(ctx(t), global.Secret); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if err := c.DeleteProjectAPIToken(ctx(t), "default", proj.Secret); !errors.Is(err, unleashadmin.ErrNotFound) {
		t.Errorf("second project delete: %v, want ErrNotFound", err)
	}
}

// TestAuthForms lists with the plain and the Bearer form of the key.
func TestAuthForms(t *testing.T) {
	t.Parallel()
	for _, opts := range [][]unleashadmin.Option{nil, {unleashadmin.WithBearerAuth()}} {
		c := newClient(t, "", opts...)
		toks, err := c.ListAPITokens(ctx(t))
		if err != nil {
			t.Fatalf("%d options: %v", len(opts), err)
		}
		if _, ok := find(toks, target.key); !ok && !target.real {
			t.Errorf("the admin key is not listed")
		}
	}
}

// TestErrors walks the error paths: each ends in its sentinel and carries
// Unleash's message.
func TestErrors(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	front := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeFrontend, TokenName: name(t, "front")})
	global := mustCreate(t, c, unleashadmin.CreateAPITokenRequest{Type: backend(), TokenName: name(t, "global")})
	unknownKey := "*:*." + strings.Repeat("ab", 28)
	noProject := "no-such-project-" + target.runID

	type errCase struct {
		name     string
		call     func() error
		sentinel error  // nil: no sentinel matches the status
		msg      string // part of the Unleash message or of a detail
		status   int    // the status, when no sentinel says it
	}
	unknownProject := errCase{"unknown project in projects", func() error {
		_, err := c.CreateAPIToken(ctx(t), unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name(t, "x"), Projects: []string{noProject}})
		return err
	}, unleashadmin.ErrBadRequest, "Project=" + noProject + " does not exist", 400}
	if target.info.SecureTokens {
		// A bug of the server: the insert of the project link fails.
		unknownProject.sentinel, unknownProject.msg, unknownProject.status = nil, "violates foreign key constraint", 500
	}
	// The admin type: a schema error since Unleash 7; before, the project
	// endpoint refuses it for its scope, and the general one with a 403 on
	// 6 and not at all on 5 (a live admin token).
	adminSentinel, adminMsg := unleashadmin.ErrBadRequest, "/body/type"
	projectAdminSentinel, projectAdminMsg := unleashadmin.ErrBadRequest, "/body/type"
	if !target.info.AtLeast(7, 0) {
		adminSentinel, adminMsg = unleashadmin.ErrForbidden, "Admin tokens are disabled"
		projectAdminMsg = "Admin token cannot be scoped to single project"
	}
	tests := []errCase{
		{"unknown key", func() error { _, err := newClient(t, unknownKey).ListAPITokens(ctx(t)); return err },
			unleashadmin.ErrUnauthorized, "You must log in to use Unleash", 0},
		{"unknown key, Bearer", func() error {
			_, err := newClient(t, unknownKey, unleashadmin.WithBearerAuth()).ListAPITokens(ctx(t))
			return err
		}, unleashadmin.ErrUnauthorized, "You must log in to use Unleash", 0},
		{"frontend token as the admin key", func() error { _, err := newClient(t, front.Secret).ListAPITokens(ctx(t)); return err },
			unleashadmin.ErrForbidden, "invalid token", 0},
		{"unknown project, list", func() error { _, err := c.ListProjectAPITokens(ctx(t), noProject); return err },
			unleashadmin.ErrNotFound, "No project found", 0},
		{"unknown project, create", func() error {
			_, err := c.CreateProjectAPIToken(ctx(t), noProject, unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name(t, "x")})
			return err
		}, unleashadmin.ErrNotFound, "No project found", 0},
		unknownProject,
		{"unknown environment", func() error {
			_, err := c.CreateAPIToken(ctx(t), unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name(t, "x"), Environment: "nope"})
			return err
		}, unleashadmin.ErrBadRequest, "Environment=nope does not exist", 0},
		{"unknown environment, project", func() error {
			_, err := c.CreateProjectAPIToken(ctx(t), "default", unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name(t, "x"), Environment: "nope"})
			return err
		}, unleashadmin.ErrBadRequest, "Environment=nope does not exist", 0},
		{"admin type", func() error {
			tok, err := c.CreateAPIToken(ctx(t), unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeAdmin, TokenName: name(t, "x")})
			if tok != nil {
				created(t, c, tok) // Unleash 5 makes a live admin token
			}
			return err
		}, adminSentinel, adminMsg, 0},
		{"admin type, project", func() error {
			tok, err := c.CreateProjectAPIToken(ctx(t), "default", unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeAdmin, TokenName: name(t, "x")})
			if tok != nil {
				created(t, c, tok)
			}
			return err
		}, projectAdminSentinel, projectAdminMsg, 0},
		{"delete through the wrong project", func() error { return c.DeleteProjectAPIToken(ctx(t), "default", global.Secret) },
			unleashadmin.ErrBadRequest, "", 0},
		{"project delete of an unknown token", func() error {
			return c.DeleteProjectAPIToken(ctx(t), "default", "default:development."+strings.Repeat("0", 56))
		}, unleashadmin.ErrNotFound, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !target.info.AtLeast(6, 0) && tt.name == "admin type" {
				testAdminOnUnleash5(t, tt.call)
				return
			}
			err := tt.call()
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Fatalf("err = %v, want %v", err, tt.sentinel)
			}
			var apiErr *unleashadmin.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err %T is not an *APIError", err)
			}
			if tt.status != 0 && apiErr.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", apiErr.StatusCode, tt.status)
			}
			text := apiErr.Message
			for _, d := range apiErr.Details {
				text += " " + d.Path + " " + d.Message
			}
			if !strings.Contains(text, tt.msg) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q / error %q lacks %q", text, err, tt.msg)
			}
			if s, ok := containsSecret(err.Error(), front.Secret, global.Secret, target.key, unknownKey); ok {
				t.Errorf("error text holds %s", unleashadmin.RedactSecret(s))
			}
		})
	}
	// The token used on the wrong path still exists.
	all, err := c.ListAPITokens(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := find(all, global.Secret); !ok {
		t.Errorf("the token refused through the wrong project is gone")
	}
}

// testAdminOnUnleash5: Unleash 5 creates an admin token when asked (the
// call cleans it up).
func testAdminOnUnleash5(t *testing.T, call func() error) {
	if err := call(); err != nil {
		t.Errorf("admin type on Unleash %s: %v, want a token", target.info.Version, err)
	}
}

// TestBackendType: backend tokens where the server has the type (listed as
// client except under secure storage, the same kind either way), and
// ErrNotSupported with advice where it does not (before Unleash 7.1).
func TestBackendType(t *testing.T) {
	t.Parallel()
	c := newClient(t, "")
	for _, inProject := range []bool{false, true} {
		var tok *unleashadmin.APIToken
		var err error
		if inProject {
			tok, err = c.CreateProjectAPIToken(ctx(t), "default", unleashadmin.CreateProjectAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: name(t, "p")})
		} else {
			tok, err = c.CreateAPIToken(ctx(t), unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeBackend, TokenName: name(t, "g")})
		}
		if tok != nil {
			created(t, c, tok)
		}
		if !target.info.HasBackendType() {
			if !errors.Is(err, unleashadmin.ErrNotSupported) || !errors.Is(err, unleashadmin.ErrBadRequest) || !strings.Contains(err.Error(), "ask for client") {
				t.Errorf("backend on Unleash %s (project %t): %v", target.info.Version, inProject, err)
			}
			continue
		}
		if err != nil || tok.Type != unleashadmin.TokenTypeBackend {
			t.Fatalf("project %t: %+v, %v", inProject, tok, err)
		}
		byName, err := c.GetAPITokensByName(ctx(t), tok.TokenName)
		if err != nil {
			t.Fatal(err)
		}
		listed, ok := find(byName, tok.Secret)
		if !ok || listed.Type != listedType(unleashadmin.TokenTypeBackend) || !listed.IsType(unleashadmin.TokenTypeBackend) || !listed.IsType(unleashadmin.TokenTypeClient) {
			t.Errorf("project %t: listed as %+v", inProject, listed)
		}
	}
}

// containsSecret reports which of secrets s shows: it looks for the random
// part after the last '.', so that an escaped prefix ("%2A:") hides nothing.
func containsSecret(s string, secrets ...string) (string, bool) {
	for _, sec := range secrets {
		if strings.Contains(s, sec[strings.LastIndexByte(sec, '.')+1:]) {
			return sec, true
		}
	}
	return "", false
}
