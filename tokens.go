package unleashadmin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// apiTokens is the root of the instance-wide token endpoints.
const apiTokens = "/api/admin/api-tokens"

// CreateAPIToken creates a client, backend or frontend token and returns it
// with its secret, which Unleash shows in full only here when it stores
// tokens securely.
//
// The request is not retried after it may have reached the server (a 5xx, a
// timeout, a connection reset): a second attempt could create a second live
// token. It is retried on 429 and when the connection could not be made.
//
// Unleash API docs: https://docs.getunleash.io/api/create-api-token
func (c *Client) CreateAPIToken(ctx context.Context, req CreateAPITokenRequest) (*APIToken, error) {
	const op = "CreateAPIToken"
	if err := required(op, "Type", string(req.Type), "TokenName", req.TokenName); err != nil {
		return nil, err
	}
	for _, p := range req.Projects {
		if strings.TrimSpace(p) == "" {
			return nil, invalidArg(op, "Projects holds an empty project ID")
		}
	}
	if err := checkExpiry(op, req.ExpiresAt); err != nil {
		return nil, err
	}
	return c.create(ctx, route(apiTokens), req, req.Type, req.TokenName)
}

// ListAPITokens returns every token the key may see, in no particular order,
// expired ones included.
//
// Unleash API docs: https://docs.getunleash.io/api/get-all-api-tokens
func (c *Client) ListAPITokens(ctx context.Context) ([]APIToken, error) {
	return c.list(ctx, route(apiTokens))
}

// GetAPITokensByName returns every token named tokenName: names are not
// unique. No such token is an empty list, not an error.
//
// Unleash API docs: https://docs.getunleash.io/api/get-api-tokens-by-name
func (c *Client) GetAPITokensByName(ctx context.Context, tokenName string) ([]APIToken, error) {
	if err := required("GetAPITokensByName", "tokenName", tokenName); err != nil {
		return nil, err
	}
	return c.list(ctx, route(apiTokens).param(tokenName))
}

// UpdateAPITokenExpiry moves the expiry of the token with this secret;
// a time in the past expires it. Unleash answers success for a secret it
// does not hold, so an unknown secret is not an error. A token used by an
// SDK keeps working for up to a minute after it expires (Unleash caches
// tokens).
//
// Unleash API docs: https://docs.getunleash.io/api/update-api-token
func (c *Client) UpdateAPITokenExpiry(ctx context.Context, secret string, expiresAt time.Time) error {
	const op = "UpdateAPITokenExpiry"
	if err := required(op, "secret", secret); err != nil {
		return err
	}
	if err := checkExpiry(op, &expiresAt); err != nil {
		return err
	}
	return c.do(ctx, http.MethodPut, route(apiTokens).secret(secret), expiryUpdate{expiresAt}, nil)
}

// DeleteAPIToken deletes the token with this secret, in any project.
// Unleash answers success for a secret it does not hold, so deleting twice
// is not an error. SDKs may go on using the token for up to a minute.
//
// Unleash API docs: https://docs.getunleash.io/api/delete-api-token
func (c *Client) DeleteAPIToken(ctx context.Context, secret string) error {
	if err := required("DeleteAPIToken", "secret", secret); err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, route(apiTokens).secret(secret), nil, nil)
}

// create sends a create request and reads the new token. When the answer
// holds a secret but is otherwise odd (a field that does not decode, a body
// cut short), the token comes back together with an ErrUnexpectedResponse
// error: the token is live on the server and its secret must not be lost.
func (c *Client) create(ctx context.Context, p apiPath, body any, typ TokenType, name string) (*APIToken, error) {
	var got created
	err := c.do(ctx, http.MethodPost, p, body, &got)
	switch {
	case err == nil:
		return &got.tok, nil
	case got.tok.Secret != "" && errors.Is(err, ErrUnexpectedResponse):
		// The error may quote the new secret (a field that did not decode
		// is named with its value).
		return &got.tok, cleanErr([]*credSet{newCredSet(got.tok.Secret)}, err)
	case mayHaveCreated(err):
		return nil, fmt.Errorf("%w (a token named %q may have been created: look for it with GetAPITokensByName)", err, name)
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && strings.EqualFold(string(typ), string(TokenTypeBackend)) &&
		apiErr.StatusCode == http.StatusBadRequest && slices.ContainsFunc(apiErr.Details, func(d ErrorDetail) bool { return d.Path == "/body/type" || d.Path == "type" }) {
		// Servers before 7.1 refuse the type at the schema ("/body/type";
		// "type" on Unleash 5): they know only client and frontend.
		apiErr.unsupported = true
		apiErr.hint = "this Unleash knows only the client and frontend token types; backend came with Unleash 7.1: ask for client, which grants the same"
	}
	return nil, err
}

// mayHaveCreated reports whether a create that failed with err may still
// have made a token: its answer was not Unleash's, or a 5xx, or none came
// after the request could have been sent (a timeout, a reset, a context
// that ended). A refusal (4xx), a redirect that was not followed, bad input
// and a connection that could not be made did not.
func mayHaveCreated(err error) bool {
	var apiErr *APIError
	var reqErr *RequestError
	switch {
	case errors.Is(err, ErrUnexpectedResponse):
		return true
	case errors.As(err, &apiErr):
		return apiErr.StatusCode >= 500
	case errors.As(err, &reqErr):
		return !notSent(reqErr.Err)
	}
	return false
}

// created is a create response being decoded. A strict decode comes first;
// when it fails, every field that decodes is kept (see decodeSalvaging).
type created struct{ tok APIToken }

// salvager is an out for do whose answer must be read whatever happens:
// decodeBody hands it what arrived, even a body that broke off.
type salvager interface{ decodeSalvaging(data []byte) error }

// decodeSalvaging decodes data into the token. If data is not a token
// (a field of the wrong form, JSON cut short), it decodes the top-level
// fields one at a time, keeps every one that decodes, and returns an error
// naming the others.
func (c *created) decodeSalvaging(data []byte) error {
	err := json.Unmarshal(data, &c.tok)
	if err == nil {
		return nil
	}
	c.tok = APIToken{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, terr := dec.Token(); terr != nil || t != json.Delim('{') {
		return err
	}
	var bad []string
	for dec.More() {
		t, terr := dec.Token()
		key, ok := t.(string)
		if terr != nil || !ok {
			bad = append(bad, "the rest of the body")
			break
		}
		var raw json.RawMessage
		if derr := dec.Decode(&raw); derr != nil {
			bad = append(bad, key+" and the rest of the body")
			break
		}
		field, _ := json.Marshal(map[string]json.RawMessage{key: raw})
		if json.Unmarshal(field, &c.tok) != nil {
			bad = append(bad, key)
		}
	}
	if len(bad) == 0 {
		return err
	}
	return fmt.Errorf("could not read %s: %w", strings.Join(bad, ", "), err)
}

// missing names what a decoded create response lacks: Unleash always sends
// the new token's secret there, also with secure token storage.
func (c *created) missing() string {
	switch {
	case c.tok.Secret == "":
		return "no secret in the created token"
	case !usableSecret(c.tok.Secret):
		return "the created token's secret holds white space or a control character, which no Unleash secret has"
	}
	return ""
}

// usableSecret reports whether s can be a secret Unleash made: no white
// space, no control character, valid UTF-8. A secret that is not would be
// delivered as something else than the server holds (a line break splits
// it in two in a file).
func usableSecret(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
	})
}

func (c *Client) list(ctx context.Context, p apiPath) ([]APIToken, error) {
	var body tokenList
	if err := c.do(ctx, http.MethodGet, p, nil, &body); err != nil {
		return nil, err
	}
	if body.Tokens == nil {
		body.Tokens = []APIToken{}
	}
	return body.Tokens, nil
}

// required returns an ErrInvalidArgument error naming the first of the
// (name, value) pairs whose value is blank.
func required(op string, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if strings.TrimSpace(pairs[i+1]) == "" {
			return invalidArg(op, "%s is empty", pairs[i])
		}
	}
	return nil
}

// checkExpiry refuses a zero expiry time; nil means no expiry.
func checkExpiry(op string, t *time.Time) error {
	if t != nil && t.IsZero() {
		return invalidArg(op, "the expiry time is zero")
	}
	return nil
}
