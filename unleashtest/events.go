package unleashtest

import (
	"slices"
	"sort"
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
	// dataText and preDataText are what PostgreSQL's data::text and
	// pre_data::text give for them: the data column is json (the text as
	// Node wrote it), pre_data is jsonb (keys sorted, ", " and ": "
	// separators). Empty for null.
	dataText, preDataText string
}

// Events returns a copy of the Server's event log, oldest first.
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
	if e.data != nil {
		e.dataText = e.data.text(false)
	}
	if e.preData != nil {
		e.preDataText = e.preData.text(true)
	}
	s.events = append(s.events, e)
}

// createdEventData is the "data" of an api-token-created event: the token
// as the create endpoint returns it, minus the secret. Its type is the one
// asked for (lower-cased), so "backend" stays "backend" here although the
// token is stored and listed as "client": the real server stores the very
// object it sends back.
func createdEventData(tok Token, askedType string) jsonObject {
	o := jsonObject{
		{"tokenName", tok.TokenName},
		{"environment", tok.Environment},
		{"projects", slices.Clone(tok.Projects)},
	}
	if tok.ExpiresAt != nil {
		o = append(o, jsonField{"expiresAt", formatTime(*tok.ExpiresAt)})
	}
	return append(o,
		jsonField{"type", askedType},
		jsonField{"alias", nil},
		jsonField{"project", tok.Project},
		jsonField{"createdAt", formatTime(tok.CreatedAt)},
		jsonField{"secure", false},
	)
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
		{"seenAt", nil},
		{"secure", false},
	}
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
// bool or nil (null).
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
