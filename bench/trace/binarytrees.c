/* binarytrees.c - binary-trees on rc_malloc/rc_free, untraced or traced.
 *
 *   binarytrees time NFRAMES DEPTH   NFRAMES 0: untraced; else rc_trace_start(NFRAMES)
 *   binarytrees mem NFRAMES DEPTH    one live tree of DEPTH (2^(DEPTH+1)-1 traces):
 *                                    tracer memory per trace, snapshot and
 *                                    statistics times by each key
 *
 * Nodes are what a user writes: a struct with two children and a payload.
 * Output: the Benchmarks Game's lines, then "@ key=value ..." lines. */
#define _POSIX_C_SOURCE 200809L
#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void die(const char *what) {
    fprintf(stderr, "binarytrees: %s\n", what);
    exit(1);
}

static tnode *make(int d) {
    tnode *n = rc_malloc(sizeof *n);
    if (!n)
        die("out of memory");
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
    rc_free(n);
}

static void start(int nframes) {
    if (nframes > 0 && rc_trace_start(nframes) != 0)
        die("rc_trace_start failed");
}

static int run_time(int nframes, int n) {
    int min_depth = 4, max_depth = n > min_depth + 2 ? n : min_depth + 2;
    double t0 = now();
    start(nframes);
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
    rc_trace_stop();
    double t1 = now();
    printf("@ frames=%d depth=%d time_s=%.6f\n", nframes, n, t1 - t0);
    return 0;
}

static int run_mem(int nframes, int depth) {
    start(nframes > 0 ? nframes : 1);
    tnode *t = make(depth);
    rc_snapshot *s = NULL;
    double t0 = now();
    s = rc_trace_take_snapshot();
    double t1 = now();
    if (!s)
        die("rc_trace_take_snapshot failed");
    size_t ntr = rc_snapshot_trace_count(s);
    size_t mem = rc_trace_get_tracemalloc_memory();
    printf("@ frames=%d traces=%zu tracer_bytes=%zu bytes_per_trace=%.1f snapshot_s=%.6f\n", nframes, ntr,
           mem, (double)mem / (double)ntr, t1 - t0);
    static const struct { int key; const char *name; } keys[] = {
        {RC_BY_FILENAME, "filename"}, {RC_BY_LINENO, "lineno"}, {RC_BY_TRACEBACK, "traceback"}};
    for (size_t k = 0; k < 3; k++) {
        for (int pass = 0; pass < 2; pass++) {   /* pass 0 symbolizes, pass 1 is warm */
            double a = now();
            rc_stats *st = rc_snapshot_statistics(s, keys[k].key, 0);
            double b = now();
            if (!st)
                die("rc_snapshot_statistics failed");
            printf("@ stats_key=%s pass=%s traces=%zu stats_s=%.6f groups=%zu\n", keys[k].name,
                   pass ? "warm" : "cold", ntr, b - a, rc_stats_len(st));
            rc_stats_free(st);
        }
    }
    rc_snapshot_free(s);
    release(t);
    rc_trace_stop();
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4)
        die("usage: binarytrees time|mem NFRAMES DEPTH");
    int nframes = atoi(argv[2]), depth = atoi(argv[3]);
    if (!strcmp(argv[1], "time"))
        return run_time(nframes, depth);
    if (!strcmp(argv[1], "mem"))
        return run_mem(nframes, depth);
    die("unknown mode (time, mem)");
}
