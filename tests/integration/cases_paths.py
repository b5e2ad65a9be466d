# Extraction containment (links resolved with the links on disk, hard
# links, special files) and the escaping of outside text (archive names,
# server replies). Exec'd into run.py's namespace: uses case, run, expect,
# expect_run, env.url, env.furl, BIN.
import io as _io
import tarfile as _tarfile


def _name(b):
    """A tar member name from raw bytes (invalid UTF-8 kept as is)."""
    return b.decode("utf-8", "surrogateescape") if isinstance(b, bytes) \
        else b


def _tar(entries):
    """A GNU tar built now: (name, kind, arg[, mode]) per entry; kind is
    dir, file (arg = data), sym or hard (arg = target), fifo, chr, blk."""
    buf = _io.BytesIO()
    with _tarfile.open(fileobj=buf, mode="w", format=_tarfile.GNU_FORMAT,
                       encoding="utf-8", errors="surrogateescape") as t:
        for e in entries:
            name, kind = _name(e[0]), e[1]
            ti = _tarfile.TarInfo(name)
            ti.mode = e[3] if len(e) > 3 else (0o755 if kind == "dir"
                                               else 0o644)
            data = None
            if kind == "dir":
                ti.type = _tarfile.DIRTYPE
            elif kind == "file":
                ti.size, data = len(e[2]), _io.BytesIO(e[2])
            elif kind in ("sym", "hard"):
                ti.type = _tarfile.SYMTYPE if kind == "sym" \
                    else _tarfile.LNKTYPE
                ti.linkname = _name(e[2])
            elif kind == "fifo":
                ti.type = _tarfile.FIFOTYPE
            elif kind in ("chr", "blk"):
                ti.type = _tarfile.CHRTYPE if kind == "chr" \
                    else _tarfile.BLKTYPE
                ti.devmajor, ti.devminor = 1, 3
            if len(e) > 4:
                ti.uname, ti.gname = _name(e[4]), _name(e[4])
            t.addfile(ti, data)
    return buf.getvalue()


def _tree(base):
    """Every path under base (links not followed), relative to it."""
    out = set()
    for d, ds, fs in os.walk(base):
        for f in ds + fs:
            out.add(os.path.relpath(os.path.join(d, f), base))
    return out


def _contained(name, base, dest):
    """Nothing outside dest under base, and every path under dest
    resolves (readlink -f) inside dest."""
    outside = [p for p in _tree(base)
               if p != "in" and not (p + "/").startswith("in/dir/")]
    expect(not outside, "%s: made outside DIR: %s" % (name, outside))
    real = os.path.realpath(dest)
    for p in _tree(dest):
        t = os.path.realpath(os.path.join(dest, p))
        expect(t == real or t.startswith(real + "/"),
               "%s: %s resolves to %s, outside DIR" % (name, p, t))


def _extract(env, name, entries, args=()):
    env.add(name, _tar(entries))
    base = os.path.join(env.work, "p-" + name)
    dest = os.path.join(base, "in", "dir")
    r = run(env, ["-x", dest] + list(args) + [env.url(name)], timeout=30)
    _contained(name, base, dest)
    return r, dest


@case("-x: link chains, absolute and deep links, links replaced: "
      "nothing outside DIR")
def t_paths_links(env):
    # The chain from the issue: a lexical check passes it.
    r, d = _extract(env, "chain.tar", [
        ("a/", "dir"), ("a/b/", "dir"), ("a/b/up", "sym", ".."),
        ("e", "sym", "a/b/up/../../OUTSIDE"), ("ok", "file", b"ok")])
    expect_run(r, 6, b"", err=r"refused e: its symlink to "
               r"a/b/up/\.\./\.\./OUTSIDE: it leads outside the directory")
    expect(os.path.islink(os.path.join(d, "a/b/up")) and
           not os.path.islink(os.path.join(d, "e")) and
           open(os.path.join(d, "ok")).read() == "ok", "chain: %s" %
           sorted(_tree(d)))
    # ".." through several levels, then a file written through the link
    r, d = _extract(env, "deep.tar", [
        ("a/b/c/d/", "dir"), ("a/b/c/d/up3", "sym", "../../.."),
        ("x", "sym", "a/b/c/d/up3/../../../../OUTSIDE"),
        ("x/pwned", "file", b"evil"), ("ok", "file", b"ok")])
    expect_run(r, 6, b"", err=r"refused x: its symlink to a/b/c/d/up3/")
    # absolute targets, direct and through a chain
    r, d = _extract(env, "abs.tar", [
        ("a/", "dir"), ("l", "sym", "/etc"), ("m", "sym", "a/../../../../../../etc"),
        ("ok", "file", b"ok")])
    expect_run(r, 6, b"", err=r"refused l: ")
    expect(re.search(r"refused m: ", r.err), "m not refused: " + r.err)
    # '..' after a name that does not exist yet: it may become a link later
    r, d = _extract(env, "later.tar", [
        ("x", "sym", "a/b/up/../../OUTSIDE"), ("a/", "dir"), ("a/b/", "dir"),
        ("a/b/up", "sym", ".."), ("ok", "file", b"ok")])
    expect_run(r, 6, b"", err=r"refused x: .*does not exist")
    expect(not os.path.lexists(os.path.join(d, "x")), "x stayed")
    # a directory on a link's way replaced by a link afterwards: the link
    # is judged again at the end, removed and named
    r, d = _extract(env, "swap.tar", [
        ("p/", "dir"), ("p/q/", "dir"), ("p/q/r/", "dir"),
        ("x", "sym", "p/q/r/../../../a"), ("a/", "dir"),
        ("p/q/r", "sym", ".."), ("ok", "file", b"ok")])
    expect_run(r, 6, b"", err=r"refused x: its symlink to p/q/r/")
    expect(not os.path.lexists(os.path.join(d, "x")) and
           os.path.islink(os.path.join(d, "p/q/r")), "swap: %s" %
           sorted(_tree(d)))
    # a symlink replaced by a directory, and a file in it: stays inside
    r, d = _extract(env, "replace.tar", [
        ("a/", "dir"), ("r", "sym", "a"), ("r/", "dir"),
        ("r/f", "file", b"f")])
    expect_run(r, 0, b"")
    expect(not os.path.islink(os.path.join(d, "r")) and
           os.path.isfile(os.path.join(d, "r/f")) and
           not os.path.exists(os.path.join(d, "a/f")), "replace: %s" %
           sorted(_tree(d)))
    # links that stay inside are kept, chains included
    r, d = _extract(env, "fine.tar", [
        ("n1/n2/l", "sym", "../../t"), ("n3/./l", "sym", ".././n1/../t"),
        ("a/b/", "dir"), ("a/b/up", "sym", ".."), ("t", "file", b"t"),
        ("l", "sym", "a/b/up/b/up/../t"), ("ok", "file", b"ok")])
    expect_run(r, 0, b"", quiet=True)
    for n in ("l", "n1/n2/l", "n3/l"):
        expect(open(os.path.join(d, n)).read() == "t", "fine: " + n)


@case("-x: hard links through symlinks; device nodes, FIFOs, setuid "
      "only with --same-permissions")
def t_paths_hard_special(env):
    r, d = _extract(env, "hard.tar", [
        ("a/", "dir"), ("a/secret", "file", b"s"), ("s", "sym", "a"),
        ("h", "hard", "s/secret"), ("g", "hard", "a/secret"),
        ("a/b/", "dir"), ("a/b/up", "sym", ".."),
        ("k", "hard", "a/b/up/secret"),
        ("a/b/l", "sym", "../secret"), ("j", "hard", "a/b/l"),
        ("a/m", "hard", "a/b/l"), ("ok", "file", b"ok")])
    expect_run(r, 6, b"", err=r"refused h: its hard link to s/secret: "
               r"its path goes through a symlink")
    expect(re.search(r"refused k: its hard link to a/b/up/secret", r.err),
           "k: " + r.err)
    # a hard link to a symlink is judged from its own directory
    expect(re.search(r"refused j: its symlink to \.\./secret: it leads "
                     r"outside", r.err), "j: " + r.err)
    expect(os.path.islink(os.path.join(d, "a/m")) and
           os.readlink(os.path.join(d, "a/m")) == "../secret",
           "a/m: " + r.err)
    expect(not os.path.lexists(os.path.join(d, "h")) and
           not os.path.lexists(os.path.join(d, "k")) and
           not os.path.lexists(os.path.join(d, "j")) and
           os.stat(os.path.join(d, "g")).st_ino ==
           os.stat(os.path.join(d, "a/secret")).st_ino, "hard: %s" %
           sorted(_tree(d)))
    special = [("fifo", "fifo"), ("null", "chr"), ("blk", "blk"),
               ("suid", "file", b"#!/bin/sh\n", 0o4755),
               ("sgid", "file", b"#!/bin/sh\n", 0o2755),
               ("sdir/", "dir", None, 0o2775), ("ok", "file", b"ok")]
    r, d = _extract(env, "special.tar", special)
    expect_run(r, 6, b"", err=r"refused fifo: a FIFO is made only with "
               r"--same-permissions")
    expect(re.search(r"refused null: a device node", r.err) and
           re.search(r"refused blk: a device node", r.err) and
           re.search(r"3 entries refused", r.err), r.err)
    for n in ("fifo", "null", "blk"):
        expect(not os.path.lexists(os.path.join(d, n)), n + " was made")
    for n, want in (("suid", 0o755), ("sgid", 0o755), ("sdir", 0o775)):
        mode = os.stat(os.path.join(d, n)).st_mode & 0o7777
        expect(mode == want, "%s: mode %o, wanted %o" % (n, mode, want))
    r, d = _extract(env, "special.tar", special, ["--same-permissions"])
    expect_run(r, 0, b"", quiet=True)
    import stat as _stat
    st = {n: os.lstat(os.path.join(d, n)).st_mode
          for n in ("fifo", "null", "blk", "suid", "sgid", "sdir")}
    expect(_stat.S_ISFIFO(st["fifo"]) and _stat.S_ISCHR(st["null"]) and
           _stat.S_ISBLK(st["blk"]) and st["suid"] & 0o7777 == 0o4755 and
           st["sgid"] & 0o7777 == 0o2755 and st["sdir"] & 0o7777 == 0o2775,
           "--same-permissions: %s" % {k: oct(v) for k, v in st.items()})
    r = run(env, ["--same-permissions", env.url("special.tar")])
    expect_run(r, 1, b"", err=r"--same-permissions go with --extract")


# -------------------------------------------------- escaping outside text

_HOSTILE = b"n\x1b]0;pwned\x07\r\n\x9b\xff\xc2\x9b\x7f\\z"


def _raw_ok(what, data):
    """No raw control byte, C1 or invalid UTF-8 in data (LF ends lines)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Fail("%s: invalid UTF-8 reached the terminal: %r" % (what, e))
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or
           0x7f <= ord(c) <= 0x9f]
    expect(not bad, "%s: raw control bytes %r in %r" % (what, bad,
                                                          data[-300:]))


def _unescape(s):
    """Inverse of rc_escape: the documented -t escaping back to bytes."""
    out, i, b = bytearray(), 0, s.encode("utf-8")
    named = {ord("a"): 7, ord("b"): 8, ord("t"): 9, ord("n"): 10,
             ord("v"): 11, ord("f"): 12, ord("r"): 13, ord("\\"): 92}
    while i < len(b):
        if b[i] != 92:
            out.append(b[i])
            i += 1
        elif b[i + 1] in named:
            out.append(named[b[i + 1]])
            i += 2
        else:
            out.append(int(b[i + 1:i + 4], 8))
            i += 4
    return bytes(out)


def _raw_run(env, args, envvars=None):
    """Runs rangecat keeping stderr as bytes."""
    e = dict(os.environ)
    e.pop("http_proxy", None)
    e.update(envvars or {})
    p = subprocess.run([BIN] + args, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL, env=e)
    _raw_ok("stderr of %s" % args[:3], p.stderr)
    return p


@case("escaping: hostile names in -t, -t -v, refusals, errors")
def t_paths_escape_names(env):
    names = [_HOSTILE + b".txt", b"tab\there", b"back\\slash\\033",
             "caf\u00e9 \u20ac".encode()]
    tar = _tar([(n, "file", b"x", 0o644, b"u\x1b[31m\x9b") for n in names] +
               [(b"l" + _HOSTILE, "sym", b"t" + _HOSTILE),
                (b"/abs" + _HOSTILE, "file", b"x"),
                (b"h" + _HOSTILE, "hard", b"missing" + _HOSTILE)])
    env.add("hostile.tar", tar)
    p = _raw_run(env, ["-t", env.url("hostile.tar")])
    expect(p.returncode == 0, "-t: exit %d" % p.returncode)
    _raw_ok("-t", p.stdout)
    lines = p.stdout.decode().split("\n")[:-1]
    want = names + [b"l" + _HOSTILE, b"/abs" + _HOSTILE, b"h" + _HOSTILE]
    expect(len(lines) == len(want), "-t: %d lines for %d members: %r" % (
        len(lines), len(want), p.stdout))
    # each line maps back to exactly the member's bytes
    for line, w in zip(lines, want):
        expect(_unescape(line) == w, "-t: %r does not map back to %r" % (
            line, w))
    expect(lines[0] == "n\\033]0;pwned\\a\\r\\n\\233\\377\\302\\233\\177"
           "\\\\z.txt", "-t escaping: %r" % lines[0])
    p = _raw_run(env, ["-t", "-v", env.url("hostile.tar")])
    expect(p.returncode == 0, "-t -v: exit %d" % p.returncode)
    _raw_ok("-t -v", p.stdout)
    expect(b"u\\033[31m\\233/u\\033[31m\\233" in p.stdout and
           b" -> t" + b"n\\033]0;" in p.stdout, "-t -v: %r" % p.stdout)
    dest = os.path.join(env.work, "esc-x")
    p = _raw_run(env, ["-x", dest, env.url("hostile.tar")])
    expect(p.returncode == 6, "-x: exit %d: %r" % (p.returncode, p.stderr))
    expect(b"refused /absn\\033]0;pwned\\a\\r\\n\\233" in p.stderr and
           b"refused hn\\033]0;" in p.stderr, "-x: %r" % p.stderr)
    for n in names:  # -x reads a backslash as a separator
        expect(os.path.isfile(os.path.join(dest, _name(n.replace(b"\\",
                                                                 b"/")))),
               "%r not extracted" % n)
    p = _raw_run(env, ["--member", _name(b"no" + _HOSTILE),
                       env.url("hostile.tar")])
    expect(p.returncode == 6 and b"no member non\\033]0;" in p.stderr,
           "--member: %r" % p.stderr)
    # a long hostile name is listed whole, never cut
    longname = b"d/" + b"\x1b\x9b" * 900 + b"/end"
    env.add("long.tar", _tar([(longname, "file", b"x")]))
    p = _raw_run(env, ["-t", "-v", env.url("long.tar")])
    _raw_ok("-t -v long", p.stdout)
    expect(p.returncode == 0 and
           p.stdout.endswith(b" d/" + b"\\033\\233" * 900 + b"/end\n"),
           "long name: %r" % p.stdout[-200:])
    # libarchive's own message on a damaged archive
    bad = bytearray(tar[:1024])
    bad[148:156] = b"\x1b\x9b\x07\xff   "  # the header checksum
    env.add("bad.tar", bytes(bad))
    p = _raw_run(env, ["-t", env.url("bad.tar")])
    expect(p.returncode == 6, "bad.tar: exit %d %r" % (p.returncode,
                                                      p.stderr))


@case("escaping: server text (status line, S3 body, Location, ETag) and "
      "the resume command")
def t_paths_escape_server(env):
    data = os.urandom(3 * MB)
    env.add("hx", data)
    p = _raw_run(env, ["-v", env.furl("e1", "evil404", "hx")])
    expect(p.returncode == 2 and b"HTTP 404" in p.stderr and
           b"\\033]0;pwned\\a" in p.stderr, "evil404: %r" % p.stderr)
    p = _raw_run(env, ["-v", env.furl("e2", "evilloc", "hx")])
    expect(p.returncode == 2, "evilloc: exit %d %r" % (p.returncode,
                                                      p.stderr))
    tag = '"v1-\\233\\377\\302\\233-%d"' % len(data)
    p = _raw_run(env, ["-v", "--stats", env.furl("e3", "eviletag", "hx")])
    expect(p.returncode == 0 and ("validator ETag %s" % tag).encode()
           in p.stderr and ("etag=%s" % tag).encode() in p.stderr,
           "eviletag: %r" % p.stderr[-600:])
    # a run that fails after some bytes: the resume command quotes the
    # ETag as $'...' and, run by bash, completes the exact file
    out = os.path.join(env.work, "hx.out")
    with open(out, "wb") as f:
        p = subprocess.run([BIN, "-n", "2", "--chunk-size", "256K",
                            env.furl("e4", "eviletag,s404@2", "hx")],
                           stdout=f, stderr=subprocess.PIPE, timeout=60)
    _raw_ok("resume hint", p.stderr)
    m = re.search(rb"resume with: (.*)$", p.stderr, re.M)
    expect(p.returncode == 2 and m and
           b"--if-match $'\"v1-\\233\\377\\302\\233-" in m.group(1),
           "resume hint: %r" % p.stderr)
    cmd = m.group(1).decode().replace("rangecat", shlex.quote(BIN), 1)
    q = subprocess.run(["bash", "-c", cmd + " >> " + shlex.quote(out)],
                       stderr=subprocess.PIPE, timeout=60)
    expect(q.returncode == 0 and open(out, "rb").read() == data,
           "resume: exit %d %r" % (q.returncode, q.stderr))


@case("zip names in UTF-8 (flag bit 11) are listed, found and extracted, "
      "C1 escaped")
def t_paths_zip_utf8(env):
    import zipfile
    names = ["caf\u00e9.txt", "c1\u0085x", "csi\u009b31m", "ok"]
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names:
            z.writestr(n, n)
    env.add("utf8.zip", buf.getvalue())
    # libarchive cannot convert these names to the C locale: its plain
    # accessor gives NULL, and they were listed as empty lines
    want = [n.encode() for n in names]
    for args in (["-t"], ["-t", "-v"]):
        p = _raw_run(env, args + [env.url("utf8.zip")])
        _raw_ok("zip %s" % args, p.stdout)
        lines = p.stdout.decode().split("\n")[:-1]
        got = [_unescape(re.sub(r"^\S+ +\S+ +\d+ \S+ \S+ ", "", l)
                         if len(args) > 1 else l) for l in lines]
        expect(p.returncode == 0 and got == want,
               "zip %s: %r" % (args, p.stdout))
    p = _raw_run(env, ["--member", names[1], env.url("utf8.zip")])
    expect(p.returncode == 0 and p.stdout == want[1],
           "zip --member: %d %r %r" % (p.returncode, p.stdout, p.stderr))
    dest = os.path.join(env.work, "zip-utf8")
    p = _raw_run(env, ["-x", dest, env.url("utf8.zip")])
    expect(p.returncode == 0, "zip -x: %d %r" % (p.returncode, p.stderr))
    for n in names:
        f = os.path.join(dest, n)
        expect(os.path.isfile(f) and open(f).read() == n,
               "zip -x: %r missing in %r" % (n, os.listdir(dest)))
    # a name flagged UTF-8 that is not: no empty line passes for it
    buf = _io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("\u00e9XXX", "d")
        z.writestr("ok", "ok")
    env.add("bad8.zip", buf.getvalue().replace("\u00e9XXX".encode(),
                                               b"\xff\x1b[2J"))
    for args in (["-t"], ["-t", "-v"]):
        p = _raw_run(env, args + [env.url("bad8.zip")])
        expect(p.returncode == 6 and p.stdout.count(b"\n") == 1 and
               p.stdout.endswith(b"ok\n") and
               b"member 1: its name cannot be read" in p.stderr,
               "bad8.zip %s: %d %r %r" % (args, p.returncode, p.stdout,
                                          p.stderr))
