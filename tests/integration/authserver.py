#!/usr/bin/env python3
"""A range server that checks credentials, for rangecat's auth tests.

Secrets come from the environment (never argv): AUTH_TOKEN, AUTH_USER,
AUTH_PASSWORD, AUTH_HEADER_VALUE (for X-Api-Key), AUTH_HMAC_KEY,
AUTH_HMAC_KEY_ID, AUTH_CLIENT_ID, AUTH_CLIENT_SECRET. AUTH_TOKEN_TTL sets
the lifetime (seconds) of the OAuth tokens it issues.

Files: /a/<scheme>/<tag>/<file>, served from the data directory with
ranges, a strong ETag and If-Match, after checking the request's
credentials. scheme is one of
  bearer  basic  header  hmac  oauth    the credential that must be sent
  open                                  none (a redirect target)
Followed by optional flags joined with '+': "oauth+slow" sends bodies at
256 KiB/s, "oauth+revoke2" answers the 3rd and later requests' first
token use with 401 (the token is revoked), "bearer+away=PORT" sends a
302 to /a/open/<tag>/<file> on 127.0.0.1:PORT, "bearer+samehost" a 302
to /a/bearer/<tag>/<file> on this server, "bearer+loc" a 302 to the
URL in its query parameter loc (a presigned URL, say).

POST /token: the OAuth2 client-credentials endpoint (client id and secret
in HTTP Basic). POST /token-short: the same, but its tokens die after 1 s
while expires_in claims an hour (stale tokens meet 401s). POST /token-500 always fails with 500; /token-401 always
answers invalid_client; /token-mute reads the request and never answers.

GET /seen/<tag>: JSON list of the headers of every request with that tag
(what a second server received). GET /stats: JSON counters. GET /issued:
the tokens issued so far, so tests can check none of them leaks.
Prints "PORT <n>" on stdout once listening.
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from faultserver import serve  # the same loopback server

DATA = sys.argv[1] if len(sys.argv) > 1 else "."
E = os.environ
LOCK = threading.Lock()
TOKENS = {}          # token -> expiry (time.time())
REVOKED = set()
SEEN = {}            # tag -> [headers]
COUNT = {}           # tag -> requests
STATS = {"token_calls": 0, "token_ok": 0, "expired_401": 0,
         "revoked_401": 0, "hmac_ok": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        with LOCK:
            STATS["token_calls"] += 1
        if self.path == "/token-mute":
            time.sleep(60)     # a token endpoint that never answers
            self.close_connection = True
            return
        if self.path == "/token-500":
            return self.reply(500, b"down")
        if self.path == "/token-401":
            return self.reply(401, b'{"error":"invalid_client"}',
                              "application/json")
        if self.path not in ("/token", "/token-short"):
            return self.reply(404)
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (urllib.parse.quote(E["AUTH_CLIENT_ID"], safe=""),
                        urllib.parse.quote(E["AUTH_CLIENT_SECRET"], safe="")))
            .encode()).decode()
        if self.headers.get("Authorization") != want:
            return self.reply(401, b'{"error":"invalid_client"}',
                              "application/json")
        if form.get("grant_type") != ["client_credentials"]:
            return self.reply(400, b'{"error":"unsupported_grant_type"}',
                              "application/json")
        ttl = int(E.get("AUTH_TOKEN_TTL", "3600"))
        tok = "tok-" + secrets.token_hex(16)
        with LOCK:
            # /token-short lies: its tokens die after 1 s, whatever
            # expires_in says.
            real = 1 if self.path == "/token-short" else ttl
            TOKENS[tok] = time.time() + real
            STATS["token_ok"] += 1
        if self.path == "/token-short":
            ttl = 3600
        body = json.dumps({"access_token": tok, "token_type": "Bearer",
                           "expires_in": ttl,
                           "scope": form.get("scope", [""])[0]}).encode()
        self.reply(200, body, "application/json")

    def do_GET(self):
        if self.path == "/stats":
            with LOCK:
                return self.reply(200, json.dumps(STATS).encode())
        if self.path == "/issued":
            with LOCK:
                return self.reply(200, json.dumps(list(TOKENS)).encode())
        if self.path.startswith("/seen/"):
            with LOCK:
                seen = SEEN.get(self.path[6:], [])
                return self.reply(200, json.dumps(seen).encode())
        parts = self.path.split("?")[0].split("/", 4)
        if len(parts) != 5 or parts[1] != "a":
            return self.reply(404)
        flags = parts[2].split("+")
        scheme, tag, name = flags[0], parts[3], parts[4]
        with LOCK:
            SEEN.setdefault(tag, []).append(dict(self.headers.items()))
            n = COUNT.get(tag, 0)
            COUNT[tag] = n + 1
        if not self.authorized(scheme, flags, n):
            return
        for f in flags:
            if f == "loc":
                q = urllib.parse.parse_qs(self.path.split("?", 1)[1])
                return self.reply(302, extra=[("Location", q["loc"][0])])
            if f.startswith("away="):
                loc = "http://127.0.0.1:%s/a/open/%s/%s" % (f[5:], tag, name)
                return self.reply(302, extra=[("Location", loc)])
            if f == "samehost" and n == 0:
                return self.reply(302, extra=[
                    ("Location", "/a/bearer/%s/%s" % (tag, name))])
        self.serve(name, "slow" in flags)

    def authorized(self, scheme, flags, n):
        h = self.headers
        if scheme == "open":
            return True
        if scheme == "bearer":
            ok = h.get("Authorization") == "Bearer " + E["AUTH_TOKEN"]
        elif scheme == "basic":
            want = base64.b64encode(("%s:%s" % (
                E["AUTH_USER"], E["AUTH_PASSWORD"])).encode()).decode()
            ok = h.get("Authorization") == "Basic " + want
        elif scheme == "header":
            ok = h.get("X-Api-Key") == E["AUTH_HEADER_VALUE"]
        elif scheme == "hmac":
            ts = h.get("X-Rangecat-Timestamp", "")
            msg = "GET\n%s\n%s" % (self.path, ts)
            mac = hmac.new(E["AUTH_HMAC_KEY"].encode(), msg.encode(),
                           hashlib.sha256).hexdigest()
            ok = (ts.isdigit() and abs(time.time() - int(ts)) < 300 and
                  h.get("X-Rangecat-Key-Id") == E["AUTH_HMAC_KEY_ID"] and
                  hmac.compare_digest(h.get("X-Rangecat-Signature", ""), mac))
            if ok:
                with LOCK:
                    STATS["hmac_ok"] += 1
        elif scheme == "oauth":
            a = h.get("Authorization", "")
            tok = a[7:] if a.startswith("Bearer ") else ""
            with LOCK:
                exp = TOKENS.get(tok)
                ok = exp is not None and exp > time.time()
                if exp is not None and not ok:
                    STATS["expired_401"] += 1
                revoke = any(f.startswith("revoke") for f in flags)
                if ok and revoke and n >= int(
                        [f for f in flags if f.startswith("revoke")][0][6:]) \
                        and tok not in REVOKED and len(REVOKED) < 1:
                    REVOKED.add(tok)
                    STATS["revoked_401"] += 1
                if tok in REVOKED:
                    ok = False
        else:
            ok = False
        if not ok:
            self.reply(401, b"no", extra=[("WWW-Authenticate", "Bearer")])
        return ok

    def serve(self, name, slow):
        path = os.path.join(DATA, os.path.basename(name))
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return self.reply(404)
        st = os.stat(path)
        etag = '"%x-%x"' % (int(st.st_mtime), st.st_size)
        im = self.headers.get("If-Match")
        if im is not None and im != etag:
            return self.reply(412)
        rng = self.headers.get("Range", "")
        first, last = 0, len(data) - 1
        code = 200
        if rng.startswith("bytes=") and data:
            a, b = rng[6:].split("-", 1)
            first = int(a)
            last = min(int(b), len(data) - 1) if b else len(data) - 1
            if first >= len(data):
                return self.reply(416, extra=[
                    ("Content-Range", "bytes */%d" % len(data))])
            code = 206
        body = data[first:last + 1]
        self.send_response(code)
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body)))
        if code == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (
                first, last, len(data)))
        self.end_headers()
        if not slow:
            self.wfile.write(body)
            return
        for i in range(0, len(body), 16384):
            self.wfile.write(body[i:i + 16384])
            self.wfile.flush()
            time.sleep(16384 / (256 * 1024))


if __name__ == "__main__":
    serve(Handler)
