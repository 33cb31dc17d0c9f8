#!/usr/bin/env python3
"""psql differential test: the same psql scripts against a real PostgreSQL and the
server under test, outputs compared exactly after a short normalisation list.

Usage: psql_diff.py --ref-port P --test-port Q [--out DIR] [NAME ...]

Both servers must serve database kv with table kv (key text PRIMARY KEY, value text
NOT NULL), user postgres, no password (tests/e2e/run.sh section l starts them).
NAME selects scripts by file name (default: all).

For every tests/e2e/pg/[0-9]*.sql script:
  1. TRUNCATE kv on the reference, run the script: output A;
  2. TRUNCATE kv on the reference, run it again: output B. A != B means the script
     itself is not deterministic (a multi-row read without ORDER BY, a timestamp):
     that is a FAIL of the script, reported as such;
  3. TRUNCATE kv on the server under test, run the script: output C; compare
     normalise(A) with normalise(C).
Then every block of tests/e2e/pg/multi_statement.txt runs the same way as one psql
invocation with one -c per line: each -c string is one simple-protocol Query
message, so `SELECT 1; SELECT 2;` there is a multi-statement query string.

psql runs as: psql -X -a -v ON_ERROR_STOP=0 -h 127.0.0.1 -p PORT -U postgres -d kv -f
SCRIPT, stderr folded into stdout (psql flushes between statements, so errors stay
in place), in the C.UTF-8 locale. The scripts set VERBOSITY verbose, so every error
and warning shows its SQLSTATE.

One PASS or FAIL line per script or block, a unified diff for each FAIL (outputs
kept in --out), a last line "psql differential: N of M cases match PostgreSQL";
exit status 1 if any case failed.
"""

import argparse
import difflib
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------------
# The normalisation list: every difference corewire is allowed to have, and why.
# Everything else must match byte for byte. Each entry applies to one line.
#
#   LOCATION lines  PostgreSQL's C source function, file and line of an error
#                   (VERBOSITY verbose prints them); corewire has none to give.
#                   The line is dropped from both outputs.
#   42601 syntax    syntax errors are worded and positioned by each server's own
#                   parser: the message becomes "<syntax error>" and the LINE n: /
#                   caret lines that show the position are dropped. The SQLSTATE
#                   still has to agree.
#
# To add one: a tuple (name, function line -> line or None to drop it). Keep it
# short, and say in the comment above why corewire may differ there.
# ---------------------------------------------------------------------------------
ERROR_LINE = re.compile(r"^(psql:[^:]*:\d+: )?(ERROR|WARNING|NOTICE|FATAL):  ([0-9A-Z]{5}): (.*)$")


def normalise(text):
    out = []
    drop_position = False  # inside a 42601 error: drop its LINE/caret lines
    for line in text.split("\n"):
        if line.startswith("LOCATION:  "):
            continue
        m = ERROR_LINE.match(line)
        if m:
            drop_position = m.group(3) == "42601"
            if drop_position:
                line = "%s%s:  42601: <syntax error>" % (m.group(1) or "", m.group(2))
            out.append(line)
            continue
        if drop_position:
            if line.startswith("LINE ") or (line.strip() == "^" or (line.endswith("^") and not line.strip("^ "))):
                continue
            if not line.startswith(("DETAIL:  ", "HINT:  ", "CONTEXT:  ")):
                drop_position = False
        out.append(line)
    return "\n".join(out)


def client_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8", PGCONNECT_TIMEOUT="5",
               PGPASSFILE="/nonexistent/.pgpass")
    return env


def psql(port, args, timeout=60, echo=True):
    cmd = ["psql", "-X"] + (["-a"] if echo else []) + ["-v", "ON_ERROR_STOP=0", "-h", "127.0.0.1",
                                                      "-p", str(port), "-U", "postgres", "-d", "kv"] + args
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           env=client_env(), timeout=timeout)
        out = p.stdout.decode("utf-8", "backslashreplace")
        return out + ("<psql exit %d>\n" % p.returncode if p.returncode else "")
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "backslashreplace")
        return out + "<psql timed out after %d s>\n" % timeout


def truncate(port):
    out = psql(port, ["-q", "-c", "TRUNCATE kv"], timeout=20, echo=False)
    if out.strip():
        return "TRUNCATE kv on port %d failed: %s" % (port, out.strip())
    return None


def blocks(path):
    """multi_statement.txt: blocks separated by blank lines; '#' lines are comments;
    every other line is one -c argument."""
    cur, name = [], None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                if cur:
                    yield name, cur
                cur, name = [], None
                continue
            if line.startswith("#"):
                continue
            if not cur:
                name = "multi_statement.txt:%d" % n
            cur.append(line)
    if cur:
        yield name, cur


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref-port", type=int, required=True)
    ap.add_argument("--test-port", type=int, required=True)
    ap.add_argument("--out", default=None, help="keep outputs here (default: build/e2e/pg-diff)")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    outdir = a.out or os.path.join(HERE, "..", "..", "..", "build", "e2e", "pg-diff")
    os.makedirs(outdir, exist_ok=True)

    cases = []
    for path in sorted(glob.glob(os.path.join(HERE, "[0-9]*.sql"))):
        cases.append((os.path.basename(path), ["-f", path]))
    for name, cmds in blocks(os.path.join(HERE, "multi_statement.txt")):
        args = []
        for c in cmds:
            args += ["-c", c]
        cases.append((name, args))
    if a.names:
        cases = [c for c in cases if any(n in c[0] for n in a.names)]

    passed = failed = 0
    for name, args in cases:
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
        err = truncate(a.ref_port)
        ref1 = psql(a.ref_port, args) if not err else ""
        err = err or truncate(a.ref_port)
        ref2 = psql(a.ref_port, args) if not err else ""
        err = err or truncate(a.test_port)
        got = psql(a.test_port, args) if not err else ""
        for suffix, text in (("ref", ref1), ("ref2", ref2), ("test", got)):
            with open(os.path.join(outdir, "%s.%s.out" % (tag, suffix)), "w", encoding="utf-8") as f:
                f.write(text)
        if err:
            failed += 1
            print("FAIL: %s: %s" % (name, err))
        elif ref1 != ref2:
            failed += 1
            print("FAIL: %s: not deterministic on the reference PostgreSQL (two runs differ): fix the script" % name)
            sys.stdout.writelines(difflib.unified_diff(ref1.splitlines(True), ref2.splitlines(True),
                                                       "reference run 1", "reference run 2", n=2))
        elif "<psql" in ref1:
            failed += 1
            print("FAIL: %s: psql failed on the reference PostgreSQL: %s" % (name, ref1.strip().splitlines()[-1]))
        else:
            want, have = normalise(ref1), normalise(got)
            if want == have:
                passed += 1
                print("PASS: %s (%d lines of output)" % (name, want.count("\n")))
            else:
                failed += 1
                print("FAIL: %s differs from PostgreSQL (normalised; raw outputs in %s/%s.{ref,test}.out):"
                      % (name, outdir, tag))
                diff = list(difflib.unified_diff(want.splitlines(True), have.splitlines(True),
                                                 "postgresql", "server under test", n=3))
                sys.stdout.writelines(diff[:120])
                if len(diff) > 120:
                    print("... %d more diff lines" % (len(diff) - 120))
        sys.stdout.flush()
    # Not "N passed, M failed": run.sh's own closing line is the one CI reads.
    print("psql differential: %d of %d cases match PostgreSQL" % (passed, passed + failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
