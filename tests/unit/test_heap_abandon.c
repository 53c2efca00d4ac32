/* rc-test: threads */
/* test_heap_abandon.c - heaps of exited threads and rc_heap_collect(1).
 *
 * Threads that run at the same time get a heap each; when they exit, their
 * heaps are abandoned (heaps_abandoned counts them). rc_heap_collect(1)
 * must release every abandoned heap that holds nothing, so the count drops,
 * and keep one that still holds a live block (the block stays valid) until
 * that block is freed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle/heap.h>
#include "rct.h"

#define NTHREADS 6

typedef struct worker {
    pthread_barrier_t *all_allocated;
    int keep_one;          /* leave one block live, handed to main */
    void *kept;
    int ok;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    enum { N = 500 };
    void **blocks = calloc(N, sizeof *blocks);   /* libc: not the heap under test */
    if (!blocks)
        return NULL;
    w->ok = 1;
    for (size_t i = 0; i < N; i++) {
        size_t n = 16 + (i * 37) % 3000;
        if (i % 50 == 0)
            n = 100000;    /* a span now and then */
        blocks[i] = rc_malloc(n);
        if (!blocks[i])
            w->ok = 0;
        else
            memset(blocks[i], (int)i, n < 64 ? n : 64);
    }
    /* every thread holds its heap at once: no adoption between them */
    pthread_barrier_wait(w->all_allocated);
    for (size_t i = w->keep_one ? 1 : 0; i < N; i++)
        rc_free(blocks[i]);
    if (w->keep_one)
        w->kept = blocks[0];
    free(blocks);
    return NULL;
}

static void run_threads(worker *ws, int keep_first)
{
    pthread_barrier_t barrier;
    pthread_t t[NTHREADS];
    assert_int_equal(pthread_barrier_init(&barrier, NULL, NTHREADS), 0);
    for (int i = 0; i < NTHREADS; i++) {
        ws[i] = (worker){ .all_allocated = &barrier, .keep_one = keep_first && i == 0 };
        assert_int_equal(pthread_create(&t[i], NULL, work, &ws[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_true(ws[i].ok);
    }
    pthread_barrier_destroy(&barrier);
}

static rc_heap_stats stats(void)
{
    rc_heap_stats st;
    memset(&st, 0, sizeof st);
    assert_int_equal(rct_stats(&st), 0);
    return st;
}

static void test_collect_releases_empty_abandoned_heaps(void **state)
{
    (void)state;
    void *mine = rc_malloc(32);   /* main has a heap of its own */
    assert_non_null(mine);
    rc_heap_collect(1);
    rc_heap_stats before = stats();
    worker ws[NTHREADS];
    run_threads(ws, 0);
    rc_heap_stats after_exit = stats();
    assert_true(after_exit.heaps_abandoned >= before.heaps_abandoned + NTHREADS);
    assert_true(after_exit.heaps_current >= before.heaps_current + NTHREADS);

    rc_heap_collect(1);
    rc_heap_stats after = stats();
    assert_int_equal(after.heaps_abandoned, 0);
    assert_int_equal(after.heaps_current, before.heaps_current - before.heaps_abandoned);
    assert_true(after.bytes_reserved < after_exit.bytes_reserved);
    /* the heap still works, in this thread and in new ones */
    rc_free(mine);
    run_threads(ws, 0);
    rc_heap_collect(1);
    assert_int_equal(stats().heaps_abandoned, 0);
}

static void test_heap_with_live_block_is_kept(void **state)
{
    (void)state;
    rc_heap_collect(1);
    worker ws[NTHREADS];
    run_threads(ws, 1);
    unsigned char *kept = ws[0].kept;
    assert_non_null(kept);
    rc_heap_collect(1);
    /* the heap holding `kept` stays; the others went */
    assert_int_equal(stats().heaps_abandoned, 1);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(kept[i], 0);   /* block 0 was filled with (int)0 */
    memset(kept, 0x77, 16);
    rc_free(kept);                      /* a remote free into the abandoned heap */
    rc_heap_collect(1);
    assert_int_equal(stats().heaps_abandoned, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_releases_empty_abandoned_heaps),
        cmocka_unit_test(test_heap_with_live_block_is_kept),
    };
    return rct_run_tests(tests, NULL, NULL);
}
