#!/usr/bin/env python3
"""asyncpg against the PostgreSQL port of the server under test.

Usage: asyncpg_smoke.py --port PORT [--host 127.0.0.1]

User postgres, database kv, no password; table kv (key text PRIMARY KEY, value text
NOT NULL) is TRUNCATEd first. asyncpg speaks only the extended protocol, with named
prepared statements (its statement cache), Describe for parameter and result types,
and binary format for parameters and results. Its pool resets every connection on
release with "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;"
(one simple Query message), after checking the server's capabilities.

Each check prints PASS or FAIL; a failed check does not stop the others. The last
line is "asyncpg: N of M checks passed"; exit status 1 if any failed.
"""

import argparse
import asyncio
import io
import sys
import time
import traceback

import asyncpg

ARGS = None
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


async def connect(**kw):
    return await asyncpg.connect(host=ARGS.host, port=ARGS.port, user="postgres", database="kv", timeout=5, **kw)


def eq(what, got, want):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


async def raises(what, exc_type, sqlstate, coro):
    try:
        await coro
    except exc_type as e:
        eq(what + ": sqlstate", e.sqlstate, sqlstate)
        return e
    except Exception as e:  # noqa: BLE001
        raise AssertionError("%s: raised %s (sqlstate %s): %s, want %s"
                             % (what, type(e).__name__, getattr(e, "sqlstate", None), e, exc_type.__name__))
    raise AssertionError("%s: no error, want %s" % (what, exc_type.__name__))


async def fresh():
    c = await connect()
    try:
        eq("TRUNCATE status", await c.execute("TRUNCATE kv"), "TRUNCATE TABLE")
    finally:
        await c.close()


# ------------------------------------------------------------------------- checks
@check
async def check_connect_and_simple_queries():
    c = await connect()
    try:
        eq("server_version parsed", c.get_server_version().major >= 10, True)
        eq("fetchval SELECT 1", await c.fetchval("SELECT 1"), 1)
        eq("version()", (await c.fetchval("SELECT version()")).startswith("PostgreSQL "), True)
        eq("server_encoding", c.get_settings().server_encoding, "UTF8")
        eq("client_encoding", c.get_settings().client_encoding, "UTF8")
        eq("backend pid", c.get_server_pid() > 0, True)
        # execute() without arguments: a simple Query, several statements at once.
        eq("multi-statement execute", await c.execute("SELECT 1; SELECT 2"), "SELECT 1")
    finally:
        await c.close()


@check
async def check_crud_with_parameters():
    await fresh()
    c = await connect()
    try:
        eq("insert status", await c.execute("INSERT INTO kv VALUES ($1, $2)", "a", "1"), "INSERT 0 1")
        eq("multi-row insert status",
           await c.execute("INSERT INTO kv (key, value) VALUES ($1, $2), ($3, $4)", "b", "2", "c", "3"),
           "INSERT 0 2")
        eq("fetchval", await c.fetchval("SELECT value FROM kv WHERE key = $1", "a"), "1")
        eq("fetchval missing", await c.fetchval("SELECT value FROM kv WHERE key = $1", "zz"), None)
        row = await c.fetchrow("SELECT * FROM kv WHERE key = $1", "b")
        eq("fetchrow by name", (row["key"], row["value"]), ("b", "2"))
        rows = await c.fetch("SELECT key, value FROM kv ORDER BY key")
        eq("fetch ordered", [tuple(r) for r in rows], [("a", "1"), ("b", "2"), ("c", "3")])
        eq("count(*) is int8", await c.fetchval("SELECT count(*) FROM kv"), 3)
        eq("IN", [r[0] for r in await c.fetch("SELECT key FROM kv WHERE key IN ($1, $2) ORDER BY key DESC", "a", "c")],
           ["c", "a"])
        eq("LIKE", await c.fetchval("SELECT count(*) FROM kv WHERE key LIKE $1", "b%"), 1)
        eq("LIMIT/OFFSET int8 params",
           [r[0] for r in await c.fetch("SELECT key FROM kv ORDER BY key LIMIT $1 OFFSET $2", 2, 1)], ["b", "c"])
        eq("update status", await c.execute("UPDATE kv SET value = $1 WHERE key = $2", "10", "a"), "UPDATE 1")
        eq("update missing", await c.execute("UPDATE kv SET value = $1 WHERE key = $2", "10", "zz"), "UPDATE 0")
        eq("upsert returning",
           tuple(await c.fetchrow("INSERT INTO kv VALUES ($1, $2) ON CONFLICT (key) DO UPDATE "
                                  "SET value = EXCLUDED.value RETURNING *", "b", "20")), ("b", "20"))
        eq("do nothing", await c.execute("INSERT INTO kv VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", "b", "x"),
           "INSERT 0 0")
        eq("delete status", await c.execute("DELETE FROM kv WHERE key = $1", "c"), "DELETE 1")
        eq("delete IN", await c.execute("DELETE FROM kv WHERE key IN ($1, $2)", "c", "b"), "DELETE 1")
        for v in ["", "it's", "héllo wörld ✓ 日本語 🎉", "tab\tnew\nline\\", "x" * 100000]:
            await c.execute("INSERT INTO kv VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                            "v", v)
            eq("round trip of %r" % v[:20], await c.fetchval("SELECT value FROM kv WHERE key = $1", "v"), v)
        eq("value::bytea", await c.fetchval("SELECT value::bytea FROM kv WHERE key = $1", "a"), b"10")
        await raises("NULL value", asyncpg.NotNullViolationError, "23502",
                     c.execute("INSERT INTO kv VALUES ($1, $2)", "n", None))
    finally:
        await c.close()


@check
async def check_prepared_statement_api():
    await fresh()
    c = await connect()
    try:
        await c.executemany("INSERT INTO kv VALUES ($1, $2)", [("p%d" % i, str(i)) for i in range(20)])
        st = await c.prepare("SELECT value FROM kv WHERE key = $1")
        eq("parameter types", [t.name for t in st.get_parameters()], ["text"])
        eq("result columns", [(a.name, a.type.name) for a in st.get_attributes()], [("value", "text")])
        for i in range(20):
            eq("prepared fetchval %d" % i, await st.fetchval("p%d" % i), str(i))
        st2 = await c.prepare("SELECT key, value FROM kv WHERE key LIKE $1 ORDER BY key LIMIT $2")
        eq("LIMIT parameter type", [t.name for t in st2.get_parameters()], ["text", "int8"])
        eq("prepared fetch", [tuple(r) for r in await st2.fetch("p1%", 3)], [("p1", "1"), ("p10", "10"),
                                                                            ("p11", "11")])
        cnt = await c.prepare("SELECT count(*) FROM kv")
        eq("count attribute type", cnt.get_attributes()[0].type.name, "int8")
        eq("prepared count", await cnt.fetchval(), 20)
        # The statement cache: the same query text again reuses the named statement.
        for _ in range(5):
            eq("cached statement", await c.fetchval("SELECT value FROM kv WHERE key = $1", "p3"), "3")
    finally:
        await c.close()


@check
async def check_executemany():
    await fresh()
    c = await connect()
    try:
        await c.executemany("INSERT INTO kv VALUES ($1, $2)", [("m%03d" % i, "v%d" % i) for i in range(300)])
        eq("count after executemany", await c.fetchval("SELECT count(*) FROM kv"), 300)
        await c.executemany("UPDATE kv SET value = $2 WHERE key = $1", [("m000", "x"), ("m001", "y"), ("no", "z")])
        eq("after executemany update", [tuple(r) for r in await c.fetch(
            "SELECT key, value FROM kv WHERE key IN ('m000', 'm001') ORDER BY key")], [("m000", "x"), ("m001", "y")])
        # executemany is atomic: a duplicate in the batch leaves none of it.
        await raises("executemany with a duplicate", asyncpg.UniqueViolationError, "23505",
                     c.executemany("INSERT INTO kv VALUES ($1, $2)", [("n1", "1"), ("m005", "dup"), ("n2", "2")]))
        eq("nothing of the failed batch kept",
           await c.fetchval("SELECT count(*) FROM kv WHERE key IN ('n1', 'n2')"), 0)
        eq("connection usable", await c.fetchval("SELECT 1"), 1)
    finally:
        await c.close()


@check
async def check_transactions():
    await fresh()
    c = await connect()
    other = await connect()
    try:
        async with c.transaction():
            await c.execute("INSERT INTO kv VALUES ('t1', '1')")
            eq("in transaction", c.is_in_transaction(), True)
            eq("other connection does not see it", await other.fetchval("SELECT count(*) FROM kv"), 0)
        eq("committed", await other.fetchval("SELECT value FROM kv WHERE key = 't1'"), "1")
        try:
            async with c.transaction():
                await c.execute("INSERT INTO kv VALUES ('t2', '2')")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        eq("rolled back", await c.fetchval("SELECT count(*) FROM kv WHERE key = 't2'"), 0)
        async with c.transaction():
            await c.execute("INSERT INTO kv VALUES ('t3', '3')")
            try:
                async with c.transaction():  # a savepoint
                    await c.execute("INSERT INTO kv VALUES ('t4', '4')")
                    await c.execute("INSERT INTO kv VALUES ('t1', 'dup')")
            except asyncpg.UniqueViolationError:
                pass
            await c.execute("INSERT INTO kv VALUES ('t5', '5')")
        eq("savepoint rolled back t4 only",
           [r[0] for r in await other.fetch("SELECT key FROM kv ORDER BY key")], ["t1", "t3", "t5"])
        tr = c.transaction(isolation="repeatable_read")
        await tr.start()
        await c.execute("UPDATE kv SET value = 'rr' WHERE key = 't1'")
        await tr.rollback()
        eq("explicit rollback", await c.fetchval("SELECT value FROM kv WHERE key = 't1'"), "1")
        async with c.transaction(readonly=True):
            eq("read-only transaction reads", await c.fetchval("SELECT count(*) FROM kv"), 3)
    finally:
        await c.close()
        await other.close()


@check
async def check_error_then_recovery():
    await fresh()
    c = await connect()
    try:
        await c.execute("INSERT INTO kv VALUES ('e1', '1')")
        e = await raises("duplicate key", asyncpg.UniqueViolationError, "23505",
                         c.execute("INSERT INTO kv VALUES ($1, $2)", "e1", "dup"))
        eq("constraint name", e.constraint_name, "kv_pkey")
        eq("after duplicate", await c.fetchval("SELECT value FROM kv WHERE key = $1", "e1"), "1")
        await raises("syntax error", asyncpg.PostgresSyntaxError, "42601", c.fetchval("SELEC 1"))
        await raises("unknown table", asyncpg.UndefinedTableError, "42P01", c.fetch("SELECT * FROM nope"))
        eq("after errors", await c.fetchval("SELECT count(*) FROM kv"), 1)
        tr = c.transaction()
        await tr.start()
        await raises("error in a transaction", asyncpg.UniqueViolationError, "23505",
                     c.execute("INSERT INTO kv VALUES ('e1', 'x')"))
        await raises("aborted transaction", asyncpg.InFailedSQLTransactionError, "25P02", c.fetchval("SELECT 1"))
        await tr.rollback()
        eq("after rollback", await c.fetchval("SELECT 1"), 1)
    finally:
        await c.close()


@check
async def check_cancel_by_timeout():
    c = await connect()
    try:
        start = time.monotonic()
        try:
            await c.fetchval("SELECT pg_sleep(5)", timeout=0.5)
            raise AssertionError("pg_sleep(5) with timeout=0.5: no timeout")
        except asyncio.TimeoutError:
            pass
        # asyncpg sent a CancelRequest and waits for the cancelled query's end before
        # the connection runs anything else: fast only if the server cancelled it.
        eq("same connection after the cancel", await c.fetchval("SELECT 1"), 1)
        took = time.monotonic() - start
        if took > 3:
            raise AssertionError("timeout + next query took %.1f s (pg_sleep not cancelled?)" % took)
        # Cancelling the task: same path.
        task = asyncio.ensure_future(c.fetchval("SELECT pg_sleep(5)"))
        await asyncio.sleep(0.3)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        start = time.monotonic()
        eq("after task cancel", await c.fetchval("SELECT 2"), 2)
        if time.monotonic() - start > 3:
            raise AssertionError("query after a cancelled task took %.1f s" % (time.monotonic() - start))
    finally:
        await c.close()


@check
async def check_copy_csv():
    await fresh()
    c = await connect()
    try:
        res = await c.copy_to_table("kv", source=io.BytesIO(b'a,1\nb,"with, comma"\nc,"multi\nline"\n'),
                                    format="csv")
        eq("copy_to_table status", res, "COPY 3")
        out = io.BytesIO()
        res = await c.copy_from_query("SELECT * FROM kv ORDER BY key", output=out, format="csv")
        eq("copy_from_query status", res, "COPY 3")
        eq("copy_from_query data", out.getvalue(), b'a,1\nb,"with, comma"\nc,"multi\nline"\n')
    finally:
        await c.close()


@check
async def check_pool():
    await fresh()
    pool = await asyncpg.create_pool(host=ARGS.host, port=ARGS.port, user="postgres", database="kv",
                                     min_size=2, max_size=4, timeout=5)
    try:
        async def work(i):
            async with pool.acquire() as con:
                await con.execute("INSERT INTO kv VALUES ($1, $2)", "pool%d" % i, str(i))
                await con.execute("SET application_name = 'dirty'")  # RESET ALL on release
                return await con.fetchval("SELECT value FROM kv WHERE key = $1", "pool%d" % i)

        got = await asyncio.wait_for(asyncio.gather(*(work(i) for i in range(40))), 30)
        eq("40 pooled tasks", got, [str(i) for i in range(40)])
        eq("pool.fetchval", await pool.fetchval("SELECT count(*) FROM kv"), 40)
        async with pool.acquire() as con:
            eq("RESET ALL on release restored application_name", await con.fetchval("SHOW application_name"), "")
            async with con.transaction():
                await con.execute("DELETE FROM kv WHERE key = $1", "pool0")
        eq("after pooled transaction", await pool.fetchval("SELECT count(*) FROM kv"), 39)
        # A connection released in the middle of a failed query still comes back clean.
        try:
            async with pool.acquire() as con:
                await con.execute("INSERT INTO kv VALUES ('pool1', 'dup')")
        except asyncpg.UniqueViolationError:
            pass
        eq("pool after error", await pool.fetchval("SELECT 1"), 1)
    finally:
        await asyncio.wait_for(pool.close(), 10)


async def run(fn):
    name = fn.__name__.removeprefix("check_").replace("_", " ")
    try:
        await asyncio.wait_for(fn(), 60)
        print("PASS: asyncpg %s" % name, flush=True)
        return True
    except Exception as e:  # noqa: BLE001
        tb = [f for f in traceback.extract_tb(e.__traceback__) if f.name.startswith("check_")]
        where = "line %d" % tb[-1].lineno if tb else "?"
        print("FAIL: asyncpg %s: %s: %s (%s)" % (name, type(e).__name__, str(e).strip().replace("\n", " | "), where),
              flush=True)
        return False


async def amain():
    ok = [await run(fn) for fn in CHECKS]
    print("asyncpg: %d of %d checks passed" % (sum(ok), len(ok)))
    return 0 if all(ok) else 1


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ARGS = ap.parse_args()
    print("asyncpg %s, server %s:%d" % (asyncpg.__version__, ARGS.host, ARGS.port))
    return asyncio.run(amain())


if __name__ == "__main__":
    sys.exit(main())
