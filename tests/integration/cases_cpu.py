# Fewer connections where they do not pay (issue 13, items 2 and 5): on
# loopback one or two connections carry everything, so the count halves
# from 8 while the rate holds, and settles where it does. Exec'd into
# run.py's namespace.


@case("loopback: the count halves from 8 while the rate holds; -v says "
      "why, --stats shows where it settled")
def t_cpu_fewer(env):
    if valgrind or tsan_build():
        # 8 connections there carry under 32 MiB/s each (83 MiB/s in
        # all under TSan): the rule for a capped link climbs, rightly.
        raise Skip("an instrumented binary is slower than a capped link")
    # 256 MiB on an idle machine may end (0.18 s) before the first
    # window is judged (0.18-0.20 s): such a run says nothing of the
    # rule, and goes again, three times at most (then the case is
    # skipped: the machine is too fast for it to show anything).
    for attempt in range(3):
        out = os.path.join(env.work, "bigout")
        p = subprocess.run([BIN, "-v", "--stats", env.url("big")],
                           stdout=open(out, "wb"), stderr=subprocess.PIPE,
                           timeout=300)
        err = p.stderr.decode(errors="replace")
        expect(p.returncode == 0, "exit %d: %s" % (p.returncode,
                                                   err[-600:]))
        got = file_sha(out)
        os.unlink(out)
        expect(got == env.big_sha, "256 MiB output differs")
        steps = re.findall(r"connections: (.*(?:trying|settled at) .*)",
                           err)
        if steps:
            break
    else:
        m = re.search(r"stats: .* seconds=([0-9.]+) ", err)
        if m and float(m.group(1)) < 0.25:
            raise Skip("256 MiB ended three times before the count's "
                       "first window was judged: nothing to see")
    shown = "\n".join(steps)
    # A round trip of a few ms: halving is tried first, before any
    # doubling, since its windows cost milliseconds.
    expect(steps and re.fullmatch(
        r"[0-9.]+ MiB/s with 8 connections, [0-9.]+ ms round trip: "
        r"trying 4", steps[0]), "no halving first: %s" % shown)
    # Every later step is a halving judged by the rate, or its undoing.
    for s in steps[1:]:
        # (halving stops at RC_SCHED_FEWEST: "no loss with 2 ...: settled
        # at 2" when two keep the rate; it settles where it stands)
        expect(re.fullmatch(r"no loss with (\d+) connections? \([-+]\d+%\)"
                            r": (trying \d+|settled at \1)|lost \d+% with "
                            r"\d+ connections?: (settled at|trying) \d+",
                            s), "unexpected step: %s" % shown)
    # --stats names the count the last decision left, but no more than
    # ran at once: a doubling decided near the end (an instrumented
    # build, slower) may leave it between the two.
    last = int(re.search(r"(\d+)$", steps[-1]).group(1))
    prev = (int(re.search(r"(\d+)$", steps[-2]).group(1))
            if len(steps) > 1 else 8)
    m = re.search(r"stats: .* connections=(\d+) ", err)
    expect(m and (int(m.group(1)) == last or
                  prev <= int(m.group(1)) < last),
           "stats %s, last decision %s" % (m and m.group(1), steps[-1]))
