/* live.h - the blocks the program holds: address -> size, for every block
 * the recorder recorded and the program has not given back.
 *
 * What it is for: a free is recorded only for a block the recorder saw
 * being made (the shim's own blocks, and blocks made while a thread's
 * re-entrancy flag was set, are not recorded either way); the heap figure
 * of the memory samples; the leak scan at exit, which needs every live
 * block; and the order of events on one address (below).
 *
 * Sharded: 256 shards chosen by a hash of the address, each an open-
 * addressing table (linear probing, backward-shift removal, at most half
 * full) behind its own spin lock, in pages from the OS. Operations on
 * different addresses rarely share a lock.
 *
 * Ordering: the recorder reads an event's time while it holds the shard of
 * the address, and a free removes the block before the real free. So for
 * one address, the record that ends a block has a time no later than the
 * record of the next block at that address, whichever threads made them
 * (docs/preload.md "Order of records").
 *
 * A filter of 65536 one-byte counters (a counting Bloom filter with one
 * hash) answers "certainly not live" without a lock: in sampled mode most
 * frees are of blocks that were never recorded, and they cost one load.
 * A block counts in the bucket of the 4 KiB page it starts in (the page
 * number hashed), so that the frees of a program, which come in runs over
 * nearby blocks, load the same few bytes of the filter again and again
 * instead of a random one each (one hashed by block was a cache miss per
 * free: a fifth of binary-trees' time when sampled). The shard of a block
 * is chosen by the same hash of its page, so each bucket belongs to one
 * shard: a counter is changed only under that shard's lock; one that
 * reaches 255 stays there (the filter then says "maybe"). The program's own
 * synchronisation orders the allocation of a block before its free, so a
 * free never misses a counter its block raised. */
#ifndef RC_PRELOAD_LIVE_H
#define RC_PRELOAD_LIVE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "preload/preload.h"

#define RCPL_SHARD_BITS 8
#define RCPL_SHARDS (1u << RCPL_SHARD_BITS)
#define RCPL_FILTER_BITS 16

typedef struct rcpl_lslot {
    uintptr_t key;                /* block address; 0: empty */
    uint64_t size;                /* requested bytes */
} rcpl_lslot;

typedef struct rcpl_shard {
    rcpl_lock lock;
    rcpl_lslot *slot;             /* OS memory; NULL while the shard is empty */
    size_t mask, count;
} __attribute__((aligned(64))) rcpl_shard;

typedef struct rcpl_live {
    rcpl_shard shard[RCPL_SHARDS];
    _Atomic uint8_t *filter;      /* 1 << RCPL_FILTER_BITS counters, OS memory */
} rcpl_live;

/* An empty table; 0 or ENOMEM. */
int rcpl_live_init(rcpl_live *l);
/* Give back every page; l must be unused. */
void rcpl_live_release(rcpl_live *l);

static inline uint64_t rcpl_live_hash(uintptr_t p) {
    /* Block addresses differ in their middle bits in steps of the block
     * size: fold the high bits down before multiplying. */
    uint64_t h = (uint64_t)p;
    h ^= h >> 23;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 32;
    return h * UINT64_C(0x9E3779B97F4A7C15);
}

/* The hash of the page address p lies in: its top bits choose the shard
 * and the filter bucket (a bucket's top bits are its shard's). */
static inline uint64_t rcpl_page_hash(uintptr_t p) {
    return (uint64_t)(p >> 12) * UINT64_C(0x9E3779B97F4A7C15);
}

/* The filter bucket of address p. */
static inline size_t rcpl_filter_index(uintptr_t p) {
    return (size_t)(rcpl_page_hash(p) >> (64 - RCPL_FILTER_BITS));
}

/* The shard of address p (take its lock around the calls below). */
static inline rcpl_shard *rcpl_live_shard(rcpl_live *l, uintptr_t p) {
    return &l->shard[rcpl_page_hash(p) >> (64 - RCPL_SHARD_BITS)];
}

/* False when p is certainly not live; no lock needed (see above). */
static inline bool rcpl_live_maybe(const rcpl_live *l, uintptr_t p) {
    return atomic_load_explicit(&l->filter[rcpl_filter_index(p)], memory_order_relaxed) != 0;
}

/* Record p (size bytes) as live, replacing a record of p if there is one;
 * 0 or ENOMEM (the table is unchanged). Shard lock held. */
int rcpl_live_add(rcpl_live *l, rcpl_shard *s, uintptr_t p, uint64_t size);
/* Forget p; true with its size in *size when it was live. Shard lock held.
 * Never fails (a removal never allocates). */
bool rcpl_live_remove(rcpl_live *l, rcpl_shard *s, uintptr_t p, uint64_t *size);
/* Live blocks in s; shard lock held. */
static inline size_t rcpl_live_shard_count(const rcpl_shard *s) {
    return s->count;
}

/* Take / give every shard's lock, in order (the exit's leak scan). */
void rcpl_live_lock_all(rcpl_live *l);
void rcpl_live_unlock_all(rcpl_live *l);
/* With every lock held: the live blocks one by one; *pos starts at 0, false
 * at the end. */
bool rcpl_live_next(const rcpl_live *l, size_t *pos, uintptr_t *p, uint64_t *size);
/* With every lock held: how many live blocks. */
size_t rcpl_live_count(const rcpl_live *l);
/* Forget every block (a forked child's fresh start); l must be unused. */
void rcpl_live_clear(rcpl_live *l);

#endif /* RC_PRELOAD_LIVE_H */
