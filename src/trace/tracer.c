/* tracer.c - the process-wide tracer: allocator hooks, the re-entrancy
 * flag, traces per domain, interned tracebacks, current and peak memory.
 * tracer.h holds the data model and its invariants.
 *
 * Locking: `control` serialises start, stop and clear (which install or
 * remove hooks); `lock` guards the tables and counters. A hook captures the
 * stack before taking `lock`, so unwinding runs in parallel; only the table
 * update is serialised. rc_free removes the trace before the block is freed,
 * and rc_realloc holds `lock` across the reallocation, so an address that
 * another thread receives from the allocator can never have its fresh trace
 * removed by a late update for the block that had the address before.
 *
 * Objects: the object layer allocates from private heaps, which bypass the
 * allocator hooks. While tracing, the tracer registers a second pair of
 * hooks with the private heaps (rci_pheap_set_hooks), which report every
 * block handed to a runtime and every block given back; their traces live
 * in domain 0 beside rc_malloc's (addresses never collide). A private heap
 * reports a free before the address can be handed out again, and one heap
 * is used by one thread at a time, so the same ordering argument holds. */
#include "trace/tracer.h"
#include "heap/os/os.h"
#include "heap/private.h"
#include "recycle/heap.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- memory of the tracer: an arena of OS pages ---- */

typedef struct chunk {
    struct chunk *next;
    size_t size;                   /* bytes mapped, header included */
} chunk;

typedef struct arena {
    chunk *head;
    char *cur, *end;
    size_t bytes;                  /* bytes mapped */
} arena;

#define ARENA_CHUNK (64u * 1024u)

/* size bytes aligned to 16; NULL on ENOMEM (the arena is unchanged). */
static void *arena_alloc(arena *a, size_t size) {
    size = (size + 15) & ~(size_t)15;
    if ((size_t)(a->end - a->cur) < size) {
        size_t page = rci_os_page_size();
        size_t head = (sizeof(chunk) + 15) & ~(size_t)15;
        if (size > SIZE_MAX - head - page)
            return NULL;
        size_t want = head + size < ARENA_CHUNK ? ARENA_CHUNK : (head + size + page - 1) & ~(page - 1);
        void *mem;
        if (rci_os_alloc_aligned(want, page, &mem) != 0)
            return NULL;
        chunk *c = mem;
        c->next = a->head;
        c->size = want;
        a->head = c;
        a->cur = (char *)mem + head;
        a->end = (char *)mem + want;
        a->bytes += want;
    }
    void *p = a->cur;
    a->cur += size;
    return p;
}

static void arena_release(arena *a) {
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        rci_os_free(c, c->size);
        c = next;
    }
    memset(a, 0, sizeof *a);
}

/* ---- the singleton ---- */

enum { K_MALLOC, K_CALLOC, K_REALLOC, K_ALIGNED, K_TRACK, K_COUNT };

static struct tracer {
    pthread_mutex_t control;       /* start / stop / clear */
    pthread_mutex_t lock;          /* everything below */
    _Atomic int tracing;
    _Atomic int nframes;
    rc_allocator prev;             /* the allocator wrapped; the hooks' ctx */
    rci_htable traces;             /* domain 0: ptr -> rctr_trace* */
    rci_htable domains;            /* domain + 1 -> rci_htable* */
    rci_htable tbs;                /* hash -> rctr_traceback* */
    arena mem;
    rctr_trace *free_traces;       /* records ready for reuse */
    size_t current, peak, ntraces;
    size_t gen;                    /* bumped whenever the arena is released */
    /* Raw frames between the walk and the allocator's caller, per entry
     * point; measured once per process by calibrate(). */
    size_t skip[K_COUNT];
    bool calibrated;
} T = {
    .control = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
};

/* Set while this thread runs tracer code: hooks pass through. */
static _Thread_local int reentrant;
/* Non-NULL while this thread calibrates: grab() stores the raw walk here. */
static _Thread_local uintptr_t *calib_buf;
static _Thread_local size_t calib_len;
#define CALIB_MAX 256

/* The tracebacks this thread interned last, valid while gen == T.gen: they
 * live in the arena, which only release_all frees, and release_all bumps
 * T.gen. Read and written with the lock held. */
#define TB_CACHE 4
static _Thread_local struct {
    size_t gen;
    unsigned next;
    rctr_traceback *tb[TB_CACHE];
} tb_cache;

static rctr_traceback empty_tb;    /* the traceback of a walk that found nothing */

void rctr_lock(void) {
    reentrant++;
    pthread_mutex_lock(&T.lock);
}

void rctr_unlock(void) {
    pthread_mutex_unlock(&T.lock);
    reentrant--;
}

/* ---- tracebacks ---- */

static uint64_t hash_frames(const uintptr_t *f, size_t n) {
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ n;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint64_t)f[i];
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 32;
    }
    return h;
}

static bool same_frames(const uintptr_t *a, const uintptr_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* The interned traceback of frames[0..n), from the table (lock held). */
static rctr_traceback *intern_table(const uintptr_t *frames, size_t n) {
    uint64_t h = hash_frames(frames, n);
    uintptr_t key = (uintptr_t)h ? (uintptr_t)h : 1;
    uintptr_t v;
    rctr_traceback *head = NULL;
    if (rci_htable_get(&T.tbs, key, &v)) {
        head = (rctr_traceback *)v;
        for (rctr_traceback *tb = head; tb; tb = tb->next)
            if (tb->nframes == n && same_frames(tb->frames, frames, n))
                return tb;
    } else if (rci_htable_reserve(&T.tbs, T.tbs.count + 1) != 0) {
        return NULL;
    }
    rctr_traceback *tb = arena_alloc(&T.mem, sizeof *tb + n * sizeof *frames);
    if (!tb)
        return NULL;
    tb->next = head;
    tb->hash = h;
    tb->nframes = n;
    memcpy(tb->frames, frames, n * sizeof *frames);
    /* cannot fail: the key is present, or room was reserved above */
    rci_htable_put(&T.tbs, key, (uintptr_t)tb);
    return tb;
}

/* The interned traceback of frames[0..n); NULL on ENOMEM (lock held).
 * A program allocates from few call sites at a time, so this thread's last
 * few tracebacks usually match without hashing or probing the table. */
static rctr_traceback *intern(const uintptr_t *frames, size_t n) {
    if (n == 0)
        return &empty_tb;
    if (tb_cache.gen == T.gen) {
        for (unsigned k = 0; k < TB_CACHE; k++) {
            rctr_traceback *tb = tb_cache.tb[k];
            if (tb && tb->nframes == n && same_frames(tb->frames, frames, n))
                return tb;
        }
    } else {
        memset(&tb_cache, 0, sizeof tb_cache);
        tb_cache.gen = T.gen;
    }
    rctr_traceback *tb = intern_table(frames, n);
    if (tb) {
        tb_cache.tb[tb_cache.next] = tb;
        tb_cache.next = (tb_cache.next + 1) % TB_CACHE;
    }
    return tb;
}

/* ---- traces ---- */

static rctr_trace *trace_new(void) {
    rctr_trace *t = T.free_traces;
    if (t) {
        T.free_traces = (rctr_trace *)(void *)t->tb;
        return t;
    }
    return arena_alloc(&T.mem, sizeof *t);
}

static void trace_drop(rctr_trace *t) {
    t->tb = (rctr_traceback *)(void *)T.free_traces;
    T.free_traces = t;
}

/* The table of domain; NULL when it has none (and create is false) or on
 * ENOMEM (lock held). */
static rci_htable *domain_table(unsigned domain, bool create) {
    if (domain == RC_TRACE_DOMAIN_HEAP)
        return &T.traces;
    uintptr_t key = (uintptr_t)domain + 1, v;
    if (rci_htable_get(&T.domains, key, &v))
        return (rci_htable *)v;
    if (!create || rci_htable_reserve(&T.domains, T.domains.count + 1) != 0)
        return NULL;
    rci_htable *t = arena_alloc(&T.mem, sizeof *t);
    if (!t)
        return NULL;
    rci_htable_init(t);
    rci_htable_put(&T.domains, key, (uintptr_t)t);   /* room reserved */
    return t;
}

static void count_add(size_t size) {
    T.current += size;
    if (T.current > T.peak)
        T.peak = T.current;
}

/* Record ptr (lock held). 0 or ENOMEM; unchanged on failure. */
static int add_trace(unsigned domain, uintptr_t ptr, size_t size, const uintptr_t *frames, size_t n) {
    rctr_traceback *tb = intern(frames, n);
    if (!tb)
        return ENOMEM;
    rci_htable *t = domain_table(domain, true);
    if (!t)
        return ENOMEM;
    bool existed;
    uintptr_t *slot = rci_htable_slot(t, ptr, &existed);
    if (!slot)
        return ENOMEM;
    if (existed) {
        rctr_trace *old = (rctr_trace *)*slot;
        T.current -= old->size;
        old->size = size;
        old->tb = tb;
        count_add(size);
        return 0;
    }
    rctr_trace *rec = trace_new();
    if (!rec) {
        rci_htable_remove(t, ptr, NULL);   /* the key just inserted */
        return ENOMEM;
    }
    *slot = (uintptr_t)rec;
    rec->size = size;
    rec->tb = tb;
    T.ntraces++;
    count_add(size);
    return 0;
}

/* Forget ptr's trace (lock held); true if there was one. */
static bool remove_trace(unsigned domain, uintptr_t ptr) {
    rci_htable *t = domain_table(domain, false);
    uintptr_t v;
    if (!t || !rci_htable_remove(t, ptr, &v))
        return false;
    rctr_trace *rec = (rctr_trace *)v;
    T.current -= rec->size;
    T.ntraces--;
    trace_drop(rec);
    return true;
}

/* Free every table and the arena (lock held). */
static void release_all(void) {
    size_t pos = 0;
    uintptr_t k, v;
    while (rci_htable_next(&T.domains, &pos, &k, &v))
        rci_htable_free((rci_htable *)v);
    rci_htable_free(&T.domains);
    rci_htable_free(&T.traces);
    rci_htable_free(&T.tbs);
    arena_release(&T.mem);
    T.free_traces = NULL;
    T.current = T.peak = T.ntraces = 0;
    T.gen++;                       /* every thread's tb_cache is stale */
}

/* ---- stack capture at a hook ---- */

/* The traceback of the allocator's caller, into out (nframes entries);
 * SIZE_MAX while calibrating (nothing is to be recorded then). Every hook
 * calls this one function, so the frames between the walk and the program's
 * call are the same for all calls through one entry point. */
static NOINLINE size_t grab(uintptr_t *out, int kind) {
    if (UNLIKELY(calib_buf != NULL)) {
        calib_len = rctr_stack_capture(calib_buf, CALIB_MAX, 0);
        return SIZE_MAX;
    }
    size_t n = rctr_stack_capture(out, (size_t)atomic_load_explicit(&T.nframes, memory_order_relaxed),
                                  T.skip[kind]);
    /* no tail call: grab's frame must be on the stack in both paths */
    __asm__ volatile("" ::: "memory");
    return n;
}

static bool active(void) {
    return !reentrant && (atomic_load_explicit(&T.tracing, memory_order_acquire) || calib_buf);
}

/* Record a fresh block; on failure the block is freed and NULL returned, so
 * that a traced allocation either succeeds with its trace or fails. */
static void *record_new(const rc_allocator *prev, void *p, size_t size, int kind) {
    uintptr_t frames[RCTR_MAX_FRAMES];
    size_t n = grab(frames, kind);
    if (n == SIZE_MAX)
        return p;
    pthread_mutex_lock(&T.lock);
    int r = atomic_load_explicit(&T.tracing, memory_order_relaxed) ? add_trace(0, (uintptr_t)p, size, frames, n) : 0;
    pthread_mutex_unlock(&T.lock);
    if (r != 0) {
        prev->free(prev->ctx, p);
        errno = ENOMEM;
        return NULL;
    }
    return p;
}

static void *hook_malloc(void *ctx, size_t size) {
    const rc_allocator *prev = ctx;
    if (!active())
        return prev->malloc(prev->ctx, size);
    reentrant++;
    void *p = prev->malloc(prev->ctx, size);
    if (p)
        p = record_new(prev, p, size, K_MALLOC);
    reentrant--;
    return p;
}

static void *hook_calloc(void *ctx, size_t count, size_t size) {
    const rc_allocator *prev = ctx;
    if (!active())
        return prev->calloc(prev->ctx, count, size);
    reentrant++;
    void *p = prev->calloc(prev->ctx, count, size);
    if (p)   /* the product did not overflow, or calloc would have failed */
        p = record_new(prev, p, count * size, K_CALLOC);
    reentrant--;
    return p;
}

static void *hook_aligned(void *ctx, size_t alignment, size_t size) {
    const rc_allocator *prev = ctx;
    if (!active())
        return prev->aligned_alloc(prev->ctx, alignment, size);
    reentrant++;
    void *p = prev->aligned_alloc(prev->ctx, alignment, size);
    if (p)
        p = record_new(prev, p, size, K_ALIGNED);
    reentrant--;
    return p;
}

static void hook_free(void *ctx, void *p) {
    const rc_allocator *prev = ctx;
    if (!p || !active()) {
        prev->free(prev->ctx, p);
        return;
    }
    reentrant++;
    pthread_mutex_lock(&T.lock);
    remove_trace(0, (uintptr_t)p);
    pthread_mutex_unlock(&T.lock);
    prev->free(prev->ctx, p);
    reentrant--;
}

/* The old trace goes, the new block gets the caller's traceback. When the
 * block moved, the old record is reused for the new address, so that the
 * table update cannot fail after the old block is gone; a block that had
 * no trace (allocated before start) and whose new trace cannot be made
 * stays untraced, as if allocated before start. */
static void *hook_realloc(void *ctx, void *p, size_t size) {
    const rc_allocator *prev = ctx;
    if (!active())
        return prev->realloc(prev->ctx, p, size);
    reentrant++;
    uintptr_t frames[RCTR_MAX_FRAMES];
    size_t n = grab(frames, K_REALLOC);
    if (n == SIZE_MAX) {
        void *q = prev->realloc(prev->ctx, p, size);
        reentrant--;
        return q;
    }
    pthread_mutex_lock(&T.lock);
    void *q = prev->realloc(prev->ctx, p, size);
    if (q && atomic_load_explicit(&T.tracing, memory_order_relaxed)) {
        rctr_traceback *tb = intern(frames, n);
        uintptr_t v;
        if (p && rci_htable_remove(&T.traces, (uintptr_t)p, &v)) {
            rctr_trace *rec = (rctr_trace *)v;
            T.current -= rec->size;
            rec->size = size;
            if (tb)
                rec->tb = tb;
            rci_htable_put(&T.traces, (uintptr_t)q, (uintptr_t)rec); /* a slot was just freed */
            count_add(size);
        } else if (tb) {
            add_trace(0, (uintptr_t)q, size, frames, n);
        }
    }
    pthread_mutex_unlock(&T.lock);
    reentrant--;
    return q;
}

static size_t hook_usable(void *ctx, const void *p) {
    const rc_allocator *prev = ctx;
    return prev->usable_size(prev->ctx, p);
}

/* ---- objects: blocks of the private heaps ---- */

/* Raw frames of a walk taken in grab_block before the first frame of a
 * function marked RCI_ALLOC_FRAME: the walk's own, grab_block's and
 * obj_alloc's. The same for every walk (obj_alloc is the only caller and
 * is called only from marked functions), so it is learnt from the first
 * walk that finds a marked frame; 0 until then. */
static _Atomic size_t block_base;
/* Marked frames dropped at most (a constructor calls at most a few marked
 * functions before the heap reports). */
#define BLOCK_EXTRA 16
#define BLOCK_LEARN 8

/* The traceback of the code that asked the object layer for a block: the
 * walk, minus the tracer's frames, minus every marked frame after them.
 * Which marked frames there are depends on the path taken (fast or slow
 * constructor, buffer growth, inlining, tail calls), hence the drop by
 * address rather than by a count. */
static NOINLINE size_t grab_block(uintptr_t *out) {
    uintptr_t raw[RCTR_MAX_FRAMES + BLOCK_EXTRA + BLOCK_LEARN];
    size_t want = (size_t)atomic_load_explicit(&T.nframes, memory_order_relaxed);
    size_t base = atomic_load_explicit(&block_base, memory_order_relaxed);
    size_t n = rctr_stack_capture(raw, want + BLOCK_EXTRA + (base ? 0 : BLOCK_LEARN), base);
    size_t i = 0;
    if (!base) {
        while (i < n && !rci_pheap_is_alloc_frame(raw[i]))
            i++;
        if (i < n)
            atomic_store_explicit(&block_base, i, memory_order_relaxed);
        else
            i = 0;   /* no marked frame (no section): keep the whole walk */
    }
    while (i < n && rci_pheap_is_alloc_frame(raw[i]))
        i++;
    size_t k = n - i < want ? n - i : want;
    memcpy(out, raw + i, k * sizeof *out);
    /* no tail call: grab_block's frame must be on the stack for every walk */
    __asm__ volatile("" ::: "memory");
    return k;
}

/* A block handed to a runtime; false when its trace cannot be stored (the
 * heap then fails the allocation, as the allocator hooks do). */
static bool obj_alloc(void *block, size_t size) {
    if (reentrant || !atomic_load_explicit(&T.tracing, memory_order_acquire))
        return true;
    reentrant++;
    uintptr_t frames[RCTR_MAX_FRAMES];
    size_t n = grab_block(frames);
    pthread_mutex_lock(&T.lock);
    int r = atomic_load_explicit(&T.tracing, memory_order_relaxed)
                ? add_trace(RC_TRACE_DOMAIN_HEAP, (uintptr_t)block, size, frames, n)
                : 0;
    pthread_mutex_unlock(&T.lock);
    reentrant--;
    return r == 0;
}

/* A block given back, or retired into a quarantine; one without a trace
 * (allocated before start, or reported twice) is ignored. */
static void obj_free(void *block) {
    if (reentrant || !atomic_load_explicit(&T.tracing, memory_order_acquire))
        return;
    reentrant++;
    pthread_mutex_lock(&T.lock);
    remove_trace(RC_TRACE_DOMAIN_HEAP, (uintptr_t)block);
    pthread_mutex_unlock(&T.lock);
    reentrant--;
}

static const rci_pheap_hooks obj_hooks = { .alloc = obj_alloc, .free = obj_free };

/* ---- calibration: how many raw frames to drop per entry point ---- */

/* Default drops, for a walk that calibration could not measure: the walk's
 * own frame, grab, the hook and the entry point. */
#define SKIP_GUESS 4

/* Frames of the suffix that a and b share, from their outer ends. */
static size_t common_suffix(const uintptr_t *a, size_t na, const uintptr_t *b, size_t nb) {
    size_t k = 0;
    while (k < na && k < nb && a[na - 1 - k] == b[nb - 1 - k])
        k++;
    return k;
}

/* Call entry point kind from here with calibration on; the raw walk taken
 * in grab() (A) and one taken here (B) share the frames of our callers:
 * what A has before them, minus our own frame, is what to drop.
 * noinline, and the walk after the call, so that our frame is a real one
 * between the call and our callers. */
static NOINLINE void calibrate_one(int kind) {
    uintptr_t a[CALIB_MAX], b[CALIB_MAX];
    void *p = NULL;
    calib_len = 0;
    calib_buf = a;
    switch (kind) {
    case K_MALLOC: p = rc_malloc(16); break;
    case K_CALLOC: p = rc_calloc(1, 16); break;
    case K_REALLOC: p = rc_realloc(NULL, 16); break;
    case K_ALIGNED: p = rc_aligned_alloc(64, 64); break;
    default: rc_trace_track(1, &p, 1); break;
    }
    calib_buf = NULL;
    size_t na = calib_len;
    size_t nb = rctr_stack_capture(b, CALIB_MAX, 0);
    rc_free(p);
    /* B is [walk, here, callers...]: our callers are its last nb - 2 frames */
    if (na == 0 || na >= CALIB_MAX || nb < 2 || nb >= CALIB_MAX)
        return;
    size_t shared = common_suffix(a, na, b, nb);
    if (shared != nb - 2 || na < shared + 2)
        return;
    T.skip[kind] = na - shared - 1;   /* drop everything inside us */
}

static void calibrate(void) {
    for (int k = 0; k < K_COUNT; k++) {
        T.skip[k] = SKIP_GUESS;
        calibrate_one(k);
    }
    T.calibrated = true;
}

/* ---- public API ---- */

static bool is_default(const rc_allocator *a) {
    rc_allocator d;
    rc_heap_get_default_allocator(&d);
    return a->malloc == d.malloc && a->calloc == d.calloc && a->realloc == d.realloc &&
           a->free == d.free && a->aligned_alloc == d.aligned_alloc &&
           a->usable_size == d.usable_size && a->ctx == d.ctx;
}

int rc_trace_start(int nframes) {
    if (nframes < 1 || nframes > RC_TRACE_MAX_FRAMES)
        return RC_EINVAL;
    pthread_mutex_lock(&T.control);
    if (atomic_load(&T.tracing)) {
        rctr_lock();
        T.nframes = nframes;
        rctr_unlock();
        pthread_mutex_unlock(&T.control);
        return 0;
    }
    rc_allocator prev, mine;
    rc_heap_get_allocator(&prev);
    T.prev = prev;
    mine = (rc_allocator){
        .ctx = &T.prev,
        .malloc = hook_malloc,
        .calloc = hook_calloc,
        .realloc = hook_realloc,
        .free = hook_free,
        .aligned_alloc = hook_aligned,
        .usable_size = hook_usable,
    };
    int r = rc_heap_set_allocator(&mine);
    if (r != 0) {
        pthread_mutex_unlock(&T.control);
        return r;
    }
    if (!T.calibrated)
        calibrate();
    rctr_lock();
    T.nframes = nframes;
    atomic_store_explicit(&T.tracing, 1, memory_order_release);
    rctr_unlock();
    rci_pheap_set_hooks(&obj_hooks);
    pthread_mutex_unlock(&T.control);
    return 0;
}

void rc_trace_stop(void) {
    pthread_mutex_lock(&T.control);
    if (!atomic_load(&T.tracing)) {
        pthread_mutex_unlock(&T.control);
        return;
    }
    rc_heap_set_allocator(is_default(&T.prev) ? NULL : &T.prev);
    rci_pheap_set_hooks(NULL);
    rctr_lock();
    atomic_store(&T.tracing, 0);
    T.nframes = 0;
    release_all();
    rctr_unlock();
    pthread_mutex_unlock(&T.control);
}

int rc_trace_is_tracing(void) {
    return atomic_load(&T.tracing) ? 1 : 0;
}

int rc_trace_get_traceback_limit(void) {
    rctr_lock();
    int n = T.nframes;
    rctr_unlock();
    return n;
}

int rctr_limit(void) {
    return T.nframes;
}

void rc_trace_get_traced_memory(size_t *current, size_t *peak) {
    rctr_lock();
    size_t c = T.current, p = T.peak;
    rctr_unlock();
    if (current)
        *current = c;
    if (peak)
        *peak = p;
}

void rc_trace_reset_peak(void) {
    rctr_lock();
    T.peak = T.current;
    rctr_unlock();
}

size_t rc_trace_get_tracemalloc_memory(void) {
    rctr_lock();
    size_t n = T.mem.bytes + rci_htable_bytes(&T.traces) + rci_htable_bytes(&T.domains) +
               rci_htable_bytes(&T.tbs);
    size_t pos = 0;
    uintptr_t k, v;
    while (rci_htable_next(&T.domains, &pos, &k, &v))
        n += rci_htable_bytes((rci_htable *)v);
    rctr_unlock();
    return n;
}

void rc_trace_clear_traces(void) {
    pthread_mutex_lock(&T.control);
    rctr_lock();
    release_all();
    rctr_unlock();
    pthread_mutex_unlock(&T.control);
}

size_t rctr_trace_count(void) {
    return T.ntraces;
}

int rctr_visit_traces(rctr_trace_visitor fn, void *arg) {
    size_t pos = 0;
    uintptr_t k, v;
    while (rci_htable_next(&T.traces, &pos, &k, &v)) {
        int r = fn(RC_TRACE_DOMAIN_HEAP, k, (const rctr_trace *)v, arg);
        if (r)
            return r;
    }
    size_t dpos = 0;
    uintptr_t dk, dv;
    while (rci_htable_next(&T.domains, &dpos, &dk, &dv)) {
        const rci_htable *t = (const rci_htable *)dv;
        pos = 0;
        while (rci_htable_next(t, &pos, &k, &v)) {
            int r = fn((unsigned)(dk - 1), k, (const rctr_trace *)v, arg);
            if (r)
                return r;
        }
    }
    return 0;
}

/* Traceback of the caller of rc_trace_track: the same walk as the hooks',
 * from one frame less deep (grab is called from here directly). */
int rc_trace_track(unsigned int domain, const void *ptr, size_t size) {
    if (!ptr)
        return RC_EINVAL;
    if (!atomic_load(&T.tracing) && !calib_buf)
        return RC_ESTATE;
    uintptr_t frames[RCTR_MAX_FRAMES];
    reentrant++;
    size_t n = grab(frames, K_TRACK);
    reentrant--;
    if (n == SIZE_MAX)
        return 0;
    rctr_lock();
    int r = RC_ESTATE;
    if (atomic_load(&T.tracing))
        r = add_trace(domain, (uintptr_t)ptr, size, frames, n) ? RC_ENOMEM : 0;
    rctr_unlock();
    return r;
}

int rc_trace_untrack(unsigned int domain, const void *ptr) {
    rctr_lock();
    int r = RC_ESTATE;
    if (atomic_load(&T.tracing)) {
        remove_trace(domain, (uintptr_t)ptr);
        r = 0;
    }
    rctr_unlock();
    return r;
}

rc_traceback *rc_trace_get_object_traceback(const void *ptr) {
    rctr_lock();
    rc_traceback *copy = NULL;
    uintptr_t v;
    /* an object's pointer may lie past its block's start (a prefix): the
     * block it is in holds the trace */
    bool found = false;
    if (atomic_load(&T.tracing) && ptr) {
        found = rci_htable_get(&T.traces, (uintptr_t)ptr, &v);
        if (!found) {
            void *block = rci_pheap_block_start(ptr);
            found = block && rci_htable_get(&T.traces, (uintptr_t)block, &v);
        }
    }
    if (found) {
        const rctr_traceback *tb = ((const rctr_trace *)v)->tb;
        copy = malloc(sizeof *copy + tb->nframes * sizeof tb->frames[0]);
        if (copy) {
            copy->nframes = tb->nframes;
            memcpy(copy->frames, tb->frames, tb->nframes * sizeof tb->frames[0]);
        }
    }
    rctr_unlock();
    return copy;
}

size_t rc_traceback_len(const rc_traceback *tb) {
    return tb ? tb->nframes : 0;
}

uintptr_t rc_traceback_addr(const rc_traceback *tb, size_t i) {
    return tb && i < tb->nframes ? tb->frames[i] : 0;
}

void rc_traceback_free(rc_traceback *tb) {
    free(tb);
}
