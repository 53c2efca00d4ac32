/* test_replay.c - the report's replay against a model, and every test
 * capture through the whole report and `recycle stats` (text and JSON), in
 * one process so that valgrind sees the report's code (ctest label
 * "unit").
 *
 * The model: random programs of several threads that allocate, reallocate
 * and free (also each other's blocks, also at addresses just freed), each
 * event with its own time. The model replays them in time order and
 * computes every figure the simple way (at each new peak it copies every
 * stack's live bytes). The replay is fed the same events as a capture would
 * hold them: each thread's events in order, cut into chunks, the chunks of
 * the threads interleaved at random. The figures must be equal, and so
 * must what the replay's change hook reports: the heap after each event,
 * and per thread the allocations, frees and what is left live. */
#define _GNU_SOURCE
#include "captures.h"
#include "report/replay.h"
#include "report/diff.h"
#include "report/lines.h"
#include "report/report.h"
#include "report/stats.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures, checks;

__attribute__((format(printf, 2, 3)))
static void check(bool ok, const char *fmt, ...) {
    checks++;
    if (ok)
        return;
    failures++;
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

#define CHECK_EQ(a, b, ...)                                                           \
    do {                                                                              \
        unsigned long long a_ = (a), b_ = (b);                                        \
        char what_[256];                                                              \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                   \
        check(a_ == b_, "%s: %s = %llu, expected %llu", what_, #a, a_, b_);           \
    } while (0)

/* ---- a seeded generator (xorshift64*) ---------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t below(uint64_t n) {
    return rnd() % n;
}

/* ---- the model ----------------------------------------------------------------------- */

#define STACKS 6            /* leaf stack ids 2..7, each under node 1 */
#define SLOTS 48            /* addresses 16, 32, ..., 16 * SLOTS */
#define MAX_EVENTS 4000
#define MAX_THREADS 4

typedef struct mfig {
    uint64_t bytes, allocs, frees, live, live_allocs, peak, peak_allocs, temporary;
} mfig;

/* Figures per thread number (1 to MAX_THREADS): allocations and bytes of
 * the blocks it allocated, frees and bytes of the frees it made, bytes it
 * allocated still live. */
typedef struct tfig {
    uint64_t allocs, bytes, frees, freed, live;
} tfig;

typedef struct model {
    mfig fig[STACKS + 2];
    tfig thread[MAX_THREADS + 1];
    uint64_t heap_at[MAX_EVENTS + 1];  /* live bytes after the event at time 10 * i */
    uint64_t live_size[SLOTS + 1];     /* by slot; 0: free */
    uint32_t live_stack[SLOTS + 1];
    uint32_t live_thread[SLOTS + 1];
    uint64_t live, live_allocs, peak, peak_allocs, peak_time;
    uint64_t allocs, frees, bytes, temporary;
    uint64_t last_alloc;
} model;

static void m_free(model *m, uint64_t slot, uint32_t thread) {
    mfig *f = &m->fig[m->live_stack[slot]];
    m->thread[thread].frees++;
    m->thread[thread].freed += m->live_size[slot];
    m->thread[m->live_thread[slot]].live -= m->live_size[slot];
    if (m->last_alloc == slot) {
        f->temporary++;
        m->temporary++;
    }
    m->last_alloc = 0;
    f->live -= m->live_size[slot];
    f->live_allocs--;
    f->frees++;
    m->live -= m->live_size[slot];
    m->live_allocs--;
    m->frees++;
    m->live_size[slot] = 0;
}

static void m_alloc(model *m, uint64_t slot, uint64_t size, uint32_t stack, uint64_t t,
                    uint32_t thread) {
    mfig *f = &m->fig[stack];
    m->live_size[slot] = size;
    m->live_stack[slot] = stack;
    m->live_thread[slot] = thread;
    m->thread[thread].allocs++;
    m->thread[thread].bytes += size;
    m->thread[thread].live += size;
    f->bytes += size;
    f->allocs++;
    f->live += size;
    f->live_allocs++;
    m->bytes += size;
    m->allocs++;
    m->live += size;
    m->live_allocs++;
    if (m->live > m->peak) {
        m->peak = m->live;
        m->peak_allocs = m->live_allocs;
        m->peak_time = t;
        for (int s = 0; s < STACKS + 2; s++) {
            m->fig[s].peak = m->fig[s].live;
            m->fig[s].peak_allocs = m->fig[s].live_allocs;
        }
    }
    m->last_alloc = slot;
}

/* ---- what the change hook reports ---------------------------------------------------- */

typedef struct changes {
    tfig thread[MAX_THREADS + 1];
    uint64_t heap_at[MAX_EVENTS + 1];  /* live bytes after the last change at 10 * i */
    bool seen[MAX_EVENTS + 1];
    uint64_t last_time, calls;
    bool backwards, bad_thread;
} changes;

static void on_change(void *arg, const rcr_replay *r, const rcr_change *c) {
    changes *ch = arg;
    ch->calls++;
    if (c->time < ch->last_time)
        ch->backwards = true;
    ch->last_time = c->time;
    if (c->thread > MAX_THREADS || c->owner > MAX_THREADS || c->count != 1 ||
        (!c->freed && c->owner != c->thread)) {
        ch->bad_thread = true;
        return;
    }
    if (c->freed) {
        ch->thread[c->thread].frees += c->count;
        ch->thread[c->thread].freed += c->weight;
        ch->thread[c->owner].live -= c->weight;
    } else {
        ch->thread[c->owner].allocs += c->count;
        ch->thread[c->owner].bytes += c->weight;
        ch->thread[c->owner].live += c->weight;
    }
    uint64_t i = c->time / 10;
    if (i <= MAX_EVENTS) {
        ch->heap_at[i] = r->live_bytes;
        ch->seen[i] = true;
    }
}

/* ---- one random program ---------------------------------------------------------------- */

typedef struct program {
    rccap_event ev[MAX_EVENTS];
    size_t n;
} program;

static void run_one(uint64_t seed) {
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    static model m;
    static program per_thread[MAX_THREADS];
    memset(&m, 0, sizeof m);
    int nthreads = 1 + (int)below(MAX_THREADS);
    for (int i = 0; i < nthreads; i++)
        per_thread[i].n = 0;
    size_t nevents = 200 + below(MAX_EVENTS / MAX_THREADS - 200);

    /* The timeline, in time order: the model follows it as it is made. */
    for (uint64_t t = 1; t <= nevents; t++) {
        int th = (int)below((uint64_t)nthreads);
        program *p = &per_thread[th];
        rccap_event ev = {.time_ns = t * 10, .thread = (uint32_t)th + 1};
        uint64_t slot = 1 + below(SLOTS);
        uint32_t stack = 2 + (uint32_t)below(STACKS);
        uint64_t size = 1 + below(300);
        if (m.live_size[slot] == 0) {
            ev.kind = RCCAP_ALLOC;
            ev.u.alloc.ptr = slot * 16;
            ev.u.alloc.size = size;
            ev.u.alloc.weight = size;
            ev.u.alloc.stack = stack;
            m_alloc(&m, slot, size, stack, ev.time_ns, ev.thread);
        } else if (below(3) == 0) {
            /* realloc, to a free address or in place */
            uint64_t to = 1 + below(SLOTS);
            if (m.live_size[to] != 0)
                to = slot;
            ev.kind = RCCAP_REALLOC;
            ev.u.realloc.old_ptr = slot * 16;
            ev.u.realloc.ptr = to * 16;
            ev.u.realloc.size = size;
            ev.u.realloc.weight = size;
            ev.u.realloc.stack = stack;
            m_free(&m, slot, ev.thread);
            m_alloc(&m, to, size, stack, ev.time_ns, ev.thread);
        } else {
            ev.kind = RCCAP_FREE;
            ev.u.free.ptr = slot * 16;
            m_free(&m, slot, ev.thread);
        }
        m.heap_at[t] = m.live;
        p->ev[p->n++] = ev;
    }

    /* The file: the call tree, then every thread's events in chunks of 1
     * to 40, the threads' chunks interleaved at random. */
    rcr_replay r;
    rccap_header h = {.version = RCCAP_VERSION, .pid = 1, .program = "p", .command_line = "p"};
    if (!rcr_replay_init(&r, &h)) {
        check(false, "seed %llu: replay_init", (unsigned long long)seed);
        return;
    }
    static changes ch;
    memset(&ch, 0, sizeof ch);
    r.on_change = on_change;
    r.change_arg = &ch;
    rccap_event def = {.kind = RCCAP_MODULE};
    def.u.module.start = 0x400000;
    def.u.module.end = 0x500000;
    def.u.module.path = "/bin/p";
    bool ok = rcr_replay_event(&r, &def);
    for (uint32_t id = 1; id < STACKS + 2; id++) {
        rccap_event s = {.kind = RCCAP_STACK};
        s.u.stack.id = id;
        s.u.stack.parent = id == 1 ? 0 : 1;
        s.u.stack.pc = 0x400000 + 0x100 * id;
        ok = ok && rcr_replay_event(&r, &s);
    }
    size_t pos[MAX_THREADS] = {0};
    for (;;) {
        int open_threads[MAX_THREADS], nopen = 0;
        for (int i = 0; i < nthreads; i++)
            if (pos[i] < per_thread[i].n)
                open_threads[nopen++] = i;
        if (nopen == 0)
            break;
        int th = open_threads[below((uint64_t)nopen)];
        size_t len = 1 + below(40);
        for (size_t k = 0; k < len && pos[th] < per_thread[th].n; k++)
            ok = ok && rcr_replay_event(&r, &per_thread[th].ev[pos[th]++]);
    }
    ok = ok && rcr_replay_finish(&r);
    check(ok, "seed %llu: replay ran out of memory", (unsigned long long)seed);

    const rcr_totals *t = &r.totals;
    unsigned long long sd = (unsigned long long)seed;
    CHECK_EQ(t->allocations, m.allocs, "seed %llu", sd);
    CHECK_EQ(t->frees, m.frees, "seed %llu", sd);
    CHECK_EQ(t->bytes_allocated, m.bytes, "seed %llu", sd);
    CHECK_EQ(t->peak_bytes, m.peak, "seed %llu", sd);
    CHECK_EQ(t->peak_allocations, m.peak_allocs, "seed %llu", sd);
    CHECK_EQ(t->peak_time_ns, m.peak_time, "seed %llu", sd);
    CHECK_EQ(t->leaked_bytes, m.live, "seed %llu", sd);
    CHECK_EQ(t->leaked_allocations, m.live_allocs, "seed %llu", sd);
    CHECK_EQ(t->temporary, m.temporary, "seed %llu", sd);
    uint64_t active = 0;
    for (int i = 0; i < nthreads; i++)
        active += per_thread[i].n > 0;
    CHECK_EQ(t->threads, active, "seed %llu", sd);
    CHECK_EQ(t->late + t->unknown_frees + t->reused, 0, "seed %llu", sd);
    check(!ch.backwards && !ch.bad_thread, "seed %llu: changes out of time order (%d) or "
          "with a wrong thread or count (%d)", sd, ch.backwards, ch.bad_thread);
    CHECK_EQ(ch.calls, m.allocs + m.frees, "seed %llu: one change per allocation and free", sd);
    for (uint64_t i = 1; i <= nevents; i++) {
        check(ch.seen[i], "seed %llu: no change at event %llu", sd, (unsigned long long)i);
        CHECK_EQ(ch.heap_at[i], m.heap_at[i], "seed %llu: heap after event %llu", sd,
                 (unsigned long long)i);
    }
    for (int th = 1; th <= nthreads; th++) {
        const tfig *a = &ch.thread[th], *b = &m.thread[th];
        CHECK_EQ(a->allocs, b->allocs, "seed %llu thread %d", sd, th);
        CHECK_EQ(a->bytes, b->bytes, "seed %llu thread %d", sd, th);
        CHECK_EQ(a->frees, b->frees, "seed %llu thread %d", sd, th);
        CHECK_EQ(a->freed, b->freed, "seed %llu thread %d", sd, th);
        CHECK_EQ(a->live, b->live, "seed %llu thread %d", sd, th);
    }
    for (uint32_t id = 2; id < STACKS + 2; id++) {
        const mfig *mf = &m.fig[id];
        uint32_t fi = r.nodes[id].figures;
        if (fi == RCR_NONE) {
            CHECK_EQ(mf->allocs, 0, "seed %llu stack %u has no figures", sd, id);
            continue;
        }
        const rcr_figures *f = &r.figures[fi];
        CHECK_EQ(f->bytes, mf->bytes, "seed %llu stack %u", sd, id);
        CHECK_EQ(f->allocations, mf->allocs, "seed %llu stack %u", sd, id);
        CHECK_EQ(f->frees, mf->frees, "seed %llu stack %u", sd, id);
        CHECK_EQ(f->live_bytes, mf->live, "seed %llu stack %u", sd, id);
        CHECK_EQ(f->peak_bytes, mf->peak, "seed %llu stack %u", sd, id);
        CHECK_EQ(f->peak_allocations, mf->peak_allocs, "seed %llu stack %u", sd, id);
        CHECK_EQ(f->temporary, mf->temporary, "seed %llu stack %u", sd, id);
    }
    rcr_replay_free(&r);
}

/* ---- a chunk later than the window --------------------------------------------------------- */

static void late_chunk(void) {
    /* Thread 2 frees thread 1's first block at time 15, but its chunk comes
     * after RCR_WINDOW + 10 of thread 1's allocations: the free is late. */
    rcr_replay r;
    rccap_header h = {.version = RCCAP_VERSION, .program = "p", .command_line = "p"};
    bool ok = rcr_replay_init(&r, &h);
    uint64_t n = RCR_WINDOW + 10;
    for (uint64_t i = 0; ok && i < n; i++) {
        rccap_event ev = {.kind = RCCAP_ALLOC, .time_ns = 10 + 10 * i, .thread = 1};
        ev.u.alloc.ptr = 16 * (i + 1);
        ev.u.alloc.size = 1;
        ev.u.alloc.weight = 1;
        ok = rcr_replay_event(&r, &ev);
    }
    rccap_event fr = {.kind = RCCAP_FREE, .time_ns = 15, .thread = 2};
    fr.u.free.ptr = 16;
    ok = ok && rcr_replay_event(&r, &fr) && rcr_replay_finish(&r);
    check(ok, "late chunk: replay failed");
    CHECK_EQ(r.totals.late, 1, "late chunk");
    CHECK_EQ(r.totals.frees, 1, "late chunk: the free still finds its block");
    CHECK_EQ(r.totals.leaked_allocations, n - 1, "late chunk");
    /* The late free waited in the window and left it before the
     * allocations still there, so the peak happens to be right. */
    CHECK_EQ(r.totals.peak_bytes, n - 1, "late chunk: peak");
    rcr_replay_free(&r);
}

/* ---- an allocation later than its free ---------------------------------------------------- */

static rccap_event ev_alloc(uint64_t t, uint32_t thread, uint64_t ptr, uint64_t size) {
    rccap_event ev = {.kind = RCCAP_ALLOC, .time_ns = t, .thread = thread};
    ev.u.alloc.ptr = ptr;
    ev.u.alloc.size = size;
    ev.u.alloc.weight = size;
    return ev;
}

/* Counts every change by thread (any count). */
static void late_pair_change(void *arg, const rcr_replay *r, const rcr_change *c) {
    (void)r;
    changes *ch = arg;
    if (c->thread > MAX_THREADS || c->owner > MAX_THREADS)
        return;
    tfig *f = &ch->thread[c->freed ? c->thread : c->owner];
    if (c->freed) {
        f->frees += c->count;
        f->freed += c->weight;
        ch->thread[c->owner].live -= c->weight;
    } else {
        f->allocs += c->count;
        f->bytes += c->weight;
        f->live += c->weight;
    }
}

static void late_allocation(void) {
    /* Thread 2 frees 0x10 at time 15; thread 1 then allocates
     * RCR_WINDOW + 10 blocks (so the free leaves the window, finding no
     * block); thread 3's chunk with the allocation of 0x10 at time 10 comes
     * last. The pair must still be found: nothing leaked at 0x10. */
    rcr_replay r;
    rccap_header h = {.version = RCCAP_VERSION, .program = "p", .command_line = "p"};
    bool ok = rcr_replay_init(&r, &h);
    static changes ch;
    memset(&ch, 0, sizeof ch);
    r.on_change = late_pair_change;
    r.change_arg = &ch;
    rccap_event fr = {.kind = RCCAP_FREE, .time_ns = 15, .thread = 2};
    fr.u.free.ptr = 0x10;
    ok = ok && rcr_replay_event(&r, &fr);
    uint64_t n = RCR_WINDOW + 10;
    for (uint64_t i = 0; ok && i < n; i++) {
        rccap_event ev = ev_alloc(20 + i, 1, 0x100000 + 16 * i, 1);
        ok = rcr_replay_event(&r, &ev);
    }
    rccap_event al = ev_alloc(10, 3, 0x10, 1000);
    ok = ok && rcr_replay_event(&r, &al) && rcr_replay_finish(&r);
    check(ok, "late allocation: replay failed");
    CHECK_EQ(r.totals.late, 1, "late allocation");
    CHECK_EQ(r.totals.late_pairs, 1, "late allocation");
    CHECK_EQ(r.totals.allocations, n + 1, "late allocation");
    CHECK_EQ(r.totals.frees, 1, "late allocation");
    CHECK_EQ(r.totals.unknown_frees, 0, "late allocation");
    CHECK_EQ(r.totals.leaked_bytes, n, "late allocation: the 1000 bytes are not leaked");
    CHECK_EQ(r.totals.bytes_allocated, n + 1000, "late allocation");
    /* The pair is an allocation and a free of thread 3 at time 10. */
    CHECK_EQ(ch.thread[3].allocs, 1, "late allocation: change hook");
    CHECK_EQ(ch.thread[3].bytes, 1000, "late allocation: change hook");
    CHECK_EQ(ch.thread[3].frees, 1, "late allocation: change hook");
    CHECK_EQ(ch.thread[3].freed, 1000, "late allocation: change hook");
    CHECK_EQ(ch.thread[3].live, 0, "late allocation: change hook");
    CHECK_EQ(ch.thread[1].allocs, n, "late allocation: change hook");
    CHECK_EQ(ch.thread[2].frees, 0, "late allocation: change hook");
    rcr_replay_free(&r);
}

/* ---- the window lets go of what is older than the lag ------------------------------------------ */

static void window_lag(void) {
    rcr_replay r;
    rccap_header h = {.version = RCCAP_VERSION, .program = "p", .command_line = "p"};
    bool ok = rcr_replay_init(&r, &h);
    rccap_event a = ev_alloc(1000, 1, 0x10, 8);
    rccap_event b = ev_alloc(1000 + RCR_LAG_NS / 2, 2, 0x20, 8);
    rccap_event c = ev_alloc(2000 + RCR_LAG_NS, 1, 0x30, 8);
    ok = ok && rcr_replay_event(&r, &a) && rcr_replay_event(&r, &b);
    CHECK_EQ(r.waiting, 2, "window: records within the lag wait");
    ok = ok && rcr_replay_event(&r, &c);
    CHECK_EQ(r.waiting, 2, "window: a record older than the lag leaves");
    CHECK_EQ(r.totals.allocations, 1, "window: the record that left was replayed");
    ok = ok && rcr_replay_finish(&r);
    check(ok, "window: replay failed");
    CHECK_EQ(r.totals.allocations, 3, "window");
    rcr_replay_free(&r);
}

/* ---- ties: one address between threads within a millisecond ------------------------------------ */

#define MS UINT64_C(1000000)

static rccap_event ev_free(uint64_t t, uint32_t thread, uint64_t ptr) {
    rccap_event ev = {.kind = RCCAP_FREE, .time_ns = t, .thread = thread};
    ev.u.free.ptr = ptr;
    return ev;
}

/* Feed the events in file order, then finish. */
static bool replay_all(rcr_replay *r, const rccap_event *ev, size_t n) {
    rccap_header h = {.version = RCCAP_VERSION, .program = "p", .command_line = "p"};
    bool ok = rcr_replay_init(r, &h);
    for (size_t i = 0; ok && i < n; i++)
        ok = rcr_replay_event(r, &ev[i]);
    return ok && rcr_replay_finish(r);
}

static void ties(void) {
    rcr_replay r;
    /* Thread 3 frees thread 1's block at 5 ms, thread 2 gets its address
     * in the same millisecond; thread 2's chunk comes first. */
    const rccap_event freed_then_reused[] = {
        ev_alloc(1 * MS, 1, 0x10, 100),
        ev_alloc(5 * MS, 2, 0x10, 30),
        ev_free(5 * MS, 3, 0x10),
    };
    check(replay_all(&r, freed_then_reused, 3), "ties: replay failed");
    CHECK_EQ(r.totals.reused, 0, "ties: the reuse waits for the free");
    CHECK_EQ(r.totals.unknown_frees, 0, "ties: freed then reused");
    CHECK_EQ(r.totals.frees, 1, "ties: freed then reused");
    CHECK_EQ(r.totals.leaked_bytes, 30, "ties: thread 2's block is the live one");
    CHECK_EQ(r.totals.peak_bytes, 100, "ties: freed then reused: peak");
    rcr_replay_free(&r);

    /* Thread 2 allocates at 5 ms, thread 3 frees it in the same
     * millisecond; thread 3's chunk comes first. */
    const rccap_event allocated_then_freed[] = {
        ev_free(5 * MS, 3, 0x20),
        ev_alloc(5 * MS, 2, 0x20, 40),
    };
    check(replay_all(&r, allocated_then_freed, 2), "ties: replay failed");
    CHECK_EQ(r.totals.allocations, 1, "ties: allocated then freed");
    CHECK_EQ(r.totals.frees, 1, "ties: allocated then freed: the pair is found");
    CHECK_EQ(r.totals.unknown_frees, 0, "ties: allocated then freed");
    CHECK_EQ(r.totals.leaked_bytes, 0, "ties: allocated then freed");
    rcr_replay_free(&r);

    /* One thread frees a block it never saw allocated (from before the
     * capture), then gets its address back: in its own order, so the
     * allocation is live. */
    const rccap_event same_thread[] = {
        ev_free(5 * MS, 1, 0x30),
        ev_alloc(5 * MS, 1, 0x30, 50),
    };
    check(replay_all(&r, same_thread, 2), "ties: replay failed");
    CHECK_EQ(r.totals.unknown_frees, 1, "ties: same thread");
    CHECK_EQ(r.totals.leaked_bytes, 50, "ties: same thread: the block stays live");
    rcr_replay_free(&r);

    /* Thread 2 gets the address thread 3 freed and frees it itself, all
     * within a millisecond, its chunk first: totals stay right. */
    const rccap_event reuse_and_free[] = {
        ev_alloc(1 * MS, 1, 0x40, 10),
        ev_alloc(5 * MS, 2, 0x40, 20),
        ev_free(5 * MS, 2, 0x40),
        ev_free(5 * MS, 3, 0x40),
    };
    check(replay_all(&r, reuse_and_free, 4), "ties: replay failed");
    CHECK_EQ(r.totals.allocations, 2, "ties: reuse and free");
    CHECK_EQ(r.totals.frees, 2, "ties: reuse and free");
    CHECK_EQ(r.totals.leaked_allocations, 0, "ties: reuse and free");
    CHECK_EQ(r.totals.reused, 0, "ties: reuse and free: thread 3's free is applied first");
    CHECK_EQ(r.totals.unknown_frees, 0, "ties: reuse and free: and not again in its turn");
    rcr_replay_free(&r);
}

/* ---- SYNC records release the window; verdicts settle the leaks ---------------------------------- */

static void sync_and_verdicts(void) {
    rcr_replay r;
    rccap_header h = {.version = RCCAP_VERSION, .program = "p", .command_line = "p"};
    bool ok = rcr_replay_init(&r, &h);
    rccap_event a = ev_alloc(10 * MS, 1, 0x10, 8);
    rccap_event b = ev_alloc(40 * MS, 2, 0x20, 8);
    rccap_event sync = {.kind = RCCAP_SYNC, .time_ns = 50 * MS, .thread = 0};
    sync.u.sync.lag = 20 * MS;
    ok = ok && rcr_replay_event(&r, &a) && rcr_replay_event(&r, &b);
    CHECK_EQ(r.waiting, 2, "sync: both wait");
    ok = ok && rcr_replay_event(&r, &sync);
    CHECK_EQ(r.waiting, 1, "sync: what is older than 50 - 20 ms leaves");
    CHECK_EQ(r.totals.allocations, 1, "sync: and is replayed");
    sync.time_ns = 10 * MS;   /* a lag larger than the time: nothing */
    ok = ok && rcr_replay_event(&r, &sync);
    CHECK_EQ(r.waiting, 1, "sync: a lag beyond the start releases nothing");
    /* At exit the preload judged 0x20 only: 0x10 was not live then. */
    rccap_event leak = {.kind = RCCAP_LEAK, .time_ns = 60 * MS, .thread = 0};
    leak.u.leak.ptr = 0x20;
    leak.u.leak.state = RCCAP_LEAK_REACHABLE;
    rccap_event ex = {.kind = RCCAP_EXIT, .time_ns = 60 * MS, .thread = 1};
    ex.u.exit.how = RCCAP_END_RETURNED;
    ok = ok && rcr_replay_event(&r, &leak) && rcr_replay_event(&r, &ex) && rcr_replay_finish(&r);
    check(ok, "sync: replay failed");
    CHECK_EQ(r.totals.unjudged, 1, "verdicts: the block without one");
    CHECK_EQ(r.totals.leaked_allocations, 1, "verdicts: leaked is what the preload judged");
    CHECK_EQ(r.totals.reachable_allocations, 1, "verdicts");
    CHECK_EQ(r.totals.frees, 1, "verdicts: the other one counts as freed");
    rcr_replay_free(&r);

    /* Without the verdicts (a crash before the scan) nothing is settled. */
    const rccap_event two[] = {ev_alloc(1 * MS, 1, 0x10, 8), ev_alloc(2 * MS, 1, 0x20, 8)};
    check(replay_all(&r, two, 2), "verdicts: replay failed");
    CHECK_EQ(r.totals.unjudged, 0, "verdicts: none");
    CHECK_EQ(r.totals.leaked_allocations, 2, "verdicts: none");
    rcr_replay_free(&r);
}

/* ---- the whole report on the test captures ------------------------------------------------------ */

static void whole_reports(void) {
    char dir[] = "/tmp/recycle-replay.XXXXXX";
    if (!mkdtemp(dir)) {
        check(false, "mkdtemp");
        return;
    }
    static const rcr_options variants[] = {
        {.top = 10, .by = RCR_BY_LINE},
        {.top = 0, .by = RCR_BY_STACK, .views = RCR_VIEW_LEAKS | RCR_VIEW_PEAK | RCR_VIEW_TEMPORARY},
        {.top = 2, .by = RCR_BY_FILE, .json = true, .top_given = true},
        {.top = 10, .by = RCR_BY_FUNCTION, .json = true, .views = RCR_VIEW_LEAKS},
    };
    for (const char *const *name = rct_capture_names; *name; name++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s.rcap", dir, *name);
        int err = rct_capture_write(*name, path);
        check(err == 0, "%s: write: %s", *name, strerror(err));
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
            char *text = NULL, *msgs = NULL;
            size_t text_len = 0, msgs_len = 0;
            FILE *out = open_memstream(&text, &text_len);
            FILE *errs = open_memstream(&msgs, &msgs_len);
            int status = out && errs ? rcr_report(path, &variants[v], out, errs) : -1;
            if (out)
                fclose(out);
            if (errs)
                fclose(errs);
            check(status == 0, "%s variant %zu: status %d (%s)", *name, v, status,
                  msgs ? msgs : "");
            check(text && text_len > 0, "%s variant %zu: no output", *name, v);
            if (text && variants[v].json)
                check(text[0] == '{' && strstr(text, "\"sites\": [") != NULL,
                      "%s variant %zu: not the JSON report", *name, v);
            else if (text)
                check(strncmp(text, "program ", 8) == 0, "%s variant %zu: not the text report",
                      *name, v);
            free(text);
            free(msgs);
        }
        /* `recycle stats`, text and JSON (test_stats.sh checks the figures) */
        for (int json = 0; json <= 1; json++) {
            char *text = NULL, *msgs = NULL;
            size_t text_len = 0, msgs_len = 0;
            FILE *out = open_memstream(&text, &text_len);
            FILE *errs = open_memstream(&msgs, &msgs_len);
            rcr_stats_options so = {.json = json};
            int status = out && errs ? rcr_stats(path, &so, out, errs) : -1;
            if (out)
                fclose(out);
            if (errs)
                fclose(errs);
            check(status == 0, "%s stats %d: status %d (%s)", *name, json, status,
                  msgs ? msgs : "");
            check(text && strncmp(text, json ? "{\n  \"program\": " : "program ",
                                  json ? 15 : 8) == 0,
                  "%s stats %d: not the stats", *name, json);
            free(text);
            free(msgs);
        }
        /* `recycle diff` of the capture with itself, every key and sort, and
         * `recycle lines`, which finds no function in modules that are not
         * there (test_diff.sh and test_lines.sh check the figures) */
        for (int v = 0; v < 8; v++) {
            char *text = NULL, *msgs = NULL;
            size_t text_len = 0, msgs_len = 0;
            FILE *out = open_memstream(&text, &text_len);
            FILE *errs = open_memstream(&msgs, &msgs_len);
            rcr_diff_options d = {.by = (rcr_by)(v % 4), .sort = (rcr_diff_sort)(v / 2),
                                  .top = (size_t)v, .top_given = v & 1, .json = v & 1};
            int status = out && errs ? rcr_diff(path, path, &d, out, errs) : -1;
            if (out)
                fclose(out);
            if (errs)
                fclose(errs);
            check(status == 0, "%s diff %d: status %d (%s)", *name, v, status, msgs ? msgs : "");
            check(text && strncmp(text, v & 1 ? "{\n  \"old\": " : "old ", v & 1 ? 11 : 4) == 0,
                  "%s diff %d: not the diff", *name, v);
            free(text);
            free(msgs);
        }
        {
            char *text = NULL, *msgs = NULL;
            size_t text_len = 0, msgs_len = 0;
            FILE *out = open_memstream(&text, &text_len);
            FILE *errs = open_memstream(&msgs, &msgs_len);
            rcr_lines_options lo = {.function = "main"};
            int status = out && errs ? rcr_lines(path, &lo, out, errs) : -1;
            if (out)
                fclose(out);
            if (errs)
                fclose(errs);
            check(status == 1 && msgs && strstr(msgs, "no function 'main'") != NULL,
                  "%s lines: status %d (%s)", *name, status, msgs ? msgs : "");
            free(text);
            free(msgs);
        }
        unlink(path);
    }
    /* `recycle diff` across two captures */
    {
        char a[256], b[256];
        snprintf(a, sizeof a, "%s/a.rcap", dir);
        snprintf(b, sizeof b, "%s/b.rcap", dir);
        check(rct_capture_write("basic", a) == 0 && rct_capture_write("weird", b) == 0,
              "diff: write");
        for (int v = 0; v < 4; v++) {
            char *text = NULL, *msgs = NULL;
            size_t text_len = 0, msgs_len = 0;
            FILE *out = open_memstream(&text, &text_len);
            FILE *errs = open_memstream(&msgs, &msgs_len);
            rcr_diff_options d = {.by = (rcr_by)v, .json = v & 1};
            int status = out && errs ? rcr_diff(a, b, &d, out, errs) : -1;
            if (out)
                fclose(out);
            if (errs)
                fclose(errs);
            check(status == 0 && text && text_len > 0, "diff basic weird %d: status %d (%s)", v,
                  status, msgs ? msgs : "");
            free(text);
            free(msgs);
        }
        unlink(a);
        unlink(b);
    }
    /* not a capture */
    char path[256];
    snprintf(path, sizeof path, "%s/text.rcap", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("hello\n", f);
        fclose(f);
    }
    char *msgs = NULL;
    size_t len = 0;
    FILE *errs = open_memstream(&msgs, &len);
    rcr_options o = {.top = 10};
    int status = errs ? rcr_report(path, &o, stdout, errs) : -1;
    if (errs)
        fclose(errs);
    check(status == 1 && msgs && strstr(msgs, "text.rcap: ") != NULL,
          "not a capture: status %d, message %s", status, msgs ? msgs : "");
    free(msgs);
    unlink(path);
    rmdir(dir);
}

int main(void) {
    const char *scale = getenv("RC_TEST_SCALE");
    int runs = 200;
    if (scale && atof(scale) > 0)
        runs = (int)(runs * atof(scale));
    if (runs < 10)
        runs = 10;
    for (int i = 1; i <= runs; i++)
        run_one((uint64_t)i);
    late_chunk();
    late_allocation();
    window_lag();
    ties();
    sync_and_verdicts();
    whole_reports();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
