/* export.h - `recycle export`: a capture written in another tool's format.
 *
 *   collapsed    the folded stacks of flamegraph.pl, inferno and speedscope:
 *                one line per distinct stack, its frames outermost first
 *                joined by ';', a space and the value (bytes or
 *                allocations; allocated over the run, live at the peak, or
 *                leaked)
 *   speedscope   speedscope's JSON file format: the frames once, and one
 *                "sampled" profile per kind (allocated, peak, leaked) whose
 *                samples are the stacks and whose weights their values
 *   massif       the massif.out text of Valgrind's massif, read by ms_print
 *                and massif-visualizer: the heap at up to 50 times of the
 *                run, and the sites live at the peak as massif's tree
 *
 * A stack runs from the outermost frame to the allocation's site (the
 * innermost frame outside the allocator and the C/C++ run-time,
 * rcr_replay_site_of): the frames inside malloc or operator new are left
 * out. A pc stands for each function inlined at it, outermost first. A
 * frame without a symbol is named "module+0xOFFSET" (the module's file
 * name), or "0xPC" outside every module; an allocation without a stack is
 * "[unknown]".
 *
 * Every value comes from the replay's figures, one record per stack id,
 * each in exactly one stack, so the values of a kind add up to the totals
 * of `recycle report --json` exactly: bytes_allocated, peak_bytes,
 * leaked_bytes (or allocations, peak_allocations, leaked_allocations).
 *
 * Memory: the replay's, plus one entry per stack node, distinct frame and
 * distinct stack. */
#ifndef RC_REPORT_EXPORT_H
#define RC_REPORT_EXPORT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stdio.h>

typedef enum rcr_export_format {
    RCR_EXPORT_COLLAPSED,
    RCR_EXPORT_SPEEDSCOPE,
    RCR_EXPORT_MASSIF,
    RCR_EXPORT_PPROF,          /* export_pprof.c */
    RCR_EXPORT_SQLITE,         /* export_sqlite.c */
} rcr_export_format;

/* Which figure a collapsed stack's value is. */
typedef enum rcr_export_kind {
    RCR_EXPORT_ALLOCATED,      /* over the run */
    RCR_EXPORT_PEAK,           /* live at the peak */
    RCR_EXPORT_LEAKED,         /* live at the end */
} rcr_export_kind;

typedef struct rcr_export_options {
    rcr_export_format format;
    rcr_export_kind kind;      /* collapsed only */
    bool allocations;          /* values in allocations, not bytes (collapsed,
                                  speedscope) */
    bool progress;             /* may show a progress line on err (a terminal) */
    /* sqlite only: the database file to fill (out is not written). It is
     * empty or does not exist yet: the caller makes a temporary file and
     * renames it over the user's once the export succeeded. */
    const char *database;
} rcr_export_options;

/* Read the capture at path and write it on out in the chosen format.
 * Messages go to err, each line starting with "recycle export: ". Returns
 * 0, or 1 when the capture cannot be opened or read, is damaged, or memory
 * runs out (the message says which; out may then hold part of the
 * output). Write errors on out are the caller's to check. A capture that
 * ends early is exported up to where it ends, with a warning. */
int rcr_export(const char *path, const rcr_export_options *options, FILE *out, FILE *err);

#endif /* RC_REPORT_EXPORT_H */
