/* rc-test: stress */
/* test_gc_incremental.c - the bounded-pause mode: incremental full
 * collections interleaved with a program that keeps changing the graph.
 *
 * The safety property is checked against a shadow model kept outside the
 * heap: an object the program can still reach is never destroyed, whatever
 * the program did between steps (new edges, dropped edges, new objects, new
 * garbage). The liveness property: garbage that existed when a collection
 * started and was not touched is freed by it, and everything unreachable is
 * freed by the next collection. */
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

#define MAXN 4000
#define EDGES 3

typedef struct gnode { rc_obj ob; rc_obj *e[EDGES]; int id; } gnode;

static int g_destroyed[MAXN * 8];
static int g_next_id;

static int gn_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    gnode *n = (gnode *)self;
    for (int i = 0; i < EDGES; i++)
        if (n->e[i] && visit(n->e[i], arg))
            return 1;
    return 0;
}
static void gn_clear(rc_obj *self) {
    gnode *n = (gnode *)self;
    for (int i = 0; i < EDGES; i++) {
        rc_obj *x = n->e[i];
        n->e[i] = NULL;
        rc_xdecref(x);
    }
}
static void gn_destroy(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_destroyed[n->id]++;
    gn_clear(self);
}
static const rc_type gnode_type = { .name = "gnode", .size = sizeof(gnode), .flags = RC_TYPE_GC,
                                    .traverse = gn_traverse, .clear = gn_clear, .destroy = gn_destroy };

/* shadow model: node pointers by id (NULL once the model says it is freed
 * or unreachable and we stopped tracking it), edges, roots */
static gnode *g_node[MAXN * 8];
static int g_edge[MAXN * 8][EDGES];
static int g_root[MAXN * 8];
static int g_count;

static gnode *mk(rc_runtime *rt) {
    gnode *n = (gnode *)rc_new(rt, &gnode_type);
    assert_non_null(n);
    n->id = g_next_id++;
    g_node[n->id] = n;
    for (int i = 0; i < EDGES; i++)
        g_edge[n->id][i] = -1;
    g_root[n->id] = 1;           /* the test holds the reference rc_new gave */
    g_count = g_next_id;
    return n;
}

static void set_edge(int from, int slot, int to) {
    gnode *f = g_node[from];
    rc_obj *old = f->e[slot];
    if (to >= 0) {
        rc_incref(&g_node[to]->ob);
        f->e[slot] = &g_node[to]->ob;
    } else {
        f->e[slot] = NULL;
    }
    g_edge[from][slot] = to;
    rc_xdecref(old);
}

static void unroot(int id) {
    g_root[id] = 0;
    rc_decref(&g_node[id]->ob);
}

/* Nodes reachable from the roots in the model. */
static void reachable(char *mark) {
    static int stack[MAXN * 8];
    int sp = 0;
    memset(mark, 0, (size_t)g_count);
    for (int i = 0; i < g_count; i++)
        if (g_root[i] && !mark[i]) {
            mark[i] = 1;
            stack[sp++] = i;
        }
    while (sp > 0) {
        int x = stack[--sp];
        for (int k = 0; k < EDGES; k++) {
            int y = g_edge[x][k];
            if (y >= 0 && !mark[y]) {
                mark[y] = 1;
                stack[sp++] = y;
            }
        }
    }
}

/* A random change of the graph, only through nodes the program can reach. */
static void mutate(rc_runtime *rt, rct_rng *r, const char *mark) {
    int pick[64], np = 0;
    for (int tries = 0; tries < 200 && np < 64; tries++) {
        int id = (int)rct_rng_range(r, 0, (size_t)g_count - 1);
        if (mark[id])
            pick[np++] = id;
    }
    if (np == 0)
        return;
    int a = pick[rct_rng_range(r, 0, (size_t)np - 1)];
    int b = pick[rct_rng_range(r, 0, (size_t)np - 1)];
    switch (rct_rng_range(r, 0, 5)) {
    case 0:
    case 1:
        set_edge(a, (int)rct_rng_range(r, 0, EDGES - 1), b);       /* new edge */
        break;
    case 2:
        set_edge(a, (int)rct_rng_range(r, 0, EDGES - 1), -1);      /* dropped edge */
        break;
    case 3:
        if (g_root[a])
            unroot(a);                                              /* dropped root */
        break;
    case 4:
        if (g_count < MAXN * 8 - 4) {                               /* new node, maybe a new cycle */
            gnode *n = mk(rt);
            set_edge(n->id, 0, a);
            if (rct_rng_range(r, 0, 1))
                set_edge(a, (int)rct_rng_range(r, 0, EDGES - 1), n->id);
        }
        break;
    default:
        if (!g_root[a]) {                                           /* re-root a reachable node */
            rc_incref(&g_node[a]->ob);
            g_root[a] = 1;
        }
        break;
    }
}

static void check_no_live_destroyed(const char *mark, const char *when) {
    for (int i = 0; i < g_count; i++)
        if (mark[i] && g_destroyed[i])
            fail_msg("%s: node %d is reachable but was destroyed", when, i);
}

static void run(uint64_t seed, size_t step, int mutations_per_step) {
    memset(g_destroyed, 0, sizeof g_destroyed);
    g_next_id = 0;
    g_count = 0;
    rct_rng r;
    rct_rng_init(&r, seed);
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.gc_disabled = 1;             /* steps are driven by hand here */
    rc_runtime *rt = rc_runtime_new(&cfg);
    assert_non_null(rt);
    rc_gc_set_incremental(rt, step);
    assert_int_equal(rc_gc_get_incremental(rt), step);
    int n = (int)rct_scaled(MAXN, 300);
    for (int i = 0; i < n; i++)
        mk(rt);
    for (int i = 0; i < n * 2; i++)
        set_edge((int)rct_rng_range(&r, 0, (size_t)n - 1), (int)rct_rng_range(&r, 0, EDGES - 1),
                 (int)rct_rng_range(&r, 0, (size_t)n - 1));
    for (int i = 0; i < n; i++)
        if (rct_rng_range(&r, 0, 9) < 7)
            unroot(i);
    static char mark[MAXN * 8];
    reachable(mark);
    char *garbage_at_start = calloc((size_t)g_count, 1);
    assert_non_null(garbage_at_start);
    int start_count = g_count;
    for (int i = 0; i < g_count; i++)
        garbage_at_start[i] = !mark[i] && !g_destroyed[i];

    rc_gc_stats before[3];
    rc_gc_get_stats(rt, before);
    int steps = 0;
    int more = rc_gc_collect_incremental(rt);
    while (more) {
        steps++;
        reachable(mark);
        check_no_live_destroyed(mark, "between steps");
        for (int k = 0; k < mutations_per_step; k++) {
            mutate(rt, &r, mark);
            reachable(mark);
        }
        more = rc_gc_step(rt);
        assert_true(steps < 1000000);
    }
    reachable(mark);
    check_no_live_destroyed(mark, "after the incremental collection");
    rc_gc_stats after[3];
    rc_gc_get_stats(rt, after);
    assert_int_equal(after[2].collections, before[2].collections + 1);
    /* the work was split: about set / step steps at least */
    if (step < (size_t)n)
        assert_true((size_t)steps >= (size_t)n / step);
    /* garbage that nobody touched was freed (touched garbage is impossible:
     * the program cannot reach it) */
    for (int i = 0; i < start_count; i++)
        if (garbage_at_start[i] && !g_destroyed[i])
            fail_msg("node %d was garbage at the start and survived", i);
    /* a stop-the-world collection now frees exactly what is unreachable */
    rc_gc_collect(rt, 2);
    reachable(mark);
    for (int i = 0; i < g_count; i++) {
        if (mark[i] && g_destroyed[i])
            fail_msg("node %d reachable but destroyed after the full collection", i);
        if (!mark[i] && g_destroyed[i] != 1)
            fail_msg("node %d unreachable but destroyed %d times", i, g_destroyed[i]);
    }
    free(garbage_at_start);
    rc_runtime_free(rt);
    for (int i = 0; i < g_count; i++)
        assert_int_equal(g_destroyed[i], 1);
}

static void test_incremental_static_graph(void **state) {
    (void)state;
    run(rct_seed(11), 50, 0);
}

static void test_incremental_with_mutation(void **state) {
    (void)state;
    for (uint64_t s = 1; s <= 4; s++)
        run(rct_seed(100 + s), 37, 3);
}

static void test_incremental_small_steps_heavy_mutation(void **state) {
    (void)state;
    run(rct_seed(7), 5, 8);
}

static void test_incremental_one_step(void **state) {
    (void)state;
    run(rct_seed(9), 1000000, 0);   /* a step larger than the heap */
}

static int g_young_during;
static int g_in_progress;
static void watch(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)rt;
    (void)arg;
    if (phase == RC_GC_START && info->generation == 2)
        g_in_progress = 1;
    else if (phase == RC_GC_STOP && info->generation == 2)
        g_in_progress = 0;
    else if (phase == RC_GC_START && g_in_progress)
        g_young_during++;
}

static void test_automatic_trigger_runs_steps(void **state) {
    (void)state;
    memset(g_destroyed, 0, sizeof g_destroyed);
    g_next_id = 0;
    rc_runtime *rt = rc_runtime_new(NULL);
    rc_gc_set_threshold(rt, 50, 2, 2);
    rc_gc_set_incremental(rt, 64);
    g_young_during = g_in_progress = 0;
    assert_int_equal(rc_gc_callback_add(rt, watch, NULL), 0);
    rc_obj *keep = rc_list(rt);
    for (int i = 0; i < 20000; i++) {
        gnode *a = (gnode *)rc_new(rt, &gnode_type);
        assert_non_null(a);
        a->id = (g_next_id++) % (MAXN * 8);
        if (i % 3 == 0) {
            assert_int_equal(rc_list_append(rt, keep, &a->ob), 0);   /* live */
        } else {
            gnode *b = (gnode *)rc_new(rt, &gnode_type);                /* a 2-cycle of garbage */
            b->id = (g_next_id++) % (MAXN * 8);
            rc_incref(&b->ob);
            a->e[0] = &b->ob;
            rc_incref(&a->ob);
            b->e[0] = &a->ob;
            rc_decref(&b->ob);
        }
        rc_decref(&a->ob);
    }
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    assert_true(st[2].collections > 0);
    assert_int_equal(g_young_during, 0);   /* no young collection inside an incremental one */
    /* everything kept is intact */
    for (size_t i = 0; i < rc_list_len(keep); i++) {
        rc_obj *o = rc_list_get(rt, keep, i);
        assert_ptr_equal(rc_typeof(o), &gnode_type);
        assert_int_equal(g_destroyed[((gnode *)o)->id], 0);
    }
    rc_gc_collect(rt, 2);
    /* the garbage is gone: objects are the list's items plus the list */
    assert_int_equal(rc_runtime_object_count(rt), rc_list_len(keep) + 1);
    rc_decref(keep);
    rc_gc_set_incremental(rt, 0);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_static_graph),
        cmocka_unit_test(test_incremental_with_mutation),
        cmocka_unit_test(test_incremental_small_steps_heavy_mutation),
        cmocka_unit_test(test_incremental_one_step),
        cmocka_unit_test(test_automatic_trigger_runs_steps),
    };
    return rct_run_tests(tests, NULL, NULL);
}
