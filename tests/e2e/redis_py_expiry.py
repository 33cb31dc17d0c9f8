#!/usr/bin/env python3
"""redis-py expiry, keyspace and database commands against the server under test,
RESP2 and RESP3.

Usage: redis_py_expiry.py PORT

  - set(ex=, px=, exat=, pxat=, nx=, xx=, keepttl=, get=), setex, psetex, getex, getdel
  - expire/pexpire/expireat/pexpireat with nx/xx/gt/lt, ttl/pttl/expiretime, persist
  - INCR/APPEND keep a TTL, SET/GETSET/MSET clear it
  - scan_iter(match=, count=) over 2000 keys: every key exactly once; keys()
  - rename/renamenx/copy/move, a second client on db=3
  - pipeline(transaction=True) mixing expiry commands
  - an expiry that actually happens: set(px=50), then get() returns None (polled, 5 s max)
"""

import sys
import time
import warnings

import redis

port = int(sys.argv[1])
# setex/psetex are deprecated in redis-py in favour of set(ex=): tested on purpose.
warnings.filterwarnings("ignore", category=DeprecationWarning)
checks = 0


def check(what, got, want):
    global checks
    checks += 1
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def check_true(what, cond, detail=""):
    global checks
    checks += 1
    if not cond:
        raise AssertionError("%s: %s" % (what, detail))


def client(proto, db=0):
    return redis.Redis(host="127.0.0.1", port=port, protocol=proto, db=db, socket_timeout=20,
                       socket_connect_timeout=5)


def session(proto):
    p = "RESP%d" % proto
    r = client(proto)
    check(p + " flushall", r.flushall(), True)

    # --- SET options
    check(p + " set ex", r.set("k", "v", ex=10000), True)
    check(p + " ttl after ex", r.ttl("k"), 10000)
    pttl = r.pttl("k")
    check_true(p + " pttl after ex", 9990000 <= pttl <= 10000000, "pttl %r" % pttl)
    check(p + " set px", r.set("k", "v", px=20000000), True)
    check(p + " ttl after px", r.ttl("k"), 20000)
    check(p + " set keepttl", r.set("k", "v2", keepttl=True), True)
    check(p + " ttl after keepttl", r.ttl("k"), 20000)
    check(p + " get after keepttl", r.get("k"), b"v2")
    check(p + " set get=True returns old", r.set("k", "v3", get=True), b"v2")
    check(p + " set without ttl clears it", r.ttl("k"), -1)
    check(p + " set nx on existing", r.set("k", "x", nx=True, ex=100), None)
    check(p + " ttl unchanged after failed nx", r.ttl("k"), -1)
    check(p + " set nx on new", r.set("n", "x", nx=True, ex=30000), True)
    check(p + " ttl n", r.ttl("n"), 30000)
    check(p + " set xx on missing", r.set("missing", "x", xx=True), None)
    check(p + " exists missing", r.exists("missing"), 0)
    check(p + " set xx px", r.set("n", "y", xx=True, px=40000000), True)
    check(p + " ttl after xx px", r.ttl("n"), 40000)
    check(p + " set exat", r.set("at", "v", exat=4102444800), True)
    check(p + " expiretime", r.expiretime("at"), 4102444800)
    check(p + " set pxat", r.set("at", "v", pxat=4102444800123), True)
    check(p + " pexpiretime", r.execute_command("PEXPIRETIME", "at"), 4102444800123)
    try:
        r.set("k", "v", ex=0)
        check(p + " set ex=0 raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " set ex=0 error", str(e), "invalid expire time in 'set' command")
    try:
        r.execute_command("SET", "k", "v", "EX", "10", "KEEPTTL")
        check(p + " set ex + keepttl raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " set ex + keepttl error", str(e), "syntax error")

    # --- SETEX / PSETEX / GETEX / GETDEL
    check(p + " setex", r.setex("se", 10000, "a"), True)
    check(p + " ttl setex", r.ttl("se"), 10000)
    check(p + " psetex", r.psetex("pse", 20000000, "b"), True)
    check(p + " ttl psetex", r.ttl("pse"), 20000)
    check(p + " get psetex", r.get("pse"), b"b")
    try:
        r.setex("se", -1, "a")
        check(p + " setex -1 raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " setex -1 error", str(e), "invalid expire time in 'setex' command")
    check(p + " getex persist", r.getex("se", persist=True), b"a")
    check(p + " ttl after getex persist", r.ttl("se"), -1)
    check(p + " getex ex", r.getex("se", ex=30000), b"a")
    check(p + " ttl after getex ex", r.ttl("se"), 30000)
    check(p + " getex px", r.getex("se", px=40000000), b"a")
    check(p + " ttl after getex px", r.ttl("se"), 40000)
    check(p + " getex exat", r.getex("se", exat=4102444800), b"a")
    check(p + " expiretime after getex exat", r.expiretime("se"), 4102444800)
    check(p + " getex plain", r.getex("se"), b"a")
    check(p + " expiretime unchanged", r.expiretime("se"), 4102444800)
    check(p + " getex missing", r.getex("nope", ex=10), None)
    check(p + " getdel", r.getdel("se"), b"a")
    check(p + " getdel again", r.getdel("se"), None)
    check(p + " ttl after getdel", r.ttl("se"), -2)

    # --- EXPIRE family with options
    r.set("e", "v")
    check(p + " expire xx without ttl", r.expire("e", 100, xx=True), False)
    check(p + " expire gt without ttl", r.expire("e", 100, gt=True), False)
    check(p + " expire nx", r.expire("e", 10000, nx=True), True)
    check(p + " expire nx again", r.expire("e", 20000, nx=True), False)
    check(p + " ttl e", r.ttl("e"), 10000)
    check(p + " expire gt smaller", r.expire("e", 5000, gt=True), False)
    check(p + " expire gt larger", r.expire("e", 20000, gt=True), True)
    check(p + " expire lt larger", r.expire("e", 30000, lt=True), False)
    check(p + " expire lt smaller", r.expire("e", 15000, lt=True), True)
    check(p + " ttl e after lt", r.ttl("e"), 15000)
    check(p + " expire xx", r.expire("e", 25000, xx=True), True)
    check(p + " ttl e after xx", r.ttl("e"), 25000)
    check(p + " pexpire gt", r.pexpire("e", 26000000, gt=True), True)
    check(p + " ttl after pexpire", r.ttl("e"), 26000)
    check(p + " pexpire lt", r.pexpire("e", 27000000, lt=True), False)
    check(p + " expireat gt", r.expireat("e", 4102444800, gt=True), True)
    check(p + " expiretime after expireat", r.expiretime("e"), 4102444800)
    check(p + " pexpireat lt", r.pexpireat("e", 4102444700000, lt=True), True)
    check(p + " expiretime after pexpireat", r.expiretime("e"), 4102444700)
    try:
        r.execute_command("EXPIRE", "e", "100", "NX", "XX")
        check(p + " expire nx xx raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " expire nx xx error", str(e),
              "NX and XX, GT or LT options at the same time are not compatible")
    try:
        r.execute_command("EXPIRE", "e", "100", "GT", "LT")
        check(p + " expire gt lt raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " expire gt lt error", str(e),
              "GT and LT options at the same time are not compatible")
    try:
        r.execute_command("EXPIRE", "e", "100", "FOO")
        check(p + " expire FOO raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " expire FOO error", str(e), "Unsupported option FOO")
    check(p + " persist", r.persist("e"), True)
    check(p + " persist again", r.persist("e"), False)
    check(p + " ttl after persist", r.ttl("e"), -1)
    check(p + " pttl after persist", r.pttl("e"), -1)
    check(p + " ttl missing", r.ttl("nope"), -2)
    check(p + " pttl missing", r.pttl("nope"), -2)
    check(p + " expire missing", r.expire("nope", 10), False)
    check(p + " expire negative deletes", r.expire("e", -1), True)
    check(p + " exists after negative expire", r.exists("e"), 0)
    r.set("e", "v")
    check(p + " expireat past deletes", r.expireat("e", 1), True)
    check(p + " get after past expireat", r.get("e"), None)

    # --- which writes keep the TTL
    r.set("c", "1", ex=10000)
    check(p + " incr", r.incr("c"), 2)
    check(p + " ttl kept by incr", r.ttl("c"), 10000)
    check(p + " append", r.append("c", "0"), 2)
    check(p + " ttl kept by append", r.ttl("c"), 10000)
    check(p + " getset", r.getset("c", "5"), b"20")
    check(p + " ttl cleared by getset", r.ttl("c"), -1)
    r.set("c", "1", ex=10000)
    check(p + " mset", r.mset({"c": "2", "d": "3"}), True)
    check(p + " ttl cleared by mset", r.ttl("c"), -1)

    # --- SCAN over 2000 keys, KEYS
    check(p + " flushdb", r.flushdb(), True)
    pipe = r.pipeline(transaction=False)
    for i in range(2000):
        pipe.set("scan:%d" % i, i)
    pipe.set("other", "x")
    pipe.set("scan:ttl", "x", ex=10000)
    pipe.execute()
    check(p + " dbsize 2002", r.dbsize(), 2002)
    want = {b"scan:%d" % i for i in range(2000)} | {b"scan:ttl"}
    seen = list(r.scan_iter(match="scan:*", count=100))
    check(p + " scan_iter(match=scan:*) count", len(seen), len(want))
    check(p + " scan_iter(match=scan:*) each key once", set(seen), want)
    seen = list(r.scan_iter(count=7))
    check(p + " scan_iter() every key once", sorted(seen), sorted(want | {b"other"}))
    seen = list(r.scan_iter(match="scan:1?", count=1000))
    check(p + " scan_iter(match=scan:1?)", set(seen), {b"scan:1%d" % i for i in range(10)})
    seen = list(r.scan_iter(match="scan:*", _type="string", count=500))
    check(p + " scan_iter(_type=string)", len(seen), 2001)
    check(p + " scan_iter(_type=list)", list(r.scan_iter(_type="list")), [])
    check(p + " keys scan:19?", set(r.keys("scan:19?")), {b"scan:19%d" % i for i in range(10)})
    check(p + " keys [o]ther", r.keys("[o]ther"), [b"other"])
    check(p + " keys nomatch", r.keys("nomatch*"), [])
    check(p + " keys * count", len(r.keys("*")), 2002)
    check(p + " randomkey", r.randomkey() in want | {b"other"}, True)

    # --- RENAME / RENAMENX / COPY / MOVE / SELECT via db=3
    check(p + " flushdb", r.flushdb(), True)
    r.set("a", "1", ex=10000)
    check(p + " rename", r.rename("a", "b"), True)
    check(p + " ttl carried by rename", r.ttl("b"), 10000)
    check(p + " old name gone", r.exists("a"), 0)
    try:
        r.rename("a", "c")
        check(p + " rename missing raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " rename missing error", str(e), "no such key")
    r.set("c", "3")
    check(p + " renamenx onto existing", r.renamenx("b", "c"), False)
    check(p + " renamenx", r.renamenx("b", "d"), True)
    check(p + " get d", r.get("d"), b"1")
    check(p + " copy", r.copy("d", "e"), True)
    check(p + " copy again", r.copy("d", "e"), False)
    check(p + " copy replace", r.copy("c", "e", replace=True), True)
    check(p + " get e", r.get("e"), b"3")
    check(p + " copy to db 3", r.copy("d", "d3", destination_db=3), True)
    check(p + " move to db 3", r.move("c", 3), True)
    check(p + " move missing", r.move("c", 3), False)
    r3 = client(proto, db=3)
    check(p + " db3 get d3", r3.get("d3"), b"1")
    check(p + " db3 ttl d3 (copied)", r3.ttl("d3"), 10000)
    check(p + " db3 get c (moved)", r3.get("c"), b"3")
    check(p + " db3 dbsize", r3.dbsize(), 2)
    check(p + " db3 set", r3.set("only3", "x", ex=5000), True)
    check(p + " db0 does not see db3", r.exists("only3", "d3"), 0)
    r.set("c", "db0")
    check(p + " move onto existing", r.move("c", 3), False)
    check(p + " db3 c unchanged", r3.get("c"), b"3")
    info = r.info("keyspace")
    check(p + " info keyspace db3 keys", info.get("db3", {}).get("keys"), 3)
    check(p + " info keyspace db3 expires", info.get("db3", {}).get("expires"), 2)
    r3.close()

    # --- transactions mixing expiry commands
    check(p + " flushdb", r.flushdb(), True)
    pipe = r.pipeline(transaction=True)
    pipe.set("t", "v", ex=10000)
    pipe.ttl("t")
    pipe.expire("t", 20000, gt=True)
    pipe.ttl("t")
    pipe.persist("t")
    pipe.ttl("t")
    pipe.getex("t", px=30000000)
    pipe.ttl("t")
    pipe.setex("u", 40000, "w")
    pipe.rename("u", "u2")
    pipe.ttl("u2")
    pipe.getdel("t")
    pipe.exists("t")
    res = pipe.execute()
    check(p + " transaction results", res,
          [True, 10000, True, 20000, True, -1, b"v", 30000, True, True, 40000, b"v", 0])
    pipe = r.pipeline(transaction=True)
    pipe.set("x", "1")
    pipe.expire("x", 100, nx=True)
    pipe.execute_command("EXPIRE", "x", "100", "NX", "XX")
    pipe.get("x")
    try:
        pipe.execute()
        check(p + " EXEC with an error raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check_true(p + " EXEC error names the incompatible options",
                   "NX and XX, GT or LT" in str(e), str(e))
    check(p + " transaction applied around the error", r.ttl("x"), 100)
    pipe = r.pipeline(transaction=True)
    pipe.set("y", "1")
    pipe.execute_command("EXPIRE", "y")  # wrong arity: EXECABORT
    try:
        pipe.execute()
        check(p + " EXECABORT raises", "no error", "ResponseError")
    except redis.ResponseError:
        check(p + " EXECABORT raises", True, True)
    check(p + " nothing applied after EXECABORT", r.exists("y"), 0)

    # --- an expiry that actually happens
    check(p + " set px=50", r.set("short", "v", px=50), True)
    deadline = time.monotonic() + 5
    while r.get("short") is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    check(p + " key expired within 5 s", r.get("short"), None)
    check(p + " ttl after expiry", r.ttl("short"), -2)
    check(p + " exists after expiry", r.exists("short"), 0)
    r.set("short2", "v", px=30)
    deadline = time.monotonic() + 5
    while r.exists("short2") and time.monotonic() < deadline:
        time.sleep(0.01)
    check(p + " exists turns 0 within 5 s", r.exists("short2"), 0)
    r.close()


for proto in (2, 3):
    session(proto)
print("redis-py %s expiry and keyspace: %d checks passed (RESP2 and RESP3)"
      % (redis.__version__, checks))
