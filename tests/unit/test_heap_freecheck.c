/* rc-test: whitebox threads misuse
 *
 * test_heap_freecheck.c - the release-mode free checks (debug mode off):
 * a double free or an interior-pointer free is reported once through the
 * error handler and skipped, and the heap keeps handing out distinct blocks;
 * a block freed, handed out again and freed again is not reported; a block
 * whose data happens to hold the free key is freed normally (white-box: the
 * test reads rci_free_key). Local frees, frees from another thread, and a
 * private heap's frees are covered. After each test rci_heap_check() walks
 * the whole heap. Misuse goes through the pointers the heap handed out, so
 * the sanitizers see nothing wrong: the blocks live in the heap's own
 * mappings, which ASan does not track. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle/heap.h>
#include "heap/check.h"
#include "heap/private.h"
#include "rct.h"

/* ---- a recording handler, callable from any thread, allocating nothing -- */

static _Atomic size_t g_nerrs;
static _Atomic int g_last_kind;
static const void *_Atomic g_last_ptr;

static void on_error(const rc_heap_error *err, void *arg)
{
    (void)arg;
    atomic_store(&g_last_kind, (int)err->kind);
    atomic_store(&g_last_ptr, err->ptr);
    atomic_fetch_add(&g_nerrs, 1);
}

static int setup(void **state)
{
    (void)state;
    rc_heap_set_debug(0);
    rc_heap_set_error_handler(on_error, NULL);
    atomic_store(&g_nerrs, 0);
    atomic_store(&g_last_kind, 0);
    atomic_store(&g_last_ptr, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    size_t bad = rci_heap_check();
    rc_heap_set_error_handler(NULL, NULL);
    assert_int_equal(bad, 0);
    return 0;
}

static void expect_report(size_t n, rc_heap_error_kind kind, const void *p)
{
    assert_int_equal(atomic_load(&g_nerrs), n);
    assert_int_equal(atomic_load(&g_last_kind), kind);
    assert_ptr_equal(atomic_load(&g_last_ptr), p);
}

/* Sizes that cover the direct table, the upper small classes and the
 * largest pooled class. */
static const size_t k_sizes[] = { 1, 16, 24, 48, 100, 512, 640, 1000, 1024, 3000, 16384 };
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])

/* ---- local frees -------------------------------------------------------- */

static void test_double_free_reported_once(void **state)
{
    (void)state;
    size_t reports = 0;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = k_sizes[i];
        /* a neighbour keeps the pool in use, so the block's pool stays */
        void *keep = rc_malloc(n);
        char *p = rc_malloc(n);
        assert_non_null(keep);
        assert_non_null(p);
        rc_free(p);
        assert_int_equal(atomic_load(&g_nerrs), reports);
        rc_free(p);
        reports++;
        expect_report(reports, RC_HEAP_ERR_DOUBLE_FREE, p);
        /* the block is on the free list once: two mallocs, two blocks */
        char *a = rc_malloc(n), *b = rc_malloc(n);
        assert_non_null(a);
        assert_non_null(b);
        assert_ptr_not_equal(a, b);
        memset(a, 0xA1, n);
        memset(b, 0xB2, n);
        assert_int_equal(rct_check_byte(a, n, 0xA1), SIZE_MAX);
        rc_free(a);
        rc_free(b);
        rc_free(keep);
        assert_int_equal(atomic_load(&g_nerrs), reports);
    }
}

static void test_double_free_of_lone_block(void **state)
{
    (void)state;
    /* Alone in its pool, the block's pool may go back to its arena on the
     * first free (unless it is its class's current pool): the second free
     * must still be caught and skipped. */
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = k_sizes[i];
        char *p = rc_malloc(n);
        assert_non_null(p);
        rc_free(p);
        size_t before = atomic_load(&g_nerrs);
        rc_free(p);
        assert_int_equal(atomic_load(&g_nerrs), before + 1);
        assert_ptr_equal(atomic_load(&g_last_ptr), p);
        char *a = rc_malloc(n), *b = rc_malloc(n);
        assert_ptr_not_equal(a, b);
        rc_free(a);
        rc_free(b);
    }
}

static void test_large_block_double_free(void **state)
{
    (void)state;
    void *keep = rc_malloc(200 * 1024);     /* keeps the span's arena mapped */
    char *p = rc_malloc(100 * 1024);
    assert_non_null(p);
    rc_free(p);
    rc_free(p);
    assert_int_equal(atomic_load(&g_nerrs), 1);
    assert_ptr_equal(atomic_load(&g_last_ptr), p);
    void *a = rc_malloc(100 * 1024), *b = rc_malloc(100 * 1024);
    assert_ptr_not_equal(a, b);
    rc_free(a);
    rc_free(b);
    rc_free(keep);
    assert_int_equal(atomic_load(&g_nerrs), 1);
}

static void test_interior_free_reported_and_ignored(void **state)
{
    (void)state;
    size_t reports = 0;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = k_sizes[i];
        if (n < 32)
            continue;
        char *p = rc_malloc(n);
        assert_non_null(p);
        memset(p, 0x5A, n);
        const size_t offsets[] = { 1, 8, 16, n / 2 & ~(size_t)15 };
        for (size_t k = 0; k < 4; k++) {
            if (offsets[k] == 0)
                continue;
            rc_free(p + offsets[k]);
            reports++;
            expect_report(reports, RC_HEAP_ERR_INVALID, p + offsets[k]);
        }
        /* the block is intact and still live: nothing was pushed */
        assert_int_equal(rct_check_byte(p, n, 0x5A), SIZE_MAX);
        assert_true(rc_usable_size(p) >= n);
        char *a = rc_malloc(n);
        assert_true(a + n <= p || a >= p + n);
        rc_free(a);
        rc_free(p);
        assert_int_equal(atomic_load(&g_nerrs), reports);
    }
}

static void test_reuse_is_not_a_double_free(void **state)
{
    (void)state;
    /* free, malloc (the same block comes back: LIFO), free, many times */
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = k_sizes[i];
        void *first = rc_malloc(n);
        rc_free(first);
        for (int round = 0; round < 1000; round++) {
            char *p = rc_malloc(n);
            assert_non_null(p);
            if (round == 0)
                assert_ptr_equal(p, first);
            p[0] = (char)round;
            rc_free(p);
        }
        /* and through realloc in place and moving */
        char *q = rc_malloc(n);
        q = rc_realloc(q, n);
        assert_non_null(q);
        q = rc_realloc(q, n * 3 + 1);
        assert_non_null(q);
        rc_free(q);
    }
    assert_int_equal(atomic_load(&g_nerrs), 0);
}

static void test_key_in_user_data_is_not_reported(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t n = k_sizes[i] < 16 ? 16 : k_sizes[i];
        uintptr_t *p = rc_malloc(n);
        assert_non_null(p);
        /* every word, the mark word included, holds the key */
        for (size_t w = 0; w < n / sizeof *p; w++)
            p[w] = rci_free_key;
        rc_free(p);
        assert_int_equal(atomic_load(&g_nerrs), 0);
        /* it really was freed: it is the next block handed out */
        void *again = rc_malloc(n);
        assert_ptr_equal(again, p);
        void *other = rc_malloc(n);
        assert_ptr_not_equal(other, p);
        rc_free(other);
        rc_free(again);
    }
    assert_int_equal(atomic_load(&g_nerrs), 0);
}

static void test_realloc_of_freed_block(void **state)
{
    (void)state;
    void *keep = rc_malloc(64);
    void *p = rc_malloc(64);
    rc_free(p);
    errno = 0;
    assert_null(rc_realloc(p, 200));
    assert_int_equal(errno, EINVAL);
    expect_report(1, RC_HEAP_ERR_DOUBLE_FREE, p);
    void *a = rc_malloc(64), *b = rc_malloc(64);
    assert_ptr_not_equal(a, b);
    rc_free(a);
    rc_free(b);
    rc_free(keep);
}

/* ---- frees from another thread ------------------------------------------ */

typedef struct free_job { void *ptrs[4]; size_t n; } free_job;

static void *free_in_thread(void *arg)
{
    free_job *job = arg;
    for (size_t i = 0; i < job->n; i++)
        rc_free(job->ptrs[i]);
    return NULL;
}

static void run_frees_in_thread(free_job *job)
{
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, free_in_thread, job), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_remote_double_free(void **state)
{
    (void)state;
    void *keep = rc_malloc(48);
    void *p = rc_malloc(48);
    free_job job = { { p, p }, 2 };
    run_frees_in_thread(&job);
    /* the owner decides at its next collection (or slow path) */
    rc_heap_collect(0);
    expect_report(1, RC_HEAP_ERR_DOUBLE_FREE, p);
    void *a = rc_malloc(48), *b = rc_malloc(48);
    assert_ptr_not_equal(a, b);
    rc_free(a);
    rc_free(b);
    rc_free(keep);
    assert_int_equal(atomic_load(&g_nerrs), 1);
}

static void test_local_then_remote_double_free(void **state)
{
    (void)state;
    void *keep = rc_malloc(80);
    void *p = rc_malloc(80);
    rc_free(p);
    free_job job = { { p }, 1 };
    run_frees_in_thread(&job);
    rc_heap_collect(0);
    expect_report(1, RC_HEAP_ERR_DOUBLE_FREE, p);
    void *a = rc_malloc(80), *b = rc_malloc(80);
    assert_ptr_not_equal(a, b);
    rc_free(a);
    rc_free(b);
    rc_free(keep);
}

static void test_remote_then_local_double_free(void **state)
{
    (void)state;
    void *keep = rc_malloc(96);
    void *p = rc_malloc(96);
    free_job job = { { p }, 1 };
    run_frees_in_thread(&job);
    /* p waits on the pool's remote list: the owner's scan finds it there */
    rc_free(p);
    expect_report(1, RC_HEAP_ERR_DOUBLE_FREE, p);
    void *a = rc_malloc(96), *b = rc_malloc(96);
    assert_ptr_not_equal(a, b);
    rc_free(a);
    rc_free(b);
    rc_free(keep);
}

static void test_remote_key_in_user_data_is_freed(void **state)
{
    (void)state;
    void *keep = rc_malloc(64);
    uintptr_t *p = rc_malloc(64);
    for (size_t w = 0; w < 64 / sizeof *p; w++)
        p[w] = rci_free_key;
    free_job job = { { p }, 1 };
    run_frees_in_thread(&job);
    rc_heap_collect(0);
    assert_int_equal(atomic_load(&g_nerrs), 0);
    void *again = rc_malloc(64);
    assert_ptr_equal(again, p);
    rc_free(again);
    rc_free(keep);
    assert_int_equal(atomic_load(&g_nerrs), 0);
}

static void test_remote_interior_free(void **state)
{
    (void)state;
    char *p = rc_malloc(128);
    memset(p, 0x33, 128);
    free_job job = { { p + 16, p + 3 }, 2 };
    run_frees_in_thread(&job);
    assert_int_equal(atomic_load(&g_nerrs), 2);
    assert_int_equal(atomic_load(&g_last_kind), RC_HEAP_ERR_INVALID);
    assert_int_equal(rct_check_byte(p, 128, 0x33), SIZE_MAX);
    rc_free(p);
    assert_int_equal(atomic_load(&g_nerrs), 2);
}

static void test_remote_reuse_is_not_reported(void **state)
{
    (void)state;
    /* blocks freed by another thread, folded back, handed out, freed again */
    enum { N = 64 };
    for (int round = 0; round < 20; round++) {
        void *blocks[N];
        for (int i = 0; i < N; i++)
            blocks[i] = rc_malloc(32 + (size_t)i);
        for (int i = 0; i < N; i += 4) {
            free_job job = { { blocks[i], blocks[i + 1], blocks[i + 2], blocks[i + 3] }, 4 };
            run_frees_in_thread(&job);
        }
        rc_heap_collect(0);
    }
    assert_int_equal(atomic_load(&g_nerrs), 0);
}

/* ---- a private heap (the object layer's) -------------------------------- */

static void test_private_heap_double_free(void **state)
{
    (void)state;
    int client;
    rci_heap *h = rci_pheap_new(&client);
    assert_non_null(h);
    void *keep = rci_pheap_alloc(h, 48, 0);
    void *p = rci_pheap_alloc(h, 48, 0);
    assert_non_null(keep);
    assert_non_null(p);
    rci_pheap_free(h, p);
    assert_int_equal(atomic_load(&g_nerrs), 0);
    rci_pheap_free(h, p);
    expect_report(1, RC_HEAP_ERR_DOUBLE_FREE, p);
    void *a = rci_pheap_alloc(h, 48, 0), *b = rci_pheap_alloc(h, 48, 0);
    assert_ptr_not_equal(a, b);
    /* a block holding the key in its data is freed, not reported */
    uintptr_t *k = rci_pheap_alloc(h, 48, 0);
    k[0] = k[1] = rci_free_key;
    rci_pheap_free(h, k);
    assert_int_equal(atomic_load(&g_nerrs), 1);
    assert_ptr_equal(rci_pheap_alloc(h, 48, 0), k);
    assert_int_equal(rci_heap_check(), 0);
    rci_pheap_destroy(h);
    assert_int_equal(atomic_load(&g_nerrs), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_double_free_reported_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_free_of_lone_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_block_double_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interior_free_reported_and_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse_is_not_a_double_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_in_user_data_is_not_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realloc_of_freed_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_double_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_then_remote_double_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_then_local_double_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_key_in_user_data_is_freed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_interior_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remote_reuse_is_not_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_heap_double_free, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
