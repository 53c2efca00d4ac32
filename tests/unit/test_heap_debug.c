/* rc-test: misuse */
/* test_heap_debug.c - the debug mode (the PYTHONMALLOC=debug analogue).
 *
 * With rc_heap_set_debug(1) and an error handler that records what it is
 * told, each misuse is committed once and the report checked: kind, pointer,
 * size, message; the heap must keep working afterwards. Deliberate
 * out-of-bounds and after-free accesses go through rct_poke/rct_peek so that
 * the sanitizers and memcheck do not stop the test first.
 *
 * Run with the argument --child-get-debug, the binary reports the debug mode
 * it started in through its exit status (used to test RECYCLE_DEBUG). */
#define _GNU_SOURCE
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

#include <recycle/heap.h>
#include "rct.h"

#define MiB ((size_t)1 << 20)

/* ---- the recording handler (allocates nothing) ------------------------- */

#define MAX_ERRS 16
typedef struct captured {
    rc_heap_error_kind kind;
    const void *ptr;
    size_t size;
    uint64_t serial;
    char message[512];
} captured;

static captured g_errs[MAX_ERRS];
static size_t g_nerrs;
static int g_handler_arg;

static void on_error(const rc_heap_error *err, void *arg)
{
    if (arg != &g_handler_arg)
        g_handler_arg = -1; /* noticed below */
    if (g_nerrs < MAX_ERRS) {
        captured *c = &g_errs[g_nerrs];
        c->kind = err->kind;
        c->ptr = err->ptr;
        c->size = err->size;
        c->serial = err->serial;
        snprintf(c->message, sizeof c->message, "%s", err->message ? err->message : "");
    }
    g_nerrs++;
}

static void reset_errs(void)
{
    g_nerrs = 0;
    memset(g_errs, 0, sizeof g_errs);
}

/* Exactly one error of `kind` was reported for ptr since reset_errs(). */
static const captured *expect_one(rc_heap_error_kind kind, const void *ptr)
{
    assert_int_equal(g_nerrs, 1);
    assert_int_equal(g_handler_arg, 0);
    const captured *c = &g_errs[0];
    assert_int_equal(c->kind, kind);
    assert_ptr_equal(c->ptr, ptr);
    assert_true(strlen(c->message) > 0);
    /* one line: no newline except possibly a final one */
    const char *nl = strchr(c->message, '\n');
    assert_true(nl == NULL || nl[1] == '\0');
    return c;
}

static void assert_mentions_ptr(const captured *c, const void *p)
{
    char addr[32];
    snprintf(addr, sizeof addr, "%p", p);
    if (!strstr(c->message, addr))
        fail_msg("message \"%s\" does not mention %s", c->message, addr);
}

static void assert_mentions_size(const captured *c, size_t size)
{
    char num[32];
    snprintf(num, sizeof num, "%zu", size);
    if (!strstr(c->message, num))
        fail_msg("message \"%s\" does not mention the size %s", c->message, num);
}

/* The heap still serves and frees blocks without complaint. */
static void assert_heap_works(void)
{
    size_t before = g_nerrs;
    size_t sizes[] = { 1, 40, 500, 5000, 50000, 3 * MiB };
    void *p[6];
    for (int i = 0; i < 6; i++) {
        p[i] = rc_malloc(sizes[i]);
        assert_non_null(p[i]);
        rct_fill(p[i], sizes[i], (uint64_t)i);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(rct_check(p[i], sizes[i], (uint64_t)i), SIZE_MAX);
        rc_free(p[i]);
    }
    if (g_nerrs != before)
        fail_msg("%zu unexpected heap error(s) during plain malloc/free; first: kind %d, \"%s\"",
                 g_nerrs - before, (int)g_errs[before < MAX_ERRS ? before : 0].kind,
                 g_errs[before < MAX_ERRS ? before : 0].message);
}

static int per_test_setup(void **state)
{
    (void)state;
    rc_heap_set_debug(1);
    rc_heap_set_error_handler(on_error, &g_handler_arg);
    reset_errs();
    g_handler_arg = 0;
    return 0;
}

/* Sizes with distinctive decimal forms, small to huge. */
static const size_t k_sizes[] = { 1, 37, 1237, 20011, 2 * MiB + 3 };
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])

/* ------------------------------------------------------------------------- */

static void test_debug_on_and_clean_heap(void **state)
{
    (void)state;
    assert_int_equal(rc_heap_get_debug(), 1);
    assert_int_equal(rc_heap_debug_check(), 0);
    assert_int_equal(g_nerrs, 0);
    rc_heap_set_debug(0);
    assert_int_equal(rc_heap_get_debug(), 0);
    rc_heap_set_debug(1);
    assert_int_equal(rc_heap_get_debug(), 1);
}

static void test_clean_and_dead_fill(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t size = k_sizes[i];
        /* dirty a block, free it, allocate again: fresh blocks are clean */
        unsigned char *d = rc_malloc(size);
        assert_non_null(d);
        memset(d, 0x11, size);
        rc_free(d);
        unsigned char *p = rc_malloc(size);
        assert_non_null(p);
        assert_true(((uintptr_t)p & (RC_HEAP_ALIGNMENT - 1)) == 0);
        if (rc_usable_size(p) < size)
            fail_msg("debug block of %zu bytes: rc_usable_size %zu", size, rc_usable_size(p));
        assert_int_equal(rct_check_byte(p, size, RC_DEBUG_CLEAN_BYTE), SIZE_MAX);
        /* calloc still zeroes */
        unsigned char *c = rc_calloc(size, 1);
        assert_non_null(c);
        assert_int_equal(rct_check_byte(c, size, 0), SIZE_MAX);
        /* aligned blocks are clean too */
        unsigned char *a = rc_aligned_alloc(4096, size);
        assert_non_null(a);
        assert_true(((uintptr_t)a & 4095) == 0);
        assert_int_equal(rct_check_byte(a, size, RC_DEBUG_CLEAN_BYTE), SIZE_MAX);
        rc_free(a);
        rc_free(c);
        rc_free(p);
    }
    /* a freed small block sits in quarantine filled with the dead byte */
    unsigned char *p = rc_malloc(100);
    assert_non_null(p);
    memset(p, 0x22, 100);
    rc_free(p);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(rct_peek(p + i), RC_DEBUG_DEAD_BYTE);
    assert_int_equal(g_nerrs, 0);

    /* realloc keeps the contents in debug mode */
    unsigned char *r = rc_malloc(50);
    assert_non_null(r);
    rct_fill(r, 50, 3);
    r = rc_realloc(r, 5000);
    assert_non_null(r);
    assert_int_equal(rct_check(r, 50, 3), SIZE_MAX);
    r = rc_realloc(r, 20);
    assert_non_null(r);
    assert_int_equal(rct_check(r, 20, 3), SIZE_MAX);
    rc_free(r);
    assert_int_equal(g_nerrs, 0);
}

static void test_overrun(void **state)
{
    (void)state;
    uint64_t last_serial = 0;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t size = k_sizes[i];
        unsigned char *p = rc_malloc(size);
        assert_non_null(p);
        memset(p, 0x41, size);  /* all of the requested bytes are fine */
        rct_poke(p + size, 'x'); /* one byte past */
        size_t count = rc_heap_error_count();
        reset_errs();
        rc_free(p);
        const captured *c = expect_one(RC_HEAP_ERR_OVERRUN, p);
        assert_int_equal(c->size, size);
        assert_mentions_ptr(c, p);
        assert_mentions_size(c, size);
        assert_true(c->serial > last_serial);   /* serials grow with allocations */
        last_serial = c->serial;
        assert_int_equal(rc_heap_error_count(), count + 1);
        assert_heap_works();
    }
    /* an aligned block too */
    unsigned char *a = rc_aligned_alloc(256, 77);
    assert_non_null(a);
    rct_poke(a + 77, 0);
    reset_errs();
    rc_free(a);
    assert_int_equal(expect_one(RC_HEAP_ERR_OVERRUN, a)->size, 77);
    assert_heap_works();
}

static void test_underrun(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t size = k_sizes[i];
        unsigned char *p = rc_malloc(size);
        assert_non_null(p);
        rct_poke(p - 1, 'x');
        size_t count = rc_heap_error_count();
        reset_errs();
        rc_free(p);
        const captured *c = expect_one(RC_HEAP_ERR_UNDERRUN, p);
        assert_int_equal(c->size, size);
        assert_mentions_ptr(c, p);
        assert_mentions_size(c, size);
        assert_int_equal(rc_heap_error_count(), count + 1);
        assert_heap_works();
    }
}

static void test_double_free(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSIZES; i++) {
        size_t size = k_sizes[i];
        void *p = rc_malloc(size);
        assert_non_null(p);
        rc_free(p);
        assert_int_equal(g_nerrs, 0);
        size_t count = rc_heap_error_count();
        rc_free(p);
        const captured *c = expect_one(RC_HEAP_ERR_DOUBLE_FREE, p);
        assert_mentions_ptr(c, p);
        assert_int_equal(rc_heap_error_count(), count + 1);
        reset_errs();
        assert_heap_works();
    }
}

static char static_block[64];

static void test_foreign(void **state)
{
    (void)state;
    char stack_block[64];
    void *libc_small = malloc(64);
    void *libc_large = malloc(4 * MiB);
    assert_non_null(libc_small);
    assert_non_null(libc_large);
    void *ptrs[] = { stack_block, static_block, libc_small, libc_large,
                     (char *)libc_large + 4096 };
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++) {
        size_t count = rc_heap_error_count();
        reset_errs();
        rc_free(ptrs[i]);
        const captured *c = expect_one(RC_HEAP_ERR_FOREIGN, ptrs[i]);
        assert_mentions_ptr(c, ptrs[i]);
        assert_int_equal(rc_heap_error_count(), count + 1);
        assert_heap_works();
    }
    /* nothing was written to the foreign memory: glibc still frees it */
    free(libc_small);
    free(libc_large);

    /* a mapping placed right after a large block, in address space the heap
     * does not hold, is foreign too */
    rc_heap_set_debug(0);          /* a plain block: its usable end is the mapping's */
    char *big = rc_malloc(2 * MiB + 100);
    rc_heap_set_debug(1);
    assert_non_null(big);
    char *end = big + rc_usable_size(big);
    long page = sysconf(_SC_PAGESIZE);
    if (rc_usable_size(big) >= 2 * MiB + 100 && ((uintptr_t)end & (uintptr_t)(page - 1)) == 0) {
        void *q = mmap(end, (size_t)page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (q == end) {
            reset_errs();
            rc_free(q);
            int kind = g_nerrs ? (int)g_errs[0].kind : 0;
            munmap(q, (size_t)page);
            if (g_nerrs != 1 || kind != RC_HEAP_ERR_FOREIGN)
                fail_msg("rc_free(%p) (a mapping right after a large block): %zu report(s), "
                         "kind %d; expected one RC_HEAP_ERR_FOREIGN", q, g_nerrs, kind);
        } else if (q != MAP_FAILED) {
            munmap(q, (size_t)page);
        }
    }
    reset_errs();
    rc_free(big);
    assert_int_equal(g_nerrs, 0);
}

static void test_interior_pointer(void **state)
{
    (void)state;
    size_t offsets[] = { 1, 8, 16 };
    for (size_t i = 0; i < NSIZES; i++) {
        size_t size = k_sizes[i];
        unsigned char *p = rc_malloc(size + 64);
        assert_non_null(p);
        for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
            size_t count = rc_heap_error_count();
            reset_errs();
            rc_free(p + offsets[k]);
            const captured *c = expect_one(RC_HEAP_ERR_INVALID, p + offsets[k]);
            assert_mentions_ptr(c, p + offsets[k]);
            assert_int_equal(rc_heap_error_count(), count + 1);
        }
        /* the block itself is intact and frees cleanly */
        reset_errs();
        rc_free(p);
        assert_int_equal(g_nerrs, 0);
        assert_heap_works();
    }
}

static void test_write_after_free(void **state)
{
    (void)state;
    size_t sizes[] = { 1, 37, 1237, 20011 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t size = sizes[i];
        unsigned char *p = rc_malloc(size);
        assert_non_null(p);
        rc_free(p);
        assert_int_equal(g_nerrs, 0);
        rct_poke(p + size / 2, 0x00);   /* write into the quarantined block */
        size_t count = rc_heap_error_count();
        size_t n = rc_heap_debug_check();
        assert_true(n >= 1);
        assert_true(g_nerrs >= 1);
        int found = 0;
        for (size_t k = 0; k < g_nerrs && k < MAX_ERRS; k++) {
            if (g_errs[k].kind == RC_HEAP_ERR_WRITE_AFTER_FREE && g_errs[k].ptr == p) {
                found = 1;
                assert_true(strlen(g_errs[k].message) > 0);
                assert_mentions_ptr(&g_errs[k], p);
                assert_mentions_size(&g_errs[k], size);
            }
        }
        assert_true(found);
        assert_int_equal(rc_heap_error_count(), count + n);
        reset_errs();
        assert_heap_works();
    }
}

static void test_check_finds_live_overrun(void **state)
{
    (void)state;
    unsigned char *p = rc_malloc(40);
    assert_non_null(p);
    unsigned char saved = rct_peek(p + 40);
    assert_int_equal(saved, RC_DEBUG_GUARD_BYTE);
    rct_poke(p + 40, 0);
    size_t n = rc_heap_debug_check();
    assert_true(n >= 1);
    int found = 0;
    for (size_t k = 0; k < g_nerrs && k < MAX_ERRS; k++)
        if (g_errs[k].kind == RC_HEAP_ERR_OVERRUN && g_errs[k].ptr == p)
            found = 1;
    assert_true(found);
    /* repair the guard: the block then frees without complaint */
    rct_poke(p + 40, saved);
    reset_errs();
    rc_free(p);
    assert_int_equal(g_nerrs, 0);
}

static void test_mode_switch(void **state)
{
    (void)state;
    /* allocated plain, freed in debug mode */
    rc_heap_set_debug(0);
    void *plain[8];
    for (int i = 0; i < 8; i++) {
        plain[i] = rc_malloc((size_t)1 << (i * 3));
        assert_non_null(plain[i]);
        rct_fill(plain[i], (size_t)1 << (i * 3), (uint64_t)i);
    }
    rc_heap_set_debug(1);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(rct_check(plain[i], (size_t)1 << (i * 3), (uint64_t)i), SIZE_MAX);
        void *q = rc_realloc(plain[i], ((size_t)1 << (i * 3)) + 100);
        assert_non_null(q);
        assert_int_equal(rct_check(q, (size_t)1 << (i * 3), (uint64_t)i), SIZE_MAX);
        rc_free(q);
    }
    assert_int_equal(g_nerrs, 0);

    /* allocated in debug mode, freed with it off: still a debug block */
    void *dbg[8];
    for (int i = 0; i < 8; i++) {
        dbg[i] = rc_malloc((size_t)1 << (i * 3));
        assert_non_null(dbg[i]);
    }
    unsigned char *bad = rc_malloc(33);
    assert_non_null(bad);
    rct_poke(bad + 33, 1);
    rc_heap_set_debug(0);
    for (int i = 0; i < 8; i++)
        rc_free(dbg[i]);
    assert_int_equal(g_nerrs, 0);
    rc_free(bad);   /* its guards are still checked */
    expect_one(RC_HEAP_ERR_OVERRUN, bad);
    reset_errs();
    assert_heap_works();
    rc_heap_set_debug(1);
}

static void test_default_handler(void **state)
{
    (void)state;
    rc_heap_set_error_handler(NULL, NULL);
    void *p = rc_malloc(64);
    assert_non_null(p);
    rc_free(p);

    fflush(stderr);
    char path[] = "/tmp/rc_debug_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fd, 2) >= 0);
    size_t count = rc_heap_error_count();
    rc_free(p);                       /* double free, reported on stderr */
    fflush(stderr);
    dup2(saved, 2);
    close(saved);

    char buf[1024] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    assert_true(n > 0);
    char addr[32];
    snprintf(addr, sizeof addr, "%p", p);
    if (!strstr(buf, addr))
        fail_msg("stderr \"%s\" does not mention %s", buf, addr);
    assert_int_equal(rc_heap_error_count(), count + 1);
    assert_int_equal(g_nerrs, 0);     /* our handler is no longer called */
    assert_heap_works();
}

static void test_environment_variable(void **state)
{
    (void)state;
    /* bits: 1 debug at start, 2 debug after an allocation, 4 clean fill */
    assert_int_equal(rct_run_self("--child-get-debug", "RECYCLE_DEBUG", "1", NULL), 7);
    assert_int_equal(rct_run_self("--child-get-debug", NULL, NULL, "RECYCLE_DEBUG"), 0);
    assert_int_equal(rct_run_self("--child-get-debug", "RECYCLE_DEBUG", "0", NULL), 0);
}

static int child_get_debug(void)
{
    int code = 0;
    if (rc_heap_get_debug() == 1)
        code |= 1;
    unsigned char *p = rc_malloc(24);
    if (!p)
        return 100;
    if (rc_heap_get_debug() == 1)
        code |= 2;
    if (rct_check_byte(p, 24, RC_DEBUG_CLEAN_BYTE) == SIZE_MAX)
        code |= 4;
    rc_free(p);
    return code;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--child-get-debug") == 0)
        return child_get_debug();

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_debug_on_and_clean_heap, per_test_setup),
        cmocka_unit_test_setup(test_clean_and_dead_fill, per_test_setup),
        cmocka_unit_test_setup(test_overrun, per_test_setup),
        cmocka_unit_test_setup(test_underrun, per_test_setup),
        cmocka_unit_test_setup(test_double_free, per_test_setup),
        cmocka_unit_test_setup(test_foreign, per_test_setup),
        cmocka_unit_test_setup(test_interior_pointer, per_test_setup),
        cmocka_unit_test_setup(test_write_after_free, per_test_setup),
        cmocka_unit_test_setup(test_check_finds_live_overrun, per_test_setup),
        cmocka_unit_test_setup(test_mode_switch, per_test_setup),
        cmocka_unit_test_setup(test_default_handler, per_test_setup),
        cmocka_unit_test_setup(test_environment_variable, per_test_setup),
    };
    return rct_run_tests(tests, NULL, NULL);
}
