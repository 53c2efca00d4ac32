"""live.py - benchmark 2, CPython side: a full gc.collect() with N live
tracked objects and no garbage.

    python3 live.py N [COLLECTS]

A list of N instances of a class with __slots__ = ('other',), each holding a
distinct int (the shape of `gcbench live N`). Built with the collector
disabled after gc.freeze() of the start-up objects; one untimed gc.collect(),
then COLLECTS (default 3) timed ones; the best is reported.

Checks: every collection returns 0, and every object still holds its value.
"""
import gc
import sys
import time


class Node:
    __slots__ = ('other',)


def main():
    n = int(sys.argv[1])
    collects = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    gc.disable()
    gc.collect()
    gc.freeze()
    b0 = time.perf_counter()
    root = []
    append = root.append
    for i in range(n):
        x = Node()
        x.other = 1000 + i
        append(x)
    b1 = time.perf_counter()
    r = gc.collect()
    if r != 0:
        sys.exit(f"live.py: CHECK FAILED: warm-up collection found {r}")
    times = []
    for c in range(collects):
        t0 = time.perf_counter()
        r = gc.collect()
        t1 = time.perf_counter()
        if r != 0:
            sys.exit(f"live.py: CHECK FAILED: collection {c} found {r}")
        times.append(t1 - t0)
    if len(root) != n or any(x.other != 1000 + i for i, x in enumerate(root)):
        sys.exit("live.py: CHECK FAILED: live objects damaged")
    if not gc.is_tracked(root[0]):
        sys.exit("live.py: CHECK FAILED: the nodes are not tracked")
    best = min(times)
    print(f"@ bench=live impl=cpython n={n} tracked={n + 1} build_s={b1 - b0:.6f} "
          f"collects={collects} collect_s={best:.6f} mean_s={sum(times) / collects:.6f} "
          f"ns_per_obj={best * 1e9 / n:.3f}")


main()
