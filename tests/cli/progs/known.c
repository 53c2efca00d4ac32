/* known [STATUS]: allocations whose report is known exactly (no stdio, so
 * libc allocates nothing on its behalf). Each size is used at one line
 * only, so a test can find a site by its bytes:
 *
 *   77777   3 times from one line, each freed at once: 3 temporary
 *   1000 -> 2000 -> 3000   malloc, realloc, realloc, free: 3 temporary
 *   33330   calloc(10, 3333), freed
 *   55555   leaked, no pointer left to it: definitely lost
 *   44444   leaked, a global points to it: still reachable
 *
 * and exits with STATUS (default 0). */
#include <stdlib.h>
#include <string.h>

static void *volatile sink;
static void *volatile keep;

__attribute__((noinline)) static void lose(void) {
    sink = malloc(55555);
    sink = NULL;
}

/* Overwrites the stack below the caller, where pointers of finished calls
 * may linger. */
__attribute__((noinline)) static void scrub(void) {
    volatile char junk[16384];
    memset((char *)junk, 0, sizeof junk);
}

int main(int argc, char **argv) {
    for (int i = 0; i < 3; i++) {
        sink = malloc(77777);
        free(sink);
    }
    char *p = malloc(1000);
    sink = p;
    p = realloc(p, 2000);
    sink = p;
    p = realloc(p, 3000);
    sink = p;
    free(p);
    sink = calloc(10, 3333);
    free(sink);
    lose();
    keep = malloc(44444);
    sink = NULL;
    scrub();
    return argc > 1 ? atoi(argv[1]) : 0;
}
