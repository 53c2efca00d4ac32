"""cycles.py - benchmark 1, CPython side: gc.collect() of N unreachable
objects in cycles.

    python3 cycles.py pairs|ring N

The objects are instances of a class with __slots__ of four names (the shape
of gcbench's qnode): next and prev are the cycle links (pairs: both point to
the partner; ring: a doubly linked ring), value points to one int shared by
all of them, extra stays None. They are built with the collector disabled, every
reference from outside is dropped, then one gc.collect() is timed
(time.perf_counter). The interpreter's own start-up objects are moved to the
permanent generation first (gc.freeze()), so that the collection sees only
the benchmark's objects, as recycle's does.

Checks: gc.collect() returns N, and the objects the collector tracks go
from (start-up count + N) back to the start-up count (len(gc.get_objects()),
untimed). Output: one "@ ..." line, as gcbench.c prints.
"""
import gc
import sys
import time


class Node:
    __slots__ = ('next', 'prev', 'value', 'extra')

    def __init__(self, value):
        self.next = self.prev = self.extra = None
        self.value = value


SHARED = int('123456789')   # one int object shared by all the nodes


def build_pairs(n):
    for _ in range(n // 2):
        a = Node(SHARED)
        b = Node(SHARED)
        a.next = a.prev = b
        b.next = b.prev = a


def build_ring(n):
    first = prev = Node(SHARED)
    for _ in range(n - 1):
        x = Node(SHARED)
        prev.next = x
        x.prev = prev
        prev = x
    prev.next = first
    first.prev = prev


def main():
    shape, n = sys.argv[1], int(sys.argv[2])
    if n < 2 or n % 2:
        sys.exit("N must be even and >= 2")
    build = {'pairs': build_pairs, 'ring': build_ring}[shape]
    gc.disable()
    gc.collect()
    gc.freeze()
    base = len(gc.get_objects())
    b0 = time.perf_counter()
    build(n)
    b1 = time.perf_counter()
    built = len(gc.get_objects())
    if built != base + n:
        sys.exit(f"cycles.py: CHECK FAILED: {built} tracked objects, expected {base + n}")
    t0 = time.perf_counter()
    found = gc.collect()
    t1 = time.perf_counter()
    if found != n:
        sys.exit(f"cycles.py: CHECK FAILED: gc.collect() returned {found}, expected {n}")
    left = len(gc.get_objects())
    if left != base:
        sys.exit(f"cycles.py: CHECK FAILED: {left} tracked objects left, expected {base}")
    s = t1 - t0
    print(f"@ bench=cycles impl=cpython shape={shape} n={n} collected={found} "
          f"build_s={b1 - b0:.6f} collect_s={s:.6f} ns_per_obj={s * 1e9 / n:.3f}")


main()
