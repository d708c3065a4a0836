package unleashtest

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Secure token storage (Unleash 8.1 and later, behind
// UNLEASH_EXPERIMENTAL_SECURE_TOKEN): a token's secret is
// "<project>:<environment>.v2_<selector>_<secret>" and the server keeps
// only the selector and a hash of the whole string. The selector finds the
// token; the hash checks the secret when the token authenticates.

// v2SecretRE matches the end of a full v2 secret and captures its selector.
// Like Unleash's own pattern it is anchored at the end only: whatever comes
// before ".v2_" is part of the secret but not of the lookup.
var v2SecretRE = regexp.MustCompile(`\.v2_([A-Za-z0-9_-]{22})_[A-Za-z0-9_-]{43}$`)

// selectorRE matches a bare selector, which the admin routes accept in
// place of a full secret.
var selectorRE = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// v2Selector returns the selector of a full v2 secret.
func v2Selector(secret string) (string, bool) {
	m := v2SecretRE.FindStringSubmatch(secret)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// v2Reference returns the selector that the path of an update or delete
// names: that of a full v2 secret, or a bare selector. Unleash then finds
// the token by its selector alone: the rest of a full secret (its prefix
// and its secret part) is not checked there.
func v2Reference(ref string) (string, bool) {
	if sel, ok := v2Selector(ref); ok {
		return sel, true
	}
	if selectorRE.MatchString(ref) {
		return ref, true
	}
	return "", false
}

// authenticatesAsV2 reports whether Unleash reads an Authorization value as
// a v2 API token, which it then looks up in secure storage only.
func authenticatesAsV2(key string) bool {
	if strings.HasPrefix(key, "user:") {
		return false // a personal access token's form
	}
	_, ok := v2Selector(key)
	return ok
}

// validatesAsV2 reports whether POST /edge/validate looks a secret up in
// secure storage first: a v2 secret that Unleash does not take for an
// admin key ("*:*...") or a personal access token.
func validatesAsV2(secret string) bool {
	return authenticatesAsV2(secret) && !strings.HasPrefix(secret, "*:*")
}

// tokenPrefix is the part of a secret before the ".": "<project>:<env>"
// with "*" for all projects and "[]" for several.
func tokenPrefix(projects []string, env string) string {
	p := "[]"
	switch {
	case slices.Contains(projects, "*"):
		p = "*"
	case len(projects) == 1:
		p = projects[0]
	}
	return p + ":" + env
}

// resolveProjects returns the projects a token is made for: a list that
// holds "*" anywhere means all projects, as on the real server.
func resolveProjects(projects []string) []string {
	if slices.Contains(projects, "*") {
		return []string{"*"}
	}
	return projects
}

// newToken makes a token of the given scope with a fresh secret, in secure
// storage when secure is set; typ is the type to store ("backend" is kept
// as "client" in legacy storage).
func newToken(secure bool, name, typ string, projects []string, env string, expires *time.Time, created time.Time) Token {
	tok := Token{
		TokenName:   name,
		Type:        typ,
		Project:     strings.Join(projects, ","),
		Projects:    slices.Clone(projects),
		Environment: env,
		ExpiresAt:   expires,
		CreatedAt:   created,
	}
	prefix := tokenPrefix(projects, env)
	if secure {
		sel, rest := newV2Credential()
		tok.Secret = prefix + ".v2_" + sel + "_" + rest
		tok.Selector, tok.Secure = sel, true
		return tok
	}
	if tok.Type == "backend" {
		tok.Type = "client"
	}
	tok.Secret = prefix + "." + newSecretSuffix()
	return tok
}

// seedToken checks one token given to WithTokens against the Server's
// configuration and the tokens already held, and returns it as stored.
// Errors never quote the secret.
func (s *Server) seedToken(seed Token, start time.Time) (Token, error) {
	if strings.TrimSpace(seed.TokenName) == "" {
		return Token{}, errors.New("TokenName is empty")
	}
	typ := strings.ToLower(seed.Type)
	switch typ {
	case "client", "backend", "frontend", "admin":
	case "":
		return Token{}, errors.New("Type is empty (client, backend, frontend or admin)")
	default:
		return Token{}, errors.New("Type is not client, backend, frontend or admin")
	}

	projects := slices.Clone(seed.Projects)
	if len(projects) == 0 && seed.Project != "" {
		projects = strings.Split(seed.Project, ",")
	}
	if len(projects) == 0 {
		projects = []string{"*"}
	}
	for i, p := range projects {
		switch {
		case p == "":
			return Token{}, fmt.Errorf("project %d is empty", i+1)
		case p != "*" && !slices.Contains(s.cfg.projects, p):
			return Token{}, fmt.Errorf("project %d does not exist (WithProjects sets the projects)", i+1)
		case slices.Index(projects, p) < i:
			return Token{}, fmt.Errorf("project %d repeats project %d", i+1, slices.Index(projects, p)+1)
		}
	}
	projects = resolveProjects(projects)
	if seed.Project != "" && len(seed.Projects) > 0 && seed.Project != strings.Join(projects, ",") {
		return Token{}, errors.New("Project disagrees with Projects")
	}

	env := seed.Environment
	if typ == "admin" {
		if env == "" {
			env = "*"
		}
		if env != "*" || projects[0] != "*" {
			return Token{}, errors.New("an admin token must have all projects and Environment \"*\"")
		}
	} else {
		if env == "" {
			env = defaultEnvironment
		}
		switch {
		case env == "*":
			return Token{}, errors.New(`Environment "*" is for admin tokens only`)
		case !slices.Contains(s.cfg.environments, env):
			return Token{}, errors.New("Environment does not exist (WithEnvironments sets the environments)")
		}
	}

	created := start
	if !seed.CreatedAt.IsZero() {
		created = seed.CreatedAt.UTC().Truncate(time.Millisecond)
	}
	ms := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC().Truncate(time.Millisecond)
		return &u
	}

	var tok Token
	if seed.Secret == "" {
		if seed.Selector != "" {
			return Token{}, errors.New("Selector is set but Secret is empty")
		}
		tok = newToken(seed.Secure || s.cfg.secure, seed.TokenName, typ, projects, env, nil, created)
	} else {
		if strings.IndexFunc(seed.Secret, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return Token{}, errors.New("Secret holds a space or control character")
		}
		tok = Token{
			Secret:      seed.Secret,
			TokenName:   seed.TokenName,
			Type:        typ,
			Project:     strings.Join(projects, ","),
			Projects:    projects,
			Environment: env,
			CreatedAt:   created,
		}
		if sel, ok := v2Selector(seed.Secret); ok {
			if seed.Selector != "" && seed.Selector != sel {
				return Token{}, errors.New("Selector is not the selector of Secret")
			}
			tok.Selector, tok.Secure = sel, true
		} else {
			switch {
			case seed.Secure:
				return Token{}, errors.New("Secure is set but Secret is not a v2 secret (\"...v2_<22 characters>_<43 characters>\")")
			case seed.Selector != "":
				return Token{}, errors.New("Selector is set but Secret is not a v2 secret")
			}
			if typ == "backend" {
				tok.Type = "client" // legacy storage keeps backend as client
			}
		}
	}
	tok.ExpiresAt = ms(seed.ExpiresAt)
	tok.SeenAt = ms(seed.SeenAt)

	if slices.Contains(s.cfg.adminKeys, tok.Secret) {
		return Token{}, errors.New("Secret is one of the admin keys")
	}
	for _, t := range s.tokens {
		if t.Secret == tok.Secret {
			return Token{}, errors.New("Secret is the secret of an earlier token")
		}
		if tok.Secure && t.Secure && t.Selector == tok.Selector {
			return Token{}, errors.New("the selector of Secret is that of an earlier token")
		}
	}
	return tok, nil
}
