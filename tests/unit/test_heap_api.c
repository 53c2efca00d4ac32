/* test_heap_api.c - the rc_malloc family against the contract of heap.h:
 * size classes, alignment, usable sizes, zeroing, alignment requests, failure
 * modes (errno), realloc across classes and into large blocks, rc_heap_contains,
 * rc_strdup and rc_reallocarray. Black-box: public header only. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle/heap.h>
#include "rct.h"

#define MiB ((size_t)1 << 20)

/* Defeat constant folding and the compiler's alloc_size warnings. */
static size_t opaque(size_t v)
{
    volatile size_t x = v;
    return x;
}

static int is_aligned(const void *p, size_t a)
{
    return ((uintptr_t)p & (a - 1)) == 0;
}

static size_t largest_class(void)
{
    size_t n = rc_heap_size_class_count();
    return rc_heap_size_class_size(n - 1);
}

/* The biggest block the tests fill completely (smaller when slowed down). */
static size_t big_limit(void)
{
    return rct_scale() < 0.5 ? 4 * MiB : 16 * MiB;
}

/* Fill the whole usable area, check it, and check the block is aligned. */
static void exercise_block(void *p, size_t requested, uint64_t seed)
{
    assert_non_null(p);
    assert_true(is_aligned(p, RC_HEAP_ALIGNMENT));
    size_t us = rc_usable_size(p);
    assert_true(us >= requested);
    rct_fill(p, us, seed);
    assert_int_equal(rct_check(p, us, seed), SIZE_MAX);
}

/* ------------------------------------------------------------------------- */

static void test_size_classes(void **state)
{
    (void)state;
    size_t n = rc_heap_size_class_count();
    assert_true(n > 0);
    assert_true(n <= RC_HEAP_MAX_CLASSES);
    size_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        size_t s = rc_heap_size_class_size(i);
        assert_true(s > prev);                         /* strictly increasing */
        assert_int_equal(s % RC_HEAP_ALIGNMENT, 0);    /* keeps blocks aligned */
        prev = s;
    }
}

static void test_malloc_every_pooled_size(void **state)
{
    (void)state;
    size_t top = largest_class();
    int debug = rc_heap_get_debug();
    for (size_t size = 1; size <= top + 64; size++) {
        void *p = rc_malloc(size);
        exercise_block(p, size, size);
        assert_int_equal(rc_heap_contains(p), 1);
        if (!debug && size <= top) {
            size_t ci = rct_class_index(size);
            assert_true(ci != SIZE_MAX);
            assert_int_equal(rc_usable_size(p), rc_heap_size_class_size(ci));
        }
        rc_free(p);
    }
    /* exactly each class size, plus and minus one */
    for (size_t i = 0; i < rc_heap_size_class_count(); i++) {
        size_t s = rc_heap_size_class_size(i);
        for (size_t d = 0; d < 3; d++) {
            size_t size = s + d - 1;
            if (size == 0)
                continue;
            void *p = rc_malloc(size);
            exercise_block(p, size, 7 * size + d);
            if (!debug && size <= top)
                assert_int_equal(rc_usable_size(p),
                                 rc_heap_size_class_size(rct_class_index(size)));
            rc_free(p);
        }
    }
}

static void test_malloc_large_sizes(void **state)
{
    (void)state;
    size_t top = largest_class();
    size_t sizes[] = { top + 1, top + 16, 2 * top + 1, 4096, 4097, 65536, 65537,
                       MiB - 1, MiB, MiB + 1, 3 * MiB + 7, 16 * MiB };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t size = sizes[i];
        if (size > big_limit())
            size = big_limit() + 3;
        void *p = rc_malloc(size);
        exercise_block(p, size, 1000 + i);
        assert_int_equal(rc_heap_contains(p), 1);
        assert_int_equal(rc_heap_contains((char *)p + size - 1), 1);
        rc_free(p);
    }
}

struct span { uintptr_t lo, hi; };

static int span_cmp(const void *a, const void *b)
{
    const struct span *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void check_no_overlap(void **ptrs, size_t n)
{
    struct span *s = malloc(n * sizeof *s);
    assert_non_null(s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ptrs[i])
            continue;
        s[k].lo = (uintptr_t)ptrs[i];
        s[k].hi = s[k].lo + rc_usable_size(ptrs[i]);
        k++;
    }
    qsort(s, k, sizeof *s, span_cmp);
    for (size_t i = 1; i < k; i++)
        assert_true(s[i - 1].hi <= s[i].lo);
    free(s);
}

static void test_blocks_do_not_overlap(void **state)
{
    (void)state;
    rct_rng rng;
    rct_rng_init(&rng, rct_seed(12345));
    size_t top = largest_class();
    size_t n = rct_scaled(4000, 300);
    void **p = calloc(n, sizeof *p);
    size_t *req = calloc(n, sizeof *req);
    assert_non_null(p);
    assert_non_null(req);

    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < n; i++) {
            if (p[i])
                continue;
            unsigned r = (unsigned)rct_rng_range(&rng, 0, 99);
            size_t size = r < 85 ? rct_rng_range(&rng, 0, top)
                        : r < 98 ? rct_rng_range(&rng, top + 1, 64 * 1024)
                                 : rct_rng_range(&rng, 64 * 1024, MiB);
            p[i] = rc_malloc(size);
            assert_non_null(p[i]);
            assert_true(is_aligned(p[i], RC_HEAP_ALIGNMENT));
            assert_true(rc_usable_size(p[i]) >= size);
            req[i] = size;
            /* each block gets its own pattern over its whole usable area */
            rct_fill(p[i], rc_usable_size(p[i]), (uint64_t)i * 7919 + 1);
        }
        for (size_t i = 0; i < n; i++)
            assert_int_equal(rct_check(p[i], rc_usable_size(p[i]), (uint64_t)i * 7919 + 1),
                             SIZE_MAX);
        check_no_overlap(p, n);
        /* free a random half, then refill in the next round */
        for (size_t i = 0; i < n; i++) {
            if (rct_rng_next(&rng) & 1) {
                rc_free(p[i]);
                p[i] = NULL;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        rc_free(p[i]);
    free(p);
    free(req);
}

static void test_malloc_zero(void **state)
{
    (void)state;
    enum { N = 200 };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = rc_malloc(0);
        assert_non_null(p[i]);
        assert_true(is_aligned(p[i], RC_HEAP_ALIGNMENT));
        assert_int_equal(rc_heap_contains(p[i]), 1);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(p[i], p[j]);
    }
    check_no_overlap(p, N);
    for (int i = 0; i < N; i++)
        rc_free(p[i]);
}

static void test_free_null_and_usable_null(void **state)
{
    (void)state;
    size_t before = rc_heap_error_count();
    rc_free(NULL);
    assert_int_equal(rc_usable_size(NULL), 0);
    assert_int_equal(rc_heap_error_count(), before);
    void *p = rc_malloc(10); /* heap still fine */
    assert_non_null(p);
    rc_free(p);
}

static void test_calloc_zeroes(void **state)
{
    (void)state;
    size_t top = largest_class();
    enum { K = 64 };
    void *p[K];
    for (size_t ci = 0; ci < rc_heap_size_class_count(); ci++) {
        size_t s = rc_heap_size_class_size(ci);
        /* dirty a batch of blocks of this class, free them, calloc again */
        for (int i = 0; i < K; i++) {
            p[i] = rc_malloc(s);
            assert_non_null(p[i]);
            memset(p[i], 0xAB, rc_usable_size(p[i]));
        }
        for (int i = K - 1; i >= 0; i--)
            rc_free(p[i]);
        for (int i = 0; i < K; i++) {
            p[i] = (i & 1) ? rc_calloc(1, s) : rc_calloc(s, 1);
            assert_non_null(p[i]);
            assert_true(is_aligned(p[i], RC_HEAP_ALIGNMENT));
            assert_int_equal(rct_check_byte(p[i], s, 0), SIZE_MAX);
        }
        for (int i = 0; i < K; i++)
            rc_free(p[i]);
    }
    /* count * size split in various ways, odd sizes */
    size_t shapes[][2] = { {3, 5}, {7, 13}, {1, top}, {top, 1}, {2, top / 2 + 1},
                           {100, 100}, {1000, 33}, {1, MiB + 5}, {MiB / 16, 16},
                           {3, MiB} };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t n = shapes[i][0], m = shapes[i][1];
        void *d = rc_malloc(n * m);
        assert_non_null(d);
        memset(d, 0xEE, rc_usable_size(d));
        rc_free(d);
        void *c = rc_calloc(n, m);
        assert_non_null(c);
        assert_true(rc_usable_size(c) >= n * m);
        assert_int_equal(rct_check_byte(c, n * m, 0), SIZE_MAX);
        rc_free(c);
    }
    /* calloc(0, n) and calloc(n, 0): a freeable block (or NULL), never a crash */
    void *z1 = rc_calloc(0, 16), *z2 = rc_calloc(16, 0);
    rc_free(z1);
    rc_free(z2);
}

static void test_calloc_overflow(void **state)
{
    (void)state;
    size_t pairs[][2] = { {SIZE_MAX / 2 + 1, 2}, {2, SIZE_MAX / 2 + 1},
                          {SIZE_MAX, SIZE_MAX}, {SIZE_MAX, 2},
                          {(size_t)1 << 32, (size_t)1 << 32},
                          {SIZE_MAX / 16 + 1, 16} };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        errno = 0;
        void *p = rc_calloc(opaque(pairs[i][0]), opaque(pairs[i][1]));
        assert_null(p);
        assert_int_equal(errno, ENOMEM);
    }
    void *p = rc_malloc(32); /* still works */
    assert_non_null(p);
    rc_free(p);
}

static void test_aligned_alloc(void **state)
{
    (void)state;
    for (size_t align = 1; align <= RC_HEAP_MAX_ALIGNMENT; align <<= 1) {
        size_t sizes[] = { 0, 1, 7, 13, 31, align > 1 ? align - 1 : 3, align,
                           align + 1, 3 * align + 5, 100003 };
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t size = sizes[i];
            if (size > big_limit())
                continue;
            errno = 0;
            void *p = rc_aligned_alloc(align, size);
            if (!p)
                fail_msg("rc_aligned_alloc(%zu, %zu) failed: errno %d", align, size, errno);
            assert_true(is_aligned(p, align));
            assert_true(is_aligned(p, RC_HEAP_ALIGNMENT));
            assert_int_equal(rc_heap_contains(p), 1);
            size_t us = rc_usable_size(p);
            assert_true(us >= size);
            rct_fill(p, us, align * 31 + i);
            assert_int_equal(rct_check(p, us, align * 31 + i), SIZE_MAX);
            rc_free(p);
        }
    }
    /* size 0 with any alignment: a unique block of its own, disjoint from its
     * neighbours (allocated in between) */
    enum { Z = 24 };
    void *z[2 * Z];
    for (int i = 0; i < Z; i++) {
        size_t align = (size_t)32 << (i % 8);
        z[2 * i] = rc_aligned_alloc(align, 0);
        assert_non_null(z[2 * i]);
        assert_true(is_aligned(z[2 * i], align));
        assert_int_equal(rc_heap_contains(z[2 * i]), 1);
        z[2 * i + 1] = rc_malloc(i % 3 ? 1 : 16);
        assert_non_null(z[2 * i + 1]);
        for (int j = 0; j < 2 * i; j++)
            assert_ptr_not_equal(z[2 * i], z[j]);
        assert_ptr_not_equal(z[2 * i + 1], z[2 * i]);
    }
    check_no_overlap(z, 2 * Z);
    for (int i = 0; i < 2 * Z; i++)
        rc_free(z[i]);

    /* several aligned blocks alive at once stay disjoint */
    void *q[32];
    for (int i = 0; i < 32; i++) {
        size_t align = (size_t)1 << (i % 14);
        q[i] = rc_aligned_alloc(align, 24 + (size_t)i * 40);
        assert_non_null(q[i]);
        assert_true(is_aligned(q[i], align));
        rct_fill(q[i], rc_usable_size(q[i]), 555 + i);
    }
    check_no_overlap(q, 32);
    for (int i = 0; i < 32; i++) {
        assert_int_equal(rct_check(q[i], rc_usable_size(q[i]), 555 + i), SIZE_MAX);
        rc_free(q[i]);
    }
}

static void test_aligned_alloc_invalid(void **state)
{
    (void)state;
    /* not a power of two, or above RC_HEAP_MAX_ALIGNMENT -> EINVAL */
    size_t bad[] = { 0, 3, 5, 6, 12, 24, 48, 100, 4095, 4097, SIZE_MAX,
                     ((size_t)1 << 20) + 16, RC_HEAP_MAX_ALIGNMENT * 2,
                     (size_t)1 << 30, SIZE_MAX / 2 + 1 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        void *p = rc_aligned_alloc(opaque(bad[i]), 64);
        assert_null(p);
        if (errno != EINVAL)
            fail_msg("rc_aligned_alloc(%#zx, 64): errno %d, expected EINVAL", bad[i], errno);
    }
    /* valid alignment but impossible size or alignment -> ENOMEM */
    struct { size_t align, size; } huge[] = {
        { 16, SIZE_MAX }, { 64, SIZE_MAX - 4096 }, { 4096, SIZE_MAX - 4096 },
        { (size_t)1 << 20, SIZE_MAX / 2 },
        { RC_HEAP_MAX_ALIGNMENT, SIZE_MAX - RC_HEAP_MAX_ALIGNMENT + 1 },
    };
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        errno = 0;
        void *p = rc_aligned_alloc(opaque(huge[i].align), opaque(huge[i].size));
        assert_null(p);
        if (errno != ENOMEM)
            fail_msg("rc_aligned_alloc(%#zx, %#zx): errno %d, expected ENOMEM",
                     huge[i].align, huge[i].size, errno);
    }
}

static void test_malloc_huge_fails_cleanly(void **state)
{
    (void)state;
    size_t sizes[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 15, SIZE_MAX - 16,
                       SIZE_MAX - 4096, SIZE_MAX - 4095, SIZE_MAX - MiB,
                       SIZE_MAX / 2 + 1, (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        void *p = rc_malloc(opaque(sizes[i]));
        assert_null(p);
        assert_int_equal(errno, ENOMEM);

        void *q = rc_malloc(100);
        assert_non_null(q);
        rct_fill(q, 100, i);
        errno = 0;
        void *r = rc_realloc(q, opaque(sizes[i]));
        assert_null(r);
        assert_int_equal(errno, ENOMEM);
        /* the old block is untouched and still valid */
        assert_int_equal(rct_check(q, 100, i), SIZE_MAX);
        assert_true(rc_usable_size(q) >= 100);
        rc_free(q);
    }
}

/* realloc p (holding `old` bytes of pattern seed) to new_size, check prefix */
static void *realloc_check(void *p, size_t old, size_t new_size, uint64_t seed)
{
    void *q = rc_realloc(p, new_size);
    assert_non_null(q);
    assert_true(is_aligned(q, RC_HEAP_ALIGNMENT));
    assert_true(rc_usable_size(q) >= new_size);
    size_t keep = old < new_size ? old : new_size;
    assert_int_equal(rct_check(q, keep, seed), SIZE_MAX);
    return q;
}

static void test_realloc_chain_grow_and_shrink(void **state)
{
    (void)state;
    size_t n = rc_heap_size_class_count();
    size_t seq[RC_HEAP_MAX_CLASSES * 2 + 16];
    size_t k = 0;
    seq[k++] = 1;
    for (size_t i = 0; i < n; i++) {
        size_t s = rc_heap_size_class_size(i);
        if (s > 2)
            seq[k++] = s - 1;
        seq[k++] = s;
    }
    size_t large[] = { largest_class() + 1, 8192 + 3, 65536 + 5, 300000,
                       MiB + 1, 3 * MiB + 11, 8 * MiB + 1 };
    for (size_t i = 0; i < sizeof large / sizeof large[0]; i++)
        if (large[i] <= big_limit())
            seq[k++] = large[i];

    const uint64_t seed = 4242;
    void *p = rc_malloc(seq[0]);
    assert_non_null(p);
    rct_fill(p, seq[0], seed);
    size_t cur = seq[0];
    for (size_t i = 1; i < k; i++) {
        p = realloc_check(p, cur, seq[i], seed);
        rct_fill(p, seq[i], seed); /* same pattern, so the prefix stays valid */
        cur = seq[i];
    }
    for (size_t i = k - 1; i-- > 0;) {
        p = realloc_check(p, cur, seq[i], seed);
        cur = seq[i];
    }
    rc_free(p);
}

static void test_realloc_between_all_classes(void **state)
{
    (void)state;
    size_t n = rc_heap_size_class_count();
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            size_t a = rc_heap_size_class_size(i);
            size_t b = rc_heap_size_class_size(j);
            uint64_t seed = i * 1000 + j;
            /* keep a neighbour alive so in-place tricks are exercised too */
            void *nb = rc_malloc(a);
            void *p = rc_malloc(a);
            assert_non_null(p);
            assert_non_null(nb);
            rct_fill(nb, a, ~seed);
            rct_fill(p, a, seed);
            p = realloc_check(p, a, b, seed);
            p = realloc_check(p, a < b ? a : b, b + 1, seed);
            assert_int_equal(rct_check(nb, a, ~seed), SIZE_MAX);
            rc_free(p);
            rc_free(nb);
        }
    }
    /* pooled <-> large and large <-> large */
    size_t big[] = { 70000, 1 * MiB + 3, 2 * MiB, 5 * MiB + 1 };
    for (size_t i = 0; i < n; i += 3) {
        size_t a = rc_heap_size_class_size(i);
        for (size_t j = 0; j < sizeof big / sizeof big[0]; j++) {
            if (big[j] > big_limit())
                continue;
            uint64_t seed = 77 + i * 10 + j;
            void *p = rc_malloc(a);
            assert_non_null(p);
            rct_fill(p, a, seed);
            p = realloc_check(p, a, big[j], seed);
            rct_fill(p, big[j], seed);
            p = realloc_check(p, big[j], a, seed);
            rc_free(p);
        }
    }
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        for (size_t j = 0; j < sizeof big / sizeof big[0]; j++) {
            if (big[i] > big_limit() || big[j] > big_limit())
                continue;
            uint64_t seed = 9000 + i * 10 + j;
            void *p = rc_malloc(big[i]);
            assert_non_null(p);
            rct_fill(p, big[i], seed);
            p = realloc_check(p, big[i], big[j], seed);
            rc_free(p);
        }
    }
    /* an over-aligned block moves to a plain one keeping its contents */
    void *a = rc_aligned_alloc(4096, 100);
    assert_non_null(a);
    rct_fill(a, 100, 31337);
    a = realloc_check(a, 100, 10000, 31337);
    rc_free(a);
}

static void test_realloc_null_and_zero(void **state)
{
    (void)state;
    void *p = rc_realloc(NULL, 100);
    exercise_block(p, 100, 1);
    rc_free(p);

    p = rc_realloc(NULL, 0);
    assert_non_null(p);
    rc_free(p);

    p = rc_malloc(200);
    assert_non_null(p);
    void *q = rc_realloc(p, 0); /* frees p, returns a minimal block */
    assert_non_null(q);
    assert_true(is_aligned(q, RC_HEAP_ALIGNMENT));
    assert_int_equal(rc_heap_contains(q), 1);
    rc_free(q);

    p = rc_malloc(3 * MiB);
    assert_non_null(p);
    q = rc_realloc(p, 0);
    assert_non_null(q);
    rc_free(q);

    /* same size keeps contents */
    p = rc_malloc(333);
    rct_fill(p, 333, 5);
    p = realloc_check(p, 333, 333, 5);
    rc_free(p);
}

static char static_buf[256];
static void dummy_function(void) {}

static void test_contains(void **state)
{
    (void)state;
    char stack_buf[64];
    void *small = rc_malloc(24);
    void *mid = rc_malloc(largest_class());
    void *large = rc_malloc(2 * MiB);
    void *al = rc_aligned_alloc(1 << 16, 100);
    void *zero = rc_malloc(0);
    void *ptrs[] = { small, mid, large, al, zero };
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
        assert_non_null(ptrs[i]);
        assert_int_equal(rc_heap_contains(ptrs[i]), 1);
    }
    assert_int_equal(rc_heap_contains((char *)small + 8), 1);
    assert_int_equal(rc_heap_contains((char *)large + MiB), 1);

    void *libc_small = malloc(64);
    void *libc_large = malloc(8 * MiB); /* mmap'd by glibc */
    assert_non_null(libc_small);
    assert_non_null(libc_large);
    const struct { const void *p; const char *what; } foreign[] = {
        { NULL, "NULL" },
        { stack_buf, "a stack buffer" },
        { &stack_buf[63], "the end of a stack buffer" },
        { static_buf, "a static buffer" },
        { (const void *)(uintptr_t)&dummy_function, "a function" },
        { libc_small, "a small libc malloc block" },
        { libc_large, "a large (mmap'd) libc malloc block" },
        { (char *)libc_large + 4 * MiB, "the middle of a large libc malloc block" },
        { (void *)(uintptr_t)1, "address 1" },
        { (void *)(uintptr_t)UINTPTR_MAX, "the last address" },
        { (void *)((uintptr_t)1 << 62), "an address above user space" },
    };
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
        if (rc_heap_contains(foreign[i].p) != 0)
            fail_msg("rc_heap_contains(%p) != 0 for %s", foreign[i].p, foreign[i].what);
    free(libc_small);
    free(libc_large);

    /* Foreign memory right behind a large block, in address space the heap
     * does not hold (the OS may place any mapping there): not ours. */
    char *end = (char *)large + rc_usable_size(large);
    long page = sysconf(_SC_PAGESIZE);
    if (((uintptr_t)end & (uintptr_t)(page - 1)) == 0) {
        void *q = mmap(end, (size_t)page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (q != MAP_FAILED) {
            int inside = rc_heap_contains(q);
            munmap(q, (size_t)page);
            if (q == end && inside)
                fail_msg("rc_heap_contains(%p) == 1 for a foreign mapping right after "
                         "the large block %p (%zu usable bytes)", q, large, rc_usable_size(large));
        }
    }
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
        rc_free(ptrs[i]);
}

static void test_strdup(void **state)
{
    (void)state;
    const char *inputs[] = { "", "a", "hello, world", "0123456789abcdef" };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char *d = rc_strdup(inputs[i]);
        assert_non_null(d);
        assert_ptr_not_equal(d, inputs[i]);
        assert_string_equal(d, inputs[i]);
        assert_true(rc_usable_size(d) >= strlen(inputs[i]) + 1);
        assert_int_equal(rc_heap_contains(d), 1);
        rc_free(d);
    }
    size_t len = 200000;
    char *big = malloc(len + 1);
    assert_non_null(big);
    for (size_t i = 0; i < len; i++)
        big[i] = (char)('a' + i % 26);
    big[len] = 0;
    char *d = rc_strdup(big);
    assert_non_null(d);
    assert_int_equal(strlen(d), len);
    assert_memory_equal(d, big, len + 1);
    rc_free(d);
    free(big);
}

static void test_reallocarray(void **state)
{
    (void)state;
    void *p = rc_reallocarray(NULL, 10, 10);
    assert_non_null(p);
    assert_true(rc_usable_size(p) >= 100);
    rct_fill(p, 100, 99);

    size_t ov[][2] = { {SIZE_MAX / 2 + 1, 2}, {2, SIZE_MAX / 2 + 1}, {SIZE_MAX, SIZE_MAX},
                       {(size_t)1 << 33, (size_t)1 << 31} };
    for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
        errno = 0;
        void *q = rc_reallocarray(p, opaque(ov[i][0]), opaque(ov[i][1]));
        assert_null(q);
        assert_int_equal(errno, ENOMEM);
        assert_int_equal(rct_check(p, 100, 99), SIZE_MAX); /* untouched */
    }
    errno = 0;
    assert_null(rc_reallocarray(NULL, opaque(SIZE_MAX / 2 + 1), opaque(4)));
    assert_int_equal(errno, ENOMEM);

    void *q = rc_reallocarray(p, 1000, 8);
    assert_non_null(q);
    assert_true(rc_usable_size(q) >= 8000);
    assert_int_equal(rct_check(q, 100, 99), SIZE_MAX);
    q = rc_reallocarray(q, 5, 4);
    assert_non_null(q);
    assert_int_equal(rct_check(q, 20, 99), SIZE_MAX);
    rc_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_classes),
        cmocka_unit_test(test_malloc_every_pooled_size),
        cmocka_unit_test(test_malloc_large_sizes),
        cmocka_unit_test(test_blocks_do_not_overlap),
        cmocka_unit_test(test_malloc_zero),
        cmocka_unit_test(test_free_null_and_usable_null),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_calloc_overflow),
        cmocka_unit_test(test_aligned_alloc),
        cmocka_unit_test(test_aligned_alloc_invalid),
        cmocka_unit_test(test_malloc_huge_fails_cleanly),
        cmocka_unit_test(test_realloc_chain_grow_and_shrink),
        cmocka_unit_test(test_realloc_between_all_classes),
        cmocka_unit_test(test_realloc_null_and_zero),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_strdup),
        cmocka_unit_test(test_reallocarray),
    };
    return rct_run_tests(tests, NULL, NULL);
}
