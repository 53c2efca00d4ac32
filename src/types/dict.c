/* dict.c - the dict type: an insertion-ordered hash table (CPython 3.6+'s
 * compact dict), and the table code the weak-value dict shares.
 *
 * Responsibility: map hashable keys (rc_hash / rc_equal: 1 and 1.0 are the
 * same key) to values, remembering insertion order; keep the table compact
 * after deletions; never touch freed memory when a comparison or a decref
 * runs user code that mutates the dict.
 *
 * Layout: { rc_obj; rct_dtable t; }, a GC object of 56 bytes with its
 * collector links (CPython's empty dict: 64). rct_dtable (types.h) is the
 * pointer to the table block, the number of live entries and the stamp;
 * the block is one allocation from the runtime's heap, as CPython's
 * PyDictKeysObject:
 *
 *   [ rct_dkeys: usable, nentries, log2_size, ix_shift, esize (24 bytes) ]
 *   [ indices: 2**log2_size slots of 1/2/4/8 bytes ][ entries: usable ]
 *
 *   indices[i] = EMPTY (-1) | DUMMY (-2) | position of an entry, with the
 *                top tagbits bits of its hash above it (dt_tagbits)
 *   entries[k] = { hash, key, value } (esize 24), or { key, value } (esize
 *                16) while every key is a str, k < nentries, in insertion
 *                order
 *
 * The 16-byte entries are CPython's "unicode keys" table: a str caches its
 * hash, so the entry need not. The first key of an empty table decides its
 * layout; a key of another type rebuilds a str-only table with hashed
 * entries (at the same size when it has room), which it keeps until it is
 * emptied. Lookups of a str in a str-only table compare without running
 * user code; any other lookup takes the general path (a str-only table
 * reads each candidate's hash from its str).
 *
 * A dict without entries shares rct_dkeys_empty, an immutable block of 8
 * EMPTY slots and no usable entry, as CPython's dicts share Py_EMPTY_KEYS:
 * lookups need no special case, and the first insert finds no room and
 * builds the dict's own block.
 *
 * Lookups probe the index like CPython: i = hash & mask, then
 * i = (5*i + perturb + 1) & mask with perturb >>= 5 each step, so every bit
 * of the hash takes part and every slot is eventually visited.
 *
 * Invariants (checked by the tests through the public API):
 *   - keys == &rct_dkeys_empty  <=>  the table has no memory of its own;
 *     then used = 0 (a new dict allocates nothing); the shared block is
 *     never written (every writer first finds usable == 0 and rebuilds);
 *   - esize == RCT_DK_STR  =>  every live key is a str whose hash is cached;
 *   - nentries + usable == USABLE(log2_size) = 2 * 2**log2_size / 3, so at
 *     least a third of the index slots is EMPTY and every probe terminates;
 *   - an index slot >= 0 names an entry with key != NULL; a deleted entry has
 *     key == value == NULL and its slot holds DUMMY (probes pass over it);
 *   - used = number of entries with key != NULL; keys are pairwise unequal;
 *   - entry hashes are the keys' rc_hash values;
 *   - stamp grows on every insert, delete, resize and clear of a dict with
 *     entries (replacing the value of a present key keeps it): iterators
 *     compare it and lookups restart when a comparison changed it. Clearing
 *     a dict without entries frees its table but keeps the stamp: nothing
 *     an iterator could still yield has changed (Python ends the iteration
 *     there), and every way from a live entry to used == 0 went through a
 *     delete, which moved the stamp already.
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
 *     should give their memory back. A failed shrink is benign: the dict
 *     keeps its table;
 *   - clear frees the table (back to the shared empty block).
 *
 * Lookups by C string (rc_dict_find_str_n) hash the bytes as a str hashes
 * its data (rco_hash_bytes) and compare them with str keys only, so they
 * allocate nothing and run no user code; a key of another type never
 * matches, whatever its hash and equal say.
 *
 * Single-lookup updates (setdefault, incr, modify) find the entry once and
 * then write it, unless user code ran in between: allocating the new int
 * (an emergency collection may run finalizers) or the modify callback. They
 * hold a reference to the value they read and redo the operation from a new
 * lookup when the stamp or that entry's value changed meanwhile.
 *
 * A miss (RC_EKEY) is recorded lazily (object.h, rco_err_lazy): the key's
 * type and a prefix of its text or its int value are copied, and the
 * message is formatted only when read, so rc_dict_get's miss costs about
 * what its hit does.
 *
 * Runtimes: every call that stores or allocates checks that the dict is of
 * rt and that what it stores is not of another runtime (rct_check_link);
 * lookups only read and accept a key of any runtime.
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
#include <stddef.h>
#include <stdio.h>
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
} rct_dict;

/* ---------------------------------------------------------------------------
 * Table geometry
 * ------------------------------------------------------------------------- */

/* The shared empty table: a lookup ends at its first probe, an insert
 * rebuilds first. Read-only memory: a write to it faults instead of
 * corrupting other dicts. */
const rct_dkeys_empty_block rct_dkeys_empty = {
    .k = { .usable = 0, .nentries = 0, .log2_size = DT_LOG2_MIN, .ix_shift = 0,
           .esize = RCT_DK_GENERAL },
    .index = { -1, -1, -1, -1, -1, -1, -1, -1 },
};
_Static_assert(offsetof(rct_dkeys_empty_block, index) == sizeof(rct_dkeys), "the index follows");
_Static_assert(sizeof rct_dkeys_empty.index == (1u << DT_LOG2_MIN), "the minimum size");

/* Whether k is no block of its own: the shared empty one, or NULL (a dict
 * between rc_new and its constructor's rct_dtable_init, which a collection
 * started by that very allocation may traverse). */
static inline bool dk_is_empty(const rct_dkeys *k) {
    return k == NULL || k == &rct_dkeys_empty.k;
}

static inline size_t dt_usable(unsigned log2) {
    return (((size_t)1 << log2) << 1) / 3;
}

static inline unsigned dt_ix_shift(unsigned log2) {
    return log2 < 8 ? 0 : log2 < 16 ? 1 : log2 < 32 ? 2 : 3;
}

/* Bytes of the index and of the whole block for 2**log2 slots and entries
 * of esize bytes; false on overflow. */
static bool dt_sizes(unsigned log2, unsigned esize, size_t *ixbytes, size_t *total) {
    if (log2 > DT_LOG2_MAX)
        return false;
    size_t ixb = ((size_t)1 << log2) << dt_ix_shift(log2), eb, all;
    if (__builtin_mul_overflow(dt_usable(log2), (size_t)esize, &eb) ||
        __builtin_add_overflow(ixb + sizeof(rct_dkeys), eb, &all) || all > (size_t)PTRDIFF_MAX)
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

static inline const void *dk_index(const rct_dkeys *k) {
    return (const char *)k + sizeof(rct_dkeys);
}

/* Slot i of an index of 1 << shift bytes a slot. With a constant shift
 * (the lookups' specialised loops) this is one load. */
RCI_INLINE int64_t ix_load(const void *m, unsigned shift, size_t i) {
    switch (shift) {
    case 0: return ((const int8_t *)m)[i];
    case 1: return ((const int16_t *)m)[i];
    case 2: return ((const int32_t *)m)[i];
    default: return ((const int64_t *)m)[i];
    }
}

static inline int64_t ix_get(const rct_dkeys *k, size_t i) {
    return ix_load(dk_index(k), k->ix_shift, i);
}

static inline void ix_set(rct_dkeys *k, size_t i, int64_t v) {
    void *m = (char *)k + sizeof(rct_dkeys);
    switch (k->ix_shift) {
    case 0: ((int8_t *)m)[i] = (int8_t)v; break;
    case 1: ((int16_t *)m)[i] = (int16_t)v; break;
    case 2: ((int32_t *)m)[i] = (int32_t)v; break;
    default: ((int64_t *)m)[i] = v; break;
    }
}

static inline size_t dk_mask(const rct_dkeys *k) {
    return ((size_t)1 << k->log2_size) - 1;
}

/* Index slots keep the top bits of the entry's hash (its tag) above the
 * position, as many as the slot's width leaves (positions are below
 * 2**log2_size; the sign bit stays clear; at most 8), so a probe passes over
 * most other keys without reading their entry, or for a str-only table
 * their str: the misses a compact entry would otherwise cost. */
static inline unsigned dt_tagbits(unsigned log2) {
    unsigned spare = (8u << dt_ix_shift(log2)) - 1 - log2;
    return spare < 8 ? spare : 8;
}

/* The tag of hash in k, shifted into place: a slot holding entry ix of
 * this hash holds ix | dk_tag(k, hash). */
static inline uint64_t dk_tag(const rct_dkeys *k, uint64_t hash) {
    return ((hash >> (63 - k->tagbits)) >> 1) << k->log2_size;   /* 0 when tagbits is 0 */
}

/* Entry ix's hash (its key slot: rct_dk_key_slot, types.h). */
static inline uint64_t dk_hash(const rct_dkeys *k, size_t ix) {
    const char *e = rct_dk_entries(k) + ix * k->esize;
    if (k->esize == RCT_DK_GENERAL)
        return *(const uint64_t *)(const void *)e;
    return rct_str_cached_hash(*(rc_obj *const *)(const void *)e);
}

/* First slot of hash's probe sequence that holds no entry (EMPTY or DUMMY). */
static size_t dk_find_free_slot(const rct_dkeys *k, uint64_t hash) {
    size_t mask = dk_mask(k), i = (size_t)hash & mask;
    uint64_t perturb = hash;
    while (ix_get(k, i) >= 0) {
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
    return i;
}

/* The slot that holds entry ix (which is live). */
static size_t dk_slot_of(const rct_dkeys *k, uint64_t hash, size_t ix) {
    size_t mask = dk_mask(k), i = (size_t)hash & mask;
    uint64_t perturb = hash;
    int64_t want = (int64_t)(ix | dk_tag(k, hash));
    while (ix_get(k, i) != want) {
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
    return i;
}

size_t rct_dtable_bytes(const rct_dtable *t) {
    const rct_dkeys *k = t->keys;
    size_t ixb, total;
    if (dk_is_empty(k) || !dt_sizes(k->log2_size, k->esize, &ixb, &total))
        return 0;
    return total;
}

/* ---------------------------------------------------------------------------
 * Rebuilding
 * ------------------------------------------------------------------------- */

/* Allocate an empty table block of 2**log2 slots and esize-byte entries. */
static RCI_ALLOC_FRAME rct_dkeys *dk_alloc(rc_runtime *rt, unsigned log2, unsigned esize) {
    size_t ixb, total;
    if (!dt_sizes(log2, esize, &ixb, &total)) {
        rco_err(rt, RC_EOVERFLOW, "dict: a table of 2**%u slots is too large", log2);
        return NULL;
    }
    rct_dkeys *k = rco_alloc(rt, total);
    if (!k)
        return NULL;
    memset(k, 0, sizeof *k);
    memset((char *)k + sizeof *k, 0xff, ixb);    /* every slot EMPTY, whatever its width */
    k->log2_size = (uint8_t)log2;
    k->ix_shift = (uint8_t)dt_ix_shift(log2);
    k->esize = (uint8_t)esize;
    k->tagbits = (uint8_t)dt_tagbits(log2);
    k->usable = dt_usable(log2);
    return k;
}

static inline void dk_free(rc_runtime *rt, rct_dkeys *k) {
    if (!dk_is_empty(k))
        rco_free(rt, k);
}

/* Append an entry to a block (no equal key in it, room left; a str key
 * when its entries have no hash). */
static inline void dk_append(rct_dkeys *k, uint64_t hash, rc_obj *key, rc_obj *value) {
    size_t slot = dk_find_free_slot(k, hash);
    size_t n = k->nentries++;
    char *e = rct_dk_entries(k) + n * k->esize;
    if (k->esize == RCT_DK_GENERAL) {
        *(uint64_t *)(void *)e = hash;
        e += sizeof(uint64_t);
    }
    ((rc_obj **)(void *)e)[0] = key;
    ((rc_obj **)(void *)e)[1] = value;
    ix_set(k, slot, (int64_t)(n | dk_tag(k, hash)));
    k->usable--;
}

/* Rebuild t with room for at least minsize slots and esize-byte entries,
 * live entries in order. 0, or an error (recorded) with t unchanged. */
static RCI_ALLOC_FRAME int dt_resize(rc_runtime *rt, rct_dtable *t, size_t minsize, unsigned esize) {
    unsigned log2;
    if (!dt_log2_for(minsize, &log2))
        return rco_err(rt, RC_EOVERFLOW, "dict: %zu entries is too many", t->used);
    rct_dkeys *old = t->keys, *nk = dk_alloc(rt, log2, esize);
    if (!nk)
        return rc_error(rt);
    for (size_t ix = 0; ix < old->nentries; ix++) {
        rc_obj **kv = rct_dk_key_slot(old, ix);
        if (kv[0])
            dk_append(nk, dk_hash(old, ix), kv[0], kv[1]);
    }
    dk_free(rt, old);
    t->keys = nk;
    t->stamp++;
    return 0;
}

/* Rebuild t at the size its live entries need (after deletions). */
static RCI_ALLOC_FRAME void dt_shrink(rc_runtime *rt, rct_dtable *t) {
    /* A failed shrink must not look like an error to the caller, whose
     * operation succeeded: keep the runtime's error as it was. */
    rco_error_state saved;
    rco_error_save(rt, &saved);
    if (dt_resize(rt, t, t->used * 3, t->keys->esize) < 0)
        rco_error_restore(rt, &saved);
}

/* rct_dtable_shrink, with its test inlined into dict.c's callers. The shared
 * empty block has the minimum size, so it never shrinks. */
RCI_INLINE void dt_maybe_shrink(rc_runtime *rt, rct_dtable *t) {
    if (t->keys->log2_size <= DT_LOG2_MIN || t->used >= ((size_t)1 << t->keys->log2_size) / 8)
        return;
    dt_shrink(rt, t);
}

RCI_ALLOC_FRAME void rct_dtable_shrink(rc_runtime *rt, rct_dtable *t) {
    dt_maybe_shrink(rt, t);
}

void rct_dtable_detach(rct_dtable *t, rct_dtable *out) {
    *out = *t;
    rct_dtable_init(t);
    t->stamp = out->stamp + 1;
}

void rct_dtable_release(rc_runtime *rt, rct_dtable *old) {
    /* old is private to the caller: user code run by a decref cannot reach
     * it, so reading it between decrefs is safe. */
    rct_dkeys *k = old->keys;
    for (size_t ix = 0; !dk_is_empty(k) && ix < k->nentries; ix++) {
        rc_obj **kv = rct_dk_key_slot(k, ix);
        rc_obj *key = kv[0], *value = kv[1];
        if (!key)
            continue;
        kv[0] = kv[1] = NULL;
        rco_decref(key);
        rco_xdecref(value);
    }
    dk_free(rt, k);
    rct_dtable_init(old);
}

RCI_ALLOC_FRAME int rct_dtable_filter(rc_runtime *rt, rct_dtable *t,
                                      bool (*keep)(rc_obj *key, rc_obj *value),
                                      rct_dtable *dropped) {
    rct_dtable_init(dropped);
    rct_dkeys *k = t->keys;
    size_t kept = 0;
    for (size_t ix = 0; ix < k->nentries; ix++) {
        rc_obj **kv = rct_dk_key_slot(k, ix);
        if (kv[0] && keep(kv[0], kv[1]))
            kept++;
    }
    if (kept == t->used)
        return 0;
    rct_dkeys *nk = (rct_dkeys *)&rct_dkeys_empty.k;
    if (kept > 0) {
        unsigned log2;
        if (!dt_log2_for(kept * 3, &log2))
            return rco_err(rt, RC_EOVERFLOW, "dict: %zu entries is too many", kept);
        if (!(nk = dk_alloc(rt, log2, k->esize)))
            return rc_error(rt);
        for (size_t ix = 0; ix < k->nentries; ix++) {
            rc_obj **kv = rct_dk_key_slot(k, ix);
            if (kv[0] && keep(kv[0], kv[1])) {
                dk_append(nk, dk_hash(k, ix), kv[0], kv[1]);
                kv[0] = kv[1] = NULL;           /* moved: the old block keeps the rest */
            }
        }
    }
    *dropped = *t;
    dropped->used -= kept;
    t->keys = nk;
    t->used = kept;
    t->stamp++;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Lookup, insert, remove
 * ------------------------------------------------------------------------- */

/* A str key in a block whose keys are all strs: no comparison runs user
 * code, so no restart. One loop per index width (shift is a constant in
 * each copy). The key slot of the entry found (its value slot follows), with
 * its position in *ixp, or NULL. */
RCI_INLINE rc_obj **dk_lookup_str_w(const rct_dkeys *k, const rc_obj *key, uint64_t hash,
                                    size_t *ixp, unsigned shift) {
    size_t mask = dk_mask(k), i = (size_t)hash & mask;
    uint64_t perturb = hash, tag = dk_tag(k, hash);
    const void *index = dk_index(k);
    rc_obj **entries = (rc_obj **)(void *)((char *)(uintptr_t)index + ((mask + 1) << shift));
    for (;;) {
        int64_t v = ix_load(index, shift, i);
        if (v == DKIX_EMPTY)
            return NULL;
        if (((uint64_t)v ^ tag) <= mask) {          /* an entry, and its tag is hash's */
            size_t ix = (size_t)v & mask;
            rc_obj **kv = &entries[2 * ix];
            if (kv[0] == key || (rct_str_cached_hash(kv[0]) == hash && rct_str_equal(kv[0], key))) {
                *ixp = ix;
                return kv;
            }
        }
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
}

/* dk_lookup_str_w for k's index width, inlined where it is called. */
RCI_INLINE rc_obj **dk_find_str(const rct_dkeys *k, const rc_obj *key, uint64_t hash, size_t *ixp) {
    switch (k->ix_shift) {
    case 0: return dk_lookup_str_w(k, key, hash, ixp, 0);
    case 1: return dk_lookup_str_w(k, key, hash, ixp, 1);
    case 2: return dk_lookup_str_w(k, key, hash, ixp, 2);
    default: return dk_lookup_str_w(k, key, hash, ixp, 3);
    }
}

static int dk_lookup_str(const rct_dkeys *k, const rc_obj *key, uint64_t hash, size_t *ixp) {
    return dk_find_str(k, key, hash, ixp) != NULL;
}

int rct_dtable_lookup(rc_runtime *rt, rct_dtable *t, rc_obj *key, uint64_t hash, size_t *ixp) {
    if (t->keys->esize == RCT_DK_STR && key->rc_type_ == &rc_str_type)
        return dk_lookup_str(t->keys, key, hash, ixp);
    for (int restarts = 0; restarts <= LOOKUP_MAX_RESTARTS; restarts++) {
        const rct_dkeys *k = t->keys;
        uint64_t stamp = t->stamp;
        size_t mask = dk_mask(k), i = (size_t)hash & mask;
        uint64_t perturb = hash, tag = dk_tag(k, hash);
        for (;;) {
            int64_t v = ix_get(k, i);
            if (v == DKIX_EMPTY)
                return 0;
            if (((uint64_t)v ^ tag) <= mask) {
                size_t ix = (size_t)v & mask;
                rc_obj *ek = *rct_dk_key_slot(k, ix);
                if (ek == key) {
                    *ixp = ix;
                    return 1;
                }
                if (dk_hash(k, ix) == hash) {
                    rco_incref(ek);
                    int cmp = rc_equal(rt, ek, key);
                    rco_decref(ek);
                    if (cmp < 0)
                        return cmp;
                    if (t->stamp != stamp)
                        break;                   /* mutated by user code: start over */
                    if (cmp > 0) {
                        *ixp = ix;
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

/* rct_dtable_insert, inlined into dict.c's callers. A block whose keys are
 * all strs (the first key of an empty table decides) is rebuilt with
 * hashed entries, at the same size when it has room, when a key of another
 * type arrives. */
RCI_INLINE int dt_insert(rc_runtime *rt, rct_dtable *t, uint64_t hash, rc_obj *key, rc_obj *value) {
    rct_dkeys *k = t->keys;
    bool str = key->rc_type_ == &rc_str_type;
    if (rci_unlikely(k->usable == 0 || (k->esize == RCT_DK_STR && !str))) {
        unsigned esize = (k->esize == RCT_DK_STR || dk_is_empty(k)) && str ? RCT_DK_STR
                                                                           : RCT_DK_GENERAL;
        size_t minsize;
        if (k->usable > 0)
            minsize = (size_t)1 << k->log2_size;
        else if (__builtin_mul_overflow(t->used, (size_t)3, &minsize))
            return rco_err(rt, RC_EOVERFLOW, "dict: %zu entries is too many", t->used);
        int r = dt_resize(rt, t, minsize, esize);
        if (r < 0)
            return r;
        k = t->keys;
    }
    rco_incref(key);
    rco_incref(value);
    dk_append(k, hash, key, value);
    t->used++;
    t->stamp++;
    return 0;
}

RCI_ALLOC_FRAME int rct_dtable_insert(rc_runtime *rt, rct_dtable *t, uint64_t hash, rc_obj *key,
                                      rc_obj *value) {
    return dt_insert(rt, t, hash, key, value);
}

void rct_dtable_remove(rct_dtable *t, size_t ix) {
    rct_dkeys *k = t->keys;
    rc_obj **kv = rct_dk_key_slot(k, ix);
    ix_set(k, dk_slot_of(k, dk_hash(k, ix), ix), DKIX_DUMMY);
    kv[0] = kv[1] = NULL;
    t->used--;
    t->stamp++;
}

int rct_dtable_traverse(const rct_dtable *t, rc_visitfn visit, void *arg, bool values) {
    const rct_dkeys *k = t->keys;
    for (size_t ix = 0; !dk_is_empty(k) && ix < k->nentries; ix++) {
        rc_obj **kv = rct_dk_key_slot(k, ix);
        if (!kv[0])
            continue;
        int r = visit(kv[0], arg);
        if (r)
            return r;
        if (values && kv[1] && (r = visit(kv[1], arg)) != 0)
            return r;
    }
    return 0;
}

/* Lazy key errors: kind says what the key was; a str key: a prefix of its
 * text and its full length in len; an int: its value in num; another type:
 * its type name in text. */
enum { KEY_STR, KEY_INT, KEY_OTHER };
#define KEY_SHOWN 60                 /* bytes of a str key the message shows */

static void key_error_format(char *buf, size_t cap, const rco_lazy_err *e) {
    if (e->kind == KEY_INT) {
        snprintf(buf, cap, "key not found: %" PRId64, e->num);
        return;
    }
    int n = (int)(e->len < sizeof e->text ? e->len : sizeof e->text);
    if (e->kind == KEY_OTHER) {
        snprintf(buf, cap, "key not found (a %.*s object)", n, e->text);
        return;
    }
    if (e->len > KEY_SHOWN) {
        n = KEY_SHOWN;
        while (n > 0 && ((unsigned char)e->text[n] & 0xC0) == 0x80)
            n--;                          /* do not cut a UTF-8 sequence */
        snprintf(buf, cap, "key not found: '%.*s...'", n, e->text);
        return;
    }
    snprintf(buf, cap, "key not found: '%.*s'", n, e->text);
}

/* A miss on the bytes of a str key (copied: the prefix the message shows,
 * and the byte after it to find a UTF-8 boundary). */
static int key_error_bytes(rc_runtime *rt, const char *s, size_t len) {
    rco_lazy_err *e = rco_err_lazy(rt, RC_EKEY, key_error_format);
    _Static_assert(KEY_SHOWN + 1 <= sizeof e->text, "room for the shown prefix");
    e->kind = KEY_STR;
    e->len = len;
    memcpy(e->text, s, len < KEY_SHOWN + 1 ? len : KEY_SHOWN + 1);
    return RC_EKEY;
}

int rct_key_error(rc_runtime *rt, const rc_obj *key) {
    if (rco_is(key, &rc_str_type))
        return key_error_bytes(rt, rc_str_data(key), rc_str_len(key));
    rco_lazy_err *e = rco_err_lazy(rt, RC_EKEY, key_error_format);
    if (rco_is(key, &rc_int_type)) {
        e->kind = KEY_INT;
        e->num = rc_int_value(key);
        return RC_EKEY;
    }
    /* the name is copied: a user type's descriptor need not outlive the error */
    const char *name = rc_type_name(key);
    size_t n = strlen(name);
    e->kind = KEY_OTHER;
    e->len = n < sizeof e->text ? n : sizeof e->text;
    memcpy(e->text, name, e->len);
    return RC_EKEY;
}

/* ---------------------------------------------------------------------------
 * The type's slots
 * ------------------------------------------------------------------------- */

static int dict_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    return rct_dtable_traverse(&((rct_dict *)self)->t, visit, arg, true);
}

/* clear and destroy: detach the table, then drop its references. A decref
 * may run code that fills the dict again: loop until it stays empty. A
 * table without entries is freed keeping the stamp (see the invariants). */
static void dict_clear_slot(rc_obj *self) {
    rct_dict *d = (rct_dict *)self;
    rc_runtime *rt = rco_runtime(self);
    while (!dk_is_empty(d->t.keys) && d->t.used > 0) {
        rct_dtable old;
        rct_dtable_detach(&d->t, &old);
        rct_dtable_release(rt, &old);
    }
    dk_free(rt, d->t.keys);                       /* a block without entries, if any */
    rct_dtable_init(&d->t);
}

static int dict_equal(rc_obj *a, rc_obj *b) {
    if (!rco_is(b, &rc_dict_type))
        return 0;
    rct_dict *da = (rct_dict *)a, *db = (rct_dict *)b;
    rct_dtable_ready(&da->t);
    rct_dtable_ready(&db->t);
    if (da->t.used != db->t.used)
        return 0;
    rc_runtime *rt = rco_runtime(a);
    /* As CPython's dict_equal: walk a's entries, re-reading the table after
     * each comparison (user code may change either dict). */
    for (size_t ix = 0; ix < da->t.keys->nentries; ix++) {
        rc_obj **kv = rct_dk_key_slot(da->t.keys, ix);
        if (!kv[0])
            continue;
        rc_obj *key = kv[0], *av = kv[1];
        uint64_t hash = dk_hash(da->t.keys, ix);
        rco_incref(key);
        rco_incref(av);
        size_t bix;
        int r = rct_dtable_lookup(rt, &db->t, key, hash, &bix);
        if (r > 0) {
            rc_obj *bv = *rct_dtable_value_slot(&db->t, bix);
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
    rct_dtable_ready(&d->t);
    rct_writer w;
    rct_writer_init(&w, buf, len);
    rc_runtime *rt = rco_runtime(self);
    rco_repr_frame frame;
    if (!rco_repr_enter(rt, &frame, self)) {     /* a dict inside itself */
        rct_writer_puts(&w, "{...}");
        return rct_writer_finish(&w);
    }
    rct_writer_puts(&w, "{");
    int r = 0;
    bool first = true;
    for (size_t ix = 0; r == 0 && ix < d->t.keys->nentries; ix++) {
        rc_obj **kv = rct_dk_key_slot(d->t.keys, ix);
        if (!kv[0])
            continue;
        rc_obj *key = kv[0], *value = kv[1];
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
    rco_repr_leave(rt, &frame);
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

RCI_ALLOC_FRAME rc_obj *rc_dict(rc_runtime *rt) {
    if (!rt)
        return NULL;
    rct_dict *d = (rct_dict *)rc_new(rt, &rc_dict_type);
    if (!d)
        return NULL;
    rct_dtable_init(&d->t);
    return &d->ob;
}

int rc_is_dict(const rc_obj *o) {
    return rco_is(o, &rc_dict_type) ? 1 : 0;
}

int rct_refuse_runtime(rc_runtime *rt, const char *fn, const rc_obj *container) {
    return rco_err(rt, RC_EINVAL,
                   "%s: the %s %p belongs to another runtime than the one passed",
                   fn, rc_type_name(container), (const void *)container);
}

/* What a call does with the dict, for the runtime checks of dict_prepare. */
enum {
    DICT_READ,        /* looks up only: any runtime's key will do */
    DICT_WRITE,       /* may allocate or free: the dict must be of rt */
    DICT_STORE        /* may store the key too: it must not be of another runtime */
};

/* Check dict, key and (DICT_STORE with a value to store) value, and hash
 * the key. The runtime checks of a store look the dict's runtime up once. */
static int dict_prepare(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj *value, int mode,
                        uint64_t *hash, const char *fn) {
    int r = rct_check_arg(rt, dict, &rc_dict_type, fn);
    if (r == 0)
        r = rct_check_arg(rt, key, NULL, fn);
    if (r == 0 && value)
        r = rct_check_arg(rt, value, NULL, fn);
    if (r == 0 && mode == DICT_STORE &&
        !(rco_runtime(dict) == rt && !rco_is_foreign(rt, key) && !(value && rco_is_foreign(rt, value)))) {
        r = rct_check_link(rt, dict, key, fn);
        if (r == 0 && value)
            r = rct_check_link(rt, dict, value, fn);
    } else if (r == 0 && mode == DICT_WRITE && rco_runtime(dict) != rt) {
        r = rct_refuse_runtime(rt, fn, dict);
    }
    if (r == 0)
        r = rc_hash(rt, key, hash);
    return r;
}

/* Check a value the call will store in dict (a dict of rt). */
static int dict_check_value(rc_runtime *rt, rc_obj *dict, rc_obj *value, const char *fn) {
    int r = rct_check_arg(rt, value, NULL, fn);
    return r == 0 ? rct_check_link(rt, dict, value, fn) : r;
}

/* Replace the value of entry ix by value (key and position stay). */
static void dict_replace(rct_dtable *t, size_t ix, rc_obj *value) {
    rc_obj **slot = rct_dtable_value_slot(t, ix);
    rc_obj *old = *slot;
    rco_incref(value);
    *slot = value;
    rco_decref(old);                              /* last: may run user code */
}

/* Unlink entry ix: *value receives the table's reference to the value;
 * the key's reference is dropped last. */
RCI_INLINE void dict_unlink(rc_runtime *rt, rct_dtable *t, size_t ix, rc_obj **value) {
    rc_obj **kv = rct_dtable_key_slot(t, ix);
    rc_obj *k = kv[0];
    *value = kv[1];
    rct_dtable_remove(t, ix);
    dt_maybe_shrink(rt, t);
    rco_decref(k);                                /* last: may run user code */
}

/* d[key] = value, key hashed and every argument checked. */
static RCI_ALLOC_FRAME int dict_store(rc_runtime *rt, rct_dtable *t, rc_obj *key, uint64_t hash,
                                      rc_obj *value) {
    size_t ix;
    int r = rct_dtable_lookup(rt, t, key, hash, &ix);
    if (r < 0)
        return r;
    if (r > 0) {
        dict_replace(t, ix, value);
        return 0;
    }
    return dt_insert(rt, t, hash, key, value);
}

/* Remove key (hashed): 1 with the value's reference moved to *value, 0 if
 * absent, or a negative RC_E*. */
static RCI_ALLOC_FRAME int dict_remove_hashed(rc_runtime *rt, rct_dtable *t, rc_obj *key,
                                              uint64_t hash, rc_obj **value) {
    size_t ix;
    int r = rct_dtable_lookup(rt, t, key, hash, &ix);
    if (r <= 0)
        return r;
    dict_unlink(rt, t, ix, value);
    return 1;
}

RCI_ALLOC_FRAME int rc_dict_set(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj *value) {
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    if (!value)
        return rco_err(rt, RC_EINVAL, "rc_dict_set: NULL value");
    int r = dict_prepare(rt, dict, key, value, DICT_STORE, &hash, "rc_dict_set");
    if (r < 0)
        return r;
    return dict_store(rt, rct_dtable_ready(&((rct_dict *)dict)->t), key, hash, value);
}

/* Look key up: 1 with *value (borrowed), 0 if absent (nothing recorded),
 * or a negative RC_E*. */
static int dict_find(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj **value, const char *fn) {
    uint64_t hash;
    int r = dict_prepare(rt, dict, key, NULL, DICT_READ, &hash, fn);
    if (r < 0)
        return r;
    rct_dtable *t = rct_dtable_ready(&((rct_dict *)dict)->t);
    size_t ix;
    if (t->keys->esize == RCT_DK_STR && key->rc_type_ == &rc_str_type) {
        /* the commonest lookup, inlined: a str among strs */
        rc_obj **kv = dk_find_str(t->keys, key, hash, &ix);
        if (!kv)
            return 0;
        *value = kv[1];
        return 1;
    }
    r = rct_dtable_lookup(rt, t, key, hash, &ix);
    if (r > 0)
        *value = *rct_dtable_value_slot(t, ix);
    return r;
}

rc_obj *rc_dict_get(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return NULL;
    rc_obj *value = NULL;
    int r = dict_find(rt, dict, key, &value, "rc_dict_get");
    if (r == 0)
        rct_key_error(rt, key);
    return r > 0 ? value : NULL;
}

int rc_dict_find(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj **value) {
    rc_obj *v = NULL;
    int r = rt ? dict_find(rt, dict, key, &v, "rc_dict_find") : RC_EINVAL;
    if (value)
        *value = r > 0 ? v : NULL;
    return r;
}

int rc_dict_contains(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return RC_EINVAL;
    rc_obj *value;
    return dict_find(rt, dict, key, &value, "rc_dict_contains");
}

RCI_ALLOC_FRAME int rc_dict_setdefault(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj *dflt,
                                       rc_obj **value) {
    static const char fn[] = "rc_dict_setdefault";
    if (value)
        *value = NULL;
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    if (!dflt)
        return rco_err(rt, RC_EINVAL, "%s: NULL default", fn);
    int r = dict_prepare(rt, dict, key, dflt, DICT_STORE, &hash, fn);
    if (r < 0)
        return r;
    rct_dtable *t = rct_dtable_ready(&((rct_dict *)dict)->t);
    size_t ix;
    r = rct_dtable_lookup(rt, t, key, hash, &ix);
    if (r < 0)
        return r;
    if (r > 0) {
        if (value)
            *value = *rct_dtable_value_slot(t, ix);
        return 1;
    }
    r = dt_insert(rt, t, hash, key, dflt);
    if (r < 0)
        return r;
    if (value)
        *value = dflt;
    return 0;
}

RCI_ALLOC_FRAME int rc_dict_incr(rc_runtime *rt, rc_obj *dict, rc_obj *key, int64_t delta,
                                 int64_t start, int64_t *result) {
    static const char fn[] = "rc_dict_incr";
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = dict_prepare(rt, dict, key, NULL, DICT_STORE, &hash, fn);
    if (r < 0)
        return r;
    rct_dtable *t = rct_dtable_ready(&((rct_dict *)dict)->t);
    for (int tries = 0; tries <= LOOKUP_MAX_RESTARTS; tries++) {
        size_t ix;
        r = rct_dtable_lookup(rt, t, key, hash, &ix);
        if (r < 0)
            return r;
        rc_obj *cur = r > 0 ? *rct_dtable_value_slot(t, ix) : NULL;
        int64_t base = start, sum;
        if (cur) {
            if (!rco_is(cur, &rc_int_type))
                return rco_err(rt, RC_ETYPE, "%s: the value is a %s, not an int", fn,
                               rc_type_name(cur));
            base = rc_int_value(cur);
        }
        if (__builtin_add_overflow(base, delta, &sum))
            return rco_err(rt, RC_EOVERFLOW, "%s: %" PRId64 " + %" PRId64 " does not fit in an int",
                           fn, base, delta);
        /* Making the int may run a collection (user code). Holding cur
         * keeps its address from being reused, so an unchanged stamp and
         * the same value in the entry mean nothing happened to this key. */
        uint64_t stamp = t->stamp;
        if (cur)
            rco_incref(cur);
        rc_obj *nv = rc_int(rt, sum);
        bool same = t->stamp == stamp && (!cur || *rct_dtable_value_slot(t, ix) == cur);
        if (!nv || !same) {
            rco_xdecref(nv);
            rco_xdecref(cur);
            if (!nv)
                return RC_ENOMEM;
            continue;
        }
        if (cur) {
            *rct_dtable_value_slot(t, ix) = nv;            /* our reference moves in */
            rco_decref(cur);                      /* the entry's */
            rco_decref(cur);                      /* ours; last: may run user code */
        } else {
            r = dt_insert(rt, t, hash, key, nv);
            rco_decref(nv);
            if (r < 0)
                return r;
        }
        if (result)
            *result = sum;
        return 0;
    }
    return rco_err(rt, RC_ESTATE, "%s: the dict kept changing while the int was made", fn);
}

RCI_ALLOC_FRAME int rc_dict_modify(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_dict_modify_fn fn,
                                   void *arg) {
    static const char name[] = "rc_dict_modify";
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = dict_prepare(rt, dict, key, NULL, DICT_STORE, &hash, name);
    if (r == 0 && !fn)
        r = rco_err(rt, RC_EINVAL, "%s: NULL callback", name);
    if (r < 0)
        return r;
    rct_dtable *t = rct_dtable_ready(&((rct_dict *)dict)->t);
    size_t ix;
    r = rct_dtable_lookup(rt, t, key, hash, &ix);
    if (r < 0)
        return r;
    /* cur is held across the callback (user code): see rc_dict_incr */
    rc_obj *cur = r > 0 ? *rct_dtable_value_slot(t, ix) : NULL, *nv = NULL;
    if (cur)
        rco_incref(cur);
    uint64_t stamp = t->stamp;
    r = fn(rt, key, cur, &nv, arg);
    if (r < 0) {
        if (rt->err_code != r)
            rco_err(rt, r, "%s: the callback failed (%s)", name, rc_strerror(r));
    } else if (nv) {
        r = dict_check_value(rt, dict, nv, name);
    }
    if (r >= 0) {
        r = 0;
        if (t->stamp == stamp && (!cur || *rct_dtable_value_slot(t, ix) == cur)) {
            if (nv && cur) {
                dict_replace(t, ix, nv);
            } else if (nv) {
                r = dt_insert(rt, t, hash, key, nv);
            } else if (cur) {
                rc_obj *old;
                dict_unlink(rt, t, ix, &old);
                rco_decref(old);
            }
        } else if (nv) {
            /* the callback changed the dict: store from a new lookup */
            r = dict_store(rt, t, key, hash, nv);
        } else {
            rc_obj *old;
            r = dict_remove_hashed(rt, t, key, hash, &old);
            if (r > 0) {
                rco_decref(old);
                r = 0;
            }
        }
    }
    rco_xdecref(nv);
    rco_xdecref(cur);
    return r;
}

/* Remove key; its value (a reference now owned by the caller) in *value. */
RCI_INLINE int dict_take(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj **value, const char *fn) {
    uint64_t hash;
    int r = dict_prepare(rt, dict, key, NULL, DICT_WRITE, &hash, fn);
    if (r < 0)
        return r;
    r = dict_remove_hashed(rt, rct_dtable_ready(&((rct_dict *)dict)->t), key, hash, value);
    if (r == 0)
        return rct_key_error(rt, key);
    return r < 0 ? r : 0;
}

RCI_ALLOC_FRAME int rc_dict_del(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return RC_EINVAL;
    rc_obj *value;
    int r = dict_take(rt, dict, key, &value, "rc_dict_del");
    if (r == 0)
        rco_decref(value);
    return r;
}

RCI_ALLOC_FRAME rc_obj *rc_dict_pop(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
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

/* ---- C string keys ---- */

/* The entry whose key is a str with the bytes s[0..len) (hash: theirs, by
 * rco_hash_bytes, as a str hashes): 1 with *ixp, or 0. Keys of other types
 * never match. Reads only: runs no user code, allocates nothing. */
static int dict_lookup_bytes(const rct_dtable *t, const char *s, size_t len, uint64_t hash,
                             size_t *ixp) {
    const rct_dkeys *k = t->keys;
    size_t mask = dk_mask(k), i = (size_t)hash & mask;
    uint64_t perturb = hash, tag = dk_tag(k, hash);
    for (;;) {
        int64_t v = ix_get(k, i);
        if (v == DKIX_EMPTY)
            return 0;
        if (((uint64_t)v ^ tag) <= mask) {
            size_t ix = (size_t)v & mask;
            const rc_obj *ek = *rct_dk_key_slot(k, ix);
            if (dk_hash(k, ix) == hash && ek->rc_type_ == &rc_str_type &&
                rc_str_len(ek) == len && memcmp(rc_str_data(ek), s, len) == 0) {
                *ixp = ix;
                return 1;
            }
        }
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + (size_t)perturb + 1) & mask;
    }
}

static int dict_find_bytes(rc_runtime *rt, rc_obj *dict, const char *key, size_t len,
                           rc_obj **value, const char *fn) {
    if (!key)
        return rco_err(rt, RC_EINVAL, "%s: NULL key", fn);
    int r = rct_check_arg(rt, dict, &rc_dict_type, fn);
    if (r < 0)
        return r;
    const rct_dtable *t = rct_dtable_ready(&((rct_dict *)dict)->t);
    size_t ix;
    r = dict_lookup_bytes(t, key, len, rco_hash_bytes(key, len), &ix);
    if (r > 0)
        *value = *rct_dtable_value_slot(t, ix);
    return r;
}

int rc_dict_find_str_n(rc_runtime *rt, rc_obj *dict, const char *key, size_t len, rc_obj **value) {
    rc_obj *v = NULL;
    int r = rt ? dict_find_bytes(rt, dict, key, len, &v, "rc_dict_find_str_n") : RC_EINVAL;
    if (value)
        *value = r > 0 ? v : NULL;
    return r;
}

int rc_dict_find_str(rc_runtime *rt, rc_obj *dict, const char *key, rc_obj **value) {
    rc_obj *v = NULL;
    int r = !rt ? RC_EINVAL
                : dict_find_bytes(rt, dict, key, key ? strlen(key) : 0, &v, "rc_dict_find_str");
    if (value)
        *value = r > 0 ? v : NULL;
    return r;
}

rc_obj *rc_dict_get_str(rc_runtime *rt, rc_obj *dict, const char *key) {
    if (!rt)
        return NULL;
    size_t len = key ? strlen(key) : 0;
    rc_obj *v = NULL;
    int r = dict_find_bytes(rt, dict, key, len, &v, "rc_dict_get_str");
    if (r == 0)
        key_error_bytes(rt, key, len);
    return r > 0 ? v : NULL;
}

RCI_ALLOC_FRAME int rc_dict_set_str(rc_runtime *rt, rc_obj *dict, const char *key, rc_obj *value) {
    static const char fn[] = "rc_dict_set_str";
    if (!rt)
        return RC_EINVAL;
    if (!key)
        return rco_err(rt, RC_EINVAL, "%s: NULL key", fn);
    int r = rct_check_arg(rt, dict, &rc_dict_type, fn);
    if (r == 0)
        r = dict_check_value(rt, dict, value, fn);
    if (r < 0)
        return r;
    rct_dtable *t = rct_dtable_ready(&((rct_dict *)dict)->t);
    size_t len = strlen(key), ix;
    if (dict_lookup_bytes(t, key, len, rco_hash_bytes(key, len), &ix)) {
        dict_replace(t, ix, value);
        return 0;
    }
    /* a new key: the str is made only now */
    rc_obj *k = rc_str_n(rt, key, len);
    if (!k)
        return rc_error(rt);
    r = rc_dict_set(rt, dict, k, value);
    rco_decref(k);
    return r;
}

/* ---------------------------------------------------------------------------
 * Iteration (iter.c)
 * ------------------------------------------------------------------------- */

uint64_t rct_dict_stamp(const rc_obj *d) {
    return rco_is(d, &rc_dict_type) ? ((const rct_dict *)d)->t.stamp : 0;
}

int rct_dict_iter(rc_runtime *rt, rc_iter *it, rc_obj **key, rc_obj **value) {
    const rct_dtable *t = rct_dtable_ready(&((rct_dict *)it->container)->t);
    if (t->stamp != it->stamp)
        return rco_err(rt, RC_ESTATE, "dict changed size during iteration");
    while (it->pos < t->keys->nentries) {
        rc_obj *const *kv = rct_dk_key_slot(t->keys, it->pos++);
        if (kv[0]) {
            if (key)
                *key = kv[0];
            if (value)
                *value = kv[1];
            return 1;
        }
    }
    return 0;
}
