"""Shared helpers of the durability checks (tests/e2e/durability/*_check.py).

Built on tests/e2e/ops/opslib.py (Checks, free ports, RespConn, server cleanup):
every script prints one "PASS: ..." / "FAIL: ..." line per check, "SKIP: ..." for a
check that cannot run here (said why), bounds every wait, and kills every server it
started however it ends.

--server redis runs the parts that only speak RESP against a real redis-server
(--appendonly yes, its own --appendfsync) instead of corewire: a self-test of the
harness (the client and verification side), not of corewire.

Also here: a reader of corewire's data dir files (docs: /tmp/dur/SPEC.md, issue 5):
  record = u32 LE payload length | payload | u32 LE CRC-32C(length bytes + payload)
  payload = items; item = kind u8 (1 put, 2 delete) | db varint | tid u64 LE |
            [put: expire_at_ms i64 LE] | key len varint | key | [put: value len varint | value]
"""

import argparse
import atexit
import contextlib
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "ops"))
import opslib  # noqa: E402
from opslib import Checks, RespConn, RespError, enc, one_line, short, wait_until  # noqa: E402,F401

ROOT = opslib.ROOT
ARGS = None
_CLEANUPS = []
# Set by a script's harness-debug mode: corewire without --data-dir when the build has
# no such flag (nothing survives a restart; only for checking the clients themselves).
IN_MEMORY_DEBUG = False


def setup(description, add_args=None):
    """Parses the common arguments (plus the script's own); installs the cleanup."""
    global ARGS
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("COREWIRE_BIN", str(ROOT / "build" / "corewire")))
    p.add_argument("--logs", default=str(ROOT / "build" / "e2e" / "durability"))
    p.add_argument("--port-base", type=int, default=19800)
    p.add_argument("--server", choices=["corewire", "redis"], default="corewire",
                   help="redis: run the RESP-only parts against redis-server --appendonly yes (harness self-test)")
    p.add_argument("--seed", type=int, default=None, help="random seed (printed; to replay a run)")
    p.add_argument("--keep", action="store_true", help="keep the data dirs even when every check passed")
    if add_args:
        add_args(p)
    ARGS = p.parse_args()
    ARGS.bin = os.path.abspath(ARGS.bin)
    ARGS.logs = os.path.abspath(ARGS.logs)
    Path(ARGS.logs).mkdir(parents=True, exist_ok=True)
    if ARGS.seed is None:
        ARGS.seed = random.SystemRandom().randrange(1, 1 << 31)
    opslib.ARGS = ARGS  # opslib's free_port, Server and corewire_help read it
    atexit.register(cleanup)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, opslib._on_signal)
    return ARGS


def on_cleanup(fn):
    """fn() runs at exit after every server is stopped (e.g. an unmount)."""
    _CLEANUPS.append(fn)


def cleanup():
    # SIGKILL, not opslib's SIGTERM + 15 s: under `timeout -k 10` the unmounts after it
    # must still run.
    for s in opslib.SERVERS:
        with contextlib.suppress(Exception):
            if s.proc is not None and s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait(5)
    while _CLEANUPS:
        fn = _CLEANUPS.pop()
        with contextlib.suppress(Exception):
            fn()


def check(checks, what, cond, why=""):
    """One PASS/FAIL line; why (a string or a function returning one) only on FAIL."""
    if cond:
        return checks.ok(what, True)
    return checks.ok(what, False, why() if callable(why) else why)


def is_redis():
    return ARGS.server == "redis"


def require_durability(checks):
    """corewire: a FAIL (and False) if this build has no --data-dir flag."""
    if is_redis():
        if not opslib.require_tools(checks, ["redis-server"]):
            return False
        return True
    if not os.access(ARGS.bin, os.X_OK):
        checks.fail("corewire binary", "missing %s (make all)" % ARGS.bin)
        return False
    if not opslib.has_flag("data-dir"):
        if IN_MEMORY_DEBUG:
            print("note: %s has no --data-dir: harness debug mode runs it in memory" % ARGS.bin, flush=True)
            return True
        checks.fail("corewire --data-dir", "%s --help has no --data-dir flag: durability (issue 5) is not in this "
                    "build" % ARGS.bin)
        return False
    return True


# ---------------------------------------------------------------------------- servers
class DurServer(opslib.Server):
    """corewire --data-dir DIR --appendfsync POLICY (free --port/--pg-port/--http-port),
    or with --server redis a redis-server --appendonly yes --dir DIR on a free port."""

    def __init__(self, name, data_dir, fsync="always", threads=2, ckpt_bytes=None, extra=()):
        if is_redis():
            super().__init__(name, ports=False, threads=None)
            Path(data_dir).mkdir(parents=True, exist_ok=True)  # redis-server does not create it
            self.port = opslib.free_port()
            self.argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(data_dir),
                         "--appendonly", "yes", "--appendfsync", fsync, "--save", "", "--daemonize", "no",
                         "--logfile", ""]
            if ckpt_bytes:
                self.argv += ["--auto-aof-rewrite-min-size", str(ckpt_bytes), "--auto-aof-rewrite-percentage", "1"]
            self.argv += list(extra)
        else:
            args = ["--data-dir", str(data_dir), "--appendfsync", fsync]
            if IN_MEMORY_DEBUG and not opslib.has_flag("data-dir"):
                args, ckpt_bytes = [], None
            if ckpt_bytes:
                args += ["--checkpoint-log-bytes", str(ckpt_bytes)]
            super().__init__(name, args=args + list(extra), threads=threads)
        self.data_dir = Path(data_dir)

    def kill9(self):
        """SIGKILL and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(10)
        with contextlib.suppress(Exception):
            self.log_file.close()

    def serving(self):
        """True once a GET answers with something other than -LOADING (redis-server
        answers PING while it loads)."""
        if self.proc.poll() is not None:
            return True  # start_or_none reports the exit
        try:
            c = RespConn(self.port, timeout=2)
            try:
                r = c.call("GET", "__probe__")
                return not (isinstance(r, RespError) and str(r).startswith("LOADING"))
            finally:
                c.close()
        except (OSError, ConnectionError, ValueError):
            return False

    def start_or_none(self, timeout=30):
        """Starts and waits until ready: (True, "") or (False, why) with the log tail."""
        self.start()
        deadline = time.monotonic() + timeout
        if self.wait_ready(timeout) and wait_until(lambda: self.serving(), max(1.0, deadline - time.monotonic())):
            return True, ""
        rc = self.proc.poll()
        return False, "%s did not become ready within %d s (%s); log tail: %s" % (
            self.name, timeout, "exit status %s" % rc if rc is not None else "still running",
            one_line(self.log_tail(6), 800))


def info_fields(conn, section="persistence"):
    r = conn.call("INFO", section)
    if isinstance(r, RespError):
        return {"__error__": str(r)}
    out = {}
    for line in r.decode(errors="replace").splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def resp_mget(conn, db, keys, chunk=500):
    """{key: value or None} for keys (str) in db, through MGET in chunks."""
    out = {}
    if conn.call("SELECT", db) != "OK":
        raise RuntimeError("SELECT %d failed" % db)
    keys = list(keys)
    for i in range(0, len(keys), chunk):
        part = keys[i:i + chunk]
        r = conn.call("MGET", *part)
        if isinstance(r, RespError) or not isinstance(r, list) or len(r) != len(part):
            raise RuntimeError("MGET of %d keys: %s" % (len(part), short(r)))
        for k, v in zip(part, r):
            out[k] = None if v is None else v.decode(errors="surrogateescape")
    conn.call("SELECT", 0)
    return out


def resp_keys(conn, db):
    """Every key of db (SCAN), as str."""
    if conn.call("SELECT", db) != "OK":
        raise RuntimeError("SELECT %d failed" % db)
    keys, cursor = set(), b"0"
    for _ in range(100000):
        r = conn.call("SCAN", cursor, "COUNT", 1000)
        if isinstance(r, RespError):
            raise RuntimeError("SCAN: %s" % r)
        cursor, part = r
        keys.update(k.decode(errors="surrogateescape") for k in part)
        if cursor == b"0":
            break
    conn.call("SELECT", 0)
    return keys


# ------------------------------------------------------------------------- log files
def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


class Record:
    __slots__ = ("offset", "length", "payload", "items")

    def __init__(self, offset, length, payload):
        self.offset, self.length, self.payload = offset, length, payload
        self.items = None  # [(kind, db, tid, expire_at_ms, key bytes, value bytes or None)], or None

    @property
    def size(self):
        return 8 + self.length

    @property
    def end(self):
        return self.offset + self.size


def _varint(buf, pos):
    v, shift = 0, 0
    while pos < len(buf) and shift < 64:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v, pos
        shift += 7
    raise ValueError("bad varint")


def decode_items(payload):
    items, p = [], 0
    if not payload:
        raise ValueError("empty payload")
    while p < len(payload):
        kind = payload[p]
        p += 1
        if kind not in (1, 2):
            raise ValueError("item kind %d at payload byte %d" % (kind, p - 1))
        db, p = _varint(payload, p)
        if p + 8 > len(payload):
            raise ValueError("short tid")
        (tid,) = struct.unpack_from("<Q", payload, p)
        p += 8
        expire = None
        if kind == 1:
            if p + 8 > len(payload):
                raise ValueError("short deadline")
            (expire,) = struct.unpack_from("<q", payload, p)
            p += 8
        klen, p = _varint(payload, p)
        if p + klen > len(payload):
            raise ValueError("short key")
        key = bytes(payload[p:p + klen])
        p += klen
        value = None
        if kind == 1:
            vlen, p = _varint(payload, p)
            if p + vlen > len(payload):
                raise ValueError("short value")
            value = bytes(payload[p:p + vlen])
            p += vlen
        items.append((kind, db, tid, expire, key, value))
    return items


def parse_log(path):
    """(records, stop_offset, why): the whole records with a matching CRC from byte 0,
    where the walk stopped, and why ("end" at the end of the file, or where only the
    zeros of preallocated space follow: the engine grows logs in zeroed steps)."""
    data = Path(path).read_bytes()
    records, off = [], 0
    while off < len(data):
        if not any(data[off:]):
            break
        if len(data) - off < 8:
            return records, off, "incomplete record at byte %d" % off
        (length,) = struct.unpack_from("<I", data, off)
        if length == 0 or length > len(data) - off - 8:
            return records, off, "bad length %d at byte %d" % (length, off)
        (stored,) = struct.unpack_from("<I", data, off + 4 + length)
        if crc32c(data[off:off + 4 + length]) != stored:
            return records, off, "CRC mismatch at byte %d" % off
        rec = Record(off, length, data[off + 4:off + 4 + length])
        with contextlib.suppress(ValueError):
            rec.items = decode_items(rec.payload)
        records.append(rec)
        off += 8 + length
    return records, off, "end"


LOG_NAME = re.compile(r"^wal-(\d{8})-(\d{3})\.log$")


def log_files(data_dir):
    """[(generation, slot, path)] of the wal-*.log files, oldest generation first."""
    out = []
    for p in Path(data_dir).iterdir():
        m = LOG_NAME.match(p.name)
        if m:
            out.append((int(m.group(1)), int(m.group(2)), p))
    return sorted(out)


def replay(records_lists, now_ms=None):
    """The state the records describe: {(db, key bytes): value bytes} (highest TID wins;
    deletes and, if now_ms is given, expired puts are absent)."""
    best = {}
    for records in records_lists:
        for rec in records:
            for kind, db, tid, expire, key, value in rec.items:
                cur = best.get((db, key))
                if cur is None or tid >= cur[0]:
                    best[(db, key)] = (tid, kind, expire, value)
    out = {}
    for k, (tid, kind, expire, value) in best.items():
        if kind == 1 and not (now_ms is not None and expire and 0 < expire <= now_ms):
            out[k] = value
    return out


def flip_bit(path, offset, bit):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ (1 << bit)]))
        f.flush()
        os.fsync(f.fileno())


def truncate(path, size):
    with open(path, "r+b") as f:
        f.truncate(size)
        f.flush()
        os.fsync(f.fileno())


def mount_tmpfs(path, size="2m"):
    """Mounts a tmpfs of size at path: (True, "") or (False, why)."""
    Path(path).mkdir(parents=True, exist_ok=True)
    try:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", str(path)],
                           capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, "mount: %s" % e
    if p.returncode != 0:
        return False, "mount -t tmpfs exit %d: %s" % (p.returncode, one_line(p.stderr or p.stdout))
    return True, ""


def stale_mounts(under):
    """Mount points below the directory under (left by a run that was SIGKILLed)."""
    out = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 1:
                mp = parts[1].replace("\\040", " ")
                if mp.startswith(str(under).rstrip("/") + "/"):
                    out.append(mp)
    return out


def umount(path):
    """Unmounts (lazily if it is busy); True if it is no longer a mount point."""
    for argv in (["umount", str(path)], ["umount", "-l", str(path)]):
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(argv, capture_output=True, timeout=20)
        if not os.path.ismount(str(path)):
            return True
    return not os.path.ismount(str(path))


def now_ms():
    return int(time.time() * 1000)
