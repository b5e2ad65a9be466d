# A far link: a real network path on this machine, the TCP handshake
# included, for cases that need a server to be far (rangecat judges that
# from the round trip of its first request's connection, which
# farproxy.py on loopback cannot delay).
#
# env.far_link(delay_ms) makes two network namespaces of this run
# ("rcit<pid>-<delay>s", the server side, and "...c", the client side)
# joined by bench/netlink/netlink with a one-way delay of delay_ms on
# point-to-point addresses FAR_SRV_IP and FAR_CLI_IP; once per Env and
# delay, reused after. link.expose(port) puts a farproxy.py (no delay of
# its own) in the server namespace on FAR_SRV_IP, relaying to
# 127.0.0.1:port in this namespace, where the tests' servers are, and
# returns its base URL; run(env, args, netns=link.client) runs rangecat
# in the client namespace. Every process is stopped by PID and the
# namespaces deleted when the Env stops (env.cleanups). Without root,
# /dev/net/tun, ip(8) or the built emulator the cases skip, saying why.
#
# Read into run.py's namespace before the cases files (see the end of
# run.py), so it uses Env, Skip, ROOT and the rest as they do.

FAR_SRV_IP, FAR_CLI_IP = "10.201.0.1", "10.201.0.2"
NETLINK = os.path.join(ROOT, "bench", "netlink", "netlink")
FAR_NS_PREFIX = "rcit"


def far_sh(args, what):
    """Runs a command of the link's setup; a failure raises Skip."""
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Skip("no far link: %s: %s" % (what, e))
    if p.returncode != 0:
        raise Skip("no far link: %s: %s" % (
            what, (p.stderr or p.stdout).strip()[-300:]))
    return p.stdout


def far_die_with_parent():
    """The prefix that has a child get SIGTERM should this runner die
    without its teardown (killed): util-linux setpriv, when there."""
    if shutil.which("setpriv"):
        return ["setpriv", "--pdeathsig", "TERM", "--"]
    return []


def far_sweep():
    """Deletes the namespaces a runner killed before its teardown left
    behind: ours by name, whose runner's PID is gone."""
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return
    for name in names:
        m = re.fullmatch(FAR_NS_PREFIX + r"(\d+)-[0-9p]+[sc]", name)
        if m and int(m.group(1)) != os.getpid() and \
                not os.path.exists("/proc/" + m.group(1)):
            subprocess.run(["ip", "netns", "del", name],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


class FarLink:
    """Two namespaces, the emulator between them, and the relays into
    the server namespace; all undone by close()."""

    def __init__(self, env, delay_ms):
        self.env, self.delay_ms = env, delay_ms
        tag = ("%g" % delay_ms).replace(".", "p")
        self.server = "%s%d-%ss" % (FAR_NS_PREFIX, os.getpid(), tag)
        self.client = "%s%d-%sc" % (FAR_NS_PREFIX, os.getpid(), tag)
        self.namespaces = []   # those made, to delete
        self.procs = []        # stopped by PID in close()
        self.exposed = {}      # upstream port -> base URL

    def up(self):
        if os.geteuid() != 0:
            raise Skip("no far link: network namespaces need root")
        if not os.path.exists("/dev/net/tun"):
            raise Skip("no far link: no /dev/net/tun")
        if not shutil.which("ip"):
            raise Skip("no far link: ip(8) is missing (iproute2)")
        if not os.access(NETLINK, os.X_OK):
            raise Skip("no far link: %s is not built (make "
                       "bench/netlink/netlink; make check builds it)" %
                       os.path.relpath(NETLINK, ROOT))
        far_sweep()
        for ns in (self.server, self.client):
            far_sh(["ip", "netns", "add", ns], "ip netns add " + ns)
            self.namespaces.append(ns)
        # The link, at a higher priority than the processes sharing the
        # cores, as bench/run.py runs it: a link is not to be scheduled
        # out. -g: superpackets (no loss asked, so no need of segments).
        with self.log("netlink") as log:
            p = subprocess.Popen(
                far_die_with_parent() + [
                    "nice", "-n", "-15", NETLINK, "-a", self.server,
                    "-A", "rcit0", "-b", self.client, "-B", "rcit1",
                    "-d", "%g" % self.delay_ms, "-g"],
                stdout=subprocess.PIPE, stderr=log, text=True)
        self.procs.append(p)
        if p.stdout.readline().strip() != "ready":
            self.close()
            raise Skip("no far link: netlink: " + self.read_log("netlink"))
        s, c = self.server, self.client
        for args in (
                ["-n", s, "addr", "add", FAR_SRV_IP, "peer", FAR_CLI_IP,
                 "dev", "rcit0"],
                ["-n", c, "addr", "add", FAR_CLI_IP, "peer", FAR_SRV_IP,
                 "dev", "rcit1"],
                ["-n", s, "link", "set", "lo", "up"],
                ["-n", c, "link", "set", "lo", "up"],
                ["-n", s, "link", "set", "rcit0", "up", "txqueuelen",
                 "10000"],
                ["-n", c, "link", "set", "rcit1", "up", "txqueuelen",
                 "10000"]):
            far_sh(["ip"] + args, "ip " + " ".join(args))
        return self

    def log_path(self, name):
        """Where a process of the link writes its stderr (in the scratch
        directory, kept when a case fails)."""
        return os.path.join(self.env.work, "farlink-%s-%s.log" % (
            self.server, name))

    def log(self, name):
        return open(self.log_path(name), "w")

    def read_log(self, name):
        path = self.log_path(name)
        try:
            with open(path) as f:
                return f.read().strip()[-400:] or "(nothing said)"
        except OSError:
            return "(no log)"

    def expose(self, port):
        """http://FAR_SRV_IP:<p>/ across the link to 127.0.0.1:port here:
        a farproxy.py with no delay listening in the server namespace."""
        if port in self.exposed:
            return self.exposed[port]
        with self.log("farproxy-%d" % port) as log:
            p = subprocess.Popen(
                far_die_with_parent() + [
                    sys.executable, os.path.join(HERE, "farproxy.py"),
                    str(port), "0", "--netns", self.server,
                    "--listen", FAR_SRV_IP, "--port", "0"],
                stdout=subprocess.PIPE, stderr=log, text=True)
        self.procs.append(p)
        line = p.stdout.readline()
        expect(line.startswith("PORT "), "farproxy.py in %s did not start: "
               "%s" % (self.server, self.read_log("farproxy-%d" % port)))
        url = "http://%s:%d/" % (FAR_SRV_IP, int(line.split()[1]))
        self.exposed[port] = url
        return url

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout:
                p.stdout.close()
        self.procs = []
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        self.namespaces = []


def far_link(self, delay_ms):
    """The Env's far link of delay_ms (one way), made on first use;
    raises Skip when this machine cannot make one (and again on every
    later call, without trying again)."""
    links = self.__dict__.setdefault("far_links", {})
    if delay_ms in links:
        link = links[delay_ms]
        if isinstance(link, Skip):
            raise link
        return link
    link = FarLink(self, delay_ms)
    self.cleanups.append(link.close)
    try:
        links[delay_ms] = link.up()
    except Skip as e:
        link.close()
        links[delay_ms] = e
        raise
    except BaseException:
        link.close()
        raise
    return link


Env.far_link = far_link
