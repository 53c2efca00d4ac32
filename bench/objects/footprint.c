/* footprint.c - what recycle's containers take at a million entries and how
 * they grow up to ten million, for bench/objects/footprint.sh, which sets
 * every figure beside CPython's (footprint.py builds the same objects in the
 * same order, and prints the same lines).
 *
 *   footprint mem NAME N    build one container of N entries in a fresh
 *                           runtime, everything in it kept alive, and print
 *       alloc NAME N BYTES  growth of the heap's bytes in use over the build
 *                           (every live block at its size-class size)
 *       blocks NAME N BYTES the same figure (footprint.py's blocks line
 *                           rounds CPython's requests to pymalloc's blocks)
 *       deep NAME N BYTES   rc_deep_sizeof of the container
 *       rss NAME N BYTES    growth of VmRSS over the build
 *     NAME: dict-str  d["key<i>"] = i        dict-int  d[i] = i (one object
 *           set-int   s.add(i)                          as key and value)
 *           list-int  l.append(i)             tuple-int the N ints gathered,
 *           list-tuple2 l.append((i, i))                then one tuple of them
 *
 *   footprint grow NAME MAX grow one container an item at a time up to MAX
 *                           items and print
 *       grow NAME N BYTES   rc_sizeof after N items, N = 0, 1, 5, 10, 100,
 *                           1000, ... up to MAX
 *       resizes NAME K C    C: how many of the first K = min(MAX, 100000)
 *                           additions changed rc_sizeof
 *     NAME: list (append of i), dict-int, dict-str (as above), set (add of
 *           i), array (rc_array_append_i64 on an I64 array, array('q'))
 *
 * Ints: rc_int(i) is a new object above 256 and a cached immortal one for
 * -5..256, as in CPython; both sides make one int per i. Exits 1 with a
 * message on stderr if anything cannot be built. */
#define _POSIX_C_SOURCE 200809L
#include <recycle.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESIZE_SPAN 100000u   /* additions over which size changes are counted */

static rc_runtime *rt;

static void die(const char *what) {
    fprintf(stderr, "footprint: %s: %s\n", what, rt ? rc_error_message(rt) : "");
    exit(1);
}

static rc_obj *must(rc_obj *o, const char *what) {
    if (!o)
        die(what);
    return o;
}

/* VmRSS in bytes; the figure is page-granular. */
static long long rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long long kb = -1;
    if (!f)
        die("/proc/self/status");
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lld", &kb) == 1)
            break;
    fclose(f);
    if (kb < 0)
        die("no VmRSS in /proc/self/status");
    return kb * 1024;
}

/* The heap's bytes in use, as bench/objects/containers.c reads it for its
 * "@mem" lines: every live block, objects and buffers, at its block size. */
static long long heap_in_use(void) {
    rc_heap_stats st;
    memset(&st, 0, sizeof st);
    st.version = RC_HEAP_STATS_VERSION;
    st.struct_size = sizeof st;
    if (rc_heap_stats_get(&st) != 0)
        die("rc_heap_stats_get");
    return (long long)st.bytes_in_use;
}

/* ---- one addition per container kind ---- */

static rc_obj *new_int(int64_t i) { return must(rc_int(rt, i), "rc_int"); }

static void add_list(rc_obj *c, int64_t i) {
    rc_obj *v = new_int(i);
    if (rc_list_append(rt, c, v) != 0)
        die("rc_list_append");
    rc_decref(v);
}

static void add_list_tuple2(rc_obj *c, int64_t i) {
    rc_obj *v = new_int(i);
    rc_obj *t = must(rc_tuple(rt, 2, v, v), "rc_tuple");
    if (rc_list_append(rt, c, t) != 0)
        die("rc_list_append");
    rc_decref(t);
    rc_decref(v);
}

static void add_dict_int(rc_obj *c, int64_t i) {
    rc_obj *v = new_int(i);
    if (rc_dict_set(rt, c, v, v) != 0)
        die("rc_dict_set");
    rc_decref(v);
}

static void add_dict_str(rc_obj *c, int64_t i) {
    char buf[32];
    int len = snprintf(buf, sizeof buf, "key%lld", (long long)i);
    rc_obj *k = must(rc_str_n(rt, buf, (size_t)len), "rc_str_n");
    rc_obj *v = new_int(i);
    if (rc_dict_set(rt, c, k, v) != 0)
        die("rc_dict_set");
    rc_decref(k);
    rc_decref(v);
}

static void add_set(rc_obj *c, int64_t i) {
    rc_obj *v = new_int(i);
    if (rc_set_add(rt, c, v) != 0)
        die("rc_set_add");
    rc_decref(v);
}

static void add_array(rc_obj *c, int64_t i) {
    if (rc_array_append_i64(rt, c, i) != 0)
        die("rc_array_append_i64");
}

static rc_obj *make_list(void) { return must(rc_list(rt), "rc_list"); }
static rc_obj *make_dict(void) { return must(rc_dict(rt), "rc_dict"); }
static rc_obj *make_set(void) { return must(rc_set(rt), "rc_set"); }
static rc_obj *make_array(void) { return must(rc_array(rt, RC_ARRAY_I64), "rc_array"); }

typedef struct kind {
    const char *name;
    rc_obj *(*make)(void);
    void (*add)(rc_obj *c, int64_t i);
} kind;

/* tuple-int has no addition: it is made whole by build_tuple. */
static const kind mem_kinds[] = {
    {"dict-str", make_dict, add_dict_str},
    {"dict-int", make_dict, add_dict_int},
    {"set-int", make_set, add_set},
    {"list-int", make_list, add_list},
    {"tuple-int", NULL, NULL},
    {"list-tuple2", make_list, add_list_tuple2},
};

static const kind grow_kinds[] = {
    {"list", make_list, add_list},
    {"dict-int", make_dict, add_dict_int},
    {"dict-str", make_dict, add_dict_str},
    {"set", make_set, add_set},
    {"array", make_array, add_array},
};

static const kind *find_kind(const kind *kinds, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(kinds[i].name, name))
            return &kinds[i];
    return NULL;
}

/* CPython's tuple(lst): the N ints are gathered first (a plain C array
 * here, a list there; both are freed before the measurement ends, by
 * free() at sizes where glibc gives the pages back at once). */
static rc_obj *build_tuple(size_t n) {
    rc_obj **items = malloc((n ? n : 1) * sizeof *items);
    if (!items)
        die("malloc");
    for (size_t i = 0; i < n; i++)
        items[i] = new_int((int64_t)i);
    rc_obj *t = must(rc_tuple_from(rt, n, items), "rc_tuple_from");
    for (size_t i = 0; i < n; i++)
        rc_decref(items[i]);
    free(items);
    return t;
}

static void run_mem(const kind *k, size_t n) {
    long long heap0 = heap_in_use(), rss0 = rss_bytes();
    rc_obj *c;
    if (k->make) {
        c = k->make();
        for (size_t i = 0; i < n; i++)
            k->add(c, (int64_t)i);
    } else {
        c = build_tuple(n);
    }
    long long heap1 = heap_in_use(), rss1 = rss_bytes();
    /* After both readings: the walk's visited set is memory of its own. */
    size_t deep = rc_deep_sizeof(rt, c);
    if (!deep)
        die("rc_deep_sizeof");
    printf("alloc %s %zu %lld\n", k->name, n, heap1 - heap0);
    /* the heap's bytes are already whole blocks: the same figure */
    printf("blocks %s %zu %lld\n", k->name, n, heap1 - heap0);
    printf("deep %s %zu %zu\n", k->name, n, deep);
    printf("rss %s %zu %lld\n", k->name, n, rss1 - rss0);
    rc_decref(c);
}

static void run_grow(const kind *k, size_t max) {
    static const size_t marks[] = {0, 1, 5, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
    size_t span = max < RESIZE_SPAN ? max : RESIZE_SPAN;
    size_t resizes = 0, next = 0, prev;
    rc_obj *c = k->make();
    prev = rc_sizeof(c);
    for (size_t i = 0;; i++) {
        /* i items are in the container here */
        if (next < sizeof marks / sizeof marks[0] && marks[next] == i) {
            printf("grow %s %zu %zu\n", k->name, i, rc_sizeof(c));
            next++;
        }
        if (i == max)
            break;
        k->add(c, (int64_t)i);
        if (i < span) {
            size_t now = rc_sizeof(c);
            resizes += now != prev;
            prev = now;
        }
    }
    printf("resizes %s %zu %zu\n", k->name, span, resizes);
    rc_decref(c);
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "mem") && strcmp(argv[1], "grow"))) {
        fprintf(stderr, "usage: footprint mem NAME N | footprint grow NAME MAX\n");
        return 2;
    }
    int mem = !strcmp(argv[1], "mem");
    const kind *k = mem ? find_kind(mem_kinds, sizeof mem_kinds / sizeof mem_kinds[0], argv[2])
                        : find_kind(grow_kinds, sizeof grow_kinds / sizeof grow_kinds[0], argv[2]);
    if (!k) {
        fprintf(stderr, "footprint: unknown container %s\n", argv[2]);
        return 2;
    }
    size_t n = (size_t)strtoull(argv[3], NULL, 10);
    rt = rc_runtime_new(NULL);
    if (!rt)
        die("rc_runtime_new");
    if (mem)
        run_mem(k, n);
    else
        run_grow(k, n);
    rc_runtime_free(rt);
    return fflush(stdout) == 0 ? 0 : 1;
}
