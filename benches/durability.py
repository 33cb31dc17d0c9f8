#!/usr/bin/env python3
"""Helpers of benches/bench.sh's durability part.

  durability.py resp KEYS SIZE START STEP   SET commands (RESP) for keys START, START+STEP, ...
                                            below KEYS, to stdout (for redis-cli --pipe):
                                            key k:%010d, value: those 10 digits, then
                                            seeded pseudo-random printable bytes to SIZE
  durability.py value I SIZE                the value of key I
  durability.py wait-pong PORT PID T0_NS TIMEOUT_S
                                            polls PING every 5 ms until +PONG; prints the ms
                                            from T0_NS (CLOCK_REALTIME ns); exit 1 if PID died
                                            or TIMEOUT_S passed
  durability.py dropcache DIR               fsync then POSIX_FADV_DONTNEED every file under DIR:
                                            the next read of them comes from the disk
  durability.py table runs.csv              the throughput table (medians)
  durability.py rtable recovery.csv         the recovery table
"""

import csv
import os
import socket
import statistics
import sys
import time


# Values: the key's 10 digits, then printable pseudo-random bytes (seeded: the same in
# every run), so that neither LZF in Redis's RDB nor anything else shrinks them much.
_POOL = []


def value(i, size):
    if not _POOL:
        import random
        alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        _POOL.append(bytes(random.Random(5).choices(alphabet, k=1 << 20)))
    pool = _POOL[0]
    d = b"%010d" % i
    if size <= len(d):
        return d[:size]
    off = (i * 7919) % (len(pool) - size)
    return d + pool[off:off + size - len(d)]


def resp(keys, size, start, step):
    out = sys.stdout.buffer
    sz = b"%d" % size
    buf = []
    for i in range(start, keys, step):
        k = b"k:%010d" % i
        buf.append(b"*3\r\n$3\r\nSET\r\n$12\r\n" + k + b"\r\n$" + sz + b"\r\n" + value(i, size) + b"\r\n")
        if len(buf) >= 1000:
            out.write(b"".join(buf))
            buf = []
    out.write(b"".join(buf))
    out.flush()


def wait_pong(port, pid, t0_ns, timeout_s):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(max(1.0, deadline - time.time()))
                s.sendall(b"PING\r\n")
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data.startswith(b"+PONG"):
                    print("%.1f" % ((time.time_ns() - t0_ns) / 1e6))
                    return 0
        except OSError:
            pass
        try:
            os.kill(pid, 0)
        except OSError:
            print("process %d exited" % pid, file=sys.stderr)
            return 1
        time.sleep(0.005)
    print("no PONG on port %d after %d s" % (port, timeout_s), file=sys.stderr)
    return 1


def dropcache(d):
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            try:
                fd = os.open(p, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


LABELS = {
    "cw_mem": "corewire in-memory",
    "cw_no": "corewire no",
    "cw_everysec": "corewire everysec",
    "cw_always": "corewire always",
    "redis_mem": "redis appendonly no",
    "redis_no": "redis no",
    "redis_everysec": "redis everysec",
    "redis_always": "redis always",
}
SAME = {"cw_mem": "redis_mem", "cw_no": "redis_no", "cw_everysec": "redis_everysec",
        "cw_always": "redis_always"}


def table(path):
    rows = list(csv.DictReader(open(path)))
    cases, servers = [], []
    for r in rows:
        c = (int(r["pipeline"]), int(r["size"]))
        if c not in cases:
            cases.append(c)
        if r["server"] not in servers:
            servers.append(r["server"])
    servers.sort(key=lambda s: list(LABELS).index(s) if s in LABELS else 99)
    reps = len({r["rep"] for r in rows})

    def fs(r, col="fsyncs"):
        # The LD_PRELOAD count; without it, corewire's INFO wal_fsyncs.
        v = r.get(col) or ""
        return v if v != "" or col != "fsyncs" else (r.get("wal_fsyncs") or "")

    def sel(c, s):
        return [r for r in rows if (int(r["pipeline"]), int(r["size"])) == c and r["server"] == s]

    def med(c, s, f):
        rs = sel(c, s)
        if not rs:
            return float("nan")
        if f == "cpu":
            return statistics.median(int(r["cpu_us"]) / int(r["requests"]) for r in rs)
        if f in ("fsyncs_s", "wal_s"):
            col = "wal_fsyncs" if f == "wal_s" else "fsyncs"
            vals = [int(fs(r, col)) / (int(r["requests"]) / float(r["rps"])) for r in rs if fs(r, col) != ""]
            return statistics.median(vals) if vals else None
        if f == "fsync_ms":
            vals = [int(r["wal_fsync_us"]) / 1000 / int(r["wal_fsyncs"]) for r in rs
                    if r.get("wal_fsync_us") and r.get("wal_fsyncs") not in (None, "", "0")]
            return statistics.median(vals) if vals else None
        if f == "req_fsync":
            vals = [int(r["requests"]) / int(fs(r)) for r in rs if fs(r) not in ("", "0")]
            return statistics.median(vals) if vals else None
        if f == "bg":
            vals = [int(r["bg"]) for r in rs if r["bg"] != ""]
            return statistics.median(vals) if vals else None
        return statistics.median(float(r[f]) for r in rs)

    def fmt(v, spec):
        return "-" if v is None or v != v else spec % v

    print()
    print("durability: SET throughput, redis-benchmark -t set -c 50 -r 100000, medians of %d runs; every server "
          "pinned to CPU 0, the client to the last CPU." % reps)
    print("x mem = rps / corewire in-memory; x redis = rps / redis-server with the same policy (in-memory: "
          "appendonly no); CPU = server utime+stime(+reaped children) per request;")
    print("fsyncs = fsync+fdatasync calls of the server (LD_PRELOAD counter), per second of the run and requests "
          "per fsync; bg = checkpoints (corewire) / AOF rewrites (redis) during a run.")
    hdr = "%3s %5s  %-20s %10s %7s %7s %7s %7s %8s %9s %8s %3s" % (
        "-P", "-d", "server", "rps", "x mem", "x redis", "p50 ms", "p99 ms", "CPU us", "fsyncs/s", "req/fs", "bg")
    print(hdr)
    print("-" * len(hdr))
    for c in cases:
        mem = med(c, "cw_mem", "rps")
        for s in servers:
            rps = med(c, s, "rps")
            same = med(c, SAME[s], "rps") if s in SAME else float("nan")
            print("%3d %5d  %-20s %10.0f %7s %7s %7s %7s %8.2f %9s %8s %3s" % (
                c[0], c[1], LABELS.get(s, s), rps, fmt(rps / mem if mem else None, "%.3f"),
                fmt(rps / same if same == same and same else None, "%.3f"),
                fmt(med(c, s, "p50_ms"), "%.3f"), fmt(med(c, s, "p99_ms"), "%.3f"), med(c, s, "cpu"),
                fmt(med(c, s, "fsyncs_s"), "%.0f"), fmt(med(c, s, "req_fsync"), "%.1f"),
                fmt(med(c, s, "bg"), "%.0f")))
        wal = [(s[3:], med(c, s, "wal_s"), med(c, s, "fsync_ms")) for s in servers
               if s in ("cw_no", "cw_everysec", "cw_always")]
        if any(v is not None for _, v, _ in wal):
            print("    corewire's own INFO: wal_fsyncs per second " + ", ".join(
                "%s %s" % (k, fmt(v, "%.0f")) for k, v, _ in wal) + "; mean fsync " + ", ".join(
                "%s %s ms" % (k, fmt(t, "%.3f")) for k, _, t in wal))
            v, t = med(c, "cw_always", "wal_s"), med(c, "cw_always", "fsync_ms")
            if v is not None and t is not None:
                print("    corewire always spends %.0f%% of the run in fsync (%.0f/s x %.3f ms)" % (v * t / 10, v, t))
        a, n, ra = med(c, "cw_always", "rps"), med(c, "cw_no", "rps"), med(c, "redis_always", "rps")
        if a == a and n == n:
            print("    -P %d -d %d: corewire always / corewire no = %.3f%s" % (
                c[0], c[1], a / n, "; corewire always / redis always = %.3f" % (a / ra) if ra == ra else ""))
        print()


def rtable(path):
    rows = list(csv.DictReader(open(path)))
    print()
    print("recovery: time from exec to the first PONG (ready) and the server's own figures; "
          "MB = 10^6 bytes on disk in the data dir; warm = files in the page cache, "
          "cold = dropped from it first (posix_fadvise DONTNEED)")
    hdr = "%-8s %-30s %-5s %9s %9s %9s %9s %10s %9s %9s" % (
        "server", "recovering from", "cache", "disk MB", "keys", "ready ms", "MB/s", "keys/s", "server ms", "CPU ms")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        ready = float(r["ready_ms"])
        mb = int(r["disk_bytes"]) / 1e6
        keys = int(r["keys"])
        print("%-8s %-30s %-5s %9.1f %9d %9.0f %9s %10s %9s %9s" % (
            r["server"], r["source"], r["cache"], mb, keys, ready,
            "%.0f" % (mb / ready * 1000) if ready > 0 and keys > 0 else "-",
            "%.0f" % (keys / ready * 1000) if ready > 0 and keys > 0 else "-",
            r["server_ms"] or "-", r["cpu_ms"] or "-"))
    for r in rows:
        if r["line"]:
            print("  %s %s, %s: %s" % (r["server"], r["source"], r["cache"], r["line"]))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "resp":
        resp(*(int(a) for a in args))
    elif cmd == "value":
        sys.stdout.buffer.write(value(int(args[0]), int(args[1])))
    elif cmd == "wait-pong":
        sys.exit(wait_pong(int(args[0]), int(args[1]), int(args[2]), float(args[3])))
    elif cmd == "dropcache":
        dropcache(args[0])
    elif cmd == "table":
        table(args[0])
    elif cmd == "rtable":
        rtable(args[0])
    else:
        sys.exit("durability.py: unknown command %s" % cmd)


if __name__ == "__main__":
    main()
