#!/usr/bin/env python3
"""A range server for the one stream's cut (cases_cpu.py): every range of
DATA/FILE at once by sendfile, but the first request to the file's last
byte longer than 32 MiB (the one stream's) gets 2 MiB at once, then
silence for 0.15 s (the receiving thread waits: the network is judged
the limit, at once or by the watch of a settled stream, and the stream
is cut at the end of the chunk it is writing, which is full: 2 MiB is a
chunk boundary for chunks of 2 MiB or less), then a reset, well before
the ranges after it end. The stream is then complete where it was cut, and nothing
of it must be asked again.

Usage: streamcut.py DATA FILE; prints "PORT N" and serves until killed.
"""
import os
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA, NAME = sys.argv[1], sys.argv[2]
PATH = os.path.join(DATA, NAME)
SIZE = os.path.getsize(PATH)
ETAG = '"cut-%d"' % SIZE
MTIME = "Sun, 09 Sep 2001 01:46:40 GMT"
LOCK = threading.Lock()
STATE = {"cut": False}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        rng = self.headers.get("Range", "")
        a, b = 0, SIZE - 1
        if rng.startswith("bytes="):
            lo, _, hi = rng[6:].partition("-")
            a, b = int(lo), int(hi) if hi else SIZE - 1
        n = b - a + 1
        if n <= 0 or b >= SIZE:
            # as nginx answers an empty range
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % SIZE)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with LOCK:
            cut = not STATE["cut"] and b == SIZE - 1 and n > 32 << 20
            STATE["cut"] = STATE["cut"] or cut
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(n))
        if rng:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, SIZE))
        self.send_header("ETag", ETAG)
        self.send_header("Last-Modified", MTIME)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.flush()
        sock = self.connection
        with open(PATH, "rb") as f:
            if not cut:
                off = a
                while off <= b:
                    off += os.sendfile(sock.fileno(), f.fileno(), off,
                                       b + 1 - off)
                return
            sent = 0
            while sent < 2 << 20:
                sent += os.sendfile(sock.fileno(), f.fileno(), a + sent,
                                    (2 << 20) - sent)
            time.sleep(0.15)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            sock.close()
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    srv = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()
