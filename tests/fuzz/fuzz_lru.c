/* fuzz_lru.c - rc_lru against an array-based LRU model.
 *
 * Input: byte 0 holds flags (bit 0: object debug mode; bit 1: typed),
 * byte 1 picks maxsize (0 = unbounded, 1, 2, 3, 7, 16); then operations, an
 * opcode byte and its arguments each:
 *
 *   0 get k        1 put k v      2 find k       3 del k
 *   4 call k       5 call_args k  6 clear        7 set_max_bytes b
 *   8 collect      9 put of an unhashable key (a list, or a tuple holding one)
 *
 * k is a byte: the key, from a pool of ints, floats equal to ints, strs and
 * tuples (top-level item types differ for typed caches only), made afresh
 * half of the time (equal but not identical). v is a byte: an int, or a
 * str of up to 127 bytes (sizes matter for the byte bound). b is a byte:
 * 0 removes the bound, else the bound is b * 16 bytes.
 *
 * The model keeps the entries least recent first with the key object the
 * cache keeps (the first one stored), the value object, and each entry's
 * size (rc_deep_sizeof of key and value, as documented), and applies
 * functools' rules: a get or find hit or a put of a present key makes it the
 * newest; a new key evicts the oldest when maxsize entries are there; the
 * byte bound evicts the oldest until the sum fits, and an entry above it by
 * itself is not stored (a present key loses its entry). After every
 * operation: results, values (identity), hits, misses, currsize, bytes,
 * evictions, rejected, and the whole recency order (rc_lru_keys, identity).
 * An unhashable key is RC_ETYPE and changes nothing. At the end everything
 * is released and rc_runtime_object_count is back to its baseline. */
#include "fuzz.h"

#include <string.h>

#include <recycle.h>

#define MAXE 64

typedef struct pkey {
    const char *canon;
    const char *sig;
} pkey;

static const pkey g_pool[] = {
    { "i0", "i" },  { "i0", "f" },  { "i1", "i" },  { "i1", "f" },  { "i300", "i" },
    { "i300", "f" }, { "f2.5", "f" }, { "sa", "s" }, { "sb", "s" }, { "sab", "s" },
    { "(i1,i2)", "ii" }, { "(i1,i2)", "fi" }, { "(sa,i1)", "si" }, { "()", "" },
    { "i-7", "i" }, { "i99999", "i" },
};
#define NPOOL (sizeof g_pool / sizeof g_pool[0])

typedef struct mentry {
    size_t pk;
    rc_obj *key, *value;     /* borrowed: the cache holds them */
    size_t bytes;
} mentry;

typedef struct state {
    rc_runtime *rt;
    rc_obj *cache;
    mentry e[MAXE];
    size_t n, maxsize, hits, misses, evictions, rejected, max_bytes;
    int typed;
    int64_t next;
} state;

static rc_obj *ok(state *st, rc_obj *o, const char *what) {
    FZ_CHECK(o != NULL, "%s failed: %s", what, rc_error_message(st->rt));
    return o;
}

static rc_obj *tuple2(state *st, rc_obj *a, rc_obj *b) {
    rc_obj *t = ok(st, rc_tuple(st->rt, 2, a, b), "rc_tuple");
    rc_decref(a);
    rc_decref(b);
    return t;
}

static rc_obj *pool_make(state *st, size_t i) {
    rc_runtime *rt = st->rt;
    switch (i) {
    case 0: return ok(st, rc_int(rt, 0), "rc_int");
    case 1: return ok(st, rc_float(rt, 0.0), "rc_float");
    case 2: return ok(st, rc_int(rt, 1), "rc_int");
    case 3: return ok(st, rc_float(rt, 1.0), "rc_float");
    case 4: return ok(st, rc_int(rt, 300), "rc_int");
    case 5: return ok(st, rc_float(rt, 300.0), "rc_float");
    case 6: return ok(st, rc_float(rt, 2.5), "rc_float");
    case 7: return ok(st, rc_str(rt, "a"), "rc_str");
    case 8: return ok(st, rc_str(rt, "b"), "rc_str");
    case 9: return ok(st, rc_str(rt, "ab"), "rc_str");
    case 10: return tuple2(st, ok(st, rc_int(rt, 1), "rc_int"), ok(st, rc_int(rt, 2), "rc_int"));
    case 11: return tuple2(st, ok(st, rc_float(rt, 1.0), "rc_float"), ok(st, rc_int(rt, 2), "rc_int"));
    case 12: return tuple2(st, ok(st, rc_str(rt, "a"), "rc_str"), ok(st, rc_int(rt, 1), "rc_int"));
    case 13: return ok(st, rc_tuple(rt, 0), "rc_tuple");
    case 14: return ok(st, rc_int(rt, -7), "rc_int");
    default: return ok(st, rc_int(rt, 99999), "rc_int");
    }
}

static int same(const state *st, size_t a, size_t b) {
    return strcmp(g_pool[a].canon, g_pool[b].canon) == 0 &&
           (!st->typed || strcmp(g_pool[a].sig, g_pool[b].sig) == 0);
}

static long m_find(const state *st, size_t pk) {
    for (size_t i = 0; i < st->n; i++)
        if (same(st, st->e[i].pk, pk))
            return (long)i;
    return -1;
}

static void m_touch(state *st, size_t i) {
    mentry x = st->e[i];
    memmove(&st->e[i], &st->e[i + 1], (st->n - i - 1) * sizeof x);
    st->e[st->n - 1] = x;
}

static void m_remove(state *st, size_t i) {
    memmove(&st->e[i], &st->e[i + 1], (st->n - i - 1) * sizeof st->e[0]);
    st->n--;
}

static size_t m_bytes(const state *st) {
    size_t b = 0;
    for (size_t i = 0; i < st->n; i++)
        b += st->e[i].bytes;
    return b;
}

static size_t measure(state *st, rc_obj *k, rc_obj *v) {
    return rc_deep_sizeof(st->rt, k) + rc_deep_sizeof(st->rt, v);
}

static void m_fit(state *st) {
    while (st->max_bytes && m_bytes(st) > st->max_bytes && st->n > 0) {
        m_remove(st, 0);
        st->evictions++;
    }
}

/* The size the cache gives an entry of key pk (the key object it keeps:
 * the present one, else k) and value v; measured before the cache's call,
 * which may free what it replaces or evicts. */
static size_t m_size(state *st, size_t pk, rc_obj *k, rc_obj *v) {
    long at = m_find(st, pk);
    return st->max_bytes ? measure(st, at >= 0 ? st->e[at].key : k, v) : 0;
}

/* The model of a store: key object k (the one the cache keeps when new),
 * of size nb (m_size). */
static void m_store(state *st, size_t pk, rc_obj *k, size_t nb, rc_obj *v) {
    long at = m_find(st, pk);
    if (st->max_bytes && nb > st->max_bytes) {
        st->rejected++;
        if (at >= 0)
            m_remove(st, (size_t)at);
        return;
    }
    if (at >= 0) {
        st->e[at].value = v;
        st->e[at].bytes = nb;
        m_touch(st, (size_t)at);
    } else {
        if (st->maxsize && st->n == st->maxsize) {
            m_remove(st, 0);
            st->evictions++;
        }
        FZ_CHECK(st->n < MAXE, "model full");
        st->e[st->n].pk = pk;
        st->e[st->n].key = k;
        st->e[st->n].value = v;
        st->e[st->n].bytes = nb;
        st->n++;
    }
    m_fit(st);
}

static rc_obj *make_value(state *st, uint8_t b) {
    if (b & 0x80) {
        char text[128];
        memset(text, 'v', sizeof text);
        return ok(st, rc_str_n(st->rt, text, b & 0x7f), "rc_str_n");
    }
    return ok(st, rc_int(st->rt, 100000 + st->next++), "rc_int");
}

static rc_obj *memo(rc_runtime *rt, rc_obj *args, void *arg) {
    (void)args;
    state *st = arg;
    return rc_int(rt, 100000 + st->next++);
}

static void check(state *st) {
    rc_lru_info_ex in;
    rc_lru_cache_info_ex(st->cache, &in);
    FZ_CHECK(in.currsize == st->n, "currsize %zu, model %zu", in.currsize, st->n);
    FZ_CHECK(in.hits == st->hits && in.misses == st->misses, "hits %zu/%zu misses %zu/%zu",
             in.hits, st->hits, in.misses, st->misses);
    FZ_CHECK(in.evictions == st->evictions, "evictions %zu, model %zu", in.evictions, st->evictions);
    FZ_CHECK(in.rejected == st->rejected, "rejected %zu, model %zu", in.rejected, st->rejected);
    FZ_CHECK(in.max_bytes == st->max_bytes, "max_bytes");
    FZ_CHECK(in.bytes == (st->max_bytes ? m_bytes(st) : 0), "bytes %zu, model %zu", in.bytes,
             m_bytes(st));
    FZ_CHECK(rc_lru_len(st->cache) == st->n, "len");
    rc_obj *l = ok(st, rc_lru_keys(st->rt, st->cache), "rc_lru_keys");
    FZ_CHECK(rc_list_len(l) == st->n, "keys %zu, model %zu", rc_list_len(l), st->n);
    for (size_t i = 0; i < st->n; i++)
        FZ_CHECK(rc_list_get(st->rt, l, i) == st->e[i].key, "key %zu out of order", i);
    rc_decref(l);
    FZ_CHECK(rc_error(st->rt) == 0, "stray error %d: %s", rc_error(st->rt),
             rc_error_message(st->rt));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t sizes[] = { 0, 1, 2, 3, 7, 16 };
    fz_in in;
    fz_init(&in, data, size);
    uint8_t flags = fz_u8(&in);
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.debug = flags & 1;
    state st;
    memset(&st, 0, sizeof st);
    st.rt = rc_runtime_new(&cfg);
    FZ_CHECK(st.rt != NULL, "rc_runtime_new");
    size_t base = rc_runtime_object_count(st.rt);
    st.typed = (flags >> 1) & 1;
    st.maxsize = sizes[fz_u8(&in) % 6];
    st.cache = ok(&st, rc_lru(st.rt, st.maxsize, st.typed), "rc_lru");
    rc_runtime *rt = st.rt;
    for (int ops = 0; fz_more(&in) && ops < 2000; ops++) {
        uint8_t op = fz_u8(&in) % 10, kb = fz_u8(&in);
        size_t pk = kb % NPOOL;
        rc_obj *key = pool_make(&st, pk);
        long at = m_find(&st, pk);
        switch (op) {
        case 0: case 2: {
            rc_obj *v = NULL;
            int r;
            if (op == 0) {
                v = rc_lru_get(rt, st.cache, key);
                r = v != NULL;
                if (!v) {
                    FZ_CHECK(rc_error(rt) == RC_EKEY, "get miss: %d", rc_error(rt));
                    rc_error_clear(rt);
                }
            } else {
                r = rc_lru_find(rt, st.cache, key, &v);
            }
            FZ_CHECK(r == (at >= 0), "lookup %s: %d, model %ld", g_pool[pk].canon, r, at);
            if (at >= 0) {
                FZ_CHECK(v == st.e[at].value, "value");
                st.hits++;
                m_touch(&st, (size_t)at);
            } else {
                st.misses++;
            }
            break;
        }
        case 1: {
            rc_obj *v = make_value(&st, fz_u8(&in));
            size_t nb = m_size(&st, pk, key, v);
            FZ_CHECK(rc_lru_put(rt, st.cache, key, v) == 0, "put: %s", rc_error_message(rt));
            m_store(&st, pk, key, nb, v);
            rc_decref(v);
            break;
        }
        case 3: {
            int r = rc_lru_del(rt, st.cache, key);
            FZ_CHECK(r == (at >= 0 ? 0 : RC_EKEY), "del: %d", r);
            rc_error_clear(rt);
            if (at >= 0)
                m_remove(&st, (size_t)at);
            break;
        }
        case 4: case 5: {
            int64_t next = st.next;
            rc_obj *v;
            rc_obj *kept = key;
            if (op == 5 && rc_is_tuple(key)) {
                rc_obj *items[2];
                size_t n = rc_tuple_len(key);
                for (size_t i = 0; i < n; i++)
                    items[i] = rc_tuple_get(rt, key, i);
                v = rc_lru_call_args(rt, st.cache, memo, n, items, &st);
                kept = NULL;                     /* a tuple the cache made */
            } else {
                v = rc_lru_call(rt, st.cache, memo, key, &st);
            }
            FZ_CHECK(v != NULL, "call: %s", rc_error_message(rt));
            if (at >= 0) {
                FZ_CHECK(v == st.e[at].value, "call hit value");
                FZ_CHECK(st.next == next, "call hit ran the function");
                st.hits++;
                m_touch(&st, (size_t)at);
            } else {
                FZ_CHECK(st.next == next + 1, "call miss did not run the function once");
                st.misses++;
                if (!kept) {
                    /* the tuple the cache made is the newest key, unless the
                     * byte bound refused it (then kept is not used); its
                     * items are key's, so key's size is its size */
                    rc_obj *l = ok(&st, rc_lru_keys(rt, st.cache), "rc_lru_keys");
                    size_t n = rc_list_len(l);
                    kept = n ? rc_list_get(rt, l, n - 1) : key;
                    rc_decref(l);
                }
                /* a miss: nothing of this key was released; key has the
                 * size of the tuple the cache made (the same items) */
                m_store(&st, pk, kept, m_size(&st, pk, key, v), v);
            }
            rc_decref(v);
            break;
        }
        case 6:
            rc_lru_cache_clear(st.cache);
            st.n = 0;
            st.hits = st.misses = st.evictions = st.rejected = 0;
            break;
        case 7: {
            size_t b = (size_t)fz_u8(&in) * 16;
            if (b && !st.max_bytes)              /* before the evictions free them */
                for (size_t i = 0; i < st.n; i++)
                    st.e[i].bytes = measure(&st, st.e[i].key, st.e[i].value);
            FZ_CHECK(rc_lru_set_max_bytes(rt, st.cache, b) == 0, "set_max_bytes");
            if (!b)
                for (size_t i = 0; i < st.n; i++)
                    st.e[i].bytes = 0;
            st.max_bytes = b;
            m_fit(&st);
            break;
        }
        case 8:
            rc_gc_collect(rt, kb % 3);
            break;
        default: {
            rc_obj *l = ok(&st, rc_list(rt), "rc_list");
            rc_obj *bad = (kb & 1) ? tuple2(&st, key, l) : l;
            if (kb & 1)
                rc_incref(key);              /* tuple2 took ours */
            FZ_CHECK(rc_lru_put(rt, st.cache, bad, key) == RC_ETYPE, "unhashable put");
            FZ_CHECK(rc_lru_get(rt, st.cache, bad) == NULL && rc_error(rt) == RC_ETYPE,
                     "unhashable get");
            rc_error_clear(rt);
            rc_decref(bad);
            break;
        }
        }
        rc_decref(key);
        check(&st);
    }
    rc_decref(st.cache);
    FZ_CHECK(rc_runtime_object_count(rt) == base, "objects left: %zu",
             rc_runtime_object_count(rt) - base);
    rc_runtime_free(rt);
    return 0;
}
