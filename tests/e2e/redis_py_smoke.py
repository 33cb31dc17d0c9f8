#!/usr/bin/env python3
"""redis-py against the server under test, RESP2 and RESP3.

Usage: redis_py_smoke.py PORT
redis-py 5+ sends CLIENT SETINFO on connect and speaks RESP3 with protocol=3.
"""

import sys

import redis

port = int(sys.argv[1])
checks = 0


def check(what, got, want):
    global checks
    checks += 1
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


for proto in (2, 3):
    r = redis.Redis(host="127.0.0.1", port=port, protocol=proto, socket_timeout=10,
                    socket_connect_timeout=5)
    p = "resp%d" % proto
    check(p + " ping", r.ping(), True)
    check(p + " flushall", r.flushall(), True)
    check(p + " set", r.set("k", "v"), True)
    check(p + " get", r.get("k"), b"v")
    check(p + " get missing", r.get("missing"), None)
    check(p + " set nx existing", r.set("k", "w", nx=True), None)
    check(p + " set xx missing", r.set("nope", "w", xx=True), None)
    check(p + " set get", r.set("k", "w", get=True), b"v")
    check(p + " binary", r.set(b"b\x00\r\n", b"\x00\xff\r\n") and r.get(b"b\x00\r\n"),
          b"\x00\xff\r\n")
    check(p + " incr", r.incr("n"), 1)
    check(p + " incrby", r.incrby("n", 41), 42)
    check(p + " decr", r.decr("n"), 41)
    check(p + " decrby", r.decrby("n", 40), 1)
    try:
        r.incr("k")
        check(p + " incr non-integer raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check(p + " incr non-integer error", str(e), "value is not an integer or out of range")
    check(p + " mset", r.mset({"a": "1", "b": "2"}), True)
    check(p + " mget", r.mget(["a", "missing", "b"]), [b"1", None, b"2"])
    check(p + " exists", r.exists("a", "b", "missing"), 2)
    check(p + " delete", r.delete("a", "missing"), 1)
    check(p + " dbsize", r.dbsize(), 4)
    check(p + " echo", r.echo("hi"), b"hi")
    check(p + " client setname", r.client_setname("smoke"), True)
    name = r.client_getname()  # redis-py decodes this one itself
    check(p + " client getname", name.decode() if isinstance(name, bytes) else name, "smoke")
    check(p + " client id is int", isinstance(r.client_id(), int), True)
    cfg = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
           for k, v in r.config_get("save").items()}
    check(p + " config get save", cfg, {"save": ""})
    info = r.info("keyspace")
    check(p + " info keyspace keys", info.get("db0", {}).get("keys"), 4)

    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set("p%d" % i, i)
    for i in range(100):
        pipe.incr("p%d" % i)
    pipe.get("p99")
    pipe.get("missing")
    res = pipe.execute()
    check(p + " pipeline sets", res[:100], [True] * 100)
    check(p + " pipeline incrs", res[100:200], list(range(1, 101)))
    check(p + " pipeline tail", res[200:], [b"100", None])

    big = bytes(range(256)) * 4096  # 1 MiB
    check(p + " 1 MiB set", r.set("big", big), True)
    check(p + " 1 MiB get", r.get("big"), big)

    s = redis.Redis(host="127.0.0.1", port=port, protocol=proto, decode_responses=True,
                    socket_timeout=10)
    check(p + " decoded get", s.get("k"), "w")
    check(p + " decoded mget", s.mget("k", "missing"), ["w", None])
    s.close()
    check(p + " flushdb", r.flushdb(), True)
    check(p + " dbsize after flushdb", r.dbsize(), 0)
    r.close()

print("redis-py %s: %d checks passed (RESP2 and RESP3)" % (redis.__version__, checks))
