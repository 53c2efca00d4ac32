/* model.c - the encoder's pointer model: which pointers the chunk freed
 * and allocated lately, by number, so that a pointer can be written as a
 * reference to one of them (format.h, "Pointers").
 *
 * Data model: two tables, `freed` and `alloced`, each a set-associative
 * cache from pointer to its number (of the free or the allocation within
 * the chunk):
 *
 *   buckets[h(ptr)] = 4 slots of { ptr, n, gen }, one 64-byte cache line
 *
 * A lookup or an insert touches one bucket, hence one cache miss at most,
 * and needs no probing, no removal and no eviction list: an insert takes
 * the slot of the same pointer, else a slot not in use, else the slot with
 * the oldest number. Losing an old entry only costs a reference (the
 * pointer is then written as a delta).
 *
 * Invariants:
 *   - a slot is in use exactly when its gen is the model's generation; a
 *     chunk's pointers are forgotten by moving to the next generation (a
 *     memset only when the 32-bit generation wraps);
 *   - a pointer is in at most one slot of a table, with the number of its
 *     latest free (allocation) in the chunk;
 *   - a slot found is used only if its number is within the model's window
 *     of the table's count, so every reference the encoder writes is
 *     within RCCAP_MODEL_WINDOW, where the decoder's rings reach.
 *
 * A reference needs to reproduce a pointer's value, nothing more: the
 * decoder resolves number n to whatever pointer number n was. So an entry
 * that is stale for the program (the block was freed in another thread's
 * chunk, say) still encodes its pointer exactly.
 *
 * Memory: the caller's (rccap_encoder_set_model): 64 bytes per bucket,
 * window / 2 buckets per table, 64 * window bytes in all. */
#include "capture/format.h"

#include <string.h>

#define WAYS 4

typedef struct mslot {
    uint64_t key;
    uint32_t n;
    uint32_t gen;
} mslot;

_Static_assert(sizeof(mslot) * WAYS == 64, "a bucket is one cache line");

struct rccap_model {
    uint32_t window;        /* a power of two */
    uint32_t gen;           /* never 0: memory starts zeroed, all slots free */
    unsigned bits;          /* log2 of the buckets per table */
    mslot *t[2];            /* RCF_FREED, RCF_ALLOCED: buckets of WAYS slots */
};

/* The header, then up to 63 bytes to align the buckets to a cache line. */
#define MODEL_HEADER (((sizeof(rccap_model) + 15) & ~(size_t)15) + 64)

static size_t table_bytes(uint32_t window) {
    return (size_t)(window / 2) * WAYS * sizeof(mslot);
}

size_t rccap_model_size(uint32_t window) {
    if (window < 64 || window > RCCAP_MODEL_WINDOW || (window & (window - 1)))
        return 0;
    return MODEL_HEADER + 2 * table_bytes(window);
}

rccap_model *rccap_model_init(void *mem, size_t size, uint32_t window) {
    size_t need = rccap_model_size(window);
    if (!mem || !need || size < need || ((uintptr_t)mem & 15))
        return NULL;
    rccap_model *m = mem;
    m->window = window;
    m->gen = 1;
    m->bits = 0;
    while ((1u << m->bits) < window / 2)
        m->bits++;
    uintptr_t at = ((uintptr_t)mem + MODEL_HEADER - 64 + 63) & ~(uintptr_t)63;
    for (int k = 0; k < 2; k++) {
        m->t[k] = (mslot *)at;
        memset(m->t[k], 0, table_bytes(window));
        at += table_bytes(window);
    }
    return m;
}

bool rccap_encoder_use_model(rccap_encoder *e, rccap_model *m) {
    if (!m) {
        e->model = NULL;
        return true;
    }
    if (e->count || e->len)
        return false;
    rcf_model_forget_all(m);
    e->model = m;
    return true;
}

bool rccap_encoder_set_model(rccap_encoder *e, void *mem, size_t size, uint32_t window) {
    if (e->count || e->len)
        return false;
    if (!mem) {
        e->model = NULL;
        return true;
    }
    rccap_model *m = rccap_model_init(mem, size, window);
    if (!m)
        return false;
    e->model = m;
    return true;
}

void rcf_model_forget_all(rccap_model *m) {
    if (++m->gen == 0) {
        for (int k = 0; k < 2; k++)
            memset(m->t[k], 0, table_bytes(m->window));
        m->gen = 1;
    }
}

void rcf_model_set_generation(rccap_model *m, uint32_t gen) {
    if (gen)
        m->gen = gen;
}

/* The bucket of a pointer: multiplicative hashing (the product's top
 * bits), which mixes the low bits that alignment leaves zero. */
static mslot *bucket(const rccap_model *m, int table, uint64_t key) {
    uint64_t h = m->bits ? (key * 0x9E3779B97F4A7C15ull) >> (64 - m->bits) : 0;
    return m->t[table] + h * WAYS;
}

bool rcf_model_find(const rccap_model *m, int table, uint64_t ptr, uint32_t count, uint32_t *n) {
    const mslot *b = bucket(m, table, ptr);
    for (int w = 0; w < WAYS; w++) {
        if (b[w].gen == m->gen && b[w].key == ptr) {
            if (count - b[w].n > m->window)
                return false;
            *n = b[w].n;
            return true;
        }
    }
    return false;
}

void rcf_model_add(rccap_model *m, int table, uint64_t ptr, uint32_t n) {
    mslot *b = bucket(m, table, ptr);
    mslot *victim = NULL;
    for (int w = 0; w < WAYS; w++) {
        if (b[w].gen != m->gen) {
            if (!victim || victim->gen == m->gen)
                victim = &b[w];
            continue;
        }
        if (b[w].key == ptr) {
            victim = &b[w];
            break;
        }
        if (!victim || (victim->gen == m->gen && b[w].n < victim->n))
            victim = &b[w];
    }
    *victim = (mslot){ptr, n, m->gen};
}
