/* private.c - private heaps (see private.h): creation, destruction, walking,
 * and the slow paths that report to the tracing hooks. */
#include "heap/arena.h"
#include "heap/private.h"
#include "heap/stats.h"
#include "heap/tlheap.h"

#include <errno.h>
#include <string.h>

/* on a line of its own: read by every fast path, written only at start and stop */
_Alignas(64) const rci_pheap_hooks *_Atomic rci_pheap_hooks_on;

static rci_heap *g_free_private;   /* destroyed private heaps, for reuse; under rci_g_lock */

rci_heap *rci_pheap_new(void *owner) {
    rci_options_init();
    pthread_mutex_lock(&rci_g_lock);
    rci_heap *h = g_free_private;
    if (h)
        g_free_private = h->abandoned_next;
    pthread_mutex_unlock(&rci_g_lock);
    if (!h) {
        h = rci_heap_new_struct();
        if (!h)
            return NULL;
        h->is_private = true;
        pthread_mutex_lock(&rci_g_lock);
        h->all_next = rci_g_heaps;
        rci_g_heaps = h;
        pthread_mutex_unlock(&rci_g_lock);
    }
    h->abandoned_next = NULL;
    h->owner = owner;
    return h;
}

size_t rci_pheap_large_size(const void *block) {
    rci_arena *a = rci_arena_of(block);
    if (a->kind == RCI_ARENA_HUGE)
        return a->huge_size;
    return rci_pool_of(a, block)->span_size;
}

/* Walk the live blocks of one SMALL pool. A block is free when it is on the
 * free list or was never carved; every other carved block is live. */
static int visit_pool(rci_pool *pool, rci_block_visitor fn, void *arg) {
    uint64_t freebits[(RC_POOL_SIZE / RC_SMALL_STEP) / 64];
    size_t carved = (size_t)(pool->bump - pool->start) / pool->block_size;
    memset(freebits, 0, (carved + 63) / 64 * sizeof(uint64_t));
    for (rci_block *b = pool->free; b; b = rci_block_next(b)) {
        size_t i = (size_t)((char *)b - pool->start) / pool->block_size;
        freebits[i / 64] |= (uint64_t)1 << (i % 64);
    }
    for (size_t i = 0; i < carved; i++) {
        if (freebits[i / 64] & ((uint64_t)1 << (i % 64)))
            continue;
        int r = fn(pool->start + i * pool->block_size, pool->block_size, pool->kind, arg);
        if (r)
            return r;
    }
    return 0;
}

int rci_pheap_visit(rci_heap *h, rci_block_visitor fn, void *arg) {
    rci_heap_drain_delayed(h);
    rci_heap_check_suspects(h);
    for (rci_arena *a = h->all; a; a = a->all_next) {
        for (unsigned i = 0; i < RC_POOLS_PER_ARENA; i++) {
            rci_pool *pool = &a->pools[i];
            int r = 0;
            if (pool->state == RCI_POOL_SMALL) {
                rci_pool_collect_remote(pool);
                r = visit_pool(pool, fn, arg);
            } else if (pool->state == RCI_POOL_SPAN) {
                r = fn(pool->start, pool->span_size, pool->kind, arg);
            }
            if (r)
                return r;
        }
    }
    for (rci_arena *a = h->huge; a; a = a->next) {
        int r = fn(a->huge_block, a->huge_size, a->huge_kind, arg);
        if (r)
            return r;
    }
    return 0;
}

static const rci_pheap_hooks *hooks_now(void) {
    return atomic_load_explicit(&rci_pheap_hooks_on, memory_order_acquire);
}

struct live_count {
    size_t bytes;
    const rci_pheap_hooks *hooks;
};

static int count_live(void *block, size_t usable, unsigned kind, void *arg) {
    (void)kind;
    struct live_count *c = arg;
    c->bytes += usable;
    if (c->hooks)
        c->hooks->free(block);
    return 0;
}

void rci_pheap_destroy(rci_heap *h) {
    /* Whatever is still live is released with the arenas: take its bytes
     * out of the statistics, and tell the hooks, first (its addresses may
     * be handed out by another heap as soon as the arenas are gone). */
    struct live_count counted = { 0, hooks_now() };
    rci_pheap_visit(h, count_live, &counted);
    size_t live = counted.bytes;
    rci_stat_add(h, -(long)live);
    rci_stat_flush(h);
    pthread_mutex_lock(&h->lock);
    while (h->huge) {
        rci_arena *a = h->huge;
        h->huge = a->next;
        a->heap = NULL;
        a->client = NULL;
        atomic_fetch_sub(&rci_g_huge_blocks, 1);
        atomic_fetch_sub(&rci_g_huge_bytes, a->huge_size);
        rci_arena_release(a);
    }
    while (h->all) {
        rci_arena *a = h->all;
        h->all = a->all_next;
        rci_arena_release(a);
    }
    rci_heap_release_cached(h);
    h->usable = NULL;
    h->narenas = 0;
    for (unsigned k = 0; k < RCI_KINDS; k++) {
        for (unsigned c = 0; c < RC_NCLASSES; c++)
            h->lists[k][c].head = h->lists[k][c].tail = NULL;
        for (unsigned i = 0; i < RC_DIRECT_SLOTS; i++)
            h->hot.direct[k][i] = &rci_pool_empty;
    }
    atomic_store(&h->delayed_free, NULL);
    atomic_store(&h->nsuspects, 0);   /* their blocks went with the arenas */
    h->owner = NULL;
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_lock(&rci_g_lock);
    h->abandoned_next = g_free_private;
    g_free_private = h;
    pthread_mutex_unlock(&rci_g_lock);
}

void *rci_pheap_settle_slow(rci_heap *h, void *block) {
    rci_stat_flush(h);
    return block;
}

void rci_pheap_free_after(rci_heap *h, rci_pool *pool, uint32_t used, long stat_delta) {
    if (rci_stat_due(stat_delta))
        rci_stat_flush(h);
    /* checked here too, to spare a call in the commonest case: one object
     * made and dropped over and over */
    if (used == 0 && !rci_pool_stays_when_empty(h, pool))
        rci_free_local_slow(h, pool);
}

/* ---- tracing ---- */

void rci_pheap_set_hooks(const rci_pheap_hooks *hooks) {
    atomic_store_explicit(&rci_pheap_hooks_on, hooks, memory_order_release);
}

size_t rci_pheap_origin(const void *p, const char *indent, FILE *out) {
    const rci_pheap_hooks *k = hooks_now();
    return k && k->origin ? k->origin(p, indent, out) : 0;
}

void rci_pheap_typed_slow(const void *block, const char *name) {
    const rci_pheap_hooks *k = hooks_now();
    if (k && k->typed)
        k->typed(block, name);
}

/* The marked functions below call the hooks with work left after the call,
 * so that their frame is on the stack when the listener walks it (a tail
 * call would put the client's frame where theirs should be). */

RCI_ALLOC_FRAME void *rci_pheap_alloc_slow(rci_heap *h, size_t size, unsigned kind) {
    void *p = rci_heap_alloc_kind(h, size, kind);
    const rci_pheap_hooks *k = hooks_now();
    if (p && k && !k->alloc(p, rci_pheap_block_size(p))) {
        rci_heap_free_owned(h, p);
        errno = ENOMEM;
        return NULL;
    }
    __asm__ volatile("" ::: "memory");
    return p;
}

RCI_ALLOC_FRAME void *rci_pheap_try_resize(rci_heap *h, void *block, size_t size) {
    size_t old = rci_pheap_block_size(block);
    void *p = rci_heap_try_resize(h, block, size);
    const rci_pheap_hooks *k = hooks_now();
    if (p && k && (p != block || rci_pheap_block_size(p) != old)) {
        /* the old block is gone already: a new trace that cannot be stored
         * leaves the block untraced, as if allocated before registration */
        k->free(block);
        k->alloc(p, rci_pheap_block_size(p));
    }
    __asm__ volatile("" ::: "memory");
    return p;
}

void rci_pheap_free_slow(rci_heap *h, void *block) {
    const rci_pheap_hooks *k = hooks_now();
    if (k)
        k->free(block);
    rci_heap_free_owned(h, block);
}

void rci_pheap_retire_slow(void *block) {
    const rci_pheap_hooks *k = hooks_now();
    if (k)
        k->free(block);
}

void *rci_pheap_block_start(const void *p) {
    if (!p || !rci_arena_map_is_head((uintptr_t)p) || !rci_pheap_client_of(p))
        return NULL;
    rci_pool *pool = rci_pool_at(p);
    if (pool->state == RCI_POOL_SMALL)
        return rci_pool_block_start(pool, p);
    if (pool->state == RCI_POOL_SPAN)
        return (const char *)p >= pool->start ? pool->start : NULL;
    rci_arena *a = rci_arena_of(p);
    if (a->kind == RCI_ARENA_HUGE)
        return a->huge_block;
    return NULL;
}
