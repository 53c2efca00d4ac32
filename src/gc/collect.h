/* collect.h - what the stop-the-world collector (collect.c) and the
 * bounded-pause mode (incremental.c) share: the encoding of a collection's
 * state in the objects' own links, the steps of the algorithm that both run,
 * and the end of a collection. Internal to src/gc/.
 *
 * Link encoding while steps 1-3 run (no extra memory per object, CPython's
 * trick). Links are at least 8-byte aligned (a container's rco_gc is 8
 * bytes into a var object's block, at its start otherwise; list heads are
 * structs of pointers), so the three low bits of a real link are 0 and can
 * carry flags:
 *
 *   gc_prev  | gc_refs (bits 2..63) | DIRTY (bit 1) | COLLECTING (bit 0) |
 *   gc_next  | pointer                              | UNREACHABLE (bit 0) |
 *
 *   COLLECTING   the object belongs to the set being collected; from
 *                update_refs until move_unreachable has passed it, the rest
 *                of gc_prev is a count (gc_refs), not a pointer.
 *   DIRTY        incremental mode only: the program changed the object's
 *                count while the collection was in progress, so it counts as
 *                referenced from outside (see incremental.c). A stop-the-world
 *                collection never sets it, so for it the bit is always 0.
 *   UNREACHABLE  the object is on the tentatively unreachable list that
 *                move_unreachable builds; gc_prev is then a pointer again
 *                (with COLLECTING kept, DIRTY possibly set).
 *
 * Every flag is cleared, and both links are plain pointers again, before any
 * user code (callbacks, finalizers, clear) runs.
 */
#ifndef RC_GC_COLLECT_H
#define RC_GC_COLLECT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "gc/gc.h"

#define RCG_COLLECTING  ((uintptr_t)1)
#define RCG_DIRTY       ((uintptr_t)2)
#define RCG_PREV_FLAGS  (RCG_COLLECTING | RCG_DIRTY)
#define RCG_UNREACHABLE ((uintptr_t)1)
#define RCG_REFS_SHIFT  2
#define RCG_ONE_REF     ((uintptr_t)1 << RCG_REFS_SHIFT)

_Static_assert(RCO_COUNT_MASK <= (UINTPTR_MAX >> RCG_REFS_SHIFT), "gc_refs fits beside the flags");

static inline uintptr_t rcg_prev_word(const rco_gc *g) { return (uintptr_t)g->gc_prev; }
static inline uintptr_t rcg_next_word(const rco_gc *g) { return (uintptr_t)g->gc_next; }
static inline void rcg_set_prev_word(rco_gc *g, uintptr_t w) { g->gc_prev = (rco_gc *)w; }
static inline void rcg_set_next_word(rco_gc *g, uintptr_t w) { g->gc_next = (rco_gc *)w; }
static inline rco_gc *rcg_next_ptr(const rco_gc *g) {
    return (rco_gc *)(rcg_next_word(g) & ~RCG_UNREACHABLE);
}

static inline bool rcg_is_collecting(const rco_gc *g) {
    return (rcg_prev_word(g) & RCG_COLLECTING) != 0;
}
static inline size_t rcg_get_refs(const rco_gc *g) {
    return (size_t)(rcg_prev_word(g) >> RCG_REFS_SHIFT);
}
/* gc_refs = refs, the object not dirty */
static inline void rcg_set_refs(rco_gc *g, size_t refs) {
    rcg_set_prev_word(g, ((uintptr_t)refs << RCG_REFS_SHIFT) | RCG_COLLECTING);
}
/* gc_refs - 1 (gc_refs > 0), flags kept */
static inline void rcg_dec_refs(rco_gc *g) {
    rcg_set_prev_word(g, rcg_prev_word(g) - RCG_ONE_REF);
}
/* Before move_unreachable passes it: is the object referenced from outside
 * the set (gc_refs > 0) or touched by the program (dirty)? Either makes it a
 * root of the reachable part. */
static inline bool rcg_has_outside_refs(const rco_gc *g) {
    return rcg_prev_word(g) > RCG_COLLECTING;     /* a bit above COLLECTING is set */
}

/* ---- steps of collect.c that the incremental mode runs in slices ---- */

/* Step 2 over the objects of list from `from` on, at most budget of them;
 * returns the next object to do (list when the step is complete). */
rco_gc *rcg_subtract_refs(rco_gc *list, rco_gc *from, size_t budget);

/* Step 3's scan of young from prev's successor on, at most budget objects:
 * a root (rcg_has_outside_refs) is kept and traversed, which brings back
 * what it reaches from the tentatively unreachable list; any other object
 * goes to that list (flagged links). Returns the last object kept; the scan
 * is complete when that object's successor is young, and young is then a
 * normal list of the reachable objects. */
rco_gc *rcg_move_unreachable(rco_gc *young, rco_gc *prev, rco_gc *unreachable, size_t budget);

/* What step 3 does to an object a kept one references: g (of the set, not
 * yet passed by the scan, or on the tentatively unreachable list) becomes a
 * root the scan will reach; one on the unreachable list goes back to the
 * end of young. Safe between steps of a bounded scan. */
void rcg_reach(rco_gc *young, rco_gc *g);

void rcg_invoke_callbacks(rc_runtime *rt, int phase, const rc_gc_info *info);

/* Append o to rc_gc_garbage's list; false when there is none (teardown) or
 * no memory for it. */
bool rcg_garbage_append(rc_runtime *rt, rc_obj *o);
/* The DEBUG_COLLECTABLE / DEBUG_UNCOLLECTABLE line about o. */
void rcg_debug_print(rc_runtime *rt, const char *what, rc_obj *o);

/* What a collection did, for its end. */
typedef struct rcg_outcome {
    int generation;         /* the oldest generation collected */
    size_t survivors;       /* objects examined that were reachable */
    size_t found;           /* unreachable objects found */
    size_t collected, uncollectable;
    size_t steps;           /* incremental steps; 0 for a stop-the-world collection */
    uint64_t t0;            /* rci_os_clock_ns() when it started */
} rcg_outcome;

/* The end of every collection, in either mode: statistics, the long-lived
 * counts behind the full-collection rule, the DEBUG_STATS line and the STOP
 * callbacks. Called with rt->gc_collecting set: the collection is still in
 * progress for the callbacks, so their rc_gc_collect does nothing. */
void rcg_end_collection(rc_runtime *rt, const rcg_outcome *out);

#endif /* RC_GC_COLLECT_H */
