/* sample.c - Poisson sampling by bytes (sample.h). */
#include "preload/sample.h"

#include <math.h>

static uint64_t next_random(rcpl_sampler *s) {
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

void rcpl_sampler_init(rcpl_sampler *s, uint64_t mean, uint64_t seed) {
    s->mean = mean;
    s->rng = seed ? seed : UINT64_C(0x9E3779B97F4A7C15);
    s->left = mean ? rcpl_sample_gap(s) : UINT64_MAX;
}

uint64_t rcpl_sample_gap(rcpl_sampler *s) {
    /* u uniform in (0, 1]: 53 random bits, plus one so that log(u) is
     * finite */
    double u = (double)((next_random(s) >> 11) + 1) * 0x1.0p-53;
    double gap = -log(u) * (double)s->mean;
    if (!(gap < 0x1.0p63))
        return UINT64_C(1) << 63;
    uint64_t g = (uint64_t)ceil(gap);
    return g ? g : 1;
}

uint64_t rcpl_sample_weight(uint64_t mean, uint64_t size) {
    if (mean == 0 || size == 0)
        return size;
    double x = (double)size / (double)mean;
    if (x > 40.0)
        return size;   /* P(size) = 1 to double precision */
    double w = (double)size / -expm1(-x);
    if (!(w < 0x1.0p63))
        return UINT64_C(1) << 63;
    uint64_t r = (uint64_t)llround(w);
    return r < size ? size : r;
}

uint64_t rcpl_sample_hit(rcpl_sampler *s, size_t size) {
    /* A point fell inside this allocation; the process goes on from its
     * end with a fresh gap (memoryless: the points beyond the first one in
     * the allocation do not matter). */
    s->left = rcpl_sample_gap(s);
    return rcpl_sample_weight(s->mean, size);
}
