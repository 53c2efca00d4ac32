/* collect.c - the cycle collection algorithm (CPython's, in the order that
 * DESIGN.md fixes).
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
 * Link encoding during a collection (the CPython trick that needs no extra
 * memory per object): in gc_prev, bit 0 (COLLECTING) marks an object of the
 * generation being collected and, between update_refs and move_unreachable,
 * the rest of the word holds gc_refs << 1 instead of a pointer; in gc_next,
 * bit 0 (UNREACHABLE) marks objects moved to the unreachable list while
 * move_unreachable runs. Object blocks are 16-byte aligned, so bit 0 of a
 * real link is always 0. All bits are cleared again before any user code
 * (callbacks, finalizers, clear) runs.
 */
#include "gc/gc.h"
#include "heap/os/os.h"
#include "recycle/types.h"
#include "types/types.h"

#include <stdio.h>
#include <string.h>

#define COLLECTING ((uintptr_t)1)
#define UNREACHABLE ((uintptr_t)1)

static inline uintptr_t prev_word(const rco_gc *g) { return (uintptr_t)g->gc_prev; }
static inline uintptr_t next_word(const rco_gc *g) { return (uintptr_t)g->gc_next; }
static inline void set_prev_word(rco_gc *g, uintptr_t w) { g->gc_prev = (rco_gc *)w; }
static inline void set_next_word(rco_gc *g, uintptr_t w) { g->gc_next = (rco_gc *)w; }
static inline rco_gc *next_ptr(const rco_gc *g) { return (rco_gc *)(next_word(g) & ~UNREACHABLE); }

static inline bool is_collecting(const rco_gc *g) { return (prev_word(g) & COLLECTING) != 0; }
static inline size_t get_refs(const rco_gc *g) { return (size_t)(prev_word(g) >> 1); }
static inline void set_refs(rco_gc *g, size_t refs) { set_prev_word(g, ((uintptr_t)refs << 1) | COLLECTING); }
static inline void dec_refs(rco_gc *g) { set_prev_word(g, prev_word(g) - 2); }

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

/* ---- steps 1-3 ---- */

/* Returns the number of objects on the list. */
static size_t update_refs(rco_gc *list) {
    size_t n = 0;
    for (rco_gc *g = list->gc_next; g != list; g = g->gc_next) {
        rc_obj *o = rco_from_gc(g);
        __builtin_prefetch(g->gc_next->gc_next);
        set_refs(g, rco_refcount(o));
        n++;
    }
    return n;
}

static int visit_decref(rc_obj *child, void *arg) {
    (void)arg;
    rco_gc *g = as_tracked(child);
    if (g && is_collecting(g) && get_refs(g) > 0)
        dec_refs(g);
    return 0;
}

static void subtract_refs(rco_gc *list) {
    for (rco_gc *g = list->gc_next; g != list; g = next_ptr(g)) {
        rc_obj *o = rco_from_gc(g);
        __builtin_prefetch(next_ptr(g)->gc_next);
        if (o->rc_type_->traverse)
            o->rc_type_->traverse(o, visit_decref, NULL);
    }
}

/* Steps 1 and 2 in one pass, for a collection of every tracked object (none
 * frozen): a child reached before the scan reaches it gets its gc_refs from
 * its count on the spot, which needs no test of whether it belongs to the
 * collection. In a heap larger than the caches this saves a whole pass over
 * memory. Before it, no object has COLLECTING set (every collection ends
 * with plain links). */
static int visit_decref_whole(rc_obj *child, void *arg) {
    (void)arg;
    rco_gc *g = as_tracked_cold(child);
    if (!g)
        return 0;
    if (!is_collecting(g))
        set_refs(g, rco_refcount(child));
    if (get_refs(g) > 0)
        dec_refs(g);
    return 0;
}

static size_t update_subtract_whole(rco_gc *list) {
    size_t n = 0;
    /* gc_next stays a pointer throughout; only gc_prev words change */
    for (rco_gc *g = list->gc_next; g != list; g = g->gc_next) {
        rc_obj *o = rco_from_gc(g);
        __builtin_prefetch(g->gc_next->gc_next);
        if (!is_collecting(g))
            set_refs(g, rco_refcount(o));
        if (o->rc_type_->traverse)
            o->rc_type_->traverse(o, visit_decref_whole, NULL);
        n++;
    }
    return n;
}

static inline int visit_reachable_at(rco_gc *young, rco_gc *g) {
    if (!g || !is_collecting(g))
        return 0;                           /* another generation, or not ours */
    if (next_word(g) & UNREACHABLE) {
        /* Tentatively unreachable, but reachable after all: put it back at
         * the end of young, where the scan will reach it. */
        rco_gc *prev = (rco_gc *)(prev_word(g) & ~COLLECTING);
        rco_gc *next = next_ptr(g);
        set_next_word(prev, next_word(g));  /* keeps the flag: prev is unreachable too (or the head) */
        set_prev_word(next, (uintptr_t)prev | (prev_word(next) & COLLECTING));
        rco_gc *last = young->gc_prev;
        set_next_word(last, (uintptr_t)g);
        set_next_word(g, (uintptr_t)young);
        young->gc_prev = g;
        set_refs(g, 1);
    } else if (get_refs(g) == 0) {
        /* Not scanned yet; will be, and is reachable. */
        set_refs(g, 1);
    }
    return 0;
}

static int visit_reachable(rc_obj *child, void *arg) {
    return visit_reachable_at(arg, as_tracked(child));
}

static int visit_reachable_whole(rc_obj *child, void *arg) {
    return visit_reachable_at(arg, as_tracked_cold(child));
}

/* After update_refs and subtract_refs: move every object of young that is
 * not reachable from outside into unreachable. On return young is a normal
 * list of the reachable objects (flags cleared); unreachable is a normal list
 * too. */
typedef struct unreachable_info {
    size_t count;           /* objects moved to the unreachable list */
    bool needs_user_code;   /* one has weak references or an unrun finalizer */
} unreachable_info;

/* Unlink g (prev's successor) and append it to unreachable, whose links are
 * flagged UNREACHABLE; g's gc_prev becomes a pointer with COLLECTING kept. */
static inline void move_to_unreachable(rco_gc *prev, rco_gc *g, rco_gc *unreachable) {
    set_next_word(prev, next_word(g));
    rco_gc *last = unreachable->gc_prev;
    set_next_word(last, (uintptr_t)g | UNREACHABLE);
    set_prev_word(g, (uintptr_t)last | COLLECTING);
    set_next_word(g, (uintptr_t)unreachable | UNREACHABLE);
    unreachable->gc_prev = g;
}

static void move_unreachable(rco_gc *young, rco_gc *unreachable, unreachable_info *info,
                             rc_visitfn visit) {
    rco_gc *prev = young;
    rco_gc *g = young->gc_next;
    while (g != young) {
        __builtin_prefetch(g->gc_next);
        if (get_refs(g) > 0) {
            rc_obj *o = rco_from_gc(g);
            if (o->rc_type_->traverse)
                o->rc_type_->traverse(o, visit, young);
            set_prev_word(g, (uintptr_t)prev);    /* a pointer again; COLLECTING cleared */
            prev = g;
        } else {
            move_to_unreachable(prev, g, unreachable);
        }
        g = prev->gc_next;
    }
    young->gc_prev = prev;
    /* Normalise the unreachable list: plain pointers, no flags; note on the
     * way whether any user code (weakref callbacks, finalizers) must run. */
    set_next_word(unreachable, next_word(unreachable) & ~UNREACHABLE);
    rco_gc *p = unreachable;
    for (rco_gc *x = unreachable->gc_next; x != unreachable;) {
        rco_gc *next = next_ptr(x);
        set_next_word(x, (uintptr_t)next);
        set_prev_word(x, (uintptr_t)p);
        rc_obj *o = rco_from_gc(x);
        if ((o->rc_head_ & RCO_F_WEAKREFS) ||
            (o->rc_type_->finalize && !(o->rc_head_ & RCO_F_FINALIZED)))
            info->needs_user_code = true;
        info->count++;
        p = x;
        x = next;
    }
    unreachable->gc_prev = p;
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

/* Returns the number of objects young had; *info describes unreachable.
 * whole: young holds every tracked object of the runtime (a full collection
 * with nothing frozen). */
static size_t deduce_unreachable(rco_gc *young, rco_gc *unreachable, unreachable_info *info,
                                 bool whole) {
    size_t n;
    if (whole) {
        n = update_subtract_whole(young);
    } else {
        n = update_refs(young);
        subtract_refs(young);
    }
    info->count = 0;
    info->needs_user_code = false;
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

static bool garbage_append(rc_runtime *rt, rc_obj *o) {
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
        garbage_append(rt, rco_from_gc(g));
    }
}

static void debug_print(rc_runtime *rt, const char *what, rc_obj *o) {
    FILE *out = rco_report_stream(rt);
    char buf[160];
    rc_repr(rt, o, buf, sizeof buf);
    fprintf(out, "gc: %s <%s %p> %s\n", what, rc_type_name(o), (void *)o, buf);
}

/* Break the cycles; returns how many objects were uncollectable. */
static size_t delete_garbage(rc_runtime *rt, rco_gc *collectable, rco_gc *old) {
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
        }
        if (collectable->gc_next == g) {
            /* still alive: it may die when another member is cleared */
            rco_gc_list_remove(g);
            rco_gc_list_append(&survivors, g);
        }
    }
    size_t uncollectable = 0;
    for (rco_gc *g = survivors.gc_next; g != &survivors; g = g->gc_next) {
        rc_obj *o = rco_from_gc(g);
        uncollectable++;
        if (st->debug & RC_GC_DEBUG_UNCOLLECTABLE)
            debug_print(rt, "uncollectable", o);
    }
    keep_as_garbage(rt, &survivors, old);
    return uncollectable;
}

static void invoke_callbacks(rc_runtime *rt, int phase, const rc_gc_info *info) {
    rcg_state *st = rcg(rt);
    for (size_t i = 0; i < st->ncallbacks; i++)
        st->callbacks[i].cb(rt, phase, info, st->callbacks[i].arg);
}

/* Steps 4-8 for the found objects on unreachable (a normal list): weak
 * references, finalizers and the resurrection check when user code must run,
 * then clear (or SAVEALL). Survivors and uncollectables end up on old. */
static void process_garbage(rc_runtime *rt, rco_gc *unreachable, size_t found, bool needs_user_code,
                            rco_gc *old, size_t *collected, size_t *uncollectable) {
    rcg_state *st = rcg(rt);
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
        unreachable_info fi;
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
        *uncollectable = 0;
    } else {
        *uncollectable = delete_garbage(rt, &final, old);
        *collected = garbage - *uncollectable;
    }
}

long rcg_collect(rc_runtime *rt, int generation) {
    rcg_state *st = rcg(rt);
    if (rt->gc_collecting)
        return 0;
    rt->gc_collecting = true;
    /* A collection is not the caller's operation: whatever fails inside it
     * (a finalizer's allocation, the garbage list) must not show up as the
     * error of the call that triggered it. */
    rco_error_state saved_err;
    rco_error_save(rt, &saved_err);
    rc_gc_info info = { generation, 0, 0 };
    invoke_callbacks(rt, RC_GC_START, &info);
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
    unreachable_info ui;
    /* generation 2 holds every tracked object once the younger ones are
     * merged in, unless some are frozen (on the permanent list) */
    bool whole = generation == 2 && rco_gc_list_empty(&rt->permanent);
    size_t examined = deduce_unreachable(young, &unreachable, &ui, whole);
    size_t survivors = examined - ui.count;

    /* Tuples of atoms can never be in a cycle: stop tracking them the first
     * time they are seen (in generation 0) rather than on every collection. */
    if (generation == 0)
        untrack_atomic_tuples(young);
    if (young != old) {
        if (generation == 1)
            st->long_lived_pending += survivors;
        rco_gc_list_merge(young, old);
    } else {
        st->long_lived_pending = 0;
        st->long_lived_total = survivors;
    }

    size_t found = ui.count;
    size_t collected = 0, uncollectable = 0;
    if (found > 0) {
        if (st->debug & RC_GC_DEBUG_COLLECTABLE)
            for (rco_gc *g = unreachable.gc_next; g != &unreachable; g = g->gc_next)
                debug_print(rt, "collectable", rco_from_gc(g));
        process_garbage(rt, &unreachable, found, ui.needs_user_code, old, &collected, &uncollectable);
    }

    st->stats[generation].collections++;
    st->stats[generation].collected += collected;
    st->stats[generation].uncollectable += uncollectable;
    if (st->debug & RC_GC_DEBUG_STATS) {
        FILE *out = rco_report_stream(rt);
        fprintf(out, "gc: collecting generation %d: %zu unreachable, %zu collected, "
                     "%zu uncollectable, %.6fs elapsed\n",
                generation, found, collected, uncollectable,
                (double)(rci_os_clock_ns() - t0) / 1e9);
    }
    info.collected = collected;
    info.uncollectable = uncollectable;
    invoke_callbacks(rt, RC_GC_STOP, &info);
    rco_error_restore(rt, &saved_err);
    rt->gc_collecting = false;
    return (long)(collected + uncollectable);
}

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

/* ---------------------------------------------------------------------------
 * Incremental collections (the bounded-pause mode)
 *
 * A full collection over a large heap runs as a series of steps, each doing
 * at most st->inc_step objects' worth of work, between which the program
 * runs. The set S of objects examined is fixed when the collection starts
 * (generations 0-2, merged); objects created meanwhile go to generation 0,
 * outside S, and count as live. Correctness rests on one observation: every
 * change to the object graph changes a reference count. S's objects carry
 * RCO_F_BARRIER from their update step on, which sends their incref/decref
 * to the slow path and from there to rcg_on_barrier, which marks them DIRTY
 * (bit 1 of gc_prev). A dirty object is treated as referenced from outside:
 * it and everything it reaches survive this collection. That is
 * conservative and safe: an object can only become garbage by losing
 * references, and a reference can only be added to an object the program
 * reaches.
 *
 * The mutator must not change S's lists while the collector keeps state in
 * their links, so:
 *   - an object of S whose count reaches zero is not freed but deferred
 *     (st->deferred) and freed at the end of the collection;
 *   - an object of S not yet reached by the update step has plain links and
 *     can be freed normally; rt->gc_cursor keeps the step's position valid;
 *   - young collections do not run while an incremental collection is in
 *     progress: the allocation trigger runs a step instead.
 * The memory held back is what the program freed during one collection, and
 * the garbage created meanwhile, until the next one: it does not grow with
 * the heap (unlike a scheme that pulls everything reachable from an
 * increment into the current step).
 *
 * Phases: UPDATE (copy counts, set the barrier), SUBTRACT, MOVE (CPython's
 * move_unreachable, resumable: it keeps (prev, next) between steps), then one
 * atomic FINISH whose work is proportional to the garbage found (rescue of
 * dirty objects, weak references, finalizers, clear), then SWEEP, which
 * clears the barrier flag of the survivors in steps.
 * ------------------------------------------------------------------------- */

#define DIRTY ((uintptr_t)2)
#define INC_SHIFT 2

static inline size_t inc_get_refs(const rco_gc *g) { return (size_t)(prev_word(g) >> INC_SHIFT); }
static inline void inc_set_refs(rco_gc *g, size_t refs, uintptr_t keep) {
    set_prev_word(g, ((uintptr_t)refs << INC_SHIFT) | COLLECTING | keep);
}

bool rcg_on_barrier(rc_runtime *rt, rc_obj *o, bool zero) {
    rcg_state *st = rcg(rt);
    if (st->phase != RCG_UPDATE && st->phase != RCG_SUBTRACT && st->phase != RCG_MOVE) {
        o->rc_head_ &= ~RCO_F_BARRIER;       /* a leftover of the last collection */
        return false;
    }
    rco_gc *g = rco_gc_of(o);
    uintptr_t pw = prev_word(g);
    if (pw & COLLECTING)
        set_prev_word(g, pw | DIRTY);
    if (!zero)
        return false;
    if (st->ndeferred == st->capdeferred) {
        size_t cap = st->capdeferred ? st->capdeferred * 2 : 256;
        rc_obj **n = rc_realloc(st->deferred, cap * sizeof *n);
        if (!n)
            return true;   /* kept with count 0: the next collection frees it */
        st->deferred = n;
        st->capdeferred = cap;
    }
    st->deferred[st->ndeferred++] = o;
    return true;
}

static int inc_visit_decref(rc_obj *child, void *arg) {
    (void)arg;
    rco_gc *g = as_tracked(child);
    if (g && is_collecting(g) && inc_get_refs(g) > 0)
        set_prev_word(g, prev_word(g) - ((uintptr_t)1 << INC_SHIFT));
    return 0;
}

static int inc_visit_reachable(rc_obj *child, void *arg) {
    rco_gc *set = arg;
    rco_gc *g = as_tracked(child);
    if (!g || !is_collecting(g))
        return 0;
    if (next_word(g) & UNREACHABLE) {
        rco_gc *prev = (rco_gc *)(prev_word(g) & ~(COLLECTING | DIRTY));
        rco_gc *next = next_ptr(g);
        set_next_word(prev, next_word(g));
        set_prev_word(next, (uintptr_t)prev | (prev_word(next) & (COLLECTING | DIRTY)));
        rco_gc *last = set->gc_prev;
        set_next_word(last, (uintptr_t)g);
        set_next_word(g, (uintptr_t)set);
        set->gc_prev = g;
        inc_set_refs(g, 1, 0);
    } else if (inc_get_refs(g) == 0) {
        inc_set_refs(g, 1, prev_word(g) & DIRTY);
    }
    return 0;
}

void rcg_inc_start(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    rc_gc_info info = { 2, 0, 0 };
    invoke_callbacks(rt, RC_GC_START, &info);
    for (int i = 0; i < 3; i++) {
        rco_gc_list_merge(&rt->gen[i], &st->set);
        rt->gen_count[i] = 0;
    }
    rco_gc_list_init(&st->unreachable);
    st->ndeferred = 0;
    st->set_count = 0;
    st->inc_t0 = rci_os_clock_ns();
    st->inc_steps = 0;
    st->phase = RCG_UPDATE;
    rt->gc_cursor = st->set.gc_next;
}

/* The atomic end: rescue what the program touched, then treat the garbage
 * as a stop-the-world collection does. */
static void inc_finish(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    rco_gc *old = &rt->gen[2];
    /* gc_prev of the unreachable objects: prev pointer | COLLECTING [| DIRTY].
     * Turn the list into update_refs' state, counting a dirty object as
     * referenced from outside, and run subtract/move over it. */
    set_next_word(&st->unreachable, next_word(&st->unreachable) & ~UNREACHABLE);
    for (rco_gc *x = st->unreachable.gc_next; x != &st->unreachable;) {
        rco_gc *next = next_ptr(x);
        size_t extra = (prev_word(x) & DIRTY) ? 1 : 0;
        set_next_word(x, (uintptr_t)next);
        set_refs(x, rco_refcount(rco_from_gc(x)) + extra);
        x = next;
    }
    rco_gc unreachable;
    rco_gc_list_init(&unreachable);
    unreachable_info ui = { 0, false };
    st->phase = RCG_IDLE;     /* from here on the lists are the collector's alone */
    rt->gc_cursor = NULL;
    rt->gc_collecting = true;
    subtract_refs(&st->unreachable);
    move_unreachable(&st->unreachable, &unreachable, &ui, visit_reachable);
    /* survivors: the set (normal since MOVE finished) and the rescued */
    size_t found = ui.count;
    size_t survivors = st->set_count - found;
    rco_gc_list_merge(&st->set, old);
    rco_gc_list_merge(&st->unreachable, old);
    st->long_lived_pending = 0;
    st->long_lived_total = survivors;

    size_t collected = 0, uncollectable = 0;
    if (found > 0) {
        process_garbage(rt, &unreachable, found, ui.needs_user_code, old, &collected, &uncollectable);
    }
    /* Objects of the set whose count reached zero during the collection. */
    for (size_t i = 0; i < st->ndeferred; i++) {
        rc_obj *o = st->deferred[i];
        o->rc_head_ &= ~RCO_F_BARRIER;
        if (rco_refcount(o) == 0 && !(o->rc_head_ & (RCO_F_FREED | RCO_F_QUEUED)))
            rco_dealloc(o);
    }
    st->ndeferred = 0;
    rt->gc_collecting = false;

    st->stats[2].collections++;
    st->stats[2].collected += collected;
    st->stats[2].uncollectable += uncollectable;
    if (st->debug & RC_GC_DEBUG_STATS) {
        FILE *out = rco_report_stream(rt);
        fprintf(out, "gc: incremental collection of generation 2 in %zu steps: %zu unreachable, "
                     "%zu collected, %zu uncollectable, %.6fs elapsed\n",
                st->inc_steps, found, collected, uncollectable,
                (double)(rci_os_clock_ns() - st->inc_t0) / 1e9);
    }
    rc_gc_info info = { 2, collected, uncollectable };
    invoke_callbacks(rt, RC_GC_STOP, &info);
    /* The survivors still carry the barrier flag: clear it in steps. */
    st->phase = RCG_SWEEP;
    rt->gc_cursor = old->gc_next;
}

void rcg_inc_step(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    if (st->phase == RCG_IDLE || rt->gc_collecting)
        return;
    rco_error_state saved_err;
    rco_error_save(rt, &saved_err);
    size_t budget = st->inc_step ? st->inc_step : SIZE_MAX;
    st->inc_steps++;
    rt->gc_collecting = true;    /* no collection starts from user code in a step */
    switch (st->phase) {
    case RCG_UPDATE: {
        rco_gc *g = rt->gc_cursor;
        for (size_t k = 0; k < budget && g != &st->set; k++) {
            rc_obj *o = rco_from_gc(g);
            rco_gc *next = g->gc_next;
            inc_set_refs(g, rco_refcount(o), 0);
            o->rc_head_ |= RCO_F_BARRIER;
            st->set_count++;
            g = next;
        }
        rt->gc_cursor = g;
        if (g == &st->set) {
            st->phase = RCG_SUBTRACT;
            rt->gc_cursor = st->set.gc_next;
        }
        break;
    }
    case RCG_SUBTRACT: {
        rco_gc *g = rt->gc_cursor;
        for (size_t k = 0; k < budget && g != &st->set; k++) {
            rc_obj *o = rco_from_gc(g);
            if (o->rc_type_->traverse)
                o->rc_type_->traverse(o, inc_visit_decref, NULL);
            g = g->gc_next;
        }
        rt->gc_cursor = g;
        if (g == &st->set) {
            st->phase = RCG_MOVE;
            st->move_prev = &st->set;
            rt->gc_cursor = NULL;
        }
        break;
    }
    case RCG_MOVE: {
        rco_gc *set = &st->set, *unreachable = &st->unreachable;
        rco_gc *prev = st->move_prev;
        rco_gc *g = prev->gc_next;
        for (size_t k = 0; k < budget && g != set; k++) {
            if (inc_get_refs(g) > 0 || (prev_word(g) & DIRTY)) {
                rc_obj *o = rco_from_gc(g);
                if (o->rc_type_->traverse)
                    o->rc_type_->traverse(o, inc_visit_reachable, set);
                set_prev_word(g, (uintptr_t)prev);
                prev = g;
            } else {
                move_to_unreachable(prev, g, unreachable);
            }
            g = prev->gc_next;
        }
        st->move_prev = prev;
        if (g == set) {
            set->gc_prev = prev;
            rt->gc_collecting = false;
            inc_finish(rt);
            rt->gc_collecting = true;
        }
        break;
    }
    case RCG_SWEEP: {
        rco_gc *old = &rt->gen[2];
        rco_gc *g = rt->gc_cursor;
        for (size_t k = 0; k < budget && g != old; k++) {
            rco_from_gc(g)->rc_head_ &= ~RCO_F_BARRIER;
            g = g->gc_next;
        }
        rt->gc_cursor = g;
        if (g == old) {
            st->phase = RCG_IDLE;
            rt->gc_cursor = NULL;
        }
        break;
    }
    case RCG_IDLE:
        break;
    }
    rt->gc_collecting = false;
    rco_error_restore(rt, &saved_err);
}

void rcg_inc_complete(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    size_t saved = st->inc_step;
    st->inc_step = 0;           /* unbounded steps: finish now */
    while (st->phase != RCG_IDLE && !rt->gc_collecting)
        rcg_inc_step(rt);
    st->inc_step = saved;
}
