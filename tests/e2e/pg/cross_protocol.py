#!/usr/bin/env python3
"""One corewire, two protocols: what a PostgreSQL session does to table kv is what a
Redis client sees in db 0, and the reverse, including transactions in flight.

Usage: cross_protocol.py --resp-port R --pg-port P

Needs psycopg 3 and redis-py. corewire only (a real PostgreSQL has no RESP side).
Each check prints PASS/FAIL; the last line is "cross-protocol: N of M checks
passed"; exit 1 if any failed.
"""

import argparse
import sys
import threading
import time
import traceback

import psycopg
import redis

ARGS = None
CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


def pg(**kw):
    kw.setdefault("autocommit", True)
    return psycopg.connect(host="127.0.0.1", port=ARGS.pg_port, user="postgres", dbname="kv", connect_timeout=5, **kw)


def rd(db=0):
    return redis.Redis(host="127.0.0.1", port=ARGS.resp_port, db=db, socket_timeout=10, socket_connect_timeout=5)


def eq(what, got, want):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def value(c, key):
    row = c.execute("SELECT value FROM kv WHERE key = %s", (key,)).fetchone()
    return row[0] if row else None


@check
def check_writes_visible_both_ways():
    r = rd()
    r.flushdb()
    with pg() as c:
        r.set("a", "1")
        eq("redis SET -> SQL SELECT", value(c, "a"), "1")
        c.execute("INSERT INTO kv VALUES (%s, %s)", ("b", "from sql"))
        eq("SQL INSERT -> redis GET", r.get("b"), b"from sql")
        c.execute("UPDATE kv SET value = %s WHERE key = %s", ("2", "a"))
        eq("SQL UPDATE -> redis GET", r.get("a"), b"2")
        eq("redis INCR on a value SQL wrote", r.incr("a"), 3)
        eq("SQL sees the INCR", value(c, "a"), "3")
        r.delete("b")
        eq("redis DEL -> SQL", c.execute("SELECT count(*) FROM kv WHERE key = 'b'").fetchone(), (0,))
        c.execute("DELETE FROM kv WHERE key = %s", ("a",))
        eq("SQL DELETE -> redis EXISTS", r.exists("a"), 0)
        r.mset({"m1": "x", "m2": "y"})
        eq("redis MSET -> SQL count(*)", c.execute("SELECT count(*) FROM kv").fetchone(), (2,))
        eq("redis DBSIZE == SQL count(*)", r.dbsize(), 2)
        for v in ["with  spaces ", "héllo wörld ✓ 日本語 🎉", "", "tab\tnew\nline"]:
            r.set("u", v)
            eq("redis -> SQL %r" % v, value(c, "u"), v)
            c.execute("UPDATE kv SET value = %s WHERE key = 'u'", (v + "!",))
            eq("SQL -> redis %r" % v, r.get("u"), (v + "!").encode())
        r.set(b"bin", b"\x00\x01\xfe\xff")
        eq("binary value via value::bytea", c.execute("SELECT value::bytea FROM kv WHERE key = 'bin'").fetchone(),
           (b"\x00\x01\xfe\xff",))
        c.execute("TRUNCATE kv")
        eq("SQL TRUNCATE -> redis DBSIZE", r.dbsize(), 0)


@check
def check_only_db0_is_kv():
    r0, r1 = rd(0), rd(1)
    r0.flushall()
    r1.set("other-db", "1")
    with pg() as c:
        eq("db 1 is not table kv", c.execute("SELECT count(*) FROM kv").fetchone(), (0,))
        c.execute("INSERT INTO kv VALUES ('db0', 'x')")
        c.execute("TRUNCATE kv")
    eq("TRUNCATE kv leaves db 1 alone", r1.get("other-db"), b"1")
    r0.flushall()


@check
def check_expiry_across_protocols():
    # A key with a TTL is a row until it expires, then it is gone for SQL too.
    r = rd()
    r.flushdb()
    with pg() as c:
        r.set("exp", "soon", px=300)
        eq("key with a TTL is a row", value(c, "exp"), "soon")
        time.sleep(0.6)
        eq("expired key is no row", value(c, "exp"), None)
        eq("expired key not counted", c.execute("SELECT count(*) FROM kv").fetchone(), (0,))
        c.execute("INSERT INTO kv VALUES ('ttl', 'a')")
        eq("row inserted by SQL has no TTL", r.ttl("ttl"), -1)
        r.set("ttl2", "b", ex=100)
        c.execute("UPDATE kv SET value = 'c' WHERE key = 'ttl2'")
        ttl = r.ttl("ttl2")
        # Redis SET drops a TTL; an SQL UPDATE is a write of the value: say which.
        print("  info: TTL after an SQL UPDATE of a key with EX 100: %d" % ttl)


@check
def check_uncommitted_sql_invisible_to_redis():
    r = rd()
    r.flushdb()
    with pg(autocommit=False) as c:
        c.execute("INSERT INTO kv VALUES ('tx', 'pending')")
        eq("redis does not see an uncommitted INSERT", r.get("tx"), None)
        c.commit()
        eq("redis sees it after COMMIT", r.get("tx"), b"pending")
        c.execute("UPDATE kv SET value = 'rolled back' WHERE key = 'tx'")
        eq("redis does not see an uncommitted UPDATE", r.get("tx"), b"pending")
        c.rollback()
        eq("redis after ROLLBACK", r.get("tx"), b"pending")


@check
def check_redis_multi_invisible_to_sql_until_exec():
    r = rd()
    r.flushdb()
    with pg() as c:
        p = r.pipeline(transaction=True)
        p.set("multi", "1")
        p.incr("multi")
        p.execute()
        eq("MULTI/EXEC result seen by SQL", value(c, "multi"), "2")


@check
def check_watch_sees_sql_writes():
    r = rd()
    r.flushdb()
    r.set("w", "1")
    with pg() as c:
        p = r.pipeline(transaction=True)
        p.watch("w")
        c.execute("UPDATE kv SET value = 'sql' WHERE key = 'w'")
        p.multi()
        p.set("w", "redis")
        try:
            p.execute()
            raise AssertionError("EXEC after an SQL write to a WATCHed key succeeded")
        except redis.WatchError:
            pass
        eq("SQL write kept", value(c, "w"), "sql")


@check
def check_sql_conflicts_with_concurrent_redis_write():
    # An SQL transaction that read a key, while Redis overwrites it, must not commit
    # a write based on the stale read without either serialising or failing (40001).
    r = rd()
    r.flushdb()
    r.set("cnt", "0")
    with pg(autocommit=False) as c:
        v = int(value(c, "cnt"))
        r.set("cnt", "100")
        try:
            c.execute("UPDATE kv SET value = %s WHERE key = 'cnt'", (str(v + 1),))
            c.commit()
            outcome = "committed"
        except psycopg.errors.SerializationFailure:
            c.rollback()
            outcome = "40001"
    final = r.get("cnt")
    if outcome == "committed":
        # Acceptable only as a lost update PostgreSQL READ COMMITTED also allows.
        print("  info: read-modify-write across protocols committed (final %r): READ COMMITTED semantics" % final)
    else:
        eq("after 40001 the Redis write stays", final, b"100")


@check
def check_concurrent_clients_both_protocols():
    r = rd()
    r.flushdb()
    errors = []

    def sql_writer():
        try:
            with pg() as c:
                for i in range(300):
                    c.execute("INSERT INTO kv VALUES (%s, %s)", ("s%d" % i, str(i)))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def redis_writer():
        try:
            rr = rd()
            for i in range(300):
                rr.set("r%d" % i, str(i))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=sql_writer), threading.Thread(target=redis_writer)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    eq("writer errors", errors, [])
    with pg() as c:
        eq("SQL count(*)", c.execute("SELECT count(*) FROM kv").fetchone(), (600,))
        eq("SQL LIKE 'r%'", c.execute("SELECT count(*) FROM kv WHERE key LIKE 'r%'").fetchone(), (300,))
    eq("redis DBSIZE", r.dbsize(), 600)
    eq("redis MGET of SQL rows", r.mget(["s0", "s299"]), [b"0", b"299"])
    r.flushdb()


def run(fn):
    name = fn.__name__.removeprefix("check_").replace("_", " ")
    try:
        fn()
        print("PASS: cross-protocol %s" % name, flush=True)
        return True
    except Exception as e:  # noqa: BLE001
        tb = [f for f in traceback.extract_tb(e.__traceback__) if f.name.startswith("check_")]
        where = "line %d" % tb[-1].lineno if tb else "?"
        print("FAIL: cross-protocol %s: %s: %s (%s)" % (name, type(e).__name__, str(e).strip().replace("\n", " | "),
                                                        where), flush=True)
        return False


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--resp-port", type=int, required=True)
    ap.add_argument("--pg-port", type=int, required=True)
    ARGS = ap.parse_args()
    ok = [run(fn) for fn in CHECKS]
    print("cross-protocol: %d of %d checks passed" % (sum(ok), len(ok)))
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
