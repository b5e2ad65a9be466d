# Stripes: on a server a round trip away (a TCP handshake of 2 ms or
# more, and a first reply of twice that) rangecat asks up to 8 ranges a
# request (Range: bytes=a-b,c-d,...) and reads the multipart/byteranges reply,
# checking every part against the range asked. Anything else a server
# answers turns stripes off for the run, and the chunks are asked one at
# a time: the output is the file's, exit 0. rangecat runs across the far
# link (farlink.py: a 30 ms one-way delay between two namespaces) to the
# fault server and its lies, and to nginx, Apache httpd and lighttpd.
# Read into run.py's namespace (see the end of run.py).

STRIPED = (r"a server a round trip away \(a [\d.]+ ms round trip, \d+ ms to "
           r"the first byte\): "
           r"up to 8 ranges a request \(stripes\)")


def stripe_gets(err):
    """How many requests asked several ranges, and how many one."""
    many = len(re.findall(r"GET bytes=\d+-\d+ and \d+ more ranges", err))
    one = len(re.findall(r"GET bytes=\d+-\d+$", err, re.M))
    return many, one


def stats_ranges(err):
    m = re.search(r"stats: .* ranges=(\d+)", err)
    expect(m, "no stats line: " + err[-300:])
    return int(m.group(1))


def far_url(env, port):
    """The far link's client namespace, and the URL prefix of the server
    on 127.0.0.1:port as seen across it."""
    link = env.far_link(30)
    return link.client, link.expose(port)


def frun(env, args, token, spec, name, timeout=120):
    """rangecat across the far link to the fault server."""
    ns, base = far_url(env, env.fport)
    return run(env, args + [base + "f/%s/%s/%s" % (token, spec, name)],
               netns=ns, timeout=timeout)


@case("stripes: a far server gets several ranges a request, every byte "
      "checked")
def t_stripes_far(env):
    data = env.files["f20971520"]
    r = frun(env, ["-v", "--stats"], "st-far", "-", "f20971520")
    expect_run(r, 0, data, err=STRIPED)
    many, one = stripe_gets(r.err)
    expect(many >= 3, "few multi-range requests: %d" % many)
    expect(stats_ranges(r.err) == 8, "stats: " + r.err[-200:])
    expect("stripes off" not in r.err, r.err[-400:])
    expect(valgrind or "the output waited" not in r.err,
           "a healthy reply taken for a straggler: " + "\n".join(
               l for l in r.err.splitlines() if "output waited" in l))
    # 20 MiB: the 5% rule's 2 MiB floor is 4 MiB on a far server, with
    # the count back at 32 (connections ahead of the window wait in the
    # kernel), and the buffer keeps to it.
    expect(re.search(r"buffer up to 4194304 bytes, chunks up to", r.err),
           "the far buffer: " + "\n".join(
               l for l in r.err.splitlines() if "buffer up to" in l))
    expect("wait in the kernel, not in the buffer: 32 at most" in r.err,
           "the count: " + "\n".join(
               l for l in r.err.splitlines() if "connections:" in l))
    m = re.search(r"peak_buffer=(\d+)", r.err)
    expect(m and int(m.group(1)) <= 4 << 20, "peak_buffer %s"
           % (m and m.group(1)))
    # Near (no delay): one range a request, as before.
    r = run(env, ["-v", "--stats", env.furl("st-near", "-", "f20971520")])
    expect_run(r, 0, data)
    # (Under valgrind curl sees even a loopback handshake late.)
    expect(valgrind or (not re.search(STRIPED, r.err) and
                        stripe_gets(r.err)[0] == 0), "stripes on loopback")
    expect(valgrind or stats_ranges(r.err) == 1, "stats: " + r.err[-200:])
    # -n 1 (one stream) and resumed offsets and ranges.
    r = frun(env, ["-v", "-n", "1"], "st-one", "-", "f20971520")
    expect_run(r, 0, data)
    expect(stripe_gets(r.err)[0] == 0, "-n 1 asked several ranges")
    r = frun(env, ["-C", "5000001"], "st-c", "-", "f20971520")
    expect_run(r, 0, data[5000001:])
    r = frun(env, ["-r", "1000-15999999"], "st-r", "-", "f20971520")
    expect_run(r, 0, data[1000:16000000])
    r = frun(env, ["-n", "4", "--chunk-size", "256K"], "st-n4", "-",
             "f20971520")
    expect_run(r, 0, data)
    # A 1-byte file: the probe is the whole run, one connection, and
    # --stats says so (it said connections=32, the count's start).
    r = frun(env, ["--stats"], "st-1", "-", "f1")
    expect_run(r, 0, env.files["f1"], err=r"stats: .* connections=1 ")


@case("stripes: a server a few ms away gets them too, and the count "
      "starts at the cap")
def t_stripes_few_ms(env):
    # A 3 ms one-way link: a 6 ms handshake, a first reply of about 12
    # ms. Not a short path (one stream first is for under 2 ms), nor a
    # far server (40 ms): each request still asks several ranges, so
    # that a round trip per range is not paid nor made up for by chunks
    # of the buffer's share per connection, and the count starts at the
    # most the buffer feeds instead of climbing to it. Across the link
    # to nginx, whose multipart replies are checked part by part.
    link = env.far_link(3)
    base = link.expose(env.port)
    data = env.files["f20971520"]
    r = run(env, ["-v", "--stats", base + "f20971520"], netns=link.client)
    expect_run(r, 0, data, err=STRIPED)
    m = re.search(r"a server a round trip away \(a ([\d.]+) ms round trip, "
                  r"(\d+) ms to the first byte\)", r.err)
    expect(m and 5 <= float(m.group(1)) < 40 and int(m.group(2)) < 40,
           "not the link's round trip: %s" % (m and m.group(0)))
    m = re.search(r"connections: the first reply took (\d+) ms \(a "
                  r"([\d.]+) ms round trip\): starting at 32, not 8", r.err)
    expect(m and int(m.group(1)) < 40 and float(m.group(2)) >= 5,
           "the count's start: " + "\n".join(
               l for l in r.err.splitlines() if "connections:" in l))
    expect(stripe_gets(r.err)[0] >= 3, "few multi-range requests: %d"
           % stripe_gets(r.err)[0])
    expect(stats_ranges(r.err) == 8, "stats: " + r.err[-200:])
    expect("stripes off" not in r.err, r.err[-400:])


@case("stripes: parts that waited in the kernel for room are not taken "
      "for the link's rate")
def t_stripes_rate(env):
    # Every reply comes at 2 MiB/s (rate2m). Connections ahead of the
    # window pause, and their parts wait in the kernel meanwhile, to come
    # at memory speed once there is room: learnt part by part, they made
    # the typical rate hundreds of MB/s, and every part on the wire then
    # looked slow and was split onto a cold connection. A reply is learnt
    # whole, from its request: never much over 2 MiB/s. (Chunks of 512
    # KiB: the server writes 64 KiB at once before it paces, so a 64 KiB
    # range alone comes as fast as the link.)
    data = env.files["f20971520"]
    r = frun(env, ["-vv", "--stats", "--chunk-size", "512K"], "st-rate",
             "rate2m", "f20971520")
    expect_run(r, 0, data, err=STRIPED)
    expect("waits for room" in r.err, "no transfer waited for room, so "
           "the case shows nothing: " + r.err[-300:])
    rates = [float(v) for v in
             re.findall(r"typical rate (\d+) bytes/s", r.err)]
    expect(rates, "no rate learnt: " + r.err[-300:])
    expect(max(rates) <= 4 * 1048576, "typical rate %.0f bytes/s from "
           "replies at 2 MiB/s" % max(rates))


def joined_spans(err):
    """The lengths of the single ranges asked after the probe."""
    return [int(b) - int(a) + 1 for a, b in
            re.findall(r"GET bytes=(\d+)-(\d+)$", err, re.M)]


@case("stripes: with one connection, adjacent chunks go as one range")
def t_stripes_join(env):
    # A far server that allows one connection (limit1): the stripes are
    # cut for one, their chunks adjacent, and each is asked as one range
    # of up to 256 chunks. Before, a chunk a request: 193 requests and
    # 14.7 s for 20 MiB at 60 ms, against curl's 1.0 s; now 35 and 1.2 s.
    # Each range costs a round trip: with 64 chunks (24 MiB), 256 MiB
    # at 100 ms from nginx's limit_conn 1 spent about 1 s in them.
    data = env.files["f20971520"]
    r = frun(env, ["-v", "--stats"], "st-join", "limit1", "f20971520")
    expect_run(r, 0, data, err=STRIPED)
    expect(re.search(r"stats: .* connections=1 ", r.err), r.err[-300:])
    chunk = int(re.findall(r"chunks up to (\d+) bytes", r.err)[-1])
    spans = joined_spans(r.err)
    expect(spans and max(spans) >= 96 * chunk,
           "longest range %s, chunks of %d" % (max(spans or [0]), chunk))
    gets = len(re.findall(r"\] GET ", r.err))
    expect(valgrind or gets <= 60, "%d requests" % gets)
    expect(valgrind or "a slow reply" not in r.err,
           "a healthy reply taken for a slow one: " + r.err[-300:])
    # A slow reply gives its later chunks back, to be asked again: it
    # held all of them, 8 MiB at 256 KiB/s for 32 s. Requests 1-31 or
    # 1-32 (from 0) are the storm the limit resets before any reply, so
    # the first joined range is one of 30-35.
    q = frun(env, ["-v"], "st-join-slow", "limit1,slow@30x6", "f20971520")
    expect_run(q, 0, data)
    expect(valgrind or "a slow reply" in q.err, q.err[-400:])
    # Not a healthy one: once a lie turns stripes off, 8 adjacent
    # chunks go a request, and such a reply was judged 50 ms in, on a
    # connection that had idled a round trip (0-9 cut a run).
    q = frun(env, ["-v"], "st-join-healthy", "mmerge@1x1000", "f20971520")
    expect_run(q, 0, data)
    expect(valgrind or "a slow reply" not in q.err, "\n".join(
        l for l in q.err.splitlines() if "a slow reply" in l)[-400:])
    # A joined reply that breaks, lies or runs short: every byte checked
    # as a single range's, and what it did not bring asked again. The
    # storm of resets at the start takes requests 1-32 or so; 33 on
    # are the joined ones.
    for spec in ("short@33x3", "reset@33x2", "crhalf@33x2", "crlong@33x2",
                 "badcr@33x2", "extra@33x2", "s200all@33"):
        q = frun(env, ["-v"], "st-join-" + spec[:spec.index("@")],
                 "limit1," + spec, "f20971520", timeout=90)
        expect_run(q, 0, data)
        expect(max(joined_spans(q.err) or [0]) >= 8 * chunk,
               spec + ": no joined range: " + q.err[-300:])
    # 503s halve a limit of 4 to 1 a second apart (Retry-After 1); the
    # count stays at 1 for the 10 s calm. Before, that was a chunk a
    # request: 184 requests, 13 s; now 41, 3.9 s.
    q = frun(env, ["-v"], "st-join-503", "limit4,s503@33x3", "f20971520",
             timeout=90)
    expect_run(q, 0, data)
    gets = len(re.findall(r"\] GET ", q.err))
    expect(valgrind or gets <= 90, "%d requests" % gets)


@case("stripes: nginx's limit_conn (503 past one request at a time) is "
      "the server's limit, not a busy server")
def t_stripes_limit_conn(env):
    # A real server's limit: nginx with limit_conn 1 answers 503, no
    # Retry-After, to a request while another is being processed (how
    # many varies from run to run, none in some). That is its limit on
    # requests at once, found as a connection limit: the range goes
    # again at once. Taken for a busy server, each storm halved the
    # count and held every request for 1-4 s: 0.7-13 s, curl 1.0 s.
    data = env.files["f20971520"]
    ns, base = far_url(env, env.port)
    for i in range(3):
        r = run(env, ["-v", "--stats", base + "one/f20971520"], netns=ns,
                timeout=120)
        expect_run(r, 0, data, err=STRIPED)
        if r.err.count(" 503 ") >= 3:
            expect("answered 503 while" in r.err,
                   "503s and no limit: " + r.err[-400:])
            expect(valgrind or "shedding from" not in r.err,
                   "503s taken for a busy server: " + "\n".join(
                       l for l in r.err.splitlines()
                       if "connections:" in l)[-400:])


@case("stripes: a far server's connection limit cuts the stripes again "
      "for the count it leaves")
def t_stripes_limit(env):
    # The server resets connections past 4 (limit4). Rangecat starts 32
    # (a far server), each asking a stripe of chunks 32 apart; the reset
    # ones give their chunks back and the group is cut again for the
    # count the limit leaves. Before, the few transfers left asked the
    # stripes 32 apart, their later parts past the buffer's window while
    # the chunks the output needed next waited for a free transfer:
    # 58 replies cut to make way and 119 requests for 20 MiB, 21 s.
    data = env.files["f20971520"]
    r = frun(env, ["-v", "--stats"], "st-limit", "limit4", "f20971520")
    expect_run(r, 0, data)
    expect("server's limit" in r.err, "no limit found: " + r.err[-400:])
    expect(re.search(r"stripes: \d+ chunks not yet asked are cut again "
                     r"for \d+ connections", r.err), r.err[-400:])
    # The transfers the limit let through give back their stripes'
    # later parts too: they lay 32 chunks apart over the whole file and
    # held half the connections for the whole run (4.5 s, 62 requests).
    expect(re.search(r"stripes: \d+ later chunks of \d+ stripes go back",
                     r.err), r.err[-400:])
    cuts = len(re.findall(r"the range the output needs next goes first",
                          r.err))
    gets = len(re.findall(r"\] GET ", r.err))
    expect(valgrind or (cuts <= 8 and gets <= 75),
           "%d replies cut to make way, %d requests" % (cuts, gets))
    # The limit and a lie that turns stripes off (a part out of order,
    # one merged range): the chunks given back are still asked, the
    # output's next first (it never was once stripes were off, and the
    # run hung), and no finished range is asked again (an empty one
    # drew a 416, exit 4).
    for spec in ("limit4,morder@1x32", "limit4,mmerge@1x32"):
        q = frun(env, ["-v"], "st-limit-" + spec[7:13], spec,
                 "f20971520", timeout=90)
        expect_run(q, 0, data)
        expect(all(int(a) <= int(b) for a, b in re.findall(
            r"GET bytes=(\d+)-(\d+)", q.err)), spec + ": an empty range")
        # Once stripes are off, adjacent chunks go as one range: a
        # chunk a request took about 195 requests and 5 s.
        gets = len(re.findall(r"\] GET ", q.err))
        expect(valgrind or gets <= 100, "%s: %d requests" % (spec, gets))
    # A limit guessed low at the reset (32 launched at once, reset in
    # any order) rises to the 4 the server answers at once; a try of 5
    # that the server took (one of the 4 had just closed) may be the
    # count the run ends with. A loaded CI run guessed 2 and kept it.
    expect(valgrind or re.search(r"stats: .* connections=[45] ", r.err),
           "\n".join(l for l in r.err.splitlines()
                     if "connections" in l)[-600:])


@case("stripes: -n past a far server's connection limit keeps to the "
      "limit; a count back up cuts the chunks cut for one again")
def t_stripes_limit_pinned(env):
    # -n 2 against a server that allows one connection: the second
    # transfer's range was reset at every try until --retries ran out,
    # while the first one's reply waited for room behind it (exit 3
    # after 50 s; 39 s with --memory 1M). A server's limit lowers -n's
    # count as it does the adaptive one, and tries take it back up to
    # -n, never past.
    data = env.files["f20971520"]
    for args, spec, lim in ((["-n", "2"], "limit1", 1),
                            (["-n", "2", "--memory", "1M"], "limit1", 1),
                            (["-n", "8"], "limit4", 4)):
        r = frun(env, ["-v", "--stats"] + args,
                 "st-pin-%s-%d" % (args[1], len(args)), spec,
                 "f20971520", timeout=90)
        what = " ".join(args) + " against " + spec
        expect_run(r, 0, data)
        expect("server's limit" in r.err,
               what + ": no limit found: " + r.err[-400:])
        m = re.search(r"stats: .* retries=(\d+) connections=(\d+) ", r.err)
        expect(m and m.group(1) == "0" and int(m.group(2)) <= lim + 1,
               what + ": " + r.err[-300:])
        # Said once, without -v too: -n asked for more.
        said = re.findall(r"^rangecat: -n %s: the server seems to allow "
                          r"\d connections? at once; fewer are used until "
                          r"it answers more$" % args[1], r.err, re.M)
        expect(len(said) == 1, what + ": " + r.err[-400:])
    # One reset before its reply, early, is guessed a limit of one: the
    # stripes are cut for one connection (up to 256 adjacent chunks, the
    # rest of this file), and the count is back at 8 (-n 8) or more
    # within a few replies. The chunks were then asked by one transfer
    # while the others had nothing to do (one 16 MiB reply at 2 MiB/s:
    # 9.4-9.8 s with -n 8, 6.6 s adaptive); they are cut again for the
    # count now.
    for args in (["-n", "8"], []):
        r = frun(env, ["-v", "--stats"] + args, "st-pin-drop%d" % len(args),
                 "drop@2,rate2m", "f20971520", timeout=90)
        expect_run(r, 0, data)
        m = re.search(r"the server's limit, (\d+) connection", r.err)
        expect(m, "no limit found: " + r.err[-400:])
        # (Guessed from the replies coming at the reset: one here, the
        # probe's, unless a stripe's reply came first. The count may rise
        # again before any stripe is cut for one; once one is, it must
        # be cut again for more.)
        one = re.search(r"stripes: \d+ chunks not yet asked(, \d+ of them "
                        r"given back,)? are cut again for 1 connections",
                        r.err)
        expect(m.group(1) != "1" or one is None or re.search(
                   r"stripes: (\d+ chunks not yet asked(, \d+ of them given "
                   r"back,)? are cut again for ([2-9]|\d\d) connections|"
                   r"\d+ later chunks of \d+ stripes go back, to be cut "
                   r"again for \d+ connections \(cut for one\))",
                   r.err[one.end():]),
               " ".join(args) + ": the chunks cut for one stayed so: " +
               "\n".join(l for l in r.err.splitlines()
                         if "stripes:" in l or "connections:" in l)[-600:])


@case("stripes: a try one higher leaves the reply in flight whole while "
      "other work remains")
def t_stripes_limit_try(env):
    # A far server that allows one connection, at 2 MiB/s a request: the
    # count tries 2 after 2 s, again after 4. The try took the later
    # chunks of the one joined reply, which so ended after its part and
    # went again on a new connection each time, while the server reset
    # the try (12 s and 5 connections for 20 MiB, the cap alone 10 s).
    # Chunks not asked yet are the try's work now: 10.5 s, and the one
    # connection the probe opened carries every range.
    data = env.files["f20971520"]
    r = frun(env, ["-v", "--stats", "--chunk-size", "64K"], "st-try",
             "limit1,rate2m", "f20971520", timeout=90)
    expect_run(r, 0, data)
    expect("trying 2" in r.err, "no try: " + r.err[-400:])
    expect("(cut for one)" not in r.err, "\n".join(
        l for l in r.err.splitlines() if "stripes:" in l)[-400:])
    # (At the start, a stripe cut for 32 ends after its part when the
    # limit is found, and a new connection asks the rest.)
    after = r.err[r.err.index("trying 2"):]
    fresh = after.count("(new connection)")
    expect(fresh == 0, "%d replies on new connections after the try: %s"
           % (fresh, "\n".join(l for l in after.splitlines()
                                if "first byte" in l)[-600:]))
    # A try the server answers (it reset only the first 31 requests, and
    # the limit of one was a guess) bears the count out: the stripe cut
    # for one goes back, to be cut for it. Left whole, 14 MiB went in
    # one reply at 2 MiB/s while every try got through (8.8 s, 4.9-7.0 s
    # before the tries left replies whole).
    r = frun(env, ["-v", "--stats", "--chunk-size", "64K"], "st-try-ok",
             "drop@1x31,rate2m", "f20971520", timeout=90)
    expect_run(r, 0, data)
    # (Whether the chunks are cut for one at all depends on the order
    # the replies and resets come in; once they are, they must be cut
    # again for more.)
    m = re.search(r"stripes: \d+ chunks not yet asked(, \d+ of them given "
                  r"back,)? are cut again for 1 connections", r.err)
    expect(m is None or "(cut for one)" in r.err[m.end():],
           "\n".join(l for l in r.err.splitlines()
                     if ("stripes:" in l or "connections:" in l) and
                     "opened before" not in l)[-600:])
    # --memory 1M feeds 2 connections: the range asked at a count of one
    # stays 64 chunks or more (it fell to 16 when the reach was lowered:
    # a round trip each 1 MiB, 3.2 s against 1.3 s).
    r = frun(env, ["-v", "--memory", "1M"], "st-try-mem", "limit1",
             "f20971520")
    expect_run(r, 0, data)
    chunk = int(re.findall(r"chunks up to (\d+) bytes", r.err)[-1])
    spans = joined_spans(r.err)
    expect(spans and max(spans) >= 64 * chunk,
           "longest range %s, chunks of %d" % (max(spans or [0]), chunk))


@case("stripes: a halving that leaves the output's next stripe untaken "
      "does not stop the run")
def t_stripes_halved(env):
    # nginx far away, each connection held to 1 MiB/s (/slow/): the count
    # starts at 32 and, every connection receiving, tries 16 (the most
    # the buffer feeds). The group's stripes were cut for 32; a stripe
    # not handed out yet may hold the chunk the output needs next, and
    # no transfer took it while more than 16 held ranges: every reply
    # paused for room behind it, and the run waited for ever (4 of 7
    # such runs). make_way hands that stripe out; stuck() would end a
    # run that still stops (exit 3 after --stall-timeout).
    if valgrind:
        raise Skip("5 x 128 MiB through an instrumented binary")
    want = 128 << 20
    with open(os.path.join(env.data, "big"), "rb") as f:
        data = f.read(want)
    ns, base = far_url(env, env.port)
    tried = 0
    for i in range(5):
        r = run(env, ["-v", "--stall-timeout", "10", "-r",
                      "0-%d" % (want - 1), base + "slow/big"], netns=ns,
                timeout=120)
        expect_run(r, 0, data)
        expect(re.search(STRIPED, r.err), "no stripes: " + r.err[-300:])
        tried += "the most the buffer feeds: trying 16" in r.err
    # The case shows something only if the count halved (7 of 9 runs).
    expect(tried > 0, "the count never halved in 5 runs")


@case("stripes: a straggler that holds the output gives its later parts "
      "back")
def t_stripes_straggler(env):
    # Request 20 (one of the 32 stripes of a 20 MiB file's one group)
    # comes at 256 KiB/s: each of its five parts held the output in
    # turn while the others waited paused, and the typical rate, learnt
    # from replies that had all waited on it, never showed it slow (2.5
    # s against 0.8). Its later parts go back to the others.
    data = env.files["f20971520"]
    for spec in ("slow@20", "slow@2"):
        r = frun(env, ["-v", "--stats"], "st-strag-" + spec, spec,
                 "f20971520")
        expect_run(r, 0, data, err=STRIPED)
        expect(re.search(r"stripes: the output waited [\d.]+ s on xfer "
                         r"\d+ \(\d+ bytes/s, the run \d+\): its \d+ "
                         r"later chunks go back", r.err),
               spec + ": " + r.err[-400:])


def fault_times(env, token):
    """When each request of token came to the fault server, and when a
    429/503 was answered (faultserver.py /times/)."""
    url = "http://127.0.0.1:%d/times/%s" % (env.fport, token)
    with urllib.request.urlopen(url) as f:
        return [json.loads(l) for l in f.read().decode().splitlines() if l]


@case("stripes: a far server's 503s hold every request until their "
      "Retry-After, and the stripes are cut again for the count shed")
def t_stripes_busy(env):
    # 40 requests after the probe are answered 503 with Retry-After: 1.
    # Rangecat starts 32 (a far server) and sheds to 16, 8, ... Before,
    # each waiting transfer retried on its own clock and kept its stripe
    # of chunks 32 apart: requests came while Retry-After ran, and 20 MiB
    # took 18 s. No request may go within a second of a 503.
    data = env.files["f20971520"]
    r = frun(env, ["-v", "--stats"], "st-busy", "s503@1x40", "f20971520")
    expect_run(r, 0, data, err=r"shedding from 32 to 16 connections")
    expect(re.search(r"stripes: \d+ later chunks of \d+ stripes go back, "
                     r"to be cut again for 16 connections", r.err),
           r.err[-400:])
    busy = [t for t in fault_times(env, "st-busy") if t["busy"]]
    expect(len(busy) == 40, "%d answered 503" % len(busy))
    # rangecat's own clock (-v): when each 503 came, when each request
    # went.
    got = [float(t) for t in re.findall(
        r"^\[ *([\d.]+)\] < HTTP/1.1 503", r.err, re.M)]
    went = [float(t) for t in re.findall(
        r"^\[ *([\d.]+)\] GET ", r.err, re.M)]
    expect(len(got) == 40, "%d 503s in the log" % len(got))
    early = [w for w in went if any(b < w < b + 0.95 for b in got)]
    expect(not early, "requests went at %s while a Retry-After ran"
           % early)
    # One storm answers every transfer at once: one wait announced for
    # it, not one a transfer (32 lines).
    said = re.findall(r"^rangecat: at byte \d+: HTTP 503.*; retry",
                      r.err, re.M)
    expect(1 <= len(said) <= 6, "%d waits announced" % len(said))
    # A storm that outlasts --retries (5): exit 3, having asked about
    # as often as the count and Retry-After allow (32, 16, 8, 4, 2, 1,
    # 1), not every round trip (147 requests in 5.7 s before).
    r = frun(env, [], "st-busy2", "s503@1x150", "f20971520")
    expect_run(r, 3, err=r"HTTP 503: server error \(gave up after 5 "
               r"retries\)")
    n = len(fault_times(env, "st-busy2"))
    expect(n <= 80, "%d requests" % n)


# What each lie on the first multi-range request (request 1; the probe
# is 0) does: stripes off for the run, or a retry with stripes kept.
STRIPE_LIES = {
    "mfirst": "off", "mfull": "off", "mmerge": "off", "mfew": "off",
    "morder": "off", "mshift": "off", "mtotal": "off", "mbadb": "off",
    "mextra": "off", "mnocr": "off",
    "mnodelim": "on", "mchunk": "on", "mcut": "on",
    # a part shorter than its Content-Range says: the framing after it
    # must not be taken for its last bytes (it was, exit 0)
    "mlack": "off", "mlack1": "off",
    # framing that is odd but right: bare LF, a preamble, an epilogue
    # holding a fake part after the close delimiter, a body dribbled in
    # 1-5 byte writes around the framing
    "mlf": "on", "mpre": "on", "mepi": "on", "mdribble": "on",
}


@case("stripes: a server that answers several ranges otherwise loses "
      "nothing")
def t_stripes_lies(env):
    data = env.files["f20971520"]
    for kind, after in sorted(STRIPE_LIES.items()):
        r = frun(env, ["-v", "--stats", "--retry-delay", "50ms"],
                 "st-" + kind, "%s@1" % kind, "f20971520")
        expect_run(r, 0, data)
        off = "stripes off" in r.err
        expect(off == (after == "off"),
               "%s: stripes %s: %s" % (kind, "off" if off else "on",
                                       r.err[-500:]))
        expect(stats_ranges(r.err) == (1 if after == "off" else 8),
               kind + ": " + r.err[-200:])
        if after == "off":
            # After the lie, single ranges only.
            gets = re.findall(r"GET bytes=(\d+-\d+( and \d+ more ranges)?)$",
                              r.err[r.err.index("stripes off"):], re.M)
            expect(gets and not any(g[1] for g in gets),
                   kind + ": several ranges after stripes off")
        # No retry storm: at most the one request retried.
        m = re.search(r"stats: .* retries=(\d+)", r.err)
        expect(int(m.group(1)) <= 2, kind + ": retries " + m.group(1))
    # Every multi-range request lies: still the file.
    r = frun(env, ["--stats"], "st-all", "mshift@1x100", "f20971520")
    expect_run(r, 0, data)


@case("stripes: faults on multipart replies are retried from the first "
      "missing byte; another version still exits 4")
def t_stripes_faults(env):
    data = env.files["f20971520"]
    for spec in ("reset@1", "trunc@2", "s503@1", "s500@2x2", "nibble@3",
                 "extra@1", "slow@2"):
        r = frun(env, ["-v", "--stats", "--retry-delay", "50ms"],
                 "stf-" + spec, spec, "f20971520")
        expect_run(r, 0, data)
        expect(stats_ranges(r.err) == 8, spec + ": " + r.err[-300:])
    r = frun(env, ["--stall-timeout", "1", "--retry-delay", "50ms"],
             "stf-stall", "stall@1", "f20971520")
    expect_run(r, 0, data)
    # A reply that trickles its framing a byte every 2 s: no part's byte
    # ever lands, which is a stall (it kept the transfer alive forever).
    r = frun(env, ["--stall-timeout", "5", "--retry-delay", "50ms"],
             "stf-trickle", "trickle@2", "f20971520", timeout=40)
    expect_run(r, 0, data, err="no data for 5 s")
    # Silence right after a part's last byte, or before the close
    # delimiter: that part is asked again, never an inverted range (it
    # was, and the 416 to it ended the run with exit 4).
    for spec in ("mgap@1", "mgaplast@1"):
        r = frun(env, ["-v", "--stall-timeout", "1", "--retry-delay",
                       "50ms"], "stf-" + spec, spec, "f20971520")
        expect_run(r, 0, data)
        expect(not re.search(r"GET bytes=(\d+)-(\d+)", r.err) or all(
            int(a) <= int(b) for a, b in re.findall(
                r"GET bytes=(\d+)-(\d+)", r.err)),
            spec + ": an inverted range was asked")
    # Another version answers a multi-range request: exit 4, and what
    # was written is the file's start.
    for spec in ("etagx@2", "total@2", "etag@2", "dropetag@2", "weakx@2"):
        r = frun(env, ["--retry-delay", "50ms"], "stv-" + spec, spec,
                 "f20971520")
        expect_run(r, 4)
        expect(data.startswith(r.out), spec + ": not a prefix")
    r = frun(env, ["--retry-delay", "50ms"], "stv-lm", "lm,lmx@2",
             "f20971520")
    expect_run(r, 4)
    expect(data.startswith(r.out), "lmx: not a prefix")


@case("stripes: nginx, Apache and lighttpd far away answer several "
      "ranges a request")
def t_stripes_servers(env):
    name = "f20971520"
    data = env.files[name]
    ports = {"nginx": env.port}
    env.apache()
    env.lighttpd()
    ports["apache"] = env.apache_port
    ports["lighttpd"] = env.lighttpd_port
    for server, port in sorted(ports.items()):
        ns, base = far_url(env, port)
        r = run(env, ["-v", "--stats", base + name], netns=ns)
        expect_run(r, 0, data, err=STRIPED)
        expect("stripes off" not in r.err,
               server + ": " + r.err[r.err.find("stripes off") - 300:][:600])
        expect(stripe_gets(r.err)[0] >= 3, server + ": few multi-range "
               "requests")
        expect(stats_ranges(r.err) == 8, server)
        r = run(env, ["-C", "777777", base + name], netns=ns)
        expect_run(r, 0, data[777777:])
    # nginx's norange location ignores Range (200 to the probe): one
    # stream, as before.
    ns, base = far_url(env, env.port)
    r = run(env, ["-v", base + "norange/" + name], netns=ns)
    expect_run(r, 0, data)
    expect(stripe_gets(r.err)[0] == 0, "several ranges to a server that "
           "ignores Range")
