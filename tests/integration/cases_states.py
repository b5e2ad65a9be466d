# Transfer states (issue 13 item 4): with -vv the fetcher logs every
# change of a transfer's state ("xfer N: running -> done"). Against real
# servers and faults, every logged step must be one the documented table
# (docs/ARCHITECTURE.md, "The fetcher") allows, each transfer's steps must
# chain (each starts where the last ended, the first from idle), and a
# run that succeeded leaves every transfer idle, or done where the run's
# end stopped it in flight. Exec'd into run.py's namespace.

XS_ALLOWED = {
    ("idle", "connecting"),
    ("connecting", "running"),
    ("running", "paused"), ("paused", "running"),
    ("connecting", "done"), ("running", "done"), ("paused", "done"),
    ("done", "connecting"), ("done", "waiting"), ("done", "parked"),
    ("done", "idle"),
    ("waiting", "connecting"),
    ("parked", "waiting"),
}
XS_LINE = re.compile(r"(?m)^\[ *[0-9.]+\] xfer (\d+): (\w+) -> (\w+)$")


def xs_check(r, ok):
    """Checks r's logged state changes; returns the set of steps seen."""
    expect("internal error" not in r.err, "internal error: " + r.err[-600:])
    steps = XS_LINE.findall(r.err)
    expect(steps, "no state changes logged at -vv: " + r.err[-600:])
    last = {}
    for n, a, b in steps:
        expect((a, b) in XS_ALLOWED, "xfer %s: %s -> %s is not in the "
               "table" % (n, a, b))
        expect(last.get(n, "idle") == a, "xfer %s went %s -> %s after "
               "ending in %s" % (n, a, b, last.get(n, "idle")))
        last[n] = b
    if ok:
        # Done only when the run's end stopped it in flight (the owner
        # of a split range, a successor started early).
        stopped = set(re.findall(r"(?m)\] xfer (\d+): stopped at byte",
                                 r.err))
        expect(all(s == "idle" or (s == "done" and n in stopped)
                   for n, s in last.items()),
               "transfers not idle after success: %s" % last)
    return {(a, b) for _, a, b in steps}


@case("transfer states: parallel, retries, stalls and a 503 follow the "
      "table; -v alone does not log them")
def t_states_parallel(env):
    data = env.files["f20971520"]
    r = run(env, ["-vv", "--chunk-size", "1M", "-n", "4",
                  env.url("f20971520")])
    expect_run(r, 0, data)
    seen = xs_check(r, True)
    expect(("connecting", "running") in seen and ("done", "idle") in seen,
           "a clean run without its usual steps: %s" % sorted(seen))
    r = run(env, ["-v", "--chunk-size", "1M", "-n", "4",
                  env.url("f20971520")])
    expect_run(r, 0, data)
    expect(not XS_LINE.search(r.err), "-v logged state changes")
    # A reset, a 503 and a stall: each range waits, then goes again.
    for spec, want in (("reset@3", ("done", "waiting")),
                       ("s503@2", ("done", "waiting")),
                       ("stall@2", ("running", "done"))):
        r = run(env, ["-vv", "--retry-delay", "50ms", "--stall-timeout",
                      "1", "--chunk-size", "1M", "-n", "4",
                      env.furl("xs-" + spec, spec, "f20971520")],
                timeout=60)
        expect_run(r, 0, data)
        seen = xs_check(r, True)
        expect(want in seen and ("waiting", "connecting") in seen,
               "%s: no retry in the states: %s" % (spec, sorted(seen)))


@case("transfer states: a stream that pauses on a full ring, a redirect, "
      "a refused redirect target, a failed run")
def t_states_stream(env):
    data = env.files["f20971520"]
    # The server ignores Range: one spanning transfer, paused while a
    # reader that has not started yet leaves the ring full.
    out = os.path.join(env.work, "xs-slow")
    cmd = "sleep 1; cat > %s" % shlex.quote(out)
    with subprocess.Popen(["sh", "-c", cmd], stdin=subprocess.PIPE) as sink:
        r = run(env, ["-vv", env.furl("xs-nr", "norange", "f20971520")],
                shell_stdout=sink.stdin, stdout_path=os.path.join(
                    env.work, "xs-unused"))
        sink.stdin.close()
        sink.wait(timeout=60)
    with open(out, "rb") as f:
        r.out = f.read()
    expect_run(r, 0, data)
    seen = xs_check(r, True)
    expect(("running", "paused") in seen and ("paused", "running") in seen,
           "a full ring never paused the stream: %s" % sorted(seen))
    # Resumed only once the held write fits: no pause per poll while the
    # reader sleeps (that spun a core), at most one per write of curl's
    # (16 KiB).
    pauses = r.err.count("running -> paused")
    expect(pauses <= len(data) // (16 * KB), "%d pauses for %d bytes: the "
           "stream resumed before the ring had room" % (pauses, len(data)))
    # Every request redirected: done -> connecting at the new URL.
    r = run(env, ["-vv", "--chunk-size", "1M",
                  env.furl("xs-rd", "redirect", "f20971520")])
    expect_run(r, 0, data)
    seen = xs_check(r, True)
    expect(("done", "connecting") in seen,
           "a redirect was not followed at once: %s" % sorted(seen))
    # A signed target that refuses mid-run: the other transfers park
    # until one fetched a fresh target (timing decides how many do).
    want = signed_file(env)
    r = signed_run(env, "xs-opq", "signed,opaque", extra=["-v"])
    expect_run(r, 0, want)
    xs_check(r, True)
    # A run that fails leaves its transfers wherever the failure found
    # them, along the table still.
    r = run(env, ["-vv", "--chunk-size", "1M",
                  env.furl("xs-etag", "etag@2", "f20971520")])
    expect_run(r, 4, None, err=r"HTTP 412")
    xs_check(r, False)
