#!/usr/bin/env python3
"""Differential RESP test: the same bytes go to a reference redis-server and to the
server under test; the replies are compared byte for byte.

Usage: differential.py --ref-port P --test-port Q [--host 127.0.0.1] [--verbose]

Python 3 standard library only (raw sockets), so it runs anywhere CI runs.

Each script runs on one fresh connection per server, after FLUSHALL on both. A script
is a list of steps; a step is some bytes to send (optionally in small chunks, to force
the server to see partial frames) and one comparison mode per expected reply:

  exact     reply bytes must be identical (the default, and by far the most common)
  type      only the RESP type byte is compared: for replies whose content legitimately
            differs between two servers (INFO text, CLIENT ID values, COMMAND and
            COMMAND DOCS tables, COMMAND COUNT, CONFIG values that depend on the host)
  hello     HELLO's map: same type, same keys in the same order, same values except
            server/version/id (which name the implementation and the connection)
  map       a map (RESP3) or flat key/value array (RESP2), compared as a set of pairs
            (CONFIG GET with several parameters: Redis answers in hash order)
  keyspace  INFO keyspace: only the db0 key count is compared
  time      TIME: both replies must be a 2-element array of bulk strings holding
            non-negative decimal integers (seconds, microseconds < 1000000)

A script may use several connections per server (ON(i, step), C2(...)): e.g. WATCH on
one and a write on the other. Steps run in lockstep, one at a time.

Scripts flagged expect_close must leave the connection closed by the server after the
replies (protocol errors, QUIT). After every script we also check that neither server
sent bytes nobody asked for.

The reference redis-server runs with its defaults (16 databases, as corewire).

Scripts in DIFFERS_ON_PURPOSE are where corewire differs from Redis by design; they are
not run, and each says why in one line.
"""

import argparse
import select
import socket
import sys
import time

READ_TIMEOUT_S = 10.0      # one reply; large values included
CLOSE_WAIT_S = 3.0         # how long a server may take to close after a protocol error
EXTRA_WAIT_S = 0.05        # how long we listen for unexpected trailing bytes
SCRIPT_DEADLINE_S = 60.0   # a whole script, both servers
REPR_MAX = 400             # characters of repr() shown per mismatching reply


class ReplyTimeout(Exception):
    pass


class Closed(Exception):
    pass


class Conn:
    """A blocking client socket with a RESP2/RESP3 reply reader."""

    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=READ_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data, chunk_bytes=0, chunk_delay_s=0.0):
        if chunk_bytes <= 0:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), chunk_bytes):
            self.sock.sendall(data[i:i + chunk_bytes])
            if chunk_delay_s:
                time.sleep(chunk_delay_s)

    def _fill(self):
        try:
            data = self.sock.recv(1 << 16)
        except socket.timeout:
            raise ReplyTimeout("no complete reply within %.0f s" % READ_TIMEOUT_S)
        except ConnectionResetError:
            data = b""
        if not data:
            raise Closed("connection closed by server")
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) - self.pos < n:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return data

    def _value(self):
        """Parses one RESP2/RESP3 value into (type, payload)."""
        line = self._line()
        t, rest = line[:1], line[1:]
        if t in (b"+", b"-", b"(", b","):
            return (t, rest)
        if t == b":":
            return (t, int(rest))
        if t == b"#":
            return (t, rest == b"t")
        if t == b"_":
            return (t, None)
        if t in (b"$", b"!", b"="):
            n = int(rest)
            if n < 0:
                return (t, None)
            data = self._exact(n + 2)
            if data[-2:] != b"\r\n":
                raise ValueError("bulk string not followed by CRLF")
            return (t, data[:-2])
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return (t, None)
            return (t, [self._value() for _ in range(n)])
        if t == b"%":
            n = int(rest)
            return (t, [(self._value(), self._value()) for _ in range(n)])
        if t == b"|":
            # An attribute map precedes the real reply; keep both.
            attrs = [(self._value(), self._value()) for _ in range(int(rest))]
            inner = self._value()
            return (inner[0], inner[1], attrs)
        raise ValueError("unknown RESP type byte in line %r" % line[:80])

    def read_reply(self):
        """Returns (raw bytes of one complete reply, parsed value)."""
        start = self.pos
        value = self._value()
        raw = bytes(self.buf[start:self.pos])
        del self.buf[:self.pos]
        self.pos = 0
        return raw, value

    def scan_all(self, args, max_calls=100000):
        cursor = b"0"
        keys = set()
        calls = 0
        while True:
            self.send(enc(b"SCAN", cursor, *args))
            raw, v = self.read_reply()
            calls += 1
            if v[0] == b"-":
                return raw, v
            ok = (v[0] == b"*" and v[1] is not None and len(v[1]) == 2
                  and v[1][0][0] == b"$" and (v[1][0][1] or b"").isdigit()
                  and v[1][1][0] == b"*" and v[1][1][1] is not None
                  and all(t == b"$" for t, _ in v[1][1][1]))
            if not ok:
                return b"<malformed SCAN reply %s>" % raw[:200], None
            keys.update(k for _, k in v[1][1][1])
            cursor = v[1][0][1]
            if cursor == b"0":
                break
            if calls >= max_calls:
                return b"<SCAN did not end after %d calls>" % calls, None
        return b"SCAN-ALL %d keys: %r" % (len(keys), sorted(keys)), None

    def pending_bytes(self, wait_s):
        """Bytes the server sent that no one asked for (waits up to wait_s)."""
        extra = bytes(self.buf[self.pos:])
        r, _, _ = select.select([self.sock], [], [], wait_s)
        if r:
            try:
                self.sock.settimeout(0.2)
                extra += self.sock.recv(1 << 16)
            except (socket.timeout, ConnectionResetError, OSError):
                pass
            finally:
                self.sock.settimeout(READ_TIMEOUT_S)
        return extra

    def wait_closed(self, wait_s):
        """True if the server closes the connection within wait_s (any data before
        the close is returned as the second value)."""
        deadline = time.monotonic() + wait_s
        extra = bytes(self.buf[self.pos:])
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            try:
                data = self.sock.recv(1 << 16)
            except ConnectionResetError:
                return True, extra
            except OSError:
                return True, extra
            if not data:
                return True, extra
            extra += data
        return False, extra


# ---------------------------------------------------------------- script builders

def enc(*args):
    """Encodes one command as a RESP multibulk request."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Step:
    def __init__(self, data, modes, chunk_bytes=0, chunk_delay_s=0.0, conn=0):
        self.data = data
        self.modes = modes
        self.chunk_bytes = chunk_bytes
        self.chunk_delay_s = chunk_delay_s
        self.conn = conn  # which of the script's connections (per server) sends it


def C(*args, mode="exact"):
    """One multibulk command, one reply."""
    return Step(enc(*args), [mode])


def RAW(data, n=1, mode="exact", chunk_bytes=0, chunk_delay_s=0.0):
    """Arbitrary bytes expecting n replies."""
    return Step(data, [mode] * n, chunk_bytes, chunk_delay_s)


def PIPE(*steps):
    """Several steps sent as one write."""
    return Step(b"".join(s.data for s in steps), [m for s in steps for m in s.modes])


def ON(conn, step):
    """The step, sent on the script's connection number conn (0 is the default one).
    Scripts that use several connections drive them in lockstep: each step runs on
    the reference, then on the server under test, before the next step starts."""
    step.conn = conn
    return step


def C2(*args, mode="exact"):
    """One command on the script's second connection."""
    return ON(1, C(*args, mode=mode))


class ScanStep(Step):
    """A full SCAN iteration (SCAN 0 args..., then the returned cursors until 0). Its
    one "reply" is synthetic: the sorted set of keys seen, so servers whose hash tables
    (and so cursors and order) differ compare equal when they return the same keys. An
    error reply (on any call) is the reply as is; a malformed reply or an iteration
    that does not end is reported as such."""

    def __init__(self, args):
        super().__init__(enc("SCAN", "0", *args), ["exact"])
        self.scan_args = args


def SCANALL(*args):
    return ScanStep(args)


class SleepStep(Step):
    """Waits (once, after both servers ran the previous steps); no reply."""

    def __init__(self, seconds):
        super().__init__(b"", [])
        self.sleep_s = seconds


def SLEEP(seconds):
    return SleepStep(seconds)


class Script:
    def __init__(self, name, steps, expect_close=False):
        self.name = name
        self.steps = steps
        self.expect_close = expect_close  # about connection 0
        self.nconns = 1 + max(s.conn for s in steps)


def build_scripts():
    S = []
    add = lambda name, steps, **kw: S.append(Script(name, steps, **kw))

    # --- PING / ECHO
    add("ping", [C("PING"), C("PING", "hello"), C("ping"), C("PiNg"),
                 C("PING", "a", "b"), C("PING", ""),
                 C("ECHO", "x"), C("ECHO", ""), C("ECHO"), C("ECHO", "a", "b"),
                 C("echo", "with space\r\nand crlf")])

    # --- GET / SET and options
    add("get-set", [C("GET", "k"), C("SET", "k", "v"), C("GET", "k"),
                    C("SET", "k", "v2"), C("GET", "k"),
                    C("GET"), C("GET", "a", "b"), C("SET", "k"), C("SET"),
                    C("set", "lower", "case"), C("get", "lower"),
                    C("SET", "", "emptykey"), C("GET", ""),
                    C("SET", "e", ""), C("GET", "e")])
    add("set-options", [
        C("SET", "k", "v", "NX"), C("GET", "k"),
        C("SET", "k", "w", "NX"), C("GET", "k"),
        C("SET", "k", "x", "XX"), C("GET", "k"),
        C("SET", "nokey", "x", "XX"), C("GET", "nokey"),
        C("SET", "k", "y", "GET"), C("GET", "k"),
        C("SET", "fresh", "y", "GET"), C("GET", "fresh"),
        C("SET", "k", "z", "XX", "GET"), C("SET", "nokey2", "z", "XX", "GET"),
        C("SET", "k", "q", "NX", "GET"), C("SET", "nokey3", "q", "NX", "GET"),
        C("GET", "nokey3"),
        C("SET", "k", "v", "nx"), C("SET", "k", "v", "xx"), C("SET", "k", "v", "get"),
        C("SET", "k", "v", "NX", "XX"), C("SET", "k", "v", "XX", "NX"),
        C("SET", "k", "v", "BADOPT"), C("SET", "k", "v", "NX", "NX"),
        C("SET", "k", "v", "GET", "GET"), C("SET", "k", "v", "XX", "XX"),
        C("SET", "k", "v", "EX"), C("SET", "k", "v", "EX", "abc"),
        C("SET", "k", "v", "EX", "0"), C("SET", "k", "v", "PX", "-1"),
        C("SET", "k", "v", "a", "b", "c"),
        C("GET", "k")])

    # --- DEL / EXISTS / MGET / MSET / DBSIZE
    add("del-exists", [
        C("MSET", "a", "1", "b", "2", "c", "3"),
        C("EXISTS", "a"), C("EXISTS", "a", "a", "b", "nope"), C("EXISTS", "nope"),
        C("EXISTS"), C("DEL", "a", "b", "nope"), C("DEL", "a"), C("DEL"),
        C("EXISTS", "a", "b", "c"), C("DBSIZE"), C("DBSIZE", "x"),
        C("DEL", "c", "c"), C("DBSIZE")])
    add("mget-mset", [
        C("MSET", "a", "1", "b", "2"), C("MGET", "a", "nope", "b", "a"),
        C("MGET"), C("MGET", "nope"),
        C("MSET"), C("MSET", "a"), C("MSET", "a", "1", "b"),
        C("MSET", "a", "x", "a", "y"), C("GET", "a"),
        C("MSET", "", ""), C("MGET", ""), C("DBSIZE")])
    many = []
    for i in range(500):
        many += ["key:%d" % i, "val:%d" % (i * 7)]
    add("mset-500-mget-500", [
        C(*(["MSET"] + many)), C("DBSIZE"),
        C(*(["MGET"] + ["key:%d" % i for i in range(0, 520)])),
        C(*(["DEL"] + ["key:%d" % i for i in range(0, 600, 2)])), C("DBSIZE")])

    # --- INCR family
    I64_MAX = "9223372036854775807"
    I64_MIN = "-9223372036854775808"
    add("incr", [
        C("INCR", "n"), C("INCR", "n"), C("GET", "n"), C("DECR", "n"), C("DECR", "n"),
        C("DECR", "n"), C("GET", "n"), C("INCRBY", "n", "10"), C("INCRBY", "n", "-20"),
        C("DECRBY", "n", "5"), C("DECRBY", "n", "-100"), C("GET", "n"),
        C("INCRBY", "fresh", "0"), C("DECRBY", "fresh2", "7"),
        C("INCR"), C("INCR", "a", "b"), C("DECR"), C("INCRBY", "n"),
        C("INCRBY", "n", "1", "2"), C("DECRBY", "n"),
        C("INCRBY", "n", "abc"), C("INCRBY", "n", "1.5"), C("INCRBY", "n", ""),
        C("INCRBY", "n", " 1"), C("INCRBY", "n", "+1"), C("INCRBY", "n", "01"),
        C("DECRBY", "n", "x"), C("INCRBY", "n", "99999999999999999999"),
        C("GET", "n")])
    add("incr-non-integer", [
        C("SET", "s", "hello"), C("INCR", "s"), C("DECR", "s"), C("INCRBY", "s", "1"),
        C("SET", "s", ""), C("INCR", "s"), C("SET", "s", " 1"), C("INCR", "s"),
        C("SET", "s", "1 "), C("INCR", "s"), C("SET", "s", "01"), C("INCR", "s"),
        C("SET", "s", "-0"), C("INCR", "s"), C("SET", "s", "+5"), C("INCR", "s"),
        C("SET", "s", "1.0"), C("INCR", "s"), C("SET", "s", "0"), C("INCR", "s"),
        C("SET", "s", "-5"), C("INCR", "s"),
        C("SET", "s", "123456789012345678901"), C("INCR", "s"),
        C("SET", "s", "1\x00"), C("INCR", "s"), C("GET", "s")])
    add("incr-overflow", [
        C("SET", "m", I64_MAX), C("INCR", "m"), C("INCRBY", "m", "1"), C("GET", "m"),
        C("DECR", "m"), C("INCRBY", "m", "0"),
        C("SET", "m", I64_MIN), C("DECR", "m"), C("DECRBY", "m", "1"), C("INCR", "m"),
        C("SET", "z", "0"), C("DECRBY", "z", I64_MIN), C("INCRBY", "z", I64_MIN),
        C("INCRBY", "z", I64_MAX), C("INCRBY", "z", "1"), C("DECRBY", "z", I64_MAX),
        C("INCRBY", "z", "9223372036854775808"), C("DECRBY", "z", "-9223372036854775809"),
        C("SET", "z", "-1"), C("INCRBY", "z", I64_MIN), C("GET", "z")])

    # --- SELECT / DBSIZE / FLUSH*
    add("select", [C("SELECT", "0"), C("SELECT", "1"), C("SELECT", "abc"),
                   C("SELECT", "-1"), C("SELECT"), C("SELECT", "0", "1"),
                   C("SELECT", "99999999999999999999"), C("SET", "k", "v"), C("GET", "k")])
    add("flush", [C("MSET", "a", "1", "b", "2"), C("DBSIZE"), C("FLUSHDB"), C("DBSIZE"),
                  C("SET", "a", "1"), C("FLUSHALL"), C("DBSIZE"), C("GET", "a"),
                  C("SET", "a", "1"), C("FLUSHALL", "SYNC"), C("DBSIZE"),
                  C("SET", "a", "1"), C("FLUSHDB", "ASYNC"), C("DBSIZE"),
                  C("FLUSHALL", "foo"), C("FLUSHDB", "foo"), C("FLUSHALL", "SYNC", "x")])

    # --- unknown commands
    add("unknown", [C("foo", "a", "b"), C("foo"), C("FOO", "a b", "c"),
                    C("foo", "x" * 200, "y"), C("foo", "1", "2", "3", "4", "5"),
                    C("", "a"), C("GETT", "k"), C("fo\r\no", "a\nb", "c\rd"),
                    C("GeT"), C("mGeT"), C("Foo", "'quoted'")])

    # --- CONFIG GET / CLIENT / COMMAND / INFO
    add("config", [C("CONFIG", "GET", "save"), C("CONFIG", "GET", "appendonly"),
                   C("config", "get", "SAVE"),
                   C("CONFIG", "GET", "proto-max-bulk-len"),
                   C("CONFIG", "GET", "client-query-buffer-limit"),
                   # maxclients depends on the reference's RLIMIT_NOFILE, and Redis
                   # formats client-output-buffer-limit per client class: type only.
                   C("CONFIG", "GET", "maxclients", mode="type"),
                   C("CONFIG", "GET", "client-output-buffer-limit", mode="type"),
                   C("CONFIG", "GET", "no-such-parameter"),
                   # Several parameters: Redis answers in its dict's order.
                   C("CONFIG", "GET", "save", "appendonly", mode="map"),
                   C("CONFIG", "GET", "appendonly", "save", "appendonly", mode="map"),
                   # A glob that matches one parameter corewire has (append* would
                   # match four in Redis and one in corewire: not compared).
                   C("CONFIG", "GET", "sav?"),
                   C("CONFIG", "GET"), C("CONFIG"), C("CONFIG", "FOO")])
    add("client", [C("CLIENT", "GETNAME"), C("CLIENT", "SETNAME", "app"),
                   C("CLIENT", "GETNAME"), C("CLIENT", "SETNAME", "a b"),
                   C("CLIENT", "SETNAME", "a\nb"), C("CLIENT", "GETNAME"),
                   C("CLIENT", "SETNAME", ""), C("CLIENT", "GETNAME"),
                   C("CLIENT", "SETNAME"), C("CLIENT", "ID", mode="type"),
                   C("CLIENT", "GETNAME", "x"), C("CLIENT", "ID", "x"),
                   C("client", "getname", "x"),
                   C("CLIENT"), C("CLIENT", "FOO")])
    # CLIENT SETINFO appeared in Redis 7.2; the 7.0 reference answers "unknown
    # subcommand", so it is covered by run.sh and the redis-py test, not here.
    # COMMAND tables differ (corewire knows a handful of commands): type only.
    add("command", [C("COMMAND", mode="type"), C("COMMAND", "COUNT", mode="type"),
                    C("COMMAND", "DOCS", mode="type"),
                    C("COMMAND", "DOCS", "get", mode="type"), C("PING")])
    add("info", [C("INFO", mode="type"), C("INFO", "server", mode="type"),
                 C("INFO", "stats", mode="type"), C("INFO", "clients", mode="type"),
                 C("INFO", "keyspace", mode="keyspace"),
                 C("MSET", "a", "1", "b", "2", "c", "3"),
                 C("INFO", "keyspace", mode="keyspace"), C("PING")])

    # --- HELLO / RESP3
    add("hello", [C("HELLO", mode="hello"), C("HELLO", "2", mode="hello"),
                  C("HELLO", "4"), C("HELLO", "abc"), C("HELLO", "1"),
                  C("HELLO", "-1"), C("GET", "missing")])
    add("resp3", [
        C("HELLO", "3", mode="hello"), C("PING"), C("ECHO", "x"), C("GET", "missing"),
        C("SET", "k", "v"), C("GET", "k"), C("MGET", "k", "missing"),
        C("SET", "k2", "v", "GET"), C("SET", "k", "w", "GET"), C("SET", "k", "w", "NX"),
        C("INCR", "n"), C("INCR", "k"), C("DEL", "k"), C("EXISTS", "k", "n"),
        C("DBSIZE"), C("CLIENT", "GETNAME"), C("CONFIG", "GET", "save"),
        C("CONFIG", "GET", "no-such-parameter"), C("GET"), C("foo", "a"),
        C("HELLO", "4"), C("SELECT", "1"), C("INFO", "keyspace", mode="keyspace"),
        C("HELLO", "2", mode="hello"), C("GET", "missing"),
        C("CONFIG", "GET", "save")])
    add("resp3-inline", [RAW(b"HELLO 3\r\n", mode="hello"), RAW(b"GET nope\r\n"),
                         RAW(b"HELLO\r\n", mode="hello"), RAW(b"MGET a b\r\n"),
                         RAW(b"PING\r\nGET x\r\nfoo\r\n", n=3)])
    add("hello-setname", [C("HELLO", "3", "SETNAME", "conn1", mode="hello"),
                          C("CLIENT", "GETNAME"), C("HELLO", "2", "SETNAME", "a b"),
                          C("CLIENT", "GETNAME")])

    # --- inline commands
    add("inline", [
        RAW(b"PING\r\n"), RAW(b"SET a b\r\n"), RAW(b"GET a\r\n"),
        RAW(b"SET \"a b\" 'c'\r\n"), RAW(b"GET \"a b\"\r\n"),
        RAW(b"SET q \"\\x41\\x00\\n\\t\\\\\"\r\n"), RAW(b"GET q\r\n"),
        RAW(b"SET sq 'it\\'s'\r\n"), RAW(b"GET sq\r\n"),
        RAW(b"  SET   spaced    out  \r\n"), RAW(b"GET spaced\r\n"),
        RAW(b"PING\n"), RAW(b"GET a\n"), RAW(b"ECHO \"\"\r\n"),
        RAW(b"\r\n" + b"PING\r\n"), RAW(b"\n\n\nPING\r\n"),
        RAW(b"get\r\n"), RAW(b"foo bar baz\r\n"), RAW(b"ping hello\r\n"),
        RAW(b"MSET x 1 y 2\r\nMGET x y\r\n", n=2), RAW(b"INCR x\r\n"),
        RAW(b"SET t \"tab\\there\"\r\nGET t\r\n", n=2),
        RAW(b"ECHO \"\\x4g\\q\\x41\"\r\n"), RAW(b"   \r\nPING\r\n"),
        RAW(b"ECHO a\"b\r\n"), RAW(b"ECHO ''\r\n"), RAW(b"hello 3\r\nhello 2\r\n", n=2, mode="hello")])

    # --- empty multibulk, null multibulk: no reply at all
    add("empty-multibulk", [RAW(b"*0\r\n*-1\r\nPING\r\n"), RAW(b"*0\r\n" + enc("PING")),
                            RAW(b"*-5\r\nPING\r\n")])

    # --- pipelines
    add("pipeline-100", [PIPE(*([C("SET", "k%d" % i, "v%d" % i) for i in range(100)] +
                                [C("GET", "k%d" % i) for i in range(100)] +
                                [C("INCR", "c") for _ in range(100)] +
                                [C("GET", "c"), C("DBSIZE")]))])
    add("pipeline-mixed", [RAW(b"PING\r\n" + enc("SET", "a", "1") + b"GET a\r\n" +
                               enc("INCR", "a") + b"foo\r\n" + enc("GET") +
                               enc("MGET", "a", "b") + b"ECHO 'x y'\r\n", n=8)])
    kb = b"x" * 1024
    add("pipeline-10000-gets", [C("SET", "v", kb),
                                RAW(enc("GET", "v") * 10000, n=10000),
                                RAW(b"GET v\r\n" * 2000 + enc("DBSIZE"), n=2001)])
    add("inline-many-args", [RAW(b"MSET " + b" ".join(b"k%d v%d" % (i, i) for i in range(500))
                                 + b"\r\n"),
                             RAW(b"MGET " + b" ".join(b"k%d" % i for i in range(0, 1000, 3))
                                 + b"\r\n"), C("DBSIZE")])
    add("pipeline-errors", [PIPE(C("SET", "a", "x"), C("INCR", "a"), C("GET", "a"),
                                 C("SET", "a"), C("SELECT", "1"), C("PING"))])

    # --- binary-safe values and keys
    binval = bytes(range(256)) * 4
    add("binary", [C("SET", "bin", binval), C("GET", "bin"),
                   C("SET", "crlf", b"a\r\nb\r\n\r\n"), C("GET", "crlf"),
                   C("SET", "nul", b"\x00"), C("GET", "nul"),
                   C("SET", b"key\x00\r\n", b"v\x00"), C("GET", b"key\x00\r\n"),
                   C("EXISTS", b"key\x00\r\n"), C("MGET", "bin", "crlf", "nul"),
                   C("SET", "fake", b"$3\r\nfoo\r\n*1\r\n"), C("GET", "fake"),
                   C("ECHO", b"\x00\xff\r\n")])
    add("empty-values", [C("SET", "e", ""), C("GET", "e"), C("EXISTS", "e"),
                         C("MSET", "e1", "", "e2", ""), C("MGET", "e1", "e2", "e3"),
                         C("INCR", "e"), C("DBSIZE")])

    # --- large values, in one write and in many small writes
    mib = b"".join(b"%07d\n" % i for i in range(131072))  # 1 MiB, position-coded
    assert len(mib) == 1 << 20
    add("large-1mib", [C("SET", "big", mib), C("GET", "big"), C("EXISTS", "big"),
                       C("MGET", "big", "big"), C("ECHO", mib[:100000]),
                       C("DEL", "big"), C("GET", "big")])
    add("large-chunked", [RAW(enc("SET", "big", mib[:200000]), chunk_bytes=1400,
                              chunk_delay_s=0.0005),
                          C("GET", "big")])
    add("byte-at-a-time", [RAW(enc("SET", "slow", "value") + b"GET slow\r\n", n=2,
                               chunk_bytes=1, chunk_delay_s=0.002),
                           RAW(b"*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n", chunk_bytes=3,
                               chunk_delay_s=0.002)])

    # --- QUIT: +OK, then the server closes
    add("quit", [C("SET", "a", "1"), C("QUIT")], expect_close=True)
    add("quit-args", [C("QUIT", "now")], expect_close=True)
    add("quit-inline-pipelined", [RAW(b"PING\r\nQUIT\r\n", n=2)], expect_close=True)

    # --- protocol errors: error reply, then the server closes the connection
    pe = lambda name, data, n=1: add("protoerr-" + name, [RAW(data, n=n)],
                                     expect_close=True)
    pe("multibulk-len-abc", b"*abc\r\n")
    pe("multibulk-len-huge", b"*3000000000\r\n")
    pe("expected-dollar", b"*1\r\n+foo\r\n")
    pe("expected-dollar-colon", b"*2\r\n$3\r\nGET\r\n:1\r\n")
    pe("bulk-len-negative", b"*1\r\n$-5\r\n")
    pe("bulk-len-abc", b"*1\r\n$abc\r\n")
    pe("multibulk-len-space", b"* 1\r\n$4\r\nPING\r\n")
    pe("multibulk-len-leading-zero", b"*01\r\n$4\r\nPING\r\n")
    pe("bulk-len-space", b"*1\r\n$ 4\r\nPING\r\n")
    pe("bulk-len-leading-zero", b"*1\r\n$04\r\nPING\r\n")
    pe("bulk-len-plus", b"*1\r\n$+4\r\nPING\r\n")
    pe("bulk-len-over-max", b"*2\r\n$3\r\nGET\r\n$536870913\r\n")
    pe("unbalanced-quotes", b"SET \"a b\r\n")
    pe("unbalanced-single", b"SET 'a b\r\n")
    pe("quote-not-followed-by-space", b"SET \"a\"b c\r\n")
    pe("after-good-command", b"PING\r\n*abc\r\n", n=2)
    pe("after-good-multibulk", enc("SET", "a", "1") + b"*1\r\n$x\r\n", n=2)
    pe("inline-too-big", b"a" * 70000)  # 64 KiB inline limit, no newline yet
    pe("mbulk-count-too-big", b"*" + b"1" * 70000)
    pe("bulk-count-too-big", b"*1\r\n$" + b"1" * 70000)
    add("quit-then-more", [RAW(b"QUIT\r\nPING\r\n" + enc("SET", "a", "1"))],
        expect_close=True)
    # $3 at top level is an inline command named "$3" in Redis, not a protocol error.
    add("toplevel-bulk-is-inline", [RAW(b"$3\r\nfoo\r\n", n=2), C("PING")])

    S += transaction_scripts()
    S += string_command_scripts()
    S += keyspace_command_scripts()
    S += wrongtype_scripts()
    S += db_scripts()
    S += expiry_scripts()
    S += keys_scan_scripts()
    S += db_transaction_scripts()
    S += expiry_happens_scripts()
    S += select_per_connection_scripts()
    S += client_list_scripts()
    return S


# ---------------------------------------------------------------- transactions
#
# Every transaction script runs twice: in RESP2 and after HELLO 3 (where a nil EXEC
# is "_" and nested nils inside EXEC arrays are "_" too).

def both_protocols(name, steps, **kw):
    """The script as is (RESP2), and again after HELLO 3 on every connection."""
    nconns = 1 + max(s.conn for s in steps)
    hello = [ON(i, C("HELLO", "3", mode="hello")) for i in range(nconns)]
    return [Script(name, steps, **kw), Script(name + "-resp3", hello + steps, **kw)]


def transaction_scripts():
    S = []
    add = lambda name, steps, **kw: S.extend(both_protocols(name, steps, **kw))

    add("multi-basic", [
        C("MULTI"), C("SET", "a", "1"), C("INCR", "a"), C("GET", "a"), C("GET", "missing"),
        C("MGET", "a", "missing"), C("INCRBYFLOAT", "a", "0.5"), C("PING"),
        C("ECHO", "x"), C("EXISTS", "a", "missing"), C("DEL", "missing"),
        C("SET", "b", "2", "GET"), C("SET", "a", "9", "NX"), C("EXEC"),
        C("GET", "a"), C("GET", "b"),
        # the connection is out of MULTI after EXEC
        C("EXEC"), C("DISCARD"), C("SET", "c", "3")])
    add("multi-lowercase-and-inline", [
        C("multi"), C("set", "a", "1"), RAW(b"incr a\r\n"), RAW(b"exec\r\n"),
        RAW(b"MULTI\r\nSET b 2\r\nGET b\r\nEXEC\r\n", n=4)])
    add("multi-empty", [C("MULTI"), C("EXEC"), C("MULTI"), C("DISCARD"), C("EXEC")])
    add("multi-pipelined", [
        PIPE(C("MULTI"), *[C("INCR", "n") for _ in range(50)], C("GET", "n"), C("EXEC"),
             C("GET", "n")),
        PIPE(C("MULTI"), *[C("SET", "k%d" % i, "v%d" % i) for i in range(200)],
             C("MGET", *["k%d" % i for i in range(0, 200, 7)]), C("EXISTS", "k0", "k199"),
             C("EXEC"), C("DBSIZE"))])
    # DBSIZE inside a transaction counts the transaction's own earlier writes.
    add("multi-dbsize", [
        C("SET", "x", "1"), C("MULTI"), C("DBSIZE"), C("SET", "a", "1"), C("DBSIZE"),
        C("MSET", "b", "1", "c", "2"), C("DBSIZE"), C("DEL", "a", "x"), C("DBSIZE"),
        C("EXEC"), C("DBSIZE")])
    add("multi-runtime-errors", [
        C("SET", "s", "hello"), C("MULTI"), C("INCR", "s"), C("SET", "n", "5"),
        C("INCR", "n"), C("INCRBY", "n", "abc"), C("INCRBYFLOAT", "s", "1"),
        C("SELECT", "1"), C("SETRANGE", "s", "-1", "x"), C("GET", "n"),
        C("APPEND", "s", "!"), C("EXEC"), C("GET", "s"), C("GET", "n")])
    add("multi-discard", [
        C("SET", "a", "1"), C("MULTI"), C("SET", "a", "2"), C("INCR", "a"), C("DISCARD"),
        C("GET", "a"), C("DISCARD"), C("EXEC"), C("DISCARD", "x"), C("MULTI"),
        C("DISCARD", "x"), C("EXEC")])
    add("multi-execabort-unknown", [
        C("SET", "a", "1"), C("MULTI"), C("SET", "a", "2"), C("NOSUCHCMD", "x"),
        C("INCR", "a"), C("EXEC"), C("GET", "a"), C("EXEC")])
    add("multi-execabort-arity", [
        C("MULTI"), C("SET", "a", "1"), C("GET"), C("SET", "b"), C("INCR", "a"),
        C("EXEC"), C("EXISTS", "a", "b"),
        C("MULTI"), C("MSET", "a"), C("EXEC"),
        C("MULTI"), C("MSETNX", "a", "1", "b"), C("EXEC"),
        C("MULTI"), C("MULTI", "x"), C("EXEC"),
        C("MULTI"), C("WATCH"), C("EXEC"),
        C("MULTI"), C("UNWATCH", "x"), C("EXEC")])
    add("multi-execabort-then-discard", [
        C("MULTI"), C("foo"), C("DISCARD"), C("MULTI"), C("SET", "a", "1"), C("EXEC"),
        C("GET", "a")])
    add("multi-nested-and-watch-inside", [
        C("MULTI"), C("SET", "a", "1"), C("MULTI"), C("WATCH", "a"), C("INCR", "a"),
        C("EXEC"), C("GET", "a")])
    add("multi-arity-outside", [
        C("MULTI", "x"), C("WATCH"), C("UNWATCH", "x"), C("EXEC"), C("DISCARD")])
    # Redis 7.0 answers EXEC's arity error with EXECABORT, inside MULTI or not, and
    # leaves MULTI.
    add("exec-arity", [C("EXEC", "x"), C("EXEC", "x", "y"), C("MULTI"), C("SET", "a", "1"),
                       C("EXEC", "x"), C("EXEC"), C("GET", "a")])
    add("multi-unwatch-queued", [
        C("WATCH", "a"), C("MULTI"), C("UNWATCH"), C("SET", "a", "1"), C("EXEC"),
        C("GET", "a")])
    add("multi-reset", [
        C("MULTI"), C("SET", "a", "1"), C("RESET"), C("EXEC"), C("GET", "a"),
        C("MULTI"), C("foo"), C("RESET"), C("EXEC"), C("MULTI"), C("EXEC")])
    add("multi-quit", [C("MULTI"), C("SET", "a", "1"), C("QUIT")], expect_close=True)
    add("multi-client-and-select", [
        C("MULTI"), C("CLIENT", "SETNAME", "tx"), C("CLIENT", "GETNAME"), C("SELECT", "0"),
        C("CONFIG", "GET", "save"), C("ECHO", ""), C("EXEC"), C("CLIENT", "GETNAME")])
    add("multi-connection-commands", [
        C("MULTI"), C("AUTH", "x"), C("AUTH", "default", "x"), C("SELECT", "1"),
        C("SELECT", "x"), C("CONFIG", "GET", "no-such-parameter"), C("CLIENT", "GETNAME"),
        C("EXEC"),
        C("MULTI"), C("CLIENT", "FOO"), C("EXEC"), C("MULTI"), C("CONFIG", "FOO"),
        C("EXEC"), C("MULTI"), C("CONFIG", "GET"), C("EXEC")])
    mib = b"".join(b"%07d\n" % i for i in range(131072))
    add("multi-large-values", [
        C("MULTI"), C("SET", "big", mib), C("APPEND", "big", mib[:1000]), C("STRLEN", "big"),
        C("GETRANGE", "big", "-8", "-1"), C("GET", "big"), C("EXEC"), C("STRLEN", "big")])
    add("multi-byte-at-a-time", [
        RAW(enc("MULTI") + enc("SET", "a", "1") + b"INCR a\r\n" + enc("EXEC"), n=4,
            chunk_bytes=1, chunk_delay_s=0.001)])
    add("multi-string-commands", [
        C("MULTI"), C("APPEND", "s", "abc"), C("STRLEN", "s"), C("GETRANGE", "s", "1", "-1"),
        C("SETRANGE", "s", "5", "z"), C("GET", "s"), C("GETSET", "s", "new"),
        C("SETNX", "s", "x"), C("MSETNX", "a", "1", "b", "2"), C("MSETNX", "b", "3", "c", "4"),
        C("TYPE", "s"), C("TYPE", "missing"), C("TOUCH", "s", "a", "missing"),
        C("UNLINK", "a", "missing"), C("INCRBYFLOAT", "f", "1.5"), C("GETSET", "g", "1"),
        C("EXEC"), C("MGET", "s", "a", "b", "c", "f", "g")])
    # A transaction whose writes another connection's WATCH sees.
    add("multi-exec-touches-watchers", [
        C2("SET", "k", "0"), C2("WATCH", "k"),
        C("MULTI"), C("INCR", "k"), C("EXEC"),
        C2("MULTI"), C2("SET", "k", "other"), C2("EXEC"), C("GET", "k")])

    # --- WATCH, with a second connection writing
    add("watch-other-conn-write", [
        C("SET", "k", "1"), C("WATCH", "k"), C2("SET", "k", "2"),
        C("MULTI"), C("SET", "k", "3"), C("GET", "k"), C("EXEC"), C("GET", "k"),
        # EXEC dropped the watch: the next transaction goes through
        C2("SET", "k", "4"), C("MULTI"), C("GET", "k"), C("EXEC")])
    add("watch-same-value-still-dirty", [
        C("SET", "k", "v"), C("WATCH", "k"), C2("SET", "k", "v"),
        C("MULTI"), C("GET", "k"), C("EXEC")])
    add("watch-missing-key-created", [
        C("WATCH", "m"), C2("SET", "m", "x"), C("MULTI"), C("SET", "m", "mine"),
        C("EXEC"), C("GET", "m")])
    add("watch-missing-key-untouched", [
        C("WATCH", "m"), C2("SET", "other", "x"), C2("DEL", "m"), C2("GET", "m"),
        C("MULTI"), C("SET", "m", "mine"), C("EXEC"), C("GET", "m")])
    add("watch-then-unwatch", [
        C("SET", "k", "1"), C("WATCH", "k"), C("UNWATCH"), C2("SET", "k", "2"),
        C("MULTI"), C("INCR", "k"), C("EXEC")])
    add("watch-discard-unwatches", [
        C("SET", "k", "1"), C("WATCH", "k"), C("MULTI"), C("DISCARD"), C2("SET", "k", "2"),
        C("MULTI"), C("INCR", "k"), C("EXEC")])
    add("watch-own-write", [
        C("SET", "k", "1"), C("WATCH", "k"), C("SET", "k", "2"), C("MULTI"), C("GET", "k"),
        C("EXEC"), C("GET", "k")])
    add("watch-several-keys", [
        C("MSET", "a", "1", "b", "2"), C("WATCH", "a", "b", "c"), C("WATCH", "a"),
        C2("SET", "c", "new"), C("MULTI"), C("INCR", "a"), C("EXEC"), C("GET", "a"),
        C("WATCH", "a", "b"), C2("GET", "a"), C2("MGET", "a", "b"), C2("EXISTS", "a"),
        C("MULTI"), C("INCR", "a"), C("EXEC")])
    # Writes that change nothing do not dirty a WATCH (Redis signals a key only when
    # it modifies it); reads never do.
    for name, write in [
            ("set-nx-existing", ("SET", "k", "x", "NX")),
            ("set-xx-missing", ("SET", "m", "x", "XX")),
            ("setnx-existing", ("SETNX", "k", "y")),
            ("msetnx-failing", ("MSETNX", "k", "1", "m", "2")),
            ("touch", ("TOUCH", "k", "m")), ("unlink-missing", ("UNLINK", "m")),
            ("del-missing", ("DEL", "m")), ("setrange-empty", ("SETRANGE", "k", "0", "")),
            ("setrange-empty-missing", ("SETRANGE", "m", "5", "")),
            ("incr-other-key", ("INCR", "other")), ("get", ("GET", "k")),
            ("getrange", ("GETRANGE", "k", "0", "-1")), ("strlen", ("STRLEN", "k")),
            ("type", ("TYPE", "k")), ("mget", ("MGET", "k", "m")),
            ("exists", ("EXISTS", "k", "m")), ("incr-error", ("INCR", "k")),
            ("incrbyfloat-error", ("INCRBYFLOAT", "k", "1")),
            ("setrange-error", ("SETRANGE", "k", "-1", "x")),
            ("set-arity-error", ("SET", "k")), ("dbsize", ("DBSIZE",))]:
        add("watch-not-dirtied-by-" + name, [
            C("SET", "k", "v"), C("WATCH", "k", "m"), C2(*write), C2("MGET", "k", "m"),
            C("MULTI"), C("MGET", "k", "m"), C("EXEC")])
    for i, (name, write) in enumerate([
            ("incr", ("INCR", "n")), ("incrbyfloat", ("INCRBYFLOAT", "n", "0")),
            ("append-empty", ("APPEND", "s", "")), ("append", ("APPEND", "s", "x")),
            ("setrange", ("SETRANGE", "s", "0", "a")),
            ("setrange-empty", ("SETRANGE", "s", "0", "")),
            ("getset", ("GETSET", "s", "abc")), ("del", ("DEL", "s")),
            ("unlink", ("UNLINK", "s")), ("mset", ("MSET", "x", "1", "s", "2")),
            ("msetnx-missing", ("MSETNX", "m", "1")), ("setnx-missing", ("SETNX", "m", "1")),
            ("set-get", ("SET", "s", "abc", "GET")), ("flushall", ("FLUSHALL",)),
            ("flushdb", ("FLUSHDB",)), ("decrby", ("DECRBY", "n", "0"))]):
        add("watch-dirtied-by-" + name, [
            C("MSET", "s", "abc", "n", "10"), C("WATCH", "s", "n", "m"), C2(*write),
            C("MULTI"), C("MGET", "s", "n", "m"), C("EXEC"), C("MGET", "s", "n", "m")])
    add("watch-flushall-missing-key", [
        C("WATCH", "m"), C2("SET", "other", "1"), C2("FLUSHALL"), C("MULTI"),
        C("GET", "m"), C("EXEC")])
    add("watch-reset", [
        C("SET", "k", "1"), C("WATCH", "k"), C("RESET"), C2("SET", "k", "2"),
        C("MULTI"), C("INCR", "k"), C("EXEC")])
    add("watch-execabort", [
        C("SET", "k", "1"), C("WATCH", "k"), C("MULTI"), C("foo"), C("EXEC"),
        C2("SET", "k", "2"), C("MULTI"), C("INCR", "k"), C("EXEC")])
    add("watch-two-watchers", [
        C("SET", "k", "1"), C("WATCH", "k"), C2("WATCH", "k"),
        C("MULTI"), C("INCR", "k"), C2("MULTI"), C2("INCR", "k"),
        C("EXEC"), C2("EXEC"), C("GET", "k")])
    add("watch-interleaved-transactions", [
        C("MULTI"), C2("MULTI"), C("SET", "a", "1"), C2("SET", "a", "2"),
        C2("EXEC"), C("GET", "a"), C("EXEC"), C2("GET", "a")])
    return S


# ---------------------------------------------------------------- string commands

def string_command_scripts():
    S = []
    add = lambda name, steps, **kw: S.append(Script(name, steps, **kw))
    I64_MAX = "9223372036854775807"
    I64_MIN = "-9223372036854775808"

    add("append-strlen", [
        C("APPEND", "a", "hello"), C("APPEND", "a", " world"), C("GET", "a"),
        C("STRLEN", "a"), C("STRLEN", "missing"), C("APPEND", "e", ""), C("EXISTS", "e"),
        C("GET", "e"), C("STRLEN", "e"), C("APPEND", "b", b"\x00\r\n"),
        C("APPEND", "b", b"\xff"), C("GET", "b"), C("STRLEN", "b"),
        C("SET", "n", "10"), C("APPEND", "n", "5"), C("INCR", "n"), C("APPEND", "n", "x"),
        C("INCR", "n"),
        C("APPEND"), C("APPEND", "a"), C("APPEND", "a", "b", "c"), C("STRLEN"),
        C("STRLEN", "a", "b"), C("append", "a", "!"), C("strlen", "a")])
    add("getrange", [
        C("SET", "s", "Hello World"),
        *[C("GETRANGE", "s", a, b) for a, b in [
            ("0", "4"), ("0", "-1"), ("-5", "-1"), ("-3", "-5"), ("5", "2"), ("0", "0"),
            ("-1", "-1"), ("0", "100"), ("100", "200"), ("-100", "-1"), ("-100", "2"),
            ("0", "-100"), ("-100", "-100"), ("-100", "-50"), ("3", "-100"),
            ("10", "10"), ("11", "11"), ("-11", "-11"), ("-12", "-12"),
            (I64_MIN, I64_MAX), (I64_MAX, I64_MAX), ("0", I64_MIN), (I64_MIN, I64_MIN),
            ("+1", "2"), ("01", "2")]],
        C("GETRANGE", "missing", "0", "-1"), C("GETRANGE", "missing", "5", "2"),
        C("GETRANGE", "missing", "-100", "-200"),
        C("SET", "e", ""), C("GETRANGE", "e", "0", "-1"), C("GETRANGE", "e", "0", "0"),
        C("GETRANGE", "e", "-1", "-1"),
        C("GETRANGE", "s", "a", "1"), C("GETRANGE", "s", "0", "b"),
        C("GETRANGE", "s", "1.5", "2"), C("GETRANGE", "s", "", "2"),
        C("GETRANGE", "s", "0", "99999999999999999999"),
        C("GETRANGE", "missing", "x", "y"),
        C("GETRANGE"), C("GETRANGE", "s"), C("GETRANGE", "s", "0"),
        C("GETRANGE", "s", "0", "1", "2"), C("getrange", "s", "0", "1")])
    add("setrange", [
        C("SETRANGE", "s", "0", "Hello"), C("GET", "s"),
        C("SETRANGE", "s", "6", "World"), C("GET", "s"), C("STRLEN", "s"),
        C("SETRANGE", "s", "1", "EL"), C("GET", "s"),
        C("SETRANGE", "s", "10", "!!"), C("GET", "s"),
        C("SETRANGE", "s", "0", ""), C("SETRANGE", "s", "1000", ""),
        C("SETRANGE", "s", I64_MAX, ""), C("GET", "s"),
        C("SETRANGE", "pad", "5", "x"), C("GET", "pad"), C("STRLEN", "pad"),
        C("SETRANGE", "m1", "0", ""), C("EXISTS", "m1"),
        C("SETRANGE", "m2", "100", ""), C("EXISTS", "m2"),
        C("SETRANGE", "m3", I64_MAX, ""), C("EXISTS", "m3"),
        C("SETRANGE", "m4", "536870912", ""), C("EXISTS", "m4"),
        C("SETRANGE", "s", "-1", "x"), C("SETRANGE", "missing", "-1", "x"),
        C("SETRANGE", "missing", "-1", ""), C("SETRANGE", "s", I64_MIN, "x"),
        C("SETRANGE", "s", "abc", "x"), C("SETRANGE", "s", "1.0", "x"),
        C("SETRANGE", "s", "-0", "x"), C("SETRANGE", "s", "", "x"),
        C("SETRANGE", "s", "99999999999999999999", "x"),
        C("SETRANGE", "s", "536870912", "x"), C("SETRANGE", "missing", "536870912", "x"),
        C("SETRANGE", "s", "536870911", "xy"), C("SETRANGE", "s", I64_MAX, "x"),
        C("SETRANGE", "missing", I64_MAX, "x"), C("EXISTS", "missing"),
        C("SET", "n", "12"), C("SETRANGE", "n", "2", "3"), C("INCR", "n"),
        C("SETRANGE", "b", "2", b"\x00\xff"), C("GET", "b"),
        C("SETRANGE"), C("SETRANGE", "s"), C("SETRANGE", "s", "0"),
        C("SETRANGE", "s", "0", "a", "b"), C("GET", "s")])
    add("getset", [
        C("GETSET", "k", "v1"), C("GETSET", "k", "v2"), C("GET", "k"),
        C("GETSET", "k", ""), C("GETSET", "k", "v3"), C("SET", "n", "1"),
        C("GETSET", "n", "5"), C("INCR", "n"),
        C("GETSET"), C("GETSET", "k"), C("GETSET", "k", "a", "b"), C("getset", "k", "z")])
    add("setnx", [
        C("SETNX", "k", "v1"), C("SETNX", "k", "v2"), C("GET", "k"), C("SETNX", "e", ""),
        C("SETNX", "e", "x"), C("GET", "e"),
        C("SETNX"), C("SETNX", "k"), C("SETNX", "k", "a", "b"), C("setnx", "z", "1")])
    add("msetnx", [
        C("MSETNX", "a", "1", "b", "2"), C("MGET", "a", "b"),
        C("MSETNX", "c", "3", "a", "9"), C("MGET", "a", "b", "c"), C("EXISTS", "c"),
        C("MSETNX", "c", "3", "d", "4"), C("MGET", "c", "d"),
        C("MSETNX", "x", "1", "x", "2"), C("GET", "x"),
        C("MSETNX", "y", "1", "y", "2", "a", "0"), C("EXISTS", "y"),
        C("MSETNX", "", ""), C("GET", ""),
        C("MSETNX"), C("MSETNX", "a"), C("MSETNX", "p", "1", "q"),
        C("MSETNX", "p", "1", "q", "2", "r"), C("EXISTS", "p", "q", "r"),
        C("msetnx", "lo", "1"), C("DBSIZE")])
    many = []
    for i in range(300):
        many += ["mk:%d" % i, "mv:%d" % i]
    add("msetnx-300", [C(*(["MSETNX"] + many)), C("DBSIZE"),
                       C(*(["MSETNX"] + many[:-2] + ["fresh", "1"])),
                       C("SET", "new", "x"), C(*(["MSETNX", "new", "y"] + many[-4:])),
                       C("DBSIZE"), C("MGET", "mk:0", "mk:299", "fresh")])

    incrf = []
    for start, incr in [
            ("0.1", "0.2"), ("10.5", "0.1"), ("5.0e3", "0"), ("0", "5.0e3"), ("10", "5.0e3"),
            ("-0.0", "0"), ("0", "-0.0"), ("-0", "0"), ("1", "-1"), ("3", "1.5"),
            ("1.5", "-3"), ("0", "1e-10"), ("0", "1.23456789012345678"),
            ("1e17", "1"), ("1e400", "0"), ("0", "1e400"), ("0", "1e4000"),
            ("0", "0x10"), ("0x10", "1"), ("0", "+5"), ("0", ".5"), ("0", "5."),
            ("0", "1E2"), ("1", "-.5e1"), ("10", "3.0000000000000000001"),
            ("9223372036854775807", "1"), ("0", "-1e-400"),
            ("0", "1e-5000"), ("0", "1e5000"), ("0", "inf"), ("0", "-inf"),
            ("0", "infinity"), ("0", "+inf"), ("inf", "0"), ("1e308", "1e308"),
            ("0", "nan"), ("nan", "0"), ("0", "abc"), ("abc", "1"), ("0", " 1"),
            ("0", "1 "), (" 1", "1"), ("1 ", "1"), ("0", ""), ("", "1"), ("0", "1,5"),
            ("0", "1e"), ("0", "--1"), ("0", "0b1"),
            ("1.0", "1.0"), ("00012", "1"), ("-0.5", "0.5"), ("0.0000001", "0")]:
        incrf += [C("SET", "f", start), C("INCRBYFLOAT", "f", incr), C("GET", "f")]
    add("incrbyfloat", incrf + [
        C("INCRBYFLOAT", "missing", "1.5"), C("GET", "missing"),
        C("INCRBYFLOAT", "m2", "-0.0"), C("GET", "m2"),
        C("INCRBYFLOAT", "m3", "abc"), C("EXISTS", "m3"),
        C("INCRBYFLOAT", "m4", "inf"), C("EXISTS", "m4"),
        C("SET", "i", "7"), C("INCRBYFLOAT", "i", "3"), C("INCR", "i"),
        C("INCRBYFLOAT", "i", "0.5"), C("INCR", "i"),
        C("INCRBYFLOAT"), C("INCRBYFLOAT", "f"), C("INCRBYFLOAT", "f", "1", "2"),
        C("incrbyfloat", "f", "1")])
    # A NUL byte ends the C string, not the argument: not a valid float.
    add("incrbyfloat-nul-byte", [
        C("SET", "f", "0"), C("INCRBYFLOAT", "f", b"1\x00"), C("INCRBYFLOAT", "f", b"1\x002"),
        C("GET", "f"), C("SET", "f", b"1\x00"), C("INCRBYFLOAT", "f", "1"), C("GET", "f"),
        C("INCRBYFLOAT", "g", b"\x00"), C("EXISTS", "g")])
    add("incrbyfloat-resp3", [
        C("HELLO", "3", mode="hello"), C("INCRBYFLOAT", "f", "0.1"),
        C("INCRBYFLOAT", "f", "0.2"), C("INCRBYFLOAT", "f", "inf"),
        C("INCRBYFLOAT", "f", "x"), C("GET", "f")])
    add("strings-resp3", [
        C("HELLO", "3", mode="hello"), C("APPEND", "a", "xy"), C("STRLEN", "a"),
        C("GETRANGE", "a", "0", "0"), C("GETRANGE", "missing", "0", "-1"),
        C("SETRANGE", "a", "4", "z"), C("GET", "a"), C("GETSET", "b", "1"),
        C("GETSET", "b", "2"), C("SETNX", "b", "3"), C("MSETNX", "c", "1", "d", "2"),
        C("MSETNX", "c", "1"), C("MSETNX", "c"), C("SETRANGE", "a", "-1", "x"),
        C("TYPE", "a"), C("TYPE", "missing"), C("TOUCH", "a", "a"), C("UNLINK", "a"),
        C("TIME", mode="time"), C("GETRANGE", "b", "x", "0")])
    return S


# ---------------------------------------------------------------- TYPE, TOUCH, ...

def keyspace_command_scripts():
    S = []
    add = lambda name, steps, **kw: S.append(Script(name, steps, **kw))
    add("type", [C("SET", "s", "v"), C("TYPE", "s"), C("TYPE", "missing"),
                 C("SET", "e", ""), C("TYPE", "e"), C("INCR", "n"), C("TYPE", "n"),
                 C("TYPE"), C("TYPE", "a", "b"), C("type", "s")])
    add("touch", [C("MSET", "a", "1", "b", "2"), C("TOUCH", "a"), C("TOUCH", "a", "a", "a"),
                  C("TOUCH", "a", "b", "missing", "b"), C("TOUCH", "missing"),
                  C("TOUCH"), C("touch", "a"), C("GET", "a")])
    add("unlink", [C("MSET", "a", "1", "b", "2", "c", "3"), C("UNLINK", "a", "missing"),
                   C("UNLINK", "b", "b"), C("UNLINK", "a"), C("EXISTS", "a", "b", "c"),
                   C("DBSIZE"), C("UNLINK"), C("unlink", "c"), C("DBSIZE")])
    add("time", [C("TIME", mode="time"), C("time", mode="time"), C("TIME", "x"),
                 RAW(b"TIME\r\n", mode="time")])
    add("reset", [
        C("RESET"), C("reset"), C("RESET", "x"), C("HELLO", "3", "SETNAME", "c1", mode="hello"),
        C("GET", "missing"), C("CLIENT", "GETNAME"), C("RESET"), C("GET", "missing"),
        C("CLIENT", "GETNAME"), C("HELLO", "3", mode="hello"), C("MULTI"), C("SET", "a", "1"),
        C("RESET"), C("GET", "a"), C("EXEC"), C("GET", "missing"),
        C("SELECT", "0"), C("RESET"), RAW(b"RESET\r\n")])
    add("command-count", [C("COMMAND", "COUNT", mode="type"), C("COMMAND", "COUNT", "x")])
    return S


# ---------------------------------------------------------------- WRONGTYPE
#
# corewire stores strings only. Other types' commands on an existing (string) key
# must answer WRONGTYPE as Redis does. On a missing key corewire answers "unknown
# command" (Redis would run them): never compared here.

WRONGTYPE_CALLS = [
    ("LPUSH", "s", "x"), ("RPUSH", "s", "x", "y"), ("LPUSHX", "s", "x"), ("RPUSHX", "s", "x"),
    ("LPOP", "s"), ("RPOP", "s"), ("LPOP", "s", "2"), ("LLEN", "s"), ("LRANGE", "s", "0", "-1"),
    ("LINDEX", "s", "0"), ("LSET", "s", "0", "x"), ("LREM", "s", "0", "x"),
    ("LTRIM", "s", "0", "1"), ("LINSERT", "s", "BEFORE", "a", "b"), ("LPOS", "s", "x"),
    ("LMOVE", "s", "d", "LEFT", "RIGHT"), ("RPOPLPUSH", "s", "d"), ("BLPOP", "s", "1"),
    ("BRPOP", "s", "1"), ("BLMOVE", "s", "d", "LEFT", "LEFT", "1"),
    ("HSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"), ("HGET", "s", "f"),
    ("HMSET", "s", "f", "v"), ("HMGET", "s", "f"), ("HGETALL", "s"), ("HDEL", "s", "f"),
    ("HLEN", "s"), ("HEXISTS", "s", "f"), ("HKEYS", "s"), ("HVALS", "s"),
    ("HINCRBY", "s", "f", "1"), ("HINCRBYFLOAT", "s", "f", "1.5"), ("HSTRLEN", "s", "f"),
    ("HRANDFIELD", "s"), ("HSCAN", "s", "0"),
    ("SADD", "s", "m"), ("SREM", "s", "m"), ("SMEMBERS", "s"), ("SISMEMBER", "s", "m"),
    ("SMISMEMBER", "s", "m"), ("SCARD", "s"), ("SPOP", "s"), ("SRANDMEMBER", "s"),
    ("SMOVE", "s", "d", "m"), ("SINTER", "s"), ("SUNION", "s", "missing"), ("SDIFF", "s"),
    ("SSCAN", "s", "0"),
    ("ZADD", "s", "1", "m"), ("ZREM", "s", "m"), ("ZRANGE", "s", "0", "-1"),
    ("ZRANGEBYSCORE", "s", "0", "1"), ("ZRANGEBYLEX", "s", "-", "+"),
    ("ZREVRANGE", "s", "0", "-1"), ("ZREVRANGEBYSCORE", "s", "1", "0"),
    ("ZREVRANGEBYLEX", "s", "+", "-"), ("ZSCORE", "s", "m"), ("ZMSCORE", "s", "m"),
    ("ZCARD", "s"), ("ZCOUNT", "s", "0", "1"), ("ZLEXCOUNT", "s", "-", "+"),
    ("ZINCRBY", "s", "1", "m"), ("ZRANK", "s", "m"), ("ZREVRANK", "s", "m"),
    ("ZPOPMIN", "s"), ("ZPOPMAX", "s"), ("BZPOPMIN", "s", "1"), ("BZPOPMAX", "s", "1"),
    ("ZREMRANGEBYRANK", "s", "0", "1"), ("ZREMRANGEBYSCORE", "s", "0", "1"),
    ("ZREMRANGEBYLEX", "s", "-", "+"), ("ZRANDMEMBER", "s"), ("ZSCAN", "s", "0"),
    ("XADD", "s", "*", "f", "v"), ("XLEN", "s"), ("XRANGE", "s", "-", "+"),
    ("XREVRANGE", "s", "+", "-"), ("XDEL", "s", "1-1"), ("XTRIM", "s", "MAXLEN", "0"),
    # XINFO is left out on purpose: its key is not argument 1, so corewire
    # treats it as an unknown command.
]


def wrongtype_scripts():
    S = []
    add = lambda name, steps, **kw: S.append(Script(name, steps, **kw))
    calls = [C(*c) for c in WRONGTYPE_CALLS]
    add("wrongtype", [C("SET", "s", "v")] + calls +
        [C("lpush", "s", "x"), C("hGet", "s", "f"), C("GET", "s"), C("TYPE", "s")])
    add("wrongtype-resp3", [C("HELLO", "3", mode="hello"), C("SET", "s", "v")] + calls[:12] +
        [C("GET", "s")])
    add("wrongtype-empty-string-key", [C("SET", "s", ""), C("LLEN", "s"), C("SADD", "s", "m"),
                                       C("HGETALL", "s"), C("ZCARD", "s"), C("XLEN", "s")])
    # Key after a numkeys argument.
    add("wrongtype-numkeys", [C("SET", "s", "v"), C("SINTERCARD", "1", "s"),
                              C("SINTERCARD", "2", "s", "s")])
    # Redis checks arity before it looks at the key.
    add("wrongtype-arity", [C("SET", "s", "v"), C("LPUSH", "s"), C("HGET", "s"),
                            C("HSET", "s", "f"), C("ZADD", "s", "1"), C("XLEN", "s", "x"),
                            C("SADD", "s"), C("LRANGE", "s", "0")])
    # Redis parses (some) arguments before it looks the key up; XINFO's first
    # argument is a subcommand.
    add("wrongtype-argument-errors", [
        C("SET", "s", "v"), C("XINFO", "s"), C("ZADD", "s", "abc", "m"),
        C("ZADD", "s", "NX", "XX", "1", "m"), C("LRANGE", "s", "a", "b"), C("LPOP", "s", "-1"),
        C("BLPOP", "s", "abc"), C("HINCRBY", "s", "f", "x"), C("XADD", "s", "x", "f", "v"),
        C("XADD", "s", "*", "f"), C("LINSERT", "s", "MIDDLE", "a", "b"), C("HSCAN", "s", "x")])
    # Inside MULTI Redis queues them; the WRONGTYPE error comes out of EXEC.
    add("wrongtype-in-multi", [C("SET", "s", "v"), C("MULTI"), C("LPUSH", "s", "x"),
                               C("INCR", "n"), C("EXEC"), C("GET", "n")])
    # The *STORE commands' first key is the destination, which they overwrite.
    add("wrongtype-store-destination", [C("SET", "s", "v"),
                                        C("SINTERSTORE", "s", "missing"), C("EXISTS", "s"),
                                        C("SET", "s", "v"),
                                        C("ZRANGESTORE", "s", "missing", "0", "-1"),
                                        C("EXISTS", "s")])
    return S


# ---------------------------------------------------------------- databases, expiry, keyspace
#
# SELECT/MOVE/COPY, the expiry commands and options, KEYS/SCAN/RANDOMKEY, RENAME,
# FLUSHDB/FLUSHALL across databases, INFO keyspace, CLIENT LIST/INFO/KILL. Live TTLs are
# large (10000 s and up), so TTL (rounded seconds) is deterministic; PTTL is compared
# by type only. Absolute deadlines are in 2100 (EXPIRETIME/PEXPIRETIME are exact).

FUT_S = "4102444800"           # 2100-01-01T00:00:00Z
FUT_MS = "4102444800123"
I64_MAX = "9223372036854775807"
I64_MIN = "-9223372036854775808"


def db_scripts():
    S = []
    add = lambda name, steps, **kw: S.extend(both_protocols(name, steps, **kw))

    steps = []
    for db in range(16):
        steps += [C("SELECT", db), C("SET", "k", "v%d" % db)]
        if db % 3 == 0:
            steps.append(C("SET", "only%d" % db, "x"))
    for db in range(16):
        steps += [C("SELECT", db), C("GET", "k"), C("DBSIZE"), C("EXISTS", "only%d" % db)]
    steps += [C("SELECT", "16"), C("SELECT", "-1"), C("SELECT", "abc"), C("SELECT", ""),
              C("SELECT", "1.5"), C("GET", "k"),
              C("select", "15"), C("GET", "k")]
    add("select-0-15", steps)

    add("move", [
        C("SET", "a", "1"), C("MOVE", "a", "1"), C("EXISTS", "a"), C("SELECT", "1"),
        C("GET", "a"), C("MOVE", "a", "0"), C("SELECT", "0"), C("GET", "a"),
        C("SET", "b", "x"), C("SELECT", "1"), C("SET", "b", "y"), C("SELECT", "0"),
        C("MOVE", "b", "1"), C("GET", "b"), C("SELECT", "1"), C("GET", "b"), C("SELECT", "0"),
        C("MOVE", "missing", "1"), C("MOVE", "missing", "0"), C("MOVE", "b", "0"),
        C("MOVE", "b", "16"), C("MOVE", "b", "-1"), C("MOVE", "b", "abc"),
        C("MOVE", "missing", "16"), C("MOVE", "b", "15"), C("EXISTS", "b"),
        C("SET", "t", "v", "EX", "10000"), C("MOVE", "t", "2"), C("SELECT", "2"),
        C("TTL", "t"), C("GET", "t"), C("SELECT", "0"), C("TTL", "t"),
        C("MOVE"), C("MOVE", "a"), C("MOVE", "a", "1", "2"), C("move", "a", "3")])

    add("copy", [
        C("SET", "src", "v"), C("COPY", "src", "dst"), C("GET", "dst"),
        C("COPY", "src", "dst"), C("SET", "src", "v2"), C("COPY", "src", "dst", "REPLACE"),
        C("GET", "dst"), C("COPY", "src", "src"), C("COPY", "src", "src", "REPLACE"),
        C("COPY", "src", "src", "DB", "0"), C("COPY", "src", "src", "DB", "1"),
        C("COPY", "src", "dst", "DB", "1"), C("COPY", "src", "dst", "DB", "1"),
        C("COPY", "src", "dst", "DB", "1", "REPLACE"), C("COPY", "src", "d2", "REPLACE", "DB", "2"),
        C("SELECT", "1"), C("GET", "src"), C("GET", "dst"), C("SELECT", "2"), C("GET", "d2"),
        C("SELECT", "0"),
        C("COPY", "src", "x", "DB", "16"), C("COPY", "src", "x", "DB", "-1"),
        C("COPY", "src", "x", "DB", "x"), C("COPY", "src", "x", "DB"),
        C("COPY", "src", "x", "FOO"), C("COPY", "src", "x", "REPLACE", "FOO"),
        C("COPY", "src", "x", "DB", "1", "DB", "2"), C("COPY", "src", "x", "replace"),
        C("COPY", "missing", "x"), C("COPY", "missing", "x", "DB", "1"), C("EXISTS", "x"),
        C("COPY", "missing", "missing"), C("COPY", "missing", "x", "DB", "99"),
        C("SET", "t", "v", "EX", "10000"), C("COPY", "t", "t2"), C("TTL", "t2"),
        C("COPY", "t", "t3", "DB", "3"), C("SELECT", "3"), C("TTL", "t3"), C("SELECT", "0"),
        C("SET", "p", "plain"), C("COPY", "p", "t2", "REPLACE"), C("TTL", "t2"), C("GET", "t2"),
        C("COPY"), C("COPY", "src"), C("copy", "src", "low")])

    add("dbsize-type-per-db", [
        C("SET", "a", "1"), C("SELECT", "1"), C("DBSIZE"), C("TYPE", "a"),
        C("MSET", "x", "1", "y", "2"), C("DBSIZE"), C("TYPE", "x"), C("SELECT", "0"),
        C("DBSIZE"), C("TYPE", "x"), C("TYPE", "a"), C("SELECT", "15"), C("DBSIZE")])

    add("flushdb-flushall-dbs", [
        C("SET", "a", "1"), C("SELECT", "1"), C("SET", "b", "1"), C("SET", "b2", "1"),
        C("SELECT", "2"), C("SET", "c", "1"), C("FLUSHDB"), C("DBSIZE"),
        C("SELECT", "1"), C("DBSIZE"), C("SELECT", "0"), C("DBSIZE"), C("GET", "a"),
        C("SELECT", "1"), C("FLUSHDB", "SYNC"), C("DBSIZE"), C("SELECT", "0"), C("DBSIZE"),
        C("SELECT", "5"), C("SET", "e", "1"), C("FLUSHALL"), C("DBSIZE"), C("SELECT", "0"),
        C("DBSIZE"), C("GET", "a")])

    add("info-keyspace-dbs", [
        C("INFO", "keyspace", mode="keyspace-all"),
        C("MSET", "a", "1", "b", "2"), C("SET", "t", "v", "EX", "10000"),
        C("INFO", "keyspace", mode="keyspace-all"),
        C("SELECT", "3"), C("SET", "x", "1", "PX", "99999999"), C("SET", "y", "1"),
        C("SELECT", "15"), C("SET", "z", "1"),
        C("INFO", "keyspace", mode="keyspace-all"),
        C("SELECT", "0"), C("PERSIST", "t"), C("INFO", "keyspace", mode="keyspace-all"),
        C("SELECT", "15"), C("DEL", "z"), C("INFO", "keyspace", mode="keyspace-all"),
        C("SELECT", "3"), C("FLUSHDB"), C("INFO", "keyspace", mode="keyspace-all"),
        C("INFO", "KEYSPACE", mode="keyspace-all")])
    return S


def expiry_scripts():
    S = []
    add = lambda name, steps, **kw: S.extend(both_protocols(name, steps, **kw))

    add("set-expiry-options", [
        C("SET", "k", "v", "EX", "10000"), C("TTL", "k"), C("PTTL", "k", mode="type"),
        C("SET", "k", "v", "PX", "10000000"), C("TTL", "k"),
        C("SET", "k", "v", "ex", "20000"), C("TTL", "k"),
        C("SET", "k", "v", "EXAT", FUT_S), C("EXPIRETIME", "k"), C("PEXPIRETIME", "k"),
        C("SET", "k", "v", "PXAT", FUT_MS), C("PEXPIRETIME", "k"), C("EXPIRETIME", "k"),
        C("SET", "k", "v2", "KEEPTTL"), C("PEXPIRETIME", "k"), C("GET", "k"),
        C("SET", "k", "v3", "KEEPTTL", "GET"), C("PEXPIRETIME", "k"),
        C("SET", "k", "v4", "XX", "KEEPTTL"), C("PEXPIRETIME", "k"),
        C("SET", "k", "v5"), C("TTL", "k"), C("EXPIRETIME", "k"),
        C("SET", "new", "v", "KEEPTTL"), C("TTL", "new"),
        C("SET", "k", "v", "EX", "10000", "GET"), C("TTL", "k"),
        C("SET", "k", "w", "NX", "EX", "5"), C("TTL", "k"),
        C("SET", "nx", "w", "NX", "PX", "30000000"), C("TTL", "nx"),
        C("SET", "k", "v", "XX", "EXAT", FUT_S), C("EXPIRETIME", "k"),
        C("SET", "k", "v", "PXAT", I64_MAX), C("PEXPIRETIME", "k"),
        # invalid values
        C("SET", "k", "v", "EX", "0"), C("SET", "k", "v", "EX", "-1"),
        C("SET", "k", "v", "EX", "1.5"), C("SET", "k", "v", "EX", "abc"),
        C("SET", "k", "v", "EX", ""), C("SET", "k", "v", "EX", I64_MAX),
        C("SET", "k", "v", "EX", I64_MIN), C("SET", "k", "v", "EX", "99999999999999999999"),
        C("SET", "k", "v", "PX", "0"), C("SET", "k", "v", "PX", "-5"),
        C("SET", "k", "v", "PX", I64_MAX), C("SET", "k", "v", "PX", "9223372036854775"),
        C("SET", "k", "v", "EX", "9223372036854775"),
        C("SET", "k", "v", "EXAT", "0"), C("SET", "k", "v", "EXAT", "-1"),
        C("SET", "k", "v", "EXAT", I64_MAX), C("SET", "k", "v", "PXAT", "0"),
        C("SET", "k", "v", "PXAT", "-1"), C("SET", "k", "v", "PXAT", "x"),
        # invalid combinations
        C("SET", "k", "v", "EX", "10", "PX", "10"), C("SET", "k", "v", "EX", "10", "EX", "10"),
        C("SET", "k", "v", "EX", "10", "KEEPTTL"), C("SET", "k", "v", "KEEPTTL", "EX", "10"),
        C("SET", "k", "v", "KEEPTTL", "KEEPTTL"), C("SET", "k", "v", "PXAT", "1", "EXAT", "1"),
        C("SET", "k", "v", "EX"), C("SET", "k", "v", "PX"), C("SET", "k", "v", "EXAT"),
        C("SET", "k", "v", "PXAT"), C("SET", "k", "v", "EX", "10", "NX", "XX"),
        C("SET", "k", "v", "KEEPTTL", "PX", "10"), C("SET", "k", "v", "EX", "PX"),
        # a relative deadline ("EX 10 EX 10" succeeded): exact ms differ per server
        C("PEXPIRETIME", "k", mode="type"), C("GET", "k"),
        # past absolute deadlines: the SET succeeds and the key is gone
        C("SET", "gone", "v", "EXAT", "1"), C("EXISTS", "gone"), C("GET", "gone"),
        C("SET", "gone", "v", "PXAT", "1000"), C("GET", "gone"), C("TTL", "gone"),
        C("SET", "gone", "v", "PXAT", "1", "GET"), C("SET", "k", "v", "EXAT", "1", "GET"),
        C("GET", "k")])

    add("setex-psetex", [
        C("SETEX", "k", "10000", "v"), C("TTL", "k"), C("GET", "k"),
        C("PSETEX", "k", "20000000", "w"), C("TTL", "k"), C("GET", "k"),
        C("SETEX", "k", "0", "v"), C("SETEX", "k", "-1", "v"), C("SETEX", "k", "abc", "v"),
        C("SETEX", "k", "1.5", "v"), C("SETEX", "k", I64_MAX, "v"),
        C("SETEX", "k", "9223372036854775", "v"), C("PSETEX", "k", "0", "v"),
        C("PSETEX", "k", "-5", "v"), C("PSETEX", "k", I64_MAX, "v"), C("PSETEX", "k", "x", "v"),
        C("GET", "k"), C("TTL", "k"),
        C("SETEX", "k", "10"), C("SETEX"), C("SETEX", "k", "10", "v", "x"), C("PSETEX", "k"),
        C("setex", "low", "30000", "x"), C("TTL", "low"), C("psetex", "low", "40000000", "x"),
        C("TTL", "low"), C("PTTL", "low", mode="type")])

    add("getex", [
        C("SET", "k", "v"), C("GETEX", "k"), C("TTL", "k"),
        C("GETEX", "k", "EX", "10000"), C("TTL", "k"), C("PTTL", "k", mode="type"),
        C("GETEX", "k", "PX", "20000000"), C("TTL", "k"),
        C("GETEX", "k", "EXAT", FUT_S), C("EXPIRETIME", "k"),
        C("GETEX", "k", "PXAT", FUT_MS), C("PEXPIRETIME", "k"),
        C("GETEX", "k"), C("PEXPIRETIME", "k"),
        C("GETEX", "k", "PERSIST"), C("TTL", "k"), C("GETEX", "k", "persist"),
        C("GETEX", "k", "ex", "30000"), C("TTL", "k"),
        C("GETEX", "missing"), C("GETEX", "missing", "EX", "10"), C("GETEX", "missing", "PERSIST"),
        C("EXISTS", "missing"),
        C("GETEX", "k", "EX", "0"), C("GETEX", "k", "EX", "-1"), C("GETEX", "k", "EX", "abc"),
        C("GETEX", "k", "EX", "1.5"), C("GETEX", "k", "PX", "0"), C("GETEX", "k", "PX", "-1"),
        C("GETEX", "k", "EX", I64_MAX), C("GETEX", "k", "PX", I64_MAX),
        C("GETEX", "k", "EXAT", "0"), C("GETEX", "k", "PXAT", "-1"),
        C("GETEX", "k", "EXAT", I64_MAX),
        C("GETEX", "k", "EX"), C("GETEX", "k", "PX"), C("GETEX", "k", "EX", "10", "PX", "10"),
        C("GETEX", "k", "PERSIST", "EX", "10"), C("GETEX", "k", "EX", "10", "PERSIST"),
        C("GETEX", "k", "FOO"), C("GETEX", "k", "KEEPTTL"), C("GETEX", "k", "EX", "10", "x"),
        C("GETEX", "missing", "FOO"),
        C("TTL", "k"), C("GET", "k"),
        C("GETEX", "k", "EXAT", "1"), C("EXISTS", "k"), C("GET", "k"),
        C("SET", "k", "v"), C("GETEX", "k", "PXAT", "1"), C("GET", "k"),
        C("GETEX"), C("getex", "k")])

    add("getdel", [
        C("SET", "k", "v"), C("GETDEL", "k"), C("GETDEL", "k"), C("EXISTS", "k"),
        C("SET", "t", "v", "EX", "10000"), C("GETDEL", "t"), C("TTL", "t"),
        C("SET", "e", ""), C("GETDEL", "e"), C("EXISTS", "e"),
        C("GETDEL"), C("GETDEL", "a", "b"), C("getdel", "missing")])

    exp = [C("SET", "k", "v"),
           C("EXPIRE", "k", "10000"), C("TTL", "k"),
           C("EXPIRE", "k", "20000", "NX"), C("TTL", "k"),
           C("EXPIRE", "k", "20000", "XX"), C("TTL", "k"),
           C("EXPIRE", "k", "5000", "GT"), C("TTL", "k"),
           C("EXPIRE", "k", "30000", "GT"), C("TTL", "k"),
           C("EXPIRE", "k", "40000", "LT"), C("TTL", "k"),
           C("EXPIRE", "k", "10000", "LT"), C("TTL", "k"),
           # (equal deadlines are left out: a millisecond decides between them)
           C("EXPIRE", "k", "9999", "GT"), C("EXPIRE", "k", "10001", "LT"),
           C("EXPIRE", "k", "50000", "XX", "GT"), C("TTL", "k"),
           C("EXPIRE", "k", "40000", "XX", "LT"), C("TTL", "k"),
           C("EXPIRE", "k", "60000", "GT", "XX"), C("TTL", "k"),
           C("EXPIRE", "k", "70000", "nx"), C("EXPIRE", "k", "70000", "gt"), C("TTL", "k"),
           C("PERSIST", "k"), C("TTL", "k"),
           C("EXPIRE", "k", "10000", "XX"), C("EXPIRE", "k", "10000", "GT"), C("TTL", "k"),
           C("EXPIRE", "k", "10000", "XX", "LT"), C("TTL", "k"),
           C("EXPIRE", "k", "10000", "LT"), C("TTL", "k"), C("PERSIST", "k"),
           C("EXPIRE", "k", "10000", "NX"), C("TTL", "k"),
           C("EXPIRE", "k", "10000", "NX", "NX"), C("EXPIRE", "k", "80000", "GT", "GT"),
           C("TTL", "k")]
    for combo in [("NX", "XX"), ("XX", "NX"), ("NX", "GT"), ("NX", "LT"), ("GT", "NX"),
                  ("LT", "NX"), ("GT", "LT"), ("LT", "GT"), ("NX", "XX", "GT"),
                  ("XX", "GT", "LT"), ("nx", "xx"), ("gt", "lt")]:
        exp.append(C("EXPIRE", "k", "100", *combo))
        exp.append(C("PEXPIRE", "k", "100", *combo))
        exp.append(C("EXPIREAT", "k", FUT_S, *combo))
        exp.append(C("PEXPIREAT", "k", FUT_MS, *combo))
    exp += [C("EXPIRE", "k", "100", "FOO"), C("EXPIRE", "k", "100", "NX", "FOO"),
            C("PEXPIRE", "k", "100", "bar"), C("EXPIREAT", "k", "100", "KEEPTTL"),
            C("PEXPIREAT", "k", "100", "EX"), C("EXPIRE", "k", "100", ""),
            C("TTL", "k"),
            C("EXPIRE", "missing", "10"), C("EXPIRE", "missing", "10", "XX"),
            C("EXPIRE", "missing", "10", "NX"), C("EXPIRE", "missing", "-1"),
            C("PEXPIRE", "missing", "10"), C("EXPIREAT", "missing", FUT_S),
            C("PEXPIREAT", "missing", FUT_MS), C("EXPIRE", "missing", "10", "FOO"),
            C("EXPIRE", "k", "abc"), C("EXPIRE", "k", "1.5"), C("EXPIRE", "k", ""),
            C("EXPIRE", "k", I64_MAX), C("EXPIRE", "k", I64_MIN),
            C("EXPIRE", "k", "9223372036854775"), C("EXPIRE", "k", "-9223372036854775"),
            C("PEXPIRE", "k", I64_MAX), C("PEXPIRE", "k", I64_MIN),
            C("EXPIREAT", "k", I64_MAX), C("EXPIREAT", "k", I64_MIN),
            C("PEXPIREAT", "k", I64_MIN), C("EXPIRE", "k", "99999999999999999999"),
            C("EXPIRE", "missing", "abc"), C("TTL", "k"),
            C("EXPIRE", "k"), C("EXPIRE"), C("PEXPIRE", "k"), C("EXPIREAT", "k"),
            C("PEXPIREAT"),
            # absolute deadlines with options
            C("EXPIREAT", "k", FUT_S, "GT"), C("EXPIRETIME", "k"),
            C("PEXPIREAT", "k", FUT_MS, "GT"), C("PEXPIRETIME", "k"),
            C("PEXPIREAT", "k", "4102444800000", "GT"), C("PEXPIRETIME", "k"),
            C("EXPIREAT", "k", "4102444700", "LT"), C("EXPIRETIME", "k"),
            C("PEXPIREAT", "k", I64_MAX, "XX"), C("PEXPIRETIME", "k"),
            C("PEXPIRE", "k", "10000000", "LT"), C("TTL", "k"), C("PTTL", "k", mode="type"),
            C("PEXPIRE", "k", "20000000", "GT"), C("TTL", "k"),
            C("pexpire", "k", "30000000", "xx"), C("TTL", "k"), C("GET", "k")]
    add("expire-options", exp)

    add("expire-past-deletes", [
        C("SET", "d", "v"), C("EXPIRE", "d", "-1"), C("EXISTS", "d"), C("GET", "d"),
        C("SET", "d", "v"), C("EXPIRE", "d", "0"), C("GET", "d"),
        C("SET", "d", "v"), C("PEXPIRE", "d", "-100"), C("TTL", "d"),
        C("SET", "d", "v"), C("PEXPIRE", "d", "0"), C("EXISTS", "d"),
        C("SET", "d", "v"), C("EXPIREAT", "d", "1"), C("TTL", "d"),
        C("SET", "d", "v"), C("EXPIREAT", "d", "0"), C("GET", "d"),
        C("SET", "d", "v"), C("EXPIREAT", "d", "-5"), C("GET", "d"),
        C("SET", "d", "v"), C("PEXPIREAT", "d", "1000"), C("EXISTS", "d"),
        # GT against no TTL (infinite) fails: the key stays; LT succeeds: it goes
        C("SET", "d", "v"), C("EXPIRE", "d", "-1", "GT"), C("GET", "d"), C("TTL", "d"),
        C("EXPIRE", "d", "-1", "XX"), C("GET", "d"), C("EXPIRE", "d", "-1", "LT"),
        C("GET", "d"),
        C("SET", "d", "v"), C("EXPIRE", "d", "-1", "NX"), C("GET", "d"),
        C("SET", "d", "v", "EX", "10000"), C("EXPIRE", "d", "-1", "NX"), C("GET", "d"),
        C("EXPIRE", "d", "0", "GT"), C("GET", "d"), C("EXPIRE", "d", "0", "LT"), C("GET", "d"),
        C("SET", "d", "v", "EX", "10000"), C("EXPIREAT", "d", "1", "XX"), C("GET", "d"),
        C("SET", "d", "v", "EX", "10000"), C("PEXPIREAT", "d", "1", "GT"), C("TTL", "d"),
        C("DBSIZE")])

    add("ttl-persist", [
        C("TTL", "missing"), C("PTTL", "missing"), C("EXPIRETIME", "missing"),
        C("PEXPIRETIME", "missing"), C("SET", "k", "v"), C("TTL", "k"), C("PTTL", "k"),
        C("EXPIRETIME", "k"), C("PEXPIRETIME", "k"),
        C("PERSIST", "missing"), C("PERSIST", "k"),
        C("EXPIRE", "k", "10000"), C("PERSIST", "k"), C("PERSIST", "k"), C("TTL", "k"),
        C("PTTL", "k"), C("GET", "k"),
        C("TTL"), C("TTL", "a", "b"), C("PTTL"), C("EXPIRETIME"), C("PEXPIRETIME", "a", "b"),
        C("PERSIST"), C("PERSIST", "a", "b"), C("ttl", "k"), C("persist", "k")])

    add("ttl-kept-or-cleared", [
        C("SET", "n", "1", "EX", "10000"), C("INCR", "n"), C("TTL", "n"),
        C("INCRBY", "n", "5"), C("DECR", "n"), C("DECRBY", "n", "2"), C("TTL", "n"),
        C("APPEND", "n", "0"), C("TTL", "n"), C("SETRANGE", "n", "0", "9"), C("TTL", "n"),
        C("INCRBYFLOAT", "n", "1.5"), C("TTL", "n"), C("GET", "n"),
        C("SET", "n", "1"), C("TTL", "n"),
        C("SET", "g", "v", "EX", "10000"), C("GETSET", "g", "w"), C("TTL", "g"),
        C("SET", "m", "v", "EX", "10000"), C("MSET", "m", "x", "o", "y"), C("TTL", "m"),
        C("SET", "s", "v", "EX", "10000"), C("SET", "s", "v2", "XX"), C("TTL", "s"),
        C("SET", "s", "v", "EX", "10000"), C("SET", "s", "v2", "NX"), C("TTL", "s"),
        C("SET", "s", "v", "EX", "10000"), C("SET", "s", "v2", "GET"), C("TTL", "s"),
        C("SET", "s", "v", "EX", "10000"), C("SETNX", "s", "x"), C("TTL", "s"),
        C("MSETNX", "s", "x", "new", "y"), C("TTL", "s"),
        C("GETEX", "s"), C("TTL", "s"), C("GETRANGE", "s", "0", "0"), C("TTL", "s"),
        C("TOUCH", "s"), C("TTL", "s")])
    return S


def keys_scan_scripts():
    S = []
    add = lambda name, steps, **kw: S.extend(both_protocols(name, steps, **kw))
    names = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "hillo",
             "a", "b", "c", "ab", "[x]", "x", "a\\b", "", "h[a]llo", "^a", "-", "aaa"]
    kv = []
    for n in names:
        kv += [n, "1"]
    pats = ["*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-i]llo", "h[!e]llo",
            "h\\*llo", "h\\?llo", "\\[x\\]", "[x]", "[a-c]", "[^a]", "[c-a]", "?", "??",
            "a*", "*a*", "*o", "a\\\\b", "h\\[a\\]llo", "[\\^]a", "\\-", "nomatch", "",
            "[", "[a", "a[", "\\", "*[x-z]*", "h**o", "[ab][ab]"]
    steps = [C(*(["MSET"] + kv)), C("SELECT", "1"), C("SET", "hello", "other-db"),
             C("KEYS", "*", mode="set"), C("SELECT", "0")]
    steps += [C("KEYS", p, mode="set") for p in pats]
    steps += [C("SET", "exp", "v", "EX", "10000"), C("KEYS", "ex*", mode="set"),
              C("KEYS"), C("KEYS", "a", "b"), C("keys", "h?llo", mode="set"),
              C("FLUSHDB"), C("KEYS", "*")]
    add("keys-patterns", steps)

    mset = ["MSET"]
    for i in range(40):
        mset += ["user:%d" % i, "u%d" % i]
    for i in range(20):
        mset += ["item:%d" % i, "i%d" % i]
    add("scan-full-iteration", [
        C("SCAN", "0"), C("SCAN", "0", "COUNT", "1000"), C("SCAN", "0", "MATCH", "*"),
        C(*mset), C("SET", "ttl:1", "v", "EX", "10000"),
        SCANALL(), SCANALL("COUNT", "5"), SCANALL("COUNT", "1"), SCANALL("COUNT", "1000"),
        SCANALL("MATCH", "user:1*"), SCANALL("MATCH", "user:1*", "COUNT", "3"),
        SCANALL("MATCH", "item:?"), SCANALL("MATCH", "*:1[0-5]"), SCANALL("MATCH", "nomatch"),
        SCANALL("TYPE", "string"), SCANALL("TYPE", "STRING", "COUNT", "7"),
        SCANALL("TYPE", "list"), SCANALL("TYPE", "hash", "MATCH", "*"),
        SCANALL("MATCH", "ttl*", "TYPE", "string", "COUNT", "2"),
        SCANALL("match", "item:1*", "count", "4"),
        SCANALL("MATCH", "a", "MATCH", "user:3*"), SCANALL("COUNT", "1", "COUNT", "100"),
        C("SELECT", "2"), SCANALL(), C("SET", "db2", "x"), SCANALL("COUNT", "2"),
        C("SELECT", "0"), C("DBSIZE")])
    add("scan-errors", [
        C("SET", "a", "1"),
        C("SCAN", "abc"), C("SCAN", "1.5"), C("SCAN", " 0"),
        C("SCAN", "0x10"), C("SCAN", "99999999999999999999"),
        C("SCAN", "0", "COUNT", "0"), C("SCAN", "0", "COUNT", "-1"),
        C("SCAN", "0", "COUNT", "x"), C("SCAN", "0", "COUNT", "1.5"), C("SCAN", "0", "COUNT"),
        C("SCAN", "0", "COUNT", I64_MAX, "MATCH", "zz"), C("SCAN", "0", "MATCH"),
        C("SCAN", "0", "TYPE"), C("SCAN", "0", "FOO"), C("SCAN", "0", "FOO", "bar"),
        C("SCAN", "0", "MATCH", "*", "COUNT"), C("SCAN", "0", "COUNT", "10", "x"),
        C("SCAN", "abc", "COUNT", "0"), C("SCAN", "0", "COUNT", "0", "MATCH", "*"),
        C("SCAN"), C("scan", "x")])
    add("randomkey", [
        C("RANDOMKEY"), C("SET", "only", "v"), C("RANDOMKEY"), C("RANDOMKEY"),
        C("SELECT", "1"), C("RANDOMKEY"), C("SET", "one", "x"), C("RANDOMKEY"),
        C("SET", "exp", "x", "EX", "10000"), C("DEL", "one"), C("RANDOMKEY"),
        C("RANDOMKEY", "x"), C("randomkey"), C("SELECT", "0"), C("DEL", "only"),
        C("RANDOMKEY")])

    add("rename", [
        C("RENAME", "missing", "x"), C("RENAMENX", "missing", "x"),
        C("RENAME", "missing", "missing"), C("RENAMENX", "missing", "missing"),
        C("SET", "a", "1"), C("RENAME", "a", "a"), C("RENAMENX", "a", "a"), C("GET", "a"),
        C("RENAME", "a", "b"), C("GET", "a"), C("GET", "b"), C("SET", "c", "3"),
        C("RENAME", "b", "c"), C("GET", "c"), C("EXISTS", "b"), C("SET", "d", "4"),
        C("RENAMENX", "c", "d"), C("GET", "c"), C("GET", "d"), C("RENAMENX", "c", "e"),
        C("GET", "e"), C("EXISTS", "c"),
        C("SET", "t", "v", "EX", "10000"), C("RENAME", "t", "t2"), C("TTL", "t2"),
        C("TTL", "t"), C("RENAMENX", "t2", "t3"), C("TTL", "t3"),
        C("SET", "u", "v", "EX", "10000"), C("SET", "w", "x"), C("RENAME", "w", "u"),
        C("TTL", "u"), C("GET", "u"),
        C("SET", "p", "v", "EXAT", FUT_S), C("RENAME", "p", "q"), C("EXPIRETIME", "q"),
        C("SELECT", "1"), C("RENAME", "q", "r"), C("SELECT", "0"),
        C("RENAME", "q", ""), C("GET", ""), C("RENAME", "", "q"),
        C("RENAME"), C("RENAME", "a"), C("RENAME", "a", "b", "c"), C("RENAMENX", "a"),
        C("rename", "q", "q2"), C("renamenx", "q2", "q3"), C("DBSIZE")])
    return S


def expiry_happens_scripts():
    """Keys with 30 ms TTLs, then a 200 ms pause: every command must see them gone."""
    S = []
    add = lambda name, steps, **kw: S.extend(both_protocols(name, steps, **kw))
    short = lambda *keys: [C("SET", k, "v", "PX", "30") for k in keys]
    add("expired-keys-are-gone", short("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k") + [
        C("SET", "keep", "v"), C("PSETEX", "l", "30", "v"), C("SET", "m", "v"),
        C("PEXPIRE", "m", "30"),
        C("SET", "o", "v", "PXAT", "1"), SLEEP(0.25),
        C("KEYS", "*", mode="set"), SCANALL(), C("RANDOMKEY"),
        C("GET", "a"), C("TTL", "b"), C("PTTL", "c"), C("EXISTS", "d", "l", "m"),
        C("PERSIST", "e"), C("EXPIRE", "f", "100"), C("GETEX", "g", "EX", "100"),
        C("GETDEL", "h"), C("RENAME", "i", "x"), C("COPY", "j", "y"), C("MOVE", "k", "1"),
        C("INCR", "a"), C("TTL", "a"), C("APPEND", "b", "z"), C("GET", "b"),
        C("SET", "c", "new", "NX"), C("GET", "c"), C("SET", "d", "w", "GET"),
        C("SET", "l", "w", "XX"), C("EXISTS", "l"), C("TYPE", "m"), C("STRLEN", "e"),
        C("GETRANGE", "f", "0", "-1"), C("MGET", "g", "h", "keep"),
        C("EXPIRETIME", "m"), C("DEL", "e", "f", "keep"), C("KEYS", "*", mode="set"),
        SCANALL()])
    # No DBSIZE / INFO keyspace after a deadline passed: corewire may still count
    # expired keys that were not reclaimed yet (on purpose).
    add("expired-key-in-other-db", [
        C("SELECT", "4"), C("SET", "a", "v", "PX", "30"), C("SET", "b", "v"),
        C("SELECT", "0"), C("SET", "a", "db0"), SLEEP(0.2), C("GET", "a"), C("SELECT", "4"),
        C("GET", "a"), C("KEYS", "*"), C("EXISTS", "a", "b"), C("SELECT", "0"),
        C("KEYS", "*")])
    add("watch-expiring-key", [
        C("SET", "w", "v", "PX", "30"), C("WATCH", "w"), SLEEP(0.2), C("MULTI"),
        C("GET", "w"), C("EXEC"),
        C("SET", "w", "v", "PX", "30"), SLEEP(0.2), C("WATCH", "w"), C("MULTI"),
        C("GET", "w"), C("EXEC")])
    return S


def select_per_connection_scripts():
    S = []
    add = lambda name, steps, **kw: S.extend(both_protocols(name, steps, **kw))
    add("select-per-connection", [
        C("SELECT", "1"), C("SET", "k", "one"), C2("GET", "k"), C2("SET", "k", "zero"),
        C("GET", "k"), C2("SELECT", "1"), C2("GET", "k"), C2("SELECT", "2"),
        C2("SET", "k", "two", "EX", "10000"), C("GET", "k"), C("SELECT", "2"),
        C("TTL", "k"), C2("FLUSHDB"), C("GET", "k"), C("SELECT", "0"), C("GET", "k"),
        C2("MOVE", "k", "0"), C2("SELECT", "0"), C2("FLUSHALL"), C("GET", "k"),
        C("DBSIZE"), C2("DBSIZE")])
    return S


def db_transaction_scripts():
    S = []
    add = lambda name, steps, **kw: S.extend(both_protocols(name, steps, **kw))
    add("multi-select", [
        C("SET", "k", "zero"), C("MULTI"), C("SELECT", "1"), C("SET", "k", "one"),
        C("GET", "k"), C("SELECT", "0"), C("GET", "k"), C("SELECT", "2"), C("EXEC"),
        C("SET", "k", "two"), C("DBSIZE"), C("SELECT", "1"), C("GET", "k"),
        C("SELECT", "0"), C("GET", "k"),
        C("MULTI"), C("SELECT", "99"), C("SET", "k", "x"), C("EXEC"), C("GET", "k"),
        C("MULTI"), C("SELECT"), C("SET", "k", "y"), C("EXEC"), C("GET", "k"),
        C("MULTI"), C("MOVE", "k", "3"), C("SELECT", "3"), C("GET", "k"),
        C("COPY", "k", "k2", "DB", "4"), C("EXEC"), C("SELECT", "4"), C("GET", "k2")])
    add("multi-expiry", [
        C("MULTI"), C("SET", "k", "v", "EX", "10000"), C("TTL", "k"),
        C("EXPIRE", "k", "20000", "GT"), C("TTL", "k"), C("EXPIRE", "k", "5", "GT"),
        C("PERSIST", "k"), C("TTL", "k"), C("GETEX", "k", "EX", "30000"), C("TTL", "k"),
        C("EXPIRETIME", "missing"), C("SETEX", "s", "40000", "x"), C("TTL", "s"),
        C("GETDEL", "k"), C("EXPIRE", "k", "10", "XX"), C("EXPIRE", "s", "-1"),
        C("EXISTS", "s"), C("SET", "bad", "v", "EX", "0"),
        C("EXPIRE", "k", "10", "NX", "XX"), C("EXEC"),
        C("MULTI"), C("EXPIRE", "k"), C("SET", "z", "1"), C("EXEC"), C("EXISTS", "z"),
        C("MULTI"), C("SET", "p", "v", "PXAT", FUT_MS), C("PEXPIRETIME", "p"),
        C("SET", "p", "w", "KEEPTTL"), C("EXPIRETIME", "p"), C("EXEC")])
    add("multi-rename", [
        C("SET", "a", "1"), C("MULTI"), C("RENAME", "a", "b"), C("GET", "b"),
        C("RENAME", "a", "c"), C("RENAMENX", "b", "c"), C("COPY", "c", "d"),
        C("MOVE", "d", "1"), C("RENAMENX", "c", "c"), C("EXISTS", "a", "b", "c", "d"),
        C("DBSIZE"), C("EXEC"), C("KEYS", "*"), C("RANDOMKEY"),
        C("SELECT", "1"), C("GET", "d")])
    add("watch-expire", [
        C("SET", "w", "v"), C("WATCH", "w"), C2("EXPIRE", "w", "10000"), C("MULTI"),
        C("GET", "w"), C("EXEC"), C("TTL", "w"),
        # PERSIST that removes nothing does not touch the key
        C("SET", "w", "v"), C("WATCH", "w"), C2("PERSIST", "w"), C("MULTI"), C("GET", "w"),
        C("EXEC"),
        C("SET", "w", "v", "EX", "10000"), C("WATCH", "w"), C2("PERSIST", "w"), C("MULTI"),
        C("GET", "w"), C("EXEC"),
        # EXPIRE that fails (NX on a key with a TTL) does not touch it either
        C("SET", "w", "v", "EX", "10000"), C("WATCH", "w"), C2("EXPIRE", "w", "5", "NX"),
        C("MULTI"), C("TTL", "w"), C("EXEC"),
        C("WATCH", "w"), C2("GETEX", "w", "EX", "20000"), C("MULTI"), C("TTL", "w"),
        C("EXEC"),
        C("WATCH", "w"), C2("SELECT", "1"), C2("SET", "w", "other db"), C("MULTI"),
        C("GET", "w"), C("EXEC"),
        C("WATCH", "w"), C2("SELECT", "0"), C2("MOVE", "w", "2"), C("MULTI"),
        C("EXISTS", "w"), C("EXEC"),
        C("SET", "w", "v"), C("WATCH", "w"), C2("RENAME", "w", "w2"), C("MULTI"),
        C("GET", "w"), C("EXEC"),
        C("WATCH", "w2"), C2("EXPIRE", "w2", "-1"), C("MULTI"), C("GET", "w2"), C("EXEC"),
        C("SET", "x", "v"), C("WATCH", "x"), C2("COPY", "src-missing", "x"), C("MULTI"),
        C("GET", "x"), C("EXEC"),
        C("SELECT", "3"), C("SET", "y", "v"), C("WATCH", "y"), C2("SELECT", "3"),
        C2("EXPIRE", "y", "10000"), C("MULTI"), C("GET", "y"), C("EXEC")])
    return S


def client_list_scripts():
    S = []
    add = lambda name, steps, **kw: S.extend(both_protocols(name, steps, **kw))
    add("client-info-list", [
        C("CLIENT", "INFO", mode="clientinfo"), C("CLIENT", "SETNAME", "cw-e2e"),
        C("CLIENT", "INFO", mode="clientinfo"),
        C("CLIENT", "LIST", mode="clientinfo"),
        C("CLIENT", "LIST", "TYPE", "normal", mode="clientinfo"),
        C("CLIENT", "LIST", "TYPE", "pubsub"),
        C("CLIENT", "LIST", "TYPE", "bogus"), C("CLIENT", "LIST", "ID", "abc"),
        C("CLIENT", "LIST", "ID"), C("CLIENT", "LIST", "FOO"),
        C("CLIENT", "LIST", "ID", "999999999"), C("CLIENT", "INFO", "x"),
        C("client", "info", mode="clientinfo")])
    add("client-kill-errors", [
        C("CLIENT", "KILL", "1.2.3.4:5"), C("CLIENT", "KILL", "ID", "999999999"),
        C("CLIENT", "KILL", "ID", "abc"), C("CLIENT", "KILL", "ID", "-1"),
        C("CLIENT", "KILL", "ID"), C("CLIENT", "KILL", "TYPE", "bogus"),
        C("CLIENT", "KILL", "TYPE", "pubsub"), C("CLIENT", "KILL", "FOO", "bar"),
        C("CLIENT", "KILL", "ADDR", "1.2.3.4:5"), C("CLIENT", "KILL", "LADDR", "1.2.3.4:5"),
        C("CLIENT", "KILL", "SKIPME", "maybe"),
        C("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "SKIPME"), C("CLIENT", "KILL"),
        C("client", "kill", "no-such-addr"), C("PING")])
    add("client-no-evict", [
        C("CLIENT", "NO-EVICT", "on"), C("CLIENT", "NO-EVICT", "off"),
        C("CLIENT", "NO-EVICT", "ON"), C("CLIENT", "NO-EVICT", "maybe"),
        C("CLIENT", "NO-EVICT"), C("CLIENT", "NO-EVICT", "on", "off"),
        C("client", "no-evict", "OFF")])
    return S


# ---------------------------------------------------------------- comparison

def short(b):
    r = repr(b)
    if len(r) > REPR_MAX:
        r = r[:REPR_MAX] + "... (%d bytes)" % len(b)
    return r


def as_pairs(v):
    """HELLO replies: a RESP3 map or a flat RESP2 array, as a list of (key, value)."""
    t, payload = v[0], v[1]
    if t == b"%":
        return [(k[1], val) for k, val in payload]
    if t == b"*" and payload is not None and len(payload) % 2 == 0:
        return [(payload[i][1], payload[i + 1]) for i in range(0, len(payload), 2)]
    return None


def keyspace_keys(v):
    if v[0] not in (b"$", b"="):
        return None
    text = v[1] or b""
    if v[0] == b"=":
        text = text[4:]  # "txt:" prefix of a verbatim string
    for line in text.split(b"\n"):
        line = line.strip()
        if line.startswith(b"db0:"):
            for field in line[4:].split(b","):
                if field.startswith(b"keys="):
                    return int(field[5:])
    return 0


def keyspace_dbs(v):
    """INFO keyspace: {dbN: (keys, expires)} (avg_ttl is left out)."""
    if v[0] not in (b"$", b"="):
        return None
    text = (v[1] or b"")[4 if v[0] == b"=" else 0:]
    out = {}
    for line in text.split(b"\n"):
        line = line.strip()
        if line.startswith(b"db") and b":" in line:
            name, rest = line.split(b":", 1)
            f = dict(x.split(b"=", 1) for x in rest.split(b",") if b"=" in x)
            out[name.decode()] = (f.get(b"keys"), f.get(b"expires"))
    return out


CLIENT_FIELDS = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub",
                 "psub", "multi", "qbuf", "qbuf-free", "obl", "oll", "omem", "events", "cmd",
                 "user", "resp"]
CLIENT_COMPARED = ("name", "db", "flags", "multi", "cmd", "user", "resp")


def client_lines(v):
    """CLIENT INFO/LIST text as a list of {field: value}, one per line."""
    if v[0] not in (b"$", b"=") or v[1] is None:
        return None
    text = v[1][4 if v[0] == b"=" else 0:].decode("latin-1")
    lines = []
    for line in text.split("\n"):
        line = line.strip()
        if line:
            lines.append(dict(x.split("=", 1) for x in line.split(" ") if "=" in x))
    return lines


def is_time_reply(v):
    if v[0] != b"*" or v[1] is None or len(v[1]) != 2:
        return False
    for t, payload in v[1]:
        if t != b"$" or not payload or not payload.isdigit():
            return False
        if payload != b"0" and payload.startswith(b"0"):
            return False
    return int(v[1][1][1]) < 1000000


def compare(mode, ref, test):
    """Returns None when equal under mode, else a reason."""
    (rraw, rval), (traw, tval) = ref, test
    if mode == "exact":
        return None if rraw == traw else "bytes differ"
    if mode == "type":
        return None if rraw[:1] == traw[:1] else "RESP type differs"
    if mode == "time":
        for side, v in (("redis", rval), ("corewire", tval)):
            if not is_time_reply(v):
                return "%s: not a TIME reply" % side
        return None
    if mode == "map":
        if rraw[:1] != traw[:1]:
            return "RESP type differs"
        rp, tp = as_pairs(rval), as_pairs(tval)
        if rp is None or tp is None:
            return None if rraw == traw else "bytes differ"
        return None if sorted(rp) == sorted(tp) else "maps differ (order ignored)"
    if mode == "set":
        if rraw[:1] != traw[:1]:
            return "RESP type differs"
        if rval[0] not in (b"*", b"~") or rval[1] is None or tval[1] is None:
            return None if rraw == traw else "bytes differ"
        return None if sorted(rval[1]) == sorted(tval[1]) else "elements differ (order ignored)"
    if mode == "keyspace-all":
        if rraw[:1] != traw[:1]:
            return "RESP type differs"
        a, b = keyspace_dbs(rval), keyspace_dbs(tval)
        return None if a == b else "keyspace lines differ: %r vs %r" % (a, b)
    if mode == "clientinfo":
        if rraw[:1] != traw[:1]:
            return "RESP type differs"
        a, b = client_lines(rval), client_lines(tval)
        if a is None or b is None:
            return None if rraw == traw else "bytes differ"
        for side, lines in (("redis", a), ("corewire", b)):
            for fields in lines:
                missing = [f for f in CLIENT_FIELDS if f not in fields]
                if missing:
                    return "%s: CLIENT line lacks %s" % (side, " ".join(missing))
        # The connection asking: same db, name, resp, multi, flags, cmd.
        mine = lambda lines: [tuple(f.get(k) for k in CLIENT_COMPARED) for f in lines
                              if f.get("cmd", "").startswith("client|")]
        if mine(a) != mine(b):
            return "own CLIENT line differs in %s: %r vs %r" % (CLIENT_COMPARED, mine(a), mine(b))
        return None
    if mode == "keyspace":
        a, b = keyspace_keys(rval), keyspace_keys(tval)
        if rraw[:1] != traw[:1]:
            return "RESP type differs"
        return None if a == b else "db0 keys differ (%r vs %r)" % (a, b)
    if mode == "hello":
        if rraw[:1] != traw[:1]:
            return "RESP type differs"
        if rval[0] == b"-":
            return None if rraw == traw else "bytes differ"
        rp, tp = as_pairs(rval), as_pairs(tval)
        if rp is None or tp is None:
            return "HELLO reply is not a map"
        if [k for k, _ in rp] != [k for k, _ in tp]:
            return "HELLO keys differ: %r vs %r" % ([k for k, _ in rp], [k for k, _ in tp])
        for (k, rv), (_, tv) in zip(rp, tp):
            if k in (b"server", b"version", b"id"):
                if rv[0] != tv[0]:
                    return "HELLO %r type differs" % k
            elif rv != tv:
                return "HELLO %r differs: %r vs %r" % (k, rv, tv)
        return None
    raise ValueError(mode)


def on(step):
    return "" if step.conn == 0 else ", connection %d" % step.conn


def run_script(script, host, ports):
    """Runs a script against both servers; returns (replies compared, failures)."""
    # conns[server][i]: connection i of the script on that server.
    conns = [[Conn(host, p) for _ in range(script.nconns)] for p in ports]
    failures = []
    compared = 0
    deadline = time.monotonic() + SCRIPT_DEADLINE_S
    try:
        for si, step in enumerate(script.steps):
            if time.monotonic() > deadline:
                failures.append("script deadline of %.0f s exceeded" % SCRIPT_DEADLINE_S)
                break
            if getattr(step, "sleep_s", 0):
                time.sleep(step.sleep_s)
                continue
            replies = []
            for side in conns:
                c = side[step.conn]
                got = []
                try:
                    if getattr(step, "scan_args", None) is not None:
                        got.append(c.scan_all(step.scan_args))
                    else:
                        c.send(step.data, step.chunk_bytes, step.chunk_delay_s)
                        for _ in step.modes:
                            got.append(c.read_reply())
                except (ReplyTimeout, Closed, OSError, ValueError) as e:
                    got.append(("<%s: %s>" % (type(e).__name__, e), None))
                replies.append(got)
            ref, test = replies
            for ri, mode in enumerate(step.modes):
                r = ref[ri] if ri < len(ref) else ("<no reply>", None)
                t = test[ri] if ri < len(test) else ("<no reply>", None)
                compared += 1
                if isinstance(r[0], str) or isinstance(t[0], str):
                    if r[0] != t[0]:
                        failures.append("step %d reply %d: %s\n    sent:     %s\n"
                                        "    redis:    %s\n    corewire: %s"
                                        % (si, ri, "reply missing" + on(step), short(step.data),
                                           short(r[0]), short(t[0])))
                    continue
                why = compare(mode, r, t)
                if why:
                    failures.append("step %d reply %d (%s): %s\n    sent:     %s\n"
                                    "    redis:    %s\n    corewire: %s"
                                    % (si, ri, mode + on(step), why, short(step.data),
                                       short(r[0]), short(t[0])))
            if any(isinstance(x[0], str) for rs in replies for x in rs):
                break  # one side is broken; later steps would only cascade
        # Connection state after the script.
        compared += 1
        if script.expect_close:
            states = [side[0].wait_closed(CLOSE_WAIT_S) for side in conns]
            if states[0] != states[1]:
                failures.append("after the script: redis closed=%s extra=%s; "
                                "corewire closed=%s extra=%s"
                                % (states[0][0], short(states[0][1]),
                                   states[1][0], short(states[1][1])))
            elif not states[0][0]:
                failures.append("reference did not close the connection (test bug?)")
        else:
            for i in range(script.nconns):
                extras = [side[i].pending_bytes(EXTRA_WAIT_S) for side in conns]
                if extras[0] != extras[1]:
                    failures.append("unexpected trailing bytes on connection %d: redis %s, "
                                    "corewire %s" % (i, short(extras[0]), short(extras[1])))
    finally:
        for side in conns:
            for c in side:
                c.close()
    return compared, failures


def admin(host, port, *cmd):
    c = Conn(host, port)
    try:
        c.send(enc(*cmd))
        return c.read_reply()[0]
    finally:
        c.close()


# Where corewire differs from Redis on purpose: script name -> the reason.
DIFFERS_ON_PURPOSE = {
    "wrongtype-numkeys": "other types' commands that take a key count first (SINTERCARD) "
                         "are unknown commands: corewire stores only strings",
    "wrongtype-argument-errors": "other types' commands are not parsed: on a string key "
                                 "they answer WRONGTYPE before Redis would check arguments",
    "wrongtype-store-destination": "other types' *STORE commands are unknown commands: "
                                   "corewire cannot store their results",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--ref-port", type=int, required=True, help="real redis-server")
    ap.add_argument("--test-port", type=int, required=True, help="server under test")
    ap.add_argument("--only", default="", help="run scripts whose name contains this")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    ports = (args.ref_port, args.test_port)

    scripts = [s for s in build_scripts() if args.only in s.name]
    for name, reason in DIFFERS_ON_PURPOSE.items():
        if any(s.name == name for s in scripts):
            print("differs on purpose, not compared: %s: %s" % (name, reason))
    scripts = [s for s in scripts if s.name not in DIFFERS_ON_PURPOSE]
    total_compared = 0
    failed_scripts = 0
    for s in scripts:
        try:
            for p in ports:
                rep = admin(args.host, p, "FLUSHALL")
                if rep != b"+OK\r\n":
                    raise RuntimeError("FLUSHALL on port %d replied %r" % (p, rep))
            compared, failures = run_script(s, args.host, ports)
        except Exception as e:  # a server died or refused: report, keep going
            compared, failures = 0, ["harness error: %s: %s" % (type(e).__name__, e)]
        total_compared += compared
        if failures:
            failed_scripts += 1
            print("MISMATCH %s (%d replies compared)" % (s.name, compared))
            for f in failures[:10]:
                print("  " + f)
            if len(failures) > 10:
                print("  ... and %d more mismatches in this script" % (len(failures) - 10))
        elif args.verbose:
            print("ok       %s (%d replies compared)" % (s.name, compared))

    # Both servers must still serve a fresh connection after all the protocol errors.
    alive = True
    for p in ports:
        try:
            rep = admin(args.host, p, "PING")
        except Exception as e:
            rep = repr(e).encode()
        if rep != b"+PONG\r\n":
            print("MISMATCH final PING on port %d replied %s" % (p, short(rep)))
            alive = False

    print("differential: %d scripts, %d replies compared, %d scripts mismatched%s"
          % (len(scripts), total_compared, failed_scripts,
             "" if alive else ", a server stopped answering"))
    return 0 if failed_scripts == 0 and alive else 1


if __name__ == "__main__":
    sys.exit(main())
