/* sample.h - Poisson sampling by bytes, as tcmalloc samples its heap.
 *
 * The bytes a thread allocates are seen as one stream, and sample points
 * fall on it as a Poisson process of rate 1/mean: the gaps between points
 * are exponential with mean `mean` bytes. An allocation is sampled when a
 * point falls inside it, which happens with probability
 *
 *     P(size) = 1 - exp(-size / mean),
 *
 * independently of every other allocation (the process is memoryless, so
 * after a sampled allocation the next gap is simply drawn afresh from its
 * end). A sampled allocation stands for size / P(size) bytes: its weight.
 * The expected weight of an allocation is then exactly its size, so the sum
 * of the weights of the sampled allocations is an unbiased estimate of the
 * bytes allocated, and sum(weight / size) of their number. Allocations much
 * larger than the mean are always sampled with weight = size; allocations
 * of 0 bytes never are.
 *
 * A sampler belongs to one thread; nothing here locks. */
#ifndef RC_PRELOAD_SAMPLE_H
#define RC_PRELOAD_SAMPLE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stddef.h>
#include <stdint.h>

#include "preload/preload.h"

typedef struct rcpl_sampler {
    uint64_t left;     /* bytes from the stream's position to the next point (>= 1) */
    uint64_t mean;     /* 0: every allocation is recorded with weight = size */
    uint64_t rng;      /* xorshift64* state, never 0 */
} rcpl_sampler;

/* A sampler with the given mean (0: record everything), seeded. */
void rcpl_sampler_init(rcpl_sampler *s, uint64_t mean, uint64_t seed);

/* The sampled part: size reaches the next point. */
uint64_t rcpl_sample_hit(rcpl_sampler *s, size_t size);

/* The weight of an allocation of size bytes: 0 when it is not sampled. */
static inline uint64_t rcpl_sample(rcpl_sampler *s, size_t size) {
    if (s->mean == 0)
        return size;
    if (RCPL_LIKELY((uint64_t)size < s->left)) {
        s->left -= size;
        return 0;
    }
    return rcpl_sample_hit(s, size);
}

/* The weight of a sampled allocation of size bytes (>= size; size when
 * mean is 0 or size is 0). */
uint64_t rcpl_sample_weight(uint64_t mean, uint64_t size);

/* A gap drawn from the exponential distribution with the sampler's mean,
 * rounded up (>= 1). */
uint64_t rcpl_sample_gap(rcpl_sampler *s);

#endif /* RC_PRELOAD_SAMPLE_H */
