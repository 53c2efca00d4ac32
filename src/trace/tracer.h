/* tracer.h - the trace layer's internals shared by its files.
 *
 * Data model (the tracemalloc design, in C):
 *
 *   tracer (one per process, behind tracer.lock)
 *     traces   : rci_htable  pointer -> rctr_trace*          (domain 0: the recycle heap)
 *     domains  : rci_htable  domain + 1 -> rci_htable*       (other domains, rc_trace_track)
 *     nodes    : open table  (pc, parent) -> rctr_traceback    (each distinct traceback once)
 *     arena    : pages from the OS holding the tracebacks, the trace records and
 *                the domain tables; released all at once by clear/stop
 *
 *   rctr_trace { size, traceback* }   one per live traced block
 *
 * Invariants (under tracer.lock):
 *   - current == sum of the sizes of every trace of every domain; peak >= current.
 *   - every trace's traceback is in nodes (or is the static empty traceback);
 *     tracebacks are never freed one by one, only all together with the
 *     arena, so a trace never points to a freed traceback.
 *   - none of this memory comes from the traced path: the tables use the
 *     raw allocator (htable.h), the arena maps pages directly (os.h).
 *
 * A thread sets its re-entrancy flag while it runs tracer code, and the
 * hooks pass straight through while it is set: the tracer never traces
 * itself and never takes its lock twice. */
#ifndef RC_TRACE_TRACER_H
#define RC_TRACE_TRACER_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stddef.h>
#include <stdint.h>

#include "heap/htable.h"
#include "recycle/trace.h"
#include "trace/stack.h"

/* An interned traceback: its innermost frame, and the interned traceback
 * of the frames outward of it (NULL after the outermost). Identical
 * tracebacks are one record; tracebacks that share their outer frames share
 * those records (a call tree, as heaptrack keeps it). */
typedef struct rctr_traceback {
    uintptr_t pc;
    const struct rctr_traceback *parent;
    uint64_t hash;                 /* of pc and every frame outward */
    size_t nframes;                /* 1 + parent's (0: the empty traceback) */
    /* The child of this traceback interned or found last (lock held): a
     * program that allocates again below the same callers finds its
     * traceback here without probing the table. */
    const struct rctr_traceback *hint;
} rctr_traceback;

/* tb's frames, innermost first, into out (room for tb->nframes <=
 * RCTR_MAX_FRAMES); returns their number. */
size_t rctr_tb_frames(const rctr_traceback *tb, uintptr_t *out);

typedef struct rctr_trace {
    size_t size;
    const rctr_traceback *tb;      /* next free record while on the free list */
} rctr_trace;

/* A public rc_traceback: a copy owned by its holder. */
struct rc_traceback {
    size_t nframes;
    uintptr_t frames[];
};

/* The type name of the object whose block is the trace at ptr of domain,
 * while rc_trace_set_object_types is on; NULL otherwise (the caller holds
 * the lock). */
const char *rctr_type_of(unsigned domain, uintptr_t ptr);

/* Visit every trace of every domain; the caller holds the lock (through
 * rctr_lock). fn returns nonzero to stop; that value is returned. */
typedef int (*rctr_trace_visitor)(unsigned domain, uintptr_t ptr, const rctr_trace *t, void *arg);
int rctr_visit_traces(rctr_trace_visitor fn, void *arg);
/* Take / release the tracer's lock, with the calling thread's re-entrancy
 * flag set in between (so libc or heap calls made meanwhile are not traced
 * and never wait for the lock). */
void rctr_lock(void);
void rctr_unlock(void);
/* Told of each change of the traced memory that adding, replacing or
 * removing a trace made (any domain; not clear or stop): the bytes added and
 * removed (a realloc's new and old sizes in one call) and the traced memory
 * after the change. Called on the thread that made the change, once the
 * tables' lock is released but still inside the tracer's hook (the thread's
 * re-entrancy flag is set: what the listener allocates from the recycle
 * heap is not traced). It may capture the stack and take the tracer's
 * lock; it must not start or stop tracing. profile.c is the listener. */
typedef void (*rctr_change_fn)(size_t added, size_t removed, size_t current);
/* Install fn (NULL: none). A hook that read the old listener just before
 * may still call it once. */
void rctr_set_change_listener(rctr_change_fn fn);

/* Number of traces of every domain (lock held). */
size_t rctr_trace_count(void);
/* The traceback limit in force (lock held), 0 when not tracing. */
int rctr_limit(void);

#endif /* RC_TRACE_TRACER_H */
