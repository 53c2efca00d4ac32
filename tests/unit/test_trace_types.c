/* rc-test: whitebox */
/* test_trace_types.c - frame 0 of the traceback of every object and buffer
 * that the types layer makes is the code that called the types layer, not
 * the constructor or the function that grew the buffer (the types layer's
 * allocating functions are RCI_ALLOC_FRAME: src/types/types.h).
 *
 * Each case clears the traces, calls one noinline "maker" function of this
 * file that builds or grows containers of one kind, and then checks every
 * trace there is: frame 0 symbolizes to the maker, frame 1 is the return
 * address the maker saw, the traces are exactly the blocks the maker left
 * alive (counted by hand for each maker) and their bytes are exactly the
 * runtime's growth (objects plus buffers). A frame of the types layer left
 * in a traceback, or a block traced twice or not at all, fails. */
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

static rc_runtime *rt;
static rc_obj *keep[8];               /* what a maker made, for the case to check and drop */
static uintptr_t maker_ra;            /* the return address the last maker saw */

#define MAKER_DONE() RCT_MAKER_DONE(maker_ra)

static size_t heap_bytes(void) {
    return rc_runtime_object_bytes(rt) + rc_runtime_buffer_bytes(rt);
}

static int setup(void **state) {
    (void)state;
    rc_config c;
    rc_config_init(&c);
    c.debug = 0;
    rt = rc_runtime_new(&c);
    assert_non_null(rt);
    memset(keep, 0, sizeof keep);
    assert_int_equal(rc_trace_start(FRAMES), 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        rc_xdecref(keep[i]);
    memset(keep, 0, sizeof keep);
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
        (h0) = heap_bytes();                                          \
        call;                                                         \
    } while (0)

/* ---- int, float ---- */

static MAKER void make_numbers(void) {
    keep[0] = rc_int(rt, 1234567);
    keep[1] = rc_float(rt, 2.5);
    MAKER_DONE();
}

static void test_numbers(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, make_numbers());
    assert_non_null(keep[0]);
    assert_non_null(keep[1]);
    rct_expect_traces_from("make_numbers", maker_ra, 2, heap_bytes() - h0);
    rct_expect_block_from(keep[0], "make_numbers", maker_ra);
    rct_expect_block_from(keep[1], "make_numbers", maker_ra);
}

/* ---- str ---- */

static MAKER void make_strs(void) {
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    keep[0] = rc_str(rt, "hello");
    keep[1] = rc_str_n(rt, "world wide", 5);
    keep[2] = rc_str_printf(rt, "%s-%d", "short", 42);
    keep[3] = rc_str_printf(rt, "%s!", big);               /* past the stack buffer */
    keep[4] = rc_str_concat(rt, keep[0], keep[1]);
    MAKER_DONE();
}

static void test_strs(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, make_strs());
    for (int i = 0; i < 5; i++)
        assert_non_null(keep[i]);
    assert_int_equal(rc_str_len(keep[3]), 600);
    assert_string_equal(rc_str_data(keep[4]), "helloworld");
    rct_expect_traces_from("make_strs", maker_ra, 5, heap_bytes() - h0);
    rct_expect_block_from(keep[3], "make_strs", maker_ra);
}

/* The first interned str of a runtime also makes the layer's state and the
 * intern table: three blocks. */
static MAKER void make_interned(void) {
    keep[0] = rc_str_intern(rt, "an interned name");
    keep[1] = rc_str_intern_n(rt, "another name, cut", 13);
    MAKER_DONE();
}

static void test_interned(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, make_interned());
    assert_non_null(keep[0]);
    assert_non_null(keep[1]);
    rct_expect_traces_from("make_interned", maker_ra, 4, heap_bytes() - h0);
    keep[0] = keep[1] = NULL;                /* immortal: nothing to drop */
}

/* ---- bytes ---- */

static MAKER void make_bytes(void) {
    static const unsigned char data[300] = {1, 2, 3};
    keep[0] = rc_bytes(rt, data, sizeof data);
    keep[1] = rc_bytes_mmap(rt, rct_self_exe());
    MAKER_DONE();
}

static void test_bytes(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, make_bytes());
    assert_non_null(keep[0]);
    assert_non_null(keep[1]);
    rct_expect_traces_from("make_bytes", maker_ra, 2, heap_bytes() - h0);
}

/* ---- tuple ---- */

static MAKER void make_tuples(rc_obj *a, rc_obj *b) {
    rc_obj *items[3] = {a, b, a};
    keep[0] = rc_tuple(rt, 2, a, b);
    keep[1] = rc_tuple_from(rt, 3, items);
    MAKER_DONE();
}

static void test_tuples(void **state) {
    (void)state;
    keep[2] = rc_int(rt, 7777777);          /* made before the clear: not counted */
    keep[3] = rc_str(rt, "item");
    size_t h0;
    RUN_MAKER(h0, make_tuples(keep[2], keep[3]));
    assert_non_null(keep[0]);
    assert_non_null(keep[1]);
    rct_expect_traces_from("make_tuples", maker_ra, 2, heap_bytes() - h0);
}

/* ---- list ---- */

/* A list grown item by item (with 100 ints made here), a list made with a
 * capacity and then extended past it, an insert that grows. */
static MAKER void make_lists(void) {
    rc_obj *l = rc_list(rt);
    for (int i = 0; i < 100; i++) {
        rc_obj *v = rc_int(rt, 100000 + i);
        rc_list_append(rt, l, v);
        rc_decref(v);
    }
    rc_obj *l2 = rc_list_with_capacity(rt, 4);
    rc_list_extend(rt, l2, l);
    rc_list_insert(rt, l2, 0, l);
    keep[0] = l;
    keep[1] = l2;
    MAKER_DONE();
}

static void test_lists(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, make_lists());
    assert_int_equal(rc_list_len(keep[0]), 100);
    assert_int_equal(rc_list_len(keep[1]), 101);
    /* two list objects, their two buffers, 100 ints */
    rct_expect_traces_from("make_lists", maker_ra, 104, heap_bytes() - h0);
}

/* Popping and deleting most items shrinks the buffer: a new block. */
static MAKER void shrink_list(rc_obj *l) {
    for (int i = 0; i < 80; i++)
        rc_decref(rc_list_pop(rt, l));
    for (int i = 0; i < 10; i++)
        rc_list_del(rt, l, 0);
    for (int i = 0; i < 5; i++)
        rc_decref(rc_list_pop_at(rt, l, 1));
    MAKER_DONE();
}

static void test_list_shrinks(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, make_lists());
    (void)h0;
    RUN_MAKER(h0, shrink_list(keep[0]));
    assert_int_equal(rc_list_len(keep[0]), 5);
    /* the ints and the old buffer had traces from before the clear: only
     * the new buffer is traced */
    rc_snapshot *s = rc_trace_take_snapshot();
    assert_int_equal(rc_snapshot_trace_count(s), 1);
    rc_snapshot_free(s);
    rct_expect_traces_from("shrink_list", maker_ra, 1, rct_traced_now());
}

/* ---- dict ---- */

static MAKER void make_dict(rc_obj *value) {
    rc_obj *d = rc_dict(rt);
    for (int i = 0; i < 50; i++) {
        rc_obj *k = rc_int(rt, 200000 + i);
        rc_dict_set(rt, d, k, value);
        rc_decref(k);
    }
    rc_dict_set_str(rt, d, "a key made by the dict", value);     /* the str key */
    rc_obj *k = rc_int(rt, 300000);
    rc_dict_setdefault(rt, d, k, value, NULL);
    rc_decref(k);
    k = rc_int(rt, 300001);
    rc_dict_incr(rt, d, k, 1, 5000, NULL);                     /* and the int it stores */
    rc_decref(k);
    keep[0] = d;
    MAKER_DONE();
}

static void test_dict(void **state) {
    (void)state;
    keep[1] = rc_str(rt, "the value");
    size_t h0;
    RUN_MAKER(h0, make_dict(keep[1]));
    assert_int_equal(rc_dict_len(keep[0]), 53);
    /* the dict, its table, 50 + 2 int keys, a str key, the incremented int */
    rct_expect_traces_from("make_dict", maker_ra, 56, heap_bytes() - h0);
}

static MAKER void shrink_dict(rc_obj *d) {
    for (int i = 0; i < 45; i++) {
        rc_obj *k = rc_int(rt, 200000 + i);
        if (i % 2)
            rc_dict_del(rt, d, k);
        else
            rc_decref(rc_dict_pop(rt, d, k));
        rc_decref(k);
    }
    MAKER_DONE();
}

static void test_dict_shrinks(void **state) {
    (void)state;
    keep[1] = rc_str(rt, "the value");
    size_t h0;
    RUN_MAKER(h0, make_dict(keep[1]));
    RUN_MAKER(h0, shrink_dict(keep[0]));
    (void)h0;
    assert_int_equal(rc_dict_len(keep[0]), 8);
    /* the key ints made to look up are gone; the rebuilt table stays */
    rct_expect_traces_from("shrink_dict", maker_ra, 1, rct_traced_now());
    assert_true(rct_traced_now() > 0);
}

/* Code that a types function runs is the caller of its own allocations:
 * the value made by rc_dict_modify's callback starts at the callback. */
static MAKER int modify_cb(rc_runtime *r, rc_obj *key, rc_obj *value, rc_obj **out, void *arg) {
    (void)key;
    (void)value;
    (void)arg;
    *out = rc_int(r, 424242);
    __asm__ volatile("" ::: "memory");
    return 0;
}

static MAKER void modify_dict(rc_obj *d) {
    rc_dict_modify(rt, d, keep[2], modify_cb, NULL);
    MAKER_DONE();
}

static void test_dict_modify_callback(void **state) {
    (void)state;
    keep[0] = rc_dict(rt);
    keep[2] = rc_str(rt, "k");
    size_t h0;
    RUN_MAKER(h0, modify_dict(keep[0]));
    /* the table (from modify_dict) and the int (from modify_cb) */
    rc_snapshot *s = rc_trace_take_snapshot();
    assert_int_equal(rc_snapshot_trace_count(s), 2);
    rc_snapshot_free(s);
    assert_int_equal(rct_traced_now(), heap_bytes() - h0);
    rc_obj *v = rc_dict_get(rt, keep[0], keep[2]);
    assert_int_equal(rc_int_value(v), 424242);
    rc_traceback *tb = rc_trace_get_object_traceback(v);
    assert_non_null(tb);
    assert_string_equal(rct_function_of(rc_traceback_addr(tb, 0)), "modify_cb");
    assert_string_equal(rct_function_of(rc_traceback_addr(tb, 1)), "rc_dict_modify");
    assert_string_equal(rct_function_of(rc_traceback_addr(tb, 2)), "modify_dict");
    rc_traceback_free(tb);
}

/* ---- set ---- */

static MAKER void make_sets(rc_obj *a, rc_obj *b) {
    rc_obj *s = rc_set(rt);
    for (int i = 0; i < 50; i++) {
        rc_obj *k = rc_int(rt, 400000 + i);
        rc_set_add(rt, s, k);
        rc_decref(k);
    }
    keep[0] = s;
    keep[1] = rc_set_union(rt, a, b);
    keep[2] = rc_set_intersection(rt, a, b);
    keep[3] = rc_set_difference(rt, a, b);
    MAKER_DONE();
}

static void test_sets(void **state) {
    (void)state;
    keep[4] = rc_set(rt);
    keep[5] = rc_set(rt);
    for (int i = 0; i < 20; i++) {
        rc_obj *x = rc_int(rt, 500000 + i), *y = rc_int(rt, 500010 + i);
        rc_set_add(rt, keep[4], x);
        rc_set_add(rt, keep[5], y);
        rc_decref(x);
        rc_decref(y);
    }
    size_t h0;
    RUN_MAKER(h0, make_sets(keep[4], keep[5]));
    assert_int_equal(rc_set_len(keep[0]), 50);
    assert_int_equal(rc_set_len(keep[1]), 30);
    assert_int_equal(rc_set_len(keep[2]), 10);
    assert_int_equal(rc_set_len(keep[3]), 10);
    /* four sets with their tables, 50 ints */
    rct_expect_traces_from("make_sets", maker_ra, 58, heap_bytes() - h0);
}

static MAKER void shrink_set(rc_obj *s) {
    for (int i = 0; i < 48; i++) {
        rc_obj *k = rc_int(rt, 400000 + i);
        rc_set_discard(rt, s, k);
        rc_decref(k);
    }
    MAKER_DONE();
}

static void test_set_shrinks(void **state) {
    (void)state;
    keep[4] = rc_set(rt);
    keep[5] = rc_set(rt);
    size_t h0;
    RUN_MAKER(h0, make_sets(keep[4], keep[5]));
    RUN_MAKER(h0, shrink_set(keep[0]));
    (void)h0;
    assert_int_equal(rc_set_len(keep[0]), 2);
    rct_expect_traces_from("shrink_set", maker_ra, 1, rct_traced_now());
    assert_true(rct_traced_now() > 0);
}

/* ---- array ---- */

static MAKER void make_arrays(void) {
    keep[0] = rc_array(rt, RC_ARRAY_I64);
    keep[1] = rc_array(rt, RC_ARRAY_F64);
    for (int i = 0; i < 300; i++) {
        rc_array_append_i64(rt, keep[0], i);
        rc_array_append_f64(rt, keep[1], i * 0.5);
    }
    MAKER_DONE();
}

static void test_arrays(void **state) {
    (void)state;
    size_t h0;
    RUN_MAKER(h0, make_arrays());
    assert_int_equal(rc_array_len(keep[0]), 300);
    assert_int_equal(rc_array_len(keep[1]), 300);
    rct_expect_traces_from("make_arrays", maker_ra, 4, heap_bytes() - h0);
    rct_expect_block_from(rc_array_data(keep[0]), "make_arrays", maker_ra);   /* the grown buffer */
    rct_expect_block_from(rc_array_data(keep[1]), "make_arrays", maker_ra);
}

/* ---- weak-value dict ---- */

static MAKER void make_weakdict(rc_obj *const *values, size_t n) {
    rc_obj *d = rc_weakvaluedict(rt);
    for (size_t i = 0; i < n; i++) {
        rc_obj *k = rc_int(rt, 600000 + (int64_t)i);
        rc_weakvaluedict_set(rt, d, k, values[i]);
        rc_decref(k);
    }
    keep[0] = d;
    MAKER_DONE();
}

static void test_weakdict(void **state) {
    (void)state;
    rc_obj *values[20];
    for (int i = 0; i < 20; i++)
        values[i] = rc_float(rt, i + 0.25);
    size_t h0;
    RUN_MAKER(h0, make_weakdict(values, 20));
    /* the dict, its table, 20 int keys and 20 weak references (made by the
     * object layer's rc_weakref_new, an allocating frame too) */
    rct_expect_traces_from("make_weakdict", maker_ra, 42, heap_bytes() - h0);
    rct_expect_block_from(keep[0], "make_weakdict", maker_ra);
    for (int i = 0; i < 20; i++)
        rc_decref(values[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tuples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_shrinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict_shrinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dict_modify_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_shrinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arrays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weakdict, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
