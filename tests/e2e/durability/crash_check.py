#!/usr/bin/env python3
"""Crash cycles (issue 5, section 5): corewire --data-dir DIR --appendfsync always|everysec
under load from writer clients, SIGKILLed at a random moment (0.2-1.5 s into the load),
restarted on the same data dir and checked, over and over (default 12 cycles under
`always`, then 8 under `everysec`, on one data dir).

Writers (one thread each, one connection each; every writer owns its keys, so the order
of the writes to a key is the order its writer sent them):
  set0, set1     RESP SET k v / DEL k, pipelined 1-8 deep, db 0
  set3           the same in db 3
  bulk           RESP SET of new keys (each written once), pipelined 1-32 deep
  multi          RESP MULTI; SET a t; SET b t; SET c t; EXEC (or DEL a; DEL b; DEL c),
                 1-3 transactions pipelined
  mset           RESP MSET of a group of 5 keys, all with the same tag
  sqltx          psycopg BEGIN; INSERT .. ON CONFLICT DO UPDATE (2 keys); INSERT .. DO
                 NOTHING + UPDATE (2 keys); COMMIT (or DELETE of the group): 4 keys, one tag
  sqlauto        psycopg autocommit INSERT of 4 rows ON CONFLICT DO UPDATE, one tag
Every value is unique (writer, cycle, sequence number) plus padding of 0-1500 bytes. A
write counts as acknowledged when its reply came back (EXEC's array, COMMIT's success).
Just before the kill the control connection writes keys with a short PX (gone by the
verification) and a long one (600 s); 0-0.15 s keys written at the start of the load
expire during it. Some cycles force checkpoints: a small --checkpoint-log-bytes (so
they happen during the load) and/or BGSAVE / BGSAVE SCHEDULE / BGREWRITEAOF / SAVE at a
random moment (redis-server: BGREWRITEAOF and auto-aof-rewrite).

After each restart, for every key: the recovered value is the last acknowledged one or
a later attempted one (in flight at the kill); under everysec the same must hold
(SIGKILL keeps the page cache) and is reported as the loss within the 1 s window; no
value or key that no client attempted; every multi-key group carries one tag (or is
wholly absent); the expiring keys are gone and the long-lived ones keep their deadline.
"""

import random
import threading
import time
from pathlib import Path
import shutil
import socket
import tempfile

import durlib
from durlib import Checks, RespConn, RespError, enc, one_line, short


def check(what, cond, why=""):
    return durlib.check(C, what, cond, why)


def add_args(p):
    p.add_argument("--always-cycles", type=int, default=12)
    p.add_argument("--everysec-cycles", type=int, default=8)
    p.add_argument("--budget-s", type=float, default=140, help="stop starting cycles after this many seconds")
    p.add_argument("--no-restart", action="store_true",
                   help="debug the harness: stop the writers cleanly instead of killing, verify on the same server")
    p.add_argument("--sabotage", action="store_true",
                   help="debug the harness: tamper with the store after each restart (every check must FAIL)")


ARGS = durlib.setup(__doc__, add_args)
C = Checks("crash")
durlib.IN_MEMORY_DEBUG = ARGS.no_restart
REDIS = durlib.is_redis()
if not durlib.opslib.require_modules(C, ["redis"] + ([] if REDIS else ["psycopg"])) or not durlib.require_durability(C):
    C.finish()
if not REDIS:
    import psycopg  # noqa: E402

RNG = random.Random(ARGS.seed)
print("seed %d (replay with --seed %d); server: %s" % (ARGS.seed, ARGS.seed, "redis-server" if REDIS else ARGS.bin),
      flush=True)
TMP = Path(tempfile.mkdtemp(prefix="crash.", dir=ARGS.logs))
DATA = TMP / "data"
DATA.mkdir()
PAD = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def make_value(tag, rng):
    n = rng.choice((0, 0, 8, 40, 200, 1500))
    return tag + "|" + (PAD * (n // len(PAD) + 1))[:n]


class Hist:
    """What one key saw in one cycle: the values its writer sent, in order (None: a
    delete), and the index of the last acknowledged one (-1: none)."""
    __slots__ = ("vals", "acked", "ack_t")

    def __init__(self):
        self.vals = []
        self.acked = -1
        self.ack_t = []  # monotonic time of each acknowledgement, parallel to acked indexes

    def send(self, value):
        self.vals.append(value)
        return len(self.vals) - 1

    def ack(self, idx, t):
        self.acked = idx
        self.ack_t.append((idx, t))


# --------------------------------------------------------------------------- writers
class Writer(threading.Thread):
    kind = "?"

    def __init__(self, wid, srv, cycle, seed, stop):
        super().__init__(name=wid, daemon=True)
        self.wid, self.srv, self.cycle, self.stop = wid, srv, cycle, stop
        self.rng = random.Random(seed)
        self.hist = {}  # (db, key) -> Hist
        self.seq = 0
        self.sent = 0
        self.acked = 0
        self.unexpected = []  # replies that are neither a success nor a dropped connection
        self.end = None  # what ended the thread
        self.ready = threading.Event()
        self.conn = None  # a RespConn or a psycopg connection, set by body()

    def tag(self):
        self.seq += 1
        return "%s.c%d.%d" % (self.wid, self.cycle, self.seq)

    def h(self, db, key):
        hist = self.hist.get((db, key))
        if hist is None:
            hist = self.hist[(db, key)] = Hist()
        return hist

    def run(self):
        try:
            self.body()
            self.end = "stopped"
        except (ConnectionError, OSError, socket.timeout) as e:
            self.end = "%s: %s" % (type(e).__name__, e)
        except Exception as e:  # noqa: BLE001
            if not REDIS and isinstance(e, psycopg.OperationalError):
                self.end = "%s: %s" % (type(e).__name__, one_line(e, 120))
            else:
                self.end = "%s: %s" % (type(e).__name__, one_line(e, 200))
                self.unexpected.append(self.end)
        finally:
            self.ready.set()
            self.close()

    def close(self):
        if self.conn:
            with durlib.contextlib.suppress(Exception):
                self.conn.close()

    def body(self):
        raise NotImplementedError


class RespWriter(Writer):
    """Pipelines of SET/DEL on its own keys."""
    kind = "resp"

    def __init__(self, wid, srv, cycle, seed, stop, db, keys, depth, del_p=0.05, unique=False):
        super().__init__(wid, srv, cycle, seed, stop)
        self.db, self.keys, self.depth, self.del_p, self.unique = db, keys, depth, del_p, unique

    def body(self):
        self.conn = RespConn(self.srv.port, timeout=5)
        if self.db and self.conn.call("SELECT", self.db) != "OK":
            raise RuntimeError("SELECT %d failed" % self.db)
        self.ready.set()
        while not self.stop.is_set():
            batch, out = [], []
            for _ in range(self.rng.randint(1, self.depth)):
                if self.unique and self.seq < BULK_PER_CYCLE:
                    key = "%s:c%d:%d" % (self.wid, self.cycle, self.seq + 1)
                elif self.unique:  # enough new keys this cycle: overwrite them
                    key = "%s:c%d:%d" % (self.wid, self.cycle, self.rng.randint(1, BULK_PER_CYCLE))
                else:
                    key = self.rng.choice(self.keys)
                hist = self.h(self.db, key)
                if not self.unique and self.rng.random() < self.del_p:
                    self.seq += 1
                    batch.append((hist, hist.send(None), "DEL"))
                    out.append(enc("DEL", key))
                else:
                    v = make_value(self.tag(), self.rng)
                    batch.append((hist, hist.send(v), "SET"))
                    out.append(enc("SET", key, v))
            self.sent += len(batch)
            self.conn.sock.sendall(b"".join(out))
            for hist, idx, cmd in batch:
                r = self.conn.reply()
                if (cmd == "SET" and r == "OK") or (cmd == "DEL" and isinstance(r, int)):
                    hist.ack(idx, time.monotonic())
                    self.acked += 1
                else:
                    self.unexpected.append("%s: %s" % (cmd, short(r)))
                    return


class GroupWriter(Writer):
    """Base of the writers whose unit is a group of keys written with one tag."""

    def __init__(self, wid, srv, cycle, seed, stop, groups):
        super().__init__(wid, srv, cycle, seed, stop)
        self.groups = groups  # [tuple of keys], db 0

    def send_group(self, group, value):
        return [(self.h(0, k), self.h(0, k).send(value)) for k in group]

    def ack_group(self, sent):
        t = time.monotonic()
        for hist, idx in sent:
            hist.ack(idx, t)
        self.acked += 1


class MultiWriter(GroupWriter):
    def body(self):
        self.conn = RespConn(self.srv.port, timeout=5)
        self.ready.set()
        while not self.stop.is_set():
            txs, out = [], []
            for _ in range(self.rng.randint(1, 3)):
                group = self.rng.choice(self.groups)
                delete = self.rng.random() < 0.1
                value = None if delete else make_value(self.tag(), self.rng)
                if delete:
                    self.seq += 1
                cmds = [("MULTI",)] + [(("DEL", k) if delete else ("SET", k, value)) for k in group] + [("EXEC",)]
                txs.append((self.send_group(group, value), delete, len(group)))
                out.extend(enc(*c) for c in cmds)
            self.sent += len(txs)
            self.conn.sock.sendall(b"".join(out))
            for sent, delete, n in txs:
                replies = [self.conn.reply() for _ in range(n + 2)]
                want_exec = [1] * n if delete else ["OK"] * n
                ok = replies[0] == "OK" and all(r == "QUEUED" for r in replies[1:-1])
                if ok and (replies[-1] == want_exec or (delete and isinstance(replies[-1], list)
                                                        and all(isinstance(x, int) for x in replies[-1]))):
                    self.ack_group(sent)
                else:
                    self.unexpected.append("MULTI/EXEC: %s" % short(replies))
                    return


class MsetWriter(GroupWriter):
    def body(self):
        self.conn = RespConn(self.srv.port, timeout=5)
        self.ready.set()
        while not self.stop.is_set():
            batch, out = [], []
            for _ in range(self.rng.randint(1, 4)):
                group = self.rng.choice(self.groups)
                value = make_value(self.tag(), self.rng)
                args = ["MSET"]
                for k in group:
                    args += [k, value]
                batch.append(self.send_group(group, value))
                out.append(enc(*args))
            self.sent += len(batch)
            self.conn.sock.sendall(b"".join(out))
            for sent in batch:
                r = self.conn.reply()
                if r == "OK":
                    self.ack_group(sent)
                else:
                    self.unexpected.append("MSET: %s" % short(r))
                    return


class SqlTxWriter(GroupWriter):
    """BEGIN; upsert 2 rows; INSERT .. DO NOTHING + UPDATE 2 rows; COMMIT (4 keys, one tag),
    or BEGIN; DELETE the 4 rows; COMMIT."""

    def body(self):
        self.conn = psycopg.connect(host="127.0.0.1", port=self.srv.pg_port, user="postgres", dbname="kv",
                                    connect_timeout=5, autocommit=False)
        self.ready.set()
        while not self.stop.is_set():
            g = self.rng.choice(self.groups)
            delete = self.rng.random() < 0.1
            value = None if delete else make_value(self.tag(), self.rng)
            if delete:
                self.seq += 1
            sent = self.send_group(g, value)
            self.sent += 1
            try:
                with self.conn.cursor() as cur:
                    if delete:
                        cur.execute("DELETE FROM kv WHERE key IN (%s, %s, %s, %s)", g)
                    else:
                        cur.execute("INSERT INTO kv VALUES (%s, %s), (%s, %s) "
                                    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                                    (g[0], value, g[1], value))
                        cur.execute("INSERT INTO kv VALUES (%s, 'pre'), (%s, 'pre') ON CONFLICT (key) DO NOTHING",
                                    (g[2], g[3]))
                        cur.execute("UPDATE kv SET value = %s WHERE key IN (%s, %s)", (value, g[2], g[3]))
                        if cur.rowcount != 2:
                            self.unexpected.append("UPDATE of 2 existing rows: rowcount %s" % cur.rowcount)
                            return
                self.conn.commit()
                self.ack_group(sent)
            except psycopg.errors.SerializationFailure:
                self.conn.rollback()  # not acknowledged; its values stay "attempted"
            except psycopg.OperationalError:
                raise
            except psycopg.Error as e:
                self.unexpected.append("SQL %s: %s" % (getattr(e, "sqlstate", "?"), one_line(e, 200)))
                return


class SqlAutoWriter(GroupWriter):
    """INSERT of the 4 rows of a group ON CONFLICT DO UPDATE, autocommit."""

    def body(self):
        self.conn = psycopg.connect(host="127.0.0.1", port=self.srv.pg_port, user="postgres", dbname="kv",
                                    connect_timeout=5, autocommit=True)
        self.ready.set()
        while not self.stop.is_set():
            g = self.rng.choice(self.groups)
            value = make_value(self.tag(), self.rng)
            sent = self.send_group(g, value)
            self.sent += 1
            params = []
            for k in g:
                params += [k, value]
            try:
                self.conn.execute("INSERT INTO kv VALUES (%s, %s), (%s, %s), (%s, %s), (%s, %s) "
                                  "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", params)
                self.ack_group(sent)
            except psycopg.errors.SerializationFailure:
                pass
            except psycopg.OperationalError:
                raise
            except psycopg.Error as e:
                self.unexpected.append("SQL %s: %s" % (getattr(e, "sqlstate", "?"), one_line(e, 200)))
                return


# New keys the bulk writer makes per cycle (then it overwrites them): bounds the store,
# and so the time each verification takes, over 20 cycles.
BULK_PER_CYCLE = 4000

# Fixed key sets: the same keys every cycle (so values get superseded across cycles).
SINGLE = {"set0": (0, ["set0:%d" % i for i in range(40)]),
          "set1": (0, ["set1:%d" % i for i in range(40)]),
          "set3": (3, ["set3:%d" % i for i in range(40)])}
GROUPS = {"multi": [tuple("multi:%d:%s" % (g, x) for x in "abc") for g in range(20)],
          "mset": [tuple("mset:%d:%d" % (g, i) for i in range(5)) for g in range(20)],
          "sqltx": [tuple("sqltx:%d:%d" % (g, i) for i in range(4)) for g in range(20)],
          "sqlauto": [tuple("sqlauto:%d:%d" % (g, i) for i in range(4)) for g in range(20)]}
if REDIS:
    del GROUPS["sqltx"], GROUPS["sqlauto"]


def make_writers(srv, cycle, stop):
    ws = []
    for wid, (db, keys) in SINGLE.items():
        ws.append(RespWriter(wid, srv, cycle, RNG.random(), stop, db, keys, depth=8))
    ws.append(RespWriter("bulk", srv, cycle, RNG.random(), stop, 0, None, depth=32, unique=True))
    cls = {"multi": MultiWriter, "mset": MsetWriter, "sqltx": SqlTxWriter, "sqlauto": SqlAutoWriter}
    for wid, groups in GROUPS.items():
        ws.append(cls[wid](wid, srv, cycle, RNG.random(), stop, groups))
    return ws


# ---------------------------------------------------------------------------- state
STATE = {}        # (db, key) -> value recovered at the last verification (absent: None)
BULK_KEYS = {}    # (db, key) of bulk keys ever attempted -> True
LONG_TTL = []     # (key, value, deadline_lo_ms, deadline_hi_ms)
TOTALS = {"acked": 0, "keywrites": 0, "inflight": 0, "keys": 0, "groups": 0, "cycles": 0, "ckpt_cmds": 0}
CKPT_BAD = []     # unexpected replies to checkpoint commands
CKPT_SEEN = set()  # checkpoint manifests seen in the data dir
RECOVERY_DROPPED = []
PLAN_MODES = []


class CycleLoad:
    """What one cycle's load did, for the verification after the restart."""

    def __init__(self, n, policy, mode):
        self.n, self.policy, self.mode = n, policy, mode
        self.writers = []
        self.short_ttl = []  # (key, value, deadline_hi_ms)
        self.killed_at = None
        self.load_s = 0.0


def ckpt_command(rng):
    if REDIS:
        return ("BGREWRITEAOF",)
    return rng.choice([("BGSAVE",), ("BGSAVE",), ("BGSAVE", "SCHEDULE"), ("BGREWRITEAOF",), ("SAVE",)])


CKPT_OK = {
    "BGSAVE": {"Background saving started"},
    "BGSAVE SCHEDULE": {"Background saving scheduled", "Background saving started"},
    "BGREWRITEAOF": {"Background append only file rewriting started",
                     "Background append only file rewriting scheduled"},
    "SAVE": {"OK"},
}
CKPT_BUSY = {"ERR Background save already in progress",
             "ERR Background append only file rewriting already in progress"}


def drive_load(srv, load, ctl, t0, kill_after):
    """The control connection's part of the load, until the moment of the kill."""
    # Keys that expire during the load (0.05-0.15 s), written first.
    for i in range(3):
        k = "ttl-early:c%d:%d" % (load.n, i)
        px = RNG.randint(50, 150)
        v = "early.c%d.%d" % (load.n, i)
        r = ctl.call("SET", k, v, "PX", px)
        if r != "OK":
            load.writers[0].unexpected.append("SET PX: %s" % short(r))
        load.short_ttl.append((k, v, durlib.now_ms() + px))
    events = []
    if load.mode in ("force", "both"):
        for _ in range(RNG.choice((1, 1, 2))):
            events.append((RNG.uniform(0, kill_after), "ckpt"))
    events.append((max(0.0, kill_after - RNG.uniform(0.02, 0.2)), "ttl"))
    events.sort()
    for at, what in events:
        wait = at - (time.monotonic() - t0)
        if wait > 0:
            time.sleep(wait)
        if what == "ckpt":
            cmd = ckpt_command(RNG)
            r = ctl.call(*cmd)
            TOTALS["ckpt_cmds"] += 1
            name = " ".join(cmd)
            if not (r in CKPT_OK.get(name, ()) or (isinstance(r, RespError) and str(r) in CKPT_BUSY)):
                CKPT_BAD.append("cycle %d %s: %s" % (load.n, name, short(r if not isinstance(r, RespError)
                                                                         else "-" + str(r))))
        else:
            for i in range(4):
                k = "ttl:c%d:%d" % (load.n, i)
                v = "short.c%d.%d" % (load.n, i)
                px = RNG.randint(300, 900)
                r = ctl.call("SET", k, v, "PX", px)
                if r != "OK":
                    load.writers[0].unexpected.append("SET PX: %s" % short(r))
                load.short_ttl.append((k, v, durlib.now_ms() + px))
            for i in range(2):
                k = "ttl-long:c%d:%d" % (load.n, i)
                v = "long.c%d.%d" % (load.n, i)
                lo = durlib.now_ms() + 600000
                r = ctl.call("SET", k, v, "PX", 600000)
                hi = durlib.now_ms() + 600000
                if r == "OK":
                    LONG_TTL.append((k, v, lo, hi))
                else:
                    load.writers[0].unexpected.append("SET PX: %s" % short(r))
    wait = kill_after - (time.monotonic() - t0)
    if wait > 0:
        time.sleep(wait)


def run_load(srv, load):
    """Starts the writers, lets them run, writes the TTL keys, forces checkpoints, kills."""
    stop = threading.Event()
    load.writers = make_writers(srv, load.n, stop)
    ctl = RespConn(srv.port, timeout=10)
    for w in load.writers:
        w.start()
    for w in load.writers:
        w.ready.wait(10)
    t0 = time.monotonic()
    kill_after = RNG.uniform(0.2, 1.5)
    died, ctl_error = None, None
    try:
        drive_load(srv, load, ctl, t0, kill_after)
    except (ConnectionError, OSError) as e:
        ctl_error = "control connection: %s: %s" % (type(e).__name__, e)
    finally:
        died = srv.proc.poll()
        load.load_s = time.monotonic() - t0
        if ARGS.no_restart:
            stop.set()
        else:
            srv.kill9()
        load.killed_at = time.monotonic()
        deadline = time.monotonic() + 15
        for w in load.writers:
            w.join(max(0.1, deadline - time.monotonic()))
        ctl.close()
        for w in load.writers:
            if w.wid == "bulk":
                for dk in list(w.hist):
                    BULK_KEYS[dk] = True
    sent = sum(w.sent for w in load.writers)
    acked = sum(w.acked for w in load.writers)
    unexpected = [u for w in load.writers for u in w.unexpected]
    hung = [w.wid for w in load.writers if w.is_alive()]
    what = "cycle %d (%s, %s): load %.2f s: %d writes acknowledged, %d in flight at the kill" % (
        load.n, load.policy, load.mode, load.load_s, acked, sent - acked)
    check(what, died is None and not ctl_error and not unexpected and not hung and acked > 0,
         "server exited on its own (status %s) before the kill; log tail: %s" % (died, one_line(srv.log_tail(5)))
         if died is not None else ctl_error if ctl_error else
         "writer threads still running 15 s after the kill: %s" % hung if hung else
         "%d unexpected replies, e.g. %s" % (len(unexpected), short(unexpected[:3])) if unexpected else
         "no write was acknowledged" if acked == 0 else "")
    TOTALS["inflight"] += sent - acked
    return acked


def allowed_values(hist, base):
    """Values the key may hold: the last acknowledged one (or the one before the cycle if
    none was) and any later attempted one."""
    start = hist.acked if hist.acked >= 0 else None
    vals = set(hist.vals[start:] if start is not None else hist.vals)
    if start is None:
        vals.add(base)
    return vals


def verify(srv, load):
    """Checks the recovered state against what load did."""
    n = load.n
    conn = RespConn(srv.port, timeout=10)
    try:
        # Keys whose deadline passed before the restart: gone at once.
        early_now = durlib.now_ms()
        early_back = []
        for k, v, hi in load.short_ttl:
            if hi + 50 < early_now:
                r = conn.call("GET", k)
                if r is not None:
                    early_back.append("%s=%s (deadline %d ms ago)" % (k, short(r), early_now - hi))
        # Every key any writer of this cycle or an earlier one owns, plus the bulk keys.
        hists = {}
        for w in load.writers:
            for dk, hist in w.hist.items():
                hists[dk] = hist
        universe = set(STATE) | set(hists) | set(BULK_KEYS)
        for wid, (db, keys) in SINGLE.items():
            universe.update((db, k) for k in keys)
        for groups in GROUPS.values():
            universe.update((0, k) for g in groups for k in g)
        by_db = {}
        for db, k in universe:
            by_db.setdefault(db, []).append(k)
        got = {}
        for db, keys in by_db.items():
            for k, v in durlib.resp_mget(conn, db, keys).items():
                got[(db, k)] = v
        # What was read is the baseline of the next cycle (set now, so that a check that
        # raises below does not make the next cycles fail too).
        before = dict(STATE)
        STATE.clear()
        STATE.update({dk: v for dk, v in got.items() if v is not None})
        # 1. acknowledged writes present (or superseded by a later attempted one).
        lost, foreign, acked_n = [], [], 0
        lost_window = []
        for dk, hist in hists.items():
            base = before.get(dk)
            v = got.get(dk)
            acked_n += len(hist.ack_t)
            if v in allowed_values(hist, base):
                continue
            if v in hist.vals or v == base:
                # An older value: the acknowledged write(s) after it were lost.
                pos = max([i for i, x in enumerate(hist.vals) if x == v], default=-1)
                lost_acks = [t for i, t in hist.ack_t if i > pos]
                lost.append("%s db%d: has %s, last acknowledged %s (%d acknowledged writes after it lost, the "
                            "last %.0f ms before the kill)" % (dk[1], dk[0], short(v, 60),
                                                               short(hist.vals[hist.acked], 60), len(lost_acks),
                                                               (load.killed_at - max(lost_acks)) * 1000
                                                               if lost_acks else -1))
                lost_window.extend(load.killed_at - t for t in lost_acks)
            else:
                foreign.append("%s db%d: %s (no client wrote it; last acknowledged %s)" % (
                    dk[1], dk[0], short(v, 80), short(hist.vals[hist.acked] if hist.acked >= 0 else base, 60)))
        # Keys no writer touched this cycle must keep their value.
        for dk in universe - set(hists):
            if got.get(dk) != before.get(dk):
                foreign.append("%s db%d: %s, but it was %s before this cycle and nobody wrote it since" % (
                    dk[1], dk[0], short(got.get(dk), 60), short(before.get(dk), 60)))
        # Keys that are in the store but no client ever wrote.
        invented = []
        known_ttl = {k for k, _, _, _ in LONG_TTL} | {k for k, _, _ in load.short_ttl}
        for db in sorted(set(by_db) | {0}):
            for k in durlib.resp_keys(conn, db):
                if (db, k) not in universe and not (db == 0 and (k in known_ttl or k.startswith("ttl"))):
                    invented.append("db%d %s" % (db, k))
        TOTALS["acked"] += sum(w.acked for w in load.writers)
        TOTALS["keywrites"] += acked_n
        TOTALS["keys"] += len(hists)
        window = ""
        if load.policy == "everysec":
            window = " (everysec: %d acknowledged writes lost; allowed: within the 1 s window, and SIGKILL keeps " \
                     "the page cache: 0 expected)" % len(lost_window)
        check("cycle %d (%s): every acknowledged write present with its exact value or superseded by a later "
             "attempted one (%d acknowledged writes of %d keys)%s" % (n, load.policy, sum(w.acked for w in load.writers),
                                                                     len(hists), window),
             not lost, "%d keys lost acknowledged writes, e.g. %s" % (len(lost), "; ".join(lost[:4])))
        check("cycle %d (%s): no value torn or invented, no stray key (%d keys read)" % (n, load.policy, len(got)),
             not foreign and not invented,
             "%d bad values, e.g. %s; %d keys nobody wrote, e.g. %s" % (len(foreign), "; ".join(foreign[:4]),
                                                                        len(invented), short(invented[:5])))
        # 2. groups: one tag (or all absent).
        torn = []
        ngroups = 0
        for wid, groups in GROUPS.items():
            for g in groups:
                vals = [got.get((0, k)) for k in g]
                ngroups += 1
                if len(set(vals)) != 1:
                    torn.append("%s: %s" % (wid, ", ".join("%s=%s" % (k, short(v, 40)) for k, v in zip(g, vals))))
        TOTALS["groups"] += ngroups
        sql_view = ""
        if not REDIS:
            # The same groups read through SQL: the PostgreSQL path sees the recovered state.
            with psycopg.connect(host="127.0.0.1", port=srv.pg_port, user="postgres", dbname="kv",
                                 connect_timeout=5, autocommit=True) as pg:
                rows = {}
                for prefix in ("sqltx:", "sqlauto:", "multi:"):
                    rows.update(pg.execute("SELECT key, value FROM kv WHERE key LIKE %s", (prefix + "%",)).fetchall())
            want = {k: got.get((0, k)) for wid in ("sqltx", "sqlauto", "multi") for g in GROUPS[wid] for k in g}
            want = {k: v for k, v in want.items() if v is not None}
            if rows != want:
                diff = sorted(set(rows.items()) ^ set(want.items()))[:3]
                torn.append("SQL SELECT differs from RESP MGET (%d rows vs %d keys), e.g. %s" % (
                    len(rows), len(want), short(diff)))
            sql_view = "; the same through SQL SELECT"
        check("cycle %d (%s): multi-key writes all-or-nothing (%d groups: %s%s)" % (
            n, load.policy, ngroups, "/".join("%d %s" % (len(g), w) for w, g in GROUPS.items()), sql_view),
             not torn, "%d groups with mixed tags, e.g. %s" % (len(torn), "; ".join(torn[:3])))
        # 3. expiry.
        wait_until = max([hi for _, _, hi in load.short_ttl] + [0]) + 100
        delay = (wait_until - durlib.now_ms()) / 1000.0
        if delay > 0:
            time.sleep(min(delay, 5))
        back = list(early_back)
        for k, v, hi in load.short_ttl:
            r = conn.call("GET", k)
            e = conn.call("EXISTS", k)
            if r is not None or e != 0:
                back.append("%s=%s EXISTS %s (deadline %d ms ago)" % (k, short(r), e, durlib.now_ms() - hi))
        long_bad = []
        for k, v, lo, hi in LONG_TTL:
            t0 = durlib.now_ms()
            r = conn.call("GET", k)
            pttl = conn.call("PTTL", k)
            t1 = durlib.now_ms()
            if r != v.encode() or not isinstance(pttl, int) or not (lo - t1 - 50 <= pttl <= hi - t0 + 50):
                long_bad.append("%s=%s PTTL %s (expected %d..%d)" % (k, short(r), pttl, lo - t1, hi - t0))
        check("cycle %d (%s): expired keys stay expired (%d with PX 50-900 ms gone), long deadlines kept "
             "(%d keys with PX 600000 present, PTTL consistent)" % (n, load.policy, len(load.short_ttl),
                                                                    len(LONG_TTL)),
             not back and not long_bad, "came back: %s; long-lived: %s" % (short(back[:4]), short(long_bad[:4])))
    finally:
        conn.close()


def sabotage(srv, load):
    """--sabotage: one tampering per check (a lost acknowledged write, a torn group, a
    stray key, an expired key back, a changed deadline)."""
    c = RespConn(srv.port)
    bulk = next(w for w in load.writers if w.wid == "bulk")
    acked = [k for (db, k), h in bulk.hist.items() if h.acked >= 0]
    print("sabotage: DEL %s; SET multi:0:a; SET stray; SET %s; PEXPIRE %s" % (
        acked[0], load.short_ttl[-1][0], LONG_TTL[0][0]), flush=True)
    c.call("DEL", acked[0])
    c.call("SET", "multi:0:a", "sabotage")
    c.call("SET", "stray-key", "x")
    c.call("SET", load.short_ttl[-1][0], "back")
    c.call("PEXPIRE", LONG_TTL[0][0], 1000000)
    c.close()


def start_server(n, policy, mode):
    ckpt = None
    if mode in ("bytes", "both"):
        ckpt = RNG.choice((65536, 131072, 262144)) if not REDIS else 262144
    srv = durlib.DurServer("crash-%02d-%s" % (n, policy), DATA, fsync=policy, ckpt_bytes=ckpt)
    t0 = time.monotonic()
    ok, why = srv.start_or_none(30)
    return srv, ok, why, time.monotonic() - t0


def recovery_line(srv):
    """The recovery summary line of a corewire log, and torn tails it mentions."""
    text = srv.log()
    done = [ln for ln in text.splitlines() if "recovery: done in" in ln]
    torn = [ln for ln in text.splitlines() if "torn tail" in ln or "corrupt record" in ln]
    return (done[-1] if done else None), torn


def note_checkpoints():
    if REDIS:
        return
    for p in DATA.iterdir():
        if p.name.startswith("checkpoint-"):
            CKPT_SEEN.add(p.name)


# ----------------------------------------------------------------------------- main
def main():
    plan = []
    for policy, count in (("always", ARGS.always_cycles), ("everysec", ARGS.everysec_cycles)):
        modes = (["none", "bytes", "force", "force", "both"] * (count // 5 + 1))[:count]
        RNG.shuffle(modes)
        plan += [(policy, m) for m in modes]
    PLAN_MODES[:] = [m for _, m in plan]
    t_start = time.monotonic()
    prev, srv, i = None, None, 0
    while True:
        last = i >= len(plan)
        if not last and time.monotonic() - t_start > ARGS.budget_s:
            C.fail("crash cycles within the %.0f s budget" % ARGS.budget_s,
                   "stopped after %d of %d cycles" % (i, len(plan)))
            last = True
        n = i + 1
        policy, mode = plan[i] if not last else ((prev.policy if prev else "always"), "none")
        if ARGS.no_restart and srv is not None and srv.alive():
            ok, why, took = True, "", 0.0
        else:
            srv, ok, why, took = start_server(n, policy, mode)
        if prev is not None:
            what = "cycle %d (%s): restart after %s" % (prev.n, prev.policy,
                                                         "a clean stop of the writers" if ARGS.no_restart
                                                         else "SIGKILL")
            if not ok:
                C.fail(what, why)
                break
            detail = "ready in %.2f s" % took
            if not REDIS and not ARGS.no_restart:
                done, torn = recovery_line(srv)
                RECOVERY_DROPPED.extend(torn)
                detail += "; %s" % (done.split("recovery: ", 1)[1] if done else "<no 'recovery: done' line>")
                if torn:
                    detail += "; %s" % one_line(" | ".join(torn), 300)
                C.ok(what + ", log says 'recovery: done'", done is not None, detail)
            else:
                C.ok(what, True, detail)
            note_checkpoints()
            if ARGS.sabotage:
                sabotage(srv, prev)
            with C.block("cycle %d: verification" % prev.n):
                verify(srv, prev)
            TOTALS["cycles"] += 1
        elif not ok:
            C.fail("first start of the server on an empty data dir", why)
            break
        if last:
            break
        load = CycleLoad(n, policy, mode)
        with C.block("cycle %d: load and kill" % n):
            run_load(srv, load)
        note_checkpoints()
        prev = load  # verified after the restart, even if the load raised (its acks stand)
        i += 1
    if srv is not None:
        srv.kill9()
    want = ARGS.always_cycles + ARGS.everysec_cycles
    check("crash cycles: %d SIGKILL + restart cycles (%d always + %d everysec), %d acknowledged writes verified "
         "(%d key writes; %d keys x cycles, %d multi-key groups x cycles), %d writes in flight at the kills, %d "
         "checkpoint commands" % (TOTALS["cycles"], min(TOTALS["cycles"], ARGS.always_cycles),
                                  max(0, TOTALS["cycles"] - ARGS.always_cycles), TOTALS["acked"],
                                  TOTALS["keywrites"], TOTALS["keys"],
                       TOTALS["groups"], TOTALS["inflight"], TOTALS["ckpt_cmds"]),
         TOTALS["cycles"] >= want and TOTALS["acked"] > 0, "only %d of %d cycles ran" % (TOTALS["cycles"], want))
    if TOTALS["ckpt_cmds"]:
        check("checkpoint commands under load answered as documented (%d: BGSAVE, BGSAVE SCHEDULE, BGREWRITEAOF, "
             "SAVE)" % TOTALS["ckpt_cmds"], not CKPT_BAD, "; ".join(CKPT_BAD[:5]))
    forced = sum(1 for load_mode in PLAN_MODES if load_mode != "none")
    if not REDIS and not ARGS.no_restart and forced >= 3:
        check("checkpoints happened during the cycles (manifests seen: %s)" % (", ".join(sorted(CKPT_SEEN)[-3:])
                                                                             or "none"),
             len(CKPT_SEEN) > 0, "no checkpoint-* file ever appeared in %s" % DATA)
        print("recovery after SIGKILL cut %d torn tails%s" % (len(RECOVERY_DROPPED), (": " + one_line(
            " | ".join(RECOVERY_DROPPED[:3]), 400)) if RECOVERY_DROPPED else ""), flush=True)


main()
if C.failed == 0 and not ARGS.keep:
    shutil.rmtree(TMP, ignore_errors=True)
else:
    print("data dir and logs kept in %s and %s" % (TMP, ARGS.logs), flush=True)
C.finish()
