/* test_gc_bulk.c - the stop-the-world collector's marking of tentatively
 * unreachable objects (src/gc/collect.c: RCO_F_BARRIER in the header instead
 * of flags in the links, taken off by the object's first refcount change
 * while the garbage is deleted). Whatever path an object takes - found
 * unreachable and then reached again, collected, left uncollectable, saved
 * by SAVEALL, weakly referenced, freed while another object's finalizer
 * runs - no object may keep the mark afterwards: a marked object outside a
 * collection would send every refcount change to the incremental mode's
 * barrier. Each scenario checks the collection's result, the per-object
 * counters, the object count and the absence of the mark; the runtimes run
 * in debug mode, which reports any use after free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"
#include "rct_gnode.h"

typedef rct_gnode gnode;

#define MAXID 64
static int g_destroyed[MAXID], g_cleared[MAXID];
static int g_next_id;

static void gnode_clear(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_cleared[n->id]++;
    rct_gnode_drop_slots(n);
}

static void gnode_destroy(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_destroyed[n->id]++;
    rct_gnode_drop_slots(n);
}

static const rc_type node_type = {
    .name = "bulk_node", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
};

static const rc_type noclear_type = {
    .name = "bulk_noclear", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .destroy = gnode_destroy,
};

/* Not a container: never in a collection's set, but freed by a clear. Its
 * finalizer runs user code in the middle of the deletion of the garbage. */
static rc_runtime *g_fin_rt;
static int g_fin_runs;
static long g_fin_collect;
static void outside_finalize(rc_obj *self) {
    (void)self;
    g_fin_runs++;
    g_fin_collect = rc_gc_collect(g_fin_rt, 2);      /* in progress: does nothing */
    gnode *x = (gnode *)rc_new(g_fin_rt, &node_type);  /* allocates and tracks */
    assert_non_null(x);
    x->id = MAXID - 1;
    rc_decref(&x->ob);
}
static const rc_type outside_type = {
    .name = "bulk_outside", .size = sizeof(rc_obj), .finalize = outside_finalize,
};

static rc_runtime *new_rt(void) {
    rc_config c;
    rc_config_init(&c);
    c.debug = 1;
    c.gc_disabled = 1;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    memset(g_destroyed, 0, sizeof g_destroyed);
    memset(g_cleared, 0, sizeof g_cleared);
    g_next_id = 0;
    return rt;
}

static void free_rt(rc_runtime *rt) {
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_runtime_free(rt);
}

static gnode *mk(rc_runtime *rt, const rc_type *t) {
    gnode *n = (gnode *)rc_new(rt, t);
    assert_non_null(n);
    n->id = g_next_id++;
    return n;
}

/* a.slot[i] = b, a new reference */
static void link_(gnode *a, int i, gnode *b) {
    rc_incref(&b->ob);
    a->slot[i] = &b->ob;
}

static void assert_unmarked(const gnode *n) {
    assert_int_equal(n->ob.rc_head_ & RC_HEAD_BARRIER_, 0);
}

/* b is first in the generation and referenced only by a, which the test
 * holds: the scan finds b unreachable before it reaches a, and a brings it
 * back. Both a full collection (one pass for steps 1-2) and a young one. */
static void test_found_then_reached(void **state) {
    (void)state;
    for (int gen = 0; gen <= 2; gen += 2) {
        rc_runtime *rt = new_rt();
        size_t base = rc_runtime_object_count(rt);
        gnode *b = mk(rt, &node_type), *c = mk(rt, &node_type), *a = mk(rt, &node_type);
        link_(a, 0, b);
        link_(b, 0, c);                 /* c comes back through b */
        rc_decref(&b->ob);
        rc_decref(&c->ob);
        assert_int_equal(rc_gc_collect(rt, gen), 0);
        assert_unmarked(a);
        assert_unmarked(b);
        assert_unmarked(c);
        assert_true(rc_gc_is_tracked(&b->ob) && rc_gc_is_tracked(&c->ob));
        assert_int_equal(rc_refcount(&b->ob), 1);
        assert_int_equal(rc_refcount(&c->ob), 1);
        assert_int_equal(g_destroyed[0] + g_destroyed[1] + g_destroyed[2], 0);
        assert_int_equal(rc_gc_collect(rt, 2), 0);   /* and again, now in gen 2 */
        rc_decref(&a->ob);              /* frees all three by refcounting */
        assert_int_equal(g_destroyed[0] + g_destroyed[1] + g_destroyed[2], 3);
        assert_int_equal(rc_runtime_object_count(rt), base);
        free_rt(rt);
    }
}

/* A chain in allocation order held only at its head: in a full collection
 * the scan reaches each node before the reach from its predecessor is
 * applied (the prefetch ring delays it), so every node is found unreachable
 * and brought back. A garbage cycle in the same collection goes. */
static void test_chain_reached_late(void **state) {
    (void)state;
    enum { CHAIN = 50 };
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *node[CHAIN];
    for (int i = 0; i < CHAIN; i++) {
        node[i] = mk(rt, &node_type);
        if (i > 0) {
            node[i - 1]->slot[0] = &node[i]->ob;     /* takes the reference */
            node[i - 1]->slot[1] = &node[i]->ob;     /* twice: two visits each */
            rc_incref(&node[i]->ob);
        }
    }
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(rc_gc_collect(rt, 2), round == 0 ? 2 : 0);
        for (int i = 0; i < CHAIN; i++) {
            assert_unmarked(node[i]);
            assert_true(rc_gc_is_tracked(&node[i]->ob));
            assert_int_equal(rc_refcount(&node[i]->ob), i == 0 ? 1 : 2);
            assert_int_equal(g_destroyed[i], 0);
        }
    }
    assert_int_equal(g_destroyed[CHAIN] + g_destroyed[CHAIN + 1], 2);
    rc_decref(&node[0]->ob);
    for (int i = 0; i < CHAIN; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* A cycle without clear is uncollectable: it goes to rc_gc_garbage
 * unmarked, and the incremental mode can collect it later. */
static void test_uncollectable(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *a = mk(rt, &noclear_type), *b = mk(rt, &noclear_type);
    gnode *c = mk(rt, &node_type);       /* collectable, in the same collection */
    link_(a, 0, b);
    link_(b, 0, a);
    link_(c, 0, c);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_decref(&c->ob);
    assert_int_equal(rc_gc_collect(rt, 2), 3);
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    assert_int_equal(st[2].collected, 1);
    assert_int_equal(st[2].uncollectable, 2);
    assert_int_equal(g_destroyed[2], 1);
    assert_int_equal(rc_list_len(rc_gc_garbage(rt)), 2);
    assert_unmarked(a);
    assert_unmarked(b);
    assert_int_equal(rc_refcount(&a->ob), 2);    /* b and the garbage list */
    /* break the cycle by hand, then drop the garbage list's references */
    rc_obj *bo = a->slot[0];
    a->slot[0] = NULL;
    rc_decref(bo);
    rc_list_clear(rc_gc_garbage(rt));
    assert_int_equal(g_destroyed[0] + g_destroyed[1], 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* The same when the garbage list cannot take them (no memory): they stay
 * alive in the oldest generation, unrecorded, and still unmarked. */
static void test_uncollectable_unrecorded(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *a = mk(rt, &noclear_type), *b = mk(rt, &noclear_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    rc_runtime_fail_after(rt, -1);
    assert_int_equal(rc_list_len(rc_gc_garbage(rt)), 0);
    assert_unmarked(a);
    assert_unmarked(b);
    assert_true(rc_gc_is_tracked(&a->ob) && rc_gc_is_tracked(&b->ob));
    assert_int_equal(rc_refcount(&a->ob), 1);
    rc_obj *bo = a->slot[0];
    a->slot[0] = NULL;
    rc_decref(bo);
    assert_int_equal(g_destroyed[0] + g_destroyed[1], 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

static void test_saveall(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_gc_set_debug(rt, RC_GC_DEBUG_SAVEALL);
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    assert_int_equal(rc_list_len(rc_gc_garbage(rt)), 2);
    assert_unmarked(a);
    assert_unmarked(b);
    assert_int_equal(g_cleared[0] + g_cleared[1], 0);
    rc_gc_set_debug(rt, 0);
    rc_list_clear(rc_gc_garbage(rt));
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    assert_int_equal(g_destroyed[0] + g_destroyed[1], 2);
    free_rt(rt);
}

static int g_cb_runs;
static void weak_cb(rc_obj *ref, void *arg) {
    (void)ref;
    (void)arg;
    g_cb_runs++;
}

/* A weakly referenced member makes the collection run user code: the marks
 * must be gone before the callback runs. */
static void test_weakref_member(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_obj *w = rc_weakref_new(rt, &a->ob, weak_cb, NULL);
    assert_non_null(w);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    g_cb_runs = 0;
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    assert_int_equal(g_cb_runs, 1);
    assert_null(rc_weakref_get(w));
    assert_int_equal(g_destroyed[0] + g_destroyed[1], 2);
    rc_decref(w);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* A clear frees an object outside the collection whose finalizer allocates
 * and asks for a collection while the garbage is being deleted; afterwards
 * the incremental mode (whose barrier was set aside meanwhile) works. */
static void test_user_code_inside_then_incremental(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    g_fin_rt = rt;
    g_fin_runs = 0;
    g_fin_collect = -1;
    size_t base = rc_runtime_object_count(rt);
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type);
    link_(a, 0, b);
    link_(b, 0, a);
    a->slot[1] = rc_new(rt, &outside_type);       /* a holds the only reference */
    assert_non_null(a->slot[1]);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    assert_int_equal(g_fin_runs, 1);
    assert_int_equal(g_fin_collect, 0);
    assert_int_equal(g_destroyed[0] + g_destroyed[1], 2);
    assert_int_equal(g_destroyed[MAXID - 1], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);

    rc_gc_set_incremental(rt, 2);
    gnode *keep = mk(rt, &node_type), *x = mk(rt, &node_type), *y = mk(rt, &node_type);
    link_(keep, 0, keep);
    link_(x, 0, y);
    link_(y, 0, x);
    rc_decref(&x->ob);
    rc_decref(&y->ob);
    while (rc_gc_collect_incremental(rt) == 1) {
    }
    assert_int_equal(g_destroyed[3] + g_destroyed[4], 2);
    assert_unmarked(keep);
    assert_int_equal(rc_refcount(&keep->ob), 2);
    rc_gc_set_incremental(rt, 0);
    rc_decref(&keep->ob);
    assert_int_equal(rc_gc_collect(rt, 2), 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found_then_reached),
        cmocka_unit_test(test_chain_reached_late),
        cmocka_unit_test(test_uncollectable),
        cmocka_unit_test(test_uncollectable_unrecorded),
        cmocka_unit_test(test_saveall),
        cmocka_unit_test(test_weakref_member),
        cmocka_unit_test(test_user_code_inside_then_incremental),
    };
    return rct_run_tests(tests, NULL, NULL);
}
