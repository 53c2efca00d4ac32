/* test_gc_incremental_reentry.c - user code that runs at the end of an
 * incremental collection (its STOP callbacks, the destroy of objects whose
 * deallocation the collection deferred) calls back into the collector.
 *
 * That code runs during the collection, as it does in a stop-the-world one:
 * rc_gc_collect and rc_gc_collect_incremental called from it return 0 and do
 * nothing, and the collection's last phase (clearing the barrier flag of the
 * survivors) still reaches every survivor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"
#include "rct_gnode.h"

#define MAXN 4096

static int g_destroyed[MAXN];

static void node_destroy(rc_obj *self) {
    rct_gnode *n = (rct_gnode *)self;
    g_destroyed[n->id]++;
    rct_gnode_drop_slots(n);
}
static void node_clear(rc_obj *self) {
    rct_gnode_drop_slots((rct_gnode *)self);
}
static const rc_type node_type = { .name = "gnode", .size = sizeof(rct_gnode), .flags = RC_TYPE_GC,
                                   .traverse = rct_gnode_traverse, .clear = node_clear,
                                   .destroy = node_destroy };

static int g_stop_calls;
static long g_nested_collect;
static int g_nested_incremental;

static void collect_from_stop(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)arg;
    if (phase != RC_GC_STOP || info->generation != 2 || g_stop_calls++ > 0)
        return;
    g_nested_collect = rc_gc_collect(rt, 2);
    g_nested_incremental = rc_gc_collect_incremental(rt);
}

/* rct_scaled(n, min_value), at most MAXN */
static int scaled(size_t n, size_t min_value) {
    size_t k = rct_scaled(n, min_value);
    return k < MAXN ? (int)k : MAXN;
}

/* n nodes: the even ones kept in a list, the odd ones garbage self-cycles. */
static rc_obj *build(rc_runtime *rt, int n) {
    memset(g_destroyed, 0, sizeof g_destroyed);
    rc_obj *keep = rc_list(rt);
    assert_non_null(keep);
    for (int i = 0; i < n; i++) {
        rct_gnode *a = (rct_gnode *)rc_new(rt, &node_type);
        assert_non_null(a);
        a->id = i;
        if (i % 2 == 0) {
            assert_int_equal(rc_list_append(rt, keep, &a->ob), 0);
        } else {
            rc_incref(&a->ob);
            a->slot[0] = &a->ob;
        }
        rc_decref(&a->ob);
    }
    return keep;
}

/* Every kept node is intact, none carries the barrier flag any more (a
 * count change takes the fast path and the next collection finds nothing),
 * and the garbage went exactly once. */
static void check_after(rc_runtime *rt, rc_obj *keep, int n) {
    for (size_t i = 0; i < rc_list_len(keep); i++) {
        rc_obj *o = rc_list_get(rt, keep, i);
        assert_int_equal(g_destroyed[((rct_gnode *)o)->id], 0);
        rc_incref(o);
        rc_decref(o);
    }
    for (int i = 1; i < n; i += 2)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_int_equal(rc_runtime_object_count(rt), rc_list_len(keep) + 1);
}

static void test_collect_from_stop_callback(void **state) {
    (void)state;
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.gc_disabled = 1;
    rc_runtime *rt = rc_runtime_new(&cfg);
    assert_non_null(rt);
    int n = scaled(MAXN / 2, 200);
    rc_obj *keep = build(rt, n);
    g_stop_calls = 0;
    g_nested_collect = -1;
    g_nested_incremental = -1;
    assert_int_equal(rc_gc_callback_add(rt, collect_from_stop, NULL), 0);
    rc_gc_set_incremental(rt, 97);
    int steps = 0;
    for (int more = rc_gc_collect_incremental(rt); more; more = rc_gc_step(rt))
        assert_true(++steps < 1000000);
    assert_true(steps > 1);
    assert_int_equal(g_stop_calls, 1);
    assert_int_equal(g_nested_collect, 0);
    assert_int_equal(g_nested_incremental, 0);
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    assert_int_equal(st[2].collections, 1);
    assert_int_equal(st[2].collected, (size_t)n / 2);
    check_after(rt, keep, n);
    assert_int_equal(rc_gc_callback_remove(rt, collect_from_stop, NULL), 0);
    rc_decref(keep);
    rc_gc_set_incremental(rt, 0);
    rc_runtime_free(rt);
}

/* The same through the automatic trigger: the STOP callback runs inside an
 * allocation of the program. */
static void test_collect_from_stop_callback_automatic(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    rc_gc_set_threshold(rt, 50, 2, 2);
    rc_gc_set_incremental(rt, 64);
    g_stop_calls = 0;
    g_nested_collect = -1;
    g_nested_incremental = -1;
    assert_int_equal(rc_gc_callback_add(rt, collect_from_stop, NULL), 0);
    int n = scaled(MAXN / 2, 2000);   /* enough triggers for a full collection */
    rc_obj *keep = build(rt, n);
    for (int i = 0; i < 20 && rc_gc_step(rt); i++) {
    }
    assert_true(g_stop_calls > 0);
    assert_int_equal(g_nested_collect, 0);
    assert_int_equal(g_nested_incremental, 0);
    rc_gc_set_incremental(rt, 0);
    assert_int_equal(rc_gc_callback_remove(rt, collect_from_stop, NULL), 0);
    rc_gc_collect(rt, 2);
    check_after(rt, keep, n);
    rc_decref(keep);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_from_stop_callback),
        cmocka_unit_test(test_collect_from_stop_callback_automatic),
    };
    return rct_run_tests(tests, NULL, NULL);
}
