/* test_trace_bytype.c - "which lines make which types": with
 * rc_trace_set_object_types on, statistics by line and type give one entry
 * per (line, type) with exact counts (one line making lists and dicts shows
 * as two entries; a user type on another line as its own), buffers and
 * plain rc_malloc blocks as untyped, the printed table names the type; types
 * off: nothing typed; objects freed: their types gone with their traces; a
 * filtered snapshot keeps its types; a dumped and loaded one has none;
 * rc_trace_stop and clear_traces drop them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

typedef struct widget {
    rc_obj ob;
    int64_t id;
    double weight;
} widget;

static const rc_type widget_type = {.name = "widget", .size = sizeof(widget)};

static int g_mixed_line, g_widget_line, g_malloc_line;

/* One line that makes a list or a dict, as a factory does. */
static __attribute__((noinline)) rc_obj *make(rc_runtime *rt, bool list) {
    g_mixed_line = __LINE__ + 1;
    rc_obj *o = list ? rc_list(rt) : rc_dict(rt);
    assert_non_null(o);
    return o;
}

static __attribute__((noinline)) rc_obj *make_widget(rc_runtime *rt) {
    g_widget_line = __LINE__ + 1;
    rc_obj *o = rc_new(rt, &widget_type);
    assert_non_null(o);
    return o;
}

static __attribute__((noinline)) void *raw(void) {
    g_malloc_line = __LINE__ + 1;
    void *p = rc_malloc(100);
    assert_non_null(p);
    return p;
}

/* The count of the entry for (line, type) among stats by type; -1 if none. */
static long count_of(const rc_stats *st, int line, const char *type) {
    for (size_t i = 0; i < rc_stats_len(st); i++) {
        const rc_stat *s = rc_stats_at(st, i);
        const char *t = rc_stats_type(st, i);
        if (s->lineno == line && strstr(s->filename, "test_trace_bytype.c") &&
            ((!t && !type) || (t && type && strcmp(t, type) == 0)))
            return (long)s->count;
    }
    return -1;
}

static rc_stats *by_type(int cumulative) {
    rc_snapshot *s = rc_trace_take_snapshot();
    assert_non_null(s);
    rc_stats *st = rc_snapshot_statistics_by_type(s, RC_BY_LINENO, cumulative);
    assert_non_null(st);
    rc_snapshot_free(s);
    return st;
}

static void test_lines_and_types(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(4), 0);
    assert_int_equal(rc_trace_set_object_types(1), 0);
    assert_int_equal(rc_trace_get_object_types(), 1);
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    rc_obj *objs[9];
    for (int i = 0; i < 3; i++)
        objs[i] = make(rt, true);
    for (int i = 3; i < 5; i++)
        objs[i] = make(rt, false);
    for (int i = 5; i < 9; i++)
        objs[i] = make_widget(rt);
    void *p = raw();

    rc_stats *st = by_type(0);
    assert_int_equal(count_of(st, g_mixed_line, "list"), 3);
    assert_int_equal(count_of(st, g_mixed_line, "dict"), 2);
    assert_int_equal(count_of(st, g_widget_line, "widget"), 4);
    assert_int_equal(count_of(st, g_malloc_line, NULL), 1);   /* not an object */
    assert_int_equal(count_of(st, g_malloc_line, "list"), -1);
    /* the table names the type */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rc_stats_print(st, f, 0);
    fclose(f);
    char want[96];
    snprintf(want, sizeof want, "test_trace_bytype.c:%d: list: size=", g_mixed_line);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want, "test_trace_bytype.c:%d: (not an object): size=", g_malloc_line);
    assert_non_null(strstr(text, want));
    free(text);
    rc_stats_free(st);

    /* cumulative: the line of the test that called make counts them too */
    st = by_type(1);
    assert_int_equal(count_of(st, g_mixed_line, "list"), 3);
    rc_stats_free(st);

    /* plain statistics keep no type */
    rc_snapshot *s = rc_trace_take_snapshot();
    st = rc_snapshot_statistics(s, RC_BY_LINENO, 0);
    assert_null(rc_stats_type(st, 0));
    rc_stats_free(st);
    /* a filtered snapshot keeps its types */
    rc_trace_filter only = {.inclusive = 1, .filename_pattern = "*test_trace_bytype.c"};
    rc_snapshot *fs = rc_snapshot_filter_traces(s, &only, 1);
    assert_non_null(fs);
    st = rc_snapshot_statistics_by_type(fs, RC_BY_LINENO, 0);
    assert_int_equal(count_of(st, g_widget_line, "widget"), 4);
    rc_stats_free(st);
    rc_snapshot_free(fs);
    /* a dumped and loaded one has none */
    char path[] = "/tmp/rct-bytype.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(rc_snapshot_dump(s, path), 0);
    int err = 0;
    rc_snapshot *ls = rc_snapshot_load(path, &err);
    assert_non_null(ls);
    st = rc_snapshot_statistics_by_type(ls, RC_BY_LINENO, 0);
    assert_int_equal(count_of(st, g_widget_line, "widget"), -1);
    assert_int_equal(count_of(st, g_widget_line, NULL), 4);
    rc_stats_free(st);
    rc_snapshot_free(ls);
    unlink(path);
    rc_snapshot_free(s);

    /* freed objects take their types with them */
    for (int i = 0; i < 3; i++)
        rc_decref(objs[i]);
    st = by_type(0);
    assert_int_equal(count_of(st, g_mixed_line, "list"), -1);
    assert_int_equal(count_of(st, g_mixed_line, "dict"), 2);
    rc_stats_free(st);

    /* types off: what is made from then on is untyped */
    assert_int_equal(rc_trace_set_object_types(0), 0);
    objs[0] = make(rt, true);
    st = by_type(0);
    /* and the table was dropped: the two dicts are untyped now too */
    assert_int_equal(count_of(st, g_mixed_line, "list"), -1);
    assert_int_equal(count_of(st, g_mixed_line, "dict"), -1);
    assert_int_equal(count_of(st, g_mixed_line, NULL), 3);
    assert_int_equal(count_of(st, g_widget_line, "widget"), -1);
    rc_stats_free(st);
    rc_decref(objs[0]);

    for (int i = 3; i < 9; i++)
        rc_decref(objs[i]);
    rc_free(p);
    rc_runtime_free(rt);
    rc_trace_stop();
}

/* Types on across a stop and start: the table starts empty again. */
static void test_stop_drops_types(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(2), 0);
    rc_trace_set_object_types(1);
    rc_runtime *rt = rc_runtime_new(NULL);
    rc_obj *w = make_widget(rt);
    rc_trace_clear_traces();
    rc_stats *st = by_type(0);
    assert_int_equal(count_of(st, g_widget_line, "widget"), -1);
    rc_stats_free(st);
    rc_obj *w2 = make_widget(rt);
    st = by_type(0);
    assert_int_equal(count_of(st, g_widget_line, "widget"), 1);
    rc_stats_free(st);
    rc_trace_stop();
    assert_int_equal(rc_trace_start(2), 0);
    st = by_type(0);
    assert_int_equal(count_of(st, g_widget_line, "widget"), -1);
    rc_stats_free(st);
    rc_decref(w);
    rc_decref(w2);
    rc_runtime_free(rt);
    rc_trace_set_object_types(0);
    rc_trace_stop();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_and_types),
        cmocka_unit_test(test_stop_drops_types),
    };
    return rct_run_tests(tests, NULL, NULL);
}
