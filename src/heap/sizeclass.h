/* sizeclass.h - the size-class table and its index math.
 *
 * Classes 0..31 are 16, 32, ..., 512 bytes (steps of 16). Classes 32..51 are
 * four per doubling from 640 to 16384 (640, 768, 896, 1024, 1280, ...).
 * Invariant: every class size is a multiple of 16, and class_size(class_of(n))
 * is the smallest class size >= n. */
#ifndef RC_HEAP_SIZECLASS_H
#define RC_HEAP_SIZECLASS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif
#include <stddef.h>
#include <stdint.h>

#define RC_NSMALL   32
#define RC_NCLASSES 52

extern const uint32_t rci_class_size[RC_NCLASSES];

/* Class index for 0 < size <= RC_POOLED_MAX (size 0 is treated as 1). */
static inline unsigned rci_class_of(size_t size) {
    if (size <= 512)
        return size == 0 ? 0 : (unsigned)((size - 1) >> 4);
    /* four classes per doubling above 512: (512, 1024] -> 32..35, ... */
    size_t s = size - 1;
    unsigned top = 63u - (unsigned)__builtin_clzll((unsigned long long)s); /* 9 for 512..1023 */
    unsigned quarter = (unsigned)((s >> (top - 2)) & 3);
    return RC_NSMALL + (top - 9) * 4 + quarter;
}

#endif
