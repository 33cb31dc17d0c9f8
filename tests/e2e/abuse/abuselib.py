"""Helpers of the abuse checks (tests/e2e/abuse/abuse_check.py): a bare PostgreSQL
client (asyncio, SCRAM-SHA-256 / md5 / cleartext) for logins from a chosen source
address, the RSS sampler, percentiles."""

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tools import enc  # noqa: E402  (one RESP encoder for every e2e script)

PG_PROTOCOL_3_0 = 196608


# ---------------------------------------------------------------------------- RESP

def info_fields(text):
    out = {}
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


# ------------------------------------------------------------------------- PostgreSQL
def startup_packet(user, dbname="kv", **options):
    body = struct.pack("!i", PG_PROTOCOL_3_0) + b"user\0" + user.encode() + b"\0database\0" + dbname.encode() + b"\0"
    for k, v in options.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def pg_msg(tag, body):
    return tag + struct.pack("!i", len(body) + 4) + body


def pg_fields(body):
    out = {}
    for part in body.split(b"\0"):
        if part:
            out[part[:1].decode()] = part[1:].decode(errors="replace")
    return out


_SALTED = {}


def _salted(password, salt, iters):
    key = (password, salt, iters)
    if key not in _SALTED:
        _SALTED[key] = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iters)
    return _SALTED[key]


class Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802/7677, no channel binding), as libpq
    speaks it to PostgreSQL. The salted password is cached per (password, salt,
    iterations): a server keeps one verifier per user, so thousands of logins cost one
    PBKDF2."""

    def __init__(self, password):
        self.password = password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = "n=,r=" + self.nonce

    def first(self):
        return ("n,," + self.first_bare).encode()

    def final(self, server_first):
        sf = server_first.decode()
        attrs = dict(kv.split("=", 1) for kv in sf.split(","))
        if not attrs["r"].startswith(self.nonce):
            raise ValueError("SCRAM: server nonce does not extend ours")
        salted = _salted(self.password, base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = "c=biws,r=" + attrs["r"]
        auth_message = ",".join([self.first_bare, sf, without_proof]).encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()


async def pg_read(reader):
    head = await reader.readexactly(5)
    (n,) = struct.unpack("!i", head[1:])
    if n < 4 or n > (64 << 20):
        raise ValueError("bad message length %d from the server" % n)
    return head[:1], await reader.readexactly(n - 4)


async def pg_login(reader, writer, user, password, dbname="kv"):
    """Startup + authentication up to ReadyForQuery: ("ok", None), or ("error", fields)
    on an ErrorResponse. EOF raises asyncio.IncompleteReadError."""
    writer.write(startup_packet(user, dbname))
    await writer.drain()
    scram = None
    while True:
        t, body = await pg_read(reader)
        if t == b"E":
            return "error", pg_fields(body)
        if t == b"Z":
            return "ok", None
        if t != b"R":
            continue  # S, K, N
        (code,) = struct.unpack("!i", body[:4])
        if code == 0:
            continue
        if code == 10:  # SASL
            scram = Scram(password)
            first = scram.first()
            writer.write(pg_msg(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first))
        elif code == 11:  # SASL continue
            writer.write(pg_msg(b"p", scram.final(body[4:])))
        elif code == 12:  # SASL final
            continue
        elif code == 5:  # md5
            inner = hashlib.md5((password + user).encode()).hexdigest().encode()
            writer.write(pg_msg(b"p", b"md5" + hashlib.md5(inner + body[4:8]).hexdigest().encode() + b"\0"))
        elif code == 3:  # cleartext
            writer.write(pg_msg(b"p", password.encode() + b"\0"))
        else:
            raise ValueError("unsupported authentication request %d" % code)
        await writer.drain()


async def pg_query(reader, writer, sql):
    """Simple query: (rows as lists of str, error fields or None)."""
    writer.write(pg_msg(b"Q", sql.encode() + b"\0"))
    await writer.drain()
    rows, error = [], None
    while True:
        t, body = await pg_read(reader)
        if t == b"D":
            (n,) = struct.unpack("!h", body[:2])
            pos, row = 2, []
            for _ in range(n):
                (ln,) = struct.unpack("!i", body[pos:pos + 4])
                pos += 4
                row.append(None if ln < 0 else body[pos:pos + ln].decode(errors="replace"))
                pos += max(ln, 0)
            rows.append(row)
        elif t == b"E":
            error = pg_fields(body)
        elif t == b"Z":
            return rows, error


async def open_from(host, port, src, ssl=None, timeout=20):
    """asyncio streams to host:port with the local end bound to src (another loopback
    address, so the server sees a different client IP)."""
    return await asyncio.wait_for(asyncio.open_connection(host, port, local_addr=(src, 0) if src else None, ssl=ssl,
                                                          server_hostname="localhost" if ssl else None,
                                                          limit=1 << 20), timeout)


async def close_writer(w):
    with contextlib.suppress(Exception):
        w.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(w.wait_closed(), 2)


def sock_from(port, src, timeout=10):
    """A blocking socket to 127.0.0.1:port from src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if src:
            s.bind((src, 0))
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_eof(s, timeout, limit=1 << 20):
    """(bytes read, "eof" | "reset" | "timeout"): reads until the server closes."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout"
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            return bytes(data), "timeout"
        except OSError:
            return bytes(data), "reset"
        if not d:
            return bytes(data), "eof"
        if len(data) < limit:
            data.extend(d)


def read_n(s, n, timeout):
    """(bytes, "complete" | "eof" | "reset" | "timeout"): reads n bytes."""
    data = bytearray()
    deadline = time.monotonic() + timeout
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout"
        s.settimeout(left)
        try:
            d = s.recv(min(1 << 20, n - len(data)))
        except socket.timeout:
            return bytes(data), "timeout"
        except OSError:
            return bytes(data), "reset"
        if not d:
            return bytes(data), "eof"
        data.extend(d)
    return bytes(data), "complete"


def src_usable(addr, port):
    """True if a socket bound to addr can connect to 127.0.0.1:port."""
    try:
        sock_from(port, addr, timeout=3).close()
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------- memory
def proc_status(pid):
    """{"VmRSS": kB, "VmHWM": kB, ...} from /proc/PID/status ({} if it is gone)."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:", "Threads:")):
                    k, v = line.split(":", 1)
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


class RssSampler(threading.Thread):
    """VmRSS of a process every interval seconds: (monotonic time, kB) samples."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples = []
        self.hwm = 0
        self._stop_evt = threading.Event()

    def run(self):
        while not self._stop_evt.is_set():
            st = proc_status(self.pid)
            if "VmRSS" in st:
                self.samples.append((time.monotonic(), st["VmRSS"]))
                self.hwm = max(self.hwm, st.get("VmHWM", 0))
            self._stop_evt.wait(self.interval)

    def stop(self):
        self._stop_evt.set()
        self.join(5)
        st = proc_status(self.pid)
        self.hwm = max(self.hwm, st.get("VmHWM", 0))

    def max_between(self, t0, t1):
        vals = [kb for t, kb in list(self.samples) if t0 <= t <= t1]
        return max(vals) if vals else None

    def last_before(self, t):
        vals = [kb for ts, kb in list(self.samples) if ts <= t]
        return vals[-1] if vals else None

    def max_all(self):
        vals = [kb for _, kb in list(self.samples)]
        return max(vals) if vals else None


# ---------------------------------------------------------------------------- numbers
def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (None if empty)."""
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[k]


def ms(x):
    return None if x is None else round(x * 1000.0, 3)


def mib(kb):
    return None if kb is None else round(kb / 1024.0, 1)
