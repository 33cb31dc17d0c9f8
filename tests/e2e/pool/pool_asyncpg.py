#!/usr/bin/env python3
"""asyncpg through the pool (section pool of tests/e2e/run.sh).

Usage: pool_asyncpg.py --port POOL_PORT --upstream-port UP_PORT --password PW
                       [--clients 20] [--transactions 50]

Through the pool: user pool_user, database app, no password. Directly on the
upstream (setup and verification): pool_user with PW (SCRAM).

asyncpg speaks only the extended protocol with named statements
(__asyncpg_stmt_<n>__, the same names on every connection), which it prepares with
Parse + Describe + Flush/Sync and then executes by name; its statement cache is on
(the default, statement_cache_size=100). --clients concurrent connections (more than
the pool's servers), each: conn.prepare() statements made once, outside any
transaction (so the server they were parsed on is gone when they run), then
--transactions transactions with fetchval/fetchrow of those statements and of cached
ones; every 10th rolled back on purpose; prepared statements also run outside
transactions. One more connection with statement_cache_size=4 and 30 distinct
texts: its cache evicts statements (Close messages) while it runs them again.
Afterwards the sums on the upstream must be exact.

Prints one "PASS: ..." or "FAIL: ..." line per check; exit status 1 if any failed.
"""

import argparse
import asyncio
import sys
import time
import traceback

import asyncpg

ARGS = None
FAILED = 0


def report(ok, text):
    global FAILED
    if not ok:
        FAILED += 1
    print("%s: %s" % ("PASS" if ok else "FAIL", text), flush=True)


async def upstream():
    return await asyncpg.connect(host="127.0.0.1", port=ARGS.upstream_port, user="pool_user",
                                 password=ARGS.password, database="app", timeout=10)


async def pooled(**kw):
    return await asyncpg.connect(host="127.0.0.1", port=ARGS.port, user="pool_user", database="app",
                                 timeout=10, **kw)


def amount(i, j):
    return i * 1000 + j + 1


def committed(j):
    return j % 10 != 9


class Rollback(Exception):
    pass


async def client(i, started, go):
    done = 0
    conn = await pooled()
    try:
        # Every client connected before any works: more clients than servers.
        started.append(i)
        await go.wait()
        # Prepared once, outside any transaction. (asyncpg's prepare() is Parse,
        # Describe, Flush without Sync: the server stays with this client until its
        # next Sync, so nobody waits for other clients between prepare() and use.)
        upd = await conn.prepare("UPDATE pool_apg_counters SET n = n + $1 WHERE id = $2 RETURNING n")
        own = await conn.prepare("SELECT $1::int * $2::int + %d AS own_%d" % (i, i))
        running = 0
        for j in range(ARGS.transactions):
            a = amount(i, j)
            try:
                async with conn.transaction():
                    got = await upd.fetchval(a, i)
                    if got != running + a:
                        raise AssertionError("tx %d: running sum %r, want %r" % (j, got, running + a))
                    # conn.execute with arguments: a cached named statement.
                    await conn.execute("INSERT INTO pool_apg_log (client, seq, amount) VALUES ($1, $2, $3)", i, j, a)
                    got = await own.fetchval(j, 3)
                    if got != j * 3 + i:
                        raise AssertionError("tx %d: own statement %r, want %r" % (j, got, j * 3 + i))
                    row = await conn.fetchrow("SELECT $1::text AS t, $2::bigint AS b, %d AS c" % i, "c%d" % i, j)
                    if tuple(row) != ("c%d" % i, j, i):
                        raise AssertionError("tx %d: fetchrow %r" % (j, tuple(row)))
                    if not committed(j):
                        raise Rollback()
            except Rollback:
                pass
            if committed(j):
                running += a
            # Outside any transaction: each call may land on another server.
            got = await own.fetchval(j, 5)
            if got != j * 5 + i:
                raise AssertionError("tx %d: own statement outside a transaction %r, want %r" % (j, got, j * 5 + i))
            got = await conn.fetchval("SELECT n FROM pool_apg_counters WHERE id = $1", i)
            if got != running:
                raise AssertionError("tx %d: counter read back %r, want %r" % (j, got, running))
            done += 1
        return None
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        return "client %d after %d transactions: %s: %s" % (i, done, type(e).__name__, str(e).strip().replace("\n", " | "))
    finally:
        try:
            await asyncio.wait_for(conn.close(), 10)
        except Exception:  # noqa: BLE001
            conn.terminate()


async def small_cache():
    """statement_cache_size=4, 30 distinct texts, three rounds: evictions send Close."""
    conn = await pooled(statement_cache_size=4)
    try:
        for rnd in range(3):
            for k in range(30):
                got = await conn.fetchval("SELECT $1::int + %d AS k%d" % (k, k), rnd)
                if got != rnd + k:
                    raise AssertionError("round %d text %d: %r, want %r" % (rnd, k, got, rnd + k))
        return None
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        return "%s: %s" % (type(e).__name__, e)
    finally:
        conn.terminate()


async def amain():
    n, t = ARGS.clients, ARGS.transactions
    print("asyncpg %s" % asyncpg.__version__, flush=True)
    up = await upstream()
    try:
        await up.execute("DROP TABLE IF EXISTS pool_apg_counters, pool_apg_log")
        await up.execute("CREATE TABLE pool_apg_counters (id int PRIMARY KEY, n bigint NOT NULL)")
        await up.execute("CREATE TABLE pool_apg_log (client int, seq int, amount int, PRIMARY KEY (client, seq))")
        await up.execute("INSERT INTO pool_apg_counters SELECT g, 0 FROM generate_series(0, $1::int) g", n - 1)
    finally:
        await up.close()

    started, go = [], asyncio.Event()
    start = time.monotonic()
    tasks = [asyncio.ensure_future(client(i, started, go)) for i in range(n)]
    # Every client connected before any runs.
    for _ in range(600):
        if len(started) == n or all(task.done() for task in tasks):
            break
        await asyncio.sleep(0.1)
    go.set()
    done, pending = await asyncio.wait(tasks, timeout=120)
    for task in pending:
        task.cancel()
    errors = [task.result() for task in done if task.result()]
    report(not pending and not errors and len(started) == n,
           "%d concurrent connections (%d connected together), conn.prepare() statements and the statement "
           "cache, %d transactions each (fetchval/fetchrow/execute, rollbacks) in %.1f s%s%s"
           % (n, len(started), t, time.monotonic() - start,
              "; %d clients still running after 120 s" % len(pending) if pending else "",
              "; %d clients failed, first: %s" % (len(errors), errors[0]) if errors else ""))

    try:
        err = await asyncio.wait_for(small_cache(), 60)
    except asyncio.TimeoutError:
        err = "timed out after 60 s"
    report(err is None, "statement_cache_size=4 with 30 distinct texts x 3 rounds (evictions close statements)%s"
           % ("" if err is None else ": " + err))

    want_rows = [(i, sum(amount(i, j) for j in range(t) if committed(j))) for i in range(n)]
    want_total = sum(s for _, s in want_rows)
    want_log = sum(1 for j in range(t) if committed(j)) * n
    up = await upstream()
    try:
        rows = [tuple(r) for r in await up.fetch("SELECT id, n FROM pool_apg_counters ORDER BY id")]
        total = await up.fetchval("SELECT sum(n) FROM pool_apg_counters")
        log_count, log_sum = await up.fetchrow("SELECT count(*), coalesce(sum(amount), 0) FROM pool_apg_log")
    finally:
        await up.close()
    report(rows == want_rows and total == want_total,
           "counters on the upstream exact: sum %s (want %s)%s"
           % (total, want_total, "" if rows == want_rows else
              "; first wrong row %r" % (next((r for r, w in zip(rows + [None] * n, want_rows) if r != w), None),)))
    report(log_count == want_log and log_sum == want_total,
           "log rows on the upstream: %d (want %d), sum %s (want %s)" % (log_count, want_log, log_sum, want_total))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--transactions", type=int, default=50)
    ARGS = ap.parse_args()
    try:
        asyncio.run(amain())
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        report(False, "asyncpg checks stopped: %s: %s" % (type(e).__name__, e))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
