/* int.c - the int type: an immutable signed 64-bit integer.
 *
 * Layout: { rc_obj; int64_t value; }, a plain (not GC) object of 24 bytes.
 *
 * Small ints: -5..256 are static immortal objects shared by every runtime,
 * as in CPython (PEP 683). They live in a table initialised at compile time
 * (no run-time initialisation, so there is nothing to race on between
 * runtimes of different threads) and are never written: incref/decref skip
 * immortal objects. rc_int returns them without allocating; the runtime
 * argument is still required, for uniformity with every constructor.
 * Other values are allocated from the runtime's heap on every call (the
 * heap's size-class pools already serve as a free list).
 *
 * Equality and hashing follow Python: an int equals a float of exactly the
 * same value (1 == 1.0, 2**53 + 1 != 2.0**53) and they hash alike
 * (rco_hash_int / rco_hash_double guarantee it). */
#include "types/types.h"

#include <inttypes.h>
#include <stdio.h>

typedef struct int_obj {
    rc_obj ob;
    int64_t value;
} int_obj;

#define SMALL_MIN (-5)
#define SMALL_MAX 256
#define SMALL_COUNT (SMALL_MAX - SMALL_MIN + 1)

static int int_hash(rc_obj *self, uint64_t *out);
static int int_equal(rc_obj *a, rc_obj *b);
static int int_repr(rc_obj *self, char *buf, size_t len);

const rc_type rc_int_type = {
    .name = "int",
    .size = sizeof(int_obj),
    .hash = int_hash,
    .equal = int_equal,
    .repr = int_repr,
};

/* The static table: each entry is an immortal header and its value. The
 * macros expand to SMALL_COUNT initialisers starting at SMALL_MIN. */
#define SMALL1(v)   { RCO_STATIC_HEAD(&rc_int_type), (v) }
#define SMALL4(v)   SMALL1(v), SMALL1((v) + 1), SMALL1((v) + 2), SMALL1((v) + 3)
#define SMALL16(v)  SMALL4(v), SMALL4((v) + 4), SMALL4((v) + 8), SMALL4((v) + 12)
#define SMALL64(v)  SMALL16(v), SMALL16((v) + 16), SMALL16((v) + 32), SMALL16((v) + 48)
#define SMALL256(v) SMALL64(v), SMALL64((v) + 64), SMALL64((v) + 128), SMALL64((v) + 192)

/* Not const: objects are handed out as rc_obj *, and a const object in
 * read-only memory would fault on any write a caller might attempt; the
 * immortal bit guarantees the library itself never writes them. */
static int_obj small_ints[SMALL_COUNT] = {
    SMALL256(SMALL_MIN),            /* -5 .. 250 */
    SMALL4(SMALL_MIN + 256),        /* 251 .. 254 */
    SMALL1(SMALL_MIN + 260), SMALL1(SMALL_MIN + 261)   /* 255, 256 */
};

_Static_assert(sizeof small_ints / sizeof small_ints[0] == SMALL_COUNT,
               "small int table size");

static inline int64_t int_of(const rc_obj *o) {
    return ((const int_obj *)(const void *)o)->value;
}

RCI_ALLOC_FRAME rc_obj *rc_int(rc_runtime *rt, int64_t v) {
    if (!rt)
        return NULL;
    if (v >= SMALL_MIN && v <= SMALL_MAX)
        return &small_ints[v - SMALL_MIN].ob;
    rc_obj *o = rc_new(rt, &rc_int_type);
    if (!o)
        return NULL;   /* rc_new recorded the error */
    ((int_obj *)(void *)o)->value = v;
    return o;
}

int64_t rc_int_value(const rc_obj *o) {
    return rco_is(o, &rc_int_type) ? int_of(o) : 0;
}

int rc_is_int(const rc_obj *o) {
    return rco_is(o, &rc_int_type);
}

static int int_hash(rc_obj *self, uint64_t *out) {
    *out = rco_hash_int(int_of(self));
    return 0;
}

static int int_equal(rc_obj *a, rc_obj *b) {
    if (rco_is(b, &rc_int_type))
        return int_of(a) == int_of(b);
    if (rco_is(b, &rc_float_type))
        return rct_compare_int_double(int_of(a), rc_float_value(b)) == 0;
    return 0;
}

static int int_repr(rc_obj *self, char *buf, size_t len) {
    /* snprintf already has the repr contract (truncate, NUL, full length);
     * a decimal int is ASCII, so any cut is clean. */
    return snprintf(buf, len, "%" PRId64, int_of(self));
}
