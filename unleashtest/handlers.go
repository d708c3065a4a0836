package unleashtest

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// jsonBodyLimit is the body size above which the server's JSON parser
// (body-parser's default of 100 kB) refuses a request.
const jsonBodyLimit = 100 * 1024

// bearerPrefix matches the optional "Bearer " the server strips from the
// Authorization header, in any letter case.
var bearerPrefix = regexp.MustCompile(`(?i)^bearer[\s\p{Z}\x{FEFF}]+`)

// isJSON reports whether a Content-Type header names application/json,
// whatever its parameters and letter case.
func isJSON(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && mt == "" {
		return false
	}
	return mt == "application/json"
}

// collapseSlashes turns runs of "/" into one, as the server does before
// routing.
func collapseSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	prev := byte(0)
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && prev == '/' {
			continue
		}
		prev = p[i]
		b.WriteByte(p[i])
	}
	return b.String()
}

// decodeSegment decodes one percent-encoded path segment the way
// JavaScript's decodeURIComponent does (so "+" stays "+").
func decodeSegment(seg string) (string, bool) {
	v, err := url.PathUnescape(seg)
	if err != nil || !utf8.ValidString(v) {
		return "", false
	}
	return v, true
}

// handle serves a request that no Fault took over. The order of the checks
// follows the real server: JSON body parsing, authentication (401), token
// type (403), routing (404), Content-Type (415), request schema (400 with
// an id), handler validation (400 without), project lookup (404).
func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte, truncated bool) {
	path := collapseSlashes(r.URL.EscapedPath())
	contentType := r.Header.Get("Content-Type")

	// The server parses JSON bodies for every path and method before
	// anything else, so a malformed one is rejected even without
	// credentials.
	var doc *jsonValue
	if isJSON(contentType) {
		if len(body) == 0 {
			doc = &jsonValue{kind: kindObject}
		} else {
			if truncated || len(body) > jsonBodyLimit {
				writeMessage(w, http.StatusRequestEntityTooLarge, "request entity too large")
				return
			}
			v, err := parseJSON(body)
			if err != nil {
				writeMessage(w, http.StatusBadRequest, err.Error())
				return
			}
			doc = v
		}
	}

	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1] // one trailing slash is optional
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead

	if len(segs) == 1 && strings.EqualFold(segs[0], "health") && get {
		writeJSON(w, http.StatusOK, map[string]string{"health": "GOOD"})
		return
	}

	// POST /edge/validate needs no key (and ignores one that is sent).
	if len(segs) == 2 && strings.EqualFold(segs[0], "edge") && strings.EqualFold(segs[1], "validate") &&
		r.Method == http.MethodPost {
		if !isJSON(contentType) {
			writeContentTypeError(w, contentType)
			return
		}
		s.validateTokens(w, doc)
		return
	}

	// The feature APIs that SDKs read, with their own authentication.
	if api, ok := featureAPIOf(segs); ok {
		s.serveFeatureAPI(w, r, api, path)
		return
	}

	if strings.EqualFold(segs[0], "api") {
		key := bearerPrefix.ReplaceAllString(r.Header.Get("Authorization"), "")
		if key == "" {
			writeAuthRequired(w)
			return
		}
		tok, ok := s.activeToken(key, false)
		if !ok {
			writeUnauthorized(w)
			return
		}
		if tok.Type != "admin" {
			writeWrongTokenType(w)
			return
		}
	}

	notFound := func() { writeRouteNotFound(w, path) }
	lit := func(i int, want string) bool { return i < len(segs) && strings.EqualFold(segs[i], want) }
	param := func(i int) (string, bool) {
		v, ok := decodeSegment(segs[i])
		if !ok {
			writeMessage(w, http.StatusBadRequest, fmt.Sprintf("Failed to decode param '%s'", segs[i]))
		}
		return v, ok
	}
	needJSON := func() bool {
		if !isJSON(contentType) {
			writeContentTypeError(w, contentType)
			return false
		}
		return true
	}

	if !lit(0, "api") || !lit(1, "admin") {
		notFound()
		return
	}
	switch {
	case lit(2, "api-tokens") && len(segs) == 3:
		switch {
		case get:
			s.listTokens(w, func(Token) bool { return true })
		case r.Method == http.MethodPost:
			if needJSON() {
				s.create(w, doc, "")
			}
		default:
			notFound()
		}
	case lit(2, "api-tokens") && len(segs) == 4:
		switch {
		case get:
			if name, ok := param(3); ok {
				s.listTokens(w, func(t Token) bool { return t.TokenName == name })
			}
		case r.Method == http.MethodPut:
			if secret, ok := param(3); ok && needJSON() {
				s.updateExpiry(w, doc, secret)
			}
		case r.Method == http.MethodDelete:
			if secret, ok := param(3); ok {
				s.deleteToken(w, secret)
			}
		default:
			notFound()
		}
	case lit(2, "projects") && lit(4, "api-tokens") && len(segs) == 5:
		switch {
		case get:
			if project, ok := param(3); ok {
				s.listProjectTokens(w, project)
			}
		case r.Method == http.MethodPost:
			if project, ok := param(3); ok && needJSON() {
				s.create(w, doc, project)
			}
		default:
			notFound()
		}
	case lit(2, "ui-config") && len(segs) == 3 && get:
		s.uiConfig(w)
	case lit(2, "search") && lit(3, "events") && len(segs) == 4 && get:
		s.searchEvents(w, r.URL.RawQuery)
	case lit(2, "projects") && lit(4, "api-tokens") && len(segs) == 6 && r.Method == http.MethodDelete:
		project, ok := param(3)
		if !ok {
			return
		}
		if secret, ok := param(5); ok {
			s.deleteProjectToken(w, project, secret)
		}
	default:
		notFound()
	}
}

// activeToken returns the unexpired token that key authenticates as, and
// records its use (see usedLocked), whatever the caller then makes of the
// token: a token in secure storage always, a legacy token only on a
// feature API (featureAPI set). Unleash records a legacy token's use on
// the admin API too; a Server does not, so that its admin keys, which
// every admin call uses, stay never seen unless seeded otherwise. As on
// Unleash 8.2, a key of the v2 form is looked up in secure storage only,
// any other key among the legacy tokens only.
func (s *Server) activeToken(key string, featureAPI bool) (Token, bool) {
	now := s.now()
	v2 := authenticatesAsV2(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, t := range s.tokens {
		if t.Secret != key || t.Secure != v2 {
			continue
		}
		if t.ExpiresAt != nil && !t.ExpiresAt.After(now) {
			return Token{}, false
		}
		if t.Secure || featureAPI {
			s.usedLocked(i, now)
		}
		return s.tokens[i].clone(), true
	}
	return Token{}, false
}

// listed is a token as it appears in {"tokens":[...]} responses. A legacy
// token comes as the server reads it from its database, with the secret
// first and nulls for what it lacks; one in secure storage shows its
// selector as the secret, and lacks (rather than nulls) alias, an expiry
// or seenAt it does not have.
func listed(t Token) jsonObject {
	if t.Secure {
		return append(jsonObject{{"secret", t.Selector}}, secureTokenFields(t)...)
	}
	return append(jsonObject{{"secret", t.Secret}}, storedEventData(t)...)
}

type tokenList struct {
	Tokens []jsonObject `json:"tokens"`
}

// listTokens sends the tokens keep accepts: the legacy ones, then those in
// secure storage, as the real server concatenates its two stores.
func (s *Server) listTokens(w http.ResponseWriter, keep func(Token) bool) {
	s.mu.Lock()
	out := tokenList{Tokens: []jsonObject{}}
	for _, secure := range []bool{false, true} {
		for _, t := range s.tokens {
			if t.Secure == secure && keep(t) {
				out.Tokens = append(out.Tokens, listed(t))
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// listProjectTokens serves GET /api/admin/projects/{id}/api-tokens. Called
// with an admin token, the real server returns every token in the instance,
// not only the project's, and so does this one.
func (s *Server) listProjectTokens(w http.ResponseWriter, project string) {
	if !slices.Contains(s.cfg.projects, project) {
		writeNoProject(w)
		return
	}
	s.listTokens(w, func(Token) bool { return true })
}

// create serves both create endpoints and records an api-token-created
// event; project is the path's project id for the project endpoint and ""
// for the general one. doc has passed the JSON parser and the Content-Type
// check.
func (s *Server) create(w http.ResponseWriter, doc *jsonValue, project string) {
	schema := createSchema
	if project != "" {
		schema = projectCreateSchema
	}
	if details := schema.validate(doc); details != nil {
		writeSchemaError(w, details)
		return
	}

	// After validation every present scalar property holds a string.
	str := func(name string) (string, bool) {
		v := doc.get(name)
		if v == nil {
			return "", false
		}
		return v.str, true
	}
	tokenName, _ := str("tokenName")
	typ, _ := str("type")
	typ = strings.ToLower(typ)
	env, hasEnv := str("environment")
	expires, hasExpires := str("expiresAt")

	projects := []string{"*"}
	var fieldErrs []errDetail
	if tokenName == "" {
		fieldErrs = append(fieldErrs, errDetail{Message: `"tokenName" is not allowed to be empty.`})
	}
	if hasEnv && env == "" {
		fieldErrs = append(fieldErrs, errDetail{Message: `"environment" is not allowed to be empty.`})
	}
	if project != "" {
		// The project endpoint ignores any projects in the body.
		projects = []string{project}
	} else if v := doc.get("projects"); v != nil {
		projects = projects[:0]
		for _, item := range v.items {
			projects = append(projects, item.str)
		}
		if len(projects) == 0 {
			fieldErrs = append(fieldErrs, errDetail{Message: `"projects" must contain at least 1 items. You provided [].`})
		}
		for i, p := range projects {
			if p == "" {
				fieldErrs = append(fieldErrs, errDetail{Message: fmt.Sprintf(`"projects[%d]" is not allowed to be empty.`, i)})
			}
		}
	}
	if len(fieldErrs) > 0 {
		writeFieldErrors(w, fieldErrs)
		return
	}
	if !hasEnv {
		env = defaultEnvironment
	}
	var expiresAt *time.Time
	if hasExpires {
		t, _ := parseDateTime(expires) // the schema has checked the format
		expiresAt = &t
	}
	projects = resolveProjects(projects)

	// From here on the real server's order: the project of the path (404),
	// then the service's checks: all environments (400), an unknown
	// environment (400), the token limit (400), and last the projects as
	// the database sees them while storing the token.
	if project != "" && !slices.Contains(s.cfg.projects, project) {
		writeNoProject(w)
		return
	}
	if env == "*" {
		kind := "Client"
		if typ == "frontend" {
			kind = "Frontend"
		}
		writeBadData(w, kind+" token cannot be scoped to all environments")
		return
	}

	now := s.now()
	s.mu.Lock()
	secure := s.cfg.secure
	if !slices.Contains(s.cfg.environments, env) {
		s.mu.Unlock()
		writeBadData(w, "Environment="+env+" does not exist")
		return
	}
	if s.countLocked(secure) >= s.cfg.tokenLimit {
		s.mu.Unlock()
		writeLimitError(w, s.cfg.tokenLimit)
		return
	}
	if projects[0] != "*" {
		for i, p := range projects {
			switch {
			case !slices.Contains(s.cfg.projects, p):
				s.mu.Unlock()
				if secure {
					// Unleash 8.2 does not look the projects up before
					// storing a token in secure storage, so the database's
					// foreign key refuses it: a 500 (a server bug).
					writeUnknownError(w, v2ProjectInsert+" - insert or update on table \"api_tokens_v2_project\" violates foreign key constraint \"api_tokens_v2_project_project_fkey\"")
				} else {
					writeBadData(w, "Project="+p+" does not exist")
				}
				return
			case slices.Index(projects, p) < i:
				// Both storages insert one row per project, and the second
				// row of a project breaks the primary key: a 500.
				s.mu.Unlock()
				if secure {
					writeUnknownError(w, v2ProjectInsert+" - duplicate key value violates unique constraint \"api_tokens_v2_project_pkey\"")
				} else {
					writeUnknownError(w, "INSERT INTO api_token_project VALUES ($1, $2) - duplicate key value violates unique constraint \"api_token_project_pkey\"")
				}
				return
			}
		}
	}
	tok := newToken(secure, tokenName, typ, projects, env, expiresAt, now)
	s.tokens = append(s.tokens, tok)
	var data, resp jsonObject
	if secure {
		data = secureEventData(tok)
		resp = secureCreateResponse(tok)
	} else {
		data = createdEventData(tok, typ, createdOrder(doc, project != ""))
		// The real server sends the object it stored in the event, with
		// the secret before "type".
		i := slices.IndexFunc(data, func(f jsonField) bool { return f.key == "type" })
		resp = slices.Insert(slices.Clone(data), i, jsonField{"secret", tok.Secret})
	}
	s.recordLocked(now, EventAPITokenCreated, tok, data, nil)
	s.mu.Unlock()

	w.Header().Set("Location", "api-tokens")
	writeJSON(w, http.StatusCreated, resp)
}

// v2ProjectInsert is the statement that stores a project of a token in
// secure storage, as PostgreSQL errors quote it (with the whitespace of
// Unleash's source).
const v2ProjectInsert = "INSERT INTO api_tokens_v2_project\n                         VALUES ($1, $2)"

// countLocked returns how many tokens count against the token limit: those
// of the storage new tokens go to (legacy or secure).
func (s *Server) countLocked(secure bool) int {
	n := 0
	for _, t := range s.tokens {
		if t.Secure == secure {
			n++
		}
	}
	return n
}

// findLocked returns the index of the token an update or delete of the
// general endpoint names by ref, or -1. A full v2 secret or a bare selector
// names a token in secure storage by its selector alone; anything else is a
// legacy token's secret. s.mu must be held.
func (s *Server) findLocked(ref string) int {
	if sel, ok := v2Reference(ref); ok {
		// Unleash then only asks secure storage to change the token; a
		// legacy token that such a ref might name is left alone.
		return slices.IndexFunc(s.tokens, func(t Token) bool { return t.Secure && t.Selector == sel })
	}
	return slices.IndexFunc(s.tokens, func(t Token) bool { return !t.Secure && t.Secret == ref })
}

// updateExpiry serves PUT /api/admin/api-tokens/{secret} and records an
// api-token-updated event. An unknown secret is not an error and records
// nothing.
func (s *Server) updateExpiry(w http.ResponseWriter, doc *jsonValue, ref string) {
	if details := updateSchema.validate(doc); details != nil {
		writeSchemaError(w, details)
		return
	}
	t, _ := parseDateTime(doc.get("expiresAt").str)
	now := s.now()
	s.mu.Lock()
	if i := s.findLocked(ref); i >= 0 {
		before := s.tokens[i].clone()
		e := t
		s.tokens[i].ExpiresAt = &e
		after := s.tokens[i].clone()
		// The real server drops an event whose data equals its preData,
		// so setting the same expiry again records nothing.
		if before.ExpiresAt == nil || !before.ExpiresAt.Equal(t) {
			if after.Secure {
				s.recordLocked(now, EventAPITokenUpdated, after, secureEventData(after), secureEventData(before))
			} else {
				// Unleash 8.2.0 reads an updated legacy token back without
				// its projects: the event and its data say project "*"
				// even for a project token (seen on the real server).
				after.Project, after.Projects = "*", []string{"*"}
				s.recordLocked(now, EventAPITokenUpdated, after, storedEventData(after), storedEventData(before))
			}
		}
	}
	s.mu.Unlock()
	writeEmpty(w, http.StatusOK)
}

// deletedEventLocked records the api-token-deleted event of t; s.mu must be
// held.
func (s *Server) deletedEventLocked(now time.Time, t Token) {
	if t.Secure {
		s.recordLocked(now, EventAPITokenDeleted, t, nil, secureEventData(t))
		return
	}
	s.recordLocked(now, EventAPITokenDeleted, t, nil, storedEventData(t))
}

// deleteToken serves DELETE /api/admin/api-tokens/{secret} and records an
// api-token-deleted event. An unknown secret is not an error and records
// nothing.
func (s *Server) deleteToken(w http.ResponseWriter, ref string) {
	now := s.now()
	s.mu.Lock()
	if i := s.findLocked(ref); i >= 0 {
		s.deletedEventLocked(now, s.tokens[i])
		delete(s.unwritten, s.tokens[i].Secret) // nothing left to write it to
		s.tokens = slices.Delete(s.tokens, i, i+1)
	}
	s.mu.Unlock()
	writeEmpty(w, http.StatusOK)
}

// deleteProjectToken serves DELETE /api/admin/projects/{id}/api-tokens/{secret}:
// 404 for an unknown secret, 400 unless the token belongs to that one
// project only (the project id itself is not looked up). A deletion records
// an api-token-deleted event. The token is the one whose listed secret
// (the selector, for secure storage) is ref, or the selector of ref.
func (s *Server) deleteProjectToken(w http.ResponseWriter, project, ref string) {
	key := ref
	if sel, ok := v2Reference(ref); ok {
		key = sel
	}
	now := s.now()
	s.mu.Lock()
	status := http.StatusOK
	i := slices.IndexFunc(s.tokens, func(t Token) bool { return listedSecret(t) == key })
	switch {
	case i < 0:
		status = http.StatusNotFound
	case s.tokens[i].Project != project &&
		!(len(s.tokens[i].Projects) == 1 && s.tokens[i].Projects[0] == project):
		status = http.StatusBadRequest
	default:
		s.deletedEventLocked(now, s.tokens[i])
		delete(s.unwritten, s.tokens[i].Secret) // nothing left to write it to
		s.tokens = slices.Delete(s.tokens, i, i+1)
	}
	s.mu.Unlock()
	writeEmpty(w, status)
}

// listedSecret is what lists show as a token's secret.
func listedSecret(t Token) string {
	if t.Secure {
		return t.Selector
	}
	return t.Secret
}
