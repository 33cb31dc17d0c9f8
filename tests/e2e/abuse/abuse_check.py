#!/usr/bin/env python3
"""Abuse tests (issue 7, part 5): corewire under hostile clients while well-behaved
clients keep working.

Every scenario gets a fresh corewire --threads 2 (free loopback ports from --port-base)
with a RESP password (--requirepass), a PostgreSQL user with a password (--pg-user,
SCRAM-SHA-256), --maxclients 20000, and, when this build accepts them (`--check-config`),
--client-output-buffer-limit 'normal 32mb 8mb 10' (else the plain 32 MiB byte count),
--auth-timeout-ms 2000 and --auth-failure-limit 10 --auth-failure-window-ms 60000
(scenario 4 adds an ACL user, --user 'alice on >... ~* +@all'). A scenario that needs a
setting this build does not accept still runs, and the checks that depend on it FAIL
saying so.

Each scenario: start the server; start the well-behaved clients (wellbehaved.py, a
separate process: 4 redis-py clients SET/GET, 2 psycopg clients SELECT on kv, a new
login every 0.25 s alternating RESP AUTH and PostgreSQL password login); 3 s of baseline;
the abuse; 1 s after it; then stop. Recorded: p50/p99 latency of the well-behaved
requests in the baseline and during the abuse, their errors (must be 0), the server's
peak RSS (VmHWM and the largest VmRSS sampled every 50 ms from /proc/PID/status), and
whether the abuser was cut off as expected. Checked: the server is alive and serving
afterwards (RESP and SQL), the well-behaved clients completed every request with the
right result and were served during the abuse, peak RSS under 1 GiB (ABUSE_RSS_BOUND_MB),
no panic in the server log, and the scenario's own expectations. Latencies are reported,
never asserted.

Scenarios (abusers bind other loopback addresses, 127.0.0.x, so that per-IP limits do
not touch the good clients on 127.0.0.1):
  1a  GET of a 100 KB value pipelined without ever reading the replies (up to 2 GiB of
      requests, or until the server disconnects it): cut off by the output buffer limit.
  1b  SET of 1 MiB values pipelined without reading (2 GiB): the replies are tiny, so the
      server must take it all in bounded memory (or cut it off), never stall.
  2   500 PostgreSQL startups sent a byte every 0.25 s (and 100 RESP connections that
      never authenticate, likewise): closed by the auth timeout; password logins from
      127.0.0.1 work meanwhile.
  3   10,000 idle connections (5,000 RESP after AUTH, 5,000 PostgreSQL after a SCRAM
      login): all accepted, still answering after a hold; RSS per idle connection.
  4   bad passwords from 127.0.0.2 (RESP AUTH) and 127.0.0.3 (PostgreSQL SCRAM): counted
      in INFO stats acl_access_denied_auth, refused after the failure limit (even the
      right password, from those addresses); logins from 127.0.0.1 work.
  5   bulk length 2^40, multibulk count 2^40 (before and after AUTH; in a SET), a
      PostgreSQL startup length and Query length of 2^31-1: the Redis error text and a
      close, RSS unchanged.
  6   random bytes on the RESP and PostgreSQL ports (and the TLS port, raw and inside a
      TLS session, when this build has --tls-port): the server closes every one.

Output: PASS/FAIL lines (counted by tests/e2e/run.sh), a results table, and the results
as JSON in --report (default $ABUSE_REPORT or <logs>/abuse-report.json; a Markdown copy
next to it, .md). Servers' logs in --logs. --only 1a,3 runs some scenarios.
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import re
import resource
import select
import socket
import ssl
import struct
import subprocess
import sys
import time
import traceback
from array import array
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "ops"))
sys.path.insert(0, str(HERE))
import opslib  # noqa: E402
from opslib import RespConn, RespError, one_line  # noqa: E402
import abuselib as al  # noqa: E402
import wellbehaved  # noqa: E402

RPW = "abuse-resp-secret"
PG_USER, PG_PW = "app", "abuse-pg-secret"
OUT_LIMIT = 32 << 20
AUTH_TIMEOUT_MS = 2000
FAIL_LIMIT = 10
MAXCLIENTS = 20000
RSS_BOUND_KB = int(os.environ.get("ABUSE_RSS_BOUND_MB", "1024")) * 1024
BASELINE_S = 3.0
AFTER_S = 1.0
MIN_ABUSE_S = 2.0
GIB = 1 << 30

# Settings other parts of issue 7 add: used when this build accepts them.
OPTIONAL = {
    "auth-timeout-ms": ["--auth-timeout-ms", str(AUTH_TIMEOUT_MS)],
    "auth-failure-limit": ["--auth-failure-limit", str(FAIL_LIMIT), "--auth-failure-window-ms", "60000"],
    # Redis's form (hard, soft, soft seconds); else the plain byte count below.
    "client-output-buffer-limit": ["--client-output-buffer-limit", "normal %d %d 10" % (OUT_LIMIT, OUT_LIMIT // 4)],
}
SUPPORTED = {}  # feature -> (bool, why not)
SRC = {}  # role -> source address of the abusers
ARGS = None
CHECKS = None


# ----------------------------------------------------------------------------- setup
def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("COREWIRE_BIN", str(opslib.ROOT / "build" / "corewire")))
    p.add_argument("--logs", default=str(opslib.ROOT / "build" / "e2e" / "abuse"))
    p.add_argument("--port-base", type=int, default=20800)
    p.add_argument("--report", default=os.environ.get("ABUSE_REPORT", ""))
    p.add_argument("--only", default=os.environ.get("ABUSE_ONLY", ""), help="comma-separated scenario ids")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--idle-conns", type=int, default=int(os.environ.get("ABUSE_IDLE_CONNS", "10000")))
    p.add_argument("--flood-gib", type=float, default=float(os.environ.get("ABUSE_FLOOD_GIB", "2")))
    a = p.parse_args()
    a.bin = os.path.abspath(a.bin)
    a.logs = os.path.abspath(a.logs)
    Path(a.logs).mkdir(parents=True, exist_ok=True)
    a.report = os.path.abspath(a.report or os.path.join(a.logs, "abuse-report.json"))
    if a.seed is None:
        a.seed = random.SystemRandom().randrange(1, 1 << 31)
    return a


def raise_nofile(want=65536):
    """Enough descriptors for 10,000 connections on each side (the server inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for target in ((want, max(hard, want)), (min(want, hard), hard)):
        try:
            if soft < target[0]:
                resource.setrlimit(resource.RLIMIT_NOFILE, target)
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def detect_features():
    for name, flags in OPTIONAL.items():
        try:
            p = subprocess.run([ARGS.bin, "--check-config"] + flags, capture_output=True, text=True, timeout=20,
                               env=opslib.clean_env())
            SUPPORTED[name] = (p.returncode == 0, ((p.stderr or p.stdout).strip().splitlines() or [""])[0][:200])
        except (OSError, subprocess.TimeoutExpired) as e:
            SUPPORTED[name] = (False, str(e))
        ok, why = SUPPORTED[name]
        print("note: %s %s" % (" ".join(flags), "accepted by this build" if ok else "NOT accepted by this build: %s"
                               % why), flush=True)


def missing(feature):
    """"" if this build accepts the setting, else a note for a FAIL message."""
    ok, why = SUPPORTED.get(feature, (False, "not probed"))
    return "" if ok else " [this build does not accept --%s: %s]" % (feature, why)


def probe_sources():
    """Abusers bind 127.0.0.x (x > 1) so that the server sees other client IPs."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(16)
    port = lst.getsockname()[1]
    try:
        for role, addr in (("flood", "127.0.0.11"), ("slow", "127.0.0.12"), ("idle", "127.0.0.13"),
                           ("resp_auth", "127.0.0.2"), ("pg_auth", "127.0.0.3"), ("huge", "127.0.0.15"),
                           ("random", "127.0.0.16")):
            SRC[role] = addr if al.src_usable(addr, port) else None
    finally:
        lst.close()
    bad = [r for r, a in SRC.items() if a is None]
    if bad:
        print("note: cannot bind 127.0.0.x source addresses for %s: those abusers use 127.0.0.1" % bad, flush=True)


# ----------------------------------------------------------------------------- context
class Ctx:
    """One scenario's server, samplers and results row."""

    def __init__(self, sc):
        self.sc = sc
        self.srv = None
        self.sampler = None
        self.row = {"id": sc.id, "title": sc.title, "expected": sc.expected, "abuser": "", "as_expected": None,
                    "metrics": {}, "checks": [], "failures": [], "missing_settings": [f for f in sc.needs
                                                                                      if not SUPPORTED.get(f, (0,))[0]]}

    def check(self, what, cond, detail=""):
        CHECKS.ok("%s %s" % (self.sc.id, what), cond, detail)
        self.row["checks"].append({"what": what, "ok": bool(cond), "detail": detail})
        if not cond:
            self.row["failures"].append("%s: %s" % (what, detail) if detail else what)
        return bool(cond)

    def metric(self, **kw):
        self.row["metrics"].update(kw)

    def resp(self):
        c = RespConn(self.srv.port, timeout=10)
        r = c.call("AUTH", RPW)
        if r != "OK":
            c.close()
            raise RuntimeError("AUTH from 127.0.0.1: %r" % (r,))
        return c

    def info(self, section="stats"):
        c = self.resp()
        try:
            r = c.call("INFO", section)
            if isinstance(r, RespError):
                raise RuntimeError("INFO %s: %s" % (section, r))
            return al.info_fields(r.decode(errors="replace"))
        finally:
            c.close()

    def rss(self):
        return al.proc_status(self.srv.proc.pid).get("VmRSS")


# ----------------------------------------------------------------------------- helpers
def flood(port, src, make_chunk, limit_bytes, deadline_s, stall_s=10.0):
    """AUTH, then writes make_chunk(0), make_chunk(1), ... never reading, until
    limit_bytes are sent ("sent all"), the server drops the connection ("closed"), no
    byte could be written for stall_s ("stalled": the server stopped reading but kept the
    connection) or deadline_s passes ("deadline"). Returns a dict (with the socket)."""
    s = al.sock_from(port, src)
    s.sendall(al.enc("AUTH", RPW))
    got = b""
    while len(got) < 5:
        d = s.recv(5 - len(got))
        if not d:
            break
        got += d
    if got != b"+OK\r\n":
        s.close()
        raise RuntimeError("flood client AUTH: %r" % got)
    s.setblocking(False)
    t0 = time.monotonic()
    sent, idx, cur, stall_since, outcome, err = 0, 0, memoryview(b""), None, None, ""
    while True:
        if not cur:
            if sent >= limit_bytes:
                outcome = "sent all"
                break
            cur = memoryview(make_chunk(idx))
            idx += 1
        _, w, _ = select.select([], [s], [], 0.5)
        now = time.monotonic()
        if w:
            try:
                n = s.send(cur)
            except BlockingIOError:
                n = 0
            except OSError as e:
                outcome, err = "closed", type(e).__name__
                break
            cur = cur[n:]
            sent += n
            stall_since = None if n else (stall_since or now)
        else:
            stall_since = stall_since or now
        if stall_since is not None and now - stall_since >= stall_s:
            outcome = "stalled"
            break
        if now - t0 > deadline_s:
            outcome = "deadline"
            break
    return {"outcome": outcome, "sent": sent, "chunks": idx, "seconds": round(time.monotonic() - t0, 3),
            "error": err, "sock": s}


def good_pg_login():
    import psycopg
    with psycopg.connect(host="127.0.0.1", port=CUR.srv.pg_port, user=PG_USER, password=PG_PW, dbname="kv",
                         connect_timeout=10, autocommit=True) as c:
        return c.execute("SELECT 1").fetchone() == (1,)


def good_resp_login():
    c = RespConn(CUR.srv.port, timeout=10)
    try:
        return c.call("AUTH", RPW) == "OK" and c.call("PING") == "PONG"
    finally:
        c.close()


def server_log(srv, tail=None):
    """The server's output, less the command line opslib writes first (it holds the
    test passwords)."""
    lines = [line for line in srv.log().splitlines() if not line.startswith("# /")]
    return "\n".join(lines[-tail:] if tail else lines)


def try_(fn):
    try:
        return fn(), ""
    except Exception as e:  # noqa: BLE001
        return False, "%s: %s" % (type(e).__name__, one_line(str(e), 200))


CUR = None  # the running scenario's Ctx


# ============================================================================ scenarios
class Scenario:
    def __init__(self, id, title, expected, fn, needs=(), setup=None, extra_args=None):
        self.id, self.title, self.expected, self.fn = id, title, expected, fn
        self.needs, self.setup, self.extra_args = list(needs), setup, extra_args


# --------------------------------------------------------------------------- 1a / 1b
BIG = b"B" * 100_000
GET_CHUNK = al.enc("GET", "abuse:big") * 1000


def setup_big(ctx, c):
    if c.call("SET", "abuse:big", BIG) != "OK":
        raise RuntimeError("SET abuse:big failed")


def sc_get_flood(ctx):
    before = ctx.info("stats").get("client_output_buffer_limit_disconnections")
    limit = int(ARGS.flood_gib * GIB)
    runs, t_min = [], time.monotonic() + MIN_ABUSE_S
    while True:
        r = flood(ctx.srv.port, SRC["flood"], lambda i: GET_CHUNK, limit, deadline_s=60)
        r.pop("sock").close()
        runs.append(r)
        if len(runs) <= 3 or r["outcome"] != "closed":
            print("  1a flood client %d: %s after %.1f MB of requests in %.2f s%s" % (
                len(runs), r["outcome"], r["sent"] / 1e6, r["seconds"], " (%s)" % r["error"] if r["error"] else ""),
                flush=True)
        if r["outcome"] != "closed" or time.monotonic() >= t_min or len(runs) >= 500:
            break
    after = ctx.info("stats").get("client_output_buffer_limit_disconnections")
    closed = [r for r in runs if r["outcome"] == "closed"]
    max_mb = max(r["sent"] for r in runs) / 1e6
    ctx.metric(flood_clients=len(runs), cut_off=len(closed), max_sent_mb=round(max_mb, 1),
               max_seconds_to_cutoff=max((r["seconds"] for r in closed), default=None),
               outcomes={o: [r["outcome"] for r in runs].count(o) for o in {r["outcome"] for r in runs}},
               output_limit_disconnections=[before, after])
    ok = len(closed) == len(runs)
    ctx.row["abuser"] = "%d/%d cut off, <= %.1f MB sent (limit %d MiB)" % (len(closed), len(runs), max_mb,
                                                                           OUT_LIMIT >> 20)
    ctx.row["as_expected"] = ok
    ctx.check("every client pipelining GETs of a 100 KB value without reading was disconnected", ok,
              "outcomes %s; at most %.1f MB of requests sent (of %.1f GiB allowed)"
              % ({o: [r["outcome"] for r in runs].count(o) for o in {r["outcome"] for r in runs}}, max_mb,
                 ARGS.flood_gib))
    if before is not None and after is not None:
        ctx.check("INFO client_output_buffer_limit_disconnections counts them",
                  int(after) - int(before) >= len(closed), "%s -> %s for %d cut off" % (before, after, len(closed)))
    else:
        ctx.check("INFO client_output_buffer_limit_disconnections present", False, "field missing from INFO stats")


SET_VALUE = 1 << 20
SET_PREFIX = b"*3\r\n$3\r\nSET\r\n$9\r\nabuse:set\r\n$%d\r\n" % SET_VALUE
SET_FILLER = b"f" * (SET_VALUE - 17)


def set_chunk(i):
    return SET_PREFIX + b"seq:%012d:" % i + SET_FILLER + b"\r\n"


def sc_set_flood(ctx):
    limit = int(ARGS.flood_gib * GIB)
    r = flood(ctx.srv.port, SRC["flood"], set_chunk, limit, deadline_s=90)
    s = r.pop("sock")
    print("  1b flood client: %s after %.2f GiB (%d SETs of 1 MiB) in %.2f s%s" % (
        r["outcome"], r["sent"] / GIB, r["chunks"], r["seconds"], " (%s)" % r["error"] if r["error"] else ""),
        flush=True)
    ctx.metric(outcome=r["outcome"], sent_gib=round(r["sent"] / GIB, 3), sets=r["chunks"], seconds=r["seconds"],
               gib_per_s=round(r["sent"] / GIB / max(r["seconds"], 1e-6), 3))
    ctx.check("2 GiB of SETs pipelined without reading: the server took them (or cut the client off), never "
              "stalled", r["outcome"] in ("sent all", "closed", "deadline"),
              "outcome %s after %.2f GiB in %.1f s" % (r["outcome"], r["sent"] / GIB, r["seconds"]))
    if r["outcome"] == "sent all":
        s.setblocking(True)
        want = b"+OK\r\n" * r["chunks"]
        got, how = al.read_n(s, len(want), 60)
        ctx.check("every pipelined SET answered +OK once the client reads", got == want,
                  "%d SETs, %d reply bytes (%s)%s" % (r["chunks"], len(got), how,
                                                      "" if got == want else ": %r" % got[:80]))
        c = ctx.resp()
        try:
            v = c.call("GET", "abuse:set")
        finally:
            c.close()
        tag = b"seq:%012d:" % (r["chunks"] - 1)
        ctx.check("the last SET's value is stored", isinstance(v, bytes) and len(v) == SET_VALUE and v.startswith(tag),
                  "GET abuse:set: %r... (%s bytes)" % (v[:20] if isinstance(v, bytes) else v,
                                                       len(v) if isinstance(v, bytes) else "?"))
        ctx.row["abuser"] = "not cut off: %.2f GiB taken in %.1f s" % (r["sent"] / GIB, r["seconds"])
    else:
        ctx.row["abuser"] = "%s after %.2f GiB" % (r["outcome"], r["sent"] / GIB)
    ctx.row["as_expected"] = r["outcome"] in ("sent all", "closed", "deadline")
    s.close()


# ------------------------------------------------------------------------------- 2
def sc_slowloris(ctx):
    n_pg, n_resp = 500, 100
    has = not missing("auth-timeout-ms")
    pkt = al.startup_packet(PG_USER, "kv", application_name="s" * 300)
    rpkt = al.enc("AUTH", "x" * 300)
    conns, connect_errors = [], []
    for i in range(n_pg + n_resp):
        proto = "pg" if i < n_pg else "resp"
        try:
            s = al.sock_from(ctx.srv.pg_port if proto == "pg" else ctx.srv.port, SRC["slow"], timeout=10)
        except OSError as e:
            connect_errors.append(str(e))
            continue
        s.setblocking(False)
        conns.append({"s": s, "proto": proto, "t": time.monotonic(), "pos": 0, "closed": None, "data": b"",
                      "pkt": pkt if proto == "pg" else rpkt})
    t_all = time.monotonic()
    print("  2: %d slow connections open (%d PostgreSQL, %d RESP), %d connect errors" % (
        len(conns), sum(c["proto"] == "pg" for c in conns), sum(c["proto"] == "resp" for c in conns),
        len(connect_errors)), flush=True)

    def poll(c, now):
        try:
            d = c["s"].recv(4096)
        except BlockingIOError:
            return
        except OSError:
            c["closed"] = now
            return
        if not d:
            c["closed"] = now
        elif len(c["data"]) < 4096:
            c["data"] += d

    def trickle(now):
        for c in conns:
            if c["closed"] is None and c["pos"] < len(c["pkt"]) - 1:  # never the last byte
                try:
                    c["pos"] += c["s"].send(c["pkt"][c["pos"]:c["pos"] + 1])
                except BlockingIOError:
                    pass
                except OSError:
                    c["closed"] = now

    trickle(time.monotonic())
    # Password logins from 127.0.0.1 while the slow ones hold their sockets.
    logins = []
    for _ in range(3):
        t0 = time.monotonic()
        ok, why = try_(good_pg_login)
        logins.append((ok, why, time.monotonic() - t0))
    open_during = sum(c["closed"] is None for c in conns)
    watch = (AUTH_TIMEOUT_MS / 1000.0 + 20) if has else 8.0
    next_send = time.monotonic() + 0.25
    while time.monotonic() < t_all + watch:
        now = time.monotonic()
        for c in conns:
            if c["closed"] is None:
                poll(c, now)
        if now >= next_send:
            trickle(now)
            next_send = now + 0.25
        if all(c["closed"] is not None for c in conns):
            break
        time.sleep(0.05)
    for c in conns:
        c["s"].close()
    res = {}
    for proto in ("pg", "resp"):
        mine = [c for c in conns if c["proto"] == proto]
        closed = sorted(c["closed"] - c["t"] for c in mine if c["closed"] is not None)
        res[proto] = {"n": len(mine), "closed": len(closed), "p50_s": al.percentile(closed, 50) and round(
            al.percentile(closed, 50), 2), "max_s": round(closed[-1], 2) if closed else None,
            "sent_bytes_max": max((c["pos"] for c in mine), default=0),
            "server_said": sorted({c["data"][:120].decode(errors="replace") for c in mine if c["data"]})[:3]}
    ctx.metric(connections=res, connect_errors=len(connect_errors), watch_s=watch,
               good_logins_ms=[round(t * 1000, 1) for _, _, t in logins], open_during_logins=open_during)
    pg, rs = res["pg"], res["resp"]
    ctx.row["abuser"] = "closed %d/%d PG, %d/%d RESP; after p50 %s s, max %s s" % (
        pg["closed"], n_pg, rs["closed"], n_resp, pg["p50_s"], pg["max_s"])
    ctx.row["as_expected"] = pg["closed"] == n_pg and rs["closed"] == n_resp
    ctx.check("all %d slow PostgreSQL startups (a byte per 0.25 s) were closed by the server" % n_pg,
              pg["closed"] == n_pg and not connect_errors,
              "%d of %d closed within %.0f s (after p50 %s s, max %s s; auth-timeout-ms %d); %d connect errors; "
              "server sent %s%s" % (pg["closed"], pg["n"], watch, pg["p50_s"], pg["max_s"], AUTH_TIMEOUT_MS,
                                    len(connect_errors), pg["server_said"], missing("auth-timeout-ms")))
    ctx.check("all %d RESP connections that never authenticate were closed by the server" % n_resp,
              rs["closed"] == n_resp,
              "%d of %d closed within %.0f s (after p50 %s s, max %s s)%s" % (
                  rs["closed"], rs["n"], watch, rs["p50_s"], rs["max_s"], missing("auth-timeout-ms")))
    ctx.check("password logins over PostgreSQL from 127.0.0.1 succeed while the slow startups are open",
              all(ok for ok, _, _ in logins),
              "%d slow connections open; logins: %s" % (open_during, [(ok, why) for ok, why, _ in logins]))


# ------------------------------------------------------------------------------- 3
async def _idle(ctx, n_resp, n_pg, hold_s):
    sem = asyncio.Semaphore(200)
    src = SRC["idle"]
    resp_conns, pg_conns, errors = [], [], []

    async def open_resp():
        async with sem:
            try:
                r, w = await al.open_from("127.0.0.1", ctx.srv.port, src)
                w.write(al.enc("AUTH", RPW) + al.enc("PING"))
                await w.drain()
                a = await asyncio.wait_for(r.readline(), 20)
                b = await asyncio.wait_for(r.readline(), 20)
                if (a, b) != (b"+OK\r\n", b"+PONG\r\n"):
                    errors.append("RESP AUTH/PING: %r %r" % (a, b))
                    await al.close_writer(w)
                    return
                resp_conns.append((r, w))
            except Exception as e:  # noqa: BLE001
                errors.append("RESP connect: %s: %s" % (type(e).__name__, e))

    async def open_pg():
        async with sem:
            try:
                r, w = await al.open_from("127.0.0.1", ctx.srv.pg_port, src)
                how, fields = await asyncio.wait_for(al.pg_login(r, w, PG_USER, PG_PW), 20)
                if how != "ok":
                    errors.append("PG login: %s" % fields)
                    await al.close_writer(w)
                    return
                pg_conns.append((r, w))
            except Exception as e:  # noqa: BLE001
                errors.append("PG connect: %s: %s" % (type(e).__name__, e))

    rss0, fds0 = ctx.rss(), al.open_fds(ctx.srv.proc.pid)
    t0 = time.monotonic()
    await asyncio.gather(*([open_resp() for _ in range(n_resp)] + [open_pg() for _ in range(n_pg)]))
    t_open = time.monotonic() - t0
    print("  3: %d RESP + %d PostgreSQL idle connections logged in within %.1f s; %d errors" % (
        len(resp_conns), len(pg_conns), t_open, len(errors)), flush=True)
    th0 = time.monotonic()
    clients = await asyncio.get_running_loop().run_in_executor(None, lambda: try_(lambda: ctx.info("clients")))
    await asyncio.sleep(hold_s)
    th1 = time.monotonic()
    held_rss = ctx.sampler.max_between(th0, th1) or ctx.rss()
    fds_held = al.open_fds(ctx.srv.proc.pid)
    # Still there and answering, every one.
    bad = []

    async def ping_resp(r, w):
        async with sem:
            try:
                w.write(al.enc("PING"))
                await w.drain()
                a = await asyncio.wait_for(r.readline(), 20)
                if a != b"+PONG\r\n":
                    bad.append("RESP PING: %r" % a)
            except Exception as e:  # noqa: BLE001
                bad.append("RESP PING: %s: %s" % (type(e).__name__, e))

    async def select_pg(r, w):
        async with sem:
            try:
                rows, err = await asyncio.wait_for(al.pg_query(r, w, "SELECT 1"), 20)
                if rows != [["1"]] or err:
                    bad.append("PG SELECT 1: %r %r" % (rows, err))
            except Exception as e:  # noqa: BLE001
                bad.append("PG SELECT 1: %s: %s" % (type(e).__name__, e))

    await asyncio.gather(*([ping_resp(r, w) for r, w in resp_conns] + [select_pg(r, w) for r, w in pg_conns]))
    await asyncio.gather(*[al.close_writer(w) for _, w in resp_conns + pg_conns])
    # The server lets go of them (descriptors back near where they were; bounded wait).
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and al.open_fds(ctx.srv.proc.pid) > fds0 + 50:
        await asyncio.sleep(0.1)
    fds_after = al.open_fds(ctx.srv.proc.pid)
    return {"resp": len(resp_conns), "pg": len(pg_conns), "errors": errors, "bad": bad, "open_s": t_open,
            "rss0": rss0, "held_rss": held_rss, "fds0": fds0, "fds_held": fds_held, "fds_after": fds_after,
            "clients": clients, "rss_after_close": ctx.rss()}


def sc_idle(ctx):
    n = ARGS.idle_conns
    n_resp, n_pg = n - n // 2, n // 2
    r = asyncio.run(_idle(ctx, n_resp, n_pg, hold_s=5.0))
    per_conn_kb = (r["held_rss"] - r["rss0"]) / max(1, r["resp"] + r["pg"]) if r["held_rss"] and r["rss0"] else None
    clients, _ = r["clients"]
    connected = clients.get("connected_clients") if isinstance(clients, dict) else None
    ctx.metric(idle_resp=r["resp"], idle_pg=r["pg"], open_seconds=round(r["open_s"], 2),
               rss_before_mib=al.mib(r["rss0"]), rss_held_mib=al.mib(r["held_rss"]),
               rss_after_close_mib=al.mib(r["rss_after_close"]),
               rss_per_idle_conn_kib=None if per_conn_kb is None else round(per_conn_kb, 2),
               server_fds=[r["fds0"], r["fds_held"], r["fds_after"]], info_connected_clients=connected,
               first_errors=(r["errors"] + r["bad"])[:5])
    ok_all = r["resp"] == n_resp and r["pg"] == n_pg
    ctx.row["abuser"] = "%d/%d accepted, none dropped; %.1f KiB RSS per idle conn" % (
        r["resp"] + r["pg"], n, per_conn_kb or -1) if ok_all and not r["bad"] else "%d/%d accepted, %d failed after" % (
        r["resp"] + r["pg"], n, len(r["bad"]))
    ctx.row["as_expected"] = ok_all and not r["bad"]
    ctx.check("%d idle connections (%d RESP after AUTH, %d PostgreSQL after a SCRAM login) all accepted" % (
        n, n_resp, n_pg), ok_all, "%d RESP, %d PG logged in in %.1f s; first errors: %s" % (
        r["resp"], r["pg"], r["open_s"], r["errors"][:3]))
    ctx.check("after a 5 s hold every idle connection still answers (PING, SELECT 1)", not r["bad"] and ok_all,
              "%d failed: %s" % (len(r["bad"]), r["bad"][:3]))
    ctx.check("server descriptors released after the clients closed", r["fds_after"] <= r["fds0"] + 50,
              "open fds: %d before, %d held, %d after" % (r["fds0"], r["fds_held"], r["fds_after"]))
    print("  3: RSS %s MiB before, %s MiB held (%.2f KiB per idle connection), %s MiB after close; INFO "
          "connected_clients while held: %s" % (al.mib(r["rss0"]), al.mib(r["held_rss"]), per_conn_kb or -1,
                                                 al.mib(r["rss_after_close"]), connected), flush=True)


# ------------------------------------------------------------------------------- 4
async def _auth_flood(ctx, attempts, conc, min_s):
    resp = {"wrongpass": 0, "refused": 0, "closed": 0, "accepted": 0, "errors": 0, "texts": set()}
    pg = {"failed_28P01": 0, "refused": 0, "closed": 0, "accepted": 0, "errors": 0, "texts": set()}
    t_end_min = time.monotonic() + min_s
    hard_end = time.monotonic() + 30
    counter = {"resp": 0, "pg": 0}

    def more(kind):
        if time.monotonic() > hard_end:
            return False
        if counter[kind] >= attempts and time.monotonic() >= t_end_min:
            return False
        counter[kind] += 1
        return True

    async def resp_attacker(k):
        while more("resp"):
            try:
                r, w = await al.open_from("127.0.0.1", ctx.srv.port, SRC["resp_auth"])
            except Exception as e:  # noqa: BLE001
                resp["errors"] += 1
                resp["texts"].add("connect: %s" % e)
                await asyncio.sleep(0.05)
                continue
            try:
                for j in range(5):
                    if j and not more("resp"):
                        break
                    pw = "wrong-%d-%d" % (k, j)
                    users = [None, "default"] + (["alice"] if ACL_USER["args"] else [])
                    user = users[(k + j) % len(users)]
                    w.write(al.enc("AUTH", pw) if user is None else al.enc("AUTH", user, pw))
                    await w.drain()
                    line = await asyncio.wait_for(r.readline(), 10)
                    if not line:
                        resp["closed"] += 1
                        break
                    if line.startswith(b"-WRONGPASS"):
                        resp["wrongpass"] += 1
                    elif line.startswith(b"+OK"):
                        resp["accepted"] += 1
                    else:
                        resp["refused"] += 1
                        text = line.decode(errors="replace").strip()[:120]
                        resp["texts"].add(re.sub(r"in \d+ s", "in N s", text))
            except (ConnectionError, asyncio.IncompleteReadError):
                resp["closed"] += 1
            except Exception as e:  # noqa: BLE001
                resp["errors"] += 1
                resp["texts"].add("%s: %s" % (type(e).__name__, e))
            await al.close_writer(w)

    async def pg_attacker(k):
        while more("pg"):
            try:
                r, w = await al.open_from("127.0.0.1", ctx.srv.pg_port, SRC["pg_auth"])
            except Exception as e:  # noqa: BLE001
                pg["errors"] += 1
                pg["texts"].add("connect: %s" % e)
                await asyncio.sleep(0.05)
                continue
            try:
                user = PG_USER if counter["pg"] % 2 or not ACL_USER["args"] else "alice"
                how, fields = await asyncio.wait_for(al.pg_login(r, w, user, "wrong-%d" % k), 10)
                if how == "ok":
                    pg["accepted"] += 1
                elif fields.get("C") == "28P01":
                    pg["failed_28P01"] += 1
                else:
                    pg["refused"] += 1
                    text = "%s %s" % (fields.get("C"), fields.get("M", "")[:100])
                    pg["texts"].add(re.sub(r"in \d+ s", "in N s", text))
            except (ConnectionError, asyncio.IncompleteReadError):
                pg["closed"] += 1
            except Exception as e:  # noqa: BLE001
                pg["errors"] += 1
                pg["texts"].add("%s: %s" % (type(e).__name__, e))
            await al.close_writer(w)

    await asyncio.gather(*([resp_attacker(k) for k in range(conc)] + [pg_attacker(k) for k in range(conc)]))

    # The right password from the attackers' addresses, while they are locked out.
    async def resp_right():
        r, w = await al.open_from("127.0.0.1", ctx.srv.port, SRC["resp_auth"])
        try:
            w.write(al.enc("AUTH", RPW))
            await w.drain()
            return (await asyncio.wait_for(r.readline(), 10)).decode(errors="replace").strip() or "<closed>"
        except (ConnectionError, asyncio.IncompleteReadError):
            return "<closed>"
        finally:
            await al.close_writer(w)

    async def pg_right():
        r, w = await al.open_from("127.0.0.1", ctx.srv.pg_port, SRC["pg_auth"])
        try:
            how, fields = await asyncio.wait_for(al.pg_login(r, w, PG_USER, PG_PW), 10)
            return "ok" if how == "ok" else "%s %s" % (fields.get("C"), fields.get("M", "")[:100])
        except (ConnectionError, asyncio.IncompleteReadError):
            return "<closed>"
        finally:
            await al.close_writer(w)

    right = (await resp_right(), await pg_right())
    for d in (resp, pg):
        d["texts"] = sorted(d["texts"])[:5]
    return resp, pg, right, dict(counter)


ACL_USER = {"args": None}


def acl_user_args():
    """An ACL user (--user, Redis syntax) next to requirepass, when this build has it."""
    if ACL_USER["args"] is None:
        ACL_USER["args"] = []
        if opslib.has_flag("user"):
            args = ["--user", "alice on >alice-secret ~* +@all"]
            rc, out = opslib.run([ARGS.bin, "--check-config"] + args, timeout=20)
            if rc == 0:
                ACL_USER["args"] = args
            else:
                print("note: --user %r not accepted: %s" % (args[1], one_line(out, 200)), flush=True)
    return ACL_USER["args"]


def good_acl_login():
    c = RespConn(CUR.srv.port, timeout=10)
    try:
        return c.call("AUTH", "alice", "alice-secret") == "OK" and c.call("PING") == "PONG"
    finally:
        c.close()


def sc_auth_flood(ctx):
    info0 = ctx.info("stats")
    conc = 4
    resp, pg, right, counter = asyncio.run(_auth_flood(ctx, attempts=200, conc=conc, min_s=3.0))
    info1 = ctx.info("stats")
    good_resp, why_r = try_(good_resp_login)
    good_pg, why_p = try_(good_pg_login)
    good_acl, why_a = try_(good_acl_login) if ACL_USER["args"] else (True, "no ACL user in this build")
    field = "acl_access_denied_auth"
    a0, a1 = info0.get(field), info1.get(field)
    delta = int(a1) - int(a0) if a0 is not None and a1 is not None else None
    ctx.metric(resp=resp, pg=pg, attempts=counter, right_password_from_attacker={"resp": right[0], "pg": right[1]},
               info_stats={k: [info0.get(k), info1.get(k)] for k in (
                   field, "auth_failures_resp", "auth_failures_pg", "auth_rate_limited")},
               sources={"resp": SRC["resp_auth"], "pg": SRC["pg_auth"]})
    print("  4: RESP %s; PG %s; right password from the attackers' addresses: %s" % (resp, pg, right), flush=True)
    lim = not missing("auth-failure-limit")
    distinct = SRC["resp_auth"] not in (None, "127.0.0.1") and SRC["pg_auth"] not in (None, "127.0.0.1")
    ctx.check("the attackers use other loopback addresses than the good clients", distinct,
              "sources %s%s" % ({"resp": SRC["resp_auth"], "pg": SRC["pg_auth"]},
                                "" if distinct else ": cannot bind 127.0.0.2/3 here"))
    ctx.check("no bad password was accepted", resp["accepted"] == 0 and pg["accepted"] == 0,
              "RESP %d, PG %d accepted" % (resp["accepted"], pg["accepted"]))
    failures = resp["wrongpass"] + pg["failed_28P01"]
    ctx.check("failed logins counted in INFO stats %s" % field, delta is not None and delta >= failures,
              "%s -> %s (delta %s) for %d RESP WRONGPASS + %d PostgreSQL 28P01" % (
                  a0, a1, delta, resp["wrongpass"], pg["failed_28P01"]) + ("" if a0 is not None else
                                                                         " [field missing from INFO stats]"))
    # After the limit, attempts are refused (not checked): at most the limit (+ the
    # attempts in flight on the other concurrent connections) fail normally.
    slack = FAIL_LIMIT + conc
    r_ok = resp["wrongpass"] <= slack and resp["refused"] + resp["closed"] > 0 and right[0] != "OK"
    p_ok = pg["failed_28P01"] <= slack and pg["refused"] + pg["closed"] > 0 and right[1] != "ok"
    ctx.check("RESP AUTH from %s refused after %d failures (even the right password)" % (SRC["resp_auth"], FAIL_LIMIT),
              r_ok, "%d attempts: %d WRONGPASS (allowed <= %d), %d refused %s, %d closed; right password then: %r%s" % (
                  counter["resp"], resp["wrongpass"], slack, resp["refused"], resp["texts"], resp["closed"], right[0],
                  missing("auth-failure-limit")))
    ctx.check("PostgreSQL logins from %s refused after %d failures (even the right password)" % (
        SRC["pg_auth"], FAIL_LIMIT), p_ok,
        "%d attempts: %d 28P01 (allowed <= %d), %d refused %s, %d closed; right password then: %r%s" % (
            counter["pg"], pg["failed_28P01"], slack, pg["refused"], pg["texts"], pg["closed"], right[1],
            missing("auth-failure-limit")))
    ctx.check("good clients from 127.0.0.1 log in after the flood (RESP AUTH, ACL user, PostgreSQL SCRAM)",
              good_resp and good_pg and good_acl, "RESP %s %s, ACL user alice %s %s, PG %s %s" % (
                  good_resp, why_r, good_acl, why_a, good_pg, why_p))
    ctx.row["abuser"] = "RESP %d WRONGPASS then %d refused; PG %d 28P01 then %d refused" % (
        resp["wrongpass"], resp["refused"] + resp["closed"], pg["failed_28P01"], pg["refused"] + pg["closed"])
    ctx.row["as_expected"] = r_ok and p_ok and lim


# ------------------------------------------------------------------------------- 5
BULK_ERR = b"-ERR Protocol error: invalid bulk length\r\n"
MULTI_ERR = b"-ERR Protocol error: invalid multibulk length\r\n"
HUGE_CASES = [
    ("RESP bulk length 2^40", b"*1\r\n$1099511627776\r\n", BULK_ERR, False),
    ("RESP multibulk count 2^40", b"*1099511627776\r\n", MULTI_ERR, False),
    ("RESP SET with a 2^40 value", b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1099511627776\r\n", BULK_ERR, False),
    ("RESP bulk length 2^40 after AUTH", b"*1\r\n$1099511627776\r\n", BULK_ERR, True),
    ("RESP multibulk count 2^40 after AUTH", b"*1099511627776\r\n", MULTI_ERR, True),
    ("RESP bulk length 2^63-1", b"*1\r\n$9223372036854775807\r\n", BULK_ERR, False),
]


def huge_resp(port, payload, auth):
    s = al.sock_from(port, SRC["huge"])
    try:
        s.sendall((al.enc("AUTH", RPW) if auth else b"") + payload)
        return al.read_until_eof(s, 10)
    finally:
        s.close()


async def huge_pg(port, after_login):
    r, w = await al.open_from("127.0.0.1", port, SRC["huge"])
    got = b""
    try:
        if after_login:
            how, fields = await asyncio.wait_for(al.pg_login(r, w, PG_USER, PG_PW), 10)
            if how != "ok":
                return b"login failed: %r" % fields, "error"
            w.write(b"Q" + struct.pack("!i", 0x7FFFFFFF) + b"SELECT 1")
        else:
            w.write(struct.pack("!i", 0x7FFFFFFF) + struct.pack("!i", al.PG_PROTOCOL_3_0) + b"user\0")
        await w.drain()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            d = await asyncio.wait_for(r.read(65536), max(0.01, deadline - time.monotonic()))
            if not d:
                return got, "eof"
            got += d
        return got, "timeout"
    except asyncio.TimeoutError:
        return got, "timeout"
    except asyncio.IncompleteReadError:
        return got, "eof"
    except ConnectionError:
        return got, "reset"
    finally:
        await al.close_writer(w)


def sc_huge(ctx):
    rss0 = ctx.rss()
    t0 = time.monotonic()
    results = {name: [] for name, _, _, _ in HUGE_CASES}
    results["PG startup length 2^31-1"] = []
    results["PG Query length 2^31-1 after login"] = []
    rounds = 0
    while rounds < 20 or time.monotonic() < t0 + MIN_ABUSE_S:
        rounds += 1
        for name, payload, want, auth in HUGE_CASES:
            if results[name] and not results[name][-1][0]:
                continue  # failed once: reported below, not repeated
            got, how = huge_resp(ctx.srv.port, payload, auth)
            expect = (b"+OK\r\n" if auth else b"") + want
            results[name].append((got == expect and how in ("eof", "reset"), got, how))
        for name, after in (("PG startup length 2^31-1", False), ("PG Query length 2^31-1 after login", True)):
            if results[name] and not results[name][-1][0]:
                continue
            got, how = asyncio.run(huge_pg(ctx.srv.pg_port, after))
            ok = how in ("eof", "reset") and not got.startswith(b"login failed")
            results[name].append((ok, got, how))
        if time.monotonic() > t0 + 60:
            break
    t1 = time.monotonic()
    peak = ctx.sampler.max_between(t0, t1) or rss0
    rss1 = ctx.rss()
    grow_kb = (peak or 0) - (rss0 or 0)
    summary = {}
    for name, rs in results.items():
        last = rs[-1]
        summary[name] = {"tries": len(rs), "ok": all(r[0] for r in rs), "last_reply": last[1][:200].decode(
            errors="replace"), "last_end": last[2]}
    ctx.metric(rounds=rounds, cases=summary, rss_before_mib=al.mib(rss0), rss_peak_mib=al.mib(peak),
               rss_after_mib=al.mib(rss1), rss_growth_kib=grow_kb)
    for name, _, want, auth in HUGE_CASES:
        s = summary[name]
        ctx.check("%s: Redis error text and close" % name, s["ok"], "%d tries; expected %r then close, last got %r "
                  "then %s" % (s["tries"], ((b"+OK\r\n" if auth else b"") + want).decode(), s["last_reply"],
                               s["last_end"]))
    for name in ("PG startup length 2^31-1", "PG Query length 2^31-1 after login"):
        s = summary[name]
        ctx.check("%s: closed" % name, s["ok"], "%d tries; server sent %r then %s" % (
            s["tries"], s["last_reply"], s["last_end"]))
    ctx.check("no allocation for the announced lengths: RSS grew < 64 MiB", grow_kb < 64 * 1024,
              "VmRSS %s MiB before, peak %s MiB during, %s MiB after" % (al.mib(rss0), al.mib(peak), al.mib(rss1)))
    ok = all(s["ok"] for s in summary.values())
    ctx.row["abuser"] = "%s: %d rounds x %d cases; RSS +%.1f MiB" % (
        "all answered + closed" if ok else "NOT all closed", rounds, len(summary), grow_kb / 1024.0)
    ctx.row["as_expected"] = ok


# ------------------------------------------------------------------------------- 6
async def _garbage_one(port, rng, size, chunk, ssl_ctx, half_close, prelude):
    """One connection: the prelude (none, RESP AUTH or a PostgreSQL login), then size
    random bytes in chunk-byte writes, replies read meanwhile; then a half close (where
    the transport has one) and up to 15 s for the server to close."""
    t0 = time.monotonic()
    try:
        r, w = await al.open_from("127.0.0.1", port, SRC["random"], ssl=ssl_ctx)
    except Exception as e:  # noqa: BLE001
        return {"end": "connect error: %s" % type(e).__name__, "sent": 0, "read": 0}
    try:
        if prelude == "resp_auth":
            w.write(al.enc("AUTH", RPW))
            await w.drain()
            line = await asyncio.wait_for(r.readline(), 10)
            if line != b"+OK\r\n":
                await al.close_writer(w)
                return {"end": "AUTH failed: %r" % line[:60], "sent": 0, "read": 0}
        elif prelude == "pg_login":
            how, fields = await asyncio.wait_for(al.pg_login(r, w, PG_USER, PG_PW), 10)
            if how != "ok":
                await al.close_writer(w)
                return {"end": "login failed: %s" % fields.get("M"), "sent": 0, "read": 0}
    except Exception as e:  # noqa: BLE001
        await al.close_writer(w)
        return {"end": "prelude failed: %s" % type(e).__name__, "sent": 0, "read": 0}
    got = {"n": 0, "eof": None}

    async def reader():
        try:
            while True:
                d = await r.read(65536)
                if not d:
                    break
                got["n"] += len(d)
        except (ConnectionError, OSError, ssl.SSLError):
            pass
        got["eof"] = time.monotonic()

    rt = asyncio.ensure_future(reader())
    sent, during = 0, False
    try:
        while sent < size:
            n = min(chunk, size - sent)
            w.write(rng.randbytes(n))
            await asyncio.wait_for(w.drain(), 20)
            sent += n
            if got["eof"] is not None:
                during = True
                break
        if not during and half_close and w.can_write_eof():
            w.write_eof()
    except (ConnectionError, OSError, ssl.SSLError):
        during = True
    except asyncio.TimeoutError:
        pass
    try:
        await asyncio.wait_for(asyncio.shield(rt), 15)
        end = "closed while sending" if during else "closed after the last byte"
    except asyncio.TimeoutError:
        end = "still open 15 s after the last byte"
        rt.cancel()
    await al.close_writer(w)
    return {"end": end, "sent": sent, "read": got["n"], "seconds": time.monotonic() - t0}


async def _garbage(targets, seed, workers, duration_s):
    """Per target, workers tasks that open connection after connection for duration_s:
    80% send 16 B - 16 KiB in writes of 1 B - 1 MiB, 20% 1-8 MiB in 64 KiB writes."""
    rng = random.Random(seed)
    out = {t[0]: [] for t in targets}
    end_at = time.monotonic() + duration_s

    async def worker(name, port, ssl_ctx, half, prelude, r):
        while time.monotonic() < end_at:
            long = r.random() < 0.2
            size = r.randrange(1 << 20, 8 << 20) if long else r.randrange(16, 16 << 10)
            chunk = 64 << 10 if long else r.choice([1, 7, 512, 4096, 1 << 20])
            out[name].append(await _garbage_one(port, r, size, chunk, ssl_ctx, half, prelude))

    await asyncio.gather(*[worker(name, port, ssl_ctx, half, prelude, random.Random(rng.getrandbits(64)))
                           for name, port, ssl_ctx, half, prelude in targets for _ in range(workers)])
    return out


def tls_files():
    """A self-signed certificate for the TLS port (openssl), or None."""
    d = Path(ARGS.logs) / "tls"
    d.mkdir(exist_ok=True)
    cert, key = d / "cert.pem", d / "key.pem"
    if not (cert.exists() and key.exists()):
        rc, out = opslib.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                              str(cert), "-days", "2", "-subj", "/CN=localhost", "-addext",
                              "subjectAltName=DNS:localhost,IP:127.0.0.1"], timeout=60)
        if rc != 0:
            print("note: openssl failed (%d): %s: no TLS part in scenario 6" % (rc, one_line(out, 200)), flush=True)
            return None
    return cert, key


TLS = {"port": None, "args": []}


def tls_args():
    """--tls-port ... when this build accepts it (scenario 6 throws bytes at it too)."""
    if TLS["args"] or not opslib.has_flag("tls-port"):
        return TLS["args"]
    files = tls_files()
    if not files:
        return []
    args = ["--tls-cert-file", str(files[0]), "--tls-key-file", str(files[1])]
    rc, out = opslib.run([ARGS.bin, "--check-config", "--tls-port", "1"] + args, timeout=20)
    if rc != 0:
        print("note: --tls-port with a self-signed certificate not accepted: %s" % one_line(out, 200), flush=True)
        return []
    TLS["port"] = opslib.free_port()
    TLS["args"] = ["--tls-port", str(TLS["port"])] + args
    return TLS["args"]


def sc_random(ctx):
    targets = [("RESP", ctx.srv.port, None, True, None),
               ("RESP after AUTH", ctx.srv.port, None, True, "resp_auth"),
               ("PostgreSQL", ctx.srv.pg_port, None, True, None),
               ("PostgreSQL after login", ctx.srv.pg_port, None, True, "pg_login")]
    if TLS["port"]:
        c = ssl.create_default_context()
        c.check_hostname = False
        c.verify_mode = ssl.CERT_NONE
        targets += [("TLS port, raw", TLS["port"], None, True, None),
                    ("TLS port, inside a TLS session", TLS["port"], c, False, None)]
    seed, workers, duration = ARGS.seed, 6, 4.0
    print("  6: %d connections at a time per target for %.0f s (%s); random seed %d (--seed to replay)" % (
        workers, duration, ", ".join(t[0] for t in targets), seed), flush=True)
    out = asyncio.run(_garbage(targets, seed, workers, duration))
    summary, all_closed = {}, True
    for name, rs in out.items():
        ends = {}
        for r in rs:
            ends[r["end"]] = ends.get(r["end"], 0) + 1
        closed = sum(v for k, v in ends.items() if k.startswith("closed"))
        summary[name] = {"connections": len(rs), "closed": closed, "ends": ends,
                         "sent_mib": round(sum(r["sent"] for r in rs) / 2**20, 1),
                         "reply_kib": round(sum(r["read"] for r in rs) / 1024, 1)}
        ok = closed == len(rs) and len(rs) > 0
        all_closed &= ok
        note = missing("auth-timeout-ms") if name.endswith("TLS session") and not ok else ""
        ctx.check("random bytes on %s: the server closed every connection" % name, ok,
                  "%d connections: %s; %.1f MiB sent, %.1f KiB of replies%s" % (
                      len(rs), ends, summary[name]["sent_mib"], summary[name]["reply_kib"], note))
    if not TLS["port"]:
        print("  6: no TLS port in this build (or no certificate): TLS part not run", flush=True)
    ctx.metric(targets=summary, seed=seed, tls=bool(TLS["port"]))
    ctx.row["abuser"] = "; ".join("%s %d/%d closed, %.0f MiB" % (n, s["closed"], s["connections"], s["sent_mib"])
                                  for n, s in summary.items())
    ctx.row["as_expected"] = all_closed


SCENARIOS = [
    Scenario("1a", "pipelined GETs of a 100 KB value, never reading", "cut off by the output buffer limit",
             sc_get_flood, setup=setup_big),
    Scenario("1b", "pipelined 1 MiB SETs (2 GiB), never reading", "taken in bounded memory (or cut off)",
             sc_set_flood),
    Scenario("2", "slowloris: 500 PG startups + 100 RESP, a byte per 0.25 s", "closed by the auth timeout",
             sc_slowloris, needs=["auth-timeout-ms"]),
    Scenario("3", "10,000 idle connections (RESP + PG, logged in)", "all accepted and kept", sc_idle),
    Scenario("4", "bad-password flood from 127.0.0.2/.3 (RESP + PG)", "counted; refused after the limit",
             sc_auth_flood, needs=["auth-failure-limit"], extra_args=acl_user_args),
    Scenario("5", "bulk length / multibulk count 2^40, PG length 2^31-1", "error reply + close, no allocation",
             sc_huge),
    Scenario("6", "random bytes on every port", "closed", sc_random, extra_args=tls_args),
]


# ============================================================================ runner
def base_args(sc):
    args = ["--requirepass", RPW, "--pg-user", "%s:%s" % (PG_USER, PG_PW), "--maxclients", str(MAXCLIENTS)]
    if not SUPPORTED.get("client-output-buffer-limit", (False,))[0]:
        args += ["--client-output-buffer-limit", str(OUT_LIMIT)]
    for name, flags in OPTIONAL.items():
        if SUPPORTED.get(name, (False,))[0]:
            args += flags
    if sc.extra_args:
        args += sc.extra_args()
    return args


def phase_stats(res, t0, t1):
    out = {}
    for kind in wellbehaved.KINDS:
        starts, lats = array("d"), array("d")
        starts.frombytes(res["start"][kind])
        lats.frombytes(res["lat"][kind])
        vals = sorted(l for s, l in zip(starts, lats) if t0 <= s < t1)
        out[kind] = {"n": len(vals), "p50_ms": al.ms(al.percentile(vals, 50)), "p99_ms": al.ms(al.percentile(vals, 99)),
                     "max_ms": al.ms(vals[-1] if vals else None)}
    return out


def run_scenario(sc):
    global CUR
    ctx = Ctx(sc)
    CUR = ctx
    row = ctx.row
    t_start = time.monotonic()
    print("\n--- abuse %s: %s (expected: %s)" % (sc.id, sc.title, sc.expected), flush=True)
    for f in row["missing_settings"]:
        print("note: %s needs --%s, which this build does not accept: the checks that depend on it will FAIL"
              % (sc.id, f), flush=True)
    srv = opslib.Server("abuse-%s" % sc.id, args=base_args(sc), threads=2)
    ctx.srv = srv
    row["server_args"] = [a.replace(RPW, "<secret>").replace(PG_PW, "<secret>").replace("alice-secret", "<secret>")
                          for a in srv.argv[1:]]
    srv.start()
    if not (srv.wait_ready(20) and opslib.wait_until(lambda: try_(good_resp_login)[0], 10)):
        ctx.check("server starts", False, "exit status %s; log: %s" % (srv.proc.poll(), one_line(server_log(srv, 5))))
        srv.stop()
        row["result"] = "FAIL"
        return row
    # Seed: the keys the psycopg clients read, and the scenario's own.
    c = ctx.resp()
    try:
        items = wellbehaved.pg_seed_items()
        r = c.call("MSET", *[x for kv in items.items() for x in kv])
        if r != "OK":
            raise RuntimeError("MSET seed: %r" % (r,))
        if sc.setup:
            sc.setup(ctx, c)
    finally:
        c.close()
    ctx.sampler = al.RssSampler(srv.proc.pid)
    ctx.sampler.start()
    mp = multiprocessing.get_context("spawn")
    conn, child_conn = mp.Pipe()
    cfg = {"resp_port": srv.port, "pg_port": srv.pg_port, "password": RPW, "pg_user": PG_USER, "pg_password": PG_PW,
           "redis_clients": 4, "pg_clients": 2, "interval_s": 0.005, "pg_interval_s": 0.01, "login_interval_s": 0.25,
           "max_s": 600}
    load = mp.Process(target=wellbehaved.run, args=(cfg, child_conn), daemon=True)
    load.start()
    child_conn.close()
    res = None
    try:
        if not conn.poll(60):
            raise RuntimeError("well-behaved clients did not start within 60 s")
        first = conn.recv()
        if not first.get("ready"):
            raise RuntimeError("well-behaved clients could not start: %s" % first.get("error"))
        tb0 = time.monotonic()
        time.sleep(BASELINE_S)
        tb1 = ta0 = time.monotonic()
        try:
            sc.fn(ctx)
        except Exception as e:  # noqa: BLE001 - one FAIL, then the common checks
            ctx.check("abuse ran", False, "%s: %s (%s)" % (type(e).__name__, one_line(str(e)), opslib.where(e)))
            traceback.print_exc(file=sys.stdout)
        ta1 = time.monotonic()
        time.sleep(AFTER_S)
        tend = time.monotonic()
        conn.send("stop")
        if not conn.poll(90):
            raise RuntimeError("well-behaved clients did not report within 90 s of being stopped")
        res = conn.recv()
    except Exception as e:  # noqa: BLE001
        ctx.check("well-behaved clients ran", False, "%s: %s" % (type(e).__name__, one_line(str(e))))
    finally:
        with contextlib.suppress(OSError, ValueError):
            conn.send("stop")
        load.join(10)
        if load.is_alive():
            load.kill()
            load.join(5)
        conn.close()
    ctx.sampler.stop()
    if res is not None:
        base, abuse, after = phase_stats(res, tb0, tb1), phase_stats(res, ta0, ta1), phase_stats(res, ta1, tend)
        row.update(baseline=base, abuse=abuse, after=after, abuse_seconds=round(ta1 - ta0, 2),
                   wb_errors=res["errors"], wb_error_msgs=res["error_msgs"],
                   wb_requests={"baseline": sum(v["n"] for v in base.values()),
                                "abuse": sum(v["n"] for v in abuse.values()),
                                "after": sum(v["n"] for v in after.values())})
        ctx.check("well-behaved clients: every request completed with the right result (0 errors)",
                  res["errors"] == 0, "%d requests (%d during the abuse), %d errors%s" % (
                      sum(row["wb_requests"].values()), row["wb_requests"]["abuse"], res["errors"],
                      ": %s" % res["error_msgs"][:3] if res["errors"] else ""))
        ctx.check("well-behaved clients were served during the abuse (RESP and SQL)",
                  abuse["resp"]["n"] > 0 and abuse["pg"]["n"] > 0 and after["resp"]["n"] > 0 and after["pg"]["n"] > 0,
                  "during %.1f s: %d RESP, %d SQL, %d+%d logins; after: %d RESP, %d SQL" % (
                      ta1 - ta0, abuse["resp"]["n"], abuse["pg"]["n"], abuse["login_resp"]["n"],
                      abuse["login_pg"]["n"], after["resp"]["n"], after["pg"]["n"]))
        print("  %s latency p50/p99 ms: RESP %s/%s -> %s/%s, SQL %s/%s -> %s/%s, logins p99 %s/%s -> %s/%s" % (
            sc.id, base["resp"]["p50_ms"], base["resp"]["p99_ms"], abuse["resp"]["p50_ms"], abuse["resp"]["p99_ms"],
            base["pg"]["p50_ms"], base["pg"]["p99_ms"], abuse["pg"]["p50_ms"], abuse["pg"]["p99_ms"],
            base["login_resp"]["p99_ms"], base["login_pg"]["p99_ms"], abuse["login_resp"]["p99_ms"],
            abuse["login_pg"]["p99_ms"]), flush=True)
    alive = srv.alive()
    serving = alive and try_(good_resp_login)[0] and try_(good_pg_login)[0]
    ctx.check("server alive and serving RESP and SQL afterwards", alive and serving,
              "" if alive and serving else "alive %s, serving %s; exit status %s; log: %s" % (
                  alive, serving, srv.proc.poll(), one_line(server_log(srv, 5))))
    st = al.proc_status(srv.proc.pid) if alive else {}
    hwm = max(ctx.sampler.hwm, st.get("VmHWM", 0))
    max_rss = ctx.sampler.max_all()
    row["rss"] = {"vmhwm_mib": al.mib(hwm), "max_vmrss_mib": al.mib(max_rss),
                  "before_abuse_mib": al.mib(ctx.sampler.last_before(ta0) if res is not None else None),
                  "bound_mib": RSS_BOUND_KB // 1024}
    ctx.check("peak RSS under %d MiB" % (RSS_BOUND_KB // 1024),
              hwm and hwm < RSS_BOUND_KB and (max_rss or 0) < RSS_BOUND_KB,
              "VmHWM %s MiB, max sampled VmRSS %s MiB" % (al.mib(hwm), al.mib(max_rss)))
    rc = srv.stop()
    if alive:
        ctx.check("server exits 0 on SIGTERM afterwards", rc == 0, "exit status %s" % rc)
    log = server_log(srv)
    panics = [line for line in log.splitlines() if "panicked" in line or "SIGSEGV" in line or "Aborted" in line]
    ctx.check("no panic in the server log", not panics, one_line("\n".join(panics[:3])))
    leaked = [pw for pw in (RPW, PG_PW, "alice-secret", "wrong-") if pw in log]
    ctx.check("no password (right or wrong) in the server log", not leaked, "found %s" % leaked)
    row["duration_s"] = round(time.monotonic() - t_start, 1)
    row["result"] = "PASS" if not row["failures"] else "FAIL"
    return row


# ============================================================================ report
def fmt_pair(d, kind):
    if not d or kind not in d or d[kind]["n"] == 0:
        return "-"
    return "%s/%s" % (d[kind]["p50_ms"], d[kind]["p99_ms"])


def table(rows):
    lines = ["| # | abuse | RESP p50/p99 ms base -> abuse | SQL p50/p99 ms base -> abuse | login p99 ms abuse "
             "(RESP, PG) | good requests during / errors | VmHWM / max VmRSS MiB | abuser | result |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        b, a = r.get("baseline"), r.get("abuse")
        login = "-" if not a else "%s, %s" % (a["login_resp"]["p99_ms"] if a["login_resp"]["n"] else "-",
                                              a["login_pg"]["p99_ms"] if a["login_pg"]["n"] else "-")
        req = "-" if "wb_requests" not in r else "%d / %d" % (r["wb_requests"]["abuse"], r["wb_errors"])
        rss = r.get("rss", {})
        result = r.get("result", "FAIL")
        if r.get("missing_settings"):
            result += " (no --%s)" % ", --".join(r["missing_settings"])
        lines.append("| %s | %s | %s -> %s | %s -> %s | %s | %s | %s / %s | %s | %s |" % (
            r["id"], r["title"], fmt_pair(b, "resp"), fmt_pair(a, "resp"), fmt_pair(b, "pg"), fmt_pair(a, "pg"),
            login, req, rss.get("vmhwm_mib", "-"), rss.get("max_vmrss_mib", "-"),
            {True: "as expected: ", False: "NOT as expected: "}.get(r.get("as_expected"), "")
            + r.get("abuser", "").replace("|", "/"), result))
    return "\n".join(lines)


def main():
    global ARGS, CHECKS
    ARGS = parse_args()
    opslib.ARGS = ARGS
    import atexit
    import signal
    atexit.register(opslib.stop_all)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, opslib._on_signal)
    CHECKS = opslib.Checks("abuse")
    started = time.time()
    if not os.access(ARGS.bin, os.X_OK):
        CHECKS.fail("corewire binary", "missing %s (make)" % ARGS.bin)
        CHECKS.finish()
    if not opslib.require_modules(CHECKS, ["redis", "psycopg"]):
        CHECKS.finish()
    nofile = raise_nofile()
    print("note: RLIMIT_NOFILE %s; seed %d; logs in %s" % (nofile, ARGS.seed, ARGS.logs), flush=True)
    if nofile[0] < ARGS.idle_conns + 2000:
        print("note: RLIMIT_NOFILE %d is low for %d idle connections (run as root or raise ulimit -n)"
              % (nofile[0], ARGS.idle_conns), flush=True)
    detect_features()
    probe_sources()
    only = {x.strip() for x in ARGS.only.replace(" ", ",").split(",") if x.strip()}
    rows = []
    for sc in SCENARIOS:
        if only and sc.id not in only:
            continue
        try:
            rows.append(run_scenario(sc))
        except Exception as e:  # noqa: BLE001
            CHECKS.fail("%s scenario" % sc.id, "%s: %s (%s)" % (type(e).__name__, one_line(str(e)), opslib.where(e)))
            traceback.print_exc(file=sys.stdout)
            rows.append({"id": sc.id, "title": sc.title, "result": "FAIL", "failures": [str(e)]})
        finally:
            opslib.stop_all()
    md = table(rows)
    print("\nAbuse results (corewire --threads 2; latencies of the well-behaved clients; RSS of the server):")
    print(md, flush=True)
    failed = [r for r in rows if r.get("result") != "PASS"]
    doc = {"generated_unix": int(started), "seconds": round(time.time() - started, 1), "binary": ARGS.bin,
           "seed": ARGS.seed, "settings_accepted": {k: v[0] for k, v in SUPPORTED.items()},
           "sources": SRC, "rss_bound_mib": RSS_BOUND_KB // 1024, "scenarios": rows,
           "failed": [{"id": r["id"], "failures": r.get("failures", [])} for r in failed]}
    try:
        Path(ARGS.report).parent.mkdir(parents=True, exist_ok=True)
        Path(ARGS.report).write_text(json.dumps(doc, indent=2, default=str) + "\n")
        Path(ARGS.report).with_suffix(".md").write_text(md + "\n")
        print("report: %s (and %s)" % (ARGS.report, Path(ARGS.report).with_suffix(".md")), flush=True)
    except OSError as e:
        CHECKS.fail("writing the report %s" % ARGS.report, str(e))
    CHECKS.finish()


if __name__ == "__main__":
    main()
