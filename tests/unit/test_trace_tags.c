/* rc-test: whitebox */
/* test_trace_tags.c - the tracer's tracebacks, interned through the tags it
 * keeps in the stack memo, against a plain walk taken at the same place:
 * random call trees (several call sites per function, frames described
 * from %rbp, longjmp out of the middle), limits below and above the depth
 * (the tag of a frame holds only for the same outermost frame), clear_traces
 * between rounds (tags of an older generation must not be used), and
 * objects (their walk drops the object layer's frames) mixed with
 * rc_malloc. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rct.h"
#include "recycle.h"
#include "trace/stack.h"

#define NOINLINE __attribute__((noinline))
#define NOTAIL() __asm__ volatile("" ::: "memory")

typedef struct ctx {
    uint64_t rng;
    int limit;
    size_t checked, bad;
    jmp_buf *escape;
    int escape_at;
    rc_runtime *rt;
    void *keep[64];   /* some blocks live on: their traces are checked at the end too */
    rc_traceback *keep_tb[64];
    size_t nkeep;
} ctx;

static uint64_t rnd(ctx *c) {
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return c->rng;
}

/* The traceback of p must be [a pc in this function, then what a plain walk
 * from here finds after its own frame 0], cut at the limit. */
static NOINLINE void check_block(ctx *c, void *p) {
    uintptr_t ref[RC_TRACE_MAX_FRAMES + 1];
    /* raw [pc in the walk, return into here, return into alloc_here, ...]:
     * from the third on, the traceback's frames */
    size_t nref = rctr_stack_capture_plain(ref, (size_t)c->limit, 2);
    rc_traceback *tb = rc_trace_get_object_traceback(p);
    c->checked++;
    if (!tb) {
        c->bad++;
        return;
    }
    size_t n = rc_traceback_len(tb);
    /* frame 0: the allocating call in our caller differs from ours; the
     * rest are the same callers */
    bool ok = n == nref;
    for (size_t i = 1; ok && i < n; i++)
        ok = rc_traceback_addr(tb, i) == ref[i];
    if (!ok)
        c->bad++;
    if (c->nkeep < 64 && (rnd(c) & 7) == 0) {
        c->keep[c->nkeep] = p;
        c->keep_tb[c->nkeep++] = tb;
    } else {
        rc_traceback_free(tb);
    }
    NOTAIL();
}

/* Allocates from here, so frame 0 of the traceback lies in this function
 * and the rest are its callers, exactly what check_block's walk sees after
 * its own frame. */
static NOINLINE void alloc_here(ctx *c) {
    if (c->rt && (rnd(c) & 1)) {
        rc_obj *o = rc_float(c->rt, 1.5);
        check_block(c, o);
        bool kept = c->nkeep && c->keep[c->nkeep - 1] == (void *)o;
        if (!kept)
            rc_decref(o);
    } else {
        void *p = rc_malloc(24 + (size_t)(rnd(c) % 200));
        check_block(c, p);
        bool kept = c->nkeep && c->keep[c->nkeep - 1] == p;
        if (!kept)
            rc_free(p);
    }
    NOTAIL();
}

static NOINLINE void node_a(ctx *c, int depth);
static NOINLINE void node_b(ctx *c, int depth);

static NOINLINE void node_alloca(ctx *c, int depth) {
    volatile char *v = __builtin_alloca(16 + (size_t)(rnd(c) % 64));
    v[0] = 1;
    alloc_here(c);
    if (depth > 0)
        node_b(c, depth - 1);
    alloc_here(c);
    (void)v[0];
    NOTAIL();
}

static NOINLINE void node_a(ctx *c, int depth) {
    if (depth == c->escape_at)
        longjmp(*c->escape, 1);
    alloc_here(c);
    if (depth <= 0)
        return;
    int kids = (int)(rnd(c) % 3);
    for (int k = 0; k < kids; k++) {
        switch (rnd(c) % 3) {
        case 0: node_a(c, depth - 1); break;
        case 1: node_b(c, depth - 1); break;
        default: node_alloca(c, depth - 1); break;
        }
        alloc_here(c);
    }
    NOTAIL();
}

static NOINLINE void node_b(ctx *c, int depth) {
    alloc_here(c);
    if (depth > 0) {
        node_a(c, depth - 1);
        alloc_here(c);
        node_b(c, depth - 1);
    }
    NOTAIL();
}

static NOINLINE void one_tree(ctx *c, int escape_at) {
    jmp_buf env;
    c->escape = &env;
    c->escape_at = escape_at;
    if (setjmp(env) == 0)
        node_a(c, 10);
    c->escape = NULL;
    NOTAIL();
}

/* The kept blocks' tracebacks are unchanged while they live. */
static void check_kept(ctx *c) {
    for (size_t i = 0; i < c->nkeep; i++) {
        rc_traceback *now = rc_trace_get_object_traceback(c->keep[i]);
        assert_non_null(now);
        assert_int_equal(rc_traceback_len(now), rc_traceback_len(c->keep_tb[i]));
        for (size_t k = 0; k < rc_traceback_len(now); k++)
            assert_true(rc_traceback_addr(now, k) == rc_traceback_addr(c->keep_tb[i], k));
        rc_traceback_free(now);
    }
}

static void release_kept(ctx *c) {
    for (size_t i = 0; i < c->nkeep; i++) {
        if (rc_heap_contains(c->keep[i]))
            rc_free(c->keep[i]);
        else
            rc_decref((rc_obj *)c->keep[i]);
        rc_traceback_free(c->keep_tb[i]);
    }
    c->nkeep = 0;
}

static void run(rc_runtime *rt) {
    static const int limits[] = {1, 3, 7, 12, 25, 64};
    ctx c = {.rng = 0x9e3779b97f4a7c15u, .rt = rt};
    for (int round = 0; round < 36; round++) {
        c.limit = limits[round % 6];
        assert_int_equal(rc_trace_start(c.limit), 0);   /* changes the limit while tracing */
        one_tree(&c, round % 4 == 0 ? (int)(rnd(&c) % 10) : -1);
        check_kept(&c);
        if (round % 5 == 4) {
            release_kept(&c);
            rc_trace_clear_traces();   /* a new generation: every tag is stale */
        }
    }
    release_kept(&c);
    print_message("checked %zu tracebacks, %zu wrong\n", c.checked, c.bad);
    assert_true(c.checked > 2000);
    assert_int_equal(c.bad, 0);
}

static void test_tags_rc_malloc(void **state) {
    (void)state;
    run(NULL);
    rc_trace_stop();
}

static void test_tags_objects_too(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    run(rt);
    rc_trace_stop();
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags_rc_malloc),
        cmocka_unit_test(test_tags_objects_too),
    };
    return rct_run_tests(tests, NULL, NULL);
}
