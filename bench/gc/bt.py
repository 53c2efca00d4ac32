"""bt.py - benchmark 4, CPython side, for scale: binary-trees with nodes the
collector tracks, with the collector enabled and disabled.

    python3 bt.py on|off DEPTH

Nodes are instances of a class with __slots__ = ('left', 'right'): like
gcbench's tnode, every node is a tracked container, so the automatic
collections (thresholds 700, 10, 10) see them all. "off" calls gc.disable()
before the workload. The workload is the Benchmarks Game's (a stretch tree,
a long-lived tree, then 2**(DEPTH - d + 4) trees of each depth d = 4, 6, ...),
timed with time.perf_counter. Output: the total node count as a check, then
one "@ ..." line, as gcbench.c prints.
"""
import gc
import sys
import time


class Node:
    __slots__ = ('left', 'right')

    def __init__(self, left, right):
        self.left = left
        self.right = right


def make(depth):
    if depth == 0:
        return Node(None, None)
    return Node(make(depth - 1), make(depth - 1))


def count(node):
    if node.left is None:
        return 1
    return 1 + count(node.left) + count(node.right)


def peak_rss_kb():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ('on', 'off'):
        sys.exit('usage: bt.py on|off DEPTH')
    mode, depth = sys.argv[1], int(sys.argv[2])
    if mode == 'off':
        gc.disable()
    before = gc.get_stats()
    t0 = time.perf_counter()
    total = count(make(depth + 1))
    keep = make(depth)
    for d in range(4, depth + 1, 2):
        for _ in range(2 ** (depth - d + 4)):
            total += count(make(d))
    total += count(keep)
    elapsed = time.perf_counter() - t0
    after = gc.get_stats()
    runs = [a['collections'] - b['collections'] for a, b in zip(after, before)]
    if mode == 'off' and any(runs):
        sys.exit('bt.py: the collector ran while disabled')
    print(f'nodes {total}')
    print(f'@ bench=bt impl=cpython-slots-{mode} depth={depth} time_s={elapsed:.6f} '
          f'gc0={runs[0]} gc1={runs[1]} gc2={runs[2]} peak_rss_kb={peak_rss_kb()}')


if __name__ == '__main__':
    main()
