/* sizeof.c - rc_sizeof (sys.getsizeof) and rc_deep_sizeof.
 *
 * rc_sizeof counts the object's block as the program asked for it: the
 * collector's and var prefixes, the fixed part, the items, plus whatever the
 * type says it owns outside the block (sizeof_extra: list item arrays, dict
 * tables). rc_deep_sizeof walks everything reachable through traverse with
 * an explicit stack (no recursion: graphs may be deep) and a visited set,
 * so each object is counted once and cycles end. */
#include "object/object.h"

#include <string.h>

size_t rc_sizeof(const rc_obj *o) {
    if (!o)
        return 0;
    const rc_type *t = o->rc_type_;
    size_t n = rco_prefix_size(o->rc_head_) + t->size;
    if (o->rc_head_ & RCO_F_VAR)
        n += rco_var_of(o)->nitems * t->itemsize;
    if (t->sizeof_extra && !(o->rc_head_ & RCO_F_FREED))
        n += t->sizeof_extra((rc_obj *)(uintptr_t)o);
    return n;
}

typedef struct deep_ctx {
    rci_htable seen;
    rc_obj **stack;
    size_t n, cap;
    bool failed;
} deep_ctx;

static int push_child(rc_obj *child, void *arg) {
    deep_ctx *c = arg;
    if (!child)
        return 0;
    if (rci_htable_get(&c->seen, (uintptr_t)child, NULL))
        return 0;
    if (rci_htable_put(&c->seen, (uintptr_t)child, 1) != 0) {
        c->failed = true;
        return 1;
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 64;
        rc_obj **s = rci_raw_malloc(ncap * sizeof *s, false);
        if (!s) {
            c->failed = true;
            return 1;
        }
        if (c->stack) {
            memcpy(s, c->stack, c->n * sizeof *s);
            rci_raw_free(c->stack);
        }
        c->stack = s;
        c->cap = ncap;
    }
    c->stack[c->n++] = child;
    return 0;
}

size_t rc_deep_sizeof(rc_runtime *rt, rc_obj *o) {
    if (!o)
        return 0;
    deep_ctx c;
    memset(&c, 0, sizeof c);
    rci_htable_init(&c.seen);
    size_t total = 0;
    push_child(o, &c);
    while (!c.failed && c.n > 0) {
        rc_obj *x = c.stack[--c.n];
        total += rc_sizeof(x);
        if (x->rc_type_->traverse && !(x->rc_head_ & RCO_F_FREED))
            x->rc_type_->traverse(x, push_child, &c);
    }
    if (c.stack)
        rci_raw_free(c.stack);
    rci_htable_free(&c.seen);
    if (c.failed) {
        rco_nomem(rt);
        return 0;
    }
    return total;
}
