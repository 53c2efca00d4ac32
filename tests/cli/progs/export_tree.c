/* export_tree: known stacks for `recycle export` (no stdio).
 *
 *   main -> left -> leaf      1000 bytes freed, then 2000 bytes leaked
 *   main -> right -> leaf     3000 bytes, freed
 *   main -> right (inlined grab)   400 bytes, freed
 * The peak, 5000 bytes, is with left's 2000 and right's 3000 live. */
#include <stdlib.h>

static void *volatile keep[4];

__attribute__((noinline)) static void *leaf(size_t n) {
    void *p = malloc(n);
    __asm__ volatile("" ::: "memory");
    return p;
}

static inline __attribute__((always_inline)) void grab(size_t n) {
    keep[3] = malloc(n);
}

__attribute__((noinline)) static void left(void) {
    keep[0] = leaf(1000);
    free(keep[0]);
    keep[0] = leaf(2000);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void right(void) {
    keep[1] = leaf(3000);
    free(keep[1]);
    grab(400);
    free(keep[3]);
    __asm__ volatile("" ::: "memory");
}

int main(void) {
    left();
    right();
    return 0;
}
