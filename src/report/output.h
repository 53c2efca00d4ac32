/* output.h - where a picture or an export goes: the standard output, a
 * file written whole or not at all, or a device written in place.
 *
 *   "-"                 the standard output, flushed and its write errors
 *                       reported by the command's main (rcl_finish_stdout)
 *   a regular file, or  a temporary file beside it (same folder, so that
 *   a path not there    the rename cannot cross file systems), renamed over
 *                       it once every byte was written: a failed run leaves
 *                       what was there
 *   anything else       (a device, a pipe, /dev/stdout) written in place:
 *                       renaming over it would replace it
 *
 * Messages go to err as "<prefix>cannot write PATH: reason". */
#ifndef RC_REPORT_OUTPUT_H
#define RC_REPORT_OUTPUT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stdio.h>

typedef struct rcr_output {
    FILE *f;                 /* write here between open and close */
    const char *path;        /* as given */
    char *tmp;               /* the temporary file, or NULL */
    bool is_stdout;
} rcr_output;

/* Open path for writing ("-": stdout). false after a message on err. */
bool rcr_output_open(rcr_output *o, const char *path, const char *prefix, FILE *err);

/* Finish the output: with ok, flush and close it (the temporary file
 * renamed over the path); without ok, close it and remove the temporary
 * file (a file written in place keeps what was written). Returns 0, or 1
 * when ok was false or a write failed (after a message on err for a write
 * error). */
int rcr_output_close(rcr_output *o, bool ok, const char *prefix, FILE *err);

#endif /* RC_REPORT_OUTPUT_H */
