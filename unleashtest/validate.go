package unleashtest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// typePattern is the pattern the real server's request schema puts on "type".
const typePattern = "^([Cc][Ll][Ii][Ee][Nn][Tt]|[Bb][Aa][Cc][Kk][Ee][Nn][Dd]|[Ff][Rr][Oo][Nn][Tt][Ee][Nn][Dd])$"

// oneOfMessage is the extra detail the real server appends to every schema
// error on POST /api/admin/api-tokens, whose schema is wrapped in a oneOf.
const oneOfMessage = "The \"/body\" property must match exactly one schema in oneOf. " +
	"The data you provided matches more than one option in the schema. " +
	"These options are mutually exclusive. Please refer back to the schema and remove any excess properties."

// propKind is the JSON schema type of a request property.
type propKind int

const (
	propString propKind = iota
	propStringArray
)

// propRule describes one property of a request schema.
type propRule struct {
	name    string
	kind    propKind
	pattern bool // must match typePattern
	date    bool // must be an RFC 3339 date-time
}

// bodySchema is a small model of the request schemas the server validates
// with Ajv (allErrors off, coerceTypes on): the first problem found wins.
type bodySchema struct {
	required   []string
	properties []propRule
	oneOf      bool
}

var (
	// createSchema models createApiTokenSchema: the properties of its single
	// oneOf branch, in the order the server declares them.
	createSchema = bodySchema{
		required: []string{"type", "tokenName"},
		properties: []propRule{
			{name: "expiresAt", date: true},
			{name: "type", pattern: true},
			{name: "environment"},
			{name: "project"},
			{name: "projects", kind: propStringArray},
			{name: "tokenName"},
		},
		oneOf: true,
	}
	// projectCreateSchema models createProjectApiTokenSchema.
	projectCreateSchema = bodySchema{
		required: []string{"tokenName", "type"},
		properties: []propRule{
			{name: "type", pattern: true},
			{name: "environment"},
			{name: "expiresAt", date: true},
			{name: "tokenName"},
			{name: "projects", kind: propStringArray},
		},
	}
	// updateSchema models the body of PUT /api/admin/api-tokens/{secret}.
	updateSchema = bodySchema{
		required:   []string{"expiresAt"},
		properties: []propRule{{name: "expiresAt", date: true}},
	}
)

// validate checks body against the schema and returns the details of a
// BadDataError, or nil when the body is acceptable. Coerced values are
// written back into body, as Ajv does.
func (s bodySchema) validate(body *jsonValue) []errDetail {
	if body.kind != kindObject {
		return []errDetail{typeDetail("/body", "object", body)}
	}
	d := s.firstError(body)
	if d == nil {
		return nil
	}
	out := []errDetail{*d}
	if s.oneOf {
		out = append(out, errDetail{Message: oneOfMessage, Path: "/body"})
	}
	return out
}

func (s bodySchema) firstError(body *jsonValue) *errDetail {
	for _, name := range s.required {
		if body.get(name) == nil {
			path := "/body/" + name
			return &errDetail{
				Path:    path,
				Message: fmt.Sprintf("The `%s` property is required. It was not present on the data you sent.", path),
			}
		}
	}
	for _, p := range s.properties {
		v := body.get(p.name)
		if v == nil {
			continue
		}
		path := "/body/" + p.name
		switch p.kind {
		case propStringArray:
			if v.kind != kindArray {
				d := typeDetail(path, "array", v)
				return &d
			}
			for i, item := range v.items {
				str, ok := coerceString(item)
				if !ok {
					d := typeDetail(fmt.Sprintf("%s/%d", path, i), "string", item)
					return &d
				}
				*item = jsonValue{kind: kindString, str: str}
			}
		case propString:
			str, ok := coerceString(v)
			if !ok {
				d := typeDetail(path, "string", v)
				return &d
			}
			*v = jsonValue{kind: kindString, str: str}
			if p.pattern && !matchesTypePattern(str) {
				return &errDetail{
					Path:    path,
					Message: fmt.Sprintf("The `%s` property must match pattern \"%s\". You sent %s.", path, typePattern, v.stringify()),
				}
			}
			if p.date && !isDateTime(str) {
				return &errDetail{
					Path:    path,
					Message: fmt.Sprintf("The `%s` property must match format \"date-time\". You sent %s.", path, v.stringify()),
				}
			}
		}
	}
	return nil
}

func typeDetail(path, want string, v *jsonValue) errDetail {
	return errDetail{
		Path:    path,
		Message: fmt.Sprintf("The `%s` property must be %s. You sent %s.", path, want, v.stringify()),
	}
}

// matchesTypePattern reports whether s is client, backend or frontend in any
// letter case (the pattern is anchored, so nothing else may surround it).
func matchesTypePattern(s string) bool {
	switch strings.ToLower(s) {
	case "client", "backend", "frontend":
		// ToLower would also map some non-ASCII letters; make sure the
		// input itself was ASCII.
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return false
			}
		}
		return true
	}
	return false
}

var daysInMonth = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// dateTimeParts holds the fields of a string accepted by isDateTime.
type dateTimeParts struct {
	year, month, day  int
	hour, minute, sec int
	frac              string // fraction digits, possibly empty
	offsetSign        int
	offsetH, offsetM  int
}

// splitDateTime applies the "date-time" format of ajv-formats (full mode):
// a date, one "T", "t" or whitespace separator, and a time with a mandatory
// zone ("Z", "z", ±hh, ±hhmm or ±hh:mm).
func splitDateTime(s string) (dateTimeParts, bool) {
	var p dateTimeParts
	sep := -1
	for i, r := range s {
		if r == 'T' || r == 't' || unicode.IsSpace(r) {
			if sep >= 0 {
				return p, false
			}
			sep = i
		}
	}
	if sep < 0 {
		return p, false
	}
	// The separator may be a multi-byte space.
	_, size := utf8.DecodeRuneInString(s[sep:])
	date, clock := s[:sep], s[sep+size:]
	if len(date) != 10 || date[4] != '-' || date[7] != '-' ||
		!allDigits(date[:4]) || !allDigits(date[5:7]) || !allDigits(date[8:]) {
		return p, false
	}
	p.year, _ = strconv.Atoi(date[:4])
	p.month, _ = strconv.Atoi(date[5:7])
	p.day, _ = strconv.Atoi(date[8:])
	if p.month < 1 || p.month > 12 || p.day < 1 {
		return p, false
	}
	if p.day > daysIn(p.year, p.month) {
		return p, false
	}
	// hh:mm:ss[.fff](z|±hh[[:]mm])
	if len(clock) < 9 || clock[2] != ':' || clock[5] != ':' ||
		!allDigits(clock[:2]) || !allDigits(clock[3:5]) || !allDigits(clock[6:8]) {
		return p, false
	}
	p.hour, _ = strconv.Atoi(clock[:2])
	p.minute, _ = strconv.Atoi(clock[3:5])
	p.sec, _ = strconv.Atoi(clock[6:8])
	rest := clock[8:]
	if strings.HasPrefix(rest, ".") {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return p, false
		}
		p.frac = rest[1:n]
		rest = rest[n:]
	}
	switch {
	case rest == "Z" || rest == "z":
		p.offsetSign = 1
	case len(rest) >= 3 && (rest[0] == '+' || rest[0] == '-') && allDigits(rest[1:3]):
		p.offsetSign = 1
		if rest[0] == '-' {
			p.offsetSign = -1
		}
		p.offsetH, _ = strconv.Atoi(rest[1:3])
		tail := rest[3:]
		tail = strings.TrimPrefix(tail, ":")
		switch {
		case tail == "" && len(rest) == 3:
		case len(tail) == 2 && allDigits(tail):
			p.offsetM, _ = strconv.Atoi(tail)
		default:
			return p, false
		}
	default:
		return p, false
	}
	if p.offsetH > 23 || p.offsetM > 59 {
		return p, false
	}
	if p.hour <= 23 && p.minute <= 59 && p.sec < 60 {
		return p, true
	}
	// A leap second is allowed when it falls on 23:59:60 UTC.
	utcMin := p.minute - p.offsetM*p.offsetSign
	utcHr := p.hour - p.offsetH*p.offsetSign
	if utcMin < 0 {
		utcHr--
	}
	if (utcHr == 23 || utcHr == -1) && (utcMin == 59 || utcMin == -1) && p.sec < 61 {
		return p, true
	}
	return p, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isDateTime reports whether s passes the server's "date-time" format check.
func isDateTime(s string) bool {
	_, ok := splitDateTime(s)
	return ok
}

// parseDateTime converts a string accepted by isDateTime to a UTC instant
// with millisecond precision (extra fraction digits are cut off).
func parseDateTime(s string) (time.Time, bool) {
	p, ok := splitDateTime(s)
	if !ok {
		return time.Time{}, false
	}
	ms := 0
	if p.frac != "" {
		f := (p.frac + "00")[:3]
		ms, _ = strconv.Atoi(f)
	}
	// time.Date normalises out-of-range fields such as a leap second.
	t := time.Date(p.year, time.Month(p.month), p.day, p.hour, p.minute, p.sec,
		ms*int(time.Millisecond), time.UTC)
	offset := time.Duration(p.offsetSign) * (time.Duration(p.offsetH)*time.Hour + time.Duration(p.offsetM)*time.Minute)
	return t.Add(-offset), true
}

// formatTime writes t as JavaScript's Date.prototype.toISOString does.
func formatTime(t time.Time) string {
	t = t.UTC().Truncate(time.Millisecond)
	y := t.Year()
	var year string
	switch {
	case y < 0:
		year = fmt.Sprintf("-%06d", -y)
	case y > 9999:
		year = fmt.Sprintf("+%06d", y)
	default:
		year = fmt.Sprintf("%04d", y)
	}
	return year + t.Format("-01-02T15:04:05.000Z")
}
