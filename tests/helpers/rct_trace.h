/* rct_trace.h - checks shared by the white-box tests of object tracebacks
 * (test_trace_types.c, test_trace_gcapi.c): which function a return address
 * lies in, and that every trace of a snapshot, or one block's trace, starts
 * at a given function called from a given place. Include after cmocka.h,
 * recycle.h and rct.h, in a test built with the `whitebox` marker word. */
#ifndef RCT_TRACE_H
#define RCT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "symbolize/symbolize.h"

/* Makers of objects: their own name must reach the symbolizer, so no clone
 * (GCC's .constprop/.isra copies carry other names) and no inlining. */
#ifdef __clang__
#define RCT_MAKER __attribute__((noinline))
#else
#define RCT_MAKER __attribute__((noinline, noclone))
#endif

/* Called last in every maker: stores the maker's return address (frame 1
 * of what it made) in ra, and keeps any call out of tail position (a tail
 * call would take the maker's frame off the stack). */
#define RCT_MAKER_DONE(ra)                                 \
    do {                                                   \
        (ra) = (uintptr_t)__builtin_return_address(0);     \
        __asm__ volatile("" ::: "memory");                 \
    } while (0)

static inline size_t rct_traced_now(void) {
    size_t c = 0;
    rc_trace_get_traced_memory(&c, NULL);
    return c;
}

/* The function that contains return address pc (the outermost of the
 * frames it stands for: inlined functions come first), "?" when unknown. */
static inline const char *rct_function_of(uintptr_t pc) {
    rcs_frame f[32];
    size_t n = rcs_symbolize(pc, f, 32);
    if (n == 0 || n > 32)
        return "?";
    return f[n - 1].function ? f[n - 1].function : "?";
}

static inline void rct_print_traceback(const rc_traceback *tb) {
    for (size_t i = 0; i < rc_traceback_len(tb); i++)
        print_error("    #%zu %#lx %s\n", i, (unsigned long)rc_traceback_addr(tb, i),
                    rct_function_of(rc_traceback_addr(tb, i)));
}

/* Every trace there is starts at fn, with frame 1 at ra; there are ntraces
 * of them and they add up to bytes, which is all that is traced. */
static inline void rct_expect_traces_from(const char *fn, uintptr_t ra, size_t ntraces, size_t bytes) {
    rc_snapshot *s = rc_trace_take_snapshot();
    assert_non_null(s);
    rc_stats *st = rc_snapshot_statistics(s, RC_BY_TRACEBACK, 0);
    assert_non_null(st);
    size_t n = 0, b = 0;
    bool bad = false;
    for (size_t i = 0; i < rc_stats_len(st); i++) {
        const rc_stat *e = rc_stats_at(st, i);
        const rc_traceback *tb = rc_stats_traceback(st, i);
        n += e->count;
        b += e->size;
        const char *f0 = rc_traceback_len(tb) ? rct_function_of(rc_traceback_addr(tb, 0)) : "-";
        if (strcmp(f0, fn) != 0 || rc_traceback_len(tb) < 2 || rc_traceback_addr(tb, 1) != ra) {
            print_error("%zu block(s) of %zu bytes: frame 0 is not %s called from %#lx:\n", e->count,
                        e->size, fn, (unsigned long)ra);
            rct_print_traceback(tb);
            bad = true;
        }
    }
    rc_stats_free(st);
    rc_snapshot_free(s);
    assert_false(bad);
    assert_int_equal(n, ntraces);
    assert_int_equal(b, bytes);
    assert_int_equal(rct_traced_now(), bytes);
}

/* Frame 0 of the traceback of the block that p lies in is fn, frame 1 ra. */
static inline void rct_expect_block_from(const void *p, const char *fn, uintptr_t ra) {
    rc_traceback *tb = rc_trace_get_object_traceback(p);
    assert_non_null(tb);
    assert_true(rc_traceback_len(tb) >= 2);
    if (strcmp(rct_function_of(rc_traceback_addr(tb, 0)), fn) != 0)
        rct_print_traceback(tb);
    assert_string_equal(rct_function_of(rc_traceback_addr(tb, 0)), fn);
    assert_int_equal(rc_traceback_addr(tb, 1), ra);
    rc_traceback_free(tb);
}

#endif /* RCT_TRACE_H */
