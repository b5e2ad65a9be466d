# -o FILE (issue 15, item 1): FILE.part renamed when complete, resumed by
# the same command only against the same remote version, --remove-on-error,
# a full disk, umask, -o -. Read into run.py's namespace (see run.py).

import threading

XATTR = "user.rangecat.resume"


def orun(env, args, umask=None, **kw):
    """Runs rangecat with -o somewhere; stdout must stay empty."""
    if umask is None:
        return run(env, args, **kw)
    old = os.umask(umask)
    try:
        return run(env, args, **kw)
    finally:
        os.umask(old)


def out_dir(env, name):
    d = os.path.join(env.work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def expect_file(path, want, what):
    expect(os.path.exists(path), "%s: %s missing" % (what, path))
    with open(path, "rb") as f:
        got = f.read()
    expect(sha(got) == sha(want), "%s: %s has %d bytes, wanted %d exact"
           % (what, path, len(got), len(want)))
    expect(not os.path.exists(path + ".part"), what + ": .part left")
    expect(not os.path.exists(path + ".part.rangecat"),
           what + ": sidecar left")
    try:
        os.getxattr(path, XATTR)
        expect(False, what + ": the finished file kept the resume xattr")
    except OSError:
        pass


def log_since(env, before):
    """The nginx access log lines after line number before, as
    (status, range start, if-match, bytes, uri)."""
    time.sleep(0.3)  # a killed client's requests are logged as they end
    rows = []
    for line in open(env.access_log).read().splitlines()[before:]:
        m = re.match(r'\S+ (\d+) "([^"]*)" "([^"]*)" "[^"]*" "[^"]*" '
                     r'(\d+) (\S+)', line)
        if m:
            s = re.match(r"bytes=(\d+)-", m.group(2))
            rows.append((int(m.group(1)), int(s.group(1)) if s else None,
                         m.group(3), int(m.group(4)), m.group(5)))
    return rows


def log_lines(env):
    return open(env.access_log).read().count("\n")


@case("-o: FILE exact and only FILE; -o - is stdout; replaces on success")
def t_out_basic(env):
    d = out_dir(env, "ob")
    for n in (0, 1, 64 * KB + 1, 4 * MB + 1, 20 * MB):
        dest = os.path.join(d, "f%d" % n)
        r = orun(env, ["-o", dest, env.url("f%d" % n)])
        expect_run(r, 0, b"", quiet=True)
        expect_file(dest, env.files["f%d" % n], "size %d" % n)
    # An existing FILE is replaced only on success; a failure leaves it.
    dest = os.path.join(d, "f1")
    r = orun(env, ["-o", dest, env.url("nope")])
    expect_run(r, 2, b"", err=r"HTTP 404")
    expect_file(dest, env.files["f1"], "after a 404")
    r = orun(env, ["-o", dest, env.url("f65537")])
    expect_run(r, 0, b"")
    expect_file(dest, env.files["f65537"], "replaced")
    # "-o -" is stdout, as with curl.
    r = orun(env, ["-o", "-", env.url("f65537")])
    expect_run(r, 0, env.files["f65537"], quiet=True)
    # A closed stdout does not matter with -o.
    p = subprocess.run("%s -o %s %s >&-" % (BIN, shlex.quote(dest),
                                             env.url("f65536")),
                       shell=True, capture_output=True, timeout=60)
    expect(p.returncode == 0 and p.stderr == b"",
           "closed stdout: rc %d %r" % (p.returncode, p.stderr))
    expect_file(dest, env.files["f65536"], "closed stdout")
    # A relative name lands in the working directory.
    r = run(env, ["-o", "rel", env.url("f2")])
    expect_run(r, 0, b"")
    expect_file("rel", env.files["f2"], "relative")
    os.unlink("rel")
    # -d writes the decoded bytes.
    data = env.files["f4194305"]
    comp = os.path.join(env.work, "ob.zst")
    with open(comp, "wb") as f:
        f.write(subprocess.run(["zstd", "-q", "-c"], input=data,
                               capture_output=True, check=True).stdout)
    shutil.copy(comp, os.path.join(env.data, "ob.zst"))
    t = time.time() - 3600
    os.utime(os.path.join(env.data, "ob.zst"), (t, t))
    dest = os.path.join(d, "dec")
    r = orun(env, ["-d", "-o", dest, env.url("ob.zst")])
    expect_run(r, 0, b"", quiet=True)
    expect_file(dest, data, "-d")
    # A partial decoded file is not continued.
    with open(dest + ".part", "wb") as f:
        f.write(b"x" * 100)
    r = orun(env, ["-d", "-o", dest, env.url("ob.zst")])
    expect_run(r, 0, b"", err=r"dec\.part: decoded output cannot be "
               r"resumed: starting over")
    expect_file(dest, data, "-d over a .part")


@case("-o: mode bits follow the umask (077, 022)")
def t_out_umask(env):
    d = out_dir(env, "om")
    for mask, mode in ((0o077, 0o600), (0o022, 0o644), (0o002, 0o664)):
        dest = os.path.join(d, "m%o" % mask)
        r = orun(env, ["-o", dest, env.url("f65536")], umask=mask)
        expect_run(r, 0, b"")
        got = os.stat(dest).st_mode & 0o7777
        expect(got == mode, "umask %03o: mode %03o, wanted %03o"
               % (mask, got, mode))


@case("-o: usage: -x/-t/--member refused, --remove-on-error alone, -C N "
      "must match FILE.part")
def t_out_usage(env):
    d = out_dir(env, "ou")
    dest = os.path.join(d, "x")
    for extra, pat in ((["-x", d], r"--output cannot be combined with "
                        r"--extract"),
                       (["-t"], r"--output cannot be combined with --list"),
                       (["--member", "a"], r"--output cannot be combined "
                        r"with --member")):
        r = run(env, extra + ["-o", dest, env.url("f1")])
        expect_run(r, 1, b"", err=pat)
    r = run(env, ["--remove-on-error", env.url("f1")])
    expect_run(r, 1, b"", err=r"--remove-on-error goes with --output")
    r = run(env, ["-o", d + "/", env.url("f1")])
    expect_run(r, 1, b"", err=r"--output: expected a file name")
    r = run(env, ["-o", d, env.url("f1")])
    expect_run(r, 5, b"", err=r"--output: .*/ou is a directory")
    expect(not os.path.exists(d + ".part"), "ou.part made")
    with open(dest + ".part", "wb") as f:
        f.write(env.files["f65536"][:1000])
    r = run(env, ["-C", "999", "-o", dest, env.url("f65536")])
    expect_run(r, 1, b"", err=r"--continue-at 999: .*x\.part holds 1000 "
               r"bytes")
    expect(os.path.getsize(dest + ".part") == 1000, "-C refusal touched "
           "FILE.part")
    # -C N that matches continues, unchecked (no metadata), and says so.
    r = run(env, ["-C", "1000", "-o", dest, env.url("f65536")])
    expect_run(r, 0, b"", err=r"not checked against the remote")
    expect_file(dest, env.files["f65536"], "-C 1000")
    # -C - takes FILE.part's size.
    with open(dest + ".part", "wb") as f:
        f.write(env.files["f65536"][:777])
    r = run(env, ["-C", "-", "-o", dest, env.url("f65536")])
    expect_run(r, 0, b"")
    expect_file(dest, env.files["f65536"], "-C -")
    # A FILE.part without metadata is not trusted.
    with open(dest + ".part", "wb") as f:
        f.write(b"\0" * 5000)
    r = run(env, ["-o", dest, env.url("f65536")])
    expect_run(r, 0, b"", err=r"x\.part: its resume metadata is missing "
               r"or damaged: starting over")
    expect_file(dest, env.files["f65536"], "no metadata")


def kill_midway(env, argv, part, least=1 * MB, limit=30):
    """Starts rangecat, SIGKILLs it once part holds at least least bytes
    and returns the size; meanwhile a poller checks FILE never exists."""
    dest = part[:-len(".part")]
    seen = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            if os.path.exists(dest):
                seen.append(time.time())
            time.sleep(0.002)
    th = threading.Thread(target=poll, daemon=True)
    th.start()
    try:
        p = subprocess.Popen([BIN] + argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        t0 = time.time()
        while time.time() - t0 < limit:
            if p.poll() is not None or (os.path.exists(part) and
                                        os.path.getsize(part) >= least):
                break
            time.sleep(0.01)
        p.kill()
        out, err = p.communicate(timeout=30)
    finally:
        stop.set()
        th.join()
    expect(p.returncode == -signal.SIGKILL, "not killed: rc %d %s"
           % (p.returncode, err[-300:]))
    expect(out == b"", "-o wrote to stdout")
    expect(not seen, "FILE existed while the run was going")
    return os.path.getsize(part)


def poll_run(env, argv, dest, want):
    """Runs rangecat to its end while a poller checks that dest, whenever
    it exists, is complete (it appears by rename, the run's last act)."""
    bad = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                n = os.path.getsize(dest)
                if n != len(want):
                    bad.append(n)
            except OSError:
                pass
            time.sleep(0.002)
    th = threading.Thread(target=poll, daemon=True)
    th.start()
    try:
        p = subprocess.run([BIN] + argv, capture_output=True, timeout=120)
    finally:
        stop.set()
        th.join()
    expect(not bad, "FILE seen incomplete during the run: %r" % bad[:3])
    return Result(p.returncode, p.stdout, p.stderr.decode(errors="replace"))


@case("-o: kill -9 mid-run, the same command fetches only the rest")
def t_out_kill_resume(env):
    data = env.files["f20971520"]
    d = out_dir(env, "ok")
    dest = os.path.join(d, "big")
    part = dest + ".part"
    argv = ["-n", "4", "-o", dest, env.url("slow/f20971520")]
    size = kill_midway(env, argv, part, least=2 * MB)
    expect(0 < size < len(data), "killed with %d bytes" % size)
    expect(open(part, "rb").read() == data[:size],
           "FILE.part is not a prefix of the file")
    meta = os.getxattr(part, XATTR).decode()
    expect(re.search(r"(?m)^etag \"", meta) and
           "length %d" % len(data) in meta, "metadata: %r" % meta)
    expect("127.0.0.1" not in meta and "slow" not in meta,
           "the URL itself is stored: %r" % meta)
    before = log_lines(env)
    r = poll_run(env, argv + ["-v"], dest, data)
    expect_run(r, 0, b"", err=r"continuing after its %d bytes" % size)
    expect_file(dest, data, "resumed")
    rows = [x for x in log_since(env, before) if "f20971520" in x[4]]
    expect(rows, "no requests logged")
    starts = sorted(x[1] for x in rows)
    expect(starts[0] == size, "first range starts at %d, .part had %d"
           % (starts[0], size))
    probe = [x for x in rows if x[1] == size]
    expect(probe and re.match(r'^(\\x22|")[0-9a-f]', probe[0][2]),
           "the probe did not send If-Match: %r" % probe)
    sent = sum(x[3] for x in rows)
    expect(sent <= len(data) - size + 4 * MB,
           "%d bytes sent for a rest of %d" % (sent, len(data) - size))
    # A FILE.part already complete (killed before its rename) fetches
    # its last byte again, to prove the version, and is renamed.
    os.unlink(dest)
    size = kill_midway(env, argv, part, least=1 * MB)
    with open(part, "ab") as f:
        f.write(data[size:])
    before = log_lines(env)
    r = run(env, argv)
    expect_run(r, 0, b"", quiet=True)
    expect_file(dest, data, "complete .part")
    rows = [x for x in log_since(env, before) if "f20971520" in x[4]]
    expect([x[1] for x in rows] == [len(data) - 1],
           "requests for a complete .part: %r" % rows)


@case("-o: a remote that changed between runs starts over and says so")
def t_out_changed(env):
    d = out_dir(env, "oc")
    dest = os.path.join(d, "chg")
    part = dest + ".part"
    old = env.files["f20971520"]
    new = os.urandom(len(old) - 12345)
    src = os.path.join(env.data, "outchg")
    with open(src, "wb") as f:
        f.write(old)
    t = time.time() - 3600
    os.utime(src, (t, t))
    argv = ["-n", "4", "-o", dest, env.url("slow/outchg")]
    size = kill_midway(env, argv, part, least=1 * MB)
    with open(src, "wb") as f:
        f.write(new)
    t = time.time() - 1800
    os.utime(src, (t, t))
    before = log_lines(env)
    r = poll_run(env, argv, dest, new)
    expect_run(r, 0, b"", err=r"chg\.part: the remote file is no longer "
               r"the version of its %d bytes: starting over" % size)
    expect(len(re.findall(r"starting over", r.err)) == 1,
           "said more than once: %s" % r.err)
    expect_file(dest, new, "changed remote")
    rows = [x for x in log_since(env, before) if "outchg" in x[4]]
    expect(rows and rows[0][0] == 412 and rows[0][1] == size,
           "first request: %r" % rows[:2])
    expect(0 in [x[1] for x in rows], "not fetched from 0: %r" % rows)
    # A FILE.part written for another URL is not continued either.
    os.unlink(dest)
    size = kill_midway(env, argv, part, least=1 * MB)
    r = run(env, ["-o", dest, env.url("f20971520")])
    expect_run(r, 0, b"", err=r"written for another URL or range: "
               r"starting over")
    expect_file(dest, old, "another URL")


@case("-o: a failure keeps FILE.part, the same command resumes it; "
      "--remove-on-error removes it; --sha256 spans both runs")
def t_out_fail_resume(env):
    data = env.files["f20971520"]
    d = out_dir(env, "of")
    dest = os.path.join(d, "f")
    third = len(data) // 3
    for extra, want, base in (
            ([], data, 0), (["--sha256", sha(data)], data, 0),
            (["-r", "1000-15000000"], data[1000:15000001], 1000),
            (["--shard", "2/3"], data[third:2 * third], third)):
        tok = "of-%d" % len(extra) + (extra[0] if extra else "")
        argv = extra + ["-v", "-n", "2", "--chunk-size", "1M", "--retries",
                        "0", "-o", dest, env.furl(tok, "s404@5", "f20971520")]
        r = run(env, argv)
        expect_run(r, 2, b"", err=r"HTTP 404(.|\n)*f\.part kept: \d+ bytes "
                   r"\(\d+ of this run\); resume with the same command")
        expect(not os.path.exists(dest), "FILE after a failure")
        size = os.path.getsize(dest + ".part")
        expect(0 < size < len(want) and
               open(dest + ".part", "rb").read() == want[:size],
               "FILE.part: %d bytes, not a prefix" % size)
        expect("resume with: rangecat" not in r.err, "a -C resume hint")
        r = run(env, argv)
        expect_run(r, 0, b"")
        # (--shard first asks for byte 0 alone, for the size)
        first = [a for a, b in re.findall(r"GET bytes=(\d+)-(\d*)", r.err)
                 if (a, b) != ("0", "0")]
        expect(first and int(first[0]) == base + size,
               "resumed at %s, .part held %d" % (first[:1], size))
        expect_file(dest, want, "resumed %s" % extra[:1])
        os.unlink(dest)
    # --sha256 mismatch: FILE is not made; the partial is not trusted.
    r = run(env, ["--sha256", "0" * 64, "-o", dest, env.url("f65536")])
    expect_run(r, 7, b"", err=r"f\.part kept for inspection")
    expect(not os.path.exists(dest), "FILE made despite --sha256")
    r = run(env, ["--sha256", sha(env.files["f65536"]), "-o", dest,
                  env.url("f65536")])
    expect_run(r, 0, b"", err=r"resume metadata is missing or damaged: "
               r"starting over")
    expect_file(dest, env.files["f65536"], "after a mismatch")
    os.unlink(dest)
    # --remove-on-error.
    r = run(env, ["--remove-on-error", "-n", "2", "--chunk-size", "1M",
                  "--retries", "0", "-o", dest,
                  env.furl("of-rm", "s404@5", "f20971520")])
    expect_run(r, 2, b"", err=r"f\.part removed \(--remove-on-error\)")
    expect(not os.path.exists(dest + ".part") and
           not os.path.exists(dest), "files left after --remove-on-error")
    # A failure before any byte leaves nothing behind.
    r = run(env, ["-o", dest, env.url("nope")])
    expect_run(r, 2, b"", err=r"HTTP 404")
    expect(os.listdir(d) == [], "left: %s" % os.listdir(d))


@case("-o: after -C N fails the hint names -C - for the rerun; a FILE "
      "written in place (/dev/stdout) gets stdout's -C N command")
def t_out_hints(env):
    data = env.files["f20971520"]
    d = out_dir(env, "oh")
    dest = os.path.join(d, "f")
    # The same -C 0 would find FILE.part longer than 0 and refuse.
    for how, env_ in (("-C ", None), ("RANGECAT_CONTINUE_AT=",
                                      {"RANGECAT_CONTINUE_AT": "0"})):
        argv = ["-n", "2", "--chunk-size", "1M", "--retries", "0"] + \
            (["-C", "0"] if env_ is None else []) + \
            ["-o", dest, env.furl("oh-c%d" % len(how), "s404@5",
                                  "f20971520")]
        r = run(env, argv, envvars=env_)
        expect_run(r, 2, b"", err=r"f\.part kept: \d+ bytes \(\d+ of this "
                   r"run\); resume with the same command, %s- in place of "
                   r"%s0" % ((re.escape(how),) * 2))
        if env_ is None:
            argv[argv.index("-C") + 1] = "-"
        r = run(env, argv, envvars=env_ and {"RANGECAT_CONTINUE_AT": "-"})
        expect_run(r, 0, b"")
        expect_file(dest, data, "after %s-" % how)
        os.unlink(dest)
    # No strong ETag: the bytes are not pinned, and the same -C 0 would
    # refuse the longer FILE.part; starting over is the command without.
    argv = ["-n", "2", "--chunk-size", "1M", "--retries", "0", "-C", "0",
            "-o", dest, env.furl("oh-lm", "lm,s404@5", "f20971520")]
    r = run(env, argv)
    expect_run(r, 2, b"", err=r"f\.part kept: \d+ bytes; no strong ETag pins "
               r"their version, so the same command without -C 0 starts "
               r"over \(-C - continues them unchecked\)")
    r = run(env, argv[:6] + argv[8:])
    expect_run(r, 0, b"")
    expect_file(dest, data, "started over")
    os.unlink(dest)
    # In place: no FILE.part, the hint is stdout's and it continues.
    r = run(env, ["-n", "2", "--chunk-size", "1M", "--retries", "0", "-o",
                  "/dev/stdout", env.furl("oh-d", "s404@5", "f20971520")])
    expect_run(r, 2, None, err=r"HTTP 404")
    expect(" -o /dev/stdout " in r.err, "hint: %s" % r.err[-300:])
    resume(env, r, data)
    # -C - there takes stdout's length, as without -o.
    out = os.path.join(env.work, "out")
    with open(out, "wb") as f:
        f.write(env.files["f65536"][:1000])
    r = run(env, ["-C", "-", "-o", "/dev/stdout", env.url("f65536")],
            append=True)
    expect_run(r, 0, env.files["f65536"])
    r = run(env, ["-C", "-", "-o", "/dev/stdout", env.url("f65536")])
    expect_run(r, 1, b"", err=r"-C -: stdout must be a regular file opened "
               r"for append")
    r = run(env, ["-C", "-", "-o", "/dev/null", env.url("f65536")])
    expect_run(r, 1, b"", err=r"--continue-at -: /dev/null is written in "
               r"place \(a device or FIFO\), with no length to continue "
               r"from: give -C N")


@case("-o: a run that fails before writing (a mistyped URL, a 404, -d of "
      "plain data) keeps FILE.part as it was")
def t_out_keep_untouched(env):
    # FILE.part was cut (and its record dropped) when the run opened it,
    # so a typo in the URL threw away the earlier run's bytes.
    data = env.files["f20971520"]
    d = out_dir(env, "ok")
    dest = os.path.join(d, "f")
    argv = ["-n", "2", "--chunk-size", "1M", "--retries", "0", "-o", dest]
    r = run(env, argv + [env.furl("ok1", "s404@5", "f20971520")])
    expect_run(r, 2, b"", err=r"f\.part kept")
    size = os.path.getsize(dest + ".part")
    expect(size > 0, "nothing kept")
    for extra, url, code in (
            ([], env.url("nope-ok"), 2),
            ([], "http://127.0.0.1:1/f20971520", 3),
            (["-d"], env.furl("ok1", "s404@5", "f20971520"), 6),
            (["-r", "0-10"], env.url("nope-ok"), 2),
            # Not this run's bytes: --remove-on-error leaves them too.
            (["--remove-on-error"], env.url("nope-ok"), 2)):
        r = run(env, argv + extra + [url])
        expect_run(r, code, b"", err=r"f\.part left as it was \(%d bytes\): "
                   r"this run wrote nothing" % size)
        expect(os.path.getsize(dest + ".part") == size and
               open(dest + ".part", "rb").read() == data[:size],
               "%s: FILE.part changed" % (extra or url))
    # The right command still resumes it, after its bytes.
    r = run(env, ["-v"] + argv + [env.furl("ok1", "s404@5", "f20971520")])
    expect_run(r, 0, b"", err=r"continuing after its %d bytes" % size)
    expect_file(dest, data, "resumed after the failed runs")


def mount(env, name, fstype, opts):
    d = out_dir(env, name)
    p = subprocess.run(["mount", "-t", fstype, "-o", opts, fstype, d],
                       capture_output=True)
    if p.returncode != 0:
        raise Skip("cannot mount %s: %s" % (fstype, p.stderr.decode()[:100]))
    return d


def umount(d):
    subprocess.run(["umount", d], check=True)


@case("-o: a full disk (1 MiB tmpfs) keeps the partial file, exit 5")
def t_out_enospc(env):
    d = mount(env, "ofull", "tmpfs", "size=1m")
    try:
        dest = os.path.join(d, "f")
        r = run(env, ["-o", dest, env.url("f4194305")])
        expect_run(r, 5, b"", err=r"write to .*f\.part: No space left on "
                   r"device(.|\n)*f\.part kept: \d+ bytes")
        expect(not os.path.exists(dest), "FILE on a full disk")
        size = os.path.getsize(dest + ".part")
        expect(size > 0 and open(dest + ".part", "rb").read() ==
               env.files["f4194305"][:size], "the partial is not a prefix")
        m = re.search(r"kept: (\d+) bytes", r.err)
        expect(int(m.group(1)) == size, "message says %s bytes, file has %d"
               % (m.group(1), size))
    finally:
        umount(d)


@case("-o: no user xattrs (ramfs): the metadata goes to a sidecar")
def t_out_sidecar(env):
    d = mount(env, "oside", "ramfs", "mode=755")
    try:
        data = env.files["f20971520"]
        dest = os.path.join(d, "f")
        argv = ["-v", "-n", "2", "--chunk-size", "1M", "--retries", "0",
                "-o", dest, env.furl("side", "s404@4", "f20971520")]
        r = run(env, argv)
        expect_run(r, 2, b"", err=r"resume with the same command")
        side = open(dest + ".part.rangecat").read()
        expect(side.startswith("rangecat-part 1\n") and "etag " in side,
               "sidecar: %r" % side)
        size = os.path.getsize(dest + ".part")
        r = run(env, argv)
        expect_run(r, 0, b"")
        first = re.findall(r"GET bytes=(\d+)-", r.err)
        expect(first and int(first[0]) == size, "resumed at %s, not %d"
               % (first[:1], size))
        expect_file(dest, data, "sidecar")
        # A damaged record is not trusted.
        argv[-1] = env.furl("side2", "s404@4", "f20971520")
        r = run(env, argv)
        expect_run(r, 2, b"", err=r"resume with the same command")
        with open(dest + ".part.rangecat", "r+") as f:
            f.seek(3)
            f.write("#")
        r = run(env, argv)
        expect_run(r, 0, b"", err=r"resume metadata is missing or damaged: "
               r"starting over")
        expect_file(dest, data, "damaged sidecar")
    finally:
        umount(d)


@case("-o: a second run on the same FILE.part refuses (exit 5); SIGINT "
      "keeps it for the same command")
def t_out_locked(env):
    data = env.files["f20971520"]
    d = out_dir(env, "ol")
    dest = os.path.join(d, "f")
    argv = ["-n", "8", "-o", dest, env.url("slow/f20971520")]
    p = subprocess.Popen([BIN] + argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        t0 = time.time()
        while time.time() - t0 < 30 and p.poll() is None and not (
                os.path.exists(dest + ".part") and
                os.path.getsize(dest + ".part") > 0):
            time.sleep(0.01)
        r = run(env, argv)
        expect_run(r, 5, b"", err=r"f\.part is being written by another "
                   r"process")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    r = Result(p.returncode, out, err.decode(errors="replace"))
    expect_run(r, 130, b"", err=r"interrupted(.|\n)*f\.part kept: \d+ bytes"
               r" \(\d+ of this run\); resume with the same command")
    size = os.path.getsize(dest + ".part")
    expect(0 < size < len(data), "FILE.part holds %d bytes" % size)
    r = run(env, argv)
    expect_run(r, 0, b"")
    expect_file(dest, data, "after SIGINT")


@case("--help and --version to a full disk: exit 5, said")
def t_out_help_full(env):
    # The text passed the stdio buffer, so the last flush had nothing
    # left to fail on: exit 0 with nothing written.
    for arg in ("--help", "--version"):
        with open("/dev/full", "wb") as full:
            r = run(env, [arg], shell_stdout=full)
        expect_run(r, 5, None, err=r"write to stdout: No space left")
