package unleashtest

import (
	"fmt"
	"math"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// GET /api/admin/search/events, modelled on Unleash 8.2's event search:
// the query parameters are checked against the OpenAPI schema (400), then
// turned into SQL filters; PostgreSQL's errors on values it cannot convert
// reach the client as a 500 UnknownError.

// Patterns of the schema of the search's query parameters.
const (
	operatorPattern   = `^(IS|IS_ANY_OF):(.*?)(,([a-zA-Z0-9_]+))*$`
	idOperatorPattern = `^(IS|IS_ANY_OF):(.*?)(,([0-9]+))*$`
	dayPattern        = `^(IS):\d{4}-\d{2}-\d{2}$`
)

// searchParam is one query parameter of the schema; all are strings.
type searchParam struct {
	name    string
	pattern string
	match   func(string) bool
}

// searchParams lists the parameters in the order the server's schema
// declares them: with Ajv's allErrors off, the first bad one is reported.
var searchParams = []searchParam{
	{name: "query"},
	{name: "id", pattern: idOperatorPattern, match: matchesOperator},
	{name: "feature", pattern: operatorPattern, match: matchesOperator},
	{name: "project", pattern: operatorPattern, match: matchesOperator},
	{name: "type", pattern: operatorPattern, match: matchesOperator},
	{name: "createdBy", pattern: operatorPattern, match: matchesOperator},
	{name: "from", pattern: dayPattern, match: matchesDay},
	{name: "to", pattern: dayPattern, match: matchesDay},
	{name: "offset"},
	{name: "limit"},
	{name: "environment", pattern: operatorPattern, match: matchesOperator},
}

// matchesOperator applies operatorPattern (and idOperatorPattern, which
// accepts the same strings) as JavaScript does: "." matches anything but a
// line terminator, and the lazy middle group can take any such text.
func matchesOperator(s string) bool {
	rest, ok := strings.CutPrefix(s, "IS:")
	if !ok {
		rest, ok = strings.CutPrefix(s, "IS_ANY_OF:")
	}
	return ok && !strings.ContainsAny(rest, "\n\r\u2028\u2029")
}

var dayRE = regexp.MustCompile(`^IS:[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

func matchesDay(s string) bool { return dayRE.MatchString(s) }

const (
	defaultEventLimit = 50
	maxEventLimit     = 1000
)

// eventJSON is one event in a search response, with the real server's
// field order.
type eventJSON struct {
	ID              int        `json:"id"`
	Type            string     `json:"type"`
	CreatedBy       string     `json:"createdBy"`
	CreatedAt       string     `json:"createdAt"`
	CreatedByUserID int        `json:"createdByUserId"`
	Data            jsonObject `json:"data"`
	PreData         jsonObject `json:"preData"`
	Tags            []string   `json:"tags"`
	FeatureName     *string    `json:"featureName"`
	Project         string     `json:"project"`
	Environment     string     `json:"environment"`
	GroupType       string     `json:"groupType,omitempty"`
	GroupID         string     `json:"groupId,omitempty"`
	Label           string     `json:"label"`
	Summary         string     `json:"summary"`
}

type eventPage struct {
	Events []eventJSON `json:"events"`
	Total  int         `json:"total"`
}

// eventFilter is a parsed search. A nil slice does not filter.
type eventFilter struct {
	from, to                        *time.Time // createdAt >= from, createdAt < to
	createdBy, ids                  []int64
	features, projects, types, envs []string
	query                           likePattern // nil for none
	// queryTags is whether query matches tags::text, "[]" for every token
	// event.
	queryTags bool
}

// searchEvents serves GET /api/admin/search/events; rawQuery is the
// request's query string.
func (s *Server) searchEvents(w http.ResponseWriter, rawQuery string) {
	q := parseQueryString(rawQuery)
	for _, p := range searchParams {
		vs, ok := q[p.name]
		if !ok {
			continue
		}
		path := "/query/" + p.name
		if len(vs) > 1 {
			arr := &jsonValue{kind: kindArray}
			for _, v := range vs {
				arr.items = append(arr.items, &jsonValue{kind: kindString, str: v})
			}
			writeSchemaError(w, []errDetail{typeDetail(path, "string", arr)})
			return
		}
		if p.match != nil && !p.match(vs[0]) {
			sent := &jsonValue{kind: kindString, str: vs[0]}
			writeSchemaError(w, []errDetail{{
				Path:    path,
				Message: fmt.Sprintf("The `%s` property must match pattern \"%s\". You sent %s.", path, p.pattern, sent.stringify()),
			}})
			return
		}
	}
	get := func(name string) (string, bool) {
		vs, ok := q[name]
		if !ok {
			return "", false
		}
		return vs[0], true
	}

	f, errMsg := buildEventFilter(get)
	if errMsg != "" {
		writeJSON(w, http.StatusInternalServerError, simpleError("", "UnknownError", errMsg))
		return
	}

	limitArg, hasLimit := get("limit")
	limit := float64(defaultEventLimit)
	if hasLimit {
		if n := jsToNumber(limitArg); n > 0 && n <= maxEventLimit {
			limit = n
		}
	}
	offset := 0.0
	if offsetArg, ok := get("offset"); ok {
		if n := jsToNumber(offsetArg); n > 0 {
			offset = n
		}
	}
	// The query builder then takes parseInt of each number.
	limit, _ = jsParseInt(limit)
	offset, _ = jsParseInt(offset)

	s.mu.Lock()
	var matched []*storedEvent
	for i := len(s.events) - 1; i >= 0; i-- {
		if f.matches(&s.events[i]) {
			matched = append(matched, &s.events[i])
		}
	}
	page := eventPage{Events: []eventJSON{}, Total: len(matched)}
	if offset < float64(len(matched)) {
		matched = matched[int(offset):]
		if limit < float64(len(matched)) {
			matched = matched[:int(limit)]
		}
		for _, e := range matched {
			label, summary := eventLabel(e.Type, e.CreatedBy)
			groupType := ""
			if e.groupID != "" {
				groupType = "transaction"
			}
			page.Events = append(page.Events, eventJSON{
				ID:              e.ID,
				Type:            e.Type,
				CreatedBy:       e.CreatedBy,
				CreatedAt:       formatTime(e.CreatedAt),
				CreatedByUserID: e.CreatedByUserID,
				Data:            e.data, // never changed once recorded
				PreData:         e.preData,
				Tags:            []string{},
				Project:         e.Project,
				Environment:     e.Environment,
				GroupType:       groupType,
				GroupID:         e.groupID,
				Label:           label,
				Summary:         summary,
			})
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, page)
}

// buildEventFilter turns the validated parameters into a filter, or
// returns the message of the error the real server would fail with: a
// JavaScript RangeError for a "to" day JavaScript cannot read, or the
// failed count query, as knex words it, when PostgreSQL cannot convert a
// value (a date out of range, a user or event id that is not an integer).
func buildEventFilter(get func(string) (string, bool)) (eventFilter, string) {
	var f eventFilter
	sql := &countQuery{}

	// A value "IS:" or "IS_ANY_OF:" with nothing after it filters nothing.
	values := func(name string) ([]string, bool) {
		v, ok := get(name)
		if !ok {
			return nil, false
		}
		_, rest, _ := strings.Cut(v, ":")
		if rest == "" {
			return nil, false
		}
		return strings.Split(rest, ","), true
	}

	if v, ok := values("from"); ok {
		y, m, d := splitDay(v[0])
		t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		f.from = &t
		sql.add(`"created_at" >= %s`, 1, pgDateError(y, m, d, v[0]))
	}
	if v, ok := values("to"); ok {
		// The server adds a day with JavaScript dates, which refuse a month
		// or day out of range but roll 02-30 over into March.
		y, m, d := splitDay(v[0])
		if m < 1 || m > 12 || d < 1 || d > 31 {
			return f, "Invalid time value"
		}
		t := time.Date(y, time.Month(m), d+1, 0, 0, 0, 0, time.UTC)
		f.to = &t
		next := fmt.Sprintf("%04d-%02d-%02d", t.Year(), int(t.Month()), t.Day())
		sql.add(`"created_at" < %s`, 1, pgDateError(t.Year(), int(t.Month()), t.Day(), next))
	}
	if v, ok := values("createdBy"); ok {
		f.createdBy = sql.ints("created_by_user_id", v)
	}
	for _, c := range []struct {
		param, column string
		dst           *[]string
	}{
		{"feature", "feature_name", &f.features},
		{"project", "project", &f.projects},
		{"type", "type", &f.types},
		{"environment", "environment", &f.envs},
	} {
		if v, ok := values(c.param); ok {
			*c.dst = v
			sql.in(c.column, len(v))
		}
	}
	if v, ok := values("id"); ok {
		f.ids = sql.ints("id", v)
	}
	// Added for every user that is not a root admin, which includes the
	// admin token's user.
	sql.where = append(sql.where, `not "project" is null`)
	if v, ok := get("query"); ok && v != "" {
		f.query = compileLike("%" + v + "%")
		f.queryTags = f.query.match("[]")
		sql.add(`(data::text ILIKE %s or tags::text ILIKE %s or pre_data::text ILIKE %s)`, 3, "")
	}
	if sql.err != "" {
		return f, sql.message()
	}
	return f, ""
}

// splitDay reads the digits of a validated "IS:yyyy-MM-dd".
func splitDay(v string) (y, m, d int) {
	y, _ = strconv.Atoi(v[0:4])
	m, _ = strconv.Atoi(v[5:7])
	d, _ = strconv.Atoi(v[8:10])
	return y, m, d
}

// pgDateError returns PostgreSQL's error for a timestamp given as the day
// text, or "" when it accepts it.
func pgDateError(y, m, d int, text string) string {
	ok := y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
	if ok {
		return ""
	}
	return fmt.Sprintf(`date/time field value out of range: "%s"`, text)
}

func daysIn(y, m int) int {
	if m == 2 && isLeap(y) {
		return 29
	}
	return daysInMonth[m]
}

// countQuery rebuilds the SQL of the server's count query, to word its
// error messages, and keeps the first conversion error in parameter order.
type countQuery struct {
	where []string
	n     int
	err   string
}

func (c *countQuery) param() string {
	c.n++
	return "$" + strconv.Itoa(c.n)
}

// add appends a condition with params placeholders and records err unless
// an earlier parameter already failed.
func (c *countQuery) add(format string, params int, err string) {
	ps := make([]any, params)
	for i := range ps {
		ps[i] = c.param()
	}
	c.where = append(c.where, fmt.Sprintf(format, ps...))
	if c.err == "" {
		c.err = err
	}
}

// in appends `"column" = $n`, or `"column" in ($n, ...)` for several values.
func (c *countQuery) in(column string, values int) {
	if values == 1 {
		c.add(`"`+column+`" = %s`, 1, "")
		return
	}
	ps := make([]string, values)
	for i := range ps {
		ps[i] = c.param()
	}
	c.where = append(c.where, `"`+column+`" in (`+strings.Join(ps, ", ")+`)`)
}

// ints appends the condition for an integer column and converts the
// values as PostgreSQL would.
func (c *countQuery) ints(column string, values []string) []int64 {
	c.in(column, len(values))
	out := make([]int64, 0, len(values))
	for _, v := range values {
		n, err := pgInt4(v)
		if err != "" && c.err == "" {
			c.err = err
		}
		out = append(out, n)
	}
	return out
}

func (c *countQuery) message() string {
	return `select count(*) from "events" where ` + strings.Join(c.where, " and ") +
		" limit " + c.param() + " - " + c.err
}

// pgInt4 converts v as PostgreSQL's integer input does (decimal digits with
// an optional sign, surrounding white space allowed), or returns its error.
func pgInt4(v string) (int64, string) {
	s := strings.Trim(v, " \t\n\r\v\f")
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || !allDigits(digits) {
		return 0, fmt.Sprintf(`invalid input syntax for type integer: "%s"`, v)
	}
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || !n.IsInt64() || n.Int64() < math.MinInt32 || n.Int64() > math.MaxInt32 {
		return 0, fmt.Sprintf(`value "%s" is out of range for type integer`, v)
	}
	return n.Int64(), ""
}

// matches reports whether e passes every filter of f.
func (f *eventFilter) matches(e *storedEvent) bool {
	if f.from != nil && e.CreatedAt.Before(*f.from) {
		return false
	}
	if f.to != nil && !e.CreatedAt.Before(*f.to) {
		return false
	}
	if f.createdBy != nil && !slices.Contains(f.createdBy, int64(e.CreatedByUserID)) {
		return false
	}
	if f.features != nil { // featureName is always null for token events
		return false
	}
	if f.projects != nil && !slices.Contains(f.projects, e.Project) ||
		f.types != nil && !slices.Contains(f.types, e.Type) ||
		f.envs != nil && !slices.Contains(f.envs, e.Environment) {
		return false
	}
	if f.ids != nil && !slices.Contains(f.ids, int64(e.ID)) {
		return false
	}
	if f.query != nil {
		// data::text, tags::text and pre_data::text; a null column never
		// matches.
		return e.data != nil && f.query.match(e.dataText) ||
			f.queryTags ||
			e.preData != nil && f.query.match(e.preDataText)
	}
	return true
}

// likePattern is a compiled case-insensitive LIKE pattern.
type likePattern []likeToken

type likeToken struct {
	r    rune // lower-cased, for 'c'
	kind byte // 'c' literal, '_' one, '%' any run
}

// compileLike compiles an ILIKE pattern: "%" is any run of characters, "_"
// any one, and a backslash makes the next character literal.
func compileLike(s string) likePattern {
	pattern := []rune(strings.ToLower(s))
	toks := likePattern{}
	for i := 0; i < len(pattern); i++ {
		switch r := pattern[i]; {
		case r == '\\' && i+1 < len(pattern):
			i++
			toks = append(toks, likeToken{pattern[i], 'c'})
		case r == '%':
			toks = append(toks, likeToken{kind: '%'})
		case r == '_':
			toks = append(toks, likeToken{kind: '_'})
		default:
			toks = append(toks, likeToken{r, 'c'})
		}
	}
	return toks
}

// match reports whether text matches p, ignoring case.
func (p likePattern) match(text string) bool {
	t := []rune(strings.ToLower(text))
	// Greedy matching with backtracking to the last "%".
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi].kind == '_' || p[pi].kind == 'c' && p[pi].r == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi].kind == '%':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi].kind == '%' {
		pi++
	}
	return pi == len(p)
}

// parseQueryString splits a query string the way the server's parser does:
// "+" is a space, and a value that does not percent-decode is kept as it
// is. A repeated name gives several values.
func parseQueryString(raw string) map[string][]string {
	out := map[string][]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = decodeQueryPart(k), decodeQueryPart(v)
		if k == "" {
			continue
		}
		out[k] = append(out[k], v)
	}
	return out
}

func decodeQueryPart(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if d, ok := decodeSegment(s); ok {
		return d
	}
	return s
}

// jsToNumber converts s as JavaScript's Number(s) does; NaN when it is not
// a number.
func jsToNumber(s string) float64 {
	s = strings.TrimFunc(s, isJSSpace)
	if s == "" {
		return 0
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			n, ok := new(big.Int).SetString(s[2:], base)
			if !ok || strings.ContainsAny(s[2:], "_+-") {
				return math.NaN()
			}
			f, _ := new(big.Float).SetInt(n).Float64()
			return f
		}
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if !jsDecimalRE.MatchString(s) {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s, 64) // out of range gives ±Inf or 0, as in JS
	return f
}

var jsDecimalRE = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// isJSSpace reports whether r is white space or a line terminator to
// JavaScript's String.prototype.trim.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a || unicode.Is(unicode.Zs, r)
}

// jsParseInt is parseInt(n, 10) for a number: the leading integer of its
// JavaScript text, so 2.7 gives 2 and 1e21 ("1e+21") gives 1. It reports
// false for NaN and the infinities.
func jsParseInt(n float64) (float64, bool) {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	s := jsNumber(n)
	sign := 1.0
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		sign, s = -1, rest
	}
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == 0 {
		return 0, false
	}
	f, _ := strconv.ParseFloat(s[:end], 64)
	return sign * f, true
}
