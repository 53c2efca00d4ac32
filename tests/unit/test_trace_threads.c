/* rc-test: whitebox threads */
/* test_trace_threads.c - four threads allocate, reallocate and free while
 * traced: no trace is lost, the totals are exact, and blocks freed by a
 * thread other than their allocator's lose their trace too. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"
#include "trace/tracer.h"

#define NTHREADS 4

typedef struct worker {
    pthread_t thread;
    size_t n;              /* operations */
    void **kept;           /* blocks left allocated, for the main thread to free */
    size_t nkept;
    size_t kept_bytes;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    for (size_t i = 0; i < w->n; i++) {
        size_t size = (i * 7 + 1) % 300 + 1;
        void *p = rc_malloc(size);
        assert_non_null(p);
        if (i % 3 == 0) {
            p = rc_realloc(p, size + 100);
            assert_non_null(p);
            size += 100;
        }
        if (i % 4 == 0) {
            w->kept[w->nkept++] = p;
            w->kept_bytes += size;
        } else {
            rc_free(p);
        }
    }
    return NULL;
}

static size_t ntraces(void) {
    rctr_lock();
    size_t n = rctr_trace_count();
    rctr_unlock();
    return n;
}

static void test_four_threads_exact(void **state) {
    (void)state;
    size_t n = rct_scaled(20000, 500);
    worker w[NTHREADS];
    assert_int_equal(rc_trace_start(10), 0);
    for (int t = 0; t < NTHREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].n = n;
        w[t].kept = calloc(n, sizeof(void *));
        assert_non_null(w[t].kept);
        assert_int_equal(pthread_create(&w[t].thread, NULL, work, &w[t]), 0);
    }
    size_t bytes = 0, blocks = 0;
    for (int t = 0; t < NTHREADS; t++) {
        assert_int_equal(pthread_join(w[t].thread, NULL), 0);
        bytes += w[t].kept_bytes;
        blocks += w[t].nkept;
    }
    size_t cur, peak;
    rc_trace_get_traced_memory(&cur, &peak);
    assert_int_equal(cur, bytes);
    assert_true(peak >= cur);
    assert_int_equal(ntraces(), blocks);
    /* freed by another thread than the one that allocated them */
    for (int t = 0; t < NTHREADS; t++) {
        for (size_t i = 0; i < w[t].nkept; i++)
            rc_free(w[t].kept[i]);
        free(w[t].kept);
    }
    rc_trace_get_traced_memory(&cur, NULL);
    assert_int_equal(cur, 0);
    assert_int_equal(ntraces(), 0);
    rc_trace_stop();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_threads_exact),
    };
    return rct_run_tests(tests, NULL, NULL);
}
