#!/usr/bin/env python3
"""PostgreSQL password authentication, SCRAM-SHA-256 and md5, through three client
implementations: libpq (psycopg 3, whose bundled libpq >= 16 can insist on a
method with require_auth), asyncpg (its own SCRAM and md5) and psql.

Usage:
  auth_check.py --port PORT --method scram-sha-256|md5
  auth_check.py --print-users      NAME:SECRET for corewire's --pg-user (one a line)
  auth_check.py --print-sql        SQL creating the same users in a real PostgreSQL

The server must know these users (tests/e2e/run.sh section s sets them up):
  alice  password "alice pw", configured as plaintext
  bob    password "bob-pw", configured only as its md5 hash (md5 of password+user)
  carol  password "carol-pw", configured only as a SCRAM-SHA-256 verifier
and authenticate loopback clients with --method (a real PostgreSQL: pg_hba
`host all all 127.0.0.1/32 METHOD`, alice's password stored in that method's form).

Expected, as PostgreSQL does it:
  scram-sha-256: alice and carol log in by SCRAM; bob cannot (an md5 hash cannot
                 answer SCRAM): 28P01;
  md5:           alice and bob log in by md5; carol's verifier cannot answer md5, so
                 the server upgrades her to SCRAM and she logs in;
  both:          a wrong password, an unknown user, user postgres (not configured)
                 and a missing password fail with 28P01 "password authentication
                 failed for user ...", the same text for unknown and known users.

Last line "auth: N of M checks passed"; exit 1 on failure.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import subprocess
import sys

USERS = {"alice": "alice pw", "bob": "bob-pw", "carol": "carol-pw"}
# A fixed salt, so that the verifier (and the flags) are the same on every run.
CAROL_SALT = bytes(range(16))


def md5_secret(user, password):
    return "md5" + hashlib.md5((password + user).encode()).hexdigest()


def scram_verifier(password, salt, iterations=4096):
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return "SCRAM-SHA-256$%d:%s$%s:%s" % (iterations, b64(salt), b64(stored_key), b64(server_key))


def secrets():
    return {"alice": USERS["alice"], "bob": md5_secret("bob", USERS["bob"]),
            "carol": scram_verifier(USERS["carol"], CAROL_SALT)}


RESULTS = []


def result(ok, what, detail=""):
    RESULTS.append(ok)
    print("%s: auth %s%s" % ("PASS" if ok else "FAIL", what, (": " + detail) if detail else ""), flush=True)


def psycopg_login(port, user, password, require_auth=None):
    """Returns None on success, else (sqlstate or None, message)."""
    import psycopg
    kw = dict(host="127.0.0.1", port=port, user=user, dbname="kv", connect_timeout=5, autocommit=True)
    if password is not None:
        kw["password"] = password
    if require_auth:
        kw["require_auth"] = require_auth
    try:
        with psycopg.connect(**kw) as c:
            got = c.execute("SELECT 1").fetchone()
            return None if got == (1,) else ("?", "SELECT 1 returned %r" % (got,))
    except psycopg.Error as e:
        return (e.sqlstate, str(e).strip().splitlines()[-1] if str(e).strip() else repr(e))


async def asyncpg_login(port, user, password):
    import asyncpg
    try:
        c = await asyncpg.connect(host="127.0.0.1", port=port, user=user, password=password, database="kv",
                                  timeout=5)
        try:
            got = await c.fetchval("SELECT 1")
            return None if got == 1 else ("?", "SELECT 1 returned %r" % (got,))
        finally:
            await c.close()
    except asyncpg.PostgresError as e:
        return (e.sqlstate, str(e))
    except Exception as e:  # noqa: BLE001 - e.g. asyncpg refusing an auth method
        return (None, "%s: %s" % (type(e).__name__, e))


def psql_login(port, user, password):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C.UTF-8", PGCONNECT_TIMEOUT="5", PGPASSFILE="/nonexistent/.pgpass")
    if password is not None:
        env["PGPASSWORD"] = password
    p = subprocess.run(["psql", "-X", "-w", "-A", "-t", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", "kv",
                        "-c", "SELECT 1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=20,
                       stdin=subprocess.DEVNULL)
    out = p.stdout.decode("utf-8", "replace").strip()
    return None if p.returncode == 0 and out == "1" else (None, out.replace("\n", " | "))


def expect_ok(what, got):
    result(got is None, what, "" if got is None else "login failed: %s %s" % got)


def expect_refused(what, got, user, sqlstate="28P01"):
    want_msg = 'password authentication failed for user "%s"' % user
    if got is None:
        result(False, what, "logged in, want %s" % sqlstate)
    elif got[0] not in (sqlstate, None) or want_msg not in got[1]:
        result(False, what, "got %s %r, want %s %r" % (got[0], got[1], sqlstate, want_msg))
    else:
        result(True, what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--method", choices=["scram-sha-256", "md5"])
    ap.add_argument("--print-users", action="store_true")
    ap.add_argument("--print-sql", action="store_true")
    a = ap.parse_args()
    if a.print_users:
        for user, secret in secrets().items():
            print("%s:%s" % (user, secret))
        return 0
    if a.print_sql:
        # alice's plaintext password is stored by the server in the form that
        # password_encryption names; the caller sets it to the method first.
        for user, secret in secrets().items():
            print("CREATE ROLE %s LOGIN PASSWORD '%s';" % (user, secret))
        return 0
    port, m = a.port, a.method
    other = "md5" if m == "scram-sha-256" else "scram-sha-256"

    # Who logs in, and by which method (libpq's require_auth says what the server
    # asked for: a server that silently trusts or downgrades fails here).
    logins = {"alice": m, "bob": "md5" if m == "md5" else None, "carol": "scram-sha-256"}
    for user, method in logins.items():
        got = psycopg_login(port, user, USERS[user], require_auth=method or m)
        if method:
            expect_ok("libpq %s by %s" % (user, method), got)
        else:
            expect_refused("libpq %s (only an md5 hash) refused under %s" % (user, m), got, user)
    got = psycopg_login(port, "alice", USERS["alice"], require_auth=other)
    result(got is not None, "libpq require_auth=%s refuses a server that asks for %s" % (other, m),
           "" if got is not None else "server asked for %s" % other)
    expect_refused("libpq wrong password", psycopg_login(port, "alice", "wrong"), "alice")
    expect_refused("libpq unknown user", psycopg_login(port, "mallory", "x"), "mallory")
    expect_refused("libpq user postgres (not configured)", psycopg_login(port, "postgres", "x"), "postgres")
    got = psycopg_login(port, "alice", None)
    result(got is not None and "no password supplied" in got[1], "libpq without a password",
           "" if got is not None and "no password supplied" in got[1] else repr(got))

    for user, method in logins.items():
        got = asyncio.run(asyncpg_login(port, user, USERS[user]))
        if method:
            expect_ok("asyncpg %s" % user, got)
        else:
            expect_refused("asyncpg %s refused under %s" % (user, m), got, user)
    expect_refused("asyncpg wrong password", asyncio.run(asyncpg_login(port, "carol", "wrong")), "carol")

    expect_ok("psql alice", psql_login(port, "alice", USERS["alice"]))
    got = psql_login(port, "alice", "wrong")
    result(got is not None and 'password authentication failed for user "alice"' in got[1], "psql wrong password",
           "" if got else "logged in")
    print("auth: %d of %d checks passed" % (sum(RESULTS), len(RESULTS)))
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
