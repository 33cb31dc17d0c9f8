#!/usr/bin/env python3
"""Small helpers for tests/e2e/run.sh and benches/bench.sh (stdlib only).

  tools.py port-free PORT            exit 0 if 127.0.0.1:PORT can be bound and nobody
                                     accepts connections on it
  tools.py exec PROG ARGS...         exec PROG with SIGINT/SIGQUIT reset to default
                                     (bash ignores them in background jobs of a
                                     non-interactive shell, which would make the
                                     SIGINT shutdown check meaningless)
  tools.py counters PORT PREFIX N    sum of integer values of PREFIX000000000000 ..
                                     PREFIX(N-1), zero-padded to 12 digits as
                                     redis-benchmark -r does; prints "keys sum
                                     minlen maxlen" (sum is "-" if a value is not
                                     an integer)
  tools.py hold PORT N SECONDS       open N connections, send PING on each, check
                                     +PONG, keep them open SECONDS (or until a line
                                     or EOF arrives on stdin), print "held N"
  tools.py bigset PORT MIB CHUNK     SET an MIB-MiB value in CHUNK-byte writes, GET
                                     it back; prints "seconds intact|corrupt"
  tools.py pipeline-read PORT KEY N VALUE_BYTES
                                     pipeline N x GET KEY while reading at full
                                     speed; prints "complete|closed|hung BYTES"
                                     (hung: 10 s without a byte, still connected)
  tools.py stall PORT KEY N          pipeline N x GET KEY without reading any reply;
                                     then report whether the server closed the
                                     connection, and how many bytes were readable
"""

import os
import select
import signal
import socket
import sys
import time


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def port_free(port):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=0.5)
        c.close()
        return False  # somebody accepts connections there
    except OSError:
        pass
    s = socket.socket()
    # SO_REUSEADDR, as servers bind: a port whose old connections sit in TIME_WAIT
    # is free; a port with a listener (SO_REUSEPORT or not) is not.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def read_mget(sock, n, deadline):
    """Reads one RESP2 array reply of n bulk strings (or nulls)."""
    buf = bytearray()
    pos = 0

    def line():
        nonlocal pos
        while True:
            i = buf.find(b"\r\n", pos)
            if i >= 0:
                l = bytes(buf[pos:i])
                pos = i + 2
                return l
            fill()

    def fill():
        if time.monotonic() > deadline:
            raise TimeoutError("deadline")
        d = sock.recv(1 << 16)
        if not d:
            raise ConnectionError("closed")
        buf.extend(d)

    head = line()
    if head != b"*%d" % n:
        raise ValueError("unexpected MGET reply header %r" % head[:200])
    values = []
    for _ in range(n):
        h = line()
        if h == b"$-1":
            values.append(None)
            continue
        ln = int(h[1:])
        while len(buf) - pos < ln + 2:
            fill()
        values.append(bytes(buf[pos:pos + ln]))
        pos += ln + 2
    return values


def counters(port, prefix, n):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    deadline = time.monotonic() + 60
    keys = total = 0
    lengths = set()
    batch = 5000
    for start in range(0, n, batch):
        names = [("%s%012d" % (prefix, i)).encode() for i in range(start, min(n, start + batch))]
        sock.sendall(enc(b"MGET", *names))
        for v in read_mget(sock, len(names), deadline):
            if v is not None:
                keys += 1
                lengths.add(len(v))
                total = total + int(v) if total is not None and v.lstrip(b"-").isdigit() else None
    sock.close()
    print(keys, "-" if total is None else total,
          min(lengths) if lengths else 0, max(lengths) if lengths else 0)


def hold(port, n, seconds):
    conns = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"PING\r\n")
        got = b""
        while not got.endswith(b"\r\n"):
            d = s.recv(64)
            if not d:
                raise ConnectionError("connection %d closed before +PONG" % i)
            got += d
        if got != b"+PONG\r\n":
            raise ValueError("connection %d: %r" % (i, got))
        conns.append(s)
    print("held", len(conns), flush=True)
    # Wait for the deadline or for our stdin to close (the caller is done measuring).
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, deadline - time.monotonic()))
        if r:
            break  # a line or EOF: the caller is done with us
    for s in conns:
        s.close()


def stall(port, key, n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = enc(b"GET", key.encode()) * n
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + 20
    # Send everything we can without reading; stop when the server stops reading.
    while sent < len(req) and time.monotonic() < deadline:
        _, w, _ = select.select([], [s], [], 1.0)
        if not w:
            break
        try:
            sent += s.send(req[sent:sent + 65536])
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            break
    print("sent", sent, flush=True)
    # The caller now checks that other clients are served; we wait to be told.
    sys.stdin.readline()
    # Drain: a server that enforces an output limit has closed us by now.
    got = 0
    closed = False
    s.setblocking(True)
    s.settimeout(2)
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline:
            d = s.recv(1 << 20)
            if not d:
                closed = True
                break
            got += len(d)
    except socket.timeout:
        closed = False
    except OSError:
        closed = True
    print("closed" if closed else "open", got, flush=True)


def bigset(port, mib, chunk_bytes):
    """SET of an mib-MiB value written in chunk_bytes pieces (a server that re-parses
    its whole input buffer on every read goes quadratic here), then GET it back."""
    value = b"".join(b"%015d\n" % i for i in range(mib * 65536))
    req = enc(b"SET", b"big", value)
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.monotonic()
    for i in range(0, len(req), chunk_bytes):
        s.sendall(req[i:i + chunk_bytes])
    reply = s.recv(64)
    set_s = time.monotonic() - start
    if reply != b"+OK\r\n":
        print("error SET replied %r" % reply[:100])
        return
    s.sendall(enc(b"GET", b"big"))
    want = b"$%d\r\n" % len(value) + value + b"\r\n"
    got = bytearray()
    while len(got) < len(want):
        d = s.recv(1 << 20)
        if not d:
            break
        got += d
    s.sendall(enc(b"DEL", b"big"))
    s.recv(64)
    s.close()
    print("%.3f %s" % (set_s, "intact" if bytes(got) == want else "corrupt"))


def pipeline_read(port, key, n, value_bytes):
    """Pipelines n x GET key (key holds value_bytes bytes) while reading replies as
    fast as possible. Prints "complete|closed|hung BYTES": a server may finish or
    cut us off at its output limit, but must not go silent with the connection open."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = enc(b"GET", key.encode()) * n
    want = n * (len(b"$%d\r\n" % value_bytes) + value_bytes + 2)
    s.setblocking(False)
    sent = got = 0
    idle_deadline = time.monotonic() + 10  # pushed back whenever bytes arrive
    state = "hung"
    try:
        while time.monotonic() < idle_deadline:
            r, w, _ = select.select([s], [s] if sent < len(req) else [], [], 1.0)
            if w:
                try:
                    sent += s.send(req[sent:sent + 65536])
                except BlockingIOError:
                    pass
            if r:
                d = s.recv(1 << 20)
                if not d:
                    state = "closed"
                    break
                got += len(d)
                idle_deadline = time.monotonic() + 10
                if got >= want:
                    state = "complete"
                    break
    except OSError:
        state = "closed"
    print(state, got, flush=True)


def main():
    cmd = sys.argv[1]
    if cmd == "port-free":
        sys.exit(0 if port_free(int(sys.argv[2])) else 1)
    if cmd == "exec":
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)
        os.execv(sys.argv[2], sys.argv[2:])
    if cmd == "counters":
        counters(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif cmd == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif cmd == "bigset":
        bigset(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "pipeline-read":
        pipeline_read(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "stall":
        stall(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("unknown subcommand " + cmd)


if __name__ == "__main__":
    main()
