# Memory where users run rangecat: inside a container's memory limit.
# The case makes a child of this process's memory cgroup (v1 or v2), gives
# it a limit, runs rangecat in it on the 256 MiB file into a pipe that the
# test hashes, and removes the cgroup. (Exec'd into run.py's namespace.)


def memory_cgroup():
    """(directory, limit file, peak file or None) of a memory cgroup this
    process may make children in, or raises Skip saying why not."""
    for line in open("/proc/self/cgroup"):
        hid, ctl, path = line.rstrip("\n").split(":", 2)
        if "memory" in ctl.split(","):
            base = "/sys/fs/cgroup/memory" + path.rstrip("/")
            if os.path.exists(os.path.join(base, "memory.limit_in_bytes")):
                return base, "memory.limit_in_bytes", \
                    "memory.max_usage_in_bytes"
    for line in open("/proc/self/cgroup"):
        hid, ctl, path = line.rstrip("\n").split(":", 2)
        if hid == "0" and ctl == "":
            base = "/sys/fs/cgroup" + path.rstrip("/")
            try:
                ctls = open(os.path.join(base, "cgroup.subtree_control")).read()
            except OSError:
                ctls = ""
            if "memory" in ctls.split():
                return base, "memory.max", "memory.peak"
            raise Skip("cgroup v2 without the memory controller delegated "
                       "below %s" % base)
    raise Skip("no memory cgroup")


@case("in a 48 MiB memory cgroup the default buffer fits: 256 MiB exact")
def t_memory_cgroup(env):
    if sanitized():
        # ASan's shadow memory and quarantine alone outgrow 48 MiB; the
        # plain build runs this case in make check.
        raise Skip("a sanitizer build does not fit a 48 MiB cgroup")
    base, limit_file, peak_file = memory_cgroup()
    cg = os.path.join(base, "rangecat-test-%d" % os.getpid())
    limit = 48 * MB
    try:
        os.mkdir(cg)
        with open(os.path.join(cg, limit_file), "w") as f:
            f.write(str(limit))
    except OSError as e:
        if os.path.isdir(cg):
            os.rmdir(cg)
        raise Skip("cannot make a memory cgroup under %s: %s" % (base, e))
    try:
        procs = os.path.join(cg, "cgroup.procs")
        # The shell moves itself into the cgroup, then becomes rangecat.
        # stderr (-v is long) goes to a file so that no pipe fills up.
        errf = os.path.join(env.work, "cgroup-stderr")
        with open(errf, "wb") as ef:
            p = subprocess.Popen(
                ["sh", "-c", 'echo $$ > "$0" && exec "$@"', procs, BIN,
                 "-v", env.url("big")], stdout=subprocess.PIPE, stderr=ef)
            h = hashlib.sha256()
            for b in iter(lambda: p.stdout.read(MB), b""):
                h.update(b)
            p.wait(timeout=300)
        err = open(errf, encoding="utf-8", errors="replace").read()
        peak = None
        if peak_file and os.path.exists(os.path.join(cg, peak_file)):
            peak = int(open(os.path.join(cg, peak_file)).read())
    finally:
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)
    expect(p.returncode == 0, "exit %d (-9: killed by the OOM killer): %s"
           % (p.returncode, err[-400:]))
    expect(h.hexdigest() == env.big_sha, "256 MiB output differs")
    expect(re.search(r"memory limit %d bytes \(cgroup\): buffer (\d+)"
                     % limit, err), "no cgroup limit in -v: %s" % err[:600])
    buf = int(re.search(r"buffer (\d+) bytes", err).group(1))
    expect(buf <= limit // 4, "buffer %d over a quarter of %d" % (buf, limit))
    if peak is not None:
        expect(peak < limit, "peak %d reached the limit" % peak)
