#!/usr/bin/env python3
"""A real S3 server on loopback: a one-node Ceph cluster kept in memory
(one monitor, one memstore OSD) and its RADOS Gateway, which checks
SigV4 signatures for real.

Usage: s3server.py DIR
Everything lives in DIR. The gateway generates the S3 user's keys; they
are written to DIR/keys.json (mode 0600), never to a command line. Prints
"PORT <n> STS <m>" once both gateways answer (the second with STS on)
and the user exists, then waits; on SIGTERM or SIGINT
it stops the daemons (its own children, run in the foreground) by PID and
exits. The daemons also get SIGKILL if this server dies any other way.
On failure it prints "ERROR <why>" and exits 1.
"""
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time

DIR = os.path.abspath(sys.argv[1])
FSID = "6f1b1a52-8f0c-4f3e-9d3a-5b0e2f0c7a11"
# Encrypts the session tokens the gateway's STS hands out (16 bytes).
STS_KEY = os.urandom(8).hex()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


MON_PORT = free_port()
RGW_PORT = free_port()
# A second gateway with STS on, for session tokens. Kept apart because
# with STS in the chain a wrong secret is answered AccessDenied instead
# of SignatureDoesNotMatch.
STS_PORT = free_port()
CONF = os.path.join(DIR, "ceph.conf")
DAEMONS = []  # Popen objects: the daemons run in the foreground


def die_with_parent():
    """In the child before exec: SIGKILL when this server dies, however it
    dies, so no daemon outlives a test run."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def daemon(*args):
    DAEMONS.append(subprocess.Popen(
        list(args) + ["-f"], cwd=DIR, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, preexec_fn=die_with_parent))


def sh(*args, check=True, timeout=60):
    p = subprocess.run(list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, text=True,
                       cwd=DIR)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args[:3]),
                                       (p.stdout + p.stderr)[-800:]))
    return p.stdout


def ceph(*args, **kw):
    return sh("ceph", "-c", CONF, "--connect-timeout", "20", *args, **kw)


def write_conf():
    d = DIR
    conf = f"""[global]
fsid = {FSID}
mon_host = [v1:127.0.0.1:{MON_PORT}]
ms_bind_msgr2 = false
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
ms_bind_ipv4 = true
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = {d}/$name.keyring
run_dir = {d}/run
admin_socket = {d}/run/$name.asok
pid_file = {d}/run/$name.pid
log_file = {d}/log/$name.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_data = {d}/mon/$cluster-$id
osd_data = {d}/osd/$cluster-$id
osd_objectstore = memstore
memstore_device_bytes = 1610612736
osd_max_object_size = 134217728
[mon.a]
mon_initial_members = a
[client.rgw.a]
rgw_frontends = beast endpoint=127.0.0.1:{RGW_PORT}
rgw_dns_name = localhost
rgw_thread_pool_size = 64
rgw_enable_usage_log = false
[client.rgw.b]
rgw_frontends = beast endpoint=127.0.0.1:{STS_PORT}
rgw_dns_name = localhost
rgw_thread_pool_size = 16
rgw_enable_usage_log = false
rgw_s3_auth_use_sts = true
rgw_sts_key = {STS_KEY}
"""
    with open(CONF, "w") as f:
        f.write(conf)


def wait_for(what, fn, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            if fn():
                return
        except Exception:
            pass
        time.sleep(0.3)
    raise RuntimeError("timed out waiting for " + what)


def http_up(port):
    socket.create_connection(("127.0.0.1", port), 0.5).close()
    return True


def start():
    for sub in ("run", "log", "mon/ceph-a", "osd/ceph-0"):
        os.makedirs(os.path.join(DIR, sub), exist_ok=True)
    write_conf()
    mon_key = os.path.join(DIR, "mon.a.keyring")
    admin_key = os.path.join(DIR, "client.admin.keyring")
    sh("ceph-authtool", "--create-keyring", mon_key, "--gen-key", "-n",
       "mon.", "--cap", "mon", "allow *")
    sh("ceph-authtool", "--create-keyring", admin_key, "--gen-key", "-n",
       "client.admin", "--cap", "mon", "allow *", "--cap", "osd",
       "allow *", "--cap", "mds", "allow *", "--cap", "mgr", "allow *")
    sh("ceph-authtool", mon_key, "--import-keyring", admin_key)
    monmap = os.path.join(DIR, "monmap")
    sh("monmaptool", "--create", "--fsid", FSID, "--addv", "a",
       "[v1:127.0.0.1:%d]" % MON_PORT, monmap)
    sh("ceph-mon", "-c", CONF, "--mkfs", "-i", "a", "--monmap", monmap,
       "--keyring", mon_key)
    daemon("ceph-mon", "-c", CONF, "-i", "a")
    osd_id = ceph("osd", "new", "0b3c6e1e-1111-4a4a-9a9a-0123456789ab",
                  "-i", "/dev/null").strip()
    osd_key = os.path.join(DIR, "osd.%s.keyring" % osd_id)
    sh("ceph-osd", "-c", CONF, "-i", osd_id, "--mkfs", "--mkkey",
       "--no-mon-config",
       "--osd-uuid", "0b3c6e1e-1111-4a4a-9a9a-0123456789ab",
       "--keyring", osd_key)
    ceph("auth", "add", "osd." + osd_id, "osd", "allow *", "mon",
         "allow profile osd", "-i", osd_key)
    ceph("osd", "crush", "add", "osd." + osd_id, "1.0", "host=localhost",
         "root=default")
    daemon("ceph-osd", "-c", CONF, "-i", osd_id, "--keyring", osd_key)
    wait_for("the OSD", lambda: " 1 up" in ceph("osd", "stat"), 60)
    for gw in ("a", "b"):
        name = "client.rgw." + gw
        key = os.path.join(DIR, name + ".keyring")
        out = ceph("auth", "get-or-create", name, "mon", "allow rw", "osd",
                   "allow rwx")
        with open(key, "w") as f:
            f.write(out)
        daemon("radosgw", "-c", CONF, "-n", name, "--keyring", key)
    wait_for("the gateway", lambda: http_up(RGW_PORT), 90)
    wait_for("the STS gateway", lambda: http_up(STS_PORT), 90)
    # The gateway makes the keys; they reach the tests in a private file,
    # never on a command line.
    out = None

    def create_user():
        nonlocal out
        out = sh("radosgw-admin", "-c", CONF, "-n", "client.admin", "user",
                 "create", "--uid=tester", "--display-name=tester",
                 timeout=60)
        return True
    wait_for("the S3 user", create_user, 60)
    key = json.loads(out)["keys"][0]
    # May set its own IAM policy (to allow sts:GetSessionToken).
    sh("radosgw-admin", "-c", CONF, "-n", "client.admin", "caps", "add",
       "--uid=tester", "--caps=user-policy=*")
    path = os.path.join(DIR, "keys.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"access": key["access_key"], "secret": key["secret_key"]},
                  f)


def stop(*_):
    """SIGTERM to every daemon, SIGKILL to any still there after 2 s
    (memstore has nothing to flush; an OSD can take longer)."""
    for p in DAEMONS:
        p.terminate()
    end = time.time() + 2
    for p in DAEMONS:
        try:
            p.wait(timeout=max(0.1, end - time.time()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    sys.exit(0)


def main():
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        start()
    except Exception as e:  # report, clean up, and let the tests skip
        print("ERROR %s" % str(e).replace("\n", " ")[:600], flush=True)
        try:
            stop()
        except SystemExit:
            pass
        sys.exit(1)
    print("PORT %d STS %d" % (RGW_PORT, STS_PORT), flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
