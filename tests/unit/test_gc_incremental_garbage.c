/* rc-test: stress */
/* test_gc_incremental_garbage.c - the bounded-pause mode takes its garbage
 * apart in steps too: weak references, callbacks, finalizers, clear and the
 * frees are spread over bounded steps, and what user code touches in the
 * meantime survives (PEP 442's resurrection), while the program's weak
 * references see the garbage as dead from the end of the scan on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

#define MAXID 40000

typedef struct pnode { rc_obj ob; rc_obj *peer; rc_obj *extra; int id; } pnode;

static int g_destroyed[MAXID];
static int g_finalized[MAXID];
static int g_destroyed_now;            /* destroys since the counter was reset */
static rc_obj *g_keep;                 /* where resurrecting finalizers put their node */
static int g_resurrect_mod;            /* nodes with id % g_resurrect_mod == 0 resurrect */
static int g_touch_peer;               /* finalizers take and drop a reference to the peer */
static rc_obj *g_keep_dict;            /* when set, resurrecting finalizers store their node
                                        * there instead: under "n<id>" for an even id, under
                                        * the int id for an odd one */

static int pn_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    pnode *n = (pnode *)self;
    if (n->peer && visit(n->peer, arg))
        return 1;
    return n->extra ? visit(n->extra, arg) : 0;
}
static void pn_clear(rc_obj *self) {
    pnode *n = (pnode *)self;
    rc_obj *p = n->peer, *e = n->extra;
    n->peer = n->extra = NULL;
    rc_xdecref(p);
    rc_xdecref(e);
}
static void pn_destroy(rc_obj *self) {
    pnode *n = (pnode *)self;
    assert_int_equal(g_destroyed[n->id], 0);
    g_destroyed[n->id]++;
    g_destroyed_now++;
    pn_clear(self);
}
static void pn_finalize(rc_obj *self) {
    pnode *n = (pnode *)self;
    assert_int_equal(g_destroyed[n->id], 0);
    g_finalized[n->id]++;
    if (g_resurrect_mod && n->id % g_resurrect_mod == 0 && g_keep_dict) {
        rc_runtime *rt = rc_runtime_of(self);
        char name[16];
        snprintf(name, sizeof name, "n%d", n->id);
        rc_obj *key = n->id % 2 ? rc_int(rt, n->id) : rc_str(rt, name);
        assert_non_null(key);
        assert_int_equal(rc_dict_set(rt, g_keep_dict, key, self), 0);
        rc_decref(key);
    } else if (g_resurrect_mod && n->id % g_resurrect_mod == 0) {
        assert_int_equal(rc_list_append(rc_runtime_of(self), g_keep, self), 0);
    }
    if (g_touch_peer && n->peer) {
        rc_incref(n->peer);
        rc_decref(n->peer);
    }
    /* allocation inside a step: no collection may start from here */
    rc_obj *tmp = rc_list(rc_runtime_of(self));
    assert_non_null(tmp);
    rc_decref(tmp);
}

static const rc_type pnode_type = { .name = "pnode", .size = sizeof(pnode), .flags = RC_TYPE_GC,
                                    .traverse = pn_traverse, .clear = pn_clear, .destroy = pn_destroy };
static const rc_type fnode_type = { .name = "fnode", .size = sizeof(pnode), .flags = RC_TYPE_GC,
                                    .traverse = pn_traverse, .clear = pn_clear, .destroy = pn_destroy,
                                    .finalize = pn_finalize };
/* no clear: a cycle of these is uncollectable */
static void nc_destroy(rc_obj *self) {
    pnode *n = (pnode *)self;
    g_destroyed[n->id]++;
    rc_xdecref(n->peer);
}
static const rc_type ncnode_type = { .name = "ncnode", .size = sizeof(pnode), .flags = RC_TYPE_GC,
                                     .traverse = pn_traverse, .destroy = nc_destroy };

static void reset(void) {
    memset(g_destroyed, 0, sizeof g_destroyed);
    memset(g_finalized, 0, sizeof g_finalized);
    g_destroyed_now = 0;
    g_resurrect_mod = 0;
    g_touch_peer = 0;
    g_keep_dict = NULL;
}

static rc_runtime *new_rt(size_t step) {
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    rc_gc_disable(rt);                 /* every step is one the test runs */
    rc_gc_set_incremental(rt, step);
    return rt;
}

/* Garbage 2-cycles of type t, ids [first, first + 2 * pairs); returns the
 * first node of each pair through out[] when out is given (borrowed: only
 * the cycle holds them). */
static void make_pairs(rc_runtime *rt, const rc_type *t, int first, int pairs, pnode **out) {
    for (int i = 0; i < pairs; i++) {
        pnode *a = (pnode *)rc_new(rt, t), *b = (pnode *)rc_new(rt, t);
        assert_non_null(a);
        assert_non_null(b);
        a->id = first + 2 * i;
        b->id = first + 2 * i + 1;
        a->peer = &b->ob;                  /* a owns the creation reference of b */
        rc_incref(&a->ob);
        b->peer = &a->ob;
        rc_decref(&a->ob);
        if (out)
            out[i] = a;
    }
}

/* Run the collection in progress to its end, one step at a time; returns
 * the steps and the most destroys seen in one step. */
static int finish(rc_runtime *rt, int *max_destroys) {
    int steps = 0, most = 0;
    for (int more = 1; more;) {
        g_destroyed_now = 0;
        more = rc_gc_step(rt);
        steps++;
        if (g_destroyed_now > most)
            most = g_destroyed_now;
        assert_true(steps < 10000000);
    }
    if (max_destroys)
        *max_destroys = most;
    return steps;
}

static void test_garbage_freed_in_bounded_steps(void **state) {
    (void)state;
    reset();
    const int pairs = 4000, step = 16;
    rc_runtime *rt = new_rt(step);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *live = rc_list(rt);
    for (int i = 0; i < 1000; i++) {
        rc_obj *v = rc_new(rt, &pnode_type);
        ((pnode *)v)->id = 2 * pairs + i;
        assert_int_equal(rc_list_append(rt, live, v), 0);
        rc_decref(v);
    }
    make_pairs(rt, &pnode_type, 0, pairs, NULL);
    rc_gc_stats before[3], after[3];
    rc_gc_get_stats(rt, before);
    g_destroyed_now = 0;
    int first = rc_gc_collect_incremental(rt);
    assert_int_equal(first, 1);
    assert_int_equal(g_destroyed_now, 0);
    int most = 0;
    int steps = 1 + finish(rt, &most);
    /* one clear frees at most its object and its peer */
    assert_true(most <= 2 * step);
    /* update, subtract, scan, the walk of the garbage and its clear: every
     * object handled in each, at most `step` a step */
    size_t examined = 2 * (size_t)pairs + 1001;
    assert_true((size_t)steps >= (3 * examined + 2 * (size_t)pairs + (size_t)pairs) / step);
    for (int i = 0; i < 2 * pairs; i++)
        assert_int_equal(g_destroyed[i], 1);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(g_destroyed[2 * pairs + i], 0);
    rc_gc_get_stats(rt, after);
    assert_int_equal(after[2].collections, before[2].collections + 1);
    assert_int_equal(after[2].collected - before[2].collected, 2 * (size_t)pairs);
    assert_int_equal(after[2].uncollectable, before[2].uncollectable);
    assert_int_equal(rc_runtime_object_count(rt), base + 1001);
    rc_decref(live);
    rc_runtime_free(rt);
}

static void test_one_large_step_does_it_all(void **state) {
    (void)state;
    reset();
    rc_runtime *rt = new_rt(1000000);
    make_pairs(rt, &fnode_type, 0, 500, NULL);
    assert_int_equal(rc_gc_collect_incremental(rt), 0);     /* done in one step */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(g_finalized[i], 1);
        assert_int_equal(g_destroyed[i], 1);
    }
    rc_runtime_free(rt);
}

static void test_step_time_bounds_steps(void **state) {
    (void)state;
    reset();
    rc_runtime *rt = new_rt((size_t)1 << 40);
    rc_gc_set_step_time(rt, 1);
    assert_int_equal(rc_gc_get_step_time(rt), 1);
    make_pairs(rt, &pnode_type, 0, 20000, NULL);
    /* 40,000 objects, each handled in five passes, cannot take a
     * microsecond per 32 of them: the time bound cuts the steps */
    int steps = rc_gc_collect_incremental(rt) ? 1 + finish(rt, NULL) : 1;
    assert_true(steps > 20);
    for (int i = 0; i < 40000; i++)
        assert_int_equal(g_destroyed[i], 1);
    rc_gc_set_step_time(rt, 0);
    make_pairs(rt, &pnode_type, 0, 100, NULL);
    memset(g_destroyed, 0, sizeof g_destroyed);
    assert_int_equal(rc_gc_collect_incremental(rt), 0);     /* objects only: one step */
    rc_runtime_free(rt);
}

/* Weak references to the garbage: alive (the object itself) until the scan
 * ends, dead from then on even before the object is taken apart; never an
 * object already destroyed; callbacks run before the object is destroyed,
 * with the reference already dead. */
static int g_cb_bad, g_cb_calls;
static void weak_cb(rc_obj *ref, void *arg) {
    (void)arg;
    g_cb_calls++;
    if (rc_weakref_get(ref) != NULL)
        g_cb_bad++;
    rc_obj *tmp = rc_list(rc_runtime_of(ref));   /* allocating in a callback, inside a step */
    rc_decref(tmp);
}

static void test_weak_references_in_steps(void **state) {
    (void)state;
    reset();
    g_cb_bad = g_cb_calls = 0;
    enum { PAIRS = 600 };
    rc_runtime *rt = new_rt(8);
    pnode *first[PAIRS];
    make_pairs(rt, &pnode_type, 0, PAIRS, first);
    rc_obj *refs[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        refs[i] = rc_weakref_new(rt, &first[i]->ob, i % 2 ? weak_cb : NULL, NULL);
        assert_non_null(refs[i]);
    }
    int dead_but_not_destroyed = 0;
    for (int more = rc_gc_collect_incremental(rt); more; more = rc_gc_step(rt)) {
        for (int i = 0; i < PAIRS; i++) {
            rc_obj *t = rc_weakref_get(refs[i]);
            if (t) {
                assert_ptr_equal(t, &first[i]->ob);
                assert_int_equal(g_destroyed[2 * i], 0);
            } else if (!g_destroyed[2 * i]) {
                dead_but_not_destroyed++;
            }
        }
    }
    assert_true(dead_but_not_destroyed > 0);
    assert_int_equal(g_cb_calls, PAIRS / 2);
    assert_int_equal(g_cb_bad, 0);
    for (int i = 0; i < 2 * PAIRS; i++)
        assert_int_equal(g_destroyed[i], 1);
    for (int i = 0; i < PAIRS; i++) {
        assert_null(rc_weakref_get(refs[i]));
        rc_decref(refs[i]);
    }
    rc_runtime_free(rt);
}

/* A weak reference the program drops once its target is found to be
 * garbage, before the callbacks run, is dead: its callback never runs. */
static void test_dropped_weak_reference_gets_no_callback(void **state) {
    (void)state;
    /* first[0] leads the garbage list: some budgets detach its weak
     * reference in the step that ends the scan, the callback waiting for
     * the next one */
    int dropped_first = 0;
    for (size_t step = 1; step <= 70; step++) {
        reset();
        g_cb_bad = g_cb_calls = 0;
        rc_runtime *rt = new_rt(step);
        pnode *first[8];
        make_pairs(rt, &pnode_type, 0, 8, first);
        rc_obj *ref = rc_weakref_new(rt, &first[0]->ob, weak_cb, NULL);
        assert_non_null(ref);
        int calls_at_drop = -1;
        for (int more = rc_gc_collect_incremental(rt); more; more = rc_gc_step(rt)) {
            if (ref && rc_weakref_get(ref) == NULL) {
                calls_at_drop = g_cb_calls;     /* 1 when it ran within the same step */
                rc_decref(ref);
                ref = NULL;
            }
        }
        if (ref) {                              /* all of it in the first step */
            assert_int_equal(g_cb_calls, 1);
            rc_decref(ref);
            calls_at_drop = 1;
        }
        assert_int_equal(g_cb_calls, calls_at_drop);
        dropped_first += calls_at_drop == 0;
        for (int i = 0; i < 16; i++)
            assert_int_equal(g_destroyed[i], 1);
        rc_runtime_free(rt);
    }
    assert_true(dropped_first > 0);
}

/* The program takes a strong reference through a weak one while the scan
 * runs: that pair survives this collection and the next one frees it. */
static void test_weak_reference_taken_during_the_scan(void **state) {
    (void)state;
    reset();
    enum { PAIRS = 300 };
    rc_runtime *rt = new_rt(4);
    pnode *first[PAIRS];
    make_pairs(rt, &pnode_type, 0, PAIRS, first);
    rc_obj *ref = rc_weakref_new(rt, &first[PAIRS - 1]->ob, NULL, NULL);
    assert_int_equal(rc_gc_collect_incremental(rt), 1);
    rc_obj *held = rc_weakref_get(ref);
    assert_non_null(held);
    rc_incref(held);
    finish(rt, NULL);
    for (int i = 0; i < 2 * (PAIRS - 1); i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(g_destroyed[2 * PAIRS - 2], 0);
    assert_int_equal(g_destroyed[2 * PAIRS - 1], 0);       /* reached from the held one */
    assert_ptr_equal(rc_weakref_get(ref), held);
    rc_decref(held);
    if (rc_gc_collect_incremental(rt))
        finish(rt, NULL);
    assert_int_equal(g_destroyed[2 * PAIRS - 2], 1);
    assert_int_equal(g_destroyed[2 * PAIRS - 1], 1);
    assert_null(rc_weakref_get(ref));
    rc_decref(ref);
    rc_runtime_free(rt);
}

/* Finalizers run in steps; one that stores its node keeps it, and its peer,
 * alive (resurrection); the rest is freed, also when every finalizer takes
 * and drops a reference to its peer; nothing is finalized twice, and
 * dropping the resurrected nodes frees them without finalizing them again. */
static void run_finalizer_case(int touch_peer) {
    reset();
    enum { PAIRS = 1000 };
    rc_runtime *rt = new_rt(16);
    g_keep = rc_list(rt);
    g_resurrect_mod = 10;
    g_touch_peer = touch_peer;
    make_pairs(rt, &fnode_type, 0, PAIRS, NULL);
    for (int more = rc_gc_collect_incremental(rt); more; more = rc_gc_step(rt)) {
    }
    for (int i = 0; i < 2 * PAIRS; i++) {
        bool resurrected = (i % 10 == 0) || ((i ^ 1) % 10 == 0);   /* it or its peer */
        assert_true(g_finalized[i] <= 1);
        /* a peer's temporary reference resurrects nothing */
        assert_int_equal(g_destroyed[i], resurrected ? 0 : 1);
    }
    assert_int_equal(rc_list_len(g_keep), (size_t)(2 * PAIRS / 10));
    rc_gc_stats s[3];
    rc_gc_get_stats(rt, s);
    assert_int_equal(s[2].collected, 2 * PAIRS - 2 * PAIRS / 10 * 2);
    g_resurrect_mod = 0;
    rc_decref(g_keep);
    g_keep = NULL;
    if (rc_gc_collect_incremental(rt))
        finish(rt, NULL);
    for (int i = 0; i < 2 * PAIRS; i++) {
        assert_int_equal(g_destroyed[i], 1);
        assert_int_equal(g_finalized[i], 1);
    }
    rc_runtime_free(rt);
}

static void test_finalizers_in_steps(void **state) {
    (void)state;
    run_finalizer_case(0);
}

static void test_finalizers_touching_their_peer(void **state) {
    (void)state;
    run_finalizer_case(1);
}

static void test_uncollectable_and_saveall_in_steps(void **state) {
    (void)state;
    reset();
    rc_runtime *rt = new_rt(8);
    rc_obj *garbage = rc_gc_garbage(rt);
    make_pairs(rt, &ncnode_type, 0, 50, NULL);     /* no clear: uncollectable */
    make_pairs(rt, &pnode_type, 100, 50, NULL);
    rc_gc_stats s0[3], s1[3];
    rc_gc_get_stats(rt, s0);
    if (rc_gc_collect_incremental(rt))
        finish(rt, NULL);
    rc_gc_get_stats(rt, s1);
    assert_int_equal(s1[2].uncollectable - s0[2].uncollectable, 100);
    assert_int_equal(s1[2].collected - s0[2].collected, 100);
    assert_int_equal(rc_list_len(garbage), 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(g_destroyed[i], 0);
    for (int i = 100; i < 200; i++)
        assert_int_equal(g_destroyed[i], 1);
    /* SAVEALL: everything found is kept, counted as collected */
    rc_gc_set_debug(rt, RC_GC_DEBUG_SAVEALL);
    make_pairs(rt, &pnode_type, 200, 50, NULL);
    rc_gc_get_stats(rt, s0);
    if (rc_gc_collect_incremental(rt))
        finish(rt, NULL);
    rc_gc_get_stats(rt, s1);
    assert_int_equal(s1[2].collected - s0[2].collected, 100);
    assert_int_equal(s1[2].uncollectable, s0[2].uncollectable);
    assert_int_equal(rc_list_len(garbage), 200);
    for (int i = 200; i < 300; i++)
        assert_int_equal(g_destroyed[i], 0);
    rc_gc_set_debug(rt, 0);
    rc_runtime_free(rt);
    for (int i = 0; i < 300; i++)
        assert_true(g_destroyed[i] <= 1);
}

/* The program keeps changing the heap between the steps that take the
 * garbage apart: new garbage, new live objects linked from old ones, old
 * live objects dropped. The old garbage is freed by this collection, the
 * new by the next; the live data stays intact. */
static void test_program_runs_between_garbage_steps(void **state) {
    (void)state;
    reset();
    rct_rng rng;
    rct_rng_init(&rng, rct_seed(14));
    rc_runtime *rt = new_rt(32);
    enum { LIVE = 2000, PAIRS = 3000 };
    rc_obj *live = rc_list(rt);
    for (int i = 0; i < LIVE; i++) {
        rc_obj *v = rc_new(rt, &pnode_type);
        ((pnode *)v)->id = i;
        assert_int_equal(rc_list_append(rt, live, v), 0);
        rc_decref(v);
    }
    make_pairs(rt, &pnode_type, LIVE, PAIRS, NULL);
    int next_id = LIVE + 2 * PAIRS;
    for (int more = rc_gc_collect_incremental(rt); more; more = rc_gc_step(rt)) {
        if (next_id + 4 >= MAXID)
            continue;
        make_pairs(rt, &pnode_type, next_id, 1, NULL);
        next_id += 2;
        /* a new node hung from a random old one */
        pnode *old = (pnode *)rc_list_get(rt, live, rct_rng_range(&rng, 0, LIVE - 1));
        rc_obj *v = rc_new(rt, &pnode_type);
        ((pnode *)v)->id = next_id++;
        rc_obj *prev = old->extra;
        old->extra = v;
        rc_xdecref(prev);
    }
    for (int i = 0; i < LIVE; i++)
        assert_int_equal(g_destroyed[i], 0);
    for (int i = LIVE; i < LIVE + 2 * PAIRS; i++)
        assert_int_equal(g_destroyed[i], 1);
    rc_decref(live);
    rc_gc_collect(rt, 2);
    for (int i = 0; i < next_id; i++)
        assert_int_equal(g_destroyed[i], 1);
    rc_runtime_free(rt);
}

/* A finalizer turns the bounded-pause mode off in the middle of a
 * collection (the mode cannot finish it from inside its own step); the
 * allocations that follow finish it instead of starting a young collection
 * over a set whose state is in its links, and the live data stays intact. */
static rc_runtime *g_off_rt;
static void off_finalize(rc_obj *self) {
    (void)self;
    rc_gc_set_incremental(g_off_rt, 0);
}
static const rc_type offnode_type = { .name = "offnode", .size = sizeof(pnode), .flags = RC_TYPE_GC,
                                      .traverse = pn_traverse, .clear = pn_clear, .destroy = pn_destroy,
                                      .finalize = off_finalize };

static void test_mode_turned_off_by_a_finalizer(void **state) {
    (void)state;
    reset();
    rc_runtime *rt = new_rt(8);
    g_off_rt = rt;
    rc_obj *live = rc_list(rt);
    enum { LIVE = 300 };
    for (int i = 0; i < LIVE; i++) {
        rc_obj *v = rc_new(rt, &pnode_type);
        ((pnode *)v)->id = i;
        assert_int_equal(rc_list_append(rt, live, v), 0);
        rc_decref(v);
    }
    make_pairs(rt, &pnode_type, LIVE, 200, NULL);
    make_pairs(rt, &offnode_type, LIVE + 400, 1, NULL);
    assert_int_equal(rc_gc_collect_incremental(rt), 1);
    while (rc_gc_get_incremental(rt) != 0)
        assert_int_equal(rc_gc_step(rt), 1);   /* until the finalizer has run */
    /* the collector on, the threshold low: the allocation trigger */
    rc_gc_set_threshold(rt, 10, 10, 10);
    rc_gc_enable(rt);
    int next = LIVE + 402;
    for (int k = 0; k < 100; k++) {
        make_pairs(rt, &pnode_type, next, 1, NULL);
        next += 2;
    }
    rc_gc_collect(rt, 2);
    for (int i = 0; i < LIVE; i++) {
        assert_int_equal(g_destroyed[i], 0);
        assert_int_equal(((pnode *)rc_list_get(rt, live, (size_t)i))->id, i);
    }
    for (int i = LIVE; i < next; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(rc_runtime_object_count(rt), LIVE + 1);   /* and the list */
    rc_decref(live);
    rc_runtime_free(rt);
}

/* Finalizers resurrect their nodes into a dict whose keys were all strs
 * (their int keys rebuild its table with hashed entries, from inside a
 * step), while the program grows, shrinks and rebuilds the same dict between
 * the steps and moves live nodes in and out of it: the dict's table changes
 * under a scan that already passed it. */
static void test_dict_reshaped_between_garbage_steps(void **state) {
    (void)state;
    reset();
    rct_rng rng;
    rct_rng_init(&rng, rct_seed(15));
    enum { LIVE = 300, PAIRS = 1500 };
    rc_runtime *rt = new_rt(8);
    g_keep_dict = rc_dict(rt);
    assert_non_null(g_keep_dict);
    /* live nodes, held only by the dict, under str keys */
    for (int i = 0; i < LIVE; i++) {
        rc_obj *v = rc_new(rt, &pnode_type);
        ((pnode *)v)->id = i;
        char name[16];
        snprintf(name, sizeof name, "live%d", i);
        assert_int_equal(rc_dict_set_str(rt, g_keep_dict, name, v), 0);
        rc_decref(v);
    }
    g_resurrect_mod = 7;
    make_pairs(rt, &fnode_type, LIVE, PAIRS, NULL);
    int steps = 0, filler = 0;
    for (int more = rc_gc_collect_incremental(rt); more; more = rc_gc_step(rt), steps++) {
        char name[24];
        /* grow by str keys, and drop some: rebuilds and shrinks */
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "fill%d", filler++);
            rc_obj *v = rc_int(rt, filler);
            assert_int_equal(rc_dict_set_str(rt, g_keep_dict, name, v), 0);
            rc_decref(v);
        }
        if (filler > 40 && rct_rng_range(&rng, 0, 1)) {
            snprintf(name, sizeof name, "fill%d", filler - 40);
            rc_obj *k = rc_str(rt, name);
            assert_int_equal(rc_dict_del(rt, g_keep_dict, k), 0);
            rc_decref(k);
        }
        /* move a live node from one key to another */
        int i = (int)rct_rng_range(&rng, 0, LIVE - 1);
        snprintf(name, sizeof name, "live%d", i);
        rc_obj *v = rc_dict_get_str(rt, g_keep_dict, name);
        if (v) {
            rc_incref(v);
            rc_obj *k = rc_str(rt, name);
            assert_int_equal(rc_dict_del(rt, g_keep_dict, k), 0);
            rc_decref(k);
            snprintf(name, sizeof name, "moved%d", i);
            assert_int_equal(rc_dict_set_str(rt, g_keep_dict, name, v), 0);
            rc_decref(v);
        } else {
            rc_error_clear(rt);
        }
    }
    assert_true(steps > 10);
    for (int i = 0; i < LIVE; i++)
        assert_int_equal(g_destroyed[i], 0);
    for (int i = LIVE; i < LIVE + 2 * PAIRS; i++) {
        bool resurrected = i % 7 == 0 || (i ^ 1) % 7 == 0;   /* it or its peer */
        assert_true(g_finalized[i] <= 1);
        assert_int_equal(g_destroyed[i], resurrected ? 0 : 1);
        if (i % 7 == 0) {
            char name[16];
            snprintf(name, sizeof name, "n%d", i);
            rc_obj *found;
            if (i % 2) {
                rc_obj *key = rc_int(rt, i);
                found = rc_dict_get(rt, g_keep_dict, key);
                rc_decref(key);
            } else {
                found = rc_dict_get_str(rt, g_keep_dict, name);
            }
            assert_non_null(found);
            assert_int_equal(((pnode *)found)->id, i);
        }
    }
    /* dropping the dict frees everything, and no finalizer runs twice */
    g_resurrect_mod = 0;
    rc_decref(g_keep_dict);
    g_keep_dict = NULL;
    if (rc_gc_collect_incremental(rt))
        finish(rt, NULL);
    for (int i = 0; i < LIVE + 2 * PAIRS; i++) {
        assert_int_equal(g_destroyed[i], 1);
        assert_true(g_finalized[i] <= 1);
    }
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_freed_in_bounded_steps),
        cmocka_unit_test(test_one_large_step_does_it_all),
        cmocka_unit_test(test_step_time_bounds_steps),
        cmocka_unit_test(test_weak_references_in_steps),
        cmocka_unit_test(test_dropped_weak_reference_gets_no_callback),
        cmocka_unit_test(test_weak_reference_taken_during_the_scan),
        cmocka_unit_test(test_finalizers_in_steps),
        cmocka_unit_test(test_finalizers_touching_their_peer),
        cmocka_unit_test(test_uncollectable_and_saveall_in_steps),
        cmocka_unit_test(test_program_runs_between_garbage_steps),
        cmocka_unit_test(test_mode_turned_off_by_a_finalizer),
        cmocka_unit_test(test_dict_reshaped_between_garbage_steps),
    };
    return rct_run_tests(tests, NULL, NULL);
}
