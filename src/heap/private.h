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
 *
 * Tracing (rci_pheap_set_hooks): a layer above (the tracer) may register a
 * pair of functions that hear of every block handed to a client and every
 * block given back. While a pair is registered, every fast path below fails
 * its first test and the slow paths in private.c report; with none
 * registered the fast paths pay one compare of a global pointer with NULL.
 * The heap knows nothing of who registered the pair.
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

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

/* ---- tracing hooks ---- */

/* alloc: block (its first byte) of size usable bytes was just handed to the
 * client; false asks the heap to fail the allocation (the block is freed and
 * ENOMEM returned), so that an allocation is either traced or fails. free:
 * block is about to be given back (called before the heap can hand the
 * address out again), or the client has finished with it (rci_pheap_retire).
 * Either may be called for a block the listener never heard of (allocated
 * before registration): it must ignore those. Called on the client's thread,
 * several heaps' clients at once. */
typedef struct rci_pheap_hooks {
    bool (*alloc)(void *block, size_t size);
    void (*free)(void *block);
    /* Optional: where the block holding p was allocated, one frame a line
     * (innermost first, each line starting with indent) on out; the number
     * of frames written, 0 when the listener does not know the block. For
     * the reports of layers above the listener's (the collector's "why is
     * it alive?"); never called on an allocation path. */
    size_t (*origin)(const void *p, const char *indent, FILE *out);
    /* Optional: the block now holds an object of the type named name (the
     * object layer says so once the object is made; the name outlives the
     * object). */
    void (*typed)(const void *block, const char *name);
} rci_pheap_hooks;
/* The pair in force, NULL for none. Read relaxed by the fast paths (only
 * NULL or not matters there) and with acquire by the slow paths that call. */
extern const rci_pheap_hooks *_Atomic rci_pheap_hooks_on RCI_HIDDEN;
/* Register hooks (NULL: none). The pair must stay valid for the life of
 * the process: a client that read it just before it was replaced may still
 * call it once. */
void rci_pheap_set_hooks(const rci_pheap_hooks *hooks);
/* The hooks' origin of p (see above), 0 without hooks or without one. */
size_t rci_pheap_origin(const void *p, const char *indent, FILE *out);
/* Tell the hooks' typed (if any) that block holds an object of type name. */
void rci_pheap_typed_slow(const void *block, const char *name);
RCI_INLINE bool rci_pheap_traced(void) {
    return atomic_load_explicit(&rci_pheap_hooks_on, memory_order_relaxed) != NULL;
}
/* A made object's block and type name, for a listener that keeps types;
 * one relaxed load when none listens. */
RCI_INLINE void rci_pheap_typed(const void *block, const char *name) {
    if (__builtin_expect(rci_pheap_traced(), 0))
        rci_pheap_typed_slow(block, name);
}

/* Frames of the functions that allocate on a client's behalf (the slow
 * paths here, the object layer's constructors and buffer functions) are
 * kept in one section, so that a stack walk can drop them by address and
 * start at the code that asked for the object. The inline paths that
 * lead to a report (rci_pheap_alloc, rci_pheap_alloc_fast) are RCI_INLINE,
 * inlined even at -O0, so that they are part of the marked function that
 * uses them and need no mark of their own. */
#define RCI_ALLOC_FRAME __attribute__((section("rci_alloc_text"), noinline))
extern const char __start_rci_alloc_text[] __attribute__((weak, visibility("hidden")));
extern const char __stop_rci_alloc_text[] __attribute__((weak, visibility("hidden")));
/* Is ra (a return address: the byte after a call) inside a marked function? */
static inline bool rci_pheap_is_alloc_frame(uintptr_t ra) {
    return ra > (uintptr_t)__start_rci_alloc_text && ra <= (uintptr_t)__stop_rci_alloc_text;
}

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
    if (rci_likely(size <= RC_DIRECT_MAX && !rci_pheap_traced())) {
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

/* rci_pheap_alloc's other paths: a block from the heap's lists, reported to
 * the hooks. */
void *rci_pheap_alloc_slow(rci_heap *h, size_t size, unsigned kind);

/* Allocate size bytes of the given kind from h; NULL on ENOMEM (errno set). */
RCI_INLINE void *rci_pheap_alloc(rci_heap *h, size_t size, unsigned kind) {
    if (rci_likely(size <= RC_DIRECT_MAX && !rci_pheap_traced())) {
        rci_pool *pool = rci_heap_hot_of(h)->direct[kind][(size + 15) >> 4];
        if (rci_likely(pool->free != NULL))
            return rci_pool_pop(h, pool);
    }
    return rci_pheap_alloc_slow(h, size, kind);
}

/* Resize block in place or by remapping (rci_heap_try_resize): the block
 * that now holds the data, or NULL when the caller must allocate, copy and
 * free. A block that changed is reported as the old one freed and the new
 * one allocated. */
void *rci_pheap_try_resize(rci_heap *h, void *block, size_t size);

/* The client has finished with block but keeps its memory for a while (a
 * quarantine): for the hooks it is freed now; its rci_pheap_free later
 * reports it again, which the listener ignores. */
void rci_pheap_retire_slow(void *block);
static inline void rci_pheap_retire(void *block) {
    if (rci_unlikely(rci_pheap_traced()))
        rci_pheap_retire_slow(block);
}

/* The first byte of the block of a private heap that p points into, or NULL
 * when p is in no block of a private heap that this can find (blocks of
 * SMALL pools and the first 4 MiB of larger ones). For a listener's
 * look-ups by interior pointer; p must point into a live arena or none. */
void *rci_pheap_block_start(const void *p);

/* What rci_pheap_free leaves for later: statistics to flush, a pool that
 * just became empty. */
void rci_pheap_free_after(rci_heap *h, rci_pool *pool, uint32_t used, long stat_delta);

/* rci_pheap_free's other path: report to the hooks, then the generic free. */
void rci_pheap_free_slow(rci_heap *h, void *block);

/* Free a block of h, given its first byte (interior pointers are not
 * checked here). A block whose mark word holds the free key (see rci_block)
 * takes the generic path, which reports a double free and skips it; so does
 * a block of a pool with any flag, and every block while hooks are
 * registered. */
static inline void rci_pheap_free(rci_heap *h, void *block) {
    rci_pool *pool = rci_pool_at(block);
    rci_block *b = block;
    if (rci_likely(pool->flags_hot == 0 && b->mark != rci_free_key && !rci_pheap_traced())) {
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
    rci_pheap_free_slow(h, block);
}

#endif /* RC_HEAP_PRIVATE_H */
