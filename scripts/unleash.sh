#!/usr/bin/env bash
# Runs a real open-source Unleash server (npm package unleash-server, pinned in
# scripts/unleash/package-lock.json) on 127.0.0.1 for integration tests, backed
# by PostgreSQL from Debian's packages.
#
# Usage: scripts/unleash.sh start|stop|status
#
#   start   installs what is missing, starts the server and waits until it is
#           healthy; if it already runs it only prints the values. On success
#           stdout carries exactly two lines meant for eval:
#               eval "$(scripts/unleash.sh start)"
#   status  exit 0 and the same two lines when the server is up and accepts the
#           admin token, non-zero otherwise
#   stop    stops the server this script started (by its pidfile); fine when
#           nothing runs
#
# Progress messages go to stderr. Settings, all optional:
#   UNLEASH_PORT        port on 127.0.0.1 (default 4242)
#   UNLEASH_DIR         scratch folder for node_modules, pidfile and log
#                       (default /tmp/unleashadmin-server)
#   UNLEASH_API_TOKEN   admin API token created on an empty database
#                       (default '*:*.unleash-insecure-admin-api-token')
#   DB_NAME, DB_USER, DB_PASSWORD   PostgreSQL database (default unleash/unleash/unleash)
#   RESET_DB=1          drop and recreate the database before starting
#   HEALTH_TIMEOUT      seconds to wait for GET /health (default 120)
#   INSTALL_TIMEOUT     seconds allowed for apt-get and npm ci each (default 900)
#   STOP_POSTGRES=1     make `stop` also stop the PostgreSQL cluster
#   LOG_LEVEL           Unleash log level (default warn)
#
# Needs Node.js 20 or newer with npm. Installing PostgreSQL and creating the
# database need root (or passwordless sudo).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ASSETS="$SCRIPT_DIR/unleash"

UNLEASH_PORT=${UNLEASH_PORT:-4242}
UNLEASH_DIR=${UNLEASH_DIR:-/tmp/unleashadmin-server}
UNLEASH_API_TOKEN=${UNLEASH_API_TOKEN:-'*:*.unleash-insecure-admin-api-token'}
DB_NAME=${DB_NAME:-unleash}
DB_USER=${DB_USER:-unleash}
DB_PASSWORD=${DB_PASSWORD:-unleash}
RESET_DB=${RESET_DB:-0}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-120}
INSTALL_TIMEOUT=${INSTALL_TIMEOUT:-900}
STOP_POSTGRES=${STOP_POSTGRES:-0}
LOG_LEVEL=${LOG_LEVEL:-warn}

BASE_URL="http://127.0.0.1:$UNLEASH_PORT"
PIDFILE="$UNLEASH_DIR/server-$UNLEASH_PORT.pid"
LOGFILE="$UNLEASH_DIR/server-$UNLEASH_PORT.log"
STAMP="$UNLEASH_DIR/.installed"
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

# Something (anything) accepts TCP connections on our port.
port_in_use() { timeout 2 bash -c ": >/dev/tcp/127.0.0.1/$UNLEASH_PORT" 2>/dev/null; }

# Prints the PID from the pidfile when that process is alive and is the
# server.mjs of this UNLEASH_DIR; fails otherwise. The command line check
# keeps a recycled PID from being mistaken for our server.
our_pid() {
  local pid cmdline
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)
  [[ $cmdline == *"$UNLEASH_DIR/server.mjs"* ]] || return 1
  printf '%s\n' "$pid"
}

stop_server() {
  local pid
  if ! pid=$(our_pid); then
    say "no server of ours is running on port $UNLEASH_PORT"
    rm -f "$PIDFILE"
    return 0
  fi
  say "stopping unleash-server (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_exit "$pid" 60; then
    say "pid $pid still alive after 15 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 20 || true
  fi
  rm -f "$PIDFILE"
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
# `3>&- 9>&-` hide the saved stdout (fd 3) and the start lock (fd 9) from the
# command: pg_ctlcluster leaves a PostgreSQL daemon behind, and a daemon that
# inherited them would keep `$(unleash.sh start)` waiting and hold the lock
# forever.
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@" 3>&- 9>&-
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@" 3>&- 9>&-
  else
    die "root (or passwordless sudo) is needed for: $*"
  fi
}

# Runs a command as the postgres system user, from a folder it can read.
as_postgres() {
  if [ "$(id -un)" = postgres ]; then
    (cd /tmp && "$@" 3>&- 9>&-)
  elif [ "$(id -u)" = 0 ]; then
    (cd /tmp && runuser -u postgres -- "$@" 3>&- 9>&-)
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
# scratch folder already holds an install made from the very same files.
ensure_npm_install() {
  mkdir -p "$UNLEASH_DIR"
  local want have sum
  sum=$(cat "$ASSETS/package.json" "$ASSETS/package-lock.json" | sha256sum | cut -d' ' -f1)
  want=$(node -p "require(process.argv[1]).dependencies['unleash-server']" "$ASSETS/package.json")
  have=$(node -p "require(process.argv[1]).version" \
           "$UNLEASH_DIR/node_modules/unleash-server/package.json" 2>/dev/null || true)
  if [ "$have" = "$want" ] && [ "$(cat "$STAMP" 2>/dev/null || true)" = "$sum" ]; then
    return 0
  fi
  say "installing unleash-server $want into $UNLEASH_DIR with npm ci (first time: about a minute, ~200 MB)"
  rm -f "$STAMP"
  cp "$ASSETS/package.json" "$ASSETS/package-lock.json" "$UNLEASH_DIR/"
  # --ignore-scripts: no dependency may run install hooks (one of them sends
  # install analytics). None of those hooks is needed to run the server.
  # unleash-server declares node >=22 but runs on 20, hence engine-strict off.
  if ! (cd "$UNLEASH_DIR" && SCARF_ANALYTICS=false DO_NOT_TRACK=1 \
          timeout "$INSTALL_TIMEOUT" npm ci --ignore-scripts --engine-strict=false \
          --no-audit --no-fund --loglevel=error >&2); then
    die "npm ci in $UNLEASH_DIR failed or timed out after ${INSTALL_TIMEOUT}s"
  fi
  printf '%s\n' "$sum" > "$STAMP"
}

launch_server() {
  cp "$ASSETS/server.mjs" "$UNLEASH_DIR/server.mjs"
  : > "$LOGFILE"
  # setsid + nohup detach the server from this shell; its output goes to the
  # log only, so `eval "$(... start)"` does not wait for it. `3>&- 9>&-` keep the
  # saved stdout and the start lock from being inherited by the long-lived server.
  (
    cd "$UNLEASH_DIR"
    exec env NODE_ENV=production TZ=UTC \
      UNLEASH_PORT="$UNLEASH_PORT" LOG_LEVEL="$LOG_LEVEL" \
      DATABASE_HOST=127.0.0.1 DATABASE_PORT="$PG_PORT" \
      DATABASE_USERNAME="$DB_USER" DATABASE_PASSWORD="$DB_PASSWORD" DATABASE_NAME="$DB_NAME" \
      INIT_ADMIN_API_TOKENS="$UNLEASH_API_TOKEN" \
      CHECK_VERSION=false SEND_TELEMETRY=false SCARF_ANALYTICS=false DO_NOT_TRACK=1 \
      setsid nohup node "$UNLEASH_DIR/server.mjs"
  ) >> "$LOGFILE" 2>&1 < /dev/null 3>&- 9>&- &
  local pid=$!
  printf '%s\n' "$pid" > "$PIDFILE"
  say "started unleash-server (pid $pid), log: $LOGFILE"
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

  # Serialise concurrent starts on the same folder (waiting at most 15 min).
  local lock="$UNLEASH_DIR/.start-$UNLEASH_PORT.lock"
  exec 9> "$lock"
  if ! flock -n 9; then
    say "another 'unleash.sh start' is running; waiting for it (at most 15 min)"
    flock -w 900 9 || die "timed out waiting for the lock $lock"
  fi

  local pid
  if [ "$RESET_DB" != 1 ] && pid=$(our_pid) && is_healthy; then
    token_accepted || die "server (pid $pid) is up but rejects the admin token; try RESET_DB=1"
    say "already running (pid $pid) at $BASE_URL"
    print_exports
    return 0
  fi

  ensure_system_packages
  ensure_postgres
  if [ "$RESET_DB" = 1 ]; then stop_server; fi
  ensure_database
  ensure_npm_install

  local started_at=$SECONDS
  if pid=$(our_pid); then
    say "our server (pid $pid) is running but not healthy yet; waiting for it"
  elif port_in_use; then
    die "127.0.0.1:$UNLEASH_PORT is taken by a process this script did not start; set UNLEASH_PORT"
  else
    launch_server
    pid=$(cat "$PIDFILE")
  fi
  wait_healthy "$pid"
  say "healthy after $((SECONDS - started_at)) s"

  seed_database
  token_accepted || die "server is up but rejects the admin token; try RESET_DB=1"
  say "Unleash is up at $BASE_URL (pid $pid)"
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
