/* private.h - private heaps: heaps owned by a client rather than a thread.
 * This header is the object layer's door into the heap: it shows pools and
 * blocks (pool.h) for its inline fast paths, and nothing else of arenas or
 * heaps.
 *
 * The object layer gives each runtime its own private heap. A private heap
 * is used by one thread at a time (the client serialises), so allocation and
 * freeing take the owner's lock-free paths without consulting thread-local
 * state. Any block names its heap's client (rci_pheap_client_of), which is
 * how an object finds its runtime without storing a pointer to it. Blocks
 * carry a kind (0..RCI_KINDS-1) chosen by the client, and a walk of the heap
 * (rci_pheap_visit) reports each live block with its kind. Destroying the
 * heap returns all its memory at once, live blocks included.
 */
#ifndef RC_HEAP_PRIVATE_H
#define RC_HEAP_PRIVATE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/alloc.h"
#include "heap/arenamap.h"
#include "heap/base.h"
#include "heap/pool.h"

/* A new private heap whose client pointer is owner; NULL on ENOMEM. */
rci_heap *rci_pheap_new(void *owner);
/* Release every block and all memory of h; h must not be used again. */
void rci_pheap_destroy(rci_heap *h);

/* The client pointer of the private heap that block (any pointer into the
 * first 4 MiB of a block of a private heap) belongs to. */
static inline void *rci_pheap_client_of(const void *block) {
    return rci_arena_client_at(block);
}
/* The kind of the block that p points into, from heap metadata alone (the
 * block itself is not read), or -1 when p is in no arena of any heap (static
 * data, for example). p must point into the first 4 MiB of a live block
 * (object headers do). */
static inline int rci_pheap_kind_at(const void *p) {
    if (!rci_arena_map_is_head((uintptr_t)p))
        return -1;
    /* a huge arena's descriptors all carry its block's kind */
    return rci_pool_at(p)->kind;
}
/* Usable bytes of a block of a private heap that is not in a SMALL pool
 * (a span or a huge block); block is the block's first byte. */
size_t rci_pheap_large_size(const void *block);
/* Usable bytes of a block of a private heap, given its first byte. */
static inline size_t rci_pheap_block_size(const void *block) {
    rci_pool *pool = rci_pool_at(block);
    if (rci_likely(pool->state == RCI_POOL_SMALL))
        return pool->block_size_hot;
    return rci_pheap_large_size(block);
}
/* Call fn on every live block of h, with its usable size and kind; a nonzero
 * return stops the walk and is returned. fn must not allocate or free in h. */
typedef int (*rci_block_visitor)(void *block, size_t usable, unsigned kind, void *arg);
int rci_pheap_visit(rci_heap *h, rci_block_visitor fn, void *arg);

/* The fast path of allocation: a block of at least size bytes of the given
 * kind from the current pool of its size, or NULL when there is none or size
 * is above RC_DIRECT_MAX; the caller then calls rci_pheap_alloc. Two things
 * are left to the caller, so that it can do them after its own work: the
 * block's second word is as it was, and may hold the free key (see
 * rci_block), so the caller overwrites it before the block can be freed (an
 * object header does); and h's byte count, which *unflushed receives, must
 * be passed with the block to rci_pheap_settle before h is used again. */
RCI_INLINE void *rci_pheap_alloc_fast(rci_heap *h, size_t size, unsigned kind, long *unflushed) {
    if (rci_likely(size <= RC_DIRECT_MAX)) {
        rci_pool *pool = rci_heap_hot_of(h)->direct[kind][(size + 15) >> 4];
        if (rci_likely(pool->free != NULL))
            return rci_pool_take(h, pool, unflushed);
    }
    return NULL;
}
/* Fold h's byte count into the global statistics when it is past the limit
 * (rci_stat_due); returns block. */
void *rci_pheap_settle_slow(rci_heap *h, void *block);
RCI_INLINE void *rci_pheap_settle(rci_heap *h, void *block, long unflushed) {
    if (rci_unlikely(rci_stat_due(unflushed)))
        return rci_pheap_settle_slow(h, block);
    return block;
}

/* Allocate size bytes of the given kind from h; NULL on ENOMEM (errno set). */
static inline void *rci_pheap_alloc(rci_heap *h, size_t size, unsigned kind) {
    if (rci_likely(size <= RC_DIRECT_MAX)) {
        rci_pool *pool = rci_heap_hot_of(h)->direct[kind][(size + 15) >> 4];
        if (rci_likely(pool->free != NULL))
            return rci_pool_pop(h, pool);
    }
    return rci_heap_alloc_kind(h, size, kind);
}

/* What rci_pheap_free leaves for later: statistics to flush, a pool that
 * just became empty. */
void rci_pheap_free_after(rci_heap *h, rci_pool *pool, uint32_t used, long stat_delta);

/* Free a block of h, given its first byte (interior pointers are not
 * checked here). A block whose mark word holds the free key (see rci_block)
 * takes the generic path, which reports a double free and skips it; so does
 * a block of a pool with any flag. */
static inline void rci_pheap_free(rci_heap *h, void *block) {
    rci_pool *pool = rci_pool_at(block);
    rci_block *b = block;
    if (rci_likely(pool->flags_hot == 0 && b->mark != rci_free_key)) {
        rci_block_set_next(b, pool->free);
        b->mark = rci_free_key;
        pool->free = b;
        uint32_t used = atomic_load_explicit(&pool->used, memory_order_relaxed) - 1;
        atomic_store_explicit(&pool->used, used, memory_order_relaxed);
        long d = rci_stat_count(h, -(long)pool->block_size_hot);
        if (rci_unlikely(used == 0 || rci_stat_due(d)))
            rci_pheap_free_after(h, pool, used, d);
        return;
    }
    rci_heap_free_owned(h, block);
}

#endif /* RC_HEAP_PRIVATE_H */
