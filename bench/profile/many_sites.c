/* many_sites.c - a program with many allocation sites and deep, varied
 * stacks, for the size of the pages recycle draws (bench/profile/pictures.sh):
 * 4096 functions, each of which allocates from its own call site, then calls
 * a function picked at random from all of them, DEPTH deep, so nearly every
 * allocation has a stack no other one has. One call chain in 512 is kept
 * (leaked, from as many distinct stacks).
 *
 *   many_sites ITERATIONS DEPTH
 *
 * Output: "@ iterations=... depth=... time_s=..." and a checksum line. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct link {
    struct link *next;
    uint32_t site, depth;
} link;

typedef link *site_fn(unsigned depth, uint64_t rng);

/* 4096 functions named site_0x000 to site_0xfff, by pasting hex digits. */
#define L1(M, p) M(p##0) M(p##1) M(p##2) M(p##3) M(p##4) M(p##5) M(p##6) M(p##7) \
                 M(p##8) M(p##9) M(p##a) M(p##b) M(p##c) M(p##d) M(p##e) M(p##f)
#define L2(M, p) L1(M, p##0) L1(M, p##1) L1(M, p##2) L1(M, p##3) L1(M, p##4) L1(M, p##5) \
                 L1(M, p##6) L1(M, p##7) L1(M, p##8) L1(M, p##9) L1(M, p##a) L1(M, p##b) \
                 L1(M, p##c) L1(M, p##d) L1(M, p##e) L1(M, p##f)
#define L3(M)    L2(M, 0x0) L2(M, 0x1) L2(M, 0x2) L2(M, 0x3) L2(M, 0x4) L2(M, 0x5) \
                 L2(M, 0x6) L2(M, 0x7) L2(M, 0x8) L2(M, 0x9) L2(M, 0xa) L2(M, 0xb) \
                 L2(M, 0xc) L2(M, 0xd) L2(M, 0xe) L2(M, 0xf)
enum { SITES = 4096 };

#define DECLARE(n) static site_fn site_##n;
L3(DECLARE)
#define ENTRY(n) site_##n,
static site_fn *const table[SITES] = {L3(ENTRY)};

static uint64_t next_rng(uint64_t x) {
    x ^= x << 13;
    x ^= x >> 7;
    return x ^ (x << 17);
}

/* Each site allocates its own size, then calls on; what the call returns is
 * chained behind its own block (freed by the caller of the chain, or kept). */
#define DEFINE(n)                                                              \
    static __attribute__((noinline)) link *site_##n(unsigned depth, uint64_t rng) { \
        link *l = malloc(sizeof *l + ((n) * 7u) % 480u);                       \
        if (!l) abort();                                                       \
        l->site = (n);                                                         \
        l->depth = depth;                                                      \
        l->next = depth ? table[rng % SITES](depth - 1, next_rng(rng)) : NULL; \
        __asm__ volatile("" ::: "memory");                                     \
        return l;                                                              \
    }
L3(DEFINE)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? atol(argv[1]) : 20000;
    unsigned depth = argc > 2 ? (unsigned)atoi(argv[2]) : 24;
    uint64_t rng = 0x9e3779b97f4a7c15u, sum = 0;
    double t0 = now();
    for (long i = 0; i < iterations; i++) {
        rng = next_rng(rng);
        link *l = table[rng % SITES](depth, next_rng(rng));
        if (i % 512 == 0) continue; /* kept: a leak */
        while (l) {
            link *next = l->next;
            sum += l->site + l->depth;
            free(l);
            l = next;
        }
    }
    printf("checksum %llu\n", (unsigned long long)sum);
    printf("@ iterations=%ld depth=%u time_s=%.6f\n", iterations, depth, now() - t0);
    return 0;
}
