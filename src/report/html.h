/* html.h - `recycle html`: a capture's reports on one self-contained page.
 *
 *   header        the command line, pid, how the run ended; notes when the
 *                 figures are estimates (a sampled capture) or the capture
 *                 is cut short
 *   totals        as `recycle report` opens (rcr_text_run_totals)
 *   memory        the plot of `recycle plot` (heap and RSS over time, the
 *                 peak, the top sites at the peak), as an image in the page
 *   flame graph   `recycle flamegraph`'s, one per kind (allocated, live at
 *                 the peak, leaked) chosen with a selector; zoom, search,
 *                 icicle view
 *   sites         a sortable table of the allocation sites (by line): bytes
 *                 allocated, allocations, peak, leaked, temporary; the
 *                 sites in the top RCR_HTML_TOP of any of those columns
 *   leaks         definitely lost and still reachable, each a sortable
 *                 table of sites with their call stacks (or one table of
 *                 what was live at the end when the capture has no
 *                 verdicts: the program did not reach its exit)
 *
 * Nothing is fetched: the scripts, styles, data and image are in the
 * page. Its size is bounded whatever the capture's: the flame graphs fold
 * boxes under a thousandth of their total, the plot has a fixed number of
 * columns, and the tables hold at most a few hundred rows each. */
#ifndef RC_REPORT_HTML_H
#define RC_REPORT_HTML_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stdio.h>

/* Rows of each sites table taken from the top of each of its columns. */
#define RCR_HTML_TOP 100
/* Callers listed under a leak's site at most. */
#define RCR_HTML_CALLERS 24

typedef struct rcr_html_options {
    /* "-" for stdout; else as rcr_output (output.h) writes it */
    const char *output;
    bool progress;           /* may show a progress line on err (a terminal) */
} rcr_html_options;

/* Read the capture at path and write its page. Messages go to err, each
 * line starting with "recycle html: ". Returns 0, or 1 when the capture
 * cannot be read or is damaged, memory runs out, or the page cannot be
 * written (the file at o->output is then left as it was). */
int rcr_html(const char *path, const rcr_html_options *o, FILE *err);

#endif /* RC_REPORT_HTML_H */
