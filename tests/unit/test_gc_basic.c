/* test_gc_basic.c - the cycle collector on cycles of every shape: self-loops,
 * 2-cycles, long rings, cycles through the built-in containers (list, dict,
 * set, tuple through a list), user types, cycles reachable from live objects
 * (must survive untouched), cycles hanging off cycles, cycles spanning
 * generations, and rc_runtime_free with live cycles. Every scenario checks
 * the exact value rc_gc_collect returns, the per-generation statistics, the
 * per-object destroy / clear / finalize counters, and that the runtime's
 * object count returns to its baseline (nothing leaked, nothing freed twice;
 * the runtimes run in debug mode, which reports any use after free). */
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

/* ---- a user GC type: a node with four slots ---------------------------- */

#define NSLOT RCT_GNODE_SLOTS
#define MAXID 40000
#define MAGIC(id) (0x5EED0000u ^ (unsigned)(id))

typedef rct_gnode gnode;   /* tests/helpers/rct_gnode.h */

static int g_destroyed[MAXID], g_cleared[MAXID], g_finalized[MAXID];
static int g_next_id;
static FILE *g_report;

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

static void gnode_finalize(rc_obj *self) {
    g_finalized[((gnode *)self)->id]++;
}

static int gnode_hash(rc_obj *self, uint64_t *out) {
    *out = (uint64_t)(uintptr_t)self >> 4;
    return 0;
}

static int gnode_equal(rc_obj *a, rc_obj *b) {
    return a == b;
}

static const rc_type node_type = {
    .name = "gc_node", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .hash = gnode_hash, .equal = gnode_equal,
};
static const rc_type fin_type = {
    .name = "gc_fin", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .finalize = gnode_finalize,
};
static const rc_type noclear_type = {
    .name = "gc_noclear", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .destroy = gnode_destroy,
};

static gnode *mk(rc_runtime *rt, const rc_type *t) {
    gnode *n = (gnode *)rc_new(rt, t);
    assert_non_null(n);
    assert_true(g_next_id < MAXID);
    n->id = g_next_id++;
    n->magic = MAGIC(n->id);
    return n;
}

/* a.slot[i] = b (a new reference) */
static void link_(gnode *a, int i, void *b) {
    assert_null(a->slot[i]);
    a->slot[i] = b;
    rc_incref(b);
}

static void check_intact(gnode *n, void *s0, void *s1, void *s2, void *s3) {
    assert_int_equal(n->magic, MAGIC(n->id));
    assert_ptr_equal(n->slot[0], s0);
    assert_ptr_equal(n->slot[1], s1);
    assert_ptr_equal(n->slot[2], s2);
    assert_ptr_equal(n->slot[3], s3);
    assert_int_equal(g_destroyed[n->id], 0);
    assert_int_equal(g_cleared[n->id], 0);
}

static rc_runtime *new_rt(void) {
    rc_config c;
    rc_config_init(&c);
    c.debug = 1;            /* use after free and double free are reported */
    c.gc_disabled = 1;      /* only the collections the test asks for */
    c.report = g_report;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    /* the collector state starts clean */
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    return rt;
}

static void free_rt(rc_runtime *rt) {
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_runtime_free(rt);
}

/* Only stats[gen] moved, by one collection with these figures. */
static void expect_stats(rc_runtime *rt, const rc_gc_stats before[3], int gen, size_t collected,
                         size_t uncollectable) {
    rc_gc_stats now[3];
    rc_gc_get_stats(rt, now);
    for (int g = 0; g < 3; g++) {
        size_t dc = g == gen ? 1 : 0;
        assert_int_equal(now[g].collections, before[g].collections + dc);
        assert_int_equal(now[g].collected, before[g].collected + (g == gen ? collected : 0));
        assert_int_equal(now[g].uncollectable,
                         before[g].uncollectable + (g == gen ? uncollectable : 0));
    }
}

/* Collect generation gen; assert the result and the stats. */
static void collect_expect(rc_runtime *rt, int gen, long found) {
    rc_gc_stats before[3];
    rc_gc_get_stats(rt, before);
    long r = rc_gc_collect(rt, gen);
    assert_int_equal(r, found);
    expect_stats(rt, before, gen, (size_t)found, 0);
}

static int setup(void **state) {
    (void)state;
    memset(g_destroyed, 0, sizeof g_destroyed);
    memset(g_cleared, 0, sizeof g_cleared);
    memset(g_finalized, 0, sizeof g_finalized);
    g_next_id = 0;
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

/* ---- shapes --------------------------------------------------------------- */

static void test_self_loop(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *a = mk(rt, &node_type);
    int id = a->id;
    link_(a, 0, a);
    rc_decref(&a->ob);
    assert_int_equal(rc_runtime_object_count(rt), base + 1);
    assert_int_equal(g_destroyed[id], 0);
    collect_expect(rt, 0, 1);
    assert_int_equal(g_destroyed[id], 1);
    assert_int_equal(g_cleared[id], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    collect_expect(rt, 2, 0);           /* nothing left */
    free_rt(rt);
    assert_int_equal(g_destroyed[id], 1);
}

static void test_two_cycle(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    collect_expect(rt, 0, 2);
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(g_destroyed[1], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* The same two nodes linked twice each way (multi-edges) and a node with
 * every slot pointing at itself. */
static void test_multi_edges(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type), *c = mk(rt, &node_type);
    link_(a, 0, b);
    link_(a, 1, b);
    link_(b, 0, a);
    link_(b, 3, a);
    for (int i = 0; i < NSLOT; i++)
        link_(c, i, c);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_decref(&c->ob);
    collect_expect(rt, 2, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

static void test_long_ring(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    size_t n = rct_scaled(10000, 1000);
    gnode *first = mk(rt, &node_type), *prev = first;
    for (size_t i = 1; i < n; i++) {
        gnode *x = mk(rt, &node_type);
        link_(prev, 0, x);
        rc_decref(&x->ob);              /* prev holds it */
        prev = x;
    }
    link_(prev, 0, first);
    rc_decref(&first->ob);
    assert_int_equal(rc_runtime_object_count(rt), base + n);
    collect_expect(rt, 0, (long)n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g_destroyed[i], 1);
        assert_true(g_cleared[i] <= 1);
    }
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* A ring of lists, each holding the next one and an int: clear of a list
 * frees the whole chain through the deallocation queue. */
static void test_long_ring_of_lists(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    size_t buf0 = rc_runtime_buffer_bytes(rt);
    size_t n = rct_scaled(10000, 1000);
    rc_obj *first = rc_list(rt), *prev = first;
    assert_non_null(first);
    for (size_t i = 1; i < n; i++) {
        rc_obj *x = rc_list(rt);
        assert_non_null(x);
        rc_obj *v = rc_int(rt, 100000 + (int64_t)i);
        assert_int_equal(rc_list_append(rt, x, v), 0);
        rc_decref(v);
        assert_int_equal(rc_list_append(rt, prev, x), 0);
        rc_decref(x);
        prev = x;
    }
    assert_int_equal(rc_list_append(rt, prev, first), 0);
    rc_decref(first);
    collect_expect(rt, 1, (long)n);     /* the ints are not tracked */
    assert_int_equal(rc_runtime_object_count(rt), base);
    assert_int_equal(rc_runtime_buffer_bytes(rt), buf0);
    free_rt(rt);
}

/* ---- cycles through the built-in containers -------------------------------- */

static void test_list_cycles(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_list_append(rt, l, l), 0);          /* l = [l] */
    rc_obj *s = rc_str(rt, "payload");
    assert_int_equal(rc_list_append(rt, l, s), 0);
    rc_decref(s);
    rc_obj *w = rc_weakref_new(rt, l, NULL, NULL);
    assert_non_null(w);
    rc_decref(l);
    assert_ptr_equal(rc_weakref_get(w), l);
    collect_expect(rt, 0, 1);
    assert_null(rc_weakref_get(w));
    rc_decref(w);
    /* two lists holding each other */
    rc_obj *a = rc_list(rt), *b = rc_list(rt);
    assert_int_equal(rc_list_append(rt, a, b), 0);
    assert_int_equal(rc_list_append(rt, b, a), 0);
    rc_decref(a);
    rc_decref(b);
    collect_expect(rt, 0, 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

static void test_dict_cycles(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    /* d["me"] = d, plus values that are not tracked */
    rc_obj *d = rc_dict(rt);
    assert_non_null(d);
    assert_int_equal(rc_dict_set_str(rt, d, "me", d), 0);
    rc_obj *v = rc_float(rt, 1.5);
    assert_int_equal(rc_dict_set_str(rt, d, "x", v), 0);
    rc_decref(v);
    rc_decref(d);
    collect_expect(rt, 0, 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    /* a cycle through a key: d[(node,)] = 1, node.slot0 = d (the node is
     * hashable by identity) */
    d = rc_dict(rt);
    gnode *n = mk(rt, &node_type);
    int nid = n->id;
    rc_obj *key = rc_tuple(rt, 1, &n->ob);
    assert_non_null(key);
    rc_obj *one = rc_int(rt, 1);
    assert_int_equal(rc_dict_set(rt, d, key, one), 0);
    link_(n, 0, d);
    rc_decref(key);
    rc_decref(&n->ob);
    rc_decref(d);
    collect_expect(rt, 0, 3);                               /* dict, tuple, node */
    assert_int_equal(g_destroyed[nid], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

static void test_set_cycle(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    assert_non_null(s);
    gnode *h = mk(rt, &node_type);          /* hashable by identity */
    assert_int_equal(rc_set_add(rt, s, &h->ob), 0);
    link_(h, 0, s);
    rc_decref(&h->ob);
    rc_decref(s);
    collect_expect(rt, 0, 2);
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* A tuple can only be part of a cycle through a mutable item. */
static void test_tuple_cycle(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *l = rc_list(rt);
    rc_obj *x = rc_int(rt, 123456);
    rc_obj *t = rc_tuple(rt, 2, l, x);
    assert_non_null(t);
    rc_decref(x);
    assert_int_equal(rc_list_append(rt, l, t), 0);
    rc_decref(t);
    rc_decref(l);
    collect_expect(rt, 0, 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    /* a tuple without a mutable item is no cycle: freed by refcounting */
    rc_obj *a = rc_str(rt, "a");
    rc_obj *t2 = rc_tuple(rt, 1, a);
    rc_decref(a);
    rc_decref(t2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    collect_expect(rt, 0, 0);
    free_rt(rt);
}

/* One cycle through every container: list -> dict -> set -> node -> tuple -> list */
static void test_mixed_container_cycle(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *l = rc_list(rt), *d = rc_dict(rt), *s = rc_set(rt);
    gnode *h = mk(rt, &node_type);
    int hid = h->id;
    rc_obj *t = rc_tuple(rt, 1, l);
    assert_non_null(t);
    assert_int_equal(rc_list_append(rt, l, d), 0);
    assert_int_equal(rc_dict_set_str(rt, d, "set", s), 0);
    assert_int_equal(rc_set_add(rt, s, &h->ob), 0);
    link_(h, 0, t);
    rc_obj *objs[] = { l, d, s, &h->ob, t };
    rc_obj *w[5];
    for (int i = 0; i < 5; i++) {
        w[i] = rc_weakref_new(rt, objs[i], NULL, NULL);
        assert_non_null(w[i]);
    }
    for (int i = 0; i < 5; i++)
        rc_decref(objs[i]);
    for (int i = 0; i < 5; i++)
        assert_non_null(rc_weakref_get(w[i]));
    collect_expect(rt, 2, 5);
    for (int i = 0; i < 5; i++) {
        assert_null(rc_weakref_get(w[i]));
        rc_decref(w[i]);
    }
    assert_int_equal(g_destroyed[hid], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* ---- what must survive --------------------------------------------------- */

/* A cycle reachable from a live object survives, untouched, with its
 * contents; a collection of every generation changes nothing. */
static void test_cycle_reachable_from_live(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *root = rc_list(rt);
    gnode *a = mk(rt, &node_type), *b = mk(rt, &fin_type);
    rc_obj *payload = rc_list(rt);
    for (int i = 0; i < 10; i++) {
        rc_obj *v = rc_int(rt, 1000 + i);
        assert_int_equal(rc_list_append(rt, payload, v), 0);
        rc_decref(v);
    }
    link_(a, 0, b);
    link_(b, 0, a);
    link_(b, 2, payload);
    rc_decref(payload);
    assert_int_equal(rc_list_append(rt, root, &a->ob), 0);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    for (int g = 0; g < 3; g++) {
        collect_expect(rt, g, 0);
        check_intact(a, b, NULL, NULL, NULL);
        check_intact(b, a, NULL, payload, NULL);
        assert_int_equal(g_finalized[b->id], 0);
        assert_int_equal(rc_refcount(&a->ob), 2);       /* root and b */
        assert_int_equal(rc_refcount(&b->ob), 1);
        assert_int_equal(rc_refcount(payload), 1);
        assert_int_equal(rc_list_len(payload), 10);
        for (int i = 0; i < 10; i++)
            assert_int_equal(rc_int_value(rc_list_get(rt, payload, (size_t)i)), 1000 + i);
        assert_int_equal(rc_list_len(root), 1);
        assert_ptr_equal(rc_list_get(rt, root, 0), &a->ob);
    }
    /* the root goes by refcounting; then the cycle is garbage */
    int ida = a->id, idb = b->id;
    rc_decref(root);
    assert_int_equal(g_destroyed[ida], 0);
    collect_expect(rt, 2, 3);
    assert_int_equal(g_destroyed[ida], 1);
    assert_int_equal(g_destroyed[idb], 1);
    assert_int_equal(g_finalized[idb], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* A garbage cycle referring to a live object: the cycle goes, the live
 * object stays with its count back to the test's own reference. */
static void test_cycle_referring_to_live(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *live = mk(rt, &node_type);
    rc_obj *live_list = rc_list(rt);
    assert_int_equal(rc_list_append(rt, live_list, live_list), 0);  /* a live cycle */
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type);
    link_(a, 0, b);
    link_(b, 0, a);
    link_(a, 1, live);
    link_(b, 1, live_list);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    assert_int_equal(rc_refcount(&live->ob), 2);
    collect_expect(rt, 0, 2);
    assert_int_equal(rc_refcount(&live->ob), 1);
    assert_int_equal(rc_refcount(live_list), 2);
    check_intact(live, NULL, NULL, NULL, NULL);
    assert_int_equal(rc_list_len(live_list), 1);
    assert_int_equal(rc_runtime_object_count(rt), base + 2);
    rc_decref(&live->ob);
    rc_decref(live_list);
    collect_expect(rt, 2, 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* Cycles hanging off a cycle: A (2 nodes) -> B (2 nodes) -> C (1 node +
 * a list). All garbage: all collected at once. With B held from outside,
 * only A goes and B, C are intact. */
static void build_chain_of_cycles(rc_runtime *rt, gnode **out) {
    gnode *a1 = mk(rt, &node_type), *a2 = mk(rt, &node_type);
    gnode *b1 = mk(rt, &node_type), *b2 = mk(rt, &node_type);
    gnode *c1 = mk(rt, &fin_type);
    rc_obj *l = rc_list(rt);
    link_(a1, 0, a2);
    link_(a2, 0, a1);
    link_(a2, 1, b1);
    link_(b1, 0, b2);
    link_(b2, 0, b1);
    link_(b2, 1, c1);
    link_(c1, 0, c1);
    link_(c1, 1, l);
    assert_int_equal(rc_list_append(rt, l, &c1->ob), 0);
    rc_decref(l);
    out[0] = a1;
    out[1] = a2;
    out[2] = b1;
    out[3] = b2;
    out[4] = c1;
}

static void test_cycles_hanging_off_cycles(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *n[5];
    build_chain_of_cycles(rt, n);
    for (int i = 0; i < 5; i++)
        rc_decref(&n[i]->ob);
    collect_expect(rt, 0, 6);
    for (int i = 0; i < 5; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(g_finalized[4], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);

    /* again, holding b2 */
    build_chain_of_cycles(rt, n);
    rc_obj *l = n[4]->slot[1];
    for (int i = 0; i < 5; i++)
        if (i != 3)
            rc_decref(&n[i]->ob);
    collect_expect(rt, 0, 2);
    assert_int_equal(g_destroyed[5], 1);
    assert_int_equal(g_destroyed[6], 1);
    check_intact(n[2], n[3], NULL, NULL, NULL);
    check_intact(n[3], n[2], n[4], NULL, NULL);
    check_intact(n[4], n[4], l, NULL, NULL);
    assert_int_equal(g_finalized[9], 0);
    assert_int_equal(rc_refcount(&n[2]->ob), 1);        /* b2 only: a2 was cleared */
    assert_int_equal(rc_refcount(&n[3]->ob), 2);        /* b1 and the test */
    assert_int_equal(rc_refcount(&n[4]->ob), 3);        /* b2, itself, the list */
    assert_int_equal(rc_list_len(l), 1);
    rc_decref(&n[3]->ob);
    collect_expect(rt, 2, 4);
    for (int i = 5; i < 10; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* Many independent cycles at once, of varying lengths. */
static void test_many_cycles(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    size_t ncycles = rct_scaled(500, 50), total = 0;
    for (size_t c = 0; c < ncycles; c++) {
        size_t len = 1 + c % 7;
        gnode *first = mk(rt, (c % 3) ? &node_type : &fin_type), *prev = first;
        for (size_t i = 1; i < len; i++) {
            gnode *x = mk(rt, &node_type);
            link_(prev, 0, x);
            rc_decref(&x->ob);
            prev = x;
        }
        link_(prev, 0, first);
        rc_decref(&first->ob);
        total += len;
    }
    collect_expect(rt, 0, (long)total);
    for (size_t i = 0; i < total; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* ---- generations ---------------------------------------------------------- */

static int list_has(rc_runtime *rt, rc_obj *list, rc_obj *o) {
    for (size_t i = 0; i < rc_list_len(list); i++)
        if (rc_list_get(rt, list, i) == o)
            return 1;
    return 0;
}

static int in_generation(rc_runtime *rt, rc_obj *o, int gen) {
    rc_obj *l = rc_gc_get_objects(rt, gen);
    assert_non_null(l);
    int r = list_has(rt, l, o);
    rc_decref(l);
    return r;
}

/* A cycle with one member in generation 2 and one in generation 0: the
 * older member holds the younger from outside the young generations, so
 * only a collection of generation 2 sees the cycle. */
static void test_cycle_across_generations(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *old = mk(rt, &node_type);
    collect_expect(rt, 1, 0);                   /* old -> generation 2 */
    assert_true(in_generation(rt, &old->ob, 2));
    gnode *young = mk(rt, &node_type);
    assert_true(in_generation(rt, &young->ob, 0));
    link_(old, 0, young);
    link_(young, 0, old);
    rc_decref(&old->ob);
    rc_decref(&young->ob);
    collect_expect(rt, 0, 0);
    assert_true(in_generation(rt, &young->ob, 1));
    collect_expect(rt, 1, 0);
    assert_true(in_generation(rt, &young->ob, 2));
    check_intact(old, young, NULL, NULL, NULL);
    check_intact(young, old, NULL, NULL, NULL);
    collect_expect(rt, 2, 2);
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(g_destroyed[1], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* A young cycle referenced only by an old garbage cycle survives young
 * collections; a collection of the older generation takes both. */
static void test_young_cycle_held_by_old_garbage(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *o1 = mk(rt, &node_type), *o2 = mk(rt, &node_type);
    link_(o1, 0, o2);
    link_(o2, 0, o1);
    collect_expect(rt, 0, 0);                   /* o1, o2 -> generation 1 */
    gnode *y1 = mk(rt, &node_type), *y2 = mk(rt, &node_type);
    link_(y1, 0, y2);
    link_(y2, 0, y1);
    link_(o2, 1, y1);
    rc_decref(&y1->ob);
    rc_decref(&y2->ob);
    rc_decref(&o1->ob);
    rc_decref(&o2->ob);
    collect_expect(rt, 0, 0);                   /* y1, y2 -> generation 1 */
    check_intact(y1, y2, NULL, NULL, NULL);
    collect_expect(rt, 1, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* ---- rc_runtime_free with live cycles ------------------------------------- */

static void test_runtime_free_with_live_cycles(void **state) {
    (void)state;
    rc_config c;
    rc_config_init(&c);
    c.debug = 1;
    c.report = g_report;
    rc_runtime *rt = rc_runtime_new(&c);        /* the collector enabled */
    assert_non_null(rt);
    /* garbage cycles of finalizable nodes: finalized once, destroyed once */
    gnode *f1 = mk(rt, &fin_type), *f2 = mk(rt, &fin_type);            /* 0, 1 */
    link_(f1, 0, f2);
    link_(f2, 0, f1);
    rc_decref(&f1->ob);
    rc_decref(&f2->ob);
    /* a live (leaked) finalizable node in a cycle: destroyed, not finalized */
    gnode *held = mk(rt, &fin_type);                                    /* 2 */
    link_(held, 0, held);
    /* an uncollectable cycle */
    gnode *u1 = mk(rt, &noclear_type), *u2 = mk(rt, &noclear_type);    /* 3, 4 */
    link_(u1, 0, u2);
    link_(u2, 0, u1);
    rc_decref(&u1->ob);
    rc_decref(&u2->ob);
    /* a frozen garbage cycle */
    gnode *z1 = mk(rt, &fin_type), *z2 = mk(rt, &node_type);           /* 5, 6 */
    link_(z1, 0, z2);
    link_(z2, 0, z1);
    rc_decref(&z1->ob);
    rc_decref(&z2->ob);
    rc_gc_freeze(rt);
    /* built-in cycles, with buffers */
    for (int i = 0; i < 50; i++) {
        rc_obj *l = rc_list(rt), *d = rc_dict(rt);
        assert_int_equal(rc_list_append(rt, l, d), 0);
        assert_int_equal(rc_dict_set_str(rt, d, "l", l), 0);
        rc_decref(l);
        rc_decref(d);
    }
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_runtime_free(rt);
    for (int i = 0; i < 7; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(g_finalized[0], 1);
    assert_int_equal(g_finalized[1], 1);
    assert_int_equal(g_finalized[2], 0);        /* still alive: destroyed without finalizing */
    assert_int_equal(g_finalized[5], 1);        /* frozen garbage is collected at the end too */
    /* debug mode reports what was still alive, by type */
    fflush(g_report);
    rewind(g_report);
    char text[4096];
    size_t len = fread(text, 1, sizeof text - 1, g_report);
    text[len] = '\0';
    assert_non_null(strstr(text, "gc_fin"));
    assert_non_null(strstr(text, "gc_noclear"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_self_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multi_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_ring_of_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tuple_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_container_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycle_reachable_from_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycle_referring_to_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycles_hanging_off_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_cycles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycle_across_generations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_young_cycle_held_by_old_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runtime_free_with_live_cycles, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
