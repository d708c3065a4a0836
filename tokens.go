package unleashadmin

import (
	"context"
	"net/http"
	"strings"
	"time"
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
	var tok APIToken
	if err := c.do(ctx, http.MethodPost, route(apiTokens), req, &tok); err != nil {
		return nil, err
	}
	return &tok, nil
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
