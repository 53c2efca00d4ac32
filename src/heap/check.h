/* check.h - full consistency walk of the heap (expensive; tests and debug). */
#ifndef RC_HEAP_CHECK_H
#define RC_HEAP_CHECK_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif
#include <stddef.h>

/* Walk every heap, arena, pool and the free lists of the calling thread's
 * heap and of every private heap (a private heap is used by one thread at a
 * time: call it from that thread, or while it is idle); print each
 * inconsistency to stderr and return how many were found. Call it while
 * other threads are not allocating. */
size_t rci_heap_check(void);

#endif
