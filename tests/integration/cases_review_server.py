# Hostile servers (review3): replies whose framing contradicts their
# Content-Range. Read into run.py's namespace (see the end of run.py).


@case("a 206 body longer than its Content-Range is never written")
def t_rs_fault_body_past_crange(env):
    data = env.files["f4194305"]
    # Every reply after the probe names half the range asked and then
    # sends the rest of it as other bytes (read to the close, or
    # chunked): the run fails with a prefix of the file, never exit 0.
    for kind in ("crhalf", "crhalfc"):
        for n in ("8", "1"):
            r = run(env, ["--retry-delay", "10ms", "-n", n,
                          env.furl("rs-%s-%s" % (kind, n),
                                   "%s@1x1000" % kind, "f4194305")])
            expect_run(r, 3, None,
                       err=r"the body runs past the end its Content-Range")
            expect(data[:len(r.out)] == r.out,
                   "%s -n %s: %d bytes, not a prefix" % (kind, n,
                                                         len(r.out)))
        # Once, the probe included: the range is asked again, exact.
        for at in ("0", "1", "3"):
            r = run(env, ["--retry-delay", "10ms", "--chunk-size", "64K",
                          env.furl("rs-%s-once%s" % (kind, at),
                                   "%s@%s" % (kind, at), "f4194305")])
            expect_run(r, 0, data)


@case("a total named once holds for every later reply of a '/*' file")
def t_rs_fault_star_total(env):
    data = env.files["f4194305"]
    # "bytes A-B/*" first, then a reply naming the real total, then
    # replies naming a total that ends where each of them ends: the file
    # does not end there (exit 0 with a prefix), it changed.
    r = run(env, ["--retry-delay", "10ms",
                  env.furl("rs-startotal", "star,startotal", "f4194305")])
    expect_run(r, 4, None, err=r"the file size changed")
    expect(0 < len(r.out) < len(data) and data[:len(r.out)] == r.out,
           "%d bytes, not a proper prefix" % len(r.out))


@case("-d and -x over a 206 body longer than its Content-Range")
def t_rs_fault_body_past_crange_decode(env):
    import gzip as _gz
    import io as _io
    import tarfile as _tar
    data = env.files["f4194305"]
    env.add("rs.gz", _gz.compress(data, 1))
    buf = _io.BytesIO()
    with _tar.open(fileobj=buf, mode="w") as t:
        ti = _tar.TarInfo("m")
        ti.size = len(data)
        t.addfile(ti, _io.BytesIO(data))
    env.add("rs.tar", buf.getvalue())
    r = run(env, ["--retry-delay", "10ms", "--chunk-size", "64K", "-d",
                  env.furl("rs-d-once", "crhalf@2", "rs.gz")])
    expect_run(r, 0, data)
    r = run(env, ["--retry-delay", "10ms", "-d",
                  env.furl("rs-d-all", "crhalfc@1x1000", "rs.gz")])
    expect_run(r, 3, None, err=r"the body runs past the end its Content-Range")
    expect(data[:len(r.out)] == r.out, "-d: not a prefix")
    for spec, rc in (("crhalf@3", 0), ("crhalf@1x1000", 3)):
        out = tempfile.mkdtemp(dir=env.work)
        r = run(env, ["--retry-delay", "10ms", "--chunk-size", "64K",
                      "-x", out, env.furl("rs-x-" + spec, spec, "rs.tar")])
        expect_run(r, rc, b"")
        if rc == 0:
            with open(os.path.join(out, "m"), "rb") as f:
                expect(f.read() == data, "-x: m differs")
        else:
            expect(not os.path.exists(os.path.join(out, "m")) or
                   data.startswith(open(os.path.join(out, "m"), "rb")
                                   .read()), "-x: m is no prefix")


@case("an ETag that is no entity-tag still marks another version")
def t_rs_fault_raw_etag(env):
    data = env.files["f4194305"]
    # Unquoted, it pins nothing (Last-Modified does), but a later reply
    # with other text is another version, not the same one: exit 4.
    for n in ("8", "1"):
        r = run(env, ["-v", "--chunk-size", "64K", "-n", n,
                      env.furl("rs-rawetag-" + n, "rawetag@1",
                               "f4194305")])
        expect_run(r, 4, None, err=r"the ETag changed")
        expect(data[:len(r.out)] == r.out,
               "-n %s: %d bytes, not a prefix" % (n, len(r.out)))
        expect("If-Match" not in r.err, "an unquoted ETag sent in If-Match")
    r = run(env, ["--chunk-size", "64K",
                  env.furl("rs-rawetag-same", "rawetag@1000", "f4194305")])
    expect_run(r, 0, data)


@case("a 200 whose Content-Range names a part is not the whole file")
def t_rs_fault_200_part(env):
    data = env.files["f4194305"]
    # To the probe: not taken as a file of the part's size.
    for extra in ([], ["-n", "1"], ["-r", "1000-2000"]):
        r = run(env, ["--retry-delay", "10ms"] + extra +
                [env.furl("rs-200cr-%d" % len(extra), "s200cr@0x100",
                          "f4194305")])
        expect_run(r, 3, b"", err=r"a 200 whose Content-Range names a part")
    # Once, then honest: exact.
    r = run(env, ["--retry-delay", "10ms", "-r", "1000-2000",
                  env.furl("rs-200cr-once", "s200cr@0", "f4194305")])
    expect_run(r, 0, data[1000:2001])
    # A Content-Range that names the whole file is a whole file.
    r = run(env, ["-r", "1000-2000",
                  env.furl("rs-200all", "s200all@0", "f4194305")])
    expect_run(r, 0, data[1000:2001])
    r = run(env, [env.furl("rs-200all-2", "s200all@0", "f4194305")])
    expect_run(r, 0, data)


@case("two different ETags, Last-Modified dates or Content-Ranges: malformed")
def t_rs_fault_dup_headers(env):
    data = env.files["f4194305"]
    for which in ("etag", "lm", "cr"):
        for at in ("0", "1"):
            r = run(env, ["-H", "X-Rs-Dup: " + which, "--chunk-size", "64K",
                          env.furl("rs-dup-%s-%s" % (which, at),
                                   "dup@%s" % at, "f4194305")])
            expect_run(r, 3, None, err=r"malformed reply \(HTTP 206\): "
                       r"two different")
            expect(data[:len(r.out)] == r.out, "%s@%s: not a prefix"
                   % (which, at))
