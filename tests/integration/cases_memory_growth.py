# Memory only as needed: the reorder buffer grows from two chunks while
# connections wait, and by default stays within 5% of the file (at least
# 2 MiB). (Exec'd into run.py's namespace.)

# A child's ru_maxrss counts the memory of the process it was forked from
# (the kernel keeps the high-water mark across exec), and this runner is
# large: a fresh, small Python forks the measured process instead and
# reports its peak RSS on the last line of stderr.
RSS_WRAPPER = r"""
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, st, ru = os.wait4(pid, 0)
sys.stderr.write("\nmaxrss=%d\n" % ru.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(st))
"""


def peak_rss(argv, out_path):
    """Runs argv with stdout to out_path; (exit status, stderr, peak RSS
    in bytes) of that one process."""
    errf = out_path + ".err"
    with open(out_path, "wb") as out, open(errf, "wb") as ef:
        rc = subprocess.run([sys.executable, "-I", "-S", "-c", RSS_WRAPPER]
                            + argv, stdout=out, stderr=ef,
                            stdin=subprocess.DEVNULL).returncode
    err = open(errf, encoding="utf-8", errors="replace").read()
    m = re.search(r"\nmaxrss=(\d+)\n$", err)
    expect(m, "no maxrss from the wrapper: %s" % err[-300:])
    return rc, err[:m.start()], int(m.group(1)) * 1024


def stats_peak(err):
    m = re.search(r"stats: .* peak_buffer=(\d+) ", err)
    expect(m, "no peak_buffer in --stats: %s" % err[-400:])
    return int(m.group(1))


@case("--stats peak_buffer: at most 5% of the file beyond 2 MiB, "
      "every mode")
def t_memory_five_percent(env):
    floor = 2 * MB
    out = os.path.join(env.work, "five")
    for name in ("f1", "f65535", "f262145", "f4194305", "f20971520", "big"):
        size = BIG if name == "big" else len(env.files[name])
        modes = ([], ["-n", "1"], ["-n", "32"], ["--chunk-size", "1M"])
        for extra in modes[:1] if name == "big" else modes:
            rc, err, _ = peak_rss([BIN, "--stats", "-q"] + extra +
                                  [env.url(name)], out)
            expect(rc == 0, "%s %s: exit %d: %s" % (name, extra, rc,
                                                   err[-300:]))
            want = env.big_sha if name == "big" else sha(env.files[name])
            expect(file_sha(out) == want, "%s %s: output differs"
                   % (name, extra))
            peak = stats_peak(err)
            # The buffer never holds more than the file, nor more than
            # the rule allows; --chunk-size keeps room for two chunks.
            cap = max(floor, size // 20)
            if extra[:1] == ["--chunk-size"]:
                cap = max(cap, 2 * MB)
            expect(0 < peak <= min(max(size, 1), cap),
                   "%s %s: peak_buffer %d, cap %d" % (name, extra, peak,
                                                     cap))
    # A 1 KiB-class file buffers what it holds: the probe's 256 KiB
    # request is not allocated before its size is known.
    rc, err, _ = peak_rss([BIN, "--stats", "-q", env.url("f65535")], out)
    expect(stats_peak(err) == 65535, "64 KiB file: %s" % err)
    # One stream (the server ignores Range) fills in order: the head is
    # never waiting while a later chunk is, so it never grows past two
    # chunks besides the probe's.
    rc, err, _ = peak_rss([BIN, "--stats", "-q", "--chunk-size", "256K",
                           env.url("norange/f20971520")], out)
    expect(rc == 0 and file_sha(out) == sha(env.files["f20971520"]),
           "one stream: exit %d %s" % (rc, err[-300:]))
    expect(stats_peak(err) <= 2 * 256 * KB + 256 * KB,
           "one stream: %s" % err)
    # A --memory given is the user's call: no 5% rule, and it still
    # grows only as connections wait.
    # (-n 8: on loopback the defaults keep one stream, which waits for
    # no slot.)
    rc, err, _ = peak_rss([BIN, "--stats", "-v", "--memory", "64M", "-n",
                           "8", env.url("big")], out)
    expect(rc == 0 and file_sha(out) == env.big_sha, "--memory 64M")
    expect(stats_peak(err) <= 64 * MB, "peak over --memory: %s"
           % err[-300:])
    expect(re.search(r"buffer grows to \d+ slots \(\d+ of 67108864 bytes in use\): "
                     r"a connection waited for a free slot", err),
           "no growth in -v: %s" % err[:1500])
    # The rule's own -v line, not any "5%": the connection count's lines
    # say "+15%" or "lost 25%" too.
    rule = re.search(r"buffer up to \d+ bytes for \d+ bytes \(5%", err)
    expect(rule is None, "5%% rule applied to --memory: %s" % rule)


@case("peak RSS: 1 KiB, 1 MiB and 20 MiB downloads stay small")
def t_memory_rss(env):
    if sanitized():
        raise Skip("a sanitizer build's shadow memory says nothing of RSS")
    env.add("f1024", os.urandom(1024))
    env.add("f1048576", os.urandom(MB))
    out = os.path.join(env.work, "rss")
    rss = {}
    for name in ("f1024", "f1048576", "f20971520"):
        rc, err, rss[name] = peak_rss([BIN, "-q", env.url(name)], out)
        expect(rc == 0 and file_sha(out) == sha(env.files[name]),
               "%s: exit %d %s" % (name, rc, err[-300:]))
        crc, _, curl_rss = peak_rss(["curl", "-sf", env.url(name)], out)
        expect(crc == 0, "curl %s: exit %d" % (name, crc))
        # libcurl, libarchive, mbedTLS and libcrypto are loaded either way;
        # the rest is the buffer and the per-connection curl buffers.
        expect(rss[name] <= curl_rss + 8 * MB,
               "%s: RSS %.1f MiB, curl %.1f MiB" % (name, rss[name] / MB,
                                                   curl_rss / MB))
    # The old ring touched every slot it filled (20 MiB here); the budget
    # keeps it to 2 MiB, plus eight connections' 256 KiB curl buffers.
    grew = rss["f20971520"] - rss["f1024"]
    expect(grew <= 6 * MB, "20 MiB file: RSS %.1f MiB over a 1 KiB file's"
           % (grew / MB))
