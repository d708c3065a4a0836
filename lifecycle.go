package unleashadmin

// This file holds the rules of a token's life that every layer above the
// client needs, each written once: how a token is found by a secret or
// selector, which endpoint makes a token of a scope, how a new secret is
// handed over (and taken back when it cannot be), how a token is retired,
// and which tokens automation must never retire. Packages desired and
// hygiene, the command and RotateAPIToken call these instead of keeping
// copies of their own.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// RevokeTimeout bounds the delete of a token that could not be delivered.
// That delete runs on a context of its own, detached from the caller's, so
// that a signal or an ended deadline does not leave a token live that
// nobody holds; this is how long it may take.
const RevokeTimeout = 30 * time.Second

// DefaultParallel is how many requests the layers above the client (plans
// applied by package desired, prunes by package hygiene) send to one
// Unleash instance at a time unless told otherwise: enough to hide the
// latency of a distant server, few enough not to load it.
const DefaultParallel = 4

// ErrUndeliveredLive is matched by errors.Is when a new token could not be
// delivered and deleting it again failed too: it is live and nobody holds
// its secret. The token is returned with the error; delete it.
var ErrUndeliveredLive = errors.New("the undelivered new token is still live")

// FindAPIToken returns the token of ref among toks: ref is a full secret,
// or under secure token storage a full v2 secret or the selector a list
// shows (APIToken.Matches). White space around ref is ignored. ok is false
// when no token matches.
func FindAPIToken(toks []APIToken, ref string) (tok *APIToken, ok bool) {
	ref = strings.TrimSpace(ref)
	for i := range toks {
		if toks[i].Matches(ref) {
			return &toks[i], true
		}
	}
	return nil, false
}

// LookupAPIToken lists the tokens and returns the one of ref (a secret or
// a selector, as FindAPIToken takes it). No such token is an error matching
// ErrNotFound; its text shows ref redacted.
func (c *Client) LookupAPIToken(ctx context.Context, ref string) (*APIToken, error) {
	if err := required("LookupAPIToken", "ref", strings.TrimSpace(ref)); err != nil {
		return nil, err
	}
	all, err := c.ListAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	if tok, ok := FindAPIToken(all, ref); ok {
		return tok, nil
	}
	return nil, fmt.Errorf("unleashadmin: LookupAPIToken: no token %s on the server: %w", RedactSecret(strings.TrimSpace(ref)), ErrNotFound)
}

// UsableSecret reports whether s can be a secret Unleash made: not empty,
// valid UTF-8, and free of white space, control and format characters. A
// secret that is not would reach a sink as something else than the server
// holds (a line break splits it in two in a file): CreateAndDeliver
// delivers no such secret, and the sinks of package desired refuse one.
func UsableSecret(s string) bool { return s != "" && usableSecret(s) }

// ParseTokenType returns the token type named by s (client, backend or
// frontend, in any letter case), the types a create request may ask for.
// Anything else, admin included, is an ErrInvalidArgument error.
func ParseTokenType(s string) (TokenType, error) {
	switch t := TokenType(strings.ToLower(strings.TrimSpace(s))); t {
	case TokenTypeClient, TokenTypeBackend, TokenTypeFrontend:
		return t, nil
	}
	return "", invalidArg("ParseTokenType", "type must be client, backend or frontend, not %q", s)
}

// RequestFor returns the create request for a token of t's name, type,
// environment and projects: what RotateAPIToken asks for. The projects come
// from APIToken.ProjectIDs, so a token listed with only "project": "a,b" is
// asked for in projects a and b.
func RequestFor(t APIToken) CreateAPITokenRequest {
	return CreateAPITokenRequest{Type: t.Type, TokenName: t.TokenName, Environment: t.Environment, Projects: t.ProjectIDs()}
}

// scopeProjects returns the projects of a create request as Unleash will
// store them: each element split at its commas, trimmed, sorted and without
// repeats; ["*"] for all projects ("*" anywhere), nil when none is named
// (which Unleash takes for all projects too).
func scopeProjects(projects []string) []string {
	var ids []string
	for _, p := range projects {
		for _, id := range strings.Split(p, ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if slices.Contains(ids, "*") {
		return []string{"*"}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// CreateScopedAPIToken creates the token req asks for through the endpoint
// that fits its scope: the project's endpoint (CreateProjectAPIToken) when
// req names exactly one project, the instance's (CreateAPIToken) for
// several or all. Projects may hold comma-separated lists ("a,b"), which
// count as the projects they name; "*" means all projects.
//
// On a server before Unleash 7.1, which refuses the backend type (a 400:
// nothing was made, ErrNotSupported), it asks once more for a client token,
// which grants the same access. Like the create methods it is never retried
// once the request may have reached the server, and it returns the token
// together with an ErrUnexpectedResponse error when the answer held a
// secret but was otherwise odd.
func (c *Client) CreateScopedAPIToken(ctx context.Context, req CreateAPITokenRequest) (*APIToken, error) {
	tok, err := c.createScoped(ctx, req)
	if errors.Is(err, ErrNotSupported) && strings.EqualFold(string(req.Type), string(TokenTypeBackend)) {
		req.Type = TokenTypeClient
		tok, err = c.createScoped(ctx, req)
	}
	return tok, err
}

func (c *Client) createScoped(ctx context.Context, req CreateAPITokenRequest) (*APIToken, error) {
	given := len(req.Projects) > 0
	req.Projects = scopeProjects(req.Projects)
	if given && req.Projects == nil {
		// An empty project (an unset variable, a stray comma) must not
		// widen the token to all projects.
		return nil, invalidArg("CreateScopedAPIToken", "Projects names no project (empty IDs); leave it out for all projects, or give \"*\"")
	}
	if project, ok := singleProject(APIToken{Projects: req.Projects}); ok {
		return c.CreateProjectAPIToken(ctx, project, CreateProjectAPITokenRequest{
			Type: req.Type, TokenName: req.TokenName, Environment: req.Environment, ExpiresAt: req.ExpiresAt,
		})
	}
	return c.CreateAPIToken(ctx, req)
}

// ScopeMismatch says how tok differs from what req asked for, or "" when it
// is what was asked: the same name, the same type (backend and client count
// as one, IsType), the environment when req names one, and the projects
// (all projects when req names none). A server that made something else
// than asked (a proxy that rewrote the body, a server that ignored a field)
// made a token that no delivery should carry under the asked-for name.
func ScopeMismatch(req CreateAPITokenRequest, tok APIToken) string {
	want := scopeProjects(req.Projects)
	if want == nil {
		want = []string{"*"}
	}
	var diffs []string
	if tok.TokenName != req.TokenName {
		diffs = append(diffs, "another name")
	}
	if !tok.IsType(req.Type) {
		diffs = append(diffs, fmt.Sprintf("type %s, not %s", strings.ToLower(string(tok.Type)), strings.ToLower(string(req.Type))))
	}
	if req.Environment != "" && tok.Environment != req.Environment {
		diffs = append(diffs, "another environment")
	}
	if !slices.Equal(tok.ProjectIDs(), want) {
		diffs = append(diffs, "other projects")
	}
	return strings.Join(diffs, ", ")
}

// DeliverFunc hands a new token, secret included, to wherever the services
// read it. It returns nil only when the secret has arrived there.
type DeliverFunc func(ctx context.Context, fresh APIToken) error

// CreateAndDeliver creates the token req asks for (CreateScopedAPIToken),
// checks that the server made what was asked (ScopeMismatch), and hands it
// to deliver. When the token cannot be delivered (deliver fails, the answer
// is of another scope, or ctx ended before delivery), the new token is
// deleted again on a detached context bounded by RevokeTimeout, and the
// error matches ErrNotDelivered; if that delete fails too, the token is
// returned with an error that matches ErrUndeliveredLive as well. A nil
// deliver delivers nothing: the caller holds the returned secret.
//
// known are tokens that existed before the create (the one a rotation
// replaces, the tokens a plan listed); an answer that names one of them, or
// the client's own key, is no new token: it is neither delivered nor
// deleted (ErrUndeliveredLive and ErrUnexpectedResponse).
//
// The results:
//   - the token, nil: made and delivered.
//   - nil, an error: nothing is live (the create failed, or the token was
//     delivered nowhere and deleted again). A create that may have reached
//     the server without an answer says so in its error.
//   - the token, an error matching ErrUndeliveredLive: live, undelivered.
//   - nil, an error matching ErrUndeliveredLive and ErrUnexpectedResponse:
//     the answer held no usable secret (none, or one with white space or
//     control characters), or named a token that already existed; a token
//     of that name may be live.
//   - the token, an error matching ErrUnexpectedResponse: the answer held
//     the secret but was otherwise odd; the token was delivered, but what it
//     is cannot be trusted, so a caller retires nothing on its account.
func (c *Client) CreateAndDeliver(ctx context.Context, req CreateAPITokenRequest, deliver DeliverFunc, known ...APIToken) (*APIToken, error) {
	fresh, err := c.CreateScopedAPIToken(ctx, req)
	if fresh == nil {
		return nil, err
	}
	if c.IsKey(*fresh) || slices.ContainsFunc(known, func(k APIToken) bool { return k.Matches(fresh.Secret) }) {
		// Not a new token: a cache or proxy replayed an answer about one
		// that exists. Delivering it would hand over a secret about to be
		// retired; deleting it would delete a token in use.
		return nil, fmt.Errorf("unleashadmin: CreateAndDeliver: %w: the server answered the create of %q with a token that already existed, "+
			"so nothing was delivered and nothing deleted; if it made a new one, find it by its name: %w", ErrUndeliveredLive, req.TokenName, ErrUnexpectedResponse)
	}
	if fresh.Secret == "" || !usableSecret(fresh.Secret) {
		// Nothing to deliver, and nothing to delete it by: Unleash answers
		// success to a delete of a secret it does not hold, so a delete
		// could not tell that it was gone.
		return nil, fmt.Errorf("unleashadmin: CreateAndDeliver: %w: the server made token %q but answered no usable secret, so nothing was delivered; "+
			"the token may be live: find it by its name: %w", ErrUndeliveredLive, req.TokenName, ErrUnexpectedResponse)
	}
	var derr error
	switch {
	case ScopeMismatch(req, *fresh) != "":
		derr = fmt.Errorf("%w: the server made a token of %s than asked", ErrUnexpectedResponse, ScopeMismatch(req, *fresh))
	case ctx.Err() != nil:
		derr = context.Cause(ctx)
	case deliver != nil:
		derr = c.RedactError(deliver(ctx, *fresh), fresh.Secret)
	}
	if derr != nil {
		return c.revokeUndelivered(ctx, fresh, derr)
	}
	return fresh, err
}

// revokeUndelivered deletes a new token that could not be delivered and
// says what became of it.
func (c *Client) revokeUndelivered(ctx context.Context, fresh *APIToken, cause error) (*APIToken, error) {
	// Through the endpoint it was made by: a key allowed to make tokens of
	// a project only may delete them there only.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RevokeTimeout)
	defer cancel()
	if err := c.deleteInScope(rctx, *fresh); err != nil {
		return fresh, fmt.Errorf("unleashadmin: %w (%w), and %w: deleting %s failed: %w",
			ErrNotDelivered, cause, ErrUndeliveredLive, RedactSecret(fresh.Secret), err)
	}
	return nil, fmt.Errorf("unleashadmin: %w: %w; the new token was deleted again", ErrNotDelivered, cause)
}

// RevokeAPIToken deletes the token of secret on a context detached from
// ctx (its values kept, its end ignored) and bounded by RevokeTimeout: the
// delete of a token that nobody was given must run even when the caller's
// context has ended.
func (c *Client) RevokeAPIToken(ctx context.Context, secret string) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RevokeTimeout)
	defer cancel()
	return c.DeleteAPIToken(rctx, secret)
}

// RetireOptions says how RetireAPIToken retires a token.
type RetireOptions struct {
	// GracePeriod keeps the token working for this long, by moving its
	// expiry to now + GracePeriod, so that services can switch; zero
	// deletes it at once.
	GracePeriod time.Duration `json:"gracePeriod,omitempty"`
	// Now reads the time; time.Now when nil.
	Now func() time.Time `json:"-"`
}

// Retirement is what RetireAPIToken did.
type Retirement struct {
	// Deleted is true when the token was deleted.
	Deleted bool `json:"deleted"`
	// ExpiresAt is when the token stops working, after a retire with a
	// grace period.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	// Unchanged is true when the token already stopped working no later
	// than the grace period would make it: nothing was sent.
	Unchanged bool `json:"unchanged,omitempty"`
}

// GraceExpiry returns the expiry a grace period gives t at time now: now +
// grace, in the millisecond precision Unleash keeps. An expiry is never
// moved later: when t already expires no later than that, GraceExpiry
// returns t's own expiry and change is false.
func GraceExpiry(t APIToken, now time.Time, grace time.Duration) (until time.Time, change bool) {
	until = now.Add(grace).UTC().Truncate(time.Millisecond)
	if t.ExpiresAt != nil && !t.ExpiresAt.After(until) {
		return *t.ExpiresAt, false
	}
	return until, true
}

// singleProject returns the project of a token that belongs to exactly one.
func singleProject(t APIToken) (string, bool) {
	if ids := t.ProjectIDs(); len(ids) == 1 && ids[0] != "*" {
		return ids[0], true
	}
	return "", false
}

// deleteInScope deletes t through the endpoint of its scope: its project's
// for a token of one project, the instance's otherwise.
func (c *Client) deleteInScope(ctx context.Context, t APIToken) error {
	if project, ok := singleProject(t); ok {
		return c.DeleteProjectAPIToken(ctx, project, t.Secret)
	}
	return c.DeleteAPIToken(ctx, t.Secret)
}

// RetireAPIToken retires t: deletes it through the endpoint of its scope
// (DeleteProjectAPIToken for a token of one project, which Unleash refuses
// for a token that is not in that project; DeleteAPIToken otherwise), or with
// opts.GracePeriod moves its expiry to now + GracePeriod (GraceExpiry),
// never later than it was. It does not check whether t may be retired: see
// Client.Protection.
func (c *Client) RetireAPIToken(ctx context.Context, t APIToken, opts RetireOptions) (*Retirement, error) {
	const op = "RetireAPIToken"
	if err := required(op, "t.Secret", t.Secret); err != nil {
		return nil, err
	}
	if opts.GracePeriod < 0 {
		return nil, invalidArg(op, "GracePeriod %s is negative", opts.GracePeriod)
	}
	if opts.GracePeriod == 0 {
		if err := c.deleteInScope(ctx, t); err != nil {
			return nil, err
		}
		return &Retirement{Deleted: true}, nil
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	until, change := GraceExpiry(t, now(), opts.GracePeriod)
	if !change {
		return &Retirement{ExpiresAt: &until, Unchanged: true}, nil
	}
	if err := c.UpdateAPITokenExpiry(ctx, t.Secret, until); err != nil {
		return nil, err
	}
	return &Retirement{ExpiresAt: &until}, nil
}

// Protection says why automation must not retire a token; "" when nothing
// protects it.
type Protection string

// The protections.
const (
	// Unprotected: the token may be retired.
	Unprotected Protection = ""
	// ProtectedKeyInUse: the token is the key the client authenticates
	// with; retiring it would lock the client out.
	ProtectedKeyInUse Protection = "the key in use"
	// ProtectedAdmin: an admin token. Unleash 7 and later cannot make one
	// through the API, so retiring it can lock other automation out for
	// good; it is retired only when asked for by name (includeAdmin).
	ProtectedAdmin Protection = "an admin token"
)

// ProtectionFor is the one rule of what automation never retires, for a
// caller that knows the key as a string: the token of key (by secret,
// selector or alias, with the key normalised as NewClient does), and an
// admin token unless includeAdmin is set. Client.Protection applies it with
// the client's own key.
func ProtectionFor(key string, t APIToken, includeAdmin bool) Protection {
	if k, _, err := normalizeKey(key); err == nil && isKeyOf(t, k) {
		return ProtectedKeyInUse
	}
	if !includeAdmin && strings.EqualFold(string(t.Type), string(TokenTypeAdmin)) {
		return ProtectedAdmin
	}
	return Unprotected
}

// isKeyOf tells whether t is the token of key: by its secret or selector,
// or by its alias, which authenticates like the secret.
func isKeyOf(t APIToken, key string) bool {
	return key != "" && (t.Matches(key) || t.Alias != nil && *t.Alias == key)
}

// IsKey reports whether t is the token of the key c authenticates with: by
// its secret, by the selector of a secure key, or by its alias.
func (c *Client) IsKey(t APIToken) bool { return isKeyOf(t, c.key) }

// Protection says whether automation may retire t, by ProtectionFor with
// c's key: never the key in use, and no admin token unless includeAdmin.
func (c *Client) Protection(t APIToken, includeAdmin bool) Protection {
	if c.IsKey(t) {
		return ProtectedKeyInUse
	}
	return ProtectionFor("", t, includeAdmin)
}

// normalizeKey returns an API key as it is sent: white space around it
// removed, and a "Bearer " prefix (in any letter case) taken off, in which
// case bearer is true. A key that is empty after that, or holds a control
// character, is an error.
func normalizeKey(raw string) (key string, bearer bool, err error) {
	key = strings.TrimSpace(raw)
	if len(key) >= len("bearer") && strings.EqualFold(key[:len("bearer")], "bearer") &&
		(len(key) == len("bearer") || key[len("bearer")] == ' ' || key[len("bearer")] == '\t') {
		key, bearer = strings.TrimSpace(key[len("bearer"):]), true
	}
	switch {
	case key == "":
		return "", bearer, errors.New("apiKey is empty")
	case hasControl(key):
		return "", bearer, errors.New("apiKey contains a control character (a line break, tab or NUL)")
	}
	return key, bearer, nil
}
