# Progress on stderr as container and script users expect (issue 14 item
# 3): --progress=line prints a start line at once, periodic lines and one
# last line, also when the run fails; --progress=auto is a bar on a
# terminal and lines otherwise; RANGECAT_QUIET and RANGECAT_PROGRESS from
# the environment do not conflict. Read into run.py's namespace.

import pty

PG_START = (r"^rangecat: start: (\S+) \((?:(\S+ \S+), (\d+) bytes"
            r"|size unknown)\)$")
PG_LINE = (r"^rangecat: \d+(\.\d)? \S+ of \d+(\.\d)? \S+ \(\d+%\) at "
           r"\d+(\.\d)? \S+/s, \d+ connections(, ETA \d+:\d\d)?$")
PG_DONE = r"^rangecat: done: \d+(\.\d)? \S+ in \d+\.\d s \(\d+(\.\d)? \S+/s\)$"


def pg_env(envvars=None):
    e = dict(os.environ)
    e.pop("http_proxy", None)
    e.pop("https_proxy", None)
    for k in list(e):
        if k.startswith("RANGECAT_"):
            del e[k]
    e.update(envvars or {})
    return e


def pg_timed_lines(env, args, envvars=None, signal_after=None):
    """Runs rangecat with stderr on a pipe; returns (exit status, stdout,
    [(seconds since start, line)]). signal_after: SIGTERM after that many
    seconds."""
    out = os.path.join(env.work, "out")
    lines = []
    with open(out, "wb") as f:
        t0 = time.time()
        p = subprocess.Popen([BIN] + args, stdout=f, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, env=pg_env(envvars))
        if signal_after is not None:
            import threading
            threading.Timer(signal_after,
                            lambda: p.poll() is None and
                            p.send_signal(signal.SIGTERM)).start()
        for raw in p.stderr:
            lines.append((time.time() - t0,
                          raw.decode(errors="replace").rstrip("\n")))
        rc = p.wait(timeout=120)
    with open(out, "rb") as f:
        data = f.read()
    text = "".join(l + "\n" for _, l in lines)
    for s in SECRETS:
        expect(s not in text, "a secret appeared on stderr")
    return rc, data, lines


def pg_run_tty(env, args, envvars=None):
    """Runs rangecat with stderr on a pseudo-terminal; returns (exit
    status, stdout, what the terminal got)."""
    out = os.path.join(env.work, "out")
    m, s = pty.openpty()
    try:
        with open(out, "wb") as f:
            p = subprocess.Popen([BIN] + args, stdout=f, stderr=s,
                                 stdin=subprocess.DEVNULL,
                                 env=pg_env(envvars))
            os.close(s)
            s = -1
            got = b""
            while True:
                try:
                    b = os.read(m, 4096)
                except OSError:   # EIO: the last writer closed it
                    break
                if not b:
                    break
                got += b
            rc = p.wait(timeout=120)
    finally:
        os.close(m)
        if s >= 0:
            os.close(s)
    with open(out, "rb") as f:
        return rc, f.read(), got.decode(errors="replace")


@case("--progress=line: a start line at once, lines every 5 s, a done line")
def t_pg_line(env):
    # One connection at nginx's 1 MiB/s: 6.5 MiB take about 6.5 s, so
    # one periodic line falls inside.
    n = 6815744
    data = env.files["f20971520"][:n]
    url = env.url("slow/f20971520")
    rc, out, lines = pg_timed_lines(
        env, ["--progress=line", "-n", "1", "-r", "0-%d" % (n - 1), url])
    text = "\n".join(l for _, l in lines)
    expect(rc == 0 and out == data, "exit %d, %d bytes: %s"
           % (rc, len(out), text[-400:]))
    expect(lines and lines[-1][0] >= 5, "took %.1f s: the case needs a "
           "periodic line" % (lines[-1][0] if lines else 0))
    t, first = lines[0]
    m = re.match(PG_START, first)
    expect(m and m.group(1) == url and m.group(2) == "6.5 MiB" and
           m.group(3) == str(n), "start line: %r" % first)
    expect(t < 1.5, "the start line came after %.1f s" % t)
    expect(re.match(PG_DONE, lines[-1][1]) and
           lines[-1][1].startswith("rangecat: done: 6.5 MiB in "),
           "last line: %r" % lines[-1][1])
    middle = lines[1:-1]
    expect(middle and all(re.match(PG_LINE, l) for _, l in middle),
           "periodic lines: %r" % middle)
    expect(all(" of 6.5 MiB " in l for _, l in middle), "total: %r"
           % middle)
    expect(all(4 <= t - lines[0][0] for t, _ in middle), "a periodic line "
           "came early: %r" % middle)


@case("--progress=line: a failed or interrupted run ends with a last line")
def t_pg_line_failed(env):
    # The probe is never answered: the start line comes within a second,
    # without a size; --max-time ends the run with exit 3.
    url = env.furl("pg-mute", "mute@0", "f65536")
    rc, out, lines = pg_timed_lines(
        env, ["--progress=line", "-n", "1", "--max-time", "3", url])
    text = "\n".join(l for _, l in lines)
    expect(rc == 3 and out == b"", "exit %d: %s" % (rc, text[-400:]))
    expect(re.match(PG_START, lines[0][1]) and
           lines[0][1].endswith("(size unknown)") and url in lines[0][1],
           "start line: %r" % lines[0][1])
    expect(lines[0][0] < 2, "the start line came after %.1f s"
           % lines[0][0])
    expect(re.match(r"^rangecat: failed: 0 B in \d+\.\d s \(0 B/s\), "
                    r"exit 3$", lines[-1][1]), "last line: %r" % text)
    expect(any("--max-time" in l for _, l in lines[1:-1]),
           "the error is not before the last line: %r" % text)
    # Refused at once, before the start line: the last line names the
    # URL instead.
    url = env.url("nope")
    rc, out, lines = pg_timed_lines(env, ["--progress=line", url])
    text = "\n".join(l for _, l in lines)
    expect(rc == 2 and len(lines) == 2 and "HTTP 404" in lines[0][1] and
           re.match(r"^rangecat: failed: %s: 0 B in \d+\.\d s \(0 B/s\), "
                    r"exit 2$" % re.escape(url), lines[1][1]),
           "a 404: exit %d: %s" % (rc, text))
    # A range refused after the probe: the size is known, the resume
    # hint comes before the last line.
    data = env.files["f20971520"]
    rc, out, lines = pg_timed_lines(
        env, ["--progress=line", "--retries", "0", "--chunk-size", "1M",
              env.furl("pg-404", "s404@3", "f20971520")])
    text = "\n".join(l for _, l in lines)
    expect(rc == 2 and data.startswith(out) and len(out) > 0,
           "exit %d, %d bytes: %s" % (rc, len(out), text[-400:]))
    expect(lines[0][1].endswith("(20.0 MiB, 20971520 bytes)"),
           "start line: %r" % lines[0][1])
    expect(re.match(r"^rangecat: failed: \d+(\.\d)? \S+ of 20\.0 MiB in "
                    r"\d+\.\d s \(.*/s\), exit 2$", lines[-1][1]),
           "last line: %r" % text)
    expect(re.search(r"resume with: ", lines[-2][1]), "the resume hint "
           "is not just before the last line: %r" % text)
    # SIGTERM mid-transfer: "interrupted", exit 143.
    rc, out, lines = pg_timed_lines(
        env, ["--progress=line", "-n", "1",
              env.furl("pg-term", "drip@0", "f65536")], signal_after=1.5)
    text = "\n".join(l for _, l in lines)
    expect(rc == 143, "exit %d: %s" % (rc, text[-400:]))
    expect(lines[0][1].endswith("(64.0 KiB, 65536 bytes)"),
           "start line: %r" % lines[0][1])
    expect(re.match(r"^rangecat: interrupted: \d+ B of 64\.0 KiB in "
                    r"\d+\.\d s \(.*/s\), exit 143$", lines[-1][1]),
           "last line: %r" % text)
    expect(sum(l.startswith("rangecat: start: ") for _, l in lines) == 1,
           "start lines: %r" % text)


@case("--progress=line/json: the URL's credentials redacted, bytes escaped")
def t_pg_url(env):
    # userinfo and a signature in the query; an invalid UTF-8 byte (given
    # raw on argv through a surrogate escape).
    url = ("http://u:%s@127.0.0.1:%d/f65536?X-Amz-Signature=%s&a=\udce9"
           % (SECRET, env.port, SECRET))
    shown = ("http://[redacted]@127.0.0.1:%d/f65536?X-Amz-Signature="
             "[redacted]&a=\\351" % env.port)
    rc, out, lines = pg_timed_lines(env, ["--progress=line", url])
    text = "\n".join(l for _, l in lines)
    expect(rc == 0 and out == env.files["f65536"], "exit %d: %s"
           % (rc, text))
    expect(lines[0][1] == "rangecat: start: %s (64.0 KiB, 65536 bytes)"
           % shown, "start line: %r" % lines[0][1])
    rc, out, lines = pg_timed_lines(env, ["--progress=json", url])
    expect(rc == 0, "exit %d" % rc)
    objs = [json.loads(l) for _, l in lines]
    expect(objs[0].get("url") == shown and objs[0]["total"] == 65536 and
           objs[0]["done"] is False, "first object: %r" % objs[0])
    expect(all("url" not in o for o in objs[1:]), "url repeated")
    expect(objs[-2]["done"] is True and objs[-2]["bytes"] == 65536 and
           objs[-1]["outcome"] == "ok", "last objects: %r" % objs[-2:])


@case("RANGECAT_QUIET and RANGECAT_PROGRESS: quiet wins; argv wins over both")
def t_pg_env_rules(env):
    data = env.files["f4194305"]
    url = env.url("f4194305")
    both = {"RANGECAT_QUIET": "1", "RANGECAT_PROGRESS": "line"}
    r = run(env, [url], envvars=both)
    expect_run(r, 0, data, quiet=True)
    r = run(env, ["--progress=line", url], envvars=both)
    expect_run(r, 0, data, err=r"(?m)^rangecat: start: .*\nrangecat: done: ")
    r = run(env, ["-q", url], envvars={"RANGECAT_PROGRESS": "line"})
    expect_run(r, 0, data, quiet=True)
    r = run(env, ["--progress=json", url], envvars={"RANGECAT_QUIET": "1"})
    expect_run(r, 0, data, err=r'"outcome":"ok"')
    # Both on the command line: still a usage error, in the flags' names.
    r = run(env, ["-q", "--progress=line", url])
    expect_run(r, 1, b"",
               err=r"^rangecat: --quiet and --progress cannot be combined")
    r = run(env, [url], envvars={"RANGECAT_PROGRESS": "lines"})
    expect_run(r, 1, b"", err=r"^rangecat: RANGECAT_PROGRESS: expected bar, "
               r"line, json, auto or none\n$")
    # The image's setting with a quiet run on top: nothing but data.
    r = run(env, [url], envvars={"RANGECAT_PROGRESS": "auto",
                                 "RANGECAT_QUIET": "yes"})
    expect_run(r, 0, data, quiet=True)


@case("--progress=auto: a bar on a terminal, lines otherwise; default quiet")
def t_pg_auto(env):
    data = env.files["f4194305"]
    url = env.url("slow/f4194305")   # about 2 s on 2 connections
    for args, envvars in ((["--progress=auto"], None),
                          ([], {"RANGECAT_PROGRESS": "auto"})):
        rc, out, lines = pg_timed_lines(env, args + ["-n", "2", url],
                                        envvars)
        expect(rc == 0 and out == data, "exit %d" % rc)
        expect(re.match(PG_START, lines[0][1]) and
               re.match(PG_DONE, lines[-1][1]), "%r: lines %r"
               % (args or envvars, lines))
        rc, out, tty = pg_run_tty(env, args + ["-n", "2", url], envvars)
        expect(rc == 0 and out == data, "exit %d on a terminal" % rc)
        expect(re.search(r"\r\x1b\[K\[[#.]{20}\] +\d+% ", tty) and
               "rangecat: start" not in tty and tty.endswith("\r\x1b[K"),
               "%r on a terminal: %r" % (args or envvars, tty[-300:]))
    # No setting: the bar on a terminal, nothing on a pipe.
    rc, out, tty = pg_run_tty(env, ["-n", "2", url])
    expect(rc == 0 and out == data and
           re.search(r"\r\x1b\[K\[[#.]{20}\] +\d+% ", tty),
           "no bar on a terminal by default: %r" % tty[-300:])
    r = run(env, ["-n", "2", url])
    expect_run(r, 0, data, quiet=True)
