#!/usr/bin/env python3
"""Turns benches/bench.sh raw results into the tables it prints (medians over reps).

Usage: summarize.py runs.csv rss.csv      the Redis part
       summarize.py --pg pg_runs.csv      the PostgreSQL part (pgbench)
"""

import csv
import statistics
import sys
from collections import defaultdict

SERVERS = ["redis", "cw1", "cw2"]
TEST_NAMES = {"ping_inline": "PING_INLINE", "ping_mbulk": "PING_MBULK", "set": "SET",
              "get": "GET", "incr": "INCR", "mset": "MSET(10)",
              "multi_exec": "MULTI/EXEC (5 cmds)"}
W = max(len(n) for n in TEST_NAMES.values())  # width of the test column


def main():
    runs = defaultdict(list)
    order = []
    with open(sys.argv[1]) as f:
        for r in csv.DictReader(f):
            key = (r["test"], int(r["pipeline"]))
            if key not in order:
                order.append(key)
            runs[key + (r["server"],)].append(r)

    def med(key, field):
        rows = runs.get(key, [])
        if not rows:
            return float("nan")
        if field == "cpu":
            return statistics.median(int(r["cpu_us"]) / int(r["requests"]) for r in rows)
        return statistics.median(float(r[field]) for r in rows)

    reps = max((len(v) for v in runs.values()), default=0)
    print()
    print("Throughput and server CPU: medians of %d runs each, 50 clients; "
          "redis and cw1 (corewire --threads 1) get one core each," % reps)
    print("cw2 = corewire --threads 2 sharing both cores with the load generator. "
          "CPU = server utime+stime per request.")
    hdr = ("%-*s %3s | %10s %10s %6s | %10s %6s | %8s %8s %6s | %8s"
           % (W, "test", "P", "redis rps", "cw1 rps", "cw1/r", "cw2 rps", "cw2/r",
              "redis us", "cw1 us", "cw1/r", "cw2 us"))
    print(hdr)
    print("-" * len(hdr))
    for test, p in order:
        k = lambda s: (test, p, s)
        r_rps, c1_rps, c2_rps = (med(k(s), "rps") for s in SERVERS)
        r_cpu, c1_cpu, c2_cpu = (med(k(s), "cpu") for s in SERVERS)
        print("%-*s %3d | %10.0f %10.0f %6.2f | %10.0f %6.2f | %8.3f %8.3f %6.2f | %8.3f"
              % (W, TEST_NAMES.get(test, test), p, r_rps, c1_rps, c1_rps / r_rps, c2_rps,
                 c2_rps / r_rps, r_cpu, c1_cpu, c1_cpu / r_cpu if r_cpu else float("nan"),
                 c2_cpu))
    if any(t == "multi_exec" for t, _ in order):
        print("MULTI/EXEC (benches/multi_exec.rs): rps = transactions/s (MULTI, SET, SET, GET, EXEC), "
              "CPU = per transaction; P = transactions per write.")

    print()
    print("Latency (ms, redis-benchmark): medians of p50 and p99")
    hdr = ("%-*s %3s | %8s %8s %8s | %8s %8s %8s"
           % (W, "test", "P", "redis p50", "cw1 p50", "cw2 p50", "redis p99", "cw1 p99", "cw2 p99"))
    print(hdr)
    print("-" * len(hdr))
    for test, p in order:
        k = lambda s: (test, p, s)
        print("%-*s %3d | %9.3f %8.3f %8.3f | %9.3f %8.3f %8.3f"
              % ((W, TEST_NAMES.get(test, test), p) + tuple(med(k(s), "p50_ms") for s in SERVERS)
                 + tuple(med(k(s), "p99_ms") for s in SERVERS)))
    if any(t == "multi_exec" for t, _ in order):
        print("MULTI/EXEC latency is multi_exec's round trip of one write of P transactions.")

    print()
    print("RSS per idle connection (each sent one PING):")
    with open(sys.argv[2]) as f:
        for r in csv.DictReader(f):
            before, after, n = int(r["rss_before_kb"]), int(r["rss_after_kb"]), int(r["conns"])
            print("  %-5s %6d conns: VmRSS %8d KB -> %8d KB = %6.2f KB/conn"
                  % (r["server"], n, before, after, (after - before) / n))


def main_pg(path):
    """pg_runs.csv: rep,test,mode,server,transactions,tps,lat_ms,cpu_us; servers
    "postgres" and (when corewire has --pg-port) "cw1"."""
    runs = defaultdict(list)
    order = []
    with open(path) as f:
        for r in csv.DictReader(f):
            key = (r["test"], r["mode"])
            if key not in order:
                order.append(key)
            runs[key + (r["server"],)].append(r)

    def med(key, field):
        rows = runs.get(key, [])
        if not rows:
            return float("nan")
        if field == "cpu":
            return statistics.median(int(r["cpu_us"]) / int(r["transactions"]) for r in rows)
        return statistics.median(float(r[field]) for r in rows)

    def ratio(a, b):
        return a / b if b and a == a and b == b else float("nan")

    reps = max((len(v) for v in runs.values()), default=0)
    has_cw = any(k[2] == "cw1" for k in runs)
    print()
    print("PostgreSQL protocol, pgbench: medians of %d runs each; postgres = PostgreSQL, cw1 = corewire "
          "--threads 1 --pg-port, one core each (CPU 0)," % reps)
    print("pgbench on the other core. tps excludes connection time; CPU = server utime+stime per transaction "
          "(for PostgreSQL: all its processes); lat = pgbench's average.")
    if not has_cw:
        print("corewire has no --pg-port: PostgreSQL alone.")
    hdr = ("%-6s %-8s | %10s %10s %6s | %8s %8s %6s | %7s %7s"
           % ("test", "mode", "pg tps", "cw1 tps", "cw1/pg", "pg us", "cw1 us", "cw1/pg", "pg ms", "cw1 ms"))
    print(hdr)
    print("-" * len(hdr))
    for test, mode in order:
        p_tps, c_tps = med((test, mode, "postgres"), "tps"), med((test, mode, "cw1"), "tps")
        p_cpu, c_cpu = med((test, mode, "postgres"), "cpu"), med((test, mode, "cw1"), "cpu")
        p_lat, c_lat = med((test, mode, "postgres"), "lat_ms"), med((test, mode, "cw1"), "lat_ms")
        print("%-6s %-8s | %10.0f %10.0f %6.2f | %8.1f %8.1f %6.2f | %7.3f %7.3f"
              % (test, mode, p_tps, c_tps, ratio(c_tps, p_tps), p_cpu, c_cpu, ratio(c_cpu, p_cpu), p_lat, c_lat))
    print("select: SELECT value FROM kv WHERE key = :k::text; update: UPDATE kv SET value = :v::text "
          "WHERE key = :k::text; k random over all keys.")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--pg":
        main_pg(sys.argv[2])
    else:
        main()
