/* rc-test: oom */
/* test_tuple.c - tuple: construction (varargs and array), item ownership
 * (references taken and dropped), the static empty tuple, index and argument
 * errors, Python's hashing (equal tuples hash alike across int/float, an
 * unhashable item makes the tuple unhashable), itemwise equality, repr, and
 * the GC slots (traverse visits the items, clear drops them and everything
 * else tolerates the cleared tuple). Black-box: public headers only. */
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

static uint64_t hash_of(rc_runtime *rt, rc_obj *o) {
    uint64_t h = 0;
    assert_int_equal(rc_hash(rt, o, &h), 0);
    return h;
}

static void check_repr(rc_runtime *rt, rc_obj *o, const char *want) {
    char buf[256];
    int n = rc_repr(rt, o, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

/* A user type without hash (unhashable, like a list) and without equal. */
typedef struct thing { rc_obj ob; int v; } thing;
static const rc_type thing_type = { .name = "thing", .size = sizeof(thing) };

static void test_create_and_own(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *a = rc_int(rt, 1000), *b = rc_str(rt, "b"), *c = rc_float(rt, 2.5);
    rc_obj *t = rc_tuple(rt, 3, a, b, c);
    assert_non_null(t);
    assert_true(rc_is_tuple(t));
    assert_string_equal(rc_type_name(t), "tuple");
    assert_int_equal(rc_tuple_len(t), 3);
    assert_ptr_equal(rc_tuple_get(rt, t, 0), a);   /* borrowed */
    assert_ptr_equal(rc_tuple_get(rt, t, 1), b);
    assert_ptr_equal(rc_tuple_get(rt, t, 2), c);
    assert_int_equal(rc_refcount(a), 2);
    assert_int_equal(rc_refcount(b), 2);
    assert_int_equal(rc_refcount(t), 1);
    assert_int_equal(rc_runtime_object_count(rt), base + 4);
    assert_true(rc_sizeof(t) >= 3 * sizeof(rc_obj *) + sizeof(rc_obj));

    /* the tuple keeps its items alive */
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    assert_int_equal(rc_refcount(a), 1);
    assert_int_equal(rc_int_value(rc_tuple_get(rt, t, 0)), 1000);
    assert_string_equal(rc_str_data(rc_tuple_get(rt, t, 1)), "b");
    rc_decref(t);
    assert_int_equal(rc_runtime_object_count(rt), base);

    /* rc_tuple_from, with the same object twice */
    rc_obj *x = rc_str(rt, "x");
    rc_obj *items[] = { x, x, rc_int(rt, 5) };
    rc_obj *u = rc_tuple_from(rt, 3, items);
    assert_non_null(u);
    assert_int_equal(rc_refcount(x), 3);
    assert_ptr_equal(rc_tuple_get(rt, u, 2), items[2]);
    rc_decref(u);
    assert_int_equal(rc_refcount(x), 1);
    rc_decref(x);

    /* nesting */
    rc_obj *in = rc_tuple(rt, 1, rc_int(rt, 1)), *out = rc_tuple(rt, 2, in, in);
    rc_decref(in);
    assert_int_equal(rc_refcount(in), 2);
    assert_int_equal(rc_tuple_len(rc_tuple_get(rt, out, 1)), 1);
    rc_decref(out);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_empty_tuple(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL), *rt2 = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *e = rc_tuple(rt, 0), *e2 = rc_tuple_from(rt, 0, NULL), *e3 = rc_tuple(rt2, 0);
    assert_non_null(e);
    assert_ptr_equal(e, e2);
    assert_ptr_equal(e, e3);   /* one static object for every runtime */
    assert_true(rc_is_tuple(e));
    assert_true(rc_is_immortal(e));
    assert_int_equal(rc_tuple_len(e), 0);
    assert_int_equal(rc_runtime_object_count(rt), base);   /* nothing allocated */
    size_t rc = rc_refcount(e);
    rc_decref(e);
    rc_decref(e);
    assert_int_equal(rc_refcount(e), rc);
    rc_error_clear(rt);
    assert_null(rc_tuple_get(rt, e, 0));
    assert_int_equal(rc_error(rt), RC_EINDEX);
    check_repr(rt, e, "()");
    rc_obj *e4 = rc_tuple(rt2, 0);
    assert_int_equal(rc_equal(rt, e, e4), 1);
    assert_true(hash_of(rt, e) == hash_of(rt2, e4));
    /* an empty tuple can be an item, and rc_runtime_free leaves it alone */
    rc_obj *t = rc_tuple(rt, 2, e, e);
    assert_ptr_equal(rc_tuple_get(rt, t, 0), e);
    check_repr(rt, t, "((), ())");
    rc_decref(t);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt2);
    rc_runtime_free(rt);
    assert_int_equal(rc_tuple_len(e), 0);
}

static void test_errors(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *a = rc_str(rt, "a");
    rc_obj *t = rc_tuple(rt, 2, a, a);

    rc_error_clear(rt);
    assert_null(rc_tuple_get(rt, t, 2));
    assert_int_equal(rc_error(rt), RC_EINDEX);
    assert_non_null(strstr(rc_error_message(rt), "out of range"));
    rc_error_clear(rt);
    assert_null(rc_tuple_get(rt, t, SIZE_MAX));
    assert_int_equal(rc_error(rt), RC_EINDEX);
    rc_error_clear(rt);
    assert_null(rc_tuple_get(rt, a, 0));                /* not a tuple */
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_non_null(strstr(rc_error_message(rt), "str"));
    rc_error_clear(rt);
    assert_null(rc_tuple_get(rt, NULL, 0));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_tuple_get(NULL, t, 0));
    assert_int_equal(rc_tuple_len(a), 0);
    assert_int_equal(rc_tuple_len(NULL), 0);
    assert_false(rc_is_tuple(a));
    assert_false(rc_is_tuple(NULL));

    /* a NULL item: nothing created, no reference taken */
    size_t now = rc_runtime_object_count(rt);
    rc_error_clear(rt);
    assert_null(rc_tuple(rt, 3, a, NULL, a));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_int_equal(rc_refcount(a), 3);
    assert_int_equal(rc_runtime_object_count(rt), now);
    rc_obj *items[] = { a, NULL };
    rc_error_clear(rt);
    assert_null(rc_tuple_from(rt, 2, items));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_tuple_from(rt, 2, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_tuple(NULL, 1, a));
    assert_int_equal(rc_refcount(a), 3);
    assert_int_equal(rc_runtime_object_count(rt), now);

    rc_decref(t);
    rc_decref(a);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_hash_and_equal(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *one = rc_int(rt, 1), *two = rc_int(rt, 2), *onef = rc_float(rt, 1.0),
           *s = rc_str(rt, "s"), *s2 = rc_str(rt, "s");
    rc_obj *t12 = rc_tuple(rt, 2, one, two), *t12f = rc_tuple(rt, 2, onef, two),
           *t21 = rc_tuple(rt, 2, two, one), *t1 = rc_tuple(rt, 1, one),
           *ts = rc_tuple(rt, 2, s, t12), *ts2 = rc_tuple(rt, 2, s2, t12f);
    assert_int_equal(rc_equal(rt, t12, t12f), 1);   /* (1, 2) == (1.0, 2) */
    assert_true(hash_of(rt, t12) == hash_of(rt, t12f));
    assert_int_equal(rc_equal(rt, t12, t21), 0);
    assert_true(hash_of(rt, t12) != hash_of(rt, t21));   /* order matters */
    assert_int_equal(rc_equal(rt, t12, t1), 0);
    assert_true(hash_of(rt, t1) != hash_of(rt, t12));
    assert_int_equal(rc_equal(rt, ts, ts2), 1);      /* nested */
    assert_true(hash_of(rt, ts) == hash_of(rt, ts2));
    assert_int_equal(rc_equal(rt, t1, one), 0);      /* tuple vs int */
    assert_int_equal(rc_equal(rt, one, t1), 0);
    assert_int_equal(rc_equal(rt, t12, t12), 1);
    assert_true(hash_of(rt, t12) == hash_of(rt, t12));
    assert_true(hash_of(rt, t12) != (uint64_t)-1);

    /* an unhashable item makes the tuple unhashable; equality still works
     * (by identity, for a type without equal) */
    rc_obj *th = rc_new(rt, &thing_type);
    assert_non_null(th);
    rc_obj *tu = rc_tuple(rt, 2, one, th), *tu2 = rc_tuple(rt, 2, one, th);
    uint64_t h = 12345;
    rc_error_clear(rt);
    assert_int_equal(rc_hash(rt, tu, &h), RC_ETYPE);
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_int_equal(h, 12345);
    assert_int_equal(rc_equal(rt, tu, tu2), 1);
    rc_obj *nested = rc_tuple(rt, 1, tu);
    assert_int_equal(rc_hash(rt, nested, &h), RC_ETYPE);

    rc_obj *all[] = { onef, s, s2, t12, t12f, t21, t1, ts, ts2, th, tu, tu2, nested };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rc_decref(all[i]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_repr(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *one = rc_int(rt, 1), *s = rc_str(rt, "it's"), *f = rc_float(rt, 2.5),
           *b = rc_bytes(rt, "x", 1);
    rc_obj *t1 = rc_tuple(rt, 1, one), *t3 = rc_tuple(rt, 3, one, s, f),
           *tn = rc_tuple(rt, 2, t1, b);
    check_repr(rt, t1, "(1,)");
    check_repr(rt, t3, "(1, \"it's\", 2.5)");
    check_repr(rt, tn, "((1,), b'x')");
    /* truncation: the full length comes back, the prefix is clean */
    char buf[8];
    assert_int_equal(rc_repr(rt, t3, buf, sizeof buf), 16);
    assert_string_equal(buf, "(1, \"it");
    assert_true(strlen(buf) < sizeof buf);
    assert_int_equal(rc_repr(rt, t3, buf, 3), 16);
    assert_string_equal(buf, "(1");
    rc_obj *all[] = { s, f, b, t1, t3, tn };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rc_decref(all[i]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static int count_visit(rc_obj *child, void *arg) {
    (void)child;
    (*(int *)arg)++;
    return 0;
}

static int stop_visit(rc_obj *child, void *arg) {
    (void)child;
    (*(int *)arg)++;
    return 7;
}

static void test_gc_slots(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *a = rc_str(rt, "a"), *b = rc_int(rt, 123456);
    rc_obj *t = rc_tuple(rt, 3, a, b, a);
    const rc_type *ty = rc_typeof(t);
    assert_ptr_equal(ty, &rc_tuple_type);
    assert_true(ty->flags & RC_TYPE_GC);
    assert_non_null(ty->traverse);
    assert_non_null(ty->clear);
    int n = 0;
    assert_int_equal(ty->traverse(t, count_visit, &n), 0);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(ty->traverse(t, stop_visit, &n), 7);   /* a nonzero return stops */
    assert_int_equal(n, 1);

    /* clear drops the items (as the collector does to break a cycle) */
    ty->clear(t);
    assert_int_equal(rc_refcount(a), 1);
    assert_int_equal(rc_refcount(b), 1);
    n = 0;
    assert_int_equal(ty->traverse(t, count_visit, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(rc_tuple_len(t), 3);
    rc_error_clear(rt);
    assert_null(rc_tuple_get(rt, t, 0));
    assert_int_equal(rc_error(rt), RC_ESTATE);
    uint64_t h;
    assert_true(rc_hash(rt, t, &h) < 0);
    check_repr(rt, t, "(<cleared>, <cleared>, <cleared>)");
    ty->clear(t);   /* twice is harmless */
    rc_decref(t);   /* destroy tolerates the NULL items */
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Objects still referenced by tuples when the runtime goes are released. */
static void test_runtime_free_releases(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    rc_obj *prev = rc_tuple(rt, 0);
    for (int i = 0; i < 200; i++) {
        rc_obj *v = rc_int(rt, 1000 + i);
        rc_obj *t = rc_tuple(rt, 2, v, prev);
        assert_non_null(t);
        rc_decref(v);
        rc_decref(prev);
        prev = t;
    }
    assert_true(rc_runtime_object_count(rt) >= 400);
    rc_runtime_free(rt);   /* ASan / valgrind: nothing leaks */
}

/* A long chain is freed without deep recursion problems. */
static void test_long_chain(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *prev = rc_tuple(rt, 0);
    size_t n = rct_scaled(100000, 10000);
    for (size_t i = 0; i < n; i++) {
        rc_obj *t = rc_tuple(rt, 1, prev);
        assert_non_null(t);
        rc_decref(prev);
        prev = t;
    }
    rc_decref(prev);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Tuple construction with the N-th allocation failing: RC_ENOMEM, no
 * reference taken or leaked, for N = 0, 1, ... until nothing fails. */
static void test_out_of_memory(void **state) {
    (void)state;
    for (long n = 0;; n++) {
        rc_runtime *rt = rc_runtime_new(NULL);
        rc_obj *a = rc_str(rt, "a"), *b = rc_int(rt, 4242);
        size_t base = rc_runtime_object_count(rt);
        rc_runtime_fail_after(rt, n);
        rc_obj *items[] = { a, b, a };
        rc_obj *t1 = rc_tuple(rt, 2, a, b);
        rc_obj *t2 = rc_tuple_from(rt, 3, items);
        rc_obj *t3 = t1 && t2 ? rc_tuple(rt, 2, t1, t2) : NULL;
        rc_obj *t0 = rc_tuple(rt, 0);   /* static: never fails */
        assert_non_null(t0);
        rc_obj *made[] = { t1, t2, t3 };
        for (int i = 0; i < 3; i++)
            if (!made[i] && (i < 2 || (t1 && t2)))
                assert_int_equal(rc_error(rt), RC_ENOMEM);
        long failed = rc_runtime_fail_after(rt, -1);
        size_t refs_a = 1 + (t1 ? 1 : 0) + (t2 ? 2 : 0);
        assert_int_equal(rc_refcount(a), refs_a);
        for (int i = 0; i < 3; i++)
            rc_xdecref(made[i]);
        assert_int_equal(rc_refcount(a), 1);
        assert_int_equal(rc_runtime_object_count(rt), base);
        rc_decref(a);
        rc_decref(b);
        rc_runtime_free(rt);
        if (failed == 0) {
            assert_true(n >= 3);   /* the sweep did reach every allocation */
            break;
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_own),
        cmocka_unit_test(test_empty_tuple),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_hash_and_equal),
        cmocka_unit_test(test_repr),
        cmocka_unit_test(test_gc_slots),
        cmocka_unit_test(test_runtime_free_releases),
        cmocka_unit_test(test_long_chain),
        cmocka_unit_test(test_out_of_memory),
    };
    return rct_run_tests(tests, NULL, NULL);
}
