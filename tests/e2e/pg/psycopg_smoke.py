#!/usr/bin/env python3
"""psycopg 3 against the PostgreSQL port of the server under test.

Usage: psycopg_smoke.py --port PORT [--host 127.0.0.1]

User postgres, database kv, no password; table kv (key text PRIMARY KEY, value text
NOT NULL) is TRUNCATEd first. psycopg 3 binds parameters on the server (extended
protocol: Parse/Bind/Execute), so every %s below is a $n on the wire.

Each check prints PASS or FAIL with what went wrong; a failed check does not stop the
others (each starts from a fresh connection where its predecessor may have left
state). The last line is "psycopg: N of M checks passed"; exit status 1 if any
failed.
"""

import argparse
import logging
import sys
import threading
import time
import traceback

import psycopg
from psycopg import errors, sql

ARGS = None
CHECKS = []


def connect(**kw):
    kw.setdefault("autocommit", True)
    return psycopg.connect(host=ARGS.host, port=ARGS.port, user="postgres", dbname="kv",
                           connect_timeout=5, **kw)


def eq(what, got, want):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def raises(what, exc_type, sqlstate, fn):
    """fn() must raise exc_type with that SQLSTATE; returns the exception."""
    try:
        fn()
    except exc_type as e:
        eq(what + ": sqlstate", e.sqlstate, sqlstate)
        return e
    except Exception as e:  # noqa: BLE001 - report what it was
        raise AssertionError("%s: raised %s (sqlstate %s): %s, want %s"
                             % (what, type(e).__name__, getattr(e, "sqlstate", None), e, exc_type.__name__))
    raise AssertionError("%s: no error, want %s" % (what, exc_type.__name__))


def check(fn):
    CHECKS.append(fn)
    return fn


def run(fn):
    """Runs one check; prints PASS or FAIL (with the line of this file that failed)."""
    name = fn.__name__.removeprefix("check_").replace("_", " ")
    try:
        fn()
        print("PASS: psycopg %s" % name, flush=True)
        return True
    except Exception as e:  # noqa: BLE001
        tb = [f for f in traceback.extract_tb(e.__traceback__) if f.name.startswith("check_")]
        where = "line %d" % tb[-1].lineno if tb else "?"
        print("FAIL: psycopg %s: %s: %s (%s)" % (name, type(e).__name__, str(e).strip().replace("\n", " | "),
                                                 where), flush=True)
        return False


def fresh():
    with connect() as c:
        c.execute("TRUNCATE kv")


# ------------------------------------------------------------------------- checks
@check
def check_connect_and_server_parameters():
    with connect() as c:
        eq("server_version is set", bool(c.info.parameter_status("server_version")), True)
        eq("server_encoding", c.info.parameter_status("server_encoding"), "UTF8")
        eq("client_encoding", c.info.parameter_status("client_encoding"), "UTF8")
        eq("integer_datetimes", c.info.parameter_status("integer_datetimes"), "on")
        eq("standard_conforming_strings", c.info.parameter_status("standard_conforming_strings"), "on")
        eq("server_version_num >= 100000", c.info.server_version >= 100000, True)
        eq("backend pid is positive", c.info.backend_pid > 0, True)
        eq("SELECT 1", c.execute("SELECT 1").fetchone(), (1,))
        eq("status idle", c.info.transaction_status, psycopg.pq.TransactionStatus.IDLE)


@check
def check_crud_with_parameters():
    fresh()
    with connect() as c:
        cur = c.cursor()
        cur.execute("INSERT INTO kv (key, value) VALUES (%s, %s)", ("a", "1"))
        eq("insert rowcount", cur.rowcount, 1)
        eq("insert statusmessage", cur.statusmessage, "INSERT 0 1")
        cur.execute("INSERT INTO kv VALUES (%s, %s), (%s, %s)", ("b", "2", "c", "3"))
        eq("multi-row insert rowcount", cur.rowcount, 2)
        eq("select by key", cur.execute("SELECT value FROM kv WHERE key = %s", ("a",)).fetchone(), ("1",))
        eq("select missing", cur.execute("SELECT value FROM kv WHERE key = %s", ("zz",)).fetchone(), None)
        eq("select * ordered", cur.execute("SELECT * FROM kv ORDER BY key").fetchall(),
           [("a", "1"), ("b", "2"), ("c", "3")])
        eq("column names", [d.name for d in cur.description], ["key", "value"])
        eq("count(*) is int8", cur.execute("SELECT count(*) FROM kv").fetchone(), (3,))
        eq("IN with parameters",
           cur.execute("SELECT key FROM kv WHERE key IN (%s, %s, %s) ORDER BY key", ("c", "a", "q")).fetchall(),
           [("a",), ("c",)])
        eq("LIKE with a parameter",
           cur.execute("SELECT count(*) FROM kv WHERE key LIKE %s", ("b%",)).fetchone(), (1,))
        eq("LIMIT/OFFSET parameters",
           cur.execute("SELECT key FROM kv ORDER BY key LIMIT %s OFFSET %s", (1, 1)).fetchall(), [("b",)])
        cur.execute("UPDATE kv SET value = %s WHERE key = %s", ("10", "a"))
        eq("update rowcount", cur.rowcount, 1)
        cur.execute("UPDATE kv SET value = %s WHERE key = %s", ("10", "missing"))
        eq("update rowcount of a missing key", cur.rowcount, 0)
        eq("upsert returning",
           cur.execute("INSERT INTO kv VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value "
                       "RETURNING key, value", ("b", "20")).fetchall(), [("b", "20")])
        cur.execute("INSERT INTO kv VALUES (%s, %s) ON CONFLICT (key) DO NOTHING", ("b", "x"))
        eq("upsert do nothing rowcount", cur.rowcount, 0)
        cur.execute("DELETE FROM kv WHERE key = %s", ("c",))
        eq("delete rowcount", cur.rowcount, 1)
        eq("after writes", cur.execute("SELECT * FROM kv ORDER BY key").fetchall(), [("a", "10"), ("b", "20")])
        for v in ["", "it's \"quoted\"", "héllo wörld ✓ 日本語 🎉", "tab\tnew\nline\\back", "x" * 100000]:
            cur.execute("INSERT INTO kv VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                        ("v", v))
            eq("round trip of %r" % v[:20], cur.execute("SELECT value FROM kv WHERE key = %s", ("v",)).fetchone(),
               (v,))
        raises("NULL value", errors.NotNullViolation, "23502",
               lambda: cur.execute("INSERT INTO kv VALUES (%s, %s)", ("n", None)))


@check
def check_prepared_statements():
    fresh()
    with connect() as c:
        for i in range(10):
            c.execute("INSERT INTO kv VALUES (%s, %s)", ("p%d" % i, str(i)), prepare=True)
        for i in range(10):
            eq("prepared select %d" % i,
               c.execute("SELECT value FROM kv WHERE key = %s", ("p%d" % i,), prepare=True).fetchone(), (str(i),))
        # prepare_threshold 0: every statement is prepared on first use (named
        # statements _pg3_N, Parse once, then Bind/Execute).
        c.prepare_threshold = 0
        for _ in range(3):
            eq("threshold-0 count", c.execute("SELECT count(*) FROM kv WHERE key LIKE %s", ("p%",)).fetchone(),
               (10,))
            c.execute("UPDATE kv SET value = %s WHERE key = %s", ("u", "p0"))
        eq("after prepared updates", c.execute("SELECT value FROM kv WHERE key = 'p0'").fetchone(), ("u",))


@check
def check_binary_parameters_and_results():
    fresh()
    with connect() as c:
        cur = c.cursor(binary=True)
        # %b: parameters in binary format (text OID 25: the UTF-8 bytes).
        cur.execute("INSERT INTO kv VALUES (%b, %b)", ("bin", "héllo"))
        eq("binary insert rowcount", cur.rowcount, 1)
        eq("binary param, binary result",
           cur.execute("SELECT value FROM kv WHERE key = %b", ("bin",)).fetchone(), ("héllo",))
        eq("binary count(*)", cur.execute("SELECT count(*) FROM kv").fetchone(), (1,))
        eq("value::bytea in binary", cur.execute("SELECT value::bytea FROM kv WHERE key = %b", ("bin",)).fetchone(),
           ("héllo".encode(),))
        tcur = c.cursor()
        eq("value::bytea in text", tcur.execute("SELECT value::bytea FROM kv WHERE key = %s", ("bin",)).fetchone(),
           ("héllo".encode(),))
        eq("text param, binary results (cursor binary) mixed with %s",
           cur.execute("SELECT key, value FROM kv WHERE key = %s", ("bin",)).fetchone(), ("bin", "héllo"))


@check
def check_executemany_and_pipeline():
    fresh()
    with connect() as c:
        cur = c.cursor()
        rows = [("m%03d" % i, "v%d" % i) for i in range(200)]
        # libpq >= 14: executemany runs in pipeline mode (many Bind/Execute, one Sync).
        cur.executemany("INSERT INTO kv VALUES (%s, %s)", rows)
        eq("executemany rowcount", cur.rowcount, 200)
        eq("count after executemany", c.execute("SELECT count(*) FROM kv").fetchone(), (200,))
        cur.executemany("UPDATE kv SET value = %s WHERE key = %s", [("x", "m000"), ("y", "m001"), ("z", "nope")])
        eq("executemany update rowcount", cur.rowcount, 2)
        cur.executemany("SELECT value FROM kv WHERE key = %s", [("m000",), ("m001",)], returning=True)
        got = []
        while True:
            got.append(cur.fetchone())
            if not cur.nextset():
                break
        eq("executemany returning", got, [("x",), ("y",)])
        with c.pipeline():
            c.execute("INSERT INTO kv VALUES (%s, %s)", ("pipe1", "1"))
            c.execute("UPDATE kv SET value = %s WHERE key = %s", ("2", "pipe1"))
            cur2 = c.execute("SELECT value FROM kv WHERE key = %s", ("pipe1",))
        eq("pipeline result", cur2.fetchone(), ("2",))
        # An error inside a pipeline: the rest of it is skipped, the connection lives.
        try:
            with c.pipeline():
                c.execute("INSERT INTO kv VALUES (%s, %s)", ("pipe2", "1"))
                c.execute("INSERT INTO kv VALUES (%s, %s)", ("pipe1", "dup"))
                c.execute("INSERT INTO kv VALUES (%s, %s)", ("pipe3", "1"))
            raise AssertionError("pipeline with a duplicate key: no error")
        except errors.UniqueViolation:
            pass
        # A pipeline up to its Sync is one implicit transaction: the statement before
        # the error is rolled back too.
        eq("pipeline after error: statement before the error rolled back",
           c.execute("SELECT count(*) FROM kv WHERE key = 'pipe2'").fetchone(), (0,))
        eq("pipeline after error: statement after the error skipped",
           c.execute("SELECT count(*) FROM kv WHERE key = 'pipe3'").fetchone(), (0,))


@check
def check_transactions_commit_rollback():
    fresh()
    with connect(autocommit=False) as c, connect() as other:
        c.execute("INSERT INTO kv VALUES (%s, %s)", ("t1", "1"))
        eq("status in transaction", c.info.transaction_status, psycopg.pq.TransactionStatus.INTRANS)
        eq("other connection does not see the uncommitted row",
           other.execute("SELECT count(*) FROM kv WHERE key = 't1'").fetchone(), (0,))
        c.rollback()
        eq("rolled back", c.execute("SELECT count(*) FROM kv WHERE key = 't1'").fetchone(), (0,))
        c.execute("INSERT INTO kv VALUES (%s, %s)", ("t2", "2"))
        c.commit()
        eq("committed, seen by another connection",
           other.execute("SELECT value FROM kv WHERE key = 't2'").fetchone(), ("2",))
        # Context-managed transactions: nested blocks are savepoints.
        c.commit()
        with c.transaction():
            c.execute("INSERT INTO kv VALUES (%s, %s)", ("t3", "3"))
            try:
                with c.transaction():
                    c.execute("INSERT INTO kv VALUES (%s, %s)", ("t4", "4"))
                    raise RuntimeError("roll back the savepoint")
            except RuntimeError:
                pass
            with c.transaction():
                c.execute("INSERT INTO kv VALUES (%s, %s)", ("t5", "5"))
        c.commit()
        eq("savepoints: t3 and t5 kept, t4 rolled back",
           other.execute("SELECT key FROM kv WHERE key IN ('t3', 't4', 't5') ORDER BY key").fetchall(),
           [("t3",), ("t5",)])
    with connect() as c:
        with c.transaction():
            c.execute("INSERT INTO kv VALUES ('t6', '6')")
        try:
            with c.transaction():
                c.execute("INSERT INTO kv VALUES ('t7', '7')")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        eq("autocommit connection transaction blocks",
           c.execute("SELECT key FROM kv WHERE key IN ('t6', 't7') ORDER BY key").fetchall(), [("t6",)])


@check
def check_error_then_recovery():
    fresh()
    with connect(autocommit=False) as c:
        c.execute("INSERT INTO kv VALUES ('e1', '1')")
        c.commit()
        c.execute("INSERT INTO kv VALUES ('e2', '2')")
        e = raises("duplicate key", errors.UniqueViolation, "23505",
                   lambda: c.execute("INSERT INTO kv VALUES (%s, %s)", ("e1", "dup")))
        eq("constraint name", e.diag.constraint_name, "kv_pkey")
        eq("status after error", c.info.transaction_status, psycopg.pq.TransactionStatus.INERROR)
        raises("statement in an aborted transaction", errors.InFailedSqlTransaction, "25P02",
               lambda: c.execute("SELECT 1"))
        c.rollback()
        eq("after rollback", c.execute("SELECT key FROM kv ORDER BY key").fetchall(), [("e1",)])
        c.commit()
    with connect() as c:
        raises("syntax error", errors.SyntaxError, "42601", lambda: c.execute("SELEC 1"))
        eq("after syntax error", c.execute("SELECT 1").fetchone(), (1,))
        raises("unknown table", errors.UndefinedTable, "42P01", lambda: c.execute("SELECT * FROM nope"))
        eq("after unknown table", c.execute("SELECT value FROM kv WHERE key = %s", ("e1",)).fetchone(), ("1",))
        raises("error with parameters", errors.UniqueViolation, "23505",
               lambda: c.execute("INSERT INTO kv VALUES (%s, %s)", ("e1", "x"), prepare=True))
        eq("prepared after error", c.execute("SELECT count(*) FROM kv", prepare=True).fetchone(), (1,))


@check
def check_copy():
    fresh()
    with connect() as c:
        cur = c.cursor()
        with cur.copy("COPY kv (key, value) FROM STDIN") as cp:
            for i in range(500):
                cp.write_row(("c%03d" % i, "v\t%d" % i))
        eq("COPY FROM rowcount", cur.rowcount, 500)
        with cur.copy("COPY kv FROM STDIN WITH (FORMAT csv)") as cp:
            cp.write(b'x,"with, comma"\ny,"multi\nline"\n')
        eq("csv copy", c.execute("SELECT value FROM kv WHERE key IN ('x', 'y') ORDER BY key").fetchall(),
           [("with, comma",), ("multi\nline",)])
        with cur.copy("COPY (SELECT key, value FROM kv WHERE key LIKE 'c%' ORDER BY key) TO STDOUT") as cp:
            rows = list(cp.rows())
        eq("COPY TO row count", len(rows), 500)
        eq("COPY TO first rows", rows[:2], [("c000", "v\t0"), ("c001", "v\t1")])
        with cur.copy("COPY (SELECT * FROM kv WHERE key IN ('x', 'y') ORDER BY key) TO STDOUT WITH (FORMAT csv)") as cp:
            data = b"".join(bytes(b) for b in cp)
        eq("COPY TO csv", data, b'x,"with, comma"\ny,"multi\nline"\n')


@check
def check_cancel_pg_sleep():
    with connect() as c:
        timer = threading.Timer(0.5, c.cancel_safe if hasattr(c, "cancel_safe") else c.cancel)
        start = time.monotonic()
        timer.start()
        try:
            raises("cancelled pg_sleep(5)", errors.QueryCanceled, "57014", lambda: c.execute("SELECT pg_sleep(5)"))
        finally:
            timer.cancel()
        took = time.monotonic() - start
        if took > 3:
            raise AssertionError("cancel took %.1f s (pg_sleep(5) ran to its end?)" % took)
        eq("same connection after cancel", c.execute("SELECT 1").fetchone(), (1,))
    with connect(autocommit=False) as c:
        c.execute("INSERT INTO kv VALUES ('cx', '1') ON CONFLICT DO NOTHING")
        timer = threading.Timer(0.3, c.cancel_safe if hasattr(c, "cancel_safe") else c.cancel)
        timer.start()
        try:
            raises("cancel inside a transaction", errors.QueryCanceled, "57014",
                   lambda: c.execute("SELECT pg_sleep(5)"))
        finally:
            timer.cancel()
        eq("transaction aborted by the cancel", c.info.transaction_status, psycopg.pq.TransactionStatus.INERROR)
        c.rollback()
        eq("after rollback", c.execute("SELECT 1").fetchone(), (1,))
    with connect() as c:
        start = time.monotonic()
        # pg_sleep returns void: its text form is the empty string.
        eq("uncancelled pg_sleep(0.3)", c.execute("SELECT pg_sleep(0.3)").fetchone(), ("",))
        took = time.monotonic() - start
        if not 0.25 <= took < 3:
            raise AssertionError("pg_sleep(0.3) took %.2f s" % took)


@check
def check_sql_composition_and_settings():
    with connect() as c:
        q = sql.SQL("SELECT {} FROM {} WHERE {} = %s").format(sql.Identifier("value"), sql.Identifier("kv"),
                                                              sql.Identifier("key"))
        c.execute("INSERT INTO kv VALUES ('q', 'quoted identifiers') ON CONFLICT (key) DO NOTHING")
        eq("quoted identifiers", c.execute(q, ("q",)).fetchone(), ("quoted identifiers",))
        c.execute("SET application_name = 'psycopg-smoke'")
        eq("SHOW application_name", c.execute("SHOW application_name").fetchone(), ("psycopg-smoke",))
        eq("current_setting", c.execute("SELECT current_setting('application_name')").fetchone(),
           ("psycopg-smoke",))
        eq("version() names PostgreSQL", c.execute("SELECT version()").fetchone()[0].startswith("PostgreSQL "), True)


@check
def check_two_connections_see_each_others_commits():
    fresh()
    with connect() as a, connect() as b:
        for i in range(50):
            a.execute("INSERT INTO kv VALUES (%s, %s)", ("w%d" % i, str(i)))
            eq("b reads a's write %d" % i, b.execute("SELECT value FROM kv WHERE key = %s", ("w%d" % i,)).fetchone(),
               (str(i),))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ARGS = ap.parse_args()
    # psycopg logs a warning when a pipeline that hit an error is closed: expected here.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    print("psycopg %s, libpq %s, server %s:%d" % (psycopg.__version__, psycopg.pq.version(), ARGS.host, ARGS.port))
    ok = [run(fn) for fn in CHECKS]
    print("psycopg: %d of %d checks passed" % (sum(ok), len(ok)))
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
