package unleashtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestQueryHash checks hashSum against the queryHash of real Unleash 8.2.0
// responses (testdata/captures-8.2.0 and docs/SERVERS.md) and against the
// npm package hash-sum 2.0.0 run by hand on the same query objects (the
// last two, for eleven projects and non-ASCII names).
func TestQueryHash(t *testing.T) {
	for _, tc := range []struct {
		q    featuresQuery
		want string
	}{
		{featuresQuery{environment: "development", inlineSegmentConstraints: true}, "76d8bb0e"},
		{featuresQuery{project: []string{"default"}, environment: "development", inlineSegmentConstraints: true}, "6ef7ec5a"},
		{featuresQuery{project: []string{"default"}, environment: "production", inlineSegmentConstraints: true}, "9e6ab8a8"},
		{featuresQuery{project: []string{"default", "second"}, environment: "production", inlineSegmentConstraints: true}, "ac7d2ac0"},
		{featuresQuery{project: []string{"default", "second"}, environment: "production"}, "8ebbb2ce"},
		{featuresQuery{inlineSegmentConstraints: true}, "ae443048"},
		{featuresQuery{project: []string{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10"}, environment: "production", inlineSegmentConstraints: true}, "3b72d2a0"},
		{featuresQuery{project: []string{"ünï"}, environment: "dév"}, "0ed78666"},
	} {
		if got := tc.q.hashSum(); got != tc.want {
			t.Errorf("hashSum(%+v) = %s, want %s", tc.q, got, tc.want)
		}
	}
}

// TestDeleteDropsUnwrittenUse checks that a deleted token's use waiting
// for the seenAt job is dropped with it, so that a long interval cannot
// pile up the uses of deleted tokens.
func TestDeleteDropsUnwrittenUse(t *testing.T) {
	s := NewTestServer(t, WithSeenAtInterval(24*time.Hour))
	call := func(method, path, key, body string) []byte {
		t.Helper()
		req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", key)
		req.Header.Set("Content-Type", "application/json")
		res, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
		}
		return b
	}
	unwritten := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.unwritten)
	}
	for _, del := range []string{"/api/admin/api-tokens/", "/api/admin/projects/default/api-tokens/"} {
		var tok struct{ Secret string }
		if err := json.Unmarshal(call("POST", "/api/admin/projects/default/api-tokens", s.AdminKey(), `{"tokenName":"c","type":"client"}`), &tok); err != nil {
			t.Fatal(err)
		}
		call("GET", "/api/client/features", tok.Secret, "")
		if n := unwritten(); n != 1 {
			t.Fatalf("%d unwritten uses after one use", n)
		}
		call("DELETE", del+url.PathEscape(tok.Secret), s.AdminKey(), "")
		if n := unwritten(); n != 0 {
			t.Errorf("DELETE %s: %d unwritten uses left", del, n)
		}
	}
}
