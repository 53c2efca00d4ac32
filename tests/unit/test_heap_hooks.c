/* test_heap_hooks.c - allocator hooks (the PyMem_SetAllocator analogue).
 *
 * A counting wrapper keeps the previous allocator as its ctx and passes every
 * call through; the tests check that each rc_* entry point reaches it with the
 * right arguments, that uninstalling restores the built-in allocator, that an
 * incomplete table is refused, and that a failing allocator makes rc_malloc
 * and friends fail cleanly. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle/heap.h>
#include "rct.h"

typedef struct counter {
    rc_allocator next;            /* the allocator we wrap */
    size_t n_malloc, n_calloc, n_realloc, n_free, n_aligned, n_usable;
    size_t bytes;                 /* bytes requested through us */
    size_t last_size, last_count, last_align;
    const void *last_ptr;         /* argument of the last free/realloc/usable */
    void *last_result;            /* result of the last allocation */
    int fail;                     /* 1: every allocation fails */
} counter;

static void *w_malloc(void *ctx, size_t size)
{
    counter *c = ctx;
    c->n_malloc++;
    c->last_size = size;
    c->bytes += size;
    if (c->fail) {
        errno = ENOMEM;
        return c->last_result = NULL;
    }
    return c->last_result = c->next.malloc(c->next.ctx, size);
}

static void *w_calloc(void *ctx, size_t count, size_t size)
{
    counter *c = ctx;
    c->n_calloc++;
    c->last_count = count;
    c->last_size = size;
    c->bytes += count * size;
    if (c->fail) {
        errno = ENOMEM;
        return c->last_result = NULL;
    }
    return c->last_result = c->next.calloc(c->next.ctx, count, size);
}

static void *w_realloc(void *ctx, void *ptr, size_t size)
{
    counter *c = ctx;
    c->n_realloc++;
    c->last_ptr = ptr;
    c->last_size = size;
    c->bytes += size;
    if (c->fail) {
        errno = ENOMEM;
        return c->last_result = NULL;
    }
    return c->last_result = c->next.realloc(c->next.ctx, ptr, size);
}

static void w_free(void *ctx, void *ptr)
{
    counter *c = ctx;
    if (ptr) {
        c->n_free++;
        c->last_ptr = ptr;
    }
    c->next.free(c->next.ctx, ptr);
}

static void *w_aligned(void *ctx, size_t alignment, size_t size)
{
    counter *c = ctx;
    c->n_aligned++;
    c->last_align = alignment;
    c->last_size = size;
    c->bytes += size;
    if (c->fail) {
        errno = ENOMEM;
        return c->last_result = NULL;
    }
    return c->last_result = c->next.aligned_alloc(c->next.ctx, alignment, size);
}

static size_t w_usable(void *ctx, const void *ptr)
{
    counter *c = ctx;
    c->n_usable++;
    c->last_ptr = ptr;
    return c->next.usable_size(c->next.ctx, ptr);
}

static void install(counter *c)
{
    memset(c, 0, sizeof *c);
    rc_heap_get_allocator(&c->next);
    rc_allocator a = { c, w_malloc, w_calloc, w_realloc, w_free, w_aligned, w_usable };
    assert_int_equal(rc_heap_set_allocator(&a), 0);
}

static size_t total_calls(const counter *c)
{
    return c->n_malloc + c->n_calloc + c->n_realloc + c->n_free + c->n_aligned;
}

static int same_allocator(const rc_allocator *a, const rc_allocator *b)
{
    return a->ctx == b->ctx && a->malloc == b->malloc && a->calloc == b->calloc &&
           a->realloc == b->realloc && a->free == b->free &&
           a->aligned_alloc == b->aligned_alloc && a->usable_size == b->usable_size;
}

static int setup(void **state)
{
    (void)state;
    rc_heap_set_debug(0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rc_heap_set_allocator(NULL);
    return 0;
}

/* ------------------------------------------------------------------------- */

static void test_default_allocator(void **state)
{
    (void)state;
    rc_allocator d, cur;
    rc_heap_get_default_allocator(&d);
    assert_non_null(d.malloc);
    assert_non_null(d.calloc);
    assert_non_null(d.realloc);
    assert_non_null(d.free);
    assert_non_null(d.aligned_alloc);
    assert_non_null(d.usable_size);
    rc_heap_get_allocator(&cur);
    assert_true(same_allocator(&cur, &d));   /* nothing installed yet */

    void *p = d.malloc(d.ctx, 100);
    assert_non_null(p);
    assert_int_equal(rc_heap_contains(p), 1);
    assert_true(d.usable_size(d.ctx, p) >= 100);
    assert_int_equal(rc_usable_size(p), d.usable_size(d.ctx, p));
    p = d.realloc(d.ctx, p, 5000);
    assert_non_null(p);
    void *c = d.calloc(d.ctx, 10, 10);
    assert_non_null(c);
    assert_int_equal(rct_check_byte(c, 100, 0), SIZE_MAX);
    void *a = d.aligned_alloc(d.ctx, 1024, 10);
    assert_non_null(a);
    assert_true(((uintptr_t)a & 1023) == 0);
    d.free(d.ctx, a);
    rc_free(c);          /* blocks of the default allocator are ordinary blocks */
    d.free(d.ctx, p);
}

static void test_every_call_goes_through(void **state)
{
    (void)state;
    counter c;
    install(&c);

    rc_allocator cur;
    rc_heap_get_allocator(&cur);
    assert_ptr_equal(cur.ctx, &c);
    assert_true(cur.malloc == w_malloc);

    void *p = rc_malloc(123);
    assert_non_null(p);
    assert_int_equal(c.n_malloc, 1);
    assert_int_equal(c.last_size, 123);
    assert_ptr_equal(p, c.last_result);

    void *q = rc_calloc(7, 9);
    assert_non_null(q);
    assert_int_equal(c.n_calloc, 1);
    assert_int_equal(c.last_count * c.last_size, 63);
    assert_ptr_equal(q, c.last_result);
    assert_int_equal(rct_check_byte(q, 63, 0), SIZE_MAX);

    rct_fill(p, 123, 1);
    void *p2 = rc_realloc(p, 5000);
    assert_non_null(p2);
    assert_int_equal(c.n_realloc, 1);
    assert_ptr_equal(c.last_ptr, p);
    assert_int_equal(c.last_size, 5000);
    assert_ptr_equal(p2, c.last_result);
    assert_int_equal(rct_check(p2, 123, 1), SIZE_MAX);

    void *a = rc_aligned_alloc(256, 100);
    assert_non_null(a);
    assert_int_equal(c.n_aligned, 1);
    assert_int_equal(c.last_align, 256);
    assert_int_equal(c.last_size, 100);
    assert_ptr_equal(a, c.last_result);
    assert_true(((uintptr_t)a & 255) == 0);

    size_t us = rc_usable_size(p2);
    assert_true(us >= 5000);
    assert_int_equal(c.n_usable, 1);
    assert_ptr_equal(c.last_ptr, p2);

    rc_free(p2);
    assert_int_equal(c.n_free, 1);
    assert_ptr_equal(c.last_ptr, p2);
    rc_free(q);
    assert_int_equal(c.n_free, 2);
    assert_ptr_equal(c.last_ptr, q);
    rc_free(a);
    assert_int_equal(c.n_free, 3);
    assert_ptr_equal(c.last_ptr, a);

    /* the extras go through the hooks too */
    size_t before = c.n_malloc + c.n_realloc;
    char *s = rc_strdup("hooked");
    assert_non_null(s);
    assert_string_equal(s, "hooked");
    assert_int_equal(c.n_malloc + c.n_realloc, before + 1);
    assert_true(c.last_size >= 7);
    assert_ptr_equal(s, c.last_result);

    size_t calls0 = total_calls(&c);
    void *arr = rc_reallocarray(NULL, 10, 12);
    assert_non_null(arr);
    assert_int_equal(total_calls(&c), calls0 + 1);
    assert_int_equal(c.last_size, 120);
    size_t nr = c.n_realloc;
    void *arr_old = arr;
    arr = rc_reallocarray(arr, 20, 12);
    assert_non_null(arr);
    assert_int_equal(c.n_realloc, nr + 1);
    assert_ptr_equal(c.last_ptr, arr_old);
    assert_int_equal(c.last_size, 240);

    /* realloc(NULL, n) is one malloc-like call of n bytes */
    size_t calls = total_calls(&c);
    void *r = rc_realloc(NULL, 77);
    assert_non_null(r);
    assert_int_equal(total_calls(&c), calls + 1);
    assert_int_equal(c.last_size, 77);
    assert_ptr_equal(r, c.last_result);

    /* the byte count adds up */
    size_t bytes = c.bytes;
    void *b1 = rc_malloc(1000);
    void *b2 = rc_calloc(3, 100);
    assert_int_equal(c.bytes, bytes + 1300);

    size_t frees = c.n_free;
    rc_free(b1);
    rc_free(b2);
    rc_free(r);
    rc_free(arr);
    rc_free(s);
    assert_int_equal(c.n_free, frees + 5);
    rc_free(NULL);          /* allowed, whatever the hook does with it */

    assert_int_equal(rc_heap_set_allocator(NULL), 0);
}

static void test_uninstall_restores(void **state)
{
    (void)state;
    rc_allocator d;
    rc_heap_get_default_allocator(&d);
    counter c;
    install(&c);
    void *p = rc_malloc(10);      /* allocated under the hook */
    assert_int_equal(c.n_malloc, 1);
    assert_int_equal(rc_heap_set_allocator(NULL), 0);

    rc_allocator cur;
    rc_heap_get_allocator(&cur);
    assert_true(same_allocator(&cur, &d));

    size_t calls = total_calls(&c) + c.n_usable;
    void *q = rc_malloc(20);
    assert_non_null(q);
    q = rc_realloc(q, 2000);
    rc_free(q);
    rc_free(p);                   /* crosses the switch */
    assert_int_equal(total_calls(&c) + c.n_usable, calls);

    /* and a block from before the hook is freed through it */
    void *old = rc_malloc(30);
    install(&c);
    rc_free(old);
    assert_int_equal(c.n_free, 1);
    assert_ptr_equal(c.last_ptr, old);
    assert_int_equal(rc_heap_set_allocator(NULL), 0);
}

static void test_invalid_allocator(void **state)
{
    (void)state;
    counter c;
    install(&c);
    rc_allocator before;
    rc_heap_get_allocator(&before);

    rc_allocator full = { &c, w_malloc, w_calloc, w_realloc, w_free, w_aligned, w_usable };
    for (int field = 0; field < 6; field++) {
        rc_allocator bad = full;
        switch (field) {
        case 0: bad.malloc = NULL; break;
        case 1: bad.calloc = NULL; break;
        case 2: bad.realloc = NULL; break;
        case 3: bad.free = NULL; break;
        case 4: bad.aligned_alloc = NULL; break;
        default: bad.usable_size = NULL; break;
        }
        assert_int_equal(rc_heap_set_allocator(&bad), RC_EINVAL);
        rc_allocator cur;
        rc_heap_get_allocator(&cur);
        assert_true(same_allocator(&cur, &before));   /* unchanged */
    }
    /* the installed hook still serves */
    size_t n = c.n_malloc;
    void *p = rc_malloc(8);
    assert_non_null(p);
    assert_int_equal(c.n_malloc, n + 1);
    rc_free(p);
    assert_int_equal(rc_heap_set_allocator(NULL), 0);
}

static void test_failing_allocator(void **state)
{
    (void)state;
    void *keep = rc_malloc(100);  /* before the hook */
    assert_non_null(keep);
    rct_fill(keep, 100, 9);

    counter c;
    install(&c);
    c.fail = 1;

    errno = 0;
    assert_null(rc_malloc(100));
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(c.n_malloc, 1);
    errno = 0;
    assert_null(rc_calloc(10, 10));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(rc_aligned_alloc(64, 64));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(rc_strdup("nope"));
    errno = 0;
    assert_null(rc_realloc(keep, 10000));
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(rct_check(keep, 100, 9), SIZE_MAX);   /* untouched */
    assert_true(c.n_calloc == 1 && c.n_aligned == 1 && c.n_realloc >= 1);

    c.fail = 0;
    void *p = rc_malloc(100);
    assert_non_null(p);
    rc_free(p);
    rc_free(keep);
    assert_int_equal(rc_heap_set_allocator(NULL), 0);
    p = rc_malloc(100);
    assert_non_null(p);
    rc_free(p);
}

static void test_stacked_wrappers(void **state)
{
    (void)state;
    counter inner, outer;
    install(&inner);
    install(&outer);              /* wraps the inner wrapper */
    void *p = rc_malloc(64);
    assert_non_null(p);
    void *q = rc_aligned_alloc(128, 10);
    assert_non_null(q);
    rc_free(p);
    rc_free(q);
    assert_int_equal(outer.n_malloc, 1);
    assert_int_equal(inner.n_malloc, 1);
    assert_int_equal(outer.n_aligned, 1);
    assert_int_equal(inner.n_aligned, 1);
    assert_int_equal(outer.n_free, 2);
    assert_int_equal(inner.n_free, 2);
    /* restoring the inner one removes only the outer layer */
    assert_int_equal(rc_heap_set_allocator(&outer.next), 0);
    p = rc_malloc(5);
    rc_free(p);
    assert_int_equal(outer.n_malloc, 1);
    assert_int_equal(inner.n_malloc, 2);
    assert_int_equal(rc_heap_set_allocator(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_default_allocator, teardown),
        cmocka_unit_test_teardown(test_every_call_goes_through, teardown),
        cmocka_unit_test_teardown(test_uninstall_restores, teardown),
        cmocka_unit_test_teardown(test_invalid_allocator, teardown),
        cmocka_unit_test_teardown(test_failing_allocator, teardown),
        cmocka_unit_test_teardown(test_stacked_wrappers, teardown),
    };
    return rct_run_tests(tests, setup, NULL);
}
