# A hostile review of trust (issue 14 items 1 and 2): the AWS credential
# chain and expiring redirect targets, tried as a hostile helper or a
# careless configuration would. Exec'd into run.py's namespace after
# cases_awscreds.py, whose helpers (cenv, crun, home_dir, write) it uses.


def pid_gone(pid, within=3.0):
    """True once process pid no longer exists (a zombie counts as gone:
    it holds nothing)."""
    end = time.time() + within
    while time.time() < end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False


@case("credential_process that hangs, or exits leaving a child holding "
      "its stdout: killed after --connect-timeout + --stall-timeout")
def t_review6_process_hangs(env):
    home = home_dir(env, "home-r6-proc")
    k = {"Version": 1, "AccessKeyId": "AKIDR6PROCESS",
         "SecretAccessKey": "r6-process-secret-" + secrets.token_hex(6)}
    SECRETS.append(k["SecretAccessKey"])
    scripts = {}
    for name, body in (
            # Never prints, never exits.
            ("hang", "exec sleep 1000\n"),
            # Ignores SIGTERM while it waits.
            ("noterm", "trap '' TERM\nwhile :; do sleep 1; done\n"),
            # Prints good credentials, then its child keeps stdout open.
            ("child", "printf '%%s' '%s'\n(sleep 1000) &\necho $! > %s\n"
             "exit 0\n" % (json.dumps(k),
                           os.path.join(env.work, "r6-child.pid"))),
            # Prints good credentials, closes stdout and never exits.
            ("lingers", "printf '%%s' '%s'\nexec >&-\nexec sleep 1000\n"
             % json.dumps(k))):
        path = os.path.join(env.work, "r6-%s.sh" % name)
        write(path, "#!/bin/sh\n" + body, 0o700)
        scripts[name] = path
    write(os.path.join(home, ".aws", "config"), "".join(
        "[profile %s]\nendpoint_url = http://127.0.0.1:%d\n"
        "credential_process = %s\n\n" % (n, free_port(), p)
        for n, p in scripts.items()))
    for name in scripts:
        t0 = time.time()
        r = crun(env, ["--connect-timeout", "1", "--stall-timeout", "1",
                       "s3://rc-test/obj"],
                 cenv(env, home, AWS_PROFILE=name), timeout=60)
        took = time.time() - t0
        expect_run(r, 1, b"", err=r"(?m)^rangecat: credential_process of "
                   r"AWS profile %s did not finish within 2 s "
                   r"\(--connect-timeout \+ --stall-timeout\): killed$"
                   % name)
        expect(took < 10, "%s: the run took %.1f s" % (name, took))
    # The child it left is gone with its process group.
    with open(os.path.join(env.work, "r6-child.pid")) as f:
        child = int(f.read())
    gone = pid_gone(child)
    if not gone:
        os.kill(child, signal.SIGKILL)
    expect(gone, "credential_process's child %d still runs" % child)


@case("-x DIR: relative AWS_CONFIG_FILE and credential_process are the "
      "start directory's, never a file in DIR the archive could plant")
def t_review6_extract_relative(env):
    start = os.path.join(env.work, "r6-start")
    dest = os.path.join(start, "out")
    os.makedirs(os.path.join(dest, "bin"), exist_ok=True)
    home = home_dir(env, "home-r6-rel")
    k = {"Version": 1, "AccessKeyId": "AKIDR6REL",
         "SecretAccessKey": "r6-rel-secret-" + secrets.token_hex(6)}
    SECRETS.append(k["SecretAccessKey"])
    # The user's helper and config, in the start directory.
    os.makedirs(os.path.join(start, "bin"), exist_ok=True)
    write(os.path.join(start, "bin", "creds.sh"),
          "#!/bin/sh\ntouch ran-here\nprintf '%%s' '%s'\n" % json.dumps(k),
          0o700)
    port = free_port()
    write(os.path.join(start, "aws.cfg"),
          "[profile rel]\nendpoint_url = http://127.0.0.1:%d\n"
          "credential_process = bin/creds.sh\n" % port)
    # What an archive unpacked into DIR could hold under the same names.
    write(os.path.join(dest, "bin", "creds.sh"),
          "#!/bin/sh\ntouch planted-ran\nexit 9\n", 0o700)
    write(os.path.join(dest, "aws.cfg"), "[profile rel]\nregion = x y\n")
    e = dict(os.environ)
    for key, v in cenv(env, home, AWS_PROFILE="rel",
                       AWS_CONFIG_FILE="aws.cfg").items():
        if v is None:
            e.pop(key, None)
        else:
            e[key] = v
    p = subprocess.run([BIN, "-v", "--retries", "0", "-x", "out",
                        "s3://rc-test/a.tar"], cwd=start, env=e,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    r = Result(p.returncode, p.stdout, p.stderr.decode(errors="replace"))
    # Nothing listens at the endpoint: exit 3 after the credentials.
    expect_run(r, 3, b"", err=r"credentials from credential_process of AWS "
               r"profile rel")
    expect(os.path.exists(os.path.join(start, "ran-here")),
           "the helper did not run in the start directory")
    expect(not os.path.exists(os.path.join(dest, "planted-ran")) and
           not os.path.exists(os.path.join(start, "planted-ran")),
           "the file in DIR ran as credential_process")
