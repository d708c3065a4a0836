package unleashadmin

import (
	"context"
	"net/http"
	"slices"
)

// projectTokens is the path of a project's token endpoints.
func projectTokens(projectID string) apiPath {
	return route("/api/admin/projects").param(projectID).then("/api-tokens")
}

// CreateProjectAPIToken creates a client, backend or frontend token for one
// project. An unknown project is ErrNotFound. Like CreateAPIToken, it is
// not retried once it may have reached the server.
//
// Unleash API docs: https://docs.getunleash.io/api/create-project-api-token
func (c *Client) CreateProjectAPIToken(ctx context.Context, projectID string, req CreateProjectAPITokenRequest) (*APIToken, error) {
	const op = "CreateProjectAPIToken"
	if err := required(op, "projectID", projectID, "Type", string(req.Type), "TokenName", req.TokenName); err != nil {
		return nil, err
	}
	if err := checkExpiry(op, req.ExpiresAt); err != nil {
		return nil, err
	}
	// Unleash 5 and 6 read the projects from the body and fail with a 500
	// without them (and never answer when they disagree with the path);
	// later versions ignore them. The path's project is sent in both.
	body := projectCreateBody{req, []string{projectID}}
	return c.create(ctx, projectTokens(projectID), body, req.Type, req.TokenName)
}

// projectCreateBody is what CreateProjectAPIToken sends.
type projectCreateBody struct {
	CreateProjectAPITokenRequest
	Projects []string `json:"projects"`
}

// ListProjectAPITokens returns the tokens of one project: the non-admin
// tokens whose project is projectID or whose projects include it. Unleash
// itself answers this way for a personal access token but returns every
// token in the instance for an admin API token; the list is filtered here so
// that both keys give the same answer. All-projects ("*") tokens are not
// included. An unknown project is ErrNotFound.
//
// Unleash API docs: https://docs.getunleash.io/api/get-project-api-tokens
func (c *Client) ListProjectAPITokens(ctx context.Context, projectID string) ([]APIToken, error) {
	if err := required("ListProjectAPITokens", "projectID", projectID); err != nil {
		return nil, err
	}
	all, err := c.list(ctx, projectTokens(projectID))
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(t APIToken) bool { return !t.InProject(projectID) }), nil
}

// DeleteProjectAPIToken deletes a token through its project. Unlike
// DeleteAPIToken, an unknown secret is ErrNotFound, and a token that is not
// in this project alone (an all-projects or multi-project token, or another
// project's) is ErrBadRequest.
//
// Unleash API docs: https://docs.getunleash.io/api/delete-project-api-token
func (c *Client) DeleteProjectAPIToken(ctx context.Context, projectID, secret string) error {
	if err := required("DeleteProjectAPIToken", "projectID", projectID, "secret", secret); err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, projectTokens(projectID).secret(secret), nil, nil)
}
