"""binarytrees.py - the twin of bench/trace/binarytrees.c in CPython.

    python3 binarytrees.py time NFRAMES DEPTH   NFRAMES 0: untraced; else tracemalloc.start(NFRAMES)
    python3 binarytrees.py mem NFRAMES DEPTH    one live tree: tracemalloc's memory per trace,
                                                snapshot and statistics times

Nodes are instances of a class with __slots__ (left, right, payload): the
struct of the C program. Same output lines as the C program.
"""
import sys
import time
import tracemalloc


class Node:
    __slots__ = ("left", "right", "payload")

    def __init__(self, left, right, payload):
        self.left = left
        self.right = right
        self.payload = payload


def make(d):
    return Node(make(d - 1), make(d - 1), d) if d > 0 else Node(None, None, d)


def check(n):
    return 1 if n.left is None else 1 + check(n.left) + check(n.right)


def run_time(nframes, n):
    min_depth = 4
    max_depth = max(min_depth + 2, n)
    t0 = time.perf_counter()
    if nframes:
        tracemalloc.start(nframes)
    print("stretch tree of depth %d\t check: %d" % (max_depth + 1, check(make(max_depth + 1))))
    long_lived = make(max_depth)
    for d in range(min_depth, max_depth + 1, 2):
        iterations = 2 ** (max_depth - d + min_depth)
        total = 0
        for _ in range(iterations):
            total += check(make(d))
        print("%d\t trees of depth %d\t check: %d" % (iterations, d, total))
    print("long lived tree of depth %d\t check: %d" % (max_depth, check(long_lived)))
    del long_lived
    tracemalloc.stop()
    t1 = time.perf_counter()
    print("@ frames=%d depth=%d time_s=%.6f" % (nframes, n, t1 - t0))


def run_mem(nframes, depth):
    tracemalloc.start(max(nframes, 1))
    t = make(depth)
    t0 = time.perf_counter()
    s = tracemalloc.take_snapshot()
    t1 = time.perf_counter()
    ntr = len(s.traces)
    mem = tracemalloc.get_tracemalloc_memory()
    print("@ frames=%d traces=%d tracer_bytes=%d bytes_per_trace=%.1f snapshot_s=%.6f"
          % (nframes, ntr, mem, mem / ntr, t1 - t0))
    for key in ("filename", "lineno", "traceback"):
        a = time.perf_counter()
        st = s.statistics(key)
        b = time.perf_counter()
        print("@ stats_key=%s pass=cold traces=%d stats_s=%.6f groups=%d" % (key, ntr, b - a, len(st)))
    del t


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("time", "mem"):
        sys.exit("usage: binarytrees.py time|mem NFRAMES DEPTH")
    sys.setrecursionlimit(10000)
    (run_time if sys.argv[1] == "time" else run_mem)(int(sys.argv[2]), int(sys.argv[3]))


if __name__ == "__main__":
    main()
