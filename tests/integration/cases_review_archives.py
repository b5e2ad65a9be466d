# Review of the archive checks: what a hostile archive can do to the
# staging names of -x, and a zip read as a stream whose local headers
# disagree with its central directory. Exec'd into run.py's namespace
# (case, run, expect, expect_run, env.url(), env.add()).

import io
import tarfile
import zipfile


def rev_tgz(entries):
    """A gzipped tar of (name, kind, data): kind f (file), l (symlink to
    data), d (directory)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w",
                      format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1600000000
            if kind == "f":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            elif kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                t.addfile(ti)
            else:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
    return subprocess.run(["gzip", "-c"], input=buf.getvalue(),
                          capture_output=True, check=True).stdout


def rev_tree(d):
    """relative path -> bytes, or 'L:target' for a symlink, or 'D' for a
    directory."""
    got = {}
    for root, dirs, files in os.walk(d):
        for f in files + dirs:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, d)
            if os.path.islink(p):
                got[rel] = "L:" + os.readlink(p)
            elif os.path.isdir(p):
                got[rel] = "D"
            else:
                got[rel] = open(p, "rb").read()
    return got


def rev_extract_known_pid(env, name, make, dest):
    """Runs rangecat -x dest on name, whose data make(pid) builds knowing
    the PID rangecat will run as (a shell that execs it keeps its own)."""
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.mkdir(dest)
    e = dict(os.environ)
    e.pop("http_proxy", None)
    p = subprocess.Popen(
        ["sh", "-c", 'read x; exec "$0" -q -x "$1" "$2"', BIN, dest,
         env.url(name)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=e)
    env.add(name, make(p.pid))
    out, err = p.communicate(b"\n", timeout=60)
    return Result(p.returncode, out, err.decode(errors="replace"))


@case("arch review: an entry named like a staged file cannot replace it")
def t_arch_review_staging_names(env):
    dest = os.path.join(env.work, "stage")
    real = b"the real x\n"
    attacks = {
        # x is staged as .rangecat-PID-1, after the entry staged as -0:
        # renaming that one into place would overwrite x's staged data.
        "file": lambda pid: [(".rangecat-%d-1" % pid, "f", b"EVIL"),
                             ("x", "f", real)],
        # Made at once over x's staged file, then renamed onto x.
        "symlink": lambda pid: [("x", "f", real), ("y", "f", b"y\n"),
                                (".rangecat-%d-0" % pid, "l", "y")],
        "dir": lambda pid: [("x", "f", real),
                            (".rangecat-%d-0" % pid, "d", b"")],
    }
    for what, ents in attacks.items():
        r = rev_extract_known_pid(env, "stage-%s.tgz" % what,
                                  lambda pid: rev_tgz(ents(pid)), dest)
        expect_run(r, 6, err="stages files under")
        got = rev_tree(dest)
        expect(got.get("x") == real, "%s: x is %r" % (what, got.get("x")))
        left = [n for n in got if ".rangecat-" in n]
        expect(not left, "%s: left %s" % (what, left))


def rev_zip():
    members = {"a/one.txt": b"one\n" * 3000,
               "a/two.bin": bytes(range(256)) * 40,
               "b/three": b"three\n"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return members, buf.getvalue()


@case("arch review: a zip stream's damaged local header is not skipped")
def t_arch_review_zip_local_headers(env):
    members, z = rev_zip()
    dest = os.path.join(env.work, "zlocal")
    second = z.find(b"PK\3\4", 1)
    name2 = z.find(b"a/two.bin", second)
    for what, pos in (("signature", second + 1), ("name", name2)):
        b = bytearray(z)
        b[pos] ^= 0x04
        env.add("zlocal-%s.zip" % what, bytes(b))
        for url in (env.url("zlocal-%s.zip" % what),
                    env.url("norange/zlocal-%s.zip" % what)):
            if os.path.exists(dest):
                shutil.rmtree(dest)
            os.mkdir(dest)
            r = run(env, ["-q", "-x", dest, url])
            expect_run(r, 6, err="central directory")
            got = dir_files(dest)
            expect(not got, "%s: exit 6 left %s" % (what, sorted(got)))
        # Read as a stream, -t must not list the archive as whole.
        r = run(env, ["-q", "-t", env.url("norange/zlocal-%s.zip" % what)])
        expect_run(r, 6, err="central directory")
    # The undamaged zip, and zip64 and data-descriptor forms, still pass.
    buf = io.BytesIO()

    class Unseekable(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            return buf.write(b)
    with zipfile.ZipFile(Unseekable(), "w", zipfile.ZIP_DEFLATED) as zz:
        for name, data in members.items():
            with zz.open(name, "w", force_zip64=True) as m:
                m.write(data)
    env.add("zlocal-ok.zip", z)
    env.add("zlocal-dd64.zip", buf.getvalue())
    for name in ("zlocal-ok.zip", "zlocal-dd64.zip"):
        if os.path.exists(dest):
            shutil.rmtree(dest)
        os.mkdir(dest)
        r = run(env, ["-q", "-x", dest, env.url(name)])
        expect_run(r, 0)
        expect(dir_files(dest) == members, "%s differs" % name)
        r = run(env, ["-q", "-t", env.url("norange/" + name)])
        expect_run(r, 0, "".join(n + "\n" for n in members).encode())


@case("arch review: a later symlink or directory wins over a staged file")
def t_arch_review_later_entry_wins(env):
    dest = os.path.join(env.work, "later")
    tars = {
        "symlink": [("y", "f", b"Y\n"), ("x", "f", b"FILE\n"),
                    ("x", "l", "y")],
        "dir": [("x", "f", b"FILE\n"), ("x", "d", b""),
                ("x/in", "f", b"IN\n")],
    }
    wants = {"symlink": {"y": b"Y\n", "x": "L:y"},
             "dir": {"x": "D", "x/in": b"IN\n"}}
    for what, ents in tars.items():
        tgz = rev_tgz(ents)
        plain = subprocess.run(["gzip", "-dc"], input=tgz,
                               capture_output=True, check=True).stdout
        for kind, data in (("tgz", tgz), ("tar", plain)):
            name = "later-%s.%s" % (what, kind)
            env.add(name, data)
            if os.path.exists(dest):
                shutil.rmtree(dest)
            os.mkdir(dest)
            r = run(env, ["-q", "-x", dest, env.url(name)])
            expect_run(r, 0)
            got = rev_tree(dest)
            expect(got == wants[what], "%s: %r" % (name, got))
    # A file where a later entry needs a directory: refused in both, the
    # file stays (as libarchive and tar do for a plain tar).
    tgz = rev_tgz([("x", "f", b"FILE\n"), ("x/in", "f", b"IN\n")])
    plain = subprocess.run(["gzip", "-dc"], input=tgz, capture_output=True,
                           check=True).stdout
    for kind, data in (("tgz", tgz), ("tar", plain)):
        name = "later-parent.%s" % kind
        env.add(name, data)
        if os.path.exists(dest):
            shutil.rmtree(dest)
        os.mkdir(dest)
        r = run(env, ["-q", "-x", dest, env.url(name)])
        expect_run(r, 6, err="refused x/in")
        got = rev_tree(dest)
        expect(got == {"x": b"FILE\n"}, "%s: %r" % (name, got))


@case("arch review: a directory where a file goes: emptied ones go, full "
      "ones refuse the entry (exit 6, not 5)")
def t_arch_review_dir_in_place(env):
    dest = os.path.join(env.work, "dirplace")
    tgz = rev_tgz([("a", "f", b"A\n"), ("x", "f", b"FILE\n"),
                   ("z", "f", b"Z\n")])
    plain = subprocess.run(["gzip", "-dc"], input=tgz, capture_output=True,
                           check=True).stdout
    for kind, data in (("tgz", tgz), ("tar", plain)):
        name = "dirplace.%s" % kind
        env.add(name, data)
        for full in (False, True):
            if os.path.exists(dest):
                shutil.rmtree(dest)
            os.makedirs(os.path.join(dest, "x"))
            if full:
                with open(os.path.join(dest, "x", "keep"), "wb") as f:
                    f.write(b"keep\n")
            r = run(env, ["-q", "-x", dest, env.url(name)])
            got = rev_tree(dest)
            if full:
                expect_run(r, 6, err="refused x: a directory that is not "
                           "empty")
                expect(got == {"a": b"A\n", "z": b"Z\n", "x": "D",
                               "x/keep": b"keep\n"},
                       "%s: %r" % (name, got))
            else:
                expect_run(r, 0)
                expect(got == {"a": b"A\n", "x": b"FILE\n", "z": b"Z\n"},
                       "%s: %r" % (name, got))
