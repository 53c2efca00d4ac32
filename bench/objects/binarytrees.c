/* binarytrees.c - the Benchmarks Game's binary-trees workload with recycle
 * objects, with the recycle heap alone, and with glibc malloc/free.
 *
 *   binarytrees <impl> <depth>
 *     impl = recycle   nodes are recycle objects: a user type (rc_obj header,
 *                      left, right) without RC_TYPE_GC, created with rc_new in
 *                      one runtime and freed by rc_decref of the root; the
 *                      type's destroy decrefs the children ("refcounting
 *                      only": the cycle collector never sees these nodes)
 *            rcheap    the same tree of plain structs in rc_malloc/rc_free
 *                      (the recycle heap without the object layer), freed by
 *                      an explicit recursive walk
 *            glibc     the same with glibc malloc/free
 *
 * Output: the Benchmarks Game's lines (stretch tree, iterations per depth,
 * long-lived tree, each with its check value: the node count), identical for
 * every implementation and for bench/objects/binarytrees.py, then one line
 * "@ impl=... time_s=..." with the wall time (CLOCK_MONOTONIC) of the whole
 * workload, runtime creation and teardown included, process start-up not.
 */
#define _POSIX_C_SOURCE 200809L
#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
    fprintf(stderr, "binarytrees: %s\n", what);
    exit(1);
}

/* ---- recycle objects ---- */

typedef struct node {
    rc_obj ob;
    rc_obj *left, *right;
} node;

static void node_destroy(rc_obj *self) {
    node *n = (node *)self;
    rc_xdecref(n->left);
    rc_xdecref(n->right);
}

static const rc_type node_type = {
    .name = "node",
    .size = sizeof(node),
    .destroy = node_destroy,
};

static rc_runtime *rt;

static rc_obj *rc_make(int d) {
    rc_obj *o = rc_new(rt, &node_type);
    if (!o)
        die(rc_error_message(rt));
    if (d > 0) {
        node *n = (node *)o;
        n->left = rc_make(d - 1);
        n->right = rc_make(d - 1);
    }
    return o;
}

static long rc_check_tree(const rc_obj *o) {
    const node *n = (const node *)o;
    return n->left ? 1 + rc_check_tree(n->left) + rc_check_tree(n->right) : 1;
}

/* ---- plain structs: rc_malloc/rc_free or malloc/free ---- */

typedef struct pnode {
    struct pnode *left, *right;
} pnode;

#define DEFINE_PLAIN(prefix, ALLOC, FREE)                                   \
    static pnode *prefix##_make(int d) {                                     \
        pnode *n = ALLOC(sizeof *n);                                         \
        if (!n)                                                              \
            die("out of memory");                                            \
        if (d > 0) {                                                         \
            n->left = prefix##_make(d - 1);                                  \
            n->right = prefix##_make(d - 1);                                 \
        } else {                                                             \
            n->left = n->right = NULL;                                       \
        }                                                                    \
        return n;                                                            \
    }                                                                        \
    static void prefix##_free(pnode *n) {                                    \
        if (n->left) {                                                       \
            prefix##_free(n->left);                                          \
            prefix##_free(n->right);                                         \
        }                                                                    \
        FREE(n);                                                             \
    }

DEFINE_PLAIN(gl, malloc, free)
DEFINE_PLAIN(rh, rc_malloc, rc_free)

static long p_check(const pnode *n) {
    return n->left ? 1 + p_check(n->left) + p_check(n->right) : 1;
}

/* ---- the workload (the Benchmarks Game's structure) ---- */

enum impl { IMPL_RECYCLE, IMPL_RCHEAP, IMPL_GLIBC };

static void *make_tree(enum impl im, int d) {
    switch (im) {
    case IMPL_RECYCLE: return rc_make(d);
    case IMPL_RCHEAP: return rh_make(d);
    default: return gl_make(d);
    }
}

static long check_tree(enum impl im, const void *t) {
    return im == IMPL_RECYCLE ? rc_check_tree(t) : p_check(t);
}

static void free_tree(enum impl im, void *t) {
    switch (im) {
    case IMPL_RECYCLE: rc_decref(t); break;
    case IMPL_RCHEAP: rh_free(t); break;
    default: gl_free(t); break;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: binarytrees recycle|rcheap|glibc DEPTH\n");
        return 2;
    }
    enum impl im;
    if (!strcmp(argv[1], "recycle")) im = IMPL_RECYCLE;
    else if (!strcmp(argv[1], "rcheap")) im = IMPL_RCHEAP;
    else if (!strcmp(argv[1], "glibc")) im = IMPL_GLIBC;
    else die("unknown implementation (recycle, rcheap, glibc)");
    int n = atoi(argv[2]);
    int min_depth = 4, max_depth = n > min_depth + 2 ? n : min_depth + 2;

    double t0 = now();
    if (im == IMPL_RECYCLE) {
        rt = rc_runtime_new(NULL);
        if (!rt)
            die("rc_runtime_new failed");
    }

    void *t = make_tree(im, max_depth + 1);
    printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, check_tree(im, t));
    free_tree(im, t);

    void *long_lived = make_tree(im, max_depth);
    for (int d = min_depth; d <= max_depth; d += 2) {
        long iterations = 1L << (max_depth - d + min_depth), check = 0;
        for (long i = 0; i < iterations; i++) {
            t = make_tree(im, d);
            check += check_tree(im, t);
            free_tree(im, t);
        }
        printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, check);
    }
    printf("long lived tree of depth %d\t check: %ld\n", max_depth, check_tree(im, long_lived));
    free_tree(im, long_lived);

    size_t leaked = 0;
    if (im == IMPL_RECYCLE) {
        leaked = rc_runtime_object_count(rt);
        rc_runtime_free(rt);
    }
    double t1 = now();
    if (leaked)
        die("objects still alive at the end");
    printf("@ impl=%s depth=%d time_s=%.6f\n", argv[1], n, t1 - t0);
    return 0;
}
