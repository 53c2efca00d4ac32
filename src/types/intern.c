/* intern.c - the per-runtime state of the types layer and the str intern
 * table (sys.intern).
 *
 * State: rt->types_state points to an rct_state (types.h), a buffer of the
 * runtime's heap created on first use; rt->types_teardown frees it (and
 * whatever the other files registered) when the runtime is freed.
 *
 * Intern table: open addressing with linear probing over str objects,
 * keyed by (hash, bytes). One buffer holds the header and the slots:
 *
 *   rct_intern { cap, count, slots[cap] }     cap a power of two
 *
 * Invariants: every slot is NULL or an interned str (immortal, flagged
 * interned, owned by this runtime); no two slots hold equal strs; count <
 * cap * 2/3, so every probe sequence reaches an empty slot. Entries are never
 * removed: interned strs are immortal, as in CPython's static interning, and
 * go away with the runtime's heap.
 *
 * Growth: the table starts at INTERN_MIN_CAP slots and doubles (rehashing
 * into a new buffer) before an insertion would reach 2/3 load. A failed
 * growth leaves the table as it was. */
#include "types/types.h"

#include <string.h>

#define INTERN_MIN_CAP 64

struct rct_intern {
    size_t cap;
    size_t count;
    rc_obj *slots[];
};

/* ---- per-runtime state ----------------------------------------------------- */

static void state_teardown(rc_runtime *rt) {
    rct_state *st = rt->types_state;
    if (!st)
        return;
    /* Last registered first: later parts may depend on earlier ones. */
    while (st->nteardown > 0)
        st->teardown[--st->nteardown](rt, st);
    rco_free(rt, st->intern);
    rco_free(rt, st);
    rt->types_state = NULL;
    rt->types_teardown = NULL;
}

RCI_ALLOC_FRAME rct_state *rct_state_get(rc_runtime *rt) {
    if (rt->types_state)
        return rt->types_state;
    rct_state *st = rco_alloc(rt, sizeof *st);
    if (!st)
        return NULL;   /* rco_alloc recorded RC_ENOMEM */
    memset(st, 0, sizeof *st);
    rt->types_state = st;
    rt->types_teardown = state_teardown;
    return st;
}

RCI_ALLOC_FRAME int rct_state_on_teardown(rc_runtime *rt, rct_teardown_fn fn) {
    rct_state *st = rct_state_get(rt);
    if (!st)
        return RC_ENOMEM;
    if (st->nteardown == RCT_STATE_MAX_TEARDOWN)
        return rco_err(rt, RC_EOVERFLOW, "types: more than %d teardown functions",
                       RCT_STATE_MAX_TEARDOWN);
    st->teardown[st->nteardown++] = fn;
    return 0;
}

/* ---- intern table -------------------------------------------------------------- */

/* The slot holding the str equal to data[0..len) with hash h, or the empty
 * slot where it belongs. */
static rc_obj **intern_slot(struct rct_intern *t, uint64_t h, const char *data, size_t len) {
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        rc_obj *s = t->slots[i];
        if (!s)
            return &t->slots[i];
        if (rct_str_hash(s) == h && rc_str_len(s) == len && memcmp(rc_str_data(s), data, len) == 0)
            return &t->slots[i];
    }
}

/* Make room for one more entry; 0 or RC_ENOMEM (table unchanged). */
RCI_INLINE int intern_reserve(rc_runtime *rt, rct_state *st) {
    struct rct_intern *old = st->intern;
    if (old && (old->count + 1) * 3 < old->cap * 2)
        return 0;
    size_t cap = old ? old->cap * 2 : INTERN_MIN_CAP;
    if (cap > (SIZE_MAX - sizeof(struct rct_intern)) / sizeof(rc_obj *))
        return rco_err(rt, RC_ENOMEM, "intern table: too many strings");
    struct rct_intern *t = rco_alloc(rt, sizeof *t + cap * sizeof(rc_obj *));
    if (!t)
        return RC_ENOMEM;
    t->cap = cap;
    t->count = 0;
    memset(t->slots, 0, cap * sizeof(rc_obj *));
    if (old) {
        for (size_t i = 0; i < old->cap; i++) {
            rc_obj *s = old->slots[i];
            if (s) {
                *intern_slot(t, rct_str_hash(s), rc_str_data(s), rc_str_len(s)) = s;
                t->count++;
            }
        }
        rco_free(rt, old);
    }
    st->intern = t;
    return 0;
}

RCI_ALLOC_FRAME rc_obj *rc_str_intern_n(rc_runtime *rt, const char *utf8, size_t len) {
    if (!rt)
        return NULL;
    if (!utf8) {
        if (len > 0)
            return rco_err_null(rt, RC_EINVAL, "rc_str_intern_n: NULL data");
        utf8 = "";
    }
    rct_state *st = rct_state_get(rt);
    if (!st)
        return NULL;
    uint64_t h = rco_hash_bytes(utf8, len);   /* the hash the str will cache */
    if (st->intern) {
        rc_obj *found = *intern_slot(st->intern, h, utf8, len);
        if (found)
            return found;   /* immortal: no reference to count */
    }
    rc_obj *s = rc_str_n(rt, utf8, len);   /* validates: RC_EINVAL if bad UTF-8 */
    if (!s)
        return NULL;
    if (intern_reserve(rt, st) != 0) {
        rco_decref(s);
        return NULL;
    }
    rco_immortalize(s);
    rct_str_set_interned(s);
    *intern_slot(st->intern, h, utf8, len) = s;
    st->intern->count++;
    return s;
}

RCI_ALLOC_FRAME rc_obj *rc_str_intern(rc_runtime *rt, const char *utf8) {
    if (!rt)
        return NULL;
    if (!utf8)
        return rco_err_null(rt, RC_EINVAL, "rc_str_intern: NULL string");
    return rc_str_intern_n(rt, utf8, strlen(utf8));
}
