/* tlheap.h - heaps (tlheap.c): thread-local heaps, and the struct that
 * private heaps (private.h) share with them.
 *
 * A heap owns arenas and their pools. Only its owner carves pools,
 * allocates, and frees directly into them; another thread frees a block by
 * pushing it atomically on the pool's thread_free list, or, when the owner
 * has marked the pool full (it is then on no list the owner scans), on the
 * heap's delayed_free list; the owner folds both back in its slow paths.
 *
 * A thread-local heap (one per thread, found through rci_tl_heap) whose
 * thread exits is abandoned, not destroyed: its blocks stay valid and it is
 * handed whole to the next thread that needs a heap. A private heap is owned
 * by a client and used by one thread at a time. */
#ifndef RC_HEAP_TLHEAP_H
#define RC_HEAP_TLHEAP_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <pthread.h>

#include "heap/base.h"
#include "heap/pool.h"

/* Blocks that a thread other than the owner freed while their mark held the
 * key: the owner decides (only it may walk its free lists), see alloc.c. */
#define RCI_SUSPECTS 32

/* Fields are owned by the thread using the heap, except those marked
 * otherwise. `lock` is taken by the owner around changes to its arenas and
 * pools (rare: the slow path), and by readers of statistics. */
struct rci_heap {
    rci_heap_hot hot;                          /* first: see rci_heap_hot_of */
    rci_pool_list lists[RCI_KINDS][RC_NCLASSES]; /* pools with room, head is current */
    _Atomic(rci_block *) delayed_free;         /* any thread pushes; owner drains */
    rci_arena *usable;                         /* arenas with a free pool, ascending nfree */
    rci_arena *all;                            /* every POOLS arena of this heap */
    rci_arena *cached_empty;                   /* one empty arena kept for reuse */
    rci_arena *huge;                           /* private heaps: their huge blocks */
    size_t narenas;
    pthread_mutex_t lock;
    uint64_t thread_id;                        /* 0 when abandoned or private */
    bool abandoned;
    bool is_private;
    void *owner;                               /* private heaps: the client's pointer */
    rci_heap *all_next;                        /* global list (rci_g_heaps), under rci_g_lock */
    rci_heap *abandoned_next;                  /* abandoned or free-private stack, under rci_g_lock */
    _Atomic uint32_t nsuspects;                /* entries in suspects[]; written under lock */
    void *suspects[RCI_SUSPECTS];              /* under lock */
};
_Static_assert(offsetof(rci_heap, hot) == 0, "rci_heap_hot_of casts a heap to its hot part");

extern rci_heap rci_heap_empty RCI_HIDDEN; /* sentinel heap of threads without one */
extern RCI_TLS rci_heap *rci_tl_heap RCI_HIDDEN; /* the calling thread's heap */
extern pthread_mutex_t rci_g_lock RCI_HIDDEN; /* heap list, abandoned list, huge stats */
extern rci_heap *rci_g_heaps RCI_HIDDEN; /* every heap, thread-local and private */

/* An emptied pool that is the current pool of its class (the head of its
 * list) stays where it is (owner only). A full pool is on no list, and never
 * empties while full: all its blocks (at least 4) were handed out, and the
 * first one freed takes it off the full state. */
RCI_INLINE bool rci_pool_stays_when_empty(rci_heap *h, rci_pool *pool) {
    return h->lists[pool->kind][pool->class_idx].head == pool;
}

rci_heap *rci_heap_get_or_create(void);                /* NULL on ENOMEM */
rci_heap *rci_heap_new_struct(void);              /* zeroed, direct[] set; NULL on ENOMEM */
void rci_heap_drain_delayed(rci_heap *h);
/* Point the direct slots of size class cls at its list head (or the empty
 * sentinel). */
void rci_heap_update_direct(rci_heap *h, unsigned kind, unsigned cls);
/* Point the direct slots of a size class at pool (see tlheap.c). */
void rci_heap_set_direct(rci_heap *h, unsigned kind, unsigned cls, rci_pool *pool);
void rci_heap_collect_heap(rci_heap *h, bool force);

#endif /* RC_HEAP_TLHEAP_H */
