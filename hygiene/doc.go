// Package hygiene finds the API tokens of an Unleash instance that nobody
// needs any more, retires them, and tells whether secrets kept elsewhere are
// still live. It is built on the exported API of package unleashadmin only.
//
//   - Audit reads the instance once (the token list and the token limit) and
//     reports tokens never seen, unused, expired or expiring, duplicates,
//     all-projects tokens, stalled rotations (an old token still used long
//     after a newer one of its name and scope was made), and how close the
//     instance is to its token limit.
//   - Prune retires the tokens Audit reports as expired, unused or never
//     seen. It is a dry run unless told otherwise; it never retires the
//     key it runs with, nor an admin token unless asked for admin tokens
//     (PruneOptions.IncludeAdmin), and reports those as protected.
//   - Check asks Unleash which of a list of secrets are live. It needs no API
//     key.
//
// What Unleash tells, and what it does not: with default token storage a
// token's seenAt is written by a background job every few minutes (every
// three on Unleash 8.2, with the time of the write, not of the use), so a
// token used a moment ago may still say it was never seen; under secure
// token storage it is written at each use. Check does not count as a use. Unleash
// caches the tokens it has looked up: a token deleted or expired a moment
// ago keeps working for SDKs for up to about a minute. POST /edge/validate,
// which Check asks, keeps a cache of its own on Unleash 7 and 8 that the
// server never refreshes: a token it once found live is reported live
// until the server restarts, even after it was deleted or its expiry was
// moved into the past (an expiry that simply passes is noticed). A "not
// live" answer is reliable; "live" is not proof.
//
// Every type of this package that holds a token prints (every fmt verb) and
// logs (slog) with the secret redacted, and its JSON form holds only the
// redacted secret too: reports are meant to be printed, logged and kept as
// CI artifacts. The Go values keep the secret where the caller needs it
// (Finding.Token, PruneResult.Token).
package hygiene
