"""Shared helpers of the operations checks (tests/e2e/ops/*_check.py).

Every check script:
  - prints one line per check, "PASS: <what>" or "FAIL: <what>: <why>", which
    tests/e2e/run.sh counts one by one; a missing tool or Python package is a FAIL,
    never a skip;
  - starts its own corewire servers (build/corewire, or --bin) on free loopback
    ports (the scan of tests/e2e/lib.sh's free_port, from --port-base), with their
    output in --logs/<name>.log, and kills every one of them when it exits, however
    it exits (atexit, SIGTERM/SIGINT/SIGHUP handlers, and PR_SET_PDEATHSIG in the
    child so that a SIGKILLed script does not leave a server behind);
  - bounds every wait;
  - ends with "<name> checks: N of M passed" and exits 1 if any failed.

Clients: redis-py and psycopg 3 where a real driver is the point; RespConn and
PgRaw (below) where a check must see exactly what the server sent, or must notice
a dropped connection (redis-py reconnects by itself).
"""

import argparse
import atexit
import contextlib
import ctypes
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from tools import enc, port_free  # noqa: E402  (the RESP encoder; the same test as lib.sh's free_port)

ARGS = None
SERVERS = []
_HANDED_OUT = set()
_HELP = None


def setup(description):
    """Parses the common arguments; installs the cleanup. Returns the namespace."""
    global ARGS
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--bin", default=os.environ.get("COREWIRE_BIN", str(ROOT / "build" / "corewire")))
    p.add_argument("--logs", default=str(ROOT / "build" / "e2e" / "ops"))
    p.add_argument("--port-base", type=int, default=18000)
    ARGS = p.parse_args()
    ARGS.bin = os.path.abspath(ARGS.bin)  # servers run in the logs directory
    ARGS.logs = os.path.abspath(ARGS.logs)
    Path(ARGS.logs).mkdir(parents=True, exist_ok=True)
    atexit.register(stop_all)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    return ARGS


def _on_signal(signum, _frame):
    print("FAIL: interrupted by signal %d (timeout?); stopping servers" % signum, flush=True)
    sys.exit(130)


# ----------------------------------------------------------------------------- checks
class Checks:
    """PASS/FAIL lines, counted."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def ok(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print("PASS: %s%s" % (what, " (%s)" % detail if detail else ""), flush=True)
        else:
            self.failed += 1
            print("FAIL: %s%s" % (what, ": %s" % detail if detail else ""), flush=True)
        return bool(cond)

    def eq(self, what, want, got):
        if got == want:
            return self.ok(what, True, "got %s" % short(got))
        return self.ok(what, False, "expected %s, got %s" % (short(want), short(got)))

    def fail(self, what, detail):
        return self.ok(what, False, detail)

    @contextlib.contextmanager
    def block(self, what):
        """An exception inside is one FAIL naming the block and the line that raised."""
        try:
            yield
        except Exception as e:  # noqa: BLE001 - report it, go on with the next block
            self.fail(what, "%s: %s (%s)" % (type(e).__name__, one_line(str(e)), where(e)))

    def finish(self):
        total = self.passed + self.failed
        print("%s checks: %d of %d passed" % (self.name, self.passed, total), flush=True)
        stop_all()
        sys.exit(0 if self.failed == 0 and total > 0 else 1)


def where(e):
    tb = traceback.extract_tb(e.__traceback__)
    mine = [f for f in tb if f.filename.endswith("_check.py")] or tb
    return "%s:%d" % (Path(mine[-1].filename).name, mine[-1].lineno) if mine else "?"


def one_line(text, limit=400):
    text = " | ".join(line.strip() for line in str(text).strip().splitlines())
    return text if len(text) <= limit else text[:limit] + "..."


def short(value, limit=300):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def require_modules(checks, names):
    """Imports each module; a missing one is a FAIL. Returns True if all are there."""
    good = True
    for name in names:
        try:
            __import__(name)
        except ImportError as e:
            pkg = {"psycopg": "psycopg[binary]", "redis": "redis", "prometheus_client": "prometheus_client"}.get(name, name)
            checks.fail("python package %s" % name, "%s (pip install %s)" % (e, pkg))
            good = False
    return good


def require_tools(checks, names):
    good = True
    for name in names:
        if shutil.which(name) is None:
            checks.fail("tool %s" % name, "not on PATH")
            good = False
    return good


# ------------------------------------------------------------------------------ ports
def free_port(start=None):
    """A free loopback port at or above start (bounded scan), never handed out before."""
    start = start or ARGS.port_base
    for port in range(start, start + 400):
        if port in _HANDED_OUT:
            continue
        if port_free(port):
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port in %d..%d" % (start, start + 400))


def listening(port, timeout=1.0):
    """True if something accepts TCP connections on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
        return True
    except OSError:
        return False


def wait_until(fn, timeout, interval=0.05):
    """Polls fn() until it returns something truthy or timeout seconds pass; returns its
    last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


# ---------------------------------------------------------------------------- servers
def corewire_help():
    global _HELP
    if _HELP is None:
        try:
            _HELP = subprocess.run([ARGS.bin, "--help"], capture_output=True, text=True, timeout=15).stdout
        except (OSError, subprocess.TimeoutExpired) as e:
            _HELP = "<--help failed: %s>" % e
    return _HELP


def has_flag(name):
    return re.search(r"(^|[\s,\[])--%s\b" % re.escape(name), corewire_help(), re.M) is not None


def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()
PR_SET_PDEATHSIG = 1


def _child_setup():
    # Default dispositions (this script may have been started with SIGINT ignored, as
    # bash does for background jobs), and die with this script.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def clean_env(extra=None):
    """This environment less every COREWIRE_* and PG* variable, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COREWIRE_") and not k.startswith("PG")}
    env.update({"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})
    env.update(extra or {})
    return env


class Server:
    """One corewire process.

    ports=True gives it --port, --pg-port and (if this build has the flag) --http-port,
    each free; ports=False passes none (the test sets them in a file or the
    environment and fills port/pg_port/http_port itself)."""

    def __init__(self, name, args=(), env=None, ports=True, threads=2, port=None, pg_port=None, http_port=None):
        self.name = name
        self.log_path = Path(ARGS.logs) / ("%s.log" % name)
        self.port, self.pg_port, self.http_port = port, pg_port, http_port
        argv = []
        if ports:
            self.port = self.port or free_port()
            self.pg_port = self.pg_port or free_port()
            argv += ["--port", str(self.port), "--pg-port", str(self.pg_port)]
            if has_flag("http-port"):
                self.http_port = self.http_port or free_port()
                argv += ["--http-port", str(self.http_port)]
        if threads is not None:
            argv += ["--threads", str(threads)]
        self.argv = [ARGS.bin] + argv + list(args)
        self.env = clean_env(env)
        self.proc = None
        self.started_at = None

    def start(self):
        self.log_file = open(self.log_path, "wb")
        self.log_file.write(("# %s\n" % " ".join(self.argv)).encode())
        self.log_file.flush()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, env=self.env, preexec_fn=_child_setup,
                                     cwd=ARGS.logs)
        self.started_at = time.monotonic()
        SERVERS.append(self)
        return self

    def start_ready(self, timeout=10):
        """Starts and waits until every configured port answers; raises with the log tail
        if it does not."""
        self.start()
        if not self.wait_ready(timeout):
            rc = self.proc.poll()
            raise RuntimeError("%s did not become ready within %d s (%s); log tail: %s"
                               % (self.name, timeout, "exit status %s" % rc if rc is not None else "still running",
                                  one_line(self.log_tail(5))))
        return self

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        todo = [p for p in (self.port, self.pg_port, self.http_port) if p]
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self.port in todo and resp_answers(self.port):
                todo.remove(self.port)
            for p in [p for p in todo if p != self.port]:
                if listening(p, 0.5):
                    todo.remove(p)
            if not todo:
                return True
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Exit status, or None if still running after timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait(15) is None:
                self.proc.kill()
                self.wait(10)
        with contextlib.suppress(Exception):
            self.log_file.close()
        return self.proc.returncode

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=5):
        return "\n".join(self.log().splitlines()[-n:])

    # -- clients
    def resp(self, timeout=10):
        return RespConn(self.port, timeout)

    def redis(self, **kw):
        import redis
        kw.setdefault("socket_timeout", 10)
        kw.setdefault("socket_connect_timeout", 5)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def pg(self, user="postgres", password=None, dbname="kv", autocommit=True, **kw):
        import psycopg
        return psycopg.connect(host="127.0.0.1", port=self.pg_port, user=user, password=password, dbname=dbname,
                               connect_timeout=5, autocommit=autocommit, **kw)

    def http(self, method, path, body=None, headers=None, timeout=10):
        return http_request(self.http_port, method, path, body, headers, timeout)

    def metrics(self):
        status, headers, body = self.http("GET", "/metrics")
        if status != 200:
            raise AssertionError("GET /metrics: status %d: %s" % (status, short(body[:300])))
        return Metrics(body.decode(), headers.get("content-type", ""))

    def cli(self, *args, password=None, timeout=10):
        """redis-cli ARGS: (exit status, stdout+stderr)."""
        argv = ["redis-cli", "-p", str(self.port)]
        if password:
            argv += ["-a", password, "--no-auth-warning"]
        return run(argv + [str(a) for a in args], timeout=timeout)

    def psql(self, sql, user="postgres", password=None, dbname="kv", timeout=30, extra=()):
        """psql -c SQL, unaligned, tab-separated, with a header, no footer: (exit status,
        output)."""
        env = clean_env({"PGCONNECT_TIMEOUT": "5", "PGPASSFILE": "/nonexistent/.pgpass"})
        if password is not None:
            env["PGPASSWORD"] = password
        argv = ["psql", "-X", "-A", "-F", "\t", "-P", "footer=off", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                "-p", str(self.pg_port), "-U", user, "-d", dbname] + list(extra) + ["-c", sql]
        return run(argv, timeout=timeout, env=env)


def stop_all():
    for s in SERVERS:
        with contextlib.suppress(Exception):
            s.stop()


def run(argv, timeout=30, env=None, input=None, cwd=None):
    """Runs a command: (exit status, stdout+stderr as text); 124 on timeout, 127 if missing."""
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           env=env if env is not None else clean_env(), input=input, cwd=cwd,
                           stdin=None if input is not None else subprocess.DEVNULL)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return 124, (e.stdout or b"").decode(errors="replace") + "\n<timed out after %s s>" % timeout
    except FileNotFoundError as e:
        return 127, str(e)


def parse_psql(out):
    """Header and rows of psql -A -F TAB -P footer=off output."""
    lines = [line for line in out.splitlines() if line != ""]
    if not lines:
        return [], []
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


# ------------------------------------------------------------------------------- HTTP
def http_request(port, method, path, body=None, headers=None, timeout=10):
    """(status, headers with lowercase names, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def http_json(port, method, path, body=None, headers=None):
    status, hdrs, data = http_request(port, method, path, body, headers)
    try:
        doc = json.loads(data)
    except ValueError as e:
        raise AssertionError("%s %s: status %d, body is not JSON (%s): %s" % (method, path, status, e, short(data[:300])))
    return status, hdrs, doc


# ---------------------------------------------------------------------------- metrics
class Metrics:
    """One /metrics scrape, parsed by prometheus_client's own parser."""

    def __init__(self, text, content_type=""):
        from prometheus_client.parser import text_string_to_metric_families
        self.text = text
        self.content_type = content_type
        self.families = {}
        self.samples = []
        for family in text_string_to_metric_families(text):
            self.families[family.name] = family
            for s in family.samples:
                self.samples.append((s.name, dict(s.labels), s.value))

    def family(self, name):
        """The family of a metric name given with or without its _total suffix."""
        return self.families.get(name) or self.families.get(re.sub(r"_total$", "", name))

    def has_sample(self, name, **labels):
        return any(n == name and all(l.get(k) == v for k, v in labels.items()) for n, l, _ in self.samples)

    def value(self, name, **labels):
        """Sum of the samples of that name whose labels include the given ones; 0 if none
        (a labelled counter appears once it is nonzero)."""
        return sum(v for n, l, v in self.samples if n == name and all(l.get(k) == v2 for k, v2 in labels.items()))

    def values(self, name):
        return [(l, v) for n, l, v in self.samples if n == name]

    def sum_where(self, name, pred):
        return sum(v for n, l, v in self.samples if n == name and pred(l))


# ------------------------------------------------------------------------------- RESP
class RespError(Exception):
    pass



class RespConn:
    """One RESP2 connection that never reconnects: a dropped connection raises
    ConnectionError. Error replies come back as RespError instances (not raised)."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def send(self, *args):
        self.sock.sendall(enc(*args))

    def call(self, *args):
        self.send(*args)
        return self.reply()

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise ConnectionError("server closed the connection")
        if self.pos > 65536:
            del self.buf[:self.pos]
            self.pos = 0
        self.buf.extend(d)

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) - self.pos < n + 2:
                self._fill()
            data = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n + 2
            return data
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("unexpected RESP reply line %r" % line[:100])

    def closed_by_server(self, timeout):
        """Waits up to timeout s for the server to close this connection; True if it did
        (EOF or reset), False if it is still open."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))
            if r:
                try:
                    d = self.sock.recv(65536)
                except OSError:
                    return True
                if not d:
                    return True
                self.buf.extend(d)
        return False


def resp_answers(port):
    """True if port answers PING with any RESP reply (+PONG, or -NOAUTH under a password)."""
    try:
        c = RespConn(port, timeout=1)
        try:
            r = c.call("PING")
            return r == "PONG" or isinstance(r, RespError)
        finally:
            c.close()
    except (OSError, ValueError, ConnectionError):
        return False


# --------------------------------------------------------------------------- PostgreSQL
class PgRaw:
    """A bare PostgreSQL v3 connection (trust authentication only), for checks on what
    the server sends on its own (the FATAL at shutdown)."""

    def __init__(self, port, user="postgres", dbname="kv", timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        body = struct.pack("!i", 196608) + b"user\0" + user.encode() + b"\0database\0" + dbname.encode() + b"\0\0"
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)
        self.buf = b""
        while True:
            t, payload = self.message()
            if t == b"R" and struct.unpack("!i", payload[:4])[0] != 0:
                raise RuntimeError("PgRaw: server asked for authentication %d (trust only)"
                                   % struct.unpack("!i", payload[:4])[0])
            if t == b"E":
                raise RuntimeError("PgRaw: startup failed: %s" % self.fields(payload))
            if t == b"Z":
                return

    def _read(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("server closed the connection")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def message(self):
        head = self._read(5)
        n = struct.unpack("!i", head[1:])[0]
        return head[:1], self._read(n - 4)

    @staticmethod
    def fields(payload):
        out = {}
        for part in payload.split(b"\0"):
            if part:
                out[part[:1].decode()] = part[1:].decode(errors="replace")
        return out

    def query(self, sql):
        """Simple query: (command tags, rows, error fields or None)."""
        body = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!i", len(body) + 4) + body)
        tags, rows, error = [], [], None
        while True:
            t, payload = self.message()
            if t == b"C":
                tags.append(payload.rstrip(b"\0").decode())
            elif t == b"D":
                (n,) = struct.unpack("!h", payload[:2])
                pos, row = 2, []
                for _ in range(n):
                    (ln,) = struct.unpack("!i", payload[pos:pos + 4])
                    pos += 4
                    if ln < 0:
                        row.append(None)
                    else:
                        row.append(payload[pos:pos + ln].decode(errors="replace"))
                        pos += ln
                rows.append(row)
            elif t == b"E":
                error = self.fields(payload)
            elif t == b"Z":
                return tags, rows, error

    def wait_server_message(self, timeout):
        """What the server sends on its own within timeout s: ("E", fields), ("EOF", None)
        or ("none", None). Notices are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "none", None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return "none", None
            try:
                t, payload = self.message()
            except (ConnectionError, OSError):
                return "EOF", None
            if t == b"E":
                return "E", self.fields(payload)
            if t == b"N" or t == b"S":
                continue
            return t.decode(errors="replace"), payload

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.sendall(b"X\0\0\0\4")
        with contextlib.suppress(OSError):
            self.sock.close()
