/* tracker.h - the recorder, as the interposed functions (shim.c) see it.
 *
 * State machine of a process (rcpl_mode):
 *
 *   UNSTARTED --(first hook after libc's start, or the constructor)--> RECORDING or OFF
 *   RECORDING --(exit, _exit, a fatal signal, a write error)----------> OFF
 *   RECORDING --(fork, child side, without follow-fork)----------------> OFF  (in the child)
 *   RECORDING --(fork, child side, with follow-fork)-------------------> RECORDING (a new capture)
 *   RECORDING --(exec)--> RECORDING (the capture ends with EXIT{EXEC}; if the exec
 *                         fails the program goes on and so does the capture)
 *
 * While a thread's rcpl_busy is set, or the mode is not RECORDING, every
 * interposed function calls the real one and nothing else. */
#ifndef RC_PRELOAD_TRACKER_H
#define RC_PRELOAD_TRACKER_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"
#include "preload/live.h"
#include "preload/preload.h"
#include "trace/stack.h"

enum { RCPL_UNSTARTED, RCPL_RECORDING, RCPL_OFF };
extern _Atomic int rcpl_mode;

/* The real functions (shim.c resolves them with dlsym(RTLD_NEXT)). */
typedef struct rcpl_real {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
    int (*sigaction)(int, const struct sigaction *, struct sigaction *);
} rcpl_real;
extern rcpl_real rcpl_fn;

/* ---- the sampled fast path ----
 *
 * In sampled mode almost every call is neither recorded nor needs the
 * recorder: an allocation that does not reach the thread's next sample
 * point, a free of a block that was never sampled. Those are decided here,
 * inline in the interposed function, with one thread-local and one global
 * load, before anything else.
 *
 * rcpl_left: bytes this thread may still allocate before its next sample
 * point; 0 (its initial value, and always in full mode) sends every call
 * through the recorder. A call that passes here while the thread is inside
 * the recorder only advances its sampler: such calls are not recorded
 * anyway. */
extern RCPL_TLS int64_t rcpl_left;
/* The live table's filter once recording started (live.h); NULL before. */
extern _Atomic(_Atomic uint8_t *) rcpl_filter;

/* True when an allocation of size bytes is not sampled and needs nothing
 * more (the stream is advanced). */
static inline bool rcpl_skip(size_t size) {
    int64_t left = rcpl_left;
    if (RCPL_LIKELY(left > 0 && (uint64_t)left > size)) {
        rcpl_left = left - (int64_t)size;
        return true;
    }
    return false;
}

/* True when p is certainly not a recorded block: its free needs nothing
 * (rcpl_live_maybe without the table at hand). */
static inline bool rcpl_untracked(const void *p) {
    _Atomic uint8_t *f = atomic_load_explicit(&rcpl_filter, memory_order_relaxed);
    return f && atomic_load_explicit(&f[rcpl_filter_index((uintptr_t)p)], memory_order_relaxed) == 0;
}

/* Start if configured: the part that is safe inside any malloc call (no
 * lock of libc's taken, no thread started). Called with rcpl_busy clear. */
void rcpl_start_early(void);

/* Whether this call should be recorded (and, before the recorder started,
 * a chance to start it). */
static inline bool rcpl_wanted(void) {
    int m = atomic_load_explicit(&rcpl_mode, memory_order_relaxed);
    if (RCPL_LIKELY(m == RCPL_RECORDING))
        return !rcpl_busy;
    if (m == RCPL_UNSTARTED && !rcpl_busy) {
        rcpl_start_early();
        return atomic_load_explicit(&rcpl_mode, memory_order_relaxed) == RCPL_RECORDING;
    }
    return false;
}
/* The rest, from the library's constructor: exit handlers, fork handlers,
 * signal handlers, the writer thread. */
void rcpl_start_late(void);

/* ---- events (called with rcpl_busy set; st is the interposed function's
 * own frame, so that frame 1 of the walk is the program's call) ---- */

/* p (non-NULL) was just returned for size bytes by function fn. */
void rcpl_on_alloc(void *p, size_t size, rccap_fn fn, const rctr_start *st);
/* p is about to be given back (call before the real free). */
void rcpl_on_free(void *p);
/* realloc and reallocarray: the recorder makes the real call itself, so
 * that the old address's record ends before another thread can receive
 * that address. nmemb 0 means a plain realloc(p, size). */
void *rcpl_realloc(void *p, size_t nmemb, size_t size, rccap_fn fn, const rctr_start *st);

/* ---- the process's life ---- */

/* exit() and main's return: the status seen by the on_exit handler. */
void rcpl_on_exit_now(int status);   /* _exit / _Exit, before the real one */
void rcpl_on_exec(void);             /* before an exec */
/* dlopen or dlmopen is about to run: the next recorded call of any thread
 * records the libraries it loaded. */
void rcpl_note_libs_changed(void);
void rcpl_on_dlclose(void);          /* before dlclose: record what is not yet */
/* The program is about to start a thread: the writer thread starts first
 * (once). A process that never starts one has no writer thread. */
void rcpl_on_thread_create(void);
/* pthread_setname_np succeeded for the thread `thread`. */
void rcpl_on_thread_name(pthread_t thread, const char *name);
/* librecycle's cycle collector finished a collection (recycle/annotate.h):
 * an RCCAP_GC record on the calling thread. */
void rcpl_on_gc(uint32_t generation, uint64_t collected, uint64_t uncollectable,
                uint64_t duration_ns, uint64_t steps);
/* The fd of the capture while recording, else -1 (the shim keeps the
 * program's close calls off it). */
int rcpl_capture_fd(void);

/* ---- signals: the program's view of the dispositions of the signals the
 * recorder catches (a sigaction the program makes on one of them is kept
 * here, and the recorder's handler stays installed in front of it) ---- */

/* True when the recorder handles sig: then *oact gets the program's view
 * and act (if any) becomes the program's disposition. False: the caller
 * calls the real sigaction. */
bool rcpl_sigaction(int sig, const struct sigaction *act, struct sigaction *oact, int *result);

#endif /* RC_PRELOAD_TRACKER_H */
