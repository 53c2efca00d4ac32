/* tlheap.c - thread-local heaps: creation, adoption of abandoned heaps,
 * hand-on at thread exit, collection, and fork safety.
 *
 * Lifecycle of a heap: created (from the OS, never freed) or adopted by a
 * thread on its first allocation -> owned while the thread runs -> abandoned
 * when the thread exits (pthread key destructor). An abandoned heap keeps its
 * live blocks and pools; other threads may still free into it (thread_free
 * and delayed_free are atomic). The next thread that needs a heap adopts the
 * most recently abandoned one, folds in what was freed meanwhile, and goes on.
 * rc_heap_collect(1) releases an abandoned heap that has become empty (no
 * arena, no pending free): its struct goes back to the OS. That is safe
 * because nothing can reach an empty heap: every pointer to a heap is held
 * by its thread, its arenas' headers and pool descriptors (all gone), the
 * global lists (it is unlinked under rci_g_lock, which every walker of
 * rci_g_heaps holds), or a thread in the middle of a remote free, which
 * happens only while the block it frees is still counted in a pool.
 */
#include "heap/alloc.h"
#include "heap/arena.h"
#include "heap/debug.h"
#include "heap/os/os.h"
#include "heap/pool.h"
#include "heap/stats.h"
#include "heap/tlheap.h"

#include <errno.h>
#include <string.h>

#define RCI_E5 &rci_pool_empty, &rci_pool_empty, &rci_pool_empty, &rci_pool_empty, &rci_pool_empty
#define RCI_E65 { RCI_E5, RCI_E5, RCI_E5, RCI_E5, RCI_E5, RCI_E5, RCI_E5, RCI_E5, RCI_E5, \
                  RCI_E5, RCI_E5, RCI_E5, RCI_E5 }
rci_heap rci_heap_empty = {
    .hot.direct = { RCI_E65, RCI_E65, RCI_E65, RCI_E65, RCI_E65, RCI_E65, RCI_E65, RCI_E65 },
};
_Static_assert(RCI_KINDS == 8, "rci_heap_empty.hot.direct initialiser has 8 kinds");
_Static_assert(RC_DIRECT_SLOTS == 65, "rci_heap_empty.hot.direct initialiser has 65 entries");
#undef RCI_E65
#undef RCI_E5

RCI_TLS rci_heap *rci_tl_heap = &rci_heap_empty;
pthread_mutex_t rci_g_lock = PTHREAD_MUTEX_INITIALIZER;
rci_heap *rci_g_heaps;
static rci_heap *g_abandoned;
static pthread_key_t g_heap_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static bool g_key_ok;


static void heap_abandon(void *arg);

static void atfork_prepare(void) {
    pthread_mutex_lock(&rci_g_lock);
    for (rci_heap *h = rci_g_heaps; h; h = h->all_next)
        pthread_mutex_lock(&h->lock);
}

static void atfork_parent(void) {
    for (rci_heap *h = rci_g_heaps; h; h = h->all_next)
        pthread_mutex_unlock(&h->lock);
    pthread_mutex_unlock(&rci_g_lock);
}

static void atfork_child(void) {
    /* Only the forking thread survives: every other owned heap is now
     * orphaned, so abandon it for adoption by the child's future threads. */
    rci_heap *self = rci_tl_heap;
    for (rci_heap *h = rci_g_heaps; h; h = h->all_next) {
        pthread_mutex_unlock(&h->lock);
        if (h != self && !h->abandoned) {
            h->abandoned = true;
            h->thread_id = 0;
            h->abandoned_next = g_abandoned;
            g_abandoned = h;
        }
    }
    if (self != &rci_heap_empty)
        self->thread_id = rci_os_thread_id();
    pthread_mutex_unlock(&rci_g_lock);
}

static void heap_once(void) {
    g_key_ok = pthread_key_create(&g_heap_key, heap_abandon) == 0;
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    rci_options_init();
}

void rci_heap_set_direct(rci_heap *h, unsigned kind, unsigned cls, rci_pool *pool) {
    rci_pool **direct = h->hot.direct[kind];
    if (cls < RC_NSMALL) {
        direct[cls + 1] = pool;
        if (cls == 0)
            direct[0] = pool;
    } else if (cls < RC_NSMALL + 4) {
        unsigned first = 33 + 8 * (cls - RC_NSMALL);
        for (unsigned s = first; s < first + 8; s++)
            direct[s] = pool;
    }
}

void rci_heap_update_direct(rci_heap *h, unsigned kind, unsigned cls) {
    rci_pool *head = h->lists[kind][cls].head;
    rci_heap_set_direct(h, kind, cls, head ? head : &rci_pool_empty);
}

static size_t heap_struct_size(void) {
    return (sizeof(rci_heap) + rci_os_page_size() - 1) & ~(rci_os_page_size() - 1);
}

rci_heap *rci_heap_new_struct(void) {
    /* Before any block can exist: the key never changes once blocks carry it. */
    rci_free_key_init();
    size_t size = heap_struct_size();
    void *mem;
    if (rci_os_alloc_aligned(size, rci_os_page_size(), &mem) != 0)
        return NULL;
    rci_heap *h = mem;
    for (unsigned k = 0; k < RCI_KINDS; k++)
        for (unsigned i = 0; i < RC_DIRECT_SLOTS; i++)
            h->hot.direct[k][i] = &rci_pool_empty;
    pthread_mutex_init(&h->lock, NULL);
    atomic_fetch_add(&rci_g_bytes_reserved, size);
    return h;
}

static RCI_NOINLINE rci_heap *heap_create_slow(void) {
    pthread_once(&g_once, heap_once);
    pthread_mutex_lock(&rci_g_lock);
    rci_heap *h = g_abandoned;
    if (h) {
        g_abandoned = h->abandoned_next;
        h->abandoned_next = NULL;
        h->abandoned = false;
    }
    pthread_mutex_unlock(&rci_g_lock);
    if (!h) {
        h = rci_heap_new_struct();
        if (!h)
            return NULL;
        pthread_mutex_lock(&rci_g_lock);
        h->all_next = rci_g_heaps;
        rci_g_heaps = h;
        pthread_mutex_unlock(&rci_g_lock);
    }
    h->thread_id = rci_os_thread_id();
    rci_tl_heap = h;
    if (g_key_ok)
        pthread_setspecific(g_heap_key, h);
    /* An adopted heap may have frees waiting. */
    rci_heap_collect_heap(h, false);
    return h;
}

rci_heap *rci_heap_get_or_create(void) {
    rci_heap *h = rci_tl_heap;
    if (rci_likely(h != &rci_heap_empty))
        return h;
    return heap_create_slow();
}

/* Fold in remote frees and give back every empty pool of h. Owner (or, for an
 * abandoned heap, the caller holding rci_g_lock) only. */
void rci_heap_collect_heap(rci_heap *h, bool force) {
    rci_heap_drain_delayed(h);
    if (atomic_load_explicit(&h->nsuspects, memory_order_acquire))
        rci_heap_check_suspects(h);
    for (unsigned kind = 0; kind < RCI_KINDS; kind++) {
        for (unsigned cls = 0; cls < RC_NCLASSES; cls++) {
            rci_pool_list *l = &h->lists[kind][cls];
            rci_pool *pool = l->head;
            while (pool) {
                rci_pool *next = pool->next;
                rci_pool_collect_remote(pool);
                if (atomic_load_explicit(&pool->used, memory_order_relaxed) == 0 &&
                    (force || pool != l->head || h->abandoned)) {
                    rci_pool_list_remove(l, pool);
                    pthread_mutex_lock(&h->lock);
                    rci_arena_give_pools(h, pool);
                    pthread_mutex_unlock(&h->lock);
                }
                pool = next;
            }
            rci_heap_update_direct(h, kind, cls);
        }
    }
    rci_stat_flush(h);
    if (force || h->abandoned) {
        pthread_mutex_lock(&h->lock);
        rci_heap_release_cached(h);
        pthread_mutex_unlock(&h->lock);
    }
}

/* The pages of h's free pools back to the OS (see rci_heap_decommit_free_pools). */
static void heap_decommit(rci_heap *h) {
    pthread_mutex_lock(&h->lock);
    rci_heap_decommit_free_pools(h);
    pthread_mutex_unlock(&h->lock);
}

static void heap_abandon(void *arg) {
    rci_heap *h = arg;
    if (!h || h == &rci_heap_empty)
        return;
    h->abandoned = true;
    rci_heap_collect_heap(h, true);
    heap_decommit(h);            /* an exited thread's free pools hold no one's data */
    rci_stat_flush(h);
    pthread_mutex_lock(&rci_g_lock);
    h->thread_id = 0;
    h->abandoned_next = g_abandoned;
    g_abandoned = h;
    pthread_mutex_unlock(&rci_g_lock);
    rci_tl_heap = &rci_heap_empty;
}

/* An abandoned heap holds nothing when it has no arena (pool arenas, the
 * cached one; a thread heap's huge blocks belong to no heap) and nothing is
 * pending for it. Caller has taken it off the abandoned stack. */
static bool heap_is_empty(rci_heap *h) {
    return h->narenas == 0 && h->all == NULL && h->cached_empty == NULL &&
           atomic_load(&h->delayed_free) == NULL && atomic_load(&h->nsuspects) == 0 &&
           atomic_load_explicit(&h->hot.stat_delta, memory_order_relaxed) == 0;
}

/* Unlink empty heap h from the global list and unmap it (see the top of
 * this file for why no pointer to it can remain). */
static void heap_release(rci_heap *h) {
    pthread_mutex_lock(&rci_g_lock);
    rci_heap **link = &rci_g_heaps;
    while (*link && *link != h)
        link = &(*link)->all_next;
    if (*link)
        *link = h->all_next;
    pthread_mutex_unlock(&rci_g_lock);
    pthread_mutex_destroy(&h->lock);
    size_t size = heap_struct_size();
    rci_os_free(h, size);
    atomic_fetch_sub(&rci_g_bytes_reserved, size);
}

void rc_heap_collect(int force) {
    rci_heap *h = rci_tl_heap;
    if (h != &rci_heap_empty)
        rci_heap_collect_heap(h, force != 0);
    if (force && atomic_load(&rci_debug_on))
        rci_debug_quarantine_flush();
    /* Abandoned heaps: take each off the stack while we work on it so that
     * no thread adopts it meanwhile. */
    pthread_mutex_lock(&rci_g_lock);
    rci_heap *list = g_abandoned;
    g_abandoned = NULL;
    pthread_mutex_unlock(&rci_g_lock);
    rci_heap *keep = NULL, *last = NULL, *next;
    for (rci_heap *a = list; a; a = next) {
        next = a->abandoned_next;
        rci_heap_collect_heap(a, true);
        if (force && heap_is_empty(a)) {
            heap_release(a);
            continue;
        }
        a->abandoned_next = NULL;
        if (last) last->abandoned_next = a; else keep = a;
        last = a;
    }
    if (keep) {
        pthread_mutex_lock(&rci_g_lock);
        last->abandoned_next = g_abandoned;
        g_abandoned = keep;
        pthread_mutex_unlock(&rci_g_lock);
    }
    /* Last, the pages of free pools in every heap: thread heaps, abandoned
     * ones and the runtimes' private heaps. Each heap's arenas change only
     * under its lock, so this is safe while their owners allocate. */
    pthread_mutex_lock(&rci_g_lock);
    for (rci_heap *any = rci_g_heaps; any; any = any->all_next)
        heap_decommit(any);
    pthread_mutex_unlock(&rci_g_lock);
}

