/* recycle/timeit.h - python -m timeit for C: how long one call of a
 * function takes, measured the way Python's timeit module measures it.
 *
 * rc_timeit calls fn(arg) `loops` times in a row and reads a monotonic clock
 * before and after: one measurement. With loops left at 0 it first finds
 * the count as Timer.autorange does: 1, 2, 5, 10, 20, 50, ... calls until one
 * measurement takes at least 0.2 s (those trial measurements only choose
 * the count). It then takes `repeat` fresh measurements (5 by default) and
 * reports the fastest, the mean and the slowest per call. rc_timeit_print
 * writes the line python -m timeit prints:
 *
 *     2000000 loops, best of 5: 152 nsec per loop
 *
 * The time includes the indirect call and the loop (as Python's includes
 * its loop). Nothing is paused while measuring: a function that allocates
 * recycle objects may run the cycle collector (Python's timeit disables its
 * gc; call rc_gc_disable around rc_timeit for the same). Measurements are
 * made on the calling thread; the functions keep no state and may run on
 * several threads at once. Part of the trace layer (it needs only a clock).
 * docs/profile.md describes it with @profile. */
#ifndef RECYCLE_TIMEIT_H
#define RECYCLE_TIMEIT_H

#include <stddef.h>
#include <stdio.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The statement to time: called with the arg given to rc_timeit. */
typedef void (*rc_timeit_fn)(void *arg);

/* A clock in seconds (monotonic). rc_timeit's default reads
 * CLOCK_MONOTONIC; tests inject their own. */
typedef double (*rc_timeit_clock)(void *ctx);

/* Told of each measurement autorange makes: the call count and the
 * seconds it took (Timer.autorange's callback). */
typedef void (*rc_timeit_step)(size_t loops, double seconds, void *arg);

/* Options; zero (or a NULL pointer) for each field's default. */
typedef struct rc_timeit_options {
    size_t loops;              /* calls per measurement; 0: autorange */
    int repeat;                /* measurements; 0: 5 (python -m timeit's default) */
    double min_time;           /* autorange's target in seconds; 0: 0.2 */
    rc_timeit_clock clock;     /* NULL: CLOCK_MONOTONIC */
    void *clock_ctx;
    rc_timeit_step on_step;    /* NULL: none */
    void *step_arg;
} rc_timeit_options;

/* What rc_timeit measured. Times are per call, in nanoseconds. */
typedef struct rc_timeit_result {
    size_t loops;              /* calls per measurement */
    int repeat;                /* measurements taken */
    double best_ns;            /* the fastest measurement / loops */
    double mean_ns;            /* the mean of the measurements / loops */
    double worst_ns;           /* the slowest measurement / loops */
} rc_timeit_result;

/* Time fn(arg) as above and fill *out. 0; RC_EINVAL for a NULL fn or out,
 * a negative repeat or min_time, or a non-finite min_time; RC_EOVERFLOW when
 * autorange would need more than SIZE_MAX calls (a clock that does not
 * advance). *out is left as it was on failure. */
RC_API int rc_timeit(rc_timeit_fn fn, void *arg, const rc_timeit_options *options,
                     rc_timeit_result *out);

/* Timer.autorange alone: the first count of 1, 2, 5, 10, 20, 50, ... whose
 * measurement takes at least min_time seconds (0: 0.2) into *loops, and
 * that measurement into *seconds (either pointer may be NULL). The clock
 * and on_step of options are used; its other fields are ignored. 0,
 * RC_EINVAL or RC_EOVERFLOW as rc_timeit. */
RC_API int rc_timeit_autorange(rc_timeit_fn fn, void *arg, const rc_timeit_options *options,
                               size_t *loops, double *seconds);

/* A time in seconds as python -m timeit writes it: three significant
 * digits ("%.3g") in the largest unit it reaches of sec, msec, usec and
 * nsec (nsec below a nanosecond): 1.52e-7 -> "152 nsec", 0.0123 -> "12.3 msec".
 * Writes at most len bytes, NUL included; returns the length the whole
 * text needs (as snprintf), or RC_EINVAL for a NULL buf with len > 0. */
RC_API int rc_timeit_format_time(double seconds, char *buf, size_t len);

/* r as python -m timeit's result line, without a newline:
 * "2000000 loops, best of 5: 152 nsec per loop" ("1 loop" for one call).
 * Same returns as rc_timeit_format_time (RC_EINVAL for a NULL r). */
RC_API int rc_timeit_format(const rc_timeit_result *r, char *buf, size_t len);

/* Write rc_timeit_format's line and a newline to out (stdout if NULL); when
 * the slowest measurement took four times the fastest or more (and the
 * fastest took any time at all), a second
 * line warns as Python does: "timeit: the results are likely unreliable.
 * The worst time (...) was more than four times slower than the best time
 * (...).". 0, RC_EINVAL for a NULL r, RC_EIO when writing fails. */
RC_API int rc_timeit_print(const rc_timeit_result *r, FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* RECYCLE_TIMEIT_H */
