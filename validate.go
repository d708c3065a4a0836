package unleashadmin

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// maxValidateBatch is how many secrets one POST /edge/validate carries.
// Unleash parses request bodies of up to 100 kB; 250 secrets of the longest
// kind (about 100 bytes with a v2 secret and a long project name) stay well
// under it.
const maxValidateBatch = 250

// TokenCheck is what ValidateTokens found out about one secret. Its printed
// form (every fmt verb, and slog) redacts Secret; json.Marshal keeps it.
type TokenCheck struct {
	// Secret is the secret as it was given.
	Secret string `json:"secret"`
	// Live reports whether Unleash accepts the secret. The other fields are
	// set only for a live secret.
	Live bool `json:"live"`
	// Type is the token's type; Unleash reports a backend token as client
	// here, except under secure token storage, which keeps backend.
	Type        TokenType `json:"type,omitempty"`
	Environment string    `json:"environment,omitempty"`
	// Projects is ["*"] for an all-projects token.
	Projects []string `json:"projects,omitempty"`
}

// Format prints the check with its secret redacted, for every verb.
func (r TokenCheck) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Secret:%s Live:%t Type:%s Environment:%s Projects:%v}",
		RedactSecret(r.Secret), r.Live, r.Type, r.Environment, r.Projects)
}

// LogValue logs the check with its secret redacted.
func (r TokenCheck) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("secret", RedactSecret(r.Secret)),
		slog.Bool("live", r.Live),
		slog.String("type", string(r.Type)),
		slog.String("environment", r.Environment),
		slog.Any("projects", r.Projects),
	)
}

// validateRequest and validateResponse are the bodies of POST /edge/validate.
type validateRequest struct {
	Tokens []string `json:"tokens"`
}

type validateResponse struct {
	Tokens []struct {
		Token       string    `json:"token"`
		Type        TokenType `json:"type"`
		Environment string    `json:"environment"`
		Projects    []string  `json:"projects"`
	} `json:"tokens"`
}

// missing names what a decoded answer lacks: Unleash sends "tokens", each
// entry with the token it found live.
func (v *validateResponse) missing() string {
	if v.Tokens == nil {
		return `no "tokens" list`
	}
	for _, t := range v.Tokens {
		if t.Token == "" {
			return `an entry of "tokens" without its token`
		}
	}
	return ""
}

// ValidateTokens asks Unleash which of secrets are live (POST
// /edge/validate, the call Unleash Edge uses) and returns one TokenCheck per
// secret, in the order given. It needs no API key: a Client made with
// NewClientWithoutKey can call it, so can any other.
//
// What "live" means depends on the server's cache. On Unleash 6 a deleted
// token is reported live for up to about a minute. On Unleash 7 and 8 the
// endpoint keeps its own cache that the server never refreshes: a token
// it has once found live is reported live until the server restarts, even
// after it was deleted (an expiry is still noticed); Unleash 5 has no
// cache. So a "not live" answer is reliable, a "live" one is not proof.
// Under secure token storage only the full v2 secret validates, not a
// selector; Unleash 5 and 6 leave out the environment.
//
// Secrets are sent in batches of 250; a repeated secret is sent once. The
// request is retried like a GET: it changes nothing on the server.
//
// Unleash API docs: https://docs.getunleash.io/api/get-valid-tokens
func (c *Client) ValidateTokens(ctx context.Context, secrets []string) ([]TokenCheck, error) {
	const op = "ValidateTokens"
	out := make([]TokenCheck, len(secrets))
	var unique []string
	index := map[string][]int{}
	for i, s := range secrets {
		if strings.TrimSpace(s) == "" {
			return nil, invalidArg(op, "secret %d is empty", i+1)
		}
		out[i].Secret = s
		if _, seen := index[s]; !seen {
			unique = append(unique, s)
		}
		index[s] = append(index[s], i)
	}
	for start := 0; start < len(unique); start += maxValidateBatch {
		batch := unique[start:min(start+maxValidateBatch, len(unique))]
		var resp validateResponse
		if err := c.do(ctx, http.MethodPost, route("/edge/validate").withoutKey().notInEveryVersion().carrying(batch...), validateRequest{batch}, &resp); err != nil {
			return nil, err
		}
		for _, t := range resp.Tokens {
			for _, i := range index[t.Token] {
				out[i] = TokenCheck{Secret: t.Token, Live: true, Type: t.Type, Environment: t.Environment, Projects: t.Projects}
			}
		}
	}
	return out, nil
}
