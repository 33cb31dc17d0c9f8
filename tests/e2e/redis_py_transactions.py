#!/usr/bin/env python3
"""redis-py transactions against the server under test, RESP2 and RESP3.

Usage: redis_py_transactions.py PORT

  - pipeline(transaction=True) (MULTI ... EXEC) with many commands
  - an error inside EXEC: redis-py raises, the other commands are applied
  - a queueing error (EXECABORT): redis-py raises, nothing is applied
  - WATCH: explicit watch() + a write from another client -> WatchError
  - r.transaction(func, key): optimistic retry from THREADS threads and PROCS
    processes, each incrementing one counter INCRS times: the total must be exact
  - decode_responses=True with protocol=3
"""

import multiprocessing
import sys
import threading

import redis

port = int(sys.argv[1])
checks = 0
THREADS = 4
PROCS = 4
INCRS = 200


def check(what, got, want):
    global checks
    checks += 1
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def client(proto, **kw):
    return redis.Redis(host="127.0.0.1", port=port, protocol=proto, socket_timeout=20,
                       socket_connect_timeout=5, **kw)


def bump_many(proto, key, n, out, slot):
    """n WATCH/GET/MULTI/SET/EXEC increments of key; out[slot] = (done, retries)."""
    r = client(proto)
    retries = [0]

    def bump(pipe):
        v = int(pipe.get(key) or 0)
        retries[0] += 1
        pipe.multi()
        pipe.set(key, v + 1)

    done = 0
    for _ in range(n):
        r.transaction(bump, key)
        done += 1
    r.close()
    out[slot] = (done, retries[0] - n)


def bump_process(args):
    proto, key, n = args
    out = [None]
    bump_many(proto, key, n, out, 0)
    return out[0]


def concurrent_counter(proto, p):
    r = client(proto)
    r.delete("counter")
    out = [None] * THREADS
    threads = [threading.Thread(target=bump_many, args=(proto, "counter", INCRS, out, i))
               for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(p + " threads finished", [t.is_alive() for t in threads], [False] * THREADS)
    check(p + " every thread did its increments", [o[0] if o else None for o in out],
          [INCRS] * THREADS)
    check(p + " counter after %d threads x %d WATCH increments" % (THREADS, INCRS),
          r.get("counter"), str(THREADS * INCRS).encode())
    thread_retries = sum(o[1] for o in out)

    r.delete("pcounter")
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(PROCS) as pool:
        res = pool.map_async(bump_process, [(proto, "pcounter", INCRS)] * PROCS).get(120)
    check(p + " every process did its increments", [x[0] for x in res], [INCRS] * PROCS)
    check(p + " counter after %d processes x %d WATCH increments" % (PROCS, INCRS),
          r.get("pcounter"), str(PROCS * INCRS).encode())
    r.close()
    return thread_retries, sum(x[1] for x in res)


def session(proto):
    p = "resp%d" % proto
    r = client(proto)
    check(p + " flushall", r.flushall(), True)

    # MULTI ... EXEC with many commands
    pipe = r.pipeline(transaction=True)
    pipe.set("a", "1").incr("a").incrby("a", 10).get("a").get("missing")
    pipe.mset({"b": "x", "c": "y"}).mget("a", "b", "missing")
    pipe.append("b", "yz").strlen("b").getrange("b", 1, -1).setrange("b", 5, "!")
    pipe.get("b").getset("c", "z").setnx("c", "no").setnx("d", "yes")
    pipe.msetnx({"e": "1", "f": "2"}).msetnx({"f": "3", "g": "4"})
    pipe.incrbyfloat("fl", "0.1").incrbyfloat("fl", "0.2").type("a").type("missing")
    pipe.touch("a", "b", "missing").unlink("e", "missing").exists("a", "e").delete("d")
    res = pipe.execute()
    check(p + " transaction results", res, [
        True, 2, 12, b"12", None, True, [b"12", b"x", None],
        3, 3, b"yz", 6, b"xyz\x00\x00!", b"y", False, True,
        True, False, 0.1, 0.3, b"string", b"none",
        2, 1, 1, 1])
    check(p + " after transaction", r.mget("a", "b", "c", "d", "e", "f", "g", "fl"),
          [b"12", b"xyz\x00\x00!", b"z", None, None, b"2", None, b"0.3"])

    # 100 commands in one transaction
    pipe = r.pipeline(transaction=True)
    for i in range(100):
        pipe.incr("many")
    pipe.get("many")
    res = pipe.execute()
    check(p + " 100 INCRs in one transaction", res, list(range(1, 101)) + [b"100"])

    # An error inside EXEC: redis-py raises; the other commands were applied.
    r.set("s", "hello")
    pipe = r.pipeline(transaction=True)
    pipe.set("ok1", "1").incr("s").set("ok2", "2").incrbyfloat("s", "1").append("ok1", "+")
    try:
        pipe.execute()
        check(p + " EXEC with an error raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " EXEC error text", "value is not an integer or out of range" in str(e), True)
    check(p + " commands around the failed one applied", r.mget("ok1", "ok2", "s"),
          [b"1+", b"2", b"hello"])
    pipe = r.pipeline(transaction=True)
    pipe.set("ok3", "3").incr("s").setrange("ok3", -1, "x").get("ok3")
    res = pipe.execute(raise_on_error=False)
    check(p + " raise_on_error=False: results", [res[0], res[3]], [True, b"3"])
    check(p + " raise_on_error=False: errors",
          [type(res[1]).__name__, type(res[2]).__name__, str(res[2])],
          ["ResponseError", "ResponseError", "offset is out of range"])

    # A queueing error: EXECABORT; nothing applied.
    pipe = r.pipeline(transaction=True)
    pipe.set("q1", "1").execute_command("NOSUCHCOMMAND", "x").set("q2", "2")
    try:
        pipe.execute()
        check(p + " queueing error raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " queueing error text", "unknown command" in str(e), True)
    check(p + " nothing applied after EXECABORT", r.exists("q1", "q2"), 0)
    pipe = r.pipeline(transaction=True)
    pipe.set("q1", "1").execute_command("GET").set("q2", "2")
    try:
        pipe.execute()
        check(p + " arity error in queue raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " arity error text", "wrong number of arguments" in str(e), True)
    check(p + " nothing applied after arity EXECABORT", r.exists("q1", "q2"), 0)
    check(p + " connection usable after EXECABORT", r.ping(), True)

    # WATCH: another client's write makes EXEC return nil -> WatchError.
    other = client(proto)
    r.set("w", "1")
    with r.pipeline() as pipe:
        pipe.watch("w")
        check(p + " immediate-mode get under WATCH", pipe.get("w"), b"1")
        other.set("w", "2")
        pipe.multi()
        pipe.set("w", "3")
        try:
            pipe.execute()
            check(p + " WATCH + other write raises WatchError", "no error", "WatchError")
        except redis.WatchError:
            check(p + " WatchError", True, True)
    check(p + " value after aborted transaction", r.get("w"), b"2")
    with r.pipeline() as pipe:
        pipe.watch("w")
        pipe.unwatch()
        other.set("w", "4")
        pipe.multi()
        pipe.incr("w")
        check(p + " WATCH, UNWATCH, other write: EXEC succeeds", pipe.execute(), [5])
    with r.pipeline() as pipe:
        pipe.watch("newkey")
        other.set("newkey", "x")
        pipe.multi()
        pipe.set("newkey", "mine")
        try:
            pipe.execute()
            check(p + " WATCH missing key created elsewhere", "no error", "WatchError")
        except redis.WatchError:
            check(p + " WATCH missing key created elsewhere: WatchError", True, True)
    check(p + " newkey kept the other client's value", r.get("newkey"), b"x")
    # transaction(): value_from_callable and retry after a forced conflict
    calls = [0]

    def conflicting(pipe):
        calls[0] += 1
        v = int(pipe.get("tc") or 0)
        if calls[0] == 1:
            other.incr("tc")  # the first attempt must fail
        pipe.multi()
        pipe.set("tc", v + 10)
        return v

    got = r.transaction(conflicting, "tc", value_from_callable=True)
    check(p + " transaction() retried after a conflict", (calls[0], got, r.get("tc")),
          (2, 1, b"11"))
    other.close()

    # many threads and processes, one counter
    tr, pr = concurrent_counter(proto, p)
    r.close()
    return tr, pr


def decoded_resp3():
    p = "resp3-decoded"
    r = client(3, decode_responses=True)
    check(p + " flushall", r.flushall(), True)
    pipe = r.pipeline(transaction=True)
    pipe.set("k", "v\u00e9").get("k").append("k", "!").strlen("k").getrange("k", 0, 0)
    pipe.mget("k", "missing").incrbyfloat("f", "10.5").incrbyfloat("f", "0.1")
    pipe.type("k").getset("k", "new").msetnx({"a": "1"}).time()
    res = pipe.execute()
    check(p + " transaction results (without TIME)", res[:-1],
          [True, "v\u00e9", 4, 4, "v", ["v\u00e9!", None], 10.5, 10.6, "string",
           "v\u00e9!", True])
    t = res[-1]
    check(p + " TIME inside the transaction", isinstance(t, tuple) and len(t) == 2
          and all(isinstance(x, int) for x in t) and 0 <= t[1] < 1000000, True)
    check(p + " get", r.get("k"), "new")
    check(p + " getrange missing", r.getrange("missing", 0, -1), "")
    check(p + " type missing", r.type("missing"), "none")
    check(p + " incrbyfloat", r.incrbyfloat("f", "-0.6"), 10.0)
    check(p + " get float", r.get("f"), "10")
    try:
        r.incrbyfloat("f", "inf")
        check(p + " incrbyfloat inf raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " incrbyfloat inf", str(e), "increment would produce NaN or Infinity")
    try:
        r.lpush("k", "x")
        check(p + " lpush on a string raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " WRONGTYPE", str(e), "WRONGTYPE Operation against a key holding the "
              "wrong kind of value")
    with r.pipeline() as pipe:
        pipe.watch("k")
        r.set("k", "changed")
        pipe.multi()
        pipe.get("k")
        try:
            pipe.execute()
            check(p + " RESP3 nil EXEC -> WatchError", "no error", "WatchError")
        except redis.WatchError:
            check(p + " RESP3 nil EXEC -> WatchError", True, True)

    def bump(pipe):
        v = int(pipe.get("dc") or 0)
        pipe.multi()
        pipe.set("dc", v + 1)

    for _ in range(50):
        r.transaction(bump, "dc")
    check(p + " 50 transaction() increments", r.get("dc"), "50")
    check(p + " reset", r.execute_command("RESET"), "RESET")
    r.close()


retries = []
for proto in (2, 3):
    retries.append(session(proto))
decoded_resp3()
print("redis-py %s transactions: %d checks passed (RESP2 and RESP3; WATCH retries: "
      "threads %d/%d, processes %d/%d)" % (redis.__version__, checks, retries[0][0],
                                            retries[1][0], retries[0][1], retries[1][1]))
