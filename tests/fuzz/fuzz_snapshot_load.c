/* fuzz_snapshot_load.c - the snapshot file loader on arbitrary bytes.
 *
 * Input: the bytes of a snapshot file (the seeds are dumps written by
 * tests/unit/test_trace_dump.c). The loader is called twice: with the
 * checksum test (as rc_snapshot_load does) and without it, so that mutated
 * inputs, whose checksum is almost never right, still reach every
 * structural check. Checked:
 *
 *   - the loader returns a snapshot with error 0, or NULL with RC_EFORMAT
 *     (never RC_ENOMEM: every input is far too small to exhaust memory
 *     unless the loader over-allocates, which ASan reports too);
 *   - a snapshot accepted with the checksum is accepted without it;
 *   - an accepted snapshot's invariants hold (trace indexes in range,
 *     tracebacks within the frame limit), and statistics by every key and
 *     filters run on it;
 *   - it dumps, the dump loads with the checksum, holds as many traces with
 *     the same limit, and dumping that again gives the same bytes (the dump
 *     of a loaded snapshot is canonical). */
#include "fuzz.h"

#include <string.h>

#include "trace/snapshot.h"

static void walk(rc_snapshot *s) {
    FZ_CHECK(s->limit >= 1 && s->limit <= RC_TRACE_MAX_FRAMES, "limit %d", s->limit);
    for (size_t i = 0; i < s->ntraces; i++)
        FZ_CHECK(s->traces[i].tb < s->ntbs, "trace %zu: traceback %zu of %zu", i,
                 s->traces[i].tb, s->ntbs);
    for (size_t i = 0; i < s->ntbs; i++)
        FZ_CHECK(s->tbs[i]->nframes <= RC_TRACE_MAX_FRAMES, "traceback %zu: %zu frames", i,
                 s->tbs[i]->nframes);
    for (int key = RC_BY_FILENAME; key <= RC_BY_TRACEBACK; key++) {
        for (int c = 0; c < 2; c++) {
            rc_stats *st = rc_snapshot_statistics(s, key, c);
            FZ_CHECK(st != NULL, "statistics key %d cumulative %d", key, c);
            size_t count = 0;
            for (size_t i = 0; i < rc_stats_len(st); i++)
                count += rc_stats_at(st, i)->count;
            if (!c)
                FZ_CHECK(count == s->ntraces, "key %d: %zu counted, %zu traces", key, count,
                         s->ntraces);
            rc_stats_free(st);
        }
    }
    rc_trace_filter f[2] = {{1, "*.c", 0, 1, 0, 0}, {0, NULL, 7, 0, 1, 1}};
    rc_snapshot *fs = rc_snapshot_filter_traces(s, f, 2);
    FZ_CHECK(fs != NULL, "filter");
    FZ_CHECK(fs->ntraces <= s->ntraces, "filter kept %zu of %zu", fs->ntraces, s->ntraces);
    rc_stats_free(rc_snapshot_compare_to(fs, s, RC_BY_LINENO, 1));
    rc_snapshot_free(fs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int err_checked = 1, err = 1;
    rc_snapshot *checked = rctr_snapshot_load_mem(data, size, 0, &err_checked);
    rc_snapshot *s = rctr_snapshot_load_mem(data, size, RCTR_LOAD_NO_CHECKSUM, &err);
    FZ_CHECK(checked ? err_checked == 0 : err_checked == RC_EFORMAT, "error %d", err_checked);
    FZ_CHECK(s ? err == 0 : err == RC_EFORMAT, "error %d without checksum", err);
    FZ_CHECK(!checked || s, "accepted only with the checksum test");
    rc_snapshot_free(checked);
    if (!s)
        return 0;
    walk(s);

    size_t n1 = 0, n2 = 0;
    unsigned char *d1 = rctr_snapshot_dump_mem(s, &n1, &err);
    FZ_CHECK(d1 != NULL, "dump: error %d", err);
    rc_snapshot *again = rctr_snapshot_load_mem(d1, n1, 0, &err);
    FZ_CHECK(again != NULL, "the dump does not load: error %d", err);
    FZ_CHECK(again->ntraces == s->ntraces && again->limit == s->limit,
             "reloaded %zu traces limit %d, dumped %zu limit %d", again->ntraces, again->limit,
             s->ntraces, s->limit);
    unsigned char *d2 = rctr_snapshot_dump_mem(again, &n2, &err);
    FZ_CHECK(d2 != NULL, "second dump: error %d", err);
    FZ_CHECK(n1 == n2 && memcmp(d1, d2, n1) == 0, "dumps differ (%zu, %zu bytes)", n1, n2);
    free(d1);
    free(d2);
    rc_snapshot_free(again);
    rc_snapshot_free(s);
    return 0;
}
