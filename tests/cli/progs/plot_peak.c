/* plot_peak: a heap with one known peak, for `recycle plot` on a real
 * capture. No stdio, so libc allocates next to nothing on its behalf.
 *
 *   0-100 ms     a block of PEAK_SIZE bytes, touched so the RSS grows too
 *   100 ms       freed; then SMALL_COUNT blocks of SMALL_SIZE, freed at
 *                exit
 *
 * The peak is therefore PEAK_SIZE bytes, in the site of the malloc in
 * hold_peak. A thread started first (and joined) gets the run the
 * preload's writer thread, which samples the RSS every 10 ms: a program
 * that never starts one is sampled only while it allocates. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEAK_SIZE 8000000
#define SMALL_COUNT 100
#define SMALL_SIZE 1000

static void *volatile sink;

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

__attribute__((noinline)) static void hold_peak(void) {
    char *p = malloc(PEAK_SIZE);
    if (!p)
        exit(1);
    memset(p, 1, PEAK_SIZE);
    sink = p;
    pause_ms(100);
    free(p);
}

static void *nothing(void *arg) {
    return arg;
}

int main(void) {
    static void *small[SMALL_COUNT];
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    hold_peak();
    for (int i = 0; i < SMALL_COUNT; i++)
        small[i] = malloc(SMALL_SIZE);
    pause_ms(50);
    for (int i = 0; i < SMALL_COUNT; i++)
        free(small[i]);
    return 0;
}
