/* boehm_live.c - benchmark 2 with the Boehm-Demers-Weiser collector (Debian
 * libgc-dev): a full collection (GC_gcollect) of a live heap of N small
 * nodes, each pointing to a boxed int, reachable from one root array (the
 * shape of `gcbench live N`: a list of N containers each holding an int).
 *
 *   boehm_live N [COLLECTS [MARKERS]]
 *     COLLECTS  timed collections after one untimed one (default 3)
 *     MARKERS   marker threads: 1 (default; what a single-threaded program
 *               gets) or more (parallel marking, started explicitly)
 *
 * Checks: every node still holds its value after the collections, also after
 * allocating N more objects (a node freed by mistake would be reused and
 * overwritten). Output: one "@ ..." line.
 */
#define _POSIX_C_SOURCE 200809L
#define GC_THREADS
#include <gc/gc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct bnode {
    int64_t *other;     /* a boxed int: GC_MALLOC_ATOMIC, not scanned */
} bnode;

static bnode **root;    /* in the data segment: a GC root */

static void check(long n, const char *when) {
    for (long i = 0; i < n; i++)
        if (!root[i] || !root[i]->other || *root[i]->other != 1000 + i) {
            fprintf(stderr, "boehm_live: CHECK FAILED: node %ld damaged %s\n", i, when);
            exit(1);
        }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: boehm_live N [COLLECTS [MARKERS]]\n");
        return 2;
    }
    long n = atol(argv[1]);
    int collects = argc > 2 ? atoi(argv[2]) : 3;
    unsigned markers = argc > 3 ? (unsigned)atoi(argv[3]) : 1;
    GC_set_markers_count(markers);
    GC_INIT();
    if (markers > 1)
        GC_start_mark_threads();

    uint64_t b0 = now_ns();
    root = GC_MALLOC((size_t)n * sizeof *root);
    if (!root)
        return 1;
    for (long i = 0; i < n; i++) {
        bnode *x = GC_MALLOC(sizeof *x);
        int64_t *box = GC_MALLOC_ATOMIC(sizeof *box);
        if (!x || !box) {
            fprintf(stderr, "boehm_live: out of memory\n");
            return 1;
        }
        *box = 1000 + i;
        x->other = box;
        root[i] = x;
    }
    uint64_t b1 = now_ns();

    GC_gcollect();          /* untimed */
    double best = 1e99, sum = 0;
    for (int c = 0; c < collects; c++) {
        uint64_t t0 = now_ns();
        GC_gcollect();
        uint64_t t1 = now_ns();
        double s = (double)(t1 - t0) / 1e9;
        sum += s;
        if (s < best)
            best = s;
    }
    check(n, "after the collections");
    for (long i = 0; i < n; i++) {          /* reuse anything wrongly freed */
        int64_t *p = GC_MALLOC_ATOMIC(sizeof *p);
        bnode *q = GC_MALLOC(sizeof *q);
        if (!p || !q)
            return 1;
        *p = -1;
        q->other = p;
    }
    check(n, "after allocating N more objects");
    printf("@ bench=live impl=boehm markers=%u parallel=%d n=%ld build_s=%.6f collects=%d "
           "collect_s=%.6f mean_s=%.6f ns_per_obj=%.3f heap_mb=%.1f gc_no=%lu\n",
           markers, GC_get_parallel(), n, (double)(b1 - b0) / 1e9, collects, best,
           sum / collects, best * 1e9 / (double)n, (double)GC_get_heap_size() / 1048576.0,
           (unsigned long)GC_get_gc_no());
    return 0;
}
