#!/usr/bin/env python3
"""Section x: logs (JSON and text lines, --log-file, --log-level), secrets kept out of
every output, and SLOWLOG, next to a real redis-server where Redis defines the
behaviour.

Secrets: corewire with requirepass secret123 and pg-user alice:pw456 (from a config
file, then a SIGHUP reload, and as flags) must never print those strings in its log
file or stderr, INFO, CONFIG GET * (bar requirepass itself: Redis shows it, see
below), /metrics, /stats, /health, the status page, SHOW CONFIG or SLOWLOG GET.
CONFIG GET requirepass is compared with a real redis-server started with the same
--requirepass: Redis answers the password there, and corewire is to answer as Redis
does.
"""

import json
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import opslib
from opslib import Checks, Server, RespConn, RespError, free_port, one_line, short

ARGS = opslib.setup(__doc__)
C = Checks("logs")
if not (opslib.require_modules(C, ["redis", "psycopg"]) and opslib.require_tools(C, ["redis-server", "redis-cli", "psql"])):
    C.finish()
TMP = Path(tempfile.mkdtemp(prefix="corewire-logs.", dir=ARGS.logs))
TS = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?"
LEVELS = ("error", "warn", "info", "debug")
INFO_LINES = 0  # INFO lines the text-format run wrote (default level)


def redis_server(name, *args):
    """A reference redis-server on a free port, stopped with the others."""
    port = free_port()
    s = Server(name, ports=False, threads=None, port=port)
    s.argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
              "--daemonize", "no"] + list(args)
    return s.start_ready()


def traffic(s, password=None):
    """Some of everything: connections, commands, an error, a PostgreSQL session."""
    r = s.redis(password=password)
    r.set("a", "1")
    r.get("a")
    try:
        r.execute_command("NOSUCHCOMMAND")
    except Exception:  # noqa: BLE001 - the error is the point
        pass
    r.close()


# ------------------------------------------------------------------------ JSON lines
with C.block("JSON log"):
    log = TMP / "json.log"
    s = Server("logs-json", args=["--log-format", "json", "--log-file", str(log), "--log-level", "debug"], threads=2)
    s.start_ready()
    traffic(s)
    with s.pg() as c:
        c.execute("SELECT 1")
    rc = s.stop()
    C.eq("--log-format json: exit status 0 on SIGTERM", 0, rc)
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    C.ok("--log-file: the file has lines (%d)" % len(lines), len(lines) >= 2, str(log))
    bad = []
    for i, line in enumerate(lines, 1):
        try:
            doc = json.loads(line)
            if not isinstance(doc, dict) or not {"ts", "level", "worker", "msg"} <= set(doc):
                bad.append("line %d: keys %s" % (i, sorted(doc) if isinstance(doc, dict) else type(doc).__name__))
            elif doc["level"] not in LEVELS or not re.fullmatch(TS, str(doc["ts"])):
                bad.append("line %d: level %r ts %r" % (i, doc["level"], doc["ts"]))
        except ValueError as e:
            bad.append("line %d: not JSON (%s): %s" % (i, e, line[:120]))
    C.ok("--log-format json: every line is a JSON object with ts, level, worker, msg", lines and not bad,
         "; ".join(bad[:3]))

# ------------------------------------------------------------------------ text lines
with C.block("text log"):
    log = TMP / "text.log"
    s = Server("logs-text", args=["--log-format", "text", "--log-file", str(log)], threads=1)
    s.start_ready()
    traffic(s)
    rc = s.stop()
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    bad = [line for line in lines if not re.match(r"^%s\s+(ERROR|WARN|INFO|DEBUG|error|warn|info|debug)\b" % TS, line)]
    C.ok("--log-format text: every line starts with a timestamp and a level (%d lines)" % len(lines),
         lines and not bad, short(bad[:2]))
    INFO_LINES = len([line for line in lines if re.search(r"\bINFO\b", line)])

with C.block("--log-level error"):
    log = TMP / "error-level.log"
    s = Server("logs-error", args=["--log-level", "error", "--log-file", str(log)], threads=1)
    s.start_ready()
    traffic(s)
    s.stop()
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    chatty = [line for line in lines if re.search(r"\b(INFO|DEBUG|WARN)\b", line)]
    C.ok("--log-level error: no info, warn or debug lines (%d lines; the same run at info level wrote %d INFO lines)"
         % (len(lines), INFO_LINES), INFO_LINES > 0 and not chatty, short(chatty[:2]))

# --------------------------------------------------------------------------- secrets
SECRETS = ("secret123", "pw456")
with C.block("secrets"):
    log = TMP / "secrets.log"
    conf = TMP / "secrets.toml"
    conf.write_text('requirepass = "secret123"\npg-user = ["alice:pw456"]\nadmin-users = ["alice"]\n'
                    "slowlog-log-slower-than = 0\n")
    s = Server("logs-secrets", args=["--config", str(conf), "--log-format", "json", "--log-file", str(log),
                                     "--log-level", "debug"], threads=2)
    s.start_ready()
    seen = {}
    # Wrong and right passwords on both protocols, so that auth paths log what they log.
    c = RespConn(s.port)
    c.call("AUTH", "not-the-password")
    seen["AUTH reply"] = str(c.call("AUTH", "secret123"))
    c.call("SET", "k", "v")
    c.call("CONFIG", "SET", "maxclients", "5000")
    import psycopg
    try:
        s.pg(user="alice", password="wrong").close()
    except psycopg.Error:
        pass
    with s.pg(user="alice", password="pw456") as pc:
        pc.execute("SELECT 1")
    # A reload with the secrets changed and back (the log reports what changed).
    conf.write_text('requirepass = "secret123"\npg-user = ["alice:pw456", "bob:pw456"]\nadmin-users = ["alice"]\n'
                    "slowlog-log-slower-than = 0\n")
    s.signal(signal.SIGHUP)
    time.sleep(1)
    info = c.call("INFO", "everything")
    seen["INFO everything"] = info.decode(errors="replace") if isinstance(info, bytes) else str(info)
    allconf = c.call("CONFIG", "GET", "*")
    pairs = dict(zip(allconf[::2], allconf[1::2])) if isinstance(allconf, list) else {}
    seen["CONFIG GET * (less requirepass)"] = repr({k: v for k, v in pairs.items() if k != b"requirepass"})
    seen["SLOWLOG GET 1000"] = repr(c.call("SLOWLOG", "GET", "1000"))
    seen["CLIENT LIST"] = repr(c.call("CLIENT", "LIST"))
    for path in ("/metrics", "/stats", "/health", "/"):
        status, _, body = s.http("GET", path)
        seen["GET " + path] = body.decode(errors="replace")
    rc, out = s.psql("SHOW CONFIG", user="alice", password="pw456", dbname="corewire")
    seen["SHOW CONFIG"] = out
    C.ok("SHOW CONFIG lists the settings (requirepass, pg-user, maxclients)",
         rc == 0 and all(k in out for k in ("requirepass", "pg-user", "maxclients")), one_line(out, 300))
    C.ok("CONFIG GET * lists settings (maxclients)", b"maxclients" in pairs, short(list(pairs)[:10]))
    cw_requirepass = c.call("CONFIG", "GET", "requirepass")
    c.close()
    rc = s.stop()
    seen["log file"] = log.read_text(errors="replace") if log.exists() else ""
    seen["stderr"] = s.log()
    C.ok("the log file has lines to check (%d)" % seen["log file"].count("\n"), seen["log file"].count("\n") >= 2)
    for where, text in seen.items():
        leaked = [x for x in SECRETS if x in text]
        C.ok("no secret in %s" % where, not leaked, "contains %s" % leaked)

    ref = redis_server("logs-ref-requirepass", "--requirepass", "secret123")
    rc_ = RespConn(ref.port)
    rc_.call("AUTH", "secret123")
    ref_requirepass = rc_.call("CONFIG", "GET", "requirepass")
    rc_.close()
    ref.stop()
    C.eq("reference redis-server: CONFIG GET requirepass shows the password", [b"requirepass", b"secret123"],
         ref_requirepass)
    C.eq("CONFIG GET requirepass answers as redis-server does", ref_requirepass, cw_requirepass)

# --------------------------------------------------------------------------- SLOWLOG
def slowlog_run(port):
    """The same sequence on one connection: what SLOWLOG says at each step."""
    c = RespConn(port)
    out = {}
    for i in range(5):
        c.call("SET", "s%d" % i, "v")
    out["len"] = c.call("SLOWLOG", "LEN")
    entry = c.call("SLOWLOG", "GET", "1")
    out["get1"] = entry
    out["reset"] = c.call("SLOWLOG", "RESET")
    out["len_after_reset"] = c.call("SLOWLOG", "LEN")
    c.call("CONFIG", "SET", "slowlog-log-slower-than", "1000000000")
    c.call("SLOWLOG", "RESET")
    c.close()
    for i in range(10):  # new connections: every worker
        d = RespConn(port)
        d.call("SET", "t%d" % i, "v")
        d.close()
    c = RespConn(port)
    out["len_high_threshold"] = c.call("SLOWLOG", "LEN")
    c.close()
    return out


with C.block("SLOWLOG"):
    ref = redis_server("logs-ref-slowlog", "--slowlog-log-slower-than", "0")
    want = slowlog_run(ref.port)
    ref.stop()
    s = Server("logs-slowlog", args=["--slowlog-log-slower-than", "0"], threads=2).start_ready()
    got = slowlog_run(s.port)
    s.stop()
    C.ok("slowlog-log-slower-than 0: SLOWLOG LEN > 0 after 5 SETs", isinstance(got["len"], int) and got["len"] > 0,
         short(got["len"]))
    e = got["get1"]
    shape = (isinstance(e, list) and len(e) == 1 and isinstance(e[0], list)
             and [type(x).__name__ for x in e[0]] == [type(x).__name__ for x in want["get1"][0]])
    C.ok("SLOWLOG GET 1: one entry shaped as redis-server's (id, time, duration, args, addr, name)", shape,
         "corewire %s, redis-server %s" % (short(e), short(want["get1"])))
    C.eq("SLOWLOG RESET", "OK", got["reset"])
    C.ok("SLOWLOG LEN right after RESET at most redis-server's (%s: RESET itself logged)" % want["len_after_reset"],
         isinstance(got["len_after_reset"], int) and got["len_after_reset"] <= want["len_after_reset"],
         short(got["len_after_reset"]))
    C.eq("CONFIG SET slowlog-log-slower-than 1e9, RESET, 10 SETs on new connections: LEN as redis-server",
         want["len_high_threshold"], got["len_high_threshold"])

C.finish()
