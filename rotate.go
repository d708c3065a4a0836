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
	Deliver DeliverFunc
	// WaitUnused, when set, retires the old token only once nobody uses
	// it: after the new token is created and delivered, RotateAPIToken
	// watches both (RetireWhenUnused) until DecideRetire says retire, then
	// retires the old one as GracePeriod says. When the watch ends first,
	// both are live and the error matches ErrRotationIncomplete and
	// ErrStillInUse. Its Policy is checked against the old token
	// (UnusedPolicy.Check) before anything is created. The watch judges by
	// Now corrected for a server clock that is behind: by how much the new
	// token's createdAt is earlier than the time the create was sent.
	WaitUnused *UnusedWait
	// Now reads the time for the grace period and the watch; time.Now when
	// nil.
	Now func() time.Time
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
	// Waited is the last decision of the watch, with WaitUnused: the one
	// that retired the old token, or the one it gave up on.
	Waited *RetireDecision
	// OldGone is true when, with WaitUnused, the old token was no longer
	// listed when it was to be retired: someone else retired it.
	OldGone bool
}

// RotateAPIToken replaces a token: it creates a new one with the same name,
// type, environment and projects (RequestFor, CreateAndDeliver: through the
// project's endpoint when the token belongs to one project, delivered to
// opts.Deliver and deleted again when that fails), then retires the old one
// (RetireAPIToken), at once or after opts.GracePeriod. Unleash cannot change a token's secret in place; this is
// how it is rotated.
//
// With opts.WaitUnused the old token is retired only once the new one has
// been used and the old one has gone unused for the policy's quiet period
// (RetireWhenUnused, DecideRetire); a watch that ends first leaves both
// live, with an error matching ErrRotationIncomplete and ErrStillInUse, and
// Rotation.Waited says when the old token was last used.
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
	if w := opts.WaitUnused; w != nil {
		// The replacement is not made yet: check what does not depend on it.
		if err := c.checkWait(ctx, op, old, APIToken{}, *w, RetireOptions{GracePeriod: opts.GracePeriod}); err != nil {
			return nil, err
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	sent := now()
	req := RequestFor(old)
	req.ExpiresAt = opts.ExpiresAt
	fresh, err := c.CreateAndDeliver(ctx, req, opts.Deliver, old)
	if fresh == nil {
		if errors.Is(err, ErrNotDelivered) {
			return nil, fmt.Errorf("%w, and the old one left as it was", err)
		}
		return nil, err
	}
	r := &Rotation{New: fresh}
	if errors.Is(err, ErrUndeliveredLive) {
		return r, err
	}
	if err != nil {
		// The create's answer held the secret but was otherwise odd: the
		// new token is live, but what it is cannot be trusted, so the old
		// one is not retired.
		return r, fmt.Errorf("unleashadmin: %s: %w, because the new token's answer was odd: %w", op, ErrRotationIncomplete, err)
	}
	if opts.WaitUnused != nil {
		return c.rotateWhenUnused(ctx, op, old, r, *opts.WaitUnused, RetireOptions{GracePeriod: opts.GracePeriod, Now: serverClock(now, sent, fresh.CreatedAt)})
	}
	ret, err := c.RetireAPIToken(ctx, old, RetireOptions{GracePeriod: opts.GracePeriod, Now: opts.Now})
	if err != nil {
		return r, fmt.Errorf("unleashadmin: %s: %w: %w", op, ErrRotationIncomplete, err)
	}
	r.OldDeleted, r.OldExpiresAt = ret.Deleted, ret.ExpiresAt
	return r, nil
}

// rotateWhenUnused is the end of a rotation with WaitUnused: the watch,
// then the retire.
func (c *Client) rotateWhenUnused(ctx context.Context, op string, old APIToken, r *Rotation, w UnusedWait, opts RetireOptions) (*Rotation, error) {
	res, err := c.retireWhenUnused(ctx, old, *r.New, w, opts)
	if res != nil && res.Looks > 0 {
		d := res.Decision
		r.Waited = &d
	}
	if err != nil {
		return r, fmt.Errorf("unleashadmin: %s: %w: %w", op, ErrRotationIncomplete, err)
	}
	r.OldGone = res.Gone
	if ret := res.Retirement; ret != nil {
		r.OldDeleted, r.OldExpiresAt = ret.Deleted, ret.ExpiresAt
	}
	return r, nil
}

// serverClock returns now moved back by how far the server's clock is
// known to be behind it: the server stamped createdAt on a token whose
// create was sent at sent (by now), so its clock read at most createdAt
// when now read sent. A clock that is ahead, or a createdAt missing, leaves
// now as it is: that errs towards waiting longer.
func serverClock(now func() time.Time, sent, createdAt time.Time) func() time.Time {
	behind := sent.Sub(createdAt)
	if createdAt.IsZero() || behind <= 0 {
		return now
	}
	return func() time.Time { return now().Add(-behind) }
}

// Format prints the rotation with the new token's secret redacted, for
// every verb.
func (r Rotation) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{New:%v OldDeleted:%t", r.New, r.OldDeleted)
	if r.OldExpiresAt != nil {
		fmt.Fprintf(f, " OldExpiresAt:%s", r.OldExpiresAt.Format(time.RFC3339))
	}
	if r.OldGone {
		fmt.Fprint(f, " OldGone:true")
	}
	if r.Waited != nil {
		fmt.Fprintf(f, " Waited:%q", r.Waited.Reason)
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
	if r.OldGone {
		attrs = append(attrs, slog.Bool("oldGone", true))
	}
	if r.Waited != nil {
		attrs = append(attrs, slog.String("waited", r.Waited.Reason))
	}
	return slog.GroupValue(attrs...)
}
