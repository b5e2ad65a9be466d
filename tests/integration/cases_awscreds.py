# The AWS credential chain against the real Ceph gateway: profile files,
# credential_process, web identity (STS), container credentials and
# IMDSv2, the last three played by credserver.py with the gateway user's
# real keys and STS session credentials, claiming expiries of 6 s so a
# slow download (10 s) outlives several of them. Read into run.py's namespace.
import threading

# No case may reach the real instance metadata address (169.254.169.254)
# when it signs nothing: rangecat asks IMDS last when an s3:// URL has no
# other credentials. The IMDS case turns it back on for its own server.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

AWS_CLEAR = {k: None for k in (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_SESSION_NAME", "AWS_ENDPOINT_URL_STS",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")}


def cenv(env, home, **over):
    """A clean AWS environment (nothing from the caller's), HOME in
    home, instance metadata off unless asked for."""
    e = dict(AWS_CLEAR)
    e.update({"HOME": home, "AWS_EC2_METADATA_DISABLED": "true"})
    e.update(over)
    return e


def crun(env, args, envvars, **kw):
    """run() with AWS_CLEAR's variables removed, not merely emptied."""
    drop = [k for k, v in envvars.items() if v is None]
    saved = {k: os.environ.pop(k) for k in drop if k in os.environ}
    try:
        return run(env, ["-v"] + args,
                   envvars={k: v for k, v in envvars.items()
                            if v is not None}, **kw)
    finally:
        os.environ.update(saved)


def aws_sets(env):
    """[the user's keys, two STS session credential sets], once per run;
    every secret is added to SECRETS."""
    if getattr(env, "awssets", None):
        return env.awssets
    import boto3
    s3_setup(env)
    sts_ep = "http://127.0.0.1:%d" % env.stsport
    keys = dict(region_name="us-east-1",
                aws_access_key_id=env.s3keys["access"],
                aws_secret_access_key=env.s3keys["secret"])
    boto3.client("iam", endpoint_url=sts_ep, **keys).put_user_policy(
        UserName="tester", PolicyName="sts", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["sts:*", "s3:*"],
                           "Resource": "*"}]}))
    sts = boto3.client("sts", endpoint_url=sts_ep, **keys)
    sets = [{"access": env.s3keys["access"], "secret": env.s3keys["secret"],
             "token": None}]
    for _ in range(2):
        cr = sts.get_session_token(DurationSeconds=900)["Credentials"]
        SECRETS.extend([cr["SecretAccessKey"], cr["SessionToken"]])
        sets.append({"access": cr["AccessKeyId"],
                     "secret": cr["SecretAccessKey"],
                     "token": cr["SessionToken"]})
    env.awssets = sets
    return sets


def cred_server(env, sets, extra):
    """Starts credserver.py handing out sets; returns (Popen, port)."""
    path = os.path.join(env.work, "creds-%s.json" % secrets.token_hex(4))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(sets, f)
    e = dict(os.environ)
    # 6 s: refreshed at 3 s, leaving 3 s for a loaded machine to sign
    # its next request before the expiry.
    e["CRED_TTL"] = "6"
    e.update(extra)
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "credserver.py"),
                          path], stdout=subprocess.PIPE, text=True, env=e)
    env.procs.append(p)
    return p, int(p.stdout.readline().split()[1])


def cred_calls(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/calls" % port) as f:
        return json.load(f)


def slow_run(env, args, envvars, rate=2 * MB):
    """rangecat -v ARGS with its stdout read at about rate bytes/s, so the
    ring stays full and the run lasts; returns a Result."""
    e = dict(os.environ)
    for k, v in envvars.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    p = subprocess.Popen([BIN, "-v"] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=e)
    errbuf = []
    t = threading.Thread(target=lambda: errbuf.append(p.stderr.read()))
    t.start()
    out = bytearray()
    step = 128 * KB
    while True:
        b = p.stdout.read(step)
        if not b:
            break
        out += b
        time.sleep(step / rate)
    p.wait(timeout=120)
    t.join()
    return Result(p.returncode, bytes(out), errbuf[0].decode(errors="replace"))


def check_refreshed(calls, kind, least):
    """The endpoint was called at least least times, each time before
    the credentials it handed out last had expired."""
    mine = [c for c in calls if c["kind"] == kind]
    expect(len(mine) >= least, "%s called %d times, wanted %d or more" % (
        kind, len(mine), least))
    for a, b in zip(mine, mine[1:]):
        expect(b["at"] < a["expires"], "%s: called again %.2f s after the "
               "credentials expired" % (kind, b["at"] - a["expires"]))


SLOW_OBJ = "plain/obj"      # 20 MiB: about 10 s at 2 MiB/s
SLOW_ARGS = ["-n", "2", "--chunk-size", "256K", "--memory", "1M"]


def home_dir(env, name):
    h = os.path.join(env.work, name)
    os.makedirs(os.path.join(h, ".aws"), exist_ok=True)
    return h


def write(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)


@case("AWS profiles: credentials and config files, several profiles, "
      "credential_process, bad and missing files")
def t_aws_profiles(env):
    c, objs = s3_setup(env)
    want = objs["plain/obj"][:4 * MB]
    k = env.s3keys
    home = home_dir(env, "home-prof")
    bad_secret = other(k["secret"])
    write(os.path.join(home, ".aws", "credentials"), f"""# the default is wrong
[default]
aws_access_key_id = {k["access"]}
aws_secret_access_key = {bad_secret}

[rc]
aws_access_key_id = {k["access"]}
aws_secret_access_key = {k["secret"]}
""")
    proc = os.path.join(env.work, "credproc.sh")
    write(proc, "#!/bin/sh\nprintf '%s'\n" % json.dumps({
        "Version": 1, "AccessKeyId": k["access"],
        "SecretAccessKey": k["secret"]}), 0o700)
    failing = os.path.join(env.work, "credfail.sh")
    write(failing, "#!/bin/sh\necho 'leaking %s' >&2\nexit 3\n" % k["secret"],
          0o700)
    write(os.path.join(home, ".aws", "config"), f"""[default]
region = us-east-1
endpoint_url = {env.s3()}

[profile rc]
region = us-east-1
endpoint_url = {env.s3()}
s3 =
  addressing_style = path

[profile cfg]
endpoint_url = {env.s3()}
aws_access_key_id={k["access"]}
aws_secret_access_key={k["secret"]}

[profile proc]
endpoint_url = {env.s3()}
credential_process = {proc}

[profile fails]
endpoint_url = {env.s3()}
credential_process = {failing} --flag

[profile role]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = rc
""")
    url = "s3://rc-test/plain/obj"
    args = ["-r", "0-%d" % (4 * MB - 1), url]
    # A profile from the credentials file, its endpoint from config.
    r = crun(env, args, cenv(env, home, AWS_PROFILE="rc"))
    expect_run(r, 0, want, err=r"credentials from AWS profile rc "
               r"\(~/.aws/credentials\)")
    # Keys in the config file's [profile cfg].
    r = crun(env, args, cenv(env, home, AWS_PROFILE="cfg"))
    expect_run(r, 0, want, err=r"AWS profile cfg \(~/.aws/config\)")
    # credential_process.
    r = crun(env, args, cenv(env, home, AWS_PROFILE="proc"))
    expect_run(r, 0, want, err=r"credentials from credential_process of "
               r"AWS profile proc")
    # The default profile's wrong secret: refused, the source named.
    r = crun(env, args, cenv(env, home))
    expect_run(r, 2, b"", err=r"HTTP 403 .*S3 SignatureDoesNotMatch: the "
               r"credentials from AWS profile default \(~/.aws/credentials\)"
               r" were refused")
    # Keys in the environment come first.
    r = crun(env, args, cenv(env, home, AWS_ACCESS_KEY_ID=k["access"],
                             AWS_SECRET_ACCESS_KEY=k["secret"]))
    expect_run(r, 0, want, err=r"credentials: AWS_ACCESS_KEY_ID")
    # The files named by their variables.
    other_home = home_dir(env, "home-empty")
    r = crun(env, args, cenv(
        env, other_home, AWS_PROFILE="rc",
        AWS_SHARED_CREDENTIALS_FILE=os.path.join(home, ".aws", "credentials"),
        AWS_CONFIG_FILE=os.path.join(home, ".aws", "config")))
    expect_run(r, 0, want, err=r"AWS profile rc "
               r"\(AWS_SHARED_CREDENTIALS_FILE\)")
    # Errors name the variable, file, profile or exit status; no secret.
    r = crun(env, args, cenv(env, home, AWS_PROFILE="fails"))
    expect_run(r, 1, b"", err=r"^rangecat: credential_process of AWS "
               r"profile fails exited with status 3")
    r = crun(env, args, cenv(env, home, AWS_PROFILE="nosuch"))
    expect_run(r, 1, b"", err=r"^rangecat: AWS_PROFILE names profile "
               r"nosuch, which is in neither ~/.aws/credentials nor "
               r"~/.aws/config")
    r = crun(env, args, cenv(env, home, AWS_PROFILE="role"))
    expect_run(r, 1, b"", err=r"AWS profile role assumes a role "
               r"\(role_arn\), which rangecat does not support")
    r = crun(env, args, cenv(env, home, AWS_SHARED_CREDENTIALS_FILE=
                             os.path.join(env.work, "no-such-file")))
    expect_run(r, 1, b"", err=r"^rangecat: AWS_SHARED_CREDENTIALS_FILE "
               r"cannot be read: No such file")
    badini = os.path.join(env.work, "bad-config")
    for text, why in (
            ("[default]\nregion = us-east-1\nthis line is wrong\n",
             r"line 3: a line is neither"),
            ("region = x\n[default]\n", r"line 1: a line comes before"),
            ("[default\n", r"line 1: a section header lacks"),
            ("[default]\n[default]\n", r"line 2: a section appears twice"),
            ("[a]\nk = 1\nk = %s\n" % k["secret"], r"line 3: a key appears "
             r"twice")):
        write(badini, text)
        r = crun(env, args, cenv(env, home, AWS_CONFIG_FILE=badini))
        expect_run(r, 1, b"", err=r"^rangecat: bad AWS_CONFIG_FILE, " + why)
    # A half-set profile names the missing key.
    write(badini, "[profile half]\naws_access_key_id = AKIDHALF\n")
    r = crun(env, args, cenv(env, home, AWS_CONFIG_FILE=badini,
                             AWS_PROFILE="half"))
    expect_run(r, 1, b"", err=r"AWS profile half in AWS_CONFIG_FILE has "
               r"aws_access_key_id but not aws_secret_access_key")
    # The profile's region is used (a bad one is named as such).
    write(badini, "[default]\nregion = Not A Region\n")
    r = crun(env, args, cenv(env, other_home, AWS_CONFIG_FILE=badini))
    expect_run(r, 1, b"", err=r"bad region in the AWS profile: a region is like")


@case("AWS web identity: STS credentials that expire every 6 s outlived by "
      "a slow download; bad and unreadable tokens")
def t_aws_webid(env):
    c, objs = s3_setup(env)
    sets = aws_sets(env)[1:]        # STS hands out session credentials
    token = "eyJ-web-identity-" + secrets.token_hex(8)
    SECRETS.append(token)
    arn = "arn:aws:iam::123456789012:role/rc-reader"
    p, port = cred_server(env, sets, {"CRED_WEBID_TOKEN": token,
                                      "CRED_ROLE_ARN": arn})
    try:
        home = home_dir(env, "home-webid")
        tokfile = os.path.join(env.work, "webid-token")
        write(tokfile, token + "\n")
        e = cenv(env, home, AWS_ROLE_ARN=arn,
                 AWS_WEB_IDENTITY_TOKEN_FILE=tokfile,
                 AWS_ENDPOINT_URL_STS="http://127.0.0.1:%d/sts" % port,
                 AWS_ENDPOINT_URL="http://127.0.0.1:%d" % env.stsport,
                 AWS_REGION="us-east-1")
        t0 = time.time()
        r = slow_run(env, SLOW_ARGS + ["s3://rc-test/" + SLOW_OBJ], e)
        took = time.time() - t0
        expect_run(r, 0, objs[SLOW_OBJ], err=r"credentials from web "
                   r"identity \(AWS_WEB_IDENTITY_TOKEN_FILE\), expire in")
        expect(took > 6, "the run took only %.1f s" % took)
        check_refreshed(cred_calls(port), "sts", 3)
        expect("about to expire: fetching new ones" in r.err,
               "no refresh logged")
        # A wrong token: STS refuses, the variable is named.
        write(tokfile, "not-the-token\n")
        r = crun(env, ["s3://rc-test/plain/obj"], e)
        expect_run(r, 2, b"", err=r"^rangecat: STS AssumeRoleWithWebIdentity "
                   r"for AWS_ROLE_ARN answered HTTP 400 "
                   r"\(InvalidIdentityToken\): check the token in "
                   r"AWS_WEB_IDENTITY_TOKEN_FILE")
        # Unreadable (a directory) and missing token files.
        r = crun(env, ["s3://rc-test/plain/obj"],
                 dict(e, AWS_WEB_IDENTITY_TOKEN_FILE=env.work))
        expect_run(r, 1, b"", err=r"^rangecat: AWS_WEB_IDENTITY_TOKEN_FILE "
                   r"names a file that cannot be read: Is a directory")
        r = crun(env, ["s3://rc-test/plain/obj"],
                 dict(e, AWS_WEB_IDENTITY_TOKEN_FILE=tokfile + ".gone"))
        expect_run(r, 1, b"", err=r"AWS_WEB_IDENTITY_TOKEN_FILE names a "
                   r"file that cannot be read: No such file")
        r = crun(env, ["s3://rc-test/plain/obj"],
                 dict(e, AWS_WEB_IDENTITY_TOKEN_FILE=None))
        expect_run(r, 1, b"", err=r"^rangecat: AWS_ROLE_ARN is set but "
                   r"AWS_WEB_IDENTITY_TOKEN_FILE is not")
        # The wrong role: AccessDenied, exit 2.
        write(tokfile, token)
        r = crun(env, ["s3://rc-test/plain/obj"],
                 dict(e, AWS_ROLE_ARN=arn + "-other"))
        expect_run(r, 2, b"", err=r"HTTP 403 \(AccessDenied\)")
    finally:
        p.terminate()
        p.wait(timeout=10)


@case("AWS container credentials: token file, refresh during a slow "
      "download, a wrong token, a refused host")
def t_aws_container(env):
    c, objs = s3_setup(env)
    sets = aws_sets(env)           # keys and session credentials in turn
    ctok = "ctok-" + secrets.token_hex(8)
    SECRETS.append(ctok)
    p, port = cred_server(env, sets, {"CRED_CONTAINER_TOKEN": ctok})
    try:
        home = home_dir(env, "home-cont")
        tokfile = os.path.join(env.work, "container-token")
        write(tokfile, ctok + "\n")
        e = cenv(env, home,
                 AWS_CONTAINER_CREDENTIALS_FULL_URI=
                 "http://127.0.0.1:%d/container/v2/creds" % port,
                 AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=tokfile,
                 AWS_ENDPOINT_URL="http://127.0.0.1:%d" % env.stsport)
        r = slow_run(env, SLOW_ARGS + ["s3://rc-test/" + SLOW_OBJ], e)
        expect_run(r, 0, objs[SLOW_OBJ], err=r"credentials from container "
                   r"credentials \(AWS_CONTAINER_CREDENTIALS_FULL_URI\)")
        check_refreshed(cred_calls(port), "container", 3)
        # The token in the variable instead of a file.
        r = crun(env, ["-r", "0-999999", "s3://rc-test/plain/obj"],
                 dict(e, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=None,
                      AWS_CONTAINER_AUTHORIZATION_TOKEN=ctok))
        expect_run(r, 0, objs["plain/obj"][:1000000])
        r = crun(env, ["s3://rc-test/plain/obj"],
                 dict(e, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=None,
                      AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong"))
        expect_run(r, 2, b"", err=r"^rangecat: the container credentials "
                   r"endpoint \(AWS_CONTAINER_CREDENTIALS_FULL_URI\) "
                   r"answered HTTP 401: check "
                   r"AWS_CONTAINER_AUTHORIZATION_TOKEN")
        r = crun(env, ["s3://rc-test/plain/obj"],
                 dict(e, AWS_CONTAINER_CREDENTIALS_FULL_URI=
                      "http://192.0.2.1/creds"))
        expect_run(r, 1, b"", err=r"AWS_CONTAINER_CREDENTIALS_FULL_URI is "
                   r"refused")
    finally:
        p.terminate()
        p.wait(timeout=10)


@case("AWS IMDSv2: credentials refreshed during a slow download; off, or "
      "absent, means unsigned without a wait")
def t_aws_imds(env):
    c, objs = s3_setup(env)
    sets = aws_sets(env)
    p, port = cred_server(env, sets, {})
    try:
        home = home_dir(env, "home-imds")
        e = cenv(env, home, AWS_EC2_METADATA_DISABLED=None,
                 AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:%d/"
                 % port,
                 AWS_ENDPOINT_URL="http://127.0.0.1:%d" % env.stsport)
        r = slow_run(env, SLOW_ARGS + ["s3://rc-test/" + SLOW_OBJ], e)
        expect_run(r, 0, objs[SLOW_OBJ], err=r"credentials from EC2 instance "
                   r"metadata \(IMDSv2\)")
        check_refreshed(cred_calls(port), "imds", 3)
        # Off: unsigned, refused as such.
        r = crun(env, ["s3://rc-test/plain/obj"],
                 dict(e, AWS_EC2_METADATA_DISABLED="true"))
        expect_run(r, 2, b"", err=r"HTTP 403 .*not signed")
        # Nothing listening: unsigned after one quick attempt.
        t0 = time.time()
        r = crun(env, ["s3://rc-test/plain/obj"],
                 dict(e, AWS_EC2_METADATA_SERVICE_ENDPOINT=
                      "http://127.0.0.1:%d" % free_port()))
        expect_run(r, 2, b"", err=r"EC2 instance metadata could not be "
                   r"reached.*\n(.*\n)*.*HTTP 403 .*not signed")
        expect(time.time() - t0 < 5, "waited %.1f s for absent metadata" %
               (time.time() - t0))
    finally:
        p.terminate()
        p.wait(timeout=10)
