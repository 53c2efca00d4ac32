/* containers.c - recycle's built-in containers against the same work in
 * CPython (bench/objects/containers.py mirrors this file line for line).
 *
 *   containers dict  time|mem [N]   N distinct str keys "key<i>" (default
 *                                   1,000,000): build the keys, insert
 *                                   d[key] = int(i), then look every key up
 *                                   in a scattered order (i * 7919 mod N)
 *   containers list  time|mem [N]   N appends of int(i) to a list (10,000,000)
 *   containers array time|mem [N]   N appends of i to an I64 array
 *                                   (array.array('q')) (10,000,000)
 *   containers dictops time [N]     N calls (1,000,000) of each dict
 *                                   operation below on a dict of 1,000 str
 *                                   keys (in cache: the cost of the calls,
 *                                   not of memory), in a scattered key
 *                                   order; prints ns per call:
 *       hit           rc_dict_get of a present key
 *       miss_get      rc_dict_get of an absent key (records RC_EKEY), then
 *                     rc_error_clear, as a caller must
 *       miss_get_msg  the same, reading rc_error_message before the clear
 *       miss_find     rc_dict_find of an absent key (no error)
 *       miss_contains rc_dict_contains of an absent key
 *       find_str      rc_dict_find_str of a present key's C string
 *       get_str       rc_dict_get_str of a present key's C string
 *       build_str     rc_str of the C string, rc_dict_get, rc_decref (what
 *                     a C-string lookup costs when it builds a str)
 *       wc_incr       a word count: rc_dict_incr(d, word, 1, 0) over the
 *                     1,000 words (one lookup; counts pass 256, so most
 *                     new counts are new int objects)
 *       wc_find_set   the same count by rc_dict_find, rc_int, rc_dict_set
 *                     (two lookups)
 *
 * time: prints the phase times as "@ name=value" pairs (CLOCK_MONOTONIC,
 *       seconds) and a checksum line that containers.py must reproduce.
 * mem:  builds the same container once (no timing) and prints what it
 *       takes: "@mem ..." with rc_sizeof (sys.getsizeof), rc_deep_sizeof,
 *       the delta of the heap's bytes in use (size-class blocks, buffers
 *       included), the delta of rc_runtime_object_bytes and
 *       rc_runtime_object_count, and the delta of the process's VmRSS.
 *
 * Ints: rc_int(i) for i in -5..256 is a cached immortal object, above that a
 * new object, as in CPython. Each value is made with rc_int, handed to the
 * container (which takes its own reference) and released, as CPython does.
 */
#define _POSIX_C_SOURCE 200809L
#include <recycle.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STRIDE 7919u   /* prime, coprime with the N used: a scattered order */

static rc_runtime *rt;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
    fprintf(stderr, "containers: %s: %s\n", what, rt ? rc_error_message(rt) : "");
    exit(1);
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static size_t heap_in_use(void) {
    rc_heap_stats st;
    memset(&st, 0, sizeof st);
    if (rc_heap_stats_get(&st) != 0)
        die("rc_heap_stats_get");
    return st.bytes_in_use;
}

/* "key<i>" into buf (decimal, as Python's f"key{i}"); returns the length. */
static size_t fmt_key(char *buf, uint64_t i) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    memcpy(buf, "key", 3);
    for (size_t k = 0; k < n; k++)
        buf[3 + k] = tmp[n - 1 - k];
    buf[3 + n] = '\0';
    return 3 + n;
}

typedef struct {
    size_t heap, objbytes, objcount;
    long rss;
} mark;

static mark take_mark(void) {
    mark m = {heap_in_use(), rc_runtime_object_bytes(rt), rc_runtime_object_count(rt), rss_kb()};
    return m;
}

static void print_mem(const char *name, size_t n, rc_obj *c, mark a, mark b) {
    size_t sz = rc_sizeof(c);
    size_t deep = rc_deep_sizeof(rt, c);
    if (!deep)
        die("rc_deep_sizeof");
    printf("@mem impl=recycle container=%s n=%zu sizeof=%zu deep=%zu heap=%zu objbytes=%zu "
           "objects=%zu rss_kb=%ld\n",
           name, n, sz, deep, b.heap - a.heap, b.objbytes - a.objbytes,
           b.objcount - a.objcount, b.rss - a.rss);
}

/* ---- dict of str keys ---- */

static void bench_dict(size_t n, int mem) {
    char buf[32];
    if (mem) {
        mark a = take_mark();
        rc_obj *d = rc_dict(rt);
        if (!d)
            die("rc_dict");
        for (size_t i = 0; i < n; i++) {
            rc_obj *k = rc_str_n(rt, buf, fmt_key(buf, i));
            rc_obj *v = rc_int(rt, (int64_t)i);
            if (!k || !v || rc_dict_set(rt, d, k, v) != 0)
                die("dict build");
            rc_decref(k);
            rc_decref(v);
        }
        mark b = take_mark();
        print_mem("dict", n, d, a, b);
        printf("dict n=%zu len=%zu\n", n, rc_dict_len(d));
        rc_decref(d);
        return;
    }

    rc_obj **keys = malloc(n * sizeof *keys);
    rc_obj **order = malloc(n * sizeof *order);
    if (!keys || !order)
        die("malloc");
    long rss0 = rss_kb();

    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        keys[i] = rc_str_n(rt, buf, fmt_key(buf, i));
        if (!keys[i])
            die("rc_str_n");
    }
    double t1 = now();
    rc_obj *d = rc_dict(rt);
    if (!d)
        die("rc_dict");
    for (size_t i = 0; i < n; i++) {
        rc_obj *v = rc_int(rt, (int64_t)i);
        if (!v || rc_dict_set(rt, d, keys[i], v) != 0)
            die("rc_dict_set");
        rc_decref(v);
    }
    double t2 = now();
    long rss1 = rss_kb();

    for (size_t i = 0; i < n; i++)
        order[i] = keys[(i * (uint64_t)STRIDE) % n];
    double t3 = now();
    long long sum = 0;
    for (size_t i = 0; i < n; i++) {
        rc_obj *v = rc_dict_get(rt, d, order[i]);
        if (!v)
            die("rc_dict_get");
        sum += rc_int_value(v);
    }
    double t4 = now();

    size_t keybytes = 0;
    for (size_t i = 0; i < n; i++)
        keybytes += rc_str_len(keys[i]);
    size_t len = rc_dict_len(d);

    double t5 = now();
    for (size_t i = 0; i < n; i++)
        rc_decref(keys[i]);
    rc_decref(d);
    double t6 = now();
    free(keys);
    free(order);
    printf("dict n=%zu len=%zu keybytes=%zu sum=%lld\n", n, len, keybytes, sum);
    printf("@ impl=recycle bench=dict n=%zu keys_s=%.6f insert_s=%.6f build_s=%.6f lookup_s=%.6f "
           "free_s=%.6f rss_kb=%ld\n",
           n, t1 - t0, t2 - t1, t2 - t0, t4 - t3, t6 - t5, rss1 - rss0);
}

/* ---- dict operations, ns per call ---- */

#define DICTOPS_KEYS 1000u       /* hot in cache: the cost of the calls, not of memory */

static volatile long long dictops_sink;

static double ns_per(double t0, double t1, size_t n) {
    return (t1 - t0) * 1e9 / (double)n;
}

static void bench_dictops(size_t n) {
    const size_t nk = DICTOPS_KEYS;
    char (*cstr)[24] = malloc(nk * sizeof *cstr);
    rc_obj **keys = malloc(nk * sizeof *keys);
    rc_obj **misses = malloc(nk * sizeof *misses);
    size_t *order = malloc(n * sizeof *order);
    if (!cstr || !keys || !misses || !order)
        die("malloc");
    rc_obj *d = rc_dict(rt);
    if (!d)
        die("rc_dict");
    for (size_t i = 0; i < nk; i++) {
        size_t len = fmt_key(cstr[i], i);
        char miss[32];
        memcpy(miss, cstr[i], len + 1);
        miss[0] = 'm';                            /* "mey<i>": never present */
        keys[i] = rc_str_n(rt, cstr[i], len);
        misses[i] = rc_str(rt, miss);
        rc_obj *v = rc_int(rt, (int64_t)i);
        if (!keys[i] || !misses[i] || !v || rc_dict_set(rt, d, keys[i], v) != 0)
            die("dictops build");
        rc_decref(v);
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (i * (uint64_t)STRIDE) % nk;
    long long sum = 0;
    rc_obj *v;
    double t[12];

    t[0] = now();
    for (size_t i = 0; i < n; i++)
        sum += rc_int_value(rc_dict_get(rt, d, keys[order[i]]));
    t[1] = now();
    for (size_t i = 0; i < n; i++) {
        sum += rc_dict_get(rt, d, misses[order[i]]) == NULL;
        rc_error_clear(rt);
    }
    t[2] = now();
    for (size_t i = 0; i < n; i++) {
        sum += rc_dict_get(rt, d, misses[order[i]]) == NULL;
        sum += rc_error_message(rt)[0];
        rc_error_clear(rt);
    }
    t[3] = now();
    for (size_t i = 0; i < n; i++)
        sum += rc_dict_find(rt, d, misses[order[i]], &v);
    t[4] = now();
    for (size_t i = 0; i < n; i++)
        sum += rc_dict_contains(rt, d, misses[order[i]]);
    t[5] = now();
    for (size_t i = 0; i < n; i++) {
        if (rc_dict_find_str(rt, d, cstr[order[i]], &v) != 1)
            die("rc_dict_find_str");
        sum += rc_int_value(v);
    }
    t[6] = now();
    for (size_t i = 0; i < n; i++)
        sum += rc_int_value(rc_dict_get_str(rt, d, cstr[order[i]]));
    t[7] = now();
    for (size_t i = 0; i < n; i++) {
        rc_obj *k = rc_str(rt, cstr[order[i]]);
        if (!k)
            die("rc_str");
        sum += rc_int_value(rc_dict_get(rt, d, k));
        rc_decref(k);
    }
    t[8] = now();
    rc_obj *wc1 = rc_dict(rt), *wc2 = rc_dict(rt);
    if (!wc1 || !wc2)
        die("rc_dict");
    t[9] = now();
    for (size_t i = 0; i < n; i++)
        if (rc_dict_incr(rt, wc1, keys[order[i]], 1, 0, NULL) != 0)
            die("rc_dict_incr");
    t[10] = now();
    for (size_t i = 0; i < n; i++) {
        rc_obj *w = keys[order[i]];
        int r = rc_dict_find(rt, wc2, w, &v);
        rc_obj *nv = rc_int(rt, (r == 1 ? rc_int_value(v) : 0) + 1);
        if (r < 0 || !nv || rc_dict_set(rt, wc2, w, nv) != 0)
            die("word count by find and set");
        rc_decref(nv);
    }
    t[11] = now();
    if (rc_error(rt) != 0)
        die("an error was left on the runtime");
    long long total1 = 0, total2 = 0;
    for (size_t i = 0; i < nk; i++) {
        rc_obj *c1 = NULL, *c2 = NULL;
        if (rc_dict_find(rt, wc1, keys[i], &c1) < 0 || rc_dict_find(rt, wc2, keys[i], &c2) < 0)
            die("rc_dict_find");
        total1 += c1 ? rc_int_value(c1) : 0;
        total2 += c2 ? rc_int_value(c2) : 0;
    }
    if (total1 != (long long)n || total2 != (long long)n)
        die("word counts differ");
    dictops_sink = sum;

    printf("dictops n=%zu keys=%zu words=%lld\n", n, nk, total1);
    printf("@ impl=recycle bench=dictops n=%zu hit_ns=%.1f miss_get_ns=%.1f miss_get_msg_ns=%.1f "
           "miss_find_ns=%.1f miss_contains_ns=%.1f find_str_ns=%.1f get_str_ns=%.1f "
           "build_str_ns=%.1f wc_incr_ns=%.1f wc_find_set_ns=%.1f\n",
           n, ns_per(t[0], t[1], n), ns_per(t[1], t[2], n), ns_per(t[2], t[3], n),
           ns_per(t[3], t[4], n), ns_per(t[4], t[5], n), ns_per(t[5], t[6], n),
           ns_per(t[6], t[7], n), ns_per(t[7], t[8], n), ns_per(t[9], t[10], n),
           ns_per(t[10], t[11], n));
    rc_decref(wc1);
    rc_decref(wc2);
    for (size_t i = 0; i < nk; i++) {
        rc_decref(keys[i]);
        rc_decref(misses[i]);
    }
    rc_decref(d);
    free(cstr);
    free(keys);
    free(misses);
    free(order);
}

/* ---- list of ints ---- */

static void bench_list(size_t n, int mem) {
    mark a = mem ? take_mark() : (mark){0, 0, 0, 0};
    long rss0 = rss_kb();
    rc_obj *l = rc_list(rt);
    if (!l)
        die("rc_list");
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        rc_obj *v = rc_int(rt, (int64_t)i);
        if (!v || rc_list_append(rt, l, v) != 0)
            die("rc_list_append");
        rc_decref(v);
    }
    double t1 = now();
    long rss1 = rss_kb();
    if (mem) {
        mark b = take_mark();
        print_mem("list", n, l, a, b);
        printf("list n=%zu len=%zu\n", n, rc_list_len(l));
        rc_decref(l);
        return;
    }
    long long sum = 0;
    size_t len = rc_list_len(l);
    for (size_t i = 0; i < len; i++) {
        rc_obj *item = rc_list_get(rt, l, i);
        if (!item)
            die("rc_list_get");
        sum += rc_int_value(item);
    }
    double t2 = now();
    rc_decref(l);
    double t3 = now();
    printf("list n=%zu len=%zu sum=%lld\n", n, len, sum);
    printf("@ impl=recycle bench=list n=%zu append_s=%.6f free_s=%.6f rss_kb=%ld\n",
           n, t1 - t0, t3 - t2, rss1 - rss0);
}

/* ---- array('q') ---- */

static void bench_array(size_t n, int mem) {
    mark a = mem ? take_mark() : (mark){0, 0, 0, 0};
    long rss0 = rss_kb();
    rc_obj *arr = rc_array(rt, RC_ARRAY_I64);
    if (!arr)
        die("rc_array");
    double t0 = now();
    for (size_t i = 0; i < n; i++)
        if (rc_array_append_i64(rt, arr, (int64_t)i) != 0)
            die("rc_array_append_i64");
    double t1 = now();
    long rss1 = rss_kb();
    if (mem) {
        mark b = take_mark();
        print_mem("array", n, arr, a, b);
        printf("array n=%zu len=%zu\n", n, rc_array_len(arr));
        rc_decref(arr);
        return;
    }
    long long sum = 0;
    const int64_t *data = rc_array_data(arr);
    size_t len = rc_array_len(arr);
    for (size_t i = 0; i < len; i++)
        sum += data[i];
    double t2 = now();
    rc_decref(arr);
    double t3 = now();
    printf("array n=%zu len=%zu sum=%lld\n", n, len, sum);
    printf("@ impl=recycle bench=array n=%zu append_s=%.6f free_s=%.6f rss_kb=%ld\n",
           n, t1 - t0, t3 - t2, rss1 - rss0);
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4 || (strcmp(argv[2], "time") && strcmp(argv[2], "mem")) ||
        (!strcmp(argv[1], "dictops") && strcmp(argv[2], "time"))) {
        fprintf(stderr, "usage: containers dict|list|array time|mem [N]\n"
                        "       containers dictops time [N]\n");
        return 2;
    }
    const char *which = argv[1];
    int mem = !strcmp(argv[2], "mem");
    size_t n = argc == 4 ? strtoull(argv[3], NULL, 10)
                         : (!strncmp(which, "dict", 4) ? 1000000u : 10000000u);
    rt = rc_runtime_new(NULL);
    if (!rt)
        die("rc_runtime_new");
    size_t base = rc_runtime_object_count(rt);
    if (!strcmp(which, "dict")) bench_dict(n, mem);
    else if (!strcmp(which, "list")) bench_list(n, mem);
    else if (!strcmp(which, "array")) bench_array(n, mem);
    else if (!strcmp(which, "dictops")) bench_dictops(n);
    else die("unknown benchmark (dict, list, array, dictops)");
    size_t left = rc_runtime_object_count(rt) - base;
    rc_runtime_free(rt);
    if (left) {
        fprintf(stderr, "containers: %zu objects still alive at the end\n", left);
        return 1;
    }
    return 0;
}
