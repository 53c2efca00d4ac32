/* recycle/annotate.h - what librecycle tells a memory profiler that runs
 * the program: events the profiler cannot see from the malloc family
 * alone. `recycle run`'s preload (librecycle-preload.so) defines the hook,
 * records each collection in its capture, and `recycle plot` marks them on
 * the time axis.
 *
 * The hook is a weak reference: librecycle calls it only when the process
 * holds a definition, which a preloaded profiler brings, and costs one
 * test of a pointer per collection otherwise. A program linked statically
 * without position-independent code has the reference resolved to nothing
 * at link time, and its collections are not reported.
 *
 * Only profilers define the hook; programs neither define nor call it. */
#ifndef RECYCLE_ANNOTATE_H
#define RECYCLE_ANNOTATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One finished collection of the cycle collector. */
typedef struct rc_annotate_gc {
    int generation;            /* the oldest generation collected: 0, 1 or 2 */
    size_t collected;          /* unreachable objects freed */
    size_t uncollectable;      /* unreachable objects kept (gc.garbage) */
    uint64_t duration_ns;      /* from its start to its end, steps and the
                                  program's work between them included */
    size_t steps;              /* 0: in one pause; else the steps of an
                                  incremental collection */
} rc_annotate_gc;

/* Called at the end of every collection, on the collecting thread, after
 * the runtime's gc callbacks (RC_GC_STOP). It must not call librecycle. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((weak))
#endif
void rc_annotate_gc_collection(const rc_annotate_gc *collection);

#ifdef __cplusplus
}
#endif

#endif /* RECYCLE_ANNOTATE_H */
