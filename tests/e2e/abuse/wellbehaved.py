"""The well-behaved clients of the abuse checks (tests/e2e/abuse/abuse_check.py).

run() is the body of a separate process (multiprocessing "spawn"), so that the
abusers' Python work in the main process does not distort these clients' latencies
(nor the other way round). It runs, until told to stop:
  - REDIS_CLIENTS redis-py clients (one connection each, AUTH on connect): SET of a key
    of their own to a new value, then GET of it, which must return that value;
  - PG_CLIENTS psycopg 3 clients (one session each, password login): SELECT value FROM
    kv WHERE key = %s over keys seeded before the run, which must return the seeded
    value;
  - one login client: every LOGIN_INTERVAL_S a new connection, alternately redis-py
    (AUTH + PING) and psycopg (password login + SELECT 1), then closed.
Each client paces itself (one request per INTERVAL_S) so that latency, not throughput,
is what is measured. No retries: redis-py is given a Retry of 0 attempts, so that every
failure is seen. An exception or a wrong result is one error (its message kept); the
client then reconnects and goes on.

Every request is recorded as (start time on CLOCK_MONOTONIC, latency in seconds, kind);
CLOCK_MONOTONIC is system-wide, so the main process splits the samples into its own
phases (baseline, abuse, after) by time.
"""

import random
import sys
import threading
import time
from array import array

KINDS = ("resp", "pg", "login_resp", "login_pg")


def pg_seed_items(n=100):
    """The keys the psycopg clients read, with their values (seeded through RESP: db 0
    is table kv)."""
    return {"wb:pg:%03d" % k: "pg-value-%03d-%s" % (k, "x" * (k % 37)) for k in range(n)}


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.start = {k: array("d") for k in KINDS}
        self.lat = {k: array("d") for k in KINDS}
        self.errors = 0
        self.error_msgs = []

    def ok(self, kind, t0, t1):
        with self.lock:
            self.start[kind].append(t0)
            self.lat[kind].append(t1 - t0)

    def error(self, kind, t0, msg):
        with self.lock:
            self.errors += 1
            if len(self.error_msgs) < 20:
                self.error_msgs.append("%.3f %s: %s" % (t0, kind, msg[:300]))


class Stop(Exception):
    pass


def _pace(stop, next_at, interval):
    """Sleeps until next_at (or returns at once if late); returns the next slot."""
    delay = next_at - time.monotonic()
    if delay > 0:
        if stop.wait(delay):
            raise Stop()
    elif stop.is_set():
        raise Stop()
    return max(next_at + interval, time.monotonic())


def _redis(cfg):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    return redis.Redis(host="127.0.0.1", port=cfg["resp_port"], password=cfg["password"], socket_timeout=10,
                       socket_connect_timeout=10, retry=Retry(NoBackoff(), 0), single_connection_client=True)


def _pg(cfg):
    import psycopg
    return psycopg.connect(host="127.0.0.1", port=cfg["pg_port"], user=cfg["pg_user"], password=cfg["pg_password"],
                           dbname="kv", connect_timeout=10, autocommit=True)


def redis_client(cfg, idx, rec, stop):
    rng = random.Random(idx)
    r, n, next_at = None, 0, time.monotonic()
    while True:
        try:
            next_at = _pace(stop, next_at, cfg["interval_s"])
        except Stop:
            break
        n += 1
        key = "wb:resp:%d:%d" % (idx, n % 64)
        value = ("%d-%d-" % (idx, n) + "v" * rng.randrange(0, 200)).encode()
        kind, t0 = "resp", time.monotonic()
        try:
            if r is None:
                r = _redis(cfg)
            got = r.set(key, value)
            t1 = time.monotonic()
            if got is not True:
                raise AssertionError("SET %s returned %r" % (key, got))
            rec.ok(kind, t0, t1)
            t0 = time.monotonic()
            got = r.get(key)
            t1 = time.monotonic()
            if got != value:
                raise AssertionError("GET %s returned %r, expected %r" % (key, got, value))
            rec.ok(kind, t0, t1)
        except Exception as e:  # noqa: BLE001 - every failure is one error; reconnect
            rec.error(kind, t0, "%s: %s" % (type(e).__name__, e))
            r = _close(r)
    _close(r)


def pg_client(cfg, idx, rec, stop):
    items = list(pg_seed_items().items())
    rng = random.Random(100 + idx)
    conn, next_at = None, time.monotonic()
    while True:
        try:
            next_at = _pace(stop, next_at, cfg["pg_interval_s"])
        except Stop:
            break
        key, want = rng.choice(items)
        kind, t0 = "pg", time.monotonic()
        try:
            if conn is None:
                conn = _pg(cfg)
                t0 = time.monotonic()
            row = conn.execute("SELECT value FROM kv WHERE key = %s", (key,)).fetchone()
            t1 = time.monotonic()
            if row != (want,):
                raise AssertionError("SELECT value of %s returned %r, expected %r" % (key, row, want))
            rec.ok(kind, t0, t1)
        except Exception as e:  # noqa: BLE001
            rec.error(kind, t0, "%s: %s" % (type(e).__name__, e))
            conn = _close(conn)
    _close(conn)


def login_client(cfg, rec, stop):
    n, next_at = 0, time.monotonic()
    while True:
        try:
            next_at = _pace(stop, next_at, cfg["login_interval_s"])
        except Stop:
            break
        n += 1
        kind = "login_resp" if n % 2 else "login_pg"
        t0 = time.monotonic()
        c = None
        try:
            if kind == "login_resp":
                c = _redis(cfg)
                got = c.ping()
                if got is not True:
                    raise AssertionError("PING after AUTH returned %r" % (got,))
            else:
                c = _pg(cfg)
                row = c.execute("SELECT 1").fetchone()
                if row != (1,):
                    raise AssertionError("SELECT 1 returned %r" % (row,))
            rec.ok(kind, t0, time.monotonic())
        except Exception as e:  # noqa: BLE001
            rec.error(kind, t0, "%s: %s" % (type(e).__name__, e))
        _close(c)


def _close(c):
    if c is not None:
        try:
            c.close()
        except Exception:  # noqa: BLE001 - closing a broken client
            pass
    return None


def run(cfg, conn):
    """Process body; conn is its end of a multiprocessing Pipe (no shared locks: a
    process killed mid-run cannot leave the other blocked). Sends {"ready": ...} once
    every client is connected (or failed to), runs until "stop" arrives (or the pipe
    closes: the parent is gone), then sends the results."""
    sys.setswitchinterval(0.0005)
    rec = Recorder()
    threads = []
    tstop = threading.Event()
    try:
        for i in range(cfg["redis_clients"]):
            threads.append(threading.Thread(target=redis_client, args=(cfg, i, rec, tstop), daemon=True))
        for i in range(cfg["pg_clients"]):
            threads.append(threading.Thread(target=pg_client, args=(cfg, i, rec, tstop), daemon=True))
        threads.append(threading.Thread(target=login_client, args=(cfg, rec, tstop), daemon=True))
        # Check the clients can connect at all before the baseline starts.
        r = _redis(cfg)
        r.ping()
        r.close()
        c = _pg(cfg)
        c.execute("SELECT 1")
        c.close()
        for t in threads:
            t.start()
        conn.send({"ready": True})
    except Exception as e:  # noqa: BLE001
        conn.send({"ready": False, "error": "%s: %s" % (type(e).__name__, e)})
        tstop.set()
        return
    deadline = time.monotonic() + cfg.get("max_s", 600)
    while time.monotonic() < deadline:
        try:
            if conn.poll(0.2) and conn.recv() == "stop":
                break
        except (EOFError, OSError):
            break
    tstop.set()
    for t in threads:
        t.join(30)
    alive = sum(t.is_alive() for t in threads)
    try:
        conn.send({
            "start": {k: rec.start[k].tobytes() for k in KINDS},
            "lat": {k: rec.lat[k].tobytes() for k in KINDS},
            "errors": rec.errors + alive,
            "error_msgs": rec.error_msgs + (["%d client threads did not stop within 30 s" % alive] if alive else []),
        })
    except (OSError, EOFError):
        pass
