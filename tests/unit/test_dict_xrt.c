/* rc-test: misuse */
/* test_dict_xrt.c - dict, set and weak-value dict refuse objects of another
 * runtime. For every call that stores (rc_dict_set, _set_str, _setdefault,
 * _incr, _modify, rc_set_add, the set algebra, rc_weakvaluedict_set), an
 * object of a second runtime - as key, as value, or as the container
 * itself passed with the other runtime - is refused with RC_EINVAL and a
 * message that says so, and the container is unchanged; calls that free
 * (del, pop, discard) refuse a container passed with another runtime.
 * Static small ints belong to no runtime and are accepted everywhere;
 * lookups accept a key of another runtime, and a miss on one leaves no
 * reference behind. After rc_runtime_free of the second runtime the first
 * one works and frees cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

static rc_runtime *new_rt(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    return rt;
}

/* The last error of rt is a refusal for another runtime; cleared. */
static void refused(rc_runtime *rt, int r) {
    assert_int_equal(r, RC_EINVAL);
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_non_null(strstr(rc_error_message(rt), "another runtime"));
    rc_error_clear(rt);
}

/* d is {"a": 1000, "b": 2000} (in that order) and nothing else. */
static void dict_is_ab(rc_runtime *rt, rc_obj *d) {
    assert_int_equal(rc_dict_len(d), 2);
    rc_iter it;
    rc_obj *k, *v;
    rc_iter_init(&it, d);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
    assert_true(rc_str_equal_cstr(k, "a"));
    assert_int_equal(rc_int_value(v), 1000);
    assert_ptr_equal(rc_runtime_of(v), rt);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
    assert_true(rc_str_equal_cstr(k, "b"));
    assert_int_equal(rc_int_value(v), 2000);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 0);
}

static int modify_to(rc_runtime *rt, rc_obj *key, rc_obj *value, rc_obj **out, void *arg) {
    (void)rt;
    (void)key;
    (void)value;
    *out = arg;
    rc_incref(*out);
    return 0;
}

static void test_dict_refuses(void **state) {
    (void)state;
    rc_runtime *rt = new_rt(), *rt2 = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    rc_obj *a = rc_str(rt, "a"), *b = rc_str(rt, "b");
    rc_obj *v1 = rc_int(rt, 1000), *v2 = rc_int(rt, 2000);
    assert_int_equal(rc_dict_set(rt, d, a, v1), 0);
    assert_int_equal(rc_dict_set(rt, d, b, v2), 0);
    rc_obj *fk = rc_str(rt2, "foreign"), *fa = rc_str(rt2, "a"), *fv = rc_int(rt2, 5000);
    rc_obj *out = NULL;
    int64_t res = 0;

    /* rc_dict_set: key, value (new and present key), dict with rt2 */
    refused(rt, rc_dict_set(rt, d, fk, v1));
    refused(rt, rc_dict_set(rt, d, fa, v1));
    refused(rt, rc_dict_set(rt, d, a, fv));
    refused(rt, rc_dict_set(rt, d, fk, fv));
    refused(rt2, rc_dict_set(rt2, d, a, v1));
    refused(rt2, rc_dict_set(rt2, d, fk, fv));
    dict_is_ab(rt, d);
    /* rc_dict_set_str: value (new and present key), dict with rt2 */
    refused(rt, rc_dict_set_str(rt, d, "new", fv));
    refused(rt, rc_dict_set_str(rt, d, "a", fv));
    refused(rt2, rc_dict_set_str(rt2, d, "new", fv));
    dict_is_ab(rt, d);
    /* rc_dict_setdefault: key, default (absent and present key) */
    refused(rt, rc_dict_setdefault(rt, d, fk, v1, &out));
    assert_null(out);
    refused(rt, rc_dict_setdefault(rt, d, a, fv, &out));
    refused(rt, rc_dict_setdefault(rt, d, b, fv, NULL));
    refused(rt2, rc_dict_setdefault(rt2, d, a, v1, &out));
    dict_is_ab(rt, d);
    /* rc_dict_incr: a key of rt2, equal or not to a present one */
    refused(rt, rc_dict_incr(rt, d, fk, 1, 0, &res));
    refused(rt, rc_dict_incr(rt, d, fa, 1, 0, &res));
    refused(rt2, rc_dict_incr(rt2, d, a, 1, 0, &res));
    dict_is_ab(rt, d);
    /* rc_dict_modify: key; a callback answering an object of rt2 */
    refused(rt, rc_dict_modify(rt, d, fk, modify_to, v1));
    refused(rt, rc_dict_modify(rt, d, a, modify_to, fv));
    refused(rt, rc_dict_modify(rt, d, fk, modify_to, fv));
    refused(rt2, rc_dict_modify(rt2, d, a, modify_to, v1));
    dict_is_ab(rt, d);
    assert_int_equal(rc_refcount(fv), 1);             /* the callback's reference released */
    /* calls that free: a dict passed with another runtime */
    refused(rt2, rc_dict_del(rt2, d, a));
    assert_null(rc_dict_pop(rt2, d, b));
    refused(rt2, RC_EINVAL);
    dict_is_ab(rt, d);

    /* lookups accept a key of rt2 (it only reads) */
    assert_ptr_equal(rc_dict_get(rt, d, fa), v1);
    assert_int_equal(rc_dict_find(rt, d, fa, &out), 1);
    assert_int_equal(rc_dict_contains(rt, d, fk), 0);
    assert_null(rc_dict_get(rt, d, fk));
    assert_int_equal(rc_error(rt), RC_EKEY);          /* read after rt2 is gone */

    /* static small ints belong to no runtime: accepted as keys and values */
    rc_obj *s5 = rc_int(rt2, 5), *s7 = rc_int(rt2, 7);
    assert_non_null(s7);
    assert_ptr_equal(s5, rc_int(rt, 5));
    assert_int_equal(rc_dict_set(rt, d, s5, s7), 0);
    assert_int_equal(rc_dict_setdefault(rt, d, s7, s5, &out), 0);
    assert_int_equal(rc_dict_incr(rt, d, s5, 1, 0, &res), 0);
    assert_int_equal(res, 8);
    assert_int_equal(rc_dict_set_str(rt, d, "c", s7), 0);
    assert_int_equal(rc_dict_len(d), 5);

    rc_decref(fk);
    rc_decref(fa);
    rc_decref(fv);
    rc_runtime_free(rt2);

    /* rt works on after rt2 is gone */
    assert_string_equal(rc_error_message(rt), "key not found: 'foreign'");
    rc_error_clear(rt);
    assert_int_equal(rc_dict_del(rt, d, s5), 0);
    assert_int_equal(rc_dict_del(rt, d, s7), 0);
    rc_obj *c = rc_str(rt, "c");
    assert_int_equal(rc_dict_del(rt, d, c), 0);
    rc_decref(c);
    dict_is_ab(rt, d);
    assert_int_equal(rc_dict_incr(rt, d, a, 1, 0, &res), 0);
    assert_int_equal(res, 1001);
    assert_int_equal(rc_gc_collect(rt, 2) >= 0, 1);
    rc_decref(a);
    rc_decref(b);
    rc_decref(v1);
    rc_decref(v2);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* s holds exactly the ints 1000..1000+n-1 of rt. */
static void set_is(rc_runtime *rt, rc_obj *s, int64_t n) {
    assert_int_equal(rc_set_len(s), (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        rc_obj *k = rc_int(rt, 1000 + i);
        assert_int_equal(rc_set_contains(rt, s, k), 1);
        rc_decref(k);
    }
}

static void test_set_refuses(void **state) {
    (void)state;
    rc_runtime *rt = new_rt(), *rt2 = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt), *t = rc_set(rt);
    for (int64_t i = 0; i < 3; i++) {
        rc_obj *k = rc_int(rt, 1000 + i);
        assert_int_equal(rc_set_add(rt, s, k), 0);
        assert_int_equal(rc_set_add(rt, t, k), 0);
        rc_decref(k);
    }
    rc_obj *fk = rc_int(rt2, 1000), *fk2 = rc_int(rt2, 99999);
    rc_obj *fs = rc_set(rt2);
    assert_int_equal(rc_set_add(rt2, fs, fk2), 0);
    rc_obj *k0 = rc_int(rt, 1000);

    refused(rt, rc_set_add(rt, s, fk));             /* equal to a present key */
    refused(rt, rc_set_add(rt, s, fk2));
    refused(rt2, rc_set_add(rt2, s, k0));           /* set passed with rt2 */
    refused(rt2, rc_set_add(rt2, s, fk2));
    refused(rt2, rc_set_discard(rt2, s, k0));
    set_is(rt, s, 3);
    /* the algebra: an operand of the other runtime, or both with rt2 */
    size_t objects = rc_runtime_object_count(rt);
    assert_null(rc_set_union(rt, s, fs));
    refused(rt, RC_EINVAL);
    assert_null(rc_set_union(rt, fs, s));
    refused(rt, RC_EINVAL);
    assert_null(rc_set_intersection(rt, s, fs));
    refused(rt, RC_EINVAL);
    assert_null(rc_set_difference(rt, fs, t));
    refused(rt, RC_EINVAL);
    assert_null(rc_set_union(rt2, s, t));
    refused(rt2, RC_EINVAL);
    assert_int_equal(rc_runtime_object_count(rt), objects);   /* no result was made */
    set_is(rt, s, 3);
    /* lookups read only: a key of rt2 will do */
    assert_int_equal(rc_set_contains(rt, s, fk), 1);
    /* static small ints are accepted */
    rc_obj *s9 = rc_int(rt2, 9);
    assert_int_equal(rc_set_add(rt, s, s9), 0);
    assert_int_equal(rc_set_discard(rt, s, s9), 1);

    rc_decref(fk);
    rc_decref(fk2);
    rc_decref(fs);
    rc_runtime_free(rt2);

    rc_obj *u = rc_set_union(rt, s, t);
    assert_non_null(u);
    set_is(rt, u, 3);
    rc_obj *k9 = rc_int(rt, 1003);
    assert_int_equal(rc_set_add(rt, s, k9), 0);
    set_is(rt, s, 4);
    rc_decref(k9);
    rc_decref(u);
    rc_decref(k0);
    rc_decref(s);
    rc_decref(t);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_weakvaluedict_refuses(void **state) {
    (void)state;
    rc_runtime *rt = new_rt(), *rt2 = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    rc_obj *k = rc_str(rt, "k"), *v = rc_list(rt);
    assert_int_equal(rc_weakvaluedict_set(rt, d, k, v), 0);
    rc_obj *fk = rc_str(rt2, "fk"), *fv = rc_list(rt2);

    refused(rt, rc_weakvaluedict_set(rt, d, fk, v));
    refused(rt, rc_weakvaluedict_set(rt, d, k, fv));    /* a present key */
    refused(rt, rc_weakvaluedict_set(rt, d, fk, fv));
    refused(rt2, rc_weakvaluedict_set(rt2, d, k, v));
    refused(rt2, rc_weakvaluedict_del(rt2, d, k));
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    assert_ptr_equal(rc_weakvaluedict_get(rt, d, k), v);
    assert_int_equal(rc_weakref_count(fv), 0);          /* no weak reference was made */
    /* a lookup with a key of rt2 reads only */
    rc_obj *fk_same = rc_str(rt2, "k");
    assert_ptr_equal(rc_weakvaluedict_get(rt, d, fk_same), v);
    rc_decref(fk_same);

    rc_decref(fk);
    rc_decref(fv);
    rc_runtime_free(rt2);

    rc_obj *v2 = rc_list(rt);
    assert_int_equal(rc_weakvaluedict_set(rt, d, k, v2), 0);
    assert_ptr_equal(rc_weakvaluedict_get(rt, d, k), v2);
    rc_decref(v2);                                      /* the entry vanishes */
    assert_int_equal(rc_weakvaluedict_len(d), 0);
    rc_decref(v);
    rc_decref(k);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dict_refuses),
        cmocka_unit_test(test_set_refuses),
        cmocka_unit_test(test_weakvaluedict_refuses),
    };
    return rct_run_tests(tests, NULL, NULL);
}
