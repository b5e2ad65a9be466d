# Validators, sizes and offsets (issue 11): every reply after the probe
# proves it is the probe's version; a Last-Modified within a second of
# Date is weak; no validator means one response; unknown totals, 416
# without Content-Range, -r -N without ranges, range-breaking -H headers,
# Apache's "-gzip" ETags. Against the fault server, nginx, Apache httpd
# and lighttpd. Read into run.py's namespace (see the end of run.py).


def rot(data, k):
    """Version k of a file as the fault server serves it."""
    if not data:
        return data
    k %= len(data)
    return data[k:] + data[:k]


def gets(err):
    """The Range of every request rangecat logged with -v."""
    return re.findall(r"GET bytes=(\S+)", err)


def prefix_of_one(out, versions, where):
    """The output is a prefix of exactly one of the versions."""
    hits = [i for i, v in enumerate(versions) if v[:len(out)] == out]
    expect(hits, where + ": output is no version's prefix")


@case("no validator: one response, never a probe plus an unpinned range")
def t_val_one_response(env):
    data = env.files["f20971520"]
    for spec in ("noetag", "weak"):
        r = run(env, ["-v", env.furl("v1r-" + spec, spec, "f20971520")])
        expect_run(r, 0, data, err=r"the probe goes again as one stream")
        g = gets(r.err)
        expect(g[1:] == ["0-"], "%s: requests after the probe: %s"
               % (spec, g[1:]))
    # A probe that already holds every byte wanted is the one response.
    r = run(env, ["-v", env.furl("v1r-small", "noetag", "f65536")])
    expect_run(r, 0, env.files["f65536"])
    expect(len(gets(r.err)) == 1, "a second request: %s" % gets(r.err))
    r = run(env, ["-v", "-r", "10-99",
                  env.furl("v1r-r", "noetag", "f20971520")])
    expect_run(r, 0, data[10:100])
    expect(len(gets(r.err)) == 1, "a second request: %s" % gets(r.err))
    # The one stream breaks midway: no unpinned range is spliced on.
    for spec in ("noetag,reset@1", "weak,trunc@1"):
        r = run(env, ["--retry-delay", "10ms",
                      env.furl("v1r-" + spec, spec, "f20971520")])
        expect_run(r, 3, None, err=r"no validator that proves a second "
                   r"reply is the same version")
        expect(0 < len(r.out) < len(data) and data[:len(r.out)] == r.out,
               spec + ": %d bytes, not a proper prefix" % len(r.out))
    # Before any byte of it landed, the stream may start again.
    r = run(env, ["--retry-delay", "10ms",
                  env.furl("v1r-503", "noetag,s503@1", "f20971520")])
    expect_run(r, 0, data)


@case("Last-Modified within a second of Date: re-probe, then one stream")
def t_val_same_second(env):
    data = env.files["f20971520"]
    # Replaced by a same-size version in the second it was written, with
    # the same Last-Modified and nginx-style ETag: the probe waits out
    # that second and goes again, and everything comes from version 1.
    for n in ("8", "1"):
        r = run(env, ["-v", "-n", n, "--retry-delay", "10ms",
                      env.furl("vss-" + n, "samesec", "f20971520")])
        expect_run(r, 0, rot(data, 1), err=r"the probe goes again in 1\.")
        if n == "8":
            expect(re.search(r"validator ETag .*, parallel", r.err),
                   "not parallel after the second probe")
    # Rewritten all the time: after the second probe, one stream, which
    # is one version (the third request's).
    r = run(env, ["-v", env.furl("vfr", "fresh", "f20971520")])
    expect_run(r, 0, rot(data, 2), err=r"still within a second of its "
               r"modification: the probe goes again as one stream")
    expect(gets(r.err)[1:] == [gets(r.err)[0], "0-"],
           "requests: %s" % gets(r.err))


@case("later replies that ignore If-Match/If-Unmodified-Since: exit 4")
def t_val_ignored_preconditions(env):
    data = env.files["f20971520"]
    for spec, why in (("lm,lmx@2", r"the Last-Modified date changed"),
                      ("lm,lmx@4", r"the Last-Modified date changed"),
                      ("dropetag@2", r"lacks the first reply's ETag: the file changed"),
                      ("dropetag@5", r"lacks the first reply's ETag: the file changed"),
                      # The same tag made weak, or with Apache's "-gzip":
                      # other bytes, not the version pinned (both were
                      # taken as equal, and the run exited 0).
                      ("weakx@2", r"the ETag changed"),
                      ("gzipx@3", r"the ETag changed")):
        r = run(env, ["--chunk-size", "1M", "--retry-delay", "10ms",
                      env.furl("vip-" + spec, spec, "f20971520")])
        expect_run(r, 4, None, err=why)
        expect(len(r.out) < len(data) and data[:len(r.out)] == r.out,
               spec + ": the output is not a prefix of the first version")
        prefix_of_one(r.out, [data, rot(data, 1)], spec)
    # The probe had no ETag (and version 1); later replies gain one.
    r = run(env, ["--chunk-size", "1M",
                  env.furl("vip-gain", "gainetag", "f20971520")])
    expect_run(r, 4, None, err=r"carries an ETag the first reply lacked")
    expect(len(r.out) < len(data) and rot(data, 1)[:len(r.out)] == r.out,
           "gained ETag: the output is not a prefix of the probe's version")
    # A zip read by ranges (--list) holds its replies to the probe's too.
    zdir = os.path.join(env.work, "vzipdir")
    os.makedirs(zdir, exist_ok=True)
    for i in range(3):
        with open(os.path.join(zdir, "m%d" % i), "wb") as f:
            f.write(os.urandom(MB))
    subprocess.run(["zip", "-q", "-0", os.path.join(env.data, "v.zip"),
                    "m0", "m1", "m2"], cwd=zdir, check=True)
    r = run(env, ["-t", env.furl("v.zip", "-", "v.zip")])
    expect_run(r, 0, b"m0\nm1\nm2\n")
    # Without a validator it is not read by ranges, but as one response.
    r = run(env, ["-vv", "-t", env.furl("v.zip-ne", "noetag", "v.zip")])
    expect_run(r, 0, None, err=r"the probe goes again as one stream")
    expect(all(m in r.out for m in (b" m0\n", b" m1\n", b" m2\n")) and
           "random access" not in r.err, "a zip without validator: "
           + r.err[-300:])
    for spec, why in (("lm,lmx@1", r"the Last-Modified date changed"),
                      ("dropetag@1", r"lacks the first reply's ETag: the file changed"),
                      ("dropetag@2", r"lacks the first reply's ETag: the file changed")):
        r = run(env, ["-t", env.furl("vzip-" + spec, spec, "v.zip")])
        expect_run(r, 4, None, err=why)
        r = run(env, ["--member", "m1", env.furl("vzipm-" + spec, spec,
                                                  "v.zip")])
        expect_run(r, 4, b"", err=why)


@case("unknown total (bytes A-B/*): a capped reply is not the end")
def t_val_unknown_total(env):
    for name in ("f20971520", "f4194305", "f262144", "f1"):
        data = env.files[name]
        for n in ("8", "1"):
            r = run(env, ["-n", n, "--retry-delay", "10ms",
                          env.furl("vut-%s-%s" % (name, n), "star", name)])
            expect_run(r, 0, data)
    r = run(env, [env.furl("vut-0", "star", "f0")])
    expect_run(r, 0, b"")
    r = run(env, ["-C", "1000", env.furl("vut-c", "star", "f20971520")])
    expect_run(r, 0, env.files["f20971520"][1000:])
    # Without a validator the capped reply cannot be continued.
    data = env.files["f20971520"]
    r = run(env, ["--retry-delay", "10ms",
                  env.furl("vut-ne", "star,noetag", "f20971520")])
    expect_run(r, 3, None, err=r"unknown total ended at byte 1048576")
    expect(r.out == data[:MB], "%d bytes, wanted the first MiB"
           % len(r.out))


@case("416 without Content-Range: -C SIZE and -C - on a complete file")
def t_val_416_no_crange(env):
    data = env.files["f4194305"]
    url = env.furl("v416", "no416cr", "f4194305")
    r = run(env, ["-C", str(len(data)), url])
    expect_run(r, 0, b"", quiet=True)
    r = run(env, ["-C", str(len(data) + 1), url])
    expect_run(r, 2, b"", err=r"past the end of the file \(size %d bytes\)"
               % len(data))
    # Redirected, the size request follows the redirect too.
    r = run(env, ["-C", str(len(data)),
                  env.furl("v416r", "redirect,no416cr", "f4194305")])
    expect_run(r, 0, b"", quiet=True)
    path = os.path.join(env.work, "v416-full")
    with open(path, "wb") as f:
        f.write(data)
    r = run(env, ["-C", "-", url], stdout_path=path, append=True)
    expect_run(r, 0, data)
    r = run(env, [env.furl("v416-0", "no416cr", "f0")])
    expect_run(r, 0, b"", quiet=True)
    r = run(env, ["-C", "3", env.furl("v416-3", "no416cr", "f0")])
    expect_run(r, 2, b"", err=r"size 0 bytes")


@case("-r -N when the server ignores Range: exactly the last N bytes")
def t_val_suffix_norange(env):
    data = env.files["f20971520"]
    for n in (1, 1000, 300000, len(data), len(data) + 5):
        r = run(env, ["-r", "-%d" % n,
                      env.furl("vsn-%d" % n, "norange", "f20971520")])
        expect_run(r, 0, data[-n:])
        r = run(env, ["-r", "-%d" % n, env.url("norange/f20971520")])
        expect_run(r, 0, data[-n:])
    r = run(env, ["-r", "-1000", env.furl("vsn-ch", "chunked", "f20971520")])
    expect_run(r, 2, b"", err=r"-r -1000: the server ignores ranges and "
               r"sends no length")


@case("-H and RANGECAT_HEADERS that would break range requests: exit 1")
def t_val_header_refused(env):
    url = env.url("f1")
    for h, use in (("Range: bytes=0-9", r"use -r A-B or -C N"),
                   ("if-match: \"x\"", r"use --if-match ETAG"),
                   ("If-None-Match: *", r"rangecat sets it itself"),
                   ("If-Range: \"x\"", r"rangecat sets it itself"),
                   ("If-Modified-Since: Sun, 09 Sep 2001 01:46:40 GMT",
                    r"rangecat sets it itself"),
                   ("If-Unmodified-Since: Sun, 09 Sep 2001 01:46:40 GMT",
                    r"rangecat sets it itself"),
                   ("Accept-Encoding: gzip", r"rangecat sets it itself \(use -d to decode\)")):
        r = run(env, ["-H", h, url])
        expect_run(r, 1, b"", err=r"^rangecat: -H '%s': %s" % (
            re.escape(h.split(":")[0]), use))
        r = run(env, [url], envvars={"RANGECAT_HEADERS": "X-A: 1\n" + h})
        expect_run(r, 1, b"", err=r"^rangecat: RANGECAT_HEADERS line 2: "
                   + use)
    r = run(env, ["-H", "X-Range: 1", url])
    expect_run(r, 0, env.files["f1"])


@case("--if-match with an Apache-style \"-gzip\" ETag: both forms sent")
def t_val_gzip_etag_faults(env):
    data = env.files["f4194305"]
    tag = '"v1-%d-gzip"' % len(data)
    r = run(env, ["-v", "--if-match", tag,
                  env.furl("vgz", "-", "f4194305")])
    expect_run(r, 0, data, err=r"If-Match: %s, \"v1-%d\"" % (
        re.escape(tag), len(data)))
    r = run(env, ["--if-match", '"v2-%d-gzip"' % len(data),
                  env.furl("vgz2", "-", "f4194305")])
    expect_run(r, 4, b"", err=r"HTTP 412|not .* as --if-match asked")


def real_server(env, which):
    return env.apache() if which == "apache" else env.lighttpd()


@case("Apache httpd and lighttpd: ranges, -C SIZE, -C -, -r -N")
def t_val_real_servers(env):
    data = env.files["f20971520"]
    for which in ("apache", "lighttpd"):
        base = real_server(env, which)
        for path in ("f20971520", "noetag/f20971520"):
            # The defaults (on loopback one stream after the probe, which
            # may give way to ranges), and ranges with -n 8.
            r = run(env, ["-v", base + path])
            expect_run(r, 0, data, err=r"parallel")
            r = run(env, ["-v", "-n", "8", base + path])
            expect_run(r, 0, data, err=r"parallel")
            expect(len(gets(r.err)) > 8, which + ": not parallel")
        for n in ("f0", "f1", "f262145"):
            r = run(env, [base + n])
            expect_run(r, 0, env.files[n])
        r = run(env, ["-C", str(len(data)), base + "f20971520"])
        expect_run(r, 0, b"", quiet=True)
        r = run(env, ["-C", "0", base + "f0"])
        expect_run(r, 0, b"", quiet=True)
        r = run(env, ["-C", str(len(data) + 1), base + "f20971520"])
        expect_run(r, 2, b"", err=r"size %d bytes" % len(data))
        for spec in ("%d-" % len(data), "%d-%d" % (len(data), len(data))):
            r = run(env, ["-r", spec, base + "f20971520"])
            expect_run(r, 2, b"", err=r"offset %d is past the end of the "
                       r"file \(size %d bytes\)" % (len(data), len(data)))
        r = run(env, ["-C", "12345", base + "f20971520"])
        expect_run(r, 0, data[12345:])
        path = os.path.join(env.work, which + "-full")
        with open(path, "wb") as f:
            f.write(data[:7777777])
        for _ in range(2):  # the second run finds the file complete
            r = run(env, ["-C", "-", base + "f20971520"], stdout_path=path,
                     append=True)
            expect_run(r, 0, data)
        for n in (1, 300000, len(data) + 5):
            for path in ("f20971520", "norange/f20971520"):
                r = run(env, ["-r", "-%d" % n, base + path])
                expect_run(r, 0, data[-n:])
        r = run(env, ["-v", base + "norange/f20971520"])
        expect_run(r, 0, data, err=r"server ignores Range")


def replace_in_second(env, url, path, size, label):
    """Writes version 1 at the start of a second, starts rangecat, and
    rewrites the file in place with version 2 of the same size and the
    same modification second while rangecat runs. Returns (result, v2)
    once rangecat's probe landed in that second (up to 3 tries)."""
    for _ in range(3):
        v1, v2 = os.urandom(size), os.urandom(size)
        time.sleep(1.02 - time.time() % 1)
        t = int(time.time())
        with open(path, "wb") as f:
            f.write(v1)
        os.utime(path, (t, t))
        p = subprocess.Popen([BIN, "-v", "-n", "2", "--chunk-size", "1M",
                              "--memory", "4M", url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(0.4)
        with open(path, "r+b") as f:
            f.write(v2)
        os.utime(path, (t, t))
        out = p.stdout.read()
        err = p.stderr.read().decode(errors="replace")
        p.wait(timeout=60)
        if "the probe goes again" in err or out not in (v1, v2):
            return Result(p.returncode, out, err), v1, v2
        # The probe came after that second (a loaded machine) and found
        # one version: this run proves nothing; try again.
    raise Fail(label + ": no probe within the second of the write")


@case("a file replaced within the second it was written: one version")
def t_val_replaced_same_second(env):
    size = 24 * MB
    for label in ("nginx", "apache", "lighttpd"):
        if label == "nginx":
            url = env.url("vrs-" + label)
        elif label == "apache":
            url = env.apache() + "noetag/vrs-" + label
        else:
            url = env.lighttpd() + "vrs-" + label
        path = os.path.join(env.data, "vrs-" + label)
        r, v1, v2 = replace_in_second(env, url, path, size, label)
        expect_run(r, 0, None)
        expect(r.out == v2, "%s: %d bytes, not exactly the second version "
               "(first version's prefix: %s)" % (
                   label, len(r.out), r.out[:MB] == v1[:MB]))
        os.unlink(path)


@case("Apache mod_deflate's \"-gzip\" ETag does not fool rangecat")
def t_val_apache_gzip_etag(env):
    data = env.files["f20971520"]
    base = env.apache()
    # What a browser or curl --compressed sees: the tag with "-gzip".
    req = urllib.request.Request(base + "gz/f20971520", method="HEAD",
                                 headers={"Accept-Encoding": "gzip"})
    tag = urllib.request.urlopen(req).headers["ETag"]
    expect(tag.endswith('-gzip"') and not tag.startswith("W/"),
           "Apache sent ETag %s" % tag)
    r = run(env, ["-v", "--if-match", tag, base + "gz/f20971520"])
    expect_run(r, 0, data, err=r"parallel")
    r = run(env, ["--if-match", tag, base + "f20971520"])
    expect_run(r, 0, data)
    # Another file's tag, with or without the suffix, is still refused.
    req = urllib.request.Request(base + "gz/f4194305", method="HEAD",
                                 headers={"Accept-Encoding": "gzip"})
    other = urllib.request.urlopen(req).headers["ETag"]
    for t in (other, other.replace("-gzip", "")):
        r = run(env, ["--if-match", t, base + "gz/f20971520"])
        expect_run(r, 4, b"", err=r"HTTP 412|as --if-match asked")


@case("a resume hint without a strong ETag is still a line a shell can run")
def t_val_hint_line(env):
    # -n 1: the probe's chunk lands, then the rest of the file fails
    # twice; the hint's line must end with the command (the warning about
    # the weak validator goes on a line of its own).
    data = env.files["f4194304"]
    url = env.furl("hintlm", "lm,s500@1x2", "f4194304")
    r = run(env, ["-n", "1", "--retries", "1", "--retry-delay", "10ms", url])
    expect_run(r, 3, None, err=r"no strong ETag: the resumed bytes cannot")
    line = [l for l in r.err.splitlines() if "resume with: " in l][0]
    expect(line.endswith(shlex.quote(url)) or line.endswith(url),
           "the hint's line does not end with the URL: %s" % line)
    resume(env, r, data)


@case("no validator: the one stream that follows the probe must reach the "
      "size the probe named")
def t_val_one_stream_total(env):
    # The probe's 206 names the size; the stream that replaces it (no
    # validator) is a 200 without a length, cut at half by a close. It
    # was taken for the whole file: exit 0 with half of it.
    data = env.files["f4194304"]
    r = run(env, ["--retries", "1", "--retry-delay", "10ms",
                  env.furl("v1s", "noetag,cutclose@1", "f4194304")])
    expect_run(r, 3, None, err=r"short reply at byte 2097152")
    expect(r.out == data[:len(r.out)], "not a prefix")
