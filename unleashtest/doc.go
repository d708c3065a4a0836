// Package unleashtest provides an in-process stand-in for the API-token
// endpoints of an Unleash 8.2 server's Admin API, for tests of code that
// talks to them. It runs on net/http/httptest and uses only the standard
// library. NewTestServer and NewServer serve it on a free local port;
// Listen serves it on an address of your choice (the command
// unleash-standin runs it as a process).
//
// Its behaviour was taken from request/response pairs captured against
// real open-source Unleash 8.2.0 servers, in default mode and with secure
// token storage, and reproduces them: status codes, the four shapes of
// error body (with an "id", without one, a bare {"message"} and an empty
// body), messages, the key order of token objects, the "Content-Type:
// application/json; charset=utf-8" header and "Location: api-tokens" on
// create. It serves these endpoints:
//
//	POST   /api/admin/api-tokens
//	GET    /api/admin/api-tokens                  (a trailing slash is accepted)
//	GET    /api/admin/api-tokens/{tokenName}
//	PUT    /api/admin/api-tokens/{secret}         body {"expiresAt": ...}
//	DELETE /api/admin/api-tokens/{secret}
//	POST   /api/admin/projects/{projectId}/api-tokens
//	GET    /api/admin/projects/{projectId}/api-tokens
//	DELETE /api/admin/projects/{projectId}/api-tokens/{secret}
//	GET    /api/admin/search/events               (token events only)
//	GET    /api/admin/ui-config                   (version, token limit)
//	POST   /edge/validate                         (no key needed)
//	GET    /api/client/features                   (client API: client and backend tokens)
//	GET    /api/frontend                          (frontend API: frontend tokens)
//
// plus GET /health. Path segments may be percent-encoded ("%2A%3A" for
// "*:"); an encoded "/" stays inside its segment. Any other route or method
// gets the server's 404 NotFoundError.
//
// Requests are checked in the real server's order: a JSON body that does
// not parse (400, {"message":...}, even before authentication), missing or
// unknown credentials (401), a client, backend or frontend token on the
// admin API (403), unknown route (404), a POST or PUT whose Content-Type is
// not application/json (415), the request schema (400 with an "id"),
// handler validation such as an empty name (400 without an "id"), an
// unknown project in the path of a project create (404 "No project
// found"), then the service's checks: a client or frontend token for all
// environments, an unknown environment, the token limit (all 400 without
// an "id"), and last the projects of a general create (see below).
//
// Quirks of the real server that are reproduced on purpose: a legacy
// token created as "backend" is listed as "client" afterwards; token names
// are not unique; PUT and DELETE of an unknown secret succeed; the
// "project" field of a create body is ignored (only "projects" counts) and
// the project endpoint ignores "projects" too; a "projects" list holding
// "*" anywhere makes an all-projects token; an unknown project gets 400
// "Project=X does not exist" for the first one in the order given, and a
// project named twice a 500 UnknownError (the database's primary key,
// nothing is stored); the keys of a create response follow the request
// body (the server keeps the order sent and appends its defaults); the
// project list endpoint called with an admin token returns every token in
// the instance, admin tokens included; the admin tokens themselves are
// listed (name "admin", type "admin").
//
// # Secure token storage
//
// WithSecureTokens makes the Server behave like Unleash 8.2.0 started with
// UNLEASH_EXPERIMENTAL_SECURE_TOKEN=true, which keeps a new token's
// selector and a hash of its secret instead of the secret:
//
//   - a created token's secret is "<project>:<environment>.v2_<selector>_<secret>",
//     the selector 22 and the secret part 43 characters of unpadded
//     base64url, the prefix "*" for all projects and "[]" for several, as
//     for legacy secrets;
//   - only the create response holds it, with the keys projects,
//     tokenName, type, environment, expiresAt (when set), createdAt,
//     secure (true), secret and project, in that order, and no alias;
//   - lists and get-by-name show the selector as "secret" with "secure":
//     true, the type as created ("backend" stays "backend"), and no alias,
//     nor an expiresAt or seenAt the token does not have (absent, not
//     null); legacy tokens, the admin keys among them, come first and are
//     listed as in default mode, with their full secret;
//   - update, delete and the project delete accept the selector or a full
//     v2 secret, and find the token by its selector alone (the rest of the
//     full secret is not checked, as on the real server); an unknown
//     selector answers as an unknown secret does (200, or 404 on the
//     project delete); a legacy token is still changed by its secret;
//   - a v2 secret authenticates only when it matches in full; a token in
//     secure storage that authenticates gets its seenAt set at once, as on
//     the real server, even where it is then refused (403 on the admin
//     API; see "Feature APIs and seenAt" for legacy tokens);
//   - a general create for an unknown project answers 500 UnknownError with
//     the database's foreign-key message (a bug of Unleash 8.2.0, which
//     does not look the projects up in this mode), and one naming a
//     project twice a 500 with the primary-key message; nothing is stored;
//   - the token limit counts only the tokens in secure storage: the admin
//     keys, which are legacy tokens, do not count (in default mode only the
//     legacy tokens count);
//   - events about such tokens carry the token as read back, with its
//     "selector" and "tokenVersion": 2 (never the secret), an update event
//     names the token's real projects, and every such event has groupType
//     "transaction" and a groupId, as the real server stores them in a
//     transaction.
//
// Tokens in secure storage may also be seeded into a Server in default
// mode (WithTokens with a v2 secret), which then behaves like a server
// whose secure storage was switched off again: they stay listed by
// selector and can be changed and deleted.
//
// # UI configuration and token validation
//
// GET /api/admin/ui-config (any admin key) answers what Unleash 8.2.0's
// open-source edition does, with the version of WithVersion (DefaultVersion
// unless set; only the version numbers change), "resourceLimits.apiTokens"
// from WithTokenLimit, "unleashUrl" the Server's URL, a fresh
// "versionInfo.instanceId", and of the feature flags only
// "secureTokenStorage".
//
// POST /edge/validate takes {"tokens":[...]} without any key (one sent is
// ignored) and answers 200 {"tokens":[{"token","type","projects",
// "environment"}]} with the live ones: known and not expired, in the order
// asked, once per time asked; garbage, bare selectors and tampered v2
// secrets are left out, admin keys are reported with type "admin". A
// legacy backend token is reported as "client", one in secure storage as
// "backend". A body that is not an object with a "tokens" list of strings
// gets the 400 BadDataError with an id (numbers, booleans and null in the
// list are read as strings), another Content-Type the 415.
//
// # Feature APIs and seenAt
//
// The client API (GET /api/client/features) and the frontend API (GET
// /api/frontend) are served so that a token can be used as an SDK uses
// it, and its use seen in seenAt. A Server has no feature flags, so they
// answer Unleash 8.2.0's empty payloads: {"version":2,"features":[],
// "query":{...},"meta":{...}} with the query the token implies (its
// projects unless all, its environment, inlineSegmentConstraints), the
// real queryHash and ETag (an equal If-None-Match gets a bare 304), and
// "segments":[] for an Unleash-Client-Spec of 4.2.0 or later (one that is
// not a strict semantic version gets the 400 BadDataError); and
// {"toggles":[]} with the CORS headers of the frontend API. Query
// parameters are not read. GET /api/client/features/{name} answers 404
// "Could not find feature flag"; other routes and methods under
// /api/client and /api/frontend get the 404 NotFoundError once the token
// is accepted.
//
// Authentication there follows Unleash 8.2.0, in both storage modes: no
// Authorization header, an unknown token or an expired one gets 401
// {"message":"This endpoint requires an API token. ..."}; an admin key
// ("*:*..."), a personal access token's form ("user:...") or a token of
// the other API (a frontend token on the client API, a client or backend
// token on the frontend API) gets 403 {"message":"invalid token: expected
// a different token type for this endpoint"}. "Bearer " before the token
// is accepted.
//
// A token that authenticates there has its use recorded, even where the
// 403 for its type follows, as Unleash does (measured on 5.12.8 to 8.2.0,
// see docs/SERVERS.md): a token in secure token storage gets seenAt at
// once, the time of the use; a legacy token's uses are written by a job
// every three minutes, so a use becomes visible (in lists, events and
// Server.Tokens) at the job's next write, with the time of that write as
// seenAt. A Server models the job on its own clock (WithClock): its writes
// fall at its start plus whole multiples of the interval, which
// WithSeenAtInterval sets (DefaultSeenAtInterval; 0 for at once), so tests
// with an injected clock are deterministic.
//
// # Seeds and processes
//
// WithTokens makes a Server start with tokens of your choice (any secret,
// name, type, projects, environment, createdAt, expiresAt and seenAt), as
// if they had been created earlier; a seed that breaks a rule is reported
// by Listen as an error, by NewTestServer as a test failure, and by
// NewServer as a panic. Server.Tokens always gives the full secret, with
// Selector and Secure for tokens in secure storage.
//
// # Events
//
// The event search follows responses observed from Unleash 8.2.0 and,
// where those say nothing, Unleash's source. Every successful create,
// expiry change and delete (through either delete endpoint) records an
// event, which Server.Events lists and the event search returns as
// {"events":[...],"total":N}: the events that match, newest (highest id)
// first, one page of them, and how many match in all.
// As on the real server, no event holds a secret; createdBy is "admin" and
// createdByUserId AdminTokenUserID (-42). An api-token-created event's data
// is the token as the create endpoint returned it, so its type is the one
// asked for ("backend" stays "backend"); the data of an api-token-updated
// event and the preData of an update or delete are the token as stored
// ("client" for backend), preData with its keys in jsonb order. As on
// Unleash 8.2.0, an update event of a legacy token says project "*" (in the
// event and in its data) whatever the token's projects; its preData has the
// real ones (see above for tokens in secure storage). PUT or
// DELETE of an unknown secret records nothing, and neither does a PUT that
// sets the expiry the token already has (the real server drops an event
// whose data equals its preData).
//
// The search takes type, createdBy, project, environment, feature and id
// as "IS:v" or "IS_ANY_OF:v1,v2" (both mean "one of"; nothing after the
// colon means no filter), from and to as "IS:yyyy-MM-dd" (UTC days, both
// included), query (a case-insensitive LIKE over the text of data, tags and
// preData, so "%" and "_" are wildcards), offset and limit (read as
// JavaScript numbers: limit outside 1..1000 or not a number gives 50, an
// offset that is not positive gives 0, and each is then cut to an integer).
// A value that does not match the schema's pattern, or a repeated
// parameter, gets the 400 BadDataError with an id. A createdBy or id value
// that is not an integer, or a from day PostgreSQL cannot read, gets the 500
// UnknownError (no id) with the failed count query and PostgreSQL's message,
// as knex words it; a to day JavaScript cannot read gets 500 "Invalid time
// value".
//
// For testing error handling, Server.FailNext queues faults (a status and
// body, a delay, or a dropped connection) that replace normal service for
// the next requests; Server.Requests returns the most recent requests the
// server received (the last 10,000 at most, and no more than 16 MiB of
// bodies and headers), Server.RequestCount counts them all.
//
// What it does not do:
//
//   - of the client and frontend APIs only the two GET routes above, with
//     no flags (no metrics, registration or POST /api/frontend); no
//     personal access tokens or users, so no 403 PermissionError;
//   - no other admin routes (environments, projects, the older
//     /api/admin/events) and no web UI: a GET outside /api, which the real
//     server answers with its UI page, gets the 404 NotFoundError;
//   - a legacy token's use on the admin API is not recorded in seenAt
//     (Unleash records it), so that the admin keys, which every admin
//     call uses, stay never seen unless seeded otherwise; the real job
//     also runs once 2 to 30 seconds after the server starts, which a
//     Server's job does not;
//   - no 60-second token cache: a deleted or expired token stops working
//     (on the client API too) and stops being reported by POST
//     /edge/validate at once, where the real server keeps accepting and
//     reporting it for a while (a minute or more);
//   - the admin keys' own creation (by unleash_system_user, at the real
//     server's first start) is not in the event log;
//   - ui-config sends one feature flag where the real server sends about
//     ninety, and WithVersion does not make the Server behave like that
//     version;
//   - JSON syntax error messages follow Node's wording only approximately
//     ("Unexpected end of JSON input" is exact);
//   - the event log holds token events only, numbered from 1 (a real
//     server's log holds other events too, so its ids and totals are
//     higher), stamped with the Server's clock rather than the database's,
//     and ordered by id where the real server orders by creation time; the
//     day filters assume a server and database running in UTC;
//   - the event search's SQL error messages are rebuilt from the filters
//     given, so they may differ in detail from the real ones; integers are
//     read as PostgreSQL before 16 does (decimal only); query parameters
//     with brackets (a[]=x) are not parsed as arrays or objects;
//   - the key order inside error details, which the real server varies by
//     the kind of schema error, is fixed (message, then path).
package unleashtest
