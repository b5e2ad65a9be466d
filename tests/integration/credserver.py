#!/usr/bin/env python3
"""The AWS credential endpoints, for rangecat's credential-chain tests.

Usage: credserver.py CREDS.json
CREDS.json (mode 0600, never argv) holds a list of credential sets
[{"access": ..., "secret": ..., "token": ... or null}, ...]: the real
keys of the Ceph gateway's user, and session credentials its STS issued,
so the gateway checks every signature made with what this server hands
out. The file is read at every call; each call hands out the next set
in turn (so a run that kept using an old set with a new token, or the
reverse, would be refused), claiming an expiry CRED_TTL seconds ahead
(default 4; the cases use 6).

Plays three services:
  POST /sts                   STS AssumeRoleWithWebIdentity (XML); the
                              WebIdentityToken must equal CRED_WEBID_TOKEN
                              and RoleArn CRED_ROLE_ARN, else 400
                              InvalidIdentityToken / 403 AccessDenied
  GET  /container/<anything>  container credentials (JSON with Token);
                              Authorization must equal
                              CRED_CONTAINER_TOKEN when that is set
  PUT  /latest/api/token      IMDSv2: a session token; the GETs below
  GET  /latest/meta-data/iam/security-credentials/[rc-role]
                              need it (401 without: IMDSv1 is refused)
Paths under /fail/<status>/... answer that status instead.
GET /calls: JSON list of {"kind", "at", "expires"} per credential handed
out (times are time.time()). Prints "PORT <n>" once listening.
"""
import datetime
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from faultserver import serve  # the same loopback server

CREDS = sys.argv[1]
E = os.environ
TTL = float(E.get("CRED_TTL", "4"))
LOCK = threading.Lock()
CALLS = []
IMDS_TOKENS = set()


def iso(t):
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_set(kind):
    with open(CREDS) as f:
        sets = json.load(f)
    with LOCK:
        s = sets[len(CALLS) % len(sets)]
        now = time.time()
        # Whole seconds, as the services send them: the expiry is never
        # later than TTL from now.
        exp = int(now + TTL)
        CALLS.append({"kind": kind, "at": now, "expires": exp})
    return s, exp


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def fail_path(self):
        parts = self.path.split("/")
        if len(parts) > 2 and parts[1] == "fail":
            self.reply(int(parts[2]), "{}")
            return True
        return False

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n).decode()

    def do_PUT(self):
        self.body()
        if self.fail_path():
            return
        if self.path != "/latest/api/token" or \
                not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.reply(400, "{}")
            return
        tok = secrets.token_hex(16)
        with LOCK:
            IMDS_TOKENS.add(tok)
        self.reply(200, tok, "text/plain")

    def do_POST(self):
        form = urllib.parse.parse_qs(self.body())
        if self.fail_path():
            return
        if self.path != "/sts":
            self.reply(404, "{}")
            return
        one = {k: v[0] for k, v in form.items()}
        err = None
        if one.get("Action") != "AssumeRoleWithWebIdentity" or \
                one.get("Version") != "2011-06-15" or \
                not one.get("RoleSessionName"):
            err = (400, "InvalidAction")
        elif one.get("WebIdentityToken") != E.get("CRED_WEBID_TOKEN"):
            err = (400, "InvalidIdentityToken")
        elif one.get("RoleArn") != E.get("CRED_ROLE_ARN"):
            err = (403, "AccessDenied")
        if err:
            self.reply(err[0], "<ErrorResponse><Error><Type>Sender</Type>"
                       "<Code>%s</Code><Message>no</Message></Error>"
                       "</ErrorResponse>" % err[1], "text/xml")
            return
        s, exp = next_set("sts")
        if not s.get("token"):
            # STS always returns a session token; a set without one
            # cannot be handed out here.
            self.reply(500, "no token in this set")
            return
        self.reply(200, """<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:rc:rc</SubjectFromWebIdentityToken>
    <Credentials>
      <SessionToken>%s</SessionToken>
      <SecretAccessKey>%s</SecretAccessKey>
      <Expiration>%s</Expiration>
      <AccessKeyId>%s</AccessKeyId>
    </Credentials>
    <AssumedRoleUser><Arn>%s/%s</Arn></AssumedRoleUser>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>""" % (
            s["token"].replace("&", "&amp;"), s["secret"], iso(exp),
            s["access"], E.get("CRED_ROLE_ARN"), one["RoleSessionName"]),
            "text/xml")

    def do_GET(self):
        if self.fail_path():
            return
        if self.path == "/calls":
            with LOCK:
                self.reply(200, json.dumps(CALLS))
            return
        if self.path.startswith("/container/"):
            want = E.get("CRED_CONTAINER_TOKEN")
            if want and self.headers.get("Authorization") != want:
                self.reply(401, '{"message": "bad token"}')
                return
            s, exp = next_set("container")
            d = {"AccessKeyId": s["access"], "SecretAccessKey": s["secret"],
                 "Expiration": iso(exp), "RoleArn": "arn:aws:iam::1:role/x"}
            if s.get("token"):
                d["Token"] = s["token"]
            self.reply(200, json.dumps(d))
            return
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(base):
            with LOCK:
                ok = self.headers.get("X-aws-ec2-metadata-token") in \
                    IMDS_TOKENS
            if not ok:
                self.reply(401, "")
                return
            if self.path == base:
                self.reply(200, "rc-role", "text/plain")
                return
            if self.path != base + "rc-role":
                self.reply(404, "")
                return
            s, exp = next_set("imds")
            d = {"Code": "Success", "LastUpdated": iso(time.time()),
                 "Type": "AWS-HMAC", "AccessKeyId": s["access"],
                 "SecretAccessKey": s["secret"], "Expiration": iso(exp)}
            if s.get("token"):
                d["Token"] = s["token"]
            self.reply(200, json.dumps(d))
            return
        self.reply(404, "{}")


if __name__ == "__main__":
    serve(Handler)
