#!/usr/bin/env python3
"""make_corpus.py - write the seed corpora of the fuzz targets.

    python3 tests/fuzz/make_corpus.py        (from anywhere)

Each seed is a small program in the byte language of its target (see the
opcode tables at the top of each tests/fuzz/fuzz_<name>.c); together the
seeds of a target use every operation at least once, so the fuzzer starts
from inputs that already reach each code path, and the ctest replay checks
each operation in every build. The files are rewritten from scratch.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(bytes(data))


# ---- fuzz_utf8: flags byte, then the string ---------------------------------
def utf8():
    s = {
        "empty": b"",
        "ascii": b"hello, world",
        "two-byte": "caf\u00e9 \u00fc\u00df".encode(),
        "three-byte": "\u65e5\u672c\u8a9e \u20ac".encode(),
        "four-byte": "\U0001F600\U00010348".encode(),
        "max-scalar": b"\xf4\x8f\xbf\xbf",
        "above-max": b"a\xf4\x90\x80\x80",
        "overlong-2": b"\xc0\xaf",
        "overlong-c1": b"\xc1\xbf",
        "overlong-3": b"\xe0\x80\xaf",
        "overlong-4": b"\xf0\x80\x80\xaf",
        "surrogate-high": b"\xed\xa0\x80",
        "surrogate-low": b"\xed\xbf\xbf",
        "last-before-surrogates": b"\xed\x9f\xbf",
        "first-after-surrogates": b"\xee\x80\x80",
        "f5-start": b"\xf5\x80\x80\x80",
        "ff-byte": b"ab\xff",
        "lone-continuation": b"\x80abc",
        "truncated-3": b"ok\xe2\x82",
        "truncated-4": b"\xf0\x9f\x98",
        "bad-continuation": b"\xe2\x28\xa1",
        "embedded-nul": b"a\x00b\x00",
        "nul-then-invalid": b"ab\x00\xc0\x80",
        "mixed-long": ("x\u00e9\u65e5\U0001F600" * 12).encode(),
    }
    seeds = {}
    for name, text in s.items():
        seeds[name] = b"\x00" + text
    seeds["debug-mode-mixed"] = b"\x01" + "debug \u00e9\U0001F600".encode()
    seeds["debug-mode-invalid"] = b"\x01" + b"\xe0\x9f\x80"
    return seeds


# ---- fuzz_heap ------------------------------------------------------------------
MALLOC, CALLOC, REALLOC, ALIGNED, FREE, DEBUG, CHECK, REALLOC_EDGE, REFUSED, COLLECT, \
    MALLOC_FREE = range(11)
DEEP = 1                    # the check's argument: also rc_heap_debug_check


def sz_tiny(n):
    return [1, n]


def sz_small(n):
    return [3, n & 255, n >> 8]


def sz_medium(n):
    return [5, (n // 2) & 255, (n // 2) >> 8]


def sz_large(n):
    return [6, (n >> 4) & 255, (n >> 12) & 255]


def sz_huge(mib):
    return [7 | ((mib - 1) << 4), 0, 1]


def align(log2):
    return [log2]           # 0..22: 1 << log2; 23: 8 MiB; 24: 0; 25: 48


def heap():
    p = {}
    p["malloc-free"] = [0, MALLOC, *sz_tiny(24), MALLOC, *sz_small(1000), MALLOC, *sz_medium(40000),
                        FREE, 0, FREE, 0, CHECK, DEEP, FREE, 0]
    p["zero-sizes"] = [0, MALLOC, 0, CALLOC, 0, 0, ALIGNED, *align(6), 0, CHECK, DEEP]
    p["calloc"] = [0, CALLOC, 7, *sz_small(700), CALLOC, 16, *sz_large(200000), CHECK, DEEP, FREE, 1]
    p["realloc-grow-shrink"] = [0, MALLOC, *sz_tiny(10), REALLOC, 0, *sz_small(900),
                                REALLOC, 0, *sz_medium(60000), REALLOC, 0, *sz_large(600000),
                                REALLOC, 0, *sz_tiny(3), CHECK, DEEP]
    p["realloc-edges"] = [0, REALLOC_EDGE, 0, *sz_small(300), REALLOC_EDGE, 1, CHECK, DEEP,
                          REALLOC_EDGE, 0, 0, CHECK, DEEP]
    p["aligned-small"] = [0] + sum(([ALIGNED, *align(k), *sz_tiny(40 + k)] for k in range(0, 13)), []) + [CHECK, DEEP]
    p["aligned-large"] = [0] + sum(([ALIGNED, *align(k), *sz_small(100 * k)] for k in range(13, 23)), []) + [CHECK, DEEP]
    p["aligned-refused"] = [0, ALIGNED, *align(23), *sz_tiny(8), ALIGNED, *align(24), *sz_tiny(8),
                            ALIGNED, *align(25), *sz_tiny(8), CHECK, DEEP]
    p["huge-blocks"] = [0, MALLOC, *sz_huge(1), MALLOC, *sz_huge(4), REALLOC, 0, *sz_huge(5),
                        FREE, 1, CHECK, DEEP, COLLECT, 1, CHECK, DEEP]
    p["refused"] = [0, REFUSED, 0, REFUSED, 1, REFUSED, 2, CHECK, DEEP]
    p["debug-on"] = [1, MALLOC, *sz_tiny(100), CALLOC, 3, *sz_small(90), REALLOC, 0, *sz_small(1000),
                     ALIGNED, *align(8), *sz_small(500), CHECK, DEEP, FREE, 0, FREE, 0, FREE, 0]
    p["debug-switch"] = [0, MALLOC, *sz_small(200), DEBUG, 1, MALLOC, *sz_small(200),
                         REALLOC, 0, *sz_medium(5000), DEBUG, 0, REALLOC, 1, *sz_medium(7000),
                         DEBUG, 1, FREE, 0, CHECK, DEEP, DEBUG, 0, FREE, 0]
    p["debug-aligned"] = [1] + sum(([ALIGNED, *align(k), *sz_small(64 * k)] for k in (5, 9, 12, 14, 16, 21)), []) + [CHECK, DEEP]
    p["debug-huge"] = [1, MALLOC, *sz_huge(2), REALLOC, 0, *sz_huge(1), CHECK, DEEP, DEBUG, 0,
                       REALLOC, 0, *sz_huge(3), CHECK, DEEP]
    p["collect"] = [0, MALLOC, *sz_large(300000), FREE, 0, COLLECT, 0, MALLOC, *sz_tiny(1),
                    COLLECT, 1, CHECK, DEEP]
    p["churn"] = [0] + sum(([MALLOC_FREE, *sz_tiny(k * 7), 0] for k in range(20)), []) + [CHECK, DEEP]
    p["many-blocks"] = [0] + sum(([MALLOC, *sz_tiny(k * 5)] for k in range(40)), []) + \
        sum(([FREE, (k * 7) & 255] for k in range(20)), []) + [CHECK, DEEP]
    return p


# ---- fuzz_dict_set --------------------------------------------------------------
(D_SET, D_GET, D_DEL, D_CONTAINS, D_POP, D_CLEAR, D_ITER_START, D_ITER_STEP, D_ITER_ALL,
 S_ADD, S_DISCARD, S_CONTAINS, S_CLEAR, S_ITER, S_ITER_ALL, MISC) = range(16)


def k_small(v):
    """An int in -10..265 (kind 0; a of 8 adds 20 to the value)."""
    return [0, v + 10] if v + 10 < 256 else [8, v - 10]


def k_big(ix):
    return [2, ix]


def k_float_int(v):
    return [3, v + 10]


def k_float_big(ix):
    return [3, 0x80 | ix]


def k_float(ix):
    return [4, ix]


def k_str(ix):
    return [5, ix]


def k_interned(ix):
    return [6, ix]


def k_tuple(*items, with_list=False):
    out = [7, len(items) | (0x80 if with_list else 0)]
    for it in items:
        out += it
    return out


def k_list():
    return [7, 0x40]


def step(n):
    return D_ITER_STEP | ((n - 1) << 4)


def dict_set():
    p = {}
    p["dict-basic"] = [0, D_SET, *k_small(1), D_SET, *k_small(2), D_SET, *k_str(3),
                       D_GET, *k_small(1), D_GET, *k_small(7), D_CONTAINS, *k_str(3),
                       D_DEL, *k_small(2), D_DEL, *k_small(2), D_POP, *k_str(3), D_POP, *k_str(3),
                       D_ITER_ALL]
    p["dict-int-float"] = [0, D_SET, *k_small(1), D_SET, *k_float_int(1), D_GET, *k_float_int(1),
                           D_SET, *k_float(7), D_GET, *k_small(0), D_SET, *k_float(8),
                           D_SET, *k_big(9), D_GET, *k_float_big(9), D_SET, *k_big(10),
                           D_GET, *k_float_big(10), D_CONTAINS, *k_big(11), D_ITER_ALL]
    p["dict-big-ints"] = [0] + sum(([D_SET, *k_big(i)] for i in range(32)), []) + \
        sum(([D_CONTAINS, *k_float_big(i)] for i in range(32)), []) + [D_ITER_ALL]
    p["dict-floats"] = [0] + sum(([D_SET, *k_float(i)] for i in range(24)), []) + \
        sum(([D_GET, *k_float(i)] for i in range(24)), []) + [D_ITER_ALL]
    p["dict-strs"] = [0] + sum(([D_SET, *k_str(i), D_GET, *k_interned(i)] for i in range(16)), []) + \
        sum(([D_DEL, *k_interned(i)] for i in range(0, 16, 2)), []) + [D_ITER_ALL]
    p["dict-tuples"] = [0, D_SET, *k_tuple(k_small(1), k_str(2)), D_GET, *k_tuple(k_float_int(1), k_interned(2)),
                        D_SET, *k_tuple(), D_SET, *k_tuple(k_tuple(k_small(3))),
                        D_GET, *k_tuple(k_tuple(k_float_int(3))), D_CONTAINS, *k_tuple(k_small(1)),
                        D_ITER_ALL]
    p["dict-unhashable"] = [0, D_SET, *k_list(), D_GET, *k_list(), D_DEL, *k_list(),
                            D_CONTAINS, *k_tuple(k_small(1), with_list=True),
                            D_POP, *k_list(), D_SET, *k_tuple(with_list=True)]
    p["dict-grow-shrink"] = [0] + sum(([D_SET, *k_small(i)] for i in range(-10, 120)), []) + \
        sum(([D_DEL, *k_small(i)] for i in range(-10, 115)), []) + [D_ITER_ALL, D_CLEAR, D_ITER_ALL]
    p["dict-iter-live"] = [0, D_SET, *k_small(1), D_SET, *k_small(2), D_SET, *k_small(3),
                           D_ITER_START, step(1), D_SET, *k_small(2), step(2), step(1)]
    p["dict-iter-modified"] = [0, D_SET, *k_small(1), D_SET, *k_small(2), D_ITER_START, step(1),
                               D_SET, *k_small(5), step(1), step(2)]
    p["dict-iter-delete"] = [0, D_SET, *k_small(1), D_SET, *k_small(2), D_ITER_START,
                             D_DEL, *k_small(9), step(1), D_DEL, *k_small(1), step(1)]
    p["dict-iter-clear-empty"] = [0, D_ITER_START, D_CLEAR, step(1), D_SET, *k_small(1), D_DEL,
                                  *k_small(1), D_ITER_START, D_CLEAR, step(2)]
    p["dict-iter-clear-full"] = [0, D_SET, *k_small(1), D_ITER_START, D_CLEAR, step(1)]
    p["set-basic"] = [0, S_ADD, *k_small(1), S_ADD, *k_float_int(1), S_ADD, *k_str(4),
                      S_CONTAINS, *k_small(1), S_CONTAINS, *k_small(2), S_DISCARD, *k_str(4),
                      S_DISCARD, *k_str(4), S_ITER_ALL, S_CLEAR, S_ITER_ALL]
    p["set-mixed"] = [0] + sum(([S_ADD, *k] for k in (k_big(3), k_float(2), k_interned(5), k_str(5),
                                                       k_tuple(k_small(1), k_small(2)), k_tuple(),
                                                       k_float(7), k_small(256), k_small(-5))), []) + \
        [S_ADD, *k_list(), S_CONTAINS, *k_list(), S_DISCARD, *k_tuple(with_list=True), S_ITER_ALL]
    p["set-iter-live"] = [0, S_ADD, *k_small(1), S_ADD, *k_small(2), S_ITER | 0x10, S_ITER,
                          S_ADD, *k_small(1), S_DISCARD, *k_small(7), S_ITER, S_ITER,
                          S_ITER | 0x10, S_ADD, *k_small(3), S_ITER]
    p["set-iter-clear-empty"] = [0, S_ITER | 0x10, S_CLEAR, S_ITER, S_ADD, *k_small(1),
                                 S_DISCARD, *k_small(1), S_ITER | 0x10, S_CLEAR, S_ITER]
    p["set-grow-shrink"] = [0] + sum(([S_ADD, *k_small(i)] for i in range(-10, 100)), []) + \
        sum(([S_DISCARD, *k_small(i)] for i in range(-10, 95)), []) + [S_ITER_ALL]
    p["renew-collect"] = [0, D_SET, *k_small(1), S_ADD, *k_small(1), D_ITER_START, MISC | 0x10,
                          MISC | 0x30, MISC, D_SET, *k_small(2), S_ADD, *k_small(2), D_ITER_ALL,
                          S_ITER_ALL]
    p["debug-mode"] = [1, D_SET, *k_str(1), D_SET, *k_tuple(k_str(2), k_float(0)), S_ADD, *k_big(4),
                       D_ITER_ALL, S_ITER_ALL, D_CLEAR, S_CLEAR]
    return p


# ---- fuzz_gc_graph --------------------------------------------------------------
(G_NEW, G_NEW2, G_LINK, G_UNLINK, G_DROP, G_PROMOTE, G_WEAK, G_WEAK_DROP, G_COLLECT, G_THRESH,
 G_INCR, G_STEPS, G_CHECK, G_ENABLE, G_GARBAGE) = range(15)
FIN = {"none": 0, "plain": 2, "resurrect": 3, "alloc": 4, "alloc-resurrect": 5}


def g_flags(debug=0, incremental=False, preset=0, step=0):
    return debug | (2 if incremental else 0) | (preset << 2) | (step << 4)


def nav(root, *slots):
    path = len(slots)
    for i, s in enumerate(slots):
        path |= s << (2 + 2 * i)
    return [root, path]


def g_new(fin="none", arg=0, link=None, slot=0):
    want = FIN[fin]
    for a in range(256):
        if a % 6 == want and bool(a & 0x80) == (link is not None) and (a >> 3) & 3 == slot:
            return [G_NEW, a, arg] + (link if link is not None else [])
    raise ValueError(fin)


def g_link(x, s, y):
    return [G_LINK, *x, s, *y]


def ring(first_root, n):
    """Nodes first_root .. first_root + n - 1 (as roots) linked in a ring."""
    out = []
    for i in range(n):
        out += g_link(nav(first_root + i), 0, nav(first_root + (i + 1) % n))
    return out


def gc_graph():
    p = {}
    p["cycle-collect"] = [g_flags()] + g_new() * 3 + ring(0, 3) + \
        [G_DROP, 0, G_DROP, 0, G_COLLECT, 2, G_CHECK, 0]
    p["chain-navigate"] = [g_flags()] + g_new() + g_new(link=nav(0), slot=1) + \
        g_new(link=nav(1, 1), slot=2) + [G_PROMOTE, *nav(2, 2, 1), G_UNLINK, *nav(2), 2,
                                         G_DROP, 1, G_CHECK]
    p["finalizer-plain"] = [g_flags()] + g_new("plain") * 2 + ring(0, 2) + \
        [G_DROP, 0, G_DROP, 0, G_COLLECT, 2, G_CHECK]
    p["finalizer-resurrect"] = [g_flags()] + g_new("resurrect") + g_new() + ring(0, 2) + \
        [G_DROP, 0, G_DROP, 0, G_COLLECT, 2, G_CHECK, G_DROP, 0, G_CHECK]
    p["finalizer-resurrect-refcount"] = [g_flags()] + g_new("resurrect") + [G_DROP, 0, G_CHECK,
                                                                            G_DROP, 0, G_CHECK]
    p["finalizer-alloc"] = [g_flags(preset=1)] + g_new("alloc", 6) + g_new("alloc", 1) + ring(0, 2) + \
        [G_DROP, 0, G_DROP, 0, G_COLLECT, 2, G_CHECK]
    p["weakref-callback-alloc"] = [g_flags(preset=1)] + g_new() * 2 + ring(0, 2) + \
        [G_WEAK, *nav(0), 5, G_WEAK, *nav(1), 0, G_DROP, 0, G_DROP, 0, G_COLLECT, 2, G_CHECK]
    p["weakref-refcount"] = [g_flags()] + g_new() + [G_WEAK, *nav(0), 2, G_DROP, 0, G_CHECK,
                                                     G_WEAK_DROP, 0]
    p["weakref-resurrect"] = [g_flags()] + g_new("resurrect") + g_new() + ring(0, 2) + \
        [G_WEAK, *nav(0), 0, G_WEAK, *nav(1), 0, G_DROP, 0, G_DROP, 0, G_COLLECT, 2, G_CHECK]
    p["thresholds-auto"] = [g_flags(preset=1)] + [G_GARBAGE, 3] * 6 + g_new("alloc", 2) * 3 + \
        ring(0, 3) + [G_THRESH, 0x12, G_DROP, 0, G_DROP, 0, G_DROP, 0, G_GARBAGE, 1, G_CHECK]
    p["generations"] = [g_flags(preset=2)] + g_new() * 4 + ring(0, 4) + \
        [G_COLLECT, 0, G_COLLECT, 1, G_DROP, 1, G_COLLECT, 0, G_DROP, 0, G_COLLECT, 1,
         G_THRESH, 0x80, G_CHECK]
    p["incremental-steps"] = [g_flags(incremental=True, preset=1, step=1)] + g_new() * 4 + ring(0, 4) + \
        [G_STEPS, 0x80, G_DROP, 0, G_LINK, *nav(0), 1, *nav(1), G_STEPS, 3, G_DROP, 0,
         G_STEPS, 7, G_STEPS, 7, G_CHECK]
    p["incremental-mutate"] = [g_flags(incremental=True, preset=3, step=2)] + g_new() * 5 + \
        ring(0, 5) + [G_STEPS, 0x80, G_UNLINK, *nav(2), 0, G_STEPS, 1, G_LINK, *nav(4), 2, *nav(0),
                      G_DROP, 3, G_STEPS, 2, G_PROMOTE, *nav(0, 0, 0), G_DROP, 0, G_STEPS, 7,
                      G_INCR, 0, G_CHECK]
    p["incremental-finalizer-alloc"] = [g_flags(incremental=True, preset=1, step=0)] + \
        g_new("alloc", 7) + g_new("alloc-resurrect", 2) + \
        [G_COLLECT, 1, G_STEPS, 0x80, G_DROP, 0, G_STEPS, 2, G_DROP, 0, G_CHECK]
    p["incremental-weak-alloc"] = [g_flags(incremental=True, preset=1, step=3)] + g_new() * 2 + \
        [G_WEAK, *nav(0), 7, G_WEAK, *nav(1), 3, G_STEPS, 0x80, G_DROP, 0, G_STEPS, 1,
         G_DROP, 0, G_STEPS, 7, G_CHECK]
    p["incremental-toggle"] = [g_flags(preset=2)] + g_new("plain") * 3 + ring(0, 3) + \
        [G_INCR, 4, G_GARBAGE, 2, G_GARBAGE, 2, G_DROP, 0, G_INCR, 0, G_INCR, 1, G_STEPS, 0x80,
         G_DROP, 0, G_COLLECT, 2, G_CHECK]
    p["disable-enable"] = [g_flags(preset=1)] + [G_ENABLE, 0] + [G_GARBAGE, 3] * 4 + \
        [G_ENABLE, 1, G_GARBAGE, 0, G_CHECK]
    p["debug-mode"] = [g_flags(debug=1, incremental=True, preset=2, step=1)] + \
        g_new("alloc-resurrect", 5) + g_new() + ring(0, 2) + \
        [G_WEAK, *nav(1), 4, G_DROP, 0, G_DROP, 0, G_STEPS, 0x80, G_STEPS, 7, G_CHECK]
    return p


# ---- fuzz_trace_table -------------------------------------------------------------
(T_MALLOC, T_FREE, T_REALLOC, T_TRACK, T_UNTRACK, T_CLEAR, T_CHECK, T_MANY) = range(8)


def u16(v):
    return [v & 255, v >> 8]


def trace_table():
    p = {}
    p["malloc-free"] = [0, T_MALLOC, 0, *u16(24), T_MALLOC, 1, *u16(1000), T_CHECK, T_FREE, 0,
                        T_CHECK, T_FREE, 1, T_CHECK]
    p["realloc"] = [24, T_REALLOC, 3, *u16(10), T_REALLOC, 3, *u16(3000), T_REALLOC, 3, *u16(5),
                    T_CHECK, T_FREE, 3]
    p["domains"] = [4] + sum(([T_TRACK, d, k, *u16(100 + k)] for d in range(3) for k in range(0, 64, 9)), []) + \
        [T_CHECK, T_UNTRACK, 0, 0, T_UNTRACK, 1, 9, T_UNTRACK, 2, 63, T_CHECK, T_TRACK, 0, 0, *u16(7), T_CHECK]
    p["clear"] = [1, T_MALLOC, 0, *u16(50), T_TRACK, 0, 1, *u16(9), T_CLEAR, T_CHECK, T_FREE, 0,
                  T_MALLOC, 0, *u16(60), T_REALLOC, 0, *u16(70), T_CHECK]
    p["bursts"] = [31, T_MANY, 63, T_MANY, 10, T_MALLOC, 5, *u16(33), T_MANY, 40, T_CHECK]
    p["churn"] = [7] + sum(([T_MALLOC, k % 64, *u16(16 * k + 1), T_FREE, (k * 7) % 64] for k in range(100)), []) + [T_CHECK]
    return p


# ---- fuzz_lru: flags, maxsize index, then (op, key[, arg]) ------------------
# ops: 0 get, 1 put (value byte: int, or 0x80|len for a str), 2 find, 3 del,
# 4 call, 5 call_args, 6 clear, 7 set_max_bytes (byte * 16), 8 collect,
# 9 unhashable; keys index the pool of fuzz_lru.c (10, 11, 12: tuples).
def lru():
    def put(k, v=1):
        return [1, k, v]

    def op(o, k=0):
        return [o, k]

    mixed = []
    for k in range(16):
        mixed += put(k, k)
    for k in range(16):
        mixed += op(0, k) + op(2, 15 - k)
    mixed += op(3, 2) + op(3, 2) + op(4, 10) + op(5, 11) + op(5, 12) + op(4, 13)
    mixed += op(8, 2) + op(9, 0) + op(9, 1) + op(6) + op(0, 4)
    seeds = {
        "mixed-maxsize3": [0, 3] + mixed,
        "mixed-typed-maxsize7": [2, 4] + mixed,
        "mixed-unbounded": [0, 0] + mixed,
        "mixed-debug-typed": [3, 5] + mixed,
        "maxsize1": [0, 1] + put(0) + put(1) + op(0, 0) + op(0, 1) + put(2) + op(4, 3) + op(5, 10),
        "int-float-keys": [0, 5] + put(0, 1) + put(1, 2) + op(0, 0) + put(4) + put(5) + op(3, 5) + op(0, 4),
        "typed-int-float-keys": [2, 5] + put(0, 1) + put(1, 2) + op(0, 0) + op(0, 1) + put(10) + put(11) + op(0, 10),
        "bytes": [0, 5] + put(0, 0x80 | 100) + put(2, 0x80 | 100) + put(4, 0x80 | 100)
                 + [7, 0, 20] + put(7, 0x80 | 127) + put(8, 0x80 | 10) + [7, 0, 4]
                 + put(9, 0x80 | 127) + op(4, 10) + op(5, 11) + [7, 0, 0] + put(9, 3) + [7, 0, 40]
                 + op(6) + put(1, 0x80 | 50),
        "calls-recency": [0, 4] + op(4, 0) + op(4, 2) + op(5, 10) + op(5, 12) + op(0, 0) + op(4, 4)
                         + op(4, 7) + op(4, 8) + op(4, 9) + op(5, 11) + op(4, 13),
        "collect-clear": [0, 3] + put(10) + put(12) + op(8, 0) + op(8, 1) + op(8, 2) + op(6) + op(8, 2) + put(13),
    }
    return seeds


def main():
    write("trace_table", trace_table())
    write("utf8", utf8())
    write("heap", heap())
    write("dict_set", dict_set())
    write("gc_graph", gc_graph())
    write("lru", lru())


if __name__ == "__main__":
    main()
