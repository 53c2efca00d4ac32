/* rc-test: whitebox */
/* test_trace_objects.c - objects and container buffers of a runtime (blocks
 * of its private heap) are traced: exact current memory against the
 * runtime's own counts, frees when objects die (refcount and cycle
 * collection), buffers that grow, objects from before start, tracebacks
 * that start at the caller of rc_new, start/stop/start with a live
 * runtime, debug mode (the quarantine), two runtimes, runtime teardown. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"
#include "trace/tracer.h"

static size_t ntraces(void) {
    rctr_lock();
    size_t n = rctr_trace_count();
    rctr_unlock();
    return n;
}

static size_t traced_now(void) {
    size_t c = 0;
    rc_trace_get_traced_memory(&c, NULL);
    return c;
}

/* Every block of the runtime's heap: objects plus buffers. */
static size_t heap_bytes(rc_runtime *rt) {
    return rc_runtime_object_bytes(rt) + rc_runtime_buffer_bytes(rt);
}

static int teardown(void **state) {
    (void)state;
    rc_trace_stop();
    return 0;
}

static const rc_type point_type = { .name = "point", .size = sizeof(rc_obj) + 16 };

/* A container type: two slots, traversed by the collector. */
typedef struct pair {
    rc_obj ob;
    rc_obj *a, *b;
} pair;

static int pair_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    pair *p = (pair *)self;
    int r = 0;
    if (p->a && (r = visit(p->a, arg)) != 0)
        return r;
    if (p->b)
        r = visit(p->b, arg);
    return r;
}

static void pair_clear(rc_obj *self) {
    pair *p = (pair *)self;
    rc_obj *a = p->a, *b = p->b;
    p->a = p->b = NULL;
    rc_xdecref(a);
    rc_xdecref(b);
}

static const rc_type pair_type = {
    .name = "pair", .size = sizeof(pair), .flags = RC_TYPE_GC,
    .traverse = pair_traverse, .clear = pair_clear,
};

static rc_runtime *new_runtime(int debug) {
    rc_config c;
    rc_config_init(&c);
    c.debug = debug;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    return rt;
}

/* A plain object, a str, a list with its item buffer growing, a dict: the
 * traced bytes follow the heap's bytes exactly, and come back down. */
static void test_exact_current(void **state) {
    (void)state;
    rc_runtime *rt = new_runtime(0);
    assert_int_equal(rc_trace_start(4), 0);
    size_t t0 = traced_now(), h0 = heap_bytes(rt);

    rc_obj *pt = rc_new(rt, &point_type);
    assert_non_null(pt);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    assert_true(traced_now() - t0 >= point_type.size);

    rc_obj *s = rc_str(rt, "a string long enough to need more than one small block of memory");
    assert_non_null(s);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);

    rc_obj *list = rc_list(rt);
    assert_non_null(list);
    for (int i = 0; i < 1000; i++) {
        rc_obj *v = rc_int(rt, 1000000 + i);
        assert_int_equal(rc_list_append(rt, list, v), 0);
        rc_decref(v);
        assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    }
    assert_true(rc_runtime_buffer_bytes(rt) > 1000 * sizeof(void *) - 1);

    rc_obj *d = rc_dict(rt);
    assert_non_null(d);
    for (int i = 0; i < 200; i++) {
        rc_obj *k = rc_int(rt, 5000000 + i);
        assert_int_equal(rc_dict_set(rt, d, k, s), 0);
        rc_decref(k);
    }
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    size_t ndict = ntraces();

    rc_decref(d);
    assert_true(ntraces() < ndict);
    assert_int_equal(traced_now() - t0, heap_bytes(rt) - h0);
    rc_decref(list);
    rc_decref(s);
    rc_decref(pt);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(heap_bytes(rt), h0);
    rc_trace_stop();
    rc_runtime_free(rt);
}

/* Frees reported when a cycle is collected. */
static void test_cycle_collected(void **state) {
    (void)state;
    rc_runtime *rt = new_runtime(0);
    assert_int_equal(rc_trace_start(2), 0);
    size_t t0 = traced_now(), n0 = ntraces();
    pair *x = (pair *)rc_new(rt, &pair_type);
    pair *y = (pair *)rc_new(rt, &pair_type);
    assert_non_null(x);
    assert_non_null(y);
    rc_incref(&y->ob);
    x->a = &y->ob;
    rc_incref(&x->ob);
    y->a = &x->ob;
    assert_int_equal(ntraces(), n0 + 2);
    size_t mid = traced_now();
    assert_true(mid - t0 >= 2 * sizeof(pair));
    rc_decref(&x->ob);
    rc_decref(&y->ob);
    assert_int_equal(traced_now(), mid);          /* still alive: a cycle */
    rc_gc_collect(rt, 2);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    rc_trace_stop();
    rc_runtime_free(rt);
}

/* Objects created before start: freeing them while tracing is no error and
 * changes nothing. */
static void test_before_start(void **state) {
    (void)state;
    rc_runtime *rt = new_runtime(0);
    rc_obj *old = rc_new(rt, &point_type);
    rc_obj *oldlist = rc_list(rt);
    rc_obj *v = rc_int(rt, 123456789);
    assert_int_equal(rc_list_append(rt, oldlist, v), 0);
    assert_int_equal(rc_trace_start(3), 0);
    size_t t0 = traced_now(), n0 = ntraces();
    assert_null(rc_trace_get_object_traceback(old));
    /* growing an old buffer: the new block is traced */
    for (int i = 0; i < 100; i++)
        assert_int_equal(rc_list_append(rt, oldlist, v), 0);
    rc_decref(v);
    rc_decref(old);
    rc_decref(oldlist);
    assert_true(traced_now() <= t0 + 0);
    assert_true(ntraces() <= n0);
    rc_trace_stop();
    rc_runtime_free(rt);
}

/* frame 0 of an object's traceback is the function that called rc_new, or
 * the constructor of the types layer or the weak reference that made it
 * (they are RCI_ALLOC_FRAME too); frame 1 its caller (the return address it
 * saw). */
static void *volatile sink;
static uintptr_t ra_maker;

#ifdef __clang__
#define MAKER __attribute__((noinline))
#else
#define MAKER __attribute__((noinline, noclone))   /* a clone would be another function */
#endif

MAKER static rc_obj *make_point(rc_runtime *rt) {
    rc_obj *o = rc_new(rt, &point_type);
    sink = o;
    ra_maker = (uintptr_t)__builtin_return_address(0);
    return sink;
}

MAKER static rc_obj *make_pair(rc_runtime *rt) {
    rc_obj *o = rc_new(rt, &pair_type);
    sink = o;
    ra_maker = (uintptr_t)__builtin_return_address(0);
    return sink;
}

MAKER static rc_obj *make_str(rc_runtime *rt) {
    rc_obj *o = rc_str(rt, "x");
    sink = o;
    ra_maker = (uintptr_t)__builtin_return_address(0);
    return sink;
}

MAKER static rc_obj *make_weakref(rc_runtime *rt, rc_obj *target) {
    rc_obj *o = rc_weakref_new(rt, target, NULL, NULL);
    sink = o;
    ra_maker = (uintptr_t)__builtin_return_address(0);
    return sink;
}

static void expect_frames(rc_obj *o, uintptr_t fn) {
    rc_traceback *tb = rc_trace_get_object_traceback(o);
    assert_non_null(tb);
    assert_true(rc_traceback_len(tb) >= 2);
    uintptr_t f0 = rc_traceback_addr(tb, 0);
    assert_true(f0 > fn && f0 < fn + 256);
    assert_int_equal(rc_traceback_addr(tb, 1), ra_maker);
    rc_traceback_free(tb);
}

static void test_traceback_frame0(void **state) {
    (void)state;
    rc_runtime *rt = new_runtime(0);
    assert_int_equal(rc_trace_start(8), 0);
    rc_obj *a = make_point(rt);
    expect_frames(a, (uintptr_t)make_point);
    rc_obj *b = make_pair(rt);                    /* a container: prefix before the object */
    expect_frames(b, (uintptr_t)make_pair);
    /* the slow paths too: many objects, pools run dry and are refilled */
    rc_obj *objs[3000];
    for (int i = 0; i < 3000; i++)
        objs[i] = make_point(rt);
    expect_frames(objs[2999], (uintptr_t)make_point);
    for (int i = 0; i < 3000; i++)
        rc_decref(objs[i]);
    /* rc_str (the types layer) and rc_weakref_new (the object layer) are
     * allocating frames as rc_new is: frame 0 is the function that called
     * them */
    rc_obj *s = make_str(rt);
    expect_frames(s, (uintptr_t)make_str);
    rc_obj *w = make_weakref(rt, a);
    assert_non_null(w);
    expect_frames(w, (uintptr_t)make_weakref);
    rc_decref(w);
    rc_decref(s);
    rc_decref(a);
    rc_decref(b);
    rc_trace_stop();
    rc_runtime_free(rt);
}

/* start, stop, start with a runtime alive throughout. */
static void test_start_stop_start(void **state) {
    (void)state;
    rc_runtime *rt = new_runtime(0);
    rc_obj *keep[3];
    for (int round = 0; round < 3; round++) {
        assert_int_equal(rc_trace_start(2), 0);
        size_t t0 = traced_now();
        keep[round] = rc_new(rt, &point_type);
        assert_true(traced_now() > t0);
        if (round > 0)
            rc_decref(keep[round - 1]);      /* traced in the previous round */
        assert_true(traced_now() > t0);
        rc_trace_stop();
        assert_int_equal(traced_now(), 0);
        rc_obj *untraced = rc_new(rt, &point_type);   /* fast paths again */
        rc_decref(untraced);
    }
    rc_decref(keep[2]);
    rc_runtime_free(rt);
}

/* Debug mode: an object is freed for the tracer when the program releases
 * it, though its memory stays in the quarantine. */
static void test_debug_quarantine(void **state) {
    (void)state;
    rc_runtime *rt = new_runtime(1);
    assert_int_equal(rc_trace_start(2), 0);
    size_t t0 = traced_now(), n0 = ntraces();
    rc_obj *objs[100];
    for (int i = 0; i < 100; i++)
        objs[i] = rc_new(rt, &point_type);
    assert_int_equal(ntraces(), n0 + 100);
    assert_true(traced_now() - t0 >= 100 * point_type.size);
    for (int i = 0; i < 100; i++)
        rc_decref(objs[i]);
    assert_int_equal(traced_now(), t0);
    assert_int_equal(ntraces(), n0);
    /* enough churn to push the quarantine's oldest out: nothing changes */
    for (int i = 0; i < 10000; i++)
        rc_decref(rc_new(rt, &point_type));
    assert_int_equal(traced_now(), t0);
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_trace_stop();
    rc_runtime_free(rt);
}

/* Two runtimes traced together; freeing one (its live objects included)
 * leaves the other's traces. */
static void test_two_runtimes(void **state) {
    (void)state;
    size_t before = 0;
    assert_int_equal(rc_trace_start(2), 0);
    before = traced_now();
    rc_runtime *r1 = new_runtime(0), *r2 = new_runtime(0);
    size_t t0 = traced_now(), h1 = heap_bytes(r1), h2 = heap_bytes(r2);
    rc_obj *l1 = rc_list(r1), *l2 = rc_list(r2);
    for (int i = 0; i < 100; i++) {
        rc_obj *v1 = rc_int(r1, 1000000 + i), *v2 = rc_int(r2, 1000000 + i);
        rc_list_append(r1, l1, v1);
        rc_list_append(r2, l2, v2);
        rc_decref(v1);
        rc_decref(v2);
    }
    size_t b1 = heap_bytes(r1), b2 = heap_bytes(r2);
    assert_int_equal(traced_now() - t0, (b1 - h1) + (b2 - h2));
    size_t t1 = traced_now();
    rc_runtime_free(r1);                     /* l1 still alive: freed with the heap */
    assert_true(t1 - traced_now() >= b1);
    rc_decref(l2);
    rc_runtime_free(r2);
    assert_int_equal(traced_now(), before);   /* everything the runtimes took is back */
    rc_trace_stop();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_exact_current, teardown),
        cmocka_unit_test_teardown(test_cycle_collected, teardown),
        cmocka_unit_test_teardown(test_before_start, teardown),
        cmocka_unit_test_teardown(test_traceback_frame0, teardown),
        cmocka_unit_test_teardown(test_start_stop_start, teardown),
        cmocka_unit_test_teardown(test_debug_quarantine, teardown),
        cmocka_unit_test_teardown(test_two_runtimes, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
