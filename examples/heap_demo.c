/* heap_demo.c - a tour of the recycle heap.
 *
 * Allocates a mix of small, medium and large blocks chosen by a fixed seed,
 * frees some, reallocates others, uses rc_calloc and rc_aligned_alloc, checks
 * that every byte it wrote survived, then prints the heap statistics (the
 * sys._debugmallocstats() analogue) and a one-line summary.
 *
 * Exit status: 0 when every check passed, 1 otherwise.
 *
 * Only the public header is used. Against an installed recycle:
 *   cc heap_demo.c $(pkg-config --cflags --libs recycle) -o heap_demo
 */
#include <recycle.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NBLOCKS   3000      /* blocks in the main working set */
#define NCALLOCS  300       /* zeroed arrays */
#define SEED      UINT64_C(0x5eed2024c0ffee11)

typedef struct demo_block {
    unsigned char *ptr;
    size_t size;
    uint32_t tag;           /* determines the byte pattern written */
} demo_block;

static unsigned failures;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            failures++;                                                       \
            fprintf(stderr, "heap_demo: check failed at line %d: ", __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

/* xorshift64*: a small deterministic generator, so every run is the same. */
static uint64_t rng_state = SEED;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545F4914F6CDD1D);
}

static size_t rng_range(size_t lo, size_t hi)   /* lo..hi inclusive */
{
    return lo + (size_t)(rng_next() % (uint64_t)(hi - lo + 1));
}

/* 70% small (1..512 bytes), 25% medium (..16 KiB), 4.5% large (..1 MiB,
 * mostly under 256 KiB), 0.5% huge (1..2 MiB): every path of the allocator
 * gets traffic, and the working set stays near 40 MB. */
static size_t pick_size(void)
{
    unsigned r = (unsigned)(rng_next() % 1000);
    if (r < 700)
        return rng_range(1, 512);
    if (r < 950)
        return rng_range(513, 16 * 1024);
    if (r < 990)
        return rng_range(16 * 1024 + 1, 256 * 1024);
    if (r < 995)
        return rng_range(256 * 1024 + 1, 1024 * 1024);
    return rng_range(1024 * 1024 + 1, 2 * 1024 * 1024);
}

static unsigned char pattern(uint32_t tag, size_t i)
{
    return (unsigned char)(tag + (uint32_t)i * 131u + (uint32_t)(i >> 8));
}

static void fill(unsigned char *p, size_t n, uint32_t tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(tag, i);
}

/* 1 if the first n bytes hold tag's pattern. */
static int intact(const unsigned char *p, size_t n, uint32_t tag)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(tag, i))
            return 0;
    return 1;
}

static size_t bytes_in_use(void)
{
    rc_heap_stats st;
    memset(&st, 0, sizeof st);
    st.version = RC_HEAP_STATS_VERSION;
    st.struct_size = (uint32_t)sizeof st;
    if (rc_heap_stats_get(&st) != 0)
        return 0;
    return st.bytes_in_use;
}

static demo_block blocks[NBLOCKS];

int main(void)
{
    size_t n_alloc = 0, n_realloc = 0, n_moved = 0, n_calloc = 0, n_aligned = 0;
    size_t in_use_before = bytes_in_use();
    size_t in_use_peak = in_use_before;

    printf("recycle %s heap demo (seed %#llx)\n", rc_version(),
           (unsigned long long)SEED);
    CHECK(strcmp(rc_version(), RC_VERSION_STRING) == 0,
          "library %s, headers %s", rc_version(), RC_VERSION_STRING);

    /* 1. A working set of blocks of every size. */
    for (size_t i = 0; i < NBLOCKS; i++) {
        size_t size = pick_size();
        unsigned char *p = rc_malloc(size);
        CHECK(p != NULL, "rc_malloc(%zu) returned NULL", size);
        if (p == NULL)
            continue;
        CHECK(((uintptr_t)p % RC_HEAP_ALIGNMENT) == 0,
              "rc_malloc(%zu) = %p is not %d-byte aligned", size, (void *)p,
              RC_HEAP_ALIGNMENT);
        CHECK(rc_usable_size(p) >= size, "rc_usable_size(%p) = %zu < %zu",
              (void *)p, rc_usable_size(p), size);
        blocks[i].ptr = p;
        blocks[i].size = size;
        blocks[i].tag = (uint32_t)rng_next();
        fill(p, size, blocks[i].tag);
        n_alloc++;
    }
    {
        size_t now = bytes_in_use();
        if (now > in_use_peak)
            in_use_peak = now;
    }

    /* 2. Free every third block, after checking that nothing overwrote it. */
    for (size_t i = 0; i < NBLOCKS; i += 3) {
        if (blocks[i].ptr == NULL)
            continue;
        CHECK(intact(blocks[i].ptr, blocks[i].size, blocks[i].tag),
              "block %zu (%zu bytes) was overwritten", i, blocks[i].size);
        rc_free(blocks[i].ptr);
        blocks[i].ptr = NULL;
    }

    /* 3. Grow or shrink every other survivor: the common prefix must survive,
     * wherever the block ends up. */
    for (size_t i = 1; i < NBLOCKS; i += 3) {
        demo_block *b = &blocks[i];
        size_t size = pick_size();
        uintptr_t before = (uintptr_t)b->ptr;
        unsigned char *p;
        if (b->ptr == NULL)
            continue;
        p = rc_realloc(b->ptr, size);
        CHECK(p != NULL, "rc_realloc(%zu -> %zu) returned NULL", b->size, size);
        if (p == NULL)
            continue;     /* the old block is untouched and still ours */
        n_realloc++;
        if ((uintptr_t)p != before)
            n_moved++;
        CHECK(intact(p, b->size < size ? b->size : size, b->tag),
              "realloc %zu -> %zu bytes lost the contents", b->size, size);
        CHECK(rc_usable_size(p) >= size, "usable size %zu < %zu after realloc",
              rc_usable_size(p), size);
        b->ptr = p;
        b->size = size;
        b->tag = (uint32_t)rng_next();
        fill(p, size, b->tag);
    }

    /* 4. Zeroed arrays, and a count * size that overflows. */
    for (size_t i = 0; i < NCALLOCS; i++) {
        size_t count = rng_range(1, 4096);
        size_t elem = (size_t)1 << rng_range(0, 4);     /* 1..16 bytes */
        unsigned char *p = rc_calloc(count, elem);
        size_t nonzero = 0;
        CHECK(p != NULL, "rc_calloc(%zu, %zu) returned NULL", count, elem);
        if (p == NULL)
            continue;
        for (size_t j = 0; j < count * elem; j++)
            nonzero += p[j] != 0;
        CHECK(nonzero == 0, "rc_calloc(%zu, %zu): %zu bytes not zero",
              count, elem, nonzero);
        rc_free(p);
        n_calloc++;
    }
    {
        /* volatile: gcc would reject the constant at compile time */
        volatile size_t huge = SIZE_MAX / 2;
        void *p;
        errno = 0;
        p = rc_calloc(huge, 4);
        CHECK(p == NULL && errno == ENOMEM,
              "rc_calloc(SIZE_MAX / 2, 4) must fail with ENOMEM");
        rc_free(p);
    }

    /* 5. Aligned blocks from 16 bytes to 64 KiB alignment, and a bad one. */
    for (unsigned shift = 4; shift <= 16; shift++) {
        for (int k = 0; k < 8; k++) {
            size_t align = (size_t)1 << shift;
            size_t size = pick_size();
            uint32_t tag = (uint32_t)rng_next();
            unsigned char *p = rc_aligned_alloc(align, size);
            CHECK(p != NULL, "rc_aligned_alloc(%zu, %zu) returned NULL", align, size);
            if (p == NULL)
                continue;
            CHECK(((uintptr_t)p & (align - 1)) == 0,
                  "rc_aligned_alloc(%zu, %zu) = %p is misaligned", align, size,
                  (void *)p);
            fill(p, size, tag);
            CHECK(intact(p, size, tag), "aligned block lost its contents");
            rc_free(p);
            n_aligned++;
        }
    }
    {
        void *p;
        errno = 0;
        p = rc_aligned_alloc(24, 64);
        CHECK(p == NULL && errno == EINVAL,
              "rc_aligned_alloc(24, 64) must fail with EINVAL");
        rc_free(p);
    }

    /* 6. The corner cases of the malloc family. */
    {
        void *z = rc_malloc(0);
        void *r = rc_realloc(NULL, 100);
        CHECK(z != NULL, "rc_malloc(0) returned NULL");
        CHECK(r != NULL, "rc_realloc(NULL, 100) returned NULL");
        CHECK(rc_usable_size(NULL) == 0, "rc_usable_size(NULL) != 0");
        rc_free(z);
        rc_free(r);
        rc_free(NULL);
    }

    /* 7. The heap as it stands, with two thirds of the working set live. */
    {
        size_t now = bytes_in_use();
        if (now > in_use_peak)
            in_use_peak = now;
    }
    printf("\n--- rc_heap_stats_print ---\n");
    rc_heap_stats_print(stdout);
    fflush(stdout);

    /* 8. Every survivor must still hold its pattern; then free everything. */
    for (size_t i = 0; i < NBLOCKS; i++) {
        if (blocks[i].ptr == NULL)
            continue;
        CHECK(intact(blocks[i].ptr, blocks[i].size, blocks[i].tag),
              "block %zu (%zu bytes) was overwritten", i, blocks[i].size);
        rc_free(blocks[i].ptr);
        blocks[i].ptr = NULL;
    }
    rc_heap_collect(1);

    printf("\nheap_demo: %s: %zu allocations, %zu reallocs (%zu moved), "
           "%zu callocs, %zu aligned; bytes in use: %zu before, %zu at the "
           "high point, %zu after freeing everything\n",
           failures ? "FAILED" : "OK", n_alloc, n_realloc, n_moved, n_calloc,
           n_aligned, in_use_before, in_use_peak, bytes_in_use());
    if (failures) {
        fprintf(stderr, "heap_demo: %u checks failed\n", failures);
        return 1;
    }
    return 0;
}
