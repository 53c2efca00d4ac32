/* alloc.h - allocation and freeing on the calling thread's heap (alloc.c):
 * the generic paths behind the fast ones, raw allocation without hooks or
 * debug layers, and the built-in allocator that hooks.c installs.
 *
 * "Raw" functions bypass allocator hooks, so the library's own bookkeeping
 * (tracers, the object layer's scratch arrays) can use them while hooks
 * run. */
#ifndef RC_HEAP_ALLOC_H
#define RC_HEAP_ALLOC_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/base.h"

/* size bytes from the calling thread's heap, a debug block's raw block when
 * debug; NULL on ENOMEM (errno set). Freed with rci_raw_free. */
void *rci_raw_malloc(size_t size, bool debug);
void *rci_raw_aligned(size_t alignment, size_t size, bool debug);
/* A huge block (its own mapping, whatever its size) whose address + skew is
 * a multiple of alignment: for debug blocks, whose user pointer lies skew
 * bytes into the raw block. NULL on ENOMEM. */
void *rci_raw_huge_skewed(size_t alignment, size_t skew, size_t size, bool debug);
void rci_raw_free(void *p);                            /* p validated by the caller */
size_t rci_raw_usable(const void *p);

/* The generic allocation path of heap h (owner only), for any size; NULL on
 * ENOMEM (errno set). */
void *rci_heap_alloc_kind(rci_heap *h, size_t size, unsigned kind);
void rci_heap_free_owned(rci_heap *h, void *p);         /* owner; p validated by the caller */
/* Resize p (a huge block) to size without copying, accounting to h; NULL
 * (and p untouched) when p is not huge, size is not, or the OS refuses. */
void *rci_heap_try_resize(rci_heap *h, void *p, size_t size);
/* pool, of h, has just been emptied by its owner: give it back to its arena
 * unless it is the current pool of its class. */
void rci_free_local_slow(rci_heap *h, rci_pool *pool);
/* Decide the blocks other threads queued as suspects (owner only). */
void rci_heap_check_suspects(rci_heap *h);

/* The built-in allocator (ctx is ignored). */
void *rci_default_malloc(void *ctx, size_t size);
void *rci_default_calloc(void *ctx, size_t count, size_t size);
void *rci_default_realloc(void *ctx, void *p, size_t size);
void rci_default_free(void *ctx, void *p);
void *rci_default_aligned(void *ctx, size_t alignment, size_t size);
size_t rci_default_usable(void *ctx, const void *p);

#endif /* RC_HEAP_ALLOC_H */
