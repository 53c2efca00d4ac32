/* rc-test: oom */
/* test_gc_oom.c - SQLite-style out-of-memory sweep over a collector
 * workload (see test_oom_sweep.c): for N = 0, 1, 2, ... the N-th allocation
 * of a fresh runtime fails (rc_runtime_fail_after), whether it happens while
 * the workload builds its objects or inside the collection: in a finalizer,
 * a weak-reference callback, a gc callback, the creation of the garbage list
 * or an append to it, or in get_objects / get_referrers / get_referents.
 *
 * Each run must leave every live object intact (fields, contents, counts),
 * free what the collection found (each object destroyed and finalized
 * exactly once), keep the uncollectable objects alive whether or not they
 * could be recorded in rc_gc_garbage (each recorded at most once), report
 * the exact number found, leak nothing (the object count returns to its
 * baseline; valgrind and ASan watch the rest), and leave the runtime fully
 * usable: a second collection finds exactly what the first could not
 * record, and the same workload then succeeds. Run with and without
 * RC_GC_DEBUG_SAVEALL, stop-the-world and in the bounded-pause mode's
 * smallest steps. */
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

#define NSLOT 2
#define MAXID 64
#define MAGIC(id) (0x00DD0000u ^ (unsigned)(id))

typedef struct gnode {
    rc_obj ob;
    int id;
    unsigned magic;
    rc_obj *slot[NSLOT];
} gnode;

static int g_destroyed[MAXID], g_finalized[MAXID], g_isfin[MAXID];
static int g_next_id, g_wcb, g_fin_cycles, g_violations;
static size_t g_inc_step;          /* 0: the workload collects stop-the-world */

/* the workload's objects (borrowed pointers, plus the references noted) */
static struct {
    rc_obj *H, *LOG, *wr;           /* held by the test */
    gnode *u1, *u2;                 /* borrowed: the pair keeps itself alive */
    rc_obj *L1, *d, *s, *t;
    gnode *n1, *n2, *h, *ring[4];
    int built;
    long found;
    rc_gc_stats before[3];
} W;

static int gnode_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    gnode *n = (gnode *)self;
    for (int i = 0; i < NSLOT; i++)
        if (n->slot[i]) {
            int r = visit(n->slot[i], arg);
            if (r)
                return r;
        }
    return 0;
}

static void drop_slots(gnode *n) {
    for (int i = 0; i < NSLOT; i++) {
        rc_obj *x = n->slot[i];
        n->slot[i] = NULL;
        rc_xdecref(x);
    }
}

static void gnode_clear(rc_obj *self) {
    drop_slots((gnode *)self);
}

static void gnode_destroy(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_destroyed[n->id]++;
    if (n->magic != MAGIC(n->id))
        g_violations++;
    drop_slots(n);
}

/* allocates: a list with an int, appended to the log; a new garbage cycle */
static void gnode_finalize(rc_obj *self) {
    gnode *n = (gnode *)self;
    g_finalized[n->id]++;
    rc_runtime *rt = rc_runtime_of(self);
    rc_obj *l = rc_list(rt);
    if (l) {
        rc_obj *v = rc_int(rt, 1234567 + n->id);
        if (v) {
            rc_list_append(rt, l, v);
            rc_decref(v);
        }
        if (W.LOG)
            rc_list_append(rt, W.LOG, l);
        rc_decref(l);
    }
    rc_obj *c = rc_list(rt);
    if (c) {
        if (rc_list_append(rt, c, c) == 0)
            g_fin_cycles++;
        rc_decref(c);
    }
}

static int gnode_hash(rc_obj *self, uint64_t *out) {
    *out = (uint64_t)(uintptr_t)self >> 4;
    return 0;
}

static const rc_type node_type = {
    .name = "oom_node", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .hash = gnode_hash,
};
static const rc_type fin_type = {
    .name = "oom_fin", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .finalize = gnode_finalize,
};
static const rc_type noclear_type = {
    .name = "oom_noclear", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = gnode_traverse, .destroy = gnode_destroy,
};

static gnode *mk(rc_runtime *rt, const rc_type *t) {
    gnode *n = (gnode *)rc_new(rt, t);
    if (!n)
        return NULL;
    assert_true(g_next_id < MAXID);
    n->id = g_next_id++;
    n->magic = MAGIC(n->id);
    g_isfin[n->id] = t == &fin_type;
    return n;
}

static void link_(gnode *a, int i, void *b) {
    a->slot[i] = b;
    rc_incref(b);
}

static void weak_cb(rc_obj *ref, void *arg) {
    (void)arg;
    g_wcb++;
    if (rc_weakref_get(ref))
        g_violations++;
    rc_runtime *rt = rc_runtime_of(ref);
    rc_obj *s = rc_str_printf(rt, "weakref %d died", g_wcb);
    if (s) {
        if (W.LOG)
            rc_list_append(rt, W.LOG, s);
        rc_decref(s);
    }
}

/* allocates at START (a tuple), walks the young generation at STOP */
static void gc_cb(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)info;
    (void)arg;
    if (phase == RC_GC_START) {
        rc_obj *v = rc_int(rt, 99999999);
        rc_obj *t = v ? rc_tuple(rt, 2, v, v) : NULL;
        rc_xdecref(t);
        rc_xdecref(v);
    } else {
        rc_obj *l = rc_gc_get_objects(rt, 0);
        rc_xdecref(l);
    }
}

/* ---- the workload ------------------------------------------------------- */

typedef struct pool { rc_obj *o[64]; int n; } pool;

static void *keep(pool *p, void *o) {
    if (o)
        p->o[p->n++] = o;
    return o;
}

static void drop_all(pool *p) {
    while (p->n > 0)
        rc_decref(p->o[--p->n]);
}

#define TRY(x) do { if (!(x)) goto fail; } while (0)
#define TRYI(x) do { if ((x) < 0) goto fail; } while (0)

/* Returns 0 when every allocation of the build succeeded (the collection
 * then ran), else the runtime's error code. */
static int workload(rc_runtime *rt, int saveall) {
    pool p = { .n = 0 };
    memset(&W, 0, sizeof W);
    TRY(W.H = rc_list(rt));
    TRY(W.LOG = rc_list(rt));
    /* live: L1 = [L1, d, s]; d = {"k": n1}; n1 <-> n2 (finalizable); s = {h};
     * h -> s; H = [t]; t = (L1, 7777777) */
    TRY(W.L1 = keep(&p, rc_list(rt)));
    TRYI(rc_list_append(rt, W.L1, W.L1));
    TRY(W.d = keep(&p, rc_dict(rt)));
    TRYI(rc_list_append(rt, W.L1, W.d));
    TRY(W.n1 = keep(&p, mk(rt, &fin_type)));
    TRY(W.n2 = keep(&p, mk(rt, &fin_type)));
    link_(W.n1, 0, W.n2);
    link_(W.n2, 0, W.n1);
    TRYI(rc_dict_set_str(rt, W.d, "k", &W.n1->ob));
    TRY(W.s = keep(&p, rc_set(rt)));
    TRY(W.h = keep(&p, mk(rt, &node_type)));
    TRYI(rc_set_add(rt, W.s, &W.h->ob));
    link_(W.h, 0, W.s);
    TRYI(rc_list_append(rt, W.L1, W.s));
    rc_obj *v = keep(&p, rc_int(rt, 7777777));
    TRY(v);
    TRY(W.t = keep(&p, rc_tuple(rt, 2, W.L1, v)));
    TRYI(rc_list_append(rt, W.H, W.t));
    /* garbage: a ring of finalizable nodes with a weak reference, and an
     * uncollectable pair */
    for (int i = 0; i < 4; i++)
        TRY(W.ring[i] = keep(&p, mk(rt, &fin_type)));
    for (int i = 0; i < 4; i++)
        link_(W.ring[i], 0, W.ring[(i + 1) % 4]);
    TRY(W.wr = rc_weakref_new(rt, &W.ring[0]->ob, weak_cb, NULL));
    TRY(W.u1 = keep(&p, mk(rt, &noclear_type)));
    TRY(W.u2 = keep(&p, mk(rt, &noclear_type)));
    link_(W.u1, 0, W.u2);
    link_(W.u2, 0, W.u1);
    drop_all(&p);                   /* everything but H, LOG and wr is referred to
                                       from H or is garbage now */
    W.built = 1;

    /* the collection */
    rc_gc_get_stats(rt, W.before);
    rc_gc_set_debug(rt, saveall ? RC_GC_DEBUG_SAVEALL : 0);
    if (g_inc_step) {
        /* the bounded-pause mode: every phase, the garbage's included, in
         * steps of g_inc_step objects */
        rc_gc_set_incremental(rt, g_inc_step);
        for (int more = rc_gc_collect_incremental(rt); more; more = rc_gc_step(rt)) {
        }
        rc_gc_set_incremental(rt, 0);
        rc_gc_stats after[3];
        rc_gc_get_stats(rt, after);
        W.found = (long)(after[2].collected - W.before[2].collected +
                         after[2].uncollectable - W.before[2].uncollectable);
    } else {
        W.found = rc_gc_collect(rt, 2);
    }
    rc_gc_set_debug(rt, 0);

    /* introspection: may fail, cleanly */
    rc_obj *x = rc_gc_get_objects(rt, -1);
    if (x)
        rc_decref(x);
    else if (rc_error(rt) != RC_ENOMEM)
        return -1000;
    x = rc_gc_get_referrers(rt, &W.n1->ob);
    if (x) {
        if (rc_list_len(x) != 2)                      /* d and n2 */
            return -1001;
        rc_decref(x);
    } else if (rc_error(rt) != RC_ENOMEM) {
        return -1002;
    }
    x = rc_gc_get_referents(rt, W.L1);
    if (x) {
        if (rc_list_len(x) != 3)
            return -1003;
        rc_decref(x);
    } else if (rc_error(rt) != RC_ENOMEM) {
        return -1004;
    }
    return 0;
fail:
    drop_all(&p);
    if (!W.u2)
        W.u1 = NULL;                /* freed with the pool */
    return rc_error(rt) ? rc_error(rt) : -999;
}

static int in_garbage(rc_runtime *rt, rc_obj *o) {
    rc_obj *g = rc_gc_garbage(rt);
    assert_non_null(g);
    int n = 0;
    for (size_t i = 0; i < rc_list_len(g); i++)
        n += rc_list_get(rt, g, i) == o;
    return n;
}

/* After a successful build and collection (injection off): what must hold. */
static void check_after_collection(rc_runtime *rt, int saveall, long n) {
    /* the number found: the ring and the pair */
    if (W.found != 6)
        fail_msg("N=%ld: rc_gc_collect returned %ld, expected 6", n, W.found);
    rc_gc_stats s[3];
    rc_gc_get_stats(rt, s);
    assert_int_equal(s[2].collections, W.before[2].collections + 1);
    assert_int_equal(s[2].collected - W.before[2].collected, saveall ? 6 : 4);
    assert_int_equal(s[2].uncollectable - W.before[2].uncollectable, saveall ? 0 : 2);
    /* the live structure is intact */
    assert_int_equal(rc_list_len(W.H), 1);
    assert_ptr_equal(rc_list_get(rt, W.H, 0), W.t);
    assert_int_equal(rc_tuple_len(W.t), 2);
    assert_ptr_equal(rc_tuple_get(rt, W.t, 0), W.L1);
    assert_int_equal(rc_int_value(rc_tuple_get(rt, W.t, 1)), 7777777);
    assert_int_equal(rc_list_len(W.L1), 3);
    assert_ptr_equal(rc_list_get(rt, W.L1, 0), W.L1);
    assert_ptr_equal(rc_list_get(rt, W.L1, 1), W.d);
    assert_ptr_equal(rc_list_get(rt, W.L1, 2), W.s);
    assert_int_equal(rc_refcount(W.L1), 2);
    assert_ptr_equal(rc_dict_get_str(rt, W.d, "k"), &W.n1->ob);
    assert_int_equal(rc_dict_len(W.d), 1);
    assert_int_equal(rc_set_len(W.s), 1);
    assert_int_equal(rc_set_contains(rt, W.s, &W.h->ob), 1);
    assert_ptr_equal(W.h->slot[0], W.s);
    assert_ptr_equal(W.n1->slot[0], &W.n2->ob);
    assert_ptr_equal(W.n2->slot[0], &W.n1->ob);
    assert_int_equal(rc_refcount(&W.n1->ob), 2);
    assert_int_equal(rc_refcount(&W.n2->ob), 1);
    for (gnode *x = W.n1; x; x = x == W.n1 ? W.n2 : x == W.n2 ? W.h : NULL) {
        assert_int_equal(x->magic, MAGIC(x->id));
        assert_int_equal(g_destroyed[x->id], 0);
        assert_int_equal(g_finalized[x->id], 0);
        assert_int_equal(rc_gc_is_finalized(&x->ob), 0);
    }
    /* the ring: finalized once; freed (or, with SAVEALL, kept whole) */
    for (int i = 0; i < 4; i++) {
        int id = W.ring[i]->id;
        assert_int_equal(g_finalized[id], 1);
        assert_int_equal(g_destroyed[id], saveall ? 0 : 1);
        if (saveall) {
            assert_ptr_equal(W.ring[i]->slot[0], &W.ring[(i + 1) % 4]->ob);
            assert_true(in_garbage(rt, &W.ring[i]->ob) <= 1);
        }
    }
    assert_null(rc_weakref_get(W.wr));
    assert_int_equal(g_wcb, 1);
    /* the pair: alive, intact, recorded at most once */
    assert_int_equal(g_destroyed[W.u1->id] + g_destroyed[W.u2->id], 0);
    assert_ptr_equal(W.u1->slot[0], &W.u2->ob);
    assert_ptr_equal(W.u2->slot[0], &W.u1->ob);
    assert_true(in_garbage(rt, &W.u1->ob) <= 1);
    assert_true(in_garbage(rt, &W.u2->ob) <= 1);
    assert_int_equal(g_violations, 0);

    /* usable: the next collection finds exactly what could not be recorded
     * (a cycle none of whose members is in the garbage list) and the cycles
     * the finalizers built */
    int ring_saved = 0;
    if (saveall)
        for (int i = 0; i < 4; i++)
            ring_saved += in_garbage(rt, &W.ring[i]->ob);
    int pair_saved = in_garbage(rt, &W.u1->ob) + in_garbage(rt, &W.u2->ob);
    long expect = g_fin_cycles + (saveall && ring_saved == 0 ? 4 : 0) + (pair_saved == 0 ? 2 : 0);
    long again = rc_gc_collect(rt, 2);
    if (again != expect)
        fail_msg("N=%ld: second collection found %ld, expected %ld", n, again, expect);
    assert_int_equal(in_garbage(rt, &W.u1->ob) + in_garbage(rt, &W.u2->ob), pair_saved ? pair_saved : 2);
}

/* Release everything the workload left (built or not); the object count
 * returns to base plus the garbage list. */
static void clean_up(rc_runtime *rt, size_t base, long n) {
    rc_gc_set_debug(rt, 0);
    if (W.u1 && W.u2) {
        /* break the uncollectable pair by hand (it keeps itself alive) */
        gnode *a = W.u1;
        rc_incref(&a->ob);
        drop_slots(W.u2);
        drop_slots(a);
        rc_decref(&a->ob);
    }
    rc_obj *g = rc_gc_garbage(rt);
    assert_non_null(g);
    rc_list_clear(g);
    rc_xdecref(W.H);
    rc_xdecref(W.LOG);
    rc_xdecref(W.wr);
    memset(&W, 0, sizeof W);
    /* (the finalizers of the live part build new cycles while it goes) */
    for (int i = 0; i < 4 && rc_gc_collect(rt, 2) > 0; i++) {
    }
    assert_int_equal(rc_gc_collect(rt, 2), 0);
    size_t objects = rc_runtime_object_count(rt);
    if (objects != base)
        fail_msg("N=%ld: %zu objects left, expected %zu", n, objects, base);
    for (int i = 0; i < g_next_id; i++) {
        if (g_destroyed[i] != 1)
            fail_msg("N=%ld: node %d destroyed %d times", n, i, g_destroyed[i]);
        if (g_isfin[i] && g_finalized[i] != 1)
            fail_msg("N=%ld: node %d finalized %d times", n, i, g_finalized[i]);
    }
    if (rc_runtime_debug_errors(rt) != 0)
        fail_msg("N=%ld: %zu debug errors", n, rc_runtime_debug_errors(rt));
}

static void reset_counters(void) {
    memset(g_destroyed, 0, sizeof g_destroyed);
    memset(g_finalized, 0, sizeof g_finalized);
    memset(g_isfin, 0, sizeof g_isfin);
    g_next_id = 0;
    g_wcb = 0;
    g_fin_cycles = 0;
    g_violations = 0;
}

static void sweep(int saveall) {
    long n;
    int clean = 0, inside = 0;
    FILE *report = tmpfile();
    assert_non_null(report);
    for (n = 0; n < 100000 && !clean; n++) {
        rc_config c;
        rc_config_init(&c);
        c.debug = 1;
        c.gc_disabled = 1;
        c.report = report;
        rc_runtime *rt = rc_runtime_new(&c);
        assert_non_null(rt);
        assert_int_equal(rc_gc_callback_add(rt, gc_cb, NULL), 0);
        size_t base = rc_runtime_object_count(rt);
        reset_counters();
        rc_runtime_fail_after(rt, n);
        int r = workload(rt, saveall);
        long injected = rc_runtime_fail_after(rt, -1);
        if (injected == 0) {
            if (r != 0)
                fail_msg("N=%ld: workload failed with %d (%s) without an injected failure", n, r,
                         rc_error_message(rt));
            clean = 1;
        } else if (r != 0 && r != RC_ENOMEM) {
            fail_msg("N=%ld: expected RC_ENOMEM, got %d (%s)", n, r, rc_error_message(rt));
        }
        if (r == 0) {
            if (injected)
                inside++;       /* the failure hit the collection or the introspection */
            check_after_collection(rt, saveall, n);
        }
        clean_up(rt, base, n);
        /* fully usable: the same workload succeeds */
        reset_counters();
        rc_error_clear(rt);
        r = workload(rt, saveall);
        if (r != 0)
            fail_msg("N=%ld: runtime unusable after the failure: %d %s", n, r, rc_error_message(rt));
        check_after_collection(rt, saveall, n);
        clean_up(rt, base, n);
        assert_int_equal(rc_gc_callback_remove(rt, gc_cb, NULL), 0);
        rc_runtime_free(rt);
    }
    fclose(report);
    assert_true(clean);
    printf("gc oom sweep%s: %ld allocation points, %d inside the collection\n",
           saveall ? " (SAVEALL)" : "", n - 1, inside);
    assert_true(n > 30);
    assert_true(inside >= 8);
}

static void test_sweep(void **state) {
    (void)state;
    sweep(0);
}

static void test_sweep_saveall(void **state) {
    (void)state;
    sweep(1);
}

static void test_sweep_incremental(void **state) {
    (void)state;
    g_inc_step = 1;
    sweep(0);
    g_inc_step = 0;
}

static void test_sweep_incremental_saveall(void **state) {
    (void)state;
    g_inc_step = 2;
    sweep(1);
    g_inc_step = 0;
}

/* The garbage list cannot grow: the uncollectable objects stay alive (in
 * the oldest generation) and are recorded by a later collection. */
static void test_garbage_list_growth_fails(void **state) {
    (void)state;
    reset_counters();
    rc_config c;
    rc_config_init(&c);
    c.debug = 1;
    c.gc_disabled = 1;
    FILE *report = tmpfile();       /* the pair is reported alive at rc_runtime_free */
    assert_non_null(report);
    c.report = report;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    gnode *a = mk(rt, &noclear_type), *b = mk(rt, &noclear_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    assert_true(rc_runtime_fail_after(rt, -1) >= 1);
    assert_int_equal(g_destroyed[0] + g_destroyed[1], 0);
    assert_ptr_equal(a->slot[0], &b->ob);
    rc_obj *all = rc_gc_get_objects(rt, 2);
    int seen = 0;
    for (size_t i = 0; i < rc_list_len(all); i++)
        seen += rc_list_get(rt, all, i) == &a->ob || rc_list_get(rt, all, i) == &b->ob;
    assert_int_equal(seen, 2);
    rc_decref(all);
    assert_int_equal(rc_gc_collect(rt, 2), 2);
    assert_int_equal(rc_list_len(rc_gc_garbage(rt)), 2);
    assert_int_equal(rc_runtime_debug_errors(rt), 0);
    rc_runtime_free(rt);
    fclose(report);
    assert_int_equal(g_destroyed[0], 1);
    assert_int_equal(g_destroyed[1], 1);
}

/* A collection triggered inside a successful call must not leave an error
 * on the runtime ("a successful call leaves it as it was"), even when an
 * allocation inside the collection failed (here: the garbage list). */
static void test_automatic_collection_keeps_error_state(void **state) {
    (void)state;
    reset_counters();
    rc_config c;
    rc_config_init(&c);
    c.gc_threshold[0] = 2;
    FILE *report = tmpfile();
    assert_non_null(report);
    c.report = report;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    gnode *a = mk(rt, &noclear_type), *b = mk(rt, &noclear_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_error_clear(rt);
    rc_runtime_fail_after(rt, 1);       /* the list succeeds, the garbage list's growth does not */
    rc_obj *l = rc_list(rt);            /* count 3 > 2: collects */
    rc_runtime_fail_after(rt, -1);
    assert_non_null(l);
    rc_gc_stats st[3];
    rc_gc_get_stats(rt, st);
    assert_int_equal(st[0].collections, 1);
    assert_int_equal(st[0].uncollectable, 2);
    /* expected 0; got RC_ENOMEM ("out of memory") */
    assert_int_equal(rc_error(rt), 0);
    rc_decref(l);
    rc_runtime_free(rt);
    fclose(report);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_sweep_saveall),
        cmocka_unit_test(test_sweep_incremental),
        cmocka_unit_test(test_sweep_incremental_saveall),
        cmocka_unit_test(test_garbage_list_growth_fails),
        cmocka_unit_test(test_automatic_collection_keeps_error_state),
    };
    return rct_run_tests(tests, NULL, NULL);
}
