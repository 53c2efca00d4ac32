/* rc-test: oom stress */
/* test_lru.c - rc_lru (functools.lru_cache) through the public API: get,
 * put, del, counters and the recency order against an array-based model
 * on random operations (maxsize 0, 1, 2, 7, 64; typed or not; keys of
 * mixed types where 1 == 1.0 == (1,) never, (1, 2) == (1.0, 2)); eviction
 * order; typed keys; the byte bound; the memoize helper with a recursive
 * fib (functools' counts); errors (unhashable, NULL, other runtimes, a
 * failing or mutating user equal) leaving the cache unchanged; a cycle
 * through a cached value; out-of-memory sweeps; re-entrant releases. Every
 * test checks that the objects it made are gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

static void put_oo(rc_runtime *rt, rc_obj *c, rc_obj *k, rc_obj *v) {
    assert_non_null(k);
    assert_non_null(v);
    assert_int_equal(rc_lru_put(rt, c, k, v), 0);
    rc_decref(k);
    rc_decref(v);
}

static void put_ii(rc_runtime *rt, rc_obj *c, int64_t k, int64_t v) {
    put_oo(rt, c, rc_int(rt, k), rc_int(rt, v));
}

/* c[k] as an int, -1 on a miss. */
static int64_t get_i(rc_runtime *rt, rc_obj *c, int64_t k) {
    rc_obj *key = rc_int(rt, k);
    rc_obj *v = rc_lru_get(rt, c, key);
    rc_decref(key);
    if (!v) {
        assert_int_equal(rc_error(rt), RC_EKEY);
        rc_error_clear(rt);
        return -1;
    }
    return rc_int_value(v);
}

/* The keys, least recent first, as ints. */
static size_t keys_i(rc_runtime *rt, rc_obj *c, int64_t *out, size_t max) {
    rc_obj *l = rc_lru_keys(rt, c);
    assert_non_null(l);
    size_t n = rc_list_len(l);
    assert_true(n <= max);
    for (size_t i = 0; i < n; i++)
        out[i] = rc_int_value(rc_list_get(rt, l, i));
    rc_decref(l);
    return n;
}

static void order_is(rc_runtime *rt, rc_obj *c, size_t n, ...) {
    int64_t got[64];
    size_t m = keys_i(rt, c, got, 64);
    assert_int_equal(m, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(got[i], va_arg(ap, int));
    va_end(ap);
}

static void repr_is(rc_runtime *rt, rc_obj *o, const char *want) {
    char buf[256];
    int n = rc_repr(rt, o, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

static void info_is(rc_obj *c, size_t hits, size_t misses, size_t maxsize, size_t currsize) {
    rc_lru_info in;
    rc_lru_cache_info(c, &in);
    assert_int_equal(in.hits, hits);
    assert_int_equal(in.misses, misses);
    assert_int_equal(in.maxsize, maxsize);
    assert_int_equal(in.currsize, currsize);
}

/* ---- basics ---- */

static void test_basic(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *c = rc_lru(rt, 128, 0);
    assert_non_null(c);
    assert_true(rc_is_lru(c));
    assert_false(rc_is_lru(NULL));
    assert_ptr_equal(rc_typeof(c), &rc_lru_type);
    assert_string_equal(rc_type_name(c), "lru_cache");
    assert_true(rc_gc_is_tracked(c));
    size_t empty_size = rc_sizeof(c);
    info_is(c, 0, 0, 128, 0);
    repr_is(rt, c, "<lru_cache maxsize=128 currsize=0>");
    size_t maxsize = 0;
    int typed = -1;
    assert_int_equal(rc_lru_cache_parameters(c, &maxsize, &typed), 0);
    assert_int_equal(maxsize, 128);
    assert_int_equal(typed, 0);
    assert_int_equal(rc_lru_cache_parameters(NULL, &maxsize, &typed), RC_ETYPE);

    /* a miss counts, records RC_EKEY lazily (message names the key) */
    assert_int_equal(get_i(rt, c, 1000), -1);
    info_is(c, 0, 1, 128, 0);
    rc_obj *k = rc_int(rt, 4242);
    assert_null(rc_lru_get(rt, c, k));
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_non_null(strstr(rc_error_message(rt), "4242"));
    rc_error_clear(rt);
    rc_obj *v = NULL;
    assert_int_equal(rc_lru_find(rt, c, k, &v), 0);
    assert_null(v);
    assert_int_equal(rc_error(rt), 0);            /* find records nothing on a miss */
    rc_decref(k);
    info_is(c, 0, 3, 128, 0);

    /* put counts neither; get borrows */
    put_ii(rt, c, 1000, 1);
    put_oo(rt, c, rc_str(rt, "name"), rc_str(rt, "value"));
    info_is(c, 0, 3, 128, 2);
    assert_int_equal(get_i(rt, c, 1000), 1);
    rc_obj *key = rc_str(rt, "name");
    v = rc_lru_get(rt, c, key);
    assert_non_null(v);
    assert_string_equal(rc_str_data(v), "value");
    assert_int_equal(rc_refcount(v), 1);          /* borrowed: only the cache holds it */
    assert_int_equal(rc_lru_find(rt, c, key, &v), 1);
    assert_string_equal(rc_str_data(v), "value");
    assert_int_equal(rc_lru_find(rt, c, key, NULL), 1);
    rc_decref(key);
    info_is(c, 4, 3, 128, 2);
    assert_int_equal(rc_lru_len(c), 2);
    assert_int_equal(rc_lru_len(NULL), 0);
    assert_true(rc_sizeof(c) > empty_size);        /* the table counts */
    repr_is(rt, c, "<lru_cache maxsize=128 currsize=2>");

    /* 1 and 1.0 are one key; the first key object stays */
    put_ii(rt, c, 7, 70);
    rc_obj *f = rc_float(rt, 7.0);
    rc_obj *seventy1 = rc_int(rt, 71);
    assert_int_equal(rc_lru_put(rt, c, f, seventy1), 0);
    assert_int_equal(rc_lru_len(c), 3);
    assert_int_equal(get_i(rt, c, 7), 71);
    rc_obj *l = rc_lru_keys(rt, c);
    assert_true(rc_is_int(rc_list_get(rt, l, 2)));
    rc_decref(l);
    rc_decref(f);
    rc_decref(seventy1);

    /* del */
    k = rc_int(rt, 7);
    assert_int_equal(rc_lru_del(rt, c, k), 0);
    assert_int_equal(rc_lru_del(rt, c, k), RC_EKEY);
    rc_error_clear(rt);
    rc_decref(k);
    assert_int_equal(rc_lru_len(c), 2);

    /* clear empties and resets the counters */
    rc_lru_cache_clear(c);
    info_is(c, 0, 0, 128, 0);
    assert_int_equal(rc_sizeof(c), empty_size);
    rc_lru_cache_clear(NULL);                      /* no-op */
    rc_lru_cache_info(NULL, NULL);
    rc_lru_info in;
    rc_lru_cache_info(rc_gc_garbage(rt), &in);       /* not a cache: zeroes */
    assert_int_equal(in.maxsize + in.currsize, 0);
    put_ii(rt, c, 1, 2);

    /* unbounded, typed */
    rc_obj *u = rc_lru(rt, 0, 1);
    repr_is(rt, u, "<lru_cache maxsize=None currsize=0 typed=True>");
    for (int i = 0; i < 1000; i++)
        put_ii(rt, u, 1000 + i, i);
    info_is(u, 0, 0, 0, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(get_i(rt, u, 1000 + i), i);
    rc_lru_info_ex ex;
    rc_lru_cache_info_ex(u, &ex);
    assert_int_equal(ex.hits, 1000);
    assert_int_equal(ex.typed, 1);
    assert_int_equal(ex.evictions, 0);
    assert_int_equal(ex.max_bytes, 0);
    assert_int_equal(ex.bytes, 0);
    rc_decref(u);

    rc_decref(c);
    assert_int_equal(rc_error(rt), 0);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_eviction_order(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *c = rc_lru(rt, 3, 0);
    put_ii(rt, c, 1, 10);
    put_ii(rt, c, 2, 20);
    put_ii(rt, c, 3, 30);
    order_is(rt, c, 3, 1, 2, 3);
    assert_int_equal(get_i(rt, c, 1), 10);          /* a hit makes 1 the newest */
    order_is(rt, c, 3, 2, 3, 1);
    put_ii(rt, c, 4, 40);                           /* evicts 2, the least recent */
    order_is(rt, c, 3, 3, 1, 4);
    assert_int_equal(get_i(rt, c, 2), -1);
    put_ii(rt, c, 3, 31);                           /* a put of a present key: newest */
    order_is(rt, c, 3, 1, 4, 3);
    put_ii(rt, c, 5, 50);
    order_is(rt, c, 3, 4, 3, 5);
    assert_int_equal(get_i(rt, c, 3), 31);
    rc_obj *k = rc_int(rt, 4);
    assert_int_equal(rc_lru_find(rt, c, k, NULL), 1);  /* find counts and touches too */
    rc_decref(k);
    order_is(rt, c, 3, 5, 3, 4);
    rc_lru_info_ex ex;
    rc_lru_cache_info_ex(c, &ex);
    assert_int_equal(ex.evictions, 2);
    info_is(c, 3, 1, 3, 3);

    /* maxsize 1 */
    rc_obj *one = rc_lru(rt, 1, 0);
    for (int i = 0; i < 100; i++) {
        put_ii(rt, one, 1000 + i, i);
        assert_int_equal(rc_lru_len(one), 1);
        assert_int_equal(get_i(rt, one, 1000 + i), i);
        if (i > 0)
            assert_int_equal(get_i(rt, one, 999 + i), -1);
    }
    rc_decref(one);

    /* a long churn keeps the table clean: every key findable */
    rc_obj *big = rc_lru(rt, 100, 0);
    for (int i = 0; i < 20000; i++) {
        put_ii(rt, big, (i * 7919) % 1000003, i);
        if (i % 97 == 0) {
            /* oldest first, so the hits keep the order of use */
            for (int j = i >= 99 ? i - 99 : 0; j <= i; j++)
                assert_int_equal(get_i(rt, big, (j * 7919) % 1000003), j);
        }
    }
    assert_int_equal(rc_lru_len(big), 100);
    rc_decref(big);

    rc_decref(c);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- the model ---- */

/* The key pool: each key has a canonical value (equal keys share it) and a
 * type signature (typed caches also compare it). */
typedef struct pkey {
    const char *canon;
    const char *sig;
} pkey;

static const pkey g_pool[] = {
    { "i0", "int" },       { "i0", "float" },    { "i1", "int" },    { "i1", "float" },
    { "i2", "int" },       { "i300", "int" },    { "i300", "float" }, { "f2.5", "float" },
    { "sa", "str" },       { "sb", "str" },      { "sab", "str" },
    { "(i1,i2)", "(int,int)" }, { "(i1,i2)", "(float,int)" }, { "(sa,i1)", "(str,int)" },
    { "((i1,i2),i0)", "(tuple,int)" }, { "((i1,i2),i0)", "(tuple,float)" },
    { "()", "()" },        { "i-7", "int" },     { "i12345678901", "int" },
};
#define NPOOL (sizeof g_pool / sizeof g_pool[0])

static rc_obj *pool_make(rc_runtime *rt, size_t i) {
    switch (i) {
    case 0: return rc_int(rt, 0);
    case 1: return rc_float(rt, 0.0);
    case 2: return rc_int(rt, 1);
    case 3: return rc_float(rt, 1.0);
    case 4: return rc_int(rt, 2);
    case 5: return rc_int(rt, 300);
    case 6: return rc_float(rt, 300.0);
    case 7: return rc_float(rt, 2.5);
    case 8: return rc_str(rt, "a");
    case 9: return rc_str(rt, "b");
    case 10: return rc_str(rt, "ab");
    case 11: case 12: {
        rc_obj *a = i == 11 ? rc_int(rt, 1) : rc_float(rt, 1.0), *b = rc_int(rt, 2);
        rc_obj *t = rc_tuple(rt, 2, a, b);
        rc_decref(a);
        rc_decref(b);
        return t;
    }
    case 13: {
        rc_obj *a = rc_str(rt, "a"), *b = rc_int(rt, 1);
        rc_obj *t = rc_tuple(rt, 2, a, b);
        rc_decref(a);
        rc_decref(b);
        return t;
    }
    case 14: case 15: {                  /* ((1, 2), 0) and ((1.0, 2), 0.0) */
        rc_obj *a = i == 14 ? rc_int(rt, 1) : rc_float(rt, 1.0), *b = rc_int(rt, 2);
        rc_obj *in = rc_tuple(rt, 2, a, b);
        rc_obj *z = i == 14 ? rc_int(rt, 0) : rc_float(rt, 0.0);
        rc_obj *t = rc_tuple(rt, 2, in, z);
        rc_decref(a);
        rc_decref(b);
        rc_decref(in);
        rc_decref(z);
        return t;
    }
    case 16: return rc_tuple(rt, 0);
    case 17: return rc_int(rt, -7);
    default: return rc_int(rt, INT64_C(12345678901));
    }
}

static int model_same(size_t a, size_t b, int typed) {
    if (strcmp(g_pool[a].canon, g_pool[b].canon) != 0)
        return 0;
    return !typed || strcmp(g_pool[a].sig, g_pool[b].sig) == 0;
}

typedef struct mentry {
    size_t pk;          /* pool index of the key object stored */
    rc_obj *key;        /* the key object the cache keeps (first put) */
    int64_t val;
} mentry;

typedef struct model {
    mentry e[128];      /* least recent first */
    size_t n, maxsize;
    int typed;
    size_t hits, misses;
} model;

static long m_find(const model *m, size_t pk) {
    for (size_t i = 0; i < m->n; i++)
        if (model_same(m->e[i].pk, pk, m->typed))
            return (long)i;
    return -1;
}

static void m_touch(model *m, size_t i) {
    mentry x = m->e[i];
    memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof x);
    m->e[m->n - 1] = x;
}

static void m_remove(model *m, size_t i) {
    memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof m->e[0]);
    m->n--;
}

static void m_put(model *m, size_t pk, rc_obj *keyobj, int64_t v) {
    long i = m_find(m, pk);
    if (i >= 0) {
        m->e[i].val = v;
        m_touch(m, (size_t)i);
        return;
    }
    if (m->maxsize && m->n == m->maxsize)
        m_remove(m, 0);
    assert_true(m->n < 128);
    m->e[m->n].pk = pk;
    m->e[m->n].key = keyobj;
    m->e[m->n].val = v;
    m->n++;
}

/* The value the memoized function of the model computes for a key. */
static rc_obj *memo_fn(rc_runtime *rt, rc_obj *args, void *arg) {
    (void)args;
    return rc_int(rt, *(int64_t *)arg);
}

static void check_model(rc_runtime *rt, rc_obj *c, const model *m) {
    info_is(c, m->hits, m->misses, m->maxsize, m->n);
    rc_obj *l = rc_lru_keys(rt, c);
    assert_non_null(l);
    assert_int_equal(rc_list_len(l), m->n);
    for (size_t i = 0; i < m->n; i++)
        assert_ptr_equal(rc_list_get(rt, l, i), m->e[i].key);
    rc_decref(l);
}

static void run_model(rc_runtime *rt, rct_rng *rng, size_t maxsize, int typed, size_t ops) {
    rc_obj *c = rc_lru(rt, maxsize, typed);
    assert_non_null(c);
    rc_obj *pool[NPOOL];
    for (size_t i = 0; i < NPOOL; i++) {
        pool[i] = pool_make(rt, i);
        assert_non_null(pool[i]);
    }
    model m = { .n = 0, .maxsize = maxsize, .typed = typed, .hits = 0, .misses = 0 };
    int64_t next = 1000;
    for (size_t op = 0; op < ops; op++) {
        size_t pk = rct_rng_range(rng, 0, NPOOL - 1);
        /* a fresh but equal key object half of the time */
        rc_obj *key = pool[pk];
        bool fresh = rct_rng_next(rng) & 1;
        rc_obj *drop[2];                     /* our references, dropped at the end */
        int ndrop = 0;
        if (fresh)
            drop[ndrop++] = key = pool_make(rt, pk);
        long at = m_find(&m, pk);
        switch (rct_rng_range(rng, 0, 9)) {
        case 0: case 1: case 2: {            /* get */
            rc_obj *v = rc_lru_get(rt, c, key);
            if (at < 0) {
                assert_null(v);
                assert_int_equal(rc_error(rt), RC_EKEY);
                rc_error_clear(rt);
                m.misses++;
            } else {
                assert_non_null(v);
                assert_int_equal(rc_int_value(v), m.e[at].val);
                m.hits++;
                m_touch(&m, (size_t)at);
            }
            break;
        }
        case 3: case 4: case 5: {            /* put */
            rc_obj *v = rc_int(rt, next);
            assert_int_equal(rc_lru_put(rt, c, key, v), 0);
            rc_decref(v);
            m_put(&m, pk, key, next);        /* a new entry keeps this key object */
            next++;
            break;
        }
        case 6: {                            /* find */
            rc_obj *v = NULL;
            int r = rc_lru_find(rt, c, key, &v);
            assert_int_equal(r, at >= 0);
            if (at >= 0) {
                assert_int_equal(rc_int_value(v), m.e[at].val);
                m.hits++;
                m_touch(&m, (size_t)at);
            } else {
                m.misses++;
            }
            break;
        }
        case 7: {                            /* call */
            int64_t want = next++;
            rc_obj *v;
            if (rc_is_tuple(key) && (rct_rng_next(rng) & 1)) {
                rc_obj *items[4];
                size_t n = rc_tuple_len(key);
                for (size_t j = 0; j < n; j++)
                    items[j] = rc_tuple_get(rt, key, j);
                v = rc_lru_call_args(rt, c, memo_fn, n, items, &want);
                if (at < 0) {
                    /* the cache keeps a new tuple of these items */
                    rc_obj *l = rc_lru_keys(rt, c);
                    key = rc_list_get(rt, l, rc_list_len(l) - 1);
                    rc_incref(key);
                    drop[ndrop++] = key;
                    rc_decref(l);
                }
            } else {
                v = rc_lru_call(rt, c, memo_fn, key, &want);
            }
            assert_non_null(v);
            if (at >= 0) {
                assert_int_equal(rc_int_value(v), m.e[at].val);
                m.hits++;
                m_touch(&m, (size_t)at);
            } else {
                assert_int_equal(rc_int_value(v), want);
                m.misses++;
                m_put(&m, pk, key, want);
            }
            rc_decref(v);
            break;
        }
        case 8: {                            /* del */
            int r = rc_lru_del(rt, c, key);
            if (at >= 0) {
                assert_int_equal(r, 0);
                m_remove(&m, (size_t)at);
            } else {
                assert_int_equal(r, RC_EKEY);
                rc_error_clear(rt);
            }
            break;
        }
        default:                             /* rarely, clear */
            if (rct_rng_range(rng, 0, 19) == 0) {
                rc_lru_cache_clear(c);
                m.n = 0;
                m.hits = m.misses = 0;
            }
            break;
        }
        /* the model's key pointers stay valid while the cache holds them */
        check_model(rt, c, &m);
        while (ndrop > 0)
            rc_decref(drop[--ndrop]);
    }
    assert_int_equal(rc_error(rt), 0);
    rc_decref(c);
    for (size_t i = 0; i < NPOOL; i++)
        rc_decref(pool[i]);
}

static void test_model(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rct_rng rng;
    rct_rng_init(&rng, rct_seed(0x1ee7cafe));
    static const size_t sizes[] = { 0, 1, 2, 7, 64 };
    size_t ops = rct_scaled(3000, 300);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int typed = 0; typed <= 1; typed++)
            run_model(rt, &rng, sizes[s], typed, ops);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- typed keys ---- */

static void test_typed(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    for (int typed = 0; typed <= 1; typed++) {
        rc_obj *c = rc_lru(rt, 16, typed);
        rc_obj *i1 = rc_int(rt, 1), *f1 = rc_float(rt, 1.0), *i2 = rc_int(rt, 2);
        rc_obj *v1 = rc_str(rt, "int"), *v2 = rc_str(rt, "float");
        assert_int_equal(rc_lru_put(rt, c, i1, v1), 0);
        assert_int_equal(rc_lru_put(rt, c, f1, v2), 0);
        assert_int_equal(rc_lru_len(c), typed ? 2 : 1);
        assert_string_equal(rc_str_data(rc_lru_get(rt, c, i1)), typed ? "int" : "float");
        assert_string_equal(rc_str_data(rc_lru_get(rt, c, f1)), "float");
        /* argument tuples: type per position */
        rc_obj *t1 = rc_tuple(rt, 2, i1, i2), *t2 = rc_tuple(rt, 2, f1, i2);
        assert_int_equal(rc_lru_put(rt, c, t1, v1), 0);
        assert_int_equal(rc_lru_put(rt, c, t2, v2), 0);
        assert_int_equal(rc_lru_len(c), typed ? 4 : 2);
        assert_string_equal(rc_str_data(rc_lru_get(rt, c, t1)), typed ? "int" : "float");
        /* nested tuples are not looked into (functools' _make_key) */
        rc_obj *n1 = rc_tuple(rt, 1, t1), *n2 = rc_tuple(rt, 1, t2);
        assert_int_equal(rc_lru_put(rt, c, n1, v1), 0);
        assert_int_equal(rc_lru_put(rt, c, n2, v2), 0);
        assert_int_equal(rc_lru_len(c), typed ? 5 : 3);
        assert_string_equal(rc_str_data(rc_lru_get(rt, c, n1)), "float");
        /* lengths differ: different keys either way */
        rc_obj *t3 = rc_tuple(rt, 3, i1, i2, i2);
        assert_null(rc_lru_get(rt, c, t3));
        rc_error_clear(rt);
        size_t maxsize;
        int ty;
        assert_int_equal(rc_lru_cache_parameters(c, &maxsize, &ty), 0);
        assert_int_equal(ty, typed);
        rc_obj *objs[] = { i1, f1, i2, v1, v2, t1, t2, n1, n2, t3, c };
        for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
            rc_decref(objs[i]);
    }
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- user keys: hash consistent with tuples, failing and mutating equal ---- */

typedef struct ukey {
    rc_obj ob;
    rc_obj *like;       /* a tuple this key claims to equal (or NULL) */
    int fail;           /* equal fails with RC_EINVAL */
    rc_obj *cache;      /* equal clears / fills this cache (borrowed) */
    int mutate;         /* 1: clear it; 2: put into it */
} ukey;

static int ukey_hash(rc_obj *self, uint64_t *out) {
    ukey *u = (ukey *)self;
    if (u->like)
        return rc_hash(rc_runtime_of(self), u->like, out);
    *out = 42;
    return 0;
}

static int ukey_equal(rc_obj *a, rc_obj *b) {
    ukey *u = (ukey *)a;
    rc_runtime *rt = rc_runtime_of(a);
    if (u->fail)
        return rc_error_set(rt, RC_EINVAL, "ukey: comparison failed");
    if (u->cache && u->mutate == 1) {
        rc_lru_cache_clear(u->cache);
    } else if (u->cache && u->mutate == 2) {
        u->mutate = 0;                    /* once */
        for (int i = 0; i < 20; i++) {
            rc_obj *k = rc_int(rt, 5000 + i);
            rc_lru_put(rt, u->cache, k, k);
            rc_decref(k);
        }
    }
    if (u->like)
        return rc_equal(rt, u->like, b);
    return 0;
}

static int ukey_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    ukey *u = (ukey *)self;
    return u->like ? visit(u->like, arg) : 0;
}

static void ukey_clear(rc_obj *self) {
    ukey *u = (ukey *)self;
    rc_obj *x = u->like;
    u->like = NULL;
    rc_xdecref(x);
}

static const rc_type ukey_type = { .name = "ukey", .size = sizeof(ukey), .flags = RC_TYPE_GC,
                                   .traverse = ukey_traverse, .clear = ukey_clear,
                                   .hash = ukey_hash, .equal = ukey_equal };

static ukey *new_ukey(rc_runtime *rt, rc_obj *like) {
    ukey *u = (ukey *)rc_new(rt, &ukey_type);
    assert_non_null(u);
    if (like) {
        rc_incref(like);
        u->like = like;
    }
    return u;
}

static void test_user_keys(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *c = rc_lru(rt, 8, 0);
    /* the cache hashes tuples exactly as rc_hash does: a user key equal to
     * a tuple finds it, and the tuple finds the user key */
    rc_obj *a = rc_int(rt, 123456), *s = rc_str(rt, "xyz"), *f = rc_float(rt, 0.5);
    rc_obj *t = rc_tuple(rt, 3, a, s, f);
    ukey *u = new_ukey(rt, t);
    uint64_t h1, h2;
    assert_int_equal(rc_hash(rt, t, &h1), 0);
    assert_int_equal(rc_hash(rt, &u->ob, &h2), 0);
    assert_true(h1 == h2);
    assert_int_equal(rc_lru_put(rt, c, t, a), 0);
    assert_ptr_equal(rc_lru_get(rt, c, &u->ob), a);
    rc_lru_cache_clear(c);
    assert_int_equal(rc_lru_put(rt, c, &u->ob, s), 0);
    assert_ptr_equal(rc_lru_get(rt, c, t), s);
    rc_obj *items[3] = { a, s, f };
    rc_obj *got = rc_lru_call_args(rt, c, memo_fn, 3, items, NULL);
    assert_ptr_equal(got, s);
    rc_decref(got);
    info_is(c, 2, 0, 8, 1);
    rc_lru_cache_clear(c);

    /* a failing equal: the error comes back, nothing changes or counts */
    put_ii(rt, c, 1, 1);
    ukey *k1 = new_ukey(rt, NULL), *k2 = new_ukey(rt, NULL);
    assert_int_equal(rc_lru_put(rt, c, &k1->ob, a), 0);
    k1->fail = 1;                        /* the stored key's equal is called */
    info_is(c, 0, 0, 8, 2);
    assert_int_equal(rc_lru_put(rt, c, &k2->ob, a), RC_EINVAL);
    assert_non_null(strstr(rc_error_message(rt), "comparison failed"));
    rc_error_clear(rt);
    assert_null(rc_lru_get(rt, c, &k2->ob));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_int_equal(rc_lru_find(rt, c, &k2->ob, NULL), RC_EINVAL);
    assert_int_equal(rc_lru_del(rt, c, &k2->ob), RC_EINVAL);
    assert_null(rc_lru_call(rt, c, memo_fn, &k2->ob, NULL));
    rc_error_clear(rt);
    info_is(c, 0, 0, 8, 2);
    k1->fail = 0;
    rc_lru_cache_clear(c);

    /* an equal that clears the cache during the lookup: the lookup restarts */
    ukey *m1 = new_ukey(rt, NULL), *m2 = new_ukey(rt, NULL);
    assert_int_equal(rc_lru_put(rt, c, &m1->ob, a), 0);
    m1->cache = c;
    m1->mutate = 1;
    assert_null(rc_lru_get(rt, c, &m2->ob));
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);
    assert_int_equal(rc_lru_len(c), 0);
    /* an equal that fills the cache (evictions, growth) during a put */
    m1->mutate = 2;
    assert_int_equal(rc_lru_put(rt, c, &m1->ob, a), 0);
    assert_int_equal(rc_lru_put(rt, c, &m2->ob, s), 0);
    assert_int_equal(rc_lru_len(c), 8);
    assert_ptr_equal(rc_lru_get(rt, c, &m2->ob), s);
    m1->cache = NULL;

    rc_lru_cache_clear(c);
    rc_obj *objs[] = { a, s, f, t, &u->ob, &k1->ob, &k2->ob, &m1->ob, &m2->ob, c };
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rc_decref(objs[i]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- errors ---- */

static void snapshot(rc_runtime *rt, rc_obj *c, rc_lru_info *in, int64_t *keys, size_t *n) {
    rc_lru_cache_info(c, in);
    *n = keys_i(rt, c, keys, 64);
}

static void unchanged(rc_runtime *rt, rc_obj *c, const rc_lru_info *in, const int64_t *keys,
                      size_t n) {
    rc_lru_info now;
    int64_t k[64];
    size_t m;
    snapshot(rt, c, &now, k, &m);
    assert_memory_equal(&now, in, sizeof now);
    assert_int_equal(m, n);
    assert_memory_equal(k, keys, n * sizeof *k);
}

static void test_errors(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_runtime *other = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *c = rc_lru(rt, 4, 0);
    put_ii(rt, c, 1, 10);
    put_ii(rt, c, 2, 20);
    assert_int_equal(get_i(rt, c, 1), 10);
    rc_lru_info in;
    int64_t keys[64];
    size_t n;
    snapshot(rt, c, &in, keys, &n);

    rc_obj *l = rc_list(rt);
    rc_obj *v = rc_int(rt, 5);
    rc_obj *tl = rc_tuple(rt, 2, v, l);
    /* unhashable: a list, a tuple holding a list */
    assert_int_equal(rc_lru_put(rt, c, l, v), RC_ETYPE);
    assert_non_null(strstr(rc_error_message(rt), "unhashable"));
    assert_int_equal(rc_lru_put(rt, c, tl, v), RC_ETYPE);
    assert_null(rc_lru_get(rt, c, l));
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_null(rc_lru_call(rt, c, memo_fn, tl, NULL));
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_int_equal(rc_lru_del(rt, c, l), RC_ETYPE);
    unchanged(rt, c, &in, keys, n);
    rc_error_clear(rt);

    /* NULLs */
    assert_int_equal(rc_lru_put(rt, c, NULL, v), RC_EINVAL);
    assert_int_equal(rc_lru_put(rt, c, v, NULL), RC_EINVAL);
    assert_int_equal(rc_lru_put(rt, NULL, v, v), RC_EINVAL);
    assert_int_equal(rc_lru_put(NULL, c, v, v), RC_EINVAL);
    assert_null(rc_lru_get(rt, c, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_lru_get(rt, NULL, v));
    assert_null(rc_lru_get(NULL, c, v));
    assert_int_equal(rc_lru_find(NULL, c, v, NULL), RC_EINVAL);
    assert_null(rc_lru_call(rt, c, NULL, v, NULL));
    assert_null(rc_lru_call(rt, c, memo_fn, NULL, NULL));
    assert_null(rc_lru_keys(rt, NULL));
    assert_null(rc_lru(NULL, 1, 0));
    assert_int_equal(rc_lru_set_max_bytes(rt, NULL, 10), RC_EINVAL);
    /* not a cache */
    assert_int_equal(rc_lru_put(rt, l, v, v), RC_ETYPE);
    assert_non_null(strstr(rc_error_message(rt), "lru_cache"));
    assert_null(rc_lru_get(rt, l, v));
    assert_int_equal(rc_lru_set_max_bytes(rt, l, 10), RC_ETYPE);
    assert_null(rc_lru_keys(rt, v));
    unchanged(rt, c, &in, keys, n);
    rc_error_clear(rt);

    /* other runtimes: the cache passed with another runtime, a key or a
     * value of another runtime */
    rc_obj *ok = rc_int(other, 777777), *oc = rc_lru(other, 4, 0);
    assert_int_equal(rc_lru_put(other, c, v, v), RC_EINVAL);
    assert_non_null(strstr(rc_error_message(other), "another runtime"));
    assert_null(rc_lru_get(other, c, v));
    assert_int_equal(rc_error(other), RC_EINVAL);
    assert_int_equal(rc_lru_find(other, c, v, NULL), RC_EINVAL);
    assert_int_equal(rc_lru_del(other, c, v), RC_EINVAL);
    assert_null(rc_lru_call(other, c, memo_fn, v, NULL));
    assert_int_equal(rc_lru_set_max_bytes(other, c, 10), RC_EINVAL);
    assert_null(rc_lru_keys(other, c));
    assert_int_equal(rc_lru_put(rt, c, ok, v), RC_EINVAL);
    assert_int_equal(rc_lru_put(rt, c, v, ok), RC_EINVAL);
    assert_null(rc_lru_call(rt, c, memo_fn, ok, NULL));
    assert_int_equal(rc_lru_put(rt, oc, v, v), RC_EINVAL);
    unchanged(rt, c, &in, keys, n);
    /* a lookup with a key of another runtime only reads: a miss */
    assert_null(rc_lru_get(rt, c, ok));
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);
    /* static small ints belong to no runtime: accepted anywhere */
    rc_obj *small = rc_int(other, 3);
    assert_int_equal(rc_lru_put(rt, c, small, small), 0);
    rc_decref(small);

    rc_decref(ok);
    rc_decref(oc);
    rc_decref(tl);
    rc_decref(l);
    rc_decref(v);
    rc_decref(c);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(other);
    rc_runtime_free(rt);
}

/* ---- the memoize helper ---- */

typedef struct fibctx {
    rc_obj *cache;
    long calls;
    int fail_at;        /* n at which fib fails (-1: never) */
} fibctx;

static rc_obj *fib_fn(rc_runtime *rt, rc_obj *args, void *arg) {
    fibctx *ctx = arg;
    ctx->calls++;
    int64_t n = rc_int_value(rc_tuple_get(rt, args, 0));
    if (n == ctx->fail_at) {
        rc_error_set(rt, RC_EINVAL, "fib: failing at %lld on purpose", (long long)n);
        return NULL;
    }
    if (n < 2)
        return rc_int(rt, n);
    int64_t sum = 0;
    for (int64_t d = 1; d <= 2; d++) {
        rc_obj *k = rc_int(rt, n - d);
        rc_obj *a = rc_tuple(rt, 1, k);
        rc_decref(k);
        rc_obj *r = rc_lru_call(rt, ctx->cache, fib_fn, a, ctx);
        rc_decref(a);
        if (!r)
            return NULL;
        sum += rc_int_value(r);
        rc_decref(r);
    }
    return rc_int(rt, sum);
}

static rc_obj *fib(rc_runtime *rt, fibctx *ctx, int64_t n) {
    rc_obj *k = rc_int(rt, n);
    rc_obj *a = rc_tuple(rt, 1, k);
    rc_decref(k);
    rc_obj *r = rc_lru_call(rt, ctx->cache, fib_fn, a, ctx);
    rc_decref(a);
    return r;
}

static rc_obj *null_fn(rc_runtime *rt, rc_obj *args, void *arg) {
    (void)rt;
    (void)args;
    (void)arg;
    return NULL;
}

static rc_obj *foreign_fn(rc_runtime *rt, rc_obj *args, void *arg) {
    (void)rt;
    (void)args;
    return rc_int((rc_runtime *)arg, 99999);
}

static void test_memoize(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    /* functools: fib(80) = 23416728348467685, CacheInfo(hits=78, misses=81) */
    static const size_t sizes[] = { 0, 128 };
    for (size_t i = 0; i < 2; i++) {
        fibctx ctx = { rc_lru(rt, sizes[i], 0), 0, -1 };
        rc_obj *r = fib(rt, &ctx, 80);
        assert_non_null(r);
        assert_true(rc_int_value(r) == INT64_C(23416728348467685));
        rc_decref(r);
        info_is(ctx.cache, 78, 81, sizes[i], 81);
        assert_int_equal(ctx.calls, 81);
        /* a second call is one hit */
        r = fib(rt, &ctx, 80);
        assert_true(rc_int_value(r) == INT64_C(23416728348467685));
        rc_decref(r);
        info_is(ctx.cache, 79, 81, sizes[i], 81);
        assert_int_equal(ctx.calls, 81);
        rc_decref(ctx.cache);
    }
    /* the same through rc_lru_call_args: hits without making the tuple */
    fibctx va = { rc_lru(rt, 0, 0), 0, -1 };
    rc_obj *r80 = fib(rt, &va, 80);
    rc_decref(r80);
    for (int64_t i = 0; i <= 80; i++) {
        rc_obj *k = rc_int(rt, i);
        size_t before = rc_runtime_object_count(rt);
        rc_obj *r = rc_lru_call_args(rt, va.cache, fib_fn, 1, &k, &va);
        assert_non_null(r);
        assert_int_equal(rc_runtime_object_count(rt), before + (i > 256 ? 1 : 0));
        rc_decref(r);
        rc_decref(k);
    }
    info_is(va.cache, 78 + 81, 81, 0, 81);
    assert_int_equal(va.calls, 81);
    rc_obj *k100 = rc_int(rt, 81);
    rc_obj *r = rc_lru_call_args(rt, va.cache, fib_fn, 1, &k100, &va);   /* a miss */
    assert_true(rc_int_value(r) == INT64_C(37889062373143906));
    rc_decref(r);
    rc_decref(k100);
    info_is(va.cache, 78 + 81 + 2, 82, 0, 82);    /* fib(81) hits 80 and 79 */
    assert_null(rc_lru_call_args(rt, va.cache, fib_fn, 1, NULL, &va));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    rc_obj *none[1] = { NULL };
    assert_null(rc_lru_call_args(rt, va.cache, fib_fn, 1, none, &va));
    rc_error_clear(rt);
    rc_decref(va.cache);

    /* a small cache still computes the right value */
    fibctx small = { rc_lru(rt, 3, 0), 0, -1 };
    r = fib(rt, &small, 30);
    assert_int_equal(rc_int_value(r), 832040);
    rc_decref(r);
    assert_int_equal(rc_lru_len(small.cache), 3);
    rc_decref(small.cache);

    /* failure propagates and is not cached; the miss counts (functools) */
    fibctx bad = { rc_lru(rt, 0, 0), 0, 5 };
    assert_null(fib(rt, &bad, 10));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_non_null(strstr(rc_error_message(rt), "on purpose"));
    rc_error_clear(rt);
    rc_lru_info in;
    rc_lru_cache_info(bad.cache, &in);
    assert_int_equal(in.misses, 6);      /* 10, 9, 8, 7, 6, 5 */
    assert_int_equal(in.currsize, 0);    /* the failure went all the way up */
    bad.fail_at = -1;
    r = fib(rt, &bad, 10);
    assert_int_equal(rc_int_value(r), 55);
    rc_decref(r);
    rc_decref(bad.cache);

    /* NULL without an error recorded gets one; a foreign result is refused */
    rc_obj *c = rc_lru(rt, 4, 0);
    rc_obj *k = rc_int(rt, 1);
    assert_null(rc_lru_call(rt, c, null_fn, k, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    rc_runtime *other = new_rt();
    assert_null(rc_lru_call(rt, c, foreign_fn, k, other));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_int_equal(rc_lru_len(c), 0);
    assert_int_equal(rc_runtime_object_count(other), 0);
    rc_runtime_free(other);
    rc_decref(k);
    rc_decref(c);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- the byte bound ---- */

static size_t entry_bytes(rc_runtime *rt, rc_obj *k, rc_obj *v) {
    return rc_deep_sizeof(rt, k) + rc_deep_sizeof(rt, v);
}

static void test_bytes(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *c = rc_lru(rt, 100, 0);
    char text[2000];
    memset(text, 'x', sizeof text);
    /* values of 100 bytes of text, keys ints */
    rc_obj *k0 = rc_int(rt, 1000);
    rc_obj *v0 = rc_str_n(rt, text, 100);
    size_t one = entry_bytes(rt, k0, v0);
    rc_decref(k0);
    rc_decref(v0);
    for (int i = 0; i < 10; i++)
        put_oo(rt, c, rc_int(rt, 1000 + i), rc_str_n(rt, text, 100));
    rc_lru_info_ex ex;
    rc_lru_cache_info_ex(c, &ex);
    assert_int_equal(ex.bytes, 0);
    /* a bound on a filled cache measures and evicts at once */
    assert_int_equal(rc_lru_set_max_bytes(rt, c, 4 * one + one / 2), 0);
    rc_lru_cache_info_ex(c, &ex);
    assert_int_equal(ex.currsize, 4);
    assert_int_equal(ex.bytes, 4 * one);
    assert_int_equal(ex.max_bytes, 4 * one + one / 2);
    assert_int_equal(ex.evictions, 6);
    order_is(rt, c, 4, 1006, 1007, 1008, 1009);
    char buf[128];
    snprintf(buf, sizeof buf, "<lru_cache maxsize=100 currsize=4 max_bytes=%zu bytes=%zu>",
             4 * one + one / 2, 4 * one);
    repr_is(rt, c, buf);

    /* a bigger entry evicts as many as needed */
    rc_obj *bk = rc_int(rt, 2000), *bv = rc_str_n(rt, text, 300);
    size_t big = entry_bytes(rt, bk, bv);
    assert_int_equal(rc_lru_put(rt, c, bk, bv), 0);
    rc_lru_cache_info_ex(c, &ex);
    assert_true(ex.bytes <= ex.max_bytes);
    size_t keep = (4 * one + one / 2 - big) / one;
    assert_int_equal(ex.currsize, keep + 1);
    assert_int_equal(ex.bytes, keep * one + big);

    /* an entry above the bound by itself is not cached */
    rc_obj *hk = rc_int(rt, 3000), *hv = rc_str_n(rt, text, 2000);
    assert_int_equal(rc_lru_put(rt, c, hk, hv), 0);
    rc_lru_cache_info_ex(c, &ex);
    assert_int_equal(ex.rejected, 1);
    assert_int_equal(ex.currsize, keep + 1);
    assert_null(rc_lru_get(rt, c, hk));
    rc_error_clear(rt);
    /* ... and a present key given such a value loses its entry */
    assert_int_equal(rc_lru_put(rt, c, bk, hv), 0);
    assert_null(rc_lru_get(rt, c, bk));
    rc_error_clear(rt);
    rc_lru_cache_info_ex(c, &ex);
    assert_int_equal(ex.rejected, 2);
    assert_int_equal(ex.currsize, keep);
    assert_int_equal(ex.bytes, keep * one);
    /* replacing a value re-measures */
    put_oo(rt, c, rc_int(rt, 1009), rc_str_n(rt, text, 10));
    rc_obj *k9 = rc_int(rt, 1009), *v9 = rc_str_n(rt, text, 10);
    size_t small = entry_bytes(rt, k9, v9);
    rc_decref(k9);
    rc_decref(v9);
    rc_lru_cache_info_ex(c, &ex);
    assert_int_equal(ex.bytes, (keep - 1) * one + small);
    /* the memoize helper respects the bound too */
    int64_t want = 5;
    rc_obj *r = rc_lru_call(rt, c, memo_fn, hk, &want);
    assert_int_equal(rc_int_value(r), 5);
    rc_decref(r);
    rc_lru_cache_info_ex(c, &ex);
    assert_true(ex.bytes <= ex.max_bytes);
    /* container values: deep sizes */
    rc_obj *lv = rc_list(rt);
    for (int i = 0; i < 5; i++) {
        rc_obj *x = rc_str_n(rt, text, 20);
        rc_list_append(rt, lv, x);
        rc_decref(x);
    }
    rc_obj *lk = rc_int(rt, 4000);
    size_t lb = entry_bytes(rt, lk, lv);
    size_t before = ex.bytes;
    assert_int_equal(rc_lru_put(rt, c, lk, lv), 0);
    rc_lru_cache_info_ex(c, &ex);
    assert_true(ex.bytes <= ex.max_bytes);
    assert_true(ex.bytes <= before + lb);
    /* clearing resets; 0 removes the bound */
    assert_int_equal(rc_lru_set_max_bytes(rt, c, 0), 0);
    rc_lru_cache_info_ex(c, &ex);
    assert_int_equal(ex.bytes, 0);
    assert_int_equal(ex.max_bytes, 0);
    for (int i = 0; i < 50; i++)
        put_oo(rt, c, rc_int(rt, 5000 + i), rc_str_n(rt, text, 100));
    assert_int_equal(rc_lru_len(c), 50 + ex.currsize);
    rc_lru_cache_clear(c);
    rc_lru_cache_info_ex(c, &ex);
    assert_int_equal(ex.evictions + ex.rejected + ex.hits + ex.misses + ex.currsize, 0);

    rc_obj *objs[] = { bk, bv, hk, hv, lv, lk, c };
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++)
        rc_decref(objs[i]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- the collector ---- */

static void test_gc(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_gc_collect(rt, 2);
    /* a cached value that refers to its cache: a cycle */
    rc_obj *c = rc_lru(rt, 16, 0);
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_list_append(rt, l, c), 0);
    rc_obj *k = rc_str(rt, "self");
    assert_int_equal(rc_lru_put(rt, c, k, l), 0);
    put_ii(rt, c, 5000, 6000);
    rc_obj *refs = rc_gc_get_referents(rt, c);
    assert_int_equal(rc_list_len(refs), 4);           /* two keys, two values */
    rc_decref(refs);
    assert_true(rc_deep_sizeof(rt, c) > rc_sizeof(c));
    rc_decref(k);
    rc_decref(l);
    rc_decref(c);
    assert_true(rc_runtime_object_count(rt) > base);
    assert_true(rc_gc_collect(rt, 2) >= 2);
    assert_int_equal(rc_runtime_object_count(rt), base);

    /* a tuple value holding the cache; the cache itself is unhashable */
    c = rc_lru(rt, 0, 0);
    rc_obj *t = rc_tuple(rt, 1, c);
    assert_int_equal(rc_lru_put(rt, c, t, t), RC_ETYPE);
    rc_error_clear(rt);
    k = rc_int(rt, 1);
    assert_int_equal(rc_lru_put(rt, c, k, t), 0);
    rc_decref(k);
    rc_decref(t);
    rc_decref(c);
    assert_true(rc_gc_collect(rt, 2) >= 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- re-entrant releases ---- */

typedef struct noisy {
    rc_obj ob;
    rc_obj *cache;      /* strong: put into it when finalized */
} noisy;

static int g_finalized;

static void noisy_finalize(rc_obj *self) {
    noisy *n = (noisy *)self;
    g_finalized++;
    if (!n->cache)
        return;
    rc_runtime *rt = rc_runtime_of(self);
    /* use the cache while it evicts this value: get, put, clear */
    rc_obj *k = rc_int(rt, 70000 + g_finalized);
    rc_lru_put(rt, n->cache, k, k);
    rc_lru_get(rt, n->cache, k);
    if (g_finalized % 5 == 0)
        rc_lru_cache_clear(n->cache);
    rc_decref(k);
    rc_error_clear(rt);
}

static void noisy_clear(rc_obj *self) {
    noisy *n = (noisy *)self;
    rc_obj *c = n->cache;
    n->cache = NULL;
    rc_xdecref(c);
}

static int noisy_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    noisy *n = (noisy *)self;
    return n->cache ? visit(n->cache, arg) : 0;
}

static const rc_type noisy_type = { .name = "noisy", .size = sizeof(noisy), .flags = RC_TYPE_GC,
                                    .traverse = noisy_traverse, .clear = noisy_clear,
                                    .finalize = noisy_finalize };

static void test_reentrant_release(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    g_finalized = 0;
    rc_obj *c = rc_lru(rt, 4, 0);
    assert_int_equal(rc_lru_set_max_bytes(rt, c, 100000), 0);
    for (int i = 0; i < 200; i++) {
        noisy *n = (noisy *)rc_new(rt, &noisy_type);
        assert_non_null(n);
        rc_incref(c);
        n->cache = c;
        rc_obj *k = rc_int(rt, 1000 + i);
        assert_int_equal(rc_lru_put(rt, c, k, &n->ob), 0);
        rc_decref(k);
        rc_decref(&n->ob);
        assert_true(rc_lru_len(c) <= 4);
        if (i % 17 == 0) {
            rc_obj *l = rc_lru_keys(rt, c);
            assert_int_equal(rc_list_len(l), rc_lru_len(c));
            rc_decref(l);
        }
    }
    assert_true(g_finalized > 100);
    rc_lru_cache_clear(c);
    rc_decref(c);
    rc_gc_collect(rt, 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- out of memory ---- */

static void test_oom(void **state) {
    (void)state;
    long failures = 0;
    for (long n = 0;; n++) {
        rc_runtime *rt = new_rt();
        size_t base = rc_runtime_object_count(rt);
        rc_obj *keys[200];
        for (int i = 0; i < 200; i++)
            keys[i] = rc_int(rt, 10000 + i);
        rc_obj *c = rc_lru(rt, 150, 0);
        rc_obj *u = rc_lru(rt, 0, 0);
        assert_non_null(c);
        rc_runtime_fail_after(rt, n);
        int stored = 0, stored_u = 0, failed = 0;
        for (int i = 0; i < 200 && !failed; i++) {
            int r = rc_lru_put(rt, c, keys[i], keys[i]);
            if (r < 0) {
                assert_int_equal(r, RC_ENOMEM);
                assert_int_equal(rc_error(rt), RC_ENOMEM);
                failed = 1;
            } else {
                stored++;
            }
        }
        for (int i = 0; i < 200 && !failed; i++) {
            int r = rc_lru_put(rt, u, keys[i], keys[i]);
            if (r < 0) {
                assert_int_equal(r, RC_ENOMEM);
                failed = 1;
            } else {
                stored_u++;
            }
        }
        rc_obj *l = NULL;
        if (!failed) {
            l = rc_lru_keys(rt, c);
            failed = l == NULL;
        }
        long injected = rc_runtime_fail_after(rt, -1);
        rc_error_clear(rt);
        rc_xdecref(l);
        /* consistent: every stored key is there, in order, and the cache
         * works on */
        size_t want = stored > 150 ? 150 : (size_t)stored;
        assert_int_equal(rc_lru_len(c), want);
        for (int i = stored - (int)want; i < stored; i++)
            assert_ptr_equal(rc_lru_get(rt, c, keys[i]), keys[i]);
        assert_int_equal(rc_lru_len(u), stored_u);
        for (int i = 0; i < stored_u; i++)
            assert_ptr_equal(rc_lru_get(rt, u, keys[i]), keys[i]);
        for (int i = 0; i < 200; i++)
            assert_int_equal(rc_lru_put(rt, c, keys[i], keys[i]), 0);
        assert_int_equal(rc_lru_len(c), 150);
        rc_decref(c);
        rc_decref(u);
        for (int i = 0; i < 200; i++)
            rc_decref(keys[i]);
        assert_int_equal(rc_runtime_object_count(rt), base);
        rc_runtime_free(rt);
        if (injected == 0)
            break;
        failures++;
    }
    assert_true(failures > 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_eviction_order),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_typed),
        cmocka_unit_test(test_user_keys),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_memoize),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_gc),
        cmocka_unit_test(test_reentrant_release),
        cmocka_unit_test(test_oom),
    };
    return rct_run_tests(tests, NULL, NULL);
}
