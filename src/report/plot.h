/* plot.h - `recycle plot`: a capture drawn as an SVG image of the heap in
 * use and the resident set size over the run, as `mprof plot` draws a
 * Python program's memory.
 *
 *   heap       the replay's live bytes after every allocation and free
 *              (its change hook), one line; the peak marked by a dot and
 *              a label with the report's peak bytes and time
 *   RSS        the capture's MEMORY records, another line (or "no RSS
 *              samples" in the legend)
 *   legend     the top allocation sites at the peak, by the bytes they
 *              held then, each with those bytes
 *   title      the program and how it ended; "estimated" for a sampled
 *              capture, "cut short" for one that ends early
 *
 * Memory is bounded whatever the run's length: the run is cut into a fixed
 * number of columns, about a pixel each, that keep the first, last, lowest
 * and highest value of each line in them; a record beyond the last column
 * doubles their width, each new column the merge of two old ones. So no
 * extreme is lost between two points, the peak included. */
#ifndef RC_REPORT_PLOT_H
#define RC_REPORT_PLOT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "report/sites.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct rcr_plot_options {
    bool progress;       /* may show a progress line on err (a terminal) */
    size_t top;          /* allocation sites in the legend */
} rcr_plot_options;

/* Draw the capture at path into the file out_path, or on stdout when it is
 * "-" (the caller then flushes stdout and reports a write error). A file is
 * written to a temporary file next to it, then renamed over it, so that a
 * failed plot leaves what was there; a path that exists and is not a
 * regular file (a pipe, a device) is written directly. Messages go to err,
 * each line starting with "recycle plot: ". Returns 0, or 1 when the
 * capture cannot be read, is damaged, memory runs out or the output cannot
 * be written (the message says which; the output then is not created). A
 * capture that ends early is drawn up to where it ends, with a warning. */
int rcr_plot(const char *path, const rcr_plot_options *options, const char *out_path,
             FILE *err);

/* The pieces, for pages that hold the plot among other things (html.c):
 * a plot made before the capture is loaded, fed by the load
 * (rcr_load_options.on_event = rcr_plot_on_event, .arg = the plot; it
 * sets the replay's change hook), then drawn as a standalone SVG document
 * from the finished replay and its sites sorted by peak bytes
 * (RCR_METRIC_PEAK), the top of which make the legend. */
typedef struct rcr_plot_data rcr_plot_data;
rcr_plot_data *rcr_plot_new(rcr_replay *replay);     /* NULL: out of memory */
bool rcr_plot_on_event(void *arg, const rccap_event *ev);
void rcr_plot_draw(const rcr_plot_data *p, rcr_replay *r, const rcr_sites *sites, size_t top,
                   bool complete, FILE *out);
void rcr_plot_free(rcr_plot_data *p);

#endif /* RC_REPORT_PLOT_H */
