#!/usr/bin/env python3
"""Section z: make install.

`make install PREFIX=/opt/corewire-e2e DESTDIR=<temp dir>` must stage, under
DESTDIR/PREFIX: bin/corewire, lib/libcorewire.a, include/corewire/corewire.h and
corewire_engine.h, etc/corewire/corewire.toml (the example config) and
lib/systemd/system/corewire.service (whose paths are PREFIX's, not DESTDIR's), and
write nothing outside DESTDIR. The installed binary must accept the installed config
(--check-config), the installed headers must compile on their own (C and C++), and
the seed host (cpp/examples/seed_host.cc) must link against the installed
libcorewire.a.
"""

import filecmp
import os
import re
import shutil
import tempfile
from pathlib import Path

import opslib
from opslib import Checks, one_line, run

ARGS = opslib.setup(__doc__)
C = Checks("install")
if not opslib.require_tools(C, ["make", "g++", "gcc", "install"]):
    C.finish()

ROOT = opslib.ROOT
PREFIX = "/opt/corewire-e2e"
SYS_LIBS = ["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"]  # the Makefile's RUST_SYS_LIBS
DEST = Path(tempfile.mkdtemp(prefix="corewire-install.", dir=ARGS.logs))
INST = DEST / PREFIX.lstrip("/")
FILES = ["bin/corewire", "lib/libcorewire.a", "include/corewire/corewire.h", "include/corewire/corewire_engine.h",
         "etc/corewire/corewire.toml", "lib/systemd/system/corewire.service"]

try:
    with C.block("make install"):
        existed = os.path.exists(PREFIX)
        rc, out = run(["make", "-C", str(ROOT), "install", "PREFIX=" + PREFIX, "DESTDIR=" + str(DEST)], timeout=1200)
        (Path(ARGS.logs) / "make-install.log").write_text(out)
        C.eq("make install PREFIX=%s DESTDIR=%s: exit status" % (PREFIX, DEST), 0, rc)
        if rc != 0:
            print(out[-2000:])
        for f in FILES:
            C.ok("installed %s" % f, (INST / f).is_file(), str(INST / f))
        C.ok("bin/corewire is executable", os.access(INST / "bin/corewire", os.X_OK))
        C.ok("nothing written to %s itself (only under DESTDIR)" % PREFIX, existed or not os.path.exists(PREFIX))

    with C.block("installed files"):
        toml = INST / "etc/corewire/corewire.toml"
        C.ok("etc/corewire/corewire.toml is corewire.example.toml",
             toml.is_file() and filecmp.cmp(toml, ROOT / "corewire.example.toml", shallow=False))
        C.ok("bin/corewire is build/corewire", filecmp.cmp(INST / "bin/corewire", ROOT / "build/corewire", shallow=False))
        rc, out = run([str(INST / "bin/corewire"), "--check-config", "--config", str(toml)], timeout=15)
        C.ok("installed corewire --check-config --config <installed corewire.toml>: exit 0",
             rc == 0, "exit %s: %s" % (rc, one_line(out)))
        unit = (INST / "lib/systemd/system/corewire.service").read_text()
        exec_start = [l for l in unit.splitlines() if l.startswith("ExecStart=")]
        C.ok("corewire.service: ExecStart runs %s/bin/corewire --config %s/etc/corewire/corewire.toml" % (PREFIX, PREFIX),
             len(exec_start) == 1 and exec_start[0].split("=", 1)[1].split()[:3]
             == ["%s/bin/corewire" % PREFIX, "--config", "%s/etc/corewire/corewire.toml" % PREFIX], str(exec_start))
        C.ok("corewire.service: [Unit], [Service] and [Install] sections",
             all(re.search(r"^\[%s\]$" % s, unit, re.M) for s in ("Unit", "Service", "Install")))
        leaks = [str(p) for p in INST.rglob("*") if p.is_file() and p.suffix in (".service", ".toml", ".h")
                 and (str(DEST) in p.read_text(errors="replace") or "@BINDIR@" in p.read_text(errors="replace"))]
        C.ok("no installed text file names DESTDIR or an unexpanded @...@", not leaks, str(leaks))

    with C.block("building against the installed files"):
        inc = INST / "include"
        for lang, compiler in (("c", "gcc"), ("c++", "g++")):
            rc, out = run([compiler, "-fsyntax-only", "-Wall", "-x", lang, "-I", str(inc), "-"],
                          input=b"#include <corewire/corewire.h>\n#include <corewire/corewire_engine.h>\n"
                                b"int main(void) { return 0; }\n", timeout=120)
            C.ok("#include <corewire/corewire.h> compiles as %s with -I PREFIX/include" % lang, rc == 0, one_line(out))
        exe = DEST / "seed_host"
        rc, out = run(["g++", "-O1", str(ROOT / "cpp/examples/seed_host.cc"), str(INST / "lib/libcorewire.a")] + SYS_LIBS
                      + ["-o", str(exe)], timeout=300)
        C.ok("cpp/examples/seed_host.cc links against the installed libcorewire.a", rc == 0 and exe.is_file(), one_line(out))
finally:
    shutil.rmtree(DEST, ignore_errors=True)

C.finish()
