#!/usr/bin/env python3
"""Small files and CPU: rangecat against curl on loopback.

Starts its own nginx (plain and TLS, random loopback ports, temporary
prefix), then for 1 KiB, 1 MiB and 100 MB files runs rangecat and curl to
/dev/null in alternating order (BENCH_REPEAT runs each, default 5) under
/usr/bin/time, and prints a Markdown table of median wall time, median
peak RSS, CPU seconds (user + system) per GiB, and rangecat's --stats
peak_buffer. Every output is checked by sha256 once per tool.

Usage: bench/memory.py [FILE...]   (FILE: 1k, 1m, 100m, 1g, tls1g)
RANGECAT_BIN=PATH measures another build (peak_buffer needs this one).
"""
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("RANGECAT_BIN",
                     os.path.join(os.path.dirname(HERE), "rangecat"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
MB = 1 << 20
FILES = {"1k": 1024, "1m": MB, "100m": 100 * 1000 * 1000, "1g": 1 << 30}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("nginx did not start on %d" % port)


def timed(cmd, tmp):
    """(wall s, peak RSS bytes, CPU s) of cmd, stdout to /dev/null."""
    f = os.path.join(tmp, "time")
    t = time.monotonic()
    subprocess.run(["/usr/bin/time", "-f", "%M %U %S", "-o", f] + cmd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    el = time.monotonic() - t
    rss, user, sys_ = open(f).read().split()[-3:]
    return el, int(rss) * 1024, float(user) + float(sys_)


def main():
    wanted = sys.argv[1:] or ["1k", "1m", "100m", "1g", "tls1g"]
    tmp = tempfile.mkdtemp(prefix="rangecat-membench-")
    os.chmod(tmp, 0o755)  # nginx workers run as nobody
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    sums = {}
    for name, size in FILES.items():
        if name not in wanted and "tls" + name not in wanted:
            continue
        h = hashlib.sha256()
        with open(os.path.join(data, name), "wb") as f:
            left = size
            while left:
                b = os.urandom(min(left, 16 * MB))
                h.update(b)
                f.write(b)
                left -= len(b)
        old = time.time() - 3600
        os.utime(os.path.join(data, name), (old, old))
        sums[name] = h.hexdigest()
    port, tport = free_port(), free_port()
    key, cert = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off; worker_processes 1; pid %(t)s/nginx.pid;
error_log %(t)s/error.log; events { worker_connections 1024; }
http { access_log off; keepalive_requests 100000;
  client_body_temp_path %(t)s/b; proxy_temp_path %(t)s/p;
  fastcgi_temp_path %(t)s/f; uwsgi_temp_path %(t)s/u; scgi_temp_path %(t)s/s;
  server { listen 127.0.0.1:%(p)d; root %(d)s; }
  server { listen 127.0.0.1:%(tp)d ssl; ssl_certificate %(c)s;
           ssl_certificate_key %(k)s; root %(d)s; } }
""" % {"t": tmp, "p": port, "tp": tport, "d": data, "c": cert, "k": key})
    ng = subprocess.Popen(["nginx", "-c", conf, "-p", tmp],
                          stderr=subprocess.DEVNULL)
    rows = []
    try:
        wait_port(port)
        wait_port(tport)
        for w in wanted:
            tls = w.startswith("tls")
            name = w[3:] if tls else w
            url = ("https://127.0.0.1:%d/%s" % (tport, name) if tls else
                   "http://127.0.0.1:%d/%s" % (port, name))
            ca = ["--cacert", cert] if tls else []
            tools = {"rangecat": [BIN, "-q"] + ca + [url],
                     "curl": ["curl", "-sf"] + ca + [url]}
            for tool, cmd in tools.items():
                out = subprocess.run(cmd, capture_output=True,
                                     check=True).stdout
                assert hashlib.sha256(out).hexdigest() == sums[name], tool
            st = subprocess.run([BIN, "-q", "--stats"] + ca + [url],
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True).stderr
            peak = (st.split("peak_buffer=")[1].split()[0]
                    if "peak_buffer=" in st else "-")
            res = {t: [] for t in tools}
            for r in range(REPEAT):
                order = list(tools.items())
                for tool, cmd in (order if r % 2 == 0 else order[::-1]):
                    res[tool].append(timed(cmd, tmp))
            med = {t: [statistics.median(x[i] for x in v) for i in range(3)]
                   for t, v in res.items()}
            gib = FILES[name] / (1 << 30)
            rc, cu = med["rangecat"], med["curl"]
            # time(1) counts CPU in 10 ms steps: per GiB only for big files
            cpu = (lambda c: "%.2f s/GiB" % (c / gib) if gib >= 0.09
                   else "%.0f ms" % (c * 1000))
            rows.append("| %s%s | %.4f s | %.4f s | %.2f | %.1f MiB | "
                        "%.1f MiB | %s | %s | %s |" % (
                            "TLS " if tls else "", name, rc[0], cu[0],
                            rc[0] / cu[0], rc[1] / MB, cu[1] / MB,
                            cpu(rc[2]), cpu(cu[2]), peak))
            print(rows[-1], flush=True)
    finally:
        ng.terminate()
        ng.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\n| file | rangecat time | curl time | ratio | rangecat RSS | "
          "curl RSS | rangecat CPU | curl CPU | peak_buffer |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
