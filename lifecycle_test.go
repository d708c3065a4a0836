package unleashadmin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A v2 secret of secure token storage, its selector, and a listed token
// that shows only the selector.
const (
	v2Sel  = "AbCdEfGhIjKlMnOpQrStUv"
	v2Full = "default:development.v2_" + v2Sel + "_" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
)

func TestFindAPIToken(t *testing.T) {
	t.Parallel()
	toks := []APIToken{
		{TokenName: "a", Secret: secretA},
		{TokenName: "secure", Secret: v2Sel, Secure: true},
	}
	for _, tc := range []struct {
		ref, want string
	}{
		{secretA, "a"},
		{"  " + secretA + "\n", "a"},
		{v2Full, "secure"},
		{v2Sel, "secure"},
		{"default:development." + hex56, ""},
		{"", ""},
	} {
		got, ok := FindAPIToken(toks, tc.ref)
		if ok != (tc.want != "") || ok && got.TokenName != tc.want {
			t.Errorf("FindAPIToken(%s) = %v, %t; want %q", RedactSecret(tc.ref), got, ok, tc.want)
		}
	}
	// The pointer is into the slice: a caller may change what it found.
	got, _ := FindAPIToken(toks, secretA)
	if got != &toks[0] {
		t.Error("FindAPIToken returned a copy")
	}
}

func TestLookupAPIToken(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, []reply{jsonReply(200, listedTwo)})
	missing := "default:development." + hex56
	_, err := c.LookupAPIToken(context.Background(), missing)
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), hex56[8:20]) {
		t.Fatalf("err = %v, want ErrNotFound without the secret", err)
	}
	if reqs := m.sent(); len(reqs) != 1 || reqs[0].Method != "GET" || reqs[0].Path != "/api/admin/api-tokens" {
		t.Fatalf("sent %+v", reqs)
	}
	if _, err := c.LookupAPIToken(context.Background(), " "); !errors.Is(err, ErrInvalidArgument) || len(m.sent()) != 1 {
		t.Fatalf("blank ref: %v after %d requests", err, len(m.sent()))
	}
}

func TestParseTypes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]TokenType{"client": TokenTypeClient, "Backend": TokenTypeBackend, " FRONTEND ": TokenTypeFrontend} {
		if got, err := ParseTokenType(in); err != nil || got != want {
			t.Errorf("ParseTokenType(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"admin", "", "clients"} {
		if _, err := ParseTokenType(in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParseTokenType(%q): err = %v", in, err)
		}
	}
	for in, want := range map[string]EventType{"created": EventAPITokenCreated, "api-token-deleted": EventAPITokenDeleted, "UPDATED": EventAPITokenUpdated} {
		if got, err := ParseEventType(in); err != nil || got != want {
			t.Errorf("ParseEventType(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"feature-created", "", "api-token-"} {
		if _, err := ParseEventType(in); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("ParseEventType(%q): err = %v", in, err)
		}
	}
}

// createdAs is a create answer for the token req asks for.
func createdAs(req CreateAPITokenRequest, secret string) string {
	projects := scopeProjects(req.Projects)
	if projects == nil {
		projects = []string{"*"}
	}
	env := req.Environment
	if env == "" {
		env = "development"
	}
	b, _ := json.Marshal(map[string]any{
		"secret": secret, "tokenName": req.TokenName, "type": req.Type, "environment": env,
		"projects": projects, "project": strings.Join(projects, ","), "createdAt": "2026-11-22T07:55:13.082Z",
	})
	return string(b)
}

// The one place that picks the endpoint for a scope.
func TestCreateScopedAPIToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		projects []string
		path     string
		body     string
	}{
		{"one project", []string{"default"}, "/api/admin/projects/default/api-tokens",
			`{"type":"client","tokenName":"n","projects":["default"]}`},
		{"a comma list is two projects", []string{"b,a"}, "/api/admin/api-tokens",
			`{"type":"client","tokenName":"n","projects":["a","b"]}`},
		{"a list of one comma list", []string{" a , b "}, "/api/admin/api-tokens",
			`{"type":"client","tokenName":"n","projects":["a","b"]}`},
		{"repeats fold", []string{"a", "a,a"}, "/api/admin/projects/a/api-tokens",
			`{"type":"client","tokenName":"n","projects":["a"]}`},
		{"all", []string{"*"}, "/api/admin/api-tokens", `{"type":"client","tokenName":"n","projects":["*"]}`},
		{"star wins", []string{"a", "*"}, "/api/admin/api-tokens", `{"type":"client","tokenName":"n","projects":["*"]}`},
		{"none", nil, "/api/admin/api-tokens", `{"type":"client","tokenName":"n"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "n", Projects: tc.projects}
			c, m := newTestClient(t, []reply{jsonReply(201, createdAs(req, secretA))})
			tok, err := c.CreateScopedAPIToken(context.Background(), req)
			if err != nil || tok.Secret != secretA {
				t.Fatalf("%v, %v", tok, err)
			}
			reqs := m.sent()
			if len(reqs) != 1 || reqs[0].Method != "POST" || reqs[0].Path != tc.path {
				t.Fatalf("sent %+v", reqs)
			}
			jsonEqual(t, reqs[0].Body, tc.body)
		})
	}
}

// Before Unleash 7.1 the backend type is refused at the schema; the same
// token is asked for as client, once.
func TestCreateScopedAPITokenBackendFallback(t *testing.T) {
	t.Parallel()
	refused := jsonReply(400, `{"name":"BadDataError","message":"Request validation failed","details":[{"path":"/body/type","message":"must be equal to one of the allowed values"}]}`)
	req := CreateAPITokenRequest{Type: TokenTypeBackend, TokenName: "n", Environment: "default"}
	asClient := req
	asClient.Type = TokenTypeClient
	c, m := newTestClient(t, []reply{refused, jsonReply(201, createdAs(asClient, secretA))})
	tok, err := c.CreateScopedAPIToken(context.Background(), req)
	if err != nil || tok.Type != TokenTypeClient {
		t.Fatalf("%v, %v", tok, err)
	}
	reqs := m.sent()
	if len(reqs) != 2 {
		t.Fatalf("sent %d requests", len(reqs))
	}
	jsonEqual(t, reqs[0].Body, `{"type":"backend","tokenName":"n","environment":"default"}`)
	jsonEqual(t, reqs[1].Body, `{"type":"client","tokenName":"n","environment":"default"}`)

	// A frontend token refused the same way is not asked for again.
	c, m = newTestClient(t, []reply{refused})
	if _, err := c.CreateScopedAPIToken(context.Background(), CreateAPITokenRequest{Type: TokenTypeFrontend, TokenName: "n"}); !errors.Is(err, ErrBadRequest) || len(m.sent()) != 1 {
		t.Fatalf("frontend: %v after %d requests", err, len(m.sent()))
	}
}

func TestScopeMismatch(t *testing.T) {
	t.Parallel()
	req := CreateAPITokenRequest{Type: TokenTypeBackend, TokenName: "n", Environment: "production", Projects: []string{"b,a"}}
	ok := APIToken{TokenName: "n", Type: TokenTypeClient, Environment: "production", Project: "a,b"}
	if d := ScopeMismatch(req, ok); d != "" {
		t.Errorf("same scope: %q", d)
	}
	for name, change := range map[string]func(*APIToken){
		"another name":        func(t *APIToken) { t.TokenName = "payments" },
		"type frontend":       func(t *APIToken) { t.Type = TokenTypeFrontend },
		"another environment": func(t *APIToken) { t.Environment = "development" },
		"other projects":      func(t *APIToken) { t.Project = "*" },
	} {
		tok := ok
		change(&tok)
		if d := ScopeMismatch(req, tok); !strings.Contains(d, name) {
			t.Errorf("%s: ScopeMismatch = %q", name, d)
		}
	}
	// No environment asked for: the server's default is fine. No projects:
	// all projects.
	if d := ScopeMismatch(CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "n"}, APIToken{TokenName: "n", Type: "CLIENT", Environment: "default", Projects: []string{"*"}}); d != "" {
		t.Errorf("defaults: %q", d)
	}
}

func TestCreateAndDeliver(t *testing.T) {
	t.Parallel()
	req := CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "checkout", Environment: "development", Projects: []string{"default"}}
	created := jsonReply(201, createdAs(req, secretA))

	t.Run("delivered", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{created})
		var got string
		tok, err := c.CreateAndDeliver(context.Background(), req, func(_ context.Context, fresh APIToken) error {
			got = fresh.Secret
			return nil
		})
		if err != nil || tok.Secret != secretA || got != secretA || len(m.sent()) != 1 {
			t.Fatalf("%v, %v, delivered %s, %d requests", tok, err, RedactSecret(got), len(m.sent()))
		}
	})

	t.Run("not delivered: revoked even after the context ended", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{created, {status: 200}})
		ctx, cancel := context.WithCancel(context.Background())
		tok, err := c.CreateAndDeliver(ctx, req, func(context.Context, APIToken) error {
			cancel()
			return io.ErrShortWrite
		})
		if tok != nil || !errors.Is(err, ErrNotDelivered) || !errors.Is(err, io.ErrShortWrite) || errors.Is(err, ErrUndeliveredLive) {
			t.Fatalf("%v, %v", tok, err)
		}
		reqs := m.sent()
		// Through the endpoint it was made by.
		if len(reqs) != 2 || reqs[1].Method != "DELETE" || reqs[1].Path != "/api/admin/projects/default/api-tokens/"+secretA {
			t.Fatalf("sent %+v", reqs)
		}
	})

	t.Run("revoke fails: the live token comes back", func(t *testing.T) {
		t.Parallel()
		c, _ := newTestClient(t, []reply{created, jsonReply(403, `{"message":"no"}`)})
		tok, err := c.CreateAndDeliver(context.Background(), req, func(context.Context, APIToken) error { return errors.New("vault down") })
		if tok == nil || tok.Secret != secretA || !errors.Is(err, ErrUndeliveredLive) || !errors.Is(err, ErrNotDelivered) || !errors.Is(err, ErrForbidden) {
			t.Fatalf("%v, %v", tok, err)
		}
		if strings.Contains(err.Error(), randomOf(secretA)[:12]) {
			t.Errorf("error shows the secret: %v", err)
		}
	})

	t.Run("another scope is revoked, never delivered", func(t *testing.T) {
		t.Parallel()
		other := req
		other.TokenName = "payments"
		c, m := newTestClient(t, []reply{jsonReply(201, createdAs(other, secretA)), {status: 200}})
		delivered := false
		tok, err := c.CreateAndDeliver(context.Background(), req, func(context.Context, APIToken) error {
			delivered = true
			return nil
		})
		if tok != nil || delivered || !errors.Is(err, ErrNotDelivered) || !errors.Is(err, ErrUnexpectedResponse) {
			t.Fatalf("%v, delivered %t, %v", tok, delivered, err)
		}
		if reqs := m.sent(); len(reqs) != 2 || reqs[1].Method != "DELETE" {
			t.Fatalf("sent %+v", reqs)
		}
	})

	t.Run("a deliverer's error is cleaned of the secret", func(t *testing.T) {
		t.Parallel()
		random := randomOf(secretA)
		for name, text := range map[string]string{
			"upper case":   "sink refused " + strings.ToUpper(secretA),
			"line break":   "sink refused " + random[:20] + "\n" + random[20:],
			"cut":          "sink refused " + secretA[:40],
			"json escaped": "sink refused " + strings.ReplaceAll(random, "d", `\u0064`),
		} {
			c, _ := newTestClient(t, []reply{created, {status: 200}})
			_, err := c.CreateAndDeliver(context.Background(), req, func(context.Context, APIToken) error { return errors.New(text) })
			if !errors.Is(err, ErrNotDelivered) {
				t.Fatalf("%s: %v", name, err)
			}
			if echoed([]*credSet{newCredSet(secretA)}, err.Error()) {
				t.Errorf("%s: error shows the secret: %q", name, err)
			}
		}
	})

	t.Run("no deliverer: the caller holds the secret", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{created})
		if tok, err := c.CreateAndDeliver(context.Background(), req, nil); err != nil || tok.Secret != secretA || len(m.sent()) != 1 {
			t.Fatalf("%v, %v", tok, err)
		}
	})
}

func TestRetireAPIToken(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 4, 5, 6, 7, 891234567, time.UTC)
	clock := func() time.Time { return now }
	tok := APIToken{Secret: secretA, TokenName: "a"}

	t.Run("at once", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{{status: 200}})
		r, err := c.RetireAPIToken(context.Background(), tok, RetireOptions{})
		if err != nil || !r.Deleted || r.ExpiresAt != nil {
			t.Fatalf("%+v, %v", r, err)
		}
		if reqs := m.sent(); len(reqs) != 1 || reqs[0].Method != "DELETE" || reqs[0].Path != "/api/admin/api-tokens/"+secretA {
			t.Fatalf("sent %+v", reqs)
		}
	})

	t.Run("a token of one project, through its project", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{{status: 200}})
		inOne := tok
		inOne.Project = "payments"
		if r, err := c.RetireAPIToken(context.Background(), inOne, RetireOptions{}); err != nil || !r.Deleted {
			t.Fatalf("%+v, %v", r, err)
		}
		if reqs := m.sent(); len(reqs) != 1 || reqs[0].Method != "DELETE" || reqs[0].Path != "/api/admin/projects/payments/api-tokens/"+secretA {
			t.Fatalf("sent %+v", reqs)
		}
	})

	t.Run("with grace, on the injected clock", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, []reply{{status: 200}})
		r, err := c.RetireAPIToken(context.Background(), tok, RetireOptions{GracePeriod: time.Hour, Now: clock})
		want := time.Date(2027, 3, 4, 6, 6, 7, 891000000, time.UTC)
		if err != nil || r.Deleted || r.ExpiresAt == nil || !r.ExpiresAt.Equal(want) {
			t.Fatalf("%+v, %v", r, err)
		}
		reqs := m.sent()
		if len(reqs) != 1 || reqs[0].Method != "PUT" || reqs[0].Path != "/api/admin/api-tokens/"+secretA {
			t.Fatalf("sent %+v", reqs)
		}
		jsonEqual(t, reqs[0].Body, `{"expiresAt":"2027-03-04T06:06:07.891Z"}`)
	})

	t.Run("an expiry is never moved later", func(t *testing.T) {
		t.Parallel()
		for _, in := range []time.Duration{-time.Hour, 0, 30 * time.Minute, time.Hour} {
			soon := now.Add(in).Truncate(time.Millisecond)
			old := tok
			old.ExpiresAt = &soon
			c, m := newTestClient(t, nil)
			r, err := c.RetireAPIToken(context.Background(), old, RetireOptions{GracePeriod: time.Hour, Now: clock})
			if err != nil || !r.Unchanged || !r.ExpiresAt.Equal(soon) || len(m.sent()) != 0 {
				t.Fatalf("expiry now%+v: %+v, %v, %d requests", in, r, err, len(m.sent()))
			}
		}
	})

	t.Run("a failure is an error, not a retirement", func(t *testing.T) {
		t.Parallel()
		c, _ := newTestClient(t, []reply{jsonReply(403, `{"message":"no"}`)})
		if r, err := c.RetireAPIToken(context.Background(), tok, RetireOptions{}); r != nil || !errors.Is(err, ErrForbidden) {
			t.Fatalf("%+v, %v", r, err)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		c, m := newTestClient(t, nil)
		for _, opts := range []RetireOptions{{GracePeriod: -time.Second}} {
			if _, err := c.RetireAPIToken(context.Background(), tok, opts); !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("%+v: %v", opts, err)
			}
		}
		if _, err := c.RetireAPIToken(context.Background(), APIToken{TokenName: "no secret"}, RetireOptions{}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("no secret: %v", err)
		}
		if len(m.sent()) != 0 {
			t.Errorf("sent %d requests", len(m.sent()))
		}
	})
}

// Every spelling of the key a user may give is the same key: sent the same
// way, and recognised as the key in use.
func TestKeySpellings(t *testing.T) {
	t.Parallel()
	own := APIToken{Secret: testKey, TokenName: "admin", Type: TokenTypeAdmin}
	other := APIToken{Secret: secretA, TokenName: "a", Type: TokenTypeClient}
	for _, tc := range []struct {
		given, header string
	}{
		{testKey, testKey},
		{" " + testKey, testKey},
		{testKey + " \n", testKey},
		{"Bearer " + testKey, "Bearer " + testKey},
		{"bearer  " + testKey, "Bearer " + testKey},
		{"BEARER\t" + testKey + " ", "Bearer " + testKey},
	} {
		m, hc := newMock(t, jsonReply(200, `{"tokens":[]}`))
		c, err := NewClient(testBase, tc.given, WithHTTPClient(hc))
		if err != nil {
			t.Fatalf("%q: %v", tc.given, err)
		}
		if !c.IsKey(own) || c.IsKey(other) || c.Protection(own, true) != ProtectedKeyInUse {
			t.Errorf("%q: the key's own token is not recognised", tc.given)
		}
		if _, err := c.ListAPITokens(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := m.sent()[0].Header.Get("Authorization"); got != tc.header {
			t.Errorf("%q: sent Authorization %q, want %q", tc.given, got, tc.header)
		}
		if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, testKey[4:20]) {
			t.Errorf("%q: the client prints its key: %s", tc.given, s)
		}
	}
	for _, bad := range []string{"", "  ", "Bearer", "Bearer  ", "bearer \t", testKey[:8] + "\n" + testKey[8:]} {
		if _, err := NewClient(testBase, bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("NewClient(%q): err = %v", bad, err)
		}
	}
	// A key that merely starts with the letters is not a bearer prefix.
	if c, err := NewClient(testBase, "bearerish:"+hex56); err != nil || c.bearer || c.key != "bearerish:"+hex56 {
		t.Errorf("bearerish key: %v", err)
	}
}

func TestProtection(t *testing.T) {
	t.Parallel()
	admin := APIToken{Secret: "*:*." + hex56, TokenName: "other-automation", Type: "ADMIN"}
	client := APIToken{Secret: secretA, TokenName: "a", Type: TokenTypeClient}
	secureKey := APIToken{Secret: v2Sel, TokenName: "admin", Type: TokenTypeAdmin, Secure: true}
	aliased := APIToken{Secret: secretA, TokenName: "aliased", Type: TokenTypeFrontend, Alias: Ptr("alias-that-authenticates")}
	for _, tc := range []struct {
		key          string
		tok          APIToken
		includeAdmin bool
		want         Protection
	}{
		{testKey, client, false, Unprotected},
		{testKey, admin, false, ProtectedAdmin},
		{testKey, admin, true, Unprotected},
		{"Bearer " + admin.Secret, admin, true, ProtectedKeyInUse},
		{" " + admin.Secret + " ", admin, true, ProtectedKeyInUse},
		{"*:*.v2_" + v2Sel + "_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG", secureKey, true, ProtectedKeyInUse},
		{"alias-that-authenticates", aliased, false, ProtectedKeyInUse},
		{"", client, false, Unprotected},
	} {
		if got := ProtectionFor(tc.key, tc.tok, tc.includeAdmin); got != tc.want {
			t.Errorf("ProtectionFor(%s, %s, %t) = %q, want %q", RedactSecret(tc.key), tc.tok.TokenName, tc.includeAdmin, got, tc.want)
		}
		if tc.key == "" {
			continue
		}
		c, err := NewClient(testBase, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Protection(tc.tok, tc.includeAdmin); got != tc.want {
			t.Errorf("Client.Protection(%s, %t) = %q, want %q", tc.tok.TokenName, tc.includeAdmin, got, tc.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	t.Parallel()
	random := randomOf(secretA)
	if got := RedactText("stored "+secretA+" ok", secretA); got != "stored "+RedactSecret(secretA)+" ok" {
		t.Errorf("exact: %q", got)
	}
	if got := RedactText("nothing here", secretA); got != "nothing here" {
		t.Errorf("clean text changed: %q", got)
	}
	for name, text := range map[string]string{
		"mixed case": strings.ToUpper(random[:30]) + random[30:],
		"split":      random[:14] + "\r\n" + random[14:],
		"escaped":    strings.ReplaceAll(random, "7", "%37"),
	} {
		got := RedactText("x "+text+" y", secretA)
		if echoed([]*credSet{newCredSet(secretA)}, got) {
			t.Errorf("%s: %q still shows the secret", name, got)
		}
	}
	err := RedactError(fmt.Errorf("wrapped: %w: %s", ErrForbidden, secretA), "short", secretA)
	if !errors.Is(err, ErrForbidden) || strings.Contains(err.Error(), random) || errors.Unwrap(err) != nil {
		t.Errorf("RedactError = %v", err)
	}
	if RedactError(nil, secretA) != nil {
		t.Error("RedactError(nil) is not nil")
	}
	c, _ := NewClient(testBase, testKey)
	if err := c.RedactError(errors.New("key "+testKey), secretA); strings.Contains(err.Error(), testKey[4:20]) {
		t.Errorf("Client.RedactError kept the key: %v", err)
	}
	_ = http.StatusOK
}

func TestGraceExpiry(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 1, 1, 0, 0, 0, 123456789, time.UTC)
	until, change := GraceExpiry(APIToken{}, now, time.Minute)
	if !change || !until.Equal(time.Date(2027, 1, 1, 0, 1, 0, 123000000, time.UTC)) {
		t.Errorf("no expiry: %v, %t", until, change)
	}
	same := until
	if got, change := GraceExpiry(APIToken{ExpiresAt: &same}, now, time.Minute); change || !got.Equal(same) {
		t.Errorf("an expiry equal to the grace: %v, %t", got, change)
	}
	later := until.Add(time.Millisecond)
	if got, change := GraceExpiry(APIToken{ExpiresAt: &later}, now, time.Minute); !change || !got.Equal(until) {
		t.Errorf("a later expiry: %v, %t", got, change)
	}
}

// Answers that are not Unleash's: a list that names one token twice, a
// create answer whose secret holds a line break.
func TestAnswersUnleashNeverGives(t *testing.T) {
	t.Parallel()
	one := `{"secret":"` + secretA + `","tokenName":"a","type":"client","project":"*","projects":["*"],"environment":"development","createdAt":"2026-11-22T07:55:13.364Z"}`
	c, _ := newTestClient(t, []reply{jsonReply(200, `{"tokens":[`+one+`,`+one+`]}`)})
	if toks, err := c.ListAPITokens(context.Background()); toks != nil || !errors.Is(err, ErrUnexpectedResponse) {
		t.Errorf("a list naming one token twice: %d tokens, %v", len(toks), err)
	}

	req := CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "checkout"}
	for name, secret := range map[string]string{
		"line break": secretA[:30] + "\n" + secretA[30:],
		"space":      secretA + " ",
		"escape":     secretA + "\x1b[2J",
		"bidi":       secretA[:30] + "\u202e" + secretA[30:],
	} {
		b, _ := json.Marshal(secret)
		c, m := newTestClient(t, []reply{jsonReply(201, `{"secret":`+string(b)+`,"tokenName":"checkout","type":"client","environment":"development","projects":["*"]}`)})
		delivered := false
		tok, err := c.CreateAndDeliver(context.Background(), req, func(context.Context, APIToken) error {
			delivered = true
			return nil
		})
		if tok != nil || delivered || !errors.Is(err, ErrUnexpectedResponse) || !errors.Is(err, ErrUndeliveredLive) {
			t.Errorf("%s: %v, delivered %t, %v", name, tok, delivered, err)
		}
		if len(m.sent()) != 1 {
			t.Errorf("%s: %d requests; a delete by a secret the server may not hold proves nothing", name, len(m.sent()))
		}
	}
}

// An answer that names a token that already exists (a cache or proxy
// replaying one) is no new token: a rotation neither delivers it nor
// deletes the old one, and a failed delivery never "revokes" it.
func TestCreateAnswerNamingAKnownToken(t *testing.T) {
	t.Parallel()
	old := APIToken{Secret: secretA, TokenName: "checkout", Type: TokenTypeClient, Environment: "development", Projects: []string{"default"}}
	replay := jsonReply(201, createdAs(RequestFor(old), secretA))
	for name, deliver := range map[string]DeliverFunc{
		"delivery would succeed": func(context.Context, APIToken) error { return nil },
		"delivery would fail":    func(context.Context, APIToken) error { return errors.New("vault down") },
	} {
		c, m := newTestClient(t, []reply{replay, {status: 200}})
		delivered := false
		r, err := c.RotateAPIToken(context.Background(), old, RotateOptions{Deliver: func(ctx context.Context, fresh APIToken) error {
			delivered = true
			return deliver(ctx, fresh)
		}})
		if r != nil || delivered || !errors.Is(err, ErrUnexpectedResponse) || !errors.Is(err, ErrUndeliveredLive) {
			t.Errorf("%s: %v, delivered %t, %v", name, r, delivered, err)
		}
		if reqs := m.sent(); len(reqs) != 1 {
			t.Errorf("%s: sent %d requests, want the create alone", name, len(reqs))
		}
	}
	// The client's own key, too, without being told.
	key := `{"secret":"` + testKey + `","tokenName":"checkout","type":"client","environment":"development","projects":["default"]}`
	c, m := newTestClient(t, []reply{jsonReply(201, key), {status: 200}})
	if tok, err := c.CreateAndDeliver(context.Background(), RequestFor(old), nil); tok != nil || !errors.Is(err, ErrUndeliveredLive) || len(m.sent()) != 1 {
		t.Errorf("the key as a create answer: %v, %v, %d requests", tok, err, len(m.sent()))
	}
}

// Every Unleash answers a create with 201; a token in a 200 or 202 is kept
// but not trusted.
func TestCreateAnsweredOtherThan201(t *testing.T) {
	t.Parallel()
	req := CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "checkout"}
	for _, status := range []int{200, 202} {
		c, _ := newTestClient(t, []reply{jsonReply(status, createdAs(req, secretA))})
		tok, err := c.CreateAPIToken(context.Background(), req)
		if tok == nil || tok.Secret != secretA || !errors.Is(err, ErrUnexpectedResponse) || !strings.Contains(err.Error(), fmt.Sprint(status)) {
			t.Errorf("%d: %v, %v", status, tok, err)
		}
	}
}

// An empty project ID never widens a token to all projects.
func TestEmptyProjectIsRefused(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, nil)
	for _, projects := range [][]string{{""}, {" "}, {","}, {" , "}} {
		req := CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "n", Projects: projects}
		if _, err := c.CreateScopedAPIToken(context.Background(), req); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: %v", projects, err)
		}
		if _, err := c.CreateAndDeliver(context.Background(), req, nil); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("CreateAndDeliver %q: %v", projects, err)
		}
	}
	if len(m.sent()) != 0 {
		t.Errorf("sent %d requests", len(m.sent()))
	}
}

// The key given where a name goes never reaches the debug log.
func TestLogPathHidesTheKey(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newTestClient(t, []reply{jsonReply(200, `{"tokens":[]}`)}, WithLogger(logger))
	if _, err := c.GetAPITokensByName(context.Background(), testKey); err != nil {
		t.Fatal(err)
	}
	if echoed(c.keyCreds, logged.String()) || !strings.Contains(logged.String(), "path=") {
		t.Errorf("the log shows the key:\n%s", logged.String())
	}
}

// UsableSecret is the rule CreateAndDeliver applies, exported for sinks.
func TestUsableSecret(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		secretA: true, v2Full: true, "": false, secretA + "\n": false, "a b": false,
		secretA[:20] + "\u200b" + secretA[20:]: false, "\xff\xfe": false, secretA + "\x00": false,
	} {
		if got := UsableSecret(s); got != want {
			t.Errorf("UsableSecret(%q) = %t, want %t", s, got, want)
		}
	}
}
