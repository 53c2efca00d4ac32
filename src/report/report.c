/* report.c - rcr_report: read, replay, fold into sites, print (report.h).
 *
 * Errors and warnings go to err. A damaged capture stops the report with
 * the reader's message (exit 1): figures computed from a file known to be
 * wrong would mislead. A capture that merely ends early (the program was
 * killed while a chunk was being written, or the file was copied while the
 * program ran) is reported up to where it ends, with a warning: that is
 * the capture of a crash, the case the format is built for.
 *
 * Progress: when err is a terminal and reading has taken more than a
 * second, a line "reading FILE: 42%" is redrawn on it (at most ten times a
 * second) and erased before anything else is printed. */
#define _GNU_SOURCE
#include "report/report.h"
#include "report/sites.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSG "recycle report: "

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct progress {
    FILE *err;
    const char *path;
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
    fprintf(p->err, "\r" MSG "reading %s: %u%%", p->path, pct > 100 ? 100 : pct);
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
static void warn_oddities(const rcr_replay *r, const char *path, FILE *err) {
    const rcr_totals *t = &r->totals;
    if (t->late)
        fprintf(err, MSG "warning: %s: %" PRIu64 " records of a thread came later in the file "
                "than its time-order window: the peak and the temporary allocations are "
                "approximate\n", path, t->late);
    /* A sampled capture frees blocks it did not sample. */
    if (t->unknown_frees && !r->header.sample_bytes)
        fprintf(err, MSG "warning: %s: %" PRIu64 " frees of blocks the capture never saw "
                "allocated (ignored)\n", path, t->unknown_frees);
    if (t->reused)
        fprintf(err, MSG "warning: %s: %" PRIu64 " blocks were allocated at the address of a "
                "block never freed: that block was counted as freed\n", path, t->reused);
}

int rcr_report(const char *path, const rcr_options *options, FILE *out, FILE *err) {
    char msg[512];
    rccap_reader *reader = rccap_reader_open(path, msg, sizeof msg);
    if (!reader) {
        fprintf(err, MSG "%s: %s\n", path, msg);
        return 1;
    }
    rcr_replay replay;
    if (!rcr_replay_init(&replay, rccap_reader_header(reader))) {
        rccap_reader_close(reader);
        fprintf(err, MSG "%s: out of memory\n", path);
        return 1;
    }
    progress prog = {
        .err = err,
        .path = path,
        .enabled = options->progress && isatty(fileno(err)),
        .start = now_ns(),
    };

    int status = 0;
    bool complete = true;
    rccap_event ev;
    uint64_t n = 0;
    for (;;) {
        int rc = rccap_reader_next(reader, &ev);
        if (rc == 0)
            break;
        if (rc < 0) {
            progress_clear(&prog);
            fprintf(err, MSG "%s: %s\n", path, rccap_reader_error(reader));
            status = 1;
            goto done;
        }
        if (!rcr_replay_event(&replay, &ev)) {
            progress_clear(&prog);
            fprintf(err, MSG "%s: out of memory after %" PRIu64 " records\n", path, n);
            status = 1;
            goto done;
        }
        if ((++n & 0x3FFF) == 0)
            progress_update(&prog, reader);
    }
    progress_clear(&prog);
    if (rccap_reader_truncated(reader)) {
        complete = false;
        fprintf(err, MSG "warning: %s is incomplete: it ends in the middle of a chunk (the "
                "program was killed while writing it, or the file was cut); this report "
                "covers the %" PRIu64 " records before that\n", path, n);
    }
    if (!rcr_replay_finish(&replay)) {
        fprintf(err, MSG "%s: out of memory\n", path);
        status = 1;
        goto done;
    }
    warn_oddities(&replay, path, err);

    rcr_sites sites;
    if (!rcr_sites_build(&replay, options->by, &sites)) {
        fprintf(err, MSG "%s: out of memory\n", path);
        status = 1;
        goto done;
    }
    rcr_render rd = {
        .replay = &replay,
        .sites = &sites,
        .options = options,
        .path = path,
        .complete = complete,
    };
    if (options->json)
        rcr_render_json(&rd, out);
    else
        rcr_render_text(&rd, out);
    rcr_sites_free(&sites);

done:
    rcr_replay_free(&replay);
    rccap_reader_close(reader);
    return status;
}
