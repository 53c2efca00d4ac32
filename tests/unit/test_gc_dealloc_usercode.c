/* rc-test: stress */
/* test_gc_dealloc_usercode.c - user code run by a deallocation (a
 * finalizer, a weak reference's callback, destroy) allocates objects and so
 * may start or advance a collection, in either collector mode, while the
 * dying object is between "count reached zero" and "memory released".
 *
 * Property: whatever collections that user code triggers, the dying object
 * is never examined by them (it is not on any generation list while user
 * code runs), every object is destroyed exactly once, and the runtime ends
 * with no object left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

#define MAXN (1 << 18)

typedef struct unode {
    rc_obj ob;
    rc_obj *a, *b;
    int id;
    int mode;          /* what its finalizer / weakref callback does */
} unode;

static rc_runtime *g_rt;
static int g_destroyed[MAXN];
static int g_finalized[MAXN];
static int g_next_id;
static rc_obj *g_keep;         /* a list: objects made by user code are kept here */

enum { M_NONE, M_ALLOC, M_ALLOC_CYCLE, M_RESURRECT };

static int un_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    unode *n = (unode *)self;
    if (n->a && visit(n->a, arg))
        return 1;
    if (n->b && visit(n->b, arg))
        return 1;
    return 0;
}
static void un_clear(rc_obj *self) {
    unode *n = (unode *)self;
    rc_obj *a = n->a, *b = n->b;
    n->a = n->b = NULL;
    rc_xdecref(a);
    rc_xdecref(b);
}
static void un_destroy(rc_obj *self);
static void un_finalize(rc_obj *self);
static const rc_type unode_type = { .name = "unode", .size = sizeof(unode), .flags = RC_TYPE_GC,
                                    .traverse = un_traverse, .clear = un_clear,
                                    .destroy = un_destroy };
static const rc_type fnode_type = { .name = "fnode", .size = sizeof(unode), .flags = RC_TYPE_GC,
                                    .traverse = un_traverse, .clear = un_clear,
                                    .finalize = un_finalize, .destroy = un_destroy };

static unode *mk(const rc_type *t, int mode) {
    unode *n = (unode *)rc_new(g_rt, t);
    assert_non_null(n);
    assert_true(g_next_id < MAXN);
    n->id = g_next_id++;
    n->mode = mode;
    return n;
}

/* Allocate a handful of GC objects (each allocation may trigger a
 * collection or an incremental step), some in a cycle, and drop them. */
static void churn(int cycle) {
    for (int i = 0; i < 8; i++) {
        unode *x = mk(&unode_type, M_NONE);
        if (cycle) {
            unode *y = mk(&unode_type, M_NONE);
            rc_incref(&y->ob);
            x->a = &y->ob;
            rc_incref(&x->ob);
            y->a = &x->ob;
            rc_decref(&y->ob);
        }
        rc_decref(&x->ob);
    }
}

static void run_mode(unode *n) {
    switch (n->mode) {
    case M_ALLOC: churn(0); break;
    case M_ALLOC_CYCLE: churn(1); break;
    case M_RESURRECT:
        churn(1);
        assert_int_equal(rc_list_append(g_rt, g_keep, &n->ob), 0);
        break;
    default: break;
    }
}

static void un_finalize(rc_obj *self) {
    unode *n = (unode *)self;
    g_finalized[n->id]++;
    run_mode(n);
}

static void un_destroy(rc_obj *self) {
    unode *n = (unode *)self;
    g_destroyed[n->id]++;
    un_clear(self);
    if (n->mode == M_ALLOC || n->mode == M_ALLOC_CYCLE)
        churn(n->mode == M_ALLOC_CYCLE);
}

static void weak_cb(rc_obj *ref, void *arg) {
    (void)ref;
    unode *n = arg;
    (void)n;
    churn((int)((uintptr_t)arg & 16) != 0);
}

static void setup_rt(size_t step) {
    g_rt = rc_runtime_new(NULL);
    assert_non_null(g_rt);
    memset(g_destroyed, 0, sizeof g_destroyed);
    memset(g_finalized, 0, sizeof g_finalized);
    g_next_id = 0;
    rc_gc_set_threshold(g_rt, 3, 2, 2);
    rc_gc_set_incremental(g_rt, step);
    g_keep = rc_list(g_rt);
    assert_non_null(g_keep);
}

static void teardown_rt(void) {
    rc_gc_collect_incremental(g_rt);
    while (rc_gc_step(g_rt) > 0) {
    }
    rc_decref(g_keep);
    rc_gc_collect(g_rt, 2);
    assert_int_equal(rc_runtime_object_count(g_rt), 0);
    for (int i = 0; i < g_next_id; i++) {
        assert_true(g_destroyed[i] == 1);
        assert_true(g_finalized[i] <= 1);
    }
    rc_runtime_free(g_rt);
    g_rt = NULL;
}

/* Chains and cycles of finalizing nodes dropped by refcount while the
 * collector runs with low thresholds, in stop-the-world (step 0) and
 * bounded-pause modes with several step sizes. */
static void drop_with_user_code(size_t step, int use_weakrefs) {
    setup_rt(step);
    rct_rng r;
    rct_rng_init(&r, rct_seed(0x5eedu + step));
    size_t rounds = rct_scaled(300, 30);
    rc_obj *refs[4] = { NULL, NULL, NULL, NULL };
    for (size_t k = 0; k < rounds; k++) {
        int mode = (int)rct_rng_range(&r, M_NONE, M_RESURRECT);
        unode *head = mk(&fnode_type, mode);
        unode *cur = head;
        size_t len = rct_rng_range(&r, 1, 6);
        for (size_t i = 0; i < len; i++) {
            unode *nx = mk(rct_rng_range(&r, 0, 1) ? &fnode_type : &unode_type,
                           (int)rct_rng_range(&r, M_NONE, M_ALLOC_CYCLE));
            cur->a = &nx->ob;         /* owns the reference mk gave */
            cur = nx;
        }
        if (use_weakrefs) {
            for (int w = 0; w < 4; w++) {
                rc_xdecref(refs[w]);
                refs[w] = rc_weakref_new(g_rt, w & 1 ? &head->ob : &cur->ob, weak_cb,
                                         (void *)(uintptr_t)(w * 16 + 16));
                assert_non_null(refs[w]);
            }
        }
        rc_decref(&head->ob);         /* the whole chain dies by refcount */
        if (rct_rng_range(&r, 0, 3) == 0)
            rc_gc_step(g_rt);
    }
    for (int w = 0; w < 4; w++)
        rc_xdecref(refs[w]);
    /* Resurrected nodes are in g_keep; dropping it kills them for good
     * (their finalizer has run and does not run again). */
    teardown_rt();
}

static void test_stop_the_world_finalizers(void **state) {
    (void)state;
    drop_with_user_code(0, 0);
}
static void test_incremental_finalizers(void **state) {
    (void)state;
    drop_with_user_code(1, 0);
    drop_with_user_code(7, 0);
    drop_with_user_code(64, 0);
}
static void test_stop_the_world_weakref_callbacks(void **state) {
    (void)state;
    drop_with_user_code(0, 1);
}
static void test_incremental_weakref_callbacks(void **state) {
    (void)state;
    drop_with_user_code(1, 1);
    drop_with_user_code(5, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_the_world_finalizers),
        cmocka_unit_test(test_incremental_finalizers),
        cmocka_unit_test(test_stop_the_world_weakref_callbacks),
        cmocka_unit_test(test_incremental_weakref_callbacks),
    };
    return rct_run_tests(tests, NULL, NULL);
}
