/* test_gc_finalize.c - finalizers (PEP 442), resurrection, weak references
 * during a collection, weak-value dicts, and reentrancy: collections
 * requested inside finalizers and callbacks, objects created or dropped by
 * finalizers, collections while the deallocation queue holds objects, and
 * runtimes freed while finalizers resurrect.
 *
 * The order fixed by DESIGN.md: weak references to the unreachable objects
 * are cleared and their callbacks run, then the finalizers, then a
 * resurrection check, then clear. Every test checks it through an event
 * log; scenarios that used to crash the process run in a forked child so
 * that one failure cannot hide the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"
#include "rct_gnode.h"

/* ---- a user GC type with an event log ---------------------------------- */

#define NSLOT RCT_GNODE_SLOTS
#define MAXID 4096
#define MAGIC(id) (0x5EED0000u ^ (unsigned)(id))

typedef rct_gnode gnode;   /* tests/helpers/rct_gnode.h */

static int g_destroyed[MAXID], g_cleared[MAXID], g_finalized[MAXID], g_weakcb[MAXID];
static int g_final_flag_in_destroy[MAXID];
static int g_next_id;
static FILE *g_report;
static int g_violations;              /* checks made inside hooks */

typedef struct event { char kind; int id; } event;
static event g_ev[8192];
static int g_nev;

static void logev(char kind, int id) {
    if (g_nev < (int)(sizeof g_ev / sizeof g_ev[0])) {
        g_ev[g_nev].kind = kind;
        g_ev[g_nev].id = id;
        g_nev++;
    }
}

static int first_ev(char kind) {
    for (int i = 0; i < g_nev; i++)
        if (g_ev[i].kind == kind)
            return i;
    return -1;
}

static int last_ev(char kind) {
    for (int i = g_nev - 1; i >= 0; i--)
        if (g_ev[i].kind == kind)
            return i;
    return -1;
}

static int count_ev(char kind) {
    int n = 0;
    for (int i = 0; i < g_nev; i++)
        n += g_ev[i].kind == kind;
    return n;
}

static void (*g_on_finalize)(gnode *self);
static void (*g_on_weakref)(rc_obj *ref, int id);

static void gnode_clear(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_cleared[n->id]++;
    logev('C', n->id);
    rct_gnode_drop_slots(n);
}

static void gnode_destroy(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_destroyed[n->id]++;
    g_final_flag_in_destroy[n->id] = rc_gc_is_finalized(self);
    logev('D', n->id);
    if (n->magic != MAGIC(n->id))
        g_violations++;
    n->magic = 0xDEADu;
    rct_gnode_drop_slots(n);
}

static void gnode_finalize(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_finalized[n->id]++;
    logev('F', n->id);
    if (!rc_gc_is_finalized(self))      /* the flag is set before the call */
        g_violations++;
    if (g_on_finalize)
        g_on_finalize(n);
}

static int gnode_hash(rc_obj *self, uint64_t *out) {
    *out = (uint64_t)(uintptr_t)self >> 4;
    return 0;
}

static const rc_type node_type = {
    .name = "gc_node", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .hash = gnode_hash,
};
static const rc_type fin_type = {
    .name = "gc_fin", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .finalize = gnode_finalize, .hash = gnode_hash,
};

static void wr_cb(rc_obj *ref, void *arg) {
    int id = (int)(intptr_t)arg;
    g_weakcb[id]++;
    logev('W', id);
    if (rc_weakref_get(ref) != NULL)    /* a callback sees its weakref dead */
        g_violations++;
    if (g_on_weakref)
        g_on_weakref(ref, id);
}

static gnode *mk(rc_runtime *rt, const rc_type *t) {
    gnode *n = (gnode *)rc_new(rt, t);
    assert_non_null(n);
    assert_true(g_next_id < MAXID);
    n->id = g_next_id++;
    n->magic = MAGIC(n->id);
    return n;
}

static void link_(gnode *a, int i, void *b) {
    assert_null(a->slot[i]);
    a->slot[i] = b;
    rc_incref(b);
}

static rc_obj *weak(rc_runtime *rt, gnode *n) {
    rc_obj *w = rc_weakref_new(rt, &n->ob, wr_cb, (void *)(intptr_t)n->id);
    assert_non_null(w);
    return w;
}

/* a garbage ring of n nodes of type t (ids returned in ring[]) */
static void ring(rc_runtime *rt, const rc_type *t, int n, gnode **out) {
    for (int i = 0; i < n; i++)
        out[i] = mk(rt, t);
    for (int i = 0; i < n; i++)
        link_(out[i], 0, out[(i + 1) % n]);
}

static rc_runtime *new_rt(void) {
    rc_config c;
    rc_config_init(&c);
    c.debug = 1;
    c.gc_disabled = 1;
    c.report = g_report;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    return rt;
}

static void free_rt(rc_runtime *rt) {
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_runtime_free(rt);
}

static int setup(void **state) {
    (void)state;
    memset(g_destroyed, 0, sizeof g_destroyed);
    memset(g_cleared, 0, sizeof g_cleared);
    memset(g_finalized, 0, sizeof g_finalized);
    memset(g_weakcb, 0, sizeof g_weakcb);
    memset(g_final_flag_in_destroy, 0, sizeof g_final_flag_in_destroy);
    g_next_id = 0;
    g_nev = 0;
    g_violations = 0;
    g_on_finalize = NULL;
    g_on_weakref = NULL;
    g_report = tmpfile();
    return g_report ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    if (g_report)
        fclose(g_report);
    g_report = NULL;
    return 0;
}

/* ---- order: weakref callbacks, finalizers, clear ------------------------- */

static gnode *g_ring[16];
static int g_nring;

/* In a callback no member of the garbage has been cleared or finalized. */
static void check_ring_intact(rc_obj *ref, int id) {
    (void)ref;
    (void)id;
    for (int i = 0; i < g_nring; i++) {
        gnode *n = g_ring[i];
        if (n->magic != MAGIC(n->id) || n->slot[0] != &g_ring[(i + 1) % g_nring]->ob ||
            g_cleared[n->id] || g_finalized[n->id])
            g_violations++;
    }
}

static void test_order_weakrefs_finalizers_clear(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    g_nring = 5;
    ring(rt, &fin_type, g_nring, g_ring);
    rc_obj *w[5];
    for (int i = 0; i < 5; i++)
        w[i] = weak(rt, g_ring[i]);
    for (int i = 0; i < 5; i++)
        rc_decref(&g_ring[i]->ob);
    g_on_weakref = check_ring_intact;
    assert_int_equal(rc_gc_collect(rt, 0), 5);
    assert_int_equal(g_violations, 0);
    assert_int_equal(count_ev('W'), 5);
    assert_int_equal(count_ev('F'), 5);
    assert_int_equal(count_ev('D'), 5);
    assert_true(last_ev('W') < first_ev('F'));       /* callbacks before any finalizer */
    assert_true(last_ev('F') < first_ev('C'));       /* finalizers before any clear */
    assert_true(last_ev('F') < first_ev('D'));
    for (int i = 0; i < 5; i++) {
        assert_int_equal(g_finalized[i], 1);
        assert_int_equal(g_weakcb[i], 1);
        assert_int_equal(g_destroyed[i], 1);
        assert_int_equal(g_final_flag_in_destroy[i], 1);
        assert_null(rc_weakref_get(w[i]));
        rc_decref(w[i]);
    }
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* CPython clears every weak reference to every unreachable object before it
 * runs the first callback, so no callback can reach (and resurrect) another
 * object of the garbage through a weak reference. */
static rc_obj *g_w[8];
static int g_nw;
static void check_all_dead(rc_obj *ref, int id) {
    (void)ref;
    (void)id;
    for (int i = 0; i < g_nw; i++)
        if (rc_weakref_get(g_w[i]) != NULL)
            g_violations++;
}

static void test_all_weakrefs_cleared_before_callbacks(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    gnode *r[3];
    ring(rt, &node_type, 3, r);
    g_nw = 3;
    for (int i = 0; i < 3; i++)
        g_w[i] = weak(rt, r[i]);
    for (int i = 0; i < 3; i++)
        rc_decref(&r[i]->ob);
    g_on_weakref = check_all_dead;
    assert_int_equal(rc_gc_collect(rt, 0), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g_weakcb[i], 1);
    /* expected 0: got one violation per weakref still alive when an earlier
     * object's callback ran (weak references are cleared object by object) */
    assert_int_equal(g_violations, 0);
    for (int i = 0; i < 3; i++)
        rc_decref(g_w[i]);
    free_rt(rt);
}

/* Several weakrefs to one object: all dead before the first of their
 * callbacks runs; weakrefs without a callback are cleared too. */
static void test_many_weakrefs_to_one_object(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    gnode *a = mk(rt, &fin_type);
    link_(a, 0, a);
    g_nw = 4;
    for (int i = 0; i < 4; i++)
        g_w[i] = weak(rt, a);
    rc_obj *plain = rc_weakref_new(rt, &a->ob, NULL, NULL);
    assert_int_equal(rc_weakref_count(&a->ob), 5);
    rc_decref(&a->ob);
    g_on_weakref = check_all_dead;
    assert_int_equal(rc_gc_collect(rt, 0), 1);
    assert_int_equal(g_violations, 0);
    assert_int_equal(g_weakcb[0], 4);
    assert_null(rc_weakref_get(plain));
    assert_true(last_ev('W') < first_ev('F'));
    for (int i = 0; i < 4; i++)
        rc_decref(g_w[i]);
    rc_decref(plain);
    free_rt(rt);
}

/* ---- resurrection ------------------------------------------------------------- */

static rc_obj *g_keep;               /* a live list finalizers resurrect into */
static rc_runtime *g_rt;

static void resurrect_self(gnode *self) {
    if (rc_list_append(g_rt, g_keep, &self->ob) != 0)
        g_violations++;
}

static void resurrect_first_only(gnode *self) {
    if (self->id == 0)
        resurrect_self(self);
}

static void test_resurrection(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    g_keep = rc_list(rt);
    /* a (fin, resurrects) <-> b (fin), b -> payload list of ints, a -> c (no fin) */
    gnode *a = mk(rt, &fin_type), *b = mk(rt, &fin_type), *c = mk(rt, &node_type);
    rc_obj *payload = rc_list(rt);
    for (int i = 0; i < 20; i++) {
        rc_obj *v = rc_int(rt, 5000 + i);
        assert_int_equal(rc_list_append(rt, payload, v), 0);
        rc_decref(v);
    }
    link_(a, 0, b);
    link_(b, 0, a);
    link_(b, 1, payload);
    link_(a, 1, c);
    rc_decref(payload);
    rc_obj *wa = weak(rt, a), *wc = weak(rt, c);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_decref(&c->ob);
    assert_int_equal(rc_gc_is_finalized(&a->ob), 0);
    g_on_finalize = resurrect_first_only;
    rc_gc_stats s0[3], s[3];
    rc_gc_get_stats(rt, s0);
    /* nothing is freed: everything is reachable from a again */
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    rc_gc_get_stats(rt, s);
    assert_int_equal(s[0].collected, s0[0].collected);
    assert_int_equal(g_violations, 0);
    assert_int_equal(g_finalized[0], 1);
    assert_int_equal(g_finalized[1], 1);          /* b was unreachable too: finalized */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g_destroyed[i], 0);
        assert_int_equal(g_cleared[i], 0);
    }
    assert_int_equal(rc_gc_is_finalized(&a->ob), 1);
    assert_int_equal(rc_gc_is_finalized(&b->ob), 1);
    assert_int_equal(rc_gc_is_finalized(&c->ob), 0);
    /* intact */
    assert_ptr_equal(a->slot[0], &b->ob);
    assert_ptr_equal(a->slot[1], &c->ob);
    assert_ptr_equal(b->slot[0], &a->ob);
    assert_ptr_equal(b->slot[1], payload);
    assert_int_equal(a->magic, MAGIC(0));
    assert_int_equal(rc_refcount(&a->ob), 2);      /* b and g_keep */
    assert_int_equal(rc_refcount(&b->ob), 1);
    assert_int_equal(rc_refcount(&c->ob), 1);
    assert_int_equal(rc_refcount(payload), 1);
    assert_int_equal(rc_list_len(payload), 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(rc_int_value(rc_list_get(rt, payload, (size_t)i)), 5000 + i);
    /* the weak references were cleared before the finalizers ran: a
     * resurrected object has lost them (CPython's behaviour) */
    assert_null(rc_weakref_get(wa));
    assert_null(rc_weakref_get(wc));
    assert_int_equal(g_weakcb[0], 1);
    assert_int_equal(g_weakcb[2], 1);
    /* still reachable: further collections change nothing */
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_int_equal(g_finalized[0], 1);
    /* drop it again: freed, without a second finalizer call */
    rc_list_clear(g_keep);
    g_nev = 0;
    assert_int_equal(rc_gc_collect(rt, 2), 4);            /* a, b, c, payload */
    assert_int_equal(count_ev('F'), 0);
    assert_int_equal(g_finalized[0], 1);
    assert_int_equal(g_finalized[1], 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(g_weakcb[0], 1);             /* not called twice */
    rc_decref(wa);
    rc_decref(wc);
    rc_decref(g_keep);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* Resurrected, then freed by plain refcounting: no second finalizer. */
static void test_resurrection_then_refcount(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    g_keep = rc_list(rt);
    gnode *r[2];
    ring(rt, &fin_type, 2, r);
    rc_decref(&r[0]->ob);
    rc_decref(&r[1]->ob);
    g_on_finalize = resurrect_self;
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    assert_int_equal(rc_list_len(g_keep), 2);
    assert_int_equal(g_finalized[0] + g_finalized[1], 2);
    /* break the cycle by hand and drop the list */
    gnode *a = r[0];
    rc_obj *b = a->slot[0];
    a->slot[0] = NULL;
    rc_decref(b);
    rc_decref(g_keep);
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(g_destroyed[1], 1);
    assert_int_equal(g_finalized[0] + g_finalized[1], 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* Every member resurrects itself: all survive; the next time around the
 * finalizers do not run and the cycle is freed. */
static void test_resurrect_all_twice(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    g_keep = rc_list(rt);
    gnode *r[6];
    ring(rt, &fin_type, 6, r);
    for (int i = 0; i < 6; i++)
        rc_decref(&r[i]->ob);
    g_on_finalize = resurrect_self;
    assert_int_equal(rc_gc_collect(rt, 1), 0);
    assert_int_equal(rc_list_len(g_keep), 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(g_finalized[i], 1);
        assert_ptr_equal(r[i]->slot[0], &r[(i + 1) % 6]->ob);
        assert_int_equal(rc_refcount(&r[i]->ob), 2);
    }
    rc_list_clear(g_keep);
    assert_int_equal(rc_gc_collect(rt, 2), 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(g_finalized[i], 1);
        assert_int_equal(g_destroyed[i], 1);
    }
    assert_int_equal(rc_list_len(g_keep), 0);
    rc_decref(g_keep);
    free_rt(rt);
}

/* ---- finalizers that do things ------------------------------------------ */

/* creates objects: a live list of ints kept in g_keep, and a new garbage cycle */
static void make_things(gnode *self) {
    rc_obj *l = rc_list(g_rt);
    rc_obj *v = rc_int(g_rt, 1000000 + self->id);
    if (!l || !v || rc_list_append(g_rt, l, v) != 0 || rc_list_append(g_rt, g_keep, l) != 0)
        g_violations++;
    rc_xdecref(v);
    rc_xdecref(l);
    gnode *x = (gnode *)rc_new(g_rt, &node_type), *y = (gnode *)rc_new(g_rt, &node_type);
    if (!x || !y) {
        g_violations++;
        return;
    }
    x->id = g_next_id++;
    x->magic = MAGIC(x->id);
    y->id = g_next_id++;
    y->magic = MAGIC(y->id);
    x->slot[0] = &y->ob;
    y->slot[0] = &x->ob;            /* the creation references become the cycle's */
}

static void test_finalizer_creates_objects(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    g_keep = rc_list(rt);
    gnode *r[3];
    ring(rt, &fin_type, 3, r);
    for (int i = 0; i < 3; i++)
        rc_decref(&r[i]->ob);
    g_on_finalize = make_things;
    assert_int_equal(rc_gc_collect(rt, 0), 3);
    assert_int_equal(g_violations, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g_destroyed[i], 1);
    /* the lists made by the finalizers are alive and whole */
    assert_int_equal(rc_list_len(g_keep), 3);
    for (size_t i = 0; i < 3; i++) {
        rc_obj *l = rc_list_get(rt, g_keep, i);
        assert_int_equal(rc_list_len(l), 1);
        int64_t v = rc_int_value(rc_list_get(rt, l, 0));
        assert_true(v >= 1000000 && v < 1000003);
    }
    /* the cycles they built are new garbage (3 pairs), not yet freed */
    assert_int_equal(g_next_id, 9);
    for (int i = 3; i < 9; i++)
        assert_int_equal(g_destroyed[i], 0);
    assert_int_equal(rc_gc_collect(rt, 0), 6);
    for (int i = 3; i < 9; i++)
        assert_int_equal(g_destroyed[i], 1);
    rc_decref(g_keep);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* A finalizer drops the last reference to an outside object and breaks its
 * own cycle: everything is freed during finalization, nothing twice. */
static rc_obj *g_outside;
static void drop_things(gnode *self) {
    if (g_outside) {
        rc_obj *o = g_outside;
        g_outside = NULL;
        rc_decref(o);
    }
    rct_gnode_drop_slots(self);                       /* breaks the ring */
}

static void test_finalizer_drops_references(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *out = mk(rt, &fin_type);         /* id 0 */
    rc_obj *wout = weak(rt, out);
    g_outside = &out->ob;
    gnode *r[4];
    ring(rt, &fin_type, 4, r);              /* ids 1..4 */
    for (int i = 0; i < 4; i++)
        rc_decref(&r[i]->ob);
    g_on_finalize = drop_things;
    rc_gc_stats s0[3], s[3];
    rc_gc_get_stats(rt, s0);
    long n = rc_gc_collect(rt, 0);
    rc_gc_get_stats(rt, s);
    assert_int_equal(g_violations, 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(g_finalized[i], 1);
        assert_int_equal(g_destroyed[i], 1);
    }
    assert_null(rc_weakref_get(wout));
    assert_int_equal(g_weakcb[0], 1);
    /* the result agrees with the statistics */
    assert_true(n >= 0 && n <= 4);
    assert_int_equal((size_t)n, (s[0].collected - s0[0].collected) +
                                    (s[0].uncollectable - s0[0].uncollectable));
    rc_decref(wout);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* A finalizer modifies another member of the garbage (drops its slot). */
static gnode *g_victim;
static void drop_victim_slot(gnode *self) {
    if (g_victim && self != g_victim) {
        rc_obj *x = g_victim->slot[1];
        g_victim->slot[1] = NULL;
        rc_xdecref(x);
    }
}

static void test_finalizer_modifies_other_garbage(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *r[3];
    ring(rt, &fin_type, 3, r);
    gnode *leaf = mk(rt, &fin_type);
    link_(r[2], 1, leaf);
    rc_decref(&leaf->ob);
    g_victim = r[2];
    for (int i = 0; i < 3; i++)
        rc_decref(&r[i]->ob);
    g_on_finalize = drop_victim_slot;
    assert_int_equal(rc_gc_collect(rt, 0), 3);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(g_destroyed[i], 1);
        assert_int_equal(g_finalized[i], 1);
    }
    g_victim = NULL;
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* ---- reentrancy ----------------------------------------------------------------- */

static long g_nested[64];
static int g_nnested;
static void collect_inside(gnode *self) {
    (void)self;
    if (g_nnested < 64)
        g_nested[g_nnested++] = rc_gc_collect(g_rt, 2);
}
static void collect_inside_wr(rc_obj *ref, int id) {
    (void)ref;
    (void)id;
    if (g_nnested < 64)
        g_nested[g_nnested++] = rc_gc_collect(g_rt, 0);
}

static int g_depth, g_max_depth, g_starts;
static void depth_cb(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)rt;
    (void)info;
    (void)arg;
    if (phase == RC_GC_START) {
        g_starts++;
        if (++g_depth > g_max_depth)
            g_max_depth = g_depth;
    } else {
        g_depth--;
    }
}

static void test_collect_inside_collection(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    g_depth = g_max_depth = g_starts = 0;
    assert_int_equal(rc_gc_callback_add(rt, depth_cb, NULL), 0);
    gnode *r[3];
    ring(rt, &fin_type, 3, r);
    rc_obj *w = weak(rt, r[1]);
    for (int i = 0; i < 3; i++)
        rc_decref(&r[i]->ob);
    g_nnested = 0;
    g_on_finalize = collect_inside;
    g_on_weakref = collect_inside_wr;
    assert_int_equal(rc_gc_collect(rt, 0), 3);
    assert_int_equal(g_nnested, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g_nested[i], 0);
    assert_int_equal(g_starts, 1);
    assert_int_equal(g_max_depth, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g_destroyed[i], 1);
    rc_decref(w);
    /* the runtime collects normally afterwards */
    g_on_finalize = NULL;
    g_on_weakref = NULL;
    ring(rt, &node_type, 2, r);
    rc_decref(&r[0]->ob);
    rc_decref(&r[1]->ob);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    assert_int_equal(rc_gc_callback_remove(rt, depth_cb, NULL), 0);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* Finalizers allocate tracked objects past the threshold during a
 * collection: no nested automatic collection. */
static void alloc_many(gnode *self) {
    (void)self;
    for (int i = 0; i < 20; i++) {
        rc_obj *l = rc_list(g_rt);
        if (!l || rc_list_append(g_rt, g_keep, l) != 0)
            g_violations++;
        rc_xdecref(l);
    }
}

static void test_automatic_trigger_inside_collection(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    g_keep = rc_list(rt);
    rc_gc_set_threshold(rt, 3, 1, 1);
    g_depth = g_max_depth = g_starts = 0;
    assert_int_equal(rc_gc_callback_add(rt, depth_cb, NULL), 0);
    gnode *r[3];
    ring(rt, &fin_type, 3, r);
    for (int i = 0; i < 3; i++)
        rc_decref(&r[i]->ob);
    rc_gc_enable(rt);
    g_on_finalize = alloc_many;
    assert_int_equal(rc_gc_collect(rt, 2), 3);
    assert_int_equal(g_starts, 1);
    assert_int_equal(g_max_depth, 1);
    assert_int_equal(rc_list_len(g_keep), 60);
    assert_int_equal(g_violations, 0);
    size_t c[3];
    rc_gc_get_count(rt, c);
    assert_int_equal(c[0], 60 - 3);             /* 60 allocations, 3 deallocations */
    g_on_finalize = NULL;
    rc_obj *l = rc_list(rt);                    /* now it triggers */
    assert_int_equal(g_starts, 2);
    rc_decref(l);
    rc_gc_disable(rt);
    assert_int_equal(rc_gc_callback_remove(rt, depth_cb, NULL), 0);
    rc_decref(g_keep);
    free_rt(rt);
}

/* A weak-reference callback that drops references and builds new garbage
 * during a collection. */
static void wr_builds(rc_obj *ref, int id) {
    (void)ref;
    (void)id;
    gnode *x = (gnode *)rc_new(g_rt, &node_type);
    if (!x) {
        g_violations++;
        return;
    }
    x->id = g_next_id++;
    x->magic = MAGIC(x->id);
    x->slot[0] = &x->ob;                        /* a self-loop, garbage */
    if (g_outside) {
        rc_obj *o = g_outside;
        g_outside = NULL;
        rc_decref(o);
    }
}

static void test_weakref_callback_side_effects(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *out = mk(rt, &node_type);            /* 0 */
    g_outside = &out->ob;
    gnode *r[2];
    ring(rt, &fin_type, 2, r);                  /* 1, 2 */
    rc_obj *w = weak(rt, r[0]);
    rc_decref(&r[0]->ob);
    rc_decref(&r[1]->ob);
    g_on_weakref = wr_builds;
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    assert_int_equal(g_violations, 0);
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(g_destroyed[1], 1);
    assert_int_equal(g_destroyed[2], 1);
    assert_int_equal(g_destroyed[3], 0);        /* the self-loop built by the callback */
    g_on_weakref = NULL;
    assert_int_equal(rc_gc_collect(rt, 0), 1);
    assert_int_equal(g_destroyed[3], 1);
    rc_decref(w);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* ---- weak-value dicts ------------------------------------------------------- */

static void test_weakvaluedict_entries_vanish(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    assert_non_null(d);
    gnode *r[4];
    ring(rt, &fin_type, 4, r);
    gnode *live = mk(rt, &node_type);
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_list_append(rt, l, l), 0);           /* a garbage list cycle */
    for (int i = 0; i < 4; i++) {
        rc_obj *k = rc_str_printf(rt, "k%d", i);
        assert_int_equal(rc_weakvaluedict_set(rt, d, k, &r[i]->ob), 0);
        rc_decref(k);
    }
    rc_obj *klive = rc_str(rt, "live"), *klist = rc_str(rt, "list");
    assert_int_equal(rc_weakvaluedict_set(rt, d, klive, &live->ob), 0);
    assert_int_equal(rc_weakvaluedict_set(rt, d, klist, l), 0);
    for (int i = 0; i < 4; i++)
        rc_decref(&r[i]->ob);
    rc_decref(l);
    assert_int_equal(rc_weakvaluedict_len(d), 6);
    assert_int_equal(rc_gc_collect(rt, 0), 5);
    assert_int_equal(rc_weakvaluedict_len(d), 1);
    assert_ptr_equal(rc_weakvaluedict_get(rt, d, klive), &live->ob);
    assert_null(rc_weakvaluedict_get(rt, d, klist));
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);
    rc_obj *k0 = rc_str(rt, "k0");
    assert_null(rc_weakvaluedict_get(rt, d, k0));
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);
    rc_decref(k0);
    rc_iter it;
    rc_obj *key;
    int n = 0, res;
    rc_iter_init(&it, d);
    while ((res = rc_iter_next(rt, &it, &key)) == 1) {
        assert_true(rc_str_equal_cstr(key, "live"));
        n++;
    }
    assert_int_equal(res, 0);
    assert_int_equal(n, 1);
    rc_decref(klive);
    rc_decref(klist);
    rc_decref(&live->ob);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* The dict itself is part of the garbage along with its values (and a key
 * that refers back to the dict's holder). */
static void test_weakvaluedict_inside_garbage(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_weakvaluedict(rt);
    gnode *holder = mk(rt, &fin_type);
    link_(holder, 0, d);
    gnode *r[3];
    ring(rt, &fin_type, 3, r);
    link_(r[0], 1, holder);                        /* values reach the dict's holder */
    rc_obj *key = rc_tuple(rt, 1, &holder->ob);   /* a key holding the holder */
    for (int i = 0; i < 3; i++) {
        rc_obj *k = i == 0 ? key : rc_str_printf(rt, "v%d", i);
        assert_int_equal(rc_weakvaluedict_set(rt, d, k, &r[i]->ob), 0);
        if (i)
            rc_decref(k);
    }
    rc_decref(key);
    rc_decref(d);
    rc_decref(&holder->ob);
    for (int i = 0; i < 3; i++)
        rc_decref(&r[i]->ob);
    long n = rc_gc_collect(rt, 0);
    assert_int_equal(n, 6);                        /* dict, holder, 3 nodes, the tuple */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(g_destroyed[i], 1);
        assert_int_equal(g_finalized[i], 1);
    }
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* ---- runtime teardown ------------------------------------------------------ */

static void test_runtime_free_with_resurrecting_finalizers(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    g_keep = rc_list(rt);                  /* deliberately never released */
    gnode *r[4];
    ring(rt, &fin_type, 4, r);
    for (int i = 0; i < 4; i++)
        rc_decref(&r[i]->ob);
    gnode *s[2];
    ring(rt, &fin_type, 2, s);             /* resurrect from a live cycle */
    rc_decref(&s[0]->ob);
    rc_decref(&s[1]->ob);
    g_on_finalize = resurrect_self;
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_runtime_free(rt);
    g_on_finalize = NULL;
    for (int i = 0; i < 6; i++) {
        assert_int_equal(g_finalized[i], 1);
        assert_int_equal(g_destroyed[i], 1);
    }
    assert_int_equal(g_violations, 0);
}

/* Finalizers that allocate and build cycles while the runtime is freed. */
static void test_runtime_free_finalizers_allocate(void **state) {
    (void)state;
    rc_runtime *rt = g_rt = new_rt();
    g_keep = rc_list(rt);                  /* held until the end: destroyed by teardown */
    gnode *r[3];
    ring(rt, &fin_type, 3, r);
    for (int i = 0; i < 3; i++)
        rc_decref(&r[i]->ob);
    g_on_finalize = make_things;
    rc_runtime_free(rt);
    g_on_finalize = NULL;
    for (int i = 0; i < 9; i++)
        assert_int_equal(g_destroyed[i], 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g_finalized[i], 1);
    assert_int_equal(g_violations, 0);
}

/* ---- collections while the deallocation queue holds objects ------------------
 *
 * Deallocations nested deeper than a small bound are queued (RCO_F_QUEUED,
 * count 0, the count bits reused as the queue link) until the outermost one
 * drains the queue. A finalizer of a queued object, or of one freed while
 * others wait, may start a collection (explicitly, or by allocating past
 * the threshold) or walk the generations: the queued objects are still
 * tracked. The collector must not treat them as garbage (incref, clear,
 * decref: a second deallocation of the same object) nor incref them into a
 * list (which corrupts the queue link). The scenario is a chain of lists
 * deep enough to reach the queue whatever the bound, with plain nodes and a
 * finalizable node at every level; each runs in a child process. */

typedef int (*scenario_fn)(void);

static int run_isolated(scenario_fn fn) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* cmocka's handlers would resume the test run inside the child */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        signal(SIGILL, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        signal(SIGABRT, SIG_DFL);
        alarm(120);
        int r = fn();
        fflush(NULL);
        _exit(r);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

#define LEVELS 200
static int g_mode;     /* 0: rc_gc_collect, 1: rc_gc_get_objects, 2: automatic,
                          3: rc_gc_get_referrers */
static int g_inner_calls, g_inner_bad;
static int g_first_level;   /* only finalizers of this level and deeper act */
static rc_obj *g_x;    /* a live object that every z node refers to */

static void finalize_during_cascade(gnode *self) {
    g_inner_calls++;
    if (self->id / 3 < g_first_level)
        return;
    switch (g_mode) {
    case 0:
        /* the objects waiting in the queue are dead, not garbage: nothing
         * unreachable is left anywhere */
        if (rc_gc_collect(g_rt, 2) != 0)
            g_inner_bad++;
        break;
    case 1: {
        rc_obj *l = rc_gc_get_objects(g_rt, -1);
        if (!l)
            g_inner_bad++;
        rc_xdecref(l);
        break;
    }
    case 2: {
        rc_obj *l[3];
        for (int i = 0; i < 3; i++)          /* past threshold 1: collects */
            l[i] = rc_list(g_rt);
        for (int i = 0; i < 3; i++) {
            if (!l[i])
                g_inner_bad++;
            rc_xdecref(l[i]);
        }
        break;
    }
    default: {
        rc_obj *l = rc_gc_get_referrers(g_rt, g_x);
        if (!l)
            g_inner_bad++;
        rc_xdecref(l);
        break;
    }
    }
}

static int cascade_scenario(void) {
    rc_config c;
    rc_config_init(&c);
    c.debug = 1;
    c.gc_disabled = 1;
    c.report = g_report;
    rc_runtime *rt = g_rt = rc_runtime_new(&c);
    if (!rt)
        return 10;
    if (g_mode == 2)
        rc_gc_set_threshold(rt, 1, 1000, 1000);
    size_t base = rc_runtime_object_count(rt);
    g_x = rc_list(rt);
    static rc_obj *chain[LEVELS];
    for (int k = 0; k < LEVELS; k++)
        if (!(chain[k] = rc_list(rt)))
            return 11;
    for (int k = 0; k < LEVELS; k++) {
        gnode *y = (gnode *)rc_new(rt, &node_type), *z = (gnode *)rc_new(rt, &node_type);
        gnode *f = (gnode *)rc_new(rt, &fin_type);
        if (!y || !z || !f)
            return 12;
        y->id = 3 * k;
        z->id = 3 * k + 1;
        f->id = 3 * k + 2;
        y->magic = MAGIC(y->id);
        z->magic = MAGIC(z->id);
        f->magic = MAGIC(f->id);
        z->slot[0] = g_x;
        rc_incref(g_x);
        /* [next level, y, z, f]: items are dropped last first */
        if ((k + 1 < LEVELS && rc_list_append(rt, chain[k], chain[k + 1])) ||
            rc_list_append(rt, chain[k], &y->ob) || rc_list_append(rt, chain[k], &z->ob) ||
            rc_list_append(rt, chain[k], &f->ob))
            return 13;
        rc_decref(&y->ob);
        rc_decref(&z->ob);
        rc_decref(&f->ob);
    }
    for (int k = 1; k < LEVELS; k++)
        rc_decref(chain[k]);
    rc_gc_stats st0[3], st[3];
    rc_gc_get_stats(rt, st0);
    g_on_finalize = finalize_during_cascade;
    if (g_mode == 2)
        rc_gc_enable(rt);
    rc_decref(chain[0]);
    rc_gc_disable(rt);
    g_on_finalize = NULL;
    rc_gc_get_stats(rt, st);
    if (g_inner_calls != LEVELS)
        return 14;
    if (g_inner_bad)
        return 15;
    if (g_mode == 2 && st[0].collections == st0[0].collections)
        return 16;
    for (int i = 0; i < 3 * LEVELS; i++)
        if (g_destroyed[i] != 1)
            return 17;
    if (g_violations)
        return 18;
    if (rc_refcount(g_x) != 1)
        return 19;
    rc_decref(g_x);
    if (rc_runtime_object_count(rt) != base)
        return 20;
    if (rc_runtime_debug_errors(rt) != 0)
        return 21;
    if (rc_gc_collect(rt, 2) != 0)
        return 22;
    if (rc_gc_garbage(rt) && rc_list_len(rc_gc_garbage(rt)) != 0)
        return 23;
    rc_runtime_free(rt);
    return 0;
}

/* Whatever the depth at which deallocations start to be queued, one value
 * of g_first_level makes the first finalizer that acts be one that runs
 * while objects wait in the queue (and, for the automatic trigger, before
 * any collection has moved them out of generation 0). */
static int sweep_levels(void) {
    for (int level = 0; level < 64; level++) {
        memset(g_destroyed, 0, sizeof g_destroyed);
        g_inner_calls = g_inner_bad = 0;
        g_first_level = level;
        int r = cascade_scenario();
        if (r)
            return r;
    }
    return 0;
}

static int scenario_collect(void) { g_mode = 0; return sweep_levels(); }
static int scenario_get_objects(void) { g_mode = 1; return sweep_levels(); }
static int scenario_automatic(void) { g_mode = 2; return sweep_levels(); }
static int scenario_referrers(void) { g_mode = 3; return sweep_levels(); }

static void test_collect_during_dealloc_queue(void **state) {
    (void)state;
    /* expected 0 (a clean exit); got 139 (SIGSEGV) before the fix: a queued
     * object is found "unreachable", increfed, cleared and queued again */
    assert_int_equal(run_isolated(scenario_collect), 0);
}

static void test_automatic_collection_during_dealloc_queue(void **state) {
    (void)state;
    assert_int_equal(run_isolated(scenario_automatic), 0);
}

static void test_get_objects_during_dealloc_queue(void **state) {
    (void)state;
    assert_int_equal(run_isolated(scenario_get_objects), 0);
}

static void test_get_referrers_during_dealloc_queue(void **state) {
    (void)state;
    assert_int_equal(run_isolated(scenario_referrers), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_weakrefs_finalizers_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_weakrefs_cleared_before_callbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_weakrefs_to_one_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resurrection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resurrection_then_refcount, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resurrect_all_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalizer_creates_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalizer_drops_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finalizer_modifies_other_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_inside_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_automatic_trigger_inside_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weakref_callback_side_effects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weakvaluedict_entries_vanish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weakvaluedict_inside_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_free_with_resurrecting_finalizers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_free_finalizers_allocate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect_during_dealloc_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_automatic_collection_during_dealloc_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_objects_during_dealloc_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_referrers_during_dealloc_queue, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
