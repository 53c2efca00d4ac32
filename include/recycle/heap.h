/* recycle/heap.h - the private heap: the rc_malloc family, statistics,
 * allocator hooks and the debug mode.
 *
 * The heap is process-wide and thread-safe. Each thread allocates from its own
 * thread-local heap without locks; a block may be freed by any thread.
 * Failure never aborts. The allocation functions keep the C library's
 * contract: NULL with errno set to ENOMEM when memory runs out (the errno
 * counterpart of RC_ENOMEM) or EINVAL for a bad alignment or pointer. The
 * functions returning int return 0 or a negative RC_E* code
 * (recycle/error.h), as everywhere else in recycle; predicates return 1/0. */
#ifndef RECYCLE_HEAP_H
#define RECYCLE_HEAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * The malloc family (prototypes fixed: code outside this project is
 * compiled against them)
 * ------------------------------------------------------------------------- */

/* Every returned block is aligned to RC_HEAP_ALIGNMENT (16) bytes.
 * rc_malloc(0) returns a unique, freeable minimal block. */
#define RC_HEAP_ALIGNMENT 16

RC_API RC_MALLOC_ATTR RC_ALLOC_SIZE(1) void *rc_malloc(size_t size);
/* count * size is overflow-checked: on overflow, NULL and errno = ENOMEM. */
RC_API RC_MALLOC_ATTR RC_ALLOC_SIZE2(1, 2) void *rc_calloc(size_t count, size_t size);
/* rc_realloc(NULL, n) is rc_malloc(n); rc_realloc(p, 0) frees p and returns a
 * minimal block (as rc_malloc(0)). On failure p is untouched and NULL is
 * returned. */
RC_API RC_ALLOC_SIZE(2) void *rc_realloc(void *ptr, size_t size);
/* rc_free(NULL) does nothing. */
RC_API void rc_free(void *ptr);
/* alignment must be a power of two no larger than RC_HEAP_MAX_ALIGNMENT
 * (size need not be a multiple of it); otherwise NULL and errno = EINVAL.
 * The block is freed with rc_free. */
#define RC_HEAP_MAX_ALIGNMENT ((size_t)2 << 20)
RC_API RC_MALLOC_ATTR RC_ALLOC_SIZE(2) void *rc_aligned_alloc(size_t alignment, size_t size);
/* The number of bytes usable in the block (>= the size requested); 0 for NULL. */
RC_API size_t rc_usable_size(const void *ptr);

/* ---------------------------------------------------------------------------
 * Extras
 * ------------------------------------------------------------------------- */

/* Duplicate a NUL-terminated string into the heap; NULL on failure. */
RC_API RC_MALLOC_ATTR char *rc_strdup(const char *s);
/* Like rc_realloc(ptr, count * size) with the multiplication overflow-checked. */
RC_API void *rc_reallocarray(void *ptr, size_t count, size_t size);
/* 1 if ptr points into memory managed by this heap (any block or header), else 0.
 * Cheap: one lookup in the arena map. */
RC_API int rc_heap_contains(const void *ptr);
/* Return free memory to the OS now: for the calling thread's heap and the
 * abandoned heaps (of exited threads), fold in pending frees from other
 * threads and release empty arenas; then, in every heap (other threads' and
 * the runtimes' object heaps too), hand back the pages of free pools in the
 * arenas still in use (they stay mapped and are reused as they are). force
 * != 0 also releases the per-thread cache of empty arenas. A thread's heap
 * hands back its free pools' pages when the thread exits. */
RC_API void rc_heap_collect(int force);

/* ---------------------------------------------------------------------------
 * Statistics (the sys._debugmallocstats analogue)
 * ------------------------------------------------------------------------- */

#define RC_HEAP_STATS_VERSION 1
#define RC_HEAP_MAX_CLASSES   64

typedef struct rc_heap_class_stats {
    size_t block_size;       /* bytes per block of this class */
    size_t pools;            /* pools currently serving this class */
    size_t blocks_used;      /* blocks handed out and not yet freed */
    size_t blocks_free;      /* blocks available in those pools */
} rc_heap_class_stats;

typedef struct rc_heap_stats {
    uint32_t version;        /* set by the caller to RC_HEAP_STATS_VERSION */
    uint32_t struct_size;    /* set by the caller to sizeof(rc_heap_stats) */
    size_t arena_size;       /* bytes per arena */
    size_t pool_size;        /* bytes per pool */
    size_t arenas_allocated; /* total arenas ever obtained from the OS */
    size_t arenas_freed;     /* total arenas returned to the OS */
    size_t arenas_current;   /* arenas held now (including cached empty ones) */
    size_t arenas_peak;      /* highest arenas_current seen */
    size_t pools_used;       /* pools in use now: serving a size class or part of a large block */
    size_t pools_free;       /* pools in held arenas available for reuse */
    size_t pools_large;      /* pools in use under large blocks (part of pools_used) */
    size_t large_blocks;     /* live blocks above the largest size class */
    size_t large_bytes;      /* bytes in those blocks (as reserved) */
    size_t bytes_in_use;     /* bytes of live blocks (block size, not request) */
    size_t peak_bytes_in_use;/* highest bytes_in_use seen (see docs/heap.md) */
    size_t bytes_reserved;   /* address space held from the OS */
    size_t heaps_current;    /* thread-local heaps alive (owned or abandoned) */
    size_t heaps_abandoned;  /* heaps whose thread has exited, awaiting adoption */
    size_t nclasses;         /* entries used in classes[] */
    rc_heap_class_stats classes[RC_HEAP_MAX_CLASSES];
} rc_heap_stats;

/* Fill *out (version and struct_size set by the caller, or zero for the
 * current version). Returns 0, or RC_EINVAL for NULL or an unknown version.
 * The figures are a consistent view only when other threads are quiet. */
RC_API int rc_heap_stats_get(rc_heap_stats *out);
/* Print statistics like sys._debugmallocstats() to out (stderr if NULL). */
RC_API void rc_heap_stats_print(FILE *out);
/* Reset peak_bytes_in_use to the current bytes_in_use. */
RC_API void rc_heap_stats_reset_peak(void);
/* The size classes: rc_heap_size_class_count() of them, increasing. */
RC_API size_t rc_heap_size_class_count(void);
RC_API size_t rc_heap_size_class_size(size_t index);

/* ---------------------------------------------------------------------------
 * Allocator hooks (the PyMem_SetAllocator analogue)
 *
 * The allocator in force serves every rc_malloc-family call. To observe or
 * alter allocations, get the current allocator, keep it as your ctx, and
 * install a wrapper that calls through to it. With no hook installed the cost
 * is one predictable branch per call.
 * ------------------------------------------------------------------------- */

typedef struct rc_allocator {
    void *ctx;
    void *(*malloc)(void *ctx, size_t size);
    void *(*calloc)(void *ctx, size_t count, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void  (*free)(void *ctx, void *ptr);
    void *(*aligned_alloc)(void *ctx, size_t alignment, size_t size);
    size_t (*usable_size)(void *ctx, const void *ptr);
} rc_allocator;

/* Copy the allocator in force into *out. */
RC_API void rc_heap_get_allocator(rc_allocator *out);
/* Install a (every function non-NULL; NULL restores the built-in pooled
 * allocator). Returns 0, or RC_EINVAL when a function is missing. Install
 * hooks before other threads allocate, or make sure blocks cross the switch
 * correctly. */
RC_API int rc_heap_set_allocator(const rc_allocator *a);
/* The built-in pooled allocator, whatever is installed. */
RC_API void rc_heap_get_default_allocator(rc_allocator *out);

/* ---------------------------------------------------------------------------
 * Debug mode (the PYTHONMALLOC=debug analogue)
 *
 * Enabled at start-up by RECYCLE_DEBUG=1 in the environment, or at any time by
 * rc_heap_set_debug(1). Blocks allocated while it is on carry a header and
 * guard bytes, are filled with RC_DEBUG_CLEAN_BYTE when handed out and
 * RC_DEBUG_DEAD_BYTE when freed, and are held in a quarantine before reuse.
 * Detected errors are reported through the error callback and the faulty
 * operation is skipped rather than corrupting the heap.
 * ------------------------------------------------------------------------- */

#define RC_DEBUG_CLEAN_BYTE 0xCD
#define RC_DEBUG_DEAD_BYTE  0xDD
#define RC_DEBUG_GUARD_BYTE 0xFD

typedef enum rc_heap_error_kind {
    RC_HEAP_ERR_OVERRUN = 1,     /* guard bytes after the block were written */
    RC_HEAP_ERR_UNDERRUN,        /* guard bytes before the block were written */
    RC_HEAP_ERR_DOUBLE_FREE,     /* block freed twice */
    RC_HEAP_ERR_FOREIGN,         /* pointer is not from this heap */
    RC_HEAP_ERR_INVALID,         /* pointer into the heap but not at a block start */
    RC_HEAP_ERR_WRITE_AFTER_FREE,/* a freed block was written while in quarantine */
    RC_HEAP_ERR_OUT_OF_MEMORY    /* reported only when RECYCLE_VERBOSE is set */
} rc_heap_error_kind;

typedef struct rc_heap_error {
    rc_heap_error_kind kind;
    const void *ptr;           /* the pointer passed by the caller */
    size_t size;               /* the block's requested size, when known */
    uint64_t serial;           /* the allocation's serial number, when known */
    const char *message;       /* one line, NUL-terminated, valid during the call */
} rc_heap_error;

typedef void (*rc_heap_error_fn)(const rc_heap_error *err, void *arg);

/* Turn the debug mode on (1) or off (0) for blocks allocated from now on.
 * Blocks keep the mode they were allocated in. */
RC_API void rc_heap_set_debug(int on);
RC_API int  rc_heap_get_debug(void);
/* Where errors go; NULL restores the default, which writes the message to
 * stderr. Returns nothing; the callback must not allocate from this heap. */
RC_API void rc_heap_set_error_handler(rc_heap_error_fn fn, void *arg);
/* Number of heap errors detected since start. */
RC_API size_t rc_heap_error_count(void);
/* Check every block in quarantine and every live debug block's guards now;
 * returns the number of problems reported. */
RC_API size_t rc_heap_debug_check(void);

#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_HEAP_H */
