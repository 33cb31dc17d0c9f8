#!/usr/bin/env python3
"""Section y: shutdown (SIGTERM, SIGINT, a second signal, the deadline, Redis SHUTDOWN,
the admin console's SHUTDOWN).

Agreed behaviour: on SIGTERM (SIGINT, SHUTDOWN) the server stops accepting (new
connections are refused), closes idle connections (PostgreSQL ones with FATAL 57P01
"terminating connection due to administrator command"), lets in-flight requests and
open transactions (SQL BEGIN ..., Redis MULTI ...) finish up to
--shutdown-timeout-ms (default 10000), flushes the log and exits 0 with a final log
line saying so. Past the deadline, open transactions are rolled back, their
connections closed (57P01), and the exit status is 2. A second SIGTERM exits at once
with status 3.

Each case has its own corewire --threads 2; PostgreSQL is trusted on loopback (no
users) unless the case needs the admin console.
"""

import re
import select
import socket
import signal
import tempfile
import threading
import time
from pathlib import Path

import opslib
from opslib import Checks, Server, RespConn, PgRaw, one_line, short

ARGS = opslib.setup(__doc__)
C = Checks("lifecycle")
if not (opslib.require_modules(C, ["psycopg", "redis"]) and opslib.require_tools(C, ["redis-cli", "psql"])):
    C.finish()
import psycopg  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="corewire-lifecycle.", dir=ARGS.logs))
FINAL = re.compile(r"shut\s*down|stopped|exit", re.I)
FATAL_MSG = "terminating connection due to administrator command"


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def stops_accepting(s, what):
    """New RESP and PostgreSQL connections are refused within 3 s of the signal."""
    ok = opslib.wait_until(lambda: refused(s.port) and refused(s.pg_port), 3, 0.05)
    C.ok("%s: new RESP and PostgreSQL connections refused (within 3 s)" % what, ok,
         "RESP refused: %s, PostgreSQL refused: %s" % (refused(s.port), refused(s.pg_port)))


def last_line(text):
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("# ")]
    return lines[-1] if lines else ""


def exits(s, what, want, within, since):
    rc = s.wait(within)
    took = time.monotonic() - since
    C.eq("%s: exit status %d (within %d s)" % (what, want, within), want, rc)
    return rc, took


# ---------------------------------------------------------- SIGTERM, open SQL transaction
with C.block("SIGTERM with an open SQL transaction"):
    log = TMP / "sigterm.log"
    s = Server("life-sigterm-sql", args=["--log-file", str(log)]).start_ready()
    a = s.pg(autocommit=False)
    a.execute("INSERT INTO kv VALUES ('a', '1')")  # psycopg sends BEGIN first
    idle_pg = PgRaw(s.pg_port)
    idle_resp = RespConn(s.port)
    assert idle_resp.call("PING") == "PONG"
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    stops_accepting(s, "SIGTERM")
    kind, fields = idle_pg.wait_server_message(3)
    C.eq("SIGTERM: an idle PostgreSQL connection gets FATAL 57P01 %r (within 3 s)" % FATAL_MSG,
         ("E", "FATAL", "57P01", FATAL_MSG), (kind, (fields or {}).get("S"), (fields or {}).get("C"),
                                              (fields or {}).get("M")))
    C.ok("SIGTERM: an idle RESP connection is closed (within 3 s)", idle_resp.closed_by_server(3))
    C.ok("SIGTERM: the server still runs while the transaction is open", s.alive())
    try:
        a.execute("INSERT INTO kv VALUES ('b', '2')")
        got = a.execute("SELECT value FROM kv WHERE key IN ('a', 'b') ORDER BY key").fetchall()
        C.eq("SIGTERM: the open transaction runs more statements", [("1",), ("2",)], got)
        a.commit()
        C.ok("SIGTERM: COMMIT succeeds", True)
    except psycopg.Error as e:
        C.fail("SIGTERM: the open transaction goes on and commits", "%s: %s" % (type(e).__name__, one_line(e)))
    # Its transaction over, the session is idle: closed like the other idle ones.
    readable = opslib.wait_until(lambda: select.select([a.pgconn.socket], [], [], 0)[0], 3, 0.05)
    try:
        a.execute("SELECT 1")
        after_commit = "no error: the session still serves"
    except psycopg.Error as e:
        after_commit = one_line(e)
    C.ok("SIGTERM: the session, idle after its COMMIT, is closed with FATAL %r (within 3 s)" % FATAL_MSG,
         bool(readable) and FATAL_MSG in after_commit,
         "server sent something within 3 s: %s; next statement: %s" % (bool(readable), after_commit))
    rc, took = exits(s, "SIGTERM after the COMMIT", 0, 15, t0)
    C.ok("SIGTERM: exited before the 10 s deadline once nothing was open (%.1f s)" % took, rc == 0 and took < 10)
    text = log.read_text(errors="replace") if log.exists() else ""
    C.ok("SIGTERM: the final line of --log-file says it shut down", FINAL.search(last_line(text)) is not None,
         "last line: %r" % last_line(text))
    a.close()
    idle_pg.close()
    idle_resp.close()

# ---------------------------------------------------------------- SIGTERM, Redis MULTI
with C.block("SIGTERM with an open MULTI"):
    s = Server("life-sigterm-multi").start_ready()
    c = RespConn(s.port)
    first = [c.call("MULTI"), c.call("SET", "x", "1")]
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    stops_accepting(s, "SIGTERM during MULTI")
    try:
        rest = [c.call("SET", "y", "2"), c.call("GET", "x"), c.call("EXEC")]
    except (OSError, ConnectionError) as e:
        rest = ["<%s: %s>" % (type(e).__name__, e)]
    C.eq("SIGTERM during MULTI: the queue goes on and EXEC returns the results",
         ["OK", "QUEUED", "QUEUED", "QUEUED", ["OK", "OK", b"1"]], first + rest)
    rc, took = exits(s, "SIGTERM during MULTI, after EXEC", 0, 15, t0)
    C.ok("SIGTERM during MULTI: exited before the deadline (%.1f s)" % took, rc == 0 and took < 10)
    C.ok("SIGTERM during MULTI: final log line says it shut down", FINAL.search(last_line(s.log())) is not None,
         "last line: %r" % last_line(s.log()))
    c.close()

# -------------------------------------------------------------------- in-flight request
with C.block("SIGTERM with a request in flight"):
    s = Server("life-inflight").start_ready()
    result = {}

    def sleeper():
        try:
            with s.pg() as c:
                c.execute("SELECT 1")
                result["ready"] = time.monotonic()
                c.execute("SELECT pg_sleep(1.5)").fetchone()
                result["slept"] = time.monotonic() - result["ready"]
        except Exception as e:  # noqa: BLE001
            result["error"] = "%s: %s" % (type(e).__name__, one_line(e))

    t = threading.Thread(target=sleeper, daemon=True)
    t.start()
    opslib.wait_until(lambda: "ready" in result or "error" in result, 10)
    time.sleep(0.4)
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    t.join(20)
    C.ok("SIGTERM 0.4 s into SELECT pg_sleep(1.5): the statement completes (after %.1f s)" % result.get("slept", -1),
         "error" not in result and result.get("slept", 0) >= 1.4, result.get("error", ""))
    exits(s, "SIGTERM during a request", 0, 15, t0)

# ------------------------------------------------------------------------------ SIGINT
with C.block("SIGINT with an open SQL transaction"):
    s = Server("life-sigint").start_ready()
    a = s.pg(autocommit=False)
    a.execute("INSERT INTO kv VALUES ('a', '1')")
    t0 = time.monotonic()
    s.signal(signal.SIGINT)
    stops_accepting(s, "SIGINT")
    try:
        a.execute("UPDATE kv SET value = '3' WHERE key = 'a'")
        a.commit()
        C.ok("SIGINT: the open transaction commits", True)
    except psycopg.Error as e:
        C.fail("SIGINT: the open transaction commits", "%s: %s" % (type(e).__name__, one_line(e)))
    exits(s, "SIGINT after the COMMIT", 0, 15, t0)
    C.ok("SIGINT: final log line says it shut down", FINAL.search(last_line(s.log())) is not None,
         "last line: %r" % last_line(s.log()))
    a.close()

# ---------------------------------------------------------------------------- deadline
with C.block("deadline"):
    s = Server("life-deadline", args=["--shutdown-timeout-ms", "1000"]).start_ready()
    p = PgRaw(s.pg_port)
    tags = [p.query("BEGIN")[0], p.query("INSERT INTO kv VALUES ('z', '1')")[0]]
    C.eq("deadline: BEGIN; INSERT", [["BEGIN"], ["INSERT 0 1"]], tags)
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    kind, fields = p.wait_server_message(15)
    seen_at = time.monotonic() - t0
    C.eq("deadline: the session left in BEGIN gets FATAL 57P01", ("E", "FATAL", "57P01"),
         (kind, (fields or {}).get("S"), (fields or {}).get("C")))
    rc, took = exits(s, "--shutdown-timeout-ms 1000 with a transaction never committed", 2, 15, t0)
    C.ok("deadline: the server waited for the deadline (57P01 after %.1f s, exit after %.1f s; want >= 0.9 s)"
         % (seen_at, took), seen_at >= 0.9 and took >= 0.9)
    p.close()

# ------------------------------------------------------------------------ second signal
with C.block("second SIGTERM"):
    s = Server("life-second").start_ready()
    p = PgRaw(s.pg_port)
    p.query("BEGIN")
    p.query("INSERT INTO kv VALUES ('z', '1')")
    s.signal(signal.SIGTERM)
    time.sleep(0.5)
    C.ok("second SIGTERM: still draining 0.5 s after the first (an open transaction, 10 s deadline)", s.alive())
    t0 = time.monotonic()
    s.signal(signal.SIGTERM)
    rc = s.wait(5)
    C.eq("second SIGTERM: exit status 3 within 5 s (the deadline was 10 s away)", 3, rc)
    p.close()

# ---------------------------------------------------------------------- Redis SHUTDOWN
with C.block("redis-cli SHUTDOWN"):
    s = Server("life-shutdown").start_ready()
    idle = PgRaw(s.pg_port)
    t0 = time.monotonic()
    rc_cli, out = s.cli("shutdown")
    exits(s, "redis-cli SHUTDOWN (%s)" % one_line(out, 100), 0, 15, t0)
    kind, fields = idle.wait_server_message(2)
    C.eq("redis-cli SHUTDOWN: an idle PostgreSQL connection got 57P01", ("E", "57P01"), (kind, (fields or {}).get("C")))
    C.ok("redis-cli SHUTDOWN: final log line says it shut down", FINAL.search(last_line(s.log())) is not None,
         "last line: %r" % last_line(s.log()))
    idle.close()

# ------------------------------------------------------------------- admin SHUTDOWN
with C.block("admin console SHUTDOWN"):
    s = Server("life-admin-shutdown", args=["--pg-user", "admin:adminpw", "--admin-users", "admin"]).start_ready()
    t0 = time.monotonic()
    rc_psql, out = s.psql("SHUTDOWN", user="admin", password="adminpw", dbname="corewire")
    exits(s, "admin console SHUTDOWN (psql exit %s: %s)" % (rc_psql, one_line(out, 100)), 0, 15, t0)

C.finish()
