package unleashadmin

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// TokenType is the kind of an API token.
type TokenType string

// The token types Unleash knows. Unleash 7 and later refuse to create admin
// tokens through these endpoints (400) but still list the ones that exist.
// A token created as backend is listed as client afterwards.
const (
	TokenTypeClient   TokenType = "client"
	TokenTypeBackend  TokenType = "backend"
	TokenTypeFrontend TokenType = "frontend"
	TokenTypeAdmin    TokenType = "admin"
)

// APIToken is an API token as Unleash returns it. Its printed form (every
// fmt verb, and slog) redacts Secret; json.Marshal keeps it, so that callers
// can store it.
type APIToken struct {
	// Secret is the token itself, "<project>:<environment>.<hex>". With
	// Unleash's secure token storage, lists return a selector here instead
	// and only the create response holds the full secret.
	Secret    string    `json:"secret,omitempty"`
	TokenName string    `json:"tokenName"`
	Type      TokenType `json:"type"`
	// Environment is the token's environment; "*" for admin tokens.
	Environment string `json:"environment"`
	// Project is "*" for all projects, the project's ID, or the IDs joined
	// with commas for a token in several projects.
	Project   string     `json:"project"`
	Projects  []string   `json:"projects"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// SeenAt is when the token was last used; Unleash writes it every few
	// minutes, so it stays nil for a while after first use.
	SeenAt *time.Time `json:"seenAt,omitempty"`
	Alias  *string    `json:"alias,omitempty"`
	// Secure is true when Unleash stores only a hash of the secret.
	Secure bool `json:"secure"`
}

// Format prints the token with its secret redacted, for every verb.
func (t APIToken) Format(f fmt.State, verb rune) {
	var b strings.Builder
	fmt.Fprintf(&b, "{TokenName:%q Type:%s Environment:%s Project:%s Projects:%v Secret:%s CreatedAt:%s",
		t.TokenName, t.Type, t.Environment, t.Project, t.Projects, RedactSecret(t.Secret), t.CreatedAt.Format(time.RFC3339))
	if t.ExpiresAt != nil {
		fmt.Fprintf(&b, " ExpiresAt:%s", t.ExpiresAt.Format(time.RFC3339))
	}
	if t.SeenAt != nil {
		fmt.Fprintf(&b, " SeenAt:%s", t.SeenAt.Format(time.RFC3339))
	}
	if t.Alias != nil {
		// An alias authenticates like the secret (old proxy tokens).
		fmt.Fprintf(&b, " Alias:%q", RedactSecret(*t.Alias))
	}
	fmt.Fprintf(&b, " Secure:%t}", t.Secure)
	_, _ = f.Write([]byte(b.String()))
}

// LogValue logs the token with its secret redacted.
func (t APIToken) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("tokenName", t.TokenName),
		slog.String("type", string(t.Type)),
		slog.String("environment", t.Environment),
		slog.String("project", t.Project),
		slog.Any("projects", t.Projects),
		slog.String("secret", RedactSecret(t.Secret)),
	}
	if t.ExpiresAt != nil {
		attrs = append(attrs, slog.Time("expiresAt", *t.ExpiresAt))
	}
	return slog.GroupValue(attrs...)
}

// RedactSecret returns a form of a token secret (or API key) that is safe to
// print: the "<project>:<environment>." prefix Unleash puts in front of the
// random part, and four characters of it, then "***". A secret without that
// shape prints as "***".
func RedactSecret(secret string) string {
	if secret == "" {
		return ""
	}
	prefix, random, ok := splitSecret(secret)
	if !ok {
		return "***"
	}
	return prefix + random[:4] + "***"
}

// minRandom is the shortest part after the last '.' that is taken for the
// random part of a secret: Unleash's is 56 hex characters.
const minRandom = 16

// splitSecret splits a secret into its "<project>:<environment>." prefix
// and its random part; ok is false when it has no random part that long.
func splitSecret(secret string) (prefix, random string, ok bool) {
	i := strings.LastIndexByte(secret, '.')
	if i < 0 || len(secret)-i-1 < minRandom {
		return "", "", false
	}
	return secret[:i+1], secret[i+1:], true
}

// CreateAPITokenRequest is the body of CreateAPIToken. Empty optional
// fields are left out, so that Unleash picks its defaults.
type CreateAPITokenRequest struct {
	// Type is required: client, backend or frontend.
	Type TokenType `json:"type"`
	// TokenName is required. Names need not be unique.
	TokenName string `json:"tokenName"`
	// Environment defaults to "development" on Unleash 7 and later.
	Environment string `json:"environment,omitempty"`
	// Projects defaults to all projects ("*"). It is sent as "projects";
	// the singular "project" field is ignored by Unleash 7 and later.
	Projects []string `json:"projects,omitempty"`
	// ExpiresAt defaults to never. Unleash keeps millisecond precision.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// CreateProjectAPITokenRequest is the body of CreateProjectAPIToken; the
// project comes from the path.
type CreateProjectAPITokenRequest struct {
	Type        TokenType  `json:"type"`
	TokenName   string     `json:"tokenName"`
	Environment string     `json:"environment,omitempty"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
}

// tokenList is the body of every list response.
type tokenList struct {
	Tokens []APIToken `json:"tokens"`
}

// missing names what a decoded list lacks: Unleash always sends "tokens".
func (l *tokenList) missing() string {
	if l.Tokens == nil {
		return `no "tokens" list`
	}
	return ""
}

// missing names what a decoded create response lacks: Unleash always sends
// the new token's secret there, also with secure token storage.
func (t *APIToken) missing() string {
	if t.Secret == "" {
		return "no secret in the created token"
	}
	return ""
}

// missing names what a decoded event page lacks: Unleash always sends
// "events", an empty list when nothing matched.
func (p *EventPage) missing() string {
	if p.Events == nil {
		return `no "events" list`
	}
	return ""
}

// expiryUpdate is the body of UpdateAPITokenExpiry.
type expiryUpdate struct {
	ExpiresAt time.Time `json:"expiresAt"`
}
