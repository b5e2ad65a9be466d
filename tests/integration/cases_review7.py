# Hostile review of the engine (issue 13): a buffer that holds one chunk,
# a server that ignores Range, a reader that stops, a process stopped.
# Exec'd into run.py's namespace.


def r7_peak(r):
    m = re.search(r"stats: .* peak_buffer=(\d+) ", r.err)
    expect(m, "no peak_buffer in --stats: %s" % r.err[-400:])
    return int(m.group(1))


@case("a stream (no Range, no validator, -n 1) with --memory of one "
      "--chunk-size: exact bytes within the budget, no hang, no retry")
def t_review7_stream_one_chunk(env):
    data = env.files["f20971520"]
    M = 1024 * 1024
    for args, url, mem in (
            # the server ignores Range: the probe's reply is the stream
            (["--memory", "1M", "--chunk-size", "1M"],
             env.url("norange/f20971520"), M),
            (["--memory", "1M", "--chunk-size", "1M", "-n", "64"],
             env.url("norange/f20971520"), M),
            (["--memory", "1M", "--chunk-size", "768K"],
             env.url("norange/f20971520"), M),
            (["--memory", "64K", "--chunk-size", "64K"],
             env.url("norange/f20971520"), 64 * 1024),
            (["--memory", "100K", "--chunk-size", "64K"],
             env.url("norange/f20971520"), 100 * 1024),
            # no length, chunked
            (["--memory", "64K"], env.furl("r7a", "chunked", "f20971520"),
             64 * 1024),
            # no validator: one stream after the probe
            (["--memory", "1M", "--chunk-size", "1M"],
             env.furl("r7b", "noetag", "f20971520"), M),
            (["--memory", "64K", "--chunk-size", "64K"],
             env.furl("r7c", "noetag", "f20971520"), 64 * 1024),
            # -n 1: one stream after the probe
            (["--memory", "1M", "--chunk-size", "1M", "-n", "1"],
             env.url("f20971520"), M),
            (["--memory", "64K", "--chunk-size", "64K", "-n", "1"],
             env.url("f20971520"), 64 * 1024)):
        what = " ".join(args) + " " + url
        try:
            r = run(env, ["-q", "--stats"] + args + [url], timeout=30)
        except subprocess.TimeoutExpired:
            raise Fail("%s: no end within 30 s" % what)
        expect(r.rc == 0, "%s: exit %d: %s" % (what, r.rc, r.err[-300:]))
        expect_run(r, 0, data)
        expect("retries=0 " in r.err, "%s: retried: %s" % (what, r.err))
        expect(r7_peak(r) <= mem, "%s: peak_buffer %d over %d" % (
            what, r7_peak(r), mem))
