"""live.py - benchmark 2, CPython side: a full gc.collect() with N live
tracked objects and no garbage.

    python3 live.py seq|rand N [COLLECTS]

The graph of `gcbench live SHAPE N`: N instances of a class with
__slots__ = ('a', 'b'), held from a root list of lists of 1000; seq: node i
points to i+1 and i+2 (mod N); rand: to two uniformly random nodes, drawn
from the same PRNG with the same seed as gcbench.c and boehm_live.c (a
64-bit LCG, Knuth's MMIX constants; an index below n is
((x >> 32) * n) >> 32), a then b, node by node. Built with the collector
disabled after gc.freeze() of the start-up objects; one untimed
gc.collect(), then COLLECTS (default 3) timed ones; the best and the median
are reported.

Checks: every collection returns 0, and every node still has its links.
"""
import gc
import sys
import time

GRAPH_SEED = 20261206
FANOUT = 1000
MASK = (1 << 64) - 1
MUL = 6364136223846793005
INC = 1442695040888963407


class Node:
    __slots__ = ('a', 'b')


def links(n, rand):
    """The (a, b) indices of node i, for i in 0..n-1."""
    if not rand:
        for i in range(n):
            yield (i + 1) % n, (i + 2) % n
        return
    x = GRAPH_SEED + 1
    for _ in range(n):
        x = (x * MUL + INC) & MASK
        a = ((x >> 32) * n) >> 32
        x = (x * MUL + INC) & MASK
        yield a, ((x >> 32) * n) >> 32


def main():
    shape, n = sys.argv[1], int(sys.argv[2])
    collects = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    if shape not in ('seq', 'rand') or n < 3 or collects < 1:
        sys.exit('usage: live.py seq|rand N [COLLECTS]')
    rand = shape == 'rand'
    gc.disable()
    gc.collect()
    gc.freeze()
    b0 = time.perf_counter()
    nodes = [Node() for _ in range(n)]
    root = [nodes[i:i + FANOUT] for i in range(0, n, FANOUT)]
    for x, (a, b) in zip(nodes, links(n, rand)):
        x.a = nodes[a]
        x.b = nodes[b]
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
    i = 0
    for leaf in root:
        for x in leaf:
            if x is not nodes[i]:
                sys.exit(f"live.py: CHECK FAILED: root slot {i} damaged")
            i += 1
    if i != n:
        sys.exit(f"live.py: CHECK FAILED: the root holds {i} nodes, expected {n}")
    for i, (x, (a, b)) in enumerate(zip(nodes, links(n, rand))):
        if x.a is not nodes[a] or x.b is not nodes[b]:
            sys.exit(f"live.py: CHECK FAILED: node {i} damaged")
    if not gc.is_tracked(nodes[0]):
        sys.exit("live.py: CHECK FAILED: the nodes are not tracked")
    best = min(times)
    med = sorted(times)[collects // 2]
    print(f"@ bench=live impl=cpython shape={shape} n={n} tracked={n + len(root) + 1} "
          f"build_s={b1 - b0:.6f} collects={collects} collect_s={best:.6f} med_s={med:.6f} "
          f"mean_s={sum(times) / collects:.6f} ns_per_obj={best * 1e9 / n:.3f} "
          f"med_ns_per_obj={med * 1e9 / n:.3f}")


main()
