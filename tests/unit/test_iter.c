/* test_iter.c - rc_iter over lists, tuples and arrays (and the dispatch to
 * dicts, sets and weak-value dicts, whose own iteration tests live with
 * them): every item once and in order, RC_ESTATE after any modification,
 * RC_ETYPE / RC_EINVAL for misuse, and no allocation at all while
 * iterating. Black-box. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

static rc_runtime *new_rt(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    return rt;
}

static void push_int(rc_runtime *rt, rc_obj *list, int64_t v) {
    rc_obj *o = rc_int(rt, v);
    assert_non_null(o);
    assert_int_equal(rc_list_append(rt, list, o), 0);
    rc_decref(o);
}

static void test_list_iteration(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt);
    rc_iter it;
    rc_obj *item = NULL;

    rc_iter_init(&it, l);                        /* empty */
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);

    size_t n = rct_scaled(100000, 1000);
    for (size_t i = 0; i < n; i++)
        push_int(rt, l, (int64_t)i + 1000);
    size_t objs = rc_runtime_object_count(rt), bufs = rc_runtime_buffer_bytes(rt);
    rc_runtime_fail_after(rt, 0);                /* any allocation would fail */
    rc_iter_init(&it, l);
    size_t count = 0;
    int r;
    while ((r = rc_iter_next(rt, &it, &item)) == 1) {
        assert_int_equal(rc_int_value(item), (int64_t)count + 1000);
        assert_int_equal(rc_refcount(item), 1);   /* borrowed */
        /* reading the list does not disturb the iterator */
        assert_ptr_equal(rc_list_get(rt, l, count), item);
        count++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(count, n);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);   /* stays at the end */
    assert_int_equal(rc_runtime_fail_after(rt, -1), 0);  /* nothing tried to allocate */
    assert_int_equal(rc_runtime_object_count(rt), objs);
    assert_int_equal(rc_runtime_buffer_bytes(rt), bufs);

    /* two independent iterators */
    rc_iter a, b;
    rc_iter_init(&a, l);
    rc_iter_init(&b, l);
    rc_obj *x, *y;
    assert_int_equal(rc_iter_next(rt, &a, &x), 1);
    assert_int_equal(rc_iter_next(rt, &a, &x), 1);
    assert_int_equal(rc_iter_next(rt, &b, &y), 1);
    assert_int_equal(rc_int_value(x), 1001);
    assert_int_equal(rc_int_value(y), 1000);
    rc_decref(l);
    rc_runtime_free(rt);
}

/* Each way of changing a list, applied mid-iteration. */
static void mutate(rc_runtime *rt, rc_obj *l, int how) {
    rc_obj *o;
    switch (how) {
    case 0: push_int(rt, l, 9999999); break;
    case 1: o = rc_int(rt, 8888888); assert_int_equal(rc_list_set(rt, l, 0, o), 0); rc_decref(o); break;
    case 2: o = rc_list_pop(rt, l); assert_non_null(o); rc_decref(o); break;
    case 3: assert_int_equal(rc_list_del(rt, l, 0), 0); break;
    case 4: o = rc_int(rt, 7777777); assert_int_equal(rc_list_insert(rt, l, 0, o), 0); rc_decref(o); break;
    case 5: rc_list_reverse(l); break;
    case 6: assert_int_equal(rc_list_sort(rt, l, NULL, NULL), 0); break;
    case 7: assert_int_equal(rc_list_extend(rt, l, l), 0); break;
    case 8: rc_list_clear(l); break;
    case 9: o = rc_list_pop_at(rt, l, 1); assert_non_null(o); rc_decref(o); break;
    default: fail();
    }
}
#define NMUTATIONS 10

static void test_list_modified_during_iteration(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    for (int how = 0; how < NMUTATIONS; how++) {
        rc_obj *l = rc_list(rt);
        for (int i = 0; i < 10; i++)
            push_int(rt, l, 1000 + i);
        rc_iter it;
        rc_obj *item;
        rc_iter_init(&it, l);
        assert_int_equal(rc_iter_next(rt, &it, &item), 1);
        assert_int_equal(rc_iter_next(rt, &it, &item), 1);
        mutate(rt, l, how);
        rc_error_clear(rt);
        assert_int_equal(rc_iter_next(rt, &it, &item), RC_ESTATE);
        assert_int_equal(rc_error(rt), RC_ESTATE);
        assert_true(strlen(rc_error_message(rt)) > 0);
        assert_int_equal(rc_iter_next(rt, &it, &item), RC_ESTATE);   /* and stays so */
        /* a fresh iterator is fine */
        rc_iter_init(&it, l);
        size_t count = 0;
        while (rc_iter_next(rt, &it, &item) == 1)
            count++;
        assert_int_equal(count, rc_list_len(l));
        rc_decref(l);
    }
    /* a failed operation changes nothing, so iteration goes on */
    rc_obj *l = rc_list(rt);
    push_int(rt, l, 1);
    rc_iter it;
    rc_obj *item;
    rc_iter_init(&it, l);
    assert_int_equal(rc_list_set(rt, l, 5, l), RC_EINDEX);
    assert_null(rc_list_pop_at(rt, l, 5));
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);
    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_tuple_iteration(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *a = rc_int(rt, 100001), *b = rc_str(rt, "b"), *c = rc_float(rt, 2.5);
    rc_obj *t = rc_tuple(rt, 3, a, b, c);
    assert_non_null(t);
    rc_iter it;
    rc_obj *item;
    rc_iter_init(&it, t);
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_ptr_equal(item, a);
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_ptr_equal(item, b);
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_ptr_equal(item, c);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);
    assert_int_equal(rc_refcount(a), 2);
    rc_obj *e = rc_tuple(rt, 0);
    rc_iter_init(&it, e);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);
    rc_decref(e);
    rc_decref(t);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_array_iteration(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *a = rc_array(rt, RC_ARRAY_I32);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rc_array_append_i64(rt, a, i * 7 - 300), 0);
    rc_iter it;
    int64_t v;
    double d;
    rc_obj *item;

    /* arrays hold numbers, not objects */
    rc_iter_init(&it, a);
    assert_int_equal(rc_iter_next(rt, &it, &item), RC_ETYPE);
    assert_int_equal(rc_error(rt), RC_ETYPE);

    rc_runtime_fail_after(rt, 0);
    rc_iter_init(&it, a);
    int count = 0, r;
    while ((r = rc_array_next_i64(rt, &it, &v)) == 1) {
        assert_int_equal(v, count * 7 - 300);
        count++;
    }
    assert_int_equal(r, 0);
    assert_int_equal(count, 100);
    rc_iter_init(&it, a);
    count = 0;
    while ((r = rc_array_next_f64(rt, &it, &d)) == 1) {
        assert_true(d == (double)(count * 7 - 300));
        count++;
    }
    assert_int_equal(count, 100);
    assert_int_equal(rc_runtime_fail_after(rt, -1), 0);

    /* modification: append and set */
    rc_iter_init(&it, a);
    assert_int_equal(rc_array_next_i64(rt, &it, &v), 1);
    assert_int_equal(rc_array_append_i64(rt, a, 1), 0);
    assert_int_equal(rc_array_next_i64(rt, &it, &v), RC_ESTATE);
    rc_iter_init(&it, a);
    assert_int_equal(rc_array_next_f64(rt, &it, &d), 1);
    assert_int_equal(rc_array_set_i64(rt, a, 50, 1), 0);
    assert_int_equal(rc_array_next_f64(rt, &it, &d), RC_ESTATE);
    /* a failed append changes nothing */
    rc_iter_init(&it, a);
    assert_int_equal(rc_array_append_i64(rt, a, INT64_MAX), RC_EOVERFLOW);
    assert_int_equal(rc_array_next_i64(rt, &it, &v), 1);

    /* a float item that is not an integer: RC_EINVAL, position kept, so
     * the caller can read it as a double */
    rc_obj *f = rc_array(rt, RC_ARRAY_F64);
    assert_int_equal(rc_array_append_f64(rt, f, 1.0), 0);
    assert_int_equal(rc_array_append_f64(rt, f, 1.5), 0);
    rc_iter_init(&it, f);
    assert_int_equal(rc_array_next_i64(rt, &it, &v), 1);
    assert_int_equal(v, 1);
    assert_int_equal(rc_array_next_i64(rt, &it, &v), RC_EINVAL);
    assert_int_equal(rc_array_next_f64(rt, &it, &d), 1);
    assert_true(d == 1.5);
    assert_int_equal(rc_array_next_f64(rt, &it, &d), 0);

    /* empty */
    rc_obj *e = rc_array(rt, RC_ARRAY_U8);
    rc_iter_init(&it, e);
    assert_int_equal(rc_array_next_i64(rt, &it, &v), 0);
    rc_decref(e);
    rc_decref(f);
    rc_decref(a);
    rc_runtime_free(rt);
}

static void test_misuse(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt);
    rc_obj *i = rc_int(rt, 123456);
    rc_obj *s = rc_str(rt, "abc");
    rc_iter it;
    rc_obj *item, *k, *v;
    int64_t n;
    double d;

    rc_iter_init(NULL, l);                            /* ignored */
    rc_iter_init(&it, l);
    assert_int_equal(rc_iter_next(NULL, &it, &item), RC_EINVAL);
    assert_int_equal(rc_iter_next(rt, NULL, &item), RC_EINVAL);
    assert_int_equal(rc_iter_next(rt, &it, NULL), RC_EINVAL);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), RC_ETYPE);        /* not a dict */
    assert_int_equal(rc_array_next_i64(rt, &it, &n), RC_ETYPE);       /* not an array */
    assert_int_equal(rc_array_next_f64(rt, &it, &d), RC_ETYPE);
    assert_int_equal(rc_array_next_i64(NULL, &it, &n), RC_EINVAL);
    assert_int_equal(rc_array_next_i64(rt, NULL, &n), RC_EINVAL);
    assert_int_equal(rc_array_next_i64(rt, &it, NULL), RC_EINVAL);
    assert_int_equal(rc_dict_next(NULL, &it, &k, &v), RC_EINVAL);
    assert_int_equal(rc_dict_next(rt, NULL, &k, &v), RC_EINVAL);

    rc_iter_init(&it, NULL);
    assert_int_equal(rc_iter_next(rt, &it, &item), RC_EINVAL);
    assert_int_equal(rc_array_next_i64(rt, &it, &n), RC_EINVAL);
    rc_iter_init(&it, i);                             /* not a container */
    rc_error_clear(rt);
    assert_int_equal(rc_iter_next(rt, &it, &item), RC_ETYPE);
    assert_int_equal(rc_error(rt), RC_ETYPE);
    rc_iter_init(&it, s);
    assert_int_equal(rc_iter_next(rt, &it, &item), RC_ETYPE);

    rc_decref(s);
    rc_decref(i);
    rc_decref(l);
    rc_runtime_free(rt);
}

/* iter.c only dispatches for these; a smoke test of the routing */
static void test_dispatch_dict_set(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *d = rc_dict(rt), *st = rc_set(rt), *w = rc_weakvaluedict(rt);
    rc_obj *k1 = rc_str(rt, "one"), *k2 = rc_str(rt, "two");
    rc_obj *v1 = rc_int(rt, 100001), *v2 = rc_list(rt);
    assert_int_equal(rc_dict_set(rt, d, k1, v1), 0);
    assert_int_equal(rc_dict_set(rt, d, k2, v2), 0);
    assert_int_equal(rc_set_add(rt, st, k1), 0);
    assert_int_equal(rc_weakvaluedict_set(rt, w, k2, v2), 0);

    rc_iter it;
    rc_obj *item, *key, *value;
    rc_iter_init(&it, d);                             /* keys, in insertion order */
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_ptr_equal(item, k1);
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_ptr_equal(item, k2);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);
    rc_iter_init(&it, d);
    assert_int_equal(rc_dict_next(rt, &it, &key, &value), 1);
    assert_ptr_equal(key, k1);
    assert_ptr_equal(value, v1);
    assert_int_equal(rc_dict_next(rt, &it, NULL, &value), 1);   /* outputs optional */
    assert_ptr_equal(value, v2);
    assert_int_equal(rc_dict_next(rt, &it, &key, NULL), 0);
    rc_iter_init(&it, d);
    assert_int_equal(rc_dict_next(rt, &it, &key, &value), 1);
    assert_int_equal(rc_dict_del(rt, d, k2), 0);
    assert_int_equal(rc_dict_next(rt, &it, &key, &value), RC_ESTATE);
    assert_int_equal(rc_array_next_i64(rt, &it, &(int64_t){ 0 }), RC_ETYPE);

    rc_iter_init(&it, st);
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_ptr_equal(item, k1);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);
    assert_int_equal(rc_dict_next(rt, &it, &key, &value), RC_ETYPE);
    rc_iter_init(&it, st);
    assert_int_equal(rc_set_add(rt, st, k2), 0);
    assert_int_equal(rc_iter_next(rt, &it, &item), RC_ESTATE);

    rc_iter_init(&it, w);
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_ptr_equal(item, k2);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);
    assert_int_equal(rc_dict_next(rt, &it, &key, &value), RC_ETYPE);

    rc_decref(w);
    rc_decref(st);
    rc_decref(d);
    rc_decref(k1);
    rc_decref(k2);
    rc_decref(v1);
    rc_decref(v2);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_iteration),
        cmocka_unit_test(test_list_modified_during_iteration),
        cmocka_unit_test(test_tuple_iteration),
        cmocka_unit_test(test_array_iteration),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_dispatch_dict_set),
    };
    return rct_run_tests(tests, NULL, NULL);
}
