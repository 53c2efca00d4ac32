/* set.c - the set type: an open-addressing hash table of keys (CPython's
 * setobject design).
 *
 * Responsibility: hold distinct hashable keys (rc_hash / rc_equal: 1 and
 * 1.0 are the same key); membership, add, discard, clear, and the algebra
 * (union, intersection, difference) into new sets; keep the table sized to
 * its contents; never touch freed memory when a comparison or a decref runs
 * user code that mutates the set.
 *
 * Layout: { rc_obj; table; mask; fill; used; stamp }, a GC object.
 * The table is one buffer from the runtime's heap of mask + 1 entries
 * { hash, key } (a power of two, at least 8), or NULL while the set has
 * never held anything (or was cleared): a new set allocates nothing.
 *
 *   key == NULL        unused: ends every probe sequence
 *   key == SET_DUMMY   deleted: probes pass over it, inserts may reuse it
 *   otherwise          active, hash == rc_hash(key)
 *
 * Probing (CPython): from i = hash & mask, look at up to LINEAR_PROBES
 * following slots first when they do not wrap (cheap: same cache lines),
 * then jump with i = (5*i + 1 + perturb) & mask, perturb >>= 5 each time.
 *
 * Invariants:
 *   - table == NULL  <=>  mask == fill == used == 0;
 *   - used = active entries <= fill = active + dummy entries, and
 *     fill * 5 < mask * 3 after every insert (under 60% full), so an unused
 *     slot always exists and every probe terminates;
 *   - active keys are pairwise unequal;
 *   - stamp grows on every insert, discard, resize and clear of a set with
 *     keys: iterators compare it, lookups restart when a comparison changed
 *     it. Clearing an empty set frees its table and keeps the stamp: an
 *     iterator has nothing left to yield, and ends (as Python's does).
 *
 * Growth and shrink policy:
 *   - an insert that would take an unused slot and bring fill to 60% of the
 *     table first rebuilds it at the smallest power of two > 4 * used
 *     (> 2 * used above 50,000 entries, as CPython: big sets grow by less
 *     to save memory). The rebuild drops dummies, so churn does not grow
 *     the table. An insert that reuses a dummy needs no growth;
 *   - a discard that leaves fewer than 1/8 of the slots active (above the
 *     minimum size) rebuilds at the smallest power of two > 4 * used. After
 *     a rebuild used >= size / 8 (up to rounding) and fill <= size / 4, so
 *     neither rule fires again before the set changes by a fraction of its
 *     size: amortised O(1). CPython does not shrink on discard; we do so
 *     that a set that drains gives its memory back. A failed shrink is
 *     benign;
 *   - clear frees the table.
 *
 * Out of memory: the new table is allocated before the old one is touched;
 * a failed add leaves the set unchanged and returns RC_ENOMEM.
 *
 * Re-entrancy: as dict.c. Lookups hold a reference to the key they compare
 * and restart (at most 100 times, then RC_ESTATE) when the stamp moved;
 * mutations drop released references last; loops over a set that compare
 * (algebra, equal, repr) re-read the table each step, and the algebra fails
 * with RC_ESTATE if a set it walks changes under it.
 */
#include "types/types.h"

#include <string.h>

#define SET_MINSIZE     8
#define LINEAR_PROBES   9
#define PERTURB_SHIFT   5
#define LOOKUP_MAX_RESTARTS 100

typedef struct rct_sentry {
    uint64_t hash;
    rc_obj *key;
} rct_sentry;

typedef struct rct_set {
    rc_obj ob;
    rct_sentry *table;
    size_t mask;
    size_t fill;
    size_t used;
    uint64_t stamp;
} rct_set;

/* The deleted-entry marker: an address no object can have. */
static const char set_dummy_marker;
#define SET_DUMMY ((rc_obj *)(uintptr_t)&set_dummy_marker)

static inline bool active(const rct_sentry *e) {
    return e->key != NULL && e->key != SET_DUMMY;
}

/* ---------------------------------------------------------------------------
 * Table
 * ------------------------------------------------------------------------- */

/* Put key into a table without dummies or equal keys (a rebuild). */
static void insert_clean(rct_sentry *table, size_t mask, uint64_t hash, rc_obj *key) {
    size_t i = (size_t)hash & mask;
    uint64_t perturb = hash;
    for (;;) {
        rct_sentry *e = &table[i];
        if (!e->key)
            goto found;
        if (i + LINEAR_PROBES <= mask) {
            for (size_t j = 0; j < LINEAR_PROBES; j++) {
                e++;
                if (!e->key)
                    goto found;
            }
        }
        perturb >>= PERTURB_SHIFT;
        i = (i * 5 + 1 + (size_t)perturb) & mask;
        continue;
    found:
        e->hash = hash;
        e->key = key;
        return;
    }
}

/* Rebuild the table with more than minused slots (at least SET_MINSIZE).
 * 0, or an error (recorded) with the set unchanged. */
static RCI_ALLOC_FRAME int set_resize(rc_runtime *rt, rct_set *s, size_t minused) {
    size_t size = SET_MINSIZE;
    while (size <= minused) {
        if (size > (size_t)PTRDIFF_MAX / sizeof(rct_sentry) / 2)
            return rco_err(rt, RC_EOVERFLOW, "set: %zu entries is too many", minused);
        size <<= 1;
    }
    rct_sentry *table = rco_alloc(rt, size * sizeof(rct_sentry));
    if (!table)
        return RC_ENOMEM;
    memset(table, 0, size * sizeof(rct_sentry));
    if (s->table) {
        for (size_t i = 0; i <= s->mask; i++)
            if (active(&s->table[i]))
                insert_clean(table, size - 1, s->table[i].hash, s->table[i].key);
        rco_free(rt, s->table);
    }
    s->table = table;
    s->mask = size - 1;
    s->fill = s->used;
    s->stamp++;
    return 0;
}

static RCI_ALLOC_FRAME void set_shrink(rc_runtime *rt, rct_set *s) {
    if (!s->table || s->mask + 1 <= SET_MINSIZE || s->used >= (s->mask + 1) / 8)
        return;
    rco_error_state saved;                /* benign failure: keep the error as it was */
    rco_error_save(rt, &saved);
    if (set_resize(rt, s, s->used * 4) < 0)
        rco_error_restore(rt, &saved);
}

/* Find key: 1 with *pos at its entry; 0 with *pos at the slot an insert
 * should take (the first dummy passed, else the unused slot that ended the
 * probe; meaningless without a table); or a negative RC_E*. */
static int set_lookup(rc_runtime *rt, rct_set *s, rc_obj *key, uint64_t hash, size_t *pos) {
    for (int restarts = 0; restarts <= LOOKUP_MAX_RESTARTS; restarts++) {
        if (!s->table) {
            *pos = 0;
            return 0;
        }
        uint64_t stamp = s->stamp;
        size_t mask = s->mask, i = (size_t)hash & mask, freeslot = SIZE_MAX;
        uint64_t perturb = hash;
        bool restart = false;
        while (!restart) {
            size_t probes = (i + LINEAR_PROBES <= mask) ? LINEAR_PROBES : 0;
            for (size_t j = i;; j++) {
                rct_sentry *e = &s->table[j];
                rc_obj *k = e->key;
                if (!k) {
                    *pos = freeslot != SIZE_MAX ? freeslot : j;
                    return 0;
                }
                if (k == SET_DUMMY) {
                    if (freeslot == SIZE_MAX)
                        freeslot = j;
                } else if (k == key) {
                    *pos = j;
                    return 1;
                } else if (e->hash == hash) {
                    rco_incref(k);
                    int cmp = rc_equal(rt, k, key);
                    rco_decref(k);
                    if (cmp < 0)
                        return cmp;
                    if (s->stamp != stamp) {
                        restart = true;
                        break;
                    }
                    if (cmp > 0) {
                        *pos = j;
                        return 1;
                    }
                }
                if (probes-- == 0)
                    break;
            }
            perturb >>= PERTURB_SHIFT;
            i = (i * 5 + 1 + (size_t)perturb) & mask;
        }
    }
    return rco_err(rt, RC_ESTATE, "set kept changing during a key comparison");
}

/* Add key with its hash: 0 (added or already there) or a negative RC_E*. */
static RCI_ALLOC_FRAME int set_add_hashed(rc_runtime *rt, rct_set *s, rc_obj *key, uint64_t hash) {
    size_t pos;
    int r = set_lookup(rt, s, key, hash, &pos);
    if (r != 0)
        return r < 0 ? r : 0;
    if (s->table && s->table[pos].key == SET_DUMMY) {
        /* reuse a dummy: fill does not change */
        rco_incref(key);
        s->table[pos].hash = hash;
        s->table[pos].key = key;
        s->used++;
        s->stamp++;
        return 0;
    }
    if (!s->table || (s->fill + 1) * 5 >= s->mask * 3) {
        size_t n = s->used + 1;
        r = set_resize(rt, s, n > 50000 ? n * 2 : n * 4);
        if (r < 0)
            return r;
        rco_incref(key);
        insert_clean(s->table, s->mask, hash, key);
    } else {
        rco_incref(key);
        s->table[pos].hash = hash;
        s->table[pos].key = key;
    }
    s->fill++;
    s->used++;
    s->stamp++;
    return 0;
}

/* Detach the table, then drop its keys; loop while user code refills. A
 * table without keys is freed keeping the stamp (see the invariants). */
static void set_clear_slot(rc_obj *self) {
    rct_set *s = (rct_set *)self;
    rc_runtime *rt = rco_runtime(self);
    while (s->table) {
        if (s->used == 0) {
            rco_free(rt, s->table);
            s->table = NULL;
            s->mask = s->fill = 0;
            break;
        }
        rct_sentry *table = s->table;
        size_t mask = s->mask;
        s->table = NULL;
        s->mask = s->fill = s->used = 0;
        s->stamp++;
        for (size_t i = 0; i <= mask; i++) {
            rc_obj *k = table[i].key;
            if (k && k != SET_DUMMY) {
                table[i].key = NULL;
                rco_decref(k);
            }
        }
        rco_free(rt, table);
    }
}

/* ---------------------------------------------------------------------------
 * The type's slots
 * ------------------------------------------------------------------------- */

static int set_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    rct_set *s = (rct_set *)self;
    for (size_t i = 0; s->table && i <= s->mask; i++) {
        if (active(&s->table[i])) {
            int r = visit(s->table[i].key, arg);
            if (r)
                return r;
        }
    }
    return 0;
}

/* 1 if every key of a is in b, 0 if not, or a negative RC_E*. */
static int set_issubset(rc_runtime *rt, rct_set *a, rct_set *b) {
    uint64_t stamp = a->stamp;
    for (size_t i = 0; a->table && i <= a->mask; i++) {
        rct_sentry *e = &a->table[i];
        if (!active(e))
            continue;
        rc_obj *k = e->key;
        uint64_t hash = e->hash;
        size_t pos;
        rco_incref(k);
        int r = set_lookup(rt, b, k, hash, &pos);
        rco_decref(k);
        if (r <= 0)
            return r;
        if (a->stamp != stamp)
            return rco_err(rt, RC_ESTATE, "set changed size during iteration");
    }
    return 1;
}

static int set_equal(rc_obj *a, rc_obj *b) {
    if (!rco_is(b, &rc_set_type))
        return 0;
    rct_set *sa = (rct_set *)a, *sb = (rct_set *)b;
    if (sa->used != sb->used)
        return 0;
    return set_issubset(rco_runtime(a), sa, sb);
}

static int set_repr(rc_obj *self, char *buf, size_t len) {
    rct_set *s = (rct_set *)self;
    rct_writer w;
    rct_writer_init(&w, buf, len);
    if (s->used == 0) {
        rct_writer_puts(&w, "set()");
        return rct_writer_finish(&w);
    }
    rc_runtime *rt = rco_runtime(self);
    rco_repr_frame frame;
    if (!rco_repr_enter(rt, &frame, self)) {     /* inside itself: Python's text */
        rct_writer_puts(&w, "set(...)");
        return rct_writer_finish(&w);
    }
    rct_writer_puts(&w, "{");
    int r = 0;
    bool first = true;
    for (size_t i = 0; r == 0 && s->table && i <= s->mask; i++) {
        rct_sentry *e = &s->table[i];
        if (!active(e))
            continue;
        rc_obj *k = e->key;
        rco_incref(k);
        if (!first)
            rct_writer_puts(&w, ", ");
        first = false;
        r = rct_writer_repr(&w, rt, k);
        rco_decref(k);
    }
    rco_repr_leave(rt, &frame);
    if (r < 0)
        return r;
    rct_writer_puts(&w, "}");
    return rct_writer_finish(&w);
}

static size_t set_sizeof_extra(rc_obj *self) {
    rct_set *s = (rct_set *)self;
    return s->table ? (s->mask + 1) * sizeof(rct_sentry) : 0;
}

const rc_type rc_set_type = {
    .name = "set",
    .size = sizeof(rct_set),
    .flags = RC_TYPE_GC,
    .traverse = set_traverse,
    .clear = set_clear_slot,
    .destroy = set_clear_slot,
    .equal = set_equal,
    .repr = set_repr,
    .sizeof_extra = set_sizeof_extra,
};

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

RCI_ALLOC_FRAME rc_obj *rc_set(rc_runtime *rt) {
    if (!rt)
        return NULL;
    return rc_new(rt, &rc_set_type);
}

int rc_is_set(const rc_obj *o) {
    return rco_is(o, &rc_set_type) ? 1 : 0;
}

/* What a call does with the set, for the runtime checks of set_prepare. */
enum {
    SET_READ,         /* looks up only: any runtime's key will do */
    SET_WRITE,        /* may allocate or free: the set must be of rt */
    SET_STORE         /* may store the key: it must not be of another runtime */
};

static int set_prepare(rc_runtime *rt, rc_obj *set, rc_obj *key, int mode, uint64_t *hash,
                       const char *fn) {
    int r = rct_check_arg(rt, set, &rc_set_type, fn);
    if (r == 0)
        r = rct_check_arg(rt, key, NULL, fn);
    if (r == 0 && mode == SET_STORE)
        r = rct_check_link(rt, set, key, fn);
    else if (r == 0 && mode == SET_WRITE && rco_runtime(set) != rt)
        r = rct_refuse_runtime(rt, fn, set);
    if (r == 0)
        r = rc_hash(rt, key, hash);
    return r;
}

RCI_ALLOC_FRAME int rc_set_add(rc_runtime *rt, rc_obj *set, rc_obj *key) {
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = set_prepare(rt, set, key, SET_STORE, &hash, "rc_set_add");
    if (r < 0)
        return r;
    return set_add_hashed(rt, (rct_set *)set, key, hash);
}

RCI_ALLOC_FRAME int rc_set_discard(rc_runtime *rt, rc_obj *set, rc_obj *key) {
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = set_prepare(rt, set, key, SET_WRITE, &hash, "rc_set_discard");
    if (r < 0)
        return r;
    rct_set *s = (rct_set *)set;
    size_t pos;
    r = set_lookup(rt, s, key, hash, &pos);
    if (r <= 0)
        return r;
    rc_obj *old = s->table[pos].key;
    s->table[pos].key = SET_DUMMY;
    s->used--;
    s->stamp++;
    set_shrink(rt, s);
    rco_decref(old);                              /* last: may run user code */
    return 1;
}

int rc_set_contains(rc_runtime *rt, rc_obj *set, rc_obj *key) {
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = set_prepare(rt, set, key, SET_READ, &hash, "rc_set_contains");
    if (r < 0)
        return r;
    size_t pos;
    return set_lookup(rt, (rct_set *)set, key, hash, &pos);
}

size_t rc_set_len(const rc_obj *set) {
    return rco_is(set, &rc_set_type) ? ((const rct_set *)set)->used : 0;
}

void rc_set_clear(rc_obj *set) {
    if (rco_is(set, &rc_set_type) && !(set->rc_head_ & RCO_F_FREED))
        set_clear_slot(set);
}

/* ---- algebra ---- */

/* Add every key of src to dst (dst != src). */
static RCI_ALLOC_FRAME int set_merge(rc_runtime *rt, rct_set *dst, rct_set *src) {
    if (src->used == 0)
        return 0;
    if (dst->used == 0 && dst->fill == 0) {
        /* Fast path (CPython's set_merge): dst is empty and src's keys are
         * distinct, so size dst once and place them without comparing. */
        int r = set_resize(rt, dst, src->used > 50000 ? src->used * 2 : src->used * 4);
        if (r < 0)
            return r;
        for (size_t i = 0; i <= src->mask; i++) {
            rct_sentry *e = &src->table[i];
            if (active(e)) {
                rco_incref(e->key);
                insert_clean(dst->table, dst->mask, e->hash, e->key);
            }
        }
        dst->fill = dst->used = src->used;
        dst->stamp++;
        return 0;
    }
    uint64_t stamp = src->stamp;
    for (size_t i = 0; src->table && i <= src->mask; i++) {
        rct_sentry *e = &src->table[i];
        if (!active(e))
            continue;
        rc_obj *k = e->key;
        uint64_t hash = e->hash;
        rco_incref(k);
        int r = set_add_hashed(rt, dst, k, hash);
        rco_decref(k);
        if (r < 0)
            return r;
        if (src->stamp != stamp)
            return rco_err(rt, RC_ESTATE, "set changed size during iteration");
    }
    return 0;
}

/* Add to dst the keys of src that are (want = 1) or are not (want = 0) in
 * other. */
static RCI_ALLOC_FRAME int set_select(rc_runtime *rt, rct_set *dst, rct_set *src, rct_set *other, int want) {
    uint64_t stamp = src->stamp;
    for (size_t i = 0; src->table && i <= src->mask; i++) {
        rct_sentry *e = &src->table[i];
        if (!active(e))
            continue;
        rc_obj *k = e->key;
        uint64_t hash = e->hash;
        size_t pos;
        rco_incref(k);
        int r = set_lookup(rt, other, k, hash, &pos);
        if (r == want)
            r = set_add_hashed(rt, dst, k, hash);
        rco_decref(k);
        if (r < 0)
            return r;
        if (src->stamp != stamp)
            return rco_err(rt, RC_ESTATE, "set changed size during iteration");
    }
    return 0;
}

enum { OP_UNION, OP_INTERSECTION, OP_DIFFERENCE };

static RCI_ALLOC_FRAME rc_obj *set_algebra(rc_runtime *rt, rc_obj *a, rc_obj *b, int op, const char *fn) {
    if (!rt)
        return NULL;
    if (rct_check_arg(rt, a, &rc_set_type, fn) < 0 || rct_check_arg(rt, b, &rc_set_type, fn) < 0)
        return NULL;
    /* the result is of rt and holds the operands' keys */
    if (rco_runtime(a) != rt || rco_runtime(b) != rt) {
        rct_refuse_runtime(rt, fn, rco_runtime(a) != rt ? a : b);
        return NULL;
    }
    rc_obj *res = rc_set(rt);          /* may collect: a and b are checked again below */
    if (!res)
        return NULL;
    rct_set *sa = (rct_set *)a, *sb = (rct_set *)b, *sr = (rct_set *)res;
    int r;
    switch (op) {
    case OP_UNION:
        r = set_merge(rt, sr, sa);
        if (r == 0 && b != a)
            r = set_merge(rt, sr, sb);
        break;
    case OP_INTERSECTION:
        /* walk the smaller set, look up in the larger (CPython) */
        r = sa->used <= sb->used ? set_select(rt, sr, sa, sb, 1) : set_select(rt, sr, sb, sa, 1);
        break;
    default:
        r = set_select(rt, sr, sa, sb, 0);
        break;
    }
    if (r < 0) {
        rco_decref(res);
        return NULL;
    }
    return res;
}

RCI_ALLOC_FRAME rc_obj *rc_set_union(rc_runtime *rt, rc_obj *a, rc_obj *b) {
    return set_algebra(rt, a, b, OP_UNION, "rc_set_union");
}

RCI_ALLOC_FRAME rc_obj *rc_set_intersection(rc_runtime *rt, rc_obj *a, rc_obj *b) {
    return set_algebra(rt, a, b, OP_INTERSECTION, "rc_set_intersection");
}

RCI_ALLOC_FRAME rc_obj *rc_set_difference(rc_runtime *rt, rc_obj *a, rc_obj *b) {
    return set_algebra(rt, a, b, OP_DIFFERENCE, "rc_set_difference");
}

/* ---------------------------------------------------------------------------
 * Iteration (iter.c): hash-table order
 * ------------------------------------------------------------------------- */

uint64_t rct_set_stamp(const rc_obj *s) {
    return rco_is(s, &rc_set_type) ? ((const rct_set *)s)->stamp : 0;
}

int rct_set_iter(rc_runtime *rt, rc_iter *it, rc_obj **key) {
    const rct_set *s = (const rct_set *)it->container;
    if (s->stamp != it->stamp)
        return rco_err(rt, RC_ESTATE, "set changed size during iteration");
    while (s->table && it->pos <= s->mask) {
        const rct_sentry *e = &s->table[it->pos++];
        if (active(e)) {
            if (key)
                *key = e->key;
            return 1;
        }
    }
    return 0;
}
