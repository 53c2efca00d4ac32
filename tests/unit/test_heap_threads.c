/* rc-test: threads stress */
/* test_heap_threads.c - the heap under several threads.
 *
 * 1. Cross-thread free under stress: producers allocate blocks of random sizes,
 *    tag them (producer id + sequence number, then a pattern derived from the
 *    tag over the whole block) and hand them to consumers through a
 *    mutex-protected queue; consumers check the tag, sometimes realloc the
 *    block, and free it. A shared set of the pointers currently live (libc
 *    memory, under a mutex) catches a block handed out twice.
 * 2. Thread exit: threads allocate, leave their blocks live and exit; the main
 *    thread (and the threads of the next round) check and free them. New
 *    threads reuse the abandoned heaps; the heap counts stay bounded.
 *
 * cmocka assertions are made from the main thread only: workers record
 * failures, the main thread asserts there were none. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>

#include <recycle/heap.h>
#include "rct.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* ---- failure recording ------------------------------------------------- */

static atomic_long g_failures;
static pthread_mutex_t g_msg_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_first_failure[256];

#define FAIL_IF(cond, ...)                                                  \
    do {                                                                    \
        if (cond) {                                                         \
            if (atomic_fetch_add(&g_failures, 1) == 0) {                    \
                pthread_mutex_lock(&g_msg_lock);                            \
                snprintf(g_first_failure, sizeof g_first_failure, __VA_ARGS__); \
                pthread_mutex_unlock(&g_msg_lock);                          \
            }                                                               \
        }                                                                   \
    } while (0)

static void reset_failures(void)
{
    atomic_store(&g_failures, 0);
    g_first_failure[0] = 0;
}

static void assert_no_failures(void)
{
    long n = atomic_load(&g_failures);
    if (n != 0)
        fail_msg("%ld failure(s) in worker threads; first: %s", n, g_first_failure);
}

/* ---- the set of live pointers (libc memory) ---------------------------- */

typedef struct live_node { const void *p; struct live_node *next; } live_node;
#define LIVE_BUCKETS 65536
static live_node *g_live[LIVE_BUCKETS];
static size_t g_live_count;
static pthread_mutex_t g_live_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t live_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)(x & (LIVE_BUCKETS - 1));
}

/* 1 if inserted, 0 if p was already live (a block handed out twice). */
static int live_insert(const void *p)
{
    live_node *n = malloc(sizeof *n);
    if (!n)
        return 0;
    n->p = p;
    size_t h = live_hash(p);
    pthread_mutex_lock(&g_live_lock);
    for (live_node *it = g_live[h]; it; it = it->next) {
        if (it->p == p) {
            pthread_mutex_unlock(&g_live_lock);
            free(n);
            return 0;
        }
    }
    n->next = g_live[h];
    g_live[h] = n;
    g_live_count++;
    pthread_mutex_unlock(&g_live_lock);
    return 1;
}

/* 1 if removed, 0 if p was not live. Call before freeing p. */
static int live_remove(const void *p)
{
    size_t h = live_hash(p);
    pthread_mutex_lock(&g_live_lock);
    for (live_node **it = &g_live[h]; *it; it = &(*it)->next) {
        if ((*it)->p == p) {
            live_node *n = *it;
            *it = n->next;
            g_live_count--;
            pthread_mutex_unlock(&g_live_lock);
            free(n);
            return 1;
        }
    }
    pthread_mutex_unlock(&g_live_lock);
    return 0;
}

static size_t live_count(void)
{
    pthread_mutex_lock(&g_live_lock);
    size_t n = g_live_count;
    pthread_mutex_unlock(&g_live_lock);
    return n;
}

/* ---- tagged blocks ----------------------------------------------------- */

typedef struct item { void *p; size_t size; uint64_t tag; } item;

static uint64_t make_tag(unsigned thread, uint64_t seq)
{
    return ((uint64_t)(thread + 1) << 40) | seq;
}

/* The tag itself in the first 8 bytes (when they fit), then a pattern. */
static void tag_block(void *p, size_t size, uint64_t tag)
{
    if (size >= 8) {
        memcpy(p, &tag, 8);
        rct_fill((char *)p + 8, size - 8, tag);
    } else {
        rct_fill(p, size, tag);
    }
}

static int tag_ok(const void *p, size_t size, uint64_t tag)
{
    if (size >= 8) {
        uint64_t t;
        memcpy(&t, p, 8);
        return t == tag && rct_check((const char *)p + 8, size - 8, tag) == SIZE_MAX;
    }
    return rct_check(p, size, tag) == SIZE_MAX;
}

static size_t max_big(void)
{
    return rct_scale() < 0.5 ? 256 * KiB : 2 * MiB;
}

static size_t random_size(rct_rng *r)
{
    unsigned k = (unsigned)rct_rng_range(r, 0, 999);
    if (k < 700)
        return rct_rng_range(r, 0, 256);
    if (k < 950)
        return rct_rng_range(r, 257, 16 * KiB);
    if (k < 995)
        return rct_rng_range(r, 16 * KiB, 256 * KiB);
    return rct_rng_range(r, 256 * KiB, max_big());
}

/* Allocate with one of the family's entry points; fills nothing. */
static void *alloc_some(rct_rng *r, size_t size)
{
    switch (rct_rng_range(r, 0, 9)) {
    case 0:
        return rc_calloc(1, size);
    case 1:
        return rc_aligned_alloc((size_t)1 << rct_rng_range(r, 4, 12), size);
    default:
        return rc_malloc(size);
    }
}

/* ---- part 1: producers and consumers ----------------------------------- */

#define QCAP 1024
typedef struct queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty, not_full;
    item buf[QCAP];
    size_t head, count;
} queue;

static queue g_q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                     PTHREAD_COND_INITIALIZER, {{0}}, 0, 0 };

static void q_push(item it)
{
    pthread_mutex_lock(&g_q.lock);
    while (g_q.count == QCAP)
        pthread_cond_wait(&g_q.not_full, &g_q.lock);
    g_q.buf[(g_q.head + g_q.count) % QCAP] = it;
    g_q.count++;
    pthread_cond_signal(&g_q.not_empty);
    pthread_mutex_unlock(&g_q.lock);
}

static item q_pop(void)
{
    pthread_mutex_lock(&g_q.lock);
    while (g_q.count == 0)
        pthread_cond_wait(&g_q.not_empty, &g_q.lock);
    item it = g_q.buf[g_q.head];
    g_q.head = (g_q.head + 1) % QCAP;
    g_q.count--;
    pthread_cond_signal(&g_q.not_full);
    pthread_mutex_unlock(&g_q.lock);
    return it;
}

typedef struct worker_arg {
    unsigned id;
    size_t ops;
    uint64_t seed;
    atomic_size_t *freed;   /* consumer: blocks freed */
} worker_arg;

static void check_and_free(const item *it, const char *who)
{
    FAIL_IF(!tag_ok(it->p, it->size, it->tag),
            "%s: block %p (size %zu, tag %llx) corrupted", who, it->p, it->size,
            (unsigned long long)it->tag);
    FAIL_IF(rc_usable_size(it->p) < it->size, "%s: usable size of %p shrank", who, it->p);
    FAIL_IF(!live_remove(it->p), "%s: block %p not in the live set", who, it->p);
    rc_free(it->p);
}

static void *producer(void *arg)
{
    worker_arg *a = arg;
    rct_rng r;
    rct_rng_init(&r, a->seed);
    enum { KEEP = 64 };
    item local[KEEP];
    size_t nlocal = 0;
    for (size_t seq = 0; seq < a->ops; seq++) {
        size_t size = random_size(&r);
        void *p = alloc_some(&r, size);
        FAIL_IF(!p, "producer %u: allocation of %zu failed", a->id, size);
        if (!p)
            break;
        FAIL_IF(((uintptr_t)p & (RC_HEAP_ALIGNMENT - 1)) != 0, "misaligned %p", p);
        FAIL_IF(!live_insert(p), "producer %u: block %p handed out twice", a->id, p);
        item it = { p, size, make_tag(a->id, seq) };
        tag_block(p, size, it.tag);
        if (rct_rng_range(&r, 0, 9) < 6) {
            q_push(it);                  /* freed by another thread */
        } else {
            if (nlocal == KEEP) {        /* free one of ours locally */
                size_t k = rct_rng_range(&r, 0, KEEP - 1);
                check_and_free(&local[k], "producer");
                local[k] = local[--nlocal];
            }
            local[nlocal++] = it;
        }
    }
    for (size_t i = 0; i < nlocal; i++)
        check_and_free(&local[i], "producer");
    return NULL;
}

static void *consumer(void *arg)
{
    worker_arg *a = arg;
    rct_rng r;
    rct_rng_init(&r, a->seed);
    for (;;) {
        item it = q_pop();
        if (!it.p)
            break;                       /* sentinel */
        if (rct_rng_range(&r, 0, 7) == 0) {
            /* realloc someone else's block: contents must move along */
            FAIL_IF(!tag_ok(it.p, it.size, it.tag), "consumer: %p corrupted before realloc", it.p);
            FAIL_IF(!live_remove(it.p), "consumer: %p not live before realloc", it.p);
            size_t nsize = random_size(&r);
            void *q = rc_realloc(it.p, nsize);
            FAIL_IF(!q, "consumer: realloc to %zu failed", nsize);
            if (!q)
                continue;
            size_t keep = it.size < nsize ? it.size : nsize;
            /* the prefix survives the move; re-tag the whole new block */
            if (keep >= 8 && it.size >= 8) {
                uint64_t t;
                memcpy(&t, q, 8);
                FAIL_IF(t != it.tag, "consumer: realloc lost the tag");
                FAIL_IF(rct_check((char *)q + 8, keep - 8, it.tag) != SIZE_MAX,
                        "consumer: realloc lost contents");
            }
            FAIL_IF(!live_insert(q), "consumer: realloc returned live block %p", q);
            it.p = q;
            it.size = nsize;
            it.tag ^= 0x8000000000ull;
            tag_block(q, nsize, it.tag);
        }
        check_and_free(&it, "consumer");
        atomic_fetch_add(a->freed, 1);
    }
    return NULL;
}

static void test_cross_thread_free_stress(void **state)
{
    (void)state;
    reset_failures();
    enum { P = 4, C = 2 };
    uint64_t seed = rct_seed(0xC0FFEE);
    size_t ops = rct_scaled(25000, 300);

    rc_heap_stats s0, s1;
    assert_int_equal(rct_stats(&s0), 0);

    pthread_t pt[P], ct[C];
    worker_arg pa[P], ca[C];
    atomic_size_t freed = 0;
    for (unsigned i = 0; i < C; i++) {
        ca[i] = (worker_arg){ 100 + i, 0, seed ^ (0x1000 + i), &freed };
        assert_int_equal(pthread_create(&ct[i], NULL, consumer, &ca[i]), 0);
    }
    for (unsigned i = 0; i < P; i++) {
        pa[i] = (worker_arg){ i, ops, seed ^ i, NULL };
        assert_int_equal(pthread_create(&pt[i], NULL, producer, &pa[i]), 0);
    }
    for (unsigned i = 0; i < P; i++)
        assert_int_equal(pthread_join(pt[i], NULL), 0);
    for (unsigned i = 0; i < C; i++)
        q_push((item){ NULL, 0, 0 });
    for (unsigned i = 0; i < C; i++)
        assert_int_equal(pthread_join(ct[i], NULL), 0);

    assert_no_failures();
    assert_int_equal(live_count(), 0);
    assert_true(atomic_load(&freed) > 0);

    rc_heap_collect(0);
    assert_int_equal(rct_stats(&s1), 0);
    /* everything was freed, whichever thread freed it */
    assert_int_equal(s1.bytes_in_use, s0.bytes_in_use);
    assert_int_equal(s1.large_blocks, s0.large_blocks);
    for (size_t i = 0; i < s1.nclasses; i++)
        assert_int_equal(s1.classes[i].blocks_used, s0.classes[i].blocks_used);
    assert_true(s1.heaps_abandoned <= s1.heaps_current);
    assert_true(s1.heaps_current <= s0.heaps_current + P + C);
    assert_int_equal(s1.arenas_current, s1.arenas_allocated - s1.arenas_freed);
}

/* ---- part 2: threads exit leaving live blocks -------------------------- */

enum { T = 4, ROUNDS = 6 };

typedef struct exit_arg {
    unsigned round, id;
    size_t n;
    item *mine;              /* n slots to fill */
    item *previous;          /* blocks of the previous round to free (or NULL) */
    size_t nprevious;
    pthread_barrier_t *barrier;
} exit_arg;

static void *leaver(void *arg)
{
    exit_arg *a = arg;
    rct_rng r;
    rct_rng_init(&r, ((uint64_t)a->round << 32) ^ a->id ^ 0xABCDEF);
    /* free our share of the previous round's blocks (they live in abandoned
     * or re-adopted heaps) */
    for (size_t i = a->id; i < a->nprevious; i += T)
        if (a->previous[i].p)
            check_and_free(&a->previous[i], "leaver");
    for (size_t i = 0; i < a->n; i++) {
        size_t size = random_size(&r);
        void *p = alloc_some(&r, size);
        FAIL_IF(!p, "leaver: allocation failed");
        if (!p) {
            a->mine[i].p = NULL;
            continue;
        }
        FAIL_IF(!live_insert(p), "leaver: block %p handed out twice", p);
        uint64_t tag = make_tag(a->id, ((uint64_t)a->round << 24) | i);
        tag_block(p, size, tag);
        a->mine[i] = (item){ p, size, tag };
    }
    /* every thread of the round is alive at once, so each needs its own heap */
    pthread_barrier_wait(a->barrier);
    return NULL;
}

static void test_thread_exit_hand_on(void **state)
{
    (void)state;
    reset_failures();
    size_t n = rct_scaled(3000, 100);
    item *blocks[ROUNDS];
    rc_heap_stats base, s;
    rc_heap_collect(1);
    assert_int_equal(rct_stats(&base), 0);
    size_t arenas_after_round1 = 0;

    for (unsigned round = 0; round < ROUNDS; round++) {
        blocks[round] = calloc(T * n, sizeof(item));
        assert_non_null(blocks[round]);
        pthread_barrier_t barrier;
        assert_int_equal(pthread_barrier_init(&barrier, NULL, T), 0);
        pthread_t th[T];
        exit_arg args[T];
        for (unsigned i = 0; i < T; i++) {
            args[i] = (exit_arg){ round, i, n, blocks[round] + (size_t)i * n,
                                  round ? blocks[round - 1] : NULL,
                                  round ? T * n : 0, &barrier };
            assert_int_equal(pthread_create(&th[i], NULL, leaver, &args[i]), 0);
        }
        for (unsigned i = 0; i < T; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&barrier);
        assert_no_failures();
        if (round) {
            free(blocks[round - 1]);
            blocks[round - 1] = NULL;
        }

        /* the round's threads are gone; their blocks are still valid */
        assert_int_equal(rct_stats(&s), 0);
        assert_true(s.heaps_abandoned >= T);
        assert_true(s.heaps_abandoned <= s.heaps_current);
        /* exited threads' heaps are reused, not piled up */
        assert_true(s.heaps_current <= base.heaps_current + T);
        if (round == 1)
            arenas_after_round1 = s.arenas_current;
        else if (round > 1)
            assert_true(s.arenas_current <= arenas_after_round1 + 2 * T + 2);

        /* the main thread frees half of them now (cross-thread, into
         * abandoned heaps); the next round's threads free the rest */
        item *b = blocks[round];
        for (size_t i = 0; i < T * n; i++) {
            if (b[i].p && (i & 1)) {
                check_and_free(&b[i], "main");
                b[i].p = NULL;
            }
        }
        assert_no_failures();
        rc_heap_collect(0);
        assert_int_equal(rct_stats(&s), 0);
        assert_int_equal(s.arenas_current, s.arenas_allocated - s.arenas_freed);
    }

    /* the last round's remaining blocks */
    item *b = blocks[ROUNDS - 1];
    for (size_t i = 0; i < T * n; i++)
        if (b[i].p)
            check_and_free(&b[i], "main");
    free(b);
    assert_no_failures();
    assert_int_equal(live_count(), 0);

    rc_heap_collect(1);
    assert_int_equal(rct_stats(&s), 0);
    assert_int_equal(s.bytes_in_use, base.bytes_in_use);
    assert_int_equal(s.large_blocks, base.large_blocks);
    for (size_t i = 0; i < s.nclasses; i++)
        assert_int_equal(s.classes[i].blocks_used, base.classes[i].blocks_used);
    assert_true(s.heaps_current <= base.heaps_current + T);
    /* abandoned heaps that are now empty hold no arenas beyond a few */
    assert_true(s.arenas_current <= base.arenas_current + T + 1);
}

/* ---- part 3: many short-lived threads ---------------------------------- */

static void *short_lived(void *arg)
{
    item *slot = arg;
    void *keep = rc_malloc(100);
    void *tmp = rc_malloc(5000);
    if (keep)
        tag_block(keep, 100, 0x5151);
    rc_free(tmp);
    slot->p = keep;
    slot->size = 100;
    slot->tag = 0x5151;
    return NULL;
}

static void test_many_short_lived_threads(void **state)
{
    (void)state;
    reset_failures();
    size_t n = rct_scaled(200, 20);
    item *slots = calloc(n, sizeof *slots);
    assert_non_null(slots);
    rc_heap_stats base, s;
    assert_int_equal(rct_stats(&base), 0);
    for (size_t i = 0; i < n; i++) {
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, short_lived, &slots[i]), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_non_null(slots[i].p);
        for (size_t j = 0; j < i; j++)
            assert_ptr_not_equal(slots[i].p, slots[j].p);
    }
    assert_int_equal(rct_stats(&s), 0);
    /* one thread at a time: its heap is handed on to the next */
    assert_true(s.heaps_current <= base.heaps_current + 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(tag_ok(slots[i].p, slots[i].size, slots[i].tag));
        rc_free(slots[i].p);
    }
    free(slots);
    rc_heap_collect(0);
    assert_int_equal(rct_stats(&s), 0);
    assert_int_equal(s.bytes_in_use, base.bytes_in_use);
}

/* A livelock or deadlock in the heap must fail the test, not hang it. */
static void on_watchdog(int sig)
{
    (void)sig;
    static const char msg[] =
        "test_heap_threads: watchdog expired: the heap is stuck (livelock or deadlock)\n";
    ssize_t n = write(2, msg, sizeof msg - 1);
    (void)n;
    _exit(3);
}

static int setup(void **state)
{
    (void)state;
    rc_heap_set_debug(0);
    signal(SIGALRM, on_watchdog);
    alarm(rct_scale() >= 0.5 ? 120 : 280);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cross_thread_free_stress),
        cmocka_unit_test(test_thread_exit_hand_on),
        cmocka_unit_test(test_many_short_lived_threads),
    };
    return rct_run_tests(tests, setup, NULL);
}
