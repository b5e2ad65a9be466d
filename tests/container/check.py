#!/usr/bin/env python3
"""make container-check: contrib/Dockerfile built and run for real with
podman, with no registry.

The base image is made here from Debian's apt repository (mmdebstrap
--variant=minbase bookworm, the machine's own apt sources) and imported
into podman; its tarball is kept in the cache directory, so a second run
only rebuilds what changed. The Dockerfile gets it as BASE and
RUNTIME_BASE. The image then runs against an nginx on the host's loopback
(--network=host):
  - the build context holds no host build output (.dockerignore);
  - a download into a pipe, byte-exact, progress lines on stderr by
    default, -q on the command line winning, RANGECAT_PROGRESS=none
    silencing them;
  - the entrypoint unpacking into a volume owned by 10001 (as fsGroup
    makes it), the program run after, .complete written;
  - podman stop mid-download: the container ends with 143 in under 2 s
    (by podman's record of its end), for the entrypoint and for rangecat
    as PID 1, nothing marked complete;
  - the user is 10001:10001, numeric in the image;
  - --memory 48m with a 512 MiB file: byte-exact, not OOM-killed.

Usage: check.py [--probe] CACHE_DIR
--probe only checks that podman can run a container here (podman info,
then a trivial run of the base image, trying crun and runc and ulimits
the host allows); it exits 0 when it can, else 77 with the reason on one
line. Ends with "N passed, N failed".
"""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BASE = "localhost/rangecat-base:bookworm"
IMAGE = "localhost/rangecat:check"
BUILD = "localhost/rangecat-build:check"  # the build stage
PREFIX = "rangecat-check-"  # names of the containers made here
MB = 1024 * 1024

passed = failed = 0
podman = ["podman"]  # plus the global options the probe chose
run_opts = []        # per run and build: the ulimits the probe chose


def log(msg):
    print("container-check: " + msg, flush=True)


def sh(cmd, **kw):
    kw.setdefault("capture_output", True)
    return subprocess.run(cmd, **kw)


def check(name, fn):
    global passed, failed
    t = time.time()
    try:
        fn()
        passed += 1
        print("ok   - %s (%.1f s)" % (name, time.time() - t), flush=True)
    except Exception as e:  # a crash in a check is a failure too
        failed += 1
        print("FAIL - %s: %s" % (name, e), flush=True)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def last_line(b):
    s = b.decode(errors="replace").strip().splitlines()
    return s[-1] if s else "(no message)"


def apt_options():
    """The host's apt settings that a snapshot mirror needs (old Release
    files), passed on to mmdebstrap: the image then uses the same mirror
    the same way."""
    opts = []
    for key in ("Acquire::Check-Valid-Until", "Acquire::Check-Date"):
        out = sh(["apt-config", "dump", key]).stdout.decode()
        for line in out.splitlines():
            if line.startswith(key + " "):
                opts += ["--aptopt", line.rstrip(";") + ";"]
    return opts


def base_image(cache):
    """The Debian 12 minbase image, from the cached tarball or made now."""
    tar = os.path.join(cache, "debian-bookworm-minbase.tar")
    if not os.path.exists(tar):
        mirror = os.environ.get("CONTAINER_MIRROR")
        if not mirror and os.path.exists(
                "/etc/apt/sources.list.d/debian.sources"):
            mirror = "/etc/apt/sources.list.d/debian.sources"
        log("mmdebstrap bookworm from %s (a few minutes, once)"
            % (mirror or "deb.debian.org"))
        cmd = ["mmdebstrap", "--variant=minbase", "--format=tar", "--quiet"] + \
            apt_options() + ["bookworm", tar + ".tmp"]
        if mirror:
            cmd.append(mirror)
        p = sh(cmd)
        if p.returncode != 0:
            raise RuntimeError("mmdebstrap failed: " + last_line(p.stderr))
        os.rename(tar + ".tmp", tar)
        sh(podman + ["rmi", "-f", BASE])
    if sh(podman + ["image", "exists", BASE]).returncode != 0:
        p = sh(podman + ["import", "-q", tar, BASE])
        if p.returncode != 0:
            raise RuntimeError("podman import failed: "
                               + last_line(p.stderr))


def probe(cache):
    """Finds podman options that run a container here, or raises
    RuntimeError saying why none does."""
    global podman, run_opts
    if shutil.which("podman") is None:
        raise RuntimeError("podman is not installed")
    p = sh(["podman", "info"])
    if p.returncode != 0:
        raise RuntimeError("podman info failed: " + last_line(p.stderr))
    base_image(cache)
    # Hosts differ: crun refuses a cgroup v1/v2 hybrid that runc takes,
    # and podman's default ulimits may be over what this host allows
    # (no CAP_SYS_RESOURCE in a nested container).
    nofile = sh(["sh", "-c", "ulimit -Hn"]).stdout.decode().strip()
    limits = [[]]
    for nproc in ("32768", "4096"):
        limits.append(["--ulimit", "nofile=%s:%s" % (nofile, nofile),
                       "--ulimit", "nproc=%s:%s" % (nproc, nproc)])
    errors = []
    for runtime in ([], ["--runtime", "runc"]):
        if runtime and shutil.which("runc") is None:
            continue
        for lim in limits:
            p = sh(["podman"] + runtime + ["run", "--rm"] + lim +
                   [BASE, "true"])
            if p.returncode == 0:
                podman = ["podman"] + runtime
                run_opts = lim
                if runtime or lim:
                    log("podman runs containers here with %s (the defaults "
                        "failed: %s)" % (" ".join(runtime + lim), errors[0]))
                return
            errors.append(last_line(p.stderr))
    raise RuntimeError("podman cannot run a container here: " + errors[0])


class Nginx:
    """nginx on a random loopback port serving dir; /slow/ at 1 MiB/s per
    connection. Stopped by PID."""

    def __init__(self, work, data):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        conf = os.path.join(work, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {work}/tmp-body;
  proxy_temp_path {work}/tmp-proxy;
  fastcgi_temp_path {work}/tmp-fcgi;
  uwsgi_temp_path {work}/tmp-uwsgi;
  scgi_temp_path {work}/tmp-scgi;
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{self.port};
    root {data};
    location /slow/ {{ alias {data}/; limit_rate 1m; }}
  }}
}}
""")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", work],
                                     stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.port, path)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def write_random(path, size):
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            b = os.urandom(min(left, 16 * MB))
            h.update(b)
            f.write(b)
            left -= len(b)
    t = time.time() - 3600  # an old Last-Modified is a strong validator
    os.utime(path, (t, t))
    return h.hexdigest()


def prun(args, name=None, stdin=None):
    """podman run on the image with the host's network; stdout is hashed
    as it streams. Returns (exit status, sha256 of stdout, stdout length,
    stderr)."""
    cmd = podman + ["run", "--network=host"] + run_opts
    cmd += ["--name", name] if name else ["--rm"]
    errf = tempfile.TemporaryFile()
    p = subprocess.Popen(cmd + args, stdout=subprocess.PIPE, stderr=errf,
                         stdin=stdin or subprocess.DEVNULL)
    h, n = hashlib.sha256(), 0
    for b in iter(lambda: p.stdout.read(MB), b""):
        h.update(b)
        n += len(b)
    p.wait(timeout=600)
    errf.seek(0)
    return p.returncode, h.hexdigest(), n, errf.read().decode(
        errors="replace")


def inspect(name, fmt):
    return sh(podman + ["inspect", name, "--format", fmt]).stdout.decode() \
        .strip()


def image_id(name):
    p = sh(podman + ["image", "inspect", name, "--format", "{{.Id}}"])
    return p.stdout.decode().strip() if p.returncode == 0 else ""


def rm(name):
    sh(podman + ["rm", "-f", "-t", "0", name])


def main():
    args = sys.argv[1:]
    only_probe = "--probe" in args
    args = [a for a in args if a != "--probe"]
    if len(args) != 1:
        print(__doc__.split("Usage: ")[1].split("\n")[0], file=sys.stderr)
        return 2
    cache = os.path.abspath(args[0])
    os.makedirs(cache, exist_ok=True)
    try:
        probe(cache)
    except RuntimeError as e:
        log("cannot run: %s" % e)
        return 77
    if only_probe:
        log("podman can run containers here")
        return 0

    # Everything of a run goes in a scratch directory under the cache,
    # removed at the end unless a check failed.
    work = tempfile.mkdtemp(prefix="run-", dir=cache)
    os.chmod(work, 0o755)  # nginx's workers run as nobody
    data = os.path.join(work, "data")
    os.makedirs(data)
    for n in os.listdir(cache):
        if n.startswith("run-") and os.path.join(cache, n) != work:
            shutil.rmtree(os.path.join(cache, n), ignore_errors=True)
    for c in sh(podman + ["ps", "-a", "--format", "{{.Names}}"]) \
            .stdout.decode().split():
        if c.startswith(PREFIX):
            rm(c)

    log("building %s from contrib/Dockerfile" % IMAGE)
    t = time.time()
    # The build stage is tagged too, so that what an earlier run built is
    # removed by its id below and nothing else: podman keeps the layers
    # the new images use, the apt step's among them, for the next run.
    old = {image_id(i) for i in (BUILD, IMAGE)} - {""}
    for target, tag in (["--target", "build"], BUILD), ([], IMAGE):
        p = subprocess.run(podman + ["build", "--network=host"] + run_opts + [
            "--build-arg", "BASE=" + BASE, "--build-arg",
            "RUNTIME_BASE=" + BASE] + target + [
            "-f", os.path.join(ROOT, "contrib", "Dockerfile"), "-t", tag,
            ROOT], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            log("podman build failed: %s" % p.stderr.decode(
                errors="replace")[-1500:])
            print("0 passed, 1 failed")
            return 1
    for i in old - {image_id(i) for i in (BUILD, IMAGE)}:
        sh(podman + ["rmi", i])
    log("image built in %.0f s" % (time.time() - t))

    small = write_random(os.path.join(data, "f64"), 64 * MB)
    srcdir = os.path.join(work, "model")
    os.makedirs(srcdir)
    files = {}
    for i in range(6):
        files["m%d" % i] = write_random(os.path.join(srcdir, "m%d" % i),
                                        4 * MB)
    subprocess.run(["tar", "-cf", os.path.join(data, "model.tar"), "-C",
                    srcdir, "."], check=True)
    t0 = time.time() - 3600
    os.utime(os.path.join(data, "model.tar"), (t0, t0))
    web = Nginx(work, data)

    def volume(name):
        """A host directory owned by 10001:10001, as fsGroup makes one."""
        d = os.path.join(work, name)
        os.makedirs(d)
        os.chown(d, 10001, 10001)
        return d

    def context():
        # Every host build output there is now must be absent from the
        # build context, which a throwaway build copies and lists.
        outs = [o for o in ("rangecat", "librangecat.a", "src/main.o",
                            "tests/unit/t_ring") if
                os.path.exists(os.path.join(ROOT, o))]
        expect(outs, "no host build output to check against: make first")
        df = os.path.join(work, "Dockerfile.context")
        with open(df, "w") as f:
            f.write("FROM %s\nCOPY . /ctx\nRUN cd /ctx && ls %s 2>&1 "
                    "| grep -v 'No such file' || :\n" % (BASE, " ".join(outs)))
        p = sh(podman + ["build", "--no-cache"] + run_opts +
               ["-f", df, "-t", "localhost/rangecat-context:check", ROOT])
        sh(podman + ["rmi", "-f", "localhost/rangecat-context:check"])
        expect(p.returncode == 0, "context build: " + last_line(p.stderr))
        out = p.stdout.decode(errors="replace")
        for o in outs:
            expect(not any(line.strip() == o for line in out.splitlines()),
                   "%s is in the build context" % o)

    def pipe():
        rc, digest, n, err = prun([IMAGE, web.url("f64")])
        expect(rc == 0, "exit %d: %s" % (rc, err[-300:]))
        expect(digest == small, "64 MiB through the pipe differs "
               "(%d bytes)" % n)
        expect("rangecat: done: 64.0 MiB" in err,
               "no progress line for the log: %r" % err[-300:])
        rc, digest, n, err = prun([IMAGE, "-q", web.url("f64")])
        expect(rc == 0 and digest == small, "-q: exit %d" % rc)
        expect(err == "", "-q on the command line did not win: %r"
               % err[-300:])
        rc, digest, n, err = prun(["-e", "RANGECAT_PROGRESS=none", IMAGE,
                                   web.url("f64")])
        expect(rc == 0 and digest == small and err == "",
               "RANGECAT_PROGRESS=none: exit %d %r" % (rc, err[-300:]))

    def unpack():
        vol = volume("vol-unpack")
        rc, digest, n, err = prun([
            "-v", vol + ":/models", "-e", "DATA_URL=" + web.url("model.tar"),
            "-e", "DATA_DIR=/models", "--entrypoint", "rangecat-entrypoint",
            IMAGE, "sh", "-c", "test -f /models/.complete && "
            "cat /models/m3"])
        expect(rc == 0, "exit %d: %s" % (rc, err[-300:]))
        expect(digest == files["m3"], "the program did not read m3 after "
               "the unpack")
        for name, want in files.items():
            with open(os.path.join(vol, name), "rb") as f:
                got = hashlib.sha256(f.read()).hexdigest()
            expect(got == want, "%s in the volume differs" % name)
            st = os.stat(os.path.join(vol, name))
            expect(st.st_uid == 10001, "%s owned by %d" % (name, st.st_uid))
        expect(os.path.exists(os.path.join(vol, ".complete")),
               "no .complete")

    def stop_one(name, args, vol):
        rc = sh(podman + ["run", "-d", "--network=host", "--name", name] +
                run_opts + args).returncode
        expect(rc == 0, "podman run -d: exit %d" % rc)
        try:
            # Mid-download: once the unpack wrote into the volume, or
            # (no volume) 3 s in, well short of the 64 s at 2 MiB/s.
            deadline = time.time() + (20 if vol else 3)
            while time.time() < deadline and not (vol and os.listdir(vol)):
                time.sleep(0.1)
            expect(inspect(name, "{{.State.Running}}") == "true",
                   "%s is not running: %s" % (name, inspect(
                       name, "{{.State.ExitCode}}")))
            t = time.time()
            p = sh(podman + ["stop", "-t", "10", name])
            took = time.time() - t
            expect(p.returncode == 0, "podman stop: " + last_line(p.stderr))
            code = inspect(name, "{{.State.ExitCode}}")
            ended = int(inspect(name, "{{.State.FinishedAt.UnixNano}}")) \
                / 1e9 - t
            logs = sh(podman + ["logs", name]).stderr.decode(
                errors="replace")
        finally:
            rm(name)
        expect(code == "143", "%s: exit %s, wanted 143: %s"
               % (name, code, logs[-300:]))
        # The container's own end, from podman's record: podman stop
        # returns later by its clean-up (unmounts, the network), which
        # grows with the machine's load.
        expect(ended < 2, "%s: ended %.2f s after podman stop began"
               % (name, ended))
        log("%s: ended %.2f s after podman stop began, which returned "
            "after %.2f s" % (name, ended, took))

    def stop():
        vol = volume("vol-stop")
        stop_one(PREFIX + "stop-entry", [
            "-v", vol + ":/models", "-e", "DATA_URL=" + web.url(
                "slow/model.tar"), "-e", "DATA_DIR=/models", "-e",
            "RANGECAT_CONNECTIONS=2", "--entrypoint", "rangecat-entrypoint",
            IMAGE, "touch", "/models/ran"], vol)
        left = os.listdir(vol)
        expect(".complete" not in left, "interrupted unpack marked complete")
        expect("ran" not in left, "the program ran after a stopped unpack")
        # rangecat itself as PID 1 (the image's entrypoint, exec'd).
        stop_one(PREFIX + "stop-plain", [
            "--entrypoint", "sh", IMAGE, "-c",
            'exec rangecat -n 2 "$0" >/dev/null', web.url("slow/f64")], None)

    def user():
        expect(inspect(IMAGE, "{{.Config.User}}") == "10001:10001",
               "image user %r" % inspect(IMAGE, "{{.Config.User}}"))
        rc, _, _, _ = prun(["--entrypoint", "sh", IMAGE, "-c",
                            'test "$(id -u):$(id -g)" = 10001:10001'])
        expect(rc == 0, "id in the container is not 10001:10001")

    def memory():
        big = write_random(os.path.join(data, "big512"), 512 * MB)
        name = PREFIX + "memory"
        try:
            rc, digest, n, err = prun(["--memory", "48m", "--memory-swap",
                                       "48m", IMAGE, "-v",
                                       web.url("big512")], name=name)
            oom = inspect(name, "{{.State.OOMKilled}}")
        finally:
            rm(name)
            os.unlink(os.path.join(data, "big512"))
        expect(oom == "false", "OOM-killed")
        expect(rc == 0, "exit %d: %s" % (rc, err[-300:]))
        expect(digest == big, "512 MiB differs (%d bytes)" % n)
        expect("memory limit %d bytes (cgroup)" % (48 * MB) in err,
               "rangecat did not see the 48 MiB limit: %r" % err[:600])

    try:
        check("the build context holds no host build output", context)
        check("a download into a pipe: byte-exact, progress lines, -q wins",
              pipe)
        check("the entrypoint unpacks into a volume, then runs the program",
              unpack)
        check("podman stop mid-download: exit 143 in under 2 s", stop)
        check("the user is 10001:10001, numeric", user)
        check("--memory 48m, a 512 MiB file: byte-exact, not killed",
              memory)
    finally:
        web.stop()
        if failed:
            log("scratch kept in %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())
