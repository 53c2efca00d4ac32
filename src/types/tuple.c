/* tuple.c - the tuple type: an immutable, fixed-length sequence of objects.
 *
 * Layout: one GC block per tuple (rc_new_var, itemsize sizeof(rc_obj *)):
 *
 *   [ rco_var ][ rco_gc ][ rc_obj | items[n] ]
 *
 * n is the block's item count (rco_var, which rc_sizeof reads too): the
 * length is not kept twice.
 *
 * Invariants: a tuple owns one reference to each of its items. Items are
 * never NULL except after the collector has run clear on the tuple (to break
 * a cycle through a list or dict), so traverse, clear, destroy, hash, equal
 * and repr all tolerate NULL items. The contents never change otherwise.
 *
 * No growth: a tuple never changes size.
 *
 * The empty tuple is one static immortal object shared by every runtime (as
 * in CPython 3.12+): rc_tuple(rt, 0) and rc_tuple_from(rt, 0, ...) never
 * allocate and never fail for a valid runtime. Its storage carries the same
 * rco_var and rco_gc prefixes as a heap tuple (nitems 0, untracked), so code
 * that looks in front of any GC object finds well-formed, untracked links.
 *
 * A tuple is tracked by the collector from birth (rc_new_var). CPython
 * untracks tuples whose items can never form a cycle (only atoms such as
 * ints, floats, strs); that optimisation belongs to the collector (it can
 * untrack such tuples when it first examines them), not to construction.
 *
 * Hashing is CPython's (3.8+) xxHash-based tuplehash over the items' hashes,
 * so equal tuples hash alike ((1, 2) and (1.0, 2) included); a tuple with an
 * unhashable item is unhashable (RC_ETYPE from that item).
 *
 * hash, equal and repr recurse into the items through rc_hash, rc_equal and
 * rc_repr, whose depth the runtime's recursion guard bounds (RC_EOVERFLOW,
 * object.h). A tuple can contain itself only through a mutable container;
 * repr prints such a tuple inside itself as "(...)", as Python does, through
 * the same guard. */
#include "types/types.h"

#include <stdarg.h>
#include <string.h>

typedef struct tuple_obj {
    rc_obj ob;
    rc_obj *items[];
} tuple_obj;

static int tuple_traverse(rc_obj *self, rc_visitfn visit, void *arg);
static void tuple_clear(rc_obj *self);
static int tuple_hash(rc_obj *self, uint64_t *out);
static int tuple_equal(rc_obj *a, rc_obj *b);
static int tuple_repr(rc_obj *self, char *buf, size_t len);

const rc_type rc_tuple_type = {
    .name = "tuple",
    .size = offsetof(tuple_obj, items),
    .itemsize = sizeof(rc_obj *),
    .flags = RC_TYPE_GC,
    .traverse = tuple_traverse,
    .clear = tuple_clear,
    .destroy = tuple_clear,   /* dropping the items is all there is to do */
    .hash = tuple_hash,
    .equal = tuple_equal,
    .repr = tuple_repr,
};

/* The static empty tuple: the prefixes a heap block would have, then the
 * fixed part of a tuple_obj (spelled out: a struct with a flexible array
 * member cannot be nested). */
static struct {
    rco_var var;
    rco_gc gc;
    rc_obj ob;
} empty_tuple = {
    { 0 },
    { NULL, NULL },
    { RCO_F_IMMORTAL | RCO_F_GC | RCO_F_VAR | 1u, &rc_tuple_type },
};

_Static_assert(offsetof(tuple_obj, ob) == 0 && offsetof(tuple_obj, items) == sizeof(rc_obj),
               "empty_tuple must mirror tuple_obj");
_Static_assert(sizeof(rco_var) + sizeof(rco_gc) == 24, "prefix layout of object.h");

static inline tuple_obj *as_tuple(const rc_obj *o) {
    return (tuple_obj *)(void *)(uintptr_t)o;
}

/* Every tuple, the static empty one included, has both prefixes. */
static inline size_t tuple_len(const tuple_obj *t) {
    return ((const rco_var *)(const void *)((const char *)t - sizeof(rco_gc) - sizeof(rco_var)))->nitems;
}

static rc_obj *empty(void) {
    return &empty_tuple.ob;
}

/* A tuple of n > 0 items, all NULL; NULL with the error recorded. */
RCI_INLINE tuple_obj *tuple_alloc(rc_runtime *rt, size_t n, const char *fn) {
    if (n > (SIZE_MAX / 2) / sizeof(rc_obj *))
        return rco_err_null(rt, RC_EOVERFLOW, "%s: %zu items is too many", fn, n);
    rc_obj *o = rc_new_var(rt, &rc_tuple_type, n);
    if (!o)
        return NULL;
    return as_tuple(o);   /* items are zeroed: a collection may already see them */
}

RCI_ALLOC_FRAME rc_obj *rc_tuple_from(rc_runtime *rt, size_t n, rc_obj *const *items) {
    if (!rt)
        return NULL;
    if (n == 0)
        return empty();
    if (!items)
        return rco_err_null(rt, RC_EINVAL, "rc_tuple_from: NULL items");
    for (size_t i = 0; i < n; i++) {
        if (!items[i])
            return rco_err_null(rt, RC_EINVAL, "rc_tuple_from: item %zu is NULL", i);
        if (rct_check_arg(rt, items[i], NULL, "rc_tuple_from") ||
            (rco_is_foreign(rt, items[i]) && rco_refuse_foreign(rt, "rc_tuple_from", NULL, items[i])))
            return NULL;
    }
    tuple_obj *t = tuple_alloc(rt, n, "rc_tuple_from");
    if (!t)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        rco_incref(items[i]);
        t->items[i] = items[i];
    }
    return &t->ob;
}

RCI_ALLOC_FRAME rc_obj *rc_tuple(rc_runtime *rt, size_t n, ...) {
    if (!rt)
        return NULL;
    if (n == 0)
        return empty();
    /* Check every argument before allocating, so a failure creates nothing. */
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        rc_obj *x = va_arg(ap, rc_obj *);
        int bad = x == NULL ? rco_err(rt, RC_EINVAL, "rc_tuple: item %zu is NULL", i)
                            : rct_check_arg(rt, x, NULL, "rc_tuple");
        if (!bad && rco_is_foreign(rt, x))
            bad = rco_refuse_foreign(rt, "rc_tuple", NULL, x);
        if (bad) {
            va_end(ap);
            return NULL;
        }
    }
    va_end(ap);
    tuple_obj *t = tuple_alloc(rt, n, "rc_tuple");
    if (!t)
        return NULL;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        rc_obj *x = va_arg(ap, rc_obj *);
        rco_incref(x);
        t->items[i] = x;
    }
    va_end(ap);
    return &t->ob;
}

rc_obj *const *rct_tuple_items(const rc_obj *o, size_t *n) {
    if (!o || o->rc_type_ != &rc_tuple_type) {
        *n = 0;
        return NULL;
    }
    const tuple_obj *t = (const tuple_obj *)o;
    *n = tuple_len(t);
    return t->items;
}

rc_obj *rc_tuple_get(rc_runtime *rt, const rc_obj *o, size_t i) {
    if (!rt)
        return NULL;
    if (rct_check_arg(rt, o, &rc_tuple_type, "rc_tuple_get"))
        return NULL;
    const tuple_obj *t = as_tuple(o);
    if (i >= tuple_len(t))
        return rco_err_null(rt, RC_EINDEX, "tuple index %zu out of range (length %zu)", i,
                            tuple_len(t));
    if (!t->items[i])
        return rco_err_null(rt, RC_ESTATE, "rc_tuple_get: the tuple was cleared by the collector");
    return t->items[i];
}

size_t rc_tuple_len(const rc_obj *o) {
    return rco_is(o, &rc_tuple_type) ? tuple_len(as_tuple(o)) : 0;
}

int rc_is_tuple(const rc_obj *o) {
    return rco_is(o, &rc_tuple_type);
}

/* ---- slots -------------------------------------------------------------------- */

static int tuple_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    tuple_obj *t = as_tuple(self);
    for (size_t i = 0, n = tuple_len(t); i < n; i++) {
        if (t->items[i]) {
            int r = visit(t->items[i], arg);
            if (r)
                return r;
        }
    }
    return 0;
}

static void tuple_clear(rc_obj *self) {
    tuple_obj *t = as_tuple(self);
    for (size_t i = 0, n = tuple_len(t); i < n; i++) {
        rc_obj *x = t->items[i];
        t->items[i] = NULL;   /* before the decref: it may reach this tuple again */
        rco_xdecref(x);
    }
}

#define XXPRIME_1 UINT64_C(11400714785074694791)
#define XXPRIME_2 UINT64_C(14029467366897019727)
#define XXPRIME_5 UINT64_C(2870177450012600261)

static int tuple_hash(rc_obj *self, uint64_t *out) {
    tuple_obj *t = as_tuple(self);
    /* The static empty tuple has no heap, hence no runtime; it has no items
     * either, so rt is only used when it exists. */
    rc_runtime *rt = tuple_len(t) > 0 ? rco_runtime(self) : NULL;
    uint64_t acc = XXPRIME_5;
    for (size_t i = 0, n = tuple_len(t); i < n; i++) {
        if (!t->items[i])
            return rco_err(rt, RC_ESTATE, "hash: the tuple was cleared by the collector");
        uint64_t lane;
        int r = rc_hash(rt, t->items[i], &lane);
        if (r)
            return r;   /* unhashable item: RC_ETYPE, recorded by rc_hash */
        acc += lane * XXPRIME_2;
        acc = (acc << 31) | (acc >> 33);
        acc *= XXPRIME_1;
    }
    /* The length is mixed in so that () and (x,) chains differ. */
    acc += (uint64_t)tuple_len(t) ^ (XXPRIME_5 ^ UINT64_C(3527539));
    if (acc == UINT64_MAX)
        acc = UINT64_C(1546275796);   /* -1 is reserved, as in CPython */
    *out = acc;
    return 0;
}

static int tuple_equal(rc_obj *a, rc_obj *b) {
    if (a == b)
        return 1;
    if (!rco_is(b, &rc_tuple_type))
        return 0;
    const tuple_obj *x = as_tuple(a), *y = as_tuple(b);
    if (tuple_len(x) != tuple_len(y))
        return 0;
    rc_runtime *rt = tuple_len(x) > 0 ? rco_runtime(a) : NULL;   /* see tuple_hash */
    for (size_t i = 0, n = tuple_len(x); i < n; i++) {
        rc_obj *p = x->items[i], *q = y->items[i];
        if (p == q)
            continue;   /* identity implies equality for containers, as in Python */
        if (!p || !q)
            return 0;
        int r = rc_equal(rt, p, q);
        if (r != 1)
            return r;   /* 0, or an error from the items' equal */
    }
    return 1;
}

static int tuple_repr(rc_obj *self, char *buf, size_t len) {
    const tuple_obj *t = as_tuple(self);
    rct_writer w;
    rct_writer_init(&w, buf, len);
    if (tuple_len(t) == 0) {              /* the static empty tuple: no runtime */
        rct_writer_put(&w, "()", 2);
        return rct_writer_finish(&w);
    }
    rc_runtime *rt = rco_runtime(self);
    rco_repr_frame frame;
    if (!rco_repr_enter(rt, &frame, self)) {
        rct_writer_put(&w, "(...)", 5);
        return rct_writer_finish(&w);
    }
    rct_writer_put(&w, "(", 1);
    for (size_t i = 0, n = tuple_len(t); i < n; i++) {
        if (i > 0)
            rct_writer_put(&w, ", ", 2);
        if (!t->items[i]) {
            rct_writer_put(&w, "<cleared>", 9);
            continue;
        }
        int r = rct_writer_repr(&w, rt, t->items[i]);
        if (r < 0) {
            rco_repr_leave(rt, &frame);
            return r;
        }
    }
    rco_repr_leave(rt, &frame);
    if (tuple_len(t) == 1)
        rct_writer_put(&w, ",", 1);
    rct_writer_put(&w, ")", 1);
    return rct_writer_finish(&w);
}
