/* recycle/trace.h - tracemalloc for C: where the recycle heap's memory was
 * allocated.
 *
 * rc_trace_start(nframes) wraps the allocator in force (rc_heap_set_allocator)
 * and from then on records every block of the rc_malloc family with its size
 * and the traceback of its allocation: up to nframes return addresses,
 * innermost first, frame 0 being the caller of rc_malloc (the allocator's own
 * frames are left out). Identical tracebacks are stored once. Memory
 * allocated elsewhere (a custom allocator, a GPU buffer) can be traced too,
 * in a domain of its own, with rc_trace_track / rc_trace_untrack.
 *
 * The tracer is a process-wide singleton behind one lock; every function
 * here may be called from any thread. Blocks allocated before start have no
 * trace; freeing them while tracing is not an error. Functions returning int
 * return 0 or a negative RC_E* code (recycle/error.h) and leave everything
 * unchanged on failure. docs/trace.md describes the design and its costs. */
#ifndef RECYCLE_TRACE_H
#define RECYCLE_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The range of rc_trace_start's nframes. */
#define RC_TRACE_MAX_FRAMES 128
/* The domain of the recycle heap's blocks (rc_malloc and friends). Other
 * domains are any other unsigned value, chosen by the program. */
#define RC_TRACE_DOMAIN_HEAP 0u

/* A traceback: return addresses, innermost first. Opaque. */
typedef struct rc_traceback rc_traceback;

/* ---------------------------------------------------------------------------
 * Tracing
 * ------------------------------------------------------------------------- */

/* Start tracing with tracebacks of up to nframes frames (1..128, else
 * RC_EINVAL). When already tracing, only the limit changes (as
 * tracemalloc.start). RC_ENOMEM when the tracer cannot set itself up. */
RC_API int  rc_trace_start(int nframes);
/* Stop tracing: put back the allocator that was in force at start, and
 * free every trace and traceback. Does nothing when not tracing. An
 * allocator installed over the tracer's after start is removed too. */
RC_API void rc_trace_stop(void);
/* 1 while tracing, else 0. */
RC_API int  rc_trace_is_tracing(void);
/* The nframes of the running tracer; 0 when not tracing. */
RC_API int  rc_trace_get_traceback_limit(void);
/* The bytes of the traced blocks now, and the most there were since start,
 * the last rc_trace_reset_peak or rc_trace_clear_traces (requested sizes,
 * every domain). Both 0 when not tracing. Either pointer may be NULL. */
RC_API void rc_trace_get_traced_memory(size_t *current, size_t *peak);
/* Set the peak to the current traced memory. */
RC_API void rc_trace_reset_peak(void);
/* Bytes the tracer uses for its traces, tracebacks and tables. */
RC_API size_t rc_trace_get_tracemalloc_memory(void);
/* Forget every trace and traceback (traced memory and peak become 0);
 * tracing goes on. Blocks traced before are then as if allocated before
 * start. */
RC_API void rc_trace_clear_traces(void);

/* Record a block of size bytes at ptr in domain (not RC_TRACE_DOMAIN_HEAP's
 * blocks: those the tracer sees by itself), with the caller's traceback; a
 * pointer already traced in that domain gets the new size and traceback.
 * RC_EINVAL for a NULL ptr, RC_ESTATE when not tracing, RC_ENOMEM. */
RC_API int  rc_trace_track(unsigned int domain, const void *ptr, size_t size);
/* Forget the trace of ptr in domain. 0 (also when there is none), or
 * RC_ESTATE when not tracing. */
RC_API int  rc_trace_untrack(unsigned int domain, const void *ptr);

/* A copy of the traceback of the heap block ptr (an rc_malloc block; for a
 * recycle object, pass the object's address when the object layer traces its
 * blocks); NULL when not tracing, when ptr has no trace, or on ENOMEM. The
 * caller frees it with rc_traceback_free. */
RC_API rc_traceback *rc_trace_get_object_traceback(const void *ptr);
/* Frames in tb (0 for NULL). */
RC_API size_t rc_traceback_len(const rc_traceback *tb);
/* Return address of frame i (0 innermost); 0 when i is out of range. */
RC_API uintptr_t rc_traceback_addr(const rc_traceback *tb, size_t i);
/* Free a traceback from rc_trace_get_object_traceback; NULL is allowed. */
RC_API void rc_traceback_free(rc_traceback *tb);

#ifdef __cplusplus
}
#endif

#endif /* RECYCLE_TRACE_H */
