/* hooks.c - the allocator in force (the PyMem_SetAllocator analogue).
 *
 * rci_allocator is consulted only when rci_hooked is set, so that with no
 * hook the public functions pay one predictable branch. A wrapper gets the
 * previous allocator with rc_heap_get_allocator, keeps it as its ctx, and
 * calls through; the built-in allocator's functions ignore ctx. */
#include "heap/alloc.h"
#include "heap/debug.h"
#include "heap/hooks.h"

#include <pthread.h>


rc_allocator rci_allocator;
_Atomic int rci_hooked;
_Atomic int rci_slow_mode;
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;

static const rc_allocator default_allocator = {
    .ctx = NULL,
    .malloc = rci_default_malloc,
    .calloc = rci_default_calloc,
    .realloc = rci_default_realloc,
    .free = rci_default_free,
    .aligned_alloc = rci_default_aligned,
    .usable_size = rci_default_usable,
};

void rci_update_slow_mode(void) {
    int slow = atomic_load(&rci_hooked) || atomic_load(&rci_debug_on);
    atomic_store(&rci_slow_mode, slow);
}

void rc_heap_get_default_allocator(rc_allocator *out) {
    if (out)
        *out = default_allocator;
}

void rc_heap_get_allocator(rc_allocator *out) {
    if (!out)
        return;
    pthread_mutex_lock(&hooks_lock);
    *out = atomic_load(&rci_hooked) ? rci_allocator : default_allocator;
    pthread_mutex_unlock(&hooks_lock);
}

int rc_heap_set_allocator(const rc_allocator *a) {
    if (a && (!a->malloc || !a->calloc || !a->realloc || !a->free || !a->aligned_alloc ||
              !a->usable_size))
        return RC_EINVAL;
    pthread_mutex_lock(&hooks_lock);
    if (a) {
        /* Publish the table before the flag that makes callers read it. */
        atomic_store(&rci_hooked, 0);
        rci_allocator = *a;
        atomic_store_explicit(&rci_hooked, 1, memory_order_release);
    } else {
        atomic_store(&rci_hooked, 0);
    }
    rci_update_slow_mode();
    pthread_mutex_unlock(&hooks_lock);
    return 0;
}
