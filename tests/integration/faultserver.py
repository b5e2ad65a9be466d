#!/usr/bin/env python3
"""A range server that misbehaves on demand, for rangecat's tests.

URL: /f/<token>/<spec>/<file>
  token  any word; request counters are kept per token, so each test has
         its own fresh count
  spec   comma-separated faults; "-" for none
  file   a file in the data directory

Per-request faults fire on request number N of the token (0 is the probe),
for M requests in a row when written KIND@NxM:
  reset@N     send half the body, then reset the connection
  trunc@N     promise the full range, send half, close
  stall@N     send half the body, then go silent for 30 s
  short@N     an honest 206 for the first half of the range only
  badcr@N     a Content-Range that starts one byte late
  full@N      ignore Range: 200 with the whole file
  s503@N      503 with Retry-After: 1
  s429@N      429 with Retry-After as an HTTP-date 1 s ahead
  s500@N      500
  s404@N      404
  etag@N      from request N on the file has another ETag (If-Match 412)
  etagx@N     as etag, but If-Match is ignored: a 206 with the new ETag
  total@N     from request N on, Content-Range names another total
  gzip@N      206 with Content-Encoding: gzip
  encoff@N    with enc: no Content-Encoding (a proxy that decoded it)
  encbr@N     with enc: Content-Encoding: br instead of gzip
  encup@N     with enc: Content-Encoding " GZIP" (the same coding)
  encfly      with enc: each range gzip-compressed as it is sent, chunked
              (no Content-Length)
  encflycl    with enc: the same with the compressed Content-Length
  multi@N     206 multipart/byteranges
  twocl@N     two different Content-Length headers
  hugecl@N    Content-Length over 2^63
  trickle@N   send the body one byte every 2 s
  slow@N      send the body at 256 KiB/s (a straggler)
  hugehdr@N   a 200 KiB header line
  endless@N   headers that never end (one every 10 ms for 60 s)
  manyhdr@N   5000 header lines at once (over 300 KiB), then the body
  crover@N    a Content-Range with numbers over 2^64
  crlong@N    a Content-Range that ends past the range asked
  extra@N     100 bytes more than Content-Length says
  drip@N      send the body one byte every 0.5 s
  sag@N       send all of the body but its last 10000 bytes at once, then
              one byte every 0.25 s
  nibble@N    send 10 bytes of the body, then reset the connection
  drop@N      reset the connection before any reply (as limitN does)
  mute@N      read the request, then say nothing for 60 s
  tecl@N      both Content-Length and Transfer-Encoding: chunked
  badcl@N     a Content-Length that is not a number
  s407@N      407 with Proxy-Authenticate (as a proxy would)
  p401@N      401 with Proxy-Authenticate only (a proxy's 401)
  s403@N      403, no hint of credentials
  lmx@N       from request N on, another Last-Modified and other bytes of
              the same size (If-Unmodified-Since is never checked)
  dropetag@N  from request N on, no ETag, If-Match ignored, other bytes
  cutclose@N  200 without a length, Range ignored: half the file, then
              close (an end only the earlier total can tell from a cut)
  weakx@N     from request N on, the same ETag made weak (W/), If-Match
              ignored, other bytes
  gzipx@N     from request N on, the ETag with "-gzip" added (no encoding),
              If-Match ignored, other bytes
Whole-run modes:
  norange     never honour Range (200 with the whole file)
  chunked     200, chunked transfer coding, no length, Range ignored
  weak        W/ ETag, no Last-Modified   noetag   no validator at all
  lm          Last-Modified only
  enc         every reply of the file carries Content-Encoding: gzip (a
              stored representation's label, as S3 serves it; the bytes
              are the file's); with weak, noetag or lm the validators
              that go with it
  redirect    first request of each connection... every request is first
              sent a 302 to the same path without "redirect"
  loop        302 to itself forever
  tofile      302 to file:///etc/passwd
  toftp       302 to ftp://127.0.0.1/x      togopher  302 to gopher://…
Hostile text (the escaping of outside text; bytes sent as latin-1):
  evil404     404 whose reason phrase and S3-style XML body hold ESC, BEL,
              0x9b (CSI) and invalid UTF-8
  evilloc     302 to a Location holding ESC, BEL, 0x9b and invalid UTF-8
  eviletag    a strong ETag holding obs-text 0x9b, 0xff and U+009B
As a forward proxy (http_proxy pointing here) the path is taken from
the absolute URL, so the same faults apply; CONNECT (https_proxy) is
always answered 407.
  samesec     Last-Modified is the second of the token's first request and
              the ETag nginx's "hex(mtime)-hex(size)"; from request 1 on
              the bytes are another version of the same size
  fresh       a file rewritten all the time: Last-Modified equals Date,
              and request N serves version N (same size)
  star        Content-Range "bytes A-B/*", replies capped at 1 MiB, and
              a 416 without Content-Range
  no416cr     a 416 without Content-Range (Apache, lighttpd)
  gainetag    the probe (request 0) has no ETag and version 1; the later
              requests have the ETag and version 0
Lying lengths (review3):
  crhalf@N    a 206 whose Content-Range names the first half of the range
              asked, without Content-Length, whose body then runs on to
              the end asked with other bytes before it closes
  crhalfc@N   the same body, chunked
  startotal   with star: request 1 names the file's total, and from
              request 2 on each reply names a total that ends with it
  rawetag@N   every reply has an unquoted ETag (no entity-tag) and the
              usual Last-Modified; from request N on another ETag and
              other bytes of the same size (nothing checked by the server)
  s200cr@N    a 206's headers and body, but status 200 (as from a proxy
              that rewrote the status)
  s200all@N   Range ignored: 200 with the whole file and a Content-Range
              that names all of it
  dup@N       a 206 with another ETag, Last-Modified or Content-Range
              (X-Rs-Dup: etag, lm, cr) before the usual one
Expiring redirect targets (cases_redirects.py): asked as 127.0.0.1 (the
origin), a 302 to the same path on "localhost" (another host) with a
signed query valid for 2 s, generation g = 0, 1, ... per token; asked as
localhost, the target checks that query (403 with S3's "Request has
expired" once it has) and serves ranges at 512 KiB/s.
  signed      the query is SigV4's: X-Amz-Date, X-Amz-Expires=2,
              X-Amz-Signature
  cf          ... CloudFront's: Expires=<epoch>, Signature, Key-Pair-Id
  opaque      ... an opaque token=: the expiry is the server's secret
  deny        targets of generation 1 on always answer 403
  e400        an expired target answers 400 with <Code>ExpiredToken</Code>
  newetag     targets of generation 1 on serve another version (ETag,
              bytes; If-Match answered 412)
GET /times/<token> returns when each request of the token came and, for
a 429/503, when it was answered, as JSON lines: n, at, busy (seconds
on the server's monotonic clock; busy null for other replies).
GET /log/<token> returns the token's requests as JSON lines: host,
target (bool), generation, Authorization sent (bool), status.
Caching (cases_cache.py), on every reply of the file:
  nostore     Cache-Control: private, no-store
  ccprivate   Cache-Control: private, max-age=0
Revalidation as RFC 9110 13.1.3 allows (review5, cases_review5.py):
  ims304      an If-Modified-Since no older than the Last-Modified is
              answered 304 with that Last-Modified (as Apache does)
  lmback@N    from request N on, a Last-Modified a day older and other
              bytes of the same size (a file rolled back, its mtime kept)
The connection count (engine, cases_engine.py):
  limitN      at most N (1-9) connections of the token open at once: a
              request on one more gets no reply, its connection is reset
  rate2m      every body at 2 MiB/s (a per-request cap, as a CDN's)
  near        the first reply without the 25 ms every token's first
              reply otherwise waits (a short path for rangecat: one
              stream first)
  cap         every reply at 16 MiB/s, faults' own pacing on top (a
              per-request cap under which more connections pay: on
              loopback rangecat's one stream keeps its receiving thread
              busy and stays, and asks no further ranges)
Stripes (multi-range requests, Range: bytes=a-b,c-d,...):
  far         every reply (the probe too) waits 60 ms before its status
              line: a far server
  A Range of several ranges is answered as nginx does: 206,
  Content-Type: multipart/byteranges; boundary=00000000001 (B), per part
  CRLF "--B" CRLF "Content-Type: application/octet-stream" CRLF
  "Content-Range: bytes a-b/T" CRLF CRLF <bytes>, then CRLF "--B--" CRLF;
  with Content-Length, the validators a single range has, If-Match
  checked. Ranges past the end are dropped (416 when none is left), ends
  past it clipped, one range left is a single 206; none are sorted or
  merged. Faults that apply to it as to a single body: the status ones
  (s503 s429 s500 s404 s407 p401 s403 mute tecl badcl), those of
  validators and versions (etag etagx lmx dropetag weakx gzipx lmback
  total and the modes), full (a 200), gzip and enc (the label), hugehdr
  manyhdr twocl hugecl, and on the whole multipart body reset trunc
  stall trickle drip sag nibble slow extra rate2m. The lies about a
  single range (short badcr crhalf crhalfc cutclose rawetag dup s200cr
  s200all startotal endless crover crlong multi encfly encflycl, star's
  1 MiB cap) are not applied to it; with star the parts name "*".
  These fire only when request N asks several ranges (after dropping);
  on a single range they do nothing:
  mfirst@N    only the first range, as a plain single 206 (Ceph RGW)
  mfull@N     200 with the whole file
  mmerge@N    one single-part 206 from the first range's start to the
              last range's end, those bytes (coalesced, as a server may)
  mfew@N      multipart with only the first 2 parts (the first 1 when 2
              were asked), then the close delimiter (ranges dropped)
  morder@N    multipart with the parts in reverse order
  mshift@N    multipart whose second part's Content-Range starts one byte
              late (its bytes still that range's)
  mtotal@N    multipart whose parts name another total (size + 1000)
  mnodelim@N  multipart whose body ends after the last part's bytes, no
              close delimiter (Content-Length of what is sent)
  mcut@N      multipart with Connection: close and the full
              Content-Length, closed in the middle of the third part's
              bytes (the last part's when fewer)
  mbadb@N     the boundary in the body (00000000002) is not the one in
              Content-Type
  mextra@N    multipart with one more part than asked (a copy of the
              last) before the close delimiter
  mnocr@N     multipart whose second part has no Content-Range
  mchunk@N    a correct multipart body sent chunked (1000-byte chunks),
              no Content-Length
  mlack@N     the second part 3 bytes shorter than its Content-Range
              says (the framing follows at once)
  mlack1@N    the first part 2 bytes short
  mgap@N      3 s of silence right after the first part's last byte
  mgaplast@N  3 s of silence after the last part, before the close
              delimiter
  mlf@N       framing lines end in a bare LF
  mpre@N      a preamble with a line like a delimiter of another boundary
  mepi@N      after the close delimiter, an epilogue holding a fake part
  mdribble@N  the body in 1-5 byte writes around the framing
Version k of a file is its bytes rotated left by k.
Prints "PORT <n>" on stdout once listening.
"""
import email.utils
import gzip
import json
import os
import re
import secrets
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA = sys.argv[1] if len(sys.argv) > 1 else "."
COUNTS = {}
TIMES = {}  # token -> [{"n", "at", "busy"}] (/times/<token>)
OPEN = {}   # token -> its connections open now (limitN)
LOCK = threading.Lock()
MTIME = "Sun, 09 Sep 2001 01:46:40 GMT"
MB = 1024 * 1024


def parse_spec(spec):
    faults, modes = [], set()
    for item in spec.split(","):
        if not item or item == "-":
            continue
        if "@" in item:
            kind, at = item.split("@", 1)
            count = 1
            if "x" in at:
                at, count = at.split("x", 1)
            faults.append((kind, int(at), int(count)))
        else:
            modes.add(item)
    return faults, modes


FIRST_SEEN = {}   # token -> second of its first request (samesec)


class Capped:
    """A reply's writer held to rate bytes/s, in 64 KiB pieces (cap)."""

    def __init__(self, w, rate):
        self.w, self.rate = w, rate
        self.t0, self.sent = time.monotonic(), 0

    def write(self, b):
        for i in range(0, len(b), 65536):
            piece = b[i:i + 65536]
            self.w.write(piece)
            self.w.flush()
            self.sent += len(piece)
            ahead = self.t0 + self.sent / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        return len(b)

    def flush(self):
        self.w.flush()

    def __getattr__(self, name):
        return getattr(self.w, name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # As nginx does on keep-alive connections: without it a reply's first
    # small write waits for the ACK of the last one (40 ms, delayed ACK).
    disable_nagle_algorithm = True
    now = None

    def date_time_string(self, timestamp=None):
        # One clock reading per request, so Date and a Last-Modified made
        # from "now" name the same second.
        return email.utils.formatdate(
            timestamp if timestamp is not None else self.now or time.time(),
            usegmt=True)

    def log_message(self, *args):
        pass

    # -- the connection count (limitN, rate2m; cases_engine.py) --
    def over_limit(self, token, modes):
        """limitN: counts this connection for the token on its first
        request; true when N others are open (it is then reset)."""
        n = [int(m[5:]) for m in modes if re.fullmatch(r"limit[1-9]", m)]
        if not n or getattr(self, "counted", None):
            return False
        with LOCK:
            if OPEN.get(token, 0) >= n[0]:
                return True
            OPEN[token] = OPEN.get(token, 0) + 1
        self.counted = token
        return False

    def finish(self):
        token = getattr(self, "counted", None)
        if token:
            with LOCK:
                OPEN[token] -= 1
        try:
            super().finish()
        except OSError:
            pass

    def big_headers(self, fires):
        """hugehdr and manyhdr."""
        if fires("hugehdr"):
            self.send_header("X-Huge", "h" * 200 * 1024)
        if fires("manyhdr"):
            for i in range(5000):
                self.send_header("X-Many-%d" % i, "m" * 50)

    def paced(self, chunk):
        """rate2m: the body at 2 MiB/s, in 64 KiB pieces."""
        t0 = time.monotonic()
        for i in range(0, len(chunk), 65536):
            self.wfile.write(chunk[i:i + 65536])
            self.wfile.flush()
            ahead = t0 + (i + 65536) / (2 * MB) - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    # -- end of the connection count --

    def reset(self):
        self.connection.setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def do_GET(self):
        if self.path.startswith("http://"):
            # Asked as a proxy: the path of the absolute URL.
            self.path = "/" + self.path.split("/", 3)[3]
        if self.path.startswith("/log/"):
            return self.signed_log(self.path[5:])
        if self.path.startswith("/times/"):
            with LOCK:
                recs = list(TIMES.get(self.path[7:], []))
            body = "".join(json.dumps(r) + "\n" for r in recs).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        parts = self.path.split("/", 4)
        if len(parts) != 5 or parts[1] != "f":
            self.send_error(404)
            return
        token, spec, name = parts[2], parts[3], parts[4]
        faults, modes = parse_spec(spec)
        if isinstance(self.wfile, Capped):  # the last reply's, unwrapped
            self.wfile = self.wfile.w
        if "cap" in modes:
            self.wfile = Capped(self.wfile, 16 * MB)
        rec = {"n": None, "at": time.monotonic(), "busy": None}
        with LOCK:
            n = COUNTS.get(token, 0)
            COUNTS[token] = n + 1
            rec["n"] = n
            TIMES.setdefault(token, []).append(rec)
        if "far" in modes:
            time.sleep(0.06)    # before the status line of any reply
        elif n == 0 and "near" not in modes:
            # A server that thinks 25 ms over its first reply: not the
            # short path rangecat starts with one stream on, so that
            # request N is the range it always was (near: no wait).
            time.sleep(0.025)

        def fires(kind):
            return any(k == kind and at <= n < at + c for k, at, c in faults)

        if self.over_limit(token, modes) or fires("drop"):
            return self.reset()

        def since(kind):
            return any(k == kind and n >= at for k, at, c in faults)

        if "signed" in modes:
            return self.signed(token, modes, name)
        if "loop" in modes:
            return self.redirect(self.path)
        if "tofile" in modes:
            return self.redirect("file:///etc/passwd")
        if "toftp" in modes:
            return self.redirect("ftp://127.0.0.1/x")
        if "togopher" in modes:
            return self.redirect("gopher://127.0.0.1/x")
        # -- hostile text, for the escaping tests (cases_paths.py) --
        hostile = "\x1b]0;pwned\x07\x1b[2J\x9b31m\xff\xc2\x9b"
        if "evil404" in modes:
            body = ("<Error><Code>No%sSuchKey</Code><Message>%s</Message>"
                    "</Error>" % (hostile, hostile)).encode("latin-1")
            self.send_response(404, "Not %s Found" % hostile)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if "evilloc" in modes:
            return self.redirect("/f/%s/-/x%s" % (token, hostile))
        # -- end of hostile text --
        if "redirect" in modes:
            return self.redirect(self.path.replace("redirect", "-", 1)
                                 .replace("/-,", "/").replace(",-", ""))
        try:
            with open(os.path.join(DATA, os.path.basename(name)), "rb") as f:
                body = f.read()
        except OSError:
            self.send_error(404)
            return
        size = len(body)
        etag = '"v1-%d"' % size
        if "eviletag" in modes:
            etag = '"v1-\x9b\xff\xc2\x9b-%d"' % size
        if since("etag") or since("etagx"):
            etag = '"v2-%d"' % size
        # Validators (issue 11): versions that keep their validators,
        # dates too fresh to tell versions apart, unknown totals.
        self.now = time.time()
        lm_value, version = MTIME, 0
        with LOCK:
            t0 = FIRST_SEEN.setdefault(token, int(self.now))
        if "samesec" in modes or "fresh" in modes:
            mtime = int(self.now) if "fresh" in modes else t0
            lm_value = email.utils.formatdate(mtime, usegmt=True)
            etag = '"%x-%x"' % (mtime, size)
            version = n if "fresh" in modes else min(n, 1)
        if since("lmx"):
            lm_value = email.utils.formatdate(1000086400, usegmt=True)
            version = 1
        if since("dropetag") or since("weakx") or since("gzipx"):
            version = 1
        if since("weakx"):
            etag = "W/" + etag
        if since("gzipx"):
            etag = etag[:-1] + '-gzip"'
        # -- review5: a rollback, and If-Modified-Since as Apache does --
        if since("lmback"):
            lm_value = email.utils.formatdate(1000000000 - 86400,
                                              usegmt=True)
            version = 1
        ims = self.headers.get("If-Modified-Since")
        if "ims304" in modes and ims:
            lm_t = email.utils.parsedate_to_datetime(lm_value)
            try:
                ims_t = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                ims_t = None
            if ims_t and lm_t <= ims_t:
                self.send_response(304)
                self.send_header("Last-Modified", lm_value)
                self.end_headers()
                return
        # -- end review5 --
        noetag_now = since("dropetag") or ("gainetag" in modes and n == 0)
        if "gainetag" in modes and n == 0:
            version = 1
        if version and size:
            k = version % size
            body = body[k:] + body[:k]
        star = "star" in modes
        total = size + 1000 if since("total") else size

        for code in (503, 429, 500, 404):
            if fires("s%d" % code):
                if code in (429, 503):
                    rec["busy"] = time.monotonic()
                self.send_response(code)
                if code == 503:
                    self.send_header("Retry-After", "1")
                if code == 429:
                    self.send_header("Retry-After", email.utils.formatdate(
                        time.time() + 1, usegmt=True))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return

        # Time bounds and messages (rangecat issue 11 items 6-7).
        if fires("mute"):
            time.sleep(60)
            self.close_connection = True
            return
        for kind, code, hdr in (("s407", 407, "Proxy-Authenticate"),
                                ("p401", 401, "Proxy-Authenticate"),
                                ("s403", 403, None)):
            if fires(kind):
                self.send_response(code)
                if hdr:
                    self.send_header(hdr, 'Basic realm="proxy"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if fires("tecl") or fires("badcl"):
            self.send_response(200)
            self.send_header("ETag", etag)
            if fires("tecl"):
                self.send_header("Content-Length", str(size))
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (size, body))
            else:
                self.send_header("Content-Length", "12abc")
                self.end_headers()
                self.wfile.write(body)
            self.close_connection = True
            return

        im = self.headers.get("If-Match")
        if im and etag not in [t.strip() for t in im.split(",")] and \
                not since("etagx") and not since("weakx") and \
                not since("gzipx") and \
                not since("dropetag") and "noetag" not in modes:
            self.send_response(412)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return

        def validators():
            if "noetag" not in modes and "lm" not in modes and \
                    not noetag_now:
                self.send_header("ETag", ("W/" + etag) if "weak" in modes
                                 else etag)
            if "noetag" not in modes and "weak" not in modes:
                self.send_header("Last-Modified", lm_value)
            if "nostore" in modes:
                self.send_header("Cache-Control", "private, no-store")
            if "ccprivate" in modes:
                self.send_header("Cache-Control", "private, max-age=0")

        rng = self.headers.get("Range")
        # -- stripes: several ranges in one request --
        ranges = None
        if rng and "," in rng:
            ranges = self.multi_ranges(rng, size)
            if len(ranges) < 2:
                ranges = None   # one range left: a single 206 (or 416)
        honour = rng and "norange" not in modes and "chunked" not in modes \
            and not fires("full") and not (ranges and fires("mfull"))
        first, last = 0, size - 1
        if honour and ranges and (fires("mfirst") or fires("mmerge")):
            first = ranges[0][0]
            last = ranges[-1][1] if fires("mmerge") else ranges[0][1]
            ranges = None
        elif honour and ranges:
            return self.multipart(ranges, body, total, star, fires, modes,
                                  validators)
        elif honour and "," in rng:
            # None or one of several left: as nginx, 416 or that one.
            got = self.multi_ranges(rng, size)
            first, last = got[0] if got else (size, size)
        elif honour:
            spec_r = rng.split("=", 1)[1]
            a, b = spec_r.split("-", 1)
            if a == "":
                first, last = max(0, size - int(b)), size - 1
            else:
                first = int(a)
                last = min(int(b), size - 1) if b else size - 1
                if first > last:        # review: as nginx, 416
                    first = size
        # -- end of stripes --
        if honour:
            if first >= size:
                self.send_response(416)
                if not star and "no416cr" not in modes:
                    self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if star and honour:
            last = min(last, first + MB - 1)
        chunk = body[first:last + 1]

        if fires("short") and len(chunk) > 1:
            last = first + len(chunk) // 2 - 1
            chunk = body[first:last + 1]
        cr_first = first + 1 if fires("badcr") else first
        # -- lying lengths (review3) --
        if honour and (fires("crhalf") or fires("crhalfc")) and \
                len(chunk) > 1:
            half = len(chunk) // 2
            lie = chunk[:half] + bytes(255 - b for b in chunk[half:])
            self.send_response(206)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", lm_value)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (
                first, first + half - 1, total))
            if fires("crhalfc"):
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (
                    len(lie), lie))
                return
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(lie)
            self.close_connection = True
            return
        if fires("cutclose"):
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[:size // 2])
            self.close_connection = True
            return
        if any(k == "rawetag" for k, at, c in faults):
            if since("rawetag") and size:
                chunk = (body[1:] + body[:1])[first:last + 1]
            self.send_response(206 if honour else 200)
            self.send_header("ETag", "v%d-%d" % (
                2 if since("rawetag") else 1, size))
            self.send_header("Last-Modified", lm_value)
            if honour:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (
                    first, last, size))
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            self.wfile.write(chunk)
            return
        if honour and fires("dup"):
            self.send_response(206)
            which = self.headers.get("X-Rs-Dup", "etag")
            if "etag" in which:
                self.send_header("ETag", '"v9-%d"' % size)
            if "lm" in which:
                self.send_header("Last-Modified",
                                 email.utils.formatdate(0, usegmt=True))
            if "cr" in which:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (
                    first, last, size + 1))
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", lm_value)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (
                first, last, size))
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            self.wfile.write(chunk)
            return
        if rng and (fires("s200cr") or fires("s200all")):
            if fires("s200all"):
                first, last, chunk = 0, size - 1, body
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", lm_value)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (
                first, last, size))
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            self.wfile.write(chunk)
            return
        if honour and "startotal" in modes and n >= 1:
            self.send_response(206)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", lm_value)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (
                first, last, size if n == 1 else last + 1))
            self.send_header("Content-Length", str(len(chunk)))
            self.end_headers()
            self.wfile.write(chunk)
            return
        # -- end of lying lengths --
        if fires("endless"):
            self.send_response(206)
            for i in range(6000):
                self.send_header("X-Endless-%d" % i, "x" * 50)
                self.flush_headers()
                time.sleep(0.01)
            self.close_connection = True
            return
        self.send_response(206 if honour else 200)
        self.big_headers(fires)
        validators()
        if honour and fires("crover"):
            self.send_header("Content-Range",
                             "bytes %d-99999999999999999999999/%d" % (
                                 first, total))
        elif honour and fires("crlong"):
            self.send_header("Content-Range", "bytes %d-%d/%d" % (
                first, min(last + 1000, total - 1), total))
        elif honour:
            self.send_header("Content-Range", "bytes %d-%d/%s" % (
                cr_first, cr_first + len(chunk) - 1,
                "*" if star else total))
        self.coding(fires, modes)
        if fires("multi"):
            self.send_header("Content-Type",
                             "multipart/byteranges; boundary=XYZ")
        else:
            self.send_header("Content-Type", "application/octet-stream")
        if "encfly" in modes or "encflycl" in modes:
            # A compressor run on each range as it is sent.
            gz = gzip.compress(chunk, mtime=0)
            if "encflycl" in modes:
                self.send_header("Content-Length", str(len(gz)))
                self.end_headers()
                self.wfile.write(gz)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(gz), gz))
            return
        if "chunked" in modes:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(chunk), 65536):
                piece = chunk[i:i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        if fires("hugecl"):
            self.send_header("Content-Length", "9223372036854775808")
        else:
            self.send_header("Content-Length", str(len(chunk)))
        if fires("twocl"):
            self.send_header("Content-Length", str(len(chunk) + 1))
        self.end_headers()
        self.send_body(chunk, fires, modes)

    def send_body(self, chunk, fires, modes):
        """The body of a reply, with the faults of its writing (on a
        multipart reply, of the whole multipart body)."""
        half = len(chunk) // 2
        if fires("reset"):
            self.wfile.write(chunk[:half])
            self.wfile.flush()
            return self.reset()
        if fires("trunc"):
            self.wfile.write(chunk[:half])
            self.wfile.flush()
            self.close_connection = True
            return
        if fires("trickle"):
            for i in range(len(chunk)):
                self.wfile.write(chunk[i:i + 1])
                self.wfile.flush()
                time.sleep(2)
            return
        if fires("nibble"):
            self.wfile.write(chunk[:10])
            self.wfile.flush()
            return self.reset()
        if fires("drip"):
            for i in range(len(chunk)):
                self.wfile.write(chunk[i:i + 1])
                self.wfile.flush()
                time.sleep(0.5)
            return
        if fires("sag"):
            cut = max(0, len(chunk) - 10000)
            self.wfile.write(chunk[:cut])
            self.wfile.flush()
            for i in range(cut, len(chunk)):
                self.wfile.write(chunk[i:i + 1])
                self.wfile.flush()
                time.sleep(0.25)
            return
        if "rate2m" in modes:
            return self.paced(chunk)
        if fires("slow"):
            for i in range(0, len(chunk), 16384):
                self.wfile.write(chunk[i:i + 16384])
                self.wfile.flush()
                time.sleep(1 / 16)
            return
        if fires("extra"):
            self.wfile.write(chunk + b"X" * 100)
            return
        if fires("stall"):
            self.wfile.write(chunk[:half])
            self.wfile.flush()
            time.sleep(30)
            self.close_connection = True
            return
        self.wfile.write(chunk)

    def coding(self, fires, modes):
        """The Content-Encoding header (gzip@N, enc and its faults)."""
        coding = "gzip" if "enc" in modes or fires("gzip") else None
        if "enc" in modes and fires("encoff"):
            coding = None
        if "enc" in modes and fires("encbr"):
            coding = "br"
        if "enc" in modes and fires("encup"):
            coding = " GZIP"
        if coding:
            self.send_header("Content-Encoding", coding)

    # -- stripes: multi-range requests --
    BOUNDARY = "00000000001"

    @staticmethod
    def multi_ranges(rng, size):
        """The satisfiable ranges of a Range of several, in the order
        asked, each end clipped to the file's (as nginx does)."""
        got = []
        for item in rng.split("=", 1)[1].split(","):
            item = item.strip()
            if not item:
                continue
            a, b = item.split("-", 1)
            if a == "":
                if not b or int(b) == 0:
                    continue
                first, last = max(0, size - int(b)), size - 1
            else:
                first = int(a)
                last = min(int(b), size - 1) if b else size - 1
            if first < size and first <= last:
                got.append((first, last))
        return got

    def multipart(self, ranges, body, total, star, fires, modes,
                  validators):
        """206 multipart/byteranges for two or more ranges, as nginx
        sends it, or as the m* faults spoil it."""
        parts = [(f, l, body[f:l + 1]) for f, l in ranges]
        if fires("mfew"):
            parts = parts[:2 if len(parts) > 2 else 1]
        if fires("morder"):
            parts.reverse()
        if fires("mextra"):
            parts.append(parts[-1])
        if fires("mtotal"):
            total += 1000
        tot = "*" if star else str(total)
        inner = "00000000002" if fires("mbadb") else self.BOUNDARY
        out, pos, cut = [], 0, None
        if fires("mlack"):      # review: part 2 short by 3 bytes
            f_, l_, d_ = parts[1]
            parts[1] = (f_, l_, d_[:-3])
        if fires("mlack1"):     # review: part 1 short by 2 bytes
            f_, l_, d_ = parts[0]
            parts[0] = (f_, l_, d_[:-2])
        nl = "\n" if fires("mlf") else "\r\n"
        for i, (f, l, data) in enumerate(parts):
            head = (nl + "--%s" + nl + "Content-Type: application/octet-stream"
                    + nl) % inner
            if i == 0 and fires("mpre"):
                head = "preamble text\r\n--notit\r\n" + head
            if not (i == 1 and fires("mnocr")):
                head += "Content-Range: bytes %d-%d/%s" % (
                    f + 1 if i == 1 and fires("mshift") else f, l, tot) + nl
            head = (head + nl).encode()
            out += [head, data]
            pos += len(head)
            if i == min(2, len(parts) - 1):
                cut = pos + len(data) // 2     # mcut: in its bytes
            pos += len(data)
        if not fires("mnodelim"):
            out.append((nl + "--%s--" + nl) % inner)
            out[-1] = out[-1].encode()
        if fires("mepi"):
            f, l, data = parts[0]
            out.append(("\r\n--%s\r\nContent-Range: bytes %d-%d/%s\r\n\r\n"
                        % (inner, f, l, tot)).encode())
            out.append(bytes(len(data)))
            out.append(b"\r\n--%s--\r\n" % inner.encode())
        wire = b"".join(out)

        self.send_response(206)
        self.big_headers(fires)
        validators()
        self.coding(fires, modes)
        self.send_header("Content-Type", "multipart/byteranges; boundary="
                         + self.BOUNDARY)
        if fires("mchunk"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            wire = b"".join(b"%x\r\n%s\r\n" % (len(wire[i:i + 1000]),
                                                wire[i:i + 1000])
                            for i in range(0, len(wire), 1000))
            return self.send_body(wire + b"0\r\n\r\n", fires, modes)
        if fires("hugecl"):
            self.send_header("Content-Length", "9223372036854775808")
        else:
            self.send_header("Content-Length", str(len(wire)))
        if fires("twocl"):
            self.send_header("Content-Length", str(len(wire) + 1))
        if fires("mcut"):
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(wire[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        if fires("mgap") or fires("mgaplast"):
            # review: silence for 3 s right after a part's last byte
            plen = [len(x) for x in out]
            # out = [head0, data0, head1, data1, ..., close]
            idx = 2 if fires("mgap") else 2 * len(parts)
            cutp = sum(plen[:idx])
            self.wfile.write(wire[:cutp])
            self.wfile.flush()
            time.sleep(3)
            self.wfile.write(wire[cutp:])
            self.wfile.flush()
            return
        if fires("mdribble"):
            import random
            self.connection.setsockopt(socket.IPPROTO_TCP,
                                       socket.TCP_NODELAY, 1)
            i = 0
            while i < len(wire):
                # near framing, tiny pieces; elsewhere big ones
                win = wire[max(0, i - 8):i + 64]
                if b"--" + self.BOUNDARY.encode() in win or b"Content" in win:
                    k = random.randint(1, 5)
                    self.wfile.write(wire[i:i + k])
                    self.wfile.flush()
                    time.sleep(0.002)
                else:
                    k = random.randint(100, 40000)
                    self.wfile.write(wire[i:i + k])
                    self.wfile.flush()
                i += k
            return
        self.send_body(wire, fires, modes)
    # -- end of stripes --

    def do_CONNECT(self):
        # As an https proxy: every tunnel needs credentials it never gets.
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- expiring redirect targets (cases_redirects.py) --
    SIGNED_TTL = 2
    SIGNED_RATE = 512 * 1024          # bytes/s per connection
    SIGNED_GEN = {}                   # token -> next generation
    SIGNED_ISSUED = {}                # (token, nonce) -> (gen, expiry)
    SIGNED_LOG = {}                   # token -> [request records]

    def signed_log(self, token):
        with LOCK:
            lines = [json.dumps(r) for r in self.SIGNED_LOG.get(token, [])]
        body = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def signed(self, token, modes, name):
        host = (self.headers.get("Host") or "").rsplit(":", 1)
        port = host[1] if len(host) > 1 else ""
        path, _, query = self.path.partition("?")
        name = name.partition("?")[0]
        q = urllib.parse.parse_qs(query)
        target = host[0] == "localhost"
        rec = {"host": host[0], "target": target, "gen": None,
               "auth": "Authorization" in self.headers,
               "range": self.headers.get("Range")}

        def reply(status, hdrs=(), body=b""):
            rec["status"] = status
            with LOCK:
                self.SIGNED_LOG.setdefault(token, []).append(rec)
            self.send_response(status)
            for k, v in hdrs:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        now = time.time()
        if not target:
            with LOCK:
                gen = self.SIGNED_GEN.get(token, 0)
                self.SIGNED_GEN[token] = gen + 1
            nonce = "SIGSECRET%s" % secrets.token_hex(8)
            issued = int(now)
            expiry = issued + self.SIGNED_TTL
            with LOCK:
                self.SIGNED_ISSUED[(token, nonce)] = (gen, expiry)
            if "cf" in modes:
                sq = "Expires=%d&Signature=%s&Key-Pair-Id=K1" % (expiry, nonce)
            elif "opaque" in modes:
                sq = "token=%s" % nonce
            else:
                sq = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=%s"
                      "&X-Amz-Expires=%d&X-Amz-SignedHeaders=host"
                      "&X-Amz-Signature=%s" % (
                          time.strftime("%Y%m%dT%H%M%SZ",
                                        time.gmtime(issued)),
                          self.SIGNED_TTL, nonce))
            rec["gen"] = gen
            return reply(302, [("Location", "http://localhost:%s%s?%s" % (
                port, path, sq))])
        nonce = (q.get("X-Amz-Signature") or q.get("Signature") or
                 q.get("token") or [""])[0]
        with LOCK:
            gen, expiry = self.SIGNED_ISSUED.get((token, nonce), (None, 0))
        rec["gen"] = gen
        expired = b"<Error><Code>AccessDenied</Code><Message>Request has " \
            b"expired</Message></Error>"
        if gen is None or now >= expiry or ("deny" in modes and gen >= 1):
            if "e400" in modes:     # Cloud Storage's way of saying it
                return reply(400, [("Content-Type", "application/xml")],
                             b"<Error><Code>ExpiredToken</Code></Error>")
            return reply(403, [("Content-Type", "application/xml")],
                         expired)
        try:
            with open(os.path.join(DATA, os.path.basename(name)), "rb") as f:
                body = f.read()
        except OSError:
            return reply(404)
        size = len(body)
        etag = '"v1-%d"' % size
        if "newetag" in modes and gen >= 1:
            etag = '"v2-%d"' % size
            body = body[1:] + body[:1]
        im = self.headers.get("If-Match")
        if im and etag not in [t.strip() for t in im.split(",")]:
            return reply(412)
        rng = self.headers.get("Range", "bytes=0-")
        a, b = rng.split("=", 1)[1].split("-", 1)
        first = int(a)
        last = min(int(b), size - 1) if b else size - 1
        if first >= size:
            return reply(416, [("Content-Range", "bytes */%d" % size)])
        chunk = body[first:last + 1]
        rec["status"] = 206
        with LOCK:
            self.SIGNED_LOG.setdefault(token, []).append(rec)
        self.send_response(206)
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", MTIME)
        self.send_header("Content-Range", "bytes %d-%d/%d" % (
            first, last, size))
        self.send_header("Content-Length", str(len(chunk)))
        self.end_headers()
        step = self.SIGNED_RATE // 16
        for i in range(0, len(chunk), step):
            self.wfile.write(chunk[i:i + step])
            self.wfile.flush()
            time.sleep(1 / 16)
    # -- end of expiring redirect targets --

    def redirect(self, where):
        self.send_response(302)
        self.send_header("Location", where)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops SYNs when 32 connections open at
    # once, and the client's retransmit costs a second.
    request_queue_size = 512

    def handle_error(self, request, client_address):
        # Clients that hang up mid-body are the point of these tests.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError,
                                              ConnectionResetError)):
            super().handle_error(request, client_address)


def serve(handler):
    """Listens on a free loopback port, says which, and serves forever."""
    srv = Server(("127.0.0.1", 0), handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


def main():
    serve(Handler)


if __name__ == "__main__":
    main()
