/* rc-test: stress */
/* test_gc_random.c - randomized object graphs against an independent model.
 *
 * For several seeds: N nodes of random kinds (a user node, a user node with
 * a finalizer, a user node without clear - uncollectable in a cycle of its
 * own kind -, a list, a dict) spread over the three generations, with random
 * edges; a random set of roots held by the test. The test keeps its own
 * adjacency arrays (plain C, outside the heap) and computes, by BFS and by
 * simulating reference counting, what must happen at every step:
 *
 *   - dropping references frees exactly the acyclic garbage (refcounting);
 *   - rc_gc_collect(g) finds exactly the young objects not reachable from
 *     the roots, the garbage list or an older generation, returns their
 *     number, frees all of them except those kept alive by a cycle of
 *     clear-less nodes (uncollectable: in rc_gc_garbage, exactly once), and
 *     updates stats[g] exactly;
 *   - every other object is untouched: not cleared, not finalized, its
 *     fields, edges and reference count as the model says;
 *   - every freed user node was destroyed exactly once, every finalizable
 *     one finalized exactly once; every weak reference to a collected
 *     object is dead and its callback ran once, before any finalizer of
 *     that collection;
 *   - rc_gc_get_objects(g) has the model's size; the object count matches;
 *   - rc_runtime_free destroys what is left, each node exactly once.
 *
 * A second family of runs (run_chaos) combines the same graphs with user
 * code that allocates (finalizers, weak-reference callbacks, destroy) while
 * the collector is enabled at low thresholds, stop-the-world or
 * incremental; its oracle is safety and liveness against the model (see
 * there), since collections then happen at moments the model cannot
 * predict.
 *
 * Sizes scale with rct_scaled(); RC_TEST_SEED replays one seed family. */
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

enum { K_NODE, K_FIN, K_NOCLEAR, K_LIST, K_DICT };
enum { ALIVE, FREED, UNCOL };

/* ---- the user node: variable number of edges ----------------------------- */

typedef struct vnode {
    rc_obj ob;
    int32_t id;
    uint32_t magic;
} vnode;
#define EDGES(n) ((rc_obj **)(void *)((char *)(n) + sizeof(vnode)))
#define MAGIC(id) (0xA11CE000u ^ (uint32_t)(id))

/* counters indexed by node id (outside the heap) */
static int *g_destroyed, *g_cleared, *g_finalized, *g_wcb;
static int g_in_collect, g_fin_started, g_violations;
static int g_viol_alive, g_viol_order, g_viol_magic;
static int *g_inF;      /* during a collection: the unreachable set the model predicts */

static int vnode_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    size_t n = rc_var_len(self);
    rc_obj **e = EDGES(self);
    for (size_t i = 0; i < n; i++)
        if (e[i]) {
            int r = visit(e[i], arg);
            if (r)
                return r;
        }
    return 0;
}

static void vnode_drop(rc_obj *self) {
    size_t n = rc_var_len(self);
    rc_obj **e = EDGES(self);
    for (size_t i = 0; i < n; i++) {
        rc_obj *x = e[i];
        e[i] = NULL;
        rc_xdecref(x);
    }
}

static void vnode_clear(rc_obj *self) {
    g_cleared[((vnode *)self)->id]++;
    vnode_drop(self);
}

/* ---- user code that allocates (chaos runs) ------------------------------------- *
 * In a chaos run (g_chaos_rt set), every finalizer, weak-reference callback
 * and destroy of a model node allocates: it makes a two-node cycle of side
 * objects (a type outside the model) and drops it. With the collector
 * enabled and low thresholds, those allocations start collections, or
 * advance an incremental one, while the model node is being deallocated or
 * collected. */
static rc_runtime *g_chaos_rt;
static size_t g_side_made, g_side_destroyed;

typedef struct side { rc_obj ob; rc_obj *peer; uint64_t payload[2]; } side;

static int side_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    side *x = (side *)self;
    return x->peer ? visit(x->peer, arg) : 0;
}
static void side_clear(rc_obj *self) {
    side *x = (side *)self;
    rc_obj *p = x->peer;
    x->peer = NULL;
    rc_xdecref(p);
}
static void side_destroy(rc_obj *self) {
    g_side_destroyed++;
    side_clear(self);
}
static const rc_type side_type = {
    .name = "side", .size = sizeof(side), .flags = RC_TYPE_GC,
    .traverse = side_traverse, .clear = side_clear, .destroy = side_destroy,
};

static void side_churn(void) {
    if (!g_chaos_rt)
        return;
    side *a = (side *)rc_new(g_chaos_rt, &side_type);
    side *b = (side *)rc_new(g_chaos_rt, &side_type);
    if (!a || !b) {
        g_violations++;        /* no allocation may fail here */
        if (a)
            rc_decref(&a->ob);
        if (b)
            rc_decref(&b->ob);
        return;
    }
    g_side_made += 2;
    a->peer = &b->ob;          /* a owns the reference rc_new gave for b */
    rc_incref(&a->ob);
    b->peer = &a->ob;
    rc_decref(&a->ob);         /* garbage: only the collector frees it */
}

static void vnode_destroy(rc_obj *self) {
    vnode *n = (vnode *)self;
    g_destroyed[n->id]++;
    if (n->magic != MAGIC(n->id)) {
        g_violations++;
        g_viol_magic++;
    }
    vnode_drop(self);
    side_churn();
}

static void vnode_finalize(rc_obj *self) {
    g_finalized[((vnode *)self)->id]++;
    g_fin_started = 1;
    side_churn();
}

static const rc_type vnode_type = {
    .name = "rnode", .size = sizeof(vnode), .itemsize = sizeof(rc_obj *), .flags = RC_TYPE_GC,
    .traverse = vnode_traverse, .clear = vnode_clear, .destroy = vnode_destroy,
};
static const rc_type vfin_type = {
    .name = "rfin", .size = sizeof(vnode), .itemsize = sizeof(rc_obj *), .flags = RC_TYPE_GC,
    .traverse = vnode_traverse, .clear = vnode_clear, .destroy = vnode_destroy,
    .finalize = vnode_finalize,
};
static const rc_type vnoclear_type = {
    .name = "rnoclear", .size = sizeof(vnode), .itemsize = sizeof(rc_obj *), .flags = RC_TYPE_GC,
    .traverse = vnode_traverse, .destroy = vnode_destroy,
};

static void wr_cb(rc_obj *ref, void *arg) {
    g_wcb[(int)(intptr_t)arg]++;
    if (rc_weakref_get(ref) != NULL) {
        g_violations++;
        g_viol_alive++;
    }
    /* a weak reference to an object the collection found unreachable is
     * called back before any finalizer of the collection runs (objects of
     * older generations that die by refcounting once the garbage is
     * cleared are called back later, as in CPython) */
    if (g_in_collect && g_inF && g_inF[(int)(intptr_t)arg] && g_fin_started) {
        g_violations++;
        g_viol_order++;
    }
    side_churn();
}

/* ---- the model --------------------------------------------------------------- */

typedef struct config {
    size_t n;
    int maxdeg;
    int pct_root, pct_fin, pct_noclear, pct_list, pct_dict, pct_local, pct_weak;
    /* 1: freeze the first batch (and the garbage list) right after it is
     * built, so that collections run with frozen objects as outside
     * references; unfreeze before the last full collections */
    int freeze;
} config;

typedef struct model {
    rc_runtime *rt;
    int n;
    int *kind, *off, *adj;            /* CSR adjacency: edges of v are adj[off[v] .. off[v+1]) */
    rc_obj **ptr;                     /* borrowed; valid while the model says alive */
    rc_obj **wref;                    /* a weak reference held by the test, or NULL */
    int *held, *state, *mcleared, *gen;
    int glist_gen;
    /* scratch */
    int *support, *queue, *mark;
    /* pointer -> id, sorted, for the lists the library returns */
    struct pid { uintptr_t p; int id; } *byptr;
    size_t base_objects;
    int nweak;
} model;

static int has_clear(int kind) {
    return kind != K_NOCLEAR;
}

static int is_user(int kind) {
    return kind == K_NODE || kind == K_FIN || kind == K_NOCLEAR;
}

static int deg(const model *m, int v) {
    return m->off[v + 1] - m->off[v];
}

/* Does u's reference to its targets still exist? */
static int contributes(const model *m, int u) {
    return m->state[u] != FREED && !m->mcleared[u];
}

static void compute_support(model *m) {
    for (int v = 0; v < m->n; v++)
        m->support[v] = m->held[v] + (m->state[v] == UNCOL);
    for (int u = 0; u < m->n; u++)
        if (contributes(m, u))
            for (int e = m->off[u]; e < m->off[u + 1]; e++)
                m->support[m->adj[e]]++;
}

/* Reference counting: free every live object without support, repeatedly.
 * Returns how many were freed. */
static int simulate_refcount(model *m) {
    compute_support(m);
    int qh = 0, qt = 0, freed = 0;
    for (int v = 0; v < m->n; v++)
        if (m->state[v] != FREED && m->support[v] == 0)
            m->queue[qt++] = v;
    while (qh < qt) {
        int v = m->queue[qh++];
        int c = contributes(m, v);
        m->state[v] = FREED;
        freed++;
        if (c)
            for (int e = m->off[v]; e < m->off[v + 1]; e++) {
                int t = m->adj[e];
                if (--m->support[t] == 0 && m->state[t] != FREED)
                    m->queue[qt++] = t;
            }
    }
    return freed;
}

static int pid_cmp(const void *a, const void *b) {
    const struct pid *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p;
}

static int id_of(const model *m, const rc_obj *o) {
    size_t lo = 0, hi = (size_t)m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->byptr[mid].p < (uintptr_t)o)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < (size_t)m->n && m->byptr[lo].p == (uintptr_t)o)
        return m->byptr[lo].id;
    return -1;
}

/* ---- checks ---------------------------------------------------------------------- */

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        if (!(cond))                                                                  \
            fail_msg("seed %llu step %s node %d: " #cond, (unsigned long long)g_seed, \
                     g_step, __VA_ARGS__);                                            \
    } while (0)

static uint64_t g_seed;
static const char *g_step;

static void check_edges_intact(model *m, int v) {
    rc_runtime *rt = m->rt;
    rc_obj *o = m->ptr[v];
    int k = m->kind[v], d = deg(m, v);
    if (is_user(k)) {
        CHECK(rc_var_len(o) == (size_t)d, v);
        for (int i = 0; i < d; i++)
            CHECK(EDGES(o)[i] == m->ptr[m->adj[m->off[v] + i]], v);
    } else if (k == K_LIST) {
        CHECK(rc_list_len(o) == (size_t)d, v);
        for (int i = 0; i < d; i++)
            CHECK(rc_list_get(rt, o, (size_t)i) == m->ptr[m->adj[m->off[v] + i]], v);
    } else {
        CHECK(rc_dict_len(o) == (size_t)d, v);
        for (int i = 0; i < d; i++) {
            rc_obj *key = rc_int(rt, i);
            CHECK(rc_dict_get(rt, o, key) == m->ptr[m->adj[m->off[v] + i]], v);
        }
    }
}

static void check_emptied(model *m, int v) {
    rc_obj *o = m->ptr[v];
    int k = m->kind[v];
    if (is_user(k)) {
        for (size_t i = 0; i < rc_var_len(o); i++)
            CHECK(EDGES(o)[i] == NULL, v);
    } else if (k == K_LIST) {
        CHECK(rc_list_len(o) == 0, v);
    } else {
        CHECK(rc_dict_len(o) == 0, v);
    }
}

static void verify_all(model *m) {
    rc_runtime *rt = m->rt;
    if (g_violations)
        fail_msg("seed %llu step %s: %d violations: %d callbacks saw their weakref alive, "
                 "%d callbacks ran after a finalizer of the same collection, %d destroyed "
                 "objects had a bad magic", (unsigned long long)g_seed, g_step, g_violations,
                 g_viol_alive, g_viol_order, g_viol_magic);
    /* occurrences in the garbage list */
    rc_obj *g = rc_gc_garbage(rt);
    memset(m->mark, 0, sizeof(int) * (size_t)m->n);
    for (size_t i = 0; i < rc_list_len(g); i++) {
        int id = id_of(m, rc_list_get(rt, g, i));
        CHECK(id >= 0, (int)i);
        m->mark[id]++;
    }
    compute_support(m);
    int alive = 0, nuncol = 0;
    for (int v = 0; v < m->n; v++) {
        int k = m->kind[v], st = m->state[v];
        if (st == FREED) {
            if (is_user(k))
                CHECK(g_destroyed[v] == 1, v);
            if (k == K_FIN)
                CHECK(g_finalized[v] == 1, v);
            CHECK(m->mark[v] == 0, v);
            if (m->wref[v]) {
                CHECK(rc_weakref_get(m->wref[v]) == NULL, v);
                CHECK(g_wcb[v] == 1, v);
            }
            continue;
        }
        alive++;
        rc_obj *o = m->ptr[v];
        if (is_user(k)) {
            CHECK(g_destroyed[v] == 0, v);
            CHECK(((vnode *)o)->magic == MAGIC(v), v);
        }
        CHECK(rc_refcount(o) == (size_t)m->support[v], v);
        if (st == ALIVE) {
            if (is_user(k)) {
                CHECK(g_cleared[v] == 0, v);
                CHECK(g_finalized[v] == 0, v);
            }
            check_edges_intact(m, v);
            CHECK(m->mark[v] == 0, v);
            if (m->wref[v]) {
                CHECK(rc_weakref_get(m->wref[v]) == o, v);
                CHECK(g_wcb[v] == 0, v);
            }
        } else {                                    /* uncollectable */
            nuncol++;
            CHECK(m->mark[v] == 1, v);
            if (has_clear(k)) {
                if (is_user(k))
                    CHECK(g_cleared[v] >= 1, v);
                check_emptied(m, v);
            } else {
                check_edges_intact(m, v);
            }
            if (k == K_FIN)
                CHECK(g_finalized[v] == 1, v);
            if (m->wref[v]) {
                CHECK(rc_weakref_get(m->wref[v]) == NULL, v);   /* cleared with the garbage */
                CHECK(g_wcb[v] == 1, v);
            }
        }
    }
    CHECK(rc_list_len(g) == (size_t)nuncol, nuncol);
    /* the object count: nodes and the weak references (the garbage list is the library's) */
    CHECK(rc_runtime_object_count(rt) == m->base_objects + (size_t)alive + (size_t)m->nweak,
          alive);
    /* generation sizes */
    for (int gen = 0; gen < 3; gen++) {
        size_t want = m->glist_gen == gen;
        for (int v = 0; v < m->n; v++)
            want += m->state[v] != FREED && m->gen[v] == gen;
        rc_obj *l = rc_gc_get_objects(rt, gen);
        CHECK(l != NULL, gen);
        CHECK(rc_list_len(l) == want, gen);
        rc_decref(l);
    }
    CHECK(rc_runtime_debug_errors(rt) == 0, -1);
}

/* Collect generation gen, predicting everything first. */
static void model_collect(model *m, int gen, const char *step) {
    g_step = step;
    int n = m->n;
    /* BFS from the roots, the garbage list and the older generations */
    int qh = 0, qt = 0;
    memset(m->mark, 0, sizeof(int) * (size_t)n);
    for (int v = 0; v < n; v++)
        if (m->state[v] != FREED && (m->held[v] || m->state[v] == UNCOL || m->gen[v] > gen)) {
            m->mark[v] = 1;
            m->queue[qt++] = v;
        }
    while (qh < qt) {
        int u = m->queue[qh++];
        if (!contributes(m, u))
            continue;
        for (int e = m->off[u]; e < m->off[u + 1]; e++) {
            int t = m->adj[e];
            if (!m->mark[t] && m->state[t] != FREED) {
                m->mark[t] = 1;
                m->queue[qt++] = t;
            }
        }
    }
    /* unreachable: young, alive, unmarked */
    int found = 0;
    int *inF = calloc((size_t)n, sizeof(int));
    assert_non_null(inF);
    for (int v = 0; v < n; v++)
        if (m->state[v] != FREED && m->gen[v] <= gen && !m->mark[v]) {
            inF[v] = 1;
            found++;
        }
    rc_gc_stats before[3], after[3];
    rc_gc_get_stats(m->rt, before);
    g_in_collect = 1;
    g_fin_started = 0;
    g_inF = inF;
    long r = rc_gc_collect(m->rt, gen);
    g_in_collect = 0;
    g_inF = NULL;
    /* predict the outcome: clear runs on the clearable ones, then refcounting */
    for (int v = 0; v < n; v++)
        if (inF[v] && has_clear(m->kind[v]))
            m->mcleared[v] = 1;
    for (int v = 0; v < n; v++)
        if (inF[v])
            m->state[v] = ALIVE;    /* no pin any more; refcounting decides */
    simulate_refcount(m);
    int uncol = 0;
    for (int v = 0; v < n; v++)
        if (inF[v] && m->state[v] != FREED) {
            m->state[v] = UNCOL;
            uncol++;
        }
    free(inF);
    for (int v = 0; v < n; v++)
        if (m->state[v] != FREED && m->gen[v] <= gen)
            m->gen[v] = gen < 2 ? gen + 1 : 2;
    if (m->glist_gen <= gen)
        m->glist_gen = gen < 2 ? gen + 1 : 2;
    CHECK(r == found, found);
    if (getenv("RC_TEST_VERBOSE"))
        fprintf(stderr, "seed %llu %s: n=%d found %d uncollectable %d\n", (unsigned long long)g_seed, step, n, found, uncol);
    rc_gc_get_stats(m->rt, after);
    for (int g = 0; g < 3; g++) {
        CHECK(after[g].collections == before[g].collections + (g == gen), g);
        CHECK(after[g].collected == before[g].collected + (g == gen ? (size_t)(found - uncol) : 0), g);
        CHECK(after[g].uncollectable == before[g].uncollectable + (g == gen ? (size_t)uncol : 0), g);
    }
    verify_all(m);
}

/* A collection while the nodes are being created (all held, no edges yet). */
static void build_collect(model *m, int gen, int created) {
    rc_gc_stats before[3], after[3];
    rc_gc_get_stats(m->rt, before);
    CHECK(rc_gc_collect(m->rt, gen) == 0, created);
    rc_gc_get_stats(m->rt, after);
    CHECK(after[gen].collections == before[gen].collections + 1, gen);
    for (int v = 0; v < created; v++)
        if (m->gen[v] <= gen)
            m->gen[v] = gen < 2 ? gen + 1 : 2;
    if (m->glist_gen <= gen)
        m->glist_gen = gen < 2 ? gen + 1 : 2;
    rc_obj *l = rc_gc_get_objects(m->rt, gen + 1);
    size_t want = m->glist_gen == gen + 1;
    for (int v = 0; v < created; v++)
        want += m->gen[v] == gen + 1;
    CHECK(rc_list_len(l) == want, gen);
    rc_decref(l);
}

static void model_drop(model *m, int v) {
    m->held[v] = 0;
    rc_decref(m->ptr[v]);
}

/* ---- one run ----------------------------------------------------------------------- */

static int pct(rct_rng *r, int p) {
    return (int)rct_rng_range(r, 0, 99) < p;
}

/* The model's arrays for n nodes, and the random graph: kinds and edges. */
static void model_init(model *m, const config *cfg, rct_rng *rng) {
    memset(m, 0, sizeof *m);
    int n = (int)cfg->n;
    m->n = n;
#define ALLOC(p, count) do { (p) = calloc((size_t)(count) + 1, sizeof *(p)); assert_non_null(p); } while (0)
    ALLOC(m->kind, n);
    ALLOC(m->off, n + 1);
    ALLOC(m->ptr, n);
    ALLOC(m->wref, n);
    ALLOC(m->held, n);
    ALLOC(m->state, n);
    ALLOC(m->mcleared, n);
    ALLOC(m->gen, n);
    ALLOC(m->support, n);
    ALLOC(m->queue, n);
    ALLOC(m->mark, n);
    ALLOC(m->byptr, n);
    ALLOC(g_destroyed, n);
    ALLOC(g_cleared, n);
    ALLOC(g_finalized, n);
    ALLOC(g_wcb, n);
    g_violations = g_viol_alive = g_viol_order = g_viol_magic = 0;
    for (int v = 0; v < n; v++) {
        int r = (int)rct_rng_range(rng, 0, 99);
        int k = K_NODE;
        if (r < cfg->pct_fin)
            k = K_FIN;
        else if ((r -= cfg->pct_fin) < cfg->pct_noclear)
            k = K_NOCLEAR;
        else if ((r -= cfg->pct_noclear) < cfg->pct_list)
            k = K_LIST;
        else if ((r -= cfg->pct_list) < cfg->pct_dict)
            k = K_DICT;
        m->kind[v] = k;
        m->off[v + 1] = m->off[v] + (int)rct_rng_range(rng, 0, (size_t)cfg->maxdeg);
    }
    ALLOC(m->adj, m->off[n]);
#undef ALLOC
    for (int v = 0; v < n; v++)
        for (int e = m->off[v]; e < m->off[v + 1]; e++) {
            int t;
            if (pct(rng, cfg->pct_local))
                t = (int)(((size_t)v + rct_rng_range(rng, 0, 6) + (size_t)n - 3) % (size_t)n);
            else
                t = (int)rct_rng_range(rng, 0, (size_t)n - 1);
            m->adj[e] = t;
        }
}

static void model_release(model *m) {
    free(m->kind);
    free(m->off);
    free(m->adj);
    free(m->ptr);
    free(m->wref);
    free(m->held);
    free(m->state);
    free(m->mcleared);
    free(m->gen);
    free(m->support);
    free(m->queue);
    free(m->mark);
    free(m->byptr);
    free(g_destroyed);
    free(g_cleared);
    free(g_finalized);
    free(g_wcb);
}

/* Create node v's object (no edges yet), held by the test. */
static void model_create(model *m, int v) {
    int k = m->kind[v];
    rc_obj *o;
    if (is_user(k)) {
        const rc_type *t = k == K_NODE ? &vnode_type : k == K_FIN ? &vfin_type : &vnoclear_type;
        o = rc_new_var(m->rt, t, (size_t)deg(m, v));
        assert_non_null(o);
        ((vnode *)o)->id = v;
        ((vnode *)o)->magic = MAGIC(v);
    } else {
        o = k == K_LIST ? rc_list(m->rt) : rc_dict(m->rt);
        assert_non_null(o);
    }
    m->ptr[v] = o;
    m->held[v] = 1;
    m->gen[v] = 0;
}

/* Install every edge, and the weak references the test holds. */
static void model_wire(model *m, const config *cfg, rct_rng *rng) {
    rc_runtime *rt = m->rt;
    int n = m->n;
    for (int v = 0; v < n; v++) {
        rc_obj *o = m->ptr[v];
        for (int i = 0; i < deg(m, v); i++) {
            rc_obj *t = m->ptr[m->adj[m->off[v] + i]];
            if (is_user(m->kind[v])) {
                EDGES(o)[i] = t;
                rc_incref(t);
            } else if (m->kind[v] == K_LIST) {
                assert_int_equal(rc_list_append(rt, o, t), 0);
            } else {
                rc_obj *key = rc_int(rt, i);
                assert_int_equal(rc_dict_set(rt, o, key, t), 0);
                rc_decref(key);
            }
        }
        if (!is_user(m->kind[v]) || pct(rng, cfg->pct_weak)) {
            m->wref[v] = rc_weakref_new(rt, o, wr_cb, (void *)(intptr_t)v);
            assert_non_null(m->wref[v]);
            m->nweak++;
        }
        m->byptr[v].p = (uintptr_t)o;
        m->byptr[v].id = v;
    }
    qsort(m->byptr, (size_t)n, sizeof m->byptr[0], pid_cmp);
}

/* A random permutation of the nodes (the order references are dropped in)
 * and a random choice of roots. Both arrays are the caller's to free. */
static void pick_roots(const model *m, const config *cfg, rct_rng *rng, int **order_out,
                       int **root_out) {
    int n = m->n;
    int *order = calloc((size_t)n + 1, sizeof(int));
    int *root = calloc((size_t)n + 1, sizeof(int));
    assert_non_null(order);
    assert_non_null(root);
    for (int v = 0; v < n; v++)
        order[v] = v;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rct_rng_range(rng, 0, (size_t)i), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int v = 0; v < n; v++)
        root[v] = pct(rng, cfg->pct_root);
    *order_out = order;
    *root_out = root;
}

/* The start of a run: the seed recorded for failure messages, the random
 * stream seeded, the model's graph drawn. */
static void run_begin(model *m, const config *cfg, uint64_t seed, const char *step, rct_rng *rng) {
    g_seed = seed;
    g_step = step;
    rct_rng_init(rng, seed);
    model_init(m, cfg, rng);
}

static void run(const config *cfg, uint64_t seed) {
    rct_rng rng;
    model M;
    model *m = &M;
    run_begin(m, cfg, seed, "build", &rng);
    int n = m->n;

    rc_config c;
    rc_config_init(&c);
    c.debug = 1;
    c.gc_disabled = 1;
    FILE *report = tmpfile();
    assert_non_null(report);
    c.report = report;
    rc_runtime *rt = m->rt = rc_runtime_new(&c);
    assert_non_null(rt);
    m->base_objects = rc_runtime_object_count(rt);
    assert_non_null(rc_gc_garbage(rt));
    m->glist_gen = 0;
    /* create in three batches: generations 2, 1, 0 */
    int cut1 = n / 3, cut2 = 2 * n / 3;
    for (int v = 0; v < n; v++) {
        model_create(m, v);
        if (v == cut1 - 1) {
            build_collect(m, 1, v + 1);      /* batch A to generation 2 */
            if (cfg->freeze) {
                /* generation 3 in the model: the permanent generation */
                rc_gc_freeze(rt);
                for (int w = 0; w <= v; w++)
                    m->gen[w] = 3;
                m->glist_gen = 3;
                CHECK(rc_gc_get_freeze_count(rt) == (size_t)v + 2, v);
            }
        }
        else if (v == cut2 - 1)
            build_collect(m, 0, v + 1);      /* batch B to generation 1 */
    }
    g_step = "edges";
    model_wire(m, cfg, &rng);
    g_step = "wired";
    verify_all(m);

    int *order, *root;
    pick_roots(m, cfg, &rng, &order, &root);
    /* drop every other reference, in random order: refcounting frees the
     * acyclic garbage at once */
    g_step = "drop non-roots";
    for (int i = 0; i < n; i++)
        if (!root[order[i]])
            model_drop(m, order[i]);
    simulate_refcount(m);
    verify_all(m);

    model_collect(m, 0, "collect 0");
    g_step = "drop half the roots";
    for (int i = 0; i < n; i++)
        if (m->held[order[i]] && pct(&rng, 50))
            model_drop(m, order[i]);
    simulate_refcount(m);
    verify_all(m);
    model_collect(m, 1, "collect 1");
    model_collect(m, 0, "collect 0 again");
    model_collect(m, 2, "collect 2");
    if (cfg->freeze) {
        g_step = "unfreeze";
        rc_gc_unfreeze(rt);
        for (int v = 0; v < n; v++)
            if (m->gen[v] == 3)
                m->gen[v] = 2;
        if (m->glist_gen == 3)
            m->glist_gen = 2;
        CHECK(rc_gc_get_freeze_count(rt) == 0, -1);
        verify_all(m);
    }
    g_step = "drop the other roots";
    for (int i = 0; i < n; i++)
        if (m->held[order[i]])
            model_drop(m, order[i]);
    simulate_refcount(m);
    verify_all(m);
    model_collect(m, 2, "collect 2 without roots");
    /* (what is still ALIVE now is reachable from an uncollectable object) */
    /* empty the garbage list: the uncollectable objects are garbage again,
     * found again, uncollectable again */
    g_step = "garbage list emptied";
    rc_list_clear(rc_gc_garbage(rt));
    for (int v = 0; v < n; v++)
        if (m->state[v] == UNCOL)
            m->state[v] = ALIVE;
    simulate_refcount(m);
    model_collect(m, 2, "collect 2 after emptying the garbage list");

    /* release the weak references; rc_runtime_free destroys what is left */
    for (int v = 0; v < n; v++)
        if (m->wref[v]) {
            rc_decref(m->wref[v]);
            m->wref[v] = NULL;
            m->nweak--;
        }
    size_t uncol = 0;
    for (int v = 0; v < n; v++)
        uncol += m->state[v] == UNCOL;
    CHECK(rc_runtime_object_count(rt) == m->base_objects + uncol, (int)uncol);
    CHECK(rc_runtime_debug_errors(rt) == 0, -1);
    rc_runtime_free(rt);
    for (int v = 0; v < n; v++)
        if (is_user(m->kind[v]))
            CHECK(g_destroyed[v] == 1, v);
    CHECK(g_violations == 0, -1);
    fclose(report);
    free(order);
    free(root);
    model_release(m);
}

/* ---- chaos runs: the collector runs whenever user code allocates -------------- *
 * The same graphs, with the collector enabled at low thresholds, in
 * stop-the-world or bounded-pause mode, finalizers and callbacks that
 * allocate (side_churn), and explicit collections and steps between the
 * drops. Collections then happen at moments the model cannot predict, so
 * the oracle is the two properties every schedule must keep:
 *   - safety: after every phase, each node reachable from the roots is
 *     alive, uncleared, with its edges intact and its weak reference alive;
 *   - liveness: once every root is dropped and the collector has settled,
 *     the nodes still alive are exactly those in rc_gc_garbage (kept by a
 *     cycle of clear-less nodes), each listed once; rc_runtime_free then
 *     destroys every node exactly once and every side object too.
 * Finalizers run at most once throughout. */

/* A user node is alive until destroyed; a container (which always has a
 * weak reference) counts as alive while its weak reference is: a collection
 * that finds it unreachable clears that even if it then survives. */
static int chaos_alive(const model *m, int v) {
    if (is_user(m->kind[v]))
        return g_destroyed[v] == 0;
    return rc_weakref_get(m->wref[v]) != NULL;
}

static void chaos_check_safety(model *m) {
    int n = m->n, qh = 0, qt = 0;
    memset(m->mark, 0, sizeof(int) * (size_t)n);
    for (int v = 0; v < n; v++)
        if (m->held[v]) {
            m->mark[v] = 1;
            m->queue[qt++] = v;
        }
    while (qh < qt) {
        int u = m->queue[qh++];
        for (int e = m->off[u]; e < m->off[u + 1]; e++)
            if (!m->mark[m->adj[e]]) {
                m->mark[m->adj[e]] = 1;
                m->queue[qt++] = m->adj[e];
            }
    }
    for (int v = 0; v < n; v++) {
        if (is_user(m->kind[v]))
            CHECK(g_finalized[v] <= 1, v);
        if (!m->mark[v])
            continue;
        CHECK(chaos_alive(m, v), v);
        if (is_user(m->kind[v])) {
            CHECK(g_cleared[v] == 0, v);
            CHECK(((vnode *)m->ptr[v])->magic == MAGIC(v), v);
        }
        if (m->wref[v])
            CHECK(rc_weakref_get(m->wref[v]) == m->ptr[v], v);
        check_edges_intact(m, v);
    }
    CHECK(g_violations == 0, g_violations);
}

/* Drop the test's reference to v, sometimes followed by a collection of a
 * random generation or an incremental step. */
static void chaos_drop(model *m, int v, rct_rng *rng) {
    model_drop(m, v);
    int r = (int)rct_rng_range(rng, 0, 99);
    if (r < 3)
        rc_gc_collect(m->rt, (int)rct_rng_range(rng, 0, 2));
    else if (r < 8)
        rc_gc_step(m->rt);
    else if (r < 9)
        rc_gc_collect_incremental(m->rt);
}

static void chaos_settle(rc_runtime *rt) {
    for (int i = 0; i < 1000000 && rc_gc_step(rt); i++) {
    }
    /* finalizers of each collection leave side garbage for the next one */
    for (int i = 0; i < 8 && rc_gc_collect(rt, 2) > 0; i++) {
    }
}

/* Liveness, once nothing is held: the nodes alive are exactly those the
 * garbage list reaches (it is a root, like gc.garbage), following the edges
 * the objects have now (cleared ones have none); each is listed once. */
static void chaos_check_liveness(model *m) {
    rc_runtime *rt = m->rt;
    int n = m->n, qh = 0, qt = 0;
    rc_obj *g = rc_gc_garbage(rt);
    memset(m->mark, 0, sizeof(int) * (size_t)n);
    for (size_t i = 0; i < rc_list_len(g); i++) {
        int id = id_of(m, rc_list_get(rt, g, i));
        CHECK(id >= 0, (int)i);                   /* side objects all have clear */
        CHECK(m->mark[id] == 0, id);              /* listed once */
        m->mark[id] = 1;
        m->queue[qt++] = id;
    }
    while (qh < qt) {
        rc_obj *children = rc_gc_get_referents(rt, m->ptr[m->queue[qh++]]);
        assert_non_null(children);
        for (size_t i = 0; i < rc_list_len(children); i++) {
            int id = id_of(m, rc_list_get(rt, children, i));
            if (id >= 0 && !m->mark[id]) {
                m->mark[id] = 1;
                m->queue[qt++] = id;
            }
        }
        rc_decref(children);
    }
    for (int v = 0; v < n; v++) {
        if (is_user(m->kind[v]))
            CHECK(chaos_alive(m, v) == m->mark[v], v);
        else if (!m->mark[v])
            CHECK(!chaos_alive(m, v), v);     /* a container found unreachable loses its
                                                 weak reference even when it survives */
    }
    if (m->kind && qt > 0) {
        int noclear = 0;
        for (int v = 0; v < n; v++)
            noclear += m->mark[v] && m->kind[v] == K_NOCLEAR;
        CHECK(noclear > 0, qt);                   /* only clear-less cycles are kept */
    }
}

static void run_chaos(const config *cfg, uint64_t seed, size_t step) {
    rct_rng rng;
    model M;
    model *m = &M;
    run_begin(m, cfg, seed, "chaos build", &rng);
    int n = m->n;

    rc_config c;
    rc_config_init(&c);
    c.debug = (int)(seed & 1);
    c.gc_threshold[0] = 1 + rct_rng_range(&rng, 0, 20);
    c.gc_threshold[1] = 1 + rct_rng_range(&rng, 0, 4);
    c.gc_threshold[2] = 1 + rct_rng_range(&rng, 0, 4);
    FILE *report = tmpfile();
    assert_non_null(report);
    c.report = report;
    rc_runtime *rt = m->rt = rc_runtime_new(&c);
    assert_non_null(rt);
    rc_gc_set_incremental(rt, step);
    g_chaos_rt = rt;
    g_side_made = g_side_destroyed = 0;

    for (int v = 0; v < n; v++)
        model_create(m, v);
    model_wire(m, cfg, &rng);
    g_step = "chaos wired";
    chaos_check_safety(m);

    int *order, *root;
    pick_roots(m, cfg, &rng, &order, &root);
    g_step = "chaos drop non-roots";
    for (int i = 0; i < n; i++)
        if (!root[order[i]])
            chaos_drop(m, order[i], &rng);
    chaos_check_safety(m);
    g_step = "chaos drop half the roots";
    for (int i = 0; i < n; i++)
        if (m->held[order[i]] && pct(&rng, 50))
            chaos_drop(m, order[i], &rng);
    chaos_check_safety(m);
    g_step = "chaos drop the other roots";
    for (int i = 0; i < n; i++)
        if (m->held[order[i]])
            chaos_drop(m, order[i], &rng);
    chaos_settle(rt);
    chaos_check_safety(m);

    chaos_check_liveness(m);
    /* emptied, the list fills again: with the same objects, and those that
     * only they kept reachable (now garbage as well) */
    g_step = "chaos garbage list emptied";
    rc_list_clear(rc_gc_garbage(rt));
    chaos_settle(rt);
    chaos_check_liveness(m);

    for (int v = 0; v < n; v++)
        if (m->wref[v]) {
            rc_decref(m->wref[v]);
            m->wref[v] = NULL;
        }
    g_chaos_rt = NULL;
    rc_runtime_free(rt);
    for (int v = 0; v < n; v++) {
        if (is_user(m->kind[v]))
            CHECK(g_destroyed[v] == 1, v);
        if (m->kind[v] == K_FIN)
            CHECK(g_finalized[v] <= 1, v);
    }
    CHECK(g_side_destroyed == g_side_made, (int)g_side_made);
    CHECK(g_violations == 0, g_violations);
    fclose(report);
    free(order);
    free(root);
    model_release(m);
}

static const config configs[] = {
    /* n (scaled below), maxdeg, root, fin, noclear, list, dict, local, weak,
     * freeze (set per run below) */
    { 6000, 3, 5, 10, 0, 10, 10, 30, 50, 0 },
    { 6000, 1, 10, 10, 0, 5, 5, 50, 50, 0 },      /* sparse: mostly chains, small cycles */
    { 6000, 5, 2, 10, 0, 10, 10, 20, 50, 0 },     /* dense: one big component */
    { 6000, 3, 5, 10, 3, 10, 10, 30, 50, 0 },     /* some clear-less nodes */
    { 6000, 2, 5, 20, 15, 10, 10, 60, 50, 0 },    /* many clear-less nodes */
    { 6000, 3, 30, 5, 0, 0, 0, 30, 80, 0 },       /* user nodes only, many roots */
    { 6000, 2, 0, 15, 5, 15, 15, 40, 50, 0 },     /* no roots at all */
};

static void test_random_graphs(void **state) {
    (void)state;
    uint64_t base = rct_seed(20240611);
    size_t nconf = sizeof configs / sizeof configs[0];
    int rounds = rct_scale() >= 1.0 ? 3 : 1;
    for (int round = 0; round < rounds; round++)
        for (size_t i = 0; i < nconf; i++) {
            config cfg = configs[i];
            cfg.n = rct_scaled(cfg.n, 120);
            cfg.freeze = (int)((i + (size_t)round) % 2);
            run(&cfg, base + (uint64_t)round * 1000 + i);
        }
}

/* Small graphs, many seeds: corner cases show up more often. */
static void test_random_small_graphs(void **state) {
    (void)state;
    uint64_t base = rct_seed(777);
    size_t count = rct_scaled(200, 20);
    for (size_t i = 0; i < count; i++) {
        config cfg = configs[i % (sizeof configs / sizeof configs[0])];
        cfg.n = 3 + i % 17;
        cfg.freeze = i % 3 == 0;
        run(&cfg, base + i);
    }
}

/* Every configuration in both collector modes, several step sizes. */
static void test_random_graphs_user_code_collects(void **state) {
    (void)state;
    uint64_t base = rct_seed(4242);
    size_t nconf = sizeof configs / sizeof configs[0];
    static const size_t steps[] = { 0, 1, 7, 100 };
    int rounds = rct_scale() >= 1.0 ? 3 : 1;
    for (int round = 0; round < rounds; round++)
        for (size_t i = 0; i < nconf; i++)
            for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
                config cfg = configs[i];
                cfg.n = rct_scaled(cfg.n / 4, 60);
                run_chaos(&cfg, base + (uint64_t)round * 1000 + i * 10 + k, steps[k]);
            }
    size_t count = rct_scaled(100, 12);
    for (size_t i = 0; i < count; i++) {
        config cfg = configs[i % nconf];
        cfg.n = 3 + i % 17;
        run_chaos(&cfg, base + 100000 + i, steps[i % 4]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_graphs),
        cmocka_unit_test(test_random_small_graphs),
        cmocka_unit_test(test_random_graphs_user_code_collects),
    };
    return rct_run_tests(tests, NULL, NULL);
}
