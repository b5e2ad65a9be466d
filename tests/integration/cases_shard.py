# The shard examples of contrib/shard/ run as shipped: GNU parallel
# (locally and through --sshlogin ':'), the Slurm array script (run with
# the variables Slurm sets), the Kubernetes Indexed Job (its YAML parsed,
# its command run with the environment it sets). Each joined output is
# compared with the original. (Exec'd into run.py's namespace.)

SHARD = os.path.join(ROOT, "contrib", "shard")


def fake_rangecat(env, name, script):
    """A directory holding a `rangecat` that logs its arguments to
    name.log, then runs script (sh, $REAL is the real binary); first on
    PATH it stands in for rangecat."""
    d = os.path.join(env.work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "rangecat")
    with open(path, "w") as f:
        f.write('#!/bin/sh\nREAL=%s\necho "$*" >> %s\n%s\n'
                % (shlex.quote(BIN), shlex.quote(os.path.join(d, "log")),
                   script))
    os.chmod(path, 0o755)
    return d


def shard_env(*front, **more):
    e = dict(os.environ)
    e["PATH"] = ":".join(list(front) + [ROOT, os.environ["PATH"]])
    e.pop("http_proxy", None)
    e.update(more)
    return e


def parallel_sh(env, url, out, n, e, timeout=120):
    return subprocess.run([os.path.join(SHARD, "parallel.sh"), url, out,
                           str(n)], capture_output=True, env=e,
                          timeout=timeout)


@case("contrib parallel.sh: a failed shard keeps the others; the same "
      "command resumes it alone and the join is exact, locally and "
      "through --sshlogin")
def t_shard_parallel(env):
    data = env.files["f20971520"]
    for sshlogin in ("", ":"):
        out = os.path.join(env.work, "par-resume.out")
        shutil.rmtree(out + ".shards", ignore_errors=True)
        if os.path.exists(out):
            os.unlink(out)
        # Shard 3 of 4 is cut off after a second on its first run (2 of
        # the 1 MiB/s connections: 5 MiB take 2.5 s), as a lost machine
        # or a time limit would end it.
        fake = fake_rangecat(env, "par-fake", '''
case "$*" in *"--shard 3/4"*)
    if [ ! -e "$(dirname "$0")/cut" ]; then
        touch "$(dirname "$0")/cut"
        exec timeout --preserve-status -s TERM 1 "$REAL" "$@"
    fi;;
esac
exec "$REAL" "$@"''')
        e = shard_env(fake, SSHLOGIN=sshlogin, RANGECAT_CONNECTIONS="2")
        url = env.url("slow/f20971520")
        p = parallel_sh(env, url, out, 4, e)
        err = p.stderr.decode(errors="replace")
        expect(p.returncode == 143, "%r: exit %d, wanted 143 (shard 3's): "
               "%s" % (sshlogin, p.returncode, err[-500:]))
        expect(re.search(r"shard 3 of 4 failed.*\n.*parallel\.sh .*"
                         r"par-resume\.out 4", err),
               "no resume command: %s" % err[-500:])
        expect(not os.path.exists(out), "a joined file after a failure")
        sd = out + ".shards"
        part = os.path.join(sd, "3.part")
        expect(sorted(os.listdir(sd)) == ["1", "2", "3.part", "4", "etag",
                                          "joblog"],
               "shards kept: %r" % sorted(os.listdir(sd)))
        got = os.path.getsize(part)
        expect(0 < got < 5 * MB, "shard 3 partial: %d bytes" % got)
        open(os.path.join(fake, "log"), "w").close()
        p = parallel_sh(env, url, out, 4, e)
        expect(p.returncode == 0, "%r: the resume: exit %d: %s"
               % (sshlogin, p.returncode, p.stderr[-500:]))
        calls = open(os.path.join(fake, "log")).read().splitlines()
        expect(len(calls) == 1 and "--shard 3/4" in calls[0] and
               ("-C %d " % got) in calls[0] and "--if-match" in calls[0],
               "the resume ran %r, wanted shard 3 alone from byte %d, "
               "pinned" % (calls, got))
        expect(open(out, "rb").read() == data, "%r: the joined file "
               "differs" % sshlogin)
        expect(not os.path.exists(sd), "the shards stayed after the join")
    # Replaced between the runs: the resumed shard is refused (its
    # If-Match fails: exit 4, changed), never spliced, and the kept
    # shards stay.
    out = os.path.join(env.work, "par-moved.out")
    shutil.rmtree(out + ".shards", ignore_errors=True)
    env.add("par-moving", os.urandom(8 * MB))
    open(os.path.join(fake, "log"), "w").close()
    os.unlink(os.path.join(fake, "cut"))
    e = shard_env(fake, RANGECAT_CONNECTIONS="1")
    p = parallel_sh(env, env.url("slow/par-moving"), out, 4, e)
    expect(p.returncode == 143, "exit %d" % p.returncode)
    env.add("par-moving", os.urandom(8 * MB))
    t = time.time() + 7200      # another Last-Modified, another ETag
    os.utime(os.path.join(env.data, "par-moving"), (t, t))
    p = parallel_sh(env, env.url("slow/par-moving"), out, 4, e)
    expect(p.returncode == 4, "another version: exit %d, wanted 4: %s"
           % (p.returncode, p.stderr[-400:]))
    expect(re.search(r"changed since the first run.*remove .*"
                     r"par-moved\.out\.shards", p.stderr.decode()),
           "no advice: %r" % p.stderr[-400:])
    expect(not os.path.exists(out), "a joined file of two versions")
    expect(os.path.exists(os.path.join(out + ".shards", "1")),
           "the kept shards were removed")


@case("contrib slurm-array.sh, run with the variables Slurm sets "
      "(no slurmd): N explicit, a re-run of failed indices, 0-based "
      "arrays refused")
def t_shard_slurm(env):
    script = os.path.join(SHARD, "slurm-array.sh")
    data = env.files["f20971520"]
    d = os.path.join(env.work, "slurm-shards")
    shutil.rmtree(d, ignore_errors=True)
    url = env.url("slow/f20971520")

    def task(k, ids, **more):
        # What sbatch --array=<ids> sets in task k's environment.
        e = shard_env(SLURM_ARRAY_JOB_ID="41", SLURM_JOB_ID=str(41 + k),
                      SLURM_ARRAY_TASK_ID=str(k),
                      SLURM_ARRAY_TASK_COUNT=str(len(ids)),
                      SLURM_ARRAY_TASK_MIN=str(min(ids)),
                      SLURM_ARRAY_TASK_MAX=str(max(ids)),
                      RANGECAT_CONNECTIONS="2", **more)
        return subprocess.run(["bash", script, url, d, "4"], env=e,
                              capture_output=True, timeout=120)

    # sbatch --array=1-4; task 3 hits its time limit (--max-time 1).
    for k in (1, 2, 3, 4):
        p = task(k, [1, 2, 3, 4],
                 **({"RANGECAT_MAX_TIME": "1"} if k == 3 else {}))
        expect(p.returncode == (3 if k == 3 else 0), "task %d: exit %d: %s"
               % (k, p.returncode, p.stderr[-300:]))
    expect(sorted(os.listdir(d)) == ["1", "2", "3.part", "4"],
           "after a failed task: %r" % sorted(os.listdir(d)))
    # sbatch --array=3: one task, SLURM_ARRAY_TASK_COUNT=1; N stays 4.
    p = task(3, [3])
    expect(p.returncode == 0, "re-run of 3: %r" % p.stderr[-300:])
    # A task of a complete shard does nothing.
    p = task(1, [1, 3])
    expect(p.returncode == 0 and b"already complete" in p.stderr,
           "re-run of a complete shard: %r" % p.stderr[-300:])
    joined = b"".join(open(os.path.join(d, str(k)), "rb").read()
                      for k in (1, 2, 3, 4))
    expect(joined == data, "the joined shards differ")
    # --array=0-3 and an index over N: refused with the fix, not a shard.
    for k, ids in ((0, [0, 1, 2, 3]), (5, [1, 5])):
        p = task(k, ids)
        expect(p.returncode == 1 and b"not one of 1-4" in p.stderr,
               "index %d: exit %d %r" % (k, p.returncode, p.stderr[-300:]))
    p = subprocess.run(["bash", script, url, d], capture_output=True,
                       env=shard_env(SLURM_ARRAY_TASK_ID="1"))
    expect(p.returncode == 1 and b"usage" in p.stderr, "without N: %r"
           % p.stderr[-300:])


@case("contrib k8s-indexed-job.yaml: parses, non-root with fsGroup on a "
      "ReadWriteMany claim, and its command run for each index joins "
      "exactly")
def t_shard_k8s(env):
    import yaml
    with open(os.path.join(SHARD, "k8s-indexed-job.yaml")) as f:
        docs = [x for x in yaml.safe_load_all(f) if x]
    kinds = {x["kind"]: x for x in docs}
    expect(set(kinds) == {"Job", "PersistentVolumeClaim"},
           "objects %r" % list(kinds))
    pvc, job = kinds["PersistentVolumeClaim"], kinds["Job"]
    expect(pvc["spec"]["accessModes"] == ["ReadWriteMany"],
           "claim access %r" % pvc["spec"]["accessModes"])
    spec = job["spec"]
    pod = spec["template"]["spec"]
    sc = pod["securityContext"]
    expect(sc.get("runAsNonRoot") is True and sc.get("runAsUser") == 10001
           and sc.get("fsGroup") == 10001, "pod securityContext %r" % sc)
    expect(spec["completionMode"] == "Indexed", "not an Indexed Job")
    n = spec["completions"]
    claims = [v["persistentVolumeClaim"]["claimName"]
              for v in pod["volumes"]]
    expect(claims == [pvc["metadata"]["name"]], "volumes %r" % claims)
    c = pod["containers"][0]
    mount = c["volumeMounts"][0]["mountPath"]
    d = os.path.join(env.work, "k8s-shards")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    # The pod's command, with the Job's env, the test's URL and the
    # mount point where the test has its directory.
    cmd = [x.replace(mount, d) for x in c["command"] + c["args"]]
    for i in range(n):
        e = shard_env(JOB_COMPLETION_INDEX=str(i))
        for v in c["env"]:
            e[v["name"]] = v["value"]
        e["OBJECT_URL"] = env.url("f20971520")
        p = subprocess.run(cmd, env=e, capture_output=True, timeout=120)
        expect(p.returncode == 0, "index %d: %r" % (i, p.stderr[-300:]))
    joined = b"".join(open(os.path.join(d, str(k)), "rb").read()
                      for k in range(1, n + 1))
    expect(joined == env.files["f20971520"], "the joined shards differ")
