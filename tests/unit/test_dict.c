/* rc-test: oom stress */
/* test_dict.c - rc_dict through the public API: keys of mixed types (1 and
 * 1.0 are one key), insertion order across deletes and resizes, a seeded
 * run against a reference model, shrinking after mass deletion, unhashable
 * keys, iteration and RC_ESTATE, repr, equality, out-of-memory (the dict is
 * unchanged), and re-entrancy: comparisons and destructors that mutate the
 * dict under a lookup, a clear or a deletion. Every test checks that the
 * objects it made are gone (rc_runtime_object_count back to baseline). */
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

/* Set d[k] = v, dropping our references to k and v. */
static void put(rc_runtime *rt, rc_obj *d, rc_obj *k, rc_obj *v) {
    assert_non_null(k);
    assert_non_null(v);
    assert_int_equal(rc_dict_set(rt, d, k, v), 0);
    rc_decref(k);
    rc_decref(v);
}

static void put_ii(rc_runtime *rt, rc_obj *d, int64_t k, int64_t v) {
    put(rt, d, rc_int(rt, k), rc_int(rt, v));
}

/* d[k] as an int; -1 when absent. */
static int64_t get_i(rc_runtime *rt, rc_obj *d, int64_t k) {
    rc_obj *key = rc_int(rt, k);
    rc_obj *v = rc_dict_get(rt, d, key);
    rc_decref(key);
    if (!v) {
        assert_int_equal(rc_error(rt), RC_EKEY);
        rc_error_clear(rt);
        return -1;
    }
    return rc_int_value(v);
}

static int del_i(rc_runtime *rt, rc_obj *d, int64_t k) {
    rc_obj *key = rc_int(rt, k);
    int r = rc_dict_del(rt, d, key);
    rc_decref(key);
    return r;
}

static void repr_is(rc_runtime *rt, rc_obj *o, const char *want) {
    char buf[256];
    int n = rc_repr(rt, o, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

/* ---- basics ---- */

static void test_basic(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    assert_non_null(d);
    assert_true(rc_is_dict(d));
    assert_false(rc_is_dict(NULL));
    assert_int_equal(rc_dict_len(d), 0);

    put(rt, d, rc_str(rt, "a"), rc_int(rt, 1));
    put(rt, d, rc_str(rt, "b"), rc_int(rt, 2000));
    assert_int_equal(rc_dict_len(d), 2);
    rc_obj *v = rc_dict_get_str(rt, d, "b");
    assert_non_null(v);
    assert_int_equal(rc_int_value(v), 2000);

    /* replace keeps the length and the position */
    assert_int_equal(rc_dict_set_str(rt, d, "a", v), 0);
    assert_int_equal(rc_dict_len(d), 2);
    assert_ptr_equal(rc_dict_get_str(rt, d, "a"), v);
    assert_int_equal(rc_refcount(v), 2);     /* borrowed; held by both entries */

    /* absent */
    rc_error_clear(rt);
    assert_null(rc_dict_get_str(rt, d, "zzz"));
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_non_null(strstr(rc_error_message(rt), "zzz"));
    rc_error_clear(rt);
    rc_obj *zk = rc_str(rt, "zzz");
    assert_int_equal(rc_dict_contains(rt, d, zk), 0);
    assert_int_equal(rc_error(rt), 0);         /* success leaves the error alone */
    assert_int_equal(rc_dict_del(rt, d, zk), RC_EKEY);
    assert_null(rc_dict_pop(rt, d, zk));
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);

    /* pop returns a new reference */
    rc_obj *ka = rc_str(rt, "a");
    assert_int_equal(rc_dict_contains(rt, d, ka), 1);
    rc_obj *p = rc_dict_pop(rt, d, ka);
    assert_ptr_equal(p, v);
    assert_int_equal(rc_dict_len(d), 1);
    assert_int_equal(rc_dict_contains(rt, d, ka), 0);
    rc_decref(p);
    assert_int_equal(rc_dict_del(rt, d, ka), RC_EKEY);
    rc_obj *kb = rc_str(rt, "b");
    assert_int_equal(rc_dict_del(rt, d, kb), 0);
    assert_int_equal(rc_dict_len(d), 0);

    /* bad arguments */
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_dict_set(rt, l, ka, kb), RC_ETYPE);
    assert_int_equal(rc_dict_set(rt, d, NULL, kb), RC_EINVAL);
    assert_int_equal(rc_dict_set(rt, d, ka, NULL), RC_EINVAL);
    assert_int_equal(rc_dict_set(NULL, d, ka, kb), RC_EINVAL);
    assert_null(rc_dict_get(rt, NULL, ka));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_int_equal(rc_dict_len(l), 0);
    rc_dict_clear(l);                          /* not a dict: ignored */
    assert_int_equal(rc_dict_len(d), 0);
    rc_error_clear(rt);

    rc_decref(l);
    rc_decref(ka);
    rc_decref(kb);
    rc_decref(zk);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- mixed key types: 1 == 1.0, tuples, strs ---- */

static void test_mixed_keys(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);

    rc_obj *one = rc_int(rt, 1), *onef = rc_float(rt, 1.0);
    put(rt, d, rc_int(rt, 1), rc_str(rt, "int"));
    assert_int_equal(rc_dict_set(rt, d, onef, onef), 0);   /* same key: replaces */
    assert_int_equal(rc_dict_len(d), 1);
    assert_ptr_equal(rc_dict_get(rt, d, one), onef);
    rc_iter it;
    rc_obj *k, *v;
    rc_iter_init(&it, d);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
    assert_true(rc_is_int(k));                  /* the first key stays, as in Python */
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 0);

    /* big ints and their float twins */
    rc_obj *big = rc_int(rt, (int64_t)1 << 40), *bigf = rc_float(rt, (double)((int64_t)1 << 40));
    put(rt, d, rc_int(rt, (int64_t)1 << 40), rc_str(rt, "big"));
    assert_non_null(rc_dict_get(rt, d, bigf));
    assert_int_equal(rc_dict_contains(rt, d, big), 1);
    rc_obj *half = rc_float(rt, 0.5);
    put(rt, d, rc_float(rt, 0.5), rc_str(rt, "half"));
    assert_int_equal(rc_dict_contains(rt, d, half), 1);

    /* tuple keys: equal tuples made separately are one key */
    rc_obj *a = rc_str(rt, "a");
    rc_obj *t1 = rc_tuple(rt, 2, one, a), *t2 = rc_tuple(rt, 2, onef, a);
    assert_int_equal(rc_dict_set(rt, d, t1, a), 0);
    assert_ptr_equal(rc_dict_get(rt, d, t2), a);
    rc_obj *t3 = rc_tuple(rt, 2, a, one);        /* order matters */
    assert_int_equal(rc_dict_contains(rt, d, t3), 0);
    rc_obj *empty = rc_tuple(rt, 0);
    assert_int_equal(rc_dict_set(rt, d, empty, empty), 0);

    /* strs: equal contents, different objects */
    put(rt, d, rc_str(rt, "key"), rc_int(rt, 7));
    rc_obj *key2 = rc_str_n(rt, "key!", 3);
    assert_int_equal(rc_int_value(rc_dict_get(rt, d, key2)), 7);
    put(rt, d, rc_str(rt, ""), rc_int(rt, 8));
    assert_int_equal(rc_int_value(rc_dict_get_str(rt, d, "")), 8);
    put(rt, d, rc_bytes(rt, "key", 3), rc_int(rt, 9));   /* bytes != str */
    assert_int_equal(rc_int_value(rc_dict_get(rt, d, key2)), 7);
    assert_int_equal(rc_dict_len(d), 8);

    rc_obj *objs[] = {one, onef, big, bigf, half, a, t1, t2, t3, empty, key2};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rc_decref(objs[i]);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- unhashable keys: RC_ETYPE, dict unchanged ---- */

static void test_unhashable(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    for (int i = 0; i < 5; i++)                  /* full: the next insert would resize */
        put_ii(rt, d, i, i);
    size_t size = rc_sizeof(d);
    rc_iter it;
    rc_iter_init(&it, d);

    rc_obj *l = rc_list(rt), *other = rc_dict(rt), *s = rc_set(rt);
    rc_obj *one = rc_int(rt, 1);
    rc_obj *tl = rc_tuple(rt, 2, one, l);        /* a tuple holding a list */
    rc_obj *bad[] = {l, other, s, tl};
    for (size_t i = 0; i < 4; i++) {
        rc_error_clear(rt);
        assert_int_equal(rc_dict_set(rt, d, bad[i], one), RC_ETYPE);
        assert_int_equal(rc_error(rt), RC_ETYPE);
        assert_null(rc_dict_get(rt, d, bad[i]));
        assert_int_equal(rc_error(rt), RC_ETYPE);
        assert_int_equal(rc_dict_contains(rt, d, bad[i]), RC_ETYPE);
        assert_int_equal(rc_dict_del(rt, d, bad[i]), RC_ETYPE);
    }
    rc_error_clear(rt);
    assert_int_equal(rc_dict_len(d), 5);
    assert_int_equal(rc_sizeof(d), size);
    rc_obj *k;
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);   /* not even the stamp moved */
    assert_int_equal(rc_int_value(k), 0);
    assert_int_equal(rc_refcount(l), 2);               /* l and the tuple */

    rc_decref(tl);
    rc_decref(l);
    rc_decref(other);
    rc_decref(s);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- order across deletes and resizes ---- */

static void check_order(rc_runtime *rt, rc_obj *d, const int64_t *want, size_t n) {
    rc_iter it;
    rc_obj *k, *v;
    rc_iter_init(&it, d);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
        assert_int_equal(rc_int_value(k), want[i]);
        assert_int_equal(rc_int_value(v), want[i] * 10);
    }
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 0);
    assert_int_equal(rc_dict_len(d), n);
}

static void test_order(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    enum { N = 3000 };
    static int64_t want[2 * N];
    size_t n = 0;
    /* descending keys, so hash order differs from insertion order */
    for (int64_t i = N - 1; i >= 0; i--) {
        put_ii(rt, d, i, i * 10);
        want[n++] = i;
    }
    check_order(rt, d, want, n);
    /* delete every third (growth and shrink both rebuild: order survives) */
    n = 0;
    for (int64_t i = N - 1; i >= 0; i--) {
        if (i % 3 == 0)
            assert_int_equal(del_i(rt, d, i), 0);
        else
            want[n++] = i;
    }
    check_order(rt, d, want, n);
    /* re-insert: they go to the end; replacing keeps the place */
    for (int64_t i = 0; i < N; i += 3) {
        put_ii(rt, d, i, i * 10);
        want[n++] = i;
    }
    put_ii(rt, d, N - 1, (N - 1) * 10);
    check_order(rt, d, want, n);
    /* delete most, then grow again */
    size_t keep = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 50 == 0)
            want[keep++] = want[i];
        else
            assert_int_equal(del_i(rt, d, want[i]), 0);
    }
    n = keep;
    check_order(rt, d, want, n);
    for (int64_t i = N; i < 2 * N - 100; i++) {
        put_ii(rt, d, i, i * 10);
        want[n++] = i;
    }
    check_order(rt, d, want, n);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- a seeded run against a reference model ---- */

enum { MODEL_KEYS = 1500 };

typedef struct model {
    int64_t value[MODEL_KEYS];    /* -1: absent */
    uint64_t seq[MODEL_KEYS];     /* insertion sequence of present keys */
    size_t len;
} model;

static int cmp_seq(const void *a, const void *b) {
    const uint64_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

static void test_model(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rct_rng r;
    rct_rng_init(&r, rct_seed(20240607));
    static model m;
    for (size_t i = 0; i < MODEL_KEYS; i++)
        m.value[i] = -1;
    m.len = 0;
    uint64_t seq = 0;
    rc_obj *d = rc_dict(rt);
    size_t ops = rct_scaled(100000, 3000);
    size_t nkeys = MODEL_KEYS - 500;
    for (size_t op = 0; op < ops; op++) {
        /* phases: mostly inserting, then mostly deleting, so the table
         * grows and shrinks several times */
        unsigned phase = (unsigned)((op / 7000) % 3);
        unsigned x = (unsigned)(rct_rng_next(&r) % 100);
        size_t k = rct_rng_range(&r, 0, nkeys - 1);
        /* keys 0..nkeys-1 of the model; ints are stored as k + 1000 */
        rc_obj *key;
        if (rct_rng_next(&r) % 4 == 0) {
            key = rc_float(rt, (double)(k + 1000));
        } else {
            key = rc_int(rt, (int64_t)k + 1000);
        }
        assert_non_null(key);
        unsigned set_pct = phase == 0 ? 60 : phase == 1 ? 20 : 45;
        if (x < set_pct) {
            int64_t val = (int64_t)(rct_rng_next(&r) % 1000000) + 1000;
            rc_obj *v = rc_int(rt, val);
            assert_int_equal(rc_dict_set(rt, d, key, v), 0);
            rc_decref(v);
            if (m.value[k] < 0) {
                m.seq[k] = seq++;
                m.len++;
            }
            m.value[k] = val;
        } else if (x < set_pct + 30) {
            int rr = rc_dict_del(rt, d, key);
            if (m.value[k] < 0) {
                assert_int_equal(rr, RC_EKEY);
                rc_error_clear(rt);
            } else {
                assert_int_equal(rr, 0);
                m.value[k] = -1;
                m.len--;
            }
        } else {
            rc_obj *v = rc_dict_get(rt, d, key);
            if (m.value[k] < 0) {
                assert_null(v);
                rc_error_clear(rt);
            } else {
                assert_non_null(v);
                assert_int_equal(rc_int_value(v), m.value[k]);
            }
            assert_int_equal(rc_dict_contains(rt, d, key), m.value[k] >= 0);
        }
        rc_decref(key);
        assert_int_equal(rc_dict_len(d), m.len);
        if (op % 10007 == 0 || op + 1 == ops) {
            /* full check: order by insertion sequence */
            static uint64_t pairs[MODEL_KEYS][2];
            size_t n = 0;
            for (size_t i = 0; i < nkeys; i++)
                if (m.value[i] >= 0) {
                    pairs[n][0] = m.seq[i];
                    pairs[n][1] = i;
                    n++;
                }
            qsort(pairs, n, sizeof pairs[0], cmp_seq);
            rc_iter it;
            rc_obj *ik, *iv;
            rc_iter_init(&it, d);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(rc_dict_next(rt, &it, &ik, &iv), 1);
                assert_int_equal((int64_t)rc_float_value(ik), (int64_t)pairs[i][1] + 1000);
                assert_int_equal(rc_int_value(iv), m.value[pairs[i][1]]);
            }
            assert_int_equal(rc_dict_next(rt, &it, &ik, &iv), 0);
        }
    }
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- shrinking ---- */

static void test_shrink(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    size_t empty = rc_sizeof(d);
    enum { N = 20000 };
    for (int64_t i = 0; i < N; i++)
        put_ii(rt, d, i, i);
    size_t big = rc_sizeof(d);
    assert_true(big > empty + N * 24);         /* at least the entries */
    for (int64_t i = 0; i < N - 10; i++)
        assert_int_equal(del_i(rt, d, i), 0);
    size_t small = rc_sizeof(d);
    assert_true(small * 50 < big);
    /* at most 64 slots for 10 keys: the block's 24-byte header, the index
     * and 42 entries */
    assert_true(small <= empty + 24 + 64 + 42 * 24);
    for (int64_t i = N - 10; i < N; i++)
        assert_int_equal(get_i(rt, d, i), i);
    /* deleting everything leaves the minimum table; clear frees it */
    for (int64_t i = N - 10; i < N; i++)
        assert_int_equal(del_i(rt, d, i), 0);
    assert_true(rc_sizeof(d) <= small);
    put_ii(rt, d, 5, 5);
    rc_dict_clear(d);
    assert_int_equal(rc_dict_len(d), 0);
    assert_int_equal(rc_sizeof(d), empty);
    /* heavy churn at a constant size does not grow the table */
    for (int64_t i = 0; i < 100; i++)
        put_ii(rt, d, i, i);
    size_t start = rc_sizeof(d), steady = 0;
    for (int64_t i = 100; i < 20000; i++) {
        assert_int_equal(del_i(rt, d, i - 100), 0);
        put_ii(rt, d, i, i);
        if (i == 1000)
            steady = rc_sizeof(d);
        else if (i > 1000)
            assert_int_equal(rc_sizeof(d), steady);   /* rebuilds at the same size */
    }
    assert_int_equal(rc_dict_len(d), 100);
    assert_true(steady <= 2 * start);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- the two entry layouts: str keys only, or any keys ---- */

enum {
    DICT_OBJ = 56,         /* collector links, header, the table's pointer, used, stamp */
    DICT_BLOCK = 24,       /* the table block's header */
    ENTRY_STR = 16,        /* key, value: the str caches its hash */
    ENTRY_ANY = 24         /* hash, key, value */
};

/* The table's bytes for 2**log2 slots of ixbytes each, usable = 2/3. */
static size_t table_bytes(unsigned log2, size_t ixbytes, size_t entry) {
    size_t slots = (size_t)1 << log2;
    return DICT_BLOCK + slots * ixbytes + (2 * slots / 3) * entry;
}

static rc_obj *str_key(rc_runtime *rt, size_t i) {
    char buf[32];
    snprintf(buf, sizeof buf, "key%zu", i);
    rc_obj *k = rc_str(rt, buf);
    assert_non_null(k);
    return k;
}

static void test_entry_layouts(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    /* the empty dict has no table of its own (CPython's {} is 64 bytes) */
    rc_obj *d = rc_dict(rt);
    assert_int_equal(rc_sizeof(d), DICT_OBJ);
    put(rt, d, rc_str(rt, "a"), rc_int(rt, 1));
    assert_int_equal(rc_sizeof(d), DICT_OBJ + table_bytes(3, 1, ENTRY_STR));
    /* CPython's {"a": 1} is 184 bytes */
    assert_true(rc_sizeof(d) <= 184);
    rc_dict_clear(d);
    assert_int_equal(rc_sizeof(d), DICT_OBJ);
    put_ii(rt, d, 1, 1);
    assert_int_equal(rc_sizeof(d), DICT_OBJ + table_bytes(3, 1, ENTRY_ANY));
    rc_decref(d);

    /* 10,000 str keys: 16384 slots of 2 bytes (CPython: 207,616 bytes) */
    d = rc_dict(rt);
    enum { N = 10000 };
    for (size_t i = 0; i < N; i++)
        put(rt, d, str_key(rt, i), rc_int(rt, (int64_t)i));
    assert_int_equal(rc_sizeof(d), DICT_OBJ + table_bytes(14, 2, ENTRY_STR));
    assert_true(rc_sizeof(d) <= 207616);
    /* deletions keep the layout; an int key rebuilds with hashed entries
     * at the same size, order and contents kept */
    for (size_t i = 0; i < N; i += 3) {
        rc_obj *k = str_key(rt, i);
        assert_int_equal(rc_dict_del(rt, d, k), 0);
        rc_decref(k);
    }
    size_t left = rc_dict_len(d);
    /* out of memory for the rebuild: nothing changes, iterators included */
    size_t strsize = rc_sizeof(d);
    rc_iter before;
    rc_iter_init(&before, d);
    rc_obj *seven = rc_int(rt, 7);
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_dict_set(rt, d, seven, seven), RC_ENOMEM);
    rc_runtime_fail_after(rt, -1);
    rc_error_clear(rt);
    assert_int_equal(rc_dict_len(d), left);
    assert_int_equal(rc_sizeof(d), strsize);
    assert_int_equal(rc_refcount(seven), 1);
    rc_obj *first;
    assert_int_equal(rc_iter_next(rt, &before, &first), 1);
    assert_string_equal(rc_str_data(first), "key1");
    rc_decref(seven);
    put_ii(rt, d, 7, 7);
    assert_int_equal(rc_dict_len(d), left + 1);
    assert_int_equal(rc_sizeof(d), DICT_OBJ + table_bytes(14, 2, ENTRY_ANY));
    rc_iter it;
    rc_obj *k, *v;
    rc_iter_init(&it, d);
    for (size_t i = 0; i < N; i++) {
        if (i % 3 == 0)
            continue;
        assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
        assert_int_equal(rc_int_value(v), (int64_t)i);
        char buf[32];
        snprintf(buf, sizeof buf, "key%zu", i);
        assert_string_equal(rc_str_data(k), buf);
        /* found by a new str, by the C string, and absent once deleted */
        rc_obj *again = rc_str(rt, buf);
        assert_ptr_equal(rc_dict_get(rt, d, again), v);
        rc_decref(again);
        assert_ptr_equal(rc_dict_get_str(rt, d, buf), v);
    }
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
    assert_int_equal(rc_int_value(k), 7);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 0);
    assert_int_equal(get_i(rt, d, 7), 7);
    assert_null(rc_dict_get_str(rt, d, "key0"));
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* A dict made by rc_new rather than rc_dict is an empty dict all the same,
 * whichever call reaches it first. */
static void test_made_by_rc_new(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    for (int first = 0; first < 6; first++) {
        rc_obj *d = rc_new(rt, &rc_dict_type), *other = rc_dict(rt);
        assert_non_null(d);
        assert_int_equal(rc_dict_len(d), 0);
        assert_int_equal(rc_sizeof(d), DICT_OBJ);
        rc_iter it;
        rc_obj *k, *v;
        char buf[16];
        switch (first) {
        case 0: assert_null(rc_dict_get_str(rt, d, "a")); rc_error_clear(rt); break;
        case 1: rc_iter_init(&it, d); assert_int_equal(rc_dict_next(rt, &it, &k, &v), 0); break;
        case 2: assert_int_equal(rc_equal(rt, d, other), 1); break;
        case 3: assert_int_equal(rc_repr(rt, d, buf, sizeof buf), 2); assert_string_equal(buf, "{}"); break;
        case 4: assert_int_equal(get_i(rt, d, 1), -1); break;
        default: assert_int_equal(rc_gc_collect(rt, 2) >= 0, 1); break;
        }
        put(rt, d, rc_str(rt, "a"), rc_int(rt, 1));
        put_ii(rt, d, 2, 2);
        assert_int_equal(rc_dict_len(d), 2);
        assert_int_equal(get_i(rt, d, 2), 2);
        assert_int_equal(rc_int_value(rc_dict_get_str(rt, d, "a")), 1);
        rc_decref(d);
        rc_decref(other);
    }
    rc_obj *w = rc_new(rt, &rc_weakvaluedict_type);
    assert_non_null(w);
    assert_int_equal(rc_weakvaluedict_len(w), 0);
    rc_obj *key = rc_str(rt, "k"), *val = rc_list(rt);
    assert_int_equal(rc_weakvaluedict_set(rt, w, key, val), 0);
    assert_ptr_equal(rc_weakvaluedict_get(rt, w, key), val);
    rc_decref(val);
    assert_int_equal(rc_weakvaluedict_len(w), 0);
    rc_decref(key);
    rc_decref(w);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* A key type equal to the str with the same text (and hashing as it does):
 * found among str keys whichever layout the table has. */
typedef struct textkey {
    rc_obj ob;
    char text[16];
} textkey;

static int textkey_hash(rc_obj *self, uint64_t *out) {
    rc_runtime *rt = rc_runtime_new(NULL);
    rc_obj *s = rc_str(rt, ((textkey *)self)->text);
    int r = rc_hash(rt, s, out);
    rc_decref(s);
    rc_runtime_free(rt);
    return r;
}

static int textkey_equal(rc_obj *a, rc_obj *b) {
    if (!rc_is_str(b))
        return 0;
    return strcmp(((textkey *)a)->text, rc_str_data(b)) == 0;
}

static const rc_type textkey_type = {
    .name = "textkey", .size = sizeof(textkey), .hash = textkey_hash, .equal = textkey_equal,
};

static void test_foreign_key_among_strs(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *strs = rc_dict(rt), *mixed = rc_dict(rt);
    put_ii(rt, mixed, -1, -1);                   /* hashed entries from the start */
    assert_int_equal(del_i(rt, mixed, -1), 0);
    for (size_t i = 0; i < 50; i++) {
        put(rt, strs, str_key(rt, i), rc_int(rt, (int64_t)i));
        put(rt, mixed, str_key(rt, i), rc_int(rt, (int64_t)i));
    }
    assert_true(rc_sizeof(strs) < rc_sizeof(mixed));
    for (size_t i = 0; i < 60; i++) {
        textkey *tk = (textkey *)rc_new(rt, &textkey_type);
        assert_non_null(tk);
        snprintf(tk->text, sizeof tk->text, "key%zu", i);
        rc_obj *a = NULL, *b = NULL;
        int ra = rc_dict_find(rt, strs, &tk->ob, &a), rb = rc_dict_find(rt, mixed, &tk->ob, &b);
        assert_int_equal(ra, i < 50 ? 1 : 0);
        assert_int_equal(rb, ra);
        if (ra)
            assert_int_equal(rc_int_value(a), rc_int_value(b));
        /* storing it makes the str-only table hashed: the str entry's value
         * is replaced, nothing is added */
        if (i == 10) {
            rc_obj *v = rc_int(rt, 1000);
            assert_int_equal(rc_dict_set(rt, strs, &tk->ob, v), 0);
            rc_decref(v);
            assert_int_equal(rc_dict_len(strs), 50);
            assert_int_equal(rc_int_value(rc_dict_get_str(rt, strs, "key10")), 1000);
        }
        rc_decref(&tk->ob);
    }
    rc_decref(strs);
    rc_decref(mixed);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- iteration ---- */

static void test_iteration(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    rc_iter it;
    rc_obj *k, *v;

    rc_iter_init(&it, d);                       /* empty dict */
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 0);
    assert_int_equal(rc_iter_next(rt, &it, &k), 0);

    for (int64_t i = 0; i < 10; i++)
        put_ii(rt, d, i, i);
    /* replacing values while iterating is allowed */
    rc_iter_init(&it, d);
    int64_t expect = 0;
    while (rc_dict_next(rt, &it, &k, &v) == 1) {
        assert_int_equal(rc_int_value(k), expect);
        put_ii(rt, d, expect, expect + 500);
        expect++;
    }
    assert_int_equal(expect, 10);
    assert_int_equal(get_i(rt, d, 3), 503);

    /* rc_iter_next gives keys; NULL value output is allowed */
    rc_iter_init(&it, d);
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);
    assert_int_equal(rc_int_value(k), 0);
    assert_int_equal(rc_dict_next(rt, &it, &k, NULL), 1);
    assert_int_equal(rc_int_value(k), 1);
    assert_int_equal(rc_dict_next(rt, &it, NULL, &v), 1);
    assert_int_equal(rc_int_value(v), 502);

    /* insert during iteration: RC_ESTATE, and it stays so */
    put_ii(rt, d, 100, 1);
    rc_error_clear(rt);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), RC_ESTATE);
    assert_int_equal(rc_error(rt), RC_ESTATE);
    assert_int_equal(rc_iter_next(rt, &it, &k), RC_ESTATE);
    rc_error_clear(rt);

    /* delete during iteration */
    rc_iter_init(&it, d);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
    assert_int_equal(del_i(rt, d, 5), 0);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), RC_ESTATE);
    /* clear during iteration */
    rc_iter_init(&it, d);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
    rc_dict_clear(d);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), RC_ESTATE);
    /* a failed insert (unhashable) changes nothing */
    put_ii(rt, d, 1, 1);
    rc_iter_init(&it, d);
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_dict_set(rt, d, l, l), RC_ETYPE);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 1);
    assert_int_equal(rc_dict_next(rt, &it, &k, &v), 0);
    rc_error_clear(rt);

    /* iterating after deletions skips the holes */
    rc_dict_clear(d);
    for (int64_t i = 0; i < 50; i++)
        put_ii(rt, d, i, i);
    for (int64_t i = 0; i < 50; i += 2)
        assert_int_equal(del_i(rt, d, i), 0);
    rc_iter_init(&it, d);
    expect = 1;
    while (rc_dict_next(rt, &it, &k, &v) == 1) {
        assert_int_equal(rc_int_value(k), expect);
        expect += 2;
    }
    assert_int_equal(expect, 51);

    rc_decref(l);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- repr and equality ---- */

static void test_repr_equal(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    repr_is(rt, d, "{}");
    put(rt, d, rc_str(rt, "a"), rc_int(rt, 1));
    repr_is(rt, d, "{'a': 1}");
    put(rt, d, rc_int(rt, 2), rc_str(rt, "b"));
    repr_is(rt, d, "{'a': 1, 2: 'b'}");
    rc_obj *l = rc_list(rt);
    rc_obj *one = rc_int(rt, 1);
    assert_int_equal(rc_list_append(rt, l, one), 0);
    rc_obj *tk = rc_tuple(rt, 2, one, one);
    put(rt, d, tk, l);
    repr_is(rt, d, "{'a': 1, 2: 'b', (1, 1): [1]}");
    /* a dict that contains itself */
    assert_int_equal(rc_dict_set_str(rt, d, "self", d), 0);
    repr_is(rt, d, "{'a': 1, 2: 'b', (1, 1): [1], 'self': {...}}");
    /* truncation: snprintf contract, a clean prefix */
    char small[12];
    memset(small, 'X', sizeof small);
    int n = rc_repr(rt, d, small, sizeof small);
    assert_int_equal(n, (int)strlen("{'a': 1, 2: 'b', (1, 1): [1], 'self': {...}}"));
    assert_true(strlen(small) < sizeof small);
    assert_memory_equal(small, "{'a': 1, 2: 'b'", strlen(small));
    assert_int_equal(rc_repr(rt, d, NULL, 0), n);
    char one_byte[1];
    assert_int_equal(rc_repr(rt, d, one_byte, 1), n);
    assert_int_equal(one_byte[0], '\0');
    rc_obj *ks = rc_str(rt, "self");
    assert_int_equal(rc_dict_del(rt, d, ks), 0);   /* break the cycle */
    rc_decref(ks);

    /* equality: same items in another order; values compared with == */
    rc_obj *e = rc_dict(rt);
    put(rt, e, rc_int(rt, 2), rc_str(rt, "b"));
    rc_obj *tk2 = rc_tuple(rt, 2, one, one);
    rc_obj *l2 = rc_list(rt);
    rc_obj *onef = rc_float(rt, 1.0);
    assert_int_equal(rc_list_append(rt, l2, onef), 0);
    put(rt, e, tk2, l2);
    assert_int_equal(rc_equal(rt, d, e), 0);      /* 'a' missing */
    put(rt, e, rc_str(rt, "a"), rc_float(rt, 1.0));
    assert_int_equal(rc_equal(rt, d, e), 1);      /* 1 == 1.0, [1] == [1.0] */
    assert_int_equal(rc_equal(rt, e, d), 1);
    rc_dict_set_str(rt, e, "a", tk);
    assert_int_equal(rc_equal(rt, d, e), 0);      /* a value differs */
    assert_int_equal(rc_equal(rt, d, l), 0);      /* another type */
    assert_int_equal(rc_equal(rt, d, d), 1);
    rc_obj *e0 = rc_dict(rt), *e1 = rc_dict(rt);
    assert_int_equal(rc_equal(rt, e0, e1), 1);

    /* unhashable itself */
    uint64_t h;
    assert_int_equal(rc_hash(rt, d, &h), RC_ETYPE);
    rc_error_clear(rt);

    rc_decref(onef);
    rc_decref(e0);
    rc_decref(e1);
    rc_decref(one);
    rc_decref(e);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- out of memory: the dict is unchanged ---- */

static void test_oom(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    rc_obj *keys[6];
    for (int i = 0; i < 6; i++)
        keys[i] = rc_int(rt, 1000 + i);
    /* first insert into an empty dict needs a table */
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_dict_set(rt, d, keys[0], keys[0]), RC_ENOMEM);
    assert_int_equal(rc_error(rt), RC_ENOMEM);
    assert_int_equal(rc_dict_len(d), 0);
    assert_int_equal(rc_refcount(keys[0]), 1);
    rc_runtime_fail_after(rt, -1);
    rc_error_clear(rt);
    for (int i = 0; i < 5; i++)
        assert_int_equal(rc_dict_set(rt, d, keys[i], keys[i]), 0);
    size_t size = rc_sizeof(d);
    rc_iter it;
    rc_iter_init(&it, d);
    /* the sixth needs a bigger table */
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_dict_set(rt, d, keys[5], keys[5]), RC_ENOMEM);
    assert_int_equal(rc_dict_len(d), 5);
    assert_int_equal(rc_sizeof(d), size);
    assert_int_equal(rc_refcount(keys[5]), 1);
    /* replacing needs no memory */
    assert_int_equal(rc_dict_set(rt, d, keys[0], keys[1]), 0);
    rc_obj *k;
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);   /* stamp unchanged */
    rc_runtime_fail_after(rt, -1);
    for (int i = 0; i < 5; i++)
        assert_ptr_equal(rc_dict_get(rt, d, keys[i]), keys[i == 0 ? 1 : i]);
    assert_int_equal(rc_dict_set(rt, d, keys[5], keys[5]), 0);
    assert_int_equal(rc_dict_len(d), 6);

    /* a shrink that cannot allocate is benign: the deletions succeed */
    for (int64_t i = 0; i < 2000; i++)
        put_ii(rt, d, i + 5000, i);
    rc_error_clear(rt);
    size = rc_sizeof(d);
    rc_obj *dk[1990];
    for (int64_t i = 0; i < 1990; i++)
        dk[i] = rc_int(rt, i + 5000);
    rc_error_clear(rt);
    rc_runtime_fail_after(rt, 0);
    for (int64_t i = 0; i < 1990; i++)
        assert_int_equal(rc_dict_del(rt, d, dk[i]), 0);
    assert_int_equal(rc_error(rt), 0);
    assert_true(rc_runtime_fail_after(rt, -1) > 0);   /* shrinks were attempted */
    assert_int_equal(rc_sizeof(d), size);
    assert_int_equal(rc_dict_len(d), 16);
    /* the next deletion shrinks */
    rc_obj *kd = rc_int(rt, 1995 + 5000);
    assert_int_equal(rc_dict_del(rt, d, kd), 0);
    assert_true(rc_sizeof(d) < size);
    rc_decref(kd);
    for (int64_t i = 0; i < 1990; i++)
        rc_decref(dk[i]);

    /* sweep: build a dict with the n-th allocation failing, for every n */
    for (long n = 0;; n++) {
        rc_obj *sd = rc_dict(rt);
        assert_non_null(sd);
        rc_runtime_fail_after(rt, n);
        size_t ok = 0;
        for (int i = 0; i < 6; i++) {
            int r = rc_dict_set(rt, sd, keys[i], keys[i]);
            if (r == 0)
                ok++;
            else
                assert_int_equal(r, RC_ENOMEM);
            assert_int_equal(rc_dict_len(sd), ok);
        }
        long failed = rc_runtime_fail_after(rt, -1);
        rc_decref(sd);
        rc_error_clear(rt);
        if (failed == 0)
            break;
    }

    for (int i = 0; i < 6; i++)
        rc_decref(keys[i]);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- re-entrancy: user code that mutates the dict ---- */

typedef struct evil {
    rc_obj ob;
    int64_t id;
} evil;

enum { EVIL_NONE, EVIL_CLEAR, EVIL_GROW, EVIL_ALWAYS, EVIL_DELETE_SELF };
static int g_evil_mode;
static rc_obj *g_evil_dict;
static int g_evil_calls;
static rc_runtime *g_evil_rt;
static int64_t g_evil_next = 100000;

static int evil_hash(rc_obj *self, uint64_t *out) {
    (void)self;
    *out = 42;                          /* every evil key collides */
    return 0;
}

static int evil_equal(rc_obj *a, rc_obj *b) {
    g_evil_calls++;
    rc_runtime *rt = g_evil_rt;
    int mode = g_evil_mode;
    if (mode == EVIL_CLEAR) {
        g_evil_mode = EVIL_NONE;
        rc_dict_clear(g_evil_dict);
    } else if (mode == EVIL_GROW) {
        g_evil_mode = EVIL_NONE;
        for (int i = 0; i < 200; i++)
            put_ii(rt, g_evil_dict, g_evil_next++, 0);
    } else if (mode == EVIL_ALWAYS) {
        put_ii(rt, g_evil_dict, g_evil_next++, 0);
    } else if (mode == EVIL_DELETE_SELF) {
        g_evil_mode = EVIL_NONE;
        /* delete the entry being compared: a (our temporary reference keeps
         * it alive until the comparison returns) */
        assert_int_equal(rc_dict_del(rt, g_evil_dict, a), 0);
    }
    if (rc_typeof(b) != rc_typeof(a))
        return 0;
    return ((evil *)a)->id == ((evil *)b)->id;
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

/* A value whose destruction inserts into g_evil_dict. */
static void grower_destroy(rc_obj *self) {
    (void)self;
    if (g_evil_dict)
        put_ii(g_evil_rt, g_evil_dict, g_evil_next++, 1);
}

static const rc_type grower_type = {
    .name = "grower", .size = sizeof(rc_obj), .destroy = grower_destroy,
};

static void test_reentrancy(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    g_evil_rt = rt;
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    g_evil_dict = d;
    rc_obj *ev[5];
    for (int i = 0; i < 5; i++) {
        ev[i] = new_evil(rt, i);
        assert_int_equal(rc_dict_set(rt, d, ev[i], ev[i]), 0);
    }
    rc_obj *probe = new_evil(rt, 4);             /* equal to ev[4], another object */

    /* a comparison that clears the dict: the lookup restarts, finds nothing */
    g_evil_mode = EVIL_CLEAR;
    assert_null(rc_dict_get(rt, d, probe));
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_int_equal(rc_dict_len(d), 0);
    rc_error_clear(rt);

    /* a comparison that grows the dict (the table moves) */
    for (int i = 0; i < 5; i++)
        assert_int_equal(rc_dict_set(rt, d, ev[i], ev[i]), 0);
    g_evil_mode = EVIL_GROW;
    assert_ptr_equal(rc_dict_get(rt, d, probe), ev[4]);
    assert_int_equal(rc_dict_len(d), 205);
    /* set through a comparing lookup replaces the right entry */
    g_evil_mode = EVIL_GROW;
    assert_int_equal(rc_dict_set(rt, d, probe, probe), 0);
    assert_int_equal(rc_dict_len(d), 405);
    assert_ptr_equal(rc_dict_get(rt, d, ev[4]), probe);

    /* a comparison that always mutates: bounded restarts, then RC_ESTATE */
    g_evil_mode = EVIL_ALWAYS;
    g_evil_calls = 0;
    rc_obj *probe2 = new_evil(rt, 77);
    assert_int_equal(rc_dict_contains(rt, d, probe2), RC_ESTATE);
    assert_int_equal(rc_error(rt), RC_ESTATE);
    assert_true(g_evil_calls > 100 && g_evil_calls < 1000);
    g_evil_mode = EVIL_NONE;
    rc_error_clear(rt);

    /* the compared entry deleted by the comparison itself */
    rc_dict_clear(d);
    for (int i = 0; i < 5; i++)
        assert_int_equal(rc_dict_set(rt, d, ev[i], ev[i]), 0);
    for (int i = 0; i < 5; i++)
        rc_decref(ev[i]);                       /* the dict holds the only refs */
    g_evil_mode = EVIL_DELETE_SELF;
    assert_int_equal(rc_dict_contains(rt, d, probe), 1);   /* ev[0] compared first, deleted */
    assert_int_equal(rc_dict_len(d), 4);

    /* destructors that insert while the dict clears or deletes */
    rc_dict_clear(d);
    for (int i = 0; i < 20; i++) {
        rc_obj *g = rc_new(rt, &grower_type);
        put(rt, d, rc_int(rt, 5000 + i), g);
    }
    rc_dict_clear(d);                            /* each destroy inserts again */
    assert_int_equal(rc_dict_len(d), 0);         /* and clear repeats until empty */
    for (int i = 0; i < 3; i++) {
        rc_obj *g = rc_new(rt, &grower_type);
        put(rt, d, rc_int(rt, 6000 + i), g);
    }
    assert_int_equal(del_i(rt, d, 6001), 0);     /* the destroy inserts afterwards */
    assert_int_equal(rc_dict_len(d), 3);
    rc_obj *g = rc_new(rt, &grower_type);
    put(rt, d, rc_int(rt, 6000), g);             /* replacing: old value's destroy inserts */
    assert_int_equal(rc_dict_len(d), 4);
    g_evil_dict = NULL;

    rc_decref(probe);
    rc_decref(probe2);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- cycles: a dict holding itself is released by the runtime ---- */

static void test_self_reference_teardown(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *d = rc_dict(rt);
    assert_int_equal(rc_dict_set_str(rt, d, "me", d), 0);
    assert_int_equal(rc_refcount(d), 2);
    rc_obj *keys = rc_dict(rt);
    assert_int_equal(rc_dict_set_str(rt, keys, "d", d), 0);
    rc_decref(keys);
    assert_int_equal(rc_refcount(d), 2);
    rc_decref(d);                              /* a cycle now: teardown frees it */
    rc_runtime_free(rt);
}

/* ---- the cycle collector sees through dicts (traverse) and breaks their
 * cycles (clear) ---- */

static void test_gc(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt), *e = rc_dict(rt);
    assert_true(rc_gc_is_tracked(d));
    assert_int_equal(rc_dict_set_str(rt, d, "me", d), 0);
    assert_int_equal(rc_dict_set_str(rt, d, "e", e), 0);
    put(rt, e, rc_int(rt, 1000), rc_str(rt, "payload"));
    assert_int_equal(rc_dict_set(rt, e, d, d), RC_ETYPE);   /* dicts are unhashable */
    rc_error_clear(rt);
    rc_obj *key = rc_tuple(rt, 1, e);                        /* hashable? no: e is not */
    assert_non_null(key);
    assert_int_equal(rc_dict_set(rt, e, key, d), RC_ETYPE);
    rc_error_clear(rt);
    assert_int_equal(rc_dict_set_str(rt, e, "back", d), 0);  /* d <-> e */
    rc_decref(key);
    /* referents: keys and values */
    rc_obj *refs = rc_gc_get_referents(rt, d);
    assert_non_null(refs);
    assert_int_equal(rc_list_len(refs), 4);
    rc_decref(refs);
    rc_decref(e);
    rc_decref(d);
    assert_true(rc_runtime_object_count(rt) > base);
    assert_true(rc_gc_collect(rt, 2) >= 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_mixed_keys),
        cmocka_unit_test(test_unhashable),
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_shrink),
        cmocka_unit_test(test_entry_layouts),
        cmocka_unit_test(test_foreign_key_among_strs),
        cmocka_unit_test(test_made_by_rc_new),
        cmocka_unit_test(test_iteration),
        cmocka_unit_test(test_repr_equal),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_reentrancy),
        cmocka_unit_test(test_self_reference_teardown),
        cmocka_unit_test(test_gc),
    };
    return rct_run_tests(tests, NULL, NULL);
}
