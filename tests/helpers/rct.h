/* rct.h - small helpers shared by the recycle unit tests.
 *
 * Scaling: every test sizes its work with rct_scaled(n). The factor comes from
 * RC_TEST_SCALE (a positive number, e.g. 0.1 or 2) when it is set, otherwise
 * from the environment we detect: 1 natively, smaller under valgrind and the
 * sanitizers, so the same test stays within seconds everywhere.
 *
 * Randomness: rct_rng is a seeded xorshift generator. RC_TEST_SEED overrides the
 * default seed; tests print the seed they use so a failure can be replayed.
 *
 * Running: every test's main() ends with rct_run_tests (rct_run.h), which
 * honours RC_TEST_FILTER.
 *
 * Nothing here allocates from the heap under test. */
#ifndef RCT_H
#define RCT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <recycle/heap.h>

#include "rct_run.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- environment ------------------------------------------------------- */

/* 1 when running under valgrind (needs <valgrind/valgrind.h> at build time). */
int rct_on_valgrind(void);
/* 1 when built with ThreadSanitizer / AddressSanitizer. */
int rct_on_tsan(void);
int rct_on_asan(void);
/* The work factor described above (> 0). */
double rct_scale(void);
/* max(min_value, n * rct_scale()) */
size_t rct_scaled(size_t n, size_t min_value);

/* ---- random numbers ---------------------------------------------------- */

typedef struct rct_rng { uint64_t s; } rct_rng;

/* RC_TEST_SEED if set, else default_seed; printed on stderr when
 * RC_TEST_VERBOSE is set. */
uint64_t rct_seed(uint64_t default_seed);
void     rct_rng_init(rct_rng *r, uint64_t seed);
uint64_t rct_rng_next(rct_rng *r);
/* Uniform in [lo, hi] (inclusive). */
size_t   rct_rng_range(rct_rng *r, size_t lo, size_t hi);

/* ---- patterns ---------------------------------------------------------- */

/* Fill n bytes at p with a pattern derived from seed; rct_check returns the
 * offset of the first byte that differs, or SIZE_MAX if all match. */
void   rct_fill(void *p, size_t n, uint64_t seed);
size_t rct_check(const void *p, size_t n, uint64_t seed);
/* Offset of the first byte != b, or SIZE_MAX. */
size_t rct_check_byte(const void *p, size_t n, unsigned char b);

/* Deliberate out-of-bounds / after-free accesses (for the debug-mode tests):
 * not instrumented by AddressSanitizer and made addressable for memcheck. */
void          rct_poke(void *p, unsigned char v);
unsigned char rct_peek(const void *p);

/* ---- process ----------------------------------------------------------- */

/* Resident set size in bytes from /proc/self/statm (0 if unknown). */
size_t rct_rss(void);
/* Path of the running executable (valgrind-safe); "" if unknown. */
const char *rct_self_exe(void);
/* Run the current executable with the given argument and environment
 * changes (set_name=set_value; unset_name removed; either may be NULL) and
 * return its exit status (0..255), or -1 on failure to run / on a signal. */
int rct_run_self(const char *arg, const char *set_name, const char *set_value,
                 const char *unset_name);

/* ---- heap statistics --------------------------------------------------- */

/* rc_heap_stats_get with version and size filled in; returns its result. */
int rct_stats(rc_heap_stats *out);
/* Index of the size class that serves size (smallest class >= size), or
 * SIZE_MAX if size is above the largest class. */
size_t rct_class_index(size_t size);

#ifdef __cplusplus
}
#endif
#endif /* RCT_H */
