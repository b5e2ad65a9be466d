# Several URLs, and -i FILE: the files one after the other on stdout, as
# cat would write them. Exec'd into run.py's namespace.


def multi_resume(env, r, want):
    """Runs the printed resume command (two commands grouped as
    "{ A && B; }" when a URL was cut) appending to the output, and checks
    the joined file."""
    m = re.search(r"delivered (\d+) bytes in all; resume with: (.*)$",
                  r.err, re.M)
    expect(m, "no resume hint: %s" % r.err[-600:])
    n = int(m.group(1))
    expect(n == len(r.out), "hint says %d bytes, %d were written" % (
        n, len(r.out)))
    expect(want[:n] == r.out, "delivered bytes are not a prefix")
    cmd = m.group(2)
    expect(re.match(r"(\{ )?rangecat ", cmd), "resume command: %s" % cmd)
    out = os.path.join(env.work, "out")
    with open(out, "wb") as f:
        f.write(r.out)
    # Pasted as a user would, with one redirection after it: two
    # commands must be grouped for it to take both outputs.
    p = subprocess.run(["sh", "-c", cmd.replace("rangecat ", BIN + " ") +
                        ' >> "$0"', out], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    expect(p.returncode == 0, "resume exit %d: %s" % (p.returncode,
                                                      p.stderr[-400:]))
    expect(p.stdout == b"", "%d bytes of the resume went past the "
           "redirection" % len(p.stdout))
    got = open(out, "rb").read()
    expect(sha(got) == sha(want), "joined output differs: %d bytes, "
           "wanted %d" % (len(got), len(want)))
    return cmd


@case("several URLs: sizes 0, 1, chunk-1, chunk, chunk+1 concatenated")
def t_multi_sizes(env):
    names = ["f0", "f1", "f65535", "f65536", "f65537", "f0", "f4194303",
             "f4194304", "f4194305", "f20971520", "f2", "f0"]
    want = b"".join(env.files[n] for n in names)
    for extra in ([], ["--chunk-size", "64K", "-n", "4"], ["-n", "1"],
                  ["--chunk-size", "4M"], ["--memory", "128K"]):
        r = run(env, ["-q"] + extra + [env.url(n) for n in names])
        expect_run(r, 0, want, quiet=True)
    # Three files, the least the issue asks for, and the digest of the
    # whole concatenation.
    names3 = ["f65537", "f0", "f4194305"]
    want3 = b"".join(env.files[n] for n in names3)
    r = run(env, ["-q", "--sha256", sha(want3)] +
            [env.url(n) for n in names3])
    expect_run(r, 0, want3, quiet=True)
    # The last byte flipped (replaced by "x", it was "x" in one run in
    # 256: the data is random).
    bad = want3[:-1] + bytes([want3[-1] ^ 1])
    r = run(env, ["-q", "--sha256", sha(bad)] +
            [env.url(n) for n in names3])
    expect_run(r, 7, want3, err=r"--sha256 mismatch")
    # 50 URLs, mixing the parallel path with the one-stream fallbacks
    # (no ranges, no ETag).
    pick = ["f0", "f1", "f65535", "f65536", "f65537", "f262144",
            "f4194305", "norange/f65537", "noetag/f262145", "f2"]
    names50 = [pick[i % len(pick)] for i in range(50)]
    want50 = b"".join(env.files[n.split("/")[-1]] for n in names50)
    r = run(env, ["-q", "--chunk-size", "64K"] +
            [env.url(n) for n in names50])
    expect_run(r, 0, want50, quiet=True)


@case("several URLs: a 256 MiB file between small ones")
def t_multi_big(env):
    names = ["f1", "big", "f0", "f65537"]
    h = hashlib.sha256(env.files["f1"])
    with open(os.path.join(env.data, "big"), "rb") as f:
        for b in iter(lambda: f.read(16 * MB), b""):
            h.update(b)
    h.update(env.files["f65537"])
    out = os.path.join(env.work, "bigout")
    p = subprocess.run([BIN, "-q"] + [env.url(n) for n in names],
                       stdout=open(out, "wb"), stderr=subprocess.PIPE,
                       timeout=300)
    expect(p.returncode == 0, "exit %d: %s" % (p.returncode, p.stderr))
    got = file_sha(out)
    os.unlink(out)
    expect(got == h.hexdigest(), "output differs")


@case("-i FILE and -i -: comments, blank lines, CRLF, after the operands")
def t_multi_input(env):
    lst = os.path.join(env.work, "urls.txt")
    with open(lst, "w") as f:
        f.write("# a list\n\n  %s  \r\n\t# indented comment\n%s\n\n%s" % (
            env.url("f65537"), env.url("f0"), env.url("f4194305")))
    want = env.files["f65537"] + env.files["f0"] + env.files["f4194305"]
    r = run(env, ["-q", "-i", lst])
    expect_run(r, 0, want, quiet=True)
    # Operands first, then the list (as wget does).
    r = run(env, ["-q", "--input-file", lst, env.url("f1")])
    expect_run(r, 0, env.files["f1"] + want, quiet=True)
    r = run(env, ["-q", "-i", "-"], stdin=open(lst, "rb"))
    expect_run(r, 0, want, quiet=True)
    r = run(env, ["-q", env.url("f2"), "-i", "-"], stdin=open(lst, "rb"))
    expect_run(r, 0, env.files["f2"] + want, quiet=True)
    # A bad line names the file and the line, not its text.
    with open(lst, "a") as f:
        f.write("\n# fine\nftp://alice:%s@h/x\n" % SECRET)
    r = run(env, ["-i", lst])
    expect_run(r, 1, b"", err=r"^rangecat: --input-file .*urls\.txt, line "
               r"9: bad URL: only http")
    expect(r.err.count("\n") == 1, "not one line: %r" % r.err)
    # No URL at all, a list that cannot be read.
    with open(lst, "w") as f:
        f.write("# nothing\n\n")
    r = run(env, ["-i", lst])
    expect_run(r, 1, b"", err=r"no URL given \(--input-file .* holds none")
    r = run(env, ["-i", os.path.join(env.work, "missing.txt")])
    expect_run(r, 1, b"", err=r"--input-file .*missing\.txt: No such file")


@case("several URLs: a split .tar.zst unpacked, listed, decoded as one")
def t_multi_split(env):
    make_sample(env)
    whole = open(os.path.join(env.data, "t.tar.zst"), "rb").read()
    step = 700 * KB   # the last part is smaller
    parts = []
    for i in range(0, len(whole), step):
        name = "t.tar.zst.part-%02d" % (i // step)
        env.add(name, whole[i:i + step])
        parts.append(env.url(name))
    expect(len(parts) >= 3, "only %d parts" % len(parts))
    dest = os.path.join(env.work, "msplit")
    shutil.rmtree(dest, ignore_errors=True)
    r = run(env, ["-q", "--sha256", sha(whole), "-x", dest] + parts)
    expect_run(r, 0, b"", quiet=True)
    bad = tree_ok(env.tree, dest)
    expect(bad is None, "extracted tree: %s" % bad)
    r = run(env, ["-t"] + parts)
    expect_run(r, 0, None)
    expect(b"top/sub/deep/data.bin" in r.out and b"top/run.sh" in r.out,
           "listing: %r" % r.out[:300])
    r = run(env, ["-q", "--member", "top/run.sh"] + parts)
    expect_run(r, 0, b"#!/bin/sh\necho hi\n", quiet=True)
    tar = subprocess.run(["zstd", "-dc", os.path.join(env.data,
                                                      "t.tar.zst")],
                         capture_output=True, check=True).stdout
    r = run(env, ["-q", "-d"] + parts)
    expect_run(r, 0, tar, quiet=True)
    # A part missing from the middle: the zstd frame breaks (exit 6).
    r = run(env, ["-q", "-x", dest, parts[0]] + parts[2:])
    expect(r.rc == 6, "a missing part: exit %d: %s" % (r.rc, r.err))
    # Zero padding in a URL of its own after the end is fine.
    env.add("zeros", bytes(10240))
    r = run(env, ["-q", "-t", env.url("t.tar"), env.url("zeros")])
    expect_run(r, 0, None)
    expect(b"top/run.sh" in r.out, "listing with padding: %r" % r.out)
    # A zip is streamed, not read by ranges, across several URLs.
    z = open(os.path.join(env.data, "t.zip"), "rb").read()
    env.add("t.zip.1", z[:len(z) // 2])
    env.add("t.zip.2", z[len(z) // 2:])
    r = run(env, ["-q", "-t", env.url("t.zip.1"), env.url("t.zip.2")])
    expect_run(r, 0, None)
    expect(b"top/run.sh" in r.out, "zip listing: %r" % r.out[:300])


@case("several URLs: a 404 in the middle names the URL; resume completes")
def t_multi_fail(env):
    names = ["f65537", "f1", "f4194305"]
    want = b"".join(env.files[n] for n in names) + env.files["f20971520"]
    urls = [env.url(n) for n in names[:2]] + [env.url("nope")] + \
        [env.url(names[2])]
    r = run(env, ["--chunk-size", "64K"] + urls)
    expect_run(r, 2, None, err=r"HTTP 404")
    expect(re.search(r"^rangecat: URL 3 of 4 failed at its byte 0: "
                     r"http://127\.0\.0\.1:\d+/nope$", r.err, re.M),
           "URL not named: %s" % r.err)
    got = len(env.files["f65537"]) + 1
    expect(r.out == env.files["f65537"] + env.files["f1"],
           "delivered %d bytes, wanted %d" % (len(r.out), got))
    m = re.search(r"resume with: (.*)$", r.err, re.M)
    expect(m and "&&" not in m.group(1) and " -C " not in m.group(1) and
           m.group(1).endswith(env.url("nope") + " " + env.url(names[2])),
           "resume command: %s" % r.err)
    # Cut inside a URL: -C and its ETag for it, then the URLs after it.
    # 1 MiB chunks: the fifth request fails (as in t_resume).
    mid = env.furl("multi-mid", "s404@4", "f20971520")
    urls = [env.url(n) for n in names] + [mid, env.url("f65537")]
    want = b"".join(env.files[n] for n in names) + \
        env.files["f20971520"] + env.files["f65537"]
    r = run(env, ["--retries", "0", "--chunk-size", "1M", "-n", "8"] +
            urls)
    expect_run(r, 2, None, err=r"HTTP 404")
    head = sum(len(env.files[n]) for n in names)
    expect(len(r.out) > head, "nothing of URL 4 delivered")
    expect(re.search(r"URL 4 of 5 failed at its byte %d: " %
                     (len(r.out) - head), r.err), "offset: %s" % r.err)
    cmd = multi_resume(env, r, want)
    expect(re.match(r"\{ rangecat -C %d --if-match \S+ --retries 0 "
                    r"--chunk-size 1M -n 8 \S+/f20971520 && rangecat "
                    r"--retries 0 --chunk-size 1M -n 8 \S+/f65537; \}$" %
                    (len(r.out) - head), cmd), "resume command: %s" % cmd)
    # Many URLs left: the command is longer than a log line (2 KiB), and
    # is printed whole.
    urls = [env.url("f1"), env.url("nope")] + [env.url("f65537")] * 100
    r = run(env, ["-q"] + urls)
    expect_run(r, 2, env.files["f1"], err=r"URL 2 of 102 failed")
    env.add("nope", env.files["f2"])
    try:
        cmd = multi_resume(env, r, env.files["f1"] + env.files["f2"] +
                           env.files["f65537"] * 100)
    finally:
        os.unlink(os.path.join(env.data, "nope"))
        del env.files["nope"]
    expect(len(cmd) > 2048, "a short command: %d bytes" % len(cmd))
    # The same from -i: the resume command lists the URLs left.
    lst = os.path.join(env.work, "fail.txt")
    with open(lst, "w") as f:
        f.write("\n".join([env.url("f1"), env.furl("multi-mid2", "s404@3",
                                                   "f20971520"),
                           env.url("f65536")]) + "\n")
    want = env.files["f1"] + env.files["f20971520"] + env.files["f65536"]
    r = run(env, ["--retries", "0", "--chunk-size", "1M", "-n", "8", "-i",
                  lst])
    expect_run(r, 2, None, err=r"URL 2 of 3 failed")
    cmd = multi_resume(env, r, want)
    expect("-i" not in cmd.split() and "fail.txt" not in cmd,
           "-i kept: %s" % cmd)


@case("several URLs: -C, -r, --shard, --if-match refused by name")
def t_multi_refused(env):
    a, b = env.url("f1"), env.url("f2")
    lst = os.path.join(env.work, "one.txt")
    with open(lst, "w") as f:
        f.write(a + "\n")
    for args, pat in ((["-C", "1", a, b], r"--continue-at applies to one"),
                      (["-r", "0-1", a, b], r"--range applies to one"),
                      (["--shard", "1/2", a, b], r"--shard applies to one"),
                      (["--if-match", '"x"', a, b],
                       r"--if-match applies to one"),
                      (["-C", "1", "-i", lst], r"--continue-at .* "
                       r"--input-file"),
                      ([a, "bogus"], r"bad URL \(argument 2 of 2 URLs\)"),
                      ([a, SECRET], r"bad URL \(argument 2 of 2 URLs\)"),
                      (["-i", ""], r"--input-file: expected a file")):
        r = run(env, args)
        expect_run(r, 1, b"", err=pat)
        expect(r.err.count("\n") == 1 and r.err.startswith("rangecat: "),
               "not one line: %r" % r.err)


@case("several URLs: a URL's user:password goes to that URL only")
def t_multi_creds(env):
    before = open(env.access_log).read().count("\n")
    one = env.url("f65537").replace("//", "//alice:" + SECRET + "@", 1)
    r = run(env, ["-q", one, env.url("f65536")])
    expect_run(r, 0, env.files["f65537"] + env.files["f65536"], quiet=True)
    time.sleep(0.3)
    lines = open(env.access_log).read().splitlines()[before:]
    auth = base64.b64encode(("alice:" + SECRET).encode()).decode()
    a = [l for l in lines if l.endswith("/f65537")]
    b = [l for l in lines if l.endswith("/f65536")]
    expect(a and all(auth in l for l in a), "URL 1 without its credentials")
    expect(b and not any("Basic" in l for l in b),
           "URL 2 got URL 1's credentials")
    # RANGECAT_TOKEN is for every URL (each on its own origin).
    before = open(env.access_log).read().count("\n")
    r = run(env, ["-q", env.url("f65537"), env.url("f65536")],
            envvars={"RANGECAT_TOKEN": SECRET})
    expect_run(r, 0, env.files["f65537"] + env.files["f65536"], quiet=True)
    time.sleep(0.3)
    lines = open(env.access_log).read().splitlines()[before:]
    mine = [l for l in lines if re.search(r"/f6553[67]$", l)]
    expect(mine and all("Bearer " + SECRET in l for l in mine),
           "a URL without the token")


@case("several URLs: the next files start while the current one finishes")
def t_multi_overlap(env):
    # The first file is slow (limit_rate 1m per connection); the small
    # ones after it are fetched meanwhile, so each is all there when the
    # output reaches it (the -v log says how many bytes were ready):
    # several small files run ahead at once, their sizes being known.
    # -n 2 keeps the first file slow (about 2 s): adaptive connections
    # would fetch it in a few tenths of a second, and with -n 4 (1 s) a
    # loaded CI machine started the last small one as the first ended.
    names = ["slow/f4194304", "f65537", "f65536", "f1", "f0", "f2"]
    want = b"".join(env.files[n.split("/")[-1]] for n in names)
    r = run(env, ["-v", "-n", "2"] + [env.url(n) for n in names])
    expect_run(r, 0, want)
    for k, n in ((2, 65537), (3, 65536), (4, 1), (6, 2)):
        expect(re.search(r"URL %d of 6: %d bytes ready at its start" % (
            k, n), r.err), "URL %d was not ready: %s" % (k, "\n".join(
                l for l in r.err.splitlines() if "URL" in l)))


@case("a resume command longer than a log line is printed whole")
def t_multi_long_hint(env):
    # One URL, an argv of over 4 KiB: the line is not cut at 2 KiB.
    pad = ["-H", "X-Pad: " + "p" * 300] * 14
    r = run(env, ["--retries", "0", "--chunk-size", "1M"] + pad +
            [env.furl("long-hint", "s404@5", "f20971520")])
    expect_run(r, 2, None, err=r"HTTP 404")
    m = re.search(r"resume with: (.*)$", r.err, re.M)
    expect(m and len(m.group(1)) > 4096, "short or no command: %s" %
           r.err[-300:])
    resume(env, r, env.files["f20971520"])


@case("several URLs from RANGECAT_INPUT_FILE: the hint lists them and "
      "says to unset the variable")
def t_multi_input_env(env):
    lst = os.path.join(env.work, "list-env")
    with open(lst, "w") as f:
        f.write(env.url("f65537") + "\n" + env.url("nope-env") + "\n" +
                env.url("f1") + "\n")
    r = run(env, ["-q"], envvars={"RANGECAT_INPUT_FILE": lst})
    expect_run(r, 2, env.files["f65537"], err=r"HTTP 404")
    expect(re.search(r"resume with: rangecat -q \S+/nope-env \S+/f1$",
                     r.err, re.M), "hint: %s" % r.err[-300:])
    expect("unset RANGECAT_INPUT_FILE to run it" in r.err,
           "no word of the variable: %s" % r.err[-300:])
