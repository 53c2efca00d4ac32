/* dict.c - the dict type: an insertion-ordered hash table (CPython 3.6+'s
 * compact dict), and the table code the weak-value dict shares.
 *
 * Responsibility: map hashable keys (rc_hash / rc_equal: 1 and 1.0 are the
 * same key) to values, remembering insertion order; keep the table compact
 * after deletions; never touch freed memory when a comparison or a decref
 * runs user code that mutates the dict.
 *
 * Layout: { rc_obj; rct_dtable t; bool in_repr; }, a GC object. The table
 * (rct_dtable, declared in types.h) owns one buffer from the runtime's heap:
 *
 *   mem: [ indices: 2**log2_size slots of 1/2/4/8 bytes ][ entries: usable ]
 *
 *   indices[i] = EMPTY (-1) | DUMMY (-2) | position of an entry
 *   entries[k] = { hash, key, value }, k < nentries, in insertion order
 *
 * Lookups probe the index like CPython: i = hash & mask, then
 * i = (5*i + perturb + 1) & mask with perturb >>= 5 each step, so every bit
 * of the hash takes part and every slot is eventually visited.
 *
 * Invariants (checked by the tests through the public API):
 *   - mem == NULL  <=>  the table has no memory; then used = nentries =
 *     usable = 0 and log2_size = 0 (a new dict allocates nothing);
 *   - nentries + usable == USABLE(log2_size) = 2 * 2**log2_size / 3, so at
 *     least a third of the index slots is EMPTY and every probe terminates;
 *   - an index slot >= 0 names an entry with key != NULL; a deleted entry has
 *     key == value == NULL and its slot holds DUMMY (probes pass over it);
 *   - used = number of entries with key != NULL; keys are pairwise unequal;
 *   - entry hashes are the keys' rc_hash values;
 *   - stamp grows on every insert, delete, resize and clear (replacing the
 *     value of a present key keeps it): iterators compare it and lookups
 *     restart when a comparison changed it.
 *
 * Growth and shrink policy:
 *   - grow when an insert finds no usable entry: rebuild at the smallest
 *     power of two >= 3 * used (CPython's GROWTH_RATE), at least 8 slots.
 *     The rebuild also drops deleted entries, so a dict with heavy churn
 *     rebuilds at about the same size instead of growing;
 *   - shrink after a deletion that leaves fewer than 1/8 of the index slots
 *     live (used < 2**log2_size / 8, above the minimum size): rebuild at the
 *     power of two >= 3 * used. After any rebuild used >= size / 6, so the
 *     next shrink needs at least size/24 more deletions, and the next growth
 *     a third of the table in inserts: no thrashing, and the rebuild cost is
 *     amortised O(1) per operation. CPython never shrinks on deletion (a dict
 *     emptied by del keeps its peak size until the next insert-triggered
 *     resize); we do because long-lived caches and registries that drain
 *     should give their memory back (the issue asks for it). A failed shrink
 *     is benign: the dict keeps its table;
 *   - clear frees the table (back to no memory).
 *
 * Re-entrancy: rc_equal (user types' equal) and rc_decref (finalizers,
 * weakref callbacks) may run arbitrary code, including code that mutates
 * this dict. Lookups hold a reference to the key they compare and restart
 * when the stamp moved during the comparison (bounded: RC_ESTATE after 100
 * restarts). Mutations finish every structural change, and then drop the
 * references they released, as their last step. Clear and destroy detach
 * the whole table first. Loops that compare (equal, repr) re-read the table
 * on every step and never keep an entry pointer across user code.
 *
 * Out of memory: the new table is allocated before the old one is touched;
 * a failed insert leaves the dict unchanged and returns RC_ENOMEM.
 */
#include "types/types.h"

#include <inttypes.h>
#include <string.h>

#define DKIX_EMPTY    (-1)
#define DKIX_DUMMY    (-2)
#define DT_LOG2_MIN   3
#define DT_LOG2_MAX   ((unsigned)(sizeof(size_t) * 8 - 8))
#define PERTURB_SHIFT 5
#define LOOKUP_MAX_RESTARTS 100

typedef struct rct_dict {
    rc_obj ob;
    rct_dtable t;
    bool in_repr;     /* repr in progress (a dict that contains itself prints {...}) */
} rct_dict;

/* ---------------------------------------------------------------------------
 * Table geometry
 * ------------------------------------------------------------------------- */

static inline size_t dt_usable(unsigned log2) {
    return (((size_t)1 << log2) << 1) / 3;
}

static inline unsigned dt_ix_shift(unsigned log2) {
    return log2 < 8 ? 0 : log2 < 16 ? 1 : log2 < 32 ? 2 : 3;
}

/* Bytes of the index and of the whole buffer for 2**log2 slots; false on
 * overflow. */
static bool dt_sizes(unsigned log2, size_t *ixbytes, size_t *total) {
    if (log2 > DT_LOG2_MAX)
        return false;
    size_t ixb = ((size_t)1 << log2) << dt_ix_shift(log2), eb, all;
    if (__builtin_mul_overflow(dt_usable(log2), sizeof(rct_dentry), &eb) ||
        __builtin_add_overflow(ixb, eb, &all) || all > (size_t)PTRDIFF_MAX)
        return false;
    *ixbytes = ixb;
    *total = all;
    return true;
}

/* Smallest log2 >= DT_LOG2_MIN with 2**log2 >= minsize; false if too big. */
static bool dt_log2_for(size_t minsize, unsigned *out) {
    unsigned l = DT_LOG2_MIN;
    while (((size_t)1 << l) < minsize) {
        if (++l > DT_LOG2_MAX)
            return false;
    }
    *out = l;
    return true;
}

static inline int64_t ix_get(const rct_dtable *t, size_t i) {
    const void *m = t->mem;
    switch (t->ix_shift) {
    case 0: return ((const int8_t *)m)[i];
    case 1: return ((const int16_t *)m)[i];
    case 2: return ((const int32_t *)m)[i];
    default: return ((const int64_t *)m)[i];
    }
}

static inline void ix_set(rct_dtable *t, size_t i, int64_t v) {
    void *m = t->mem;
    switch (t->ix_shift) {
    case 0: ((int8_t *)m)[i] = (int8_t)v; break;
    case 1: ((int16_t *)m)[i] = (int16_t)v; break;
    case 2: ((int32_t *)m)[i] = (int32_t)v; break;
    default: ((int64_t *)m)[i] = v; break;
    }
}

static inline size_t dt_mask(const rct_dtable *t) {
    return ((size_t)1 << t->log2_size) - 1;
}

/* First slot of hash's probe sequence that holds no entry (EMPTY or DUMMY). */
static size_t dt_find_free_slot(const rct_dtable *t, uint64_t hash) {
    size_t mask = dt_mask(t), i = (size_t)hash & mask;
    uint64_t perturb = hash;
    while (ix_get(t, i) >= 0) {
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
    return i;
}

/* The slot that holds entry ix (which is live). */
static size_t dt_slot_of(const rct_dtable *t, uint64_t hash, size_t ix) {
    size_t mask = dt_mask(t), i = (size_t)hash & mask;
    uint64_t perturb = hash;
    while (ix_get(t, i) != (int64_t)ix) {
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
    return i;
}

size_t rct_dtable_bytes(const rct_dtable *t) {
    size_t ixb, total;
    if (!t->mem || !dt_sizes(t->log2_size, &ixb, &total))
        return 0;
    return total;
}

/* ---------------------------------------------------------------------------
 * Rebuilding
 * ------------------------------------------------------------------------- */

/* Allocate an empty table of 2**log2 slots into *nt (not installed). */
static int dt_alloc(rc_runtime *rt, unsigned log2, rct_dtable *nt) {
    size_t ixb, total;
    if (!dt_sizes(log2, &ixb, &total))
        return rco_err(rt, RC_EOVERFLOW, "dict: a table of 2**%u slots is too large", log2);
    void *mem = rco_alloc(rt, total);
    if (!mem)
        return RC_ENOMEM;
    memset(mem, 0xff, ixb);                  /* every slot EMPTY, whatever its width */
    memset(nt, 0, sizeof *nt);
    nt->mem = mem;
    nt->entries = (rct_dentry *)(void *)((char *)mem + ixb);
    nt->log2_size = (uint8_t)log2;
    nt->ix_shift = (uint8_t)dt_ix_shift(log2);
    nt->usable = dt_usable(log2);
    return 0;
}

/* Append an entry to a table being built (no equal keys in it, room left). */
static void dt_append(rct_dtable *t, uint64_t hash, rc_obj *key, rc_obj *value) {
    size_t slot = dt_find_free_slot(t, hash);
    size_t k = t->nentries++;
    t->entries[k].hash = hash;
    t->entries[k].key = key;
    t->entries[k].value = value;
    ix_set(t, slot, (int64_t)k);
    t->usable--;
    t->used++;
}

/* Rebuild t with room for at least minsize slots, live entries in order.
 * 0, or an error (recorded) with t unchanged. */
static int dt_resize(rc_runtime *rt, rct_dtable *t, size_t minsize) {
    unsigned log2;
    if (!dt_log2_for(minsize, &log2))
        return rco_err(rt, RC_EOVERFLOW, "dict: %zu entries is too many", t->used);
    rct_dtable nt;
    int r = dt_alloc(rt, log2, &nt);
    if (r < 0)
        return r;
    for (size_t k = 0; k < t->nentries; k++) {
        const rct_dentry *e = &t->entries[k];
        if (e->key)
            dt_append(&nt, e->hash, e->key, e->value);
    }
    rco_free(rt, t->mem);
    nt.stamp = t->stamp + 1;
    *t = nt;
    return 0;
}

void rct_dtable_shrink(rc_runtime *rt, rct_dtable *t) {
    if (!t->mem || t->log2_size <= DT_LOG2_MIN || t->used >= ((size_t)1 << t->log2_size) / 8)
        return;
    /* A failed shrink must not look like an error to the caller, whose
     * operation succeeded: keep the runtime's error as it was. */
    int code = rt->err_code;
    char msg[sizeof rt->err_msg];
    memcpy(msg, rt->err_msg, sizeof msg);
    if (dt_resize(rt, t, t->used * 3) < 0) {
        rt->err_code = code;
        memcpy(rt->err_msg, msg, sizeof msg);
    }
}

void rct_dtable_detach(rct_dtable *t, rct_dtable *out) {
    *out = *t;
    uint64_t stamp = t->stamp + 1;
    memset(t, 0, sizeof *t);
    t->stamp = stamp;
}

void rct_dtable_release(rc_runtime *rt, rct_dtable *old) {
    /* old is private to the caller: user code run by a decref cannot reach
     * it, so reading it between decrefs is safe. */
    for (size_t k = 0; k < old->nentries; k++) {
        rct_dentry *e = &old->entries[k];
        rc_obj *key = e->key, *value = e->value;
        if (!key)
            continue;
        e->key = e->value = NULL;
        rco_decref(key);
        rco_xdecref(value);
    }
    rco_free(rt, old->mem);
    memset(old, 0, sizeof *old);
}

int rct_dtable_filter(rc_runtime *rt, rct_dtable *t, bool (*keep)(const rct_dentry *e),
                      rct_dtable *dropped) {
    memset(dropped, 0, sizeof *dropped);
    size_t kept = 0;
    for (size_t k = 0; k < t->nentries; k++)
        if (t->entries[k].key && keep(&t->entries[k]))
            kept++;
    if (kept == t->used)
        return 0;
    rct_dtable nt;
    memset(&nt, 0, sizeof nt);
    if (kept > 0) {
        unsigned log2;
        if (!dt_log2_for(kept * 3, &log2))
            return rco_err(rt, RC_EOVERFLOW, "dict: %zu entries is too many", kept);
        int r = dt_alloc(rt, log2, &nt);
        if (r < 0)
            return r;
        for (size_t k = 0; k < t->nentries; k++) {
            rct_dentry *e = &t->entries[k];
            if (e->key && keep(e)) {
                dt_append(&nt, e->hash, e->key, e->value);
                e->key = e->value = NULL;       /* moved: the old table keeps the rest */
            }
        }
    }
    nt.stamp = t->stamp + 1;
    *dropped = *t;
    dropped->used -= kept;
    *t = nt;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Lookup, insert, remove
 * ------------------------------------------------------------------------- */

int rct_dtable_lookup(rc_runtime *rt, rct_dtable *t, rc_obj *key, uint64_t hash, size_t *ixp) {
    for (int restarts = 0; restarts <= LOOKUP_MAX_RESTARTS; restarts++) {
        if (!t->mem)
            return 0;
        uint64_t stamp = t->stamp;
        size_t mask = dt_mask(t), i = (size_t)hash & mask;
        uint64_t perturb = hash;
        for (;;) {
            int64_t ix = ix_get(t, i);
            if (ix == DKIX_EMPTY)
                return 0;
            if (ix >= 0) {
                rct_dentry *e = &t->entries[ix];
                if (e->key == key) {
                    *ixp = (size_t)ix;
                    return 1;
                }
                if (e->hash == hash) {
                    rc_obj *start = e->key;
                    rco_incref(start);
                    int cmp = rc_equal(rt, start, key);
                    rco_decref(start);
                    if (cmp < 0)
                        return cmp;
                    if (t->stamp != stamp)
                        break;                   /* mutated by user code: start over */
                    if (cmp > 0) {
                        *ixp = (size_t)ix;
                        return 1;
                    }
                }
            }
            perturb >>= PERTURB_SHIFT;
            i = (i * 5 + (size_t)perturb + 1) & mask;
        }
    }
    return rco_err(rt, RC_ESTATE, "dict kept changing during a key comparison");
}

int rct_dtable_insert(rc_runtime *rt, rct_dtable *t, uint64_t hash, rc_obj *key, rc_obj *value) {
    if (t->usable == 0) {
        size_t grow;
        if (__builtin_mul_overflow(t->used, (size_t)3, &grow))
            return rco_err(rt, RC_EOVERFLOW, "dict: %zu entries is too many", t->used);
        int r = dt_resize(rt, t, grow);
        if (r < 0)
            return r;
    }
    rco_incref(key);
    rco_incref(value);
    dt_append(t, hash, key, value);
    t->stamp++;
    return 0;
}

void rct_dtable_remove(rct_dtable *t, size_t ix) {
    rct_dentry *e = &t->entries[ix];
    ix_set(t, dt_slot_of(t, e->hash, ix), DKIX_DUMMY);
    e->key = e->value = NULL;
    t->used--;
    t->stamp++;
}

int rct_dtable_traverse(const rct_dtable *t, rc_visitfn visit, void *arg, bool values) {
    for (size_t k = 0; t->mem && k < t->nentries; k++) {
        const rct_dentry *e = &t->entries[k];
        if (!e->key)
            continue;
        int r = visit(e->key, arg);
        if (r)
            return r;
        if (values && e->value && (r = visit(e->value, arg)) != 0)
            return r;
    }
    return 0;
}

int rct_key_error(rc_runtime *rt, const rc_obj *key) {
    if (rco_is(key, &rc_str_type)) {
        const char *s = rc_str_data(key);
        size_t n = rc_str_len(key);
        if (n > 60) {
            n = 60;
            while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                n--;                              /* do not cut a UTF-8 sequence */
            return rco_err(rt, RC_EKEY, "key not found: '%.*s...'", (int)n, s);
        }
        return rco_err(rt, RC_EKEY, "key not found: '%.*s'", (int)n, s);
    }
    if (rco_is(key, &rc_int_type))
        return rco_err(rt, RC_EKEY, "key not found: %" PRId64, rc_int_value(key));
    return rco_err(rt, RC_EKEY, "key not found (a %s object)", rc_type_name(key));
}

/* ---------------------------------------------------------------------------
 * The type's slots
 * ------------------------------------------------------------------------- */

static int dict_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    return rct_dtable_traverse(&((rct_dict *)self)->t, visit, arg, true);
}

/* clear and destroy: detach the table, then drop its references. A decref
 * may run code that fills the dict again: loop until it stays empty. */
static void dict_clear_slot(rc_obj *self) {
    rct_dict *d = (rct_dict *)self;
    rc_runtime *rt = rco_runtime(self);
    while (d->t.mem) {
        rct_dtable old;
        rct_dtable_detach(&d->t, &old);
        rct_dtable_release(rt, &old);
    }
}

static int dict_equal(rc_obj *a, rc_obj *b) {
    if (!rco_is(b, &rc_dict_type))
        return 0;
    rct_dict *da = (rct_dict *)a, *db = (rct_dict *)b;
    if (da->t.used != db->t.used)
        return 0;
    rc_runtime *rt = rco_runtime(a);
    /* As CPython's dict_equal: walk a's entries, re-reading the table after
     * each comparison (user code may change either dict). */
    for (size_t k = 0; k < da->t.nentries; k++) {
        rct_dentry *e = &da->t.entries[k];
        if (!e->key)
            continue;
        rc_obj *key = e->key, *av = e->value;
        uint64_t hash = e->hash;
        rco_incref(key);
        rco_incref(av);
        size_t ix;
        int r = rct_dtable_lookup(rt, &db->t, key, hash, &ix);
        if (r > 0) {
            rc_obj *bv = db->t.entries[ix].value;
            rco_incref(bv);
            r = rc_equal(rt, av, bv);
            rco_decref(bv);
        }
        rco_decref(av);
        rco_decref(key);
        if (r <= 0)
            return r;
    }
    return 1;
}

static int dict_repr(rc_obj *self, char *buf, size_t len) {
    rct_dict *d = (rct_dict *)self;
    rct_writer w;
    rct_writer_init(&w, buf, len);
    if (d->in_repr) {
        rct_writer_puts(&w, "{...}");
        return rct_writer_finish(&w);
    }
    rc_runtime *rt = rco_runtime(self);
    d->in_repr = true;
    rct_writer_puts(&w, "{");
    int r = 0;
    bool first = true;
    for (size_t k = 0; r == 0 && k < d->t.nentries; k++) {
        rct_dentry *e = &d->t.entries[k];
        if (!e->key)
            continue;
        rc_obj *key = e->key, *value = e->value;
        rco_incref(key);
        rco_incref(value);
        if (!first)
            rct_writer_puts(&w, ", ");
        first = false;
        r = rct_writer_repr(&w, rt, key);
        if (r == 0) {
            rct_writer_puts(&w, ": ");
            r = rct_writer_repr(&w, rt, value);
        }
        rco_decref(value);
        rco_decref(key);
    }
    d->in_repr = false;
    if (r < 0)
        return r;
    rct_writer_puts(&w, "}");
    return rct_writer_finish(&w);
}

static size_t dict_sizeof_extra(rc_obj *self) {
    return rct_dtable_bytes(&((rct_dict *)self)->t);
}

const rc_type rc_dict_type = {
    .name = "dict",
    .size = sizeof(rct_dict),
    .flags = RC_TYPE_GC,
    .traverse = dict_traverse,
    .clear = dict_clear_slot,
    .destroy = dict_clear_slot,
    .equal = dict_equal,
    .repr = dict_repr,
    .sizeof_extra = dict_sizeof_extra,
};

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

rc_obj *rc_dict(rc_runtime *rt) {
    if (!rt)
        return NULL;
    return rc_new(rt, &rc_dict_type);
}

int rc_is_dict(const rc_obj *o) {
    return rco_is(o, &rc_dict_type) ? 1 : 0;
}

/* Check dict and key, and hash the key. */
static int dict_prepare(rc_runtime *rt, rc_obj *dict, rc_obj *key, uint64_t *hash,
                        const char *fn) {
    int r = rct_check_arg(rt, dict, &rc_dict_type, fn);
    if (r == 0)
        r = rct_check_arg(rt, key, NULL, fn);
    if (r == 0)
        r = rc_hash(rt, key, hash);
    return r;
}

int rc_dict_set(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj *value) {
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = dict_prepare(rt, dict, key, &hash, "rc_dict_set");
    if (r == 0)
        r = rct_check_arg(rt, value, NULL, "rc_dict_set");
    if (r < 0)
        return r;
    rct_dtable *t = &((rct_dict *)dict)->t;
    size_t ix;
    r = rct_dtable_lookup(rt, t, key, hash, &ix);
    if (r < 0)
        return r;
    if (r > 0) {
        /* replace the value, keep the key and its position */
        rct_dentry *e = &t->entries[ix];
        rc_obj *old = e->value;
        rco_incref(value);
        e->value = value;
        rco_decref(old);                          /* last: may run user code */
        return 0;
    }
    return rct_dtable_insert(rt, t, hash, key, value);
}

rc_obj *rc_dict_get(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return NULL;
    uint64_t hash;
    if (dict_prepare(rt, dict, key, &hash, "rc_dict_get") < 0)
        return NULL;
    rct_dtable *t = &((rct_dict *)dict)->t;
    size_t ix;
    int r = rct_dtable_lookup(rt, t, key, hash, &ix);
    if (r <= 0) {
        if (r == 0)
            rct_key_error(rt, key);
        return NULL;
    }
    return t->entries[ix].value;
}

int rc_dict_contains(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = dict_prepare(rt, dict, key, &hash, "rc_dict_contains");
    if (r < 0)
        return r;
    size_t ix;
    return rct_dtable_lookup(rt, &((rct_dict *)dict)->t, key, hash, &ix);
}

/* Remove key; its value (a reference now owned by the caller) in *value. */
static int dict_take(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj **value, const char *fn) {
    uint64_t hash;
    int r = dict_prepare(rt, dict, key, &hash, fn);
    if (r < 0)
        return r;
    rct_dtable *t = &((rct_dict *)dict)->t;
    size_t ix;
    r = rct_dtable_lookup(rt, t, key, hash, &ix);
    if (r < 0)
        return r;
    if (r == 0)
        return rct_key_error(rt, key);
    rc_obj *k = t->entries[ix].key;
    *value = t->entries[ix].value;
    rct_dtable_remove(t, ix);
    rct_dtable_shrink(rt, t);
    rco_decref(k);                                /* last: may run user code */
    return 0;
}

int rc_dict_del(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return RC_EINVAL;
    rc_obj *value;
    int r = dict_take(rt, dict, key, &value, "rc_dict_del");
    if (r == 0)
        rco_decref(value);
    return r;
}

rc_obj *rc_dict_pop(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return NULL;
    rc_obj *value;
    return dict_take(rt, dict, key, &value, "rc_dict_pop") == 0 ? value : NULL;
}

size_t rc_dict_len(const rc_obj *dict) {
    return rco_is(dict, &rc_dict_type) ? ((const rct_dict *)dict)->t.used : 0;
}

void rc_dict_clear(rc_obj *dict) {
    if (rco_is(dict, &rc_dict_type) && !(dict->rc_head_ & RCO_F_FREED))
        dict_clear_slot(dict);
}

int rc_dict_set_str(rc_runtime *rt, rc_obj *dict, const char *key, rc_obj *value) {
    if (!rt)
        return RC_EINVAL;
    if (!key)
        return rco_err(rt, RC_EINVAL, "rc_dict_set_str: NULL key");
    int r = rct_check_arg(rt, dict, &rc_dict_type, "rc_dict_set_str");
    if (r < 0)
        return r;
    rc_obj *k = rc_str(rt, key);
    if (!k)
        return rc_error(rt);
    r = rc_dict_set(rt, dict, k, value);
    rco_decref(k);
    return r;
}

rc_obj *rc_dict_get_str(rc_runtime *rt, rc_obj *dict, const char *key) {
    if (!rt)
        return NULL;
    if (!key)
        return rco_err_null(rt, RC_EINVAL, "rc_dict_get_str: NULL key");
    if (rct_check_arg(rt, dict, &rc_dict_type, "rc_dict_get_str") < 0)
        return NULL;
    rc_obj *k = rc_str(rt, key);
    if (!k)
        return NULL;
    rc_obj *v = rc_dict_get(rt, dict, k);        /* borrowed: the dict holds it */
    rco_decref(k);
    return v;
}

/* ---------------------------------------------------------------------------
 * Iteration (iter.c)
 * ------------------------------------------------------------------------- */

uint64_t rct_dict_stamp(const rc_obj *d) {
    return rco_is(d, &rc_dict_type) ? ((const rct_dict *)d)->t.stamp : 0;
}

int rct_dict_iter(rc_runtime *rt, rc_iter *it, rc_obj **key, rc_obj **value) {
    const rct_dtable *t = &((const rct_dict *)it->container)->t;
    if (t->stamp != it->stamp)
        return rco_err(rt, RC_ESTATE, "dict changed size during iteration");
    while (it->pos < t->nentries) {
        const rct_dentry *e = &t->entries[it->pos++];
        if (e->key) {
            if (key)
                *key = e->key;
            if (value)
                *value = e->value;
            return 1;
        }
    }
    return 0;
}
