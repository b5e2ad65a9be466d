# Integrity of archives and compressed streams in every mode, sparse and
# duplicate members, and the bounds of -x (--max-size, a full disk).
# Exec'd into run.py's namespace: case, run, expect, expect_run, env.url().
#
# The corruption cases flip one bit at a time, in every byte of the
# checksummed trailers and at seeded positions elsewhere, and hold each
# run to: exit 0 with exact output, or exit 6 with nothing wrong left
# behind. Never exit 0 with other bytes.

import io
import random
import tarfile
import zipfile

ARCH_SEED = int(os.environ.get("RANGECAT_ARCH_SEED", "1234"))


def arch_members():
    """name -> bytes: compressible text, random data, an empty file."""
    rnd = random.Random(ARCH_SEED)
    text = b"".join(b"row %d: the quick brown fox\n" % i
                    for i in range(6000))
    return {
        "a/text.txt": text,
        "a/rand.bin": bytes(rnd.getrandbits(8) for _ in range(70000)),
        "b/empty": b"",
        "b/small": b"small member\n",
    }


def arch_tar(members, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1600000000
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def compress(cmd, data):
    """data through a compressor's stdin (cmd as a list)."""
    return subprocess.run(cmd, input=data, capture_output=True,
                          check=True).stdout


# The compressed forms, each with its integrity check switched on.
ARCH_COMPRESSORS = {
    "tgz": ["gzip", "-c"],
    "txz": ["xz", "-c", "--check=crc64"],
    "tbz": ["bzip2", "-c"],
    # lz4's frame content checksum is on by default; -BX adds block ones
    # too, --content-size the size in the header.
    "tar.lz4": ["lz4", "-q", "-c", "--content-size"],
    "tar.lz4b": ["lz4", "-q", "-c", "-BX"],
    "tar.zst": ["zstd", "-q", "-c", "--check"],
}


def arch_setup(env):
    if getattr(env, "arch", None):
        return env.arch
    members = arch_members()
    tar = arch_tar(members)
    env.add("ar.tar", tar)
    for ext, cmd in ARCH_COMPRESSORS.items():
        env.add("ar." + ext, compress(cmd, tar))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    env.add("ar.zip", zbuf.getvalue())
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    env.add("ar.stored.zip", zbuf.getvalue())
    env.arch = members
    return members


def dir_files(d):
    """relative path -> bytes for every non-directory under d."""
    got = {}
    for root, dirs, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            got[os.path.relpath(p, d)] = open(p, "rb").read() \
                if not os.path.islink(p) else None
    return got


def extract_ok(r, dest, members, ctx):
    """-x: exit 0 with exactly the members, or exit 6 leaving only
    members with their exact bytes (no other, no temporary file)."""
    expect(r.rc in (0, 6), "%s: exit %d: %s" % (ctx, r.rc, r.err[-300:]))
    got = dir_files(dest) if os.path.isdir(dest) else {}
    for name, data in got.items():
        expect(name in members, "%s: exit %d left %s" % (ctx, r.rc, name))
        expect(data == members[name],
               "%s: exit %d left %s with other bytes" % (ctx, r.rc, name))
    if r.rc == 0:
        expect(set(got) == set(members), "%s: exit 0 but %s" % (
            ctx, sorted(set(members) - set(got))))
    else:
        expect(r.err.startswith("rangecat: ") or "\nrangecat: " in r.err,
               "%s: no message" % ctx)


def out_ok(r, want, ctx):
    """Exit 0 with exactly want, or exit 6 with a message."""
    expect(r.rc in (0, 6), "%s: exit %d: %s" % (ctx, r.rc, r.err[-300:]))
    if r.rc == 0:
        expect(r.out == want, "%s: exit 0 with other bytes (%d, wanted %d)"
               % (ctx, len(r.out), len(want)))
    else:
        expect("rangecat: " in r.err, "%s: no message" % ctx)


def flip_positions(n, tail, sample, rnd, skip=0):
    """Every byte of the last `tail` bytes, and `sample` seeded others
    (from byte `skip` on: the magic bytes only change the format)."""
    pos = set(range(max(skip, n - tail), n))
    body = range(skip, max(skip, n - tail))
    if len(body) > 0:
        pos.update(rnd.sample(body, min(sample, len(body))))
    return sorted(pos)


def flipped(data, pos, rnd):
    b = bytearray(data)
    b[pos] ^= 1 << rnd.randrange(8)
    return bytes(b)


@case("one flipped bit in any compressed tar: never exit 0 with wrong bytes")
def t_arch_flip_streams(env):
    members = arch_setup(env)
    tar = env.files["ar.tar"]
    want_list = "".join(n + "\n" for n in members).encode()
    rnd = random.Random(ARCH_SEED)
    caught = {}
    for ext in ARCH_COMPRESSORS:
        src = env.files["ar." + ext]
        # trailers: gzip CRC+ISIZE, xz check/index/footer, bzip2 stream
        # CRC, lz4 content checksum, zstd checksum
        for pos in flip_positions(len(src), 24, 6, rnd, skip=4):
            name = "flip-%s-%d" % (pos, rnd.randrange(1 << 30))
            bad = flipped(src, pos, rnd)
            env.add(name, bad)
            ctx = "%s byte %d" % (ext, pos)
            r = run(env, ["-q", "-d", env.url(name)], timeout=30)
            out_ok(r, tar, ctx + " -d")
            caught[ext] = caught.get(ext, 0) + (r.rc == 6)
            dest = os.path.join(env.work, "fx-" + name)
            r = run(env, ["-q", "-x", dest, env.url(name)], timeout=30)
            extract_ok(r, dest, members, ctx + " -x")
            r = run(env, ["-q", "-t", env.url(name)], timeout=30)
            out_ok(r, want_list, ctx + " -t")
            r = run(env, ["-q", "--member", "a/rand.bin", env.url(name)],
                    timeout=30)
            out_ok(r, members["a/rand.bin"], ctx + " --member")
            shutil.rmtree(dest, ignore_errors=True)
            os.unlink(os.path.join(env.data, name))
    # The trailers are checksummed: most flips must be caught.
    for ext, n in caught.items():
        expect(n >= 20, "%s: only %d of the flips were refused" % (ext, n))


@case("a gzip trailer with a wrong CRC or ISIZE fails -x, -t and --member")
def t_arch_gzip_trailer(env):
    members = dict(arch_setup(env))
    # Over 1 MiB decoded: members are on disk before the trailer is read.
    members["c/big.bin"] = os.urandom(3 * MB)
    src = compress(["gzip", "-c"], arch_tar(members))
    for off, what in ((-8, "CRC"), (-4, "ISIZE")):
        bad = bytearray(src)
        bad[len(bad) + off] ^= 0x10
        env.add("trailer.tgz", bytes(bad))
        dest = os.path.join(env.work, "gt-" + what)
        r = run(env, ["-x", dest, env.url("trailer.tgz")])
        expect_run(r, 6, b"", err=r"rangecat: .*gzip: incorrect (data|length)"
                   r" check.* \(the \d+ files extracted from the unverified "
                   r"stream were removed\)")
        expect(dir_files(dest) == {}, "%s: files left: %s" % (
            what, dir_files(dest)))
        r = run(env, ["-t", env.url("trailer.tgz")])
        expect_run(r, 6, None, err=r"gzip: incorrect")
        r = run(env, ["--member", "a/text.txt", env.url("trailer.tgz")])
        expect_run(r, 6, b"", err=r"gzip: incorrect")


@case("one flipped bit in a zip: streamed and by ranges, never wrong bytes")
def t_arch_flip_zip(env):
    members = arch_setup(env)
    rnd = random.Random(ARCH_SEED + 1)
    want_list = "".join(n + "\n" for n in members).encode()
    for zname in ("ar.zip", "ar.stored.zip"):
        src = env.files[zname]
        zf = zipfile.ZipFile(io.BytesIO(src))
        pos = set()
        for info in zf.infolist():
            h = info.header_offset
            pos.update(range(h + 14, h + 18))       # local CRC-32
            n = len(info.filename) + len(info.extra)
            start = h + 30 + n
            if info.compress_size:
                pos.update(rnd.sample(range(start,
                                            start + info.compress_size),
                                      min(6, info.compress_size)))
        # the central directory's CRC fields
        cd = src.rfind(b"PK\x01\x02")
        i = src.find(b"PK\x01\x02")
        while i >= 0:
            pos.update(range(i + 16, i + 20))
            i = src.find(b"PK\x01\x02", i + 4)
        expect(cd > 0, "no central directory")
        refused = 0
        for p in sorted(pos):
            name = "zflip-%d-%s" % (p, zname)
            env.add(name, flipped(src, p, rnd))
            ctx = "%s byte %d" % (zname, p)
            dest = os.path.join(env.work, "zx-" + name)
            r = run(env, ["-q", "-x", dest, env.url(name)], timeout=30)
            extract_ok(r, dest, members, ctx + " -x")
            refused += r.rc == 6
            for m in ("a/rand.bin", "a/text.txt"):
                # by ranges, and streamed (no ranges)
                r = run(env, ["-q", "--member", m, env.url(name)],
                            timeout=30)
                out_ok(r, members[m], ctx + " --member " + m)
                r = run(env, ["-q", "--member", m,
                              env.url("norange/" + name)], timeout=30)
                out_ok(r, members[m], ctx + " streamed --member " + m)
            r = run(env, ["-q", "-t", env.url("norange/" + name)],
                    timeout=30)
            out_ok(r, want_list, ctx + " streamed -t")
            shutil.rmtree(dest, ignore_errors=True)
            os.unlink(os.path.join(env.data, name))
        expect(refused >= len(pos) // 2,
               "%s: -x refused only %d of %d flips" % (zname, refused,
                                                      len(pos)))
    # A member's data changed with its CRC left alone: named, removed,
    # and with it the members before it, whose names only the central
    # directory at the end could have confirmed.
    src = bytearray(env.files["ar.stored.zip"])
    info = zipfile.ZipFile(io.BytesIO(bytes(src))).getinfo("a/rand.bin")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    src[start + 100] ^= 0x04
    env.add("badcrc.zip", bytes(src))
    dest = os.path.join(env.work, "zx-badcrc")
    r = run(env, ["-x", dest, env.url("badcrc.zip")])
    expect_run(r, 6, b"", err=r"rangecat: member a/rand\.bin: .*CRC")
    expect(not os.path.exists(os.path.join(dest, "a", "rand.bin")),
           "the member with a bad CRC was left in DIR")
    expect(dir_files(dest) == {}, "-x left %s from a zip that failed"
           % sorted(dir_files(dest)))
    for url in (env.url("badcrc.zip"), env.url("norange/badcrc.zip")):
        r = run(env, ["--member", "a/rand.bin", url])
        expect_run(r, 6, b"", err=r"a/rand\.bin: .*CRC")
    # -t read as a stream checks the data it passes, as unzip -t does
    r = run(env, ["-t", env.url("norange/badcrc.zip")])
    expect_run(r, 6, None, err=r"member a/rand\.bin: .*CRC")


def garbage_variants(env):
    arch_setup(env)
    junk = b"this is not part of the stream\n" * 40
    for ext in ARCH_COMPRESSORS:
        env.add("junk." + ext, env.files["ar." + ext] + junk)
    return ["junk." + ext for ext in ARCH_COMPRESSORS]


@case("trailing garbage: exit 6 in every mode, size known or chunked")
def t_arch_trailing(env):
    members = arch_setup(env)
    for name in garbage_variants(env):
        # liblzma reads on past an xz stream, so it calls it corrupt
        trailing = r"trailing data|Corrupted input" if "txz" in name \
            else r"trailing data"
        for url, how in ((env.url(name), "nginx"),
                         (env.furl("tg" + name, "chunked", name),
                          "chunked")):
            ctx = "%s over %s" % (name, how)
            r = run(env, ["-q", "-d", url])
            expect_run(r, 6, None, err=trailing)
            dest = os.path.join(env.work, "tg-%s-%s" % (name, how))
            r = run(env, ["-q", "-x", dest, url])
            expect_run(r, 6, b"", err=trailing)
            expect(dir_files(dest) == {}, "%s: -x left %s" % (
                ctx, sorted(dir_files(dest))))
            r = run(env, ["-q", "-t", url])
            expect_run(r, 6, None, err=trailing)
            r = run(env, ["-q", "--member", "b/small", url])
            expect_run(r, 6, b"", err=trailing)
    # libarchive's own test file: a tgz with garbage after it
    for name in ("test_compat_gzip_2.tgz", "test_compat_bzip2_2.tbz"):
        shutil.copy(os.path.join(EXTERN, name), env.data)
        dest = os.path.join(env.work, "tg-" + name)
        r = run(env, ["-x", dest, env.url(name)])
        expect_run(r, 6, b"", err=r"trailing data")
        expect(dir_files(dest) == {}, "%s: -x left %s" % (
            name, sorted(dir_files(dest))))
    # and the clean ones still pass over a chunked reply
    for ext in ARCH_COMPRESSORS:
        name = "ar." + ext
        dest = os.path.join(env.work, "tc-" + ext)
        r = run(env, ["-q", "-x", dest, env.furl("tc" + ext, "chunked",
                                                  name)])
        expect_run(r, 0, b"")
        expect(dir_files(dest) == members, "%s chunked -x" % ext)


def sparse_tar(env, fmt):
    """A 5 MiB sparse file that ends in a hole, archived by GNU tar."""
    d = os.path.join(env.work, "sparse-src-" + fmt)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "disk.img")
    with open(p, "wb") as f:
        f.truncate(5 * MB)
        f.seek(MB)
        f.write(b"data in the middle" * 1000)
        f.seek(3 * MB + 7)
        f.write(b"more data")
    with open(os.path.join(d, "after"), "wb") as f:
        f.write(b"the member after the sparse one\n")
    name = "sparse-%s.tar" % fmt
    sh("tar --sparse --format=%s -cf %s/%s disk.img after" % (
        fmt, env.data, name), cwd=d)
    env.files[name] = open(os.path.join(env.data, name), "rb").read()
    sh("gzip -c %s/%s > %s/%s.gz" % (env.data, name, env.data, name))
    return name, open(p, "rb").read()


@case("sparse members: -x and --member give the whole file, holes and all")
def t_arch_sparse(env):
    for fmt in ("gnu", "posix"):
        name, img = sparse_tar(env, fmt)
        tl = subprocess.run(["tar", "-tvf", os.path.join(env.data, name)],
                            capture_output=True, text=True).stdout
        expect(" 5242880 " in tl, "tar did not record the size: %s" % tl)
        for n in (name, name + ".gz"):
            r = run(env, ["--member", "disk.img", env.url(n)])
            expect_run(r, 0, img)
            dest = os.path.join(env.work, "sp-" + n)
            r = run(env, ["-x", dest, env.url(n)])
            expect_run(r, 0, b"")
            got = open(os.path.join(dest, "disk.img"), "rb").read()
            expect(len(got) == len(img) and got == img,
                   "%s: -x gave %d bytes, wanted %d" % (n, len(got),
                                                         len(img)))
            expect(open(os.path.join(dest, "after"), "rb").read() ==
                   b"the member after the sparse one\n", "%s: after" % n)


@case("a name twice: the last copy wins in -x and --member, as with tar")
def t_arch_duplicates(env):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("dup", b"first copy\n"), ("other", b"x\n"),
                           ("dup", b"second, last copy\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    env.add("dup.tar", buf.getvalue())
    env.add("dup.tgz", compress(["gzip", "-c"], buf.getvalue()))
    buf = io.BytesIO()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("dup", b"first copy\n")
            z.writestr("other", b"x\n")
            z.writestr("dup", b"second, last copy\n")
    env.add("dup.zip", buf.getvalue())
    for name in ("dup.tar", "dup.tgz", "dup.zip"):
        urls = [env.url(name)]
        if name.endswith(".zip"):
            urls.append(env.url("norange/" + name))   # streamed too
        for url in urls:
            r = run(env, ["--member", "dup", url])
            expect_run(r, 0, b"second, last copy\n")
            dest = os.path.join(env.work, "dup-%d-%s" % (len(url), name))
            r = run(env, ["-x", dest, url])
            expect_run(r, 0, b"")
            expect(dir_files(dest) == {"dup": b"second, last copy\n",
                                       "other": b"x\n"},
                   "%s: %s" % (url, dir_files(dest)))


def zero_bomb(env):
    if "bomb.tgz" in env.files:
        return
    d = os.path.join(env.work, "bomb-src")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "small"), "wb") as f:
        f.write(b"a small file first\n")
    with open(os.path.join(d, "zeros"), "wb") as f:
        for _ in range(64):
            f.write(bytes(MB))
    sh("tar -czf %s/bomb.tgz small zeros" % env.data, cwd=d)
    env.files["bomb.tgz"] = b""


@case("--member of a directory or a link: exit 6, said, nothing on stdout; "
      "a later file of the name wins")
def t_arch_member_not_file(env):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        def add(name, kind, data=b"", link=""):
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname, ti.size = kind, link, len(data)
            t.addfile(ti, io.BytesIO(data) if data else None)
        add("d", tarfile.DIRTYPE)
        add("d/f", tarfile.REGTYPE, b"the file\n")
        add("s", tarfile.SYMTYPE, link="d/f")
        add("h", tarfile.LNKTYPE, link="d/f")
        add("p", tarfile.FIFOTYPE)
        add("x", tarfile.DIRTYPE)            # a directory, then a file
        add("x", tarfile.REGTYPE, b"x, the last copy\n")
        add("y", tarfile.REGTYPE, b"y first\n")    # a file, then a directory
        add("y", tarfile.DIRTYPE)
    env.add("nf.tar", buf.getvalue())
    env.add("nf.tgz", compress(["gzip", "-c"], buf.getvalue()))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("d/", b"")
        z.writestr("d/f", b"the file\n")
    env.add("nf.zip", zbuf.getvalue())
    for name in ("nf.tar", "nf.tgz"):
        url = env.url(name)
        for m, why in (("d", "is a directory"), ("d/", "is a directory"),
                       ("./d/", "is a directory"), ("y", "is a directory"),
                       ("s", "is a symbolic link to d/f"),
                       ("h", "is a hard link to d/f: ask for that member"),
                       ("p", "is not a regular file")):
            r = run(env, ["-q", "--member", m, url])
            expect_run(r, 6, b"", err="member %s %s" % (re.escape(m),
                                                         re.escape(why)))
        for m, want in (("d/f", b"the file\n"),
                        ("x", b"x, the last copy\n"),
                        ("x/", b"x, the last copy\n")):
            r = run(env, ["-q", "--member", m, url])
            expect_run(r, 0, want, quiet=True)
    for url in (env.url("nf.zip"), env.url("norange/nf.zip")):
        r = run(env, ["-q", "--member", "d/", url])
        expect_run(r, 6, b"", err="member d/ is a directory")
        r = run(env, ["-q", "--member", "d/f", url])
        expect_run(r, 0, b"the file\n", quiet=True)
    # Trailing slashes, any number, as with tar; "/" and "./" name no
    # entry (the archive's "./" is no member of that name).
    url = env.url("nf.tar")
    r = run(env, ["-q", "--member", "./d//", url])
    expect_run(r, 6, b"", err=r"member \./d// is a directory")
    for m in ("/", "./"):
        r = run(env, ["-q", "--member", m, url])
        expect_run(r, 6, b"", err="no member %s in the archive" % m)
    # cpio (newc) keeps a hard-linked file's bytes with its last link:
    # that link is the file, and the one before it is empty (as
    # libarchive and cpio -i read it).
    def newc(name, ino, nlink, data):
        name = name.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            ino, 0o100644, 0, 0, nlink, 1600000000, len(data), 0, 0, 0, 0,
            len(name), 0))
        pad = lambda n: b"\0" * (-n % 4)
        return (hdr + name + pad(len(hdr) + len(name)) + data +
                pad(len(data)))
    env.add("hl.cpio", newc("a", 7, 2, b"") +
            newc("b", 7, 2, b"hard-linked data\n") +
            newc("TRAILER!!!", 0, 1, b""))
    r = run(env, ["-q", "--member", "b", env.url("hl.cpio")])
    expect_run(r, 0, b"hard-linked data\n", quiet=True)


@case("--max-size stops a zero-filled bomb: exit 6, member and limit named")
def t_arch_max_size(env):
    zero_bomb(env)
    dest = os.path.join(env.work, "ms-x")
    r = run(env, ["-x", dest, "--max-size", "8M", env.url("bomb.tgz")])
    expect_run(r, 6, b"", err=r"rangecat: zeros: the members' data would "
               r"exceed --max-size \(8388608 bytes\)")
    expect(dir_files(dest) == {}, "-x left %s" % sorted(dir_files(dest)))
    r = run(env, ["--member", "zeros", "--max-size", "1M",
                  env.url("bomb.tgz")])
    expect_run(r, 6, b"", err=r"zeros: .*--max-size \(1048576 bytes\)")
    # Enough room: the same archive extracts.
    dest = os.path.join(env.work, "ms-ok")
    r = run(env, ["-x", dest, "--max-size", "65M", env.url("bomb.tgz")])
    expect_run(r, 0, b"")
    expect(os.path.getsize(os.path.join(dest, "zeros")) == 64 * MB, "size")
    r = run(env, ["--max-size", "1M", env.url("bomb.tgz")])
    expect_run(r, 1, b"", err=r"--max-size goes with --extract or --member")


@case("a full disk under -x or --member: exit 5, the member and the reason")
def t_arch_enospc(env):
    zero_bomb(env)
    mnt = os.path.join(env.work, "tiny")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt],
                   check=True)
    try:
        dest = os.path.join(mnt, "dir")
        r = run(env, ["-x", dest, env.url("bomb.tgz")])
        expect_run(r, 5, b"", err=r"rangecat: writing zeros: No space left "
                   r"on device")
        expect(dir_files(dest) == {}, "-x left %s" % sorted(dir_files(dest)))
        r = run(env, ["--member", "zeros", env.url("bomb.tgz")],
                envvars={"TMPDIR": mnt})
        expect_run(r, 5, b"", err=r"rangecat: holding member zeros in "
                   r"TMPDIR: No space left on device")
        expect(os.listdir(mnt) == ["dir"] or os.listdir(mnt) == [],
               "left in TMPDIR: %s" % os.listdir(mnt))
    finally:
        subprocess.run(["umount", mnt], check=True)


@case("a refused entry in a compressed tar: the verified safe files stay")
def t_arch_refused_kept(env):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in (("good", b"good\n"), ("../evil", b"evil\n"),
                           ("sub/also", b"also good\n")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    env.add("refused.tgz", compress(["gzip", "-c"], buf.getvalue()))
    base = os.path.join(env.work, "rk")
    dest = os.path.join(base, "dir")
    r = run(env, ["-x", dest, env.url("refused.tgz")])
    expect_run(r, 6, b"", err=r"refused \.\./evil: .*\n.*1 entry refused")
    expect(dir_files(dest) == {"good": b"good\n", "sub/also": b"also good\n"},
           "kept: %s" % dir_files(dest))
    expect(not os.path.exists(os.path.join(base, "evil")), "escaped")
    # --strict stops before the stream is verified: nothing is kept
    dest = os.path.join(base, "strict")
    r = run(env, ["-x", dest, "--strict", env.url("refused.tgz")])
    expect_run(r, 6, b"", err=r"--strict.*the 1 file extracted from the "
               r"unverified stream was removed")
    expect(dir_files(dest) == {}, "strict kept: %s" % dir_files(dest))


@case("a text file is not an archive: -x, -t and --member exit 6 (no "
      "mtree listing taken for one)")
def t_archive_text_not_mtree(env):
    # libarchive reads lines of single words as an mtree listing: "-x" of
    # a text file (an error page, say) made empty files and exited 0.
    env.add("words.txt", b"hello\nworld\n")
    env.add("spec.mtree", b"#mtree\n./x type=file contents=/etc/hostname\n")
    for name in ("words.txt", "spec.mtree"):
        dest = os.path.join(env.work, "mt-" + name)
        for args in (["-x", dest], ["-t"], ["--member", "./x"]):
            r = run(env, args + [env.url(name)])
            expect_run(r, 6, b"", err=r"not an archive: its first bytes "
                       r"read as an mtree listing")
        expect(not os.path.exists(dest), "-x left %s" % dest)


@case("-x DIR: a run that fails with nothing unpacked leaves no DIR it made")
def t_archive_dir_not_left(env):
    # tar -x -C DIR never makes DIR; rangecat makes it (and its parents)
    # before the first request, and left them empty after a 404.
    top = os.path.join(env.work, "xd-top")
    r = run(env, ["-x", os.path.join(top, "a", "b"), env.url("nope.tar")])
    expect_run(r, 2, b"", err=r"HTTP 404")
    expect(not os.path.exists(top), "left: %s" % top)
    # A DIR that was there stays; only what the run made goes.
    os.makedirs(top)
    r = run(env, ["-x", os.path.join(top, "new"), env.url("nope.tar")])
    expect_run(r, 2, b"", err=r"HTTP 404")
    expect(os.listdir(top) == [], "left: %s" % os.listdir(top))
    os.rmdir(top)
