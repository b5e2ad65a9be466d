# Every run ends in bounded time and says why it waits; messages a user can
# act on (issue 11, items 6 and 7). Exec'd into run.py's namespace.


def timed(env, args, **kw):
    """run() that also returns the seconds it took."""
    t = time.time()
    r = run(env, args, **kw)
    return r, time.time() - t


def signalled(env, args, sig, after, envvars=None):
    """Starts rangecat, sends sig after `after` seconds, and returns the
    Result and how long it took to exit after the signal."""
    out = os.path.join(env.work, "out")   # where resume() appends
    e = dict(os.environ)
    e.pop("http_proxy", None)
    e.pop("https_proxy", None)
    e.update(envvars or {})
    with open(out, "wb") as f:
        p = subprocess.Popen([BIN] + args, stdout=f, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=e)
        time.sleep(after)
        if p.poll() is not None:
            raise Fail("rangecat ended before the signal: %r"
                       % p.stderr.read()[-300:])
        p.send_signal(sig)
        t = time.time()
        try:
            err = p.communicate(timeout=30)[1].decode(errors="replace")
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise Fail("no exit within 30 s of the signal")
        took = time.time() - t
    return Result(p.returncode, open(out, "rb").read(), err), took


def closed_port_url():
    return "http://127.0.0.1:%d/x" % free_port()


@case("a host that does not resolve fails at once, in curl's words")
def t_tb_dns(env):
    r, took = timed(env, ["http://no-such-host.invalid/f"])
    expect_run(r, 3, b"",
               err=r"^rangecat: Could not resolve host: no-such-host\.invalid")
    expect("retry" not in r.err, "a resolve failure was retried: " + r.err)
    expect(took < 5, "took %.1f s" % took)


@case("a refused connection: each retry announced, but not with -q")
def t_tb_refused(env):
    url = closed_port_url()
    r = run(env, ["--retries", "2", "--retry-delay", "50ms", url])
    expect_run(r, 3, b"", err=r"gave up after 2 retries")
    for n in (1, 2):
        expect(re.search(r"^rangecat: at byte 0: .*[Cc]onnect.*; retry %d/2 "
                         r"in \d+\.\d s$" % n, r.err, re.M),
               "retry %d not announced: %s" % (n, r.err))
    # Every progress mode shows it; -q shows only the final error.
    for mode in ("--progress=line", "--progress=none", "--progress=json"):
        r = run(env, [mode, "--retries", "1", "--retry-delay", "50ms", url])
        expect_run(r, 3, b"", err=r"retry 1/1 in")
    r = run(env, ["-q", "--retries", "2", "--retry-delay", "50ms", url])
    expect_run(r, 3, b"", err=r"gave up after 2 retries")
    expect("retry 1/" not in r.err and len(r.err.splitlines()) == 1,
           "-q printed more than the error: " + r.err)


@case("--speed-limit ends a drip (a byte every 0.5 s) with the resume hint")
def t_tb_speed_limit(env):
    data = env.files["f65536"]
    r, took = timed(env, ["-n", "1", "--speed-limit", "100", "--speed-time",
                          "2", env.furl("tb-drip", "drip@0", "f65536")])
    expect_run(r, 3, None, err=r"under --speed-limit 100")
    expect(2 <= took < 8, "took %.1f s" % took)
    expect(len(r.out) > 0 and data.startswith(r.out), "delivered prefix")
    resume(env, r, data)
    # A healthy run is not ended by the check.
    r = run(env, ["--speed-limit", "1K", "--speed-time", "1",
                  env.url("f4194304")])
    expect_run(r, 0, env.files["f4194304"])


@case("--max-time bounds a drip, a backoff and a silent server")
def t_tb_max_time(env):
    data = env.files["f65536"]
    r, took = timed(env, ["-n", "1", "--max-time", "2",
                          env.furl("tb-mt", "drip@0", "f65536")])
    expect_run(r, 3, None, err=r"longer than --max-time 2 s")
    expect(2 <= took < 4, "took %.1f s" % took)
    resume(env, r, data)
    r, took = timed(env, ["--max-time", "1", "--retry-delay", "20",
                          closed_port_url()])
    expect_run(r, 3, b"", err=r"--max-time 1 s")
    expect(took < 3, "a backoff outlived --max-time: %.1f s" % took)
    r, took = timed(env, ["--max-time", "1", "-t",
                          env.furl("tb-mt2", "mute@0", "f65536")])
    expect_run(r, 3, b"", err=r"--max-time 1 s")
    expect(took < 3, "a silent server outlived --max-time: %.1f s" % took)


@case("SIGINT/SIGTERM end a backoff, a silent zip reader, a token fetch")
def t_tb_signals(env):
    import zipfile
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i in range(3):
            z.writestr("m%d.bin" % i, os.urandom(2 * MB))
    env.add("tb.zip", buf.getvalue())
    n = 0
    for sig, rc in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        n += 1
        # A backoff sleep (20 s) after a refused connection.
        r, took = signalled(env, ["--retry-delay", "20", closed_port_url()],
                            sig, 1.0)
        expect_run(r, rc, b"", err=r"retry 1/5 in")  # backoff
        expect(took < 2, "backoff: exit %.1f s after the signal" % took)
        # The zip reader by ranges: the probe is answered, every later
        # range meets silence.
        r, took = signalled(env, ["-t", env.furl("tb-zip%d" % n, "mute@1x99",
                                                 "tb.zip")], sig, 1.5)
        expect_run(r, rc, b"", err=r"interrupted|terminated")
        expect(took < 2, "zip reader: exit %.1f s after the signal" % took)
        # The OAuth token endpoint that never answers.
        r, took = signalled(env, ["-v", env.url("f1")], sig, 1.0,
                            envvars=oauth_env(env, "token-mute"))
        expect_run(r, rc, b"", err=r"interrupted|terminated")
        expect(took < 2, "token fetch: exit %.1f s after the signal" % took)
        # Mid-transfer on a drip: the bytes so far and the resume hint.
        r, took = signalled(env, ["-n", "1", env.furl("tb-sd%d" % n,
                                                      "drip@0", "f65536")],
                            sig, 2.0)
        expect_run(r, rc, None, err=r"delivered \d+ bytes; resume with: ")
        expect(took < 2, "drip: exit %.1f s after the signal" % took)
        resume(env, r, env.files["f65536"])


@case("a silent zip reader is bounded by --stall-timeout and retried")
def t_tb_zip_stall(env):
    if "tb.zip" not in env.files:
        import zipfile
        import io
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            for i in range(3):
                z.writestr("m%d.bin" % i, os.urandom(2 * MB))
        env.add("tb.zip", buf.getvalue())
    r, took = timed(env, ["-t", "--stall-timeout", "1", "--retries", "1",
                          "--retry-delay", "50ms",
                          env.furl("tb-zs", "mute@1x99", "tb.zip")])
    expect_run(r, 3, b"", err=r"gave up after 1 retries")
    expect(re.search(r"^rangecat: bytes \d+-\d+: .*; retry 1/1 in", r.err,
                     re.M), "the zip reader's retry was not announced: "
           + r.err)
    expect(took < 8, "took %.1f s" % took)


@case("malformed framing fails fast, naming what was wrong")
def t_tb_malformed(env):
    for spec, what in (("tecl@0", r"both Content-Length and "
                        r"Transfer-Encoding: chunked"),
                       ("badcl@0", r"Content-Length"),
                       ("twocl@0", r"two different Content-Lengths"),
                       ("hugecl@0", r"Content-Length too large"),
                       ("cap,twocl@2", r"two different Content-Lengths"),
                       ("cap,hugecl@3", r"Content-Length too large")):
        # (cap: behind a per-request cap ranges follow the one stream a
        # short path starts with, and there are requests 2 and 3.)
        r, took = timed(env, ["--chunk-size", "1M", env.furl(
            "tb-mf-" + spec, spec, "f4194304")])
        expect_run(r, 3, None, err=r"malformed reply.*" + what)
        expect("retry" not in r.err, spec + " was retried: " + r.err)
        expect(took < 3, "%s took %.1f s" % (spec, took))
        expect(env.files["f4194304"].startswith(r.out), "not a prefix")


@case("a proxy's 407 and 401 name the proxy, not the origin")
def t_tb_proxy(env):
    proxy = "http://127.0.0.1:%d" % env.fport
    for spec in ("s407@0", "p401@0"):
        url = "http://origin.invalid/f/tb-px-%s/%s/f1" % (spec, spec)
        r = run(env, [url], envvars={"http_proxy": proxy})
        expect_run(r, 2, b"", err=r"HTTP 40[17] from the proxy "
                   + re.escape(proxy) + r" \(http_proxy\): it wants "
                   r"credentials")
        expect("origin.invalid" not in r.err, "names the origin: " + r.err)
        expect("no credentials were sent" not in r.err, r.err)
    # A CONNECT tunnel refused with 407 (https through the proxy).
    r = run(env, ["https://origin.invalid/f1"],
            envvars={"https_proxy": proxy})
    expect_run(r, 2, b"", err=r"HTTP 407 from the proxy " + re.escape(proxy)
               + r" \(https_proxy\): it wants credentials")
    expect("origin.invalid" not in r.err and "retry" not in r.err, r.err)
    # The proxy's password is not repeated.
    r = run(env, ["http://origin.invalid/f/tb-px2/s407@0/f1"],
            envvars={"http_proxy": "http://u:" + SECRET + "@127.0.0.1:%d"
                     % env.fport})
    expect_run(r, 2, b"", err=r"from the proxy http://\[redacted\]@127")
    # Through the proxy, a healthy file arrives whole.
    r = run(env, ["http://origin.invalid/f/tb-px3/-/f65536"],
            envvars={"http_proxy": proxy})
    expect_run(r, 0, env.files["f65536"])


@case("a plain 403 without credentials does not point at credentials")
def t_tb_403(env):
    r = run(env, [env.furl("tb-403", "s403@0", "f1")])
    expect_run(r, 2, b"", err=r"^rangecat: HTTP 403 from \S+$")
    expect("credential" not in r.err and "RANGECAT_" not in r.err, r.err)


@case("--cacert with a missing or unreadable file is a usage error")
def t_tb_cacert(env):
    r = run(env, ["--cacert", "/nonexistent/ca.pem", env.url("f1")])
    expect_run(r, 1, b"", err=r"^rangecat: --cacert /nonexistent/ca\.pem: "
               r"No such file or directory$")
    r = run(env, ["--cacert", env.work, env.url("f1")])
    expect_run(r, 1, b"", err=r"--cacert .*: Is a directory")
    unreadable = os.path.join(env.work, "noread.pem")
    open(unreadable, "w").close()
    os.chmod(unreadable, 0)
    if os.geteuid() != 0:   # root reads anything
        r = run(env, ["--cacert", unreadable, env.url("f1")])
        expect_run(r, 1, b"", err=r"--cacert .*: Permission denied")


@case("--progress=json ends with the outcome: ok, failed, interrupted")
def t_tb_json_end(env):
    def last(err):
        lines = [l for l in err.splitlines() if l.startswith("{")]
        expect(lines, "no JSON line: " + err)
        expect(err.rstrip("\n").splitlines()[-1] == lines[-1],
               "the final object is not the last line: " + err[-300:])
        return json.loads(lines[-1])
    data = env.files["f4194304"]
    r = run(env, ["--progress=json", env.url("f4194304")])
    expect_run(r, 0, data)
    j = last(r.err)
    expect(j == {"outcome": "ok", "ok": True, "exit": 0, "error": None,
                 "bytes": len(data)}, "success: %r" % j)
    r = run(env, ["--progress=json", env.url("nope")])
    expect_run(r, 2, b"")
    j = last(r.err)
    expect(j["outcome"] == "failed" and j["exit"] == 2 and not j["ok"] and
           "HTTP 404" in j["error"] and j["bytes"] == 0, "404: %r" % j)
    r, _ = signalled(env, ["--progress=json", "-n", "1", env.furl(
        "tb-js", "drip@0", "f65536")], signal.SIGTERM, 1.5)
    expect_run(r, 143, None)
    j = last(r.err)
    expect(j["outcome"] == "interrupted" and j["exit"] == 143 and
           j["error"] == "terminated" and j["bytes"] == len(r.out) and
           j["bytes"] > 0, "SIGTERM: %r" % j)


@case("a black-holed address is bounded by --connect-timeout, and announced")
def t_tb_blackhole(env):
    # A listener whose backlog is full drops SYNs: connect() hangs, as
    # with a firewall that drops packets, but nothing leaves loopback.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    port = s.getsockname()[1]
    fill = []
    try:
        for _ in range(3):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fill.append(c)
        time.sleep(0.2)
        r, took = timed(env, ["--connect-timeout", "1", "--retries", "1",
                              "--retry-delay", "50ms",
                              "http://127.0.0.1:%d/x" % port])
        expect_run(r, 3, b"", err=r"(?s)after 1\d\d\d ms.*; retry 1/1 in .*"
                   r"gave up after 1 retries")
        expect(2 <= took < 5, "took %.1f s" % took)
    finally:
        for c in fill:
            c.close()
        s.close()


@case("a server that resets after a few bytes every time spends the budget")
def t_tb_nibble(env):
    data = env.files["f65536"]
    r, took = timed(env, ["-n", "1", "--retries", "2", "--retry-delay",
                          "50ms", env.furl("tb-nb", "nibble@0x99", "f65536")],
                    timeout=60)
    expect_run(r, 3, None, err=r"gave up after 2 retries")
    expect(len(r.out) == 30 and data.startswith(r.out),
           "delivered %d bytes" % len(r.out))
    expect(re.search(r"^rangecat: at byte 10: .*; retry 1/2 in", r.err,
                     re.M), "first retry not announced: " + r.err)
    # The hint continues at byte 30 (from a server that behaves now).
    m = re.search(r"delivered 30 bytes; resume with: (.*)$", r.err, re.M)
    expect(m, "no resume hint: " + r.err)
    argv = [a.replace("nibble@0x99", "-") for a in shlex.split(m.group(1))]
    expect(argv[1:3] == ["-C", "30"], "resume command: %s" % m.group(1))
    r2 = run(env, argv[1:], append=True)
    expect_run(r2, 0, data)
