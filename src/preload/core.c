/* core.c - the small pieces every file of the preload layer uses: OS memory,
 * the bounded lock wait, the re-entrancy flag (preload.h). */
#include "preload/preload.h"

RCPL_TLS int rcpl_busy;

void *rcpl_os_take(size_t size) {
    size_t page = rci_os_page_size();
    if (size == 0 || size > SIZE_MAX - page)
        return NULL;
    size = (size + page - 1) & ~(page - 1);
    void *p;
    if (rci_os_alloc_aligned(size, page, &p) != 0)
        return NULL;
    return p;
}

void rcpl_os_give(void *p, size_t size) {
    if (!p)
        return;
    size_t page = rci_os_page_size();
    rci_os_free(p, (size + page - 1) & ~(page - 1));
}

bool rcpl_lock_take_for(rcpl_lock *l, unsigned ms) {
    /* 100 us steps after a short spin: the holder is another thread that
     * keeps running (a dying process's other threads run until it dies). */
    for (unsigned i = 0; i < 64; i++) {
        if (rcpl_lock_try(l))
            return true;
        RCPL_PAUSE();
    }
    for (unsigned waited = 0; waited < ms * 10u; waited++) {
        if (rcpl_lock_try(l))
            return true;
        nanosleep(&(struct timespec){0, 100000}, NULL);
    }
    return rcpl_lock_try(l);
}
