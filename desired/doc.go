// Package desired keeps an Unleash instance's API tokens as a file says
// they should be: every entry of the file has exactly one live token of its
// scope, fresh enough, whose secret has been delivered where its service
// reads it.
//
// Read a file with ReadFile or Parse, make a Plan with NewPlan (one read of
// the token list), print or inspect it, and carry it out with Plan.Apply,
// which hands every new secret to a Sink (DirSink, ExecSink, or your own)
// before anything of its entry is retired.
//
// The rules, for each entry (the tokens with its name are its tokens):
//
//   - A live token of the entry's type (backend and client are one),
//     environment (the entry's, else the server's default) and projects
//     (none listed: all) is kept, unless it is due: it expires within
//     renewBefore, or is older than maxAge. A due or expired one is
//     rotated: a new token of the same scope is made and delivered, then
//     the old one retired.
//   - With no such token, one is made (ActionCreate); tokens of the name
//     with another scope are retired once it is delivered (ActionReplace).
//   - Of several matching live tokens the newest is kept and the others
//     retired, when the sink cannot be read.
//   - Retire is a delete, or with Options.GracePeriod a move of the expiry
//     to now + grace (never later than the expiry the token has).
//   - With a retire policy of RetireUnused (File.Retire, Entry.Retire), a
//     rotated, replaced or duplicate token is retired only once the token
//     that takes over from it has been used and it has gone unused for
//     the quiet period, or anyway once the replacement is Within old
//     (unleashadmin.DecideRetire, from the tokens' createdAt and seenAt
//     and the time); until then it is left live (ActionWait). A rotation
//     makes and delivers the new token and leaves the old one waiting.
//     Expired tokens, pruned ones and leftovers go as without a policy.
//   - If a new token cannot be delivered, it is deleted again and the old
//     ones are left as they were. Entries are independent.
//   - With a sink that can be read (Options.Reader, or a Sink that is a
//     SinkReader), the sink is the record of what was delivered: the token
//     kept is the one whose secret it holds; a newer token it does not
//     hold is left alone (ActionLeave) until older than Options.Settle,
//     then retired; a sink that holds nothing is given the listed secret
//     as it is (ActionDeliver), or under secure token storage the entry
//     is reported not delivered (Action.Undelivered); every delivery is
//     read back. A Sink that is a SinkLocker (DirSink) is used by one
//     Apply at a time.
//   - A token that appears after a create without an answer is never
//     deleted: it may be another party's.
//   - Tokens whose names no entry lists are left alone, except those with
//     the file's prune prefix, which are retired. The key the client
//     authenticates with, however it was spelt, and admin tokens are never
//     retired (unleashadmin.Client.Protection); the plan and the report say
//     so (Action.Protected, StatusProtected).
//
// A plan can be saved (Plan.Saved, then json.Marshal) and carried out
// later exactly as it was made (ReadPlan or LoadPlan, then
// SavedPlan.Apply): the file names the instance, records a fingerprint of
// every token the plan looked at and what the sink held, and holds no
// secret. Apply reads the list (and the sink) once more and refuses the
// plan, changing nothing, when any of that changed (ErrStalePlan).
//
// A fleet is one file applied to several instances (File.Instances, and
// Entry.Instances for an entry that is for some of them), each through a
// client of its own: NewFleet makes the clients, reading each key from
// where the file says (never from the file), NewFleetPlan plans each
// instance, FleetPlan.Apply and ApplyFleet apply them, ExportFleet writes
// one file for several. Instances are worked on in parallel, each by the
// rules above and its own (version, default environment, token storage),
// and an instance that fails, fails alone (InstanceError).
//
// The package uses only the exported API of unleashadmin, and its rules
// of a token's life: CreateAndDeliver makes and delivers each new token,
// RetireAPIToken and GraceExpiry retire, Client.Protection protects,
// ScopeMismatch compares scopes, DecideRetire and UnusedPolicy.Check decide
// when a token is unused.
package desired
