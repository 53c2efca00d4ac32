"""footprint.py - the CPython side of bench/objects/footprint.sh: the
containers footprint.c builds, built the same way, and the same lines.

    python3 footprint.py mem NAME N traced   tracemalloc on over the build:
        alloc NAME N BYTES   growth of the traced memory (bytes requested from
                             Python's allocators and still live; no rounding)
        blocks NAME N BYTES  the same traces at the sizes of the blocks that
                             pymalloc and glibc's malloc hand out
        deep NAME N BYTES    sys.getsizeof of the container and of every
                             distinct object in it (what rc_deep_sizeof counts)
    python3 footprint.py mem NAME N rss      tracemalloc off (its own tables
        rss NAME N BYTES     would be counted): growth of VmRSS over the build
    python3 footprint.py grow NAME MAX
        grow NAME N BYTES    sys.getsizeof after N items, N = 0, 1, 5, 10, ...
        resizes NAME K C     C: how many of the first K = min(MAX, 100000)
                             additions changed sys.getsizeof

NAMEs as in footprint.c. Ints from range() are new objects above 256 and the
cached small ints below, as recycle's rc_int makes them."""
import array
import sys
import tracemalloc

RESIZE_SPAN = 100000
MARKS = (0, 1, 5, 10, 100, 1000, 10000, 100000, 1000000, 10000000)


def rss_bytes():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    sys.exit('footprint.py: no VmRSS in /proc/self/status')


def add_dict_str(d, i):
    d['key%d' % i] = i


def add_dict_int(d, i):
    d[i] = i


def add_list_tuple2(lst, i):
    lst.append((i, i))


def build_tuple(n):
    lst = []
    for i in range(n):
        lst.append(i)
    return tuple(lst)


MEM_KINDS = {
    'dict-str': (dict, add_dict_str),
    'dict-int': (dict, add_dict_int),
    'set-int': (set, set.add),
    'list-int': (list, list.append),
    'tuple-int': (None, None),
    'list-tuple2': (list, add_list_tuple2),
}

GROW_KINDS = {
    'list': (list, list.append),
    'dict-int': (dict, add_dict_int),
    'dict-str': (dict, add_dict_str),
    'set': (set, set.add),
    'array': (lambda: array.array('q'), array.array.append),
}


def build(name, n):
    make, add = MEM_KINDS[name]
    if make is None:
        return build_tuple(n)
    c = make()
    for i in range(n):
        add(c, i)
    return c


def deep_size(c):
    """getsizeof of c and of every distinct object reachable through the
    items (keys and values of a dict, the items of a tuple), each once."""
    seen = set()
    total = 0
    todo = [c]
    while todo:
        o = todo.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            todo.extend(o.keys())
            todo.extend(o.values())
        elif isinstance(o, (list, tuple, set)):
            todo.extend(o)
    return total


MMAP_THRESHOLD = 128 * 1024   # glibc's default M_MMAP_THRESHOLD
PAGE = 4096


def block_size(size):
    """The bytes an allocation of size takes where CPython 3.11 puts it:
    pymalloc's 16-byte steps up to 512 bytes; above, a glibc malloc chunk
    (8 bytes of header, 16-byte steps, 32 at least), or from the default mmap
    threshold on, whole pages for the request and its 16-byte header."""
    if size <= 512:
        return (size + 15) & ~15
    if size < MMAP_THRESHOLD:
        return max(32, (size + 8 + 15) & ~15)
    return (size + 16 + PAGE - 1) & ~(PAGE - 1)


def pymalloc_blocks(snapshot):
    """The traced blocks at the sizes CPython's allocators hand out."""
    return sum(block_size(trace.size) for trace in snapshot.traces)


def run_mem(name, n, how):
    if how == 'traced':
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        blocks_before = pymalloc_blocks(tracemalloc.take_snapshot())
        c = build(name, n)
        alloc = tracemalloc.get_traced_memory()[0] - before
        blocks = pymalloc_blocks(tracemalloc.take_snapshot()) - blocks_before
        tracemalloc.stop()
        print('alloc %s %d %d' % (name, n, alloc))
        print('blocks %s %d %d' % (name, n, blocks))
        print('deep %s %d %d' % (name, n, deep_size(c)))
    else:
        rss0 = rss_bytes()
        c = build(name, n)
        rss1 = rss_bytes()
        print('rss %s %d %d' % (name, n, rss1 - rss0))
    del c


def run_grow(name, limit):
    make, add = GROW_KINDS[name]
    span = min(limit, RESIZE_SPAN)
    marks = [m for m in MARKS if m <= limit]
    c = make()
    done = 0
    resizes = 0
    prev = sys.getsizeof(c)
    # Additions between two marks in one loop each; the first span's with a
    # size check after every one, the rest without (10**7 checks would
    # dominate the run).
    for m in marks:
        if done < span:
            for i in range(done, min(m, span)):
                add(c, i)
                now = sys.getsizeof(c)
                resizes += now != prev
                prev = now
            done = max(done, min(m, span))
        for i in range(done, m):
            add(c, i)
        done = max(done, m)
        print('grow %s %d %d' % (name, m, sys.getsizeof(c)))
    print('resizes %s %d %d' % (name, span, resizes))


def main():
    args = sys.argv[1:]
    if len(args) == 4 and args[0] == 'mem' and args[1] in MEM_KINDS \
            and args[3] in ('traced', 'rss'):
        run_mem(args[1], int(args[2]), args[3])
    elif len(args) == 3 and args[0] == 'grow' and args[1] in GROW_KINDS:
        run_grow(args[1], int(args[2]))
    else:
        sys.exit('usage: footprint.py mem NAME N traced|rss | footprint.py grow NAME MAX')


if __name__ == '__main__':
    main()
