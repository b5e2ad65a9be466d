# --cache DIR: a revalidating local copy. Exec'd into run.py's namespace.


def cache_dir(env, name):
    d = os.path.join(env.work, "cache-" + name)
    shutil.rmtree(d, ignore_errors=True)
    return d


def cache_key(url):
    return hashlib.sha256(url.encode()).hexdigest()


def cache_listing(d):
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def cache_total(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def cache_entry_ok(d, url, data):
    """The entry of url holds exactly data, and its record says so."""
    k = cache_key(url)
    with open(os.path.join(d, k + ".data"), "rb") as f:
        expect(f.read() == data, "the entry's bytes differ")
    with open(os.path.join(d, k + ".meta")) as f:
        meta = f.read()
    expect("size %d\n" % len(data) in meta and
           "sha256 %s\n" % sha(data) in meta, "the record: %r" % meta)
    left = [f for f in os.listdir(d) if f.startswith("tmp.")]
    expect(left == [], "temporary files left: %s" % left)


def access_lines(env, uri):
    """The nginx access log lines for uri: "conn status ... uri"."""
    with open(env.access_log) as f:
        return [l for l in f.read().splitlines() if l.endswith(" " + uri)]


def add_old(env, name, data, age=3600):
    env.add(name, data)
    t = time.time() - age
    os.utime(os.path.join(env.data, name), (t, t))


@case("--cache: the second run makes one request (304) and the same bytes")
def t_cache_hit(env):
    size = 64 * MB
    data = os.urandom(size)
    add_old(env, "cache64", data)
    d = cache_dir(env, "hit")
    url = env.url("cache64")
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, data, err=r"cache: stored")
    cache_entry_ok(d, url, data)
    before = len(access_lines(env, "/cache64"))
    t = time.time()
    r = run(env, ["-v", "--cache", d, url])
    took = time.time() - t
    expect_run(r, 0, data, err=r"cache: hit")
    new = access_lines(env, "/cache64")[before:]
    expect(len(new) == 1 and new[0].split()[1] == "304",
           "the hit made %d requests: %s" % (len(new), new[:3]))
    expect("GET bytes=0-" not in r.err.replace("GET bytes=0-0", ""),
           "a range was fetched on a hit")
    print("   64 MiB hit in %.2f s" % took)
    # RANGECAT_CACHE, and slices served from the entry, each after one
    # request: -r, -r -N, -C, --shard, --sha256 (right and wrong).
    e = {"RANGECAT_CACHE": d}
    for args, want in ((["-r", "1000-2000999"], data[1000:2001000]),
                       (["-r", "-12345"], data[-12345:]),
                       (["-C", str(size - 7)], data[-7:]),
                       (["-C", str(size)], b""),
                       (["--shard", "3/4"], data[size // 2:3 * size // 4]),
                       (["--sha256", sha(data)], data)):
        before = len(access_lines(env, "/cache64"))
        r = run(env, ["-v"] + args + [url], envvars=e)
        expect_run(r, 0, want, err=r"cache: hit")
        new = access_lines(env, "/cache64")[before:]
        expect(len(new) == 1 and new[0].split()[1] == "304",
               "%s: %d requests" % (args, len(new)))
    r = run(env, ["--sha256", "0" * 64, "--cache", d, url])
    expect_run(r, 7, data, err=r"--sha256 mismatch")
    # SIGINT during any part of a hit (the request, the entry's check, the
    # copy out to a reader that does not read): exit 130, the entry kept.
    for delay in (0.05, 0.1, 0.2, 0.4):
        p = subprocess.Popen([BIN, "-q", "--cache", d, url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=60)[1].decode()
        # (killed outright when it came before the handler was set)
        expect(p.returncode in (130, -signal.SIGINT),
               "SIGINT after %.2f s: exit %d: %s" % (delay, p.returncode,
                                                     err[-300:]))
        expect("damaged" not in err, "an interrupted check blamed the entry")
        cache_entry_ok(d, url, data)
    # -d from a hit decodes from disk.
    make_sample(env)
    z = open(os.path.join(env.data, "sample.zst"), "rb").read()
    add_old(env, "cache-sample.zst", z)
    zurl = env.url("cache-sample.zst")
    for _ in range(2):
        r = run(env, ["-v", "-d", "--cache", d, zurl])
        expect_run(r, 0, env.files["sample"])
    expect("cache: hit" in r.err, "-d did not hit: %s" % r.err[-300:])


@case("--cache: a changed remote is fetched again and replaces the entry")
def t_cache_changed(env):
    d = cache_dir(env, "changed")
    one, two = os.urandom(5 * MB), os.urandom(5 * MB)
    add_old(env, "cache-ch", one, 7200)
    url = env.url("cache-ch")
    r = run(env, ["--cache", d, url])
    expect_run(r, 0, one)
    cache_entry_ok(d, url, one)
    add_old(env, "cache-ch", two, 3600)   # same size, another ETag
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, two, err=r"cache: HTTP 206: the entry is not current")
    expect("cache: stored" in r.err, "not stored again")
    cache_entry_ok(d, url, two)
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, two, err=r"cache: hit")
    # A server that ignores the condition (the fault server answers
    # every conditional request with a 206): the entry's ETag,
    # Last-Modified and size make a hit without reading the body; another
    # ETag (etag@3), or the same ETag with another Last-Modified and other
    # bytes (lmx@3), is a miss. With -n 1 the first run makes requests
    # 0 and 1, the hit request 2.
    data = env.files["f4194305"]
    for spec, want in (("etag@3", data), ("lmx@3", data[1:] + data[:1])):
        url = env.furl("cache" + spec.replace("@", ""), spec, "f4194305")
        r = run(env, ["-v", "-n", "1", "--cache", d, url])
        expect_run(r, 0, data, err=r"cache: stored")
        expect(r.err.count("GET bytes=") == 2, "not 2 requests: %s" %
               r.err[-400:])
        r = run(env, ["-v", "-n", "1", "--cache", d, url])
        expect_run(r, 0, data,
                   err=r"cache: HTTP 206 with the entry's validator")
        expect(r.err.count("GET bytes=") == 1, "a hit made more requests")
        r = run(env, ["-v", "-n", "1", "--cache", d, url])
        expect_run(r, 0, want,
                   err=r"cache: HTTP 206: the entry is not current")
        expect("cache: stored" in r.err, "%s: not stored again" % spec)
        cache_entry_ok(d, url, want)
        meta = open(os.path.join(d, cache_key(url) + ".meta")).read()
        expect(('"v2-' in meta) == (spec == "etag@3"), "record: %r" % meta)


@case("--cache: a damaged entry is dropped and fetched again, never served")
def t_cache_corrupt(env):
    d = cache_dir(env, "corrupt")
    data = env.files["f20971520"]
    url = env.url("f20971520")
    r = run(env, ["--cache", d, url])
    expect_run(r, 0, data)
    path = os.path.join(d, cache_key(url) + ".data")
    for damage in ("flip", "truncate", "extend"):
        with open(path, "r+b") as f:
            if damage == "flip":
                f.seek(len(data) - 3)
                b = f.read(1)
                f.seek(len(data) - 3)
                f.write(bytes([b[0] ^ 1]))
            elif damage == "truncate":
                f.truncate(len(data) - 1)
            else:
                f.seek(0, 2)
                f.write(b"x")
        r = run(env, ["-v", "--cache", d, url])
        expect_run(r, 0, data, err=r"^rangecat: --cache .*: an entry is "
                   r"damaged \(its (SHA-256|size) differs from the one "
                   r"recorded\): it is dropped and the file fetched again$"
                   .replace("^", "(?m)^"))
        expect("cache: stored" in r.err, "%s: not stored again" % damage)
        cache_entry_ok(d, url, data)
    # A record that is not ours is ignored, and replaced.
    with open(os.path.join(d, cache_key(url) + ".meta"), "w") as f:
        f.write("rangecat-cache 1\nsize 5\n")
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, data, err=r"cache: stored")
    cache_entry_ok(d, url, data)


@case("--cache: two concurrent runs store one whole entry")
def t_cache_concurrent(env):
    d = cache_dir(env, "conc")
    data = env.files["f4194305"]
    url = env.url("slow/f4194305")    # 1 MiB/s per connection: they overlap
    cmd = [BIN, "-q", "-n", "4", "--cache", d, url]
    outs = [os.path.join(env.work, "conc%d" % i) for i in range(3)]
    procs = []
    for o in outs:
        with open(o, "wb") as f:
            procs.append(subprocess.Popen(cmd, stdout=f,
                                          stderr=subprocess.PIPE))
    for p, o in zip(procs, outs):
        err = p.communicate(timeout=60)[1].decode()
        expect(p.returncode == 0, "exit %d: %s" % (p.returncode, err))
        with open(o, "rb") as f:
            expect(f.read() == data, "a concurrent run's output differs")
    expect(cache_listing(d) == sorted(["lock", cache_key(url) + ".data",
                                       cache_key(url) + ".meta"]),
           "cache holds %s" % cache_listing(d))
    cache_entry_ok(d, url, data)
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, data, err=r"cache: hit")


@case("--cache-size: least recently used entries go; DIR stays in bound")
def t_cache_evict(env):
    d = cache_dir(env, "evict")
    bound = 10 * MB
    a, b, c = (env.url(n) for n in ("f4194304", "f4194303", "f4194305"))
    args = ["-v", "--cache", d, "--cache-size", "10M"]
    for u in (a, b, a):          # a is used after b
        r = run(env, args + [u])
        expect_run(r, 0)
        expect(cache_total(d) <= bound, "DIR holds %d" % cache_total(d))
    expect("cache: hit" in r.err, "a was not a hit")
    r = run(env, args + [c])
    expect_run(r, 0, env.files["f4194305"], err=r"cache: evicted")
    expect(cache_total(d) <= bound, "DIR holds %d" % cache_total(d))
    keys = {f[:64] for f in cache_listing(d) if f.endswith(".data")}
    expect(keys == {cache_key(a), cache_key(c)},
           "kept %s, not a and c" % sorted(keys))
    # A file over the bound is not stored at all, and evicts nothing.
    r = run(env, args + [env.url("f20971520")])
    expect_run(r, 0, env.files["f20971520"],
               err=r"not stored: it is larger than --cache-size")
    keys2 = {f[:64] for f in cache_listing(d) if f.endswith(".data")}
    expect(keys2 == keys, "entries changed: %s" % keys2)
    # A temporary file abandoned by a killed run is removed by the next
    # store; one still being written (locked) is kept.
    stale = os.path.join(d, "tmp.0123456789abcdef")
    with open(stale, "wb") as f:
        f.write(b"x" * 1000)
    os.utime(stale, (time.time() - 600, time.time() - 600))
    r = run(env, args + [env.url("f4194303")])
    expect_run(r, 0, err=r"removed an abandoned tmp\.0123456789abcdef")
    expect(not os.path.exists(stale), "the abandoned copy is still there")
    r = run(env, ["--cache-size", "10M", env.url("f1")])
    expect_run(r, 1, b"", err=r"--cache-size goes with --cache")


@case("--cache: no-store, no validator and partial runs store nothing")
def t_cache_nostore(env):
    d = cache_dir(env, "nostore")
    want = env.files["f4194305"]
    for spec, why in (("nostore", "Cache-Control: no-store"),
                      ("noetag", "no validator"),
                      ("weak", "no validator")):
        url = env.furl("cns" + spec, spec, "f4194305")
        for _ in range(2):
            r = run(env, ["-v", "--cache", d, url])
            expect_run(r, 0, want, err=r"cache: not stored: .*" + why)
            expect("cache: miss" in r.err, "%s: not a miss" % spec)
    # Cache-Control: private is stored: this cache is the user's own.
    url = env.furl("cnspriv", "ccprivate", "f4194305")
    r = run(env, ["-v", "--cache", d, url])
    expect_run(r, 0, want, err=r"cache: stored")
    # A part of the file (-r, -C) is not stored; a closed pipe stores
    # nothing and fetches no more.
    r = run(env, ["-v", "-r", "0-99", "--cache", d, env.url("f4194303")])
    expect_run(r, 0, env.files["f4194303"][:100])
    r = run(env, ["-v", "-C", "5", "--cache", d, env.url("f4194303")])
    expect_run(r, 0, env.files["f4194303"][5:])
    p = subprocess.run("%s -v --cache %s %s | head -c 10 >/dev/null"
                       % (BIN, d, env.url("f20971520")), shell=True,
                       executable="/bin/bash", capture_output=True,
                       timeout=60)
    expect(p.returncode == 0, "closed pipe: %s" % p.stderr[-300:])
    datas = [f for f in cache_listing(d) if f.endswith(".data")]
    expect(datas == [cache_key(url) + ".data"], "stored: %s" % datas)
    expect(not [f for f in cache_listing(d) if f.startswith("tmp.")],
           "temporary files left")
    # With --sha256 the rest is read to check the digest: then it is whole.
    u = env.url("f20971520")
    p = subprocess.run("%s --sha256 %s --cache %s %s | head -c 10 >/dev/null"
                       % (BIN, sha(env.files["f20971520"]), d, u),
                       shell=True, executable="/bin/bash", capture_output=True,
                       timeout=60)
    expect(p.returncode == 0, "closed pipe, --sha256: %s" % p.stderr[-300:])
    cache_entry_ok(d, u, env.files["f20971520"])


@case("--cache: -x and -t from a hit read the entry; a relative DIR")
def t_cache_extract(env):
    make_sample(env)
    src = os.path.join(env.data, "t.tar.zst")
    add_old(env, "cache-t.tar.zst", open(src, "rb").read())
    url = env.url("cache-t.tar.zst")
    cwd = os.path.join(env.work, "cx")
    shutil.rmtree(cwd, ignore_errors=True)
    os.makedirs(cwd)
    for i in range(2):
        out = os.path.join(cwd, "x%d" % i)
        p = subprocess.run([BIN, "-v", "--cache", "rel/cache", "-x", out,
                            url], cwd=cwd, capture_output=True, text=True,
                           timeout=60)
        expect(p.returncode == 0, "exit %d: %s" % (p.returncode,
                                                   p.stderr[-300:]))
        tree_ok(env.tree, out)
        expect(("cache: hit" in p.stderr) == (i == 1),
               "run %d: %s" % (i, p.stderr[-300:]))
    d = os.path.join(cwd, "rel", "cache")
    cache_entry_ok(d, url, env.files["cache-t.tar.zst"])
    expect(not os.path.exists(os.path.join(cwd, "x0", "rel")),
           "the cache went into the extraction directory")
    p = subprocess.run([BIN, "-t", "--cache", d, url], capture_output=True,
                       text=True, timeout=60)
    expect(p.returncode == 0 and "top/run.sh" in p.stdout,
           "-t from a hit: %s" % p.stderr[-300:])
    # An archive's end marker is not the end of the file: 4 MiB of zeros
    # follow it here, and the copy still holds every byte.
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        payload = b"padded\n" * 1000
        ti = tarfile.TarInfo("a.txt")
        ti.size = len(payload)
        t.addfile(ti, io.BytesIO(payload))
    add_old(env, "cache-pad.tar", buf.getvalue() + bytes(4 * MB))
    url = env.url("cache-pad.tar")
    r = run(env, ["-v", "--cache", d, "-x", os.path.join(cwd, "x2"), url])
    expect_run(r, 0, err=r"cache: stored")
    cache_entry_ok(d, url, env.files["cache-pad.tar"])
    r = run(env, ["-v", "--cache", d, "--member", "a.txt", url])
    expect_run(r, 0, payload, err=r"cache: hit")
    # -t on a zip reads its central directory by ranges: nothing to store.
    add_old(env, "cache-t.zip", open(os.path.join(env.data, "t.zip"),
                                     "rb").read())
    r = run(env, ["-v", "-v", "--cache", d, "-t", env.url("cache-t.zip")])
    expect_run(r, 0, err=r"cache: not stored: not the whole file was read")


@case("--cache: credentials are never in DIR, nor in the key")
def t_cache_secrets(env):
    a = env.auth_env
    d = cache_dir(env, "secrets")
    want = env.files["f4194304"]
    url = env.aurl("a/bearer/cs1/f4194304")
    for i in range(2):
        r = arun(env, ["--cache", d, url],
                 {"RANGECAT_TOKEN": a["AUTH_TOKEN"]})
        expect_run(r, 0, want)
    expect("cache: HTTP 206 with the entry's validator" in r.err,
           "no hit: %s" % r.err[-300:])
    # The password of a URL is not part of the key.
    userinfo = "%s:%s@" % (a["AUTH_USER"],
                           urllib.parse.quote(a["AUTH_PASSWORD"], safe=""))
    burl = env.aurl("a/basic/cs2/f4194304")
    r = arun(env, ["--cache", d, burl.replace("//", "//" + userinfo, 1)], {})
    expect_run(r, 0, want, err=r"cache: stored")
    expect(os.path.exists(os.path.join(d, cache_key(burl) + ".data")),
           "the key is not the URL without its userinfo")
    # A wrong token is refused, whatever the cache holds.
    r = arun(env, ["--cache", d, url],
             {"RANGECAT_TOKEN": "wrong-" + a["AUTH_TOKEN"]})
    expect_run(r, 2, b"", err=r"HTTP 401")
    secrets_ = [s.encode() for s in env.secrets] + [
        urllib.parse.quote(a["AUTH_PASSWORD"], safe="").encode()]
    for f in cache_listing(d):
        with open(os.path.join(d, f), "rb") as fh:
            blob = fh.read()
        for s in secrets_:
            expect(s not in blob, "a secret is in %s" % f)
    mode = os.stat(d).st_mode & 0o777
    expect(mode == 0o700, "DIR mode %o" % mode)
    d2 = cache_dir(env, "secrets2") + "/"     # a trailing slash too
    r = run(env, ["--cache", d2, env.url("f1")])
    expect_run(r, 0, env.files["f1"])
    mode = os.stat(d2).st_mode & 0o777
    expect(mode == 0o700, "DIR/ mode %o" % mode)


@case("--cache: a full disk stores nothing and the run goes on; a bad DIR")
def t_cache_errors(env):
    # DIR on a 2 MiB tmpfs, a 4 MiB file: the copy fails, the bytes do not.
    mnt = os.path.join(env.work, "cache-full")
    os.makedirs(mnt, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs",
                    mnt],
                   check=True)
    try:
        url = env.url("f4194305")
        for i in range(2):
            r = run(env, ["-v", "--cache", mnt, url])
            expect_run(r, 0, env.files["f4194305"],
                       err=r"(?m)^rangecat: --cache .*cache-full: writing "
                       r"the copy: No space left on device; the file is "
                       r"not stored$")
            expect("cache: miss" in r.err, "run %d: not a miss" % i)
            expect(cache_listing(mnt) == ["lock"],
                   "left: %s" % cache_listing(mnt))
        r = run(env, ["-q", "--cache", mnt, url])
        expect_run(r, 0, env.files["f4194305"],
                   err=r"^$")  # -q: not even the notice
    finally:
        subprocess.run(["umount", mnt], check=True)
    # A DIR that cannot be a directory: exit 5 before any request.
    afile = os.path.join(env.work, "cache-afile")
    open(afile, "w").close()
    before = len(access_lines(env, "/f4194305"))
    for d, why in ((afile, "Not a directory"),
                   (os.path.join(afile, "sub"), "Not a directory")):
        r = run(env, ["--cache", d, env.url("f4194305")])
        expect_run(r, 5, b"", err=r"^rangecat: --cache .*cache-afile.*: %s\n$"
                   % why)
    expect(len(access_lines(env, "/f4194305")) == before,
           "a request was made")


@case("--cache with s3://: a signed conditional request; RGW answers 304")
def t_cache_s3(env):
    c, objs = s3_setup(env)
    d = cache_dir(env, "s3")
    url = "s3://rc-test/multi/obj"
    time.sleep(1.1)   # a Last-Modified within a second of Date is weak
    for i in range(2):
        r = arun(env, ["--cache", d, url], s3_env(env))
        expect_run(r, 0, objs["multi/obj"])
    expect("cache: HTTP 304" in r.err and "cache: hit" in r.err,
           "no 304 hit: %s" % r.err[-400:])
    expect(r.err.count("GET bytes=") == 1, "a hit made more requests")
    # A wrong secret is refused on a hit as well.
    r = arun(env, ["--cache", d, url],
             s3_env(env, AWS_SECRET_ACCESS_KEY=other(env.s3keys["secret"])))
    expect_run(r, 2, b"", err=r"HTTP 403")
    for f in cache_listing(d):
        with open(os.path.join(d, f), "rb") as fh:
            expect(env.s3keys["secret"].encode() not in fh.read(),
                   "the secret key is in %s" % f)
