/* plot_spikes: a heap that spikes once a millisecond for 1.2 s, for
 * `recycle plot`'s columns: the run outgrows the first 800 columns of a
 * millisecond, so they merge, and each merged column holds spikes of
 * different heights with the heap back at zero between them. The highest
 * spike, MAX_SIZE bytes, must stay the line's highest point.
 *
 *   spike i: malloc(BASE + ((i * 7919) % 1000) * STEP), freed at once,
 *            then a millisecond's sleep
 *
 * No stdio and no thread, so libc allocates nothing else. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#define SPIKES 1200
#define BASE 100000
#define STEP 100
/* MAX_SIZE = BASE + 999 * STEP = 199,900 bytes: 7919 is prime to 1000, so
 * some i below 1000 gives 999 */

static void *volatile sink;

int main(void) {
    for (int i = 0; i < SPIKES; i++) {
        sink = malloc(BASE + (size_t)((i * 7919) % 1000) * STEP);
        free(sink);
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    return 0;
}
