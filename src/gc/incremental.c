/* incremental.c - incremental full collections (the bounded-pause mode,
 * rc_gc_set_incremental, rc_gc_set_step_time).
 *
 * A full collection over a large heap runs as a series of steps between
 * which the program runs. Each step does at most st->inc_step objects'
 * worth of work and, with st->inc_step_us, stops once that many
 * microseconds have passed (the clock is read every RCG_CLOCK_EVERY
 * objects and after every piece of user code the collector runs), so a
 * step's pause is bounded on a heap whose objects are cache misses too.
 *
 * Finding the garbage. The set S of objects examined is fixed when the
 * collection starts (generations 0-2, merged); objects created meanwhile
 * go to generation 0, outside S, and count as live. Correctness rests on
 * one observation: every change to the object graph changes a reference
 * count. S's objects carry RCO_F_BARRIER from their update step on, which
 * sends their incref/decref to the slow path and from there to
 * rcg_on_barrier:
 *   - an object the scan has not passed is marked DIRTY (bit 1 of gc_prev,
 *     see collect.h) and counts as referenced from outside: it and all it
 *     reaches survive;
 *   - an object the scan already put on the tentatively unreachable list
 *     goes back to the end of the scan (rcg_reach), as if a kept object
 *     referenced it.
 * That is conservative and safe: an object can only become garbage by
 * losing references, and a reference can only be added to an object the
 * program reaches. So when the scan ends, the unreachable list G holds
 * exactly objects no path from the program reaches.
 *
 * Taking the garbage apart, in steps too. From then on the program cannot
 * reach G: rc_weakref_get answers NULL for its objects (rt->gc_doomed)
 * until their weak references are cleared, and nothing else leads into it. Only the user code the collector itself
 * runs (weak reference callbacks, finalizers) can reach G's objects, and
 * to make one reachable it changes its count. Such an object is TOUCHED:
 * it goes into st->touched, and once every finalizer has run, the RECOUNT
 * phase subtracts from each touched object's count the references G's
 * objects hold to it; one with references left is reachable from outside
 * G (PEP 442's resurrection check, over what user code changed rather than
 * a second pass of steps 1-3). A reachable object is RESCUED: it leaves G
 * for st->rescued, and before any further garbage is processed every
 * rescued object is traversed, its children in G rescued in turn. A count
 * change of a G object at any other time (the program reaching a
 * resurrected object between steps) rescues it at once. A count that
 * reaches zero in G frees the object at once (it leaves G first). While
 * the collector takes objects apart itself (st->internal: detaching weak
 * references, clear, the temporary references it holds) a count change is
 * its own and touches nothing.
 *
 * The mutator must not change S's lists while the collector keeps state in
 * their links, so:
 *   - an object of S whose count reaches zero before the scan ends is not
 *     freed but deferred (st->deferred); it is always among the survivors
 *     (its change made it a root) and is freed in the DEFERRED phase;
 *   - an object of S not yet reached by the update step has plain links and
 *     can be freed normally; rt->gc_cursor keeps the step's position valid;
 *     st->gcur is G's cursor, moved on by garbage_unlink;
 *   - young collections do not run while an incremental collection is in
 *     progress: the allocation trigger runs a step instead.
 *
 * Phases (st->phase), each a function below, advanced by rcg_inc_step:
 *
 *   IDLE --rcg_inc_start--> UPDATE --> SUBTRACT --> MOVE --> DEFERRED
 *     --> WEAKREFS --> CALLBACKS --> FINALIZE [--> RECOUNT] --> CLEAR --> LEFTOVER
 *     --(end of the collection)--> SWEEP --> IDLE
 *
 *   UPDATE     copy each count to gc_refs and set the barrier (step 1);
 *   SUBTRACT   collect.c's subtract_refs, a slice per step (step 2);
 *   MOVE       collect.c's move_unreachable, resumable: it keeps the last
 *              object kept (st->move_prev) between steps (step 3); at its
 *              end the survivors join generation 2 and G is fixed;
 *   DEFERRED   free the objects deferred meanwhile;
 *   WEAKREFS   walk G: count it, DEBUG_COLLECTABLE lines, clear the weak
 *              references to its objects (their callbacks wait in
 *              st->pending), note whether a finalizer is to run (step 4);
 *   CALLBACKS  run the callbacks, one at a time;
 *   FINALIZE   run the finalizers, one at a time (step 5);
 *   RECOUNT    when user code touched G: the references G holds to the
 *              touched objects, subtracted in steps (step 6);
 *   CLEAR      once every rescued object is traversed: clear each
 *              object of G; counts reaching zero free them (step 7);
 *   LEFTOVER   what is still in G is uncollectable (or, with SAVEALL,
 *              everything): into rc_gc_garbage and generation 2 (step 8);
 *   SWEEP      clear the barrier flag of the survivors.
 * Every phase from CALLBACKS on first traverses the rescued objects.
 *
 * What stays atomic, whatever the budget: the START callbacks and the
 * merge of the generations (rcg_inc_start), the end of a collection
 * (statistics, STOP callbacks), the start and the end of RECOUNT (in
 * proportion to the objects user code touched, not to G), and the work on
 * one object: its traverse, the detaching of all its weak references, one
 * callback, finalizer or clear.
 *
 * Each step runs with rt->gc_collecting set: no collection starts from the
 * user code it runs (callbacks, finalizers, destroy), as in a stop-the-world
 * collection.
 */
#include "gc/collect.h"
#include "heap/os/os.h"

/* ---- the budget of a step ---- */

/* Objects between two readings of the clock in a time-bounded step. */
#define RCG_CLOCK_EVERY 32

typedef struct step_budget {
    size_t left;            /* objects still allowed */
    uint64_t deadline;      /* rci_os_clock_ns() bound; 0: none */
    size_t since_clock;     /* work since the clock was last read */
} step_budget;

static void budget_init(step_budget *b, const rcg_state *st, bool unbounded) {
    b->left = unbounded || st->inc_step == 0 ? SIZE_MAX : st->inc_step;
    b->deadline = unbounded || st->inc_step_us == 0
                      ? 0 : rci_os_clock_ns() + (uint64_t)st->inc_step_us * 1000u;
    b->since_clock = 0;
}

/* How many objects the next piece of work may handle; 0 once the step's
 * budget is spent. */
static size_t budget_chunk(step_budget *b) {
    if (b->left == 0)
        return 0;
    if (b->deadline && b->since_clock >= RCG_CLOCK_EVERY) {
        b->since_clock = 0;
        if (rci_os_clock_ns() >= b->deadline) {
            b->left = 0;
            return 0;
        }
    }
    size_t n = RCG_CLOCK_EVERY - (b->deadline ? b->since_clock : 0);
    return n < b->left ? n : b->left;
}

static void budget_spend(step_budget *b, size_t n) {
    b->left = n < b->left ? b->left - n : 0;
    b->since_clock += n;
}

/* After user code (a callback, finalizer, clear): one object, and the clock
 * is read before the next. */
static void budget_spend_user(step_budget *b) {
    budget_spend(b, 1);
    b->since_clock = RCG_CLOCK_EVERY;
}

/* ---- the garbage list G ----
 *
 * G is st->unreachable as move_unreachable left it: gc_next words carry
 * UNREACHABLE (the head's too, when G is not empty), gc_prev words are
 * pointer | COLLECTING, with DIRTY marking the objects the WEAKREFS walk
 * has counted and TOUCHED (bit 2: list nodes are at least 8-byte aligned)
 * those in st->touched. Only tracked containers of S are ever on it, and
 * none is on it outside the phases from DEFERRED to LEFTOVER. */

#define RCG_TOUCHED  ((uintptr_t)4)
#define RCG_G_FLAGS  (RCG_PREV_FLAGS | RCG_TOUCHED)

static inline bool in_garbage(const rco_gc *g) {
    return (rcg_next_word(g) & RCG_UNREACHABLE) != 0;
}

static inline rco_gc *garbage_first(rcg_state *st) {
    return rcg_next_ptr(&st->unreachable);
}

static bool garbage_phase(rcg_phase p) {
    return p >= RCG_DEFERRED && p <= RCG_LEFTOVER;
}

/* Take g off G (keeping the cursor valid) and give it plain links to
 * itself, so that the deallocation path's untrack is harmless. */
static void garbage_unlink(rcg_state *st, rco_gc *g) {
    uintptr_t pw = rcg_prev_word(g);
    rco_gc *prev = (rco_gc *)(pw & ~RCG_G_FLAGS);
    rco_gc *next = rcg_next_ptr(g);
    if (st->gcur == g)
        st->gcur = next;
    if (!(pw & RCG_DIRTY))
        st->g_found++;             /* left before the WEAKREFS walk counted it */
    if (pw & RCG_TOUCHED)
        rci_htable_remove(&st->touched, (uintptr_t)rco_from_gc(g), NULL);
    uintptr_t link = next == &st->unreachable && prev == &st->unreachable ? 0 : RCG_UNREACHABLE;
    rcg_set_next_word(prev, (uintptr_t)next | link);
    rcg_set_prev_word(next, (uintptr_t)prev | (rcg_prev_word(next) & RCG_G_FLAGS));
    g->gc_next = g->gc_prev = g;
}

/* A count change of a G object made outside the collector's own work:
 * the object is reachable again and survives, with all it reaches. */
static void rescue(rcg_state *st, rco_gc *g) {
    garbage_unlink(st, g);
    rco_from_gc(g)->rc_head_ &= ~RCO_F_BARRIER;
    rco_gc_list_append(&st->rescued, g);
    st->g_rescued++;
}

/* User code changed the count of g: decided by RECOUNT. Without memory
 * for the table, rescued at once (safe: it only keeps garbage longer). */
static void touch(rcg_state *st, rco_gc *g) {
    uintptr_t pw = rcg_prev_word(g);
    if (pw & RCG_TOUCHED)
        return;
    if (rci_htable_put(&st->touched, (uintptr_t)rco_from_gc(g), 0) != 0) {
        rescue(st, g);
        return;
    }
    rcg_set_prev_word(g, pw | RCG_TOUCHED);
}

static int visit_rescue(rc_obj *child, void *arg) {
    if (child && (child->rc_head_ & RCO_F_TRACKED) && in_garbage(rco_gc_of(child)))
        rescue(arg, rco_gc_of(child));
    return 0;
}

/* Traverse the rescued objects, rescuing what they reach in G, and move
 * them to generation 2. Returns false when the budget ran out first. */
static bool drain_rescued(rc_runtime *rt, rcg_state *st, step_budget *b) {
    while (!rco_gc_list_empty(&st->rescued)) {
        if (budget_chunk(b) == 0)
            return false;
        rco_gc *g = st->rescued.gc_next;
        rco_gc_list_remove(g);
        rco_gc_list_append(&rt->gen[2], g);
        rc_obj *o = rco_from_gc(g);
        if (o->rc_type_->traverse)
            o->rc_type_->traverse(o, visit_rescue, st);
        budget_spend(b, 1);
    }
    return true;
}

/* The walks of G's phases: the object at the cursor, the cursor moved past
 * it first (whatever then happens to the object leaves the walk valid);
 * NULL once the walk is over (st->gcur back at the head) or the step's
 * budget is spent. */
static rc_obj *garbage_next(rcg_state *st, step_budget *b) {
    if (st->gcur == &st->unreachable || budget_chunk(b) == 0)
        return NULL;
    rco_gc *g = st->gcur;
    st->gcur = rcg_next_ptr(g);
    return rco_from_gc(g);
}

/* Drop a reference the collector took on o itself (detach's on a weak
 * reference, the one held across a finalizer or clear): its own count
 * change, which touches and rescues nothing; zero frees o (off G first). */
static void drop_own_ref(rcg_state *st, rc_obj *o) {
    st->internal = true;
    rco_decref(o);
    st->internal = false;
}

/* ---- the barrier ---- */

bool rcg_on_barrier(rc_runtime *rt, rc_obj *o, bool zero) {
    rcg_state *st = rcg(rt);
    rco_gc *g = rco_gc_of(o);
    if (garbage_phase(st->phase)) {
        if (!in_garbage(g)) {
            o->rc_head_ &= ~RCO_F_BARRIER;   /* a survivor: no longer watched */
            return false;
        }
        if (zero) {
            garbage_unlink(st, g);
            o->rc_head_ &= ~RCO_F_BARRIER;
            return false;                     /* freed now, by the caller */
        }
        if (st->internal)
            return false;
        if (st->phase == RCG_CALLBACKS || st->phase == RCG_FINALIZE)
            touch(st, g);
        else
            rescue(st, g);
        return false;
    }
    if (st->phase != RCG_UPDATE && st->phase != RCG_SUBTRACT && st->phase != RCG_MOVE) {
        o->rc_head_ &= ~RCO_F_BARRIER;       /* a leftover of the last collection */
        return false;
    }
    uintptr_t pw = rcg_prev_word(g);
    if (pw & RCG_COLLECTING) {
        if (st->phase == RCG_MOVE && in_garbage(g))
            rcg_reach(&st->set, g);          /* passed by the scan: back to it, as a root */
        else
            rcg_set_prev_word(g, pw | RCG_DIRTY);
    }
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

/* Only until G's weak references are all cleared: no user code has run
 * yet, so nothing outside G reaches it. Later a finalizer may make part of
 * G reachable again (decided by RECOUNT), and a weak reference the program
 * makes to such an object must give it; the ones made before are cleared by
 * then. */
bool rcg_is_doomed(rc_runtime *rt, const rc_obj *o) {
    rcg_state *st = rcg(rt);
    return (st->phase == RCG_DEFERRED || st->phase == RCG_WEAKREFS) &&
           (o->rc_head_ & RCO_F_TRACKED) && in_garbage(rco_gc_of(o));
}

/* ---- finding the garbage ---- */

void rcg_inc_start(rc_runtime *rt) {
    rcg_state *st = rcg(rt);
    rc_gc_info info = { 2, 0, 0 };
    rcg_invoke_callbacks(rt, RC_GC_START, &info);
    for (int i = 0; i < 3; i++) {
        rco_gc_list_merge(&rt->gen[i], &st->set);
        rt->gen_count[i] = 0;
    }
    rco_gc_list_init(&st->unreachable);
    rco_gc_list_init(&st->rescued);
    st->ndeferred = 0;
    st->set_count = 0;
    st->g_found = st->g_rescued = st->g_uncollectable = 0;
    st->has_finalizers = false;
    st->inc_t0 = rci_os_clock_ns();
    st->inc_steps = 0;
    st->phase = RCG_UPDATE;
    rt->gc_cursor = st->set.gc_next;
}

static void inc_update_refs(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    rco_gc *g = rt->gc_cursor;
    for (size_t n; g != &st->set && (n = budget_chunk(b)) != 0; budget_spend(b, n)) {
        for (size_t i = 0; i < n && g != &st->set; i++) {
            rc_obj *o = rco_from_gc(g);
            rco_gc *next = g->gc_next;
            rcg_set_refs(g, rco_refcount(o));
            o->rc_head_ |= RCO_F_BARRIER;
            st->set_count++;
            g = next;
        }
    }
    rt->gc_cursor = g;
    if (g == &st->set) {
        st->phase = RCG_SUBTRACT;
        rt->gc_cursor = st->set.gc_next;
    }
}

static void inc_subtract_refs(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    rco_gc *g = rt->gc_cursor;
    for (size_t n; g != &st->set && (n = budget_chunk(b)) != 0; budget_spend(b, n))
        g = rcg_subtract_refs(&st->set, g, n);
    rt->gc_cursor = g;
    if (g == &st->set) {
        st->phase = RCG_MOVE;
        st->move_prev = &st->set;
        rt->gc_cursor = NULL;
    }
}

static void inc_move_unreachable(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    for (size_t n; st->move_prev->gc_next != &st->set && (n = budget_chunk(b)) != 0;
         budget_spend(b, n))
        st->move_prev = rcg_move_unreachable(&st->set, st->move_prev, &st->unreachable, n);
    if (st->move_prev->gc_next != &st->set)
        return;
    /* The scan is complete: the set is a normal list of survivors, G is
     * fixed. */
    st->set.gc_prev = st->move_prev;
    rco_gc_list_merge(&st->set, &rt->gen[2]);
    st->phase = RCG_DEFERRED;
    st->deferred_done = 0;
}

/* ---- taking the garbage apart ---- */

/* The objects of S whose count reached zero during the scan: survivors all,
 * in generation 2 with plain links. */
static void inc_free_deferred(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    while (st->deferred_done < st->ndeferred) {
        if (budget_chunk(b) == 0)
            return;
        rc_obj *o = st->deferred[st->deferred_done++];
        o->rc_head_ &= ~RCO_F_BARRIER;
        if (rco_refcount(o) == 0 && !(o->rc_head_ & (RCO_F_FREED | RCO_F_QUEUED))) {
            rco_dealloc(o);
            budget_spend_user(b);
        } else {
            budget_spend(b, 1);
        }
    }
    st->ndeferred = st->deferred_done = 0;
    st->phase = RCG_WEAKREFS;
    st->gcur = garbage_first(st);
}

static void inc_weakrefs(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    for (rc_obj *o; (o = garbage_next(st, b)) != NULL;) {
        rco_gc *g = rco_gc_of(o);
        rcg_set_prev_word(g, rcg_prev_word(g) | RCG_DIRTY);    /* counted */
        st->g_found++;
        st->internal = true;
        if (st->debug & RC_GC_DEBUG_COLLECTABLE)
            rcg_debug_print(rt, "collectable", o);
        if (o->rc_head_ & RCO_F_WEAKREFS)
            rco_weakrefs_detach(rt, o, &st->pending);
        st->internal = false;
        if (o->rc_type_->finalize && !(o->rc_head_ & RCO_F_FINALIZED))
            st->has_finalizers = true;
        budget_spend(b, 1);
    }
    if (st->gcur != &st->unreachable)
        return;
    st->phase = RCG_CALLBACKS;
}

static void inc_callbacks(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    while (st->pending.head) {
        if (!drain_rescued(rt, st, b) || budget_chunk(b) == 0)
            return;
        rc_obj *w = rco_weakrefs_pop(&st->pending);
        /* Dropped by the program since it was detached, the weak reference
         * is dead: no callback (as for one dead when detached). */
        if (rco_refcount(w) > 1)
            rco_weakref_call(w);
        drop_own_ref(st, w);
        budget_spend_user(b);
    }
    st->phase = RCG_FINALIZE;
    st->gcur = st->has_finalizers ? garbage_first(st) : &st->unreachable;
}

static void inc_finalize(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    for (rc_obj *o; drain_rescued(rt, st, b) && (o = garbage_next(st, b)) != NULL;) {
        const rc_type *t = o->rc_type_;
        if (t->finalize && !(o->rc_head_ & RCO_F_FINALIZED)) {
            o->rc_head_ |= RCO_F_FINALIZED;
            o->rc_head_ += 1;        /* the collector's reference: no barrier */
            t->finalize(o);
            drop_own_ref(st, o);
            budget_spend_user(b);
        } else {
            budget_spend(b, 1);
        }
    }
    if (st->gcur != &st->unreachable)
        return;
    st->gcur = garbage_first(st);
    if (st->touched.count == 0) {
        st->phase = RCG_CLEAR;
        return;
    }
    /* Each touched object's count, less what G holds, in RECOUNT. From
     * here on no user code runs inside a step: a count change is the
     * program's and rescues. */
    st->phase = RCG_RECOUNT;
    size_t pos = 0;
    uintptr_t key, value;
    while (rci_htable_next(&st->touched, &pos, &key, &value))
        rci_htable_put(&st->touched, key, rco_refcount((rc_obj *)key));   /* existing key */
}

static int visit_recount(rc_obj *child, void *arg) {
    if (child && (child->rc_head_ & RCO_F_TRACKED)) {
        rco_gc *g = rco_gc_of(child);
        if (in_garbage(g) && (rcg_prev_word(g) & RCG_TOUCHED)) {
            uintptr_t *left = rci_htable_slot(arg, (uintptr_t)child, &(bool){false});
            if (left && *left > 0)
                (*left)--;
        }
    }
    return 0;
}

static void inc_recount(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    for (rc_obj *o; (o = garbage_next(st, b)) != NULL; budget_spend(b, 1))
        if (o->rc_type_->traverse)
            o->rc_type_->traverse(o, visit_recount, &st->touched);
    if (st->gcur != &st->unreachable)
        return;
    /* References left come from outside G: rescue those objects (their
     * TOUCHED flag cleared first, so that leaving G does not change the
     * table being read). */
    size_t pos = 0;
    uintptr_t key, left;
    while (rci_htable_next(&st->touched, &pos, &key, &left)) {
        rco_gc *g = rco_gc_of((rc_obj *)key);
        rcg_set_prev_word(g, rcg_prev_word(g) & ~RCG_TOUCHED);
        if (left > 0)
            rescue(st, g);
    }
    rci_htable_clear(&st->touched);
    st->phase = RCG_CLEAR;
    st->gcur = garbage_first(st);
}

static void inc_clear(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    if (!drain_rescued(rt, st, b))
        return;
    if (st->debug & RC_GC_DEBUG_SAVEALL)
        st->gcur = &st->unreachable;          /* nothing is cleared: LEFTOVER keeps it all */
    for (rc_obj *o; (o = garbage_next(st, b)) != NULL;) {
        void (*clear)(rc_obj *) = o->rc_type_->clear;
        if (clear) {
            o->rc_head_ += 1;
            st->internal = true;     /* the members' decrefs are the collector's */
            clear(o);
            drop_own_ref(st, o);
            budget_spend_user(b);
        } else {
            budget_spend(b, 1);
        }
    }
    if (st->gcur != &st->unreachable)
        return;
    st->phase = RCG_LEFTOVER;
}

/* What is still in G after every clear ran is uncollectable (a cycle none
 * of whose members has clear); with SAVEALL it is all the garbage. Both
 * stay alive in generation 2 and are recorded in rc_gc_garbage. */
static void inc_leftover(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    bool saveall = (st->debug & RC_GC_DEBUG_SAVEALL) != 0;
    for (rco_gc *g; (g = garbage_first(st)) != &st->unreachable;) {
        if (budget_chunk(b) == 0)
            return;
        rc_obj *o = rco_from_gc(g);
        garbage_unlink(st, g);
        o->rc_head_ &= ~RCO_F_BARRIER;
        rco_gc_list_append(&rt->gen[2], g);
        st->g_uncollectable++;
        if (!saveall && (st->debug & RC_GC_DEBUG_UNCOLLECTABLE))
            rcg_debug_print(rt, "uncollectable", o);
        rcg_garbage_append(rt, o);
        budget_spend(b, 1);
    }
    size_t garbage = st->g_found - st->g_rescued;
    rcg_outcome out = { .generation = 2, .survivors = st->set_count - garbage,
                        .steps = st->inc_steps, .t0 = st->inc_t0 };
    out.found = garbage;
    out.uncollectable = saveall ? 0 : st->g_uncollectable;
    out.collected = garbage - out.uncollectable;
    rco_gc_list_init(&st->unreachable);
    st->phase = RCG_SWEEP;
    rt->gc_cursor = rt->gen[2].gc_next;
    rcg_end_collection(rt, &out);
}

static void inc_sweep(rc_runtime *rt, step_budget *b) {
    rcg_state *st = rcg(rt);
    rco_gc *old = &rt->gen[2];
    rco_gc *g = rt->gc_cursor;
    for (size_t n; g != old && (n = budget_chunk(b)) != 0; budget_spend(b, n)) {
        for (size_t i = 0; i < n && g != old; i++) {
            rco_from_gc(g)->rc_head_ &= ~RCO_F_BARRIER;
            g = g->gc_next;
        }
    }
    rt->gc_cursor = g;
    if (g == old) {
        st->phase = RCG_IDLE;
        rt->gc_cursor = NULL;
    }
}

/* ---- driving the steps ---- */

static void run_step(rc_runtime *rt, bool unbounded) {
    rcg_state *st = rcg(rt);
    if (st->phase == RCG_IDLE || rt->gc_collecting)
        return;
    /* as in rcg_collect: a failure inside a step is not the caller's error */
    rco_error_state saved_err;
    rco_error_save(rt, &saved_err);
    step_budget b;
    budget_init(&b, st, unbounded);
    st->inc_steps++;
    rt->gc_collecting = true;
    /* A phase that finishes within the budget hands what is left of it to
     * the next one. */
    for (rcg_phase p = st->phase; p != RCG_IDLE && b.left != 0; p = st->phase) {
        switch (p) {
        case RCG_UPDATE:    inc_update_refs(rt, &b); break;
        case RCG_SUBTRACT:  inc_subtract_refs(rt, &b); break;
        case RCG_MOVE:      inc_move_unreachable(rt, &b); break;
        case RCG_DEFERRED:  inc_free_deferred(rt, &b); break;
        case RCG_WEAKREFS:  inc_weakrefs(rt, &b); break;
        case RCG_CALLBACKS: inc_callbacks(rt, &b); break;
        case RCG_FINALIZE:  inc_finalize(rt, &b); break;
        case RCG_RECOUNT:   inc_recount(rt, &b); break;
        case RCG_CLEAR:     inc_clear(rt, &b); break;
        case RCG_LEFTOVER:  inc_leftover(rt, &b); break;
        case RCG_SWEEP:     inc_sweep(rt, &b); break;
        case RCG_IDLE:      break;
        }
        if (st->phase == p)
            break;                    /* the budget ran out inside p */
    }
    rt->gc_collecting = false;
    rco_error_restore(rt, &saved_err);
}

void rcg_inc_step(rc_runtime *rt) {
    run_step(rt, false);
}

void rcg_inc_complete(rc_runtime *rt) {
    while (rcg(rt)->phase != RCG_IDLE && !rt->gc_collecting)
        run_step(rt, true);
}
