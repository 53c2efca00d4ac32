/* captures.c - captures with known content, written with the capture
 * writer, for the report's tests (captures.h says what each one holds and
 * what a report must find in it). */
#include "captures.h"

#include "capture/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP "/opt/app/bin/app"
#define LIBC "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define LIBSTDCXX "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
#define LIBPLUGIN "/opt/app/lib/libplugin.so"

#define APP_BASE 0x400000u
#define LIBC_BASE 0x7f0000000000u
#define CXX_BASE 0x7f0000400000u

typedef struct out {
    rccap_writer *w;
    rccap_encoder e;
    uint8_t buf[1 << 16];
    uint32_t thread;
    int err;
} out;

static void emit(out *o, rccap_event ev) {
    if (o->err)
        return;
    if (!ev.thread)
        ev.thread = o->thread;
    if (!rccap_encode(&o->e, &ev)) {
        o->err = rccap_writer_chunk(o->w, &o->e);
        rccap_encoder_reset(&o->e);
        if (!o->err && !rccap_encode(&o->e, &ev))
            o->err = EINVAL;
    }
}

/* Ends the current chunk: the next records go to a new one. */
static void chunk(out *o) {
    if (o->err || o->e.len == 0)
        return;
    o->err = rccap_writer_chunk(o->w, &o->e);
    rccap_encoder_reset(&o->e);
}

static void module(out *o, uint64_t t, uint64_t start, uint64_t end, const char *path) {
    rccap_event ev = {.kind = RCCAP_MODULE, .time_ns = t};
    ev.u.module.start = start;
    ev.u.module.end = end;
    ev.u.module.offset = 0;
    ev.u.module.path = path;
    emit(o, ev);
}

static void stack(out *o, uint64_t t, uint32_t id, uint32_t parent, uint64_t pc) {
    rccap_event ev = {.kind = RCCAP_STACK, .time_ns = t};
    ev.u.stack.id = id;
    ev.u.stack.parent = parent;
    ev.u.stack.pc = pc;
    emit(o, ev);
}

static void alloc_w(out *o, uint64_t t, uint64_t ptr, uint64_t size, uint32_t stk, uint64_t weight) {
    rccap_event ev = {.kind = RCCAP_ALLOC, .time_ns = t};
    ev.u.alloc.ptr = ptr;
    ev.u.alloc.size = size;
    ev.u.alloc.stack = stk;
    ev.u.alloc.fn = RCCAP_FN_MALLOC;
    ev.u.alloc.weight = weight;
    emit(o, ev);
}

static void alloc(out *o, uint64_t t, uint64_t ptr, uint64_t size, uint32_t stk) {
    alloc_w(o, t, ptr, size, stk, size);
}

static void release(out *o, uint64_t t, uint64_t ptr) {
    rccap_event ev = {.kind = RCCAP_FREE, .time_ns = t};
    ev.u.free.ptr = ptr;
    emit(o, ev);
}

static void resize(out *o, uint64_t t, uint64_t old, uint64_t ptr, uint64_t size, uint32_t stk) {
    rccap_event ev = {.kind = RCCAP_REALLOC, .time_ns = t};
    ev.u.realloc.old_ptr = old;
    ev.u.realloc.ptr = ptr;
    ev.u.realloc.size = size;
    ev.u.realloc.stack = stk;
    ev.u.realloc.weight = size;
    emit(o, ev);
}

static void leak(out *o, uint64_t t, uint64_t ptr, bool lost) {
    rccap_event ev = {.kind = RCCAP_LEAK, .time_ns = t};
    ev.u.leak.ptr = ptr;
    ev.u.leak.state = lost ? RCCAP_LEAK_LOST : RCCAP_LEAK_REACHABLE;
    emit(o, ev);
}

static void memory(out *o, uint64_t t, uint64_t rss, uint64_t heap) {
    rccap_event ev = {.kind = RCCAP_MEMORY, .time_ns = t};
    ev.u.memory.rss = rss;
    ev.u.memory.heap = heap;
    emit(o, ev);
}

static void ended(out *o, uint64_t t, rccap_end how, int status, int sig) {
    rccap_event ev = {.kind = RCCAP_EXIT, .time_ns = t};
    ev.u.exit.how = how;
    ev.u.exit.status = status;
    ev.u.exit.signal = sig;
    emit(o, ev);
}

static void thread(out *o, uint64_t t, uint32_t number, uint64_t tid, const char *name) {
    o->thread = number;
    rccap_event ev = {.kind = RCCAP_THREAD, .time_ns = t, .thread = number};
    ev.u.thread.os_tid = tid;
    ev.u.thread.name = name;
    emit(o, ev);
}

/* The modules and call tree of `basic` (and of the others). */
static void basic_tree(out *o) {
    module(o, 0, APP_BASE, APP_BASE + 0x100000, APP);
    module(o, 0, LIBC_BASE, LIBC_BASE + 0x200000, LIBC);
    module(o, 0, CXX_BASE, CXX_BASE + 0x200000, LIBSTDCXX);
    stack(o, 10, 1, 0, APP_BASE + 0x1000);          /* main */
    stack(o, 10, 2, 1, APP_BASE + 0x2000);          /* site A */
    stack(o, 10, 3, 1, APP_BASE + 0x3000);          /* site B */
    stack(o, 10, 4, 3, LIBC_BASE + 0x1000);         /* strdup, from B */
    stack(o, 10, 5, 2, CXX_BASE + 0x1000);          /* operator new, from A */
    stack(o, 10, 6, 1, APP_BASE + 0x4000);          /* site C */
    stack(o, 10, 7, 0, APP_BASE + 0x5000);          /* another caller */
    stack(o, 10, 8, 7, APP_BASE + 0x2000);          /* site A's line, from it */
}

static void scenario_basic(out *o, bool with_end) {
    thread(o, 5, 1, 4242, "app");
    basic_tree(o);
    memory(o, 500, 1u << 20, 0);
    alloc(o, 1000, 0x1000, 100, 2);                 /* A */
    alloc(o, 2000, 0x2000, 200, 5);                 /* A, through operator new */
    alloc(o, 3000, 0x3000, 50, 4);                  /* B, through strdup */
    alloc(o, 4000, 0x4000, 1000, 6);                /* C: the peak, 1350 in 4 */
    chunk(o);
    release(o, 5000, 0x4000);                       /* temporary */
    alloc(o, 6000, 0x4000, 10, 6);                  /* C */
    resize(o, 7000, 0x4000, 0x5000, 20, 6);         /* C: the 10 bytes were temporary */
    release(o, 8000, 0x1000);
    alloc(o, 8500, 0x6000, 8, 8);                   /* A's line from elsewhere */
    release(o, 8600, 0x6000);                       /* temporary */
    release(o, 9000, 0x5000);                       /* not: a free came between */
    memory(o, 9000, 3u << 20, 250);
    chunk(o);
    if (with_end) {
        leak(o, 10000, 0x2000, false);
        leak(o, 10000, 0x3000, true);
        ended(o, 10000, RCCAP_END_RETURNED, 0, 0);
    }
}

static void scenario_threads(out *o) {
    /* Thread 2's chunk reaches the file before thread 1's, whose block it
     * frees; in time order: 0x1000 (500 B) at 100, its free at 200, 0x2000
     * (100 B) at 300. */
    thread(o, 5, 1, 4242, "main");
    basic_tree(o);
    chunk(o);
    thread(o, 150, 2, 4243, "worker");
    release(o, 200, 0x1000);
    chunk(o);
    o->thread = 1;
    alloc(o, 100, 0x1000, 500, 2);
    alloc(o, 300, 0x2000, 100, 6);
    chunk(o);
    leak(o, 400, 0x2000, true);
    ended(o, 400, RCCAP_END_RETURNED, 3, 0);
}

static void scenario_sampled(out *o) {
    /* Each record stands for 4096 bytes: 256 allocations of 16 bytes, or
     * 4 of 1000 (4096 / 1000, rounded down). */
    thread(o, 5, 1, 4242, "app");
    basic_tree(o);
    alloc_w(o, 100, 0x1000, 16, 2, 4096);
    alloc_w(o, 200, 0x2000, 1000, 6, 4096);
    release(o, 300, 0x1000);
    release(o, 400, 0x9990);                        /* a block not sampled */
    ended(o, 500, RCCAP_END_RETURNED, 0, 0);
}

static void scenario_signal(out *o) {
    thread(o, 5, 1, 4242, "app");
    basic_tree(o);
    alloc(o, 100, 0x1000, 64, 2);
    alloc(o, 200, 0x2000, 32, 4);
    ended(o, 2500000000u, RCCAP_END_SIGNAL, 0, 11);
}

static void scenario_noexit(out *o) {
    thread(o, 5, 1, 4242, "app");
    basic_tree(o);
    alloc(o, 100, 0x1000, 64, 2);
    alloc(o, 1500000, 0x2000, 32, 0);               /* no stack */
}

static void scenario_dlclose(out *o) {
    /* A plugin mapped at 0x500000, its stack recorded, then unmapped and
     * another library mapped over the same addresses: the earlier stack
     * keeps the plugin. */
    thread(o, 5, 1, 4242, "app");
    basic_tree(o);
    module(o, 100, 0x500000, 0x600000, LIBPLUGIN);
    stack(o, 110, 9, 1, 0x501234);
    alloc(o, 120, 0x1000, 10, 9);
    module(o, 200, 0x500000, 0x600000, "/opt/app/lib/libother.so");
    stack(o, 210, 10, 1, 0x502000);
    alloc(o, 220, 0x2000, 20, 10);
    ended(o, 300, RCCAP_END_RETURNED, 0, 0);
}

static void scenario_weird(out *o) {
    /* A path that is not UTF-8 and has a quote, and an allocation whose
     * every frame is inside the run-time. */
    thread(o, 5, 1, 4242, "app");
    module(o, 0, APP_BASE, APP_BASE + 0x100000, "/opt/\xff\"odd\"/app");
    module(o, 0, LIBC_BASE, LIBC_BASE + 0x200000, LIBC);
    stack(o, 10, 1, 0, LIBC_BASE + 0x2000);
    stack(o, 10, 2, 1, LIBC_BASE + 0x3000);
    stack(o, 10, 3, 0, APP_BASE + 0x10);
    alloc(o, 100, 0x1000, 7, 2);
    alloc(o, 200, 0x2000, 9, 3);
    ended(o, 300, RCCAP_END_EXIT_NOW, 1, 0);
}

static void scenario_many(out *o) {
    /* Twelve sites, app+0x100 to app+0xc00, site i allocating i bytes. */
    thread(o, 5, 1, 4242, "app");
    basic_tree(o);
    for (uint32_t i = 1; i <= 12; i++) {
        stack(o, 20, 100 + i, 1, APP_BASE + 0x100 * i);
        alloc(o, 100 + i, 0x10000 * i, i, 100 + i);
    }
    ended(o, 200, RCCAP_END_RETURNED, 0, 0);
}

/* Captures for `recycle stats`: four threads, sizes over many buckets,
 * memory samples, chunks out of time order (captures.h has the figures). */
#define MS 1000000u
static void memory_sample(out *o, uint64_t t, uint64_t rss) {
    uint32_t was = o->thread;
    o->thread = 0;             /* as the preload's timer thread writes them */
    memory(o, t, rss, 0);
    o->thread = was;
}

/* chunk A, thread 1, 0 to 250 ms: the slots widen as it is read */
static void stats_chunk_a(out *o) {
    thread(o, 0, 1, 5000, "main");
    basic_tree(o);
    memory_sample(o, 10 * MS, 1u << 20);
    alloc(o, 10 * MS, 0x1000, 0, 2);
    alloc(o, 20 * MS, 0x1100, 1, 2);
    alloc(o, 30 * MS, 0x1200, 2, 2);
    alloc(o, 40 * MS, 0x1300, 3, 4);
    alloc(o, 60 * MS, 0x1400, 100, 4);
    alloc(o, 80 * MS, 0x1500, 4096, 6);
    alloc(o, 120 * MS, 0x100000, 1048577, 6);
    resize(o, 150 * MS, 0x1100, 0x2000, 5000, 6);
    release(o, 200 * MS, 0x1000);
    release(o, 250 * MS, 0x100000);
    chunk(o);
}

/* chunk B, thread 2, 400 to 900 ms, renamed at once */
static void stats_chunk_b(out *o) {
    thread(o, 400 * MS, 2, 5001, "pool");
    thread(o, 405 * MS, 2, 5001, "worker-1");
    for (uint64_t i = 0; i < 10; i++)
        alloc(o, (410 + 10 * i) * MS, 0x10000 + 0x100 * i, 24, 2);
    memory_sample(o, 500 * MS, 2u << 20);
    for (uint64_t i = 0; i < 5; i++)
        release(o, (600 + 10 * i) * MS, 0x10000 + 0x100 * i);
    release(o, 700 * MS, 0x1400);                   /* thread 1's 100 bytes */
    alloc(o, 900 * MS, 0x30000, 200, 8);
    chunk(o);
}

/* chunk C, thread 3, 460 to 600 ms */
static void stats_chunk_c(out *o) {
    thread(o, 460 * MS, 3, 5002, "worker-2");
    for (uint64_t i = 0; i < 3; i++)
        alloc(o, (465 + 10 * i) * MS, 0x20000 + 0x100 * i, 64, 4);
    for (uint64_t i = 0; i < 3; i++)
        release(o, (555 + 10 * i) * MS, 0x20000 + 0x100 * i);
    alloc(o, 595 * MS, 0x20400, 65, 4);
    chunk(o);
}

/* chunk D, thread 1, 800 to 950 ms */
static void stats_chunk_d(out *o) {
    o->thread = 1;
    memory_sample(o, 800 * MS, 4u << 20);
    release(o, 850 * MS, 0x2000);
    ended(o, 950 * MS, RCCAP_END_RETURNED, 0, 0);
    chunk(o);
}

/* chunk E, thread 4 (no THREAD record), 710 ms */
static void stats_chunk_e(out *o) {
    o->thread = 4;
    alloc(o, 710 * MS, 0x40000, 8, 2);
    chunk(o);
}

/* stats: A B C D E (C earlier than the end of B, E than D); stats-swapped:
 * A C B E D, the same records in another order. */
static void scenario_stats(out *o, bool swapped) {
    stats_chunk_a(o);
    if (swapped) {
        stats_chunk_c(o);
        stats_chunk_b(o);
        stats_chunk_e(o);
        stats_chunk_d(o);
    } else {
        stats_chunk_b(o);
        stats_chunk_c(o);
        stats_chunk_d(o);
        stats_chunk_e(o);
    }
}

/* Times on a clock that ticks every 4 ms, as the preload's coarse clock
 * on a kernel at 250 Hz: an allocation at each tick from 0 to 48 ms. */
static void scenario_coarse(out *o) {
    thread(o, 0, 1, 4242, "app");
    module(o, 0, APP_BASE, APP_BASE + 0x100000, APP);
    stack(o, 0, 1, 0, APP_BASE + 0x1000);
    stack(o, 0, 2, 1, APP_BASE + 0x2000);
    for (uint64_t i = 0; i <= 12; i++)
        alloc(o, 4 * i * MS, 0x1000 + 0x100 * i, 16, 2);
    ended(o, 52 * MS, RCCAP_END_RETURNED, 0, 0);
}

static void scenario_large(out *o, unsigned long n) {
    /* n records: allocations from 2000 stacks over 4096 addresses in turn,
     * each address freed the next time its turn comes. */
    static uint64_t live[4096];
    memset(live, 0, sizeof live);
    thread(o, 5, 1, 4242, "app");
    basic_tree(o);
    for (uint32_t id = 1; id <= 2000; id++)
        stack(o, 20, 100 + id, 1 + id % 8, APP_BASE + 0x10000 + 16 * id);
    for (unsigned long i = 0; i < n && !o->err; i++) {
        size_t slot = (i * 2654435761u) % 4096;
        if (live[slot]) {
            release(o, 100 + i, live[slot]);
            live[slot] = 0;
        } else {
            live[slot] = 0x100000 + 64 * (uint64_t)slot;
            alloc(o, 100 + i, live[slot], 16 + i % 500, (uint32_t)(101 + i % 2000));
        }
    }
    ended(o, 100 + n, RCCAP_END_RETURNED, 0, 0);
}

const char *const rct_capture_names[] = {
    "basic", "incomplete", "threads", "sampled", "signal", "noexit", "dlclose", "weird",
    "many", "empty", "stats", "stats-swapped", "coarse", NULL,
};

int rct_capture_write(const char *name, const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    rccap_header h = {
        .version = RCCAP_VERSION,
        .frames = 64,
        .pid = 4242,
        .ppid = 1,
        .start_realtime_ns = 1700000000000000000u,
        .page_size = 4096,
        .program = APP,
        .command_line = APP " --rounds 3",
    };
    if (strcmp(name, "sampled") == 0)
        h.sample_bytes = 4096;
    out *o = calloc(1, sizeof *o);
    if (!o) {
        close(fd);
        return ENOMEM;
    }
    int err = 0;
    o->w = rccap_writer_open(fd, &h, 1, &err);
    if (!o->w) {
        free(o);
        close(fd);
        return err ? err : EIO;
    }
    rccap_encoder_init(&o->e, o->buf, sizeof o->buf);
    if (strcmp(name, "basic") == 0)
        scenario_basic(o, true);
    else if (strcmp(name, "incomplete") == 0)
        scenario_basic(o, false);
    else if (strcmp(name, "threads") == 0)
        scenario_threads(o);
    else if (strcmp(name, "sampled") == 0)
        scenario_sampled(o);
    else if (strcmp(name, "signal") == 0)
        scenario_signal(o);
    else if (strcmp(name, "noexit") == 0)
        scenario_noexit(o);
    else if (strcmp(name, "dlclose") == 0)
        scenario_dlclose(o);
    else if (strcmp(name, "weird") == 0)
        scenario_weird(o);
    else if (strcmp(name, "many") == 0)
        scenario_many(o);
    else if (strcmp(name, "stats") == 0)
        scenario_stats(o, false);
    else if (strcmp(name, "stats-swapped") == 0)
        scenario_stats(o, true);
    else if (strcmp(name, "coarse") == 0)
        scenario_coarse(o);
    else if (strncmp(name, "large:", 6) == 0)
        scenario_large(o, strtoul(name + 6, NULL, 10));
    else if (strcmp(name, "empty") != 0)
        o->err = EINVAL;
    chunk(o);
    err = o->err;
    int cerr = rccap_writer_close(o->w);
    if (!err)
        err = cerr;
    free(o);
    if (close(fd) != 0 && !err)
        err = errno;
    return err;
}
