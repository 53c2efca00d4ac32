/* flame.h - `recycle flamegraph`: the call tree of a capture's allocations
 * as one self-contained HTML page.
 *
 * The tree runs from the outermost frame down to each allocation's site
 * (rcr_replay_site_of: the frames inside the allocator and the C run-time
 * are left out), a pc standing for the functions inlined at it as well
 * (rcr_frames_of), outermost first. Two calls are one box when they are
 * the same frame (function, file and line, or module and offset when
 * unknown) under the same box. A box weighs the bytes of its kind:
 *
 *   allocated   allocated over the run (the report's bytes_allocated)
 *   peak        live when the heap was at its peak (peak_bytes)
 *   leaked      live at the end (leaked_bytes)
 *
 * so the root weighs the report's total of that kind, and a box at least
 * the sum of its children. Boxes lighter than a thousandth of the root
 * are folded into their parent (their bytes stay in it, drawn as its own),
 * which bounds the page: at most 1000 boxes per depth.
 *
 * The page carries its data as JSON in a script element (frames as a
 * string table, the tree as parallel arrays in preorder) and draws it
 * with its own script (flame.js, flame.css; assets.h): nothing is
 * fetched from anywhere. */
#ifndef RC_REPORT_FLAME_H
#define RC_REPORT_FLAME_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "report/replay.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum rcr_flame_kind {
    RCR_FLAME_ALLOCATED,
    RCR_FLAME_PEAK,
    RCR_FLAME_LEAKED,
} rcr_flame_kind;

typedef struct rcr_flame_options {
    rcr_flame_kind kind;
    /* Where the page goes: "-" for out; a regular file (or a path not yet
     * there) is written beside itself and renamed over, so that it is
     * whole or untouched; anything else (a device, a pipe) is written in
     * place. */
    const char *output;
    bool progress;           /* may show a progress line on err (a terminal) */
} rcr_flame_options;

/* The name of a kind ("allocated", "peak", "leaked"). */
const char *rcr_flame_kind_name(rcr_flame_kind kind);

/* Read the capture at path and write its flame graph where o->output says
 * (out when it is "-"). Messages go to err, each line starting with
 * "recycle flamegraph: ". Returns 0, or 1 when the capture cannot be read
 * or is damaged, memory runs out, or the page cannot be written (nothing
 * is left at o->output then, unless it was a device or a pipe). */
int rcr_flamegraph(const char *path, const rcr_flame_options *o, FILE *err);

/* The pieces, for pages that hold a flame graph among other things
 * (html.c). The data block of kind's flame graph of the finished replay r
 * into *json (malloc'd, *len bytes; the caller frees it); complete false
 * says the capture was cut short. false on out of memory. */
bool rcr_flame_json(rcr_replay *r, rcr_flame_kind kind, bool complete, char **json,
                    size_t *len);
/* json written as the content of a <script type="application/json">
 * element: '<', '>' and '&' as \u escapes, so that nothing in it can end
 * the element. */
void rcr_flame_put_script_json(FILE *out, const char *json, size_t len);
/* The flame graph's script and style (flame.js, flame.css). */
void rcr_flame_put_script(FILE *out);
void rcr_flame_put_style(FILE *out);

#endif /* RC_REPORT_FLAME_H */
