"""lru.py - functools.lru_cache, the counterpart of bench/objects/lru.c.

    python3 lru.py N      N calls per variant; prints one "@ name_ns=..." line

A @lru_cache(maxsize=128) function returning its (first) argument, called
in a for loop over prebuilt arguments: hit (128 keys, all cached) and miss
with eviction (256 keys cycling), one int argument f(x) and three f(a, b, c)
(functools keys them by the argument tuple, built per call). Ints are
1000.. as in the C program. Also the loop alone (loop_ns), informative.
"""
import sys
import time
from functools import lru_cache


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    ints = [1000 + i for i in range(256)]
    out = []
    sums = {"int": 0, "tuple": 0}

    @lru_cache(maxsize=128)
    def warm(x):
        return x

    for x in [ints[i % 128] for i in range(n)]:   # untimed, as lru.c's
        warm(x)
    for kind, count in (("hit", 128), ("miss", 256)):
        keys = [ints[i % count] for i in range(n)]
        triples = [(ints[i % count], ints[(i % count + 1) % 256], ints[(i % count + 2) % 256])
                   for i in range(n)]

        @lru_cache(maxsize=128)
        def f(x):
            return x

        for x in ints[:128]:
            f(x)
        s = 0
        t = time.perf_counter_ns()
        for x in keys:
            s += f(x)
        dt = time.perf_counter_ns() - t
        sums["int"] += s
        out.append("int_%s_ns=%.2f" % (kind, dt / n))

        @lru_cache(maxsize=128)
        def g(a, b, c):
            return a

        for i in range(128):
            g(ints[i], ints[(i + 1) % 256], ints[(i + 2) % 256])
        s = 0
        t = time.perf_counter_ns()
        for a, b, c in triples:
            s += g(a, b, c)
        dt = time.perf_counter_ns() - t
        sums["tuple"] += s
        out.append("tuple_%s_ns=%.2f" % (kind, dt / n))

        s = 0
        t = time.perf_counter_ns()
        for x in keys:
            s += x
        out.append("loop_%s_ns=%.2f" % (kind, (time.perf_counter_ns() - t) / n))
        info = f.cache_info()
        if kind == "miss" and info.hits > 128:
            raise SystemExit("the miss pattern hit: %r" % (info,))
    print("@ " + " ".join(out))
    print("int %d\ntuple %d" % (sums["int"], sums["tuple"]))


main()
