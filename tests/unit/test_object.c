/* rc-test: misuse */
/* test_object.c - the object layer through the public API: runtimes, user
 * types, refcounting and the deallocation order, deep chains, finalizers and
 * resurrection, weak references, sizing, errors, debug reports, teardown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

/* ---- a user type: a tree / chain node (fixed layout) ---- */

typedef struct node {
    rc_obj ob;
    rc_obj *left, *right;
    long value;
} node;

static int g_destroyed;
static int g_finalized;
static rc_obj *g_resurrect_into;    /* finalize stores self here (resurrection) */
static char g_log[256];

static void logc(char c) {
    size_t n = strlen(g_log);
    if (n + 1 < sizeof g_log) {
        g_log[n] = c;
        g_log[n + 1] = '\0';
    }
}

static int node_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    node *n = (node *)self;
    if (n->left && visit(n->left, arg))
        return 1;
    if (n->right && visit(n->right, arg))
        return 1;
    return 0;
}

static void node_clear(rc_obj *self) {
    node *n = (node *)self;
    rc_obj *l = n->left, *r = n->right;
    n->left = n->right = NULL;
    rc_xdecref(l);
    rc_xdecref(r);
}

static void node_destroy(rc_obj *self) {
    g_destroyed++;
    logc('D');
    node_clear(self);
}

static void node_finalize(rc_obj *self) {
    g_finalized++;
    logc('F');
    if (g_resurrect_into == NULL) {
        g_resurrect_into = self;
        rc_incref(self);
    }
}

static const rc_type node_type = {
    .name = "node", .size = sizeof(node), .flags = RC_TYPE_GC,
    .traverse = node_traverse, .clear = node_clear, .destroy = node_destroy,
};

static const rc_type fin_type = {
    .name = "finnode", .size = sizeof(node), .flags = RC_TYPE_GC,
    .traverse = node_traverse, .clear = node_clear, .destroy = node_destroy,
    .finalize = node_finalize,
};

/* a plain (non-GC) leaf with a hash and equality */
typedef struct leaf { rc_obj ob; long v; } leaf;
static int leaf_hash(rc_obj *self, uint64_t *out) { *out = (uint64_t)((leaf *)self)->v * 31u; return 0; }
static int leaf_equal(rc_obj *a, rc_obj *b) {
    return rc_typeof(b) == rc_typeof(a) && ((leaf *)a)->v == ((leaf *)b)->v;
}
static int leaf_repr(rc_obj *self, char *buf, size_t len) {
    return snprintf(buf, len, "leaf(%ld)", ((leaf *)self)->v);
}
static const rc_type leaf_type = {
    .name = "leaf", .size = sizeof(leaf), .hash = leaf_hash, .equal = leaf_equal,
    .repr = leaf_repr,
};

/* a variable-sized type: a vector of doubles */
typedef struct vec { rc_obj ob; size_t n; double items[]; } vec;
static const rc_type vec_type = { .name = "vec", .size = sizeof(vec), .itemsize = sizeof(double) };

static void reset(void) {
    g_destroyed = g_finalized = 0;
    g_resurrect_into = NULL;
    g_log[0] = '\0';
}

static node *new_node(rc_runtime *rt, const rc_type *t, long v) {
    node *n = (node *)rc_new(rt, t);
    assert_non_null(n);
    n->value = v;
    return n;
}

/* ---- tests ---- */

static void test_runtime_lifecycle(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    assert_int_equal(rc_error(rt), 0);
    assert_string_equal(rc_error_message(rt), "");
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
    rc_runtime_free(NULL);   /* allowed */

    rc_config cfg;
    rc_config_init(&cfg);
    assert_int_equal(cfg.debug, -1);
    cfg.debug = 0;
    rt = rc_runtime_new(&cfg);
    assert_non_null(rt);
    rc_runtime_free(rt);
}

static void test_new_zeroed_refcount_one(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    reset();
    node *n = new_node(rt, &node_type, 0);
    assert_int_equal(rc_refcount(&n->ob), 1);
    assert_ptr_equal(rc_typeof(&n->ob), &node_type);
    assert_string_equal(rc_type_name(&n->ob), "node");
    assert_null(n->left);
    assert_null(n->right);
    assert_ptr_equal(rc_runtime_of(&n->ob), rt);
    assert_int_equal(rc_runtime_object_count(rt), 1);
    rc_incref(&n->ob);
    assert_int_equal(rc_refcount(&n->ob), 2);
    rc_decref(&n->ob);
    assert_int_equal(g_destroyed, 0);
    rc_decref(&n->ob);
    assert_int_equal(g_destroyed, 1);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_xdecref(NULL);
    rc_runtime_free(rt);
}

static void test_bad_type_and_args(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    static const rc_type tiny = { .name = "tiny", .size = 4 };
    static const rc_type noname = { .name = NULL, .size = sizeof(rc_obj) };
    assert_null(rc_new(rt, &tiny));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_true(strlen(rc_error_message(rt)) > 0);
    rc_error_clear(rt);
    assert_int_equal(rc_error(rt), 0);
    assert_null(rc_new(rt, &noname));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_new(rt, NULL));
    assert_null(rc_new_var(rt, &vec_type, SIZE_MAX / 2));
    assert_int_equal(rc_error(rt), RC_EOVERFLOW);
    /* a successful call leaves the error as it was */
    rc_obj *l = rc_new(rt, &leaf_type);
    assert_non_null(l);
    assert_int_equal(rc_error(rt), RC_EOVERFLOW);
    rc_decref(l);
    assert_string_equal(rc_strerror(RC_EKEY), "key not found");
    assert_string_equal(rc_strerror(12345), "unknown error");
    assert_int_equal(rc_error_set(rt, RC_EIO, "disk %d", 3), RC_EIO);
    assert_string_equal(rc_error_message(rt), "disk 3");
    rc_runtime_free(rt);
}

static void test_var_objects(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    vec *v = (vec *)rc_new_var(rt, &vec_type, 1000);
    assert_non_null(v);
    assert_int_equal(rc_var_len(&v->ob), 1000);
    for (size_t i = 0; i < 1000; i++)
        assert_true(v->items[i] == 0.0);   /* zeroed */
    for (size_t i = 0; i < 1000; i++)
        v->items[i] = (double)i;
    assert_int_equal(rc_sizeof(&v->ob), rc_sizeof(&v->ob));
    assert_true(rc_sizeof(&v->ob) >= sizeof(vec) + 1000 * sizeof(double));
    /* big enough for a span and a huge block */
    vec *big = (vec *)rc_new_var(rt, &vec_type, 1u << 20);
    assert_non_null(big);
    big->items[(1u << 20) - 1] = 1.5;
    rc_decref(&big->ob);
    rc_decref(&v->ob);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

/* The documented alignments: 16 for rc_new (plain and container), 8 for
 * rc_new_var (its item count is kept just before it), with debug mode on
 * and off, over every small size. */
static const rc_type gcvec_type = { .name = "gcvec", .size = sizeof(vec), .itemsize = sizeof(double),
                                    .flags = RC_TYPE_GC };

static void test_alignment(void **state) {
    (void)state;
    for (int debug = 0; debug < 2; debug++) {
        rc_config cfg;
        rc_config_init(&cfg);
        cfg.debug = debug;
        rc_runtime *rt = rc_runtime_new(&cfg);
        assert_non_null(rt);
        for (size_t n = 0; n < 40; n++) {
            rc_obj *a = rc_new(rt, &leaf_type), *b = rc_new(rt, &node_type);
            rc_obj *c = rc_new_var(rt, &vec_type, n), *d = rc_new_var(rt, &gcvec_type, n);
            assert_true(a && b && c && d);
            assert_int_equal((uintptr_t)a % 16, 0);
            assert_int_equal((uintptr_t)b % 16, 0);
            assert_int_equal((uintptr_t)c % 8, 0);
            assert_int_equal((uintptr_t)d % 8, 0);
            assert_int_equal(rc_var_len(c), n);
            assert_int_equal(rc_var_len(d), n);
            rc_decref(a);
            rc_decref(b);
            rc_decref(c);
            rc_decref(d);
        }
        assert_int_equal(rc_runtime_object_count(rt), 0);
        rc_runtime_free(rt);
    }
}

static void test_long_chain_no_stack_overflow(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    reset();
    size_t n = rct_scaled(10000000, 20000);
    node *head = NULL;
    for (size_t i = 0; i < n; i++) {
        node *x = (node *)rc_new(rt, &node_type);
        assert_non_null(x);
        x->left = head ? &head->ob : NULL;   /* x owns the previous head */
        head = x;
    }
    assert_int_equal(rc_runtime_object_count(rt), n);
    rc_decref(&head->ob);                    /* frees the whole chain */
    assert_int_equal(g_destroyed, (int)n);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_finalizer_once_and_resurrection(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    reset();
    node *n = new_node(rt, &fin_type, 1);
    rc_decref(&n->ob);                        /* finalizer resurrects it */
    assert_int_equal(g_finalized, 1);
    assert_int_equal(g_destroyed, 0);
    assert_ptr_equal(g_resurrect_into, &n->ob);
    assert_int_equal(rc_refcount(&n->ob), 1);
    assert_int_equal(rc_runtime_object_count(rt), 1);
    rc_decref(&n->ob);                        /* finalize does not run again */
    assert_int_equal(g_finalized, 1);
    assert_int_equal(g_destroyed, 1);
    assert_string_equal(g_log, "FD");
    rc_runtime_free(rt);
}

static int g_cb_calls;
static rc_obj *g_cb_ref;
static rc_obj *g_cb_seen_target;
static void weak_cb(rc_obj *ref, void *arg) {
    g_cb_calls++;
    g_cb_ref = ref;
    g_cb_seen_target = rc_weakref_get(ref);
    *(int *)arg += 1;
    logc('W');
}

static void test_weakrefs(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    reset();
    g_cb_calls = 0;
    int counter = 0;
    node *n = new_node(rt, &node_type, 7);
    rc_obj *w1 = rc_weakref_new(rt, &n->ob, weak_cb, &counter);
    rc_obj *w2 = rc_weakref_new(rt, &n->ob, NULL, NULL);
    rc_obj *w3 = rc_weakref_new(rt, &n->ob, weak_cb, &counter);
    assert_non_null(w1);
    assert_non_null(w2);
    assert_non_null(w3);
    assert_int_equal(rc_weakref_count(&n->ob), 3);
    assert_ptr_equal(rc_weakref_get(w1), &n->ob);
    assert_int_equal(rc_refcount(&n->ob), 1);  /* weak: no reference */
    rc_decref(w3);                              /* a dropped weakref never calls back */
    assert_int_equal(rc_weakref_count(&n->ob), 2);
    rc_decref(&n->ob);
    assert_int_equal(g_cb_calls, 1);
    assert_int_equal(counter, 1);
    assert_ptr_equal(g_cb_ref, w1);
    assert_null(g_cb_seen_target);             /* cleared before the callback */
    assert_null(rc_weakref_get(w1));
    assert_null(rc_weakref_get(w2));
    assert_string_equal(g_log, "WD");          /* weakrefs cleared before destroy */
    rc_decref(w1);
    rc_decref(w2);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    assert_null(rc_weakref_new(rt, NULL, NULL, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_runtime_free(rt);
}

static void test_protocol_hash_equal_repr(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    leaf *a = (leaf *)rc_new(rt, &leaf_type), *b = (leaf *)rc_new(rt, &leaf_type);
    a->v = 5;
    b->v = 5;
    uint64_t ha, hb;
    assert_int_equal(rc_hash(rt, &a->ob, &ha), 0);
    assert_int_equal(rc_hash(rt, &b->ob, &hb), 0);
    assert_true(ha == hb);
    assert_int_equal(rc_equal(rt, &a->ob, &b->ob), 1);
    b->v = 6;
    assert_int_equal(rc_equal(rt, &a->ob, &b->ob), 0);
    char buf[64];
    assert_int_equal(rc_repr(rt, &a->ob, buf, sizeof buf), 7);
    assert_string_equal(buf, "leaf(5)");
    /* truncation keeps a NUL and reports the full length */
    assert_int_equal(rc_repr(rt, &a->ob, buf, 4), 7);
    assert_string_equal(buf, "lea");
    node *n = new_node(rt, &node_type, 0);
    uint64_t hn;
    assert_int_equal(rc_hash(rt, &n->ob, &hn), RC_ETYPE);   /* no hash: unhashable */
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_int_equal(rc_equal(rt, &n->ob, &n->ob), 1);      /* identity */
    assert_int_equal(rc_equal(rt, &n->ob, &a->ob), 0);
    assert_true(rc_repr(rt, &n->ob, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "node object at"));
    rc_decref(&n->ob);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_runtime_free(rt);
}

static void test_sizeof_and_deep_sizeof(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    node *a = new_node(rt, &node_type, 1), *b = new_node(rt, &node_type, 2);
    node *c = new_node(rt, &node_type, 3);
    size_t one = rc_sizeof(&a->ob);
    assert_true(one >= sizeof(node));
    /* a -> b, a -> c, b -> c, c -> a (a cycle); each counted once */
    rc_incref(&b->ob); a->left = &b->ob;
    rc_incref(&c->ob); a->right = &c->ob;
    rc_incref(&c->ob); b->left = &c->ob;
    rc_incref(&a->ob); c->left = &a->ob;
    assert_int_equal(rc_deep_sizeof(rt, &a->ob), 3 * one);
    assert_int_equal(rc_deep_sizeof(rt, &c->ob), 3 * one);
    /* break the cycle so plain refcounting frees everything */
    node_clear(&c->ob);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_decref(&c->ob);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_runtime_free_releases_cycles(void **state) {
    (void)state;
    reset();
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.gc_disabled = 1;          /* keep the collector out: teardown must do it */
    rc_runtime *rt = rc_runtime_new(&cfg);
    size_t rings = 100, len = 50;
    for (size_t r = 0; r < rings; r++) {
        node *first = new_node(rt, &node_type, 0), *prev = first;
        for (size_t i = 1; i < len; i++) {
            node *x = new_node(rt, &node_type, (long)i);
            prev->left = &x->ob;          /* prev owns x */
            prev = x;
        }
        rc_incref(&first->ob);
        prev->left = &first->ob;          /* close the ring */
        rc_decref(&first->ob);            /* only the ring keeps it */
    }
    assert_int_equal(rc_runtime_object_count(rt), rings * len);
    assert_int_equal(g_destroyed, 0);
    rc_runtime_free(rt);                  /* collects or destroys them all */
    assert_int_equal(g_destroyed, (int)(rings * len));
}

static char g_report[512];
static void capture_report(rc_runtime *rt, const char *msg, void *arg) {
    (void)rt;
    (void)arg;
    snprintf(g_report, sizeof g_report, "%s", msg);
}

static void test_debug_underflow_and_use_after_free(void **state) {
    (void)state;
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.debug = 1;
    rc_runtime *rt = rc_runtime_new(&cfg);
    rc_runtime_set_debug_handler(rt, capture_report, NULL);
    leaf *a = (leaf *)rc_new(rt, &leaf_type);
    rc_decref(&a->ob);                       /* freed: in the quarantine */
    g_report[0] = '\0';
    rc_decref(&a->ob);                       /* decref of a freed object */
    assert_int_equal(rc_runtime_debug_errors(rt), 1);
    assert_non_null(strstr(g_report, "freed"));
    assert_non_null(strstr(g_report, "leaf"));
    assert_int_equal(rc_check(&a->ob), RC_ESTATE);
    uint64_t h;
    assert_int_equal(rc_hash(rt, &a->ob, &h), RC_ESTATE);
    assert_true(rc_runtime_debug_errors(rt) >= 3);
    /* the runtime still works */
    leaf *b = (leaf *)rc_new(rt, &leaf_type);
    assert_non_null(b);
    assert_int_equal(rc_check(&b->ob), 0);
    rc_decref(&b->ob);
    rc_runtime_free(rt);
}

/* rc_incref/rc_decref/rc_xdecref compile to inline fast paths; the exported
 * functions behind them must behave the same, through a pointer too. */
static void test_refcount_inline_and_function_forms(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    void (*fn_incref)(rc_obj *) = rc_incref;
    void (*fn_decref)(rc_obj *) = rc_decref;
    void (*fn_xdecref)(rc_obj *) = rc_xdecref;
    rc_obj *o = rc_new(rt, &leaf_type);
    rc_incref(o);
    fn_incref(o);
    (rc_incref)(o);
    assert_int_equal(rc_refcount(o), 4);
    rc_decref(o);
    fn_decref(o);
    (rc_xdecref)(o);
    rc_xdecref(NULL);
    fn_xdecref(NULL);
    assert_int_equal(rc_refcount(o), 1);
    assert_int_equal(rc_runtime_object_count(rt), 1);
    rc_xdecref(o);                          /* inline path to zero: freed */
    assert_int_equal(rc_runtime_object_count(rt), 0);
    o = rc_new(rt, &leaf_type);
    fn_decref(o);                           /* function path to zero */
    assert_int_equal(rc_runtime_object_count(rt), 0);
    /* immortal objects: neither form changes the count */
    rc_obj *small = rc_int(rt, 7);
    size_t before = rc_refcount(small);
    for (int i = 0; i < 1000; i++) {
        rc_decref(small);
        fn_decref(small);
    }
    rc_incref(small);
    assert_int_equal(rc_refcount(small), before);
    assert_true(rc_is_immortal(small));
    rc_runtime_free(rt);
}

static void test_leak_report(void **state) {
    (void)state;
    char path[] = "/tmp/rc_leakXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w+");
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.report_leaks = 1;
    cfg.report = f;
    rc_runtime *rt = rc_runtime_new(&cfg);
    new_node(rt, &node_type, 1);
    new_node(rt, &node_type, 2);
    rc_new(rt, &leaf_type);
    rc_runtime_free(rt);
    fflush(f);
    rewind(f);
    char text[1024] = { 0 };
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    unlink(path);
    assert_true(got > 0);
    assert_non_null(strstr(text, "3 objects"));
    assert_non_null(strstr(text, "node"));
    assert_non_null(strstr(text, "leaf"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_lifecycle),
        cmocka_unit_test(test_new_zeroed_refcount_one),
        cmocka_unit_test(test_bad_type_and_args),
        cmocka_unit_test(test_var_objects),
        cmocka_unit_test(test_long_chain_no_stack_overflow),
        cmocka_unit_test(test_finalizer_once_and_resurrection),
        cmocka_unit_test(test_weakrefs),
        cmocka_unit_test(test_protocol_hash_equal_repr),
        cmocka_unit_test(test_sizeof_and_deep_sizeof),
        cmocka_unit_test(test_runtime_free_releases_cycles),
        cmocka_unit_test(test_debug_underflow_and_use_after_free),
        cmocka_unit_test(test_refcount_inline_and_function_forms),
        cmocka_unit_test(test_leak_report),
        cmocka_unit_test(test_alignment),
    };
    return rct_run_tests(tests, NULL, NULL);
}
