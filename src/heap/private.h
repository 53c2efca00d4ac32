/* private.h - private heaps: heaps owned by a client rather than a thread.
 *
 * The object layer gives each runtime its own private heap. A private heap
 * is used by one thread at a time (the client serialises), so allocation and
 * freeing take the owner's lock-free paths without consulting thread-local
 * state. Any block can name its heap (rci_pheap_of) and so its client
 * (rci_pheap_owner), which is how an object finds its runtime without storing
 * a pointer to it. Blocks carry a kind (0..RCI_KINDS-1) chosen by the client,
 * and a walk of the heap (rci_pheap_visit) reports each live block with its
 * kind. Destroying the heap returns all its memory at once, live blocks
 * included.
 */
#ifndef RC_HEAP_PRIVATE_H
#define RC_HEAP_PRIVATE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/internal.h"

/* A new private heap whose client pointer is owner; NULL on ENOMEM. */
rci_heap *rci_pheap_new(void *owner);
/* Release every block and all memory of h; h must not be used again. */
void rci_pheap_destroy(rci_heap *h);
/* The heap a block of any heap belongs to (NULL for a thread heap's huge
 * block), and a private heap's client pointer. */
static inline rci_heap *rci_pheap_of(const void *block) {
    /* The arena's owner is every pool's owner (and a private heap's huge
     * arenas name their heap too); its header line is hot, unlike the pool
     * descriptor's. */
    return rci_arena_of(block)->heap;
}
static inline void *rci_pheap_owner(const rci_heap *h) { return h->owner; }
/* rci_pheap_owner(rci_pheap_of(block)) with one dependent load less: the
 * arena keeps its heap's client pointer. */
static inline void *rci_pheap_client_of(const void *block) {
    return rci_arena_of(block)->client;
}
/* The kind of the block that p points into, from heap metadata alone (the
 * block itself is not read), or -1 when p is in no arena of any heap (static
 * data, for example). p must point into the first 4 MiB of a live block
 * (object headers do). */
static inline int rci_pheap_kind_at(const void *p) {
    if (!rci_arena_map_is_head((uintptr_t)p))
        return -1;
    rci_arena *a = rci_arena_of(p);
    /* a huge arena's descriptors all carry its block's kind */
    return rci_pool_of(a, p)->kind;
}
/* Usable bytes of a block of a private heap (any pointer into it). */
size_t rci_pheap_usable(const void *block);
/* The same for a pointer to the block's first byte, without the division
 * that finding a block's start needs: the fast form for accounting. */
static inline size_t rci_pheap_block_size(const void *block) {
    rci_arena *a = rci_arena_of(block);
    if (a->kind == RCI_ARENA_HUGE)
        return a->huge_size;
    rci_pool *pool = rci_pool_of(a, block);
    return pool->state == RCI_POOL_SPAN ? pool->span_size : pool->block_size_hot;
}
/* Call fn on every live block of h, with its usable size and kind; a nonzero
 * return stops the walk and is returned. fn must not allocate or free in h. */
typedef int (*rci_block_visitor)(void *block, size_t usable, unsigned kind, void *arg);
int rci_pheap_visit(rci_heap *h, rci_block_visitor fn, void *arg);

/* Allocate size bytes of the given kind from h; NULL on ENOMEM (errno set). */
static inline void *rci_pheap_alloc(rci_heap *h, size_t size, unsigned kind) {
    if (rci_likely(size <= RC_DIRECT_MAX)) {
        rci_pool *pool = h->direct[kind][(size + 15) >> 4];
        if (rci_likely(pool->free != NULL))
            return rci_pool_pop(h, pool);
    }
    return rci_heap_alloc_kind(h, size, kind);
}

/* What rci_pheap_free leaves for later: statistics to flush, a pool that
 * just became empty. */
void rci_pheap_free_after(rci_heap *h, rci_pool *pool, uint32_t used, long stat_delta);

/* Free a block of h (the caller knows it is one). The fast path makes only
 * tail calls, so that callers inlining it need no extra registers. A block
 * whose mark word holds the free key (see rci_block) takes the generic path,
 * which reports a double free and skips it. Callers that pop blocks inline
 * instead of through rci_pool_pop must overwrite the block's second word
 * before handing it out (an object header does). Interior pointers are not
 * checked here: the caller passes block starts. */
static inline void rci_pheap_free(rci_heap *h, void *block) {
    rci_arena *a = rci_arena_of(block);
    rci_pool *pool = rci_pool_of(a, block);
    rci_block *b = block;
    if (rci_likely(pool->flags_hot == 0 && b->mark != rci_free_key)) {
        rci_block_set_next(b, pool->free);
        b->mark = rci_free_key;
        pool->free = b;
        uint32_t used = atomic_load_explicit(&pool->used, memory_order_relaxed) - 1;
        atomic_store_explicit(&pool->used, used, memory_order_relaxed);
        long d = atomic_load_explicit(&h->stat_delta_shared, memory_order_relaxed) -
                 (long)pool->block_size_hot;
        atomic_store_explicit(&h->stat_delta_shared, d, memory_order_relaxed);
        if (rci_unlikely(used == 0 || d > RC_STAT_FLUSH_BYTES || d < -RC_STAT_FLUSH_BYTES))
            rci_pheap_free_after(h, pool, used, d);
        return;
    }
    rci_heap_free_owned(h, block);
}

#endif /* RC_HEAP_PRIVATE_H */
