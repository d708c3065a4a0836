// Package benchreal holds benchmarks that measure the SDK's share of a real
// round trip: create, list and delete made through unleashadmin and through
// plain net/http + encoding/json against a running Unleash, in one run.
//
// They need UNLEASH_URL and UNLEASH_API_TOKEN (an admin key) and skip with a
// message without them:
//
//	eval "$(scripts/unleash.sh start)"
//	go test -run '^$' -bench . -benchmem -benchtime 40x ./benchreal
//
// Every token they create is named unleashadmin-bench-<run>-<n> and deleted
// again, at most 25 existing at a time; leftovers of an interrupted run
// (older than an hour) are deleted at the next start.
// The directory also holds ratios, the program that turns benchmark output
// into the SDK/raw table (see BENCHMARKS.md).
package benchreal
