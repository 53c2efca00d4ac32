/* arena.h - arenas (arena.c): the unit of memory obtained from the OS, its
 * header, and huge blocks.
 *
 * An arena is RC_ARENA_SIZE bytes aligned to its size, so the header of the
 * arena holding any pointer p is at p & ~RC_ARENA_MASK (pool.h shows how the
 * pool descriptor follows). The arena map (arenamap.h) tells whether such a
 * header is ours before it is read.
 *
 * Arenas of kind RCI_ARENA_POOLS belong to one heap (tlheap.h) and are
 * carved into pools; a heap keeps those with a free pool sorted by the number
 * of free pools, fullest first. Arenas of kind RCI_ARENA_HUGE hold exactly
 * one block larger than RC_SPAN_MAX (or an over-aligned one) and are
 * unmapped when it is freed, by whichever thread. */
#ifndef RC_HEAP_ARENA_H
#define RC_HEAP_ARENA_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/arenamap.h"
#include "heap/base.h"
#include "heap/pool.h"

#define RCI_ARENA_MAGIC 0x52434152u /* "RCAR" */

enum { RCI_ARENA_POOLS = 1, RCI_ARENA_HUGE = 2 };

struct rci_arena {
    void *client;                 /* heap->owner, one load closer (NULL: thread heap) */
    uint32_t magic;               /* RCI_ARENA_MAGIC */
    uint8_t kind;                 /* RCI_ARENA_* */
    uint8_t huge_flags;           /* RCI_PF_DEBUG for a debug huge block */
    uint8_t huge_kind;            /* HUGE: block kind */
    uint32_t nfree;               /* pools free (== popcount(free_mask)) */
    uint64_t free_mask;           /* bit i: pool i is free */
    rci_heap *heap;               /* owner (POOLS; HUGE of a private heap, else NULL) */
    rci_arena *next, *prev;       /* owner's usable list, ascending nfree; HUGE: private heap's list */
    rci_arena *all_next, *all_prev; /* owner's list of all its arenas */
    size_t map_size;              /* bytes mapped (HUGE: whole mapping) */
    char *huge_block;             /* HUGE: the block's address */
    size_t huge_size;             /* HUGE: usable bytes from huge_block */
    uint64_t decommitted;         /* bit i: free pool i's pages were handed back to the OS
                                   * (a subset of free_mask; rci_os_decommit) */
    rci_pool pools[RC_POOLS_PER_ARENA];
};
_Static_assert(offsetof(rci_arena, client) == 0, "rci_arena_client_at reads the first word");
_Static_assert(offsetof(rci_arena, pools) == RCI_ARENA_POOLS_OFFSET, "rci_pool_at's offset");

RCI_INLINE rci_arena *rci_arena_of(const void *p) {
    return (rci_arena *)((uintptr_t)p & ~(uintptr_t)RC_ARENA_MASK);
}
/* Does arena a's mapping cover p? Always for pool arenas (they fill their
 * chunk); a huge mapping may end before its chunk does, and the OS may put
 * someone else's mapping in the rest. */
RCI_INLINE bool rci_arena_spans(const rci_arena *a, const void *p) {
    return (uintptr_t)p - (uintptr_t)a < a->map_size;
}
/* The descriptor of the pool of arena a that p lies in (rci_pool_at). */
RCI_INLINE rci_pool *rci_pool_of(rci_arena *a, const void *p) {
    /* (p & RC_ARENA_MASK) >> RC_POOL_SHIFT << 8, as one and and one shift */
    uintptr_t off = ((uintptr_t)p & RC_ARENA_MASK & ~(uintptr_t)(RC_POOL_SIZE - 1)) >>
                    (RC_POOL_SHIFT - 8);
    return (rci_pool *)(void *)((char *)a->pools + off);
}
RCI_INLINE char *rci_pool_base(rci_arena *a, const rci_pool *pool) {
    return (char *)a + ((size_t)(pool - a->pools) << RC_POOL_SHIFT);
}

/* ---- arena.c ---- */
size_t rci_arena_header_size(void);
rci_arena *rci_arena_new(rci_heap *h);                 /* NULL on ENOMEM */
void rci_arena_release(rci_arena *a);                  /* back to the OS */
/* Hand the pages of every free pool of h's arenas back to the OS (not pool
 * 0, which holds the arena's header); the pools stay free and are taken
 * again as they are. Caller holds h->lock. Returns the pools decommitted. */
size_t rci_heap_decommit_free_pools(rci_heap *h);
/* npools free pools in a row (span: never pool 0, which holds the header). */
rci_pool *rci_arena_take_pools(rci_heap *h, unsigned npools, bool span); /* NULL on ENOMEM */
void rci_arena_give_pools(rci_heap *h, rci_pool *first);      /* state SMALL or SPAN */
/* Release h's cached empty arena, if any. */
void rci_heap_release_cached(rci_heap *h);

/* ---- huge blocks (arena.c) ---- */
/* A huge block of size bytes whose address + skew is a multiple of
 * alignment (skew 0: the block itself is aligned); NULL on ENOMEM. */
void *rci_huge_alloc(rci_heap *h, size_t size, size_t alignment, size_t skew, unsigned kind);
/* Resize the huge block of arena a to size > RC_SPAN_MAX by remapping, never
 * copying; returns the block's (possibly new) address, or NULL with the
 * block untouched. */
void *rci_huge_resize(rci_arena *a, size_t size);
void rci_huge_free(rci_arena *a);

#endif /* RC_HEAP_ARENA_H */
