/* rc-test: whitebox threads link=recycle_preload_test */
/* test_preload_core.c - the parts of librecycle-preload.so that know
 * nothing of interposition, each against a model: the call tree (ids,
 * lock-free lookups from several threads, the memo's tags against plain
 * walks over random call trees), the live-block table and its filter,
 * Poisson sampling (probabilities and the unbiased weights), the
 * environment variables, the leak scan over a heap laid out by hand, the
 * mappings, and the loaded objects (a library opened and closed). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "preload/env.h"
#include "preload/leaks.h"
#include "preload/live.h"
#include "preload/modules.h"
#include "preload/sample.h"
#include "preload/stacktree.h"
#include "rct.h"

#define NOINLINE __attribute__((noinline))
#define NOTAIL() __asm__ volatile("" ::: "memory")

static uint64_t xorshift(uint64_t *s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* ---- the call tree ---- */

typedef struct made_log {
    uint32_t calls, last_id;
    bool order_ok;
    uint32_t refuse_from;   /* refuse nodes with this id and later (0: never) */
} made_log;

static bool log_made(void *arg, uint32_t id, uint32_t parent, uintptr_t pc) {
    made_log *m = arg;
    (void)pc;
    if (m->refuse_from && id >= m->refuse_from)
        return false;
    /* ids come in order, and a parent always exists before its child */
    if (id != m->last_id + 1 || parent >= id)
        m->order_ok = false;
    m->last_id = id;
    m->calls++;
    return true;
}

static void test_tree_ids(void **state) {
    (void)state;
    rcpl_tree t;
    made_log m = {0, 0, true, 0};
    assert_int_equal(rcpl_tree_init(&t, log_made, &m), 0);
    /* a random forest of 60000 pairs (past the first table and the first
     * chunk of nodes), each pair looked up twice */
    enum { N = 60000 };
    static uint32_t parent_of[N + 1];
    static uintptr_t pc_of[N + 1];
    uint64_t rng = rct_seed(0x5eed5eedu);
    for (uint32_t i = 1; i <= N; i++) {
        uint32_t parent = (uint32_t)(xorshift(&rng) % i);   /* 0 .. i-1: an existing id */
        uintptr_t pc = 0x400000 + (uintptr_t)(xorshift(&rng) % 5000) * 16;
        uint32_t id = rcpl_tree_node(&t, parent, pc);
        assert_int_not_equal(id, 0);
        if (id <= i - 1) {
            /* the pair existed: it must be that node */
            assert_int_equal(parent_of[id], parent);
            assert_true(pc_of[id] == pc);
            i--;
            continue;
        }
        assert_int_equal(id, i);
        parent_of[id] = parent;
        pc_of[id] = pc;
    }
    assert_int_equal(rcpl_tree_count(&t), N);
    assert_int_equal(m.calls, N);
    assert_true(m.order_ok);
    for (uint32_t id = 1; id <= N; id++) {
        const rcpl_tnode *n = rcpl_tree_get(&t, id);
        assert_int_equal(n->parent, parent_of[id]);
        assert_true(n->pc == pc_of[id]);
        assert_int_equal(rcpl_tree_node(&t, parent_of[id], pc_of[id]), id);
    }
    assert_int_equal(m.calls, N);   /* lookups made nothing */
    rcpl_tree_release(&t);
}

static void test_tree_flat_and_refused(void **state) {
    (void)state;
    rcpl_tree t;
    made_log m = {0, 0, true, 0};
    assert_int_equal(rcpl_tree_init(&t, log_made, &m), 0);
    uintptr_t stack[4] = {0x1004, 0x2008, 0x300c, 0x4010};   /* innermost first */
    uint32_t id = rcpl_tree_intern(&t, NULL, stack, 4);
    /* the chain from the innermost node is the stack, outermost last */
    size_t k = 0;
    for (uint32_t x = id; x; x = rcpl_tree_get(&t, x)->parent, k++)
        assert_true(rcpl_tree_get(&t, x)->pc == stack[k]);
    assert_int_equal(k, 4);
    /* a stack sharing the outer three frames makes one node */
    uintptr_t other[4] = {0x1104, 0x2008, 0x300c, 0x4010};
    uint32_t id2 = rcpl_tree_intern(&t, NULL, other, 4);
    assert_int_equal(rcpl_tree_count(&t), 5);
    assert_int_equal(rcpl_tree_get(&t, id2)->parent, rcpl_tree_get(&t, id)->parent);
    assert_int_equal(rcpl_tree_intern(&t, NULL, stack, 0), 0);
    /* refused nodes: the stack keeps the frames outward of them */
    m.refuse_from = 6;
    uintptr_t deeper[3] = {0x9999, 0x1004, 0x2008};
    uint32_t cut = rcpl_tree_intern(&t, NULL, deeper, 3);
    /* its outermost frame is a new child of the root: refused, nothing left */
    assert_int_equal(cut, 0);
    uint32_t partial = rcpl_tree_intern(&t, NULL, (uintptr_t[]){0x7777, 0x2008, 0x300c, 0x4010}, 4);
    assert_int_equal(partial, rcpl_tree_get(&t, id)->parent);   /* the 0x2008 node */
    assert_int_equal(rcpl_tree_count(&t), 5);
    rcpl_tree_release(&t);
}

/* Random call trees: the node of a walk through the memo (tags reused
 * between captures) must always spell the plain walk from the same place. */
typedef struct walkctx {
    uint64_t rng;
    rcpl_tree tree;
    size_t limit;
    size_t checked, bad;
    jmp_buf *escape;
    int escape_at;
} walkctx;

static NOINLINE void probe(walkctx *c) {
    rctr_start st;
    RCTR_START_HERE(st);
    rctr_frame *fr;
    uintptr_t flat[RCTR_MAX_FRAMES], ref[RCTR_MAX_FRAMES];
    size_t n = rctr_stack_walk_from(&st, &fr, flat, c->limit, 1);
    uint32_t id = rcpl_tree_intern(&c->tree, fr, flat, n);
    size_t nref = rctr_stack_capture_plain_from(&st, ref, c->limit, 1);
    size_t k = 0;
    bool ok = true;
    for (uint32_t x = id; x; x = rcpl_tree_get(&c->tree, x)->parent, k++)
        if (k >= nref || rcpl_tree_get(&c->tree, x)->pc != ref[k])
            ok = false;
    c->checked++;
    if (!ok || k != nref)
        c->bad++;
    NOTAIL();
}

static NOINLINE void descend(walkctx *c, int depth);

static NOINLINE void site_a(walkctx *c, int depth) {
    descend(c, depth - 1);
    NOTAIL();
}

static NOINLINE void site_b(walkctx *c, int depth) {
    volatile char pad[64];   /* a frame of another size */
    pad[0] = 1;
    descend(c, depth - 1);
    NOTAIL();
    (void)pad[0];
}

static NOINLINE void descend(walkctx *c, int depth) {
    for (int i = 0; i < 3; i++) {
        uint64_t r = xorshift(&c->rng) % 8;
        if (r < 3)
            probe(c);
        else if (depth > 0 && r < 5)
            site_a(c, depth);
        else if (depth > 0 && r < 7)
            site_b(c, depth);
        if (c->escape && depth == c->escape_at && r == 7)
            longjmp(*c->escape, 1);
    }
    NOTAIL();
}

static void test_tree_memo_tags(void **state) {
    (void)state;
    walkctx c;
    memset(&c, 0, sizeof c);
    c.rng = rct_seed(0x7a95u) | 1;
    size_t limits[] = {1, 3, 8, 20, 64};
    size_t rounds = rct_scaled(40, 5);
    for (size_t round = 0; round < rounds; round++) {
        /* a fresh tree every few rounds: tags of the old one must not match */
        if (round % 4 == 0) {
            if (round)
                rcpl_tree_release(&c.tree);
            assert_int_equal(rcpl_tree_init(&c.tree, NULL, NULL), 0);
        }
        c.limit = limits[round % 5];
        jmp_buf env;
        c.escape = (round % 3 == 0) ? &env : NULL;
        c.escape_at = (int)(xorshift(&c.rng) % 6);
        if (setjmp(env) == 0)
            descend(&c, 12);
        c.escape = NULL;
        probe(&c);
    }
    rcpl_tree_release(&c.tree);
    assert_true(c.checked > 100);
    assert_int_equal(c.bad, 0);
}

/* Several threads make and find the same pairs at once: one id per pair,
 * every made node announced once. */
typedef struct tree_race {
    rcpl_tree *t;
    uint64_t seed;
    uint32_t ids[4000];
} tree_race;

static _Atomic uint32_t race_made;

static bool count_made(void *arg, uint32_t id, uint32_t parent, uintptr_t pc) {
    (void)arg, (void)id, (void)parent, (void)pc;
    atomic_fetch_add(&race_made, 1);
    return true;
}

static void *race_worker(void *arg) {
    tree_race *r = arg;
    /* the same pairs in every thread (pc i, parent: the id of pair i/2),
     * visited in a thread-specific order */
    uint64_t rng = r->seed;
    for (int pass = 0; pass < 3; pass++) {
        for (uint32_t k = 0; k < 4000; k++) {
            uint32_t i = (uint32_t)(xorshift(&rng) % 4000);
            uint32_t parent = 0;
            for (uint32_t a = i / 2, chain[16], depth = 0;; a /= 2) {
                chain[depth++] = a;
                if (a == 0) {
                    for (uint32_t d = depth; d-- > 0;)
                        parent = rcpl_tree_node(r->t, parent, 0x10000 + (uintptr_t)chain[d] * 8);
                    break;
                }
            }
            r->ids[i] = rcpl_tree_node(r->t, parent, 0x900000 + (uintptr_t)i * 8);
        }
    }
    return NULL;
}

static void test_tree_threads(void **state) {
    (void)state;
    rcpl_tree t;
    atomic_store(&race_made, 0);
    assert_int_equal(rcpl_tree_init(&t, count_made, NULL), 0);
    enum { NT = 4 };
    static tree_race r[NT];
    pthread_t th[NT];
    for (int i = 0; i < NT; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].t = &t;
        r[i].seed = 0x1234567u * (uint64_t)(i + 1);
        assert_int_equal(pthread_create(&th[i], NULL, race_worker, &r[i]), 0);
    }
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    for (uint32_t i = 0; i < 4000; i++) {
        uint32_t id = 0;
        for (int k = 0; k < NT; k++) {
            if (!r[k].ids[i])
                continue;   /* that thread's random order missed pair i */
            if (!id)
                id = r[k].ids[i];
            assert_int_equal(r[k].ids[i], id);
        }
    }
    assert_int_equal(atomic_load(&race_made), rcpl_tree_count(&t));
    /* every node unique: no (parent, pc) twice */
    uint32_t n = rcpl_tree_count(&t);
    for (uint32_t id = 1; id <= n; id++) {
        const rcpl_tnode *x = rcpl_tree_get(&t, id);
        assert_int_equal(rcpl_tree_node(&t, x->parent, x->pc), id);
    }
    rcpl_tree_release(&t);
}

/* ---- live blocks ---- */

static void test_live_model(void **state) {
    (void)state;
    static rcpl_live l;
    assert_int_equal(rcpl_live_init(&l), 0);
    enum { M = 20000 };
    static uintptr_t key[M];
    static uint64_t size[M];
    static bool in[M];
    uint64_t rng = rct_seed(0x11feu) | 1;
    for (size_t i = 0; i < M; i++) {
        /* addresses as an allocator hands them out: 16-byte steps in a few
         * arenas, so that many share their high bits */
        key[i] = ((uintptr_t)(i % 3) << 40) + 0x10000 + (uintptr_t)i * 16;
        size[i] = i % 977;
    }
    size_t live = 0;
    size_t steps = rct_scaled(200000, 20000);
    for (size_t s = 0; s < steps; s++) {
        size_t i = (size_t)(xorshift(&rng) % M);
        rcpl_shard *sh = rcpl_live_shard(&l, key[i]);
        rcpl_lock_take(&sh->lock);
        if (xorshift(&rng) % 2) {
            assert_int_equal(rcpl_live_add(&l, sh, key[i], size[i]), 0);
            if (!in[i])
                live++;
            in[i] = true;
        } else {
            uint64_t got = 12345;
            bool was = rcpl_live_remove(&l, sh, key[i], &got);
            assert_int_equal(was, in[i]);
            if (was) {
                assert_int_equal(got, size[i]);
                live--;
            }
            in[i] = false;
        }
        rcpl_lock_give(&sh->lock);
        if (in[i])
            assert_true(rcpl_live_maybe(&l, key[i]));
    }
    rcpl_live_lock_all(&l);
    assert_int_equal(rcpl_live_count(&l), live);
    size_t pos = 0, seen = 0;
    uintptr_t p;
    uint64_t sz;
    while (rcpl_live_next(&l, &pos, &p, &sz)) {
        size_t i = (size_t)((p & ((UINT64_C(1) << 40) - 1)) - 0x10000) / 16;
        assert_true(i < M && key[i] == p && in[i] && size[i] == sz);
        seen++;
    }
    assert_int_equal(seen, live);
    rcpl_live_unlock_all(&l);
    /* emptied, the filter answers "certainly not" for every key */
    for (size_t i = 0; i < M; i++) {
        if (!in[i])
            continue;
        rcpl_shard *sh = rcpl_live_shard(&l, key[i]);
        uint64_t got;
        rcpl_lock_take(&sh->lock);
        assert_true(rcpl_live_remove(&l, sh, key[i], &got));
        rcpl_lock_give(&sh->lock);
    }
    for (size_t i = 0; i < M; i++)
        assert_false(rcpl_live_maybe(&l, key[i]));
    rcpl_live_release(&l);
}

/* A block recorded twice (freed behind the recorder's back and handed out
 * again) is one block with the newer size. */
static void test_live_replace_and_clear(void **state) {
    (void)state;
    static rcpl_live l;
    assert_int_equal(rcpl_live_init(&l), 0);
    rcpl_shard *sh = rcpl_live_shard(&l, 0x5000);
    rcpl_lock_take(&sh->lock);
    assert_int_equal(rcpl_live_add(&l, sh, 0x5000, 10), 0);
    assert_int_equal(rcpl_live_add(&l, sh, 0x5000, 20), 0);
    assert_int_equal(rcpl_live_shard_count(sh), 1);
    uint64_t got;
    assert_true(rcpl_live_remove(&l, sh, 0x5000, &got));
    assert_int_equal(got, 20);
    assert_false(rcpl_live_remove(&l, sh, 0x5000, &got));
    assert_int_equal(rcpl_live_add(&l, sh, 0x5000, 30), 0);
    rcpl_lock_give(&sh->lock);
    rcpl_live_clear(&l);
    assert_false(rcpl_live_maybe(&l, 0x5000));
    rcpl_live_lock_all(&l);
    assert_int_equal(rcpl_live_count(&l), 0);
    rcpl_live_unlock_all(&l);
    rcpl_live_release(&l);
}

/* ---- sampling ---- */

static void test_sample_weights(void **state) {
    (void)state;
    assert_int_equal(rcpl_sample_weight(0, 100), 100);
    assert_int_equal(rcpl_sample_weight(1000, 0), 0);
    /* far above the mean: certain, weight = size */
    assert_int_equal(rcpl_sample_weight(1000, 100000), 100000);
    /* far below: about the mean (size / (size / mean)) */
    uint64_t w = rcpl_sample_weight(1 << 20, 8);
    assert_true(w >= (1u << 20) - 8 && w <= (1u << 20) + 8);
    /* at the mean: size / (1 - 1/e) */
    w = rcpl_sample_weight(4096, 4096);
    assert_true(llabs((long long)w - (long long)llround(4096 / (1 - exp(-1.0)))) <= 1);
    for (uint64_t s = 1; s < 100000; s = s * 3 + 1)
        assert_true(rcpl_sample_weight(512, s) >= s);

    rcpl_sampler all;
    rcpl_sampler_init(&all, 0, 1);
    assert_int_equal(rcpl_sample(&all, 77), 77);
    assert_int_equal(rcpl_sample(&all, 0), 0);
}

/* The sum of the weights estimates the bytes allocated; how often a size is
 * sampled matches 1 - exp(-size / mean). Deterministic seeds: the bounds
 * are 5 to 6 standard deviations, so they fail only if the method is wrong. */
static void test_sample_unbiased(void **state) {
    (void)state;
    const uint64_t mean = 4096;
    rcpl_sampler s;
    rcpl_sampler_init(&s, mean, 0xfeedu);
    uint64_t rng = 0xabcdefu;
    double truth = 0, est = 0, count_est = 0;
    size_t n = rct_scaled(400000, 100000);
    for (size_t i = 0; i < n; i++) {
        size_t size = 1 + (size_t)(xorshift(&rng) % 2000);
        uint64_t w = rcpl_sample(&s, size);
        truth += (double)size;
        est += (double)w;
        if (w)
            count_est += (double)w / (double)size;
    }
    /* each sample's weight is about the mean: the estimate's relative error
     * is about 1/sqrt(samples) */
    double samples = truth / (double)mean;
    double bound = 6.0 / sqrt(samples);
    assert_true(fabs(est / truth - 1) < bound);
    assert_true(fabs(count_est / (double)n - 1) < bound);

    /* one size: the sampled fraction */
    rcpl_sampler_init(&s, mean, 0x5151u);
    const size_t size = 1024, trials = rct_scaled(200000, 50000);
    size_t hits = 0;
    for (size_t i = 0; i < trials; i++)
        hits += rcpl_sample(&s, size) != 0;
    double p = 1 - exp(-(double)size / (double)mean);
    double sd = sqrt(p * (1 - p) / (double)trials);
    assert_true(fabs((double)hits / (double)trials - p) < 5 * sd);
}

/* ---- environment ---- */

static char warned[512];
static int nwarned;

static void keep_warning(const char *msg) {
    snprintf(warned, sizeof warned, "%s", msg);
    nwarned++;
}

static void test_env_parse(void **state) {
    (void)state;
    uint64_t v;
    assert_int_equal(rcpl_parse_bytes("512K", &v), 0);
    assert_int_equal(v, 524288);
    assert_int_equal(rcpl_parse_bytes("3m", &v), 0);
    assert_int_equal(v, 3u << 20);
    assert_int_equal(rcpl_parse_bytes("2G", &v), 0);
    assert_int_equal(v, UINT64_C(2) << 30);
    assert_int_equal(rcpl_parse_bytes("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(rcpl_parse_bytes("", &v), EINVAL);
    assert_int_equal(rcpl_parse_bytes("K", &v), EINVAL);
    assert_int_equal(rcpl_parse_bytes("12x", &v), EINVAL);
    assert_int_equal(rcpl_parse_bytes("-1", &v), EINVAL);
    assert_int_equal(rcpl_parse_bytes("99999999999999999999", &v), ERANGE);
    assert_int_equal(rcpl_parse_bytes("17179869184G", &v), ERANGE);
    assert_int_equal(rcpl_parse_uint("64", 1, 128, &v), 0);
    assert_int_equal(v, 64);
    assert_int_equal(rcpl_parse_uint("0", 1, 128, &v), ERANGE);
    assert_int_equal(rcpl_parse_uint("129", 1, 128, &v), ERANGE);
    assert_int_equal(rcpl_parse_uint(" 5", 1, 128, &v), EINVAL);

    char name[64];
    assert_true(rcpl_output_name("/tmp/x.rcap", 42, 0, name, sizeof name));
    assert_string_equal(name, "/tmp/x.rcap");
    assert_true(rcpl_output_name("/tmp/x.rcap", 42, 1, name, sizeof name));
    assert_string_equal(name, "/tmp/x.rcap.42");
    assert_true(rcpl_output_name("/tmp/x.rcap", 42, 3, name, sizeof name));
    assert_string_equal(name, "/tmp/x.rcap.42.3");
    assert_false(rcpl_output_name("/a/very/long/path/that/does/not/fit/at/all/here", 42, 1, name, 20));
}

static void test_env_read(void **state) {
    (void)state;
    static rcpl_config c;
    unsetenv("RECYCLE_OUTPUT");
    unsetenv("RECYCLE_FRAMES");
    unsetenv("RECYCLE_SAMPLE");
    unsetenv("RECYCLE_FOLLOW_FORK");
    unsetenv("RECYCLE_PRELOAD_PID");
    nwarned = 0;
    assert_false(rcpl_env_read(&c, keep_warning));
    assert_int_equal(c.frames, RCPL_FRAMES_DEFAULT);
    assert_int_equal(c.sample, 0);
    assert_false(c.follow_fork);
    assert_int_equal(nwarned, 0);

    setenv("RECYCLE_OUTPUT", "rel/cap.rcap", 1);
    setenv("RECYCLE_FRAMES", "12", 1);
    setenv("RECYCLE_SAMPLE", "64K", 1);
    setenv("RECYCLE_FOLLOW_FORK", "1", 1);
    setenv("RECYCLE_PRELOAD_PID", "4321", 1);
    assert_true(rcpl_env_read(&c, keep_warning));
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char want[8192];
    snprintf(want, sizeof want, "%s%srel/cap.rcap", cwd, strcmp(cwd, "/") ? "/" : "");
    assert_string_equal(c.output, want);
    assert_int_equal(c.frames, 12);
    assert_int_equal(c.sample, 65536);
    assert_true(c.follow_fork);
    assert_int_equal(c.preload_pid, 4321);
    assert_int_equal(nwarned, 0);

    /* bad values: one warning each, the defaults, and still recording */
    setenv("RECYCLE_OUTPUT", "/abs/cap.rcap", 1);
    setenv("RECYCLE_FRAMES", "1000", 1);
    setenv("RECYCLE_SAMPLE", "lots", 1);
    setenv("RECYCLE_FOLLOW_FORK", "yes", 1);
    assert_true(rcpl_env_read(&c, keep_warning));
    assert_string_equal(c.output, "/abs/cap.rcap");
    assert_int_equal(c.frames, RCPL_FRAMES_DEFAULT);
    assert_int_equal(c.sample, 0);
    assert_false(c.follow_fork);
    assert_int_equal(nwarned, 3);
    assert_non_null(strstr(warned, "RECYCLE_FOLLOW_FORK=yes"));

    unsetenv("RECYCLE_OUTPUT");
    unsetenv("RECYCLE_FRAMES");
    unsetenv("RECYCLE_SAMPLE");
    unsetenv("RECYCLE_FOLLOW_FORK");
    unsetenv("RECYCLE_PRELOAD_PID");
}

/* ---- the leak scan ---- */

typedef struct verdicts {
    uintptr_t ptr[32];
    uint64_t size[32];
    bool reachable[32];
    size_t n;
} verdicts;

static void keep_verdict(void *arg, uintptr_t ptr, uint64_t size, bool reachable) {
    verdicts *v = arg;
    if (v->n < 32) {
        v->ptr[v->n] = ptr;
        v->size[v->n] = size;
        v->reachable[v->n] = reachable;
        v->n++;
    }
}

static int verdict_of(const verdicts *v, const void *p) {
    for (size_t i = 0; i < v->n; i++)
        if (v->ptr[i] == (uintptr_t)p)
            return v->reachable[i];
    return -1;
}

static void add_block(rcpl_live *l, const void *p, uint64_t size) {
    rcpl_shard *sh = rcpl_live_shard(l, (uintptr_t)p);
    rcpl_lock_take(&sh->lock);
    assert_int_equal(rcpl_live_add(l, sh, (uintptr_t)p, size), 0);
    rcpl_lock_give(&sh->lock);
}

/* A heap laid out by hand in one mapping, blocks of 64 bytes:
 *   roots -> A -> B -> C            reachable (a chain)
 *   roots -> D + 24 (interior)      reachable
 *   E <-> F (a cycle, no root)      lost
 *   G -> H (G unreached)            both lost
 *   I: pointed to only from an unmapped page   lost
 *   J: a block whose own bytes are unmapped, pointed to by a root:
 *      reachable, and its bytes never read
 *   Z: a block of 0 bytes pointed to exactly  reachable */
static void test_leaks_scan(void **state) {
    (void)state;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    /* the heap in words: a block of 64 bytes is 8 of them */
    void **heap = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(heap != MAP_FAILED);
    memset(heap, 0, 4 * page);
    size_t pw = page / sizeof(void *);
    void **A = heap + 0, **B = heap + 8, **C = heap + 16, **D = heap + 24, **E = heap + 32;
    void **F = heap + 40, **G = heap + 48, **H = heap + 56, **I = heap + 64, **Z = heap + 80;
    void **hole = heap + 2 * pw;   /* made unreadable below */
    void **J = heap + 3 * pw;      /* made unreadable below */
    A[3] = B;
    B[7] = C;
    E[0] = F;
    F[0] = E;
    G[1] = H;
    hole[0] = I;
    J[0] = G;   /* never read: J's page cannot be read */
    /* PROT_NONE rather than unmapped: an unmapped page could be mapped
     * again by the live table's own memory, which holds G's address */
    assert_int_equal(mprotect(hole, page, PROT_NONE), 0);
    assert_int_equal(mprotect(J, page, PROT_NONE), 0);

    static rcpl_live l;
    assert_int_equal(rcpl_live_init(&l), 0);
    void **blocks[] = {A, B, C, D, E, F, G, H, I, J};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        add_block(&l, blocks[i], 64);
    add_block(&l, Z, 0);

    void *roots[4] = {A, (char *)D + 24, J, Z};
    rcpl_range root = {(uintptr_t)roots, (uintptr_t)(roots + 4)};
    rcpl_ranges readable = {0};
    assert_int_equal(rcpl_maps_readable(&readable), 0);
    verdicts v = {0};
    rcpl_live_lock_all(&l);
    assert_int_equal(rcpl_leaks_scan(&l, &root, 1, &readable, keep_verdict, &v), 0);
    rcpl_live_unlock_all(&l);
    assert_int_equal(v.n, 11);
    assert_int_equal(verdict_of(&v, A), 1);
    assert_int_equal(verdict_of(&v, B), 1);
    assert_int_equal(verdict_of(&v, C), 1);
    assert_int_equal(verdict_of(&v, D), 1);
    assert_int_equal(verdict_of(&v, E), 0);
    assert_int_equal(verdict_of(&v, F), 0);
    assert_int_equal(verdict_of(&v, G), 0);
    assert_int_equal(verdict_of(&v, H), 0);
    assert_int_equal(verdict_of(&v, I), 0);
    assert_int_equal(verdict_of(&v, J), 1);
    assert_int_equal(verdict_of(&v, Z), 1);
    for (size_t i = 0; i < v.n; i++)
        assert_int_equal(v.size[i], v.ptr[i] == (uintptr_t)Z ? 0 : 64);

    /* without roots everything is lost */
    v.n = 0;
    rcpl_live_lock_all(&l);
    assert_int_equal(rcpl_leaks_scan(&l, NULL, 0, &readable, keep_verdict, &v), 0);
    rcpl_live_unlock_all(&l);
    for (size_t i = 0; i < v.n; i++)
        assert_false(v.reachable[i]);
    assert_int_equal(v.n, 11);

    rcpl_ranges_release(&readable);
    rcpl_live_release(&l);
    munmap(heap, 4 * page);
}

static int a_global = 1;

static void test_maps(void **state) {
    (void)state;
    int local = 0;
    rcpl_ranges rs = {0};
    assert_int_equal(rcpl_maps_readable(&rs), 0);
    assert_true(rs.count > 3);
    bool stack_in = false, global_in = false;
    for (size_t i = 0; i < rs.count; i++) {
        if (i)
            assert_true(rs.r[i - 1].hi < rs.r[i].lo);   /* sorted, merged */
        stack_in |= (uintptr_t)&local >= rs.r[i].lo && (uintptr_t)&local < rs.r[i].hi;
        global_in |= (uintptr_t)&a_global >= rs.r[i].lo && (uintptr_t)&a_global < rs.r[i].hi;
    }
    assert_true(stack_in && global_in);
    rcpl_range m;
    assert_true(rcpl_maps_find((uintptr_t)&local, &m));
    assert_true(m.lo <= (uintptr_t)&local && (uintptr_t)&local < m.hi);
    assert_false(rcpl_maps_find(8, &m));
    rcpl_ranges_release(&rs);
}

/* ---- loaded objects ---- */

typedef struct reported {
    size_t n;
    char last[4096];
    bool plugin;
} reported;

static void note_object(void *arg, const rcpl_object *o) {
    reported *r = arg;
    r->n++;
    snprintf(r->last, sizeof r->last, "%s", o->path);
    if (strstr(o->path, "librcpl_plugin.so"))
        r->plugin = true;
}

static void test_modules(void **state) {
    (void)state;
    rcpl_objects objs = {0};
    assert_int_equal(rcpl_objects_scan(&objs), 0);
    bool main_found = false, libc_found = false;
    uintptr_t code = (uintptr_t)&test_modules;
    for (size_t i = 0; i < objs.count; i++) {
        const rcpl_object *o = &objs.obj[i];
        for (size_t k = 0; k < o->nseg; k++) {
            assert_true(o->seg[k].start <= o->seg[k].vstart && o->seg[k].vend <= o->seg[k].end);
            if (code >= o->seg[k].vstart && code < o->seg[k].vend) {
                main_found = true;
                assert_true(o->seg[k].flags & RCPL_SEG_X);
                assert_string_equal(o->path, rct_self_exe());
            }
        }
        if (strstr(o->path, "libc.so")) {
            libc_found = true;
            assert_int_equal(o->build_id_len, 20);   /* Debian builds carry a SHA-1 build id */
        }
    }
    assert_true(main_found && libc_found);
    rcpl_objects_release(&objs);

    static rcpl_modset m;
    memset(&m, 0, sizeof m);
    reported r = {0};
    assert_true(rcpl_modset_update(&m, false, true, note_object, &r) > 2);
    size_t first = r.n;
    assert_int_equal(rcpl_modset_update(&m, false, true, note_object, &r), 0);
    assert_int_equal(rcpl_modset_update(&m, true, true, note_object, &r), 0);
    assert_int_equal(r.n, first);

    void *h = dlopen(RCPL_TEST_BIN "/librcpl_plugin.so", RTLD_NOW);
    assert_non_null(h);
    r.n = 0;
    assert_int_equal(rcpl_modset_update(&m, false, true, note_object, &r), 1);
    assert_true(r.plugin);
    assert_non_null(strstr(r.last, "librcpl_plugin.so"));
    /* busy elsewhere: give up at once */
    rcpl_lock_take(&m.lock);
    assert_true(rcpl_modset_update(&m, true, false, note_object, &r) == SIZE_MAX);
    rcpl_lock_give(&m.lock);
    assert_int_equal(dlclose(h), 0);
    r.n = 0;
    assert_int_equal(rcpl_modset_update(&m, false, true, note_object, &r), 0);
    h = dlopen(RCPL_TEST_BIN "/librcpl_plugin.so", RTLD_NOW);
    assert_non_null(h);
    assert_int_equal(rcpl_modset_update(&m, false, true, note_object, &r), 1);
    assert_int_equal(dlclose(h), 0);
    rcpl_modset_release(&m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_ids),
        cmocka_unit_test(test_tree_flat_and_refused),
        cmocka_unit_test(test_tree_memo_tags),
        cmocka_unit_test(test_tree_threads),
        cmocka_unit_test(test_live_model),
        cmocka_unit_test(test_live_replace_and_clear),
        cmocka_unit_test(test_sample_weights),
        cmocka_unit_test(test_sample_unbiased),
        cmocka_unit_test(test_env_parse),
        cmocka_unit_test(test_env_read),
        cmocka_unit_test(test_leaks_scan),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_modules),
    };
    return rct_run_tests(tests, NULL, NULL);
}
