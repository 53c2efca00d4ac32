/* rc-test: whitebox */
/* test_trace_gcapi.c - frame 0 of the traceback of every list that the gc
 * layer makes for its caller (rc_gc_get_objects, rc_gc_get_referrers,
 * rc_gc_get_referents, and the garbage list that rc_runtime_new makes and
 * rc_gc_garbage returns) is the code that called the gc layer, not a
 * function of src/gc/ (they are RCI_ALLOC_FRAME: src/gc/api.c).
 *
 * Each case clears the traces, calls one noinline "maker" function of this
 * file, and checks every trace there is: frame 0 symbolizes to the maker,
 * frame 1 is the return address the maker saw, and the traces are exactly
 * the blocks the maker left alive (the list and its buffer) with exactly the
 * runtime's growth in bytes. The lists are long enough that their buffers
 * grow, or are sized, inside the gc layer; rc_gc_get_referents' visitor runs
 * under a type's traverse, which may be the program's own (fan_traverse
 * below) and is not marked. The automatic collector is off, so that no
 * collection adds or frees blocks during a maker. */
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
#include "rct_trace.h"

#define MAKER RCT_MAKER
#define FRAMES 16
#define NSMALL 200                    /* tracked lists made before a case's maker */

static rc_runtime *rt;
static rc_obj *keep[4];               /* what a maker made, for the case to check and drop */
static rc_obj *small[NSMALL];         /* tracked objects for the gc layer to list */
static uintptr_t maker_ra;            /* the return address the last maker saw */

#define MAKER_DONE() RCT_MAKER_DONE(maker_ra)

/* A container of the program's own with many children: its traverse is
 * user code that the gc layer calls. */
#define FAN_SLOTS 40
typedef struct fan {
    rc_obj ob;
    rc_obj *slot[FAN_SLOTS];
} fan;

static int fan_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    fan *f = (fan *)self;
    for (size_t i = 0; i < FAN_SLOTS; i++) {
        int r = f->slot[i] ? visit(f->slot[i], arg) : 0;
        if (r)
            return r;
    }
    return 0;
}

static void fan_clear(rc_obj *self) {
    fan *f = (fan *)self;
    for (size_t i = 0; i < FAN_SLOTS; i++) {
        rc_obj *o = f->slot[i];
        f->slot[i] = NULL;
        rc_xdecref(o);
    }
}

static const rc_type fan_type = {
    .name = "fan", .size = sizeof(fan), .flags = RC_TYPE_GC,
    .traverse = fan_traverse, .clear = fan_clear,
};

static size_t heap_bytes(rc_runtime *r) {
    return rc_runtime_object_bytes(r) + rc_runtime_buffer_bytes(r);
}

static rc_runtime *new_runtime(void) {
    rc_config c;
    rc_config_init(&c);
    c.debug = 0;
    return rc_runtime_new(&c);
}

static int setup(void **state) {
    (void)state;
    rt = new_runtime();
    assert_non_null(rt);
    rc_gc_disable(rt);
    memset(keep, 0, sizeof keep);
    for (size_t i = 0; i < NSMALL; i++) {
        small[i] = rc_list(rt);
        assert_non_null(small[i]);
    }
    assert_int_equal(rc_trace_start(FRAMES), 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        rc_xdecref(keep[i]);
    memset(keep, 0, sizeof keep);
    for (size_t i = 0; i < NSMALL; i++)
        rc_decref(small[i]);
    rc_trace_stop();
    rc_runtime_free(rt);
    rt = NULL;
    return 0;
}

/* Run maker with the traces cleared first; h0 receives the runtime's bytes
 * before. */
#define RUN_MAKER(h0, call)                                           \
    do {                                                              \
        rc_trace_clear_traces();                                      \
        (h0) = heap_bytes(rt);                                        \
        call;                                                         \
    } while (0)

/* ---- rc_gc_get_objects ---- */

static MAKER void list_all_objects(int generation) {
    keep[0] = rc_gc_get_objects(rt, generation);
    MAKER_DONE();
}

static void test_get_objects(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, list_all_objects(-1));
    assert_non_null(keep[0]);
    assert_true(rc_list_len(keep[0]) >= NSMALL);
    /* the list and its buffer, grown by appending */
    rct_expect_traces_from("list_all_objects", maker_ra, 2, heap_bytes(rt) - h0);
    rct_expect_block_from(keep[0], "list_all_objects", maker_ra);
    rc_decref(keep[0]);
    keep[0] = NULL;
    /* one generation */
    RUN_MAKER(h0, list_all_objects(0));
    assert_non_null(keep[0]);
    assert_true(rc_list_len(keep[0]) >= NSMALL);
    rct_expect_traces_from("list_all_objects", maker_ra, 2, heap_bytes(rt) - h0);
}

/* ---- rc_gc_get_referrers ---- */

static MAKER void list_referrers(rc_obj *target) {
    keep[0] = rc_gc_get_referrers(rt, target);
    MAKER_DONE();
}

static void test_get_referrers(void **state) {
    (void)state;
    keep[1] = rc_str(rt, "referred to by every small list");
    for (size_t i = 0; i < NSMALL; i++)
        assert_int_equal(rc_list_append(rt, small[i], keep[1]), 0);
    size_t h0;
    RUN_MAKER(h0, list_referrers(keep[1]));
    assert_non_null(keep[0]);
    assert_int_equal(rc_list_len(keep[0]), NSMALL);
    rct_expect_traces_from("list_referrers", maker_ra, 2, heap_bytes(rt) - h0);
    rct_expect_block_from(keep[0], "list_referrers", maker_ra);
}

/* ---- rc_gc_get_referents ---- */

static MAKER void list_referents(rc_obj *o) {
    keep[0] = rc_gc_get_referents(rt, o);
    MAKER_DONE();
}

/* A list's and a dict's referents (the types layer's traverse), a fan's
 * (the program's traverse), an int's (none: a list without a buffer). */
static void test_get_referents(void **state) {
    (void)state;
    keep[1] = rc_list(rt);
    for (size_t i = 0; i < NSMALL; i++)
        assert_int_equal(rc_list_append(rt, keep[1], small[i]), 0);
    size_t h0;
    RUN_MAKER(h0, list_referents(keep[1]));
    assert_non_null(keep[0]);
    assert_int_equal(rc_list_len(keep[0]), NSMALL);
    assert_ptr_equal(rc_list_get(rt, keep[0], NSMALL - 1), small[NSMALL - 1]);
    rct_expect_traces_from("list_referents", maker_ra, 2, heap_bytes(rt) - h0);
    rct_expect_block_from(keep[0], "list_referents", maker_ra);
    rc_decref(keep[0]);
    rc_decref(keep[1]);
    keep[0] = keep[1] = NULL;

    keep[1] = rc_dict(rt);
    for (size_t i = 0; i < 50; i++) {
        rc_obj *k = rc_int(rt, 700000 + (int64_t)i);
        assert_int_equal(rc_dict_set(rt, keep[1], k, small[i]), 0);
        rc_decref(k);
    }
    RUN_MAKER(h0, list_referents(keep[1]));
    assert_non_null(keep[0]);
    assert_int_equal(rc_list_len(keep[0]), 100);               /* keys and values */
    rct_expect_traces_from("list_referents", maker_ra, 2, heap_bytes(rt) - h0);
    rc_decref(keep[0]);
    rc_decref(keep[1]);
    keep[0] = keep[1] = NULL;

    fan *f = (fan *)rc_new(rt, &fan_type);
    assert_non_null(f);
    memset(f->slot, 0, sizeof f->slot);
    for (size_t i = 0; i < FAN_SLOTS; i++) {
        rc_incref(small[i]);
        f->slot[i] = small[i];
    }
    keep[1] = &f->ob;
    RUN_MAKER(h0, list_referents(keep[1]));
    assert_non_null(keep[0]);
    assert_int_equal(rc_list_len(keep[0]), FAN_SLOTS);
    rct_expect_traces_from("list_referents", maker_ra, 2, heap_bytes(rt) - h0);
    rc_decref(keep[0]);
    keep[0] = NULL;

    keep[2] = rc_int(rt, 800000);
    RUN_MAKER(h0, list_referents(keep[2]));
    assert_non_null(keep[0]);
    assert_int_equal(rc_list_len(keep[0]), 0);
    rct_expect_traces_from("list_referents", maker_ra, 1, heap_bytes(rt) - h0);
}

/* ---- the garbage list ---- */

static rc_runtime *made_rt;

static MAKER void make_runtime(void) {
    made_rt = new_runtime();
    MAKER_DONE();
}

/* rc_runtime_new makes the garbage list that rc_gc_garbage returns: it
 * starts at the code that made the runtime. */
static void test_garbage_list(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, make_runtime());
    (void)h0;
    assert_non_null(made_rt);
    rc_obj *g = rc_gc_garbage(made_rt);
    assert_non_null(g);
    assert_int_equal(rc_list_len(g), 0);
    rct_expect_block_from(g, "make_runtime", maker_ra);
    rc_runtime_free(made_rt);
    made_rt = NULL;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_referrers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_referents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_list, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
