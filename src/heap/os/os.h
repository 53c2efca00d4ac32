/* os.h - the contract for OS primitives used by the heap.
 *
 * Everything the heap needs from the operating system goes through here, so a
 * port implements this file and nothing else. Functions return 0 or a
 * positive errno value; none of them allocates from the heap, and all are
 * safe to call from any thread.
 *
 * Pre-conditions: sizes are multiples of rci_os_page_size(); alignments are
 * powers of two and multiples of the page size. */
#ifndef RC_HEAP_OS_H
#define RC_HEAP_OS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stddef.h>
#include <stdint.h>

/* Page size of the system (cached). */
size_t rci_os_page_size(void);

/* Reserve and commit size bytes of zeroed read-write memory aligned to align.
 * On success *out receives the address. Returns 0 or ENOMEM. */
int rci_os_alloc_aligned(size_t size, size_t align, void **out);
/* Return memory obtained from rci_os_alloc_aligned (whole or a page-aligned
 * tail of it) to the OS. */
int rci_os_free(void *addr, size_t size);
/* Tell the OS the contents are no longer needed; the range stays mapped and
 * reads back as zero or old contents (MADV_DONTNEED / MADV_FREE). */
int rci_os_decommit(void *addr, size_t size);

/* Grow or shrink the mapping [addr, addr + old_size) to new_size, keeping its
 * contents, without copying them: in place if possible, else moved to a
 * fresh range aligned to align (the page tables move, the data does not).
 * *out receives the (possibly new) address. Returns 0 or ENOMEM (the old
 * mapping is then untouched). */
int rci_os_remap(void *addr, size_t old_size, size_t new_size, size_t align, void **out);

/* Resident set size of the process in bytes, 0 if unknown. */
size_t rci_os_rss(void);
/* Monotonic clock in nanoseconds. */
uint64_t rci_os_clock_ns(void);
/* 64 bits that differ between processes (random when the OS provides
 * randomness without blocking; otherwise derived from the clock, an address
 * and the pid). Not for cryptography. */
uint64_t rci_os_random(void);
/* An id for the calling thread (the kernel tid). */
uint64_t rci_os_thread_id(void);
/* Value of an environment variable without allocating; NULL if unset. */
const char *rci_os_getenv(const char *name);

/* Test hook: make OS allocations fail. After n more successful calls to
 * rci_os_alloc_aligned, every later call fails with ENOMEM until the hook is
 * reset with n < 0 (the default: never fail). Returns the number of
 * allocations that were made to fail since the last reset. */
long rci_os_fail_after(long n);

#endif /* RC_HEAP_OS_H */
