/* live.c - the live blocks, sharded (live.h).
 *
 * Invariants of a shard (its lock held to read or change them):
 *   - count == the number of slots with a key; count * 2 <= slots;
 *   - a key's slot is reached by linear probing from its home without
 *     passing an empty slot (backward-shift removal keeps this, no
 *     tombstones);
 *   - each key's filter bucket counts it (saturating at 255). */
#include "preload/live.h"

#include <errno.h>
#include <string.h>

#define FIRST_SLOTS 256u
#define FILTER_SIZE ((size_t)1 << RCPL_FILTER_BITS)
#define FILTER_STUCK 255

static inline size_t home(const rcpl_shard *s, uint64_t h) {
    /* the page's hash chose the shard and the filter bucket; the block's
     * own mixed hash places the key inside the shard */
    return (size_t)h & s->mask;
}

static inline _Atomic uint8_t *bucket(rcpl_live *l, uintptr_t p) {
    return &l->filter[rcpl_filter_index(p)];
}

int rcpl_live_init(rcpl_live *l) {
    memset(l, 0, sizeof *l);
    l->filter = rcpl_os_take(FILTER_SIZE);
    return l->filter ? 0 : ENOMEM;
}

static size_t slots_bytes(size_t slots) {
    return slots * sizeof(rcpl_lslot);
}

void rcpl_live_release(rcpl_live *l) {
    for (unsigned i = 0; i < RCPL_SHARDS; i++) {
        rcpl_shard *s = &l->shard[i];
        if (s->slot)
            rcpl_os_give(s->slot, slots_bytes(s->mask + 1));
    }
    rcpl_os_give((void *)l->filter, FILTER_SIZE);
    memset(l, 0, sizeof *l);
}

void rcpl_live_clear(rcpl_live *l) {
    _Atomic uint8_t *filter = l->filter;
    for (unsigned i = 0; i < RCPL_SHARDS; i++) {
        rcpl_shard *s = &l->shard[i];
        if (s->slot)
            rcpl_os_give(s->slot, slots_bytes(s->mask + 1));
        s->slot = NULL;
        s->mask = s->count = 0;
        atomic_store_explicit(&s->lock.held, 0, memory_order_relaxed);
    }
    memset((void *)filter, 0, FILTER_SIZE);
}

/* Twice the slots (FIRST_SLOTS the first time); false on ENOMEM. */
static bool grow(rcpl_shard *s) {
    size_t slots = s->slot ? (s->mask + 1) * 2 : FIRST_SLOTS;
    rcpl_lslot *fresh = rcpl_os_take(slots_bytes(slots));
    if (!fresh)
        return false;
    size_t mask = slots - 1;
    for (size_t i = 0; s->slot && i <= s->mask; i++) {
        uintptr_t key = s->slot[i].key;
        if (!key)
            continue;
        size_t k = (size_t)rcpl_live_hash(key) & mask;
        while (fresh[k].key)
            k = (k + 1) & mask;
        fresh[k] = s->slot[i];
    }
    if (s->slot)
        rcpl_os_give(s->slot, slots_bytes(s->mask + 1));
    s->slot = fresh;
    s->mask = mask;
    return true;
}

int rcpl_live_add(rcpl_live *l, rcpl_shard *s, uintptr_t p, uint64_t size) {
    uint64_t h = rcpl_live_hash(p);
    if (s->slot) {
        size_t k = home(s, h);
        for (; s->slot[k].key; k = (k + 1) & s->mask) {
            if (s->slot[k].key == p) {
                /* a block the program never gave back through us (freed by
                 * an untraced path): this record replaces it */
                s->slot[k].size = size;
                return 0;
            }
        }
        if ((s->count + 1) * 2 <= s->mask + 1) {
            s->slot[k] = (rcpl_lslot){p, size};
            goto added;
        }
    }
    if (!grow(s))
        return ENOMEM;
    size_t k = home(s, h);
    while (s->slot[k].key)
        k = (k + 1) & s->mask;
    s->slot[k] = (rcpl_lslot){p, size};
added:
    s->count++;
    _Atomic uint8_t *b = bucket(l, p);
    uint8_t c = atomic_load_explicit(b, memory_order_relaxed);
    if (c != FILTER_STUCK)
        atomic_store_explicit(b, (uint8_t)(c + 1), memory_order_relaxed);
    return 0;
}

bool rcpl_live_remove(rcpl_live *l, rcpl_shard *s, uintptr_t p, uint64_t *size) {
    if (!s->slot)
        return false;
    uint64_t h = rcpl_live_hash(p);
    size_t hole = home(s, h);
    while (s->slot[hole].key != p) {
        if (!s->slot[hole].key)
            return false;
        hole = (hole + 1) & s->mask;
    }
    *size = s->slot[hole].size;
    /* Backward shift: an entry after the hole moves into it unless its home
     * lies cyclically in (hole, its slot], where a probe from its home
     * would not pass the hole. */
    for (size_t k = (hole + 1) & s->mask; s->slot[k].key; k = (k + 1) & s->mask) {
        size_t kh = (size_t)rcpl_live_hash(s->slot[k].key) & s->mask;
        bool stays = hole <= k ? (hole < kh && kh <= k) : (hole < kh || kh <= k);
        if (stays)
            continue;
        s->slot[hole] = s->slot[k];
        hole = k;
    }
    s->slot[hole] = (rcpl_lslot){0, 0};
    s->count--;
    _Atomic uint8_t *b = bucket(l, p);
    uint8_t c = atomic_load_explicit(b, memory_order_relaxed);
    if (c != FILTER_STUCK)
        atomic_store_explicit(b, (uint8_t)(c - 1), memory_order_relaxed);
    return true;
}

void rcpl_live_lock_all(rcpl_live *l) {
    for (unsigned i = 0; i < RCPL_SHARDS; i++)
        rcpl_lock_take(&l->shard[i].lock);
}

void rcpl_live_unlock_all(rcpl_live *l) {
    for (unsigned i = RCPL_SHARDS; i-- > 0;)
        rcpl_lock_give(&l->shard[i].lock);
}

bool rcpl_live_next(const rcpl_live *l, size_t *pos, uintptr_t *p, uint64_t *size) {
    /* pos: shard in the high bits, slot in the low 48 */
    size_t shard = *pos >> 48, k = *pos & (((size_t)1 << 48) - 1);
    for (; shard < RCPL_SHARDS; shard++, k = 0) {
        const rcpl_shard *s = &l->shard[shard];
        for (; s->slot && k <= s->mask; k++) {
            if (s->slot[k].key) {
                *p = s->slot[k].key;
                *size = s->slot[k].size;
                *pos = shard << 48 | (k + 1);
                return true;
            }
        }
    }
    *pos = (size_t)RCPL_SHARDS << 48;
    return false;
}

size_t rcpl_live_count(const rcpl_live *l) {
    size_t n = 0;
    for (unsigned i = 0; i < RCPL_SHARDS; i++)
        n += l->shard[i].count;
    return n;
}
