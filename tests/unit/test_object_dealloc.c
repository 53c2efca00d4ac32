/* rc-test: whitebox stress */
/* test_object_dealloc.c - the deallocation fast paths against the heap's own
 * consistency walk (rci_heap_check, which covers private heaps' free lists):
 * plain, variable-sized and container objects freed at the outermost level,
 * nested inside a destroy, and past the direct depth (the queue), in normal
 * and debug (quarantine) runtimes. After each drop the object count is back
 * to its base, the heap is consistent, and fresh objects come out zeroed and
 * distinct, which a block returned to the wrong place would break. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "heap/check.h"
#include "rct.h"

/* A plain box holding up to two children, and a variable-sized box holding
 * its children as trailing items: neither is a container for the collector. */
typedef struct box {
    rc_obj ob;
    rc_obj *a, *b;
    uint64_t pad[2];
} box;

static int g_destroyed;

static void box_destroy(rc_obj *self) {
    box *x = (box *)self;
    g_destroyed++;
    rc_xdecref(x->a);
    rc_xdecref(x->b);
}

static const rc_type box_type = { .name = "box", .size = sizeof(box), .destroy = box_destroy };

static void vbox_destroy(rc_obj *self) {
    g_destroyed++;
    rc_obj **items = (rc_obj **)(void *)((char *)self + sizeof(rc_obj));
    for (size_t i = 0; i < rc_var_len(self); i++)
        rc_xdecref(items[i]);
}

static const rc_type vbox_type = {
    .name = "vbox", .size = sizeof(rc_obj), .itemsize = sizeof(rc_obj *), .destroy = vbox_destroy,
};

static rc_obj **vbox_items(rc_obj *v) {
    return (rc_obj **)(void *)((char *)v + sizeof(rc_obj));
}

/* A random tree of depth d mixing boxes, variable boxes, lists, strs and
 * ints; every node owns its children. */
static rc_obj *make(rc_runtime *rt, rct_rng *r, int d) {
    if (d == 0) {
        switch (rct_rng_range(r, 0, 3)) {
        case 0: return rc_int(rt, 1000 + (int64_t)rct_rng_range(r, 0, 1000));
        case 1: return rc_str(rt, "leaf string of some length");
        case 2: return rc_new(rt, &box_type);
        default: return rc_new_var(rt, &vbox_type, 0);
        }
    }
    switch (rct_rng_range(r, 0, 2)) {
    case 0: {
        box *x = (box *)rc_new(rt, &box_type);
        assert_non_null(x);
        x->a = make(rt, r, d - 1);
        x->b = make(rt, r, d - 1);
        return &x->ob;
    }
    case 1: {
        size_t n = rct_rng_range(r, 1, 5);
        rc_obj *v = rc_new_var(rt, &vbox_type, n);
        assert_non_null(v);
        for (size_t i = 0; i < n; i++)
            vbox_items(v)[i] = make(rt, r, d - 1);
        return v;
    }
    default: {
        rc_obj *l = rc_list(rt);
        assert_non_null(l);
        for (int i = 0; i < 2; i++) {
            rc_obj *c = make(rt, r, d - 1);
            assert_int_equal(rc_list_append(rt, l, c), 0);
            rc_decref(c);
        }
        return l;
    }
    }
}

/* A chain of boxes much longer than the direct deallocation depth. */
static rc_obj *chain(rc_runtime *rt, size_t n) {
    rc_obj *head = NULL;
    for (size_t i = 0; i < n; i++) {
        box *x = (box *)rc_new(rt, &box_type);
        assert_non_null(x);
        x->a = head;
        head = &x->ob;
    }
    return head;
}

static void assert_fresh_objects_zeroed_and_distinct(rc_runtime *rt, size_t n) {
    rc_obj **objs = calloc(n, sizeof *objs);
    assert_non_null(objs);
    for (size_t i = 0; i < n; i++) {
        objs[i] = rc_new(rt, &box_type);
        assert_non_null(objs[i]);
        box *x = (box *)objs[i];
        assert_null(x->a);
        assert_null(x->b);
        assert_int_equal(x->pad[0] | x->pad[1], 0);
        assert_int_equal(rc_refcount(objs[i]), 1);
        x->pad[0] = (uint64_t)i + 1;     /* a block handed out twice shows up below */
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(((box *)objs[i])->pad[0], (uint64_t)i + 1);
    for (size_t i = 0; i < n; i++)
        rc_decref(objs[i]);
    free(objs);
}

static void run(int debug) {
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.debug = debug;
    rc_runtime *rt = rc_runtime_new(&cfg);
    assert_non_null(rt);
    size_t base = rc_runtime_object_count(rt);
    rct_rng r;
    rct_rng_init(&r, rct_seed(4242));
    int rounds = (int)rct_scaled(40, 6);
    for (int round = 0; round < rounds; round++) {
        rc_obj *t = make(rt, &r, 3 + round % 6);
        /* nested: the tree is dropped from inside a box's destroy */
        box *holder = (box *)rc_new(rt, &box_type);
        assert_non_null(holder);
        holder->a = t;
        holder->b = chain(rt, rct_scaled(200, 40));
        g_destroyed = 0;
        rc_decref(&holder->ob);
        assert_true(g_destroyed > 0);
        assert_int_equal(rc_runtime_object_count(rt), base);
        assert_int_equal(rci_heap_check(), 0);
        assert_fresh_objects_zeroed_and_distinct(rt, 300);
        assert_int_equal(rci_heap_check(), 0);
    }
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_runtime_free(rt);
}

/* Variable-sized objects of every small size: each comes out zeroed over all
 * its items, and filling one completely never touches its neighbours (a fast
 * path that zeroes or sizes a block wrongly breaks one or the other). */
static const rc_type bytes_type = { .name = "bytesbox", .size = sizeof(rc_obj), .itemsize = 1 };
static const rc_type words_type = {
    .name = "wordsbox", .size = sizeof(rc_obj) + 8, .itemsize = 8, .flags = RC_TYPE_GC,
};

static void test_var_sizes(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    size_t base = rc_runtime_object_count(rt);
    enum { N = 70, COPIES = 8 };
    rc_obj *objs[2][N][COPIES];
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 2; k++) {
            const rc_type *t = k ? &words_type : &bytes_type;
            for (size_t n = 0; n < N; n++)
                for (int c = 0; c < COPIES; c++) {
                    rc_obj *o = rc_new_var(rt, t, n);
                    assert_non_null(o);
                    assert_int_equal(rc_var_len(o), n);
                    unsigned char *items = (unsigned char *)o + t->size;
                    size_t len = n * t->itemsize;
                    assert_int_equal(rct_check_byte(items, len, 0), SIZE_MAX);
                    if (t->size > sizeof(rc_obj))
                        assert_int_equal(rct_check_byte((unsigned char *)o + sizeof(rc_obj),
                                                        t->size - sizeof(rc_obj), 0),
                                         SIZE_MAX);
                    memset(items, 0xA5 ^ (int)n, len);
                    objs[k][n][c] = o;
                }
        }
        for (int k = 0; k < 2; k++) {
            const rc_type *t = k ? &words_type : &bytes_type;
            for (size_t n = 0; n < N; n++)
                for (int c = 0; c < COPIES; c++) {
                    rc_obj *o = objs[k][n][c];
                    assert_int_equal(rc_refcount(o), 1);
                    assert_ptr_equal(rc_typeof(o), t);
                    assert_int_equal(rc_var_len(o), n);
                    size_t len = n * t->itemsize;
                    assert_int_equal(rct_check_byte((unsigned char *)o + t->size, len,
                                                    (unsigned char)(0xA5 ^ (int)n)), SIZE_MAX);
                }
        }
        for (int k = 0; k < 2; k++)
            for (size_t n = 0; n < N; n++)
                for (int c = 0; c < COPIES; c++)
                    rc_decref(objs[k][n][c]);
        assert_int_equal(rc_runtime_object_count(rt), base);
        assert_int_equal(rci_heap_check(), 0);
    }
    rc_runtime_free(rt);
}

static void test_dealloc_paths(void **state) {
    (void)state;
    run(0);
}

static void test_dealloc_paths_debug(void **state) {
    (void)state;
    run(1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dealloc_paths),
        cmocka_unit_test(test_dealloc_paths_debug),
        cmocka_unit_test(test_var_sizes),
    };
    return rct_run_tests(tests, NULL, NULL);
}
