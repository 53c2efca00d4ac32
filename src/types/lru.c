/* lru.c - the lru cache type: functools.lru_cache's cache as a container of
 * its own, with O(1) get and put.
 *
 * Responsibility: map hashable keys (rc_hash / rc_equal; typed caches also
 * compare types) to values, remembering the order of use; keep at most
 * maxsize entries (0: no limit) and, when a byte bound is set, at most
 * max_bytes of measured entries, evicting the least recently used first;
 * count hits and misses as functools does; memoize a function (rc_lru_call);
 * never touch freed memory when a comparison or a decref runs user code
 * that uses the cache.
 *
 * Layout: { rc_obj; mem; ...; counters }, a GC object (keys and values may
 * be containers: a value that refers to its cache is a cycle the collector
 * frees). One buffer from the runtime's heap holds the entries and, after
 * them, the index:
 *
 *   mem: [ entries: cap x lru_entry (40 B) ][ index: 2**log2 >= 4 cap x uint32 ]
 *
 *   entries[i] = { hash, key, value, bytes, prev, next }
 *   index[s]   = 0 (empty) | i + 1 (entry i lives here)
 *
 *   recency:  oldest <-> ... <-> newest    (prev/next: entry numbers)
 *   free:     free -> next -> ... -> NIL   (entries whose key is NULL)
 *
 * Entries never move: the recency list and the free list link them by
 * number (uint32_t, LRU_NIL at the ends), so growing the buffer copies them
 * as they are. There is no allocation per entry: an evicted entry goes to
 * the free list and the next insert takes it back; a bounded cache that is
 * full evicts and reuses one entry per miss.
 *
 * Index: open addressing with linear probing. The home slot of a hash is
 * its Fibonacci product's top bits ((hash * 2**64/phi) >> (64 - log2)),
 * which spreads Python's identity hashes of ints (hash(n) == n) over the
 * table. Probes compare the cached hash first and the key pointer before
 * any equality test; ints, strs and floats of the same type, and tuples of
 * them, are compared inline without calling rc_equal (no user code can
 * run). Deletion shifts the following run back (no tombstones), so
 * eviction churn never degrades the table.
 *
 * Invariants:
 *   - mem == NULL  <=>  cap == nused == size == 0, oldest == newest ==
 *     free == LRU_NIL; a new cache allocates nothing;
 *   - entries[0..nused) were handed out; each is live (key != NULL, on the
 *     recency list, in exactly one index slot) or free (key == value ==
 *     NULL, on the free list); size = live entries <= cap;
 *   - the index has 2**log2 >= 4 * cap slots (load <= 1/4: a miss, the
 *     common case of a cache that evicts, probes 1.4 slots on average
 *     instead of 2.5 at 1/2, for 8 more bytes per entry), so every probe
 *     ends at an empty slot; an entry sits in the run that starts at its
 *     home slot, with no empty slot between;
 *   - maxsize > 0  =>  size <= maxsize and cap <= maxsize;
 *   - keys are pairwise unequal under the cache's comparison; hash is
 *     rc_hash(key) (tuples are hashed here exactly as tuple.c does, with
 *     the items' hashes inline for ints and strs);
 *   - bytes = sum of the live entries' bytes; with max_bytes > 0, an
 *     entry's bytes = rc_deep_sizeof(key) + rc_deep_sizeof(value) when it
 *     was stored, and bytes <= max_bytes between operations; without a
 *     byte bound every bytes is 0;
 *   - stamp grows on every structural change (insert, removal, growth,
 *     clear); lookups restart when a comparison changed it. A hit or a
 *     value replaced only reorders or rewrites an entry: no stamp change.
 *
 * Growth: the first insert allocates 8 entries (maxsize if smaller); a full
 * buffer doubles, up to maxsize (2**31 entries at most). Entries freed by
 * the byte bound or rc_lru_del stay on the free list (a cache refills);
 * clear frees the buffer.
 *
 * Re-entrancy: rc_equal (user types' equal) and rc_decref (finalizers,
 * weakref callbacks) may run code that uses this cache. Lookups hold a
 * reference to the key they compare and restart when the stamp moved
 * (RC_ESTATE after 100 restarts). Every mutation finishes its structural
 * change before it drops a released reference, so such code always sees a
 * consistent cache; the byte bound's evictions release one entry at a time
 * and re-read the state after each. rc_lru_call holds the cache and the
 * arguments across the user function, and looks the key up again afterwards
 * only if the stamp moved.
 *
 * Out of memory: the new buffer is allocated before anything changes; a
 * failed put leaves the cache (counters included) as it was.
 */
#include "types/types.h"

#include <stdio.h>
#include <string.h>

#define LRU_NIL         UINT32_MAX
#define LRU_MIN_CAP     8u
#define LRU_MAX_CAP     ((size_t)1 << 31)
#define LRU_MIN_LOG2    3u
#define LOOKUP_MAX_RESTARTS 100
#define FIB_MULT        UINT64_C(0x9E3779B97F4A7C15)
#define HASH_MODULUS    ((UINT64_C(1) << 61) - 1)      /* object.c's, for ints */
/* tuple.c's hash constants (xxHash's primes, as CPython's tuplehash) */
#define XXPRIME_1 UINT64_C(11400714785074694791)
#define XXPRIME_2 UINT64_C(14029467366897019727)
#define XXPRIME_5 UINT64_C(2870177450012600261)
#define MATCH_MAYBE     2    /* key_match_fast: needs rc_equal */

typedef struct lru_entry {
    uint64_t hash;
    rc_obj *key;              /* strong; NULL: on the free list */
    rc_obj *value;            /* strong; NULL iff key is NULL */
    size_t bytes;             /* measured size (byte bound on), else 0 */
    uint32_t prev, next;      /* recency list (prev is older); free list: next */
} lru_entry;

typedef struct lru_obj {
    rc_obj ob;
    void *mem;                /* entries, then index; NULL: no memory */
    lru_entry *entries;       /* inside mem */
    uint32_t *index;          /* inside mem: 0 or entry number + 1 */
    size_t mask;              /* index slots - 1 */
    uint32_t cap, nused;      /* entries allocated / handed out */
    uint32_t free, oldest, newest;
    uint8_t shift;            /* 64 - log2(index slots) */
    bool typed;
    size_t maxsize;           /* 0: unbounded */
    size_t size;              /* live entries (currsize) */
    size_t hits, misses, evictions, rejected;
    size_t max_bytes, bytes;  /* byte bound (0: none) and the live entries' sum */
    uint64_t stamp;
} lru_obj;

static inline lru_obj *as_lru(const rc_obj *o) {
    return (lru_obj *)(void *)(uintptr_t)o;
}

/* ---------------------------------------------------------------------------
 * Hashing and comparing keys
 * ------------------------------------------------------------------------- */

/* rco_hash_int with its common case inline: 0 <= v < 2**61 - 1 hashes to v. */
static inline uint64_t hash_int(int64_t v) {
    return v >= 0 && (uint64_t)v < HASH_MODULUS ? (uint64_t)v : rco_hash_int(v);
}

/* tuple.c's tuple_hash over items[0..n), item hashes of ints and strs
 * inline: the same value as rc_hash of a tuple of these items, so a key of
 * a user type that equals a tuple and hashes like it is found (test_lru.c
 * checks both directions), and rc_lru_call_args finds the tuple keys. A
 * NULL item (a tuple cleared by the collector) is RC_ESTATE. */
static int hash_items(rc_runtime *rt, rc_obj *const *items, size_t n, uint64_t *out) {
    uint64_t acc = XXPRIME_5;
    for (size_t i = 0; i < n; i++) {
        rc_obj *x = items[i];
        uint64_t lane;
        if (!x)
            return rco_err(rt, RC_ESTATE, "hash: the tuple was cleared by the collector");
        if (x->rc_type_ == &rc_int_type) {
            lane = hash_int(rc_int_value(x));
        } else if (x->rc_type_ == &rc_str_type) {
            lane = rct_str_hash(x);
        } else {
            int r = rc_hash(rt, x, &lane);
            if (r)
                return r;
        }
        acc += lane * XXPRIME_2;
        acc = (acc << 31) | (acc >> 33);
        acc *= XXPRIME_1;
    }
    acc += (uint64_t)n ^ (XXPRIME_5 ^ UINT64_C(3527539));
    if (acc == UINT64_MAX)
        acc = UINT64_C(1546275796);
    *out = acc;
    return 0;
}

static int hash_tuple(rc_runtime *rt, rc_obj *t, uint64_t *out) {
    size_t n;
    rc_obj *const *items = rct_tuple_items(t, &n);
    return hash_items(rt, items, n, out);
}

/* rc_hash(key), the built-in atoms inline. Debug mode takes rc_hash for
 * tuples, which checks every item is alive. */
RCI_INLINE int lru_hash(rc_runtime *rt, rc_obj *key, uint64_t *out) {
    const rc_type *t = key->rc_type_;
    if (t == &rc_int_type) {
        *out = hash_int(rc_int_value(key));
        return 0;
    }
    if (t == &rc_str_type) {
        *out = rct_str_hash(key);
        return 0;
    }
    if (t == &rc_tuple_type && !rt->debug)
        return hash_tuple(rt, key, out);
    return rc_hash(rt, key, out);
}

/* Equality of two objects decided without user code: 1 or 0, or
 * MATCH_MAYBE when rc_equal must decide. */
static inline int atom_match(const rc_obj *a, const rc_obj *b) {
    if (a == b)
        return 1;
    const rc_type *t = a->rc_type_;
    if (t != b->rc_type_)
        return MATCH_MAYBE;           /* 1 == 1.0, user types */
    if (t == &rc_int_type)
        return rc_int_value(a) == rc_int_value(b);
    if (t == &rc_str_type) {
        size_t n = rc_str_len(a);
        return n == rc_str_len(b) && memcmp(rc_str_data(a), rc_str_data(b), n) == 0;
    }
    if (t == &rc_float_type)
        return rc_float_value(a) == rc_float_value(b);
    return MATCH_MAYBE;
}

/* typed: do a and b have the same type, and, both tuples, items of the same
 * types position by position (functools' _make_key adds type(arg) per
 * argument; nested tuples are not looked into)? */
static bool types_match(const rc_obj *a, const rc_obj *b) {
    if (a->rc_type_ != b->rc_type_)
        return false;
    if (a->rc_type_ != &rc_tuple_type)
        return true;
    size_t n, m;
    rc_obj *const *x = rct_tuple_items(a, &n);
    rc_obj *const *y = rct_tuple_items(b, &m);
    if (n != m)
        return false;                 /* unequal anyway */
    for (size_t i = 0; i < n; i++) {
        if (!x[i] || !y[i])
            return x[i] == y[i];      /* cleared by the collector */
        if (x[i]->rc_type_ != y[i]->rc_type_)
            return false;
    }
    return true;
}

/* The stored key a against the key looked up b (their hashes are equal):
 * 1, 0, or MATCH_MAYBE (rc_equal decides; types already match if typed). */
static inline int key_match_fast(bool typed, rc_obj *a, rc_obj *b) {
    if (typed && !types_match(a, b))
        return 0;
    if (a->rc_type_ == &rc_tuple_type && b->rc_type_ == &rc_tuple_type) {
        size_t n, m;
        rc_obj *const *x = rct_tuple_items(a, &n);
        rc_obj *const *y = rct_tuple_items(b, &m);
        if (n != m)
            return 0;
        for (size_t i = 0; i < n; i++) {
            if (x[i] == y[i])
                continue;
            if (!x[i] || !y[i])
                return MATCH_MAYBE;
            int r = atom_match(x[i], y[i]);
            if (r != 1)
                return r;
        }
        return 1;
    }
    return atom_match(a, b);
}

/* ---------------------------------------------------------------------------
 * Index and lists
 * ------------------------------------------------------------------------- */

static inline size_t home_slot(const lru_obj *c, uint64_t hash) {
    return (size_t)((hash * FIB_MULT) >> c->shift);
}

/* The empty slot that ends hash's run (the key is known absent). */
static inline size_t free_slot(const lru_obj *c, uint64_t hash) {
    size_t i = home_slot(c, hash);
    while (c->index[i])
        i = (i + 1) & c->mask;
    return i;
}

/* The slot holding entry ix (live). */
static inline size_t slot_of(const lru_obj *c, uint32_t ix) {
    size_t i = home_slot(c, c->entries[ix].hash);
    while (c->index[i] != ix + 1)
        i = (i + 1) & c->mask;
    return i;
}

/* Empty slot i, shifting back the entries after it whose run passes over
 * it (Knuth's algorithm R), so that no probe needs a tombstone. */
static void index_delete(lru_obj *c, size_t i) {
    size_t mask = c->mask, j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint32_t s = c->index[j];
        if (!s)
            break;
        size_t home = home_slot(c, c->entries[s - 1].hash);
        /* the entry at j may move to i when i lies in [home, j) */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            c->index[i] = s;
            i = j;
        }
    }
    c->index[i] = 0;
}

static inline void list_unlink(lru_obj *c, uint32_t ix) {
    lru_entry *e = &c->entries[ix];
    if (e->prev != LRU_NIL)
        c->entries[e->prev].next = e->next;
    else
        c->oldest = e->next;
    if (e->next != LRU_NIL)
        c->entries[e->next].prev = e->prev;
    else
        c->newest = e->prev;
}

static inline void list_push_newest(lru_obj *c, uint32_t ix) {
    lru_entry *e = &c->entries[ix];
    e->prev = c->newest;
    e->next = LRU_NIL;
    if (c->newest != LRU_NIL)
        c->entries[c->newest].next = ix;
    else
        c->oldest = ix;
    c->newest = ix;
}

/* Make entry ix the most recently used. */
static inline void touch(lru_obj *c, uint32_t ix) {
    if (c->newest != ix) {
        list_unlink(c, ix);
        list_push_newest(c, ix);
    }
}

/* lru_lookup's general case, from the start: comparisons that need
 * rc_equal (user code), restarted when the cache changed under them. */
static int lookup_slow(rc_runtime *rt, lru_obj *c, rc_obj *key, uint64_t hash, uint32_t *ixp) {
    for (int restarts = 0; restarts <= LOOKUP_MAX_RESTARTS; restarts++) {
        if (!c->mem)
            return 0;
        uint64_t stamp = c->stamp;
        size_t i = home_slot(c, hash);
        bool restart = false;
        while (!restart) {
            uint32_t s = c->index[i];
            if (!s)
                return 0;
            lru_entry *e = &c->entries[s - 1];
            if (e->key == key) {
                *ixp = s - 1;
                return 1;
            }
            if (e->hash == hash) {
                int eq = key_match_fast(c->typed, e->key, key);
                if (eq == MATCH_MAYBE) {
                    rc_obj *k = e->key;
                    rco_incref(k);
                    eq = rc_equal(rt, k, key);
                    rco_decref(k);
                    if (eq < 0)
                        return eq;
                    if (c->stamp != stamp) {
                        restart = true;          /* changed by user code: start over */
                        continue;
                    }
                }
                if (eq) {
                    *ixp = s - 1;
                    return 1;
                }
            }
            i = (i + 1) & c->mask;
        }
    }
    return rco_err(rt, RC_ESTATE, "lru cache kept changing during a key comparison");
}

/* Find key: 1 with *ixp, 0 if absent, or a negative RC_E* (recorded). A
 * comparison may run user code; the result is valid until user code next
 * runs. Inline: the probe, up to the first comparison that needs rc_equal,
 * which hands over to lookup_slow. */
RCI_INLINE int lru_lookup(rc_runtime *rt, lru_obj *c, rc_obj *key, uint64_t hash, uint32_t *ixp) {
    if (!c->mem)
        return 0;
    size_t i = home_slot(c, hash);
    for (;;) {
        uint32_t s = c->index[i];
        if (!s)
            return 0;
        lru_entry *e = &c->entries[s - 1];
        if (e->key == key) {
            *ixp = s - 1;
            return 1;
        }
        if (e->hash == hash) {
            int eq = key_match_fast(c->typed, e->key, key);
            if (eq == MATCH_MAYBE)
                return lookup_slow(rt, c, key, hash, ixp);
            if (eq) {
                *ixp = s - 1;
                return 1;
            }
        }
        i = (i + 1) & c->mask;
    }
}

/* ---------------------------------------------------------------------------
 * Entries
 * ------------------------------------------------------------------------- */

/* References an operation released, dropped once the cache is consistent. */
typedef struct lru_dropped {
    rc_obj *key, *value;
} lru_dropped;

static inline void dropped_release(lru_dropped *d) {
    rco_xdecref(d->key);                  /* may run user code */
    rco_xdecref(d->value);
    d->key = d->value = NULL;
}

/* Take entry ix out of the cache (index, recency list, counts) onto the
 * free list; its references move to *out. Runs no user code. */
RCI_INLINE void entry_remove(lru_obj *c, uint32_t ix, lru_dropped *out) {
    lru_entry *e = &c->entries[ix];
    out->key = e->key;
    out->value = e->value;
    index_delete(c, slot_of(c, ix));
    list_unlink(c, ix);
    c->size--;
    c->bytes -= e->bytes;
    e->key = e->value = NULL;
    e->bytes = 0;
    e->prev = LRU_NIL;
    e->next = c->free;
    c->free = ix;
    c->stamp++;
}

/* Rebuild the buffer with room for more entries (doubling, up to maxsize).
 * 0, or RC_ENOMEM / RC_EOVERFLOW (recorded) with the cache unchanged. */
static RCI_ALLOC_FRAME int lru_grow(rc_runtime *rt, lru_obj *c) {
    size_t limit = c->maxsize && c->maxsize < LRU_MAX_CAP ? c->maxsize : LRU_MAX_CAP;
    if (c->cap >= limit)
        return rco_err(rt, RC_EOVERFLOW, "lru cache: more than %zu entries", limit);
    size_t ncap = c->cap ? (size_t)c->cap * 2 : LRU_MIN_CAP;
    if (ncap > limit)
        ncap = limit;
    unsigned log2 = LRU_MIN_LOG2;
    while (((size_t)1 << log2) < 4 * ncap)
        log2++;
    size_t nslots = (size_t)1 << log2, eb, ib, total;
    if (__builtin_mul_overflow(ncap, sizeof(lru_entry), &eb) ||
        __builtin_mul_overflow(nslots, sizeof(uint32_t), &ib) ||
        __builtin_add_overflow(eb, ib, &total) || total > (size_t)PTRDIFF_MAX)
        return rco_err(rt, RC_EOVERFLOW, "lru cache: %zu entries is too many", ncap);
    void *mem = rco_alloc(rt, total);
    if (!mem)
        return RC_ENOMEM;
    lru_entry *entries = mem;
    uint32_t *index = (uint32_t *)(void *)((char *)mem + eb);
    memset(index, 0, ib);
    if (c->nused)
        memcpy(entries, c->entries, (size_t)c->nused * sizeof *entries);
    void *old = c->mem;
    c->mem = mem;
    c->entries = entries;
    c->index = index;
    c->cap = (uint32_t)ncap;
    c->mask = nslots - 1;
    c->shift = (uint8_t)(64 - log2);
    for (uint32_t ix = 0; ix < c->nused; ix++)
        if (entries[ix].key)
            index[free_slot(c, entries[ix].hash)] = ix + 1;
    rco_free(rt, old);
    c->stamp++;
    return 0;
}

/* The size of an entry for the byte bound. 0, or RC_ENOMEM (recorded). */
static size_t deep_size(rc_runtime *rt, rc_obj *o) {
    return o->rc_type_->traverse ? rc_deep_sizeof(rt, o) : rc_sizeof(o);
}

static int measure_entry(rc_runtime *rt, rc_obj *key, rc_obj *value, size_t *out) {
    size_t a = deep_size(rt, key);
    size_t b = a ? deep_size(rt, value) : 0;
    if (!a || !b)
        return RC_ENOMEM;                 /* rc_deep_sizeof recorded it */
    *out = a + b < a ? SIZE_MAX : a + b;
    return 0;
}

/* Evict least recent entries until the byte bound holds, one at a time:
 * each release may run user code, so the state is read again after it. */
static void fit_bytes(lru_obj *c) {
    while (c->max_bytes && c->bytes > c->max_bytes && c->oldest != LRU_NIL) {
        lru_dropped d;
        entry_remove(c, c->oldest, &d);
        c->evictions++;
        dropped_release(&d);
    }
}

/* Store value under key (hash, checked, nbytes measured when the byte bound
 * is on): ix is its entry when present, else LRU_NIL. 0, or an error
 * (recorded) with the cache unchanged. Runs user code only when it drops
 * the references it released, last. */
static RCI_ALLOC_FRAME int lru_store(rc_runtime *rt, lru_obj *c, rc_obj *key, uint64_t hash,
                                     rc_obj *value, size_t nbytes, uint32_t ix) {
    lru_dropped pending = { NULL, NULL };
    if (c->max_bytes && nbytes > c->max_bytes) {
        /* too big to cache: a stale value must not stay either */
        c->rejected++;
        if (ix != LRU_NIL)
            entry_remove(c, ix, &pending);
        dropped_release(&pending);
        return 0;
    }
    if (ix != LRU_NIL) {
        lru_entry *e = &c->entries[ix];
        pending.value = e->value;
        rco_incref(value);
        e->value = value;
        c->bytes = c->bytes - e->bytes + nbytes;
        e->bytes = nbytes;
        touch(c, ix);
    } else {
        if (c->maxsize && c->size >= c->maxsize) {
            entry_remove(c, c->oldest, &pending);    /* its entry is reused below */
            c->evictions++;
        }
        if (c->free != LRU_NIL) {
            ix = c->free;
            c->free = c->entries[ix].next;
        } else {
            if (c->nused == c->cap) {
                int r = lru_grow(rt, c);     /* nothing evicted: the cache was not full */
                if (r < 0)
                    return r;
            }
            ix = c->nused++;
        }
        lru_entry *e = &c->entries[ix];
        rco_incref(key);
        rco_incref(value);
        e->hash = hash;
        e->key = key;
        e->value = value;
        e->bytes = nbytes;
        c->index[free_slot(c, hash)] = ix + 1;
        list_push_newest(c, ix);
        c->size++;
        c->bytes += nbytes;
        c->stamp++;
    }
    if (c->max_bytes)
        fit_bytes(c);
    dropped_release(&pending);
    return 0;
}

/* ---------------------------------------------------------------------------
 * The type's slots
 * ------------------------------------------------------------------------- */

static int lru_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    lru_obj *c = as_lru(self);
    for (uint32_t i = 0; c->mem && i < c->nused; i++) {
        lru_entry *e = &c->entries[i];
        if (!e->key)
            continue;
        int r = visit(e->key, arg);
        if (r)
            return r;
        if ((r = visit(e->value, arg)) != 0)
            return r;
    }
    return 0;
}

/* clear and destroy: detach the buffer, then drop its references. A decref
 * may run code that fills the cache again: loop until it stays empty. */
static void lru_clear_slot(rc_obj *self) {
    lru_obj *c = as_lru(self);
    rc_runtime *rt = rco_runtime(self);
    while (c->mem) {
        void *mem = c->mem;
        lru_entry *entries = c->entries;
        uint32_t n = c->nused;
        c->mem = NULL;
        c->entries = NULL;
        c->index = NULL;
        c->mask = 0;
        c->cap = c->nused = 0;
        c->free = c->oldest = c->newest = LRU_NIL;
        c->size = 0;
        c->bytes = 0;
        c->stamp++;
        /* the detached buffer is private: user code cannot reach it */
        for (uint32_t i = 0; i < n; i++) {
            rc_obj *k = entries[i].key, *v = entries[i].value;
            if (!k)
                continue;
            entries[i].key = entries[i].value = NULL;
            rco_decref(k);
            rco_decref(v);
        }
        rco_free(rt, mem);
    }
}

static int lru_repr(rc_obj *self, char *buf, size_t len) {
    lru_obj *c = as_lru(self);
    char maxsize[24], bytes[64] = "";
    if (c->maxsize)
        snprintf(maxsize, sizeof maxsize, "%zu", c->maxsize);
    else
        snprintf(maxsize, sizeof maxsize, "None");
    if (c->max_bytes)
        snprintf(bytes, sizeof bytes, " max_bytes=%zu bytes=%zu", c->max_bytes, c->bytes);
    int n = snprintf(buf, len, "<lru_cache maxsize=%s currsize=%zu%s%s>", maxsize, c->size,
                     c->typed ? " typed=True" : "", bytes);
    return n < 0 ? RC_EOVERFLOW : n;
}

static size_t lru_sizeof_extra(rc_obj *self) {
    lru_obj *c = as_lru(self);
    if (!c->mem)
        return 0;
    return (size_t)c->cap * sizeof(lru_entry) + (c->mask + 1) * sizeof(uint32_t);
}

const rc_type rc_lru_type = {
    .name = "lru_cache",
    .size = sizeof(lru_obj),
    .flags = RC_TYPE_GC,
    .traverse = lru_traverse,
    .clear = lru_clear_slot,
    .destroy = lru_clear_slot,
    .repr = lru_repr,
    .sizeof_extra = lru_sizeof_extra,
};

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

RCI_ALLOC_FRAME rc_obj *rc_lru(rc_runtime *rt, size_t maxsize, int typed) {
    if (!rt)
        return NULL;
    rc_obj *o = rc_new(rt, &rc_lru_type);
    if (!o)
        return NULL;
    lru_obj *c = as_lru(o);
    c->maxsize = maxsize;
    c->typed = typed != 0;
    c->free = c->oldest = c->newest = LRU_NIL;
    return o;
}

int rc_is_lru(const rc_obj *o) {
    return rco_is(o, &rc_lru_type) ? 1 : 0;
}

/* Check the cache (an lru of rt), the key and, when given, the value; with
 * store, that key and value may be stored (not of another runtime). */
RCI_INLINE int lru_prepare(rc_runtime *rt, rc_obj *cache, rc_obj *key, rc_obj *value, bool store,
                          const char *fn) {
    int r = rct_check_arg(rt, cache, &rc_lru_type, fn);
    if (r == 0)
        r = rct_check_arg(rt, key, NULL, fn);
    if (r == 0 && value)
        r = rct_check_arg(rt, value, NULL, fn);
    if (r)
        return r;
    if (rci_unlikely(rco_runtime(cache) != rt))
        return rct_refuse_runtime(rt, fn, cache);
    if (store && rci_unlikely(rco_is_foreign(rt, key) || (value && rco_is_foreign(rt, value))))
        return rco_refuse_foreign(rt, fn, cache, rco_is_foreign(rt, key) ? key : value);
    return 0;
}

/* Look key up, counting a hit (made the most recent) or a miss: 1 with
 * *value (borrowed), 0, or a negative RC_E* (nothing counted). */
RCI_INLINE int lru_find(rc_runtime *rt, rc_obj *cache, rc_obj *key, rc_obj **value,
                        const char *fn) {
    int r = lru_prepare(rt, cache, key, NULL, false, fn);
    if (r)
        return r;
    lru_obj *c = as_lru(cache);
    uint64_t hash;
    if ((r = lru_hash(rt, key, &hash)) != 0)
        return r;
    uint32_t ix;
    r = lru_lookup(rt, c, key, hash, &ix);
    if (r <= 0) {
        if (r == 0)
            c->misses++;
        return r;
    }
    c->hits++;
    touch(c, ix);
    *value = c->entries[ix].value;
    return 1;
}

rc_obj *rc_lru_get(rc_runtime *rt, rc_obj *cache, rc_obj *key) {
    if (!rt)
        return NULL;
    rc_obj *value = NULL;
    int r = lru_find(rt, cache, key, &value, "rc_lru_get");
    if (r == 0)
        rct_key_error(rt, key);
    return r > 0 ? value : NULL;
}

int rc_lru_find(rc_runtime *rt, rc_obj *cache, rc_obj *key, rc_obj **value) {
    rc_obj *v = NULL;
    int r = rt ? lru_find(rt, cache, key, &v, "rc_lru_find") : RC_EINVAL;
    if (value)
        *value = r > 0 ? v : NULL;
    return r;
}

RCI_ALLOC_FRAME int rc_lru_put(rc_runtime *rt, rc_obj *cache, rc_obj *key, rc_obj *value) {
    static const char fn[] = "rc_lru_put";
    if (!rt)
        return RC_EINVAL;
    if (!value)
        return rco_err(rt, RC_EINVAL, "%s: NULL value", fn);
    int r = lru_prepare(rt, cache, key, value, true, fn);
    if (r)
        return r;
    lru_obj *c = as_lru(cache);
    uint64_t hash;
    if ((r = lru_hash(rt, key, &hash)) != 0)
        return r;
    uint32_t ix = LRU_NIL;
    int found = lru_lookup(rt, c, key, hash, &ix);
    if (found < 0)
        return found;
    size_t nbytes = 0;
    /* a present key keeps its key object: measure that one */
    if (c->max_bytes &&
        (r = measure_entry(rt, found ? c->entries[ix].key : key, value, &nbytes)) != 0)
        return r;
    return lru_store(rt, c, key, hash, value, nbytes, found ? ix : LRU_NIL);
}

int rc_lru_del(rc_runtime *rt, rc_obj *cache, rc_obj *key) {
    static const char fn[] = "rc_lru_del";
    if (!rt)
        return RC_EINVAL;
    int r = lru_prepare(rt, cache, key, NULL, false, fn);
    if (r)
        return r;
    lru_obj *c = as_lru(cache);
    uint64_t hash;
    if ((r = lru_hash(rt, key, &hash)) != 0)
        return r;
    uint32_t ix;
    r = lru_lookup(rt, c, key, hash, &ix);
    if (r < 0)
        return r;
    if (r == 0)
        return rct_key_error(rt, key);
    lru_dropped d;
    entry_remove(c, ix, &d);
    dropped_release(&d);
    return 0;
}

RCI_ALLOC_FRAME rc_obj *rc_lru_call(rc_runtime *rt, rc_obj *cache, rc_lru_fn fn, rc_obj *args,
                                    void *arg) {
    static const char name[] = "rc_lru_call";
    if (!rt)
        return NULL;
    if (!fn)
        return rco_err_null(rt, RC_EINVAL, "%s: NULL function", name);
    if (lru_prepare(rt, cache, args, NULL, true, name))
        return NULL;
    lru_obj *c = as_lru(cache);
    uint64_t hash;
    if (lru_hash(rt, args, &hash))
        return NULL;
    uint32_t ix;
    int r = lru_lookup(rt, c, args, hash, &ix);
    if (r < 0)
        return NULL;
    if (r > 0) {
        c->hits++;
        touch(c, ix);
        rc_obj *v = c->entries[ix].value;
        rco_incref(v);
        return v;
    }
    c->misses++;
    /* fn is user code: it may drop the caller's references, and use this
     * cache (a memoized recursion does). */
    uint64_t stamp = c->stamp;
    rco_incref(cache);
    rco_incref(args);
    rc_obj *res = fn(rt, args, arg);
    if (!res) {
        if (rt->err_code == 0)
            rco_err(rt, RC_EINVAL, "%s: the function returned NULL without recording an error",
                    name);
    } else if (rct_check_arg(rt, res, NULL, name) ||
               (rco_is_foreign(rt, res) && rco_refuse_foreign(rt, name, cache, res))) {
        rco_decref(res);
        res = NULL;
    } else {
        r = 0;
        ix = LRU_NIL;
        if (c->stamp != stamp)               /* the key may have been stored meanwhile */
            r = lru_lookup(rt, c, args, hash, &ix);
        size_t nbytes = 0;
        if (r == 0 && c->max_bytes)
            r = measure_entry(rt, args, res, &nbytes);
        if (r == 0)
            r = lru_store(rt, c, args, hash, res, nbytes, LRU_NIL);
        /* r > 0: cached meanwhile; that entry stays as it is (functools) */
        if (r < 0) {
            rco_decref(res);
            res = NULL;
        }
    }
    rco_decref(args);
    rco_decref(cache);
    return res;
}

/* The stored key a (hash equal) against the items of an argument tuple
 * not built yet: 1, 0, or MATCH_MAYBE (build the tuple: rc_equal decides). */
static inline int items_match(bool typed, const rc_obj *a, rc_obj *const *args, size_t n) {
    if (a->rc_type_ != &rc_tuple_type)
        return MATCH_MAYBE;                  /* a user type equal to tuples */
    size_t m;
    rc_obj *const *x = rct_tuple_items(a, &m);
    if (m != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] == args[i])
            continue;
        if (!x[i])
            return MATCH_MAYBE;
        if (typed && x[i]->rc_type_ != args[i]->rc_type_)
            return 0;
        int r = atom_match(x[i], args[i]);
        if (r != 1)
            return r;
    }
    return 1;
}

RCI_ALLOC_FRAME rc_obj *rc_lru_call_args(rc_runtime *rt, rc_obj *cache, rc_lru_fn fn, size_t n,
                                         rc_obj *const *args, void *arg) {
    static const char name[] = "rc_lru_call_args";
    if (!rt)
        return NULL;
    if (!fn)
        return rco_err_null(rt, RC_EINVAL, "%s: NULL function", name);
    if (n > 0 && !args)
        return rco_err_null(rt, RC_EINVAL, "%s: NULL args", name);
    if (rct_check_arg(rt, cache, &rc_lru_type, name))
        return NULL;
    if (rci_unlikely(rco_runtime(cache) != rt))
        return rct_refuse_runtime(rt, name, cache), NULL;
    for (size_t i = 0; i < n; i++)
        if (rct_check_arg(rt, args[i], NULL, name))
            return NULL;
    lru_obj *c = as_lru(cache);
    uint64_t hash;
    /* (a user hash may run any code: read c->mem after it) */
    if (!rt->debug && hash_items(rt, args, n, &hash) == 0 && c->mem) {
        /* a hit on the items alone; anything else takes the tuple */
        size_t i = home_slot(c, hash);
        for (uint32_t s; (s = c->index[i]) != 0; i = (i + 1) & c->mask) {
            lru_entry *e = &c->entries[s - 1];
            if (e->hash != hash)
                continue;
            int eq = items_match(c->typed, e->key, args, n);
            if (eq == MATCH_MAYBE)
                break;
            if (eq) {
                c->hits++;
                touch(c, s - 1);
                rco_incref(e->value);
                return e->value;
            }
        }
    }
    rc_obj *t = rc_tuple_from(rt, n, args);
    if (!t)
        return NULL;
    rc_obj *res = rc_lru_call(rt, cache, fn, t, arg);
    rco_decref(t);
    return res;
}

static void info_fill(const lru_obj *c, rc_lru_info_ex *info) {
    info->hits = c->hits;
    info->misses = c->misses;
    info->maxsize = c->maxsize;
    info->currsize = c->size;
    info->max_bytes = c->max_bytes;
    info->bytes = c->bytes;
    info->evictions = c->evictions;
    info->rejected = c->rejected;
    info->typed = c->typed;
}

void rc_lru_cache_info(const rc_obj *cache, rc_lru_info *info) {
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    if (!rco_is(cache, &rc_lru_type))
        return;
    rc_lru_info_ex ex;
    info_fill(as_lru(cache), &ex);
    info->hits = ex.hits;
    info->misses = ex.misses;
    info->maxsize = ex.maxsize;
    info->currsize = ex.currsize;
}

void rc_lru_cache_info_ex(const rc_obj *cache, rc_lru_info_ex *info) {
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    if (rco_is(cache, &rc_lru_type))
        info_fill(as_lru(cache), info);
}

int rc_lru_cache_parameters(const rc_obj *cache, size_t *maxsize, int *typed) {
    if (!rco_is(cache, &rc_lru_type))
        return RC_ETYPE;
    if (maxsize)
        *maxsize = as_lru(cache)->maxsize;
    if (typed)
        *typed = as_lru(cache)->typed;
    return 0;
}

void rc_lru_cache_clear(rc_obj *cache) {
    if (!rco_is(cache, &rc_lru_type) || (cache->rc_head_ & RCO_F_FREED))
        return;
    lru_obj *c = as_lru(cache);
    c->hits = c->misses = c->evictions = c->rejected = 0;
    lru_clear_slot(cache);
}

size_t rc_lru_len(const rc_obj *cache) {
    return rco_is(cache, &rc_lru_type) ? as_lru(cache)->size : 0;
}

int rc_lru_set_max_bytes(rc_runtime *rt, rc_obj *cache, size_t max_bytes) {
    static const char fn[] = "rc_lru_set_max_bytes";
    if (!rt)
        return RC_EINVAL;
    int r = rct_check_arg(rt, cache, &rc_lru_type, fn);
    if (r)
        return r;
    if (rco_runtime(cache) != rt)
        return rct_refuse_runtime(rt, fn, cache);
    lru_obj *c = as_lru(cache);
    if (max_bytes == 0) {
        for (uint32_t i = 0; i < c->nused; i++)
            c->entries[i].bytes = 0;
        c->max_bytes = c->bytes = 0;
        return 0;
    }
    if (c->max_bytes == 0) {
        /* entries stored without a bound were never measured */
        size_t total = 0;
        for (uint32_t ix = c->oldest; ix != LRU_NIL; ix = c->entries[ix].next) {
            size_t n;
            r = measure_entry(rt, c->entries[ix].key, c->entries[ix].value, &n);
            if (r) {
                for (uint32_t i = 0; i < c->nused; i++)
                    c->entries[i].bytes = 0;
                return r;
            }
            c->entries[ix].bytes = n;
            total = total + n < total ? SIZE_MAX : total + n;
        }
        c->bytes = total;
    }
    c->max_bytes = max_bytes;
    fit_bytes(c);
    return 0;
}

RCI_ALLOC_FRAME rc_obj *rc_lru_keys(rc_runtime *rt, rc_obj *cache) {
    static const char fn[] = "rc_lru_keys";
    if (!rt)
        return NULL;
    if (rct_check_arg(rt, cache, &rc_lru_type, fn))
        return NULL;
    if (rco_runtime(cache) != rt)
        return rct_refuse_runtime(rt, fn, cache), NULL;
    rc_obj *list = rc_list_with_capacity(rt, as_lru(cache)->size);
    if (!list)
        return NULL;
    /* making the list may have run a collection (user code): read afresh;
     * appends run none */
    lru_obj *c = as_lru(cache);
    for (uint32_t ix = c->oldest; ix != LRU_NIL; ix = c->entries[ix].next) {
        if (rc_list_append(rt, list, c->entries[ix].key) < 0) {
            rco_decref(list);
            return NULL;
        }
    }
    return list;
}
