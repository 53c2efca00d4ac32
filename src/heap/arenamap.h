/* arenamap.h - the arena map (arenamap.c): which arena-sized chunks of the
 * address space are ours.
 *
 * Two bitmaps with one bit per RC_ARENA_SIZE chunk of the RC_ADDRESS_BITS
 * address space (lazily committed BSS): `head` marks the chunk where an
 * arena (or a huge mapping) starts, `tail` the later chunks of a huge
 * mapping. rc_free tests `head` before it reads a pointer's arena header, so
 * a foreign pointer is reported instead of followed; rc_heap_contains also
 * walks `tail`. Bits change only when a mapping is made, moved or released,
 * by the thread doing it; readers need no lock. */
#ifndef RC_HEAP_ARENAMAP_H
#define RC_HEAP_ARENAMAP_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/base.h"

extern _Atomic uint8_t rci_arena_map_head[RC_MAP_CHUNKS / 8] RCI_HIDDEN;

/* Does an arena start in the chunk holding addr? One load from the map. */
RCI_INLINE bool rci_arena_map_is_head(uintptr_t addr) {
    uintptr_t idx = addr >> RC_ARENA_SHIFT;
    if (rci_unlikely(idx >= RC_MAP_CHUNKS))
        return false;
    return (atomic_load_explicit(&rci_arena_map_head[idx >> 3], memory_order_relaxed)
            >> (idx & 7)) & 1;
}

/* Mark (on) or unmark the mapping of size bytes at the chunk-aligned addr:
 * its first chunk as a head, and for a huge mapping its later chunks as
 * tails. */
void rci_arena_map_set(uintptr_t addr, size_t size, bool huge, bool on);
/* Is addr inside any arena or huge mapping of ours (rc_heap_contains)? */
bool rci_arena_map_contains(uintptr_t addr);

#endif /* RC_HEAP_ARENAMAP_H */
