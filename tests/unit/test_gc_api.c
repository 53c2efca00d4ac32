/* test_gc_api.c - the gc module's API: defaults and configuration,
 * enable/disable, get_count semantics, thresholds and the automatic trigger
 * (observed with callbacks), the escalation to older generations, stats,
 * get_objects per generation, is_tracked / track / untrack,
 * get_referrers / get_referents, freeze / unfreeze / get_freeze_count,
 * callbacks (phases, info fields, add / remove, RC_EKEY), the debug flags
 * (STATS, COLLECTABLE, UNCOLLECTABLE printed to the runtime's report file,
 * SAVEALL, LEAK), uncollectable cycles and the garbage list, and bad
 * arguments. */
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
#include "rct_gnode.h"

/* ---- a user GC type ---------------------------------------------------- */

#define NSLOT RCT_GNODE_SLOTS
#define MAXID 4096
#define MAGIC(id) (0x5EED0000u ^ (unsigned)(id))

typedef rct_gnode gnode;   /* tests/helpers/rct_gnode.h */

static int g_destroyed[MAXID], g_cleared[MAXID], g_finalized[MAXID];
static int g_next_id;
static FILE *g_report;

static void gnode_clear(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_cleared[n->id]++;
    rct_gnode_drop_slots(n);
}

static void gnode_destroy(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_destroyed[n->id]++;
    rct_gnode_drop_slots(n);
}

static void gnode_finalize(rc_obj *self) {
    g_finalized[((gnode *)self)->id]++;
}

static int gnode_repr(rc_obj *self, char *buf, size_t len) {
    return snprintf(buf, len, "<gnode #%d>", ((gnode *)self)->id);
}

static const rc_type node_type = {
    .name = "gc_node", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .repr = gnode_repr,
};
static const rc_type fin_type = {
    .name = "gc_fin", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .finalize = gnode_finalize, .repr = gnode_repr,
};
static const rc_type noclear_type = {
    .name = "gc_noclear", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .destroy = gnode_destroy, .repr = gnode_repr,
};
/* the same layout without RC_TYPE_GC: never tracked */
static const rc_type plain_type = {
    .name = "gc_plain", .size = sizeof(gnode),
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
};

static gnode *mk(rc_runtime *rt, const rc_type *t) {
    gnode *n = (gnode *)rc_new(rt, t);
    assert_non_null(n);
    assert_true(g_next_id < MAXID);
    n->id = g_next_id++;
    n->magic = MAGIC(n->id);
    return n;
}

static void link_(gnode *a, int i, void *b) {
    assert_null(a->slot[i]);
    a->slot[i] = b;
    rc_incref(b);
}

/* a garbage 2-cycle of type t; returns the first id */
static int garbage_pair(rc_runtime *rt, const rc_type *t1, const rc_type *t2) {
    gnode *a = mk(rt, t1), *b = mk(rt, t2);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    return a->id;
}

static rc_runtime *new_rt_cfg(int disabled) {
    rc_config c;
    rc_config_init(&c);
    c.debug = 1;
    c.gc_disabled = disabled;
    c.report = g_report;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    return rt;
}

static rc_runtime *new_rt(void) {
    return new_rt_cfg(1);
}

static void free_rt(rc_runtime *rt) {
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_runtime_free(rt);
}

static int list_has(rc_runtime *rt, rc_obj *list, rc_obj *o) {
    int n = 0;
    for (size_t i = 0; i < rc_list_len(list); i++)
        if (rc_list_get(rt, list, i) == o)
            n++;
    return n;
}

/* The report file's text written since the last call. */
static char g_text[16384];
static long g_mark;
static const char *report_text(void) {
    fflush(g_report);
    fseek(g_report, g_mark, SEEK_SET);
    size_t len = fread(g_text, 1, sizeof g_text - 1, g_report);
    g_text[len] = '\0';
    fseek(g_report, 0, SEEK_END);
    g_mark = ftell(g_report);
    return g_text;
}

static size_t count_substr(const char *text, const char *s) {
    size_t n = 0;
    for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
        n++;
    return n;
}

static int setup(void **state) {
    (void)state;
    memset(g_destroyed, 0, sizeof g_destroyed);
    memset(g_cleared, 0, sizeof g_cleared);
    memset(g_finalized, 0, sizeof g_finalized);
    g_next_id = 0;
    g_mark = 0;
    g_report = tmpfile();
    return g_report ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    if (g_report)
        fclose(g_report);
    g_report = NULL;
    return 0;
}

/* ---- callbacks that record --------------------------------------------- */

typedef struct cb_event {
    int phase, generation;
    size_t collected, uncollectable;
    size_t count[3];
    rc_gc_stats stats[3];
    long nested;               /* rc_gc_collect from inside the callback */
    char tag;
} cb_event;

typedef struct cb_log {
    cb_event ev[256];
    int n;
    char tag;
    int try_nested;
} cb_log;

static void record_cb(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    cb_log *log = arg;
    if (log->n >= 256)
        return;
    cb_event *e = &log->ev[log->n++];
    e->phase = phase;
    e->generation = info->generation;
    e->collected = info->collected;
    e->uncollectable = info->uncollectable;
    e->tag = log->tag;
    rc_gc_get_count(rt, e->count);
    rc_gc_get_stats(rt, e->stats);
    e->nested = log->try_nested ? rc_gc_collect(rt, 2) : -100;
}

/* ---- defaults and configuration ---------------------------------------- */

static void test_defaults(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    size_t t[3];
    rc_gc_get_threshold(rt, t);
    assert_int_equal(t[0], 700);
    assert_int_equal(t[1], 10);
    assert_int_equal(t[2], 10);
    assert_int_equal(rc_gc_isenabled(rt), 1);
    assert_int_equal(rc_gc_get_debug(rt), 0);
    assert_int_equal(rc_gc_get_freeze_count(rt), 0);
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    for (int g = 0; g < 3; g++) {
        assert_int_equal(st[g].collections, 0);
        assert_int_equal(st[g].collected, 0);
        assert_int_equal(st[g].uncollectable, 0);
    }
    /* the garbage list exists from the start and looking at it changes no
     * count: a new runtime counts no object */
    size_t objects = rc_runtime_object_count(rt);
    assert_int_equal(objects, 0);
    rc_obj *garbage = rc_gc_garbage(rt);
    assert_non_null(garbage);
    assert_true(rc_is_list(garbage));
    assert_int_equal(rc_list_len(garbage), 0);
    assert_ptr_equal(rc_gc_garbage(rt), garbage);           /* the same list */
    assert_int_equal(rc_runtime_object_count(rt), objects);
    rc_gc_set_threshold(rt, 5, 6, 7);
    rc_gc_get_threshold(rt, t);
    assert_int_equal(t[0], 5);
    assert_int_equal(t[1], 6);
    assert_int_equal(t[2], 7);
    rc_gc_disable(rt);
    assert_int_equal(rc_gc_isenabled(rt), 0);
    rc_gc_enable(rt);
    assert_int_equal(rc_gc_isenabled(rt), 1);
    rc_gc_set_debug(rt, RC_GC_DEBUG_STATS | RC_GC_DEBUG_SAVEALL);
    assert_int_equal(rc_gc_get_debug(rt), RC_GC_DEBUG_STATS | RC_GC_DEBUG_SAVEALL);
    rc_gc_set_debug(rt, 0);
    rc_runtime_free(rt);

    rc_config c;
    rc_config_init(&c);
    c.gc_threshold[0] = 50;
    c.gc_threshold[2] = 3;            /* [1] = 0 keeps the default */
    c.gc_disabled = 1;
    rt = rc_runtime_new(&c);
    assert_non_null(rt);
    rc_gc_get_threshold(rt, t);
    assert_int_equal(t[0], 50);
    assert_int_equal(t[1], 10);
    assert_int_equal(t[2], 3);
    assert_int_equal(rc_gc_isenabled(rt), 0);
    rc_runtime_free(rt);
}

static void test_bad_arguments(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    assert_int_equal(rc_gc_collect(rt, 3), RC_EINVAL);
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_int_equal(rc_gc_collect(rt, -1), RC_EINVAL);
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_int_equal(rc_gc_collect(NULL, 0), RC_EINVAL);
    assert_null(rc_gc_get_objects(rt, 3));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_gc_get_objects(rt, -2));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_gc_get_referrers(rt, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_gc_get_referents(rt, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_int_equal(rc_gc_callback_add(rt, NULL, NULL), RC_EINVAL);
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_int_equal(rc_gc_is_tracked(NULL), 0);
    assert_int_equal(rc_gc_is_finalized(NULL), 0);
    /* a successful call leaves the error as it was */
    assert_int_equal(rc_gc_collect(rt, 9), RC_EINVAL);
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    free_rt(rt);
}

/* ---- count ---------------------------------------------------------------- */

static void expect_count(rc_runtime *rt, size_t c0, size_t c1, size_t c2) {
    size_t c[3];
    rc_gc_get_count(rt, c);
    assert_int_equal(c[0], c0);
    assert_int_equal(c[1], c1);
    assert_int_equal(c[2], c2);
}

static void test_count_semantics(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    expect_count(rt, 0, 0, 0);
    rc_obj *a = rc_list(rt), *b = rc_dict(rt), *c = rc_set(rt);
    expect_count(rt, 3, 0, 0);
    /* untracked allocations do not count */
    rc_obj *i = rc_int(rt, 99999), *s = rc_str(rt, "not tracked"), *f = rc_float(rt, 0.5);
    gnode *p = mk(rt, &plain_type);
    expect_count(rt, 3, 0, 0);
    rc_decref(i);
    rc_decref(s);
    rc_decref(f);
    rc_decref(&p->ob);
    expect_count(rt, 3, 0, 0);
    /* deallocations of tracked objects count down */
    rc_decref(c);
    expect_count(rt, 2, 0, 0);
    gnode *n = mk(rt, &node_type);
    rc_obj *t = rc_tuple(rt, 1, a);
    expect_count(rt, 4, 0, 0);
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    expect_count(rt, 0, 1, 0);
    /* freeing objects of older generations still counts down, never below 0 */
    rc_decref(t);
    expect_count(rt, 0, 1, 0);
    rc_obj *x = rc_list(rt);
    expect_count(rt, 1, 1, 0);
    rc_decref(b);
    expect_count(rt, 0, 1, 0);
    rc_decref(x);
    expect_count(rt, 0, 1, 0);
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    expect_count(rt, 0, 2, 0);
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    expect_count(rt, 0, 3, 0);
    assert_int_equal(rc_gc_collect(rt, 1), 0);
    expect_count(rt, 0, 0, 1);
    rc_obj *y = rc_list(rt);
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    assert_int_equal(rc_gc_collect(rt, 1), 0);
    expect_count(rt, 0, 0, 2);
    rc_obj *z = rc_list(rt);
    expect_count(rt, 1, 0, 2);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    expect_count(rt, 0, 0, 0);
    /* a collection that frees objects: count[0] stays at 0 */
    int id = garbage_pair(rt, &node_type, &node_type);
    expect_count(rt, 2, 0, 0);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    assert_int_equal(g_destroyed[id], 1);
    expect_count(rt, 0, 1, 0);
    rc_decref(a);
    rc_decref(&n->ob);
    rc_decref(y);
    rc_decref(z);
    free_rt(rt);
}

/* ---- the automatic trigger --------------------------------------------- */

static void test_threshold_trigger_exact(void **state) {
    (void)state;
    rc_runtime *rt = new_rt_cfg(0);
    const size_t N = 7;
    rc_gc_set_threshold(rt, N, 1000, 1000);
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    expect_count(rt, 0, 1, 0);
    static cb_log log;
    memset(&log, 0, sizeof log);
    assert_int_equal(rc_gc_callback_add(rt, record_cb, &log), 0);
    rc_obj *keep[64];
    size_t nk = 0;
    for (size_t i = 0; i < N; i++)
        keep[nk++] = rc_list(rt);
    expect_count(rt, N, 1, 0);
    assert_int_equal(log.n, 0);
    /* untracked allocations never trigger */
    for (int i = 0; i < 50; i++) {
        rc_obj *v = rc_str_printf(rt, "s%d", i);
        rc_decref(v);
    }
    assert_int_equal(log.n, 0);
    /* the allocation that makes count[0] exceed N collects generation 0 */
    keep[nk++] = rc_list(rt);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.ev[0].phase, RC_GC_START);
    assert_int_equal(log.ev[0].generation, 0);
    assert_int_equal(log.ev[0].count[0], N + 1);
    assert_int_equal(log.ev[1].phase, RC_GC_STOP);
    assert_int_equal(log.ev[1].generation, 0);
    assert_int_equal(log.ev[1].collected, 0);
    expect_count(rt, 0, 2, 0);
    /* frees count down: N allocations, 3 frees, 3 allocations: still N */
    for (size_t i = 0; i < N; i++)
        keep[nk++] = rc_list(rt);
    for (int i = 0; i < 3; i++)
        rc_decref(keep[--nk]);
    for (int i = 0; i < 3; i++)
        keep[nk++] = rc_list(rt);
    expect_count(rt, N, 2, 0);
    assert_int_equal(log.n, 2);
    /* garbage present at the trigger is collected by it */
    int id = garbage_pair(rt, &node_type, &node_type);      /* count N+1 at the 1st node */
    assert_int_equal(log.n, 4);
    /* the trigger fired inside the first rc_new of the pair: the pair was
     * not garbage yet */
    assert_int_equal(log.ev[3].collected, 0);
    assert_int_equal(g_destroyed[id], 0);
    /* the first node survived that collection into generation 1: a
     * collection of generation 0 does not see the cycle, of 1 does */
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    assert_int_equal(g_destroyed[id], 0);
    assert_int_equal(rc_gc_collect(rt, 1), 2);
    assert_int_equal(g_destroyed[id], 1);
    assert_int_equal(log.n, 8);
    assert_int_equal(log.ev[5].collected, 0);
    assert_int_equal(log.ev[7].collected, 2);
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &log), 0);
    while (nk > 0)
        rc_decref(keep[--nk]);
    free_rt(rt);
}

/* The first automatic collection happens inside the allocation that makes
 * count[0] exceed the threshold, for a range of thresholds. */
static void test_threshold_sweep(void **state) {
    (void)state;
    for (size_t n = 1; n <= 40; n += 3) {
        rc_runtime *rt = new_rt_cfg(0);
        rc_gc_set_threshold(rt, n, 1000, 1000);
        static cb_log log;
        memset(&log, 0, sizeof log);
        assert_int_equal(rc_gc_callback_add(rt, record_cb, &log), 0);
        rc_obj *keep[64];
        for (size_t i = 0; i < n; i++) {
            keep[i] = rc_list(rt);
            assert_int_equal(log.n, 0);
        }
        keep[n] = rc_list(rt);
        assert_int_equal(log.n, 2);
        assert_int_equal(log.ev[0].count[0], n + 1);
        for (size_t i = 0; i <= n; i++)
            rc_decref(keep[i]);
        assert_int_equal(rc_gc_callback_remove(rt, record_cb, &log), 0);
        free_rt(rt);
    }
}

/* threshold[0] = 0 disables the automatic collector (as in CPython). */
static void test_threshold_zero(void **state) {
    (void)state;
    rc_runtime *rt = new_rt_cfg(0);
    rc_gc_set_threshold(rt, 0, 10, 10);
    static cb_log log;
    memset(&log, 0, sizeof log);
    assert_int_equal(rc_gc_callback_add(rt, record_cb, &log), 0);
    for (int i = 0; i < 2000; i++)
        garbage_pair(rt, &node_type, &node_type);
    assert_int_equal(log.n, 0);
    assert_int_equal(rc_gc_collect(rt, 2), 4000);
    assert_int_equal(log.n, 2);
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &log), 0);
    free_rt(rt);
}

/* rc_gc_disable stops the automatic collector; rc_gc_collect still works;
 * rc_gc_enable resumes it at the next tracked allocation. */
static void test_disable_enable(void **state) {
    (void)state;
    rc_runtime *rt = new_rt_cfg(0);
    assert_int_equal(rc_gc_isenabled(rt), 1);
    rc_gc_set_threshold(rt, 10, 1000, 1000);
    static cb_log log;
    memset(&log, 0, sizeof log);
    assert_int_equal(rc_gc_callback_add(rt, record_cb, &log), 0);
    rc_gc_disable(rt);
    assert_int_equal(rc_gc_isenabled(rt), 0);
    int first = g_next_id;
    for (int i = 0; i < 100; i++)
        garbage_pair(rt, &node_type, &node_type);
    assert_int_equal(log.n, 0);
    size_t c[3];
    rc_gc_get_count(rt, c);
    assert_true(c[0] >= 200);
    assert_int_equal(rc_gc_collect(rt, 0), 200);
    assert_int_equal(log.n, 2);
    for (int i = first; i < first + 200; i++)
        assert_int_equal(g_destroyed[i], 1);
    for (int i = 0; i < 20; i++)
        garbage_pair(rt, &node_type, &node_type);
    assert_int_equal(log.n, 2);
    rc_gc_enable(rt);
    assert_int_equal(log.n, 2);
    rc_obj *l = rc_list(rt);                         /* count 41 > 10 */
    assert_int_equal(log.n, 4);
    assert_int_equal(log.ev[3].collected, 40);
    rc_decref(l);
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &log), 0);
    free_rt(rt);
}

/* The automatic collector covers the oldest generation whose count exceeds
 * its threshold; stats[g].collections counts collections whose oldest
 * generation is g (matching the callbacks). */
static void test_generation_escalation(void **state) {
    (void)state;
    rc_runtime *rt = new_rt_cfg(0);
    rc_gc_set_threshold(rt, 2, 3, 1);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    rc_gc_stats st0[3];
    rc_gc_get_stats(rt, st0);
    static cb_log log;
    memset(&log, 0, sizeof log);
    assert_int_equal(rc_gc_callback_add(rt, record_cb, &log), 0);
    /* 3 tracked allocations per automatic collection (count 3 > 2) */
    rc_obj *keep[128];
    int nk = 0;
    char gens[64];
    int ng = 0;
    for (int k = 0; k < 16; k++) {
        int before = log.n;
        for (int j = 0; j < 3; j++)
            keep[nk++] = rc_list(rt);
        assert_int_equal(log.n, before + 2);            /* exactly one collection */
        assert_int_equal(log.ev[before].count[0], 3);
        gens[ng++] = (char)('0' + log.ev[before].generation);
    }
    gens[ng] = '\0';
    /* count[1] > 3 after four gen-0 collections: the 5th is generation 1;
     * count[2] > 1 after two gen-1 collections: the 11th is generation 2 (the
     * first full collection has no long-lived history to wait for), which
     * resets every count. */
    assert_string_equal(gens, "0000100001200001");
    expect_count(rt, 0, 0, 1);
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    size_t per[3] = { 0, 0, 0 };
    for (int i = 0; i < log.n; i += 2)
        per[log.ev[i].generation]++;
    for (int g = 0; g < 3; g++)
        assert_int_equal(st[g].collections - st0[g].collections, per[g]);
    assert_int_equal(per[0], 12);
    assert_int_equal(per[1], 3);
    assert_int_equal(per[2], 1);
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &log), 0);
    while (nk > 0)
        rc_decref(keep[--nk]);
    free_rt(rt);
}

/* CPython's rule against quadratic full collections: with many long-lived
 * objects, a full collection waits (even when count[2] exceeds its
 * threshold) until the objects that entered the oldest generation since
 * the last full collection are at least 25% of those that survived it. */
static void test_long_lived_rule(void **state) {
    (void)state;
    rc_runtime *rt = new_rt_cfg(0);
    rc_gc_disable(rt);
    enum { OLD = 400 };
    static rc_obj *old[OLD];
    for (int i = 0; i < OLD; i++)
        old[i] = rc_list(rt);
    assert_int_equal(rc_gc_collect(rt, 2), 0);              /* ~400 long-lived */
    rc_gc_set_threshold(rt, 2, 1, 1);
    rc_gc_enable(rt);
    static cb_log log;
    memset(&log, 0, sizeof log);
    assert_int_equal(rc_gc_callback_add(rt, record_cb, &log), 0);
    static rc_obj *keep[2000];
    int nk = 0, deferred = 0, full_at = -1;
    while (nk < 1500 && full_at < 0) {
        int before = log.n;
        keep[nk++] = rc_list(rt);
        if (log.n > before) {
            assert_int_equal(log.n, before + 2);
            if (log.ev[before].generation == 2)
                full_at = nk;
            else if (log.ev[before].count[2] > 1)
                deferred++;                 /* count[2] above its threshold, yet no full one */
        }
    }
    assert_true(full_at > 0);               /* it does come */
    assert_true(deferred > 0);
    /* not before a quarter of the long-lived objects was reached by new ones */
    assert_true((size_t)full_at >= OLD / 4);
    assert_true(full_at < OLD);              /* and not much later (young objects are
                                                moved in batches) */
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &log), 0);
    while (nk > 0)
        rc_decref(keep[--nk]);
    for (int i = 0; i < OLD; i++)
        rc_decref(old[i]);
    free_rt(rt);
}

/* ---- stats and return values -------------------------------------------- */

static void test_stats_exact(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *garbage = rc_gc_garbage(rt);
    (void)garbage;
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    rc_gc_stats s0[3];
    rc_gc_get_stats(rt, s0);
    /* gen 0: 3 collectable + 2 uncollectable */
    garbage_pair(rt, &node_type, &fin_type);
    gnode *self = mk(rt, &node_type);
    link_(self, 0, self);
    rc_decref(&self->ob);
    garbage_pair(rt, &noclear_type, &noclear_type);
    assert_int_equal(rc_gc_collect(rt, 0), 5);
    /* gen 1: 4 collectable */
    garbage_pair(rt, &node_type, &node_type);
    garbage_pair(rt, &fin_type, &fin_type);
    assert_int_equal(rc_gc_collect(rt, 1), 4);
    /* gen 2: nothing, then 1 uncollectable self-loop */
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    gnode *u = mk(rt, &noclear_type);
    link_(u, 0, u);
    rc_decref(&u->ob);
    assert_int_equal(rc_gc_collect(rt, 2), 1);
    rc_gc_stats s[3];
    rc_gc_get_stats(rt, s);
    assert_int_equal(s[0].collections - s0[0].collections, 1);
    assert_int_equal(s[0].collected - s0[0].collected, 3);
    assert_int_equal(s[0].uncollectable - s0[0].uncollectable, 2);
    assert_int_equal(s[1].collections - s0[1].collections, 1);
    assert_int_equal(s[1].collected - s0[1].collected, 4);
    assert_int_equal(s[1].uncollectable - s0[1].uncollectable, 0);
    assert_int_equal(s[2].collections - s0[2].collections, 2);
    assert_int_equal(s[2].collected - s0[2].collected, 0);
    assert_int_equal(s[2].uncollectable - s0[2].uncollectable, 1);
    assert_int_equal(rc_list_len(rc_gc_garbage(rt)), 3);
    free_rt(rt);
}

/* ---- get_objects, is_tracked, track / untrack ---------------------------- */

static void test_get_objects(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    rc_obj *all = rc_gc_get_objects(rt, -1);
    assert_non_null(all);
    size_t n0 = rc_list_len(all);
    assert_int_equal(list_has(rt, all, all), 0);           /* never the result itself */
    assert_int_equal(rc_refcount(all), 1);
    rc_decref(all);

    gnode *a = mk(rt, &node_type);
    rc_obj *i = rc_int(rt, 77777);                           /* not tracked */
    assert_int_equal(rc_gc_collect(rt, 0), 0);               /* a -> gen 1 */
    gnode *b = mk(rt, &node_type);                           /* gen 0 */
    rc_obj *l0 = rc_gc_get_objects(rt, 0), *l1 = rc_gc_get_objects(rt, 1),
           *l2 = rc_gc_get_objects(rt, 2), *la = rc_gc_get_objects(rt, -1);
    assert_int_equal(list_has(rt, l0, &b->ob), 1);
    assert_int_equal(list_has(rt, l0, &a->ob), 0);
    assert_int_equal(list_has(rt, l1, &a->ob), 1);
    assert_int_equal(list_has(rt, l1, &b->ob), 0);
    assert_int_equal(list_has(rt, l2, &a->ob), 0);
    assert_int_equal(list_has(rt, la, &a->ob), 1);
    assert_int_equal(list_has(rt, la, &b->ob), 1);
    assert_int_equal(list_has(rt, la, i), 0);
    /* la holds everything but itself: a, b and the three earlier results */
    assert_int_equal(rc_list_len(la), n0 + 2 + 3);
    assert_int_equal(list_has(rt, la, l0), 1);
    assert_int_equal(rc_list_len(l0) + rc_list_len(l1) + rc_list_len(l2) + 3, rc_list_len(la));
    rc_decref(l0);
    rc_decref(l1);
    rc_decref(l2);
    rc_decref(la);
    assert_int_equal(rc_gc_collect(rt, 1), 0);               /* both -> gen 2 */
    l2 = rc_gc_get_objects(rt, 2);
    assert_int_equal(list_has(rt, l2, &a->ob), 1);
    assert_int_equal(list_has(rt, l2, &b->ob), 1);
    rc_decref(l2);
    l0 = rc_gc_get_objects(rt, 0);
    assert_int_equal(rc_list_len(l0), 0);
    rc_decref(l0);
    rc_decref(i);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    free_rt(rt);
}

static void test_is_tracked_track_untrack(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt), *d = rc_dict(rt), *s = rc_set(rt), *i = rc_int(rt, 123456),
           *str = rc_str(rt, "x"), *b = rc_bytes(rt, "ab", 2), *f = rc_float(rt, 1.25);
    rc_obj *t = rc_tuple(rt, 1, i);
    gnode *n = mk(rt, &node_type), *p = mk(rt, &plain_type);
    assert_int_equal(rc_gc_is_tracked(l), 1);
    assert_int_equal(rc_gc_is_tracked(d), 1);
    assert_int_equal(rc_gc_is_tracked(s), 1);
    assert_int_equal(rc_gc_is_tracked(t), 1);
    assert_int_equal(rc_gc_is_tracked(&n->ob), 1);
    assert_int_equal(rc_gc_is_tracked(i), 0);
    assert_int_equal(rc_gc_is_tracked(str), 0);
    assert_int_equal(rc_gc_is_tracked(b), 0);
    assert_int_equal(rc_gc_is_tracked(f), 0);
    assert_int_equal(rc_gc_is_tracked(&p->ob), 0);
    assert_int_equal(rc_gc_is_tracked(rc_tuple(rt, 0)), 0);   /* the static empty tuple */
    /* untracked objects are invisible to the collector */
    gnode *x = mk(rt, &node_type), *y = mk(rt, &node_type);
    int idx = x->id;
    link_(x, 0, y);
    link_(y, 0, x);
    rc_gc_untrack(&x->ob);
    rc_gc_untrack(&y->ob);
    assert_int_equal(rc_gc_is_tracked(&x->ob), 0);
    rc_obj *all = rc_gc_get_objects(rt, -1);
    assert_int_equal(list_has(rt, all, &x->ob), 0);
    rc_decref(all);
    rc_decref(&x->ob);
    rc_decref(&y->ob);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_int_equal(g_destroyed[idx], 0);
    rc_gc_track(&x->ob);
    rc_gc_track(&y->ob);
    rc_gc_track(&y->ob);                 /* twice: no effect */
    assert_int_equal(rc_gc_is_tracked(&y->ob), 1);
    all = rc_gc_get_objects(rt, 0);
    assert_int_equal(list_has(rt, all, &y->ob), 1);
    rc_decref(all);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    assert_int_equal(g_destroyed[idx], 1);
    /* track of a non-GC object does nothing */
    rc_gc_track(str);
    assert_int_equal(rc_gc_is_tracked(str), 0);
    rc_obj *objs[] = { l, d, s, i, str, b, f, t, &n->ob, &p->ob };
    for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
        rc_decref(objs[k]);
    free_rt(rt);
}

/* ---- referrers and referents -------------------------------------------- */

static void test_referrers_referents(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    gnode *o = mk(rt, &node_type);
    rc_obj *l = rc_list(rt), *d = rc_dict(rt), *s = rc_set(rt);
    gnode *n = mk(rt, &node_type);
    rc_obj *t = rc_tuple(rt, 2, &o->ob, &o->ob);
    assert_int_equal(rc_list_append(rt, l, &o->ob), 0);
    assert_int_equal(rc_list_append(rt, l, &o->ob), 0);
    assert_int_equal(rc_dict_set_str(rt, d, "k", &o->ob), 0);
    link_(n, 2, o);
    rc_obj *other = rc_list(rt);                   /* refers to something else */
    assert_int_equal(rc_list_append(rt, other, l), 0);

    rc_obj *r = rc_gc_get_referrers(rt, &o->ob);
    assert_non_null(r);
    assert_int_equal(rc_list_len(r), 4);            /* each referrer once */
    assert_int_equal(list_has(rt, r, l), 1);
    assert_int_equal(list_has(rt, r, d), 1);
    assert_int_equal(list_has(rt, r, t), 1);
    assert_int_equal(list_has(rt, r, &n->ob), 1);
    assert_int_equal(list_has(rt, r, s), 0);
    rc_decref(r);
    r = rc_gc_get_referrers(rt, s);
    assert_int_equal(rc_list_len(r), 0);
    rc_decref(r);
    /* a frozen referrer is ignored */
    rc_gc_freeze(rt);
    r = rc_gc_get_referrers(rt, &o->ob);
    assert_int_equal(rc_list_len(r), 0);
    rc_decref(r);
    rc_obj *late = rc_list(rt);
    assert_int_equal(rc_list_append(rt, late, &o->ob), 0);
    r = rc_gc_get_referrers(rt, &o->ob);
    assert_int_equal(rc_list_len(r), 1);
    assert_int_equal(list_has(rt, r, late), 1);
    rc_decref(r);
    rc_gc_unfreeze(rt);
    r = rc_gc_get_referrers(rt, &o->ob);
    assert_int_equal(rc_list_len(r), 5);
    rc_decref(r);

    /* referents: what traverse reports, tracked or not */
    rc_obj *v = rc_int(rt, 424242), *str = rc_str(rt, "val");
    rc_obj *l2 = rc_list(rt);
    assert_int_equal(rc_list_append(rt, l2, v), 0);
    assert_int_equal(rc_list_append(rt, l2, &o->ob), 0);
    assert_int_equal(rc_list_append(rt, l2, str), 0);
    rc_obj *e = rc_gc_get_referents(rt, l2);
    assert_non_null(e);
    assert_int_equal(rc_list_len(e), 3);
    assert_ptr_equal(rc_list_get(rt, e, 0), v);
    assert_ptr_equal(rc_list_get(rt, e, 1), &o->ob);
    assert_ptr_equal(rc_list_get(rt, e, 2), str);
    rc_decref(e);
    e = rc_gc_get_referents(rt, &n->ob);
    assert_int_equal(rc_list_len(e), 1);
    assert_ptr_equal(rc_list_get(rt, e, 0), &o->ob);
    rc_decref(e);
    e = rc_gc_get_referents(rt, v);                 /* an int has none */
    assert_int_equal(rc_list_len(e), 0);
    rc_decref(e);
    e = rc_gc_get_referents(rt, d);                 /* key and value */
    assert_int_equal(rc_list_len(e), 2);
    assert_int_equal(list_has(rt, e, &o->ob), 1);
    rc_decref(e);
    /* nothing changed by looking */
    assert_int_equal(rc_refcount(&o->ob), 1 + 2 + 1 + 2 + 1 + 1 + 1);
    rc_obj *objs[] = { l, d, s, &n->ob, t, other, late, v, str, l2, &o->ob };
    for (size_t k = 0; k < sizeof objs / sizeof objs[0]; k++)
        rc_decref(objs[k]);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    free_rt(rt);
}

/* ---- freeze --------------------------------------------------------------- */

static void test_freeze(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *all = rc_gc_get_objects(rt, -1);
    size_t tracked0 = rc_list_len(all);
    rc_decref(all);
    gnode *live = mk(rt, &node_type);
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_gc_collect(rt, 0), 0);              /* some in gen 1 */
    int id = garbage_pair(rt, &node_type, &fin_type);        /* frozen garbage */
    gnode *young = mk(rt, &node_type);
    rc_gc_freeze(rt);
    assert_int_equal(rc_gc_get_freeze_count(rt), tracked0 + 5);
    expect_count(rt, 0, 0, 0);
    all = rc_gc_get_objects(rt, -1);
    assert_int_equal(rc_list_len(all), 0);
    rc_decref(all);
    /* frozen objects are tracked, but no collection looks at them */
    assert_int_equal(rc_gc_is_tracked(&live->ob), 1);
    for (int g = 0; g < 3; g++)
        assert_int_equal(rc_gc_collect(rt, g), 0);
    assert_int_equal(g_destroyed[id], 0);
    assert_int_equal(g_finalized[id + 1], 0);
    assert_int_equal(rc_runtime_object_count(rt), base + 5);
    /* a new object referred to only by a frozen one survives */
    gnode *fresh = mk(rt, &node_type);
    link_(live, 0, fresh);
    rc_decref(&fresh->ob);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_int_equal(g_destroyed[fresh->id], 0);
    assert_int_equal(rc_gc_get_freeze_count(rt), tracked0 + 5);
    /* new garbage is collected normally */
    int id2 = garbage_pair(rt, &node_type, &node_type);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    assert_int_equal(g_destroyed[id2], 1);
    /* a frozen object dying by refcount leaves the permanent generation */
    rc_decref(l);
    assert_int_equal(rc_gc_get_freeze_count(rt), tracked0 + 4);
    /* unfreeze: everything to the oldest generation */
    rc_gc_unfreeze(rt);
    assert_int_equal(rc_gc_get_freeze_count(rt), 0);
    all = rc_gc_get_objects(rt, 2);
    assert_int_equal(list_has(rt, all, &live->ob), 1);
    assert_int_equal(list_has(rt, all, &young->ob), 1);
    rc_decref(all);
    assert_int_equal(rc_gc_collect(rt, 1), 0);              /* gen 2 not included */
    assert_int_equal(g_destroyed[id], 0);
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    assert_int_equal(g_destroyed[id], 1);
    assert_int_equal(g_destroyed[id + 1], 1);
    assert_int_equal(g_finalized[id + 1], 1);
    /* freezing twice, unfreezing when nothing is frozen */
    rc_gc_freeze(rt);
    rc_gc_freeze(rt);
    size_t fc = rc_gc_get_freeze_count(rt);
    assert_true(fc >= 3);
    rc_gc_unfreeze(rt);
    rc_gc_unfreeze(rt);
    assert_int_equal(rc_gc_get_freeze_count(rt), 0);
    rc_decref(&live->ob);
    rc_decref(&young->ob);
    assert_int_equal(rc_runtime_object_count(rt), base);
    free_rt(rt);
}

/* ---- callbacks -------------------------------------------------------------- */

static void test_callbacks(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    static cb_log a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.tag = 'a';
    b.tag = 'b';
    b.try_nested = 1;
    assert_int_equal(rc_gc_callback_add(rt, record_cb, &a), 0);
    assert_int_equal(rc_gc_callback_add(rt, record_cb, &b), 0);
    rc_obj *garbage = rc_gc_garbage(rt);
    (void)garbage;
    rc_gc_stats s0[3];
    rc_gc_get_stats(rt, s0);
    garbage_pair(rt, &node_type, &node_type);
    garbage_pair(rt, &noclear_type, &noclear_type);
    size_t c0[3];
    rc_gc_get_count(rt, c0);
    assert_int_equal(rc_gc_collect(rt, 1), 4);
    /* a START, b START, a STOP, b STOP */
    assert_int_equal(a.n, 2);
    assert_int_equal(b.n, 2);
    assert_int_equal(a.ev[0].phase, RC_GC_START);
    assert_int_equal(a.ev[0].generation, 1);
    assert_int_equal(a.ev[0].collected, 0);
    assert_int_equal(a.ev[0].uncollectable, 0);
    assert_int_equal(a.ev[1].phase, RC_GC_STOP);
    assert_int_equal(a.ev[1].generation, 1);
    assert_int_equal(a.ev[1].collected, 2);
    assert_int_equal(a.ev[1].uncollectable, 2);
    assert_int_equal(b.ev[1].collected, 2);
    assert_int_equal(b.ev[1].uncollectable, 2);
    /* stats are up to date at STOP, not yet at START */
    assert_int_equal(a.ev[0].stats[1].collections, s0[1].collections);
    assert_int_equal(a.ev[1].stats[1].collections, s0[1].collections + 1);
    assert_int_equal(a.ev[1].stats[1].collected, s0[1].collected + 2);
    assert_int_equal(a.ev[1].stats[1].uncollectable, s0[1].uncollectable + 2);
    /* count at START is before the reset */
    assert_int_equal(a.ev[0].count[0], c0[0]);
    assert_int_equal(a.ev[0].count[1], c0[1]);
    /* a collection requested inside a callback does nothing and returns 0 */
    assert_int_equal(b.ev[0].nested, 0);
    assert_int_equal(b.ev[1].nested, 0);
    /* removal */
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &a), 0);
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    assert_int_equal(a.n, 2);
    assert_int_equal(b.n, 4);
    assert_int_equal(b.ev[2].generation, 0);
    /* unknown callbacks: RC_EKEY */
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &a), RC_EKEY);
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, NULL), RC_EKEY);
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);
    /* the same callback twice is called twice and removed one at a time */
    assert_int_equal(rc_gc_callback_add(rt, record_cb, &b), 0);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_int_equal(b.n, 8);
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &b), 0);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_int_equal(b.n, 10);
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &b), 0);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_int_equal(b.n, 10);
    assert_int_equal(rc_gc_callback_remove(rt, record_cb, &b), RC_EKEY);
    rc_error_clear(rt);
    /* many callbacks (growth of the table) */
    static cb_log many[40];
    memset(many, 0, sizeof many);
    for (int i = 0; i < 40; i++)
        assert_int_equal(rc_gc_callback_add(rt, record_cb, &many[i]), 0);
    assert_int_equal(rc_gc_collect(rt, 0), 0);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(many[i].n, 2);
        assert_int_equal(rc_gc_callback_remove(rt, record_cb, &many[i]), 0);
    }
    free_rt(rt);
}

/* A callback that creates garbage at START: it is collected by this very
 * collection (it is in generation 0 before the collection looks). */
static int g_made_garbage;
static void make_garbage_cb(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)info;
    (void)arg;
    if (phase == RC_GC_START && !g_made_garbage) {
        g_made_garbage = 1;
        garbage_pair(rt, &node_type, &node_type);
    }
}

static void test_callback_creates_garbage(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    g_made_garbage = 0;
    assert_int_equal(rc_gc_callback_add(rt, make_garbage_cb, NULL), 0);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(g_destroyed[1], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);
    assert_int_equal(rc_gc_callback_remove(rt, make_garbage_cb, NULL), 0);
    free_rt(rt);
}

/* ---- uncollectable cycles and the garbage list --------------------------- */

static void test_uncollectable(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    gnode *a = mk(rt, &noclear_type), *b = mk(rt, &noclear_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_gc_stats s0[3];
    rc_gc_get_stats(rt, s0);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    rc_gc_stats s[3];
    rc_gc_get_stats(rt, s);
    assert_int_equal(s[0].collected, s0[0].collected);
    assert_int_equal(s[0].uncollectable, s0[0].uncollectable + 2);
    rc_obj *g = rc_gc_garbage(rt);
    assert_non_null(g);
    assert_int_equal(rc_list_len(g), 2);
    assert_int_equal(list_has(rt, g, &a->ob), 1);
    assert_int_equal(list_has(rt, g, &b->ob), 1);
    /* alive and intact */
    assert_int_equal(g_destroyed[0] + g_destroyed[1], 0);
    assert_ptr_equal(a->slot[0], &b->ob);
    assert_ptr_equal(b->slot[0], &a->ob);
    assert_int_equal(a->magic, MAGIC(0));
    assert_int_equal(rc_refcount(&a->ob), 2);       /* b and the garbage list */
    /* the garbage list keeps them: the next collection finds nothing */
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_int_equal(rc_list_len(g), 2);
    /* a mixed cycle (one member has clear) is collected */
    gnode *m1 = mk(rt, &noclear_type), *m2 = mk(rt, &node_type), *m3 = mk(rt, &noclear_type);
    link_(m1, 0, m2);
    link_(m2, 0, m3);
    link_(m3, 0, m1);
    rc_decref(&m1->ob);
    rc_decref(&m2->ob);
    rc_decref(&m3->ob);
    rc_gc_get_stats(rt, s0);
    assert_int_equal(rc_gc_collect(rt, 0), 3);
    rc_gc_get_stats(rt, s);
    assert_int_equal(s[0].collected, s0[0].collected + 3);
    assert_int_equal(s[0].uncollectable, s0[0].uncollectable);
    for (int i = 2; i < 5; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(rc_list_len(g), 2);
    /* emptying the garbage list makes them garbage again: uncollectable
     * again, back in the list */
    rc_list_clear(g);
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    assert_int_equal(rc_list_len(g), 2);
    assert_int_equal(rc_runtime_object_count(rt), base + 2);   /* a and b */
    free_rt(rt);
    /* rc_runtime_free released them (and valgrind / ASan see no leak) */
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(g_destroyed[1], 1);
}

/* An uncollectable cycle holding a clearable object: both stay alive. */
static void test_uncollectable_holds_clearable(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    gnode *u = mk(rt, &noclear_type), *c = mk(rt, &node_type);
    link_(u, 0, u);
    link_(u, 1, c);
    rc_decref(&u->ob);
    rc_decref(&c->ob);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    rc_gc_stats s[3];
    rc_gc_get_stats(rt, s);
    assert_int_equal(s[0].uncollectable, 2);
    assert_int_equal(g_destroyed[0] + g_destroyed[1], 0);
    assert_ptr_equal(u->slot[1], &c->ob);
    assert_int_equal(list_has(rt, rc_gc_garbage(rt), &u->ob), 1);
    free_rt(rt);
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(g_destroyed[1], 1);
}

/* ---- debug flags ------------------------------------------------------------ */

static void test_debug_flags(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *g = rc_gc_garbage(rt);
    report_text();
    /* no flags: silent */
    garbage_pair(rt, &node_type, &node_type);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    const char *text = report_text();
    assert_string_equal(text, "");

    /* STATS: one line per collection with its figures */
    rc_gc_set_debug(rt, RC_GC_DEBUG_STATS);
    garbage_pair(rt, &node_type, &node_type);
    gnode *self = mk(rt, &node_type);
    link_(self, 0, self);
    rc_decref(&self->ob);
    assert_int_equal(rc_gc_collect(rt, 2), 3);
    text = report_text();
    assert_int_equal(count_substr(text, "gc: "), 1);
    assert_non_null(strstr(text, "generation 2"));
    assert_non_null(strstr(text, "3 unreachable"));
    assert_non_null(strstr(text, "3 collected"));
    assert_non_null(strstr(text, "0 uncollectable"));
    assert_null(strstr(text, "gc: collectable"));
    assert_int_equal(rc_gc_collect(rt, 1), 0);
    text = report_text();
    assert_int_equal(count_substr(text, "gc: "), 1);
    assert_non_null(strstr(text, "generation 1"));
    assert_non_null(strstr(text, "0 unreachable"));

    /* COLLECTABLE and UNCOLLECTABLE: one line per object */
    rc_gc_set_debug(rt, RC_GC_DEBUG_COLLECTABLE | RC_GC_DEBUG_UNCOLLECTABLE);
    int id = garbage_pair(rt, &node_type, &node_type);
    int uid = garbage_pair(rt, &noclear_type, &noclear_type);
    assert_int_equal(rc_gc_collect(rt, 0), 4);
    text = report_text();
    /* every unreachable object is listed as collectable (as CPython does),
     * the uncollectable ones once more */
    assert_int_equal(count_substr(text, "gc: collectable"), 4);
    assert_int_equal(count_substr(text, "gc: uncollectable"), 2);
    assert_null(strstr(text, "generation"));        /* STATS is off */
    char want[64];
    for (int i = id; i < id + 4; i++) {
        snprintf(want, sizeof want, "<gnode #%d>", i);
        assert_int_equal(count_substr(text, want), i < uid ? 1 : 2);
    }
    assert_non_null(strstr(text, "gc_node"));
    const char *p = strstr(text, "gc: uncollectable");
    assert_non_null(p);
    assert_non_null(strstr(p, "gc_noclear"));
    /* only UNCOLLECTABLE */
    rc_gc_set_debug(rt, RC_GC_DEBUG_UNCOLLECTABLE);
    rc_list_clear(g);
    garbage_pair(rt, &node_type, &node_type);
    assert_int_equal(rc_gc_collect(rt, 2), 4);
    text = report_text();
    assert_int_equal(count_substr(text, "gc: collectable"), 0);
    assert_int_equal(count_substr(text, "gc: uncollectable"), 2);
    rc_gc_set_debug(rt, 0);
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    assert_string_equal(report_text(), "");
    free_rt(rt);
}

static void test_saveall(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *g = rc_gc_garbage(rt);
    rc_gc_set_debug(rt, RC_GC_DEBUG_SAVEALL);
    int id = garbage_pair(rt, &node_type, &fin_type);
    gnode *self = mk(rt, &node_type);
    link_(self, 0, self);
    rc_decref(&self->ob);
    rc_gc_stats s0[3], s[3];
    rc_gc_get_stats(rt, s0);
    assert_int_equal(rc_gc_collect(rt, 0), 3);
    rc_gc_get_stats(rt, s);
    assert_int_equal(s[0].collected - s0[0].collected, 3);
    assert_int_equal(s[0].uncollectable - s0[0].uncollectable, 0);
    assert_int_equal(rc_list_len(g), 3);
    assert_int_equal(list_has(rt, g, &self->ob), 1);
    /* kept whole: finalized (finalizers run) but not cleared, not destroyed */
    for (int i = id; i < id + 3; i++) {
        assert_int_equal(g_destroyed[i], 0);
        assert_int_equal(g_cleared[i], 0);
    }
    assert_int_equal(g_finalized[id + 1], 1);
    assert_ptr_equal(self->slot[0], &self->ob);
    /* the saved objects are reachable now */
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    /* LEAK includes SAVEALL */
    rc_gc_set_debug(rt, RC_GC_DEBUG_LEAK);
    assert_true(rc_gc_get_debug(rt) & RC_GC_DEBUG_SAVEALL);
    garbage_pair(rt, &node_type, &node_type);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    assert_int_equal(rc_list_len(g), 5);
    /* without SAVEALL and with the list emptied, they are freed; the
     * finalizer does not run again */
    rc_gc_set_debug(rt, 0);
    rc_list_clear(g);
    assert_int_equal(rc_gc_collect(rt, 2), 5);
    for (int i = id; i < id + 5; i++)
        assert_int_equal(g_destroyed[i], 1);
    assert_int_equal(g_finalized[id + 1], 1);
    assert_int_equal(rc_runtime_object_count(rt), base);   /* the garbage list is not counted */
    free_rt(rt);
}

/* rc_runtime_free releases what SAVEALL kept. */
static void test_saveall_released_by_runtime_free(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_gc_set_debug(rt, RC_GC_DEBUG_SAVEALL);
    int id = garbage_pair(rt, &fin_type, &fin_type);
    assert_int_equal(rc_gc_collect(rt, 0), 2);
    assert_int_equal(rc_list_len(rc_gc_garbage(rt)), 2);
    free_rt(rt);
    assert_int_equal(g_destroyed[id], 1);
    assert_int_equal(g_destroyed[id + 1], 1);
    assert_int_equal(g_finalized[id], 1);
    assert_int_equal(g_finalized[id + 1], 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_trigger_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disable_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generation_escalation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lived_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_is_tracked_track_untrack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_referrers_referents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_freeze, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callbacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_creates_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uncollectable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uncollectable_holds_clearable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_debug_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saveall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saveall_released_by_runtime_free, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
