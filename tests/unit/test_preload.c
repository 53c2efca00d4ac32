/* rc-test: whitebox link=recycle_preload_test link=recycle_capture timeout=600 */
/* test_preload.c - librecycle-preload.so on real programs: tests/preload/
 * prog.c (one allocation pattern per mode) and prog_cxx.cpp run under
 * LD_PRELOAD, and their captures read back with the capture reader. What
 * each pattern allocates is known, so counts, sizes, functions, threads,
 * stacks (frame 0 is the program's call), leak verdicts and endings are
 * checked exactly; sampled mode within a stated error bound.
 *
 * Robustness: threads, a block freed by another thread, signal handlers
 * that allocate, fork with and without follow-fork, exec (a failed one
 * first), system(), a crash by SIGSEGV, abort, exit, _exit, a library
 * opened and closed, a program that closes every fd; every run must end
 * with the program's own exit status and output, within a time limit (a
 * deadlock fails the test instead of hanging it). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/capture.h"
#include "rct.h"

#ifndef RCPL_TEST_LIB
#error "librecycle-preload.so is built with the capture layer: link=recycle_capture implies it"
#endif

#define PROG RCPL_TEST_BIN "/prog"
#define PROG_CXX RCPL_TEST_BIN "/prog_cxx"
#define RUN_LIMIT_S 120


/* ---- running a program ---- */

typedef struct run {
    int status;                   /* as waitpid gives it */
    char out[1 << 19], err[1 << 16];
    size_t out_len, err_len;
    pid_t pid;
} run;

static char tmpdir[256];

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rcpl-test-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static const char *tmp_path(const char *name) {
    static char bufs[4][4096];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, 4096, "%s/%s", tmpdir, name);
    return b;
}

/* Run argv with the environment of this process minus LD_PRELOAD and
 * RECYCLE_*, plus the NULL-terminated "NAME=value" list extra; input goes
 * to its stdin. Fails the test if it runs longer than RUN_LIMIT_S. */
static void run_prog(run *r, const char *const *argv, const char *const *extra, const char *input, size_t input_len) {
    char *env[512];
    size_t n = 0;
    for (char **e = environ; *e && n < 400; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) && strncmp(*e, "RECYCLE_", 8))
            env[n++] = *e;
    for (; extra && *extra && n < 510; extra++)
        env[n++] = (char *)*extra;
    env[n] = NULL;

    int in[2], out[2], err[2];
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    assert_int_equal(pipe2(err, O_CLOEXEC), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    pid_t pid;
    assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, env), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    r->pid = pid;
    r->out_len = r->err_len = 0;
    size_t sent = 0;
    if (!input || input_len == 0) {
        close(in[1]);
        in[1] = -1;
    } else {
        /* a write takes what the pipe has room for, never blocks */
        fcntl(in[1], F_SETFL, O_NONBLOCK);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
        struct pollfd p[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in[1], POLLOUT, 0}};
        if (!out_open)
            p[0].fd = -1;
        if (!err_open)
            p[1].fd = -1;
        int k = poll(p, 3, 1000);
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > RUN_LIMIT_S) {
            kill(pid, SIGKILL);
            fail_msg("%s %s: still running after %d s (deadlock?)", argv[0], argv[1] ? argv[1] : "", RUN_LIMIT_S);
        }
        if (k <= 0)
            continue;
        /* read whatever comes (what does not fit is dropped): a program
         * that cannot write its output would never finish */
        char spill[4096];
        if (p[0].revents) {
            size_t room = sizeof r->out - 1 - r->out_len;
            ssize_t got = room ? read(out[0], r->out + r->out_len, room) : read(out[0], spill, sizeof spill);
            if (got <= 0)
                out_open = false;
            else if (room)
                r->out_len += (size_t)got;
        }
        if (p[1].revents) {
            size_t room = sizeof r->err - 1 - r->err_len;
            ssize_t got = room ? read(err[0], r->err + r->err_len, room) : read(err[0], spill, sizeof spill);
            if (got <= 0)
                err_open = false;
            else if (room)
                r->err_len += (size_t)got;
        }
        if (in[1] >= 0 && p[2].revents) {
            ssize_t w = write(in[1], input + sent, input_len - sent);
            if (w > 0)
                sent += (size_t)w;
            if ((w < 0 && errno != EAGAIN) || sent == input_len) {
                close(in[1]);
                in[1] = -1;
            }
        }
    }
    if (in[1] >= 0)
        close(in[1]);
    close(out[0]);
    close(err[0]);
    r->out[r->out_len] = '\0';
    r->err[r->err_len] = '\0';
    assert_int_equal(waitpid(pid, &r->status, 0), pid);
}

/* prog MODE [ARG] under the library, recording into tmpdir/cap; the
 * symbols file at tmpdir/syms. */
static void run_traced(run *r, const char *mode, const char *arg, const char *const *more_env) {
    static char out_env[4200], syms_env[4200], lib_env[4200];
    snprintf(out_env, sizeof out_env, "RECYCLE_OUTPUT=%s", tmp_path("cap"));
    snprintf(syms_env, sizeof syms_env, "RCPL_PROG_SYMS=%s", tmp_path("syms"));
    snprintf(lib_env, sizeof lib_env, "LD_PRELOAD=%s", RCPL_TEST_LIB);
    const char *env[16] = {lib_env, out_env, syms_env};
    size_t n = 3;
    for (; more_env && *more_env && n < 15; more_env++)
        env[n++] = *more_env;
    env[n] = NULL;
    const char *argv[] = {PROG, mode, arg, NULL};
    run_prog(r, argv, env, NULL, 0);
}

static int exit_code(const run *r) {
    return WIFEXITED(r->status) ? WEXITSTATUS(r->status) : -1;
}

/* ---- reading a capture ---- */

typedef struct alloc_rec {
    uint64_t ptr, size, weight, order;
    uint32_t stack, thread;
    rccap_fn fn;
} alloc_rec;

typedef struct realloc_rec {
    uint64_t old_ptr, ptr, size, order;
    uint32_t stack, thread;
} realloc_rec;

typedef struct module_rec {
    uint64_t start, end;
    char path[512];
} module_rec;

typedef struct cap {
    rccap_header h;
    char program[4096], command[4096];
    alloc_rec *allocs;
    size_t nalloc;
    uint64_t *frees, *free_order;
    uint32_t *free_thread;
    size_t nfree;
    realloc_rec *reallocs;
    size_t nrealloc;
    uint32_t *parent;             /* by stack id */
    uint64_t *pc;
    size_t nstack;
    module_rec *modules;
    size_t nmodule;
    uint64_t tids[256];
    uint32_t thread_numbers[256];
    size_t nthread;
    size_t nmemory;
    uint64_t max_rss, max_heap;
    rccap_end end_how[8];
    int32_t end_status[8], end_signal[8];
    size_t nexit;
    uint64_t leak_ptr[4096];
    rccap_leak leak_state[4096];
    size_t nleak;
    bool ids_ok;                  /* every stack id defined before its use */
    bool threads_ok;              /* every event's thread announced (or 0) */
    size_t records;
    int last_kind;
} cap;

#define GROW(arr, n)                                                                   \
    do {                                                                               \
        if (((n) & ((n) - 1)) == 0) {                                                  \
            void *fresh_ = realloc((arr), ((n) ? (n) * 2 : 16) * sizeof *(arr));       \
            assert_non_null(fresh_);                                                   \
            (arr) = fresh_;                                                            \
        }                                                                              \
    } while (0)

static bool thread_known(const cap *c, uint32_t number) {
    if (number == 0)
        return true;   /* the recorder's own records (memory samples) */
    for (size_t i = 0; i < c->nthread; i++)
        if (c->thread_numbers[i] == number)
            return true;
    return false;
}

static bool id_ok(const cap *c, uint32_t id) {
    return id == 0 || (id < c->nstack && c->parent[id] != UINT32_MAX);
}

static void read_cap(cap *c, const char *path) {
    memset(c, 0, sizeof *c);
    c->ids_ok = c->threads_ok = true;
    char msg[256];
    rccap_reader *r = rccap_reader_open(path, msg, sizeof msg);
    if (!r)
        fail_msg("%s: %s", path, msg);
    c->h = *rccap_reader_header(r);
    snprintf(c->program, sizeof c->program, "%s", c->h.program ? c->h.program : "");
    snprintf(c->command, sizeof c->command, "%s", c->h.command_line ? c->h.command_line : "");
    rccap_event ev;
    int rc;
    while ((rc = rccap_reader_next(r, &ev)) == 1) {
        c->records++;
        /* Events are stamped to the millisecond; within one, a thread's
         * events are in file order (the programs here free a block in the
         * thread that allocated it). */
        uint64_t order = (ev.time_ns / 1000000u) << 32 | (c->records & 0xFFFFFFFFu);
        c->last_kind = ev.kind;
        if (!thread_known(c, ev.thread) && ev.kind != RCCAP_THREAD)
            c->threads_ok = false;
        switch (ev.kind) {
        case RCCAP_ALLOC:
            GROW(c->allocs, c->nalloc);
            c->allocs[c->nalloc++] = (alloc_rec){ev.u.alloc.ptr, ev.u.alloc.size, ev.u.alloc.weight, order,
                                                  ev.u.alloc.stack, ev.thread, ev.u.alloc.fn};
            c->ids_ok &= id_ok(c, ev.u.alloc.stack);
            break;
        case RCCAP_FREE:
            GROW(c->frees, c->nfree);
            GROW(c->free_thread, c->nfree);
            GROW(c->free_order, c->nfree);
            c->free_thread[c->nfree] = ev.thread;
            c->free_order[c->nfree] = order;
            c->frees[c->nfree++] = ev.u.free.ptr;
            break;
        case RCCAP_REALLOC:
            GROW(c->reallocs, c->nrealloc);
            c->reallocs[c->nrealloc++] = (realloc_rec){ev.u.realloc.old_ptr, ev.u.realloc.ptr, ev.u.realloc.size,
                                                       order, ev.u.realloc.stack, ev.thread};
            c->ids_ok &= id_ok(c, ev.u.realloc.stack);
            break;
        case RCCAP_STACK: {
            uint32_t id = ev.u.stack.id;
            if (!id_ok(c, ev.u.stack.parent) || (id < c->nstack && c->parent[id] != UINT32_MAX))
                c->ids_ok = false;   /* an undefined parent, or an id defined twice */
            while (c->nstack <= id) {
                GROW(c->parent, c->nstack);
                GROW(c->pc, c->nstack);
                c->parent[c->nstack] = UINT32_MAX;
                c->pc[c->nstack++] = 0;
            }
            c->parent[id] = ev.u.stack.parent;
            c->pc[id] = ev.u.stack.pc;
            break;
        }
        case RCCAP_MODULE:
            GROW(c->modules, c->nmodule);
            c->modules[c->nmodule].start = ev.u.module.start;
            c->modules[c->nmodule].end = ev.u.module.end;
            snprintf(c->modules[c->nmodule].path, sizeof c->modules[0].path, "%s",
                     ev.u.module.path ? ev.u.module.path : "");
            c->nmodule++;
            break;
        case RCCAP_THREAD:
            if (c->nthread < 256 && !thread_known(c, ev.thread)) {
                c->thread_numbers[c->nthread] = ev.thread;
                c->tids[c->nthread++] = ev.u.thread.os_tid;
            }
            break;
        case RCCAP_MEMORY:
            c->nmemory++;
            if (ev.u.memory.rss > c->max_rss)
                c->max_rss = ev.u.memory.rss;
            if (ev.u.memory.heap > c->max_heap)
                c->max_heap = ev.u.memory.heap;
            break;
        case RCCAP_EXIT:
            if (c->nexit < 8) {
                c->end_how[c->nexit] = ev.u.exit.how;
                c->end_status[c->nexit] = ev.u.exit.status;
                c->end_signal[c->nexit] = ev.u.exit.signal;
            }
            c->nexit++;
            break;
        case RCCAP_LEAK:
            if (c->nleak < 4096) {
                c->leak_ptr[c->nleak] = ev.u.leak.ptr;
                c->leak_state[c->nleak] = ev.u.leak.state;
            }
            c->nleak++;
            break;
        default:
            break;
        }
    }
    if (rc != 0)
        fail_msg("%s: %s", path, rccap_reader_error(r));
    assert_false(rccap_reader_truncated(r));
    rccap_reader_close(r);
}

static void free_cap(cap *c) {
    free(c->allocs);
    free(c->frees);
    free(c->free_order);
    free(c->free_thread);
    free(c->reallocs);
    free(c->parent);
    free(c->pc);
    free(c->modules);
    memset(c, 0, sizeof *c);
}

/* Frame i of a stack (0 when it has fewer). */
static uint64_t frame(const cap *c, uint32_t stack, size_t i) {
    for (uint32_t id = stack; id; id = c->parent[id], i--)
        if (i == 0)
            return c->pc[id];
    return 0;
}

static size_t depth(const cap *c, uint32_t stack) {
    size_t n = 0;
    for (uint32_t id = stack; id; id = c->parent[id])
        n++;
    return n;
}

/* Where prog's functions lay in the run (RCPL_PROG_SYMS). */
typedef struct sym {
    uint64_t lo, hi;
} sym;

static sym symbol(const char *name) {
    FILE *f = fopen(tmp_path("syms"), "r");
    assert_non_null(f);
    char n[128];
    void *lo, *hi;
    sym s = {0, 0};
    while (fscanf(f, "%127s %p %p", n, &lo, &hi) == 3)
        if (!strcmp(n, name))
            s = (sym){(uintptr_t)lo, (uintptr_t)hi};
    fclose(f);
    if (!s.lo)
        fail_msg("no symbol %s", name);
    return s;
}

/* pc is a return address into s: the call it follows lies in s. */
static bool in_sym(sym s, uint64_t pc) {
    return pc > s.lo && pc <= s.hi;
}

/* The allocations (ALLOC records) whose frame 0 lies in s. */
static size_t allocs_in(const cap *c, sym s, alloc_rec *out, size_t max) {
    size_t n = 0;
    for (size_t i = 0; i < c->nalloc; i++)
        if (in_sym(s, frame(c, c->allocs[i].stack, 0))) {
            if (n < max)
                out[n] = c->allocs[i];
            n++;
        }
    return n;
}

/* Whether the block allocated at `since` at ptr was given back (a free or
 * a move by realloc of that address, not earlier than the allocation: an
 * earlier one ended a block that had the address before). */
static bool freed_after(const cap *c, uint64_t ptr, uint64_t since) {
    for (size_t i = 0; i < c->nfree; i++)
        if (c->frees[i] == ptr && c->free_order[i] > since)
            return true;
    for (size_t i = 0; i < c->nrealloc; i++)
        if (c->reallocs[i].old_ptr == ptr && c->reallocs[i].order > since)
            return true;
    return false;
}

static bool freed(const cap *c, const alloc_rec *a) {
    return freed_after(c, a->ptr, a->order);
}

static int leak_state(const cap *c, uint64_t ptr) {
    for (size_t i = 0; i < c->nleak && i < 4096; i++)
        if (c->leak_ptr[i] == ptr)
            return (int)c->leak_state[i];
    return -1;
}

static bool module_has(const cap *c, uint64_t pc, const char *suffix) {
    size_t ls = strlen(suffix);
    for (size_t i = 0; i < c->nmodule; i++) {
        size_t lp = strlen(c->modules[i].path);
        if (pc >= c->modules[i].start && pc < c->modules[i].end && lp >= ls &&
            !strcmp(c->modules[i].path + lp - ls, suffix))
            return true;
    }
    return false;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* What every capture must satisfy. */
static void check_well_formed(const cap *c, uint64_t pid) {
    assert_int_equal(c->h.version, RCCAP_VERSION);
    assert_int_equal(c->h.pid, pid);
    assert_true(c->ids_ok);
    assert_true(c->threads_ok);
    assert_true(c->nthread >= 1);
    assert_true(c->nmodule >= 4);
    assert_true(c->nexit >= 1);
    assert_int_equal(c->last_kind, RCCAP_EXIT);   /* the ending is the last record */
    /* a free names a block that was allocated */
    size_t n = c->nalloc + c->nrealloc;
    uint64_t *made = malloc((n + 1) * sizeof *made);
    assert_non_null(made);
    for (size_t i = 0; i < c->nalloc; i++)
        made[i] = c->allocs[i].ptr;
    for (size_t i = 0; i < c->nrealloc; i++)
        made[c->nalloc + i] = c->reallocs[i].ptr;
    qsort(made, n, sizeof *made, cmp_u64);
    for (size_t i = 0; i < c->nfree; i++)
        assert_non_null(bsearch(&c->frees[i], made, n, sizeof *made, cmp_u64));
    free(made);
    /* frame 0 of every recorded allocation is outside the recorder */
    for (size_t i = 0; i < c->nalloc; i++)
        assert_false(module_has(c, frame(c, c->allocs[i].stack, 0), "librecycle-preload.so"));
}

static void expect_end(const cap *c, rccap_end how, int status, int sig) {
    size_t last = (c->nexit < 8 ? c->nexit : 8) - 1;
    assert_int_equal(c->end_how[last], how);
    assert_int_equal(c->end_status[last], status);
    assert_int_equal(c->end_signal[last], sig);
}

static int setup(void **state) {
    (void)state;
    make_tmpdir();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    remove_tmpdir();
    return 0;
}

/* ---- the patterns ---- */

static void test_counts(void **state) {
    (void)state;
    run r;
    run_traced(&r, "counts", NULL, NULL);
    assert_int_equal(exit_code(&r), 0);
    assert_string_equal(r.out, "counts done\n");   /* stdout passes through */
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    expect_end(&c, RCCAP_END_RETURNED, 0, 0);
    assert_int_equal(c.h.frames, 64);
    assert_int_equal(c.h.sample_bytes, 0);
    assert_non_null(strstr(c.program, "/prog"));
    assert_non_null(strstr(c.command, "prog counts"));

    sym f = symbol("prog_counts");
    static alloc_rec a[256];
    size_t n = allocs_in(&c, f, a, 256);
    size_t by_fn[RCCAP_FN_MAX] = {0};
    uint64_t malloc_bytes = 0;
    uint32_t malloc_stack = 0;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < n; i++) {
        by_fn[a[i].fn]++;
        assert_int_equal(a[i].weight, a[i].size);
        assert_true(freed(&c, &a[i]) || a[i].fn == RCCAP_FN_REALLOC);
        switch (a[i].fn) {
        case RCCAP_FN_MALLOC:
            malloc_bytes += a[i].size;
            /* one call site, the same callers: one stack for all 100 */
            if (!malloc_stack)
                malloc_stack = a[i].stack;
            assert_int_equal(a[i].stack, malloc_stack);
            break;
        case RCCAP_FN_CALLOC: assert_int_equal(a[i].size, 21); break;
        case RCCAP_FN_REALLOC: assert_int_equal(a[i].size, 8); break;
        case RCCAP_FN_REALLOCARRAY: assert_int_equal(a[i].size, 100); break;
        case RCCAP_FN_POSIX_MEMALIGN: assert_int_equal(a[i].size, 1000); break;
        case RCCAP_FN_ALIGNED_ALLOC:
            assert_int_equal(a[i].size, 1024);
            assert_int_equal(a[i].ptr % 128, 0);
            break;
        case RCCAP_FN_MEMALIGN: assert_int_equal(a[i].size, 300); break;
        case RCCAP_FN_VALLOC: assert_int_equal(a[i].size, 5000); break;
        case RCCAP_FN_PVALLOC: assert_int_equal(a[i].size, (5000 + page - 1) / page * page); break;
        default: fail();
        }
    }
    assert_int_equal(n, 117);
    assert_int_equal(by_fn[RCCAP_FN_MALLOC], 100);
    assert_int_equal(malloc_bytes, 5050);
    assert_int_equal(by_fn[RCCAP_FN_CALLOC], 10);
    assert_int_equal(by_fn[RCCAP_FN_REALLOC], 1);
    assert_int_equal(by_fn[RCCAP_FN_REALLOCARRAY], 1);
    assert_int_equal(by_fn[RCCAP_FN_POSIX_MEMALIGN] + by_fn[RCCAP_FN_ALIGNED_ALLOC] + by_fn[RCCAP_FN_MEMALIGN] +
                         by_fn[RCCAP_FN_VALLOC] + by_fn[RCCAP_FN_PVALLOC],
                     5);

    /* the realloc chain: realloc(NULL, 8), then 16 .. 8192, each from the
     * block the previous one returned */
    uint64_t prev = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].fn == RCCAP_FN_REALLOC)
            prev = a[i].ptr;
    size_t steps = 0;
    for (size_t i = 0; i < c.nrealloc; i++) {
        if (!in_sym(f, frame(&c, c.reallocs[i].stack, 0)))
            continue;
        assert_true(c.reallocs[i].old_ptr == prev);
        assert_int_equal(c.reallocs[i].size, (uint64_t)16 << steps);
        prev = c.reallocs[i].ptr;
        steps++;
    }
    assert_int_equal(steps, 10);
    assert_true(freed_after(&c, prev, 0));
    /* frame 1 is main's call of prog_counts (not inlined: it is exported) */
    assert_true(module_has(&c, frame(&c, malloc_stack, 1), "/prog"));
    free_cap(&c);
}

static void test_leak_verdicts(void **state) {
    (void)state;
    run r;
    run_traced(&r, "leaks", NULL, NULL);
    assert_int_equal(exit_code(&r), 0);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    static alloc_rec a[16];
    assert_int_equal(allocs_in(&c, symbol("prog_leaks"), a, 16), 4);
    for (size_t i = 0; i < 4; i++) {
        int want = a[i].size == 333 ? RCCAP_LEAK_LOST : RCCAP_LEAK_REACHABLE;
        assert_int_equal(leak_state(&c, a[i].ptr), want);
        assert_false(freed(&c, &a[i]));
    }
    /* one verdict per live block, no more */
    size_t live = 0;
    for (size_t i = 0; i < c.nalloc; i++)
        live += !freed(&c, &c.allocs[i]);
    for (size_t i = 0; i < c.nrealloc; i++)
        live += !freed_after(&c, c.reallocs[i].ptr, c.reallocs[i].order);
    assert_int_equal(c.nleak, live);
    free_cap(&c);
}

static void test_threads(void **state) {
    (void)state;
    run r;
    long per = (long)rct_scaled(20000, 2000);
    char arg[32];
    snprintf(arg, sizeof arg, "%ld", per);
    const char *argv[] = {PROG, "threads", "8", arg, NULL};
    static char out_env[4200], syms_env[4200];
    snprintf(out_env, sizeof out_env, "RECYCLE_OUTPUT=%s", tmp_path("cap"));
    snprintf(syms_env, sizeof syms_env, "RCPL_PROG_SYMS=%s", tmp_path("syms"));
    const char *env[] = {"LD_PRELOAD=" RCPL_TEST_LIB, out_env, syms_env, NULL};
    run_prog(&r, argv, env, NULL, 0);
    assert_int_equal(exit_code(&r), 0);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    assert_int_equal(c.nthread, 9);
    for (size_t i = 0; i < c.nthread; i++)
        for (size_t k = i + 1; k < c.nthread; k++)
            assert_true(c.tids[i] != c.tids[k]);
    /* every event of every thread: exactly `per` blocks of 24 bytes per
     * worker, each freed, on its own thread number */
    sym f = symbol("prog_churn_thread");
    size_t per_thread[300] = {0};
    size_t total = 0;
    for (size_t i = 0; i < c.nalloc; i++) {
        if (!in_sym(f, frame(&c, c.allocs[i].stack, 0)))
            continue;
        assert_int_equal(c.allocs[i].size, 24);
        assert_true(c.allocs[i].thread >= 2 && c.allocs[i].thread < 300);
        per_thread[c.allocs[i].thread]++;
        total++;
    }
    assert_int_equal(total, 8 * (size_t)per);
    for (uint32_t t = 2; t <= 9; t++)
        assert_int_equal(per_thread[t], (size_t)per);
    /* every block freed exactly once: frees = allocations minus the live */
    assert_int_equal(c.nfree + c.nleak, c.nalloc);
    free_cap(&c);
}

static void test_handoff(void **state) {
    (void)state;
    run r;
    run_traced(&r, "handoff", "500", NULL);
    assert_int_equal(exit_code(&r), 0);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    size_t blocks = 0, cross = 0;
    for (size_t i = 0; i < c.nalloc; i++) {
        if (c.allocs[i].size != 40)
            continue;
        blocks++;
        for (size_t k = 0; k < c.nfree; k++)
            if (c.frees[k] == c.allocs[i].ptr && c.free_thread[k] != c.allocs[i].thread)
                cross++;
    }
    assert_int_equal(blocks, 500);
    assert_int_equal(cross, 500);
    free_cap(&c);
}

static void test_signal_handlers(void **state) {
    (void)state;
    run r;
    run_traced(&r, "signals", "300", NULL);
    assert_int_equal(exit_code(&r), 0);   /* its own SIGSEGV handler ran */
    assert_string_equal(r.out, "signals done\n");
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    expect_end(&c, RCCAP_END_RETURNED, 0, 0);
    /* the handler ran between the program's allocations, never inside the
     * recorder: every one of its blocks is recorded */
    size_t n16 = 0;
    for (size_t i = 0; i < c.nalloc; i++) {
        if (c.allocs[i].size != 16)
            continue;
        n16++;
        assert_true(freed(&c, &c.allocs[i]));
    }
    assert_int_equal(n16, 300);
    /* frame 0 is the handler's call into malloc: for all of them, or (the
     * walk crosses the signal frame through libgcc, whose frame filter in
     * src/trace/stack.c drops the frame right above the start) none */
    static alloc_rec a[512];
    size_t n = allocs_in(&c, symbol("prog_on_usr1"), a, 512);
    assert_true(n == 300 || n == 0);
    free_cap(&c);
}

static void check_simple_end(const char *mode, const char *arg, rccap_end how, int status, int sig) {
    run r;
    run_traced(&r, mode, arg, NULL);
    if (sig) {
        assert_true(WIFSIGNALED(r.status));
        assert_int_equal(WTERMSIG(r.status), sig);
    } else {
        assert_int_equal(exit_code(&r), status);
    }
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    assert_int_equal(c.nexit, 1);
    expect_end(&c, how, status, sig);
    /* the block made before the end is there */
    size_t tens = 0;
    for (size_t i = 0; i < c.nalloc; i++)
        tens += c.allocs[i].size == 10;
    assert_int_equal(tens, 1);
    /* leak verdicts after exit and _exit, none after a fatal signal */
    if (sig)
        assert_int_equal(c.nleak, 0);
    else
        assert_true(c.nleak >= 1);
    free_cap(&c);
}

static void test_endings(void **state) {
    (void)state;
    check_simple_end("exit", "3", RCCAP_END_RETURNED, 3, 0);
    check_simple_end("return", "4", RCCAP_END_RETURNED, 4, 0);
    check_simple_end("exit-now", "5", RCCAP_END_EXIT_NOW, 5, 0);
    check_simple_end("segv", NULL, RCCAP_END_SIGNAL, 0, SIGSEGV);
    check_simple_end("abort", NULL, RCCAP_END_SIGNAL, 0, SIGABRT);
}

/* The files of tmpdir whose names start with "cap", sorted. */
static size_t captures(char names[][256], size_t max) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep '^cap' | sort", tmpdir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = 0;
    while (n < max && fgets(names[n], 256, p)) {
        names[n][strcspn(names[n], "\n")] = '\0';
        n++;
    }
    pclose(p);
    return n;
}

static void clear_captures(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -f '%s'/cap*", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static size_t count_size(const cap *c, uint64_t size) {
    size_t n = 0;
    for (size_t i = 0; i < c->nalloc; i++)
        n += c->allocs[i].size == size;
    return n;
}

static void test_fork(void **state) {
    (void)state;
    char names[8][256];
    run r;
    /* without follow-fork: one capture, the child's blocks not in it */
    clear_captures();
    run_traced(&r, "fork", NULL, NULL);
    assert_int_equal(exit_code(&r), 0);
    assert_int_equal(captures(names, 8), 1);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    assert_int_equal(count_size(&c, 100), 1);
    assert_int_equal(count_size(&c, 300), 1);
    assert_int_equal(count_size(&c, 200), 0);
    expect_end(&c, RCCAP_END_RETURNED, 0, 0);
    free_cap(&c);

    /* with it: the child writes cap.<pid>, with its own blocks only */
    clear_captures();
    const char *follow[] = {"RECYCLE_FOLLOW_FORK=1", NULL};
    run_traced(&r, "fork", NULL, follow);
    assert_int_equal(exit_code(&r), 0);
    assert_int_equal(captures(names, 8), 2);
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    assert_int_equal(count_size(&c, 100), 1);
    assert_int_equal(count_size(&c, 300), 1);
    assert_int_equal(count_size(&c, 200), 0);
    free_cap(&c);
    assert_int_equal(strncmp(names[1], "cap.", 4), 0);
    uint64_t child = strtoull(names[1] + 4, NULL, 10);
    read_cap(&c, tmp_path(names[1]));
    check_well_formed(&c, child);
    assert_int_equal(c.h.ppid, (uint64_t)r.pid);
    assert_int_equal(count_size(&c, 200), 3);
    assert_int_equal(count_size(&c, 100), 0);
    assert_int_equal(count_size(&c, 300), 0);
    expect_end(&c, RCCAP_END_RETURNED, 7, 0);
    free_cap(&c);
}

static void test_exec(void **state) {
    (void)state;
    char names[8][256];
    run r;
    clear_captures();
    run_traced(&r, "exec", NULL, NULL);
    assert_int_equal(exit_code(&r), 3);   /* the status of the new image */
    assert_int_equal(captures(names, 8), 2);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    /* a failed exec, then the real one: the capture went on in between */
    assert_int_equal(c.nexit, 2);
    assert_int_equal(c.end_how[0], RCCAP_END_EXEC);
    assert_int_equal(c.end_how[1], RCCAP_END_EXEC);
    assert_int_equal(count_size(&c, 111), 1);
    assert_int_equal(count_size(&c, 112), 1);
    free_cap(&c);
    /* the new image of the same process records into cap.<pid> */
    char want[64];
    snprintf(want, sizeof want, "cap.%d", (int)r.pid);
    assert_string_equal(names[1], want);
    read_cap(&c, tmp_path(names[1]));
    check_well_formed(&c, (uint64_t)r.pid);
    assert_non_null(strstr(c.command, "prog return 3"));
    expect_end(&c, RCCAP_END_RETURNED, 3, 0);
    free_cap(&c);
}

static void test_children(void **state) {
    (void)state;
    char names[8][256];
    run r;
    /* fork + exec and system(): children are not recorded by default */
    clear_captures();
    run_traced(&r, "fork-exec", NULL, NULL);
    assert_int_equal(exit_code(&r), 0);
    assert_int_equal(captures(names, 8), 1);
    clear_captures();
    run_traced(&r, "spawn", NULL, NULL);
    assert_int_equal(exit_code(&r), 0);
    assert_int_equal(captures(names, 8), 1);
    /* with follow-fork: the forked child (which ends by exec) and the
     * program it became, one capture each */
    clear_captures();
    const char *follow[] = {"RECYCLE_FOLLOW_FORK=1", NULL};
    run_traced(&r, "fork-exec", NULL, follow);
    assert_int_equal(exit_code(&r), 0);
    assert_int_equal(captures(names, 8), 3);
    cap c;
    read_cap(&c, tmp_path(names[1]));
    expect_end(&c, RCCAP_END_EXEC, 0, 0);
    uint64_t child = c.h.pid;
    free_cap(&c);
    read_cap(&c, tmp_path(names[2]));
    check_well_formed(&c, child);
    assert_non_null(strstr(c.command, "prog return 5"));
    expect_end(&c, RCCAP_END_RETURNED, 5, 0);
    free_cap(&c);
}

/* exit() while four threads allocate flat out: the capture ends cleanly,
 * and the process ends with the status. */
static void test_exit_while_busy(void **state) {
    (void)state;
    run r;
    run_traced(&r, "exit-busy", NULL, NULL);
    assert_int_equal(exit_code(&r), 0);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    expect_end(&c, RCCAP_END_RETURNED, 0, 0);
    assert_int_equal(c.nthread, 5);
    assert_true(count_size(&c, 32) > 100);
    free_cap(&c);
}

/* Forks while other threads are inside malloc and the recorder: no child
 * may inherit a lock held by a thread it does not have. With follow-fork
 * every child writes a whole capture of its own. */
static void test_fork_while_busy(void **state) {
    (void)state;
    char names[64][256];
    run r;
    clear_captures();
    run_traced(&r, "fork-busy", "30", NULL);
    assert_int_equal(exit_code(&r), 0);
    assert_int_equal(captures(names, 64), 1);
    clear_captures();
    const char *follow[] = {"RECYCLE_FOLLOW_FORK=1", NULL};
    run_traced(&r, "fork-busy", "30", follow);
    assert_int_equal(exit_code(&r), 0);
    assert_int_equal(captures(names, 64), 31);
    for (size_t i = 1; i < 31; i++) {
        cap c;
        read_cap(&c, tmp_path(names[i]));
        check_well_formed(&c, strtoull(names[i] + 4, NULL, 10));
        assert_int_equal(c.h.ppid, (uint64_t)r.pid);
        assert_int_equal(c.nthread, 1);   /* the forking thread only */
        assert_int_equal(count_size(&c, 64), 1);
        assert_int_equal(count_size(&c, 32), 0);
        expect_end(&c, RCCAP_END_EXIT_NOW, 0, 0);
        free_cap(&c);
    }
}

/* A profiling timer whose handler allocates, landing anywhere: inside the
 * allocator, inside the recorder (the handler's calls then pass through
 * unrecorded), between calls. */
static void test_timer_signals(void **state) {
    (void)state;
    char n[32];
    long blocks = (long)rct_scaled(1000000, 100000);
    snprintf(n, sizeof n, "%ld", blocks);
    run r;
    run_traced(&r, "timer", n, NULL);
    assert_int_equal(exit_code(&r), 0);
    assert_non_null(strstr(r.out, " ticks"));
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    size_t made = 0;
    for (size_t i = 0; i < c.nalloc; i++)
        made += c.allocs[i].size >= 1 && c.allocs[i].size <= 200;
    assert_true(made >= (size_t)blocks);
    assert_true(c.nfree + 10 >= (size_t)blocks);
    free_cap(&c);
}

static void test_dlopen(void **state) {
    (void)state;
    run r;
    run_traced(&r, "dlopen", RCPL_TEST_BIN, NULL);
    assert_int_equal(exit_code(&r), 0);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    /* the plugin's blocks: frame 0 in the plugin (its module recorded
     * before dlclose unmapped it), frame 1 in prog_plugin */
    sym f = symbol("prog_plugin");
    size_t n = 0;
    for (size_t i = 0; i < c.nalloc; i++) {
        if (c.allocs[i].size != 1234)
            continue;
        n++;
        assert_true(module_has(&c, frame(&c, c.allocs[i].stack, 0), "librcpl_plugin.so"));
        assert_true(in_sym(f, frame(&c, c.allocs[i].stack, 1)));
    }
    assert_int_equal(n, 4);
    free_cap(&c);
}

static void test_close_fds(void **state) {
    (void)state;
    run r;
    run_traced(&r, "close-fds", NULL, NULL);
    assert_int_equal(exit_code(&r), 0);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    assert_int_equal(count_size(&c, 50), 10);
    expect_end(&c, RCCAP_END_RETURNED, 0, 0);
    free_cap(&c);
}

static void test_passthrough(void **state) {
    (void)state;
    size_t len = 300000;
    char *input = malloc(len);
    assert_non_null(input);
    for (size_t i = 0; i < len; i++)
        input[i] = (char)('a' + i % 23);
    static char out_env[4200];
    snprintf(out_env, sizeof out_env, "RECYCLE_OUTPUT=%s", tmp_path("cap"));
    const char *env[] = {"LD_PRELOAD=" RCPL_TEST_LIB, out_env, NULL};
    const char *argv[] = {PROG, "echo", NULL};
    static run r;
    run_prog(&r, argv, env, input, len);
    assert_int_equal(exit_code(&r), 0);
    assert_int_equal(r.out_len, sizeof r.out - 1 < len ? sizeof r.out - 1 : len);
    assert_memory_equal(r.out, input, r.out_len);
    assert_string_equal(r.err, "300000 bytes\n");
    free(input);
}

static void test_cxx(void **state) {
    (void)state;
    if (!RCPL_TEST_HAVE_CXX)
        skip();
    static char out_env[4200];
    snprintf(out_env, sizeof out_env, "RECYCLE_OUTPUT=%s", tmp_path("cap"));
    const char *env[] = {"LD_PRELOAD=" RCPL_TEST_LIB, out_env, NULL};
    const char *argv[] = {PROG_CXX, NULL};
    run r;
    run_prog(&r, argv, env, NULL, 0);
    assert_int_equal(exit_code(&r), 0);
    assert_string_equal(r.out, "sum 1225\n");
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    /* new reaches malloc through libstdc++: the program's frame is a caller
     * of frame 0 */
    size_t ints = 0, arrays = 0, bigs = 0;
    for (size_t i = 0; i < c.nalloc; i++) {
        bool from_prog = false;
        for (size_t k = 0; k < 3; k++)
            from_prog |= module_has(&c, frame(&c, c.allocs[i].stack, k), "/prog_cxx");
        if (!from_prog)
            continue;
        if (c.allocs[i].size == 4) {
            ints++;
            assert_true(freed(&c, &c.allocs[i]));
        } else if (c.allocs[i].size == 100) {
            arrays++;
            assert_true(freed(&c, &c.allocs[i]));
        } else if (c.allocs[i].size == 4096) {
            bigs++;
            assert_int_equal(leak_state(&c, c.allocs[i].ptr), RCCAP_LEAK_REACHABLE);
        }
    }
    assert_int_equal(ints, 50);
    assert_int_equal(arrays, 10);
    assert_int_equal(bigs, 1);
    free_cap(&c);
}

/* Sampled: trees allocate 16-byte nodes; the weights estimate the bytes
 * within 6 standard deviations (each sample stands for about the mean), and
 * only sampled blocks have frees. */
static void test_sampling(void **state) {
    (void)state;
    const char *env[] = {"RECYCLE_SAMPLE=4K", NULL};
    run r;
    run_traced(&r, "trees", "12", env);
    assert_int_equal(exit_code(&r), 0);
    long nodes = strtol(r.out, NULL, 10);
    assert_true(nodes > 100000);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    assert_int_equal(c.h.sample_bytes, 4096);
    assert_int_equal(c.nleak, 0);   /* no leak scan in sampled mode */
    double est = 0, count = 0;
    for (size_t i = 0; i < c.nalloc; i++) {
        if (c.allocs[i].size != 16)
            continue;
        assert_true(c.allocs[i].weight >= 16);
        /* the program frees every node: the free of every sampled one is
         * there (the filter never lets one pass unrecorded) */
        assert_true(freed(&c, &c.allocs[i]));
        est += (double)c.allocs[i].weight;
        count += (double)c.allocs[i].weight / 16.0;
    }
    double truth = 16.0 * (double)nodes;
    double bound = 6.0 / sqrt(truth / 4096.0);
    assert_true(fabs(est / truth - 1) < bound);
    assert_true(fabs(count / (double)nodes - 1) < bound);
    assert_true(c.nalloc < (size_t)nodes / 50);   /* a small part was recorded */
    free_cap(&c);
}

static void test_options(void **state) {
    (void)state;
    run r;
    /* no RECYCLE_OUTPUT: nothing recorded, the program unchanged */
    clear_captures();
    const char *env[] = {"LD_PRELOAD=" RCPL_TEST_LIB, NULL};
    const char *argv[] = {PROG, "return", "9", NULL};
    run_prog(&r, argv, env, NULL, 0);
    assert_int_equal(exit_code(&r), 9);
    assert_string_equal(r.err, "");
    char names[8][256];
    assert_int_equal(captures(names, 8), 0);

    /* a traceback limit; a bad value is reported and replaced */
    const char *two[] = {"RECYCLE_FRAMES=2", NULL};
    run_traced(&r, "counts", NULL, two);
    assert_int_equal(exit_code(&r), 0);
    cap c;
    read_cap(&c, tmp_path("cap"));
    assert_int_equal(c.h.frames, 2);
    for (size_t i = 0; i < c.nalloc; i++)
        assert_true(depth(&c, c.allocs[i].stack) <= 2);
    free_cap(&c);
    const char *bad[] = {"RECYCLE_FRAMES=lots", NULL};
    run_traced(&r, "return", "0", bad);
    assert_int_equal(exit_code(&r), 0);
    assert_non_null(strstr(r.err, "RECYCLE_FRAMES=lots"));
    read_cap(&c, tmp_path("cap"));
    assert_int_equal(c.h.frames, 64);
    free_cap(&c);

    /* an existing capture is replaced */
    FILE *f = fopen(tmp_path("cap"), "w");
    assert_non_null(f);
    fputs("not a capture, and longer than the header of the one that replaces it", f);
    fclose(f);
    run_traced(&r, "return", "0", NULL);
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    free_cap(&c);

    /* a directory that cannot be written: one line on stderr, the program
     * runs as usual */
    const char *nowhere[] = {"LD_PRELOAD=" RCPL_TEST_LIB, "RECYCLE_OUTPUT=/nonexistent-dir/cap", NULL};
    const char *argv2[] = {PROG, "return", "4", NULL};
    run_prog(&r, argv2, nowhere, NULL, 0);
    assert_int_equal(exit_code(&r), 4);
    assert_non_null(strstr(r.err, "cannot create /nonexistent-dir/cap"));
}

/* A program that runs a while: memory samples every 10 ms, with the heap
 * figure and the resident set. */
static void test_memory_samples(void **state) {
    (void)state;
    run r;
    run_traced(&r, "trees", "16", NULL);
    assert_int_equal(exit_code(&r), 0);
    cap c;
    read_cap(&c, tmp_path("cap"));
    check_well_formed(&c, (uint64_t)r.pid);
    assert_true(c.nmemory >= 3);
    assert_true(c.max_rss > 1000000);
    assert_true(c.max_heap > 1000);
    free_cap(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leak_verdicts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_handlers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_while_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_while_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_signals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dlopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_fds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passthrough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cxx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sampling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_samples, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
