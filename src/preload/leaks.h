/* leaks.h - which of the blocks still live at exit the program can still
 * reach: a conservative mark from roots, as valgrind memcheck and the
 * gperftools heap checker do.
 *
 * Every aligned 8-byte word of a root range, and of every block found
 * reachable, that holds the address of a live block's start or of any byte
 * inside it makes that block reachable. A block no chain of such words
 * reaches from the roots is lost: nothing in the program can free it any
 * more. The scan is conservative: an integer that happens to look like an
 * address keeps a block reachable, never the other way round.
 *
 * Interior pointers count (memcheck calls a block reached only through them
 * "possibly lost"): C++ arrays with a cookie, objects reached through a base
 * class at an offset and length-prefixed strings are held that way, and a
 * report that called them lost would be wrong for correct programs.
 *
 * Nothing is ever read outside the readable mappings of /proc/self/maps
 * (a block freed behind the recorder's back may be unmapped). */
#ifndef RC_PRELOAD_LEAKS_H
#define RC_PRELOAD_LEAKS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "preload/live.h"

typedef struct rcpl_range {
    uintptr_t lo, hi;             /* [lo, hi) */
} rcpl_range;

/* A growable list of ranges in OS memory. */
typedef struct rcpl_ranges {
    rcpl_range *r;
    size_t count, cap;
} rcpl_ranges;

/* Append [lo, hi) (ignored when empty); 0 or ENOMEM. */
int rcpl_ranges_add(rcpl_ranges *rs, uintptr_t lo, uintptr_t hi);
void rcpl_ranges_release(rcpl_ranges *rs);

/* The readable mappings of the process, sorted and merged; 0 or an errno
 * value (rs then empty). Reads /proc/self/maps without stdio. */
int rcpl_maps_readable(rcpl_ranges *rs);
/* The mapping of /proc/self/maps that contains addr, in *out; false if
 * none (or the file cannot be read). */
bool rcpl_maps_find(uintptr_t addr, rcpl_range *out);

/* Append every mapping laid out as a thread stack: unnamed, readable and
 * writable, right above an inaccessible guard mapping. That is the stack
 * of every thread pthread_create made, running or not: glibc keeps the
 * stacks of exited threads in a cache, with their thread control block and
 * its pointer to the thread's allocated TLS (blocks the program still
 * reaches if it starts another thread). Coroutine stacks that a program
 * maps with a guard look the same and are roots too. 0 or an errno value. */
int rcpl_maps_thread_stacks(rcpl_ranges *rs);

/* Called once per live block with its verdict. */
typedef void (*rcpl_leak_fn)(void *arg, uintptr_t ptr, uint64_t size, bool reachable);

/* Classify every block of l, reading the roots and the blocks only where
 * readable (sorted, merged) says memory is mapped. The caller holds every
 * shard of l (rcpl_live_lock_all), so no block comes or goes meanwhile.
 * Returns 0, or ENOMEM with nothing reported. */
int rcpl_leaks_scan(const rcpl_live *l, const rcpl_range *roots, size_t nroots, const rcpl_ranges *readable,
                    rcpl_leak_fn fn, void *arg);

#endif /* RC_PRELOAD_LEAKS_H */
