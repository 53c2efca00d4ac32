/* load.h - a capture read from disk into a finished replay, with the
 * progress line and the warnings every subcommand of the report layer
 * shares (report, lines, stats, diff, ...).
 *
 * Messages go to err, each line starting with the caller's prefix
 * ("recycle report: ", "recycle diff: ", ...). */
#ifndef RC_REPORT_LOAD_H
#define RC_REPORT_LOAD_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "report/replay.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct rcr_load_options {
    const char *prefix;      /* of every message, e.g. "recycle report: " */
    bool progress;           /* may redraw a progress line on err (a terminal) */
    /* Optional: called with every record in file order, before the replay
     * takes it; returns false on out of memory (the load then fails). */
    bool (*on_event)(void *arg, const rccap_event *ev);
    void *arg;
} rcr_load_options;

/* Read the capture at path into r (initialised here) and finish the
 * replay. Returns 0, or 1 after saying why on err (the capture cannot be
 * opened, is damaged, memory ran out); r is freed then. *complete is set
 * false, with a warning, when the capture ends in the middle of a chunk:
 * the replay covers the records before that. On 0 the caller frees r with
 * rcr_replay_free. */
int rcr_load(const char *path, const rcr_load_options *o, rcr_replay *r, bool *complete,
             FILE *err);

#endif /* RC_REPORT_LOAD_H */
