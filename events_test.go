package unleashadmin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// eventsBody is a page in the shape Unleash 8.2.0 answers, one event of
// each token type.
const eventsBody = `{"events":[
{"id":160,"type":"api-token-deleted","createdBy":"admin","createdAt":"2026-11-23T15:16:15.610Z","createdByUserId":-42,"data":null,"preData":{"type":"frontend","alias":null,"secure":false,"seenAt":null,"project":"default","projects":["default"],"createdAt":"2026-11-23T15:16:15.566Z","expiresAt":null,"tokenName":"qs-frontend","environment":"production"},"tags":[],"featureName":null,"project":"default","environment":"production","label":"API token deleted","summary":"**admin** deleted API token ****"},
{"id":158,"type":"api-token-updated","createdBy":"admin","createdAt":"2026-11-23T15:16:15.585Z","createdByUserId":-42,"data":{"tokenName":"qs-backend","type":"client","project":"*","projects":["*"],"environment":"development","expiresAt":"2027-02-21T15:16:15.579Z","createdAt":"2026-11-23T15:16:15.550Z","alias":null,"seenAt":null,"secure":false},"preData":{"type":"client","project":"*","projects":["*"],"createdAt":"2026-11-23T15:16:15.550Z","expiresAt":"2026-12-23T15:16:15.544Z","tokenName":"qs-backend","environment":"development"},"tags":[],"project":"*","environment":"development","label":"api-token-updated","summary":"**admin** triggered **api-token-updated**"},
{"id":157,"type":"api-token-created","createdBy":"admin","createdAt":"2026-11-23T15:16:15.569Z","createdByUserId":-42,"data":{"tokenName":"qs-frontend","environment":"production","projects":["default"],"type":"frontend","alias":null,"project":"default","createdAt":"2026-11-23T15:16:15.566Z","secure":false},"preData":null,"tags":[],"featureName":null,"project":"default","environment":"production","label":"API token created","summary":"**admin** created API token ****"}
],"total":3}`

func TestListTokenEventsQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts TokenEventsOptions
		want url.Values
	}{
		{TokenEventsOptions{}, url.Values{"type": {"IS_ANY_OF:api-token-created,api-token-updated,api-token-deleted"}}},
		{TokenEventsOptions{
			Types: []EventType{EventAPITokenCreated}, From: time.Date(2026, 11, 1, 23, 0, 0, 0, time.FixedZone("X", -3600)),
			To: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), CreatedBy: []int64{-42, 7}, Project: "default",
			Environment: "production", Query: "checkout svc", Offset: 100, Limit: 50,
		}, url.Values{
			"type": {"IS:api-token-created"}, "from": {"IS:2026-11-02"}, "to": {"IS:2026-11-30"},
			"createdBy": {"IS_ANY_OF:-42,7"}, "project": {"IS:default"}, "environment": {"IS:production"},
			"query": {"checkout svc"}, "offset": {"100"}, "limit": {"50"},
		}},
	}
	for _, tt := range tests {
		c, m := newTestClient(t, []reply{jsonReply(200, eventsBody)})
		if _, err := c.ListTokenEvents(context.Background(), tt.opts); err != nil {
			t.Fatal(err)
		}
		r := m.sent()[0]
		if r.Method != "GET" || r.Path != "/api/admin/search/events" || r.Header.Get("Authorization") != testKey {
			t.Errorf("sent %s %s", r.Method, r.Path)
		}
		if fmt.Sprint(r.Query) != fmt.Sprint(tt.want) {
			t.Errorf("query %v\nwant  %v", r.Query, tt.want)
		}
	}
}

func TestListTokenEventsDecodes(t *testing.T) {
	t.Parallel()
	c, _ := newTestClient(t, []reply{jsonReply(200, eventsBody)})
	page, err := c.ListTokenEvents(context.Background(), TokenEventsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || len(page.Events) != 3 {
		t.Fatalf("page %+v", page)
	}
	del, upd, cre := page.Events[0], page.Events[1], page.Events[2]
	if del.Type != EventAPITokenDeleted || del.Data != nil || del.Token().TokenName != "qs-frontend" || *del.CreatedByUserID != -42 || del.CreatedBy != "admin" {
		t.Errorf("delete event %+v", del)
	}
	if upd.Data.ExpiresAt == nil || upd.PreData.ExpiresAt == nil || !upd.Data.ExpiresAt.After(*upd.PreData.ExpiresAt) {
		t.Errorf("update event %+v", upd)
	}
	if cre.Type != EventAPITokenCreated || cre.PreData != nil || cre.Token().Type != TokenTypeFrontend || cre.Project != "default" || cre.ID != 157 {
		t.Errorf("create event %+v", cre)
	}
}

func TestListTokenEventsRejects(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, nil)
	for _, opts := range []TokenEventsOptions{
		{Limit: MaxEventsLimit + 1}, {Limit: -1}, {Offset: -1},
		{Types: []EventType{"feature-created"}},
		{From: time.Now(), To: time.Now().Add(-48 * time.Hour)},
		{Project: "a,b"}, {Environment: "development,production"},
	} {
		if _, err := c.ListTokenEvents(context.Background(), opts); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: err = %v", opts, err)
		}
	}
	if len(m.sent()) != 0 {
		t.Errorf("sent %d requests", len(m.sent()))
	}
}

// TestAllTokenEventsPages walks three pages and yields an event that a new
// event pushed onto the next page only once.
func TestAllTokenEventsPages(t *testing.T) {
	t.Parallel()
	ev := func(ids ...int) string {
		var parts []string
		for _, id := range ids {
			parts = append(parts, fmt.Sprintf(`{"id":%d,"type":"api-token-created","createdAt":"2026-11-23T15:00:00Z","data":{"tokenName":"t%d"}}`, id, id))
		}
		return strings.Join(parts, ",")
	}
	c, m := newTestClient(t, []reply{
		jsonReply(200, `{"events":[`+ev(10, 9)+`],"total":5}`),
		// Event 11 arrived: 9 is pushed onto this page again.
		jsonReply(200, `{"events":[`+ev(9, 8)+`],"total":6}`),
		jsonReply(200, `{"events":[`+ev(7, 6)+`],"total":6}`),
	})
	var ids []int64
	for e, err := range c.AllTokenEvents(context.Background(), TokenEventsOptions{Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	if fmt.Sprint(ids) != "[10 9 8 7 6]" {
		t.Errorf("ids %v", ids)
	}
	var offsets []string
	for _, r := range m.sent() {
		offsets = append(offsets, r.Query.Get("offset"))
	}
	if fmt.Sprint(offsets) != "[ 2 4]" {
		t.Errorf("offsets %q", offsets)
	}

	// An error is yielded once and ends the iteration; so does a break.
	c, m = newTestClient(t, []reply{jsonReply(200, `{"events":[`+ev(3, 2)+`],"total":9}`), jsonReply(403, `{"message":"no"}`)})
	n, errs := 0, 0
	for _, err := range c.AllTokenEvents(context.Background(), TokenEventsOptions{Limit: 2}) {
		if err != nil {
			errs++
			if !errors.Is(err, ErrForbidden) {
				t.Errorf("err %v", err)
			}
			continue
		}
		n++
	}
	if n != 2 || errs != 1 || len(m.sent()) != 2 {
		t.Errorf("%d events, %d errors, %d requests", n, errs, len(m.sent()))
	}
	c, m = newTestClient(t, []reply{jsonReply(200, `{"events":[`+ev(3, 2)+`],"total":9}`)})
	for range c.AllTokenEvents(context.Background(), TokenEventsOptions{Limit: 2}) {
		break
	}
	if len(m.sent()) != 1 {
		t.Errorf("a break still fetched %d pages", len(m.sent()))
	}
}

// TestListTokenEventsHidesTheSearchText checks that the free-text query,
// which may be anything, stays out of errors while it is sent as asked.
func TestListTokenEventsHidesTheSearchText(t *testing.T) {
	t.Parallel()
	c, m := newTestClient(t, []reply{jsonReply(400, `{"message":"bad"}`)})
	_, err := c.ListTokenEvents(context.Background(), TokenEventsOptions{Query: secretA})
	if err == nil || strings.Contains(err.Error(), randomOf(secretA)) || !strings.Contains(err.Error(), "query=redacted") {
		t.Errorf("error %v", err)
	}
	if got := m.sent()[0].Query.Get("query"); got != secretA {
		t.Errorf("sent query %q", got)
	}
}
