/* rc-test: whitebox */
/* test_trace.c - the tracer: exact traced memory and peak against a known
 * sequence, tracebacks of a known call chain (frames compared with return
 * addresses taken by the code under test), start/stop/start, blocks from
 * before start, realloc, domains, clear, and a wrapped hook that allocates
 * (the tracer must not recurse). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"
#include "trace/tracer.h"

static size_t ntraces(void) {
    rctr_lock();
    size_t n = rctr_trace_count();
    rctr_unlock();
    return n;
}

static void expect_traced(size_t current, size_t peak) {
    size_t c = 1, p = 1;
    rc_trace_get_traced_memory(&c, &p);
    assert_int_equal(c, current);
    assert_int_equal(p, peak);
}

static int teardown(void **state) {
    (void)state;
    rc_trace_stop();
    return 0;
}

static void test_start_range(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(0), RC_EINVAL);
    assert_int_equal(rc_trace_start(129), RC_EINVAL);
    assert_int_equal(rc_trace_start(-1), RC_EINVAL);
    assert_int_equal(rc_trace_is_tracing(), 0);
    assert_int_equal(rc_trace_get_traceback_limit(), 0);
    assert_int_equal(rc_trace_start(128), 0);
    assert_int_equal(rc_trace_get_traceback_limit(), 128);
    assert_int_equal(rc_trace_start(3), 0);       /* already tracing: new limit */
    assert_int_equal(rc_trace_get_traceback_limit(), 3);
    assert_int_equal(rc_trace_start(200), RC_EINVAL);
    assert_int_equal(rc_trace_get_traceback_limit(), 3);
    rc_trace_stop();
    assert_int_equal(rc_trace_is_tracing(), 0);
}

static void test_exact_sequence(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(1), 0);
    expect_traced(0, 0);
    void *a = rc_malloc(100);
    void *b = rc_malloc(200);
    expect_traced(300, 300);
    assert_int_equal(ntraces(), 2);
    rc_free(a);
    expect_traced(200, 300);
    rc_trace_reset_peak();
    expect_traced(200, 200);
    b = rc_realloc(b, 1000);
    assert_non_null(b);
    expect_traced(1000, 1000);
    b = rc_realloc(b, 10);                /* shrinking: current falls, peak stays */
    expect_traced(10, 1000);
    void *c = rc_calloc(10, 10);
    void *d = rc_aligned_alloc(64, 128);
    expect_traced(238, 1000);
    assert_int_equal(ntraces(), 3);
    rc_trace_reset_peak();
    expect_traced(238, 238);
    rc_free(b);
    rc_free(c);
    rc_free(d);
    expect_traced(0, 238);
    assert_int_equal(ntraces(), 0);
    assert_null(rc_realloc(NULL, (size_t)1 << 62));   /* failed: nothing traced */
    expect_traced(0, 238);
    rc_trace_stop();
    expect_traced(0, 0);
}

/* A known call chain: chain_outer -> chain_inner -> rc_malloc. Each records
 * the return address into its caller, which must be frame 1 and 2 of the
 * block's traceback; frame 0 lies in chain_inner. */
static void *volatile sink;
static uintptr_t ra_inner, ra_outer;

__attribute__((noinline)) static void *chain_inner(size_t n) {
    void *p = rc_malloc(n);
    sink = p;
    ra_inner = (uintptr_t)__builtin_return_address(0);
    return sink;
}

__attribute__((noinline)) static void *chain_outer(size_t n) {
    void *p = chain_inner(n);
    sink = p;
    ra_outer = (uintptr_t)__builtin_return_address(0);
    return sink;
}

static void test_traceback_of_call_chain(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(25), 0);
    void *p = chain_outer(48);
    rc_traceback *tb = rc_trace_get_object_traceback(p);
    assert_non_null(tb);
    assert_true(rc_traceback_len(tb) >= 3);
    uintptr_t f0 = rc_traceback_addr(tb, 0);
    assert_true(f0 > (uintptr_t)chain_inner && f0 < (uintptr_t)chain_inner + 256);
    assert_int_equal(rc_traceback_addr(tb, 1), ra_inner);
    assert_int_equal(rc_traceback_addr(tb, 2), ra_outer);
    assert_int_equal(rc_traceback_addr(tb, rc_traceback_len(tb)), 0);
    rc_traceback_free(tb);

    /* the same chain again: one more trace, the same (interned) traceback */
    size_t mem = rc_trace_get_tracemalloc_memory();
    void *q = chain_outer(48);
    rc_traceback *tq = rc_trace_get_object_traceback(q);
    assert_non_null(tq);
    assert_int_equal(rc_traceback_addr(tq, 1), ra_inner);
    rc_traceback_free(tq);
    assert_true(rc_trace_get_tracemalloc_memory() >= mem);
    rc_free(q);

    /* a limit of 1 keeps frame 0 only */
    assert_int_equal(rc_trace_start(1), 0);
    void *r = chain_outer(16);
    rc_traceback *tr = rc_trace_get_object_traceback(r);
    assert_int_equal(rc_traceback_len(tr), 1);
    assert_int_equal(rc_traceback_addr(tr, 0), f0);
    rc_traceback_free(tr);
    rc_free(r);
    rc_free(p);
    assert_null(rc_trace_get_object_traceback(p));
    rc_trace_stop();
}

/* A realloc's traceback is its caller's; the old trace is gone. */
__attribute__((noinline)) static void *grow(void *p, size_t n) {
    void *q = rc_realloc(p, n);
    sink = q;
    ra_inner = (uintptr_t)__builtin_return_address(0);
    return sink;
}

static void test_realloc_traceback(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(4), 0);
    void *p = rc_malloc(8);
    void *q = grow(p, 100000);       /* moves the block */
    assert_non_null(q);
    expect_traced(100000, 100000);
    assert_int_equal(ntraces(), 1);
    rc_traceback *tb = rc_trace_get_object_traceback(q);
    assert_non_null(tb);
    assert_true(rc_traceback_addr(tb, 0) > (uintptr_t)grow &&
                rc_traceback_addr(tb, 0) < (uintptr_t)grow + 256);
    assert_int_equal(rc_traceback_addr(tb, 1), ra_inner);
    rc_traceback_free(tb);
    rc_free(q);
    rc_trace_stop();
}

static void test_start_stop_start(void **state) {
    (void)state;
    rc_allocator before, during, after;
    rc_heap_get_allocator(&before);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(rc_trace_start(5), 0);
        rc_heap_get_allocator(&during);
        assert_ptr_not_equal(during.malloc, before.malloc);
        void *p = rc_malloc(64);
        expect_traced(64, 64);
        assert_true(rc_trace_get_tracemalloc_memory() > 0);
        rc_trace_stop();
        expect_traced(0, 0);
        assert_int_equal(rc_trace_get_tracemalloc_memory(), 0);
        assert_null(rc_trace_get_object_traceback(p));
        rc_free(p);                  /* traced once, freed untraced */
        rc_heap_get_allocator(&after);
        assert_ptr_equal(after.malloc, before.malloc);
        assert_ptr_equal(after.free, before.free);
    }
    rc_trace_stop();                 /* stopping twice does nothing */
}

static void test_before_start(void **state) {
    (void)state;
    void *old = rc_malloc(500);
    void *old2 = rc_malloc(40);
    assert_int_equal(rc_trace_start(2), 0);
    assert_null(rc_trace_get_object_traceback(old));
    rc_free(old);                    /* no trace: not an error, nothing counted */
    expect_traced(0, 0);
    old2 = rc_realloc(old2, 4000);   /* a block from before start, grown: now traced */
    expect_traced(4000, 4000);
    rc_free(old2);
    expect_traced(0, 4000);
    rc_trace_stop();
}

static void test_clear_traces(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(3), 0);
    void *p = rc_malloc(1000);
    rc_trace_clear_traces();
    assert_int_equal(rc_trace_is_tracing(), 1);
    expect_traced(0, 0);
    assert_int_equal(ntraces(), 0);
    rc_free(p);                      /* its trace was cleared: no error */
    expect_traced(0, 0);
    void *q = rc_malloc(10);
    expect_traced(10, 10);
    rc_free(q);
    rc_trace_stop();
}

static void test_domains(void **state) {
    (void)state;
    static char gpu[4096];
    assert_int_equal(rc_trace_track(7, gpu, 100), RC_ESTATE);
    assert_int_equal(rc_trace_untrack(7, gpu), RC_ESTATE);
    assert_int_equal(rc_trace_start(4), 0);
    assert_int_equal(rc_trace_track(7, NULL, 1), RC_EINVAL);
    assert_int_equal(rc_trace_track(7, gpu, 100), 0);
    assert_int_equal(rc_trace_track(8, gpu, 1000), 0);    /* same address, other domain */
    expect_traced(1100, 1100);
    assert_int_equal(rc_trace_track(7, gpu, 50), 0);      /* again: new size */
    expect_traced(1050, 1100);
    assert_null(rc_trace_get_object_traceback(gpu));       /* not a heap block */
    assert_int_equal(rc_trace_untrack(7, gpu), 0);
    assert_int_equal(rc_trace_untrack(7, gpu), 0);        /* already gone: fine */
    assert_int_equal(rc_trace_untrack(9, gpu), 0);        /* unknown domain */
    expect_traced(1000, 1100);
    assert_int_equal(ntraces(), 1);
    rc_trace_stop();
}

/* A hook under the tracer that allocates a side block through rc_malloc on
 * every malloc: the tracer sees the program's block only, and neither the
 * tracer nor the hook recurses. */
typedef struct sidehook {
    rc_allocator next;
    int busy;
    size_t calls;
    void *side[16];
    size_t nside;
} sidehook;

static void *side_malloc(void *ctx, size_t size) {
    sidehook *h = ctx;
    if (!h->busy) {
        h->busy = 1;
        h->calls++;
        void *s = rc_malloc(24);
        if (h->nside < 16)
            h->side[h->nside++] = s;
        else
            rc_free(s);
        h->busy = 0;
    }
    return h->next.malloc(h->next.ctx, size);
}
static void *side_calloc(void *ctx, size_t n, size_t s) {
    sidehook *h = ctx;
    return h->next.calloc(h->next.ctx, n, s);
}
static void *side_realloc(void *ctx, void *p, size_t s) {
    sidehook *h = ctx;
    return h->next.realloc(h->next.ctx, p, s);
}
static void side_free(void *ctx, void *p) {
    sidehook *h = ctx;
    h->next.free(h->next.ctx, p);
}
static void *side_aligned(void *ctx, size_t a, size_t s) {
    sidehook *h = ctx;
    return h->next.aligned_alloc(h->next.ctx, a, s);
}
static size_t side_usable(void *ctx, const void *p) {
    sidehook *h = ctx;
    return h->next.usable_size(h->next.ctx, p);
}

static void test_hook_that_allocates(void **state) {
    (void)state;
    static sidehook h;
    memset(&h, 0, sizeof h);
    rc_heap_get_allocator(&h.next);
    rc_allocator mine = {&h, side_malloc, side_calloc, side_realloc, side_free, side_aligned,
                         side_usable};
    assert_int_equal(rc_heap_set_allocator(&mine), 0);
    assert_int_equal(rc_trace_start(8), 0);
    void *p = rc_malloc(300);
    assert_non_null(p);
    assert_int_equal(h.calls, 1);
    expect_traced(300, 300);          /* the hook's side block is not traced */
    assert_int_equal(ntraces(), 1);
    rc_free(p);
    expect_traced(0, 300);
    rc_trace_stop();
    rc_allocator now;
    rc_heap_get_allocator(&now);
    assert_ptr_equal(now.malloc, side_malloc);   /* stop restored the hook below */
    for (size_t i = 0; i < h.nside; i++)
        rc_free(h.side[i]);
    assert_int_equal(rc_heap_set_allocator(NULL), 0);
}

/* Many blocks of few call sites: one traceback per site. */
static void test_many_traces(void **state) {
    (void)state;
    size_t n = rct_scaled(20000, 1000);
    void **v = calloc(n, sizeof *v);
    assert_non_null(v);
    assert_int_equal(rc_trace_start(16), 0);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        v[i] = rc_malloc(i % 97 + 1);
        total += i % 97 + 1;
    }
    expect_traced(total, total);
    assert_int_equal(ntraces(), n);
    for (size_t i = 0; i < n; i += 2) {
        rc_free(v[i]);
        total -= i % 97 + 1;
    }
    size_t c, p;
    rc_trace_get_traced_memory(&c, &p);
    assert_int_equal(c, total);
    for (size_t i = 1; i < n; i += 2)
        rc_free(v[i]);
    expect_traced(0, p);
    assert_int_equal(ntraces(), 0);
    rc_trace_stop();
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_start_range, teardown),
        cmocka_unit_test_teardown(test_exact_sequence, teardown),
        cmocka_unit_test_teardown(test_traceback_of_call_chain, teardown),
        cmocka_unit_test_teardown(test_realloc_traceback, teardown),
        cmocka_unit_test_teardown(test_start_stop_start, teardown),
        cmocka_unit_test_teardown(test_before_start, teardown),
        cmocka_unit_test_teardown(test_clear_traces, teardown),
        cmocka_unit_test_teardown(test_domains, teardown),
        cmocka_unit_test_teardown(test_hook_that_allocates, teardown),
        cmocka_unit_test_teardown(test_many_traces, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
