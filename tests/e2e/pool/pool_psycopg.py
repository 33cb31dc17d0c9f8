#!/usr/bin/env python3
"""psycopg 3 through the pool (section pool of tests/e2e/run.sh).

Usage: pool_psycopg.py --port POOL_PORT --upstream-port UP_PORT --password PW
                       [--clients 20] [--transactions 50]

Through the pool: user pool_user, database app, no password (corewire trusts
loopback; it logs in upstream itself). Directly on the upstream (setup and
verification): pool_user with PW (SCRAM).

--clients threads, each with its own connection (more than the pool's servers),
prepare_threshold=0 (every statement is a named prepared statement, _pg3_<n>: the
same names on every connection, with different texts on different connections),
autocommit with explicit transactions. Each runs --transactions transactions:
UPDATE of its own counter row RETURNING the running sum (checked), INSERT of a log
row, a SELECT whose text is the client's own; every 10th transaction is rolled back
on purpose, some contain a division by zero (error, transaction rolled back, the
connection goes on). Between transactions, conn.execute(..., prepare=True) with a
text of the client's own, in an implicit transaction each time, and a pipeline of
prepared statements. Afterwards the sums on the upstream must be exact.

Prints one "PASS: ..." or "FAIL: ..." line per check; exit status 1 if any failed.
"""

import argparse
import sys
import threading
import time
import traceback

import psycopg

ARGS = None
FAILED = 0


def report(ok, text):
    global FAILED
    if not ok:
        FAILED += 1
    print("%s: %s" % ("PASS" if ok else "FAIL", text), flush=True)


def upstream():
    return psycopg.connect(host="127.0.0.1", port=ARGS.upstream_port, user="pool_user",
                           password=ARGS.password, dbname="app", connect_timeout=10, autocommit=True)


def pooled(**kw):
    return psycopg.connect(host="127.0.0.1", port=ARGS.port, user="pool_user", dbname="app",
                           connect_timeout=10, autocommit=True, **kw)


def amount(i, j):
    return i * 1000 + j + 1


def committed(j):
    """Transaction j commits: not every 10th (rolled back on purpose) nor the ones
    with a division by zero."""
    return j % 10 != 9 and j % 17 != 5


class Client:
    def __init__(self, i, barrier):
        self.i = i
        self.barrier = barrier
        self.error = None
        self.done = 0
        self.connected_at = None

    def run(self):
        try:
            self.work()
        except Exception as e:  # noqa: BLE001
            self.error = "client %d after %d transactions: %s: %s" % (
                self.i, self.done, type(e).__name__, str(e).strip().replace("\n", " | "))
            traceback.print_exc()

    def work(self):
        i = self.i
        with pooled(prepare_threshold=0) as conn:
            self.connected_at = time.monotonic()
            # All clients connected at once: more than the pool has servers.
            self.barrier.wait(timeout=60)
            running = 0
            cur = conn.cursor()
            for j in range(ARGS.transactions):
                a = amount(i, j)
                try:
                    with conn.transaction():
                        cur.execute("UPDATE pool_py_counters SET n = n + %s WHERE id = %s RETURNING n",
                                    (a, i), prepare=True)
                        got = cur.fetchone()[0]
                        if got != running + a:
                            raise AssertionError("tx %d: running sum %r, want %r" % (j, got, running + a))
                        cur.execute("INSERT INTO pool_py_log (client, seq, amount) VALUES (%s, %s, %s)",
                                    (i, j, a), prepare=True)
                        # The same statement name on every connection, a different text.
                        cur.execute("SELECT %%s::int * %d + %d AS c%d" % (i + 1, i, i), (j,), prepare=True)
                        got = cur.fetchone()[0]
                        if got != j * (i + 1) + i:
                            raise AssertionError("tx %d: client's own SELECT %r, want %r" % (j, got, j * (i + 1) + i))
                        if j % 17 == 5:
                            try:
                                cur.execute("SELECT 1 / %s", (0,), prepare=True)
                                raise AssertionError("tx %d: 1/0 did not fail" % j)
                            except psycopg.errors.DivisionByZero:
                                pass
                            raise psycopg.Rollback()  # the transaction is aborted anyway
                        if j % 10 == 9:
                            raise psycopg.Rollback()
                except psycopg.errors.InFailedSqlTransaction as e:
                    raise AssertionError("tx %d: %s" % (j, e))
                if committed(j):
                    running += a
                # An implicit transaction with a prepared statement of the client's own.
                got = conn.execute("SELECT %%s::int + %d AS implicit_%d" % (i * 7, i), (j,), prepare=True).fetchone()[0]
                if got != j + i * 7:
                    raise AssertionError("tx %d: implicit prepared SELECT %r, want %r" % (j, got, j + i * 7))
                # Its own counter, read back outside any transaction block.
                got = conn.execute("SELECT n FROM pool_py_counters WHERE id = %s", (i,), prepare=True).fetchone()[0]
                if got != running:
                    raise AssertionError("tx %d: counter read back %r, want %r" % (j, got, running))
                self.done += 1
            # A pipeline of prepared statements in one transaction, and one in autocommit
            # (several Syncs in flight, each ending its own implicit transaction).
            with conn.transaction():
                with conn.pipeline():
                    for k in range(5):
                        cur.execute("INSERT INTO pool_py_pipe (client, k) VALUES (%s, %s)", (i, k), prepare=True)
            with conn.pipeline():
                curs = []
                for k in range(5, 10):
                    c = conn.cursor()
                    c.execute("INSERT INTO pool_py_pipe (client, k) VALUES (%s, %s) RETURNING k", (i, k), prepare=True)
                    curs.append(c)
            got = [c.fetchone()[0] for c in curs]
            if got != list(range(5, 10)):
                raise AssertionError("autocommit pipeline returned %r" % (got,))
            got = conn.execute("SELECT count(*) FROM pool_py_pipe WHERE client = %s", (i,)).fetchone()[0]
            if got != 10:
                raise AssertionError("pipelined rows of this client: %r, want 10" % (got,))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--transactions", type=int, default=50)
    ARGS = ap.parse_args()
    n, t = ARGS.clients, ARGS.transactions
    print("psycopg %s, libpq %s" % (psycopg.__version__, psycopg.pq.version()), flush=True)

    with upstream() as up:
        up.execute("DROP TABLE IF EXISTS pool_py_counters, pool_py_log, pool_py_pipe")
        up.execute("CREATE TABLE pool_py_counters (id int PRIMARY KEY, n bigint NOT NULL)")
        up.execute("CREATE TABLE pool_py_log (client int, seq int, amount int, PRIMARY KEY (client, seq))")
        up.execute("CREATE TABLE pool_py_pipe (client int, k int, PRIMARY KEY (client, k))")
        up.execute("INSERT INTO pool_py_counters SELECT g, 0 FROM generate_series(0, %s) g", (n - 1,))

    barrier = threading.Barrier(n)
    clients = [Client(i, barrier) for i in range(n)]
    threads = [threading.Thread(target=c.run, daemon=True) for c in clients]
    start = time.monotonic()
    for th in threads:
        th.start()
    deadline = start + 120
    for th in threads:
        th.join(max(0.1, deadline - time.monotonic()))
    elapsed = time.monotonic() - start
    hung = [c.i for c, th in zip(clients, threads) if th.is_alive()]
    errors = [c.error for c in clients if c.error]
    report(not hung and not errors,
           "%d connections x %d transactions with prepare_threshold=0 / prepare=True (named statements, "
           "client-specific texts, rollbacks, division by zero, pipelines) in %.1f s%s%s"
           % (n, t, elapsed,
              "; still running after 120 s: clients %s" % hung if hung else "",
              "; %d clients failed, first: %s" % (len(errors), errors[0]) if errors else ""))

    want_rows = [(i, sum(amount(i, j) for j in range(t) if committed(j))) for i in range(n)]
    want_log = sum(1 for j in range(t) if committed(j)) * n
    with upstream() as up:
        rows = up.execute("SELECT id, n FROM pool_py_counters ORDER BY id").fetchall()
        total, = up.execute("SELECT sum(n) FROM pool_py_counters").fetchone()
        log_count, log_sum = up.execute("SELECT count(*), coalesce(sum(amount), 0) FROM pool_py_log").fetchone()
        pipe, = up.execute("SELECT count(*) FROM pool_py_pipe").fetchone()
    want_total = sum(s for _, s in want_rows)
    report(rows == want_rows and total == want_total,
           "counters on the upstream exact: sum %s (want %s)%s"
           % (total, want_total, "" if rows == want_rows else
              "; first wrong row %r" % (next((r for r, w in zip(rows + [None] * n, want_rows) if r != w), None),)))
    report(log_count == want_log and log_sum == want_total,
           "log rows on the upstream: %d (want %d, none of the rolled-back transactions), sum %s (want %s)"
           % (log_count, want_log, log_sum, want_total))
    report(pipe == 10 * n, "pipelined inserts on the upstream: %d (want %d)" % (pipe, 10 * n))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
