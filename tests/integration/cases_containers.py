# contrib/entrypoint.sh as a container runs it: SIGTERM (docker stop, pod
# deletion) and SIGINT mid-download end it in well under 2 s with 143 or
# 130, rangecat with it, and the volume is never marked complete; a
# finished unpack is marked and a restart with the same DATA_URL skips the
# download. (Exec'd into run.py's namespace.)

ENTRY = os.path.join(ROOT, "contrib", "entrypoint.sh")


def entry_model(env):
    """A 24 MiB tar of six files in the data directory (made once), and
    the directory it was made from."""
    src = os.path.join(env.work, "ep-src")
    if not os.path.isdir(src):
        os.makedirs(src)
        for i in range(6):
            with open(os.path.join(src, "m%d" % i), "wb") as f:
                f.write(os.urandom(4 * MB))
        subprocess.run(["tar", "-cf", os.path.join(env.data, "ep.tar"),
                        "-C", src, "."], check=True)
        t = time.time() - 3600
        os.utime(os.path.join(env.data, "ep.tar"), (t, t))
    return src


def entry_env(env, url, dest, **more):
    e = dict(os.environ, PATH=ROOT + ":" + os.environ["PATH"],
             DATA_URL=url, DATA_DIR=dest)
    e.pop("http_proxy", None)
    e.update(more)
    return e


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def alive(pid):
    """True while pid runs (a zombie has ended)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return ""


def find_rangecat(pid, deadline):
    """The rangecat below pid (its child, or grandchild under unshare),
    once it has begun to write into the volume; None at the deadline."""
    while time.time() < deadline:
        for c in children(pid):
            for p in [c] + children(c):
                if comm(p) == "rangecat":
                    return p
        time.sleep(0.05)
    return None


def interrupt_entry(env, sig, pid1):
    """Starts the entrypoint on the slow location (2 connections of
    1 MiB/s: 12 s for the archive), sends sig once rangecat has written
    something, and returns (exit status, seconds to exit, destination,
    rangecat's pid, stderr). pid1: as PID 1 of a new PID namespace, as in
    a container, where a shell without a trap ignores SIGTERM."""
    entry_model(env)
    dest = os.path.join(env.work, "ep-int-%d-%d" % (sig, pid1))
    shutil.rmtree(dest, ignore_errors=True)
    ran = os.path.join(env.work, "ep-ran")
    if os.path.exists(ran):
        os.unlink(ran)
    e = entry_env(env, env.url("slow/ep.tar"), dest,
                  RANGECAT_CONNECTIONS="2")
    cmd = [ENTRY, "touch", ran]
    if pid1:
        cmd = ["unshare", "--pid", "--fork", "--kill-child"] + cmd
    errf = os.path.join(env.work, "ep-stderr")
    with open(errf, "wb") as ef:
        # SIGINT as a container's init gets it: not ignored. A suite
        # started as a background job of a shell inherits it ignored,
        # and a shell cannot trap a signal ignored on entry (POSIX).
        p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL,
                             stderr=ef, preexec_fn=lambda: signal.signal(
                                 signal.SIGINT, signal.SIG_DFL))
        try:
            rc_pid = find_rangecat(p.pid, time.time() + 10)
            expect(rc_pid, "rangecat did not start")
            deadline = time.time() + 10
            while time.time() < deadline and not (
                    os.path.isdir(dest) and os.listdir(dest)):
                time.sleep(0.05)
            expect(os.path.isdir(dest) and os.listdir(dest),
                   "nothing written into DATA_DIR in 10 s")
            target = p.pid
            if pid1:
                # The shell is unshare's child: PID 1 inside.
                kids = children(p.pid)
                expect(len(kids) == 1, "unshare's child: %r" % kids)
                target = kids[0]
            t = time.time()
            os.kill(target, sig)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            took = time.time() - t
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    # An orphaned rangecat would go on downloading: wait a moment for it.
    for _ in range(20):
        if not alive(rc_pid):
            break
        time.sleep(0.05)
    still = alive(rc_pid)
    if still:
        os.kill(rc_pid, signal.SIGKILL)
    expect(not still, "rangecat (pid %d) still runs after the entrypoint "
           "ended" % rc_pid)
    expect(not os.path.exists(ran), "the program ran after an interrupted "
           "unpack")
    err = open(errf, encoding="utf-8", errors="replace").read()
    return p.returncode, took, dest, err


def expect_incomplete(env, dest):
    src = entry_model(env)
    expect(not os.path.exists(os.path.join(dest, ".complete")),
           "an interrupted unpack is marked complete")
    whole = all(os.path.exists(os.path.join(dest, n)) and
                open(os.path.join(dest, n), "rb").read() ==
                open(os.path.join(src, n), "rb").read()
                for n in os.listdir(src))
    expect(not whole, "the whole tree arrived before the signal: the "
           "server was not slow")


@case("entrypoint: SIGTERM mid-download exits 143 in under 2 s, "
      "rangecat with it, nothing marked complete")
def t_entry_sigterm(env):
    rc, took, dest, err = interrupt_entry(env, signal.SIGTERM, False)
    expect(rc == 143, "exit %d, wanted 143: %s" % (rc, err[-300:]))
    expect(took < 2, "took %.2f s to exit" % took)
    expect_incomplete(env, dest)


@case("entrypoint as PID 1 (a container's init): SIGTERM exits 143 in "
      "under 2 s, SIGINT 130")
def t_entry_pid1(env):
    if subprocess.run(["unshare", "--pid", "--fork", "true"],
                      capture_output=True).returncode != 0:
        raise Skip("unshare --pid is not permitted here")
    rc, took, dest, err = interrupt_entry(env, signal.SIGTERM, True)
    expect(rc == 143, "exit %d, wanted 143: %s" % (rc, err[-300:]))
    expect(took < 2, "took %.2f s to exit" % took)
    expect_incomplete(env, dest)
    rc, took, dest, err = interrupt_entry(env, signal.SIGINT, True)
    expect(rc == 130, "SIGINT: exit %d, wanted 130: %s" % (rc, err[-300:]))
    expect(took < 2, "SIGINT: took %.2f s to exit" % took)
    expect_incomplete(env, dest)


@case("entrypoint: a finished unpack is marked .complete; a restart with "
      "the same DATA_URL skips the download, DATA_REFRESH=1 does not")
def t_entry_marker(env):
    src = entry_model(env)
    dest = os.path.join(env.work, "ep-marker")
    shutil.rmtree(dest, ignore_errors=True)
    url = env.url("ep.tar")
    # Interrupted first, then completed over the partial tree.
    rc, took, part, err = interrupt_entry(env, signal.SIGTERM, False)
    expect(rc == 143, "exit %d, wanted 143" % rc)
    os.rename(part, dest)
    marker = os.path.join(dest, ".complete")
    e = entry_env(env, url, dest)
    p = subprocess.run([ENTRY, "sh", "-c", 'test -f "$0/.complete" && '
                        'echo ran', dest], env=e, capture_output=True,
                       timeout=60)
    expect(p.returncode == 0, "entrypoint: %r" % p.stderr[-300:])
    expect(p.stdout == b"ran\n", "the program did not run after the "
           "unpack, or ran before the marker was written")
    for n in os.listdir(src):
        expect(open(os.path.join(dest, n), "rb").read() ==
               open(os.path.join(src, n), "rb").read(), "%s differs" % n)
    left = [n for n in os.listdir(dest) if ".rangecat-" in n]
    expect(not left, "staged files left behind: %r" % left)
    want = hashlib.sha256(url.encode()).hexdigest()
    expect(open(marker).read() == want + "\n", "marker: %r"
           % open(marker).read())
    expect(url not in open(marker).read(), "the marker holds the URL")
    # progress lines by default (plain lines for docker logs)
    expect(re.search(r"done", p.stderr.decode()), "no progress lines: %r"
           % p.stderr[-300:])
    # A restart finds the marker: no download (the archive is gone, so a
    # download would fail with 2), the program runs.
    moved = os.path.join(env.work, "ep.tar.away")
    os.rename(os.path.join(env.data, "ep.tar"), moved)
    try:
        p = subprocess.run([ENTRY, "echo", "again"], env=e,
                           capture_output=True, timeout=60)
        expect(p.returncode == 0 and p.stdout == b"again\n",
               "restart with the marker: exit %d %r" % (p.returncode,
                                                         p.stderr[-300:]))
        # Another DATA_URL, or DATA_REFRESH=1: downloaded again (and
        # here refused: 404, exit 2, the program not run, marker gone).
        for more in ({"DATA_REFRESH": "1"},
                     {"DATA_URL": url + "?v=2"}):
            p = subprocess.run([ENTRY, "echo", "ran"],
                               env=dict(e, **more), capture_output=True,
                               timeout=60)
            expect(p.returncode == 2, "%r: exit %d" % (more, p.returncode))
            expect(p.stdout == b"", "%r: the program ran" % (more,))
            expect(not os.path.exists(marker), "%r: marker kept after a "
                   "failed download" % (more,))
    finally:
        os.rename(moved, os.path.join(env.data, "ep.tar"))
    # RANGECAT_QUIET=1: no progress lines, and no conflict with the
    # entrypoint's default.
    p = subprocess.run([ENTRY], env=dict(e, RANGECAT_QUIET="1"),
                       capture_output=True, timeout=60)
    expect(p.returncode == 0 and p.stderr == b"",
           "RANGECAT_QUIET=1: exit %d %r" % (p.returncode, p.stderr[-300:]))
    expect(os.path.exists(marker), "no marker after a quiet run")
