# --sha256 / --sha512: the digest of the downloaded bytes, checked after
# the last byte. Exec'd into run.py's namespace.


def sha512(data):
    return hashlib.sha512(data).hexdigest()


def flip(hexdigest):
    """The same digest with its last hex digit changed."""
    return hexdigest[:-1] + ("0" if hexdigest[-1] != "0" else "1")


@case("--sha256/--sha512: exact output, exit 7 naming both digests")
def t_digest(env):
    for name in ("f0", "f1", "f4194305", "f20971520"):
        data = env.files[name]
        good, good5 = sha(data), sha512(data)
        for args in (["--sha256", good], ["--sha512", good5],
                     ["--sha256=" + good.upper()], ["-n", "1", "--sha256",
                                                    good]):
            r = run(env, args + [env.url(name)])
            expect_run(r, 0, data, quiet=True)
        # A wrong digest: every byte is delivered, then exit 7 naming
        # the option, the expected and the actual digest; no resume hint.
        for opt, right in (("--sha256", good), ("--sha512", good5)):
            r = run(env, [opt, flip(right), env.url(name)])
            expect_run(r, 7, data)
            expect(r.err.count("\n") == 1, "not one line: %r" % r.err)
            expect(re.search(r"^rangecat: %s mismatch over %d downloaded "
                             r"bytes: expected %s, got %s$" % (
                                 opt, len(data), flip(right), right),
                             r.err), "mismatch message: %r" % r.err)
    # The server ignores Range (one stream), and the 256 MiB file over
    # many connections and small chunks: the digest covers every slot.
    data = env.files["f4194305"]
    r = run(env, ["--sha256", sha(data), env.url("norange/f4194305")])
    expect_run(r, 0, data)
    if not valgrind:    # 256 MiB twice is too slow under valgrind
        r = run(env, ["-q", "-n", "16", "--chunk-size", "64K", "--sha256",
                      env.big_sha, env.url("big")], timeout=300)
        expect(r.rc == 0 and sha(r.out) == env.big_sha,
               "big: exit %d: %s" % (r.rc, r.err[-300:]))
        r = run(env, ["-q", "--sha256", flip(env.big_sha), env.url("big")],
                timeout=300)
        expect(r.rc == 7 and sha(r.out) == env.big_sha and
               env.big_sha in r.err, "big mismatch: exit %d: %s" % (
                   r.rc, r.err[-300:]))
    # Faults the fetcher recovers from do not disturb the digest.
    data = env.files["f20971520"]
    r = run(env, ["--retry-delay", "10ms", "--chunk-size", "1M", "--sha256",
                  sha(data), env.furl("dg-faults", "reset@2,short@4,slow@3,"
                                      "s503@5", "f20971520")])
    expect_run(r, 0, data)
    # From the environment, as every long option.
    r = run(env, [env.url("f4194305")],
            envvars={"RANGECAT_SHA256": flip(sha(env.files["f4194305"]))})
    expect_run(r, 7, env.files["f4194305"], err=r"--sha256 mismatch")


@case("--sha256: a bad HEX and conflicts are usage errors naming both")
def t_digest_usage(env):
    h = "ab" * 32
    for args, pat in (
            (["--sha256", "ab" * 31, "http://h/x"], r"--sha256: .*64 hex"),
            (["--sha256", "ab" * 33, "http://h/x"], r"--sha256: .*64 hex"),
            (["--sha256", "zz" * 32, "http://h/x"], r"--sha256: .*hex"),
            (["--sha256", " " + "ab" * 32, "http://h/x"], r"--sha256: .*hex"),
            (["--sha256", "", "http://h/x"], r"--sha256: .*64 hex"),
            (["--sha512", h, "http://h/x"], r"--sha512: .*128 hex"),
            (["--sha256", h, "--sha512", h * 2, "http://h/x"],
             r"--sha256 and --sha512"),
            (["--sha256", h, "-C", "5", "http://h/x"],
             r"--sha256 checks the whole file.*--continue-at"),
            (["-C", "-", "--sha512", h * 2, "http://h/x"],
             r"--sha512 checks the whole file.*--continue-at"),
            (["--sha256", h, "-r", "0-9", "http://h/x"],
             r"--sha256 .*--range"),
            (["--sha256", h, "--shard", "1/2", "http://h/x"],
             r"--sha256 .*--shard")):
        r = run(env, args)
        expect_run(r, 1, b"", err=pat)
        expect(r.err.count("\n") == 1 and r.err.startswith("rangecat: "),
               "not one line: %r" % r.err)
    # Without the digest the same command lines are accepted (so the
    # refusal above is the digest's): they fail later, on the host.
    r = run(env, ["-C", "5", "--retries", "0", "http://127.0.0.1:9/x"])
    expect(r.rc != 1, "-C alone was refused: %s" % r.err)
    r = run(env, ["-C", "5", env.url("f4194305")],
            envvars={"RANGECAT_SHA256": h})
    expect_run(r, 1, b"", err=r"RANGECAT_SHA256 checks the whole file")


def digest_sample(env):
    """A small tree in tar, tgz and zip, and a zstd file (make_sample's
    set needs the shared archive corpus, which this does not)."""
    tree = os.path.join(env.work, "dg-tree")
    if os.path.isdir(tree):
        return tree
    os.makedirs(os.path.join(tree, "top", "sub"))
    with open(os.path.join(tree, "top", "sub", "data.bin"), "wb") as f:
        f.write(os.urandom(3 * MB + 17))
    with open(os.path.join(tree, "top", "run.sh"), "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    os.chmod(os.path.join(tree, "top", "run.sh"), 0o755)
    with open(os.path.join(tree, "top", "secret"), "w") as f:
        f.write("private\n")
    d = env.data
    sh("tar -cf %s/dg.tar top" % d, cwd=tree)
    sh("tar -czf %s/dg.tgz top" % d, cwd=tree)
    sh("zip -q -r %s/dg-t.zip top" % d, cwd=tree)
    text = b"".join(b"line %d of the digest sample\n" % i
                    for i in range(100000))
    env.add("dg-sample", text + os.urandom(256 * KB))
    sh("zstd -q -c %s/dg-sample > %s/dg-sample.zst" % (d, d))
    return tree


@case("--sha256 with -d, -x, -t, --member: the downloaded bytes")
def t_digest_modes(env):
    tree = digest_sample(env)
    data = env.files["dg-sample"]
    zst = open(os.path.join(env.data, "dg-sample.zst"), "rb").read()
    # -d: the digest is of the compressed bytes, not the output.
    r = run(env, ["-d", "--sha256", sha(zst), env.url("dg-sample.zst")])
    expect_run(r, 0, data, quiet=True)
    r = run(env, ["-d", "--sha256", sha(data), env.url("dg-sample.zst")])
    expect_run(r, 7, data, err=r"expected %s, got %s" % (sha(data),
                                                        sha(zst)))
    for name in ("dg.tgz", "dg.tar", "dg-t.zip"):
        blob = open(os.path.join(env.data, name), "rb").read()
        dest = os.path.join(env.work, "dg-x-" + name)
        r = run(env, ["-x", dest, "--sha256", sha(blob), env.url(name)])
        expect_run(r, 0, b"", quiet=True)
        for f in ("top/sub/data.bin", "top/secret", "top/run.sh"):
            expect(open(os.path.join(tree, f), "rb").read() ==
                   open(os.path.join(dest, f), "rb").read(),
                   "-x %s: %s differs" % (name, f))
        r = run(env, ["-x", dest + "-bad", "--sha256", flip(sha(blob)),
                      env.url(name)])
        expect_run(r, 7, b"", err=r"--sha256 mismatch over %d downloaded"
                   % len(blob))
        r = run(env, ["-t", "--sha256", sha(blob), env.url(name)])
        expect_run(r, 0, None, quiet=True)
        expect(b"top/run.sh" in r.out, "-t %s: %r" % (name, r.out[:200]))
        r = run(env, ["--member", "top/secret", "--sha256", flip(sha(blob)),
                      env.url(name)])
        expect_run(r, 7, b"private\n", err=r"mismatch over %d " % len(blob))
    # A zip with --member is streamed, not read by ranges: every byte is
    # downloaded, so the digest can be checked (the 24 MiB zip of
    # t_zip_ranges is read by ranges without the option).
    def sent(args):
        time.sleep(0.2)
        before = open(env.access_log).read().count("\n")
        r = run(env, args)
        time.sleep(0.3)
        lines = open(env.access_log).read().splitlines()[before:]
        return r, sum(int(l.split()[-2]) for l in lines
                      if l.endswith("/dg.zip"))
    import io
    import zipfile
    blob = os.urandom(4 * MB)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("blob.bin", blob)
        z.writestr("small.txt", "small\n")
    env.add("dg.zip", buf.getvalue())
    r, n = sent(["--member", "small.txt", env.url("dg.zip")])
    expect_run(r, 0, b"small\n")
    expect(n < 1 * MB, "without a digest, by ranges: %d bytes sent" % n)
    r, n = sent(["--member", "small.txt", "--sha256", sha(buf.getvalue()),
                 env.url("dg.zip")])
    expect_run(r, 0, b"small\n")
    expect(n >= len(buf.getvalue()), "with a digest: %d bytes sent" % n)
    # A reader that stops early does not stop the check: the rest is read.
    data = env.files["f20971520"]
    for dg, rc in ((sha(data), "0"), (flip(sha(data)), "7")):
        p = subprocess.run(
            "%s --sha256 %s %s | head -c 100 >/dev/null; "
            "echo ${PIPESTATUS[0]}" % (BIN, dg, env.url("f20971520")),
            shell=True, executable="/bin/bash", capture_output=True,
            timeout=60)
        expect(p.stdout.strip() == rc.encode(),
               "| head with %s digest: %r %r" % (
                   "a wrong" if rc == "7" else "the right", p.stdout,
                   p.stderr[-300:]))


@case("--sha256: a failed run's resume hint leaves the option out")
def t_digest_resume(env):
    data = env.files["f20971520"]
    r = run(env, ["--retries", "0", "--chunk-size", "1M", "--sha256",
                  sha(data), env.furl("dg-res", "cap,s404@5", "f20971520")])
    expect_run(r, 2, None, err=r"HTTP 404")
    expect(re.search(r"--sha256 is left out: a continuation cannot check "
                     r"the whole file's digest; check the finished file "
                     r"with sha256sum", r.err), "no note: %s" % r.err)
    m = re.search(r"resume with: (.*)$", r.err, re.M)
    expect(m and "--sha256" not in m.group(1) and sha(data) not in
           m.group(1), "hint keeps the digest: %s" % r.err)
    resume(env, r, data)
    # From the environment: the hint says to unset it.
    r = run(env, ["--retries", "0", "--chunk-size", "1M",
                  env.furl("dg-res2", "cap,s404@5", "f20971520")],
            envvars={"RANGECAT_SHA512": sha512(data)})
    expect_run(r, 2, None, err=r"unset RANGECAT_SHA512 to run it")
    # Several URLs: the digest is the whole output's, and the hint says
    # so, and to unset the variable (the continuation would check it).
    first = env.files["f65537"]
    r = run(env, ["--retries", "0", "--chunk-size", "1M", env.url("f65537"),
                  env.furl("dg-res3", "cap,s404@5", "f20971520")],
            envvars={"RANGECAT_SHA256": sha(first + data)})
    expect_run(r, 2, None, err=r"--sha256 is left out: a continuation "
               r"cannot check the whole output's digest; check the "
               r"finished output with sha256sum \(unset RANGECAT_SHA256 "
               r"to run it\)")
    expect(re.search(r"delivered \d+ bytes in all; resume with: ", r.err),
           "no resume hint: %s" % r.err)
