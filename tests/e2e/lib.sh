# Shell helpers shared by tests/e2e/run.sh and benches/bench.sh (sourced, not run).
#
# The caller sets, before sourcing:
#   TOOLS     path of tests/e2e/tools.py
#   PIDS      an array: every process started here is appended to it (the caller's
#             EXIT trap kills them); the caller's trap also calls pg_cleanup
#   LIB_TAG   optional prefix for error messages ("bench: ")
#
# PostgreSQL reference servers: pg_start initdb's a cluster into a fresh temp dir
# under /tmp and starts postgres on 127.0.0.1 (Unix socket in that temp dir, never
# /var/run/postgresql, so the Debian package's own cluster on 5432 plays no part).
# PostgreSQL refuses to run as root: as root (CI) initdb and postgres run as the
# `postgres` user (created by the Debian package) through setpriv, which execs in
# place, so $! is the postmaster itself; as anyone else they run as that user.

PG_BINDIR=${PG_BINDIR:-}
if [[ -z $PG_BINDIR ]]; then
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [[ -x $d/postgres ]] && { PG_BINDIR=$d; break; }
  done
fi
PG_PIDS=()
PG_TMPDIRS=()
PG_WRAP=()  # commands put before postgres that exec it in place (bench.sh: taskset -c 0)

# A free loopback port at or above $1 (bounded scan).
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if python3 "$TOOLS" port-free "$p"; then echo "$p"; return 0; fi
  done
  echo "${LIB_TAG:-}no free port in $1..$(($1 + 200))" >&2
  return 1
}

# The environment every PostgreSQL client here runs with: nothing inherited that
# would change a session (PGOPTIONS, PGTZ, PGDATESTYLE, a password file, a service
# file), English messages, a bounded connect. (A missing PGPASSFILE is silently skipped.)
pg_client_env() {
  env -u PGOPTIONS -u PGTZ -u PGDATESTYLE -u PGCLIENTENCODING -u PGSERVICE -u PGHOST \
    -u PGHOSTADDR -u PGPORT -u PGUSER -u PGDATABASE -u PGPASSWORD -u PGAPPNAME -u PGSSLMODE \
    PGPASSFILE=/nonexistent/.pgpass PGCONNECT_TIMEOUT=5 LC_ALL=C.UTF-8 LANG=C.UTF-8 "$@"
}

# pq PORT ARGS...: one bounded psql call as user postgres, database kv, unaligned
# tuples-only output, stopping at the first error; stderr folded in.
pq() {
  local port=$1; shift
  pg_client_env timeout 30 psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
    -U postgres -d kv "$@" 2>&1 || echo "<psql exit $?>"
}

# pg_wait_ready PORT PID: until PORT accepts PostgreSQL connections (pg_isready:
# a startup packet answered by authentication or ready-for-query) while PID lives;
# 10 s at most. Says nothing about SQL: the checks themselves do.
pg_wait_ready() {
  local port=$1 pid=$2
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    pg_client_env timeout 3 pg_isready -q -h 127.0.0.1 -p "$port" -U postgres -d kv -t 2 && return 0
    sleep 0.1
  done
  return 1
}

# "${PG_AS[@]}" CMD...: CMD as the user that owns the clusters (see above). An
# array, not a function: `"${PG_AS[@]}" postgres ... &` must leave $! = postgres.
PG_AS=()
if [[ $(id -u) == 0 ]]; then PG_AS=(setpriv --reuid=postgres --regid=postgres --init-groups --); fi

# pg_start NAME PORT LOG [postgres -c settings...]: a fresh PostgreSQL cluster on
# 127.0.0.1:PORT with database kv holding table kv (key text PRIMARY KEY, value text
# NOT NULL). Locale C (bytewise ORDER BY, English messages), UTF8, trust auth for
# local connections. Extra arguments go to postgres (e.g. -c synchronous_commit=off).
# Sets STARTED_PID (the postmaster) and PG_DATA[NAME]; returns nonzero, with the
# reason in LOG, if the server does not come up.
declare -A PG_DATA=()
pg_start() {
  local name=$1 port=$2 log=$3; shift 3
  local dir
  if [[ -z $PG_BINDIR || ! -x $PG_BINDIR/postgres ]]; then
    echo "no PostgreSQL server binaries (looked in /usr/lib/postgresql/*/bin; set PG_BINDIR)" >"$log"
    return 1
  fi
  dir=$(mktemp -d /tmp/corewire-pg-"$name".XXXXXX)
  PG_TMPDIRS+=("$dir")
  if [[ $(id -u) == 0 ]]; then chown postgres: "$dir"; fi
  chmod 700 "$dir"
  PG_DATA[$name]=$dir/data
  if ! "${PG_AS[@]}" timeout 120 "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust \
       -E UTF8 --locale=C -N >"$log" 2>&1; then
    echo "initdb failed" >>"$log"
    return 1
  fi
  # listen_addresses=127.0.0.1 only; the socket lives in the temp dir; the server
  # log goes to LOG (stderr).
  "${PG_AS[@]}" "${PG_WRAP[@]}" "$PG_BINDIR/postgres" -D "$dir/data" -p "$port" -k "$dir" \
    -c listen_addresses=127.0.0.1 "$@" >>"$log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  PG_PIDS+=("$STARTED_PID")
  if ! pg_wait_ready "$port" "$STARTED_PID"; then
    echo "postgres did not accept connections on $port within 10 s" >>"$log"
    return 1
  fi
  local out
  out=$(pg_client_env timeout 30 psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c 'CREATE DATABASE kv' 2>&1) || { echo "CREATE DATABASE kv: $out" >>"$log"; return 1; }
  out=$(pq "$port" -c 'CREATE TABLE kv (key text PRIMARY KEY, value text NOT NULL)')
  [[ -z $out ]] || { echo "CREATE TABLE kv: $out" >>"$log"; return 1; }
}

# pg_stop PID: fast shutdown (SIGINT: clients are disconnected, no waiting for
# them as SIGTERM's smart shutdown would), bounded at 10 s, then SIGKILL.
pg_stop() {
  local pid=$1
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# For the caller's EXIT trap: fast shutdown of every cluster started here, then
# removal of their temp dirs.
pg_cleanup() {
  local p d
  for p in "${PG_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${PG_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for d in "${PG_TMPDIRS[@]}"; do rm -rf "$d"; done
}

# corewire_has_pg BIN: does this corewire build have the PostgreSQL listener?
corewire_has_pg() {
  timeout 15 "$1" --help 2>&1 | grep -q -- '--pg-port'
}
