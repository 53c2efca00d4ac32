/* rc-test: whitebox link=recycle_capture */
/* test_capture.c - the capture file (src/capture/, docs/capture-format.md).
 *
 *   - every record kind and every field extreme (0, UINT64_MAX, the
 *     longest strings and longer ones, which are cut) goes through the
 *     encoder, the writer and the reader unchanged; so do long random
 *     streams over many chunks, compressed and raw mixed, read from a
 *     file, a pipe and memory;
 *   - the encoder refuses exactly the records that do not fit, and invalid
 *     events, and is unchanged when it refuses;
 *   - the writer never calls malloc (malloc is interposed and counted),
 *     survives short writes and EINTR (a pipe drained slowly while a timer
 *     interrupts it, and whose signal handler writes raw chunks), returns
 *     errors instead of failing hard, stops after a chunk cut short, and
 *     falls back to raw chunks when the OS refuses memory;
 *   - the damaged-file table: every truncation reads the complete chunks
 *     and then reports truncation (or fails to open, inside the header);
 *     every flipped byte is refused; lying lengths, counts and versions,
 *     and records broken in every way the decoder checks, each fail with
 *     their message and the offset, and no lie makes the reader allocate
 *     much more than the file holds.
 *
 * test_sizes prints the bytes a realistic stream of allocations and frees
 * costs per pair (the figure docs/capture-format.md quotes).
 *
 * With RC_CAPTURE_SEEDS=<dir> set, test_write_seeds writes the seed corpus
 * of tests/fuzz/fuzz_capture_read.c into <dir>. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "capture/capture.h"
#include "capture/format.h"
#include "heap/os/os.h"
#include "rct.h"

/* ---- counting malloc ----
 *
 * Every malloc, calloc and realloc of the process is counted, with the
 * largest request. Natively (and under valgrind, which replaces the
 * __libc_* functions these call) the functions below interpose libc's; the
 * sanitizers own malloc, so there their allocation hook counts instead.
 * The aligned variants are not interposed: nothing checked here uses them. */
static volatile size_t malloc_calls;
static volatile size_t malloc_largest;
/* Natively only: after this many more allocations, every one fails (-1:
 * never). */
static volatile long malloc_fail_countdown = -1;

static void note_alloc(size_t n) {
    malloc_calls++;
    if (n > malloc_largest)
        malloc_largest = n;
}



#if defined(RC_SANITIZE_ADDRESS) || defined(RC_SANITIZE_THREAD)
/* <sanitizer/allocator_interface.h>, which gcc's packages leave out */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void hook_malloc(const volatile void *p, size_t n) {
    (void)p;
    note_alloc(n);
}

static void hook_free(const volatile void *p) {
    (void)p;
}

static void counting_on(void) {
    static int installed;
    if (!installed)
        __sanitizer_install_malloc_and_free_hooks(hook_malloc, hook_free);
    installed = 1;
}
#else
static bool alloc_fails(void) {
    if (malloc_fail_countdown < 0)
        return false;
    if (malloc_fail_countdown == 0)
        return true;
    malloc_fail_countdown--;
    return false;
}

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n) {
    note_alloc(n);
    return alloc_fails() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size) {
    note_alloc(n * size);
    return alloc_fails() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n) {
    note_alloc(n);
    return alloc_fails() ? NULL : __libc_realloc(p, n);
}

void free(void *p) {
    __libc_free(p);
}

static void counting_on(void) {
}
#endif

static void counting_reset(void) {
    counting_on();
    malloc_calls = 0;
    malloc_largest = 0;
}

/* Valgrind replaces malloc in the executable too, so nothing is counted
 * there: the checks that count run natively and under the sanitizers. */
static bool counting_works(void) {
    return !rct_on_valgrind();
}

/* Whether malloc can be made to fail (the interposed one, natively). */
static bool failing_works(void) {
#if defined(RC_SANITIZE_ADDRESS) || defined(RC_SANITIZE_THREAD)
    return false;
#else
    return !rct_on_valgrind();
#endif
}

/* ---- events ---- */

static void check_str(const char *want, const char *got, size_t max) {
    if (!want) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    size_t n = rcf_cut_len(want, max);
    if (strlen(got) != n || memcmp(want, got, n) != 0)
        fail_msg("string \"%.40s\" read back as \"%.40s\" (%zu bytes, want %zu)", want, got,
                 strlen(got), n);
}

/* got is want as it reads back (strings cut to their limits). */
static void check_same(const rccap_event *want, const rccap_event *got) {
    assert_int_equal(got->kind, want->kind);
    assert_int_equal(got->time_ns, want->time_ns);
    assert_int_equal(got->thread, want->thread);
    switch (want->kind) {
    case RCCAP_ALLOC:
        assert_int_equal(got->u.alloc.ptr, want->u.alloc.ptr);
        assert_int_equal(got->u.alloc.size, want->u.alloc.size);
        assert_int_equal(got->u.alloc.stack, want->u.alloc.stack);
        assert_int_equal(got->u.alloc.fn, want->u.alloc.fn);
        assert_int_equal(got->u.alloc.weight, want->u.alloc.weight);
        break;
    case RCCAP_FREE:
        assert_int_equal(got->u.free.ptr, want->u.free.ptr);
        break;
    case RCCAP_REALLOC:
        assert_int_equal(got->u.realloc.old_ptr, want->u.realloc.old_ptr);
        assert_int_equal(got->u.realloc.ptr, want->u.realloc.ptr);
        assert_int_equal(got->u.realloc.size, want->u.realloc.size);
        assert_int_equal(got->u.realloc.stack, want->u.realloc.stack);
        assert_int_equal(got->u.realloc.weight, want->u.realloc.weight);
        break;
    case RCCAP_STACK:
        assert_int_equal(got->u.stack.id, want->u.stack.id);
        assert_int_equal(got->u.stack.parent, want->u.stack.parent);
        assert_int_equal(got->u.stack.pc, want->u.stack.pc);
        break;
    case RCCAP_MODULE: {
        assert_int_equal(got->u.module.start, want->u.module.start);
        assert_int_equal(got->u.module.end, want->u.module.end);
        assert_int_equal(got->u.module.offset, want->u.module.offset);
        check_str(want->u.module.path, got->u.module.path, RCCAP_STRING_MAX);
        uint32_t n = want->u.module.build_id_len;
        if (n > RCCAP_BUILD_ID_MAX)
            n = RCCAP_BUILD_ID_MAX;
        assert_int_equal(got->u.module.build_id_len, n);
        if (n)
            assert_memory_equal(got->u.module.build_id, want->u.module.build_id, n);
        else
            assert_null(got->u.module.build_id);
        break;
    }
    case RCCAP_THREAD:
        assert_int_equal(got->u.thread.os_tid, want->u.thread.os_tid);
        check_str(want->u.thread.name, got->u.thread.name, RCCAP_STRING_MAX);
        break;
    case RCCAP_MEMORY:
        assert_int_equal(got->u.memory.rss, want->u.memory.rss);
        assert_int_equal(got->u.memory.heap, want->u.memory.heap);
        break;
    case RCCAP_EXIT:
        assert_int_equal(got->u.exit.how, want->u.exit.how);
        assert_int_equal(got->u.exit.status, want->u.exit.status);
        assert_int_equal(got->u.exit.signal, want->u.exit.signal);
        break;
    case RCCAP_LEAK:
        assert_int_equal(got->u.leak.ptr, want->u.leak.ptr);
        assert_int_equal(got->u.leak.state, want->u.leak.state);
        break;
    case RCCAP_SYNC:
        assert_int_equal(got->u.sync.lag, want->u.sync.lag);
        break;
    case RCCAP_GC:
        assert_int_equal(got->u.gc.generation, want->u.gc.generation);
        assert_int_equal(got->u.gc.collected, want->u.gc.collected);
        assert_int_equal(got->u.gc.uncollectable, want->u.gc.uncollectable);
        assert_int_equal(got->u.gc.duration_ns, want->u.gc.duration_ns);
        assert_int_equal(got->u.gc.steps, want->u.gc.steps);
        break;
    default:
        fail_msg("kind %d", want->kind);
    }
}

static void check_header(const rccap_header *want, const rccap_header *got) {
    assert_int_equal(got->version, RCCAP_VERSION);
    assert_int_equal(got->frames, want->frames);
    assert_int_equal(got->sample_bytes, want->sample_bytes);
    assert_int_equal(got->pid, want->pid);
    assert_int_equal(got->ppid, want->ppid);
    assert_int_equal(got->start_realtime_ns, want->start_realtime_ns);
    assert_int_equal(got->page_size, want->page_size);
    check_str(want->program ? want->program : "", got->program, RCCAP_STRING_MAX);
    check_str(want->command_line ? want->command_line : "", got->command_line,
              RCCAP_COMMAND_LINE_MAX);
}

static const rccap_header plain_header = {
    .frames = 25, .sample_bytes = 0, .pid = 4242, .ppid = 1,
    .start_realtime_ns = 1700000000000000000ull,
    .page_size = 4096, .program = "/usr/bin/prog", .command_line = "prog --flag arg",
};

static const uint8_t build_id[20] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6,
                                     7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* One event of every kind, each field at an extreme, stacks defined before
 * use. Strings point at static storage or long_path. */
static char long_path[RCCAP_STRING_MAX + 100];
static uint8_t long_build_id[RCCAP_BUILD_ID_MAX + 10];

#define BIG_STACK (2 * 2 + RCCAP_STACK_ID_SLACK)

static size_t extreme_events(rccap_event *ev) {
    memset(long_path, 'p', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = 0;
    for (size_t i = 0; i < sizeof long_build_id; i++)
        long_build_id[i] = (uint8_t)(i * 7);
    size_t n = 0;
    const uint64_t M = UINT64_MAX;
    ev[n++] = (rccap_event){.kind = RCCAP_THREAD, .time_ns = 0, .thread = 1,
                            .u.thread = {.os_tid = 1234, .name = "main"}};
    ev[n++] = (rccap_event){.kind = RCCAP_THREAD, .time_ns = M, .thread = UINT32_MAX,
                            .u.thread = {.os_tid = M, .name = NULL}};
    ev[n++] = (rccap_event){.kind = RCCAP_THREAD, .time_ns = 0, .thread = 0,
                            .u.thread = {.os_tid = 0, .name = ""}};
    ev[n++] = (rccap_event){.kind = RCCAP_THREAD, .time_ns = 5, .thread = 2,
                            .u.thread = {.os_tid = 7, .name = long_path}};
    ev[n++] = (rccap_event){.kind = RCCAP_MODULE, .time_ns = 6, .thread = 1,
                            .u.module = {.start = 0x400000, .end = 0x500000, .offset = 0,
                                         .path = "/usr/bin/prog", .build_id = build_id,
                                         .build_id_len = sizeof build_id}};
    ev[n++] = (rccap_event){.kind = RCCAP_MODULE, .time_ns = 6, .thread = 1,
                            .u.module = {.start = 0, .end = M, .offset = M, .path = long_path,
                                         .build_id = long_build_id,
                                         .build_id_len = sizeof long_build_id}};
    ev[n++] = (rccap_event){.kind = RCCAP_MODULE, .time_ns = 6, .thread = 1,
                            .u.module = {.start = M, .end = M, .offset = 0, .path = NULL,
                                         .build_id = NULL, .build_id_len = 0}};
    ev[n++] = (rccap_event){.kind = RCCAP_MODULE, .time_ns = 6, .thread = 1,
                            .u.module = {.start = 1, .end = 2, .offset = 3, .path = "",
                                         .build_id = build_id, .build_id_len = 1}};
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .time_ns = 7, .thread = 1,
                            .u.stack = {.id = 1, .parent = 0, .pc = 0x401234}};
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .time_ns = 7, .thread = 1,
                            .u.stack = {.id = 2, .parent = 1, .pc = M}};
    /* the largest id the reader accepts after two: 2 * 2 + slack */
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .time_ns = 7, .thread = 1,
                            .u.stack = {.id = BIG_STACK, .parent = 2, .pc = 0}};
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .time_ns = 7, .thread = 1,
                            .u.stack = {.id = 3, .parent = BIG_STACK, .pc = 1}};
    ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .time_ns = 8, .thread = 1,
                            .u.alloc = {.ptr = 0x7f0000001000, .size = 24, .stack = 2,
                                        .fn = RCCAP_FN_MALLOC, .weight = 24}};
    ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .time_ns = 8, .thread = 1,
                            .u.alloc = {.ptr = 0, .size = 0, .stack = 0, .fn = RCCAP_FN_PVALLOC,
                                        .weight = 0}};
    ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .time_ns = M, .thread = 1,
                            .u.alloc = {.ptr = M, .size = M, .stack = BIG_STACK,
                                        .fn = RCCAP_FN_CALLOC, .weight = M}};
    ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .time_ns = 0, .thread = 1,
                            .u.alloc = {.ptr = 0x10, .size = 1, .stack = 3,
                                        .fn = RCCAP_FN_ALIGNED_ALLOC, .weight = 524288}};
    ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .time_ns = 1, .thread = 1,
                            .u.alloc = {.ptr = 0x8000000000000000ull, .size = 3, .stack = 1,
                                        .fn = RCCAP_FN_MALLOC, .weight = 3}};
    ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .time_ns = 1, .thread = 1,
                            .u.alloc = {.ptr = 0x7f0000001001, .size = 3, .stack = 1,
                                        .fn = RCCAP_FN_MALLOC, .weight = 0}};
    ev[n++] = (rccap_event){.kind = RCCAP_FREE, .time_ns = 2, .thread = 1,
                            .u.free = {.ptr = 0x7f0000001000}};
    ev[n++] = (rccap_event){.kind = RCCAP_FREE, .time_ns = 2, .thread = 1, .u.free = {.ptr = 0}};
    ev[n++] = (rccap_event){.kind = RCCAP_FREE, .time_ns = 2, .thread = 1, .u.free = {.ptr = M}};
    ev[n++] = (rccap_event){.kind = RCCAP_REALLOC, .time_ns = 3, .thread = 2,
                            .u.realloc = {.old_ptr = 0x1000, .ptr = 0x1000, .size = 40,
                                          .stack = 2, .weight = 40}};
    ev[n++] = (rccap_event){.kind = RCCAP_REALLOC, .time_ns = 3, .thread = 2,
                            .u.realloc = {.old_ptr = 0, .ptr = M, .size = M, .stack = 0,
                                          .weight = 1}};
    ev[n++] = (rccap_event){.kind = RCCAP_REALLOC, .time_ns = 3, .thread = 2,
                            .u.realloc = {.old_ptr = M, .ptr = 0, .size = 0, .stack = 3,
                                          .weight = M}};
    ev[n++] = (rccap_event){.kind = RCCAP_MEMORY, .time_ns = 9, .thread = 0,
                            .u.memory = {.rss = 0, .heap = M}};
    ev[n++] = (rccap_event){.kind = RCCAP_MEMORY, .time_ns = 9, .thread = 0,
                            .u.memory = {.rss = M, .heap = 0}};
    ev[n++] = (rccap_event){.kind = RCCAP_SYNC, .time_ns = 9, .thread = 0, .u.sync = {0}};
    ev[n++] = (rccap_event){.kind = RCCAP_SYNC, .time_ns = UINT64_MAX / 2, .thread = 3,
                            .u.sync = {UINT64_MAX}};
    ev[n++] = (rccap_event){.kind = RCCAP_GC, .time_ns = 9, .thread = 1,
                            .u.gc = {.generation = 0}};
    ev[n++] = (rccap_event){.kind = RCCAP_GC, .time_ns = 9, .thread = 2,
                            .u.gc = {.generation = 2, .collected = M, .uncollectable = 7,
                                     .duration_ns = UINT64_MAX, .steps = 12}};
    ev[n++] = (rccap_event){.kind = RCCAP_LEAK, .time_ns = 10, .thread = 1,
                            .u.leak = {.ptr = 0x7f0000002000, .state = RCCAP_LEAK_LOST}};
    ev[n++] = (rccap_event){.kind = RCCAP_LEAK, .time_ns = 10, .thread = 1,
                            .u.leak = {.ptr = 3, .state = RCCAP_LEAK_REACHABLE}};
    ev[n++] = (rccap_event){.kind = RCCAP_EXIT, .time_ns = 11, .thread = 1,
                            .u.exit = {.how = RCCAP_END_RETURNED, .status = INT32_MIN,
                                       .signal = INT32_MAX}};
    ev[n++] = (rccap_event){.kind = RCCAP_EXIT, .time_ns = 11, .thread = 1,
                            .u.exit = {.how = RCCAP_END_SIGNAL, .status = 0, .signal = 11}};
    ev[n++] = (rccap_event){.kind = RCCAP_EXIT, .time_ns = 11, .thread = 1,
                            .u.exit = {.how = RCCAP_END_UNKNOWN, .status = -1, .signal = -1}};
    for (int f = 0; f < RCCAP_FN_MAX; f++)
        ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .time_ns = 12, .thread = 3,
                                .u.alloc = {.ptr = 0x5000 + 16 * (uint64_t)f, .size = 8,
                                            .stack = 1, .fn = (rccap_fn)f, .weight = 8}};
    for (int h = 0; h <= RCCAP_END_UNKNOWN; h++)
        ev[n++] = (rccap_event){.kind = RCCAP_EXIT, .time_ns = 13, .thread = 3,
                                .u.exit = {.how = (rccap_end)h, .status = h, .signal = -h}};
    return n;
}

#define EXTREME_MAX 64

/* A seeded stream of plausible events: threads, modules, a growing call
 * tree, allocations, frees, reallocations of live blocks, memory samples,
 * leaks, the exit; now and then an extreme value or an unaligned pointer. */
typedef struct stream {
    rccap_event *ev;
    size_t n;
} stream;

static const char *const module_paths[] = {"/usr/bin/prog", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                                           "/usr/lib/libplugin-with-a-longer-name.so.1.2.3"};
static const char *const thread_names[] = {"main", "worker-1", "worker-2", NULL};

static stream random_stream(uint64_t seed, size_t n) {
    rct_rng g;
    rct_rng_init(&g, seed);
    stream s = {calloc(n, sizeof(rccap_event)), 0};
    assert_non_null(s.ev);
    uint64_t *live = calloc(n, sizeof *live), *freed = calloc(n, sizeof *freed);
    assert_true(live && freed);
    size_t nlive = 0, nfreed = 0;
    uint32_t nstacks = 0;
    uint64_t now = 1000;
    uint64_t next_ptr = 0x55550000a000ull;
    uint32_t thread = 1;
    while (s.n < n) {
        rccap_event *e = &s.ev[s.n];
        now += rct_rng_range(&g, 0, 3) == 0 ? 0 : rct_rng_range(&g, 1, 5000);
        if (rct_rng_range(&g, 0, 50) == 0)
            thread = (uint32_t)rct_rng_range(&g, 1, 4);
        e->time_ns = now;
        e->thread = thread;
        size_t r = rct_rng_range(&g, 0, 99);
        if (s.n < 3) {
            e->kind = RCCAP_MODULE;
            e->u.module.start = 0x400000ull << (4 * s.n);
            e->u.module.end = e->u.module.start + rct_rng_range(&g, 4096, 1 << 24);
            e->u.module.offset = rct_rng_range(&g, 0, 3) * 4096;
            e->u.module.path = module_paths[s.n];
            e->u.module.build_id = build_id;
            e->u.module.build_id_len = (uint32_t)rct_rng_range(&g, 0, sizeof build_id);
        } else if (r < 8 || nstacks == 0) {
            e->kind = RCCAP_STACK;
            e->u.stack.id = ++nstacks;
            e->u.stack.parent = (uint32_t)rct_rng_range(&g, 0, nstacks - 1);
            e->u.stack.pc = 0x401000 + rct_rng_range(&g, 0, 1 << 20);
        } else if (r < 50 || nlive == 0) {
            e->kind = RCCAP_ALLOC;
            uint64_t size = rct_rng_range(&g, 0, 20) == 0 ? rct_rng_range(&g, 0, 1 << 20)
                                                           : rct_rng_range(&g, 1, 256);
            uint64_t ptr = next_ptr;
            if (nfreed && rct_rng_range(&g, 0, 2)) {
                /* an allocator hands back a block freed lately */
                size_t back = rct_rng_range(&g, 0, 3) ? 0 : rct_rng_range(&g, 0, nfreed - 1);
                size_t k = nfreed - 1 - back;
                ptr = freed[k];
                freed[k] = freed[--nfreed];
            } else {
                next_ptr += (size + 31) & ~(uint64_t)15;
            }
            if (rct_rng_range(&g, 0, 200) == 0)
                ptr += 8;   /* not 16-aligned: the absolute form */
            if (rct_rng_range(&g, 0, 500) == 0)
                size = UINT64_MAX;
            e->u.alloc.ptr = ptr;
            e->u.alloc.size = size;
            e->u.alloc.stack = (uint32_t)rct_rng_range(&g, 0, nstacks);
            e->u.alloc.fn = rct_rng_range(&g, 0, 10) == 0
                                ? (rccap_fn)rct_rng_range(&g, 0, RCCAP_FN_MAX - 1)
                                : RCCAP_FN_MALLOC;
            e->u.alloc.weight = rct_rng_range(&g, 0, 30) == 0 ? 524288 : size;
            live[nlive++] = ptr;
        } else if (r < 85) {
            /* the newest block half of the time (LIFO temporaries) */
            size_t i = rct_rng_range(&g, 0, 1) ? nlive - 1 : rct_rng_range(&g, 0, nlive - 1);
            e->kind = RCCAP_FREE;
            e->u.free.ptr = live[i];
            if (nfreed < n)
                freed[nfreed++] = live[i];
            live[i] = live[nlive - 1];
            nlive--;
        } else if (r < 93) {
            size_t i = rct_rng_range(&g, 0, nlive - 1);
            e->kind = RCCAP_REALLOC;
            e->u.realloc.old_ptr = live[i];
            uint64_t size = rct_rng_range(&g, 1, 4096);
            if (rct_rng_range(&g, 0, 1)) {
                if (nfreed && rct_rng_range(&g, 0, 1)) {
                    e->u.realloc.ptr = freed[--nfreed];
                } else {
                    e->u.realloc.ptr = next_ptr;
                    next_ptr += (size + 31) & ~(uint64_t)15;
                }
                if (nfreed < n)
                    freed[nfreed++] = live[i];
            } else {
                e->u.realloc.ptr = live[i];
            }
            live[i] = e->u.realloc.ptr;
            e->u.realloc.size = size;
            e->u.realloc.stack = (uint32_t)rct_rng_range(&g, 0, nstacks);
            e->u.realloc.weight = size;
        } else if (r < 96) {
            e->kind = RCCAP_MEMORY;
            e->u.memory.rss = rct_rng_range(&g, 1, 1 << 30);
            e->u.memory.heap = rct_rng_range(&g, 0, 1 << 28);
        } else if (r < 98) {
            e->kind = RCCAP_THREAD;
            e->u.thread.os_tid = rct_rng_range(&g, 1, 1 << 22);
            e->u.thread.name = thread_names[rct_rng_range(&g, 0, 3)];
        } else if (r < 99 || s.n + 1 < n) {
            e->kind = RCCAP_LEAK;
            e->u.leak.ptr = live[rct_rng_range(&g, 0, nlive - 1)];
            e->u.leak.state = (rccap_leak)rct_rng_range(&g, 0, 1);
        }
        if (s.n + 1 == n) {
            e->kind = RCCAP_EXIT;
            e->u.exit.how = RCCAP_END_SIGNAL;
            e->u.exit.status = 0;
            e->u.exit.signal = SIGSEGV;
        }
        s.n++;
    }
    free(live);
    free(freed);
    return s;
}

/* ---- writing captures ---- */

/* A capture in memory, with where its chunks end. */
typedef struct cap {
    uint8_t *data;
    size_t len;
    size_t start;           /* header size: offset of the first chunk */
    size_t nchunks;
    size_t *end;            /* end[k]: offset just past chunk k */
    size_t *records;        /* records[k]: records in chunks 0 .. k */
    bool *raw;              /* chunk k was written with rccap_writer_chunk_raw */
} cap;

static void cap_free(cap *c) {
    free(c->data);
    free(c->end);
    free(c->records);
    free(c->raw);
    memset(c, 0, sizeof *c);
}

static uint8_t *slurp_fd(int fd, size_t *len) {
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    *len = (size_t)sb.st_size;
    uint8_t *data = malloc(*len ? *len : 1);
    assert_non_null(data);
    assert_int_equal(pread(fd, data, *len, 0), (ssize_t)*len);
    return data;
}

static int new_memfd(void) {
    int fd = memfd_create("rc-capture-test", MFD_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

/* How a test wants its capture written. */
typedef struct wopts {
    size_t enc_cap;         /* encoder buffer */
    unsigned raw_every;     /* 0: never raw; k: chunks k-1, 2k-1, ... raw */
    int level;
    uint32_t window;        /* pointer model's window; 0: no model */
} wopts;

/* Model memory for an encoder (malloc is fine in the tests). */
static void *give_model(rccap_encoder *e, uint32_t window) {
    if (!window)
        return NULL;
    size_t n = rccap_model_size(window);
    assert_true(n > 0);
    void *m = aligned_alloc(64, (n + 63) & ~(size_t)63);
    assert_non_null(m);
    assert_true(rccap_encoder_set_model(e, m, n, window));
    return m;
}

/* Append chunk bookkeeping. */
static void cap_note_chunk(cap *c, size_t end, size_t records, bool raw) {
    c->end = realloc(c->end, (c->nchunks + 1) * sizeof *c->end);
    c->records = realloc(c->records, (c->nchunks + 1) * sizeof *c->records);
    c->raw = realloc(c->raw, (c->nchunks + 1) * sizeof *c->raw);
    assert_true(c->end && c->records && c->raw);
    c->end[c->nchunks] = end;
    c->records[c->nchunks] = records;
    c->raw[c->nchunks] = raw;
    c->nchunks++;
}

static void write_capture(cap *c, const rccap_header *h, const rccap_event *ev, size_t n,
                          const wopts *o) {
    memset(c, 0, sizeof *c);
    int fd = new_memfd();
    int err = -1;
    rccap_writer *w = rccap_writer_open(fd, h, o->level, &err);
    assert_non_null(w);
    assert_int_equal(err, 0);
    c->start = (size_t)lseek(fd, 0, SEEK_CUR);
    uint8_t *buf = malloc(o->enc_cap);
    assert_non_null(buf);
    rccap_encoder e;
    rccap_encoder_init(&e, buf, o->enc_cap);
    void *model = give_model(&e, o->window);
    size_t total = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && rccap_encode(&e, &ev[i]))
            continue;
        if (e.count) {
            bool raw = o->raw_every && c->nchunks % o->raw_every == o->raw_every - 1;
            assert_int_equal(raw ? rccap_writer_chunk_raw(w, &e) : rccap_writer_chunk(w, &e), 0);
            total += e.count;
            cap_note_chunk(c, (size_t)lseek(fd, 0, SEEK_CUR), total, raw);
            rccap_encoder_reset(&e);
        }
        if (i < n && !rccap_encode(&e, &ev[i]))
            fail_msg("event %zu (kind %d) does not fit in an empty encoder of %zu bytes", i,
                     ev[i].kind, o->enc_cap);
    }
    assert_int_equal(rccap_writer_close(w), 0);
    free(buf);
    free(model);
    c->data = slurp_fd(fd, &c->len);
    close(fd);
    assert_int_equal(c->len, c->nchunks ? c->end[c->nchunks - 1] : c->start);
}

/* Read every record of r and compare them with want[0 .. n); the number
 * read before the reader returned 0 (asserting it did not return -1). */
static size_t read_compare(rccap_reader *r, const rccap_event *want, size_t n) {
    rccap_event ev;
    size_t i = 0;
    int k;
    while ((k = rccap_reader_next(r, &ev)) == 1) {
        if (i >= n)
            fail_msg("record %zu is one too many", i);
        check_same(&want[i], &ev);
        i++;
    }
    if (k != 0)
        fail_msg("record %zu: %s", i, rccap_reader_error(r));
    assert_int_equal(rccap_reader_next(r, &ev), 0);   /* the end stays the end */
    return i;
}

static rccap_reader *open_mem_ok(const cap *c, size_t len) {
    char msg[256] = "";
    rccap_reader *r = rccap_reader_open_mem(c->data, len, 0, msg, sizeof msg);
    if (!r)
        fail_msg("open: %s", msg);
    return r;
}

/* ---- CRC-32C ---- */

static void test_crc32c(void **state) {
    (void)state;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++)
            c = (c >> 1) ^ (c & 1 ? 0x82F63B78u : 0);
        assert_int_equal(rcf_crc32c_table[i], c);
    }
    assert_int_equal(rcf_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(rcf_crc32c(0, "", 0), 0);
    /* running and one-shot agree */
    assert_int_equal(rcf_crc32c(rcf_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

/* ---- round trips ---- */

static void test_every_kind_round_trips(void **state) {
    (void)state;
    rccap_event ev[EXTREME_MAX];
    size_t n = extreme_events(ev);
    assert_true(n <= EXTREME_MAX);
    /* the smallest buffer that holds the longest record: every long
     * string starts a chunk */
    enum { TIGHT = RCCAP_RECORD_MAX + RCCAP_STRING_MAX + RCCAP_BUILD_ID_MAX + 8 };
    static const wopts opts[] = {
        {1 << 16, 0, 1, 0},  {1 << 16, 1, 1, 0},    {TIGHT, 0, 3, 0},  {TIGHT, 2, 1, 0},
        {1 << 16, 0, 1, 64}, {1 << 16, 1, 1, 4096}, {TIGHT, 0, 3, 64}, {TIGHT, 3, 19, 128},
        {TIGHT, 2, 1, RCCAP_MODEL_WINDOW},
    };
    for (size_t o = 0; o < sizeof opts / sizeof opts[0]; o++) {
        cap c;
        write_capture(&c, &plain_header, ev, n, &opts[o]);
        rccap_reader *r = open_mem_ok(&c, c.len);
        check_header(&plain_header, rccap_reader_header(r));
        assert_int_equal(read_compare(r, ev, n), n);
        assert_false(rccap_reader_truncated(r));
        assert_string_equal(rccap_reader_error(r), "");
        rccap_reader_close(r);
        cap_free(&c);
    }
}

static void test_header_extremes(void **state) {
    (void)state;
    size_t long_cmd = RCCAP_COMMAND_LINE_MAX + 1000;
    char *cmd = malloc(long_cmd + 1);
    assert_non_null(cmd);
    memset(cmd, 'c', long_cmd);
    cmd[long_cmd] = 0;
    extreme_events((rccap_event[EXTREME_MAX]){0});   /* fills long_path */
    const rccap_header hs[] = {
        {.frames = UINT32_MAX, .sample_bytes = UINT64_MAX, .pid = UINT64_MAX,
         .ppid = UINT64_MAX, .start_realtime_ns = UINT64_MAX, .page_size = UINT64_MAX,
         .program = long_path, .command_line = cmd},
        {0},
        {.program = "", .command_line = ""},
        {.frames = 1, .sample_bytes = 524288, .program = "/bin/true", .command_line = NULL},
    };
    rccap_event one = {.kind = RCCAP_MEMORY, .u.memory = {1, 2}};
    for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++) {
        cap c;
        write_capture(&c, &hs[i], &one, 1, &(wopts){4096, 0, 1, 0});
        rccap_reader *r = open_mem_ok(&c, c.len);
        check_header(&hs[i], rccap_reader_header(r));
        assert_int_equal(read_compare(r, &one, 1), 1);
        rccap_reader_close(r);
        cap_free(&c);
    }
    free(cmd);
}

/* Write to a file, read through rccap_reader_open, rccap_reader_open_fd on
 * a pipe and memory: the same records, progress up to the file's size. */
static char tmpdir[256];

static int setup_dir(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rc-test-capture-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state) {
    (void)state;
    char cmd[320];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static void put_file(const char *path, const void *data, size_t n) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static void test_many_chunks(void **state) {
    (void)state;
    size_t n = rct_scaled(200000, 5000);
    stream s = random_stream(rct_seed(11), n);
    cap c;
    /* with models whose windows are reached (64) or not */
    static const uint32_t windows[] = {64, 1024, RCCAP_MODEL_WINDOW};
    for (size_t k = 0; k < sizeof windows / sizeof windows[0]; k++) {
        write_capture(&c, &plain_header, s.ev, s.n, &(wopts){32768, 3, 1, windows[k]});
        rccap_reader *rm = open_mem_ok(&c, c.len);
        assert_int_equal(read_compare(rm, s.ev, s.n), s.n);
        rccap_reader_close(rm);
        cap_free(&c);
    }
    write_capture(&c, &plain_header, s.ev, s.n, &(wopts){2048, 3, 1, 0});
    assert_true(c.nchunks > 10);
    size_t nraw = 0;
    for (size_t k = 0; k < c.nchunks; k++)
        nraw += c.raw[k];
    assert_true(nraw > 0 && nraw < c.nchunks);

    /* memory */
    rccap_reader *r = open_mem_ok(&c, c.len);
    assert_int_equal(read_compare(r, s.ev, s.n), s.n);
    rccap_reader_close(r);

    /* a file, with progress */
    const char *path = in_dir("many.rccap");
    put_file(path, c.data, c.len);
    char msg[256];
    r = rccap_reader_open(path, msg, sizeof msg);
    assert_non_null(r);
    uint64_t done = 0, total = 0, last = 0;
    rccap_reader_progress(r, &done, &total);
    assert_int_equal(total, c.len);
    assert_int_equal(done, c.start);
    rccap_event ev;
    size_t i = 0;
    while (rccap_reader_next(r, &ev) == 1) {
        check_same(&s.ev[i++], &ev);
        rccap_reader_progress(r, &done, &total);
        assert_true(done >= last && done <= total);
        assert_int_equal(total, c.len);
        last = done;
    }
    assert_int_equal(i, s.n);
    assert_string_equal(rccap_reader_error(r), "");
    rccap_reader_progress(r, &done, &total);
    assert_int_equal(done, c.len);
    rccap_reader_close(r);

    /* a pipe: a child writes the bytes in pieces */
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        for (size_t at = 0; at < c.len;) {
            size_t k = c.len - at < 1000 ? c.len - at : 1000;
            ssize_t w = write(pfd[1], c.data + at, k);
            if (w <= 0)
                _exit(1);
            at += (size_t)w;
        }
        _exit(0);
    }
    close(pfd[1]);
    r = rccap_reader_open_fd(pfd[0], msg, sizeof msg);
    assert_non_null(r);
    assert_int_equal(read_compare(r, s.ev, s.n), s.n);
    rccap_reader_progress(r, &done, &total);
    assert_int_equal(done, c.len);
    assert_int_equal(total, c.len);   /* unknown size: what was read */
    rccap_reader_close(r);
    close(pfd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    cap_free(&c);
    free(s.ev);
}

/* Stack ids defined out of order (as chunks of several threads do), up to
 * the documented bound. */
static void test_stack_ids_out_of_order(void **state) {
    (void)state;
    rccap_event ev[8];
    size_t n = 0;
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .u.stack = {3, 0, 0x10}};
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .u.stack = {1, 3, 0x20}};
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .u.stack = {2, 1, 0x30}};
    ev[n++] = (rccap_event){.kind = RCCAP_STACK,
                            .u.stack = {2 * 3 + RCCAP_STACK_ID_SLACK, 2, 0x30}};
    ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .u.alloc = {.ptr = 16, .size = 1,
                                                             .stack = 2 * 3 + RCCAP_STACK_ID_SLACK,
                                                             .weight = 1}};
    cap c;
    write_capture(&c, &plain_header, ev, n, &(wopts){4096, 0, 1, 0});
    rccap_reader *r = open_mem_ok(&c, c.len);
    assert_int_equal(read_compare(r, ev, n), n);
    rccap_reader_close(r);
    cap_free(&c);
}

/* Field extremes the reader's stack-id rules keep out of a file (ids up to
 * 2^32 - 1) go through the encoder and rcf_decode unchanged. */
static void test_record_extremes(void **state) {
    (void)state;
    rccap_event ev[EXTREME_MAX + 4];
    size_t n = extreme_events(ev);
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .time_ns = UINT64_MAX, .thread = UINT32_MAX,
                            .u.stack = {UINT32_MAX, UINT32_MAX, UINT64_MAX}};
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .u.stack = {1, UINT32_MAX, 0}};
    ev[n++] = (rccap_event){.kind = RCCAP_STACK, .u.stack = {UINT32_MAX, 0, 1}};
    ev[n++] = (rccap_event){.kind = RCCAP_ALLOC, .u.alloc = {.ptr = 1, .stack = UINT32_MAX}};
    uint8_t *buf = malloc(1 << 16);
    rccap_encoder e;
    rccap_encoder_init(&e, buf, 1 << 16);
    for (size_t i = 0; i < n; i++)
        assert_true(rccap_encode(&e, &ev[i]));
    rcf_state st = {.version = RCCAP_VERSION};
    uint64_t rings[2 * 64];
    rcf_history h = {rings, rings + 64, 63};
    const uint8_t *p = buf, *end = buf + e.len;
    char msg[256];
    for (size_t i = 0; i < n; i++) {
        rccap_event got;
        if (rcf_decode(&st, &h, &p, end, &got, msg, sizeof msg) != 0)
            fail_msg("record %zu: %s", i, msg);
        check_same(&ev[i], &got);
    }
    assert_ptr_equal(p, end);
    free(buf);
}

/* The model: its memory checks, and pointer patterns around its window:
 * blocks handed back in LIFO and FIFO order, farther back than the window,
 * freed twice, allocated twice, unknown to the chunk, reallocated in place
 * and moved, reported as leaks. Every pattern reads back exactly, and the
 * references make it smaller than deltas do. */
static void test_model(void **state) {
    (void)state;
    uint8_t buf[256];
    rccap_encoder e;
    rccap_encoder_init(&e, buf, sizeof buf);
    static _Alignas(64) uint8_t mem[64 * 256 + 256];
    assert_int_equal(rccap_model_size(0), 0);
    assert_int_equal(rccap_model_size(63), 0);
    assert_int_equal(rccap_model_size(100), 0);
    assert_int_equal(rccap_model_size(RCCAP_MODEL_WINDOW * 2), 0);
    assert_true(rccap_model_size(64) > 64 * 64);
    size_t need = rccap_model_size(256);
    assert_true(need <= sizeof mem);
    assert_false(rccap_encoder_set_model(&e, mem, need - 1, 256));
    assert_false(rccap_encoder_set_model(&e, mem + 8, need, 256));
    assert_false(rccap_encoder_set_model(&e, mem, need, 100));
    assert_null(e.model);
    assert_true(rccap_encoder_set_model(&e, mem, need, 256));
    assert_non_null(e.model);
    rccap_event f = {.kind = RCCAP_FREE, .u.free = {16}};
    assert_true(rccap_encode(&e, &f));
    assert_false(rccap_encoder_set_model(&e, NULL, 0, 0));   /* not empty */
    rccap_encoder_reset(&e);
    assert_true(rccap_encoder_set_model(&e, NULL, 0, 0));
    assert_null(e.model);

    /* the patterns */
    size_t cap_ = 20000, n = 0;
    rccap_event *ev = calloc(cap_, sizeof *ev);
    assert_non_null(ev);
#define ADD(...) (assert_true(n < cap_), ev[n++] = (rccap_event)__VA_ARGS__)
    const uint64_t base = 0x7f0000000000ull;
    /* scattered blocks, as a heap's are: deltas of three or four bytes */
#define AT(i) (base + 16 * ((uint64_t)(i) * 2654435761u % (1u << 24)))
    for (int round = 0; round < 3; round++) {
        int count = round == 0 ? 40 : round == 1 ? 200 : 700;   /* below, near, past 256 */
        for (int i = 0; i < count; i++)
            ADD({.kind = RCCAP_ALLOC, .u.alloc = {.ptr = AT(i), .size = 24, .weight = 24}});
        for (int i = count - 1; i >= 0; i--)   /* LIFO frees */
            ADD({.kind = RCCAP_FREE, .u.free = {AT(i)}});
        for (int i = 0; i < count; i++)        /* handed back LIFO */
            ADD({.kind = RCCAP_ALLOC, .u.alloc = {.ptr = AT(i), .size = 24, .weight = 24}});
        for (int i = 0; i < count; i++)        /* FIFO frees */
            ADD({.kind = RCCAP_FREE, .u.free = {AT(i)}});
        for (int i = count - 1; i >= 0; i--)   /* handed back FIFO */
            ADD({.kind = RCCAP_ALLOC, .u.alloc = {.ptr = AT(i), .size = 24, .weight = 24}});
        for (int i = 0; i < count; i += 2)
            ADD({.kind = RCCAP_FREE, .u.free = {AT(i)}});
    }
    /* odd cases */
    ADD({.kind = RCCAP_FREE, .u.free = {base + 64}});            /* freed twice */
    ADD({.kind = RCCAP_FREE, .u.free = {base + 64}});
    ADD({.kind = RCCAP_ALLOC, .u.alloc = {.ptr = base + 64, .size = 1, .weight = 1}});
    ADD({.kind = RCCAP_ALLOC, .u.alloc = {.ptr = base + 64, .size = 1, .weight = 1}});  /* twice */
    ADD({.kind = RCCAP_FREE, .u.free = {0x123456789}});          /* unknown, unaligned */
    ADD({.kind = RCCAP_REALLOC, .u.realloc = {base + 32, base + 32, 48, 0, 48}});   /* in place */
    ADD({.kind = RCCAP_REALLOC, .u.realloc = {base + 32, base + 64, 96, 0, 96}});   /* moved */
    ADD({.kind = RCCAP_REALLOC, .u.realloc = {base + 64, base + 32, 8, 0, 8}});     /* and back */
    ADD({.kind = RCCAP_FREE, .u.free = {base + 32}});
    ADD({.kind = RCCAP_ALLOC, .u.alloc = {.ptr = base + 32, .size = 2, .weight = 2}});
    ADD({.kind = RCCAP_LEAK, .u.leak = {base + 32, RCCAP_LEAK_LOST}});
    ADD({.kind = RCCAP_LEAK, .u.leak = {base + 96, RCCAP_LEAK_REACHABLE}});
    ADD({.kind = RCCAP_LEAK, .u.leak = {0, RCCAP_LEAK_REACHABLE}});
#undef ADD
#undef AT
    size_t sizes[2];
    for (int with = 0; with < 2; with++) {
        cap c;
        write_capture(&c, &plain_header, ev, n, &(wopts){1 << 20, 0, 1, with ? 256 : 0});
        rccap_reader *r = open_mem_ok(&c, c.len);
        assert_int_equal(read_compare(r, ev, n), n);
        rccap_reader_close(r);
        sizes[with] = c.len;
        /* raw, so that the bytes and not zstd are compared */
        cap_free(&c);
        write_capture(&c, &plain_header, ev, n, &(wopts){1 << 20, 1, 1, with ? 256 : 0});
        r = open_mem_ok(&c, c.len);
        assert_int_equal(read_compare(r, ev, n), n);
        rccap_reader_close(r);
        sizes[with] = c.len;
        cap_free(&c);
    }
    /* most pointers became one-byte references */
    assert_true(sizes[1] + n < sizes[0]);
    free(ev);
}

/* The model forgets a chunk by a generation step; when the 32-bit
 * generation wraps it clears its tables, or the slots of the chunk that
 * ran under generation 1 long ago would come back to life and name
 * numbers of another chunk. */
static void test_model_generation_wrap(void **state) {
    (void)state;
    static _Alignas(64) uint8_t mem[64 * 64 + 256];
    uint8_t buf[4096];
    rccap_encoder e;
    rccap_encoder_init(&e, buf, sizeof buf);
    assert_true(rccap_encoder_set_model(&e, mem, sizeof mem, 64));
    /* chunk 1 (generation 1): blocks allocated at numbers 0..19 */
    rccap_event a[40], b[40];
    for (int i = 0; i < 20; i++)
        a[i] = (rccap_event){.kind = RCCAP_ALLOC,
                             .u.alloc = {.ptr = 0x1000 + 4096 * (uint64_t)i, .size = 8, .weight = 8}};
    for (int i = 0; i < 20; i++)
        assert_true(rccap_encode(&e, &a[i]));
    rccap_encoder_reset(&e);
    /* jump to the last generation, then wrap to 1 again */
    rcf_model_set_generation(e.model, UINT32_MAX);
    rccap_encoder_reset(&e);
    /* chunk 2: two allocations, then frees of chunk 1's blocks, which this
     * chunk never allocated: they must be deltas, not references */
    b[0] = (rccap_event){.kind = RCCAP_ALLOC, .u.alloc = {.ptr = 0x900000, .size = 8, .weight = 8}};
    b[1] = (rccap_event){.kind = RCCAP_ALLOC, .u.alloc = {.ptr = 0x910000, .size = 8, .weight = 8}};
    for (int i = 0; i < 20; i++)
        b[2 + i] = (rccap_event){.kind = RCCAP_FREE, .u.free = {0x1000 + 4096 * (uint64_t)i}};
    for (int i = 0; i < 22; i++)
        assert_true(rccap_encode(&e, &b[i]));
    rcf_state st = {.version = RCCAP_VERSION};
    uint64_t rings[2 * 64];
    rcf_history h = {rings, rings + 64, 63};
    const uint8_t *p = buf, *end = buf + e.len;
    char msg[256];
    for (int i = 0; i < 22; i++) {
        rccap_event got;
        if (rcf_decode(&st, &h, &p, end, &got, msg, sizeof msg) != 0)
            fail_msg("record %d: %s", i, msg);
        check_same(&b[i], &got);
    }
}

/* ---- the encoder ---- */

static void test_encoder_full(void **state) {
    (void)state;
    rct_rng g;
    rct_rng_init(&g, rct_seed(5));
    stream s = random_stream(rct_seed(6), 3000);
    uint8_t small[4];
    rccap_encoder e;
    rccap_encoder_init(&e, small, 0);
    assert_false(rccap_encode(&e, &s.ev[0]));
    rccap_encoder_init(&e, small, 1);
    rccap_event f = {.kind = RCCAP_FREE, .u.free = {0}};
    assert_false(rccap_encode(&e, &f));
    rccap_encoder_init(&e, small, 2);
    assert_true(rccap_encode(&e, &f));   /* tag and pointer: exactly two bytes */
    assert_int_equal(e.len, 2);
    assert_false(rccap_encode(&e, &f));

    /* Fill buffers of many sizes: every refusal is of a record that needs
     * more than the room left (measured in an encoder with the same state),
     * and leaves the encoder unchanged. */
    uint8_t *buf = malloc(4096), *big = malloc(1 << 16);
    assert_true(buf && big);
    for (int round = 0; round < 200; round++) {
        size_t cap_ = rct_rng_range(&g, 1, 4096);
        rccap_encoder_init(&e, buf, cap_);
        size_t i = rct_rng_range(&g, 0, s.n - 1), refused = 0;
        for (int k = 0; k < 400; k++, i = (i + 1) % s.n) {
            rccap_encoder before = e;
            if (rccap_encode(&e, &s.ev[i])) {
                assert_true(e.len <= cap_);
                assert_int_equal(e.count, before.count + 1);
                continue;
            }
            assert_memory_equal(&e, &before, sizeof e);
            rccap_encoder probe = before;
            probe.buf = big;
            probe.cap = 1 << 16;
            probe.len = 0;
            assert_true(rccap_encode(&probe, &s.ev[i]));
            assert_true(probe.len > cap_ - e.len);
            /* and with exactly the room it needs, it fits */
            rccap_encoder exact = before;
            exact.cap = e.len + probe.len;
            if (exact.cap <= 4096) {
                assert_true(rccap_encode(&exact, &s.ev[i]));
                assert_int_equal(exact.len, exact.cap);
            }
            refused++;
        }
        assert_true(refused > 0 || cap_ > 1000);
    }

    /* A buffer larger than RCCAP_CHUNK_MAX is filled up to it only. */
    size_t huge = RCCAP_CHUNK_MAX + (1 << 20);
    uint8_t *hb = malloc(huge);
    assert_non_null(hb);
    extreme_events((rccap_event[EXTREME_MAX]){0});
    rccap_event m = {.kind = RCCAP_MODULE, .u.module = {.start = 1, .end = 2, .path = long_path}};
    rccap_encoder_init(&e, hb, huge);
    while (rccap_encode(&e, &m))
        ;
    assert_true(e.len <= RCCAP_CHUNK_MAX);
    assert_true(e.len > RCCAP_CHUNK_MAX - RCCAP_RECORD_MAX - RCCAP_STRING_MAX - 1);
    /* reset empties it, keeps the buffer */
    rccap_encoder_reset(&e);
    assert_int_equal(e.len, 0);
    assert_int_equal(e.count, 0);
    assert_ptr_equal(e.buf, hb);
    assert_int_equal(e.cap, huge);
    free(hb);
    free(buf);
    free(big);
    free(s.ev);
}

static void test_encoder_refuses_invalid(void **state) {
    (void)state;
    const rccap_event bad[] = {
        {.kind = (rccap_kind)0},
        {.kind = RCCAP_KIND_MAX},
        {.kind = (rccap_kind)-1},
        {.kind = RCCAP_ALLOC, .u.alloc = {.fn = RCCAP_FN_MAX}},
        {.kind = RCCAP_ALLOC, .u.alloc = {.fn = (rccap_fn)-1}},
        {.kind = RCCAP_STACK, .u.stack = {.id = 0}},
        {.kind = RCCAP_MODULE, .u.module = {.start = 2, .end = 1}},
        {.kind = RCCAP_MODULE, .u.module = {.build_id = NULL, .build_id_len = 3}},
        {.kind = RCCAP_EXIT, .u.exit = {.how = (rccap_end)(RCCAP_END_UNKNOWN + 1)}},
        {.kind = RCCAP_LEAK, .u.leak = {.state = (rccap_leak)2}},
    };
    uint8_t buf[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rccap_encoder e;
        rccap_encoder_init(&e, buf, sizeof buf);
        rccap_encoder before = e;
        assert_false(rccap_encode(&e, &bad[i]));
        assert_memory_equal(&e, &before, sizeof e);
    }
}

/* ---- the writer ---- */

static void test_writer_never_calls_malloc(void **state) {
    (void)state;
    /* The counter sees malloc from this file and from inside libzstd.so
     * (whose own allocations go through the interposed malloc). */
    bool counts = counting_works();
    counting_reset();
    void *(*volatile m)(size_t) = malloc;
    void *p = m(10);
    if (counts)
        assert_int_equal(malloc_calls, 1);
    free(p);
    ZSTD_CCtx *z = ZSTD_createCCtx();
    assert_non_null(z);
    if (counts)
        assert_true(malloc_calls > 1);
    ZSTD_freeCCtx(z);

    stream s = random_stream(rct_seed(21), 20000);
    int fd = new_memfd();
    static uint8_t buf[1 << 14];
    static _Alignas(64) uint8_t model[64 * 1024 + 4096];
    assert_true(rccap_model_size(1024) <= sizeof model);
    counting_reset();
    int err;
    rccap_writer *w = rccap_writer_open(fd, &plain_header, 3, &err);
    assert_non_null(w);
    rccap_encoder e;
    rccap_encoder_init(&e, buf, sizeof buf);
    assert_true(rccap_encoder_set_model(&e, model, sizeof model, 1024));
    size_t chunks = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i < s.n && rccap_encode(&e, &s.ev[i]))
            continue;
        assert_int_equal(chunks++ % 2 ? rccap_writer_chunk_raw(w, &e) : rccap_writer_chunk(w, &e),
                         0);
        rccap_encoder_reset(&e);
        if (i < s.n)
            assert_true(rccap_encode(&e, &s.ev[i]));
    }
    assert_int_equal(rccap_writer_close(w), 0);
    if (counts)
        assert_int_equal(malloc_calls, 0);
    assert_true(chunks > 4);

    /* the reader may allocate, and the counter sees it */
    size_t len;
    uint8_t *data = slurp_fd(fd, &len);
    close(fd);
    counting_reset();
    char msg[256];
    rccap_reader *r = rccap_reader_open_mem(data, len, 0, msg, sizeof msg);
    assert_non_null(r);
    assert_int_equal(read_compare(r, s.ev, s.n), s.n);
    rccap_reader_close(r);
    if (counts)
        assert_true(malloc_calls > 0);
    free(data);
    free(s.ev);
}

static void test_writer_errors(void **state) {
    (void)state;
    int err = 0;
    assert_null(rccap_writer_open(-1, &plain_header, 1, &err));
    assert_int_equal(err, EBADF);
    assert_null(rccap_writer_open(0, NULL, 1, &err));
    assert_int_equal(err, EINVAL);
    assert_null(rccap_writer_open(-1, &plain_header, 1, NULL));   /* err may be NULL */

    /* a read-only fd: the header cannot be written */
    int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(ro >= 0);
    assert_null(rccap_writer_open(ro, &plain_header, 1, &err));
    assert_int_equal(err, EBADF);
    close(ro);

    /* /dev/full: ENOSPC for the header */
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (full >= 0) {
        assert_null(rccap_writer_open(full, &plain_header, 1, &err));
        assert_int_equal(err, ENOSPC);
        close(full);
    }

    /* EPIPE once the reader is gone (SIGPIPE ignored, as the preload does) */
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    rccap_writer *w = rccap_writer_open(pfd[1], &plain_header, 1, &err);
    assert_non_null(w);
    close(pfd[0]);
    uint8_t buf[256];
    rccap_encoder e;
    rccap_encoder_init(&e, buf, sizeof buf);
    rccap_event f = {.kind = RCCAP_FREE, .u.free = {0x1000}};
    assert_true(rccap_encode(&e, &f));
    assert_int_equal(rccap_writer_chunk(w, &e), EPIPE);
    assert_int_equal(rccap_writer_chunk_raw(w, &e), EPIPE);
    /* nothing went out, so the writer is not broken: the error is not
     * remembered by close */
    assert_int_equal(rccap_writer_close(w), 0);
    close(pfd[1]);
    sigaction(SIGPIPE, &old, NULL);

    /* bad encoders */
    int fd = new_memfd();
    w = rccap_writer_open(fd, &plain_header, 1, &err);
    assert_non_null(w);
    assert_int_equal(rccap_writer_chunk(NULL, &e), EINVAL);
    assert_int_equal(rccap_writer_chunk(w, NULL), EINVAL);
    assert_int_equal(rccap_writer_chunk_raw(w, NULL), EINVAL);
    rccap_encoder liar = e;
    liar.count = 0;
    assert_int_equal(rccap_writer_chunk(w, &liar), EINVAL);
    liar.count = 5;   /* 5 records cannot fit in 2 bytes */
    assert_int_equal(rccap_writer_chunk(w, &liar), EINVAL);
    liar = e;
    liar.buf = NULL;
    assert_int_equal(rccap_writer_chunk(w, &liar), EINVAL);
    liar = e;
    liar.len = RCCAP_CHUNK_MAX + 1;
    assert_int_equal(rccap_writer_chunk(w, &liar), EINVAL);
    /* an empty encoder writes nothing */
    rccap_encoder empty;
    rccap_encoder_init(&empty, buf, sizeof buf);
    off_t before = lseek(fd, 0, SEEK_CUR);
    assert_int_equal(rccap_writer_chunk(w, &empty), 0);
    assert_int_equal(rccap_writer_chunk_raw(w, &empty), 0);
    assert_int_equal(lseek(fd, 0, SEEK_CUR), before);
    assert_int_equal(rccap_writer_close(w), 0);
    assert_int_equal(rccap_writer_close(NULL), 0);
    close(fd);
}

/* A chunk cut short by a full disk (RLIMIT_FSIZE here): the error, then
 * the same error for every later chunk and at close; the file reads as the
 * chunks before it, then truncation. */
static void test_writer_stops_after_partial_chunk(void **state) {
    (void)state;
    const char *path = in_dir("partial.rccap");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    int err;
    rccap_writer *w = rccap_writer_open(fd, &plain_header, 1, &err);
    assert_non_null(w);
    stream s = random_stream(rct_seed(31), 600);
    uint8_t *buf = malloc(1 << 16);
    rccap_encoder e;
    rccap_encoder_init(&e, buf, 1 << 16);
    for (size_t i = 0; i < 200; i++)
        assert_true(rccap_encode(&e, &s.ev[i]));
    assert_int_equal(rccap_writer_chunk(w, &e), 0);
    off_t good = lseek(fd, 0, SEEK_CUR);

    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGXFSZ, &ign, &old);
    struct rlimit lim, saved;
    getrlimit(RLIMIT_FSIZE, &saved);
    lim = saved;
    lim.rlim_cur = (rlim_t)good + 40;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rccap_encoder_reset(&e);
    for (size_t i = 200; i < 400; i++)
        assert_true(rccap_encode(&e, &s.ev[i]));
    int r1 = rccap_writer_chunk_raw(w, &e);
    int r2 = rccap_writer_chunk(w, &e);
    int r3 = rccap_writer_close(w);
    setrlimit(RLIMIT_FSIZE, &saved);
    sigaction(SIGXFSZ, &old, NULL);
    assert_int_equal(r1, EFBIG);
    assert_int_equal(r2, EFBIG);
    assert_int_equal(r3, EFBIG);
    assert_int_equal(lseek(fd, 0, SEEK_END), good + 40);
    close(fd);

    char msg[256];
    rccap_reader *r = rccap_reader_open(path, msg, sizeof msg);
    assert_non_null(r);
    assert_int_equal(read_compare(r, s.ev, s.n), 200);
    assert_true(rccap_reader_truncated(r));
    rccap_reader_close(r);
    free(buf);
    free(s.ev);
}

/* The OS refuses memory after n allocations, for every n: opening fails
 * cleanly with ENOMEM, or the capture is written in full (chunks whose
 * compression found no memory go out raw) and reads back. */
static void test_writer_out_of_memory(void **state) {
    (void)state;
    stream s = random_stream(rct_seed(41), 3000);
    uint8_t *buf = malloc(1 << 14);
    size_t raw_fallbacks = 0, refused_opens = 0;
    for (long n = 0;; n++) {
        int fd = new_memfd();
        rci_os_fail_after(n);
        int err = 0;
        rccap_writer *w = rccap_writer_open(fd, &plain_header, 1, &err);
        if (!w) {
            rci_os_fail_after(-1);
            assert_int_equal(err, ENOMEM);
            struct stat sb;
            assert_int_equal(fstat(fd, &sb), 0);
            assert_int_equal(sb.st_size, 0);   /* nothing written */
            close(fd);
            refused_opens++;
            continue;
        }
        rccap_encoder e;
        rccap_encoder_init(&e, buf, 1 << 14);
        for (size_t i = 0; i <= s.n; i++) {
            if (i < s.n && rccap_encode(&e, &s.ev[i]))
                continue;
            assert_int_equal(rccap_writer_chunk(w, &e), 0);
            rccap_encoder_reset(&e);
            if (i < s.n)
                assert_true(rccap_encode(&e, &s.ev[i]));
        }
        assert_int_equal(rccap_writer_close(w), 0);
        long failed = rci_os_fail_after(-1);
        size_t len;
        uint8_t *data = slurp_fd(fd, &len);
        close(fd);
        char msg[256];
        rccap_reader *r = rccap_reader_open_mem(data, len, 0, msg, sizeof msg);
        assert_non_null(r);
        assert_int_equal(read_compare(r, s.ev, s.n), s.n);
        rccap_reader_close(r);
        /* the first chunk frame says how it was stored */
        size_t hdr = RCF_HEADER_FIXED + rcf_get32(data + 12) + 4;
        if (data[hdr + 4] == RCF_RAW)
            raw_fallbacks++;
        free(data);
        if (failed == 0)
            break;
    }
    assert_true(refused_opens >= 2);
    assert_true(raw_fallbacks >= 1);
    free(buf);
    free(s.ev);
}

/* Short writes and EINTR: a child drains a small pipe slowly while a timer
 * interrupts every write; the timer's handler also writes raw chunks of a
 * marker record, which succeed between chunks and return EBUSY in the
 * middle of one. The child's copy holds every record in order, with the
 * handler's markers between chunks. */
static rccap_writer *volatile sig_writer;
static rccap_encoder sig_enc;
static volatile sig_atomic_t sig_ticks, sig_busy, sig_written;

static void on_tick(int sig) {
    (void)sig;
    sig_ticks++;
    rccap_writer *w = sig_writer;
    if (!w)
        return;
    int r = rccap_writer_chunk_raw(w, &sig_enc);
    if (r == EBUSY)
        sig_busy++;
    else if (r == 0)
        sig_written++;
}

static void test_writer_short_writes_and_signals(void **state) {
    (void)state;
    size_t n = rct_scaled(40000, 20000);
    stream s = random_stream(rct_seed(51), n);
    int copy = new_memfd();
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    fcntl(pfd[1], F_SETPIPE_SZ, 4096);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[1]);
        char b[256];
        for (;;) {
            ssize_t k = read(pfd[0], b, sizeof b);
            if (k <= 0)
                _exit(k == 0 ? 0 : 1);
            if (write(copy, b, (size_t)k) != k)
                _exit(2);
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    close(pfd[0]);

    static uint8_t sig_buf[64];
    rccap_encoder_init(&sig_enc, sig_buf, sizeof sig_buf);
    rccap_event marker = {.kind = RCCAP_MEMORY, .time_ns = 77, .u.memory = {0x5157, 0x5157}};
    assert_true(rccap_encode(&sig_enc, &marker));

    struct sigaction sa = {.sa_handler = on_tick}, old;   /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old);
    int err;
    rccap_writer *w = rccap_writer_open(pfd[1], &plain_header, 1, &err);
    assert_non_null(w);
    sig_ticks = sig_busy = sig_written = 0;
    sig_writer = w;
    struct itimerval it = {{0, 300}, {0, 300}};
    setitimer(ITIMER_REAL, &it, NULL);
    uint8_t *buf = malloc(1 << 15);
    rccap_encoder e;
    rccap_encoder_init(&e, buf, 1 << 15);
    size_t chunks = 0;
    for (size_t i = 0; i <= s.n; i++) {
        if (i < s.n && rccap_encode(&e, &s.ev[i]))
            continue;
        int r = chunks++ % 2 ? rccap_writer_chunk_raw(w, &e) : rccap_writer_chunk(w, &e);
        assert_int_equal(r, 0);
        rccap_encoder_reset(&e);
        if (i < s.n)
            assert_true(rccap_encode(&e, &s.ev[i]));
    }
    /* Stop the timer and take a tick still pending before the old action
     * comes back (it would end the process). */
    sigset_t alrm, before;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, &before);
    sig_writer = NULL;
    struct itimerval stop = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &stop, NULL);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&alrm, NULL, &zero) == SIGALRM)
        ;
    sigaction(SIGALRM, &old, NULL);
    sigprocmask(SIG_SETMASK, &before, NULL);
    assert_int_equal(rccap_writer_close(w), 0);
    close(pfd[1]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        assert_int_equal(errno, EINTR);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(sig_ticks >= 10);
    assert_true(sig_busy > 0);

    size_t len;
    uint8_t *data = slurp_fd(copy, &len);
    close(copy);
    char msg[256];
    rccap_reader *r = rccap_reader_open_mem(data, len, 0, msg, sizeof msg);
    assert_non_null(r);
    rccap_event ev;
    size_t i = 0, markers = 0;
    int k;
    while ((k = rccap_reader_next(r, &ev)) == 1) {
        if (ev.kind == RCCAP_MEMORY && ev.u.memory.rss == 0x5157 && ev.time_ns == 77) {
            markers++;
            continue;
        }
        assert_true(i < s.n);
        check_same(&s.ev[i++], &ev);
    }
    if (k != 0)
        fail_msg("%s", rccap_reader_error(r));
    assert_int_equal(i, s.n);
    assert_int_equal(markers, (size_t)sig_written);
    rccap_reader_close(r);
    free(data);
    free(buf);
    free(s.ev);
}

/* rccap_writer_chunk_raw trusts e->len only: a count running ahead, half a
 * record or garbage after the whole records, are left out. */
static void test_chunk_raw_writes_whole_records(void **state) {
    (void)state;
    rccap_event ev[3] = {
        {.kind = RCCAP_ALLOC, .time_ns = 5, .thread = 1,
         .u.alloc = {.ptr = 0x1000, .size = 10, .weight = 10}},
        {.kind = RCCAP_FREE, .time_ns = 6, .thread = 1, .u.free = {0x1000}},
        {.kind = RCCAP_MEMORY, .time_ns = 7, .thread = 1, .u.memory = {1, 2}},
    };
    uint8_t buf[256];
    for (int variant = 0; variant < 4; variant++) {
        rccap_encoder e;
        rccap_encoder_init(&e, buf, sizeof buf);
        for (int i = 0; i < 3; i++)
            assert_true(rccap_encode(&e, &ev[i]));
        size_t whole = e.len;
        if (variant == 1)
            e.count = 4;   /* interrupted between count and len */
        if (variant == 2) {
            rccap_event more = ev[0];
            assert_true(rccap_encode(&e, &more));
            e.len = whole + 3;   /* the length of a record half stored */
        }
        if (variant == 3) {
            buf[e.len] = 0xFF;   /* unknown kind */
            buf[e.len + 1] = 0x00;
            e.len += 2;
            e.count = 0;
        }
        int fd = new_memfd();
        int err;
        rccap_writer *w = rccap_writer_open(fd, &plain_header, 1, &err);
        assert_non_null(w);
        assert_int_equal(rccap_writer_chunk_raw(w, &e), 0);
        assert_int_equal(rccap_writer_close(w), 0);
        size_t len;
        uint8_t *data = slurp_fd(fd, &len);
        close(fd);
        cap c = {.data = data, .len = len};
        rccap_reader *r = open_mem_ok(&c, len);
        assert_int_equal(read_compare(r, ev, 3), 3);
        rccap_reader_close(r);
        size_t hdr = RCF_HEADER_FIXED + rcf_get32(data + 12) + 4;
        assert_int_equal(len, hdr + RCF_FRAME_SIZE + whole);
        free(data);
    }
}

/* Compressed chunks continue one zstd stream; a chunk that starts a
 * stream resets the reader's decompressor: the chunks of two writers'
 * streams spliced at a start read as both. */
static void test_zstd_streams(void **state) {
    (void)state;
    stream a = random_stream(rct_seed(61), 3000), b = random_stream(rct_seed(62), 3000);
    /* b's stack ids after a's (a defines a few hundred) */
    for (size_t i = 0; i < b.n; i++) {
        rccap_event *e = &b.ev[i];
        if (e->kind == RCCAP_STACK) {
            e->u.stack.id += 1000;
            e->u.stack.parent += e->u.stack.parent ? 1000 : 0;
        } else if (e->kind == RCCAP_ALLOC && e->u.alloc.stack) {
            e->u.alloc.stack += 1000;
        } else if (e->kind == RCCAP_REALLOC && e->u.realloc.stack) {
            e->u.realloc.stack += 1000;
        }
    }
    cap ca, cb;
    write_capture(&ca, &plain_header, a.ev, a.n, &(wopts){4096, 0, 1, 256});
    write_capture(&cb, &plain_header, b.ev, b.n, &(wopts){4096, 0, 3, 0});
    assert_true(ca.nchunks > 3 && cb.nchunks > 3);
    /* the first chunk starts the stream, the others continue it */
    size_t at = ca.start;
    for (size_t k = 0; k < ca.nchunks; k++) {
        assert_int_equal(ca.data[at + 4], k == 0 ? RCF_ZSTD_START : RCF_ZSTD);
        at = ca.end[k];
    }
    /* a's header and first two chunks, then all of b's chunks */
    size_t keep = ca.end[1], tail = cb.len - cb.start;
    uint8_t *spliced = malloc(keep + tail);
    memcpy(spliced, ca.data, keep);
    memcpy(spliced + keep, cb.data + cb.start, tail);
    rccap_event *want = calloc(a.n + b.n, sizeof *want);
    memcpy(want, a.ev, ca.records[1] * sizeof *want);
    memcpy(want + ca.records[1], b.ev, b.n * sizeof *want);
    char msg[256];
    rccap_reader *r = rccap_reader_open_mem(spliced, keep + tail, 0, msg, sizeof msg);
    assert_non_null(r);
    assert_int_equal(read_compare(r, want, ca.records[1] + b.n), ca.records[1] + b.n);
    rccap_reader_close(r);
    free(spliced);
    free(want);
    cap_free(&ca);
    cap_free(&cb);
    free(a.ev);
    free(b.ev);
}

/* ---- the damaged-file table ---- */

/* A small capture of four chunks (raw and compressed) holding every kind. */
static void small_capture(cap *c) {
    static rccap_event ev[EXTREME_MAX];
    size_t n = extreme_events(ev);
    /* strings short enough for small chunks */
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == RCCAP_MODULE && ev[i].u.module.path == long_path)
            ev[i].u.module.path = "/lib/x.so";
        if (ev[i].kind == RCCAP_MODULE && ev[i].u.module.build_id == long_build_id)
            ev[i].u.module.build_id_len = 8;
        if (ev[i].kind == RCCAP_THREAD && ev[i].u.thread.name == long_path)
            ev[i].u.thread.name = "thread-x";
    }
    write_capture(c, &plain_header, ev, n, &(wopts){128, 2, 1, 64});
    assert_true(c->nchunks >= 4);
}

/* Every prefix: inside the header, opening fails with a message; after it,
 * the records of the complete chunks are read, then the end, with
 * truncation reported exactly when the prefix ends inside a chunk. Through
 * memory for every length, through a file for some. */
static void test_truncated_every_offset(void **state) {
    (void)state;
    cap c;
    small_capture(&c);
    const char *path = in_dir("cut.rccap");
    for (size_t len = 0; len <= c.len; len++) {
        char msg[256] = "";
        bool via_file = len % 7 == 0 || len == c.len;
        rccap_reader *r;
        if (via_file) {
            put_file(path, c.data, len);
            r = rccap_reader_open(path, msg, sizeof msg);
        } else {
            r = rccap_reader_open_mem(c.data, len, 0, msg, sizeof msg);
        }
        if (len < c.start) {
            assert_null(r);
            assert_true(strlen(msg) > 0);
            if (len > 0)
                assert_non_null(strstr(msg, "truncated header"));
            continue;
        }
        if (!r)
            fail_msg("length %zu: %s", len, msg);
        size_t complete = 0;
        bool boundary = len == c.start;
        for (size_t k = 0; k < c.nchunks && c.end[k] <= len; k++) {
            complete = c.records[k];
            boundary = c.end[k] == len;
        }
        rccap_event ev;
        size_t got = 0;
        int k;
        while ((k = rccap_reader_next(r, &ev)) == 1)
            got++;
        if (k != 0)
            fail_msg("length %zu: %s", len, rccap_reader_error(r));
        assert_int_equal(got, complete);
        assert_int_equal(rccap_reader_truncated(r), !boundary);
        assert_int_equal(rccap_reader_next(r, &ev), 0);
        rccap_reader_close(r);
    }
    cap_free(&c);
}

/* Read to the end: 1 when every record was read without complaint, 0 when
 * the reader refused (with a message), -1 when opening failed (message). */
static int read_outcome(const uint8_t *data, size_t len, unsigned flags, char *err, size_t n) {
    char msg[384] = "";
    rccap_reader *r = rccap_reader_open_mem(data, len, flags, msg, sizeof msg);
    if (!r) {
        assert_true(strlen(msg) > 0);
        snprintf(err, n, "%s", msg);
        return -1;
    }
    rccap_event ev;
    int k;
    size_t records = 0;
    while ((k = rccap_reader_next(r, &ev)) == 1)
        records++;
    assert_true(records <= len);
    snprintf(err, n, "%s", rccap_reader_error(r));
    if (k < 0)
        assert_true(strlen(err) > 0);
    else
        assert_string_equal(err, "");
    assert_int_equal(rccap_reader_next(r, &ev), k);   /* final */
    rccap_reader_close(r);
    return k < 0 ? 0 : 1;
}

/* Every byte flipped (three ways) is refused; without the checksums the
 * structure checks refuse or accept it, without fault. */
static void test_flipped_bytes(void **state) {
    (void)state;
    cap c;
    small_capture(&c);
    static const uint8_t masks[] = {0x01, 0x80, 0xFF};
    size_t accepted_unchecked = 0;
    char err[384];
    for (size_t i = 0; i < c.len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            c.data[i] ^= masks[m];
            int k = read_outcome(c.data, c.len, 0, err, sizeof err);
            if (k == 1)
                fail_msg("byte %zu ^ 0x%02x was not noticed", i, masks[m]);
            if (k == 0)
                assert_non_null(strstr(err, "offset"));
            if (read_outcome(c.data, c.len, RCCAP_READ_NO_CHECKSUM, err, sizeof err) == 1)
                accepted_unchecked++;
            c.data[i] ^= masks[m];
        }
    }
    /* times, sizes and addresses have no structure to break */
    assert_true(accepted_unchecked > 0);
    cap_free(&c);
}

/* ---- crafted captures ---- */

typedef struct craft {
    uint8_t *data;
    size_t len;
} craft;

static void craft_add(craft *c, const void *p, size_t n) {
    c->data = realloc(c->data, c->len + n + 1);
    assert_non_null(c->data);
    memcpy(c->data + c->len, p, n);
    c->len += n;
}

/* The header the writer writes for plain_header. */
static void craft_header(craft *c) {
    memset(c, 0, sizeof *c);
    int fd = new_memfd();
    int err;
    rccap_writer *w = rccap_writer_open(fd, &plain_header, 1, &err);
    assert_non_null(w);
    assert_int_equal(rccap_writer_close(w), 0);
    size_t len;
    uint8_t *h = slurp_fd(fd, &len);
    close(fd);
    craft_add(c, h, len);
    free(h);
}

/* Recompute the header's CRC (after editing its bytes). */
static void craft_fix_header(craft *c, size_t header_len) {
    rcf_put32(c->data + header_len - 4, rcf_crc32c(0, c->data, header_len - 4));
}

/* A chunk with the given frame fields, both CRCs right. */
static void craft_chunk(craft *c, int encoding, const void *payload, uint32_t stored,
                        uint32_t content, uint32_t count) {
    uint8_t frame[RCF_FRAME_SIZE];
    rcf_frame_fill(frame, encoding, stored, content, count, rcf_crc32c(0, payload, stored));
    craft_add(c, frame, sizeof frame);
    craft_add(c, payload, stored);
}

static void craft_raw(craft *c, const uint8_t *rec, size_t n, uint32_t count) {
    craft_chunk(c, RCF_RAW, rec, (uint32_t)n, (uint32_t)n, count);
}

/* Encode events as one chunk's records. */
static size_t encode_events(uint8_t *out, size_t cap_, const rccap_event *ev, size_t n) {
    rccap_encoder e;
    rccap_encoder_init(&e, out, cap_);
    for (size_t i = 0; i < n; i++)
        assert_true(rccap_encode(&e, &ev[i]));
    return e.len;
}

typedef struct record_case {
    const char *name;
    uint8_t rec[40];
    size_t len;
    uint32_t count;
    const char *expect;
} record_case;

static void check_record_cases(const record_case *cases, size_t n, uint32_t version);

/* Records broken in each way the decoder checks, in a raw chunk after a
 * valid one that defines stacks 1 and 2. */
static void test_damaged_records(void **state) {
    (void)state;
    static const record_case cases[] = {
        {"kind 0", {0x00, 0x00}, 2, 1, "unknown record kind 0"},
        {"kind 12", {0x0C, 0x00}, 2, 1, "unknown record kind 12"},
        {"sync with a flag", {0x4A, 0x00}, 2, 1, "sync record with unknown flags 0x40"},
        {"sync without its lag", {0x1A, 0x02}, 2, 1, "lag runs past the end of the chunk"},
        {"gc", {0x0B, 0x02, 0x05, 0x00, 0x10, 0x00}, 6, 1, ""},
        {"gc of generation 3", {0x0B, 0x03, 0x00, 0x00, 0x00, 0x00}, 6, 1,
         "collection of generation 3 (there are three)"},
        {"gc cut short", {0x0B, 0x01, 0x05}, 3, 1,
         "objects uncollectable runs past the end of the chunk"},
        {"gc with a flag", {0x4B, 0x00, 0x00, 0x00, 0x00, 0x00}, 6, 1,
         "gc record with unknown flags 0x40"},
        {"sync", {0x1A, 0x02, 0x04, 0x0A, 0x00}, 5, 2, ""},
        {"kind 15", {0x0F, 0x00}, 2, 1, "unknown record kind 15"},
        {"free with a flag", {0x42, 0x00}, 2, 1, "free record with unknown flags 0x40"},
        {"stack with a flag", {0x84, 0x06, 0x02, 0x00}, 4, 1,
         "stack record with unknown flags 0x80"},
        {"size missing", {0x01, 0x00}, 2, 1, "size runs past the end of the chunk"},
        {"varint of 11 bytes",
         {0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, 12, 1,
         "does not fit in 64 bits"},
        {"varint above 2^64",
         {0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}, 11, 1,
         "does not fit in 64 bits"},
        {"varint cut", {0x02, 0x80, 0x80}, 3, 1, "pointer runs past the end of the chunk"},
        {"bad pointer", {0x02, 0x07}, 2, 1, "bad pointer encoding 7"},
        {"absolute pointer cut", {0x02, 0x03}, 2, 1, "pointer runs past the end of the chunk"},
        {"reuse of a block never freed", {0x01, 0x01, 0x08, 0x00}, 4, 1,
         "refers to the block freed 1 frees before, but the chunk has freed 0 blocks"},
        {"reuse beyond the frees", {0x02, 0x00, 0x01, 0x05, 0x08, 0x00}, 6, 2,
         "refers to the block freed 2 frees before, but the chunk has freed 1 blocks"},
        {"free of no allocation", {0x02, 0x01}, 2, 1,
         "refers to allocation 0 of the chunk, which is not one of its last"},
        {"free of allocation -1", {0x01, 0x00, 0x08, 0x00, 0x02, 0x05}, 6, 2,
         "refers to allocation -1 of the chunk"},
        {"free of a later allocation", {0x01, 0x00, 0x08, 0x00, 0x02, 0x09}, 6, 2,
         "refers to allocation 1 of the chunk"},
        {"reuse and free, fine", {0x02, 0x00, 0x01, 0x01, 0x08, 0x00, 0x02, 0x01}, 8, 3, ""},
        {"thread above 2^32", {0x22, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00}, 7, 1,
         "thread 4294967296 is larger than 2^32 - 1"},
        {"stack used before defined", {0x01, 0x00, 0x08, 0x0A}, 4, 1,
         "stack id 5 used before it was defined"},
        {"realloc stack undefined", {0x03, 0x00, 0x08, 0x12}, 4, 1,
         "stack id 9 used before it was defined"},
        {"stack ids are steps", {0x01, 0x00, 0x08, 0x04, 0x01, 0x00, 0x08, 0x01}, 8, 2, ""},
        {"stack step below 0", {0x01, 0x00, 0x08, 0x01}, 4, 1, "stack id -1 out of range"},
        {"step to a free not made", {0x01, 0x07, 0x08, 0x00}, 4, 1,
         "refers to free 0 of the chunk, which is not one of its last"},
        {"step back past the first free", {0x02, 0x00, 0x01, 0x0B, 0x08, 0x00}, 6, 2,
         "refers to free -1 of the chunk"},
        {"alloc, free, step to that free", {0x01, 0x00, 0x08, 0x00, 0x02, 0x01, 0x01, 0x07,
         0x08, 0x00}, 10, 3, ""},
        {"parent undefined", {0x04, 0x06, 0x00, 0x00}, 4, 1,
         "parent id 3 of stack 3 is not defined"},
        {"stack defined twice", {0x04, 0x02, 0x02, 0x00}, 4, 1, "stack id 1 defined twice"},
        {"stack id 0", {0x04, 0x00, 0x00, 0x00}, 4, 1, "stack id 0 out of range"},
        {"stack far ahead", {0x04, 0x80, 0x80, 0x10, 0x00, 0x00}, 6, 1, "far out of order"},
        {"unknown fn", {0x41, 0x00, 0x08, 0x02, 0x09}, 5, 1, "unknown allocating function 9"},
        {"exit how", {0x08, 0x05, 0x00, 0x00}, 4, 1, "unknown way of ending 5"},
        {"exit status", {0x08, 0x00, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00}, 8, 1,
         "exit status 2147483648 does not fit in 32 bits"},
        {"name unterminated", {0x46, 0x01, 0x03, 'a', 'b', 'c', 'x'}, 7, 1,
         "thread name is not terminated"},
        {"name with a NUL", {0x46, 0x01, 0x03, 'a', 0, 'c', 0}, 7, 1,
         "thread name holds a NUL byte"},
        {"name past the end", {0x46, 0x01, 0x64, 'a', 'b', 'c', 0}, 7, 1,
         "thread name of 100 bytes runs past the end of the chunk"},
        {"path above the limit", {0x45, 0x00, 0x00, 0x00, 0x81, 0x40, 'a', 0}, 8, 1,
         "module path length 8193 is above the limit"},
        {"build id above the limit", {0x85, 0x00, 0x00, 0x00, 0x80, 0x02, 1, 2}, 8, 1,
         "build id length 256 is above the limit"},
        {"empty build id", {0x85, 0x00, 0x00, 0x00, 0x00, 0x00}, 6, 1, "empty build id"},
        {"module past 2^64",
         {0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x00}, 13, 1,
         "ends past 2^64"},
        {"three frees (the control case)", {0x02, 0x00, 0x02, 0x00, 0x02, 0x00}, 6, 3, ""},
        {"fewer records than counted", {0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x08, 0x00}, 8, 3,
         "says it holds 3 records, holds 2"},
        {"bytes after the last record", {0x02, 0x00, 0x02, 0x00, 0x02, 0x00}, 6, 2,
         "2 bytes after its last record"},
    };
    check_record_cases(cases, sizeof cases / sizeof cases[0], RCCAP_VERSION);
}

/* Version 1 captures are still read: their ALLOC and REALLOC records hold
 * absolute stack ids, and their allocations refer to frees by "frees ago"
 * only. */
static void test_version1_records(void **state) {
    (void)state;
    static const record_case cases[] = {
        {"absolute stack ids", {0x01, 0x00, 0x08, 0x02, 0x01, 0x00, 0x08, 0x01}, 8, 2, ""},
        {"stack used before defined", {0x01, 0x00, 0x08, 0x05}, 4, 1,
         "stack id 5 used before it was defined"},
        {"no steps to frees", {0x02, 0x00, 0x01, 0x07, 0x08, 0x00}, 6, 2,
         "bad pointer encoding 7"},
        {"frees ago", {0x01, 0x00, 0x08, 0x00, 0x02, 0x01, 0x01, 0x01, 0x08, 0x01}, 10, 3, ""},
        {"no sync records", {0x0A, 0x00}, 2, 1, "unknown record kind 10"},
        {"no gc records", {0x0B, 0x00, 0x00, 0x00, 0x00, 0x00}, 6, 1, "unknown record kind 11"},
    };
    check_record_cases(cases, sizeof cases / sizeof cases[0], 1);
    /* GC records came with version 3 */
    static const record_case v2[] = {
        {"sync records", {0x0A, 0x00}, 2, 1, ""},
        {"no gc records", {0x0B, 0x00, 0x00, 0x00, 0x00, 0x00}, 6, 1, "unknown record kind 11"},
    };
    check_record_cases(v2, sizeof v2 / sizeof v2[0], 2);
}

/* Each case as the second raw chunk of a capture of the given version,
 * after a valid chunk that defines stacks 1 and 2. */
static void check_record_cases(const record_case *cases, size_t n, uint32_t version) {
    rccap_event defs[2] = {{.kind = RCCAP_STACK, .u.stack = {1, 0, 0x10}},
                           {.kind = RCCAP_STACK, .u.stack = {2, 1, 0x20}}};
    uint8_t first[64];
    size_t nfirst = encode_events(first, sizeof first, defs, 2);
    for (size_t i = 0; i < n; i++) {
        const record_case *t = &cases[i];
        craft c;
        craft_header(&c);
        size_t at = c.len;
        if (version != RCCAP_VERSION) {
            rcf_put32(c.data + 8, version);
            craft_fix_header(&c, at);
        }
        craft_raw(&c, first, nfirst, 2);
        size_t second = c.len;
        craft_raw(&c, t->rec, t->len, t->count);
        char err[384];
        int k = read_outcome(c.data, c.len, 0, err, sizeof err);
        if (!*t->expect) {
            if (k != 1)
                fail_msg("%s: refused: %s", t->name, err);
        } else {
            if (k != 0 || !strstr(err, t->expect))
                fail_msg("%s: want \"%s\", got (%d) \"%s\"", t->name, t->expect, k, err);
            char where[64];
            snprintf(where, sizeof where, "chunk at offset %zu", second);
            if (!strstr(err, where))
                fail_msg("%s: \"%s\" does not say \"%s\"", t->name, err, where);
        }
        (void)at;
        free(c.data);
    }
}

/* Frames and headers that lie, with their checksums made right, so that
 * only the lie is wrong. */
typedef enum { LIE_FRAME, LIE_HEADER } lie_where;

typedef struct lie_case {
    const char *name;
    lie_where where;
    size_t field;           /* offset in the frame or the header */
    uint32_t value;
    bool fix_crc;
    const char *expect;
} lie_case;

static void test_lying_frames_and_headers(void **state) {
    (void)state;
    /* a capture of one compressed chunk and one raw chunk */
    rccap_event ev[64];
    for (int i = 0; i < 64; i++)
        ev[i] = (rccap_event){.kind = RCCAP_ALLOC, .time_ns = (uint64_t)i * 100, .thread = 1,
                              .u.alloc = {.ptr = 0x1000 + 32 * (uint64_t)i, .size = 24,
                                          .weight = 24}};
    uint8_t rec[2048];
    size_t nrec = encode_events(rec, sizeof rec, ev, 64);
    size_t bound = ZSTD_compressBound(nrec);
    uint8_t *z = malloc(bound);
    size_t nz = ZSTD_compress(z, bound, rec, nrec, 1);
    assert_false(ZSTD_isError(nz));
    assert_true(nz < nrec);

    craft base;
    craft_header(&base);
    size_t hlen = base.len;
    craft_chunk(&base, RCF_ZSTD_START, z, (uint32_t)nz, (uint32_t)nrec, 64);
    size_t chunk2 = base.len;
    craft_raw(&base, rec, nrec, 64);
    char err[384];
    assert_int_equal(read_outcome(base.data, base.len, 0, err, sizeof err), 1);

    const uint32_t H = RCF_HEADER_BODY_MAX;
    const lie_case cases[] = {
        {"chunk magic", LIE_FRAME, 0, 0x4B434352u ^ 1, true, "no chunk signature"},
        {"encoding", LIE_FRAME, 4, 3, true, "unknown chunk encoding 3"},
        {"reserved", LIE_FRAME, 5, 1, true, "reserved bytes of the chunk frame are not zero"},
        /* zstd takes the extra byte for the next frame's start: the next
         * chunk is then found one byte late */
        {"stored + 1", LIE_FRAME, 8, (uint32_t)nz + 1, true, "chunk frame checksum mismatch"},
        {"stored - 1", LIE_FRAME, 8, (uint32_t)nz - 1, true, "decompresses to"},
        {"stored huge", LIE_FRAME, 8, UINT32_MAX, true, "more than zstd ever writes"},
        {"content + 1", LIE_FRAME, 12, (uint32_t)nrec + 1, true, "decompresses to"},
        {"content - 1", LIE_FRAME, 12, (uint32_t)nrec - 1, true, "decompresses to more than"},
        {"continued stream never started", LIE_FRAME, 4, RCF_ZSTD, true,
         "continues a compressed stream that no chunk started"},
        {"content 0", LIE_FRAME, 12, 0, true, "empty chunk"},
        {"content huge", LIE_FRAME, 12, UINT32_MAX, true, "above the limit"},
        {"count 0", LIE_FRAME, 16, 0, true, "empty chunk"},
        {"count + 1", LIE_FRAME, 16, 65, true, "says it holds 65 records, holds 64"},
        {"count - 1", LIE_FRAME, 16, 63, true, "bytes after its last record"},
        {"count huge", LIE_FRAME, 16, UINT32_MAX, true, "cannot fit"},
        {"payload crc", LIE_FRAME, 20, 0x12345678, true, "chunk checksum mismatch"},
        {"frame crc", LIE_FRAME, 24, 0x12345678, false, "chunk frame checksum mismatch"},
        {"frame field, crc stale", LIE_FRAME, 16, 63, false, "chunk frame checksum mismatch"},
        {"magic", LIE_HEADER, 0, 0, true, "not a recycle capture"},
        {"version from the future", LIE_HEADER, 8, RCCAP_VERSION + 1, true,
         "written by a newer version (4) of recycle"},
        {"version far future", LIE_HEADER, 8, UINT32_MAX, true,
         "written by a newer version (4294967295) of recycle"},
        {"version 0", LIE_HEADER, 8, 0, true, "version 0"},
        {"header length huge", LIE_HEADER, 12, UINT32_MAX, true, "above the limit"},
        {"header length at the limit", LIE_HEADER, 12, H, true, "truncated header"},
        {"header length + 1", LIE_HEADER, 12, (uint32_t)(hlen - RCF_HEADER_FIXED - 4 + 1), true,
         "header checksum mismatch"},
        {"header length - 1", LIE_HEADER, 12, (uint32_t)(hlen - RCF_HEADER_FIXED - 4 - 1), true,
         "header checksum mismatch"},
        {"header crc", LIE_HEADER, 16, 0x01, false, "header checksum mismatch"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const lie_case *t = &cases[i];
        craft c = {malloc(base.len + 1), base.len};
        memcpy(c.data, base.data, base.len);
        if (t->where == LIE_FRAME) {
            uint8_t *f = c.data + hlen;
            if (t->field == 4 || t->field == 5)
                f[t->field] = (uint8_t)t->value;
            else
                rcf_put32(f + t->field, t->value);
            uint32_t stored = rcf_get32(f + 8);
            if (t->fix_crc && t->field != 20 && t->field != 24 &&
                hlen + RCF_FRAME_SIZE + (size_t)stored <= c.len)
                rcf_put32(f + 20, rcf_crc32c(0, f + RCF_FRAME_SIZE, stored));
            if (t->fix_crc && t->field != 24)
                rcf_put32(f + 24, rcf_crc32c(0, f, 24));
        } else if (t->field == 16) {
            c.data[hlen - 4] ^= 0x01;   /* the CRC itself */
        } else {
            rcf_put32(c.data + t->field, t->value);
            if (t->field == 0)
                c.data[0] ^= 0x20;
            if (t->fix_crc)
                craft_fix_header(&c, hlen);
        }
        int k = read_outcome(c.data, c.len, 0, err, sizeof err);
        if (k == 1 || !strstr(err, t->expect)) {
            fail_msg("%s: want \"%s\", got (%d) \"%s\"", t->name, t->expect, k, err);
        }
        if (t->where == LIE_FRAME && k == 0 && !strstr(err, "offset"))
            fail_msg("%s: \"%s\" names no offset", t->name, err);
        free(c.data);
    }
    (void)chunk2;

    /* a raw chunk whose stored length disagrees with its content */
    craft c;
    craft_header(&c);
    craft_chunk(&c, RCF_RAW, rec, (uint32_t)nrec, (uint32_t)nrec - 2, 64);
    assert_int_equal(read_outcome(c.data, c.len, 0, err, sizeof err), 0);
    assert_non_null(strstr(err, "uncompressed chunk stores"));
    free(c.data);
    /* a compressed chunk whose payload is not zstd */
    craft_header(&c);
    craft_chunk(&c, RCF_ZSTD_START, rec, 64, (uint32_t)nrec, 64);
    assert_int_equal(read_outcome(c.data, c.len, 0, err, sizeof err), 0);
    assert_non_null(strstr(err, "zstd cannot decompress the chunk"));
    free(c.data);
    /* a zstd frame followed by bytes that start no frame */
    craft_header(&c);
    uint8_t *z2 = malloc(nz + 5);
    memcpy(z2, z, nz);
    memset(z2 + nz, 0, 5);
    craft_chunk(&c, RCF_ZSTD_START, z2, (uint32_t)nz + 5, (uint32_t)nrec, 64);
    assert_int_equal(read_outcome(c.data, c.len, 0, err, sizeof err), 0);
    assert_non_null(strstr(err, "zstd cannot decompress the chunk"));
    free(c.data);
    /* the same frame twice in one chunk: twice the records it says */
    craft_header(&c);
    uint8_t *z3 = malloc(2 * nz);
    memcpy(z3, z, nz);
    memcpy(z3 + nz, z, nz);
    craft_chunk(&c, RCF_ZSTD_START, z3, (uint32_t)(2 * nz), (uint32_t)nrec, 64);
    assert_int_equal(read_outcome(c.data, c.len, 0, err, sizeof err), 0);
    assert_non_null(strstr(err, "decompresses to more than"));
    free(c.data);
    free(z3);
    /* a zstd frame damaged inside (its CRC made right) */
    craft_header(&c);
    memcpy(z2, z, nz);
    z2[nz / 2] ^= 0x55;
    z2[nz / 2 + 1] ^= 0xAA;
    craft_chunk(&c, RCF_ZSTD_START, z2, (uint32_t)nz, (uint32_t)nrec, 64);
    int k = read_outcome(c.data, c.len, 0, err, sizeof err);
    if (k == 1)
        fail_msg("a damaged zstd frame read without complaint");
    assert_non_null(strstr(err, "offset"));
    free(c.data);
    /* the header's string without its NUL */
    craft_header(&c);
    c.data[hlen - 5] = 'x';
    craft_fix_header(&c, hlen);
    assert_int_equal(read_outcome(c.data, c.len, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "command line is not terminated"));
    free(c.data);
    free(z2);
    free(z);
    free(base.data);
}

/* No lie makes the reader allocate much more than the file holds: a frame
 * promising 16 MiB of payload, a header promising its largest body, both
 * in files of a few hundred bytes read through an fd. */
static void test_lies_do_not_allocate(void **state) {
    (void)state;
    craft c;
    craft_header(&c);
    size_t hlen = c.len;
    uint8_t rec[4] = {0x01, 0x00, 0x08, 0x00};
    craft_raw(&c, rec, 4, 1);
    uint8_t *f = c.data + hlen;
    rcf_put32(f + 8, RCCAP_CHUNK_MAX);   /* stored */
    rcf_put32(f + 12, RCCAP_CHUNK_MAX);  /* content */
    rcf_put32(f + 24, rcf_crc32c(0, f, 24));
    const char *path = in_dir("lies.rccap");
    put_file(path, c.data, c.len);
    char msg[256];
    counting_reset();
    rccap_reader *r = rccap_reader_open(path, msg, sizeof msg);
    assert_non_null(r);
    rccap_event ev;
    assert_int_equal(rccap_reader_next(r, &ev), 0);
    assert_true(rccap_reader_truncated(r));
    rccap_reader_close(r);
    if (counting_works())
        assert_true(malloc_largest < (256u << 10));

    rcf_put32(c.data + 12, RCF_HEADER_BODY_MAX);
    craft_fix_header(&c, hlen);
    put_file(path, c.data, c.len);
    counting_reset();
    r = rccap_reader_open(path, msg, sizeof msg);
    assert_null(r);
    assert_non_null(strstr(msg, "truncated header"));
    if (counting_works())
        assert_true(malloc_largest < (256u << 10));
    free(c.data);
}

/* The reader without memory, for every allocation it makes: it fails
 * with a message saying so, or reads everything. Natively only (the
 * failing malloc is the interposed one). */
static void test_reader_out_of_memory(void **state) {
    (void)state;
    if (!failing_works())
        skip();
    stream s = random_stream(rct_seed(71), 3000);
    cap c;
    write_capture(&c, &plain_header, s.ev, s.n, &(wopts){4096, 3, 3, 64});
    size_t failures = 0;
    for (long n = 0;; n++) {
        char msg[256] = "";
        malloc_fail_countdown = n;
        rccap_reader *r = rccap_reader_open_mem(c.data, c.len, 0, msg, sizeof msg);
        bool done = false;
        if (r) {
            rccap_event ev;
            size_t i = 0;
            int k;
            while ((k = rccap_reader_next(r, &ev)) == 1)
                i++;
            malloc_fail_countdown = -1;
            if (k < 0) {
                assert_non_null(strstr(rccap_reader_error(r), "out of memory") ?
                                    strstr(rccap_reader_error(r), "out of memory") :
                                    strstr(rccap_reader_error(r), "llocation"));
                failures++;
            } else {
                assert_int_equal(i, s.n);
                done = true;
            }
            rccap_reader_close(r);
        } else {
            malloc_fail_countdown = -1;
            assert_non_null(strstr(msg, "out of memory"));
            failures++;
        }
        if (done)
            break;
    }
    assert_true(failures >= 3);
    cap_free(&c);
    free(s.ev);
}

static void test_open_errors(void **state) {
    (void)state;
    char msg[256];
    int dfd = open(tmpdir, O_RDONLY | O_CLOEXEC);
    assert_true(dfd >= 0);
    assert_null(rccap_reader_open_fd(dfd, msg, sizeof msg));
    assert_non_null(strstr(msg, "cannot read: Is a directory"));
    close(dfd);
    assert_null(rccap_reader_open(in_dir("missing"), msg, sizeof msg));
    assert_non_null(strstr(msg, "cannot open"));
    assert_null(rccap_reader_open(tmpdir, msg, sizeof msg));
    assert_non_null(strstr(msg, "Is a directory"));
    assert_null(rccap_reader_open(NULL, msg, sizeof msg));
    put_file(in_dir("empty"), "", 0);
    assert_null(rccap_reader_open(in_dir("empty"), msg, sizeof msg));
    assert_non_null(strstr(msg, "empty"));
    put_file(in_dir("text"), "hello, world\n", 13);
    assert_null(rccap_reader_open(in_dir("text"), msg, sizeof msg));
    assert_non_null(strstr(msg, "not a recycle capture"));
    assert_null(rccap_reader_open_mem("\x89RCC", 4, 0, msg, sizeof msg));
    assert_non_null(strstr(msg, "truncated header"));
    assert_null(rccap_reader_open_mem(NULL, 0, 0, msg, sizeof msg));
    assert_non_null(strstr(msg, "empty"));
    assert_null(rccap_reader_open_mem(NULL, 5, 0, msg, sizeof msg));
    assert_null(rccap_reader_open_fd(-1, msg, sizeof msg));
    /* a message buffer may be absent or tiny */
    assert_null(rccap_reader_open(in_dir("text"), NULL, 0));
    assert_null(rccap_reader_open(in_dir("text"), msg, 1));
    assert_string_equal(msg, "");
    rccap_reader_close(NULL);
}

/* ---- sizes ---- */

/* The allocations and frees of binary-trees (depth d, from its recursive
 * builder: one call site, a stack per depth), with the real malloc's
 * addresses and times at the given resolution (1: the clock's
 * nanoseconds). Returns the events; *pairs the alloc/free pairs. */
typedef struct bt {
    struct bt *l, *r;
} bt;

typedef struct bt_rec {
    stream s;
    size_t cap;
    uint64_t t0, res;
} bt_rec;

static void bt_push(bt_rec *b, rccap_event ev) {
    if (b->s.n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 1024;
        b->s.ev = realloc(b->s.ev, b->cap * sizeof *b->s.ev);
        assert_non_null(b->s.ev);
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec - b->t0;
    ev.time_ns = now / b->res * b->res;
    ev.thread = 1;
    b->s.ev[b->s.n++] = ev;
}

static bt *bt_make(bt_rec *b, int depth, int level) {
    bt *n = malloc(sizeof *n);
    assert_non_null(n);
    bt_push(b, (rccap_event){.kind = RCCAP_ALLOC,
                             .u.alloc = {.ptr = (uint64_t)(uintptr_t)n, .size = sizeof *n,
                                         .stack = (uint32_t)level + 1, .weight = sizeof *n}});
    n->l = depth > 0 ? bt_make(b, depth - 1, level + 1) : NULL;
    n->r = depth > 0 ? bt_make(b, depth - 1, level + 1) : NULL;
    return n;
}

static void bt_free(bt_rec *b, bt *n) {
    if (n->l) {
        bt_free(b, n->l);
        bt_free(b, n->r);
    }
    bt_push(b, (rccap_event){.kind = RCCAP_FREE, .u.free = {(uint64_t)(uintptr_t)n}});
    free(n);
}

static stream binary_trees(int max_depth, uint64_t res, size_t *pairs) {
    bt_rec b = {.res = res};
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    b.t0 = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    for (int level = 0; level <= max_depth + 1; level++)
        bt_push(&b, (rccap_event){.kind = RCCAP_STACK,
                                  .u.stack = {(uint32_t)level + 1, (uint32_t)level,
                                              0x401000 + 0x40 * (uint64_t)level}});
    size_t allocs = 0;
    bt *longlived = bt_make(&b, max_depth, 0);
    for (int d = 4; d <= max_depth; d += 2) {
        int iters = 1 << (max_depth - d + 4);
        for (int i = 0; i < iters; i++)
            bt_free(&b, bt_make(&b, d, 0));
    }
    bt_free(&b, longlived);
    for (size_t i = 0; i < b.s.n; i++)
        allocs += b.s.ev[i].kind == RCCAP_ALLOC;
    *pairs = allocs;
    return b.s;
}

static size_t capture_size(const stream *s, const wopts *o) {
    cap c;
    write_capture(&c, &plain_header, s->ev, s->n, o);
    size_t len = c.len - c.start;
    rccap_reader *r = open_mem_ok(&c, c.len);
    assert_int_equal(read_compare(r, s->ev, s->n), s->n);
    rccap_reader_close(r);
    cap_free(&c);
    return len;
}

/* Bytes per allocation and free of binary-trees, by the resolution of the
 * times and the writer's settings. The bounds are regressions, not goals:
 * docs/capture-format.md has the figures of a larger run next to
 * heaptrack's. */
static void test_sizes(void **state) {
    (void)state;
    int depth = rct_on_valgrind() || rct_on_asan() ? 9 : 12;
    static const struct {
        const char *what;
        uint64_t res;
    } clocks[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}};
    static const struct {
        const char *what;
        wopts o;
    } setups[] = {
        {"no model, 1 MiB, zstd 1", {1 << 20, 0, 1, 0}},
        {"window 4096, 1 MiB, zstd 3", {1 << 20, 0, 3, 4096}},
        {"window 65536, 4 MiB, zstd 3", {4 << 20, 0, 3, 65536}},
    };
    double per_pair[3][3];
    for (size_t k = 0; k < 3; k++) {
        size_t pairs;
        stream s = binary_trees(depth, clocks[k].res, &pairs);
        printf("binary-trees depth %d, %zu pairs, times to the %s:", depth, pairs, clocks[k].what);
        for (size_t u = 0; u < 3; u++) {
            per_pair[k][u] = (double)capture_size(&s, &setups[u].o) / (double)pairs;
            printf("  %s: %.3f", setups[u].what, per_pair[k][u]);
        }
        printf(" (bytes per pair)\n");
        free(s.ev);
    }
    /* with a clock of milliseconds, as the preload should stamp */
    bool glibc = !rct_on_valgrind() && !rct_on_asan() && !rct_on_tsan();
    assert_true(per_pair[2][0] < 3.0);
    assert_true(per_pair[2][2] < (glibc ? 0.25 : 0.5));
    /* The addresses are the real malloc's: glibc's reuse its freed blocks
     * in an order that only the model follows. The sanitizers' and
     * valgrind's allocators hold freed blocks back and hand out fresh,
     * evenly spaced ones, which deltas already compress to nothing. */
    if (glibc) {
        for (size_t k = 0; k < 3; k++)
            assert_true(per_pair[k][2] < per_pair[k][0]);
        assert_true(per_pair[2][2] * 4 < per_pair[2][0]);
    }
}

/* ---- the fuzzer's seeds ---- */

static void seed(const char *dir, const char *name, const uint8_t *data, size_t len) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    put_file(p, data, len);
}

static void test_write_seeds(void **state) {
    (void)state;
    const char *dir = getenv("RC_CAPTURE_SEEDS");
    if (!dir || !*dir)
        skip();
    cap c;
    small_capture(&c);
    seed(dir, "every-kind-mixed-chunks", c.data, c.len);
    seed(dir, "truncated-mid-chunk", c.data, (c.end[1] + c.end[2]) / 2);
    seed(dir, "header-only", c.data, c.start);
    cap_free(&c);

    stream s = random_stream(7, 300);
    write_capture(&c, &plain_header, s.ev, s.n, &(wopts){1024, 2, 1, 64});
    seed(dir, "random-stream", c.data, c.len);
    cap_free(&c);
    write_capture(&c, &plain_header, s.ev, 60, &(wopts){4096, 1, 1, 0});
    seed(dir, "random-raw", c.data, c.len);
    cap_free(&c);
    free(s.ev);

    rccap_event ev[EXTREME_MAX];
    size_t n = extreme_events(ev);
    write_capture(&c, &(rccap_header){.frames = 1, .program = "p", .command_line = "p -x"}, ev, n,
                  &(wopts){1 << 16, 0, 3, 64});
    seed(dir, "extremes-one-chunk", c.data, c.len);
    cap_free(&c);

    rccap_event st[40];
    for (uint32_t i = 0; i < 40; i++)
        st[i] = (rccap_event){.kind = RCCAP_STACK, .u.stack = {i + 1, i / 2, 0x400000 + 8 * i}};
    write_capture(&c, &plain_header, st, 40, &(wopts){120, 0, 1, 0});
    seed(dir, "stack-tree", c.data, c.len);
    cap_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test(test_every_kind_round_trips),
        cmocka_unit_test(test_header_extremes),
        cmocka_unit_test(test_many_chunks),
        cmocka_unit_test(test_stack_ids_out_of_order),
        cmocka_unit_test(test_record_extremes),
        cmocka_unit_test(test_model),
        cmocka_unit_test(test_model_generation_wrap),
        cmocka_unit_test(test_encoder_full),
        cmocka_unit_test(test_encoder_refuses_invalid),
        cmocka_unit_test(test_writer_never_calls_malloc),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_writer_stops_after_partial_chunk),
        cmocka_unit_test(test_writer_out_of_memory),
        cmocka_unit_test(test_writer_short_writes_and_signals),
        cmocka_unit_test(test_chunk_raw_writes_whole_records),
        cmocka_unit_test(test_zstd_streams),
        cmocka_unit_test(test_truncated_every_offset),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_damaged_records),
        cmocka_unit_test(test_version1_records),
        cmocka_unit_test(test_lying_frames_and_headers),
        cmocka_unit_test(test_lies_do_not_allocate),
        cmocka_unit_test(test_reader_out_of_memory),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_write_seeds),
    };
    return rct_run_tests(tests, setup_dir, teardown_dir);
}
