/* gc.h - the collector's state and internal entry points.
 *
 * The generation lists and counts live in the runtime (object layer), which
 * keeps them right as objects come and go; this layer adds the algorithm
 * (collect.c) and the gc API (api.c). Invariants between collections:
 *   - every tracked object's rco_gc is on exactly one of rt->gen[0..2] or
 *     rt->permanent, with plain pointers (no flag bits) in both links;
 *   - rt->gen_count[0] = tracked allocations - deallocations since the last
 *     generation-0 collection; gen_count[g] (g > 0) = collections of
 *     generation g-1 since the last collection of generation g.
 * During a collection the links of the objects being examined carry flag
 * bits (see collect.c); no other code runs on them then except through
 * traverse, which does not touch them. */
#ifndef RC_GC_GC_H
#define RC_GC_GC_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "object/object.h"
#include "recycle/gc.h"

typedef struct rcg_callback {
    rc_gc_callback cb;
    void *arg;
} rcg_callback;

typedef struct rcg_state {
    rc_gc_stats stats[3];
    unsigned debug;
    rc_obj *garbage;                 /* rc_list, created when first needed */
    rcg_callback *callbacks;
    size_t ncallbacks, capcallbacks;
    /* CPython's rule against quadratic full collections: a full collection
     * runs only when the objects that entered the oldest generation since
     * the last one are at least 25% of those that survived it. */
    size_t long_lived_total, long_lived_pending;
} rcg_state;

static inline rcg_state *rcg(rc_runtime *rt) {
    return (rcg_state *)rt->gc_state;
}

/* collect.c */
long rcg_collect(rc_runtime *rt, int generation);
void rcg_collect_generations(rc_runtime *rt);    /* the automatic trigger */
size_t rcg_list_size(const rco_gc *head);

/* api.c */
int rcg_attach(rc_runtime *rt);                   /* install state and hooks */

#endif /* RC_GC_GC_H */
