/* rc-test: whitebox oom */
/* test_heap_oom.c - out of memory is an error, never an abort (white-box).
 *
 * rci_os_fail_after(n) (heap/os/os.h) makes the OS layer refuse every request
 * after n more successful ones. Allocations that need the OS must then return
 * NULL with errno == ENOMEM, realloc must leave its block intact, allocations
 * served from pools already held must still succeed, and after the hook is
 * reset everything works again. A sweep runs a seeded workload with the
 * failure point at every position (SQLite's fault-injection idea), both with
 * persistent failures and with a single transient one, and checks the
 * statistics and the heap's own consistency walk after each run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle/heap.h>
#include "heap/os/os.h"
#include "heap/check.h"
#include "rct.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static size_t largest_class(void)
{
    return rc_heap_size_class_size(rc_heap_size_class_count() - 1);
}

static int setup(void **state)
{
    (void)state;
    rc_heap_set_debug(0);
    rc_heap_set_allocator(NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rci_os_fail_after(-1);
    return 0;
}

/* ------------------------------------------------------------------------- */

static void test_new_arena_fails(void **state)
{
    (void)state;
    size_t cs = largest_class();
    rc_heap_collect(1);
    rc_heap_stats s0, s1;
    assert_int_equal(rct_stats(&s0), 0);
    size_t limit = s0.bytes_reserved / cs + 4 * s0.arena_size / cs + 100;
    void **p = calloc(limit, sizeof *p);
    assert_non_null(p);

    rci_os_fail_after(0);
    size_t n = 0;
    int err = 0;
    for (; n < limit; n++) {
        errno = 0;
        p[n] = rc_malloc(cs);
        if (!p[n]) {
            err = errno;
            break;
        }
        memset(p[n], 0x77, cs);
    }
    assert_true(n < limit);           /* the held arenas ran out */
    assert_int_equal(err, ENOMEM);
    /* calloc and aligned_alloc of the same class fail the same way */
    errno = 0;
    assert_null(rc_calloc(1, cs));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(rc_aligned_alloc(64, cs));
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(rct_stats(&s1), 0);
    assert_int_equal(s1.arenas_allocated, s0.arenas_allocated);
    assert_int_equal(s1.bytes_in_use - s0.bytes_in_use, n * cs);

    long failed = rci_os_fail_after(-1);
    assert_true(failed >= 1);

    /* the OS gives again: so does the heap */
    void *q = rc_malloc(cs);
    assert_non_null(q);
    rc_free(q);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rct_check_byte(p[i], cs, 0x77), SIZE_MAX);
        rc_free(p[i]);
    }
    free(p);
    assert_int_equal(rci_heap_check(), 0);
}

static void test_large_fails(void **state)
{
    (void)state;
    void *small = rc_malloc(100);
    void *big = rc_malloc(6 * MiB);
    assert_non_null(small);
    assert_non_null(big);
    rct_fill(small, 100, 1);
    rct_fill(big, 6 * MiB, 2);
    rc_heap_collect(1);
    rc_heap_stats s0, s1;
    assert_int_equal(rct_stats(&s0), 0);

    rci_os_fail_after(0);
    long expected_failures = 0;
    size_t sizes[] = { 8 * MiB, 3 * MiB + 1, 64 * MiB };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        assert_null(rc_malloc(sizes[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(rc_calloc(1, sizes[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(rc_calloc(sizes[i] / 8, 8));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(rc_aligned_alloc((size_t)1 << 21, sizes[i]));
        assert_int_equal(errno, ENOMEM);
        errno = 0;
        assert_null(rc_realloc(small, sizes[i]));      /* pooled -> huge */
        assert_int_equal(errno, ENOMEM);
        assert_int_equal(rct_check(small, 100, 1), SIZE_MAX);
        errno = 0;
        assert_null(rc_realloc(big, sizes[i] + 6 * MiB)); /* huge -> bigger */
        assert_int_equal(errno, ENOMEM);
        assert_int_equal(rct_check(big, 6 * MiB, 2), SIZE_MAX);
        expected_failures += 6;
    }
    assert_int_equal(rct_stats(&s1), 0);
    assert_int_equal(s1.large_blocks, s0.large_blocks);
    assert_int_equal(s1.bytes_in_use, s0.bytes_in_use);
    assert_int_equal(s1.arenas_allocated, s0.arenas_allocated);
    assert_int_equal(rc_heap_contains(big), 1);
    assert_true(rc_usable_size(big) >= 6 * MiB);

    /* spans of pools (between the classes and 1 MiB) either fit the held
     * arenas or fail cleanly */
    errno = 0;
    void *span = rc_malloc(300 * KiB);
    if (!span)
        assert_int_equal(errno, ENOMEM);
    rc_free(span);

    long failed = rci_os_fail_after(-1);
    /* each failed call asked the OS at least once (it may retry after a
     * collection, so possibly more) */
    assert_true(failed >= expected_failures);

    void *ok = rc_realloc(big, 9 * MiB);
    assert_non_null(ok);
    assert_int_equal(rct_check(ok, 6 * MiB, 2), SIZE_MAX);
    rc_free(ok);
    ok = rc_realloc(small, 2 * MiB);
    assert_non_null(ok);
    assert_int_equal(rct_check(ok, 100, 1), SIZE_MAX);
    rc_free(ok);
    assert_int_equal(rci_heap_check(), 0);
}

static void test_small_in_held_pools_succeed(void **state)
{
    (void)state;
    size_t sizes[] = { 16, 48, 100, 512, 1000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t size = sizes[i];
        void *first = rc_malloc(size);      /* the class has a pool with room */
        assert_non_null(first);
        rc_heap_stats s;
        assert_int_equal(rct_stats(&s), 0);
        size_t ci = rct_class_index(size);
        assert_true(s.classes[ci].blocks_free >= 3);

        rci_os_fail_after(0);
        void *a = rc_malloc(size);
        void *b = rc_calloc(1, size);
        void *c = rc_aligned_alloc(16, size);
        long failed = rci_os_fail_after(-1);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_int_equal(rct_check_byte(b, size, 0), SIZE_MAX);
        /* served from the pool: the OS was not even asked */
        assert_int_equal(failed, 0);
        rc_free(a);
        rc_free(b);
        rc_free(c);
        rc_free(first);
    }
}

/* ---- the sweep ---------------------------------------------------------- */

typedef struct slot { unsigned char *p; size_t size; uint64_t seed; } slot;

typedef struct run_result {
    size_t failures;        /* NULL returns seen */
    size_t successes;
} run_result;

static size_t sweep_size(rct_rng *r)
{
    unsigned k = (unsigned)rct_rng_range(r, 0, 99);
    if (k < 80)
        return rct_rng_range(r, 0, 2048);
    if (k < 92)
        return rct_rng_range(r, 2049, 16 * KiB);
    if (k < 98)
        return rct_rng_range(r, 16 * KiB, MiB);
    return rct_rng_range(r, MiB, 5 * MiB);
}

/* Patterns over big blocks cover the head and the tail only: the sweep runs
 * the workload many times and is about failure paths, not bulk copying. */
#define EDGE (32 * KiB)

static void fill_edges(void *p, size_t size, uint64_t seed)
{
    if (size <= 2 * EDGE) {
        rct_fill(p, size, seed);
        return;
    }
    rct_fill(p, EDGE, seed);
    rct_fill((char *)p + size - EDGE, EDGE, ~seed);
}

static size_t check_edges(const void *p, size_t size, uint64_t seed)
{
    if (size <= 2 * EDGE)
        return rct_check(p, size, seed);
    size_t off = rct_check(p, EDGE, seed);
    if (off != SIZE_MAX)
        return off;
    off = rct_check((const char *)p + size - EDGE, EDGE, ~seed);
    return off == SIZE_MAX ? SIZE_MAX : size - EDGE + off;
}

/* A seeded workload; every failure must be clean. With transient != 0, the
 * OS recovers right after the first failure. */
static run_result workload(uint64_t seed, size_t ops, int transient)
{
    enum { NSLOTS = 128 };
    slot s[NSLOTS];
    memset(s, 0, sizeof s);
    run_result res = {0, 0};
    rct_rng r;
    rct_rng_init(&r, seed);
    for (size_t op = 0; op < ops; op++) {
        slot *x = &s[rct_rng_range(&r, 0, NSLOTS - 1)];
        unsigned kind = (unsigned)rct_rng_range(&r, 0, 9);
        if (x->p && kind < 4) {
            assert_int_equal(check_edges(x->p, x->size, x->seed), SIZE_MAX);
            rc_free(x->p);
            x->p = NULL;
            continue;
        }
        size_t size = sweep_size(&r);
        uint64_t nseed = rct_rng_next(&r);
        unsigned char *p;
        errno = 0;
        if (x->p && kind < 7) {
            p = rc_realloc(x->p, size);
            if (!p) {
                assert_int_equal(errno, ENOMEM);
                /* the old block is intact */
                assert_int_equal(check_edges(x->p, x->size, x->seed), SIZE_MAX);
            } else {
                size_t keep = size < x->size ? size : x->size;
                if (keep > EDGE)
                    keep = EDGE;
                assert_int_equal(rct_check(p, keep, x->seed), SIZE_MAX);
                x->p = NULL;
            }
        } else {
            if (x->p) {
                rc_free(x->p);
                x->p = NULL;
            }
            switch (kind) {
            case 7:  p = rc_calloc(1, size); break;
            case 8:  p = rc_aligned_alloc((size_t)1 << rct_rng_range(&r, 4, 16), size); break;
            default: p = rc_malloc(size); break;
            }
            if (p && kind == 7)
                assert_int_equal(rct_check_byte(p, size < 2 * EDGE ? size : 2 * EDGE, 0), SIZE_MAX);
        }
        if (!p) {
            assert_int_equal(errno, ENOMEM);
            res.failures++;
            if (transient)
                rci_os_fail_after(-1);
            continue;
        }
        assert_true(((uintptr_t)p & (RC_HEAP_ALIGNMENT - 1)) == 0);
        assert_true(rc_usable_size(p) >= size);
        res.successes++;
        x->p = p;
        x->size = size;
        x->seed = nseed;
        fill_edges(p, size, nseed);
    }
    for (size_t i = 0; i < NSLOTS; i++) {
        if (s[i].p) {
            assert_int_equal(check_edges(s[i].p, s[i].size, s[i].seed), SIZE_MAX);
            rc_free(s[i].p);
        }
    }
    return res;
}

static void sweep(int transient)
{
    uint64_t seed = rct_seed(0x00D15EA5E);
    size_t ops = rct_scaled(3000, 800);
    size_t failing_runs = 0, clean_runs = 0;
    for (long n = 0; n < 100000; n++) {
        rc_heap_collect(1);
        rc_heap_stats base, after;
        assert_int_equal(rct_stats(&base), 0);

        rci_os_fail_after(n);
        run_result r = workload(seed, ops, transient);
        long refused = rci_os_fail_after(-1);

        if (r.failures && !transient)
            assert_true(refused > 0);   /* every NULL came from a refusal */

        rc_heap_collect(1);
        assert_int_equal(rct_stats(&after), 0);
        assert_int_equal(after.bytes_in_use, base.bytes_in_use);
        assert_int_equal(after.large_blocks, base.large_blocks);
        assert_int_equal(after.large_bytes, base.large_bytes);
        for (size_t i = 0; i < after.nclasses; i++)
            assert_int_equal(after.classes[i].blocks_used, base.classes[i].blocks_used);
        assert_int_equal(after.arenas_current, after.arenas_allocated - after.arenas_freed);
        assert_true(after.arenas_current <= base.arenas_current + 1);
        size_t bad = rci_heap_check();
        if (bad)
            fail_msg("rci_heap_check found %zu problem(s) after the run with fail_after(%ld)",
                     bad, n);

        if (r.failures) {
            failing_runs++;
        } else {
            clean_runs++;
            break;   /* n is past every OS request of the workload */
        }
    }
    if (getenv("RC_TEST_VERBOSE"))
        fprintf(stderr, "sweep(%s): %zu runs with failures, then a clean one\n",
                transient ? "transient" : "persistent", failing_runs);
    assert_true(failing_runs >= 3);   /* the workload does need the OS */
    assert_int_equal(clean_runs, 1);
}

static void test_sweep_persistent(void **state)
{
    (void)state;
    sweep(0);
}

static void test_sweep_transient(void **state)
{
    (void)state;
    sweep(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_new_arena_fails, teardown),
        cmocka_unit_test_teardown(test_large_fails, teardown),
        cmocka_unit_test_teardown(test_small_in_held_pools_succeed, teardown),
        cmocka_unit_test_teardown(test_sweep_persistent, teardown),
        cmocka_unit_test_teardown(test_sweep_transient, teardown),
    };
    return rct_run_tests(tests, setup, NULL);
}
