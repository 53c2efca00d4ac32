/* test_refcount_noinline.c - RC_NO_INLINE_REFCOUNT: with it defined before
 * recycle.h, rc_incref/rc_decref/rc_xdecref are plain calls of the exported
 * functions (no macros), with the same behaviour as the inline paths. */
#define RC_NO_INLINE_REFCOUNT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <recycle.h>

#ifdef rc_decref
#error "RC_NO_INLINE_REFCOUNT must leave rc_decref a function, not a macro"
#endif

static void test_functions_only(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *l = rc_list(rt);
    rc_obj *v = rc_int(rt, 123456);
    assert_int_equal(rc_list_append(rt, l, v), 0);
    rc_incref(l);
    assert_int_equal(rc_refcount(l), 2);
    rc_decref(l);
    rc_decref(v);
    assert_int_equal(rc_refcount(v), 1);
    rc_obj *small = rc_int(rt, 5);              /* immortal: counts untouched */
    size_t before = rc_refcount(small);
    rc_incref(small);
    rc_decref(small);
    rc_decref(small);
    assert_int_equal(rc_refcount(small), before);
    rc_xdecref(NULL);
    rc_xdecref(l);                              /* frees the list and the int */
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_functions_only),
    };
    return rct_run_tests(tests, NULL, NULL);
}
