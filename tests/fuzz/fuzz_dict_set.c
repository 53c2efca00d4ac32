/* fuzz_dict_set.c - rc_dict and rc_set against an array-based model.
 *
 * Input: byte 0 holds flags (bit 0: object debug mode); then operations, an
 * opcode byte and its arguments each: dict set/get/del/contains/pop/clear,
 * set add/discard/contains/clear, a live iterator over each container
 * (started, stepped, and left open across later operations), complete
 * iterations, replacing a container by a new empty one, and a collection.
 *
 * Keys are small ints (around the cached -5..256), large ints, floats equal
 * to ints (1.0 is the key 1; float(2**53 + 1) is 2**53, not 2**53 + 1),
 * other floats (-0.0 is 0, inf, 2**63), strs (plain and interned, with equal
 * contents), text keys (a user type equal to the str of its text and hashing
 * as it does, so a dict whose keys were all strs meets a foreign key that
 * finds, replaces and removes its str entries), tuples of these (nested
 * once), and unhashable keys (a list, a tuple holding a list). The model keeps each entry's key as a canonical
 * byte string, in which two keys are equal exactly when Python says so, and
 * the key object first inserted. Checked:
 *
 *   - every result against the model: lookups, contains, del and discard of
 *     absent keys (RC_EKEY / 0), values, lengths after every operation;
 *     an unhashable key is RC_ETYPE and changes nothing;
 *   - replacing a dict value keeps the key object first inserted and its
 *     position (Python); adding a present key to a set keeps the old key;
 *   - dict iteration yields the keys in insertion order with their current
 *     values; set iteration yields every key once;
 *   - a live iterator continues exactly as a fresh one would while the
 *     container's contents are unchanged (a value replaced, an absent key
 *     deleted, a present key added to a set, a clear of an empty container:
 *     Python's semantics, where an iterator over an empty dict that is
 *     cleared just ends), and fails with RC_ESTATE, for good, once a key was
 *     inserted or removed under it (types.h);
 *   - after everything is released, rc_runtime_object_count is back to its
 *     baseline. */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include <recycle.h>

#define MAXKEYS  256
#define CANON    192      /* bytes of a canonical key: enough for depth 2 */

/* A key in canonical form: 'i' + int64 for every integral number in the
 * int64 range (ints and floats alike), 'f' + the bits of any other double,
 * 's' + the index of the str in the pool (contents are pairwise distinct),
 * '(' items ')' for a tuple. Each item is self-delimiting, so two keys are
 * equal exactly when their encodings are. */
typedef struct ckey {
    uint8_t b[CANON];
    size_t n;
    int unhashable;
} ckey;

typedef struct entry {
    ckey k;
    rc_obj *key;      /* the key object first inserted (a reference held here) */
    int64_t val;      /* dict only */
    int seen;         /* set iteration: yielded already */
} entry;

typedef struct table {
    entry e[MAXKEYS];
    size_t n;
} table;

typedef struct liveiter {
    int active;       /* started and its container still the same object */
    int dirty;        /* a key was inserted or removed since it started */
    int ended;        /* it returned 0 */
    int failed;       /* it returned RC_ESTATE */
    size_t pos;       /* dict: entries yielded */
    size_t yielded;   /* set: keys yielded */
    rc_iter it;
} liveiter;

static const char *const g_pool[] = {
    "", "a", "b", "ab", "ba", "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80",
    "a\0b", "0", "1", "-1", "1.0", "None", "a longer key of more than forty bytes, not inline",
    "\xf4\x8f\xbf\xbf",
};
static const size_t g_pool_len[] = { 0, 1, 1, 2, 2, 2, 6, 4, 3, 1, 1, 2, 3, 4, 50, 4 };
#define NPOOL (sizeof g_pool / sizeof g_pool[0])

static const int64_t g_bigints[] = {
    257, -6, 1000, -1000, 65536, INT64_C(1) << 31, -(INT64_C(1) << 31), INT64_C(1) << 32,
    (INT64_C(1) << 53) - 1, INT64_C(1) << 53, (INT64_C(1) << 53) + 1, (INT64_C(1) << 53) + 2,
    -(INT64_C(1) << 53) - 1, INT64_C(1) << 62, INT64_MAX, INT64_MAX - 1, INT64_MIN,
    INT64_MIN + 1, 1234567890123, -987654321, INT64_C(1) << 60, (INT64_C(1) << 60) + 1,
    0x7fffffff, 0x80000000, 4294967295, 4294967297, 256, -5, 0, 1, -1, 42,
};
#define NBIG (sizeof g_bigints / sizeof g_bigints[0])

static const double g_floats[] = {
    0.5, -0.5, 1.5, 1e300, -1e300, HUGE_VAL, -HUGE_VAL, -0.0, 0.0, 9223372036854775808.0,
    -9223372036854775808.0, 1e-300, 9007199254740992.0, 9007199254740994.0, 3.0, 256.0, -5.0,
    18446744073709551616.0, 0.1, 2.5, 4503599627370495.5, 1e18, -1e18, 1e19,
};
#define NFLOAT (sizeof g_floats / sizeof g_floats[0])

typedef struct state {
    rc_runtime *rt;
    rc_obj *interned[NPOOL];
    rc_obj *dict, *set;
    table d, s;           /* the models */
    liveiter di, si;
    int64_t next_val;
} state;

/* ---- keys --------------------------------------------------------------- */

/* A user key type equal to the str of g_pool[ix] (and to another text key
 * of the same ix), with that str's hash, as Python's str subclasses are. */
typedef struct textkey {
    rc_obj ob;
    uint64_t hash;
    unsigned ix;
} textkey;

static int textkey_hash(rc_obj *self, uint64_t *out) {
    *out = ((textkey *)self)->hash;
    return 0;
}

static int textkey_equal(rc_obj *a, rc_obj *b) {
    unsigned ix = ((textkey *)a)->ix;
    if (rc_is_str(b))
        return rc_str_len(b) == g_pool_len[ix] && memcmp(rc_str_data(b), g_pool[ix], g_pool_len[ix]) == 0;
    return rc_typeof(b) == rc_typeof(a) && ((textkey *)b)->ix == ix;
}

static const rc_type textkey_type = {
    .name = "textkey", .size = sizeof(textkey), .hash = textkey_hash, .equal = textkey_equal,
};

static void canon_put(ckey *k, uint8_t tag, const void *bytes, size_t n) {
    FZ_CHECK(k->n + 1 + n <= CANON, "canonical key too long");
    k->b[k->n++] = tag;
    if (n > 0)
        memcpy(k->b + k->n, bytes, n);
    k->n += n;
}

static void canon_int(ckey *k, int64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (8 * i));
    canon_put(k, 'i', b, 8);
}

static void canon_double(ckey *k, double d) {
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && (double)(int64_t)d == d) {
        canon_int(k, (int64_t)d);
        return;
    }
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(bits >> (8 * i));
    canon_put(k, 'f', b, 8);
}

static rc_obj *checked(state *st, rc_obj *o, const char *what) {
    FZ_CHECK(o != NULL, "%s failed: %d %s", what, rc_error(st->rt), rc_error_message(st->rt));
    return o;
}

/* A new key read from the input (a new reference), its canonical form
 * appended to k. */
static rc_obj *make_key(state *st, fz_in *in, int depth, ckey *k) {
    uint8_t a = fz_u8(in), b = fz_u8(in);
    rc_runtime *rt = st->rt;
    switch (a % 8) {
    case 0: case 1: {
        int64_t v = (int64_t)b - 10 + ((a >> 3) & 1) * 20;
        canon_int(k, v);
        return checked(st, rc_int(rt, v), "rc_int");
    }
    case 2: {
        int64_t v = g_bigints[b % NBIG];
        canon_int(k, v);
        return checked(st, rc_int(rt, v), "rc_int");
    }
    case 3: {
        double d = (b & 0x80) ? (double)g_bigints[b % NBIG] : (double)((int)(b & 0x7f) - 10);
        canon_double(k, d);
        return checked(st, rc_float(rt, d), "rc_float");
    }
    case 4: {
        double d = g_floats[b % NFLOAT];
        canon_double(k, d);
        return checked(st, rc_float(rt, d), "rc_float");
    }
    case 5: case 6: {
        uint8_t ix = (uint8_t)(b % NPOOL);
        canon_put(k, 's', &ix, 1);
        if (a % 8 == 6)
            return st->interned[ix];   /* immortal: the extra reference is harmless */
        if (a & 0x10) {                /* a text key: equal to the str, its hash */
            textkey *t = (textkey *)checked(st, rc_new(rt, &textkey_type), "rc_new");
            t->ix = ix;
            FZ_CHECK(rc_hash(rt, st->interned[ix], &t->hash) == 0, "hash of a str failed");
            return &t->ob;
        }
        return checked(st, rc_str_n(rt, g_pool[ix], g_pool_len[ix]), "rc_str_n");
    }
    default: {
        if (depth >= 2 || (b & 0x40)) {
            if (depth < 2) {            /* a bare list: unhashable */
                k->unhashable = 1;
                return checked(st, rc_list(rt), "rc_list");
            }
            canon_int(k, b);
            return checked(st, rc_int(rt, b), "rc_int");
        }
        size_t n = b % 4;
        rc_obj *items[4];
        canon_put(k, '(', NULL, 0);
        for (size_t i = 0; i < n; i++)
            items[i] = make_key(st, in, depth + 1, k);
        if (b & 0x80) {                 /* a list inside: unhashable */
            items[n++] = checked(st, rc_list(rt), "rc_list");
            k->unhashable = 1;
        }
        canon_put(k, ')', NULL, 0);
        rc_obj *t = checked(st, rc_tuple_from(rt, n, items), "rc_tuple_from");
        for (size_t i = 0; i < n; i++)
            rc_decref(items[i]);
        return t;
    }
    }
}

static rc_obj *read_key(state *st, fz_in *in, ckey *k) {
    k->n = 0;
    k->unhashable = 0;
    return make_key(st, in, 0, k);
}

static long find(const table *t, const ckey *k) {
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].k.n == k->n && memcmp(t->e[i].k.b, k->b, k->n) == 0)
            return (long)i;
    return -1;
}

/* Remove entry i keeping the order of the others; the model's reference
 * to the key goes. */
static void remove_at(table *t, size_t i) {
    rc_obj *key = t->e[i].key;
    memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof t->e[0]);
    t->n--;
    rc_decref(key);
}

static void clear_model(table *t) {
    while (t->n > 0)
        remove_at(t, t->n - 1);
}

/* An unhashable key: the call failed with RC_ETYPE, recorded on the runtime. */
static void expect_etype(state *st, int r, const char *op) {
    FZ_CHECK(r == RC_ETYPE, "%s with an unhashable key returned %d, not RC_ETYPE", op, r);
    FZ_CHECK(rc_error(st->rt) == RC_ETYPE, "%s recorded %d", op, rc_error(st->rt));
    rc_error_clear(st->rt);
}

/* ---- dict ---------------------------------------------------------------- */

static void d_set(state *st, fz_in *in) {
    ckey k;
    rc_obj *key = read_key(st, in, &k);
    int64_t v = st->next_val++;
    rc_obj *val = checked(st, rc_int(st->rt, v), "rc_int");
    int r = rc_dict_set(st->rt, st->dict, key, val);
    rc_decref(val);
    if (k.unhashable) {
        expect_etype(st, r, "rc_dict_set");
        rc_decref(key);
        return;
    }
    FZ_CHECK(r == 0, "rc_dict_set failed: %d", r);
    long i = find(&st->d, &k);
    if (i >= 0) {
        st->d.e[i].val = v;       /* the key object and position stay */
        rc_decref(key);
        return;
    }
    FZ_CHECK(st->d.n < MAXKEYS, "more keys than the key space allows");
    entry *e = &st->d.e[st->d.n++];
    e->k = k;
    e->key = key;
    e->val = v;
    st->di.dirty = 1;
}

static void d_lookup(state *st, fz_in *in, int how) {
    ckey k;
    rc_obj *key = read_key(st, in, &k);
    long i = k.unhashable ? -1 : find(&st->d, &k);
    rc_runtime *rt = st->rt;
    if (how == 0) {                                   /* get */
        rc_obj *v = rc_dict_get(rt, st->dict, key);
        if (k.unhashable) {
            FZ_CHECK(v == NULL, "rc_dict_get of an unhashable key found something");
            expect_etype(st, rc_error(rt), "rc_dict_get");
        } else if (i < 0) {
            FZ_CHECK(v == NULL && rc_error(rt) == RC_EKEY,
                     "rc_dict_get of an absent key: %p, error %d", (void *)v, rc_error(rt));
            rc_error_clear(rt);
        } else {
            FZ_CHECK(v != NULL && rc_int_value(v) == st->d.e[i].val,
                     "rc_dict_get: value %lld, expected %lld", v ? (long long)rc_int_value(v) : -1LL,
                     (long long)st->d.e[i].val);
        }
    } else if (how == 1) {                            /* contains */
        int r = rc_dict_contains(rt, st->dict, key);
        if (k.unhashable)
            expect_etype(st, r, "rc_dict_contains");
        else
            FZ_CHECK(r == (i >= 0), "rc_dict_contains: %d, expected %d", r, i >= 0);
    } else if (how == 2) {                            /* del */
        int r = rc_dict_del(rt, st->dict, key);
        if (k.unhashable) {
            expect_etype(st, r, "rc_dict_del");
        } else if (i < 0) {
            FZ_CHECK(r == RC_EKEY, "rc_dict_del of an absent key: %d", r);
            rc_error_clear(rt);
        } else {
            FZ_CHECK(r == 0, "rc_dict_del of a present key: %d", r);
            remove_at(&st->d, (size_t)i);
            st->di.dirty = 1;
        }
    } else {                                          /* pop */
        rc_obj *v = rc_dict_pop(rt, st->dict, key);
        if (k.unhashable) {
            FZ_CHECK(v == NULL, "rc_dict_pop of an unhashable key returned something");
            expect_etype(st, rc_error(rt), "rc_dict_pop");
        } else if (i < 0) {
            FZ_CHECK(v == NULL && rc_error(rt) == RC_EKEY, "rc_dict_pop of an absent key");
            rc_error_clear(rt);
        } else {
            FZ_CHECK(v != NULL && rc_int_value(v) == st->d.e[i].val, "rc_dict_pop: wrong value");
            rc_decref(v);
            remove_at(&st->d, (size_t)i);
            st->di.dirty = 1;
        }
    }
    rc_decref(key);
}

static void d_clear(state *st) {
    if (st->d.n > 0)
        st->di.dirty = 1;
    rc_dict_clear(st->dict);
    clear_model(&st->d);
}

/* One step of an iterator over the dict whose model is st->d. */
static void d_step(state *st, liveiter *li) {
    rc_obj *k = NULL, *v = NULL;
    int r = rc_dict_next(st->rt, &li->it, &k, &v);
    if (li->dirty) {
        FZ_CHECK(r == RC_ESTATE || (li->ended && r == 0),
                 "an iterator over a dict whose keys changed returned %d, not RC_ESTATE", r);
        if (r == RC_ESTATE) {
            li->failed = 1;
            rc_error_clear(st->rt);
        }
        return;
    }
    if (li->pos == st->d.n) {
        FZ_CHECK(r == 0, "a dict iterator past its %zu keys returned %d%s (%s)", st->d.n, r,
                 r == RC_ESTATE ? " (RC_ESTATE, though no key was inserted or removed)" : "",
                 rc_error_message(st->rt));
        li->ended = 1;
        return;
    }
    FZ_CHECK(!li->ended, "a dict iterator yields again after its end");
    FZ_CHECK(r == 1, "a dict iterator at %zu of %zu returned %d (%s)", li->pos, st->d.n, r,
             rc_error_message(st->rt));
    const entry *e = &st->d.e[li->pos++];
    FZ_CHECK(k == e->key, "dict iteration is not in insertion order (or lost the first key object)");
    FZ_CHECK(v != NULL && rc_int_value(v) == e->val, "dict iteration gives a stale value");
}

static void d_iterate_all(state *st) {
    liveiter li;
    memset(&li, 0, sizeof li);
    rc_iter_init(&li.it, st->dict);
    for (size_t i = 0; i <= st->d.n; i++)
        d_step(st, &li);
    FZ_CHECK(li.ended, "a complete dict iteration did not end");
    /* keys only, through rc_iter_next */
    rc_iter it;
    rc_iter_init(&it, st->dict);
    for (size_t i = 0; i < st->d.n; i++) {
        rc_obj *k = NULL;
        int r = rc_iter_next(st->rt, &it, &k);
        FZ_CHECK(r == 1 && k == st->d.e[i].key, "rc_iter_next over a dict: %d at %zu", r, i);
    }
    rc_obj *k = NULL;
    FZ_CHECK(rc_iter_next(st->rt, &it, &k) == 0, "rc_iter_next does not end after the last key");
}

/* ---- set ------------------------------------------------------------------ */

static void s_add(state *st, fz_in *in) {
    ckey k;
    rc_obj *key = read_key(st, in, &k);
    int r = rc_set_add(st->rt, st->set, key);
    if (k.unhashable) {
        expect_etype(st, r, "rc_set_add");
        rc_decref(key);
        return;
    }
    FZ_CHECK(r == 0, "rc_set_add failed: %d", r);
    if (find(&st->s, &k) >= 0) {
        rc_decref(key);
        return;
    }
    FZ_CHECK(st->s.n < MAXKEYS, "more keys than the key space allows");
    entry *e = &st->s.e[st->s.n++];
    e->k = k;
    e->key = key;
    e->val = 0;
    e->seen = 0;
    st->si.dirty = 1;
}

static void s_lookup(state *st, fz_in *in, int discard) {
    ckey k;
    rc_obj *key = read_key(st, in, &k);
    long i = k.unhashable ? -1 : find(&st->s, &k);
    int r = discard ? rc_set_discard(st->rt, st->set, key) : rc_set_contains(st->rt, st->set, key);
    const char *op = discard ? "rc_set_discard" : "rc_set_contains";
    if (k.unhashable) {
        expect_etype(st, r, op);
    } else {
        FZ_CHECK(r == (i >= 0), "%s: %d, expected %d", op, r, i >= 0);
        if (discard && i >= 0) {
            remove_at(&st->s, (size_t)i);
            st->si.dirty = 1;
        }
    }
    rc_decref(key);
}

static void s_clear(state *st) {
    if (st->s.n > 0)
        st->si.dirty = 1;
    rc_set_clear(st->set);
    clear_model(&st->s);
}

static void s_step(state *st, liveiter *li) {
    rc_obj *k = NULL;
    int r = rc_iter_next(st->rt, &li->it, &k);
    if (li->dirty) {
        FZ_CHECK(r == RC_ESTATE || (li->ended && r == 0),
                 "an iterator over a set whose keys changed returned %d, not RC_ESTATE", r);
        if (r == RC_ESTATE) {
            li->failed = 1;
            rc_error_clear(st->rt);
        }
        return;
    }
    if (li->yielded == st->s.n) {
        FZ_CHECK(r == 0, "a set iterator past its %zu keys returned %d%s (%s)", st->s.n, r,
                 r == RC_ESTATE ? " (RC_ESTATE, though no key was inserted or removed)" : "",
                 rc_error_message(st->rt));
        li->ended = 1;
        return;
    }
    FZ_CHECK(r == 1, "a set iterator after %zu of %zu keys returned %d", li->yielded, st->s.n, r);
    size_t i = 0;
    while (i < st->s.n && st->s.e[i].key != k)
        i++;
    FZ_CHECK(i < st->s.n, "set iteration yielded a key that is not in the set");
    FZ_CHECK(!st->s.e[i].seen, "set iteration yielded a key twice");
    st->s.e[i].seen = 1;
    li->yielded++;
}

static void s_start(state *st, liveiter *li) {
    memset(li, 0, sizeof *li);
    li->active = 1;
    for (size_t i = 0; i < st->s.n; i++)
        st->s.e[i].seen = 0;
    rc_iter_init(&li->it, st->set);
}

static void s_iterate_all(state *st) {
    liveiter saved = st->si;
    int seen[MAXKEYS];
    for (size_t i = 0; i < st->s.n; i++)
        seen[i] = st->s.e[i].seen;
    liveiter li;
    s_start(st, &li);
    for (size_t i = 0; i <= st->s.n; i++)
        s_step(st, &li);
    FZ_CHECK(li.ended, "a complete set iteration did not end");
    for (size_t i = 0; i < st->s.n; i++)
        st->s.e[i].seen = seen[i];
    st->si = saved;
}

/* ---- the program ------------------------------------------------------------- */

static void renew(state *st, int which) {
    if (which == 0) {
        clear_model(&st->d);
        rc_decref(st->dict);
        st->dict = checked(st, rc_dict(st->rt), "rc_dict");
        memset(&st->di, 0, sizeof st->di);
    } else {
        clear_model(&st->s);
        rc_decref(st->set);
        st->set = checked(st, rc_set(st->rt), "rc_set");
        memset(&st->si, 0, sizeof st->si);
    }
}

static state g_st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in;
    fz_init(&in, data, size);
    state *st = &g_st;
    memset(st, 0, sizeof *st);
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.debug = fz_u8(&in) & 1;
    st->rt = rc_runtime_new(&cfg);
    FZ_CHECK(st->rt != NULL, "rc_runtime_new failed");
    for (size_t i = 0; i < NPOOL; i++)
        st->interned[i] = checked(st, rc_str_intern_n(st->rt, g_pool[i], g_pool_len[i]), "intern");
    size_t base = rc_runtime_object_count(st->rt);
    st->next_val = 1000;
    st->dict = checked(st, rc_dict(st->rt), "rc_dict");
    st->set = checked(st, rc_set(st->rt), "rc_set");

    for (int ops = 0; fz_more(&in) && ops < 2048; ops++) {
        uint8_t op = fz_u8(&in);
        switch (op % 16) {
        case 0: d_set(st, &in); break;
        case 1: d_lookup(st, &in, 0); break;
        case 2: d_lookup(st, &in, 2); break;
        case 3: d_lookup(st, &in, 1); break;
        case 4: d_lookup(st, &in, 3); break;
        case 5: d_clear(st); break;
        case 6:
            memset(&st->di, 0, sizeof st->di);
            st->di.active = 1;
            rc_iter_init(&st->di.it, st->dict);
            break;
        case 7:
            for (int n = op / 16 % 4 + 1; n > 0 && st->di.active; n--)
                d_step(st, &st->di);
            break;
        case 8: d_iterate_all(st); break;
        case 9: s_add(st, &in); break;
        case 10: s_lookup(st, &in, 1); break;
        case 11: s_lookup(st, &in, 0); break;
        case 12: s_clear(st); break;
        case 13:
            if (op & 0x10)
                s_start(st, &st->si);
            else if (st->si.active)
                s_step(st, &st->si);
            break;
        case 14: s_iterate_all(st); break;
        default:
            if (op & 0x10)
                renew(st, (op >> 5) & 1);
            else
                rc_gc_collect(st->rt, 2);
            break;
        }
        FZ_CHECK(rc_dict_len(st->dict) == st->d.n, "dict length %zu, model %zu",
                 rc_dict_len(st->dict), st->d.n);
        FZ_CHECK(rc_set_len(st->set) == st->s.n, "set length %zu, model %zu",
                 rc_set_len(st->set), st->s.n);
        FZ_CHECK(rc_error(st->rt) == 0, "an operation left error %d: %s", rc_error(st->rt),
                 rc_error_message(st->rt));
    }

    d_iterate_all(st);
    s_iterate_all(st);
    clear_model(&st->d);
    clear_model(&st->s);
    rc_decref(st->dict);
    rc_decref(st->set);
    size_t left = rc_runtime_object_count(st->rt);
    FZ_CHECK(left == base, "%zu objects alive after releasing everything, baseline %zu", left, base);
    rc_runtime_free(st->rt);
    return 0;
}
