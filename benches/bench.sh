#!/usr/bin/env bash
# corewire next to redis-server, measured in the same run on the same machine.
#
#   make bench                     (builds build/corewire first)
#   BENCH_REPS=5 bash benches/bench.sh
#   BENCH_QUICK=1 bash benches/bench.sh     (1 repetition, -n / 10: a smoke run)
#
# Three servers run side by side on loopback:
#   redis      redis-server (save "", appendonly no), pinned to CPU 0 with taskset
#   cw1        corewire --threads 1, pinned to CPU 0 with taskset (its one worker
#              pins itself among the CPUs it is allowed, i.e. CPU 0)
#   cw2        corewire --threads 2 (both cores, shared with the load generator:
#              an extra column, not a per-core figure)
# redis-benchmark is pinned to the last CPU, so on this 2-core machine redis vs cw1 is
# a one-core-each comparison: the per-core efficiency figure that means something.
#
# For each test (PING_INLINE, PING_MBULK, SET, GET, INCR, MSET) and pipeline depth
# (-P 1, -P 16) with 50 clients, every server is measured BENCH_REPS times, the
# servers interleaved within each repetition so they share the machine's noise; the
# table shows medians. Server CPU is utime+stime from /proc/PID/stat before and after
# each run, per request (one MSET of 10 keys is one request). Latencies come from
# redis-benchmark --csv.
#
# MULTI/EXEC: redis-benchmark cannot send transactions, so benches/multi_exec.rs (built
# once up front with cargo bench --no-run, pinned to the last CPU like redis-benchmark)
# runs, in each repetition after the redis-benchmark tests, 50 clients sending MULTI,
# SET, SET, GET, EXEC (5 commands) at -P 1 and -P 16 (transactions per write), every
# reply checked byte for byte. There rps = transactions/s and CPU = per transaction;
# latency is the round trip of one batch of P transactions.
# Then RSS per idle connection: 5000 connections that each sent
# one PING, VmRSS before and after.
#
# Raw results go to build/bench/<timestamp>/; the table goes to stdout.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${COREWIRE_BIN:-$ROOT/build/corewire}
TOOLS=$ROOT/tests/e2e/tools.py
REPS=${BENCH_REPS:-3}
N_P1=${BENCH_N_P1:-200000}
N_P16=${BENCH_N_P16:-2000000}
IDLE_CONNS=${BENCH_IDLE_CONNS:-5000}
if [[ -n ${BENCH_QUICK:-} ]]; then REPS=1; N_P1=$((N_P1 / 10)); N_P16=$((N_P16 / 10)); IDLE_CONNS=1000; fi
TX_P1=${BENCH_TX_P1:-$N_P1}          # MULTI/EXEC transactions per run (5 commands each)
TX_P16=${BENCH_TX_P16:-$((N_P16 / 2))}
TESTS=(ping_inline ping_mbulk set get incr mset)
OUT=$ROOT/build/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

for tool in redis-server redis-benchmark redis-cli python3 taskset timeout getconf; do
  command -v "$tool" >/dev/null || { echo "bench: missing $tool" >&2; exit 1; }
done
[[ -x $BIN ]] || { echo "bench: missing $BIN (run make all)" >&2; exit 1; }

# The MULTI/EXEC load generator, built before anything is measured.
MULTI_EXEC=$(cargo bench --bench multi_exec --no-run --message-format=json 2>"$OUT/multi_exec-build.log" |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "multi_exec" and m.get("executable"):
        print(m["executable"])') || true
if [[ -z $MULTI_EXEC || ! -x $MULTI_EXEC ]]; then
  echo "bench: cargo bench --bench multi_exec --no-run failed; log:" >&2; cat "$OUT/multi_exec-build.log" >&2; exit 1
fi

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NCPU=$(nproc)
LAST_CPU=$((NCPU - 1))
CLK_TCK=$(getconf CLK_TCK)

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so that cleanup runs when we are interrupted

free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if python3 "$TOOLS" port-free "$p"; then echo "$p"; return 0; fi
  done
  echo "bench: no free port in $1..$(($1 + 200))" >&2
  return 1
}

wait_ready() {
  local port=$1 pid=$2
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    [[ $(timeout 2 redis-cli -p "$port" ping 2>/dev/null || true) == PONG ]] && return 0
    sleep 0.1
  done
  return 1
}

# CPU time of a process (all threads), in microseconds.
cpu_us() {
  local ticks
  ticks=$(sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}')
  echo $((ticks * 1000000 / CLK_TCK))
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

declare -A PORT PID
start() {  # name port command...
  local name=$1 port=$2; shift 2
  "$@" >"$OUT/$name.log" 2>&1 &
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
  PORT[$name]=$port
  wait_ready "$port" "${PID[$name]}" || { echo "bench: $name did not start; log:" >&2; cat "$OUT/$name.log" >&2; exit 1; }
}

p=$(free_port 17380); start redis "$p" taskset -c 0 redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no
p=$(free_port $((p + 1))); start cw1 "$p" taskset -c 0 "$BIN" --port "$p" --threads 1
p=$(free_port $((p + 1))); start cw2 "$p" "$BIN" --port "$p" --threads 2
SERVERS=(redis cw1 cw2)

{
  echo "date: $(date -Is)"
  echo "host: $(uname -srm), $NCPU CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "redis-server: $(redis-server --version)"
  echo "corewire: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "reps=$REPS n(P1)=$N_P1 n(P16)=$N_P16 multi_exec tx(P1)=$TX_P1 tx(P16)=$TX_P16 clients=50 idle_conns=$IDLE_CONNS"
  for s in "${SERVERS[@]}"; do echo "$s: pid ${PID[$s]} port ${PORT[$s]}"; done
} | tee "$OUT/env.txt"

# Warm up every server (allocator, page faults, branch predictors).
for s in "${SERVERS[@]}"; do
  timeout 60 taskset -c "$LAST_CPU" redis-benchmark -p "${PORT[$s]}" -c 50 -n 50000 -t set,get -q >/dev/null
  timeout 60 taskset -c "$LAST_CPU" "$MULTI_EXEC" --port "${PORT[$s]}" --clients 50 --transactions 20000 --pipeline 16 \
    >"$OUT/multi_exec-warmup-$s.txt" 2>&1 || {
    echo "bench: multi_exec warm-up failed against $s:" >&2; cat "$OUT/multi_exec-warmup-$s.txt" >&2; exit 1; }
done

RAW=$OUT/runs.csv
echo "rep,test,pipeline,server,requests,rps,avg_ms,p50_ms,p99_ms,cpu_us" >"$RAW"
total=$((REPS * (${#TESTS[@]} + 1) * 2 * ${#SERVERS[@]}))
i=0
for rep in $(seq 1 "$REPS"); do
  for t in "${TESTS[@]}"; do
    for P in 1 16; do
      n=$N_P1; [[ $P == 16 ]] && n=$N_P16
      for s in "${SERVERS[@]}"; do
        i=$((i + 1))
        before=$(cpu_us "${PID[$s]}")
        csv=$(timeout 180 taskset -c "$LAST_CPU" redis-benchmark -p "${PORT[$s]}" -c 50 -n "$n" -P "$P" -t "$t" --csv 2>"$OUT/stderr-$s.txt") || {
          echo "bench: redis-benchmark failed: server $s test $t -P $P (exit $?)" >&2; cat "$OUT/stderr-$s.txt" >&2; exit 1; }
        after=$(cpu_us "${PID[$s]}")
        row=$(grep -v '^"test"' <<<"$csv" | head -1 | tr -d '"')
        IFS=, read -r _ rps avg _ p50 _ p99 _ <<<"$row"
        [[ -n ${rps:-} ]] || { echo "bench: no result line for $s $t -P $P: $csv" >&2; exit 1; }
        echo "$rep,$t,$P,$s,$n,$rps,$avg,$p50,$p99,$((after - before))" >>"$RAW"
        printf '[%3d/%d] rep %d %-11s -P %-2s %-5s %12s rps  %6.2f CPU-us/req\n' "$i" "$total" "$rep" "$t" "$P" "$s" "$rps" \
          "$(awk -v c=$((after - before)) -v n="$n" 'BEGIN {print c / n}')" >&2
      done
    done
  done
  for P in 1 16; do
    n=$TX_P1; [[ $P == 16 ]] && n=$TX_P16
    for s in "${SERVERS[@]}"; do
      i=$((i + 1))
      before=$(cpu_us "${PID[$s]}")
      res=$(timeout 180 taskset -c "$LAST_CPU" "$MULTI_EXEC" --port "${PORT[$s]}" --clients 50 --transactions "$n" \
        --pipeline "$P" 2>"$OUT/stderr-$s.txt") || {
        echo "bench: multi_exec failed: server $s -P $P (exit $?)" >&2; echo "$res" >&2; cat "$OUT/stderr-$s.txt" >&2; exit 1; }
      after=$(cpu_us "${PID[$s]}")
      line=$(grep '^RESULT ' <<<"$res") || { echo "bench: no RESULT line from multi_exec for $s -P $P: $res" >&2; exit 1; }
      declare -A R=()
      for kv in ${line#RESULT }; do R[${kv%%=*}]=${kv#*=}; done
      [[ ${R[mismatches]:-?} == 0 && ${R[transactions]:-?} == "$n" ]] || {
        echo "bench: multi_exec against $s -P $P: ${R[transactions]:-?}/$n transactions, ${R[mismatches]:-?} mismatched replies" >&2; exit 1; }
      echo "$rep,multi_exec,$P,$s,$n,${R[tps]},${R[avg_ms]},${R[p50_ms]},${R[p99_ms]},$((after - before))" >>"$RAW"
      printf '[%3d/%d] rep %d %-11s -P %-2s %-5s %12s tps  %6.2f CPU-us/tx\n' "$i" "$total" "$rep" multi_exec "$P" "$s" "${R[tps]}" \
        "$(awk -v c=$((after - before)) -v n="$n" 'BEGIN {print c / n}')" >&2
      unset R
    done
  done
done

# RSS per idle connection.
RSS=$OUT/rss.csv
echo "server,conns,rss_before_kb,rss_after_kb" >"$RSS"
for s in "${SERVERS[@]}"; do
  sleep 0.5
  before=$(rss_kb "${PID[$s]}")
  # The holder's stdin/stdout are FIFOs: we read "held N", measure, then tell it to go.
  fifo=$(mktemp -d "$OUT/hold.XXXXXX")
  mkfifo "$fifo/in" "$fifo/out"
  timeout 120 python3 "$TOOLS" hold "${PORT[$s]}" "$IDLE_CONNS" 100 <"$fifo/in" >"$fifo/out" 2>&1 &
  hold_pid=$!
  exec {h_in}>"$fifo/in" {h_out}<"$fifo/out"
  rm -rf "$fifo"
  line=""
  read -r -t 100 line <&"$h_out" || true
  if [[ $line != "held $IDLE_CONNS" ]]; then
    echo "bench: could not hold $IDLE_CONNS connections to $s: $line" >&2
    kill "$hold_pid" 2>/dev/null || true
    exit 1
  fi
  sleep 1
  after=$(rss_kb "${PID[$s]}")
  echo "$s,$IDLE_CONNS,$before,$after" >>"$RSS"
  ( echo done >&"$h_in" ) 2>/dev/null || true
  exec {h_in}>&- {h_out}<&-
  wait "$hold_pid" 2>/dev/null || true
  echo "idle connections: $s RSS $before KB -> $after KB with $IDLE_CONNS connections" >&2
done

python3 "$ROOT/benches/summarize.py" "$RAW" "$RSS" | tee "$OUT/table.txt"
echo "raw results: $OUT"
