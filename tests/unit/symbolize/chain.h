/* chain.h - a known call chain for test_symbolize, compiled by
 * tests/CMakeLists.txt from chain.c at -O2 -g -fomit-frame-pointer whatever
 * the build type, as Debian builds code. */
#ifndef RC_TEST_SYMBOLIZE_CHAIN_H
#define RC_TEST_SYMBOLIZE_CHAIN_H

#include <stdint.h>

/* What one run of chain_outer() saw. */
typedef struct chain_result {
    /* return address of chain_leaf's call, inside chain_outer's code where
     * chain_middle was inlined: frames chain_middle (inlined) + chain_outer */
    uintptr_t ra_in_outer;
    int line_middle_call;     /* the line of chain_middle's call to chain_leaf */
    int line_outer_call;      /* the line of chain_outer's "call" to chain_middle */
} chain_result;

/* Not inlined; fills *r. */
void chain_outer(chain_result *r);

#endif
