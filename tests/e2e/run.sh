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
ONLY=${E2E_ONLY:-a b c d j k i h e f g}
mkdir -p "$LOGS"

PASSED=0
FAILED=0
PIDS=()

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
section() { echo; echo "=== $*"; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

cleanup() {
  local p
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

# A free loopback port at or above $1 (bounded scan).
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if python3 "$TOOLS" port-free "$p"; then echo "$p"; return 0; fi
  done
  echo "no free port in $1..$(($1 + 200))" >&2
  return 1
}

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

# start_corewire PORT LOG ARGS...: sets STARTED_PID; fails the caller if not ready.
start_corewire() {
  local port=$1 log=$2; shift 2
  python3 "$TOOLS" exec "$BIN" --port "$port" "$@" >"$log" 2>&1 &
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
  timeout 15 "$BIN" --port "$REF_PORT" --threads 2 >"$LOGS/corewire-bindfail.log" 2>&1 || rc=$?
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

# ---------------------------------------------------------------------------- end
section "server under test after all checks"
if kill -0 "$SRV_PID" 2>/dev/null; then
  expect "server under test still answers" "PONG" "$(cli $PORT ping)"
  stop_pid "$SRV_PID"
  expect "server under test: exit code on SIGTERM" "0" "$EXIT_RC"
else
  fail "server under test died during the run; log tail: $(tail -5 "$LOGS/server.log" "$LOGS/corewire.log" 2>/dev/null | tr '\n' ' ')"
fi

echo
echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]
