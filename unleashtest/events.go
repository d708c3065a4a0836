package unleashtest

import (
	"crypto/rand"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The event types a Server records, one for each successful change to a
// token.
const (
	EventAPITokenCreated = "api-token-created"
	EventAPITokenUpdated = "api-token-updated"
	EventAPITokenDeleted = "api-token-deleted"
)

// AdminTokenUserID is the user id the real server records as
// "createdByUserId" for changes made with an admin API token; it is what a
// createdBy filter of the event search has to name (IS:-42).
const AdminTokenUserID = -42

// adminTokenUserName is the "createdBy" of an event made with an admin API
// token: the token's name, which is "admin" for every admin token a Server
// holds.
const adminTokenUserName = "admin"

// Event is one entry of the Server's event log, as returned by
// Server.Events. Like the real server's, it never holds a token secret.
type Event struct {
	// ID numbers the events from 1 in the order they were recorded.
	ID int
	// Type is EventAPITokenCreated, EventAPITokenUpdated or
	// EventAPITokenDeleted.
	Type string
	// CreatedBy is "admin" and CreatedByUserID is AdminTokenUserID: only
	// admin API tokens can change tokens.
	CreatedBy       string
	CreatedByUserID int
	// CreatedAt is when the event was recorded (UTC, milliseconds).
	CreatedAt time.Time
	// Project and Environment are the token's: "*" for all projects, the
	// comma-joined ids for a token of several projects.
	Project     string
	Environment string
	// TokenName is the name of the token the event is about.
	TokenName string
}

// storedEvent is an Event with the token data the search endpoint returns.
type storedEvent struct {
	Event
	// data is the token after the change (nil for a delete), preData the
	// token before it (nil for a create), both without the secret.
	data, preData jsonObject
	// groupID is the ULID of the transaction the event was stored in, ""
	// for none: Unleash 8.2 changes tokens in secure storage in a
	// transaction, and its events then carry groupType "transaction" and
	// the transaction's id.
	groupID string
	// dataText and preDataText are what PostgreSQL's data::text and
	// pre_data::text give for them: the data column is json (the text as
	// Node wrote it), pre_data is jsonb (keys sorted, ", " and ": "
	// separators). Empty for null.
	dataText, preDataText string
}

// maxEvents bounds the event log: past it the oldest events are dropped, so
// that a Server's memory stays bounded however long it runs. Event ids go
// on counting.
const maxEvents = 20_000

// Events returns a copy of the Server's event log, oldest first: its most
// recent 20,000 events at most (older ones are dropped, as if a retention
// job had removed them; the ids of later events go on counting).
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Event, len(s.events))
	for i, e := range s.events {
		out[i] = e.Event
	}
	return out
}

// recordLocked appends an event about tok that happened at at; s.mu must be
// held (so the caller reads the clock before taking it: a clock function may
// call the Server). A nil data or preData stands for JSON null.
func (s *Server) recordLocked(at time.Time, typ string, tok Token, data, preData jsonObject) {
	s.lastEventID++
	e := storedEvent{
		Event: Event{
			ID:              s.lastEventID,
			Type:            typ,
			CreatedBy:       adminTokenUserName,
			CreatedByUserID: AdminTokenUserID,
			CreatedAt:       at,
			Project:         tok.Project,
			Environment:     tok.Environment,
			TokenName:       tok.TokenName,
		},
		data:    data,
		preData: preData.jsonbOrder(),
	}
	if tok.Secure {
		e.groupID = newULID(at)
	}
	if e.data != nil {
		e.dataText = e.data.text(false)
	}
	if e.preData != nil {
		e.preDataText = e.preData.text(true)
	}
	s.events = append(s.events, e)
	if drop := len(s.events) - maxEvents; drop > 0 {
		clear(s.events[:drop])
		s.events = s.events[drop:]
	}
}

// createdEventData is the "data" of an api-token-created event about a
// legacy token: the token as the create endpoint returns it, minus the
// secret. Its type is the one asked for (lower-cased), so "backend" stays
// "backend" here although the token is stored and listed as "client": the
// real server stores the very object it sends back. lead is the order of
// its first keys (see createdOrder).
func createdEventData(tok Token, askedType string, lead []string) jsonObject {
	var o jsonObject
	for _, k := range lead {
		switch k {
		case "tokenName":
			o = append(o, jsonField{k, tok.TokenName})
		case "environment":
			o = append(o, jsonField{k, tok.Environment})
		case "projects":
			o = append(o, jsonField{k, slices.Clone(tok.Projects)})
		case "expiresAt":
			if tok.ExpiresAt != nil {
				o = append(o, jsonField{k, formatTime(*tok.ExpiresAt)})
			}
		}
	}
	return append(o,
		jsonField{"type", askedType},
		jsonField{"alias", nil},
		jsonField{"project", tok.Project},
		jsonField{"createdAt", formatTime(tok.CreatedAt)},
		jsonField{"secure", false},
	)
}

// createdOrder returns the order of the first keys of a legacy token's
// create response, which follows the request body: the server's Joi
// schema keeps the body's keys it knows (type aside, which the service
// moves after the secret) in the order sent and appends the defaults it
// fills in. The project endpoint's schema drops "projects" and the
// endpoint then appends the path's project as "projects".
func createdOrder(body *jsonValue, projectEndpoint bool) []string {
	known := []string{"tokenName", "expiresAt", "environment", "projects"}
	defaults := []string{"projects", "environment"}
	if projectEndpoint {
		known = known[:3]
		defaults = []string{"environment", "projects"}
	}
	var out []string
	for _, m := range body.members {
		if slices.Contains(known, m.key) {
			out = append(out, m.key)
		}
	}
	for _, k := range defaults {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// storedEventData is a token as the real server reads it back from its
// database, minus the secret: the "data" of an update and the "preData" of
// an update or delete.
func storedEventData(tok Token) jsonObject {
	var expires any
	if tok.ExpiresAt != nil {
		expires = formatTime(*tok.ExpiresAt)
	}
	return jsonObject{
		{"tokenName", tok.TokenName},
		{"type", tok.Type},
		{"project", tok.Project},
		{"projects", slices.Clone(tok.Projects)},
		{"environment", tok.Environment},
		{"expiresAt", expires},
		{"createdAt", formatTime(tok.CreatedAt)},
		{"alias", nil},
		{"seenAt", timeOrNull(tok.SeenAt)},
		{"secure", false},
	}
}

func timeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

// secureTokenFields is a token in secure storage as Unleash 8.2 reads it
// back, minus the secret: what lists show after "secret". Fields it does
// not have are absent, not null.
func secureTokenFields(tok Token) jsonObject {
	o := jsonObject{
		{"tokenName", tok.TokenName},
		{"type", tok.Type},
		{"projects", slices.Clone(tok.Projects)},
		{"project", tok.Project},
		{"environment", tok.Environment},
	}
	if tok.ExpiresAt != nil {
		o = append(o, jsonField{"expiresAt", formatTime(*tok.ExpiresAt)})
	}
	o = append(o, jsonField{"createdAt", formatTime(tok.CreatedAt)})
	if tok.SeenAt != nil {
		o = append(o, jsonField{"seenAt", formatTime(*tok.SeenAt)})
	}
	return append(o, jsonField{"secure", true})
}

// secureEventData is the data (and preData) of an event about a token in
// secure storage: the token as read back, plus its selector (events never
// hold the secret) and "tokenVersion": 2.
func secureEventData(tok Token) jsonObject {
	return append(secureTokenFields(tok), jsonField{"selector", tok.Selector}, jsonField{"tokenVersion", 2})
}

// secureCreateResponse is the body of a create that put the token in
// secure storage, in the real server's key order: what the storage
// returned, the secret appended, and "project" last.
func secureCreateResponse(tok Token) jsonObject {
	o := jsonObject{
		{"projects", slices.Clone(tok.Projects)},
		{"tokenName", tok.TokenName},
		{"type", tok.Type},
		{"environment", tok.Environment},
	}
	if tok.ExpiresAt != nil {
		o = append(o, jsonField{"expiresAt", formatTime(*tok.ExpiresAt)})
	}
	return append(o,
		jsonField{"createdAt", formatTime(tok.CreatedAt)},
		jsonField{"secure", true},
		jsonField{"secret", tok.Secret},
		jsonField{"project", tok.Project},
	)
}

// eventLabel returns the "label" and "summary" the real server's markdown
// formatter gives an event. Its templates for created and deleted tokens
// name a field the event data lacks, hence the empty "****".
func eventLabel(typ, createdBy string) (label, summary string) {
	user := "**" + createdBy + "**"
	switch typ {
	case EventAPITokenCreated:
		return "API token created", user + " created API token ****"
	case EventAPITokenDeleted:
		return "API token deleted", user + " deleted API token ****"
	}
	return typ, user + " triggered **" + typ + "**"
}

// jsonField is one member of a jsonObject. value is a string, a []string, a
// bool, an int or nil (null).
type jsonField struct {
	key   string
	value any
}

// jsonObject is a JSON object that keeps its members in order.
type jsonObject []jsonField

// MarshalJSON writes o compactly, as JSON.stringify would; nil is null.
func (o jsonObject) MarshalJSON() ([]byte, error) {
	if o == nil {
		return []byte("null"), nil
	}
	return []byte(o.text(false)), nil
}

// jsonbOrder returns a copy of o with its keys in the order PostgreSQL's
// jsonb keeps them: shorter keys first, then bytewise.
func (o jsonObject) jsonbOrder() jsonObject {
	if o == nil {
		return nil
	}
	out := slices.Clone(o)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].key, out[j].key
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	})
	return out
}

// text renders o compactly, or with jsonb's ", " and ": " separators.
func (o jsonObject) text(jsonb bool) string {
	comma, colon := ",", ":"
	if jsonb {
		comma, colon = ", ", ": "
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteString(comma)
		}
		writeJSString(&b, f.key)
		b.WriteString(colon)
		switch v := f.value.(type) {
		case nil:
			b.WriteString("null")
		case bool:
			if v {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		case jsonObject:
			b.WriteString(v.text(jsonb))
		case int:
			b.WriteString(strconv.Itoa(v))
		case string:
			writeJSString(&b, v)
		case []string:
			b.WriteByte('[')
			for j, item := range v {
				if j > 0 {
					b.WriteString(comma)
				}
				writeJSString(&b, item)
			}
			b.WriteByte(']')
		}
	}
	b.WriteByte('}')
	return b.String()
}

// crockford is the alphabet of ULIDs.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newULID returns a ULID for time t: 48 bits of milliseconds and 80 random
// bits in 26 characters of Crockford's base 32.
func newULID(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	_, _ = rand.Read(b[6:])
	// 128 bits read as 26 five-bit digits, the first holding 3 bits.
	var out [26]byte
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 | uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
