package unleashadmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrRotationIncomplete is matched by errors.Is when RotateAPIToken made the
// new token but could not retire the old one: both are live. The new token
// is returned with the error; retire the old one yourself.
var ErrRotationIncomplete = errors.New("rotation incomplete: the new token was created but the old one is still live")

// ErrNotDelivered is matched by errors.Is when RotateOptions.Deliver failed:
// the new token was deleted again and the old one left as it was. If
// deleting the new token failed too, the Rotation with the new token is
// returned with the error, and both tokens are live.
var ErrNotDelivered = errors.New("the new token could not be delivered")

// revokeTimeout bounds the delete of a token that could not be delivered,
// which runs even when the caller's context has ended (a signal, a
// deadline): an undelivered token must not stay live.
const revokeTimeout = 30 * time.Second

// RotateOptions says how RotateAPIToken retires the old token.
type RotateOptions struct {
	// GracePeriod keeps the old token working for this long, by moving its
	// expiry, so that services can switch to the new secret. Zero deletes
	// the old token at once. An old token that expires sooner keeps its
	// expiry.
	GracePeriod time.Duration
	// ExpiresAt is the new token's expiry; nil for none.
	ExpiresAt *time.Time
	// Deliver, when set, receives the new token, secret included, after it
	// is created and before the old one is touched: write it where the
	// services read it. If Deliver returns an error, the new token is
	// deleted again, the old one is left as it was, and RotateAPIToken
	// returns an error matching ErrNotDelivered.
	Deliver func(ctx context.Context, fresh APIToken) error
}

// Rotation is what RotateAPIToken did. Its printed form (every fmt verb,
// and slog) redacts the new token's secret; json.Marshal keeps it.
type Rotation struct {
	// New is the replacement, with its secret.
	New *APIToken
	// OldDeleted is true when the old token was deleted at once.
	OldDeleted bool
	// OldExpiresAt is when the old token stops working, when a grace period
	// was asked for.
	OldExpiresAt *time.Time
}

// RotateAPIToken replaces a token: it creates a new one with the same name,
// type, environment and projects (through the project's endpoint when the
// token belongs to one project), then retires the old one, at once or after
// opts.GracePeriod. Unleash cannot change a token's secret in place; this is
// how it is rotated.
//
// If the create fails, the old token is untouched and the error is
// returned. If retiring the old token fails, the Rotation with the new
// token is returned together with an error matching ErrRotationIncomplete:
// the new secret is never lost, and two live tokens are never left without
// an error saying so. The same holds when the create's answer held the new
// secret but was otherwise odd (ErrUnexpectedResponse too): the new token is
// delivered and returned, and the old one is not retired. Unleash 7 and 8
// list backend tokens as client tokens, except under secure token storage;
// a token read from such a list is rotated as a client token, which grants
// the same.
func (c *Client) RotateAPIToken(ctx context.Context, old APIToken, opts RotateOptions) (*Rotation, error) {
	const op = "RotateAPIToken"
	if err := required(op, "old.Secret", old.Secret, "old.TokenName", old.TokenName, "old.Type", string(old.Type)); err != nil {
		return nil, err
	}
	if opts.GracePeriod < 0 {
		return nil, invalidArg(op, "GracePeriod %s is negative", opts.GracePeriod)
	}
	if err := checkExpiry(op, opts.ExpiresAt); err != nil {
		return nil, err
	}
	project, single := projectOf(old)
	var (
		fresh *APIToken
		err   error
	)
	if single {
		fresh, err = c.CreateProjectAPIToken(ctx, project, CreateProjectAPITokenRequest{
			Type: old.Type, TokenName: old.TokenName, Environment: old.Environment, ExpiresAt: opts.ExpiresAt,
		})
	} else {
		fresh, err = c.CreateAPIToken(ctx, CreateAPITokenRequest{
			Type: old.Type, TokenName: old.TokenName, Environment: old.Environment, Projects: old.Projects, ExpiresAt: opts.ExpiresAt,
		})
	}
	if fresh == nil {
		return nil, err
	}
	r := &Rotation{New: fresh}
	if opts.Deliver != nil {
		if derr := opts.Deliver(ctx, *fresh); derr != nil {
			return revokeUndelivered(ctx, c, r, derr)
		}
	}
	if err != nil {
		// The create's answer held the secret but was otherwise odd: the
		// new token is live, but what it is cannot be trusted, so the old
		// one is not retired.
		return r, fmt.Errorf("unleashadmin: %s: %w, because the new token's answer was odd: %w", op, ErrRotationIncomplete, err)
	}
	if opts.GracePeriod == 0 {
		if single {
			err = c.DeleteProjectAPIToken(ctx, project, old.Secret)
		} else {
			err = c.DeleteAPIToken(ctx, old.Secret)
		}
		r.OldDeleted = err == nil
	} else {
		// Unleash keeps milliseconds; report what it will store.
		until := time.Now().Add(opts.GracePeriod).UTC().Truncate(time.Millisecond)
		if old.ExpiresAt != nil && old.ExpiresAt.Before(until) {
			until = *old.ExpiresAt
		} else {
			err = c.UpdateAPITokenExpiry(ctx, old.Secret, until)
		}
		if err == nil {
			r.OldExpiresAt = &until
		}
	}
	if err != nil {
		return r, fmt.Errorf("unleashadmin: %s: %w: %w", op, ErrRotationIncomplete, err)
	}
	return r, nil
}

// revokeUndelivered deletes the new token of a rotation whose delivery
// failed. The delete runs on a context of its own, so that a caller's
// ended context (a signal) does not leave an undelivered token live.
func revokeUndelivered(ctx context.Context, c *Client, r *Rotation, cause error) (*Rotation, error) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), revokeTimeout)
	defer cancel()
	if err := c.DeleteAPIToken(rctx, r.New.Secret); err != nil {
		return r, fmt.Errorf("unleashadmin: RotateAPIToken: %w (%w), and deleting the new token %s failed, so it is live: %w",
			ErrNotDelivered, cause, RedactSecret(r.New.Secret), err)
	}
	return nil, fmt.Errorf("unleashadmin: RotateAPIToken: %w: %w; the new token was deleted and the old one left as it was", ErrNotDelivered, cause)
}

// Format prints the rotation with the new token's secret redacted, for
// every verb.
func (r Rotation) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{New:%v OldDeleted:%t", r.New, r.OldDeleted)
	if r.OldExpiresAt != nil {
		fmt.Fprintf(f, " OldExpiresAt:%s", r.OldExpiresAt.Format(time.RFC3339))
	}
	_, _ = f.Write([]byte("}"))
}

// LogValue logs the rotation with the new token's secret redacted.
func (r Rotation) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Bool("oldDeleted", r.OldDeleted)}
	if r.New != nil {
		attrs = append(attrs, slog.Any("new", *r.New))
	}
	if r.OldExpiresAt != nil {
		attrs = append(attrs, slog.Time("oldExpiresAt", *r.OldExpiresAt))
	}
	return slog.GroupValue(attrs...)
}

// projectOf returns the project of a token that belongs to exactly one.
func projectOf(t APIToken) (string, bool) {
	projects := t.Projects
	if len(projects) == 0 && t.Project != "" {
		projects = []string{t.Project}
	}
	if len(projects) == 1 && projects[0] != "*" && projects[0] != "" {
		return projects[0], true
	}
	return "", false
}
