/* stats.c - heap statistics: a walk of every heap's arenas and pools under
 * their locks, plus the global counters (the sys._debugmallocstats idea).
 *
 * bytes_in_use is exact when other threads are quiet: the flushed global
 * counter plus every heap's unflushed delta. peak_bytes_in_use is updated
 * whenever a thread folds its delta in (every RC_STAT_FLUSH_BYTES of change)
 * and whenever statistics are read, so it can lag the true peak by at most
 * RC_STAT_FLUSH_BYTES per thread. */
#include "heap/arena.h"
#include "heap/pool.h"
#include "heap/stats.h"
#include "heap/tlheap.h"

#include <string.h>

_Atomic long rci_g_bytes_in_use_signed;
_Atomic size_t rci_g_peak;
_Atomic size_t rci_g_arenas_allocated, rci_g_arenas_freed, rci_g_arenas_peak;
_Atomic size_t rci_g_huge_blocks, rci_g_huge_bytes, rci_g_bytes_reserved;

/* ---- bytes in use, kept per heap and folded in batches (rci_stat_flush:
 * alloc.c) ---- */

void rci_stat_add(rci_heap *h, long delta) {
    if (h == &rci_heap_empty) {
        atomic_fetch_add(&rci_g_bytes_in_use_signed, delta);
        return;
    }
    rci_stat_add_inline(h, delta);
}

/* ---- reading ---- */

static long current_bytes(void) {
    long total = atomic_load(&rci_g_bytes_in_use_signed);
    pthread_mutex_lock(&rci_g_lock);
    for (rci_heap *h = rci_g_heaps; h; h = h->all_next)
        total += atomic_load_explicit(&h->hot.stat_delta, memory_order_relaxed);
    pthread_mutex_unlock(&rci_g_lock);
    return total < 0 ? 0 : total;
}

static void note_peak(size_t now) {
    size_t peak = atomic_load(&rci_g_peak);
    while (now > peak && !atomic_compare_exchange_weak(&rci_g_peak, &peak, now)) {
    }
}

void rc_heap_stats_reset_peak(void) {
    atomic_store(&rci_g_peak, (size_t)current_bytes());
}

size_t rc_heap_size_class_count(void) {
    return RC_NCLASSES;
}

size_t rc_heap_size_class_size(size_t index) {
    return index < RC_NCLASSES ? rci_class_size[index] : 0;
}

int rc_heap_stats_get(rc_heap_stats *out) {
    if (!out)
        return RC_EINVAL;
    if (out->version == 0 && out->struct_size == 0) {
        out->version = RC_HEAP_STATS_VERSION;
        out->struct_size = sizeof(*out);
    }
    if (out->version != RC_HEAP_STATS_VERSION || out->struct_size != sizeof(*out))
        return RC_EINVAL;
    uint32_t version = out->version, size = out->struct_size;
    memset(out, 0, sizeof *out);
    out->version = version;
    out->struct_size = size;
    out->arena_size = RC_ARENA_SIZE;
    out->pool_size = RC_POOL_SIZE;
    out->nclasses = RC_NCLASSES;
    for (unsigned c = 0; c < RC_NCLASSES; c++)
        out->classes[c].block_size = rci_class_size[c];

    pthread_mutex_lock(&rci_g_lock);
    for (rci_heap *h = rci_g_heaps; h; h = h->all_next) {
        if (h->is_private && h->owner == NULL)
            continue;   /* destroyed, kept for reuse: holds nothing */
        out->heaps_current++;
        if (h->abandoned)
            out->heaps_abandoned++;
        pthread_mutex_lock(&h->lock);
        if (h->cached_empty)
            out->pools_free += RC_POOLS_PER_ARENA;
        for (rci_arena *a = h->all; a; a = a->all_next) {
            out->pools_free += a->nfree;
            for (unsigned i = 0; i < RC_POOLS_PER_ARENA; i++) {
                rci_pool *p = &a->pools[i];
                if (p->state == RCI_POOL_SMALL) {
                    rc_heap_class_stats *cs = &out->classes[p->class_idx];
                    uint32_t used = atomic_load_explicit(&p->used, memory_order_relaxed);
                    cs->pools++;
                    cs->blocks_used += used;
                    cs->blocks_free += p->capacity - used;
                    out->pools_used++;
                } else if (p->state == RCI_POOL_SPAN) {
                    out->large_blocks++;
                    out->large_bytes += p->span_size;
                    out->pools_used += p->span_pools;
                    out->pools_large += p->span_pools;
                }
            }
        }
        pthread_mutex_unlock(&h->lock);
    }
    pthread_mutex_unlock(&rci_g_lock);
    out->large_blocks += atomic_load(&rci_g_huge_blocks);
    out->large_bytes += atomic_load(&rci_g_huge_bytes);
    out->arenas_allocated = atomic_load(&rci_g_arenas_allocated);
    out->arenas_freed = atomic_load(&rci_g_arenas_freed);
    out->arenas_current = out->arenas_allocated - out->arenas_freed;
    out->arenas_peak = atomic_load(&rci_g_arenas_peak);
    out->bytes_reserved = atomic_load(&rci_g_bytes_reserved);
    out->bytes_in_use = (size_t)current_bytes();
    note_peak(out->bytes_in_use);
    out->peak_bytes_in_use = atomic_load(&rci_g_peak);
    return 0;
}

static void human(char *buf, size_t len, size_t bytes) {
    if (bytes >= ((size_t)10 << 30))
        snprintf(buf, len, "%zu GiB", bytes >> 30);
    else if (bytes >= ((size_t)10 << 20))
        snprintf(buf, len, "%zu MiB", bytes >> 20);
    else if (bytes >= ((size_t)10 << 10))
        snprintf(buf, len, "%zu KiB", bytes >> 10);
    else
        snprintf(buf, len, "%zu B", bytes);
}

void rc_heap_stats_print(FILE *out) {
    if (!out)
        out = stderr;
    rc_heap_stats st = { .version = RC_HEAP_STATS_VERSION, .struct_size = sizeof st };
    if (rc_heap_stats_get(&st) != 0)
        return;
    fprintf(out, "recycle heap: %zu size classes, pools of %zu KiB, arenas of %zu MiB\n",
            st.nclasses, st.pool_size >> 10, st.arena_size >> 20);
    fprintf(out, "\n%5s %10s %8s %12s %12s\n", "class", "block size", "pools", "blocks used", "blocks free");
    size_t used_bytes = 0, free_bytes = 0;
    for (size_t c = 0; c < st.nclasses; c++) {
        const rc_heap_class_stats *cs = &st.classes[c];
        if (cs->pools == 0)
            continue;
        fprintf(out, "%5zu %10zu %8zu %12zu %12zu\n", c, cs->block_size, cs->pools,
                cs->blocks_used, cs->blocks_free);
        used_bytes += cs->blocks_used * cs->block_size;
        free_bytes += cs->blocks_free * cs->block_size;
    }
    char a[32], b[32], c[32], d[32], e[32];
    human(a, sizeof a, st.bytes_in_use);
    human(b, sizeof b, st.peak_bytes_in_use);
    human(c, sizeof c, st.bytes_reserved);
    human(d, sizeof d, used_bytes);
    human(e, sizeof e, st.large_bytes);
    fprintf(out, "\n# arenas allocated total  %12zu\n", st.arenas_allocated);
    fprintf(out, "# arenas freed total      %12zu\n", st.arenas_freed);
    fprintf(out, "# arenas current          %12zu\n", st.arenas_current);
    fprintf(out, "# arenas peak             %12zu\n", st.arenas_peak);
    fprintf(out, "# pools used / free       %6zu / %zu\n", st.pools_used, st.pools_free);
    fprintf(out, "# bytes in pooled blocks  %12zu  (%s)\n", used_bytes, d);
    fprintf(out, "# bytes free in pools     %12zu\n", free_bytes);
    fprintf(out, "# large blocks            %12zu  (%s)\n", st.large_blocks, e);
    fprintf(out, "# bytes in use            %12zu  (%s)\n", st.bytes_in_use, a);
    fprintf(out, "# peak bytes in use       %12zu  (%s)\n", st.peak_bytes_in_use, b);
    fprintf(out, "# bytes reserved from OS  %12zu  (%s)\n", st.bytes_reserved, c);
    fprintf(out, "# thread heaps            %12zu  (%zu abandoned)\n", st.heaps_current,
            st.heaps_abandoned);
}
