package unleashtest

import (
	"net/http"
	"slices"
)

// POST /edge/validate, which Unleash Edge uses to learn which of its
// tokens are live. It needs no key.

// validateSchema models tokenStringListSchema, the body of the request.
var validateSchema = bodySchema{
	required:   []string{"tokens"},
	properties: []propRule{{name: "tokens", kind: propStringArray}},
}

type validatedToken struct {
	Token       string   `json:"token"`
	Type        string   `json:"type"`
	Projects    []string `json:"projects"`
	Environment string   `json:"environment"`
}

type validatedTokens struct {
	Tokens []validatedToken `json:"tokens"`
}

// validateTokens answers, in the order asked and once per time asked, the
// tokens that are live: known and not expired. A secret of the v2 form is
// looked up in secure storage and then among the legacy tokens, any other
// among the legacy tokens only; either way the whole secret must match, so
// a bare selector is not live. Types are as stored: a legacy backend
// token is reported as client, one in secure storage as backend. Unlike
// the real server, the answer is always current: Unleash 7 and 8 keep
// reporting a token they once found live until the server restarts, even
// after it was deleted (Unleash 6 for about a minute).
func (s *Server) validateTokens(w http.ResponseWriter, doc *jsonValue) {
	if details := validateSchema.validate(doc); details != nil {
		writeSchemaError(w, details)
		return
	}
	asked := doc.get("tokens").items // strings after validation
	now := s.now()
	out := validatedTokens{Tokens: []validatedToken{}}
	s.mu.Lock()
	for _, item := range asked {
		secret := item.str
		v2 := validatesAsV2(secret)
		i := slices.IndexFunc(s.tokens, func(t Token) bool {
			return t.Secret == secret && (!t.Secure || v2)
		})
		if i < 0 {
			continue
		}
		t := s.tokens[i]
		if t.ExpiresAt != nil && !t.ExpiresAt.After(now) {
			continue
		}
		out.Tokens = append(out.Tokens, validatedToken{
			Token:       secret,
			Type:        t.Type,
			Projects:    slices.Clone(t.Projects),
			Environment: t.Environment,
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
