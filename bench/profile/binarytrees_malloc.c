/* binarytrees_malloc.c - the Benchmarks Game's binary-trees on plain
 * malloc/free: the allocation-heavy program the profilers are compared on
 * (`recycle run`, heaptrack, valgrind massif), unmodified, as a user writes
 * it: a node with two children and a payload.
 *
 *   binarytrees_malloc DEPTH
 *
 * Output: the Benchmarks Game's lines, then "@ depth=... time_s=...". */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct tnode {
    struct tnode *left, *right;
    long payload;
} tnode;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static tnode *make(int d) {
    tnode *n = malloc(sizeof *n);
    if (!n) {
        fputs("binarytrees_malloc: out of memory\n", stderr);
        exit(1);
    }
    n->payload = d;
    if (d > 0) {
        n->left = make(d - 1);
        n->right = make(d - 1);
    } else {
        n->left = n->right = NULL;
    }
    return n;
}

static long check(const tnode *n) {
    return n->left ? 1 + check(n->left) + check(n->right) : 1;
}

static void release(tnode *n) {
    if (n->left) {
        release(n->left);
        release(n->right);
    }
    free(n);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 16;
    int min_depth = 4, max_depth = n > min_depth + 2 ? n : min_depth + 2;
    double t0 = now();
    tnode *t = make(max_depth + 1);
    printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, check(t));
    release(t);
    tnode *long_lived = make(max_depth);
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iterations = 1L << (max_depth - d + min_depth), sum = 0;
        for (long i = 0; i < iterations; i++) {
            t = make(d);
            sum += check(t);
            release(t);
        }
        printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, sum);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check(long_lived));
    release(long_lived);
    printf("@ depth=%d time_s=%.6f\n", n, now() - t0);
    return 0;
}
