/* stats.h - `recycle stats`: a capture summed up in figures rather than
 * sites. After the run and its totals (the same lines and keys as `recycle
 * report`, format.h):
 *
 *   sizes     allocations by requested size in power-of-two buckets (0, 1,
 *             2, 3-4, 5-8, ... bytes): count, bytes, shares; a realloc
 *             counts as an allocation of its new size, as the totals do
 *   rate      the run cut into at most 40 intervals of equal width (a
 *             whole number of the capture clock's ticks): the allocations,
 *             bytes allocated and frees of each (and per second), the heap
 *             at its end, the RSS at its end (the last MEMORY record up to
 *             there)
 *   threads   per thread number: its OS id and name (THREAD records), what
 *             it allocated and freed, what it allocated that is live at
 *             the end; by bytes allocated
 *
 * Every figure comes from the replay, so the buckets, the intervals and
 * the threads each add up to the totals: the size histogram from each
 * record as it is read (file order does not matter for a histogram), the
 * rest from the replay's change hook (replay.h), which reports each
 * allocation and free in time order. Sampled captures give estimates: a
 * record stands for its weight in bytes, as in the report.
 *
 * Memory: the replay's, plus one entry per thread and fixed-size arrays. */
#ifndef RC_REPORT_STATS_H
#define RC_REPORT_STATS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stdio.h>

typedef struct rcr_stats_options {
    bool json;
    bool progress;       /* may show a progress line on err (a terminal) */
} rcr_stats_options;

/* Analyse the capture at path and print its statistics on out. Messages
 * (errors, warnings, progress) go to err, each line starting with
 * "recycle stats: ". Returns 0, or 1 when the capture cannot be opened or
 * read, is damaged, or memory runs out (the message says which). A capture
 * that ends early is summed up to where it ends, with a warning, and
 * returns 0. */
int rcr_stats(const char *path, const rcr_stats_options *options, FILE *out, FILE *err);

#endif /* RC_REPORT_STATS_H */
