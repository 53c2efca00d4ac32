/* collect.c - the cycle collection algorithm (CPython's, with weak
 * references cleared before any finalizer runs, as CPython does).
 *
 * 1. update_refs: each object of the generation gets gc_refs = its refcount.
 * 2. subtract_refs: traverse every object and subtract one from gc_refs of
 *    each child in the generation; what remains counts references from
 *    outside the generation.
 * 3. move_unreachable: objects with gc_refs > 0 are reachable, and so is
 *    everything they reach; the rest is moved to the `unreachable` list.
 * 4. weak references to unreachable objects are cleared and their callbacks
 *    run, before any finalizer;
 * 5. finalizers run (each object at most once, PEP 442);
 * 6. the unreachable set is examined again: anything a finalizer made
 *    reachable (resurrected), and all it reaches, survives;
 * 7. clear is called on what is still unreachable, which breaks the cycles;
 *    reference counting then frees the objects;
 * 8. objects still alive after every clear ran (a cycle none of whose
 *    members has clear) are uncollectable: they go to rc_gc_garbage.
 *
 * When the set is every tracked object (a full collection with nothing
 * frozen), steps 1 and 2 are one pass (update_subtract_whole): a child
 * reached before the scan gets its gc_refs on the spot, and no membership
 * test is needed since every tracked child is in the set.
 *
 * gc_refs and the step 3 flags live in the objects' own links; collect.h
 * describes the encoding. The incremental (bounded-pause) mode in
 * incremental.c runs steps 1-3 in slices between which the program runs,
 * then steps 4-8 and the end of the collection from this file.
 */
#include "gc/collect.h"
#include "heap/os/os.h"
#include "recycle/annotate.h"
#include "recycle/types.h"
#include "types/types.h"

#include <stdio.h>
#include <string.h>

size_t rcg_list_size(const rco_gc *head) {
    size_t n = 0;
    for (const rco_gc *g = head->gc_next; g != head; g = g->gc_next)
        n++;
    return n;
}

/* The collector's handle on a child found by traverse: NULL unless the child
 * is a tracked container (only those are in generation lists). */
static inline rco_gc *as_tracked(rc_obj *child) {
    if (!child || !(child->rc_head_ & RCO_F_TRACKED))
        return NULL;
    return rco_gc_of(child);
}

/* The same for a heap larger than the caches (full collections): most
 * children there are atoms (ints, strs) in pools of their own, and the
 * pool's kind says so without reading the child, whose header would be a
 * cache miss. In a young collection the child is in cache and the header
 * test is cheaper. */
static inline rco_gc *as_tracked_cold(rc_obj *child) {
    if (!child)
        return NULL;
    unsigned kind = (unsigned)rci_pheap_kind_at(child);
    if (kind != RCO_KIND_GC && kind != RCO_KIND_GC_VAR)
        return NULL;
    return as_tracked(child);
}

/* ---- steps 1-3 ----
 *
 * subtract_refs and move_unreachable have one body each, for a whole list
 * (stop-the-world) and for a slice of it (the incremental mode): `bounded`
 * is a constant at every call, so the stop-the-world loops carry no budget
 * test. */

/* Returns the number of objects on the list. */
static size_t update_refs(rco_gc *list) {
    size_t n = 0;
    for (rco_gc *g = list->gc_next; g != list; g = g->gc_next) {
        rc_obj *o = rco_from_gc(g);
        __builtin_prefetch(g->gc_next->gc_next);
        rcg_set_refs(g, rco_refcount(o));
        n++;
    }
    return n;
}

static int visit_decref(rc_obj *child, void *arg) {
    (void)arg;
    rco_gc *g = as_tracked(child);
    if (g && rcg_is_collecting(g) && rcg_get_refs(g) > 0)
        rcg_dec_refs(g);
    return 0;
}

RCI_INLINE rco_gc *subtract_refs_from(rco_gc *list, rco_gc *g, bool bounded, size_t budget) {
    for (; g != list; g = rcg_next_ptr(g)) {
        if (bounded && budget-- == 0)
            break;
        rc_obj *o = rco_from_gc(g);
        __builtin_prefetch(rcg_next_ptr(g)->gc_next);
        if (o->rc_type_->traverse)
            o->rc_type_->traverse(o, visit_decref, NULL);
    }
    return g;
}

static void subtract_refs(rco_gc *list) {
    subtract_refs_from(list, list->gc_next, false, 0);
}

rco_gc *rcg_subtract_refs(rco_gc *list, rco_gc *from, size_t budget) {
    return subtract_refs_from(list, from, true, budget);
}

/* Steps 1 and 2 in one pass, for a collection of every tracked object (none
 * frozen): a child reached before the scan reaches it gets its gc_refs from
 * its count on the spot, which needs no test of whether it belongs to the
 * collection. In a heap larger than the caches this saves a whole pass over
 * memory. Before it, no object has COLLECTING set (every collection ends
 * with plain links).
 *
 * In such a heap a child is mostly a cache miss, and a visit that waits for
 * it stalls the pass. Each child that is a container therefore goes into a
 * ring of RCG_RING entries: it is prefetched on entry and worked on when the
 * ring is full, RCG_RING visits later, so that several misses are in flight
 * at once. The subtraction is indifferent to the order of its visits: the
 * first of the scan and the visits to reach an object gives it its count,
 * every visit then takes one off. */
#define RCG_RING 32
typedef struct rcg_ring {
    rco_gc *slot[RCG_RING];
    unsigned n;             /* entries (RCG_RING once full) */
    unsigned next;          /* where the next entry goes; once full, the oldest entry */
} rcg_ring;

/* Put g in the ring (prefetching it); returns the entry it pushes out,
 * RCG_RING pushes old, which is due for its work now (NULL while the ring
 * fills). */
static inline rco_gc *ring_push(rcg_ring *r, rco_gc *g, rc_obj *child) {
    __builtin_prefetch(g, 1);
    __builtin_prefetch(child, 1);
    rco_gc *out = NULL;
    if (r->n == RCG_RING)
        out = r->slot[r->next];
    else
        r->n++;
    r->slot[r->next] = g;
    r->next = (r->next + 1) % RCG_RING;
    return out;
}

/* The child's handle from its pool's kind alone: a container, tracked or
 * not (the header, which says which, is read when the ring gets to it). */
static inline rco_gc *as_container(rc_obj *child) {
    if (!child)
        return NULL;
    unsigned kind = (unsigned)rci_pheap_kind_at(child);
    if (kind != RCO_KIND_GC && kind != RCO_KIND_GC_VAR)
        return NULL;
    return rco_gc_of(child);
}

static inline void decref_whole(rco_gc *g) {
    if (!(rco_from_gc(g)->rc_head_ & RCO_F_TRACKED))
        return;
    if (!rcg_is_collecting(g))
        rcg_set_refs(g, rco_refcount(rco_from_gc(g)));
    if (rcg_get_refs(g) > 0)
        rcg_dec_refs(g);
}

static int visit_decref_ring(rc_obj *child, void *arg) {
    rco_gc *g = as_container(child);
    if (!g)
        return 0;
    rco_gc *due = ring_push(arg, g, child);
    if (due)
        decref_whole(due);
    return 0;
}

static size_t update_subtract_whole(rco_gc *list) {
    size_t n = 0;
    rcg_ring ring = { .n = 0, .next = 0 };
    /* gc_next stays a pointer throughout; only gc_prev words change */
    for (rco_gc *g = list->gc_next; g != list; g = g->gc_next) {
        rc_obj *o = rco_from_gc(g);
        __builtin_prefetch(g->gc_next->gc_next);
        if (!rcg_is_collecting(g))
            rcg_set_refs(g, rco_refcount(o));
        if (o->rc_type_->traverse)
            o->rc_type_->traverse(o, visit_decref_ring, &ring);
        n++;
    }
    for (unsigned i = 0; i < ring.n; i++)
        decref_whole(ring.slot[i]);
    return n;
}

/* g, a child of an object found reachable, is reachable too. An object the
 * scan has not reached yet only needs gc_refs > 0, which makes it a root
 * when the scan gets there; one the scan already moved to the unreachable
 * list goes back to the end of young, where the scan will reach it again.
 * Either way gc_refs = 1 without the dirty flag, which adds nothing to it. */
static inline int visit_reachable_at(rco_gc *young, rco_gc *g) {
    if (!g || !rcg_is_collecting(g))
        return 0;                           /* another generation, or not ours */
    if (rcg_next_word(g) & RCG_UNREACHABLE) {
        rco_gc *prev = (rco_gc *)(rcg_prev_word(g) & ~RCG_PREV_FLAGS);
        rco_gc *next = rcg_next_ptr(g);
        /* prev keeps its UNREACHABLE flag: it is on that list too (or its head) */
        rcg_set_next_word(prev, rcg_next_word(g));
        rcg_set_prev_word(next, (uintptr_t)prev | (rcg_prev_word(next) & RCG_PREV_FLAGS));
        rco_gc *last = young->gc_prev;
        rcg_set_next_word(last, (uintptr_t)g);
        rcg_set_next_word(g, (uintptr_t)young);
        young->gc_prev = g;
        rcg_set_refs(g, 1);
    } else if (rcg_get_refs(g) == 0) {
        rcg_set_refs(g, 1);
    }
    return 0;
}

static int visit_reachable(rc_obj *child, void *arg) {
    return visit_reachable_at(arg, as_tracked(child));
}

static int visit_reachable_whole(rc_obj *child, void *arg) {
    return visit_reachable_at(arg, as_tracked_cold(child));
}

/* Unlink g (prev's successor) and append it to unreachable, whose links are
 * flagged UNREACHABLE; g's gc_prev becomes a pointer with COLLECTING kept. */
static inline void move_to_unreachable(rco_gc *prev, rco_gc *g, rco_gc *unreachable) {
    rcg_set_next_word(prev, rcg_next_word(g));
    rco_gc *last = unreachable->gc_prev;
    rcg_set_next_word(last, (uintptr_t)g | RCG_UNREACHABLE);
    rcg_set_prev_word(g, (uintptr_t)last | RCG_COLLECTING);
    rcg_set_next_word(g, (uintptr_t)unreachable | RCG_UNREACHABLE);
    unreachable->gc_prev = g;
}

RCI_INLINE rco_gc *move_unreachable_from(rco_gc *young, rco_gc *prev, rco_gc *unreachable,
                                         rc_visitfn visit, bool bounded, size_t budget) {
    rco_gc *g = prev->gc_next;
    for (; g != young; g = prev->gc_next) {
        if (bounded && budget-- == 0)
            return prev;
        __builtin_prefetch(g->gc_next);
        if (rcg_has_outside_refs(g)) {
            rc_obj *o = rco_from_gc(g);
            if (o->rc_type_->traverse)
                o->rc_type_->traverse(o, visit, young);
            rcg_set_prev_word(g, (uintptr_t)prev);    /* a pointer again; flags cleared */
            prev = g;
        } else {
            move_to_unreachable(prev, g, unreachable);
        }
    }
    young->gc_prev = prev;
    return prev;
}

void rcg_reach(rco_gc *young, rco_gc *g) {
    visit_reachable_at(young, g);
}

rco_gc *rcg_move_unreachable(rco_gc *young, rco_gc *prev, rco_gc *unreachable, size_t budget) {
    return move_unreachable_from(young, prev, unreachable, visit_reachable, true, budget);
}

typedef struct rcg_unreachable_info {
    size_t count;           /* objects on the unreachable list */
    bool needs_user_code;   /* one has weak references or an unrun finalizer */
} rcg_unreachable_info;

/* Once the scan is complete: turn the unreachable list into a normal list
 * (plain links, no flags) and describe it in *info. */
static void close_unreachable(rco_gc *unreachable, rcg_unreachable_info *info) {
    size_t count = 0;
    bool needs_user_code = false;
    rcg_set_next_word(unreachable, rcg_next_word(unreachable) & ~RCG_UNREACHABLE);
    rco_gc *p = unreachable;
    for (rco_gc *x = unreachable->gc_next; x != unreachable;) {
        rco_gc *next = rcg_next_ptr(x);
        rcg_set_next_word(x, (uintptr_t)next);
        rcg_set_prev_word(x, (uintptr_t)p);
        rc_obj *o = rco_from_gc(x);
        if ((o->rc_head_ & RCO_F_WEAKREFS) ||
            (o->rc_type_->finalize && !(o->rc_head_ & RCO_F_FINALIZED)))
            needs_user_code = true;
        count++;
        p = x;
        x = next;
    }
    unreachable->gc_prev = p;
    info->count = count;
    info->needs_user_code = needs_user_code;
}

/* After update_refs and subtract_refs: move every object of young that is
 * not reachable from outside into unreachable. On return young is a normal
 * list of the reachable objects (flags cleared); unreachable is a normal list
 * too, described by *info. */
static void move_unreachable(rco_gc *young, rco_gc *unreachable, rcg_unreachable_info *info,
                             rc_visitfn visit) {
    move_unreachable_from(young, young, unreachable, visit, false, 0);
    close_unreachable(unreachable, info);
}

/* ---- step 3 of a stop-the-world collection ----
 *
 * The same scan with another marking of the tentatively unreachable: instead
 * of flags in their links, such an object carries RCO_F_BARRIER in its
 * header, which no other object has while no incremental collection is in
 * progress (a stop-the-world collection runs only then). Both lists then
 * keep plain links throughout, and the unreachable one is a normal list as
 * soon as the scan ends: no pass over it to clear flags, and the scan counts
 * it and notes what needs user code as it goes. The mark stays on until the
 * object's first refcount change, which clears it in the slow path while
 * rt->gc_barrier is NULL (see stw_delete), or until stw_unmark. */
typedef struct stw_scan {
    rco_gc *young;
    size_t count;           /* objects on the unreachable list */
    size_t needy;           /* of which need user code (weak references, a finalizer to run) */
    rcg_ring ring;          /* full collections: children not reached yet (see visit_stw_whole) */
} stw_scan;

static inline bool needs_user_code(const rc_obj *o) {
    return (o->rc_head_ & RCO_F_WEAKREFS) || (o->rc_type_->finalize && !(o->rc_head_ & RCO_F_FINALIZED));
}

/* visit_reachable_at for this marking: a marked object goes back from the
 * unreachable list to the end of young, as a root the scan will reach. The
 * mark is tested first because the links of a marked object are plain. */
static inline int stw_reach(stw_scan *s, rco_gc *g) {
    if (!g)
        return 0;
    rc_obj *o = rco_from_gc(g);
    if (o->rc_head_ & RCO_F_BARRIER) {
        rco_gc *prev = g->gc_prev, *next = g->gc_next;
        prev->gc_next = next;
        next->gc_prev = prev;
        o->rc_head_ &= ~RCO_F_BARRIER;
        s->count--;
        s->needy -= needs_user_code(o);
        rco_gc *young = s->young, *last = young->gc_prev;
        last->gc_next = g;
        g->gc_next = young;
        young->gc_prev = g;
        rcg_set_refs(g, 1);
    } else if (rcg_is_collecting(g) && rcg_get_refs(g) == 0) {
        rcg_set_refs(g, 1);
    }
    return 0;
}

static int visit_stw(rc_obj *child, void *arg) {
    return stw_reach(arg, as_tracked(child));
}

static inline void stw_reach_container(stw_scan *s, rco_gc *g) {
    if (rco_from_gc(g)->rc_head_ & RCO_F_TRACKED)
        stw_reach(s, g);
}

/* A full collection reaches children through the ring, as its subtraction
 * does (update_subtract_whole). The scan may then pass an object whose
 * reach is still in the ring, and find it unreachable; the reach brings it
 * back as any later one does. young->gc_prev is kept right meanwhile, and
 * the scan ends only once the ring is empty. */
static int visit_stw_whole(rc_obj *child, void *arg) {
    rco_gc *g = as_container(child);
    if (!g)
        return 0;
    stw_scan *s = arg;
    rco_gc *due = ring_push(&s->ring, g, child);
    if (due)
        stw_reach_container(s, due);
    return 0;
}

/* Work on what the ring holds, oldest first (a reach adds nothing to it). */
static void stw_drain(stw_scan *s) {
    rcg_ring *r = &s->ring;
    unsigned n = r->n, start = n == RCG_RING ? r->next : 0;
    r->n = r->next = 0;
    for (unsigned i = 0; i < n; i++)
        stw_reach_container(s, r->slot[(start + i) % RCG_RING]);
}

static void stw_move_unreachable(stw_scan *s, rco_gc *unreachable, rc_visitfn visit) {
    rco_gc *young = s->young, *prev = young;
    for (;;) {
        rco_gc *g = prev->gc_next;
        if (g == young) {
            if (s->ring.n == 0)
                break;
            stw_drain(s);               /* may append to young */
            continue;
        }
        __builtin_prefetch(g->gc_next);
        rc_obj *o = rco_from_gc(g);
        if (rcg_has_outside_refs(g)) {
            if (o->rc_type_->traverse)
                o->rc_type_->traverse(o, visit, s);
            g->gc_prev = prev;                 /* a pointer again; flags cleared */
            prev = g;
        } else {
            prev->gc_next = g->gc_next;
            if (prev->gc_next == young)
                young->gc_prev = prev;         /* a reach still in the ring appends after it */
            rco_gc_list_append(unreachable, g);
            o->rc_head_ |= RCO_F_BARRIER;
            s->count++;
            s->needy += needs_user_code(o);
        }
    }
    young->gc_prev = prev;
}

/* Take the mark off every object of list (before user code can see them). */
static void stw_unmark(rco_gc *list) {
    for (rco_gc *g = list->gc_next; g != list; g = g->gc_next)
        rco_from_gc(g)->rc_head_ &= ~RCO_F_BARRIER;
}

/* A tuple can only be part of a cycle through an item that is a tracked
 * container; tuples are immutable, so one whose items are all atoms (or
 * untracked) never can, and stops costing collection time (CPython does the
 * same). Called on the survivors of a collection. */
static void untrack_atomic_tuples(rco_gc *list) {
    for (rco_gc *g = list->gc_next, *next; g != list; g = next) {
        next = g->gc_next;
        rc_obj *o = rco_from_gc(g);
        if (o->rc_type_ != &rc_tuple_type)
            continue;
        size_t n;
        rc_obj *const *items = rct_tuple_items(o, &n);
        bool atomic = true;
        for (size_t i = 0; i < n && atomic; i++)
            if (items[i] && (items[i]->rc_head_ & RCO_F_TRACKED))
                atomic = false;
        if (atomic)
            rco_untrack(o);
    }
}

/* Steps 1 and 2 over young; returns its number of objects. whole: young
 * holds every tracked object of the runtime (one pass, see
 * update_subtract_whole). */
static size_t update_subtract(rco_gc *young, bool whole) {
    if (whole)
        return update_subtract_whole(young);
    size_t n = update_refs(young);
    subtract_refs(young);
    return n;
}

/* Steps 1-3 of a stop-the-world collection with the marking above: returns
 * the number of objects young had; *info describes unreachable, whose
 * objects carry the mark. whole: as for deduce_unreachable. */
static size_t stw_deduce_unreachable(rco_gc *young, rco_gc *unreachable, rcg_unreachable_info *info,
                                     bool whole) {
    size_t n = update_subtract(young, whole);
    stw_scan s = { .young = young };
    stw_move_unreachable(&s, unreachable, whole ? visit_stw_whole : visit_stw);
    info->count = s.count;
    info->needs_user_code = s.needy != 0;
    return n;
}

/* Returns the number of objects young had; *info describes unreachable.
 * whole: young holds every tracked object of the runtime (a full collection
 * with nothing frozen). */
static size_t deduce_unreachable(rco_gc *young, rco_gc *unreachable, rcg_unreachable_info *info,
                                 bool whole) {
    size_t n = update_subtract(young, whole);
    move_unreachable(young, unreachable, info, whole ? visit_reachable_whole : visit_reachable);
    return n;
}

/* ---- steps 4-8 ---- */

static void clear_weakrefs(rc_runtime *rt, rco_gc *unreachable) {
    /* First clear the weak references of every unreachable object (no user
     * code runs), so that no callback can reach any of them; then run the
     * callbacks. A callback may drop the last reference to an unreachable
     * object, which unlinks it from the list: the list is normal by now. */
    rco_weakref_chain pending = { NULL, NULL };
    for (rco_gc *g = unreachable->gc_next; g != unreachable; g = g->gc_next) {
        rc_obj *o = rco_from_gc(g);
        if (o->rc_head_ & RCO_F_WEAKREFS)
            rco_weakrefs_detach(rt, o, &pending);
    }
    rco_weakrefs_run_callbacks(&pending);
}

static void run_finalizers(rco_gc *unreachable) {
    rco_gc seen;
    rco_gc_list_init(&seen);
    while (!rco_gc_list_empty(unreachable)) {
        rco_gc *g = unreachable->gc_next;
        rco_gc_list_remove(g);
        rco_gc_list_append(&seen, g);
        rc_obj *o = rco_from_gc(g);
        const rc_type *t = o->rc_type_;
        if (t->finalize && !(o->rc_head_ & RCO_F_FINALIZED)) {
            o->rc_head_ |= RCO_F_FINALIZED;
            rco_incref(o);
            t->finalize(o);
            rco_decref(o);
        }
    }
    rco_gc_list_merge(&seen, unreachable);
}

bool rcg_garbage_append(rc_runtime *rt, rc_obj *o) {
    rcg_state *st = rcg(rt);
    if (!st->garbage)
        return false;      /* during teardown, after the list was dropped */
    return rc_list_append(rt, st->garbage, o) == 0;
}

/* Move every object of list to old and record it in the garbage list.
 * Appending may allocate (and track the garbage list in generation 0), so
 * the objects are taken off list first; one that cannot be recorded for lack
 * of memory still stays alive in old. */
static void keep_as_garbage(rc_runtime *rt, rco_gc *list, rco_gc *old) {
    rco_gc pending;
    rco_gc_list_init(&pending);
    rco_gc_list_merge(list, &pending);
    while (!rco_gc_list_empty(&pending)) {
        rco_gc *g = pending.gc_next;
        rco_gc_list_remove(g);
        rco_gc_list_append(old, g);
        rcg_garbage_append(rt, rco_from_gc(g));
    }
}

void rcg_debug_print(rc_runtime *rt, const char *what, rc_obj *o) {
    FILE *out = rco_report_stream(rt);
    char buf[160];
    rc_repr(rt, o, buf, sizeof buf);
    fprintf(out, "gc: %s <%s %p> %s\n", what, rc_type_name(o), (void *)o, buf);
}

/* Break the cycles; returns how many objects were uncollectable. unmark:
 * the objects may still carry the mark of stw_move_unreachable, which a
 * survivor loses before it goes to old. */
static size_t delete_garbage(rc_runtime *rt, rco_gc *collectable, rco_gc *old, bool unmark) {
    rcg_state *st = rcg(rt);
    rco_gc survivors;
    rco_gc_list_init(&survivors);
    while (!rco_gc_list_empty(collectable)) {
        rco_gc *g = collectable->gc_next;
        rc_obj *o = rco_from_gc(g);
        const rc_type *t = o->rc_type_;
        void (*clear)(rc_obj *) = t->clear;
        if (clear) {
            rco_incref(o);
            clear(o);
            rco_decref(o);      /* may free o, which unlinks it from the list */
            rco_dealloc_drain(rt);   /* in a batch, what the clear set off */
        }
        if (collectable->gc_next == g) {
            /* still alive: it may die when another member is cleared */
            if (unmark)
                o->rc_head_ &= ~RCO_F_BARRIER;
            rco_gc_list_remove(g);
            rco_gc_list_append(&survivors, g);
        }
    }
    size_t uncollectable = 0;
    for (rco_gc *g = survivors.gc_next; g != &survivors; g = g->gc_next) {
        rc_obj *o = rco_from_gc(g);
        uncollectable++;
        if (st->debug & RC_GC_DEBUG_UNCOLLECTABLE)
            rcg_debug_print(rt, "uncollectable", o);
    }
    keep_as_garbage(rt, &survivors, old);
    return uncollectable;
}

/* Steps 4-8 for the `found` objects on unreachable (a normal list): the
 * COLLECTABLE debug report, weak references, finalizers and the resurrection
 * check when user code must run, then clear (or SAVEALL). Survivors and
 * uncollectables end up on old; *collected + *uncollectable == found. */
static void process_garbage(rc_runtime *rt, rco_gc *unreachable, size_t found, bool needs_user_code,
                         rco_gc *old, size_t *collected, size_t *uncollectable) {
    rcg_state *st = rcg(rt);
    *collected = *uncollectable = 0;
    if (found == 0)
        return;
    if (st->debug & RC_GC_DEBUG_COLLECTABLE)
        for (rco_gc *g = unreachable->gc_next; g != unreachable; g = g->gc_next)
            rcg_debug_print(rt, "collectable", rco_from_gc(g));
    rco_gc final;
    rco_gc_list_init(&final);
    size_t garbage;
    if (needs_user_code) {
        clear_weakrefs(rt, unreachable);
        run_finalizers(unreachable);
        /* Resurrection: what is still unreachable after the callbacks and
         * finalizers is the real garbage; the rest survives in the old
         * generation. Without user code nothing can be resurrected, and this
         * pass is skipped. */
        rcg_unreachable_info fi;
        deduce_unreachable(unreachable, &final, &fi, false);
        rco_gc_list_merge(unreachable, old);
        garbage = fi.count;
    } else {
        garbage = found;
        rco_gc_list_merge(unreachable, &final);
    }
    if (st->debug & RC_GC_DEBUG_SAVEALL) {
        keep_as_garbage(rt, &final, old);
        *collected = garbage;
    } else {
        *uncollectable = delete_garbage(rt, &final, old, false);
        *collected = garbage - *uncollectable;
    }
}

/* Steps 4-8 of a stop-the-world collection, after stw_deduce_unreachable:
 * process_garbage, except in the common case (no user code to run
 * before clear, no SAVEALL, no COLLECTABLE report), where the objects keep
 * their mark into delete_garbage. rt->gc_barrier is NULL meanwhile, so the
 * first refcount change of a marked object takes the mark off (object.c's
 * slow paths) and the marked objects need no pass of their own; a survivor
 * loses it in delete_garbage. Nothing else carries BARRIER then: no
 * incremental collection is in progress, and user code that runs inside
 * (finalizers of other objects freed by a clear) cannot start one while
 * rt->gc_collecting is set. */
static void stw_process_garbage(rc_runtime *rt, rco_gc *unreachable, const rcg_unreachable_info *ui,
                                rco_gc *old, size_t *collected, size_t *uncollectable) {
    rcg_state *st = rcg(rt);
    *collected = *uncollectable = 0;
    if (ui->count == 0)
        return;
    if (ui->needs_user_code || (st->debug & (RC_GC_DEBUG_SAVEALL | RC_GC_DEBUG_COLLECTABLE))) {
        stw_unmark(unreachable);
        process_garbage(rt, unreachable, ui->count, ui->needs_user_code, old, collected,
                        uncollectable);
        return;
    }
    bool (*barrier)(rc_runtime *, rc_obj *, bool) = rt->gc_barrier;
    rt->gc_barrier = NULL;
    rco_gc final;
    rco_gc_list_init(&final);
    rco_gc_list_merge(unreachable, &final);
    int depth = rco_dealloc_batch_begin(rt);
    *uncollectable = delete_garbage(rt, &final, old, true);
    rco_dealloc_batch_end(rt, depth);
    *collected = ui->count - *uncollectable;
    rt->gc_barrier = barrier;
}

/* ---- the start and the end of a collection ---- */

void rcg_invoke_callbacks(rc_runtime *rt, int phase, const rc_gc_info *info) {
    rcg_state *st = rcg(rt);
    for (size_t i = 0; i < st->ncallbacks; i++)
        st->callbacks[i].cb(rt, phase, info, st->callbacks[i].arg);
}

/* The adaptive young threshold after a young collection: young
 * collections that keep finding (almost) nothing double the allocations
 * between them, up to RCG_ADAPT_MAX times the configured threshold; one
 * that finds a tenth or more garbage halves them, down to the configured
 * one. A program that makes cyclic garbage steadily makes its young
 * collections find it, so the threshold stays low for it: the young
 * garbage waiting is at most RCG_ADAPT_MAX times the configured threshold
 * even when the garbage is under a hundredth of the allocations. */
static void rcg_adapt(rc_runtime *rt, rcg_state *st, const rcg_outcome *out) {
    size_t examined = out->survivors + out->found;
    size_t t = rt->threshold[0], base = st->young_base;
    if (examined < 64 || base == 0)
        return;
    if (out->found * RCG_ADAPT_SPARSE < examined) {
        size_t max = base * RCG_ADAPT_MAX;
        rt->threshold[0] = t >= max / 2 ? max : t * 2;
    } else if (out->found * RCG_ADAPT_RICH >= examined) {
        rt->threshold[0] = t / 2 > base ? t / 2 : base;
    }
}

void rcg_end_collection(rc_runtime *rt, const rcg_outcome *out) {
    rcg_state *st = rcg(rt);
    int generation = out->generation;
    if (st->adaptive && generation == 0 && out->steps == 0)
        rcg_adapt(rt, st, out);
    /* The full-collection rule (see rcg_choose_generation): survivors of a
     * generation-1 collection enter the oldest generation; a full one
     * restarts the count against what it left. */
    if (generation == 1) {
        st->long_lived_pending += out->survivors;
    } else if (generation == 2) {
        st->long_lived_pending = 0;
        st->long_lived_total = out->survivors;
    }
    st->stats[generation].collections++;
    st->stats[generation].collected += out->collected;
    st->stats[generation].uncollectable += out->uncollectable;
    if (st->debug & RC_GC_DEBUG_STATS) {
        FILE *f = rco_report_stream(rt);
        double elapsed = (double)(rci_os_clock_ns() - out->t0) / 1e9;
        if (out->steps == 0)
            fprintf(f, "gc: collecting generation %d: %zu unreachable, %zu collected, "
                       "%zu uncollectable, %.6fs elapsed\n",
                    generation, out->found, out->collected, out->uncollectable, elapsed);
        else
            fprintf(f, "gc: incremental collection of generation %d in %zu steps: "
                       "%zu unreachable, %zu collected, %zu uncollectable, %.6fs elapsed\n",
                    generation, out->steps, out->found, out->collected, out->uncollectable,
                    elapsed);
    }
    rc_gc_info info = { generation, out->collected, out->uncollectable };
    rcg_invoke_callbacks(rt, RC_GC_STOP, &info);
    /* a profiler in the process (recycle/annotate.h) */
    if (rc_annotate_gc_collection) {
        rc_annotate_gc a = {generation, out->collected, out->uncollectable,
                            rci_os_clock_ns() - out->t0, out->steps};
        rc_annotate_gc_collection(&a);
    }
}

long rcg_collect(rc_runtime *rt, int generation) {
    if (rt->gc_collecting)
        return 0;
    /* An incremental collection in progress is finished first: its set is
     * off the generation lists with state in its links, and the header mark
     * of this scan needs BARRIER free. */
    rcg_settle(rt);
    rt->gc_collecting = true;
    /* A collection is not the caller's operation: whatever fails inside it
     * (a finalizer's allocation, the garbage list) must not show up as the
     * error of the call that triggered it. */
    rco_error_state saved_err;
    rco_error_save(rt, &saved_err);
    rc_gc_info info = { generation, 0, 0 };
    rcg_invoke_callbacks(rt, RC_GC_START, &info);
    uint64_t t0 = rci_os_clock_ns();

    if (generation + 1 < 3)
        rt->gen_count[generation + 1]++;
    for (int i = 0; i <= generation; i++)
        rt->gen_count[i] = 0;
    for (int i = 0; i < generation; i++)
        rco_gc_list_merge(&rt->gen[i], &rt->gen[generation]);
    rco_gc *young = &rt->gen[generation];
    rco_gc *old = generation < 2 ? &rt->gen[generation + 1] : young;

    rco_gc unreachable;
    rco_gc_list_init(&unreachable);
    rcg_unreachable_info ui;
    /* generation 2 holds every tracked object once the younger ones are
     * merged in, unless some are frozen (on the permanent list) */
    bool whole = generation == 2 && rco_gc_list_empty(&rt->permanent);
    size_t examined = stw_deduce_unreachable(young, &unreachable, &ui, whole);

    /* Tuples of atoms can never be in a cycle: stop tracking them the first
     * time they are seen (in generation 0) rather than on every collection. */
    if (generation == 0)
        untrack_atomic_tuples(young);
    if (young != old)
        rco_gc_list_merge(young, old);

    rcg_outcome out = { .generation = generation, .survivors = examined - ui.count,
                        .found = ui.count, .t0 = t0 };
    stw_process_garbage(rt, &unreachable, &ui, old, &out.collected, &out.uncollectable);
    rcg_end_collection(rt, &out);
    rco_error_restore(rt, &saved_err);
    rt->gc_collecting = false;
    return (long)(out.collected + out.uncollectable);
}

/* ---- scheduling ---- */

int rcg_choose_generation(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    for (int g = 2; g >= 0; g--) {
        if (rt->gen_count[g] > rt->threshold[g]) {
            if (g == 2 && st->long_lived_pending < st->long_lived_total / 4)
                continue;   /* avoid quadratic behaviour (see gc.h) */
            if (g == 2) {
                /* long_lived_pending counts objects promoted into the oldest
                 * generation but never those that died there since (their
                 * generation is not known when they die), so programs that
                 * promote many short-lived objects would run full
                 * collections far too often. Check the real growth first:
                 * all tracked objects, less the frozen ones, less those that
                 * survived the last full collection. The young generations
                 * count as growth, which errs towards collecting. */
                size_t live = rt->tracked_count > rt->frozen_count ? rt->tracked_count - rt->frozen_count : 0;
                size_t growth = live > st->long_lived_total ? live - st->long_lived_total : 0;
                st->long_lived_pending = growth;
                if (growth < st->long_lived_total / 4) {
                    rt->gen_count[2] = 0;   /* look again after threshold[2] more */
                    continue;
                }
            }
            return g;
        }
    }
    return -1;
}

void rcg_collect_generations(rc_runtime *rt) {
    int g = rcg_choose_generation(rt);
    if (g >= 0)
        rcg_collect(rt, g);
}
