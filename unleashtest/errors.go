package unleashtest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// The response bodies below copy the four shapes the real server uses:
// with an "id" (middleware errors), without one (handler errors), a bare
// {"message"} and an empty body.

// errDetail is one entry of an error's "details" list.
type errDetail struct {
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

// errorBody is an Unleash error. ID is empty for errors raised inside a
// request handler, which the real server sends without one.
type errorBody struct {
	ID      string      `json:"id,omitempty"`
	Name    string      `json:"name"`
	Message string      `json:"message"`
	Details []errDetail `json:"details"`
}

// authRequiredBody is the 401 sent when there is no Authorization header.
type authRequiredBody struct {
	errorBody
	Path          string `json:"path"`
	Type          string `json:"type"`
	DefaultHidden bool   `json:"defaultHidden"`
}

type messageBody struct {
	Message string `json:"message"`
}

const (
	authRequiredMessage = "You must log in to use Unleash. Your request had no authorization header, " +
		"so we could not authorize you. Try logging in at /auth/simple/login"
	unauthorizedMessage  = "You must log in to use Unleash."
	wrongTokenMessage    = "invalid token: expected a different token type for this endpoint"
	schemaErrorMessage   = "Request validation failed: your request body or params contain invalid data. Refer to the `details` list for more information."
	badDataMessagePrefix = "Request validation failed: your request body or params contain invalid data: "
	noProjectMessage     = "No project found"
)

// newID returns a random version 4 UUID, like the ids on real error bodies.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// writeJSON sends v with the headers the real server uses.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeEmpty sends a status with no body, as the server does for PUT and
// DELETE.
func writeEmpty(w http.ResponseWriter, status int) {
	w.WriteHeader(status)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, messageBody{Message: msg})
}

// simpleError builds an error whose single detail repeats its message.
func simpleError(id, name, msg string) errorBody {
	return errorBody{ID: id, Name: name, Message: msg, Details: []errDetail{{Message: msg}}}
}

func writeAuthRequired(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, authRequiredBody{
		errorBody: simpleError(newID(), "AuthenticationRequired", authRequiredMessage),
		Path:      "/auth/simple/login",
		Type:      "password",
	})
}

func writeUnauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, simpleError(newID(), "UnauthorizedError", unauthorizedMessage))
}

func writeWrongTokenType(w http.ResponseWriter) {
	writeMessage(w, http.StatusForbidden, wrongTokenMessage)
}

func writeContentTypeError(w http.ResponseWriter, contentType string) {
	if contentType == "" {
		contentType = "you didn't provide one"
	}
	msg := "We do not accept the content-type you provided (" + contentType + "). " +
		"Try using one of the content-types we do accept instead (application/json) " +
		"and make sure the body is in the corresponding format."
	writeJSON(w, http.StatusUnsupportedMediaType, simpleError(newID(), "ContentTypeError", msg))
}

// writeSchemaError sends a request-schema failure (with an id).
func writeSchemaError(w http.ResponseWriter, details []errDetail) {
	writeJSON(w, http.StatusBadRequest, errorBody{
		ID:      newID(),
		Name:    "BadDataError",
		Message: schemaErrorMessage,
		Details: details,
	})
}

// writeFieldErrors sends a handler-level validation failure that lists
// several details (no id).
func writeFieldErrors(w http.ResponseWriter, details []errDetail) {
	writeJSON(w, http.StatusBadRequest, errorBody{
		Name:    "BadDataError",
		Message: schemaErrorMessage,
		Details: details,
	})
}

// writeBadData sends a handler-level validation failure with one message
// (no id).
func writeBadData(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, errorBody{
		Name:    "BadDataError",
		Message: badDataMessagePrefix + msg,
		Details: []errDetail{{Message: msg}},
	})
}

func writeLimitError(w http.ResponseWriter, limit int) {
	msg := fmt.Sprintf("Failed to create api token. You can't create more than the established limit of %d.", limit)
	writeJSON(w, http.StatusBadRequest, simpleError("", "ExceedsLimitError", msg))
}

// writeUnknownError sends the 500 Unleash answers for an error it did not
// expect, such as one from the database (no id).
func writeUnknownError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusInternalServerError, simpleError("", "UnknownError", msg))
}

func writeNoProject(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, simpleError("", "NotFoundError", noProjectMessage))
}

func writeRouteNotFound(w http.ResponseWriter, path string) {
	msg := "The path you were looking for (" + path + ") is not available."
	writeJSON(w, http.StatusNotFound, simpleError(newID(), "NotFoundError", msg))
}
