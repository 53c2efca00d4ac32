/* weakdict.c - the weak-value dict (Python's weakref.WeakValueDictionary):
 * key -> value where the value is held weakly, so an entry vanishes when
 * its value dies.
 *
 * Responsibility: map hashable keys to values without keeping the values
 * alive; report an entry as absent as soon as its value's last reference
 * goes; reclaim the memory of such dead entries later, at a safe point.
 *
 * Layout: { rc_obj; rct_dtable t; nlive; deaths; stale }, a GC object (its
 * keys may be containers, so cycles through keys are collectable). The
 * table is dict.c's compact ordered table: entries hold a strong reference
 * to the key and to a weakref object (rc_weakref_type) to the value, made
 * with a callback whose argument is this dict. The weakref objects are
 * private: nothing else holds them, and traverse does not report them.
 *
 * Dead entries. A value's death clears its weakref (rc_weakref_get returns
 * NULL from then on) and runs the callback during the value's deallocation,
 * possibly while the dict is being iterated or looked up. The callback
 * therefore only sets flags (stale, deaths++): it allocates nothing, frees
 * nothing and changes no structure. Every read (get, len, iteration) treats
 * an entry whose weakref is dead as absent. Dead entries are purged - their
 * key and weakref released, the table rebuilt compact - by the next
 * mutation (set or del) once deaths >= used / 8 (so the O(n) rebuild is
 * amortised over many deaths), never by a read, so reads never invalidate
 * an iterator (a purge bumps the stamp like any structural change; a death
 * does not). A failed purge (out of memory) is benign: it is retried later.
 * The keys of dead entries stay alive until the purge; Python frees them at
 * once, unless the dict is being iterated.
 *
 * Counting. nlive is the number of live entries whenever stale is false.
 * Inserts add one; removing an entry seen alive subtracts one; removing an
 * entry seen dead, or any death, sets stale (a weakref may be cleared before
 * its callback has run, so an entry seen dead may still be counted); len
 * recounts (O(n)) when stale. A purge leaves exactly the live entries and
 * so resets nlive = used.
 *
 * Invariants: those of dict.c's table (see dict.c), with every value a
 * weakref object whose callback argument is this dict; nlive <= used.
 *
 * Growth and shrink policy: the table's (dict.c): grow to the power of two
 * >= 3 * used when full, shrink when fewer than 1/8 of the slots are live
 * after a deletion; a purge rebuilds at the size that fits the survivors.
 *
 * Safety of the callback: it only writes this dict's flags, so it must never
 * run once the dict is gone. The dict is the only holder of its weakrefs, so
 * releasing an entry frees its weakref, which unlinks it from its target.
 * But a released weakref may still be called back: inside a deallocation
 * cascade it is only queued (RCO_F_QUEUED) and stays linked until the queue
 * reaches it, and while a target's callbacks run each weakref is held by a
 * temporary reference, so one callback may drop the dict before the next
 * runs. The callback therefore first checks that the dict still owns the
 * weakref (see wvd_value_died), so a dict and its values can die together
 * in any order (test_die_together, test_callback_drops_dict).
 */
#include "types/types.h"

#include <stdio.h>
#include <string.h>

typedef struct rct_wvdict {
    rc_obj ob;
    rct_dtable t;       /* key -> weakref to the value */
    size_t nlive;       /* live entries (exact when !stale) */
    size_t deaths;      /* callbacks since the last purge (a hint) */
    bool stale;         /* a value died or a dead entry was dropped: recount */
} rct_wvdict;

static void wvd_value_died(rc_obj *ref, void *arg) {
    /* Act only while this dict still owns ref. The dict is its only owner,
     * and the object layer runs callbacks holding one temporary reference
     * (weakref.c), so an owned ref has a count of at least 2. A released
     * ref can still be called back without arg being valid: (a) its count
     * reached zero inside a deallocation cascade, so it waits in the queue
     * (RCO_F_QUEUED, the count bits are a link) still linked to its target;
     * (b) an earlier callback for the same target dropped the dict, which
     * released ref while the temporary reference kept it alive. */
    if ((ref->rc_head_ & RCO_F_QUEUED) || rco_refcount(ref) < 2)
        return;
    rct_wvdict *d = arg;
    d->stale = true;
    d->deaths++;
}

static inline bool entry_alive(rc_obj *key, rc_obj *ref) {
    (void)key;
    return rc_weakref_get(ref) != NULL;
}

/* Release dead entries when enough have died (see the policy above). */
static RCI_ALLOC_FRAME void wvd_maybe_purge(rc_runtime *rt, rct_wvdict *d) {
    if (d->deaths == 0 || d->deaths < d->t.used / 8)
        return;
    rco_error_state saved;                /* benign failure: keep the error as it was */
    rco_error_save(rt, &saved);
    rct_dtable dropped;
    if (rct_dtable_filter(rt, &d->t, entry_alive, &dropped) < 0) {
        rco_error_restore(rt, &saved);
        return;
    }
    /* Only live entries are left: the count is exact again. */
    d->deaths = 0;
    d->nlive = d->t.used;
    d->stale = false;
    rct_dtable_release(rt, &dropped);     /* last: may run user code */
}

static size_t wvd_count_live(const rct_wvdict *d) {
    size_t n = 0;
    for (size_t ix = 0; ix < rct_dtable_nentries(&d->t); ix++) {
        rc_obj **kv = rct_dtable_key_slot(&d->t, ix);
        if (kv[0] && entry_alive(kv[0], kv[1]))
            n++;
    }
    return n;
}

/* ---------------------------------------------------------------------------
 * The type's slots
 * ------------------------------------------------------------------------- */

static int wvd_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    /* keys only: the weakrefs are private and hold nothing strongly */
    return rct_dtable_traverse(&((rct_wvdict *)self)->t, visit, arg, false);
}

static void wvd_clear_slot(rc_obj *self) {
    rct_wvdict *d = (rct_wvdict *)self;
    rc_runtime *rt = rco_runtime(self);
    while (rct_dtable_has_block(&d->t)) {
        rct_dtable old;
        rct_dtable_detach(&d->t, &old);
        d->nlive = 0;
        d->deaths = 0;
        d->stale = false;
        rct_dtable_release(rt, &old);
    }
}

static int wvd_repr(rc_obj *self, char *buf, size_t len) {
    return snprintf(buf, len, "<WeakValueDictionary at %p>", (void *)self);
}

static size_t wvd_sizeof_extra(rc_obj *self) {
    return rct_dtable_bytes(&((rct_wvdict *)self)->t);
}

const rc_type rc_weakvaluedict_type = {
    .name = "WeakValueDictionary",
    .size = sizeof(rct_wvdict),
    .flags = RC_TYPE_GC,
    .traverse = wvd_traverse,
    .clear = wvd_clear_slot,
    .destroy = wvd_clear_slot,
    .repr = wvd_repr,
    .sizeof_extra = wvd_sizeof_extra,
};

/* ---------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

RCI_ALLOC_FRAME rc_obj *rc_weakvaluedict(rc_runtime *rt) {
    if (!rt)
        return NULL;
    rct_wvdict *d = (rct_wvdict *)rc_new(rt, &rc_weakvaluedict_type);
    if (!d)
        return NULL;
    rct_dtable_init(&d->t);
    return &d->ob;
}

/* Check the dict and the key and hash the key. write: the call may store
 * or free, so the dict must be of rt (and a key it stores of no other
 * runtime); a lookup accepts a key of any runtime. */
static int wvd_prepare(rc_runtime *rt, rc_obj *d, rc_obj *key, bool write, bool store,
                       uint64_t *hash, const char *fn) {
    int r = rct_check_arg(rt, d, &rc_weakvaluedict_type, fn);
    if (r == 0)
        r = rct_check_arg(rt, key, NULL, fn);
    if (r == 0 && store)
        r = rct_check_link(rt, d, key, fn);
    else if (r == 0 && write && rco_runtime(d) != rt)
        r = rct_refuse_runtime(rt, fn, d);
    if (r == 0)
        r = rc_hash(rt, key, hash);
    return r;
}

RCI_ALLOC_FRAME int rc_weakvaluedict_set(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj *value) {
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = wvd_prepare(rt, dict, key, true, true, &hash, "rc_weakvaluedict_set");
    if (r == 0)
        r = rct_check_arg(rt, value, NULL, "rc_weakvaluedict_set");
    /* held weakly, but its weak reference lives in rt's table */
    if (r == 0)
        r = rct_check_link(rt, dict, value, "rc_weakvaluedict_set");
    if (r < 0)
        return r;
    rct_wvdict *d = (rct_wvdict *)dict;
    rct_dtable_ready(&d->t);
    rc_obj *ref = rc_weakref_new(rt, value, wvd_value_died, d);
    if (!ref)
        return rc_error(rt);                      /* nothing changed, not even a purge */
    wvd_maybe_purge(rt, d);
    size_t ix;
    r = rct_dtable_lookup(rt, &d->t, key, hash, &ix);
    if (r < 0) {
        rco_decref(ref);
        return r;
    }
    rc_obj *old_key = NULL, *old_ref = NULL;
    if (r > 0) {
        rc_obj **kv = rct_dtable_key_slot(&d->t, ix);
        if (entry_alive(kv[0], kv[1])) {
            /* replace the value in place: same key, same position */
            old_ref = kv[1];
            kv[1] = ref;                          /* our reference moves in */
            rco_decref(old_ref);                  /* a weakref: runs no user code */
            return 0;
        }
        /* A dead entry is absent: drop it and add the key anew at the end,
         * as Python (whose callback already removed it) would. */
        old_key = kv[0];
        old_ref = kv[1];
        rct_dtable_remove(&d->t, ix);
        d->stale = true;
    }
    r = rct_dtable_insert(rt, &d->t, hash, key, ref);
    rco_decref(ref);
    if (r == 0)
        d->nlive++;
    if (old_key) {
        rco_decref(old_ref);
        rco_decref(old_key);                      /* last: may run user code */
    }
    return r;
}

rc_obj *rc_weakvaluedict_get(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return NULL;
    uint64_t hash;
    if (wvd_prepare(rt, dict, key, false, false, &hash, "rc_weakvaluedict_get") < 0)
        return NULL;
    rct_wvdict *d = (rct_wvdict *)dict;
    rct_dtable_ready(&d->t);
    size_t ix;
    int r = rct_dtable_lookup(rt, &d->t, key, hash, &ix);
    if (r < 0)
        return NULL;
    rc_obj *value = r > 0 ? rc_weakref_get(*rct_dtable_value_slot(&d->t, ix)) : NULL;
    if (!value)
        rct_key_error(rt, key);
    return value;
}

RCI_ALLOC_FRAME int rc_weakvaluedict_del(rc_runtime *rt, rc_obj *dict, rc_obj *key) {
    if (!rt)
        return RC_EINVAL;
    uint64_t hash;
    int r = wvd_prepare(rt, dict, key, true, false, &hash, "rc_weakvaluedict_del");
    if (r < 0)
        return r;
    rct_wvdict *d = (rct_wvdict *)dict;
    rct_dtable_ready(&d->t);
    wvd_maybe_purge(rt, d);
    size_t ix;
    r = rct_dtable_lookup(rt, &d->t, key, hash, &ix);
    if (r < 0)
        return r;
    if (r == 0)
        return rct_key_error(rt, key);
    rc_obj **kv = rct_dtable_key_slot(&d->t, ix);
    rc_obj *k = kv[0], *ref = kv[1];
    bool alive = entry_alive(k, ref);
    rct_dtable_remove(&d->t, ix);
    if (alive)
        d->nlive--;
    else
        d->stale = true;
    rct_dtable_shrink(rt, &d->t);
    rco_decref(ref);
    rco_decref(k);                                /* last: may run user code */
    /* an entry whose value died was already absent */
    return alive ? 0 : rct_key_error(rt, key);
}

size_t rc_weakvaluedict_len(rc_obj *dict) {
    if (!rco_is(dict, &rc_weakvaluedict_type))
        return 0;
    rct_wvdict *d = (rct_wvdict *)dict;
    rct_dtable_ready(&d->t);
    if (d->stale) {
        d->nlive = wvd_count_live(d);
        d->stale = false;
    }
    return d->nlive;
}

/* ---------------------------------------------------------------------------
 * Iteration (iter.c): keys of live entries, insertion order
 * ------------------------------------------------------------------------- */

uint64_t rct_weakvaluedict_stamp(const rc_obj *d) {
    return rco_is(d, &rc_weakvaluedict_type) ? ((const rct_wvdict *)d)->t.stamp : 0;
}

int rct_weakvaluedict_iter(rc_runtime *rt, rc_iter *it, rc_obj **key) {
    const rct_dtable *t = rct_dtable_ready(&((rct_wvdict *)it->container)->t);
    if (t->stamp != it->stamp)
        return rco_err(rt, RC_ESTATE, "WeakValueDictionary changed size during iteration");
    while (it->pos < rct_dtable_nentries(t)) {
        rc_obj **kv = rct_dtable_key_slot(t, it->pos++);
        if (kv[0] && entry_alive(kv[0], kv[1])) {
            if (key)
                *key = kv[0];
            return 1;
        }
    }
    return 0;
}
