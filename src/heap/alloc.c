/* alloc.c - the rc_malloc family: one fast path each for malloc and free, and
 * one generic slow path behind them; spans for large blocks; realloc policy.
 *
 * Fast path of rc_malloc (sizes <= RC_DIRECT_MAX, no hook, no debug):
 *     pool = heap->hot.direct[(size + 15) / 16]; pop pool->free.
 * Fast path of rc_free (a block of a SMALL pool owned by this thread's heap,
 * no flags): push on pool->free. Everything else goes through
 * rci_malloc_generic / free_generic. Neither fast path takes a lock or does an
 * atomic read-modify-write; the only atomics are relaxed loads and stores.
 *
 * Release-mode free checks (always on, debug mode or not). Every free of a
 * SMALL-pool block checks, before touching any list:
 *   - that p is a block start: one multiply by the pool's reciprocal of the
 *     block size (rci_pool_block_start_ok*); a pool that is not SMALL has a
 *     reciprocal of 0 and fails, so a free into a pool that went back to its
 *     arena cannot take the fast path either;
 *   - that the block's mark word (rci_block.mark, the second word) is not
 *     rci_free_key. Freeing writes the key there, handing a block out clears
 *     it. A key in a block being freed means: already free, or live with user
 *     data equal to the key (a 64-bit random value, so by accident about
 *     never). Only then the free lists are walked (the pool's free and
 *     thread_free lists, the heap's delayed list): a double free is reported
 *     only when the block is found on one, so user data cannot cause a false
 *     report, only a walk that finds nothing. glibc's tcache does the same
 *     with its per-process key.
 * A failing check goes to the generic path, which reports through rci_report
 * (RC_HEAP_ERR_INVALID or RC_HEAP_ERR_DOUBLE_FREE) and skips the free, so the
 * heap stays intact. A thread that is not the owner may not walk the owner's
 * lists: it leaves a keyed block in the heap's suspects[] without touching
 * it, and the owner decides at its next slow path or rc_heap_collect (found
 * free, or handed out again since: a double free; neither: freed now).
 * Not caught with debug mode off: a double free after the block was handed
 * out again (that is a free of someone else's live block), a pointer that
 * lands on a block start of another block, a pointer into the arena header.
 * Debug mode catches more (see docs/design/heap.md).
 */
#include "heap/alloc.h"
#include "heap/arena.h"
#include "heap/debug.h"
#include "heap/hooks.h"
#include "heap/os/os.h"
#include "heap/pool.h"
#include "heap/stats.h"
#include "heap/tlheap.h"

#include <errno.h>
#include <string.h>

/* ---- statistics (see stats.h) ---- */

void rci_stat_flush(rci_heap *h) {
    long d = atomic_load_explicit(&h->hot.stat_delta, memory_order_relaxed);
    if (d == 0)
        return;
    atomic_store_explicit(&h->hot.stat_delta, 0, memory_order_relaxed);
    long now = atomic_fetch_add(&rci_g_bytes_in_use_signed, d) + d;
    if (now > 0) {
        size_t peak = atomic_load(&rci_g_peak);
        while ((size_t)now > peak && !atomic_compare_exchange_weak(&rci_g_peak, &peak, (size_t)now)) {
        }
    }
}

/* ---- errors ---- */

static void *fail_enomem(void) {
    if (atomic_load_explicit(&rci_verbose, memory_order_relaxed))
        rci_report(RC_HEAP_ERR_OUT_OF_MEMORY, NULL, 0, 0,
                   "out of memory: the OS refused more memory; returning NULL (ENOMEM)");
    errno = ENOMEM;
    return NULL;
}

/* ---- allocation: generic path ---- */

/* Thread heaps mark their debug kind with the DEBUG pool flag, which sends
 * every free of such a block to the debug layer. */
static bool kind_is_debug(const rci_heap *h, unsigned kind) {
    return !h->is_private && kind == RCI_KIND_DEBUG;
}

/* Before a class takes a fresh pool, it may borrow already-used free blocks
 * of one of the next classes up (at most 1/8 larger, so only classes of 128
 * bytes and more borrow), and only from pools that have such blocks: nothing
 * new is touched. Segregated classes otherwise each keep memory for their
 * own peak; borrowing lets neighbouring classes absorb each other's
 * fluctuations, which keeps the resident size close to the bytes actually
 * live. The lending pool becomes the borrower's direct pool, so the fast path
 * serves the borrower from it until it runs dry or the borrower's own list
 * gets a pool back. Blocks stay blocks of the lender's class: free and
 * realloc need no special case. Invariant: a direct slot names a pool of its
 * own class or of a class at most RC_BORROW_CLASSES above it, and never a
 * pool that has gone back to its arena (see retire_pool). */
#define RC_BORROW_CLASSES 3
#define RC_BORROW_POOLS 4

static void *borrow_neighbour(rci_heap *h, unsigned kind, unsigned cls) {
    uint32_t limit = rci_class_size[cls] + rci_class_size[cls] / 8;
    for (unsigned k = 1; k <= RC_BORROW_CLASSES && cls + k < RC_NCLASSES; k++) {
        if (rci_class_size[cls + k] > limit)
            break;
        unsigned seen = 0;
        for (rci_pool *np = h->lists[kind][cls + k].head; np && seen < RC_BORROW_POOLS;
             np = np->next, seen++) {
            /* Only a lender with a good stock of used free blocks: a pool
             * with one or two would send the borrower back here at once. */
            if (np->free && np->bump == np->start + (size_t)np->capacity * np->block_size &&
                np->capacity - atomic_load_explicit(&np->used, memory_order_relaxed) >= 8) {
                rci_heap_set_direct(h, kind, cls, np);
                return rci_pool_pop(h, np);
            }
        }
    }
    return NULL;
}

/* Give an empty pool back to its arena, first pointing away any direct slot
 * of a borrowing class that still names it. */
static void retire_pool(rci_heap *h, rci_pool *pool) {
    unsigned cls = pool->class_idx, kind = pool->kind;
    for (unsigned k = 1; k <= RC_BORROW_CLASSES && k <= cls; k++) {
        unsigned b = cls - k;
        unsigned slot = b < RC_NSMALL ? b + 1 : (b < RC_NSMALL + 4 ? 33 + 8 * (b - RC_NSMALL) : 0);
        if (slot && h->hot.direct[kind][slot] == pool)
            rci_heap_update_direct(h, kind, b);
    }
    pthread_mutex_lock(&h->lock);
    rci_arena_give_pools(h, pool);
    pthread_mutex_unlock(&h->lock);
}

static void *small_alloc_generic(rci_heap *h, unsigned cls, unsigned kind) {
    if (atomic_load_explicit(&h->delayed_free, memory_order_relaxed))
        rci_heap_drain_delayed(h);
    if (rci_unlikely(atomic_load_explicit(&h->nsuspects, memory_order_relaxed)))
        rci_heap_check_suspects(h);
    rci_pool_list *l = &h->lists[kind][cls];
    rci_pool *old_head = l->head;
    rci_pool *pool;
    while ((pool = l->head) != NULL) {
        if (rci_pool_refill(pool))
            break;
        /* Exhausted: mark it full. Remote frees then go to the heap's delayed
         * list, which wakes it up again. If some arrived just now, the CAS
         * fails and the next refill finds them. */
        uintptr_t expected = 0;
        if (!atomic_compare_exchange_strong_explicit(&pool->thread_free, &expected, RCI_TF_NOTIFY,
                                                     memory_order_acq_rel, memory_order_relaxed))
            continue;
        rci_pool_set_full(pool);
        rci_pool_list_remove(l, pool);
    }
    if (!pool && !kind_is_debug(h, kind)) {
        void *b = borrow_neighbour(h, kind, cls);   /* sets the direct slot */
        if (b)
            return b;
    }
    if (!pool) {
        pthread_mutex_lock(&h->lock);
        pool = rci_arena_take_pools(h, 1, false);
        if (pool)
            rci_pool_init_small(pool, rci_arena_of(pool), h, cls, kind);
        pthread_mutex_unlock(&h->lock);
        if (!pool) {
            if (l->head != old_head)
                rci_heap_update_direct(h, kind, cls);
            return fail_enomem();
        }
        rci_pool_list_push_front(l, pool);
        rci_pool_refill(pool);
    }
    /* The head may have changed, or the slot may still name a lender. */
    rci_heap_update_direct(h, kind, cls);
    return rci_pool_pop(h, pool);
}

static void *span_alloc(rci_heap *h, size_t size, unsigned kind) {
    size_t npools = (size + RC_POOL_SIZE - 1) >> RC_POOL_SHIFT;
    pthread_mutex_lock(&h->lock);
    rci_pool *pool = rci_arena_take_pools(h, (unsigned)npools, true);
    if (pool) {
        rci_arena *a = rci_arena_of(pool);
        pool->free = NULL;
        pool->heap = h;
        rci_pool_set_flags(pool, RCI_PF_SPAN | (kind_is_debug(h, kind) ? RCI_PF_DEBUG : 0));
        pool->class_idx = 0;
        pool->kind = (uint8_t)kind;
        pool->span_pools = (uint8_t)npools;
        pool->block_size = 0;
        pool->block_size_hot = 0;
        pool->capacity = 1;
        pool->start = rci_pool_base(a, pool);
        pool->bump = pool->start + (npools << RC_POOL_SHIFT);
        pool->span_size = npools << RC_POOL_SHIFT;
        atomic_store_explicit(&pool->used, 1, memory_order_relaxed);
        /* A span is always "full": remote frees go to the delayed list. */
        atomic_store_explicit(&pool->thread_free, RCI_TF_NOTIFY, memory_order_relaxed);
        for (size_t i = 1; i < npools; i++) {
            rci_pool *t = pool + i;
            t->heap = h;
            rci_pool_set_flags(t, RCI_PF_SPAN);
            t->free = NULL;
            atomic_store_explicit(&t->used, 0, memory_order_relaxed);
            t->state = RCI_POOL_SPAN_TAIL;
        }
        /* state last: readers of statistics check it under the same lock */
        pool->state = RCI_POOL_SPAN;
    }
    pthread_mutex_unlock(&h->lock);
    if (!pool)
        return fail_enomem();
    rci_stat_add_inline(h, (long)pool->span_size);
    return pool->start;
}

static void *huge_alloc(rci_heap *h, size_t size, size_t alignment, size_t skew, unsigned kind) {
    void *p = rci_huge_alloc(h, size, alignment, skew, kind);
    if (!p)
        return fail_enomem();
    rci_stat_add(h, (long)rci_arena_of(p)->huge_size);
    return p;
}

void *rci_heap_alloc_kind(rci_heap *h, size_t size, unsigned kind) {
    if (size <= RC_POOLED_MAX)
        return small_alloc_generic(h, rci_class_of(size), kind);
    if (size <= RC_SPAN_MAX)
        return span_alloc(h, size, kind);
    return huge_alloc(h, size, 0, 0, kind);
}

void *rci_raw_malloc(size_t size, bool debug) {
    rci_heap *h = rci_heap_get_or_create();
    if (!h)
        return fail_enomem();
    return rci_heap_alloc_kind(h, size, debug ? RCI_KIND_DEBUG : 0);
}

void *rci_raw_aligned(size_t alignment, size_t size, bool debug) {
    if (alignment <= RC_HEAP_ALIGNMENT)
        return rci_raw_malloc(size, debug);
    /* The aligned pointer must lie strictly inside its block, even for size 0,
     * or it would name the next block. */
    if (size == 0)
        size = 1;
    if (size <= RC_POOLED_MAX && alignment <= RC_POOLED_MAX / 4 &&
        size + alignment - RC_HEAP_ALIGNMENT <= RC_POOLED_MAX) {
        size_t need = size + alignment - RC_HEAP_ALIGNMENT;
        char *b = rci_raw_malloc(need, debug);
        if (!b)
            return NULL;
        char *p = (char *)(((uintptr_t)b + alignment - 1) & ~(uintptr_t)(alignment - 1));
        if (p != b) {
            rci_pool *pool = rci_pool_of(rci_arena_of(b), b);
            rci_pool_set_flags(pool, rci_pool_flags(pool) | RCI_PF_ALIGNED);
            pool->div_magic = 0;   /* frees leave the owner's fast path */
        }
        return p;
    }
    rci_heap *h = rci_heap_get_or_create();
    if (!h)
        return fail_enomem();
    unsigned kind = debug ? RCI_KIND_DEBUG : 0;
    if (size <= RC_SPAN_MAX && alignment <= RC_POOL_SIZE)
        return span_alloc(h, size, kind);   /* spans start on a pool boundary */
    return huge_alloc(h, size, alignment, 0, kind);
}

void *rci_raw_huge_skewed(size_t alignment, size_t skew, size_t size, bool debug) {
    rci_heap *h = rci_heap_get_or_create();
    if (!h)
        return fail_enomem();
    return huge_alloc(h, size, alignment, skew, debug ? RCI_KIND_DEBUG : 0);
}

/* ---- freeing ---- */

static void pool_unfull(rci_heap *h, rci_pool *pool) {
    rci_pool_clear_full(pool);
    /* While FULL, remote frees went to the delayed list and thread_free held
     * exactly NOTIFY; clearing it lets them use thread_free again. */
    atomic_store_explicit(&pool->thread_free, 0, memory_order_release);
    rci_pool_list *l = &h->lists[pool->kind][pool->class_idx];
    bool was_empty = l->head == NULL;
    rci_pool_list_push_back(l, pool);
    if (was_empty)
        rci_heap_update_direct(h, pool->kind, pool->class_idx);
}

void rci_free_local_slow(rci_heap *h, rci_pool *pool) {
    /* pool->used just reached zero. The list head stays (it is the current
     * pool of its class); any other empty pool goes back to its arena. The
     * pool is not full (see rci_pool_stays_when_empty), so it is on its
     * class list. */
    if (rci_pool_stays_when_empty(h, pool))
        return;
    rci_pool_list_remove(&h->lists[pool->kind][pool->class_idx], pool);
    retire_pool(h, pool);
}

/* Free block b of pool, owned by h == this thread's heap. Statistics are the
 * caller's business. */
static void free_local(rci_heap *h, rci_pool *pool, void *p) {
    if (pool->state == RCI_POOL_SPAN) {
        pthread_mutex_lock(&h->lock);
        rci_arena_give_pools(h, pool);
        pthread_mutex_unlock(&h->lock);
        return;
    }
    rci_block *b = p;
    rci_block_set_next(b, pool->free);
    b->mark = rci_free_key;
    pool->free = b;
    uint32_t used = atomic_load_explicit(&pool->used, memory_order_relaxed) - 1;
    atomic_store_explicit(&pool->used, used, memory_order_relaxed);
    if (used == 0) {
        rci_free_local_slow(h, pool);
        return;
    }
    if (rci_pool_is_full(pool))
        pool_unfull(h, pool);
}

RCI_INLINE void free_remote(rci_pool *pool, void *p) {
    rci_block *b = p;
    b->mark = rci_free_key;
    rci_heap *owner = pool->heap;
    uintptr_t tf = atomic_load_explicit(&pool->thread_free, memory_order_relaxed);
    for (;;) {
        if (tf & RCI_TF_NOTIFY) {
            rci_block *head = atomic_load_explicit(&owner->delayed_free, memory_order_relaxed);
            do {
                rci_block_set_next(b, head);
            } while (!atomic_compare_exchange_weak_explicit(&owner->delayed_free, &head, b,
                                                            memory_order_release, memory_order_relaxed));
            return;
        }
        rci_block_set_next(b, (rci_block *)tf);
        if (atomic_compare_exchange_weak_explicit(&pool->thread_free, &tf, (uintptr_t)b,
                                                  memory_order_release, memory_order_relaxed))
            return;
    }
}

void rci_heap_drain_delayed(rci_heap *h) {
    rci_block *b = atomic_exchange_explicit(&h->delayed_free, NULL, memory_order_acquire);
    while (b) {
        rci_block *next = rci_block_next(b);
        rci_arena *a = rci_arena_of(b);
        free_local(h, rci_pool_of(a, b), b);
        b = next;
    }
}

/* ---- release-mode free checks (see the top of this file) ---- */

/* Is block p of pool on one of the lists a free block can be on? Owner
 * only: other threads push on thread_free and delayed_free but never change
 * a node already there, and only the owner takes nodes off. */
static bool owner_finds_free(rci_heap *h, rci_pool *pool, const void *p) {
    size_t limit = (size_t)pool->capacity + 1;   /* a cycle would be damage: stop */
    for (rci_block *b = pool->free; b && limit; b = rci_block_next(b), limit--)
        if (b == p)
            return true;
    uintptr_t tf = atomic_load_explicit(&pool->thread_free, memory_order_acquire);
    limit = (size_t)pool->capacity + 1;
    for (rci_block *b = (rci_block *)(tf & ~RCI_TF_NOTIFY); b && limit; b = rci_block_next(b), limit--)
        if (b == p)
            return true;
    for (rci_block *b = atomic_load_explicit(&h->delayed_free, memory_order_acquire); b; b = rci_block_next(b))
        if (b == p)
            return true;
    return false;
}

static RCI_NOINLINE void report_double_free(const void *p, size_t size, const char *fn) {
    rci_report(RC_HEAP_ERR_DOUBLE_FREE, p, size, 0,
               "%s(%p): double free of a block of size %zu; ignored", fn, p, size);
}

/* A thread other than pool's owner frees keyed block p: queue it for the
 * owner without touching the block (it may be on the owner's free list).
 * When the queue is full the block is reported and kept out of the heap:
 * a leak, never a corruption. */
static RCI_NOINLINE void suspect_push(rci_pool *pool, void *p) {
    rci_heap *owner = pool->heap;
    pthread_mutex_lock(&owner->lock);
    uint32_t n = atomic_load_explicit(&owner->nsuspects, memory_order_relaxed);
    bool queued = n < RCI_SUSPECTS;
    if (queued) {
        owner->suspects[n] = p;
        atomic_store_explicit(&owner->nsuspects, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&owner->lock);
    if (!queued)
        rci_report(RC_HEAP_ERR_DOUBLE_FREE, p, pool->block_size, 0,
                   "rc_free(%p): probable double free from another thread (too many pending "
                   "to verify); the block is left out of the heap", p);
}

void rci_heap_check_suspects(rci_heap *h) {
    void *batch[RCI_SUSPECTS];
    pthread_mutex_lock(&h->lock);
    uint32_t n = atomic_load_explicit(&h->nsuspects, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++)
        batch[i] = h->suspects[i];
    atomic_store_explicit(&h->nsuspects, 0, memory_order_relaxed);
    pthread_mutex_unlock(&h->lock);
    for (uint32_t i = 0; i < n; i++) {
        rci_block *b = batch[i];
        rci_pool *pool = rci_pool_of(rci_arena_of(b), b);
        /* Found free: the remote free was a second one. Not found but no
         * longer keyed: it was free then and has been handed out since.
         * Both are double frees; only a block still keyed and on no list
         * was live, with the key in its data, and is freed now. A pool that
         * emptied (and perhaps was carved again for another class) since
         * the block was queued can only mean the block was free then. */
        if (pool->state != RCI_POOL_SMALL || !rci_pool_block_start_ok(pool, b) ||
            (char *)b >= pool->bump || b->mark != rci_free_key || owner_finds_free(h, pool, b)) {
            report_double_free(b, pool->state == RCI_POOL_SMALL ? pool->block_size : 0, "rc_free");
            continue;
        }
        rci_stat_add(h, -(long)pool->block_size);
        free_local(h, pool, b);
    }
}

/* May block p (a block start) of SMALL pool be freed by a thread whose heap
 * is h? Reports and returns false when not; returns false without a report
 * when the decision was handed to the owner. */
static bool small_free_ok(rci_heap *h, rci_pool *pool, void *p) {
    bool owner = pool->heap == h;
    if (owner && (char *)p >= pool->bump) {
        rci_report(RC_HEAP_ERR_INVALID, p, 0, 0,
                   "rc_free(%p): pointer is inside the heap but not the start of a live block; ignored", p);
        return false;
    }
    if (rci_likely(((rci_block *)p)->mark != rci_free_key))
        return true;
    if (!owner) {
        suspect_push(pool, p);
        return false;
    }
    if (owner_finds_free(h, pool, p)) {
        report_double_free(p, pool->block_size, "rc_free");
        return false;
    }
    return true;
}

static size_t block_bytes(rci_pool *pool) {
    return pool->state == RCI_POOL_SPAN ? pool->span_size : pool->block_size;
}

/* The shared front of every non-fast free of a pointer into a live arena,
 * by a thread whose heap is h: huge blocks are unmapped here (returns NULL);
 * a SMALL block passes the release-mode checks (NULL if it must not be
 * freed now); a pool with no live block is reported (NULL). Otherwise the
 * block's pool, with *p moved to the block start for an over-aligned
 * pointer and the bytes taken out of h's statistics. */
static rci_pool *free_prologue(rci_heap *h, void **p) {
    rci_arena *a = rci_arena_of(*p);
    if (a->kind == RCI_ARENA_HUGE) {
        rci_stat_add(h, -(long)a->huge_size);
        rci_huge_free(a);
        return NULL;
    }
    rci_pool *pool = rci_pool_of(a, *p);
    if (pool->state == RCI_POOL_SMALL) {
        if (rci_pool_flags(pool) & RCI_PF_ALIGNED)
            *p = rci_pool_block_start(pool, *p);
        if (!*p || !small_free_ok(h, pool, *p))
            return NULL;
    } else if (pool->state == RCI_POOL_FREE) {
        rci_report(RC_HEAP_ERR_DOUBLE_FREE, *p, 0, 0,
                   "rc_free(%p): block of a pool that holds no live block (double free); ignored", *p);
        return NULL;
    } else if (pool->state != RCI_POOL_SPAN || *p != pool->start) {
        rci_report(RC_HEAP_ERR_INVALID, *p, 0, 0,
                   "rc_free(%p): pointer is inside the heap but not the start of a live block; ignored", *p);
        return NULL;
    }
    rci_stat_add(h, -(long)block_bytes(pool));
    return pool;
}

void rci_heap_free_owned(rci_heap *h, void *p) {
    rci_pool *pool = free_prologue(h, &p);
    if (pool)
        free_local(h, pool, p);
}

void rci_raw_free(void *p) {
    rci_heap *h = rci_tl_heap;
    rci_pool *pool = free_prologue(h, &p);
    if (!pool)
        return;
    if (pool->heap == h)
        free_local(h, pool, p);
    else
        free_remote(pool, p);
}

/* Is p the start of a live block (or, for an ALIGNED pool, inside one)? Used
 * on every generic free so that a bad pointer is reported, not followed. */
static bool valid_block(rci_arena *a, const void *p) {
    if (a->magic != RCI_ARENA_MAGIC)
        return false;
    if (a->kind == RCI_ARENA_HUGE)
        return p == a->huge_block;
    rci_pool *pool = rci_pool_of(a, p);
    if (pool->state == RCI_POOL_SPAN)
        return p == pool->start;
    if (pool->state != RCI_POOL_SMALL)
        return false;
    char *start = rci_pool_block_start(pool, p);
    if (!start)
        return false;
    return start == p || (rci_pool_flags(pool) & RCI_PF_ALIGNED);
}

static RCI_NOINLINE void free_foreign(void *p) {
    if (p == NULL)
        return;
    rci_report(RC_HEAP_ERR_FOREIGN, p, 0, 0,
               "rc_free(%p): pointer was not allocated by this heap; ignored", p);
}

static RCI_NOINLINE void free_generic(void *p) {
    rci_arena *a = rci_arena_of(p);
    if (!rci_arena_map_is_head((uintptr_t)p) || !rci_arena_spans(a, p)) {
        free_foreign(p);
        return;
    }
    if (a->magic == RCI_ARENA_MAGIC && rci_debug_owns(p)) {
        rci_debug_free(p);
        return;
    }
    if (!valid_block(a, p)) {
        /* A block start of a pool that went back to its arena, still keyed:
         * freed before, and its pool emptied. */
        if (a->magic == RCI_ARENA_MAGIC && a->kind == RCI_ARENA_POOLS &&
            rci_pool_of(a, p)->state == RCI_POOL_FREE && ((uintptr_t)p & (RC_HEAP_ALIGNMENT - 1)) == 0 &&
            ((rci_block *)p)->mark == rci_free_key) {
            rci_report(RC_HEAP_ERR_DOUBLE_FREE, p, 0, 0,
                       "rc_free(%p): double free (the block's pool holds no live block); ignored", p);
            return;
        }
        rci_report(RC_HEAP_ERR_INVALID, p, 0, 0,
                   "rc_free(%p): pointer is inside the heap but not the start of a live block; ignored", p);
        return;
    }
    rci_raw_free(p);
}

/* ---- public entry points without hooks ---- */

static RCI_NOINLINE void *malloc_nohook_slow(size_t size) {
    if (atomic_load_explicit(&rci_debug_on, memory_order_relaxed))
        return rci_debug_malloc(size, 0, 0);
    rci_heap *h = rci_tl_heap;
    if (rci_likely(h != &rci_heap_empty && size <= RC_POOLED_MAX))
        return small_alloc_generic(h, rci_class_of(size), 0);
    return rci_raw_malloc(size, false);
}

RCI_INLINE void *malloc_nohook(size_t size) {
    if (rci_likely(size <= RC_DIRECT_MAX)) {
        rci_heap *h = rci_tl_heap;
        rci_pool *pool = h->hot.direct[0][(size + 15) >> 4];
        if (rci_likely(pool->free != NULL))
            return rci_pool_pop(h, pool);
    }
    return malloc_nohook_slow(size);
}

RCI_INLINE void free_nohook(void *p) {
    if (rci_unlikely(!rci_arena_map_is_head((uintptr_t)p))) {
        free_generic(p);
        return;
    }
    rci_arena *a = rci_arena_of(p);
    rci_pool *pool = rci_pool_of(a, p);
    rci_heap *h = rci_tl_heap;
    /* The arena's owner is the pool's owner; reading it from the arena header
     * (a line that rarely changes) keeps the pool's lines out of it. */
    rci_block *b = p;
    if (rci_likely(a->heap == h)) {
        /* A pool with a flag other than FULL (debug, span, aligned, free)
         * has div_magic 0 and fails the block-start test: one test for both. */
        if (rci_likely(rci_pool_block_start_ok_hot(pool, p) && b->mark != rci_free_key)) {
            rci_block *old = pool->free;
            rci_block_set_next(b, old);
            b->mark = rci_free_key;
            pool->free = b;
            uint32_t used = atomic_load_explicit(&pool->used, memory_order_relaxed) - 1;
            atomic_store_explicit(&pool->used, used, memory_order_relaxed);
            rci_stat_add_inline(h, -(long)pool->block_size_hot);
            if (rci_unlikely(used == 0))
                rci_free_local_slow(h, pool);
            else if (rci_unlikely(old == NULL) && rci_pool_is_full(pool))
                pool_unfull(h, pool);   /* a full pool has an empty free list */
            return;
        }
    } else if (rci_likely(rci_pool_flags(pool) == 0 && pool->state == RCI_POOL_SMALL &&
                          rci_pool_block_start_ok(pool, p) && b->mark != rci_free_key)) {
        /* A plain block of another thread's pool (or this thread has no
         * heap yet): push it on the pool's remote list. */
        /* The size is read before the push: once the block is on the remote
         * list the owner may empty the pool and carve it for another class. */
        long bsize = (long)pool->block_size;
        free_remote(pool, p);
        if (h != &rci_heap_empty)
            rci_stat_add_inline(h, -bsize);
        else
            atomic_fetch_sub_explicit(&rci_g_bytes_in_use_signed, bsize, memory_order_relaxed);
        return;
    }
    free_generic(p);
}

void *rci_default_malloc(void *ctx, size_t size) {
    (void)ctx;
    if (rci_unlikely(atomic_load_explicit(&rci_debug_on, memory_order_relaxed)))
        return rci_debug_malloc(size, 0, 0);
    return malloc_nohook(size);
}

void rci_default_free(void *ctx, void *p) {
    (void)ctx;
    free_nohook(p);
}

size_t rci_raw_usable(const void *p) {
    rci_arena *a = rci_arena_of(p);
    if (a->kind == RCI_ARENA_HUGE)
        return (size_t)(a->huge_block + a->huge_size - (const char *)p);
    rci_pool *pool = rci_pool_of(a, p);
    if (pool->state == RCI_POOL_SPAN)
        return (size_t)(pool->start + pool->span_size - (const char *)p);
    char *start = rci_pool_block_start(pool, p);
    if (!start)
        return 0;
    return (size_t)(start + pool->block_size - (const char *)p);
}

size_t rci_default_usable(void *ctx, const void *p) {
    (void)ctx;
    if (p == NULL || !rci_arena_map_is_head((uintptr_t)p))
        return 0;
    rci_arena *a = rci_arena_of(p);
    if (a->magic != RCI_ARENA_MAGIC || !rci_arena_spans(a, p))
        return 0;
    if (rci_debug_owns(p))
        return rci_debug_usable(p);
    if (!valid_block(a, p))
        return 0;
    return rci_raw_usable(p);
}

static bool mul_overflows(size_t a, size_t b, size_t *out) {
    return __builtin_mul_overflow(a, b, out);
}

void *rci_default_calloc(void *ctx, size_t count, size_t size) {
    size_t total;
    if (mul_overflows(count, size, &total))
        return fail_enomem();
    void *p = rci_default_malloc(ctx, total);
    if (!p)
        return NULL;
    /* A huge block is a fresh mapping, already zero. */
    if (!(total > RC_SPAN_MAX && rci_arena_of(p)->kind == RCI_ARENA_HUGE && !rci_debug_owns(p)))
        memset(p, 0, total);
    return p;
}

void *rci_default_aligned(void *ctx, size_t alignment, size_t size) {
    (void)ctx;
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > RC_MAX_ALIGNMENT) {
        errno = EINVAL;
        return NULL;
    }
    if (size > PTRDIFF_MAX)
        return fail_enomem();
    if (atomic_load_explicit(&rci_debug_on, memory_order_relaxed))
        return rci_debug_malloc(size, alignment, 0);
    if (alignment <= RC_HEAP_ALIGNMENT)
        return malloc_nohook(size);
    return rci_raw_aligned(alignment, size, false);
}

/* Keep the block in place when the new size fits, unless it would leave more
 * than half of the block unused: then copying to a smaller block actually
 * gives memory back (pymalloc's rule, with a different ratio). A size that
 * maps to the block's own size class always stays. */
static bool fits_in_place(size_t usable, size_t size) {
    if (size > usable)
        return false;
    if (size >= usable / 2)
        return true;
    return usable <= RC_POOLED_MAX && rci_class_of(size) == rci_class_of(usable);
}

void *rci_heap_try_resize(rci_heap *h, void *p, size_t size) {
    rci_arena *a = rci_arena_of(p);
    if (a->kind != RCI_ARENA_HUGE || size <= RC_SPAN_MAX || (a->huge_flags & RCI_PF_DEBUG) ||
        p != a->huge_block)
        return NULL;
    size_t before = a->huge_size;
    void *q = rci_huge_resize(a, size);
    if (!q)
        return NULL;
    rci_stat_add(h, (long)rci_arena_of(q)->huge_size - (long)before);
    return q;
}

void *rci_default_realloc(void *ctx, void *p, size_t size) {
    if (p == NULL)
        return rci_default_malloc(ctx, size);
    if (!rci_arena_map_is_head((uintptr_t)p) || !rci_arena_spans(rci_arena_of(p), p)) {
        rci_report(RC_HEAP_ERR_FOREIGN, p, 0, 0,
                   "rc_realloc(%p): pointer was not allocated by this heap", p);
        errno = EINVAL;
        return NULL;
    }
    rci_arena *a = rci_arena_of(p);
    if (a->magic == RCI_ARENA_MAGIC && rci_debug_owns(p))
        return rci_debug_realloc(p, size);
    if (!valid_block(a, p)) {
        rci_report(RC_HEAP_ERR_INVALID, p, 0, 0,
                   "rc_realloc(%p): pointer is inside the heap but not the start of a live block", p);
        errno = EINVAL;
        return NULL;
    }
    rci_pool *rp = a->kind == RCI_ARENA_POOLS ? rci_pool_of(a, p) : NULL;
    if (rp && rp->state == RCI_POOL_SMALL && rp->heap == rci_tl_heap && rci_pool_block_start_ok(rp, p) &&
        ((rci_block *)p)->mark == rci_free_key && owner_finds_free(rci_tl_heap, rp, p)) {
        rci_report(RC_HEAP_ERR_DOUBLE_FREE, p, rp->block_size, 0,
                   "rc_realloc(%p): the block was freed before (use after free)", p);
        errno = EINVAL;
        return NULL;
    }
    if (size > PTRDIFF_MAX)
        return fail_enomem();
    size_t usable = rci_raw_usable(p);
    if (fits_in_place(usable, size))
        return p;
    /* A huge block grows or shrinks by moving page tables, not bytes. */
    void *moved = rci_heap_try_resize(rci_tl_heap, p, size);
    if (moved)
        return moved;
    void *q = rci_default_malloc(ctx, size);
    if (!q)
        return NULL;
    memcpy(q, p, size < usable ? size : usable);
    free_nohook(p);
    return q;
}

/* ---- the public API ---- */

void *rc_malloc(size_t size) {
    if (rci_unlikely(atomic_load_explicit(&rci_slow_mode, memory_order_relaxed))) {
        if (atomic_load_explicit(&rci_hooked, memory_order_acquire))
            return rci_allocator.malloc(rci_allocator.ctx, size);
        return rci_default_malloc(NULL, size);
    }
    return malloc_nohook(size);
}

void rc_free(void *p) {
    if (rci_unlikely(atomic_load_explicit(&rci_slow_mode, memory_order_relaxed))) {
        if (atomic_load_explicit(&rci_hooked, memory_order_acquire)) {
            rci_allocator.free(rci_allocator.ctx, p);
            return;
        }
    }
    free_nohook(p);
}

void *rc_calloc(size_t count, size_t size) {
    if (rci_unlikely(atomic_load_explicit(&rci_hooked, memory_order_acquire)))
        return rci_allocator.calloc(rci_allocator.ctx, count, size);
    return rci_default_calloc(NULL, count, size);
}

void *rc_realloc(void *p, size_t size) {
    if (rci_unlikely(atomic_load_explicit(&rci_hooked, memory_order_acquire)))
        return rci_allocator.realloc(rci_allocator.ctx, p, size);
    return rci_default_realloc(NULL, p, size);
}

void *rc_aligned_alloc(size_t alignment, size_t size) {
    if (rci_unlikely(atomic_load_explicit(&rci_hooked, memory_order_acquire)))
        return rci_allocator.aligned_alloc(rci_allocator.ctx, alignment, size);
    return rci_default_aligned(NULL, alignment, size);
}

size_t rc_usable_size(const void *p) {
    if (rci_unlikely(atomic_load_explicit(&rci_hooked, memory_order_acquire)))
        return rci_allocator.usable_size(rci_allocator.ctx, p);
    return rci_default_usable(NULL, p);
}

char *rc_strdup(const char *s) {
    if (!s) {
        errno = EINVAL;
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = rc_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void *rc_reallocarray(void *p, size_t count, size_t size) {
    size_t total;
    if (mul_overflows(count, size, &total))
        return fail_enomem();
    return rc_realloc(p, total);
}

int rc_heap_contains(const void *p) {
    return p != NULL && rci_arena_map_contains((uintptr_t)p);
}
