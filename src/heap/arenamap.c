/* arenamap.c - the arena map (see arenamap.h). */
#include "heap/arena.h"
#include "heap/arenamap.h"

_Atomic uint8_t rci_arena_map_head[RC_MAP_CHUNKS / 8];
static _Atomic uint8_t map_tail[RC_MAP_CHUNKS / 8];

static void map_mark(_Atomic uint8_t *map, uintptr_t addr, size_t size, bool on) {
    uintptr_t first = addr >> RC_ARENA_SHIFT;
    uintptr_t last = (addr + size - 1) >> RC_ARENA_SHIFT;
    for (uintptr_t i = first; i <= last && i < RC_MAP_CHUNKS; i++) {
        uint8_t bit = (uint8_t)(1u << (i & 7));
        if (map == map_tail && i == first)
            continue;
        if (map == rci_arena_map_head && i != first)
            break;
        if (on)
            atomic_fetch_or_explicit(&map[i >> 3], bit, memory_order_release);
        else
            atomic_fetch_and_explicit(&map[i >> 3], (uint8_t)~bit, memory_order_release);
    }
}

void rci_arena_map_set(uintptr_t addr, size_t size, bool huge, bool on) {
    map_mark(rci_arena_map_head, addr, size, on);
    if (huge)
        map_mark(map_tail, addr, size, on);
}

static bool map_bit(_Atomic uint8_t *map, uintptr_t idx) {
    return (atomic_load_explicit(&map[idx >> 3], memory_order_relaxed) >> (idx & 7)) & 1;
}

bool rci_arena_map_contains(uintptr_t addr) {
    uintptr_t idx = addr >> RC_ARENA_SHIFT;
    if (idx >= RC_MAP_CHUNKS)
        return false;
    /* Walk back over the chunks of a huge mapping to its header, then check
     * that the mapping really reaches addr. */
    while (!map_bit(rci_arena_map_head, idx)) {
        if (!map_bit(map_tail, idx) || idx == 0)
            return false;
        idx--;
    }
    rci_arena *a = (rci_arena *)(idx << RC_ARENA_SHIFT);
    return rci_arena_spans(a, (const void *)addr);
}
