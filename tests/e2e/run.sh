#!/usr/bin/env bash
# End-to-end suite: real clients (redis-cli, redis-benchmark, redis-py) and a
# differential test against a real redis-server, all on loopback.
#
#   bash tests/e2e/run.sh              what `make e2e` runs (needs build/corewire and
#                                      build/seed_host)
#   E2E_SERVER=redis bash tests/e2e/run.sh
#                                      runs the client checks against a second
#                                      redis-server instead of corewire: validates the
#                                      suite itself (corewire-only checks are skipped)
#   E2E_ONLY="a c" bash tests/e2e/run.sh   run only some checks (letters as below)
#   E2E_PG_SERVER=postgres bash tests/e2e/run.sh
#                                      runs the PostgreSQL client checks (sections l-s)
#                                      against a second real PostgreSQL instead of
#                                      corewire's --pg-port: validates those checks
#                                      (corewire-only ones are skipped). This is the
#                                      default when E2E_SERVER=redis.
#   E2E_ONLY="l m n o p q r s" bash tests/e2e/run.sh  only the PostgreSQL sections
#   E2E_ONLY="t u v w x y z" bash tests/e2e/run.sh    only the operations sections
#   E2E_ONLY=durability bash tests/e2e/run.sh          only the crash cycles and fault injection
#   E2E_ONLY=pool bash tests/e2e/run.sh                only the pooling section (issue 6; about
#                                      1 min; E2E_POOL_SERVER=pgbouncer: against PgBouncer)
#   E2E_ONLY=abuse bash tests/e2e/run.sh               only the abuse tests (issue 7; about 1 min;
#                                      results table also as JSON in $ABUSE_REPORT)
#
# PostgreSQL sections (tests/e2e/pg/): l psql differential against a real PostgreSQL,
# m pgbench, n psycopg 3, o asyncpg, p cross-protocol (RESP <-> SQL), q JDBC, r
# corewire-only SQL checks, s password authentication (SCRAM-SHA-256, md5; its own
# servers). l-r run against a second corewire started with
# --pg-port (plus --port, sharing its data); if this corewire has no --pg-port, each
# of them is one FAIL saying so. The reference PostgreSQL is initdb'd into a temp dir
# and started by tests/e2e/lib.sh (as user postgres when run as root).
#
# Every client command runs under `timeout`; every server started here is killed on
# exit. Ends with one line "N passed, M failed" and exits nonzero if M > 0.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
E2E=$ROOT/tests/e2e
BIN=${COREWIRE_BIN:-$ROOT/build/corewire}
SEED=${SEED_HOST_BIN:-$ROOT/build/seed_host}
LOGS=$ROOT/build/e2e
TOOLS=$E2E/tools.py
SERVER=${E2E_SERVER:-corewire}
if [[ $SERVER == redis ]]; then PG_SERVER=${E2E_PG_SERVER:-postgres}; else PG_SERVER=${E2E_PG_SERVER:-corewire}; fi
ONLY=${E2E_ONLY:-a b c d j k i h e f g l m n o p q r s pool t u v w x y z durability abuse}
mkdir -p "$LOGS"

PASSED=0
FAILED=0
PIDS=()
# free_port, and the PostgreSQL helpers (pg_start, pq, pg_wait_ready, pg_cleanup, ...).
# shellcheck source=tests/e2e/lib.sh
source "$E2E/lib.sh"

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
section() { echo; echo "=== $*"; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

cleanup() {
  local p
  pg_cleanup
  for p in "${PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so that cleanup runs when we are interrupted

# cli PORT ARGS...: redis-cli, bounded, stderr folded in.
cli() {
  local port=$1; shift
  timeout 10 redis-cli -p "$port" "$@" 2>&1 || echo "<redis-cli exit $?>"
}

# Waits until PORT answers PING with PONG (or anything that is a RESP reply if $3 is
# "any") while PID lives; bounded at 10 s.
wait_ready() {
  local port=$1 pid=$2 probe=${3:-ping} out
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if [[ $probe == ping ]]; then
      out=$(timeout 2 redis-cli -p "$port" ping 2>/dev/null || true)
      [[ $out == PONG ]] && return 0
    else
      out=$(timeout 2 redis-cli -p "$port" get __probe__ 2>&1 || true)
      [[ $out != *"Connection refused"* && $out != *"Could not connect"* ]] && return 0
    fi
    sleep 0.1
  done
  return 1
}

# Waits up to $2 tenths of a second for PID to exit; sets EXIT_RC (124 on timeout).
wait_exit() {
  local pid=$1 tenths=$2
  EXIT_RC=124
  for _ in $(seq 1 "$tenths"); do
    if ! kill -0 "$pid" 2>/dev/null; then
      EXIT_RC=0
      wait "$pid" || EXIT_RC=$?
      return 0
    fi
    sleep 0.1
  done
  return 0
}

# corewire also listens for PostgreSQL, on 5433 unless told otherwise: every corewire
# started here gets a free --pg-port of its own unless its caller names one, so that
# two of them never collide (nor meet whatever else holds 5433).
CW_HAS_PG=0
if [[ -x $BIN ]] && corewire_has_pg "$BIN"; then CW_HAS_PG=1; fi
# cw_pg_args: sets CW_PG_ARGS to (--pg-port FREE_PORT) for a corewire with a
# PostgreSQL listener, to () otherwise.
cw_pg_args() {
  CW_PG_ARGS=()
  if [[ $CW_HAS_PG == 1 ]]; then CW_PG_ARGS=(--pg-port "$(free_port 17100)"); fi
}

# start_corewire PORT LOG ARGS...: sets STARTED_PID; fails the caller if not ready.
start_corewire() {
  local port=$1 log=$2; shift 2
  CW_PG_ARGS=()
  [[ " $* " == *" --pg-port "* ]] || cw_pg_args
  # The HTTP listener (9380 by default) gets a free port too.
  [[ " $* " == *" --http-port "* ]] || CW_PG_ARGS+=(--http-port "$(free_port 17200)")
  python3 "$TOOLS" exec "$BIN" --port "$port" "${CW_PG_ARGS[@]}" "$@" >"$log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  wait_ready "$port" "$STARTED_PID"
}

start_redis() {
  local port=$1 log=$2; shift 2
  python3 "$TOOLS" exec "$(command -v redis-server)" --port "$port" --bind 127.0.0.1 \
    --save "" --appendonly no --daemonize no "$@" >"$log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  wait_ready "$port" "$STARTED_PID"
}

stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  wait_exit "$pid" 50
  if [[ $EXIT_RC == 124 ]]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
}

# helper_start CMD...: runs a helper with its stdin and stdout on FIFOs, so that we
# can read its progress lines and tell it when to finish. Sets H_PID, H_IN, H_OUT.
# (Not coproc: bash unsets a coproc's fd array as soon as it exits, which under
# set -u would abort the suite exactly when a helper fails.)
helper_start() {
  local dir
  dir=$(mktemp -d "$LOGS/helper.XXXXXX")
  mkfifo "$dir/in" "$dir/out"
  "$@" <"$dir/in" >"$dir/out" 2>&1 &
  H_PID=$!
  PIDS+=("$H_PID")
  exec {H_IN}>"$dir/in" {H_OUT}<"$dir/out"
  rm -rf "$dir"
}
# helper_read VAR... : one line from the helper (30 s at most); "<no output>" if none.
helper_read() {
  if ! read -r -t 30 "$@" <&"$H_OUT"; then printf -v "$1" '%s' "<no output>"; fi
}
helper_stop() {
  ( echo done >&"$H_IN" ) 2>/dev/null || true
  local rest
  rest=$(timeout 30 cat <&"$H_OUT" || true)
  [[ -n $rest ]] && HELPER_REST=$rest || HELPER_REST=""
  exec {H_IN}>&- {H_OUT}<&-
  wait_exit "$H_PID" 100
  [[ $EXIT_RC == 124 ]] && kill -KILL "$H_PID" 2>/dev/null || true
}

# expect NAME EXPECTED ACTUAL
expect() {
  if [[ "$3" == "$2" ]]; then
    pass "$1 (got $(printf %q "$3"))"
  else
    fail "$1: expected $(printf %q "$2"), got $(printf %q "$3")"
  fi
}

for tool in redis-server redis-cli redis-benchmark python3 timeout; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool"; echo "0 passed, 1 failed"; exit 1; }
done

# ---------------------------------------------------------------------------- servers
REF_PORT=$(free_port 16480)
start_redis "$REF_PORT" "$LOGS/redis-ref.log" || { echo "reference redis-server did not start"; cat "$LOGS/redis-ref.log"; echo "0 passed, 1 failed"; exit 1; }
REF_PID=$STARTED_PID

PORT=$(free_port 16380)
if [[ $SERVER == redis ]]; then
  echo "E2E_SERVER=redis: client checks run against redis-server (suite self-test)"
  start_redis "$PORT" "$LOGS/server.log" || { echo "redis-server did not start"; echo "0 passed, 1 failed"; exit 1; }
else
  if [[ ! -x $BIN ]]; then echo "missing $BIN (run make all)"; echo "0 passed, 1 failed"; exit 1; fi
  if ! start_corewire "$PORT" "$LOGS/corewire.log" --threads 2; then
    echo "corewire did not answer PING on port $PORT within 10 s; log:"; cat "$LOGS/corewire.log"
    echo "0 passed, 1 failed"; exit 1
  fi
fi
SRV_PID=$STARTED_PID
echo "server under test ($SERVER) pid $SRV_PID on 127.0.0.1:$PORT; reference redis-server pid $REF_PID on $REF_PORT"

# ---------------------------------------------------------------------------- a
if want a; then
  section "a. redis-cli basics"
  P=$PORT
  expect "flushall" "OK" "$(cli $P flushall)"
  expect "ping" "PONG" "$(cli $P ping)"
  expect "ping with message" "hi there" "$(cli $P ping 'hi there')"
  expect "echo" "hello" "$(cli $P echo hello)"
  expect "set k v" "OK" "$(cli $P set k v)"
  expect "get k" "v" "$(cli $P get k)"
  expect "get missing (raw: empty)" "" "$(cli $P get missing)"
  expect "get missing (--no-raw)" "(nil)" "$(cli $P --no-raw get missing)"
  expect "set empty value" "OK" "$(cli $P set empty '')"
  expect "get empty value" '""' "$(cli $P --no-raw get empty)"
  expect "exists empty" "1" "$(cli $P exists empty)"
  expect "set tab/space value" "OK" "$(cli $P set bin $'a\tb c\x01\xff')"
  expect "get tab/space value" '"a\tb c\x01\xff"' "$(cli $P --no-raw get bin)"
  expect "set -x multi-line value" "OK" "$(printf 'line1\r\nline2\n' | timeout 10 redis-cli -p $P -x set ml 2>&1)"
  expect "get multi-line value" '"line1\r\nline2\n"' "$(cli $P --no-raw get ml)"
  expect "del 2 of 3" "2" "$(cli $P del k empty nope)"
  expect "exists after del" "0" "$(cli $P exists k empty)"
  expect "incr new" "1" "$(cli $P incr n)"
  expect "incr again" "2" "$(cli $P incr n)"
  expect "decrby 5" "-3" "$(cli $P decrby n 5)"
  expect "incrby 10" "7" "$(cli $P incrby n 10)"
  expect "decr" "6" "$(cli $P decr n)"
  expect "incr non-integer" "ERR value is not an integer or out of range" "$(cli $P incr bin)"
  expect "mset" "OK" "$(cli $P mset a 1 b 2 c 3)"
  expect "mget" $'1\n\n3' "$(cli $P mget a nope c)"
  expect "mget --no-raw" $'1) "1"\n2) (nil)\n3) "3"' "$(cli $P --no-raw mget a nope c)"
  expect "dbsize" "6" "$(cli $P dbsize)"
  expect "info keyspace key count" "db0:keys=6" "$(cli $P info keyspace | tr -d '\r' | grep -o '^db0:keys=[0-9]*' || true)"
  expect "config get save" $'1) "save"\n2) ""' "$(cli $P --no-raw config get save)"
  expect "config get appendonly" $'1) "appendonly"\n2) "no"' "$(cli $P --no-raw config get appendonly)"
  expect "hello 3 via redis-cli -3: proto" "proto 3" "$(cli $P -3 hello | grep '^proto ' || true)"
  expect "redis-cli -3 get missing" "(nil)" "$(cli $P -3 --no-raw get missing)"
  expect "redis-cli -3 mget" $'1) "1"\n2) (nil)' "$(cli $P -3 --no-raw mget a nope)"
  expect "select 0" "OK" "$(cli $P select 0)"
  expect "select 15" "OK" "$(cli $P select 15)"
  expect "select 16" "ERR DB index is out of range" "$(cli $P select 16)"
  expect "unknown command" "ERR unknown command 'foo', with args beginning with: 'a' 'b' " "$(cli $P foo a b)"
  expect "wrong arity" "ERR wrong number of arguments for 'get' command" "$(cli $P get)"
  expect "client setname" "OK" "$(cli $P client setname e2e)"
  if [[ $SERVER == corewire ]]; then
    # CLIENT SETINFO is Redis 7.2; the 7.0 reference does not have it.
    expect "client setinfo lib-name" "OK" "$(cli $P client setinfo lib-name e2e)"
    expect "client setinfo lib-ver" "OK" "$(cli $P client setinfo lib-ver 1.2.3)"
  fi
  out=$(cli $P client id)
  if [[ $out =~ ^[0-9]+$ ]]; then pass "client id is an integer ($out)"; else fail "client id: got $(printf %q "$out")"; fi
  out=$(cli $P command count)
  if [[ $out =~ ^[0-9]+$ && $out -ge 20 ]]; then pass "command count is an integer >= 20 ($out)"; else fail "command count: got $(printf %q "$out")"; fi
  expect "flushall" "OK" "$(cli $P flushall)"
  expect "dbsize after flushall" "0" "$(cli $P dbsize)"
  out=$(cli $P info keyspace | tr -d '\r' | grep -c '^db0:' || true)
  expect "info keyspace has no db0 line when empty" "0" "$out"
  for sec in server clients stats keyspace; do
    out=$(cli $P info "$sec" | tr -d '\r' | head -1)
    expect "info $sec header" "# ${sec^}" "$out"
  done
fi

# ---------------------------------------------------------------------------- b
# bench_run NAME ARGS...: runs redis-benchmark -q and checks every test reports rps.
bench_run() {
  local name=$1; shift
  local out rc=0 log=$LOGS/benchmark-$name.log
  out=$(timeout 120 redis-benchmark -p "$PORT" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out" | tr '\r' '\n' >"$log"
  local finals errs n
  finals=$(grep -E '^[A-Z_]+( \(10 keys\))?: [0-9.]+ requests per second' "$log" || true)
  errs=$(grep -iE 'error|err |warning|could not|refused|reset' "$log" || true)
  n=$(printf '%s' "$finals" | grep -c 'requests per second' || true)
  if [[ $rc != 0 ]]; then
    fail "redis-benchmark $name: exit code $rc (124 = timed out after 120 s); see $log"
  elif [[ -n $errs ]]; then
    fail "redis-benchmark $name: error lines: $(printf %q "$(head -3 <<<"$errs")")"
  elif [[ $n != 6 ]] || ! grep -q '^PING_INLINE:' <<<"$finals" || ! grep -q '^PING_MBULK:' <<<"$finals" \
       || ! grep -q '^SET:' <<<"$finals" || ! grep -q '^GET:' <<<"$finals" \
       || ! grep -q '^INCR:' <<<"$finals" || ! grep -q '^MSET (10 keys):' <<<"$finals"; then
    fail "redis-benchmark $name: expected 6 tests with requests per second, got $n: $(printf %q "$finals")"
  else
    pass "redis-benchmark $name: 6 tests completed: $(sed -E 's/ requests per second.*//' <<<"$finals" | tr '\n' ';')"
  fi
}

if want b; then
  section "b. redis-benchmark (server under test: --threads 2)"
  N=200000
  expect "flushall before -P 1" "OK" "$(cli $PORT flushall)"
  bench_run "P1" -c 50 -n $N -t ping,set,get,incr,mset -q
  expect "INCR test counter after -P 1 (counter:__rand_int__ == -n)" "$N" "$(cli $PORT get counter:__rand_int__)"
  expect "dbsize after -P 1 (key:__rand_int__, counter:__rand_int__)" "2" "$(cli $PORT dbsize)"
  expect "SET/MSET value after -P 1 is 3 bytes (-d default)" "3" "$(cli $PORT get key:__rand_int__ | tr -d '\n' | wc -c)"

  expect "flushall before -P 16" "OK" "$(cli $PORT flushall)"
  bench_run "P16" -c 50 -n $N -P 16 -t ping,set,get,incr,mset -q
  expect "INCR test counter after -P 16" "$N" "$(cli $PORT get counter:__rand_int__)"

  expect "flushall before -r 100000 -d 100" "OK" "$(cli $PORT flushall)"
  bench_run "r100000-d100" -c 50 -n $N -r 100000 -d 100 -t ping,set,get,incr,mset -q
  # Every INCR went to some counter:<12 digits>: their sum is exactly -n.
  out=$(timeout 60 python3 "$TOOLS" counters "$PORT" counter: 100000 2>&1 || echo "error")
  read -r ckeys csum _ _ <<<"$out"
  expect "sum of all counter:* after -r 100000 (INCR count)" "$N" "${csum:-}"
  out=$(timeout 60 python3 "$TOOLS" counters "$PORT" key: 100000 2>&1 || echo "error")
  read -r kkeys _ kmin kmax <<<"$out"
  expect "every key:* value is 100 bytes (-d 100)" "100 100" "${kmin:-} ${kmax:-}"
  # 200000 MSETs of 10 random keys each over 100000 names leave none unset (p ~ e^-20).
  expect "key:* names written" "100000" "${kkeys:-}"
  if [[ ${kkeys:-x} =~ ^[0-9]+$ && ${ckeys:-x} =~ ^[0-9]+$ ]]; then
    expect "dbsize == key:* + counter:*" "$((kkeys + ckeys))" "$(cli $PORT dbsize)"
  else
    fail "dbsize == key:* + counter:*: key scan failed: key:* '${kkeys:-}' counter:* '${ckeys:-}'"
  fi
fi

# ---------------------------------------------------------------------------- c
if want c; then
  section "c. differential test against redis-server $(redis-server --version | grep -o 'v=[0-9.]*')"
  rc=0
  timeout 300 python3 "$E2E/differential.py" --ref-port "$REF_PORT" --test-port "$PORT" \
    >"$LOGS/differential.log" 2>&1 || rc=$?
  cat "$LOGS/differential.log"
  summary=$(tail -1 "$LOGS/differential.log")
  if [[ $rc == 0 ]]; then pass "$summary"; else fail "exit $rc: $summary"; fi
fi

# ---------------------------------------------------------------------------- d
if want d; then
  section "d. redis-py driver"
  rc=0
  out=$(timeout 60 python3 "$E2E/redis_py_smoke.py" "$PORT" 2>&1) || rc=$?
  printf '%s\n' "$out"
  if [[ $rc == 0 ]]; then pass "redis-py smoke: $(tail -1 <<<"$out")"; else fail "redis-py smoke (exit $rc): $(tail -1 <<<"$out")"; fi
fi

# ---------------------------------------------------------------------------- j
if want j; then
  section "j. redis-py transactions (MULTI/EXEC pipelines, WATCH retries from threads and processes)"
  rc=0
  out=$(timeout 180 python3 "$E2E/redis_py_transactions.py" "$PORT" 2>&1) || rc=$?
  printf '%s\n' "$out"
  if [[ $rc == 0 ]]; then pass "redis-py transactions: $(tail -1 <<<"$out")"; else fail "redis-py transactions (exit $rc): $(tail -1 <<<"$out")"; fi
fi

# ---------------------------------------------------------------------------- k
if want k; then
  section "k. redis-py expiry, SCAN, databases (SET EX/PX/KEEPTTL, GETEX, EXPIRE NX/XX/GT/LT, scan_iter, COPY/MOVE)"
  rc=0
  out=$(timeout 120 python3 "$E2E/redis_py_expiry.py" "$PORT" 2>&1) || rc=$?
  printf '%s\n' "$out"
  if [[ $rc == 0 ]]; then pass "redis-py expiry: $(tail -1 <<<"$out")"; else fail "redis-py expiry (exit $rc): $(tail -1 <<<"$out")"; fi
fi

# ---------------------------------------------------------------------------- i
# A 64 MiB SET written in 4 KiB pieces: the server sees thousands of partial frames.
# A parser that re-scans its whole buffer on every read is quadratic here.
if want i; then
  section "i. 64 MiB request in 4 KiB writes (no quadratic re-parsing)"
  read -r ref_s ref_state <<<"$(timeout 120 python3 "$TOOLS" bigset "$REF_PORT" 64 4096 2>&1 || echo "error timeout")"
  read -r cw_s cw_state <<<"$(timeout 120 python3 "$TOOLS" bigset "$PORT" 64 4096 2>&1 || echo "error timeout")"
  if [[ $ref_state != intact ]]; then
    fail "64 MiB SET/GET on the reference redis-server: $ref_s $ref_state (test bug?)"
  elif [[ $cw_state != intact ]]; then
    fail "64 MiB SET/GET: value $cw_state ($cw_s)"
  elif awk -v c="$cw_s" -v r="$ref_s" 'BEGIN { exit !(c <= 3 + 5 * r) }'; then
    pass "64 MiB SET in 4 KiB writes: ${cw_s} s (redis-server ${ref_s} s; limit 3 s + 5x), GET intact"
  else
    fail "64 MiB SET in 4 KiB writes took ${cw_s} s vs redis-server ${ref_s} s (limit 3 s + 5x)"
  fi
fi

# ---------------------------------------------------------------------------- h
# Limits: a stalled reader is cut off at the output limit and does not stall others;
# maxclients; proto-max-bulk-len.
if want h && [[ $SERVER == corewire ]]; then
  section "h. limits (corewire --threads 1 --client-output-buffer-limit 1048576 --maxclients 8 --proto-max-bulk-len 4096)"
  LPORT=$(free_port $((PORT + 1)))
  if start_corewire "$LPORT" "$LOGS/corewire-limits.log" --threads 1 \
       --client-output-buffer-limit 1048576 --maxclients 8 --proto-max-bulk-len 4096; then
    LPID=$STARTED_PID
    # A 4000-byte value, then a client pipelining 20000 GETs (80 MB of replies) that
    # never reads. One worker serves everybody, so this is the worst case.
    val=$(head -c 4000 /dev/zero | tr '\0' 'v')
    expect "limits: set 4000-byte value" "OK" "$(cli $LPORT set big "$val")"
    helper_start timeout 60 python3 "$TOOLS" stall "$LPORT" big 20000
    helper_read line
    start=$(date +%s%N)
    out=$(timeout 5 redis-cli -p "$LPORT" ping 2>&1 || echo "<timeout>")
    ms=$((($(date +%s%N) - start) / 1000000))
    expect "limits: other client served while one stalls ($line; ping took ${ms} ms)" "PONG" "$out"
    sleep 1  # the server has had time to process the stalled client's input
    helper_stop
    read -r state got <<<"${HELPER_REST:-<no output>}"
    # Output limit 1 MiB + socket buffers: far less than the 80 MB requested.
    if [[ $state == closed && ${got:-x} =~ ^[0-9]+$ && $got -lt 40000000 ]]; then
      pass "limits: stalled client disconnected at output limit (read $got bytes before close)"
    else
      fail "limits: stalled client not disconnected: state=$state read=${got:-?} bytes of 80 MB"
    fi
    # A client that pipelines 80 MB of replies but reads them at full speed: the
    # server may serve them all or cut the client off at the limit; it must never
    # leave the connection open and silent. Five tries: this used to hang at random.
    hung=0; states=""
    for _ in 1 2 3 4 5; do
      read -r pstate pgot <<<"$(timeout 60 python3 "$TOOLS" pipeline-read "$LPORT" big 20000 4000 2>&1 || echo "error ?")"
      states+="$pstate/${pgot:-?} "
      [[ $pstate == complete || $pstate == closed ]] || hung=$((hung + 1))
    done
    if [[ $hung == 0 ]]; then
      pass "limits: fast reader of 80 MB pipelined replies completes or is cut off, never hangs ($states)"
    else
      fail "limits: fast reader of 80 MB pipelined replies: $hung of 5 connections went silent while open for 10 s (state/bytes: $states)"
    fi
    # maxclients 8: the 9th connection gets the Redis error.
    helper_start timeout 60 python3 "$TOOLS" hold "$LPORT" 8 30
    helper_read line
    expect "limits: 8 connections held" "held 8" "$line"
    expect "limits: 9th connection refused" "ERR max number of clients reached" "$(cli $LPORT ping)"
    helper_stop
    sleep 0.3
    expect "limits: served again after clients left" "PONG" "$(cli $LPORT ping)"
    # proto-max-bulk-len 4096.
    out=$(printf '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4097\r\n' | timeout 5 python3 -c '
import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=3)
s.sendall(sys.stdin.buffer.read()); d=b""
try:
    while True:
        x=s.recv(4096)
        if not x: break
        d+=x
except Exception: pass
print(repr(d))' "$LPORT" 2>&1 || echo "<error>")
    expect "limits: bulk over proto-max-bulk-len" "b'-ERR Protocol error: invalid bulk length\\r\\n'" "$out"
    stop_pid "$LPID"
    expect "limits: server exit code on SIGTERM" "0" "$EXIT_RC"
  else
    fail "limits: corewire did not start; log: $(tail -3 "$LOGS/corewire-limits.log" | tr '\n' ' ')"
  fi
fi

# ---------------------------------------------------------------------------- e
if want e && [[ $SERVER == corewire ]]; then
  section "e. seed host (build/seed_host, fixed port 6380, GET/SET only)"
  if [[ ! -x $SEED ]]; then
    fail "seed host: missing $SEED (make seed-host)"
  elif ! python3 "$TOOLS" port-free 6380; then
    fail "seed host: port 6380 is busy (something else listens there); cannot run the seed host check"
  else
    python3 "$TOOLS" exec "$SEED" >"$LOGS/seed_host.log" 2>&1 &
    SEED_PID=$!
    PIDS+=("$SEED_PID")
    if wait_ready 6380 "$SEED_PID" any; then
      expect "seed: set k v" "OK" "$(cli 6380 set k v)"
      expect "seed: get k" "v" "$(cli 6380 get k)"
      expect "seed: get missing (raw)" "" "$(cli 6380 get missing)"
      expect "seed: get missing (--no-raw)" "(nil)" "$(cli 6380 --no-raw get missing)"
      expect "seed: overwrite" "OK" "$(cli 6380 set k v2)"
      expect "seed: get overwritten" "v2" "$(cli 6380 get k)"
      out=$(cli 6380 del k)
      if [[ $out == ERR* ]]; then pass "seed: unsupported command gets an error ($out)"; else fail "seed: del k: expected an error, got $(printf %q "$out")"; fi
      expect "seed: still serving after error" "v2" "$(cli 6380 get k)"
    else
      fail "seed host did not accept connections on 6380 within 10 s; log: $(tail -3 "$LOGS/seed_host.log" | tr '\n' ' ')"
    fi
    stop_pid "$SEED_PID"
    if python3 "$TOOLS" port-free 6380; then pass "seed: killed, port 6380 free again"; else fail "seed: port 6380 still busy after kill"; fi
  fi
fi

# ---------------------------------------------------------------------------- f
if want f && [[ $SERVER == corewire ]]; then
  section "f. clean shutdown"
  for sig in TERM INT; do
    SPORT=$(free_port $((PORT + 10)))
    if start_corewire "$SPORT" "$LOGS/corewire-sig$sig.log" --threads 2; then
      SPID=$STARTED_PID
      # Idle clients must not hold the shutdown up.
      helper_start timeout 30 python3 "$TOOLS" hold "$SPORT" 20 25
      helper_read line
      expect "SIG$sig: 20 idle clients connected" "held 20" "$line"
      kill -"$sig" "$SPID"
      wait_exit "$SPID" 100
      if [[ $EXIT_RC == 0 ]]; then
        pass "SIG$sig with idle clients: exit code 0 within 10 s"
      elif [[ $EXIT_RC == 124 ]]; then
        fail "SIG$sig: still running after 10 s"; kill -KILL "$SPID" 2>/dev/null || true
      else
        fail "SIG$sig: exit code $EXIT_RC (expected 0); log: $(tail -3 "$LOGS/corewire-sig$sig.log" | tr '\n' ' ')"
      fi
      helper_stop
      if python3 "$TOOLS" port-free "$SPORT"; then pass "SIG$sig: port $SPORT released"; else fail "SIG$sig: port $SPORT still in use"; fi
    else
      fail "SIG$sig: corewire did not start on $SPORT"
    fi
  done
fi

# ---------------------------------------------------------------------------- g
if want g && [[ $SERVER == corewire ]]; then
  section "g. startup failures exit nonzero promptly"
  # $REF_PORT is held by redis-server (no SO_REUSEPORT there), so the bind must fail.
  rc=0; start=$(date +%s%N)
  cw_pg_args
  timeout 15 "$BIN" --port "$REF_PORT" --threads 2 "${CW_PG_ARGS[@]}" --http-port "$(free_port 17200)" >"$LOGS/corewire-bindfail.log" 2>&1 || rc=$?
  ms=$((($(date +%s%N) - start) / 1000000))
  if [[ $rc != 0 && $rc != 124 ]]; then
    pass "bind to busy port $REF_PORT: exit code $rc after $ms ms ($(head -1 "$LOGS/corewire-bindfail.log"))"
  else
    fail "bind to busy port $REF_PORT: exit code $rc after $ms ms (124 = still running after 15 s)"
  fi
  expect "reference redis-server still answers after the bind attempt" "PONG" "$(cli $REF_PORT ping)"
  for bad in "--port 0" "--port notanumber" "--no-such-flag"; do
    rc=0
    # shellcheck disable=SC2086
    timeout 15 "$BIN" $bad >"$LOGS/corewire-badarg.log" 2>&1 || rc=$?
    if [[ $rc != 0 && $rc != 124 ]]; then
      pass "invalid argument '$bad': exit code $rc ($(head -1 "$LOGS/corewire-badarg.log"))"
    else
      fail "invalid argument '$bad': exit code $rc (124 = still running after 15 s)"
    fi
  done
  rc=0
  out=$(timeout 15 "$BIN" --help 2>&1) || rc=$?
  if [[ $rc == 0 && $out == *--threads* && $out == *--port* ]]; then
    pass "--help exits 0 and lists --threads and --port"
  else
    fail "--help: exit code $rc, output $(printf %q "${out:0:200}")"
  fi
fi

# ============================================================================ PostgreSQL
# Sections l-s. PG_PORT is the PostgreSQL port under test: corewire's --pg-port
# (a second corewire, started here with --port PG_RESP_PORT --pg-port PG_PORT
# --threads 2, so that the Redis checks above are untouched by it), or with
# E2E_PG_SERVER=postgres a second real PostgreSQL. PG_REF_PORT is the reference
# PostgreSQL of the differential test. PG_WHY says why the server under test is not
# there, if it is not; every PostgreSQL section then fails with that reason.
PG_SECTIONS="l m n o p q r s"
pg_wanted() { local s; for s in $PG_SECTIONS; do want "$s" && return 0; done; return 1; }
PG_PORT="" PG_RESP_PORT="" PG_PID="" PG_REF_PORT="" PG_WHY=""

pg_setup() {
  local tool
  for tool in psql pgbench pg_isready; do
    command -v "$tool" >/dev/null || { PG_WHY="missing tool $tool (apt-get install postgresql)"; return; }
  done
  [[ -n $PG_BINDIR ]] || { PG_WHY="no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"; return; }
  python3 -c 'import psycopg, asyncpg' 2>/dev/null \
    || echo "note: python packages psycopg and/or asyncpg missing (pip install 'psycopg[binary]' asyncpg)"
  if want l || [[ $PG_SERVER == postgres ]]; then
    PG_REF_PORT=$(free_port 16540)
    if ! pg_start ref "$PG_REF_PORT" "$LOGS/pg-ref.log"; then
      PG_WHY="reference PostgreSQL did not start: $(tail -3 "$LOGS/pg-ref.log" | tr '\n' ' ')"; return
    fi
    echo "reference PostgreSQL ($("$PG_BINDIR/postgres" --version)) pid $STARTED_PID on 127.0.0.1:$PG_REF_PORT"
  fi
  if [[ $PG_SERVER == postgres ]]; then
    echo "E2E_PG_SERVER=postgres: PostgreSQL client checks run against a second PostgreSQL (suite self-test)"
    PG_PORT=$(free_port $((PG_REF_PORT + 1)))
    if ! pg_start test "$PG_PORT" "$LOGS/pg-test.log"; then
      PG_WHY="PostgreSQL under test did not start: $(tail -3 "$LOGS/pg-test.log" | tr '\n' ' ')"; PG_PORT=""; return
    fi
    PG_PID=$STARTED_PID
  else
    if [[ ! -x $BIN ]]; then PG_WHY="missing $BIN"; return; fi
    if ! corewire_has_pg "$BIN"; then
      PG_WHY="$BIN has no --pg-port flag (PostgreSQL listener not built yet?): not run"; return
    fi
    PG_RESP_PORT=$(free_port 16560)
    PG_PORT=$(free_port 16580)
    if ! start_corewire "$PG_RESP_PORT" "$LOGS/corewire-pg.log" --pg-port "$PG_PORT" --threads 2; then
      PG_WHY="corewire --pg-port $PG_PORT did not start; log: $(tail -3 "$LOGS/corewire-pg.log" | tr '\n' ' ')"; PG_PORT=""; return
    fi
    PG_PID=$STARTED_PID
    if ! pg_wait_ready "$PG_PORT" "$PG_PID"; then
      PG_WHY="corewire did not accept PostgreSQL connections (pg_isready) on --pg-port $PG_PORT within 10 s; log: $(tail -3 "$LOGS/corewire-pg.log" | tr '\n' ' ')"
      PG_PORT=""; return
    fi
  fi
  echo "PostgreSQL server under test ($PG_SERVER) pid $PG_PID on 127.0.0.1:$PG_PORT${PG_RESP_PORT:+ (RESP on $PG_RESP_PORT)}"
}

# pg_section LETTER TITLE: true if the section is to run and its server is there;
# prints the header, and the FAIL when the server is not there.
pg_section() {
  want "$1" || return 1
  section "$1. $2"
  if [[ -n $PG_WHY || -z $PG_PORT ]]; then fail "$1. $2: ${PG_WHY:-no PostgreSQL server under test}"; return 1; fi
}

# pg_script NAME TIMEOUT CMD...: runs a Python check script, prints its output,
# one PASS/FAIL for the whole script (its last line).
pg_script() {
  local name=$1 limit=$2 rc=0 out; shift 2
  out=$(pg_client_env timeout "$limit" "$@" 2>&1) || rc=$?
  printf '%s\n' "$out"
  if [[ $rc == 0 ]]; then pass "$name: $(tail -1 <<<"$out")";
  else fail "$name (exit $rc$([[ $rc == 124 ]] && echo ", timed out after $limit s")): $(grep -c '^FAIL' <<<"$out") FAIL lines; $(tail -1 <<<"$out")"; fi
}

if pg_wanted; then
  section "PostgreSQL servers"
  pg_setup
  [[ -z $PG_WHY ]] || echo "PostgreSQL sections cannot run: $PG_WHY"
  if [[ $PG_SERVER == postgres ]]; then
    for s in p r; do want $s && echo "note: section $s is corewire-only: skipped with E2E_PG_SERVER=postgres"; done
  fi
fi

# ---------------------------------------------------------------------------- l
if pg_section l "psql differential test against PostgreSQL (tests/e2e/pg/[0-9]*.sql, multi_statement.txt)"; then
  if [[ -z $PG_REF_PORT ]]; then
    fail "psql differential: no reference PostgreSQL"
  else
    rc=0
    timeout 300 python3 "$E2E/pg/psql_diff.py" --ref-port "$PG_REF_PORT" --test-port "$PG_PORT" \
      --out "$LOGS/pg-diff" >"$LOGS/pg-diff.log" 2>&1 || rc=$?
    cat "$LOGS/pg-diff.log"
    summary=$(tail -1 "$LOGS/pg-diff.log")
    if [[ $rc == 0 ]]; then pass "$summary"; else fail "exit $rc: $summary (outputs in $LOGS/pg-diff)"; fi
  fi
fi

# ---------------------------------------------------------------------------- m
# pgbench with custom scripts over keys 1..1000, each protocol mode; then the table
# must still hold exactly those keys, each with its loaded value or an UPDATEd one.
if pg_section m "pgbench (-c 4 -j 2 -t 500; tests/e2e/pg/pgbench_{select,update}.sql; -M simple|extended|prepared)"; then
  pq "$PG_PORT" -c 'TRUNCATE kv' >/dev/null
  out=$(seq 1 1000 | awk '{print $1 "\tv" $1}' | pq "$PG_PORT" -c 'COPY kv FROM STDIN')
  expect "pgbench: load keys 1..1000 with COPY FROM STDIN" "" "$out"
  expect "pgbench: count(*) after load" "1000" "$(pq "$PG_PORT" -c 'SELECT count(*) FROM kv')"
  for mode in simple extended prepared; do
    for script in select update; do
      rc=0
      out=$(pg_client_env timeout 120 pgbench -n -h 127.0.0.1 -p "$PG_PORT" -U postgres \
        -f "$E2E/pg/pgbench_$script.sql" -M "$mode" -c 4 -j 2 -t 500 kv 2>&1) || rc=$?
      printf '%s\n' "$out" >"$LOGS/pgbench-$script-$mode.log"
      tps=$(grep -o '^tps = [0-9.]*' <<<"$out" | head -1 || true)
      if [[ $rc != 0 ]]; then
        fail "pgbench $script -M $mode: exit $rc (124 = timed out after 120 s): $(grep -m3 -iE 'error|abort|fatal' <<<"$out" | tr '\n' ' ')"
      elif ! grep -qx 'number of transactions actually processed: 2000/2000' <<<"$out"; then
        fail "pgbench $script -M $mode: $(grep 'actually processed' <<<"$out" || echo 'no processed count')"
      elif ! grep -q '^number of failed transactions: 0 (0.000%)$' <<<"$out"; then
        fail "pgbench $script -M $mode: $(grep 'failed transactions' <<<"$out" | head -1 || echo 'no failed-transactions line')"
      else
        pass "pgbench $script -M $mode: 2000/2000 transactions, 0 failed, $tps"
      fi
    done
  done
  expect "pgbench: count(*) after the runs" "1000" "$(pq "$PG_PORT" -c 'SELECT count(*) FROM kv')"
  # Every key 1..1000 once; values "v<key>" (never updated) or an integer 1..1000000.
  out=$(pq "$PG_PORT" -c 'COPY (SELECT key, value FROM kv ORDER BY key) TO STDOUT' | awk -F '\t' '
    { n++; if (seen[$1]++) dup++;
      if ($1 !~ /^[0-9]+$/ || $1 < 1 || $1 > 1000) badkey++;
      if ($2 == "v" $1) orig++; else if ($2 ~ /^[0-9]+$/ && $2 >= 1 && $2 <= 1000000) upd++; else badval++ }
    END { printf "rows=%d dup=%d badkey=%d badval=%d updated=%s\n", n, dup, badkey, badval, (upd > 0 ? "yes" : "no") }')
  expect "pgbench: read-back (keys 1..1000, values loaded or updated)" "rows=1000 dup=0 badkey=0 badval=0 updated=yes" "$out"
fi

# ---------------------------------------------------------------------------- n
if pg_section n "psycopg 3 (tests/e2e/pg/psycopg_smoke.py)"; then
  pg_script "psycopg smoke" 120 python3 "$E2E/pg/psycopg_smoke.py" --port "$PG_PORT"
fi

# ---------------------------------------------------------------------------- o
if pg_section o "asyncpg (tests/e2e/pg/asyncpg_smoke.py)"; then
  pg_script "asyncpg smoke" 120 python3 "$E2E/pg/asyncpg_smoke.py" --port "$PG_PORT"
fi

# ---------------------------------------------------------------------------- p
# One corewire, both protocols: redis-cli and psql on the same data (db 0 = kv).
if want p && [[ $PG_SERVER == corewire ]] && pg_section p "cross-protocol: redis-cli <-> psql, redis-py <-> psycopg (one corewire)"; then
  R=$PG_RESP_PORT
  expect "xp: flushall" "OK" "$(cli "$R" flushall)"
  expect "xp: redis-cli SET a 1" "OK" "$(cli "$R" set a 1)"
  expect "xp: psql SELECT value of a" "1" "$(pq "$PG_PORT" -c "SELECT value FROM kv WHERE key = 'a'")"
  expect "xp: psql INSERT b" "" "$(pq "$PG_PORT" -c "INSERT INTO kv VALUES ('b', 'from psql')")"
  expect "xp: redis-cli GET b" "from psql" "$(cli "$R" get b)"
  uni='héllo wörld ✓ 日本語 🎉 with  spaces '
  expect "xp: redis-cli SET unicode value with spaces" "OK" "$(cli "$R" set 'key with space' "$uni")"
  expect "xp: psql reads it (trailing spaces kept)" "$uni" "$(pq "$PG_PORT" -c "SELECT value FROM kv WHERE key = 'key with space'")"
  expect "xp: psql UPDATE with unicode" "" "$(pq "$PG_PORT" -c "UPDATE kv SET value = 'ünï cödé ✓' WHERE key = 'key with space'")"
  expect "xp: redis-cli GET it" "ünï cödé ✓" "$(cli "$R" get 'key with space')"
  expect "xp: psql DELETE a" "" "$(pq "$PG_PORT" -c "DELETE FROM kv WHERE key = 'a'")"
  expect "xp: redis-cli EXISTS a" "0" "$(cli "$R" exists a)"
  expect "xp: redis-cli DBSIZE == psql count(*)" "$(cli "$R" dbsize)" "$(pq "$PG_PORT" -c 'SELECT count(*) FROM kv')"
  # -x: the value from stdin, NUL included (an argv string cannot hold one).
  expect "xp: redis-cli SET binary value" "OK" "$(printf '\001\377\000x' | timeout 10 redis-cli -p "$R" -x set bin 2>&1)"
  expect "xp: psql value::bytea of a binary value" '\x01ff0078' "$(pq "$PG_PORT" -c "SELECT value::bytea FROM kv WHERE key = 'bin'")"
  expect "xp: psql TRUNCATE" "" "$(pq "$PG_PORT" -c 'TRUNCATE kv')"
  expect "xp: redis-cli DBSIZE after TRUNCATE" "0" "$(cli "$R" dbsize)"
  pg_script "cross-protocol (redis-py + psycopg)" 120 python3 "$E2E/pg/cross_protocol.py" --resp-port "$R" --pg-port "$PG_PORT"
fi

# ---------------------------------------------------------------------------- q
if want q; then
  JDBC_JAR=${JDBC_JAR:-/usr/share/java/postgresql.jar}
  if ! command -v javac >/dev/null || ! command -v java >/dev/null || [[ ! -r $JDBC_JAR ]]; then
    section "q. JDBC (pgjdbc)"
    echo "SKIP: JDBC: needs java, javac and $JDBC_JAR (apt-get install default-jdk-headless libpostgresql-jdbc-java)"
  elif pg_section q "JDBC (pgjdbc, $JDBC_JAR; tests/e2e/pg/JdbcSmoke.java)"; then
    rm -rf "$LOGS/jdbc" && mkdir -p "$LOGS/jdbc"
    if out=$(timeout 120 javac -encoding UTF-8 -d "$LOGS/jdbc" "$E2E/pg/JdbcSmoke.java" 2>&1); then
      pg_script "JDBC smoke" 120 java -cp "$LOGS/jdbc:$JDBC_JAR" JdbcSmoke "$PG_PORT"
    else
      fail "JDBC: javac failed: $(head -5 <<<"$out" | tr '\n' ' ')"
    fi
  fi
fi

# ---------------------------------------------------------------------------- r
if want r && [[ $PG_SERVER == corewire ]] && pg_section r "corewire-only SQL checks (unsupported SQL, version(), database names)"; then
  pg_script "corewire-only" 60 python3 "$E2E/pg/corewire_only.py" --port "$PG_PORT"
fi

# ---------------------------------------------------------------------------- s
# Password authentication: corewire --pg-user (alice: plaintext, bob: md5 hash, carol:
# SCRAM verifier; see tests/e2e/pg/auth_check.py) with --pg-auth-method scram-sha-256
# and md5, one corewire --threads 1 each; or, with E2E_PG_SERVER=postgres, one more
# PostgreSQL with the same roles and pg_hba `host all all 127.0.0.1/32 METHOD`.
if pg_section s "PostgreSQL password authentication (scram-sha-256, md5)"; then
  AUTH=$E2E/pg/auth_check.py
  if [[ $PG_SERVER == corewire ]]; then
    users=()
    while IFS= read -r u; do users+=(--pg-user "$u"); done < <(python3 "$AUTH" --print-users)
    for method in scram-sha-256 md5; do
      APORT=$(free_port 16600); ARESP=$(free_port 16620)
      if start_corewire "$ARESP" "$LOGS/corewire-auth-$method.log" --pg-port "$APORT" --threads 1 \
           --pg-auth-method "$method" "${users[@]}" && pg_wait_ready "$APORT" "$STARTED_PID"; then
        APID=$STARTED_PID
        pg_script "auth $method" 120 python3 "$AUTH" --port "$APORT" --method "$method"
        stop_pid "$APID"
      else
        fail "auth $method: corewire did not start; log: $(tail -3 "$LOGS/corewire-auth-$method.log" | tr '\n' ' ')"
      fi
    done
  else
    APORT=$(free_port 16600)
    if pg_start auth "$APORT" "$LOGS/pg-auth.log"; then
      APID=$STARTED_PID
      sock=$(dirname "${PG_DATA[auth]}")
      # Administration through the Unix socket (trusted); TCP needs the method.
      admin() { pg_client_env timeout 30 psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$sock" -p "$APORT" -U postgres -d kv "$@" 2>&1; }
      out=$(python3 "$AUTH" --print-sql | admin)
      [[ -z $out ]] || fail "auth: creating roles: $out"
      for method in scram-sha-256 md5; do
        printf 'local all all trust\nhost all all 127.0.0.1/32 %s\n' "$method" >"${PG_DATA[auth]}/pg_hba.conf"
        out=$(admin -c "SET password_encryption = '$method'" -c "ALTER ROLE alice PASSWORD 'alice pw'" \
          -c 'SELECT pg_reload_conf()')
        [[ $out == t ]] || fail "auth $method: reconfiguring PostgreSQL: $out"
        pg_script "auth $method" 120 python3 "$AUTH" --port "$APORT" --method "$method"
      done
      pg_stop "$APID"
    else
      fail "auth: PostgreSQL did not start: $(tail -3 "$LOGS/pg-auth.log" | tr '\n' ' ')"
    fi
  fi
fi

# ---------------------------------------------------------------------------- pool
# Issue 6 (tests/e2e/pool/pool.sh, sourced): corewire --config with a [databases] entry
# app -> a PostgreSQL of its own (SCRAM user), pool-mode transaction, pool size 4,
# --threads 2: psycopg 3 and asyncpg with named prepared statements (20 clients each),
# pgbench -M prepared -c 16 with exact balance sums, the admin console (SHOW ...,
# PAUSE/RESUME, KILL), upstream errors diffed with psql directly, \copy in and out.
# E2E_POOL_SERVER=pgbouncer runs the checks against PgBouncer (self-test; the
# default with E2E_SERVER=redis).
if want pool; then
  # shellcheck source=tests/e2e/pool/pool.sh
  source "$E2E/pool/pool.sh"
  pool_section
fi

# ============================================================================ operations
# Sections t-z (tests/e2e/ops/): t configuration (file, environment, flags, errors,
# --check-config, --help), u live reload (SIGHUP under load, requirepass, pg users,
# CONFIG SET, the admin console's RELOAD, settings that need a restart), v /metrics
# against known traffic (and /stats, INFO, SHOW STATS, SHOW WORKERS), w HTTP (/health,
# the status page in headless Chromium, the KV REST API), x logs, secrets and SLOWLOG,
# y shutdown (drain, deadline, second signal, SHUTDOWN), z make install. Each is one
# Python script (helpers in tests/e2e/ops/opslib.py) that starts its own corewire
# servers on free ports from its --port-base, logs them in build/e2e/ops/, bounds every
# wait and kills every server it started when it ends. Every "PASS: ..." or "FAIL: ..."
# line it prints is one check here; a script that ends otherwise (crash, timeout)
# without a FAIL line, or prints no check at all, is one more FAIL. corewire-only: not
# run with E2E_SERVER=redis (said so).

# ops_section LETTER TITLE SCRIPT TIMEOUT PORT_BASE
ops_section() {
  local letter=$1 title=$2 script=$3 limit=$4 base=$5 line np=0 nf=0 rc=""
  want "$letter" || return 0
  section "$letter. $title (tests/e2e/ops/$script)"
  if [[ $SERVER != corewire ]]; then
    echo "note: section $letter is corewire-only: not run with E2E_SERVER=$SERVER"; return 0
  fi
  if [[ ! -x $BIN ]]; then fail "$letter. $title: missing $BIN"; return 0; fi
  base=$(free_port "$base") || { fail "$letter. $title: no free port from $5"; return 0; }
  while IFS= read -r line; do
    case $line in
      "PASS: "*) pass "$letter. ${line#PASS: }"; np=$((np + 1)) ;;
      "FAIL: "*) fail "$letter. ${line#FAIL: }"; nf=$((nf + 1)) ;;
      "__ops_exit="*) rc=${line#__ops_exit=} ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < <(x=0; pg_client_env timeout -k 10 "$limit" python3 -u "$E2E/ops/$script" --bin "$BIN" --logs "$LOGS/ops" \
             --port-base "$base" 2>&1 || x=$?; echo "__ops_exit=$x")
  if [[ $rc != 0 && $nf == 0 ]]; then
    fail "$letter. $script: exit status ${rc:-?}$([[ $rc == 124 ]] && echo ", timed out after $limit s") without a FAIL line"
  fi
  if [[ $np == 0 && $nf == 0 ]]; then fail "$letter. $script: ran no check"; fi
  return 0
}

# ---------------------------------------------------------------------------- t
ops_section t "configuration: file, environment, flags, --check-config" config_check.py 300 18100
# ---------------------------------------------------------------------------- u
ops_section u "live reload: SIGHUP under load, CONFIG SET, RELOAD" reload_check.py 300 18300
# ---------------------------------------------------------------------------- v
ops_section v "metrics: /metrics, /stats, INFO, SHOW STATS/WORKERS on known traffic" metrics_check.py 240 18500
# ---------------------------------------------------------------------------- w
ops_section w "HTTP: /health, status page (headless Chromium), KV REST API" http_check.py 300 18700
# ---------------------------------------------------------------------------- x
ops_section x "logs, secrets, SLOWLOG" logs_check.py 240 18900
# ---------------------------------------------------------------------------- y
ops_section y "shutdown: drain, deadline, second signal, SHUTDOWN" lifecycle_check.py 300 19100
# ---------------------------------------------------------------------------- z
ops_section z "make install" install_check.py 1200 19300

# ---------------------------------------------------------------------------- durability
# Issue 5 (tests/e2e/durability/): crash_check.py SIGKILLs corewire --data-dir under load
# from RESP and SQL writers 20 times (12 --appendfsync always, 8 everysec) and checks
# each recovery (acknowledged writes, nothing torn or invented, multi-key writes
# all-or-nothing, expiry); fault_check.py cuts and flips bits in the logs, starts a
# second server on the same dir and fills a 2 MB tmpfs (SKIP if it cannot mount one).
# Lines counted as in ops_section. With E2E_SERVER=redis both run their RESP-only parts
# against redis-server --appendonly yes: a self-test of the harness.
dur_section() {
  local script=$1 limit=$2 base=$3 line np=0 nf=0 ns=0 rc="" srv=()
  want durability || return 0
  section "durability: $script (tests/e2e/durability/$script)"
  if [[ $SERVER == redis ]]; then
    srv=(--server redis)
  elif [[ ! -x $BIN ]]; then
    fail "durability $script: missing $BIN"; return 0
  fi
  base=$(free_port "$base") || { fail "durability $script: no free port from $3"; return 0; }
  while IFS= read -r line; do
    case $line in
      "PASS: "*) pass "durability. ${line#PASS: }"; np=$((np + 1)) ;;
      "FAIL: "*) fail "durability. ${line#FAIL: }"; nf=$((nf + 1)) ;;
      "SKIP: "*) printf '%s\n' "$line"; ns=$((ns + 1)) ;;
      "__dur_exit="*) rc=${line#__dur_exit=} ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < <(x=0; pg_client_env timeout -k 10 "$limit" python3 -u "$E2E/durability/$script" --bin "$BIN" \
             --logs "$LOGS/durability" --port-base "$base" "${srv[@]}" 2>&1 || x=$?; echo "__dur_exit=$x")
  if [[ $rc != 0 && $nf == 0 ]]; then
    fail "durability $script: exit status ${rc:-?}$([[ $rc == 124 ]] && echo ", timed out after $limit s") without a FAIL line"
  fi
  if [[ $np == 0 && $nf == 0 && $ns == 0 ]]; then fail "durability $script: ran no check"; fi
  return 0
}
dur_section crash_check.py 180 19800
dur_section fault_check.py 100 20300

# ---------------------------------------------------------------------------- abuse
# Issue 7, part 5 (tests/e2e/abuse/abuse_check.py): hostile clients against a fresh
# corewire --threads 2 per scenario (password on both protocols), while well-behaved
# redis-py and psycopg clients keep working: 1a GETs pipelined without reading (output
# buffer limit), 1b 2 GiB of SETs pipelined without reading, 2 slowloris PostgreSQL
# startups (auth timeout), 3 10,000 idle connections, 4 a bad-password flood from
# 127.0.0.2/.3 (counted, rate-limited), 5 bulk/multibulk lengths of 2^40, 6 random bytes
# on every port. Checks: 0 errors for the good clients, served during the abuse, server
# alive, peak RSS < 1 GiB, abusers cut off as configured; latencies are reported, not
# asserted. Prints a results table and writes it as JSON to $ABUSE_REPORT (default
# build/e2e/abuse/abuse-report.json; a .md copy next to it). Lines counted as in
# ops_section. ulimit -n is raised for the script and its servers (10,000 connections
# each side). corewire-only.
abuse_section() {
  local limit=$1 base=$2 line np=0 nf=0 rc=""
  want abuse || return 0
  section "abuse: hostile clients while good ones keep working (tests/e2e/abuse/abuse_check.py)"
  if [[ $SERVER != corewire ]]; then
    echo "note: the abuse section is corewire-only: not run with E2E_SERVER=$SERVER"; return 0
  fi
  if [[ ! -x $BIN ]]; then fail "abuse: missing $BIN"; return 0; fi
  base=$(free_port "$base") || { fail "abuse: no free port from $2"; return 0; }
  while IFS= read -r line; do
    case $line in
      "PASS: "*) pass "abuse ${line#PASS: }"; np=$((np + 1)) ;;
      "FAIL: "*) fail "abuse ${line#FAIL: }"; nf=$((nf + 1)) ;;
      "__abuse_exit="*) rc=${line#__abuse_exit=} ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < <(x=0; ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
           pg_client_env timeout -k 10 "$limit" python3 -u "$E2E/abuse/abuse_check.py" --bin "$BIN" \
             --logs "$LOGS/abuse" --port-base "$base" --report "${ABUSE_REPORT:-$LOGS/abuse/abuse-report.json}" \
             2>&1 || x=$?
           echo "__abuse_exit=$x")
  if [[ $rc != 0 && $nf == 0 ]]; then
    fail "abuse: exit status ${rc:-?}$([[ $rc == 124 ]] && echo ", timed out after $limit s") without a FAIL line"
  fi
  if [[ $np == 0 && $nf == 0 ]]; then fail "abuse: ran no check"; fi
  return 0
}
abuse_section 300 20800

# ---------------------------------------------------------------------------- end
section "server under test after all checks"
if kill -0 "$SRV_PID" 2>/dev/null; then
  expect "server under test still answers" "PONG" "$(cli $PORT ping)"
  stop_pid "$SRV_PID"
  expect "server under test: exit code on SIGTERM" "0" "$EXIT_RC"
else
  fail "server under test died during the run; log tail: $(tail -5 "$LOGS/server.log" "$LOGS/corewire.log" 2>/dev/null | tr '\n' ' ')"
fi
if [[ -n $PG_PID && $PG_SERVER == corewire ]]; then
  if kill -0 "$PG_PID" 2>/dev/null; then
    expect "corewire --pg-port still answers SELECT 1" "1" "$(pq "$PG_PORT" -c 'SELECT 1')"
    stop_pid "$PG_PID"
    expect "corewire --pg-port: exit code on SIGTERM" "0" "$EXIT_RC"
  else
    fail "corewire --pg-port died during the run; log tail: $(tail -5 "$LOGS/corewire-pg.log" | tr '\n' ' ')"
  fi
fi

echo
echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
