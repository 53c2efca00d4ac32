/* gc_cycles.c - a program on librecycle's objects, for `recycle run`: it
 * makes cyclic garbage (pairs of lists holding each other) in three
 * rounds 20 ms apart, ends each round with a full collection, and lets the collector
 * run generation 0 on its own meanwhile. A gc callback counts every
 * collection that ends, those of rc_runtime_free included, and the program
 * prints the counts last:
 *
 *   collections N0 N1 N2 collected C
 *
 * which the capture's GC records must match. */
#include <recycle.h>

#include <stdio.h>
#include <time.h>

#define ROUNDS 3
#define PAIRS 3000

static size_t ended[3], collected;

static void count(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)rt, (void)arg;
    if (phase == RC_GC_STOP && info->generation >= 0 && info->generation < 3) {
        ended[info->generation]++;
        collected += info->collected;
    }
}

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt || rc_gc_callback_add(rt, count, NULL) != 0)
        return 1;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < PAIRS; i++) {
            rc_obj *a = rc_list(rt), *b = rc_list(rt);
            if (!a || !b || rc_list_append(rt, a, b) != 0 || rc_list_append(rt, b, a) != 0)
                return 1;
            rc_decref(a);
            rc_decref(b);
        }
        rc_gc_collect(rt, 2);
        /* apart on the time axis: the capture's clock ticks in milliseconds */
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    }
    rc_runtime_free(rt);
    printf("collections %zu %zu %zu collected %zu\n", ended[0], ended[1], ended[2], collected);
    return 0;
}
