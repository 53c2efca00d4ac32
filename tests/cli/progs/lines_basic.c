/* lines_basic: allocations whose `recycle lines` listing is known exactly
 * (no stdio, so libc allocates nothing on the program's behalf).
 *
 *   build    3 x malloc(100) on one line, freed; a helper's calloc(2, 25)
 *            twice, from two lines, one block leaked; recurse(2) (3 x 10 B)
 *   recurse  malloc(10) at each level; its recursive call must get none
 *   main     build(), recurse(1) (2 x 10 B), malloc(7) freed */
#include <stdlib.h>

static void *volatile sink;
static void *volatile keep;

__attribute__((noinline)) static void *fill(void) {
    return calloc(2, 25);
}

__attribute__((noinline)) static void recurse(int depth) {
    void *p = malloc(10);
    sink = p;
    if (depth > 0)
        recurse(depth - 1);
    free(p);
}

__attribute__((noinline)) static void build(void) {
    void *volatile blocks[3];   /* volatile: -O1 would drop malloc + free */
    for (int i = 0; i < 3; i++)
        blocks[i] = malloc(100);
    for (int i = 0; i < 3; i++)
        free(blocks[i]);
    keep = fill();
    free(fill());

    recurse(2);
}

int main(void) {
    build();
    recurse(1);
    sink = malloc(7);
    free(sink);
    return 0;
}
