/* rc-test: misuse */
/* test_list.c - rc_list through the public API: every operation with its
 * errors and bad indexes, reference ownership (items survive removal when
 * the caller holds a reference and die otherwise), re-entrant destroys,
 * growth to a million items and back, self-extension, stable sorting and a
 * sort that fails or is disturbed (the list unchanged), index, equality,
 * repr (nesting, self-reference, truncation), sizing (CPython's sizes at
 * every length), iterators stopped by every kind of mutation, the stamp
 * wrapping without touching the capacity, out-of-memory (the list
 * unchanged) and use after free in debug mode. Black-box. */
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

/* ---- a plain user type whose deaths we count ---------------------------- */

typedef struct tok {
    rc_obj ob;
    long id;
} tok;

static int g_destroyed;
static void (*g_on_destroy)(tok *t);   /* runs inside destroy when set */

static void tok_destroy(rc_obj *self) {
    g_destroyed++;
    if (g_on_destroy)
        g_on_destroy((tok *)self);
}
static int tok_equal(rc_obj *a, rc_obj *b) {
    return rc_typeof(b) == rc_typeof(a) && ((tok *)a)->id == ((tok *)b)->id;
}
static int tok_repr(rc_obj *self, char *buf, size_t len) {
    return snprintf(buf, len, "tok%ld", ((tok *)self)->id);
}
static const rc_type tok_type = {
    .name = "tok", .size = sizeof(tok), .destroy = tok_destroy, .equal = tok_equal,
    .repr = tok_repr,
};

static rc_obj *new_tok(rc_runtime *rt, long id) {
    tok *t = (tok *)rc_new(rt, &tok_type);
    assert_non_null(t);
    t->id = id;
    return &t->ob;
}

static long tok_id(rc_obj *o) {
    assert_ptr_equal(rc_typeof(o), &tok_type);
    return ((tok *)o)->id;
}

static void reset(void) {
    g_destroyed = 0;
    g_on_destroy = NULL;
}

static rc_runtime *new_rt(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    reset();
    return rt;
}

/* Append a new reference (dropping ours). */
static void push(rc_runtime *rt, rc_obj *list, rc_obj *o) {
    assert_non_null(o);
    assert_int_equal(rc_list_append(rt, list, o), 0);
    rc_decref(o);
}

static int64_t int_at(rc_runtime *rt, rc_obj *list, size_t i) {
    rc_obj *o = rc_list_get(rt, list, i);
    assert_non_null(o);
    assert_true(rc_is_int(o));
    return rc_int_value(o);
}

/* ---- tests --------------------------------------------------------------- */

static void test_basic_ops(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *l = rc_list(rt);
    assert_non_null(l);
    assert_true(rc_is_list(l));
    assert_ptr_equal(rc_typeof(l), &rc_list_type);
    assert_int_equal(rc_list_len(l), 0);

    for (int i = 0; i < 5; i++)
        push(rt, l, rc_int(rt, 1000 + i));               /* [1000..1004] */
    assert_int_equal(rc_list_len(l), 5);
    assert_int_equal(int_at(rt, l, 0), 1000);
    assert_int_equal(int_at(rt, l, 4), 1004);

    /* insert: front, middle, past the end (appends) */
    push(rt, l, rc_int(rt, 1));
    assert_int_equal(rc_list_insert(rt, l, 0, rc_list_get(rt, l, 5)), 0);
    rc_obj *popped = rc_list_pop(rt, l);                  /* remove the appended 1 */
    assert_int_equal(rc_int_value(popped), 1);
    rc_decref(popped);
    rc_obj *x = rc_int(rt, 7);
    assert_int_equal(rc_list_insert(rt, l, 3, x), 0);
    assert_int_equal(rc_list_insert(rt, l, 1000000, x), 0);
    rc_decref(x);
    /* [1, 1000, 1001, 7, 1002, 1003, 1004, 7] */
    int64_t want[] = { 1, 1000, 1001, 7, 1002, 1003, 1004, 7 };
    assert_int_equal(rc_list_len(l), 8);
    for (size_t i = 0; i < 8; i++)
        assert_int_equal(int_at(rt, l, i), want[i]);

    /* set */
    rc_obj *y = rc_int(rt, -99999);
    assert_int_equal(rc_list_set(rt, l, 7, y), 0);
    assert_ptr_equal(rc_list_get(rt, l, 7), y);
    assert_int_equal(rc_refcount(y), 2);
    rc_decref(y);

    /* pop_at, del */
    rc_obj *p = rc_list_pop_at(rt, l, 0);
    assert_int_equal(rc_int_value(p), 1);
    rc_decref(p);
    assert_int_equal(rc_list_del(rt, l, 2), 0);          /* the 7 */
    /* [1000, 1001, 1002, 1003, 1004, -99999] */
    assert_int_equal(rc_list_len(l), 6);
    assert_int_equal(int_at(rt, l, 2), 1002);
    p = rc_list_pop(rt, l);
    assert_int_equal(rc_int_value(p), -99999);
    rc_decref(p);

    /* reverse */
    rc_list_reverse(l);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(int_at(rt, l, i), 1004 - (int64_t)i);

    /* index */
    rc_obj *k = rc_int(rt, 1001);
    assert_int_equal(rc_list_index(rt, l, k), 3);
    rc_decref(k);
    k = rc_float(rt, 1002.0);                            /* equal across types */
    assert_int_equal(rc_list_index(rt, l, k), 2);
    rc_decref(k);
    k = rc_int(rt, 5);
    assert_int_equal(rc_list_index(rt, l, k), RC_EKEY);
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_decref(k);

    /* clear */
    rc_list_clear(l);
    assert_int_equal(rc_list_len(l), 0);
    assert_null(rc_list_pop(rt, l));
    assert_int_equal(rc_error(rt), RC_EINDEX);
    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_errors(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt);
    rc_obj *s = rc_str(rt, "not a list");
    rc_obj *item = rc_int(rt, 3);
    push(rt, l, rc_int(rt, 1));

    /* NULL runtime: nothing to record on, never a crash */
    assert_null(rc_list(NULL));
    assert_null(rc_list_with_capacity(NULL, 4));
    assert_int_equal(rc_list_append(NULL, l, item), RC_EINVAL);
    assert_int_equal(rc_list_insert(NULL, l, 0, item), RC_EINVAL);
    assert_null(rc_list_get(NULL, l, 0));
    assert_int_equal(rc_list_set(NULL, l, 0, item), RC_EINVAL);
    assert_null(rc_list_pop(NULL, l));
    assert_null(rc_list_pop_at(NULL, l, 0));
    assert_int_equal(rc_list_del(NULL, l, 0), RC_EINVAL);
    assert_int_equal(rc_list_extend(NULL, l, l), RC_EINVAL);
    assert_int_equal(rc_list_sort(NULL, l, NULL, NULL), RC_EINVAL);
    assert_int_equal(rc_list_index(NULL, l, item), RC_EINVAL);
    assert_int_equal(rc_list_len(l), 1);

    /* NULL list */
    rc_error_clear(rt);
    assert_int_equal(rc_list_append(rt, NULL, item), RC_EINVAL);
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_list_get(rt, NULL, 0));
    assert_null(rc_list_pop(rt, NULL));
    assert_int_equal(rc_list_len(NULL), 0);
    rc_list_clear(NULL);
    rc_list_reverse(NULL);
    assert_false(rc_is_list(NULL));

    /* wrong type */
    rc_error_clear(rt);
    assert_int_equal(rc_list_append(rt, s, item), RC_ETYPE);
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_true(strlen(rc_error_message(rt)) > 0);
    assert_int_equal(rc_list_insert(rt, s, 0, item), RC_ETYPE);
    assert_null(rc_list_get(rt, s, 0));
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_int_equal(rc_list_set(rt, s, 0, item), RC_ETYPE);
    assert_null(rc_list_pop(rt, s));
    assert_null(rc_list_pop_at(rt, s, 0));
    assert_int_equal(rc_list_del(rt, s, 0), RC_ETYPE);
    assert_int_equal(rc_list_extend(rt, s, l), RC_ETYPE);
    assert_int_equal(rc_list_extend(rt, l, s), RC_ETYPE);   /* not a list/tuple */
    assert_int_equal(rc_list_sort(rt, s, NULL, NULL), RC_ETYPE);
    assert_int_equal(rc_list_index(rt, s, item), RC_ETYPE);
    assert_int_equal(rc_list_len(s), 0);
    rc_list_clear(s);                                       /* ignored */
    rc_list_reverse(s);
    assert_false(rc_is_list(s));
    assert_string_equal(rc_str_data(s), "not a list");

    /* NULL item */
    assert_int_equal(rc_list_append(rt, l, NULL), RC_EINVAL);
    assert_int_equal(rc_list_insert(rt, l, 0, NULL), RC_EINVAL);
    assert_int_equal(rc_list_set(rt, l, 0, NULL), RC_EINVAL);
    assert_int_equal(rc_list_extend(rt, l, NULL), RC_EINVAL);
    assert_int_equal(rc_list_index(rt, l, NULL), RC_EINVAL);

    /* bad indexes */
    rc_error_clear(rt);
    assert_null(rc_list_get(rt, l, 1));
    assert_int_equal(rc_error(rt), RC_EINDEX);
    assert_null(rc_list_get(rt, l, SIZE_MAX));
    assert_int_equal(rc_list_set(rt, l, 1, item), RC_EINDEX);
    assert_null(rc_list_pop_at(rt, l, 1));
    assert_int_equal(rc_error(rt), RC_EINDEX);
    assert_int_equal(rc_list_del(rt, l, 5), RC_EINDEX);
    assert_int_equal(rc_list_len(l), 1);
    assert_int_equal(int_at(rt, l, 0), 1);
    assert_int_equal(rc_refcount(item), 1);

    /* a successful call leaves the error as it was */
    assert_int_equal(rc_list_append(rt, l, item), 0);
    assert_int_equal(rc_error(rt), RC_EINDEX);

    /* lists are unhashable */
    uint64_t h;
    assert_int_equal(rc_hash(rt, l, &h), RC_ETYPE);

    rc_decref(item);
    rc_decref(s);
    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_ownership(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *l = rc_list(rt);
    rc_obj *kept = new_tok(rt, 1);
    assert_int_equal(rc_list_append(rt, l, kept), 0);    /* we keep our reference */
    assert_int_equal(rc_refcount(kept), 2);
    push(rt, l, new_tok(rt, 2));                          /* only the list holds it */
    push(rt, l, new_tok(rt, 3));
    push(rt, l, new_tok(rt, 4));
    assert_int_equal(rc_list_append(rt, l, kept), 0);    /* twice */
    assert_int_equal(rc_refcount(kept), 3);

    /* get borrows */
    rc_obj *b = rc_list_get(rt, l, 1);
    assert_int_equal(rc_refcount(b), 1);

    /* del: freed when nobody else holds it, survives otherwise */
    assert_int_equal(rc_list_del(rt, l, 1), 0);          /* tok2 */
    assert_int_equal(g_destroyed, 1);
    assert_int_equal(rc_list_del(rt, l, 0), 0);          /* kept: survives */
    assert_int_equal(g_destroyed, 1);
    assert_int_equal(rc_refcount(kept), 2);

    /* pop returns the list's reference */
    rc_obj *t3 = rc_list_pop_at(rt, l, 0);
    assert_int_equal(tok_id(t3), 3);
    assert_int_equal(rc_refcount(t3), 1);
    assert_int_equal(g_destroyed, 1);
    rc_decref(t3);
    assert_int_equal(g_destroyed, 2);

    /* set drops the old item (tok4) and takes a reference to the new */
    assert_int_equal(tok_id(rc_list_get(rt, l, 0)), 4);
    assert_int_equal(rc_list_set(rt, l, 0, kept), 0);
    assert_int_equal(g_destroyed, 3);
    assert_int_equal(rc_refcount(kept), 3);
    /* setting an item to itself keeps it alive */
    assert_int_equal(rc_list_set(rt, l, 0, kept), 0);
    assert_int_equal(rc_refcount(kept), 3);

    /* clear and destroy drop everything */
    rc_list_clear(l);
    assert_int_equal(rc_refcount(kept), 1);
    push(rt, l, new_tok(rt, 5));
    push(rt, l, new_tok(rt, 6));
    rc_decref(l);
    assert_int_equal(g_destroyed, 5);
    assert_int_equal(rc_refcount(kept), 1);
    rc_decref(kept);
    assert_int_equal(g_destroyed, 6);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* destroy callbacks that look at and change the list being modified */
static rc_runtime *g_rt;
static rc_obj *g_list;
static rc_obj *g_new_item;
static size_t g_seen_len;
static int g_reentered;

static void on_destroy_check_set(tok *t) {
    (void)t;
    /* the new item is already in place when the old one dies */
    g_seen_len = rc_list_len(g_list);
    if (rc_list_get(g_rt, g_list, 0) == g_new_item)
        g_reentered++;
    /* and the list may be changed from here */
    rc_obj *o = rc_int(g_rt, 424242);
    assert_int_equal(rc_list_append(g_rt, g_list, o), 0);
    rc_decref(o);
}

static void on_destroy_append(tok *t) {
    g_seen_len = rc_list_len(g_list);
    if (t->id == 1) {             /* once: the list is empty and usable */
        rc_obj *o = rc_int(g_rt, 777777);
        assert_int_equal(rc_list_append(g_rt, g_list, o), 0);
        rc_decref(o);
        g_reentered++;
    }
}

static void on_destroy_pop(tok *t) {
    (void)t;
    g_seen_len = rc_list_len(g_list);
    rc_obj *o = rc_list_pop(g_rt, g_list);   /* drop another item from inside */
    if (o) {
        g_reentered++;
        rc_decref(o);
    }
}

static void test_reentrant_destroy(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    g_rt = rt;
    g_list = rc_list(rt);

    /* set: the old item's destroy sees the new item and appends */
    push(rt, g_list, new_tok(rt, 1));
    g_new_item = rc_int(rt, 5555555);
    g_on_destroy = on_destroy_check_set;
    assert_int_equal(rc_list_set(rt, g_list, 0, g_new_item), 0);
    assert_int_equal(g_destroyed, 1);
    assert_int_equal(g_reentered, 1);
    assert_int_equal(g_seen_len, 1);
    assert_int_equal(rc_list_len(g_list), 2);
    assert_int_equal(int_at(rt, g_list, 1), 424242);
    rc_decref(g_new_item);
    rc_list_clear(g_list);

    /* clear: items die after the list is empty; a destroy may refill it */
    reset();
    g_reentered = 0;
    g_on_destroy = on_destroy_append;
    for (long i = 1; i <= 3; i++)
        push(rt, g_list, new_tok(rt, i));
    rc_list_clear(g_list);
    assert_int_equal(g_destroyed, 3);
    assert_int_equal(g_reentered, 1);
    assert_int_equal(rc_list_len(g_list), 1);
    assert_int_equal(int_at(rt, g_list, 0), 777777);
    rc_list_clear(g_list);

    /* del: a destroy that pops another item */
    reset();
    g_reentered = 0;
    g_on_destroy = on_destroy_pop;
    push(rt, g_list, new_tok(rt, 1));
    push(rt, g_list, rc_int(rt, 100000));
    push(rt, g_list, rc_int(rt, 200000));
    assert_int_equal(rc_list_del(rt, g_list, 0), 0);
    assert_int_equal(g_seen_len, 2);
    assert_int_equal(g_reentered, 1);
    assert_int_equal(rc_list_len(g_list), 1);
    assert_int_equal(int_at(rt, g_list, 0), 100000);

    /* destroying the list itself: items die after it is emptied */
    reset();
    g_on_destroy = NULL;
    push(rt, g_list, new_tok(rt, 9));
    rc_decref(g_list);
    assert_int_equal(g_destroyed, 1);
    g_list = NULL;
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_growth_million(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base_objs = rc_runtime_object_count(rt);
    size_t base_buf = rc_runtime_buffer_bytes(rt);
    size_t n = rct_scaled(1000000, 20000);
    rc_obj *l = rc_list(rt);
    size_t empty = rc_sizeof(l);

    /* CPython's first steps: 0 -> 4 -> 8 -> 16 slots */
    rc_obj *one = rc_str(rt, "item");
    assert_int_equal(rc_list_append(rt, l, one), 0);
    assert_int_equal(rc_sizeof(l) - empty, 4 * sizeof(void *));
    for (int i = 0; i < 4; i++)
        assert_int_equal(rc_list_append(rt, l, one), 0);
    assert_int_equal(rc_sizeof(l) - empty, 8 * sizeof(void *));
    for (int i = 0; i < 4; i++)
        assert_int_equal(rc_list_append(rt, l, one), 0);
    assert_int_equal(rc_sizeof(l) - empty, 16 * sizeof(void *));
    rc_list_clear(l);
    assert_int_equal(rc_sizeof(l), empty);

    /* a million appends: over-allocation stays within ~1/8 */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rc_list_append(rt, l, one), 0);
    assert_int_equal(rc_list_len(l), n);
    assert_int_equal(rc_refcount(one), n + 1);
    size_t slots = (rc_sizeof(l) - empty) / sizeof(void *);
    assert_true(slots >= n);
    assert_true(slots <= n + n / 8 + 8);
    assert_ptr_equal(rc_list_get(rt, l, n - 1), one);

    /* popping gives memory back */
    while (rc_list_len(l) > 10) {
        rc_obj *o = rc_list_pop(rt, l);
        assert_ptr_equal(o, one);
        rc_decref(o);
    }
    slots = (rc_sizeof(l) - empty) / sizeof(void *);
    assert_true(slots < 32);
    while (rc_list_len(l) > 0)
        rc_decref(rc_list_pop(rt, l));
    assert_int_equal(rc_sizeof(l), empty);
    assert_int_equal(rc_refcount(one), 1);

    /* with_capacity reserves exactly */
    rc_obj *c = rc_list_with_capacity(rt, 100);
    assert_non_null(c);
    assert_int_equal(rc_list_len(c), 0);
    assert_int_equal(rc_sizeof(c) - empty, 100 * sizeof(void *));
    for (int i = 0; i < 100; i++)
        assert_int_equal(rc_list_append(rt, c, one), 0);
    assert_int_equal(rc_sizeof(c) - empty, 100 * sizeof(void *));
    rc_decref(c);
    assert_null(rc_list_with_capacity(rt, SIZE_MAX / 4));
    assert_int_equal(rc_error(rt), RC_ENOMEM);

    rc_decref(one);
    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), base_objs);
    assert_int_equal(rc_runtime_buffer_bytes(rt), base_buf);
    rc_runtime_free(rt);
}

static void test_extend(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *l = rc_list(rt);
    for (int i = 0; i < 3; i++)
        push(rt, l, new_tok(rt, i));

    /* self-extend: the original items once */
    assert_int_equal(rc_list_extend(rt, l, l), 0);
    assert_int_equal(rc_list_len(l), 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(tok_id(rc_list_get(rt, l, i)), (long)(i % 3));
    assert_int_equal(rc_refcount(rc_list_get(rt, l, 0)), 2);
    /* again, across a reallocation */
    for (int k = 0; k < 6; k++)
        assert_int_equal(rc_list_extend(rt, l, l), 0);
    assert_int_equal(rc_list_len(l), 6u << 6);
    assert_int_equal(rc_refcount(rc_list_get(rt, l, 0)), (6u << 6) / 3);

    /* from another list, a tuple, empty sources */
    rc_obj *m = rc_list(rt);
    assert_int_equal(rc_list_extend(rt, m, l), 0);
    assert_int_equal(rc_list_len(m), rc_list_len(l));
    rc_obj *e = rc_list(rt);
    assert_int_equal(rc_list_extend(rt, m, e), 0);
    rc_obj *a = rc_int(rt, 10001), *b = rc_str(rt, "b");
    rc_obj *t = rc_tuple(rt, 2, a, b);
    assert_non_null(t);
    rc_list_clear(m);
    assert_int_equal(rc_list_extend(rt, m, t), 0);
    assert_int_equal(rc_list_len(m), 2);
    assert_ptr_equal(rc_list_get(rt, m, 0), a);
    assert_ptr_equal(rc_list_get(rt, m, 1), b);
    assert_int_equal(rc_refcount(a), 3);     /* ours, the tuple's, the list's */
    rc_obj *t0 = rc_tuple(rt, 0);
    assert_non_null(t0);
    assert_int_equal(rc_list_extend(rt, m, t0), 0);
    assert_int_equal(rc_list_len(m), 2);

    rc_decref(t0);
    rc_decref(t);
    rc_decref(a);
    rc_decref(b);
    rc_decref(e);
    rc_decref(m);
    rc_decref(l);
    assert_int_equal(g_destroyed, 3);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- sort ---------------------------------------------------------------- */

static int cmp_tuple_key(rc_obj *a, rc_obj *b, void *arg) {
    rc_runtime *rt = arg;
    int64_t x = rc_int_value(rc_tuple_get(rt, a, 0)), y = rc_int_value(rc_tuple_get(rt, b, 0));
    return (x > y) - (x < y);
}

static int cmp_int_desc(rc_obj *a, rc_obj *b, void *arg) {
    (void)arg;
    int64_t x = rc_int_value(a), y = rc_int_value(b);
    return (y > x) - (y < x);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_sort_default_and_cmp(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rct_rng rng;
    uint64_t seed = rct_seed(12345);
    rct_rng_init(&rng, seed);

    size_t n = rct_scaled(100000, 2000);
    int64_t *ref = malloc(n * sizeof *ref);
    assert_non_null(ref);
    rc_obj *l = rc_list(rt);
    for (size_t i = 0; i < n; i++) {
        ref[i] = (int64_t)rct_rng_range(&rng, 0, 2000000) - 1000000;
        push(rt, l, rc_int(rt, ref[i]));
    }
    qsort(ref, n, sizeof *ref, cmp_i64);
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(int_at(rt, l, i), ref[i]);
    /* sorted input, reversed input, a custom order */
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), 0);
    assert_int_equal(int_at(rt, l, n - 1), ref[n - 1]);
    assert_int_equal(rc_list_sort(rt, l, cmp_int_desc, NULL), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(int_at(rt, l, i), ref[n - 1 - i]);
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), 0);
    assert_int_equal(int_at(rt, l, 0), ref[0]);
    free(ref);
    rc_list_clear(l);

    /* mixed ints and floats; strs among themselves */
    push(rt, l, rc_float(rt, 2.5));
    push(rt, l, rc_int(rt, 3));
    push(rt, l, rc_int(rt, -1));
    push(rt, l, rc_float(rt, 0.5));
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), 0);
    char buf[64];
    assert_int_equal(rc_repr(rt, l, buf, sizeof buf), (int)strlen("[-1, 0.5, 2.5, 3]"));
    assert_string_equal(buf, "[-1, 0.5, 2.5, 3]");
    rc_list_clear(l);
    push(rt, l, rc_str(rt, "pear"));
    push(rt, l, rc_str(rt, "apple"));
    push(rt, l, rc_str(rt, "fig"));
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), 0);
    assert_string_equal(rc_str_data(rc_list_get(rt, l, 0)), "apple");
    assert_string_equal(rc_str_data(rc_list_get(rt, l, 2)), "pear");

    /* 0 and 1 items: nothing to compare, so any type sorts */
    rc_obj *one = rc_list(rt);
    assert_int_equal(rc_list_sort(rt, one, NULL, NULL), 0);
    push(rt, one, new_tok(rt, 1));
    assert_int_equal(rc_list_sort(rt, one, NULL, NULL), 0);
    rc_decref(one);

    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_sort_stable(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rct_rng rng;
    rct_rng_init(&rng, rct_seed(777));
    /* (key, seq) pairs with many equal keys; sorted by key only, equal keys
     * must keep their seq order. Sizes around the run length and merges. */
    size_t sizes[] = { 2, 31, 32, 33, 64, 65, 100, 1000, 5000 };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s];
        rc_obj *l = rc_list(rt);
        for (size_t i = 0; i < n; i++) {
            rc_obj *k = rc_int(rt, (int64_t)rct_rng_range(&rng, 0, 9));
            rc_obj *q = rc_int(rt, (int64_t)i + 1000);
            push(rt, l, rc_tuple(rt, 2, k, q));
            rc_decref(k);
            rc_decref(q);
        }
        assert_int_equal(rc_list_sort(rt, l, cmp_tuple_key, rt), 0);
        assert_int_equal(rc_list_len(l), n);
        for (size_t i = 1; i < n; i++) {
            rc_obj *a = rc_list_get(rt, l, i - 1), *b = rc_list_get(rt, l, i);
            int64_t ka = rc_int_value(rc_tuple_get(rt, a, 0));
            int64_t kb = rc_int_value(rc_tuple_get(rt, b, 0));
            assert_true(ka <= kb);
            if (ka == kb)
                assert_true(rc_int_value(rc_tuple_get(rt, a, 1)) <
                            rc_int_value(rc_tuple_get(rt, b, 1)));
        }
        rc_decref(l);
    }
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_sort_failure_leaves_list_unchanged(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    /* default order on a type it cannot compare, at several positions */
    size_t n = 200;
    for (size_t bad = 0; bad < n; bad += 37) {
        rc_obj *l = rc_list(rt);
        rc_obj *snap[200];
        for (size_t i = 0; i < n; i++) {
            if (i == bad)
                push(rt, l, new_tok(rt, 1));
            else
                push(rt, l, rc_int(rt, (int64_t)((i * 7919) % 1000) + 1000));
            snap[i] = rc_list_get(rt, l, i);
        }
        rc_error_clear(rt);
        assert_int_equal(rc_list_sort(rt, l, NULL, NULL), RC_ETYPE);
        assert_int_equal(rc_error(rt), RC_ETYPE);
        assert_int_equal(rc_list_len(l), n);
        for (size_t i = 0; i < n; i++)
            assert_ptr_equal(rc_list_get(rt, l, i), snap[i]);
        rc_decref(l);
    }
    /* str against int */
    rc_obj *l = rc_list(rt);
    push(rt, l, rc_int(rt, 2));
    push(rt, l, rc_str(rt, "1"));
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), RC_ETYPE);
    assert_int_equal(int_at(rt, l, 0), 2);
    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* A comparator that fails (records an error) on its k-th call, as a
 * Python key function raises. */
typedef struct failing_cmp {
    rc_runtime *rt;
    int calls, fail_at, calls_after_failure;
    int failed;
} failing_cmp;

static int cmp_fail_at(rc_obj *a, rc_obj *b, void *arg) {
    failing_cmp *f = arg;
    if (f->failed)
        f->calls_after_failure++;
    if (f->calls++ == f->fail_at) {
        f->failed = 1;
        rc_error_set(f->rt, RC_ETYPE, "cannot compare item %lld", (long long)rc_int_value(a));
        return -1;            /* ignored: the recorded error decides */
    }
    return cmp_int_desc(a, b, NULL);
}

static void test_sort_comparator_error(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    size_t n = 300;
    rc_obj *l = rc_list(rt);
    for (size_t i = 0; i < n; i++)
        push(rt, l, rc_int(rt, (int64_t)((i * 7919) % 1000) + 1000));
    rc_obj *snap[300];
    for (size_t i = 0; i < n; i++)
        snap[i] = rc_list_get(rt, l, i);
    /* fail in the insertion-sort runs, in the first merge and late */
    int fail_points[] = { 0, 5, 400, 1500 };
    for (size_t k = 0; k < sizeof fail_points / sizeof fail_points[0]; k++) {
        failing_cmp f = { rt, 0, fail_points[k], 0, 0 };
        rc_error_clear(rt);
        assert_int_equal(rc_list_sort(rt, l, cmp_fail_at, &f), RC_ETYPE);
        assert_true(f.failed);
        assert_int_equal(f.calls_after_failure, 0);      /* stopped at once */
        assert_int_equal(rc_error(rt), RC_ETYPE);
        assert_non_null(strstr(rc_error_message(rt), "cannot compare item"));
        assert_int_equal(rc_list_len(l), n);
        for (size_t i = 0; i < n; i++)
            assert_ptr_equal(rc_list_get(rt, l, i), snap[i]);
    }
    /* a successful sort keeps the caller's earlier error untouched */
    rc_error_set(rt, RC_EKEY, "earlier");
    failing_cmp never = { rt, 0, -1, 0, 0 };
    assert_int_equal(rc_list_sort(rt, l, cmp_fail_at, &never), 0);
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_string_equal(rc_error_message(rt), "earlier");
    for (size_t i = 1; i < n; i++)
        assert_true(int_at(rt, l, i - 1) >= int_at(rt, l, i));
    /* ... also when that error's message is formatted lazily (a dict miss) */
    rc_obj *d = rc_dict(rt), *k = rc_str(rt, "absent-key");
    assert_null(rc_dict_get(rt, d, k));
    assert_int_equal(rc_list_sort(rt, l, cmp_int_desc, NULL), 0);
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_non_null(strstr(rc_error_message(rt), "absent-key"));
    rc_decref(k);
    rc_decref(d);
    rc_error_clear(rt);
    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* A comparator that changes the list it is sorting. */
typedef struct meddle {
    rc_runtime *rt;
    rc_obj *list;
    int calls;
    size_t seen_len;
    int mode;             /* 0: append a tok, 1: clear, 2: only read */
} meddle;

static int cmp_meddle(rc_obj *a, rc_obj *b, void *arg) {
    meddle *m = arg;
    if (m->calls++ == 3) {
        m->seen_len = rc_list_len(m->list);    /* the list looks empty */
        if (m->mode == 0) {
            rc_obj *t = new_tok(m->rt, 99);
            assert_int_equal(rc_list_append(m->rt, m->list, t), 0);
            rc_decref(t);
        } else if (m->mode == 1) {
            rc_list_clear(m->list);
        }
    }
    return cmp_int_desc(a, b, NULL);
}

static void test_sort_mutated_by_comparator(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    for (int mode = 0; mode < 3; mode++) {
        reset();
        rc_obj *l = rc_list(rt);
        for (int i = 0; i < 50; i++)
            push(rt, l, rc_int(rt, 1000 + i));
        meddle m = { rt, l, 0, 12345, mode };
        int r = rc_list_sort(rt, l, cmp_meddle, &m);
        assert_int_equal(m.seen_len, 0);
        assert_int_equal(rc_list_len(l), 50);
        if (mode == 2) {          /* reading is fine */
            assert_int_equal(r, 0);
            assert_int_equal(int_at(rt, l, 0), 1049);
        } else {                  /* restored: original order, additions dropped */
            assert_int_equal(r, RC_ESTATE);
            assert_int_equal(rc_error(rt), RC_ESTATE);
            for (int i = 0; i < 50; i++)
                assert_int_equal(int_at(rt, l, (size_t)i), 1000 + i);
            assert_int_equal(g_destroyed, mode == 0 ? 1 : 0);
        }
        rc_decref(l);
    }
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- index, equality, repr, sizing -------------------------------------- */

/* equal() of this type clears the list it is searched in */
static rc_obj *g_victim;
static int evil_equal(rc_obj *a, rc_obj *b) {
    (void)a;
    (void)b;
    if (g_victim)
        rc_list_clear(g_victim);
    return 0;
}
static const rc_type evil_type = { .name = "evil", .size = sizeof(rc_obj), .equal = evil_equal };

static void test_index_and_equal(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *a = rc_list(rt), *b = rc_list(rt);
    assert_int_equal(rc_equal(rt, a, b), 1);             /* [] == [] */
    for (long i = 0; i < 4; i++) {
        push(rt, a, new_tok(rt, i));
        push(rt, b, new_tok(rt, i));
    }
    assert_int_equal(rc_equal(rt, a, b), 1);
    rc_obj *t = new_tok(rt, 2);
    assert_int_equal(rc_list_index(rt, a, t), 2);
    rc_decref(t);
    push(rt, b, rc_int(rt, 5));
    assert_int_equal(rc_equal(rt, a, b), 0);             /* lengths differ */
    rc_obj *p = rc_list_pop(rt, b);
    rc_decref(p);
    rc_obj *x = rc_int(rt, 1), *y = rc_float(rt, 1.0);
    assert_int_equal(rc_list_set(rt, a, 3, x), 0);
    assert_int_equal(rc_list_set(rt, b, 3, y), 0);
    assert_int_equal(rc_equal(rt, a, b), 1);             /* [.., 1] == [.., 1.0] */
    assert_int_equal(rc_list_set(rt, b, 0, x), 0);
    assert_int_equal(rc_equal(rt, a, b), 0);
    rc_decref(x);
    rc_decref(y);
    /* a list is not equal to a tuple with the same items */
    rc_obj *e = rc_list(rt), *t0 = rc_tuple(rt, 0);
    assert_int_equal(rc_equal(rt, e, t0), 0);
    rc_decref(t0);

    /* self-containing lists */
    assert_int_equal(rc_list_append(rt, e, e), 0);
    assert_int_equal(rc_equal(rt, e, e), 1);
    rc_obj *f = rc_list(rt);
    assert_int_equal(rc_list_append(rt, f, f), 0);
    rc_error_clear(rt);
    assert_int_equal(rc_equal(rt, e, f), RC_EOVERFLOW);  /* recursion bounded */
    rc_list_clear(e);
    rc_list_clear(f);
    rc_decref(e);
    rc_decref(f);

    /* an equal() that empties the list being searched */
    rc_obj *v = rc_list(rt);
    g_victim = v;
    for (int i = 0; i < 5; i++)
        push(rt, v, rc_new(rt, &evil_type));
    rc_obj *probe = rc_int(rt, 123456);
    assert_int_equal(rc_list_index(rt, v, probe), RC_EKEY);
    assert_int_equal(rc_list_len(v), 0);
    g_victim = NULL;
    rc_decref(probe);
    rc_decref(v);

    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_repr(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    char buf[128];
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_repr(rt, l, buf, sizeof buf), 2);
    assert_string_equal(buf, "[]");
    push(rt, l, rc_int(rt, 1));
    push(rt, l, rc_int(rt, 2));
    assert_int_equal(rc_repr(rt, l, buf, sizeof buf), 6);
    assert_string_equal(buf, "[1, 2]");
    rc_obj *inner = rc_list(rt);
    push(rt, inner, new_tok(rt, 7));
    assert_int_equal(rc_list_append(rt, l, inner), 0);
    assert_int_equal(rc_list_append(rt, inner, l), 0);    /* a cycle */
    const char *want = "[1, 2, [tok7, [...]]]";
    assert_int_equal(rc_repr(rt, l, buf, sizeof buf), (int)strlen(want));
    assert_string_equal(buf, want);
    assert_int_equal(rc_repr(rt, inner, buf, sizeof buf), (int)strlen("[tok7, [1, 2, [...]]]"));
    assert_string_equal(buf, "[tok7, [1, 2, [...]]]");

    /* truncation: the full length is returned, the text is a NUL-terminated
     * prefix, and a tiny or empty buffer is fine */
    for (size_t cap = 0; cap <= strlen(want) + 1; cap++) {
        char small[64];
        memset(small, 'X', sizeof small);
        assert_int_equal(rc_repr(rt, l, cap ? small : NULL, cap), (int)strlen(want));
        if (cap > 0) {
            size_t got = strlen(small);
            assert_true(got < cap);
            assert_memory_equal(small, want, got);
        }
        assert_true(small[cap < sizeof small ? cap : 0] == 'X' || cap == 0);
    }

    /* strs print quoted */
    rc_obj *s = rc_list(rt);
    push(rt, s, rc_str(rt, "a"));
    assert_true(rc_repr(rt, s, buf, sizeof buf) > 0);
    assert_string_equal(buf, "['a']");
    rc_decref(s);

    rc_list_clear(inner);        /* break the cycle */
    rc_decref(inner);
    rc_decref(l);

    /* deep nesting (past the runtime's bound of 2000 levels) fails, not a
     * stack overflow */
    rc_obj *top = rc_list(rt), *cur = top;
    for (int i = 0; i < 2500; i++) {
        rc_obj *n = rc_list(rt);
        assert_int_equal(rc_list_append(rt, cur, n), 0);
        rc_decref(n);
        cur = n;
    }
    rc_error_clear(rt);
    assert_int_equal(rc_repr(rt, top, buf, sizeof buf), RC_EOVERFLOW);
    rc_decref(top);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_sizeof(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt);
    size_t empty = rc_sizeof(l);
    assert_true(empty > 0);
    rc_obj *a = rc_str(rt, "hello"), *b = rc_str(rt, "world");
    assert_int_equal(rc_list_append(rt, l, a), 0);
    assert_int_equal(rc_list_append(rt, l, b), 0);
    assert_int_equal(rc_list_append(rt, l, a), 0);
    assert_int_equal(rc_sizeof(l), empty + 4 * sizeof(void *));
    /* deep: the list and each distinct item once */
    assert_int_equal(rc_deep_sizeof(rt, l), rc_sizeof(l) + rc_sizeof(a) + rc_sizeof(b));
    rc_decref(a);
    rc_decref(b);
    rc_decref(l);
    rc_runtime_free(rt);
}

/* ---- layout: CPython's sizes, and the stamp beside the capacity ---------- */

/* CPython 3.11's list_resize: the capacity after appending one item to a
 * list of len items with cap slots. */
static size_t cpython_list_cap(size_t len, size_t cap) {
    size_t n = len + 1;
    if (n <= cap)
        return cap;
    size_t c = (n + (n >> 3) + 6) & ~(size_t)3;
    if (n - len > c - n)
        c = (n + 3) & ~(size_t)3;
    return c;
}

static void test_sizes_match_cpython(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt), *one = rc_str(rt, "x");
    /* collector links 16, header 16, items, len, capacity and stamp: 56, as
     * sys.getsizeof([]) */
    assert_int_equal(rc_sizeof(l), 56);
    size_t cap = 0;
    for (size_t i = 0; i < 10000; i++) {
        assert_int_equal(rc_list_append(rt, l, one), 0);
        cap = cpython_list_cap(i, cap);
        if (rc_sizeof(l) != 56 + cap * sizeof(void *))
            fail_msg("after %zu appends: %zu bytes, CPython %zu", i + 1, rc_sizeof(l),
                     56 + cap * sizeof(void *));
        if (i == 2)
            assert_int_equal(rc_sizeof(l), 88);
    }
    assert_int_equal(rc_sizeof(l), 85176);   /* sys.getsizeof after 10,000 appends */
    rc_obj *c = rc_list_with_capacity(rt, 7);
    assert_int_equal(rc_sizeof(c), 56 + 7 * sizeof(void *));
    rc_decref(c);
    rc_decref(l);
    rc_decref(one);
    rc_runtime_free(rt);
}

/* Iterate l and do op after the first step: the next step is RC_ESTATE. */
typedef void (*mutation_fn)(rc_runtime *rt, rc_obj *l, rc_obj *x);

static void mut_append(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    assert_int_equal(rc_list_append(rt, l, x), 0);
}
static void mut_set(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    assert_int_equal(rc_list_set(rt, l, 0, x), 0);
}
static void mut_pop_append(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    /* the length and the capacity end as they were */
    rc_obj *o = rc_list_pop(rt, l);
    assert_non_null(o);
    assert_int_equal(rc_list_append(rt, l, o), 0);
    rc_decref(o);
    (void)x;
}
static void mut_insert(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    assert_int_equal(rc_list_insert(rt, l, 1, x), 0);
}
static void mut_del(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    (void)x;
    assert_int_equal(rc_list_del(rt, l, 0), 0);
}
static void mut_reverse(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    (void)rt;
    (void)x;
    rc_list_reverse(l);
}
static void mut_sort(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    (void)x;
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), 0);
}
static void mut_extend(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    (void)x;
    assert_int_equal(rc_list_extend(rt, l, l), 0);
}
static void mut_clear(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    (void)rt;
    (void)x;
    rc_list_clear(l);
}
/* 70,000 replacements: past 16 bits of stamp, far from 2**24 */
static void mut_many(rc_runtime *rt, rc_obj *l, rc_obj *x) {
    for (int i = 0; i < 70000; i++)
        assert_int_equal(rc_list_set(rt, l, 1, x), 0);
}

static void test_iter_detects_mutation(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    static const mutation_fn ops[] = { mut_append, mut_set, mut_pop_append, mut_insert, mut_del,
                                       mut_reverse, mut_sort, mut_extend, mut_clear, mut_many };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        rc_obj *l = rc_list(rt);
        for (int64_t i = 0; i < 5; i++) {
            rc_obj *v = rc_int(rt, 1000 + i);
            assert_int_equal(rc_list_append(rt, l, v), 0);
            rc_decref(v);
        }
        rc_obj *x = rc_int(rt, 7), *item = NULL;
        rc_iter it;
        rc_iter_init(&it, l);
        assert_int_equal(rc_iter_next(rt, &it, &item), 1);
        ops[k](rt, l, x);
        rc_error_clear(rt);
        if (rc_iter_next(rt, &it, &item) != RC_ESTATE)
            fail_msg("mutation %zu not detected", k);
        assert_int_equal(rc_error(rt), RC_ESTATE);
        rc_error_clear(rt);
        /* a fresh iterator sees the list as it is now */
        size_t n = 0;
        rc_iter_init(&it, l);
        while (rc_iter_next(rt, &it, &item) == 1)
            n++;
        assert_int_equal(n, rc_list_len(l));
        assert_int_equal(rc_error(rt), 0);
        rc_decref(x);
        rc_decref(l);
    }
    /* reads are not mutations */
    rc_obj *l = rc_list(rt), *x = rc_int(rt, 3), *item = NULL;
    assert_int_equal(rc_list_append(rt, l, x), 0);
    assert_int_equal(rc_list_append(rt, l, x), 0);
    rc_iter it;
    rc_iter_init(&it, l);
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_ptr_equal(rc_list_get(rt, l, 1), x);
    assert_int_equal(rc_list_index(rt, l, x), 0);
    assert_int_equal(rc_list_len(l), 2);
    (void)rc_sizeof(l);
    assert_int_equal(rc_iter_next(rt, &it, &item), 1);
    assert_int_equal(rc_iter_next(rt, &it, &item), 0);
    rc_decref(x);
    rc_decref(l);
    rc_runtime_free(rt);
}

/* The stamp wraps in its own bits: after 2**24 + 3 mutations of a list the
 * capacity and the items are intact. */
static void test_stamp_wraps_apart_from_capacity(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt), *a = rc_int(rt, 1001), *b = rc_int(rt, 1002);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rc_list_append(rt, l, a), 0);
    size_t size = rc_sizeof(l);
    size_t n = rct_scaled((size_t)1 << 24, 1 << 16) + 3;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rc_list_set(rt, l, i % 3, (i & 1) ? b : a), 0);
    assert_int_equal(rc_sizeof(l), size);
    assert_int_equal(rc_list_len(l), 3);
    assert_true(rc_list_get(rt, l, 0) == a || rc_list_get(rt, l, 0) == b);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rc_list_append(rt, l, a), 0);
    assert_int_equal(rc_list_len(l), 103);
    rc_obj *item = NULL;
    rc_iter it;
    rc_iter_init(&it, l);
    size_t seen = 0;
    while (rc_iter_next(rt, &it, &item) == 1)
        seen++;
    assert_int_equal(seen, 103);
    rc_decref(l);
    rc_decref(a);
    rc_decref(b);
    rc_runtime_free(rt);
}

/* ---- out of memory: the list is unchanged ------------------------------ */

static void check_ints(rc_runtime *rt, rc_obj *l, size_t n) {
    assert_int_equal(rc_list_len(l), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(int_at(rt, l, i), (int64_t)(8 - i) * 1000);
}

static void test_out_of_memory(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt);
    for (size_t i = 0; i < 8; i++)
        push(rt, l, rc_int(rt, (int64_t)(8 - i) * 1000));   /* full: 8 of 8 slots */
    rc_obj *x = rc_int(rt, 100005);
    rc_obj *t = rc_tuple(rt, 2, x, x);
    rc_obj *m = rc_list(rt);

    rc_runtime_fail_after(rt, 0);
    rc_error_clear(rt);
    assert_int_equal(rc_list_append(rt, l, x), RC_ENOMEM);
    assert_int_equal(rc_error(rt), RC_ENOMEM);
    assert_int_equal(rc_list_insert(rt, l, 0, x), RC_ENOMEM);
    assert_int_equal(rc_list_extend(rt, l, t), RC_ENOMEM);
    assert_int_equal(rc_list_extend(rt, l, l), RC_ENOMEM);
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), RC_ENOMEM);
    assert_int_equal(rc_list_append(rt, m, x), RC_ENOMEM);
    assert_null(rc_list(rt));
    assert_int_equal(rc_refcount(x), 3);      /* ours and the tuple's two */
    check_ints(rt, l, 8);
    assert_int_equal(rc_list_len(m), 0);

    /* pops that cannot shrink the buffer still succeed, and leave the error
     * as it was */
    rc_error_clear(rt);
    for (int i = 0; i < 6; i++) {
        rc_obj *p = rc_list_pop(rt, l);
        assert_non_null(p);
        rc_decref(p);
    }
    assert_int_equal(rc_error(rt), 0);
    check_ints(rt, l, 2);
    assert_true(rc_runtime_fail_after(rt, -1) > 0);
    assert_int_equal(int_at(rt, l, 1), 7000);

    /* and everything works again */
    assert_int_equal(rc_list_sort(rt, l, NULL, NULL), 0);
    assert_int_equal(rc_list_append(rt, l, x), 0);
    rc_decref(m);
    rc_decref(t);
    rc_decref(x);
    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

/* ---- use after free (debug mode) ---------------------------------------- */

static int g_reports;
static void count_reports(rc_runtime *rt, const char *message, void *arg) {
    (void)rt;
    (void)message;
    (void)arg;
    g_reports++;
}

static void test_use_after_free_debug(void **state) {
    (void)state;
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.debug = 1;
    rc_runtime *rt = rc_runtime_new(&cfg);
    assert_non_null(rt);
    rc_runtime_set_debug_handler(rt, count_reports, NULL);
    g_reports = 0;
    rc_obj *l = rc_list(rt);
    rc_obj *x = rc_int(rt, 100000);
    assert_int_equal(rc_list_append(rt, l, x), 0);
    rc_decref(l);                  /* freed; its memory waits in quarantine */
    assert_int_equal(rc_list_append(rt, l, x), RC_ESTATE);
    assert_null(rc_list_get(rt, l, 0));
    assert_int_equal(rc_error(rt), RC_ESTATE);
    assert_int_equal(rc_list_len(l), 0);
    rc_list_clear(l);              /* ignored */
    rc_list_reverse(l);
    assert_true(g_reports >= 2);
    /* a freed item is refused too */
    rc_obj *l2 = rc_list(rt);
    rc_obj *dead = rc_int(rt, 200000);
    rc_decref(dead);
    assert_int_equal(rc_list_append(rt, l2, dead), RC_ESTATE);
    assert_int_equal(rc_list_len(l2), 0);
    rc_decref(l2);
    assert_int_equal(rc_refcount(x), 1);
    rc_decref(x);
    rc_runtime_free(rt);
}

/* A list that holds itself (and a tok) is left to rc_runtime_free, which
 * must release it through destroy without finalizing: no leak, no crash. */
static void test_cycle_left_to_teardown(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_list_append(rt, l, l), 0);
    push(rt, l, new_tok(rt, 1));
    rc_obj *m = rc_list(rt);                   /* and a two-list cycle */
    assert_int_equal(rc_list_append(rt, m, l), 0);
    assert_int_equal(rc_list_append(rt, l, m), 0);
    rc_decref(m);
    rc_decref(l);
    assert_int_equal(rc_runtime_object_count(rt), 3);
    rc_runtime_free(rt);
    assert_int_equal(g_destroyed, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_ops),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ownership),
        cmocka_unit_test(test_reentrant_destroy),
        cmocka_unit_test(test_growth_million),
        cmocka_unit_test(test_extend),
        cmocka_unit_test(test_sort_default_and_cmp),
        cmocka_unit_test(test_sort_stable),
        cmocka_unit_test(test_sort_failure_leaves_list_unchanged),
        cmocka_unit_test(test_sort_mutated_by_comparator),
        cmocka_unit_test(test_sort_comparator_error),
        cmocka_unit_test(test_index_and_equal),
        cmocka_unit_test(test_repr),
        cmocka_unit_test(test_sizeof),
        cmocka_unit_test(test_sizes_match_cpython),
        cmocka_unit_test(test_iter_detects_mutation),
        cmocka_unit_test(test_stamp_wraps_apart_from_capacity),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_use_after_free_debug),
        cmocka_unit_test(test_cycle_left_to_teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
