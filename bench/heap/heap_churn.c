/* heap_churn.c - allocator micro-benchmarks for the recycle heap.
 *
 * One source, one binary per allocator. The allocator is chosen at compile
 * time with exactly one of:
 *
 *   -DBENCH_ALLOC_RC    rc_malloc / rc_free (link librecycle.a; add
 *                       -DBENCH_ALLOC_NAME='"name"' to label another build)
 *   -DBENCH_ALLOC_MI    mi_malloc / mi_free (link -lmimalloc)
 *   -DBENCH_ALLOC_JE    malloc / free, replaced by jemalloc (link -ljemalloc)
 *   -DBENCH_ALLOC_TC    malloc / free, replaced by tcmalloc (-ltcmalloc_minimal)
 *   -DBENCH_ALLOC_LIBC  malloc / free from glibc (link nothing else)
 *
 * Scenarios (argv):
 *
 *   churn     a working set of --slots live blocks per thread; each of --ops
 *             operations picks a random slot, frees the block there (if any),
 *             allocates a new block of a random size in [--min, --max] and
 *             writes its first 8 bytes. --threads N runs N independent
 *             working sets in N threads (each does --ops operations).
 *   prodcons  a producer thread allocates --ops blocks of random size and
 *             hands them in batches of --batch pointers through a bounded
 *             lock-free single-producer/single-consumer ring of --ring
 *             batches to a consumer thread, which frees them (cross-thread
 *             free).
 *   floor     churn's loop without the allocator: each operation reads and
 *             rewrites the block already in the slot. Its time is the
 *             harness's own cost (RNG, random slot, cache misses on the
 *             blocks); churn minus floor is what the allocator costs.
 *   check     print which allocator this binary really uses, and exit
 *             (status 0 if verified, 1 if not).
 *
 * Output: one line "RESULT key=value ..." on stdout (see print_result).
 * The timed region covers the whole workload (filling the working set, the
 * operations, and freeing everything at the end); thread creation is outside
 * it. Peak RSS is the process's VmHWM (ru_maxrss as a fallback).
 *
 * The harness itself never allocates on the measured path: slot arrays and
 * the ring are mmap'ed, the RNG is xorshift64* (one call per operation).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

/* ------------------------------------------------------------------------
 * The allocator under test
 * ---------------------------------------------------------------------- */
#if defined(BENCH_ALLOC_RC)
#  include "recycle/heap.h"
#  define B_MALLOC(n) rc_malloc(n)
#  define B_FREE(p)   rc_free(p)
/* BENCH_ALLOC_NAME names another build of librecycle.a (bench/heap/run.sh's
 * "recycle-base", for before/after comparisons). */
#  ifdef BENCH_ALLOC_NAME
#    define ALLOC_NAME BENCH_ALLOC_NAME
#  else
#    define ALLOC_NAME "recycle"
#  endif
#  define ALLOC_API   "rc_malloc/rc_free"
#elif defined(BENCH_ALLOC_MI)
#  include <mimalloc.h>
#  define B_MALLOC(n) mi_malloc(n)
#  define B_FREE(p)   mi_free(p)
#  define ALLOC_NAME  "mimalloc"
#  define ALLOC_API   "mi_malloc/mi_free"
#elif defined(BENCH_ALLOC_JE) || defined(BENCH_ALLOC_TC) || defined(BENCH_ALLOC_LIBC)
#  define B_MALLOC(n) malloc(n)
#  define B_FREE(p)   free(p)
#  define ALLOC_API   "malloc/free"
#  if defined(BENCH_ALLOC_JE)
#    define ALLOC_NAME "jemalloc"
#  elif defined(BENCH_ALLOC_TC)
#    define ALLOC_NAME "tcmalloc"
#  else
#    define ALLOC_NAME "glibc"
#  endif
#else
#  error "define one of BENCH_ALLOC_RC, _MI, _JE, _TC, _LIBC"
#endif

/* ------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------- */
static void die(const char *msg)
{
    fprintf(stderr, "heap_churn[%s]: %s\n", ALLOC_NAME, msg);
    exit(2);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A field of /proc/self/status in KiB ("VmHWM", "VmRSS"), or -1. */
static long proc_status_kb(const char *field)
{
    char line[256];
    size_t flen = strlen(field);
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            kb = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

static long peak_rss_kb(void)
{
    long kb = proc_status_kb("VmHWM");
    if (kb < 0) {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            kb = ru.ru_maxrss; /* KiB on Linux */
    }
    return kb;
}

static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap failed");
    return p;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Spin a little, then yield: the machine may have fewer free cores than
 * threads, and a pure spin would then steal the other side's time slice. */
static inline void backoff(unsigned *spins)
{
    if (++*spins < 256)
        cpu_relax();
    else
        sched_yield();
}

/* splitmix64 to seed, xorshift64* to generate. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct { uint64_t s; } rng;

static void rng_seed(rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xD1B54A32D192ED03ull);
    r->s = splitmix64(&x);
    if (r->s == 0)
        r->s = 1;
}

static inline uint64_t rng_next(rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Map a 32-bit random value onto [0, n) (multiply-shift; bias < n/2^32). */
static inline uint32_t range32(uint32_t r, uint32_t n)
{
    return (uint32_t)(((uint64_t)r * n) >> 32);
}

/* ------------------------------------------------------------------------
 * Parameters
 * ---------------------------------------------------------------------- */
typedef struct params {
    const char *scenario;
    uint64_t ops;      /* per thread (churn) or blocks in total (prodcons) */
    uint32_t slots;    /* live blocks per working set */
    uint32_t threads;  /* churn threads */
    uint32_t min_size, max_size;
    uint64_t seed;
    uint32_t batch;    /* prodcons: pointers per batch */
    uint32_t ring;     /* prodcons: batches in the ring */
} params;

/* ------------------------------------------------------------------------
 * Scenario: churn
 * ---------------------------------------------------------------------- */
typedef struct worker {
    const params *p;
    uint32_t index;
    pthread_barrier_t *start;
    uint64_t checksum;
    double seconds; /* this worker's own workload time */
} worker;

static void churn_run(worker *w)
{
    const params *p = w->p;
    const uint32_t nslots = p->slots;
    const uint32_t min = p->min_size;
    const uint32_t span = p->max_size - p->min_size + 1;
    const int floor_only = strcmp(p->scenario, "floor") == 0;
    void **slot = map_zeroed((size_t)nslots * sizeof *slot);
    uint64_t sum = 0;
    rng r;
    rng_seed(&r, p->seed, w->index);

    if (w->start)
        pthread_barrier_wait(w->start);
    double t0 = now_s();

    /* Fill the working set. */
    for (uint32_t i = 0; i < nslots; i++) {
        uint64_t x = rng_next(&r);
        size_t n = min + range32((uint32_t)(x >> 32), span);
        uint64_t *b = B_MALLOC(n);
        if (!b)
            die("allocation failed");
        b[0] = x;
        slot[i] = b;
    }
    /* Churn: free a random slot's block, allocate a new one there. */
    for (uint64_t op = 0; op < p->ops; op++) {
        uint64_t x = rng_next(&r);
        uint32_t i = range32((uint32_t)x, nslots);
        size_t n = min + range32((uint32_t)(x >> 32), span);
        uint64_t *old = slot[i];
        if (floor_only) {
            /* Harness floor: same RNG, slot and block traffic, no allocator. */
            sum += old[0] + n;
            old[0] = x;
            continue;
        }
        if (old) {
            sum += old[0];
            B_FREE(old);
        }
        uint64_t *b = B_MALLOC(n);
        if (!b)
            die("allocation failed");
        b[0] = x;
        slot[i] = b;
    }
    /* Drain. */
    for (uint32_t i = 0; i < nslots; i++) {
        uint64_t *b = slot[i];
        if (b) {
            sum += b[0];
            B_FREE(b);
        }
    }

    w->seconds = now_s() - t0;
    w->checksum = sum;
    munmap(slot, (size_t)nslots * sizeof *slot);
}

static void *churn_thread(void *arg)
{
    churn_run(arg);
    return NULL;
}

static double scenario_churn(const params *p, uint64_t *checksum)
{
    double t0, t1;
    *checksum = 0;
    if (p->threads == 1) {
        worker w = { .p = p, .index = 0 };
        t0 = now_s();
        churn_run(&w);
        t1 = now_s();
        *checksum = w.checksum;
        return t1 - t0;
    }

    pthread_t tid[64];
    worker w[64];
    pthread_barrier_t start;
    if (p->threads > 64)
        die("--threads at most 64");
    pthread_barrier_init(&start, NULL, p->threads + 1);
    for (uint32_t t = 0; t < p->threads; t++) {
        w[t] = (worker){ .p = p, .index = t, .start = &start };
        if (pthread_create(&tid[t], NULL, churn_thread, &w[t]) != 0)
            die("pthread_create failed");
    }
    pthread_barrier_wait(&start);
    t0 = now_s();
    for (uint32_t t = 0; t < p->threads; t++)
        pthread_join(tid[t], NULL);
    t1 = now_s();
    for (uint32_t t = 0; t < p->threads; t++)
        *checksum += w[t].checksum;
    pthread_barrier_destroy(&start);
    return t1 - t0;
}

/* ------------------------------------------------------------------------
 * Scenario: producer/consumer through an SPSC ring of pointer batches
 * ---------------------------------------------------------------------- */
typedef struct pc_ring {
    _Alignas(64) _Atomic uint64_t head; /* batches published by the producer */
    _Alignas(64) _Atomic uint64_t tail; /* batches released by the consumer */
    _Alignas(64) const params *p;
    uint32_t *count;                    /* [ring] pointers in each batch */
    void **buf;                         /* [ring][batch] */
    pthread_barrier_t *start;
    uint64_t checksum;
} pc_ring;

static void *producer(void *arg)
{
    pc_ring *q = arg;
    const params *p = q->p;
    const uint32_t min = p->min_size;
    const uint32_t span = p->max_size - p->min_size + 1;
    const uint64_t nbatches = (p->ops + p->batch - 1) / p->batch;
    uint64_t left = p->ops, tail_seen = 0;
    rng r;
    rng_seed(&r, p->seed, 1000);

    pthread_barrier_wait(q->start);
    for (uint64_t b = 0; b < nbatches; b++) {
        unsigned spins = 0;
        while (b - tail_seen >= p->ring) {
            tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
            if (b - tail_seen >= p->ring)
                backoff(&spins);
        }
        uint32_t k = (uint32_t)(b % p->ring);
        void **out = q->buf + (size_t)k * p->batch;
        uint32_t n = left < p->batch ? (uint32_t)left : p->batch;
        for (uint32_t j = 0; j < n; j++) {
            uint64_t x = rng_next(&r);
            uint64_t *blk = B_MALLOC(min + range32((uint32_t)(x >> 32), span));
            if (!blk)
                die("allocation failed");
            blk[0] = x;
            out[j] = blk;
        }
        q->count[k] = n;
        left -= n;
        atomic_store_explicit(&q->head, b + 1, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    pc_ring *q = arg;
    const params *p = q->p;
    const uint64_t nbatches = (p->ops + p->batch - 1) / p->batch;
    uint64_t head_seen = 0, sum = 0;

    pthread_barrier_wait(q->start);
    for (uint64_t b = 0; b < nbatches; b++) {
        unsigned spins = 0;
        while (b >= head_seen) {
            head_seen = atomic_load_explicit(&q->head, memory_order_acquire);
            if (b >= head_seen)
                backoff(&spins);
        }
        uint32_t k = (uint32_t)(b % p->ring);
        void **in = q->buf + (size_t)k * p->batch;
        uint32_t n = q->count[k];
        for (uint32_t j = 0; j < n; j++) {
            uint64_t *blk = in[j];
            sum += blk[0];
            B_FREE(blk);
        }
        atomic_store_explicit(&q->tail, b + 1, memory_order_release);
    }
    q->checksum = sum;
    return NULL;
}

static double scenario_prodcons(const params *p, uint64_t *checksum)
{
    pthread_barrier_t start;
    pthread_t tp, tc;
    pc_ring *q = map_zeroed(sizeof *q);
    size_t bufbytes = (size_t)p->ring * p->batch * sizeof(void *);
    q->p = p;
    q->count = map_zeroed((size_t)p->ring * sizeof *q->count);
    q->buf = map_zeroed(bufbytes);
    q->start = &start;
    pthread_barrier_init(&start, NULL, 3);
    if (pthread_create(&tc, NULL, consumer, q) != 0 ||
        pthread_create(&tp, NULL, producer, q) != 0)
        die("pthread_create failed");
    pthread_barrier_wait(&start);
    double t0 = now_s();
    pthread_join(tp, NULL);
    pthread_join(tc, NULL);
    double t1 = now_s();
    *checksum = q->checksum;
    pthread_barrier_destroy(&start);
    munmap(q->buf, bufbytes);
    munmap(q->count, (size_t)p->ring * sizeof *q->count);
    munmap(q, sizeof *q);
    return t1 - t0;
}

/* ------------------------------------------------------------------------
 * Which allocator is really in use?
 *
 * provider: the shared object that the process-wide symbol "malloc" resolves
 * to (libc.so.6 unless something replaced it). verified: a block from
 * B_MALLOC is owned by the intended allocator, asked through that
 * allocator's own API.
 * ---------------------------------------------------------------------- */
static const char *basename_of(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int verify_allocator(char *detail, size_t len, const char **provider)
{
    Dl_info info;
    void *sym = dlsym(RTLD_DEFAULT, "malloc");
    *provider = "unknown";
    if (sym && dladdr(sym, &info) && info.dli_fname)
        *provider = basename_of(info.dli_fname);

    void *blk = B_MALLOC(100);
    if (!blk)
        die("allocation failed");
    int ok = 0;

#if defined(BENCH_ALLOC_RC)
    ok = rc_heap_contains(blk) == 1;
    snprintf(detail, len, "rc_heap_contains(block)=%d (static librecycle.a)",
             rc_heap_contains(blk));
#elif defined(BENCH_ALLOC_MI)
    ok = mi_is_in_heap_region(blk);
    snprintf(detail, len, "mi_version=%d mi_is_in_heap_region(block)=%d",
             mi_version(), (int)mi_is_in_heap_region(blk));
#elif defined(BENCH_ALLOC_JE)
    typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
    mallctl_fn mallctl = (mallctl_fn)dlsym(RTLD_DEFAULT, "mallctl");
    const char *ver = "?";
    size_t vlen = sizeof ver;
    if (mallctl && mallctl("version", (void *)&ver, &vlen, NULL, 0) != 0)
        ver = "?";
    ok = mallctl != NULL && strstr(*provider, "jemalloc") != NULL;
    snprintf(detail, len, "mallctl(\"version\")=%s", mallctl ? ver : "(absent)");
#elif defined(BENCH_ALLOC_TC)
    typedef int (*own_fn)(const void *);
    typedef const char *(*ver_fn)(int *, int *, const char **);
    own_fn own = (own_fn)dlsym(RTLD_DEFAULT, "MallocExtension_GetOwnership");
    ver_fn tcv = (ver_fn)dlsym(RTLD_DEFAULT, "tc_version");
    int owned = own ? own(blk) : -1; /* 1 = MallocExtension_kOwned */
    ok = owned == 1 && strstr(*provider, "tcmalloc") != NULL;
    snprintf(detail, len, "%s MallocExtension_GetOwnership(block)=%d",
             tcv ? tcv(NULL, NULL, NULL) : "(tc_version absent)", owned);
#else
    const char *(*gv)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "gnu_get_libc_version");
    ok = strncmp(*provider, "libc.so", 7) == 0;
    snprintf(detail, len, "glibc %s", gv ? gv() : "?");
#endif
    B_FREE(blk);
    return ok;
}

/* ------------------------------------------------------------------------
 * main
 * ---------------------------------------------------------------------- */
static void usage(void)
{
    fprintf(stderr,
            "usage: heap_churn_%s {churn|floor|prodcons|check} [--ops N] [--slots N]\n"
            "       [--threads N] [--min BYTES] [--max BYTES] [--seed N]\n"
            "       [--batch N] [--ring N]\n",
            ALLOC_NAME);
    exit(2);
}

static uint64_t parse_u64(const char *s, const char *what)
{
    char *end;
    errno = 0;
    /* accept 20000000, 20e6 or 20M */
    double d = strtod(s, &end);
    if (errno || end == s || d < 0)
        die(what);
    if (*end == 'k' || *end == 'K')
        d *= 1e3, end++;
    else if (*end == 'M' || *end == 'm')
        d *= 1e6, end++;
    if (*end)
        die(what);
    return (uint64_t)d;
}

int main(int argc, char **argv)
{
    params p = {
        .ops = 20000000, .slots = 100000, .threads = 1,
        .min_size = 8, .max_size = 512, .seed = 42,
        .batch = 256, .ring = 64,
    };
    static const struct option opts[] = {
        { "ops", required_argument, 0, 'o' },
        { "slots", required_argument, 0, 's' },
        { "threads", required_argument, 0, 't' },
        { "min", required_argument, 0, 'a' },
        { "max", required_argument, 0, 'b' },
        { "seed", required_argument, 0, 'S' },
        { "batch", required_argument, 0, 'B' },
        { "ring", required_argument, 0, 'R' },
        { 0, 0, 0, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o': p.ops = parse_u64(optarg, "bad --ops"); break;
        case 's': p.slots = (uint32_t)parse_u64(optarg, "bad --slots"); break;
        case 't': p.threads = (uint32_t)parse_u64(optarg, "bad --threads"); break;
        case 'a': p.min_size = (uint32_t)parse_u64(optarg, "bad --min"); break;
        case 'b': p.max_size = (uint32_t)parse_u64(optarg, "bad --max"); break;
        case 'S': p.seed = parse_u64(optarg, "bad --seed"); break;
        case 'B': p.batch = (uint32_t)parse_u64(optarg, "bad --batch"); break;
        case 'R': p.ring = (uint32_t)parse_u64(optarg, "bad --ring"); break;
        default: usage();
        }
    }
    if (optind + 1 != argc)
        usage();
    p.scenario = argv[optind];
    if (p.min_size < 8 || p.max_size < p.min_size)
        die("need 8 <= --min <= --max (the first 8 bytes of each block are written)");
    if (p.slots == 0 || p.threads == 0 || p.batch == 0 || p.ring == 0)
        die("--slots, --threads, --batch and --ring must be positive");

    char detail[256];
    const char *provider;
    int verified = verify_allocator(detail, sizeof detail, &provider);

    if (strcmp(p.scenario, "check") == 0) {
        printf("ALLOC name=%s api=%s malloc_provider=%s verified=%s detail=\"%s\"\n",
               ALLOC_NAME, ALLOC_API, provider, verified ? "yes" : "no", detail);
        return verified ? 0 : 1;
    }

    long base_kb = proc_status_kb("VmRSS");
    uint64_t checksum = 0, total_ops;
    double secs;
    uint32_t threads;
    if (strcmp(p.scenario, "churn") == 0 || strcmp(p.scenario, "floor") == 0) {
        secs = scenario_churn(&p, &checksum);
        total_ops = p.ops * p.threads;
        threads = p.threads;
    } else if (strcmp(p.scenario, "prodcons") == 0) {
        secs = scenario_prodcons(&p, &checksum);
        total_ops = p.ops;
        threads = 2;
    } else {
        usage();
        return 2;
    }
    long peak_kb = peak_rss_kb();

    printf("RESULT alloc=%s scenario=%s threads=%" PRIu32 " ops=%" PRIu64
           " slots=%" PRIu32 " min=%" PRIu32 " max=%" PRIu32 " seed=%" PRIu64
           " time_s=%.6f ops_per_s=%.0f ns_per_op=%.2f peak_rss_kb=%ld"
           " base_rss_kb=%ld verified=%s checksum=%016" PRIx64 "\n",
           ALLOC_NAME, p.scenario, threads, total_ops, p.slots, p.min_size,
           p.max_size, p.seed, secs, (double)total_ops / secs,
           secs * 1e9 / (double)total_ops, peak_kb, base_kb,
           verified ? "yes" : "no", checksum);
    return 0;
}
