/* config.h - compile-time knobs of the heap, with their relations checked.
 *
 * Every value may be overridden with -D at build time; the #error lines keep
 * overrides consistent with the invariants the code relies on. */
#ifndef RC_HEAP_CONFIG_H
#define RC_HEAP_CONFIG_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

/* An arena is the unit obtained from the OS: RC_ARENA_SIZE bytes aligned to
 * RC_ARENA_SIZE, so that the arena of any block is found by masking. */
#ifndef RC_ARENA_SHIFT
#define RC_ARENA_SHIFT 22                  /* 4 MiB */
#endif
/* A pool serves one size class; arenas are carved into pools. */
#ifndef RC_POOL_SHIFT
#define RC_POOL_SHIFT 16                   /* 64 KiB */
#endif

#define RC_ARENA_SIZE   ((size_t)1 << RC_ARENA_SHIFT)
#define RC_ARENA_MASK   (RC_ARENA_SIZE - 1)
#define RC_POOL_SIZE    ((size_t)1 << RC_POOL_SHIFT)
#define RC_POOLS_PER_ARENA (1 << (RC_ARENA_SHIFT - RC_POOL_SHIFT))

#if RC_POOLS_PER_ARENA != 64
#error "the pool bitmap of an arena is one uint64_t: RC_ARENA_SHIFT - RC_POOL_SHIFT must be 6"
#endif

/* Size classes: steps of RC_SMALL_STEP up to RC_SMALL_MAX, then four classes
 * per doubling up to RC_POOLED_MAX. Above that, blocks are spans of whole
 * pools up to RC_SPAN_MAX, and above that each block is its own mapping. */
#define RC_SMALL_STEP   16
#define RC_SMALL_MAX    512
#define RC_POOLED_MAX   16384
#define RC_SPAN_SHIFT   20                 /* 1 MiB: at most 16 pools */
#define RC_SPAN_MAX     ((size_t)1 << RC_SPAN_SHIFT)
/* Sizes up to RC_DIRECT_MAX are looked up by (size + 15) / 16 in a table. */
#define RC_DIRECT_MAX   1024
#define RC_DIRECT_SLOTS (RC_DIRECT_MAX / RC_SMALL_STEP + 1)

#if RC_SMALL_STEP != 16
#error "the allocation fast path assumes 16-byte steps (RC_HEAP_ALIGNMENT)"
#endif
#if RC_POOLED_MAX * 4 > (1 << RC_POOL_SHIFT)
#error "the largest pooled class must leave at least 4 blocks per pool"
#endif
#if RC_SPAN_SHIFT >= RC_ARENA_SHIFT
#error "a span must fit in an arena next to the header pool"
#endif

/* Largest alignment rc_aligned_alloc supports: a huge block's header must lie
 * in the same arena-sized chunk as the block's first byte. */
#define RC_MAX_ALIGNMENT (RC_ARENA_SIZE / 2)
#if RC_ARENA_SHIFT != 22
#error "RC_HEAP_MAX_ALIGNMENT in recycle/heap.h assumes 4 MiB arenas"
#endif

/* Address bits covered by the arena map (user space on x86-64 and AArch64). */
#ifndef RC_ADDRESS_BITS
#define RC_ADDRESS_BITS 48
#endif
#define RC_MAP_CHUNKS ((size_t)1 << (RC_ADDRESS_BITS - RC_ARENA_SHIFT))

/* Blocks carved from a pool's untouched tail per refill (bytes). Small
 * enough that a new pool does not touch all its pages at once. */
#define RC_CARVE_BYTES 8192

/* Debug mode: bytes of quarantine kept before a freed block is reused. */
#ifndef RC_DEBUG_QUARANTINE_BYTES
#define RC_DEBUG_QUARANTINE_BYTES ((size_t)4 << 20)
#endif
#define RC_DEBUG_QUARANTINE_SLOTS 4096

/* Local deltas of bytes_in_use are folded into the global counter when they
 * pass this many bytes, which bounds how far the peak can lag per thread. */
#define RC_STAT_FLUSH_BYTES 65536

#endif /* RC_HEAP_CONFIG_H */
