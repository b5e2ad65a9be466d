#!/usr/bin/env python3
"""The gap at the seams of a concatenation: rangecat URL1 ... URL20 against
`for u in ...; do curl -s "$u"; done` (both through a pipe read here) and
aria2c -i (which writes files: total time only).

The seam gap at the boundary after file k is the time from the read that
brought the last byte of file k to the read that brought the first byte of
file k+1 (0 when one read holds both). Every output is checked by sha256.

Scenarios (20 files each; BENCH_SEAMS=loopback,capped,rtt100 to choose):
  loopback  nginx on loopback, no limit, 20 x 8 MiB
  capped    nginx on loopback, limit_rate 20m per connection, 20 x 4 MiB
  rtt100    nginx behind bench/netlink/netlink at 100 ms RTT (two network
            namespaces, as bench/run.py's latency lab), capped, 20 x 4 MiB

Writes bench/results/SEAMS.md. Servers are stopped by PID, namespaces
deleted, data under bench/tmp/ removed. BENCH_REPEAT runs (default 3).
Usage: bench/seams.py (as root for rtt100; make bench/netlink/netlink).
"""
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run as lab  # noqa: E402  bench/run.py: nginx, the latency link

MB = 1 << 20
NFILES = 20
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
ONLY = set(filter(None, os.environ.get("BENCH_SEAMS", "").split(",")))
DATA = os.path.join(lab.TMP, "data")
# Namespaces and addresses of our own: the latency lab may run beside us.
lab.LNS_SRV, lab.LNS_CLI = "rcseam-srv", "rcseam-cli"
lab.LSRV_IP, lab.LCLI_IP = "10.233.0.1", "10.233.0.2"


def make_files(prefix, size):
    names, whole = [], hashlib.sha256()
    for i in range(NFILES):
        name = "%s%02d" % (prefix, i)
        b = os.urandom(size)
        with open(os.path.join(DATA, name), "wb") as f:
            f.write(b)
        whole.update(b)
        names.append(name)
    return names, whole.hexdigest()


def seams(cmd, sizes, ns=None):
    """Runs cmd (argv), reads its stdout; returns (total seconds, list of
    seam gaps in seconds, sha256 of the output)."""
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    bounds, acc = [], 0
    for s in sizes[:-1]:
        acc += s
        bounds.append(acc)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    h, cum, marks = hashlib.sha256(), 0, []
    fd = p.stdout.fileno()
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            break
        t = time.monotonic()
        h.update(b)
        cum += len(b)
        marks.append((t, cum))
    err = p.stderr.read()
    p.wait()
    total = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (cmd[0], p.returncode,
                                               err[-300:]))
    gaps, i = [], 0
    for bd in bounds:
        while marks[i][1] < bd:
            i += 1
        t_last = marks[i][0]
        j = i
        while marks[j][1] <= bd:
            j += 1
        gaps.append(marks[j][0] - t_last)
    return total, gaps, h.hexdigest()


def aria2(urls, names, ns=None):
    d = os.path.join(lab.TMP, "aria")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    lst = os.path.join(lab.TMP, "aria.txt")
    with open(lst, "w") as f:
        f.write("\n".join(urls) + "\n")
    cmd = ["aria2c", "-q", "-x", "16", "-s", "16", "-k", "1M",
           "--file-allocation=none", "-d", d, "-i", lst]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    total = time.monotonic() - t0
    whole = hashlib.sha256()
    for n in names:
        with open(os.path.join(d, n), "rb") as f:
            whole.update(f.read())
    shutil.rmtree(d)
    return total, whole.hexdigest()


def scenario(title, base, names, size, want, ns=None):
    urls = [base + n for n in names]
    sizes = [size] * len(names)
    loop = "for u in %s; do curl -sf \"$u\" || exit 1; done" % " ".join(
        urls)
    tools = [("rangecat", [lab.BIN, "-q"] + urls),
             ("curl loop", ["bash", "-c", loop])]
    res = {t: ([], []) for t, _ in tools}
    res["aria2c -i"] = ([], [])
    for _ in range(REPEAT):
        for tool, cmd in tools:
            total, gaps, got = seams(cmd, sizes, ns)
            if got != want:
                raise RuntimeError("%s: output differs" % tool)
            res[tool][0].append(total)
            res[tool][1].extend(gaps)
        total, got = aria2(urls, names, ns)
        if got != want:
            raise RuntimeError("aria2c: files differ")
        res["aria2c -i"][0].append(total)
    rows = ["### %s" % title, "",
            "| tool | total s (median) | seam gap median ms | p90 ms | "
            "max ms |", "| --- | ---: | ---: | ---: | ---: |"]
    for tool, (totals, gaps) in res.items():
        if gaps:
            g = sorted(gaps)
            p90 = g[int(len(g) * 0.9)]
            cells = "%.1f | %.1f | %.1f" % (statistics.median(g) * 1e3,
                                             p90 * 1e3, g[-1] * 1e3)
        else:
            cells = "- | - | -"
        rows.append("| %s | %.2f | %s |" % (tool, statistics.median(totals),
                                            cells))
    lab.log("\n".join(rows))
    return rows + [""]


def main():
    for tool in ("aria2c", "curl", "nginx"):
        if shutil.which(tool) is None:
            sys.exit("seams: %s is missing (make bench installs it)" % tool)
    os.makedirs(DATA, exist_ok=True)
    out = ["# Seams: many URLs concatenated", "",
           "Measured by `bench/seams.py` on %s (%d cores, load %s at the "
           "start): %d files per run, %d runs per tool in turn; every "
           "output checked by sha256. The seam gap after file k is the time "
           "from the read that brought file k's last byte to the read that "
           "brought file k+1's first, through a pipe; aria2c -i (-x16 -s16) "
           "writes files, so only its total counts." % (
               time.strftime("%Y-%m-%d"), os.cpu_count(), lab.load(),
               NFILES, REPEAT), ""]
    try:
        n8, w8 = make_files("s8m", 8 * MB)
        n4, w4 = make_files("s4m", 4 * MB)
        port = lab.free_port()
        lab.start_nginx("127.0.0.1:%d" % port)
        lab.wait_port("127.0.0.1", port)
        lo = "http://127.0.0.1:%d/" % port
        if not ONLY or "loopback" in ONLY:
            out += scenario("loopback, no limit, 20 x 8 MiB", lo, n8,
                            8 * MB, w8)
        if not ONLY or "capped" in ONLY:
            out += scenario("loopback, limit_rate 20m per connection, "
                            "20 x 4 MiB", lo + "cap/", n4, 4 * MB, w4)
        if (not ONLY or "rtt100" in ONLY) and os.path.exists(lab.NETLINK):
            lab.make_cert()  # the link's nginx also listens with TLS
            with lab.Link(50):
                out += scenario(
                    "100 ms RTT (bench/netlink), limit_rate 20m per "
                    "connection, 20 x 4 MiB",
                    "http://%s:8080/cap/" % lab.LSRV_IP, n4, 4 * MB, w4,
                    ns=lab.LNS_CLI)
    finally:
        for p in lab.procs:
            p.terminate()
            p.wait()
        lab.lat_netns_down()
        shutil.rmtree(lab.TMP, ignore_errors=True)
    os.makedirs(lab.OUT, exist_ok=True)
    with open(os.path.join(lab.OUT, "SEAMS.md"), "w") as f:
        f.write("\n".join(out))
    lab.log("seams: results in bench/results/SEAMS.md")


if __name__ == "__main__":
    main()
