/* rc-test: whitebox threads */
/* test_recursion_guard.c - the runtime's recursion guard (object.h) as every
 * container uses it: repr of a list, tuple, dict or set that contains itself,
 * directly or through others, prints Python's "[...]", "(...)", "{...}",
 * "set(...)"; equality and hashing of such cycles, and repr, equality and
 * hashing of nesting deeper than RCO_MAX_PROTOCOL_DEPTH, fail cleanly with
 * RC_EOVERFLOW and leave the guard balanced; and the guard belongs to the
 * runtime, so two runtimes on two threads do not see each other's state.
 *
 * Sets hold no containers, so the set cases go through "box", a hashable
 * user type holding one reference: its repr and equality recurse into what
 * it holds (through rc_repr / rc_equal / rc_hash, as any slot must). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "object/object.h"
#include "rct.h"

#define DEEP (RCO_MAX_PROTOCOL_DEPTH + 500)

/* ---- box: a GC user type holding one reference ----------------------- */

typedef struct box {
    rc_obj ob;
    rc_obj *target;
} box;

/* Called from inside box_repr, once, when set (the threads test). */
static void (*g_box_repr_hook)(void);

static int box_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    box *b = (box *)self;
    return b->target ? visit(b->target, arg) : 0;
}

static void box_clear(rc_obj *self) {
    box *b = (box *)self;
    rc_obj *t = b->target;
    b->target = NULL;
    rc_xdecref(t);
}

/* Every box hashes alike, so that sets of boxes compare their boxes. */
static int box_hash(rc_obj *self, uint64_t *out) {
    (void)self;
    *out = 42;
    return 0;
}

static int box_equal(rc_obj *a, rc_obj *b) {
    if (rc_typeof(b) != rc_typeof(a))
        return 0;
    box *x = (box *)a, *y = (box *)b;
    if (!x->target || !y->target)
        return x->target == y->target;
    return rc_equal(rc_runtime_of(a), x->target, y->target);
}

static int box_repr(rc_obj *self, char *buf, size_t len) {
    box *b = (box *)self;
    if (g_box_repr_hook) {
        void (*hook)(void) = g_box_repr_hook;
        g_box_repr_hook = NULL;
        hook();
    }
    char inner[128] = "";
    if (b->target) {
        int k = rc_repr(rc_runtime_of(self), b->target, inner, sizeof inner);
        if (k < 0)
            return k;
    }
    return snprintf(buf, len, "box(%s)", inner);
}

static const rc_type box_type = {
    .name = "box",
    .size = sizeof(box),
    .flags = RC_TYPE_GC,
    .traverse = box_traverse,
    .clear = box_clear,
    .destroy = box_clear,
    .hash = box_hash,
    .equal = box_equal,
    .repr = box_repr,
};

/* A new box holding target (incref'd). */
static rc_obj *new_box(rc_runtime *rt, rc_obj *target) {
    box *b = (box *)rc_new(rt, &box_type);
    assert_non_null(b);
    if (target)
        rc_incref(target);
    b->target = target;
    return &b->ob;
}

/* A box (holding nothing yet) whose hash is its target's: hashing recurses. */
static int box_hash_deep(rc_obj *self, uint64_t *out) {
    box *b = (box *)self;
    if (!b->target)
        return box_hash(self, out);
    return rc_hash(rc_runtime_of(self), b->target, out);
}

static const rc_type hbox_type = {
    .name = "hbox",
    .size = sizeof(box),
    .flags = RC_TYPE_GC,
    .traverse = box_traverse,
    .clear = box_clear,
    .destroy = box_clear,
    .hash = box_hash_deep,
    .equal = box_equal,
    .repr = box_repr,
};

/* ---- helpers ---------------------------------------------------------- */

static rc_runtime *new_rt(void) {
    rc_config c;
    rc_config_init(&c);
    c.debug = 0;
    rc_runtime *rt = rc_runtime_new(&c);
    assert_non_null(rt);
    return rt;
}

/* The guard is balanced: nothing entered, nothing being printed. */
static void assert_guard_idle(const rc_runtime *rt) {
    assert_int_equal(rt->protocol_depth, 0);
    assert_null(rt->repr_top);
}

static void repr_is(rc_runtime *rt, rc_obj *o, const char *want) {
    char buf[512];
    int n = rc_repr(rt, o, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
    assert_guard_idle(rt);
}

/* op fails with RC_EOVERFLOW, recorded, and the guard is balanced after. */
static void assert_overflow(rc_runtime *rt, int r) {
    assert_int_equal(r, RC_EOVERFLOW);
    assert_int_equal(rc_error(rt), RC_EOVERFLOW);
    assert_non_null(strstr(rc_error_message(rt), "depth"));
    assert_guard_idle(rt);
    rc_error_clear(rt);
}

static void append(rc_runtime *rt, rc_obj *list, rc_obj *item) {
    assert_int_equal(rc_list_append(rt, list, item), 0);
}

static void dset(rc_runtime *rt, rc_obj *d, const char *key, rc_obj *value) {
    rc_obj *k = rc_str(rt, key);
    assert_non_null(k);
    assert_int_equal(rc_dict_set(rt, d, k, value), 0);
    rc_decref(k);
}

static void sadd_box(rc_runtime *rt, rc_obj *set, rc_obj *target) {
    rc_obj *b = new_box(rt, target);
    assert_int_equal(rc_set_add(rt, set, b), 0);
    rc_decref(b);
}

static uint64_t hash_of(rc_runtime *rt, rc_obj *o) {
    uint64_t h = 0;
    assert_int_equal(rc_hash(rt, o, &h), 0);
    return h;
}

/* ---- self-reference ---------------------------------------------------- */

static void test_list_self_and_mutual(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *l = rc_list(rt);
    append(rt, l, l);
    repr_is(rt, l, "[[...]]");
    assert_int_equal(rc_equal(rt, l, l), 1);           /* identity */
    rc_obj *m = rc_list(rt);
    append(rt, m, m);
    assert_overflow(rt, rc_equal(rt, l, m));            /* Python: RecursionError */

    rc_obj *a = rc_list(rt), *b = rc_list(rt);
    append(rt, a, b);
    append(rt, b, a);
    repr_is(rt, a, "[[[...]]]");
    repr_is(rt, b, "[[[...]]]");
    /* the same list twice, side by side, is not a cycle */
    rc_obj *c = rc_list(rt), *e = rc_list(rt);
    append(rt, c, e);
    append(rt, c, e);
    repr_is(rt, c, "[[], []]");

    rc_list_clear(l);
    rc_list_clear(m);
    rc_list_clear(a);
    rc_decref(l);
    rc_decref(m);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(e);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_tuple_self_and_mutual(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    /* t = ([t],): a tuple contains itself through a list */
    rc_obj *l = rc_list(rt);
    rc_obj *t = rc_tuple(rt, 1, l);
    append(rt, l, t);
    repr_is(rt, t, "([(...)],)");
    repr_is(rt, l, "[([...],)]");
    assert_int_equal(rc_equal(rt, t, t), 1);
    rc_obj *l2 = rc_list(rt);
    rc_obj *t2 = rc_tuple(rt, 1, l2);
    append(rt, l2, t2);
    assert_overflow(rt, rc_equal(rt, t, t2));

    /* t1 -> [t2] -> t2 -> [t1] -> t1 */
    rc_obj *la = rc_list(rt), *lb = rc_list(rt);
    rc_obj *ta = rc_tuple(rt, 1, la), *tb = rc_tuple(rt, 2, lb, lb);
    append(rt, la, tb);
    append(rt, lb, ta);
    repr_is(rt, ta, "([([(...)], [(...)])],)");

    /* hashing a tuple that contains itself through a hashable box */
    rc_obj *hb = rc_new(rt, &hbox_type);
    rc_obj *th = rc_tuple(rt, 1, hb);
    rc_incref(th);
    ((box *)hb)->target = th;
    repr_is(rt, th, "(box((...)),)");
    uint64_t h = 0;
    assert_overflow(rt, rc_hash(rt, th, &h));

    rc_list_clear(l);
    rc_list_clear(l2);
    rc_list_clear(la);
    rc_list_clear(lb);
    box_clear(hb);
    rc_decref(hb);
    rc_decref(th);
    rc_decref(l);
    rc_decref(t);
    rc_decref(l2);
    rc_decref(t2);
    rc_decref(la);
    rc_decref(lb);
    rc_decref(ta);
    rc_decref(tb);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_dict_self_and_mutual(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *d = rc_dict(rt);
    dset(rt, d, "self", d);
    repr_is(rt, d, "{'self': {...}}");
    assert_int_equal(rc_equal(rt, d, d), 1);
    rc_obj *d2 = rc_dict(rt);
    dset(rt, d2, "self", d2);
    assert_overflow(rt, rc_equal(rt, d, d2));

    rc_obj *a = rc_dict(rt), *b = rc_dict(rt);
    dset(rt, a, "b", b);
    dset(rt, b, "a", a);
    repr_is(rt, a, "{'b': {'a': {...}}}");
    /* through a list: the list and the dict each print once */
    rc_obj *l = rc_list(rt), *x = rc_dict(rt);
    append(rt, l, x);
    dset(rt, x, "l", l);
    repr_is(rt, l, "[{'l': [...]}]");
    repr_is(rt, x, "{'l': [{...}]}");

    rc_dict_clear(d);
    rc_dict_clear(d2);
    rc_dict_clear(a);
    rc_list_clear(l);
    rc_decref(d);
    rc_decref(d2);
    rc_decref(a);
    rc_decref(b);
    rc_decref(l);
    rc_decref(x);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_set_self_and_mutual(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *s = rc_set(rt);
    sadd_box(rt, s, s);
    repr_is(rt, s, "{box(set(...))}");
    assert_int_equal(rc_equal(rt, s, s), 1);
    rc_obj *s2 = rc_set(rt);
    sadd_box(rt, s2, s2);
    assert_overflow(rt, rc_equal(rt, s, s2));

    rc_obj *a = rc_set(rt), *b = rc_set(rt);
    sadd_box(rt, a, b);
    sadd_box(rt, b, a);
    repr_is(rt, a, "{box({box(set(...))})}");
    repr_is(rt, b, "{box({box(set(...))})}");

    rc_set_clear(s);
    rc_set_clear(s2);
    rc_set_clear(a);
    rc_decref(s);
    rc_decref(s2);
    rc_decref(a);
    rc_decref(b);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

/* ---- deep nesting ------------------------------------------------------ */

typedef rc_obj *(*wrap_fn)(rc_runtime *rt, rc_obj *inner);

static rc_obj *wrap_list(rc_runtime *rt, rc_obj *inner) {
    rc_obj *l = rc_list(rt);
    append(rt, l, inner);
    return l;
}

static rc_obj *wrap_tuple(rc_runtime *rt, rc_obj *inner) {
    rc_obj *t = rc_tuple(rt, 1, inner);
    assert_non_null(t);
    return t;
}

static rc_obj *wrap_dict(rc_runtime *rt, rc_obj *inner) {
    rc_obj *d = rc_dict(rt);
    dset(rt, d, "k", inner);
    return d;
}

static rc_obj *wrap_set(rc_runtime *rt, rc_obj *inner) {
    rc_obj *s = rc_set(rt);
    sadd_box(rt, s, inner);
    return s;
}

/* depth containers, each holding the next; the innermost holds the int 1. */
static rc_obj *nest(rc_runtime *rt, wrap_fn wrap, int depth) {
    rc_obj *cur = rc_int(rt, 1);
    for (int i = 0; i < depth; i++) {
        rc_obj *outer = wrap(rt, cur);
        rc_decref(cur);
        cur = outer;
    }
    return cur;
}

/* Deep structures fail with RC_EOVERFLOW; shallow ones work, before and
 * after the failure (the guard was left balanced). */
static void check_deep(wrap_fn wrap, const char *shallow_text, bool hashable) {
    rc_runtime *rt = new_rt();
    rc_obj *deep = nest(rt, wrap, DEEP), *deep2 = nest(rt, wrap, DEEP);
    rc_obj *shallow = nest(rt, wrap, 2), *shallow2 = nest(rt, wrap, 2);
    repr_is(rt, shallow, shallow_text);
    char buf[64];
    assert_overflow(rt, rc_repr(rt, deep, buf, sizeof buf));
    assert_overflow(rt, rc_equal(rt, deep, deep2));
    assert_int_equal(rc_equal(rt, deep, deep), 1);      /* identity: no recursion */
    if (hashable) {
        uint64_t h;
        assert_overflow(rt, rc_hash(rt, deep, &h));
        assert_int_equal(hash_of(rt, shallow), hash_of(rt, shallow2));
    }
    assert_int_equal(rc_equal(rt, shallow, shallow2), 1);
    repr_is(rt, shallow, shallow_text);
    /* nesting just inside the bound still works (each level is one
     * rc_repr, and a set level two: the set and its box) */
    int fits = RCO_MAX_PROTOCOL_DEPTH / 2 - 1;
    rc_obj *near = nest(rt, wrap, fits);
    assert_true(rc_repr(rt, near, NULL, 0) > 0);
    assert_guard_idle(rt);
    rc_decref(near);
    rc_decref(deep);
    rc_decref(deep2);
    rc_decref(shallow);
    rc_decref(shallow2);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_deep_list(void **state) {
    (void)state;
    check_deep(wrap_list, "[[1]]", false);
}

static void test_deep_tuple(void **state) {
    (void)state;
    check_deep(wrap_tuple, "((1,),)", true);
}

static void test_deep_dict(void **state) {
    (void)state;
    check_deep(wrap_dict, "{'k': {'k': 1}}", false);
}

static void test_deep_set(void **state) {
    (void)state;
    check_deep(wrap_set, "{box({box(1)})}", false);
}

/* A deep failure inside a repr that is itself nested in a container's repr
 * unwinds every level: the outer containers' frames are popped too. */
static void test_failure_unwinds_every_frame(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *deep = nest(rt, wrap_list, DEEP);
    rc_obj *outer = rc_dict(rt);
    dset(rt, outer, "deep", deep);
    rc_obj *t = rc_tuple(rt, 2, outer, outer);
    char buf[64];
    assert_overflow(rt, rc_repr(rt, t, buf, sizeof buf));
    /* the dict prints normally afterwards: it is no longer marked */
    rc_obj *plain = rc_dict(rt);
    dset(rt, plain, "x", plain);
    repr_is(rt, plain, "{'x': {...}}");
    rc_dict_clear(plain);
    rc_decref(plain);
    rc_decref(t);
    rc_decref(outer);
    rc_decref(deep);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

/* ---- two runtimes, two threads ----------------------------------------- *
 * Each runtime is built on the main thread and handed to one thread (a
 * runtime is used by one thread at a time); the threads only print, compare
 * and hash, and report through their struct, never through cmocka. */

static pthread_barrier_t g_inside, g_checked;

/* Runs on thread A inside box_repr, with A's repr chain and depth in use:
 * waits until the main thread has used runtime B. */
static void hold_repr_open(void) {
    pthread_barrier_wait(&g_inside);
    pthread_barrier_wait(&g_checked);
}

typedef struct held_repr {
    rc_runtime *rt;
    rc_obj *list;             /* [box(list)] */
    char text[64];
    int n;
    int depth_inside;         /* rt->protocol_depth seen inside the repr */
} held_repr;

static held_repr g_held;

static void note_depth_then_hold(void) {
    g_held.depth_inside = g_held.rt->protocol_depth;
    hold_repr_open();
}

static void *thread_a(void *arg) {
    held_repr *h = arg;
    g_box_repr_hook = note_depth_then_hold;
    h->n = rc_repr(h->rt, h->list, h->text, sizeof h->text);
    return NULL;
}

static void test_guard_is_per_runtime(void **state) {
    (void)state;
    rc_runtime *rt_a = new_rt(), *rt_b = new_rt();
    rc_obj *la = rc_list(rt_a);
    rc_obj *b = new_box(rt_a, la);
    append(rt_a, la, b);
    rc_decref(b);
    /* B: a list that contains itself, nesting exactly at the bound (the
     * lists and the innermost int make RCO_MAX_PROTOCOL_DEPTH levels), and
     * nesting past it */
    rc_obj *lb = rc_list(rt_b);
    append(rt_b, lb, lb);
    rc_obj *at_bound = nest(rt_b, wrap_list, RCO_MAX_PROTOCOL_DEPTH - 1);
    rc_obj *deep = nest(rt_b, wrap_list, DEEP);

    g_held = (held_repr){ .rt = rt_a, .list = la };
    assert_int_equal(pthread_barrier_init(&g_inside, NULL, 2), 0);
    assert_int_equal(pthread_barrier_init(&g_checked, NULL, 2), 0);
    pthread_t ta;
    assert_int_equal(pthread_create(&ta, NULL, thread_a, &g_held), 0);
    pthread_barrier_wait(&g_inside);
    /* A is inside the repr of its list, two levels deep; B sees none of it:
     * its cycle prints, the nesting at the bound fits, the deeper fails */
    assert_guard_idle(rt_b);
    repr_is(rt_b, lb, "[[...]]");
    assert_true(rc_repr(rt_b, at_bound, NULL, 0) > 0);
    assert_guard_idle(rt_b);
    char buf[64];
    assert_overflow(rt_b, rc_repr(rt_b, deep, buf, sizeof buf));
    pthread_barrier_wait(&g_checked);
    assert_int_equal(pthread_join(ta, NULL), 0);
    pthread_barrier_destroy(&g_inside);
    pthread_barrier_destroy(&g_checked);

    assert_int_equal(g_held.depth_inside, 2);           /* the list, its box */
    assert_int_equal(g_held.n, (int)strlen("[box([...])]"));
    assert_string_equal(g_held.text, "[box([...])]");
    assert_guard_idle(rt_a);
    rc_list_clear(la);
    rc_decref(la);
    rc_list_clear(lb);
    rc_decref(lb);
    rc_decref(at_bound);
    rc_decref(deep);
    assert_int_equal(rc_runtime_object_count(rt_a), 0);
    assert_int_equal(rc_runtime_object_count(rt_b), 0);
    rc_runtime_free(rt_b);
    rc_runtime_free(rt_a);
}

/* Both threads at once, repeatedly: cycles print their markers and deep
 * nesting fails, in each runtime, whatever the other thread is doing. */
typedef struct worker {
    rc_runtime *rt;
    rc_obj *cycle;            /* [{'l': <itself>}] */
    rc_obj *deep;             /* tuples nested past the bound */
    int rounds;
    int failures;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    rc_runtime *rt = w->rt;
    const char *want = "[{'l': [...]}]";
    char buf[64];
    for (int i = 0; i < w->rounds; i++) {
        if (rc_repr(rt, w->cycle, buf, sizeof buf) != (int)strlen(want) || strcmp(buf, want) != 0)
            w->failures++;
        if (rc_repr(rt, w->deep, buf, sizeof buf) != RC_EOVERFLOW)
            w->failures++;
        uint64_t h;
        if (rc_hash(rt, w->deep, &h) != RC_EOVERFLOW)
            w->failures++;
        if (rc_equal(rt, w->deep, w->deep) != 1)
            w->failures++;
        if (rt->protocol_depth != 0 || rt->repr_top != NULL)
            w->failures++;
        rc_error_clear(rt);
    }
    return NULL;
}

static void test_two_threads_at_once(void **state) {
    (void)state;
    int rounds = (int)rct_scaled(200, 10);
    worker w[2];
    for (int i = 0; i < 2; i++) {
        rc_runtime *rt = new_rt();
        rc_obj *l = rc_list(rt), *d = rc_dict(rt);
        append(rt, l, d);
        dset(rt, d, "l", l);
        rc_decref(d);
        w[i] = (worker){ rt, l, nest(rt, wrap_tuple, DEEP), rounds, 0 };
    }
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].failures, 0);
        rc_list_clear(w[i].cycle);
        rc_decref(w[i].cycle);
        rc_decref(w[i].deep);
        assert_int_equal(rc_runtime_object_count(w[i].rt), 0);
        rc_runtime_free(w[i].rt);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_self_and_mutual),
        cmocka_unit_test(test_tuple_self_and_mutual),
        cmocka_unit_test(test_dict_self_and_mutual),
        cmocka_unit_test(test_set_self_and_mutual),
        cmocka_unit_test(test_deep_list),
        cmocka_unit_test(test_deep_tuple),
        cmocka_unit_test(test_deep_dict),
        cmocka_unit_test(test_deep_set),
        cmocka_unit_test(test_failure_unwinds_every_frame),
        cmocka_unit_test(test_guard_is_per_runtime),
        cmocka_unit_test(test_two_threads_at_once),
    };
    return rct_run_tests(tests, NULL, NULL);
}
