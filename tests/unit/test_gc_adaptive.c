/* test_gc_adaptive.c - the adaptive young threshold (the default policy;
 * rc_gc_set_adaptive):
 * a program whose containers all survive pays for few young collections
 * (the threshold doubles up to ADAPT_MAX times the configured one), one that
 * makes cyclic garbage keeps them frequent and its waiting garbage bounded,
 * a young collection that finds garbage again brings the threshold down;
 * rc_gc_get_threshold keeps Python's meaning while it is on; and
 * rc_gc_set_threshold (or thresholds in the runtime's configuration) turns
 * it off with the caller's numbers used as given.
 * Counts are observed with a gc callback, never timed. */
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

/* How far the threshold may grow, as a multiple of the configured one
 * (RCG_ADAPT_MAX in src/gc/gc.h; documented in docs/gc.md). */
#define ADAPT_MAX 256
#include "rct_gnode.h"

typedef rct_gnode gnode;

static void gnode_clear(rc_obj *self) {
    rct_gnode_drop_slots((gnode *)self);
}

static const rc_type node_type = {
    .name = "ad_node", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_clear,
};

static size_t g_young, g_all;

static void count(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)rt, (void)arg;
    if (phase != RC_GC_STOP)
        return;
    g_all++;
    g_young += info->generation == 0;
}

static rc_runtime *new_rt(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    assert_int_equal(rc_gc_callback_add(rt, count, NULL), 0);
    g_young = g_all = 0;
    return rt;
}

static gnode *mk(rc_runtime *rt) {
    gnode *n = (gnode *)rc_new(rt, &node_type);
    assert_non_null(n);
    return n;
}

/* 100,000 containers that all survive, held in a list */
static rc_obj *hold_many(rc_runtime *rt, size_t n) {
    rc_obj *keep = rc_list(rt);
    for (size_t i = 0; i < n; i++) {
        gnode *x = mk(rt);
        assert_int_equal(rc_list_append(rt, keep, &x->ob), 0);
        rc_decref(&x->ob);
    }
    return keep;
}

static void test_survivors_make_fewer_collections(void **state) {
    (void)state;
    size_t n = 400000;   /* past 700 x (1 + 2 + ... + ADAPT_MAX) net allocations */
    rc_runtime *rt = new_rt();
    size_t t[3];
    rc_gc_get_threshold(rt, t);
    size_t base = t[0];
    assert_int_equal(rc_gc_get_adaptive(rt), 1);   /* the default */
    rc_gc_set_adaptive(rt, 0);
    rc_obj *keep = hold_many(rt, n);
    size_t fixed = g_all;   /* every collection, young or escalated */
    rc_decref(keep);
    rc_runtime_free(rt);

    rt = new_rt();
    keep = hold_many(rt, n);
    size_t adaptive = g_all;
    /* 700, 1400, ... up to ADAPT_MAX x 700: a handful instead of n / 700 */
    assert_true(fixed >= n / (base + 1) - 2);
    assert_true(adaptive <= 16);
    assert_true(adaptive * 5 < fixed);
    assert_int_equal(rc_gc_get_young_threshold(rt), base * ADAPT_MAX);
    /* Python's meaning kept: the configured threshold */
    rc_gc_get_threshold(rt, t);
    assert_int_equal(t[0], base);
    rc_decref(keep);
    rc_runtime_free(rt);
}

static void test_garbage_keeps_it_low_and_bounded(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_gc_set_adaptive(rt, 1);
    size_t t[3];
    rc_gc_get_threshold(rt, t);
    size_t base = t[0], most = 0;
    /* every container is cyclic garbage: 2-cycles, 200,000 objects */
    for (int i = 0; i < 100000; i++) {
        gnode *a = mk(rt), *b = mk(rt);
        a->slot[0] = &b->ob;
        rc_incref(&b->ob);
        b->slot[0] = &a->ob;
        rc_incref(&a->ob);
        rc_decref(&a->ob);
        rc_decref(&b->ob);
        size_t live = rc_runtime_object_count(rt);
        if (live > most)
            most = live;
    }
    /* the threshold never left the configured one: every young collection
     * found garbage */
    assert_int_equal(rc_gc_get_young_threshold(rt), base);
    assert_true(most <= 2 * base + 64);
    assert_true(g_all >= 200000 / (base + 2) - 2);
    rc_runtime_free(rt);
}

static void test_garbage_brings_it_down(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_gc_set_adaptive(rt, 1);
    size_t t[3];
    rc_gc_get_threshold(rt, t);
    size_t base = t[0];
    rc_obj *keep = hold_many(rt, 400000);
    assert_int_equal(rc_gc_get_young_threshold(rt), base * ADAPT_MAX);
    /* now only garbage: the threshold comes back to the configured one */
    for (int i = 0; i < 200000; i++) {
        gnode *a = mk(rt), *b = mk(rt);
        a->slot[0] = &b->ob;
        rc_incref(&b->ob);
        b->slot[0] = &a->ob;
        rc_incref(&a->ob);
        rc_decref(&a->ob);
        rc_decref(&b->ob);
    }
    assert_int_equal(rc_gc_get_young_threshold(rt), base);
    rc_decref(keep);
    rc_runtime_free(rt);
}

static void test_set_threshold_turns_it_off(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_gc_set_adaptive(rt, 1);
    rc_obj *keep = hold_many(rt, 20000);
    assert_true(rc_gc_get_young_threshold(rt) > 700);
    rc_gc_set_threshold(rt, 500, 10, 10);
    assert_int_equal(rc_gc_get_adaptive(rt), 0);
    size_t t[3];
    rc_gc_get_threshold(rt, t);
    assert_int_equal(t[0], 500);
    assert_int_equal(rc_gc_get_young_threshold(rt), 500);
    /* as given from then on: a collection per 500 containers */
    g_all = 0;
    rc_obj *more = hold_many(rt, 5000);
    assert_true(g_all >= 9 && g_all <= 11);
    /* off again restores the configured threshold */
    rc_gc_set_adaptive(rt, 1);
    rc_obj *most = hold_many(rt, 20000);
    assert_true(rc_gc_get_young_threshold(rt) > 500);
    rc_gc_set_adaptive(rt, 0);
    assert_int_equal(rc_gc_get_young_threshold(rt), 500);
    rc_decref(keep);
    rc_decref(more);
    rc_decref(most);
    rc_runtime_free(rt);
}

/* Thresholds given in the configuration are used as given. */
static void test_configured_thresholds_are_fixed(void **state) {
    (void)state;
    rc_config c;
    rc_config_init(&c);
    c.gc_threshold[0] = 300;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    assert_int_equal(rc_gc_get_adaptive(rt), 0);
    assert_int_equal(rc_gc_callback_add(rt, count, NULL), 0);
    g_all = 0;
    rc_obj *keep = hold_many(rt, 30000);
    assert_int_equal(rc_gc_get_young_threshold(rt), 300);
    assert_true(g_all >= 30000 / 301 - 2);
    rc_decref(keep);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_survivors_make_fewer_collections),
        cmocka_unit_test(test_garbage_keeps_it_low_and_bounded),
        cmocka_unit_test(test_garbage_brings_it_down),
        cmocka_unit_test(test_set_threshold_turns_it_off),
        cmocka_unit_test(test_configured_thresholds_are_fixed),
    };
    return rct_run_tests(tests, NULL, NULL);
}
