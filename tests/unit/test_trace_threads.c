/* rc-test: whitebox threads */
/* test_trace_threads.c - four threads allocate, reallocate and free while
 * traced: no trace is lost, the totals are exact, and blocks freed by a
 * thread other than their allocator's lose their trace too. And a process
 * that forks while other threads allocate under tracing: the child traces
 * on (no lock left taken by a thread that does not exist in it). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
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

static atomic_int stop_churn;

static void *churn(void *arg) {
    (void)arg;
    while (!atomic_load(&stop_churn)) {
        void *p = rc_malloc(40);
        assert_non_null(p);
        rc_free(p);
    }
    return NULL;
}

/* In the child: traced allocations work and count, then _exit with 0; any
 * hang is caught by the alarm (the child dies of SIGALRM). */
static void child_traces(void) {
    alarm(10);
    size_t before, after;
    rc_trace_get_traced_memory(&before, NULL);
    void *p = rc_malloc(1000);
    rc_trace_get_traced_memory(&after, NULL);
    _exit(p && after == before + 1000 ? 0 : 3);
}

static void test_fork_while_tracing(void **state) {
    (void)state;
    /* valgrind runs one thread at a time: the two churning threads take
     * nearly every slice and the forks crawl (minutes); the normal,
     * sanitizer and TSan builds run it */
    if (rct_on_valgrind())
        skip();
    assert_int_equal(rc_trace_start(8), 0);
    atomic_store(&stop_churn, 0);
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_create(&th[t], NULL, churn, NULL), 0);
    int forks = (int)rct_scaled(200, 20);
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child_traces();
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            print_error("child %d: %s %d\n", i, WIFEXITED(status) ? "exit" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    atomic_store(&stop_churn, 1);
    for (int t = 0; t < 2; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    rc_trace_stop();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_threads_exact),
        cmocka_unit_test(test_fork_while_tracing),
    };
    return rct_run_tests(tests, NULL, NULL);
}
