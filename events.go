package unleashadmin

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-querystring/query"
)

// EventType is the type of an event in Unleash's event log.
type EventType string

// The events Unleash records for API tokens.
const (
	EventAPITokenCreated EventType = "api-token-created"
	EventAPITokenUpdated EventType = "api-token-updated"
	EventAPITokenDeleted EventType = "api-token-deleted"
)

var tokenEventTypes = []EventType{EventAPITokenCreated, EventAPITokenUpdated, EventAPITokenDeleted}

// ParseEventType returns the token event type named by s: its full name
// ("api-token-created") or the short one ("created", "updated",
// "deleted"), in any letter case. Anything else is an ErrInvalidArgument
// error naming the accepted words.
func ParseEventType(s string) (EventType, error) {
	short := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "api-token-")
	if e := EventType("api-token-" + short); slices.Contains(tokenEventTypes, e) {
		return e, nil
	}
	return "", invalidArg("ParseEventType", "event type must be created, updated or deleted, not %q", s)
}

// MaxEventsLimit is the largest page Unleash serves. It silently answers a
// larger limit with its default page of 50, so a larger Limit is refused
// here.
const MaxEventsLimit = 1000

// TokenEventsOptions filters ListTokenEvents and AllTokenEvents. Zero
// fields do not filter.
type TokenEventsOptions struct {
	// Types narrows the token events; empty means all three.
	Types []EventType
	// From and To bound the day the event happened (UTC), both days
	// included. Unleash filters on whole days.
	From, To time.Time
	// CreatedBy holds user IDs (Event.CreatedByUserID). Unleash compares
	// them as numbers: it fails with a 500 when given a name.
	CreatedBy []int64
	// Project and Environment match the token's project or environment.
	Project     string
	Environment string
	// Query is a free-text search in the event's data, such as a token name.
	Query string
	// Offset skips that many events. Limit is the page size, at most
	// MaxEventsLimit; 0 leaves the server's default of 50 (AllTokenEvents
	// then uses pages of 100).
	Offset, Limit int
}

// eventSearch is the query string of GET /api/admin/search/events.
type eventSearch struct {
	Type        anyOf  `url:"type,omitempty"`
	From        day    `url:"from,omitempty"`
	To          day    `url:"to,omitempty"`
	CreatedBy   anyOf  `url:"createdBy,omitempty"`
	Project     anyOf  `url:"project,omitempty"`
	Environment anyOf  `url:"environment,omitempty"`
	Query       string `url:"query,omitempty"`
	Offset      int    `url:"offset,omitempty"`
	Limit       int    `url:"limit,omitempty"`
}

// anyOf encodes as Unleash's filter operators: "IS:a" or "IS_ANY_OF:a,b".
type anyOf []string

func (a anyOf) EncodeValues(key string, v *url.Values) error {
	switch len(a) {
	case 0:
	case 1:
		v.Set(key, "IS:"+a[0])
	default:
		v.Set(key, "IS_ANY_OF:"+strings.Join(a, ","))
	}
	return nil
}

// day encodes a date as Unleash's "IS:yyyy-MM-dd".
type day time.Time

func (d day) IsZero() bool { return time.Time(d).IsZero() }

func (d day) EncodeValues(key string, v *url.Values) error {
	v.Set(key, "IS:"+time.Time(d).UTC().Format(time.DateOnly))
	return nil
}

// Event is one entry of Unleash's event log for a token. Data is the token
// after the change (nil for a delete), PreData the token before it (nil for
// a create); Unleash leaves the secret out of both. Unleash 8.2 records an
// expiry update of a project token with project "*" in Data and in the
// event's Project; PreData has the token's real projects.
type Event struct {
	ID              int64     `json:"id"`
	Type            EventType `json:"type"`
	CreatedBy       string    `json:"createdBy"`
	CreatedByUserID *int64    `json:"createdByUserId,omitempty"`
	CreatedAt       time.Time `json:"createdAt"`
	Project         string    `json:"project,omitempty"`
	Environment     string    `json:"environment,omitempty"`
	Label           string    `json:"label,omitempty"`
	Summary         string    `json:"summary,omitempty"`
	Data            *APIToken `json:"data,omitempty"`
	PreData         *APIToken `json:"preData,omitempty"`
}

// Token returns the token the event is about: Data, or PreData for a delete.
func (e Event) Token() *APIToken {
	if e.Data != nil {
		return e.Data
	}
	return e.PreData
}

// EventPage is one page of events, newest first, and the number of events
// that match the filter in all.
type EventPage struct {
	Events []Event `json:"events"`
	Total  int     `json:"total"`
}

// ListTokenEvents returns one page of API-token events (created, updated,
// deleted), newest first.
//
// Unleash API docs: https://docs.getunleash.io/api/search-events
func (c *Client) ListTokenEvents(ctx context.Context, opts TokenEventsOptions) (*EventPage, error) {
	p, err := eventsPath(opts)
	if err != nil {
		return nil, err
	}
	var page EventPage
	if err := c.do(ctx, http.MethodGet, p, nil, &page); err != nil {
		return nil, err
	}
	if page.Events == nil {
		page.Events = []Event{}
	}
	return &page, nil
}

// AllTokenEvents iterates over every API-token event that matches opts,
// newest first, fetching pages as it goes. An error ends the iteration
// after it is yielded. Events that a new event pushes onto the next page
// while iterating are yielded once.
func (c *Client) AllTokenEvents(ctx context.Context, opts TokenEventsOptions) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		if opts.Limit == 0 {
			opts.Limit = 100
		}
		seen := map[int64]bool{}
		for {
			page, err := c.ListTokenEvents(ctx, opts)
			if err != nil {
				yield(Event{}, err)
				return
			}
			fresh := 0
			for _, e := range page.Events {
				if seen[e.ID] {
					continue
				}
				seen[e.ID] = true
				fresh++
				if !yield(e, nil) {
					return
				}
			}
			opts.Offset += len(page.Events)
			// A page with nothing new ends the walk too: a server (or a
			// proxy's cache) that repeats one page would never let it end.
			if fresh == 0 || len(page.Events) < opts.Limit || opts.Offset >= page.Total {
				return
			}
		}
	}
}

func eventsPath(opts TokenEventsOptions) (apiPath, error) {
	const op = "ListTokenEvents"
	q := eventSearch{
		From: day(opts.From), To: day(opts.To),
		Query: opts.Query, Offset: opts.Offset, Limit: opts.Limit,
	}
	switch {
	case opts.Offset < 0:
		return apiPath{}, invalidArg(op, "Offset %d is negative", opts.Offset)
	case opts.Limit < 0 || opts.Limit > MaxEventsLimit:
		return apiPath{}, invalidArg(op, "Limit %d is outside 0..%d", opts.Limit, MaxEventsLimit)
	case !opts.From.IsZero() && !opts.To.IsZero() && opts.To.Before(opts.From):
		return apiPath{}, invalidArg(op, "To is before From")
	}
	types := opts.Types
	if len(types) == 0 {
		types = tokenEventTypes
	}
	for _, t := range types {
		if !slices.Contains(tokenEventTypes, t) {
			return apiPath{}, invalidArg(op, "%q is not an API-token event type", t)
		}
		q.Type = append(q.Type, string(t))
	}
	for _, id := range opts.CreatedBy {
		q.CreatedBy = append(q.CreatedBy, strconv.FormatInt(id, 10))
	}
	for name, v := range map[string]string{"Project": opts.Project, "Environment": opts.Environment} {
		if strings.Contains(v, ",") {
			return apiPath{}, invalidArg(op, "%s %q holds a comma", name, v)
		}
	}
	if opts.Project != "" {
		q.Project = anyOf{opts.Project}
	}
	if opts.Environment != "" {
		q.Environment = anyOf{opts.Environment}
	}
	values, err := query.Values(q)
	if err != nil {
		return apiPath{}, invalidArg(op, "encoding the query: %v", err)
	}
	// The free text may hold anything a caller searches for, a secret
	// included: errors and logs show the rest of the query without it.
	// Unleash 5 has no event search.
	p := route("/api/admin/search/events").notInEveryVersion().query(values, "query")
	if opts.Query != "" {
		// What a server or proxy echoes of the search text is cleaned too.
		p = p.carrying(opts.Query)
	}
	return p, nil
}
