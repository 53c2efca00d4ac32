/* rc-test: misuse */
/* test_misuse.c - mistakes a user makes with the object API, each caught
 * with a clear error and without changing anything:
 *
 *   - objects of two runtimes mixed: every list and tuple insertion and
 *     every weak reference refuses another runtime's object (or container),
 *     the container is unchanged, and freeing the other runtime afterwards
 *     leaves nothing dangling (the dict, set and weak-value dict paths are
 *     in their own tests);
 *   - weak references to immortal objects (small ints, interned strs, the
 *     empty tuple) are refused with RC_ETYPE; any mortal object, of any
 *     type, may be weakly referenced;
 *   - in debug mode, one misuse (a freed container passed to a call) is
 *     reported exactly once;
 *   - with debug mode off, a double decref of any kind of object is
 *     reported once and not applied;
 *   - rc_error_set returns the code it records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

typedef struct point { rc_obj ob; double x, y; } point;
static const rc_type point_type = { .name = "point", .size = sizeof(point) };

static rc_runtime *new_rt(int debug) {
    rc_config c;
    rc_config_init(&c);
    c.debug = debug;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    return rt;
}

static void assert_refused(rc_runtime *rt, int r) {
    assert_int_equal(r, RC_EINVAL);
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_non_null(strstr(rc_error_message(rt), "another runtime"));
    rc_error_clear(rt);
}

static void test_list_refuses_other_runtime(void **state) {
    (void)state;
    rc_runtime *rt1 = new_rt(0), *rt2 = new_rt(0);
    rc_obj *l1 = rc_list(rt1), *l2 = rc_list(rt2);
    rc_obj *mine = rc_float(rt1, 1.5), *theirs = rc_str(rt2, "not yours");
    rc_obj *their_point = rc_new(rt2, &point_type);
    assert_non_null(l1);
    assert_non_null(l2);
    assert_non_null(mine);
    assert_non_null(theirs);
    assert_non_null(their_point);
    assert_int_equal(rc_list_append(rt1, l1, mine), 0);
    assert_int_equal(rc_list_append(rt2, l2, theirs), 0);

    assert_refused(rt1, rc_list_append(rt1, l1, theirs));
    assert_refused(rt1, rc_list_append(rt1, l1, their_point));
    assert_refused(rt1, rc_list_insert(rt1, l1, 0, theirs));
    assert_refused(rt1, rc_list_set(rt1, l1, 0, theirs));
    assert_refused(rt1, rc_list_extend(rt1, l1, l2));
    /* the container of another runtime, even with a matching item */
    assert_refused(rt1, rc_list_append(rt1, l2, mine));
    assert_refused(rt1, rc_list_append(rt1, l2, theirs));
    assert_int_equal(rc_list_len(l1), 1);
    assert_ptr_equal(rc_list_get(rt1, l1, 0), mine);
    assert_int_equal(rc_list_len(l2), 1);
    assert_int_equal(rc_refcount(theirs), 2);        /* ours + l2's */

    /* static small ints belong to no runtime: accepted everywhere */
    rc_obj *five = rc_int(rt2, 5);
    assert_int_equal(rc_list_append(rt1, l1, five), 0);
    assert_int_equal(rc_list_len(l1), 2);

    /* freeing the other runtime leaves l1 whole */
    rc_decref(theirs);
    rc_decref(their_point);
    rc_decref(l2);
    rc_runtime_free(rt2);
    assert_int_equal(rc_list_len(l1), 2);
    assert_true(rc_float_value(rc_list_get(rt1, l1, 0)) == 1.5);
    assert_int_equal(rc_int_value(rc_list_get(rt1, l1, 1)), 5);
    rc_decref(mine);
    rc_decref(l1);
    assert_int_equal(rc_runtime_object_count(rt1), 0);
    rc_runtime_free(rt1);
}

static void test_tuple_refuses_other_runtime(void **state) {
    (void)state;
    rc_runtime *rt1 = new_rt(0), *rt2 = new_rt(0);
    rc_obj *mine = rc_float(rt1, 2.5), *theirs = rc_float(rt2, 3.5);
    size_t before = rc_runtime_object_count(rt1);
    assert_null(rc_tuple(rt1, 2, mine, theirs));
    assert_refused(rt1, rc_error(rt1));
    rc_obj *items[2] = { theirs, mine };
    assert_null(rc_tuple_from(rt1, 2, items));
    assert_refused(rt1, rc_error(rt1));
    assert_int_equal(rc_runtime_object_count(rt1), before);   /* nothing made */
    assert_int_equal(rc_refcount(theirs), 1);
    rc_obj *t = rc_tuple(rt1, 2, mine, rc_int(rt1, 7));
    assert_non_null(t);
    rc_decref(t);
    rc_decref(theirs);
    rc_decref(mine);
    rc_runtime_free(rt2);
    assert_int_equal(rc_runtime_object_count(rt1), 0);
    rc_runtime_free(rt1);
}

static void test_weakref_refuses_other_runtime(void **state) {
    (void)state;
    rc_runtime *rt1 = new_rt(0), *rt2 = new_rt(0);
    rc_obj *theirs = rc_float(rt2, 1.0);
    assert_null(rc_weakref_new(rt1, theirs, NULL, NULL));
    assert_refused(rt1, rc_error(rt1));
    assert_int_equal(rc_weakref_count(theirs), 0);
    rc_decref(theirs);
    rc_runtime_free(rt2);
    rc_runtime_free(rt1);
}

static void cb_count(rc_obj *ref, void *arg) {
    (void)ref;
    (*(int *)arg)++;
}

static void test_weakref_immortal_refused(void **state) {
    (void)state;
    rc_runtime *rt = new_rt(0);
    rc_obj *small = rc_int(rt, 42);
    rc_obj *interned = rc_str_intern(rt, "interned");
    rc_obj *empty = rc_tuple(rt, 0);
    assert_non_null(interned);
    assert_non_null(empty);
    rc_obj *immortals[] = { small, interned, empty };
    for (size_t i = 0; i < sizeof immortals / sizeof immortals[0]; i++) {
        assert_true(rc_is_immortal(immortals[i]));
        assert_null(rc_weakref_new(rt, immortals[i], NULL, NULL));
        assert_int_equal(rc_error(rt), RC_ETYPE);
        assert_non_null(strstr(rc_error_message(rt), "immortal"));
        rc_error_clear(rt);
    }
    /* mortal objects of every kind may be weakly referenced */
    int called = 0;
    rc_obj *mortal[] = { rc_int(rt, 1000000), rc_str(rt, "not interned"), rc_float(rt, 0.5),
                         rc_list(rt), rc_dict(rt), rc_new(rt, &point_type) };
    for (size_t i = 0; i < sizeof mortal / sizeof mortal[0]; i++) {
        assert_non_null(mortal[i]);
        rc_obj *w = rc_weakref_new(rt, mortal[i], cb_count, &called);
        assert_non_null(w);
        assert_ptr_equal(rc_weakref_get(w), mortal[i]);
        rc_decref(mortal[i]);
        assert_null(rc_weakref_get(w));
        rc_decref(w);
    }
    assert_int_equal(called, (int)(sizeof mortal / sizeof mortal[0]));
    rc_decref(empty);
    rc_decref(small);
    assert_int_equal(rc_runtime_object_count(rt), 1);           /* the interned str */
    rc_runtime_free(rt);
}

static int g_reports;
static char g_last_report[256];
static void count_report(rc_runtime *rt, const char *message, void *arg) {
    (void)rt;
    (void)arg;
    g_reports++;
    snprintf(g_last_report, sizeof g_last_report, "%s", message);
}

static void test_debug_reports_misuse_once(void **state) {
    (void)state;
    rc_runtime *rt = new_rt(1);
    rc_runtime_set_debug_handler(rt, count_report, NULL);
    g_reports = 0;
    rc_obj *l = rc_list(rt), *item = rc_float(rt, 1.0);
    rc_decref(l);                                   /* freed; quarantined */
    size_t errors = rc_runtime_debug_errors(rt);
    assert_int_equal(rc_list_append(rt, l, item), RC_ESTATE);
    assert_int_equal(g_reports, 1);
    assert_int_equal(rc_runtime_debug_errors(rt), errors + 1);
    assert_non_null(strstr(g_last_report, "freed"));
    assert_int_equal(rc_error(rt), RC_ESTATE);
    rc_error_clear(rt);
    /* a freed item (not the container): also once */
    rc_obj *l2 = rc_list(rt);
    rc_obj *dead = rc_float(rt, 2.0);
    rc_decref(dead);
    assert_int_equal(rc_list_append(rt, l2, dead), RC_ESTATE);
    assert_int_equal(g_reports, 2);
    assert_int_equal(rc_runtime_debug_errors(rt), errors + 2);
    assert_int_equal(rc_list_len(l2), 0);
    rc_error_clear(rt);
    rc_decref(l2);
    rc_decref(item);
    rc_runtime_free(rt);
}

/* A double decref with debug mode off: for every kind of object (a str,
 * plain, variable-sized and container user types) the second decref is
 * reported once and not applied, the block is not corrupted (the next two
 * objects are distinct and usable) and the runtime frees cleanly. */
typedef struct vec3 { rc_obj ob; size_t n; double v[]; } vec3;
typedef struct gpair { rc_obj ob; rc_obj *a, *b; } gpair;
static int gpair_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    gpair *p = (gpair *)self;
    if (p->a && visit(p->a, arg))
        return 1;
    return p->b ? visit(p->b, arg) : 0;
}
static const rc_type vec3_type = { .name = "vec3", .size = sizeof(vec3), .itemsize = sizeof(double) };
static const rc_type gpair_type = { .name = "gpair", .size = sizeof(gpair), .flags = RC_TYPE_GC,
                                    .traverse = gpair_traverse };

static rc_obj *make_kind(rc_runtime *rt, int kind) {
    switch (kind) {
    case 0: return rc_str(rt, "a str of some length");
    case 1: return rc_new(rt, &point_type);
    case 2: return rc_new_var(rt, &vec3_type, 3);
    default: return rc_new(rt, &gpair_type);
    }
}

static void test_double_decref_release_mode(void **state) {
    (void)state;
    for (int kind = 0; kind < 4; kind++) {
        rc_runtime *rt = new_rt(0);
        rc_runtime_set_debug_handler(rt, count_report, NULL);
        g_reports = 0;
        size_t errors = rc_runtime_debug_errors(rt);
        rc_obj *o = make_kind(rt, kind);
        assert_non_null(o);
        rc_decref(o);
        rc_decref(o);                         /* the mistake */
        assert_int_equal(g_reports, 1);
        assert_int_equal(rc_runtime_debug_errors(rt), errors + 1);
        assert_non_null(strstr(g_last_report, "freed"));
        rc_incref(o);                         /* an incref after free: reported too */
        assert_int_equal(g_reports, 2);
        rc_obj *p = make_kind(rt, kind), *q = make_kind(rt, kind);
        assert_non_null(p);
        assert_non_null(q);
        assert_ptr_not_equal(p, q);
        assert_int_equal(rc_refcount(p), 1);
        assert_int_equal(rc_refcount(q), 1);
        assert_int_equal(rc_runtime_object_count(rt), 2);
        rc_decref(p);
        rc_decref(q);
        assert_int_equal(rc_runtime_object_count(rt), 0);
        assert_int_equal(g_reports, 2);
        rc_runtime_free(rt);
    }
}

static void test_error_set_returns_code(void **state) {
    (void)state;
    rc_runtime *rt = new_rt(0);
    assert_int_equal(rc_error_set(rt, RC_EKEY, "missing %s", "thing"), RC_EKEY);
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_string_equal(rc_error_message(rt), "missing thing");
    assert_int_equal(rc_error_set(rt, -1000, "mine"), -1000);   /* a user's own code */
    assert_int_equal(rc_error(rt), -1000);
    /* not an error code: RC_EINVAL recorded and returned, naming the code */
    assert_int_equal(rc_error_set(rt, 42, "x"), RC_EINVAL);
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_non_null(strstr(rc_error_message(rt), "42"));
    assert_int_equal(rc_error_set(rt, 0, "zero"), RC_EINVAL);
    rc_error_clear(rt);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_refuses_other_runtime),
        cmocka_unit_test(test_tuple_refuses_other_runtime),
        cmocka_unit_test(test_weakref_refuses_other_runtime),
        cmocka_unit_test(test_weakref_immortal_refused),
        cmocka_unit_test(test_debug_reports_misuse_once),
        cmocka_unit_test(test_double_decref_release_mode),
        cmocka_unit_test(test_error_set_returns_code),
    };
    return rct_run_tests(tests, NULL, NULL);
}
