/* preload.h - what the files of librecycle-preload.so share: the locks,
 * memory from the OS, the per-thread re-entrancy flag, and the recorder's
 * entry points that the interposed functions (shim.c) call.
 *
 * The pieces (docs/preload.md has the whole picture):
 *
 *   shim.c       the interposed functions: malloc family, exec, _exit,
 *                fork, signals, dlopen/dlclose, close. Interposition only:
 *                each asks the recorder whether to record, then calls the
 *                real function found with dlsym(RTLD_NEXT).
 *   tracker.c    the recorder: options, per-thread buffers, the background
 *                writer, fork/exec/exit/crash handling.
 *   stacktree.c  call-tree nodes (parent, pc) -> id
 *   live.c       the live blocks: address -> size, sharded
 *   sample.c     Poisson sampling by bytes
 *   modules.c    the loaded objects and their segments
 *   leaks.c      the conservative scan at exit
 *   env.c        the RECYCLE_* variables
 *
 * stacktree, live, sample, modules, leaks and env know nothing of
 * interposition or of the capture format: they are the library
 * recycle_preload_core, which the white-box tests link.
 *
 * Nothing in this layer allocates through the malloc it interposes: its
 * memory comes from the OS (rcpl_os_take), and while a thread runs the
 * recorder's code its re-entrancy flag is set, so that whatever libc does
 * for it (dlsym, pthread_create, fopen in pthread_getattr_np) goes straight
 * to the real allocator, untraced. */
#ifndef RC_PRELOAD_PRELOAD_H
#define RC_PRELOAD_PRELOAD_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "heap/os/os.h"

#define RCPL_LIKELY(x) __builtin_expect(!!(x), 1)
#define RCPL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RCPL_NOINLINE __attribute__((noinline))
/* Thread-local storage read without a call: the model fixed at link time
 * means no __tls_get_addr, which may allocate, on any path of the shim. A
 * preloaded library is loaded with the program, so its TLS is static. */
#define RCPL_TLS __thread __attribute__((tls_model("initial-exec")))
#define RCPL_EXPORT __attribute__((visibility("default")))

#if defined(__x86_64__) || defined(__i386__)
#define RCPL_PAUSE() __builtin_ia32_pause()
#else
#define RCPL_PAUSE() ((void)0)
#endif

/* ---- spin locks ----
 *
 * Every lock of the layer is one of these: an atomic word, taken with one
 * exchange when free. A waiter spins briefly, then yields, then sleeps, so
 * a long holder (the exit's leak scan holds every shard) costs the others
 * no CPU. No lock is ever held across a call into the program. */
typedef struct rcpl_lock {
    _Atomic int held;
} rcpl_lock;

static inline bool rcpl_lock_try(rcpl_lock *l) {
    return !atomic_load_explicit(&l->held, memory_order_relaxed) &&
           !atomic_exchange_explicit(&l->held, 1, memory_order_acquire);
}

static inline void rcpl_lock_take(rcpl_lock *l) {
    if (RCPL_LIKELY(!atomic_exchange_explicit(&l->held, 1, memory_order_acquire)))
        return;
    for (unsigned spins = 0;;) {
        while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
            if (++spins < 64)
                RCPL_PAUSE();
            else if (spins < 256)
                sched_yield();
            else
                nanosleep(&(struct timespec){0, 20000}, NULL);
        }
        if (!atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
            return;
    }
}

static inline void rcpl_lock_give(rcpl_lock *l) {
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

/* Take l, giving up after about `ms` milliseconds: for the paths that must
 * never wait forever (a signal handler of a dying process, fork's child).
 * True when taken. */
bool rcpl_lock_take_for(rcpl_lock *l, unsigned ms);

/* ---- memory from the OS ---- */

/* size bytes (rounded up to pages) of zeroed memory; NULL on ENOMEM. */
void *rcpl_os_take(size_t size);
/* Give back what rcpl_os_take(size) returned (the same size). */
void rcpl_os_give(void *p, size_t size);

/* ---- the re-entrancy flag ----
 *
 * Non-zero while this thread runs recorder code (or is the writer thread,
 * or is forking): every interposed function then passes straight through.
 * Reading it never allocates (initial-exec TLS). */
extern RCPL_TLS int rcpl_busy;

#endif /* RC_PRELOAD_PRELOAD_H */
