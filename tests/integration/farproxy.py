#!/usr/bin/env python3
"""A TCP relay that puts a loopback server far away, for rangecat's tests.

Usage: farproxy.py UPSTREAM_PORT DELAY_MS [--netns NAME] [--listen ADDR]
                   [--port N]

Listens on 127.0.0.1 on a free port and prints "PORT <n>" on stdout once
listening (as faultserver.py does). --listen and --port choose the address
and port instead (port 0: a free one). With --netns the listening socket
is made inside network namespace NAME (a name under /run/netns, entered
with setns(2) for that one socket, as root), while the connections
upstream are made in the namespace the relay was started in: a client
across a real link (farlink.py) reaches a server on this machine's
loopback. DELAY_MS may be 0: a plain relay. Each connection accepted is relayed
to 127.0.0.1:UPSTREAM_PORT, and every piece of data read on either side
is written to the other DELAY_MS after it was read (one way), in order.
A request and its reply thus take 2 x DELAY_MS more than on loopback;
the rate is not limited beyond that (pieces are delayed, not paced: up
to BUFFER bytes a direction may be in flight). An end of data (FIN) is
passed on after the same delay, and so is a reset (RST), so a server's
reset still reaches the client as one. What it cannot delay: the TCP
handshake (the kernel completes it on accept), so connecting is as fast
as on loopback; only the data and the closes are far.
"""
import argparse
import asyncio
import ctypes
import os
import socket
import struct
import sys

CHUNK = 256 * 1024
BUFFER = 32 * 1024 * 1024   # bytes a direction may hold (read, not written)
EOF, RESET = object(), object()


def close(sock, rst):
    """Closes a socket, with an RST rather than a FIN when rst."""
    try:
        if rst:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Direction:
    """One way of a connection: what was read, when, not yet written.
    Plain sockets, not asyncio streams: a stream that meets a reset
    drops the data it holds unread, and a reset after data must reach
    the other side after that data."""

    def __init__(self, delay):
        self.delay = delay
        self.queue = asyncio.Queue()
        self.held = 0
        self.room = asyncio.Event()
        self.room.set()

    async def read(self, src):
        loop = asyncio.get_running_loop()
        try:
            while True:
                data = await loop.sock_recv(src, CHUNK)
                if not data:
                    self.queue.put_nowait((loop.time() + self.delay, EOF))
                    return
                self.queue.put_nowait((loop.time() + self.delay, data))
                self.held += len(data)
                if self.held > BUFFER:
                    self.room.clear()
                    await self.room.wait()
        except OSError:
            self.queue.put_nowait((loop.time() + self.delay, RESET))

    async def write(self, dst):
        """Writes each piece at its time; true when the end was passed on
        as a FIN (the other direction may go on), false on a reset."""
        loop = asyncio.get_running_loop()
        while True:
            when, data = await self.queue.get()
            wait = when - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is EOF:
                dst.shutdown(socket.SHUT_WR)
                return True
            if data is RESET:
                return False
            await loop.sock_sendall(dst, data)
            self.held -= len(data)
            if self.held <= BUFFER:
                self.room.set()


async def relay(upstream_port, delay, client):
    loop = asyncio.get_running_loop()
    upstream = socket.socket()
    upstream.setblocking(False)
    try:
        await loop.sock_connect(upstream, ("127.0.0.1", upstream_port))
    except OSError:
        close(upstream, False)
        close(client, True)
        return
    for s in (client, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    up, down = Direction(delay), Direction(delay)
    readers = [asyncio.create_task(up.read(client)),
               asyncio.create_task(down.read(upstream))]
    writers = [asyncio.create_task(up.write(upstream)),
               asyncio.create_task(down.write(client))]
    clean = True
    try:
        # Both ways ended with a FIN, or one ended badly (a reset read,
        # a write that failed): then both connections are reset.
        pending = set(writers)
        while pending and clean:
            done, pending = await asyncio.wait(
                pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                if t.exception() is not None or not t.result():
                    clean = False
    finally:
        for t in readers + writers:
            t.cancel()
        await asyncio.gather(*readers, *writers, return_exceptions=True)
        close(client, not clean)
        close(upstream, not clean)


CLONE_NEWNET = 0x40000000


def setns(fd):
    """setns(2) into the network namespace fd (Python 3.11 has no
    os.setns); this thread only, as the kernel does it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def listener(netns, addr, port):
    """The listening socket, made inside netns when one is named; this
    thread is back in its own namespace when it returns (a socket stays
    in the namespace it was made in)."""
    if not netns:
        lsock = socket.socket()
        lsock.bind((addr, port))
        return lsock
    home = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(os.path.join("/run/netns", netns),
                         os.O_RDONLY | os.O_CLOEXEC)
        try:
            setns(target)
            try:
                lsock = socket.socket()
                try:
                    lsock.bind((addr, port))
                except OSError:
                    lsock.close()
                    raise
            finally:
                setns(home)   # before anything else, even on a failure
        finally:
            os.close(target)
    finally:
        os.close(home)
    return lsock


def parse_args():
    a = argparse.ArgumentParser(
        description="A TCP relay that delays data, one way, by DELAY_MS.")
    a.add_argument("upstream_port", type=int)
    a.add_argument("delay_ms", type=float)
    a.add_argument("--netns", help="listen inside this network namespace "
                   "(/run/netns/NAME); connect upstream from this one")
    a.add_argument("--listen", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1)")
    a.add_argument("--port", type=int, default=0,
                   help="the port to listen on (default 0: a free one)")
    return a.parse_args()


async def main(args):
    upstream_port, delay = args.upstream_port, args.delay_ms / 1000
    loop = asyncio.get_running_loop()
    try:
        lsock = listener(args.netns, args.listen, args.port)
    except OSError as e:
        sys.exit("farproxy.py: cannot listen on %s port %d%s: %s" % (
            args.listen, args.port,
            " in netns " + args.netns if args.netns else "", e))
    lsock.listen(512)
    lsock.setblocking(False)
    print("PORT %d" % lsock.getsockname()[1], flush=True)
    tasks = set()
    while True:
        client, _ = await loop.sock_accept(lsock)
        client.setblocking(False)
        t = asyncio.create_task(relay(upstream_port, delay, client))
        tasks.add(t)
        t.add_done_callback(tasks.discard)


if __name__ == "__main__":
    try:
        asyncio.run(main(parse_args()))
    except KeyboardInterrupt:
        pass
