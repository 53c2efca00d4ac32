/* fuzz_gc_graph.c - random object graphs under both collector modes,
 * against a reachability model.
 *
 * Input: byte 0 holds flags (bit 0: object debug mode; bit 1: start in the
 * bounded-pause mode; bits 2-3: thresholds: default, 1/1/1, 5/2/2, 50/3/3);
 * then operations, an opcode byte and its arguments each:
 *
 *   new node (plain, or with a finalizer that does nothing, resurrects its
 *   node, allocates new nodes, or both), link and unlink a slot of a node
 *   reached from a root, drop a root, promote a reached node to a root,
 *   take and drop weak references (their callbacks may allocate), a
 *   collection of generation 0..2, thresholds, the bounded-pause mode on or
 *   off, incremental steps, the collector enabled or disabled, a fresh
 *   garbage cycle, and the full check.
 *
 * Nodes are a user GC type with four slots. The target holds the roots (an
 * array of strong references) and keeps the edges of every node in a model
 * (edge[id][slot]); finalizers and callbacks that allocate make plain nodes
 * linked in a ring, and keep the first as a root or drop them all; a
 * resurrecting finalizer adds its node to the roots. Checked:
 *
 *   - at every step through a slot, the node is intact (magic) and the slot
 *     holds what the model says: no live node was cleared;
 *   - a finalizer runs at most once per node, destroy exactly once, and a
 *     node with a finalizer is finalized before it is destroyed;
 *   - a weak reference is dead exactly when its callback has run (checked
 *     after every operation), its callback runs at most once, with the
 *     reference already dead, and before its target is destroyed;
 *   - the full check: after collecting until a collection runs no user code
 *     (finishing any incremental collection), the live nodes are exactly
 *     those reachable from the roots through the model's edges (roots
 *     include resurrected nodes and nodes kept by user code), every live
 *     node is tracked, rc_gc_is_finalized says whether its finalizer ran,
 *     and rc_runtime_object_count is the baseline plus the live nodes and
 *     the weak reference objects the target holds;
 *   - at the end, with every root and weak reference dropped and the
 *     collector run, no node is alive and the object count is the baseline.
 *
 * Finalizers and callbacks that allocate, with low thresholds and the
 * bounded-pause mode on, run collections and incremental steps from inside
 * a deallocation by reference counting and from inside a collection. */
#include "fuzz.h"

#include <string.h>

#include <recycle.h>

#define NSLOT     4
#define MAXN      1024       /* nodes per input */
#define MAXROOTS  4096
#define MAXWEAK   256
#define MAGIC(id) (0x6e0de000u ^ (uint32_t)(id))

enum { FIN_NONE, FIN_PLAIN, FIN_RESURRECT, FIN_ALLOC, FIN_ALLOC_RESURRECT };

typedef struct gnode {
    rc_obj ob;
    uint32_t id;
    uint32_t magic;
    rc_obj *slot[NSLOT];
} gnode;

typedef struct nstate {
    int made;          /* 1 once created */
    int alive;         /* created and not destroyed */
    int destroyed, finalized, cleared;
    int fin;           /* FIN_* */
    int fin_arg;       /* allocating finalizers: how many nodes, kept or not */
    int edge[NSLOT];   /* the model: id of the slot's node, or -1 */
} nstate;

typedef struct wstate {
    rc_obj *ref;       /* held by the target; NULL once dropped */
    int target;
    int cb_ran;
    int cb_arg;        /* 0: callback only counts; else allocates (see user_alloc) */
} wstate;

static rc_runtime *g_rt;
static nstate g_n[MAXN];
static int g_nn;
static rc_obj *g_roots[MAXROOTS];
static int g_nroots;
static wstate g_w[MAXWEAK];
static int g_nw;
static long g_user_runs;     /* finalizers and callbacks run so far */
static int g_teardown;       /* rc_runtime_free is running */

static int node_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    gnode *n = (gnode *)self;
    for (int s = 0; s < NSLOT; s++)
        if (n->slot[s]) {
            int r = visit(n->slot[s], arg);
            if (r)
                return r;
        }
    return 0;
}

/* Empty every slot first, then drop the references: a decref runs user
 * code, which must not find a half-emptied node. */
static void node_drop_slots(gnode *n) {
    rc_obj *old[NSLOT];
    for (int s = 0; s < NSLOT; s++) {
        old[s] = n->slot[s];
        n->slot[s] = NULL;
    }
    for (int s = 0; s < NSLOT; s++)
        rc_xdecref(old[s]);
}

static nstate *state_of(gnode *n, const char *when) {
    FZ_CHECK(n->id < MAXN && n->magic == MAGIC(n->id), "%s: a node with a bad magic", when);
    return &g_n[n->id];
}

static void node_clear(rc_obj *self) {
    gnode *n = (gnode *)self;
    state_of(n, "clear")->cleared++;
    node_drop_slots(n);
}

static void node_destroy(rc_obj *self) {
    gnode *n = (gnode *)self;
    nstate *ns = state_of(n, "destroy");
    FZ_CHECK(ns->alive && ns->destroyed == 0, "node %u destroyed twice", n->id);
    FZ_CHECK(g_teardown || ns->fin == FIN_NONE || ns->finalized == 1,
             "node %u destroyed without its finalizer having run", n->id);
    for (int w = 0; w < g_nw; w++)
        FZ_CHECK(!g_w[w].ref || g_w[w].target != (int)n->id || g_w[w].cb_ran,
                 "node %u destroyed before the callback of weak reference %d ran", n->id, w);
    ns->destroyed++;
    ns->alive = 0;
    n->magic = 0;
    node_drop_slots(n);
}

static void node_finalize(rc_obj *self);

static const rc_type node_type = {
    .name = "fznode", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = node_traverse, .clear = node_clear, .destroy = node_destroy,
};
static const rc_type fin_type = {
    .name = "fzfin", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = node_traverse, .clear = node_clear, .destroy = node_destroy,
    .finalize = node_finalize,
};

/* A new node (a new reference) or NULL when the input's id space is used
 * up. Allocating may run a collection or an incremental step. */
static gnode *new_node(int fin, int fin_arg) {
    if (g_nn >= MAXN)
        return NULL;
    int id = g_nn++;
    nstate *ns = &g_n[id];
    memset(ns, 0, sizeof *ns);
    for (int s = 0; s < NSLOT; s++)
        ns->edge[s] = -1;
    ns->made = ns->alive = 1;
    ns->fin = fin;
    ns->fin_arg = fin_arg;
    gnode *n = (gnode *)rc_new(g_rt, fin == FIN_NONE ? &node_type : &fin_type);
    FZ_CHECK(n != NULL, "rc_new failed: %d %s", rc_error(g_rt), rc_error_message(g_rt));
    n->id = (uint32_t)id;
    n->magic = MAGIC(id);
    return n;
}

static void add_root(rc_obj *o) {
    rc_incref(o);
    g_roots[g_nroots++] = o;
}

/* Store y (may be NULL) in slot s of x, model first: the decref of the old
 * child runs user code, which must see the model up to date. */
static void set_slot(gnode *x, int s, gnode *y) {
    rc_obj *old = x->slot[s];
    if (y)
        rc_incref(&y->ob);
    x->slot[s] = y ? &y->ob : NULL;
    g_n[x->id].edge[s] = y ? (int)y->id : -1;
    rc_xdecref(old);
}

/* What allocating user code does: 1..3 plain nodes in a ring (arg bits 0-1),
 * the first kept as a root when bit 2 is set, else all dropped (a garbage
 * cycle for a later collection). Every allocation may collect. */
static void user_alloc(int arg) {
    int k = arg % 3 + 1;
    gnode *ring[3];
    int made = 0;
    for (int i = 0; i < k; i++) {
        ring[i] = new_node(FIN_NONE, 0);
        if (!ring[i])
            break;
        made++;
    }
    for (int i = 0; i < made; i++)
        set_slot(ring[i], 0, ring[(i + 1) % made]);
    if (made > 0 && (arg & 4) && g_nroots < MAXROOTS)
        add_root(&ring[0]->ob);
    for (int i = 0; i < made; i++)
        rc_decref(&ring[i]->ob);
}

static void node_finalize(rc_obj *self) {
    gnode *n = (gnode *)self;
    nstate *ns = state_of(n, "finalize");
    FZ_CHECK(ns->alive && ns->finalized == 0, "node %u finalized twice", n->id);
    FZ_CHECK(ns->cleared == 0, "node %u finalized after it was cleared", n->id);
    for (int s = 0; s < NSLOT; s++) {
        int want = ns->edge[s];
        FZ_CHECK(want < 0 ? n->slot[s] == NULL
                          : n->slot[s] != NULL && ((gnode *)n->slot[s])->id == (uint32_t)want,
                 "node %u reaches its finalizer with slot %d changed", n->id, s);
    }
    ns->finalized++;
    g_user_runs++;
    if (ns->fin == FIN_ALLOC || ns->fin == FIN_ALLOC_RESURRECT)
        user_alloc(ns->fin_arg);
    if ((ns->fin == FIN_RESURRECT || ns->fin == FIN_ALLOC_RESURRECT) && g_nroots < MAXROOTS)
        add_root(self);
}

static void weak_callback(rc_obj *ref, void *arg) {
    int w = (int)(intptr_t)arg;
    FZ_CHECK(w >= 0 && w < g_nw && g_w[w].ref == ref, "a callback with a foreign argument");
    FZ_CHECK(g_w[w].cb_ran == 0, "the callback of weak reference %d ran twice", w);
    FZ_CHECK(rc_weakref_get(ref) == NULL, "weak reference %d is alive in its callback", w);
    g_w[w].cb_ran = 1;
    g_user_runs++;
    if (g_w[w].cb_arg)
        user_alloc(g_w[w].cb_arg);
}

/* ---- navigation: a node reached from a root through live slots ---- */

static gnode *step_to(gnode *x, int s) {
    nstate *ns = state_of(x, "a step");
    FZ_CHECK(ns->alive, "node %u is reachable but was destroyed", x->id);
    rc_obj *c = x->slot[s];
    int want = ns->edge[s];
    FZ_CHECK(want < 0 ? c == NULL : c != NULL && ((gnode *)c)->id == (uint32_t)want,
             "slot %d of live node %u holds %d, the model says %d", s, x->id,
             c ? (int)((gnode *)c)->id : -1, want);
    return c ? (gnode *)c : x;
}

static gnode *navigate(fz_in *in) {
    if (g_nroots == 0)
        return NULL;
    uint8_t r = fz_u8(in), path = fz_u8(in);
    gnode *x = (gnode *)g_roots[r % g_nroots];
    for (int k = 0; k < (path & 3); k++)
        x = step_to(x, (path >> (2 + 2 * k)) & 3);
    state_of(x, "navigation");
    return x;
}

/* ---- checks ---- */

/* A weak reference is dead exactly when its callback has run, with one
 * exception: while a bounded-pause collection is in progress, an object of
 * its set whose count reaches zero is deferred (docs/gc.md): its weak
 * references read dead at once, and its finalizer, callbacks and destroy
 * run when the collection ends. strict = 0 allows that state. */
static void check_weakrefs(int strict) {
    for (int w = 0; w < g_nw; w++) {
        if (!g_w[w].ref)
            continue;
        rc_obj *t = rc_weakref_get(g_w[w].ref);
        const nstate *ns = &g_n[g_w[w].target];
        if (g_w[w].cb_ran) {
            FZ_CHECK(t == NULL, "weak reference %d is alive after its callback", w);
        } else if (t == NULL) {
            FZ_CHECK(!strict && rc_gc_get_incremental(g_rt) > 0 && ns->alive,
                     "weak reference %d died without its callback (target %d: alive %d, "
                     "finalized %d)", w, g_w[w].target, ns->alive, ns->finalized);
        } else {
            FZ_CHECK(((gnode *)t)->id == (uint32_t)g_w[w].target && ns->alive,
                     "weak reference %d points to the wrong node", w);
        }
    }
}

/* Collect until a full collection runs no finalizer and no callback, so
 * that whatever user code left behind has been collected too. Bounded:
 * each finalizer runs once and user code makes no finalizable nodes. */
static void collect_until_quiet(void) {
    for (int round = 0;; round++) {
        long before = g_user_runs;
        rc_gc_collect(g_rt, 2);
        FZ_CHECK(rc_gc_step(g_rt) == 0, "an incremental collection is pending after rc_gc_collect");
        if (g_user_runs == before)
            break;
        FZ_CHECK(round < 4 * MAXN, "collections keep running user code");
    }
}

static gnode *g_queue[MAXN];
static unsigned char g_reach[MAXN];
static size_t g_base;        /* rc_runtime_object_count before the first node */

/* The oracle. The walk follows the real slots from the roots, checking at
 * each step that the slot holds what the model's edge says, so the set it
 * reaches is the model's reachable set. */
static void full_check(void) {
    collect_until_quiet();
    memset(g_reach, 0, (size_t)g_nn);
    int qh = 0, qt = 0;
    for (int r = 0; r < g_nroots; r++) {
        gnode *x = (gnode *)g_roots[r];
        nstate *ns = state_of(x, "a root");
        FZ_CHECK(ns->alive, "root node %u was destroyed", x->id);
        if (!g_reach[x->id]) {
            g_reach[x->id] = 1;
            g_queue[qt++] = x;
        }
    }
    while (qh < qt) {
        gnode *x = g_queue[qh++];
        nstate *ns = &g_n[x->id];
        FZ_CHECK(ns->alive, "reachable node %u was destroyed", x->id);
        FZ_CHECK(ns->cleared == 0, "reachable node %u was cleared", x->id);
        FZ_CHECK(rc_gc_is_tracked(&x->ob) == 1, "reachable node %u is not tracked", x->id);
        FZ_CHECK(rc_gc_is_finalized(&x->ob) == (ns->finalized > 0),
                 "rc_gc_is_finalized of node %u is %d, its finalizer ran %d times", x->id,
                 rc_gc_is_finalized(&x->ob), ns->finalized);
        for (int s = 0; s < NSLOT; s++) {
            gnode *c = step_to(x, s);
            if (c != x && !g_reach[c->id]) {
                g_reach[c->id] = 1;
                g_queue[qt++] = c;
            }
        }
    }
    size_t alive = 0, weak = 0;
    for (int id = 0; id < g_nn; id++) {
        FZ_CHECK(g_n[id].alive == g_reach[id], "node %d is %s but %s from the roots", id,
                 g_n[id].alive ? "alive" : "dead", g_reach[id] ? "reachable" : "unreachable");
        alive += g_n[id].alive != 0;
    }
    for (int w = 0; w < g_nw; w++)
        weak += g_w[w].ref != NULL;
    check_weakrefs(1);
    size_t count = rc_runtime_object_count(g_rt);
    FZ_CHECK(count == g_base + alive + weak,
             "object count %zu, expected baseline %zu + %zu nodes + %zu weak references", count,
             g_base, alive, weak);
}

/* ---- operations ---- */

static void op_new(fz_in *in) {
    uint8_t a = fz_u8(in), b = fz_u8(in);
    int fin = a % 6 < 2 ? FIN_NONE : a % 6 - 1;   /* FIN_PLAIN .. FIN_ALLOC_RESURRECT */
    gnode *n = new_node(fin, b & 7);
    if (!n)
        return;
    if (g_nroots < MAXROOTS)
        add_root(&n->ob);
    if (a & 0x80) {                                /* point a slot at a reached node */
        gnode *y = navigate(in);
        if (y)
            set_slot(n, (a >> 3) & 3, y);
    }
    rc_decref(&n->ob);
}

static void op_link(fz_in *in, int unlink) {
    gnode *x = navigate(in);
    if (!x)
        return;
    int s = fz_u8(in) & 3;
    gnode *y = unlink ? NULL : navigate(in);
    set_slot(x, s, y);
}

static void op_drop_root(fz_in *in) {
    if (g_nroots == 0)
        return;
    int r = fz_u8(in) % g_nroots;
    rc_obj *o = g_roots[r];
    g_roots[r] = g_roots[--g_nroots];
    rc_decref(o);
}

static void op_weak(fz_in *in) {
    gnode *x = navigate(in);
    uint8_t a = fz_u8(in);
    if (!x || g_nw >= MAXWEAK)
        return;
    int w = g_nw++;
    g_w[w].target = (int)x->id;
    g_w[w].cb_ran = 0;
    g_w[w].cb_arg = a & 7;
    g_w[w].ref = NULL;
    rc_obj *ref = rc_weakref_new(g_rt, &x->ob, weak_callback, (void *)(intptr_t)w);
    FZ_CHECK(ref != NULL, "rc_weakref_new failed: %d", rc_error(g_rt));
    g_w[w].ref = ref;
    FZ_CHECK(rc_weakref_get(ref) == &x->ob, "a new weak reference does not give its target");
}

static void op_weak_drop(fz_in *in) {
    if (g_nw == 0)
        return;
    int w = fz_u8(in) % g_nw;
    rc_obj *ref = g_w[w].ref;
    g_w[w].ref = NULL;
    rc_xdecref(ref);
}

static void op_threshold(fz_in *in) {
    uint8_t a = fz_u8(in);
    if (a & 0x80)
        rc_gc_set_threshold(g_rt, 700, 10, 10);
    else
        rc_gc_set_threshold(g_rt, (size_t)(a & 15) + 1, (size_t)((a >> 4) & 3) + 1,
                            (size_t)((a >> 4) & 3) + 1);
}

static void op_steps(fz_in *in) {
    uint8_t a = fz_u8(in);
    if (a & 0x80) {
        rc_gc_collect_incremental(g_rt);
        return;
    }
    for (int k = (a & 7) + 1; k > 0; k--)
        if (rc_gc_step(g_rt) == 0)
            break;
}

/* Drop every root and weak reference, collect, again while finalizers
 * resurrect or keep nodes, until nothing is left. */
static void release_all(void) {
    for (int w = 0; w < g_nw; w++) {
        rc_obj *ref = g_w[w].ref;
        g_w[w].ref = NULL;
        rc_xdecref(ref);
    }
    for (int round = 0;; round++) {
        while (g_nroots > 0) {
            rc_obj *o = g_roots[--g_nroots];
            rc_decref(o);
        }
        collect_until_quiet();
        if (g_nroots == 0)
            break;
        FZ_CHECK(round < 4 * MAXN, "finalizers keep resurrecting");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const size_t presets[4][3] = { { 700, 10, 10 }, { 1, 1, 1 }, { 5, 2, 2 }, { 50, 3, 3 } };
    fz_in in;
    fz_init(&in, data, size);
    uint8_t flags = fz_u8(&in);
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.debug = flags & 1;
    g_rt = rc_runtime_new(&cfg);
    FZ_CHECK(g_rt != NULL, "rc_runtime_new failed");
    g_nn = g_nroots = g_nw = 0;
    g_user_runs = 0;
    g_teardown = 0;
    const size_t *t = presets[(flags >> 2) & 3];
    rc_gc_set_threshold(g_rt, t[0], t[1], t[2]);
    if (flags & 2)
        rc_gc_set_incremental(g_rt, 1 + (flags >> 4));
    g_base = rc_runtime_object_count(g_rt);

    for (int ops = 0; fz_more(&in) && ops < 1024; ops++) {
        uint8_t op = fz_u8(&in);
        switch (op % 15) {
        case 0: case 1: op_new(&in); break;
        case 2: op_link(&in, 0); break;
        case 3: op_link(&in, 1); break;
        case 4: op_drop_root(&in); break;
        case 5: {
            gnode *x = navigate(&in);
            if (x && g_nroots < MAXROOTS)
                add_root(&x->ob);
            break;
        }
        case 6: op_weak(&in); break;
        case 7: op_weak_drop(&in); break;
        case 8: rc_gc_collect(g_rt, fz_u8(&in) % 3); break;
        case 9: op_threshold(&in); break;
        case 10: rc_gc_set_incremental(g_rt, fz_u8(&in) % 33); break;
        case 11: op_steps(&in); break;
        case 12: full_check(); break;
        case 13:
            if (fz_u8(&in) & 1)
                rc_gc_enable(g_rt);
            else
                rc_gc_disable(g_rt);
            break;
        default: user_alloc(fz_u8(&in) & 3); break;
        }
        check_weakrefs(0);
    }

    full_check();
    release_all();
    for (int id = 0; id < g_nn; id++)
        FZ_CHECK(!g_n[id].alive, "node %d is alive with no root and no weak reference", id);
    size_t left = rc_runtime_object_count(g_rt);
    FZ_CHECK(left == g_base, "%zu objects left after releasing everything, baseline %zu", left,
             g_base);
    g_teardown = 1;
    rc_runtime_free(g_rt);
    g_rt = NULL;
    return 0;
}
