/* stats.h - the heap's global counters and the fold of per-heap byte counts
 * (stats.c).
 *
 * Bytes in use are counted per heap by its owner, without atomic
 * read-modify-write (pool.h: rci_heap_hot.stat_delta), and folded into
 * rci_g_bytes_in_use_signed once the unflushed amount passes
 * RC_STAT_FLUSH_BYTES either way; the peak is updated at each fold and at
 * each read of the statistics. The other counters change only in slow paths
 * (arenas and huge blocks come and go) and are updated atomically there. */
#ifndef RC_HEAP_STATS_H
#define RC_HEAP_STATS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/base.h"

extern _Atomic long rci_g_bytes_in_use_signed RCI_HIDDEN; /* flushed part of bytes in use */
extern _Atomic size_t rci_g_peak RCI_HIDDEN;
extern _Atomic size_t rci_g_arenas_allocated, rci_g_arenas_freed, rci_g_arenas_peak;
extern _Atomic size_t rci_g_huge_blocks, rci_g_huge_bytes, rci_g_bytes_reserved;

/* Fold h's unflushed byte count into the global counter (owner only).
 * Defined in alloc.c, beside the malloc and free fast paths that call it
 * (measured: defined in stats.c it cost about 10 instructions per rc_free
 * with GCC 12). */
void rci_stat_flush(rci_heap *h);
/* Add delta to h's byte count; h may be the empty sentinel heap of a
 * thread without one (the global counter is changed directly then). The
 * fast paths use rci_stat_add_inline (pool.h) on a real heap. */
void rci_stat_add(rci_heap *h, long delta);

#endif /* RC_HEAP_STATS_H */
