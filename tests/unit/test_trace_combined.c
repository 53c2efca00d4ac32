/* rc-test: whitebox oom misuse */
/* test_trace_combined.c - tracing together with the other features, each
 * case checking exact figures:
 *
 *   - incremental (bounded-pause) collections of a graph of cycles: traced
 *     memory comes back to what it was before the graph, to the byte;
 *   - out of memory: the OS layer refuses requests (rci_os_fail_after), so
 *     that either the heap refuses a block (no trace may appear) or the
 *     tracer cannot store a trace (the allocation must fail, the block go
 *     back, the totals stay exact), for rc_malloc blocks and for objects;
 *   - finalizers that allocate while a collection runs: their blocks are
 *     traced from the finalizer, and everything goes back to the baseline;
 *   - rc_trace_stop / rc_trace_start inside the collector's callbacks;
 *   - the heap's debug mode (guard bytes, quarantine, reports of overruns
 *     and double frees) and the runtime's debug mode under the tracer;
 *   - rc_snapshot_compare_to over snapshots of many distinct tracebacks:
 *     every new, gone and changed group with its exact figures, by every key.
 *
 * Objects' bytes are compared with the runtime's own counts
 * (rc_runtime_object_bytes + rc_runtime_buffer_bytes): a traced object is a
 * block of the runtime's private heap, traced with its usable size. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"
#include "heap/os/os.h"
#include "symbolize/symbolize.h"
#include "trace/snapshot.h"

#ifdef __clang__
#define NOINL __attribute__((noinline))
#else
#define NOINL __attribute__((noinline, noclone))
#endif

#define MiB ((size_t)1 << 20)

static void *volatile sink;

/* ---- figures ---------------------------------------------------------------- */

static size_t traced_now(void) {
    size_t c = 0;
    rc_trace_get_traced_memory(&c, NULL);
    return c;
}

/* Traces of every domain (a snapshot: never call it while the OS refuses). */
static size_t ntraces(void) {
    rc_snapshot *s = rc_trace_take_snapshot();
    size_t n = rc_snapshot_trace_count(s);
    rc_snapshot_free(s);
    return n;
}

static size_t heap_bytes(rc_runtime *rt) {
    return rc_runtime_object_bytes(rt) + rc_runtime_buffer_bytes(rt);
}

/* The function that contains return address pc, "?" when unknown. */
static const char *function_of(uintptr_t pc) {
    rcs_frame f[32];
    size_t n = rcs_symbolize(pc, f, 32);
    if (n > 32)
        return "?";
    return f[n - 1].function ? f[n - 1].function : "?";
}

static const char *frame0_of(const void *block) {
    rc_traceback *tb = rc_trace_get_object_traceback(block);
    if (!tb)
        return "(no trace)";
    const char *f = rc_traceback_len(tb) ? function_of(rc_traceback_addr(tb, 0)) : "(empty)";
    rc_traceback_free(tb);
    return f;
}

static rc_runtime *new_runtime(int debug) {
    rc_config c;
    rc_config_init(&c);
    c.debug = debug;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    return rt;
}

static int teardown(void **state) {
    (void)state;
    rc_trace_stop();
    rci_os_fail_after(-1);
    rc_heap_set_allocator(NULL);
    rc_heap_set_debug(0);
    rc_heap_set_error_handler(NULL, NULL);
    return 0;
}

/* ---- a GC node with two slots, a payload and an optional finalizer ---------- */

typedef struct node {
    rc_obj ob;
    rc_obj *a, *b;
    rc_obj *payload;
    int id;
} node;

#define MAXNODES 4096
static int g_destroyed[MAXNODES];
static int g_finalized[MAXNODES];
static rc_obj *g_log;                 /* finalizers append what they make here */

static int node_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    node *n = (node *)self;
    int r = 0;
    if (n->a && (r = visit(n->a, arg)) != 0)
        return r;
    if (n->b && (r = visit(n->b, arg)) != 0)
        return r;
    if (n->payload)
        r = visit(n->payload, arg);
    return r;
}

static void node_clear(rc_obj *self) {
    node *n = (node *)self;
    rc_obj *a = n->a, *b = n->b, *p = n->payload;
    n->a = n->b = n->payload = NULL;
    rc_xdecref(a);
    rc_xdecref(b);
    rc_xdecref(p);
}

static void node_destroy(rc_obj *self) {
    g_destroyed[((node *)self)->id]++;
    node_clear(self);
}

/* Allocates while the collector runs: a str kept in g_log (the log's
 * buffer grows here too) and a temporary list, made and dropped. */
static NOINL void node_finalize(rc_obj *self) {
    node *n = (node *)self;
    g_finalized[n->id]++;
    rc_runtime *rt = rc_runtime_of(self);
    rc_obj *s = rc_str_printf(rt, "node %d was finalized", n->id);
    if (s) {
        rc_list_append(rt, g_log, s);
        rc_decref(s);
    }
    rc_obj *tmp = rc_list(rt);
    if (tmp) {
        rc_obj *v = rc_int(rt, 1000000 + n->id);
        if (v) {
            rc_list_append(rt, tmp, v);
            rc_decref(v);
        }
        rc_decref(tmp);
    }
    __asm__ volatile("" ::: "memory");
}

static const rc_type node_type = {
    .name = "node", .size = sizeof(node), .flags = RC_TYPE_GC,
    .traverse = node_traverse, .clear = node_clear, .destroy = node_destroy,
};

static const rc_type fnode_type = {
    .name = "fnode", .size = sizeof(node), .flags = RC_TYPE_GC,
    .traverse = node_traverse, .clear = node_clear, .destroy = node_destroy,
    .finalize = node_finalize,
};

static void reset_counts(void) {
    memset(g_destroyed, 0, sizeof g_destroyed);
    memset(g_finalized, 0, sizeof g_finalized);
}

/* n nodes of type t in rings of ring nodes (a -> next, b -> previous), each
 * with a payload list holding a str and an int; every reference is the
 * rings' own (the caller keeps none): each ring is garbage once closed.
 * Unless auto_gc, the collector is off meanwhile, so that all of it is
 * there when make_rings returns. */
static void make_rings_gc(rc_runtime *rt, const rc_type *t, int n, int ring, bool auto_gc) {
    assert_true(n <= MAXNODES && n % ring == 0 && ring <= 16);
    int was_on = rc_gc_isenabled(rt);
    if (!auto_gc)
        rc_gc_disable(rt);
    node *first = NULL, *prev = NULL, *members[16];
    for (int i = 0; i < n; i++) {
        node *x = (node *)rc_new(rt, t);
        assert_non_null(x);
        x->id = i;
        x->payload = rc_list(rt);
        rc_obj *s = rc_str_printf(rt, "payload of node %d, long enough for a block of its own", i);
        rc_obj *v = rc_int(rt, 5000000 + i);
        assert_int_equal(rc_list_append(rt, x->payload, s), 0);
        assert_int_equal(rc_list_append(rt, x->payload, v), 0);
        rc_decref(s);
        rc_decref(v);
        if (i % ring == 0) {
            first = x;
        } else {
            rc_incref(&x->ob);
            prev->a = &x->ob;           /* prev -> x */
            rc_incref(&prev->ob);
            x->b = &prev->ob;           /* x -> prev */
        }
        members[i % ring] = x;
        if (i % ring == ring - 1) {
            rc_incref(&first->ob);
            x->a = &first->ob;          /* close the ring */
            rc_incref(&x->ob);
            first->b = &x->ob;
            for (int k = 0; k < ring; k++)
                rc_decref(&members[k]->ob);     /* only the ring holds them now */
        }
        prev = x;
    }
    if (was_on)
        rc_gc_enable(rt);
}

static void make_rings(rc_runtime *rt, const rc_type *t, int n, int ring) {
    make_rings_gc(rt, t, n, ring, false);
}

/* ---- (a) incremental collections ------------------------------------------- */

static void test_incremental_collection(void **state) {
    (void)state;
    reset_counts();
    rc_runtime *rt = new_runtime(0);
    rc_gc_set_threshold(rt, 50, 10, 10);
    rc_gc_set_incremental(rt, 64);
    assert_int_equal(rc_trace_start(8), 0);
    rc_gc_collect(rt, 2);
    size_t t0 = traced_now(), n0 = ntraces(), h0 = heap_bytes(rt);

    const int N = 1200;
    make_rings(rt, &node_type, N, 6);
    size_t t1 = traced_now();
    assert_int_equal(t1 - t0, heap_bytes(rt) - h0);
    /* each node: its block, its payload list, the list's buffer, a str and
     * an int */
    assert_int_equal(ntraces() - n0, 5 * (size_t)N);

    /* Collect in steps; between steps the program allocates objects it
     * keeps (outside the collection's set): strs, and lists, which count
     * toward the allocation trigger and so run steps too. */
    rc_gc_disable(rt);      /* its allocation would run a young collection, taking the rings first */
    rc_obj *keep = rc_list(rt);
    rc_gc_enable(rt);
    for (int i = 0; i < N; i++)
        assert_int_equal(g_destroyed[i], 0);
    int steps = 1, more = rc_gc_collect_incremental(rt);
    while (more) {
        for (int k = 0; k < 20; k++) {
            rc_obj *v = k % 2 ? rc_str_printf(rt, "made between steps %d/%d", steps, k)
                              : rc_list(rt);
            assert_int_equal(rc_list_append(rt, keep, v), 0);
            rc_decref(v);
        }
        more = rc_gc_step(rt);
        steps++;
        assert_true(steps < 100000);
    }
    assert_true(steps > 2);               /* it was a collection in steps */
    for (int i = 0; i < N; i++)
        assert_int_equal(g_destroyed[i], 1);
    /* the graph is gone, to the byte and to the trace: what is left is the
     * keep list and what it holds */
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    size_t kept = rc_list_len(keep);
    assert_int_equal(ntraces() - n0, 1 + 1 + kept);   /* keep, its buffer, its items */
    rc_decref(keep);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    assert_int_equal(heap_bytes(rt), h0);
    rc_trace_stop();
    rc_runtime_free(rt);
}

/* The same kind of graph collected by the allocation trigger alone: every
 * step runs inside rc_new, just after a traced allocation. */
static void test_incremental_by_allocation(void **state) {
    (void)state;
    reset_counts();
    rc_runtime *rt = new_runtime(0);
    rc_gc_set_threshold(rt, 20, 2, 2);
    rc_gc_set_incremental(rt, 32);
    assert_int_equal(rc_trace_start(4), 0);
    rc_gc_collect(rt, 2);
    size_t t0 = traced_now(), n0 = ntraces(), h0 = heap_bytes(rt);
    const int N = 600;
    make_rings_gc(rt, &node_type, N, 3, true);
    rc_obj *keep = rc_list(rt);
    /* allocate tracked objects until every node is gone */
    int all_gone = 0, rounds = 0;
    while (!all_gone) {
        rc_obj *l = rc_list(rt);                 /* tracked: counts toward the trigger */
        assert_int_equal(rc_list_append(rt, keep, l), 0);
        rc_decref(l);
        all_gone = 1;
        for (int i = 0; i < N && all_gone; i++)
            all_gone = g_destroyed[i] == 1;
        assert_true(++rounds < 1000000);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    assert_int_equal(ntraces() - n0, 2 + rc_list_len(keep));
    rc_decref(keep);
    rc_gc_collect(rt, 2);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    assert_int_equal(heap_bytes(rt), h0);
    rc_trace_stop();
    rc_runtime_free(rt);
}

/* ---- (b) out of memory --------------------------------------------------------- */

/* An allocator under the tracer that remembers what the heap did with the
 * last request, so that a failed call can be told apart: the heap refused
 * (inner result NULL) or the tracer refused (the heap gave a block, the
 * tracer freed it and returned NULL). */
static rc_allocator g_prev;
static void *g_inner_last;            /* the heap's answer to the last request */
static void *g_inner_freed;           /* the last block freed */

static void *cnt_malloc(void *ctx, size_t n) {
    (void)ctx;
    return g_inner_last = g_prev.malloc(g_prev.ctx, n);
}
static void *cnt_calloc(void *ctx, size_t c, size_t n) {
    (void)ctx;
    return g_inner_last = g_prev.calloc(g_prev.ctx, c, n);
}
static void *cnt_realloc(void *ctx, void *p, size_t n) {
    (void)ctx;
    return g_inner_last = g_prev.realloc(g_prev.ctx, p, n);
}
static void cnt_free(void *ctx, void *p) {
    (void)ctx;
    g_inner_freed = p;
    g_prev.free(g_prev.ctx, p);
}
static void *cnt_aligned(void *ctx, size_t a, size_t n) {
    (void)ctx;
    return g_inner_last = g_prev.aligned_alloc(g_prev.ctx, a, n);
}
static size_t cnt_usable(void *ctx, const void *p) {
    (void)ctx;
    return g_prev.usable_size(g_prev.ctx, p);
}

static void install_counter(void) {
    rc_heap_get_allocator(&g_prev);
    rc_allocator a = {NULL, cnt_malloc, cnt_calloc, cnt_realloc, cnt_free, cnt_aligned, cnt_usable};
    assert_int_equal(rc_heap_set_allocator(&a), 0);
}

/* Distinct tracebacks: a path of path_a / path_b frames spelling bits, so
 * that every allocation needs a new traceback (and the tracer memory). */
typedef void *(*leaf_fn)(void *arg);
static volatile int g_na, g_nb;
static void *walk(unsigned bits, int depth, leaf_fn leaf, void *arg);

static NOINL void *path_a(unsigned bits, int depth, leaf_fn leaf, void *arg) {
    g_na++;
    void *p = walk(bits, depth, leaf, arg);
    sink = p;
    return sink;
}

static NOINL void *path_b(unsigned bits, int depth, leaf_fn leaf, void *arg) {
    g_nb--;
    void *p = walk(bits, depth, leaf, arg);
    sink = p;
    return sink;
}

static NOINL void *walk(unsigned bits, int depth, leaf_fn leaf, void *arg) {
    void *p;
    if (depth == 0)
        p = leaf(arg);
    else if (bits & 1)
        p = path_a(bits >> 1, depth - 1, leaf, arg);
    else
        p = path_b(bits >> 1, depth - 1, leaf, arg);
    sink = p;
    return sink;
}

#define PATH_DEPTH 16
#define BLOCK 48

/* The leaves are the callers of the allocator (no tail call: their frame
 * must be there). */
static NOINL void *leaf_malloc(void *arg) {
    (void)arg;
    void *p = rc_malloc(BLOCK);
    sink = p;
    return sink;
}

/* A traced rc_malloc whose trace cannot be stored fails with ENOMEM, hands
 * its block back, and changes no figure; every allocation that succeeded
 * is traced with its size; a request the heap refuses leaves no trace. */
static void test_oom_malloc(void **state) {
    (void)state;
    install_counter();
    assert_int_equal(rc_trace_start(RC_TRACE_MAX_FRAMES), 0);
    void *warm = rc_malloc(BLOCK);        /* the heap's arena for this size is there */
    assert_non_null(warm);
    size_t t0 = traced_now(), n0 = ntraces();

    enum { MAXB = 20000 };
    static void *blocks[MAXB];
    size_t nb = 0, by_tracer = 0, by_heap = 0;
    rci_os_fail_after(0);                 /* from now on the OS gives nothing */
    for (unsigned i = 0; i < MAXB && by_tracer < 3; i++) {
        size_t before = traced_now();
        g_inner_last = g_inner_freed = NULL;
        errno = 0;
        void *p = walk(i, PATH_DEPTH, leaf_malloc, NULL);
        if (p) {
            blocks[nb++] = p;
            assert_int_equal(traced_now(), before + BLOCK);
            continue;
        }
        assert_int_equal(errno, ENOMEM);
        assert_int_equal(traced_now(), before);
        if (g_inner_last) {
            /* the heap had a block: the trace could not be stored, and the
             * block went back */
            assert_ptr_equal(g_inner_freed, g_inner_last);
            by_tracer++;
        } else {
            by_heap++;
        }
    }
    assert_true(nb > 0);
    /* the heap refuses a huge block: no trace, nothing changes */
    size_t before = traced_now();
    g_inner_last = NULL;
    assert_null(rc_malloc(256 * MiB + 64));
    assert_null(g_inner_last);
    assert_null(rc_calloc(1, 256 * MiB + 128));
    assert_null(rc_aligned_alloc(4096, 256 * MiB + 4096));
    assert_null(rc_realloc(blocks[0], 256 * MiB + 256));   /* fails: the block stays */
    assert_int_equal(traced_now(), before);
    assert_true(rci_os_fail_after(-1) > 0);

    assert_true(by_tracer > 0);           /* the tracer's own failure was met */
    assert_true(nb > 0);
    assert_int_equal(traced_now() - t0, nb * BLOCK);
    assert_int_equal(ntraces() - n0, nb);
    for (size_t k = 0; k < nb; k++) {
        rc_traceback *tb = rc_trace_get_object_traceback(blocks[k]);
        assert_non_null(tb);
        assert_true(rc_traceback_len(tb) > 2 * PATH_DEPTH);
        rc_traceback_free(tb);
    }
    /* tracing goes on as before */
    void *again = walk(12345, PATH_DEPTH, leaf_malloc, NULL);
    assert_non_null(again);
    assert_int_equal(traced_now() - t0, (nb + 1) * BLOCK);
    rc_free(again);
    for (size_t k = 0; k < nb; k++)
        rc_free(blocks[k]);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    rc_free(warm);
    if (getenv("RC_TEST_VERBOSE"))
        print_message("    %zu traced, %zu refused by the tracer, %zu by the heap\n", nb,
                      by_tracer, by_heap);
}

static const rc_type point_type = { .name = "point", .size = sizeof(rc_obj) + 16 };

static NOINL void *leaf_object(void *arg) {
    void *p = rc_new((rc_runtime *)arg, &point_type);
    sink = p;
    return sink;
}

/* The same for objects: a block of a runtime's private heap whose trace
 * cannot be stored is given back and the constructor fails with RC_ENOMEM;
 * the runtime's counts and the traced figures stay equal. Then a container
 * whose buffer the heap refuses, and the object layer's own injection. */
static void test_oom_objects(void **state) {
    (void)state;
    rc_runtime *rt = new_runtime(0);
    rc_gc_disable(rt);
    assert_int_equal(rc_trace_start(RC_TRACE_MAX_FRAMES), 0);
    rc_obj *warm = rc_new(rt, &point_type);     /* the runtime's heap has its arena */
    size_t t0 = traced_now(), n0 = ntraces(), h0 = heap_bytes(rt);

    enum { MAXO = 20000 };
    static rc_obj *objs[MAXO];
    size_t no = 0, failed = 0;
    unsigned failed_at = 0;
    rci_os_fail_after(0);
    for (unsigned i = 0; i < MAXO && failed == 0; i++) {
        size_t before = traced_now(), hb = heap_bytes(rt);
        rc_error_clear(rt);
        rc_obj *o = walk(i, PATH_DEPTH, leaf_object, rt);
        if (o) {
            objs[no++] = o;
            assert_int_equal(traced_now() - before, heap_bytes(rt) - hb);
            continue;
        }
        assert_int_equal(rc_error(rt), RC_ENOMEM);
        assert_int_equal(traced_now(), before);
        assert_int_equal(heap_bytes(rt), hb);
        failed++;
        failed_at = i;
    }
    assert_int_equal(failed, 1);
    /* a buffer the heap cannot get: the list object is dropped again */
    size_t before = traced_now(), hb = heap_bytes(rt);
    assert_null(rc_list_with_capacity(rt, 40 * MiB));
    assert_int_equal(rc_error(rt), RC_ENOMEM);
    assert_int_equal(traced_now(), before);
    assert_int_equal(heap_bytes(rt), hb);
    assert_true(rci_os_fail_after(-1) > 0);

    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    assert_int_equal(ntraces() - n0, no);
    for (size_t k = 0; k < no; k++)
        assert_string_equal(frame0_of(objs[k]), "leaf_object");

    /* the object layer's injection: never reaches the heap, leaves nothing */
    rc_runtime_fail_after(rt, 0);
    assert_null(rc_str(rt, "refused"));
    assert_int_equal(rc_error(rt), RC_ENOMEM);
    rc_runtime_fail_after(rt, -1);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);

    for (size_t k = 0; k < no; k++)
        rc_decref(objs[k]);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    assert_int_equal(heap_bytes(rt), h0);

    /* The failure was the tracer's: with tracing off, the same allocation
     * succeeds while the OS still refuses everything (the heap did not need
     * it). */
    rc_trace_stop();
    rci_os_fail_after(0);
    rc_obj *o = walk(failed_at, PATH_DEPTH, leaf_object, rt);
    assert_true(rci_os_fail_after(-1) == 0);
    assert_non_null(o);
    rc_decref(o);
    rc_decref(warm);
    rc_runtime_free(rt);
}

/* ---- (c) finalizers that allocate ------------------------------------------- */

static void test_finalizers_allocate(void **state) {
    (void)state;
    reset_counts();
    rc_runtime *rt = new_runtime(0);
    assert_int_equal(rc_trace_start(8), 0);
    rc_gc_collect(rt, 2);
    size_t t0 = traced_now(), n0 = ntraces(), h0 = heap_bytes(rt);
    g_log = rc_list(rt);                  /* no buffer yet: the finalizers grow it */

    const int N = 300;
    make_rings(rt, &fnode_type, N, 4);
    size_t t_graph = traced_now();
    assert_int_equal(t_graph - t0, heap_bytes(rt) - h0);

    assert_int_equal(rc_gc_collect(rt, 2), 2 * N);   /* the tracked ones: nodes, payload lists */
    for (int i = 0; i < N; i++) {
        assert_int_equal(g_finalized[i], 1);
        assert_int_equal(g_destroyed[i], 1);
    }
    /* left: the log list, its buffer and one str per node, all traced, the
     * strs and the buffer from the finalizer */
    assert_int_equal(rc_list_len(g_log), N);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    assert_int_equal(ntraces() - n0, 2 + (size_t)N);
    for (int i = 0; i < N; i++)
        assert_string_equal(frame0_of(rc_list_get(rt, g_log, (size_t)i)), "node_finalize");

    /* Collections started by the allocation trigger, inside traced
     * allocations, with finalizers allocating during them. */
    rc_gc_set_threshold(rt, 10, 1, 1);
    reset_counts();
    for (int round = 0; round < 10; round++)
        make_rings_gc(rt, &fnode_type, 200, 5, true);
    rc_gc_collect(rt, 2);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(g_finalized[i], 10);
        assert_int_equal(g_destroyed[i], 10);
    }
    assert_int_equal(rc_list_len(g_log), N + 2000);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    assert_int_equal(ntraces() - n0, 2 + (size_t)N + 2000);

    rc_decref(g_log);
    g_log = NULL;
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    assert_int_equal(heap_bytes(rt), h0);
    rc_trace_stop();
    rc_runtime_free(rt);
}

/* ---- (d) stop and start from the collector's callbacks ------------------------ */

enum { CB_NONE, CB_STOP_AT_START, CB_START_AT_START, CB_STOP_START, CB_START_STOP };
static int g_cb_mode;
static int g_cb_calls[2];
/* The figures at the last STOP callback, before it acts. */
static size_t g_stop_traced, g_stop_traces, g_stop_heap;

static void gc_cb(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)info;
    (void)arg;
    g_cb_calls[phase]++;
    if (phase == RC_GC_STOP) {
        g_stop_traced = traced_now();
        g_stop_traces = rc_trace_is_tracing() ? ntraces() : 0;
        g_stop_heap = heap_bytes(rt);
    }
    switch (g_cb_mode) {
    case CB_STOP_AT_START:
        if (phase == RC_GC_START)
            rc_trace_stop();
        break;
    case CB_START_AT_START:
        if (phase == RC_GC_START)
            assert_int_equal(rc_trace_start(6), 0);
        break;
    case CB_STOP_START:               /* off during the collection */
        if (phase == RC_GC_START)
            rc_trace_stop();
        else
            assert_int_equal(rc_trace_start(6), 0);
        break;
    case CB_START_STOP:               /* on during the collection only */
        if (phase == RC_GC_START)
            assert_int_equal(rc_trace_start(6), 0);
        else
            rc_trace_stop();
        break;
    default:
        break;
    }
}

static void test_stop_start_in_gc_callbacks(void **state) {
    (void)state;
    rc_runtime *rt = new_runtime(0);
    assert_int_equal(rc_gc_callback_add(rt, gc_cb, NULL), 0);
    g_log = rc_list(rt);
    size_t h_log = heap_bytes(rt);        /* the log list, nothing else */

    /* 1. Off during the collection, on again at its end: the garbage dies
     * untraced; the fresh tracer sees only what comes after. */
    g_cb_mode = CB_STOP_START;
    reset_counts();
    assert_int_equal(rc_trace_start(6), 0);
    rc_obj *old = rc_str(rt, "allocated before the collection, freed after it");
    make_rings(rt, &node_type, 120, 4);
    assert_int_equal(traced_now(), heap_bytes(rt) - h_log);
    size_t h0 = heap_bytes(rt);
    rc_gc_collect(rt, 2);
    assert_int_equal(g_cb_calls[RC_GC_START], 1);
    assert_int_equal(g_cb_calls[RC_GC_STOP], 1);
    assert_true(rc_trace_is_tracing());
    assert_int_equal(traced_now(), 0);
    assert_int_equal(ntraces(), 0);
    size_t h1 = heap_bytes(rt);
    assert_true(h1 < h0);
    rc_obj *fresh = rc_str(rt, "allocated after the collection");
    assert_int_equal(traced_now(), heap_bytes(rt) - h1);
    size_t tf = traced_now();
    rc_decref(old);                       /* its trace went with the stop: ignored */
    assert_int_equal(traced_now(), tf);
    rc_decref(fresh);
    assert_int_equal(traced_now(), 0);
    assert_int_equal(ntraces(), 0);

    /* 2. Off at the start of the collection and left off. */
    g_cb_mode = CB_STOP_AT_START;
    make_rings(rt, &node_type, 40, 4);
    rc_gc_collect(rt, 2);
    assert_false(rc_trace_is_tracing());
    assert_int_equal(traced_now(), 0);

    /* 3. On from the start of a collection whose finalizers allocate, and
     * left on. */
    g_cb_mode = CB_START_AT_START;
    reset_counts();
    make_rings(rt, &fnode_type, 80, 4);
    rc_gc_collect(rt, 2);
    assert_true(rc_trace_is_tracing());
    for (int i = 0; i < 80; i++)
        assert_int_equal(g_finalized[i], 1);
    /* traced: the 80 strs and the log's buffer, made during the collection;
     * the nodes were freed untraced */
    assert_int_equal(ntraces(), 81);
    assert_int_equal(rc_list_len(g_log), 80);
    for (size_t i = 0; i < rc_list_len(g_log); i++)
        assert_string_equal(frame0_of(rc_list_get(rt, g_log, i)), "node_finalize");
    /* everything alive but the log list itself was made while tracing */
    assert_int_equal(traced_now(), heap_bytes(rt) - h_log);
    rc_trace_stop();

    /* 4. On during the collection only: at its STOP callback the tracer
     * holds the finalizers' 40 strs, and the log's buffer if they grew it
     * (the old buffer, untraced, is then gone). */
    g_cb_mode = CB_START_STOP;
    size_t h4 = heap_bytes(rt), buf4 = rc_runtime_buffer_bytes(rt);
    make_rings(rt, &fnode_type, 40, 4);
    rc_gc_collect(rt, 2);
    assert_false(rc_trace_is_tracing());
    assert_int_equal(traced_now(), 0);
    assert_int_equal(rc_list_len(g_log), 120);
    bool grew = rc_runtime_buffer_bytes(rt) != buf4;
    assert_int_equal(g_stop_traces, 40 + (grew ? 1 : 0));
    assert_int_equal(g_stop_traced, g_stop_heap - h4 + (grew ? buf4 : 0));

    /* 5. Incremental: off from the first step to the last one. */
    g_cb_mode = CB_STOP_START;
    rc_gc_set_incremental(rt, 16);
    reset_counts();
    assert_int_equal(rc_trace_start(6), 0);
    make_rings(rt, &node_type, 200, 5);
    int more = rc_gc_collect_incremental(rt);
    assert_false(rc_trace_is_tracing());
    rc_obj *between = rc_str(rt, "allocated between steps, untraced");
    while (more)
        more = rc_gc_step(rt);
    assert_true(rc_trace_is_tracing());
    assert_int_equal(traced_now(), 0);
    for (int i = 0; i < 200; i++)
        assert_int_equal(g_destroyed[i], 1);
    rc_decref(between);                   /* never traced: ignored */
    assert_int_equal(traced_now(), 0);
    size_t h2 = heap_bytes(rt);
    rc_obj *after = rc_list(rt);
    assert_int_equal(traced_now(), heap_bytes(rt) - h2);
    rc_decref(after);
    assert_int_equal(traced_now(), 0);

    rc_trace_stop();
    g_cb_mode = CB_NONE;
    rc_decref(g_log);
    g_log = NULL;
    rc_runtime_free(rt);
}

/* ---- (e) debug modes ------------------------------------------------------------ */

static size_t g_heap_errs[8];

static void on_heap_error(const rc_heap_error *err, void *arg) {
    (void)arg;
    if ((size_t)err->kind < 8)
        g_heap_errs[err->kind]++;
}

/* The heap's debug mode under the tracer (and the tracer over it): traced
 * sizes are the requested ones, an overrun and a double free are reported
 * and change no traced figure. */
static void debug_heap_round(bool debug_first) {
    memset(g_heap_errs, 0, sizeof g_heap_errs);
    rc_heap_set_error_handler(on_heap_error, NULL);
    size_t errs0 = rc_heap_error_count();
    if (debug_first)
        rc_heap_set_debug(1);
    assert_int_equal(rc_trace_start(4), 0);
    if (!debug_first)
        rc_heap_set_debug(1);
    size_t t0 = traced_now(), n0 = ntraces();
    enum { NB = 200 };
    void *b[NB];
    size_t want = 0;
    for (int i = 0; i < NB; i++) {
        size_t n = (size_t)i * 7 + 1;
        switch (i % 4) {
        case 0: b[i] = rc_malloc(n); break;
        case 1: b[i] = rc_calloc(n, 3); n *= 3; break;
        case 2: b[i] = rc_aligned_alloc(64, n); break;
        default:
            b[i] = rc_malloc(5);
            b[i] = rc_realloc(b[i], n);
            break;
        }
        assert_non_null(b[i]);
        memset(b[i], 0x5a, n);
        want += n;
        assert_int_equal(traced_now() - t0, want);
        assert_string_equal(frame0_of(b[i]), "debug_heap_round");
    }
    assert_int_equal(ntraces() - n0, NB);
    assert_int_equal(rc_heap_debug_check(), 0);

    /* an overrun of one byte, found when the block is freed */
    size_t n1 = 1 * 7 + 1;                /* b[1]: calloc(8, 3) */
    rct_poke((char *)b[1] + 3 * n1, 0x11);
    rc_free(b[1]);
    want -= 3 * n1;
    assert_int_equal(g_heap_errs[RC_HEAP_ERR_OVERRUN], 1);
    assert_int_equal(traced_now() - t0, want);
    /* a double free: reported, skipped, no figure moves */
    rc_free(b[1]);
    assert_int_equal(g_heap_errs[RC_HEAP_ERR_DOUBLE_FREE], 1);
    assert_int_equal(traced_now() - t0, want);
    assert_int_equal(ntraces() - n0, NB - 1);
    for (int i = 0; i < NB; i++)
        if (i != 1)
            rc_free(b[i]);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    assert_int_equal(rc_heap_error_count() - errs0, 2);
    rc_trace_stop();
    rc_heap_set_debug(0);
    rc_heap_set_error_handler(NULL, NULL);
}

static void test_debug_heap(void **state) {
    (void)state;
    debug_heap_round(true);
    debug_heap_round(false);
}

/* Both debug modes at once (the heap's blocks and the runtime's quarantine
 * of objects) with containers, a cycle and an object freed twice. */
static size_t g_debug_reports;

static void on_debug_report(rc_runtime *rt, const char *message, void *arg) {
    (void)rt;
    (void)message;
    (void)arg;
    g_debug_reports++;
}

static void test_debug_runtime(void **state) {
    (void)state;
    reset_counts();
    rc_heap_set_debug(1);
    rc_runtime *rt = new_runtime(1);
    rc_runtime_set_debug_handler(rt, on_debug_report, NULL);
    g_debug_reports = 0;
    assert_int_equal(rc_trace_start(6), 0);
    size_t t0 = traced_now(), n0 = ntraces(), h0 = heap_bytes(rt);
    void *raw = rc_malloc(100);
    rc_obj *d = rc_dict(rt);
    for (int i = 0; i < 100; i++) {
        rc_obj *k = rc_int(rt, 7000000 + i);
        rc_obj *v = rc_str_printf(rt, "value %d", i);
        assert_int_equal(rc_dict_set(rt, d, k, v), 0);
        rc_decref(k);
        rc_decref(v);
    }
    make_rings(rt, &node_type, 60, 3);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0 + 100);
    rc_gc_collect(rt, 2);
    for (int i = 0; i < 60; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0 + 100);
    rc_obj *x = rc_float(rt, 1.25);
    size_t tx = traced_now();
    rc_decref(x);
    assert_true(traced_now() < tx);
    size_t t_freed = traced_now();
    rc_decref(x);                         /* a decref of a freed object: reported */
    assert_int_equal(g_debug_reports, 1);
    assert_int_equal(traced_now(), t_freed);
    rc_decref(d);
    rc_free(raw);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    rc_trace_stop();
    rc_runtime_free(rt);
    rc_heap_set_debug(0);
}

/* ---- compare_to over many distinct tracebacks -------------------------------- */

#define NFILES 7
#define SYN_FRAMES 3

/* What key k has in a synthetic snapshot: count traces of size bytes each;
 * count 0 when absent. */
typedef struct syn { size_t count, size; } syn;

static syn syn_old(size_t k) {
    if (k % 5 == 0)
        return (syn){0, 0};                            /* new in the second snapshot */
    return (syn){1 + k % 19, 16 + (k % 13) * 8};
}

static syn syn_new(size_t k) {
    if (k % 7 == 0)
        return (syn){0, 0};                            /* gone */
    syn o = syn_old(k);
    if (o.count == 0)
        return (syn){1 + k % 11, 24 + (k % 5) * 16};   /* new */
    if (k % 3 == 0)
        return (syn){o.count + 1 + k % 4, o.size};     /* more of them */
    if (k % 3 == 1 && o.count > 1)
        return (syn){o.count - 1, o.size + 8};         /* fewer, larger */
    return o;                                          /* unchanged */
}

static uintptr_t syn_pc(size_t k) {
    return 0x100000 + (uintptr_t)k * 16;
}

static const char *const syn_files[NFILES] = {"g0.c", "g1.c", "g2.c", "g3.c", "g4.c", "g5.c", "g6.c"};

/* A snapshot as a loaded one looks (stored symbols, so that nothing is
 * symbolized): traceback of key k = {syn_pc(k), 0x20, 0x30}; frame 0 is at
 * g<k % 7>.c line k + 1, frames 1 and 2 at caller.c lines 1 and 2. Traces
 * come in a scrambled order. */
static rc_snapshot *syn_snapshot(size_t nkeys, syn (*what)(size_t)) {
    rc_snapshot *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->limit = SYN_FRAMES;
    size_t ntbs = 0, ntr = 0;
    for (size_t k = 0; k < nkeys; k++) {
        syn w = what(k);
        ntbs += w.count ? 1 : 0;
        ntr += w.count;
    }
    s->tbs = malloc((ntbs ? ntbs : 1) * sizeof *s->tbs);
    s->traces = malloc((ntr ? ntr : 1) * sizeof *s->traces);
    rctr_symbols *sy = calloc(1, sizeof *sy);
    assert_true(s->tbs && s->traces && sy);
    sy->refs = 1;
    size_t slen = strlen("caller.c") + 1;
    for (int f = 0; f < NFILES; f++)
        slen += strlen(syn_files[f]) + 1;
    sy->strings = malloc(slen);
    sy->first = malloc((ntbs ? ntbs : 1) * sizeof *sy->first);
    sy->v = malloc((ntbs ? ntbs : 1) * SYN_FRAMES * sizeof *sy->v);
    assert_true(sy->strings && sy->first && sy->v);
    const char *names[NFILES + 1];
    char *w = sy->strings;
    for (int f = 0; f <= NFILES; f++) {
        const char *src = f < NFILES ? syn_files[f] : "caller.c";
        strcpy(w, src);
        names[f] = w;
        w += strlen(src) + 1;
    }
    s->syms = sy;
    size_t t = 0;
    for (size_t k = 0; k < nkeys; k++) {
        syn x = what(k);
        if (!x.count)
            continue;
        size_t i = s->ntbs++;
        rc_traceback *tb = malloc(sizeof *tb + SYN_FRAMES * sizeof(uintptr_t));
        assert_non_null(tb);
        tb->nframes = SYN_FRAMES;
        tb->frames[0] = syn_pc(k);
        tb->frames[1] = 0x20;
        tb->frames[2] = 0x30;
        s->tbs[i] = tb;
        sy->first[i] = i * SYN_FRAMES;
        sy->v[i * SYN_FRAMES + 0] = (rctr_sym){NULL, names[k % NFILES], (int)k + 1};
        sy->v[i * SYN_FRAMES + 1] = (rctr_sym){NULL, names[NFILES], 1};
        sy->v[i * SYN_FRAMES + 2] = (rctr_sym){NULL, names[NFILES], 2};
        for (size_t c = 0; c < x.count; c++)
            s->traces[t++] = (snap_trace){0, x.size, i, 0};
    }
    s->ntraces = t;
    /* scramble: a stride prime to t visits every trace once */
    if (t > 1) {
        snap_trace *p = malloc(t * sizeof *p);
        assert_non_null(p);
        size_t stride = t % 7919 ? 7919 : 7927;   /* two primes */
        for (size_t i = 0, j = 0; i < t; i++, j = (j + stride) % t)
            p[i] = s->traces[j];
        memcpy(s->traces, p, t * sizeof *p);
        free(p);
    }
    return s;
}

/* |a| >= |b|, as compare_to sorts. */
static bool diff_order_ok(const rc_stat *a, const rc_stat *b) {
    unsigned long da = (unsigned long)labs(a->size_diff), db = (unsigned long)labs(b->size_diff);
    if (da != db)
        return da > db;
    return a->size >= b->size;
}

static void check_by_key(const rc_stats *st, size_t nkeys, bool by_traceback, unsigned char *seen) {
    memset(seen, 0, nkeys);
    size_t expect = 0;
    for (size_t k = 0; k < nkeys; k++)
        expect += (syn_old(k).count || syn_new(k).count) ? 1 : 0;
    assert_int_equal(rc_stats_len(st), expect);
    for (size_t i = 0; i < rc_stats_len(st); i++) {
        const rc_stat *e = rc_stats_at(st, i);
        size_t k;
        if (by_traceback) {
            const rc_traceback *tb = rc_stats_traceback(st, i);
            assert_non_null(tb);
            assert_int_equal(rc_traceback_len(tb), SYN_FRAMES);
            k = (rc_traceback_addr(tb, 0) - 0x100000) / 16;
        } else {
            assert_null(rc_stats_traceback(st, i));
            k = (size_t)e->lineno - 1;
        }
        assert_true(k < nkeys);
        assert_false(seen[k]);
        seen[k] = 1;
        assert_string_equal(e->filename, syn_files[k % NFILES]);
        assert_int_equal(e->lineno, (int)k + 1);
        syn o = syn_old(k), n = syn_new(k);
        assert_int_equal(e->size, n.count * n.size);
        assert_int_equal(e->count, n.count);
        assert_int_equal(e->size_diff, (long)(n.count * n.size) - (long)(o.count * o.size));
        assert_int_equal(e->count_diff, (long)n.count - (long)o.count);
        if (i > 0)
            assert_true(diff_order_ok(rc_stats_at(st, i - 1), e));
    }
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void test_compare_many_tracebacks(void **state) {
    (void)state;
    /* natively 100 000 keys and about a million traces per snapshot */
    size_t nkeys = rct_scaled(100000, 3000);
    rc_snapshot *old = syn_snapshot(nkeys, syn_old);
    rc_snapshot *cur = syn_snapshot(nkeys, syn_new);
    unsigned char *seen = malloc(nkeys);
    assert_non_null(seen);
    size_t gone = 0, added = 0, changed = 0;
    for (size_t k = 0; k < nkeys; k++) {
        syn o = syn_old(k), n = syn_new(k);
        gone += o.count && !n.count;
        added += !o.count && n.count;
        changed += o.count && n.count && (o.count != n.count || o.size != n.size);
    }
    assert_true(gone > 0 && added > 0 && changed > 0);

    double t = seconds();
    rc_stats *st = rc_snapshot_compare_to(cur, old, RC_BY_TRACEBACK, 0);
    double t_tb = seconds() - t;
    assert_non_null(st);
    check_by_key(st, nkeys, true, seen);
    rc_stats_free(st);

    t = seconds();
    st = rc_snapshot_compare_to(cur, old, RC_BY_LINENO, 0);
    double t_line = seconds() - t;
    assert_non_null(st);
    check_by_key(st, nkeys, false, seen);
    rc_stats_free(st);

    /* by file: NFILES groups with the sums of their keys */
    st = rc_snapshot_compare_to(cur, old, RC_BY_FILENAME, 0);
    assert_non_null(st);
    assert_int_equal(rc_stats_len(st), NFILES);
    for (size_t i = 0; i < NFILES; i++) {
        const rc_stat *e = rc_stats_at(st, i);
        size_t f = (size_t)(e->filename[1] - '0');
        assert_true(f < NFILES);
        long size = 0, osize = 0, count = 0, ocount = 0;
        for (size_t k = f; k < nkeys; k += NFILES) {
            syn o = syn_old(k), n = syn_new(k);
            size += (long)(n.count * n.size);
            osize += (long)(o.count * o.size);
            count += (long)n.count;
            ocount += (long)o.count;
        }
        assert_int_equal(e->lineno, 0);
        assert_int_equal(e->size, (size_t)size);
        assert_int_equal(e->count, (size_t)count);
        assert_int_equal(e->size_diff, size - osize);
        assert_int_equal(e->count_diff, count - ocount);
    }
    rc_stats_free(st);

    /* cumulative by line: every trace also counts under caller.c:1 and :2 */
    st = rc_snapshot_compare_to(cur, old, RC_BY_LINENO, 1);
    assert_non_null(st);
    size_t total = 0, ototal = 0, ntr = 0, ontr = 0;
    for (size_t k = 0; k < nkeys; k++) {
        syn o = syn_old(k), n = syn_new(k);
        total += n.count * n.size;
        ototal += o.count * o.size;
        ntr += n.count;
        ontr += o.count;
    }
    int callers = 0;
    for (size_t i = 0; i < rc_stats_len(st); i++) {
        const rc_stat *e = rc_stats_at(st, i);
        if (strcmp(e->filename, "caller.c") != 0)
            continue;
        callers++;
        assert_int_equal(e->size, total);
        assert_int_equal(e->count, ntr);
        assert_int_equal(e->size_diff, (long)total - (long)ototal);
        assert_int_equal(e->count_diff, (long)ntr - (long)ontr);
    }
    assert_int_equal(callers, 2);
    rc_stats_free(st);

    /* A filtered snapshot keeps every traceback but not every trace: the
     * tracebacks left without traces (those of g3.c) make no group of
     * their own, and their keys show as gone. */
    rc_trace_filter no_g3 = {.inclusive = 0, .filename_pattern = "g3.c"};
    rc_snapshot *filtered = rc_snapshot_filter_traces(cur, &no_g3, 1);
    assert_non_null(filtered);
    st = rc_snapshot_compare_to(filtered, old, RC_BY_TRACEBACK, 0);
    assert_non_null(st);
    size_t expect = 0;
    for (size_t k = 0; k < nkeys; k++)
        expect += (syn_old(k).count || (syn_new(k).count && k % NFILES != 3)) ? 1 : 0;
    assert_int_equal(rc_stats_len(st), expect);
    for (size_t i = 0; i < rc_stats_len(st); i++) {
        const rc_stat *e = rc_stats_at(st, i);
        size_t k = (rc_traceback_addr(rc_stats_traceback(st, i), 0) - 0x100000) / 16;
        syn o = syn_old(k), n = k % NFILES == 3 ? (syn){0, 0} : syn_new(k);
        assert_int_equal(e->size, n.count * n.size);
        assert_int_equal(e->count, n.count);
        assert_int_equal(e->size_diff, (long)(n.count * n.size) - (long)(o.count * o.size));
    }
    rc_stats_free(st);
    rc_snapshot_free(filtered);

    /* against itself: every group, no difference */
    st = rc_snapshot_compare_to(cur, cur, RC_BY_TRACEBACK, 0);
    assert_non_null(st);
    for (size_t i = 0; i < rc_stats_len(st); i++) {
        assert_int_equal(rc_stats_at(st, i)->size_diff, 0);
        assert_int_equal(rc_stats_at(st, i)->count_diff, 0);
    }
    rc_stats_free(st);

    if (getenv("RC_TEST_VERBOSE"))
        print_message("    compare_to of %zu + %zu traces, %zu keys (%zu new, %zu gone, "
                      "%zu changed): by traceback %.3f s, by line %.3f s\n",
                      rc_snapshot_trace_count(cur), rc_snapshot_trace_count(old), nkeys, added,
                      gone, changed, t_tb, t_line);
    free(seen);
    rc_snapshot_free(cur);
    rc_snapshot_free(old);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_incremental_collection, teardown),
        cmocka_unit_test_teardown(test_incremental_by_allocation, teardown),
        cmocka_unit_test_teardown(test_oom_malloc, teardown),
        cmocka_unit_test_teardown(test_oom_objects, teardown),
        cmocka_unit_test_teardown(test_finalizers_allocate, teardown),
        cmocka_unit_test_teardown(test_stop_start_in_gc_callbacks, teardown),
        cmocka_unit_test_teardown(test_debug_heap, teardown),
        cmocka_unit_test_teardown(test_debug_runtime, teardown),
        cmocka_unit_test_teardown(test_compare_many_tracebacks, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
