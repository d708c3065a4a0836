#!/usr/bin/env bash
# Runs the test packages that take a real Unleash against every server of the
# matrix, one server at a time: start it with scripts/unleash.sh (unless it
# already runs), run the packages against it, print one line of results,
# stop it again (only if this script started it).
#
# Usage: scripts/integration-real.sh
#
# Settings, all optional:
#   UNLEASH_SERVERS   the servers, in order (default: every one scripts/unleash.sh
#                     knows: 8.2.0 8.2.0-secure 7.6.5 6.10.1 5.12.8)
#   REAL_PACKAGES     the Go packages to test (default below)
#   UNLEASH_SOAK      how long the soak runs, against 8.2.0 only (default 60s;
#                     empty for none)
#   GO                the go command (default go)
#   LOG_DIR           where each server's full test output goes (default: a
#                     folder under the system temp directory)
#
# Exit status: 0 when every package passed against every server.
set -uo pipefail

cd "$(dirname "$0")/.."
SERVERS=${UNLEASH_SERVERS:-"8.2.0 8.2.0-secure 7.6.5 6.10.1 5.12.8"}
PACKAGES=${REAL_PACKAGES:-"./integration/ ./cmd/unleash-tokens/ ./hygiene/"}
SOAK=${UNLEASH_SOAK-60s}
GO=${GO:-go}
LOG_DIR=${LOG_DIR:-${TMPDIR:-/tmp}/unleashadmin-integration}
mkdir -p "$LOG_DIR"

say() { printf '[integration-real] %s\n' "$*"; }

current='' started=no
stop_current() {
  if [ "$started" = yes ] && [ -n "$current" ]; then
    UNLEASH_SERVER=$current scripts/unleash.sh stop
  fi
  started=no
}
trap stop_current EXIT
trap 'stop_current; exit 130' INT TERM

summary=() status=0 begin=$SECONDS
for server in $SERVERS; do
  current=$server started=no
  at=$SECONDS
  UNLEASH_SERVER=$server scripts/unleash.sh status >/dev/null 2>&1 || started=yes
  if ! exports=$(UNLEASH_SERVER=$server scripts/unleash.sh start); then
    summary+=("integration-real $server: could not start the server")
    status=1
    started=no
    continue
  fi
  if grep -qv '^export UNLEASH_[A-Z_]*=' <<<"$exports"; then
    summary+=("integration-real $server: scripts/unleash.sh start printed more than its export lines")
    status=1
    stop_current
    continue
  fi
  # The server's own variables, and nothing else from a caller's
  # environment that could point the tests elsewhere.
  unset UNLEASH_URL UNLEASH_API_TOKEN UNLEASH_SERVER UNLEASH_SOAK UNLEASH_STANDIN_SECURE
  eval "$exports"
  if [ "$server" = 8.2.0 ] && [ -n "$SOAK" ]; then
    export UNLEASH_SOAK=$SOAK
  fi
  log="$LOG_DIR/$server.log"
  say "$server: testing $PACKAGES against $UNLEASH_URL"
  # -p=1: the soak compares the server's whole token list before and after,
  # so no other package may add tokens meanwhile.
  # shellcheck disable=SC2086
  $GO test -race -count=1 -p=1 -v $PACKAGES >"$log" 2>&1
  rc=$?
  passed=$(grep -c -- '--- PASS' "$log")
  failed=$(grep -c -- '--- FAIL' "$log")
  skipped=$(grep -c -- '--- SKIP' "$log")
  line="integration-real $server: $passed passed, $failed failed, $skipped skipped ($((SECONDS - at)) s)"
  if [ "$rc" != 0 ]; then
    status=1
    line="$line: FAILED, exit $rc"
    say "$server failed; its failing tests and the end of the log:"
    grep -E -- '--- FAIL|^(FAIL|panic|ok )' "$log" | head -40
    tail -n 60 "$log"
  fi
  grep -E '^(soak|integration): ' "$log" | head -20
  say "$line"
  summary+=("$line")
  stop_current
done

echo
for line in "${summary[@]}"; do echo "$line"; done
say "all servers: $((SECONDS - begin)) s"
exit "$status"
