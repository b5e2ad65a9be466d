# A hostile review of -o FILE and --cache DIR together and apart: each case
# failed before the fix it names. Exec'd into run.py's namespace, after
# cases_output.py and cases_cache.py (their helpers are used here).

import stat
import urllib.request


def r5_etag(env, name):
    """nginx's ETag of name as it is now."""
    req = urllib.request.Request(env.url(name), method="HEAD")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.headers["ETag"]


def r5_plant_part(part, data, url, etag, extra, total):
    """A FILE.part as a killed run leaves it: data, and the resume xattr
    for url (+ extra, the range or shard line) pinned to etag."""
    with open(part, "wb") as f:
        f.write(data)
    key = hashlib.sha256((url + extra).encode()).hexdigest()
    length = total
    m = re.match(r"\nrange (\d+)-(\d+)$", extra)
    if m:
        length = int(m.group(2)) - int(m.group(1)) + 1
    meta = ("rangecat-part 1\nkey %s\netag %s\nlast-modified -\n"
            "length %d\ntotal %d\n" % (key, etag, length, total))
    os.setxattr(part, XATTR, meta.encode())


@case("review5: -o -r resumed from a --cache hit holds the range once")
def t_r5_cache_range_resume(env):
    data = env.files["f4194305"]
    url = env.url("f4194305")
    d = cache_dir(env, "r5range")
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, data, err=r"cache: stored")
    od = out_dir(env, "r5range")
    dest = os.path.join(od, "slice")
    first, last, kept = 1000, 1999999, 300000
    _ = r5_plant_part(dest + ".part", data[first:first + kept], url,
                      r5_etag(env, "f4194305"),
                      "\nrange %d-%d" % (first, last), len(data))
    r = run(env, ["-v", "--cache", d, "-r", "%d-%d" % (first, last),
                  "-o", dest, url])
    expect_run(r, 0, b"", err=r"continuing after its %d bytes" % kept)
    expect_file(dest, data[first:last + 1], "-r resumed from a hit")


@case("review5: -o FILE.part of version A while --cache holds B")
def t_r5_cache_part_other_version(env):
    old = os.urandom(3 * MB + 17)
    new = os.urandom(3 * MB + 17)
    name = "r5ver"
    url = env.url(name)
    add_old(env, name, old, age=7200)
    etag_a = r5_etag(env, name)
    od = out_dir(env, "r5ver")
    dest = os.path.join(od, "f")
    d = cache_dir(env, "r5ver")
    # .part of A; the cache stores B, the remote's current version.
    add_old(env, name, new, age=3600)
    r = run(env, ["--cache", d, url])
    expect_run(r, 0, new)
    cache_entry_ok(d, url, new)
    r5_plant_part(dest + ".part", old[:MB], url, etag_a, "", len(old))
    before = len(access_lines(env, "/" + name))
    r = run(env, ["-v", "--cache", d, "-o", dest, url])
    expect_run(r, 0, b"", err=r"no longer the version of its %d bytes: "
               r"starting over" % MB)
    expect_file(dest, new, "A's .part, B cached and current")
    expect(len(access_lines(env, "/" + name)) - before <= 3,
           "B was fetched, not served from the cache")
    cache_entry_ok(d, url, new)
    # .part of A, the cache holds A too, the remote moved on to C: the
    # probe's 412 starts the file over; no copy is left behind in DIR.
    add_old(env, name, old, age=7200)
    d2 = cache_dir(env, "r5ver2")
    r = run(env, ["--cache", d2, url])
    expect_run(r, 0, old)
    cur = os.urandom(2 * MB + 5)
    add_old(env, name, cur, age=1800)
    r5_plant_part(dest + ".part", old[:MB], url, etag_a, "", len(old))
    r = run(env, ["-v", "--cache", d2, "-o", dest, url])
    expect_run(r, 0, b"", err=r"starting over")
    expect_file(dest, cur, "A's .part, A cached, C remote")
    cache_entry_ok(d2, url, cur)


@case("review5: -o: the same ETag with another size is another version")
def t_r5_part_same_etag_other_size(env):
    # The kept bytes' record names the remote's ETag but another size (a
    # server whose ETag is a version number that was not bumped): the
    # bytes kept cannot be of this file, so it starts over.
    data = env.files["f4194305"]
    url = env.url("f4194305")
    od = out_dir(env, "r5size")
    dest = os.path.join(od, "f")
    etag = r5_etag(env, "f4194305")
    other = os.urandom(MB)
    for total in (len(data) + 4096, len(data) - 4096):
        r5_plant_part(dest + ".part", other, url, etag, "", total)
        r = run(env, ["-o", dest, url])
        expect_run(r, 0, b"", err=r"no longer the version of its %d bytes"
                   % MB)
        expect_file(dest, data, "total %d recorded" % total)
    # -r: the record's length is the range's, its total the file's.
    r5_plant_part(dest + ".part", other, url, etag, "\nrange 0-2999999",
                  len(data) + 1)
    r = run(env, ["-r", "0-2999999", "-o", dest, url])
    expect_run(r, 0, b"", err=r"no longer the version")
    expect_file(dest, data[:3000000], "-r, total differs")
    # --if-match names the version: the run refuses instead (exit 4).
    os.unlink(dest)
    r5_plant_part(dest + ".part", other, url, etag, "", len(data) + 1)
    r = run(env, ["--if-match", etag, "-o", dest, url])
    expect_run(r, 4, b"", err=r"has ETag .* but %d bytes, not the size "
               r"recorded" % len(data))
    expect(not os.path.exists(dest), "FILE exists after exit 4")


R5_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
/* Delays each non-blocking flock by R5_FLOCK_DELAY ms: the window between
 * opening FILE.part and locking it, made wide. */
int flock(int fd, int op)
{
	static int (*real)(int, int);
	const char *d = getenv("R5_FLOCK_DELAY");
	if (!real)
		real = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
	if (d && (op & LOCK_NB))
		usleep((useconds_t)atoi(d) * 1000);
	return real(fd, op);
}
"""


def r5_shim(env):
    so = os.path.join(env.work, "r5flock.so")
    if not os.path.exists(so):
        src = os.path.join(env.work, "r5flock.c")
        with open(src, "w") as f:
            f.write(R5_SHIM)
        subprocess.run(["cc", "-shared", "-fPIC", "-o", so, src, "-ldl"],
                       check=True)
    return so


@case("review5: -o: a run that locks FILE.part after another renamed it "
      "leaves FILE whole")
def t_r5_part_renamed_before_lock(env):
    if valgrind:
        raise Skip("LD_PRELOAD under valgrind")
    data = env.files["f4194305"]
    od = out_dir(env, "r5race")
    dest = os.path.join(od, "f")
    argv = ["-q", "-o", dest, env.url("slow/f4194305")]
    first = subprocess.Popen([BIN] + argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    try:
        t0 = time.time()
        while not os.path.exists(dest + ".part") and time.time() - t0 < 10:
            time.sleep(0.005)
        e = dict(os.environ, LD_PRELOAD=r5_shim(env), R5_FLOCK_DELAY="3000")
        # (an ASan build would refuse a library loaded before its own)
        e["ASAN_OPTIONS"] = ":".join(
            x for x in (os.environ.get("ASAN_OPTIONS"),
                        "verify_asan_link_order=0") if x)
        # The second run opens the first one's FILE.part now and locks it
        # only after the first renamed it to FILE and ended.
        second = subprocess.Popen([BIN] + argv, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=e)
        out, err = first.communicate(timeout=60)
        expect_run(Result(first.returncode, out, err.decode()), 0, b"")
        # (the second run may have made a new FILE.part by now)
        expect(open(dest, "rb").read() == data, "the first run's FILE")
        bad = []
        while second.poll() is None:
            try:
                n = os.path.getsize(dest)
                if n != len(data):
                    bad.append(n)
            except OSError:
                bad.append(-1)
            time.sleep(0.002)
        out, err = second.communicate(timeout=60)
    finally:
        for p in (first, locals().get("second")):
            if p and p.poll() is None:
                p.kill()
                p.wait()
    expect(not bad, "FILE seen incomplete or gone: %r" % sorted(set(bad))[:5])
    expect_run(Result(second.returncode, out, err.decode()), 0, b"")
    expect_file(dest, data, "the second run")


def r5_poison(d, url, bad, etag):
    """An entry for url holding bad, as another user could plant it in a
    DIR they may write to; its record names the remote's real ETag."""
    k = cache_key(url)
    with open(os.path.join(d, k + ".data"), "wb") as f:
        f.write(bad)
    with open(os.path.join(d, k + ".meta"), "w") as f:
        f.write("rangecat-cache 1\nsize %d\nsha256 %s\netag %s\n"
                % (len(bad), sha(bad), etag))


@case("review5: --cache DIR others may write to, or another user's, is "
      "refused")
def t_r5_cache_dir_perms(env):
    data = env.files["f65537"]
    url = env.url("f65537")
    bad = os.urandom(len(data))
    for mode, uid in ((0o777, 0), (0o1777, 0), (0o770, 0), (0o700, 65533)):
        d = cache_dir(env, "r5perm")
        os.makedirs(d)
        r5_poison(d, url, bad, r5_etag(env, "f65537"))
        os.chown(d, uid, -1)
        os.chmod(d, mode)
        r = run(env, ["--cache", d, url])
        expect(r.out != bad, "mode %o uid %d: the planted entry was served"
               % (mode, uid))
        why = "owned by another user" if uid else "writable by other users"
        expect_run(r, 5, b"", err=r"^rangecat: --cache .*r5perm: %s" % why)
    # Ours and private: used.
    d = cache_dir(env, "r5perm")
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, data, err=r"cache: stored")
    expect(os.stat(d).st_mode & 0o777 == 0o700, "DIR is not 0700")


@case("review5: -o: a FILE.part that belongs to another user is refused")
def t_r5_part_other_owner(env):
    # A shared sticky directory (/tmp) without fs.protected_regular: another
    # user plants FILE.part, writable by all, with a record that names the
    # real ETag. Continuing it would serve their bytes and leave FILE theirs.
    data = env.files["f4194305"]
    url = env.url("f4194305")
    shared = os.path.join(env.work, "r5shared")
    shutil.rmtree(shared, ignore_errors=True)
    os.makedirs(shared)
    os.chmod(shared, 0o1777)
    dest = os.path.join(shared, "f")
    bad = os.urandom(len(data) - 1)
    r5_plant_part(dest + ".part", bad, url, r5_etag(env, "f4194305"), "",
                  len(data))
    os.chown(dest + ".part", 65533, 65533)
    os.chmod(dest + ".part", 0o666)
    p = subprocess.run([BIN, "-o", dest, url], capture_output=True,
                       timeout=60, user=65534, group=65534,
                       stdin=subprocess.DEVNULL)
    r = Result(p.returncode, p.stdout, p.stderr.decode(errors="replace"))
    if os.path.exists(dest):
        expect(open(dest, "rb").read()[:len(bad)] != bad,
               "the planted bytes became FILE (exit %d)" % r.rc)
    expect_run(r, 5, b"", err=r"^rangecat: --output: .*f\.part belongs to "
               r"another user")
    expect(not os.path.exists(dest), "FILE was written")
    expect(open(dest + ".part", "rb").read() == bad,
           "the other user's file was changed")


@case("review5: -o to a device, a FIFO or the file stdout is written in "
      "place, never replaces it")
def t_r5_out_special(env):
    # -o /dev/null as root renamed a regular file over /dev/null. Here a
    # device node of our own stands for it.
    data = env.files["f65537"]
    url = env.url("f65537")
    d = out_dir(env, "r5special")
    null = os.path.join(d, "null")
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    r = run(env, ["-o", null, url])
    expect_run(r, 0, b"", quiet=True)
    expect(stat.S_ISCHR(os.lstat(null).st_mode), "the device was replaced")
    expect(os.listdir(d) == ["null"], "left: %s" % os.listdir(d))
    # A named pipe: its reader gets the bytes.
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    got = []
    th = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()),
                          daemon=True)
    th.start()
    r = run(env, ["-o", fifo, url])
    th.join(10)
    expect_run(r, 0, b"", quiet=True)
    expect(got and got[0] == data, "the FIFO's reader got %s bytes"
           % (len(got[0]) if got else "no"))
    expect(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced")
    # A name for stdout (/dev/stdout, /dev/fd/1): stdout gets the bytes.
    link = os.path.join(d, "stdout")
    os.symlink("/proc/self/fd/1", link)
    r = run(env, ["-o", link, url])
    expect_run(r, 0, data, quiet=True)
    expect(os.path.islink(link), "the link was replaced")
    # -C N starts there, as on stdout; -C - has no partial file to go by.
    r = run(env, ["-C", "5", "-o", link, url])
    expect_run(r, 0, data[5:], quiet=True)
    r = run(env, ["-C", "-", "-o", null, url])
    expect_run(r, 1, b"", err=r"^rangecat: --continue-at -: .*null is "
               r"written in place")
    expect(sorted(os.listdir(d)) == ["fifo", "null", "stdout"],
           "left: %s" % os.listdir(d))


@case("review5: -o: a kept FILE.part against a server that ignores Range")
def t_r5_part_norange(env):
    # Held up: the 200 is skipped to the kept bytes' end, or started over.
    data = env.files["f4194305"]
    url = env.url("norange/f4194305")
    od = out_dir(env, "r5norange")
    dest = os.path.join(od, "f")
    r5_plant_part(dest + ".part", data[:MB], url, r5_etag(env, "f4194305"),
                  "", len(data))
    r = run(env, ["-o", dest, url])
    expect_run(r, 0, b"")
    expect_file(dest, data, "Range ignored")


@case("review5: --cache: a 304 that names another Last-Modified is no hit")
def t_r5_cache_304_other_date(env):
    # A file rolled back to an older copy keeps its older mtime; a server
    # answers If-Modified-Since with 304 whenever the file is not newer
    # (RFC 9110 13.1.3, Apache), and says which date it has.
    data = env.files["f65537"]
    url = env.furl("r5ims", "lm,ims304,lmback@1", "f65537")
    d = cache_dir(env, "r5ims")
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, data, err=r"cache: stored")
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, data[1:] + data[:1], err=r"HTTP 304 with another")
    expect("cache: hit" not in r.err, "a hit: %s" % r.err[-300:])


@case("review5: --cache: a URL signed again is a miss; no signature in DIR")
def t_r5_cache_signed_query(env):
    # Held up, and now documented: the query is part of the key.
    data = env.files["f65537"]
    d = cache_dir(env, "r5sig")
    sigs = ["%064x" % random.getrandbits(256) for _ in range(2)]
    for s in sigs:
        url = env.url("f65537?X-Amz-Expires=60&X-Amz-Signature=" + s)
        r = run(env, ["-v", "--cache", d, url])
        expect_run(r, 0, data, err=r"cache: miss(.|\n)*cache: stored")
        expect(s not in r.err, "the signature was logged")
    expect(len([f for f in os.listdir(d) if f.endswith(".data")]) == 2,
           "entries: %s" % cache_listing(d))
    for f in os.listdir(d):
        with open(os.path.join(d, f), "rb") as fh:
            body = fh.read()
        expect(not any(s.encode() in body or s in f for s in sigs),
               "a signature is in DIR/%s" % f)


@case("review5: -o: a sidecar record that belongs to another user is not "
      "trusted")
def t_r5_sidecar_other_owner(env):
    # No user xattrs (ramfs), a shared sticky directory: another user
    # planted FILE.part.rangecat before our first run and rewrote it after
    # the remote changed, naming the new ETag for our old bytes.
    if valgrind:
        raise Skip("runs as another user")
    d = mount(env, "r5side", "ramfs", "mode=1777")
    try:
        data = env.files["f4194305"]
        url = env.url("f4194305")
        dest = os.path.join(d, "f")
        old = os.urandom(MB)
        with open(dest + ".part", "wb") as f:
            f.write(old)
        os.chown(dest + ".part", 65534, 65534)
        key = hashlib.sha256(url.encode()).hexdigest()
        with open(dest + ".part.rangecat", "w") as f:
            f.write("rangecat-part 1\nkey %s\netag %s\nlast-modified -\n"
                    "length %d\ntotal %d\n" % (key, r5_etag(env, "f4194305"),
                                               len(data), len(data)))
        os.chown(dest + ".part.rangecat", 65533, 65533)
        os.chmod(dest + ".part.rangecat", 0o666)
        p = subprocess.run([BIN, "-o", dest, url], capture_output=True,
                           timeout=60, user=65534, group=65534,
                           stdin=subprocess.DEVNULL)
        r = Result(p.returncode, p.stdout, p.stderr.decode(errors="replace"))
        expect_run(r, 0, b"", err=r"missing or damaged: starting over")
        expect(open(dest, "rb").read() == data, "FILE is not the file")
    finally:
        umount(d)
