/* rct.c - see rct.h. */
#define _GNU_SOURCE
#include "rct.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_include)
#  if __has_include(<valgrind/valgrind.h>) && __has_include(<valgrind/memcheck.h>)
#    include <valgrind/valgrind.h>
#    include <valgrind/memcheck.h>
#    define RCT_HAVE_VALGRIND 1
#  endif
#endif

#if defined(__SANITIZE_THREAD__)
#  define RCT_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define RCT_TSAN 1
#  endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#  define RCT_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define RCT_ASAN 1
#  endif
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define RCT_NO_SANITIZE __attribute__((no_sanitize("address", "hwaddress"), noinline))
#else
#  define RCT_NO_SANITIZE
#endif


int rct_on_valgrind(void)
{
#ifdef RCT_HAVE_VALGRIND
    return RUNNING_ON_VALGRIND ? 1 : 0;
#else
    return 0;
#endif
}

int rct_on_tsan(void)
{
#ifdef RCT_TSAN
    return 1;
#else
    return 0;
#endif
}

int rct_on_asan(void)
{
#ifdef RCT_ASAN
    return 1;
#else
    return 0;
#endif
}

double rct_scale(void)
{
    const char *e = getenv("RC_TEST_SCALE");
    if (e && *e) {
        char *end = NULL;
        double v = strtod(e, &end);
        if (end != e && v > 0)
            return v;
    }
    if (rct_on_valgrind())
        return 0.03;
    if (rct_on_tsan())
        return 0.2;
    if (rct_on_asan())
        return 0.5;
    return 1.0;
}

size_t rct_scaled(size_t n, size_t min_value)
{
    double v = (double)n * rct_scale();
    size_t r = v < 1.0 ? 0 : (size_t)v;
    return r < min_value ? min_value : r;
}

/* ---- random ------------------------------------------------------------- */

uint64_t rct_seed(uint64_t default_seed)
{
    const char *e = getenv("RC_TEST_SEED");
    uint64_t seed = default_seed;
    if (e && *e)
        seed = strtoull(e, NULL, 0);
    if (getenv("RC_TEST_VERBOSE"))
        fprintf(stderr, "[rct] seed %llu (RC_TEST_SEED to replay)\n",
                (unsigned long long)seed);
    return seed;
}

void rct_rng_init(rct_rng *r, uint64_t seed)
{
    /* splitmix64 step so that small seeds still give a good state */
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    r->s = z ? z : 0x2545F4914F6CDD1Dull;
}

uint64_t rct_rng_next(rct_rng *r)
{
    uint64_t x = r->s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

size_t rct_rng_range(rct_rng *r, size_t lo, size_t hi)
{
    if (hi <= lo)
        return lo;
    uint64_t span = (uint64_t)(hi - lo) + 1;
    if (span == 0) /* full range */
        return (size_t)rct_rng_next(r);
    return lo + (size_t)(rct_rng_next(r) % span);
}

/* ---- patterns ----------------------------------------------------------- */

static inline unsigned char pat_byte(uint64_t seed, size_t i)
{
    uint64_t x = seed ^ ((uint64_t)i * 0x9E3779B97F4A7C15ull);
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    return (unsigned char)(x >> 56);
}

void rct_fill(void *p, size_t n, uint64_t seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = pat_byte(seed, i);
}

size_t rct_check(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != pat_byte(seed, i))
            return i;
    return SIZE_MAX;
}

size_t rct_check_byte(const void *p, size_t n, unsigned char v)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v)
            return i;
    return SIZE_MAX;
}

RCT_NO_SANITIZE void rct_poke(void *p, unsigned char v)
{
#ifdef RCT_HAVE_VALGRIND
    VALGRIND_MAKE_MEM_DEFINED(p, 1);
#endif
    *(volatile unsigned char *)p = v;
}

RCT_NO_SANITIZE unsigned char rct_peek(const void *p)
{
#ifdef RCT_HAVE_VALGRIND
    VALGRIND_MAKE_MEM_DEFINED(p, 1);
#endif
    return *(const volatile unsigned char *)p;
}

/* ---- process ------------------------------------------------------------ */

size_t rct_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

const char *rct_self_exe(void)
{
    static char path[4096];
    if (path[0])
        return path;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) {
        path[0] = 0;
        return path;
    }
    path[n] = 0;
    return path;
}

int rct_run_self(const char *arg, const char *set_name, const char *set_value,
                 const char *unset_name)
{
    const char *exe = rct_self_exe();
    if (!exe[0])
        return -1;

    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env)
        return -1;
    size_t k = 0;
    char *assign = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *e = environ[i];
        size_t ul = unset_name ? strlen(unset_name) : 0;
        size_t sl = set_name ? strlen(set_name) : 0;
        if (unset_name && strncmp(e, unset_name, ul) == 0 && e[ul] == '=')
            continue;
        if (set_name && strncmp(e, set_name, sl) == 0 && e[sl] == '=')
            continue;
        env[k++] = (char *)e;
    }
    if (set_name) {
        size_t len = strlen(set_name) + 1 + strlen(set_value ? set_value : "") + 1;
        assign = malloc(len);
        if (!assign) {
            free(env);
            return -1;
        }
        snprintf(assign, len, "%s=%s", set_name, set_value ? set_value : "");
        env[k++] = assign;
    }
    env[k] = NULL;

    char *argv[3] = { (char *)exe, (char *)arg, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, exe, NULL, NULL, argv, env);
    free(assign);
    free(env);
    if (rc != 0)
        return -1;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (!WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* ---- heap statistics ---------------------------------------------------- */

int rct_stats(rc_heap_stats *out)
{
    memset(out, 0, sizeof *out);
    out->version = RC_HEAP_STATS_VERSION;
    out->struct_size = (uint32_t)sizeof *out;
    return rc_heap_stats_get(out);
}

size_t rct_class_index(size_t size)
{
    size_t n = rc_heap_size_class_count();
    for (size_t i = 0; i < n; i++)
        if (rc_heap_size_class_size(i) >= size)
            return i;
    return SIZE_MAX;
}

/* ---- running ----------------------------------------------------------- */

const char *rct_test_filter(void)
{
    const char *f = getenv("RC_TEST_FILTER");
    return f && *f ? f : NULL;
}

const char *rct_group_name(const char *path)
{
    static char name[64];
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strcspn(base, ".");
    if (n >= sizeof name)
        n = sizeof name - 1;
    memcpy(name, base, n);
    name[n] = '\0';
    return name;
}
