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
