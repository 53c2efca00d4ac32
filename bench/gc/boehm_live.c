/* boehm_live.c - benchmark 2 with the Boehm-Demers-Weiser collector (Debian
 * libgc-dev): a full collection (GC_gcollect) of the live graph of
 * `gcbench live SHAPE N`: N nodes with two pointers each (and an id), held
 * from a root array of arrays of 1000; seq: node i points to i+1 and i+2
 * (mod N); rand: to two uniformly random nodes, from the PRNG of gcbench.c
 * and live.py (same seed, same order of draws).
 *
 *   boehm_live seq|rand N [COLLECTS [MARKERS]]
 *     COLLECTS  timed collections after one untimed one (default 3)
 *     MARKERS   marker threads: 1 (default; what a single-threaded program
 *               gets) or more (parallel marking, started explicitly)
 *
 * Checks: every node still has its id and links after the collections, also
 * after allocating N more objects (a node freed by mistake would be reused
 * and overwritten). Output: one "@ ..." line.
 */
#define _POSIX_C_SOURCE 200809L
#define GC_THREADS
#include <gc/gc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct bnode {
    struct bnode *a, *b;
    long id;
} bnode;

#define FANOUT 1000
#define GRAPH_SEED 20261206u

static uint64_t rng_state;

static size_t rng_below(size_t n) {
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (size_t)(((rng_state >> 32) * (uint64_t)n) >> 32);
}

static bnode ***root;   /* in the data segment: a GC root */

static bnode *node(long i) { return root[i / FANOUT][i % FANOUT]; }

/* set (check 0) or check the links */
static void links(long n, int rand, int check, const char *when) {
    rng_state = GRAPH_SEED + 1;
    for (long i = 0; i < n; i++) {
        bnode *x = node(i), *a, *b;
        if (rand) {
            a = node((long)rng_below((size_t)n));
            b = node((long)rng_below((size_t)n));
        } else {
            a = node((i + 1) % n);
            b = node((i + 2) % n);
        }
        if (!check) {
            x->a = a;
            x->b = b;
        } else if (!x || x->id != i || x->a != a || x->b != b) {
            fprintf(stderr, "boehm_live: CHECK FAILED: node %ld damaged %s\n", i, when);
            exit(1);
        }
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "seq") && strcmp(argv[1], "rand"))) {
        fprintf(stderr, "usage: boehm_live seq|rand N [COLLECTS [MARKERS]]\n");
        return 2;
    }
    int rand = !strcmp(argv[1], "rand");
    long n = atol(argv[2]);
    int collects = argc > 3 ? atoi(argv[3]) : 3;
    unsigned markers = argc > 4 ? (unsigned)atoi(argv[4]) : 1;
    if (n < 3 || collects < 1 || collects > 100) {
        fprintf(stderr, "boehm_live: N >= 3, 1 <= COLLECTS <= 100\n");
        return 2;
    }
    GC_set_markers_count(markers);
    GC_INIT();
    if (markers > 1)
        GC_start_mark_threads();

    uint64_t b0 = now_ns();
    long leaves = (n + FANOUT - 1) / FANOUT;
    root = GC_MALLOC((size_t)leaves * sizeof *root);
    if (!root)
        return 1;
    for (long i = 0; i < n; i++) {
        if (i % FANOUT == 0 && !(root[i / FANOUT] = GC_MALLOC(FANOUT * sizeof **root)))
            return 1;
        bnode *x = GC_MALLOC(sizeof *x);
        if (!x) {
            fprintf(stderr, "boehm_live: out of memory\n");
            return 1;
        }
        x->id = i;
        root[i / FANOUT][i % FANOUT] = x;
    }
    links(n, rand, 0, "");
    uint64_t b1 = now_ns();

    GC_gcollect();          /* untimed */
    double best = 1e99, sum = 0, t[100];
    for (int c = 0; c < collects; c++) {
        uint64_t t0 = now_ns();
        GC_gcollect();
        uint64_t t1 = now_ns();
        t[c] = (double)(t1 - t0) / 1e9;
        sum += t[c];
        if (t[c] < best)
            best = t[c];
    }
    qsort(t, (size_t)collects, sizeof(double), cmp_double);
    double med = t[collects / 2];
    links(n, rand, 1, "after the collections");
    for (long i = 0; i < n; i++) {          /* reuse anything wrongly freed */
        bnode *q = GC_MALLOC(sizeof *q);
        if (!q)
            return 1;
        q->id = -1;
    }
    links(n, rand, 1, "after allocating N more objects");
    printf("@ bench=live impl=boehm shape=%s markers=%u parallel=%d n=%ld build_s=%.6f "
           "collects=%d collect_s=%.6f med_s=%.6f mean_s=%.6f ns_per_obj=%.3f "
           "med_ns_per_obj=%.3f heap_mb=%.1f gc_no=%lu\n",
           argv[1], markers, GC_get_parallel(), n, (double)(b1 - b0) / 1e9, collects, best,
           med, sum / collects, best * 1e9 / (double)n, med * 1e9 / (double)n,
           (double)GC_get_heap_size() / 1048576.0, (unsigned long)GC_get_gc_no());
    return 0;
}
