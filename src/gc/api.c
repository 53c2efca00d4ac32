/* api.c - the gc module's API, the runtime constructor that attaches the
 * collector, and the hooks the object layer calls upward through.
 *
 * rc_runtime_new / rc_runtime_free are defined here rather than in the
 * object layer: the object layer may not call the collector directly (a
 * lower layer never calls a higher one), so creating a runtime is "make the
 * object runtime, then attach the collector's state and hooks".
 *
 * Allocating frames: the functions that make a list for their caller
 * (rc_gc_get_objects, rc_gc_get_referrers, rc_gc_get_referents, and
 * rc_runtime_new, which makes the garbage list that rc_gc_garbage returns)
 * are RCI_ALLOC_FRAME (heap/private.h), and the helpers between them and the
 * types layer are RCI_INLINE, so that a tracer drops their frames and frame
 * 0 of those lists and their buffers is the code that called the gc layer
 * (docs/trace.md, "Objects"). The collection is not marked: the garbage
 * list's buffer, grown while a collection saves garbage (collect.c), has
 * the collector's function as frame 0, and what finalizers and callbacks
 * allocate starts at them. */
#include "gc/gc.h"
#include "recycle/types.h"

#include <string.h>

/* ---- hooks ---- */

static void on_alloc(rc_runtime *rt) {
    if (!rt->gc_enabled || rt->gc_collecting || rt->threshold[0] == 0 ||
        rt->gen_count[0] <= rt->threshold[0])
        return;
    rcg_state *st = rcg(rt);
    /* While an incremental collection is in progress, each trigger runs one
     * of its steps instead of a young collection (all that is left of it
     * when the mode was turned off from inside one of its steps). */
    if (st->phase != RCG_IDLE) {
        rt->gen_count[0] = 0;
        if (st->inc_step == 0)
            rcg_inc_complete(rt);
        else
            rcg_inc_step(rt);
        return;
    }
    if (st->inc_step == 0) {
        rcg_collect_generations(rt);
        return;
    }
    int g = rcg_choose_generation(rt);
    if (g == 2) {
        rcg_inc_start(rt);
        rcg_inc_step(rt);
    } else if (g >= 0) {
        rcg_collect(rt, g);
    }
}

void rcg_settle(rc_runtime *rt) {
    if (rt->gc_state && rcg(rt)->phase != RCG_IDLE)
        rcg_inc_complete(rt);
}

static void on_emergency(rc_runtime *rt) {
    rcg_settle(rt);
    rcg_collect(rt, 2);
}

static void on_final(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    rcg_settle(rt);
    /* Drop the garbage list first, so that what only it kept alive can be
     * collected, then collect everything (finalizers run). */
    if (st->garbage) {
        rc_obj *g = st->garbage;
        st->garbage = NULL;
        rt->internal_objects = 0;
        rco_decref(g);
    }
    rco_gc_list_merge(&rt->permanent, &rt->gen[2]);
    rt->frozen_count = 0;
    st->debug &= ~RC_GC_DEBUG_SAVEALL;
    rcg_collect(rt, 2);
    /* A second pass collects what finalizers of the first left behind. */
    rcg_collect(rt, 2);
    if (st->garbage) {
        rc_obj *g = st->garbage;
        st->garbage = NULL;
        rco_decref(g);
    }
}

static void on_teardown(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    if (!st)
        return;
    rc_free(st->callbacks);
    rc_free(st->deferred);
    rci_htable_free(&st->touched);
    rcg_objgraph_free(st);
    rc_free(st);
    rt->gc_state = NULL;
}

int rcg_attach(rc_runtime *rt) {
    rcg_state *st = rc_calloc(1, sizeof *st);
    if (!st)
        return RC_ENOMEM;
    rt->gc_state = st;
    rt->gc_on_alloc = on_alloc;
    rt->gc_emergency = on_emergency;
    rt->gc_final = on_final;
    rt->gc_teardown = on_teardown;
    rt->gc_barrier = rcg_on_barrier;
    rt->gc_doomed = rcg_is_doomed;
    rco_gc_list_init(&st->set);
    rco_gc_list_init(&st->unreachable);
    rco_gc_list_init(&st->rescued);
    rci_htable_init(&st->touched);
    /* The adaptive young threshold is the default policy; thresholds given
     * in the runtime's configuration are the caller's numbers, used as
     * given (as after rc_gc_set_threshold). */
    st->adaptive = rt->config.gc_threshold[0] == 0;
    st->young_base = rt->threshold[0];
    return 0;
}

RCI_ALLOC_FRAME rc_runtime *rc_runtime_new(const rc_config *config) {
    rc_runtime *rt = rco_runtime_create(config);
    if (!rt)
        return NULL;
    if (rcg_attach(rt) != 0) {
        rco_runtime_destroy(rt);
        return NULL;
    }
    /* The garbage list exists from the start (as gc.garbage does), so that
     * looking at it changes nothing; it is the library's, not counted in
     * rc_runtime_object_count. */
    rcg_state *st = rcg(rt);
    st->garbage = rc_list(rt);
    if (!st->garbage) {
        rco_runtime_destroy(rt);
        return NULL;
    }
    rt->internal_objects++;
    rt->gen_count[0]--;          /* nor does it count towards the first collection */
    return rt;
}

void rc_runtime_free(rc_runtime *rt) {
    rco_runtime_destroy(rt);
}

/* ---- the gc API ---- */

long rc_gc_collect(rc_runtime *rt, int generation) {
    if (!rt)
        return RC_EINVAL;
    if (generation < 0 || generation > 2)
        return rco_err(rt, RC_EINVAL, "rc_gc_collect: generation must be 0, 1 or 2, not %d", generation);
    if (rt->gc_collecting)
        return 0;
    rcg_settle(rt);
    return rcg_collect(rt, generation);
}

void rc_gc_enable(rc_runtime *rt) {
    if (rt)
        rt->gc_enabled = true;
}

void rc_gc_disable(rc_runtime *rt) {
    if (rt)
        rt->gc_enabled = false;
}

int rc_gc_isenabled(const rc_runtime *rt) {
    return rt && rt->gc_enabled ? 1 : 0;
}

void rc_gc_get_count(const rc_runtime *rt, size_t count[3]) {
    for (int i = 0; i < 3; i++)
        count[i] = rt ? rt->gen_count[i] : 0;
}

void rc_gc_set_threshold(rc_runtime *rt, size_t t0, size_t t1, size_t t2) {
    if (!rt)
        return;
    /* the caller's numbers, used as given */
    rcg(rt)->adaptive = false;
    rt->threshold[0] = t0;
    rt->threshold[1] = t1;
    rt->threshold[2] = t2;
}

void rc_gc_get_threshold(const rc_runtime *rt, size_t t[3]) {
    for (int i = 0; i < 3; i++)
        t[i] = rt ? rt->threshold[i] : 0;
    /* Python's meaning: the configured threshold, not where the adaptive
     * policy has it now */
    if (rt && rcg((rc_runtime *)rt)->adaptive)
        t[0] = rcg((rc_runtime *)rt)->young_base;
}

void rc_gc_set_adaptive(rc_runtime *rt, int on) {
    if (!rt)
        return;
    rcg_state *st = rcg(rt);
    if (on && !st->adaptive) {
        st->young_base = rt->threshold[0];
        st->adaptive = true;
    } else if (!on && st->adaptive) {
        rt->threshold[0] = st->young_base;
        st->adaptive = false;
    }
}

int rc_gc_get_adaptive(const rc_runtime *rt) {
    return rt && rcg((rc_runtime *)rt)->adaptive ? 1 : 0;
}

size_t rc_gc_get_young_threshold(const rc_runtime *rt) {
    return rt ? rt->threshold[0] : 0;
}

void rc_gc_get_stats(const rc_runtime *rt, rc_gc_stats stats[3]) {
    for (int i = 0; i < 3; i++) {
        if (rt && rt->gc_state)
            stats[i] = ((const rcg_state *)rt->gc_state)->stats[i];
        else
            memset(&stats[i], 0, sizeof stats[i]);
    }
}

RCI_INLINE int append_list(rc_runtime *rt, rc_obj *list, rco_gc *head) {
    for (rco_gc *g = head->gc_next; g != head; g = g->gc_next) {
        rc_obj *o = rco_from_gc(g);
        if (o == list)
            continue;
        int r = rc_list_append(rt, list, o);
        if (r)
            return r;
    }
    return 0;
}

RCI_ALLOC_FRAME rc_obj *rc_gc_get_objects(rc_runtime *rt, int generation) {
    if (!rt)
        return NULL;
    rcg_settle(rt);
    if (generation < -1 || generation > 2)
        return rco_err_null(rt, RC_EINVAL, "rc_gc_get_objects: generation must be -1..2, not %d",
                            generation);
    rc_obj *list = rc_list(rt);
    if (!list)
        return NULL;
    for (int g = 0; g < 3; g++) {
        if (generation >= 0 && g != generation)
            continue;
        if (append_list(rt, list, &rt->gen[g]) != 0) {
            rco_decref(list);
            return NULL;
        }
    }
    return list;
}

int rc_gc_is_tracked(const rc_obj *o) {
    return o && (o->rc_head_ & RCO_F_TRACKED) ? 1 : 0;
}

int rc_gc_is_finalized(const rc_obj *o) {
    return o && (o->rc_head_ & RCO_F_FINALIZED) ? 1 : 0;
}

void rc_gc_untrack(rc_obj *o) {
    if (o && !rco_is_static(o)) {
        rcg_settle(rco_runtime(o));
        rco_untrack(o);
    }
}

void rc_gc_track(rc_obj *o) {
    if (o && (o->rc_head_ & RCO_F_GC) && !rco_is_static(o) && !(o->rc_head_ & RCO_F_FREED)) {
        rcg_settle(rco_runtime(o));
        rco_track(rco_runtime(o), o);
    }
}

typedef struct referrer_ctx { rc_obj *target; bool found; } referrer_ctx;

static int visit_find(rc_obj *child, void *arg) {
    referrer_ctx *c = arg;
    if (child == c->target) {
        c->found = true;
        return 1;
    }
    return 0;
}

RCI_ALLOC_FRAME rc_obj *rc_gc_get_referrers(rc_runtime *rt, rc_obj *o) {
    if (!rt)
        return NULL;
    rcg_settle(rt);
    if (!o)
        return rco_err_null(rt, RC_EINVAL, "rc_gc_get_referrers: NULL object");
    rc_obj *list = rc_list(rt);
    if (!list)
        return NULL;
    for (int g = 0; g < 3; g++) {
        for (rco_gc *x = rt->gen[g].gc_next; x != &rt->gen[g]; x = x->gc_next) {
            rc_obj *c = rco_from_gc(x);
            if (c == list || !c->rc_type_->traverse)
                continue;
            referrer_ctx ctx = { o, false };
            c->rc_type_->traverse(c, visit_find, &ctx);
            if (ctx.found && rc_list_append(rt, list, c) != 0) {
                rco_decref(list);
                return NULL;
            }
        }
    }
    return list;
}

typedef struct referent_ctx { rc_runtime *rt; rc_obj *list; size_t n; int err; } referent_ctx;

static int visit_count(rc_obj *child, void *arg) {
    referent_ctx *c = arg;
    if (child)
        c->n++;
    return 0;
}

static int visit_collect(rc_obj *child, void *arg) {
    referent_ctx *c = arg;
    if (!child)
        return 0;
    c->err = rc_list_append(c->rt, c->list, child);
    return c->err != 0;
}

/* The list is made at its final size here rather than grown by
 * visit_collect: the visitor runs under the type's traverse, which is not an
 * allocating frame (it may be the program's own), so a buffer grown there
 * would have that traverse as frame 0. The price is a second traverse (one
 * that reports more children the second time still gets them all: the list
 * then grows in visit_collect). */
RCI_ALLOC_FRAME rc_obj *rc_gc_get_referents(rc_runtime *rt, rc_obj *o) {
    if (!rt)
        return NULL;
    if (!o)
        return rco_err_null(rt, RC_EINVAL, "rc_gc_get_referents: NULL object");
    int (*traverse)(rc_obj *, rc_visitfn, void *) = o->rc_type_->traverse;
    referent_ctx ctx = { rt, NULL, 0, 0 };
    if (traverse)
        traverse(o, visit_count, &ctx);
    rc_obj *list = rc_list_with_capacity(rt, ctx.n);
    if (!list)
        return NULL;
    if (traverse) {
        ctx.list = list;
        traverse(o, visit_collect, &ctx);
        if (ctx.err) {
            rco_decref(list);
            return NULL;
        }
    }
    return list;
}

void rc_gc_freeze(rc_runtime *rt) {
    if (!rt || rt->gc_collecting)
        return;
    rcg_settle(rt);
    for (int g = 0; g < 3; g++) {
        rco_gc_list_merge(&rt->gen[g], &rt->permanent);
        rt->gen_count[g] = 0;
    }
    rt->frozen_count = rt->tracked_count;
}

void rc_gc_unfreeze(rc_runtime *rt) {
    if (!rt || rt->gc_collecting)
        return;
    rcg_settle(rt);
    rco_gc_list_merge(&rt->permanent, &rt->gen[2]);
    rt->frozen_count = 0;
}

size_t rc_gc_get_freeze_count(const rc_runtime *rt) {
    return rt ? rcg_list_size(&rt->permanent) : 0;
}

int rc_gc_callback_add(rc_runtime *rt, rc_gc_callback cb, void *arg) {
    if (!rt)
        return RC_EINVAL;
    if (!cb)
        return rco_err(rt, RC_EINVAL, "rc_gc_callback_add: NULL callback");
    rcg_state *st = rcg(rt);
    if (st->ncallbacks == st->capcallbacks) {
        size_t cap = st->capcallbacks ? st->capcallbacks * 2 : 4;
        rcg_callback *n = rc_realloc(st->callbacks, cap * sizeof *n);
        if (!n)
            return rco_nomem(rt);
        st->callbacks = n;
        st->capcallbacks = cap;
    }
    st->callbacks[st->ncallbacks].cb = cb;
    st->callbacks[st->ncallbacks].arg = arg;
    st->ncallbacks++;
    return 0;
}

int rc_gc_callback_remove(rc_runtime *rt, rc_gc_callback cb, void *arg) {
    if (!rt)
        return RC_EINVAL;
    rcg_state *st = rcg(rt);
    for (size_t i = 0; i < st->ncallbacks; i++) {
        if (st->callbacks[i].cb == cb && st->callbacks[i].arg == arg) {
            memmove(&st->callbacks[i], &st->callbacks[i + 1],
                    (st->ncallbacks - i - 1) * sizeof st->callbacks[0]);
            st->ncallbacks--;
            return 0;
        }
    }
    return rco_err(rt, RC_EKEY, "rc_gc_callback_remove: callback not registered");
}

void rc_gc_set_debug(rc_runtime *rt, unsigned flags) {
    if (rt)
        rcg(rt)->debug = flags;
}

unsigned rc_gc_get_debug(const rc_runtime *rt) {
    return rt ? ((const rcg_state *)rt->gc_state)->debug : 0;
}

rc_obj *rc_gc_garbage(rc_runtime *rt) {
    if (!rt)
        return NULL;
    return rcg(rt)->garbage;
}

void rc_gc_set_incremental(rc_runtime *rt, size_t step_objects) {
    if (!rt)
        return;
    if (step_objects == 0)
        rcg_settle(rt);
    rcg(rt)->inc_step = step_objects;
}

size_t rc_gc_get_incremental(const rc_runtime *rt) {
    return rt ? ((const rcg_state *)rt->gc_state)->inc_step : 0;
}

void rc_gc_set_step_time(rc_runtime *rt, unsigned max_us) {
    if (rt)
        rcg(rt)->inc_step_us = max_us;
}

unsigned rc_gc_get_step_time(const rc_runtime *rt) {
    return rt ? ((const rcg_state *)rt->gc_state)->inc_step_us : 0;
}

int rc_gc_step(rc_runtime *rt) {
    if (!rt)
        return 0;
    rcg_state *st = rcg(rt);
    if (st->phase == RCG_IDLE)
        return 0;
    if (st->inc_step == 0)
        rcg_inc_complete(rt);
    else
        rcg_inc_step(rt);
    return st->phase != RCG_IDLE;
}

int rc_gc_collect_incremental(rc_runtime *rt) {
    if (!rt)
        return RC_EINVAL;
    if (rt->gc_collecting)
        return 0;
    rcg_state *st = rcg(rt);
    if (st->phase == RCG_IDLE)
        rcg_inc_start(rt);
    return rc_gc_step(rt);
}
