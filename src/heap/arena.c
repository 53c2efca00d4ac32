/* arena.c - arenas: obtained from and returned to the OS, carved into pools,
 * kept in order so that the fullest are used first; huge blocks.
 *
 * Arena management follows CPython's obmalloc: a heap's usable arenas (those
 * with a free pool) are kept sorted by ascending number of free pools, and
 * pools are always taken from the first, i.e. the fullest, arena. Arenas that
 * are nearly empty are therefore left alone and get the chance to empty out
 * completely, at which point their memory goes back to the OS. One empty arena
 * per heap is cached to avoid mmap/munmap thrashing at a boundary.
 *
 * Invariants (per heap, under heap->lock):
 *   - a->nfree == popcount(a->free_mask);
 *   - a is on h->usable iff 0 < a->nfree, and h->usable is sorted by nfree;
 *   - a is on h->all iff a belongs to h and is not h->cached_empty;
 *   - no arena on h->all has nfree == RC_POOLS_PER_ARENA (it is released).
 */
#include "heap/arena.h"
#include "heap/os/os.h"
#include "heap/pool.h"
#include "heap/stats.h"
#include "heap/tlheap.h"

#include <errno.h>
#include <string.h>

size_t rci_arena_header_size(void) {
    return (sizeof(rci_arena) + 63) & ~(size_t)63;
}

static void stats_arena_added(size_t bytes) {
    size_t cur = atomic_fetch_add(&rci_g_arenas_allocated, 1) + 1 - atomic_load(&rci_g_arenas_freed);
    size_t peak = atomic_load(&rci_g_arenas_peak);
    while (cur > peak && !atomic_compare_exchange_weak(&rci_g_arenas_peak, &peak, cur)) {
    }
    atomic_fetch_add(&rci_g_bytes_reserved, bytes);
}

static void stats_arena_removed(size_t bytes) {
    atomic_fetch_add(&rci_g_arenas_freed, 1);
    atomic_fetch_sub(&rci_g_bytes_reserved, bytes);
}

/* ---- usable list, sorted by ascending nfree ---- */

static void usable_unlink(rci_heap *h, rci_arena *a) {
    if (a->prev) a->prev->next = a->next; else h->usable = a->next;
    if (a->next) a->next->prev = a->prev;
    a->next = a->prev = NULL;
}

static bool usable_linked(rci_heap *h, rci_arena *a) {
    return a->prev != NULL || h->usable == a;
}

static void usable_insert_sorted(rci_heap *h, rci_arena *a) {
    rci_arena *prev = NULL, *cur = h->usable;
    while (cur && cur->nfree < a->nfree) {
        prev = cur;
        cur = cur->next;
    }
    a->prev = prev;
    a->next = cur;
    if (prev) prev->next = a; else h->usable = a;
    if (cur) cur->prev = a;
}

/* Put a back where its nfree says, or take it off the list. Cheap when a
 * moves one step, which is the common case (CPython does the same walk). */
static void usable_reposition(rci_heap *h, rci_arena *a) {
    bool linked = usable_linked(h, a);
    if (a->nfree == 0) {
        if (linked) usable_unlink(h, a);
        return;
    }
    if (linked) {
        bool ok = (!a->prev || a->prev->nfree <= a->nfree) && (!a->next || a->next->nfree >= a->nfree);
        if (ok)
            return;
        usable_unlink(h, a);
    }
    usable_insert_sorted(h, a);
}

static void all_link(rci_heap *h, rci_arena *a) {
    a->all_prev = NULL;
    a->all_next = h->all;
    if (h->all) h->all->all_prev = a;
    h->all = a;
    h->narenas++;
}

static void all_unlink(rci_heap *h, rci_arena *a) {
    if (a->all_prev) a->all_prev->all_next = a->all_next; else h->all = a->all_next;
    if (a->all_next) a->all_next->all_prev = a->all_prev;
    a->all_next = a->all_prev = NULL;
    h->narenas--;
}

/* ---- arenas ---- */

rci_arena *rci_arena_new(rci_heap *h) {
    void *mem;
    if (rci_os_alloc_aligned(RC_ARENA_SIZE, RC_ARENA_SIZE, &mem) != 0)
        return NULL;
    rci_arena *a = mem;
    /* Fresh mappings are zeroed: only non-zero fields need setting. */
    a->magic = RCI_ARENA_MAGIC;
    a->kind = RCI_ARENA_POOLS;
    a->heap = h;
    a->client = h->owner;
    a->free_mask = ~(uint64_t)0;
    a->nfree = RC_POOLS_PER_ARENA;
    a->map_size = RC_ARENA_SIZE;
    rci_arena_map_set((uintptr_t)a, RC_ARENA_SIZE, false, true);
    stats_arena_added(RC_ARENA_SIZE);
    return a;
}

void rci_arena_release(rci_arena *a) {
    size_t size = a->map_size;
    rci_arena_map_set((uintptr_t)a, size, a->kind == RCI_ARENA_HUGE, false);
    if (a->kind == RCI_ARENA_HUGE)
        atomic_fetch_sub(&rci_g_bytes_reserved, size);
    else
        stats_arena_removed(size);
    a->magic = 0;
    rci_os_free(a, size);
}

void rci_heap_release_cached(rci_heap *h) {
    if (h->cached_empty) {
        rci_arena_release(h->cached_empty);
        h->cached_empty = NULL;
    }
}

/* First pool index of a run of n free pools in mask, or -1. Pool 0 holds the
 * header and is only used alone (never in a span). */
static int find_run(uint64_t mask, unsigned n, bool span) {
    if (span)
        mask &= ~(uint64_t)1;
    uint64_t m = mask;
    for (unsigned i = 1; i < n && m; i++)
        m &= mask >> i;
    if (!m)
        return -1;
    return __builtin_ctzll(m);
}

rci_pool *rci_arena_take_pools(rci_heap *h, unsigned npools, bool span) {
    rci_arena *a = NULL;
    int idx = -1;
    for (rci_arena *cur = h->usable; cur; cur = cur->next) {
        if (cur->nfree < npools)
            continue;
        idx = find_run(cur->free_mask, npools, span);
        if (idx >= 0) {
            a = cur;
            break;
        }
    }
    if (!a) {
        if (h->cached_empty) {
            a = h->cached_empty;
            h->cached_empty = NULL;
        } else {
            a = rci_arena_new(h);
            if (!a)
                return NULL;
        }
        all_link(h, a);
        idx = find_run(a->free_mask, npools, span);
    }
    uint64_t bits = (npools == 64 ? ~(uint64_t)0 : (((uint64_t)1 << npools) - 1)) << idx;
    a->free_mask &= ~bits;
    a->decommitted &= ~bits;      /* in use again: their pages come back zeroed on touch */
    a->nfree -= npools;
    usable_reposition(h, a);
    return &a->pools[idx];
}

void rci_arena_give_pools(rci_heap *h, rci_pool *first) {
    rci_arena *a = rci_arena_of(first);
    unsigned idx = (unsigned)(first - a->pools);
    unsigned n = first->state == RCI_POOL_SPAN ? first->span_pools : 1;
    for (unsigned i = 0; i < n; i++) {
        rci_pool *p = &a->pools[idx + i];
        p->state = RCI_POOL_FREE;
        rci_pool_set_flags(p, 0);
        p->flags_hot = 0;
        p->div_magic = 0;          /* every free into a free pool leaves the fast path */
        p->div_magic_shared = 0;
        p->free = NULL;
        p->heap = NULL;
        p->next = p->prev = NULL;
        atomic_store_explicit(&p->used, 0, memory_order_relaxed);
        atomic_store_explicit(&p->thread_free, 0, memory_order_relaxed);
    }
    uint64_t bits = (n == 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1)) << idx;
    a->free_mask |= bits;
    a->nfree += n;
    if (a->nfree == RC_POOLS_PER_ARENA) {
        if (usable_linked(h, a))
            usable_unlink(h, a);
        all_unlink(h, a);
        if (!h->cached_empty && !h->abandoned) {
            h->cached_empty = a;
        } else {
            rci_arena_release(a);
        }
        return;
    }
    usable_reposition(h, a);
}

/* Free pools whose pages the OS still holds for us are decommitted in runs
 * of adjacent pools, one madvise per run. A failed madvise leaves the pages
 * resident and the bits clear: harmless, tried again next time. */
static size_t arena_decommit_free(rci_arena *a) {
    uint64_t todo = a->free_mask & ~a->decommitted & ~(uint64_t)1;
    size_t n = 0;
    while (todo) {
        unsigned first = (unsigned)__builtin_ctzll(todo), end = first;
        while (end < RC_POOLS_PER_ARENA && (todo >> end) & 1)
            end++;
        uint64_t run = (end - first == 64 ? ~(uint64_t)0 : ((uint64_t)1 << (end - first)) - 1)
                       << first;
        todo &= ~run;
        if (rci_os_decommit(rci_pool_base(a, &a->pools[first]),
                            (size_t)(end - first) << RC_POOL_SHIFT) == 0) {
            a->decommitted |= run;
            n += end - first;
        }
    }
    return n;
}

size_t rci_heap_decommit_free_pools(rci_heap *h) {
    size_t n = 0;
    for (rci_arena *a = h->all; a; a = a->all_next)
        n += arena_decommit_free(a);
    if (h->cached_empty)
        n += arena_decommit_free(h->cached_empty);
    return n;
}

/* ---- huge blocks: one mapping each ---- */

void *rci_huge_alloc(rci_heap *h, size_t size, size_t alignment, size_t skew, unsigned kind) {
    size_t ps = rci_os_page_size();
    size_t hdr = rci_arena_header_size();
    if (alignment < RC_HEAP_ALIGNMENT)
        alignment = RC_HEAP_ALIGNMENT;
    /* The block starts skew bytes before an aligned address, after the
     * header: offset + skew is the first multiple of alignment that leaves
     * room for the header. With alignment <= RC_MAX_ALIGNMENT and skew small
     * that address is still inside the first arena-sized chunk. */
    size_t offset = ((hdr + skew + alignment - 1) & ~(alignment - 1)) - skew;
    if (size > SIZE_MAX - offset - ps) {
        errno = ENOMEM;
        return NULL;
    }
    size_t map = (offset + size + ps - 1) & ~(ps - 1);
    void *mem;
    if (rci_os_alloc_aligned(map, RC_ARENA_SIZE, &mem) != 0) {
        errno = ENOMEM;
        return NULL;
    }
    rci_arena *a = mem;
    a->magic = RCI_ARENA_MAGIC;
    a->kind = RCI_ARENA_HUGE;
    a->huge_flags = (!h->is_private && kind == RCI_KIND_DEBUG) ? RCI_PF_DEBUG : 0;
    a->huge_kind = (uint8_t)kind;
    for (unsigned i = 0; i < RC_POOLS_PER_ARENA; i++)
        a->pools[i].kind = (uint8_t)kind;
    a->map_size = map;
    a->huge_block = (char *)a + offset;
    a->huge_size = map - offset;
    /* Every pool descriptor that a pointer into the first chunk can select
     * says "not a small pool", so rc_free takes the generic path. */
    for (unsigned i = 0; i < RC_POOLS_PER_ARENA; i++)
        rci_pool_set_flags(&a->pools[i], RCI_PF_SPAN);
    rci_arena_map_set((uintptr_t)a, map, true, true);
    atomic_fetch_add(&rci_g_bytes_reserved, map);
    atomic_fetch_add(&rci_g_huge_blocks, 1);
    atomic_fetch_add(&rci_g_huge_bytes, a->huge_size);
    if (h->is_private) {
        /* Private heaps remember their huge blocks, to walk and to release
         * them; a thread heap's huge block belongs to no heap. */
        a->heap = h;
        a->client = h->owner;
        pthread_mutex_lock(&h->lock);
        a->prev = NULL;
        a->next = h->huge;
        if (h->huge)
            h->huge->prev = a;
        h->huge = a;
        pthread_mutex_unlock(&h->lock);
    }
    return a->huge_block;
}

void *rci_huge_resize(rci_arena *a, size_t size) {
    size_t ps = rci_os_page_size();
    size_t offset = (size_t)(a->huge_block - (char *)a);
    if (size > SIZE_MAX - offset - ps)
        return NULL;
    size_t map = (offset + size + ps - 1) & ~(ps - 1);
    if (map == a->map_size)
        return a->huge_block;
    size_t old_map = a->map_size, old_usable = a->huge_size;
    rci_heap *h = a->heap;
    if (h)
        pthread_mutex_lock(&h->lock);
    /* Off the map while it moves: no other thread may look it up (the
     * caller owns the block), and the map must not name a stale range. */
    rci_arena_map_set((uintptr_t)a, old_map, true, false);
    void *moved;
    int r = rci_os_remap(a, old_map, map, RC_ARENA_SIZE, &moved);
    rci_arena *n = r == 0 ? moved : a;
    if (r == 0) {
        n->map_size = map;
        n->huge_block = (char *)n + offset;
        n->huge_size = map - offset;
        if (h && n != a) {
            /* a private heap's list of huge blocks names the old address */
            if (n->prev) n->prev->next = n; else h->huge = n;
            if (n->next) n->next->prev = n;
        }
        atomic_fetch_add(&rci_g_bytes_reserved, map);
        atomic_fetch_sub(&rci_g_bytes_reserved, old_map);
        atomic_fetch_add(&rci_g_huge_bytes, n->huge_size);
        atomic_fetch_sub(&rci_g_huge_bytes, old_usable);
    }
    rci_arena_map_set((uintptr_t)n, n->map_size, true, true);
    if (h)
        pthread_mutex_unlock(&h->lock);
    return r == 0 ? n->huge_block : NULL;
}

void rci_huge_free(rci_arena *a) {
    rci_heap *h = a->heap;
    if (h) {
        pthread_mutex_lock(&h->lock);
        if (a->prev) a->prev->next = a->next; else h->huge = a->next;
        if (a->next) a->next->prev = a->prev;
        pthread_mutex_unlock(&h->lock);
    }
    atomic_fetch_sub(&rci_g_huge_blocks, 1);
    atomic_fetch_sub(&rci_g_huge_bytes, a->huge_size);
    rci_arena_release(a);
}
