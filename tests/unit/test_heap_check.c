/* rc-test: whitebox threads stress */
/* test_heap_check.c - the heap's own consistency walk, rci_heap_check()
 * (white-box, heap/check.h), after random workloads: with live blocks, after
 * frees, in debug mode, with abandoned heaps of exited threads, after
 * collections. It also checks that the walk does notice a corrupted free
 * list, so a clean result means something. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle/heap.h>
#include "heap/check.h"
#include "rct.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

typedef struct slot { void *p; size_t size; uint64_t seed; } slot;

static void assert_heap_consistent(const char *when)
{
    size_t bad = rci_heap_check();
    if (bad)
        fail_msg("rci_heap_check: %zu problem(s) %s", bad, when);
}

static size_t random_size(rct_rng *r)
{
    unsigned k = (unsigned)rct_rng_range(r, 0, 999);
    if (k < 750)
        return rct_rng_range(r, 0, 1024);
    if (k < 950)
        return rct_rng_range(r, 1025, 16 * KiB);
    if (k < 997)
        return rct_rng_range(r, 16 * KiB, MiB);
    return rct_rng_range(r, MiB, 3 * MiB);
}

/* Random malloc/calloc/aligned/realloc/free over n slots for `ops` steps,
 * checking the heap every `every` steps. Leaves blocks live in the slots. */
static void churn(slot *s, size_t n, size_t ops, size_t every, rct_rng *r)
{
    for (size_t op = 0; op < ops; op++) {
        slot *x = &s[rct_rng_range(r, 0, n - 1)];
        unsigned kind = (unsigned)rct_rng_range(r, 0, 9);
        if (x->p) {
            assert_int_equal(rct_check(x->p, x->size, x->seed), SIZE_MAX);
            if (kind < 5) {
                rc_free(x->p);
                x->p = NULL;
                continue;
            }
            size_t size = random_size(r);
            void *q = rc_realloc(x->p, size);
            assert_non_null(q);
            size_t keep = size < x->size ? size : x->size;
            assert_int_equal(rct_check(q, keep, x->seed), SIZE_MAX);
            x->p = q;
            x->size = size;
        } else {
            size_t size = random_size(r);
            switch (kind) {
            case 0: x->p = rc_calloc(1, size); break;
            case 1: x->p = rc_aligned_alloc((size_t)1 << rct_rng_range(r, 4, 14), size); break;
            default: x->p = rc_malloc(size); break;
            }
            assert_non_null(x->p);
            x->size = size;
        }
        x->seed = rct_rng_next(r);
        rct_fill(x->p, x->size, x->seed);
        if (every && op % every == every - 1)
            assert_heap_consistent("during the workload");
    }
}

static void release(slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].p) {
            assert_int_equal(rct_check(s[i].p, s[i].size, s[i].seed), SIZE_MAX);
            rc_free(s[i].p);
            s[i].p = NULL;
        }
    }
}

/* ------------------------------------------------------------------------- */

static void test_fresh_heap_is_consistent(void **state)
{
    (void)state;
    assert_heap_consistent("at start");
    void *p = rc_malloc(1);
    assert_heap_consistent("after one allocation");
    rc_free(p);
    assert_heap_consistent("after one free");
}

static void test_random_workload(void **state)
{
    (void)state;
    rct_rng r;
    rct_rng_init(&r, rct_seed(99));
    enum { N = 512 };
    slot *s = calloc(N, sizeof *s);
    assert_non_null(s);
    size_t ops = rct_scaled(25000, 1000);
    churn(s, N, ops, ops / 10, &r);
    assert_heap_consistent("with live blocks");
    /* free every other block: partly used pools everywhere */
    for (size_t i = 0; i < N; i += 2) {
        rc_free(s[i].p);
        s[i].p = NULL;
    }
    assert_heap_consistent("after freeing half");
    rc_heap_collect(0);
    assert_heap_consistent("after rc_heap_collect(0)");
    churn(s, N, ops / 4, 0, &r);
    release(s, N);
    assert_heap_consistent("after freeing everything");
    rc_heap_collect(1);
    assert_heap_consistent("after rc_heap_collect(1)");
    free(s);
}

static void test_debug_blocks(void **state)
{
    (void)state;
    rct_rng r;
    rct_rng_init(&r, rct_seed(7));
    enum { N = 128 };
    slot *s = calloc(N, sizeof *s);
    assert_non_null(s);
    size_t ops = rct_scaled(8000, 300);
    /* plain and debug blocks mixed in the same heap */
    churn(s, N, ops / 2, 0, &r);
    rc_heap_set_debug(1);
    churn(s, N, ops / 2, ops / 8, &r);
    assert_heap_consistent("with debug blocks");
    assert_int_equal(rc_heap_debug_check(), 0);
    rc_heap_set_debug(0);
    churn(s, N, ops / 4, 0, &r);
    release(s, N);
    assert_heap_consistent("after freeing debug blocks");
    free(s);
}

typedef struct thread_arg { slot *s; size_t n, ops; uint64_t seed; } thread_arg;

static void *worker(void *arg)
{
    thread_arg *a = arg;
    rct_rng r;
    rct_rng_init(&r, a->seed);
    /* no cmocka assertions here: plain allocation, checked by the main thread */
    for (size_t op = 0; op < a->ops; op++) {
        slot *x = &a->s[rct_rng_range(&r, 0, a->n - 1)];
        if (x->p) {
            rc_free(x->p);
            x->p = NULL;
        }
        x->size = random_size(&r);
        x->p = rc_malloc(x->size);
        if (x->p) {
            x->seed = rct_rng_next(&r);
            rct_fill(x->p, x->size, x->seed);
        }
    }
    return NULL;            /* exits with its blocks live */
}

static void test_abandoned_heaps(void **state)
{
    (void)state;
    enum { T = 3, N = 256 };
    slot *s = calloc(T * N, sizeof *s);
    assert_non_null(s);
    size_t ops = rct_scaled(3000, 200);
    for (int round = 0; round < 3; round++) {
        pthread_t th[T];
        thread_arg a[T];
        for (int i = 0; i < T; i++) {
            a[i] = (thread_arg){ s + (size_t)i * N, N, ops, rct_seed(1000) + (uint64_t)round * 10 + (uint64_t)i };
            assert_int_equal(pthread_create(&th[i], NULL, worker, &a[i]), 0);
        }
        for (int i = 0; i < T; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        for (size_t i = 0; i < T * N; i++)
            if (s[i].p)
                assert_int_equal(rct_check(s[i].p, s[i].size, s[i].seed), SIZE_MAX);
        assert_heap_consistent("with abandoned heaps");
        /* the main thread frees a third of the blocks of the exited threads */
        for (size_t i = (size_t)round; i < T * N; i += 3) {
            rc_free(s[i].p);
            s[i].p = NULL;
        }
        assert_heap_consistent("after remote frees into abandoned heaps");
        rc_heap_collect(0);
        assert_heap_consistent("after collecting abandoned heaps");
    }
    release(s, T * N);
    rc_heap_collect(1);
    assert_heap_consistent("at the end");
    free(s);
}

/* The walk must notice a damaged free list; otherwise "0 problems" proves
 * nothing. Relies on the layout of pool.h: a free pooled block holds the
 * link to the next free block in its first word. */
static void test_check_detects_corruption(void **state)
{
    (void)state;
    void *keep = rc_malloc(64);
    void *p = rc_malloc(64);
    assert_non_null(keep);
    assert_non_null(p);
    rc_free(p);
    assert_heap_consistent("before the corruption");

    unsigned char saved[sizeof(void *)];
    for (size_t i = 0; i < sizeof saved; i++)
        saved[i] = rct_peek((unsigned char *)p + i);
    uintptr_t junk = (uintptr_t)p + 8;   /* inside the pool, not a block start */
    for (size_t i = 0; i < sizeof junk; i++)
        rct_poke((unsigned char *)p + i, (unsigned char)(junk >> (8 * i)));

    /* silence the walk's report on stderr while it runs */
    fflush(stderr);
    int saved_fd = dup(2);
    FILE *null = fopen("/dev/null", "w");
    assert_non_null(null);
    dup2(fileno(null), 2);
    size_t bad = rci_heap_check();
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    fclose(null);

    for (size_t i = 0; i < sizeof saved; i++)
        rct_poke((unsigned char *)p + i, saved[i]);
    assert_true(bad >= 1);
    assert_heap_consistent("after the repair");
    rc_free(keep);
}

static int setup(void **state)
{
    (void)state;
    rc_heap_set_debug(0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_heap_is_consistent),
        cmocka_unit_test(test_random_workload),
        cmocka_unit_test(test_debug_blocks),
        cmocka_unit_test(test_abandoned_heaps),
        cmocka_unit_test(test_check_detects_corruption),
    };
    return rct_run_tests(tests, setup, NULL);
}
