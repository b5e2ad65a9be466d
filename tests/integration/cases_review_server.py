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
