/* test_heap_stats.c - rc_heap_stats_get / _print / _reset_peak.
 *
 * Single-threaded, so the figures are a consistent view. Tests compare deltas
 * around their own allocations, never absolute values. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle/heap.h>
#include "rct.h"

#define MiB ((size_t)1 << 20)
#define KiB ((size_t)1 << 10)

/* bytes_in_use is folded from per-thread counters; the peak may lag it by a
 * bounded amount per thread (docs/heap.md). */
#define PEAK_SLACK (128 * KiB)

static rc_heap_stats *get(void)
{
    rc_heap_stats *s = malloc(sizeof *s);
    assert_non_null(s);
    assert_int_equal(rct_stats(s), 0);
    return s;
}

/* Invariants that hold in any quiet state. */
static void check_consistent(const rc_heap_stats *s)
{
    assert_true(s->arena_size > 0);
    assert_true(s->pool_size > 0);
    assert_int_equal(s->arena_size % s->pool_size, 0);
    assert_int_equal(s->arenas_current, s->arenas_allocated - s->arenas_freed);
    assert_true(s->arenas_allocated >= s->arenas_freed);
    assert_true(s->arenas_peak >= s->arenas_current);
    assert_true(s->peak_bytes_in_use + PEAK_SLACK >= s->bytes_in_use);
    assert_true(s->bytes_reserved >= s->bytes_in_use);
    assert_true(s->heaps_current >= 1);               /* ours */
    assert_true(s->heaps_abandoned <= s->heaps_current);
    assert_int_equal(s->nclasses, rc_heap_size_class_count());
    assert_true(s->nclasses <= RC_HEAP_MAX_CLASSES);
    size_t pools = 0, pooled_bytes = 0;
    for (size_t i = 0; i < s->nclasses; i++) {
        const rc_heap_class_stats *c = &s->classes[i];
        assert_int_equal(c->block_size, rc_heap_size_class_size(i));
        assert_true(c->block_size <= s->pool_size);
        pools += c->pools;
        pooled_bytes += c->blocks_used * c->block_size;
        /* used + free blocks fit in the pools serving the class */
        assert_true((c->blocks_used + c->blocks_free) * c->block_size <= c->pools * s->pool_size);
        if (c->blocks_used > 0)
            assert_true(c->pools > 0);
    }
    /* pools in use = those serving a class + those under large blocks */
    if (pools + s->pools_large != s->pools_used)
        fail_msg("pools_used %zu != %zu (classes) + %zu (large)", s->pools_used, pools,
                 s->pools_large);
    assert_true(s->pools_large == 0 || s->large_blocks > 0);
    /* bytes in use = pooled blocks + large blocks (as reserved at most) */
    assert_true(s->bytes_in_use >= pooled_bytes);
    assert_true(s->bytes_in_use - pooled_bytes <= s->large_bytes);
    if (s->large_blocks == 0)
        assert_int_equal(s->large_bytes, 0);
    assert_true(s->bytes_reserved >= (s->pools_used + s->pools_free) * s->pool_size);
}

static void test_get_versions(void **state)
{
    (void)state;
    assert_int_equal(rc_heap_stats_get(NULL), RC_EINVAL);

    rc_heap_stats *s = malloc(sizeof *s);
    assert_non_null(s);

    uint32_t bad[] = { RC_HEAP_STATS_VERSION + 1, 2, 99, UINT32_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i] == RC_HEAP_STATS_VERSION)
            continue;
        memset(s, 0, sizeof *s);
        s->version = bad[i];
        s->struct_size = sizeof *s;
        assert_int_equal(rc_heap_stats_get(s), RC_EINVAL);
    }

    /* version and size zero: the current version */
    memset(s, 0, sizeof *s);
    assert_int_equal(rc_heap_stats_get(s), 0);
    assert_int_equal(s->nclasses, rc_heap_size_class_count());
    assert_true(s->arena_size > 0);
    check_consistent(s);

    /* explicit current version */
    memset(s, 0xFF, sizeof *s);
    s->version = RC_HEAP_STATS_VERSION;
    s->struct_size = sizeof *s;
    assert_int_equal(rc_heap_stats_get(s), 0);
    assert_int_equal(s->nclasses, rc_heap_size_class_count());
    check_consistent(s);
    free(s);
}

static void test_class_blocks_used_deltas(void **state)
{
    (void)state;
    rc_heap_set_debug(0);
    size_t nc = rc_heap_size_class_count();
    const size_t ks[] = { 1, 3, 17, 250 };
    void **p = malloc(250 * sizeof *p);
    assert_non_null(p);
    for (size_t ci = 0; ci < nc; ci++) {
        size_t size = rc_heap_size_class_size(ci);
        for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
            size_t k = ks[t];
            /* requests anywhere in the class land in it */
            size_t lo = ci ? rc_heap_size_class_size(ci - 1) + 1 : 1;
            rc_heap_stats *before = get();
            for (size_t i = 0; i < k; i++) {
                p[i] = rc_malloc(i & 1 ? size : lo);
                assert_non_null(p[i]);
            }
            rc_heap_stats *mid = get();
            check_consistent(mid);
            for (size_t j = 0; j < nc; j++) {
                size_t expect = before->classes[j].blocks_used + (j == ci ? k : 0);
                assert_int_equal(mid->classes[j].blocks_used, expect);
            }
            assert_int_equal(mid->bytes_in_use - before->bytes_in_use, k * size);
            assert_true(mid->classes[ci].pools >= 1);
            assert_true(mid->peak_bytes_in_use + PEAK_SLACK >= mid->bytes_in_use);
            for (size_t i = 0; i < k; i++)
                rc_free(p[i]);
            rc_heap_stats *after = get();
            check_consistent(after);
            for (size_t j = 0; j < nc; j++)
                assert_int_equal(after->classes[j].blocks_used, before->classes[j].blocks_used);
            assert_int_equal(after->bytes_in_use, before->bytes_in_use);
            free(before);
            free(mid);
            free(after);
        }
    }
    free(p);
}

static void test_large_blocks_deltas(void **state)
{
    (void)state;
    size_t top = rc_heap_size_class_size(rc_heap_size_class_count() - 1);
    size_t sizes[] = { top + 1, 100 * KiB, MiB - 16, MiB + 1, 6 * MiB + 5 };
    enum { K = 3 };
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t size = sizes[t];
        rc_heap_stats *before = get();
        void *p[K];
        size_t usable = 0;
        for (int i = 0; i < K; i++) {
            p[i] = rc_malloc(size);
            assert_non_null(p[i]);
            usable += rc_usable_size(p[i]);
        }
        rc_heap_stats *mid = get();
        /* free before asserting: a failure must not leak into later tests */
        for (int i = 0; i < K; i++)
            rc_free(p[i]);
        check_consistent(mid);
        assert_int_equal(mid->large_blocks - before->large_blocks, K);
        size_t lb = mid->large_bytes - before->large_bytes;
        size_t bu = mid->bytes_in_use - before->bytes_in_use;
        assert_true(lb >= K * size);
        assert_true(bu >= usable);   /* block size, not request */
        assert_true(bu <= lb);        /* large_bytes is as reserved */
        /* no size class changed */
        for (size_t j = 0; j < mid->nclasses; j++)
            assert_int_equal(mid->classes[j].blocks_used, before->classes[j].blocks_used);
        rc_heap_stats *after = get();
        check_consistent(after);
        assert_int_equal(after->large_blocks, before->large_blocks);
        assert_int_equal(after->large_bytes, before->large_bytes);
        assert_int_equal(after->bytes_in_use, before->bytes_in_use);
        free(before);
        free(mid);
        free(after);
    }
}

static void test_peak_and_reset(void **state)
{
    (void)state;
    rc_heap_stats_reset_peak();
    rc_heap_stats *s0 = get();
    check_consistent(s0);
    assert_int_equal(s0->peak_bytes_in_use, s0->bytes_in_use);

    /* 8 MiB in 4 KiB blocks, then free: the peak remembers it */
    size_t n = 2048, size = 4096;
    void **p = malloc(n * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = rc_malloc(size);
        assert_non_null(p[i]);
    }
    rc_heap_stats *s1 = get();
    check_consistent(s1);
    assert_int_equal(s1->bytes_in_use - s0->bytes_in_use, n * size);
    assert_true(s1->peak_bytes_in_use + PEAK_SLACK >= s1->bytes_in_use);
    for (size_t i = 0; i < n; i++)
        rc_free(p[i]);
    rc_heap_stats *s2 = get();
    check_consistent(s2);
    assert_int_equal(s2->bytes_in_use, s0->bytes_in_use);
    assert_true(s2->peak_bytes_in_use + PEAK_SLACK >= s0->bytes_in_use + n * size);
    assert_true(s2->peak_bytes_in_use >= s2->bytes_in_use);

    /* a single large block moves the peak too */
    void *big = rc_malloc(12 * MiB);
    assert_non_null(big);
    rc_free(big);
    rc_heap_stats *s3 = get();
    assert_true(s3->peak_bytes_in_use + PEAK_SLACK >= s0->bytes_in_use + 12 * MiB);

    /* reset brings the peak down to the current figure */
    rc_heap_stats_reset_peak();
    rc_heap_stats *s4 = get();
    check_consistent(s4);
    assert_int_equal(s4->peak_bytes_in_use, s4->bytes_in_use);
    assert_true(s4->peak_bytes_in_use < s3->peak_bytes_in_use);

    free(p);
    free(s0); free(s1); free(s2); free(s3); free(s4);
}

static void test_arena_counters(void **state)
{
    (void)state;
    rc_heap_collect(1);
    rc_heap_stats *s0 = get();
    check_consistent(s0);
    /* enough pooled memory to need at least three new arenas */
    size_t block = rc_heap_size_class_size(rc_heap_size_class_count() - 1);
    size_t total = 3 * s0->arena_size + s0->arena_size / 2;
    size_t n = total / block;
    void **p = malloc(n * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = rc_malloc(block);
        assert_non_null(p[i]);
    }
    rc_heap_stats *s1 = get();
    check_consistent(s1);
    assert_true(s1->arenas_allocated - s0->arenas_allocated >= 3);
    assert_true(s1->arenas_current >= s0->arenas_current + 3);
    assert_true(s1->arenas_peak >= s1->arenas_current);
    assert_true(s1->bytes_reserved >= s0->bytes_reserved + 3 * s1->arena_size);
    assert_true(s1->pools_used >= s0->pools_used + total / s1->pool_size - 1);
    for (size_t i = 0; i < n; i++)
        rc_free(p[i]);
    rc_heap_collect(1);
    rc_heap_stats *s2 = get();
    check_consistent(s2);
    assert_true(s2->arenas_freed - s1->arenas_freed >= 3);
    assert_true(s2->arenas_current <= s0->arenas_current);
    assert_true(s2->arenas_peak >= s1->arenas_current);   /* peak is kept */
    assert_true(s2->bytes_reserved < s1->bytes_reserved);
    assert_true(s2->pools_used <= s0->pools_used);
    free(p);
    free(s0); free(s1); free(s2);
}

static int contains_ci(const char *hay, const char *needle)
{
    return strcasestr(hay, needle) != NULL;
}

static void test_print(void **state)
{
    (void)state;
    /* some live blocks in a recognisable class */
    size_t ci = rct_class_index(96);
    enum { K = 37 };
    void *p[K];
    for (int i = 0; i < K; i++) {
        p[i] = rc_malloc(96);
        assert_non_null(p[i]);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    rc_heap_stats_print(f);
    fclose(f);
    assert_non_null(buf);
    assert_true(len > 100);
    /* headings in the manner of sys._debugmallocstats */
    assert_true(contains_ci(buf, "class"));
    assert_true(contains_ci(buf, "size"));
    assert_true(contains_ci(buf, "pool"));
    assert_true(contains_ci(buf, "arena"));
    assert_true(contains_ci(buf, "use"));
    /* a line for the class of our blocks, with its size */
    char num[32];
    snprintf(num, sizeof num, "%zu", rc_heap_size_class_size(ci));
    assert_non_null(strstr(buf, num));
    free(buf);

    /* NULL writes to stderr */
    fflush(stderr);
    char path[] = "/tmp/rc_stats_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    rc_heap_stats_print(NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    assert_true(size > 100);

    for (int i = 0; i < K; i++)
        rc_free(p[i]);
}

static int setup(void **state)
{
    (void)state;
    rc_heap_set_debug(0); /* the figures below are for plain blocks */
    rc_free(rc_malloc(1)); /* this thread has a heap from now on */
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_versions),
        cmocka_unit_test(test_class_blocks_used_deltas),
        cmocka_unit_test(test_large_blocks_deltas),
        cmocka_unit_test(test_peak_and_reset),
        cmocka_unit_test(test_arena_counters),
        cmocka_unit_test(test_print),
    };
    return rct_run_tests(tests, setup, NULL);
}
