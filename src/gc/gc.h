/* gc.h - the collector's state and internal entry points.
 *
 * The generation lists and counts live in the runtime (object layer), which
 * keeps them right as objects come and go; this layer adds the algorithm
 * (collect.c), its incremental mode (incremental.c) and the gc API (api.c);
 * what the first two share is in collect.h. Invariants between collections:
 *   - every tracked object's rco_gc is on exactly one of rt->gen[0..2] or
 *     rt->permanent, with plain pointers (no flag bits) in both links;
 *   - rt->gen_count[0] = tracked allocations - deallocations since the last
 *     generation-0 collection; gen_count[g] (g > 0) = collections of
 *     generation g-1 since the last collection of generation g.
 * During a collection the links of the objects being examined carry flag
 * bits (see collect.h); no other code runs on them then except through
 * traverse, which does not touch them. While an incremental collection is
 * in progress (phase != RCG_IDLE) the program runs between its steps, and
 * its set's objects are on st->set, not on a generation list. */
#ifndef RC_GC_GC_H
#define RC_GC_GC_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/htable.h"
#include "object/object.h"
#include "recycle/gc.h"

typedef struct rcg_callback {
    rc_gc_callback cb;
    void *arg;
} rcg_callback;

/* Phases of an incremental (bounded-pause) full collection; see
 * incremental.c. */
typedef enum rcg_phase {
    RCG_IDLE = 0, RCG_UPDATE, RCG_SUBTRACT, RCG_MOVE,
    RCG_DEFERRED, RCG_WEAKREFS, RCG_CALLBACKS, RCG_FINALIZE, RCG_RECOUNT, RCG_CLEAR, RCG_LEFTOVER,
    RCG_SWEEP
} rcg_phase;

typedef struct rcg_state {
    rc_gc_stats stats[3];
    unsigned debug;
    rc_obj *garbage;                 /* rc_list made with the runtime; NULL once teardown dropped it */
    rcg_callback *callbacks;
    size_t ncallbacks, capcallbacks;
    /* CPython's rule against quadratic full collections: a full collection
     * runs only when the objects that entered the oldest generation since
     * the last one are at least 25% of those that survived it. */
    size_t long_lived_total, long_lived_pending;
    /* incremental mode: objects per step (0: off) and the collection in
     * progress */
    size_t inc_step;
    unsigned inc_step_us;            /* and microseconds per step (0: no bound) */
    rcg_phase phase;
    rco_gc set;                      /* the objects being collected */
    rco_gc unreachable;              /* MOVE: tentatively unreachable; then G, the garbage */
    rco_gc *move_prev;               /* MOVE: last object kept in set */
    size_t set_count;
    rc_obj **deferred;               /* objects whose count reached zero meanwhile */
    size_t ndeferred, capdeferred, deferred_done;
    rco_gc rescued;                  /* left G, not yet traversed */
    rco_gc *gcur;                    /* the garbage phases' cursor in G */
    rco_weakref_chain pending;       /* weak reference callbacks to run */
    size_t g_found, g_rescued, g_uncollectable;
    bool has_finalizers;             /* G has an object whose finalizer has not run */
    bool internal;                   /* the collector's own count changes on G */
    rci_htable touched;              /* G objects user code changed: object -> count left */
    uint64_t inc_t0;
    size_t inc_steps;
    /* The adaptive young threshold (rc_gc_set_adaptive): while on,
     * threshold[0] moves between young_base and young_base * RCG_ADAPT_MAX
     * by what young collections find (rcg_adapt). */
    bool adaptive;
    size_t young_base;
    /* objgraph's growth: the highest count seen per type name, sorted by
     * name (each name a copy) */
    struct rcg_peak *peaks;
    size_t npeaks, cappeaks;
} rcg_state;

static inline rcg_state *rcg(rc_runtime *rt) {
    return (rcg_state *)rt->gc_state;
}

/* How far the adaptive young threshold may grow, as a multiple of the
 * configured one, and the share of garbage below which a young collection
 * counts as having found nothing (1/RCG_ADAPT_SPARSE) and above which it
 * brings the threshold back down (1/RCG_ADAPT_RICH). */
#define RCG_ADAPT_MAX 256
#define RCG_ADAPT_SPARSE 100
#define RCG_ADAPT_RICH 10

/* collect.c */
long rcg_collect(rc_runtime *rt, int generation);
void rcg_collect_generations(rc_runtime *rt);    /* the automatic trigger */
int rcg_choose_generation(rc_runtime *rt);       /* -1: none due */
size_t rcg_list_size(const rco_gc *head);

/* incremental.c */
void rcg_inc_start(rc_runtime *rt);               /* START callbacks, fix the set */
void rcg_inc_step(rc_runtime *rt);                /* one bounded step */
void rcg_inc_complete(rc_runtime *rt);            /* run the steps to the end */
bool rcg_on_barrier(rc_runtime *rt, rc_obj *o, bool zero);   /* rt->gc_barrier */
bool rcg_is_doomed(rc_runtime *rt, const rc_obj *o);          /* rt->gc_doomed */

/* api.c */
int rcg_attach(rc_runtime *rt);                   /* install state and hooks */
/* Let a pending incremental collection finish: anything that looks at the
 * generation lists calls this first. */
void rcg_settle(rc_runtime *rt);

/* objgraph.c */
void rcg_objgraph_free(rcg_state *st);            /* growth's peaks, at teardown */

#endif /* RC_GC_GC_H */
