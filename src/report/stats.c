/* stats.c - rcr_stats: the size histogram, the rates over time and the
 * threads of a capture (stats.h), as text or JSON.
 *
 * Intervals without sorting. Records arrive in file order, the threads'
 * chunks interleaved, and the run's length is known only at the end. So
 * the run is counted in SLOTS fine slots of one width, a power of ten
 * nanoseconds, covering [0, SLOTS * width): a record beyond that makes the
 * width ten times larger, each new slot the sum of ten old ones. That is
 * exact, because every boundary of the new width is one of the old, so the
 * slots come out the same whatever order the records came in. At the end
 * n = duration / width + 1 slots are in use, more than SLOTS / 10 once the
 * width has grown; the intervals printed are groups of slots: 1, 2 or 5
 * times a power of ten of them, the fewest that make at most MAX_INTERVALS
 * intervals, so 17 to 40 intervals each 1, 2 or 5 times a power of ten
 * nanoseconds wide (fewer for a run of under 40 ns).
 *
 * The clock's tick. The preload stamps records with a coarse clock cut to
 * the millisecond: on a kernel that ticks every 4 ms, every time is a
 * multiple of 4 ms, and intervals of 2 or 5 ms would hold two ticks, one
 * or none by turns, rates that jump between nothing and double. So the
 * tick, the greatest common divisor of every record's time, is kept too,
 * and an interval is made a whole number of ticks as well as of slots (1,
 * 2 or 5 times a power of ten times their least common multiple): fewer
 * intervals when the clock is that coarse, each as much of the run as the
 * next.
 *
 * What goes in a slot:
 *   allocations, bytes, frees   from the replay's change hook, in the slot
 *                               of the record's own time
 *   heap                        the replay's live bytes after the last
 *                               change in the slot; a late record (replay.h)
 *                               changes the heap of the latest time seen,
 *                               where the replay applies it
 *   RSS                         the MEMORY record with the latest time in
 *                               the slot
 * An interval without a change or a MEMORY record shows the heap and the
 * RSS of the one before it (nothing changed); before the first MEMORY
 * record the RSS is unknown.
 *
 * The change hook is installed on the replay by the first record's
 * callback: rcr_load initialises the replay before it reads a record. */
#define _GNU_SOURCE
#include "report/stats.h"

#include "report/format.h"
#include "report/load.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MSG "recycle stats: "

/* Size buckets: 0, 1, 2, 3-4, 5-8, ..., (2^63, 2^64 - 1]. */
#define SIZE_BUCKETS 66
/* Fine slots of the run (a multiple of ten) and intervals printed at most. */
#define SLOTS 400
#define MAX_INTERVALS 40
_Static_assert(SLOTS % 10 == 0, "slots merge ten at a time");
_Static_assert(SLOTS / 10 == MAX_INTERVALS,
               "a grown run fills more than MAX_INTERVALS slots: 17 to 40 intervals");
/* Width of the histogram's longest bar, in characters. */
#define BAR_WIDTH 30

typedef struct size_bucket {
    uint64_t allocations, bytes;
} size_bucket;

typedef struct slot {
    uint64_t allocations, bytes, frees;
    uint64_t heap;             /* live bytes after the slot's last change */
    uint64_t rss, rss_time;    /* the slot's latest MEMORY record */
    bool has_heap, has_rss;
} slot;

typedef struct thread_stats {
    uint32_t number;
    bool seen;                 /* a THREAD record named it */
    uint64_t os_tid;
    char *name;                /* NULL: none given */
    uint64_t allocations, bytes;          /* allocated by it */
    uint64_t frees, freed_bytes;          /* frees it made */
    uint64_t live_bytes, live_allocations;   /* allocated by it, live now */
} thread_stats;

typedef struct stats {
    rcr_replay *replay;
    size_bucket sizes[SIZE_BUCKETS];
    slot slots[SLOTS];
    uint64_t width;            /* of a slot, in ns: a power of ten */
    uint64_t tick;             /* gcd of every record's time; 0 while all are 0 */
    uint64_t heap_time;        /* the latest time of a change */
    thread_stats *threads;
    size_t nthreads, cap_threads;
    rci_htable thread_of;      /* thread number + 1 -> index in threads */
} stats;

/* ---- accumulating ---------------------------------------------------------------- */

static unsigned size_bucket_of(uint64_t size) {
    if (size <= 1)
        return (unsigned)size;
    /* 2 + floor(log2(size - 1)): 2 -> 2, 3 and 4 -> 3, 5 to 8 -> 4 */
    return 1 + (64 - (unsigned)__builtin_clzll(size - 1));
}

static uint64_t bucket_min(unsigned k) {
    return k <= 1 ? k : (UINT64_C(1) << (k - 2)) + 1;
}

static uint64_t bucket_max(unsigned k) {
    if (k <= 1)
        return k;
    return k - 1 >= 64 ? UINT64_MAX : UINT64_C(1) << (k - 1);
}

static uint64_t gcd64(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static size_t slot_of(const stats *st, uint64_t time) {
    uint64_t i = time / st->width;
    return i < SLOTS ? (size_t)i : SLOTS - 1;
}

/* Add slot b, later than a, to a. */
static void merge_slot(slot *a, const slot *b) {
    a->allocations += b->allocations;
    a->bytes += b->bytes;
    a->frees += b->frees;
    if (b->has_heap) {
        a->heap = b->heap;
        a->has_heap = true;
    }
    if (b->has_rss && (!a->has_rss || b->rss_time >= a->rss_time)) {
        a->rss = b->rss;
        a->rss_time = b->rss_time;
        a->has_rss = true;
    }
}

/* Make the slots cover time. */
static void widen(stats *st, uint64_t time) {
    while (time / st->width >= SLOTS) {
        for (size_t j = 0; j < SLOTS / 10; j++) {
            slot sum = {0};
            for (size_t k = 10 * j; k < 10 * j + 10; k++)
                merge_slot(&sum, &st->slots[k]);
            st->slots[j] = sum;
        }
        memset(&st->slots[SLOTS / 10], 0, (SLOTS - SLOTS / 10) * sizeof st->slots[0]);
        st->width *= 10;
    }
}

static thread_stats *thread_find(const stats *st, uint32_t number) {
    uintptr_t i;
    return rci_htable_get(&st->thread_of, (uintptr_t)number + 1, &i) ? &st->threads[i] : NULL;
}

/* The entry of a thread number, created when new; NULL on out of memory. */
static thread_stats *thread_add(stats *st, uint32_t number) {
    thread_stats *t = thread_find(st, number);
    if (t)
        return t;
    if (st->nthreads == st->cap_threads) {
        size_t cap = st->cap_threads ? 2 * st->cap_threads : 8;
        thread_stats *v = realloc(st->threads, cap * sizeof *v);
        if (!v)
            return NULL;
        st->threads = v;
        st->cap_threads = cap;
    }
    if (rci_htable_put(&st->thread_of, (uintptr_t)number + 1, st->nthreads) != 0)
        return NULL;
    t = &st->threads[st->nthreads++];
    *t = (thread_stats){.number = number};
    return t;
}

static bool name_thread(thread_stats *t, const rccap_event *ev) {
    t->seen = true;
    t->os_tid = ev->u.thread.os_tid;
    const char *name = ev->u.thread.name;
    if (!name || !name[0])
        return true;           /* keeps the name it had, if any */
    size_t n = strlen(name) + 1;
    char *copy = malloc(n);
    if (!copy)
        return false;
    memcpy(copy, name, n);
    free(t->name);
    t->name = copy;
    return true;
}

static void on_change(void *arg, const rcr_replay *r, const rcr_change *c) {
    stats *st = arg;
    slot *s = &st->slots[slot_of(st, c->time)];
    thread_stats *owner = thread_find(st, c->owner);
    if (c->freed) {
        s->frees += c->count;
        thread_stats *by = thread_find(st, c->thread);
        if (by) {
            by->frees += c->count;
            by->freed_bytes += c->weight;
        }
        if (owner) {
            owner->live_bytes -= c->weight;
            owner->live_allocations -= c->count;
        }
    } else {
        s->allocations += c->count;
        s->bytes += c->weight;
        if (owner) {
            owner->allocations += c->count;
            owner->bytes += c->weight;
            owner->live_bytes += c->weight;
            owner->live_allocations += c->count;
        }
    }
    if (c->time > st->heap_time)
        st->heap_time = c->time;
    slot *h = &st->slots[slot_of(st, st->heap_time)];
    h->heap = r->live_bytes;
    h->has_heap = true;
}

static bool on_event(void *arg, const rccap_event *ev) {
    stats *st = arg;
    if (!st->replay->on_change) {
        st->replay->on_change = on_change;
        st->replay->change_arg = st;
    }
    widen(st, ev->time_ns);
    st->tick = gcd64(st->tick, ev->time_ns);
    uint64_t size, weight;
    switch (ev->kind) {
    case RCCAP_ALLOC:
        if (!thread_add(st, ev->thread))
            return false;
        if (!ev->u.alloc.ptr)
            return true;       /* a failed allocation: the replay skips it too */
        size = ev->u.alloc.size;
        weight = ev->u.alloc.weight;
        break;
    case RCCAP_REALLOC:
        if (!thread_add(st, ev->thread))
            return false;
        if (!ev->u.realloc.ptr)
            return true;
        size = ev->u.realloc.size;
        weight = ev->u.realloc.weight;
        break;
    case RCCAP_FREE:
        return thread_add(st, ev->thread) != NULL;
    case RCCAP_THREAD: {
        thread_stats *t = thread_add(st, ev->thread);
        return t && name_thread(t, ev);
    }
    case RCCAP_MEMORY: {
        slot *s = &st->slots[slot_of(st, ev->time_ns)];
        if (!s->has_rss || ev->time_ns >= s->rss_time) {
            s->rss = ev->u.memory.rss;
            s->rss_time = ev->time_ns;
            s->has_rss = true;
        }
        return true;
    }
    default:
        return true;
    }
    size_bucket *b = &st->sizes[size_bucket_of(size)];
    b->allocations += rcr_record_count(size, weight);
    b->bytes += weight;
    return true;
}

static void stats_free(stats *st) {
    for (size_t i = 0; i < st->nthreads; i++)
        free(st->threads[i].name);
    free(st->threads);
    rci_htable_free(&st->thread_of);
}

/* ---- what is printed ---------------------------------------------------------------- */

typedef struct interval {
    uint64_t start;            /* ns */
    uint64_t allocations, bytes, frees;
    uint64_t heap, rss;
    bool has_rss;
} interval;

/* The run's intervals into out; their count, with *width their width. */
static size_t intervals_of(const stats *st, uint64_t duration, interval out[MAX_INTERVALS],
                           uint64_t *width) {
    /* The unit: a slot, or the least common multiple of a slot and the tick
     * (when the tick is one the run can show). */
    uint64_t unit = st->width;
    if (st->tick > 1 && st->tick <= duration) {
        uint64_t per = st->width / gcd64(st->width, st->tick);
        if (st->tick <= UINT64_MAX / per)
            unit = per * st->tick;
    }
    /* 1, 2, 5, 10, 20, ... units: the first that makes few enough (a
     * width past the duration makes one) */
    uint64_t w = unit;
    static const unsigned steps[] = {1, 2, 5};
    for (uint64_t scale = 1;; scale *= 10) {
        size_t i = 0;
        for (; i < sizeof steps / sizeof steps[0]; i++) {
            uint64_t m = scale * steps[i];
            w = m <= UINT64_MAX / unit ? m * unit : UINT64_MAX;
            if (duration / w < MAX_INTERVALS)
                break;
        }
        if (i < sizeof steps / sizeof steps[0])
            break;
    }
    *width = w;
    size_t count = (size_t)(duration / w) + 1;
    uint64_t g = w / st->width;          /* slots per interval */
    /* The heap and the RSS carry over intervals where they did not change;
     * nothing is live before the run. */
    uint64_t heap = 0, rss = 0;
    bool has_rss = false;
    for (size_t i = 0; i < count; i++) {
        slot sum = {0};
        for (uint64_t k = i * g; k < (i + 1) * g && k < SLOTS; k++)
            merge_slot(&sum, &st->slots[k]);
        if (sum.has_heap)
            heap = sum.heap;
        if (sum.has_rss) {
            rss = sum.rss;
            has_rss = true;
        }
        out[i] = (interval){
            .start = i * *width,
            .allocations = sum.allocations,
            .bytes = sum.bytes,
            .frees = sum.frees,
            .heap = heap,
            .rss = rss,
            .has_rss = has_rss,
        };
    }
    return count;
}

/* Per second over an interval of width ns. */
static double per_second(uint64_t n, uint64_t width) {
    return (double)n * 1e9 / (double)width;
}

static int by_bytes(const void *a, const void *b) {
    const thread_stats *x = *(const thread_stats *const *)a, *y = *(const thread_stats *const *)b;
    if (x->bytes != y->bytes)
        return x->bytes > y->bytes ? -1 : 1;
    return x->number < y->number ? -1 : x->number > y->number;
}

/* The threads worth a line (named by a THREAD record, or that allocated
 * or freed), by bytes allocated, into *v (the caller frees it) and *n;
 * false on out of memory. Made before anything is printed, so that a
 * failure prints nothing. */
static bool threads_sorted(const stats *st, const thread_stats ***v, size_t *n) {
    *v = NULL;
    *n = 0;
    if (!st->nthreads)
        return true;
    const thread_stats **list = malloc(st->nthreads * sizeof *list);
    if (!list)
        return false;
    for (size_t i = 0; i < st->nthreads; i++) {
        const thread_stats *t = &st->threads[i];
        if (t->seen || t->allocations || t->frees)
            list[(*n)++] = t;
    }
    qsort(list, *n, sizeof *list, by_bytes);
    *v = list;
    return true;
}

/* The first and last buckets that hold something; false if none does. */
static bool size_range(const stats *st, unsigned *first, unsigned *last) {
    unsigned k = 0;
    while (k < SIZE_BUCKETS && !st->sizes[k].allocations)
        k++;
    if (k == SIZE_BUCKETS)
        return false;
    *first = k;
    k = SIZE_BUCKETS - 1;
    while (!st->sizes[k].allocations)
        k--;
    *last = k;
    return true;
}

/* ---- text -------------------------------------------------------------------------- */

/* 2^e bytes, exactly: "512 B", "1 KiB", "2 MiB". */
static const char *fmt_power(char buf[32], unsigned e) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    snprintf(buf, 32, "%" PRIu64 " %s", UINT64_C(1) << (e % 10), units[e / 10]);
    return buf;
}

/* A bucket as it reads: "0 B", "3-4 B", "513 B-1 KiB", "1-2 KiB" (sizes
 * above 1 KiB up to 2 KiB). Up to 1 KiB the bounds are exact bytes. */
static const char *fmt_bucket(char buf[80], unsigned k) {
    uint64_t lo = bucket_min(k), hi = bucket_max(k);
    if (k <= 2) {
        snprintf(buf, 80, "%" PRIu64 " B", lo);
    } else if (hi <= 1024) {
        snprintf(buf, 80, "%" PRIu64 "-%" PRIu64 " B", lo, hi);
    } else if (k == SIZE_BUCKETS - 1) {
        snprintf(buf, 80, "over 8 EiB");
    } else {
        /* (2^(k-2), 2^(k-1)]: the same unit, or the lower one a unit down */
        unsigned e = k - 2;
        char a[32], b[32];
        if (e / 10 == (e + 1) / 10)
            snprintf(buf, 80, "%" PRIu64 "-%s", UINT64_C(1) << (e % 10), fmt_power(b, e + 1));
        else
            snprintf(buf, 80, "%s-%s", fmt_power(a, e), fmt_power(b, e + 1));
    }
    return buf;
}

static double percent(uint64_t part, uint64_t whole) {
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void text_sizes(FILE *out, const stats *st, const rcr_replay *r, const char *estimated) {
    unsigned first, last;
    if (!size_range(st, &first, &last))
        return;
    uint64_t most = 0;
    for (unsigned k = first; k <= last; k++)
        if (st->sizes[k].allocations > most)
            most = st->sizes[k].allocations;
    fprintf(out, "\nallocations by requested size%s (a realloc counts at its new size):\n",
            estimated);
    fputs("          size  allocations       %        bytes       %\n", out);
    for (unsigned k = first; k <= last; k++) {
        const size_bucket *b = &st->sizes[k];
        char label[80], a[32], c[32];
        fprintf(out, "%14s  %11s  %5.1f%%  %11s  %5.1f%%", fmt_bucket(label, k),
                rcr_fmt_count(a, b->allocations), percent(b->allocations, r->totals.allocations),
                rcr_fmt_bytes(c, b->bytes), percent(b->bytes, r->totals.bytes_allocated));
        /* Rounded to the nearest character; a bucket that holds anything
         * shows at least one. */
        uint64_t len = (b->allocations * BAR_WIDTH * 2 + most) / (2 * most);
        if (len == 0 && b->allocations)
            len = 1;
        if (len)
            fputs("  ", out);
        for (uint64_t i = 0; i < len; i++)
            fputc('#', out);
        fputc('\n', out);
    }
}

/* An interval's start in the unit of width (the largest of ns, us, ms and
 * s that divides it, so that every start is a whole number of it). */
static const char *fmt_start(char buf[32], uint64_t start, uint64_t width) {
    static const struct {
        uint64_t ns;
        const char *name;
    } units[] = {{1000000000u, "s"}, {1000000u, "ms"}, {1000u, "us"}, {1u, "ns"}};
    size_t u = 0;
    while (width % units[u].ns)
        u++;
    snprintf(buf, 32, "%" PRIu64 " %s", start / units[u].ns, units[u].name);
    return buf;
}

/* A rate per second: with one decimal under ten, else whole with commas. */
static const char *fmt_rate(char buf[32], uint64_t n, uint64_t width) {
    double v = per_second(n, width);
    if (v < 10 && v != (double)(uint64_t)v)
        snprintf(buf, 32, "%.1f", v);
    else
        rcr_fmt_count(buf, (uint64_t)(v + 0.5));
    return buf;
}

static void text_rate(FILE *out, const stats *st, const rcr_replay *r, const char *estimated) {
    interval iv[MAX_INTERVALS];
    uint64_t width;
    size_t n = intervals_of(st, r->totals.duration_ns, iv, &width);
    char w[32];
    fprintf(out, "\nover time%s: %zu %s of %s (rates per second; heap and RSS at the end of "
            "each):\n", estimated, n, rcr_plural(n, "interval"), fmt_start(w, width, width));
    fputs("      from   allocations/s        bytes/s         frees/s         heap          RSS\n",
          out);
    for (size_t i = 0; i < n; i++) {
        const interval *v = &iv[i];
        char a[32], b[32], c[32], d[32], e[32], f[32];
        double bps = per_second(v->bytes, width);
        snprintf(c, sizeof c, "%s/s", rcr_fmt_bytes(b, (uint64_t)(bps + 0.5)));
        fprintf(out, "%10s  %14s  %13s  %14s  %11s  %11s\n", fmt_start(a, v->start, width),
                fmt_rate(b, v->allocations, width), c, fmt_rate(d, v->frees, width),
                rcr_fmt_bytes(e, v->heap), v->has_rss ? rcr_fmt_bytes(f, v->rss) : "-");
    }
}

static void text_threads(FILE *out, const thread_stats *const *v, size_t n,
                         const rcr_replay *r, const char *estimated) {
    if (n == 0)
        return;
    fprintf(out, "\n%zu %s by bytes allocated%s:\n", n, rcr_plural(n, "thread"), estimated);
    fprintf(out, "  thread        tid  allocations        frees    allocated        freed  %11s"
            "  name\n", rcr_ended_by_itself(r) ? "leaked" : "live at end");
    for (size_t i = 0; i < n; i++) {
        const thread_stats *t = v[i];
        char tid[32], a[32], b[32], c[32], d[32], e[32];
        if (t->seen)
            snprintf(tid, sizeof tid, "%" PRIu64, t->os_tid);
        else
            snprintf(tid, sizeof tid, "-");
        fprintf(out, "%8" PRIu32 "  %9s  %11s  %11s  %11s  %11s  %11s  %s\n", t->number, tid,
                rcr_fmt_count(a, t->allocations), rcr_fmt_count(b, t->frees),
                rcr_fmt_bytes(c, t->bytes), rcr_fmt_bytes(d, t->freed_bytes),
                rcr_fmt_bytes(e, t->live_bytes), t->name ? t->name : "-");
    }
}

static void render_text(FILE *out, const stats *st, const thread_stats *const *threads,
                        size_t nthreads, const rcr_replay *r) {
    rcr_text_run_totals(out, r);
    if (!r->totals.allocations && !r->totals.frees) {
        fputs("\nnothing was allocated\n", out);
        return;
    }
    const char *estimated = r->header.sample_bytes ? ", estimated from a sample" : "";
    text_sizes(out, st, r, estimated);
    text_rate(out, st, r, estimated);
    text_threads(out, threads, nthreads, r, estimated);
}

/* ---- JSON ---------------------------------------------------------------------------- */

static void render_json(FILE *out, const stats *st, const thread_stats *const *threads,
                        size_t nthreads, const rcr_replay *r, bool complete) {
    fputs("{\n", out);
    rcr_json_run(out, r, complete);
    rcr_json_totals(out, r);
    fputs(",\n", out);

    fputs("  \"sizes\": [", out);
    unsigned first, last;
    if (size_range(st, &first, &last)) {
        for (unsigned k = first; k <= last; k++) {
            const size_bucket *b = &st->sizes[k];
            fprintf(out, "%s\n    {\"min_size\": %" PRIu64 ", \"max_size\": %" PRIu64
                    ", \"allocations\": %" PRIu64 ", \"bytes\": %" PRIu64
                    ", \"allocations_percent\": %.2f, \"bytes_percent\": %.2f}",
                    k == first ? "" : ",", bucket_min(k), bucket_max(k), b->allocations,
                    b->bytes, percent(b->allocations, r->totals.allocations),
                    percent(b->bytes, r->totals.bytes_allocated));
        }
        fputs("\n  ", out);
    }
    fputs("],\n", out);

    interval iv[MAX_INTERVALS];
    uint64_t width;
    size_t n = intervals_of(st, r->totals.duration_ns, iv, &width);
    fputs("  \"rate\": {\"interval_s\": ", out);
    rcr_json_seconds(out, width);
    fputs(", \"intervals\": [", out);
    for (size_t i = 0; i < n; i++) {
        const interval *v = &iv[i];
        fputs(i ? ",\n    {\"start_s\": " : "\n    {\"start_s\": ", out);
        rcr_json_seconds(out, v->start);
        fprintf(out, ", \"allocations\": %" PRIu64 ", \"bytes_allocated\": %" PRIu64
                ", \"frees\": %" PRIu64 ", \"allocations_per_s\": %.3f"
                ", \"bytes_allocated_per_s\": %.3f, \"frees_per_s\": %.3f"
                ", \"heap_bytes\": %" PRIu64 ", \"rss_bytes\": ",
                v->allocations, v->bytes, v->frees, per_second(v->allocations, width),
                per_second(v->bytes, width), per_second(v->frees, width), v->heap);
        if (v->has_rss)
            fprintf(out, "%" PRIu64 "}", v->rss);
        else
            fputs("null}", out);
    }
    fputs("\n  ]},\n", out);

    fputs("  \"threads\": [", out);
    for (size_t i = 0; i < nthreads; i++) {
        const thread_stats *t = threads[i];
        fprintf(out, "%s\n    {\"thread\": %" PRIu32 ", \"os_tid\": ", i ? "," : "", t->number);
        if (t->seen)
            fprintf(out, "%" PRIu64, t->os_tid);
        else
            fputs("null", out);
        fputs(", \"name\": ", out);
        rcr_json_string(out, t->name);
        fprintf(out, ", \"allocations\": %" PRIu64 ", \"frees\": %" PRIu64
                ", \"bytes_allocated\": %" PRIu64 ", \"bytes_freed\": %" PRIu64
                ", \"leaked_bytes\": %" PRIu64 ", \"leaked_allocations\": %" PRIu64 "}",
                t->allocations, t->frees, t->bytes, t->freed_bytes, t->live_bytes,
                t->live_allocations);
    }
    fputs(nthreads ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* ---- the whole ---------------------------------------------------------------------------- */

int rcr_stats(const char *path, const rcr_stats_options *options, FILE *out, FILE *err) {
    rcr_replay replay;
    stats *st = calloc(1, sizeof *st);
    if (!st) {
        fprintf(err, MSG "%s: out of memory\n", path);
        return 1;
    }
    st->replay = &replay;
    st->width = 1;
    rci_htable_init(&st->thread_of);

    bool complete;
    rcr_load_options lo = {
        .prefix = MSG,
        .progress = options->progress,
        .on_event = on_event,
        .arg = st,
    };
    if (rcr_load(path, &lo, &replay, &complete, err) != 0) {
        stats_free(st);
        free(st);
        return 1;
    }
    const thread_stats **threads;
    size_t nthreads;
    bool ok = threads_sorted(st, &threads, &nthreads);
    if (!ok)
        fprintf(err, MSG "%s: out of memory\n", path);
    else if (options->json)
        render_json(out, st, threads, nthreads, &replay, complete);
    else
        render_text(out, st, threads, nthreads, &replay);
    free(threads);
    rcr_replay_free(&replay);
    stats_free(st);
    free(st);
    return ok ? 0 : 1;
}
