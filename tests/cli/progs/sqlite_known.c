/* sqlite_known: allocations of known shape for `recycle export --format
 * sqlite` and the example queries of docs/sqlite.md (no stdio, so that
 * libc allocates nothing on the program's behalf). In this order:
 *
 *   biggest       one block of 1,000,000 bytes, freed: the largest
 *   short_lived   100 blocks of 64 bytes, each freed at once
 *   sizes         10 blocks of 8 bytes, 4 of 100, 2 of 1000, freed
 *   grow          malloc(16) reallocated to 32, 64 and 4096, then freed:
 *                 a realloc chain of 4 allocations
 *   handoff       10 blocks of 200 bytes that the thread "sq-worker" frees
 *   worker_own    (in "sq-worker") 5 blocks of 50 bytes, freed
 *   long_lived    one block of 128 bytes kept 300 ms, then freed
 *   leaky         3 blocks of 1000 bytes never freed
 *
 * The steps are 5 ms apart: the capture's clock counts milliseconds, and
 * a block freed by one thread whose address another thread got within
 * the same millisecond cannot be put in order (replay.h, "Ties"). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define HANDOFF 10

static void *volatile sink;
static void *handed[HANDOFF];

__attribute__((noinline)) static void biggest(void) {
    sink = malloc(1000000);
    free(sink);
}

__attribute__((noinline)) static void short_lived(void) {
    for (int i = 0; i < 100; i++) {
        sink = malloc(64);
        free(sink);
    }
}

__attribute__((noinline)) static void sizes(void) {
    static const struct { size_t size; int count; } plan[] = {{8, 10}, {100, 4}, {1000, 2}};
    for (size_t k = 0; k < sizeof plan / sizeof plan[0]; k++)
        for (int i = 0; i < plan[k].count; i++) {
            sink = malloc(plan[k].size);
            free(sink);
        }
}

__attribute__((noinline)) static void grow(void) {
    char *p = malloc(16);
    static const size_t steps[] = {32, 64, 4096};
    for (size_t i = 0; p && i < sizeof steps / sizeof steps[0]; i++) {
        char *q = realloc(p, steps[i]);
        if (!q)
            break;
        p = q;
    }
    free(p);
}

__attribute__((noinline)) static void handoff(void) {
    for (int i = 0; i < HANDOFF; i++)
        handed[i] = malloc(200);
}

__attribute__((noinline)) static void worker_own(void) {
    for (int i = 0; i < 5; i++) {
        sink = malloc(50);
        free(sink);
    }
}

static void *worker(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "sq-worker");
    for (int i = 0; i < HANDOFF; i++)
        free(handed[i]);
    worker_own();
    return NULL;
}

static void pause_ms(long ms) {
    struct timespec ts = {0, ms * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

__attribute__((noinline)) static void long_lived(void) {
    sink = malloc(128);
    pause_ms(300);
    free(sink);
}

__attribute__((noinline)) static void leaky(void) {
    for (int i = 0; i < 3; i++)
        sink = malloc(1000);
    sink = NULL;
}

int main(void) {
    biggest();
    pause_ms(5);
    short_lived();
    pause_ms(5);
    sizes();
    pause_ms(5);
    grow();
    pause_ms(5);
    handoff();
    pause_ms(5);
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    pause_ms(5);
    long_lived();
    pause_ms(5);
    leaky();
    return 0;
}
