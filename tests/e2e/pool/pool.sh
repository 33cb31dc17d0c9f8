# Section `pool` of tests/e2e/run.sh (sourced by it, not run): corewire as a
# transaction-mode pool in front of a real PostgreSQL (issue 6).
#
# Upstream: a fresh PostgreSQL cluster (lib.sh's pg_start, as the other sections'
# reference server) with database `app` owned by role pool_user, which logs in with
# SCRAM-SHA-256 over TCP (pg_hba: postgres trusted, everyone else scram-sha-256).
# Under test: corewire --config tests' generated TOML file (build/e2e/pool/):
#   threads = 2, pool-mode = "transaction", default-pool-size = 4,
#   admin-users = ["admin"], [databases] app = "host=127.0.0.1 port=UP dbname=app
#   user=pool_user password=..." (corewire has no pg-user: loopback is trusted, so
#   clients log in to corewire without a password and the pool logs in upstream with
#   SCRAM).
# Checks: psycopg 3 (pool_psycopg.py) and asyncpg (pool_asyncpg.py), 20 clients
# each with named prepared statements; pgbench -M prepared TPC-B-like -c 16 (and
# -S -M extended -c 8) with exact balance sums afterwards and never more than 4
# upstream connections; the admin console (SHOW POOLS/SERVERS/DATABASES/STATS/
# CLIENTS/CONFIG/WORKERS, PAUSE/RESUME, KILL); upstream errors (psql output diffed
# with psql directly on the upstream, errors.sql) and \copy in and out.
#
# E2E_POOL_SERVER=pgbouncer: the same checks against a real PgBouncer (session mode,
# pool size 40: PgBouncer before 1.21 has no named prepared statements in transaction
# mode) as a self-test of the section; corewire-only checks are skipped. This is the
# default with E2E_SERVER=redis.
#
# Uses run.sh's pass/fail/section/expect, start_corewire, stop_pid and lib.sh's
# pg_start/pg_stop/pg_client_env/free_port/PG_AS. Every client runs under timeout;
# every server started here is stopped at the end of the section (and by run.sh's
# EXIT trap if the section is interrupted).

POOL_DIR=$E2E/pool
POOL_LOGS=$LOGS/pool
POOL_PW='pool-Secret 42'
if [[ $SERVER == redis ]]; then POOL_SERVER=${E2E_POOL_SERVER:-pgbouncer}; else POOL_SERVER=${E2E_POOL_SERVER:-corewire}; fi
POOL_UP_PORT="" POOL_PORT="" POOL_CW_PID="" POOL_UP_PID=""

# ---------------------------------------------------------------- clients
# up_psql ARGS...: directly on the upstream as pool_user (SCRAM), database app.
up_psql() {
  pg_client_env PGPASSWORD="$POOL_PW" timeout 60 psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "$POOL_UP_PORT" -U pool_user -d app "$@" 2>&1 || echo "<psql exit $?>"
}
# up_su ARGS...: directly on the upstream as postgres (trusted), database app.
up_su() {
  pg_client_env timeout 30 psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "$POOL_UP_PORT" -U postgres -d app "$@" 2>&1 || echo "<psql exit $?>"
}
# pool_psql ARGS...: through the pool as pool_user, database app, no password.
pool_psql() {
  pg_client_env timeout 30 psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "$POOL_PORT" -U pool_user -d app "$@" 2>&1 || echo "<psql exit $?>"
}
# pool_admin COMMAND: the admin console as user admin; unaligned, '|'-separated,
# header line kept, no footer. Nonzero exit status shows as a "<psql exit N>" line.
pool_admin() {
  pg_client_env timeout 15 psql -X -A -F '|' -P footer=off -h 127.0.0.1 -p "$POOL_PORT" \
    -U admin -d "$POOL_CONSOLE" -c "$1" 2>&1 || echo "<psql exit $?>"
}

# tbl TEXT MATCH_COL MATCH_VAL WANT_COL: from a pool_admin table, WANT_COL of every
# row whose MATCH_COL is MATCH_VAL (MATCH_COL "": every row), one a line;
# "<no column X>" when the header lacks a column.
tbl() {
  awk -F'|' -v mc="$2" -v mv="$3" -v wc="$4" '
    NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i
              if (mc != "" && !(mc in h)) { print "<no column " mc ">"; exit }
              if (!(wc in h)) { print "<no column " wc ">"; exit }
              next }
    /^<psql exit/ { next }
    mc == "" || $h[mc] == mv { print $h[wc] }' <<<"$1"
}
# tbl_sum TEXT MATCH_COL MATCH_VAL WANT_COL: the sum of those values ("?" without
# the columns).
tbl_sum() { tbl "$@" | awk '/^-?[0-9]+$/ { s += $1; n++ } /^</ { bad = $0 } END { if (bad != "") print "?"; else print s + 0 }'; }

# pool_py NAME LIMIT SCRIPT ARGS...: a Python check script; every "PASS: ..." or
# "FAIL: ..." line it prints is one check, other lines are shown; a script that ends
# otherwise (crash, timeout) without a FAIL line, or runs no check, is one FAIL.
pool_py() {
  local name=$1 limit=$2 script=$3 line np=0 nf=0 rc=""; shift 3
  while IFS= read -r line; do
    case $line in
      "PASS: "*) pass "pool $name: ${line#PASS: }"; np=$((np + 1)) ;;
      "FAIL: "*) fail "pool $name: ${line#FAIL: }"; nf=$((nf + 1)) ;;
      "__pool_exit="*) rc=${line#__pool_exit=} ;;
      *) printf '%s\n' "$line" ;;
    esac
  done < <(x=0; pg_client_env timeout -k 5 "$limit" python3 -u "$POOL_DIR/$script" --port "$POOL_PORT" \
             --upstream-port "$POOL_UP_PORT" --password "$POOL_PW" "$@" 2>&1 || x=$?; echo "__pool_exit=$x")
  if [[ $rc != 0 && $nf == 0 ]]; then
    fail "pool $name: $script exit status ${rc:-?}$([[ $rc == 124 ]] && echo ", timed out after $limit s") without a FAIL line"
  fi
  if [[ $np == 0 && $nf == 0 ]]; then fail "pool $name: $script ran no check"; fi
  return 0
}

# ---------------------------------------------------------------- servers
# The upstream: database app owned by pool_user (SCRAM), pg_hba as said above.
pool_upstream() {
  POOL_UP_PORT=$(free_port 16900) || return 1
  pg_start pool "$POOL_UP_PORT" "$POOL_LOGS/pg-upstream.log" -c max_connections=60 || return 1
  POOL_UP_PID=$STARTED_PID
  local out
  out=$(pg_client_env timeout 30 psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POOL_UP_PORT" -U postgres -d kv \
    -c "SET password_encryption = 'scram-sha-256'" \
    -c "CREATE ROLE pool_user LOGIN PASSWORD '$POOL_PW'" \
    -c 'CREATE DATABASE app OWNER pool_user' 2>&1) || { echo "creating pool_user/app: $out"; return 1; }
  printf 'local all all trust\nhost all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n' \
    >"${PG_DATA[pool]}/pg_hba.conf"
  out=$(up_su -c 'SELECT pg_reload_conf()')
  [[ $out == t ]] || { echo "pg_reload_conf: $out"; return 1; }
  # The reload is asynchronous: wait until the postmaster has read the new pg_hba.
  for _ in $(seq 1 50); do
    out=$(up_su -c "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'scram-sha-256'")
    [[ $out == 1 ]] && break
    sleep 0.1
  done
  out=$(up_psql -c 'SELECT current_user')
  [[ $out == pool_user ]] || { echo "pool_user cannot log in with SCRAM: $out"; return 1; }
  out=$(pg_client_env PGPASSWORD=wrong timeout 10 psql -X -A -t -h 127.0.0.1 -p "$POOL_UP_PORT" -U pool_user -d app -c 'SELECT 1' 2>&1 || true)
  [[ $out == *"password authentication failed"* ]] || { echo "upstream accepts a wrong password: $out"; return 1; }
}

pool_start_corewire() {
  local cfg=$POOL_LOGS/corewire-pool.toml resp
  cat >"$cfg" <<EOF
# e2e section pool (tests/e2e/pool/pool.sh)
threads = 2
pool-mode = "transaction"
default-pool-size = 4
admin-users = ["admin"]

[databases]
app = "host=127.0.0.1 port=$POOL_UP_PORT dbname=app user=pool_user password='$POOL_PW'"
EOF
  resp=$(free_port 16940) || return 1
  POOL_PORT=$(free_port 16960) || return 1
  start_corewire "$resp" "$POOL_LOGS/corewire-pool.log" --pg-port "$POOL_PORT" --config "$cfg" || return 1
  POOL_CW_PID=$STARTED_PID
  pg_wait_ready "$POOL_PORT" "$POOL_CW_PID"
}

# PgBouncer (self-test), as user postgres when root (it refuses to run as root).
pool_start_pgbouncer() {
  local dir=$POOL_LOGS/pgbouncer
  command -v pgbouncer >/dev/null || { echo "pgbouncer not installed (apt-get install pgbouncer)"; return 1; }
  rm -rf "$dir" && mkdir -p "$dir"
  POOL_PORT=$(free_port 16960) || return 1
  printf '"pool_user" ""\n"admin" ""\n' >"$dir/users.txt"
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
app = host=127.0.0.1 port=$POOL_UP_PORT dbname=app user=pool_user password='$POOL_PW'
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $POOL_PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
admin_users = admin
pool_mode = session
default_pool_size = 40
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
EOF
  [[ $(id -u) == 0 ]] && chown -R postgres: "$dir"
  "${PG_AS[@]}" "$(command -v pgbouncer)" "$dir/pgbouncer.ini" >"$POOL_LOGS/pgbouncer.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=("$STARTED_PID")
  POOL_CW_PID=$STARTED_PID
  pg_wait_ready "$POOL_PORT" "$POOL_CW_PID"
}

# ---------------------------------------------------------------- checks
pool_check_drivers() {
  pool_py psycopg 180 pool_psycopg.py --clients 20 --transactions 50
  pool_py asyncpg 180 pool_asyncpg.py --clients 20 --transactions 50
}

# pool_sample FILE PID: until PID ends (60 s at most), one line per 0.2 s:
# "<upstream pool_user backends> <sum sv_active> <sum cl_active+cl_waiting> <sum cl_waiting>".
pool_sample() {
  local file=$1 pid=$2 up pools
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    up=$(up_su -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'pool_user' AND datname = 'app'")
    [[ $up =~ ^[0-9]+$ ]] || up="?"
    pools=$(pool_admin 'SHOW POOLS')
    echo "$up $(tbl_sum "$pools" database app sv_active) $(tbl_sum "$pools" database app cl_active) $(tbl_sum "$pools" database app cl_waiting)" \
      | awk '{ c = ($3 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/) ? $3 + $4 : "?"; print $1, $2, c, $4 }' >>"$file" || true
    sleep 0.2
  done
}

# pool_pgbench NAME LIMIT ARGS...: pgbench through the pool as pool_user, database
# app; sets PGB_RC, PGB_OUT, PGB_N (transactions processed), PGB_FAILED_LINE; the
# SHOW POOLS / pg_stat_activity samples taken meanwhile are in $POOL_LOGS/NAME.samples.
pool_pgbench() {
  local name=$1 limit=$2 log tmp; shift 2
  log=$POOL_LOGS/pgbench-$name.log
  rm -f "$POOL_LOGS/$name.samples"
  pg_client_env timeout "$limit" pgbench -h 127.0.0.1 -p "$POOL_PORT" -U pool_user "$@" app >"$log" 2>&1 &
  tmp=$!
  pool_sample "$POOL_LOGS/$name.samples" "$tmp"
  PGB_RC=0; wait "$tmp" || PGB_RC=$?
  PGB_OUT=$(cat "$log")
  PGB_N=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$PGB_OUT" | head -1)
  PGB_FAILED_LINE=$(grep -m1 '^number of failed transactions' <<<"$PGB_OUT" || echo "no 'number of failed transactions' line")
}

pool_check_pgbench() {
  local out stats0 x0 x1 sums a h b t cnt maxup maxsv maxcl
  out=$(pg_client_env PGPASSWORD="$POOL_PW" timeout 120 pgbench -i -s 2 -h 127.0.0.1 -p "$POOL_UP_PORT" -U pool_user app 2>&1) \
    && pass "pool pgbench: pgbench -i -s 2 directly on the upstream" \
    || { fail "pool pgbench: pgbench -i -s 2 on the upstream failed: $(tail -3 <<<"$out" | tr '\n' ' ')"; return 0; }
  stats0=$(pool_admin 'SHOW STATS')
  x0=$(tbl "$stats0" database app total_xact_count | head -1)

  pool_pgbench tpcb 60 -M prepared -c 16 -j 2 -T 10
  if [[ $PGB_RC == 0 && $PGB_FAILED_LINE == "number of failed transactions: 0 (0.000%)" && ${PGB_N:-0} -gt 0 ]]; then
    pass "pool pgbench -M prepared -c 16 -j 2 -T 10 (TPC-B-like): exit 0, $PGB_N transactions, $PGB_FAILED_LINE, $(grep -m1 '^tps' <<<"$PGB_OUT")"
  else
    fail "pool pgbench -M prepared -c 16 -j 2 -T 10: exit $PGB_RC$([[ $PGB_RC == 124 ]] && echo ' (timed out after 60 s)'), processed ${PGB_N:-?}, $PGB_FAILED_LINE; $(grep -m3 -iE 'error|abort|fatal|could not' <<<"$PGB_OUT" | tr '\n' ' ') (log $POOL_LOGS/pgbench-tpcb.log)"
  fi
  # Every committed TPC-B transaction adds delta to one account, teller, branch and
  # one history row: the four sums are equal, and history has one row per transaction.
  sums=$(up_psql -F ' ' -c 'SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT coalesce(sum(delta), 0) FROM pgbench_history),
    (SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(tbalance) FROM pgbench_tellers), (SELECT count(*) FROM pgbench_history)')
  read -r a h b t cnt <<<"$sums"
  if [[ -n ${cnt:-} && $a == "$h" && $a == "$b" && $a == "$t" ]]; then
    pass "pool pgbench: sum(abalance) == sum(delta) == sum(bbalance) == sum(tbalance) == $a on the upstream"
  else
    fail "pool pgbench: sums differ on the upstream: accounts $a, history $h, branches $b, tellers $t"
  fi
  expect "pool pgbench: history rows on the upstream == transactions pgbench reported" "${PGB_N:-?}" "${cnt:-?}"
  read -r maxup maxsv maxcl <<<"$(awk 'BEGIN { u = 0; s = 0; c = 0 } $1 ~ /^[0-9]+$/ && $1 > u { u = $1 } $2 ~ /^[0-9]+$/ && $2 > s { s = $2 } $3 ~ /^[0-9]+$/ && $3 > c { c = $3 } END { print u, s, c }' "$POOL_LOGS/tpcb.samples" 2>/dev/null)"
  local samples; samples=$(wc -l <"$POOL_LOGS/tpcb.samples" 2>/dev/null || echo 0)
  if [[ $samples -gt 0 && ${maxup:-99} -ge 1 && ${maxup:-99} -le $POOL_SIZE ]]; then
    pass "pool pgbench: at most $POOL_SIZE upstream connections during -c 16 (max seen $maxup in $samples samples of pg_stat_activity)"
  else
    fail "pool pgbench: upstream connections of pool_user during -c 16: max $maxup in $samples samples (pool size $POOL_SIZE)"
  fi
  if [[ $samples -gt 0 && ${maxsv:-99} -le $POOL_SIZE && ${maxcl:-0} -ge 16 ]]; then
    pass "pool pgbench: SHOW POOLS during -c 16: sum(sv_active) <= $POOL_SIZE (max $maxsv), sum(cl_active + cl_waiting) reached 16 (max $maxcl)"
  else
    fail "pool pgbench: SHOW POOLS during -c 16: max sum(sv_active) $maxsv (want <= $POOL_SIZE), max sum(cl_active + cl_waiting) $maxcl (want >= 16); samples in $POOL_LOGS/tpcb.samples"
  fi
  x1=$(tbl "$(pool_admin 'SHOW STATS')" database app total_xact_count | head -1)
  if [[ $x0 =~ ^[0-9]+$ && $x1 =~ ^[0-9]+$ && ${PGB_N:-x} =~ ^[0-9]+$ && $((x1 - x0)) -ge $PGB_N && $PGB_N -gt 0 ]]; then
    pass "pool SHOW STATS: total_xact_count of app grew by $((x1 - x0)) over the pgbench run (>= its $PGB_N transactions)"
  else
    fail "pool SHOW STATS: total_xact_count of app before pgbench '$x0', after '$x1' (pgbench reported ${PGB_N:-?} transactions)"
  fi

  pool_pgbench select 40 -S -M extended -c 8 -T 5
  if [[ $PGB_RC == 0 && $PGB_FAILED_LINE == "number of failed transactions: 0 (0.000%)" && ${PGB_N:-0} -gt 0 ]]; then
    pass "pool pgbench -S -M extended -c 8 -T 5: exit 0, $PGB_N transactions, $PGB_FAILED_LINE"
  else
    fail "pool pgbench -S -M extended -c 8 -T 5: exit $PGB_RC, processed ${PGB_N:-?}, $PGB_FAILED_LINE; $(grep -m3 -iE 'error|abort|fatal|could not' <<<"$PGB_OUT" | tr '\n' ' ') (log $POOL_LOGS/pgbench-select.log)"
  fi
}

pool_check_admin() {
  local out col missing rows n workers
  out=$(pool_admin 'SHOW POOLS')
  printf '%s\n' "$out" >"$POOL_LOGS/show-pools.txt"
  missing=""
  for col in database user cl_active cl_waiting sv_active sv_idle sv_used sv_tested sv_login maxwait pool_mode; do
    [[ "|$(head -1 <<<"$out")|" == *"|$col|"* ]] || missing+=" $col"
  done
  if [[ -z $missing ]]; then pass "pool SHOW POOLS: PgBouncer's columns ($(head -1 <<<"$out"))"; else fail "pool SHOW POOLS: missing columns:$missing in $(printf %q "$(head -3 <<<"$out")")"; fi
  rows=$(tbl "$out" database app database | grep -c '^app$' || true)
  if [[ $POOL_SERVER == corewire ]]; then
    workers=$(tbl "$out" database app worker | sort -u | tr '\n' ' ')
    if [[ $rows == 2 && $workers == "0 1 " ]]; then pass "pool SHOW POOLS: one row for app per worker (workers $workers)"
    else fail "pool SHOW POOLS: rows for app: $rows, workers '$workers' (want 2 rows, workers 0 and 1): $(printf %q "$out")"; fi
    expect "pool SHOW POOLS: pool_mode of app" "transaction" "$(tbl "$out" database app pool_mode | sort -u | tr '\n' ' ' | sed 's/ $//')"
  else
    [[ $rows -ge 1 ]] && pass "pool SHOW POOLS: $rows row(s) for app" || fail "pool SHOW POOLS: no row for app: $(printf %q "$out")"
  fi

  out=$(pool_admin 'SHOW SERVERS')
  printf '%s\n' "$out" >"$POOL_LOGS/show-servers.txt"
  n=$(tbl "$out" database app database | grep -c '^app$' || true)
  local ports; ports=$(tbl "$out" database app port | sort -u | tr '\n' ' ')
  if [[ $n -ge 1 && $n -le $POOL_SIZE && $ports == "$POOL_UP_PORT " ]]; then
    pass "pool SHOW SERVERS: $n server connection(s) of app (<= $POOL_SIZE), all to port $POOL_UP_PORT, states $(tbl "$out" database app state | sort | uniq -c | tr -s ' \n' ' ')"
  else
    fail "pool SHOW SERVERS: $n rows for app (want 1..$POOL_SIZE), ports '$ports' (want $POOL_UP_PORT): $(printf %q "$(head -6 <<<"$out")")"
  fi

  out=$(pool_admin 'SHOW DATABASES')
  printf '%s\n' "$out" >"$POOL_LOGS/show-databases.txt"
  expect "pool SHOW DATABASES: app's host|port|database|pool_size" "127.0.0.1|$POOL_UP_PORT|app|$POOL_SIZE" \
    "$(tbl "$out" name app host)|$(tbl "$out" name app port)|$(tbl "$out" name app database)|$(tbl "$out" name app pool_size)"

  # SHOW CLIENTS while a client sits in pg_sleep (linked to a server).
  local bg
  pg_client_env PGAPPNAME=pool_e2e_probe timeout 20 psql -X -q -A -t -h 127.0.0.1 -p "$POOL_PORT" -U pool_user -d app \
    -c 'SELECT pg_sleep(3)' >/dev/null 2>&1 &
  bg=$!
  sleep 1
  out=$(pool_admin 'SHOW CLIENTS')
  printf '%s\n' "$out" >"$POOL_LOGS/show-clients.txt"
  n=$(tbl "$out" database app application_name | grep -c '^pool_e2e_probe$' || true)
  if [[ $n == 1 ]]; then
    pass "pool SHOW CLIENTS: the client in pg_sleep is listed (database app, application_name pool_e2e_probe, state $(awk -F'|' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } $h["application_name"] == "pool_e2e_probe" { print $h["state"] }' <<<"$out"))"
  else
    fail "pool SHOW CLIENTS: $n rows of app with application_name pool_e2e_probe (want 1): $(printf %q "$(head -5 <<<"$out")")"
  fi
  wait "$bg" 2>/dev/null || true

  out=$(pool_admin 'SHOW CONFIG')
  printf '%s\n' "$out" >"$POOL_LOGS/show-config.txt"
  # corewire names its settings with dashes (pool-mode), PgBouncer with underscores.
  local cfg; cfg=$(awk -F'|' 'BEGIN { OFS = "|" } NR > 1 { gsub("-", "_", $1) } { print }' <<<"$out")
  expect "pool SHOW CONFIG: pool_mode row" "$POOL_MODE" "$(tbl "$cfg" key pool_mode value)"
  expect "pool SHOW CONFIG: default_pool_size row" "$POOL_SIZE" "$(tbl "$cfg" key default_pool_size value)"

  if [[ $POOL_SERVER == corewire ]]; then
    out=$(pool_admin 'SHOW WORKERS')
    printf '%s\n' "$out" >"$POOL_LOGS/show-workers.txt"
    expect "pool SHOW WORKERS: workers" "0 1 " "$(tbl "$out" "" "" worker | tr '\n' ' ')"
  fi
}

# wait_bg PID TENTHS: EXIT_RC of PID, 124 (and PID killed) if it is still running after TENTHS.
wait_bg() {
  wait_exit "$1" "$2"
  if [[ $EXIT_RC == 124 ]]; then kill -KILL "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}

pool_check_pause_kill() {
  local out bg bg2 f=$POOL_LOGS/bg.out f2=$POOL_LOGS/bg2.out start ms
  # PAUSE while a transaction is in flight: PAUSE waits for it, it completes.
  pg_client_env timeout 20 psql -X -q -A -t -h 127.0.0.1 -p "$POOL_PORT" -U pool_user -d app \
    -c 'SELECT 7 FROM pg_sleep(2)' >"$f" 2>&1 &
  bg=$!
  sleep 0.5
  out=$(pool_admin 'PAUSE app')
  if [[ $out == *"<psql exit"* || $out == *ERROR* ]]; then fail "pool PAUSE app: $(printf %q "$out")"; else pass "pool PAUSE app: $(printf %q "$out")"; fi
  wait_bg "$bg" 100
  expect "pool PAUSE app: the 2 s query in flight when PAUSE came completes (exit, output)" "0 7" "$EXIT_RC $(tr '\n' ' ' <"$f" | sed 's/ $//')"
  # A new transaction waits while paused ...
  pg_client_env timeout 20 psql -X -q -A -t -h 127.0.0.1 -p "$POOL_PORT" -U pool_user -d app \
    -c 'SELECT 42' >"$f" 2>&1 &
  bg=$!
  sleep 2
  if kill -0 "$bg" 2>/dev/null; then
    pass "pool PAUSE app: a new query through the pool is still waiting after 2 s"
  else
    out=0; wait "$bg" || out=$?
    fail "pool PAUSE app: a new query completed while paused (exit $out): $(printf %q "$(cat "$f")")"
  fi
  # ... and completes after RESUME.
  out=$(pool_admin 'RESUME app')
  if [[ $out == *"<psql exit"* || $out == *ERROR* ]]; then fail "pool RESUME app: $(printf %q "$out")"; else pass "pool RESUME app: $(printf %q "$out")"; fi
  start=$(date +%s%N)
  wait_bg "$bg" 50
  ms=$((($(date +%s%N) - start) / 1000000))
  expect "pool RESUME app: the waiting query completes ($ms ms after RESUME; exit, output)" "0 42" "$EXIT_RC $(tr '\n' ' ' <"$f" | sed 's/ $//')"

  # KILL app: a client in pg_sleep(20) (linked to a server) and a client idle
  # between \watch queries are both disconnected.
  pg_client_env timeout 30 psql -X -q -A -t -h 127.0.0.1 -p "$POOL_PORT" -U pool_user -d app \
    -c 'SELECT pg_sleep(20)' >"$f" 2>&1 &
  bg=$!
  printf 'SELECT 1 \\watch 1\n' | pg_client_env timeout 30 psql -X -q -A -t -h 127.0.0.1 -p "$POOL_PORT" -U pool_user -d app >"$f2" 2>&1 &
  bg2=$!
  sleep 2
  if ! kill -0 "$bg" 2>/dev/null || ! kill -0 "$bg2" 2>/dev/null; then
    fail "pool KILL app: the sessions to kill ended before KILL: $(printf %q "$(cat "$f" "$f2" | tail -4)")"
  fi
  out=$(pool_admin 'KILL app')
  if [[ $out == *"<psql exit"* || $out == *ERROR* ]]; then fail "pool KILL app: $(printf %q "$out")"; else pass "pool KILL app: $(printf %q "$out")"; fi
  start=$(date +%s%N)
  wait_bg "$bg" 50
  ms=$((($(date +%s%N) - start) / 1000000))
  if [[ $EXIT_RC != 0 && $EXIT_RC != 124 ]]; then
    pass "pool KILL app: the client in pg_sleep(20) was disconnected after $ms ms (psql exit $EXIT_RC: $(tail -1 "$f"))"
  else
    fail "pool KILL app: the client in pg_sleep(20): psql exit $EXIT_RC (124: still running 5 s after KILL): $(printf %q "$(cat "$f")")"
  fi
  wait_bg "$bg2" 30
  if [[ $EXIT_RC != 0 && $EXIT_RC != 124 ]]; then
    pass "pool KILL app: the idle client between \\watch queries was disconnected (psql exit $EXIT_RC: $(tail -1 "$f2"))"
  else
    fail "pool KILL app: the \\watch client: psql exit $EXIT_RC (124: still running 3 s after the other ended): $(printf %q "$(tail -3 "$f2")")"
  fi
  # PgBouncer leaves a killed database paused until RESUME; corewire may not pause
  # it at all, so RESUME's answer is not checked: only that app serves again.
  pool_admin 'RESUME app' >/dev/null
  expect "pool after KILL (and RESUME): a new client is served" "1" "$(pool_psql -c 'SELECT 1')"
}

pool_check_psql() {
  local out d1=$POOL_LOGS/errors-upstream.out d2=$POOL_LOGS/errors-pool.out
  out=$(up_psql -c 'SET client_min_messages = warning' -c 'DROP TABLE IF EXISTS pool_err' -c "CREATE TABLE pool_err (id int PRIMARY KEY, v text CHECK (length(v) < 5))" \
    -c "INSERT INTO pool_err VALUES (1, 'one'), (3, 'thr')")
  [[ -z $out ]] || fail "pool psql: creating pool_err upstream: $out"
  # The same script, directly and through the pool; ports and hosts normalized.
  pg_client_env PGPASSWORD="$POOL_PW" timeout 60 psql -X -h 127.0.0.1 -p "$POOL_UP_PORT" -U pool_user -d app \
    -f "$POOL_DIR/errors.sql" >"$d1" 2>&1 || echo "<psql exit $?>" >>"$d1"
  pg_client_env timeout 60 psql -X -h 127.0.0.1 -p "$POOL_PORT" -U pool_user -d app \
    -f "$POOL_DIR/errors.sql" >"$d2" 2>&1 || echo "<psql exit $?>" >>"$d2"
  sed -i -E "s/port $POOL_UP_PORT|port $POOL_PORT/port PORT/g; s/127\.0\.0\.1/HOST/g" "$d1" "$d2"
  local errs; errs=$(grep -c 'ERROR:' "$d1" || true)
  if [[ $errs -lt 10 ]]; then
    fail "pool psql errors: only $errs ERROR lines directly on the upstream (test bug?): $d1"
  elif out=$(diff "$d1" "$d2"); then
    pass "pool psql errors: errors.sql output ($errs errors: syntax, division by zero, unique/check/not-null violation, RAISE with DETAIL/HINT, aborted transaction, savepoint, COPY data error; NOTICEs; VERBOSITY verbose) identical through the pool and directly"
  else
    fail "pool psql errors: output differs from psql directly on the upstream (< upstream, > pool): $(head -12 <<<"$out" | tr '\n' '~')"
  fi

  # \copy in and out through the pool.
  local src=$POOL_LOGS/copy-in.tsv back=$POOL_LOGS/copy-out-pool.tsv direct=$POOL_LOGS/copy-out-upstream.tsv
  python3 - "$src" <<'PY'
import sys
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i in range(1, 50001):
        if i % 97 == 0:
            t = r"\N"
        else:
            t = "row %d tab\\there back\\\\slash nl\\nünï ✓ %s" % (i, "x" * (i % 50))
        f.write("%d\t%s\n" % (i, t))
PY
  out=$(up_psql -c 'SET client_min_messages = warning' -c 'DROP TABLE IF EXISTS pool_copy' -c 'CREATE TABLE pool_copy (id int PRIMARY KEY, t text)')
  [[ -z $out ]] || fail "pool \\copy: creating pool_copy upstream: $out"
  out=$(pg_client_env timeout 60 psql -X -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POOL_PORT" -U pool_user -d app \
    -c "\\copy pool_copy FROM '$src'" 2>&1 || echo "<psql exit $?>")
  expect "pool \\copy FROM a file through the pool (50000 rows)" "COPY 50000" "$out"
  expect "pool \\copy: rows upstream (count, NULLs)" "50000|515" "$(up_psql -c 'SELECT count(*), count(*) FILTER (WHERE t IS NULL) FROM pool_copy')"
  out=$(pool_psql -c "\\copy (SELECT id, t FROM pool_copy ORDER BY id) TO '$back'")
  up_psql -c "\\copy (SELECT id, t FROM pool_copy ORDER BY id) TO '$direct'" >/dev/null
  if [[ -z $out ]] && cmp -s "$src" "$back" && cmp -s "$src" "$direct"; then
    pass "pool \\copy TO a file through the pool: byte-identical to the file loaded (and to \\copy directly on the upstream)"
  else
    fail "pool \\copy TO: psql said $(printf %q "$out"); cmp: $(cmp "$src" "$back" 2>&1 | head -1) / direct: $(cmp "$src" "$direct" 2>&1 | head -1)"
  fi
}

pool_section() {
  section "pool. corewire as a transaction-mode pool in front of PostgreSQL (tests/e2e/pool/)"
  mkdir -p "$POOL_LOGS"
  local tool out
  for tool in psql pgbench pg_isready; do
    command -v "$tool" >/dev/null || { fail "pool: missing tool $tool (apt-get install postgresql)"; return 0; }
  done
  python3 -c 'import psycopg, asyncpg' 2>/dev/null \
    || echo "note: python packages psycopg and/or asyncpg missing (pip install 'psycopg[binary]' asyncpg)"
  if [[ $POOL_SERVER == corewire ]]; then
    POOL_CONSOLE=corewire POOL_SIZE=4 POOL_MODE=transaction
    if [[ ! -x $BIN ]]; then fail "pool: missing $BIN"; return 0; fi
  elif [[ $POOL_SERVER == pgbouncer ]]; then
    POOL_CONSOLE=pgbouncer POOL_SIZE=40 POOL_MODE=session
    if ! command -v pgbouncer >/dev/null; then echo "SKIP: pool: E2E_POOL_SERVER=pgbouncer needs pgbouncer (apt-get install pgbouncer)"; return 0; fi
    echo "E2E_POOL_SERVER=pgbouncer: the pool checks run against PgBouncer ($(pgbouncer --version | head -1)), session mode, pool size 40 (suite self-test; corewire-only checks skipped)"
  else
    fail "pool: E2E_POOL_SERVER must be corewire or pgbouncer, not $POOL_SERVER"; return 0
  fi
  # Not in a subshell: pg_start records its pids and temp dirs for the cleanup.
  if ! pool_upstream >"$POOL_LOGS/setup.log" 2>&1; then
    fail "pool: upstream PostgreSQL did not start: $(tail -3 "$POOL_LOGS/setup.log" | tr '\n' ' ') $(tail -3 "$POOL_LOGS/pg-upstream.log" | tr '\n' ' ')"
    [[ -n $POOL_UP_PID ]] && pg_stop "$POOL_UP_PID"
    return 0
  fi
  echo "upstream PostgreSQL ($("$PG_BINDIR/postgres" --version)) pid $POOL_UP_PID on 127.0.0.1:$POOL_UP_PORT; database app, role pool_user (SCRAM)"
  if [[ $POOL_SERVER == corewire ]]; then
    if ! pool_start_corewire; then
      fail "pool: corewire --config $POOL_LOGS/corewire-pool.toml did not start or accept PostgreSQL connections; log: $(tail -5 "$POOL_LOGS/corewire-pool.log" | tr '\n' ' ')"
      pg_stop "$POOL_UP_PID"; return 0
    fi
    echo "corewire pid $POOL_CW_PID, PostgreSQL port $POOL_PORT (config $POOL_LOGS/corewire-pool.toml, log $POOL_LOGS/corewire-pool.log)"
  else
    if ! pool_start_pgbouncer; then
      fail "pool: pgbouncer did not start; log: $(tail -5 "$POOL_LOGS/pgbouncer.log" | tr '\n' ' ')"
      pg_stop "$POOL_UP_PID"; return 0
    fi
    echo "pgbouncer pid $POOL_CW_PID on 127.0.0.1:$POOL_PORT"
  fi
  expect "pool: SELECT through the pool reaches the upstream (current_database, current_user, port)" \
    "app|pool_user|$POOL_UP_PORT" "$(pool_psql -c 'SELECT current_database(), current_user, inet_server_port()')"

  pool_check_drivers
  pool_check_pgbench
  pool_check_admin
  pool_check_psql
  pool_check_pause_kill

  if kill -0 "$POOL_CW_PID" 2>/dev/null; then
    stop_pid "$POOL_CW_PID"
    # (PgBouncer 1.18 exits 1 on SIGTERM: only corewire's status is checked.)
    [[ $POOL_SERVER == corewire ]] && expect "pool: corewire exit code on SIGTERM" "0" "$EXIT_RC"
  else
    out=0; wait "$POOL_CW_PID" 2>/dev/null || out=$?
    fail "pool: $POOL_SERVER died during the section (exit $out); log tail: $(tail -5 "$POOL_LOGS"/corewire-pool.log "$POOL_LOGS"/pgbouncer.log 2>/dev/null | tr '\n' ' ')"
  fi
  pg_stop "$POOL_UP_PID"
}
