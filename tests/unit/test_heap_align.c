/* test_heap_align.c - rc_aligned_alloc at every power-of-two alignment from
 * 16 bytes to beyond RC_HEAP_MAX_ALIGNMENT, with debug mode off and on: the
 * block is aligned, rc_usable_size covers the request, every usable byte can
 * be written and read back, and rc_free takes it back with no error report.
 * Alignments above the maximum fail with EINVAL and report nothing. Sizes
 * cover small pools, spans and huge blocks. */
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
#include "rct.h"

static size_t g_nerrs;

static void on_error(const rc_heap_error *err, void *arg)
{
    (void)arg;
    fprintf(stderr, "unexpected heap error: %s\n", err->message);
    g_nerrs++;
}

static int setup(void **state)
{
    (void)state;
    g_nerrs = 0;
    rc_heap_set_error_handler(on_error, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rc_heap_set_debug(0);
    rc_heap_set_error_handler(NULL, NULL);
    return 0;
}

static const size_t k_sizes[] = { 1, 100, 4096, 70000, (size_t)1 << 20, ((size_t)1 << 20) + 1 };
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])
#define MAX_TESTED_ALIGNMENT ((size_t)8 << 20)

static void check_all_alignments(int debug)
{
    rc_heap_set_debug(debug);
    assert_int_equal(rc_heap_get_debug(), debug);
    uint64_t seed = 1;
    for (size_t align = 16; align <= MAX_TESTED_ALIGNMENT; align *= 2) {
        for (size_t i = 0; i < NSIZES; i++) {
            size_t size = k_sizes[i];
            errno = 0;
            unsigned char *p = rc_aligned_alloc(align, size);
            if (align > RC_HEAP_MAX_ALIGNMENT) {
                assert_null(p);
                assert_int_equal(errno, EINVAL);
                continue;
            }
            if (!p)
                fail_msg("rc_aligned_alloc(%zu, %zu) failed, debug %d, errno %d", align, size,
                         debug, errno);
            assert_int_equal((uintptr_t)p % align, 0);
            assert_true(rc_heap_contains(p));
            size_t usable = rc_usable_size(p);
            if (usable < size)
                fail_msg("alignment %zu size %zu debug %d: usable %zu", align, size, debug, usable);
            /* the whole usable block is ours; in debug mode its guards
             * would catch a byte too far */
            rct_fill(p, usable, seed);
            assert_int_equal(rct_check(p, usable, seed), SIZE_MAX);
            seed++;
            rc_free(p);
            if (g_nerrs)
                fail_msg("alignment %zu size %zu debug %d: %zu error report(s)", align, size,
                         debug, g_nerrs);
        }
    }
    if (debug)
        assert_int_equal(rc_heap_debug_check(), 0);
    rc_heap_collect(1);
    assert_int_equal(g_nerrs, 0);
}

static void test_alignments_debug_off(void **state)
{
    (void)state;
    check_all_alignments(0);
}

static void test_alignments_debug_on(void **state)
{
    (void)state;
    check_all_alignments(1);
}

static void test_debug_aligned_realloc(void **state)
{
    (void)state;
    /* realloc keeps a debug block's alignment */
    rc_heap_set_debug(1);
    for (size_t align = (size_t)64 << 10; align <= RC_HEAP_MAX_ALIGNMENT; align *= 2) {
        unsigned char *p = rc_aligned_alloc(align, 1000);
        assert_non_null(p);
        memset(p, 0x42, 1000);
        unsigned char *q = rc_realloc(p, 300000);
        assert_non_null(q);
        assert_int_equal((uintptr_t)q % align, 0);
        assert_int_equal(rct_check_byte(q, 1000, 0x42), SIZE_MAX);
        assert_true(rc_usable_size(q) >= 300000);
        rc_free(q);
    }
    assert_int_equal(rc_heap_debug_check(), 0);
    assert_int_equal(g_nerrs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alignments_debug_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alignments_debug_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug_aligned_realloc, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
