/* rc-test: oom stress */
/* test_weakdict.c - rc_weakvaluedict through the public API: entries vanish
 * when their value's last reference goes (get, len and iteration agree at
 * once), deaths during iteration (no crash, no RC_ESTATE: a death is not a
 * structural change), lazy purging that releases the keys of dead entries,
 * replacing values, keys of mixed types, unhashable keys, out-of-memory,
 * and the dict dying before, with or after its values (the values' deaths
 * must not reach a freed dict). Object counts come back to baseline. */
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

/* A value that can die: a float (heap-allocated, not cached). */
static rc_obj *value(rc_runtime *rt, double x) {
    rc_obj *v = rc_float(rt, x);
    assert_non_null(v);
    return v;
}

static void wset_i(rc_runtime *rt, rc_obj *d, int64_t k, rc_obj *v) {
    rc_obj *key = rc_int(rt, k);
    assert_int_equal(rc_weakvaluedict_set(rt, d, key, v), 0);
    rc_decref(key);
}

static rc_obj *wget_i(rc_runtime *rt, rc_obj *d, int64_t k) {
    rc_obj *key = rc_int(rt, k);
    rc_obj *v = rc_weakvaluedict_get(rt, d, key);
    rc_decref(key);
    if (!v) {
        assert_int_equal(rc_error(rt), RC_EKEY);
        rc_error_clear(rt);
    }
    return v;
}

static int wdel_i(rc_runtime *rt, rc_obj *d, int64_t k) {
    rc_obj *key = rc_int(rt, k);
    int r = rc_weakvaluedict_del(rt, d, key);
    rc_decref(key);
    rc_error_clear(rt);
    return r;
}

static void test_basic(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    assert_non_null(d);
    assert_ptr_equal(rc_typeof(d), &rc_weakvaluedict_type);
    assert_int_equal(rc_weakvaluedict_len(d), 0);

    rc_obj *v1 = value(rt, 1.5), *v2 = value(rt, 2.5);
    wset_i(rt, d, 1000, v1);
    wset_i(rt, d, 2000, v2);
    assert_int_equal(rc_refcount(v1), 1);              /* held weakly */
    assert_int_equal(rc_weakref_count(v1), 1);
    assert_int_equal(rc_weakvaluedict_len(d), 2);
    assert_ptr_equal(wget_i(rt, d, 1000), v1);
    assert_ptr_equal(wget_i(rt, d, 2000), v2);
    assert_null(wget_i(rt, d, 3000));

    /* the value dies: the entry is gone for every reader at once */
    rc_decref(v1);
    assert_null(wget_i(rt, d, 1000));
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    assert_int_equal(wdel_i(rt, d, 1000), RC_EKEY);     /* already absent */
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    assert_int_equal(wdel_i(rt, d, 2000), 0);
    assert_int_equal(rc_weakvaluedict_len(d), 0);
    assert_int_equal(rc_weakref_count(v2), 0);         /* its weakref went with the entry */
    assert_int_equal(wdel_i(rt, d, 2000), RC_EKEY);

    /* replace: the old value no longer counts */
    rc_obj *v3 = value(rt, 3.5), *v4 = value(rt, 4.5);
    wset_i(rt, d, 5, v3);
    wset_i(rt, d, 5, v4);
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    assert_ptr_equal(wget_i(rt, d, 5), v4);
    assert_int_equal(rc_weakref_count(v3), 0);
    rc_decref(v3);
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    /* setting a dead key adds it anew, at the end */
    wset_i(rt, d, 6, v2);
    rc_decref(v4);
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    rc_obj *v5 = value(rt, 5.5);
    wset_i(rt, d, 5, v5);
    assert_int_equal(rc_weakvaluedict_len(d), 2);
    rc_iter it;
    rc_obj *k;
    rc_iter_init(&it, d);
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);
    assert_int_equal(rc_int_value(k), 6);
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);
    assert_int_equal(rc_int_value(k), 5);
    assert_int_equal(rc_iter_next(rt, &it, &k), 0);

    /* an immortal value can have no weak reference: refused, nothing
     * changes; one value under several keys */
    rc_obj *small = rc_int(rt, 7), *key7 = rc_int(rt, 7);
    assert_int_equal(rc_weakvaluedict_set(rt, d, key7, small), RC_ETYPE);
    assert_int_equal(rc_error(rt), RC_ETYPE);
    rc_error_clear(rt);
    assert_int_equal(rc_weakvaluedict_len(d), 2);
    assert_null(wget_i(rt, d, 7));
    wset_i(rt, d, 7, v5);
    wset_i(rt, d, 8, v5);
    assert_int_equal(rc_weakref_count(v5), 3);
    assert_int_equal(rc_weakvaluedict_len(d), 4);
    rc_decref(v5);
    assert_int_equal(rc_weakvaluedict_len(d), 1);

    /* bad arguments, unhashable keys: RC_ETYPE and nothing changes */
    rc_obj *l = rc_list(rt), *one = rc_int(rt, 1);
    assert_int_equal(rc_weakvaluedict_set(rt, d, l, v2), RC_ETYPE);
    assert_null(rc_weakvaluedict_get(rt, d, l));
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_int_equal(rc_weakvaluedict_del(rt, d, l), RC_ETYPE);
    assert_int_equal(rc_weakvaluedict_set(rt, l, one, v2), RC_ETYPE);
    assert_int_equal(rc_weakvaluedict_set(rt, d, one, NULL), RC_EINVAL);
    assert_int_equal(rc_weakvaluedict_set(NULL, d, one, v2), RC_EINVAL);
    assert_int_equal(rc_weakvaluedict_len(l), 0);
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    assert_int_equal(rc_weakref_count(v2), 1);
    rc_error_clear(rt);

    char buf[64];
    assert_true(rc_repr(rt, d, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "WeakValueDictionary"));
    uint64_t h;
    assert_int_equal(rc_hash(rt, d, &h), RC_ETYPE);
    rc_error_clear(rt);

    rc_decref(l);
    rc_decref(d);
    assert_int_equal(rc_weakref_count(v2), 0);
    rc_decref(v2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Keys of several types; 1 and 1.0 are one key. */
static void test_mixed_keys(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    rc_obj *v = value(rt, 0.25);
    rc_obj *one = rc_int(rt, 1), *onef = rc_float(rt, 1.0), *s = rc_str(rt, "name");
    rc_obj *t = rc_tuple(rt, 2, one, s), *tf = rc_tuple(rt, 2, onef, s);
    assert_int_equal(rc_weakvaluedict_set(rt, d, one, v), 0);
    assert_ptr_equal(rc_weakvaluedict_get(rt, d, onef), v);
    assert_int_equal(rc_weakvaluedict_set(rt, d, t, v), 0);
    assert_ptr_equal(rc_weakvaluedict_get(rt, d, tf), v);
    assert_int_equal(rc_weakvaluedict_set(rt, d, s, s), 0);
    assert_int_equal(rc_weakvaluedict_len(d), 3);
    rc_decref(v);
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    assert_ptr_equal(rc_weakvaluedict_get(rt, d, s), s);
    rc_obj *objs[] = {d, one, onef, s, t, tf};
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rc_decref(objs[i]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Values die while the dict is iterated: the iteration goes on, skipping
 * them; a mutation afterwards (which may purge) stops it with RC_ESTATE. */
static void test_deaths_during_iteration(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    enum { N = 64 };
    rc_obj *vals[N];
    for (int i = 0; i < N; i++) {
        vals[i] = value(rt, i);
        wset_i(rt, d, 1000 + i, vals[i]);
    }
    rc_iter it;
    rc_obj *k;
    rc_iter_init(&it, d);
    int seen = 0;
    int64_t last = -1;
    while (1) {
        int r = rc_iter_next(rt, &it, &k);
        assert_true(r == 0 || r == 1);
        if (r == 0)
            break;
        int64_t i = rc_int_value(k) - 1000;
        assert_true(i > last);
        last = i;
        assert_true(i % 3 != 0 || i < 10);      /* killed ones are skipped */
        seen++;
        if (i == 9) {
            /* kill every third value, before and after the position */
            for (int j = 0; j < N; j += 3) {
                rc_decref(vals[j]);
                vals[j] = NULL;
            }
        }
        if (i != 9)                             /* 9 itself was just killed */
            assert_non_null(wget_i(rt, d, rc_int_value(k)));   /* reads do not disturb it */
        (void)rc_weakvaluedict_len(d);
    }
    /* 0..9 all seen (10), then the survivors among 10..63 */
    int survivors = 0;
    for (int i = 10; i < N; i++)
        survivors += i % 3 != 0;
    assert_int_equal(seen, 10 + survivors);
    assert_int_equal(rc_weakvaluedict_len(d), (size_t)(N - (N + 2) / 3));

    /* a mutation while iterating is RC_ESTATE as for any container */
    rc_iter_init(&it, d);
    assert_int_equal(rc_iter_next(rt, &it, &k), 1);
    rc_obj *nv = value(rt, -1);
    wset_i(rt, d, 5000, nv);
    assert_int_equal(rc_iter_next(rt, &it, &k), RC_ESTATE);
    rc_error_clear(rt);

    for (int i = 0; i < N; i++)
        rc_xdecref(vals[i]);
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    rc_decref(nv);
    assert_int_equal(rc_weakvaluedict_len(d), 0);
    rc_iter_init(&it, d);
    assert_int_equal(rc_iter_next(rt, &it, &k), 0);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Dead entries' keys are released by a later mutation; the table shrinks. */
static void test_purge(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    size_t empty = rc_sizeof(d);
    enum { N = 2000 };
    static rc_obj *vals[N];
    for (int i = 0; i < N; i++) {
        vals[i] = value(rt, i);
        wset_i(rt, d, 100000 + i, vals[i]);     /* keys: heap ints, held by d only */
    }
    size_t full = rc_runtime_object_count(rt);
    assert_int_equal(full, base + 1 + 2 * N + N); /* d, values, keys, weakrefs */
    size_t big = rc_sizeof(d);
    for (int i = 0; i < N - 5; i++)
        rc_decref(vals[i]);
    assert_int_equal(rc_weakvaluedict_len(d), 5);
    /* the keys of dead entries are still held ... */
    assert_int_equal(rc_runtime_object_count(rt), base + 1 + 5 + 2 * N);
    /* ... until a mutation purges them */
    rc_obj *v = value(rt, -1);
    wset_i(rt, d, 7, v);
    assert_int_equal(rc_weakvaluedict_len(d), 6);
    assert_int_equal(rc_runtime_object_count(rt), base + 1 + 6 + 6 + 5);
    assert_true(rc_sizeof(d) * 10 < big);
    for (int i = N - 5; i < N; i++) {
        assert_ptr_equal(wget_i(rt, d, 100000 + i), vals[i]);
        rc_decref(vals[i]);
    }
    rc_decref(v);
    assert_int_equal(rc_weakvaluedict_len(d), 0);
    assert_int_equal(wdel_i(rt, d, 7), RC_EKEY);   /* purges everything */
    assert_int_equal(rc_runtime_object_count(rt), base + 1);
    assert_true(rc_sizeof(d) <= empty + 8 + 5 * 24);

    /* steady churn: values die all the time, memory stays bounded */
    size_t peak = 0;
    for (int i = 0; i < 20000; i++) {
        rc_obj *x = value(rt, i);
        wset_i(rt, d, 200000 + i, x);
        rc_decref(x);                          /* dies at once */
        size_t n = rc_runtime_object_count(rt);
        if (n > peak)
            peak = n;
    }
    assert_int_equal(rc_weakvaluedict_len(d), 0);
    assert_true(peak < base + 1 + 200);       /* purges keep up */
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* The dict dies before its values: their later deaths must not reach it
 * (ASan / valgrind catch a callback into freed memory). */
static void test_dict_dies_first(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    rc_obj *v = value(rt, 1), *w = value(rt, 2);
    wset_i(rt, d, 1000, v);
    wset_i(rt, d, 1001, w);
    wset_i(rt, d, 1002, v);
    rc_decref(d);
    assert_int_equal(rc_weakref_count(v), 0);
    rc_decref(v);
    rc_decref(w);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* The dict and its values die in the same cascade, in either order (the
 * object layer then defers deallocations through its queue). */
static void test_die_together(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    for (int order = 0; order < 2; order++) {
        rc_obj *l = rc_list(rt);
        rc_obj *d = rc_weakvaluedict(rt);
        rc_obj *v = value(rt, 1), *w = value(rt, 2);
        wset_i(rt, d, 1000, v);
        wset_i(rt, d, 1001, w);
        if (order == 0) {
            assert_int_equal(rc_list_append(rt, l, d), 0);
            assert_int_equal(rc_list_append(rt, l, v), 0);
            assert_int_equal(rc_list_append(rt, l, w), 0);
        } else {
            assert_int_equal(rc_list_append(rt, l, v), 0);
            assert_int_equal(rc_list_append(rt, l, d), 0);
            assert_int_equal(rc_list_append(rt, l, w), 0);
        }
        rc_decref(d);
        rc_decref(v);
        rc_decref(w);
        rc_decref(l);                          /* frees all of them */
        assert_int_equal(rc_runtime_object_count(rt), base);
    }
    /* a value whose death is caused by the dict's own destruction: the key
     * holds the value (the key is a tuple containing it) */
    rc_obj *d = rc_weakvaluedict(rt);
    rc_obj *v = value(rt, 3);
    rc_obj *key = rc_tuple(rt, 1, v);
    assert_int_equal(rc_weakvaluedict_set(rt, d, key, v), 0);
    rc_decref(key);
    rc_decref(v);                              /* kept alive by the key */
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Another weakref's callback on the same value drops the dict while the
 * value's callbacks run; the dict's own callback comes next and must not
 * touch it. */
static rc_obj *g_dict;
static int g_calls;

static void drop_dict(rc_obj *ref, void *arg) {
    (void)ref;
    (void)arg;
    g_calls++;
    rc_obj *d = g_dict;
    g_dict = NULL;
    rc_xdecref(d);
}

static void test_callback_drops_dict(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    for (int round = 0; round < 2; round++) {
        rc_obj *d = rc_weakvaluedict(rt);
        rc_obj *v = value(rt, 1);
        rc_obj *w = NULL;
        if (round == 1)                          /* its callback runs last */
            w = rc_weakref_new(rt, v, drop_dict, NULL);
        wset_i(rt, d, 1000, v);
        wset_i(rt, d, 1001, v);
        if (round == 0)                          /* its callback runs first */
            w = rc_weakref_new(rt, v, drop_dict, NULL);
        assert_non_null(w);
        g_dict = d;
        g_calls = 0;
        rc_decref(v);
        assert_int_equal(g_calls, 1);
        assert_null(g_dict);
        rc_decref(w);
        assert_int_equal(rc_runtime_object_count(rt), base);
    }
    rc_runtime_free(rt);
}

static void test_oom(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    rc_obj *v = value(rt, 1);
    rc_obj *keys[8];
    for (int i = 0; i < 8; i++)
        keys[i] = rc_int(rt, 1000 + i);
    for (long n = 0;; n++) {
        rc_runtime_fail_after(rt, n);
        size_t ok = 0;
        for (int i = 0; i < 8; i++) {
            int r = rc_weakvaluedict_set(rt, d, keys[i], v);
            if (r == 0)
                ok++;
            else
                assert_int_equal(r, RC_ENOMEM);
        }
        long failed = rc_runtime_fail_after(rt, -1);
        assert_int_equal(rc_weakvaluedict_len(d), ok);
        assert_int_equal(rc_weakref_count(v), ok);
        for (int i = 0; i < 8; i++)
            rc_weakvaluedict_del(rt, d, keys[i]);
        rc_error_clear(rt);
        assert_int_equal(rc_weakvaluedict_len(d), 0);
        if (failed == 0)
            break;
    }
    for (int i = 0; i < 8; i++)
        rc_decref(keys[i]);
    rc_decref(v);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* A seeded run against a model: values live in a pool of slots that the
 * test kills and refills at random. */
static void test_model(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rct_rng r;
    rct_rng_init(&r, rct_seed(4242));
    enum { NKEYS = 400, NVALS = 64 };
    static rc_obj *pool[NVALS];
    static unsigned gen[NVALS];               /* bumped when a slot gets a new value */
    static int map[NKEYS];                    /* key -> pool slot, -1 absent */
    static unsigned mapgen[NKEYS];            /* gen of the slot's value at set time */
    for (int i = 0; i < NKEYS; i++)
        map[i] = -1;
    memset(pool, 0, sizeof pool);
    memset(gen, 0, sizeof gen);
#define ALIVE(k) (map[k] >= 0 && pool[map[k]] != NULL && gen[map[k]] == mapgen[k])
    rc_obj *d = rc_weakvaluedict(rt);
    size_t ops = rct_scaled(30000, 2000);
    for (size_t op = 0; op < ops; op++) {
        unsigned x = (unsigned)(rct_rng_next(&r) % 100);
        int k = (int)rct_rng_range(&r, 0, NKEYS - 1);
        int slot = (int)rct_rng_range(&r, 0, NVALS - 1);
        if (x < 45) {
            if (!pool[slot]) {
                pool[slot] = value(rt, slot);
                gen[slot]++;
            }
            wset_i(rt, d, 10000 + k, pool[slot]);
            map[k] = slot;
            mapgen[k] = gen[slot];
        } else if (x < 60) {
            int alive = ALIVE(k);
            assert_int_equal(wdel_i(rt, d, 10000 + k), alive ? 0 : RC_EKEY);
            map[k] = -1;
        } else if (x < 75) {
            if (pool[slot]) {                  /* kill a value */
                rc_decref(pool[slot]);
                pool[slot] = NULL;
            }
        } else {
            rc_obj *got = wget_i(rt, d, 10000 + k);
            int alive = ALIVE(k);
            assert_ptr_equal(got, alive ? pool[map[k]] : NULL);
        }
        size_t live = 0;
        for (int i = 0; i < NKEYS; i++)
            live += ALIVE(i);
        assert_int_equal(rc_weakvaluedict_len(d), live);
        if (op % 997 == 0) {
            rc_iter it;
            rc_obj *key;
            size_t n = 0;
            rc_iter_init(&it, d);
            while (rc_iter_next(rt, &it, &key) == 1) {
                int kk = (int)(rc_int_value(key) - 10000);
                assert_true(ALIVE(kk));
                n++;
            }
            assert_int_equal(n, live);
        }
    }
#undef ALIVE
    for (int i = 0; i < NVALS; i++)
        rc_xdecref(pool[i]);
    assert_int_equal(rc_weakvaluedict_len(d), 0);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- cycles through the keys: a key that refers back to its dict ---- */

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
    rc_obj *d = rc_weakvaluedict(rt);
    rc_obj *v = value(rt, 1);                  /* stays alive, outside the cycle */
    assert_true(rc_gc_is_tracked(d));
    for (int i = 0; i < 10; i++) {
        holder *h = (holder *)rc_new(rt, &holder_type);
        rc_incref(d);
        h->ref = d;
        assert_int_equal(rc_weakvaluedict_set(rt, d, &h->ob, i % 2 ? v : d), 0);
        rc_decref(&h->ob);
    }
    rc_obj *refs = rc_gc_get_referents(rt, d);  /* the keys, not the weakrefs */
    assert_int_equal(rc_list_len(refs), 10);
    rc_decref(refs);
    rc_decref(d);
    assert_true(rc_gc_collect(rt, 2) >= 11);
    assert_int_equal(rc_weakref_count(v), 0);
    rc_decref(v);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_mixed_keys),
        cmocka_unit_test(test_deaths_during_iteration),
        cmocka_unit_test(test_purge),
        cmocka_unit_test(test_dict_dies_first),
        cmocka_unit_test(test_die_together),
        cmocka_unit_test(test_callback_drops_dict),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_gc),
    };
    return rct_run_tests(tests, NULL, NULL);
}
