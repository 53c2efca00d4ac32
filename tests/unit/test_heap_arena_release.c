/* test_heap_arena_release.c - memory goes back to the OS.
 *
 * Allocates a lot of memory (small pooled blocks, then large blocks), touches
 * every byte, frees it all, calls rc_heap_collect(1) and checks that the
 * resident set size dropped by most of what was allocated and that the arena
 * counters went down. (Under valgrind too: it passes munmap through.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle.h>
#include <recycle/heap.h>
#include "rct.h"

#define MiB ((size_t)1 << 20)

static int check_rss(void)
{
    return rct_rss() > 0;   /* 0: /proc not mounted */
}

typedef struct chain { struct chain *next; } chain;

/* Allocate about `target` bytes in pooled blocks of random classes; every
 * byte is written. Returns the list (linked through the blocks themselves, so
 * no side storage disturbs the RSS) and the bytes allocated. */
static chain *alloc_small(size_t target, rct_rng *rng, size_t *total)
{
    size_t nc = rc_heap_size_class_count();
    chain *head = NULL;
    size_t sum = 0;
    while (sum < target) {
        size_t size = rc_heap_size_class_size(rct_rng_range(rng, 1, nc - 1));
        chain *c = rc_malloc(size);
        assert_non_null(c);
        memset(c, 0x5A, size);
        c->next = head;
        head = c;
        sum += size;
    }
    *total = sum;
    return head;
}

static void free_chain(chain *c)
{
    while (c) {
        chain *next = c->next;
        rc_free(c);
        c = next;
    }
}

static void test_small_blocks_release(void **state)
{
    (void)state;
    rct_rng rng;
    rct_rng_init(&rng, rct_seed(2024));
    size_t target = rct_scaled(200 * MiB, 32 * MiB);

    rc_heap_collect(1);
    rc_heap_stats s0, s1, s2;
    assert_int_equal(rct_stats(&s0), 0);
    size_t rss0 = rct_rss();

    size_t total = 0;
    chain *list = alloc_small(target, &rng, &total);
    size_t rss1 = rct_rss();
    assert_int_equal(rct_stats(&s1), 0);
    assert_true(s1.bytes_in_use - s0.bytes_in_use >= total);
    assert_true(s1.arenas_current > s0.arenas_current);
    /* (arenas held before may have absorbed a little of it) */
    assert_true(s1.arenas_current - s0.arenas_current + 2 >= total / s1.arena_size);

    free_chain(list);
    rc_heap_collect(1);
    size_t rss2 = rct_rss();
    assert_int_equal(rct_stats(&s2), 0);

    assert_int_equal(s2.bytes_in_use, s0.bytes_in_use);
    assert_true(s2.arenas_current < s1.arenas_current);
    assert_true(s2.arenas_current <= s0.arenas_current + 1);
    assert_true(s2.arenas_freed - s1.arenas_freed + 2 >= total / s1.arena_size);
    assert_true(s2.bytes_reserved <= s0.bytes_reserved + s2.arena_size);
    assert_int_equal(s2.arenas_current, s2.arenas_allocated - s2.arenas_freed);

    if (check_rss()) {
        if (getenv("RC_TEST_VERBOSE"))
            fprintf(stderr, "small: total %zu MiB, rss %zu -> %zu -> %zu MiB\n",
                    total / MiB, rss0 / MiB, rss1 / MiB, rss2 / MiB);
        assert_true(rss1 >= rss0 + total / 10 * 9);    /* the pages were touched */
        assert_true(rss1 - rss2 >= total / 4 * 3);     /* and most went back */
    }
}

static void test_large_blocks_release(void **state)
{
    (void)state;
    size_t top = rc_heap_size_class_size(rc_heap_size_class_count() - 1);
    size_t huge = rct_scaled(12 * MiB, 2 * MiB) + 4096 + 7;
    size_t mid = top * 8 + 13;                  /* above the classes, below huge */
    enum { NH = 8, NM = 64 };

    rc_heap_collect(1);
    rc_heap_stats s0, s1, s2;
    assert_int_equal(rct_stats(&s0), 0);
    size_t rss0 = rct_rss();

    void *h[NH], *m[NM];
    size_t total = 0;
    for (int i = 0; i < NH; i++) {
        h[i] = rc_malloc(huge);
        assert_non_null(h[i]);
        memset(h[i], 0x33, huge);
        total += huge;
    }
    for (int i = 0; i < NM; i++) {
        m[i] = rc_malloc(mid);
        assert_non_null(m[i]);
        memset(m[i], 0x44, mid);
        total += mid;
    }
    size_t rss1 = rct_rss();
    assert_int_equal(rct_stats(&s1), 0);
    assert_int_equal(s1.large_blocks - s0.large_blocks, NH + NM);
    assert_true(s1.large_bytes - s0.large_bytes >= total);

    for (int i = 0; i < NH; i++)
        rc_free(h[i]);
    for (int i = 0; i < NM; i++)
        rc_free(m[i]);
    rc_heap_collect(1);
    size_t rss2 = rct_rss();
    assert_int_equal(rct_stats(&s2), 0);
    assert_int_equal(s2.large_blocks, s0.large_blocks);
    assert_int_equal(s2.large_bytes, s0.large_bytes);
    assert_int_equal(s2.bytes_in_use, s0.bytes_in_use);
    assert_true(s2.bytes_reserved <= s0.bytes_reserved + s2.arena_size);
    assert_true(s2.arenas_current <= s0.arenas_current + 1);

    if (check_rss()) {
        if (getenv("RC_TEST_VERBOSE"))
            fprintf(stderr, "large: total %zu MiB, rss %zu -> %zu -> %zu MiB\n",
                    total / MiB, rss0 / MiB, rss1 / MiB, rss2 / MiB);
        assert_true(rss1 >= rss0 + total / 10 * 9);
        assert_true(rss1 - rss2 >= total / 4 * 3);
    }
}

/* Repeated cycles must not ratchet the footprint up. */
static void test_cycles_do_not_grow(void **state)
{
    (void)state;
    rct_rng rng;
    rct_rng_init(&rng, rct_seed(77));
    size_t target = rct_scaled(48 * MiB, 16 * MiB);
    rc_heap_stats first, s;
    size_t rss_first = 0;
    for (int cycle = 0; cycle < 4; cycle++) {
        size_t total;
        chain *list = alloc_small(target, &rng, &total);
        void *big = rc_malloc(8 * MiB);
        assert_non_null(big);
        memset(big, 1, 8 * MiB);
        free_chain(list);
        rc_free(big);
        rc_heap_collect(1);
        assert_int_equal(rct_stats(&s), 0);
        if (cycle == 0) {
            first = s;
            rss_first = rct_rss();
            continue;
        }
        assert_int_equal(s.bytes_in_use, first.bytes_in_use);
        assert_true(s.arenas_current <= first.arenas_current);
        assert_true(s.bytes_reserved <= first.bytes_reserved);
        if (check_rss())
            assert_true(rct_rss() <= rss_first + 8 * MiB);
    }
}

/* Resident pages of [p, p + size) (mincore; p page-aligned). */
static size_t resident_pages(void *p, size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (size + page - 1) / page, count = 0;
    unsigned char *vec = malloc(n);
    assert_non_null(vec);
    assert_int_equal(mincore(p, size, vec), 0);
    for (size_t i = 0; i < n; i++)
        count += vec[i] & 1;
    free(vec);
    return count;
}

/* Free pools inside an arena that stays in use (a small block pins it) give
 * their pages back at rc_heap_collect, and work as before when taken again:
 * large blocks (spans of whole pools) and then small classes in them. */
static void test_free_pools_decommitted(void **state)
{
    (void)state;
    enum { NSPAN = 8, SPAN = 256 * 1024 };
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *pin = rc_malloc(32);
    assert_non_null(pin);
    char *span[NSPAN];
    for (int i = 0; i < NSPAN; i++) {
        span[i] = rc_malloc(SPAN);
        assert_non_null(span[i]);
        assert_int_equal((uintptr_t)span[i] % page, 0);
        memset(span[i], 0x6B, SPAN);
        assert_int_equal(resident_pages(span[i], SPAN), SPAN / page);
    }
    rc_heap_stats before;
    assert_int_equal(rct_stats(&before), 0);
    for (int i = 0; i < NSPAN; i++)
        rc_free(span[i]);
    rc_heap_collect(0);
    rc_heap_stats after;
    assert_int_equal(rct_stats(&after), 0);
    /* the arenas are kept (the pin), their freed pools' pages are not */
    assert_true(after.arenas_current >= 1);
    for (int i = 0; i < NSPAN; i++)
        assert_int_equal(resident_pages(span[i], SPAN), 0);
    /* taken again: large blocks, then every small class, read back intact */
    for (int i = 0; i < NSPAN; i++) {
        span[i] = rc_malloc(SPAN);
        assert_non_null(span[i]);
        memset(span[i], i, SPAN);
    }
    for (int i = 0; i < NSPAN; i++) {
        for (size_t j = 0; j < SPAN; j += 4093)
            assert_int_equal((unsigned char)span[i][j], i);
        rc_free(span[i]);
    }
    rc_heap_collect(0);
    /* small blocks: the link, then the class index in every other byte */
    chain *small = NULL;
    size_t ncls = rc_heap_size_class_count();
    for (size_t c = 1; c < ncls; c++) {
        size_t size = rc_heap_size_class_size(c);
        for (int k = 0; k < 64; k++) {
            chain *b = rc_malloc(size);
            assert_non_null(b);
            memset(b, (int)c, size);
            b->next = small;
            small = b;
        }
    }
    for (chain *b = small; b; b = b->next) {
        const unsigned char *bytes = (const unsigned char *)b;
        size_t c = bytes[sizeof(chain)], size = rc_heap_size_class_size(c);
        assert_true(c >= 1 && c < ncls);
        for (size_t j = sizeof(chain); j < size; j++)
            assert_int_equal(bytes[j], c);
    }
    free_chain(small);
    rc_free(pin);
}

/* A runtime's objects live in its own heap: rc_heap_collect reaches that
 * heap's free pools too. A list of a million references to one object
 * grows through spans, each freed as the next is taken; their pools stay
 * free inside the runtime's arenas until the collect. */
static void test_runtime_free_pools_decommitted(void **state)
{
    (void)state;
    if (!check_rss())
        skip();
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    rc_obj *five = rc_int(rt, 5), *list = rc_list(rt);
    assert_non_null(list);
    size_t n = rct_scaled(1000000, 300000);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rc_list_append(rt, list, five), 0);
    size_t before = rct_rss();
    rc_heap_collect(0);
    size_t after = rct_rss();
    /* the spans freed on the way: about 30% of the final 8-byte slots */
    assert_true(before > after);
    assert_true(before - after >= n * 8 / 5);
    assert_int_equal(rc_list_len(list), n);
    for (size_t i = 0; i < n; i += 997)
        assert_ptr_equal(rc_list_get(rt, list, i), five);
    rc_decref(list);
    rc_decref(five);
    rc_runtime_free(rt);
}

static int setup(void **state)
{
    (void)state;
    rc_heap_set_debug(0); /* the quarantine of the debug mode would hold memory */
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_blocks_release),
        cmocka_unit_test(test_large_blocks_release),
        cmocka_unit_test(test_cycles_do_not_grow),
        cmocka_unit_test(test_free_pools_decommitted),
        cmocka_unit_test(test_runtime_free_pools_decommitted),
    };
    return rct_run_tests(tests, setup, NULL);
}
