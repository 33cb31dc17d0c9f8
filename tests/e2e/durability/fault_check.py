#!/usr/bin/env python3
"""Fault injection (issue 5, section 5), the server stopped in between.

A base data dir: corewire --threads 1 --data-dir DIR --appendfsync always, 150
acknowledged writes from one client, one at a time (so each is its own record: a SET of
a new key, a MULTI/EXEC of 3 keys, a DEL, overwrites, a key with a deadline), then
SIGKILL. Its log is read here (length | payload | CRC-32C records, items as in
/tmp/dur/SPEC.md) and must replay to exactly what was written. Each case below works on
a copy of that dir:
  - the newest wal-*.log cut at random offsets inside its last record (in the length,
    the payload, the CRC): the server starts, warns `torn tail at byte X: dropped 1
    record (N bytes)` naming the file, and has every write before the last record (and
    not the last one); restarted again, no warning (the file was cut);
  - a bit flipped in the last record: the same, a torn tail;
  - a bit flipped in a record in the middle: exit status 1 with `corrupt record at byte
    X` naming the file and the way out, the file untouched; with
    --recovery-truncate-corrupt yes it starts, warns, and has the writes before that
    record (none after it in that file);
  - a second server on the same data dir fails to start; once the first is gone
    (SIGKILL) a new one starts there;
  - a full disk: a 2 MB tmpfs (mount -t tmpfs; SKIP if not permitted) holding the data
    dir and a 1 MB filler file: writes until the log fails, then RESP `-MISCONF Errors
    writing to the AOF file: No space left on device`, SQLSTATE 53100, reads still
    served, the process up, the log says why; the filler deleted, writes are accepted
    again within 15 s; after a SIGKILL and restart every acknowledged write is there.
    The tmpfs is unmounted at the end, however the script ends.

--server redis runs the full disk case only (redis-server --appendonly yes
--appendfsync everysec: under always it exits on a failed AOF write), without SQL.
"""

import os
import random
import sys
import re
import shutil
import tempfile
import time
from pathlib import Path

import durlib
from durlib import Checks, RespConn, RespError, one_line, short

ARGS = durlib.setup(__doc__)
C = Checks("faults")
REDIS = durlib.is_redis()


def check(what, cond, why=""):
    return durlib.check(C, what, cond, why)


if not durlib.opslib.require_modules(C, ["redis"] + ([] if REDIS else ["psycopg"])) or not durlib.require_durability(C):
    C.finish()
if not REDIS:
    import psycopg  # noqa: E402

RNG = random.Random(ARGS.seed)
print("seed %d (replay with --seed %d); server: %s" % (ARGS.seed, ARGS.seed, "redis-server" if REDIS else ARGS.bin),
      flush=True)
for stale in durlib.stale_mounts(ARGS.logs):
    print("note: unmounting %s, left mounted by an earlier run: %s" % (stale, "done" if durlib.umount(stale)
                                                                      else "failed"), flush=True)
TMP = Path(tempfile.mkdtemp(prefix="faults.", dir=ARGS.logs))
SKIPPED = []
MISCONF = "MISCONF Errors writing to the AOF file: No space left on device"


# ------------------------------------------------------------------------- base dir
class Base:
    dir = None
    model = {}      # (db, key bytes) -> value bytes, what the client wrote (acknowledged)
    universe = set()
    target = None   # name of the log with the records the cases damage
    records = []    # its records
    others = []     # records of the other logs (kept whole in every expectation)
    size = 0


def build_base():
    d = TMP / "base"
    srv = durlib.DurServer("fault-base", d, fsync="always", threads=1)
    ok, why = srv.start_or_none(30)
    if not check("base: corewire --threads 1 --data-dir (empty) --appendfsync always starts", ok, why):
        return False
    conn = RespConn(srv.port)
    model, bad = {}, []

    def call(*args):
        r = conn.call(*args)
        if isinstance(r, RespError):
            bad.append("%s: -%s" % (" ".join(map(str, args[:2])), r))
        return r

    for i in range(150):
        key = "f:%04d" % i
        val = "fv-%d-" % i + ("x" * (i % 7 * 37))
        if i == 50:
            call("MULTI")
            for x in "abc":
                call("SET", "g:" + x, "grp-1")
            if call("EXEC") == ["OK", "OK", "OK"]:
                for x in "abc":
                    model[(0, ("g:" + x).encode())] = b"grp-1"
            continue
        if i == 80:
            if call("DEL", "f:0010") == 1:
                model.pop((0, b"f:0010"), None)
            continue
        if i == 90:
            if call("SET", "f:0005", "fv-5-again") == "OK":
                model[(0, b"f:0005")] = b"fv-5-again"
            continue
        if i == 100:
            if call("SET", "f:ttl", "lives-long", "PX", 3600000) == "OK":
                model[(0, b"f:ttl")] = b"lives-long"
            continue
        if call("SET", key, val) == "OK":
            model[(0, key.encode())] = val.encode()
    conn.close()
    srv.kill9()
    check("base: 150 writes acknowledged one at a time, then SIGKILL", not bad, "error replies: %s" % short(bad[:3]))
    logs = durlib.log_files(d)
    parsed = []
    problems = []
    for gen, slot, path in logs:
        recs, stop, why = durlib.parse_log(path)
        if why != "end":
            problems.append("%s: %s" % (path.name, why))
        if any(r.items is None for r in recs):
            problems.append("%s: a record whose payload does not decode as items" % path.name)
        # The cases below cut and flip at offsets from the end of the records:
        # drop the preallocated zeros the kill left behind them first.
        if why == "end" and stop < path.stat().st_size:
            os.truncate(path, stop)
        parsed.append((gen, slot, path, recs))
    with_records = [p for p in parsed if p[3]]
    if not check("base: the data dir has wal-GGGGGGGG-SSS.log files of length|payload|CRC-32C records (%s)"
                 % ", ".join("%s: %d records, %d bytes" % (p.name, len(r), p.stat().st_size)
                             for _, _, p, r in parsed),
                 with_records and not problems,
                 "files: %s; problems: %s" % ([p.name for p in Path(d).iterdir()], "; ".join(problems))):
        return False
    gen, slot, path, recs = max(with_records, key=lambda p: (p[0], p[2].stat().st_mtime, len(p[3])))
    others = [r for _, _, p, r in parsed if p != path]
    replayed = durlib.replay(others + [recs], now_ms=durlib.now_ms())
    if not check("base: the logs replay (highest TID per key) to exactly the acknowledged writes (%d keys, %d "
                 "records in %s)" % (len(model), len(recs), path.name), replayed == model and len(recs) >= 10,
                 lambda: "differs: only in the log %s; only written %s; different values %s" % (
                     short(sorted(set(replayed) - set(model))[:5]), short(sorted(set(model) - set(replayed))[:5]),
                     short([k for k in model if k in replayed and replayed[k] != model[k]][:5]))):
        return False
    Base.dir, Base.model, Base.target, Base.records, Base.others = d, model, path.name, recs, others
    Base.size = path.stat().st_size
    Base.universe = set(model) | {(0, b"f:%04d" % i) for i in range(150)} | {(0, b"f:0010")}
    return True


def expected_before(n):
    """The state with the target log's records [0, n) (and every other log whole)."""
    return durlib.replay(Base.others + [Base.records[:n]], now_ms=durlib.now_ms())


def copy_case(name):
    d = TMP / name
    shutil.copytree(Base.dir, d)  # LOCK included, as a crash leaves it (no longer flock'd)
    return d, d / Base.target


def check_data(srv, expected, what):
    conn = RespConn(srv.port)
    try:
        keys = sorted(k for _, k in Base.universe | set(expected))
        got = durlib.resp_mget(conn, 0, [k.decode() for k in keys])
        wrong = []
        for k in keys:
            want = expected.get((0, k))
            have = got[k.decode()]
            if (have.encode(errors="surrogateescape") if have is not None else None) != want:
                wrong.append("%s: %s, expected %s" % (k.decode(), short(have, 40), short(want, 40)))
        stray = sorted(durlib.resp_keys(conn, 0) - {k.decode() for (_, k) in expected})
        return check("%s: the data is exactly the writes before the damage (%d keys)" % (what, len(expected)),
                     not wrong and not stray, "%d wrong, e.g. %s; keys that should be gone: %s" % (
                         len(wrong), "; ".join(wrong[:4]), short(stray[:5])))
    finally:
        conn.close()


def log_lines(srv, needle):
    return [ln for ln in srv.log().splitlines() if needle in ln]


# ------------------------------------------------------------------------ torn tails
def torn_case(name, cut, second_restart=False):
    last = Base.records[-1]
    X = last.offset
    d, log = copy_case(name)
    durlib.truncate(log, cut)
    tail = Path(Base.dir / Base.target).read_bytes()[X:cut]
    what = "%s (%s cut at byte %d, %d bytes into its last record of %d at byte %d)" % (
        name, Base.target, cut, cut - X, last.size, X)
    srv = durlib.DurServer("fault-" + name, d, threads=1)
    ok, why = srv.start_or_none(30)
    if not check("%s: the server starts" % what, ok, why):
        return
    want_records = {0, 1} if not any(tail) else {1}
    lines = log_lines(srv, "torn tail at byte")
    m = [re.search(r"recovery: (\S+): torn tail at byte (\d+): dropped (\d+) records? \((\d+) bytes\), the file is "
                   r"cut there", ln) for ln in lines]
    m = [x for x in m if x]
    good = [x for x in m if x.group(1).endswith(Base.target) and int(x.group(2)) == X
            and int(x.group(3)) in want_records and int(x.group(4)) == cut - X]
    check("%s: warns 'recovery: %s: torn tail at byte %d: dropped 1 record (%d bytes), the file is cut there'"
          % (name, Base.target, X, cut - X), len(good) == 1,
          "torn-tail lines: %s" % (short(lines) if lines else "none; log tail: %s" % one_line(srv.log_tail(6))))
    check_data(srv, expected_before(len(Base.records) - 1), name)
    if second_restart:
        srv.kill9()
        srv2 = durlib.DurServer("fault-%s-again" % name, d, threads=1)
        ok, why = srv2.start_or_none(30)
        if check("%s: restarted again (after SIGKILL): starts" % name, ok, why):
            again = log_lines(srv2, "torn tail") + log_lines(srv2, "corrupt record")
            check("%s: restarted again: no torn-tail warning this time (the file was cut)" % name, not again,
                  short(again))
            check_data(srv2, expected_before(len(Base.records) - 1), name + ", restarted again")
        srv2.kill9()
    srv.kill9()


def flip_last_case():
    last = Base.records[-1]
    d, log = copy_case("flip-last")
    at = last.offset + 4 + RNG.randrange(last.length)
    bit = RNG.randrange(8)
    durlib.flip_bit(log, at, bit)
    name = "flip-last (bit %d of byte %d, in the payload of the last record at byte %d)" % (bit, at, last.offset)
    srv = durlib.DurServer("fault-flip-last", d, threads=1)
    ok, why = srv.start_or_none(30)
    if not check("%s: the server starts" % name, ok, why):
        return
    lines = log_lines(srv, "torn tail at byte")
    m = [re.search(r"recovery: (\S+): torn tail at byte (\d+): dropped 1 record \((\d+) bytes\)", ln) for ln in lines]
    good = [x for x in m if x and x.group(1).endswith(Base.target) and int(x.group(2)) == last.offset
            and int(x.group(3)) == last.size]
    check("flip-last: a CRC mismatch in the last record is a torn tail: 'recovery: %s: torn tail at byte %d: "
          "dropped 1 record (%d bytes)'" % (Base.target, last.offset, last.size), len(good) == 1,
          "torn-tail lines: %s" % (short(lines) if lines else "none; log tail: %s" % one_line(srv.log_tail(6))))
    check_data(srv, expected_before(len(Base.records) - 1), "flip-last")
    srv.kill9()


def flip_middle_case():
    m = len(Base.records) // 2
    rec = Base.records[m]
    d, log = copy_case("flip-middle")
    at = rec.offset + 4 + RNG.randrange(rec.length)
    bit = RNG.randrange(8)
    durlib.flip_bit(log, at, bit)
    before = log.read_bytes()
    X, after = rec.offset, Base.size - rec.offset
    name = "flip-middle (bit %d of byte %d, in record %d of %d at byte %d)" % (bit, at, m + 1, len(Base.records), X)
    srv = durlib.DurServer("fault-flip-middle", d, threads=1)
    srv.start()
    rc = srv.wait(20)
    check("%s: the server refuses to start: exit status 1 (within 20 s)" % name, rc == 1,
          "exit status %s%s; log tail: %s" % (rc, " (still running after 20 s)" if rc is None else "",
                                              one_line(srv.log_tail(6))))
    if rc is None:
        srv.kill9()
    lines = log_lines(srv, "corrupt record at byte")
    pat = re.compile(r"recovery: (\S+): corrupt record at byte (\d+) \(([^)]*)\) with (\d+) bytes after it; refusing "
                     r"to start\. To start anyway and drop this file from byte (\d+) on, set "
                     r"recovery-truncate-corrupt = yes")
    good = []
    for ln in lines:
        x = pat.search(ln)
        if x and x.group(1).endswith(Base.target) and int(x.group(2)) == X and int(x.group(5)) == X \
                and int(x.group(4)) in (after, after - rec.size):
            good.append(ln)
    check("flip-middle: the log says 'recovery: %s: corrupt record at byte %d (CRC mismatch) with N bytes after it; "
          "refusing to start. To start anyway ... set recovery-truncate-corrupt = yes'" % (Base.target, X),
          len(good) >= 1, "corrupt-record lines: %s" % (short(lines) if lines else "none; log tail: %s"
                                                         % one_line(srv.log_tail(6))))
    check("flip-middle: the refused start left %s as it was" % Base.target, log.read_bytes() == before,
          "its size is now %d (was %d)" % (log.stat().st_size, len(before)))
    srv2 = durlib.DurServer("fault-flip-middle-truncate", d, threads=1, extra=["--recovery-truncate-corrupt", "yes"])
    ok, why = srv2.start_or_none(30)
    if not check("flip-middle: with --recovery-truncate-corrupt yes the server starts", ok, why):
        return
    lines = log_lines(srv2, "corrupt record at byte")
    pat = re.compile(r"recovery: (\S+): corrupt record at byte (\d+) \(([^)]*)\): dropped the (\d+) bytes from there "
                     r"on, the file is cut there")
    good = [ln for ln in lines if (lambda x: x and x.group(1).endswith(Base.target) and int(x.group(2)) == X
                                   and int(x.group(4)) == after)(pat.search(ln))]
    check("flip-middle: warns 'recovery: %s: corrupt record at byte %d (CRC mismatch): dropped the %d bytes from "
          "there on, the file is cut there'" % (Base.target, X, after), len(good) == 1,
          "corrupt-record lines: %s" % (short(lines) if lines else "none; log tail: %s" % one_line(srv2.log_tail(6))))
    check_data(srv2, expected_before(m), "flip-middle with --recovery-truncate-corrupt yes")
    srv2.kill9()
    srv3 = durlib.DurServer("fault-flip-middle-again", d, threads=1)
    ok, why = srv3.start_or_none(30)
    check("flip-middle: cut, it then starts without --recovery-truncate-corrupt", ok, why)
    if ok:
        check_data(srv3, expected_before(m), "flip-middle, restarted without the flag")
    srv3.kill9()


# --------------------------------------------------------------------- second server
def lock_case():
    d = TMP / "lock"
    a = durlib.DurServer("fault-lock-a", d, threads=1)
    ok, why = a.start_or_none(30)
    if not check("second server: the first corewire on %s starts" % d.name, ok, why):
        return
    c = RespConn(a.port)
    c.call("SET", "owner", "a")
    c.close()
    b = durlib.DurServer("fault-lock-b", d, threads=1)
    b.start()
    rc = b.wait(20)
    check("second server: another corewire on the same data dir fails to start (exit status %s; %s)"
          % (rc, one_line(b.log_tail(2), 300)), rc not in (None, 0),
          "still running after 20 s" if rc is None else "exit status 0")
    if rc is None:
        b.kill9()
    c = RespConn(a.port)
    r = c.call("GET", "owner")
    c.close()
    check("second server: the first still serves its data", r == b"a", "GET owner: %s" % short(r))
    a.kill9()
    n = durlib.DurServer("fault-lock-c", d, threads=1)
    ok, why = n.start_or_none(30)
    if check("second server: once the first is SIGKILLed, a new one starts on the dir (the lock died with it)",
             ok, why):
        c = RespConn(n.port)
        r = c.call("GET", "owner")
        c.close()
        check("second server: the new one has the data", r == b"a", "GET owner: %s" % short(r))
    n.kill9()


# ------------------------------------------------------------------------- full disk
def full_disk():
    mnt = TMP / "tmpfs"
    ok, why = durlib.mount_tmpfs(mnt, "2m")
    if not ok:
        print("SKIP: full disk: cannot mount a 2 MB tmpfs (%s); needs root (CI runs as root)" % why, flush=True)
        SKIPPED.append("full disk")
        return
    durlib.on_cleanup(lambda: durlib.umount(mnt))
    servers = []
    try:
        full_disk_body(mnt, servers)
    finally:
        for s in servers:
            s.kill9()
        gone = durlib.umount(mnt)
        check("full disk: the tmpfs is unmounted at the end", gone, "%s is still a mount point" % mnt)


def pg_try(srv, sql, params=None, autocommit=True):
    """(None, rows) or (error, None): error = (sqlstate, message)."""
    try:
        with psycopg.connect(host="127.0.0.1", port=srv.pg_port, user="postgres", dbname="kv", connect_timeout=5,
                             autocommit=autocommit) as conn:
            cur = conn.execute(sql, params)
            rows = cur.fetchall() if cur.description else None
            if not autocommit:
                conn.commit()
            return None, rows
    except psycopg.Error as e:
        return (getattr(e, "sqlstate", None), one_line(getattr(getattr(e, "diag", None), "message_primary", None)
                                                       or str(e))), None


def full_disk_body(mnt, servers):
    filler = mnt / "filler"
    with open(filler, "wb") as f:
        f.write(os.urandom(1 << 20))
    data = mnt / "data"
    policy = "everysec" if REDIS else "always"
    srv = durlib.DurServer("fault-fulldisk", data, fsync=policy, threads=2)
    servers.append(srv)
    ok, why = srv.start_or_none(30)
    if not check("full disk: the server starts with --data-dir on a 2 MB tmpfs holding a 1 MB filler "
                 "(--appendfsync %s)" % policy, ok, why):
        return
    attempted, acked = {}, {}
    conn = RespConn(srv.port)
    first_err, closed, i, closed_in_a_row = None, 0, 0, 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 30 and i < 5000 and closed_in_a_row < 10:
        key = "fd:%05d" % i
        val = "fd-%d-" % i + "y" * 4000
        attempted[key] = val
        i += 1
        try:
            r = conn.call("SET", key, val)
        except (ConnectionError, OSError):
            closed += 1
            closed_in_a_row += 1
            conn.close()
            conn = RespConn(srv.port)
            continue
        closed_in_a_row = 0
        if r == "OK":
            acked[key] = val
        else:
            first_err = r
            break
    conn.close()
    check("full disk: writes of 4 KB values until the log fails: %d acknowledged (%d KB), %d connections closed, "
          "then %s" % (len(acked), len(acked) * 4, closed, short(first_err)), isinstance(first_err, RespError),
          "%d connections in a row closed without a reply" % closed_in_a_row if closed_in_a_row >= 10 else
          "the log never failed after %d writes (%.0f s)" % (i, time.monotonic() - t0))
    if not isinstance(first_err, RespError):
        return
    if not REDIS:
        check("full disk: the write whose flush failed was not acknowledged: its connection was closed",
              closed >= 1, "no connection was closed before the first error reply")
    check("full disk: the error reply is '-%s'" % MISCONF, str(first_err) == MISCONF, "got -%s" % first_err)
    c = RespConn(srv.port)
    some = sorted(acked)[len(acked) // 2] if acked else None
    refused = {}
    for args in (("SET", "fd:probe", "x"), ("MSET", "fd:probe1", "x", "fd:probe2", "y"),
                 ("DEL", some or "fd:none"), ("SET", some or "fd:none", "changed")):
        if args[0] != "DEL":
            for k in args[1::2]:
                attempted.setdefault(k, None)
        r = c.call(*args)
        refused[" ".join(args[:2])] = r
    check("full disk: later writes (SET, MSET, DEL, overwrite) are refused with -MISCONF",
          all(isinstance(r, RespError) and str(r) == MISCONF for r in refused.values()),
          "replies: %s" % short({k: ("-" + str(v)) if isinstance(v, RespError) else v for k, v in refused.items()}))
    # (Not PING: redis-server refuses it too while it cannot write its AOF.)
    reads = [c.call("GET", some) if some else None, c.call("EXISTS", "fd:probe"),
             c.call("MGET", some or "fd:none", "fd:probe1"), c.call("DBSIZE")]
    want = [acked[some].encode() if some else None, 0, [acked[some].encode() if some else None, None]]
    check("full disk: reads are still served (GET and MGET of an acknowledged key, EXISTS of a refused one, "
          "DBSIZE)", reads[:3] == want and isinstance(reads[3], int) and reads[3] >= len(acked),
          "got %s" % short(reads))
    info = durlib.info_fields(c)
    check("full disk: INFO persistence aof_last_write_status:err", info.get("aof_last_write_status") == "err",
          "aof_last_write_status: %s" % info.get("aof_last_write_status"))
    c.close()
    if not REDIS:
        err, rows = pg_try(srv, "INSERT INTO kv VALUES (%s, %s)", ("fd:sql1", "v"))
        attempted.setdefault("fd:sql1", "v")
        check("full disk: SQL INSERT fails with SQLSTATE 53100 'could not write to the write-ahead log: No space "
              "left on device'", err == ("53100", "could not write to the write-ahead log: No space left on device"),
              "got %s" % short(err or rows))
        err, rows = pg_try(srv, "INSERT INTO kv VALUES (%s, %s)", ("fd:sql2", "v"), autocommit=False)
        attempted.setdefault("fd:sql2", "v")
        check("full disk: SQL BEGIN; INSERT; COMMIT fails with SQLSTATE 53100", err is not None and err[0] == "53100",
              "got %s" % short(err or rows))
        err, rows = pg_try(srv, "SELECT value FROM kv WHERE key = %s", (some,))
        check("full disk: SQL SELECT is still served", err is None and rows == [(acked[some],)],
              "got %s" % short(err or rows))
    check("full disk: the server process is still up", srv.alive(), "exit status %s" % srv.proc.poll())
    text = srv.log()
    if REDIS:
        why_lines = [ln for ln in text.splitlines() if "writing to the AOF file" in ln]
    else:
        why_lines = [ln for ln in text.splitlines() if "write-ahead log" in ln and "No space left on device" in ln]
    check("full disk: the server log says why (%s)" % short(why_lines[:1], 200), bool(why_lines),
          "no line with %s; log tail: %s" % ("'writing to the AOF file'" if REDIS else
                                              "'write-ahead log' and 'No space left on device'",
                                              one_line(srv.log_tail(5))))
    # Free the space: writes are accepted again (the engine retries every second).
    filler.unlink()
    t1 = time.monotonic()
    c = RespConn(srv.port)
    last = [None]

    def writable():
        r = c.call("SET", "fd:after", "ok")
        last[0] = r
        return r == "OK"

    attempted["fd:after"] = "ok"
    back = durlib.wait_until(writable, 15, 0.2)
    took = time.monotonic() - t1
    if back:
        acked["fd:after"] = "ok"
    check("full disk: filler deleted: writes accepted again within 15 s (after %.1f s)" % took, back,
          "last reply %s" % short(last[0]))
    if not back:
        c.close()
        return
    info = durlib.info_fields(c)
    check("full disk: INFO persistence aof_last_write_status:ok again", info.get("aof_last_write_status") == "ok",
          "aof_last_write_status: %s" % info.get("aof_last_write_status"))
    if not REDIS:
        again = [ln for ln in srv.log().splitlines() if "writable again" in ln]
        check("full disk: the server log says the log is writable again", bool(again),
              "no 'writable again' line; log tail: %s" % one_line(srv.log_tail(5)))
        err, rows = pg_try(srv, "INSERT INTO kv VALUES (%s, %s)", ("fd:sql3", "after"))
        attempted["fd:sql3"] = "after"
        if err is None:
            acked["fd:sql3"] = "after"
        check("full disk: SQL INSERT accepted again", err is None, "got %s" % short(err))
    bad = []
    for j in range(20):
        k, v = "fd:more:%d" % j, "more-%d-" % j + "z" * 1000
        attempted[k] = v
        r = c.call("SET", k, v)
        if r == "OK":
            acked[k] = v
        else:
            bad.append(r)
    c.close()
    check("full disk: 20 more writes acknowledged", not bad, "replies: %s" % short(bad[:3]))
    # Restart: every acknowledged write is there; refused ones may or may not be, nothing else.
    srv.kill9()
    srv2 = durlib.DurServer("fault-fulldisk-restart", data, fsync=policy, threads=2)
    servers.append(srv2)
    ok, why = srv2.start_or_none(30)
    if not check("full disk: restarted (after SIGKILL) on the tmpfs", ok, why):
        return
    c = RespConn(srv2.port)
    got = durlib.resp_mget(c, 0, sorted(attempted))
    stray = sorted(durlib.resp_keys(c, 0) - set(attempted))
    c.close()
    lost = ["%s: %s" % (k, short(got.get(k), 30)) for k, v in sorted(acked.items()) if got.get(k) != v]
    wrong = ["%s: %s" % (k, short(got[k], 30)) for k in attempted if k not in acked and got.get(k) is not None
             and got[k] != attempted[k]]
    check("full disk: after the restart every acknowledged write is there (%d), nothing torn or invented"
          % len(acked), not lost and not wrong and not stray,
          "lost %d, e.g. %s; wrong values %s; stray keys %s" % (len(lost), "; ".join(lost[:3]), short(wrong[:3]),
                                                                short(stray[:5])))
    unacked_present = sorted(k for k in attempted if k not in acked and got.get(k) is not None)
    print("full disk: refused or unacknowledged writes present after the restart: %s" % (unacked_present or "none"),
          flush=True)


# ------------------------------------------------------------------------------ main
if REDIS:
    print("note: --server redis: only the full disk case (the others read and damage corewire's files)", flush=True)
    with C.block("full disk"):
        full_disk()
else:
    with C.block("base data dir"):
        based = build_base()
    if based:
        last = Base.records[-1]
        X = last.offset
        with C.block("torn tail in the length"):
            torn_case("torn-length", X + RNG.randint(1, 3))
        with C.block("torn tail in the payload"):
            torn_case("torn-payload", X + 4 + RNG.randrange(1, last.length), second_restart=True)
        with C.block("torn tail in the CRC"):
            torn_case("torn-crc", X + 4 + last.length + RNG.randint(0, 3))
        with C.block("flipped bit in the last record"):
            flip_last_case()
        with C.block("flipped bit in the middle"):
            flip_middle_case()
    with C.block("second server on the same data dir"):
        lock_case()
    with C.block("full disk"):
        full_disk()

if C.failed == 0 and not ARGS.keep:
    shutil.rmtree(TMP, ignore_errors=True)
else:
    print("data dirs and logs kept in %s and %s" % (TMP, ARGS.logs), flush=True)
if C.passed + C.failed == 0 and SKIPPED:
    print("faults checks: none ran (skipped: %s)" % ", ".join(SKIPPED), flush=True)
    durlib.cleanup()
    sys.exit(0)
C.finish()
