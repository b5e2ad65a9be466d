# Content-Encoding on range replies. rangecat asks for identity only, so
# a coding on a 206 is a stored representation's label (S3 object
# metadata, a static server that labels its .gz files): with a strong
# ETag it is written as stored, and every later reply must carry the
# first one's coding; without one it is refused, in one line that says
# why. Against nginx, Ceph RGW and the fault server (more in run.py's
# MATRIX: enc, enc,encoff@2, enc,encbr@3x2, enc,weak...). Read into
# run.py's namespace (see the end of run.py).

import gzip

# The line a refused run ends with (exit 3), at -v or not.
ENC_REFUSED = (r"(?m)^rangecat: at byte 0: HTTP 206: the server applies "
               r"Content-Encoding to ranges and names no strong ETag that "
               r"would prove the bytes are one fixed representation "
               r"\(gave up after 1 retries\)$")


def enc_gets(err):
    """The Range of every request rangecat logged with -v."""
    return re.findall(r"GET bytes=(\S+)", err)


def labelled(url, first, last):
    """(status, Content-Encoding) of a range request to url."""
    req = urllib.request.Request(url, headers={
        "Range": "bytes=%d-%d" % (first, last),
        "Accept-Encoding": "identity"})
    with urllib.request.urlopen(req) as f:
        f.read()
        return f.status, f.headers.get("Content-Encoding")


@case("Content-Encoding on ranges, nginx: a labelled file written as stored")
def t_enc_nginx(env):
    name = "f20971520"
    data = env.files[name]
    url = env.url("labelled/" + name)
    expect(labelled(url, 5, 9) == (206, "gzip"),
           "nginx does not label its 206: %r" % (labelled(url, 5, 9),))
    # The defaults on loopback: the probe and one stream (which may
    # give way to ranges); -n 8 and -n 32: ranges.
    for extra in ([], ["-n", "8"], ["-n", "32"], ["-n", "1"]):
        r = run(env, ["-v", "--chunk-size", "1M"] + extra + [url])
        expect_run(r, 0, data, err=r"Content-Encoding gzip: written as "
                   r"stored")
        expect("< HTTP/1.1 206" in r.err, "the probe was no 206")
        expect(len(enc_gets(r.err)) > (1 if extra in ([], ["-n", "1"])
                                       else 3),
               "%s: few ranges: %s" % (extra, enc_gets(r.err)))
        expect("Content-Encoding differs" not in r.err,
               "%s: a range was refused: %s" % (extra, r.err[-400:]))
    r = run(env, ["--chunk-size", "1M", "-C", "5000000", url])
    expect_run(r, 0, data[5000000:])
    # The zip reader's ranges (--member, -t) are held to the same coding.
    import io
    import zipfile
    if "enc.zip" not in env.files:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr("a.bin", data[:6 * MB])
            z.writestr("b.txt", "labelled\n" * 100)
        env.add("enc.zip", buf.getvalue())
    r = run(env, ["-v", "--member", "a.bin", env.url("labelled/enc.zip")])
    expect_run(r, 0, data[:6 * MB], err=r"\(random access\)")
    r = run(env, ["-t", env.url("labelled/enc.zip")])
    expect_run(r, 0, b"a.bin\nb.txt\n")
    # Without an ETag (Last-Modified only) the label is refused.
    r = run(env, ["--retries", "1", "--retry-delay", "50ms",
                  env.url("labelled-noetag/" + name)])
    expect_run(r, 3, b"", err=ENC_REFUSED)


@case("Content-Encoding on ranges without a strong ETag: refused in one "
      "line")
def t_enc_refused(env):
    data = env.files["f4194305"]
    for spec in ("enc,weak", "enc,noetag", "enc,lm"):
        r = run(env, ["--retries", "1", "--retry-delay", "50ms",
                      env.furl("encr-" + spec, spec, "f4194305")])
        expect_run(r, 3, None, err=ENC_REFUSED)
        expect(data[:len(r.out)] == r.out, spec + ": not a prefix")
    # A server that compresses each range as it sends it, whatever its
    # ETag says: nothing of it is written.
    for spec in ("enc,encfly", "enc,encflycl", "enc,gzipx@0"):
        r = run(env, ["--retries", "1", "--retry-delay", "50ms",
                      env.furl("encr-" + spec, spec, "f4194305")])
        expect_run(r, 3, b"", err=r"compress(es|ing) each range")
    # A 200 is the whole representation: taken as it is, as before.
    r = run(env, [env.furl("encr-200", "enc,noetag,norange", "f4194305")])
    expect_run(r, 0, data)


@case("Content-Encoding on ranges: -C, --if-match, -o resume, several "
      "URLs, -d, a coding that changes")
def t_enc_faults(env):
    data = env.files["f20971520"]
    name = "f20971520"
    tag = '"v1-%d"' % len(data)
    base = ["--chunk-size", "1M", "--retry-delay", "50ms"]
    r = run(env, base + ["-C", "1000", env.furl("encf-C", "enc", name)])
    expect_run(r, 0, data[1000:])
    r = run(env, base + ["--if-match", tag, env.furl("encf-im", "enc", name)])
    expect_run(r, 0, data)
    r = run(env, base + ["--if-match", '"v2-1"',
                         env.furl("encf-im2", "enc", name)])
    expect_run(r, 4, b"", err=r"changed|HTTP 412")
    # The same coding in another case and spacing is no change.
    r = run(env, base + ["--retries", "0",
                         env.furl("encf-up", "enc,encup@2x3", name)])
    expect_run(r, 0, data)
    # One stream (-n 1) whose continuation loses the coding: asked again.
    r = run(env, base + ["-v", "-n", "1",
                         env.furl("encf-n1", "enc,encoff@1", name)])
    expect_run(r, 0, data, err=r"Content-Encoding differs from the first "
               r"reply's")
    # -o FILE: a run that fails keeps FILE.part, and the same command
    # (its 404 has passed) resumes it against the recorded ETag.
    d = os.path.join(env.work, "enc-o")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    dest = os.path.join(d, "x")
    argv = base + ["-v", "-n", "2", "--retries", "0", "-o", dest,
                   env.furl("encf-o", "enc,s404@6", name)]
    r = run(env, argv)
    expect(r.rc == 2, "-o first run: exit %d: %s" % (r.rc, r.err[-300:]))
    size = os.path.getsize(dest + ".part")
    expect(0 < size < len(data), "FILE.part holds %d bytes" % size)
    r = run(env, argv)
    expect_run(r, 0, b"", err=r"Content-Encoding gzip: written as stored")
    expect(enc_gets(r.err)[0].startswith("%d-" % size),
           "the resumed run asked %s first, FILE.part had %d"
           % (enc_gets(r.err)[:1], size))
    with open(dest, "rb") as f:
        expect(sha(f.read()) == sha(data), "-o resumed: file differs")
    # Several URLs, labelled and not: each held to its own first reply.
    small = env.files["f4194305"]
    r = run(env, base + [env.furl("encf-m1", "enc", "f4194305"),
                         env.url("f65537"),
                         env.furl("encf-m2", "enc,encoff@3", name)])
    expect_run(r, 0, small + env.files["f65537"] + data)
    # -d decodes the payload's own format, as for any file.
    if "enc.gz" not in env.files:
        env.add("enc.gz", gzip.compress(small, compresslevel=1))
    gz = env.files["enc.gz"]
    r = run(env, ["--chunk-size", "256K", env.furl("encf-gz", "enc",
                                                  "enc.gz")])
    expect_run(r, 0, gz)
    r = run(env, ["-d", "--chunk-size", "256K",
                  env.furl("encf-d", "enc", "enc.gz")])
    expect_run(r, 0, small)


@case("S3 on Ceph RGW: an object stored with Content-Encoding: gzip")
def t_enc_s3(env):
    c, objs = s3_setup(env)
    data = os.urandom(20 * MB + 3)
    c.put_object(Bucket="rc-test", Key="enc/obj", Body=data,
                 ContentEncoding="gzip")
    head = c.head_object(Bucket="rc-test", Key="enc/obj")
    expect(head.get("ContentEncoding") == "gzip",
           "RGW did not keep the Content-Encoding: %r"
           % head.get("ContentEncoding"))
    part = c.get_object(Bucket="rc-test", Key="enc/obj", Range="bytes=5-9")
    expect(part.get("ContentEncoding") == "gzip" and
           part["ContentRange"] == "bytes 5-9/%d" % len(data),
           "RGW's 206 is not labelled: %r" % part.get("ContentEncoding"))
    for n in ("8", "1"):
        r = arun(env, ["-n", n, "--chunk-size", "1M", "s3://rc-test/enc/obj"],
                 s3_env(env))
        expect_run(r, 0, data, err=r"Content-Encoding gzip: written as "
                   r"stored")
        expect(len(enc_gets(r.err)) > (1 if n == "1" else 3),
               "few ranges: %s" % enc_gets(r.err))
