#!/usr/bin/env python3
"""Section u: live reload (SIGHUP, CONFIG SET, the admin console's RELOAD).

One corewire --threads 2 started with --config FILE only (ports, users and limits
all in the file, rewritten atomically before each reload).

1. Reload under load without dropped connections: 4 RESP connections (SET/GET, every
   reply checked) and 2 psycopg connections (INSERT/SELECT, checked) that never
   reconnect, plus redis-benchmark -c 20 -n 200000 -t set,get, while the file
   alternates maxclients and slowlog-log-slower-than (a new value each time) and the
   server gets 10 SIGHUPs. No client may see an error or a disconnect; afterwards
   CONFIG GET shows the last values on new connections (which land on both workers).
2. requirepass added, then changed: new connections must AUTH with the new one,
   connections opened before keep working; the KV API wants the new one too.
3. pg-user list changed: the new user gets in, the removed one does not, its open
   session keeps working.
4. CONFIG SET maxclients, and the admin console's RELOAD, reach every worker.
5. port and threads changed in the file: the log says they need a restart; the
   server keeps its old port and worker count.
6. A broken file on SIGHUP: the server keeps running with its settings and logs the
   file, the line and the key.
Every connection opened before the reloads must still work at the end.
"""

import os
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import opslib
from opslib import Checks, Server, RespConn, RespError, free_port, one_line, short

ARGS = opslib.setup(__doc__)
C = Checks("reload")
if not (opslib.require_modules(C, ["psycopg", "redis"]) and opslib.require_tools(C, ["redis-benchmark", "psql"])):
    C.finish()
import psycopg  # noqa: E402

TMP = Path(tempfile.mkdtemp(prefix="corewire-reload.", dir=ARGS.logs))
CONF = TMP / "corewire.toml"
P, Q, H = free_port(), free_port(), free_port()
STATE = {"port": P, "threads": 2, "maxclients": 1000, "slowlog": 10000, "users": ["app:apppw", "admin:adminpw"],
         "requirepass": None, "extra": ""}


def write_conf(**changes):
    STATE.update(changes)
    text = ("# written by reload_check.py\nport = %d\npg-port = %d\nhttp-port = %d\nthreads = %d\n"
            "maxclients = %d\nslowlog-log-slower-than = %d\npg-user = [%s]\nadmin-users = [\"admin\"]\n"
            % (STATE["port"], Q, H, STATE["threads"], STATE["maxclients"], STATE["slowlog"],
               ", ".join('"%s"' % u for u in STATE["users"])))
    if STATE["requirepass"]:
        text += 'requirepass = "%s"\n' % STATE["requirepass"]
    text += STATE["extra"]
    tmp = CONF.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, CONF)  # the server never reads half a file
    return text


def new_conn(password=None):
    c = RespConn(P)
    if password:
        r = c.call("AUTH", password)
        if r != "OK":
            raise AssertionError("AUTH %s: %r" % (password, r))
    return c


def config_get_everywhere(name, password=None, n=10):
    """CONFIG GET name on n new connections (the kernel spreads them over both workers)."""
    values = []
    for _ in range(n):
        c = new_conn(password)
        r = c.call("CONFIG", "GET", name)
        c.close()
        values.append(r[1].decode() if isinstance(r, list) and len(r) == 2 else repr(r))
    return values


def settles(name, want, password=None, timeout=5):
    """Polls until a new connection sees want, then checks 10 more."""
    opslib.wait_until(lambda: config_get_everywhere(name, password, 1) == [want], timeout, 0.1)
    return config_get_everywhere(name, password)


def log_mark():
    return len(S.log())


def log_has(pattern, since, timeout=5):
    """Lines matching pattern written after the mark `since` (waits up to timeout s)."""
    rx = re.compile(pattern, re.I)
    return opslib.wait_until(lambda: [line for line in S.log()[since:].splitlines() if rx.search(line)], timeout, 0.1)


write_conf()
S = Server("reload", args=["--config", str(CONF)], ports=False, threads=None, port=P, pg_port=Q, http_port=H)
with C.block("server from the file alone"):
    S.start_ready()
if not S.alive():
    C.finish()

KEEP = {}  # connections opened before the reloads, checked at the end

# ------------------------------------------------------------------- reload under load
class Load:
    def __init__(self):
        self.stop = threading.Event()
        self.stats = []

    def resp_worker(self, i):
        st = {"name": "resp#%d" % i, "ops": 0, "errors": [], "after_last": 0}
        self.stats.append(st)
        try:
            c = RespConn(P)
        except OSError as e:
            st["errors"].append("connect: %s" % e)
            return
        n = 0
        try:
            while not self.stop.is_set():
                key, val = "load:%d:%d" % (i, n % 500), "v%d" % n
                r1 = c.call("SET", key, val)
                r2 = c.call("GET", key)
                if r1 != "OK" or r2 != val.encode():
                    st["errors"].append("SET/GET %s: %r %r" % (key, r1, r2))
                    if len(st["errors"]) > 5:
                        break
                n += 1
                st["ops"] += 2
                st["after_last"] += 2
        except (OSError, ConnectionError, ValueError) as e:
            st["errors"].append("after %d ops: %s: %s" % (st["ops"], type(e).__name__, e))
        finally:
            c.close()

    def pg_worker(self, i):
        st = {"name": "pg#%d" % i, "ops": 0, "errors": [], "after_last": 0}
        self.stats.append(st)
        try:
            c = S.pg(user="app", password="apppw")
        except psycopg.Error as e:
            st["errors"].append("connect: %s" % one_line(e))
            return
        n = 0
        try:
            while not self.stop.is_set():
                key = "pgload:%d:%d" % (i, n)
                c.execute("INSERT INTO kv VALUES (%s, %s)", (key, str(n)))
                got = c.execute("SELECT value FROM kv WHERE key = %s", (key,)).fetchone()
                if got != (str(n),):
                    st["errors"].append("SELECT %s: %r" % (key, got))
                    if len(st["errors"]) > 5:
                        break
                n += 1
                st["ops"] += 2
                st["after_last"] += 2
        except psycopg.Error as e:
            st["errors"].append("after %d ops: %s: %s" % (st["ops"], type(e).__name__, one_line(e)))
        finally:
            c.close()


with C.block("reload under load without dropped connections"):
    load = Load()
    threads = [threading.Thread(target=load.resp_worker, args=(i,), daemon=True) for i in range(4)]
    threads += [threading.Thread(target=load.pg_worker, args=(i,), daemon=True) for i in range(2)]
    bench = subprocess.Popen(["redis-benchmark", "-h", "127.0.0.1", "-p", str(P), "-c", "20", "-n", "200000",
                              "-t", "set,get", "-q"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
    for t in threads:
        t.start()
    time.sleep(0.5)
    reloads = 10
    for i in range(reloads):
        write_conf(maxclients=5000 + i, slowlog=1000 * (i + 1))
        time.sleep(0.3)
        if i == reloads - 1:
            for st in load.stats:
                st["after_last"] = 0
            bench_running = bench.poll() is None
    time.sleep(0.5)
    load.stop.set()
    for t in threads:
        t.join(20)
    try:
        bench_out, _ = bench.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        bench.kill()
        bench_out, _ = bench.communicate()
    bench_out = bench_out.decode(errors="replace").replace("\r", "\n")
    C.ok("the server is alive after %d SIGHUPs under load" % reloads, S.alive(), one_line(S.log_tail(3)))
    for st in sorted(load.stats, key=lambda s: s["name"]):
        C.ok("%s: %d ops through %d reloads, no error, no disconnect, still working after the last"
             % (st["name"], st["ops"], reloads), not st["errors"] and st["after_last"] > 0,
             "errors: %s; ops after the last reload: %d" % (short(st["errors"][:3]), st["after_last"]))
    C.ok("redis-benchmark -c 20 was still running at the last SIGHUP", bench_running)
    finals = [line for line in bench_out.splitlines() if "requests per second" in line]
    errors = [line for line in bench_out.splitlines() if re.search(r"error|reset|closed", line, re.I)]
    C.ok("redis-benchmark -c 20 -n 200000 -t set,get: exit 0, SET and GET done, no error",
         bench.returncode == 0 and len(finals) == 2 and not errors,
         "exit %s; %s" % (bench.returncode, one_line(" | ".join(errors[:3] + finals), 300)))
    C.eq("CONFIG GET maxclients after the last reload, on 10 new connections", ["5009"] * 10,
         settles("maxclients", "5009"))
    C.eq("CONFIG GET slowlog-log-slower-than after the last reload, on 10 new connections", ["10000"] * 10,
         config_get_everywhere("slowlog-log-slower-than"))

# ----------------------------------------------------------------------- requirepass
with C.block("requirepass reload"):
    KEEP["resp opened without a password"] = new_conn()
    KEEP["pg opened as app"] = S.pg(user="app", password="apppw")
    write_conf(requirepass="newpass")
    S.signal(signal.SIGHUP)

    def noauth():
        c = new_conn()
        try:
            return c.call("PING")
        finally:
            c.close()
    r = opslib.wait_until(lambda: isinstance(noauth(), RespError), 5, 0.1) and noauth()
    C.ok("requirepass added by SIGHUP: a new connection's PING gets NOAUTH", isinstance(r, RespError) and "NOAUTH" in str(r),
         short(r))
    c = new_conn()
    C.eq("requirepass added: AUTH newpass, PING", ["OK", "PONG"], [c.call("AUTH", "newpass"), c.call("PING")])
    KEEP["resp authenticated with newpass"] = c
    k = KEEP["resp opened without a password"]
    C.eq("requirepass added: a connection opened before keeps working (SET, GET)", ["OK", b"1"],
         [k.call("SET", "kept", "1"), k.call("GET", "kept")])
    C.eq("requirepass added: a PostgreSQL session opened before keeps working", (1,),
         KEEP["pg opened as app"].execute("SELECT 1").fetchone())
    C.eq("requirepass added: the KV API wants it (no Authorization: 401)", 401, S.http("GET", "/api/v1/kv/kept")[0])
    C.eq("requirepass added: the KV API with Bearer newpass", (200, b"1"),
         S.http("GET", "/api/v1/kv/kept", headers={"Authorization": "Bearer newpass"})[::2])

    write_conf(requirepass="newpass2")
    S.signal(signal.SIGHUP)

    def auth_with(pw):
        c = new_conn()
        try:
            return c.call("AUTH", pw)
        finally:
            c.close()
    opslib.wait_until(lambda: auth_with("newpass2") == "OK", 5, 0.1)
    C.eq("requirepass changed: AUTH newpass2 works on a new connection", "OK", auth_with("newpass2"))
    r = auth_with("newpass")
    C.ok("requirepass changed: AUTH with the old one fails (WRONGPASS)", isinstance(r, RespError) and "WRONGPASS" in str(r),
         short(r))
    k = KEEP["resp authenticated with newpass"]
    C.eq("requirepass changed: the connection authenticated with the old one keeps working", b"1", k.call("GET", "kept"))

# ----------------------------------------------------------------------- pg-user list
with C.block("pg-user reload"):
    write_conf(users=["admin:adminpw", "bob:bobpw"])
    S.signal(signal.SIGHUP)

    def login(user, pw):
        try:
            with S.pg(user=user, password=pw) as c:
                c.execute("SELECT 1")
            return "ok"
        except psycopg.Error as e:
            return one_line(e)  # psycopg has no SQLSTATE for a failed connection
    opslib.wait_until(lambda: login("bob", "bobpw") == "ok", 5, 0.1)
    C.eq("pg-user bob added by SIGHUP: bob logs in", "ok", login("bob", "bobpw"))
    r = login("app", "apppw")
    C.ok("pg-user app removed: a new app login is refused", 'password authentication failed for user "app"' in r, r)
    C.eq("pg-user app removed: app's open session keeps working", (2,),
         KEEP["pg opened as app"].execute("SELECT 2").fetchone())

# ------------------------------------------------------------------ CONFIG SET, RELOAD
with C.block("CONFIG SET"):
    c = new_conn("newpass2")
    C.eq("CONFIG SET maxclients 1234", "OK", c.call("CONFIG", "SET", "maxclients", "1234"))
    c.close()
    C.eq("CONFIG SET maxclients: CONFIG GET on 10 new connections", ["1234"] * 10,
         settles("maxclients", "1234", "newpass2"))

with C.block("admin console RELOAD"):
    write_conf(maxclients=4321)
    rc, out = S.psql("RELOAD", user="admin", password="adminpw", dbname="corewire")
    C.eq("psql -d corewire -c RELOAD: exit 0", 0, rc)
    C.eq("RELOAD: CONFIG GET maxclients (the file's 4321) on 10 new connections", ["4321"] * 10,
         settles("maxclients", "4321", "newpass2"))

# ------------------------------------------------------------------- restart settings
with C.block("settings that need a restart"):
    P2 = free_port()
    write_conf(port=P2, threads=1)
    mark = log_mark()
    S.signal(signal.SIGHUP)
    C.ok("port changed + SIGHUP: a log line says port needs a restart",
         log_has(r"\bport\b.*restart|restart.*\bport\b", mark), one_line(S.log_tail(3)))
    C.ok("threads changed + SIGHUP: a log line says threads needs a restart",
         log_has(r"threads.*restart|restart.*threads", mark), one_line(S.log_tail(3)))
    C.ok("port changed: still served on the old port %d" % P, opslib.resp_answers(P))
    C.ok("port changed: nothing on the new port %d" % P2, not opslib.listening(P2))
    status, _, doc = opslib.http_json(H, "GET", "/stats")
    C.eq("threads changed: /stats still shows 2 workers", 2, len(doc.get("workers") or []))
    write_conf(port=P, threads=2)

# ---------------------------------------------------------------------- broken file
with C.block("a broken file on SIGHUP"):
    text = write_conf(maxclients=999, extra="bogus-setting = 1\n")
    line = text.splitlines().index("bogus-setting = 1") + 1
    mark = log_mark()
    S.signal(signal.SIGHUP)
    C.ok("broken file: the log names %s:%d and the key" % (CONF.name, line),
         log_has(r"%s:%d\b.*bogus-setting" % (re.escape(CONF.name), line), mark), one_line(S.log_tail(1)))
    C.ok("broken file: the server keeps running", S.alive() and opslib.resp_answers(P))
    C.eq("broken file: nothing of it applied (maxclients still 4321)", ["4321"] * 3,
         config_get_everywhere("maxclients", "newpass2", 3))
    write_conf(extra="")
    S.signal(signal.SIGHUP)
    C.eq("file fixed + SIGHUP: maxclients 999 applied", ["999"] * 10, settles("maxclients", "999", "newpass2"))

# ------------------------------------------------------------------ kept connections
with C.block("connections opened before the reloads"):
    for name, conn in KEEP.items():
        try:
            if isinstance(conn, RespConn):
                r = conn.call("PING")
                C.eq("still served after every reload: %s" % name, "PONG", r)
            else:
                C.eq("still served after every reload: %s" % name, (3,), conn.execute("SELECT 3").fetchone())
        except Exception as e:  # noqa: BLE001
            C.fail("still served after every reload: %s" % name, "%s: %s" % (type(e).__name__, one_line(e)))
        conn.close()

C.finish()
