# The far link (farlink.py): rangecat in a network namespace of its own,
# across a real link with a one-way delay, to the tests' nginx. Unlike
# farproxy.py on loopback the TCP handshake is far too. Read into run.py's
# namespace (see the end of run.py).


@case("far link: a real round trip, handshake included")
def t_far_link(env):
    link = env.far_link(30)
    base = link.expose(env.port)
    data = env.files["f20971520"]
    r = run(env, ["-v", base + "f20971520"], netns=link.client)
    expect_run(r, 0, data)
    # A handshake (60 ms) and a request (60 ms): the first reply takes
    # two round trips. rangecat says so when it starts more connections
    # for it ("connections: the first reply took N ms") or turns stripes
    # on ("a server a round trip away (a H ms round trip, N ms to the
    # first byte)"),
    # whichever its scheduler does with this buffer; the handshake it
    # measured is the link's round trip, not loopback's microseconds.
    waits = [int(w) for w in re.findall(
        r"connections: the first reply took (\d+) ms", r.err)]
    far = re.findall(r"a server a round trip away \(a ([\d.]+) ms round "
                     r"trip, (\d+) ms to the first byte\)", r.err)
    waits += [int(w) for _, w in far]
    expect(waits, "rangecat did not find the server far: " + r.err[-600:])
    expect(min(waits) >= 100, "the first reply took %s ms, wanted 100 "
           "or more" % min(waits))
    for hs, _ in far:
        expect(float(hs) >= 50, "a %s ms round trip over a 60 ms "
               "link" % hs)
