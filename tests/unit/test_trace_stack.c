/* rc-test: whitebox threads */
/* test_trace_stack.c - rctr_stack_capture against the return addresses that
 * the functions of a known noinline chain read with __builtin_return_address,
 * and against libgcc's _Unwind_Backtrace over the whole stack: the first
 * capture through the chain fills the rule cache (cold), the next ones use it
 * (warm). One function of the chain calls alloca, so its
 * frame is described from %rbp rather than %rsp.
 *
 * The memo (the outer frames of a thread's last walk, reused after a check
 * of the stack words they were read from) is checked against the plain walk
 * at random points of random call trees: several call sites per function,
 * frames with and without %rbp-based CFAs, a function whose %rbp changes
 * between calls, longjmp out of deep recursion, captures in a signal
 * handler that interrupts captures, and four threads at once. */
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
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

/* ---- the memo against the plain walk ---- */

typedef struct rng { uint64_t s; } rng;
static uint64_t next_rand(rng *r) {
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

typedef struct tree_ctx {
    rng r;
    size_t captures, mismatches;
    jmp_buf *escape;
    int escape_at;   /* longjmp to escape when a call reaches this depth (-1: never) */
} tree_ctx;

/* Both walks from the same frame, with the same max and skip. */
static NOINLINE void compare_here(tree_ctx *c) {
    uintptr_t a[MAXF + 4], b[MAXF + 4];
    size_t max = 1 + next_rand(&c->r) % MAXF, skip = next_rand(&c->r) % 4;
    size_t na = rctr_stack_capture(a, max, skip);
    size_t nb = rctr_stack_capture_plain(b, max, skip);
    c->captures++;
    /* raw frame 0 is a pc inside each entry point, raw frame 1 the return
     * into this function from two different calls: the rest must agree */
    size_t from = skip < 2 ? 2 - skip : 0;
    if (na != nb || (na > from && memcmp(a + from, b + from, (na - from) * sizeof a[0]) != 0))
        c->mismatches++;
    NOTAIL();
}

static NOINLINE void node_a(tree_ctx *c, int depth);
static NOINLINE void node_b(tree_ctx *c, int depth);

/* A frame described from %rbp, whose size depends on the path. */
static NOINLINE void node_alloca(tree_ctx *c, int depth) {
    volatile char *p = __builtin_alloca(16 + (size_t)(next_rand(&c->r) % 64));
    p[0] = (char)depth;
    compare_here(c);
    if (depth > 0)
        node_b(c, depth - 1);
    compare_here(c);
    (void)p[0];
    NOTAIL();
}

/* Calls its children from several call sites, capturing in between. */
static NOINLINE void node_a(tree_ctx *c, int depth) {
    if (depth == c->escape_at)
        longjmp(*c->escape, 1);
    compare_here(c);
    if (depth <= 0)
        return;
    int kids = (int)(next_rand(&c->r) % 3);
    for (int k = 0; k < kids; k++) {
        switch (next_rand(&c->r) % 3) {
        case 0: node_a(c, depth - 1); break;
        case 1: node_b(c, depth - 1); break;
        default: node_alloca(c, depth - 1); break;
        }
        compare_here(c);
    }
    NOTAIL();
}

static NOINLINE void node_b(tree_ctx *c, int depth) {
    compare_here(c);
    if (depth > 0) {
        if (next_rand(&c->r) & 1)
            node_a(c, depth - 1);
        else
            node_b(c, depth - 1);
        node_a(c, depth - 1);
    }
    compare_here(c);
    NOTAIL();
}

/* One tree; a longjmp may leave it from any depth. */
static NOINLINE void one_tree(tree_ctx *c, int escape_at) {
    jmp_buf env;
    c->escape = &env;
    c->escape_at = escape_at;
    if (setjmp(env) == 0)
        node_a(c, 12);
    c->escape = NULL;
    compare_here(c);   /* after a longjmp: the memo's frames are gone */
}

static void run_trees(tree_ctx *c, int rounds) {
    for (int i = 0; i < rounds; i++)
        one_tree(c, i % 3 == 0 ? (int)(next_rand(&c->r) % 8) : -1);
}

static void test_memo_matches_plain(void **state) {
    (void)state;
    tree_ctx c = {.r = {0x9e3779b97f4a7c15u}};
    run_trees(&c, 300);
    assert_true(c.captures > 10000);
    assert_int_equal(c.mismatches, 0);
}

/* A signal handler captures while the interrupted code is capturing: the
 * handler's walk goes through the signal frame (libgcc's path) and must not
 * disturb the interrupted capture's memo. */
static tree_ctx sig_ctx = {.r = {12345}};
static void on_signal(int sig) {
    (void)sig;
    compare_here(&sig_ctx);
}

static void test_memo_signal(void **state) {
    (void)state;
    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGPROF, &sa, &old_sa), 0);
    struct itimerval it = {{0, 200}, {0, 200}}, off = {{0, 0}, {0, 0}};
    assert_int_equal(setitimer(ITIMER_PROF, &it, NULL), 0);
    tree_ctx c = {.r = {777}};
    run_trees(&c, 400);
    setitimer(ITIMER_PROF, &off, NULL);
    /* a SIGPROF already on its way would kill the process under the default
     * action: ignoring the signal first discards it */
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPROF, &ign, NULL);
    sigaction(SIGPROF, &old_sa, NULL);
    assert_int_equal(c.mismatches, 0);
    assert_int_equal(sig_ctx.mismatches, 0);
}

/* A walk from a start frame that goes through a signal frame takes
 * libgcc's path: its frames must be the fast path's, [a pc in the start
 * function, the return into its caller, ...]. */
static uintptr_t from_out[8], from_ret;
static size_t from_n;

static NOINLINE void start_here(void) {
    rctr_start st;
    RCTR_START_HERE(st);
    from_ret = (uintptr_t)__builtin_return_address(0);
    from_n = rctr_stack_capture_from(&st, from_out, 8, 0);
    NOTAIL();
}

static void on_usr1(int sig) {
    (void)sig;
    start_here();
    NOTAIL();
}

static void test_from_start_both_paths(void **state) {
    (void)state;
    start_here();   /* no signal frame: the fast walk */
    assert_true(from_n >= 2);
    assert_true(from_out[0] > (uintptr_t)&start_here && from_out[0] < (uintptr_t)&start_here + 4096);
    assert_true(from_out[1] == from_ret);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    memset(from_out, 0, sizeof from_out);
    raise(SIGUSR1);   /* the handler's walk crosses the signal frame: libgcc */
    sigaction(SIGUSR1, &old, NULL);
    assert_true(from_n >= 3);
    assert_true(from_out[0] > (uintptr_t)&start_here && from_out[0] < (uintptr_t)&start_here + 4096);
    assert_true(from_out[1] == from_ret);
}

static void *tree_thread(void *arg) {
    tree_ctx *c = arg;
    run_trees(c, 150);
    return NULL;
}

static void test_memo_threads(void **state) {
    (void)state;
    enum { NT = 4 };
    pthread_t th[NT];
    tree_ctx c[NT];
    for (int i = 0; i < NT; i++) {
        c[i] = (tree_ctx){.r = {(uint64_t)(i + 1) * 0x2545F4914F6CDD1Du}};
        assert_int_equal(pthread_create(&th[i], NULL, tree_thread, &c[i]), 0);
    }
    for (int i = 0; i < NT; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_true(c[i].captures > 1000);
        assert_int_equal(c[i].mismatches, 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cold_then_warm),
        cmocka_unit_test(test_skip_and_max),
        cmocka_unit_test(test_depths),
        cmocka_unit_test(test_memo_matches_plain),
        cmocka_unit_test(test_memo_signal),
        cmocka_unit_test(test_memo_threads),
        cmocka_unit_test(test_from_start_both_paths),
    };
    return rct_run_tests(tests, NULL, NULL);
}
