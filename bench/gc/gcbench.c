/* gcbench.c - the cycle collector's benchmarks, recycle side.
 *
 *   gcbench cycles pairs|ring N    N unreachable objects in cycles (N/2
 *                                  2-cycles, or one doubly linked ring of N) of
 *                                  a four-slot user type, built with the
 *                                  collector disabled; times rc_gc_collect(rt, 2)
 *   gcbench live seq|rand N [COLLECTS]   N live nodes with two references each
 *                                  (seq: i -> i+1, i+2; rand: random, a PRNG
 *                                  shared with live.py and boehm_live.c) held
 *                                  from a root; one untimed full collection,
 *                                  then COLLECTS (default 3) timed
 *   gcbench pauses N [WINDOW]      N iterations of an allocation-heavy loop at
 *                                  the default thresholds; a gc callback times
 *                                  every collection (START -> STOP) by generation
 *   gcbench bt on|off|adaptive|untracked DEPTH   binary-trees whose nodes are a GC
 *                                  user type, with the collector enabled or
 *                                  disabled (untracked: the same node type
 *                                  without RC_TYPE_GC, what tracking costs)
 *   gcbench incr N STEP [STEP_US]  a random heap of N nodes, 10% of them garbage
 *                                  2-cycles; one stop-the-world collection (STEP
 *                                  0) or an incremental one in steps of STEP
 *                                  objects and STEP_US microseconds, the program
 *                                  allocating between steps; every pause timed
 *   gcbench steady adaptive|fixed SECONDS   cyclic garbage at a steady rate with
 *                                  automatic collection; RSS and rc heap bytes
 *                                  sampled every second
 *
 * The node types are user types with RC_TYPE_GC, traverse, clear, destroy,
 * reference slots and a payload (qnode: four slots, lnode: two, tnode: two).
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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* ---- the PRNG shared with live.py and boehm_live.c ----
 * A 64-bit LCG (Knuth's MMIX constants); an index below n is the high 32
 * bits scaled: ((x >> 32) * n) >> 32. The same seed and the same order of
 * draws give the same graph in C and in Python. */

#define GRAPH_SEED 20261206u

static uint64_t rng_state;

static void rng_seed(uint64_t s) { rng_state = s; }

static size_t rng_below(size_t n) {
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (size_t)(((rng_state >> 32) * (uint64_t)n) >> 32);
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

static void link_ref(rc_obj **slot, rc_obj *o) {
    rc_incref(o);
    *slot = o;
}

/* ---- 1. cycles: a user type with four reference slots ----
 * next and prev are the cycle links, value points to one int shared by all
 * the nodes, extra stays NULL; id is a payload (CPython: a class with
 * __slots__ = ('next', 'prev', 'value', 'extra')). */

typedef struct qnode {
    rc_obj ob;
    rc_obj *next, *prev, *value, *extra;
    long id;
} qnode;

static int qnode_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    qnode *q = (qnode *)self;
    int r;
    if (q->next && (r = visit(q->next, arg)))
        return r;
    if (q->prev && (r = visit(q->prev, arg)))
        return r;
    if (q->value && (r = visit(q->value, arg)))
        return r;
    return q->extra ? visit(q->extra, arg) : 0;
}

static void qnode_clear(rc_obj *self) {
    qnode *q = (qnode *)self;
    rc_obj *n = q->next, *p = q->prev, *v = q->value, *e = q->extra;
    q->next = q->prev = q->value = q->extra = NULL;
    rc_xdecref(n);
    rc_xdecref(p);
    rc_xdecref(v);
    rc_xdecref(e);
}

static void qnode_destroy(rc_obj *self) {
    qnode *q = (qnode *)self;
    rc_xdecref(q->next);
    rc_xdecref(q->prev);
    rc_xdecref(q->value);
    rc_xdecref(q->extra);
}

static const rc_type qnode_type = {
    .name = "qnode",
    .size = sizeof(qnode),
    .flags = RC_TYPE_GC,
    .traverse = qnode_traverse,
    .clear = qnode_clear,
    .destroy = qnode_destroy,
};

static qnode *qnode_new(long id, rc_obj *shared) {
    qnode *q = (qnode *)must(rc_new(rt, &qnode_type));
    q->id = id;
    link_ref(&q->value, shared);
    return q;
}

static int bench_cycles(const char *shape, long n) {
    if (n < 2 || (n & 1))
        fail("N must be even and >= 2");
    rt = runtime(1);                         /* disabled while building */
    rc_obj *shared = must(rc_int(rt, 123456789));
    size_t base = rc_runtime_object_count(rt);
    uint64_t b0 = now_ns();
    if (!strcmp(shape, "pairs")) {
        for (long i = 0; i < n; i += 2) {
            qnode *a = qnode_new(i, shared), *b = qnode_new(i + 1, shared);
            link_ref(&a->next, &b->ob);
            link_ref(&a->prev, &b->ob);
            link_ref(&b->next, &a->ob);
            link_ref(&b->prev, &a->ob);
            rc_decref(&a->ob);
            rc_decref(&b->ob);
        }
    } else if (!strcmp(shape, "ring")) {
        /* doubly linked; next takes the reference qnode_new made */
        qnode *first = qnode_new(0, shared), *prev = first;
        for (long i = 1; i < n; i++) {
            qnode *x = qnode_new(i, shared);
            prev->next = &x->ob;
            link_ref(&x->prev, &prev->ob);
            prev = x;
        }
        link_ref(&prev->next, &first->ob);
        link_ref(&first->prev, &prev->ob);
        rc_decref(&first->ob);
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
    if (rc_refcount(shared) != 1)
        fail("the shared int has %zu references after the collection, expected 1",
             rc_refcount(shared));
    rc_decref(shared);
    rc_runtime_free(rt);
    double s = (double)(t1 - t0) / 1e9;
    printf("@ bench=cycles impl=recycle shape=%s n=%ld collected=%ld build_s=%.6f "
           "collect_s=%.6f ns_per_obj=%.3f\n",
           shape, n, found, (double)(b1 - b0) / 1e9, s, s * 1e9 / (double)n);
    return 0;
}

/* ---- a user type with two reference slots (live heap, incremental, steady) ----
 * CPython: a class with __slots__ = ('a', 'b'). */

typedef struct lnode {
    rc_obj ob;
    rc_obj *a, *b;
    long id;
} lnode;

static int lnode_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    lnode *x = (lnode *)self;
    int r;
    if (x->a && (r = visit(x->a, arg)))
        return r;
    return x->b ? visit(x->b, arg) : 0;
}

static void lnode_clear(rc_obj *self) {
    lnode *x = (lnode *)self;
    rc_obj *a = x->a, *b = x->b;
    x->a = x->b = NULL;
    rc_xdecref(a);
    rc_xdecref(b);
}

static void lnode_destroy(rc_obj *self) {
    lnode *x = (lnode *)self;
    rc_xdecref(x->a);
    rc_xdecref(x->b);
}

static const rc_type lnode_type = {
    .name = "lnode",
    .size = sizeof(lnode),
    .flags = RC_TYPE_GC,
    .traverse = lnode_traverse,
    .clear = lnode_clear,
    .destroy = lnode_destroy,
};

static lnode *lnode_new(long id) {
    lnode *x = (lnode *)must(rc_new(rt, &lnode_type));
    x->id = id;
    return x;
}

/* The graph of the live-heap benchmarks: `live` nodes held from a root list
 * of lists of GRAPH_FANOUT (one object's traverse is atomic, so a single
 * list of 1e7 items would be one pause of its own in the incremental mode).
 * With garbage_every > 0, in every block of that many allocations two, at a
 * place drawn from the PRNG, are a garbage 2-cycle (a points to the
 * partner, b to the last live node allocated) that nothing else references.
 * Then each live node's a and b are set: "seq", node i -> i+1 and i+2 (mod
 * live); "rand", two uniformly random live nodes (the PRNG, a then b, node
 * by node). */
#define GRAPH_FANOUT 1000

typedef struct graph {
    rc_obj *root;
    lnode **nodes;              /* the live nodes, borrowed */
    long live, garbage, lists;
    int rand;
} graph;

/* check 0: set the links; 1: check ids and a; 2: ids, a and b */
static void graph_links(graph *g, int check) {
    rng_seed(GRAPH_SEED + 1);
    long n = g->live;
    for (long i = 0; i < n; i++) {
        lnode *x = g->nodes[i], *a, *b;
        if (g->rand) {
            a = g->nodes[rng_below((size_t)n)];
            b = g->nodes[rng_below((size_t)n)];
        } else {
            a = g->nodes[(i + 1) % n];
            b = g->nodes[(i + 2) % n];
        }
        if (!check) {
            link_ref(&x->a, &a->ob);
            link_ref(&x->b, &b->ob);
        } else if (x->id != i || x->a != &a->ob || (check == 2 && x->b != &b->ob)) {
            fail("live node %ld damaged (id %ld)", i, x->id);
        }
    }
}

static graph graph_build(long live, const char *shape, long garbage_every) {
    graph g = { 0 };
    if (!strcmp(shape, "rand")) g.rand = 1;
    else if (strcmp(shape, "seq")) fail("shape must be seq or rand");
    if (live < 3)
        fail("N must be >= 3");
    if (garbage_every && garbage_every < 3)
        fail("garbage_every must be >= 3");
    g.live = live;
    g.nodes = malloc((size_t)live * sizeof *g.nodes);
    if (!g.nodes)
        fail("out of memory");
    g.root = must(rc_list(rt));
    g.lists = 1;
    rc_obj *leaf = NULL;
    long made = 0, gid = 0, at = -1;
    rng_seed(GRAPH_SEED);
    for (long k = 0; made < live; k++) {
        if (garbage_every > 0 && k % garbage_every == 0)
            at = k + (long)rng_below((size_t)(garbage_every - 1));
        if (k == at && made > 0) {
            lnode *p = lnode_new(-1 - gid++), *q = lnode_new(-1 - gid++);
            link_ref(&p->a, &q->ob);
            link_ref(&q->a, &p->ob);
            link_ref(&p->b, &g.nodes[made - 1]->ob);
            link_ref(&q->b, &g.nodes[made - 1]->ob);
            rc_decref(&p->ob);
            rc_decref(&q->ob);
            g.garbage += 2;
            k++;
            continue;
        }
        if (made % GRAPH_FANOUT == 0) {
            leaf = must(rc_list_with_capacity(rt, GRAPH_FANOUT));
            must_ok(rc_list_append(rt, g.root, leaf), "rc_list_append");
            rc_decref(leaf);
            g.lists++;
        }
        lnode *x = lnode_new(made);
        g.nodes[made++] = x;
        must_ok(rc_list_append(rt, leaf, &x->ob), "rc_list_append");
        rc_decref(&x->ob);
    }
    graph_links(&g, 0);
    return g;
}

/* ---- 2. live heap, no garbage ---- */

static int bench_live(const char *shape, long n, int collects) {
    if (collects < 1)
        fail("COLLECTS must be >= 1");
    rt = runtime(1);
    size_t base = rc_runtime_object_count(rt);
    uint64_t b0 = now_ns();
    graph g = graph_build(n, shape, 0);
    uint64_t b1 = now_ns();
    size_t alive = rc_runtime_object_count(rt);
    if (alive != base + (size_t)g.lists + (size_t)n)
        fail("%zu objects alive after building, expected %zu", alive,
             base + (size_t)g.lists + (size_t)n);

    long r = rc_gc_collect(rt, 2);           /* untimed: every object now in gen 2 */
    if (r != 0)
        fail("warm-up collection found %ld unreachable objects, expected 0", r);
    double best = 1e99, sum = 0, *t = calloc((size_t)collects, sizeof(double));
    if (!t)
        fail("out of memory");
    perf_on();
    for (int c = 0; c < collects; c++) {
        uint64_t t0 = now_ns();
        r = rc_gc_collect(rt, 2);
        uint64_t t1 = now_ns();
        if (r != 0)
            fail("collection %d found %ld unreachable objects, expected 0", c, r);
        t[c] = (double)(t1 - t0) / 1e9;
        sum += t[c];
        if (t[c] < best)
            best = t[c];
    }
    perf_off();
    qsort(t, (size_t)collects, sizeof(double), cmp_double);
    double med = t[collects / 2];
    free(t);
    /* live objects untouched: count, every node's id and links */
    if (rc_runtime_object_count(rt) != alive)
        fail("%zu objects alive after the collections, expected %zu",
             rc_runtime_object_count(rt), alive);
    graph_links(&g, 2);
    for (long i = 0; i < n; i += 1 + n / 1000)
        if (!rc_gc_is_tracked(&g.nodes[i]->ob))
            fail("node %ld not tracked", i);
    rc_decref(g.root);
    free(g.nodes);
    /* the nodes that others still refer to are cycles: the collector frees them */
    r = rc_gc_collect(rt, 2);
    if (r < 0 || r > n)
        fail("after dropping the root: %ld collected, expected at most %ld", r, n);
    if (rc_runtime_object_count(rt) != base)
        fail("%zu objects alive at the end, expected %zu", rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
    printf("@ bench=live impl=recycle shape=%s n=%ld tracked=%ld build_s=%.6f collects=%d "
           "collect_s=%.6f med_s=%.6f mean_s=%.6f ns_per_obj=%.3f med_ns_per_obj=%.3f\n",
           shape, n, n + g.lists, (double)(b1 - b0) / 1e9, collects, best, med,
           sum / collects, best * 1e9 / (double)n, med * 1e9 / (double)n);
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
    int id;                 /* payload: the node's depth */
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

/* The same node without RC_TYPE_GC (bt untracked): never linked into a
 * generation, 16 bytes smaller; what tracking costs is the difference to
 * bt off. */
static const rc_type tnode_untracked_type = {
    .name = "tnode",
    .size = sizeof(tnode),
    .destroy = tnode_destroy,
};

static const rc_type *tnode_kind = &tnode_type;

static rc_obj *make_tree(int d) {
    rc_obj *o = must(rc_new(rt, tnode_kind));
    ((tnode *)o)->id = d;
    if (d > 0) {
        tnode *t = (tnode *)o;
        t->left = make_tree(d - 1);
        t->right = make_tree(d - 1);
    }
    return o;
}

static long check_tree(const rc_obj *o) {
    const tnode *t = (const tnode *)o;
    if (t->left && (((const tnode *)t->left)->id != t->id - 1 ||
                    ((const tnode *)t->right)->id != t->id - 1))
        fail("tree node of depth %d damaged", t->id);
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
    else if (!strcmp(mode, "untracked")) on = 0, tnode_kind = &tnode_untracked_type;
    else fail("mode must be on, off, adaptive or untracked");
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
           "gc0_s=%.6f gc1_s=%.6f gc2_s=%.6f peak_rss_kb=%ld\n", mode, n, (double)(t1 - t0) / 1e9,
           st[0].collections, st[1].collections, st[2].collections, gt.s[0], gt.s[1], gt.s[2],
           vm_hwm_kb());
    return 0;
}

/* ---- 5. bounded pauses: the incremental mode on a large random heap ----
 *
 * A graph of N nodes (graph_build, "rand"): 90% live, held from the root;
 * 10% garbage 2-cycles mixed among them in allocation order. Automatic
 * collections are off, so that every pause is one the program times. With
 * STEP 0, one stop-the-world rc_gc_collect(rt, 2). Otherwise
 * rc_gc_set_incremental(rt, STEP) (and rc_gc_set_step_time(rt, STEP_US) if
 * STEP_US > 0), rc_gc_collect_incremental, then rc_gc_step until it returns
 * 0; between two steps the program runs: INCR_MUT_PAIRS garbage 2-cycles
 * and as many new live nodes (each pointing to two random live nodes; one in
 * 8 stored only in the b slot of a random old node, replacing what was
 * there, the others appended to lists the root holds). Every call is timed.
 *
 * Checks: the collector freed exactly the garbage 2-cycles (those of the
 * graph and those made during the collection: the incremental collection
 * and one more full collection together), the object count is then the
 * live count, every old node keeps its id and its a link, every new node
 * reachable from the root is intact. */

#define INCR_GARBAGE_EVERY 20       /* 2 of 20 allocations: 10% garbage */
#define INCR_MUT_PAIRS 100          /* per step: 100 2-cycles + 100 live nodes */

typedef struct dvec { double *v; size_t len, cap; } dvec;

static void dvec_push(dvec *d, double x) {
    if (d->len == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 4096;
        d->v = realloc(d->v, d->cap * sizeof(double));
        if (!d->v)
            fail("out of memory");
    }
    d->v[d->len++] = x;
}

static int bench_incr(long n, long step, long step_us) {
    if (n < 100)
        fail("N must be >= 100");
    rt = runtime(1);
    size_t base = rc_runtime_object_count(rt);
    long live = n - n / 10;
    uint64_t b0 = now_ns();
    graph g = graph_build(live, "rand", INCR_GARBAGE_EVERY);
    uint64_t b1 = now_ns();
    size_t before = rc_runtime_object_count(rt);
    if (before != base + (size_t)(g.lists + live + g.garbage))
        fail("%zu objects after building, expected %zu", before,
             base + (size_t)(g.lists + live + g.garbage));
    long hwm0 = vm_hwm_kb();
    dvec pauses = { 0 };
    double mut_s = 0;
    long pairs = 0, added = 0, slotted = 0, new_lists = 0, inc_found = 0;
    rc_obj *leaf = NULL;
    size_t c0 = collected_total();
    if (step <= 0) {
        perf_on();
        uint64_t t0 = now_ns();
        long r = rc_gc_collect(rt, 2);
        dvec_push(&pauses, (double)(now_ns() - t0));
        perf_off();
        if (r != g.garbage)
            fail("rc_gc_collect found %ld, expected %ld", r, g.garbage);
        inc_found = r;
    } else {
        rc_gc_set_incremental(rt, (size_t)step);
        if (step_us > 0)
            rc_gc_set_step_time(rt, (unsigned)step_us);
        rng_seed(GRAPH_SEED + 2);
        perf_on();
        uint64_t t0 = now_ns();
        int more = rc_gc_collect_incremental(rt);
        dvec_push(&pauses, (double)(now_ns() - t0));
        perf_off();
        while (more) {
            uint64_t m0 = now_ns();
            for (int k = 0; k < INCR_MUT_PAIRS; k++) {
                lnode *p = lnode_new(-1), *q = lnode_new(-1);
                link_ref(&p->a, &q->ob);
                link_ref(&q->a, &p->ob);
                link_ref(&p->b, &g.nodes[rng_below((size_t)live)]->ob);
                rc_decref(&p->ob);
                rc_decref(&q->ob);
                pairs++;
                lnode *x = lnode_new(live + added + slotted);
                link_ref(&x->a, &g.nodes[rng_below((size_t)live)]->ob);
                link_ref(&x->b, &g.nodes[rng_below((size_t)live)]->ob);
                if ((k & 7) == 7) {
                    lnode *old = g.nodes[rng_below((size_t)live)];
                    rc_obj *was = old->b;
                    old->b = &x->ob;            /* takes x's reference */
                    rc_xdecref(was);
                    slotted++;
                } else {
                    if (added % GRAPH_FANOUT == 0) {
                        leaf = must(rc_list_with_capacity(rt, GRAPH_FANOUT));
                        must_ok(rc_list_append(rt, g.root, leaf), "rc_list_append");
                        rc_decref(leaf);
                        new_lists++;
                    }
                    must_ok(rc_list_append(rt, leaf, &x->ob), "rc_list_append");
                    rc_decref(&x->ob);
                    added++;
                }
            }
            mut_s += (double)(now_ns() - m0) / 1e9;
            perf_on();
            uint64_t t1 = now_ns();
            more = rc_gc_step(rt);
            double ns = (double)(now_ns() - t1);
            perf_off();
            dvec_push(&pauses, ns);
            if (getenv("GCBENCH_VERBOSE") && ns > 1e6)
                fprintf(stderr, "step %zu: %.3f ms\n", pauses.len, ns / 1e6);
        }
        inc_found = (long)(collected_total() - c0);
    }
    long hwm1 = vm_hwm_kb();
    /* the garbage made meanwhile goes with one more full collection */
    rc_gc_set_incremental(rt, 0);
    long last = rc_gc_collect(rt, 2);
    if (last < 0)
        fail("final collection failed");
    if (collected_total() - c0 != (size_t)(g.garbage + 2 * pairs))
        fail("the collector freed %zu objects, expected %ld (the garbage 2-cycles)",
             collected_total() - c0, g.garbage + 2 * pairs);
    /* live: the lists, the old nodes, the new nodes in lists, the new nodes
     * in the b slots (a replaced one died by reference counting) */
    long in_slots = 0;
    for (long i = 0; i < live; i++) {
        lnode *b = (lnode *)g.nodes[i]->b;
        if (b && b->id >= live) {
            in_slots++;
            if (rc_typeof(&b->ob) != &lnode_type || !b->a || !b->b ||
                ((lnode *)b->a)->id < 0 || ((lnode *)b->a)->id >= live)
                fail("new node %ld (in the b slot of %ld) damaged", b->id, i);
        }
    }
    size_t expect = base + (size_t)(g.lists + new_lists + live + added + in_slots);
    if (rc_runtime_object_count(rt) != expect)
        fail("%zu objects after collecting, expected %zu (the live ones)",
             rc_runtime_object_count(rt), expect);
    graph_links(&g, 1);
    size_t nl = rc_list_len(g.root);
    if (nl != (size_t)(g.lists - 1 + new_lists))
        fail("the root holds %zu lists, expected %ld", nl, g.lists - 1 + new_lists);
    long seen = 0;
    for (size_t j = (size_t)g.lists - 1; j < nl; j++) {
        rc_obj *l = rc_list_get(rt, g.root, j);
        for (size_t k = 0; l && k < rc_list_len(l); k++) {
            lnode *x = (lnode *)rc_list_get(rt, l, k);
            if (!x || rc_typeof(&x->ob) != &lnode_type || x->id < live ||
                ((lnode *)x->a)->id < 0 || ((lnode *)x->a)->id >= live ||
                ((lnode *)x->b)->id < 0 || ((lnode *)x->b)->id >= live)
                fail("new node %ld damaged", seen);
            seen++;
        }
    }
    if (seen != added)
        fail("%ld new nodes in the lists, expected %ld", seen, added);
    rc_decref(g.root);
    free(g.nodes);
    rc_gc_collect(rt, 2);
    if (rc_runtime_object_count(rt) != base)
        fail("%zu objects at the end, expected %zu", rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);

    size_t m = pauses.len;
    double sum = 0;
    long over1ms = 0;
    for (size_t k = 0; k < m; k++) {
        sum += pauses.v[k];
        over1ms += pauses.v[k] >= 1e6;
    }
    qsort(pauses.v, m, sizeof(double), cmp_double);
    noise nz = spin_noise(sum < 2e9 ? (uint64_t)sum : 2000000000u);
    printf("@ bench=incr impl=recycle n=%ld live=%ld garbage=%ld step=%ld step_us=%ld "
           "build_s=%.3f steps=%zu pause_med_us=%.3f pause_p99_us=%.3f pause_max_us=%.3f "
           "total_ms=%.3f over1ms=%ld mutator_s=%.3f incr_found=%ld final_found=%ld "
           "garbage_pairs_during=%ld new_live=%ld hwm_before_kb=%ld hwm_after_kb=%ld "
           "noise_over100=%ld noise_max_us=%.1f\n",
           n, live, g.garbage, step, step_us, (double)(b1 - b0) / 1e9, m,
           pct(pauses.v, m, 0.5) / 1e3, pct(pauses.v, m, 0.99) / 1e3,
           m ? pauses.v[m - 1] / 1e3 : 0.0, sum / 1e6, over1ms, mut_s, inc_found, last,
           pairs, added + in_slots, hwm0, hwm1, nz.over100, nz.max_us);
    free(pauses.v);
    return 0;
}

/* ---- 6. steady cyclic garbage: does memory stay flat? ----
 *
 * The collector at its defaults (mode "adaptive": the adaptive young
 * threshold, on by default) or with rc_gc_set_adaptive(rt, 0) ("fixed").
 * Kept all along: a random graph of STEADY_LIVE nodes and a window of
 * STEADY_WINDOW slots. Each iteration makes a garbage 2-cycle (its b slots
 * point to random nodes of the graph) and a new node (pointing to two
 * random nodes) that replaces the window's oldest, which dies by reference
 * counting. Every second: RSS (VmRSS), the rc heap's bytes in use
 * (rc_heap_stats_get) and the runtime's object count, printed as
 * "# sample ..." lines. Checks: at the end one full collection; the
 * collector has freed every 2-cycle made and the object count is the live
 * data's. */

#define STEADY_LIVE 100000
#define STEADY_WINDOW 10000

static long vm_rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = -1;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = -1;
        fclose(f);
    }
    return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

typedef struct sample { double t; long rss_kb, heap_kb, objects; size_t young; } sample;

static void half_stats(const sample *s, int k, size_t off, const char *name) {
    /* first, last, max; max of each half; growth over the second half */
    long first = *(const long *)((const char *)&s[0] + off);
    long last = *(const long *)((const char *)&s[k - 1] + off);
    long mx = 0, m1 = 0, m2 = 0;
    int h = k / 2;
    for (int i = 0; i < k; i++) {
        long v = *(const long *)((const char *)&s[i] + off);
        if (v > mx) mx = v;
        if (i < h && v > m1) m1 = v;
        if (i >= h && v > m2) m2 = v;
    }
    long h2first = *(const long *)((const char *)&s[h] + off);
    printf(" %s_first=%ld %s_last=%ld %s_max=%ld %s_max_h1=%ld %s_max_h2=%ld %s_h2_growth=%ld",
           name, first, name, last, name, mx, name, m1, name, m2, name, last - h2first);
}

static int bench_steady(double seconds, const char *mode) {
    int adaptive;
    if (!strcmp(mode, "adaptive")) adaptive = 1;
    else if (!strcmp(mode, "fixed")) adaptive = 0;
    else fail("mode must be adaptive or fixed");
    if (seconds < 2)
        fail("SECONDS must be >= 2");
    rt = runtime(0);
    if (!rc_gc_get_adaptive(rt))
        fail("the adaptive young threshold is not on by default");
    if (!adaptive)
        rc_gc_set_adaptive(rt, 0);
    size_t base = rc_runtime_object_count(rt);
    graph g = graph_build(STEADY_LIVE, "rand", 0);
    rc_obj *win = must(rc_list_with_capacity(rt, STEADY_WINDOW));
    size_t c0 = collected_total();
    int cap = (int)seconds + 2, k = 0;
    sample *s = calloc((size_t)cap, sizeof *s);
    if (!s)
        fail("out of memory");
    rng_seed(GRAPH_SEED + 3);
    long iters = 0;
    uint64_t t0 = now_ns(), next = t0 + 1000000000u, end = t0 + (uint64_t)(seconds * 1e9);
    for (;;) {
        lnode *p = lnode_new(-1), *q = lnode_new(-1);
        link_ref(&p->a, &q->ob);
        link_ref(&q->a, &p->ob);
        link_ref(&p->b, &g.nodes[rng_below(STEADY_LIVE)]->ob);
        link_ref(&q->b, &g.nodes[rng_below(STEADY_LIVE)]->ob);
        rc_decref(&p->ob);
        rc_decref(&q->ob);
        lnode *x = lnode_new(STEADY_LIVE + iters);
        link_ref(&x->a, &g.nodes[rng_below(STEADY_LIVE)]->ob);
        link_ref(&x->b, &g.nodes[rng_below(STEADY_LIVE)]->ob);
        if (iters < STEADY_WINDOW)
            must_ok(rc_list_append(rt, win, &x->ob), "rc_list_append");
        else
            must_ok(rc_list_set(rt, win, (size_t)(iters % STEADY_WINDOW), &x->ob), "rc_list_set");
        rc_decref(&x->ob);
        iters++;
        if ((iters & 255) == 0) {
            uint64_t t = now_ns();
            if (t >= next && k < cap) {
                rc_heap_stats hs;
                memset(&hs, 0, sizeof hs);
                hs.version = RC_HEAP_STATS_VERSION;
                hs.struct_size = sizeof hs;
                must_ok(rc_heap_stats_get(&hs), "rc_heap_stats_get");
                s[k] = (sample){ (double)(t - t0) / 1e9, vm_rss_kb(),
                                 (long)(hs.bytes_in_use / 1024),
                                 (long)rc_runtime_object_count(rt),
                                 rc_gc_get_young_threshold(rt) };
                printf("# sample t=%.2f rss_kb=%ld heap_kb=%ld objects=%ld young_threshold=%zu\n",
                       s[k].t, s[k].rss_kb, s[k].heap_kb, s[k].objects, s[k].young);
                k++;
                next += 1000000000u;
            }
            if (t >= end)
                break;
        }
    }
    double run_s = (double)(now_ns() - t0) / 1e9;
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    long last = rc_gc_collect(rt, 2);
    if (last < 0)
        fail("final collection failed");
    if (collected_total() - c0 != 2 * (size_t)iters)
        fail("the collector freed %zu objects, expected %ld (the 2-cycles)",
             collected_total() - c0, 2 * iters);
    size_t w = iters < STEADY_WINDOW ? (size_t)iters : STEADY_WINDOW;
    size_t expect = base + (size_t)(g.lists + STEADY_LIVE) + 1 + w;
    if (rc_runtime_object_count(rt) != expect)
        fail("%zu objects at the end, expected %zu (the live data)",
             rc_runtime_object_count(rt), expect);
    graph_links(&g, 2);
    for (size_t i = 0; i < w; i++) {
        lnode *x = (lnode *)rc_list_get(rt, win, i);
        if (!x || x->id < STEADY_LIVE || ((lnode *)x->a)->id >= STEADY_LIVE)
            fail("window slot %zu damaged", i);
    }
    rc_decref(win);
    rc_decref(g.root);
    free(g.nodes);
    rc_gc_collect(rt, 2);
    if (rc_runtime_object_count(rt) != base)
        fail("%zu objects left at the end, expected %zu", rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
    if (k < 2)
        fail("only %d samples", k);
    printf("@ bench=steady impl=recycle mode=%s seconds=%.1f iters=%ld cycles=%ld "
           "ns_per_iter=%.1f samples=%d gc0=%zu gc1=%zu gc2=%zu young_threshold_last=%zu "
           "final_found=%ld", mode, run_s, iters, iters, run_s * 1e9 / (double)iters, k,
           st[0].collections, st[1].collections, st[2].collections, s[k - 1].young, last);
    half_stats(s, k, offsetof(sample, rss_kb), "rss_kb");
    half_stats(s, k, offsetof(sample, heap_kb), "heap_kb");
    half_stats(s, k, offsetof(sample, objects), "objects");
    printf("\n");
    free(s);
    return 0;
}

int main(int argc, char **argv) {
    perf_init();
    if (argc >= 4 && !strcmp(argv[1], "cycles"))
        return bench_cycles(argv[2], atol(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "live"))
        return bench_live(argv[2], atol(argv[3]), argc >= 5 ? atoi(argv[4]) : 3);
    if (argc >= 3 && !strcmp(argv[1], "pauses"))
        return bench_pauses(atol(argv[2]), argc >= 4 ? atol(argv[3]) : 20000);
    if (argc >= 4 && !strcmp(argv[1], "bt"))
        return bench_bt(argv[2], atoi(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "incr"))
        return bench_incr(atol(argv[2]), atol(argv[3]), argc >= 5 ? atol(argv[4]) : 0);
    if (argc >= 4 && !strcmp(argv[1], "steady"))
        return bench_steady(atof(argv[3]), argv[2]);
    fprintf(stderr,
            "usage: gcbench cycles pairs|ring N | live seq|rand N [COLLECTS] | pauses N [WINDOW] |\n"
            "       bt on|off|adaptive|untracked DEPTH | incr N STEP [STEP_US] (STEP 0: stop-the-world) |\n"
            "       steady adaptive|fixed SECONDS\n");
    return 2;
}
