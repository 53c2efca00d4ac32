/* check.c - rci_heap_check(): verify the heap's invariants (see pool.h,
 * arena.h, tlheap.h and arena.c) by a full walk. Meant for tests and debugging: it is slow. */
#include "heap/arena.h"
#include "heap/check.h"
#include "heap/pool.h"
#include "heap/tlheap.h"

#include <pthread.h>

#include <stdio.h>

#define FAIL(...) do { fprintf(stderr, "rci_heap_check: " __VA_ARGS__); fputc('\n', stderr); bad++; } while (0)

static size_t check_pool(rci_heap *h, rci_arena *a, rci_pool *p, bool own) {
    size_t bad = 0;
    if (p->heap != h)
        FAIL("pool %p: heap %p, expected %p", (void *)p, (void *)p->heap, (void *)h);
    uint32_t used = atomic_load_explicit(&p->used, memory_order_relaxed);
    if (used > p->capacity)
        FAIL("pool %p: used %u > capacity %u", (void *)p, used, p->capacity);
    char *end = p->start + (size_t)p->capacity * p->block_size;
    if (p->bump < p->start || p->bump > end)
        FAIL("pool %p: bump outside the pool", (void *)p);
    if ((size_t)(end - rci_pool_base(a, p)) > RC_POOL_SIZE)
        FAIL("pool %p: blocks run past the pool", (void *)p);
    if (!own)
        return bad;
    /* free list: inside carved area, on block boundaries, no cycle */
    size_t nfree = 0, limit = p->capacity + 1;
    for (rci_block *b = p->free; b; b = rci_block_next(b)) {
        char *c = (char *)b;
        if (c < p->start || c >= p->bump || (size_t)(c - p->start) % p->block_size) {
            FAIL("pool %p: free block %p is not a block of the pool", (void *)p, (void *)b);
            break;
        }
        if (++nfree > limit) {
            FAIL("pool %p: free list has a cycle", (void *)p);
            break;
        }
    }
    size_t carved = (size_t)(p->bump - p->start) / p->block_size;
    uintptr_t tf = atomic_load(&p->thread_free);
    if ((tf & ~RCI_TF_NOTIFY) == 0 && atomic_load(&h->delayed_free) == NULL &&
        nfree + used != carved)
        FAIL("pool %p: %zu free + %u used != %zu carved", (void *)p, nfree, used, carved);
    return bad;
}

size_t rci_heap_check(void) {
    size_t bad = 0;
    rci_heap *self = rci_tl_heap;
    pthread_mutex_lock(&rci_g_lock);
    for (rci_heap *h = rci_g_heaps; h; h = h->all_next) {
        pthread_mutex_lock(&h->lock);
        size_t narenas = 0;
        unsigned prev_nfree = 0;
        for (rci_arena *a = h->usable; a; a = a->next) {
            if (a->nfree < prev_nfree)
                FAIL("heap %p: usable arenas not sorted by free pools", (void *)h);
            if (a->nfree == 0)
                FAIL("heap %p: full arena on the usable list", (void *)h);
            prev_nfree = a->nfree;
        }
        for (rci_arena *a = h->all; a; a = a->all_next) {
            narenas++;
            if (a->magic != RCI_ARENA_MAGIC || a->kind != RCI_ARENA_POOLS || a->heap != h)
                FAIL("arena %p: bad header", (void *)a);
            if (!rci_arena_map_is_head((uintptr_t)a))
                FAIL("arena %p: missing from the arena map", (void *)a);
            if ((unsigned)__builtin_popcountll(a->free_mask) != a->nfree)
                FAIL("arena %p: nfree %u != popcount(free_mask)", (void *)a, a->nfree);
            if (a->nfree == RC_POOLS_PER_ARENA)
                FAIL("arena %p: empty arena still held", (void *)a);
            for (unsigned i = 0; i < RC_POOLS_PER_ARENA; i++) {
                rci_pool *p = &a->pools[i];
                bool is_free = (a->free_mask >> i) & 1;
                if (is_free != (p->state == RCI_POOL_FREE))
                    FAIL("arena %p pool %u: bitmap says %s, state %u", (void *)a, i,
                         is_free ? "free" : "used", p->state);
                if (p->state == RCI_POOL_SMALL)
                    bad += check_pool(h, a, p, h == self || h->is_private);
                if (p->state == RCI_POOL_SPAN) {
                    for (unsigned k = 1; k < p->span_pools; k++)
                        if (i + k >= RC_POOLS_PER_ARENA || a->pools[i + k].state != RCI_POOL_SPAN_TAIL)
                            FAIL("arena %p pool %u: span tail %u missing", (void *)a, i, k);
                }
            }
        }
        if (narenas != h->narenas)
            FAIL("heap %p: %zu arenas on the list, count says %zu", (void *)h, narenas, h->narenas);
        pthread_mutex_unlock(&h->lock);
    }
    pthread_mutex_unlock(&rci_g_lock);
    return bad;
}
