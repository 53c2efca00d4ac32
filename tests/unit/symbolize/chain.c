/* chain.c - chain_outer -> chain_middle (always inlined) -> chain_leaf (never
 * inlined), whose return address lies in chain_outer's code at the inlined
 * call. The line constants are taken with __LINE__ on the line of each call,
 * so the expected lines move with the code. */
#include "chain.h"

/* A store the compiler must keep after each call, so that no call becomes a
 * tail call (a jump leaves no return address in the caller). */
static volatile int chain_sink;

__attribute__((noinline)) static uintptr_t chain_leaf(void) {
    chain_sink++;
    return (uintptr_t)__builtin_return_address(0);
}

static inline __attribute__((always_inline)) uintptr_t chain_middle(chain_result *r) {
    uintptr_t ra = chain_leaf(); r->line_middle_call = __LINE__;
    chain_sink++;
    return ra;
}

__attribute__((noinline)) void chain_outer(chain_result *r) {
    r->ra_in_outer = chain_middle(r); r->line_outer_call = __LINE__;
    chain_sink++;
}
