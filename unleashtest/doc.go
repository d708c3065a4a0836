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
// create. It serves these eight endpoints:
//
//	POST   /api/admin/api-tokens
//	GET    /api/admin/api-tokens                  (a trailing slash is accepted)
//	GET    /api/admin/api-tokens/{tokenName}
//	PUT    /api/admin/api-tokens/{secret}         body {"expiresAt": ...}
//	DELETE /api/admin/api-tokens/{secret}
//	POST   /api/admin/projects/{projectId}/api-tokens
//	GET    /api/admin/projects/{projectId}/api-tokens
//	DELETE /api/admin/projects/{projectId}/api-tokens/{secret}
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
//     ("Unexpected end of JSON input" is exact).
package unleashtest
