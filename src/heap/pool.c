/* pool.c - pools: initialisation, lazy carving, folding remote frees back in,
 * and the doubly-linked class lists.
 *
 * A SMALL pool's blocks are, at any time, exactly one of: handed out (counted
 * in `used`), on `free`, on `thread_free` or the heap's delayed list (also
 * counted in `used`: the owner has not seen them yet), or not yet carved
 * (between `bump` and the end). Carving is lazy so that a new pool touches
 * its pages only as they are needed.
 */
#include "heap/arena.h"
#include "heap/os/os.h"
#include "heap/pool.h"
#include "heap/tlheap.h"

#include <pthread.h>
#include <string.h>

/* The sentinel of empty direct slots: no free block, and a flag so that no
 * fast free takes it for a pool of its own. */
rci_pool rci_pool_empty = { .flags_hot = RCI_PF_FULL, .state = RCI_POOL_FREE };

/* ---- the free key (see rci_block in pool.h) ---- */

uintptr_t rci_free_key = (uintptr_t)0x9E3779B97F4A7C15u | RCI_FREE_WORD_BITS;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;

static void free_key_once(void) {
    /* splitmix64 finaliser over whatever entropy the OS gives; any value
     * with the top byte all ones works (never 0, and the second word of a
     * free block reads as freed to a client header there, as the first
     * does), randomness in the other 56 bits only makes an accidental match
     * in user data (which costs a walk of the free lists, never a false
     * report) rarer. */
    uint64_t x = rci_os_random();
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    x ^= x >> 31;
    rci_free_key = (uintptr_t)x | RCI_FREE_WORD_BITS;   /* both words of a free block read so */
}

void rci_free_key_init(void) {
    pthread_once(&g_key_once, free_key_once);
}


void rci_pool_init_small(rci_pool *pool, rci_arena *a, rci_heap *h, unsigned cls, unsigned kind) {
    char *base = rci_pool_base(a, pool);
    char *start = base;
    if (pool == &a->pools[0])
        start = (char *)a + rci_arena_header_size();
    uint32_t bsize = rci_class_size[cls];
    pool->free = NULL;
    pool->heap = h;
    pool->flags_hot = 0;
    rci_pool_set_flags(pool, (!h->is_private && kind == RCI_KIND_DEBUG) ? RCI_PF_DEBUG : 0);
    pool->kind = (uint8_t)kind;
    pool->state = RCI_POOL_SMALL;
    pool->class_idx = (uint8_t)cls;
    pool->span_pools = 1;
    pool->block_size = bsize;
    pool->block_size_hot = bsize;
    atomic_store_explicit(&pool->used, 0, memory_order_relaxed);
    pool->capacity = (uint32_t)((size_t)(base + RC_POOL_SIZE - start) / bsize);
    pool->start = start;
    pool->div_magic_shared = UINT32_MAX / bsize + 1;
    /* 0 for a flagged (debug) pool: the owner's fast free then also stands
     * for "no flag but FULL" (see free_nohook) */
    pool->div_magic = (pool->flags_hot & (uint8_t)~RCI_PF_FULL) ? 0 : pool->div_magic_shared;
    pool->start_mul = (uint32_t)(uintptr_t)start * pool->div_magic;
    pool->bump = start;
    atomic_store_explicit(&pool->thread_free, 0, memory_order_relaxed);
    pool->next = pool->prev = NULL;
    pool->span_size = 0;
}

size_t rci_pool_collect_remote(rci_pool *pool) {
    uintptr_t tf = atomic_load_explicit(&pool->thread_free, memory_order_relaxed);
    if ((tf & ~RCI_TF_NOTIFY) == 0)
        return 0;
    /* Keep the NOTIFY bit as it is; take the whole list. */
    while (!atomic_compare_exchange_weak_explicit(&pool->thread_free, &tf, tf & RCI_TF_NOTIFY,
                                                  memory_order_acquire, memory_order_relaxed)) {
    }
    rci_block *list = (rci_block *)(tf & ~RCI_TF_NOTIFY);
    size_t n = 1;
    rci_block *last = list;
    while (rci_block_next(last)) {
        last = rci_block_next(last);
        n++;
    }
    rci_block_set_next(last, pool->free);
    pool->free = list;
    uint32_t used = atomic_load_explicit(&pool->used, memory_order_relaxed);
    atomic_store_explicit(&pool->used, used - (uint32_t)n, memory_order_relaxed);
    return n;
}

static bool pool_carve(rci_pool *pool) {
    char *end = pool->start + (size_t)pool->capacity * pool->block_size;
    if (pool->bump >= end)
        return false;
    size_t bsize = pool->block_size;
    size_t n = RC_CARVE_BYTES / bsize;
    if (n < 4)
        n = 4;
    size_t left = (size_t)(end - pool->bump) / bsize;
    if (n > left)
        n = left;
    char *b = pool->bump;
    for (size_t i = 0; i + 1 < n; i++, b += bsize)
        rci_block_set_next((rci_block *)(void *)b, (rci_block *)(void *)(b + bsize));
    rci_block_set_next((rci_block *)(void *)b, pool->free);
    pool->free = (rci_block *)(void *)pool->bump;
    pool->bump += n * bsize;
    return true;
}

bool rci_pool_refill(rci_pool *pool) {
    if (pool->free)
        return true;
    if (rci_pool_collect_remote(pool))
        return true;
    return pool_carve(pool);
}

char *rci_pool_block_start(rci_pool *pool, const void *p) {
    if (pool->state != RCI_POOL_SMALL)
        return NULL;
    /* The end of the pool's blocks, not `bump`: other threads call this on
     * live blocks while the owner carves. */
    const char *c = p;
    if (c < pool->start || c >= pool->start + (size_t)pool->capacity * pool->block_size)
        return NULL;
    size_t off = (size_t)(c - pool->start);
    return pool->start + off - off % pool->block_size;
}

void rci_pool_list_push_front(rci_pool_list *l, rci_pool *p) {
    p->prev = NULL;
    p->next = l->head;
    if (l->head) l->head->prev = p; else l->tail = p;
    l->head = p;
}

void rci_pool_list_push_back(rci_pool_list *l, rci_pool *p) {
    p->next = NULL;
    p->prev = l->tail;
    if (l->tail) l->tail->next = p; else l->head = p;
    l->tail = p;
}

void rci_pool_list_remove(rci_pool_list *l, rci_pool *p) {
    if (p->prev) p->prev->next = p->next; else l->head = p->next;
    if (p->next) p->next->prev = p->prev; else l->tail = p->prev;
    p->next = p->prev = NULL;
}
