/* recycle/types.h - the built-in types: int, float, str (+ interning), bytes,
 * tuple, list, dict, set, array, the weak-value dict, and iterators.
 *
 * Getters borrow; constructors, *_pop and *_take return new references;
 * nothing steals. Indexes are size_t and out of range is RC_EINDEX. Every
 * container keeps a modification stamp; an iterator that sees the container
 * changed under it stops with RC_ESTATE. */
#ifndef RECYCLE_TYPES_H
#define RECYCLE_TYPES_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The built-in type descriptors, for rc_typeof comparisons. */
RC_API extern const rc_type rc_int_type;
RC_API extern const rc_type rc_float_type;
RC_API extern const rc_type rc_str_type;
RC_API extern const rc_type rc_bytes_type;
RC_API extern const rc_type rc_tuple_type;
RC_API extern const rc_type rc_list_type;
RC_API extern const rc_type rc_dict_type;
RC_API extern const rc_type rc_set_type;
RC_API extern const rc_type rc_array_type;
RC_API extern const rc_type rc_weakvaluedict_type;

/* ---- int: 64-bit; -5..256 are cached and immortal ---- */
RC_API rc_obj *rc_int(rc_runtime *rt, int64_t v);
RC_API int64_t rc_int_value(const rc_obj *o);          /* 0 if not an int */
RC_API int     rc_is_int(const rc_obj *o);

/* ---- float ---- */
RC_API rc_obj *rc_float(rc_runtime *rt, double v);
RC_API double  rc_float_value(const rc_obj *o);        /* ints convert; 0.0 otherwise */
RC_API int     rc_is_float(const rc_obj *o);

/* ---- str: immutable UTF-8, validated, hash cached ---- */
RC_API rc_obj *rc_str(rc_runtime *rt, const char *utf8);
RC_API rc_obj *rc_str_n(rc_runtime *rt, const char *utf8, size_t len);
/* printf-style construction. */
RC_API rc_obj *rc_str_printf(rc_runtime *rt, const char *fmt, ...) RC_PRINTF(2, 3);
/* The one shared, immortal str of this runtime with these contents. */
RC_API rc_obj *rc_str_intern(rc_runtime *rt, const char *utf8);
RC_API rc_obj *rc_str_intern_n(rc_runtime *rt, const char *utf8, size_t len);
RC_API int     rc_str_is_interned(const rc_obj *s);
RC_API const char *rc_str_data(const rc_obj *s);       /* NUL-terminated */
RC_API size_t  rc_str_len(const rc_obj *s);            /* bytes */
RC_API size_t  rc_str_length(const rc_obj *s);         /* code points */
RC_API rc_obj *rc_str_concat(rc_runtime *rt, const rc_obj *a, const rc_obj *b);
RC_API int     rc_str_equal_cstr(const rc_obj *s, const char *utf8);   /* 1 or 0 */
RC_API int     rc_is_str(const rc_obj *o);

/* ---- bytes: immutable byte strings; mmap'ed files ---- */
RC_API rc_obj *rc_bytes(rc_runtime *rt, const void *data, size_t len);
/* The file at path mapped read-only; unmapped when the last reference goes.
 * RC_EIO (message: path and strerror) if it cannot be opened or mapped. */
RC_API rc_obj *rc_bytes_mmap(rc_runtime *rt, const char *path);
RC_API const void *rc_bytes_data(const rc_obj *b);
RC_API size_t  rc_bytes_len(const rc_obj *b);
RC_API int     rc_bytes_is_mmap(const rc_obj *b);
RC_API int     rc_is_bytes(const rc_obj *o);

/* ---- tuple: immutable, hashable when its items are ---- */
RC_API rc_obj *rc_tuple(rc_runtime *rt, size_t n, ...);             /* n rc_obj * */
RC_API rc_obj *rc_tuple_from(rc_runtime *rt, size_t n, rc_obj *const *items);
RC_API rc_obj *rc_tuple_get(rc_runtime *rt, const rc_obj *t, size_t i);   /* borrowed */
RC_API size_t  rc_tuple_len(const rc_obj *t);
RC_API int     rc_is_tuple(const rc_obj *o);

/* ---- list ---- */
RC_API rc_obj *rc_list(rc_runtime *rt);
RC_API rc_obj *rc_list_with_capacity(rc_runtime *rt, size_t capacity);
RC_API int     rc_list_append(rc_runtime *rt, rc_obj *list, rc_obj *item);
/* Insert before index i; i >= len appends. */
RC_API int     rc_list_insert(rc_runtime *rt, rc_obj *list, size_t i, rc_obj *item);
RC_API rc_obj *rc_list_get(rc_runtime *rt, const rc_obj *list, size_t i);  /* borrowed */
RC_API int     rc_list_set(rc_runtime *rt, rc_obj *list, size_t i, rc_obj *item);
RC_API rc_obj *rc_list_pop(rc_runtime *rt, rc_obj *list);          /* last; new ref */
RC_API rc_obj *rc_list_pop_at(rc_runtime *rt, rc_obj *list, size_t i);   /* new ref */
RC_API int     rc_list_del(rc_runtime *rt, rc_obj *list, size_t i);
RC_API size_t  rc_list_len(const rc_obj *list);
RC_API void    rc_list_clear(rc_obj *list);
/* Append every item of a list or tuple (list may extend itself). */
RC_API int     rc_list_extend(rc_runtime *rt, rc_obj *list, rc_obj *items);
RC_API void    rc_list_reverse(rc_obj *list);
/* Stable sort. cmp returns <0, 0 or >0. A NULL cmp compares as Python's <
 * does for ints, floats and strs (RC_ETYPE for anything else). A comparator
 * fails by recording an error on the runtime (rc_error_set; its return value
 * is then ignored), as a Python key or comparison fails by raising: the sort
 * stops at once and returns that code. The list is unchanged when the sort
 * fails (RC_ESTATE if a comparator modified it). */
typedef int (*rc_cmpfn)(rc_obj *a, rc_obj *b, void *arg);
RC_API int     rc_list_sort(rc_runtime *rt, rc_obj *list, rc_cmpfn cmp, void *arg);
/* Index of the first item equal to x (rc_equal), or a negative RC_E*:
 * RC_EKEY when there is none. */
RC_API long    rc_list_index(rc_runtime *rt, rc_obj *list, rc_obj *x);
RC_API int     rc_is_list(const rc_obj *o);

/* ---- dict: insertion-ordered hash table ----
 * Every call that stores refuses, with RC_EINVAL and the dict unchanged, a
 * dict passed with a runtime other than its own and a key or value of
 * another runtime (static small ints belong to none and go anywhere). */
RC_API rc_obj *rc_dict(rc_runtime *rt);
RC_API int     rc_dict_set(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj *value);
RC_API rc_obj *rc_dict_get(rc_runtime *rt, rc_obj *dict, rc_obj *key);  /* borrowed; NULL + RC_EKEY if absent */
/* Look key up without making a miss an error: 1 with *value set (borrowed:
 * valid until the dict changes or its entry's value is released), 0 when
 * absent (*value = NULL, the runtime's error untouched), or a negative RC_E*
 * (unhashable key, a failing user hash or equal). value may be NULL. */
RC_API int     rc_dict_find(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj **value);
RC_API int     rc_dict_del(rc_runtime *rt, rc_obj *dict, rc_obj *key);  /* RC_EKEY if absent */
RC_API int     rc_dict_contains(rc_runtime *rt, rc_obj *dict, rc_obj *key);  /* 1, 0 or RC_E* */
RC_API rc_obj *rc_dict_pop(rc_runtime *rt, rc_obj *dict, rc_obj *key);  /* new ref; NULL + RC_EKEY */
/* Python's setdefault: store dflt under key unless key is present. 1 if it
 * was present, 0 if dflt was stored, or a negative RC_E*; *value (when
 * value is not NULL) is the value now stored, borrowed. One lookup. */
RC_API int     rc_dict_setdefault(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_obj *dflt,
                                  rc_obj **value);
/* d[key] = d.get(key, start) + delta in one lookup (a word count: delta 1,
 * start 0). 0 with the new value in *result (when not NULL); RC_ETYPE if
 * the value stored is not an int, RC_EOVERFLOW if the sum does not fit in
 * 64 bits, RC_ENOMEM; the dict is unchanged on error. */
RC_API int     rc_dict_incr(rc_runtime *rt, rc_obj *dict, rc_obj *key, int64_t delta,
                            int64_t start, int64_t *result);
/* The callback of rc_dict_modify: value is the value stored under key
 * (borrowed; NULL when absent). Return 0 with *out a new reference to the
 * value to store (rc_dict_modify releases it), or with *out left NULL to
 * remove the key (nothing happens when it is absent); or a negative RC_E*
 * (recorded on rt, or rc_dict_modify records it) to leave the dict as it
 * is. It may run any code, even change the dict. */
typedef int (*rc_dict_modify_fn)(rc_runtime *rt, rc_obj *key, rc_obj *value, rc_obj **out,
                                 void *arg);
/* Replace, insert or remove the value under key as fn decides, with one
 * lookup (a second one only if fn changed the dict). 0, or the callback's
 * error, or a negative RC_E* of the lookup or insertion. */
RC_API int     rc_dict_modify(rc_runtime *rt, rc_obj *dict, rc_obj *key, rc_dict_modify_fn fn,
                              void *arg);
RC_API size_t  rc_dict_len(const rc_obj *dict);
/* Empty the dict. Clearing a dict that is already empty does not disturb an
 * iterator (its next step ends the iteration). */
RC_API void    rc_dict_clear(rc_obj *dict);
/* Lookups by a C string: they hash the bytes as a str hashes its text and
 * compare them with the str keys only (a key of another type never
 * matches; bytes that are not valid UTF-8 match nothing). They allocate
 * nothing and run no user code. find: 1 with *value (borrowed), 0 when
 * absent (nothing recorded), or RC_EINVAL (NULL key) / RC_ETYPE (not a
 * dict). get: borrowed value, or NULL + RC_EKEY if absent. */
RC_API int     rc_dict_find_str(rc_runtime *rt, rc_obj *dict, const char *key, rc_obj **value);
RC_API int     rc_dict_find_str_n(rc_runtime *rt, rc_obj *dict, const char *key, size_t len,
                                  rc_obj **value);
RC_API rc_obj *rc_dict_get_str(rc_runtime *rt, rc_obj *dict, const char *key);
/* d[key] = value with a C string key: a str is made only when the key is
 * new. */
RC_API int     rc_dict_set_str(rc_runtime *rt, rc_obj *dict, const char *key, rc_obj *value);
RC_API int     rc_is_dict(const rc_obj *o);

/* ---- set ----
 * rc_set_add refuses (RC_EINVAL, set unchanged) a set passed with a runtime
 * other than its own and a key of another runtime; the algebra refuses
 * operands of another runtime, since its result (of rt) would hold their
 * keys. */
RC_API rc_obj *rc_set(rc_runtime *rt);
RC_API int     rc_set_add(rc_runtime *rt, rc_obj *set, rc_obj *key);
RC_API int     rc_set_discard(rc_runtime *rt, rc_obj *set, rc_obj *key);   /* 1 removed, 0 absent, RC_E* */
RC_API int     rc_set_contains(rc_runtime *rt, rc_obj *set, rc_obj *key);  /* 1, 0, or RC_E* */
RC_API size_t  rc_set_len(const rc_obj *set);
RC_API void    rc_set_clear(rc_obj *set);   /* an empty set's clear leaves iterators be */
RC_API rc_obj *rc_set_union(rc_runtime *rt, rc_obj *a, rc_obj *b);         /* new set */
RC_API rc_obj *rc_set_intersection(rc_runtime *rt, rc_obj *a, rc_obj *b);
RC_API rc_obj *rc_set_difference(rc_runtime *rt, rc_obj *a, rc_obj *b);
RC_API int     rc_is_set(const rc_obj *o);

/* ---- array: typed numeric array (the array module) ---- */
typedef enum rc_array_kind {
    RC_ARRAY_I8, RC_ARRAY_U8, RC_ARRAY_I16, RC_ARRAY_U16, RC_ARRAY_I32, RC_ARRAY_U32,
    RC_ARRAY_I64, RC_ARRAY_U64, RC_ARRAY_F32, RC_ARRAY_F64
} rc_array_kind;
RC_API rc_obj *rc_array(rc_runtime *rt, rc_array_kind kind);
/* Values convert to the item type; RC_EOVERFLOW if they do not fit. */
RC_API int     rc_array_append_i64(rc_runtime *rt, rc_obj *a, int64_t v);
RC_API int     rc_array_append_f64(rc_runtime *rt, rc_obj *a, double v);
RC_API int     rc_array_get_i64(rc_runtime *rt, const rc_obj *a, size_t i, int64_t *out);
RC_API int     rc_array_get_f64(rc_runtime *rt, const rc_obj *a, size_t i, double *out);
RC_API int     rc_array_set_i64(rc_runtime *rt, rc_obj *a, size_t i, int64_t v);
RC_API int     rc_array_set_f64(rc_runtime *rt, rc_obj *a, size_t i, double v);
RC_API size_t  rc_array_len(const rc_obj *a);
RC_API size_t  rc_array_itemsize(const rc_obj *a);
RC_API rc_array_kind rc_array_kind_of(const rc_obj *a);   /* (rc_array_kind)-1 if not an array */
RC_API void   *rc_array_data(rc_obj *a);       /* len * itemsize bytes; valid until resized */
RC_API int     rc_is_array(const rc_obj *o);

/* ---- weak-value dict (WeakValueDictionary): entries vanish with their value ----
 * rc_weakvaluedict_set refuses (RC_EINVAL, dict unchanged) a dict passed
 * with a runtime other than its own and a key or value of another runtime. */
RC_API rc_obj *rc_weakvaluedict(rc_runtime *rt);
RC_API int     rc_weakvaluedict_set(rc_runtime *rt, rc_obj *d, rc_obj *key, rc_obj *value);
RC_API rc_obj *rc_weakvaluedict_get(rc_runtime *rt, rc_obj *d, rc_obj *key); /* borrowed; NULL + RC_EKEY */
RC_API int     rc_weakvaluedict_del(rc_runtime *rt, rc_obj *d, rc_obj *key);
RC_API size_t  rc_weakvaluedict_len(rc_obj *d);   /* live entries; O(n) once after values died */

/* ---- iterators: on the stack, materialize nothing ---- */
typedef struct rc_iter {
    rc_obj *container;      /* fields are the library's */
    size_t pos;
    uint64_t stamp;
} rc_iter;
/* Start iterating a list, tuple, dict (its keys), set, weak-value dict (its
 * keys) or array. The iterator holds no reference: keep the container alive. */
RC_API void rc_iter_init(rc_iter *it, rc_obj *container);
/* Next item (borrowed): 1 and *item set, 0 at the end, RC_ESTATE if the
 * container changed since rc_iter_init, RC_ETYPE for an array or a
 * non-container. */
RC_API int  rc_iter_next(rc_runtime *rt, rc_iter *it, rc_obj **item);
/* Dict items, key and value borrowed; same results. */
RC_API int  rc_dict_next(rc_runtime *rt, rc_iter *it, rc_obj **key, rc_obj **value);
/* Array items as numbers; same results (RC_ETYPE if not an array). */
RC_API int  rc_array_next_i64(rc_runtime *rt, rc_iter *it, int64_t *out);
RC_API int  rc_array_next_f64(rc_runtime *rt, rc_iter *it, double *out);

#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_TYPES_H */
