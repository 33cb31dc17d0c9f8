#!/usr/bin/env bash
# corewire next to redis-server, measured in the same run on the same machine.
#
#   make bench                     (builds build/corewire first)
#   BENCH_REPS=5 bash benches/bench.sh
#   BENCH_QUICK=1 bash benches/bench.sh     (1 repetition, -n / 10: a smoke run)
#   BENCH_ONLY=redis|pg|metrics|security|durability|pool bash benches/bench.sh
#                                  only the Redis, the PostgreSQL, the metrics, the
#                                  security, the durability or the pool part
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
# PostgreSQL part (after the Redis part; BENCH_ONLY=pg for it alone): a real
# PostgreSQL 15 (initdb'd into a temp dir by tests/e2e/lib.sh, default settings but
# synchronous_commit=off: a cache-like comparison, fsync stays on; BENCH_PG_SETTINGS
# overrides) and corewire --threads 1 --pg-port, both pinned to CPU 0, each loaded
# with the same 100k keys (INSERT ... generate_series into PostgreSQL, then COPY TO
# STDOUT | COPY FROM STDIN into corewire). pgbench (pinned to the last CPU, -c 16
# -j 1 -T BENCH_PG_T=10 s) runs a point SELECT and a point UPDATE by random key, each
# with -M simple and -M prepared, against both, interleaved, BENCH_REPS times; the
# table shows medians of TPS, server CPU-us per transaction and average latency.
# PostgreSQL's CPU is that of all its processes: the postmaster with its reaped
# children (cutime/cstime: the backends of finished connections) and its live ones
# (checkpointer, walwriter, autovacuum, ...). A corewire without --pg-port is
# reported and PostgreSQL is measured alone.
#
# Metrics part (after the PostgreSQL part; BENCH_ONLY=metrics for it alone): what --metrics-enabled costs.
# Two corewire --threads 1, both pinned to CPU 0, one with --metrics-enabled yes and
# one with no (every other setting the same); redis-benchmark -t set,get -c 50 -q,
# pinned to the last CPU, at -P 16 (-n BENCH_N_P16) and -P 1 (-n BENCH_N_P1), against
# each in turn, BENCH_REPS times, the order of the two swapped every repetition. The
# table shows medians of requests/s for SET and GET, the on/off ratio, and server
# CPU-us per request (utime+stime from /proc over the whole SET+GET run).
#
# Security part (after the metrics part; BENCH_ONLY=security for it alone): what TLS and
# ACL users cost. A throwaway CA and a localhost certificate (key BENCH_SEC_KEY: rsa:2048,
# or ec for P-256) made with the openssl CLI in a temp dir. Servers, each pinned to CPU 0:
# cw = corewire --threads 1 with --port and --tls-port (--tls-auth-clients no), redis =
# redis-server plain, redis_tls = redis-server --port 0 --tls-port (--tls-auth-clients
# no; skipped, and said, when redis-server has no TLS); both cw and redis also have
# --user "bench on >pw ~key:* +@all -flushall". redis-benchmark -t set,get -c 50 (pinned
# to the last CPU; --tls --cacert ca.crt for the TLS ports) at -P 16 (-n BENCH_SEC_N_P16,
# 500000) and -P 1 (-n BENCH_SEC_N_P1, 100000) against cw plain, cw TLS, redis plain and
# redis TLS, and at -P 16 also as the user bench (--user bench -a pw) against cw and
# redis. Then the connection rate: BENCH_SEC_CONNS (2000) connections one after the other
# from python3 (ssl module, pinned to the last CPU; redis-benchmark -k 0 with --tls spins
# without connecting), each connect, full TLS handshake (no resumption), PING, close,
# against each port, plain and TLS. Every run BENCH_REPS times, the order of the servers
# turning every repetition; the tables show medians of requests/s, server CPU-us per
# request (utime+stime from /proc over the SET+GET run), connections/s and CPU-us per
# connection, with the ratios TLS/plain, corewire/redis-server and user bench/default
# (the default user's figures are the plain -P 16 runs). ACL LOG must stay empty.
#
# Durability part (after the security part; BENCH_ONLY=durability for it alone), two halves.
# SET throughput under each fsync policy: corewire --threads 1 in-memory and with
# --data-dir DIR --appendfsync no|everysec|always, redis-server with appendonly no and
# with appendonly yes + appendfsync no|everysec|always (both otherwise at their
# defaults, so corewire's checkpoints and Redis's AOF rewrites happen as they would),
# every one pinned to CPU 0 and running side by side; each data dir is fresh, under
# build/bench/<timestamp>/durability (the repository's filesystem, named in the
# output; not tmpfs). redis-benchmark -t set -c 50 -r 100000 (pinned to the last CPU)
# for each -P:-d case of BENCH_DUR_CASES (default "1:3 16:3 1:1024"), against every
# server in turn (the order turning every repetition), BENCH_REPS times; -n is sized
# by a warm-up run to about BENCH_DUR_SECS (1) seconds per run. Before each run no
# server may be checkpointing or rewriting its AOF, and the filesystem is synced.
# The table: median rps, the ratio to corewire in-memory and to redis-server under
# the same policy, p50/p99 latency, server CPU-us per request (with reaped children:
# Redis's rewrite fork), fsync+fdatasync calls per second and requests per call
# (benches/fsync_count.c, LD_PRELOADed into every server, counts them), and
# checkpoints / AOF rewrites per run.
# Recovery: BENCH_DUR_RECOVERY_KEYS (1100000) keys of 1000-byte values (about 1.1 GB
# of log) loaded over one redis-cli --pipe connection into corewire (--threads 0, not
# pinned, --appendfsync no, --checkpoint-log-bytes 0 --checkpoint-interval-s 0: all in
# the logs), SIGTERM, restart on the same dir: time from exec to the first PONG and
# corewire's own "recovery: done in ..." line, with the files in the page cache (warm;
# BENCH_DUR_RECOVERY_COLD=1 adds restarts after dropping them from it with
# posix_fadvise DONTNEED: cold); then SAVE and the same from the checkpoint. The same for redis-server (appendonly yes, no automatic
# rewrite: the AOF, then after BGREWRITEAOF its RDB base). Every restart is checked
# (DBSIZE, first and last values). Skipped when the filesystem has less than 5 GiB
# free; the data dirs are deleted at the end (and on exit). BENCH_QUICK: 1 repetition
# and 200000 keys.
#
# Pool part (last; BENCH_ONLY=pool for it alone): corewire's upstream PostgreSQL pool
# next to PgBouncer, transaction mode, pgbench select-only and TPC-B-like at 16 and 200
# clients; see benches/pool.sh.
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
BENCH_ONLY=${BENCH_ONLY:-}
PG_T=${BENCH_PG_T:-$([[ -n ${BENCH_QUICK:-} ]] && echo 3 || echo 10)}  # pgbench -T seconds per run
PG_CLIENTS=${BENCH_PG_CLIENTS:-16}
PG_KEYS=${BENCH_PG_KEYS:-100000}
read -r -a PG_SETTINGS <<<"${BENCH_PG_SETTINGS:--c synchronous_commit=off}"
OUT=$ROOT/build/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"

for tool in redis-server redis-benchmark redis-cli python3 taskset timeout getconf; do
  [[ ($BENCH_ONLY == pg || $BENCH_ONLY == pool) && $tool == redis-benchmark ]] && continue
  command -v "$tool" >/dev/null || { echo "bench: missing $tool" >&2; exit 1; }
done
[[ -x $BIN ]] || { echo "bench: missing $BIN (run make all)" >&2; exit 1; }

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
NCPU=$(nproc)
LAST_CPU=$((NCPU - 1))
CLK_TCK=$(getconf CLK_TCK)

PIDS=()
DUR_DIRS=()  # the durability part's data dirs, the security part's certificates and the pool part's configs, removed at exit
# free_port, and the PostgreSQL helpers (pg_start, pq, pg_wait_ready, pg_cleanup, ...).
LIB_TAG="bench: "
# shellcheck source=tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
cleanup() {
  local p
  pg_cleanup
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  for p in "${DUR_DIRS[@]}"; do rm -rf "$p"; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so that cleanup runs when we are interrupted

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

# stop NAME: SIGTERM, 5 s, SIGKILL.
stop() {
  local pid=${PID[$1]}
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# ------------------------------------------------------------------------- PostgreSQL
# CPU time of a PostgreSQL server, in microseconds: the postmaster's own and that
# of its children it has reaped (utime, stime, cutime, cstime), plus the same four
# of each live child. Backends of closed connections are in the postmaster's
# cutime/cstime once reaped: measure only after pg_settle.
pg_cpu_us() {
  local ticks=0 t c
  for c in "$1" $(pgrep -P "$1" || true); do
    t=$(sed 's/.*) //' "/proc/$c/stat" 2>/dev/null | awk '{print $12 + $13 + $14 + $15}') || true
    ticks=$((ticks + ${t:-0}))
  done
  echo $((ticks * 1000000 / CLK_TCK))
}

# pg_settle PID: waits (10 s at most) until the postmaster has no client backend
# left (process title "postgres: USER DB 127.0.0.1(PORT) ..."), i.e. those of the
# last run have exited and been reaped.
pg_settle() {
  for _ in $(seq 1 100); do
    pgrep -P "$1" -f ' 127\.0\.0\.1\(' >/dev/null || return 0
    sleep 0.1
  done
  echo "bench: PostgreSQL pid $1 still has client backends after 10 s" >&2
}

# pgb SERVER TEST MODE [SECONDS]: one pgbench run, pinned to the last CPU; sets
# PGB_TPS PGB_LAT PGB_TX; exits the bench if pgbench fails or a transaction failed.
pgb() {
  local s=$1 t=$2 m=$3 secs=${4:-$PG_T} out rc=0
  out=$(pg_client_env timeout $((secs + 60)) taskset -c "$LAST_CPU" pgbench -n -h 127.0.0.1 -p "${PGPORT[$s]}" \
    -U postgres -c "$PG_CLIENTS" -j 1 -T "$secs" -M "$m" -f "$OUT/pgbench_$t.sql" kv 2>&1) || rc=$?
  printf '%s\n' "$out" >"$OUT/pgbench-$s-$t-$m.log"
  PGB_TPS=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out")
  PGB_LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' <<<"$out")
  PGB_TX=$(sed -n 's/^number of transactions actually processed: \([0-9]*\)$/\1/p' <<<"$out")
  if [[ $rc != 0 || -z $PGB_TPS || -z $PGB_TX ]] || ! grep -q '^number of failed transactions: 0 ' <<<"$out"; then
    echo "bench: pgbench failed (exit $rc) against $s, $t -M $m:" >&2; tail -5 <<<"$out" >&2; exit 1
  fi
}

declare -A PGPORT
bench_pg() {
  local why="" s t m rep i total before after p n
  for tool in psql pgbench pg_isready pgrep; do command -v "$tool" >/dev/null || why="missing $tool"; done
  [[ -n $PG_BINDIR ]] || why="no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
  if [[ -n $why ]]; then echo "bench: PostgreSQL part skipped: $why (apt-get install postgresql)" >&2; return 0; fi

  # The workload: the shape of tests/e2e/pg/pgbench_{select,update}.sql over PG_KEYS keys.
  printf '\\set k random(1, %d)\nSELECT value FROM kv WHERE key = :k::text;\n' "$PG_KEYS" >"$OUT/pgbench_select.sql"
  printf '\\set k random(1, %d)\n\\set v random(1, 1000000)\nUPDATE kv SET value = :v::text WHERE key = :k::text;\n' \
    "$PG_KEYS" >"$OUT/pgbench_update.sql"

  PG_SERVERS=(postgres)
  p=$(free_port 17480)
  PG_WRAP=(taskset -c 0)
  pg_start bench "$p" "$OUT/postgres.log" "${PG_SETTINGS[@]}" || {
    echo "bench: PostgreSQL did not start; log:" >&2; tail -20 "$OUT/postgres.log" >&2; exit 1; }
  PG_WRAP=()
  PID[postgres]=$STARTED_PID
  PGPORT[postgres]=$p
  out=$(pq "$p" -c "INSERT INTO kv SELECT g::text, md5(g::text) FROM generate_series(1, $PG_KEYS) g" -c 'VACUUM ANALYZE kv' -c 'CHECKPOINT')
  [[ -z $out ]] || { echo "bench: loading PostgreSQL: $out" >&2; exit 1; }

  if corewire_has_pg "$BIN"; then
    p=$(free_port $((p + 1)))
    n=$(free_port $((p + 1)))
    start cwpg "$p" taskset -c 0 "$BIN" --port "$p" --pg-port "$n" --threads 1 --http-port "$(free_port $((n + 1)))"
    PGPORT[cw1]=$n
    pg_wait_ready "$n" "${PID[cwpg]}" || { echo "bench: corewire --pg-port $n did not answer; log:" >&2; cat "$OUT/cwpg.log" >&2; exit 1; }
    # The same rows, through COPY.
    out=$(pq "${PGPORT[postgres]}" -c 'COPY kv TO STDOUT' -o "$OUT/kv.tsv")
    [[ -z $out ]] || { echo "bench: COPY kv TO STDOUT from PostgreSQL: $out" >&2; exit 1; }
    out=$(pq "$n" -c 'COPY kv FROM STDIN' <"$OUT/kv.tsv")
    [[ -z $out ]] || { echo "bench: loading corewire with COPY kv FROM STDIN: $out" >&2; exit 1; }
    rm -f "$OUT/kv.tsv"
    PG_SERVERS+=(cw1)
  else
    echo "bench: $BIN has no --pg-port (PostgreSQL listener not built yet?): PostgreSQL measured alone" | tee "$OUT/pg-note.txt" >&2
  fi
  for s in "${PG_SERVERS[@]}"; do
    n=$(pq "${PGPORT[$s]}" -c 'SELECT count(*) FROM kv')
    [[ $n == "$PG_KEYS" ]] || { echo "bench: $s holds $n rows, want $PG_KEYS" >&2; exit 1; }
  done

  {
    echo "PostgreSQL part: $("$PG_BINDIR/postgres" --version), pid ${PID[postgres]} port ${PGPORT[postgres]}, pinned to CPU 0,"
    echo "  default settings plus: ${PG_SETTINGS[*]} (fsync on); table kv with $PG_KEYS keys (VACUUM ANALYZEd)"
    [[ -n ${PGPORT[cw1]:-} ]] && echo "  cw1 = corewire --threads 1 --pg-port: pid ${PID[cwpg]} port ${PGPORT[cw1]}, pinned to CPU 0, same $PG_KEYS rows"
    echo "  pgbench -c $PG_CLIENTS -j 1 -T $PG_T, pinned to CPU $LAST_CPU; reps=$REPS"
  } | tee "$OUT/pg_env.txt"

  # Warm-up: caches, allocator, prepared-statement paths.
  for s in "${PG_SERVERS[@]}"; do pgb "$s" select prepared 2; pgb "$s" select simple 2; done

  RAWPG=$OUT/pg_runs.csv
  echo "rep,test,mode,server,transactions,tps,lat_ms,cpu_us" >"$RAWPG"
  total=$((REPS * 4 * ${#PG_SERVERS[@]}))
  i=0
  for rep in $(seq 1 "$REPS"); do
    for t in select update; do
      for m in simple prepared; do
        for s in "${PG_SERVERS[@]}"; do
          i=$((i + 1))
          if [[ $s == postgres ]]; then
            pg_settle "${PID[postgres]}"
            before=$(pg_cpu_us "${PID[postgres]}")
            pgb "$s" "$t" "$m"
            pg_settle "${PID[postgres]}"
            after=$(pg_cpu_us "${PID[postgres]}")
          else
            before=$(cpu_us "${PID[cwpg]}")
            pgb "$s" "$t" "$m"
            after=$(cpu_us "${PID[cwpg]}")
          fi
          echo "$rep,$t,$m,$s,$PGB_TX,$PGB_TPS,$PGB_LAT,$((after - before))" >>"$RAWPG"
          printf '[%3d/%d] rep %d pgbench %-6s -M %-8s %-8s %10s tps  %7.2f CPU-us/tx  %6s ms\n' "$i" "$total" "$rep" "$t" "$m" \
            "$s" "$PGB_TPS" "$(awk -v c=$((after - before)) -v n="$PGB_TX" 'BEGIN {print c / n}')" "$PGB_LAT" >&2
        done
      done
    done
  done
  python3 "$ROOT/benches/summarize.py" --pg "$RAWPG" | tee "$OUT/pg_table.txt"
}

# ------------------------------------------------------------------------- metrics
bench_metrics() {
  local s p rep P n order before after out set get i total
  # CPU 0 is this part's alone: stop whatever the other parts left running.
  for s in "${!PID[@]}"; do
    kill -0 "${PID[$s]}" 2>/dev/null || continue
    if [[ $s == postgres ]]; then pg_stop "${PID[$s]}"; else stop "$s"; fi
  done
  if ! timeout 15 "$BIN" --help 2>&1 | grep -q -- '--metrics-enabled'; then
    echo "bench: $BIN has no --metrics-enabled flag: the metrics part cannot run" >&2
    return 1
  fi
  # Every listener on a free port of its own (PostgreSQL and HTTP included, so that
  # neither takes 5433 or 9380).
  local extra=()
  p=17680
  for s in mon moff; do
    p=$(free_port $((p + 1)))
    extra=()
    if corewire_has_pg "$BIN"; then extra+=(--pg-port "$(free_port $((p + 50)))"); fi
    if timeout 15 "$BIN" --help 2>&1 | grep -q -- '--http-port'; then extra+=(--http-port "$(free_port $((p + 100)))"); fi
    start "$s" "$p" taskset -c 0 "$BIN" --port "$p" --threads 1 --metrics-enabled "$([[ $s == mon ]] && echo yes || echo no)" \
      "${extra[@]}"
  done
  {
    echo "metrics part: corewire --threads 1 pinned to CPU 0: mon = --metrics-enabled yes (pid ${PID[mon]} port ${PORT[mon]}),"
    echo "  moff = --metrics-enabled no (pid ${PID[moff]} port ${PORT[moff]}); redis-benchmark -t set,get -c 50 -q on CPU $LAST_CPU;"
    echo "  -P 16 -n $N_P16, -P 1 -n $N_P1; reps=$REPS (order swapped every repetition)"
  } | tee "$OUT/metrics_env.txt"
  for s in mon moff; do
    timeout 60 taskset -c "$LAST_CPU" redis-benchmark -p "${PORT[$s]}" -c 50 -n 50000 -t set,get -q >/dev/null
  done
  RAWM=$OUT/metrics_runs.csv
  echo "rep,pipeline,server,requests,set_rps,get_rps,cpu_us" >"$RAWM"
  total=$((REPS * 2 * 2))
  i=0
  for rep in $(seq 1 "$REPS"); do
    order=(mon moff); ((rep % 2 == 0)) && order=(moff mon)
    for P in 16 1; do
      n=$N_P1; [[ $P == 16 ]] && n=$N_P16
      for s in "${order[@]}"; do
        i=$((i + 1))
        before=$(cpu_us "${PID[$s]}")
        out=$(timeout 300 taskset -c "$LAST_CPU" redis-benchmark -p "${PORT[$s]}" -t set,get -c 50 -n "$n" -P "$P" -q \
          2>"$OUT/stderr-$s.txt" | tr '\r' '\n') || {
          echo "bench: redis-benchmark failed against $s -P $P (exit $?)" >&2; cat "$OUT/stderr-$s.txt" >&2; exit 1; }
        after=$(cpu_us "${PID[$s]}")
        set=$(sed -n 's/^SET: \([0-9.]*\) requests per second.*/\1/p' <<<"$out" | tail -1)
        get=$(sed -n 's/^GET: \([0-9.]*\) requests per second.*/\1/p' <<<"$out" | tail -1)
        [[ -n $set && -n $get ]] || { echo "bench: no SET/GET result from redis-benchmark -q against $s -P $P: $out" >&2; exit 1; }
        echo "$rep,$P,$s,$((2 * n)),$set,$get,$((after - before))" >>"$RAWM"
        printf '[%3d/%d] rep %d set,get -P %-2s %-4s SET %12s GET %12s rps  %6.2f CPU-us/req\n' "$i" "$total" "$rep" "$P" "$s" \
          "$set" "$get" "$(awk -v c=$((after - before)) -v n=$((2 * n)) 'BEGIN {print c / n}')" >&2
      done
    done
  done
  python3 - "$RAWM" <<'PY' | tee "$OUT/metrics_table.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def med(P, s, f):
    vals = [float(r[f]) if f != "cpu" else float(r["cpu_us"]) / float(r["requests"])
            for r in rows if r["pipeline"] == P and r["server"] == s]
    return statistics.median(vals)
print()
print("metrics cost: corewire --threads 1 on CPU 0, --metrics-enabled yes (on) vs no (off); medians of %d"
      % len({r["rep"] for r in rows}))
print("%-4s %-4s %14s %14s %8s" % ("test", "-P", "on rps", "off rps", "on/off"))
for P in ("16", "1"):
    for t, f in (("SET", "set_rps"), ("GET", "get_rps")):
        on, off = med(P, "mon", f), med(P, "moff", f)
        print("%-4s %-4s %14.0f %14.0f %8.3f" % (t, P, on, off, on / off))
print("%-9s %18s %18s %8s" % ("set+get", "on CPU-us/req", "off CPU-us/req", "on/off"))
for P in ("16", "1"):
    on, off = med(P, "mon", "cpu"), med(P, "moff", "cpu")
    print("%-9s %18.3f %18.3f %8.3f" % ("-P " + P, on, off, on / off if off else float("nan")))
PY
  stop mon
  stop moff
}

# ------------------------------------------------------------------------- security
SEC_N_P1=${BENCH_SEC_N_P1:-100000}    # redis-benchmark -n at -P 1 (for SET, then as many GETs)
SEC_N_P16=${BENCH_SEC_N_P16:-500000}  # and at -P 16
SEC_CONNS=${BENCH_SEC_CONNS:-2000}    # connections per connection-rate run
SEC_KEY=${BENCH_SEC_KEY:-rsa:2048}    # the throwaway certificates' key: rsa:BITS or ec (P-256)
if [[ -n ${BENCH_QUICK:-} ]]; then SEC_N_P1=$((SEC_N_P1 / 10)); SEC_N_P16=$((SEC_N_P16 / 10)); SEC_CONNS=$((SEC_CONNS / 10)); fi
SEC_USER='bench on >pw ~key:* +@all -flushall'  # the restricted user of the ACL runs
declare -A SEC_PROC SEC_PORT SEC_ARGS SEC_CA

# sec_certs DIR: a throwaway CA (ca.crt) and a certificate for localhost and 127.0.0.1
# that it signed (server.crt, server.key), made with the openssl CLI.
sec_certs() {
  local d=$1 newkey
  case $SEC_KEY in
    ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1) ;;
    rsa:*) newkey=(-newkey "$SEC_KEY") ;;
    *) echo "bench: BENCH_SEC_KEY must be rsa:BITS or ec, not $SEC_KEY" >&2; return 1 ;;
  esac
  printf '%s\n' subjectAltName=DNS:localhost,IP:127.0.0.1 basicConstraints=CA:FALSE keyUsage=digitalSignature \
    extendedKeyUsage=serverAuth >"$d/ext.cnf"
  {
    openssl req -x509 "${newkey[@]}" -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj /CN=corewire-bench-ca &&
      openssl req "${newkey[@]}" -nodes -keyout "$d/server.key" -out "$d/server.csr" -subj /CN=localhost &&
      openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -out "$d/server.crt" \
        -days 2 -extfile "$d/ext.cnf"
  } >"$OUT/security-certs.log" 2>&1
}

# sec_wait_tls PORT PID: waits (10 s at most) until PING over TLS answers on PORT.
sec_wait_tls() {
  for _ in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || return 1
    timeout 5 python3 "$OUT/sec_conns.py" "$1" 1 "$SEC_DIR/ca.crt" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# sec_rb TARGET P N: redis-benchmark -t set,get -c 50 -n N -P P against TARGET; sets
# SEC_ROW (requests,set_rps,get_rps,cpu_us).
sec_rb() {
  local t=$1 P=$2 n=$3 args csv before after set get pid
  read -r -a args <<<"${SEC_ARGS[$t]}"
  pid=${PID[${SEC_PROC[$t]}]}
  before=$(cpu_us "$pid")
  csv=$(timeout 300 taskset -c "$LAST_CPU" redis-benchmark -p "${SEC_PORT[$t]}" "${args[@]}" -t set,get -c 50 -n "$n" \
    -P "$P" --csv 2>"$OUT/stderr-sec-$t.txt") || {
    echo "bench: redis-benchmark failed against $t -P $P (exit $?)" >&2; cat "$OUT/stderr-sec-$t.txt" >&2; exit 1; }
  after=$(cpu_us "$pid")
  set=$(awk -F'"' '$2 == "SET" {print $4}' <<<"$csv")
  get=$(awk -F'"' '$2 == "GET" {print $4}' <<<"$csv")
  [[ -n $set && -n $get ]] || { echo "bench: no SET/GET result from redis-benchmark against $t -P $P: $csv" >&2; exit 1; }
  SEC_ROW=$((2 * n)),$set,$get,$((after - before))
}

# sec_conn TARGET: SEC_CONNS connections one after the other, each connect, [TLS
# handshake,] PING, +PONG, close; sets SEC_ROW (conns,conns_per_s,cpu_us).
sec_conn() {
  local t=$1 out before after pid
  pid=${PID[${SEC_PROC[$t]}]}
  before=$(cpu_us "$pid")
  out=$(timeout 300 taskset -c "$LAST_CPU" python3 "$OUT/sec_conns.py" "${SEC_PORT[$t]}" "$SEC_CONNS" "${SEC_CA[$t]}" 2>&1) || {
    echo "bench: connection loop against $t failed: $out" >&2; exit 1; }
  after=$(cpu_us "$pid")
  SEC_ROW=$SEC_CONNS,$(sed -n 's/^RESULT .* cps=\([0-9.]*\).*/\1/p' <<<"$out"),$((after - before))
  SEC_TLS_INFO[$t]=$(sed -n 's/^RESULT .* cps=[0-9.]* *//p' <<<"$out")
}

bench_security() {
  local s t p rep P n i k c out set get cps total extra words tls=1 redis_tls=1 why="" order rb16 rb1 conns
  declare -gA SEC_TLS_INFO=()
  # CPU 0 is this part's alone: stop whatever the other parts left running.
  for s in "${!PID[@]}"; do
    kill -0 "${PID[$s]}" 2>/dev/null || continue
    if [[ $s == postgres ]]; then pg_stop "${PID[$s]}"; else stop "$s"; fi
  done
  if ! timeout 15 "$BIN" --help 2>&1 | grep -q -- '--tls-port'; then
    echo "bench: $BIN has no --tls-port flag: the security part cannot run" >&2
    return 1
  fi
  # The connection loop: python3's ssl (OpenSSL), a full handshake every time (no
  # session resumption), certificate and host name verified.
  cat >"$OUT/sec_conns.py" <<'PY'
import socket, ssl, sys, time
port, n, ca = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=ca) if ca != "-" else None
info = ""
t0 = time.perf_counter()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ctx:
        s = ctx.wrap_socket(s, server_hostname="localhost")
        if i == 0:
            info = " %s %s" % (s.version(), s.cipher()[0])
    s.sendall(b"*1\r\n$4\r\nPING\r\n")
    buf = b""
    while not buf.endswith(b"\r\n"):
        d = s.recv(64)
        if not d:
            sys.exit("connection %d closed after %r" % (i, buf))
        buf += d
    if buf != b"+PONG\r\n":
        sys.exit("connection %d: %r" % (i, buf))
    s.close()
dt = time.perf_counter() - t0
print("RESULT conns=%d secs=%.3f cps=%.1f%s" % (n, dt, n / dt, info))
PY
  command -v openssl >/dev/null || { tls=0; why="no openssl CLI"; }
  if ((tls)) && ! redis-benchmark --help 2>&1 | grep -q -- '--tls'; then tls=0; why="redis-benchmark built without TLS"; fi
  if ((tls)); then
    SEC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/corewire-bench-tls.XXXXXX")
    DUR_DIRS+=("$SEC_DIR")  # removed at exit
    sec_certs "$SEC_DIR" || { tls=0; why="openssl could not make the certificates ($(tail -1 "$OUT/security-certs.log"))"; }
  fi
  ((tls)) || { echo "bench: TLS runs skipped: $why; only the ACL runs" >&2; redis_tls=0; }

  # cw: corewire --threads 1 with the plain port, the TLS port and the user bench;
  # redis: redis-server with the user bench; redis_tls: redis-server on a TLS port only.
  p=$(free_port 17960)
  extra=()
  if corewire_has_pg "$BIN"; then extra+=(--pg-port "$(free_port $((p + 50)))"); fi
  if timeout 15 "$BIN" --help 2>&1 | grep -q -- '--http-port'; then extra+=(--http-port "$(free_port $((p + 100)))"); fi
  if ((tls)); then
    SEC_PORT[cw_tls]=$(free_port $((p + 1)))
    extra+=(--tls-port "${SEC_PORT[cw_tls]}" --tls-cert-file "$SEC_DIR/server.crt" --tls-key-file "$SEC_DIR/server.key"
      --tls-ca-cert-file "$SEC_DIR/ca.crt" --tls-auth-clients no)
  fi
  start cw "$p" taskset -c 0 "$BIN" --port "$p" --threads 1 --user "$SEC_USER" "${extra[@]}"
  if ((tls)); then
    sec_wait_tls "${SEC_PORT[cw_tls]}" "${PID[cw]}" || {
      echo "bench: corewire does not answer PING over TLS on ${SEC_PORT[cw_tls]}; log:" >&2; cat "$OUT/cw.log" >&2; exit 1; }
  fi
  p=$(free_port $((p + 2)))
  read -r -a words <<<"$SEC_USER"  # redis-server takes the rules as separate words
  start redis "$p" taskset -c 0 redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --user "${words[@]}"
  if ((redis_tls)); then
    p=$(free_port $((p + 1)))
    taskset -c 0 redis-server --port 0 --tls-port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
      --tls-cert-file "$SEC_DIR/server.crt" --tls-key-file "$SEC_DIR/server.key" --tls-ca-cert-file "$SEC_DIR/ca.crt" \
      --tls-auth-clients no >"$OUT/redis_tls.log" 2>&1 &
    PID[redis_tls]=$!
    PIDS+=("${PID[redis_tls]}")
    PORT[redis_tls]=$p
    if ! sec_wait_tls "$p" "${PID[redis_tls]}"; then
      echo "bench: redis-server does not serve TLS (built without TLS?): its TLS runs skipped; log: $(tail -1 "$OUT/redis_tls.log")" |
        tee "$OUT/security-note.txt" >&2
      stop redis_tls
      redis_tls=0
    fi
  fi

  SEC_PROC=([cw]=cw [cw_tls]=cw [cw_acl]=cw [redis]=redis [redis_acl]=redis [redis_tls]=redis_tls)
  SEC_PORT[cw]=${PORT[cw]}; SEC_PORT[cw_acl]=${PORT[cw]}; SEC_PORT[redis]=${PORT[redis]}; SEC_PORT[redis_acl]=${PORT[redis]}
  ((redis_tls)) && SEC_PORT[redis_tls]=${PORT[redis_tls]}
  SEC_ARGS=([cw]="" [redis]="" [cw_acl]="--user bench -a pw" [redis_acl]="--user bench -a pw")
  SEC_CA=([cw]=- [redis]=-)
  if ((tls)); then SEC_ARGS[cw_tls]="--tls --cacert $SEC_DIR/ca.crt"; SEC_CA[cw_tls]=$SEC_DIR/ca.crt; fi
  if ((redis_tls)); then SEC_ARGS[redis_tls]="--tls --cacert $SEC_DIR/ca.crt"; SEC_CA[redis_tls]=$SEC_DIR/ca.crt; fi
  # The targets: -P 16 runs every one, -P 1 and the connection loop all but the ACL ones.
  rb16=(cw); ((tls)) && rb16+=(cw_tls); rb16+=(cw_acl redis); ((redis_tls)) && rb16+=(redis_tls); rb16+=(redis_acl)
  rb1=(cw); ((tls)) && rb1+=(cw_tls); rb1+=(redis); ((redis_tls)) && rb1+=(redis_tls)
  conns=("${rb1[@]}")

  {
    echo "security part: $(date -Is), load average $(cut -d' ' -f1-3 /proc/loadavg), $(redis-server --version | cut -d' ' -f1-3)"
    echo "  cw = corewire --threads 1 (pid ${PID[cw]}) port ${PORT[cw]}$( ((tls)) && echo ", --tls-port ${SEC_PORT[cw_tls]}"),"
    echo "  redis = redis-server (pid ${PID[redis]}) port ${PORT[redis]}$( ((redis_tls)) && echo ", redis_tls = redis-server --port 0 --tls-port ${PORT[redis_tls]} (pid ${PID[redis_tls]})");"
    echo "  every server pinned to CPU 0, every client to CPU $LAST_CPU; both servers with --user \"$SEC_USER\""
    ((tls)) && echo "  TLS: throwaway CA and localhost certificate, key $SEC_KEY, $(openssl version | cut -d' ' -f1-2); --tls-auth-clients no"
    echo "  redis-benchmark -t set,get -c 50: -P 16 -n $SEC_N_P16, -P 1 -n $SEC_N_P1 (_acl: --user bench -a pw);"
    echo "  connection rate: $SEC_CONNS connections in a row from python3 per run; reps=$REPS (server order turning every repetition)"
  } | tee "$OUT/security_env.txt"

  # Warm-up, and a check that the user bench can run the benchmark's commands.
  for t in "${rb16[@]}"; do sec_rb "$t" 16 50000; done
  for t in "${conns[@]}"; do SEC_CONNS=50 sec_conn "$t"; done
  for s in cw redis; do
    out=$(timeout 10 redis-cli -p "${PORT[$s]}" --user bench --pass pw acl whoami 2>/dev/null)
    [[ $out == bench ]] || { echo "bench: $s: ACL WHOAMI as bench answered '$out'" >&2; exit 1; }
  done

  RAWS=$OUT/security_rb.csv
  RAWC=$OUT/security_conns.csv
  echo "rep,pipeline,target,requests,set_rps,get_rps,cpu_us" >"$RAWS"
  echo "rep,target,conns,cps,cpu_us" >"$RAWC"
  total=$((REPS * (${#rb16[@]} + ${#rb1[@]} + ${#conns[@]})))
  i=0
  for rep in $(seq 1 "$REPS"); do
    for P in 16 1; do
      n=$SEC_N_P1; order=("${rb1[@]}")
      [[ $P == 16 ]] && { n=$SEC_N_P16; order=("${rb16[@]}"); }
      k=$(((rep - 1) % ${#order[@]}))
      order=("${order[@]:$k}" "${order[@]:0:$k}")
      for t in "${order[@]}"; do
        i=$((i + 1))
        sec_rb "$t" "$P" "$n"
        echo "$rep,$P,$t,$SEC_ROW" >>"$RAWS"
        IFS=, read -r _ set get c <<<"$SEC_ROW"
        printf '[%3d/%d] rep %d set,get -P %-2s %-9s SET %12s GET %12s rps  %6.2f CPU-us/req\n' "$i" "$total" "$rep" "$P" "$t" \
          "$set" "$get" "$(awk -v c="$c" -v n=$((2 * n)) 'BEGIN {print c / n}')" >&2
      done
    done
    k=$(((rep - 1) % ${#conns[@]}))
    order=("${conns[@]:$k}" "${conns[@]:0:$k}")
    for t in "${order[@]}"; do
      i=$((i + 1))
      sec_conn "$t"
      echo "$rep,$t,$SEC_ROW" >>"$RAWC"
      IFS=, read -r _ cps c <<<"$SEC_ROW"
      printf '[%3d/%d] rep %d connection per PING %-9s %9s conn/s  %7.1f CPU-us/conn%s\n' "$i" "$total" "$rep" "$t" "$cps" \
        "$(awk -v c="$c" -v n="$SEC_CONNS" 'BEGIN {print c / n}')" "${SEC_TLS_INFO[$t]:+  (${SEC_TLS_INFO[$t]})}" >&2
    done
  done
  # No request of the user bench may have been refused.
  for s in cw redis; do
    out=$(timeout 10 redis-cli -p "${PORT[$s]}" acl log 2>&1)
    [[ -z $out ]] || { echo "bench: $s: ACL LOG is not empty after the runs: $out" >&2; exit 1; }
  done
  python3 - "$RAWS" "$RAWC" "$SEC_USER" <<'PY' | tee "$OUT/security_table.txt"
import csv, statistics, sys
rb = list(csv.DictReader(open(sys.argv[1])))
cn = list(csv.DictReader(open(sys.argv[2])))
user = sys.argv[3]
reps = len({r["rep"] for r in rb})
def med(P, t, f):
    v = [float(r[f]) if f != "cpu" else float(r["cpu_us"]) / float(r["requests"])
         for r in rb if r["pipeline"] == P and r["target"] == t]
    return statistics.median(v) if v else None
def cmed(t, f):
    v = [float(r["cps"]) if f == "cps" else float(r["cpu_us"]) / float(r["conns"]) for r in cn if r["target"] == t]
    return statistics.median(v) if v else None
def ratio(a, b):
    return "%.3f" % (a / b) if a is not None and b else "-"
def num(x, fmt):
    return fmt % x if x is not None else "-"

print()
print("TLS: redis-benchmark -t set,get -c 50 (CPU 1) against corewire --threads 1 and redis-server (CPU 0);")
print("     requests/s and server CPU-us per request, medians of %d" % reps)
print("%-16s %10s %10s %9s %11s %10s %9s %13s" % ("", "cw plain", "cw TLS", "TLS/plain", "redis plain", "redis TLS",
                                                    "TLS/plain", "cw/redis TLS"))
for P in ("1", "16"):
    for name, f, fmt in (("SET rps", "set_rps", "%10.0f"), ("GET rps", "get_rps", "%10.0f"), ("CPU-us/req", "cpu", "%10.3f")):
        a, b, c, d = (med(P, t, f) for t in ("cw", "cw_tls", "redis", "redis_tls"))
        print("%-16s %10s %10s %9s %11s %10s %9s %13s" % ("-P %-2s %s" % (P, name), num(a, fmt), num(b, fmt), ratio(b, a),
                                                            num(c, fmt), num(d, fmt), ratio(d, c), ratio(b, d)))
print("(cw/redis TLS: corewire TLS over redis-server TLS; on the CPU-us rows below 1 means corewire spends less)")
print()
n = cn[0]["conns"] if cn else "?"
print("Connections: %s in a row from python3 ssl (CPU 1), each connect, full TLS handshake (no resumption), PING," % n)
print("             close; connections/s and server CPU-us per connection, medians of %d" % reps)
print("%-14s %12s %14s %12s %14s %16s" % ("", "plain conn/s", "plain CPU-us", "TLS conn/s", "TLS CPU-us", "TLS-plain CPU-us"))
rows = {}
for name, a, b in (("corewire", "cw", "cw_tls"), ("redis-server", "redis", "redis_tls")):
    r = (cmed(a, "cps"), cmed(a, "cpu"), cmed(b, "cps"), cmed(b, "cpu"))
    rows[name] = r
    hs = r[3] - r[1] if r[3] is not None and r[1] is not None else None
    print("%-14s %12s %14s %12s %14s %16s" % (name, num(r[0], "%.0f"), num(r[1], "%.1f"), num(r[2], "%.0f"), num(r[3], "%.1f"),
                                                num(hs, "%.1f")))
c, r = rows["corewire"], rows["redis-server"]
print("%-14s %12s %14s %12s %14s" % ("cw/redis", ratio(c[0], r[0]), ratio(c[1], r[1]), ratio(c[2], r[2]), ratio(c[3], r[3])))
print()
print("ACL: -P 16 -t set,get; user bench = \"%s\" (redis-benchmark --user bench -a pw)" % user)
print("     vs the default user (the plain -P 16 runs above, same servers); medians of %d" % reps)
print("%-14s %-8s %11s %11s %11s %9s %9s %9s" % ("server", "user", "SET rps", "GET rps", "CPU-us/req", "SET ratio", "GET ratio",
                                                 "CPU ratio"))
acl = {}
for name, a, b in (("corewire", "cw", "cw_acl"), ("redis-server", "redis", "redis_acl")):
    d = [med("16", a, f) for f in ("set_rps", "get_rps", "cpu")]
    u = [med("16", b, f) for f in ("set_rps", "get_rps", "cpu")]
    acl[name] = u
    print("%-14s %-8s %11s %11s %11s" % (name, "default", num(d[0], "%.0f"), num(d[1], "%.0f"), num(d[2], "%.3f")))
    print("%-14s %-8s %11s %11s %11s %9s %9s %9s" % (name, "bench", num(u[0], "%.0f"), num(u[1], "%.0f"), num(u[2], "%.3f"),
                                                     ratio(u[0], d[0]), ratio(u[1], d[1]), ratio(u[2], d[2])))
c, r = acl["corewire"], acl["redis-server"]
print("%-14s %-8s %11s %11s %11s" % ("cw/redis", "bench", ratio(c[0], r[0]), ratio(c[1], r[1]), ratio(c[2], r[2])))
print("(ratios of user bench over default; last row corewire over redis-server as user bench)")
PY
  for s in cw redis redis_tls; do [[ -n ${PID[$s]:-} ]] && stop "$s"; done
  [[ -n ${SEC_DIR:-} ]] && rm -rf "$SEC_DIR"
  return 0
}

# ------------------------------------------------------------------------- durability
DUR_PY=$ROOT/benches/durability.py
DUR_SECS=${BENCH_DUR_SECS:-1}  # seconds per run, about
read -r -a DUR_CASES <<<"${BENCH_DUR_CASES:-1:3 16:3 1:1024}"  # -P:-d pairs
DUR_KEYSPACE=${BENCH_DUR_KEYSPACE:-100000}  # redis-benchmark -r
DUR_REC_KEYS=${BENCH_DUR_RECOVERY_KEYS:-$([[ -n ${BENCH_QUICK:-} ]] && echo 200000 || echo 1100000)}
DUR_REC_SIZE=${BENCH_DUR_RECOVERY_SIZE:-1000}
# Connections the store is loaded over. One keeps the load in one worker's log, so the
# recovery figure shows one large log split across replay threads.
DUR_REC_CONNS=${BENCH_DUR_RECOVERY_CONNS:-1}
DUR_REC_THREADS=${BENCH_DUR_RECOVERY_THREADS:-0}  # corewire --threads for the recovery runs (0: one per core)
DUR_REC_REDIS=${BENCH_DUR_RECOVERY_REDIS:-1}      # 0: no redis-server recovery rows
DUR_REC_COLD=${BENCH_DUR_RECOVERY_COLD:-0}        # 1: also restarts with the files dropped from the page cache
DUR_REC_TIMEOUT=600                               # seconds a restart may take to answer PING
DUR_MIN_FREE=$((5 * 1024 * 1024 * 1024))

# CPU time of a process and of the children it has reaped (Redis's AOF-rewrite fork), µs.
cpu_us_all() {
  local ticks
  ticks=$(sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}')
  echo $((ticks * 1000000 / CLK_TCK))
}

# info_field PORT SECTION FIELD
info_field() { timeout 10 redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | sed -n "s/^$3://p"; }

# fsyncs NAME: fsync+fdatasync calls so far (the LD_PRELOAD counter; without it corewire's
# INFO wal_fsyncs, and nothing for redis-server).
fsyncs() {
  if [[ -n $FSYNC_SO ]]; then
    od -An -tu8 -N16 "$OUT/fsyncs-$1" 2>/dev/null | awk '{print $1 + $2}'
  elif [[ $1 == cw_* ]]; then
    info_field "${PORT[$1]}" persistence wal_fsyncs
  fi
}

# wal_counts PORT: corewire's INFO persistence wal_fsyncs and wal_fsync_time_usec ("" if absent).
wal_counts() {
  timeout 10 redis-cli -p "$1" info persistence 2>/dev/null | tr -d '\r' |
    awk -F: '$1 == "wal_fsyncs" {f = $2} $1 == "wal_fsync_time_usec" {t = $2} END {print f, t}'
}

# bg_saves NAME: checkpoints (corewire) or AOF rewrites (redis-server) so far.
bg_saves() {
  case $1 in
    cw_mem|redis_mem) echo 0 ;;
    cw_*) info_field "${PORT[$1]}" persistence rdb_saves ;;
    *) info_field "${PORT[$1]}" persistence aof_rewrites ;;
  esac
}

# dur_settle: waits (30 s at most) until no server has a checkpoint or an AOF rewrite
# running, then writes back the dirty pages of the data dirs' filesystem, so that a run
# does not pay for the one before it.
dur_settle() {
  local s busy
  for _ in $(seq 1 300); do
    busy=0
    for s in "${DUR_SERVERS[@]}"; do
      [[ $s == cw_mem || $s == redis_mem ]] && continue
      if [[ $(info_field "${PORT[$s]}" persistence rdb_bgsave_in_progress) == 1 ||
            $(info_field "${PORT[$s]}" persistence aof_rewrite_in_progress) == 1 ]]; then busy=1; break; fi
    done
    ((busy)) || break
    sleep 0.1
  done
  timeout 60 sync -f "$DUR_BASE" || true
}

# dur_set NAME P D N: one redis-benchmark SET run; sets DUR_ROW
# (requests,rps,avg,p50,p99,cpu,fsyncs,bg,wal_fsyncs,wal_fsync_us: corewire's own counts,
# INFO persistence wal_fsyncs and wal_fsync_time_usec).
dur_set() {
  local s=$1 P=$2 d=$3 n=$4 csv row rps avg p50 p99 c0 c1 f0 f1 b0 b1 w0="" w1="" t0="" t1="" fs bg wal="" walt=""
  if [[ $s == cw_* && $s != cw_mem ]]; then
    read -r w0 t0 < <(wal_counts "${PORT[$s]}")
  fi
  b0=$(bg_saves "$s"); f0=$(fsyncs "$s"); c0=$(cpu_us_all "${PID[$s]}")
  csv=$(timeout 300 taskset -c "$LAST_CPU" redis-benchmark -p "${PORT[$s]}" -c 50 -n "$n" -P "$P" -d "$d" \
    -r "$DUR_KEYSPACE" -t set --csv 2>"$OUT/stderr-$s.txt") || {
    echo "bench: redis-benchmark failed: server $s -P $P -d $d (exit $?)" >&2; cat "$OUT/stderr-$s.txt" >&2; exit 1; }
  c1=$(cpu_us_all "${PID[$s]}"); f1=$(fsyncs "$s"); b1=$(bg_saves "$s")
  [[ -n $w0 ]] && read -r w1 t1 < <(wal_counts "${PORT[$s]}")
  [[ -n $w0 && -n $w1 ]] && wal=$((w1 - w0))
  [[ -n $t0 && -n $t1 ]] && walt=$((t1 - t0))
  row=$(grep -v '^"test"' <<<"$csv" | head -1 | tr -d '"')
  IFS=, read -r _ rps avg _ p50 _ p99 _ <<<"$row"
  [[ -n ${rps:-} ]] || { echo "bench: no result line for $s -P $P -d $d: $csv" >&2; exit 1; }
  fs=""; [[ -n $f0 && -n $f1 ]] && fs=$((f1 - f0))
  bg=""; [[ -n $b0 && -n $b1 ]] && bg=$((b1 - b0))
  DUR_ROW="$n,$rps,$avg,$p50,$p99,$((c1 - c0)),$fs,$bg,$wal,$walt"
}

bench_durability() {
  local s p rep P d n i total c k out f b w extra cwdur=1 fstype
  # CPU 0 is this part's alone: stop whatever the other parts left running.
  for s in "${!PID[@]}"; do
    kill -0 "${PID[$s]}" 2>/dev/null || continue
    if [[ $s == postgres ]]; then pg_stop "${PID[$s]}"; else stop "$s"; fi
  done
  DUR_BASE=$OUT/durability  # on the repository's filesystem (build/bench/...), not /tmp
  mkdir -p "$DUR_BASE"
  DUR_DIRS+=("$DUR_BASE")
  fstype=$(findmnt -n -o SOURCE,FSTYPE,OPTIONS -T "$DUR_BASE" 2>/dev/null | awk '{$1=$1; print}' || true)
  [[ $fstype == *" tmpfs "* || $fstype == tmpfs* ]] && echo "bench: warning: $DUR_BASE is on tmpfs: fsync costs nothing there" >&2
  if ! timeout 15 "$BIN" --help 2>&1 | grep -q -- '--data-dir'; then
    cwdur=0
    echo "bench: $BIN has no --data-dir (durability not built yet?): only corewire in-memory and redis-server are measured" |
      tee "$OUT/durability-note.txt" >&2
  fi
  FSYNC_SO=$OUT/fsync_count.so
  if ! cc -O2 -shared -fPIC -o "$FSYNC_SO" "$ROOT/benches/fsync_count.c" -ldl 2>"$OUT/fsync_count-build.log"; then
    echo "bench: could not build benches/fsync_count.c (fsync counts from corewire's INFO only):" >&2
    cat "$OUT/fsync_count-build.log" >&2
    FSYNC_SO=""
  fi
  # preload NAME: the command prefix that counts NAME's fsyncs.
  preload() { if [[ -n $FSYNC_SO ]]; then echo env "FSYNC_COUNT_FILE=$OUT/fsyncs-$1" "LD_PRELOAD=$FSYNC_SO"; fi; }

  # ---- SET throughput
  DUR_SERVERS=(cw_mem)
  ((cwdur)) && DUR_SERVERS+=(cw_no cw_everysec cw_always)
  DUR_SERVERS+=(redis_mem redis_no redis_everysec redis_always)
  p=17780
  for s in "${DUR_SERVERS[@]}"; do
    p=$(free_port $((p + 1)))
    extra=()
    if [[ $s == cw_* ]]; then
      if corewire_has_pg "$BIN"; then extra+=(--pg-port "$(free_port $((p + 50)))"); fi
      if timeout 15 "$BIN" --help 2>&1 | grep -q -- '--http-port'; then extra+=(--http-port "$(free_port $((p + 100)))"); fi
      if [[ $s != cw_mem ]]; then
        mkdir -p "$DUR_BASE/$s"
        extra+=(--data-dir "$DUR_BASE/$s" --appendfsync "${s#cw_}")
      fi
      # shellcheck disable=SC2046
      start "$s" "$p" $(preload "$s") taskset -c 0 "$BIN" --port "$p" --threads 1 "${extra[@]}"
    else
      if [[ $s == redis_mem ]]; then
        extra=(--appendonly no)
      else
        mkdir -p "$DUR_BASE/$s"
        extra=(--appendonly yes --appendfsync "${s#redis_}" --dir "$DUR_BASE/$s")
      fi
      # shellcheck disable=SC2046
      start "$s" "$p" $(preload "$s") taskset -c 0 redis-server --port "$p" --bind 127.0.0.1 --save "" --daemonize no "${extra[@]}"
    fi
  done
  {
    echo "durability part: $(date -Is), $(uname -srm), $NCPU CPUs, $(redis-server --version | cut -d' ' -f1-3),"
    echo "  corewire $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "  data dirs under $DUR_BASE: filesystem $fstype"
    echo "  SET throughput: every server pinned to CPU 0, redis-benchmark -t set -c 50 -r $DUR_KEYSPACE on CPU $LAST_CPU;"
    echo "  cases (-P:-d) ${DUR_CASES[*]}; -n sized for about $DUR_SECS s per run (from a warm-up run); reps=$REPS"
    echo "  corewire --threads 1 [--data-dir DIR --appendfsync no|everysec|always] (other settings default);"
    echo "  redis-server --save \"\" --appendonly no | --appendonly yes --appendfsync no|everysec|always (other settings default)"
    for s in "${DUR_SERVERS[@]}"; do echo "  $s: pid ${PID[$s]} port ${PORT[$s]}"; done
  } | tee "$OUT/durability_env.txt"

  # Warm-up, which also sizes -n per server and case: about DUR_SECS of its rate.
  declare -A DUR_N
  for c in "${DUR_CASES[@]}"; do
    P=${c%%:*}; d=${c#*:}
    n=20000; ((P > 1)) && n=200000
    for s in "${DUR_SERVERS[@]}"; do
      dur_settle
      dur_set "$s" "$P" "$d" "$n"
      k=$(cut -d, -f2 <<<"$DUR_ROW")
      DUR_N[$s:$c]=$(awk -v r="$k" -v t="$DUR_SECS" 'BEGIN {n = int(r * t / 1000) * 1000; print (n < 5000 ? 5000 : n)}')
      printf 'warm-up -P %-2s -d %-4s %-15s %12s rps -> -n %s\n' "$P" "$d" "$s" "$k" "${DUR_N[$s:$c]}" >&2
    done
  done

  RAWD=$OUT/durability_runs.csv
  echo "rep,pipeline,size,server,requests,rps,avg_ms,p50_ms,p99_ms,cpu_us,fsyncs,bg,wal_fsyncs,wal_fsync_us" >"$RAWD"
  total=$((REPS * ${#DUR_CASES[@]} * ${#DUR_SERVERS[@]}))
  i=0
  local order=()
  for rep in $(seq 1 "$REPS"); do
    # The servers' order turns every repetition, so that none is always first after a settle.
    order=("${DUR_SERVERS[@]:$(((rep - 1) % ${#DUR_SERVERS[@]}))}" "${DUR_SERVERS[@]:0:$(((rep - 1) % ${#DUR_SERVERS[@]}))}")
    for c in "${DUR_CASES[@]}"; do
      P=${c%%:*}; d=${c#*:}
      for s in "${order[@]}"; do
        i=$((i + 1))
        n=${DUR_N[$s:$c]}
        dur_settle
        dur_set "$s" "$P" "$d" "$n"
        echo "$rep,$P,$d,$s,$DUR_ROW" >>"$RAWD"
        IFS=, read -r _ k _ _ _ out f b w _ <<<"$DUR_ROW"
        printf '[%3d/%d] rep %d SET -P %-2s -d %-4s %-15s %12s rps  %6.2f CPU-us/req  %s fsyncs%s%s\n' "$i" "$total" "$rep" "$P" "$d" "$s" \
          "$k" "$(awk -v c="$out" -v n="$n" 'BEGIN {print c / n}')" "${f:--}" "${w:+ (wal_fsyncs $w)}" \
          "$([[ ${b:-0} != 0 ]] && echo ", $b background saves")" >&2
      done
    done
  done
  for s in "${DUR_SERVERS[@]}"; do
    [[ $s == cw_* && $s != cw_mem ]] && timeout 10 redis-cli -p "${PORT[$s]}" info persistence >"$OUT/$s-info-persistence.txt" 2>&1
    stop "$s"
    [[ -d $DUR_BASE/$s ]] && rm -rf "${DUR_BASE:?}/$s"
  done
  python3 "$DUR_PY" table "$RAWD" | tee "$OUT/durability_table.txt"

  dur_recovery "$cwdur"
  rm -rf "$DUR_BASE"
}

# ---- recovery
# start_timed NAME PORT COMMAND...: starts it and waits for its first PONG; READY_MS = the
# ms from the exec to that PONG, READY_CPU_MS = the process's CPU time then.
start_timed() {
  local name=$1 port=$2 t0; shift 2
  t0=$(date +%s%N)
  "$@" >"$OUT/$name.log" 2>&1 &
  PID[$name]=$!
  PIDS+=("${PID[$name]}")
  PORT[$name]=$port
  READY_MS=$(python3 "$DUR_PY" wait-pong "$port" "${PID[$name]}" "$t0" "$DUR_REC_TIMEOUT") || {
    echo "bench: $name did not answer PING; log:" >&2; tail -30 "$OUT/$name.log" >&2; exit 1; }
  READY_CPU_MS=$(($(cpu_us_all "${PID[$name]}") / 1000))
}

# stop_long NAME: SIGTERM, then up to 10 minutes (a big store's shutdown); STOP_MS. Then
# the filesystem is synced (SYNC_MS), so that the next start does not wait for the
# writeback of what this one left dirty (under appendfsync no, all of the load).
stop_long() {
  local pid=${PID[$1]} t0
  t0=$(date +%s%N)
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 6000); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null && echo "bench: $1 did not exit within 10 minutes of SIGTERM: killed" >&2
  wait "$pid" 2>/dev/null || true
  STOP_MS=$((($(date +%s%N) - t0) / 1000000))
  t0=$(date +%s%N)
  timeout 600 sync -f "$DUR_BASE" || true
  SYNC_MS=$((($(date +%s%N) - t0) / 1000000))
}

# dir_bytes DIR [GLOB]: bytes of the files under DIR (whose names match GLOB).
dir_bytes() { find "$1" -type f -name "${2:-*}" -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
dir_count() { find "$1" -type f -name "${2:-*}" | wc -l; }
dir_count_nonempty() { find "$1" -type f -name "${2:-*}" -size +0c | wc -l; }

# dur_load PORT NAME: loads DUR_REC_KEYS keys over DUR_REC_CONNS redis-cli --pipe connections.
dur_load() {
  local port=$1 name=$2 t0 j pids=() replies=0 r
  t0=$(date +%s%N)
  for j in $(seq 0 $((DUR_REC_CONNS - 1))); do
    ( python3 "$DUR_PY" resp "$DUR_REC_KEYS" "$DUR_REC_SIZE" "$j" "$DUR_REC_CONNS" |
        timeout 1200 redis-cli -p "$port" --pipe >"$OUT/$name-load-$j.txt" 2>&1 ) &
    pids+=($!)
  done
  for j in "${pids[@]}"; do wait "$j" || true; done
  LOAD_MS=$((($(date +%s%N) - t0) / 1000000))
  for j in $(seq 0 $((DUR_REC_CONNS - 1))); do
    r=$(sed -n 's/^errors: 0, replies: \([0-9]*\)$/\1/p' "$OUT/$name-load-$j.txt")
    [[ -n $r ]] || { echo "bench: loading $name failed:" >&2; cat "$OUT/$name-load-$j.txt" >&2; exit 1; }
    replies=$((replies + r))
  done
  [[ $replies == "$DUR_REC_KEYS" ]] || { echo "bench: loading $name: $replies replies, want $DUR_REC_KEYS" >&2; exit 1; }
}

# dur_check NAME: the store holds every key, first and last with their values.
dur_check() {
  local port=${PORT[$1]} n i
  n=$(timeout 60 redis-cli -p "$port" dbsize)
  [[ $n == "$DUR_REC_KEYS" ]] || { echo "bench: $1 holds $n keys after recovery, want $DUR_REC_KEYS" >&2; exit 1; }
  for i in 0 $((DUR_REC_KEYS - 1)); do
    [[ $(timeout 10 redis-cli -p "$port" get "$(printf 'k:%010d' "$i")") == "$(python3 "$DUR_PY" value "$i" "$DUR_REC_SIZE")" ]] ||
      { echo "bench: $1: key $i has a wrong value after recovery" >&2; exit 1; }
  done
}

# rec_row SERVER SOURCE CACHE DISK_BYTES KEYS NAME: one line of recovery.csv, from the
# log of start NAME (corewire's "recovery: done in N ms: ...", Redis's "DB loaded from ...").
rec_row() {
  local line="" ms=""
  if [[ $1 == corewire ]]; then
    line=$(grep -o 'recovery: done in .*' "$OUT/$6.log" | tail -1 || true)
    ms=$(sed -n 's/^recovery: done in \([0-9.]*\) ms.*/\1/p' <<<"$line")
  else
    line=$(grep -o 'DB loaded from append only file: .*' "$OUT/$6.log" | tail -1 || true)
    ms=$(sed -n 's/^DB loaded from append only file: \([0-9.]*\) seconds.*/\1/p' <<<"$line")
    [[ -n $ms ]] && ms=$(awk -v s="$ms" 'BEGIN {printf "%.0f", s * 1000}')
  fi
  echo "$1,$2,$3,$4,$5,$READY_MS,$ms,$READY_CPU_MS,\"${line//\"/}\"" >>"$RAWR"
  printf 'recovery: %-8s %-30s %-4s ready in %9s ms  %s\n' "$1" "$2" "$3" "$READY_MS" "$line" >&2
}

dur_recovery() {
  local cwdur=$1 avail dir p extra=() name logs snaps save_ms t0 src
  avail=$(df -B1 --output=avail "$DUR_BASE" | tail -1 | tr -d ' ')
  if ((avail < DUR_MIN_FREE)); then
    echo "recovery part skipped: $((avail / 1024 / 1024)) MiB free on $DUR_BASE's filesystem, it needs 5 GiB" | tee "$OUT/recovery-note.txt"
    return 0
  fi
  RAWR=$OUT/recovery.csv
  echo "server,source,cache,disk_bytes,keys,ready_ms,server_ms,cpu_ms,line" >"$RAWR"
  {
    echo
    echo "recovery: $DUR_REC_KEYS keys k:%010d of $DUR_REC_SIZE-byte values, loaded over $DUR_REC_CONNS redis-cli --pipe connection(s);"
    echo "  data dirs under $DUR_BASE ($fstype); $((avail / 1024 / 1024 / 1024)) GiB free before"
    ((cwdur)) && echo "  corewire --threads $DUR_REC_THREADS (not pinned) --data-dir DIR --appendfsync no --checkpoint-log-bytes 0 --checkpoint-interval-s 0"
    [[ $DUR_REC_REDIS != 0 ]] && echo "  redis-server (not pinned) --save \"\" --appendonly yes --appendfsync no --auto-aof-rewrite-percentage 0"
    echo "  stopped with SIGTERM, restarted on the same dir; every restart checked: DBSIZE and the first and last values"
  } | tee "$OUT/recovery_env.txt"

  if ((cwdur)); then
    dir=$DUR_BASE/recovery-corewire
    mkdir -p "$dir"
    p=$(free_port 17880)
    extra=()
    if corewire_has_pg "$BIN"; then extra+=(--pg-port "$(free_port $((p + 50)))"); fi
    if timeout 15 "$BIN" --help 2>&1 | grep -q -- '--http-port'; then extra+=(--http-port "$(free_port $((p + 100)))"); fi
    extra+=(--port "$p" --threads "$DUR_REC_THREADS" --data-dir "$dir" --appendfsync no --checkpoint-log-bytes 0 --checkpoint-interval-s 0)
    start_timed rc_empty "$p" "$BIN" "${extra[@]}"
    rec_row corewire "empty data dir" warm "$(dir_bytes "$dir")" 0 rc_empty
    dur_load "$p" rc_empty
    echo "recovery: corewire loaded $DUR_REC_KEYS keys in $LOAD_MS ms" \
      "($(awk -v k="$DUR_REC_KEYS" -v ms="$LOAD_MS" 'BEGIN {printf "%.0f keys/s", k / ms * 1000}'))" | tee -a "$OUT/recovery_env.txt"
    timeout 10 redis-cli -p "$p" info persistence >"$OUT/rc_empty-info-persistence.txt" 2>&1 || true
    stop_long rc_empty
    logs=$(dir_bytes "$dir" 'wal-*.log'); snaps=$(dir_bytes "$dir" 'snap-*.dat')
    echo "  corewire stopped in $STOP_MS ms (then sync: $SYNC_MS ms); data dir: $(dir_count "$dir" 'wal-*.log') logs $((logs / 1000000)) MB," \
      "$(dir_count "$dir" 'snap-*.dat') snapshot parts $((snaps / 1000000)) MB, $(dir_count "$dir" 'checkpoint-*') manifests" |
      tee -a "$OUT/recovery_env.txt"
    ((snaps == 0)) || echo "  note: the shutdown wrote a checkpoint, so the 'logs' rows also load it" | tee -a "$OUT/recovery_env.txt"
    ls -l "$dir" >"$OUT/rc-dir-after-load.txt"
    src="logs ($(dir_count_nonempty "$dir" 'wal-*.log') of $(dir_count "$dir" 'wal-*.log') non-empty)"
    start_timed rc_logs_warm "$p" "$BIN" "${extra[@]}"
    rec_row corewire "$src" warm "$(dir_bytes "$dir")" "$DUR_REC_KEYS" rc_logs_warm
    dur_check rc_logs_warm
    name=rc_logs_warm
    if [[ $DUR_REC_COLD != 0 ]]; then
      stop_long rc_logs_warm
      name=rc_logs_cold
      python3 "$DUR_PY" dropcache "$dir"
      start_timed "$name" "$p" "$BIN" "${extra[@]}"
      rec_row corewire "$src" cold "$(dir_bytes "$dir")" "$DUR_REC_KEYS" "$name"
      dur_check "$name"
    fi
    t0=$(date +%s%N)
    out=$(timeout 1200 redis-cli -p "$p" save 2>&1)
    save_ms=$((($(date +%s%N) - t0) / 1000000))
    [[ $out == OK ]] || { echo "bench: corewire SAVE answered: $out" >&2; exit 1; }
    stop_long "$name"
    ls -l "$dir" >"$OUT/rc-dir-after-save.txt"
    snaps=$(dir_bytes "$dir" 'snap-*.dat')
    echo "  corewire SAVE took $save_ms ms: $(dir_count "$dir" 'snap-*.dat') snapshot parts, $((snaps / 1000000)) MB" \
      "($(awk -v b="$snaps" -v ms="$save_ms" 'BEGIN {printf "%.0f", (ms > 0 ? b / 1e6 / ms * 1000 : 0)}') MB/s);" \
      "left $(dir_count "$dir" 'wal-*.log') logs, $(($(dir_bytes "$dir" 'wal-*.log') / 1000000)) MB" | tee -a "$OUT/recovery_env.txt"
    src="checkpoint ($(dir_count "$dir" 'snap-*.dat') parts)"
    start_timed rc_ckpt_warm "$p" "$BIN" "${extra[@]}"
    rec_row corewire "$src" warm "$(dir_bytes "$dir")" "$DUR_REC_KEYS" rc_ckpt_warm
    dur_check rc_ckpt_warm
    stop_long rc_ckpt_warm
    if [[ $DUR_REC_COLD != 0 ]]; then
      python3 "$DUR_PY" dropcache "$dir"
      start_timed rc_ckpt_cold "$p" "$BIN" "${extra[@]}"
      rec_row corewire "$src" cold "$(dir_bytes "$dir")" "$DUR_REC_KEYS" rc_ckpt_cold
      dur_check rc_ckpt_cold
      stop_long rc_ckpt_cold
    fi
    rm -rf "$dir"
  else
    echo "  (corewire rows skipped: $BIN has no --data-dir)" | tee -a "$OUT/recovery_env.txt"
  fi

  if [[ $DUR_REC_REDIS != 0 ]]; then
    dir=$DUR_BASE/recovery-redis
    mkdir -p "$dir"
    p=$(free_port 17890)
    extra=(redis-server --port "$p" --bind 127.0.0.1 --daemonize no --save "" --appendonly yes --appendfsync no
      --auto-aof-rewrite-percentage 0 --dir "$dir")
    start_timed rr_empty "$p" "${extra[@]}"
    rec_row redis "empty data dir" warm "$(dir_bytes "$dir")" 0 rr_empty
    dur_load "$p" rr_empty
    echo "recovery: redis-server loaded $DUR_REC_KEYS keys in $LOAD_MS ms" \
      "($(awk -v k="$DUR_REC_KEYS" -v ms="$LOAD_MS" 'BEGIN {printf "%.0f keys/s", k / ms * 1000}'))" | tee -a "$OUT/recovery_env.txt"
    stop_long rr_empty
    echo "  redis-server stopped in $STOP_MS ms (then sync: $SYNC_MS ms)" | tee -a "$OUT/recovery_env.txt"
    src="AOF (RESP commands)"
    start_timed rr_aof_warm "$p" "${extra[@]}"
    rec_row redis "$src" warm "$(dir_bytes "$dir")" "$DUR_REC_KEYS" rr_aof_warm
    dur_check rr_aof_warm
    name=rr_aof_warm
    if [[ $DUR_REC_COLD != 0 ]]; then
      stop_long rr_aof_warm
      name=rr_aof_cold
      python3 "$DUR_PY" dropcache "$dir"
      start_timed "$name" "$p" "${extra[@]}"
      rec_row redis "$src" cold "$(dir_bytes "$dir")" "$DUR_REC_KEYS" "$name"
      dur_check "$name"
    fi
    t0=$(date +%s%N)
    timeout 10 redis-cli -p "$p" bgrewriteaof >/dev/null
    for _ in $(seq 1 12000); do
      [[ $(info_field "$p" persistence aof_rewrite_in_progress) == 0 &&
         $(info_field "$p" persistence aof_rewrite_scheduled) == 0 ]] && break
      sleep 0.05
    done
    save_ms=$((($(date +%s%N) - t0) / 1000000))
    stop_long "$name"
    echo "  redis-server BGREWRITEAOF took $save_ms ms: $(($(dir_bytes "$dir") / 1000000)) MB in $dir now" | tee -a "$OUT/recovery_env.txt"
    src="AOF base RDB (BGREWRITEAOF)"
    start_timed rr_rdb_warm "$p" "${extra[@]}"
    rec_row redis "$src" warm "$(dir_bytes "$dir")" "$DUR_REC_KEYS" rr_rdb_warm
    dur_check rr_rdb_warm
    stop_long rr_rdb_warm
    if [[ $DUR_REC_COLD != 0 ]]; then
      python3 "$DUR_PY" dropcache "$dir"
      start_timed rr_rdb_cold "$p" "${extra[@]}"
      rec_row redis "$src" cold "$(dir_bytes "$dir")" "$DUR_REC_KEYS" rr_rdb_cold
      dur_check rr_rdb_cold
      stop_long rr_rdb_cold
    fi
    rm -rf "$dir"
  fi
  python3 "$DUR_PY" rtable "$RAWR" | tee "$OUT/recovery_table.txt"
}

# shellcheck source=benches/pool.sh
source "$ROOT/benches/pool.sh"
if [[ $BENCH_ONLY == pool ]]; then
  bench_pool
  echo "raw results: $OUT"
  exit 0
fi

if [[ $BENCH_ONLY == durability ]]; then
  bench_durability
  echo "raw results: $OUT"
  exit 0
fi

if [[ $BENCH_ONLY == pg ]]; then
  bench_pg
  echo "raw results: $OUT"
  exit 0
fi
if [[ $BENCH_ONLY == metrics ]]; then
  bench_metrics
  echo "raw results: $OUT"
  exit 0
fi
if [[ $BENCH_ONLY == security ]]; then
  bench_security
  echo "raw results: $OUT"
  exit 0
fi

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

p=$(free_port 17380); start redis "$p" taskset -c 0 redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no --daemonize no
# corewire also listens for PostgreSQL (5433 unless told otherwise): each gets a port
# of its own, so that cw1 and cw2 do not collide.
cw_pg_args() {
  CW_PG_ARGS=()
  if corewire_has_pg "$BIN"; then CW_PG_ARGS=(--pg-port "$(free_port "$1")"); fi
  # And the HTTP listener (9380 by default).
  if "$BIN" --help 2>&1 | grep -q -- '--http-port'; then CW_PG_ARGS+=(--http-port "$(free_port $(($1 + 400)))"); fi
}
p=$(free_port $((p + 1))); cw_pg_args 17580; start cw1 "$p" taskset -c 0 "$BIN" --port "$p" --threads 1 "${CW_PG_ARGS[@]}"
p=$(free_port $((p + 1))); cw_pg_args 17590; start cw2 "$p" "$BIN" --port "$p" --threads 2 "${CW_PG_ARGS[@]}"
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

if [[ $BENCH_ONLY != redis ]]; then
  # The Redis part's servers go first, so that they do not share CPU 0 with this part.
  for s in "${SERVERS[@]}"; do stop "$s"; done
  bench_pg
  bench_metrics  # stops the PostgreSQL part's servers first
  bench_security  # stops the metrics part's servers first
  bench_durability  # stops the security part's servers first
  bench_pool  # stops whatever is left running first
fi
echo "raw results: $OUT"
