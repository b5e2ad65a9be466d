#!/usr/bin/env python3
"""A prototype of striped multi-range requests, for the latency lab only
(BENCH_ONLY=stripes). Not part of rangecat: it measures a design.

    stripes.py URL CONNECTIONS CHUNK_KIB WINDOW_KIB [RANGES]

The file is cut into chunks of CHUNK_KIB. Connection i asks for chunks
i, i + CONNECTIONS, i + 2 * CONNECTIONS, ..., RANGES of them in one
request (Range: bytes=a-b,c-d,...; the reply is multipart/byteranges),
and asks for its next RANGES as soon as a reply ends. The output is
written to stdout in order. A connection is read only while the next
byte it brings lies inside the window [written, written + WINDOW_KIB),
and a read stops at the window's end and at its part's end (give or
take a part's headers), so the bytes held never pass the window by more
than 600 bytes a connection; a connection the window holds back is held
back by TCP's flow control, not closed. What it holds back waits in the
kernel's receive buffer (up to net.ipv4.tcp_rmem's maximum a socket,
or STRIPES_RCVBUF), which the window does not count.

What it leaves out, and a real implementation needs: retries, splitting
a straggler, validators across replies, servers that answer otherwise
(200, one part, fewer parts, coalesced parts: bench/results/RESULTS.md,
"Stripes"), TLS. Every part's Content-Range must be the range asked, in
order, or it exits 1. With STRIPES_PEAK=FILE it appends the most bytes
it held at once to FILE.
"""
import os
import re
import selectors
import socket
import sys
from urllib.parse import urlsplit

URL = sys.argv[1]
N = int(sys.argv[2])
C = int(sys.argv[3]) << 10
WINDOW = int(sys.argv[4]) << 10
RANGES = int(sys.argv[5]) if len(sys.argv) > 5 else 8
U = urlsplit(URL)
HOST, PORT, PATH = U.hostname, U.port or 80, U.path
HEADER_ROOM = 600   # a part's delimiter and headers, read with its bytes
# STRIPES_RCVBUF=N caps each socket's receive buffer (SO_RCVBUF): a
# connection held back keeps up to that much in the kernel, beside the
# window.
RCVBUF = int(os.environ.get("STRIPES_RCVBUF", "0"))


def die(msg):
    sys.stderr.write("stripes: %s\n" % msg)
    sys.exit(1)


def request(ranges):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nRange: bytes=%s\r\n\r\n" % (
        PATH, HOST, ",".join("%d-%d" % (a, b - 1) for a, b in ranges))
    ).encode()


def size_of():
    s = socket.create_connection((HOST, PORT))
    s.sendall(request([(0, 1)]))
    d = b""
    while b"\r\n\r\n" not in d:
        b = s.recv(65536)
        if not b:
            die("no reply to the size request")
        d += b
    s.close()
    m = re.search(rb"\r\nContent-Range: bytes 0-0/(\d+)\r\n", d, re.I)
    if not m:
        die("no size in the reply to bytes=0-0")
    return int(m.group(1))


SIZE = size_of()
NCHUNKS = (SIZE + C - 1) // C
written = 0
landed = {}          # file offset of a landed piece -> its bytes
held = 0             # bytes in landed
peak = 0


class Conn:
    """One connection and its stripe: chunks i, i + N, ..."""

    def __init__(self, i):
        self.i = i
        self.next_chunk = i
        self.sock = socket.socket()
        if RCVBUF:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.setblocking(False)
        self.sock.connect_ex((HOST, PORT))
        self.connected = False
        self.buf = b""
        self.registered = 0
        self.plan()

    def plan(self):
        """The next request's ranges, or None when the stripe is done."""
        ch = list(range(self.next_chunk, NCHUNKS, N))[:RANGES]
        if not ch:
            self.ranges = None
            return
        self.next_chunk = ch[-1] + N
        self.ranges = [(k * C, min((k + 1) * C, SIZE)) for k in ch]
        self.part = 0                 # index of the part being read
        self.state = "head"
        self.pos = self.ranges[0][0]  # file offset of the next body byte
        self.left = 0

    def send(self):
        self.sock.sendall(request(self.ranges))

    def next_pos(self):
        """The file offset of the next body byte; None when only the
        closing delimiter is left."""
        if self.state == "data":
            return self.pos
        if self.ranges is None or self.part == len(self.ranges):
            return None
        return self.ranges[self.part][0]

    def events(self):
        if self.ranges is None:
            return 0
        if not self.connected:
            return selectors.EVENT_WRITE
        p = self.next_pos()
        return selectors.EVENT_READ if p is None or p < written + WINDOW \
            else 0

    def readable(self):
        global held, peak
        # Read no further than the window's end, nor past the part's end:
        # the next part's bytes lie a stripe (n chunks) further on.
        p = self.next_pos()
        room = HEADER_ROOM
        if p is not None:
            part_left = self.left if self.state == "data" else \
                self.ranges[self.part][1] - p
            room += min(written + WINDOW - p, part_left)
        try:
            d = self.sock.recv(max(1, min(262144, room)))
        except BlockingIOError:
            return
        if not d:
            die("connection %d closed mid-reply" % self.i)
        self.buf += d
        while self.ranges is not None:
            if self.state == "head":
                k = self.buf.find(b"\r\n\r\n")
                if k < 0:
                    return
                h, self.buf = self.buf[:k + 2], self.buf[k + 4:]
                if not h.startswith(b"HTTP/1.1 206 "):
                    die("status %r" % h.split(b"\r\n")[0])
                if len(self.ranges) == 1:
                    self.part_head(h)
                else:
                    m = re.search(rb"\r\nContent-Type: multipart/byteranges;"
                                  rb" *boundary=\"?([^\"\r]+)\"?\r\n", h,
                                  re.I)
                    if not m:
                        die("no multipart reply to %d ranges" %
                            len(self.ranges))
                    self.delim = b"\r\n--" + m.group(1)
                    self.state = "parthead"
            elif self.state == "parthead":
                k = self.buf.find(b"\r\n\r\n", 2)
                if k < 0:
                    return
                h, self.buf = self.buf[:k + 2], self.buf[k + 4:]
                if not (h.startswith(self.delim + b"\r\n") or
                        (self.part == 0 and
                         h.startswith(self.delim[2:] + b"\r\n"))):
                    die("a part does not start with the boundary")
                self.part_head(h)
            elif self.state == "data":
                if not self.buf:
                    return
                n = min(len(self.buf), self.left)
                landed[self.pos] = self.buf[:n]
                held += n
                peak = max(peak, held)
                self.buf = self.buf[n:]
                self.pos += n
                self.left -= n
                if self.left:
                    continue
                self.part += 1
                if self.part < len(self.ranges):
                    self.state = "parthead" if len(self.ranges) > 1 else \
                        "head"
                elif len(self.ranges) == 1:
                    self.done()
                else:
                    self.state = "tail"
            elif self.state == "tail":
                end = self.delim + b"--\r\n"
                if len(self.buf) < len(end):
                    return
                if not self.buf.startswith(end):
                    die("no closing boundary")
                self.buf = self.buf[len(end):]
                self.done()

    def part_head(self, h):
        m = re.search(rb"\r\nContent-Range: bytes (\d+)-(\d+)/(\d+)\r\n", h,
                      re.I)
        a, b = self.ranges[self.part]
        if not m or (int(m.group(1)), int(m.group(2)) + 1,
                     int(m.group(3))) != (a, b, SIZE):
            die("part %d is not bytes %d-%d/%d" % (self.part, a, b - 1,
                                                   SIZE))
        self.pos, self.left, self.state = a, b - a, "data"

    def done(self):
        if self.buf:
            die("bytes after the reply's end")
        self.plan()
        if self.ranges is not None:
            self.send()


conns = [Conn(i) for i in range(min(N, NCHUNKS))]
sel = selectors.DefaultSelector()
out = sys.stdout.buffer
while written < SIZE:
    for c in conns:
        ev = c.events()
        if ev != c.registered:
            if c.registered:
                sel.unregister(c.sock)
            if ev:
                sel.register(c.sock, ev, c)
            c.registered = ev
    for key, ev in sel.select(5.0):
        c = key.data
        if not c.connected:
            c.connected = True
            c.send()
        else:
            c.readable()
    while written in landed:
        d = landed.pop(written)
        out.write(d)
        written += len(d)
        held -= len(d)
for c in conns:
    c.sock.close()
out.flush()
if os.environ.get("STRIPES_PEAK"):
    with open(os.environ["STRIPES_PEAK"], "a") as f:
        f.write("%d\n" % peak)
