/* rc-test: whitebox */
/* test_trace_snapshot.c - snapshots, statistics by file, line and
 * traceback (cumulative and not), compare_to, the printed table, and each
 * kind of filter, on allocations made at known lines of this file. */
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

static void *volatile sink;
static int line_a, line_b, line_main;

/* Each allocation and the __LINE__ that names it share one source line. */
__attribute__((noinline)) static void *alloc_a(void) {
    void *p = rc_malloc(100); line_a = __LINE__;
    sink = p;
    return sink;
}

__attribute__((noinline)) static void *alloc_b(void) {
    void *p = rc_malloc(1000); line_b = __LINE__;
    sink = p;
    return sink;
}

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

static int teardown(void **state) {
    (void)state;
    rc_trace_stop();
    return 0;
}

static const rc_stat *find_line(const rc_stats *st, int line) {
    for (size_t i = 0; i < rc_stats_len(st); i++) {
        const rc_stat *s = rc_stats_at(st, i);
        if (s->lineno == line && ends_with(s->filename, "test_trace_snapshot.c"))
            return s;
    }
    return NULL;
}

/* 3 blocks of 100 at line_a, 1 of 1000 at line_b. */
static void *blocks[8];
static volatile int three = 3;     /* not unrolled: one call site for A */
static void make_blocks(void) {
    for (int i = 0; i < three; i++) {
        blocks[i] = alloc_a(); line_main = __LINE__;
    }
    blocks[3] = alloc_b();
}

static void test_snapshot_needs_tracing(void **state) {
    (void)state;
    assert_null(rc_trace_take_snapshot());
    assert_null(rc_snapshot_statistics(NULL, RC_BY_LINENO, 0));
    assert_int_equal(rc_stats_len(NULL), 0);
    rc_snapshot_free(NULL);
    rc_stats_free(NULL);
}

static void test_statistics(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(10), 0);
    make_blocks();
    rc_snapshot *s = rc_trace_take_snapshot();
    assert_non_null(s);
    assert_int_equal(rc_snapshot_trace_count(s), 4);
    assert_int_equal(rc_snapshot_traceback_limit(s), 10);
    assert_null(rc_snapshot_statistics(s, 42, 0));

    rc_stats *st = rc_snapshot_statistics(s, RC_BY_LINENO, 0);
    assert_non_null(st);
    assert_int_equal(rc_stats_len(st), 2);
    const rc_stat *b = rc_stats_at(st, 0), *a = rc_stats_at(st, 1);
    assert_true(ends_with(b->filename, "test_trace_snapshot.c"));
    assert_int_equal(b->lineno, line_b);
    assert_int_equal(b->size, 1000);
    assert_int_equal(b->count, 1);
    assert_int_equal(a->lineno, line_a);
    assert_int_equal(a->size, 300);
    assert_int_equal(a->count, 3);
    assert_null(rc_stats_at(st, 2));
    assert_null(rc_stats_traceback(st, 0));
    rc_stats_free(st);

    st = rc_snapshot_statistics(s, RC_BY_FILENAME, 0);
    assert_int_equal(rc_stats_len(st), 1);
    assert_int_equal(rc_stats_at(st, 0)->size, 1300);
    assert_int_equal(rc_stats_at(st, 0)->count, 4);
    assert_int_equal(rc_stats_at(st, 0)->lineno, 0);
    rc_stats_free(st);

    /* cumulative by file: each trace counts once per file, however many of
     * its frames lie there */
    st = rc_snapshot_statistics(s, RC_BY_FILENAME, 1);
    const rc_stat *f = NULL;
    for (size_t i = 0; i < rc_stats_len(st); i++)
        if (ends_with(rc_stats_at(st, i)->filename, "test_trace_snapshot.c"))
            f = rc_stats_at(st, i);
    assert_non_null(f);
    assert_int_equal(f->size, 1300);
    assert_int_equal(f->count, 4);
    rc_stats_free(st);

    /* cumulative by line: the caller's line carries the three blocks of A */
    st = rc_snapshot_statistics(s, RC_BY_LINENO, 1);
    const rc_stat *m = find_line(st, line_main);
    assert_non_null(m);
    assert_int_equal(m->size, 300);
    assert_int_equal(m->count, 3);
    assert_int_equal(find_line(st, line_a)->size, 300);
    rc_stats_free(st);

    st = rc_snapshot_statistics(s, RC_BY_TRACEBACK, 0);
    assert_int_equal(rc_stats_len(st), 2);
    assert_int_equal(rc_stats_at(st, 0)->size, 1000);
    assert_int_equal(rc_stats_at(st, 0)->lineno, line_b);
    const rc_traceback *tb = rc_stats_traceback(st, 0);
    assert_non_null(tb);
    assert_true(rc_traceback_addr(tb, 0) > (uintptr_t)alloc_b &&
                rc_traceback_addr(tb, 0) < (uintptr_t)alloc_b + 256);
    assert_int_equal(rc_stats_at(st, 1)->count, 3);
    rc_snapshot_free(s);                  /* the statistics keep their tracebacks */
    assert_true(rc_traceback_len(rc_stats_traceback(st, 1)) >= 2);
    rc_stats_free(st);
    for (int i = 0; i < 4; i++)
        rc_free(blocks[i]);
    rc_trace_stop();
}

static void test_compare_and_print(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(5), 0);
    make_blocks();
    rc_snapshot *old = rc_trace_take_snapshot();
    rc_free(blocks[0]);
    blocks[4] = alloc_b();
    rc_snapshot *s = rc_trace_take_snapshot();
    rc_trace_stop();                        /* snapshots outlive the tracer */

    rc_stats *d = rc_snapshot_compare_to(s, old, RC_BY_LINENO, 0);
    assert_non_null(d);
    assert_int_equal(rc_stats_len(d), 2);
    const rc_stat *b = rc_stats_at(d, 0), *a = rc_stats_at(d, 1);
    assert_int_equal(b->lineno, line_b);
    assert_int_equal(b->size, 2000);
    assert_int_equal(b->size_diff, 1000);
    assert_int_equal(b->count_diff, 1);
    assert_int_equal(a->lineno, line_a);
    assert_int_equal(a->size, 200);
    assert_int_equal(a->size_diff, -100);
    assert_int_equal(a->count_diff, -1);

    char buf[1024] = {0};
    FILE *out = fmemopen(buf, sizeof buf - 1, "w");
    rc_stats_print(d, out, 1);
    fclose(out);
    char want[256];
    snprintf(want, sizeof want, "test_trace_snapshot.c:%d: size=2000 B (+1000 B), count=2 (+1), average=1000 B\n", line_b);
    assert_true(ends_with(buf, want));
    rc_stats_free(d);

    /* a key present in old only: size 0, negative differences */
    d = rc_snapshot_compare_to(old, s, RC_BY_TRACEBACK, 0);
    assert_int_equal(rc_stats_len(d), 3);     /* A; B from make_blocks; B from here */
    assert_int_equal(rc_stats_at(d, 0)->size_diff, -1000);
    assert_non_null(rc_stats_traceback(d, 0));
    rc_stats_free(d);

    rc_stats *st = rc_snapshot_statistics(s, RC_BY_LINENO, 0);
    memset(buf, 0, sizeof buf);
    out = fmemopen(buf, sizeof buf - 1, "w");
    rc_stats_print(st, out, 0);
    fclose(out);
    snprintf(want, sizeof want, "test_trace_snapshot.c:%d: size=200 B, count=2, average=100 B\n", line_a);
    assert_true(ends_with(buf, want));
    rc_stats_free(st);
    rc_snapshot_free(s);
    rc_snapshot_free(old);
    for (int i = 1; i < 5; i++)
        rc_free(blocks[i]);
}

static void test_print_units(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(1), 0);
    void *p = rc_malloc(200 * 1024);
    void *q = rc_malloc(50 * 1024 * 1024 + 512 * 1024);
    rc_snapshot *s = rc_trace_take_snapshot();
    rc_stats *st = rc_snapshot_statistics(s, RC_BY_TRACEBACK, 0);
    char buf[512] = {0};
    FILE *out = fmemopen(buf, sizeof buf - 1, "w");
    rc_stats_print(st, out, 0);
    fclose(out);
    assert_non_null(strstr(buf, "size=50.5 MiB, count=1, average=50.5 MiB\n"));
    assert_non_null(strstr(buf, "size=200 KiB, count=1, average=200 KiB\n"));
    rc_stats_free(st);
    rc_snapshot_free(s);
    rc_free(p);
    rc_free(q);
}

static void test_filters(void **state) {
    (void)state;
    static char gpu[64];
    assert_int_equal(rc_trace_start(10), 0);
    make_blocks();
    assert_int_equal(rc_trace_track(5, gpu, 64), 0);
    rc_snapshot *s = rc_trace_take_snapshot();
    assert_int_equal(rc_snapshot_trace_count(s), 5);

    rc_snapshot *f = rc_snapshot_filter_traces(s, NULL, 0);     /* no filter: all */
    assert_int_equal(rc_snapshot_trace_count(f), 5);
    rc_snapshot_free(f);

    rc_trace_filter excl_file = {0, "*test_trace_snapshot.c", 0, 0, 0, 0};
    f = rc_snapshot_filter_traces(s, &excl_file, 1);
    assert_int_equal(rc_snapshot_trace_count(f), 0);
    rc_snapshot_free(f);

    rc_trace_filter incl_line = {1, "*test_trace_snapshot.c", line_b, 0, 0, 0};
    f = rc_snapshot_filter_traces(s, &incl_line, 1);
    assert_int_equal(rc_snapshot_trace_count(f), 1);
    rc_stats *st = rc_snapshot_statistics(f, RC_BY_LINENO, 0);
    assert_int_equal(rc_stats_at(st, 0)->size, 1000);
    rc_stats_free(st);
    rc_snapshot_free(f);

    /* frame 0 of A's blocks is line_a: a filter on line_main matches only
     * with all_frames */
    rc_trace_filter main_only = {1, "*test_trace_snapshot.c", line_main, 0, 0, 0};
    f = rc_snapshot_filter_traces(s, &main_only, 1);
    assert_int_equal(rc_snapshot_trace_count(f), 0);
    rc_snapshot_free(f);
    main_only.all_frames = 1;
    f = rc_snapshot_filter_traces(s, &main_only, 1);
    assert_int_equal(rc_snapshot_trace_count(f), 3);
    rc_snapshot_free(f);

    rc_trace_filter dom = {1, NULL, 0, 0, 1, 5};
    f = rc_snapshot_filter_traces(s, &dom, 1);
    assert_int_equal(rc_snapshot_trace_count(f), 1);
    rc_snapshot_free(f);
    dom.inclusive = 0;
    f = rc_snapshot_filter_traces(s, &dom, 1);
    assert_int_equal(rc_snapshot_trace_count(f), 4);
    rc_snapshot_free(f);

    /* inclusive on the file, exclusive on line_a: B's block and the
     * tracked one (tracked from this file too) */
    rc_trace_filter two[2] = {{1, "*test_trace_snapshot.c", 0, 0, 0, 0},
                              {0, "*test_trace_snapshot.c", line_a, 0, 0, 0}};
    f = rc_snapshot_filter_traces(s, two, 2);
    assert_int_equal(rc_snapshot_trace_count(f), 2);
    rc_snapshot_free(f);

    rc_snapshot_free(s);
    for (int i = 0; i < 4; i++)
        rc_free(blocks[i]);
    rc_trace_stop();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_snapshot_needs_tracing, teardown),
        cmocka_unit_test_teardown(test_statistics, teardown),
        cmocka_unit_test_teardown(test_compare_and_print, teardown),
        cmocka_unit_test_teardown(test_print_units, teardown),
        cmocka_unit_test_teardown(test_filters, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
