/* report.h - `recycle report`: a capture analysed and printed, as text for
 * people or JSON for programs. The cli parses the options and calls
 * rcr_report; everything else happens in this layer:
 *
 *   rccap_reader --records--> replay (replay.c: totals, figures per stack)
 *                                |
 *                            sites (sites.c: stacks folded into sites, by
 *                                |  line, function, file or stack; sorted)
 *                                v
 *                      text.c or json.c --> out
 *
 * The capture is read once, as a stream; memory is bounded by the blocks
 * live at a time, the call tree and the sites, never by the capture's
 * length. */
#ifndef RC_REPORT_REPORT_H
#define RC_REPORT_REPORT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* What makes two allocations the same site. */
typedef enum rcr_by {
    RCR_BY_LINE,        /* the site's function, file and line (the default) */
    RCR_BY_FUNCTION,    /* the site's function */
    RCR_BY_FILE,        /* the site's source file */
    RCR_BY_STACK,       /* the whole stack from the site outward */
} rcr_by;

/* The tables a report shows (any combination; none: the allocations). */
enum {
    RCR_VIEW_LEAKS = 1u << 0,       /* memory not freed at exit */
    RCR_VIEW_PEAK = 1u << 1,        /* memory live at the peak */
    RCR_VIEW_TEMPORARY = 1u << 2,   /* allocations freed before any other */
};

typedef struct rcr_options {
    size_t top;          /* sites shown; 0: all */
    bool top_given;      /* JSON lists every site unless --top was given */
    rcr_by by;
    unsigned views;      /* RCR_VIEW_* */
    bool json;
    bool progress;       /* may show a progress line on stderr (a terminal) */
} rcr_options;

/* Analyse the capture at path and print the report on out. Messages
 * (errors, warnings, progress) go to err, each line starting with
 * "recycle report: ". Returns 0, or 1 when the capture cannot be opened or
 * read, is damaged, or memory runs out (the message says which). A capture
 * that ends early (a chunk cut short) is reported up to there, with a
 * warning, and returns 0. */
int rcr_report(const char *path, const rcr_options *options, FILE *out, FILE *err);

#endif /* RC_REPORT_REPORT_H */
