/* test_timeit.c - recycle/timeit.h: autorange's counts and stopping rule
 * driven by an injected clock (exact), then by the real clock on a busy
 * function (only the rule is checked: the count chosen took at least
 * min_time, the step before it less; no time is asserted), the repeats'
 * best, mean and worst, the units and digits of python -m timeit for given
 * numbers, the result line, the unreliable-results warning, and bad
 * arguments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <recycle.h>
#include <recycle/timeit.h>

/* ---- a fake clock: every call of the timed function costs `cost` ---- */

typedef struct fake {
    double now;
    double cost;        /* seconds per call */
    double *costs;      /* or: the cost per call of each measurement in turn */
    size_t measurement, calls;
} fake;

static double fake_clock(void *ctx) {
    fake *f = ctx;
    return f->now;
}

static void fake_call(void *arg) {
    fake *f = arg;
    f->calls++;
    f->now += f->cost;
}

typedef struct steps {
    size_t n;
    size_t loops[64];
    double seconds[64];
} steps;

static void record_step(size_t loops, double seconds, void *arg) {
    steps *s = arg;
    if (s->n < 64) {
        s->loops[s->n] = loops;
        s->seconds[s->n] = seconds;
    }
    s->n++;
}

static void test_autorange_sequence(void **state) {
    (void)state;
    /* 2^-10 s per call: 200 calls take 0.195 s, 500 calls 0.488 s */
    fake f = {.cost = 1.0 / 1024};
    steps s = {0};
    rc_timeit_options o = {.clock = fake_clock, .clock_ctx = &f, .on_step = record_step, .step_arg = &s};
    size_t loops = 0;
    double secs = 0;
    assert_int_equal(rc_timeit_autorange(fake_call, &f, &o, &loops, &secs), 0);
    static const size_t want[] = {1, 2, 5, 10, 20, 50, 100, 200, 500};
    assert_int_equal(s.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.loops[i], want[i]);
        assert_true(s.seconds[i] == want[i] / 1024.0);
    }
    assert_int_equal(loops, 500);
    assert_true(secs == 500 / 1024.0);
    assert_int_equal(f.calls, 1 + 2 + 5 + 10 + 20 + 50 + 100 + 200 + 500);

    /* exactly at the target stops there (>=, as Python) */
    f = (fake){.cost = 0.1};
    s.n = 0;
    assert_int_equal(rc_timeit_autorange(fake_call, &f, &o, &loops, NULL), 0);
    assert_int_equal(loops, 2);

    /* a slow function: one call is enough */
    f = (fake){.cost = 3};
    s.n = 0;
    assert_int_equal(rc_timeit_autorange(fake_call, &f, &o, &loops, &secs), 0);
    assert_int_equal(loops, 1);
    assert_int_equal(s.n, 1);

    /* another target */
    f = (fake){.cost = 1.0 / 1024};
    o.min_time = 1.0;
    assert_int_equal(rc_timeit_autorange(fake_call, &f, &o, &loops, NULL), 0);
    assert_int_equal(loops, 2000);   /* 1000 calls: 0.977 s */
}

static void test_bad_arguments(void **state) {
    (void)state;
    fake f = {.cost = 1};
    rc_timeit_options o = {.clock = fake_clock, .clock_ctx = &f};
    size_t loops = 7;
    rc_timeit_result r = {.loops = 99};
    assert_int_equal(rc_timeit(NULL, &f, &o, &r), RC_EINVAL);
    assert_int_equal(rc_timeit(fake_call, &f, &o, NULL), RC_EINVAL);
    o.repeat = -1;
    assert_int_equal(rc_timeit(fake_call, &f, &o, &r), RC_EINVAL);
    o.repeat = 0;
    o.min_time = -1;
    assert_int_equal(rc_timeit(fake_call, &f, &o, &r), RC_EINVAL);
    o.min_time = NAN;
    assert_int_equal(rc_timeit_autorange(fake_call, &f, &o, &loops, NULL), RC_EINVAL);
    o.min_time = INFINITY;
    assert_int_equal(rc_timeit_autorange(fake_call, &f, &o, &loops, NULL), RC_EINVAL);
    assert_int_equal(rc_timeit_autorange(NULL, &f, NULL, &loops, NULL), RC_EINVAL);
    /* nothing was called, nothing written */
    assert_int_equal(f.calls, 0);
    assert_int_equal(loops, 7);
    assert_int_equal(r.loops, 99);
}

/* A clock that counts its readings and never advances. */
static double counting_clock(void *ctx) {
    (*(size_t *)ctx)++;
    return 0;
}

static void nothing(void *arg) {
    (void)arg;
}

static void test_given_loops(void **state) {
    (void)state;
    size_t reads = 0;
    rc_timeit_options o = {.clock = counting_clock, .clock_ctx = &reads, .loops = 3, .repeat = 4};
    rc_timeit_result r;
    assert_int_equal(rc_timeit(nothing, NULL, &o, &r), 0);
    assert_int_equal(r.loops, 3);       /* given: no autorange */
    assert_int_equal(r.repeat, 4);
    assert_int_equal(reads, 8);         /* two readings per measurement */
    assert_true(r.best_ns == 0 && r.mean_ns == 0 && r.worst_ns == 0);
    /* a time that took nothing warns of nothing */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(rc_timeit_print(&r, mem), 0);
    fclose(mem);
    assert_string_equal(text, "3 loops, best of 4: 0 nsec per loop\n");
    free(text);
}

/* Repeats: each measurement costs what costs[] says per call. */
static void var_call(void *arg) {
    fake *f = arg;
    f->calls++;
    f->now += f->costs[f->measurement];
}

static double var_clock(void *ctx) {
    fake *f = ctx;
    /* a measurement is two readings: advance after the second */
    static int second;
    double t = f->now;
    if (second)
        f->measurement++;
    second = !second;
    return t;
}

static void test_repeat_best_mean(void **state) {
    (void)state;
    /* multiples of 2^-20 s: the sums are exact */
    const double u = 1.0 / (1 << 20);
    double costs[] = {4 * u, 2 * u, 3 * u, 8 * u, 3 * u};
    fake f = {.costs = costs};
    rc_timeit_options o = {.clock = var_clock, .clock_ctx = &f, .loops = 1000};
    rc_timeit_result r;
    assert_int_equal(rc_timeit(var_call, &f, &o, &r), 0);
    assert_int_equal(r.loops, 1000);
    assert_int_equal(r.repeat, 5);
    assert_int_equal(f.calls, 5000);
    assert_true(r.best_ns == 2 * u * 1e9);
    assert_true(r.worst_ns == 8 * u * 1e9);
    double off = r.mean_ns - 4 * u * 1e9;
    assert_true(off < 1e-9 && off > -1e-9);
    char line[128];
    assert_int_equal(rc_timeit_format(&r, line, sizeof line), (int)strlen("1000 loops, best of 5: 1.91 usec per loop"));
    assert_string_equal(line, "1000 loops, best of 5: 1.91 usec per loop");

    /* the worst is 4x the best: the warning line follows */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    assert_int_equal(rc_timeit_print(&r, mem), 0);
    fclose(mem);
    assert_string_equal(text, "1000 loops, best of 5: 1.91 usec per loop\n"
                              "timeit: the results are likely unreliable. The worst time (7.63 usec) was "
                              "more than four times slower than the best time (1.91 usec).\n");
    free(text);
    r.worst_ns = r.best_ns * 4 - 1;   /* under 4x: no warning */
    mem = open_memstream(&text, &len);
    assert_int_equal(rc_timeit_print(&r, mem), 0);
    fclose(mem);
    assert_string_equal(text, "1000 loops, best of 5: 1.91 usec per loop\n");
    free(text);
    assert_int_equal(rc_timeit_print(NULL, stdout), RC_EINVAL);
}

/* ---- the real clock ---- */

static volatile uint64_t sink;

static void busy(void *arg) {
    size_t n = *(size_t *)arg;
    uint64_t x = sink;
    for (size_t i = 0; i < n; i++)
        x = x * 6364136223846793005u + 1442695040888963407u;
    sink = x;
}

static void test_autorange_real_clock(void **state) {
    (void)state;
    /* calibrate a call to roughly 1 ms, then let autorange choose: its
     * choice must satisfy its own rule on its own measurements */
    size_t n = 1000;
    struct timespec a, b;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &a);
        busy(&n);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double t = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
        if (t >= 1e-3 || n > ((size_t)1 << 40))
            break;
        n *= 2;
    }
    steps s = {0};
    rc_timeit_options o = {.on_step = record_step, .step_arg = &s};
    size_t loops = 0;
    double secs = 0;
    assert_int_equal(rc_timeit_autorange(busy, &n, &o, &loops, &secs), 0);
    assert_true(s.n >= 1 && s.n <= 64);
    assert_int_equal(s.loops[s.n - 1], loops);
    assert_true(secs >= 0.2);
    assert_true(s.seconds[s.n - 1] == secs);
    static const size_t mult[3] = {1, 2, 5};
    size_t decade = 1;
    for (size_t i = 0; i < s.n; i++) {
        assert_int_equal(s.loops[i], decade * mult[i % 3]);
        if (i % 3 == 2)
            decade *= 10;
        if (i + 1 < s.n)
            assert_true(s.seconds[i] < 0.2);
    }
    /* and a full run prints a python -m timeit line */
    rc_timeit_result r;
    o.on_step = NULL;
    o.repeat = 2;
    o.min_time = 0.01;
    assert_int_equal(rc_timeit(busy, &n, &o, &r), 0);
    assert_true(r.loops >= 1 && r.repeat == 2);
    assert_true(r.best_ns > 0 && r.best_ns <= r.mean_ns && r.mean_ns <= r.worst_ns);
    char line[128];
    assert_true(rc_timeit_format(&r, line, sizeof line) > 0);
    assert_non_null(strstr(line, " per loop"));
}

/* ---- formatting exact for given numbers ---- */

static void expect_time(double seconds, const char *want) {
    char buf[64];
    int n = rc_timeit_format_time(seconds, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_format_time(void **state) {
    (void)state;
    expect_time(1.52e-7, "152 nsec");
    expect_time(152.4e-9, "152 nsec");
    expect_time(1.5e-9, "1.5 nsec");
    expect_time(5e-10, "0.5 nsec");          /* below every unit: nsec */
    expect_time(0, "0 nsec");
    expect_time(999.96e-9, "1e+03 nsec");     /* as Python: the unit is chosen before rounding */
    expect_time(1e-6, "1 usec");
    expect_time(12.345e-6, "12.3 usec");
    expect_time(0.0123, "12.3 msec");
    expect_time(0.2, "200 msec");
    expect_time(1.0, "1 sec");
    expect_time(2.5, "2.5 sec");
    expect_time(1234.5, "1.23e+03 sec");
    /* truncation: the length needed is returned */
    char small[5];
    assert_int_equal(rc_timeit_format_time(1.52e-7, small, sizeof small), 8);
    assert_string_equal(small, "152 ");
    assert_int_equal(rc_timeit_format_time(1.52e-7, NULL, 0), 8);
    assert_int_equal(rc_timeit_format_time(1.52e-7, NULL, 4), RC_EINVAL);
}

static void test_format_line(void **state) {
    (void)state;
    char buf[128];
    rc_timeit_result r = {.loops = 2000000, .repeat = 5, .best_ns = 152.3, .mean_ns = 160, .worst_ns = 170};
    rc_timeit_format(&r, buf, sizeof buf);
    assert_string_equal(buf, "2000000 loops, best of 5: 152 nsec per loop");
    r = (rc_timeit_result){.loops = 1, .repeat = 3, .best_ns = 2.5e9, .mean_ns = 2.6e9, .worst_ns = 2.7e9};
    rc_timeit_format(&r, buf, sizeof buf);
    assert_string_equal(buf, "1 loop, best of 3: 2.5 sec per loop");
    r = (rc_timeit_result){.loops = 50, .repeat = 5, .best_ns = 4.56e6, .mean_ns = 5e6, .worst_ns = 6e6};
    rc_timeit_format(&r, buf, sizeof buf);
    assert_string_equal(buf, "50 loops, best of 5: 4.56 msec per loop");
    assert_int_equal(rc_timeit_format(NULL, buf, sizeof buf), RC_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_autorange_sequence),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_given_loops),
        cmocka_unit_test(test_repeat_best_mean),
        cmocka_unit_test(test_autorange_real_clock),
        cmocka_unit_test(test_format_time),
        cmocka_unit_test(test_format_line),
    };
    return rct_run_tests(tests, NULL, NULL);
}
