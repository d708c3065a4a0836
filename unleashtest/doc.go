// Package unleashtest provides an in-process stand-in for the API-token
// endpoints of an Unleash 8.2 server's Admin API, for tests of code that
// talks to them. It runs on net/http/httptest and uses only the standard
// library.
//
// Its behaviour was taken from request/response pairs captured against a
// real open-source Unleash 8.2.0 server and reproduces them: status codes,
// the four shapes of error body (with an "id", without one, a bare
// {"message"} and an empty body), messages, the "Content-Type:
// application/json; charset=utf-8" header and "Location: api-tokens" on
// create. It serves these nine endpoints:
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
// handler validation such as an unknown environment or project or the token
// limit (400 without an "id"), and finally an unknown project in the path
// (404 "No project found").
//
// Quirks of the real server that are reproduced on purpose: a token
// created as "backend" is listed as "client" afterwards; token names are
// not unique; PUT and DELETE of an unknown secret succeed; the "project"
// field of a create body is ignored (only "projects" counts) and the project
// endpoint ignores "projects" too; the project list endpoint called with
// an admin token returns every token in the instance, admin tokens
// included; the admin tokens themselves are listed (name "admin", type
// "admin").
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
// Unleash 8.2.0, an update event says project "*" (in the event and in its
// data) whatever the token's projects; its preData has the real ones. PUT or
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
// the next requests; Server.Requests records what the server received.
//
// What it does not do:
//
//   - no client or frontend API (/api/client, /api/frontend), no personal
//     access tokens or users, so no 403 PermissionError;
//   - no secure token storage: lists always show the full secret and
//     "secure": false;
//   - seenAt is always null (the real server fills it in from a background
//     job);
//   - no 60-second token cache: a deleted or expired token stops working at
//     once, where the real server keeps accepting it for up to a minute;
//   - JSON syntax error messages follow Node's wording only approximately
//     ("Unexpected end of JSON input" is exact);
//   - the event log holds token events only, numbered from 1 (a real
//     server's log holds other events too, so its ids and totals are
//     higher), stamped with the Server's clock rather than the database's,
//     and ordered by id where the real server orders by creation time; the
//     day filters assume a server and database running in UTC;
//   - the event search's SQL error messages are rebuilt from the filters
//     given, so they may differ in detail from the real ones; integers are
//     read as PostgreSQL before 16 does (decimal only); the key order of
//     created-event data is fixed (the real server follows the request
//     body); query parameters with brackets (a[]=x) are not parsed as
//     arrays or objects.
package unleashtest
