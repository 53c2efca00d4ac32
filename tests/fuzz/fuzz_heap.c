/* fuzz_heap.c - the malloc family against a model of live blocks.
 *
 * Input: byte 0 sets the debug mode at the start (bit 0); then operations,
 * an opcode byte and its arguments each: malloc, calloc, realloc (also of
 * NULL and to 0), aligned_alloc (alignments 1 .. 4 MiB, 0, 48), free, debug
 * mode on/off, a full check, rc_heap_collect, and calls that must fail.
 *
 * The model keeps, for each live block, its pointer, requested size,
 * alignment and the seed of the pattern written over its whole usable size.
 * Checked after every operation or on the check operation:
 *
 *   - every block is 16-byte aligned and aligned as requested, its usable
 *     size is >= the size requested, and rc_heap_contains knows it;
 *   - the usable ranges of live blocks never overlap;
 *   - the pattern of every block is intact (no other operation wrote into
 *     it), and realloc keeps min(old, new) bytes of contents;
 *   - calloc memory is zero; in debug mode, fresh malloc and aligned_alloc
 *     memory is RC_DEBUG_CLEAN_BYTE (heap.h);
 *   - bad requests fail as heap.h says: NULL with errno ENOMEM (calloc
 *     overflow, size above PTRDIFF_MAX) or EINVAL (alignment not a power of
 *     two, or above RC_HEAP_MAX_ALIGNMENT);
 *   - correct use produces no error report: the handler installed with
 *     rc_heap_set_error_handler is never called, rc_heap_error_count does
 *     not move, and rc_heap_debug_check finds nothing.
 *
 * Switching the debug mode is legal at any time (heap.h: blocks keep the
 * mode they were allocated in), so the switch is an operation like the
 * others; each input starts from the mode its first byte names and leaves
 * the mode off. */
#include "fuzz.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <recycle.h>

#define MAXBLOCKS   48
#define LIVE_LIMIT  ((size_t)24 << 20)     /* requested bytes held at once */
#define PAT_PERIOD  65521u                 /* prime: patterns of different seeds differ */

typedef struct blk {
    unsigned char *p;
    size_t size;       /* requested */
    size_t usable;     /* rc_usable_size at the last change */
    size_t align;
    uint32_t seed;
} blk;

static blk g_blk[MAXBLOCKS];
static size_t g_nblk, g_live;
static int g_deep_done;      /* rc_heap_debug_check ran in this input */
static uint32_t g_seed;
static size_t g_reports;
static char g_report[256];
static unsigned char g_pat[2 * PAT_PERIOD];
static const unsigned char g_zero[4096];
static unsigned char g_clean[4096];     /* RC_DEBUG_CLEAN_BYTE */

static void on_heap_error(const rc_heap_error *err, void *arg) {
    (void)arg;
    g_reports++;
    snprintf(g_report, sizeof g_report, "kind %d at %p: %s", (int)err->kind, err->ptr,
             err->message ? err->message : "");
}

/* The byte at offset i of a block with this seed is g_pat[(i + seed) % P];
 * g_pat holds two periods so that any window of P bytes is contiguous. */
static void pat_init(void) {
    uint32_t x = 0x12345678u;
    for (size_t i = 0; i < PAT_PERIOD; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        g_pat[i] = g_pat[i + PAT_PERIOD] = (unsigned char)(x >> 24);
    }
}

static void pat_fill(unsigned char *p, size_t from, size_t to, uint32_t seed) {
    for (size_t i = from; i < to;) {
        size_t k = (size_t)((i + seed) % PAT_PERIOD);
        size_t n = to - i < PAT_PERIOD ? to - i : PAT_PERIOD;
        memcpy(p + i, g_pat + k, n);
        i += n;
    }
}

/* Offset of the first byte of [from, to) that differs from the pattern, or
 * SIZE_MAX. */
static size_t pat_check(const unsigned char *p, size_t from, size_t to, uint32_t seed) {
    for (size_t i = from; i < to;) {
        size_t k = (size_t)((i + seed) % PAT_PERIOD);
        size_t n = to - i < PAT_PERIOD ? to - i : PAT_PERIOD;
        if (memcmp(p + i, g_pat + k, n) != 0) {
            for (size_t j = 0; j < n; j++)
                if (p[i + j] != g_pat[k + j])
                    return i + j;
        }
        i += n;
    }
    return SIZE_MAX;
}

/* Offset of the first byte of p[0..n) that is not b (0 or the debug
 * clean byte), or SIZE_MAX. Compares 4 KiB chunks with memcmp: a byte loop
 * over megabytes would dominate the run time under coverage instrumentation. */
static size_t first_not(const unsigned char *p, size_t n, unsigned char b) {
    const unsigned char *ref = b == 0 ? g_zero : g_clean;
    FZ_CHECK(b == 0 || b == RC_DEBUG_CLEAN_BYTE, "no reference chunk for 0x%02x", b);
    for (size_t i = 0; i < n; i += sizeof g_zero) {
        size_t k = n - i < sizeof g_zero ? n - i : sizeof g_zero;
        if (memcmp(p + i, ref, k) != 0)
            for (size_t j = 0; j < k; j++)
                if (p[i + j] != b)
                    return i + j;
    }
    return SIZE_MAX;
}

static void check_no_reports(const char *op) {
    FZ_CHECK(g_reports == 0, "correct use of the heap was reported after %s: %s", op, g_report);
}

/* The checks a new or resized block passes before it joins the model. */
static void check_block(const blk *b, const char *op) {
    uintptr_t a = (uintptr_t)b->p;
    FZ_CHECK(b->p != NULL, "%s of %zu bytes failed (errno %d)", op, b->size, errno);
    FZ_CHECK(a % RC_HEAP_ALIGNMENT == 0, "%s returned %p, not 16-byte aligned", op, (void *)b->p);
    FZ_CHECK(b->align == 0 || a % b->align == 0, "%s returned %p for alignment %zu", op,
             (void *)b->p, b->align);
    FZ_CHECK(b->usable >= b->size, "%s: usable size %zu < requested %zu", op, b->usable, b->size);
    FZ_CHECK(rc_heap_contains(b->p) == 1, "%s: rc_heap_contains denies %p", op, (void *)b->p);
    size_t lo = (size_t)a, hi = lo + (b->usable ? b->usable : 1);
    for (size_t i = 0; i < g_nblk; i++) {
        const blk *o = &g_blk[i];
        if (o == b)
            continue;
        size_t olo = (size_t)(uintptr_t)o->p, ohi = olo + (o->usable ? o->usable : 1);
        FZ_CHECK(hi <= olo || ohi <= lo, "%s: [%p, +%zu) overlaps the live block [%p, +%zu)", op,
                 (void *)b->p, b->usable, (void *)o->p, o->usable);
    }
}

static void check_contents(const blk *b, const char *when) {
    size_t bad = pat_check(b->p, 0, b->usable, b->seed);
    FZ_CHECK(bad == SIZE_MAX, "%s: block %p (%zu bytes, usable %zu) changed at offset %zu", when,
             (void *)b->p, b->size, b->usable, bad);
}

/* deep: also rc_heap_debug_check, which reads every byte in the debug
 * quarantine (up to 4 MiB, kept across inputs): by far the most expensive
 * check, so it runs at most once per input, when the program asks. */
static void check_all(int deep) {
    for (size_t i = 0; i < g_nblk; i++) {
        blk *b = &g_blk[i];
        FZ_CHECK(rc_usable_size(b->p) == b->usable, "the usable size of %p moved from %zu to %zu",
                 (void *)b->p, b->usable, rc_usable_size(b->p));
        check_contents(b, "check");
    }
    if (deep && !g_deep_done) {
        g_deep_done = 1;
        size_t found = rc_heap_debug_check();
        FZ_CHECK(found == 0, "rc_heap_debug_check found %zu problems: %s", found, g_report);
    }
    rc_heap_stats st = { .version = RC_HEAP_STATS_VERSION, .struct_size = sizeof st };
    FZ_CHECK(rc_heap_stats_get(&st) == 0, "rc_heap_stats_get failed");
    FZ_CHECK(st.bytes_in_use >= g_live, "bytes in use %zu < %zu requested by live blocks",
             st.bytes_in_use, g_live);
}

/* A size from the input, spread over the heap's regimes: zero, tiny, the
 * small classes (<= 1024), medium, large (up to 1 MiB) and, for one size in
 * sixteen, huge blocks of 1 to 5 MiB. */
static size_t read_size(fz_in *in) {
    uint8_t c = fz_u8(in);
    switch (c % 8) {
    case 0: return 0;
    case 1: case 2: return fz_u8(in);
    case 3: case 4: return fz_u16(in) % 1025;
    case 5: return (size_t)fz_u16(in) * 2;
    case 6: return (size_t)fz_u16(in) << 4;
    default:   /* half of these are huge: they cost most, in debug mode above all */
        if (c & 8)
            return (size_t)fz_u16(in) << 4;
        return ((size_t)(c >> 4) % 5 + 1) * ((size_t)1 << 20) + fz_u16(in);
    }
}

/* Add a fresh block: checks, the fill check, then the pattern. fresh is the
 * byte fresh memory must hold over [0, size), or -1 for no expectation. */
static void add_block(unsigned char *p, size_t size, size_t align, int fresh, const char *op) {
    blk *b = &g_blk[g_nblk];
    b->p = p;
    b->size = size;
    b->align = align;
    b->usable = p ? rc_usable_size(p) : 0;
    b->seed = g_seed++;
    check_block(b, op);
    if (fresh >= 0) {
        size_t bad = first_not(p, size, (unsigned char)fresh);
        FZ_CHECK(bad == SIZE_MAX, "%s: fresh memory of %zu bytes is not 0x%02x at offset %zu", op,
                 size, fresh, bad);
    }
    pat_fill(p, 0, b->usable, b->seed);
    g_nblk++;
    g_live += size;
    check_no_reports(op);
}

static void remove_block(size_t i) {
    g_live -= g_blk[i].size;
    g_blk[i] = g_blk[--g_nblk];
}

static int room_for(size_t size) {
    return g_nblk < MAXBLOCKS && size <= LIVE_LIMIT - g_live;
}

static void op_malloc(fz_in *in) {
    size_t size = read_size(in);
    if (!room_for(size))
        return;
    int debug = rc_heap_get_debug();
    unsigned char *p = rc_malloc(size);
    add_block(p, size, 0, debug ? RC_DEBUG_CLEAN_BYTE : -1, "rc_malloc");
}

static void op_calloc(fz_in *in) {
    size_t count = fz_u8(in) % 17, size = read_size(in) / (count ? count : 1);
    if (!room_for(count * size))
        return;
    unsigned char *p = rc_calloc(count, size);
    add_block(p, count * size, 0, 0, "rc_calloc");
}

static void op_aligned(fz_in *in) {
    unsigned v = fz_u8(in) % 26;
    size_t size = read_size(in);
    size_t align = v < 23 ? (size_t)1 << v : v == 23 ? (size_t)8 << 20 : v == 24 ? 0 : 48;
    int valid = align != 0 && (align & (align - 1)) == 0 && align <= RC_HEAP_MAX_ALIGNMENT;
    if (valid && !room_for(size))
        return;
    int debug = rc_heap_get_debug();
    errno = 0;
    unsigned char *p = rc_aligned_alloc(align, size);
    if (!valid) {
        FZ_CHECK(p == NULL && errno == EINVAL,
                 "rc_aligned_alloc(%zu, %zu): %p, errno %d; expected NULL and EINVAL", align,
                 size, (void *)p, errno);
        check_no_reports("a refused rc_aligned_alloc");
        return;
    }
    add_block(p, size, align, debug ? RC_DEBUG_CLEAN_BYTE : -1, "rc_aligned_alloc");
}

static void op_realloc(fz_in *in) {
    if (g_nblk == 0)
        return;
    size_t i = fz_u8(in) % g_nblk;
    size_t size = read_size(in);
    blk *b = &g_blk[i];
    if (size > b->size && !room_for(size - b->size))
        return;
    check_contents(b, "before rc_realloc");
    unsigned char *p = rc_realloc(b->p, size);
    FZ_CHECK(p != NULL, "rc_realloc(%p, %zu) failed (errno %d)", (void *)b->p, size, errno);
    size_t keep = size < b->size ? size : b->size;
    size_t bad = pat_check(p, 0, keep, b->seed);
    FZ_CHECK(bad == SIZE_MAX, "rc_realloc from %zu to %zu bytes lost the contents at offset %zu",
             b->size, size, bad);
    g_live = g_live - b->size + size;
    b->p = p;
    b->size = size;
    b->align = 0;
    b->usable = rc_usable_size(p);
    check_block(b, "rc_realloc");
    pat_fill(p, keep, b->usable, b->seed);
    check_no_reports("rc_realloc");
}

/* rc_realloc(NULL, n) is rc_malloc(n); rc_realloc(p, 0) frees p and
 * returns a minimal block. */
static void op_realloc_edge(fz_in *in) {
    uint8_t which = fz_u8(in);
    if (g_nblk > 0 && (which & 1)) {
        size_t i = which / 2 % g_nblk;
        check_contents(&g_blk[i], "before rc_realloc to 0");
        unsigned char *p = rc_realloc(g_blk[i].p, 0);
        remove_block(i);
        add_block(p, 0, 0, -1, "rc_realloc(p, 0)");
    } else {
        size_t size = read_size(in);
        if (!room_for(size))
            return;
        unsigned char *p = rc_realloc(NULL, size);
        add_block(p, size, 0, -1, "rc_realloc(NULL, n)");
    }
}

static void op_free(fz_in *in) {
    if (g_nblk == 0) {
        rc_free(NULL);
        check_no_reports("rc_free(NULL)");
        return;
    }
    size_t i = fz_u8(in) % g_nblk;
    check_contents(&g_blk[i], "before rc_free");
    rc_free(g_blk[i].p);
    remove_block(i);
    check_no_reports("rc_free");
}

/* Requests that must fail without touching the heap. The sizes are read
 * through a volatile so that the compiler does not reject the calls. */
static volatile size_t g_half_bits = sizeof(size_t) * 4;
static volatile size_t g_too_big = (size_t)PTRDIFF_MAX + 1;

static void op_refused(fz_in *in) {
    uint8_t which = fz_u8(in) % 3;
    void *p;
    errno = 0;
    if (which == 0) {
        size_t n = ((size_t)1 << g_half_bits) + fz_u8(in);
        p = rc_calloc(n, n);
        FZ_CHECK(p == NULL && errno == ENOMEM, "rc_calloc(%zu, %zu) overflowed: %p, errno %d", n,
                 n, p, errno);
    } else if (which == 1) {
        size_t n = g_too_big + fz_u8(in);
        p = rc_malloc(n);
        FZ_CHECK(p == NULL && errno == ENOMEM, "rc_malloc(%zu): %p, errno %d", n, p, errno);
    } else {
        size_t n = g_too_big;
        p = rc_aligned_alloc(64, n);
        FZ_CHECK(p == NULL && errno == ENOMEM, "rc_aligned_alloc(64, %zu): %p, errno %d", n, p,
                 errno);
    }
    check_no_reports("a refused request");
}

static void set_debug(int on) {
    rc_heap_set_debug(on);
    FZ_CHECK(rc_heap_get_debug() == on, "rc_heap_get_debug is %d after rc_heap_set_debug(%d)",
             rc_heap_get_debug(), on);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        pat_init();
        memset(g_clean, RC_DEBUG_CLEAN_BYTE, sizeof g_clean);
        rc_heap_set_error_handler(on_heap_error, NULL);
        ready = 1;
    }
    fz_in in;
    fz_init(&in, data, size);
    g_nblk = g_live = 0;
    g_reports = 0;
    g_report[0] = '\0';
    size_t errors_before = rc_heap_error_count();
    g_deep_done = 0;
    set_debug(fz_u8(&in) & 1);

    for (int ops = 0; fz_more(&in) && ops < 4096; ops++) {
        switch (fz_u8(&in) % 11) {
        case 0: op_malloc(&in); break;
        case 1: op_calloc(&in); break;
        case 2: op_realloc(&in); break;
        case 3: op_aligned(&in); break;
        case 4: op_free(&in); break;
        case 5: set_debug(fz_u8(&in) & 1); break;
        case 6: check_all(fz_u8(&in) & 1); break;
        case 7: op_realloc_edge(&in); break;
        case 8: op_refused(&in); break;
        case 9: rc_heap_collect(fz_u8(&in) & 1); break;
        default: op_malloc(&in); op_free(&in); break;
        }
        check_no_reports("an operation");
    }

    check_all(0);
    while (g_nblk > 0)
        op_free(&in);
    rc_heap_set_debug(0);
    FZ_CHECK(rc_heap_error_count() == errors_before, "rc_heap_error_count moved from %zu to %zu",
             errors_before, rc_heap_error_count());
    check_no_reports("the end of the input");
    return 0;
}
