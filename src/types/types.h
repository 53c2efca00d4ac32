/* types.h - the types layer's internal contract, shared by the files of
 * src/types/ (never by a lower layer; the gc layer may include it).
 *
 * What lives here:
 *   - argument checking shared by every built-in (rct_check_arg);
 *   - a bounded text writer with snprintf semantics for the repr slots
 *     (rct_writer), so nested reprs truncate cleanly;
 *   - comparisons the list sort needs (rct_numeric_compare, rct_str_compare);
 *   - the per-runtime state of the layer (rct_state: intern table, ...),
 *     created lazily in rt->types_state and torn down by rc_runtime_free.
 *
 * Struct layouts stay private to each type's .c file: other files go through
 * the public accessors (rc_str_data, rc_tuple_len, ...) or the functions
 * declared below. Each type's .c file opens with its layout, invariants and
 * growth policy.
 *
 * Conventions: functions returning int return 0 or a negative RC_E* code and
 * have recorded it on the runtime (when they were given one); functions
 * returning a pointer return NULL with the code recorded.
 *
 * Allocating frames: every function of the layer that can reach rc_new,
 * rc_new_var, rco_alloc or rco_realloc on its caller's behalf (the public
 * constructors and the functions that grow or shrink a buffer, and every
 * helper between them and the object layer) is either RCI_ALLOC_FRAME
 * (heap/private.h: noinline, in the section of allocating functions) or
 * RCI_INLINE (always inlined into such a function). A tracer drops those
 * frames, so that frame 0 of a traced object or buffer is the code that
 * called the types layer (docs/trace.md, "Objects"). A helper left out of
 * both would become frame 0 whenever the compiler keeps it out of line.
 * User code a marked function runs (hash, equal, comparators, finalizers
 * during a collection) is unmarked, so its own allocations start there. */
#ifndef RC_TYPES_TYPES_H
#define RC_TYPES_TYPES_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recycle/types.h"
#include "object/object.h"

/* ---------------------------------------------------------------------------
 * Argument checks
 * ------------------------------------------------------------------------- */

/* Slow path of rct_check_arg (and the whole check in debug mode): 0, or
 * records and returns RC_EINVAL (NULL object), RC_ESTATE (a freed object,
 * debug mode; reported once through the debug handler) or RC_ETYPE (wrong
 * type). */
int rct_check_arg_slow(rc_runtime *rt, const rc_obj *o, const rc_type *type, const char *fn);

/* 0 if o is a live object of type (any type when type is NULL); else the
 * error above, recorded on rt with fn in the message. rt must not be NULL
 * (public functions return early for a NULL runtime: there is nowhere to
 * record the error). With debug mode off, the common case is the three
 * tests in the condition below. */
static inline int rct_check_arg(rc_runtime *rt, const rc_obj *o, const rc_type *type,
                                const char *fn) {
    if (__builtin_expect(o != NULL && (type == NULL || o->rc_type_ == type) && !rt->debug, 1))
        return 0;
    return rct_check_arg_slow(rt, o, type, fn);
}

/* Before container (already checked) takes a reference to item (already
 * checked): 0 if both belong to rt; else RC_EINVAL, recorded. A container
 * holds only objects of its own runtime (rco_is_foreign says why). */
static inline int rct_check_link(rc_runtime *rt, const rc_obj *container, const rc_obj *item,
                                 const char *fn) {
    if (__builtin_expect(rco_runtime(container) == rt && !rco_is_foreign(rt, item), 1))
        return 0;
    return rco_refuse_foreign(rt, fn, container, item);
}

/* ---------------------------------------------------------------------------
 * Bounded text writer for repr slots (str.c)
 *
 * Same contract as snprintf and rc_repr: the text is written into buf while
 * it fits (buf is always NUL-terminated when cap > 0) and the full length is
 * counted regardless. Units (a character, an escape, a nested repr) are
 * written whole or not at all, so a truncated result never ends inside a
 * UTF-8 sequence or an escape; after the first unit that does not fit,
 * nothing more is written (the prefix stays a true prefix).
 * ------------------------------------------------------------------------- */

typedef struct rct_writer {
    char *buf;
    size_t cap;       /* bytes of buf, NUL included */
    size_t written;   /* bytes of buf holding text (< cap when cap > 0) */
    size_t need;      /* length of the full text */
    bool full;        /* a unit did not fit: write nothing more */
} rct_writer;

void rct_writer_init(rct_writer *w, char *buf, size_t cap);
void rct_writer_put(rct_writer *w, const char *s, size_t n);
void rct_writer_puts(rct_writer *w, const char *s);
/* repr(o) of any object as one unit (nested rc_repr); 0 or a negative RC_E*. */
int  rct_writer_repr(rct_writer *w, rc_runtime *rt, rc_obj *o);
/* The full length for a repr slot's return value: need, or RC_EOVERFLOW
 * when it does not fit an int. */
int  rct_writer_finish(rct_writer *w);

/* ---------------------------------------------------------------------------
 * Numbers and strings (int.c, float.c, str.c)
 * ------------------------------------------------------------------------- */

/* Python's ordering for the default list sort: *out = -1, 0 or 1. ints and
 * floats compare exactly by value across types (no rounding: 2**53 + 1 >
 * 2.0**53); a NaN compares as 0 ("not less" either way, as Python's <
 * answers). strs compare by code point (rct_str_compare). 0, or RC_ETYPE
 * (recorded on rt, which may be NULL) for any other pairing, RC_EINVAL for a
 * NULL object. */
int rct_numeric_compare(rc_runtime *rt, rc_obj *a, rc_obj *b, int *out);

/* Exact comparison of an int64 with a double: -1, 0 or 1; 2 when d is NaN
 * (unordered). */
int rct_compare_int_double(int64_t i, double d);

/* Two strs by code point (bytewise on UTF-8, which orders alike): <0, 0, >0.
 * Both must be strs. */
int rct_str_compare(const rc_obj *a, const rc_obj *b);

/* The cached hash of a str (computed on first use; never fails). */
uint64_t rct_str_hash(rc_obj *s);
/* The hash a str has cached: the word after its header (str.c asserts the
 * offset). Valid once rct_str_hash (or rc_hash) ran on s. */
static inline uint64_t rct_str_cached_hash(const rc_obj *s) {
    return *(const uint64_t *)(const void *)((const char *)s + sizeof(rc_obj));
}
/* Two strs with the same text (both must be strs). */
bool rct_str_equal(const rc_obj *a, const rc_obj *b);

/* 0 if data[0..len) is valid UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF, no truncated sequence; NUL is allowed), with the
 * code point count in *nchars; otherwise the offset of the first bad byte + 1
 * and a reason in *why (static text). */
size_t rct_utf8_check(const unsigned char *data, size_t len, size_t *nchars, const char **why);

/* A str made from data[0..len) without validating it (the caller knows it is
 * valid UTF-8 with nchars code points), e.g. parts of other strs. */
rc_obj *rct_str_from_valid(rc_runtime *rt, const char *data, size_t len, size_t nchars);

/* Mark a str interned (intern.c; the str is already immortal). */
void rct_str_set_interned(rc_obj *s);

/* ---------------------------------------------------------------------------
 * Per-runtime state (intern.c)
 *
 * Lives in rt->types_state, created on first use. rc_runtime_free calls
 * rt->types_teardown after every object has been destroyed and while the
 * runtime's heap still exists: it runs the registered teardown functions
 * (last registered first), frees the intern table and then the state.
 * Other files add their fields to struct rct_state (zeroed at creation) and,
 * if they own buffers, register a teardown with rct_state_on_teardown.
 * ------------------------------------------------------------------------- */

struct rct_intern;                 /* intern.c */
typedef struct rct_state rct_state;
typedef void (*rct_teardown_fn)(rc_runtime *rt, rct_state *st);

#define RCT_STATE_MAX_TEARDOWN 8

struct rct_state {
    struct rct_intern *intern;     /* intern table (intern.c) */
    rct_teardown_fn teardown[RCT_STATE_MAX_TEARDOWN];
    size_t nteardown;
    /* ---- fields of the other files go below ---- */
};

/* The state of rt, created on first use; NULL + RC_ENOMEM. */
rct_state *rct_state_get(rc_runtime *rt);
/* Run fn at teardown (once per registration); RC_ENOMEM, or RC_EOVERFLOW
 * when RCT_STATE_MAX_TEARDOWN functions are already registered. */
int rct_state_on_teardown(rc_runtime *rt, rct_teardown_fn fn);

/* ---- float (float.c) ---- */

/* Python's float repr (the shortest text that reads back as v) into out,
 * which has room for 48 bytes; returns its length. */
size_t rct_format_double(double v, char *out);

/* ---- tuple (tuple.c) ---- */

/* The items of a tuple (NULL entries after the collector cleared it), for
 * the collector's untracking of tuples of atoms; NULL if not a tuple. */
rc_obj *const *rct_tuple_items(const rc_obj *t, size_t *n);

/* ---- list/array/iter (list.c, array.c, iter.c) ---- */

/* Modification stamps: every mutation of a list or array adds 1 (iter.c
 * compares them with the stamp an rc_iter recorded). 0 for a non-list /
 * non-array. */
uint64_t rct_list_stamp(const rc_obj *list);
uint64_t rct_array_stamp(const rc_obj *array);

/* One step of an iterator over a list (it->container is a list): 1 and
 * *item (borrowed) set, 0 at the end, RC_ESTATE (recorded) if the list's
 * stamp differs from it->stamp. Allocates nothing. */
int rct_list_iter(rc_runtime *rt, rc_iter *it, rc_obj **item);

/* One step over an array (it->container is an array): 1 with the item in
 * *i64 (when i64 != NULL) or *f64 (otherwise), 0 at the end, RC_ESTATE on a
 * stamp mismatch, or the conversion error of rc_array_get_i64/_f64 (the
 * position is then not advanced). */
int rct_array_iter(rc_runtime *rt, rc_iter *it, int64_t *i64, double *f64);

/* ---- dict/set (dict.c, set.c, weakdict.c) ---- */

/* Iterator steps for iter.c (it->container is a dict / set / weak-value
 * dict): 1 with the outputs set (borrowed; a NULL output pointer is
 * skipped), 0 at the end, RC_ESTATE (recorded) if the container's stamp
 * differs from it->stamp. it->pos advances over the entry array (dict,
 * weak-value dict: insertion order) or the hash table (set), skipping
 * deleted entries and, for the weak-value dict, entries whose value died.
 * Allocate nothing and run no user code. */
int rct_dict_iter(rc_runtime *rt, rc_iter *it, rc_obj **key, rc_obj **value);
int rct_set_iter(rc_runtime *rt, rc_iter *it, rc_obj **key);
int rct_weakvaluedict_iter(rc_runtime *rt, rc_iter *it, rc_obj **key);

/* Modification stamps, bumped by every structural change (insert, delete,
 * resize, clear; not by replacing the value of a present key, nor by a
 * weak-value dict's value dying). 0 for an object of another type. */
uint64_t rct_dict_stamp(const rc_obj *d);
uint64_t rct_set_stamp(const rc_obj *s);
uint64_t rct_weakvaluedict_stamp(const rc_obj *d);

/* The compact ordered table of dict.c (CPython 3.6+), also used by
 * weakdict.c. The table block (rct_dkeys) holds its geometry, a sparse index
 * of 2**log2_size slots (int8..int64 by size) holding EMPTY, DUMMY or a
 * position in the dense, insertion-ordered entry array, then the entries. A
 * table without memory points at rct_dkeys_empty, an immutable block every
 * empty table shares (8 EMPTY slots, no usable entry). A deleted entry has
 * key == NULL. See dict.c for the invariants. */
typedef struct rct_dkeys {
    size_t usable;            /* entries still free after nentries */
    size_t nentries;          /* entries [0, nentries) were filled (live or deleted) */
    uint8_t log2_size;        /* index slots = 1 << log2_size */
    uint8_t ix_shift;         /* bytes per index = 1 << ix_shift */
    uint8_t esize;            /* RCT_DK_GENERAL or RCT_DK_STR */
    uint8_t tagbits;          /* hash bits an index slot keeps above the position */
    uint8_t pad_[4];
    /* the index, (1 << log2_size) << ix_shift bytes, then the entries */
} rct_dkeys;

/* Entry sizes: { hash, key, value }, or { key, value } when every key is a
 * str (its hash is the one the str caches: every key of such a table has
 * it cached, rc_hash having computed it on insertion). */
#define RCT_DK_GENERAL 24
#define RCT_DK_STR     16

typedef struct rct_dtable {
    rct_dkeys *keys;          /* the table block, or &rct_dkeys_empty */
    size_t used;              /* live entries */
    uint64_t stamp;           /* modification stamp */
} rct_dtable;

/* The block every table without memory shares: 8 EMPTY index slots and no
 * usable entry (dict.c). */
typedef struct rct_dkeys_empty_block {
    rct_dkeys k;
    int8_t index[8];
} rct_dkeys_empty_block;
extern const rct_dkeys_empty_block rct_dkeys_empty;

/* An empty table without memory (what a new dict starts with). */
static inline void rct_dtable_init(rct_dtable *t) {
    t->keys = (rct_dkeys *)&rct_dkeys_empty.k;   /* never written: usable is 0 */
    t->used = 0;
}

/* Whether t has a table block of its own. keys is NULL only between rc_new
 * and the constructor's rct_dtable_init (a collection started by that
 * allocation may see it), or, in a dict made by rc_new directly, until its
 * first public call (rct_dtable_ready): traverse, release and bytes accept
 * it. */
static inline bool rct_dtable_has_block(const rct_dtable *t) {
    return t->keys != NULL && t->keys != &rct_dkeys_empty.k;
}

/* t, given the shared empty table first if it has none: a dict made by
 * rc_new(rt, &rc_dict_type) rather than rc_dict is an empty dict too. Every
 * public entry point that reads the table goes through this. */
static inline rct_dtable *rct_dtable_ready(rct_dtable *t) {
    if (rci_unlikely(t->keys == NULL))
        rct_dtable_init(t);
    return t;
}

static inline char *rct_dk_entries(const rct_dkeys *k) {
    return (char *)k + sizeof(rct_dkeys) + (((size_t)1 << k->log2_size) << k->ix_shift);
}

/* Entries filled so far (live or deleted), and the key and value slots of
 * entry ix (ix < nentries; *key NULL: deleted). The pointers are valid
 * until the table next changes. */
static inline size_t rct_dtable_nentries(const rct_dtable *t) {
    return t->keys->nentries;
}
static inline rc_obj **rct_dk_key_slot(const rct_dkeys *k, size_t ix) {
    return (rc_obj **)(void *)(rct_dk_entries(k) + ix * k->esize + (k->esize - 16));
}
static inline rc_obj **rct_dtable_key_slot(const rct_dtable *t, size_t ix) {
    return rct_dk_key_slot(t->keys, ix);
}
static inline rc_obj **rct_dtable_value_slot(const rct_dtable *t, size_t ix) {
    return rct_dtable_key_slot(t, ix) + 1;
}

/* Find key (hash = rc_hash(key)): 1 and *ix set (entries[*ix]), 0 if
 * absent, or a negative RC_E* (recorded) from rc_equal, or RC_ESTATE when
 * comparisons kept mutating the table. Comparisons may run user code; the
 * result is valid until user code next runs. */
int  rct_dtable_lookup(rc_runtime *rt, rct_dtable *t, rc_obj *key, uint64_t hash, size_t *ix);
/* Append key -> value (both increfed); key must be absent (a lookup just
 * said so and no user code ran since). Grows the table first when it is
 * full. 0, or RC_ENOMEM / RC_EOVERFLOW (recorded) with t unchanged. Runs no
 * user code. */
int  rct_dtable_insert(rc_runtime *rt, rct_dtable *t, uint64_t hash, rc_obj *key, rc_obj *value);
/* Unlink entries[ix] (live): its slot becomes DUMMY, the entry NULL. The
 * caller read key and value before and owns their references now. Runs no
 * user code. */
void rct_dtable_remove(rct_dtable *t, size_t ix);
/* After deletions: rebuild smaller when fewer than 1/8 of the index slots
 * hold live entries. Benign: on failure t stays as it is and the runtime's
 * error is left untouched. Runs no user code. */
void rct_dtable_shrink(rc_runtime *rt, rct_dtable *t);
/* Move t's contents into *out (t becomes empty, stamp bumped); release *out
 * later with rct_dtable_release. */
void rct_dtable_detach(rct_dtable *t, rct_dtable *out);
/* Rebuild t keeping only the live entries for which keep() is true; the
 * others go to *dropped (release it with rct_dtable_release once t's owner
 * is consistent). 0, or RC_ENOMEM (recorded) with t unchanged and *dropped
 * empty. keep must not run user code. */
int  rct_dtable_filter(rc_runtime *rt, rct_dtable *t, bool (*keep)(rc_obj *key, rc_obj *value),
                       rct_dtable *dropped);
/* Drop the references of a detached table and free its memory (may run user
 * code). */
void rct_dtable_release(rc_runtime *rt, rct_dtable *old);
/* Visit keys (and values when values is true) of the live entries. */
int  rct_dtable_traverse(const rct_dtable *t, rc_visitfn visit, void *arg, bool values);
/* Bytes of memory the table owns (index + entries). */
size_t rct_dtable_bytes(const rct_dtable *t);
/* Record a KeyError-like RC_EKEY for key on rt; returns RC_EKEY. Lazy (the
 * message is formatted when read) and holds no reference to key. */
int  rct_key_error(rc_runtime *rt, const rc_obj *key);
/* Record that container was passed with a runtime other than its own
 * (RC_EINVAL, naming fn); returns RC_EINVAL. */
int  rct_refuse_runtime(rc_runtime *rt, const char *fn, const rc_obj *container);

#endif /* RC_TYPES_TYPES_H */
