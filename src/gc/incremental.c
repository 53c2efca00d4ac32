/* incremental.c - incremental full collections (the bounded-pause mode,
 * rc_gc_set_incremental).
 *
 * A full collection over a large heap runs as a series of steps, each doing
 * at most st->inc_step objects' worth of work, between which the program
 * runs. The set S of objects examined is fixed when the collection starts
 * (generations 0-2, merged); objects created meanwhile go to generation 0,
 * outside S, and count as live. Correctness rests on one observation: every
 * change to the object graph changes a reference count. S's objects carry
 * RCO_F_BARRIER from their update step on, which sends their incref/decref
 * to the slow path and from there to rcg_on_barrier, which marks them DIRTY
 * (bit 1 of gc_prev, see collect.h). A dirty object is treated as
 * referenced from outside: it and everything it reaches survive this
 * collection. That is conservative and safe: an object can only become
 * garbage by losing references, and a reference can only be added to an
 * object the program reaches.
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
 * Phases (st->phase), each a function below, advanced by rcg_inc_step:
 *
 *   IDLE --rcg_inc_start--> UPDATE --> SUBTRACT --> MOVE --(finish)--> SWEEP --> IDLE
 *
 *   UPDATE    copy each count to gc_refs and set the barrier (step 1);
 *   SUBTRACT  collect.c's subtract_refs, a slice per step (step 2);
 *   MOVE      collect.c's move_unreachable, resumable: it keeps the last
 *             object kept (st->move_prev) between steps (step 3); a dirty
 *             object is a root like one with gc_refs > 0;
 *   finish    one atomic step whose work is proportional to the garbage
 *             found, not to the heap: a dirty object that move_unreachable
 *             left on the unreachable list (dirtied after the scan passed
 *             it) is rescued by a second subtract/move pass over that list,
 *             then steps 4-8 and the end of a collection run as in
 *             collect.c, then the deferred objects are freed;
 *   SWEEP     clear the barrier flag of the survivors, a slice per step.
 *
 * Each step runs with rt->gc_collecting set: no collection starts from the
 * user code it runs (finalizers, callbacks, destroy), as in a stop-the-world
 * collection.
 */
#include "gc/collect.h"
#include "heap/os/os.h"

/* ---- the barrier ---- */

bool rcg_on_barrier(rc_runtime *rt, rc_obj *o, bool zero) {
    rcg_state *st = rcg(rt);
    if (st->phase != RCG_UPDATE && st->phase != RCG_SUBTRACT && st->phase != RCG_MOVE) {
        o->rc_head_ &= ~RCO_F_BARRIER;       /* a leftover of the last collection */
        return false;
    }
    rco_gc *g = rco_gc_of(o);
    uintptr_t pw = rcg_prev_word(g);
    if (pw & RCG_COLLECTING)
        rcg_set_prev_word(g, pw | RCG_DIRTY);
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

/* ---- the phases ---- */

void rcg_inc_start(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    rc_gc_info info = { 2, 0, 0 };
    rcg_invoke_callbacks(rt, RC_GC_START, &info);
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

static void inc_update_refs(rc_runtime *rt, size_t budget) {
    rcg_state *st = rcg(rt);
    rco_gc *g = rt->gc_cursor;
    for (; g != &st->set && budget > 0; budget--) {
        rc_obj *o = rco_from_gc(g);
        rco_gc *next = g->gc_next;
        rcg_set_refs(g, rco_refcount(o));
        o->rc_head_ |= RCO_F_BARRIER;
        st->set_count++;
        g = next;
    }
    rt->gc_cursor = g;
    if (g == &st->set) {
        st->phase = RCG_SUBTRACT;
        rt->gc_cursor = st->set.gc_next;
    }
}

static void inc_subtract_refs(rc_runtime *rt, size_t budget) {
    rcg_state *st = rcg(rt);
    rco_gc *g = rcg_subtract_refs(&st->set, rt->gc_cursor, budget);
    rt->gc_cursor = g;
    if (g == &st->set) {
        st->phase = RCG_MOVE;
        st->move_prev = &st->set;
        rt->gc_cursor = NULL;
    }
}

/* The atomic end: rescue what the program touched, then treat the garbage
 * as a stop-the-world collection does. */
static void inc_finish(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    rco_gc *old = &rt->gen[2];
    rco_gc *rescue = &st->unreachable;
    /* The unreachable objects' gc_prev: prev pointer | COLLECTING [| DIRTY].
     * Put the list in update_refs' state, dirty objects keeping their flag
     * (which makes them roots), and run subtract/move over it. */
    rcg_set_next_word(rescue, rcg_next_word(rescue) & ~RCG_UNREACHABLE);
    for (rco_gc *x = rescue->gc_next; x != rescue;) {
        rco_gc *next = rcg_next_ptr(x);
        uintptr_t dirty = rcg_prev_word(x) & RCG_DIRTY;
        rcg_set_next_word(x, (uintptr_t)next);
        rcg_set_refs(x, rco_refcount(rco_from_gc(x)));
        rcg_set_prev_word(x, rcg_prev_word(x) | dirty);
        x = next;
    }
    st->phase = RCG_IDLE;     /* from here on the lists are the collector's alone */
    rt->gc_cursor = NULL;
    rco_gc unreachable;
    rco_gc_list_init(&unreachable);
    rcg_unreachable_info ui;
    rcg_subtract_refs(rescue, rescue->gc_next, SIZE_MAX);
    rcg_move_unreachable(rescue, rescue, &unreachable, SIZE_MAX);
    rcg_close_unreachable(&unreachable, &ui);
    /* survivors: the set (normal since MOVE finished) and the rescued */
    rco_gc_list_merge(&st->set, old);
    rco_gc_list_merge(rescue, old);

    rcg_outcome out = { .generation = 2, .survivors = st->set_count - ui.count,
                        .found = ui.count, .steps = st->inc_steps, .t0 = st->inc_t0 };
    rcg_process_garbage(rt, &unreachable, ui.count, ui.needs_user_code, old, &out.collected,
                        &out.uncollectable);
    /* Objects of the set whose count reached zero during the collection. */
    for (size_t i = 0; i < st->ndeferred; i++) {
        rc_obj *o = st->deferred[i];
        o->rc_head_ &= ~RCO_F_BARRIER;
        if (rco_refcount(o) == 0 && !(o->rc_head_ & (RCO_F_FREED | RCO_F_QUEUED)))
            rco_dealloc(o);
    }
    st->ndeferred = 0;
    rcg_end_collection(rt, &out);
    /* The survivors still carry the barrier flag: clear it in steps. */
    st->phase = RCG_SWEEP;
    rt->gc_cursor = old->gc_next;
}

static void inc_move_unreachable(rc_runtime *rt, size_t budget) {
    rcg_state *st = rcg(rt);
    st->move_prev = rcg_move_unreachable(&st->set, st->move_prev, &st->unreachable, budget);
    if (st->move_prev->gc_next == &st->set)
        inc_finish(rt);
}

static void inc_sweep(rc_runtime *rt, size_t budget) {
    rcg_state *st = rcg(rt);
    rco_gc *old = &rt->gen[2];
    rco_gc *g = rt->gc_cursor;
    for (; g != old && budget > 0; budget--) {
        rco_from_gc(g)->rc_head_ &= ~RCO_F_BARRIER;
        g = g->gc_next;
    }
    rt->gc_cursor = g;
    if (g == old) {
        st->phase = RCG_IDLE;
        rt->gc_cursor = NULL;
    }
}

/* ---- driving the steps ---- */

void rcg_inc_step(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    if (st->phase == RCG_IDLE || rt->gc_collecting)
        return;
    /* as in rcg_collect: a failure inside a step is not the caller's error */
    rco_error_state saved_err;
    rco_error_save(rt, &saved_err);
    size_t budget = st->inc_step ? st->inc_step : SIZE_MAX;
    st->inc_steps++;
    rt->gc_collecting = true;
    switch (st->phase) {
    case RCG_UPDATE:
        inc_update_refs(rt, budget);
        break;
    case RCG_SUBTRACT:
        inc_subtract_refs(rt, budget);
        break;
    case RCG_MOVE:
        inc_move_unreachable(rt, budget);
        break;
    case RCG_SWEEP:
        inc_sweep(rt, budget);
        break;
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
