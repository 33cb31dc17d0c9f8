# The pool part of benches/bench.sh (sourced by it, not run; BENCH_ONLY=pool for it alone):
# corewire's upstream PostgreSQL pool next to PgBouncer, in transaction mode.
#
# One PostgreSQL (initdb'd into a temp dir by tests/e2e/lib.sh; max_connections=300,
# synchronous_commit=off, shared_buffers=256MB; BENCH_POOL_PG_SETTINGS overrides),
# loaded with pgbench -i -s BENCH_POOL_SCALE (10). In front of it, each on a free
# loopback port:
#   pgbouncer  Debian's PgBouncer (1.18 on bookworm), single-threaded by design, run as
#              the postgres user when we are root; pool_mode=transaction,
#              default_pool_size=POOL_SIZE, max_client_conn=1000, auth_type=trust,
#              ignore_startup_parameters=extra_float_digits; [databases] bench = the PG
#   corewire   corewire --threads 1 --config FILE: pool-mode = "transaction",
#              default-pool-size = POOL_SIZE, [databases] bench = the PG
# POOL_SIZE = BENCH_POOL_SIZE (20) for both. Pinning (the same for both proxies): the
# proxy on CPU 0, pgbench (-j 2) on the last CPU, PostgreSQL unpinned (its backends
# float over every CPU, competing with the proxy and with pgbench alike): the proxy
# figures are per core, the TPS is that of the whole machine.
#
# Workloads: pgbench's built-in select-only (-S) with -M simple and -M prepared, and
# the built-in TPC-B-like script with -M simple, each at BENCH_POOL_CLIENTS ("16 200")
# clients, -j 2, -T BENCH_POOL_SECONDS (10), against PostgreSQL directly (as role
# `direct`, a reference), through PgBouncer and through corewire (both to database
# bench, as user postgres), the three interleaved and their order turning every
# repetition, BENCH_REPS times. Before each TPC-B-like run pgbench_history is emptied
# and pgbench_branches and pgbench_tellers vacuumed, directly (what pgbench does
# itself without -n). PgBouncer 1.18 has no prepared statements in transaction mode:
# its -M prepared rows are expected to fail.
# Per run: TPS (pgbench's, without the initial connection time); the proxy's CPU-us
# per transaction (utime+stime of its process from /proc before and after, all
# threads, over the transactions pgbench counted); PostgreSQL's CPU-us per
# transaction (postmaster, its live children and reaped ones, as in the pg part; the
# direct run's backends are waited for until reaped). A run that fails (pgbench exit
# status not 0, an aborted client, a failed transaction, no result, or the proxy is
# not running) is recorded as failed; the part keeps going. A
# corewire that does not start with the config, or does not answer SELECT 1 on
# database bench, is reported and its rows are n/a.
# The table: medians over the successful runs; n/a when at most half of the runs succeeded.

POOL_SECONDS=${BENCH_POOL_SECONDS:-$([[ -n ${BENCH_QUICK:-} ]] && echo 3 || echo 10)}
POOL_SIZE=${BENCH_POOL_SIZE:-20}
POOL_SCALE=${BENCH_POOL_SCALE:-10}
read -r -a POOL_CLIENTS <<<"${BENCH_POOL_CLIENTS:-16 200}"
read -r -a POOL_PG_SETTINGS <<<"${BENCH_POOL_PG_SETTINGS:--c max_connections=300 -c synchronous_commit=off -c shared_buffers=256MB}"
# workload:mode pairs; select = pgbench -S, tpcb = the default script.
read -r -a POOL_CASES <<<"${BENCH_POOL_CASES:-select:simple select:prepared tpcb:simple}"
declare -A POOL_PID POOL_PORT

# pool_psql PORT USER DB ARGS...: one bounded psql call, unaligned tuples-only output,
# stderr folded in; prints "<psql exit N>" when it fails.
pool_psql() {
  local port=$1 user=$2 db=$3; shift 3
  pg_client_env timeout 60 psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$user" -d "$db" "$@" 2>&1 ||
    echo "<psql exit $?>"
}

# pool_settle: waits (10 s at most) until PostgreSQL has no backend of role direct left
# (process title "postgres: direct DB 127.0.0.1(PORT) ..."): the direct run's are reaped.
pool_settle() {
  for _ in $(seq 1 100); do
    pgrep -P "${POOL_PID[postgres]}" -f '^postgres: direct ' >/dev/null || return 0
    sleep 0.1
  done
  echo "bench: PostgreSQL pid ${POOL_PID[postgres]} still has backends of role direct after 10 s" >&2
}

# pool_wait_port PORT PID: until PORT accepts PostgreSQL connections (pg_isready) while
# PID lives; 10 s at most.
pool_wait_port() {
  local port=$1 pid=$2
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    pg_client_env timeout 3 pg_isready -q -h 127.0.0.1 -p "$port" -U postgres -d bench -t 2 && return 0
    sleep 0.1
  done
  return 1
}

# pool_stop NAME: SIGTERM (PgBouncer: immediate shutdown; corewire: shutdown), 5 s, SIGKILL.
pool_stop() {
  local pid=${POOL_PID[$1]:-}
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "POOL_PID[$1]"
}

# pool_run TARGET WORKLOAD MODE CLIENTS SECONDS: one pgbench run, pinned to the last CPU.
# Sets RUN_OK (1/0), RUN_TPS, RUN_LAT, RUN_TX, RUN_WHY; never exits.
pool_run() {
  local target=$1 w=$2 m=$3 c=$4 secs=$5 out rc=0 port user db script=() aborted failed
  case $target in
    direct) port=${POOL_PORT[postgres]}; user=direct; db=postgres ;;
    *) port=${POOL_PORT[$target]}; user=postgres; db=bench ;;
  esac
  if [[ $w == select ]]; then script=(-S); fi
  out=$(pg_client_env timeout $((secs + 30)) taskset -c "$LAST_CPU" pgbench -n -h 127.0.0.1 -p "$port" -U "$user" \
    -c "$c" -j 2 -T "$secs" -M "$m" "${script[@]}" "$db" 2>&1) || rc=$?
  printf '%s\n' "$out" >>"$OUT/pool-pgbench-$target-$w-$m-c$c.log"
  RUN_TPS=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' <<<"$out")
  RUN_LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms$/\1/p' <<<"$out")
  RUN_TX=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out")
  aborted=$(grep -c 'aborted\|Run was aborted' <<<"$out" || true)
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\) .*/\1/p' <<<"$out")
  RUN_OK=1; RUN_WHY=""
  if [[ $rc != 0 ]]; then RUN_WHY="pgbench exit $rc"
  elif [[ -z $RUN_TPS || -z $RUN_TX || $RUN_TX == 0 ]]; then RUN_WHY="no result"
  elif ((aborted > 0)); then RUN_WHY="aborted clients"
  elif [[ -n $failed && $failed != 0 ]]; then RUN_WHY="$failed failed transactions"
  fi
  if [[ $target != direct ]] && ! kill -0 "${POOL_PID[$target]:-0}" 2>/dev/null; then RUN_WHY="${RUN_WHY:+$RUN_WHY, }$target is gone"; fi
  if [[ -n $RUN_WHY ]]; then
    RUN_OK=0
    # The first error lines pgbench printed, for the log line.
    RUN_WHY="$RUN_WHY: $(grep -m1 -i 'error\|fatal\|abort\|could not' <<<"$out" | cut -c1-160 || true)"
  fi
}

# pool_reset WORKLOAD: before a TPC-B-like run, what pgbench does itself without -n.
pool_reset() {
  [[ $1 == tpcb ]] || return 0
  local out
  out=$(pool_psql "${POOL_PORT[postgres]}" postgres postgres -c 'TRUNCATE pgbench_history' \
    -c 'VACUUM pgbench_branches' -c 'VACUUM pgbench_tellers')
  [[ -z $out ]] || echo "bench: pool part: resetting the TPC-B tables: $out" >&2
}

bench_pool() {
  local why="" s t p d out rep i total order w m c before after pbefore pafter status tool cwwhy=""
  # CPU 0 is this part's alone: stop whatever the other parts left running.
  for s in "${!PID[@]}"; do
    kill -0 "${PID[$s]}" 2>/dev/null || continue
    if [[ $s == postgres ]]; then pg_stop "${PID[$s]}"; else stop "$s"; fi
  done
  for tool in psql pgbench pg_isready pgrep pgbouncer; do command -v "$tool" >/dev/null || why="missing $tool"; done
  [[ -n $PG_BINDIR ]] || why="no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
  if [[ $(id -u) == 0 ]] && ! id postgres >/dev/null 2>&1; then why="running as root and there is no postgres user"; fi
  if [[ -n $why ]]; then
    echo "bench: pool part skipped: $why (apt-get install postgresql pgbouncer)" | tee "$OUT/pool-note.txt" >&2
    return 0
  fi
  ((${#POOL_CLIENTS[@]} > 0)) || { echo "bench: BENCH_POOL_CLIENTS is empty" >&2; return 1; }
  for c in "${POOL_CLIENTS[@]}"; do
    [[ $c =~ ^[0-9]+$ ]] && ((c >= 2)) || { echo "bench: BENCH_POOL_CLIENTS: $c is not a number >= 2 (pgbench -j 2)" >&2; return 1; }
  done

  # ---- PostgreSQL, unpinned
  p=$(free_port 17980)
  PG_WRAP=()
  pg_start pool "$p" "$OUT/pool-postgres.log" "${POOL_PG_SETTINGS[@]}" || {
    echo "bench: pool part: PostgreSQL did not start; log:" >&2; tail -20 "$OUT/pool-postgres.log" >&2; return 1; }
  POOL_PID[postgres]=$STARTED_PID
  POOL_PORT[postgres]=$p
  out=$(pool_psql "$p" postgres postgres -c 'CREATE ROLE direct SUPERUSER LOGIN')
  [[ -z $out ]] || { echo "bench: pool part: CREATE ROLE direct: $out" >&2; return 1; }
  echo "pool part: pgbench -i -s $POOL_SCALE ..." >&2
  out=$(pg_client_env timeout 600 pgbench -i -q -s "$POOL_SCALE" -h 127.0.0.1 -p "$p" -U postgres postgres 2>&1) || {
    echo "bench: pool part: pgbench -i failed:" >&2; tail -5 <<<"$out" >&2; return 1; }
  printf '%s\n' "$out" >"$OUT/pool-pgbench-init.log"
  out=$(pool_psql "$p" postgres postgres -c 'CHECKPOINT')
  [[ -z $out ]] || { echo "bench: pool part: CHECKPOINT: $out" >&2; return 1; }

  # Config files of both proxies, in a temp dir the postgres user can read.
  d=$(mktemp -d /tmp/corewire-pool.XXXXXX)
  DUR_DIRS+=("$d")  # removed at exit
  chmod 755 "$d"

  # ---- PgBouncer on CPU 0
  p=$(free_port $((p + 1)))
  POOL_PORT[pgbouncer]=$p
  printf '"postgres" ""\n' >"$d/userlist.txt"
  cat >"$d/pgbouncer.ini" <<EOF
[databases]
bench = host=127.0.0.1 port=${POOL_PORT[postgres]} dbname=postgres user=postgres pool_size=$POOL_SIZE

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $p
unix_socket_dir =
auth_type = trust
auth_file = $d/userlist.txt
pool_mode = transaction
default_pool_size = $POOL_SIZE
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
stats_period = 600
logfile =
pidfile =
EOF
  chmod 644 "$d/pgbouncer.ini" "$d/userlist.txt"
  # setpriv and taskset exec in place: $! is pgbouncer itself.
  "${PG_AS[@]}" taskset -c 0 pgbouncer "$d/pgbouncer.ini" >"$OUT/pool-pgbouncer.log" 2>&1 &
  POOL_PID[pgbouncer]=$!
  PIDS+=("${POOL_PID[pgbouncer]}")
  pool_wait_port "$p" "${POOL_PID[pgbouncer]}" || {
    echo "bench: pool part: PgBouncer did not start; log:" >&2; tail -20 "$OUT/pool-pgbouncer.log" >&2; return 1; }

  # ---- corewire --threads 1 on CPU 0
  p=$(free_port $((p + 1)))
  POOL_PORT[corewire]=$(free_port $((p + 1)))
  cat >"$d/corewire.toml" <<EOF
pool-mode = "transaction"
default-pool-size = $POOL_SIZE

[databases]
bench = "host=127.0.0.1 port=${POOL_PORT[postgres]} dbname=postgres user=postgres pool_size=$POOL_SIZE"
EOF
  local cwargs=(--config "$d/corewire.toml" --port "$p" --pg-port "${POOL_PORT[corewire]}" --threads 1)
  if timeout 15 "$BIN" --help 2>&1 | grep -q -- '--http-port'; then cwargs+=(--http-port "$(free_port $((POOL_PORT[corewire] + 1)))"); fi
  taskset -c 0 "$BIN" "${cwargs[@]}" >"$OUT/pool-corewire.log" 2>&1 &
  POOL_PID[corewire]=$!
  PIDS+=("${POOL_PID[corewire]}")
  if ! pool_wait_port "${POOL_PORT[corewire]}" "${POOL_PID[corewire]}"; then
    cwwhy="corewire did not start with $d/corewire.toml: $(tail -3 "$OUT/pool-corewire.log" | tr '\n' ' ' | sed 's/ *$//' | cut -c1-300)"
  else
    out=$(pool_psql "${POOL_PORT[corewire]}" postgres bench -c 'SELECT 1')
    [[ $out == 1 ]] || cwwhy="SELECT 1 on database bench through corewire answered: $(tr '\n' ' ' <<<"$out" | sed 's/ *$//' | cut -c1-300)"
  fi
  if [[ -n $cwwhy ]]; then
    echo "bench: pool part: corewire rows are n/a: $cwwhy" | tee "$OUT/pool-note.txt" >&2
    pool_stop corewire
  fi

  local targets=(direct pgbouncer)
  if [[ -z $cwwhy ]]; then targets+=(corewire); fi
  {
    echo
    echo "pool part: $("$PG_BINDIR/postgres" --version), pid ${POOL_PID[postgres]} port ${POOL_PORT[postgres]}, not pinned,"
    echo "  default settings plus: ${POOL_PG_SETTINGS[*]} (fsync on); pgbench -i -s $POOL_SCALE into database postgres"
    echo "  pgbouncer: $(pgbouncer --version 2>&1 | head -1), pid ${POOL_PID[pgbouncer]} port ${POOL_PORT[pgbouncer]}, pinned to CPU 0;"
    echo "    pool_mode=transaction default_pool_size=$POOL_SIZE max_client_conn=1000 auth_type=trust"
    if [[ -z $cwwhy ]]; then
      echo "  corewire: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')) --threads 1, pid ${POOL_PID[corewire]}" \
        "pg port ${POOL_PORT[corewire]}, pinned to CPU 0;"
      echo "    pool-mode = \"transaction\", default-pool-size = $POOL_SIZE"
    else
      echo "  corewire: n/a ($cwwhy)"
    fi
    echo "  pgbench -j 2 -T $POOL_SECONDS, clients ${POOL_CLIENTS[*]}, pinned to CPU $LAST_CPU; cases ${POOL_CASES[*]}; reps=$REPS"
    echo "  direct = pgbench straight to PostgreSQL as role direct (a reference: no proxy)"
  } | tee "$OUT/pool_env.txt"

  # Warm-up: 2 s of every case at the first client count against every target.
  for s in "${targets[@]}"; do
    for t in "${POOL_CASES[@]}"; do
      w=${t%%:*}; m=${t#*:}
      pool_reset "$w"
      pool_run "$s" "$w" "$m" "${POOL_CLIENTS[0]}" 2
      ((RUN_OK)) || echo "bench: pool part: warm-up $s $w -M $m failed: $RUN_WHY" >&2
      if [[ $s == direct ]]; then pool_settle; fi
    done
  done

  RAWP=$OUT/pool_runs.csv
  echo "rep,workload,mode,clients,target,ok,transactions,tps,lat_ms,proxy_cpu_us,pg_cpu_us" >"$RAWP"
  total=$((REPS * ${#POOL_CASES[@]} * ${#POOL_CLIENTS[@]} * ${#targets[@]}))
  i=0
  for rep in $(seq 1 "$REPS"); do
    # The order of the targets turns every repetition.
    order=("${targets[@]:$(((rep - 1) % ${#targets[@]}))}" "${targets[@]:0:$(((rep - 1) % ${#targets[@]}))}")
    for t in "${POOL_CASES[@]}"; do
      w=${t%%:*}; m=${t#*:}
      for c in "${POOL_CLIENTS[@]}"; do
        for s in "${order[@]}"; do
          i=$((i + 1))
          pool_reset "$w"
          if [[ $s == direct ]]; then pool_settle; fi
          before=0; after=0
          if [[ $s != direct ]]; then before=$(cpu_us "${POOL_PID[$s]}" 2>/dev/null || echo 0); fi
          pbefore=$(pg_cpu_us "${POOL_PID[postgres]}")
          pool_run "$s" "$w" "$m" "$c" "$POOL_SECONDS"
          if [[ $s == direct ]]; then pool_settle; fi
          pafter=$(pg_cpu_us "${POOL_PID[postgres]}")
          if [[ $s != direct ]]; then after=$(cpu_us "${POOL_PID[$s]}" 2>/dev/null || echo 0); fi
          echo "$rep,$w,$m,$c,$s,$RUN_OK,${RUN_TX:-0},${RUN_TPS:-0},${RUN_LAT:-0},$((after - before)),$((pafter - pbefore))" >>"$RAWP"
          if ((RUN_OK)); then
            printf '[%3d/%d] rep %d pgbench %-6s -M %-8s -c %-3s %-9s %9s tps  %7.2f proxy CPU-us/tx  %7.2f PG CPU-us/tx\n' \
              "$i" "$total" "$rep" "$w" "$m" "$c" "$s" "$RUN_TPS" \
              "$(awk -v x=$((after - before)) -v n="$RUN_TX" 'BEGIN {print x / n}')" \
              "$(awk -v x=$((pafter - pbefore)) -v n="$RUN_TX" 'BEGIN {print x / n}')" >&2
          else
            printf '[%3d/%d] rep %d pgbench %-6s -M %-8s -c %-3s %-9s FAILED: %s\n' "$i" "$total" "$rep" "$w" "$m" "$c" "$s" \
              "$RUN_WHY" >&2
          fi
        done
      done
    done
  done
  python3 - "$RAWP" "$POOL_SIZE" "$LAST_CPU" "$cwwhy" <<'PY' | tee "$OUT/pool_table.txt"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
pool_size, last_cpu, cwwhy = sys.argv[2], sys.argv[3], sys.argv[4]
reps = len({r["rep"] for r in rows})
NAMES = {"select": "select-only (-S)", "tpcb": "TPC-B-like"}
cases = []
for r in rows:
    k = (r["workload"], r["mode"], int(r["clients"]))
    if k not in cases:
        cases.append(k)

def runs(k, target):
    return [r for r in rows if (r["workload"], r["mode"], int(r["clients"])) == k and r["target"] == target]

def med(k, target, field):
    """(median over the successful runs, or None when at most half of the runs
    succeeded; successful runs; runs)."""
    all_ = runs(k, target)
    ok = [r for r in all_ if r["ok"] == "1"]
    if not ok or 2 * len(ok) <= len(all_):
        return None, len(ok), len(all_)
    if field == "tps":
        vals = [float(r["tps"]) for r in ok]
    else:
        vals = [int(r[field]) / int(r["transactions"]) for r in ok]
    return statistics.median(vals), len(ok), len(all_)

partial = na = False
def fmt(v, width, prec):
    global partial, na
    x, n_ok, n = v
    if x is None:
        na = na or n > 0
        return "%*s" % (width, "n/a")
    s = "%.*f" % (prec, x)
    if n_ok < n:
        partial = True
        s += "*"
    return "%*s" % (width, s)

def ratio(a, b, width):
    if a[0] is None or b[0] is None or not b[0]:
        return "%*s" % (width, "n/a")
    return "%*.2f" % (width, a[0] / b[0])

print()
print("Pool (transaction mode, pool size %s): medians of %d runs; proxies single-threaded on CPU 0, pgbench -j 2 on CPU %s,"
      % (pool_size, reps, last_cpu))
print("PostgreSQL unpinned. TPS = pgbench's (whole machine); CPU = proxy utime+stime per transaction.")
hdr = ("%-18s %-8s %4s | %10s %10s %7s | %9s %9s %7s | %10s"
       % ("workload", "-M", "c", "pgb TPS", "cw TPS", "cw/pgb", "pgb us", "cw us", "cw/pgb", "direct TPS"))
print(hdr)
print("-" * len(hdr))
for k in cases:
    w, m, c = k
    pt, ct, dt = med(k, "pgbouncer", "tps"), med(k, "corewire", "tps"), med(k, "direct", "tps")
    pc, cc = med(k, "pgbouncer", "proxy_cpu_us"), med(k, "corewire", "proxy_cpu_us")
    print("%-18s %-8s %4d | %s %s %s | %s %s %s | %s"
          % (NAMES.get(w, w), m, c, fmt(pt, 10, 0), fmt(ct, 10, 0), ratio(ct, pt, 7),
             fmt(pc, 9, 2), fmt(cc, 9, 2), ratio(cc, pc, 7), fmt(dt, 10, 0)))
print()
print("PostgreSQL CPU-us per transaction (all its processes):")
hdr = "%-18s %-8s %4s | %9s %9s %9s" % ("workload", "-M", "c", "direct", "via pgb", "via cw")
print(hdr)
print("-" * len(hdr))
for k in cases:
    w, m, c = k
    print("%-18s %-8s %4d | %s %s %s"
          % (NAMES.get(w, w), m, c, fmt(med(k, "direct", "pg_cpu_us"), 9, 2),
             fmt(med(k, "pgbouncer", "pg_cpu_us"), 9, 2), fmt(med(k, "corewire", "pg_cpu_us"), 9, 2)))
if partial:
    print("*: some runs failed; the median is over the successful ones (see pool_runs.csv).")
if na or cwwhy:
    print("n/a: at most half of the runs succeeded (the reasons are in the run log above and pool-pgbench-*.log)"
          + ("; corewire: " + cwwhy if cwwhy else "") + ".")
if any(k[1] == "prepared" for k in cases):
    print("PgBouncer 1.18 has no prepared-statement support in transaction mode: its -M prepared runs are expected to fail"
          " (one may pass by luck when every client keeps landing on the server it prepared on).")
PY
  pool_stop corewire
  pool_stop pgbouncer
  pg_stop "${POOL_PID[postgres]}"
}
