/* rc-test: oom */
/* test_oom_sweep.c - SQLite-style out-of-memory sweep over the object and
 * container operations: for N = 0, 1, 2, ... the N-th allocation of a fresh
 * runtime fails (rc_runtime_fail_after). Each run must end cleanly with the
 * documented error (RC_ENOMEM on the runtime), leak nothing (objects and
 * buffers back to the baseline; ASan and valgrind watch the rest), and leave
 * the runtime fully usable: the same workload then succeeds in it. The sweep
 * stops at the first N for which the workload completes without a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>

#define MAXOBJ 64

typedef struct pool { rc_obj *o[MAXOBJ]; int n; } pool;

static rc_obj *keep(pool *p, rc_obj *o) {
    if (o)
        p->o[p->n++] = o;
    return o;
}

static void drop_all(pool *p) {
    while (p->n > 0)
        rc_decref(p->o[--p->n]);
}

/* A GC user type that can form cycles. */
typedef struct node { rc_obj ob; rc_obj *next; } node;
static int node_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    node *n = (node *)self;
    return n->next ? visit(n->next, arg) : 0;
}
static void node_clear(rc_obj *self) {
    node *n = (node *)self;
    rc_obj *x = n->next;
    n->next = NULL;
    rc_xdecref(x);
}
static const rc_type node_type = { .name = "oomnode", .size = sizeof(node), .flags = RC_TYPE_GC,
                                   .traverse = node_traverse, .clear = node_clear };

static int g_cb;
static void on_dead(rc_obj *ref, void *arg) { (void)ref; (void)arg; g_cb++; }

#define TRY(x) do { if (!(x)) goto fail; } while (0)
#define TRYI(x) do { if ((x) < 0) goto fail; } while (0)

/* Returns 0 when every step succeeded, else the runtime's error code. */
static int workload(rc_runtime *rt) {
    pool p = { .n = 0 };
    rc_obj *big = keep(&p, rc_int(rt, 1234567));
    TRY(big);
    rc_obj *f = keep(&p, rc_float(rt, 2.5));
    TRY(f);
    rc_obj *s = keep(&p, rc_str(rt, "hello, world"));
    TRY(s);
    rc_obj *s2 = keep(&p, rc_str_printf(rt, "%s-%d", "item", 42));
    TRY(s2);
    rc_obj *cat = keep(&p, rc_str_concat(rt, s, s2));
    TRY(cat);
    TRY(rc_str_intern(rt, "interned-name"));
    rc_obj *by = keep(&p, rc_bytes(rt, "abc\0def", 7));
    TRY(by);
    rc_obj *t = keep(&p, rc_tuple(rt, 4, big, f, s, by));
    TRY(t);

    rc_obj *l = keep(&p, rc_list(rt));
    TRY(l);
    for (int i = 0; i < 100; i++) {
        rc_obj *v = rc_int(rt, 1000 + i * 7 % 100);
        TRY(v);
        int r = rc_list_append(rt, l, v);
        rc_decref(v);
        TRYI(r);
    }
    TRYI(rc_list_insert(rt, l, 3, s));
    TRYI(rc_list_del(rt, l, 3));
    TRYI(rc_list_extend(rt, l, t));
    TRYI(rc_list_del(rt, l, rc_list_len(l) - 1));
    TRYI(rc_list_del(rt, l, rc_list_len(l) - 1));
    TRYI(rc_list_del(rt, l, rc_list_len(l) - 1));
    TRYI(rc_list_del(rt, l, rc_list_len(l) - 1));
    TRYI(rc_list_sort(rt, l, NULL, NULL));
    rc_obj *popped = rc_list_pop(rt, l);
    TRY(popped);
    rc_decref(popped);

    rc_obj *d = keep(&p, rc_dict(rt));
    TRY(d);
    for (int i = 0; i < 200; i++) {
        rc_obj *k = rc_str_printf(rt, "k%d", i);
        TRY(k);
        int r = rc_dict_set(rt, d, k, t);
        rc_decref(k);
        TRYI(r);
    }
    TRYI(rc_dict_set(rt, d, t, l));             /* tuple key */
    for (int i = 0; i < 180; i++) {
        rc_obj *k = rc_str_printf(rt, "k%d", i);
        TRY(k);
        int r = rc_dict_del(rt, d, k);
        rc_decref(k);
        TRYI(r);
    }
    TRY(rc_dict_get(rt, d, t));
    rc_iter it;
    rc_obj *key, *val;
    int r;
    rc_iter_init(&it, d);
    while ((r = rc_dict_next(rt, &it, &key, &val)) == 1) {
    }
    TRYI(r);

    rc_obj *a = keep(&p, rc_set(rt)), *b = keep(&p, rc_set(rt));
    TRY(a && b);
    for (int i = 0; i < 50; i++) {
        rc_obj *v = rc_int(rt, 500 + i);
        TRY(v);
        int r1 = rc_set_add(rt, a, v);
        int r2 = (i % 2) ? rc_set_add(rt, b, v) : 0;
        rc_decref(v);
        TRYI(r1);
        TRYI(r2);
    }
    TRY(keep(&p, rc_set_union(rt, a, b)));
    TRY(keep(&p, rc_set_intersection(rt, a, b)));
    TRY(keep(&p, rc_set_difference(rt, a, b)));

    rc_obj *arr = keep(&p, rc_array(rt, RC_ARRAY_F64));
    TRY(arr);
    for (int i = 0; i < 1000; i++)
        TRYI(rc_array_append_f64(rt, arr, i * 0.5));

    /* weak references and a weak-value dict */
    rc_obj *target = rc_list(rt);
    TRY(target);
    rc_obj *w = rc_weakref_new(rt, target, on_dead, NULL);
    if (!w) {
        rc_decref(target);
        goto fail;
    }
    keep(&p, w);
    rc_obj *wvd = keep(&p, rc_weakvaluedict(rt));
    if (!wvd || rc_weakvaluedict_set(rt, wvd, s, target) < 0) {
        rc_decref(target);
        goto fail;
    }
    rc_decref(target);                          /* entry and weakref die */
    if (rc_weakref_get(w) != NULL || rc_weakvaluedict_len(wvd) != 0)
        return -1000;                           /* a logic error, not OOM */

    /* a cycle of user objects, left for rc_runtime_free / the collector */
    node *n1 = (node *)rc_new(rt, &node_type);
    TRY(n1);
    node *n2 = (node *)rc_new(rt, &node_type);
    if (!n2) {
        rc_decref(&n1->ob);
        goto fail;
    }
    n1->next = &n2->ob;
    n2->next = &n1->ob;
    rc_incref(&n1->ob);
    node_clear(&n1->ob);                        /* break it again before dropping */
    rc_decref(&n1->ob);
    rc_decref(&n1->ob);

    drop_all(&p);
    return 0;
fail:
    drop_all(&p);
    return rc_error(rt) ? rc_error(rt) : -999;
}

static void test_sweep(void **state) {
    (void)state;
    long n;
    int clean = 0;
    for (n = 0; n < 100000 && !clean; n++) {
        rc_runtime *rt = rc_runtime_new(NULL);
        assert_non_null(rt);
        size_t objects0 = rc_runtime_object_count(rt);
        size_t buffers0 = rc_runtime_buffer_bytes(rt);
        rc_runtime_fail_after(rt, n);
        int r = workload(rt);
        long injected = rc_runtime_fail_after(rt, -1);
        if (injected == 0) {
            if (r != 0)
                fail_msg("N=%ld: workload failed with %d (%s) without an injected failure", n, r,
                         rc_error_message(rt));
            clean = 1;
        } else {
            if (r != RC_ENOMEM || rc_error(rt) != RC_ENOMEM)
                fail_msg("N=%ld: expected RC_ENOMEM, got %d (runtime: %d %s)", n, r, rc_error(rt),
                         rc_error_message(rt));
        }
        /* nothing leaked but the one interned string */
        size_t objects = rc_runtime_object_count(rt) - objects0;
        if (objects > 1)
            fail_msg("N=%ld: %zu objects leaked", n, objects);
        size_t bufs = rc_runtime_buffer_bytes(rt);
        /* the intern table may keep its buffer */
        if (bufs > buffers0 + 4096)
            fail_msg("N=%ld: %zu buffer bytes leaked", n, bufs - buffers0);
        /* the runtime is fully usable afterwards */
        rc_error_clear(rt);
        if (workload(rt) != 0)
            fail_msg("N=%ld: runtime unusable after the failure: %s", n, rc_error_message(rt));
        rc_runtime_free(rt);
    }
    assert_true(clean);
    printf("oom sweep: %ld allocation points exercised\n", n - 1);
    assert_true(n > 50);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep),
    };
    return rct_run_tests(tests, NULL, NULL);
}
