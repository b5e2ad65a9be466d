# Expiring redirect targets (issue 14 item 2): an origin on 127.0.0.1 that
# 302s to a signed URL on "localhost" (another host) valid for 2 s, served
# at 512 KiB/s per connection (faultserver.py's "signed" modes). Exec'd
# into run.py's namespace.


def signed_log(env, token):
    """The fault server's record of token's requests (origin and target)."""
    url = "http://127.0.0.1:%d/log/%s" % (env.fport, token)
    with urllib.request.urlopen(url) as f:
        return [json.loads(l) for l in f.read().decode().splitlines() if l]


def signed_file(env):
    if "redir6m" not in env.files:
        env.add("redir6m", os.urandom(6 * MB))
    return env.files["redir6m"]


def signed_run(env, token, spec, extra=()):
    """A run of about 3 s (6 MiB over 4 connections at 512 KiB/s each),
    with a bearer token the target must never see."""
    args = ["-v", "-n", "4", "--chunk-size", "512K"] + list(extra) + [
        env.furl(token, spec, "redir6m")]
    return run(env, args, envvars={"RANGECAT_TOKEN": SECRET}, timeout=120)


def no_signature_shown(r):
    # The target's query carries the signature (SIGSECRET...): never on
    # stderr, whatever the log level.
    expect("SIGSECRET" not in r.err, "a signed URL's secret on stderr: %s"
           % [l for l in r.err.splitlines() if "SIGSECRET" in l][:3])


def origin_and_target(log):
    origin = [x for x in log if not x["target"]]
    target = [x for x in log if x["target"]]
    expect(all(x["auth"] for x in origin),
           "the origin was asked without the credentials: %s" % origin)
    expect(not any(x["auth"] for x in target),
           "the signed host saw the Authorization header")
    return origin, target


@case("signed redirect target (X-Amz-Expires) refreshed before it expires")
def t_redir_amz(env):
    want = signed_file(env)
    r = signed_run(env, "rd-amz", "signed")
    expect_run(r, 0, want, err=r"the redirect target expires in")
    no_signature_shown(r)
    origin, target = origin_and_target(signed_log(env, "rd-amz"))
    expect(len(origin) >= 2, "the origin was asked only %d times"
           % len(origin))
    expect(re.search(r"redirect target expires soon: asking "
                     r"http://127\.0\.0\.1:\d+/f/rd-amz/signed/redir6m "
                     r"again$", r.err, re.M), "no refresh logged: "
           + r.err[-800:])
    expect(max(x["gen"] for x in target) >= 1, "no fresh target used")
    # Refreshed before it expired: every target that refused had its
    # successor asked of the origin before that refusal, unprompted. (A
    # range sent to the old target while that refresh is on its way can
    # still arrive after the expiry on a loaded machine, a 2 s target's
    # half second later; it goes through the refusal path, and the
    # output is checked above.)
    log = signed_log(env, "rd-amz")
    asked = {x["gen"]: i for i, x in reversed(list(enumerate(log)))
             if not x["target"]}
    for i, x in enumerate(log):
        if x["target"] and x["status"] == 403:
            nxt = asked.get(x["gen"] + 1)
            expect(nxt is not None and nxt < i,
                   "target %d refused before its refresh was asked: %s"
                   % (x["gen"], log[:i + 1]))
    if os.environ.get("RD_DEBUG"):
        print(len(origin), len(target), [x["gen"] for x in target])


@case("signed redirect target (CloudFront Expires=) refreshed before expiry")
def t_redir_cf(env):
    want = signed_file(env)
    r = signed_run(env, "rd-cf", "signed,cf")
    expect_run(r, 0, want, err=r"the redirect target expires in")
    no_signature_shown(r)
    origin, target = origin_and_target(signed_log(env, "rd-cf"))
    expect(len(origin) >= 2, "the origin was asked only %d times"
           % len(origin))


@case("an opaque signed target refused (403) mid-run: origin asked again")
def t_redir_opaque(env):
    want = signed_file(env)
    r = signed_run(env, "rd-opq", "signed,opaque")
    expect_run(r, 0, want)
    no_signature_shown(r)
    origin, target = origin_and_target(signed_log(env, "rd-opq"))
    expect(any(x["status"] == 403 for x in target),
           "the target never refused: the case tests nothing")
    expect(len(origin) >= 2, "the origin was asked only %d times"
           % len(origin))
    expect(re.search(r"redirect target refused \(403\): asking "
                     r"http://127\.0\.0\.1:\d+/f/rd-opq/signed,opaque/"
                     r"redir6m again$", r.err, re.M),
           "no refusal logged: " + r.err[-800:])
    # Refused transfers wait for one fresh target: not one origin request
    # per connection and expiry.
    gens = max(x["gen"] for x in target) + 1
    expect(len(origin) <= gens + 1, "%d origin requests for %d targets"
           % (len(origin), gens))


@case("an expired target's 400 ExpiredToken: origin asked again")
def t_redir_e400(env):
    want = signed_file(env)
    r = signed_run(env, "rd-400", "signed,opaque,e400")
    expect_run(r, 0, want, err=r"(?m)redirect target refused \(400\): "
               r"asking http://127\.0\.0\.1:\d+/f/rd-400/\S+ again$")
    no_signature_shown(r)
    origin, target = origin_and_target(signed_log(env, "rd-400"))
    expect(any(x["status"] == 400 for x in target),
           "the target never refused: the case tests nothing")


@case("a redirect target that always refuses: exit 2, bounded, resumable")
def t_redir_deny(env):
    want = signed_file(env)
    r = signed_run(env, "rd-deny", "signed,opaque,deny")
    expect_run(r, 2, err=r"(?m)^rangecat: HTTP 403 from the redirect target "
               r"http://localhost:\d+/f/rd-deny/signed,opaque,deny/redir6m,"
               r" also after asking http://127\.0\.0\.1:\d+/f/rd-deny/"
               r"signed,opaque,deny/redir6m again 3 times$")
    no_signature_shown(r)
    origin, target = origin_and_target(signed_log(env, "rd-deny"))
    # The probe, then at most 3 fresh targets: never one per connection.
    expect(2 <= len(origin) <= 4, "%d origin requests" % len(origin))
    expect(len(r.out) > 0, "nothing delivered before the target expired")
    m = re.search(r"resume with: (.*)$", r.err, re.M)
    expect(m and env.furl("rd-deny", "signed,opaque,deny", "redir6m")
           in m.group(1) and "localhost" not in m.group(1),
           "the resume hint does not name the origin: %s" % r.err[-400:])
    expect(want[:len(r.out)] == r.out, "delivered bytes are not a prefix")


@case("a fresh redirect target with another ETag: exit 4, nothing spliced")
def t_redir_newetag(env):
    want = signed_file(env)
    r = signed_run(env, "rd-etag", "signed,opaque,newetag")
    expect_run(r, 4, err=r"(?m)^rangecat: .*(HTTP 412|ETag)")
    no_signature_shown(r)
    origin, target = origin_and_target(signed_log(env, "rd-etag"))
    expect(len(origin) >= 2 and any(x["status"] == 412 and x["gen"] >= 1
                                    for x in target),
           "the fresh target was never asked: %s" % target[-3:])
    expect(want[:len(r.out)] == r.out, "delivered bytes are not a prefix")
    m = re.search(r"resume with: (.*)$", r.err, re.M)
    expect(m is None or "localhost" not in m.group(1),
           "the resume hint names the target: %s" % r.err[-400:])
