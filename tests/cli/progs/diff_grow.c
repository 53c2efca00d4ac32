/* diff_grow [N]: allocations that grow with N, for `recycle diff` (no
 * stdio, so libc allocates nothing on the program's behalf):
 *
 *   churn       N x malloc(100), each freed at once
 *   hoard       N x malloc(10), leaked (still reachable; N <= 64)
 *   steady      malloc(5000), freed: the peak, 5000 + 10 N, is here
 *   big_only    malloc(777), freed, when N > 5
 *   small_only  malloc(333), freed, when N <= 5 */
#include <stdlib.h>

static void *volatile sink;
static void *volatile keep[64];

__attribute__((noinline)) static void churn(int n) {
    for (int i = 0; i < n; i++) {
        sink = malloc(100);
        free(sink);
    }
}

__attribute__((noinline)) static void hoard(int n) {
    for (int i = 0; i < n && i < 64; i++)
        keep[i] = malloc(10);
}

__attribute__((noinline)) static void steady(void) {
    sink = malloc(5000);
    free(sink);
}

__attribute__((noinline)) static void big_only(void) {
    sink = malloc(777);
    free(sink);
}

__attribute__((noinline)) static void small_only(void) {
    sink = malloc(333);
    free(sink);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1;
    churn(n);
    hoard(n);
    steady();
    if (n > 5)
        big_only();
    else
        small_only();
    return 0;
}
