/* options.c - RECYCLE_* environment options, read once without allocating.
 *
 *   RECYCLE_DEBUG=1        debug mode from the start (see heap.h)
 *   RECYCLE_SHOW_STATS=1   print heap statistics to stderr at exit
 *   RECYCLE_VERBOSE=1      report out-of-memory through the error handler too
 */
#include "heap/internal.h"
#include "heap/os/os.h"

#include <stdlib.h>
#include <string.h>

typedef struct option_desc {
    const char *name;
    const char *help;
} option_desc;

static const option_desc options[] = {
    { "RECYCLE_DEBUG", "1 turns the heap debug mode on from the start" },
    { "RECYCLE_SHOW_STATS", "1 prints heap statistics to stderr at exit" },
    { "RECYCLE_VERBOSE", "1 also reports out-of-memory through the error handler" },
};

_Atomic int rci_verbose;

static _Atomic int options_state; /* 0 not read, 1 reading, 2 done */

static bool env_true(const char *name) {
    const char *v = rci_os_getenv(name);
    if (!v || !*v)
        return false;
    return strcmp(v, "0") != 0 && strcmp(v, "no") != 0 && strcmp(v, "off") != 0 &&
           strcmp(v, "false") != 0;
}

static void show_stats_at_exit(void) {
    rc_heap_stats_print(stderr);
}

void rci_options_init(void) {
    if (atomic_load_explicit(&options_state, memory_order_acquire) == 2)
        return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&options_state, &expected, 1))
        return; /* another thread is reading, or done: its values win */
    (void)options;
    if (env_true(options[0].name)) {
        atomic_store(&rci_debug_on, 1);
        rci_update_slow_mode();
    }
    if (env_true(options[1].name))
        atexit(show_stats_at_exit);
    if (env_true(options[2].name))
        atomic_store(&rci_verbose, 1);
    atomic_store_explicit(&options_state, 2, memory_order_release);
}

__attribute__((constructor)) static void options_ctor(void) {
    rci_options_init();
}
