/* timeit.c - python -m timeit for C (recycle/timeit.h).
 *
 * The same three steps as Python's timeit.main: autorange picks the call
 * count (1, 2, 5 times the powers of ten, until a measurement reaches
 * min_time), repeat takes fresh measurements of that count, and the result
 * is the fastest per call, written in the largest unit it reaches with
 * three significant digits. The clock is a parameter so that tests can
 * drive autorange with a clock whose readings they choose. Nothing here
 * allocates or keeps state between calls. */
#include "recycle/timeit.h"
#include "heap/os/os.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define DEFAULT_REPEAT 5
#define DEFAULT_MIN_TIME 0.2

static double monotonic_seconds(void *ctx) {
    (void)ctx;
    return (double)rci_os_clock_ns() * 1e-9;
}

/* loops calls of fn, timed by clock (Timer.timeit). */
static double measure(rc_timeit_fn fn, void *arg, size_t loops, rc_timeit_clock clock, void *ctx) {
    double t0 = clock(ctx);
    for (size_t i = 0; i < loops; i++)
        fn(arg);
    return clock(ctx) - t0;
}

static int check_options(const rc_timeit_options *o) {
    if (o->repeat < 0 || !isfinite(o->min_time) || o->min_time < 0)
        return RC_EINVAL;
    return 0;
}

int rc_timeit_autorange(rc_timeit_fn fn, void *arg, const rc_timeit_options *options, size_t *loops,
                        double *seconds) {
    rc_timeit_options o = options ? *options : (rc_timeit_options){0};
    if (!fn || check_options(&o) != 0)
        return RC_EINVAL;
    double target = o.min_time > 0 ? o.min_time : DEFAULT_MIN_TIME;
    rc_timeit_clock clock = o.clock ? o.clock : monotonic_seconds;
    static const size_t steps[3] = {1, 2, 5};
    for (size_t i = 1;; i *= 10) {
        for (size_t j = 0; j < 3; j++) {
            size_t n = i * steps[j];
            double t = measure(fn, arg, n, clock, o.clock_ctx);
            if (o.on_step)
                o.on_step(n, t, o.step_arg);
            if (t >= target) {
                if (loops)
                    *loops = n;
                if (seconds)
                    *seconds = t;
                return 0;
            }
        }
        if (i > SIZE_MAX / 50)   /* the next decade's 5 * 10i would not fit */
            return RC_EOVERFLOW;
    }
}

int rc_timeit(rc_timeit_fn fn, void *arg, const rc_timeit_options *options, rc_timeit_result *out) {
    rc_timeit_options o = options ? *options : (rc_timeit_options){0};
    if (!fn || !out || check_options(&o) != 0)
        return RC_EINVAL;
    size_t loops = o.loops;
    if (loops == 0) {
        int r = rc_timeit_autorange(fn, arg, &o, &loops, NULL);
        if (r != 0)
            return r;
    }
    int repeat = o.repeat > 0 ? o.repeat : DEFAULT_REPEAT;
    rc_timeit_clock clock = o.clock ? o.clock : monotonic_seconds;
    double best = INFINITY, worst = 0, sum = 0;
    for (int k = 0; k < repeat; k++) {
        double t = measure(fn, arg, loops, clock, o.clock_ctx);
        if (t < best)
            best = t;
        if (t > worst)
            worst = t;
        sum += t;
    }
    double per = 1e9 / (double)loops;
    *out = (rc_timeit_result){
        .loops = loops,
        .repeat = repeat,
        .best_ns = best * per,
        .mean_ns = sum / repeat * per,
        .worst_ns = worst * per,
    };
    return 0;
}

/* timeit.main's format_time: the largest unit that dt reaches (nsec when
 * it reaches none), "%.3g". */
int rc_timeit_format_time(double seconds, char *buf, size_t len) {
    if (!buf && len > 0)
        return RC_EINVAL;
    static const struct { const char *name; double scale; } units[] = {
        {"sec", 1.0}, {"msec", 1e-3}, {"usec", 1e-6}, {"nsec", 1e-9},
    };
    size_t u = 0;
    while (u + 1 < sizeof units / sizeof units[0] && !(seconds >= units[u].scale))
        u++;
    return snprintf(buf, len, "%.3g %s", seconds / units[u].scale, units[u].name);
}

int rc_timeit_format(const rc_timeit_result *r, char *buf, size_t len) {
    if (!r || (!buf && len > 0))
        return RC_EINVAL;
    char best[48];
    rc_timeit_format_time(r->best_ns * 1e-9, best, sizeof best);
    return snprintf(buf, len, "%zu loop%s, best of %d: %s per loop", r->loops, r->loops != 1 ? "s" : "",
                    r->repeat, best);
}

int rc_timeit_print(const rc_timeit_result *r, FILE *out) {
    if (!r)
        return RC_EINVAL;
    if (!out)
        out = stdout;
    char line[160];
    rc_timeit_format(r, line, sizeof line);
    int bad = fprintf(out, "%s\n", line) < 0;
    if (r->best_ns > 0 && r->worst_ns >= r->best_ns * 4) {
        char worst[48], best[48];
        rc_timeit_format_time(r->worst_ns * 1e-9, worst, sizeof worst);
        rc_timeit_format_time(r->best_ns * 1e-9, best, sizeof best);
        bad |= fprintf(out,
                       "timeit: the results are likely unreliable. The worst time (%s) was more "
                       "than four times slower than the best time (%s).\n",
                       worst, best) < 0;
    }
    bad |= fflush(out) != 0;
    return bad ? RC_EIO : 0;
}
