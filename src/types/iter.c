/* iter.c - rc_iter: iteration over every built-in container without
 * materializing anything (no allocation at all).
 *
 * An rc_iter lives on the caller's stack and holds no reference: the caller
 * keeps the container alive. It records the container, a position (pos:
 * meaning is the container's - an item index for lists, tuples and arrays,
 * a slot of the entry table for dicts and sets) and the container's
 * modification stamp at rc_iter_init.
 *
 * Invariants
 *   - Every container type keeps a stamp that grows on every mutation,
 *     modulo its width (a list's has 24 bits, beside its capacity: list.c
 *     says what that misses; a tuple is immutable: its stamp is always 0).
 *     A step first compares it with it->stamp: any difference is
 *     RC_ESTATE, and stays so (the iterator is not resynchronised), as
 *     Redis's iterator fingerprint and Python's "changed size during
 *     iteration". This is stricter than Python for lists, whose iterators
 *     tolerate mutation: here every container detects it, so no step can
 *     skip or repeat an item silently.
 *   - Each type steps its own iterators (rct_list_iter, rct_dict_iter, ...);
 *     this file only dispatches on the container's type, so no struct
 *     layout leaves its .c file. Stamps come from the types as well
 *     (rct_list_stamp, rct_dict_stamp, ...).
 *   - Growth policy: none (nothing here allocates).
 */
#include <stddef.h>
#include <stdint.h>

#include "types/types.h"

void rc_iter_init(rc_iter *it, rc_obj *container) {
    if (!it)
        return;
    it->container = container;
    it->pos = 0;
    it->stamp = 0;
    if (!container || (container->rc_head_ & RCO_F_FREED))
        return;                        /* rc_iter_next reports it */
    const rc_type *t = container->rc_type_;
    if (t == &rc_list_type)
        it->stamp = rct_list_stamp(container);
    else if (t == &rc_dict_type)
        it->stamp = rct_dict_stamp(container);
    else if (t == &rc_set_type)
        it->stamp = rct_set_stamp(container);
    else if (t == &rc_weakvaluedict_type)
        it->stamp = rct_weakvaluedict_stamp(container);
    else if (t == &rc_array_type)
        it->stamp = rct_array_stamp(container);
    /* tuples (immutable) and non-containers: 0 */
}

/* The iterator and its container are usable: 0, or the error recorded
 * (RC_EINVAL for a NULL iterator or container, RC_ESTATE for a freed one in
 * debug mode). */
static inline int check_iter(rc_runtime *rt, const rc_iter *it, const char *fn) {
    if (!it)
        return rco_err(rt, RC_EINVAL, "%s: NULL iterator", fn);
    return rct_check_arg(rt, it->container, NULL, fn);
}

int rc_iter_next(rc_runtime *rt, rc_iter *it, rc_obj **item) {
    if (!rt)
        return RC_EINVAL;
    int r = check_iter(rt, it, "rc_iter_next");
    if (r != 0)
        return r;
    if (!item)
        return rco_err(rt, RC_EINVAL, "rc_iter_next: NULL output");
    rc_obj *c = it->container;
    const rc_type *t = c->rc_type_;
    if (t == &rc_list_type)
        return rct_list_iter(rt, it, item);
    if (t == &rc_tuple_type) {
        if (it->pos >= rc_tuple_len(c))
            return 0;
        *item = rc_tuple_get(rt, c, it->pos++);
        return 1;
    }
    if (t == &rc_dict_type) {
        rc_obj *value;
        return rct_dict_iter(rt, it, item, &value);
    }
    if (t == &rc_set_type)
        return rct_set_iter(rt, it, item);
    if (t == &rc_weakvaluedict_type)
        return rct_weakvaluedict_iter(rt, it, item);
    if (t == &rc_array_type)
        return rco_err(rt, RC_ETYPE,
                       "rc_iter_next: an array's items are numbers: use rc_array_next_i64/_f64");
    return rco_err(rt, RC_ETYPE, "rc_iter_next: %s object is not iterable", t->name);
}

int rc_dict_next(rc_runtime *rt, rc_iter *it, rc_obj **key, rc_obj **value) {
    if (!rt)
        return RC_EINVAL;
    int r = check_iter(rt, it, "rc_dict_next");
    if (r != 0)
        return r;
    if (it->container->rc_type_ != &rc_dict_type)
        return rco_err(rt, RC_ETYPE, "rc_dict_next: expected a dict, got %s",
                       it->container->rc_type_->name);
    rc_obj *k, *v;                     /* key or value may be NULL: not wanted */
    r = rct_dict_iter(rt, it, &k, &v);
    if (r == 1) {
        if (key)
            *key = k;
        if (value)
            *value = v;
    }
    return r;
}

static int array_next(rc_runtime *rt, rc_iter *it, int64_t *i64, double *f64, const char *fn) {
    if (!rt)
        return RC_EINVAL;
    int r = check_iter(rt, it, fn);
    if (r != 0)
        return r;
    if (!i64 && !f64)
        return rco_err(rt, RC_EINVAL, "%s: NULL output", fn);
    if (it->container->rc_type_ != &rc_array_type)
        return rco_err(rt, RC_ETYPE, "%s: expected an array, got %s", fn,
                       it->container->rc_type_->name);
    return rct_array_iter(rt, it, i64, f64);
}

int rc_array_next_i64(rc_runtime *rt, rc_iter *it, int64_t *out) {
    return array_next(rt, it, out, NULL, "rc_array_next_i64");
}

int rc_array_next_f64(rc_runtime *rt, rc_iter *it, double *out) {
    return array_next(rt, it, NULL, out, "rc_array_next_f64");
}
