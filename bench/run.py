#!/usr/bin/env python3
"""make bench: rangecat against curl and the download accelerators users
would pick instead (aria2c, axel, wget2), in the same run.

Every scenario runs each tool in alternating order, REPEAT times, checks
every output byte for byte (sha256 of the file, or of a verified run for
/dev/null targets), and reports medians, peak RSS and ratios. Results go to
bench/results/RESULTS.md and bench/results/throughput.png (gnuplot).

Scenarios (see RESULTS.md for the conditions):
  capped     nginx limit_rate 20m per connection (a cloud store's cap)
  sweep      capped, 256 MiB, throughput against the connection count
  straggler  capped, with one response in eight at 2m (ten times slower)
  loopback   no limit, to /dev/null and through a pipe into cat
  link       nginx in a network namespace behind a veth pair shaped with
             tc tbf rate 2gbit; the client in a second namespace
  memory     peak RSS for 256 MiB and 4 GiB files
  firstbyte  time until the first byte reaches stdout
  s3         a 256 MiB object from a real S3 server (Ceph RGW): SigV4 per
             range against curl --aws-sigv4, boto3 and aria2c (presigned)
  cache      --cache DIR, 256 MiB on loopback: a hit (one 304, the entry
             checked, then read from disk) against cat of the entry's file,
             and a miss that stores against a plain run

The latency section (BENCH_ONLY=latency, or bench/run.py --only latency;
one scenario: BENCH_ONLY=lat100; timelines run first) runs the client and nginx in two network
namespaces joined by bench/netlink/netlink, a userspace TUN link emulator
(one-way delay, optional rate cap with a queue limit, seeded loss):
  lat100     100 ms RTT, nginx limit_rate 20m per request, 1 GiB
  lat10      10 ms RTT, capped, 1 GiB (between a short path and a far
             server)
  lat200     200 ms RTT, capped, 256 MiB
  latcubic   lat200 with the server's TCP on cubic (Linux's default,
             with slow start again after idle) instead of this machine's
             default; cubic is added to tcp_allowed_congestion_control
             for the run and the list restored after
  latloss    100 ms RTT, 0.1% loss, 1 Gbit/s bottleneck, no cap, 256 MiB
             (three times BENCH_REPEAT rounds: loss makes runs vary)
  lattls     100 ms RTT, capped, HTTPS, 256 MiB
  latlimit   100 ms RTT, no cap, nginx limit_conn 1 (a 503 to a request
             while another is being processed), 256 MiB
  loopcap    loopback, capped, 256 MiB (no emulator)
  loopfree   loopback, no limit, 1 GiB (no emulator)
  sizes      100 ms RTT, capped, 1 MiB, 16 MiB, 256 MiB (4 GiB with
             BENCH_LAT_4G=1)
  timelines  rangecat -v at 100 ms RTT (defaults, -n 16, --chunk-size 1M,
             --chunk-size 16M) through bench/timeline.py
  proto      only with BENCH_RC_ALT=/path/to/another/rangecat: that build
             against this one at 100 and 200 ms RTT, same options,
             interleaved, with timelines
  stripes    only when named: bench/stripes.py, a prototype of striped
             multi-range requests (not rangecat), against rangecat's
             defaults, aria2c and axel at 100 ms (1 GiB, BBR) and 200 ms
             (256 MiB, BBR and cubic), its window the defaults' budget or
             less
Each scenario first sweeps rangecat's -n / --chunk-size / --memory (one
run each, cut off at 1.5 times the defaults' time), then runs rangecat's
defaults, the sweep's best (and the best without --memory, when the best
takes one), aria2c -x16 -s16 and axel -n 16 interleaved
(curl once where a capped single stream would take minutes). Its tables
replace those of the same title in the "Latency lab" section of
RESULTS.md; the rest is kept.

Data is generated under bench/tmp/ (never committed) and removed at the
end; servers are stopped by PID; network namespaces are deleted.
Environment: BENCH_REPEAT (default 3), BENCH_ONLY=scenario,scenario.
"""
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# BENCH_RC_BIN: another rangecat binary as "this build" (for BENCH_RC_ALT;
# lat_scenario runs BENCH_RC_ALT's defaults too, named BENCH_RC_ALT_NAME)
BIN = os.environ.get("BENCH_RC_BIN") or os.path.join(ROOT, "rangecat")
TMP = os.path.join(HERE, "tmp")
OUT = os.path.join(HERE, "results")
MB = 1 << 20
GB = 1 << 30
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
if "--only" in sys.argv[1:-1]:
    ONLY |= set(sys.argv[sys.argv.index("--only") + 1].split(","))
LATENCY = ("lat100", "lat10", "lat200", "latcubic", "latloss", "lattls", "latlimit",
           "loopcap", "loopfree", "sizes", "timelines", "proto", "stripes")
if "latency" in ONLY:
    ONLY |= set(LATENCY)
RATE = 20 * MB          # limit_rate 20m, per connection
NS_SRV, NS_CLI = "rcbench-srv", "rcbench-cli"
SRV_IP, CLI_IP = "10.231.0.1", "10.231.0.2"

procs = []
report = []


def log(msg):
    print(msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(host, port, ns=None):
    for _ in range(200):
        cmd = ["bash", "-c", "exec 3<>/dev/tcp/%s/%d" % (host, port)]
        if ns:
            cmd = ["ip", "netns", "exec", ns] + cmd
        if subprocess.run(cmd, stderr=subprocess.DEVNULL).returncode == 0:
            return
        time.sleep(0.05)
    raise RuntimeError("no server on %s:%d" % (host, port))


def make_data():
    """256 MiB of random bytes; the 1 GiB and 4 GiB files repeat it."""
    os.makedirs(os.path.join(TMP, "data"), exist_ok=True)
    block = os.urandom(256 * MB)
    with open(os.path.join(TMP, "data", "m1"), "wb") as f:
        f.write(block[:MB])
    with open(os.path.join(TMP, "data", "m16"), "wb") as f:
        f.write(block[:16 * MB])
    sums = {"m1": hashlib.sha256(block[:MB]).hexdigest(),
            "m16": hashlib.sha256(block[:16 * MB]).hexdigest()}
    # 4 GiB only when a scenario reads it
    big = not ONLY or ONLY & {"memory"} or os.environ.get("BENCH_LAT_4G")
    for name, times in (("m256", 1), ("g1", 4), ("g4", 16)):
        if name == "g4" and not big:
            continue
        h = hashlib.sha256()
        with open(os.path.join(TMP, "data", name), "wb") as f:
            for _ in range(times):
                f.write(block)
                h.update(block)
        sums[name] = h.hexdigest()
    return sums


def nginx_conf(listen, prefix, tls=None):
    d = os.path.join(TMP, "data")
    # HTTPS on the latency link: the same file tree, capped under /cap/
    tls_server = "" if tls is None else f"""
  server {{
    listen {tls} ssl;
    ssl_certificate {TMP}/tls.crt; ssl_certificate_key {TMP}/tls.key;
    root {d};
    location /cap/ {{ alias {d}/; limit_rate 20m; sendfile_max_chunk 64k; }}
  }}"""
    return f"""
daemon off;
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path {prefix}; proxy_temp_path {prefix};
  fastcgi_temp_path {prefix}; uwsgi_temp_path {prefix};
  scgi_temp_path {prefix};
  default_type application/octet-stream;
  # One response in eight (by the request id's last hex digit, 0 or 1)
  # is served at a tenth of the rate: a straggler.
  map $request_id $strag_rate {{ "~[01]$" 2m; default 20m; }}
  limit_conn_zone $binary_remote_addr zone=perip:1m;
  server {{
    listen {listen};
    root {d};
    location /one/ {{ alias {d}/; limit_conn perip 1; }}
    location /cap/ {{ alias {d}/; limit_rate 20m; sendfile_max_chunk 64k; }}
    location = /bench/obj {{ alias {d}/m256; limit_rate 20m;
                             sendfile_max_chunk 64k; }}
    location /strag/ {{ alias {d}/; limit_rate $strag_rate;
                        sendfile_max_chunk 64k; }}
  }}{tls_server}
}}
"""


def start_nginx(listen, ns=None, tls=None):
    prefix = os.path.join(TMP, "nginx-" + (ns or "lo"))
    os.makedirs(prefix, exist_ok=True)
    os.chmod(TMP, 0o755)
    os.chmod(os.path.join(TMP, "data"), 0o755)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(listen, prefix, tls))
    cmd = ["nginx", "-c", conf, "-p", prefix]
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    procs.append(p)
    return p


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(16 * MB), b""):
            h.update(b)
    return h.hexdigest()


def timed(cmd, shell=False, ns=None):
    """Runs cmd; returns (seconds, peak RSS in bytes of the tool)."""
    rss_file = os.path.join(TMP, "rss")
    if shell:
        cmd = ["bash", "-c", "set -o pipefail; " + cmd]
    full = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
    if ns:
        full = ["ip", "netns", "exec", ns] + full
    t = time.monotonic()
    p = subprocess.run(full, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    el = time.monotonic() - t
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            " ".join(cmd), p.returncode, p.stderr.decode()[-300:]))
    rss = int(open(rss_file).read().split()[-1]) * 1024
    return el, rss


def tools_to_file(url, n, out):
    """The file-writing command of each tool, with n connections."""
    d, name = os.path.split(out)
    return {
        "rangecat": [BIN, "-q", url] if n is None else
        [BIN, "-q", "-n", str(n), url],
        "axel": ["axel", "-q", "-n", str(n or 8), "-o", out, url],
        "aria2c": ["aria2c", "-q", "-x%d" % (n or 8), "-s%d" % (n or 8),
                   "--file-allocation=none", "--allow-overwrite=true",
                   "-d", d, "-o", name, url],
        "wget2": ["wget2", "-q", "--max-threads=%d" % (n or 8),
                  "--chunk-size=32M", "-O", out, url],
        "curl": ["curl", "-s", "-o", out, url],
    }


def run_tool(tool, cmd, out, want, ns=None):
    if os.path.exists(out):
        os.unlink(out)
    if tool == "rangecat":
        # stdout to the file; /usr/bin/time runs it through bash
        el, rss = timed(" ".join(cmd) + " > " + out, shell=True, ns=ns)
    else:
        el, rss = timed(cmd, ns=ns)
    got = sha_file(out)
    if got != want:
        raise RuntimeError("%s: output differs" % tool)
    os.unlink(out)
    return el, rss


def rounds(entries, out, want, ns=None):
    """entries: [(label, tool, cmd)], alternated REPEAT times. A peer that
    fails or crashes is recorded (NaN), not fatal; rangecat must work."""
    res = {label: [] for label, _, _ in entries}
    rss = {label: 0 for label, _, _ in entries}
    for r in range(REPEAT):
        order = entries if r % 2 == 0 else list(reversed(entries))
        for label, tool, cmd in order:
            try:
                el, m = run_tool(tool, cmd, out, want, ns)
            except RuntimeError as e:
                if tool == "rangecat":
                    raise
                log("  %-26s FAILED: %s" % (label, str(e)[:120]))
                continue
            res[label].append(el)
            rss[label] = max(rss[label], m)
            log("  %-26s %6.2f s  %6.1f MiB RSS" % (label, el, m / MB))
    return {k: (statistics.median(v) if v else float("nan"), rss[k])
            for k, v in res.items()}


def table(title, header, rows, note=""):
    lines = ["### " + title, ""]
    if note:
        lines += [note, ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + " --- |" * len(header))
    for r in rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|")
                                       for c in r) + " |")
    report.append("\n".join(lines) + "\n")
    log("\n".join(lines))


def scenario_capped(port, sums):
    url = "http://127.0.0.1:%d/cap/g1" % port
    out = os.path.join(TMP, "out.bin")
    t = tools_to_file(url, 16, out)
    entries = [("rangecat (defaults)", "rangecat",
                tools_to_file(url, None, out)["rangecat"]),
               ("rangecat -n 16", "rangecat", t["rangecat"]),
               ("axel -n 16", "axel", t["axel"]),
               ("aria2c -x16 -s16", "aria2c", t["aria2c"])]
    log("capped: 1 GiB, 20 MiB/s per connection")
    res = rounds(entries, out, sums["g1"])
    # wget2 opens one connection here whatever --max-threads says, so it
    # takes ~50 s: one run is enough to show it.
    el, rss = run_tool("wget2", t["wget2"], out, sums["g1"])
    log("  %-26s %6.2f s  %6.1f MiB RSS" % ("wget2", el, rss / MB))
    res["wget2 --max-threads=16 (1 run)"] = (el, rss)
    # rangecat's own use: stdout into a pipe or /dev/null (the bytes were
    # verified above, to a file).
    for label, n in (("rangecat (defaults) > /dev/null", None),
                     ("rangecat -n 16 > /dev/null", 16)):
        extra = "" if n is None else "-n %d " % n
        ts = [timed("%s -q %s%s > /dev/null" % (BIN, extra, url),
                    shell=True)[0] for _ in range(REPEAT)]
        res[label] = (statistics.median(ts), 0)
        log("  %-26s %6.2f s" % (label, res[label][0]))
    # What one connection really gets through nginx's pacing.
    one, _ = run_tool("curl", tools_to_file(
        url.replace("/g1", "/m256"), None, out)["curl"], out, sums["m256"])
    single = 256 * MB / one
    rows = []
    for label, (el, rss) in res.items():
        # the defaults' count adapts, up to RC_SCHED_CONN_CAP (32)
        n = 32 if "defaults" in label else 16
        rows.append((label, "%.2f s" % el,
                     "%.1f%%" % (100 * GB / (n * RATE) / el),
                     "%.1f%%" % (100 * GB / (n * single) / el),
                     "%.2f" % (el / res["rangecat -n 16"][0]),
                     "%.1f MiB" % (rss / MB) if rss else "-"))
    table("capped: 1 GiB, nginx limit_rate 20m per connection",
          ["tool", "median time", "% of ideal (n × 20 MiB/s; the "
           "defaults' n is their cap, 32)",
           "%% of n × one curl connection (%.1f MiB/s)" % (single / MB),
           "time ÷ rangecat -n 16", "peak RSS"], rows,
          "Rows without a target write to a file; the peers can do "
          "nothing else. rangecat's rows marked > /dev/null are its "
          "streaming use.")


def scenario_sweep(port, sums):
    url = "http://127.0.0.1:%d/cap/m256" % port
    out = os.path.join(TMP, "out.bin")
    log("sweep: 256 MiB capped, connection counts")
    data = []
    for n in (1, 2, 4, 8, 16, 32):
        row = [n]
        for tool in ("rangecat", "axel", "aria2c"):
            if tool == "aria2c" and n > 16:
                row.append(float("nan"))   # aria2c caps -x at 16
                continue
            cmd = tools_to_file(url, n, out)[tool]
            el, _ = run_tool(tool, cmd, out, sums["m256"])
            row.append(256 / el)
            log("  n=%-3d %-9s %7.1f MiB/s" % (n, tool, 256 / el))
        row.append(n * RATE / MB)
        data.append(row)
    with open(os.path.join(TMP, "sweep.dat"), "w") as f:
        for r in data:
            f.write(" ".join("NaN" if isinstance(x, float) and x != x
                             else str(x) for x in r) + "\n")
    table("sweep: 256 MiB, 20 MiB/s per connection (MiB/s)",
          ["connections", "rangecat", "axel", "aria2c", "ideal"],
          [(r[0], "%.1f" % r[1], "%.1f" % r[2],
            "-" if r[3] != r[3] else "%.1f" % r[3], "%.0f" % r[4])
           for r in data])
    plot = os.path.join(OUT, "throughput.png")
    script = f"""
set terminal pngcairo size 800,500 font ",11"
set output "{plot}"
set title "Throughput against connections (256 MiB, nginx limit_rate 20m per connection)" noenhanced
set xlabel "connections"
set ylabel "MiB/s"
set logscale x 2
set key top left
set grid
plot "{TMP}/sweep.dat" using 1:5 with lines dt 2 lc rgb "gray" title "ideal (n x 20 MiB/s)", \\
     "" using 1:2 with linespoints lw 2 title "rangecat (to stdout, in order)", \\
     "" using 1:3 with linespoints title "axel (to a file)", \\
     "" using 1:4 with linespoints title "aria2c (to a file)"
"""
    subprocess.run(["gnuplot"], input=script.encode(), check=True)


def scenario_straggler(port, sums):
    out = os.path.join(TMP, "out.bin")
    log("straggler: 1 GiB, one response in eight at 2 MiB/s")
    entries = []
    for loc in ("cap", "strag"):
        url = "http://127.0.0.1:%d/%s/g1" % (port, loc)
        t = tools_to_file(url, 16, out)
        entries += [("rangecat %s" % loc, "rangecat",
                     tools_to_file(url, None, out)["rangecat"]),
                    ("axel -n 16 %s" % loc, "axel", t["axel"]),
                    ("aria2c -x16 %s" % loc, "aria2c", t["aria2c"])]
    res = rounds(entries, out, sums["g1"])
    rows = []
    for tool in ("rangecat", "axel -n 16", "aria2c -x16"):
        base, strag = res[tool + " cap"][0], res[tool + " strag"][0]
        rows.append((tool, "%.2f s" % base, "%.2f s" % strag,
                     "%+.1f%%" % (100 * (strag / base - 1))))
    table("straggler: 1 GiB capped at 20 MiB/s, one response in eight at "
          "2 MiB/s", ["tool", "without straggler", "with straggler",
                      "cost of the straggler"], rows,
          "rangecat with its defaults (an adaptive count, up to 32); "
          "the peers with 16.")


def scenario_loopback(port, sums):
    url = "http://127.0.0.1:%d/g1" % port
    out = os.path.join(TMP, "out.bin")
    # Verified once per tool; the timed runs below go to /dev/null or cat.
    for tool in ("rangecat", "curl"):
        run_tool(tool, tools_to_file(url, None, out)[tool], out, sums["g1"])
    cmds = {"rangecat > /dev/null": "%s -q %s > /dev/null" % (BIN, url),
            "curl -s > /dev/null": "curl -s %s > /dev/null" % url,
            "rangecat | cat": "%s -q %s | cat > /dev/null" % (BIN, url),
            "curl -s | cat": "curl -s %s | cat > /dev/null" % url}
    log("loopback: 1 GiB, no limit")
    times = {k: [] for k in cmds}
    for r in range(max(REPEAT, 5)):
        for k, c in (cmds.items() if r % 2 == 0
                     else reversed(list(cmds.items()))):
            el, _ = timed(c, shell=True)
            times[k].append(el)
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [(k, "%.3f s" % v, "%.0f MiB/s" % (1024 / v)) for k, v in
            med.items()]
    rows.append(("rangecat ÷ curl, /dev/null", "%.2f" % (
        med["rangecat > /dev/null"] / med["curl -s > /dev/null"]), ""))
    rows.append(("rangecat ÷ curl, pipe", "%.2f" % (
        med["rangecat | cat"] / med["curl -s | cat"]), ""))
    table("loopback: 1 GiB, no limit", ["command", "median time", "rate"],
          rows)


def scenario_memory(port, sums):
    log("memory: peak RSS, loopback")
    rows = []
    for name, size in (("m256", "256 MiB"), ("g4", "4 GiB")):
        url = "http://127.0.0.1:%d/%s" % (port, name)
        out = os.path.join(TMP, "out.bin")
        _, rss = run_tool("rangecat", [BIN, "-q", url], out, sums[name])
        _, crss = run_tool("curl", ["curl", "-s", "-o", out, url], out,
                           sums[name])
        _, arss = run_tool("aria2c", tools_to_file(url, 16, out)["aria2c"],
                           out, sums[name])
        rows.append((size, "%.1f MiB" % (rss / MB), "%.1f MiB" % (crss / MB),
                     "%.1f MiB" % (arss / MB)))
    table("memory: peak RSS", ["file", "rangecat (defaults)",
                               "curl", "aria2c -x16"], rows,
          "rangecat's buffer is 5% of the file, at least 2 MiB and at "
          "most --memory (64 MiB by default), and grows only while "
          "connections wait for room.")


def first_byte(cmd):
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    p.stdout.read(1)
    el = time.monotonic() - t
    p.kill()
    p.wait()
    return el


def scenario_firstbyte(port, sums):
    url = "http://127.0.0.1:%d/g1" % port
    log("first byte")
    rc, cu = [], []
    for _ in range(15):
        rc.append(first_byte([BIN, "-q", url]))
        cu.append(first_byte(["curl", "-s", url]))
    a, b = statistics.median(rc), statistics.median(cu)
    table("first byte: time until the first byte reaches stdout",
          ["tool", "median (15 runs)"],
          [("rangecat", "%.1f ms" % (a * 1000)),
           ("curl", "%.1f ms" % (b * 1000)),
           ("difference", "%+.1f ms" % ((a - b) * 1000))])


def scenario_decode(port, sums):
    """-d against curl | zstd -d, download-only and decode-only (1 GiB
    decoded), on loopback and capped."""
    log("decode: 1 GiB of text, zstd -3")
    d = os.path.join(TMP, "data")
    # Compressible but not trivial: base64 of random bytes, repeated.
    import base64
    block = base64.b64encode(os.urandom(48 * MB))   # 64 MiB of text
    h = hashlib.sha256()
    with open(os.path.join(d, "text"), "wb") as f:
        for _ in range(16):
            f.write(block)
            h.update(block)
    want = h.hexdigest()
    subprocess.run(["zstd", "-q", "-3", "-T2", "-f", os.path.join(d, "text"),
                    "-o", os.path.join(d, "text.zst")], check=True)
    zsize = os.path.getsize(os.path.join(d, "text.zst"))
    os.unlink(os.path.join(d, "text"))
    rows = []
    for where in ("", "cap/"):
        url = "http://127.0.0.1:%d/%stext.zst" % (port, where)
        # verified once
        p = subprocess.run("%s -q -d %s | sha256sum" % (BIN, url),
                           shell=True, capture_output=True, text=True)
        if p.stdout.split()[0] != want:
            raise RuntimeError("rangecat -d output differs")
        cmds = {"rangecat -d > /dev/null": "%s -q -d %s > /dev/null"
                % (BIN, url),
                "curl | zstd -d > /dev/null": "curl -s %s | zstd -q -d "
                "> /dev/null" % url,
                "download only: rangecat > /dev/null": "%s -q %s > "
                "/dev/null" % (BIN, url),
                "decode only: zstd -d FILE > /dev/null":
                "zstd -q -d -c %s/text.zst > /dev/null" % d}
        times = {k: [] for k in cmds}
        for r in range(REPEAT):
            for k, c in (cmds.items() if r % 2 == 0
                         else reversed(list(cmds.items()))):
                times[k].append(timed(c, shell=True)[0])
        med = {k: statistics.median(v) for k, v in times.items()}
        slower = max(med["download only: rangecat > /dev/null"],
                     med["decode only: zstd -d FILE > /dev/null"])
        for k, v in med.items():
            rows.append(("capped" if where else "loopback", k,
                         "%.2f s" % v, "%.2f" % (v / slower)))
    table("decode: 1 GiB of text as a %.0f MiB zstd -3 file" % (
        zsize / MB), ["link", "command", "median time",
                      "÷ the slower of download-only and decode-only"],
          rows, "1.00 means decoding fully overlaps the download.")


BOTO_GET = """
import os, sys, boto3
from boto3.s3.transfer import TransferConfig
c = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                 region_name="us-east-1")
c.download_file("bench", "obj", sys.argv[1], Config=TransferConfig(
    max_concurrency=int(sys.argv[2]), multipart_chunksize=8 << 20))
"""


def scenario_s3(port, sums):
    """A real S3 server (Ceph RGW, in memory, on the same two cores):
    rangecat signing every range against curl --aws-sigv4 (one stream),
    boto3's threaded download_file (what aws s3 cp uses), and aria2c on
    a presigned URL."""
    import boto3  # Debian's python3-boto3
    from botocore.config import Config
    d = os.path.join(TMP, "ceph")
    os.makedirs(d, exist_ok=True)
    p = subprocess.Popen([sys.executable, os.path.join(
        ROOT, "tests", "integration", "s3server.py"), d],
        stdout=subprocess.PIPE, text=True)
    procs.append(p)
    line = p.stdout.readline()
    if not line.startswith("PORT "):
        raise RuntimeError("S3 server: " + line)
    ep = "http://127.0.0.1:%s" % line.split()[1]
    import json
    keys = json.load(open(os.path.join(d, "keys.json")))
    saved = dict(os.environ)
    os.environ.update({"AWS_ACCESS_KEY_ID": keys["access"],
                       "AWS_SECRET_ACCESS_KEY": keys["secret"],
                       "AWS_ENDPOINT_URL": ep, "AWS_REGION": "us-east-1"})
    try:
        c = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                         config=Config(signature_version="s3v4"))
        c.create_bucket(Bucket="bench")
        src = os.path.join(TMP, "data", "m256")
        log("s3: uploading 256 MiB (multipart)")
        c.upload_file(src, "bench", "obj")
        url = c.generate_presigned_url(
            "get_object", Params={"Bucket": "bench", "Key": "obj"},
            ExpiresIn=3600)
        cfg = os.path.join(TMP, "curl-s3.cfg")
        fd = os.open(cfg, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write('user = "%s:%s"\n' % (keys["access"], keys["secret"]))
        out = os.path.join(TMP, "out.bin")
        d_, name = os.path.split(out)
        boto = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
            else sys.executable

        def entries(ep, url):
            os.environ["AWS_ENDPOINT_URL"] = ep
            return [
                ("rangecat s3:// (defaults)", "rangecat",
                 [BIN, "-q", "s3://bench/obj"]),
                ("rangecat presigned (defaults)", "rangecat",
                 [BIN, "-q", "'%s'" % url]),
                ("curl --aws-sigv4 (1 stream)", "curl",
                 ["curl", "-sf", "-K", cfg, "--aws-sigv4",
                  "aws:amz:us-east-1:s3", "-H",
                  "x-amz-content-sha256: " + "e3b0c44298fc1c149afbf4c8996"
                  "fb92427ae41e4649b934ca495991b7852b855", "-o", out,
                  ep + "/bench/obj"]),
                ("boto3 download_file (8 threads)", "boto3",
                 [boto, "-c", BOTO_GET, out, "8"]),
                ("aria2c -x8 presigned", "aria2c",
                 ["aria2c", "-q", "-x8", "-s8", "--file-allocation=none",
                  "--allow-overwrite=true", "-d", d_, "-o", name, url]),
            ]

        def report_s3(title, res, note):
            base = res["rangecat s3:// (defaults)"][0]
            table(title, ["tool", "median time", "rate", "peak RSS",
                          "time ÷ rangecat s3://"],
                  [(k, "%.2f s" % v, "%.0f MiB/s" % (256 / v),
                    "%.0f MiB" % (m / MB), "%.2f" % (v / base))
                   for k, (v, m) in res.items()], note)

        log("s3: 256 MiB object from Ceph RGW on loopback")
        report_s3("S3: 256 MiB from Ceph RGW (memstore), no limit",
                  rounds(entries(ep, url), out, sums["m256"]),
                  "The server shares the two cores with the client, so "
                  "this measures CPU cost more than transfer. rangecat "
                  "signs every range itself (SigV4); the presigned run "
                  "isolates that cost.")

        # A per-connection cap, as S3 has, from the bench's nginx (a
        # proxy in front of the gateway does not hold nginx's limit_rate
        # for short ranges). nginx does not check signatures: this
        # measures what signing costs each tool under the cap.
        cep = "http://127.0.0.1:%d" % port
        cc = boto3.client("s3", endpoint_url=cep, region_name="us-east-1",
                          config=Config(signature_version="s3v4"))
        curl_ = cc.generate_presigned_url(
            "get_object", Params={"Bucket": "bench", "Key": "obj"},
            ExpiresIn=3600)
        log("s3: signed requests at 20 MiB/s per connection (nginx)")
        report_s3("S3 requests at 20 MiB/s per connection (nginx, 256 MiB)",
                  rounds(entries(cep, curl_), out, sums["m256"]),
                  "The same commands against nginx serving the object at "
                  "/bench/obj with limit_rate 20m per connection, as S3 caps "
                  "each connection: n connections can reach n × 20 MiB/s "
                  "(rangecat's count adapts, up to 32; boto3 and aria2c "
                  "use 8), one stream 20 MiB/s. nginx ignores the "
                  "signatures.")
    finally:
        os.environ.clear()
        os.environ.update(saved)
        p.terminate()
        p.wait()
        procs.remove(p)


def scenario_cache(port, sums):
    """--cache: the hit's time over cat of the same file (the cache-hit
    row of issue 15), and what storing costs a miss."""
    url = "http://127.0.0.1:%d/m256" % port
    d = os.path.join(TMP, "cache")
    out = os.path.join(TMP, "out.bin")
    shutil.rmtree(d, ignore_errors=True)
    # A Last-Modified within a second of Date is weak: nothing is stored.
    age = time.time() - os.stat(os.path.join(TMP, "data", "m256")).st_mtime
    if age < 2:
        time.sleep(2 - age)
    hit = "%s -q --cache %s %s" % (BIN, d, url)
    # Stored once, then a hit verified byte for byte.
    for _ in range(2):
        run_tool("rangecat", hit.split(), out, sums["m256"])
    entry = [os.path.join(d, f) for f in os.listdir(d)
             if f.endswith(".data")][0]
    cmds = {"cat ENTRY > /dev/null": "cat %s > /dev/null" % entry,
            "rangecat --cache (hit) > /dev/null": hit + " > /dev/null",
            "cat ENTRY | cat": "cat %s | cat > /dev/null" % entry,
            "rangecat --cache (hit) | cat": hit + " | cat > /dev/null",
            "rangecat (no cache) > /dev/null": "%s -q %s > /dev/null" % (
                BIN, url),
            "rangecat --cache (miss, stores) > /dev/null":
            "rm -rf %s; %s > /dev/null" % (d, hit)}
    log("cache: 256 MiB, loopback")
    times = {k: [] for k in cmds}
    cpu = {k: [] for k in cmds}
    check = []
    import resource
    for r in range(max(REPEAT, 5)):
        for k, c in (cmds.items() if r % 2 == 0
                     else reversed(list(cmds.items()))):
            u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            el, _ = timed(c, shell=True)
            u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            times[k].append(el)
            cpu[k].append(u1.ru_utime + u1.ru_stime - u0.ru_utime -
                          u0.ru_stime)
        # How long checking the entry (size + SHA-256) takes of a hit.
        p = subprocess.run("%s -v --cache %s %s > /dev/null" % (BIN, d, url),
                           shell=True, capture_output=True, text=True)
        stamps = {}
        for line in p.stderr.splitlines():
            for tag in ("cache: HTTP 304", "cache: hit"):
                if tag in line:
                    stamps[tag] = float(line[1:line.index("]")])
        if len(stamps) == 2:
            check.append(stamps["cache: hit"] - stamps["cache: HTTP 304"])
    med = {k: statistics.median(v) for k, v in times.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    rows = [(k, "%.3f s" % v, "%.0f MiB/s" % (256 / v), "%.3f s" % mcpu[k])
            for k, v in med.items()]
    if check:
        rows.append(("of a hit: checking the entry (size, SHA-256)",
                     "%.3f s" % statistics.median(check), "", ""))

    def ratio(a, b):
        return ("%.2f" % (med[a] / med[b]), "", "%.2f" % (
            mcpu[a] / mcpu[b]))
    rows.append(("cache hit ÷ cat, /dev/null",) + ratio(
        "rangecat --cache (hit) > /dev/null", "cat ENTRY > /dev/null"))
    rows.append(("cache hit ÷ cat, pipe",) + ratio(
        "rangecat --cache (hit) | cat", "cat ENTRY | cat"))
    rows.append(("miss that stores ÷ no cache",) + ratio(
        "rangecat --cache (miss, stores) > /dev/null",
        "rangecat (no cache) > /dev/null"))
    load = os.getloadavg()[0]
    table("cache: 256 MiB, loopback",
          ["command", "median time", "rate", "median CPU (user+sys)"],
          rows, "Load average %.1f on %d cores during the run. A hit is "
          "one conditional request (304), the entry's size and SHA-256 "
          "checked before its first byte is written, then the file read "
          "from disk (the page cache here). A miss writes and fsyncs its "
          "copy as it streams." % (load, os.cpu_count()))
    shutil.rmtree(d, ignore_errors=True)


def netns_up():
    sh = f"""
set -e
ip netns add {NS_SRV}
ip netns add {NS_CLI}
ip link add rcb0 type veth peer name rcb1
ip link set rcb0 netns {NS_SRV}
ip link set rcb1 netns {NS_CLI}
ip -n {NS_SRV} addr add {SRV_IP}/30 dev rcb0
ip -n {NS_CLI} addr add {CLI_IP}/30 dev rcb1
for ns in {NS_SRV} {NS_CLI}; do ip -n $ns link set lo up; done
ip -n {NS_SRV} link set rcb0 up
ip -n {NS_CLI} link set rcb1 up
tc -n {NS_SRV} qdisc add dev rcb0 root tbf rate 2gbit burst 512kb latency 20ms
tc -n {NS_CLI} qdisc add dev rcb1 root tbf rate 2gbit burst 512kb latency 20ms
"""
    subprocess.run(["bash", "-c", sh], check=True)


def netns_down():
    for ns in (NS_SRV, NS_CLI):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def scenario_link(sums):
    log("link: veth shaped with tbf 2gbit, both ends in our namespaces")
    netns_down()
    netns_up()
    try:
        p = start_nginx("%s:8080" % SRV_IP, ns=NS_SRV)
        wait_port(SRV_IP, 8080, ns=NS_CLI)
        url = "http://%s:8080/g1" % SRV_IP
        out = os.path.join(TMP, "out.bin")
        entries = [("curl (one stream)", "curl",
                    tools_to_file(url, None, out)["curl"]),
                   ("rangecat (defaults)", "rangecat",
                    tools_to_file(url, None, out)["rangecat"]),
                   ("axel -n 8", "axel", tools_to_file(url, 8, out)["axel"])]
        res = rounds(entries, out, sums["g1"], ns=NS_CLI)
        base = res["curl (one stream)"][0]
        table("link: 1 GiB over a veth pair shaped to 2 Gbit/s",
              ["tool", "median time", "rate", "% of curl's rate"],
              [(k, "%.2f s" % v, "%.0f MiB/s" % (1024 / v),
                "%.1f%%" % (100 * base / v)) for k, (v, _) in res.items()])
        p.terminate()
        p.wait()
        procs.remove(p)
    finally:
        netns_down()


# ---------------------------------------------------------------------------
# The latency lab: two namespaces joined by bench/netlink/netlink.

LNS_SRV, LNS_CLI = "rclat-srv", "rclat-cli"
LSRV_IP, LCLI_IP = "10.232.0.1", "10.232.0.2"
NETLINK = os.path.join(HERE, "netlink", "netlink")
SWEEP = [["-n", "4"], ["-n", "16"], ["-n", "24"], ["-n", "32"],
         ["--chunk-size", "1M"], ["--memory", "256M"],
         ["--chunk-size", "16M", "--memory", "256M"],
         ["-n", "16", "--chunk-size", "16M", "--memory", "512M"],
         ["-n", "32", "--chunk-size", "8M", "--memory", "512M"]]
lat_report = []
lat_best = {}


def load():
    return open("/proc/loadavg").read().split()[0]


class Link:
    """The client namespace, the server namespace with nginx, and the
    emulator between them; everything stopped by PID and deleted."""

    def __init__(self, delay_ms, rate_mbit=0, loss=0.0, qlimit=0, cc=None):
        self.args = ["-d", str(delay_ms)]
        self.cc = cc
        self.allowed = None
        if rate_mbit:
            self.args += ["-r", str(rate_mbit), "-q", str(qlimit)]
        if loss:
            self.args += ["-l", str(loss), "-s", "1"]
        else:
            self.args += ["-g"]   # superpackets: loss needs real segments
        self.fwd = self.nginx = None

    def __enter__(self):
        lat_netns_down()
        sh = "set -e; ip netns add %s; ip netns add %s" % (LNS_SRV, LNS_CLI)
        subprocess.run(["bash", "-c", sh], check=True)
        # A link is not a process to be scheduled out: the forwarder
        # runs at a higher priority than the tools sharing the cores.
        self.fwd = subprocess.Popen(
            ["nice", "-n", "-15", NETLINK, "-a", LNS_SRV, "-A", "rclt0",
             "-b", LNS_CLI, "-B",
             "rclt1"] + self.args, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        procs.append(self.fwd)
        if self.fwd.stdout.readline().strip() != "ready":
            raise RuntimeError("netlink: " + self.fwd.stderr.read())
        sh = f"""set -e
ip -n {LNS_SRV} addr add {LSRV_IP} peer {LCLI_IP} dev rclt0
ip -n {LNS_CLI} addr add {LCLI_IP} peer {LSRV_IP} dev rclt1
for ns in {LNS_SRV} {LNS_CLI}; do ip -n $ns link set lo up; done
ip -n {LNS_SRV} link set rclt0 up txqueuelen 10000
ip -n {LNS_CLI} link set rclt1 up txqueuelen 10000
"""
        subprocess.run(["bash", "-c", sh], check=True)
        try:
            if self.cc:
                self.set_cc()
            self.nginx = start_nginx("%s:8080" % LSRV_IP, ns=LNS_SRV,
                                     tls="%s:8443" % LSRV_IP)
            wait_port(LSRV_IP, 8080, ns=LNS_CLI)
        except BaseException:
            self.__exit__(None, None, None)   # the allowed list too
            raise
        return self

    def set_cc(self):
        """Both namespaces on congestion control self.cc. A namespace
        may only pick what the host allows: cc is allowed for the run."""
        allowed = "/proc/sys/net/ipv4/tcp_allowed_congestion_control"
        have = open(allowed).read().split()
        if self.cc not in have:
            self.allowed = " ".join(have)
            with open(allowed, "w") as f:
                f.write(" ".join(have + [self.cc]))
        for ns in (LNS_SRV, LNS_CLI):
            subprocess.run(["ip", "netns", "exec", ns, "sh", "-c",
                            "echo %s > /proc/sys/net/ipv4/"
                            "tcp_congestion_control" % self.cc], check=True)

    def __exit__(self, *exc):
        if self.allowed is not None:
            with open("/proc/sys/net/ipv4/tcp_allowed_congestion_control",
                      "w") as f:
                f.write(self.allowed)
            self.allowed = None
        for p in (self.nginx, self.fwd):
            if p is not None and p in procs:
                p.terminate()
                p.wait()
                procs.remove(p)
        if self.fwd is not None:
            log("  " + self.fwd.stderr.read().strip())
        lat_netns_down()


def lat_netns_down():
    for ns in (LNS_SRV, LNS_CLI):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


def make_cert():
    if os.path.exists(os.path.join(TMP, "tls.crt")):
        return
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=rcbench", "-addext",
                    "subjectAltName=IP:%s" % LSRV_IP,
                    "-keyout", os.path.join(TMP, "tls.key"),
                    "-out", os.path.join(TMP, "tls.crt")],
                   check=True, capture_output=True)


def lat_run(cmd, out, want, ns, timeout):
    """One run of cmd (a shell command writing to out) in namespace ns.
    Returns (seconds, peak RSS) or (None, None) when cut off at
    timeout. A wrong output is fatal for rangecat, recorded for peers."""
    if os.path.exists(out):
        os.unlink(out)
    rss_file = os.path.join(TMP, "rss")
    full = ["/usr/bin/time", "-f", "%M", "-o", rss_file, "bash", "-c",
            "set -o pipefail; " + cmd]
    if ns:
        full = ["ip", "netns", "exec", ns] + full
    t = time.monotonic()
    p = subprocess.Popen(full, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        _, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.communicate()
        return None, None
    el = time.monotonic() - t
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            cmd, p.returncode, err.decode()[-300:]))
    rss = int(open(rss_file).read().split()[-1]) * 1024
    if sha_file(out) != want:
        raise RuntimeError("%s: output differs" % cmd)
    os.unlink(out)
    return el, rss


def lat_cmds(url, out, tls):
    """Shell commands of each tool writing url to out."""
    d, name = os.path.split(out)
    ca = os.path.join(TMP, "tls.crt")
    rc = "%s -q%s" % (BIN, " --cacert " + ca if tls else "")
    return {
        "rc": lambda args: "%s %s %s > %s" % (rc, " ".join(args), url, out),
        "curl": "curl -s%s -o %s %s" % (" --cacert " + ca if tls else "",
                                        out, url),
        "aria2c -x16 -s16": "aria2c -q -x16 -s16 --file-allocation=none "
        "--allow-overwrite=true%s -d %s -o %s %s" % (
            " --ca-certificate=" + ca if tls else "", d, name, url),
        "axel -n 16": "axel -q -n 16%s -o %s %s" % (
            " -k" if tls else "", out, url),
    }


def lat_rounds(entries, out, want, ns, repeat=None):
    """REPEAT (or repeat) interleaved rounds of entries ((label, shell
    command) writing out, checked against want). Returns the times and
    the peak RSS by label; a peer that fails or is cut off is logged and
    left out of the round, a rangecat that fails ends the bench."""
    res = {k: [] for k, _ in entries}
    rss = {k: 0 for k, _ in entries}
    for r in range(repeat or REPEAT):
        for label, cmd in (entries if r % 2 == 0 else entries[::-1]):
            try:
                el, m = lat_run(cmd, out, want, ns, 300)
            except RuntimeError as e:
                if label.startswith("rangecat"):
                    raise
                log("  %-34s FAILED: %s" % (label, str(e)[:120]))
                continue
            if el is None:
                log("  %-34s cut off at 300 s" % label)
                continue
            res[label].append(el)
            rss[label] = max(rss[label], m)
            log("  %-34s %6.2f s  %6.1f MiB RSS" % (label, el, m / MB))
    return res, rss


def lat_rows(res, rss, size):
    """Table rows: median, spread, MiB/s, ratio to rangecat's defaults,
    peak RSS."""
    d = statistics.median(res["rangecat (defaults)"])
    rows = []
    for k, v in res.items():
        if not v:
            rows.append((k, "failed", "", "", "", ""))
            continue
        m = statistics.median(v)
        rows.append((k, "%.2f s" % m, "%.2f-%.2f" % (min(v), max(v)),
                     "%.1f" % (size / MB / m), "%.2f" % (m / d),
                     "%.1f MiB" % (rss[k] / MB)))
    return rows


def lat_scenario(key, title, url, size, want, ns, sweep_file=None,
                 curl_once=False, note="", repeat=None):
    """The sweep, then the interleaved rounds (REPEAT, or repeat), then
    one table."""
    out = os.path.join(TMP, "out.bin")
    tls = url.startswith("https")
    c = lat_cmds(url, out, tls)
    l0 = load()
    log("%s: %s" % (key, title))
    # the sweep: one run each on a file of at most 256 MiB
    surl, ssize, swant = sweep_file or (url, size, want)
    sc = lat_cmds(surl, out, tls)
    base, _ = lat_run(sc["rc"]([]), out, swant, ns, 600)
    sweep = [("defaults", base)]
    for args in SWEEP:
        el, _ = lat_run(sc["rc"](args), out, swant, ns, max(1.5 * base, 10))
        sweep.append((" ".join(args), el))
        log("  sweep %-42s %s" % (" ".join(args), "> %.0f s (cut off)" % (
            max(1.5 * base, 10)) if el is None else "%6.2f s" % el))
    best = min((x for x in sweep[1:] if x[1] is not None),
               key=lambda x: x[1])
    lat_best[key] = best[0]
    entries = [("rangecat (defaults)", c["rc"]([])),
               ("rangecat " + best[0], c["rc"](best[0].split())),
               ("aria2c -x16 -s16", c["aria2c -x16 -s16"]),
               ("axel -n 16", c["axel -n 16"])]
    # A best that takes more buffer than the defaults may (5% of the
    # file, 16 MiB at most on a far server) is measured beside the best
    # within it, so that both comparisons are in the table.
    within = [x for x in sweep[1:] if x[1] is not None and
              "--memory" not in x[0]]
    if "--memory" in best[0] and within:
        mine = min(within, key=lambda x: x[1])
        entries.insert(2, ("rangecat %s (the defaults' buffer)" % mine[0],
                           c["rc"](mine[0].split())))
    alt = os.environ.get("BENCH_RC_ALT")
    if alt:   # another build's defaults in the same interleaved rounds
        entries.insert(1, ("rangecat %s (defaults)" % os.environ.get(
            "BENCH_RC_ALT_NAME", "other build"),
            c["rc"]([]).replace(BIN, alt, 1)))
    if not curl_once:
        entries.append(("curl", c["curl"]))
    res, rss = lat_rounds(entries, out, want, ns, repeat)
    if curl_once:
        el, m = lat_run(c["curl"], out, want, ns, 600)
        res["curl (1 run)"] = [el]
        rss["curl (1 run)"] = m
        log("  %-34s %6.2f s" % ("curl (1 run)", el))
    rows = lat_rows(res, rss, size)
    cc = subprocess.run((["ip", "netns", "exec", ns] if ns else []) +
                        ["cat", "/proc/sys/net/ipv4/tcp_congestion_control"],
                        capture_output=True, text=True).stdout.strip()
    lines = ["### %s" % title, "",
             "%s Measured %s, %d runs per tool, TCP congestion control %s. "
             "Load average %s at the start, %s at the end. Sweep on "
             "%d MiB (one run each): %s." % (
                 note, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                 repeat or REPEAT, cc, l0, load(), ssize // MB, ", ".join(
                     "%s %s" % (a, "> %.0f s" % max(1.5 * base, 10)
                                if t is None else "%.2f s" % t)
                     for a, t in sweep)), ""]
    hdr = ["tool", "median", "min-max", "MiB/s", "÷ rangecat defaults",
           "peak RSS"]
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + " --- |" * len(hdr))
    lines += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    lat_report.append("\n".join(lines) + "\n")
    log("\n".join(lines))


def lat_check(link_note):
    """Ping and one curl of 256 MiB through the link, recorded."""
    p = subprocess.run(["ip", "netns", "exec", LNS_CLI, "ping", "-q", "-c",
                        "5", "-i", "0.2", LSRV_IP], capture_output=True,
                       text=True)
    rtt = p.stdout.strip().split("\n")[-1].split("=")[-1].split("/")[1]
    el, _ = lat_run("curl -s -o %s http://%s:8080/m256" % (
        os.path.join(TMP, "out.bin"), LSRV_IP), os.path.join(TMP, "out.bin"),
        SUMS["m256"], LNS_CLI, 300)
    msg = "%s: ping RTT %s ms; curl of 256 MiB (one stream, no cap) " \
        "%.1f MiB/s." % (link_note, rtt, 256 / el)
    log("  " + msg)
    return msg


SUMS = {}


def scenario_latency(port, sums):
    SUMS.update(sums)
    make_cert()
    capped = "http://%s:8080/cap/" % LSRV_IP
    sweep256 = (capped + "m256", 256 * MB, sums["m256"])
    if "timelines" in ONLY or not ONLY:
        with Link(50):
            lat_timelines(capped, sums)
    alt = os.environ.get("BENCH_RC_ALT")
    if alt and "proto" in ONLY:
        with Link(50):
            lat_proto(capped, sums, alt, 100, [
                [], ["-n", "16"], ["--chunk-size", "1M"],
                ["--chunk-size", "16M", "--memory", "256M"]])
        with Link(100):
            lat_proto(capped, sums, alt, 200, [[], ["-n", "16"]])
    if "stripes" in ONLY:
        # the prototype's window: 20 MiB of 1 GiB (rangecat's budget is
        # 51 MiB there; 32 MiB RSS is the target), all of 256 MiB's 5%
        with Link(50):
            lat_stripes(capped, "g1", GB, "100 ms RTT, BBR, 1 GiB",
                        24, 768, 20 << 10)
        with Link(100):
            lat_stripes(capped, "m256", 256 * MB, "200 ms RTT, BBR, "
                        "256 MiB", 24, 512, (256 << 10) // 20)
        with Link(100, cc="cubic"):
            lat_stripes(capped, "m256", 256 * MB, "200 ms RTT, server "
                        "on cubic, 256 MiB", 24, 512, (256 << 10) // 20)
    if "lat100" in ONLY or not ONLY:
        with Link(50):
            note = lat_check("100 ms RTT")
            lat_scenario("lat100", "100 ms RTT, 20 MiB/s per request, "
                         "1 GiB", capped + "g1", GB, sums["g1"], LNS_CLI,
                         sweep256, curl_once=True, note=note)
    if "lat10" in ONLY or not ONLY:
        # between a short path (one stream first, under 2 ms) and a far
        # server (a first reply of 40 ms): stripes, the count starting
        # small
        with Link(5):
            note = lat_check("10 ms RTT")
            lat_scenario("lat10", "10 ms RTT, 20 MiB/s per request, "
                         "1 GiB", capped + "g1", GB, sums["g1"], LNS_CLI,
                         sweep256, curl_once=True, note=note)
    if "lat200" in ONLY or not ONLY:
        with Link(100):
            note = lat_check("200 ms RTT")
            lat_scenario("lat200", "200 ms RTT, 20 MiB/s per request, "
                         "256 MiB", capped + "m256",
                         256 * MB, sums["m256"], LNS_CLI, curl_once=True,
                         note=note)
    if "latcubic" in ONLY or not ONLY:
        with Link(100, cc="cubic"):
            note = lat_check("200 ms RTT, server and client on cubic")
            lat_scenario("latcubic", "200 ms RTT, 20 MiB/s per request, "
                         "256 MiB, server on cubic", capped + "m256",
                         256 * MB, sums["m256"], LNS_CLI, curl_once=True,
                         note=note)
    if "latloss" in ONLY or not ONLY:
        # the bottleneck's queue holds one bandwidth-delay product
        with Link(50, rate_mbit=1000, loss=0.001, qlimit=12500000):
            note = lat_check("100 ms RTT, 0.1% loss each way, 1 Gbit/s, "
                             "queue 12.5 MB, 1500-byte packets")
            # Loss makes single runs vary by 1.5x (3.5-5.5 s): three
            # times the rounds, so that medians tell builds apart.
            lat_scenario("latloss", "100 ms RTT, 0.1% loss, 1 Gbit/s "
                         "bottleneck, no per-request cap, 256 MiB",
                         "http://%s:8080/m256" % LSRV_IP, 256 * MB,
                         sums["m256"], LNS_CLI, note=note,
                         repeat=3 * REPEAT)
    if "lattls" in ONLY or not ONLY:
        with Link(50):
            lat_scenario("lattls", "100 ms RTT, HTTPS, 20 MiB/s per "
                         "request, 256 MiB",
                         "https://%s:8443/cap/m256" % LSRV_IP, 256 * MB,
                         sums["m256"], LNS_CLI, curl_once=True,
                         note="TLS 1.3, ECDSA P-256, nginx.")
    if "latlimit" in ONLY or not ONLY:
        with Link(50):
            lat_scenario("latlimit", "100 ms RTT, nginx limit_conn 1, no "
                         "per-request cap, 256 MiB",
                         "http://%s:8080/one/m256" % LSRV_IP, 256 * MB,
                         sums["m256"], LNS_CLI, note="nginx answers 503 "
                         "to a request while another is being processed.")
    if "loopcap" in ONLY or not ONLY:
        lat_scenario("loopcap", "loopback, 20 MiB/s per request, 256 MiB",
                     "http://127.0.0.1:%d/cap/m256" % port, 256 * MB,
                     sums["m256"], None, curl_once=True, note="No emulator.")
    if "loopfree" in ONLY or not ONLY:
        lat_scenario("loopfree", "loopback, no limit, 1 GiB",
                     "http://127.0.0.1:%d/g1" % port, GB, sums["g1"], None,
                     ("http://127.0.0.1:%d/m256" % port, 256 * MB,
                      sums["m256"]), note="No emulator.")
    if "sizes" in ONLY or not ONLY:
        with Link(50):
            lat_sizes(capped, sums)


def lat_sizes(capped, sums):
    out = os.path.join(TMP, "out.bin")
    files = [("m1", "1 MiB"), ("m16", "16 MiB"), ("m256", "256 MiB")]
    if os.environ.get("BENCH_LAT_4G"):
        files.append(("g4", "4 GiB"))
    l0 = load()
    log("sizes: 100 ms RTT, capped")
    tools = ["rangecat (defaults)", "curl", "aria2c -x16 -s16", "axel -n 16"]
    rows = []
    for name, label in files:
        c = lat_cmds(capped + name, out, False)
        cmds = {"rangecat (defaults)": c["rc"]([]), "curl": c["curl"],
                "aria2c -x16 -s16": c["aria2c -x16 -s16"],
                "axel -n 16": c["axel -n 16"]}
        res = {k: [] for k in tools}
        rss = {k: 0 for k in tools}
        reps = 1 if name == "g4" else REPEAT
        for r in range(reps):
            for k in (tools if r % 2 == 0 else tools[::-1]):
                if name in ("m256", "g4") and k == "curl" and r:
                    continue   # a capped single stream: once is enough
                try:
                    el, m = lat_run(cmds[k], out, sums[name], LNS_CLI, 600)
                except RuntimeError as e:
                    if k.startswith("rangecat"):
                        raise
                    log("  %s %s FAILED: %s" % (label, k, str(e)[:100]))
                    continue
                res[k].append(el)
                rss[k] = max(rss[k], m)
                log("  %-8s %-22s %7.2f s %6.1f MiB" % (label, k, el,
                                                       m / MB))
        d = statistics.median(res["rangecat (defaults)"])
        rows.append([label] + [
            "%.2f s (%.2f×, %.0f MiB)" % (statistics.median(res[k]),
                                         statistics.median(res[k]) / d,
                                         rss[k] / MB)
            if res[k] else "failed" for k in tools])
    lines = ["### sizes: 100 ms RTT, 20 MiB/s per request", "",
             "Median time (÷ rangecat defaults, peak RSS). Load average %s "
             "at the start, %s at the end. The 1 GiB row is lat100's." % (
                 l0, load()), ""]
    hdr = ["file"] + tools
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + " --- |" * len(hdr))
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lat_report.append("\n".join(lines) + "\n")
    log("\n".join(lines))


def lat_stripes(capped, name, size, title, conns, chunk_kib, window_kib):
    """bench/stripes.py against rangecat's defaults, aria2c and axel."""
    out = os.path.join(TMP, "out.bin")
    url = capped + name
    c = lat_cmds(url, out, False)
    peak_file = os.path.join(TMP, "stripes.peak")
    proto = "prototype: %d connections, %d KiB chunks, 8 per request, " \
        "%.1f MiB window" % (conns, chunk_kib, window_kib / 1024)
    entries = [(proto, "STRIPES_PEAK=%s python3 %s %s %d %d %d 8 > %s" % (
                   peak_file, os.path.join(HERE, "stripes.py"), url, conns,
                   chunk_kib, window_kib, out)),
               ("rangecat (defaults)", c["rc"]([])),
               ("aria2c -x16 -s16", c["aria2c -x16 -s16"]),
               ("axel -n 16", c["axel -n 16"])]
    if os.path.exists(peak_file):
        os.unlink(peak_file)
    l0 = load()
    log("stripes: %s" % title)
    res, rss = lat_rounds(entries, out, SUMS[name], LNS_CLI)
    peaks = [int(x) for x in open(peak_file).read().split()] \
        if os.path.exists(peak_file) else [0]
    rows = lat_rows(res, rss, size)
    lines = ["### stripes: %s, 20 MiB/s per request" % title, "",
             "The prototype bench/stripes.py (Python, not rangecat) against "
             "the tools, interleaved, %d runs each, every output checked by "
             "sha256. Its bytes held at once: at most %.1f MiB (window "
             "%.1f MiB); its RSS includes Python's own, about 13 MiB. Load "
             "average %s at the start, %s at the end. Measured %s." % (
                 REPEAT, max(peaks) / MB, window_kib / 1024, l0, load(),
                 time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())), ""]
    hdr = ["tool", "median", "min-max", "MiB/s", "÷ rangecat defaults",
           "peak RSS"]
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + " --- |" * len(hdr))
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lat_report.append("\n".join(lines) + "\n")
    log("\n".join(lines))


def lat_proto(capped, sums, alt, rtt, opts):
    """Another build of rangecat (a candidate fix) against this one."""
    sys.path.insert(0, HERE)
    import timeline
    out = os.path.join(TMP, "out.bin")
    url = capped + "m256"
    l0 = load()
    log("proto: %s against %s, %d ms RTT, capped, 256 MiB" % (alt, BIN,
                                                             rtt))
    res, tl = {}, {}
    for r in range(REPEAT):
        for args in (opts if r % 2 == 0 else opts[::-1]):
            for name, b in ((("this build", BIN), ("candidate", alt))
                            if r % 2 == 0 else
                            (("candidate", alt), ("this build", BIN))):
                lg = os.path.join(TMP, "proto.log")
                cmd = "%s -v %s %s 2> %s > %s" % (b, " ".join(args), url,
                                                  lg, out)
                el, _ = lat_run(cmd, out, sums["m256"], LNS_CLI, 300)
                key = (" ".join(args) or "defaults", name)
                res.setdefault(key, []).append(el)
                tl.setdefault(key, []).append(timeline.analyse(lg))
                log("  %-32s %-10s %6.2f s" % (key[0], name, el))
    rows = []
    for a in opts:
        k = " ".join(a) or "defaults"
        base = statistics.median(res[(k, "this build")])
        for name in ("this build", "candidate"):
            v = res[(k, name)]
            t = tl[(k, name)]
            rows.append((k, name, "%.2f s" % statistics.median(v),
                         "%.2f-%.2f" % (min(v), max(v)),
                         "%.2f" % (statistics.median(v) / base),
                         "%.0f" % statistics.median(
                             [x["new_conns"] for x in t]),
                         "%.0f" % statistics.median([x["splits"] for x in t]),
                         "%.0f%%" % statistics.median(
                             [x["wait_pct"] for x in t])))
    lines = ["### candidate fix against this build: %d ms RTT, 20 MiB/s "
             "per request, 256 MiB" % rtt, "",
             "Both builds with -v, interleaved; counts are medians of the "
             "runs' timelines. Load average %s at the start, %s at the "
             "end." % (l0, load()), ""]
    hdr = ["options", "build", "median", "min-max", "÷ this build",
           "new connections", "splits", "waiting for first byte"]
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + " --- |" * len(hdr))
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lat_report.append("\n".join(lines) + "\n")
    log("\n".join(lines))


def lat_timelines(capped, sums):
    sys.path.insert(0, HERE)
    import timeline
    out = os.path.join(TMP, "out.bin")
    url = capped + "m256"
    runs = [("defaults", []), ("-n 16", ["-n", "16"]),
            ("--chunk-size 1M", ["--chunk-size", "1M"]),
            ("--chunk-size 16M --memory 256M",
             ["--chunk-size", "16M", "--memory", "256M"])]
    l0 = load()
    log("timelines: rangecat -v, 100 ms RTT, capped, 256 MiB")
    rows = []
    os.makedirs(os.path.join(OUT, "timelines"), exist_ok=True)
    for label, args in runs:
        lg = os.path.join(TMP, "timeline.log")
        cmd = "%s -v %s %s 2> %s > %s" % (BIN, " ".join(args), url, lg, out)
        el, _ = lat_run(cmd, out, sums["m256"], LNS_CLI, 300)
        r = timeline.analyse(lg)
        rows.append(timeline.row(r, "rangecat " + label))
        keep = os.path.join(OUT, "timelines", "lat100-%s.log.gz" % (
            label.replace("--", "").replace(" ", "")))
        subprocess.run("gzip -9 -c %s > %s" % (lg, keep), shell=True,
                       check=True)
        log("  %-30s %6.2f s" % (label, el))
    lines = ["### timelines: rangecat -v at 100 ms RTT, 20 MiB/s per "
             "request, 256 MiB", "",
             "bench/timeline.py over one -v log each (kept gzipped in "
             "bench/results/timelines/). Shares are of slot-time: "
             "connections × wall. Load average %s at the start, %s at the "
             "end." % (l0, load()), ""]
    lines.append("| " + " | ".join(timeline.HEADER) + " |")
    lines.append("|" + " --- |" * len(timeline.HEADER))
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    lat_report.append("\n".join(lines) + "\n")
    log("\n".join(lines))


def merge_top(path):
    """Replaces the tables of this run's report in RESULTS.md's first
    section (before the first "## "), by title; new ones go at its end."""
    text = open(path).read()
    cut = text.find("\n## ")
    top, rest = (text, "") if cut < 0 else (text[:cut], text[cut:])
    parts = top.split("\n### ")
    title = lambda b: b.split("\n", 1)[0]
    new = {title(b): b for b in report}
    blocks = [new.pop(title(b), b.rstrip("\n") + "\n")
              for b in ["### " + b for b in parts[1:]]]
    blocks += [b for b in report if title(b) in new]
    with open(path, "w") as f:
        f.write(parts[0].rstrip("\n") + "\n\n" + "\n".join(blocks) +
                rest)


def write_latency(t0):
    """Writes the Latency lab section of RESULTS.md: a table replaces the
    one of the same title, new ones go at the section's end; the rest of
    the file is kept. A run of only some scenarios keeps the section's
    header (each scenario's table says when it was measured)."""
    path = os.path.join(OUT, "RESULTS.md")
    text = open(path).read() if os.path.exists(path) else ""
    mark = "\n## Latency lab"
    old, tail, old_head = [], "", None
    if mark in text:
        start = text.index(mark)
        end = text.find("\n## ", start + len(mark))
        sec, tail = (text[start:], "") if end < 0 else (text[start:end],
                                                        text[end:])
        text = text[:start]
        parts = sec.split("\n### ")
        old_head = parts[0].strip("\n").split("\n")
        old = ["### " + b for b in parts[1:]]
    title = lambda b: b.split("\n", 1)[0]
    new = {title(b): b for b in lat_report}
    blocks = [new.pop(title(b), b.rstrip("\n") + "\n") for b in old]
    blocks += [b for b in lat_report if title(b) in new]
    full = not ONLY or set(LATENCY) - {"proto", "stripes"} <= ONLY
    head = ["", "## Latency lab", "",
            "Measured by `BENCH_ONLY=latency make bench` (last whole run "
            "%s): %d "
            "cores, Linux %s, shared with other work (load averages per "
            "table); client and nginx in two network namespaces joined by "
            "bench/netlink/netlink (userspace TUN forwarder at nice -15: "
            "one-way delay, rate, queue, seeded loss; TSO superpackets "
            "except with loss). TCP congestion control %s (unless a table "
            "says otherwise), default socket buffers. %d runs per tool "
            "(unless a table says otherwise), interleaved; medians and "
            "spread; every output checked by sha256. The whole run took "
            "%.0f s." % (
                time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                os.cpu_count(), os.uname().release,
                open("/proc/sys/net/ipv4/tcp_congestion_control").read()
                .strip(), REPEAT, time.time() - t0), ""]
    if not full and old_head:
        head = [""] + old_head + [""]
    with open(path, "w") as f:
        f.write(text.rstrip("\n") + "\n" + "\n".join(head) + "\n" +
                "\n".join(blocks).rstrip("\n") + "\n" + tail)


def main():
    for tool in ("aria2c", "axel", "wget2", "gnuplot", "curl", "nginx"):
        if shutil.which(tool) is None:
            sys.exit("bench: %s is missing (make bench installs it)" % tool)
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(TMP, exist_ok=True)
    t0 = time.time()
    try:
        log("bench: generating data")
        sums = make_data()
        port = free_port()
        start_nginx("127.0.0.1:%d" % port)
        wait_port("127.0.0.1", port)
        scenarios = [("capped", scenario_capped), ("sweep", scenario_sweep),
                     ("straggler", scenario_straggler),
                     ("loopback", scenario_loopback),
                     ("memory", scenario_memory),
                     ("firstbyte", scenario_firstbyte),
                     ("decode", scenario_decode), ("s3", scenario_s3),
                     ("cache", scenario_cache)]
        for name, fn in scenarios:
            if not ONLY or name in ONLY:
                fn(port, sums)
        if not ONLY or "link" in ONLY:
            scenario_link(sums)
        if not ONLY or ONLY & set(LATENCY):
            scenario_latency(port, sums)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        netns_down()
        lat_netns_down()
        shutil.rmtree(TMP, ignore_errors=True)
    if ONLY and ONLY <= set(LATENCY) | {"latency"}:
        write_latency(t0)
        log("bench: results in bench/results/RESULTS.md (Latency lab)")
        return
    cpu = subprocess.run(["bash", "-c", "lscpu | sed -n 's/^Model name: *//p'"],
                         capture_output=True, text=True).stdout.strip()
    head = ["# rangecat benchmarks", "",
            "Measured by `make bench` on %s: %d cores (%s), Linux %s; "
            "nginx %s on loopback; %d runs per tool in alternating order, "
            "medians; every output checked by sha256. %s." % (
                time.strftime("%Y-%m-%d"), os.cpu_count(), cpu,
                os.uname().release,
                subprocess.run(["nginx", "-v"], capture_output=True,
                               text=True).stderr.split("/")[-1].strip(),
                REPEAT, "Total %.0f s" % (time.time() - t0)), "",
            "![throughput against connections](throughput.png)", ""]
    path = os.path.join(OUT, "RESULTS.md")
    if os.environ.get("BENCH_APPEND"):
        # one scenario re-run: add its table to the existing results
        with open(path, "a") as f:
            f.write("\n" + "\n".join(report))
    elif ONLY and os.path.exists(path):
        # Some scenarios: their tables replace those of the same title
        # at the top; the rest of the file, and its header, are kept.
        merge_top(path)
    else:
        with open(os.path.join(OUT, "RESULTS.md"), "w") as f:
            f.write("\n".join(head) + "\n" + "\n".join(report))
    if lat_report:
        write_latency(t0)
    log("bench: results in bench/results/RESULTS.md")


if __name__ == "__main__":
    main()
