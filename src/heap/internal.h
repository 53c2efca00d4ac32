/* internal.h - the heap's data model, shared by the files of src/heap/.
 *
 * Memory comes from the OS in arenas of RC_ARENA_SIZE bytes, aligned to their
 * size. The first bytes of an arena hold its header (rci_arena), which holds
 * one descriptor (rci_pool) per pool of RC_POOL_SIZE bytes; pool 0 starts
 * after the header. Given any pointer p into an arena:
 *
 *     arena = p & ~RC_ARENA_MASK
 *     pool  = &arena->pools[(p - arena) >> RC_POOL_SHIFT]
 *
 * so freeing needs no lookup table. A global bitmap (the arena map) records
 * which arena-sized chunks of the address space are ours, so that a foreign
 * pointer is recognised before its "header" is read.
 *
 * Arenas of kind RCI_ARENA_POOLS belong to one thread-local heap (rci_heap):
 * only the owning thread carves pools out of them, allocates from their pools
 * and frees into them directly. Another thread frees a block by pushing it
 * atomically on the pool's thread_free list, or, when the owner has marked the
 * pool full (it is then on no list the owner scans), on the heap's
 * delayed_free list; the owner folds both back in its slow paths.
 *
 * Arenas of kind RCI_ARENA_HUGE hold exactly one block larger than
 * RC_SPAN_MAX and are unmapped when it is freed, by whichever thread.
 *
 * A heap whose thread exits is abandoned, not destroyed: its blocks stay valid
 * and it is handed whole to the next thread that needs a heap. Heaps are never
 * returned to the OS, so a pointer to one stays valid for the process.
 */
#ifndef RC_HEAP_INTERNAL_H
#define RC_HEAP_INTERNAL_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recycle/heap.h"
#include "heap/config.h"
#include "heap/sizeclass.h"

#if defined(__GNUC__) || defined(__clang__)
#define rci_likely(x)   __builtin_expect(!!(x), 1)
#define rci_unlikely(x) __builtin_expect(!!(x), 0)
#define RCI_NOINLINE    __attribute__((noinline))
#define RCI_INLINE      static inline __attribute__((always_inline))
#define RCI_TLS         __thread __attribute__((tls_model("initial-exec")))
#define RCI_HIDDEN      __attribute__((visibility("hidden")))
#else
#define RCI_HIDDEN
#define rci_likely(x)   (x)
#define rci_unlikely(x) (x)
#define RCI_NOINLINE
#define RCI_INLINE      static inline
#define RCI_TLS         _Thread_local
#endif

#define RCI_ARENA_MAGIC 0x52434152u /* "RCAR" */

/* A free block: the free-list link, then the free mark. The mark word holds
 * rci_free_key while the block is free (on any free list of its pool or
 * heap) and is cleared when the block is handed out, so a block that is
 * freed while its mark equals the key is either already free or live with
 * user data that happens to equal the key; a scan of the free lists tells
 * which (see "Release-mode free checks" in alloc.c). Blocks are at least 16
 * bytes, so both words always exist.
 *
 * The link is stored complemented (read and written only through
 * rci_block_next / rci_block_set_next; one instruction each way). Heap
 * addresses are below 2^56, so the top byte of every free block's first
 * word, NULL link included, is all ones: RCI_FREE_WORD_BITS. A client
 * whose live blocks start with a header of its own can give one of those
 * bits the meaning "freed" and so recognise a late use of a freed block
 * without debug mode (the object layer does: its RCO_F_FREED). */
typedef struct rci_block {
    uintptr_t link;
    uintptr_t mark;
} rci_block;
#define RCI_FREE_WORD_BITS (~(uintptr_t)0 << 56)
static inline rci_block *rci_block_next(const rci_block *b) {
    return (rci_block *)~b->link;
}
static inline void rci_block_set_next(rci_block *b, const rci_block *next) {
    b->link = ~(uintptr_t)next;
}
typedef struct rci_heap rci_heap;
typedef struct rci_arena rci_arena;

/* pool->state */
enum {
    RCI_POOL_FREE = 0,    /* in its arena's free bitmap */
    RCI_POOL_SMALL,       /* serves a size class */
    RCI_POOL_SPAN,        /* first pool of a large block of span_pools pools */
    RCI_POOL_SPAN_TAIL    /* a later pool of such a span */
};

/* pool->flags: any bit set sends rc_free to the generic path. */
enum {
    RCI_PF_FULL    = 1u << 0, /* unlinked from its class list; thread_free has NOTIFY */
    RCI_PF_DEBUG   = 1u << 1, /* blocks carry debug headers */
    RCI_PF_SPAN    = 1u << 2, /* a large block, not a size class */
    RCI_PF_ALIGNED = 1u << 3  /* some block was handed out at an interior offset */
};

/* Low bit of pool->thread_free: the owner is not looking at this pool, so a
 * remote free must go to the heap's delayed_free list instead. */
#define RCI_TF_NOTIFY ((uintptr_t)1)

/* A pool descriptor spans three cache lines (and a spare fourth, for a
 * power-of-two size), grouped by who writes them, so
 * that a thread freeing remotely does not steal the owner's hot line:
 *   line 0: the owner's, touched by every malloc and free (free list, used,
 *           and a copy of the flags that also holds FULL);
 *   line 1: read by any thread freeing a block, written only when the pool
 *           changes role (heap, flags, state, sizes);
 *   line 2: thread_free, written by remote frees (CAS) and the owner.
 * The owner's fast paths touch line 0 and the arena header only. */
typedef struct rci_pool {
    /* line 0: owner only, hot */
    _Alignas(64) rci_block *free;  /* blocks ready to hand out */
    _Atomic uint32_t used;        /* blocks handed out, remote frees pending included */
    uint32_t block_size_hot;      /* == block_size, for the fast paths */
    uint8_t flags_hot;            /* == flags | RCI_PF_FULL when full; 0: fast free */
    char *bump;                   /* first never-carved block (SMALL) */
    struct rci_pool *next, *prev; /* class list of the owner */
    uint32_t start_mul;           /* (uint32_t)start * div_magic; see rci_pool_block_start_ok */
    uint32_t div_magic;           /* ceil(2^32 / block_size) for SMALL without flags
                                     (FULL aside), 0 otherwise */
    /* line 1: read-mostly */
    _Alignas(64) rci_heap *heap;  /* owner; fixed while any block is live */
    _Atomic uint8_t flags;        /* RCI_PF_* except FULL; read by any thread */
    uint8_t state;                /* RCI_POOL_* */
    uint8_t class_idx;            /* size class when state == SMALL */
    uint8_t span_pools;           /* pools in the span when state == SPAN */
    uint8_t kind;                 /* block kind (see RCI_KINDS) */
    uint32_t block_size;          /* bytes per block (SMALL) */
    uint32_t capacity;            /* blocks the pool can hold */
    char *start;                  /* first block */
    size_t span_size;             /* usable bytes of the large block (SPAN) */
    uint32_t div_magic_shared;    /* ceil(2^32 / block_size) for SMALL, 0 otherwise;
                                     for threads freeing remotely */
    /* line 2: shared with remote freeing threads */
    _Alignas(64) _Atomic uintptr_t thread_free; /* remote frees: block list | RCI_TF_NOTIFY */
    /* line 3: unused. A power-of-two descriptor makes finding the pool of a
     * pointer an and plus a shift (every free does it) instead of a
     * multiply by 3 and a shift; it costs 4 KiB of pool 0 per 4 MiB arena. */
    _Alignas(64) char spare[64];
} rci_pool;
_Static_assert(sizeof(rci_pool) == 256, "pool descriptor is four cache lines");
_Static_assert(offsetof(rci_pool, div_magic) + sizeof(uint32_t) <= 64,
               "the owner's fields fit in line 0");

/* Is p the first byte of a block of its pool? With d = block_size and
 * c = ceil(2^32 / d), an offset n < 2^16 is a multiple of d exactly when
 * (uint32_t)(n * c) < c (d <= 2^14 makes the rounding error too small to
 * matter: n * d < 2^32). Pools that are not SMALL have c = 0, so every
 * pointer into them fails; so do SMALL pools with a flag (debug, aligned)
 * in the _hot form. One multiply instead of a division keeps the
 * check in the free fast path. A pointer into the arena header (before the
 * first block of pool 0) wraps to a huge offset and is not caught reliably;
 * the heap never hands such pointers out. The _hot form reads line 0 only
 * (the owner's fast path), the other line 1 (remote frees). */
RCI_INLINE bool rci_pool_block_start_ok_hot(const rci_pool *pool, const void *p) {
    /* (p - start) * c == p * c - start * c modulo 2^32, and only the low 32
     * bits of p matter: p - start < 2^16 for p in the pool */
    uint32_t x = (uint32_t)(uintptr_t)p * pool->div_magic - pool->start_mul;
    return x < pool->div_magic;
}
RCI_INLINE bool rci_pool_block_start_ok(const rci_pool *pool, const void *p) {
    uint32_t off = (uint32_t)((uintptr_t)p - (uintptr_t)pool->start);
    return (uint32_t)(off * pool->div_magic_shared) < pool->div_magic_shared;
}

enum { RCI_ARENA_POOLS = 1, RCI_ARENA_HUGE = 2 };

struct rci_arena {
    uint32_t magic;               /* RCI_ARENA_MAGIC */
    uint8_t kind;                 /* RCI_ARENA_* */
    uint8_t huge_flags;           /* RCI_PF_DEBUG for a debug huge block */
    uint8_t huge_kind;            /* HUGE: block kind */
    uint32_t nfree;               /* pools free (== popcount(free_mask)) */
    uint64_t free_mask;           /* bit i: pool i is free */
    rci_heap *heap;               /* owner (POOLS; HUGE of a private heap, else NULL) */
    void *client;                 /* heap->owner, one load closer (NULL: thread heap) */
    rci_arena *next, *prev;       /* owner's usable list, ascending nfree; HUGE: private heap's list */
    rci_arena *all_next, *all_prev; /* owner's list of all its arenas */
    size_t map_size;              /* bytes mapped (HUGE: whole mapping) */
    char *huge_block;             /* HUGE: the block's address */
    size_t huge_size;             /* HUGE: usable bytes from huge_block */
    rci_pool pools[RC_POOLS_PER_ARENA];
};

/* pool->flags (line 1) holds DEBUG, SPAN and ALIGNED, which other threads
 * read; they do not change while a block they describe is live. The owner
 * keeps the same bits plus FULL in flags_hot (line 0). Set both together. */
#define RCI_FLAGS(p) atomic_load_explicit(&(p)->flags, memory_order_relaxed)
#define RCI_FLAGS_SET(p, v)                                                          \
    do {                                                                             \
        uint8_t rci_v_ = (uint8_t)(v);                                               \
        atomic_store_explicit(&(p)->flags, (uint8_t)(rci_v_ & ~RCI_PF_FULL),         \
                              memory_order_relaxed);                                 \
        (p)->flags_hot = (uint8_t)(rci_v_ | ((p)->flags_hot & RCI_PF_FULL));         \
    } while (0)
#define RCI_FULL_SET(p) ((p)->flags_hot |= RCI_PF_FULL)
#define RCI_FULL_CLEAR(p) ((p)->flags_hot &= (uint8_t)~RCI_PF_FULL)
#define RCI_IS_FULL(p) (((p)->flags_hot & RCI_PF_FULL) != 0)

typedef struct rci_pool_list { rci_pool *head, *tail; } rci_pool_list;

/* Blocks of a heap come in kinds; each pool serves one (size class, kind).
 * Thread heaps use kind 0 for plain blocks and RCI_KIND_DEBUG for debug
 * blocks. Private heaps (see private.h) let their owner choose the meaning,
 * e.g. the object layer keeps one kind per object header layout, so that a
 * walk over the heap knows how to read each block. */
#define RCI_KINDS 8
#define RCI_KIND_DEBUG 1

/* Blocks that a thread other than the owner freed while their mark held the
 * key: the owner decides (only it may walk its free lists), see alloc.c. */
#define RCI_SUSPECTS 32

/* A heap: thread-local (one per thread, found through rci_tl_heap) or private
 * (owned by a client such as an object runtime, used by one thread at a
 * time). Fields are owned by the thread using the heap, except those marked
 * otherwise. `lock` is taken by the owner around changes to its arenas and
 * pools (rare: the slow path), and by readers of statistics. */
struct rci_heap {
    /* direct[kind][(size + 15) / 16]: current pool for that size (size <=
     * 1024); never NULL (an empty sentinel pool sends malloc to the slow path). */
    rci_pool *direct[RCI_KINDS][RC_DIRECT_SLOTS];
    rci_pool_list lists[RCI_KINDS][RC_NCLASSES]; /* pools with room, head is current */
    _Atomic(rci_block *) delayed_free;         /* any thread pushes; owner drains */
    /* bytes_in_use not yet folded into rci_g_bytes_in_use_signed; written by
     * the owner only (relaxed load + store, no RMW), read by statistics. */
    _Atomic long stat_delta_shared;
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
    rci_heap *all_next;                        /* global list (g_heaps), under g_lock */
    rci_heap *abandoned_next;                  /* abandoned or free-private stack, under g_lock */
    _Atomic uint32_t nsuspects;                /* entries in suspects[]; written under lock */
    void *suspects[RCI_SUSPECTS];              /* under lock */
};

/* ---- globals (alloc.c / tlheap.c) ---- */
extern rci_pool rci_pool_empty;                /* sentinel: free == NULL, flags != 0 */
extern rci_heap rci_heap_empty;                /* sentinel heap of threads without one */
extern RCI_TLS rci_heap *rci_tl_heap;
extern _Atomic int rci_slow_mode;              /* hooks installed or debug mode on */
extern _Atomic int rci_debug_on;
extern pthread_mutex_t rci_g_lock;             /* heap list, abandoned list, huge stats */
extern rci_heap *rci_g_heaps;
extern _Atomic long rci_g_bytes_in_use_signed;  /* flushed part of bytes in use */
extern _Atomic size_t rci_g_peak;
extern _Atomic size_t rci_g_arenas_allocated, rci_g_arenas_freed, rci_g_arenas_peak;
extern _Atomic size_t rci_g_huge_blocks, rci_g_huge_bytes, rci_g_bytes_reserved;
/* The free mark (see rci_block): random, never 0, set once before the first
 * heap exists and constant afterwards. */
extern uintptr_t rci_free_key RCI_HIDDEN;   /* hidden: one PC-relative load, no GOT */
void rci_free_key_init(void);                  /* idempotent */

/* ---- arena map (arena.c) ---- */
extern _Atomic uint8_t rci_arena_map_head[RC_MAP_CHUNKS / 8];

RCI_INLINE bool rci_arena_map_is_head(uintptr_t addr) {
    uintptr_t idx = addr >> RC_ARENA_SHIFT;
    if (rci_unlikely(idx >= RC_MAP_CHUNKS))
        return false;
    return (atomic_load_explicit(&rci_arena_map_head[idx >> 3], memory_order_relaxed)
            >> (idx & 7)) & 1;
}
bool rci_arena_map_contains(uintptr_t addr);

RCI_INLINE rci_arena *rci_arena_of(const void *p) {
    return (rci_arena *)((uintptr_t)p & ~(uintptr_t)RC_ARENA_MASK);
}
/* Does arena a's mapping cover p? Always for pool arenas (they fill their
 * chunk); a huge mapping may end before its chunk does, and the OS may put
 * someone else's mapping in the rest. */
RCI_INLINE bool rci_arena_spans(const rci_arena *a, const void *p) {
    return (uintptr_t)p - (uintptr_t)a < a->map_size;
}
RCI_INLINE rci_pool *rci_pool_of(rci_arena *a, const void *p) {
    /* (p & RC_ARENA_MASK) >> RC_POOL_SHIFT << 8, as one and and one shift */
    uintptr_t off = ((uintptr_t)p & RC_ARENA_MASK & ~(uintptr_t)(RC_POOL_SIZE - 1)) >>
                    (RC_POOL_SHIFT - 8);
    return (rci_pool *)(void *)((char *)a->pools + off);
}
_Static_assert(sizeof(rci_pool) == 1u << 8, "rci_pool_of scales by 256");
RCI_INLINE char *rci_pool_base(rci_arena *a, const rci_pool *pool) {
    return (char *)a + ((size_t)(pool - a->pools) << RC_POOL_SHIFT);
}

/* ---- hot inline helpers (alloc.c uses them; so does private.h) ---- */

void rci_stat_flush(rci_heap *h);

RCI_INLINE void rci_stat_add_inline(rci_heap *h, long delta) {
    long d = atomic_load_explicit(&h->stat_delta_shared, memory_order_relaxed) + delta;
    atomic_store_explicit(&h->stat_delta_shared, d, memory_order_relaxed);
    if (rci_unlikely(d > RC_STAT_FLUSH_BYTES || d < -RC_STAT_FLUSH_BYTES))
        rci_stat_flush(h);
}

/* An emptied pool that is the current pool of its class (the head of its
 * list, not marked full) stays where it is (owner only). */
RCI_INLINE bool rci_pool_stays_when_empty(rci_heap *h, rci_pool *pool) {
    return !(RCI_FLAGS(pool) & RCI_PF_FULL) && h->lists[pool->kind][pool->class_idx].head == pool;
}

/* Pop a block from a pool whose free list is not empty (owner only). */
RCI_INLINE void *rci_pool_pop(rci_heap *h, rci_pool *pool) {
    rci_block *b = pool->free;
    rci_block *next = rci_block_next(b);
    pool->free = next;
    b->mark = 0;   /* a live block never carries the key unless its user writes it */
    /* The next block of this pool is likely cold (freed long ago): start
     * loading it now, so the next allocation does not wait for it. */
    __builtin_prefetch(next, 1, 3);
    uint32_t used = atomic_load_explicit(&pool->used, memory_order_relaxed);
    atomic_store_explicit(&pool->used, used + 1, memory_order_relaxed);
    rci_stat_add_inline(h, (long)pool->block_size_hot);
    return b;
}

/* ---- arena.c ---- */
size_t rci_arena_header_size(void);
rci_arena *rci_arena_new(rci_heap *h);                 /* NULL on ENOMEM */
void rci_arena_release(rci_arena *a);                  /* back to the OS */
/* npools free pools in a row (span: never pool 0, which holds the header). */
rci_pool *rci_arena_take_pools(rci_heap *h, unsigned npools, bool span); /* NULL on ENOMEM */
void rci_arena_give_pools(rci_heap *h, rci_pool *first);      /* state SMALL or SPAN */
/* A huge block of size bytes whose address + skew is a multiple of
 * alignment (skew 0: the block itself is aligned); NULL on ENOMEM. */
void *rci_huge_alloc(rci_heap *h, size_t size, size_t alignment, size_t skew, unsigned kind);
/* Resize huge block p (arena a) to size > RC_SPAN_MAX by remapping, never
 * copying; returns the block's (possibly new) address, or NULL with the
 * block untouched. */
void *rci_huge_resize(rci_arena *a, size_t size);
void rci_huge_free(rci_arena *a);
void rci_heap_release_cached(rci_heap *h);

/* ---- pool.c ---- */
void rci_pool_init_small(rci_pool *pool, rci_arena *a, rci_heap *h, unsigned cls, unsigned kind);
size_t rci_pool_collect_remote(rci_pool *pool);       /* owner: fold thread_free in */
bool rci_pool_refill(rci_pool *pool);                 /* owner: make free non-empty */
void rci_pool_list_push_front(rci_pool_list *l, rci_pool *p);
void rci_pool_list_push_back(rci_pool_list *l, rci_pool *p);
void rci_pool_list_remove(rci_pool_list *l, rci_pool *p);
char *rci_pool_block_start(rci_pool *pool, const void *p);  /* NULL if not inside a block */

/* ---- tlheap.c ---- */
rci_heap *rci_heap_get_or_create(void);                /* NULL on ENOMEM */
void rci_heap_drain_delayed(rci_heap *h);
void rci_heap_update_direct(rci_heap *h, unsigned kind, unsigned cls);
/* Point the direct slots of a size class at pool (see tlheap.c). */
void rci_heap_set_direct(rci_heap *h, unsigned kind, unsigned cls, rci_pool *pool);
rci_heap *rci_heap_new_struct(void);              /* zeroed, direct[] set; NULL on ENOMEM */
void rci_heap_collect_heap(rci_heap *h, bool force);

/* ---- alloc.c: raw (no hooks, no debug) allocation on the calling thread ---- */
void *rci_raw_malloc(size_t size, bool debug);
void *rci_heap_alloc_kind(rci_heap *h, size_t size, unsigned kind);  /* owner, generic path */
void rci_heap_free_owned(rci_heap *h, void *p);         /* owner; p validated by the caller */
/* Resize p (a huge block) to size without copying, accounting to h; NULL
 * (and p untouched) when p is not huge, size is not, or the OS refuses. */
void *rci_heap_try_resize(rci_heap *h, void *p, size_t size);
void *rci_raw_aligned(size_t alignment, size_t size, bool debug);
/* A huge block (its own mapping, whatever its size) whose address + skew is
 * a multiple of alignment: for debug blocks, whose user pointer lies skew
 * bytes into the raw block. NULL on ENOMEM. */
void *rci_raw_huge_skewed(size_t alignment, size_t skew, size_t size, bool debug);
void rci_raw_free(void *p);                            /* p validated by the caller */
size_t rci_raw_usable(const void *p);
void rci_free_local_slow(rci_heap *h, rci_pool *pool);
void rci_stat_add(rci_heap *h, long delta);
/* Decide the blocks other threads queued as suspects (owner only). */
void rci_heap_check_suspects(rci_heap *h);

/* ---- debug.c ---- */
void *rci_debug_malloc(size_t size, size_t alignment, int api);
void rci_debug_free(void *p, int api);
void *rci_debug_realloc(void *p, size_t size);
size_t rci_debug_usable(const void *p);
bool rci_debug_owns(const void *p);                    /* p's pool/arena has the DEBUG flag */
void rci_debug_quarantine_flush(void);
void rci_report(rc_heap_error_kind kind, const void *ptr, size_t size, uint64_t serial,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- hooks.c ---- */
void *rci_default_malloc(void *ctx, size_t size);
void *rci_default_calloc(void *ctx, size_t count, size_t size);
void *rci_default_realloc(void *ctx, void *p, size_t size);
void rci_default_free(void *ctx, void *p);
void *rci_default_aligned(void *ctx, size_t alignment, size_t size);
size_t rci_default_usable(void *ctx, const void *p);
extern rc_allocator rci_allocator;                     /* in force when rci_hooked */
extern _Atomic int rci_hooked;
void rci_update_slow_mode(void);

/* ---- options.c ---- */
extern _Atomic int rci_verbose;                  /* RECYCLE_VERBOSE */
void rci_options_init(void);                           /* idempotent, allocation-free */

#endif /* RC_HEAP_INTERNAL_H */
