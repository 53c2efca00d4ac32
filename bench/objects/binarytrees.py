"""binarytrees.py - the Benchmarks Game's binary-trees workload in CPython.

    python3 binarytrees.py tuple|slots DEPTH

  tuple  nodes are 2-tuples (left, right), leaves (None, None): the
         Benchmarks Game's Python program, the fastest idiom in CPython
  slots  nodes are instances of a class with __slots__ = ('left', 'right'):
         the direct analogue of the C user type

The cycle collector stays enabled, as in the Benchmarks Game. Output: the
same lines as bench/objects/binarytrees.c, then "@ impl=... time_s=..." with
the wall time (time.perf_counter) of the workload, interpreter start-up not
included.
"""
import sys
import time


def make_tuple(d):
    return (make_tuple(d - 1), make_tuple(d - 1)) if d > 0 else (None, None)


def check_tuple(node):
    left, right = node
    return 1 if left is None else 1 + check_tuple(left) + check_tuple(right)


class Node:
    __slots__ = ("left", "right")

    def __init__(self, left, right):
        self.left = left
        self.right = right


def make_slots(d):
    return Node(make_slots(d - 1), make_slots(d - 1)) if d > 0 else Node(None, None)


def check_slots(node):
    return 1 if node.left is None else 1 + check_slots(node.left) + check_slots(node.right)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("tuple", "slots"):
        sys.exit("usage: binarytrees.py tuple|slots DEPTH")
    variant, n = sys.argv[1], int(sys.argv[2])
    make, check = (make_tuple, check_tuple) if variant == "tuple" else (make_slots, check_slots)
    sys.setrecursionlimit(10000)
    min_depth = 4
    max_depth = max(min_depth + 2, n)
    out = []

    t0 = time.perf_counter()
    out.append("stretch tree of depth %d\t check: %d" % (max_depth + 1, check(make(max_depth + 1))))
    long_lived = make(max_depth)
    for d in range(min_depth, max_depth + 1, 2):
        iterations = 2 ** (max_depth - d + min_depth)
        total = 0
        for _ in range(iterations):
            total += check(make(d))
        out.append("%d\t trees of depth %d\t check: %d" % (iterations, d, total))
    out.append("long lived tree of depth %d\t check: %d" % (max_depth, check(long_lived)))
    del long_lived
    t1 = time.perf_counter()

    print("\n".join(out))
    print("@ impl=cpython-%s depth=%d time_s=%.6f" % (variant, n, t1 - t0))


if __name__ == "__main__":
    main()
