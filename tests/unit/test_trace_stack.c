/* rc-test: whitebox */
/* test_trace_stack.c - rctr_stack_capture against the return addresses that
 * the functions of a known noinline chain read with __builtin_return_address,
 * and against libgcc's _Unwind_Backtrace over the whole stack: the first
 * capture through the chain fills the rule cache (cold), the next ones use it
 * (warm). One function of the chain calls alloca, so its
 * frame is described from %rbp rather than %rsp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unwind.h>
#include <cmocka.h>

#include "rct.h"
#include "trace/stack.h"

#define NOINLINE __attribute__((noinline))
#define NOTAIL() __asm__ volatile("" ::: "memory")

enum { CHAIN = 4, MAXF = 64 };

static uintptr_t ret[CHAIN];          /* ret[i]: return address of chain level i */
static uintptr_t got[MAXF], ref[MAXF];
static size_t ngot, nref, skip_arg = 1, max_arg = MAXF;

typedef struct walk { uintptr_t *out; size_t n; } walk;
static _Unwind_Reason_Code step(struct _Unwind_Context *ctx, void *arg) {
    walk *w = arg;
    uintptr_t pc = (uintptr_t)_Unwind_GetIP(ctx);
    if (pc == 0 || w->n == MAXF)
        return _URC_END_OF_STACK;
    w->out[w->n++] = pc;
    return _URC_NO_REASON;
}

/* libgcc's walk from here: [pc in _Unwind_Backtrace's caller = here, ...]; */
static NOINLINE void reference(void) {
    walk w = {ref, 0};
    _Unwind_Backtrace(step, &w);
    nref = w.n;
    NOTAIL();
}

static NOINLINE void level3(void) {
    ret[3] = (uintptr_t)__builtin_return_address(0);
    ngot = rctr_stack_capture(got, max_arg, skip_arg);
    reference();
    NOTAIL();
}

static NOINLINE void level2(int n) {
    volatile char *vla = __builtin_alloca((size_t)n);   /* the frame needs %rbp: CFA = %rbp + 16 */
    vla[0] = 1;
    ret[2] = (uintptr_t)__builtin_return_address(0);
    level3();
    NOTAIL();
    (void)vla[0];
}

static NOINLINE void level1(void) {
    ret[1] = (uintptr_t)__builtin_return_address(0);
    level2(32);
    NOTAIL();
}

static NOINLINE void level0(void) {
    ret[0] = (uintptr_t)__builtin_return_address(0);
    level1();
    NOTAIL();
}

/* got (after skip 1) is [in level3, ret[3], ret[2], ret[1], ret[0], callers];
 * ref is [in reference, in level3, ret[3], ...]: same callers from ref[2] on. */
static void check_chain(void) {
    assert_true(ngot >= CHAIN + 1);
    for (int i = 0; i < CHAIN; i++)
        assert_true(got[1 + i] == ret[CHAIN - 1 - i]);
    assert_true(got[0] > (uintptr_t)&level3 && got[0] < (uintptr_t)&level3 + 4096);
    assert_int_equal(ngot, nref - 1);
    for (size_t i = 1; i < ngot; i++)
        assert_true(got[i] == ref[i + 1]);
}

static void test_cold_then_warm(void **state) {
    (void)state;
    for (int round = 0; round < 3; round++) {   /* round 0 fills the cache */
        memset(got, 0, sizeof got);
        level0();
        check_chain();
    }
}

static void test_skip_and_max(void **state) {
    (void)state;
    skip_arg = 2;   /* drop the pc in level3 too: ret[3] first */
    max_arg = 2;
    level0();
    assert_int_equal(ngot, 2);
    assert_true(got[0] == ret[3] && got[1] == ret[2]);
    max_arg = 1;
    level0();
    assert_int_equal(ngot, 1);
    assert_true(got[0] == ret[3]);
    skip_arg = 1;
    max_arg = MAXF;
    assert_int_equal(rctr_stack_capture(got, 0, 0), 0);
}

static NOINLINE size_t recurse(int d) {
    size_t r = d == 0 ? (level0(), ngot) : recurse(d - 1);
    NOTAIL();
    return r;
}

/* Many depths: every return address of recurse is cached after the first. */
static void test_depths(void **state) {
    (void)state;
    for (int d = 0; d < 40; d += 3) {
        size_t n = recurse(d);
        check_chain();
        assert_true(n >= (size_t)d + CHAIN + 1);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cold_then_warm),
        cmocka_unit_test(test_skip_and_max),
        cmocka_unit_test(test_depths),
    };
    return rct_run_tests(tests, NULL, NULL);
}
