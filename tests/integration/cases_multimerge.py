# Several URLs together with -o FILE, --cache DIR and the growing buffer
# (the multi branch merged into main). Exec'd into run.py's namespace.


@case("several URLs: -o and --cache are refused by name, nothing created")
def t_mm_refused(env):
    a, b = env.url("f65537"), env.url("f1")
    lst = os.path.join(env.work, "urls.txt")
    with open(lst, "w") as f:
        f.write(a + "\n" + b + "\n")
    out = os.path.join(env.work, "both.bin")
    cache = os.path.join(env.work, "cache")
    for args, envvars, pat in (
            (["-o", out, a, b], None, r"--output applies to one URL"),
            (["-o", out, "-i", lst], None,
             r"--output applies to one URL: .* --input-file"),
            (["--cache", cache, a, b], None, r"--cache applies to one URL"),
            ([a, b], {"RANGECAT_CACHE": cache},
             r"--cache applies to one URL"),
            (["--cache", cache, "-i", lst], None,
             r"--cache applies to one URL")):
        r = run(env, args, envvars=envvars)
        expect_run(r, 1, b"", err=pat)
        expect(r.err.count("\n") == 1 and r.err.startswith("rangecat: "),
               "not one line: %r" % r.err)
        left = [p for p in (out, out + ".part", out + ".part.rangecat",
                            cache) if os.path.exists(p)]
        expect(not left, "created %s" % left)
    # -o - is stdout, which several URLs may share.
    r = run(env, ["-q", "-o", "-", a, b])
    expect_run(r, 0, env.files["f65537"] + env.files["f1"], quiet=True)
    # One URL in the list and -o: still refused (the list may grow).
    with open(lst, "w") as f:
        f.write(a + "\n")
    r = run(env, ["-o", out, "-i", lst])
    expect_run(r, 1, b"", err=r"--output applies to one URL")


@case("several URLs: each file's buffer stays within half of --memory")
def t_mm_memory(env):
    # Two rings may be in flight at once, so each has half the budget;
    # --stats reports the most one of them held.
    names = ["f4194305", "f65537", "f20971520", "f1"]
    want = b"".join(env.files[n] for n in names)
    for mem, extra in ((1 << 20, []), (4 << 20, ["-n", "16"])):
        r = run(env, ["-q", "--stats", "--memory", str(mem)] + extra +
                [env.url(n) for n in names])
        expect_run(r, 0, want, err=r"stats: ")
        m = re.search(r"stats: .* peak_buffer=(\d+) ", r.err)
        expect(m, "no peak_buffer: %s" % r.err[-300:])
        peak = int(m.group(1))
        expect(0 < peak <= mem // 2, "--memory %d: a ring held %d bytes" %
               (mem, peak))
    # One URL keeps the whole of --memory.
    r = run(env, ["-v", "--memory", "1M", env.url("f4194305")])
    expect_run(r, 0, env.files["f4194305"],
               err=r"buffer up to 1048576 bytes")
    r = run(env, ["-v", "--memory", "1M", env.url("f1"), env.url("f2")])
    expect_run(r, 0, env.files["f1"] + env.files["f2"],
               err=r"buffer up to 524288 bytes, start at 0 \(URL 2 of 2\)")
