/* debug.c - the debug mode: guarded, filled, serial-numbered blocks, a
 * quarantine before reuse, and error reports (the PYTHONMALLOC=debug idea).
 *
 * Layout of a debug block, inside a raw block of the heap:
 *
 *   raw ... | header (64 bytes) | front guard (16) | user bytes (size) | back guard (16)
 *                                                  ^ pointer returned
 *
 * The header sits at user - RCI_DBG_OFFSET. `raw` is what the raw allocator
 * returned (equal to the header unless the block is over-aligned). The state
 * word is not in the first 8 bytes, so it survives the raw allocator writing
 * its free-list link there: a double free is still recognised after the block
 * has left the quarantine, as long as the memory has not been reused.
 *
 * Blocks are told apart by their pool (or huge arena) flag RCI_PF_DEBUG, so
 * the mode can be switched at any time: every block keeps the mode it was
 * allocated in. Errors are reported and the faulty operation is skipped; the
 * heap is never corrupted by the check itself.
 */
#include "heap/alloc.h"
#include "heap/arena.h"
#include "heap/debug.h"
#include "heap/hooks.h"
#include "heap/os/os.h"
#include "heap/pool.h"
#include "heap/tlheap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RCI_DBG_LIVE 0x4556494Cu  /* "LIVE" */
#define RCI_DBG_DEAD 0x44414544u  /* "DEAD" */
#define RCI_DBG_GUARD 16
#define RCI_DBG_OFFSET 80         /* header (64) + front guard (16) */

typedef struct rci_dbg {
    struct rci_dbg *next, *prev;  /* live list, or free-list link once raw-freed */
    size_t size;                  /* requested size */
    uint64_t serial;              /* allocation number, from 1 */
    void *raw;                    /* block from the raw allocator */
    size_t alignment;
    uint32_t state;               /* RCI_DBG_LIVE or RCI_DBG_DEAD */
    uint32_t api;
    uint64_t reserved;
} rci_dbg;
_Static_assert(sizeof(rci_dbg) == 64, "debug header is 64 bytes");

_Atomic int rci_debug_on;
static _Atomic uint64_t dbg_serial;
static _Atomic size_t dbg_errors;
static pthread_mutex_t dbg_lock = PTHREAD_MUTEX_INITIALIZER;
static rci_dbg *dbg_live;                 /* under dbg_lock */

/* Quarantine: a FIFO ring of dead blocks, bounded in count and bytes. */
static rci_dbg *quarantine[RC_DEBUG_QUARANTINE_SLOTS];
static size_t q_head, q_count, q_bytes;   /* under dbg_lock */

static rc_heap_error_fn err_fn;
static void *err_arg;
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- reporting ---- */

void rc_heap_set_error_handler(rc_heap_error_fn fn, void *arg) {
    pthread_mutex_lock(&err_lock);
    err_fn = fn;
    err_arg = arg;
    pthread_mutex_unlock(&err_lock);
}

size_t rc_heap_error_count(void) {
    return atomic_load(&dbg_errors);
}

void rci_report(rc_heap_error_kind kind, const void *ptr, size_t size, uint64_t serial,
                const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
    atomic_fetch_add(&dbg_errors, 1);
    rc_heap_error e = { kind, ptr, size, serial, msg };
    pthread_mutex_lock(&err_lock);
    rc_heap_error_fn fn = err_fn;
    void *arg = err_arg;
    pthread_mutex_unlock(&err_lock);
    if (fn) {
        fn(&e, arg);
        return;
    }
    char line[560];
    int len = snprintf(line, sizeof line, "recycle: heap error: %s\n", msg);
    if (len > 0) {
        size_t w = (size_t)len < sizeof line ? (size_t)len : sizeof line - 1;
        ssize_t r = write(STDERR_FILENO, line, w);
        (void)r;
    }
}

/* ---- mode ---- */

void rc_heap_set_debug(int on) {
    rci_options_init();
    atomic_store(&rci_debug_on, on ? 1 : 0);
    rci_update_slow_mode();
}

int rc_heap_get_debug(void) {
    rci_options_init();
    return atomic_load(&rci_debug_on);
}

/* ---- block checks ---- */

static bool bytes_are(const unsigned char *p, size_t n, unsigned char v, size_t *bad) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != v) {
            if (bad)
                *bad = i;
            return false;
        }
    return true;
}

static unsigned char *user_of(rci_dbg *d) {
    return (unsigned char *)d + RCI_DBG_OFFSET;
}

/* Report damaged guards of a live or dead block, then repair them so that
 * the same damage is reported once; returns problems found. */
static size_t check_guards(rci_dbg *d, const char *when) {
    size_t problems = 0, bad = 0;
    unsigned char *u = user_of(d);
    if (!bytes_are(u - RCI_DBG_GUARD, RCI_DBG_GUARD, RC_DEBUG_GUARD_BYTE, &bad)) {
        problems++;
        rci_report(RC_HEAP_ERR_UNDERRUN, u, d->size, d->serial,
                   "%s: buffer underrun: block %p of size %zu (allocation #%llu) was written "
                   "%zu bytes before its start",
                   when, (void *)u, d->size, (unsigned long long)d->serial, RCI_DBG_GUARD - bad);
    }
    if (!bytes_are(u + d->size, RCI_DBG_GUARD, RC_DEBUG_GUARD_BYTE, &bad)) {
        problems++;
        rci_report(RC_HEAP_ERR_OVERRUN, u, d->size, d->serial,
                   "%s: buffer overrun: block %p of size %zu (allocation #%llu) was written "
                   "at offset %zu, past its end",
                   when, (void *)u, d->size, (unsigned long long)d->serial, d->size + bad);
    }
    if (problems) {
        memset(u - RCI_DBG_GUARD, RC_DEBUG_GUARD_BYTE, RCI_DBG_GUARD);
        memset(u + d->size, RC_DEBUG_GUARD_BYTE, RCI_DBG_GUARD);
    }
    return problems;
}

static size_t check_dead(rci_dbg *d, const char *when) {
    size_t bad = 0;
    unsigned char *u = user_of(d);
    if (!bytes_are(u, d->size, RC_DEBUG_DEAD_BYTE, &bad)) {
        rci_report(RC_HEAP_ERR_WRITE_AFTER_FREE, u, d->size, d->serial,
                   "%s: write after free: block %p of size %zu (allocation #%llu) was modified "
                   "at offset %zu after it was freed",
                   when, (void *)u, d->size, (unsigned long long)d->serial, bad);
        return 1;
    }
    return 0;
}

/* The header of user pointer p if it can be one (it lies inside the same raw
 * area), else NULL. p is known to be in a debug pool or huge arena. */
static rci_dbg *header_of(const void *p) {
    uintptr_t u = (uintptr_t)p;
    if (u & (RC_HEAP_ALIGNMENT - 1))
        return NULL;
    rci_arena *a = rci_arena_of(p);
    uintptr_t lo;
    if (a->kind == RCI_ARENA_HUGE)
        lo = (uintptr_t)a + rci_arena_header_size();
    else {
        rci_pool *pool = rci_pool_of(a, p);
        if (pool->state == RCI_POOL_SMALL || pool->state == RCI_POOL_SPAN)
            lo = (uintptr_t)pool->start;
        else
            return NULL;
    }
    if (u < lo + RCI_DBG_OFFSET)
        return NULL;
    return (rci_dbg *)(void *)(u - RCI_DBG_OFFSET);
}

/* ---- allocation ---- */

void *rci_debug_malloc(size_t size, size_t alignment, int api) {
    if (alignment < RC_HEAP_ALIGNMENT)
        alignment = RC_HEAP_ALIGNMENT;
    size_t front = RCI_DBG_OFFSET;
    if (alignment > RC_HEAP_ALIGNMENT)
        front = (RCI_DBG_OFFSET + alignment - 1) & ~(alignment - 1);
    if (size > PTRDIFF_MAX - front - RCI_DBG_GUARD) {
        errno = ENOMEM;
        return NULL;
    }
    size_t total = front + size + RCI_DBG_GUARD;
    char *raw;
    if (alignment >= RC_POOL_SIZE) {
        /* An aligned raw block would be a span or huge block starting on a
         * pool boundary, and the user pointer a whole `alignment` further:
         * in a later pool of the span (whose descriptor knows no header) or,
         * from 2 MiB on, past the arena's first chunk (where no arena header
         * is). Instead take a huge block placed so that the user pointer,
         * RCI_DBG_OFFSET bytes in, is the aligned address: header and user
         * bytes then share the huge arena's first chunk. */
        front = RCI_DBG_OFFSET;
        total = front + size + RCI_DBG_GUARD;
        raw = rci_raw_huge_skewed(alignment, front, total, true);
    } else if (alignment > RC_HEAP_ALIGNMENT) {
        raw = rci_raw_aligned(alignment, total, true);
    } else {
        raw = rci_raw_malloc(total, true);
    }
    if (!raw)
        return NULL;
    unsigned char *u = (unsigned char *)raw + front;
    rci_dbg *d = (rci_dbg *)(void *)(u - RCI_DBG_OFFSET);
    d->size = size;
    d->serial = atomic_fetch_add(&dbg_serial, 1) + 1;
    d->raw = raw;
    d->alignment = alignment;
    d->api = (uint32_t)api;
    d->reserved = 0;
    memset(u - RCI_DBG_GUARD, RC_DEBUG_GUARD_BYTE, RCI_DBG_GUARD);
    memset(u, RC_DEBUG_CLEAN_BYTE, size);
    memset(u + size, RC_DEBUG_GUARD_BYTE, RCI_DBG_GUARD);
    pthread_mutex_lock(&dbg_lock);
    d->state = RCI_DBG_LIVE;
    d->prev = NULL;
    d->next = dbg_live;
    if (dbg_live)
        dbg_live->prev = d;
    dbg_live = d;
    pthread_mutex_unlock(&dbg_lock);
    return u;
}

static void release_dead(rci_dbg *d) {
    if (check_dead(d, "quarantine"))
        memset(user_of(d), RC_DEBUG_DEAD_BYTE, d->size);
    check_guards(d, "quarantine");
    rci_raw_free(d->raw);
}

/* Validate p as a live debug block and take it off the live list. Returns
 * NULL (after reporting) when p must not be freed. Caller holds dbg_lock. */
static rci_dbg *take_live(const void *p, const char *fn) {
    rci_dbg *d = header_of(p);
    if (!d || (d->state != RCI_DBG_LIVE && d->state != RCI_DBG_DEAD) ||
        user_of(d) != (const unsigned char *)p) {
        rci_report(RC_HEAP_ERR_INVALID, p, 0, 0,
                   "%s(%p): pointer is inside the heap but not the start of a block; ignored", fn, p);
        return NULL;
    }
    if (d->state == RCI_DBG_DEAD) {
        rci_report(RC_HEAP_ERR_DOUBLE_FREE, p, d->size, d->serial,
                   "%s(%p): double free of a block of size %zu (allocation #%llu); ignored",
                   fn, p, d->size, (unsigned long long)d->serial);
        return NULL;
    }
    if (d->prev) d->prev->next = d->next; else dbg_live = d->next;
    if (d->next) d->next->prev = d->prev;
    d->next = d->prev = NULL;
    return d;
}

void rci_debug_free(void *p) {
    pthread_mutex_lock(&dbg_lock);
    rci_dbg *d = take_live(p, "rc_free");
    if (!d) {
        pthread_mutex_unlock(&dbg_lock);
        return;
    }
    check_guards(d, "rc_free");
    d->state = RCI_DBG_DEAD;
    memset(user_of(d), RC_DEBUG_DEAD_BYTE, d->size);
    /* Into the quarantine; evict the oldest while over either bound. */
    rci_dbg *evict[8];
    size_t nevict = 0;
    size_t cost = d->size + RCI_DBG_OFFSET + RCI_DBG_GUARD;
    while (q_count > 0 && nevict < 8 &&
           (q_count == RC_DEBUG_QUARANTINE_SLOTS || q_bytes + cost > RC_DEBUG_QUARANTINE_BYTES)) {
        rci_dbg *old = quarantine[q_head];
        q_head = (q_head + 1) % RC_DEBUG_QUARANTINE_SLOTS;
        q_count--;
        q_bytes -= old->size + RCI_DBG_OFFSET + RCI_DBG_GUARD;
        evict[nevict++] = old;
    }
    if (q_count < RC_DEBUG_QUARANTINE_SLOTS && cost <= RC_DEBUG_QUARANTINE_BYTES) {
        quarantine[(q_head + q_count) % RC_DEBUG_QUARANTINE_SLOTS] = d;
        q_count++;
        q_bytes += cost;
        d = NULL;
    }
    pthread_mutex_unlock(&dbg_lock);
    for (size_t i = 0; i < nevict; i++)
        release_dead(evict[i]);
    if (d)
        release_dead(d);   /* too big for the quarantine */
}

void rci_debug_quarantine_flush(void) {
    for (;;) {
        pthread_mutex_lock(&dbg_lock);
        if (q_count == 0) {
            pthread_mutex_unlock(&dbg_lock);
            return;
        }
        rci_dbg *old = quarantine[q_head];
        q_head = (q_head + 1) % RC_DEBUG_QUARANTINE_SLOTS;
        q_count--;
        q_bytes -= old->size + RCI_DBG_OFFSET + RCI_DBG_GUARD;
        pthread_mutex_unlock(&dbg_lock);
        release_dead(old);
    }
}

size_t rci_debug_usable(const void *p) {
    pthread_mutex_lock(&dbg_lock);
    rci_dbg *d = header_of(p);
    size_t n = (d && d->state == RCI_DBG_LIVE && user_of(d) == (const unsigned char *)p) ? d->size : 0;
    pthread_mutex_unlock(&dbg_lock);
    return n;
}

void *rci_debug_realloc(void *p, size_t size) {
    pthread_mutex_lock(&dbg_lock);
    rci_dbg *d = header_of(p);
    bool ok = d && d->state == RCI_DBG_LIVE && user_of(d) == (unsigned char *)p;
    size_t old = ok ? d->size : 0;
    size_t align = ok ? d->alignment : 0;
    pthread_mutex_unlock(&dbg_lock);
    if (!ok) {
        /* let free's validation produce the precise report */
        pthread_mutex_lock(&dbg_lock);
        rci_dbg *bad = take_live(p, "rc_realloc");
        pthread_mutex_unlock(&dbg_lock);
        if (bad) {
            /* cannot happen: ok was false */
        }
        errno = EINVAL;
        return NULL;
    }
    void *q = rci_debug_malloc(size, align, 0);
    if (!q)
        return NULL;
    memcpy(q, p, old < size ? old : size);
    rci_debug_free(p);
    return q;
}

size_t rc_heap_debug_check(void) {
    size_t problems = 0;
    pthread_mutex_lock(&dbg_lock);
    for (rci_dbg *d = dbg_live; d; d = d->next)
        problems += check_guards(d, "rc_heap_debug_check");
    for (size_t i = 0; i < q_count; i++) {
        rci_dbg *d = quarantine[(q_head + i) % RC_DEBUG_QUARANTINE_SLOTS];
        if (check_dead(d, "rc_heap_debug_check")) {
            problems++;
            /* report once: refill so the same damage is not reported again */
            memset(user_of(d), RC_DEBUG_DEAD_BYTE, d->size);
        }
        problems += check_guards(d, "rc_heap_debug_check");
    }
    pthread_mutex_unlock(&dbg_lock);
    return problems;
}

bool rci_debug_owns(const void *p) {
    rci_arena *a = rci_arena_of(p);
    if (a->kind == RCI_ARENA_HUGE)
        return (a->huge_flags & RCI_PF_DEBUG) != 0;
    return (rci_pool_flags(rci_pool_of(a, p)) & RCI_PF_DEBUG) != 0;
}
