/* recycle/types.h - the built-in types: int, float, str (+ interning), bytes,
 * tuple, list, dict, set, array, the weak-value dict, the lru cache, and
 * iterators.
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
RC_API extern const rc_type rc_lru_type;

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

/* ---- lru cache (functools.lru_cache): a GC container ----
 * Keys are any hashable objects (rc_hash / rc_equal: 1 and 1.0 are one key
 * unless the cache is typed), typically argument tuples; values any
 * objects. At most maxsize entries (0: unbounded); a put into a full cache
 * evicts the least recently used entry first. A get hit and a put of a
 * present key make the entry the most recent. get and put are O(1).
 *
 * typed: keys of different types are different keys (1 and 1.0), and so
 * are tuples whose items at the same position differ in type, as
 * functools' _make_key adds type(arg) per argument (nested tuples are not
 * looked into).
 *
 * Every call taking rt refuses (RC_EINVAL, cache unchanged) a cache of
 * another runtime; put also a key or value of another runtime. A NULL key is
 * RC_EINVAL, an unhashable one RC_ETYPE; a failing user hash or equal
 * returns its code. In every failure the cache is unchanged (counters
 * included). User code run by a comparison or by the release of an evicted
 * entry may use the cache: it sees it consistent. docs/design/lru.md. */
typedef struct { size_t hits, misses, maxsize, currsize; } rc_lru_info;
/* More of the cache's state (rc_lru_cache_info_ex). */
typedef struct rc_lru_info_ex {
    size_t hits, misses, maxsize, currsize;
    size_t max_bytes;     /* the byte bound (rc_lru_set_max_bytes); 0: none */
    size_t bytes;         /* the entries' measured sizes summed; 0 without a byte bound */
    size_t evictions;     /* entries evicted by either bound */
    size_t rejected;      /* puts not cached: the entry alone was above max_bytes */
    int typed;
} rc_lru_info_ex;
RC_API rc_obj *rc_lru(rc_runtime *rt, size_t maxsize, int typed);  /* new; maxsize 0: unbounded */
/* The value cached under key: borrowed, valid until the cache is next
 * changed; NULL + RC_EKEY on a miss (recorded lazily: a miss costs about
 * what a hit does). Counts a hit or a miss (nothing when it fails). */
RC_API rc_obj *rc_lru_get(rc_runtime *rt, rc_obj *cache, rc_obj *key);
/* As rc_lru_get without making a miss an error: 1 with *value (borrowed),
 * 0 on a miss (*value = NULL, nothing recorded), or a negative RC_E*.
 * Counts a hit or a miss. value may be NULL. */
RC_API int     rc_lru_find(rc_runtime *rt, rc_obj *cache, rc_obj *key, rc_obj **value);
/* Cache value under key (both referenced by the cache). A present key keeps
 * its key object, gets the value and becomes the most recent; a new key
 * evicts the least recent entry first when the cache is full. Counts
 * neither a hit nor a miss. 0, or RC_EINVAL / RC_ETYPE / RC_ENOMEM /
 * RC_EOVERFLOW (more than 2**31 entries) with the cache unchanged. With a
 * byte bound, an entry whose size alone is above it is not cached (0 is
 * returned, rejected counts it, and a present key loses its entry). */
RC_API int     rc_lru_put(rc_runtime *rt, rc_obj *cache, rc_obj *key, rc_obj *value);
/* Remove key's entry: 0, or RC_EKEY when absent (or another code). */
RC_API int     rc_lru_del(rc_runtime *rt, rc_obj *cache, rc_obj *key);
/* The memoize helper (the decorator's analogue): the value for args, a NEW
 * reference. A hit returns the cached value; a miss calls fn(rt, args,
 * arg), caches its result under args and returns it. fn returns a new
 * reference, or NULL with an error recorded on rt (rc_error_set): the
 * NULL is returned and nothing is cached. Re-entrant: fn may call
 * rc_lru_call (or anything else) on the same cache, so a memoized
 * recursive function works; if the key was cached meanwhile (by the
 * recursion), that entry is left as it is and fn's result is returned, as
 * functools does. As in functools, a failure to cache the result (out of
 * memory, a failing comparison, a result of another runtime: RC_EINVAL)
 * fails the call: NULL, the result dropped, the cache unchanged. */
typedef rc_obj *(*rc_lru_fn)(rc_runtime *rt, rc_obj *args, void *arg);
RC_API rc_obj *rc_lru_call(rc_runtime *rt, rc_obj *cache, rc_lru_fn fn, rc_obj *args, void *arg);
/* rc_lru_call with the key (args[0], ..., args[n-1]), a tuple, as a
 * memoized function of n arguments is keyed: a hit is found from the items
 * without making the tuple; a miss makes it, passes it to fn and caches
 * it. Same results and counts as rc_lru_call with that tuple. */
RC_API rc_obj *rc_lru_call_args(rc_runtime *rt, rc_obj *cache, rc_lru_fn fn, size_t n,
                                rc_obj *const *args, void *arg);
/* Zeroes for an object that is not an lru cache. */
RC_API void    rc_lru_cache_info(const rc_obj *cache, rc_lru_info *info);
RC_API void    rc_lru_cache_info_ex(const rc_obj *cache, rc_lru_info_ex *info);
/* 0 with the creation parameters (either pointer may be NULL), or RC_ETYPE
 * (nothing recorded) if cache is not an lru cache. */
RC_API int     rc_lru_cache_parameters(const rc_obj *cache, size_t *maxsize, int *typed);
/* Empty the cache and reset hits, misses, evictions and rejected. */
RC_API void    rc_lru_cache_clear(rc_obj *cache);
/* Also bound the sum of the entries' sizes: rc_deep_sizeof(key) +
 * rc_deep_sizeof(value) of each entry, measured when it is stored (each
 * separately: what they share is counted in both). Least recent entries are
 * evicted until both bounds hold; an entry above max_bytes by itself is not
 * cached. max_bytes 0 removes the byte bound. Setting a bound on a cache
 * with entries measures them and evicts at once. 0, or RC_EINVAL /
 * RC_ETYPE / RC_ENOMEM (cache unchanged). */
RC_API int     rc_lru_set_max_bytes(rc_runtime *rt, rc_obj *cache, size_t max_bytes);
/* A new list of the keys, least recently used first. */
RC_API rc_obj *rc_lru_keys(rc_runtime *rt, rc_obj *cache);
RC_API size_t  rc_lru_len(const rc_obj *cache);       /* entries; 0 if not an lru cache */
RC_API int     rc_is_lru(const rc_obj *o);

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
