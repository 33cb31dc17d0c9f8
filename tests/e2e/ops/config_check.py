#!/usr/bin/env python3
"""Section t: configuration (--config FILE, environment, flags, --check-config, --help).

Every setting has one name: flag --NAME, TOML key NAME ('-' and '_' alike), variable
COREWIRE_NAME (uppercased, '-' -> '_'). Precedence: flag > environment > file >
built-in default. Unknown keys and invalid values stop startup with exit status 1
and "FILE:LINE: ..." on stderr naming the key; --check-config validates without
binding anything.
"""

import re
import socket
import sys
import tempfile
from pathlib import Path

import opslib
from opslib import Checks, Server, free_port, listening, resp_answers, run, one_line

ARGS = opslib.setup(__doc__)
C = Checks("configuration")
EXAMPLE = opslib.ROOT / "corewire.example.toml"
TMP = Path(tempfile.mkdtemp(prefix="corewire-config.", dir=ARGS.logs))

# Every setting of the agreed list, and the built-in defaults we know of.
SETTINGS = ["port", "pg-port", "http-port", "http-bind", "bind", "threads", "maxclients", "requirepass",
            "log-level", "log-format", "log-file", "shutdown-timeout-ms", "slowlog-log-slower-than",
            "metrics-enabled", "admin-users", "pg-user"]
DEFAULTS = {"port": "6380", "pg-port": "5433", "http-port": "9380", "http-bind": "127.0.0.1", "maxclients": "10000",
            "log-level": "info", "log-format": "text", "shutdown-timeout-ms": "10000"}


def env_name(setting):
    return "COREWIRE_" + setting.upper().replace("-", "_")


def write(name, text):
    path = TMP / name
    path.write_text(text)
    return path


def corewire(*args, env=None, timeout=15):
    """Runs corewire to completion (startup failures, --check-config, --help)."""
    return run([ARGS.bin] + [str(a) for a in args], timeout=timeout, env=opslib.clean_env(env))


def config_get(port, name):
    c = opslib.RespConn(port)
    try:
        r = c.call("CONFIG", "GET", name)
    finally:
        c.close()
    if isinstance(r, list) and len(r) == 2:
        return r[1].decode()
    return r


def help_block(text, setting):
    """The lines of --help that describe --SETTING: its line and the indented lines after
    it, up to the next flag."""
    lines = text.splitlines()
    flag_line = re.compile(r"^\s*(-\w,\s*)?--[a-z]")
    for i, line in enumerate(lines):
        if re.match(r"^\s*(-\w,\s*)?--%s\b(?!-)" % re.escape(setting), line):
            block = [line]
            for nxt in lines[i + 1:]:
                if flag_line.match(nxt):
                    break
                block.append(nxt)
            return "\n".join(block)
    return None


def error_names(out, fname, line, key):
    """The startup error names the file, the line and the key."""
    return (fname in out and re.search(r":%d\b" % line, out) is not None and key in out)


# ------------------------------------------------------------------------------- --help
with C.block("--help"):
    rc, out = corewire("--help")
    C.eq("--help exits 0", 0, rc)
    for s in SETTINGS:
        block = help_block(out, s)
        if block is None:
            C.fail("--help lists --%s" % s, "no line starting with --%s in: %s" % (s, one_line(out, 300)))
            continue
        good = env_name(s) in block
        if s in DEFAULTS:
            good = good and re.search(r"\b%s\b" % re.escape(DEFAULTS[s]), block) is not None
        C.ok("--help lists --%s with %s%s" % (s, env_name(s), " and its default %s" % DEFAULTS[s] if s in DEFAULTS else ""),
             good, one_line(block, 300))
    for flag in ("config", "check-config"):
        C.ok("--help lists --%s" % flag, help_block(out, flag) is not None)

# --------------------------------------------------------------------------- precedence
# port (what it really listens on) and maxclients (CONFIG GET) set in the file, then
# also in the environment, then also on the command line; maxclients also left to
# its default. pg-port and http-port come from the file in every run, written with
# '_' to check that '-' and '_' are the same in keys.
with C.block("precedence"):
    p_file, p_env, p_flag = free_port(), free_port(), free_port()
    pg, httpp = free_port(), free_port()
    conf = write("precedence.toml", "# precedence test\nport = %d\npg_port = %d\nhttp_port = %d\nmaxclients = 111\n"
                 "threads = 1\n" % (p_file, pg, httpp))

    def started(name, args, env, expect_port):
        s = Server(name, args=["--config", str(conf)] + args, env=env, ports=False, threads=None,
                   port=expect_port, pg_port=pg, http_port=httpp)
        s.start()
        ok = s.wait_ready(10)
        return s, ok

    s, ok = started("cfg-file", [], {}, p_file)
    if C.ok("file only: listens on the file's port %d (and its pg_port, http_port)" % p_file, ok,
            "" if ok else "exit status %s; log: %s" % (s.proc.poll(), one_line(s.log_tail(5)))):
        C.eq("file only: CONFIG GET maxclients is the file's", "111", config_get(p_file, "maxclients"))
    s.stop()

    s, ok = started("cfg-env", [], {"COREWIRE_PORT": str(p_env), "COREWIRE_MAXCLIENTS": "222"}, p_env)
    if C.ok("file + COREWIRE_PORT: listens on the environment's port %d" % p_env, ok,
            "" if ok else "exit status %s; log: %s" % (s.proc.poll(), one_line(s.log_tail(5)))):
        C.ok("file + COREWIRE_PORT: not on the file's port %d" % p_file, not listening(p_file))
        C.eq("file + COREWIRE_MAXCLIENTS: CONFIG GET maxclients is the environment's", "222",
             config_get(p_env, "maxclients"))
    s.stop()

    s, ok = started("cfg-flag", ["--port", str(p_flag), "--maxclients", "333"],
                    {"COREWIRE_PORT": str(p_env), "COREWIRE_MAXCLIENTS": "222"}, p_flag)
    if C.ok("file + env + --port: listens on the flag's port %d" % p_flag, ok,
            "" if ok else "exit status %s; log: %s" % (s.proc.poll(), one_line(s.log_tail(5)))):
        C.ok("file + env + --port: not on the environment's %d nor the file's %d" % (p_env, p_file),
             not listening(p_env) and not listening(p_file))
        C.eq("file + env + --maxclients: CONFIG GET maxclients is the flag's", "333", config_get(p_flag, "maxclients"))
    s.stop()

    # The default, with the ports still from the file.
    conf2 = write("default.toml", "port = %d\npg-port = %d\nhttp-port = %d\nthreads = 1\n" % (p_file, pg, httpp))
    s = Server("cfg-default", args=["--config", str(conf2)], ports=False, threads=None, port=p_file, pg_port=pg,
               http_port=httpp)
    s.start()
    if C.ok("no maxclients anywhere: starts", s.wait_ready(10), one_line(s.log_tail(3))):
        C.eq("no maxclients anywhere: CONFIG GET maxclients is the built-in default", "10000",
             config_get(p_file, "maxclients"))
    s.stop()

    # Every port from the environment alone (no file): COREWIRE_PG_PORT, COREWIRE_HTTP_PORT.
    p4, pg4, http4 = free_port(), free_port(), free_port()
    s = Server("cfg-envonly", env={"COREWIRE_PORT": str(p4), "COREWIRE_PG_PORT": str(pg4),
                                   "COREWIRE_HTTP_PORT": str(http4), "COREWIRE_THREADS": "1"},
               ports=False, threads=None, port=p4, pg_port=pg4, http_port=http4)
    s.start()
    C.ok("environment only: COREWIRE_PORT, COREWIRE_PG_PORT, COREWIRE_HTTP_PORT all listened on",
         s.wait_ready(10), "exit status %s; log: %s" % (s.proc.poll(), one_line(s.log_tail(3))))
    if s.alive():
        st, _, _ = s.http("GET", "/health")
        C.eq("environment only: GET /health on COREWIRE_HTTP_PORT", 200, st)
    s.stop()

# ---------------------------------------------------------------- list settings in TOML
with C.block("TOML lists (pg-user, admin-users)"):
    s = Server("cfg-lists", threads=1)
    conf = write("lists.toml", 'pg-user = ["alice:alice pw", "bob:bob pw"]\nadmin-users = ["alice"]\n')
    s.argv += ["--config", str(conf)]
    s.start_ready()
    import psycopg
    for user, pw in (("alice", "alice pw"), ("bob", "bob pw")):
        try:
            with s.pg(user=user, password=pw) as c:
                got = c.execute("SELECT 1").fetchone()[0]
            C.eq("pg-user list from the file: %s logs in with its password" % user, 1, got)
        except psycopg.Error as e:
            C.fail("pg-user list from the file: %s logs in with its password" % user, one_line(e))
    try:
        s.pg(user="alice", password="wrong").close()
        C.fail("pg-user list from the file: a wrong password is refused", "logged in")
    except psycopg.Error as e:
        # psycopg has no SQLSTATE for a failed connection (libpq gives only the text).
        C.ok("pg-user list from the file: a wrong password is refused",
             e.sqlstate in ("28P01", None) and 'password authentication failed for user "alice"' in str(e), one_line(e))
    rc, out = s.psql("SHOW WORKERS", user="alice", password="alice pw", dbname="corewire")
    C.ok("admin-users list from the file: alice reaches the admin console (SHOW WORKERS)", rc == 0, one_line(out))
    rc, out = s.psql("SHOW WORKERS", user="bob", password="bob pw", dbname="corewire")
    C.ok("admin-users list from the file: bob (not an admin) does not", rc != 0, one_line(out))
    s.stop()

# --------------------------------------------------------------------- startup errors
# Each bad file: exit status 1, nothing served, "FILE:LINE" and the key on stderr.
BAD = [
    ("unknown key", "bad-key.toml", 'threads = 1\nlog-level = "info"\nprot = 7000\n', 3, "prot"),
    ("port not a number", "bad-port.toml", '# a comment\nthreads = 1\n\nlog-level = "info"\nport = "abc"\n', 5, "port"),
    ("port out of range", "bad-range.toml", "port = 70000\n", 1, "port"),
    ("bad log-level", "bad-level.toml", 'threads = 1\nlog-level = "loud"\n', 2, "log-level"),
    ("bad log-format", "bad-format.toml", 'log-format = "xml"\n', 1, "log-format"),
    ("bad metrics-enabled", "bad-bool.toml", 'threads = 1\nmetrics-enabled = "maybe"\n', 2, "metrics-enabled"),
    ("bad pg-user entry", "bad-pguser.toml", 'pg-user = ["nocolon"]\n', 1, "pg-user"),
    ("negative maxclients", "bad-maxclients.toml", "threads = 1\n\nmaxclients = -5\n", 3, "maxclients"),
]
for what, fname, text, line, key in BAD:
    with C.block("startup error: %s" % what):
        path = write(fname, text)
        # Free ports for what the file does not set, so that a wrongly accepted file
        # binds nothing anybody uses (and it is stopped by the timeout).
        ports = [] if key == "port" else ["--port", free_port()]
        ports += ["--pg-port", free_port()] + (["--http-port", free_port()] if opslib.has_flag("http-port") else [])
        rc, out = corewire("--config", path, *ports)
        C.ok("%s (%s line %d): exit status 1 and stderr names %s:%d and %r" % (what, fname, line, fname, line, key),
             rc == 1 and error_names(out, fname, line, key), "exit %s: %s" % (rc, one_line(out)))
        rc2, out2 = corewire("--check-config", "--config", path)
        C.ok("%s: --check-config exits 1 with the same error (%s:%d, %r)" % (what, fname, line, key),
             rc2 == 1 and error_names(out2, fname, line, key), "exit %s: %s" % (rc2, one_line(out2)))

with C.block("startup error: TOML syntax"):
    path = write("bad-syntax.toml", "threads = 1\nport = = 3\n")
    rc, out = corewire("--check-config", "--config", path)
    C.ok("TOML syntax error: --check-config exits 1 naming bad-syntax.toml:2", rc == 1 and error_names(out, "bad-syntax.toml", 2, ""),
         "exit %s: %s" % (rc, one_line(out)))

with C.block("startup error: missing file"):
    rc, out = corewire("--check-config", "--config", TMP / "nonexistent.toml")
    C.ok("missing config file: exit 1 naming it", rc == 1 and "nonexistent.toml" in out, "exit %s: %s" % (rc, one_line(out)))

with C.block("startup error: bad environment value"):
    rc, out = corewire("--check-config", env={"COREWIRE_PORT": "abc"})
    C.ok("COREWIRE_PORT=abc: exit 1 naming COREWIRE_PORT", rc == 1 and "COREWIRE_PORT" in out,
         "exit %s: %s" % (rc, one_line(out)))

# -------------------------------------------------------------------------- --check-config
with C.block("--check-config on a good file"):
    # The file names a port that we hold ourselves: --check-config must not bind it.
    held = []
    for _ in range(3):
        h = socket.socket()
        h.bind(("127.0.0.1", 0))
        h.listen(1)
        held.append(h)
    busy = tuple(h.getsockname()[1] for h in held)
    path = write("good.toml", "# a good file\nport = %d\npg-port = %d\nhttp-port = %d\nthreads = 2\nmaxclients = 50\n"
                 'log-level = "debug"\nlog-format = "json"\nrequirepass = "pw"\nshutdown-timeout-ms = 2500\n'
                 "slowlog-log-slower-than = 0\nmetrics-enabled = false\nadmin-users = [\"root\"]\n"
                 "pg-user = [\"root:rootpw\"]\n" % busy)
    rc, out = corewire("--check-config", "--config", path)
    for h in held:
        h.close()
    C.ok("--check-config on a good file (every kind of value; its ports busy): exit 0, says OK",
         rc == 0 and re.search(r"\bok\b", out, re.I) is not None, "exit %s: %s" % (rc, one_line(out)))

with C.block("--check-config on corewire.example.toml"):
    if C.ok("corewire.example.toml exists at the top level", EXAMPLE.is_file(), str(EXAMPLE)):
        rc, out = corewire("--check-config", "--config", EXAMPLE)
        C.ok("--check-config --config corewire.example.toml: exit 0", rc == 0, "exit %s: %s" % (rc, one_line(out)))
        text = EXAMPLE.read_text()
        missing = [s for s in SETTINGS if not re.search(r"(^|[#\s])%s\s*=" % re.escape(s).replace("\\-", "[-_]"), text, re.M)]
        C.ok("corewire.example.toml shows every setting (commented or not)", not missing, "missing: %s" % missing)

C.finish()
