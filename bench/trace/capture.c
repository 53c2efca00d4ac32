/* capture.c - cost of one stack capture, per method, at a fixed depth.
 *
 *   capture METHOD FRAMES [DEPTH] [N]
 *
 * Recurses DEPTH frames through a noinline chain, then takes N captures of
 * at most FRAMES return addresses and prints "@ method=... frames=... got=...
 * ns=..." (ns per capture). Methods:
 *   libgcc      _Unwind_Backtrace (libgcc_s, .eh_frame)
 *   glibc       backtrace() (glibc's wrapper over libgcc's unwinder)
 *   unw         libunwind unw_backtrace, default caching policy
 *   unw-thread  unw_backtrace with unw_set_caching_policy(UNW_CACHE_PER_THREAD)
 *   fp          a frame-pointer walk: correct only when every frame on the
 *               path keeps %rbp as a frame pointer (-fno-omit-frame-pointer
 *               for this program, libc's start code aside); elsewhere it
 *               stops early or reads garbage, so it is measured, not used
 *   recycle     rctr_stack_capture, the trace layer's capture (stack.c): from
 *               the same place every time, so the per-thread memo serves all
 *               but the innermost frames (the best case of a loop that
 *               allocates)
 *   recycle-plain  the same walk without the memo (every frame unwound: the
 *               worst case, a capture that shares no frame with the last)
 * Every method must return the same addresses as libgcc for the frames they
 * both reach (checked once before timing; "mismatch" is printed otherwise). */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <execinfo.h>
#ifndef CAPTURE_NO_LIBUNWIND
#include <libunwind.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unwind.h>

#ifndef RC_BUILD_CORE
#define RC_BUILD_CORE
#endif
#include "trace/stack.h"

#define MAXF 160

typedef struct walk { uintptr_t *out; size_t max, n; } walk;
static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg) {
    walk *w = arg;
    uintptr_t pc = (uintptr_t)_Unwind_GetIP(ctx);
    if (pc == 0 || w->n == w->max)
        return _URC_END_OF_STACK;
    w->out[w->n++] = pc;
    return _URC_NO_REASON;
}

/* Every method's frame 0 is the return address into cap()'s caller. */
static __attribute__((noinline)) size_t cap_libgcc(uintptr_t *out, size_t max) {
    uintptr_t tmp[MAXF];
    walk w = {tmp, max + 1, 0};
    _Unwind_Backtrace(step, &w);
    if (w.n <= 1) return 0;
    memcpy(out, tmp + 1, (w.n - 1) * sizeof *out);
    return w.n - 1;
}
static __attribute__((noinline)) size_t cap_glibc(uintptr_t *out, size_t max) {
    void *tmp[MAXF];
    int n = backtrace(tmp, (int)max + 1);
    if (n <= 1) return 0;
    memcpy(out, tmp + 1, (size_t)(n - 1) * sizeof *out);
    return (size_t)n - 1;
}
#ifdef CAPTURE_NO_LIBUNWIND
/* Built without libunwind: its methods are refused in main. */
#define unw_backtrace(b, n) ((void)(b), (n) * 0)
#endif
static __attribute__((noinline)) size_t cap_unw(uintptr_t *out, size_t max) {
    void *tmp[MAXF];
    int n = unw_backtrace(tmp, (int)max + 1);
    if (n <= 1) return 0;
    memcpy(out, tmp + 1, (size_t)(n - 1) * sizeof *out);
    return (size_t)n - 1;
}
static __attribute__((noinline)) size_t cap_fp(uintptr_t *out, size_t max) {
    uintptr_t *fp = __builtin_frame_address(0);
    size_t n = 0;
    while (n < max && fp) {
        uintptr_t *next = (uintptr_t *)fp[0];
        uintptr_t ra = fp[1];
        if (ra == 0) break;
        out[n++] = ra;
        if (next <= fp) break;   /* the stack grows down: callers are higher */
        fp = next;
    }
    return n;
}
static __attribute__((noinline)) size_t cap_recycle(uintptr_t *out, size_t max) {
    size_t n = rctr_stack_capture(out, max, 2);
    __asm__ volatile("" ::: "memory");
    return n;
}

static __attribute__((noinline)) size_t cap_recycle_plain(uintptr_t *out, size_t max) {
    size_t n = rctr_stack_capture_plain(out, max, 2);
    __asm__ volatile("" ::: "memory");
    return n;
}

typedef size_t (*capfn)(uintptr_t *, size_t);
static capfn fn;
static size_t frames, iters;
static volatile size_t sink;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static __attribute__((noinline)) size_t bottom(capfn f) {
    uintptr_t a[MAXF], b[MAXF];
    size_t na = f(a, frames), nb = cap_libgcc(b, frames);
    /* frame 0 differs (two call sites); compare the callers */
    int bad = na != nb;
    for (size_t i = 1; !bad && i < na; i++)
        bad = a[i] != b[i];
    if (bad && fn != cap_fp)
        printf("mismatch: got %zu frames, libgcc %zu\n", na, nb);
    if (bad && fn == cap_fp)
        printf("fp: differs from libgcc (%zu vs %zu frames): no frame pointers on the path\n", na, nb);
    double t0 = now();
    for (size_t i = 0; i < iters; i++)
        sink += f(a, frames);
    double t1 = now();
    printf("@ frames=%zu got=%zu ns=%.1f\n", frames, na, (t1 - t0) * 1e9 / (double)iters);
    return na;
}

static __attribute__((noinline)) size_t chain(int d, capfn f) {
    size_t r = d == 0 ? bottom(f) : chain(d - 1, f);
    __asm__ volatile("" ::: "memory");   /* no tail call: one frame per level */
    return r + 1;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: capture METHOD FRAMES [DEPTH] [N]\n"); return 2; }
    const char *m = argv[1];
    frames = strtoul(argv[2], NULL, 10);
    int depth = argc > 3 ? atoi(argv[3]) : 30;
    iters = argc > 4 ? strtoul(argv[4], NULL, 10) : 200000;
    if (frames == 0 || frames > 128) return 2;
    if (!strcmp(m, "libgcc")) fn = cap_libgcc;
    else if (!strcmp(m, "glibc")) fn = cap_glibc;
#ifndef CAPTURE_NO_LIBUNWIND
    else if (!strcmp(m, "unw")) fn = cap_unw;
    else if (!strcmp(m, "unw-thread")) { unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD); fn = cap_unw; }
#endif
    else if (!strcmp(m, "fp")) fn = cap_fp;
    else if (!strcmp(m, "recycle")) fn = cap_recycle;
    else if (!strcmp(m, "recycle-plain")) fn = cap_recycle_plain;
    else { fprintf(stderr, "unknown method %s\n", m); return 2; }
    printf("method=%s\n", m);
    chain(depth, fn);
    return 0;
}
