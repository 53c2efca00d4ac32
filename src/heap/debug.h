/* debug.h - the heap's debug mode and error reports (debug.c).
 *
 * Debug blocks come from pools (or spans, or huge mappings) flagged
 * RCI_PF_DEBUG, so the mode can be switched at any time and every block is
 * checked according to the mode it was allocated in: a 64-byte header (size,
 * serial, raw pointer, state), guard bytes on both sides, fill patterns, and
 * a FIFO quarantine of freed blocks. Every error, in debug mode or not, goes
 * through rci_report to the error handler, and the faulty operation is
 * skipped. */
#ifndef RC_HEAP_DEBUG_H
#define RC_HEAP_DEBUG_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/base.h"

extern _Atomic int rci_debug_on RCI_HIDDEN; /* new blocks are debug blocks */

/* api: which entry point allocated (0: the malloc family), kept in the
 * block's header. */
void *rci_debug_malloc(size_t size, size_t alignment, int api);
void rci_debug_free(void *p);
void *rci_debug_realloc(void *p, size_t size);
size_t rci_debug_usable(const void *p);
bool rci_debug_owns(const void *p);                    /* p's pool/arena has the DEBUG flag */
void rci_debug_quarantine_flush(void);
/* Count the error and pass it to the error handler (default: one line on
 * stderr). */
void rci_report(rc_heap_error_kind kind, const void *ptr, size_t size, uint64_t serial,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif /* RC_HEAP_DEBUG_H */
