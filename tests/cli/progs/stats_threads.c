/* stats_threads: two named threads that allocate known counts of known
 * sizes (no stdio, so libc allocates nothing on their behalf), for
 * `recycle stats` on a real capture:
 *
 *   "stats-a"   1000 x malloc(3000), each freed at once
 *   "stats-b"   300 x malloc(40000); frees 200, keeps 100 (still
 *               reachable at exit: 4,000,000 bytes)
 *
 * The main thread only starts and joins them. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>

#define A_COUNT 1000
#define A_SIZE 3000
#define B_COUNT 300
#define B_FREED 200
#define B_SIZE 40000

static void *volatile sink;
static void *kept[B_COUNT];

static void *thread_a(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "stats-a");
    for (int i = 0; i < A_COUNT; i++) {
        sink = malloc(A_SIZE);
        free(sink);
    }
    return NULL;
}

static void *thread_b(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "stats-b");
    for (int i = 0; i < B_COUNT; i++)
        kept[i] = malloc(B_SIZE);
    for (int i = 0; i < B_FREED; i++) {
        free(kept[i]);
        kept[i] = NULL;
    }
    return NULL;
}

int main(void) {
    pthread_t a, b;
    if (pthread_create(&a, NULL, thread_a, NULL) != 0)
        return 1;
    pthread_join(a, NULL);
    if (pthread_create(&b, NULL, thread_b, NULL) != 0)
        return 1;
    pthread_join(b, NULL);
    return 0;
}
