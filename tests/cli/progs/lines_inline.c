/* lines_inline: a helper inlined into its caller, for `recycle lines` (no
 * stdio). The pc of each malloc stands for two frames, grab's and outer's:
 *
 *   grab    its malloc line: 2 allocations, 64 + 32 bytes
 *   outer   the two lines that call grab: 64 bytes, then 32 */
#include <stdlib.h>

static void *volatile sink;

static inline __attribute__((always_inline)) void grab(size_t n) {
    sink = malloc(n);
}

__attribute__((noinline)) static void outer(void) {
    grab(64);
    free(sink);
    grab(32);
    free(sink);
}

int main(void) {
    outer();
    return 0;
}
