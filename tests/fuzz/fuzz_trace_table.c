/* fuzz_trace_table.c - the tracer's trace tables (pointer -> size and
 * traceback, one table per domain) against a model, through the public API.
 *
 * Input: a limit byte (nframes = 1 + byte % 32), then operations:
 *
 *   0 MALLOC  slot size16      rc_malloc into slot (slot % 64; an occupied slot is freed first)
 *   1 FREE    slot             rc_free the slot's block
 *   2 REALLOC slot size16      rc_realloc the slot's block (NULL: a new one)
 *   3 TRACK   dom key size16   rc_trace_track(1 + dom % 3, fake address of key, size)
 *   4 UNTRACK dom key          rc_trace_untrack
 *   5 CLEAR                    rc_trace_clear_traces: every trace goes, blocks stay
 *   6 CHECK                    the figures below, and a snapshot's trace count
 *   7 MANY    n                n small blocks into slots 0.., freed again in
 *                              reverse (a burst that grows the table and
 *                              shifts entries back on removal)
 *
 * Model: which blocks and tracked addresses are traced and with what size.
 * Checked after every operation: traced current memory equals the model's
 * sum, peak is at least current, and (on CHECK) every block's
 * rc_trace_get_object_traceback is present exactly when the model says it is
 * traced. Tracing starts at the beginning of every input and stops at its end,
 * with every block freed. */
#include "fuzz.h"

#include <string.h>

#include "recycle.h"

enum { OP_MALLOC, OP_FREE, OP_REALLOC, OP_TRACK, OP_UNTRACK, OP_CLEAR, OP_CHECK, OP_MANY, OP_COUNT };
enum { SLOTS = 64, DOMAINS = 3, KEYS = 64 };

typedef struct model {
    void *block[SLOTS];
    size_t size[SLOTS];
    int traced[SLOTS];
    size_t tsize[DOMAINS][KEYS];   /* 0: not tracked */
    int tracked[DOMAINS][KEYS];
} model;

/* Fake addresses for the domains: spread over a large range, 16 apart within
 * a domain's run so that neighbours share home slots. */
static const void *key_addr(unsigned dom, unsigned key) {
    return (const void *)(uintptr_t)(0x100000000u + (uintptr_t)dom * 0x10000000u + (uintptr_t)key * 16u);
}

static size_t model_current(const model *m) {
    size_t sum = 0;
    for (int i = 0; i < SLOTS; i++)
        if (m->block[i] && m->traced[i])
            sum += m->size[i];
    for (int d = 0; d < DOMAINS; d++)
        for (int k = 0; k < KEYS; k++)
            if (m->tracked[d][k])
                sum += m->tsize[d][k];
    return sum;
}

static size_t model_count(const model *m) {
    size_t n = 0;
    for (int i = 0; i < SLOTS; i++)
        n += m->block[i] && m->traced[i];
    for (int d = 0; d < DOMAINS; d++)
        for (int k = 0; k < KEYS; k++)
            n += m->tracked[d][k] != 0;
    return n;
}

static void check_figures(const model *m) {
    size_t cur, peak;
    rc_trace_get_traced_memory(&cur, &peak);
    size_t want = model_current(m);
    FZ_CHECK(cur == want, "current %zu, model %zu", cur, want);
    FZ_CHECK(peak >= cur, "peak %zu < current %zu", peak, cur);
}

static void check_all(const model *m) {
    check_figures(m);
    for (int i = 0; i < SLOTS; i++) {
        if (!m->block[i])
            continue;
        rc_traceback *tb = rc_trace_get_object_traceback(m->block[i]);
        FZ_CHECK((tb != NULL) == (m->traced[i] != 0), "slot %d: traceback %p, traced %d", i, (void *)tb,
                 m->traced[i]);
        if (tb)
            FZ_CHECK(rc_traceback_len(tb) <= (size_t)rc_trace_get_traceback_limit(), "slot %d: %zu frames",
                     i, rc_traceback_len(tb));
        rc_traceback_free(tb);
    }
    rc_snapshot *s = rc_trace_take_snapshot();
    FZ_CHECK(s != NULL, "%s", "snapshot failed");
    FZ_CHECK(rc_snapshot_trace_count(s) == model_count(m), "snapshot %zu traces, model %zu",
             rc_snapshot_trace_count(s), model_count(m));
    rc_snapshot_free(s);
}

static void put_block(model *m, int i, void *p, size_t size) {
    m->block[i] = p;
    m->size[i] = size;
    m->traced[i] = 1;
}

static void drop_block(model *m, int i) {
    rc_free(m->block[i]);
    m->block[i] = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in;
    fz_init(&in, data, size);
    model m;
    memset(&m, 0, sizeof m);
    int limit = 1 + fz_u8(&in) % 32;
    FZ_CHECK(rc_trace_start(limit) == 0, "%s", "rc_trace_start failed");
    for (int ops = 0; fz_more(&in) && ops < 4096; ops++) {
        unsigned op = fz_u8(&in) % OP_COUNT;
        switch (op) {
        case OP_MALLOC: {
            int i = fz_u8(&in) % SLOTS;
            size_t sz = 1 + fz_u16(&in) % 4096;
            if (m.block[i])
                drop_block(&m, i);
            void *p = rc_malloc(sz);
            FZ_CHECK(p != NULL, "rc_malloc(%zu) failed", sz);
            put_block(&m, i, p, sz);
            break;
        }
        case OP_FREE: {
            int i = fz_u8(&in) % SLOTS;
            if (m.block[i])
                drop_block(&m, i);
            break;
        }
        case OP_REALLOC: {
            int i = fz_u8(&in) % SLOTS;
            size_t sz = 1 + fz_u16(&in) % 4096;
            void *p = rc_realloc(m.block[i], sz);
            FZ_CHECK(p != NULL, "rc_realloc(%zu) failed", sz);
            put_block(&m, i, p, sz);   /* the new block is traced, moved or not */
            break;
        }
        case OP_TRACK: {
            unsigned d = fz_u8(&in) % DOMAINS, k = fz_u8(&in) % KEYS;
            size_t sz = fz_u16(&in);
            FZ_CHECK(rc_trace_track(1 + d, key_addr(d, k), sz) == 0, "%s", "rc_trace_track failed");
            m.tracked[d][k] = 1;
            m.tsize[d][k] = sz;
            break;
        }
        case OP_UNTRACK: {
            unsigned d = fz_u8(&in) % DOMAINS, k = fz_u8(&in) % KEYS;
            FZ_CHECK(rc_trace_untrack(1 + d, key_addr(d, k)) == 0, "%s", "rc_trace_untrack failed");
            m.tracked[d][k] = 0;
            break;
        }
        case OP_CLEAR:
            rc_trace_clear_traces();
            for (int i = 0; i < SLOTS; i++)
                m.traced[i] = 0;
            memset(m.tracked, 0, sizeof m.tracked);
            break;
        case OP_CHECK:
            check_all(&m);
            break;
        case OP_MANY: {
            int n = 1 + fz_u8(&in) % SLOTS;
            for (int i = 0; i < n; i++) {
                if (m.block[i])
                    drop_block(&m, i);
                void *p = rc_malloc(16 + (size_t)i);
                FZ_CHECK(p != NULL, "%s", "rc_malloc failed");
                put_block(&m, i, p, 16 + (size_t)i);
            }
            check_figures(&m);
            for (int i = n; i-- > 0;)
                drop_block(&m, i);
            break;
        }
        }
        check_figures(&m);
    }
    check_all(&m);
    for (int i = 0; i < SLOTS; i++)
        if (m.block[i])
            drop_block(&m, i);
    rc_trace_stop();
    size_t cur, peak;
    rc_trace_get_traced_memory(&cur, &peak);
    FZ_CHECK(cur == 0 && peak == 0, "after stop: current %zu, peak %zu", cur, peak);
    return 0;
}
