#!/usr/bin/env python3
"""Integration tests: the real rangecat binary against real servers.

Starts nginx (temporary prefix, random loopback ports: plain HTTP, a
location with ranges off, one without ETags, a rate-limited one, two that
label every file Content-Encoding: gzip, and TLS with HTTP/2 on a
certificate made now) and our fault server, then runs
each case and compares stdout byte for byte (sha256) with the source.
Every case also fails if stderr shows a secret the test used. Servers are
stopped by PID. The scratch directory is kept when a case fails.

Usage: run.py [-k SUBSTRING] [--valgrind]
Ends with the line "N passed, N failed, N skipped".
"""
import base64
import glob
import hashlib
import os
import json
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.join(ROOT, "rangecat")
SECRET = "S3cr3t-T0ken-do-not-print"
KB, MB = 1024, 1024 * 1024
SIZES = [0, 1, 2, 64 * KB - 1, 64 * KB, 64 * KB + 1, 256 * KB - 1, 256 * KB,
         256 * KB + 1, 4 * MB - 1, 4 * MB, 4 * MB + 1, 20 * MB]
BIG = 256 * MB

passed = failed = skipped = 0
only = None
valgrind = False
keep = False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def sha(data):
    return hashlib.sha256(data).hexdigest()


def file_sha(path):
    """The sha256 of a file, read in 16 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(16 * MB), b""):
            h.update(b)
    return h.hexdigest()


class Env:
    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="rangecat-it-")
        os.chmod(self.work, 0o755)   # nginx workers run as nobody
        self.data = os.path.join(self.work, "data")
        os.makedirs(self.data)
        self.files = {}
        self.procs = []
        # Called by stop() after the servers, last first (farlink.py's
        # links: their processes and namespaces).
        self.cleanups = []

    def make_data(self):
        for n in SIZES:
            self.add("f%d" % n, os.urandom(n))
        # The big file is written in pieces, never held twice.
        h = hashlib.sha256()
        with open(os.path.join(self.data, "big"), "wb") as f:
            for _ in range(BIG // (16 * MB)):
                b = os.urandom(16 * MB)
                h.update(b)
                f.write(b)
        t = time.time() - 3600
        os.utime(os.path.join(self.data, "big"), (t, t))
        self.big_sha = h.hexdigest()

    def add(self, name, data):
        path = os.path.join(self.data, name)
        with open(path, "wb") as f:
            f.write(data)
        # An hour old: a Last-Modified within a second of Date is weak
        # (RFC 9110 8.8.2.2), and rangecat would probe such a file twice.
        # cases_validators.py tests that; the other cases need not wait.
        t = time.time() - 3600
        os.utime(path, (t, t))
        self.files[name] = data

    def start_nginx(self):
        self.port = free_port()
        self.tls_port = free_port()
        key = os.path.join(self.work, "key.pem")
        self.cert = os.path.join(self.work, "cert.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", self.cert, "-days", "2",
             "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        w, d = self.work, self.data
        self.access_log = os.path.join(w, "access.log")
        conf = f"""
daemon off;
worker_processes 2;
pid {w}/nginx.pid;
error_log {w}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  log_format t '$connection $status "$http_range" "$http_if_match" '
               '"$http_if_unmodified_since" "$http_authorization" '
               '$body_bytes_sent $uri';
  access_log {self.access_log} t;
  client_body_temp_path {w}/tmp-body;
  proxy_temp_path {w}/tmp-proxy;
  fastcgi_temp_path {w}/tmp-fcgi;
  uwsgi_temp_path {w}/tmp-uwsgi;
  scgi_temp_path {w}/tmp-scgi;
  default_type application/octet-stream;
  keepalive_requests 100000;
  limit_conn_zone $binary_remote_addr zone=perip:1m;
  # A request to the big file's last byte (the one stream asks the rest
  # of the file) at 4 MiB/s under /streamslow/; other ranges at once.
  map $http_range $stream_rate {{ "~-{BIG - 1}$" 4m; default 0; }}
  server {{
    listen 127.0.0.1:{self.port};
    root {d};
    location /one/ {{ alias {d}/; limit_conn perip 1; }}
    location /norange/ {{ alias {d}/; max_ranges 0; }}
    location /noetag/ {{ alias {d}/; etag off; }}
    location /slow/ {{ alias {d}/; limit_rate 1m; sendfile_max_chunk 64k; }}
    location /streamslow/ {{
      alias {d}/; limit_rate $stream_rate; sendfile_max_chunk 64k;
    }}
    location /burst/ {{
      alias {d}/; limit_rate_after 64m; limit_rate 8m;
      sendfile_max_chunk 64k;
    }}
    location /labelled/ {{ alias {d}/; add_header Content-Encoding gzip; }}
    location /labelled-noetag/ {{
      alias {d}/; etag off; add_header Content-Encoding gzip;
    }}
  }}
  server {{
    listen 127.0.0.1:{self.tls_port} ssl http2;
    ssl_certificate {self.cert};
    ssl_certificate_key {key};
    root {d};
    location = /tohttp {{ return 302 http://127.0.0.1:{self.port}/f4194304; }}
  }}
}}
"""
        path = os.path.join(w, "nginx.conf")
        with open(path, "w") as f:
            f.write(conf)
        p = subprocess.Popen(["nginx", "-c", path, "-p", w],
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_port(self.port)
        wait_port(self.tls_port)

    def start_faults(self):
        p = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "faultserver.py"), self.data],
            stdout=subprocess.PIPE, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        self.fport = int(line.split()[1])

    # Apache httpd and lighttpd (issue 11: validators, 416 without
    # Content-Range), started on first use on loopback random ports with
    # a config written here, in the foreground, stopped by PID with the
    # rest. /noetag/ sends no ETag, /norange/ ignores Range, and on
    # Apache /gz/ compresses for a client that asks (the "-gzip" ETag).
    def apache(self):
        if getattr(self, "apache_port", None):
            return "http://127.0.0.1:%d/" % self.apache_port
        self.apache_port = free_port()
        w, d = self.work, self.data
        mods = "/usr/lib/apache2/modules"
        conf = f"""
ServerRoot {w}
ServerName 127.0.0.1
Listen 127.0.0.1:{self.apache_port}
PidFile {w}/apache.pid
DefaultRuntimeDir {w}
Mutex file:{w} default
ErrorLog {w}/apache-error.log
User nobody
Group nogroup
""" + "".join("LoadModule %s_module %s/mod_%s.so\n" % (m, mods, m) for m in (
            "mpm_event", "authz_core", "alias", "headers", "filter",
            "deflate", "mime")) + f"""
TypesConfig /etc/mime.types
EnableMMAP off
EnableSendfile off
MaxKeepAliveRequests 0
DocumentRoot {d}
<Directory {d}>
  Require all granted
</Directory>
Alias /noetag/ {d}/
Alias /norange/ {d}/
Alias /gz/ {d}/
<Location /noetag/>
  FileETag None
</Location>
<Location /norange/>
  RequestHeader unset Range
</Location>
<Location /gz/>
  SetOutputFilter DEFLATE
</Location>
"""
        path = os.path.join(w, "apache.conf")
        with open(path, "w") as f:
            f.write(conf)
        p = subprocess.Popen(["apache2", "-f", path, "-DFOREGROUND"],
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_port(self.apache_port)
        return "http://127.0.0.1:%d/" % self.apache_port

    def lighttpd(self):
        if getattr(self, "lighttpd_port", None):
            return "http://127.0.0.1:%d/" % self.lighttpd_port
        self.lighttpd_port = free_port()
        w, d = self.work, self.data
        conf = f"""
server.document-root = "{d}"
server.bind = "127.0.0.1"
server.port = {self.lighttpd_port}
server.pid-file = "{w}/lighttpd.pid"
server.username = "nobody"
server.groupname = "nogroup"
server.stat-cache-engine = "disable"
server.modules = ("mod_alias")
mimetype.assign = ("" => "application/octet-stream")
alias.url = ("/noetag/" => "{d}/", "/norange/" => "{d}/")
$HTTP["url"] =~ "^/noetag/" {{ static-file.etags = "disable" }}
$HTTP["url"] =~ "^/norange/" {{ server.range-requests = "disable" }}
"""
        path = os.path.join(w, "lighttpd.conf")
        with open(path, "w") as f:
            f.write(conf)
        p = subprocess.Popen(["lighttpd", "-D", "-f", path],
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        wait_port(self.lighttpd_port)
        return "http://127.0.0.1:%d/" % self.lighttpd_port

    def start_auth(self):
        """Two auth servers: the origin and a second host to redirect to.
        Their secrets travel in the environment, as rangecat's do."""
        tag = secrets.token_hex(6)
        self.auth_env = {
            "AUTH_TOKEN": "tok-" + tag + "-Bearer-Secret",
            "AUTH_USER": "alice",
            "AUTH_PASSWORD": "pw-" + tag + " with space:colon",
            "AUTH_HEADER_VALUE": "apikey-" + tag,
            "AUTH_HMAC_KEY": "hmackey-" + tag,
            "AUTH_HMAC_KEY_ID": "key-7",
            "AUTH_CLIENT_ID": "client-1",
            "AUTH_CLIENT_SECRET": "cs-" + tag + "&=+",
            "AUTH_TOKEN_TTL": "2",
        }
        self.secrets = [v for k, v in self.auth_env.items()
                        if k not in ("AUTH_USER", "AUTH_HMAC_KEY_ID",
                                     "AUTH_CLIENT_ID", "AUTH_TOKEN_TTL")]
        # What travels on the wire: the Basic pair, encoded.
        self.secrets.append(base64.b64encode(("%s:%s" % (
            self.auth_env["AUTH_USER"],
            self.auth_env["AUTH_PASSWORD"])).encode()).decode())
        self.aport = self.spawn_auth()
        self.aport2 = self.spawn_auth()

    def start_s3(self):
        """Starts the Ceph gateway in the background: it takes 15 s or so,
        spent while the other cases run. s3() waits for it."""
        self.s3dir = os.path.join(self.work, "ceph")
        os.makedirs(self.s3dir)
        self.s3proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "s3server.py"), self.s3dir],
            stdout=subprocess.PIPE, text=True)
        self.procs.append(self.s3proc)
        self.s3port = None

    def s3(self):
        if getattr(self, "s3proc", None) is None:
            self.start_s3()
        if self.s3port is None:
            line = self.s3proc.stdout.readline()
            expect(line.startswith("PORT "), "the S3 server did not start: "
                   + line.strip())
            self.s3port = int(line.split()[1])
            self.stsport = int(line.split()[3])
            with open(os.path.join(self.s3dir, "keys.json")) as f:
                self.s3keys = json.load(f)
            SECRETS.append(self.s3keys["secret"])
        return "http://127.0.0.1:%d" % self.s3port

    def spawn_auth(self):
        e = dict(os.environ)
        e.update(self.auth_env)
        p = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "authserver.py"), self.data],
            stdout=subprocess.PIPE, text=True, env=e)
        self.procs.append(p)
        return int(p.stdout.readline().split()[1])

    def aurl(self, path, port=None):
        return "http://127.0.0.1:%d/%s" % (port or self.aport, path)

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                # The S3 server stops its Ceph daemons first.
                p.wait(timeout=30 if p is getattr(self, "s3proc", None)
                       else 10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # the rest are still undone
                print("cleanup: %s" % e, flush=True)

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.port, path)

    def furl(self, token, spec, name):
        return "http://127.0.0.1:%d/f/%s/%s/%s" % (self.fport, token, spec,
                                                   name)


def wait_port(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server on port %d did not start" % port)


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err


def run(env, args, stdout_path=None, append=False, timeout=120, stdin=None,
        envvars=None, shell_stdout=None, netns=None):
    """Runs rangecat; stdout goes to a file that is read back. netns: in
    that network namespace (a far link's client side, farlink.py)."""
    out_path = stdout_path or os.path.join(env.work, "out")
    if not append and os.path.exists(out_path):
        os.unlink(out_path)
    cmd = [BIN] + args
    if valgrind:
        cmd = ["valgrind", "-q", "--error-exitcode=99",
               "--leak-check=full", "--errors-for-leak-kinds=definite"] + cmd
    if netns:
        cmd = ["ip", "netns", "exec", netns] + cmd
    e = dict(os.environ)
    e.pop("http_proxy", None)
    e.pop("https_proxy", None)
    if envvars:
        e.update(envvars)
    with open(out_path, "ab" if append else "wb") as out:
        p = subprocess.run(cmd, stdout=shell_stdout or out,
                           stderr=subprocess.PIPE, timeout=timeout,
                           stdin=stdin or subprocess.DEVNULL, env=e)
    with open(out_path, "rb") as f:
        data = f.read()
    err = p.stderr.decode(errors="replace")
    if valgrind:  # its own notes, e.g. on a syscall it does not know
        err = re.sub(r"(?m)^--\d+-- .*\n", "", err)
    return Result(p.returncode, data, err)


def case(name):
    def deco(fn):
        fn.case_name = name
        CASES.append(fn)
        return fn
    return deco


CASES = []


class Fail(Exception):
    pass


class Skip(Exception):
    """Raised by a case that cannot run on this machine; says why."""


def expect(cond, what):
    if not cond:
        raise Fail(what)


SECRETS = [SECRET]


def expect_run(r, rc, want=None, err=None, quiet=False):
    for s in SECRETS:
        expect(s not in r.err, "a secret appeared on stderr")
        expect(s.encode() not in r.out, "a secret appeared on stdout")
    expect(r.rc == rc, "exit %d, wanted %d; stderr: %s" % (r.rc, rc,
                                                         r.err[-600:]))
    if want is not None:
        expect(sha(r.out) == sha(want),
               "output differs: %d bytes, wanted %d" % (len(r.out),
                                                        len(want)))
    if err is not None:
        expect(re.search(err, r.err), "stderr lacks /%s/: %s" % (
            err, r.err[-600:]))
    if quiet:
        expect(r.err == "", "stderr not empty: %s" % r.err[-300:])


def resume(env, r, want, extra_ok=False):
    """Runs the printed resume command, appending, and checks the file."""
    m = re.search(r"delivered (\d+) bytes; resume with: (.*)$", r.err, re.M)
    expect(m, "no resume hint: %s" % r.err[-400:])
    n = int(m.group(1))
    expect(n == len(r.out), "hint says %d bytes, %d were written" % (
        n, len(r.out)))
    expect(want[:n] == r.out, "delivered bytes are not a prefix")
    argv = shlex.split(m.group(2))
    expect(argv[0] == "rangecat", "resume command: %s" % m.group(2))
    r2 = run(env, argv[1:], append=True)
    expect_run(r2, 0, want)
    return n


# ---------------------------------------------------------------- cases

@case("sizes around chunk boundaries, default settings")
def t_sizes(env):
    for n in SIZES:
        r = run(env, ["-q", env.url("f%d" % n)])
        expect_run(r, 0, env.files["f%d" % n], quiet=True)


@case("connection counts 1, 2, 8, 32 with small and default chunks")
def t_conns(env):
    for n in ("1", "2", "8", "32"):
        for chunk in ([], ["--chunk-size", "64K"]):
            for size in (4 * MB + 1, 20 * MB):
                name = "f%d" % size
                r = run(env, ["-n", n] + chunk + [env.url(name)])
                expect_run(r, 0, env.files[name])


@case("256 MiB file, default and -n 32")
def t_big(env):
    for extra in ([], ["-n", "32"]):
        out = os.path.join(env.work, "bigout")
        p = subprocess.run([BIN] + extra + [env.url("big")],
                           stdout=open(out, "wb"), stderr=subprocess.PIPE,
                           timeout=300)
        expect(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
        got = file_sha(out)
        os.unlink(out)
        expect(got == env.big_sha, "256 MiB output differs")


@case("keep-alive: many chunks reuse at most N connections")
def t_keepalive(env):
    before = open(env.access_log).read().count("\n")
    r = run(env, ["-v", "--stats", "-n", "4", "--chunk-size", "64K",
                  env.url("f20971520")])
    expect_run(r, 0, env.files["f20971520"])
    time.sleep(0.3)
    lines = open(env.access_log).read().splitlines()[before:]
    mine = [l for l in lines if l.endswith("/f20971520")]
    conns = {l.split()[0] for l in mine}
    expect(len(mine) > 300, "only %d requests" % len(mine))
    # A range that looks slow (a loaded machine makes some do) may be
    # split onto a fresh connection, and a retry may open one: those are
    # allowed, one connection per request (300 and more) is not.
    splits = len(re.findall(r"\] split: ", r.err))
    m = re.search(r"stats: .*retries=(\d+)", r.err)
    extra = splits + (int(m.group(1)) if m else 0)
    expect(len(conns) <= 4 + extra,
           "%d connections for -n 4 (%d splits and retries)"
           % (len(conns), extra))
    # Every request after the probe pins the version with If-Match.
    # nginx logs at completion, so the probe is found by its range.
    fields = [re.match(r'(\d+) (\d+) "([^"]*)" "([^"]*)"', l) for l in mine]
    probe = [m for m in fields if m.group(3).startswith("bytes=0-")]
    later = [m for m in fields if not m.group(3).startswith("bytes=0-")]
    expect(len(probe) == 1 and probe[0].group(4) == "-",
           "the probe carried If-Match")
    expect(all(m.group(4).startswith("\\x22") for m in later),
           "a later request lacks If-Match")


@case("Last-Modified only: pinned with If-Unmodified-Since")
def t_lastmod(env):
    before = open(env.access_log).read().count("\n")
    # -n 8: on loopback the defaults keep one stream after the probe.
    r = run(env, ["--chunk-size", "64K", "-n", "8", "-v",
                  env.url("noetag/f4194305")])
    expect_run(r, 0, env.files["f4194305"], err="validator Last-Modified")
    time.sleep(0.3)
    mine = [l for l in open(env.access_log).read().splitlines()[before:]
            if l.endswith("/noetag/f4194305")]
    expect(len(mine) > 10, "only %d requests" % len(mine))
    later = [l for l in mine if '"bytes=0-' not in l]
    expect(len(later) == len(mine) - 1 and all("GMT" in l for l in later),
           "later requests lack If-Unmodified-Since")


@case("TLS with --cacert, over HTTP/2")
def t_tls(env):
    url = "https://127.0.0.1:%d/f20971520" % env.tls_port
    r = run(env, ["-v", "--cacert", env.cert, url])
    expect_run(r, 0, env.files["f20971520"], err=r"< HTTP/2 206")
    r = run(env, ["--retries", "0", url])
    expect_run(r, 3, b"", err=r"TLS|certificate")
    r = run(env, ["-k", "-n", "32", url])
    expect_run(r, 0, env.files["f20971520"])


@case("server ignores Range: one correct stream")
def t_norange(env):
    for n in (0, 1, 262145, 20 * MB):
        r = run(env, [env.url("norange/f%d" % n)])
        expect_run(r, 0, env.files["f%d" % n])
    data = env.files["f20971520"]
    r = run(env, ["-C", "1000", env.url("norange/f20971520")])
    expect_run(r, 0, data[1000:])
    r = run(env, ["-r", "5-9", env.url("norange/f20971520")])
    expect_run(r, 0, data[5:10])


@case("fallbacks: chunked, weak ETag, no validator, Last-Modified")
def t_fallbacks(env):
    data = env.files["f4194305"]
    for i, spec in enumerate(("chunked", "weak", "noetag", "lm")):
        r = run(env, ["-v", env.furl("fb%d" % i, spec, "f4194305")])
        expect_run(r, 0, data)
        if spec in ("weak", "noetag"):
            expect("one stream" in r.err, spec + ": not one stream")
    for n in (0, 1):
        r = run(env, [env.furl("fbc%d" % n, "chunked", "f%d" % n)])
        expect_run(r, 0, env.files["f%d" % n])


@case("-C offsets: 0, middle, last byte, at the end, past the end")
def t_continue(env):
    data = env.files["f4194305"]
    url = env.url("f4194305")
    for off in (0, 1, 262144, len(data) - 1):
        r = run(env, ["-C", str(off), url])
        expect_run(r, 0, data[off:])
    r = run(env, ["-C", str(len(data)), url])
    expect_run(r, 0, b"", quiet=True)
    r = run(env, ["-C", str(len(data) + 1), url])
    expect_run(r, 2, b"", err=r"past the end of the file \(size %d bytes\)"
               % len(data))
    r = run(env, ["-C", "5", env.url("f0")])
    expect_run(r, 2, b"", err=r"size 0 bytes")


@case("-C - appends to the file stdout is opened on, and only that")
def t_continue_append(env):
    data = env.files["f20971520"]
    path = os.path.join(env.work, "partial")
    with open(path, "wb") as f:
        f.write(data[:7777777])
    r = run(env, ["-C", "-", env.url("f20971520")], stdout_path=path,
            append=True)
    expect_run(r, 0, data)
    r = run(env, ["-C", "-", env.url("f20971520")], stdout_path=path,
            append=True)
    expect_run(r, 0, data)   # complete already: nothing appended
    r = run(env, ["-C", "-", env.url("f1")])   # opened without O_APPEND
    expect_run(r, 1, b"", err=r"opened for append")
    p = subprocess.run([BIN, "-C", "-", env.url("f1")], capture_output=True)
    expect(p.returncode == 1 and b">>" in p.stderr, "pipe not refused")


@case("-r ranges: A-B, A-, -N, past the end")
def t_range(env):
    data = env.files["f4194305"]
    url = env.url("f4194305")
    for spec, want in (("0-0", data[:1]), ("10-99", data[10:100]),
                       ("262144-", data[262144:]),
                       ("100-99999999", data[100:]),
                       ("-1", data[-1:]), ("-300000", data[-300000:]),
                       ("-99999999", data),
                       ("%d-%d" % (len(data) - 1, len(data) - 1),
                        data[-1:])):
        r = run(env, ["-r", spec, url])
        expect_run(r, 0, want)
    # A range that starts at the size names no byte: exit 2 (curl gets a
    # 416), where -C at the size is a finished download (exit 0).
    for spec, u in (("%d-" % (len(data) + 5), url), ("%d-" % len(data), url),
                    ("%d-%d" % (len(data), len(data)), url),
                    ("%d-" % len(data), env.url("norange/f4194305"))):
        r = run(env, ["-r", spec, u])
        expect_run(r, 2, b"", err=r"offset %d is past the end of the file "
                   r"\(size %d bytes\)" % (int(spec.split("-")[0]),
                                             len(data)))
    # The same from a reply of unknown length (chunked): known at its end.
    for spec, code, want in (("%d-" % len(data), 2, b""),
                             ("%d-%d" % (len(data) - 1, len(data) - 1), 0,
                              data[-1:])):
        r = run(env, ["-r", spec, env.furl("rc-%s" % spec, "chunked",
                                           "f4194305")])
        expect_run(r, code, want, err=r"past the end" if code else None)
    r = run(env, ["-C", str(len(data) + 1),
                  env.furl("rc-C", "chunked", "f4194305")])
    expect_run(r, 2, b"", err=r"offset %d is past the end" % (len(data) + 1))
    # An empty file's "0-": servers send it whole and empty, as for curl.
    r = run(env, ["-r", "0-", env.url("f0")])
    expect_run(r, 0, b"", quiet=True)
    r = run(env, ["-C", str(len(data)), url])
    expect_run(r, 0, b"", quiet=True)
    # -o FILE with -r: the second run finds the range complete.
    path = os.path.join(env.work, "range-o")
    for _ in range(2):
        r = run(env, ["-r", "%d-" % (len(data) - 10), "-o", path, url])
        expect(r.rc == 0, "-r with -o: exit %d: %s" % (r.rc, r.err))
        with open(path, "rb") as f:
            expect(f.read() == data[-10:], "-r with -o: wrong bytes")


@case("--if-match: the kept ETag passes, another exits 4")
def t_if_match(env):
    r = run(env, ["-v", env.url("f65536")])
    m = re.search(r'validator ETag ("[^"]+")', r.err)
    expect(m, "no validator shown with -v: " + r.err[-300:])
    r = run(env, ["--if-match", m.group(1), env.url("f65536")])
    expect_run(r, 0, env.files["f65536"])
    r = run(env, ["--if-match", '"nope"', env.url("f65536")])
    expect_run(r, 4, b"", err=r"changed|HTTP 412")


# The fault matrix: each fault of tests/integration/faultserver.py with
# the outcome it must have. "exact" = byte-exact output after retries;
# a number = that exit status, with stderr matching the pattern. Every
# case must end within its budget (seconds): no fault may hang rangecat.
MATRIX = [
    # spec            outcome  stderr pattern                 budget
    ("reset@0",       "exact", r"retry", 20),
    ("reset@3",       "exact", r"retry", 20),
    ("reset@2x3",     "exact", r"retry", 20),
    ("trunc@4",       "exact", r"retry", 20),
    ("short@2",       "exact", r"short reply", 20),
    ("badcr@3",       "exact", r"does not start where asked", 20),
    ("crlong@2",      "exact", r"ends past the range", 20),
    ("crover@2",      "exact", r"without a valid Content-Range", 20),
    ("full@2",        "exact", r"ignored the Range", 20),
    ("s503@2x2",      "exact", r"HTTP 503", 20),
    ("s429@3",        "exact", r"HTTP 429", 20),
    ("s500@1",        "exact", r"HTTP 500", 20),
    ("s500@2x4",      "exact", r"HTTP 500", 30),
    ("gzip@2",        "exact", r"Content-Encoding", 20),
    ("enc",           "exact", r"Content-Encoding gzip: written as stored",
     20),
    ("enc,encoff@2",  "exact", r"Content-Encoding differs", 20),
    ("enc,encbr@3x2", "exact", r"Content-Encoding differs", 20),
    ("enc,weak",      3, r"Content-Encoding .*no strong ETag", 20),
    ("enc,noetag",    3, r"Content-Encoding .*no strong ETag", 20),
    ("enc,lm",        3, r"Content-Encoding .*no strong ETag", 20),
    ("multi@3",       "exact", r"multipart", 20),
    ("twocl@2",       3, r"malformed reply.*two different", 20),
    ("hugecl@0",      3, r"malformed reply.*too large", 20),
    ("hugecl@3",      3, r"malformed reply.*too large", 20),
    ("stall@2",       "exact", r"retry", 20),
    ("trickle@3",     "exact", r"retry", 20),
    ("hugehdr@2",     "exact", r"retry", 20),
    ("endless@2",     "exact", r"no data for 1 s", 20),
    ("manyhdr@2",     "exact", r"headers over 256 KiB", 20),
    ("extra@2",       "exact", r"", 20),
    ("slow@3",        "exact", r"split: bytes", 20),
    ("slow@1x3",      "exact", r"split: bytes", 20),
    ("redirect",      "exact", r"final URL", 20),
    ("redirect,reset@4", "exact", r"retry", 20),
    ("loop",          2, r"too many redirects", 20),
    ("tofile",        2, r"scheme other than http", 20),
    ("toftp",         2, r"scheme other than http", 20),
    ("togopher",      2, r"scheme other than http", 20),
    ("s404@0",        2, r"HTTP 404", 20),
    ("s500@0x9",      3, r"gave up after 5 retries", 20),
    ("etag@0",        "exact", r"", 20),   # the probe sets the version
    ("etag@2",        4, r"HTTP 412", 20),
    ("etagx@2",       4, r"ETag changed", 20),
    ("total@2",       4, r"size changed", 20),
]


def matrix_case(spec, outcome, pattern, budget):
    def fn(env):
        data = env.files["f20971520"]
        # Behind a per-request cap (cap), where the one stream a short
        # path starts with gives way to ranges: the faults of request 2
        # and after are ranges' (without it, on loopback, the stream
        # stays and there is no request 2).
        r = run(env, ["--retry-delay", "50ms", "--stall-timeout", "1",
                      "--chunk-size", "1M", "-v",
                      env.furl("mx-" + spec, "cap," + spec, "f20971520")],
                timeout=budget)
        if outcome == "exact":
            # A slow run (valgrind) may split the faulty range away before
            # the fault fires: that handles it as well as a retry does.
            evidence = r"retry|split: " if pattern == r"retry" else pattern
            expect_run(r, 0, data, err=evidence)
        else:
            expect_run(r, outcome, None, err=pattern)
            expect(data[:len(r.out)] == r.out, "output is not a prefix")
    fn.__name__ = "t_fault_" + spec
    fn.case_name = "fault %s -> %s" % (spec, outcome)
    CASES.append(fn)


for _row in MATRIX:
    matrix_case(*_row)


SOAK_FAULTS = ["reset", "trunc", "short", "badcr", "crlong", "crover",
               "full", "s503", "s429", "s500", "gzip", "multi", "twocl",
               "hugecl", "stall", "s404", "etag", "etagx", "extra",
               "manyhdr", "slow"]


# Faults after which the file counts as changed: exit 4 is then honest.
SOAK_CHANGING = ("etag", "etagx")
# The kinds no retry gets past: the run (or a resume) ends honestly.
SOAK_FATAL = ("s404",) + SOAK_CHANGING


def soak_changes(faults):
    """Whether a soak spec changes the file as rangecat sees it: a new
    ETag, or a 200 "whole file" cut short (full and short on one
    request: its length names another size, which is exit 4 as a
    Content-Range naming another total is; seed 1796179503 drew it)."""
    at = {}
    for f in faults:
        kind, rest = f.split("@")
        n, c = (int(v) for v in rest.split("x"))
        at.setdefault(kind, set()).update(range(n, n + c))
    return (any(k in SOAK_CHANGING for k in at) or
            bool(at.get("full", set()) & at.get("short", set())))


@case("seeded soak: random faults, offsets, -n and chunk sizes")
def t_soak(env):
    """Each run ends byte-exact, or fails honestly: exit 2/3, after which
    its resume hint (repeated while it keeps failing honestly; the same
    command again when nothing was delivered, from the start when the
    server cannot resume) completes the exact file; or exit 4 with only
    old bytes, and only when the spec changed the file. At least
    SOAK_MIN_EXACT of the runs end exact at once. RANGECAT_SOAK_RUNS and
    RANGECAT_SOAK_SEED set the size and the seed."""
    import random
    runs = int(os.environ.get("RANGECAT_SOAK_RUNS", "30"))
    seed = int(os.environ.get("RANGECAT_SOAK_SEED", str(int(time.time()))))
    print("soak: seed %d, %d runs (RANGECAT_SOAK_SEED=%d replays)" % (
        seed, runs, seed), flush=True)
    rnd = random.Random(seed)
    names = ["f%d" % n for n in SIZES if n > 64 * KB] + ["f20971520"] * 3
    st = dict(exact=0, honest=0, resumed=0, changed=0, faults=0, bytes=0)
    for i in range(runs):
        name = rnd.choice(names)
        data = env.files[name]
        faults = []
        for _ in range(rnd.choice((0, 1, 1, 2, 3))):
            kind = rnd.choice(SOAK_FAULTS)
            faults.append("%s@%dx%d" % (kind, rnd.randint(0, 12),
                                        rnd.choice((1, 1, 2, 3))))
        spec = ",".join(faults) or "-"
        changes = soak_changes(faults)
        st["faults"] += len(faults)
        args = ["-n", rnd.choice(("1", "2", "4", "8", "16", "32")),
                "--chunk-size", rnd.choice(("64K", "256K", "1M", "4M")),
                "--retries", "3", "--retry-delay", "10ms",
                "--stall-timeout", "1"]
        url = env.furl("soak%d-%d" % (seed, i), spec, name)
        where = "run %d (seed %d): %s %s" % (i, seed, " ".join(args), url)
        r = run(env, args + [url], timeout=120)
        st["bytes"] += len(r.out)
        expect(SECRET not in r.err, where + ": secret")
        expect(data[:len(r.out)] == r.out, where + ": not a prefix")
        if r.rc == 0:
            expect(r.out == data, where + ": exit 0, output differs")
            st["exact"] += 1
            continue
        expect(r.rc in (2, 3, 4), where + ": exit %d: %s" % (
            r.rc, r.err[-300:]))
        st["honest"] += 1
        if r.rc == 4:
            expect(changes, where + ": exit 4, but the file did not "
                   "change: " + r.err[-300:])
            expect(re.search(r"changed|HTTP 412", r.err), where + ": exit 4")
            st["changed"] += 1
            continue
        # Exit 2 or 3: follow the hints until the file is exact. Each
        # resume starts at least one request later in the token's count,
        # so faults pass; ten rounds cover three faults of three requests
        # each with room to spare.
        argv, before, done = args + [url], 0, False
        for attempt in range(10):
            m = re.search(r"delivered (\d+) bytes; resume with: (.*)$",
                          r.err, re.M)
            append = True
            if m:
                expect(int(m.group(1)) == len(r.out) - before,
                       where + ": hint count differs from bytes written")
                argv = shlex.split(m.group(2))[1:]
                expect(shlex.split(m.group(2))[0] == "rangecat",
                       where + ": hint: " + m.group(2))
            elif "cannot be resumed" in r.err:
                argv, append = args + [url], False   # start over
            else:
                expect(len(r.out) == before,
                       where + ": no hint after %d bytes: %s" % (
                           len(r.out) - before, r.err[-300:]))
                # nothing delivered: the same command again
            before = len(r.out) if append else 0
            r = run(env, argv, append=append, timeout=120)
            st["bytes"] += len(r.out) - before
            expect(SECRET not in r.err, where + ": secret")
            expect(data[:len(r.out)] == r.out, where + ": resume prefix")
            if r.rc == 0:
                expect(r.out == data, where + ": resumed file differs")
                done = True
                break
            expect(r.rc in (2, 3) or (r.rc == 4 and changes),
                   where + ": resume %d exit %d: %s" % (
                       attempt + 1, r.rc, r.err[-300:]))
            if r.rc == 4:
                done = True   # the file changed: honest, nothing to finish
                st["changed"] += 1
                break
        expect(done, where + ": not exact after 10 resumes: %s" %
               r.err[-300:])
        st["resumed"] += r.rc == 0
    print("soak: %d runs: %d exact, %d failed honestly (%d resumed to the "
          "exact file, %d ended on a changed file), %d faults injected, "
          "%.1f MB compared" % (
              runs, st["exact"], st["honest"], st["resumed"], st["changed"],
              st["faults"], st["bytes"] / 1e6), flush=True)
    # The floor. A fault is one of len(SOAK_FAULTS) kinds, of which
    # SOAK_FATAL (3 of 21) end a run whatever it retries; a run has 0-3
    # faults, 1.4 on average, so about 1 - (18/21)^1.4 = 20% of runs
    # should fail honestly and 80% end exact. 50% leaves room for a
    # small, unlucky sample (30 runs: a standard deviation of 7 points)
    # and still fails when recoverable faults start ending runs.
    floor = 0.5
    expect(st["exact"] >= floor * runs,
           "seed %d: only %d of %d runs exact (floor %d%%)" % (
               seed, st["exact"], runs, floor * 100))


@case("Retry-After is honoured (seconds)")
def t_retry_after(env):
    t = time.time()
    r = run(env, ["--retry-delay", "10ms", "-v",
                  env.furl("ra", "s503@1", "f4194305")])
    expect_run(r, 0, env.files["f4194305"], err=r"retry 1/5 in 1\.0 s")
    expect(time.time() - t >= 0.9, "did not wait for Retry-After")


@case("a file changed mid-run: exit 4, only old bytes, no resume")
def t_changed(env):
    data = env.files["f20971520"]
    # Behind a per-request cap (cap), ranges follow the probe and the
    # stream (on loopback without it the one stream stays).
    for spec in ("cap,etag@3", "cap,etagx@3", "cap,total@3"):
        r = run(env, ["--chunk-size", "1M",
                      env.furl("chg-" + spec, spec, "f20971520")])
        expect_run(r, 4, None, err=r"changed|HTTP 412")
        expect(data[:len(r.out)] == r.out, "bytes are not the old prefix")
        expect(len(r.out) < len(data), "all bytes delivered")
        if r.out:
            expect(re.search(r"delivered %d bytes of the earlier version"
                             % len(r.out), r.err), "no honest count")


@case("fatal errors mid-run print the exact resume command")
def t_resume(env):
    data = env.files["f20971520"]
    # -n 1: one stream, so the third failure in a row is deterministic.
    for spec, rc, msg, n in (("s404@4", 2, r"HTTP 404", "8"),
                             ("s500@1x3", 3, r"gave up after 2 retries",
                              "1")):
        r = run(env, ["--retries", "2", "--retry-delay", "10ms",
                      "--chunk-size", "1M", "-n", n,
                      env.furl("res-" + spec, spec, "f20971520")])
        expect_run(r, rc, None, err=msg)
        expect(len(r.out) > 0, "nothing delivered before the failure")
        resume(env, r, data)
    # A range keeps its end in the resume command.
    r = run(env, ["--retries", "0", "-r", "1000-15000000", "--chunk-size",
                  "1M", env.furl("res-r", "cap,s404@5", "f20971520")])
    expect_run(r, 2, None, err=r"resume with: rangecat -r \d+-15000000")
    m = re.search(r"resume with: (.*)$", r.err, re.M)
    r2 = run(env, shlex.split(m.group(1))[1:], append=True)
    expect_run(r2, 0, data[1000:15000001])
    # A password in the URL is not repeated; the hint says where it goes.
    url = env.furl("res-u", "cap,s404@5", "f20971520").replace(
        "//", "//alice:" + SECRET + "@", 1)
    r = run(env, ["--retries", "0", "--chunk-size", "1M", url])
    expect_run(r, 2, None, err=r"resume with: rangecat .*\[redacted\]@"
               r"(.|\n)*give it as RANGECAT_USER and RANGECAT_PASSWORD")


@case("errors before any byte: 404, refused connection, redirects")
def t_early_errors(env):
    r = run(env, [env.url("nope")])
    expect_run(r, 2, b"", err=r"HTTP 404")
    expect("resume" not in r.err, "resume hint with nothing delivered")
    r = run(env, ["--retries", "1", "--retry-delay", "10ms",
                  "http://127.0.0.1:%d/x" % free_port()])
    expect_run(r, 3, b"", err=r"gave up after 1 retries")
    r = run(env, [env.furl("loop", "loop", "f1")])
    expect_run(r, 2, b"", err=r"too many redirects")
    r = run(env, [env.furl("tofile", "tofile", "f1")])
    expect_run(r, 2, b"", err=r"redirect to a scheme other than http")


@case("output: closed reader, full disk, closed stdout, signals")
def t_output(env):
    url = env.url("f20971520")
    p = subprocess.run(
        "set -o pipefail; %s %s | head -c 100 | wc -c" % (BIN, url),
        shell=True, executable="/bin/bash", capture_output=True, timeout=60)
    expect(p.returncode == 0 and p.stdout.strip() == b"100" and
           p.stderr == b"", "head -c 100: rc %d, %r" % (p.returncode,
                                                          p.stderr))
    p = subprocess.run([BIN, url], stdout=open("/dev/full", "wb"),
                       stderr=subprocess.PIPE, timeout=60)
    expect(p.returncode == 5 and b"No space" in p.stderr,
           "/dev/full: rc %d %r" % (p.returncode, p.stderr))
    p = subprocess.run("%s %s >&-" % (BIN, url), shell=True,
                       capture_output=True, timeout=60)
    expect(p.returncode == 5 and b"stdout is closed" in p.stderr,
           "closed stdout: rc %d %r" % (p.returncode, p.stderr))
    data = env.files["f20971520"]
    for sig, rc in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        out = os.path.join(env.work, "sig")
        with open(out, "wb") as f:
            p = subprocess.Popen([BIN, "-n", "2", env.url("slow/f20971520")],
                                 stdout=f, stderr=subprocess.PIPE)
            time.sleep(1.5)
            p.send_signal(sig)
            err = p.communicate(timeout=30)[1].decode()
        r = Result(p.returncode, open(out, "rb").read(), err)
        expect_run(r, rc, None, err=r"interrupted|terminated")
        expect(len(r.out) > 0, "nothing delivered before the signal")
        m = re.search(r"resume with: (.*)$", r.err, re.M)
        expect(m, "no resume hint after signal")
        argv = shlex.split(m.group(1))[1:]
        argv = [a.replace("/slow/", "/") for a in argv]
        r2 = run(env, argv, stdout_path=out, append=True)
        expect_run(r2, 0, data)


@case("fd limit: -n beyond the open-file limit is lowered, not fatal")
def t_fdlimit(env):
    url = env.url("f20971520")
    p = subprocess.run("ulimit -Sn 40; ulimit -Hn 40; exec %s -n 256 %s"
                       % (BIN, url), shell=True, executable="/bin/bash",
                       capture_output=True, timeout=60)
    r = Result(p.returncode, p.stdout, p.stderr.decode())
    expect_run(r, 0, env.files["f20971520"],
               err=r"-n 256 lowered to 24: the open-file limit is 40")
    # A soft limit below the hard one is simply raised: no notice.
    p = subprocess.run("ulimit -Sn 40; ulimit -Hn 4096; exec %s -n 256 %s"
                       % (BIN, url), shell=True, executable="/bin/bash",
                       capture_output=True, timeout=60)
    r = Result(p.returncode, p.stdout, p.stderr.decode())
    expect_run(r, 0, env.files["f20971520"], quiet=True)


@case("a reader that stops: rangecat waits in fixed memory, then ends")
def t_stopped_reader(env):
    url = env.url("big")
    r_fd, w_fd = os.pipe()
    p = subprocess.Popen([BIN, "--memory", "16M", url], stdout=w_fd,
                         stderr=subprocess.PIPE)
    os.close(w_fd)
    time.sleep(2)     # nobody reads: the pipe and the ring fill up
    status = open("/proc/%d/status" % p.pid).read()
    rss = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024
    expect(p.poll() is None, "exited while the reader was stopped")
    h = hashlib.sha256()
    while True:
        b = os.read(r_fd, 1 << 20)
        if not b:
            break
        h.update(b)
    os.close(r_fd)
    err = p.communicate(timeout=120)[1]
    expect(p.returncode == 0, "exit %d: %r" % (p.returncode, err))
    expect(h.hexdigest() == env.big_sha, "output differs")
    # The ring is 16 MiB; the process around it (libcurl, TLS, stacks)
    # stays far below 48 MiB whatever the file size. (A sanitizer build's
    # shadow memory says nothing about that.)
    if not sanitized():
        expect(rss < 48 * MB, "RSS %.1f MiB with --memory 16M" % (rss / MB))


@case("a non-blocking stdout is waited on, not failed")
def t_nonblock(env):
    url = env.url("f20971520")
    code = ("import fcntl,os,subprocess,sys,time\n"
            "r,w=os.pipe()\n"
            "fl=fcntl.fcntl(w,fcntl.F_GETFL)\n"
            "fcntl.fcntl(w,fcntl.F_SETFL,fl|os.O_NONBLOCK)\n"
            "p=subprocess.Popen([sys.argv[1],sys.argv[2]],stdout=w)\n"
            "os.close(w)\n"
            "import hashlib;h=hashlib.sha256();n=0\n"
            "time.sleep(0.5)\n"
            "while True:\n"
            "  b=os.read(r,1<<16)\n"
            "  if not b: break\n"
            "  h.update(b);n+=len(b)\n"
            "print(p.wait(),n,h.hexdigest())\n")
    p = subprocess.run([sys.executable, "-c", code, BIN, url],
                       capture_output=True, text=True, timeout=120)
    rc, n, h = p.stdout.split()
    expect(rc == "0" and h == sha(env.files["f20971520"]),
           "rc %s, %s bytes: %s" % (rc, n, p.stderr[-300:]))


@case("usage errors exit 1 with one clear line")
def t_usage(env):
    for args, pat in (([], r"no URL"),
                      (["ftp://h/x"], r"only http"),
                      (["http://h/a b"], r"space or control"),
                      (["-n", "0", "http://h/x"], r"--connections"),
                      (["-n", "10000", "http://h/x"], r"--connections"),
                      (["--chunk-size", "12Q", "http://h/x"], r"suffix"),
                      (["-C", "1", "-r", "1-2", "http://h/x"],
                       r"--continue-at and --range"),
                      (["--memory", "1M", "--chunk-size", "4M",
                        "http://h/x"], r"--memory"),
                      (["--bogus", "http://h/x"], r"unknown option"),
                      (["-r", "9-1", "http://h/x"], r"before its start"),
                      (["http://h/x", "-C", "1", "http://h/y"],
                       r"--continue-at applies to one URL"),
                      ([""], r"bad URL: the URL is empty"),
                      (["example.com/x"], r"bad URL: it names no scheme"),
                      (["http:/h/x"], r"followed by // and the host"),
                      (["http://h/" + "a" * 10000], r"longer than")):
        r = run(env, args)
        expect_run(r, 1, b"", err=pat)
        expect(r.err.count("\n") == 1 and r.err.startswith("rangecat: "),
               "not one line: %r" % r.err)
    r = run(env, ["--help"])
    expect_run(r, 0, None, quiet=True)
    expect(b"usage: rangecat" in r.out, "--help text")
    r = run(env, ["--version"])
    expect(r.rc == 0 and b"libcurl" in r.out and b"libarchive" in r.out,
           "--version")


@case("secrets: -H credentials never reach stderr, even with -v")
def t_secrets(env):
    url = env.url("f4194305")
    r = run(env, ["-v", "-H", "Authorization: Bearer " + SECRET, url])
    expect_run(r, 0, env.files["f4194305"])
    r = run(env, ["-H", "X-Api-Key: " + SECRET, "--retries", "0",
                  "--chunk-size", "1M",
                  env.furl("sec", "s404@3", "f20971520")])
    expect_run(r, 2, None, err=r"X-Api-Key: \[redacted\]")


@case("progress: line mode for logs, nothing when not a TTY")
def t_progress(env):
    r = run(env, ["--progress=line", env.url("slow/f4194305")])
    expect_run(r, 0, env.files["f4194305"],
               err=r"rangecat: done: 4\.0 MiB in [0-9.]+ s")
    r = run(env, [env.url("f4194305")])
    expect_run(r, 0, env.files["f4194305"], quiet=True)


# ------------------------------------------------- decode and unpack

# RANGECAT_EXTERN names the reference archives when the checkout is not
# beside shared/ (a git worktree, say).
EXTERN = os.environ.get("RANGECAT_EXTERN") or os.path.join(
    os.path.dirname(ROOT), "shared", "extern", "archives")


def sh(cmd, cwd=None):
    subprocess.run(["bash", "-c", "set -eo pipefail; " + cmd], check=True,
                   cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_sample(env):
    """A compressible 6 MiB file, and a tree with files, modes, links."""
    if "sample" in env.files:
        return
    text = b"".join(b"line %d of the sample, some words to squeeze\n" % i
                    for i in range(120000))
    data = text + os.urandom(512 * KB) + text[:1000000]
    env.add("sample", data)
    tree = os.path.join(env.work, "tree")
    os.makedirs(os.path.join(tree, "top", "sub", "deep"))
    with open(os.path.join(tree, "top", "sub", "deep", "data.bin"),
              "wb") as f:
        f.write(os.urandom(3 * MB + 17))
    with open(os.path.join(tree, "top", "run.sh"), "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod(os.path.join(tree, "top", "run.sh"), 0o755)
    with open(os.path.join(tree, "top", "secret"), "w") as f:
        f.write("private\n")
    os.chmod(os.path.join(tree, "top", "secret"), 0o600)
    open(os.path.join(tree, "top", "empty"), "w").close()
    os.symlink("sub/deep/data.bin", os.path.join(tree, "top", "link"))
    os.link(os.path.join(tree, "top", "run.sh"),
            os.path.join(tree, "top", "hard"))
    os.utime(os.path.join(tree, "top", "secret"), (1000000000, 1000000000))
    env.tree = tree
    d = env.data
    sh("tar -cf %s/t.tar top" % d, cwd=tree)
    sh("tar -czf %s/t.tgz top" % d, cwd=tree)
    sh("tar -cJf %s/t.txz top" % d, cwd=tree)
    sh("tar -cjf %s/t.tbz top" % d, cwd=tree)
    sh("tar --zstd -cf %s/t.tar.zst top" % d, cwd=tree)
    sh("tar -I lz4 -cf %s/t.tar.lz4 top" % d, cwd=tree)
    sh("zip -q -r --symlinks %s/t.zip top" % d, cwd=tree)
    sh("find top | cpio -o -H newc --quiet > %s/t.cpio" % d, cwd=tree)
    s = os.path.join(d, "sample")
    sh("zstd -q -19 -c %s > %s.zst" % (s, s))
    sh("gzip -c %s > %s.gz" % (s, s))
    sh("xz -c %s > %s.xz" % (s, s))
    sh("bzip2 -c %s > %s.bz2" % (s, s))
    sh("lz4 -q -c %s > %s.lz4" % (s, s))
    # --long=31 from a pipe: the frame declares a 2 GiB window.
    sh("cat %s | zstd -q --long=31 -c > %s.long.zst" % (s, s))
    sh("zstd -q -c %s > %s.f1 && zstd -q -c %s > %s.f2 && "
       "cat %s.f1 %s.f2 > %s.multi.zst" % (s, s, s, s, s, s, s))
    for name in os.listdir(EXTERN):
        shutil.copy(os.path.join(EXTERN, name), os.path.join(d, name))
    # corrupt and truncated copies
    z = open(s + ".zst", "rb").read()
    env.add("sample.trunc.zst", z[:len(z) // 2])
    bad = bytearray(z)
    bad[len(bad) // 3] ^= 0xff
    env.add("sample.bad.zst", bytes(bad))


def zstd_version():
    """The libzstd version rangecat links, from --version."""
    out = subprocess.run([BIN, "--version"], capture_output=True,
                         text=True).stdout
    m = re.search(r"zstd (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups())


def tree_ok(src, dst):
    """Files, modes, link targets and file mtimes agree."""
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        for n in dirs + files:
            a, b = os.path.join(root, n), os.path.join(dst, rel, n)
            if os.path.islink(a):
                if not os.path.islink(b) or os.readlink(a) != \
                        os.readlink(b):
                    return "link %s" % b
                continue
            if not os.path.exists(b):
                return "missing %s" % b
            sa, sb = os.lstat(a), os.lstat(b)
            if (sa.st_mode & 0o7777) != (sb.st_mode & 0o7777):
                return "mode of %s" % b
            if os.path.isfile(a):
                if open(a, "rb").read() != open(b, "rb").read():
                    return "content of %s" % b
                if int(sa.st_mtime) != int(sb.st_mtime):
                    return "mtime of %s" % b
    return None


@case("-d: zstd, gzip, xz, bzip2, lz4 decode by magic and by name")
def t_decode(env):
    make_sample(env)
    data = env.files["sample"]
    for ext, fmt in ((".zst", "zstd"), (".gz", "gzip"), (".xz", "xz"),
                     (".bz2", "bzip2"), (".lz4", "lz4"),
                     (".long.zst", "zstd"), (".multi.zst", "zstd")):
        want = data * 2 if "multi" in ext else data
        for arg in ("-d", "--decompress=" + fmt, "-d" + fmt):
            r = run(env, [arg, "-n", "4", "--chunk-size", "256K",
                          env.url("sample" + ext)])
            expect_run(r, 0, want)
    # the concatenations libarchive's tests use: every member decodes
    for name in ("test_compat_gzip_1.tgz", "test_compat_bzip2_1.tbz",
                 "test_compat_xz_1.txz", "test_compat_zstd_1.tar.zst"):
        r = run(env, ["-d", env.url(name)])
        expect_run(r, 0, None)
        expect(len(r.out) == 7168, "%s: %d bytes" % (name, len(r.out)))
    for name, size in (("zstd-golden-block-128k.zst", 131068),
                       ("zstd-golden-empty-block.zst", 0),
                       ("zstd-golden-rle-first-block.zst", 1048576)):
        r = run(env, ["-d", env.url(name)])
        expect_run(r, 0, None)
        expect(len(r.out) == size, "%s: %d bytes" % (name, len(r.out)))
    # Valid, but libzstd before 1.5.6 rejects it (a library erratum):
    # rangecat must then fail cleanly, never output garbage.
    ver = zstd_version()
    r = run(env, ["-d", env.url("zstd-golden-zeroSeq_2B.zst")])
    if ver >= (1, 5, 6):
        expect_run(r, 0, None)
    else:
        expect_run(r, 6, b"", err=r"zstd: Src size is incorrect")


@case("-d refuses plain data, trailing garbage, corrupt and cut streams")
def t_decode_errors(env):
    make_sample(env)
    data = env.files["sample"]
    r = run(env, ["-d", env.url("sample")])
    expect_run(r, 6, b"", err=r"not compressed in a known format")
    r = run(env, ["--decompress=auto,passthrough", env.url("sample")])
    expect_run(r, 0, data)
    r = run(env, ["-d=auto,passthrough", env.url("sample.gz")])
    expect_run(r, 0, data)
    r = run(env, ["-d", env.url("sample.trunc.zst")])
    expect_run(r, 6, None, err=r"zstd: the stream is truncated")
    expect(data.startswith(r.out), "a truncated stream gave other bytes")
    r = run(env, ["-d", env.url("sample.bad.zst")])
    expect_run(r, 6, None, err=r"zstd: .* at compressed byte \d+")
    # Corrupt frames that only libzstd 1.5.6 / 1.5.7 and later detect;
    # with an older library rangecat decodes what the library accepts.
    ver = zstd_version()
    for name, fixed in (("zstd-error-off0.bin.zst", (1, 5, 6)),
                        ("zstd-error-zeroSeq_extraneous.zst", (1, 5, 6)),
                        ("zstd-error-truncated_huff_state.zst", (1, 5, 7))):
        r = run(env, ["-d", env.url(name)], timeout=20)
        if ver >= fixed:
            expect_run(r, 6, None, err=r"zstd")
        else:
            expect(r.rc in (0, 6), "%s: exit %d" % (name, r.rc))
    for name in ("test_compat_gzip_2.tgz", "test_compat_bzip2_2.tbz"):
        r = run(env, ["-d", env.url(name)], timeout=20)
        expect_run(r, 6, None, err=r"trailing data")
    # Nested gzip: -d decodes one layer, as gzip -d does, and never lets
    # libarchive stack filters (that took minutes and 16 GB). The outer
    # layer of the first one has a bad CRC.
    r = run(env, ["-d", env.url("test_read_filter_gzip_recursive.gz")],
            timeout=20)
    expect_run(r, 6, b"", err=r"gzip: incorrect data check")
    r = run(env, ["-d", env.url("test_read_too_many_filters.gz")],
            timeout=20)
    want = subprocess.run(["gzip", "-dc", os.path.join(
        env.data, "test_read_too_many_filters.gz")],
        capture_output=True).stdout
    expect_run(r, 0, want)
    bad = bytearray(open(os.path.join(env.data, "sample.gz"), "rb").read())
    bad[-6] ^= 0x01     # the CRC in the trailer
    env.add("sample.badcrc.gz", bytes(bad))
    r = run(env, ["-d", env.url("sample.badcrc.gz")])
    expect_run(r, 6, None, err=r"gzip: incorrect data check")
    r = run(env, ["-d", "-C", "5", env.url("sample.zst")])
    expect_run(r, 1, b"", err=r"cannot be combined with --continue-at")
    # faults below the decoder are repaired as for raw output
    r = run(env, ["-d", "--retry-delay", "10ms", "--chunk-size", "256K",
                  env.furl("dec", "reset@2,s503@4", "sample.zst")])
    expect_run(r, 0, data)


@case("without libarchive: downloads, zstd and gzip work; -x and xz say "
      "what is missing (exit 6), -x before any request")
def t_no_libarchive(env):
    # rangecat loads libarchive only when a run needs it. A private mount
    # of /dev/null over it stands for a system without it.
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise Skip("a private mount needs root and unshare")
    libs = subprocess.run(["ldconfig", "-p"], capture_output=True,
                          text=True).stdout
    m = re.search(r"libarchive\.so\.\d+ \(libc6,x86-64\) => (\S+)", libs)
    expect(m, "no libarchive in ldconfig -p")
    make_sample(env)

    def hidden(args):
        p = subprocess.run(["unshare", "-m", "sh", "-c",
                            'mount --bind /dev/null "$0" && exec "$@"',
                            os.path.realpath(m.group(1)), BIN] + args,
                           capture_output=True, timeout=60)
        return Result(p.returncode, p.stdout,
                      p.stderr.decode(errors="replace"))
    missing = r"rangecat: libarchive is needed here and cannot be loaded"
    r = hidden([env.url("f4194305")])
    expect_run(r, 0, env.files["f4194305"])
    for ext in (".zst", ".gz"):
        r = hidden(["-d", env.url("sample" + ext)])
        expect_run(r, 0, env.files["sample"])
    r = hidden(["-d", env.url("sample.xz")])
    expect_run(r, 6, b"", err=missing)
    dest = os.path.join(env.work, "x-nolib")
    r = hidden(["-v", "-x", dest, env.url("t.tgz")])
    expect_run(r, 6, b"", err=missing)
    expect("GET" not in r.err and not os.path.exists(dest),
           "-x fetched or made its directory first: " + r.err[-300:])
    r = hidden(["--version"])
    expect(r.rc == 0 and b"libarchive (not loaded" in r.out,
           "--version: %d %r" % (r.rc, r.out[-200:]))
    # The same runs with it: the cases above are not vacuous.
    r = run(env, ["-d", env.url("sample.xz")])
    expect_run(r, 0, env.files["sample"])


@case("-x: tar in every compression, zip and cpio round trip")
def t_extract(env):
    make_sample(env)
    for name in ("t.tar", "t.tgz", "t.txz", "t.tbz", "t.tar.zst",
                 "t.tar.lz4", "t.zip", "t.cpio"):
        dest = os.path.join(env.work, "x-" + name)
        r = run(env, ["-x", dest, env.url(name)])
        expect_run(r, 0, b"", quiet=True)
        bad = tree_ok(env.tree, dest)
        if name == "t.zip" and bad and (bad.startswith("mtime") or
                                        bad.startswith("mode")):
            # A zip read as a stream has DOS times (2 s) and no Unix modes:
            # those live in the central directory only.
            bad = None
        expect(bad is None, "%s: %s" % (name, bad))
        if name != "t.zip":
            expect(os.stat(os.path.join(dest, "top", "hard")).st_ino ==
                   os.stat(os.path.join(dest, "top", "run.sh")).st_ino,
                   "%s: hard link not kept" % name)
    dest = os.path.join(env.work, "x-strip")
    r = run(env, ["-x", dest, "--strip-components", "1", env.url("t.tgz")])
    expect_run(r, 0, b"")
    expect(os.path.isfile(os.path.join(dest, "sub", "deep", "data.bin")) and
           not os.path.exists(os.path.join(dest, "top")), "strip 1")


@case("-x refuses what would escape DIR; the safe entries are kept")
def t_extract_hostile(env):
    make_sample(env)
    outside = os.path.join(env.work, "outside")
    cases = [
        ("zip-slip.zip", ["good.txt"]), ("zip-slip.tar", ["good.txt"]),
        ("zip-slip-win.zip", ["good.txt"]),
        ("test_leading_slash.tar", []), ("test_patterns_4.tar", []),
        ("test_symlink_dotdot.zip", None), ("test_symlink_1.zip", None),
        ("test_read_format_zip_size_exceeds_declared_deflate.zip",
         ["second"]),
        ("test_read_format_zip_uncompressed_size_off_by_4gib.zip", []),
    ]
    for name, keep in cases:
        base = os.path.join(env.work, "h-" + name)
        dest = os.path.join(base, "in", "dir")
        r = run(env, ["-x", dest, env.url(name)], timeout=30)
        made = sorted(os.path.relpath(os.path.join(d, f), base)
                      for d, ds, fs in os.walk(base) for f in fs + ds)
        expect(all(m.startswith("in") for m in made) and
               not os.path.exists(outside) and
               not os.path.exists("/tmp/evil.txt") and
               not os.path.exists("/foo"), "%s escaped: %s" % (name, made))
        # no symlink inside DIR may point out of it
        for d, ds, fs in os.walk(dest):
            for f in ds + fs:
                p = os.path.join(d, f)
                if os.path.islink(p):
                    t = os.path.realpath(p)
                    expect(t.startswith(os.path.realpath(dest) + "/"),
                           "%s: link %s -> %s" % (name, p, t))
        if keep is not None:
            expect_run(r, 6, b"", err=r"refused")
            for k in keep:
                expect(os.path.isfile(os.path.join(dest, k)),
                       "%s: %s not extracted" % (name, k))
    big = os.path.join(env.work, "h-test_read_format_zip_size_exceeds_"
                       "declared_deflate.zip", "in", "dir", "first")
    expect(not os.path.exists(big), "the oversized entry stayed")
    # --strict stops at the first refusal
    dest = os.path.join(env.work, "h-strict")
    r = run(env, ["-x", dest, "--strict", env.url("zip-slip.tar")])
    expect_run(r, 6, b"", err=r"--strict")
    # crafted: a symlink out of DIR, then a file written through it; a hard
    # link to a file outside
    import tarfile
    import io
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        li = tarfile.TarInfo("esc")
        li.type, li.linkname = tarfile.SYMTYPE, "../../outside"
        t.addfile(li)
        fi = tarfile.TarInfo("esc/pwned")
        fi.size = 4
        t.addfile(fi, io.BytesIO(b"evil"))
        hl = tarfile.TarInfo("hard")
        hl.type, hl.linkname = tarfile.LNKTYPE, "../../outside/x"
        t.addfile(hl)
        ok = tarfile.TarInfo("fine")
        ok.size = 2
        t.addfile(ok, io.BytesIO(b"ok"))
    env.add("crafted.tar", buf.getvalue())
    base = os.path.join(env.work, "h-crafted")
    dest = os.path.join(base, "in", "dir")
    r = run(env, ["-x", dest, env.url("crafted.tar")])
    expect_run(r, 6, b"", err=r"refused esc: its symlink points outside")
    # The link was refused, so "esc/pwned" became a real directory and file
    # inside DIR; nothing outside.
    expect(not os.path.exists(outside) and
           not os.path.islink(os.path.join(dest, "esc")) and
           not os.path.lexists(os.path.join(dest, "hard")) and
           open(os.path.join(dest, "fine")).read() == "ok",
           "crafted archive escaped: %s" % os.listdir(dest))
    for name, pat in (("test_read_format_tar_V_negative_size.tar",
                       r"no archive entries"),
                      ("test_read_format_tar_invalid_pax_size.tar",
                       r"negative"),
                      ("test_read_format_zip_malformed1.zip",
                       r"compressed byte")):
        r = run(env, ["-x", os.path.join(env.work, "c-" + name),
                      env.url(name)], timeout=20)
        expect_run(r, 6, b"", err=pat)


@case("-t lists members; --member writes one member")
def t_list_member(env):
    make_sample(env)
    want = subprocess.run(["tar", "-tf", os.path.join(env.data, "t.tgz")],
                          capture_output=True, text=True).stdout
    r = run(env, ["-t", env.url("t.tgz")])
    expect_run(r, 0, want.encode(), quiet=True)
    r = run(env, ["-t", "-v", env.url("t.tar.zst")])
    expect_run(r, 0, None, quiet=True)
    expect(re.search(rb"^-rwxr-xr-x .* top/run.sh$", r.out, re.M) and
           re.search(rb"^lrwxrwxrwx .* top/link -> sub/deep/data.bin$",
                     r.out, re.M), "tar -tv style: %r" % r.out[:300])
    blob = open(os.path.join(env.tree, "top", "sub", "deep", "data.bin"),
                "rb").read()
    for name in ("t.tgz", "t.zip", "t.cpio", "t.tar.lz4"):
        r = run(env, ["--member", "top/sub/deep/data.bin", env.url(name)])
        expect_run(r, 0, blob)
    r = run(env, ["--member", "./top/secret", env.url("t.tar")])
    expect_run(r, 0, b"private\n")
    r = run(env, ["--member", "hello.txt",
                  env.url("test_read_format_zip_length_at_end.zip")])
    expect_run(r, 0, None)
    expect(len(r.out) == 6, "data-descriptor zip: %r" % r.out)
    r = run(env, ["--member", "nope", env.url("t.tgz")])
    expect_run(r, 6, b"", err=r"no member nope")
    p = subprocess.run("%s -t %s | head -1" % (BIN, env.url("t.tgz")),
                       shell=True, capture_output=True, timeout=30)
    expect(p.returncode == 0 and p.stderr == b"", "-t | head: %r" % p.stderr)


@case("zip by ranges: -t and --member fetch the central directory, not all")
def t_zip_ranges(env):
    import zipfile
    import io
    blobs = [os.urandom(8 * MB) for _ in range(3)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, b in enumerate(blobs):
            z.writestr("blob%d.bin" % i, b)
        z.writestr("notes/readme.txt", "hello zip\n" * 100)
    env.add("big.zip", buf.getvalue())

    def sent(fn):
        time.sleep(0.2)
        before = open(env.access_log).read().count("\n")
        r = fn()
        time.sleep(0.3)
        lines = open(env.access_log).read().splitlines()[before:]
        return r, sum(int(l.split()[-2]) for l in lines
                      if l.endswith("/big.zip"))

    r, n = sent(lambda: run(env, ["-t", env.url("big.zip")]))
    expect_run(r, 0, b"blob0.bin\nblob1.bin\nblob2.bin\nnotes/readme.txt\n")
    expect(n < 512 * KB, "listing a 24 MiB zip sent %d bytes" % n)
    r, n = sent(lambda: run(env, ["--member", "notes/readme.txt",
                                  env.url("big.zip")]))
    expect_run(r, 0, b"hello zip\n" * 100)
    expect(n < 512 * KB, "a 1 KB member sent %d bytes" % n)
    r, n = sent(lambda: run(env, ["--member", "blob1.bin",
                                  env.url("big.zip")]))
    expect_run(r, 0, blobs[1])
    # the probe, the directory, and at most one 1 MiB block past the end
    expect(n < 8 * MB + 1536 * KB, "an 8 MiB member sent %d bytes" % n)
    r = run(env, ["-t", "-v", env.url("big.zip")])
    expect(re.search(rb"^-rw\S+ .* 8388608 .* blob2.bin$", r.out, re.M),
           "zip -tv: %r" % r.out[:200])
    # Stored entries with data descriptors cannot be streamed; by ranges
    # they read fine.
    buf = io.BytesIO()

    class Unseekable(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            return buf.write(b)
    with zipfile.ZipFile(Unseekable(), "w", zipfile.ZIP_STORED) as z:
        with z.open("a.txt", "w") as m:
            m.write(b"stored with a data descriptor\n" * 1000)
    env.add("dd.zip", buf.getvalue())
    r = run(env, ["--member", "a.txt", env.url("dd.zip")])
    expect_run(r, 0, b"stored with a data descriptor\n" * 1000)
    # Without ranges the same zip is read as a stream.
    r = run(env, ["--member", "notes/readme.txt",
                  env.url("norange/big.zip")])
    expect_run(r, 0, b"hello zip\n" * 100)
    r = run(env, ["--member", "nope", env.url("big.zip")])
    expect_run(r, 6, b"", err=r"no member nope")


def sanitized():
    """True when the binary is an ASan/TSan build (make sanitize, tsan)."""
    out = subprocess.run(["readelf", "-d", BIN], capture_output=True,
                         text=True).stdout
    return re.search(r"lib(a|t)san\.", out) is not None


def tsan_build():
    """True when the binary is a ThreadSanitizer build (make tsan)."""
    out = subprocess.run(["readelf", "-d", BIN], capture_output=True,
                         text=True).stdout
    return "libtsan." in out


def long_options():
    """The long options, as --help lists them."""
    usage = subprocess.run([BIN, "--help"], capture_output=True,
                           text=True).stdout
    return sorted(set(re.findall(r"(--[a-z][a-z0-9-]+)", usage)))


@case("make install DESTDIR: binary, man page, completions; uninstall")
def t_install(env):
    dest = os.path.join(env.work, "dest")
    p = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest,
                        "PREFIX=/usr"], capture_output=True, text=True)
    expect(p.returncode == 0, "install: " + p.stderr[-300:])
    files = sorted(os.path.relpath(os.path.join(d, f), dest)
                   for d, _, fs in os.walk(dest) for f in fs)
    expect(files == ["usr/bin/rangecat",
                     "usr/share/bash-completion/completions/rangecat",
                     "usr/share/fish/vendor_completions.d/rangecat.fish",
                     "usr/share/man/man1/rangecat.1",
                     "usr/share/zsh/site-functions/_rangecat"],
           "installed: %s" % files)
    p = subprocess.run([os.path.join(dest, "usr/bin/rangecat"), "--version"],
                       capture_output=True, text=True)
    expect(p.returncode == 0 and p.stdout.startswith("rangecat "),
           "installed binary: %r" % p.stdout)
    p = subprocess.run(["man", "-l", os.path.join(
        dest, "usr/share/man/man1/rangecat.1")], capture_output=True,
        text=True, env=dict(os.environ, MANPAGER="cat", PAGER="cat",
                            MANWIDTH="80"))
    expect(p.returncode == 0 and "EXIT STATUS" in p.stdout and
           "--shard" in p.stdout.replace("\u2010", "-"),
           "man -l: %r" % p.stderr[-200:])
    p = subprocess.run(["make", "-s", "-C", ROOT, "uninstall",
                        "DESTDIR=" + dest, "PREFIX=/usr"],
                       capture_output=True, text=True)
    left = [f for _, _, fs in os.walk(dest) for f in fs]
    expect(p.returncode == 0 and left == [], "left after uninstall: %s"
           % left)


@case("completions offer every long option in bash, zsh and fish")
def t_completions(env):
    want = long_options()
    comp = os.path.join(ROOT, "contrib", "completions")
    p = subprocess.run(
        ["bash", "-c", 'source "$1"; COMP_WORDS=(rangecat --); '
         'COMP_CWORD=1; _rangecat; printf "%s\\n" "${COMPREPLY[@]}"', "-",
         os.path.join(comp, "rangecat.bash")],
        capture_output=True, text=True)
    got = sorted(set(p.stdout.split()))
    expect(got == want, "bash offers %s, --help has %s" % (got, want))
    p = subprocess.run(["fish", "-c", 'source $argv[1]; '
                        'complete -C "rangecat --"',
                        os.path.join(comp, "rangecat.fish")],
                       capture_output=True, text=True)
    # fish also offers "--decompress=" for an option with an optional value
    got = sorted(set(l.split("\t")[0].rstrip("=")
                     for l in p.stdout.splitlines()))
    expect(got == want, "fish offers %s" % got)
    # zsh: an interactive shell in a pty, TAB pressed after "rangecat --".
    script = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "rangecat --"$'\t'
sleep $2
out=""
while zpty -r -t z line; do out+="$line"; done
print -r -- "$out"
zpty -d z
"""
    # A loaded machine may need longer than a second to draw the menu:
    # try again with more time before calling it a failure.
    for wait in ("1", "3", "8"):
        p = subprocess.run(["zsh", "-f", "-c", script, "-", comp, wait],
                           capture_output=True, text=True, timeout=60)
        got = sorted(set(re.findall(r"(--[a-z][a-z0-9-]+)", p.stdout)))
        if got == want:
            break
    expect(got == want, "zsh offers %s" % got)


@case("--shard K/N: shards 1..N concatenate to the exact file")
def t_shard(env):
    for name in ("f20971520", "f4194305", "f2", "f1", "f0"):
        data = env.files[name]
        for n in (1, 2, 3, 7, 16):
            joined = b""
            for k in range(1, n + 1):
                r = run(env, ["-q", "--shard", "%d/%d" % (k, n),
                              env.url(name)])
                expect_run(r, 0, None)
                joined += r.out
            expect(joined == data, "%s in %d shards differs" % (name, n))
    data = env.files["f20971520"]
    part = len(data) // 3
    # -C counts inside the shard; a server without ranges works too.
    r = run(env, ["--shard", "2/3", "-C", "1000", env.url("f20971520")])
    expect_run(r, 0, data[part + 1000:2 * part])
    r = run(env, ["--shard", "3/3", env.url("norange/f20971520")])
    expect_run(r, 0, data[2 * part:])
    r = run(env, ["--shard", "2/3", "-C", str(part + 1),
                  env.url("f20971520")])
    expect_run(r, 2, b"", err=r"past the end of shard 2/3")
    # A failed shard resumes inside itself, keeping --shard.
    # (-n 1: the shard is one stream, reset halfway, then a 404 for the
    # rest: deterministic)
    r = run(env, ["--shard", "2/3", "--retries", "0", "-n", "1",
                  env.furl("shard-res", "reset@1,s404@2", "f20971520")])
    expect_run(r, 2, None, err=r"resume with: rangecat -C \d+ .*--shard 2/3")
    m = re.search(r"resume with: (.*)$", r.err, re.M)
    r2 = run(env, shlex.split(m.group(1))[1:], append=True)
    expect_run(r2, 0, data[part:2 * part])
    for bad in ("0/3", "4/3", "3", "a/b", "1/0"):
        r = run(env, ["--shard", bad, env.url("f1")])
        expect_run(r, 1, b"", err=r"--shard")
    r = run(env, ["--shard", "1/2", "-r", "0-5", env.url("f1")])
    expect_run(r, 1, b"", err=r"--shard and --range")


@case("--progress=json lines parse; --stats prints one key=value line")
def t_json_stats(env):
    import json
    r = run(env, ["--progress=json", "-n", "2", env.url("slow/f4194305")])
    expect_run(r, 0, env.files["f4194305"])
    objs = [json.loads(l) for l in r.err.splitlines()]
    end = objs.pop()    # the run's outcome (cases_timebounds.py)
    expect(end.get("outcome") == "ok", "final object %r" % end)
    expect(len(objs) >= 2, "only %d JSON lines" % len(objs))
    expect(all(set(o) >= {"bytes", "total", "rate", "connections",
                          "retries", "elapsed", "done"} for o in objs),
           "missing keys")
    expect(objs[-1]["done"] is True and objs[-1]["bytes"] == 4194305 and
           all(o["done"] is False for o in objs[:-1]), "done flags")
    p = subprocess.run([sys.executable, "-m", "json.tool"],
                       input=r.err.splitlines()[0], capture_output=True,
                       text=True)
    expect(p.returncode == 0, "json.tool rejects a line")
    # The 2 MiB buffer of a 4 MiB file, in 512 KiB chunks, feeds eight
    # connections (rc_sched_conn_feed); the 503 halves them. (cap: behind
    # a per-request cap, ranges follow the one stream.)
    r = run(env, ["--stats", env.furl("stats", "cap,s503@2", "f4194305")])
    expect_run(r, 0, env.files["f4194305"],
               err=r"^rangecat: at byte \d+: HTTP 503: server error; "
               r"retry 1/5 in 1\.0 s\n"
               r"rangecat: stats: bytes=4194305 seconds=[0-9.]+ "
               r"rate=\d+ retries=1 connections=4 exit=0 peak_buffer=\d+ "
               r"ranges=1 etag=\"v1-4194305"
               r"\"$")


@case("RANGECAT_<OPTION> works as the flag and loses to it")
def t_env_options(env):
    data = env.files["f4194305"]
    url = env.url("f4194305")
    r = run(env, [url], envvars={"RANGECAT_RANGE": "10-99"})
    expect_run(r, 0, data[10:100])
    r = run(env, ["-r", "5-9", url], envvars={"RANGECAT_RANGE": "10-99"})
    expect_run(r, 0, data[5:10])
    r = run(env, ["-r", "5-9", url], envvars={"RANGECAT_CONTINUE_AT": "7"})
    expect_run(r, 0, data[5:10])     # one group: no conflict
    r = run(env, ["-v", url], envvars={"RANGECAT_CONNECTIONS": "3"})
    expect_run(r, 0, data, err=r"3 connections")
    r = run(env, ["-v", "-n", "5", url],
            envvars={"RANGECAT_CONNECTIONS": "3"})
    expect_run(r, 0, data, err=r"5 connections")
    r = run(env, ["--progress=line", env.url("slow/f4194305")],
            envvars={"RANGECAT_QUIET": "1"})
    expect_run(r, 0, data, err=r"done: 4\.0 MiB")
    r = run(env, [url], envvars={"RANGECAT_QUIET": "yes",
                                 "RANGECAT_STATS": "0"})
    expect_run(r, 0, data, quiet=True)
    r = run(env, [url], envvars={"RANGECAT_CONNECTIONS": SECRET})
    expect_run(r, 1, b"", err=r"^rangecat: RANGECAT_CONNECTIONS: expected")
    r = run(env, [url], envvars={"RANGECAT_INSECURE": "maybe"})
    expect_run(r, 1, b"", err=r"RANGECAT_INSECURE: expected 1 or 0")
    r = run(env, [url], envvars={"RANGECAT_CONNECTIONS": ""})
    expect_run(r, 0, data)           # empty = unset


@case("contrib: the Dockerfile's stages, user and runtime libraries")
def t_dockerfile(env):
    text = open(os.path.join(ROOT, "contrib", "Dockerfile")).read()
    text = text.replace("\\\n", " ")
    stages = re.split(r"^FROM ", text, flags=re.M)
    pre, stages = stages[0], stages[1:]
    expect(len(stages) == 2, "%d stages" % len(stages))
    build, rt = stages
    # Docker users get Debian's images; make container-check its own.
    expect(re.search(r"^ARG BASE=debian:12$", pre, re.M) and
           build.startswith("${BASE} AS build"), "build stage")
    expect(re.search(r"^ARG RUNTIME_BASE=debian:12-slim$", pre, re.M) and
           rt.startswith("${RUNTIME_BASE} AS runtime"), "runtime stage")
    expect(re.search(r"^RUN make clean && make rangecat", build, re.M),
           "the build stage does not always compile")
    expect("COPY --from=build" in rt, "runtime copies from build")
    # Numeric, so that runAsNonRoot can check it.
    expect(re.search(r"^USER 10001:10001$", rt, re.M), "USER 10001:10001")
    expect(re.search(r"^ENV RANGECAT_PROGRESS=auto$", rt, re.M),
           "no line progress for the logs (a bar on a terminal)")
    expect(re.search(r'^ENTRYPOINT \["rangecat"\]', rt, re.M),
           "rangecat entrypoint")
    expect("-dev" not in rt, "a -dev package in the runtime stage")
    installs = " ".join(re.findall(r"apt-get install[^&]*", rt))
    # Every library the binary links comes from a package the runtime
    # stage installs (libc6 is in every Debian image).
    out = subprocess.run(["readelf", "-d", BIN], capture_output=True,
                         text=True).stdout
    # libarchive is loaded at run time (src/lazyarchive.c), not NEEDED.
    for lib in re.findall(r"NEEDED.*\[(.+)\]", out) + ["libarchive.so.13"]:
        if re.match(r"lib(a|ub|t|l)san\.", lib):
            continue    # a sanitizer build (make sanitize), not shipped
        owner = ""
        for d in ("/usr/lib/x86_64-linux-gnu/", "/lib/x86_64-linux-gnu/"):
            p = subprocess.run(["dpkg", "-S", d + lib], capture_output=True,
                               text=True)
            if p.returncode == 0:
                owner = p.stdout.split(":")[0]
                break
        expect(owner, "no package owns %s" % lib)
        expect(owner == "libc6" or re.search(r"\b%s\b" % re.escape(owner),
                                             installs),
               "runtime stage lacks %s (for %s)" % (owner, lib))


@case("contrib: the GNU parallel shard script and the entrypoint run")
def t_contrib_scripts(env):
    out = os.path.join(env.work, "par.out")
    p = subprocess.run([os.path.join(ROOT, "contrib", "shard",
                                     "parallel.sh"),
                        env.url("f20971520"), out, "5"],
                       capture_output=True, timeout=120,
                       env=dict(os.environ, PATH=ROOT + ":" +
                                os.environ["PATH"]))
    expect(p.returncode == 0, "parallel.sh: %r" % p.stderr[-300:])
    expect(open(out, "rb").read() == env.files["f20971520"],
           "parallel.sh output differs")
    src = os.path.join(env.work, "tsrc")
    os.makedirs(src, exist_ok=True)
    for i in range(3):
        with open(os.path.join(src, "m%d" % i), "wb") as f:
            f.write(os.urandom(300000))
    subprocess.run(["tar", "-cf", os.path.join(env.data, "model.tar"), "-C",
                    src, "."], check=True)
    dest = os.path.join(env.work, "models")
    entry = os.path.join(ROOT, "contrib", "entrypoint.sh")
    e = dict(os.environ, PATH=ROOT + ":" + os.environ["PATH"],
             DATA_URL=env.url("model.tar"), DATA_DIR=dest)
    p = subprocess.run([entry, "cmp", os.path.join(src, "m2"),
                        os.path.join(dest, "m2")], capture_output=True,
                       env=e, timeout=60)
    expect(p.returncode == 0, "entrypoint: %r" % p.stderr[-300:])
    e["DATA_URL"] = env.url("missing.tar")
    p = subprocess.run([entry, "true"], capture_output=True, env=e,
                       timeout=60)
    expect(p.returncode == 2, "entrypoint on a 404: exit %d" % p.returncode)


# ------------------------------------------------------------ credentials

def arun(env, args, envvars, **kw):
    """An auth case: always at -v, so the redaction is exercised; the
    secrets are checked by expect_run."""
    return run(env, ["-v"] + args, envvars=envvars, **kw)


def stats(env, port=None):
    with urllib.request.urlopen(env.aurl("stats", port)) as f:
        return json.load(f)


def seen(env, tag, port):
    with urllib.request.urlopen(env.aurl("seen/" + tag, port)) as f:
        return json.load(f)


def small(args):
    """Many ranges on a 4 MiB file, so every range is authenticated."""
    return ["-n", "4", "--chunk-size", "64K"] + args


@case("bearer, basic (variables, URL, netrc) and secret headers, every range")
def t_auth_simple(env):
    a = env.auth_env
    want = env.files["f4194304"]
    r = arun(env, small([env.aurl("a/bearer/b1/f4194304")]),
             {"RANGECAT_TOKEN": a["AUTH_TOKEN"]})
    expect_run(r, 0, want, err=r"> Authorization: \[redacted\]")
    expect(r.err.count("GET bytes=") > 40, "few ranges")
    r = arun(env, small([env.aurl("a/basic/b2/f4194304")]),
             {"RANGECAT_USER": a["AUTH_USER"],
              "RANGECAT_PASSWORD": a["AUTH_PASSWORD"]})
    expect_run(r, 0, want)
    userinfo = "%s:%s@" % (a["AUTH_USER"],
                           urllib.parse.quote(a["AUTH_PASSWORD"], safe=""))
    url = env.aurl("a/basic/b3/f4194304").replace("//", "//" + userinfo, 1)
    r = arun(env, small([url]), {})
    expect_run(r, 0, want)
    expect(urllib.parse.quote(a["AUTH_PASSWORD"], safe="") not in r.err,
           "the URL's password appeared on stderr")
    netrc = os.path.join(env.work, "netrc")
    with open(netrc, "w") as f:
        f.write('machine 127.0.0.1 login %s password "%s"\n' % (
            a["AUTH_USER"], a["AUTH_PASSWORD"]))
    os.chmod(netrc, 0o600)
    r = arun(env, small([env.aurl("a/basic/b4/f4194304")]),
             {"NETRC": netrc})
    expect_run(r, 0, want)
    r = arun(env, small([env.aurl("a/header/b5/f4194304")]),
             {"RANGECAT_HEADERS": "X-Api-Key: %s\r\n\nX-Note: 1\n" %
              a["AUTH_HEADER_VALUE"]})
    expect_run(r, 0, want, err=r"> X-Api-Key: \[redacted\]")
    # Each scheme's refusal names its variables and the status.
    for url, var, vals in (
            ("a/bearer/b6/f1", "RANGECAT_TOKEN",
             {"RANGECAT_TOKEN": "wrong-" + a["AUTH_TOKEN"]}),
            ("a/basic/b7/f1", "RANGECAT_USER and RANGECAT_PASSWORD",
             {"RANGECAT_USER": "alice",
              "RANGECAT_PASSWORD": a["AUTH_PASSWORD"] + "x"}),
            ("a/header/b8/f1", "RANGECAT_HEADERS",
             {"RANGECAT_HEADERS": "X-Api-Key: no"}),
            ("a/bearer/b9/f1", "no credentials were sent", {})):
        r = arun(env, [env.aurl(url)], vals)
        expect_run(r, 2, b"", err=r"HTTP 401 from .*" + var)


@case("HMAC signing: every range signed afresh; a wrong key is refused")
def t_auth_hmac(env):
    a = env.auth_env
    before = stats(env)["hmac_ok"]
    r = arun(env, small([env.aurl("a/hmac/h1/f4194304")]),
             {"RANGECAT_HMAC_KEY": a["AUTH_HMAC_KEY"],
              "RANGECAT_HMAC_KEY_ID": a["AUTH_HMAC_KEY_ID"]})
    expect_run(r, 0, env.files["f4194304"],
               err=r"> X-Rangecat-Signature: \[redacted\]")
    ranges = r.err.count("GET bytes=")
    expect(stats(env)["hmac_ok"] - before >= ranges,
           "not every range was signed")
    # Zip by ranges signs its random-access reads too.
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.bin", os.urandom(2 * MB))
        z.writestr("note.txt", "signed\n" * 50)
    env.add("signed.zip", buf.getvalue())
    r = arun(env, ["--member", "note.txt", env.aurl("a/hmac/h3/signed.zip")],
             {"RANGECAT_HMAC_KEY": a["AUTH_HMAC_KEY"],
              "RANGECAT_HMAC_KEY_ID": a["AUTH_HMAC_KEY_ID"]})
    expect_run(r, 0, b"signed\n" * 50, err=r"\(random access\)")
    r = arun(env, [env.aurl("a/hmac/h2/f1")],
             {"RANGECAT_HMAC_KEY": a["AUTH_HMAC_KEY"] + "x",
              "RANGECAT_HMAC_KEY_ID": a["AUTH_HMAC_KEY_ID"]})
    expect_run(r, 2, b"", err=r"HTTP 401 .*RANGECAT_HMAC_KEY")


def oauth_env(env, path="token"):
    a = env.auth_env
    return {"RANGECAT_OAUTH_TOKEN_URL": env.aurl(path),
            "RANGECAT_OAUTH_CLIENT_ID": a["AUTH_CLIENT_ID"],
            "RANGECAT_OAUTH_CLIENT_SECRET": a["AUTH_CLIENT_SECRET"],
            "RANGECAT_OAUTH_SCOPE": "read files"}


@case("OAuth2: 2-second tokens outlived by a slow download; a 401 refreshes")
def t_auth_oauth(env):
    # 4 MiB at 256 KiB/s on each of 4 connections: about 4 s, two token
    # lifetimes.
    runs = []
    before = stats(env)["token_ok"]
    t = time.time()
    r = arun(env, ["-n", "4", "--chunk-size", "256K",
                   env.aurl("a/oauth+slow/o1/f4194304")], oauth_env(env))
    runs.append(r)
    expect_run(r, 0, env.files["f4194304"], err=r"about to expire")
    took = time.time() - t
    calls = stats(env)["token_ok"] - before
    expect(took > 3, "the download took only %.1f s" % took)
    expect(calls >= 2, "the token endpoint was called %d times" % calls)
    # A token revoked mid-run: one 401, a fresh token, the range again.
    s0 = stats(env)
    r = arun(env, small([env.aurl("a/oauth+revoke3/o2/f4194304")]),
             oauth_env(env))
    runs.append(r)
    expect_run(r, 0, env.files["f4194304"], err=r"HTTP 401: fetching a new")
    s1 = stats(env)
    expect(s1["revoked_401"] - s0["revoked_401"] == 1, "no revocation")
    expect(s1["token_ok"] - s0["token_ok"] == 2, "not exactly one refresh")
    # A server whose tokens die long before their expires_in: stale tokens
    # meet 401s, each answered by one fresh token (2 MiB, about 4 s).
    r = arun(env, ["-n", "2", "--chunk-size", "256K", "-r", "0-2097151",
                   env.aurl("a/oauth+slow/o6/f4194304")],
             oauth_env(env, "token-short"))
    runs.append(r)
    expect_run(r, 0, env.files["f4194304"][:2 * MB],
               err=r"HTTP 401: fetching a new")
    s2 = stats(env)
    expect(s2["expired_401"] > s1["expired_401"], "no stale token was met")
    expect(s2["token_ok"] - s1["token_ok"] >= 2, "no refresh after a 401")
    # The tokens the server issued never show either.
    with urllib.request.urlopen(env.aurl("issued")) as f:
        issued = json.load(f)
    expect(len(issued) >= 6, "only %d tokens issued" % len(issued))
    SECRETS.extend(issued)
    for r in runs:
        expect_run(r, 0)


@case("OAuth2: a failing or refusing token endpoint is a clear error")
def t_auth_oauth_errors(env):
    r = arun(env, ["--retries", "1", "--retry-delay", "100ms",
                   env.aurl("a/oauth/o3/f1")], oauth_env(env, "token-500"))
    expect_run(r, 3, b"", err=r"token endpoint \(RANGECAT_OAUTH_TOKEN_URL\) "
               r"answered HTTP 500")
    r = arun(env, [env.aurl("a/oauth/o4/f1")], oauth_env(env, "token-401"))
    expect_run(r, 2, b"", err=r"HTTP 401 \(invalid_client\): check "
               r"RANGECAT_OAUTH_CLIENT_ID and RANGECAT_OAUTH_CLIENT_SECRET")
    e = oauth_env(env)
    e["RANGECAT_OAUTH_TOKEN_URL"] = "http://127.0.0.1:%d/token" % free_port()
    r = arun(env, ["--retries", "0", env.aurl("a/oauth/o5/f1")], e)
    expect_run(r, 3, b"", err=r"could not be reached")


@case("one scheme per run: conflicts and half-set schemes are usage errors")
def t_auth_conflicts(env):
    a = env.auth_env
    url = env.aurl("a/bearer/c1/f1")
    for vals, pat in (
            ({"RANGECAT_TOKEN": a["AUTH_TOKEN"],
              "RANGECAT_HMAC_KEY": a["AUTH_HMAC_KEY"]},
             r"RANGECAT_TOKEN and RANGECAT_HMAC_KEY are both set"),
            ({"RANGECAT_PASSWORD": a["AUTH_PASSWORD"]},
             r"RANGECAT_PASSWORD is set but RANGECAT_USER is not"),
            ({"RANGECAT_USER": "alice"},
             r"RANGECAT_USER is set but RANGECAT_PASSWORD is not"),
            ({"RANGECAT_OAUTH_CLIENT_ID": "x",
              "RANGECAT_OAUTH_CLIENT_SECRET": a["AUTH_CLIENT_SECRET"]},
             r"OAuth needs RANGECAT_OAUTH_TOKEN_URL"),
            ({"RANGECAT_HEADERS": "no colon here"},
             r"RANGECAT_HEADERS line 1 is not 'Name: value'"),
            ({"RANGECAT_TOKEN": a["AUTH_TOKEN"],
              "RANGECAT_HEADERS": "X-Api-Key: " + a["AUTH_HEADER_VALUE"]},
             r"RANGECAT_TOKEN and RANGECAT_HEADERS are both set"),
            ({"NETRC": "/nonexistent/netrc"}, r"NETRC names a file")):
        r = arun(env, [url], vals)
        expect_run(r, 1, b"", err=pat)
        expect(len(r.err.strip().splitlines()) == 1,
               "more than one line: %s" % r.err)
    r = arun(env, ["-H", "Authorization: Bearer x", url],
             {"RANGECAT_TOKEN": a["AUTH_TOKEN"]})
    expect_run(r, 1, b"", err=r"-H Authorization and RANGECAT_TOKEN")
    # AWS variables are for s3:// only: around an https URL they are
    # ignored, whatever else is set.
    r = arun(env, [env.aurl("a/bearer/c2/f4194304")],
             {"RANGECAT_TOKEN": a["AUTH_TOKEN"],
              "AWS_ACCESS_KEY_ID": "AKIDX",
              "AWS_SECRET_ACCESS_KEY": a["AUTH_TOKEN"] + "aws"})
    expect_run(r, 0, env.files["f4194304"])
    r = arun(env, ["s3://bucket/key"], {"AWS_ACCESS_KEY_ID": "AKIDX",
                                        "AWS_SECRET_ACCESS_KEY": ""})
    expect_run(r, 1, b"", err=r"AWS_ACCESS_KEY_ID is set but "
               r"AWS_SECRET_ACCESS_KEY is not")


@case("redirects: credentials stay on their origin; https to http refused")
def t_auth_redirects(env):
    a = env.auth_env
    want = env.files["f4194304"]
    # Another host (here: port): the file arrives, without credentials.
    r = arun(env, small(["-H", "X-Trace: visible",
                         env.aurl("a/bearer+away=%d/r1/f4194304" %
                                  env.aport2)]),
             {"RANGECAT_TOKEN": a["AUTH_TOKEN"]})
    expect_run(r, 0, want, err=r"another origin: no credentials")
    got = seen(env, "r1", env.aport2)
    expect(len(got) > 10, "the second server saw %d requests" % len(got))
    expect(all("Authorization" not in h for h in got),
           "Authorization went to another host")
    expect(all(h.get("X-Trace") == "visible" for h in got),
           "a plain -H header was dropped")
    r = arun(env, small([env.aurl("a/header+away=%d/r2/f4194304" %
                                  env.aport2)]),
             {"RANGECAT_HEADERS": "X-Api-Key: " + a["AUTH_HEADER_VALUE"]})
    expect_run(r, 0, want)
    got = seen(env, "r2", env.aport2)
    expect(got and all("X-Api-Key" not in h for h in got),
           "a secret header went to another host")
    r = arun(env, small(["-H", "Cookie: session=" + a["AUTH_TOKEN"],
                         env.aurl("a/open+away=%d/r3/f4194304" %
                                  env.aport2)]), {})
    expect_run(r, 0, want)
    got = seen(env, "r3", env.aport2)
    expect(got and all("Cookie" not in h for h in got),
           "a Cookie went to another host")
    # The same origin keeps them.
    r = arun(env, small([env.aurl("a/bearer+samehost/r4/f4194304")]),
             {"RANGECAT_TOKEN": a["AUTH_TOKEN"]})
    expect_run(r, 0, want, err=r"redirected to")
    # https to http: refused with credentials, followed without.
    url = "https://127.0.0.1:%d/tohttp" % env.tls_port
    r = arun(env, ["--cacert", env.cert, url],
             {"RANGECAT_TOKEN": a["AUTH_TOKEN"]})
    expect_run(r, 2, b"", err=r"redirect from https to http refused: "
               r"credentials \(RANGECAT_TOKEN\)")
    r = arun(env, ["--cacert", env.cert, url], {})
    expect_run(r, 0, want)


# -------------------------------------------------------------------- S3

def s3_setup(env):
    """The bucket and objects: plain, multipart (ETag "...-4"), and a key
    with spaces, unicode, '+' and '//'. Once per run."""
    import boto3  # Debian's python3-boto3; only the S3 cases need it
    ep = env.s3()
    if getattr(env, "s3objs", None):
        return env.s3client, env.s3objs
    k = env.s3keys
    c = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                     aws_access_key_id=k["access"],
                     aws_secret_access_key=k["secret"])
    c.create_bucket(Bucket="rc-test")
    objs = {"plain/obj": os.urandom(20 * MB + 7),
            "dir/a b ü+c//x.bin": os.urandom(3 * MB + 1),
            "multi/obj": os.urandom(21 * MB + 5)}
    c.put_object(Bucket="rc-test", Key="plain/obj", Body=objs["plain/obj"])
    c.put_object(Bucket="rc-test", Key="dir/a b ü+c//x.bin",
                 Body=objs["dir/a b ü+c//x.bin"])
    up = c.create_multipart_upload(Bucket="rc-test", Key="multi/obj")
    parts, data = [], objs["multi/obj"]
    for i, at in enumerate(range(0, len(data), 6 * MB)):
        r = c.upload_part(Bucket="rc-test", Key="multi/obj", PartNumber=i + 1,
                          UploadId=up["UploadId"], Body=data[at:at + 6 * MB])
        parts.append({"PartNumber": i + 1, "ETag": r["ETag"]})
    c.complete_multipart_upload(Bucket="rc-test", Key="multi/obj",
                                UploadId=up["UploadId"],
                                MultipartUpload={"Parts": parts})
    env.s3client, env.s3objs = c, objs
    return c, objs


def other(secret, at=-1):
    """secret with one character changed (never to itself)."""
    at %= len(secret)
    c = "x" if secret[at] != "x" else "y"
    return secret[:at] + c + secret[at + 1:]


def s3_env(env, **over):
    e = {"AWS_ACCESS_KEY_ID": env.s3keys["access"],
         "AWS_SECRET_ACCESS_KEY": env.s3keys["secret"],
         "AWS_ENDPOINT_URL": env.s3(), "AWS_REGION": "us-east-1"}
    e.update(over)
    return {k: v for k, v in e.items() if v is not None}


@case("S3 on Ceph RGW: SigV4 per range, multipart, odd keys, wrong secret")
def t_s3(env):
    c, objs = s3_setup(env)
    head = c.head_object(Bucket="rc-test", Key="multi/obj")
    expect(head["ETag"].endswith('-4"'), "not a multipart ETag: %s" %
           head["ETag"])
    for key in objs:
        r = arun(env, ["-n", "8", "--chunk-size", "1M", "s3://rc-test/" + key],
                 s3_env(env))
        expect_run(r, 0, objs[key], err=r"> Authorization: \[redacted\]")
        expect(r.err.count("GET bytes=") > 3, "few ranges for " + key)
    # AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL; a region RGW does
    # not enforce still signs.
    r = arun(env, ["s3://rc-test/plain/obj"],
             s3_env(env, AWS_ENDPOINT_URL="http://127.0.0.1:1",
                    AWS_ENDPOINT_URL_S3=env.s3(), AWS_REGION=None,
                    AWS_DEFAULT_REGION="eu-west-1"))
    expect_run(r, 0, objs["plain/obj"])
    r = arun(env, ["s3://rc-test/plain/obj"],
             s3_env(env, AWS_SECRET_ACCESS_KEY=other(env.s3keys["secret"])))
    expect_run(r, 2, b"", err=r"HTTP 403 .*S3 SignatureDoesNotMatch: check "
               r"AWS_SECRET_ACCESS_KEY")
    r = arun(env, ["s3://rc-test/plain/obj"],
             s3_env(env, AWS_ACCESS_KEY_ID="AKIDNOSUCHKEY00000000"))
    expect_run(r, 2, b"", err=r"HTTP 403 .*InvalidAccessKeyId")
    r = arun(env, ["s3://rc-test/no/such/key"], s3_env(env))
    expect_run(r, 2, b"", err=r"HTTP 404 .*S3 NoSuchKey")
    # A clock 20 minutes slow (Debian's libfaketime) dates the signature
    # outside S3's 15-minute window.
    faketime = glob.glob("/usr/lib/*/faketime/libfaketimeMT.so.1")
    expect(faketime, "libfaketime is missing (make deps installs it)")
    # LD_PRELOAD would apply to valgrind itself; and libfaketime calls
    # glibc's pthread_cond_timedwait by its version, past ThreadSanitizer's
    # interceptor, so TSan misses the unlock in every timed wait and
    # reports lock errors and races that are not there.
    if not valgrind and not tsan_build():
        # ASan wants to be first in the library list; libfaketime only
        # wraps time calls, so the order does not matter here.
        asan = os.environ.get("ASAN_OPTIONS", "")
        r = arun(env, ["s3://rc-test/plain/obj"], s3_env(
            env, LD_PRELOAD=faketime[0], FAKETIME="-20m",
            DONT_FAKE_MONOTONIC="1",
            ASAN_OPTIONS=(asan + ":" if asan else "") +
            "verify_asan_link_order=0"))
        expect_run(r, 2, b"", err=r"HTTP 403 .*S3 RequestTimeTooSkewed: "
                   r"this machine's clock is off")
    # No keys: unsigned, and refused as such.
    r = arun(env, ["s3://rc-test/plain/obj"],
             {"AWS_ENDPOINT_URL": env.s3()})
    expect_run(r, 2, b"", err=r"HTTP 403 .*not signed")


@case("S3: session tokens, presigned URLs, an object overwritten mid-run")
def t_s3_more(env):
    import boto3
    c, objs = s3_setup(env)
    # Session tokens come from the gateway with STS on; the user first
    # allows itself sts:GetSessionToken.
    sts_ep = "http://127.0.0.1:%d" % env.stsport
    keys = dict(region_name="us-east-1",
                aws_access_key_id=env.s3keys["access"],
                aws_secret_access_key=env.s3keys["secret"])
    boto3.client("iam", endpoint_url=sts_ep, **keys).put_user_policy(
        UserName="tester", PolicyName="sts", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["sts:*", "s3:*"],
                           "Resource": "*"}]}))
    sts = boto3.client("sts", endpoint_url=sts_ep, **keys)
    cr = sts.get_session_token(DurationSeconds=900)["Credentials"]
    SECRETS.extend([cr["SecretAccessKey"], cr["SessionToken"]])
    tmp = s3_env(env, AWS_ACCESS_KEY_ID=cr["AccessKeyId"],
                 AWS_SECRET_ACCESS_KEY=cr["SecretAccessKey"],
                 AWS_SESSION_TOKEN=cr["SessionToken"],
                 AWS_ENDPOINT_URL=sts_ep)
    r = arun(env, ["--chunk-size", "1M", "s3://rc-test/plain/obj"], tmp)
    expect_run(r, 0, objs["plain/obj"],
               err=r"> X-Amz-Security-Token: \[redacted\]")
    # The token is checked: without it, or altered, the keys fail.
    r = arun(env, ["s3://rc-test/plain/obj"],
             dict(tmp, AWS_SESSION_TOKEN=""))
    expect_run(r, 2, b"", err=r"HTTP 403")
    r = arun(env, ["s3://rc-test/plain/obj"],
             dict(tmp, AWS_SESSION_TOKEN=other(cr["SessionToken"], 10)))
    expect_run(r, 2, b"", err=r"HTTP 40[03] .*S3 ")

    # A presigned URL is plain http: no signing, even with keys around.
    from botocore.config import Config
    c4 = boto3.client("s3", endpoint_url=env.s3(), region_name="us-east-1",
                      aws_access_key_id=env.s3keys["access"],
                      aws_secret_access_key=env.s3keys["secret"],
                      config=Config(signature_version="s3v4"))
    url = c4.generate_presigned_url(
        "get_object", Params={"Bucket": "rc-test", "Key": "plain/obj"},
        ExpiresIn=600)
    sig = re.search(r"X-Amz-Signature=([0-9a-f]{64})", url).group(1)
    SECRETS.append(sig)
    for vals in ({}, s3_env(env)):
        r = arun(env, ["--chunk-size", "1M", url], vals)
        expect_run(r, 0, objs["plain/obj"])
    # An origin that wants a token and redirects to a presigned URL: the
    # token stays behind (the gateway would refuse a request carrying
    # both), and the object arrives.
    r = arun(env, ["--chunk-size", "1M", env.aurl(
        "a/bearer+loc/p1/x?loc=" + urllib.parse.quote(url, safe=""))],
        {"RANGECAT_TOKEN": env.auth_env["AUTH_TOKEN"]})
    expect_run(r, 0, objs["plain/obj"], err=r"another origin")

    # Overwritten while rangecat waits on a full ring: If-Match fails on
    # the next range, exit 4, and only old bytes were written.
    old = os.urandom(48 * MB)
    c.put_object(Bucket="rc-test", Key="moving", Body=old)
    e = dict(os.environ)
    e.update(s3_env(env))
    p = subprocess.Popen([BIN, "-n", "2", "--chunk-size", "1M", "--memory",
                          "4M", "s3://rc-test/moving"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=e)
    first = p.stdout.read(2 * MB)
    c.put_object(Bucket="rc-test", Key="moving", Body=os.urandom(48 * MB))
    rest = p.stdout.read()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    got = first + rest
    expect(p.returncode == 4, "exit %d, wanted 4: %s" % (p.returncode,
                                                        err[-400:]))
    expect(len(got) < len(old) and old[:len(got)] == got,
           "the output is not a prefix of the old object")
    expect("HTTP 412" in err or "changed" in err, "no reason given: " + err)
    expect(all(x not in err for x in SECRETS), "a secret on stderr")


@case("the man page's EXIT STATUS agrees with the code")
def t_man_exit(env):
    man = open(os.path.join(ROOT, "man", "rangecat.1")).read()
    sect = man.split(".Sh EXIT STATUS", 1)[1].split(".Sh ", 1)[0]
    codes = sorted(int(c) for c in re.findall(r"^\.It (\d+)", sect, re.M))
    src = open(os.path.join(ROOT, "src", "err.c")).read()
    table = sorted({int(c) for c in re.findall(r"= \{(\d+), \"", src)})
    expect(codes == table, "man %s, err.c %s" % (codes, table))
    usage = subprocess.run([BIN, "--help"], capture_output=True,
                           text=True).stdout
    for c in table:
        if c:
            expect(re.search(r"\b%d\b" % c, usage), "--help lacks %d" % c)


# More cases live beside this file, one file per topic (cases_*.py). They
# are read into this module's namespace, so they use case(), run(),
# expect() and the rest as the cases above do; farlink.py first, the
# fixture (env.far_link) some of them use.
for _path in [os.path.join(HERE, "farlink.py")] + sorted(
        glob.glob(os.path.join(HERE, "cases_*.py"))):
    with open(_path) as _f:
        exec(compile(_f.read(), _path, "exec"))


def main():
    global passed, failed, skipped, only, valgrind, keep
    args = sys.argv[1:]
    if "--valgrind" in args:
        valgrind = True
        args.remove("--valgrind")
    if "-k" in args:
        only = args[args.index("-k") + 1]
    env = Env()
    try:
        # Ceph takes a while and a lot of the machine: start it early only
        # when the S3 cases may run; s3() starts it on first use otherwise.
        if not only or "s3" in only.lower():
            env.start_s3()
        env.make_data()
        env.start_nginx()
        env.start_faults()
        env.start_auth()
        SECRETS.extend(env.secrets)
        for fn in CASES:
            if only and only not in fn.__name__ and only not in fn.case_name:
                continue
            if valgrind and fn.__name__ in ("t_big", "t_output",
                                            "t_nonblock", "t_soak",
                                            "t_stopped_reader",
                                            "t_fdlimit"):
                print("skip - %s (too slow under valgrind)" % fn.case_name)
                skipped += 1
                continue
            t = time.time()
            try:
                fn(env)
                passed += 1
                print("ok   - %s (%.1f s)" % (fn.case_name, time.time() - t),
                      flush=True)
            except Skip as e:
                skipped += 1
                print("skip - %s: %s" % (fn.case_name, e), flush=True)
            except Exception as e:  # a crash in a case is a failure too
                failed += 1
                keep = True
                print("FAIL - %s: %s" % (fn.case_name, e), flush=True)
    finally:
        env.stop()
        if keep:
            print("scratch kept in %s" % env.work)
        else:
            shutil.rmtree(env.work, ignore_errors=True)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
