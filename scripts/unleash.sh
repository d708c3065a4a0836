#!/usr/bin/env bash
# Runs a real open-source Unleash server (npm package unleash-server, pinned in
# scripts/unleash/<version>/package-lock.json) on 127.0.0.1 for integration
# tests, backed by PostgreSQL from Debian's packages.
#
# Usage: [UNLEASH_SERVER=<server>] scripts/unleash.sh start|stop|status
#
#   start   installs what is missing, starts the server and waits until it is
#           healthy; if it already runs it only prints the values. On success
#           stdout carries exactly three lines meant for eval (UNLEASH_URL,
#           UNLEASH_API_TOKEN, UNLEASH_SERVER):
#               eval "$(scripts/unleash.sh start)"
#   status  exit 0 and the same lines when the server is up, is the version
#           asked for and accepts the admin token, non-zero otherwise
#   stop    stops the server this script started (by its pidfile); fine when
#           nothing runs
#
# UNLEASH_SERVER picks one of these; each has its own port, database, pidfile
# and log, so several can run at once on the one PostgreSQL cluster:
#
#   server        port  database              install (lockfile folder)
#   8.2.0         4242  unleash               8.2.0   (the default)
#   8.2.0-secure  4243  unleash_8_2_0_secure  8.2.0   with UNLEASH_EXPERIMENTAL_SECURE_TOKEN=true
#   7.6.5         4244  unleash_7_6_5         7.6.5
#   6.10.1        4245  unleash_6_10_1        6.10.1
#   5.12.8        4246  unleash_5_12_8        5.12.8
#
# Progress messages go to stderr. Settings, all optional:
#   UNLEASH_SERVER      which server (default 8.2.0, see the table)
#   UNLEASH_PORT        port on 127.0.0.1 (default: the server's, see the table)
#   UNLEASH_DIR         scratch folder for the installs (one subfolder per
#                       lockfile folder), pidfiles and logs
#                       (default /tmp/unleashadmin-server)
#   UNLEASH_API_TOKEN   admin API token created on an empty database
#                       (default '*:*.unleash-insecure-admin-api-token')
#   DB_NAME             PostgreSQL database (default: the server's, see the table)
#   DB_USER, DB_PASSWORD   PostgreSQL role (default unleash/unleash)
#   RESET_DB=1          drop and recreate the database before starting
#   HEALTH_TIMEOUT      seconds to wait for GET /health (default 120)
#   INSTALL_TIMEOUT     seconds allowed for apt-get and npm ci each (default 900)
#   STOP_POSTGRES=1     make `stop` also stop the PostgreSQL cluster
#   LOG_LEVEL           Unleash log level (default warn)
#
# Needs Node.js 20 or newer with npm (the 5.x and 6.x servers declare node
# <21, the 7.x and 8.x ones >=22; all of them run on Node.js 20). Installing
# PostgreSQL and creating the database need root (or passwordless sudo).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ASSETS_ROOT="$SCRIPT_DIR/unleash"

UNLEASH_SERVER=${UNLEASH_SERVER:-8.2.0}
# Per server: npm version (also the lockfile folder), default port, default
# database, and extra environment for the server process.
SERVER_ENV=()
case "$UNLEASH_SERVER" in
  8.2.0)        SERVER_VERSION=8.2.0  DEFAULT_PORT=4242 DEFAULT_DB=unleash ;;
  8.2.0-secure) SERVER_VERSION=8.2.0  DEFAULT_PORT=4243 DEFAULT_DB=unleash_8_2_0_secure
                SERVER_ENV=(UNLEASH_EXPERIMENTAL_SECURE_TOKEN=true) ;;
  7.6.5)        SERVER_VERSION=7.6.5  DEFAULT_PORT=4244 DEFAULT_DB=unleash_7_6_5 ;;
  6.10.1)       SERVER_VERSION=6.10.1 DEFAULT_PORT=4245 DEFAULT_DB=unleash_6_10_1 ;;
  5.12.8)       SERVER_VERSION=5.12.8 DEFAULT_PORT=4246 DEFAULT_DB=unleash_5_12_8 ;;
  *)
    printf '[unleash.sh] error: UNLEASH_SERVER must be one of 8.2.0 8.2.0-secure 7.6.5 6.10.1 5.12.8, got %s\n' \
      "'$UNLEASH_SERVER'" >&2
    exit 2
    ;;
esac
ASSETS="$ASSETS_ROOT/$SERVER_VERSION"

UNLEASH_PORT=${UNLEASH_PORT:-$DEFAULT_PORT}
UNLEASH_DIR=${UNLEASH_DIR:-/tmp/unleashadmin-server}
UNLEASH_API_TOKEN=${UNLEASH_API_TOKEN:-'*:*.unleash-insecure-admin-api-token'}
DB_NAME=${DB_NAME:-$DEFAULT_DB}
DB_USER=${DB_USER:-unleash}
DB_PASSWORD=${DB_PASSWORD:-unleash}
RESET_DB=${RESET_DB:-0}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
INSTALL_TIMEOUT=${INSTALL_TIMEOUT:-900}
STOP_POSTGRES=${STOP_POSTGRES:-0}
LOG_LEVEL=${LOG_LEVEL:-warn}

BASE_URL="http://127.0.0.1:$UNLEASH_PORT"
# One install per lockfile folder (8.2.0 and 8.2.0-secure share one); the
# entry point is copied in under the server's name, so that the command line
# of a running server tells which server it is.
INSTALL_DIR="$UNLEASH_DIR/$SERVER_VERSION"
ENTRY="$INSTALL_DIR/server-$UNLEASH_SERVER.mjs"
PIDFILE="$UNLEASH_DIR/server-$UNLEASH_SERVER-$UNLEASH_PORT.pid"
LOGFILE="$UNLEASH_DIR/server-$UNLEASH_SERVER-$UNLEASH_PORT.log"
STAMP="$INSTALL_DIR/.installed"
# Earlier versions of this script ran 8.2.0 from UNLEASH_DIR itself with
# these files; such a server is still recognised (and stopped) as ours.
LEGACY_PIDFILE="$UNLEASH_DIR/server-$UNLEASH_PORT.pid"
LEGACY_ENTRY="$UNLEASH_DIR/server.mjs"
# The second project that integration tests rely on (the OSS server has no
# API to create projects, so it is inserted straight into the database).
SEED_PROJECT=second

PG_VER='' PG_CLUSTER='' PG_PORT=''

say() { printf '[unleash.sh] %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Wraps a value in single quotes so that the shell reads it back unchanged.
shell_quote() {
  local s=${1//\'/\'\\\'\'}
  printf "'%s'" "$s"
}

# Writes to fd 3, the script's real stdout (see the end of this file).
print_exports() {
  printf 'export UNLEASH_URL=%s\n' "$BASE_URL" >&3
  printf 'export UNLEASH_API_TOKEN=%s\n' "$(shell_quote "$UNLEASH_API_TOKEN")" >&3
  printf 'export UNLEASH_SERVER=%s\n' "$UNLEASH_SERVER" >&3
}

show_log_tail() {
  if [ -s "$LOGFILE" ]; then
    say "last lines of $LOGFILE:"
    tail -n 40 "$LOGFILE" >&2
  fi
}

# HTTP status code of a GET, or 000 when nothing answers (2 s cap per call).
http_code() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" 2>/dev/null || true
}

is_healthy() { [ "$(http_code "$BASE_URL/health")" = 200 ]; }

token_accepted() {
  [ "$(http_code -H "Authorization: $UNLEASH_API_TOKEN" "$BASE_URL/api/admin/api-tokens")" = 200 ]
}

# The server that answers is the one asked for: GET /api/admin/ui-config
# (admin token) reports its version, and on 8.x whether the secure token
# storage is on (flags.secureTokenStorage).
version_matches() {
  local body
  body=$(curl -s --max-time 5 -H "Authorization: $UNLEASH_API_TOKEN" "$BASE_URL/api/admin/ui-config" 2>/dev/null || true)
  [[ $body == *"\"version\":\"$SERVER_VERSION\""* ]] || return 1
  case "$UNLEASH_SERVER" in
    *-secure) [[ $body == *'"secureTokenStorage":true'* ]] ;;
    8.*) [[ $body != *'"secureTokenStorage":true'* ]] ;;
  esac
}

# Something (anything) accepts TCP connections on our port.
port_in_use() { timeout 2 bash -c ": >/dev/tcp/127.0.0.1/$UNLEASH_PORT" 2>/dev/null; }

# Prints the PID from pidfile $1 when that process is alive and runs the
# entry point $2; fails otherwise. The command line check keeps a recycled
# PID, or another server's process, from being mistaken for this server.
pid_from() {
  local pidfile=$1 entry=$2 pid cmdline
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
  [[ "$cmdline " == *" $entry "* ]] || return 1
  printf '%s\n' "$pid"
}

# Prints the PID of this server (UNLEASH_SERVER on UNLEASH_PORT) when this
# script started it and it still runs; fails otherwise. Sets OUR_PIDFILE to
# the pidfile it was found in.
OUR_PIDFILE=
our_pid() {
  OUR_PIDFILE=$PIDFILE
  pid_from "$PIDFILE" "$ENTRY" && return 0
  if [ "$UNLEASH_SERVER" = 8.2.0 ]; then
    OUR_PIDFILE=$LEGACY_PIDFILE
    pid_from "$LEGACY_PIDFILE" "$LEGACY_ENTRY" && return 0
  fi
  OUR_PIDFILE=$PIDFILE
  return 1
}

stop_server() {
  local pid
  if ! pid=$(our_pid); then
    say "no $UNLEASH_SERVER server of ours is running on port $UNLEASH_PORT"
    rm -f "$PIDFILE"
    return 0
  fi
  our_pid >/dev/null  # sets OUR_PIDFILE (the one above ran in a subshell)
  say "stopping unleash-server $UNLEASH_SERVER (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_exit "$pid" 60; then
    say "pid $pid still alive after 15 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 20 || true
  fi
  rm -f "$OUR_PIDFILE"
}

# Waits up to N quarter seconds for process PID to end; fails if it is
# still alive then.
wait_exit() {
  local pid=$1 tries=$2
  for _ in $(seq 1 "$tries"); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  ! kill -0 "$pid" 2>/dev/null
}

# Runs a command with root rights: directly as root, else through sudo -n.
# `3>&- 7>&- 8>&- 9>&-` hide the saved stdout (fd 3) and the locks (fds 7-9)
# from the command: pg_ctlcluster leaves a PostgreSQL daemon behind, and a
# daemon that inherited them would keep `$(unleash.sh start)` waiting and
# hold a lock forever.
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@" 3>&- 7>&- 8>&- 9>&-
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@" 3>&- 7>&- 8>&- 9>&-
  else
    die "root (or passwordless sudo) is needed for: $*"
  fi
}

# Runs a command as the postgres system user, from a folder it can read.
as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    (cd /tmp && "$@" 3>&- 7>&- 8>&- 9>&-)
  elif [ "$(id -u)" = 0 ]; then
    (cd /tmp && runuser -u postgres -- "$@" 3>&- 7>&- 8>&- 9>&-)
  else
    (cd /tmp && as_root -u postgres "$@")
  fi
}

# psql as the postgres superuser on our cluster, stopping at the first error.
pg_sql() {
  as_postgres timeout 60 psql -X -q -p "$PG_PORT" -v ON_ERROR_STOP=1 "$@"
}

ensure_system_packages() {
  local missing=()
  if ! command -v pg_ctlcluster >/dev/null 2>&1 \
     || ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    missing+=(postgresql)
  fi
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian's packages"
    as_root timeout "$INSTALL_TIMEOUT" apt-get update -qq \
      || die "apt-get update failed or timed out"
    as_root env DEBIAN_FRONTEND=noninteractive timeout "$INSTALL_TIMEOUT" \
      apt-get install -y -q -o DPkg::Lock::Timeout=120 "${missing[@]}" >&2 \
      || die "apt-get install ${missing[*]} failed or timed out"
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    die "Node.js 20+ with npm is required (Debian 12's nodejs is 18, too old)"
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js $(node --version) is too old; 20 or newer is required"
  case "$SERVER_VERSION" in
    5.*|6.*)
      if [ "$major" -ge 21 ]; then
        say "warning: unleash-server $SERVER_VERSION declares node >=18 <21 and was checked on Node.js 20 only; this is $(node --version)"
      fi
      ;;
  esac
}

ensure_postgres() {
  if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
    local ver
    ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -n | tail -n 1)
    [ -n "$ver" ] || die "no PostgreSQL server found under /usr/lib/postgresql"
    say "creating PostgreSQL cluster $ver/main"
    as_root timeout 120 pg_createcluster "$ver" main >&2 || die "pg_createcluster $ver main failed"
  fi
  # Use the first cluster that pg_lsclusters lists.
  local status
  read -r PG_VER PG_CLUSTER PG_PORT status _ < <(pg_lsclusters -h | head -n 1)
  if [ "$status" != online ]; then
    say "starting PostgreSQL cluster $PG_VER/$PG_CLUSTER (port $PG_PORT)"
    as_root timeout 120 pg_ctlcluster "$PG_VER" "$PG_CLUSTER" start \
      || die "could not start PostgreSQL $PG_VER/$PG_CLUSTER (see /var/log/postgresql/)"
  fi
  local ready=no
  for _ in $(seq 1 120); do
    if pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 1; then ready=yes; break; fi
    sleep 0.25
  done
  [ "$ready" = yes ] || die "PostgreSQL on 127.0.0.1:$PG_PORT is not accepting connections after 30 s"
}

ensure_database() {
  if [ "$RESET_DB" = 1 ]; then
    say "RESET_DB=1: dropping database $DB_NAME"
    pg_sql -v db="$DB_NAME" <<'SQL' || die "could not drop database $DB_NAME"
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', :'db') \gexec
SQL
  fi
  # Role and database are created only when missing; the password is set
  # every time so that DB_PASSWORD always matches.
  pg_sql -v db="$DB_NAME" -v usr="$DB_USER" -v pw="$DB_PASSWORD" <<'SQL' \
    || die "could not create role/database $DB_USER/$DB_NAME"
SELECT format('CREATE ROLE %I LOGIN', :'usr')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'usr') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'usr', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'usr')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
}

# Installs the pinned unleash-server from the committed lockfile, unless the
# install folder already holds an install made from the very same files. Two
# servers sharing one install (8.2.0 and 8.2.0-secure) wait for each other.
ensure_npm_install() {
  mkdir -p "$INSTALL_DIR"
  exec 8> "$UNLEASH_DIR/.install-$SERVER_VERSION.lock"
  if ! flock -n 8; then
    say "another start is installing $INSTALL_DIR; waiting for it (at most 15 min)"
    flock -w 900 8 || die "timed out waiting for the install lock of $INSTALL_DIR"
  fi
  local want have sum
  sum=$(cat "$ASSETS/package.json" "$ASSETS/package-lock.json" | sha256sum | cut -d' ' -f1)
  want=$(node -p "require(process.argv[1]).dependencies['unleash-server']" "$ASSETS/package.json")
  have=$(node -p "require(process.argv[1]).version" \
           "$INSTALL_DIR/node_modules/unleash-server/package.json" 2>/dev/null || true)
  if [ "$have" != "$want" ] || [ "$(cat "$STAMP" 2>/dev/null || true)" != "$sum" ]; then
    say "installing unleash-server $want into $INSTALL_DIR with npm ci (first time: 15-60 s, ~200 MB)"
    rm -f "$STAMP"
    cp "$ASSETS/package.json" "$ASSETS/package-lock.json" "$INSTALL_DIR/"
    # --ignore-scripts: no dependency may run install hooks (one of them sends
    # install analytics). None of those hooks is needed to run the server.
    # engine-strict off: 7.x and 8.x declare node >=22 but run on 20.
    if ! (cd "$INSTALL_DIR" && SCARF_ANALYTICS=false DO_NOT_TRACK=1 \
            timeout "$INSTALL_TIMEOUT" npm ci --ignore-scripts --engine-strict=false \
            --no-audit --no-fund --loglevel=error >&2 3>&- 7>&- 8>&- 9>&-); then
      die "npm ci in $INSTALL_DIR failed or timed out after ${INSTALL_TIMEOUT}s"
    fi
    printf '%s\n' "$sum" > "$STAMP"
  fi
  # The entry point, under this server's name (see ENTRY). The 5.x and 6.x
  # packages are CommonJS; Node's ES module loader still finds their named
  # export `start`.
  cp "$ASSETS_ROOT/server.mjs" "$ENTRY.tmp" && mv -f "$ENTRY.tmp" "$ENTRY"
  exec 8>&-
}

launch_server() {
  : > "$LOGFILE"
  # setsid + nohup detach the server from this shell; its output goes to the
  # log only, so `eval "$(... start)"` does not wait for it. `3>&- 7>&- 8>&-
  # 9>&-` keep the saved stdout and the locks from being inherited by the
  # long-lived server.
  (
    cd "$INSTALL_DIR"
    # The secure token storage is this script's to set (8.2.0-secure), never
    # inherited from the caller's environment.
    exec env -u UNLEASH_EXPERIMENTAL_SECURE_TOKEN NODE_ENV=production TZ=UTC \
      UNLEASH_PORT="$UNLEASH_PORT" LOG_LEVEL="$LOG_LEVEL" \
      DATABASE_HOST=127.0.0.1 DATABASE_PORT="$PG_PORT" \
      DATABASE_USERNAME="$DB_USER" DATABASE_PASSWORD="$DB_PASSWORD" DATABASE_NAME="$DB_NAME" \
      INIT_ADMIN_API_TOKENS="$UNLEASH_API_TOKEN" \
      CHECK_VERSION=false SEND_TELEMETRY=false SCARF_ANALYTICS=false DO_NOT_TRACK=1 \
      ${SERVER_ENV[@]+"${SERVER_ENV[@]}"} \
      setsid nohup node "$ENTRY"
  ) >> "$LOGFILE" 2>&1 < /dev/null 3>&- 7>&- 8>&- 9>&- &
  local pid=$!
  printf '%s\n' "$pid" > "$PIDFILE"
  say "started unleash-server $UNLEASH_SERVER (pid $pid), log: $LOGFILE"
}

# Waits (at most HEALTH_TIMEOUT seconds) for GET /health to answer 200 while
# our process is alive. On failure it stops the process and shows the log.
wait_healthy() {
  local pid=$1 deadline=$((SECONDS + HEALTH_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if is_healthy; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$PIDFILE"
      show_log_tail
      die "unleash-server exited before it became healthy"
    fi
    sleep 0.25
  done
  show_log_tail
  stop_server
  die "$BASE_URL/health did not answer 200 within ${HEALTH_TIMEOUT}s"
}

# The OSS server has no API to create projects, so the project the tests need
# is inserted directly, after the server has run its migrations. Safe to repeat.
seed_database() {
  pg_sql -d "$DB_NAME" -v proj="$SEED_PROJECT" <<'SQL' >/dev/null \
    || die "could not seed project '$SEED_PROJECT' into $DB_NAME"
INSERT INTO projects (id, name) VALUES (:'proj', :'proj') ON CONFLICT DO NOTHING;
INSERT INTO project_environments (project_id, environment_name)
  SELECT :'proj', name FROM environments WHERE name IN ('development', 'production')
  ON CONFLICT DO NOTHING;
SQL
}

cmd_start() {
  if ! [[ $UNLEASH_PORT =~ ^[0-9]+$ ]] || [ "$UNLEASH_PORT" -lt 1 ] || [ "$UNLEASH_PORT" -gt 65535 ]; then
    die "UNLEASH_PORT must be a port number, got '$UNLEASH_PORT'"
  fi
  [[ $HEALTH_TIMEOUT =~ ^[0-9]+$ ]] || die "HEALTH_TIMEOUT must be a number of seconds"
  mkdir -p "$UNLEASH_DIR"

  # Serialise concurrent starts on the same port (waiting at most 15 min).
  local lock="$UNLEASH_DIR/.start-$UNLEASH_PORT.lock"
  exec 9> "$lock"
  if ! flock -n 9; then
    say "another 'unleash.sh start' on port $UNLEASH_PORT is running; waiting for it (at most 15 min)"
    flock -w 900 9 || die "timed out waiting for the lock $lock"
  fi

  local pid
  if [ "$RESET_DB" != 1 ] && pid=$(our_pid) && is_healthy; then
    token_accepted || die "server (pid $pid) is up but rejects the admin token; try RESET_DB=1"
    version_matches || die "server (pid $pid) at $BASE_URL is not unleash-server $UNLEASH_SERVER"
    say "already running (pid $pid) at $BASE_URL"
    print_exports
    return 0
  fi

  if [ "$RESET_DB" = 1 ]; then stop_server; fi
  # apt-get, the PostgreSQL cluster and the shared role: one start at a time,
  # whichever server it is for.
  exec 7> "$UNLEASH_DIR/.setup.lock"
  if ! flock -n 7; then
    say "another start is setting up PostgreSQL; waiting for it (at most 15 min)"
    flock -w 900 7 || die "timed out waiting for the lock $UNLEASH_DIR/.setup.lock"
  fi
  ensure_system_packages
  ensure_postgres
  ensure_database
  exec 7>&-
  ensure_npm_install

  local started_at
  started_at=$(date +%s%N)
  if pid=$(our_pid); then
    say "our server (pid $pid) is running but not healthy yet; waiting for it"
  elif port_in_use; then
    die "127.0.0.1:$UNLEASH_PORT is taken by a process this script did not start; set UNLEASH_PORT"
  else
    launch_server
    pid=$(cat "$PIDFILE")
  fi
  wait_healthy "$pid"
  local ms=$((($(date +%s%N) - started_at) / 1000000))
  say "healthy after $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"

  seed_database
  token_accepted || die "server is up but rejects the admin token; try RESET_DB=1"
  version_matches || die "$BASE_URL answers, but not as unleash-server $UNLEASH_SERVER"
  say "Unleash $UNLEASH_SERVER is up at $BASE_URL (pid $pid)"
  print_exports
}

cmd_status() {
  local pid
  if ! is_healthy; then
    say "no healthy Unleash at $BASE_URL"
    return 1
  fi
  if ! token_accepted; then
    say "$BASE_URL is up but rejects the admin token"
    return 1
  fi
  if ! version_matches; then
    say "$BASE_URL is up, but it is not unleash-server $UNLEASH_SERVER"
    return 1
  fi
  if pid=$(our_pid); then
    say "running (pid $pid) at $BASE_URL"
  else
    say "an Unleash not started by this script answers at $BASE_URL"
  fi
  print_exports
}

cmd_stop() {
  stop_server
  if [ "$STOP_POSTGRES" = 1 ]; then
    local ver cluster
    read -r ver cluster _ < <(pg_lsclusters -h 2>/dev/null | head -n 1) || true
    if [ -n "${ver:-}" ]; then
      say "stopping PostgreSQL $ver/$cluster"
      as_root timeout 120 pg_ctlcluster "$ver" "$cluster" stop || true
    fi
  fi
}

# stdout is meant for eval, so only print_exports may write to it: it gets fd 3
# and everything else, including what the tools we call print on their stdout
# (pg_ctlcluster says "Removed stale pid file." after a reboot), goes to stderr.
exec 3>&1 1>&2

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
