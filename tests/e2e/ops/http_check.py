#!/usr/bin/env python3
"""Section w: the HTTP listener: /health, the status page in headless Chromium, the
KV REST API (and what redis-cli and psql see of it), and the API's password.

The status page is loaded by `chromium --headless --dump-dom` (after a virtual-time
budget that lets its script fetch /stats); the dumped DOM must have
data-loaded="true" on <body> and one <tr class="worker"> per worker (--threads 2)
with its numbers filled in. A screenshot goes to /tmp/corewire-status.png
(OPS_SCREENSHOT overrides).
"""

import html.parser
import json
import os
import re
import shutil
import tempfile

import opslib
from opslib import Checks, Server, one_line, run, short

ARGS = opslib.setup(__doc__)
C = Checks("http")
SCREENSHOT = os.environ.get("OPS_SCREENSHOT", "/tmp/corewire-status.png")
if not (opslib.require_modules(C, ["redis", "psycopg"]) and opslib.require_tools(C, ["chromium", "redis-cli", "psql"])):
    C.finish()


class Dom(html.parser.HTMLParser):
    """The body's attributes and the cells of every <tr> whose class has "worker"."""

    def __init__(self):
        super().__init__()
        self.body = None
        self.rows = []
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "tr":
            self._row = [] if "worker" in (attrs.get("class") or "").split() else None
            if self._row is not None:
                self.rows.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def chromium(*args):
    profile = tempfile.mkdtemp(prefix="corewire-chromium.", dir=ARGS.logs)
    try:
        return run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--user-data-dir=" + profile, "--virtual-time-budget=5000"] + list(args),
                   timeout=90)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


S = Server("http", threads=2)
with C.block("server"):
    S.start_ready()
if not S.alive():
    C.finish()  # the FAIL above says why; every check below needs this server

# ---------------------------------------------------------------------------- health
with C.block("/health"):
    status, headers, doc = opslib.http_json(S.http_port, "GET", "/health")
    C.eq("/health: status 200", 200, status)
    C.ok("/health: Content-Type application/json", headers.get("content-type", "").startswith("application/json"),
         headers.get("content-type"))
    C.eq("/health: live and ready", [True, True], [doc.get("live"), doc.get("ready")])
    status, _, _ = S.http("GET", "/no/such/path")
    C.eq("GET /no/such/path: 404", 404, status)

# ----------------------------------------------------------------------- status page
with C.block("status page"):
    status, headers, body = S.http("GET", "/")
    C.ok("GET /: 200 text/html", status == 200 and headers.get("content-type", "").startswith("text/html"),
         "%s %s" % (status, headers.get("content-type")))
    url = "http://127.0.0.1:%d/" % S.http_port
    rc, out = chromium("--dump-dom", url)
    dom_path = os.path.join(ARGS.logs, "status-dom.html")
    with open(dom_path, "w") as f:
        f.write(out)
    C.eq("chromium --headless --dump-dom %s: exit status" % url, 0, rc)
    dom = Dom()
    dom.feed(out)
    C.eq('status page: <body data-loaded="true"> after its script ran (DOM in %s)' % dom_path, "true",
         (dom.body or {}).get("data-loaded"))
    C.eq('status page: one <tr class="worker"> per worker (--threads 2)', 2, len(dom.rows))
    filled = [r for r in dom.rows if r and all(cell not in ("", "-", "\u2013", "\u2014") for cell in r)
              and sum(1 for cell in r if re.fullmatch(r"[\d.,]+\s*\S*", cell)) >= 2]
    C.ok("status page: every worker row has its numbers filled in", dom.rows and len(filled) == len(dom.rows),
         short(dom.rows))
    if os.path.exists(SCREENSHOT):
        os.unlink(SCREENSHOT)
    rc, out = chromium("--screenshot=" + SCREENSHOT, "--window-size=1200,800", url)
    with open(SCREENSHOT, "rb") if os.path.exists(SCREENSHOT) else open(os.devnull, "rb") as f:
        head = f.read(8)
    C.ok("chromium --screenshot: %s is a PNG" % SCREENSHOT, rc == 0 and head == b"\x89PNG\r\n\x1a\n",
         "exit %s, %s" % (rc, one_line(out, 200)))

# ------------------------------------------------------------------------- KV REST API
KV = "/api/v1/kv"
with C.block("KV API: one key"):
    r = S.redis()
    status, _, body = S.http("PUT", KV + "/k1", b"hello world")
    C.eq("PUT /api/v1/kv/k1: 200 {\"ok\": true}", (200, {"ok": True}), (status, json.loads(body or b"null")))
    status, headers, body = S.http("GET", KV + "/k1")
    C.eq("GET /api/v1/kv/k1: 200 with the raw value", (200, b"hello world"), (status, body))
    status, _, body = S.http("GET", KV + "/k1", headers={"Accept": "application/json"})
    C.eq("GET /api/v1/kv/k1 (Accept: application/json)", (200, {"key": "k1", "value": "hello world"}),
         (status, json.loads(body or b"null")))
    C.eq("redis GET k1 sees the PUT", b"hello world", r.get("k1"))
    r.set("k2", "from redis")
    C.eq("GET /api/v1/kv/k2 sees redis SET", (200, b"from redis"), S.http("GET", KV + "/k2")[::2])
    status, _, _ = S.http("PUT", KV + "/sp%20%C3%A9", "ünï ✓".encode())
    C.eq("PUT a percent-encoded key: redis GET 'sp é'", (200, "ünï ✓".encode()), (status, r.get("sp é")))
    binary = bytes(range(256))
    status, _, _ = S.http("PUT", KV + "/bin", binary)
    C.eq("PUT 256 bytes 0x00..0xff: redis GET gives them back", (200, binary), (status, r.get("bin")))
    C.eq("GET /api/v1/kv/bin: the same bytes", (200, binary), S.http("GET", KV + "/bin")[::2])
    rc, out = S.psql("SELECT value FROM kv WHERE key = 'k1'", extra=["-t"])
    C.eq("psql SELECT value FROM kv WHERE key = 'k1'", (0, "hello world"), (rc, out.strip()))
    status, _, body = S.http("DELETE", KV + "/k1")
    C.eq("DELETE /api/v1/kv/k1: 200 {\"deleted\": true}", (200, {"deleted": True}), (status, json.loads(body or b"null")))
    C.eq("GET /api/v1/kv/k1 after DELETE: 404", 404, S.http("GET", KV + "/k1")[0])
    C.eq("DELETE it again: 404 {\"deleted\": false}", (404, {"deleted": False}),
         (lambda s, h, b: (s, json.loads(b or b"null")))(*S.http("DELETE", KV + "/k1")))
    C.eq("redis EXISTS k1 after DELETE", 0, r.exists("k1"))
    r.close()

with C.block("KV API: batch and list"):
    r = S.redis()
    ops = [{"op": "set", "key": "p1", "value": "a"}, {"op": "set", "key": "p2", "value": "b"},
           {"op": "set", "key": "p3", "value": "c"}, {"op": "get", "key": "p1"}, {"op": "del", "key": "p3"},
           {"op": "get", "key": "p3"}]
    status, _, doc = opslib.http_json(S.http_port, "POST", KV, json.dumps({"ops": ops}),
                                      {"Content-Type": "application/json"})
    results = doc.get("results") if isinstance(doc, dict) else None
    C.eq("POST /api/v1/kv batch: 200 and 6 results", (200, 6), (status, len(results or [])))
    if results and len(results) == 6:
        C.eq("batch: get p1 after set, del p3, get p3", [{"value": "a"}, {"deleted": True}, {"value": None}],
             results[3:])
    C.eq("redis sees the batch: p1, p2 set, p3 gone", [b"a", b"b", None], [r.get("p1"), r.get("p2"), r.get("p3")])
    r.set("p4", "d")
    r.set("q1", "e")
    status, _, doc = opslib.http_json(S.http_port, "GET", KV + "?prefix=p&limit=2")
    keys = doc.get("keys") or []
    C.ok("GET /api/v1/kv?prefix=p&limit=2: 200, 2 keys of prefix p, truncated",
         status == 200 and len(keys) == 2 and all(k in ("p1", "p2", "p4") for k in keys) and doc.get("truncated") is True,
         short(doc))
    # Keys come sorted, so a limit is the start of that order (a next page could go on
    # from the last key); any 2 of the 3 would make a limited list arbitrary.
    C.eq("GET /api/v1/kv?prefix=p&limit=2: the first 2 in sorted order", ["p1", "p2"], keys)
    status, _, doc = opslib.http_json(S.http_port, "GET", KV + "?prefix=p")
    C.eq("GET /api/v1/kv?prefix=p: p1, p2, p4, not truncated", (200, ["p1", "p2", "p4"], False),
         (status, doc.get("keys"), doc.get("truncated")))
    status, _, _ = S.http("POST", KV, b"{not json", {"Content-Type": "application/json"})
    C.eq("POST /api/v1/kv with a malformed body: 400", 400, status)
    r.close()
S.stop()

with C.block("KV API with --requirepass"):
    P = Server("http-auth", args=["--requirepass", "s3cret"], threads=1).start_ready()
    C.eq("no Authorization: 401", 401, P.http("GET", KV + "/x")[0])
    C.eq("PUT without Authorization: 401", 401, P.http("PUT", KV + "/x", b"1")[0])
    C.eq("Authorization: Bearer wrong: 401", 401, P.http("GET", KV + "/x", headers={"Authorization": "Bearer wrong"})[0])
    auth = {"Authorization": "Bearer s3cret"}
    C.eq("Bearer s3cret: GET of a missing key is 404, not 401", 404, P.http("GET", KV + "/x", headers=auth)[0])
    C.eq("Bearer s3cret: PUT is 200", 200, P.http("PUT", KV + "/x", b"42", headers=auth)[0])
    rc, out = P.cli("get", "x", password="s3cret")
    C.eq("redis-cli -a s3cret GET x sees it", "42", out.strip())
    rc, out = P.cli("get", "x")
    C.ok("redis-cli without AUTH: NOAUTH", "NOAUTH" in out, one_line(out))
    P.stop()

C.finish()
