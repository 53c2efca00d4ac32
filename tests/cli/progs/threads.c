/* threads: 4 threads allocate 1000 blocks of 48 bytes each from one line;
 * the main thread frees them all after joining them. */
#include <pthread.h>
#include <stdlib.h>

#define THREADS 4
#define BLOCKS 1000

static void *blocks[THREADS][BLOCKS];

static void *work(void *arg) {
    void **mine = arg;
    for (int i = 0; i < BLOCKS; i++)
        mine[i] = malloc(48);
    return NULL;
}

int main(void) {
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, work, blocks[i]) != 0)
            return 1;
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++)
        for (int j = 0; j < BLOCKS; j++)
            free(blocks[i][j]);
    return 0;
}
