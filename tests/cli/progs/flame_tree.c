/* flame_tree: a call tree of known shape for `recycle flamegraph` (no
 * stdio, so libc allocates nothing on its behalf):
 *
 *   big     1,000,000 bytes in one allocation, freed
 *   deep    calls itself 20 times, then allocates 4096 bytes, leaked
 *   tiny    100 allocations of 1 byte, freed: 100 bytes, under a thousandth
 *           of the total, so its box (and main's at the line calling it)
 *           is folded into its caller's
 *
 * Total 1,004,196 bytes in 102 allocations. */
#include <stdlib.h>

static void *volatile sink;
static void *volatile keep;

__attribute__((noinline)) static void big(void) {
    sink = malloc(1000000);
    free(sink);
}

__attribute__((noinline)) static void deep(int n) {
    if (n > 0) {
        deep(n - 1);
        __asm__ volatile("" ::: "memory");   /* not a tail call */
        return;
    }
    keep = malloc(4096);
}

__attribute__((noinline)) static void tiny(void) {
    for (int i = 0; i < 100; i++) {
        sink = malloc(1);
        free(sink);
    }
}

int main(void) {
    big();
    deep(20);
    tiny();
    return 0;
}
