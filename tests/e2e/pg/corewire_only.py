#!/usr/bin/env python3
"""corewire-only PostgreSQL checks: what a real PostgreSQL does differently on
purpose, so the differential test cannot cover it.

Usage: corewire_only.py --port PORT

  * SQL outside corewire's subset (DDL, other tables, joins, functions it does not
    have) is refused with 0A000 (feature not supported), 42601 (syntax error) or
    42P01 (undefined table), and the same connection goes on working, in and out of
    transaction blocks; DROP/ALTER of kv in particular change nothing;
  * SELECT version() names PostgreSQL (drivers parse it), current_database() and
    current_user answer, any database name connects and serves the same kv.

Needs psycopg 3. Last line "corewire-only: N of M checks passed"; exit 1 on failure.
"""

import argparse
import sys
import traceback

import psycopg

ARGS = None
ALLOWED = {"0A000", "42601", "42P01"}
UNSUPPORTED = [
    "CREATE TABLE t (a int)",
    "CREATE TABLE kv2 (key text PRIMARY KEY, value text)",
    "DROP TABLE kv",
    "ALTER TABLE kv ADD COLUMN extra int",
    "CREATE INDEX ON kv (value)",
    "SELECT * FROM other_table",
    "INSERT INTO other_table VALUES (1)",
    "SELECT a.key FROM kv a JOIN kv b ON a.key = b.value",
    "SELECT key, count(*) FROM kv GROUP BY key",
    "WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x) SELECT * FROM x",
    "VACUUM kv",
    "GRANT SELECT ON kv TO public",
    "LISTEN chan",
    "SELECT * FROM kv WHERE value = 'x' UNION SELECT * FROM kv",
    "CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql",
]


def connect(dbname="kv", **kw):
    kw.setdefault("autocommit", True)
    return psycopg.connect(host="127.0.0.1", port=ARGS.port, user="postgres", dbname=dbname, connect_timeout=5, **kw)


def eq(what, got, want):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def check_unsupported_sql_is_refused_and_session_continues():
    bad = []
    with connect() as c:
        c.execute("TRUNCATE kv")
        c.execute("INSERT INTO kv VALUES ('keep', 'me')")
        for stmt in UNSUPPORTED:
            try:
                c.execute(stmt)
                bad.append("%s: no error" % stmt)
            except psycopg.Error as e:
                if e.sqlstate not in ALLOWED:
                    bad.append("%s: SQLSTATE %s (%s)" % (stmt, e.sqlstate, str(e).strip()))
            eq("SELECT after %r" % stmt, c.execute("SELECT value FROM kv WHERE key = 'keep'").fetchone(), ("me",))
    if bad:
        raise AssertionError("; ".join(bad))


def check_unsupported_sql_in_a_transaction_aborts_it():
    with connect(autocommit=False) as c:
        c.execute("INSERT INTO kv VALUES ('txk', '1') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
        try:
            c.execute("CREATE TABLE t (a int)")
            raise AssertionError("CREATE TABLE: no error")
        except psycopg.Error as e:
            if e.sqlstate not in ALLOWED:
                raise AssertionError("CREATE TABLE: SQLSTATE %s" % e.sqlstate)
        try:
            c.execute("SELECT 1")
            raise AssertionError("statement after the error in a transaction: no 25P02")
        except psycopg.errors.InFailedSqlTransaction:
            pass
        c.rollback()
        eq("insert rolled back with the transaction",
           c.execute("SELECT count(*) FROM kv WHERE key = 'txk'").fetchone(), (0,))
        c.rollback()


def check_kv_survives_ddl():
    with connect() as c:
        eq("kv still there after DROP TABLE kv", c.execute("SELECT value FROM kv WHERE key = 'keep'").fetchone(),
           ("me",))
        eq("still two columns", [d.name for d in c.execute("SELECT * FROM kv WHERE key = 'keep'").description],
           ["key", "value"])


def check_version_and_session_functions():
    with connect() as c:
        v = c.execute("SELECT version()").fetchone()[0]
        if not v.startswith("PostgreSQL "):
            raise AssertionError("version(): %r does not start with 'PostgreSQL '" % v)
        eq("SELECT 1", c.execute("SELECT 1").fetchone(), (1,))
        eq("current_setting('server_version') matches the parameter status",
           c.execute("SELECT current_setting('server_version')").fetchone()[0],
           c.info.parameter_status("server_version"))


def check_any_database_name_serves_kv():
    with connect() as c:
        c.execute("INSERT INTO kv VALUES ('anydb', 'same') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
    for db in ("postgres", "some_other_db"):
        with connect(dbname=db) as c:
            eq("database %s" % db, c.execute("SELECT value FROM kv WHERE key = 'anydb'").fetchone(), ("same",))


CHECKS = [check_unsupported_sql_is_refused_and_session_continues, check_unsupported_sql_in_a_transaction_aborts_it,
          check_kv_survives_ddl, check_version_and_session_functions, check_any_database_name_serves_kv]


def run(fn):
    name = fn.__name__.removeprefix("check_").replace("_", " ")
    try:
        fn()
        print("PASS: corewire-only %s" % name, flush=True)
        return True
    except Exception as e:  # noqa: BLE001
        tb = [f for f in traceback.extract_tb(e.__traceback__) if f.name.startswith("check_")]
        where = "line %d" % tb[-1].lineno if tb else "?"
        print("FAIL: corewire-only %s: %s: %s (%s)" % (name, type(e).__name__, str(e).strip().replace("\n", " | "),
                                                       where), flush=True)
        return False


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ARGS = ap.parse_args()
    ok = [run(fn) for fn in CHECKS]
    print("corewire-only: %d of %d checks passed" % (sum(ok), len(ok)))
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
