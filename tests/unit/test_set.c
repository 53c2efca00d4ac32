/* rc-test: oom stress */
/* test_set.c - rc_set through the public API: add / discard / contains with
 * keys of mixed types (1 and 1.0 are one key), unhashable keys, the algebra
 * (union, intersection, difference; non-set arguments are RC_ETYPE), a
 * seeded run against a reference model, shrinking after mass discard,
 * iteration and RC_ESTATE, repr, equality, out-of-memory, and comparisons
 * that mutate the set. Every test checks that the objects it made are gone
 * (rc_runtime_object_count back to baseline). */
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

static void add_i(rc_runtime *rt, rc_obj *s, int64_t v) {
    rc_obj *k = rc_int(rt, v);
    assert_non_null(k);
    assert_int_equal(rc_set_add(rt, s, k), 0);
    rc_decref(k);
}

static int has_i(rc_runtime *rt, rc_obj *s, int64_t v) {
    rc_obj *k = rc_int(rt, v);
    int r = rc_set_contains(rt, s, k);
    rc_decref(k);
    return r;
}

static int discard_i(rc_runtime *rt, rc_obj *s, int64_t v) {
    rc_obj *k = rc_int(rt, v);
    int r = rc_set_discard(rt, s, k);
    rc_decref(k);
    return r;
}

static rc_obj *set_of(rc_runtime *rt, const int64_t *v, size_t n) {
    rc_obj *s = rc_set(rt);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        add_i(rt, s, v[i]);
    return s;
}

/* s holds exactly the ints of want (any order). */
static void set_is(rc_runtime *rt, rc_obj *s, const int64_t *want, size_t n) {
    assert_int_equal(rc_set_len(s), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(has_i(rt, s, want[i]), 1);
}

static void repr_is(rc_runtime *rt, rc_obj *o, const char *want) {
    char buf[256];
    int n = rc_repr(rt, o, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

static void test_basic(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    assert_true(rc_is_set(s));
    assert_false(rc_is_set(NULL));
    assert_int_equal(rc_set_len(s), 0);
    assert_int_equal(rc_sizeof(s), rc_sizeof(s));

    rc_obj *one = rc_int(rt, 1), *onef = rc_float(rt, 1.0), *a = rc_str(rt, "a");
    rc_obj *t = rc_tuple(rt, 2, one, a), *tf = rc_tuple(rt, 2, onef, a);
    assert_int_equal(rc_set_add(rt, s, one), 0);
    assert_int_equal(rc_set_add(rt, s, onef), 0);        /* same key */
    assert_int_equal(rc_set_len(s), 1);
    assert_int_equal(rc_refcount(onef), 2);              /* ours and tf: the first key stays */
    assert_int_equal(rc_set_contains(rt, s, onef), 1);
    assert_int_equal(rc_set_add(rt, s, a), 0);
    assert_int_equal(rc_set_add(rt, s, t), 0);
    assert_int_equal(rc_set_contains(rt, s, tf), 1);
    assert_int_equal(rc_set_len(s), 3);
    rc_obj *b = rc_bytes(rt, "a", 1);
    assert_int_equal(rc_set_contains(rt, s, b), 0);      /* bytes != str */

    assert_int_equal(rc_set_discard(rt, s, tf), 1);
    assert_int_equal(rc_set_discard(rt, s, tf), 0);
    assert_int_equal(rc_set_contains(rt, s, t), 0);
    assert_int_equal(rc_set_len(s), 2);

    /* unhashable keys: RC_ETYPE, set unchanged */
    rc_obj *l = rc_list(rt), *d = rc_dict(rt), *s2 = rc_set(rt);
    rc_obj *tl = rc_tuple(rt, 1, l);
    rc_obj *bad[] = {l, d, s2, tl, s};
    size_t size = rc_sizeof(s);
    for (size_t i = 0; i < 5; i++) {
        rc_error_clear(rt);
        assert_int_equal(rc_set_add(rt, s, bad[i]), RC_ETYPE);
        assert_int_equal(rc_error(rt), RC_ETYPE);
        assert_int_equal(rc_set_contains(rt, s, bad[i]), RC_ETYPE);
        assert_int_equal(rc_set_discard(rt, s, bad[i]), RC_ETYPE);
    }
    assert_int_equal(rc_set_len(s), 2);
    assert_int_equal(rc_sizeof(s), size);
    /* bad arguments */
    assert_int_equal(rc_set_add(rt, l, one), RC_ETYPE);
    assert_int_equal(rc_set_add(rt, s, NULL), RC_EINVAL);
    assert_int_equal(rc_set_add(NULL, s, one), RC_EINVAL);
    assert_int_equal(rc_set_contains(rt, NULL, one), RC_EINVAL);
    assert_int_equal(rc_set_len(l), 0);
    rc_set_clear(l);
    rc_error_clear(rt);

    rc_set_clear(s);
    assert_int_equal(rc_set_len(s), 0);
    assert_int_equal(rc_set_contains(rt, s, a), 0);

    rc_obj *objs[] = {one, onef, a, t, tf, b, l, d, s2, tl, s};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rc_decref(objs[i]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_algebra(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    const int64_t av[] = {1, 2, 3, 4, 1000, 2000};
    const int64_t bv[] = {3, 4, 5, 2000, 3000};
    rc_obj *a = set_of(rt, av, 6), *b = set_of(rt, bv, 5), *e = rc_set(rt);

    rc_obj *u = rc_set_union(rt, a, b);
    const int64_t uv[] = {1, 2, 3, 4, 5, 1000, 2000, 3000};
    set_is(rt, u, uv, 8);
    rc_obj *i = rc_set_intersection(rt, a, b);
    const int64_t iv[] = {3, 4, 2000};
    set_is(rt, i, iv, 3);
    rc_obj *i2 = rc_set_intersection(rt, b, a);
    set_is(rt, i2, iv, 3);
    rc_obj *df = rc_set_difference(rt, a, b);
    const int64_t dv[] = {1, 2, 1000};
    set_is(rt, df, dv, 3);
    rc_obj *df2 = rc_set_difference(rt, b, a);
    const int64_t dv2[] = {5, 3000};
    set_is(rt, df2, dv2, 2);
    /* the operands are unchanged */
    set_is(rt, a, av, 6);
    set_is(rt, b, bv, 5);
    /* with the empty set and with itself */
    rc_obj *ue = rc_set_union(rt, e, a), *ie = rc_set_intersection(rt, a, e),
           *de = rc_set_difference(rt, a, e), *aa = rc_set_union(rt, a, a),
           *ia = rc_set_intersection(rt, a, a), *da = rc_set_difference(rt, a, a);
    set_is(rt, ue, av, 6);
    set_is(rt, ie, NULL, 0);
    set_is(rt, de, av, 6);
    set_is(rt, aa, av, 6);
    set_is(rt, ia, av, 6);
    set_is(rt, da, NULL, 0);
    assert_int_equal(rc_equal(rt, ue, a), 1);
    assert_int_equal(rc_equal(rt, de, aa), 1);
    assert_int_equal(rc_equal(rt, ie, da), 1);
    assert_int_equal(rc_equal(rt, a, b), 0);
    /* results are independent sets */
    add_i(rt, u, 99);
    assert_int_equal(has_i(rt, a, 99), 0);
    /* 1.0 in one set meets 1 in the other */
    rc_obj *f = rc_set(rt), *onef = rc_float(rt, 1.0);
    assert_int_equal(rc_set_add(rt, f, onef), 0);
    rc_obj *fi = rc_set_intersection(rt, f, a), *fu = rc_set_union(rt, f, a);
    assert_int_equal(rc_set_len(fi), 1);
    assert_int_equal(rc_set_len(fu), 6);

    /* arguments must be sets */
    rc_obj *l = rc_list(rt), *d = rc_dict(rt);
    rc_error_clear(rt);
    assert_null(rc_set_union(rt, a, l));
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_null(rc_set_intersection(rt, d, a));
    assert_null(rc_set_difference(rt, a, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_set_union(NULL, a, a));
    rc_error_clear(rt);

    /* big sets: fast path (empty destination) and the general path */
    rc_obj *x = rc_set(rt), *y = rc_set(rt);
    for (int64_t k = 0; k < 3000; k++) {
        add_i(rt, x, k);
        if (k % 2 == 0)
            add_i(rt, y, k + 1500);
    }
    rc_obj *xu = rc_set_union(rt, x, y), *xi = rc_set_intersection(rt, x, y),
           *xd = rc_set_difference(rt, x, y);
    assert_int_equal(rc_set_len(xu), 3000 + 750);
    assert_int_equal(rc_set_len(xi), 750);
    assert_int_equal(rc_set_len(xd), 2250);
    assert_int_equal(has_i(rt, xi, 1500), 1);
    assert_int_equal(has_i(rt, xi, 1501), 0);
    assert_int_equal(has_i(rt, xd, 1501), 1);

    rc_obj *objs[] = {a, b, e, u, i, i2, df, df2, ue, ie, de, aa, ia, da, f, onef, fi, fu,
                      l, d, x, y, xu, xi, xd};
    for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
        rc_decref(objs[k]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_model(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rct_rng r;
    rct_rng_init(&r, rct_seed(777));
    enum { NKEYS = 1200 };
    static unsigned char in[NKEYS];
    memset(in, 0, sizeof in);
    size_t len = 0;
    rc_obj *s = rc_set(rt);
    size_t ops = rct_scaled(100000, 3000);
    for (size_t op = 0; op < ops; op++) {
        unsigned phase = (unsigned)((op / 6000) % 3);
        unsigned x = (unsigned)(rct_rng_next(&r) % 100);
        size_t k = rct_rng_range(&r, 0, NKEYS - 1);
        rc_obj *key;
        if (k % 3 == 0) {
            char text[16];
            snprintf(text, sizeof text, "s%zu", k);
            key = rc_str(rt, text);
        } else if (rct_rng_next(&r) % 3 == 0) {
            key = rc_float(rt, (double)k + 1000);
        } else {
            key = rc_int(rt, (int64_t)k + 1000);
        }
        unsigned add_pct = phase == 0 ? 65 : phase == 1 ? 15 : 45;
        if (x < add_pct) {
            assert_int_equal(rc_set_add(rt, s, key), 0);
            if (!in[k]) {
                in[k] = 1;
                len++;
            }
        } else if (x < add_pct + 30) {
            assert_int_equal(rc_set_discard(rt, s, key), in[k]);
            if (in[k]) {
                in[k] = 0;
                len--;
            }
        } else {
            assert_int_equal(rc_set_contains(rt, s, key), in[k]);
        }
        rc_decref(key);
        assert_int_equal(rc_set_len(s), len);
        if (op % 9973 == 0 || op + 1 == ops) {
            /* iteration visits each member once */
            static unsigned char seen[NKEYS];
            memset(seen, 0, sizeof seen);
            rc_iter it;
            rc_obj *item;
            size_t n = 0;
            rc_iter_init(&it, s);
            while (rc_iter_next(rt, &it, &item) == 1) {
                size_t kk;
                if (rc_is_str(item))
                    kk = (size_t)strtoul(rc_str_data(item) + 1, NULL, 10);
                else
                    kk = (size_t)rc_float_value(item) - 1000;
                assert_true(kk < NKEYS);
                assert_true(in[kk]);
                assert_false(seen[kk]);
                seen[kk] = 1;
                n++;
            }
            assert_int_equal(n, len);
        }
    }
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_shrink(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    size_t empty = rc_sizeof(s);
    enum { N = 20000 };
    for (int64_t i = 0; i < N; i++)
        add_i(rt, s, i);
    size_t big = rc_sizeof(s);
    assert_true(big > empty + N * 16);
    for (int64_t i = 0; i < N - 10; i++)
        assert_int_equal(discard_i(rt, s, i), 1);
    size_t small = rc_sizeof(s);
    assert_true(small * 50 < big);
    for (int64_t i = N - 10; i < N; i++)
        assert_int_equal(has_i(rt, s, i), 1);
    /* churn at a constant size keeps the table size */
    size_t steady = 0;
    for (int64_t i = N; i < N + 20000; i++) {
        assert_int_equal(discard_i(rt, s, i - 10), 1);
        add_i(rt, s, i);
        if (i == N + 1000)
            steady = rc_sizeof(s);
        else if (i > N + 1000)
            assert_true(rc_sizeof(s) <= steady);
    }
    assert_int_equal(rc_set_len(s), 10);
    rc_set_clear(s);
    assert_int_equal(rc_sizeof(s), empty);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_iteration(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    rc_iter it;
    rc_obj *k;
    rc_iter_init(&it, s);
    assert_int_equal(rc_iter_next(rt, &it, &k), 0);
    for (int64_t i = 0; i < 20; i++)
        add_i(rt, s, i);
    rc_iter_init(&it, s);
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);
    add_i(rt, s, 5);                             /* already there: no change */
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);
    assert_int_equal(discard_i(rt, s, 12345), 0); /* absent: no change */
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);
    add_i(rt, s, 100);
    rc_error_clear(rt);
    assert_int_equal(rc_iter_next(rt, &it, &k), RC_ESTATE);
    assert_int_equal(rc_error(rt), RC_ESTATE);
    rc_iter_init(&it, s);
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);
    assert_int_equal(discard_i(rt, s, 100), 1);
    assert_int_equal(rc_iter_next(rt, &it, &k), RC_ESTATE);
    rc_iter_init(&it, s);
    rc_set_clear(s);
    assert_int_equal(rc_iter_next(rt, &it, &k), RC_ESTATE);
    rc_error_clear(rt);
    rc_obj *d = rc_dict(rt);
    rc_iter_init(&it, d);
    assert_int_equal(rc_dict_next(rt, &it, &k, NULL), 0);
    rc_decref(d);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_repr_equal(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    repr_is(rt, s, "set()");
    add_i(rt, s, 1);
    repr_is(rt, s, "{1}");
    add_i(rt, s, 2);
    repr_is(rt, s, "{1, 2}");                    /* small ints hash to themselves */
    assert_int_equal(discard_i(rt, s, 1), 1);
    assert_int_equal(discard_i(rt, s, 2), 1);
    repr_is(rt, s, "set()");
    rc_obj *a = rc_str(rt, "it's");
    assert_int_equal(rc_set_add(rt, s, a), 0);
    repr_is(rt, s, "{\"it's\"}");
    char small[4];
    assert_int_equal(rc_repr(rt, s, small, sizeof small), 8);
    assert_true(strlen(small) < sizeof small);   /* a clean prefix */
    assert_memory_equal(small, "{\"it's\"}", strlen(small));

    rc_obj *t = rc_set(rt), *u = rc_set(rt);
    assert_int_equal(rc_equal(rt, t, u), 1);
    assert_int_equal(rc_equal(rt, s, t), 0);
    assert_int_equal(rc_set_add(rt, t, a), 0);
    assert_int_equal(rc_equal(rt, s, t), 1);
    add_i(rt, t, 3);
    add_i(rt, u, 3);
    rc_obj *a2 = rc_str(rt, "it's");
    assert_int_equal(rc_set_add(rt, u, a2), 0);
    assert_int_equal(rc_equal(rt, t, u), 1);
    assert_int_equal(rc_equal(rt, s, u), 0);
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_equal(rt, s, l), 0);
    uint64_t h;
    assert_int_equal(rc_hash(rt, s, &h), RC_ETYPE);
    rc_error_clear(rt);
    rc_obj *objs[] = {s, a, t, u, a2, l};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rc_decref(objs[i]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_oom(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    rc_obj *keys[8];
    for (int i = 0; i < 8; i++)
        keys[i] = rc_int(rt, 1000 + i);
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_set_add(rt, s, keys[0]), RC_ENOMEM);
    assert_int_equal(rc_set_len(s), 0);
    assert_int_equal(rc_refcount(keys[0]), 1);
    rc_runtime_fail_after(rt, -1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rc_set_add(rt, s, keys[i]), 0);
    size_t size = rc_sizeof(s);
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_set_add(rt, s, keys[4]), RC_ENOMEM);   /* would reach 60% */
    assert_int_equal(rc_set_len(s), 4);
    assert_int_equal(rc_sizeof(s), size);
    assert_int_equal(rc_set_contains(rt, s, keys[4]), 0);
    assert_int_equal(rc_set_add(rt, s, keys[0]), 0);          /* present: no memory */
    rc_runtime_fail_after(rt, -1);
    rc_error_clear(rt);
    /* algebra under a failing allocator: NULL + RC_ENOMEM, operands intact */
    rc_obj *t = rc_set(rt);
    for (int i = 2; i < 8; i++)
        assert_int_equal(rc_set_add(rt, t, keys[i]), 0);
    for (long n = 0;; n++) {
        rc_runtime_fail_after(rt, n);
        rc_obj *u = rc_set_union(rt, s, t);
        rc_obj *x = rc_set_intersection(rt, s, t);
        rc_obj *d = rc_set_difference(rt, s, t);
        long failed = rc_runtime_fail_after(rt, -1);
        if (u)
            assert_int_equal(rc_set_len(u), 8);
        if (x)
            assert_int_equal(rc_set_len(x), 2);
        if (d)
            assert_int_equal(rc_set_len(d), 2);
        rc_xdecref(u);
        rc_xdecref(x);
        rc_xdecref(d);
        assert_int_equal(rc_set_len(s), 4);
        assert_int_equal(rc_set_len(t), 6);
        rc_error_clear(rt);
        if (failed == 0)
            break;
    }
    for (int i = 0; i < 8; i++)
        rc_decref(keys[i]);
    rc_decref(s);
    rc_decref(t);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- comparisons that mutate the set ---- */

typedef struct evil {
    rc_obj ob;
    int64_t id;
} evil;

static rc_obj *g_set;
static rc_runtime *g_rt;
static int g_mode;      /* 0 none, 1 clear once, 2 grow once, 3 always add */
static int64_t g_next = 50000;

static int evil_hash(rc_obj *self, uint64_t *out) {
    (void)self;
    *out = 7;
    return 0;
}

static int evil_equal(rc_obj *a, rc_obj *b) {
    int mode = g_mode;
    if (mode == 1) {
        g_mode = 0;
        rc_set_clear(g_set);
    } else if (mode == 2) {
        g_mode = 0;
        for (int i = 0; i < 100; i++)
            add_i(g_rt, g_set, g_next++);
    } else if (mode == 3) {
        add_i(g_rt, g_set, g_next++);
    }
    return rc_typeof(a) == rc_typeof(b) && ((evil *)a)->id == ((evil *)b)->id;
}

static const rc_type evil_type = {
    .name = "evil", .size = sizeof(evil), .hash = evil_hash, .equal = evil_equal,
};

static rc_obj *new_evil(rc_runtime *rt, int64_t id) {
    evil *e = (evil *)rc_new(rt, &evil_type);
    assert_non_null(e);
    e->id = id;
    return &e->ob;
}

static void test_reentrancy(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    g_rt = rt;
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    g_set = s;
    rc_obj *ev[4];
    for (int i = 0; i < 4; i++) {
        ev[i] = new_evil(rt, i);
        assert_int_equal(rc_set_add(rt, s, ev[i]), 0);
    }
    rc_obj *probe = new_evil(rt, 3);
    g_mode = 1;
    assert_int_equal(rc_set_contains(rt, s, probe), 0);
    assert_int_equal(rc_set_len(s), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rc_set_add(rt, s, ev[i]), 0);
    g_mode = 2;
    assert_int_equal(rc_set_contains(rt, s, probe), 1);
    assert_int_equal(rc_set_len(s), 104);
    g_mode = 2;
    assert_int_equal(rc_set_add(rt, s, probe), 0);       /* present: not added */
    assert_int_equal(rc_set_len(s), 204);
    g_mode = 2;
    assert_int_equal(rc_set_discard(rt, s, probe), 1);
    assert_int_equal(rc_set_len(s), 303);
    g_mode = 3;
    rc_obj *probe2 = new_evil(rt, 99);
    assert_int_equal(rc_set_contains(rt, s, probe2), RC_ESTATE);
    g_mode = 0;
    rc_error_clear(rt);

    /* the algebra notices a set that changes while it is walked */
    rc_obj *other = rc_set(rt);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rc_set_add(rt, other, ev[i]), 0);
    rc_set_clear(s);
    assert_int_equal(rc_set_add(rt, s, ev[0]), 0);
    assert_int_equal(rc_set_add(rt, s, probe2), 0);
    g_mode = 2;      /* comparing s's evil keys against other's grows s */
    rc_obj *res = rc_set_intersection(rt, s, other);
    assert_null(res);
    assert_int_equal(rc_error(rt), RC_ESTATE);
    g_mode = 0;
    rc_error_clear(rt);

    for (int i = 0; i < 4; i++)
        rc_decref(ev[i]);
    rc_decref(other);
    rc_decref(probe);
    rc_decref(probe2);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- cycles through a set: a key that refers back to its set ---- */

typedef struct holder {
    rc_obj ob;
    rc_obj *ref;
} holder;

static int holder_hash(rc_obj *self, uint64_t *out) {
    *out = (uint64_t)(uintptr_t)self >> 4;
    return 0;
}

static int holder_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    holder *h = (holder *)self;
    return h->ref ? visit(h->ref, arg) : 0;
}

static void holder_clear(rc_obj *self) {
    holder *h = (holder *)self;
    rc_obj *r = h->ref;
    h->ref = NULL;
    rc_xdecref(r);
}

static const rc_type holder_type = {
    .name = "holder", .size = sizeof(holder), .flags = RC_TYPE_GC,
    .traverse = holder_traverse, .clear = holder_clear, .hash = holder_hash,
};

static void test_gc(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    assert_true(rc_gc_is_tracked(s));
    for (int i = 0; i < 50; i++) {
        holder *h = (holder *)rc_new(rt, &holder_type);
        assert_non_null(h);
        rc_incref(s);
        h->ref = s;
        assert_int_equal(rc_set_add(rt, s, &h->ob), 0);
        rc_decref(&h->ob);
    }
    add_i(rt, s, 123456);
    rc_obj *refs = rc_gc_get_referents(rt, s);
    assert_int_equal(rc_list_len(refs), 51);
    rc_decref(refs);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base + 52);
    assert_true(rc_gc_collect(rt, 2) >= 51);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_algebra),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_shrink),
        cmocka_unit_test(test_iteration),
        cmocka_unit_test(test_repr_equal),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_reentrancy),
        cmocka_unit_test(test_gc),
    };
    return rct_run_tests(tests, NULL, NULL);
}
