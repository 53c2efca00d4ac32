/* weakref.c - weak references and their callbacks.
 *
 * A weak reference is an object of type rc_weakref_type. The runtime keeps a
 * table from each target to the first of its weak references; they form a
 * doubly-linked list. The target carries RCO_F_WEAKREFS while the list is
 * non-empty, so objects without weak references pay nothing when they die.
 *
 * When a target dies every weak reference to it is cleared first, and only
 * then are the callbacks run (each with a temporary reference to its weak
 * reference), so no callback sees a half-cleared set (CPython's order). A
 * target whose count is zero, or that waits in the deallocation queue, is
 * already dead for rc_weakref_get.
 *
 * rc_weakref_new makes an object for its caller (directly, or for the
 * weak-value dict's rc_weakvaluedict_set): it is RCI_ALLOC_FRAME, as rc_new
 * is, so that frame 0 of a traced weak reference is the code that asked for
 * it (docs/trace.md, "Objects"). Nothing else of this file allocates
 * objects (the table of targets is on the raw allocator). */
#include "object/object.h"

typedef struct rco_weakref {
    rc_obj ob;
    rc_obj *target;                        /* borrowed; NULL once dead */
    void (*callback)(rc_obj *ref, void *arg);
    void *arg;
    struct rco_weakref *next, *prev;       /* the target's list */
    struct rco_weakref *pending;           /* callbacks to run (clearing) */
} rco_weakref;

static void unlink_ref(rc_runtime *rt, rco_weakref *w) {
    rc_obj *t = w->target;
    if (!t)
        return;
    if (w->prev) {
        w->prev->next = w->next;
    } else {
        /* first of the list: the table points at the next one */
        if (w->next)
            rci_htable_put(&rt->weakrefs, (uintptr_t)t, (uintptr_t)w->next);  /* existing key: no allocation */
        else {
            rci_htable_remove(&rt->weakrefs, (uintptr_t)t, NULL);
            t->rc_head_ &= ~RCO_F_WEAKREFS;
        }
    }
    if (w->next)
        w->next->prev = w->prev;
    w->next = w->prev = NULL;
    w->target = NULL;
}

static void weakref_destroy(rc_obj *self) {
    rco_weakref *w = (rco_weakref *)self;
    if (w->target) {
        rc_runtime *rt = rco_runtime(self);
        if (!rt->tearing_down)
            unlink_ref(rt, w);
        w->target = NULL;
    }
}

static int weakref_repr(rc_obj *self, char *buf, size_t len) {
    rco_weakref *w = (rco_weakref *)self;
    if (!w->target)
        return snprintf(buf, len, "<weakref at %p; dead>", (void *)self);
    return snprintf(buf, len, "<weakref at %p; to '%s' at %p>", (void *)self,
                    rc_type_name(w->target), (void *)w->target);
}

const rc_type rc_weakref_type = {
    .name = "weakref",
    .size = sizeof(rco_weakref),
    .destroy = weakref_destroy,
    .repr = weakref_repr,
};

RCI_ALLOC_FRAME rc_obj *rc_weakref_new(rc_runtime *rt, rc_obj *target,
                                       void (*callback)(rc_obj *ref, void *arg), void *arg) {
    if (!rt)
        return NULL;
    if (!target)
        return rco_err_null(rt, RC_EINVAL, "rc_weakref_new: NULL target");
    if (!rco_check_live(rt, target, "rc_weakref_new"))
        return NULL;
    /* An immortal object (a small int, an interned str, a constant) never
     * dies, so its weak reference could never be cleared nor its callback
     * run: refused, as Python refuses weak references to ints and strs. */
    if (target->rc_head_ & RCO_F_IMMORTAL)
        return rco_err_null(rt, RC_ETYPE, "rc_weakref_new: cannot create a weak reference to an "
                                          "immortal %s (it never dies)", rc_type_name(target));
    if (rco_runtime(target) != rt)
        return rco_refuse_foreign(rt, "rc_weakref_new", NULL, target), NULL;
    rco_weakref *w = (rco_weakref *)rc_new(rt, &rc_weakref_type);
    if (!w)
        return NULL;
    w->callback = callback;
    w->arg = arg;
    uintptr_t first = 0;
    bool had = rci_htable_get(&rt->weakrefs, (uintptr_t)target, &first);
    if (rci_htable_put(&rt->weakrefs, (uintptr_t)target, (uintptr_t)w) != 0) {
        w->target = NULL;
        rco_decref(&w->ob);
        return rco_nomem_null(rt);
    }
    w->target = target;
    w->prev = NULL;
    w->next = had ? (rco_weakref *)first : NULL;
    if (w->next)
        w->next->prev = w;
    target->rc_head_ |= RCO_F_WEAKREFS;
    return &w->ob;
}

rc_obj *rc_weakref_get(const rc_obj *ref) {
    if (!ref || ref->rc_type_ != &rc_weakref_type)
        return NULL;
    const rco_weakref *w = (const rco_weakref *)ref;
    rc_obj *t = w->target;
    if (!t)
        return NULL;
    uint64_t h = t->rc_head_;
    if ((h & (RCO_F_QUEUED | RCO_F_FREED)) || (!(h & RCO_F_IMMORTAL) && (h & RCO_COUNT_MASK) == 0))
        return NULL;
    if (h & RCO_F_BARRIER) {
        rc_runtime *rt = rco_runtime(t);
        if (rt->gc_doomed && rt->gc_doomed(rt, t))
            return NULL;
    }
    return t;
}

size_t rc_weakref_count(const rc_obj *o) {
    if (!o || !(o->rc_head_ & RCO_F_WEAKREFS))
        return 0;
    rc_runtime *rt = rco_runtime(o);
    uintptr_t first;
    if (!rci_htable_get(&rt->weakrefs, (uintptr_t)o, &first))
        return 0;
    size_t n = 0;
    for (rco_weakref *w = (rco_weakref *)first; w; w = w->next)
        n++;
    return n;
}

/* Clear every weak reference to o. Those with a callback, and whose own
 * count is above zero, are kept alive (a temporary reference) and appended
 * to the chain *pending for rco_weakrefs_run_callbacks. */
void rco_weakrefs_detach(rc_runtime *rt, rc_obj *o, rco_weakref_chain *pending) {
    uintptr_t first;
    if (!rci_htable_remove(&rt->weakrefs, (uintptr_t)o, &first)) {
        o->rc_head_ &= ~RCO_F_WEAKREFS;
        return;
    }
    o->rc_head_ &= ~RCO_F_WEAKREFS;
    for (rco_weakref *w = (rco_weakref *)first, *next; w; w = next) {
        next = w->next;
        w->next = w->prev = NULL;
        w->target = NULL;
        /* A weak reference whose own count reached zero and that waits in
         * the deallocation queue is dead: unlink it, never call it back. */
        bool dying = (w->ob.rc_head_ & (RCO_F_QUEUED | RCO_F_FREED)) != 0 ||
                     (!(w->ob.rc_head_ & RCO_F_IMMORTAL) && rco_refcount(&w->ob) == 0);
        if (pending && w->callback && !dying) {
            rco_incref(&w->ob);
            w->pending = NULL;
            if (pending->tail)
                ((rco_weakref *)pending->tail)->pending = w;
            else
                pending->head = &w->ob;
            pending->tail = &w->ob;
        }
    }
}

rc_obj *rco_weakrefs_pop(rco_weakref_chain *pending) {
    rco_weakref *w = (rco_weakref *)pending->head;
    if (!w)
        return NULL;
    pending->head = w->pending ? &w->pending->ob : NULL;
    if (!w->pending)
        pending->tail = NULL;
    w->pending = NULL;
    return &w->ob;
}

void rco_weakref_call(rc_obj *ref) {
    rco_weakref *w = (rco_weakref *)ref;
    w->callback(&w->ob, w->arg);
}

void rco_weakrefs_run_callbacks(rco_weakref_chain *pending) {
    rc_obj *w;
    while ((w = rco_weakrefs_pop(pending)) != NULL) {
        rco_weakref_call(w);
        rco_decref(w);
    }
}

void rco_weakrefs_clear(rc_runtime *rt, rc_obj *o, bool call_callbacks) {
    rco_weakref_chain pending = { NULL, NULL };
    rco_weakrefs_detach(rt, o, call_callbacks ? &pending : NULL);
    rco_weakrefs_run_callbacks(&pending);
}

void rco_weakrefs_teardown(rc_runtime *rt) {
    rci_htable_free(&rt->weakrefs);
}
