/* list.c - rc_list: a mutable sequence of object references (Python's list).
 *
 * Layout: a fixed-size GC object (rct_list below) pointing to a separate
 * item buffer of `allocated` slots from the runtime's heap (rco_alloc, block
 * kind RCO_KIND_BUFFER), so the object never moves when the list grows.
 *
 *   [ rco_gc (16) ][ rc_obj (16) | items | len | allocated:40 stamp:24 ]
 *
 * 56 bytes, CPython's list (ob_size, ob_item, allocated after its GC and
 * object headers): the modification stamp shares a word with the capacity.
 *
 * Invariants
 *   - 0 <= len <= allocated < 2**40 (LIST_MAX_ITEMS keeps every capacity
 *     below that: 8 TiB of pointers); items == NULL exactly when
 *     allocated == 0.
 *   - items[0..len) are non-NULL and each holds one reference; slots past
 *     len are garbage and never read.
 *   - the stamp (the word's top 24 bits) grows by 1 modulo 2**24 on every
 *     mutation (append, insert, set, pop, del, clear, extend, reverse,
 *     sort); iterators compare it (iter.c). An iterator therefore misses a
 *     mutation only when a multiple of 2**24 (16,777,216) of them happen
 *     between two of its steps; a program that does that while iterating
 *     is not one this check exists for. The stamp is bumped by adding
 *     LIST_STAMP_ONE to the word: the carry out of the top bit is dropped,
 *     the capacity bits never change.
 *   - Every mutation brings the list to a consistent state *before* it drops
 *     a reference: a decref may run arbitrary code (a finalizer, a user
 *     destroy) that reads or mutates this very list.
 *   - A failed call leaves the list unchanged (Redis adlist's contract):
 *     memory is reserved before anything is modified. Shrinking is the one
 *     benign failure: when the smaller buffer cannot be had, the list keeps
 *     the larger one and the call still succeeds (the runtime's error is left
 *     as it was).
 *
 * Growth policy (CPython's list_resize, and for the same reasons): to hold
 * n items when the buffer is too small, allocate
 *     (n + n/8 + 6) rounded down to a multiple of 4
 * slots, or n rounded up to 4 when one call adds more than that over-
 * allocation (a large extend does not reserve an eighth more). The
 * proportional part makes a run of appends amortised O(1) while wasting at
 * most ~12.5% (less than doubling, which matters for the many small lists of
 * object graphs); the +6 avoids a reallocation on each of the first appends;
 * multiples of 4 slots (32 bytes) match the heap's 16-byte size classes.
 * The buffer shrinks (to the same formula) when len falls below half of
 * allocated, so a list that is drained gives its memory back while a list
 * oscillating around one size does not reallocate on every call; an empty
 * list frees its buffer.
 *
 * Sort: a stable bottom-up merge sort (binary insertion sort on runs of 32,
 * then merges) on a copy of the item pointers. While it runs the list
 * appears empty (CPython does the same) and owns its items through the
 * detached buffer; the sorted order is installed only when every comparison
 * succeeded and the comparator did not touch the list. Otherwise the
 * original order comes back, and whatever the comparator put into the list
 * is dropped (RC_ESTATE).
 *
 * Recursion: equality and repr of nested lists recurse through rc_equal /
 * rc_repr, whose depth the runtime's recursion guard bounds (RC_EOVERFLOW,
 * object.h). repr prints a list inside itself as "[...]" through the same
 * guard (rco_repr_enter).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "types/types.h"

/* Runs sorted by insertion before merging (a power of two is not needed). */
#define SORT_RUN 32

typedef struct rct_list {
    rc_obj ob;
    rc_obj **items;       /* allocated slots; NULL when allocated == 0 */
    size_t len;
    uint64_t cap_stamp;   /* allocated (low LIST_CAP_BITS), stamp (the rest) */
} rct_list;

#define LIST_CAP_BITS  40
#define LIST_CAP_MASK  ((UINT64_C(1) << LIST_CAP_BITS) - 1)
#define LIST_STAMP_ONE (UINT64_C(1) << LIST_CAP_BITS)

_Static_assert(sizeof(rct_list) + sizeof(rco_gc) == 56, "CPython's list: 56 bytes");

/* The largest item count we ever try to hold: its capacity by the growth
 * policy (n + n/8 + 6) stays below 2**LIST_CAP_BITS, and every size
 * computation below (slots of 8 bytes, the sort's 2n scratch) far from
 * overflow. */
#define LIST_MAX_ITEMS ((size_t)1 << (LIST_CAP_BITS - 1))

static inline rct_list *as_list(const rc_obj *o) {
    return (rct_list *)(uintptr_t)o;
}

static inline size_t list_allocated(const rct_list *l) {
    return (size_t)(l->cap_stamp & LIST_CAP_MASK);
}

static inline void set_allocated(rct_list *l, size_t cap) {
    l->cap_stamp = (l->cap_stamp & ~LIST_CAP_MASK) | (uint64_t)cap;
}

static inline uint64_t list_stamp(const rct_list *l) {
    return l->cap_stamp >> LIST_CAP_BITS;
}

static inline void bump_stamp(rct_list *l) {
    l->cap_stamp += LIST_STAMP_ONE;
}

/* ---------------------------------------------------------------------------
 * Buffer management
 * ------------------------------------------------------------------------- */

/* Capacity for newsize items by the growth policy above (len: current). */
static size_t target_capacity(size_t len, size_t newsize) {
    if (newsize == 0)
        return 0;
    size_t cap = (newsize + (newsize >> 3) + 6) & ~(size_t)3;
    if (newsize > len && newsize - len > cap - newsize)
        cap = (newsize + 3) & ~(size_t)3;
    return cap;
}

/* Make room for newsize items (newsize > allocated). On failure: RC_ENOMEM
 * recorded, list unchanged. */
static RCI_ALLOC_FRAME int list_grow(rc_runtime *rt, rct_list *l, size_t newsize) {
    if (newsize <= list_allocated(l))
        return 0;
    if (newsize > LIST_MAX_ITEMS)
        return rco_err(rt, RC_ENOMEM, "list: %zu items do not fit in memory", newsize);
    size_t cap = target_capacity(l->len, newsize);
    rc_obj **p = l->items ? rco_realloc(rt, l->items, cap * sizeof(rc_obj *))
                          : rco_alloc(rt, cap * sizeof(rc_obj *));
    if (!p)
        return rco_nomem(rt);
    l->items = p;
    set_allocated(l, cap);
    return 0;
}

/* After the length dropped: give memory back when len < allocated / 2.
 * Benign on failure: the larger buffer stays and rt's error is restored. */
static RCI_ALLOC_FRAME void list_shrink(rc_runtime *rt, rct_list *l) {
    size_t allocated = list_allocated(l);
    if (l->len >= (allocated >> 1))
        return;
    if (l->len == 0) {
        rco_free(rt, l->items);
        l->items = NULL;
        set_allocated(l, 0);
        return;
    }
    size_t cap = target_capacity(l->len, l->len);
    if (cap >= allocated)
        return;
    rco_error_state saved_err;
    rco_error_save(rt, &saved_err);
    rc_obj **p = rco_realloc(rt, l->items, cap * sizeof(rc_obj *));
    if (!p) {                         /* benign: keep the larger buffer */
        rco_error_restore(rt, &saved_err);
        return;
    }
    l->items = p;
    set_allocated(l, cap);
}

/* Detach the items and drop them (clear, destroy, the collector's clear).
 * The list is empty and consistent before the first decref runs, and the
 * runtime is looked up before: a decref may free the list itself. */
static void list_drop_all(rc_obj *self) {
    rct_list *l = as_list(self);
    rc_obj **items = l->items;
    size_t n = l->len;
    l->items = NULL;
    l->len = 0;
    set_allocated(l, 0);
    bump_stamp(l);
    if (!items)
        return;
    rc_runtime *rt = rco_runtime(self);
    while (n-- > 0)                     /* last first, as CPython */
        rco_xdecref(items[n]);
    rco_free(rt, items);
}

/* ---------------------------------------------------------------------------
 * Argument checks
 * ------------------------------------------------------------------------- */

static inline int check_list(rc_runtime *rt, const rc_obj *list, const char *fn) {
    return rct_check_arg(rt, list, &rc_list_type, fn);
}

/* A list argument for the functions without a runtime (void results):
 * true if list is a live list. */
static inline bool is_live_list(const rc_obj *list) {
    return list && list->rc_type_ == &rc_list_type && !(list->rc_head_ & RCO_F_FREED);
}

static int index_error(rc_runtime *rt, const char *fn, size_t i, size_t len) {
    return rco_err(rt, RC_EINDEX, "%s: index %zu out of range (len %zu)", fn, i, len);
}

/* ---------------------------------------------------------------------------
 * Construction
 * ------------------------------------------------------------------------- */

RCI_ALLOC_FRAME rc_obj *rc_list(rc_runtime *rt) {
    if (!rt)
        return NULL;
    return rc_new(rt, &rc_list_type);
}

RCI_ALLOC_FRAME rc_obj *rc_list_with_capacity(rc_runtime *rt, size_t capacity) {
    if (!rt)
        return NULL;
    if (capacity > LIST_MAX_ITEMS)
        return rco_err_null(rt, RC_ENOMEM, "rc_list_with_capacity: %zu items do not fit in memory",
                            capacity);
    rc_obj *o = rc_new(rt, &rc_list_type);
    if (!o || capacity == 0)
        return o;
    rct_list *l = as_list(o);
    l->items = rco_alloc(rt, capacity * sizeof(rc_obj *));
    if (!l->items) {
        rco_decref(o);
        return rco_nomem_null(rt);
    }
    set_allocated(l, capacity);
    return o;
}

int rc_is_list(const rc_obj *o) {
    return o != NULL && o->rc_type_ == &rc_list_type;
}

size_t rc_list_len(const rc_obj *list) {
    return is_live_list(list) ? as_list(list)->len : 0;
}

/* ---------------------------------------------------------------------------
 * Adding items
 * ------------------------------------------------------------------------- */

RCI_ALLOC_FRAME int rc_list_append(rc_runtime *rt, rc_obj *list, rc_obj *item) {
    if (!rt)
        return RC_EINVAL;
    int r = check_list(rt, list, "rc_list_append");
    if (r == 0)
        r = rct_check_arg(rt, item, NULL, "rc_list_append");
    if (r == 0)
        r = rct_check_link(rt, list, item, "rc_list_append");
    if (r != 0)
        return r;
    rct_list *l = as_list(list);
    if (l->len == list_allocated(l) && (r = list_grow(rt, l, l->len + 1)) != 0)
        return r;
    rco_incref(item);
    l->items[l->len++] = item;
    bump_stamp(l);
    return 0;
}

RCI_ALLOC_FRAME int rc_list_insert(rc_runtime *rt, rc_obj *list, size_t i, rc_obj *item) {
    if (!rt)
        return RC_EINVAL;
    int r = check_list(rt, list, "rc_list_insert");
    if (r == 0)
        r = rct_check_arg(rt, item, NULL, "rc_list_insert");
    if (r == 0)
        r = rct_check_link(rt, list, item, "rc_list_insert");
    if (r != 0)
        return r;
    rct_list *l = as_list(list);
    if (l->len == list_allocated(l) && (r = list_grow(rt, l, l->len + 1)) != 0)
        return r;
    if (i > l->len)
        i = l->len;
    memmove(l->items + i + 1, l->items + i, (l->len - i) * sizeof(rc_obj *));
    rco_incref(item);
    l->items[i] = item;
    l->len++;
    bump_stamp(l);
    return 0;
}

RCI_ALLOC_FRAME int rc_list_extend(rc_runtime *rt, rc_obj *list, rc_obj *items) {
    if (!rt)
        return RC_EINVAL;
    int r = check_list(rt, list, "rc_list_extend");
    if (r == 0)
        r = rct_check_arg(rt, items, NULL, "rc_list_extend");
    if (r == 0)
        r = rct_check_link(rt, list, items, "rc_list_extend");
    if (r != 0)
        return r;
    rct_list *l = as_list(list);
    bool from_list = items->rc_type_ == &rc_list_type;
    if (!from_list && items->rc_type_ != &rc_tuple_type)
        return rco_err(rt, RC_ETYPE, "rc_list_extend: expected a list or tuple, got %s",
                       items->rc_type_->name);
    /* The count is read once, before growing: a list extending itself
     * appends its original items once. */
    size_t n = from_list ? as_list(items)->len : rc_tuple_len(items);
    if (n == 0)
        return 0;
    if (n > LIST_MAX_ITEMS - l->len)
        return rco_err(rt, RC_ENOMEM, "rc_list_extend: %zu + %zu items do not fit in memory",
                       l->len, n);
    if ((r = list_grow(rt, l, l->len + n)) != 0)
        return r;
    rc_obj **dst = l->items + l->len;
    if (from_list) {
        /* Read the source's buffer after the grow (it is ours if items ==
         * list). Increfs run no code, so nothing can change under us. */
        rc_obj **src = as_list(items)->items;
        for (size_t k = 0; k < n; k++) {
            rco_incref(src[k]);
            dst[k] = src[k];
        }
    } else {
        for (size_t k = 0; k < n; k++) {
            rc_obj *o = rc_tuple_get(rt, items, k);
            rco_incref(o);
            dst[k] = o;
        }
    }
    l->len += n;
    bump_stamp(l);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Reading and replacing
 * ------------------------------------------------------------------------- */

rc_obj *rc_list_get(rc_runtime *rt, const rc_obj *list, size_t i) {
    if (!rt || check_list(rt, list, "rc_list_get") != 0)
        return NULL;
    const rct_list *l = as_list(list);
    if (i >= l->len) {
        index_error(rt, "rc_list_get", i, l->len);
        return NULL;
    }
    return l->items[i];
}

int rc_list_set(rc_runtime *rt, rc_obj *list, size_t i, rc_obj *item) {
    if (!rt)
        return RC_EINVAL;
    int r = check_list(rt, list, "rc_list_set");
    if (r == 0)
        r = rct_check_arg(rt, item, NULL, "rc_list_set");
    if (r == 0)
        r = rct_check_link(rt, list, item, "rc_list_set");
    if (r != 0)
        return r;
    rct_list *l = as_list(list);
    if (i >= l->len)
        return index_error(rt, "rc_list_set", i, l->len);
    rc_obj *old = l->items[i];
    rco_incref(item);
    l->items[i] = item;
    bump_stamp(l);
    rco_decref(old);          /* last: may re-enter the list */
    return 0;
}

long rc_list_index(rc_runtime *rt, rc_obj *list, rc_obj *x) {
    if (!rt)
        return RC_EINVAL;
    int r = check_list(rt, list, "rc_list_index");
    if (r == 0)
        r = rct_check_arg(rt, x, NULL, "rc_list_index");
    if (r != 0)
        return r;
    rct_list *l = as_list(list);
    /* rc_equal may run user code that mutates the list: re-read len and
     * items each round and hold the item while comparing (CPython). */
    for (size_t i = 0; i < l->len; i++) {
        rc_obj *item = l->items[i];
        rco_incref(item);
        int eq = rc_equal(rt, item, x);
        rco_decref(item);
        if (eq < 0)
            return eq;
        if (eq > 0)
            return (long)i;
    }
    return rco_err(rt, RC_EKEY, "rc_list_index: item not in list");
}

/* ---------------------------------------------------------------------------
 * Removing items
 * ------------------------------------------------------------------------- */

/* Take items[i] (i < len) out of the list; the list's reference passes to
 * the caller. Runs no user code. */
static RCI_ALLOC_FRAME rc_obj *list_remove(rc_runtime *rt, rct_list *l, size_t i) {
    rc_obj *item = l->items[i];
    memmove(l->items + i, l->items + i + 1, (l->len - i - 1) * sizeof(rc_obj *));
    l->len--;
    bump_stamp(l);
    list_shrink(rt, l);
    return item;
}

RCI_ALLOC_FRAME rc_obj *rc_list_pop_at(rc_runtime *rt, rc_obj *list, size_t i) {
    if (!rt || check_list(rt, list, "rc_list_pop_at") != 0)
        return NULL;
    rct_list *l = as_list(list);
    if (i >= l->len) {
        if (l->len == 0)
            return rco_err_null(rt, RC_EINDEX, "rc_list_pop_at: pop from empty list");
        index_error(rt, "rc_list_pop_at", i, l->len);
        return NULL;
    }
    return list_remove(rt, l, i);
}

RCI_ALLOC_FRAME rc_obj *rc_list_pop(rc_runtime *rt, rc_obj *list) {
    if (!rt || check_list(rt, list, "rc_list_pop") != 0)
        return NULL;
    rct_list *l = as_list(list);
    if (l->len == 0)
        return rco_err_null(rt, RC_EINDEX, "rc_list_pop: pop from empty list");
    rc_obj *item = l->items[--l->len];
    /* list_shrink's test first, on the word just stored rather than a load
     * of it: most pops do not shrink, and skip the call */
    uint64_t cs = l->cap_stamp + LIST_STAMP_ONE;
    l->cap_stamp = cs;
    if (rci_unlikely(l->len < ((size_t)(cs & LIST_CAP_MASK) >> 1)))
        list_shrink(rt, l);
    return item;
}

RCI_ALLOC_FRAME int rc_list_del(rc_runtime *rt, rc_obj *list, size_t i) {
    if (!rt)
        return RC_EINVAL;
    int r = check_list(rt, list, "rc_list_del");
    if (r != 0)
        return r;
    rct_list *l = as_list(list);
    if (i >= l->len)
        return index_error(rt, "rc_list_del", i, l->len);
    rco_decref(list_remove(rt, l, i));   /* the list is consistent: may re-enter */
    return 0;
}

void rc_list_clear(rc_obj *list) {
    if (is_live_list(list))
        list_drop_all(list);
}

void rc_list_reverse(rc_obj *list) {
    if (!is_live_list(list))
        return;
    rct_list *l = as_list(list);
    if (l->len < 2)
        return;
    for (size_t a = 0, b = l->len - 1; a < b; a++, b--) {
        rc_obj *t = l->items[a];
        l->items[a] = l->items[b];
        l->items[b] = t;
    }
    bump_stamp(l);
}

/* ---------------------------------------------------------------------------
 * Sort
 * ------------------------------------------------------------------------- */

typedef struct sort_ctx {
    rc_runtime *rt;
    rc_cmpfn cmp;             /* NULL: rct_numeric_compare */
    void *arg;
} sort_ctx;

/* *lt = (a < b). 0, or the comparison's error: the default comparison's,
 * or the one a user comparator recorded on the runtime (the runtime has no
 * error when the sort starts, so any code there is the comparator's). */
static inline int sort_less(const sort_ctx *c, rc_obj *a, rc_obj *b, bool *lt) {
    if (c->cmp) {
        *lt = c->cmp(a, b, c->arg) < 0;
        return c->rt->err_code;
    }
    int out = 0;
    int r = rct_numeric_compare(c->rt, a, b, &out);
    if (r != 0)
        return r;
    *lt = out < 0;
    return 0;
}

/* Stable binary insertion sort of a[lo..hi). */
static int insertion_sort(const sort_ctx *c, rc_obj **a, size_t lo, size_t hi) {
    for (size_t i = lo + 1; i < hi; i++) {
        rc_obj *x = a[i];
        size_t l = lo, h = i;
        while (l < h) {               /* first position whose item is > x */
            size_t m = l + (h - l) / 2;
            bool lt;
            int r = sort_less(c, x, a[m], &lt);
            if (r != 0)
                return r;
            if (lt)
                h = m;
            else
                l = m + 1;
        }
        memmove(a + l + 1, a + l, (i - l) * sizeof(rc_obj *));
        a[l] = x;
    }
    return 0;
}

/* Merge src[lo..mid) and src[mid..hi) into dst[lo..hi); ties take the left
 * run first (stability). */
static int merge_runs(const sort_ctx *c, rc_obj **src, rc_obj **dst, size_t lo, size_t mid,
                      size_t hi) {
    size_t i = lo, j = mid, k = lo;
    bool lt;
    int r;
    if (mid < hi && mid > lo) {       /* already in order: one comparison */
        if ((r = sort_less(c, src[mid], src[mid - 1], &lt)) != 0)
            return r;
        if (!lt) {
            memcpy(dst + lo, src + lo, (hi - lo) * sizeof(rc_obj *));
            return 0;
        }
    }
    while (i < mid && j < hi) {
        if ((r = sort_less(c, src[j], src[i], &lt)) != 0)
            return r;
        dst[k++] = lt ? src[j++] : src[i++];
    }
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
    return 0;
}

/* Sort a[0..n) using tmp[0..n); *out names the buffer holding the result. */
static int merge_sort(const sort_ctx *c, rc_obj **a, rc_obj **tmp, size_t n, rc_obj ***out) {
    int r;
    for (size_t lo = 0; lo < n; lo += SORT_RUN) {
        size_t hi = n - lo > SORT_RUN ? lo + SORT_RUN : n;
        if ((r = insertion_sort(c, a, lo, hi)) != 0)
            return r;
    }
    rc_obj **src = a, **dst = tmp;
    for (size_t width = SORT_RUN; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = n - lo > width ? lo + width : n;
            size_t hi = n - mid > width ? mid + width : n;
            if ((r = merge_runs(c, src, dst, lo, mid, hi)) != 0)
                return r;
        }
        rc_obj **t = src;
        src = dst;
        dst = t;
    }
    *out = src;
    return 0;
}

RCI_ALLOC_FRAME int rc_list_sort(rc_runtime *rt, rc_obj *list, rc_cmpfn cmp, void *arg) {
    if (!rt)
        return RC_EINVAL;
    int r = check_list(rt, list, "rc_list_sort");
    if (r != 0)
        return r;
    rct_list *l = as_list(list);
    size_t n = l->len;
    if (n < 2)
        return 0;
    /* Reserve everything first: the list is unchanged on RC_ENOMEM. */
    rc_obj **work = rco_alloc(rt, 2 * n * sizeof(rc_obj *));
    if (!work)
        return rco_nomem(rt);
    memcpy(work, l->items, n * sizeof(rc_obj *));

    /* Detach: the list looks empty to the comparator and still owns its
     * items through `saved`. */
    rc_obj **saved = l->items;
    size_t saved_alloc = list_allocated(l);
    uint64_t stamp = list_stamp(l);
    l->items = NULL;
    l->len = 0;
    set_allocated(l, 0);

    /* The caller's error is set aside while comparators run, so that one
     * they record is seen at once; it is put back unless the sort fails. */
    rco_error_state saved_err;
    rco_error_save(rt, &saved_err);
    rc_error_clear(rt);

    sort_ctx c = { rt, cmp, arg };
    rc_obj **sorted = NULL;
    r = merge_sort(&c, work, work + n, n, &sorted);
    if (r == 0)
        rco_error_restore(rt, &saved_err);

    /* Whatever the comparator left in the list, and whether it touched it. */
    rc_obj **extra = l->items;
    size_t nextra = l->len;
    bool mutated = list_stamp(l) != stamp;

    l->items = saved;
    l->len = n;
    set_allocated(l, saved_alloc);
    if (r == 0 && !mutated)
        memcpy(l->items, sorted, n * sizeof(rc_obj *));
    if (r == 0 || mutated)
        bump_stamp(l);            /* the order, or what the list looked like, changed */
    rco_free(rt, work);

    /* The list is whole again; now drop what the comparator added (may run
     * code). */
    if (extra) {
        while (nextra-- > 0)
            rco_decref(extra[nextra]);
        rco_free(rt, extra);
    }
    if (r != 0) {
        if (rc_error(rt) != r)
            rco_err(rt, r, "rc_list_sort: comparison failed");
        return r;
    }
    if (mutated)
        return rco_err(rt, RC_ESTATE, "rc_list_sort: list modified during sort");
    return 0;
}

/* ---------------------------------------------------------------------------
 * The type's slots
 * ------------------------------------------------------------------------- */

static int list_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    rct_list *l = as_list(self);
    for (size_t i = 0; i < l->len; i++) {
        if (l->items[i]) {
            int r = visit(l->items[i], arg);
            if (r != 0)
                return r;
        }
    }
    return 0;
}

static void list_clear_slot(rc_obj *self) {
    list_drop_all(self);
}

static int list_equal(rc_obj *a, rc_obj *b) {
    if (!b || b->rc_type_ != &rc_list_type)
        return 0;
    rct_list *x = as_list(a), *y = as_list(b);
    if (x->len != y->len)
        return 0;
    if (a == b)
        return 1;
    rc_runtime *rt = rco_runtime(a);
    int eq = 1;
    /* Item comparisons may run user code that mutates either list: re-read
     * the lengths each round and hold both items while comparing. */
    for (size_t i = 0; i < x->len && i < y->len; i++) {
        rc_obj *p = x->items[i], *q = y->items[i];
        if (p == q)
            continue;
        rco_incref(p);
        rco_incref(q);
        eq = rc_equal(rt, p, q);
        rco_decref(p);
        rco_decref(q);
        if (eq != 1)
            break;
    }
    if (eq == 1 && x->len != y->len)
        eq = 0;
    return eq;
}

static int list_repr(rc_obj *self, char *buf, size_t len) {
    rct_writer w;
    rct_writer_init(&w, buf, len);
    rc_runtime *rt = rco_runtime(self);
    rco_repr_frame frame;
    if (!rco_repr_enter(rt, &frame, self)) {
        rct_writer_puts(&w, "[...]");
        return rct_writer_finish(&w);
    }
    rct_list *l = as_list(self);
    int r = 0;
    rct_writer_put(&w, "[", 1);
    /* An item's repr may run user code: re-read len each round and hold
     * the item while printing it. */
    for (size_t i = 0; i < l->len; i++) {
        if (i > 0)
            rct_writer_put(&w, ", ", 2);
        rc_obj *item = l->items[i];
        rco_incref(item);
        r = rct_writer_repr(&w, rt, item);
        rco_decref(item);
        if (r < 0)
            break;
    }
    rco_repr_leave(rt, &frame);
    if (r < 0)
        return r;
    rct_writer_put(&w, "]", 1);
    return rct_writer_finish(&w);
}

static size_t list_sizeof_extra(rc_obj *self) {
    return list_allocated(as_list(self)) * sizeof(rc_obj *);
}

const rc_type rc_list_type = {
    .name = "list",
    .size = sizeof(rct_list),
    .itemsize = 0,
    .flags = RC_TYPE_GC,
    .traverse = list_traverse,
    .clear = list_clear_slot,
    .finalize = NULL,
    .destroy = list_clear_slot,
    .hash = NULL,                      /* unhashable, as in Python */
    .equal = list_equal,
    .repr = list_repr,
    .sizeof_extra = list_sizeof_extra,
};

/* ---------------------------------------------------------------------------
 * For iter.c
 * ------------------------------------------------------------------------- */

uint64_t rct_list_stamp(const rc_obj *list) {
    return rc_is_list(list) ? list_stamp(as_list(list)) : 0;
}

int rct_list_iter(rc_runtime *rt, rc_iter *it, rc_obj **item) {
    const rct_list *l = as_list(it->container);
    if (list_stamp(l) != it->stamp)
        return rco_err(rt, RC_ESTATE, "list changed size or contents during iteration");
    if (it->pos >= l->len)
        return 0;
    *item = l->items[it->pos++];
    return 1;
}
