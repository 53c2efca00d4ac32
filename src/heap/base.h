/* base.h - what every file of src/heap/ shares: the compile-time knobs
 * (config.h), the size classes (sizeclass.h), compiler attributes, the
 * names of the heap's three structures, and block kinds.
 *
 * The heap's data model is described concern by concern: blocks and pool
 * descriptors in pool.h, arena headers and the arena map in arena.h,
 * thread-local and private heaps in tlheap.h (and private.h, the door the
 * object layer uses), statistics in stats.h. */
#ifndef RC_HEAP_BASE_H
#define RC_HEAP_BASE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recycle/heap.h"
#include "heap/config.h"
#include "heap/sizeclass.h"

#if defined(__GNUC__) || defined(__clang__)
#define rci_likely(x)   __builtin_expect(!!(x), 1)
#define rci_unlikely(x) __builtin_expect(!!(x), 0)
#define RCI_NOINLINE    __attribute__((noinline))
#define RCI_INLINE      static inline __attribute__((always_inline))
#define RCI_TLS         __thread __attribute__((tls_model("initial-exec")))
#define RCI_HIDDEN      __attribute__((visibility("hidden")))
#else
#define RCI_HIDDEN
#define rci_likely(x)   (x)
#define rci_unlikely(x) (x)
#define RCI_NOINLINE
#define RCI_INLINE      static inline
#define RCI_TLS         _Thread_local
#endif

/* The heap's globals are declared RCI_HIDDEN: never exported, and reached
 * from any file of the library with one PC-relative access rather than
 * through the GOT, as if they were defined in the file using them. */

typedef struct rci_heap rci_heap;    /* tlheap.h */
typedef struct rci_arena rci_arena;  /* arena.h */
typedef struct rci_pool rci_pool;    /* pool.h */

/* Blocks of a heap come in kinds; each pool serves one (size class, kind).
 * Thread heaps use kind 0 for plain blocks and RCI_KIND_DEBUG for debug
 * blocks. Private heaps (see private.h) let their owner choose the meaning,
 * e.g. the object layer keeps one kind per object header layout, so that a
 * walk over the heap knows how to read each block. */
#define RCI_KINDS 8
#define RCI_KIND_DEBUG 1

/* RECYCLE_* environment options (options.c). */
extern _Atomic int rci_verbose;                  /* RECYCLE_VERBOSE */
void rci_options_init(void);                     /* idempotent, allocation-free */

#endif /* RC_HEAP_BASE_H */
