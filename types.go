package unleashadmin

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// TokenType is the kind of an API token.
type TokenType string

// The token types Unleash knows. Unleash 7 and later refuse to create admin
// tokens through these endpoints (400; Unleash 6 answers 403, Unleash 5
// makes one) but still list the ones that exist. Backend came with Unleash
// 7.1; a token created as backend is listed as client afterwards on 7 and
// 8, except under secure token storage, which lists it as backend.
// APIToken.IsType counts the two as one.
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
	// Secret is the token itself, "<project>:<environment>.<hex>", or with
	// Unleash's secure token storage (8.1 and later, when enabled)
	// "<project>:<environment>.v2_<selector>_<secret>". Under secure
	// storage only the create response holds it: a token from a list
	// holds its 22-character selector here, which identifies the token
	// but is not a credential. UpdateAPITokenExpiry, DeleteAPIToken,
	// DeleteProjectAPIToken and RotateAPIToken accept either; Matches
	// tells whether a listed token is the one of a full secret.
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

// Matches reports whether t is the token of secret: the same secret, or,
// for a token listed under secure token storage, the selector of a full v2
// secret ("...v2_<selector>_<secret>") or that selector itself.
func (t APIToken) Matches(secret string) bool {
	if t.Secret == "" || secret == "" {
		return false
	}
	if t.Secret == secret {
		return true
	}
	mine, ok := Selector(t.Secret)
	if !ok && t.Secure && isSelector(t.Secret) {
		mine, ok = t.Secret, true
	}
	theirs, ok2 := Selector(secret)
	if !ok2 && isSelector(secret) {
		theirs, ok2 = secret, true
	}
	return ok && ok2 && mine == theirs
}

// Redacted returns a copy of t that is safe to print in any form, JSON
// included: Secret and Alias (which authenticates like the secret on old
// servers) in their RedactSecret form, and the selector of a token listed
// under secure storage, which is not a credential, in full.
func (t APIToken) Redacted() APIToken {
	t.Secret = t.shownSecret()
	if t.Alias != nil {
		t.Alias = Ptr(RedactSecret(*t.Alias))
	}
	t.Projects = slices.Clone(t.Projects)
	return t
}

// shownSecret is the secret as t prints: redacted, but the selector of a
// token listed under secure storage (which is not a credential) in full.
func (t APIToken) shownSecret() string {
	if t.Secure && isSelector(t.Secret) {
		return t.Secret
	}
	return RedactSecret(t.Secret)
}

// Format prints the token with its secret redacted, for every verb.
func (t APIToken) Format(f fmt.State, verb rune) {
	var b strings.Builder
	fmt.Fprintf(&b, "{TokenName:%q Type:%s Environment:%s Project:%s Projects:%v Secret:%s CreatedAt:%s",
		t.TokenName, t.Type, t.Environment, t.Project, t.Projects, t.shownSecret(), t.CreatedAt.Format(time.RFC3339))
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
		slog.String("secret", t.shownSecret()),
	}
	if t.ExpiresAt != nil {
		attrs = append(attrs, slog.Time("expiresAt", *t.ExpiresAt))
	}
	return slog.GroupValue(attrs...)
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
	// Unleash lists each token once; a list that names a secret (or a
	// selector) twice is not its answer (a proxy, a cache), and a caller
	// acting on it could keep and retire one token at once.
	seen := make(map[string]struct{}, len(l.Tokens))
	for _, t := range l.Tokens {
		if t.Secret == "" {
			continue
		}
		if _, dup := seen[t.Secret]; dup {
			return "the list names one token twice"
		}
		seen[t.Secret] = struct{}{}
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

// IsType reports whether t is a token of type typ, counting backend and
// client as one type: Unleash 7 and 8 list a token created as backend as
// client (unless secure token storage is on, which keeps backend), and both
// grant the same access. The comparison ignores letter case, as Unleash does.
func (t APIToken) IsType(typ TokenType) bool {
	return kindOf(t.Type) == kindOf(typ)
}

// kindOf folds backend into client and letter case away.
func kindOf(typ TokenType) TokenType {
	k := TokenType(strings.ToLower(string(typ)))
	if k == TokenTypeBackend {
		return TokenTypeClient
	}
	return k
}

// ExpiredAt reports whether t has stopped working at time now: it has an
// expiry and that expiry is not after now. A token without an expiry never
// expires.
func (t APIToken) ExpiredAt(now time.Time) bool {
	return t.ExpiresAt != nil && !t.ExpiresAt.After(now)
}

// ExpiresWithin reports whether t stops working within d of now, or has
// already stopped: it has an expiry before now + d.
func (t APIToken) ExpiresWithin(now time.Time, d time.Duration) bool {
	return t.ExpiresAt != nil && t.ExpiresAt.Before(now.Add(d))
}

// InProject reports whether t belongs to project projectID the way Unleash
// decides it for a personal access token's view of a project: a token that
// is not an admin token, whose project is projectID or whose projects
// include it. An all-projects ("*") token is in no single project. This is
// the rule ListProjectAPITokens applies.
func (t APIToken) InProject(projectID string) bool {
	if t.Type == TokenTypeAdmin || projectID == "" {
		return false
	}
	return t.Project == projectID || slices.Contains(t.Projects, projectID)
}

// ProjectIDs returns the projects of t, sorted and without repeats: Projects,
// or Project split at its commas when a response carried only that. It is
// ["*"] for an all-projects token, and holds "*" whenever Projects does:
// Unleash treats a token whose projects include "*" as an all-projects token.
func (t APIToken) ProjectIDs() []string {
	ids := slices.Clone(t.Projects)
	if len(ids) == 0 && t.Project != "" {
		ids = strings.Split(t.Project, ",")
	}
	if slices.Contains(ids, "*") {
		return []string{"*"}
	}
	ids = slices.DeleteFunc(ids, func(s string) bool { return s == "" })
	slices.Sort(ids)
	return slices.Compact(ids)
}
