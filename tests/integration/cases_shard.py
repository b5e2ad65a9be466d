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


class Slurm:
    """A single-node Slurm of Debian's slurmctld and slurmd (and munged
    for their authentication) in a scratch directory, on random loopback
    ports; stopped by PID."""

    def __init__(self, env):
        for prog in ("munged", "slurmctld", "slurmd", "sbatch"):
            if shutil.which(prog) is None and not os.path.exists(
                    "/usr/sbin/" + prog):
                raise Skip("%s is not installed (make deps)" % prog)
        self.dir = d = os.path.join(env.work, "slurm")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "state"))
        os.makedirs(os.path.join(d, "spool"))
        self.procs = []
        key = os.path.join(d, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        sock = os.path.join(d, "munge.sock")
        self.spawn(["/usr/sbin/munged", "-F", "-f", "--socket=" + sock,
                    "--key-file=" + key, "--pid-file=" + d + "/munge.pid",
                    "--seed-file=" + d + "/munge.seed",
                    "--log-file=" + d + "/munge.log"])
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        host = socket.gethostname()
        self.conf = os.path.join(d, "slurm.conf")
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=rctest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/ctld.pid
SlurmdPidFile={d}/d.pid
SlurmctldLogFile={d}/ctld.log
SlurmdLogFile={d}/d.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmdParameters=config_overrides
NodeName={host} NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
PartitionName=t Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.spawn(["/usr/sbin/slurmctld", "-D", "-f", self.conf])
        self.spawn(["/usr/sbin/slurmd", "-D", "-f", self.conf, "-N", host])
        for _ in range(100):
            p = subprocess.run(["sinfo", "-h", "-o", "%t"], env=self.env,
                               capture_output=True, text=True)
            if p.stdout.strip() == "idle":
                return
            time.sleep(0.1)
        self.stop()
        raise Fail("the single-node Slurm did not come up: %s"
                   % (p.stdout + p.stderr)[-300:])

    def spawn(self, cmd):
        self.procs.append(subprocess.Popen(
            cmd, env=dict(os.environ, SLURM_CONF=getattr(self, "conf", "")),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def sbatch(self, args, envvars):
        """Submits an array job and waits for it (polling squeue, faster
        than sbatch --wait); returns {task id: exit status}, from the
        records slurmctld keeps of finished jobs."""
        e = dict(self.env)
        e.update(envvars)
        p = subprocess.run(["sbatch", "--parsable", "--cpus-per-task=1",
                            "-o", os.path.join(self.dir, "task-%a.out")]
                           + args, env=e, capture_output=True, text=True,
                           timeout=60)
        expect(p.returncode == 0, "sbatch: %s" % p.stderr[-300:])
        job = p.stdout.strip().split(";")[0]
        deadline = time.time() + 120
        while time.time() < deadline:
            q = subprocess.run(["squeue", "-h", "-j", job], env=self.env,
                               capture_output=True, text=True)
            if q.returncode == 0 and not q.stdout.strip():
                break
            time.sleep(0.2)
        out = subprocess.run(["scontrol", "-o", "show", "job", job],
                             env=self.env, capture_output=True,
                             text=True).stdout
        status = {}
        for line in out.splitlines():
            t = re.search(r"\bArrayTaskId=(\d+)\b", line)
            x = re.search(r"\bExitCode=(\d+):(\d+)", line)
            if t and x:
                # ExitCode=status:signal
                code, sig = int(x.group(1)), int(x.group(2))
                status[int(t.group(1))] = 128 + sig if sig else code
        return status

    def stop(self):
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


@case("contrib slurm-array.sh through a real single-node Slurm (slurmctld, "
      "slurmd): sbatch --array=1-4, a failed task re-run alone with "
      "--array=3, the join exact")
def t_shard_slurmd(env):
    slurm = Slurm(env)
    try:
        script = os.path.join(SHARD, "slurm-array.sh")
        d = os.path.join(env.work, "slurmd-shards")
        shutil.rmtree(d, ignore_errors=True)
        # Task 3 is cut off after a second on its first run (a node
        # lost, a time limit).
        fake = fake_rangecat(env, "slurm-fake", '''
case "$*" in *"--shard 3/4"*)
    if [ ! -e "$(dirname "$0")/cut" ]; then
        touch "$(dirname "$0")/cut"
        exec timeout --preserve-status -s TERM 1 "$REAL" "$@"
    fi;;
esac
exec "$REAL" "$@"''')
        e = {"PATH": shard_env(fake)["PATH"], "RANGECAT_CONNECTIONS": "2"}
        url = env.url("slow/f20971520")
        st = slurm.sbatch(["--array=1-4", script, url, d, "4"], e)
        expect(st == {1: 0, 2: 0, 3: 143, 4: 0}, "the array's exit "
               "statuses: %r" % st)
        expect(sorted(os.listdir(d)) == ["1", "2", "3.part", "4"],
               "after the array: %r" % sorted(os.listdir(d)))
        st = slurm.sbatch(["--array=3", script, url, d, "4"], e)
        expect(st == {3: 0}, "the re-run of 3: %r %s" % (
            st, open(os.path.join(slurm.dir, "task-3.out")).read()[-300:]))
        joined = b"".join(open(os.path.join(d, str(k)), "rb").read()
                          for k in (1, 2, 3, 4))
        expect(joined == env.files["f20971520"], "the joined shards differ")
    finally:
        slurm.stop()


@case("RANGECAT_SHARD: the resume hint names --shard, which its -C would "
      "otherwise drop")
def t_shard_env_hint(env):
    # On the command line -C sets the group --shard belongs to, and drops
    # what the environment set for it: the hint without --shard fetched
    # the rest of the whole file and exited 0.
    data = env.files["f20971520"]
    q = len(data) // 4
    r = run(env, ["-q", "-n", "2", "--chunk-size", "1M", "--retries", "0",
                  env.furl("shenv", "s404@3", "f20971520")],
            envvars={"RANGECAT_SHARD": "2/4"})
    expect_run(r, 2, None, err=r"resume with: rangecat -C \d+ "
               r"--if-match \S+ --shard 2/4 ")
    resume(env, r, data[q:2 * q])
