#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ (committed; rerun this only
to change them).

    python3 tests/fuzz/make_seeds.py [--host build/corewire]

Seeds are inputs in each target's own format (see the header comment of
each fuzz_targets/*.rs): RESP requests and PostgreSQL sessions as clients
send them, SQL statements from the tests, and log/snapshot images. With
--host, the wal_reader seeds also include a real data dir: the host binary
is started with --data-dir, written to over RESP and PostgreSQL,
checkpointed (SAVE), written to again and stopped; its log and snapshot
files become seeds as they are.
"""
import argparse
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


# ---- resp_request: 2 control bytes (limits, read sizes) + client bytes ----

def multibulk(*args):
    out = b"*%d\r\n" % len(args)
    for arg in args:
        arg = arg if isinstance(arg, bytes) else arg.encode()
        out += b"$%d\r\n%s\r\n" % (len(arg), arg)
    return out


RESP = {
    "ping": multibulk("PING"),
    "set_get": multibulk("SET", "key", "value") + multibulk("GET", "key"),
    "binary": multibulk("SET", b"k\r\n\x00", b"\xff\x00\r\n"),
    "empty_arg": multibulk("SET", "", ""),
    "pipeline": multibulk("MULTI") + multibulk("INCR", "n") + multibulk("EXEC")
    + b"*0\r\n*-1\r\n" + multibulk("DEL", "a", "b", "c"),
    "inline": b"PING\r\nSET a b\nGET a\r\n\r\n",
    "inline_quotes": b"SET \"a b\\x41\\n\" 'it\\'s'\r\nECHO \"\\t\\\\\"\r\n",
    "inline_unbalanced": b"SET \"a\r\n",
    "bad_count": b"*abc\r\n",
    "bad_bulk": b"*1\r\n+foo\r\n",
    "negative_bulk": b"*1\r\n$-1\r\n",
    "big_bulk": b"*1\r\n$1099511627776\r\n",
    "plus_length": b"*1\r\n$+3\r\nabc\r\n",
    "leading_zero": b"*01\r\n$3\r\nabc\r\n",
    "cr_only": b"*1\r$3\rabc\r",
    "mixed": multibulk("HSET", "h", "f", "v") + b"PING\r\n" + multibulk("ECHO", "x" * 40),
}


def resp_seeds():
    for name, body in RESP.items():
        # 0x00: the default limits, whole reads; 0x33 small limits, short reads.
        write("resp_request", name, b"\x00\x00" + body)
    write("resp_request", "small_limits", b"\x33\x21" + RESP["pipeline"])
    # Found by fuzzing (fixed): a null array where a bulk belongs was worded
    # differently whole and split.
    write("resp_request", "regress_null_array_arg", b"\x00\xab" + b"*2\r\n$3\r\nGET\r\n*-1\r\n")


# ---- pg_frontend: 2 control bytes + client bytes ----

def startup(user="tester", database="kv", extra=()):
    body = struct.pack(">I", 196608)
    for key, value in (("user", user), ("database", database)) + tuple(extra):
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack(">I", len(body) + 4) + body


def msg(tag, body=b""):
    return tag + struct.pack(">I", len(body) + 4) + body


def cstr(text):
    return (text if isinstance(text, bytes) else text.encode()) + b"\0"


def parse(name, query, types=()):
    return msg(b"P", cstr(name) + cstr(query) + struct.pack(">h", len(types))
               + b"".join(struct.pack(">I", t) for t in types))


def bind(portal, statement, params=(), formats=(), result_formats=()):
    body = cstr(portal) + cstr(statement)
    body += struct.pack(">h", len(formats)) + b"".join(struct.pack(">h", f) for f in formats)
    body += struct.pack(">h", len(params))
    for p in params:
        if p is None:
            body += struct.pack(">i", -1)
        else:
            body += struct.pack(">i", len(p)) + p
    body += struct.pack(">h", len(result_formats)) + b"".join(struct.pack(">h", f) for f in result_formats)
    return msg(b"B", body)


def execute(portal="", rows=0):
    return msg(b"E", cstr(portal) + struct.pack(">i", rows))


def query(text):
    return msg(b"Q", cstr(text))


SYNC = msg(b"S")
TERMINATE = msg(b"X")

PG = {
    "simple": startup() + query("SELECT 1") + query("INSERT INTO kv VALUES ('a', 'b')")
    + query("SELECT * FROM kv WHERE key = 'a'") + TERMINATE,
    "multi_statement": startup() + query("BEGIN; INSERT INTO kv VALUES ('k', 'v'); "
                                        "UPDATE kv SET value = 'w' WHERE key = 'k'; COMMIT"),
    "extended": startup() + parse("s", "SELECT value FROM kv WHERE key = $1", (25,))
    + msg(b"D", b"Ss\0") + bind("", "s", (b"a",)) + msg(b"D", b"P\0") + execute()
    + msg(b"C", b"Ss\0") + SYNC,
    "binary_params": startup() + parse("", "INSERT INTO kv VALUES ($1, $2) RETURNING *")
    + bind("", "", (b"k1", b"\x00\x01"), (1,), (1,)) + execute() + SYNC,
    "portal_rows": startup() + query("INSERT INTO kv SELECT 'a' || g, 'v' FROM generate_series(1, 5) g")
    + parse("", "SELECT key FROM kv ORDER BY key") + bind("p", "") + execute("p", 2)
    + execute("p", 2) + SYNC + msg(b"H"),
    "copy_in": startup() + query("COPY kv FROM STDIN") + msg(b"d", b"a\tb\nc\td\n")
    + msg(b"c") + query("COPY kv TO STDOUT (FORMAT csv)"),
    "copy_fail": startup() + query("COPY kv FROM STDIN") + msg(b"f", cstr("client gave up")),
    "sleep": startup() + query("SELECT pg_sleep(0.01); SELECT 2"),
    "ssl_then_startup": struct.pack(">II", 8, 80877103) + startup(),
    "gss_then_startup": struct.pack(">II", 8, 80877104) + startup(),
    "cancel": struct.pack(">IIii", 16, 80877102, 4242, 0x5eed),
    "options": startup(extra=(("options", "-c search_path=public --application-name=x"),
                              ("client_encoding", "UTF8"), ("_pq_.foo", "1"))),
    "protocol_3_2": struct.pack(">I", 4 + 4 + 12) + struct.pack(">I", 196610) + b"user\0tester\0\0",
    "bad_length": struct.pack(">I", 3) + b"\0\0\0\0",
    "admin_console": startup("admin", "corewire") + query("SHOW CLIENTS") + query("SHOW STATS"),
    "set_show": startup() + query("SET application_name = 'fuzz'") + query("SHOW ALL")
    + query("RESET ALL"),
    "savepoints": startup() + query("BEGIN") + query("SAVEPOINT a")
    + query("INSERT INTO kv VALUES ('x', 'y')") + query("ROLLBACK TO a") + query("RELEASE a")
    + query("COMMIT"),
    "catalog": startup() + query("SELECT oid, typname FROM pg_type WHERE typname = 'text'")
    + query("SELECT version(), current_user, current_database()"),
}


def pg_seeds():
    for name, body in PG.items():
        write("pg_frontend", name, b"\x00\x00" + body)
    # Password methods: md5 (bob) and SCRAM (alice), wrong answers.
    write("pg_frontend", "md5_login", b"\x01\x00" + startup("bob") + msg(b"p", cstr("md5" + "0" * 32)))
    write("pg_frontend", "scram_login", b"\x02\x00" + startup("alice")
          + msg(b"p", cstr("SCRAM-SHA-256") + struct.pack(">i", 32) + b"n,,n=,r=rOprNGfwEbeRWgbNEkqO%hvY"))
    write("pg_frontend", "remote_refused", b"\x03\x00" + startup())
    # Found by fuzzing (fixed): message type NUL during md5 login put a NUL
    # inside the ErrorResponse text.
    write("pg_frontend", "regress_nul_in_error", bytes.fromhex("5d8c00000000040100"))
    # The target's own startup packet (control bit 0x10), short reads (0x08).
    write("pg_frontend", "auto_startup", b"\x18\x37" + query("SELECT 1") + parse("", "SELECT $1::int")
          + bind("", "", (b"7",)) + execute() + SYNC)


# ---- sql_classify: the SQL text itself ----

SQL = [
    "SELECT 1",
    "SELECT * FROM kv WHERE key = 'a'",
    "select value from kv where key in ('a', 'b', $1) order by key desc limit 10 offset $2",
    "SELECT key, value::bytea FROM public.kv AS t WHERE t.key LIKE 'pre%' FOR UPDATE",
    "SELECT count(*) FROM kv",
    "SELECT length(value), octet_length(value) FROM kv WHERE key = $1::text",
    "INSERT INTO kv (value, key) VALUES ('v', 'k'), ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value RETURNING *",
    "INSERT INTO kv VALUES (E'\\x41\\n', $$dollar$$) ON CONFLICT DO NOTHING",
    "UPDATE kv SET value = 'x' WHERE key = ANY($1) RETURNING key",
    "DELETE FROM kv WHERE key = 'gone' RETURNING value",
    "TRUNCATE TABLE kv",
    "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY; COMMIT; START TRANSACTION; ROLLBACK; END; ABORT",
    "SAVEPOINT s1; ROLLBACK TO SAVEPOINT s1; RELEASE s1",
    "SET LOCAL statement_timeout TO 1000; SET TIME ZONE 'UTC'; SET NAMES 'UTF8'; SET search_path = a, b",
    "SHOW ALL; SHOW server_version; RESET ALL; RESET application_name; DISCARD ALL",
    "CLOSE ALL; UNLISTEN *",
    "COPY kv (key, value) FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';', QUOTE '\"', NULL 'x')",
    "COPY (SELECT * FROM kv WHERE key LIKE 'a%') TO STDOUT (FORMAT binary)",
    "SELECT pg_sleep(0.001)",
    "/* comment */ -- line\n;;  ",
    "SELECT 'it''s', U&'\\0041', B'101', X'ff', 1.5e10, -0.0, 9223372036854775808",
    "SELECT generate_series(1, 3), now()::date, 1 + 2 * 3 / 4 % 5, 'a' || 'b', NULL IS NULL",
    "WITH t AS (SELECT 1 AS a) SELECT a FROM t UNION ALL VALUES (2) ORDER BY 1",
    "SELECT oid, typname FROM pg_catalog.pg_type WHERE typname = ANY(ARRAY['int4', 'text'])",
    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
    "SELECT current_setting('application_name'), set_config('x.y', 'z', false)",
    "SELECT CASE WHEN 1 > 0 THEN 'yes' ELSE 'no' END, coalesce(NULL, 1), '2024-01-01'::timestamp",
    "SELECT $1::int4 + $2::int8, $3::bytea, $4::text",
    "select \"key\" from \"kv\" where \"key\" = 'q'",
    "SELECT 'é', '日本', '\U0001F600' FROM kv",
    "EXPLAIN SELECT 1",
    "CREATE TABLE t (a int)",
    # Found by fuzzing (fixed): an error naming "" hung the error-position search.
    "SELECT 'é'<@'日本', '😀' FROM'' kv",
]


def sql_seeds():
    for i, text in enumerate(SQL):
        write("sql_classify", "sql_%02d" % i, text.encode())


# ---- wal_reader: flags, damage index, images ----

def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def put(db, seq, key, value, expire=0):
    return (b"\x01" + varint(db) + struct.pack("<Q", seq << 12) + struct.pack("<q", expire)
            + varint(len(key)) + key + varint(len(value)) + value)


def delete(db, seq, key):
    return b"\x02" + varint(db) + struct.pack("<Q", seq << 12) + varint(len(key)) + key


def record(payload):
    head = struct.pack("<I", len(payload)) + payload
    return head + struct.pack("<I", crc32c(head))


def wal_input(flags, damage, log0, log1=b"", snapshot=None):
    out = bytes([flags, damage])
    if snapshot is not None:
        out += struct.pack("<H", len(snapshot)) + snapshot
    return out + struct.pack("<H", len(log0)) + log0 + log1


def wal_seeds(host):
    log = (record(put(0, 1, b"a", b"1")) + record(put(0, 2, b"b", b"2") + delete(0, 2, b"a"))
           + record(put(3, 3, b"k" * 20, b"v" * 100, expire=4102444800000)))
    snap = record(put(0, 1, b"s1", b"x") + put(1, 1, b"s2", b"y") + put(0, 1, b"gone", b"z", 1))
    write("wal_reader", "log", wal_input(0, 0, log))
    write("wal_reader", "two_logs", wal_input(0, 0, log, record(put(0, 5, b"a", b"newer"))))
    write("wal_reader", "checkpoint", wal_input(4, 0, record(delete(1, 9, b"s2")), snapshot=snap))
    write("wal_reader", "old_logs", wal_input(4 | 8, 0, log, snapshot=snap))
    write("wal_reader", "torn_tail", wal_input(0, 0, log + record(put(0, 7, b"t", b"t"))[:-3]))
    write("wal_reader", "zero_tail", wal_input(0, 0, log + b"\0" * 64))
    write("wal_reader", "damage_middle", wal_input(16, 1, log))
    write("wal_reader", "damage_truncate", wal_input(16 | 1, 1, log))
    write("wal_reader", "malformed", wal_input(0, 0, record(b"\x01\x80")))
    write("wal_reader", "bad_db", wal_input(0, 0, record(put(99, 1, b"a", b"b"))))
    write("wal_reader", "bad_manifest", wal_input(4 | 64, 0, log, snapshot=snap))
    if host:
        real_data_dir_seeds(host)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def real_data_dir_seeds(host):
    """A real server's log and snapshot files as seeds."""
    data_dir = tempfile.mkdtemp(prefix="corewire-seeds-")
    port, pg_port, http_port = free_port(), free_port(), free_port()
    server = subprocess.Popen(
        [host, "--port", str(port), "--pg-port", str(pg_port), "--http-port", str(http_port),
         "--threads", "2", "--data-dir", data_dir, "--appendfsync", "always"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cli = ["redis-cli", "-p", str(port)]
        for _ in range(100):
            if subprocess.run(cli + ["PING"], capture_output=True).stdout.strip() == b"PONG":
                break
            time.sleep(0.1)
        commands = [
            ["SET", "a", "1"], ["SET", "b", "2", "EX", "1000"], ["INCR", "counter"],
            ["MSET", "m1", "x", "m2", "y"], ["DEL", "m1"], ["-n", "3", "SET", "in-db-3", "v"],
            ["SET", "bin", "\x01\x02\r\n"],
            ["SAVE"],
            ["SET", "after", "checkpoint"], ["DEL", "a"], ["INCR", "counter"],
            ["SET", "expiring", "soon", "PX", "1"],
        ]
        for command in commands:
            subprocess.run(cli + command, capture_output=True)
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "tester", "-d", "kv",
                        "-c", "INSERT INTO kv VALUES ('from-sql', 'v'); DELETE FROM kv WHERE key = 'b'"],
                       capture_output=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    files = sorted(os.listdir(data_dir))
    logs = [f for f in files if f.startswith("wal-")]
    snaps = [f for f in files if f.startswith("snap-")]
    read = lambda name: open(os.path.join(data_dir, name), "rb").read()
    newest = max(int(f[4:12]) for f in logs) if logs else 0
    current = [read(f) for f in logs if int(f[4:12]) == newest]
    while len(current) < 2:
        current.append(b"")
    if snaps:
        write("wal_reader", "real_checkpoint", wal_input(4, 0, current[0], current[1], snapshot=read(snaps[0])))
    all_logs = b"".join(read(f) for f in logs)
    write("wal_reader", "real_logs", wal_input(0, 0, all_logs))
    shutil.rmtree(data_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="corewire host binary for real log seeds")
    args = parser.parse_args()
    resp_seeds()
    pg_seeds()
    sql_seeds()
    wal_seeds(args.host)


if __name__ == "__main__":
    main()
