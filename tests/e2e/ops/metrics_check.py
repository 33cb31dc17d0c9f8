#!/usr/bin/env python3
"""Section v: /metrics (parsed with prometheus_client), /stats, INFO and the admin
console's SHOW STATS / SHOW WORKERS, against known traffic on a fresh server.

One corewire --threads 2 with PostgreSQL users app and admin (admin-users admin).
Known traffic: 7 SET and 5 GET (4 hits, 1 miss) through redis-cli, one process each,
and 2 SELECTs (SELECT 1, and a SELECT of the kv table) through one psycopg
connection in autocommit mode (psycopg sends nothing else). Every counter is checked against what that traffic must have
produced, exactly: counts, bytes in and out, connections accepted, keyspace hits and
misses, histogram counts; then the same numbers through /stats, INFO commandstats,
SHOW STATS and SHOW WORKERS. Then gauges with held connections, errors, engine
commits and conflicts, and --metrics-enabled no.
"""

import re
import time

import opslib
from opslib import Checks, Server, RespConn, RespError, enc, one_line, parse_psql

ARGS = opslib.setup(__doc__)
C = Checks("metrics")
if not (opslib.require_modules(C, ["prometheus_client", "psycopg", "redis"])
        and opslib.require_tools(C, ["redis-cli", "psql"])):
    C.finish()

FAMILIES = {  # name: type
    "corewire_up": "gauge",
    "corewire_uptime_seconds": "gauge",
    "corewire_workers": "gauge",
    "corewire_connections": "gauge",
    "corewire_connections_accepted_total": "counter",
    "corewire_commands_total": "counter",
    "corewire_errors_total": "counter",
    "corewire_request_duration_seconds": "histogram",
    "corewire_net_input_bytes_total": "counter",
    "corewire_net_output_bytes_total": "counter",
    "corewire_engine_commits_total": "counter",
    "corewire_engine_conflicts_total": "counter",
    "corewire_engine_aborts_total": "counter",
    "corewire_keyspace_hits_total": "counter",
    "corewire_keyspace_misses_total": "counter",
    "corewire_worker_connections": "gauge",
    "corewire_worker_commands_total": "counter",
}
LABELS = {  # family: labels every sample must carry
    "corewire_connections": {"protocol", "state"},
    "corewire_connections_accepted_total": {"protocol"},
    "corewire_commands_total": {"protocol", "command"},
    "corewire_errors_total": {"protocol", "kind"},
    "corewire_net_input_bytes_total": {"protocol"},
    "corewire_net_output_bytes_total": {"protocol"},
    "corewire_worker_connections": {"worker", "protocol"},
    "corewire_worker_commands_total": {"worker", "protocol"},
}
ADMIN = {"user": "admin", "password": "adminpw", "dbname": "corewire"}
HIST_WORKS = False  # the histogram grew as it should with --metrics-enabled yes
not_http = lambda labels: labels.get("protocol") != "http"  # noqa: E731


def cmds(m, protocol):
    return m.value("corewire_commands_total", protocol=protocol)


def hist_count(m):
    return m.sum_where("corewire_request_duration_seconds_count", not_http)


def admin(s, sql):
    rc, out = s.psql(sql, **ADMIN)
    if rc != 0:
        raise AssertionError("psql -d corewire -c %r: exit %d: %s" % (sql, rc, one_line(out)))
    return parse_psql(out)


S = Server("metrics", args=["--pg-user", "app:apppw", "--pg-user", "admin:adminpw", "--admin-users", "admin"], threads=2)

with C.block("fresh server"):
    S.start_ready()
if not S.alive():
    C.finish()  # the FAIL above says why; every check below needs this server

# ------------------------------------------------------------------ the scrape itself
with C.block("/metrics format"):
    m0 = S.metrics()
    C.ok("/metrics: 200, Content-Type text/plain (Prometheus text format)", m0.content_type.startswith("text/plain"),
         m0.content_type)
    C.ok("/metrics: parsed by prometheus_client (%d families)" % len(m0.families), len(m0.families) > 0)
    missing = [f for f in FAMILIES if m0.family(f) is None]
    C.ok("/metrics: every agreed family is there (%d)" % len(FAMILIES), not missing, "missing: %s" % missing)
    wrong = ["%s is %s" % (f, m0.family(f).type) for f, t in FAMILIES.items()
             if m0.family(f) is not None and m0.family(f).type != t]
    C.ok("/metrics: family types (counter, gauge, histogram)", not wrong, "; ".join(wrong))
    bad = []
    for fam, labels in LABELS.items():
        for l, _ in m0.values(fam):
            if not labels <= set(l):
                bad.append("%s%s" % (fam, l))
    C.ok("/metrics: labelled families carry their labels", not bad, "; ".join(bad[:5]))
    C.eq("corewire_up", 1.0, m0.value("corewire_up"))
    C.eq("corewire_workers (--threads 2)", 2.0, m0.value("corewire_workers"))

# --------------------------------------------------------------------- known traffic
with C.block("known traffic"):
    before = S.metrics()
    sent = received = 0
    outs = []
    for i in range(1, 8):
        rc, out = S.cli("set", "k%d" % i, "v%d" % i)
        outs.append(out.strip())
        sent += len(enc("set", "k%d" % i, "v%d" % i))
        received += len(b"+OK\r\n")
    for key in ("k1", "k2", "k3", "k4", "missing"):
        rc, out = S.cli("get", key)
        outs.append(out.strip())
        sent += len(enc("get", key))
        received += len(b"$2\r\nv1\r\n") if key != "missing" else len(b"$-1\r\n")
    C.eq("redis-cli: 7 SET and 5 GET answered", ["OK"] * 7 + ["v1", "v2", "v3", "v4", ""], outs)
    mid = S.metrics()  # RESP traffic only since `before`
    # Two SELECTs, one without a table and one of the kv table: both are SELECTs.
    with S.pg(user="app", password="apppw") as c:
        rows = [c.execute("SELECT 1").fetchone()[0],
                c.execute("SELECT value FROM kv WHERE key = 'k5'").fetchone()[0]]
    C.eq("psycopg (autocommit): SELECT 1; SELECT value FROM kv WHERE key = 'k5'", [1, "v5"], rows)
    after = S.metrics()

    C.eq('corewire_commands_total{protocol="resp",command="set"}', 7.0,
         after.value("corewire_commands_total", protocol="resp", command="set"))
    C.eq('corewire_commands_total{protocol="resp",command="get"}', 5.0,
         after.value("corewire_commands_total", protocol="resp", command="get"))
    C.eq('corewire_commands_total{protocol="pg",command="select"} (SELECT 1 and a SELECT of kv)', 2.0,
         after.value("corewire_commands_total", protocol="pg", command="select"))
    C.eq("commands_total (resp + pg) grew by exactly 14", 14.0,
         cmds(after, "resp") + cmds(after, "pg") - cmds(before, "resp") - cmds(before, "pg"))
    HIST_WORKS = hist_count(after) - hist_count(before) == 14.0
    C.eq("request_duration_seconds_count (resp + pg) grew by exactly 14", 14.0, hist_count(after) - hist_count(before))
    bad = []
    for l, count in after.values("corewire_request_duration_seconds_count"):
        inf = after.value("corewire_request_duration_seconds_bucket", le="+Inf", **l)
        if inf != count:
            bad.append("%s: +Inf bucket %s, count %s" % (l, inf, count))
    counted = after.values("corewire_request_duration_seconds_count")
    C.ok("request_duration_seconds: samples there, +Inf bucket == count for every label set", counted and not bad,
         "; ".join(bad) if counted else "no _count sample")
    C.eq('net_input_bytes_total{protocol="resp"} grew by the request bytes', float(sent),
         mid.value("corewire_net_input_bytes_total", protocol="resp")
         - before.value("corewire_net_input_bytes_total", protocol="resp"))
    C.eq('net_output_bytes_total{protocol="resp"} grew by the reply bytes', float(received),
         mid.value("corewire_net_output_bytes_total", protocol="resp")
         - before.value("corewire_net_output_bytes_total", protocol="resp"))
    C.ok('net_input_bytes_total{protocol="pg"} grew with the SELECTs',
         after.value("corewire_net_input_bytes_total", protocol="pg")
         > mid.value("corewire_net_input_bytes_total", protocol="pg"))
    C.eq('connections_accepted_total{protocol="resp"} grew by 12 (one per redis-cli)', 12.0,
         mid.value("corewire_connections_accepted_total", protocol="resp")
         - before.value("corewire_connections_accepted_total", protocol="resp"))
    C.eq('connections_accepted_total{protocol="pg"} grew by 1 (the psycopg connection)', 1.0,
         after.value("corewire_connections_accepted_total", protocol="pg")
         - mid.value("corewire_connections_accepted_total", protocol="pg"))
    C.eq("keyspace_hits_total grew by 4 with the 4 GETs of existing keys", 4.0,
         mid.value("corewire_keyspace_hits_total") - before.value("corewire_keyspace_hits_total"))
    C.eq("keyspace_misses_total grew by 1 with the GET of a missing key", 1.0,
         mid.value("corewire_keyspace_misses_total") - before.value("corewire_keyspace_misses_total"))
    C.ok("errors_total: the family is there and (resp + pg) did not grow",
         after.family("corewire_errors_total") is not None
         and after.sum_where("corewire_errors_total", not_http) == before.sum_where("corewire_errors_total", not_http),
         "family %s, %s -> %s" % ("there" if after.family("corewire_errors_total") else "missing",
                                  before.sum_where("corewire_errors_total", not_http),
                                  after.sum_where("corewire_errors_total", not_http)))
    for proto in ("resp", "pg"):
        a, b = cmds(after, proto), after.value("corewire_worker_commands_total", protocol=proto)
        C.ok('worker_commands_total{protocol="%s"} summed over workers == commands_total{protocol="%s"} > 0'
             % (proto, proto), a > 0 and a == b, "commands_total %s, worker_commands_total %s" % (a, b))

# ------------------------------------------------------ the same numbers elsewhere
with C.block("/stats"):
    status, _, doc = opslib.http_json(S.http_port, "GET", "/stats")
    C.eq("/stats: status 200", 200, status)
    C.ok("/stats: uptime_seconds is a number", isinstance(doc.get("uptime_seconds"), (int, float)),
         opslib.short(doc.get("uptime_seconds")))
    workers = doc.get("workers")
    C.ok("/stats: workers is a list of 2", isinstance(workers, list) and len(workers) == 2, opslib.short(workers))
    fields_ok = isinstance(workers, list) and all(
        isinstance(w, dict) and {"id", "connections", "commands_total", "ops_per_sec"} <= set(w)
        and isinstance(w.get("connections"), dict) and {"resp", "pg", "http"} <= set(w["connections"])
        for w in workers)
    C.ok("/stats: each worker has id, connections {resp, pg, http}, commands_total, ops_per_sec", fields_ok,
         opslib.short(workers))
    C.eq("/stats: worker ids", [0, 1], sorted(w.get("id") for w in workers or [] if isinstance(w, dict)))
    commands = (doc.get("total") or {}).get("commands") or {}
    got = [(commands.get("resp") or {}).get("set"), (commands.get("resp") or {}).get("get"),
           (commands.get("pg") or {}).get("select")]
    C.eq("/stats: total.commands.resp.set, .resp.get, .pg.select", [7, 5, 2], got)

with C.block("INFO commandstats"):
    r = RespConn(S.port)  # raw: redis-py would parse INFO into a dict
    info = r.call("INFO", "commandstats")
    info = info.decode() if isinstance(info, bytes) else str(info)
    calls = {m.group(1): int(m.group(2)) for m in re.finditer(r"^cmdstat_([a-z|]+):calls=(\d+)", info, re.M)}
    C.eq("INFO commandstats: cmdstat_set calls=7, cmdstat_get calls=5 (as /metrics: %s, %s)"
         % (after.value("corewire_commands_total", protocol="resp", command="set"),
            after.value("corewire_commands_total", protocol="resp", command="get")),
         [7, 5], [calls.get("set"), calls.get("get")])
    r.close()

with C.block("admin console SHOW STATS"):
    head, rows = admin(S, "SHOW STATS")
    kv = [dict(zip(head, row)) for row in rows if row and row[0] == "kv"]
    C.ok("SHOW STATS: one row for database kv", len(kv) == 1, "header %s rows %s" % (head, rows))
    if kv:
        C.eq("SHOW STATS: kv total_query_count == the 2 SELECTs (as /metrics pg select)", "2",
             kv[0].get("total_query_count"))

with C.block("held connections"):
    held_resp = [RespConn(S.port) for _ in range(3)]
    for c in held_resp:
        assert c.call("PING") == "PONG"
    held_pg = [S.pg(user="app", password="apppw") for _ in range(2)]
    for c in held_pg:
        c.execute("SELECT 1")
    m = S.metrics()
    C.eq('corewire_connections{protocol="resp"} summed over states, 3 held', 3.0,
         m.value("corewire_connections", protocol="resp"))
    C.eq('corewire_connections{protocol="pg"} summed over states, 2 held', 2.0,
         m.value("corewire_connections", protocol="pg"))
    C.eq('corewire_worker_connections{protocol="resp"} summed over workers', 3.0,
         m.value("corewire_worker_connections", protocol="resp"))
    C.eq('corewire_worker_connections{protocol="pg"} summed over workers', 2.0,
         m.value("corewire_worker_connections", protocol="pg"))
    workers_seen = sorted({l.get("worker") for l, _ in m.values("corewire_worker_connections")})
    C.eq("corewire_worker_connections: worker labels", ["0", "1"], workers_seen)
    status, _, doc = opslib.http_json(S.http_port, "GET", "/stats")
    per = [(w.get("connections") or {}) for w in doc.get("workers") or []]
    C.eq("/stats: connections.resp and .pg summed over workers", [3, 2],
         [sum(p.get("resp") or 0 for p in per), sum(p.get("pg") or 0 for p in per)])
    # SHOW WORKERS between two scrapes: its counters lie between theirs, worker by worker;
    # its own connection is one more PostgreSQL connection.
    m_a = S.metrics()
    head, rows = admin(S, "SHOW WORKERS")
    m_b = S.metrics()
    table = [dict(zip(head, row)) for row in rows]
    C.eq("SHOW WORKERS: one row per worker", ["0", "1"], sorted(r.get("worker") for r in table))
    C.eq("SHOW WORKERS: resp_connections summed", 3, sum(int(r.get("resp_connections") or 0) for r in table))
    C.eq("SHOW WORKERS: pg_connections summed (2 held + the console's own)", 3,
         sum(int(r.get("pg_connections") or 0) for r in table))
    bad = []
    for r_ in table:
        w = r_.get("worker")
        lo = m_a.value("corewire_worker_commands_total", worker=w)  # every protocol, HTTP included
        hi = m_b.value("corewire_worker_commands_total", worker=w)
        got = float(r_.get("commands") or -1)
        if not lo <= got <= hi:
            bad.append("worker %s: commands %s, /metrics before %s after %s" % (w, got, lo, hi))
        want = m_a.value("corewire_worker_connections", worker=w, protocol="resp")
        if float(r_.get("resp_connections") or -1) != want:
            bad.append("worker %s: resp_connections %s, /metrics %s" % (w, r_.get("resp_connections"), want))
    C.ok("SHOW WORKERS: commands and resp_connections per worker agree with /metrics (between two scrapes)",
         table and not bad, "; ".join(bad))
    for c in held_resp:
        c.close()
    for c in held_pg:
        c.close()
    gone = opslib.wait_until(lambda: (lambda m: m.family("corewire_connections") is not None
                                      and m.value("corewire_connections", protocol="resp") == 0
                                      and m.value("corewire_connections", protocol="pg") == 0)(S.metrics()), 5, 0.2)
    C.ok("corewire_connections (there) back to 0 for resp and pg once the clients left (5 s)", gone)

with C.block("uptime"):
    u1 = S.metrics().value("corewire_uptime_seconds")
    time.sleep(1.2)
    u2 = S.metrics().value("corewire_uptime_seconds")
    C.ok("corewire_uptime_seconds grows (%s -> %s over 1.2 s)" % (u1, u2), u2 > u1)

with C.block("errors"):
    m1 = S.metrics()
    c = RespConn(S.port)
    r = c.call("NOSUCHCOMMAND", "x")
    c.close()
    C.ok("unknown command answers an error", isinstance(r, RespError), opslib.short(r))
    import psycopg
    with S.pg(user="app", password="apppw") as pc:
        try:
            pc.execute("SELECT * FROM no_such_table")
            C.fail("SQL on a missing table fails", "no error")
        except psycopg.Error as e:
            C.eq("SQL on a missing table fails (42P01)", "42P01", e.sqlstate)
    m2 = S.metrics()
    C.eq('errors_total{protocol="resp"} grew by 1', 1.0,
         m2.value("corewire_errors_total", protocol="resp") - m1.value("corewire_errors_total", protocol="resp"))
    C.eq('errors_total{protocol="pg"} grew by 1', 1.0,
         m2.value("corewire_errors_total", protocol="pg") - m1.value("corewire_errors_total", protocol="pg"))

with C.block("engine counters"):
    m1 = S.metrics()
    c = RespConn(S.port)
    replies = [c.call("MULTI"), c.call("SET", "tx1", "a"), c.call("SET", "tx2", "b"), c.call("EXEC")]
    C.eq("MULTI SET SET EXEC", ["OK", "QUEUED", "QUEUED", ["OK", "OK"]], replies)
    m2 = S.metrics()
    C.ok("engine_commits_total grew after MULTI/EXEC",
         m2.value("corewire_engine_commits_total") > m1.value("corewire_engine_commits_total"),
         "%s -> %s" % (m1.value("corewire_engine_commits_total"), m2.value("corewire_engine_commits_total")))
    other = RespConn(S.port)
    replies = [c.call("WATCH", "tx1"), other.call("SET", "tx1", "changed"), c.call("MULTI"), c.call("SET", "tx1", "mine"),
               c.call("EXEC")]
    C.eq("WATCH, SET from another client, MULTI SET EXEC -> nil", ["OK", "OK", "OK", "QUEUED", None], replies)
    m3 = S.metrics()
    grew = (m3.value("corewire_engine_conflicts_total") + m3.value("corewire_engine_aborts_total")
            - m2.value("corewire_engine_conflicts_total") - m2.value("corewire_engine_aborts_total"))
    C.ok("engine_conflicts_total + engine_aborts_total grew after the failed WATCH", grew >= 1, "grew by %s" % grew)
    c.close()
    other.close()

S.stop()

with C.block("--metrics-enabled no"):
    off = Server("metrics-off", args=["--metrics-enabled", "no"], threads=1).start_ready()
    m1 = off.metrics()
    C.eq("--metrics-enabled no: /metrics still serves corewire_up", 1.0, m1.value("corewire_up"))
    for i in range(5):
        off.cli("set", "k%d" % i, "v")
    m2 = off.metrics()
    C.ok("--metrics-enabled no: the latency histogram does not grow after 5 SETs (it does with yes: %s)" % HIST_WORKS,
         HIST_WORKS and hist_count(m2) == hist_count(m1), "%s -> %s" % (hist_count(m1), hist_count(m2)))
    info = off.cli("info", "stats")[1]
    C.ok("--metrics-enabled no: INFO stats still counts commands (total_commands_processed > 0)",
         re.search(r"total_commands_processed:([1-9]\d*)", info) is not None, one_line(info, 200))
    off.stop()

C.finish()
