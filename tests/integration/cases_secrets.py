# Secrets never leave their place (issue 12, item 5): RANGECAT_HEADERS
# values are redacted whatever their names, NETRC credentials go to the
# origin only, CR/LF in credentials is refused by name, and passwords are
# wiped from /proc/PID/cmdline and /proc/PID/environ while the process is
# not dumpable. exec'd into run.py's namespace.
#
# Another host is 127.0.0.2 (an authserver bound there); a proxy is a small
# forward proxy run by the test itself.

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NOBODY = 65534


def spawn_auth_on(env, host):
    """An authserver listening on host (another loopback address) instead
    of 127.0.0.1: faultserver.serve is swapped before authserver runs."""
    code = (
        "import runpy, sys\n"
        "sys.path.insert(0, %r)\n"
        "sys.argv = ['authserver.py', %r]\n"
        "import faultserver\n"
        "def serve(h):\n"
        "    srv = faultserver.Server((%r, 0), h)\n"
        "    print('PORT %%d' %% srv.server_address[1], flush=True)\n"
        "    srv.serve_forever()\n"
        "faultserver.serve = serve\n"
        "runpy.run_path(%r, run_name='__main__')\n"
        % (HERE, env.data, host, os.path.join(HERE, "authserver.py")))
    e = dict(os.environ)
    e.update(env.auth_env)
    p = subprocess.Popen([sys.executable, "-c", code],
                         stdout=subprocess.PIPE, text=True, env=e)
    env.procs.append(p)
    return int(p.stdout.readline().split()[1])


def other_host(env):
    if getattr(env, "aport3", None) is None:
        env.aport3 = spawn_auth_on(env, "127.0.0.2")
    return env.aport3


def seen_at(host, port, tag):
    with urllib.request.urlopen("http://%s:%d/seen/%s" % (host, port,
                                                          tag)) as f:
        return json.load(f)


def write_netrc(env, name, text):
    path = os.path.join(env.work, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def encodings(s):
    """A secret as it may show: plain, URL-encoded, base64 (give the
    user:password pair to catch a Basic header)."""
    return (s, urllib.parse.quote(s, safe=""), urllib.parse.quote_plus(s),
            base64.b64encode(s.encode()).decode())


def check_clean(r, extra):
    """expect_run's scan, for secrets only this case knows."""
    for s in extra:
        for form in encodings(s):
            expect(form not in r.err, "a secret appeared on stderr")
            expect(form.encode() not in r.out, "a secret appeared on stdout")


@case("RANGECAT_HEADERS values are [redacted] at -v whatever the name")
def t_secrets_headers_any_name(env):
    val = "jfrog-" + secrets.token_hex(8)
    r = run(env, ["-v", "-v", "-n", "2", "--chunk-size", "64K",
                  env.aurl("a/open/sh1/f262145")],
            envvars={"RANGECAT_HEADERS":
                     "X-JFrog-Art-Api: %s\nX-Plain-Looking: %s2\n" % (
                         val, val)})
    expect_run(r, 0, env.files["f262145"],
               err=r"> X-JFrog-Art-Api: \[redacted\]")
    expect("> X-Plain-Looking: [redacted]" in r.err,
           "the second RANGECAT_HEADERS header is not redacted")
    check_clean(r, [val])
    # They were sent, on every range.
    got = seen(env, "sh1", env.aport)
    expect(len(got) > 3 and all(h.get("X-JFrog-Art-Api") == val
                                for h in got), "the header was not sent")


@case("NETRC: credentials only to the origin, never after a redirect")
def t_secrets_netrc_origin(env):
    a = env.auth_env
    want = env.files["f4194304"]
    port3 = other_host(env)
    entry = 'login %s password "%s"' % (a["AUTH_USER"], a["AUTH_PASSWORD"])
    decoy = "decoy-" + secrets.token_hex(8)
    cases = (
        # A machine entry for 127.0.0.1, a redirect to another port.
        ("n1", "machine 127.0.0.1 %s\n" % entry,
         "127.0.0.1", env.aport2),
        # Only a default entry: it is for the origin, not 127.0.0.2.
        ("n2", "# comment\ndefault %s\n" % entry, "127.0.0.2", port3),
        # An entry for the other host too: not looked up there.
        ("n3", "machine 127.0.0.2 login bob password %s\n"
               "macdef init\ncd /\n\nmachine 127.0.0.1 %s\n" % (decoy, entry),
         "127.0.0.2", port3),
    )
    for tag, text, host, port in cases:
        netrc = write_netrc(env, "netrc-" + tag, text)
        loc = "http://%s:%d/a/open/%s/f4194304" % (host, port, tag)
        url = env.aurl("a/basic+loc/%s/f4194304?loc=%s" % (
            tag, urllib.parse.quote(loc, safe="")))
        r = arun(env, small([url]), {"NETRC": netrc})
        expect_run(r, 0, want, err=r"another origin: no credentials")
        check_clean(r, [decoy])
        got = seen_at(host, port, tag)
        expect(len(got) > 10, "%s: the second server saw %d requests" % (
            tag, len(got)))
        expect(all("Authorization" not in h for h in got),
               "%s: NETRC credentials went to %s:%d" % (tag, host, port))
        first = seen(env, tag, env.aport)
        expect(first and first[0].get("Authorization", "").startswith(
            "Basic "), "%s: the origin got no credentials" % tag)
    # The same origin keeps them on every range; a host without an entry
    # gets none, and the refusal says so.
    netrc = write_netrc(env, "netrc-n4", "machine 127.0.0.1 %s\n" % entry)
    r = arun(env, small([env.aurl("a/basic/n4/f4194304")]),
             {"NETRC": netrc})
    expect_run(r, 0, want)
    netrc = write_netrc(env, "netrc-n5", "machine example.org %s\n" % entry)
    r = arun(env, [env.aurl("a/basic/n5/f1")], {"NETRC": netrc})
    expect_run(r, 2, b"", err=r"NETRC has no entry for 127\.0\.0\.1")
    # -H Authorization wins over NETRC, as in curl.
    r = arun(env, ["-H", "Authorization: Bearer " + a["AUTH_TOKEN"],
                   env.aurl("a/bearer/n6/f262145")],
             {"NETRC": write_netrc(env, "netrc-n6", "default %s\n" % entry)})
    expect_run(r, 0, env.files["f262145"])


@case("CR or LF in a credential is refused by the variable's name")
def t_secrets_crlf(env):
    url = env.aurl("a/open/cr/f1")
    names = ["RANGECAT_TOKEN", "RANGECAT_USER", "RANGECAT_PASSWORD",
             "RANGECAT_OAUTH_TOKEN_URL", "RANGECAT_OAUTH_CLIENT_ID",
             "RANGECAT_OAUTH_CLIENT_SECRET", "RANGECAT_OAUTH_SCOPE",
             "RANGECAT_HMAC_KEY", "RANGECAT_HMAC_KEY_ID"]
    aws = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
    for name in names + aws:
        for bad in ("\r", "\n", "\r\n"):
            val = "crlf-" + secrets.token_hex(6)
            r = arun(env, ["s3://bucket/key" if name in aws else url],
                     {name: val + bad + "X-Injected: 1"})
            expect_run(r, 1, b"", err=r"^rangecat: %s holds a CR or LF" %
                       name)
            expect(len(r.err.strip().splitlines()) == 1, "%s: %s" % (
                name, r.err))
            check_clean(r, [val])
    val = "hdr-" + secrets.token_hex(6)
    for hv, pat in (("X-Api-Key: %s\rX-Injected: 1" % val,
                     r"RANGECAT_HEADERS line 1 holds a CR"),
                    ("X-Api-Key: %s\n%s" % (val, val),
                     r"RANGECAT_HEADERS line 2 is not 'Name: value'")):
        r = arun(env, [url], {"RANGECAT_HEADERS": hv})
        expect_run(r, 1, b"", err=pat)
        check_clean(r, [val])
    for hv in ("X-Api-Key: %s\rX: 1" % val, "X-Api-Key: %s\nX: 1" % val):
        r = arun(env, ["-H", hv, url], {})
        expect_run(r, 1, b"", err=r"^rangecat: (-H|--header)")
        check_clean(r, [val])
    # The URL's password may be percent-encoded: CR, LF and NUL are
    # refused too (libcurl would not decode them).
    for enc in ("%0D", "%0a", "%00"):
        url2 = env.aurl("a/basic/cr/f1").replace(
            "//", "//alice:%s%sx@" % (val, enc), 1)
        r = arun(env, [url2], {})
        expect_run(r, 1, b"", err=r"user:password holds a control")
        check_clean(r, [val])
    # A netrc password may be quoted with escapes: \n is refused, and a
    # NUL byte in the file too.
    for text, pat in (('machine 127.0.0.1 login a password "%s\\nX"\n' % val,
                       r"NETRC's entry for 127\.0\.0\.1 holds a CR or LF"),
                      ("machine 127.0.0.1 login a password %s\0\n" % val,
                       r"NETRC holds a NUL byte")):
        r = arun(env, [env.aurl("a/basic/cr/f1")],
                 {"NETRC": write_netrc(env, "netrc-cr", text)})
        expect_run(r, 1, b"", err=pat)
        check_clean(r, [val])


class ForwardProxy(BaseHTTPRequestHandler):
    """A plain-HTTP forward proxy that requires Basic proxy credentials
    and counts what it relayed."""
    protocol_version = "HTTP/1.1"
    want = None
    relayed = 0
    refused = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        cls = type(self)
        if self.headers.get("Proxy-Authorization") != cls.want:
            cls.refused += 1
            self.send_response(407)
            self.send_header("Proxy-Authenticate", "Basic")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        u = urllib.parse.urlsplit(self.path)
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("proxy-authorization",
                                     "proxy-connection", "connection")}
        c.request("GET", u.path + ("?" + u.query if u.query else ""),
                  headers=hdrs)
        resp = c.getresponse()
        cls.relayed += 1
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding"):
                self.send_header(k, v)
        self.end_headers()
        # Relayed as it comes, so a slow origin stays slow.
        for b in iter(lambda: resp.read(16384), b""):
            self.wfile.write(b)
            self.wfile.flush()
        c.close()


def sample_proc(env, args, envvars, user=None):
    """Starts rangecat on a slow transfer, reads /proc/PID/cmdline and
    environ (and who owns environ) while it runs, then waits for it."""
    out_path = os.path.join(env.work, "out-proc")
    e = dict(os.environ)
    for k in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY",
              "HTTPS_PROXY", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        e.pop(k, None)
    e.update(envvars)
    kw = {"user": user} if user is not None else {}
    with open(out_path, "wb") as out:
        p = subprocess.Popen([BIN, "-v"] + args, stdout=out,
                             stderr=subprocess.PIPE, env=e,
                             stdin=subprocess.DEVNULL, **kw)
        # Sampled once rangecat has read its credentials and the slow
        # body is flowing.
        deadline = time.time() + 10
        while time.time() < deadline and os.path.getsize(out_path) == 0:
            time.sleep(0.05)
        time.sleep(0.3)
        try:
            with open("/proc/%d/cmdline" % p.pid, "rb") as f:
                cmdline = f.read()
            with open("/proc/%d/environ" % p.pid, "rb") as f:
                environ = f.read()
            owner = os.stat("/proc/%d/environ" % p.pid).st_uid
            alive = p.poll() is None
        finally:
            err = p.communicate(timeout=120)[1]
    with open(out_path, "rb") as f:
        data = f.read()
    r = Result(p.returncode, data, err.decode(errors="replace"))
    expect(alive, "rangecat ended before /proc was sampled")
    return r, cmdline, environ, owner


def expect_not_in_proc(what, blobs, secrets_):
    for s in secrets_:
        for form in encodings(s):
            for name, blob in blobs:
                expect(form.encode() not in blob,
                       "%s: a secret is in /proc/PID/%s" % (what, name))


@case("passwords wiped from /proc/PID/cmdline and environ; not dumpable")
def t_secrets_proc(env):
    a = env.auth_env
    want = env.files["f4194304"][:512 * KB]
    slow = ["-n", "1", "-r", "0-524287"]
    ppass = "proxy-pw-" + secrets.token_hex(6)
    pair = base64.b64encode(("puser:" + ppass).encode()).decode()
    ForwardProxy.want = "Basic " + pair
    srv = ThreadingHTTPServer(("127.0.0.1", 0), ForwardProxy)
    srv.daemon_threads = True
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    proxy = "http://puser:%s@127.0.0.1:%d" % (urllib.parse.quote(ppass),
                                              srv.server_address[1])
    try:
        # The URL's password, a proxy password on the way (the proxy
        # checks it), and one in https_proxy and all_proxy.
        pw = a["AUTH_PASSWORD"]
        url = env.aurl("a/basic+slow/p1/f4194304").replace(
            "//", "//alice:%s@" % urllib.parse.quote(pw, safe=""), 1)
        before = ForwardProxy.relayed
        r, cmd, envb, owner = sample_proc(
            env, slow + [url], {"http_proxy": proxy, "HTTPS_PROXY": proxy,
                                "ALL_PROXY": proxy}, user=NOBODY)
        expect_run(r, 0, want)
        check_clean(r, [ppass, "puser:" + ppass])
        expect(ForwardProxy.relayed > before,
               "the proxy relayed nothing: libcurl lost http_proxy")
        expect(ForwardProxy.refused == 0, "the proxy refused rangecat")
        expect_not_in_proc("URL and proxies", [("cmdline", cmd),
                                               ("environ", envb)],
                           [pw, ppass, "puser:" + ppass])
        expect(b"alice@127.0.0.1" in cmd, "the URL lost more than its "
               "password: %r" % cmd)
        expect(b"http_proxy=" in envb, "http_proxy vanished from environ")
        expect(owner == 0, "the process holding passwords is dumpable")
        # no_proxy still applies: a dead proxy with a password, bypassed.
        dead = "http://puser:%s@127.0.0.1:%d" % (ppass, free_port())
        r, cmd, envb, owner = sample_proc(
            env, slow + [env.aurl("a/open+slow/p2/f4194304")],
            {"http_proxy": dead, "no_proxy": "127.0.0.1"}, user=NOBODY)
        expect_run(r, 0, want)
        check_clean(r, [ppass])
        expect_not_in_proc("no_proxy", [("environ", envb)], [ppass])
        expect(owner == 0, "a proxy password left the process dumpable")
        # RANGECAT_HEADERS and RANGECAT_TOKEN are wiped the same way.
        hv = a["AUTH_HEADER_VALUE"]
        r, cmd, envb, owner = sample_proc(
            env, slow + [env.aurl("a/header+slow/p3/f4194304")],
            {"RANGECAT_HEADERS": "X-Api-Key: " + hv}, user=NOBODY)
        expect_run(r, 0, want)
        check_clean(r, [hv])
        expect_not_in_proc("RANGECAT_HEADERS", [("environ", envb)], [hv])
        expect(owner == 0, "RANGECAT_HEADERS left the process dumpable")
        r, cmd, envb, owner = sample_proc(
            env, slow + [env.aurl("a/bearer+slow/p4/f4194304")],
            {"RANGECAT_TOKEN": a["AUTH_TOKEN"]}, user=NOBODY)
        expect_run(r, 0, want)
        expect_not_in_proc("RANGECAT_TOKEN", [("environ", envb)],
                           [a["AUTH_TOKEN"]])
        # RANGECAT_HEADER, the environment's -H, may carry a key too: it
        # is wiped from environ, and the header still goes out.
        hv2 = "hdr-" + secrets.token_hex(6)
        r, cmd, envb, owner = sample_proc(
            env, slow + [env.aurl("a/open+slow/p5/f4194304")],
            {"RANGECAT_HEADER": "X-Plain-Key: " + hv2}, user=NOBODY)
        expect_run(r, 0, want)
        expect("> X-Plain-Key" in r.err,
               "the RANGECAT_HEADER header was not sent")
        expect_not_in_proc("RANGECAT_HEADER", [("environ", envb)], [hv2])
        # Without secrets the process stays dumpable: the owner check
        # above can tell the difference.
        r, cmd, envb, owner = sample_proc(
            env, slow + [env.aurl("a/open+slow/p5/f4194304")], {},
            user=NOBODY)
        expect_run(r, 0, want)
        expect(owner == NOBODY, "a run without secrets is not dumpable "
               "(environ owned by %d)" % owner)
    finally:
        srv.shutdown()
        srv.server_close()


@case("long options abbreviated: the resume hint drops, replaces and "
      "redacts them as spelled in full")
def t_secrets_abbreviated_hint(env):
    # getopt_long takes "--rang" for --range and "--head" for --header.
    # The hint kept them as unknown words: "--rang A-B" came after the
    # new "-r", won, and fetched the range again (duplicate bytes), and
    # "--head" printed its value, a credential, in clear.
    val = "tok-" + secrets.token_hex(8)
    data = env.files["f20971520"]
    r = run(env, ["-q", "--chunk-size", "1M", "--retries", "0",
                  "--rang", "1000-1999999",
                  "--head", "Authorization: Bearer " + val,
                  env.furl("abbr", "s404@3", "f20971520")])
    expect_run(r, 2, None, err=r"HTTP 404")
    check_clean(r, [val])
    m = re.search(r"resume with: (.*)$", r.err, re.M)
    expect(m and "--rang " not in m.group(1) and
           re.search(r" -r \d+-1999999 ", m.group(1)),
           "resume command: %s" % r.err[-300:])
    expect("a header's value is not repeated" in r.err,
           "no word of the redacted header: %s" % r.err[-300:])
    resume(env, r, data[1000:2000000])


@case("every request says Accept-Encoding: identity")
def t_accept_encoding_identity(env):
    # Without it any coding is acceptable (RFC 9110 12.5.3): a server
    # could send the file compressed, and the bytes written would not be
    # the file's.
    r = run(env, ["-n", "2", "--chunk-size", "64K",
                  env.aurl("a/open/ae1/f262145")])
    expect_run(r, 0, env.files["f262145"])
    got = seen(env, "ae1", env.aport)
    expect(len(got) > 2 and all(h.get("Accept-Encoding") == "identity"
                                for h in got),
           "Accept-Encoding sent: %s" % [h.get("Accept-Encoding")
                                         for h in got])
