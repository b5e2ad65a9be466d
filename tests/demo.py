#!/usr/bin/env python3
"""make demo: the main job end to end, with no internet.

Builds a 64 MiB tarball of generated files, serves it from nginx on
loopback, streams it through `rangecat URL | tar -x`, and checks that
every extracted file matches. The servers are stopped and the scratch
directory removed at the end.
"""
import filecmp
import os
import shutil
import subprocess
import sys
import tarfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "integration"))
import run  # noqa: E402  (the integration tests' server set-up)

env = run.Env()
try:
    src = os.path.join(env.work, "src")
    os.makedirs(src)
    for i in range(64):
        with open(os.path.join(src, "part%02d.bin" % i), "wb") as f:
            f.write(os.urandom(1 << 20))
    with tarfile.open(os.path.join(env.data, "sample.tar"), "w") as t:
        t.add(src, arcname="sample")
    env.start_nginx()
    url = env.url("sample.tar")
    out = os.path.join(env.work, "out")
    os.makedirs(out)
    cmd = "set -o pipefail; %s --progress=line %s | tar -x -C %s" % (
        run.BIN, url, out)
    print("demo: %s" % cmd.split("; ", 1)[1])
    t = time.time()
    p = subprocess.run(cmd, shell=True, executable="/bin/bash")
    el = time.time() - t
    same = filecmp.dircmp(src, os.path.join(out, "sample"))
    ok = p.returncode == 0 and not same.diff_files and not same.left_only \
        and all(filecmp.cmp(os.path.join(src, n),
                            os.path.join(out, "sample", n), shallow=False)
                for n in os.listdir(src))
    size = os.path.getsize(os.path.join(env.data, "sample.tar"))
    print("demo: %s: %.1f MiB in %.2f s (%.0f MiB/s), %d files %s" % (
        "ok" if ok else "FAILED", size / 2**20, el, size / 2**20 / el,
        len(os.listdir(src)), "identical" if ok else "differ"))
finally:
    env.stop()
    shutil.rmtree(env.work, ignore_errors=True)
sys.exit(0 if ok else 1)
