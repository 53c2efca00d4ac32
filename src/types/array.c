/* array.c - rc_array: a typed numeric array (Python's array module).
 *
 * Layout: a fixed-size plain object (not GC: it holds no references)
 * pointing to a separate buffer of `allocated` items of `itemsize` bytes
 * from the runtime's heap (rco_alloc). sys.getsizeof of an array is its
 * header plus itemsize * allocated (sizeof_extra), as in Python.
 *
 * Kinds and their repr typecodes (Python's typecodes of the same width and
 * signedness on LP64 Linux; 'q'/'Q' rather than 'l'/'L' because their width
 * does not depend on the platform):
 *     I8 'b'  U8 'B'  I16 'h'  U16 'H'  I32 'i'  U32 'I'
 *     I64 'q' U64 'Q' F32 'f'  F64 'd'
 * repr: "array('q', [1, 2])", and "array('q')" when empty; floats as
 * Python's float repr (shortest round-trip), F32 items widened to double.
 *
 * Conversions (the same for append, set, get and the iterators): a value is
 * stored or read only when it converts exactly or, for floats, by rounding
 * to the nearest representable value; otherwise nothing is written and
 *   RC_EOVERFLOW  an integer outside the item type's range (300 into U8,
 *                 -1 into U32, a U64 above INT64_MAX read with _get_i64), or
 *                 a finite double beyond FLT_MAX into F32 (it would become
 *                 infinite);
 *   RC_EINVAL     a double with a fractional part, a NaN or an infinity into
 *                 (or read from a float item as) an integer kind. Integral
 *                 doubles are accepted (2.0 stores 2) - Python rejects every
 *                 float there, but a C caller holding a double that is an
 *                 exact integer has no reason to be refused.
 * Integers into float kinds round to nearest (as float(int) does).
 *
 * Invariants
 *   - 0 <= len <= allocated; data == NULL exactly when allocated == 0;
 *     data[0..len*itemsize) holds the items, the rest is garbage.
 *   - stamp grows on every mutation (append, set): iterators compare it.
 *   - A failed call leaves the array unchanged: values are converted and
 *     memory reserved before anything is written.
 *
 * Growth policy: CPython's array_resize, counted in items: to hold n items
 * when the buffer is full, allocate n + n/16 + (len < 8 ? 3 : 7), so the
 * capacities of a run of appends are 0, 4, 8, 16, 25, 34, 44, 54, 65, ... -
 * amortised O(1) appends with at most ~6% slack (half the list's: arrays
 * are the container programs choose to save memory). The extra reallocations
 * cost little: a buffer above the heap's span size (1 MiB) grows by
 * remapping its pages, not by copying them. Arrays only grow (there is no
 * removal).
 *
 * Equality: same kind and same items; integer kinds compare bytes, float
 * kinds compare items with C's == (so NaN != NaN and 0.0 == -0.0, as
 * Python). Arrays of different kinds are not equal (Python compares them by
 * value; we keep the cheap, predictable rule).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "types/types.h"

typedef struct rct_array {
    rc_obj ob;
    unsigned char *data;  /* allocated * itemsize bytes; NULL when allocated == 0 */
    size_t len;
    size_t allocated;
    uint64_t stamp;
    rc_array_kind kind;
    size_t itemsize;
} rct_array;

#define ARRAY_MAX_ITEMS ((size_t)PTRDIFF_MAX / (4 * sizeof(uint64_t)))

static const struct kind_info {
    size_t size;
    char code;
    bool is_float;
    bool is_signed;
    int64_t min;          /* integer kinds */
    uint64_t max;
} kinds[] = {
    [RC_ARRAY_I8] = { 1, 'b', false, true, INT8_MIN, INT8_MAX },
    [RC_ARRAY_U8] = { 1, 'B', false, false, 0, UINT8_MAX },
    [RC_ARRAY_I16] = { 2, 'h', false, true, INT16_MIN, INT16_MAX },
    [RC_ARRAY_U16] = { 2, 'H', false, false, 0, UINT16_MAX },
    [RC_ARRAY_I32] = { 4, 'i', false, true, INT32_MIN, INT32_MAX },
    [RC_ARRAY_U32] = { 4, 'I', false, false, 0, UINT32_MAX },
    [RC_ARRAY_I64] = { 8, 'q', false, true, INT64_MIN, INT64_MAX },
    [RC_ARRAY_U64] = { 8, 'Q', false, false, 0, UINT64_MAX },
    [RC_ARRAY_F32] = { 4, 'f', true, true, 0, 0 },
    [RC_ARRAY_F64] = { 8, 'd', true, true, 0, 0 },
};

static inline rct_array *as_array(const rc_obj *o) {
    return (rct_array *)(uintptr_t)o;
}

static inline bool kind_ok(rc_array_kind k) {
    return (unsigned)k <= (unsigned)RC_ARRAY_F64;
}

static inline bool is_live_array(const rc_obj *o) {
    return o && o->rc_type_ == &rc_array_type && !(o->rc_head_ & RCO_F_FREED);
}

/* ---------------------------------------------------------------------------
 * Conversions: a value to one item's bytes, and back
 * ------------------------------------------------------------------------- */

/* v into the item bytes at out (8 bytes of scratch at least). */
static int store_i64(rc_array_kind k, int64_t v, void *out) {
    const struct kind_info *ki = &kinds[k];
    if (ki->is_float) {
        if (k == RC_ARRAY_F32) {
            float f = (float)v;
            memcpy(out, &f, sizeof f);
        } else {
            double d = (double)v;
            memcpy(out, &d, sizeof d);
        }
        return 0;
    }
    if (v < ki->min || (v > 0 && (uint64_t)v > ki->max))
        return RC_EOVERFLOW;
    switch (k) {
    case RC_ARRAY_I8: { int8_t x = (int8_t)v; memcpy(out, &x, 1); break; }
    case RC_ARRAY_U8: { uint8_t x = (uint8_t)v; memcpy(out, &x, 1); break; }
    case RC_ARRAY_I16: { int16_t x = (int16_t)v; memcpy(out, &x, 2); break; }
    case RC_ARRAY_U16: { uint16_t x = (uint16_t)v; memcpy(out, &x, 2); break; }
    case RC_ARRAY_I32: { int32_t x = (int32_t)v; memcpy(out, &x, 4); break; }
    case RC_ARRAY_U32: { uint32_t x = (uint32_t)v; memcpy(out, &x, 4); break; }
    case RC_ARRAY_I64: memcpy(out, &v, 8); break;
    default: { uint64_t x = (uint64_t)v; memcpy(out, &x, 8); break; }  /* U64, v >= 0 */
    }
    return 0;
}

/* An integral double in the int64 or uint64 range, exactly: *neg says which
 * of *s / *u holds it. RC_EINVAL for NaN, infinities and fractions,
 * RC_EOVERFLOW beyond both ranges. */
static int double_to_integer(double v, int64_t *s, uint64_t *u, bool *neg) {
    if (isnan(v) || isinf(v))
        return RC_EINVAL;
    if (v < 0) {
        if (v < -0x1p63)                /* (every double this large is integral) */
            return RC_EOVERFLOW;
        int64_t x = (int64_t)v;                                   /* in range: defined */
        if ((double)x != v)
            return RC_EINVAL;
        *s = x;
        *neg = true;
        return 0;
    }
    if (v >= 0x1p64)
        return RC_EOVERFLOW;
    uint64_t x = (uint64_t)v;
    if ((double)x != v)
        return RC_EINVAL;
    *u = x;
    *neg = false;
    return 0;
}

static int store_f64(rc_array_kind k, double v, void *out) {
    if (k == RC_ARRAY_F64) {
        memcpy(out, &v, sizeof v);
        return 0;
    }
    if (k == RC_ARRAY_F32) {
        /* Doubles from FLT_MAX + half an ulp up round to infinity. */
        if (!isnan(v) && !isinf(v) && fabs(v) >= 0x1.ffffffp127)
            return RC_EOVERFLOW;
        float f = (float)v;
        memcpy(out, &f, sizeof f);
        return 0;
    }
    int64_t s = 0;
    uint64_t u = 0;
    bool neg = false;
    int r = double_to_integer(v, &s, &u, &neg);
    if (r != 0)
        return r;
    if (neg)
        return store_i64(k, s, out);
    if (u > kinds[k].max)
        return RC_EOVERFLOW;
    if (k == RC_ARRAY_U64) {
        memcpy(out, &u, 8);
        return 0;
    }
    return store_i64(k, (int64_t)u, out);   /* u <= a max below INT64_MAX here */
}

/* The item at p as a double (always possible; 64-bit integers round). */
static double load_f64(rc_array_kind k, const void *p) {
    switch (k) {
    case RC_ARRAY_I8: { int8_t x; memcpy(&x, p, 1); return x; }
    case RC_ARRAY_U8: { uint8_t x; memcpy(&x, p, 1); return x; }
    case RC_ARRAY_I16: { int16_t x; memcpy(&x, p, 2); return x; }
    case RC_ARRAY_U16: { uint16_t x; memcpy(&x, p, 2); return x; }
    case RC_ARRAY_I32: { int32_t x; memcpy(&x, p, 4); return x; }
    case RC_ARRAY_U32: { uint32_t x; memcpy(&x, p, 4); return x; }
    case RC_ARRAY_I64: { int64_t x; memcpy(&x, p, 8); return (double)x; }
    case RC_ARRAY_U64: { uint64_t x; memcpy(&x, p, 8); return (double)x; }
    case RC_ARRAY_F32: { float x; memcpy(&x, p, 4); return x; }
    default: { double x; memcpy(&x, p, 8); return x; }
    }
}

/* The item at p as an int64: RC_EOVERFLOW (a U64 above INT64_MAX, a float
 * item out of range), RC_EINVAL (a float item with a fraction, NaN, inf). */
static int load_i64(rc_array_kind k, const void *p, int64_t *out) {
    switch (k) {
    case RC_ARRAY_I64: memcpy(out, p, 8); return 0;
    case RC_ARRAY_U64: {
        uint64_t x;
        memcpy(&x, p, 8);
        if (x > (uint64_t)INT64_MAX)
            return RC_EOVERFLOW;
        *out = (int64_t)x;
        return 0;
    }
    case RC_ARRAY_F32:
    case RC_ARRAY_F64: {
        int64_t s = 0;
        uint64_t u = 0;
        bool neg = false;
        int r = double_to_integer(load_f64(k, p), &s, &u, &neg);
        if (r != 0)
            return r;
        if (!neg && u > (uint64_t)INT64_MAX)
            return RC_EOVERFLOW;
        *out = neg ? s : (int64_t)u;
        return 0;
    }
    default:
        *out = (int64_t)load_f64(k, p);     /* 8..32-bit integers: exact */
        return 0;
    }
}

static int conversion_error(rc_runtime *rt, int code, const char *fn, const rct_array *a) {
    return rco_err(rt, code, code == RC_EOVERFLOW ? "%s: value out of range for array('%c')"
                                                  : "%s: value is not an integer for array('%c')",
                   fn, kinds[a->kind].code);
}

/* ---------------------------------------------------------------------------
 * Construction and growth
 * ------------------------------------------------------------------------- */

RCI_ALLOC_FRAME rc_obj *rc_array(rc_runtime *rt, rc_array_kind kind) {
    if (!rt)
        return NULL;
    if (!kind_ok(kind))
        return rco_err_null(rt, RC_EINVAL, "rc_array: unknown kind %d", (int)kind);
    rc_obj *o = rc_new(rt, &rc_array_type);
    if (!o)
        return NULL;
    as_array(o)->kind = kind;
    as_array(o)->itemsize = kinds[kind].size;
    return o;
}

int rc_is_array(const rc_obj *o) {
    return o != NULL && o->rc_type_ == &rc_array_type;
}

/* Room for one more item (the growth policy in the header). */
RCI_INLINE int array_grow(rc_runtime *rt, rct_array *a) {
    if (a->len < a->allocated)
        return 0;
    size_t n = a->len + 1;
    if (n > ARRAY_MAX_ITEMS)
        return rco_err(rt, RC_ENOMEM, "array: %zu items do not fit in memory", n);
    size_t cap = n + (n >> 4) + (a->len < 8 ? 3 : 7);
    unsigned char *p = a->data ? rco_realloc(rt, a->data, cap * a->itemsize)
                               : rco_alloc(rt, cap * a->itemsize);
    if (!p)
        return rco_nomem(rt);
    a->data = p;
    a->allocated = cap;
    return 0;
}

static RCI_ALLOC_FRAME int append_bytes(rc_runtime *rt, rct_array *a, const void *item) {
    int r = array_grow(rt, a);
    if (r != 0)
        return r;
    memcpy(a->data + a->len * a->itemsize, item, a->itemsize);
    a->len++;
    a->stamp++;
    return 0;
}

RCI_ALLOC_FRAME int rc_array_append_i64(rc_runtime *rt, rc_obj *array, int64_t v) {
    /* Fast path: a live i64 array with room; no conversion can fail. */
    if (rt && array && array->rc_type_ == &rc_array_type &&
        !(array->rc_head_ & RCO_F_FREED)) {
        rct_array *fa = as_array(array);
        if (fa->kind == RC_ARRAY_I64 && fa->len < fa->allocated) {
            memcpy(fa->data + fa->len * sizeof v, &v, sizeof v);
            fa->len++;
            fa->stamp++;
            return 0;
        }
    }
    if (!rt)
        return RC_EINVAL;
    int r = rct_check_arg(rt, array, &rc_array_type, "rc_array_append_i64");
    if (r != 0)
        return r;
    rct_array *a = as_array(array);
    unsigned char item[8];
    if ((r = store_i64(a->kind, v, item)) != 0)
        return conversion_error(rt, r, "rc_array_append_i64", a);
    return append_bytes(rt, a, item);
}

RCI_ALLOC_FRAME int rc_array_append_f64(rc_runtime *rt, rc_obj *array, double v) {
    if (!rt)
        return RC_EINVAL;
    int r = rct_check_arg(rt, array, &rc_array_type, "rc_array_append_f64");
    if (r != 0)
        return r;
    rct_array *a = as_array(array);
    unsigned char item[8];
    if ((r = store_f64(a->kind, v, item)) != 0)
        return conversion_error(rt, r, "rc_array_append_f64", a);
    return append_bytes(rt, a, item);
}

/* ---------------------------------------------------------------------------
 * Access
 * ------------------------------------------------------------------------- */

/* Common checks of get/set: a live array, i in range. */
static int check_index(rc_runtime *rt, const rc_obj *array, size_t i, const char *fn) {
    int r = rct_check_arg(rt, array, &rc_array_type, fn);
    if (r != 0)
        return r;
    const rct_array *a = as_array(array);
    if (i >= a->len)
        return rco_err(rt, RC_EINDEX, "%s: index %zu out of range (len %zu)", fn, i, a->len);
    return 0;
}

int rc_array_get_i64(rc_runtime *rt, const rc_obj *array, size_t i, int64_t *out) {
    if (!rt)
        return RC_EINVAL;
    if (!out)
        return rco_err(rt, RC_EINVAL, "rc_array_get_i64: NULL output");
    int r = check_index(rt, array, i, "rc_array_get_i64");
    if (r != 0)
        return r;
    const rct_array *a = as_array(array);
    if ((r = load_i64(a->kind, a->data + i * a->itemsize, out)) != 0)
        return conversion_error(rt, r, "rc_array_get_i64", a);
    return 0;
}

int rc_array_get_f64(rc_runtime *rt, const rc_obj *array, size_t i, double *out) {
    if (!rt)
        return RC_EINVAL;
    if (!out)
        return rco_err(rt, RC_EINVAL, "rc_array_get_f64: NULL output");
    int r = check_index(rt, array, i, "rc_array_get_f64");
    if (r != 0)
        return r;
    const rct_array *a = as_array(array);
    *out = load_f64(a->kind, a->data + i * a->itemsize);
    return 0;
}

int rc_array_set_i64(rc_runtime *rt, rc_obj *array, size_t i, int64_t v) {
    if (!rt)
        return RC_EINVAL;
    int r = check_index(rt, array, i, "rc_array_set_i64");
    if (r != 0)
        return r;
    rct_array *a = as_array(array);
    unsigned char item[8];
    if ((r = store_i64(a->kind, v, item)) != 0)
        return conversion_error(rt, r, "rc_array_set_i64", a);
    memcpy(a->data + i * a->itemsize, item, a->itemsize);
    a->stamp++;
    return 0;
}

int rc_array_set_f64(rc_runtime *rt, rc_obj *array, size_t i, double v) {
    if (!rt)
        return RC_EINVAL;
    int r = check_index(rt, array, i, "rc_array_set_f64");
    if (r != 0)
        return r;
    rct_array *a = as_array(array);
    unsigned char item[8];
    if ((r = store_f64(a->kind, v, item)) != 0)
        return conversion_error(rt, r, "rc_array_set_f64", a);
    memcpy(a->data + i * a->itemsize, item, a->itemsize);
    a->stamp++;
    return 0;
}

size_t rc_array_len(const rc_obj *array) {
    return is_live_array(array) ? as_array(array)->len : 0;
}

size_t rc_array_itemsize(const rc_obj *array) {
    return is_live_array(array) ? as_array(array)->itemsize : 0;
}

/* (rc_array_kind)-1 for anything that is not a live array. */
rc_array_kind rc_array_kind_of(const rc_obj *array) {
    return is_live_array(array) ? as_array(array)->kind : (rc_array_kind)-1;
}

void *rc_array_data(rc_obj *array) {
    return is_live_array(array) ? as_array(array)->data : NULL;
}

/* ---------------------------------------------------------------------------
 * The type's slots
 * ------------------------------------------------------------------------- */

static void array_destroy(rc_obj *self) {
    rct_array *a = as_array(self);
    if (a->data)
        rco_free(rco_runtime(self), a->data);
    a->data = NULL;
    a->len = a->allocated = 0;
}

static int array_equal(rc_obj *x, rc_obj *y) {
    if (!y || y->rc_type_ != &rc_array_type)
        return 0;
    const rct_array *a = as_array(x), *b = as_array(y);
    if (a->kind != b->kind || a->len != b->len)
        return 0;
    if (a->len == 0)
        return 1;
    if (!kinds[a->kind].is_float)
        return memcmp(a->data, b->data, a->len * a->itemsize) == 0;
    for (size_t i = 0; i < a->len; i++)
        if (load_f64(a->kind, a->data + i * a->itemsize) !=
            load_f64(b->kind, b->data + i * b->itemsize))
            return 0;
    return 1;
}

static int array_repr(rc_obj *self, char *buf, size_t len) {
    const rct_array *a = as_array(self);
    const struct kind_info *ki = &kinds[a->kind];
    rct_writer w;
    rct_writer_init(&w, buf, len);
    char text[48];
    int n = snprintf(text, sizeof text, "array('%c'", ki->code);
    rct_writer_put(&w, text, (size_t)n);
    if (a->len > 0) {
        rct_writer_put(&w, ", [", 3);
        for (size_t i = 0; i < a->len; i++) {
            const unsigned char *p = a->data + i * a->itemsize;
            size_t tl;
            if (ki->is_float) {
                tl = rct_format_double(load_f64(a->kind, p), text);
            } else if (a->kind == RC_ARRAY_U64) {
                uint64_t x;
                memcpy(&x, p, 8);
                tl = (size_t)snprintf(text, sizeof text, "%" PRIu64, x);
            } else {
                int64_t x = 0;
                load_i64(a->kind, p, &x);
                tl = (size_t)snprintf(text, sizeof text, "%" PRId64, x);
            }
            if (i > 0)
                rct_writer_put(&w, ", ", 2);
            rct_writer_put(&w, text, tl);
        }
        rct_writer_put(&w, "]", 1);
    }
    rct_writer_put(&w, ")", 1);
    return rct_writer_finish(&w);
}

static size_t array_sizeof_extra(rc_obj *self) {
    const rct_array *a = as_array(self);
    return a->allocated * a->itemsize;
}

const rc_type rc_array_type = {
    .name = "array",
    .size = sizeof(rct_array),
    .itemsize = 0,
    .flags = 0,                        /* holds no references: not a GC container */
    .traverse = NULL,
    .clear = NULL,
    .finalize = NULL,
    .destroy = array_destroy,
    .hash = NULL,                      /* mutable: unhashable, as in Python */
    .equal = array_equal,
    .repr = array_repr,
    .sizeof_extra = array_sizeof_extra,
};

/* ---------------------------------------------------------------------------
 * For iter.c
 * ------------------------------------------------------------------------- */

uint64_t rct_array_stamp(const rc_obj *array) {
    return rc_is_array(array) ? as_array(array)->stamp : 0;
}

int rct_array_iter(rc_runtime *rt, rc_iter *it, int64_t *i64, double *f64) {
    const rct_array *a = as_array(it->container);
    if (a->stamp != it->stamp)
        return rco_err(rt, RC_ESTATE, "array changed during iteration");
    if (it->pos >= a->len)
        return 0;
    const unsigned char *p = a->data + it->pos * a->itemsize;
    if (i64) {
        int r = load_i64(a->kind, p, i64);
        if (r != 0)
            return conversion_error(rt, r, "rc_array_next_i64", a);
    } else {
        *f64 = load_f64(a->kind, p);
    }
    it->pos++;
    return 1;
}
