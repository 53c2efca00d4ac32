/* recycle/gc.h - the generational cycle collector: the API of Python's gc
 * module.
 *
 * Containers (types with RC_TYPE_GC) are tracked when created. A
 * generation-0 collection runs inside the allocation of a tracked object when
 * count[0] (tracked allocations minus deallocations since the last
 * generation-0 collection) exceeds threshold[0]; the collection then covers
 * the oldest generation whose count exceeds its threshold, as in CPython.
 * Lists of objects come back as rc_list objects (new references). */
#ifndef RECYCLE_GC_H
#define RECYCLE_GC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "export.h"
#include "object.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct { size_t collections, collected, uncollectable; } rc_gc_stats;
typedef struct { int generation; size_t collected, uncollectable; } rc_gc_info;

#define RC_GC_START 0
#define RC_GC_STOP  1
typedef void (*rc_gc_callback)(rc_runtime *rt, int phase /* RC_GC_START, RC_GC_STOP */,
                               const rc_gc_info *info, void *arg);

/* Debug flags (gc.DEBUG_*): statistics on stderr (or the runtime's report
 * file), each collectable / uncollectable object found, SAVEALL (keep every
 * unreachable object in rc_gc_garbage instead of freeing it), LEAK. */
#define RC_GC_DEBUG_STATS         (1u << 0)
#define RC_GC_DEBUG_COLLECTABLE   (1u << 1)
#define RC_GC_DEBUG_UNCOLLECTABLE (1u << 2)
#define RC_GC_DEBUG_SAVEALL       (1u << 5)
#define RC_GC_DEBUG_LEAK (RC_GC_DEBUG_COLLECTABLE | RC_GC_DEBUG_UNCOLLECTABLE | RC_GC_DEBUG_SAVEALL)

/* Collect generations 0..generation (0, 1 or 2); returns the number of
 * unreachable objects found, 0 during a collection, or a negative RC_EINVAL
 * for a bad generation. */
RC_API long    rc_gc_collect(rc_runtime *rt, int generation);
RC_API void    rc_gc_enable(rc_runtime *rt);
RC_API void    rc_gc_disable(rc_runtime *rt);
RC_API int     rc_gc_isenabled(const rc_runtime *rt);
RC_API void    rc_gc_get_count(const rc_runtime *rt, size_t count[3]);
RC_API void    rc_gc_set_threshold(rc_runtime *rt, size_t t0, size_t t1, size_t t2);
RC_API void    rc_gc_get_threshold(const rc_runtime *rt, size_t t[3]);
RC_API void    rc_gc_get_stats(const rc_runtime *rt, rc_gc_stats stats[3]);
/* The adaptive young-generation threshold (the default policy): young
 * collections that find under 1% garbage double the allocations between
 * them, up to 256 times the configured threshold[0]; one that finds 10% or
 * more halves them, down to the configured one. So a program whose young
 * objects all survive (a tree built and held) pays for far fewer young
 * collections, and one that makes cyclic garbage keeps them frequent; the
 * young garbage waiting is bounded by 256 times threshold[0]. While on,
 * rc_gc_get_threshold still reports the configured threshold[0];
 * rc_gc_get_young_threshold gives where the policy has it now.
 * rc_gc_set_threshold, or thresholds given in rc_config, turn the policy
 * off (the caller's numbers are used as given, as CPython does). See
 * docs/gc.md. */
RC_API void    rc_gc_set_adaptive(rc_runtime *rt, int on);
RC_API int     rc_gc_get_adaptive(const rc_runtime *rt);
RC_API size_t  rc_gc_get_young_threshold(const rc_runtime *rt);
/* Objects tracked in a generation (-1: all), not counting frozen ones. */
RC_API rc_obj *rc_gc_get_objects(rc_runtime *rt, int generation);   /* new list */
RC_API int     rc_gc_is_tracked(const rc_obj *o);
RC_API int     rc_gc_is_finalized(const rc_obj *o);
RC_API rc_obj *rc_gc_get_referrers(rc_runtime *rt, rc_obj *o);      /* new list */
RC_API rc_obj *rc_gc_get_referents(rc_runtime *rt, rc_obj *o);      /* new list */
RC_API void    rc_gc_freeze(rc_runtime *rt);
RC_API void    rc_gc_unfreeze(rc_runtime *rt);
RC_API size_t  rc_gc_get_freeze_count(const rc_runtime *rt);
RC_API int     rc_gc_callback_add(rc_runtime *rt, rc_gc_callback cb, void *arg);
RC_API int     rc_gc_callback_remove(rc_runtime *rt, rc_gc_callback cb, void *arg); /* RC_EKEY if absent */
RC_API void    rc_gc_set_debug(rc_runtime *rt, unsigned flags);
RC_API unsigned rc_gc_get_debug(const rc_runtime *rt);
RC_API rc_obj *rc_gc_garbage(rc_runtime *rt);                       /* borrowed list */
/* Bounded-pause mode. With step_objects > 0, a full collection that the
 * allocation trigger starts runs incrementally: one step, handling at most
 * step_objects objects, at each later trigger (instead of a young
 * collection), so that no single pause grows with the heap nor with the
 * garbage: weak references, callbacks, finalizers and clear run in steps
 * too. 0 (the
 * default) turns the mode off and finishes a collection in progress.
 * rc_gc_collect and the introspection functions finish a pending
 * incremental collection first. See docs/gc.md. */
RC_API void    rc_gc_set_incremental(rc_runtime *rt, size_t step_objects);
RC_API size_t  rc_gc_get_incremental(const rc_runtime *rt);
/* Bound every step of the bounded-pause mode by time as well: a step ends
 * once it has run for about max_us microseconds (the clock is read every
 * few dozen objects, and after each finalizer, weak reference callback and
 * clear it runs), even before step_objects objects. 0 (the default): the
 * steps are bounded by objects only. */
RC_API void    rc_gc_set_step_time(rc_runtime *rt, unsigned max_us);
RC_API unsigned rc_gc_get_step_time(const rc_runtime *rt);
/* Start an incremental full collection now (if none is in progress) and run
 * one step. Returns 1 while a collection is still in progress, 0 once idle. */
RC_API int     rc_gc_collect_incremental(rc_runtime *rt);
/* Run one step of the collection in progress; 1 if one is still in
 * progress afterwards, 0 if idle. */
RC_API int     rc_gc_step(rc_runtime *rt);
/* Stop tracking / track again a container that cannot take part in a cycle
 * (CPython does this for tuples and dicts of atoms). */
RC_API void    rc_gc_untrack(rc_obj *o);
RC_API void    rc_gc_track(rc_obj *o);

/* ---- objgraph ----
 * Over the objects the collector tracks (rc_gc_get_objects(rt, -1): frozen
 * objects are not counted). Lists of tuples; names are str objects; limit
 * 0 means no limit. Types are told apart by name, as objgraph does. Each
 * returns a new reference, or NULL with the runtime's error set. */

/* [(name, count)], the commonest first (ties by name). */
RC_API rc_obj *rc_objgraph_most_common_types(rc_runtime *rt, size_t limit);
/* [(name, count, increase)] for each type whose count is above the highest
 * seen by earlier calls (objgraph.growth: the first call reports every
 * type), largest increase first; the highest counts are then updated. */
RC_API rc_obj *rc_objgraph_growth(rc_runtime *rt, size_t limit);
/* A list of the tracked objects whose type is named type_name. */
RC_API rc_obj *rc_objgraph_by_type(rc_runtime *rt, const char *type_name);
/* The shortest chain of references [root, ..., o] from an object for which
 * is_root(candidate, arg) returns nonzero to o, searched breadth first
 * through the objects that refer to o, then to those, up to max_depth
 * steps; [o] when no root is found within max_depth (as objgraph). o itself
 * is asked first. Automatic collection is off while it searches, and
 * is_root must not free objects. NULL with RC_EINVAL for a NULL o or
 * is_root, RC_ENOMEM. */
RC_API rc_obj *rc_objgraph_find_backref_chain(rc_runtime *rt, rc_obj *o,
            int (*is_root)(rc_obj *candidate, void *arg), void *arg,
            size_t max_depth);
/* The graph of the references from objs[0..n) (or, with backrefs, to
 * them) up to max_depth steps, as Graphviz DOT on out: each object a box
 * labelled with its type, size (rc_sizeof) and a short repr; the given
 * objects filled green; the references that lie on a cycle red. A node
 * with more than RC_OBJGRAPH_TOO_MANY references shows that many and a
 * "N more" box. 0, or RC_EINVAL, RC_ENOMEM, RC_EIO (a write error). */
#define RC_OBJGRAPH_TOO_MANY 10
RC_API int     rc_objgraph_write_dot(rc_runtime *rt, rc_obj *const *objs, size_t n,
            size_t max_depth, int backrefs, FILE *out);
/* The same graph drawn as SVG into svg_path by Graphviz's dot (found on
 * PATH), written whole or not at all. RC_EIO with a message saying so when
 * dot is not installed ("apt-get install graphviz") or fails. */
RC_API int     rc_objgraph_write_svg(rc_runtime *rt, rc_obj *const *objs, size_t n,
            size_t max_depth, int backrefs, const char *svg_path);

/* "Why is it alive?": the chain of references to o from the nearest root,
 * an object held from outside the tracked objects (its count is more than
 * the references tracked objects hold to it: a C variable, a global, an
 * untracked container; or immortal), printed on out with, for each object
 * on it, its refcount, how many of those come from outside, its GC
 * generation, size, type and a short repr, and, when the tracer runs
 * (rc_trace_start), where it was allocated. held: references to o the
 * caller holds itself, not counted as outside. Searches at most max_depth
 * steps back; says when nothing outside holds o at all (cyclic garbage).
 * 0, or RC_EINVAL, RC_ENOMEM, RC_EIO. */
RC_API int     rc_objgraph_why_alive(rc_runtime *rt, rc_obj *o, size_t held,
            size_t max_depth, FILE *out);
/* The same for the objects of a type (the first RC_OBJGRAPH_WHY_SAMPLE of
 * them): how many have each chain of types from their nearest root, the
 * commonest first, then the full answer for one object of each of the
 * limit commonest chains (0: all). */
#define RC_OBJGRAPH_WHY_SAMPLE 1000
RC_API int     rc_objgraph_why_alive_type(rc_runtime *rt, const char *type_name, size_t limit,
            size_t max_depth, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_GC_H */
