/* load.c - rcr_load: open, read, replay, finish (load.h).
 *
 * A damaged capture stops the load with the reader's message: figures
 * computed from a file known to be wrong would mislead. A capture that
 * merely ends early (the program was killed while a chunk was being
 * written, or the file was copied while the program ran) is loaded up to
 * where it ends, with a warning: that is the capture of a crash, the case
 * the format is built for.
 *
 * Progress: when err is a terminal and reading has taken more than a
 * second, a line "reading FILE: 42%" is redrawn on it (at most ten times a
 * second) and erased before anything else is printed. */
#define _GNU_SOURCE
#include "report/load.h"

#include <inttypes.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct progress {
    FILE *err;
    const char *path, *prefix;
    bool enabled, shown;
    uint64_t start, last;
} progress;

static void progress_update(progress *p, const rccap_reader *reader) {
    if (!p->enabled)
        return;
    uint64_t t = now_ns();
    if (t - p->start < 1000000000u || t - p->last < 100000000u)
        return;
    p->last = t;
    uint64_t done, total;
    rccap_reader_progress(reader, &done, &total);
    unsigned pct = total ? (unsigned)(done * 100 / total) : 0;
    fprintf(p->err, "\r%sreading %s: %u%%", p->prefix, p->path, pct > 100 ? 100 : pct);
    fflush(p->err);
    p->shown = true;
}

static void progress_clear(progress *p) {
    if (p->shown) {
        fputs("\r\033[K", p->err);
        fflush(p->err);
        p->shown = false;
    }
}

/* Warnings about what the figures may not cover. */
static void warn_oddities(const rcr_replay *r, const char *path, const char *pre, FILE *err) {
    const rcr_totals *t = &r->totals;
    if (t->late)
        fprintf(err, "%swarning: %s: %" PRIu64 " records of a thread came later in the file "
                "than its time-order window: the peak and the temporary allocations are "
                "approximate\n", pre, path, t->late);
    /* A sampled capture frees blocks it did not sample. */
    uint64_t unknown = r->header.sample_bytes ? 0 : t->unknown_frees;
    if (t->threads > 1 && r->header.version >= 2) {
        /* Events are stamped to the millisecond: a block freed by one
         * thread and its address handed to another in the same millisecond
         * may be replayed in the wrong order (replay.h, "Ties"). The
         * preload's verdicts at exit keep the leaks exact. */
        uint64_t n = unknown + t->reused + t->unjudged;
        if (n)
            fprintf(err, "%swarning: %s: %" PRIu64 " frees and allocations of one address by "
                    "different threads within a millisecond could not be put in order: the "
                    "peak and the temporary allocations are approximate\n", pre, path, n);
        return;
    }
    if (unknown)
        fprintf(err, "%swarning: %s: %" PRIu64 " frees of blocks the capture never saw "
                "allocated (ignored)\n", pre, path, unknown);
    if (t->reused)
        fprintf(err, "%swarning: %s: %" PRIu64 " blocks were allocated at the address of a "
                "block never freed: that block was counted as freed\n", pre, path, t->reused);
    if (t->unjudged)
        fprintf(err, "%swarning: %s: %" PRIu64 " blocks live at the end of the replay were not "
                "live at exit: counted as freed\n", pre, path, t->unjudged);
}

int rcr_load(const char *path, const rcr_load_options *o, rcr_replay *r, bool *complete,
             FILE *err) {
    const char *pre = o->prefix ? o->prefix : "";
    *complete = true;
    char msg[512];
    rccap_reader *reader = rccap_reader_open(path, msg, sizeof msg);
    if (!reader) {
        fprintf(err, "%s%s: %s\n", pre, path, msg);
        return 1;
    }
    if (!rcr_replay_init(r, rccap_reader_header(reader))) {
        rccap_reader_close(reader);
        fprintf(err, "%s%s: out of memory\n", pre, path);
        return 1;
    }
    progress prog = {
        .err = err,
        .path = path,
        .prefix = pre,
        .enabled = o->progress && isatty(fileno(err)),
        .start = now_ns(),
    };

    rccap_event ev;
    uint64_t n = 0;
    for (;;) {
        int rc = rccap_reader_next(reader, &ev);
        if (rc == 0)
            break;
        if (rc < 0) {
            progress_clear(&prog);
            fprintf(err, "%s%s: %s\n", pre, path, rccap_reader_error(reader));
            goto fail;
        }
        if ((o->on_event && !o->on_event(o->arg, &ev)) || !rcr_replay_event(r, &ev)) {
            progress_clear(&prog);
            fprintf(err, "%s%s: out of memory after %" PRIu64 " records\n", pre, path, n);
            goto fail;
        }
        if ((++n & 0x3FFF) == 0)
            progress_update(&prog, reader);
    }
    progress_clear(&prog);
    if (rccap_reader_truncated(reader)) {
        *complete = false;
        fprintf(err, "%swarning: %s is incomplete: it ends in the middle of a chunk (the "
                "program was killed while writing it, or the file was cut); the figures "
                "cover the %" PRIu64 " records before that\n", pre, path, n);
    }
    rccap_reader_close(reader);
    reader = NULL;
    if (!rcr_replay_finish(r)) {
        fprintf(err, "%s%s: out of memory\n", pre, path);
        goto fail;
    }
    warn_oddities(r, path, pre, err);
    return 0;

fail:
    if (reader)
        rccap_reader_close(reader);
    rcr_replay_free(r);
    return 1;
}
