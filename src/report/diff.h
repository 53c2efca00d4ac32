/* diff.h - `recycle diff`: what grew between two captures, site by site
 * (the same program before and after a change, a short run and a long
 * one).
 *
 * Both captures are folded into sites with the same key (--by, as in
 * `recycle report`), and a site of one is the site of the other when their
 * frames are the same: function, file and line (--by line), function
 * (--by function), file (--by file), every frame from the site outward
 * (--by stack); a frame without symbols is its module's path and its
 * offset in it. Addresses are never compared: they change from run to run.
 * A site found in one capture only is "new" or "gone".
 *
 * Only one capture is loaded at a time: the first is reduced to its sites
 * (their frames copied) and freed before the second is read, so the diff
 * needs the memory of one replay plus two lists of sites. */
#ifndef RC_REPORT_DIFF_H
#define RC_REPORT_DIFF_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "report/report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The figure sites are sorted by: the size of its change, largest first. */
typedef enum rcr_diff_sort {
    RCR_DIFF_BYTES,          /* bytes allocated (the default) */
    RCR_DIFF_ALLOCATIONS,    /* number of allocations */
    RCR_DIFF_LEAKED,         /* bytes live at the end */
    RCR_DIFF_PEAK,           /* bytes live at the peak */
} rcr_diff_sort;

typedef struct rcr_diff_options {
    rcr_by by;
    rcr_diff_sort sort;
    size_t top;              /* sites shown; 0: all */
    bool top_given;          /* JSON lists every site unless --top was given */
    bool json;
    bool progress;           /* may show a progress line on err */
} rcr_diff_options;

/* Compare the captures at old_path and new_path and print the difference
 * on out. Messages go to err, each line starting with "recycle diff: ".
 * Returns 0, or 1 when a capture cannot be read, is damaged, or memory
 * runs out (the message says which and which capture). */
int rcr_diff(const char *old_path, const char *new_path, const rcr_diff_options *o, FILE *out,
             FILE *err);

#endif /* RC_REPORT_DIFF_H */
