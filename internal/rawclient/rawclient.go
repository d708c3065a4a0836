// Package rawclient makes the token requests of unleashadmin with nothing
// but net/http and encoding/json, written the way a user would by hand. It
// is the baseline the benchmarks (bench_test.go and benchreal) measure the
// SDK against, and deliberately uses none of the SDK's types or code.
package rawclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Client sends requests to Base with Key as the Authorization header.
type Client struct {
	HTTP      *http.Client
	Base      string // no trailing slash
	Key       string
	UserAgent string
}

// Token has the fields and JSON names of unleashadmin.APIToken.
type Token struct {
	Secret      string     `json:"secret,omitempty"`
	TokenName   string     `json:"tokenName"`
	Type        string     `json:"type"`
	Environment string     `json:"environment"`
	Project     string     `json:"project"`
	Projects    []string   `json:"projects"`
	CreatedAt   time.Time  `json:"createdAt"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
	SeenAt      *time.Time `json:"seenAt,omitempty"`
	Alias       *string    `json:"alias,omitempty"`
	Secure      bool       `json:"secure"`
}

// CreateRequest is the body of a create.
type CreateRequest struct {
	Type        string     `json:"type"`
	TokenName   string     `json:"tokenName"`
	Environment string     `json:"environment,omitempty"`
	Projects    []string   `json:"projects,omitempty"`
	ExpiresAt   *time.Time `json:"expiresAt,omitempty"`
}

// Error is a non-2xx response, holding what unleashadmin.APIError holds.
type Error struct {
	Status  int
	Method  string
	URL     string
	Body    []byte
	ID      string `json:"id"`
	Name    string `json:"name"`
	Message string `json:"message"`
	Details []struct {
		Message string `json:"message"`
		Path    string `json:"path,omitempty"`
	} `json:"details"`
}

// Error leaves out the URL: a delete's path holds the token secret.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Method, e.Status, e.Name, e.Message)
}

// Do sends one request and decodes a 2xx body into out (when not nil); any
// other status is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", c.Key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.UserAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		// net/http's *url.Error repeats the URL, secret and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("%s: %w", method, ue.Err)
		}
		return err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Status: resp.StatusCode, Method: method, URL: c.Base + path}
		e.Body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = json.Unmarshal(e.Body, e)
		return e
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Create creates a token.
func (c *Client) Create(ctx context.Context, r CreateRequest) (*Token, error) {
	var tok Token
	if err := c.Do(ctx, http.MethodPost, "/api/admin/api-tokens", r, &tok); err != nil {
		return nil, err
	}
	return &tok, nil
}

// List lists every token.
func (c *Client) List(ctx context.Context) ([]Token, error) {
	var body struct {
		Tokens []Token `json:"tokens"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/admin/api-tokens", nil, &body); err != nil {
		return nil, err
	}
	return body.Tokens, nil
}

// ListProject keeps the project's non-admin tokens, as the SDK does.
func (c *Client) ListProject(ctx context.Context, project string) ([]Token, error) {
	var body struct {
		Tokens []Token `json:"tokens"`
	}
	path := "/api/admin/projects/" + url.PathEscape(project) + "/api-tokens"
	if err := c.Do(ctx, http.MethodGet, path, nil, &body); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(body.Tokens, func(t Token) bool {
		return t.Type == "admin" || (t.Project != project && !slices.Contains(t.Projects, project))
	}), nil
}

// Delete deletes a token.
func (c *Client) Delete(ctx context.Context, secret string) error {
	return c.Do(ctx, http.MethodDelete, "/api/admin/api-tokens/"+url.PathEscape(secret), nil, nil)
}
