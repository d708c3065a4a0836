package unleashadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	secretA = "default:development.d17fe70d7c3d609a08b9a29ab2bd66f7d0e4f789baf6c795584bd9a5"
	// createdBackend is capture 101-create-backend-full from Unleash 8.2.0.
	createdBackend = `{"tokenName":"t-backend-full","environment":"development","projects":["default"],"expiresAt":"2030-01-02T03:04:05.000Z","secret":"default:development.517cb0bf5002ae8cb2b5fb07dd4b750bbdaece49ec9ddee476e7bf64","type":"backend","alias":null,"project":"default","createdAt":"2026-11-22T07:55:13.082Z","secure":false}`
	// createdProject is capture 200-proj-create-backend.
	createdProject = `{"tokenName":"p-backend","environment":"development","projects":["default"],"secret":"` + secretA + `","type":"backend","alias":null,"project":"default","createdAt":"2026-11-22T07:55:14.070Z","secure":false}`
	// listedTwo is capture 301-get-by-name: two tokens with one name.
	listedTwo = `{"tokens":[{"secret":"*:development.571361a8a3051c4a82450006130eb865431131746d29afe7429a2ce0","tokenName":"t-client-min","type":"client","project":"*","projects":["*"],"environment":"development","expiresAt":null,"createdAt":"2026-11-22T07:55:13.364Z","alias":null,"seenAt":null,"secure":false},{"secret":"*:development.d60f915ddfe869842660f35b2c271414e319636fc317f5629af8e5ef","tokenName":"t-client-min","type":"client","project":"*","projects":["*"],"environment":"development","expiresAt":"2030-01-02T03:04:05.000Z","createdAt":"2026-11-22T07:55:13.032Z","alias":null,"seenAt":"2026-11-22T08:00:00.000Z","secure":false}]}`
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestEndpoints checks, for every method, the request on the wire and the
// value decoded from a response captured from Unleash 8.2.0.
func TestEndpoints(t *testing.T) {
	expiry := mustTime("2030-01-02T03:04:05Z")
	tests := []struct {
		name       string
		reply      reply
		call       func(context.Context, *Client) (any, error)
		wantMethod string
		wantPath   string
		wantBody   string // "" for no body
		want       any
	}{
		{
			name:  "CreateAPIToken",
			reply: jsonReply(201, createdBackend),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeBackend, TokenName: "t-backend-full", Environment: "development", Projects: []string{"default"}, ExpiresAt: &expiry})
			},
			wantMethod: "POST", wantPath: "/api/admin/api-tokens",
			wantBody: `{"type":"backend","tokenName":"t-backend-full","environment":"development","projects":["default"],"expiresAt":"2030-01-02T03:04:05Z"}`,
			want: &APIToken{
				Secret: "default:development.517cb0bf5002ae8cb2b5fb07dd4b750bbdaece49ec9ddee476e7bf64", TokenName: "t-backend-full",
				Type: TokenTypeBackend, Environment: "development", Project: "default", Projects: []string{"default"},
				CreatedAt: mustTime("2026-11-22T07:55:13.082Z"), ExpiresAt: &expiry,
			},
		},
		{
			name:  "CreateAPIToken minimal leaves optional fields out",
			reply: jsonReply(201, createdBackend),
			call: func(ctx context.Context, c *Client) (any, error) {
				tok, err := c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "min"})
				if tok != nil {
					return tok.TokenName, err
				}
				return nil, err
			},
			wantMethod: "POST", wantPath: "/api/admin/api-tokens",
			wantBody: `{"type":"client","tokenName":"min"}`,
			want:     "t-backend-full",
		},
		{
			name:  "CreateProjectAPIToken",
			reply: jsonReply(201, createdProject),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateProjectAPIToken(ctx, "default", CreateProjectAPITokenRequest{Type: TokenTypeBackend, TokenName: "p-backend", Environment: "development"})
			},
			wantMethod: "POST", wantPath: "/api/admin/projects/default/api-tokens",
			// projects, matching the path, for Unleash 5 and 6.
			wantBody: `{"type":"backend","tokenName":"p-backend","environment":"development","projects":["default"]}`,
			want: &APIToken{
				Secret: secretA, TokenName: "p-backend", Type: TokenTypeBackend, Environment: "development",
				Project: "default", Projects: []string{"default"}, CreatedAt: mustTime("2026-11-22T07:55:14.070Z"),
			},
		},
		{
			name:  "ListAPITokens",
			reply: jsonReply(200, listedTwo),
			call: func(ctx context.Context, c *Client) (any, error) {
				toks, err := c.ListAPITokens(ctx)
				return secrets(toks), err
			},
			wantMethod: "GET", wantPath: "/api/admin/api-tokens",
			want: []string{"*:development.571361a8a3051c4a82450006130eb865431131746d29afe7429a2ce0", "*:development.d60f915ddfe869842660f35b2c271414e319636fc317f5629af8e5ef"},
		},
		{
			name:  "GetAPITokensByName decodes nulls and times",
			reply: jsonReply(200, listedTwo),
			call: func(ctx context.Context, c *Client) (any, error) {
				toks, err := c.GetAPITokensByName(ctx, "t-client-min")
				if len(toks) != 2 {
					return toks, err
				}
				return []any{toks[0].ExpiresAt, toks[0].SeenAt, toks[1].ExpiresAt.Equal(expiry), toks[1].SeenAt.Equal(mustTime("2026-11-22T08:00:00Z"))}, err
			},
			wantMethod: "GET", wantPath: "/api/admin/api-tokens/t-client-min",
			want: []any{(*time.Time)(nil), (*time.Time)(nil), true, true},
		},
		{
			name:  "GetAPITokensByName none is an empty list",
			reply: jsonReply(200, `{"tokens":[]}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetAPITokensByName(ctx, "my token #1")
			},
			wantMethod: "GET", wantPath: "/api/admin/api-tokens/my%20token%20%231",
			want: []APIToken{},
		},
		{
			name:  "ListProjectAPITokens",
			reply: jsonReply(200, `{"tokens":[]}`),
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListProjectAPITokens(ctx, "default")
			},
			wantMethod: "GET", wantPath: "/api/admin/projects/default/api-tokens",
			want: []APIToken{},
		},
		{
			name:  "UpdateAPITokenExpiry",
			reply: reply{status: 200},
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.UpdateAPITokenExpiry(ctx, "*:development.d60f915ddfe869842660f35b2c271414e319636fc317f5629af8e5ef", expiry.In(time.FixedZone("X", 7200)))
			},
			wantMethod: "PUT", wantPath: "/api/admin/api-tokens/%2A:development.d60f915ddfe869842660f35b2c271414e319636fc317f5629af8e5ef",
			wantBody: `{"expiresAt":"2030-01-02T05:04:05+02:00"}`,
		},
		{
			name:  "DeleteAPIToken",
			reply: reply{status: 200},
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteAPIToken(ctx, "[]:development.4799c03a2841e9760632d2dd1a033fe11de21b98fa9a529f4cdc9ed9")
			},
			wantMethod: "DELETE", wantPath: "/api/admin/api-tokens/%5B%5D:development.4799c03a2841e9760632d2dd1a033fe11de21b98fa9a529f4cdc9ed9",
		},
		{
			name:  "DeleteProjectAPIToken",
			reply: reply{status: 200},
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteProjectAPIToken(ctx, "default", secretA)
			},
			wantMethod: "DELETE", wantPath: "/api/admin/projects/default/api-tokens/" + secretA,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, m := newTestClient(t, []reply{tt.reply})
			got, err := tt.call(context.Background(), c)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
			reqs := m.sent()
			if len(reqs) != 1 {
				t.Fatalf("sent %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tt.wantMethod || r.Path != tt.wantPath {
				t.Errorf("sent %s %s, want %s %s", r.Method, r.Path, tt.wantMethod, tt.wantPath)
			}
			if got := r.Header.Get("Authorization"); got != testKey {
				t.Errorf("Authorization = %q", got)
			}
			if got := r.Header.Get("Accept"); got != "application/json" {
				t.Errorf("Accept = %q", got)
			}
			if got := r.Header.Get("User-Agent"); got != "unleashadmin-go/"+Version {
				t.Errorf("User-Agent = %q", got)
			}
			if tt.wantBody == "" {
				if len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
					t.Errorf("sent body %q with Content-Type %q, want none", r.Body, r.Header.Get("Content-Type"))
				}
				return
			}
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if bytes.Contains(r.Body, []byte(`"project"`)) {
				t.Errorf("body %s holds the singular project field", r.Body)
			}
			jsonEqual(t, r.Body, tt.wantBody)
		})
	}
}

func secrets(toks []APIToken) []string {
	var out []string
	for _, t := range toks {
		out = append(out, t.Secret)
	}
	return out
}

func TestAuthAndUserAgentOptions(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, []reply{jsonReply(200, `{"tokens":[]}`)}, WithBearerAuth(), WithUserAgent("first"), WithUserAgent("deploy-bot/2"))
	if _, err := c.ListAPITokens(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := m.sent()[0].Header
	if got := h.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q, want the Bearer form", got)
	}
	if got := h.Get("User-Agent"); got != "deploy-bot/2" {
		t.Errorf("User-Agent = %q, want the last option's", got)
	}
}

func TestBaseURLWithSubPath(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"http://host.test/unleash", "http://host.test/unleash/", " http://host.test/unleash/ "} {
		m, hc := newMock(t, jsonReply(200, `{"tokens":[]}`))
		c, err := NewClient(base, testKey, WithHTTPClient(hc))
		if err != nil {
			t.Fatalf("NewClient(%q): %v", base, err)
		}
		if _, err := c.ListProjectAPITokens(context.Background(), "default"); err != nil {
			t.Fatal(err)
		}
		if got := m.sent()[0].Path; got != "/unleash/api/admin/projects/default/api-tokens" {
			t.Errorf("base %q: path %q", base, got)
		}
		if got := c.BaseURL(); got != "http://host.test/unleash" {
			t.Errorf("base %q: BaseURL() = %q", base, got)
		}
	}
}

func TestNewClientRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, key string
		opts            []Option
		wantInErr       string
	}{
		{"empty key", "http://h", "", nil, "apiKey is empty"},
		{"blank key", "http://h", "  ", nil, "apiKey is empty"},
		{"key with newline", "http://h", "a\nb", nil, "line break"},
		{"unparseable URL", "http://h/%zz", "k", nil, "not a valid URL"},
		{"ftp scheme", "ftp://h", "k", nil, "scheme must be http or https"},
		{"no scheme", "unleash.example.com", "k", nil, "scheme must be http or https"},
		{"no host", "http://", "k", nil, "has no host"},
		{"query", "http://h/?a=b", "k", nil, "query"},
		{"negative retries", "http://h", "k", []Option{WithRetryMax(-1)}, "WithRetryMax"},
		{"min over max", "http://h", "k", []Option{WithRetryWait(time.Second, time.Millisecond)}, "WithRetryWait"},
		{"empty user agent", "http://h", "k", []Option{WithUserAgent("")}, "WithUserAgent"},
	}
	for _, tt := range tests {
		c, err := NewClient(tt.base, tt.key, tt.opts...)
		if c != nil || !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tt.wantInErr) {
			t.Errorf("%s: NewClient = %v, %v; want ErrInvalidArgument saying %q", tt.name, c, err, tt.wantInErr)
		}
	}
	// A password in the URL is not repeated in the error.
	_, err := NewClient("ftp://user:hunter2@h", "k")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v repeats the URL's password", err)
	}
}

// TestInvalidInputSendsNothing checks that bad arguments fail with
// ErrInvalidArgument before any request.
func TestInvalidInputSendsNothing(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, nil)
	ctx := context.Background()
	zero := time.Time{}
	calls := map[string]func() error{
		"create no type": func() error {
			_, err := c.CreateAPIToken(ctx, CreateAPITokenRequest{TokenName: "x"})
			return err
		},
		"create no name": func() error {
			_, err := c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeClient, TokenName: " "})
			return err
		},
		"create empty project": func() error {
			_, err := c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "x", Projects: []string{"default", ""}})
			return err
		},
		"create zero expiry": func() error {
			_, err := c.CreateAPIToken(ctx, CreateAPITokenRequest{Type: TokenTypeClient, TokenName: "x", ExpiresAt: &zero})
			return err
		},
		"project create no project": func() error {
			_, err := c.CreateProjectAPIToken(ctx, "", CreateProjectAPITokenRequest{Type: TokenTypeClient, TokenName: "x"})
			return err
		},
		"project create no name": func() error {
			_, err := c.CreateProjectAPIToken(ctx, "default", CreateProjectAPITokenRequest{Type: TokenTypeClient})
			return err
		},
		"project create zero expiry": func() error {
			_, err := c.CreateProjectAPIToken(ctx, "default", CreateProjectAPITokenRequest{Type: TokenTypeClient, TokenName: "x", ExpiresAt: &zero})
			return err
		},
		"project list no project": func() error { _, err := c.ListProjectAPITokens(ctx, ""); return err },
		"by name no name":         func() error { _, err := c.GetAPITokensByName(ctx, ""); return err },
		"update no secret":        func() error { return c.UpdateAPITokenExpiry(ctx, "", time.Now()) },
		"update zero expiry":      func() error { return c.UpdateAPITokenExpiry(ctx, secretA, zero) },
		"delete no secret":        func() error { return c.DeleteAPIToken(ctx, "") },
		"project delete no project": func() error {
			return c.DeleteProjectAPIToken(ctx, "", secretA)
		},
		"project delete no secret": func() error { return c.DeleteProjectAPIToken(ctx, "default", "") },
		"nil context": func() error {
			var nilCtx context.Context
			return c.DeleteAPIToken(nilCtx, secretA)
		},
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
		if err != nil && strings.Contains(err.Error(), secretA) {
			t.Errorf("%s: error %q holds the secret", name, err)
		}
	}
	if n := len(m.sent()); n != 0 {
		t.Errorf("sent %d requests for bad input", n)
	}
}

// TestPathEscaping checks that no argument can reach another path.
func TestPathEscaping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		call func(*Client) error
		want string
	}{
		{func(c *Client) error {
			_, err := c.GetAPITokensByName(context.Background(), "../../projects")
			return err
		}, "/api/admin/api-tokens/..%2F..%2Fprojects"},
		{func(c *Client) error { _, err := c.GetAPITokensByName(context.Background(), ".."); return err }, "/api/admin/api-tokens/%2E%2E"},
		{func(c *Client) error { _, err := c.GetAPITokensByName(context.Background(), "a?b#c%d"); return err }, "/api/admin/api-tokens/a%3Fb%23c%25d"},
		{func(c *Client) error { _, err := c.ListProjectAPITokens(context.Background(), "."); return err }, "/api/admin/projects/%2E/api-tokens"},
		{func(c *Client) error { return c.DeleteAPIToken(context.Background(), "x/../../projects/default") }, "/api/admin/api-tokens/x%2F..%2F..%2Fprojects%2Fdefault"},
		{func(c *Client) error { return c.DeleteProjectAPIToken(context.Background(), "a/b", "s;t") }, "/api/admin/projects/a%2Fb/api-tokens/s%3Bt"},
	}
	for _, tt := range tests {
		answer := jsonReply(200, `{"tokens":[]}`)
		if strings.Contains(tt.want, "%2F..%2F..%2Fprojects%2Fdefault") || strings.Contains(tt.want, "s%3Bt") {
			answer = jsonReply(200, "") // a delete's answer has no body
		}
		c, m := newTestClient(t, []reply{answer})
		if err := tt.call(c); err != nil {
			t.Fatal(err)
		}
		if got := m.sent()[0].Path; got != tt.want {
			t.Errorf("path %q, want %q", got, tt.want)
		}
	}
}

// TestListProjectAPITokensFilters feeds the answer Unleash 8.2.0 gives an
// admin key (every token of the instance) and expects only the project's.
func TestListProjectAPITokensFilters(t *testing.T) {
	t.Parallel()
	var body []byte
	for _, c := range loadCaptures(t, "8.2.0") {
		if c.name == "353-proj-list-second" {
			body = c.body
		}
	}
	if body == nil {
		t.Fatal("capture 353 missing")
	}
	var all tokenList
	if err := json.Unmarshal(body, &all); err != nil {
		t.Fatal(err)
	}
	for _, project := range []string{"second", "default"} {
		c, _ := newTestClient(t, []reply{jsonReply(200, string(body))})
		got, err := c.ListProjectAPITokens(context.Background(), project)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, tok := range all.Tokens {
			if tok.Type != TokenTypeAdmin && (tok.Project == project || contains(tok.Projects, project)) {
				want++
			}
		}
		if len(got) != want || want == 0 || want == len(all.Tokens) {
			t.Errorf("%s: got %d of %d tokens, want %d", project, len(got), len(all.Tokens), want)
		}
		for _, tok := range got {
			if tok.Type == TokenTypeAdmin || !contains(tok.Projects, project) || tok.Project == "*" {
				t.Errorf("%s: kept %v", project, tok)
			}
		}
		if project == "second" && !hasSecret(got, "[]:development.4799c03a2841e9760632d2dd1a033fe11de21b98fa9a529f4cdc9ed9") {
			t.Errorf("second: the multi-project token is missing")
		}
	}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func hasSecret(toks []APIToken, secret string) bool {
	for _, t := range toks {
		if t.Secret == secret {
			return true
		}
	}
	return false
}

// TestDecodeCaptures decodes every token body captured from Unleash 8.2.0
// and 6.10.1: nulls, missing expiresAt, unknown fields and "backend" listed
// as "client" are all normal.
func TestDecodeCaptures(t *testing.T) {
	t.Parallel()
	n := 0
	for _, version := range []string{"8.2.0", "6.10.1"} {
		for _, capt := range loadCaptures(t, version) {
			if capt.status/100 != 2 || !strings.Contains(capt.request, "/api/admin/") || len(capt.body) == 0 {
				continue
			}
			var out any = &APIToken{}
			if bytes.HasPrefix(capt.body, []byte(`{"tokens"`)) {
				out = &tokenList{}
			}
			resp := &http.Response{StatusCode: capt.status, Header: capt.header, Body: io.NopCloser(bytes.NewReader(capt.body)), ContentLength: int64(len(capt.body))}
			if err := decodeBody("GET", "/x", resp, out); err != nil {
				t.Errorf("%s/%s: %v", version, capt.name, err)
				continue
			}
			n++
			if tok, ok := out.(*APIToken); ok && (tok.TokenName == "" || tok.Secret == "" || tok.CreatedAt.IsZero()) {
				t.Errorf("%s/%s: decoded %v", version, capt.name, tok)
			}
		}
	}
	if n < 40 {
		t.Errorf("decoded only %d captured bodies", n)
	}
}

// TestSecureTokenWithoutSecret decodes a list item of Unleash's secure token
// storage, which has no secret.
func TestSecureTokenWithoutSecret(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, []reply{jsonReply(200, `{"tokens":[{"tokenName":"s","type":"client","projects":["*"],"environment":"development","createdAt":"2026-01-01T00:00:00Z","secure":true,"extra":{"a":1}}]}`)})
	toks, err := c.ListAPITokens(context.Background())
	if err != nil || len(toks) != 1 || !toks[0].Secure || toks[0].Secret != "" || toks[0].Type != TokenTypeClient {
		t.Fatalf("got %v, %v", toks, err)
	}
}

// TestAPIErrors checks each status against its sentinel and that the
// Unleash message, name, id and details reach the caller, for every body
// shape Unleash sends and for a proxy's HTML page.
func TestAPIErrors(t *testing.T) {
	t.Parallel()
	captured := map[string]capture{}
	for _, c := range loadCaptures(t, "8.2.0") {
		captured[c.name] = c
	}
	fromCapture := func(name string) reply {
		c, ok := captured[name]
		if !ok {
			t.Fatalf("no capture %s", name)
		}
		return reply{status: c.status, body: string(c.body), ctype: c.header.Get("Content-Type")}
	}
	tests := []struct {
		name     string
		reply    reply
		sentinel error
		wantName string
		wantMsg  string
		wantID   bool
		wantDet  string // a detail message that Error() repeats
	}{
		{"401 no header", fromCapture("010-list-noauth"), ErrUnauthorized, "AuthenticationRequired", "You must log in to use Unleash. Your request had no authorization header, so we could not authorize you. Try logging in at /auth/simple/login", true, ""},
		{"401 unknown key", fromCapture("011-list-badtoken"), ErrUnauthorized, "UnauthorizedError", "You must log in to use Unleash.", true, ""},
		{"403 message only", fromCapture("170-list-with-backend-token"), ErrForbidden, "", "invalid token: expected a different token type for this endpoint", false, ""},
		{"403 permission", fromCapture("600-viewer-list"), ErrForbidden, "PermissionError", "You don't have the required permissions", true, ""},
		{"415", fromCapture("160-create-text-plain"), ErrUnsupportedMediaType, "ContentTypeError", "We do not accept the content-type you provided (text/plain)", true, ""},
		{"400 schema with id", fromCapture("105-create-admin"), ErrBadRequest, "BadDataError", "Request validation failed", true, "must match pattern"},
		{"400 handler without id", fromCapture("155-create-unknown-env"), ErrBadRequest, "BadDataError", "Environment=nope does not exist", false, ""},
		{"400 token limit", fromCapture("950-token-limit-exceeded"), ErrBadRequest, "ExceedsLimitError", "You can't create more than the established limit of 3.", false, ""},
		{"400 malformed JSON", fromCapture("159-create-bad-json"), ErrBadRequest, "", "Unexpected end of JSON input", false, ""},
		{"400 empty body", fromCapture("343-proj-delete-all-projects-token"), ErrBadRequest, "", "", false, ""},
		{"404 empty body", fromCapture("341-proj-delete-again"), ErrNotFound, "", "", false, ""},
		{"404 no project", fromCapture("241-proj-list-unknown"), ErrNotFound, "NotFoundError", "No project found", false, ""},
		{"404 HTML from a proxy", reply{status: 404, body: "<html><body>nginx</body></html>", ctype: "text/html"}, ErrNotFound, "", "", false, ""},
		{"429 plain text", reply{status: 429, body: "slow down", ctype: "text/plain", header: http.Header{"Retry-After": {"3600"}}}, ErrRateLimited, "", "", false, ""},
		{"500 odd details", jsonReply(500, `{"message":"boom","details":"not a list"}`), nil, "", "boom", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := newTestClient(t, []reply{tt.reply}, WithRetryMax(0))
			err := c.DeleteProjectAPIToken(context.Background(), "default", secretA)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			for _, s := range []error{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound, ErrUnsupportedMediaType, ErrRateLimited} {
				if got := errors.Is(err, s); got != (s == tt.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
			if apiErr.StatusCode != tt.reply.status || apiErr.Method != "DELETE" {
				t.Errorf("status %d method %s", apiErr.StatusCode, apiErr.Method)
			}
			if apiErr.Name != tt.wantName || !strings.Contains(apiErr.Message, tt.wantMsg) || (apiErr.ID != "") != tt.wantID {
				t.Errorf("parsed name %q message %q id %q", apiErr.Name, apiErr.Message, apiErr.ID)
			}
			if !bytes.Equal(apiErr.Body, []byte(tt.reply.body)) {
				t.Errorf("Body = %q", apiErr.Body)
			}
			wantURL := testBase + "/api/admin/projects/default/api-tokens/default:development.d17f***"
			if apiErr.URL != wantURL {
				t.Errorf("URL = %q, want %q", apiErr.URL, wantURL)
			}
			msg := err.Error()
			for _, part := range []string{"DELETE", "/api/admin/projects/default/api-tokens/", fmt.Sprint(tt.reply.status), tt.wantMsg, tt.wantDet} {
				if !strings.Contains(msg, part) {
					t.Errorf("Error() = %q, lacks %q", msg, part)
				}
			}
			// A detail that only repeats the message is not said twice.
			if tt.wantMsg != "" && strings.Count(msg, tt.wantMsg) != 1 {
				t.Errorf("Error() = %q says %q more than once", msg, tt.wantMsg)
			}
			if strings.Contains(msg, secretA) || strings.Contains(msg, testKey) {
				t.Errorf("Error() = %q holds a secret", msg)
			}
		})
	}
}

func TestAPIErrorBodyIsBounded(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", MaxErrorBodyBytes*3)
	c, _ := newTestClient(t, []reply{{status: 400, body: big, ctype: "text/plain"}})
	_, err := c.ListAPITokens(context.Background())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || len(apiErr.Body) != MaxErrorBodyBytes || !errors.Is(err, ErrBadRequest) {
		t.Fatalf("err %v, body %d bytes", err, len(apiErr.Body))
	}
}

// TestUnexpectedSuccessBodies checks that a 2xx that is not Unleash's JSON
// is a typed error, not a panic or a half-filled value.
func TestUnexpectedSuccessBodies(t *testing.T) {
	t.Parallel()
	tests := map[string]reply{
		"HTML login page": {status: 200, body: "<!doctype html><title>Sign in</title>", ctype: "text/html; charset=utf-8"},
		"wrong shape":     jsonReply(200, `{"tokens":{"secret":"x"}}`),
		"truncated":       jsonReply(200, `{"tokens":[{"secret":"x",`),
		"empty":           jsonReply(200, ``),
		"too large":       {status: 200, body: `{"tokens":[]}`, ctype: "application/json", header: http.Header{}},
	}
	for name, r := range tests {
		c, _ := newTestClient(t, []reply{r})
		if name == "too large" {
			c, _ = newTestClient(t, []reply{jsonReply(200, `{"tokens":[`+strings.Repeat(`{"tokenName":"x"},`, MaxResponseBytes/18)+`{}]}`)})
		}
		toks, err := c.ListAPITokens(context.Background())
		if !errors.Is(err, ErrUnexpectedResponse) || toks != nil {
			t.Errorf("%s: %v, %v; want ErrUnexpectedResponse", name, toks, err)
		}
		if err != nil && !strings.Contains(err.Error(), "GET /api/admin/api-tokens") {
			t.Errorf("%s: error %q does not name the call", name, err)
		}
	}
}

func dialRefused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

func connReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

// TestRetryPolicy counts the requests each failure gets.
func TestRetryPolicy(t *testing.T) {
	t.Parallel()
	create := func(c *Client) error {
		_, err := c.CreateAPIToken(context.Background(), CreateAPITokenRequest{Type: TokenTypeBackend, TokenName: "x"})
		return err
	}
	projCreate := func(c *Client) error {
		_, err := c.CreateProjectAPIToken(context.Background(), "default", CreateProjectAPITokenRequest{Type: TokenTypeBackend, TokenName: "x"})
		return err
	}
	list := func(c *Client) error { _, err := c.ListAPITokens(context.Background()); return err }
	update := func(c *Client) error { return c.UpdateAPITokenExpiry(context.Background(), secretA, time.Now()) }
	del := func(c *Client) error { return c.DeleteAPIToken(context.Background(), secretA) }

	ok201 := jsonReply(201, createdBackend)
	ok200 := jsonReply(200, `{"tokens":[]}`)
	tests := []struct {
		name      string
		call      func(*Client) error
		replies   []reply
		wantSent  int
		wantErrIs error // nil: success
	}{
		{"create not retried after 503", create, []reply{jsonReply(503, `{"message":"down"}`), ok201}, 1, nil},
		{"create not retried after 500 HTML", create, []reply{{status: 500, body: "<h1>oops</h1>", ctype: "text/html"}, ok201}, 1, nil},
		{"create not retried after a reset", create, []reply{{err: connReset()}, ok201}, 1, syscall.ECONNRESET},
		{"create not retried after EOF", create, []reply{{err: io.ErrUnexpectedEOF}, ok201}, 1, io.ErrUnexpectedEOF},
		{"project create not retried after 502", projCreate, []reply{jsonReply(502, ``), ok201}, 1, nil},
		{"create retried after refused connection", create, []reply{{err: dialRefused()}, ok201}, 2, nil},
		{"create retried after 429", create, []reply{{status: 429, header: http.Header{"Retry-After": {"0"}}}, ok201}, 2, nil},
		{"project create retried after 429", projCreate, []reply{{status: 429}, ok201}, 2, nil},
		{"list retried after 503", list, []reply{jsonReply(503, ``), jsonReply(500, ``), ok200}, 3, nil},
		{"list retried after reset", list, []reply{{err: connReset()}, ok200}, 2, nil},
		{"list not retried after 501", list, []reply{jsonReply(501, ``), ok200}, 1, nil},
		{"list not retried after 404", list, []reply{jsonReply(404, ``), ok200}, 1, ErrNotFound},
		{"update retried after 502", update, []reply{jsonReply(502, ``), {status: 200}}, 2, nil},
		{"delete retried after 504", del, []reply{jsonReply(504, ``), {status: 200}}, 2, nil},
		{"list gives up after RetryMax", list, []reply{jsonReply(503, `{"message":"maintenance"}`)}, 4, nil},
		{"429 past the wait maximum is not waited for", list, []reply{{status: 429, header: http.Header{"Retry-After": {"120"}}}, ok200}, 1, ErrRateLimited},
		{"429 with garbage Retry-After backs off", list, []reply{{status: 429, header: http.Header{"Retry-After": {"soon"}}}, ok200}, 2, nil},
		{"429 every time ends in ErrRateLimited", create, []reply{{status: 429}}, 4, ErrRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// No real waits; a Retry-After up to 1s is allowed.
			c, m := newTestClient(t, tt.replies, WithRetryWait(0, time.Second))
			err := tt.call(c)
			if n := len(m.sent()); n != tt.wantSent {
				t.Errorf("sent %d requests, want %d", n, tt.wantSent)
			}
			last := tt.replies[min(tt.wantSent, len(tt.replies))-1]
			switch {
			case tt.wantErrIs != nil:
				if !errors.Is(err, tt.wantErrIs) {
					t.Errorf("err = %v, want %v", err, tt.wantErrIs)
				}
			case last.err == nil && last.status >= 400:
				var apiErr *APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != last.status {
					t.Errorf("err = %v, want an APIError with status %d", err, last.status)
				}
			case err != nil:
				t.Errorf("err = %v, want success", err)
			}
		})
	}
}

func TestRetriesOff(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, []reply{jsonReply(503, ``), jsonReply(200, `{"tokens":[]}`)}, WithRetryMax(0))
	if _, err := c.ListAPITokens(context.Background()); err == nil {
		t.Fatal("want the 503")
	}
	if n := len(m.sent()); n != 1 {
		t.Errorf("sent %d, want 1", n)
	}
}

func TestRetryAfterIsHonouredAndContextEndsTheWait(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, []reply{{status: 429, header: http.Header{"Retry-After": {"1"}}}, jsonReply(200, `{"tokens":[]}`)}, WithRetryWait(0, 10*time.Second))
	start := time.Now()
	if _, err := c.ListAPITokens(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 900*time.Millisecond || len(m.sent()) != 2 {
		t.Errorf("waited %v over %d requests, want about 1s over 2", waited, len(m.sent()))
	}

	c, m = newTestClient(t, []reply{{status: 503}}, WithRetryWait(time.Minute, time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := c.ListAPITokens(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v, want the context's deadline at once", err, time.Since(start))
	}
	var reqErr *RequestError
	if !errors.As(err, &reqErr) || reqErr.Method != "GET" {
		t.Errorf("err = %#v, want a *RequestError", err)
	}
	if len(m.sent()) != 1 {
		t.Errorf("sent %d", len(m.sent()))
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	resp := func(code int, ra string) *http.Response {
		return &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {ra}}}
	}
	date := time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		resp    *http.Response
		attempt int
		lo, hi  time.Duration
	}{
		{nil, 0, time.Second, time.Second},
		{nil, 2, 4 * time.Second, 4 * time.Second},
		{nil, 10, 10 * time.Second, 10 * time.Second},
		{resp(429, "2"), 0, 2 * time.Second, 2 * time.Second},
		{resp(429, "600"), 0, 10 * time.Second, 10 * time.Second},
		{resp(503, date), 0, 1 * time.Second, 3 * time.Second},
		{resp(429, "Wed, 21 Oct 2015 07:28:00 GMT"), 3, 0, 0},
		{resp(429, "-5"), 1, 2 * time.Second, 2 * time.Second},
		{resp(500, "7"), 0, time.Second, time.Second},
	}
	for i, tt := range tests {
		got := backoff(time.Second, 10*time.Second, tt.attempt, tt.resp)
		if got < tt.lo || got > tt.hi {
			t.Errorf("%d: backoff = %v, want %v..%v", i, got, tt.lo, tt.hi)
		}
	}
}

// TestSecretsStayOut prints and logs everything a caller could, and fails if
// the API key or a token secret shows.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newTestClient(t, []reply{
		jsonReply(201, createdProject),
		jsonReply(503, `{"message":"down"}`), {err: connReset()}, {status: 200},
		jsonReply(400, `{"message":"bad"}`),
		{err: dialRefused()},
	}, WithLogger(logger), WithBearerAuth())
	ctx := context.Background()
	tok, err := c.CreateProjectAPIToken(ctx, "default", CreateProjectAPITokenRequest{Type: TokenTypeBackend, TokenName: "p"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	errs := []error{
		c.UpdateAPITokenExpiry(ctx, tok.Secret, time.Now()),
		c.DeleteProjectAPIToken(ctx, "default", tok.Secret),
	}
	c2, _ := newTestClient(t, []reply{{err: dialRefused()}}, WithRetryMax(1))
	errs = append(errs, c2.DeleteAPIToken(ctx, tok.Secret))
	for _, err := range errs {
		fmt.Fprintf(&out, "%v|%+v|%#v|%s\n", err, err, err, err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
		fmt.Fprintf(&out, verb+"\n", *tok)
		fmt.Fprintf(&out, verb+"\n", tok)
		fmt.Fprintf(&out, verb+"\n", []APIToken{*tok})
		fmt.Fprintf(&out, verb+"\n", c)
	}
	logger.Info("token", "token", tok, "value", *tok, "client", c)
	all := out.String() + logs.String()
	if s, ok := containsAny(all, testKey, tok.Secret, randomOf(secretA)); ok {
		t.Errorf("output holds %q:\n%s", s, all)
	}
	if !strings.Contains(all, "default:development.d17f***") || !strings.Contains(logs.String(), "retrying request") {
		t.Errorf("redacted forms or retry logs missing:\n%s", all)
	}
	// json.Marshal keeps the secret: callers store it.
	data, _ := json.Marshal(tok)
	if !bytes.Contains(data, []byte(tok.Secret)) {
		t.Errorf("json.Marshal dropped the secret: %s", data)
	}
}

func TestSilentWithoutLogger(t *testing.T) {
	// Not parallel: it swaps the default slog logger and os.Stderr is not
	// touched by the Client.
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(prev)
	c, _ := newTestClient(t, []reply{jsonReply(503, ``), jsonReply(200, `{"tokens":[]}`)})
	if _, err := c.ListAPITokens(context.Background()); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("logged without a logger: %s", buf.String())
	}
}

func TestRedactSecret(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                                     "",
		"short":                                "***",
		"*:*.unleash-insecure-admin-api-token": "*:*.unle***",
		secretA:                                "default:development.d17f***",
		"no-dot-but-long-enough-to-matter-a":   "***",
		"a.b":                                  "***",
	}
	for in, want := range tests {
		if got := RedactSecret(in); got != want {
			t.Errorf("RedactSecret(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, []reply{jsonReply(200, listedTwo)})
	done := make(chan error)
	for range 16 {
		go func() {
			_, err := c.ListAPITokens(context.Background())
			done <- err
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if len(m.sent()) != 16 {
		t.Errorf("sent %d", len(m.sent()))
	}
}

func TestPtr(t *testing.T) {
	t.Parallel()
	p := Ptr(time.Unix(5, 0))
	if p == nil || !p.Equal(time.Unix(5, 0)) {
		t.Fatal("Ptr")
	}
}
