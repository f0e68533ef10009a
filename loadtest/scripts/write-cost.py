#!/usr/bin/env python3
"""CPU cost of one small write to a TCP client on loopback on this machine: the floor under what a streamed
answer's write costs the gateway's event loop, with no Java, Netty or HTTP in it. A sender writes N messages of
SIZE bytes (one SSE event is ~150), TCP_NODELAY, each to a reader in another process that waits in epoll_wait
and reads what came, as wrk does; the writes are paced GAP microseconds apart, so each one finds the reader
asleep and wakes it, as a token does. Prints the sender's thread CPU per write (the write system call, with the
loopback delivery and the wake-up it does in the sender's context) and the reader's CPU per wake-up, for a few
gaps. The gateway's CPU per streamed token is at least the write's figure times the client writes per token.

    python3 loadtest/scripts/write-cost.py [N] [SIZE]   # defaults: 20000 writes of 150 bytes
"""
import os
import select
import socket
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 150


def reader(port, out):
    s = socket.create_connection(("127.0.0.1", port))
    ep = select.epoll()
    ep.register(s.fileno(), select.EPOLLIN)
    wakes = 0
    c0 = time.process_time()
    while True:
        ep.poll()
        data = s.recv(65536)
        if not data:
            break
        wakes += 1
    c1 = time.process_time()
    os.write(out, f"{wakes} {(c1 - c0) / max(wakes, 1) * 1e6:.2f}\n".encode())


def run(gap_us):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        reader(ls.getsockname()[1], w)
        os._exit(0)
    os.close(w)
    s, _ = ls.accept()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    fd, msg = s.fileno(), b"x" * SIZE
    cpu = 0.0
    thread = time.CLOCK_THREAD_CPUTIME_ID
    for _ in range(N):
        t0 = time.clock_gettime(thread)
        os.write(fd, msg)
        cpu += time.clock_gettime(thread) - t0
        if gap_us:
            time.sleep(gap_us / 1e6)
    s.close()
    os.waitpid(pid, 0)
    wakes, per_wake = os.read(r, 100).decode().split()
    print(f"every {gap_us:4d} us: sender {cpu / N * 1e6:6.2f} us CPU per write; reader {per_wake} us CPU per wake-up "
          f"({wakes} wake-ups for {N} writes)")


if __name__ == "__main__":
    print(f"{N} writes of {SIZE} bytes over loopback TCP (TCP_NODELAY), the reader in epoll_wait:")
    for gap in (1000, 200, 50):
        run(gap)
