/* rc-test: threads */
/* test_profile.c - recycle/profile.h: the table of a profiled function
 * against allocations of known sizes on known lines (rc_malloc, free,
 * realloc, a callee's blocks charged to the calling line, a loop's
 * occurrences, a list object), mem usage after each line's last change,
 * begin without tracing (tracing started and stopped again; left alone when
 * it was on), nesting and the errors of unbalanced, repeated or foreign
 * ends and too deep nesting (codes, never crashes), another thread's
 * allocations not charged, and memory_profiler's table format (columns,
 * MiB with one decimal, blank rows). */
#include <pthread.h>
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

#define NOINLINE __attribute__((noinline))
/* keeps a call from being the function's last act (no tail call) */
#define NOTAIL() __asm__ volatile("" ::: "memory")

static int teardown(void **state) {
    (void)state;
    rc_trace_stop();
    return 0;
}

/* ---- known allocations on known lines ---- */

struct known {
    int begin, malloc1, malloc2, callee, loop, realloc1, free1, loopfree, end;
    void *keep;
};

static NOINLINE void *callee_alloc(size_t n) {
    void *p = rc_malloc(n);
    NOTAIL();
    return p;
}

static NOINLINE rc_profile *profiled_known(struct known *k) {
    void *v[10];
    rc_profile *p = RC_PROFILE_BEGIN(NULL); k->begin = __LINE__;
    void *a = rc_malloc(1000); k->malloc1 = __LINE__;
    void *b = rc_malloc(3000); k->malloc2 = __LINE__;
    void *c = callee_alloc(5000); k->callee = __LINE__;
    for (int i = 0; i < 10; i++) { v[i] = rc_malloc(64); } k->loop = __LINE__;
    b = rc_realloc(b, 4000); k->realloc1 = __LINE__;
    rc_free(a); k->free1 = __LINE__;
    for (int i = 0; i < 10; i++) { rc_free(v[i]); } k->loopfree = __LINE__;
    RC_PROFILE_END(p); k->end = __LINE__;
    rc_free(b);
    k->keep = c;
    return p;
}

static const rc_profile_line *row(const rc_profile *p, int line) {
    const rc_profile_line *r = rc_profile_line_get(p, line);
    assert_non_null(r);
    assert_int_equal(r->lineno, line);
    return r;
}

static void expect_row(const rc_profile *p, int line, long inc, size_t occ, size_t mem) {
    const rc_profile_line *r = row(p, line);
    assert_true(r->has_data);
    assert_int_equal(r->increment, inc);
    assert_int_equal(r->occurrences, occ);
    assert_int_equal(r->mem_usage, mem);
}

static void test_known_lines(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(1), 0);
    void *before = rc_malloc(777);   /* traced memory at begin: 777 */
    struct known k;
    rc_profile *p = profiled_known(&k);
    assert_non_null(p);
    size_t b0 = 777;
    expect_row(p, k.begin, 0, 1, b0);
    expect_row(p, k.malloc1, 1000, 1, b0 + 1000);
    expect_row(p, k.malloc2, 3000, 1, b0 + 4000);
    expect_row(p, k.callee, 5000, 1, b0 + 9000);           /* the callee's block */
    expect_row(p, k.loop, 640, 10, b0 + 9640);             /* ten changes, one line */
    expect_row(p, k.realloc1, 1000, 1, b0 + 10640);        /* 3000 -> 4000: one change */
    expect_row(p, k.free1, -1000, 1, b0 + 9640);
    expect_row(p, k.loopfree, -640, 10, b0 + 9000);
    expect_row(p, k.end, 0, 1, b0 + 9000);
    /* the rows run from the function's header to its closing brace; the
     * lines without changes are blank */
    const rc_profile_line *first = rc_profile_at(p, 0);
    assert_non_null(strstr(first->text, "profiled_known(struct known *k) {"));
    assert_false(first->has_data);
    const rc_profile_line *last = rc_profile_at(p, rc_profile_len(p) - 1);
    assert_string_equal(last->text, "}");
    assert_false(row(p, k.begin - 1)->has_data);            /* void *v[10]; */
    assert_non_null(strstr(row(p, k.malloc1)->text, "rc_malloc(1000)"));
    /* increments add up to the change between begin and end */
    long sum = 0;
    for (size_t i = 0; i < rc_profile_len(p); i++)
        sum += rc_profile_at(p, i)->increment;
    size_t at_begin, at_end;
    rc_profile_memory(p, &at_begin, &at_end);
    assert_int_equal(at_begin, b0);
    assert_int_equal(at_end, b0 + 9000);
    assert_int_equal(sum, 9000);
    long lost_bytes = 1;
    assert_int_equal(rc_profile_unattributed(p, &lost_bytes), 0);
    assert_int_equal(lost_bytes, 0);
    assert_string_equal(rc_profile_function(p), "profiled_known");
    assert_non_null(strstr(rc_profile_filename(p), "test_profile.c"));
    assert_null(rc_profile_line_get(p, 1));
    assert_null(rc_profile_at(p, rc_profile_len(p)));
    rc_profile_free(p);
    rc_free(k.keep);
    rc_free(before);
    assert_int_equal(rc_trace_is_tracing(), 1);   /* it was on before: left on */
    rc_trace_stop();
}

/* ---- objects ---- */

struct objs {
    int list;
    size_t size;
};

static NOINLINE rc_profile *profiled_list(rc_runtime *rt, struct objs *o, rc_obj **out) {
    rc_profile *p = RC_PROFILE_BEGIN(NULL);
    rc_obj *l = rc_list_with_capacity(rt, 100000); o->list = __LINE__;
    RC_PROFILE_END(p);
    o->size = l ? rc_sizeof(l) : 0;
    *out = l;
    return p;
}

static void test_objects(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    struct objs o;
    rc_obj *l = NULL;
    rc_profile *p = profiled_list(rt, &o, &l);
    assert_non_null(p);
    assert_non_null(l);
    const rc_profile_line *r = row(p, o.list);
    assert_true(r->has_data);
    /* an object's blocks are traced at their usable size: the 800000-byte
     * item array takes 13 spans of 64 KiB, 6.5 % above what rc_sizeof says */
    assert_true(r->increment >= (long)o.size);
    assert_true(r->increment <= (long)o.size + (long)o.size / 10);
    assert_int_equal(r->occurrences, 2);   /* the object and its item array */
    rc_profile_free(p);
    rc_decref(l);
    rc_runtime_free(rt);
}

/* ---- tracing off at begin ---- */

static NOINLINE rc_profile *profiled_untraced(int *line, int *err) {
    rc_profile *p = RC_PROFILE_BEGIN(err);
    if (!p)
        return NULL;
    void *x = rc_malloc(2048); *line = __LINE__;
    rc_free(x);
    RC_PROFILE_END(p);
    return p;
}

static void test_begin_starts_tracing(void **state) {
    (void)state;
    assert_int_equal(rc_trace_is_tracing(), 0);
    int line = 0, err = -1;
    rc_profile *p = profiled_untraced(&line, &err);
    assert_non_null(p);
    assert_int_equal(err, 0);
    assert_int_equal(rc_trace_is_tracing(), 0);    /* started by begin, stopped by end */
    const rc_profile_line *r = row(p, line);
    assert_int_equal(r->increment, 2048);
    assert_int_equal(r->mem_usage, 2048);           /* the baseline is 0 */
    rc_profile_free(p);
}

/* ---- nesting and misuse ---- */

struct nest {
    int inner_alloc, outer_call;
    rc_profile *inner;
    int unbalanced, inner_twice, print_active;
};

static NOINLINE void *inner_profiled(struct nest *n) {
    rc_profile *p = RC_PROFILE_BEGIN(NULL);
    void *x = rc_malloc(300); n->inner_alloc = __LINE__;
    RC_PROFILE_END(p);
    n->inner = p;
    return x;
}

static NOINLINE rc_profile *outer_profiled(struct nest *n, void **keep) {
    rc_profile *p = RC_PROFILE_BEGIN(NULL);
    *keep = inner_profiled(n); n->outer_call = __LINE__;
    RC_PROFILE_END(p);
    return p;
}

static void test_nested(void **state) {
    (void)state;
    struct nest n;
    void *keep = NULL;
    rc_profile *outer = outer_profiled(&n, &keep);
    assert_non_null(outer);
    assert_non_null(n.inner);
    /* the inner profile has the block on its line, the outer on the call */
    assert_int_equal(row(n.inner, n.inner_alloc)->increment, 300);
    assert_int_equal(row(outer, n.outer_call)->increment, 300);
    assert_int_equal(row(outer, n.outer_call)->occurrences, 1);
    assert_null(rc_profile_line_get(outer, n.inner_alloc));
    rc_profile_free(n.inner);
    rc_profile_free(outer);
    rc_free(keep);
}

static NOINLINE void misuse(struct nest *n) {
    int err = 0;
    rc_profile *a = RC_PROFILE_BEGIN(&err);
    assert_non_null(a);
    rc_profile *b = RC_PROFILE_BEGIN(&err);   /* nested in the same function: allowed */
    assert_non_null(b);
    n->unbalanced = rc_profile_end_at(a, __LINE__);   /* b is still active */
    n->print_active = rc_profile_print(a, NULL);
    assert_int_equal(rc_profile_len(a), 0);
    assert_int_equal(rc_profile_end_at(b, __LINE__), 0);
    n->inner_twice = rc_profile_end_at(b, __LINE__);
    assert_int_equal(rc_profile_end_at(a, __LINE__), 0);
    assert_int_equal(rc_profile_end_at(NULL, __LINE__), RC_EINVAL);
    assert_int_equal(rc_profile_print(NULL, NULL), RC_EINVAL);
    rc_profile_free(a);
    rc_profile_free(b);
    rc_profile_free(NULL);
}

static void test_unbalanced(void **state) {
    (void)state;
    struct nest n;
    misuse(&n);
    assert_int_equal(n.unbalanced, RC_ESTATE);
    assert_int_equal(n.print_active, RC_ESTATE);
    assert_int_equal(n.inner_twice, RC_ESTATE);
    assert_int_equal(rc_trace_is_tracing(), 0);
}

static NOINLINE void too_deep(void) {
    rc_profile *p[RC_PROFILE_MAX_NESTED + 1];
    int err = 0;
    for (int i = 0; i < RC_PROFILE_MAX_NESTED; i++) {
        p[i] = RC_PROFILE_BEGIN(&err);
        assert_non_null(p[i]);
        assert_int_equal(err, 0);
    }
    p[RC_PROFILE_MAX_NESTED] = RC_PROFILE_BEGIN(&err);
    assert_null(p[RC_PROFILE_MAX_NESTED]);
    assert_int_equal(err, RC_ESTATE);
    /* freeing an active profile that is not the innermost ends it too */
    rc_profile_free(p[0]);
    for (int i = RC_PROFILE_MAX_NESTED - 1; i >= 1; i--)
        assert_int_equal(rc_profile_end_at(p[i], __LINE__), 0);
    for (int i = 1; i < RC_PROFILE_MAX_NESTED; i++)
        rc_profile_free(p[i]);
}

static void test_too_deep(void **state) {
    (void)state;
    too_deep();
    assert_int_equal(rc_trace_is_tracing(), 0);
}

/* ---- threads ---- */

struct other {
    rc_profile *p;
    int end, block_size;
    void *block;
};

static void *other_thread(void *arg) {
    struct other *o = arg;
    o->end = rc_profile_end_at(o->p, 1);   /* not its profile */
    rc_profile_free(o->p);                 /* left alone: still active */
    o->block = rc_malloc((size_t)o->block_size);
    return NULL;
}

static NOINLINE rc_profile *profiled_with_thread(struct other *o, int *line) {
    rc_profile *p = RC_PROFILE_BEGIN(NULL);
    o->p = p;
    void *mine = rc_malloc(100); *line = __LINE__;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, o), 0);
    pthread_join(t, NULL);
    rc_free(mine);
    assert_int_equal(rc_profile_end_at(p, __LINE__), 0);
    return p;
}

static void test_other_thread(void **state) {
    (void)state;
    struct other o = {.block_size = 1 << 20};
    int line = 0;
    rc_trace_start(1);
    rc_profile *p = profiled_with_thread(&o, &line);
    assert_int_equal(o.end, RC_ESTATE);
    assert_int_equal(row(p, line)->increment, 100);
    long sum = 0;
    for (size_t i = 0; i < rc_profile_len(p); i++)
        sum += rc_profile_at(p, i)->increment;
    size_t at_begin, at_end;
    rc_profile_memory(p, &at_begin, &at_end);
    assert_int_equal(sum, 0);                              /* only this thread is charged */
    assert_int_equal(at_end - at_begin, (size_t)o.block_size);   /* but the memory is everyone's */
    rc_profile_free(p);
    rc_free(o.block);
    rc_trace_stop();
}

/* ---- the table's format ---- */

static NOINLINE rc_profile *profiled_format(int *grow, int *shrink) {
    rc_profile *p = RC_PROFILE_BEGIN(NULL);
    void *x = rc_malloc(3 << 20); *grow = __LINE__;
    rc_free(x); *shrink = __LINE__;
    RC_PROFILE_END(p);
    return p;
}

static char *printed(const rc_profile *p) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(rc_profile_print(p, f), 0);
    fclose(f);
    return text;
}

static void test_format(void **state) {
    (void)state;
    int grow = 0, shrink = 0;
    rc_profile *p = profiled_format(&grow, &shrink);
    assert_non_null(p);
    char *text = printed(p);
    char want[512];
    snprintf(want, sizeof want, "Filename: %s\n\n", rc_profile_filename(p));
    assert_memory_equal(text, want, strlen(want));
    const char *t = text + strlen(want);
    const char *header = "Line #    Mem usage    Increment  Occurrences   Line Contents\n"
                         "=============================================================\n";
    assert_memory_equal(t, header, strlen(header));
    /* memory_profiler's '{0:>6} {1:>12} {2:>12}  {3:>10}   {4:<}' */
    snprintf(want, sizeof want, "\n%6d      3.0 MiB      3.0 MiB           1       void *x = rc_malloc(3 << 20);",
             grow);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want, "\n%6d      0.0 MiB     -3.0 MiB           1       rc_free(x);", shrink);
    assert_non_null(strstr(text, want));
    /* the header line of the function: blank columns, 41 spaces */
    const rc_profile_line *first = rc_profile_at(p, 0);
    snprintf(want, sizeof want, "\n%6d%41s%s\n", first->lineno, "", first->text);
    assert_non_null(strstr(text, want));
    /* ends with memory_profiler's blank lines, no note of lost changes */
    size_t len = strlen(text);
    assert_true(len > 4);
    assert_string_equal(text + len - 4, "}\n\n\n");
    assert_null(strstr(text, "not charged"));
    free(text);
    rc_profile_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_known_lines, teardown),
        cmocka_unit_test_teardown(test_objects, teardown),
        cmocka_unit_test_teardown(test_begin_starts_tracing, teardown),
        cmocka_unit_test_teardown(test_nested, teardown),
        cmocka_unit_test_teardown(test_unbalanced, teardown),
        cmocka_unit_test_teardown(test_too_deep, teardown),
        cmocka_unit_test_teardown(test_other_thread, teardown),
        cmocka_unit_test_teardown(test_format, teardown),
    };
    return rct_run_tests(tests, NULL, teardown);
}
