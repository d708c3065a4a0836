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
#   UNLEASH_FLEET     "yes" (the default) to run, after the per-server loop, the
#                     fleet test (TestFleetRealServers) against 8.2.0,
#                     8.2.0-secure and 6.10.1 running at once; empty for none
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
FLEET=${UNLEASH_FLEET-yes}
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
# The fleet's servers this script started, to stop again.
fleet_started=()
stop_fleet() {
  local s
  for s in "${fleet_started[@]}"; do
    UNLEASH_SERVER=$s scripts/unleash.sh stop
  done
  fleet_started=()
}
trap 'stop_current; stop_fleet' EXIT
trap 'stop_current; stop_fleet; exit 130' INT TERM

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

# The fleet: one file applied to three real servers running at once. Each
# is started unless it runs (each has its own port); the test gets their
# URLs and keys in UNLEASH_FLEET_{V8,V8SECURE,V6}_{URL,TOKEN}; those started
# here are stopped again.
if [ "$FLEET" = yes ]; then
  at=$SECONDS fleet_ok=yes
  unset UNLEASH_URL UNLEASH_API_TOKEN UNLEASH_SERVER UNLEASH_SOAK UNLEASH_STANDIN_SECURE
  for server in 8.2.0 8.2.0-secure 6.10.1; do
    running=yes
    UNLEASH_SERVER=$server scripts/unleash.sh status >/dev/null 2>&1 || running=no
    if ! exports=$(UNLEASH_SERVER=$server scripts/unleash.sh start); then
      summary+=("integration-real fleet: could not start $server")
      fleet_ok=no
      break
    fi
    if [ "$running" = no ]; then fleet_started+=("$server"); fi
    if grep -qv '^export UNLEASH_[A-Z_]*=' <<<"$exports"; then
      summary+=("integration-real fleet: scripts/unleash.sh start printed more than its export lines for $server")
      fleet_ok=no
      break
    fi
    case $server in
      8.2.0) var=V8 ;;
      8.2.0-secure) var=V8SECURE ;;
      6.10.1) var=V6 ;;
    esac
    url=$(eval "$exports"; printf %s "$UNLEASH_URL")
    key=$(eval "$exports"; printf %s "$UNLEASH_API_TOKEN")
    export "UNLEASH_FLEET_${var}_URL=$url" "UNLEASH_FLEET_${var}_TOKEN=$key"
  done
  if [ "$fleet_ok" = yes ]; then
    log="$LOG_DIR/fleet.log"
    say "fleet: testing ./cmd/unleash-tokens/ against 8.2.0, 8.2.0-secure and 6.10.1 at once"
    $GO test -race -count=1 -v -run '^TestFleetRealServers$' ./cmd/unleash-tokens/ >"$log" 2>&1
    rc=$?
    passed=$(grep -c -- '--- PASS' "$log")
    failed=$(grep -c -- '--- FAIL' "$log")
    skipped=$(grep -c -- '--- SKIP' "$log")
    line="integration-real fleet: $passed passed, $failed failed, $skipped skipped ($((SECONDS - at)) s)"
    if [ "$rc" != 0 ] || [ "$passed" = 0 ]; then
      status=1
      line="$line: FAILED, exit $rc"
      tail -n 60 "$log"
    fi
    say "$line"
    summary+=("$line")
  else
    status=1
  fi
  unset UNLEASH_FLEET_V8_URL UNLEASH_FLEET_V8_TOKEN UNLEASH_FLEET_V8SECURE_URL UNLEASH_FLEET_V8SECURE_TOKEN UNLEASH_FLEET_V6_URL UNLEASH_FLEET_V6_TOKEN
  stop_fleet
fi

echo
for line in "${summary[@]}"; do echo "$line"; done
say "all servers: $((SECONDS - begin)) s"
exit "$status"
