/* gcbench.c - the cycle collector's benchmarks, recycle side.
 *
 *   gcbench cycles pairs|ring N    N unreachable objects in cycles (N/2
 *                                  2-cycles, or one ring of N), built with the
 *                                  collector disabled; times rc_gc_collect(rt, 2)
 *   gcbench live N [COLLECTS]      a list of N small containers each holding an
 *                                  int (no garbage); one untimed full
 *                                  collection, then COLLECTS (default 3) timed
 *   gcbench pauses N [WINDOW]      N iterations of an allocation-heavy loop at
 *                                  the default thresholds; a gc callback times
 *                                  every collection (START -> STOP) by generation
 *   gcbench bt on|off|adaptive DEPTH   binary-trees whose nodes are a GC user type,
 *                                  with the collector enabled or disabled
 *
 * The containers are a user type with RC_TYPE_GC, traverse and clear and one
 * object field `other` (CPython: a class with __slots__ = ('other',)).
 *
 * Each run checks itself (objects collected, live objects untouched, nothing
 * left behind) and exits 1 on a mismatch. The results are one line
 * "@ key=value ..." on stdout; times in seconds (CLOCK_MONOTONIC).
 *
 * Profiling only the measured part: with GCBENCH_PERF_CTL and GCBENCH_PERF_ACK
 * naming the fifos of `perf record -D -1 --control fifo:CTL,ACK`, the program
 * enables the events around what it times (the collections; for bt, the whole
 * workload) and disables them elsewhere.
 */
#define _POSIX_C_SOURCE 200809L
#include <recycle.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static rc_runtime *rt;

/* ---- perf control (see the head of the file) ---- */

static FILE *perf_ctl, *perf_ack;

static void perf_init(void) {
    const char *c = getenv("GCBENCH_PERF_CTL"), *a = getenv("GCBENCH_PERF_ACK");
    if (c && *c && a && *a) {
        perf_ctl = fopen(c, "w");
        perf_ack = fopen(a, "r");
        if (!perf_ctl || !perf_ack) {
            fprintf(stderr, "gcbench: cannot open the perf control fifos\n");
            exit(1);
        }
    }
}

static void perf_cmd(const char *cmd) {
    if (!perf_ctl)
        return;
    char buf[16];
    fputs(cmd, perf_ctl);
    fflush(perf_ctl);
    if (!fgets(buf, sizeof buf, perf_ack))
        perf_ctl = NULL;
}

static void perf_on(void) { perf_cmd("enable\n"); }
static void perf_off(void) { perf_cmd("disable\n"); }

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("gcbench: CHECK FAILED: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static rc_obj *must(rc_obj *o) {
    if (!o)
        fail("allocation failed: %s", rt ? rc_error_message(rt) : "no runtime");
    return o;
}

static void must_ok(int r, const char *what) {
    if (r != 0)
        fail("%s: %s", what, rc_strerror(r));
}

/* ---- the container type: one object field (CPython: __slots__ = ('other',)) ---- */

typedef struct cnode {
    rc_obj ob;
    rc_obj *other;
} cnode;

static int cnode_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    cnode *n = (cnode *)self;
    return n->other ? visit(n->other, arg) : 0;
}

static void cnode_clear(rc_obj *self) {
    cnode *n = (cnode *)self;
    rc_obj *o = n->other;
    n->other = NULL;
    rc_xdecref(o);
}

static void cnode_destroy(rc_obj *self) {
    rc_xdecref(((cnode *)self)->other);
}

static const rc_type cnode_type = {
    .name = "cnode",
    .size = sizeof(cnode),
    .flags = RC_TYPE_GC,
    .traverse = cnode_traverse,
    .clear = cnode_clear,
    .destroy = cnode_destroy,
};

static rc_obj *cnode_new(void) { return must(rc_new(rt, &cnode_type)); }

static rc_runtime *runtime(int gc_disabled) {
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.debug = 0;
    cfg.gc_disabled = gc_disabled;
    rc_runtime *r = rc_runtime_new(&cfg);
    if (!r)
        fail("rc_runtime_new failed");
    return r;
}

static size_t collected_total(void) {
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    return st[0].collected + st[1].collected + st[2].collected;
}

/* ---- 1. cycles ---- */

static int bench_cycles(const char *shape, long n) {
    if (n < 2 || (n & 1))
        fail("N must be even and >= 2");
    rt = runtime(1);                         /* disabled while building */
    size_t base = rc_runtime_object_count(rt);
    uint64_t b0 = now_ns();
    if (!strcmp(shape, "pairs")) {
        for (long i = 0; i < n; i += 2) {
            rc_obj *a = cnode_new(), *b = cnode_new();
            rc_incref(b);
            ((cnode *)a)->other = b;
            rc_incref(a);
            ((cnode *)b)->other = a;
            rc_decref(a);
            rc_decref(b);
        }
    } else if (!strcmp(shape, "ring")) {
        rc_obj *first = cnode_new(), *prev = first;
        for (long i = 1; i < n; i++) {
            rc_obj *x = cnode_new();
            ((cnode *)prev)->other = x;      /* takes x's reference */
            prev = x;
        }
        rc_incref(first);
        ((cnode *)prev)->other = first;
        rc_decref(first);
    } else {
        fail("shape must be pairs or ring");
    }
    uint64_t b1 = now_ns();
    if (rc_runtime_object_count(rt) != base + (size_t)n)
        fail("%zu objects alive after building, expected %zu",
             rc_runtime_object_count(rt), base + (size_t)n);

    perf_on();
    uint64_t t0 = now_ns();
    long found = rc_gc_collect(rt, 2);
    uint64_t t1 = now_ns();
    perf_off();

    if (found != n)
        fail("rc_gc_collect returned %ld, expected %ld", found, n);
    if (collected_total() != (size_t)n)
        fail("gc stats say %zu collected, expected %ld", collected_total(), n);
    if (rc_runtime_object_count(rt) != base)
        fail("%zu objects alive after the collection, expected %zu",
             rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
    double s = (double)(t1 - t0) / 1e9;
    printf("@ bench=cycles impl=recycle shape=%s n=%ld collected=%ld build_s=%.6f "
           "collect_s=%.6f ns_per_obj=%.3f\n",
           shape, n, found, (double)(b1 - b0) / 1e9, s, s * 1e9 / (double)n);
    return 0;
}

/* ---- 2. live heap, no garbage ---- */

static int bench_live(long n, int collects) {
    rt = runtime(1);
    size_t base = rc_runtime_object_count(rt);
    uint64_t b0 = now_ns();
    rc_obj *root = must(rc_list_with_capacity(rt, (size_t)n));
    for (long i = 0; i < n; i++) {
        rc_obj *x = cnode_new();
        ((cnode *)x)->other = must(rc_int(rt, 1000 + i));   /* takes the reference */
        must_ok(rc_list_append(rt, root, x), "rc_list_append");
        rc_decref(x);
    }
    uint64_t b1 = now_ns();
    size_t alive = rc_runtime_object_count(rt);
    if (alive != base + 1 + 2 * (size_t)n)
        fail("%zu objects alive after building, expected %zu", alive, base + 1 + 2 * (size_t)n);

    long r = rc_gc_collect(rt, 2);           /* untimed: every object now in gen 2 */
    if (r != 0)
        fail("warm-up collection found %ld unreachable objects, expected 0", r);
    double best = 1e99, sum = 0;
    perf_on();
    for (int c = 0; c < collects; c++) {
        uint64_t t0 = now_ns();
        r = rc_gc_collect(rt, 2);
        uint64_t t1 = now_ns();
        if (r != 0)
            fail("collection %d found %ld unreachable objects, expected 0", c, r);
        double s = (double)(t1 - t0) / 1e9;
        sum += s;
        if (s < best)
            best = s;
    }
    perf_off();
    /* live objects untouched: count, list, every value */
    if (rc_runtime_object_count(rt) != alive)
        fail("%zu objects alive after the collections, expected %zu",
             rc_runtime_object_count(rt), alive);
    if (rc_list_len(root) != (size_t)n)
        fail("root list has %zu items, expected %ld", rc_list_len(root), n);
    size_t tracked = 0;
    for (long i = 0; i < n; i++) {
        rc_obj *x = rc_list_get(rt, root, (size_t)i);
        if (!x || rc_typeof(x) != &cnode_type || rc_int_value(((cnode *)x)->other) != 1000 + i)
            fail("item %ld damaged", i);
        tracked += rc_gc_is_tracked(x) ? 1 : 0;
    }
    if (tracked != (size_t)n)
        fail("%zu of %ld containers tracked", tracked, n);
    rc_decref(root);
    if (rc_runtime_object_count(rt) != base)
        fail("%zu objects alive at the end, expected %zu", rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
    printf("@ bench=live impl=recycle n=%ld tracked=%ld build_s=%.6f collects=%d "
           "collect_s=%.6f mean_s=%.6f ns_per_obj=%.3f\n",
           n, n + 1, (double)(b1 - b0) / 1e9, collects, best, sum / collects,
           best * 1e9 / (double)n);
    return 0;
}

/* ---- 3. pauses at the default thresholds ---- */

typedef struct pause_log {
    uint64_t start;
    int started;
    double *ns[3];
    size_t len[3], cap[3];
    size_t collected;
} pause_log;

static void on_gc(rc_runtime *r, int phase, const rc_gc_info *info, void *arg) {
    (void)r;
    pause_log *pl = arg;
    if (phase == RC_GC_START) {
        if (info->generation == 0)
            perf_on();
        pl->started = 1;
        pl->start = now_ns();
        return;
    }
    uint64_t t = now_ns();
    if (info->generation == 0)
        perf_off();
    if (!pl->started)
        fail("STOP without START");
    pl->started = 0;
    int g = info->generation;
    if (pl->len[g] == pl->cap[g]) {
        pl->cap[g] = pl->cap[g] ? 2 * pl->cap[g] : 4096;
        pl->ns[g] = realloc(pl->ns[g], pl->cap[g] * sizeof(double));
        if (!pl->ns[g])
            fail("out of memory");
    }
    pl->ns[g][pl->len[g]++] = (double)(t - pl->start);
    pl->collected += info->collected;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p) {
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

/* The machine's own interruptions: a loop that only reads the clock for
 * dur_ns, recording every gap between two reads longer than 20 us. On a
 * shared VM the hypervisor and the kernel take the CPU away for up to a few
 * hundred microseconds several times a second; a collection pause that
 * overlaps one of those includes it, whatever the collector does. */
typedef struct noise { long over20, over50, over100; double max_us; } noise;

static noise spin_noise(uint64_t dur_ns) {
    noise nz = { 0, 0, 0, 0 };
    uint64_t start = now_ns(), prev = start;
    while (prev - start < dur_ns) {
        uint64_t t = now_ns();
        double gap = (double)(t - prev) / 1e3;
        nz.over20 += gap > 20;
        nz.over50 += gap > 50;
        nz.over100 += gap > 100;
        if (gap > nz.max_us)
            nz.max_us = gap;
        prev = t;
    }
    return nz;
}

/* Per iteration i: a list holding the int i (+1000) and a tuple (list, i);
 * every 16th iteration also a garbage 2-cycle of lists; every 64th the tuple
 * survives in a window of WINDOW slots (an rc_list), replacing the tuple kept
 * WINDOW*64 iterations earlier, which then dies by reference counting. */
static int bench_pauses(long n, long window) {
    rt = runtime(0);
    size_t thr[3];
    rc_gc_get_threshold(rt, thr);
    if (thr[0] != 700 || thr[1] != 10 || thr[2] != 10)
        fail("thresholds are %zu,%zu,%zu, not the defaults 700,10,10", thr[0], thr[1], thr[2]);
    size_t base = rc_runtime_object_count(rt);
    static pause_log pl;
    must_ok(rc_gc_callback_add(rt, on_gc, &pl), "rc_gc_callback_add");

    rc_obj *win = must(rc_list_with_capacity(rt, (size_t)window));
    size_t kept = 0;
    long cycles = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        rc_obj *l = must(rc_list(rt));
        rc_obj *v = must(rc_int(rt, 1000 + i));
        must_ok(rc_list_append(rt, l, v), "append");
        rc_obj *t = must(rc_tuple(rt, 2, l, v));
        rc_decref(v);
        if ((i & 15) == 0) {
            rc_obj *a = must(rc_list(rt)), *b = must(rc_list(rt));
            must_ok(rc_list_append(rt, a, b), "append");
            must_ok(rc_list_append(rt, b, a), "append");
            rc_decref(a);
            rc_decref(b);
            cycles++;
        }
        if ((i & 63) == 0) {
            if (kept < (size_t)window)
                must_ok(rc_list_append(rt, win, t), "append");
            else
                must_ok(rc_list_set(rt, win, kept % (size_t)window, t), "set");
            kept++;
        }
        rc_decref(t);
        rc_decref(l);
    }
    uint64_t t1 = now_ns();
    noise nz = spin_noise(t1 - t0);

    /* the survivors are intact: slot k % window holds the tuple of the last
     * kept iteration that maps to it */
    size_t wl = rc_list_len(win);
    if (wl != (kept < (size_t)window ? kept : (size_t)window))
        fail("window has %zu items", wl);
    for (size_t k = kept > wl ? kept - wl : 0; k < kept; k++) {
        rc_obj *t = rc_list_get(rt, win, k % (size_t)window);
        long i = (long)k * 64;
        if (!t || !rc_is_tuple(t) || rc_tuple_len(t) != 2 ||
            rc_int_value(rc_tuple_get(rt, t, 1)) != 1000 + i ||
            rc_int_value(rc_list_get(rt, rc_tuple_get(rt, t, 0), 0)) != 1000 + i)
            fail("survivor %zu damaged", k);
    }
    rc_decref(win);
    rc_gc_callback_remove(rt, on_gc, &pl);
    long last = rc_gc_collect(rt, 2);
    if (last < 0)
        fail("final collection failed");
    size_t total = pl.collected + (size_t)last;
    if (total != 2 * (size_t)cycles)
        fail("collector freed %zu objects, expected %ld (the cycles)", total, 2 * cycles);
    if (rc_runtime_object_count(rt) != base)
        fail("%zu objects alive at the end, expected %zu", rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);

    printf("@ bench=pauses impl=recycle n=%ld window=%ld loop_s=%.6f cycles=%ld", n, window,
           (double)(t1 - t0) / 1e9, cycles);
    for (int g = 0; g < 3; g++) {
        size_t m = pl.len[g];
        double sum = 0;
        qsort(pl.ns[g], m, sizeof(double), cmp_double);
        for (size_t k = 0; k < m; k++)
            sum += pl.ns[g][k];
        printf(" g%d_count=%zu g%d_med_us=%.3f g%d_p99_us=%.3f g%d_max_us=%.3f g%d_total_s=%.6f",
               g, m, g, pct(pl.ns[g], m, 0.5) / 1e3, g, pct(pl.ns[g], m, 0.99) / 1e3, g,
               m ? pl.ns[g][m - 1] / 1e3 : 0.0, g, sum / 1e9);
        long over = 0;
        for (size_t k = 0; k < m; k++)
            over += pl.ns[g][k] > 100e3;
        printf(" g%d_over100=%ld", g, over);
        free(pl.ns[g]);
    }
    printf(" noise_s=%.3f noise_over20=%ld noise_over50=%ld noise_over100=%ld noise_max_us=%.1f\n",
           (double)(t1 - t0) / 1e9, nz.over20, nz.over50, nz.over100, nz.max_us);
    return 0;
}

/* ---- 4. binary-trees with GC nodes ---- */

typedef struct tnode {
    rc_obj ob;
    rc_obj *left, *right;
} tnode;

static int tnode_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    tnode *t = (tnode *)self;
    int r;
    if (t->left && (r = visit(t->left, arg)))
        return r;
    return t->right ? visit(t->right, arg) : 0;
}

static void tnode_clear(rc_obj *self) {
    tnode *t = (tnode *)self;
    rc_obj *l = t->left, *r = t->right;
    t->left = t->right = NULL;
    rc_xdecref(l);
    rc_xdecref(r);
}

static void tnode_destroy(rc_obj *self) {
    tnode *t = (tnode *)self;
    rc_xdecref(t->left);
    rc_xdecref(t->right);
}

static const rc_type tnode_type = {
    .name = "tnode",
    .size = sizeof(tnode),
    .flags = RC_TYPE_GC,
    .traverse = tnode_traverse,
    .clear = tnode_clear,
    .destroy = tnode_destroy,
};

static rc_obj *make_tree(int d) {
    rc_obj *o = must(rc_new(rt, &tnode_type));
    if (d > 0) {
        tnode *t = (tnode *)o;
        t->left = make_tree(d - 1);
        t->right = make_tree(d - 1);
    }
    return o;
}

static long check_tree(const rc_obj *o) {
    const tnode *t = (const tnode *)o;
    return t->left ? 1 + check_tree(t->left) + check_tree(t->right) : 1;
}

/* Time spent in collections by generation (bt): two clock reads per
 * collection, ~0.1% of the run. */
typedef struct gen_time {
    uint64_t start;
    double s[3];
} gen_time;

static void on_gc_time(rc_runtime *r, int phase, const rc_gc_info *info, void *arg) {
    (void)r;
    gen_time *gt = arg;
    if (phase == RC_GC_START)
        gt->start = now_ns();
    else
        gt->s[info->generation] += (double)(now_ns() - gt->start) / 1e9;
}

static int bench_bt(const char *mode, int n) {
    int on;
    if (!strcmp(mode, "on")) on = 1;
    else if (!strcmp(mode, "off")) on = 0;
    else if (!strcmp(mode, "adaptive")) on = 2;
    else fail("mode must be on, off or adaptive");
    int min_depth = 4, max_depth = n > min_depth + 2 ? n : min_depth + 2;

    perf_on();
    uint64_t t0 = now_ns();
    rt = runtime(0);
    static gen_time gt;
    must_ok(rc_gc_callback_add(rt, on_gc_time, &gt), "rc_gc_callback_add");
    if (!on)
        rc_gc_disable(rt);
    if (on == 2)
        rc_gc_set_adaptive(rt, 1);

    rc_obj *t = make_tree(max_depth + 1);
    printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, check_tree(t));
    rc_decref(t);

    rc_obj *long_lived = make_tree(max_depth);
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iterations = 1L << (max_depth - d + min_depth), check = 0;
        for (long i = 0; i < iterations; i++) {
            t = make_tree(d);
            check += check_tree(t);
            rc_decref(t);
        }
        printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, check);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check_tree(long_lived));
    rc_decref(long_lived);

    size_t leaked = rc_runtime_object_count(rt);
    rc_gc_callback_remove(rt, on_gc_time, &gt);
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    rc_runtime_free(rt);
    uint64_t t1 = now_ns();
    perf_off();
    if (leaked)
        fail("%zu objects still alive at the end", leaked);
    if (st[0].collected + st[1].collected + st[2].collected)
        fail("the collector freed objects of an acyclic program");
    if (!on && (st[0].collections + st[1].collections + st[2].collections))
        fail("collections ran with the collector disabled");
    printf("@ bench=bt impl=recycle-gc-%s depth=%d time_s=%.6f gc0=%zu gc1=%zu gc2=%zu "
           "gc0_s=%.6f gc1_s=%.6f gc2_s=%.6f\n", mode, n, (double)(t1 - t0) / 1e9,
           st[0].collections, st[1].collections, st[2].collections, gt.s[0], gt.s[1], gt.s[2]);
    return 0;
}

/* ---- 5. the bounded-pause mode on a large live heap ---- */

static long vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kb = atol(line + 6);
    if (f)
        fclose(f);
    return kb;
}

/* A live heap of n containers (each holding an int); then either one
 * stop-the-world full collection or an incremental one in steps of `step`
 * objects, with the program allocating garbage cycles and live objects
 * between steps. Reports the longest pause and the peak RSS. */
/* The heap is a two-level tree: a root list of lists of 1000 containers.
 * (One object's traverse is atomic, so a single list of 1e7 items would
 * make one pause of its own: see docs/gc.md.) */
#define INCR_FANOUT 1000
static rc_obj *incr_item(rc_obj *root, long i) {
    rc_obj *leaf = rc_list_get(rt, root, (size_t)(i / INCR_FANOUT));
    return leaf ? rc_list_get(rt, leaf, (size_t)(i % INCR_FANOUT)) : NULL;
}

static int bench_incr(long n, long step) {
    rt = runtime(1);
    rc_obj *root = must(rc_list(rt));
    rc_obj *leaf = NULL;
    for (long i = 0; i < n; i++) {
        if (i % INCR_FANOUT == 0) {
            leaf = must(rc_list_with_capacity(rt, INCR_FANOUT));
            must_ok(rc_list_append(rt, root, leaf), "rc_list_append");
            rc_decref(leaf);
        }
        rc_obj *x = cnode_new();
        ((cnode *)x)->other = must(rc_int(rt, 1000 + i));
        must_ok(rc_list_append(rt, leaf, x), "rc_list_append");
        rc_decref(x);
    }
    rc_gc_collect(rt, 2);
    long hwm0 = vm_hwm_kb();
    double max_ms = 0, total_ms = 0;
    long steps = 0, cycles = 0;
    size_t base = rc_runtime_object_count(rt);
    if (step > 0) {
        rc_gc_set_incremental(rt, (size_t)step);
        uint64_t t0 = now_ns();
        int more = rc_gc_collect_incremental(rt);
        uint64_t t1 = now_ns();
        max_ms = total_ms = (double)(t1 - t0) / 1e6;
        steps = 1;
        while (more) {
            /* the program runs: 200 garbage 2-cycles per step */
            for (int k = 0; k < 200; k++) {
                rc_obj *a = cnode_new(), *b = cnode_new();
                ((cnode *)a)->other = b;            /* a owns b */
                rc_incref(a);
                ((cnode *)b)->other = a;
                rc_decref(a);
                cycles++;
            }
            t0 = now_ns();
            more = rc_gc_step(rt);
            t1 = now_ns();
            double ms = (double)(t1 - t0) / 1e6;
            total_ms += ms;
            if (ms > max_ms)
                max_ms = ms;
            if (getenv("GCBENCH_VERBOSE") && ms > 1.0)
                fprintf(stderr, "step %ld: %.3f ms\n", steps, ms);
            steps++;
        }
    } else {
        uint64_t t0 = now_ns();
        rc_gc_collect(rt, 2);
        max_ms = total_ms = (double)(now_ns() - t0) / 1e6;
        steps = 1;
    }
    long hwm1 = vm_hwm_kb();
    /* the garbage made meanwhile goes with the next collection */
    rc_gc_set_incremental(rt, 0);
    rc_gc_collect(rt, 2);
    if (rc_runtime_object_count(rt) != base)
        fail("%zu objects after collecting, expected %zu", rc_runtime_object_count(rt), base);
    for (long i = 0; i < n; i += 997) {
        rc_obj *x = incr_item(root, i);
        if (!x || rc_int_value(((cnode *)x)->other) != 1000 + i)
            fail("item %ld damaged", i);
    }
    rc_decref(root);
    rc_runtime_free(rt);
    printf("@ bench=incr impl=recycle n=%ld step=%ld steps=%ld max_pause_ms=%.3f total_ms=%.3f "
           "garbage_cycles=%ld hwm_before_kb=%ld hwm_after_kb=%ld\n",
           n, step, steps, max_ms, total_ms, cycles, hwm0, hwm1);
    return 0;
}

int main(int argc, char **argv) {
    perf_init();
    if (argc >= 4 && !strcmp(argv[1], "cycles"))
        return bench_cycles(argv[2], atol(argv[3]));
    if (argc >= 3 && !strcmp(argv[1], "live"))
        return bench_live(atol(argv[2]), argc >= 4 ? atoi(argv[3]) : 3);
    if (argc >= 3 && !strcmp(argv[1], "pauses"))
        return bench_pauses(atol(argv[2]), argc >= 4 ? atol(argv[3]) : 20000);
    if (argc >= 4 && !strcmp(argv[1], "bt"))
        return bench_bt(argv[2], atoi(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "incr"))
        return bench_incr(atol(argv[2]), atol(argv[3]));
    fprintf(stderr,
            "usage: gcbench cycles pairs|ring N | live N [COLLECTS] | pauses N [WINDOW] | "
            "bt on|off|adaptive DEPTH | incr N STEP (STEP 0: stop-the-world)\n");
    return 2;
}
