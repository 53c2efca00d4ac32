/* recycle/object.h - runtimes, errors, objects, the type protocol, weak
 * references and sizing.
 *
 * Ownership rules (see docs/api.md): no function steals a reference.
 * Constructors and functions named *_pop or *_take return a new reference;
 * getters return a borrowed one. Functions returning int return 0 (or, for
 * predicates, 1/0) or a negative RC_E* code; functions returning a pointer
 * return NULL on failure and leave the code and a message on the runtime. A
 * successful call leaves the runtime's error as it was. */
#ifndef RECYCLE_OBJECT_H
#define RECYCLE_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rc_runtime rc_runtime;
typedef struct rc_type rc_type;
typedef struct rc_obj rc_obj;

/* ---------------------------------------------------------------------------
 * Runtimes
 *
 * A runtime owns objects and is used by one thread at a time; run one runtime
 * per thread for parallelism. Objects never move between runtimes.
 * ------------------------------------------------------------------------- */

typedef struct rc_config {
    /* 1: object debug checks and a quarantine of freed objects; 0: off;
     * -1 (rc_config_init's default): from RECYCLE_DEBUG in the environment
     * (docs/options.md). */
    int debug;
    /* 1: rc_runtime_free reports the objects still alive, by type. */
    int report_leaks;
    /* Where reports go (leaks, debug errors); NULL: stderr. */
    FILE *report;
    /* Collector thresholds; 0 keeps the defaults (700, 10, 10). */
    size_t gc_threshold[3];
    /* 1: start with the cycle collector disabled. */
    int gc_disabled;
} rc_config;

RC_API void rc_config_init(rc_config *config);
RC_API rc_runtime *rc_runtime_new(const rc_config *config);   /* NULL: defaults */
/* Releases every object the runtime still owns, cycles included: drops the
 * gc garbage list, runs a final collection (finalizers run), then destroys
 * whatever is left without finalizing it. NULL is allowed. */
RC_API void rc_runtime_free(rc_runtime *rt);

/* Live objects owned by rt, and bytes of object memory (headers included). */
RC_API size_t rc_runtime_object_count(rc_runtime *rt);
RC_API size_t rc_runtime_object_bytes(rc_runtime *rt);
/* Bytes of buffers owned by objects of rt (list item arrays, dict tables, ...). */
RC_API size_t rc_runtime_buffer_bytes(rc_runtime *rt);
/* Write the objects alive in rt, counted by type, most numerous first. */
RC_API void rc_runtime_print_objects(rc_runtime *rt, FILE *out);

/* The runtime's error: codes and rc_strerror are in recycle/error.h. */
RC_API int         rc_error(const rc_runtime *rt);          /* last RC_E* code, 0 if none */
RC_API void        rc_error_clear(rc_runtime *rt);
RC_API const char *rc_error_message(const rc_runtime *rt);  /* "" if none */
/* Record an error on the runtime (for user types) and return its code. code
 * is an RC_E* code or a negative code of the caller's own; a code >= 0 is
 * not an error: RC_EINVAL is recorded (with a message naming the code) and
 * returned instead. */
RC_API int rc_error_set(rc_runtime *rt, int code, const char *fmt, ...) RC_PRINTF(3, 4);

/* ---------------------------------------------------------------------------
 * Objects and types
 * ------------------------------------------------------------------------- */

/* The one public struct: a user type's struct begins with a member of type
 * rc_obj. Its fields are the library's and may change. */
struct rc_obj {
    uint64_t rc_head_;            /* refcount and flags */
    const struct rc_type *rc_type_;
};

typedef int (*rc_visitfn)(rc_obj *child, void *arg);     /* nonzero stops */

#define RC_TYPE_GC       (1u << 0)  /* a container: tracked by the cycle collector */

struct rc_type {
    const char *name;
    size_t size;          /* fixed part, rc_obj included */
    size_t itemsize;      /* 0 unless variable-sized */
    unsigned flags;       /* RC_TYPE_GC, ... */
    int      (*traverse)(rc_obj *self, rc_visitfn visit, void *arg);
    void     (*clear)(rc_obj *self);
    void     (*finalize)(rc_obj *self);
    void     (*destroy)(rc_obj *self);
    int      (*hash)(rc_obj *self, uint64_t *out);   /* 0 or RC_E* */
    int      (*equal)(rc_obj *a, rc_obj *b);        /* 1, 0 or RC_E* */
    int      (*repr)(rc_obj *self, char *buf, size_t len);
    size_t   (*sizeof_extra)(rc_obj *self);
};  /* fields may be added after these, never reordered */

/* A zeroed object with refcount 1, tracked by the collector if its type has
 * RC_TYPE_GC. NULL + RC_EINVAL for a bad type (size smaller than rc_obj, no
 * name), RC_ENOMEM when out of memory. The object is 16-byte aligned. */
RC_API rc_obj *rc_new(rc_runtime *rt, const rc_type *type);
/* As rc_new with nitems trailing items of type->itemsize bytes each, starting
 * at offset type->size; rc_var_len() gives nitems back. The object is
 * 8-byte aligned (its item count is kept just before it, as CPython's
 * ob_size is inside): a type whose fields or items need 16 keeps them in a
 * buffer of its own (rc_aligned_alloc). */
RC_API rc_obj *rc_new_var(rc_runtime *rt, const rc_type *type, size_t nitems);
RC_API size_t  rc_var_len(const rc_obj *o);
RC_API void    rc_incref(rc_obj *o);
RC_API void    rc_decref(rc_obj *o);
RC_API void    rc_xdecref(rc_obj *o);                        /* NULL allowed */
/* Internal: what rc_decref does when the count reaches zero. Called by the
 * inline fast paths below; not for direct use. */
RC_API void    rc_dealloc_(rc_obj *o);

/* Inline fast paths. Unless RC_NO_INLINE_REFCOUNT is defined, a call
 * rc_incref(o), rc_decref(o) or rc_xdecref(o) compiles to a few instructions
 * that change the count in place (o is evaluated once); the functions above
 * remain, for (rc_decref)(o), function pointers and other languages. The
 * library's own refcounting is these same functions with its internal slow
 * paths plugged in, so there is one definition of the fast path.
 *
 * The layout of rc_head_ (docs/design/object.md) is fixed for a library
 * version: these bits are checked against the library's own at build time.
 * The count is the low 55 bits. A head with any "slow" bit set takes the
 * function: immortal, freed, watched by an incremental collection (the bit
 * right above the count), or a count of 2**54 or more (its top bit, which
 * no real count reaches: that many references need more memory than a
 * 64-bit address space has). */
#if defined(__GNUC__) || defined(__clang__)
#define RC_UNLIKELY_(x) __builtin_expect(!!(x), 0)
#define RC_ALWAYS_INLINE_ __attribute__((always_inline))
#else
#define RC_UNLIKELY_(x) (x)
#define RC_ALWAYS_INLINE_
#endif
#define RC_HEAD_COUNT_MASK_  ((UINT64_C(1) << 55) - 1)
#define RC_HEAD_COUNT_GUARD_ (UINT64_C(1) << 54)
#define RC_HEAD_BARRIER_     (UINT64_C(1) << 55)
#define RC_HEAD_IMMORTAL_    (UINT64_C(1) << 63)
#define RC_HEAD_FREED_       (UINT64_C(1) << 60)
#define RC_HEAD_SLOW_BITS_   (RC_HEAD_IMMORTAL_ | RC_HEAD_FREED_ | RC_HEAD_BARRIER_ | \
                              RC_HEAD_COUNT_GUARD_)

/* An immortal object (small ints, interned strs) is left alone without a
 * call; anything else off the fast path goes to the slow function. */
#define RC_HEAD_JUST_IMMORTAL_(h) (((h) & (RC_HEAD_IMMORTAL_ | RC_HEAD_FREED_)) == RC_HEAD_IMMORTAL_)

/* slow(o) handles every head the fast path does not: the exported
 * rc_incref for user code, the library's internal slow path for its own. */
static inline RC_ALWAYS_INLINE_ void rc_incref_with_(rc_obj *o, void (*slow)(rc_obj *)) {
    uint64_t h = o->rc_head_;
    if (RC_UNLIKELY_((h & RC_HEAD_SLOW_BITS_) != 0)) {
        if (!RC_HEAD_JUST_IMMORTAL_(h))
            slow(o);
        return;
    }
    o->rc_head_ = h + 1;
}

/* One test of the decremented head is exact. A count that was zero borrows:
 * into BARRIER when that bit was clear, or, when it was set, out of it,
 * leaving every count bit set, the guard bit included. So the fast path
 * only ever stores a count in 0 .. 2**54 - 1, one less than a count it read. */
static inline RC_ALWAYS_INLINE_ void rc_decref_with_(rc_obj *o, void (*slow)(rc_obj *)) {
    uint64_t h = o->rc_head_ - 1;
    if (RC_UNLIKELY_((h & RC_HEAD_SLOW_BITS_) != 0)) {
        if (!RC_HEAD_JUST_IMMORTAL_(h + 1))
            slow(o);
        return;
    }
    o->rc_head_ = h;
    if ((h & RC_HEAD_COUNT_MASK_) == 0)
        rc_dealloc_(o);
}

static inline void rc_incref_inline_(rc_obj *o) {
    rc_incref_with_(o, (rc_incref));
}

static inline void rc_decref_inline_(rc_obj *o) {
    rc_decref_with_(o, (rc_decref));
}

static inline void rc_xdecref_inline_(rc_obj *o) {
    if (o)
        rc_decref_inline_(o);
}

#if !defined(RC_NO_INLINE_REFCOUNT) && !defined(RC_BUILD_CORE)
#define rc_incref(o)  rc_incref_inline_(o)
#define rc_decref(o)  rc_decref_inline_(o)
#define rc_xdecref(o) rc_xdecref_inline_(o)
#endif
RC_API size_t  rc_refcount(const rc_obj *o);
RC_API const rc_type *rc_typeof(const rc_obj *o);
RC_API const char *rc_type_name(const rc_obj *o);
/* The runtime that owns o (NULL for immortal constants shared by all). */
RC_API rc_runtime *rc_runtime_of(const rc_obj *o);
/* Immortal objects ignore incref/decref and are never freed (PEP 683). */
RC_API int     rc_is_immortal(const rc_obj *o);

/* Python's hash() and ==: RC_ETYPE for an unhashable type. */
RC_API int rc_hash(rc_runtime *rt, rc_obj *o, uint64_t *out);
RC_API int rc_equal(rc_runtime *rt, rc_obj *a, rc_obj *b);  /* 1, 0 or RC_E* */
/* Write repr(o) into buf (always NUL-terminated when len > 0); returns the
 * length the full text needs, like snprintf, or a negative RC_E*. */
RC_API int rc_repr(rc_runtime *rt, rc_obj *o, char *buf, size_t len);

/* sys.getsizeof: the object's memory, headers included, plus memory it owns
 * outside its block (type->sizeof_extra). */
RC_API size_t rc_sizeof(const rc_obj *o);
/* rc_sizeof of o and of everything reachable from it through traverse, each
 * object counted once; 0 with RC_ENOMEM on the runtime if memory ran out. */
RC_API size_t rc_deep_sizeof(rc_runtime *rt, rc_obj *o);

/* ---------------------------------------------------------------------------
 * Weak references
 * ------------------------------------------------------------------------- */

/* The type of weak reference objects. */
RC_API extern const rc_type rc_weakref_type;

/* A weak reference to target (a new reference to the weakref object).
 * callback, if given, runs once when target dies, with the weakref. Any
 * mortal object of rt may be weakly referenced, of any type (no opt-in);
 * an immortal one (small ints, interned strs, other constants: see
 * rc_is_immortal) never dies and is refused with RC_ETYPE, and an object of
 * another runtime with RC_EINVAL. */
RC_API rc_obj *rc_weakref_new(rc_runtime *rt, rc_obj *target,
                              void (*callback)(rc_obj *ref, void *arg), void *arg);
RC_API rc_obj *rc_weakref_get(const rc_obj *ref);   /* borrowed; NULL once dead */
/* Number of weak references to o that are still alive. */
RC_API size_t  rc_weakref_count(const rc_obj *o);

/* ---------------------------------------------------------------------------
 * Debugging
 * ------------------------------------------------------------------------- */

/* Where object debug reports of rt go (refcount underflow, use after free):
 * NULL restores the default (the config's report file). */
typedef void (*rc_debug_fn)(rc_runtime *rt, const char *message, void *arg);
RC_API void rc_runtime_set_debug_handler(rc_runtime *rt, rc_debug_fn fn, void *arg);
/* Testing: after n more successful object or buffer allocations in rt,
 * every allocation fails with RC_ENOMEM until this is called with n < 0
 * (the default: never). Returns how many allocations were made to fail
 * since the previous call. SQLite-style out-of-memory sweeps use it. */
RC_API long rc_runtime_fail_after(rc_runtime *rt, long n);
/* Number of object errors detected in rt. */
RC_API size_t rc_runtime_debug_errors(const rc_runtime *rt);
/* In debug mode, report (and return RC_ESTATE for) an object that has been
 * freed; 0 for a live object. Built-in functions check their arguments. */
RC_API int rc_check(rc_obj *o);

#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_OBJECT_H */
