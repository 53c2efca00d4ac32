"""containers.py - the work of bench/objects/containers.c in CPython.

    python3 containers.py dict|list|array time|mem [N]

  dict   N distinct str keys f"key{i}" (default 1,000,000): build the keys,
         insert d[key] = i, then look every key up in a scattered order
         (i * 7919 mod N)
  list   N calls of lst.append(i) (default 10,000,000)
  array  N calls of a.append(i) on array.array('q') (default 10,000,000)

time: phase times as "@ name=value" pairs (time.perf_counter, seconds) and the
      same checksum line as containers.c.
mem:  builds the same container (no timing) and prints "@mem ..." with
      sys.getsizeof(container); deep = getsizeof(container) + getsizeof of
      every key and value (each is a distinct object here); rss_kb, the delta
      of VmRSS over the build; then frees it, builds it again under
      tracemalloc and gives traced, the delta of tracemalloc's current traced
      memory (bytes requested from Python's allocators, still live).
"""
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
    if len(args) not in (2, 3) or args[0] not in ("dict", "list", "array") \
            or args[1] not in ("time", "mem"):
        sys.exit("usage: containers.py dict|list|array time|mem [N]")
    which, mode = args[0], args[1]
    n = int(args[2]) if len(args) == 3 else (1000000 if which == "dict" else 10000000)
    if mode == "mem":
        mem(which, n)
    else:
        {"dict": dict_time, "list": list_time, "array": array_time}[which](n)


if __name__ == "__main__":
    main()
