"""containers.py - the work of bench/objects/containers.c in CPython.

    python3 containers.py dict|list|array time|mem [N]
    python3 containers.py dictops time [N]

  dict   N distinct str keys f"key{i}" (default 1,000,000): build the keys,
         insert d[key] = i, then look every key up in a scattered order
         (i * 7919 mod N)
  list   N calls of lst.append(i) (default 10,000,000)
  array  N calls of a.append(i) on array.array('q') (default 10,000,000)
  dictops N calls (default 1,000,000) of each operation on a dict of 1,000
         str keys, in a scattered key order, in ns per call (loop included):
           hit            d[k]
           miss_get       try: d[k] except KeyError: pass
           miss_get_msg   the same, with str() of the KeyError
           miss_find      d.get(k) of an absent key
           miss_contains  k in d, absent
           find_str       d.get(k), present (Python has no lookup by C string)
           get_str        d[k], present
           build_str      d[b.decode()] with b the key's bytes (a str is built)
           wc_incr        c[w] += 1 on a collections.defaultdict(int)
           wc_find_set    d[w] = d.get(w, 0) + 1

time: phase times as "@ name=value" pairs (time.perf_counter, seconds) and the
      same checksum line as containers.c.
mem:  builds the same container (no timing) and prints "@mem ..." with
      sys.getsizeof(container); deep = getsizeof(container) + getsizeof of
      every key and value (each is a distinct object here); rss_kb, the delta
      of VmRSS over the build; then frees it, builds it again under
      tracemalloc and gives traced, the delta of tracemalloc's current traced
      memory (bytes requested from Python's allocators, still live).
"""
import collections
import gc
import sys
import time
import tracemalloc
from array import array

STRIDE = 7919
perf_counter = time.perf_counter


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def build_dict(n):
    d = {}
    for i in range(n):
        d[f"key{i}"] = i
    return d


def build_list(n):
    lst = []
    for i in range(n):
        lst.append(i)
    return lst


def build_array(n):
    a = array("q")
    for i in range(n):
        a.append(i)
    return a


def dict_time(n):
    rss0 = rss_kb()
    t0 = perf_counter()
    keys = [f"key{i}" for i in range(n)]
    t1 = perf_counter()
    d = {}
    for i, k in enumerate(keys):
        d[k] = i
    t2 = perf_counter()
    rss1 = rss_kb()

    order = [keys[(i * STRIDE) % n] for i in range(n)]
    t3 = perf_counter()
    s = 0
    for k in order:
        s += d[k]
    t4 = perf_counter()

    keybytes = sum(len(k) for k in keys)
    length = len(d)
    del order
    t5 = perf_counter()
    del keys
    del d
    t6 = perf_counter()
    print("dict n=%d len=%d keybytes=%d sum=%d" % (n, length, keybytes, s))
    print("@ impl=cpython bench=dict n=%d keys_s=%.6f insert_s=%.6f build_s=%.6f lookup_s=%.6f "
          "free_s=%.6f rss_kb=%d" % (n, t1 - t0, t2 - t1, t2 - t0, t4 - t3, t6 - t5, rss1 - rss0))


def dictops_time(n):
    nk = 1000
    keys = [f"key{i}" for i in range(nk)]
    misses = ["m" + k[1:] for k in keys]
    raw = [k.encode() for k in keys]
    d = {k: i for i, k in enumerate(keys)}
    order = [(i * STRIDE) % nk for i in range(n)]
    okeys = [keys[j] for j in order]
    omiss = [misses[j] for j in order]
    oraw = [raw[j] for j in order]
    s = 0
    t = [perf_counter()]
    for k in okeys:
        s += d[k]
    t.append(perf_counter())
    for k in omiss:
        try:
            d[k]
        except KeyError:
            s += 1
    t.append(perf_counter())
    for k in omiss:
        try:
            d[k]
        except KeyError as e:
            s += len(str(e)) > 0
    t.append(perf_counter())
    for k in omiss:
        s += d.get(k) is None
    t.append(perf_counter())
    for k in omiss:
        s += k in d
    t.append(perf_counter())
    for k in okeys:
        s += d.get(k)
    t.append(perf_counter())
    for k in okeys:
        s += d[k]
    t.append(perf_counter())
    for b in oraw:
        s += d[b.decode()]
    t.append(perf_counter())
    wc1 = collections.defaultdict(int)
    wc2 = {}
    t.append(perf_counter())
    for w in okeys:
        wc1[w] += 1
    t.append(perf_counter())
    for w in okeys:
        wc2[w] = wc2.get(w, 0) + 1
    t.append(perf_counter())
    total1, total2 = sum(wc1.values()), sum(wc2.values())
    assert total1 == n and total2 == n, "word counts differ"

    def ns(a, b):
        return (t[b] - t[a]) * 1e9 / n
    print("dictops n=%d keys=%d words=%d" % (n, nk, total1))
    print("@ impl=cpython bench=dictops n=%d hit_ns=%.1f miss_get_ns=%.1f miss_get_msg_ns=%.1f "
          "miss_find_ns=%.1f miss_contains_ns=%.1f find_str_ns=%.1f get_str_ns=%.1f "
          "build_str_ns=%.1f wc_incr_ns=%.1f wc_find_set_ns=%.1f"
          % (n, ns(0, 1), ns(1, 2), ns(2, 3), ns(3, 4), ns(4, 5), ns(5, 6), ns(6, 7), ns(7, 8),
             ns(9, 10), ns(10, 11)))


def list_time(n):
    rss0 = rss_kb()
    lst = []
    t0 = perf_counter()
    for i in range(n):
        lst.append(i)
    t1 = perf_counter()
    rss1 = rss_kb()
    s = sum(lst)
    length = len(lst)
    t2 = perf_counter()
    del lst
    t3 = perf_counter()
    print("list n=%d len=%d sum=%d" % (n, length, s))
    print("@ impl=cpython bench=list n=%d append_s=%.6f free_s=%.6f rss_kb=%d"
          % (n, t1 - t0, t3 - t2, rss1 - rss0))


def array_time(n):
    rss0 = rss_kb()
    a = array("q")
    t0 = perf_counter()
    for i in range(n):
        a.append(i)
    t1 = perf_counter()
    rss1 = rss_kb()
    s = sum(a)
    length = len(a)
    t2 = perf_counter()
    del a
    t3 = perf_counter()
    print("array n=%d len=%d sum=%d" % (n, length, s))
    print("@ impl=cpython bench=array n=%d append_s=%.6f free_s=%.6f rss_kb=%d"
          % (n, t1 - t0, t3 - t2, rss1 - rss0))


def mem(which, n):
    build = {"dict": build_dict, "list": build_list, "array": build_array}[which]
    gc.collect()
    rss0 = rss_kb()
    c = build(n)
    rss1 = rss_kb()
    size = sys.getsizeof(c)
    if which == "dict":
        deep = size + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in c.items())
    elif which == "list":
        deep = size + sum(sys.getsizeof(v) for v in c)
    else:
        deep = size          # an array holds raw numbers, no objects
    length = len(c)
    del c
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    c = build(n)
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del c
    print("@mem impl=cpython container=%s n=%d sizeof=%d deep=%d traced=%d rss_kb=%d"
          % (which, n, size, deep, traced, rss1 - rss0))
    print("%s n=%d len=%d" % (which, n, length))


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 3) or args[0] not in ("dict", "list", "array", "dictops") \
            or args[1] not in ("time", "mem") or (args[0] == "dictops" and args[1] != "time"):
        sys.exit("usage: containers.py dict|list|array time|mem [N]\n"
                 "       containers.py dictops time [N]")
    which, mode = args[0], args[1]
    n = int(args[2]) if len(args) == 3 else (1000000 if which.startswith("dict") else 10000000)
    if mode == "mem":
        mem(which, n)
    else:
        {"dict": dict_time, "list": list_time, "array": array_time,
         "dictops": dictops_time}[which](n)


if __name__ == "__main__":
    main()
