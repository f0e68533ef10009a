#!/usr/bin/env python3
"""CPU cost of one fsync'd append on this machine's file system, as the event log's I/O thread pays it:
N appends of a 300-byte line, each followed by fdatasync, to a file growing at its end and to one whose
blocks were written (zeros) beforehand; prints CPU (user+system) and wall time per append, twice each.
With --direct, two more ways into pre-written blocks, for comparison (the log does neither): each append as a
write on a file opened O_DSYNC, and as a rewrite of the line's whole 4 KiB block on a file opened
O_DIRECT | O_DSYNC (the page cache bypassed; consumers reading the records back would then read the disk).

    python3 loadtest/scripts/fsync-cost.py [--direct] [DIR]   # DIR: where the file goes (default: the working directory)
"""
import os
import resource
import sys
import time

N = 1000
LINE = b"x" * 300 + b"\n"


def run(path, prewritten):
    if os.path.exists(path):
        os.remove(path)
    fd = os.open(path, os.O_CREAT | os.O_RDWR)
    if prewritten:
        os.write(fd, b"\0" * (N * len(LINE) + 4096))
        os.fsync(fd)
        os.lseek(fd, 0, 0)
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.time()
    for _ in range(N):
        os.write(fd, LINE)
        os.fdatasync(fd)
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.time()
    os.close(fd)
    os.remove(path)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / N * 1e6
    sys_us = (r1.ru_stime - r0.ru_stime) / N * 1e6
    print(f"{'pre-written' if prewritten else 'growing':12s} CPU {cpu:6.1f} us/append (system {sys_us:6.1f}), "
          f"wall {(t1 - t0) / N * 1e6:6.0f} us/append")


def run_sync_flags(path, direct):
    """Appends into pre-written blocks with the file opened O_DSYNC (and O_DIRECT: whole aligned 4 KiB blocks)."""
    import mmap
    if os.path.exists(path):
        os.remove(path)
    fd = os.open(path, os.O_CREAT | os.O_RDWR)
    os.write(fd, b"\0" * (N * len(LINE) + 8192))
    os.fsync(fd)
    os.close(fd)
    fd = os.open(path, os.O_RDWR | os.O_DSYNC | (os.O_DIRECT if direct else 0))
    block = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT needs
    block.write(LINE)
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.time()
    for i in range(N):
        if direct:
            os.pwritev(fd, [block], i * len(LINE) // 4096 * 4096)
        else:
            os.pwrite(fd, LINE, i * len(LINE))
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.time()
    os.close(fd)
    os.remove(path)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / N * 1e6
    name = "O_DIRECT|O_DSYNC 4K" if direct else "O_DSYNC"
    print(f"{name:20s} CPU {cpu:6.1f} us/append, wall {(t1 - t0) / N * 1e6:6.0f} us/append")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--direct"]
    target = os.path.join(args[0] if args else ".", "fsync-cost.tmp")
    for _ in range(2):
        run(target, False)
        run(target, True)
        if "--direct" in sys.argv[1:]:
            run_sync_flags(target, False)
            run_sync_flags(target, True)
