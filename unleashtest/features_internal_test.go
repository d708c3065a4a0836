package unleashtest

import "testing"

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
