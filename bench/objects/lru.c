/* lru.c - the lru cache against functools.lru_cache (bench/objects/lru.py):
 * cost per call of a memoized function on a hit and on a miss that evicts,
 * with one int argument and with three (a 3-tuple key).
 *
 *   lru N [P]  P passes of N calls per variant (default 10), timed together;
 *              prints one "@ name_ns=..." line (ns per call) and the sums of
 *              the first pass. The passes lengthen the timing windows (N
 *              calls take 10-30 ms, short enough for one lost time slice on a
 *              shared machine to double a figure); every pass costs the same.
 *
 * Every variant calls rc_lru_call (the decorator's analogue) on a cache of
 * maxsize 128 whose function returns its argument (functools: a
 * @lru_cache(maxsize=128) function returning x). Hit: the keys cycle over
 * 128 values already cached. Miss: they cycle over 256 values, so every
 * call misses, calls the function, stores and evicts the least recent.
 * Keys are ints 1000.. (not the cached small ints); tuples hold three such
 * ints. Variants:
 *
 *   int_*_pre     the int key object exists before the loop (as Python's
 *                 argument object does): compared with Python's f(x)
 *   int_*_build   rc_int per call, decref after: a C caller holding an int64_t
 *   args_*        rc_lru_call_args with the three ints: the C call of a
 *                 memoized 3-argument function (no tuple on a hit, one
 *                 made on a miss): compared with Python's f(a, b, c)
 *   tuple_*_build rc_tuple of the three ints per call, decref after, and
 *                 rc_lru_call (Python makes its argument tuple per call too)
 *   tuple_*_pre   the tuples exist before the loop (informative)
 *   get_*_pre     rc_lru_get, and rc_lru_put after a miss, instead of
 *                 rc_lru_call (informative)
 *
 * The checksum line (sum of the values returned) is the same for every
 * implementation. */
#include <recycle.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static rc_obj *ident(rc_runtime *rt, rc_obj *args, void *arg) {
    (void)rt;
    (void)arg;
    rc_incref(args);
    return args;
}

static rc_obj *first(rc_runtime *rt, rc_obj *args, void *arg) {
    (void)arg;
    rc_obj *x = rc_tuple_get(rt, args, 0);
    rc_incref(x);
    return x;
}

static void die(rc_runtime *rt, const char *what) {
    fprintf(stderr, "lru: %s failed: %s\n", what, rc_error_message(rt));
    exit(1);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    long passes = argc > 2 ? atol(argv[2]) : 10;
    if (n <= 0 || passes <= 0) {
        fprintf(stderr, "usage: lru N [PASSES]\n");
        return 2;
    }
    long total = n * passes;
    rc_runtime *rt = rc_runtime_new(NULL);
    rc_obj *ints[256], *tuples[256];
    for (int i = 0; i < 256; i++)
        ints[i] = rc_int(rt, 1000 + i);
    for (int i = 0; i < 256; i++)
        tuples[i] = rc_tuple(rt, 3, ints[i], ints[(i + 1) & 255], ints[(i + 2) & 255]);
    int64_t sum_int = 0, sum_tuple = 0, sum_get = 0, sum_args = 0;
    {
        /* warm-up, untimed (as lru.py's): the first timed loop of a fresh
         * process otherwise pays for the CPU's ramp-up */
        rc_obj *w = rc_lru(rt, 128, 0);
        for (long i = 0; i < total; i++) {
            rc_obj *v = rc_lru_call(rt, w, ident, ints[i & 127], NULL);
            rc_decref(v);
        }
        rc_decref(w);
    }
    printf("@");
    static const char *const kinds[] = { "hit", "miss" };
    for (int kind = 0; kind < 2; kind++) {
        unsigned mask = kind == 0 ? 127 : 255;
        /* one int */
        for (int build = 0; build < 2; build++) {
            rc_obj *c = rc_lru(rt, 128, 0);
            for (int i = 0; i < 128; i++) {
                rc_obj *v = rc_lru_call(rt, c, ident, ints[i], NULL);
                rc_decref(v);
            }
            double t = now();
            for (long i = 0; i < total; i++) {
                rc_obj *k = build ? rc_int(rt, 1000 + (i & mask)) : ints[i & mask];
                rc_obj *v = rc_lru_call(rt, c, ident, k, NULL);
                if (!v)
                    die(rt, "rc_lru_call");
                if (i < n)
                    sum_int += rc_int_value(v);
                rc_decref(v);
                if (build)
                    rc_decref(k);
            }
            printf(" int_%s_%s_ns=%.2f", kinds[kind], build ? "build" : "pre", (now() - t) / total * 1e9);
            rc_decref(c);
        }
        /* three ints: a 3-tuple key */
        for (int build = 0; build < 2; build++) {
            rc_obj *c = rc_lru(rt, 128, 0);
            for (int i = 0; i < 128; i++) {
                rc_obj *v = rc_lru_call(rt, c, first, tuples[i], NULL);
                rc_decref(v);
            }
            double t = now();
            for (long i = 0; i < total; i++) {
                unsigned j = (unsigned)i & mask;
                rc_obj *k = build ? rc_tuple(rt, 3, ints[j], ints[(j + 1) & 255], ints[(j + 2) & 255])
                                  : tuples[j];
                if (!k)
                    die(rt, "rc_tuple");
                rc_obj *v = rc_lru_call(rt, c, first, k, NULL);
                if (!v)
                    die(rt, "rc_lru_call");
                if (i < n)
                    sum_tuple += rc_int_value(v);
                rc_decref(v);
                if (build)
                    rc_decref(k);
            }
            printf(" tuple_%s_%s_ns=%.2f", kinds[kind], build ? "build" : "pre",
                   (now() - t) / total * 1e9);
            rc_decref(c);
        }
        /* three ints through rc_lru_call_args */
        {
            rc_obj *c = rc_lru(rt, 128, 0);
            for (int i = 0; i < 128; i++) {
                rc_obj *v = rc_lru_call(rt, c, first, tuples[i], NULL);
                rc_decref(v);
            }
            double t = now();
            for (long i = 0; i < total; i++) {
                unsigned j = (unsigned)i & mask;
                rc_obj *args[3] = { ints[j], ints[(j + 1) & 255], ints[(j + 2) & 255] };
                rc_obj *v = rc_lru_call_args(rt, c, first, 3, args, NULL);
                if (!v)
                    die(rt, "rc_lru_call_args");
                if (i < n)
                    sum_args += rc_int_value(v);
                rc_decref(v);
            }
            printf(" args_%s_ns=%.2f", kinds[kind], (now() - t) / total * 1e9);
            rc_decref(c);
        }
        /* get, then put on a miss */
        rc_obj *c = rc_lru(rt, 128, 0);
        for (int i = 0; i < 128; i++)
            rc_lru_put(rt, c, ints[i], ints[i]);
        double t = now();
        for (long i = 0; i < total; i++) {
            rc_obj *k = ints[i & mask];
            rc_obj *v = rc_lru_get(rt, c, k);
            if (!v) {
                if (rc_lru_put(rt, c, k, k) < 0)
                    die(rt, "rc_lru_put");
                v = k;
            }
            if (i < n)
                sum_get += rc_int_value(v);
        }
        printf(" get_%s_pre_ns=%.2f", kinds[kind], (now() - t) / total * 1e9);
        rc_error_clear(rt);
        rc_decref(c);
    }
    printf("\n");
    /* the same sums as lru.py: each variant returns its key's first int */
    if (sum_args != sum_tuple / 2 || sum_get != sum_int / 2) {
        fprintf(stderr, "lru: the variants disagree\n");
        return 1;
    }
    printf("int %" PRId64 "\ntuple %" PRId64 "\n", sum_int / 2, sum_tuple / 2);
    for (int i = 0; i < 256; i++) {
        rc_decref(tuples[i]);
        rc_decref(ints[i]);
    }
    rc_runtime_free(rt);
    return 0;
}
