#!/usr/bin/env python3
"""What real servers answer to multi-range requests (Range: bytes=a-b,c-d):
nginx, Apache httpd, lighttpd and Ceph RGW, each started as the
integration tests start them (tests/integration/run.py), on loopback.
Prints one markdown table. For bench/stripes.py's design notes; not part
of make check. Needs what make check needs (the servers, python3-boto3).
"""
import os
import re
import shutil
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests",
                                "integration"))
sys.argv = sys.argv[:1]
import run as T  # noqa: E402

SIZE = 4 << 20


def spaced(n):
    return ",".join("%d-%d" % (k * 1000, k * 1000 + 9) for k in range(n))


ASKS = [("two ranges", "0-9,100-109"),
        ("adjacent", "0-9,10-19"),
        ("overlapping", "0-9,5-19"),
        ("out of order", "100-109,0-9"),
        ("8 ranges", spaced(8)),
        ("10 ranges", spaced(10)),
        ("11 ranges", spaced(11)),
        ("200 ranges", spaced(200)),
        ("201 ranges", spaced(201))]


def describe(status, headers, body):
    """A reply in a few words: status, parts and the ranges they name."""
    ct = re.search(rb"^content-type: *([^;\r\n]*)", headers, re.I | re.M)
    ct = ct.group(1).decode() if ct else ""
    if status == 200:
        return "200, %d bytes (the whole file)" % len(body)
    if status != 206:
        return str(status)
    if ct.lower() == "multipart/byteranges":
        parts = re.findall(rb"content-range: *bytes (\d+)-(\d+)/", body,
                           re.I)
        first = "%s-%s" % (parts[0][0].decode(), parts[0][1].decode()) \
            if parts else "-"
        return "206 multipart, %d parts (first %s)" % (len(parts), first)
    cr = re.search(rb"^content-range: *bytes (\d+)-(\d+)/", headers,
                   re.I | re.M)
    return "206 one part, %s-%s" % (cr.group(1).decode(),
                                    cr.group(2).decode()) if cr else "206"


def ask_http(base, rng):
    m = re.match(r"http://([\d.]+):(\d+)(/.*)", base)
    s = socket.create_connection((m.group(1), int(m.group(2))))
    s.sendall(("GET %sf HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=%s\r\n"
               "Connection: close\r\n\r\n" % (m.group(3), rng)).encode())
    d = b""
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        d += b
    s.close()
    head, _, body = d.partition(b"\r\n\r\n")
    return int(head.split()[1]), head, body


def main():
    env = T.Env()
    try:
        env.add("f", os.urandom(SIZE))
        env.start_nginx()
        servers = [("nginx", "http://127.0.0.1:%d/" % env.port),
                   ("Apache httpd", env.apache()),
                   ("lighttpd", env.lighttpd())]
        rows = {}
        for name, base in servers:
            rows[name] = [describe(*ask_http(base, rng)) for _, rng in ASKS]
        try:
            import boto3
            ep = env.s3()   # starts the gateway and waits for it
            k = env.s3keys
            c = boto3.client("s3", endpoint_url=ep,
                             region_name="us-east-1",
                             aws_access_key_id=k["access"],
                             aws_secret_access_key=k["secret"])
            c.create_bucket(Bucket="rc-multirange")
            c.put_object(Bucket="rc-multirange", Key="f", Body=env.files["f"])
            out = []
            for _, rng in ASKS:
                try:
                    r = c.get_object(Bucket="rc-multirange", Key="f",
                                     Range="bytes=" + rng)
                    meta = r["ResponseMetadata"]
                    h = "".join("%s: %s\r\n" % kv for kv in
                                meta["HTTPHeaders"].items()).encode()
                    out.append(describe(meta["HTTPStatusCode"], h,
                                        r["Body"].read()))
                except Exception as e:   # a 4xx is an answer too
                    out.append(str(e).split(":")[0][:60])
            rows["Ceph RGW"] = out
        except Exception as e:
            sys.stderr.write("multirange: no RGW: %s\n" % e)
        names = list(rows)
        print("| asked | " + " | ".join(names) + " |")
        print("|" + " --- |" * (len(names) + 1))
        for i, (label, _) in enumerate(ASKS):
            print("| %s | %s |" % (label, " | ".join(rows[n][i]
                                                    for n in names)))
    finally:
        env.stop()
        shutil.rmtree(env.work, ignore_errors=True)


if __name__ == "__main__":
    main()
