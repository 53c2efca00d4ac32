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
#include "symbolize/symbolize.h"
#include "heap/os/os.h"
#include "heap/private.h"
#include "recycle/heap.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))
#if defined(__x86_64__) || defined(__i386__)
#define RCTR_PAUSE() __builtin_ia32_pause()
#else
#define RCTR_PAUSE() ((void)0)
#endif
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

/* A trace table (see "trace tables" below). */
typedef struct tslot {
    uintptr_t key;
    rctr_trace t;
} tslot;

typedef struct ttable {
    tslot *slot;
    size_t mask, count;            /* slots - 1 (0 while none), entries */
    unsigned shift;                /* 64 - log2(slots) */
} ttable;


enum { K_MALLOC, K_CALLOC, K_REALLOC, K_ALIGNED, K_TRACK, K_COUNT };

static struct tracer {
    pthread_mutex_t control;       /* start / stop / clear */
    _Atomic int lock;              /* everything below: a spin lock (lock_tables) */
    _Atomic int tracing;
    _Atomic int nframes;
    rc_allocator prev;             /* the allocator wrapped; the hooks' ctx */
    ttable traces;                 /* domain 0 */
    rci_htable domains;            /* domain + 1 -> ttable* (in the arena) */
    struct nodes {                 /* the interned tracebacks: open addressing */
        struct node_slot {         /* node NULL: empty; mapped from the OS */
            uint64_t hash;         /* node->hash: a probe reads no node but its own */
            rctr_traceback *node;
        } *slot;
        size_t mask, count;
    } nodes;
    arena mem;
    size_t current, peak, ntraces;
    /* While rc_trace_set_object_types is on: the block of each traced
     * object -> its type's name (a type outlives its objects). An entry
     * goes with its trace. */
    rci_htable types;
    bool types_on;
    size_t gen;                    /* bumped whenever the arena is released; never 0 */
    /* Raw frames between the walk and the allocator's caller, per entry
     * point; measured once per process by calibrate(). */
    size_t skip[K_COUNT];
    bool calibrated;
} T = {
    .control = PTHREAD_MUTEX_INITIALIZER,
    .gen = 1,   /* a memo frame's tag_gen 0 means "no tag" */
};

/* Set while this thread runs tracer code: hooks pass through. */
static _Thread_local int reentrant;
/* Non-NULL while this thread calibrates: grab() stores the raw walk here. */
static _Thread_local uintptr_t *calib_buf;
static _Thread_local size_t calib_len;
#define CALIB_MAX 256

static rctr_traceback empty_tb;    /* the traceback of a walk that found nothing */

/* The change listener (rctr_set_change_listener), and the change this
 * thread made under the lock, told to it once the lock is released. */
static _Atomic(rctr_change_fn) change_fn;
static _Thread_local struct change {
    bool due;
    size_t added, removed, current;
} change;
static void tell_change(void);

/* The tables' lock. Held for a table update (tens of nanoseconds) on every
 * traced allocation and free, so it is a spin lock: one atomic exchange to
 * take it uncontended, where a mutex costs several times that. A waiter
 * spins briefly, then yields, then sleeps, so that a long holder (a
 * snapshot copying a million traces) costs the others no CPU. */
static void lock_tables(void) {
    if (!atomic_exchange_explicit(&T.lock, 1, memory_order_acquire))
        return;
    for (unsigned spins = 0;;) {
        while (atomic_load_explicit(&T.lock, memory_order_relaxed)) {
            if (++spins < 64)
                RCTR_PAUSE();
            else if (spins < 256)
                sched_yield();
            else
                nanosleep(&(struct timespec){0, 20000}, NULL);
        }
        if (!atomic_exchange_explicit(&T.lock, 1, memory_order_acquire))
            return;
    }
}

static void unlock_tables(void) {
    atomic_store_explicit(&T.lock, 0, memory_order_release);
    if (UNLIKELY(change.due))
        tell_change();
}

/* fork: the child has one thread, the one that forked; a lock another
 * thread held at that moment would stay taken in the child forever. The
 * forking thread takes the tables' lock around fork (with its re-entrancy
 * flag set, so the libc calls of fork are not traced), so the child starts
 * with consistent tables and a free lock. */
static void atfork_prepare(void) {
    reentrant++;
    lock_tables();
}

static void atfork_parent(void) {
    unlock_tables();
    reentrant--;
}

static void atfork_child(void) {
    unlock_tables();
    reentrant--;
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void atfork_register(void) {
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void rctr_lock(void) {
    reentrant++;
    lock_tables();
}

void rctr_unlock(void) {
    unlock_tables();
    reentrant--;
}

/* ---- tracebacks ---- */

size_t rctr_tb_frames(const rctr_traceback *tb, uintptr_t *out) {
    size_t n = 0;
    for (; tb && tb->nframes; tb = tb->parent)
        out[n++] = tb->pc;
    return n;
}

static uint64_t node_hash(uintptr_t pc, const rctr_traceback *parent) {
    uint64_t h = (parent ? parent->hash : UINT64_C(0x9e3779b97f4a7c15)) ^ (uint64_t)pc;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 32;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    return h ^ (h >> 29);
}

static size_t nodes_bytes(size_t slots) {
    size_t page = rci_os_page_size();
    return (slots * sizeof(struct node_slot) + page - 1) & ~(page - 1);
}

static void nodes_free(void) {
    if (T.nodes.slot)
        rci_os_free(T.nodes.slot, nodes_bytes(T.nodes.mask + 1));
    memset(&T.nodes, 0, sizeof T.nodes);
}

/* Double the table (or make the first); false on ENOMEM (unchanged). */
static bool nodes_grow(void) {
    size_t slots = T.nodes.slot ? (T.nodes.mask + 1) * 2 : 4096;
    void *mem;
    if (rci_os_alloc_aligned(nodes_bytes(slots), rci_os_page_size(), &mem) != 0)
        return false;
    struct node_slot *fresh = mem;   /* zeroed pages: every slot empty */
    size_t mask = slots - 1;
    for (size_t i = 0; T.nodes.slot && i <= T.nodes.mask; i++) {
        struct node_slot e = T.nodes.slot[i];
        if (!e.node)
            continue;
        size_t k = (size_t)e.hash & mask;
        while (fresh[k].node)
            k = (k + 1) & mask;
        fresh[k] = e;
    }
    size_t count = T.nodes.count;
    nodes_free();
    T.nodes = (struct nodes){fresh, mask, count};
    return true;
}

/* The interned traceback [pc, parent's frames...]; NULL on ENOMEM (lock
 * held). The table stays at most half full: probes are short. */
static const rctr_traceback *intern_probe(uintptr_t pc, const rctr_traceback *parent) {
    uint64_t h = node_hash(pc, parent);
    if (T.nodes.slot) {
        for (size_t k = (size_t)h & T.nodes.mask;; k = (k + 1) & T.nodes.mask) {
            const struct node_slot *e = &T.nodes.slot[k];
            if (!e->node)
                break;
            if (e->hash == h && e->node->pc == pc && e->node->parent == parent)
                return e->node;
        }
    }
    if ((T.nodes.count + 1) * 2 > (T.nodes.slot ? T.nodes.mask + 1 : 0) && !nodes_grow())
        return NULL;
    rctr_traceback *tb = arena_alloc(&T.mem, sizeof *tb);
    if (!tb)
        return NULL;
    *tb = (rctr_traceback){pc, parent, h, parent ? parent->nframes + 1 : 1, NULL};
    size_t k = (size_t)h & T.nodes.mask;
    while (T.nodes.slot[k].node)
        k = (k + 1) & T.nodes.mask;
    T.nodes.slot[k] = (struct node_slot){h, tb};
    T.nodes.count++;
    return tb;
}

/* intern_probe, first trying the parent's hint. */
static const rctr_traceback *intern_node(uintptr_t pc, const rctr_traceback *parent) {
    if (parent && parent->hint && parent->hint->pc == pc)
        return parent->hint;
    const rctr_traceback *found = intern_probe(pc, parent);
    if (found && parent)
        ((rctr_traceback *)(uintptr_t)parent)->hint = found;   /* every node is the arena's, writable */
    return found;
}

/* What a hook captured: the frames in the thread's memo (fr), or a copy
 * (flat) when the memo could not serve. */
typedef struct grabbed {
    rctr_frame *fr;
    size_t n;
    uintptr_t flat[RCTR_MAX_FRAMES];
} grabbed;

/* The interned traceback of g; NULL on ENOMEM (lock held).
 *
 * With the memo, a frame's tag is the interned traceback from that frame
 * to the outermost frame of the capture that wrote it; the memo keeps a
 * frame only while it and its outer frames are unchanged, so the tag holds
 * again for a capture that ends at the same outermost frame (the same %rsp,
 * kept in tag_cut) in the same generation of the tables. A capture then
 * interns only the frames below the innermost such tag: for a program
 * whose consecutive allocations share their callers, one or two lookups. */
static const rctr_traceback *intern(grabbed *g) {
    size_t n = g->n;
    if (n == 0)
        return &empty_tb;
    const rctr_traceback *tb = NULL;
    if (!g->fr) {
        for (size_t k = n; k-- > 0;)
            if (!(tb = intern_node(g->flat[k], tb)))
                return NULL;
        return tb;
    }
    rctr_frame *fr = g->fr;
    uintptr_t cut = fr[n - 1].sp;
    size_t i = 0;
    while (i < n && !(fr[i].tag_gen == T.gen && fr[i].tag_cut == cut))
        i++;
    if (i < n)
        tb = (const rctr_traceback *)fr[i].tag;
    while (i-- > 0) {
        if (!(tb = intern_node(fr[i].pc, tb)))
            return NULL;
        fr[i].tag = (uintptr_t)tb;
        fr[i].tag_cut = cut;
        fr[i].tag_gen = T.gen;
    }
    return tb;
}

/* ---- trace tables: address -> {size, traceback} ----
 *
 * Open addressing with linear probing over slots that hold the trace
 * itself, so that recording or forgetting a block touches one slot (one
 * cache miss in a large table) and no separate record. A removal shifts the
 * entries after it back into the hole (no tombstones), so a lookup ends at
 * the first empty slot and the load stays what the live traces make it.
 * Address 0 marks an empty slot (no traced address is 0). The slots are
 * pages from the OS: the tracer's memory never comes from the traced heap. */

static inline size_t tt_home(const ttable *tt, uintptr_t key) {
    /* Addresses of one arena differ in a few middle bits only, in steps of
     * the block size: a multiply alone spreads them badly (with 32-byte
     * blocks a quarter of the homes took every key). The xor-shift first
     * folds the high bits into the low ones. */
    uint64_t h = (uint64_t)key;
    h ^= h >> 23;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 32;
    return (size_t)((h * UINT64_C(0x9E3779B97F4A7C15)) >> tt->shift);
}

static size_t tt_bytes(size_t slots) {
    size_t page = rci_os_page_size();
    return (slots * sizeof(tslot) + page - 1) & ~(page - 1);
}

static void tt_free(ttable *tt) {
    if (tt->slot)
        rci_os_free(tt->slot, tt_bytes(tt->mask + 1));
    memset(tt, 0, sizeof *tt);
}

/* Twice the slots (1024 the first time); false on ENOMEM (unchanged). A
 * table that only shrank keeps its size (clear_traces and stop free it). */
static bool tt_grow(ttable *tt) {
    size_t slots = tt->slot ? (tt->mask + 1) * 2 : 1024;
    void *mem;
    if (rci_os_alloc_aligned(tt_bytes(slots), rci_os_page_size(), &mem) != 0)
        return false;
    ttable fresh = {mem, slots - 1, tt->count, (unsigned)(64 - __builtin_ctzll(slots))};
    for (size_t i = 0; tt->slot && i <= tt->mask; i++) {
        if (!tt->slot[i].key)
            continue;
        size_t k = tt_home(&fresh, tt->slot[i].key);
        while (fresh.slot[k].key)
            k = (k + 1) & fresh.mask;
        fresh.slot[k] = tt->slot[i];
    }
    tt_free(tt);
    *tt = fresh;
    return true;
}

static rctr_trace *tt_find(const ttable *tt, uintptr_t key) {
    if (!tt->slot)
        return NULL;
    for (size_t k = tt_home(tt, key);; k = (k + 1) & tt->mask) {
        if (tt->slot[k].key == key)
            return &tt->slot[k].t;
        if (!tt->slot[k].key)
            return NULL;
    }
}

/* The trace of key, added (zeroed, *added true) if absent; NULL on ENOMEM.
 * At most half of the slots are used (linear probing's clusters, which a
 * lookup and a removal scan, stay short), so adding right after a removal
 * never grows the table and cannot fail. */
static rctr_trace *tt_insert(ttable *tt, uintptr_t key, bool *added) {
    *added = false;
    if (tt->slot) {
        size_t k = tt_home(tt, key);
        for (; tt->slot[k].key; k = (k + 1) & tt->mask)
            if (tt->slot[k].key == key)
                return &tt->slot[k].t;
        if ((tt->count + 1) * 2 <= tt->mask + 1) {
            tt->slot[k] = (tslot){key, {0, NULL}};
            tt->count++;
            *added = true;
            return &tt->slot[k].t;
        }
    }
    if (!tt_grow(tt))
        return NULL;
    size_t k = tt_home(tt, key);
    while (tt->slot[k].key)
        k = (k + 1) & tt->mask;
    tt->slot[k] = (tslot){key, {0, NULL}};
    tt->count++;
    *added = true;
    return &tt->slot[k].t;
}

/* Remove key; its trace into *out. False if absent. */
static bool tt_remove(ttable *tt, uintptr_t key, rctr_trace *out) {
    if (!tt->slot)
        return false;
    size_t hole = tt_home(tt, key);
    while (tt->slot[hole].key != key) {
        if (!tt->slot[hole].key)
            return false;
        hole = (hole + 1) & tt->mask;
    }
    *out = tt->slot[hole].t;
    /* Backward shift: an entry after the hole moves into it unless its home
     * lies cyclically in (hole, its slot], where the probe from home would
     * not pass the hole. */
    for (size_t k = (hole + 1) & tt->mask; tt->slot[k].key; k = (k + 1) & tt->mask) {
        size_t home = tt_home(tt, tt->slot[k].key);
        if (((k - home) & tt->mask) >= ((k - hole) & tt->mask)) {
            tt->slot[hole] = tt->slot[k];
            hole = k;
        }
    }
    tt->slot[hole].key = 0;
    tt->count--;
    return true;
}

/* Visit every trace of tt; stop at fn's first nonzero value and return it. */
static int tt_visit(const ttable *tt, unsigned domain, rctr_trace_visitor fn, void *arg) {
    for (size_t i = 0; tt->slot && i <= tt->mask; i++) {
        if (!tt->slot[i].key)
            continue;
        int r = fn(domain, tt->slot[i].key, &tt->slot[i].t, arg);
        if (r)
            return r;
    }
    return 0;
}

/* ---- traces ---- */

/* The table of domain; NULL when it has none (and create is false) or on
 * ENOMEM (lock held). */
static ttable *domain_table(unsigned domain, bool create) {
    if (domain == RC_TRACE_DOMAIN_HEAP)
        return &T.traces;
    uintptr_t key = (uintptr_t)domain + 1, v;
    if (rci_htable_get(&T.domains, key, &v))
        return (ttable *)v;
    if (!create || rci_htable_reserve(&T.domains, T.domains.count + 1) != 0)
        return NULL;
    ttable *t = arena_alloc(&T.mem, sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    rci_htable_put(&T.domains, key, (uintptr_t)t);   /* room reserved */
    return t;
}

static void count_add(size_t size) {
    T.current += size;
    if (T.current > T.peak)
        T.peak = T.current;
}

/* Note a change for the listener, if there is one (lock held). */
static void note_change(size_t added, size_t removed) {
    if (!atomic_load_explicit(&change_fn, memory_order_relaxed))
        return;
    change.due = true;
    change.added += added;
    change.removed += removed;
    change.current = T.current;
}

static void tell_change(void) {
    struct change c = change;
    change = (struct change){0};
    rctr_change_fn fn = atomic_load_explicit(&change_fn, memory_order_acquire);
    if (fn)
        fn(c.added, c.removed, c.current);
}

void rctr_set_change_listener(rctr_change_fn fn) {
    atomic_store_explicit(&change_fn, fn, memory_order_release);
}

/* Record ptr (lock held). 0 or ENOMEM; unchanged on failure. */
static int put_trace(unsigned domain, uintptr_t ptr, size_t size, const rctr_traceback *tb) {
    ttable *t = domain_table(domain, true);
    if (!t)
        return ENOMEM;
    bool added;
    rctr_trace *rec = tt_insert(t, ptr, &added);
    if (!rec)
        return ENOMEM;
    size_t old = added ? 0 : rec->size;
    if (added)
        T.ntraces++;
    else
        T.current -= rec->size;
    rec->size = size;
    rec->tb = tb;
    count_add(size);
    note_change(size, old);
    return 0;
}

/* Record ptr with the traceback g captured (lock held). 0 or ENOMEM;
 * unchanged on failure (the tracebacks interned meanwhile stay). */
static int add_trace(unsigned domain, uintptr_t ptr, size_t size, grabbed *g) {
    const rctr_traceback *tb = intern(g);
    return tb ? put_trace(domain, ptr, size, tb) : ENOMEM;
}

/* Forget ptr's trace (lock held); true if there was one. */
static bool remove_trace(unsigned domain, uintptr_t ptr) {
    ttable *t = domain_table(domain, false);
    rctr_trace old;
    if (!t || !tt_remove(t, ptr, &old))
        return false;
    T.current -= old.size;
    T.ntraces--;
    note_change(0, old.size);
    return true;
}

/* Free every table and the arena (lock held). */
static void release_all(void) {
    size_t pos = 0;
    uintptr_t k, v;
    while (rci_htable_next(&T.domains, &pos, &k, &v))
        tt_free((ttable *)v);
    rci_htable_free(&T.domains);
    tt_free(&T.traces);
    rci_htable_free(&T.types);
    nodes_free();
    arena_release(&T.mem);
    T.current = T.peak = T.ntraces = 0;
    T.gen++;                       /* every tag in the threads' memos is stale */
}

/* ---- stack capture at a hook ---- */

/* The traceback of the allocator's caller (nframes frames) into g; false
 * while calibrating (nothing is to be recorded then). The walk starts at
 * the hook's own frame (st, taken by the entry point of the tracer that the
 * allocator called), so the tracer's inner frames are never walked; the
 * frames from there to the program's call are the same for every call
 * through one entry point, and calibrate() counts them. */
static bool grab(grabbed *g, int kind, const rctr_start *st) {
    if (UNLIKELY(calib_buf != NULL)) {
        calib_len = rctr_stack_capture_plain_from(st, calib_buf, CALIB_MAX, 0);
        return false;
    }
    size_t max = (size_t)atomic_load_explicit(&T.nframes, memory_order_relaxed);
    g->n = rctr_stack_walk_from(st, &g->fr, g->flat, max, T.skip[kind]);
    return true;
}

static bool active(void) {
    return !reentrant && (atomic_load_explicit(&T.tracing, memory_order_acquire) || calib_buf);
}

/* Record a fresh block; on failure the block is freed and NULL returned, so
 * that a traced allocation either succeeds with its trace or fails. */
static void *record_new(const rc_allocator *prev, void *p, size_t size, int kind, const rctr_start *st) {
    grabbed g;
    if (!grab(&g, kind, st))
        return p;
    lock_tables();
    int r = atomic_load_explicit(&T.tracing, memory_order_relaxed) ? add_trace(0, (uintptr_t)p, size, &g) : 0;
    unlock_tables();
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
    rctr_start st;   /* where the walk starts: this frame */
    RCTR_START_HERE(st);
    reentrant++;
    void *p = prev->malloc(prev->ctx, size);
    if (p)
        p = record_new(prev, p, size, K_MALLOC, &st);
    reentrant--;
    return p;
}

static void *hook_calloc(void *ctx, size_t count, size_t size) {
    const rc_allocator *prev = ctx;
    if (!active())
        return prev->calloc(prev->ctx, count, size);
    rctr_start st;   /* where the walk starts: this frame */
    RCTR_START_HERE(st);
    reentrant++;
    void *p = prev->calloc(prev->ctx, count, size);
    if (p)   /* the product did not overflow, or calloc would have failed */
        p = record_new(prev, p, count * size, K_CALLOC, &st);
    reentrant--;
    return p;
}

static void *hook_aligned(void *ctx, size_t alignment, size_t size) {
    const rc_allocator *prev = ctx;
    if (!active())
        return prev->aligned_alloc(prev->ctx, alignment, size);
    rctr_start st;   /* where the walk starts: this frame */
    RCTR_START_HERE(st);
    reentrant++;
    void *p = prev->aligned_alloc(prev->ctx, alignment, size);
    if (p)
        p = record_new(prev, p, size, K_ALIGNED, &st);
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
    lock_tables();
    remove_trace(0, (uintptr_t)p);
    unlock_tables();
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
    rctr_start st;   /* where the walk starts: this frame */
    RCTR_START_HERE(st);
    reentrant++;
    grabbed g;
    if (!grab(&g, K_REALLOC, &st)) {
        void *q = prev->realloc(prev->ctx, p, size);
        reentrant--;
        return q;
    }
    lock_tables();
    void *q = prev->realloc(prev->ctx, p, size);
    if (q && atomic_load_explicit(&T.tracing, memory_order_relaxed)) {
        const rctr_traceback *tb = intern(&g);
        rctr_trace old;
        if (p && tt_remove(&T.traces, (uintptr_t)p, &old)) {
            /* a slot was just freed: the insert cannot fail */
            bool added;
            rctr_trace *rec = tt_insert(&T.traces, (uintptr_t)q, &added);
            T.current -= old.size;
            rec->size = size;
            rec->tb = tb ? tb : old.tb;
            count_add(size);
            note_change(size, old.size);
        } else if (tb) {
            put_trace(0, (uintptr_t)q, size, tb);
        }
    }
    unlock_tables();
    reentrant--;
    return q;
}

static size_t hook_usable(void *ctx, const void *p) {
    const rc_allocator *prev = ctx;
    return prev->usable_size(prev->ctx, p);
}

/* ---- objects: blocks of the private heaps ---- */

/* Raw frames of a walk from obj_alloc's frame before the first frame of a
 * function marked RCI_ALLOC_FRAME: obj_alloc's own, and the private heap's
 * between it and the marked function that called it. The same for every
 * walk (obj_alloc is called only from marked functions, through the heap's
 * one hook call), so it is learnt from the first walk that finds a marked
 * frame; 0 until then. */
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
static void grab_block(grabbed *g, const rctr_start *st) {
    size_t want = (size_t)atomic_load_explicit(&T.nframes, memory_order_relaxed);
    size_t base = atomic_load_explicit(&block_base, memory_order_relaxed);
    size_t max = want + BLOCK_EXTRA + (base ? 0 : BLOCK_LEARN);
    rctr_frame *fr;
    uintptr_t raw[RCTR_MAX_FRAMES + BLOCK_EXTRA + BLOCK_LEARN];
    size_t n = rctr_stack_walk_from(st, &fr, raw, max, base);
#define PC(i) (fr ? fr[i].pc : raw[i])
    size_t i = 0;
    if (!base) {
        while (i < n && !rci_pheap_is_alloc_frame(PC(i)))
            i++;
        if (i < n)
            atomic_store_explicit(&block_base, i, memory_order_relaxed);
        else
            i = 0;   /* no marked frame (no section): keep the whole walk */
    }
    while (i < n && rci_pheap_is_alloc_frame(PC(i)))
        i++;
#undef PC
    size_t k = n - i < want ? n - i : want;
    if (fr) {
        g->fr = fr + i;
    } else {
        g->fr = NULL;
        memcpy(g->flat, raw + i, k * sizeof g->flat[0]);
    }
    g->n = k;
}

/* A block handed to a runtime; false when its trace cannot be stored (the
 * heap then fails the allocation, as the allocator hooks do). */
static bool obj_alloc(void *block, size_t size) {
    if (reentrant || !atomic_load_explicit(&T.tracing, memory_order_acquire))
        return true;
    reentrant++;
    rctr_start st;
    RCTR_START_HERE(st);
    grabbed g;
    grab_block(&g, &st);
    lock_tables();
    int r = atomic_load_explicit(&T.tracing, memory_order_relaxed)
                ? add_trace(RC_TRACE_DOMAIN_HEAP, (uintptr_t)block, size, &g)
                : 0;
    unlock_tables();
    reentrant--;
    return r == 0;
}

/* A block given back, or retired into a quarantine; one without a trace
 * (allocated before start, or reported twice) is ignored. */
static void obj_free(void *block) {
    if (reentrant || !atomic_load_explicit(&T.tracing, memory_order_acquire))
        return;
    reentrant++;
    lock_tables();
    remove_trace(RC_TRACE_DOMAIN_HEAP, (uintptr_t)block);
    if (T.types.count)
        rci_htable_remove(&T.types, (uintptr_t)block, NULL);
    unlock_tables();
    reentrant--;
}

/* A traced block now holds an object of type name: kept while types are
 * on (no entry without a trace; out of memory just leaves it untyped). */
static void obj_typed(const void *block, const char *name) {
    if (reentrant || !atomic_load_explicit(&T.tracing, memory_order_acquire))
        return;
    reentrant++;
    lock_tables();
    if (T.types_on && tt_find(&T.traces, (uintptr_t)block))
        (void)rci_htable_put(&T.types, (uintptr_t)block, (uintptr_t)name);
    unlock_tables();
    reentrant--;
}

const char *rctr_type_of(unsigned domain, uintptr_t ptr) {
    uintptr_t name;
    if (domain != RC_TRACE_DOMAIN_HEAP || !T.types.count ||
        !rci_htable_get(&T.types, ptr, &name))
        return NULL;
    return (const char *)name;
}

int rc_trace_set_object_types(int on) {
    pthread_mutex_lock(&T.control);
    rctr_lock();
    T.types_on = on != 0;
    if (!on)
        rci_htable_free(&T.types);
    rctr_unlock();
    pthread_mutex_unlock(&T.control);
    return 0;
}

int rc_trace_get_object_types(void) {
    rctr_lock();
    int on = T.types_on ? 1 : 0;
    rctr_unlock();
    return on;
}

/* Where the block holding p was allocated, symbolized (the heap's origin
 * hook: the collector's "why is it alive?" report asks it). */
static size_t obj_origin(const void *p, const char *indent, FILE *out) {
    rc_traceback *tb = rc_trace_get_object_traceback(p);
    if (!tb)
        return 0;
    size_t n = rc_traceback_len(tb);
    for (size_t i = 0; i < n; i++) {
        rcs_frame f[8];
        size_t k = rcs_symbolize(rc_traceback_addr(tb, i), f, 8);
        for (size_t j = 0; j < k && j < 8; j++) {
            fprintf(out, "%s%s", indent, f[j].function ? f[j].function : "??");
            if (f[j].file)
                fprintf(out, " (%s:%d)%s\n", f[j].file, f[j].line, f[j].inlined ? " inlined" : "");
            else if (f[j].module)
                fprintf(out, " (%s+0x%zx)\n", f[j].module, (size_t)f[j].module_offset);
            else
                fputc('\n', out);
        }
    }
    rc_traceback_free(tb);
    return n;
}

static const rci_pheap_hooks obj_hooks = { .alloc = obj_alloc, .free = obj_free,
                                           .origin = obj_origin, .typed = obj_typed };

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
    pthread_once(&atfork_once, atfork_register);
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
    size_t n = T.mem.bytes + (T.traces.slot ? tt_bytes(T.traces.mask + 1) : 0) + rci_htable_bytes(&T.domains) +
               (T.nodes.slot ? nodes_bytes(T.nodes.mask + 1) : 0);
    size_t pos = 0;
    uintptr_t k, v;
    while (rci_htable_next(&T.domains, &pos, &k, &v)) {
        const ttable *t = (const ttable *)v;
        n += t->slot ? tt_bytes(t->mask + 1) : 0;
    }
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
    int r = tt_visit(&T.traces, RC_TRACE_DOMAIN_HEAP, fn, arg);
    size_t pos = 0;
    uintptr_t k, v;
    while (!r && rci_htable_next(&T.domains, &pos, &k, &v))
        r = tt_visit((const ttable *)v, (unsigned)(k - 1), fn, arg);
    return r;
}

/* Traceback of the caller of rc_trace_track: the same walk as the hooks',
 * from one frame less deep (grab is called from here directly). */
int rc_trace_track(unsigned int domain, const void *ptr, size_t size) {
    if (!ptr)
        return RC_EINVAL;
    if (!atomic_load(&T.tracing) && !calib_buf)
        return RC_ESTATE;
    rctr_start st;
    RCTR_START_HERE(st);
    grabbed g;
    reentrant++;
    bool got = grab(&g, K_TRACK, &st);
    reentrant--;
    if (!got)
        return 0;
    rctr_lock();
    int r = RC_ESTATE;
    if (atomic_load(&T.tracing))
        r = add_trace(domain, (uintptr_t)ptr, size, &g) ? RC_ENOMEM : 0;
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
    /* an object's pointer may lie past its block's start (a prefix): the
     * block it is in holds the trace */
    const rctr_trace *t = NULL;
    if (atomic_load(&T.tracing) && ptr) {
        t = tt_find(&T.traces, (uintptr_t)ptr);
        if (!t) {
            void *block = rci_pheap_block_start(ptr);
            t = block ? tt_find(&T.traces, (uintptr_t)block) : NULL;
        }
    }
    if (t) {
        const rctr_traceback *tb = t->tb;
        copy = malloc(sizeof *copy + tb->nframes * sizeof copy->frames[0]);
        if (copy)
            copy->nframes = rctr_tb_frames(tb, copy->frames);
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
