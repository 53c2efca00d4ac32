/* pool.h - pools and their blocks (pool.c): the pool descriptor, the free
 * block's two words, how a pointer finds its pool, and the owner's pop.
 *
 * Memory comes from the OS in arenas of RC_ARENA_SIZE bytes aligned to their
 * size (arena.h). An arena's header holds one descriptor (rci_pool) per pool
 * of RC_POOL_SIZE bytes, RCI_ARENA_POOLS_OFFSET bytes into the header, so
 * that the descriptor of any pointer p into an arena is
 *
 *     (p & ~RC_ARENA_MASK) + RCI_ARENA_POOLS_OFFSET
 *                          + ((p & RC_ARENA_MASK) >> RC_POOL_SHIFT) * 256
 *
 * and freeing needs no lookup table. A SMALL pool serves one size class of
 * one kind; each of its blocks is in exactly one state: never carved (at or
 * past bump), on the owner's free list, on the pool's thread_free list or
 * its heap's delayed_free list (freed by another thread, not yet seen by the
 * owner), or handed out (counted in used, with the last two states).
 *
 * This header is what the inline fast paths need, and so what private.h, the
 * object layer's door, shows of the heap: it names the rest of an arena's
 * header and of a heap only through the two prefixes below. */
#ifndef RC_HEAP_POOL_H
#define RC_HEAP_POOL_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/base.h"
#include "heap/stats.h"

/* A free block: the free-list link, then the free mark. The mark word holds
 * rci_free_key (whose top byte is all ones, as the link word's: see below)
 * while the block is free (on any free list of its pool or
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
 * whose live blocks start with a header of its own (in the first or the
 * second word: the mark's top byte is all ones too) can give one of those
 * bits the meaning "freed" and so recognise a late use of a freed block
 * without debug mode (the object layer does: its RCO_F_FREED; a var
 * object's header is the second word). */
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

/* The free mark (see rci_block): random, never 0, set once before the first
 * heap exists and constant afterwards. */
extern uintptr_t rci_free_key RCI_HIDDEN;
void rci_free_key_init(void);               /* idempotent */

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
 * power-of-two size), grouped by who writes them, so that a thread freeing
 * remotely does not steal the owner's hot line:
 *   line 0: the owner's, touched by every malloc and free (free list, used,
 *           and a copy of the flags that also holds FULL);
 *   line 1: read by any thread freeing a block, written only when the pool
 *           changes role (heap, flags, state, sizes);
 *   line 2: thread_free, written by remote frees (CAS) and the owner.
 * The owner's fast paths touch line 0 and the arena header only. */
struct rci_pool {
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
};
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

/* pool->flags (line 1) holds DEBUG, SPAN and ALIGNED, which other threads
 * read; they do not change while a block they describe is live. The owner
 * keeps the same bits plus FULL in flags_hot (line 0). Set both together. */
static inline uint8_t rci_pool_flags(const rci_pool *p) {
    return atomic_load_explicit(&p->flags, memory_order_relaxed);
}
static inline void rci_pool_set_flags(rci_pool *p, unsigned flags) {
    atomic_store_explicit(&p->flags, (uint8_t)(flags & ~RCI_PF_FULL), memory_order_relaxed);
    p->flags_hot = (uint8_t)(flags | (p->flags_hot & RCI_PF_FULL));
}
static inline void rci_pool_set_full(rci_pool *p) { p->flags_hot |= RCI_PF_FULL; }
static inline void rci_pool_clear_full(rci_pool *p) { p->flags_hot &= (uint8_t)~RCI_PF_FULL; }
static inline bool rci_pool_is_full(const rci_pool *p) { return (p->flags_hot & RCI_PF_FULL) != 0; }

typedef struct rci_pool_list { rci_pool *head, *tail; } rci_pool_list;

/* ---- how a pointer finds its pool ---- */

/* The first word of every arena header is its heap's client pointer (NULL
 * for a thread heap; arena.h checks the offsets), and the descriptors start
 * RCI_ARENA_POOLS_OFFSET bytes in. */
#define RCI_ARENA_POOLS_OFFSET 128
static inline void *rci_arena_client_at(const void *p) {
    return *(void *const *)((uintptr_t)p & ~(uintptr_t)RC_ARENA_MASK);
}
/* The descriptor of the pool that p (any pointer into a live arena) lies in:
 * (p & RC_ARENA_MASK) >> RC_POOL_SHIFT << 8, as one and and one shift. */
RCI_INLINE rci_pool *rci_pool_at(const void *p) {
    char *pools = (char *)((uintptr_t)p & ~(uintptr_t)RC_ARENA_MASK) + RCI_ARENA_POOLS_OFFSET;
    uintptr_t off = ((uintptr_t)p & RC_ARENA_MASK & ~(uintptr_t)(RC_POOL_SIZE - 1)) >>
                    (RC_POOL_SHIFT - 8);
    return (rci_pool *)(void *)(pools + off);
}
_Static_assert(sizeof(rci_pool) == 1u << 8, "rci_pool_at scales by 256");

/* ---- the owner's hot part of a heap ---- */

/* The fields of a heap that the owner's allocation and free fast paths
 * touch; every rci_heap begins with one (tlheap.h checks it), so the fast
 * paths reach them without the rest of the heap's layout. */
typedef struct rci_heap_hot {
    /* direct[kind][(size + 15) / 16]: current pool for that size (size <=
     * 1024); never NULL (an empty sentinel pool sends malloc to the slow path). */
    rci_pool *direct[RCI_KINDS][RC_DIRECT_SLOTS];
    /* bytes in use not yet folded into rci_g_bytes_in_use_signed; written by
     * the owner only (relaxed load + store, no RMW), read by statistics. */
    _Atomic long stat_delta;
} rci_heap_hot;
static inline rci_heap_hot *rci_heap_hot_of(rci_heap *h) {
    return (rci_heap_hot *)(void *)h;
}

/* The sentinel every empty direct slot names: free == NULL, flags != 0. */
extern rci_pool rci_pool_empty RCI_HIDDEN;

/* Add delta to h's unflushed byte count and return the new count; the
 * count is not folded in (owner only). */
RCI_INLINE long rci_stat_count(rci_heap *h, long delta) {
    rci_heap_hot *hot = rci_heap_hot_of(h);
    long d = atomic_load_explicit(&hot->stat_delta, memory_order_relaxed) + delta;
    atomic_store_explicit(&hot->stat_delta, d, memory_order_relaxed);
    return d;
}
/* Must an unflushed byte count d be folded in (rci_stat_flush)? */
RCI_INLINE bool rci_stat_due(long d) {
    return d > RC_STAT_FLUSH_BYTES || d < -RC_STAT_FLUSH_BYTES;
}
/* rci_stat_add (stats.h) for a heap that is not the sentinel. */
RCI_INLINE void rci_stat_add_inline(rci_heap *h, long delta) {
    if (rci_unlikely(rci_stat_due(rci_stat_count(h, delta))))
        rci_stat_flush(h);
}

/* Take a block from pool, of h, whose free list is not empty (owner only).
 * Two things are left to the caller: the block's mark word is as it was
 * (the caller overwrites it before the block can be freed), and h's byte
 * count, which *unflushed receives, is not folded in (see rci_stat_due).
 * rci_pool_pop does both. */
RCI_INLINE void *rci_pool_take(rci_heap *h, rci_pool *pool, long *unflushed) {
    rci_block *b = pool->free;
    rci_block *next = rci_block_next(b);
    pool->free = next;
    /* The next block of this pool is likely cold (freed long ago): start
     * loading it now, so the next allocation does not wait for it. */
    __builtin_prefetch(next, 1, 3);
    uint32_t used = atomic_load_explicit(&pool->used, memory_order_relaxed);
    atomic_store_explicit(&pool->used, used + 1, memory_order_relaxed);
    *unflushed = rci_stat_count(h, (long)pool->block_size_hot);
    return b;
}

/* Pop a block from pool, of h, whose free list is not empty (owner only). */
RCI_INLINE void *rci_pool_pop(rci_heap *h, rci_pool *pool) {
    rci_block *b = pool->free;
    rci_block *next = rci_block_next(b);
    pool->free = next;
    b->mark = 0;   /* a live block never carries the key unless its user writes it */
    __builtin_prefetch(next, 1, 3);   /* as in rci_pool_take */
    uint32_t used = atomic_load_explicit(&pool->used, memory_order_relaxed);
    atomic_store_explicit(&pool->used, used + 1, memory_order_relaxed);
    rci_stat_add_inline(h, (long)pool->block_size_hot);
    return b;
}

/* ---- pool.c ---- */
void rci_pool_init_small(rci_pool *pool, rci_arena *a, rci_heap *h, unsigned cls, unsigned kind);
size_t rci_pool_collect_remote(rci_pool *pool);       /* owner: fold thread_free in */
bool rci_pool_refill(rci_pool *pool);                 /* owner: make free non-empty */
void rci_pool_list_push_front(rci_pool_list *l, rci_pool *p);
void rci_pool_list_push_back(rci_pool_list *l, rci_pool *p);
void rci_pool_list_remove(rci_pool_list *l, rci_pool *p);
char *rci_pool_block_start(rci_pool *pool, const void *p);  /* NULL if not inside a block */

#endif /* RC_HEAP_POOL_H */
