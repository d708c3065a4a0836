package unleashtest

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// The feature APIs that SDKs read: the client API (GET
// /api/client/features, for client and backend tokens) and the frontend
// API (GET /api/frontend, for frontend tokens). A Server has no feature
// flags, so both answer with empty lists; what they are for here is that a
// token authenticates on them as on Unleash 8.2, and that its use is
// recorded in seenAt.

// featureAPI names one of the two feature APIs.
type featureAPI int

const (
	clientAPI featureAPI = iota + 1
	frontendAPI
)

// noTokenMessage is the 401 of the feature APIs: no key, an unknown or an
// expired one.
const noTokenMessage = "This endpoint requires an API token. Please add an authorization header to your request with a valid token"

// featureAPIOf tells whether segs, a path split at "/", lies under the
// client API (/api/client/...) or the frontend API (/api/frontend/...).
func featureAPIOf(segs []string) (featureAPI, bool) {
	if len(segs) < 2 || !strings.EqualFold(segs[0], "api") {
		return 0, false
	}
	switch {
	case strings.EqualFold(segs[1], "client"):
		return clientAPI, true
	case strings.EqualFold(segs[1], "frontend"):
		return frontendAPI, true
	}
	return 0, false
}

// serveFeatureAPI serves a request under /api/client or /api/frontend:
// the feature API's authentication first, then GET /api/client/features,
// GET /api/client/features/{name} (no flag exists: 404) and GET
// /api/frontend; any other route or method there is a 404.
func (s *Server) serveFeatureAPI(w http.ResponseWriter, r *http.Request, api featureAPI, path string) {
	if api == frontendAPI {
		// The frontend API is meant for browsers: Unleash answers every
		// request there with these CORS headers.
		h := w.Header()
		h.Set("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", "ETag")
	}
	tok, ok := s.featureUser(w, r, api)
	if !ok {
		return
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1]
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case api == frontendAPI && len(segs) == 2 && get:
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, http.StatusOK, jsonObject{{"toggles", []string{}}})
	case api == clientAPI && len(segs) == 3 && strings.EqualFold(segs[2], "features") && get:
		s.clientFeatures(w, r, tok)
	case api == clientAPI && len(segs) == 4 && strings.EqualFold(segs[2], "features") && get:
		name, ok := decodeSegment(segs[3])
		if !ok {
			writeMessage(w, http.StatusBadRequest, "Failed to decode param '"+segs[3]+"'")
			return
		}
		if _, ok := clientSpecSupportsSegments(w, r); !ok {
			return
		}
		msg := "Could not find feature flag " + name
		writeJSON(w, http.StatusNotFound, simpleError("", "NotFoundError", msg))
	default:
		writeRouteNotFound(w, path)
	}
}

// featureUser authenticates a request on a feature API as Unleash 8.2
// does, and answers it when it fails: no key is a 401; a key of the form
// of an admin key ("*:*...") or a personal access token ("user:...") a 403
// without looking it up; an unknown or expired token a 401; a token of the
// wrong type for the API a 403: the client API takes client and backend
// tokens, the frontend API frontend tokens. A token that authenticates has
// its use recorded (seenAt), even where the 403 for its type follows.
func (s *Server) featureUser(w http.ResponseWriter, r *http.Request, api featureAPI) (Token, bool) {
	key := bearerPrefix.ReplaceAllString(r.Header.Get("Authorization"), "")
	if key == "" {
		writeMessage(w, http.StatusUnauthorized, noTokenMessage)
		return Token{}, false
	}
	if strings.HasPrefix(key, "*:*") || strings.HasPrefix(key, "user:") {
		writeWrongTokenType(w)
		return Token{}, false
	}
	tok, ok := s.activeToken(key, true)
	if !ok {
		writeMessage(w, http.StatusUnauthorized, noTokenMessage)
		return Token{}, false
	}
	want := tok.Type == "client" || tok.Type == "backend"
	if api == frontendAPI {
		want = tok.Type == "frontend"
	}
	if !want {
		writeWrongTokenType(w)
		return Token{}, false
	}
	return tok, true
}

// clientFeatures serves GET /api/client/features for tok: no flags, the
// query the token implies (its projects unless all, its environment), the
// segments of the client spec 4.2 and later, and an ETag that an equal
// If-None-Match turns into a 304. Query parameters are not read.
func (s *Server) clientFeatures(w http.ResponseWriter, r *http.Request, tok Token) {
	segments, ok := clientSpecSupportsSegments(w, r)
	if !ok {
		return
	}
	q := featuresQuery{environment: tok.Environment, inlineSegmentConstraints: !segments}
	if len(tok.Projects) > 0 && tok.Projects[0] != "*" {
		q.project = tok.Projects
	}
	hash := q.hashSum()
	etag := `"` + hash + `:0:v1"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var query jsonObject
	if q.project != nil {
		query = append(query, jsonField{"project", q.project})
	}
	query = append(query, jsonField{"environment", q.environment}, jsonField{"inlineSegmentConstraints", q.inlineSegmentConstraints})
	body := jsonObject{{"version", 2}, {"features", []string{}}, {"query", query}}
	if segments {
		body = append(body, jsonField{"segments", []string{}})
	}
	body = append(body, jsonField{"meta", jsonObject{{"revisionId", 0}, {"etag", etag}, {"queryHash", hash}}})
	w.Header().Set("ETag", etag)
	writeJSON(w, http.StatusOK, body)
}

// strictSemVer is the grammar of semver.org, which Unleash's client spec
// check holds the Unleash-Client-Spec header to (no "v", nothing around).
var strictSemVer = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$`)

// clientSpecSupportsSegments reads the Unleash-Client-Spec header: whether
// the SDK takes segments apart from the flags (spec 4.2.0 or later, a
// pre-release of 4.2.0 not yet). A header that is not a strict semantic
// version gets the 400 BadDataError, answered here.
func clientSpecSupportsSegments(w http.ResponseWriter, r *http.Request) (supports, ok bool) {
	v := strings.Join(r.Header.Values("Unleash-Client-Spec"), ", ")
	if v == "" {
		return false, true
	}
	m := strictSemVer.FindStringSubmatch(v)
	if m == nil {
		problem := "Invalid SemVer"
		if v[0] < '0' || v[0] > '9' {
			problem = "Invalid prefix"
		}
		writeBadData(w, problem+` in the Unleash-Client-Spec header: "`+v+`".`)
		return false, false
	}
	n := [3]int{}
	for i := range n {
		x, err := strconv.Atoi(m[i+1])
		if err != nil {
			return true, true // beyond an int: far past 4.2.0
		}
		n[i] = x
	}
	switch {
	case n[0] != 4:
		return n[0] > 4, true
	case n[1] != 2:
		return n[1] > 2, true
	case n[2] != 0:
		return true, true
	}
	return m[4] == "", true // 4.2.0-x comes before 4.2.0
}

// featuresQuery is the query of a client features response, the object
// Unleash hashes for the queryHash and the ETag.
type featuresQuery struct {
	project                  []string // nil: all projects
	environment              string
	inlineSegmentConstraints bool
}

// hashSum is what the npm package hash-sum 2.0.0 (which Unleash uses)
// makes of the query object as Unleash builds it: the keys tag, project,
// namePrefix, environment and inlineSegmentConstraints, those without a
// value undefined.
func (q featuresQuery) hashSum() string {
	h := jsHashValue(0, "", "[object Object]", "object")
	for _, key := range []string{"environment", "inlineSegmentConstraints", "namePrefix", "project", "tag"} {
		switch {
		case key == "environment" && q.environment != "":
			h = jsHashValue(h, key, "[object String]", "string")
			h = jsFold(h, q.environment)
		case key == "inlineSegmentConstraints":
			h = jsHashValue(h, key, "[object Boolean]", "boolean")
			h = jsFold(h, strconv.FormatBool(q.inlineSegmentConstraints))
		case key == "project" && q.project != nil:
			h = jsHashValue(h, key, "[object Array]", "object")
			// The array's own keys "0", "1", ... in string order, then
			// its String() value, the items joined by commas.
			idx := make([]string, len(q.project))
			for i := range idx {
				idx[i] = strconv.Itoa(i)
			}
			slices.Sort(idx) // byte order is UTF-16 order for digits
			for _, k := range idx {
				i, _ := strconv.Atoi(k)
				h = jsHashValue(h, k, "[object String]", "string")
				h = jsFold(h, q.project[i])
			}
			h = jsFold(h, strings.Join(q.project, ","))
		default:
			h = jsHashValue(h, key, "[object Undefined]", "undefined")
			h = jsFold(h, "undefined")
		}
	}
	h = jsFold(h, "[object Object]") // the object's valueOf, as a string
	s := strconv.FormatInt(h, 16)
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}

// jsHashValue folds the prefix hash-sum folds for every value: its key, its
// Object.prototype.toString and its typeof.
func jsHashValue(h int64, key, toString, typeOf string) int64 {
	return jsFold(jsFold(jsFold(h, key), toString), typeOf)
}

// jsFold is hash-sum's fold: h*31 + c over the UTF-16 code units of text
// in 32-bit integer arithmetic, and a negative result doubled and negated
// (which JavaScript keeps as a number up to 2^32).
func jsFold(h int64, text string) int64 {
	if text == "" {
		return h
	}
	x := uint32(h)
	for _, c := range utf16.Encode([]rune(text)) {
		x = x*31 + uint32(c)
	}
	if v := int32(x); v < 0 {
		return int64(v) * -2
	}
	return int64(x)
}

// usedLocked records that the token at index i authenticated a request at
// now. A token in secure token storage gets its seenAt at once; the use of
// a legacy token waits for the next write of the seenAt job (see
// WithSeenAtInterval). s.mu must be held.
func (s *Server) usedLocked(i int, now time.Time) {
	t := &s.tokens[i]
	if t.Secure || s.cfg.seenInterval <= 0 {
		seen := now
		t.SeenAt = &seen
		return
	}
	// An earlier use that the job has written by now stays written; the
	// job writes the token once per run, so only the last use counts.
	s.writeSeenLocked(now)
	s.unwritten[t.Secret] = now
}

// nextSeenWrite returns when the seenAt job writes a use made at used: at
// the first whole multiple of the interval after the Server's start that
// comes after used.
func (s *Server) nextSeenWrite(used time.Time) time.Time {
	iv := s.cfg.seenInterval
	since := used.Sub(s.started)
	if since < 0 {
		return s.started.Add(iv)
	}
	n := since / iv
	if n >= (1<<63-1)/iv-1 {
		return time.Unix(1<<62, 0) // past any clock: never
	}
	return s.started.Add((n + 1) * iv)
}

// writeSeenLocked does what the seenAt job would have done up to now: it
// writes the uses whose write time has come, with that time as seenAt.
// s.mu must be held.
func (s *Server) writeSeenLocked(now time.Time) {
	if len(s.unwritten) == 0 {
		return
	}
	for secret, used := range s.unwritten {
		at := s.nextSeenWrite(used)
		if at.After(now) {
			continue
		}
		delete(s.unwritten, secret)
		for i := range s.tokens {
			if s.tokens[i].Secret == secret && !s.tokens[i].Secure {
				seen := at
				s.tokens[i].SeenAt = &seen
				break
			}
		}
	}
}
