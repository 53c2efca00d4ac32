/* recycle/profile.h - memory_profiler's @profile for C: the recycle heap's
 * memory line by line through a function.
 *
 *     static rc_obj *my_func(rc_runtime *rt) {
 *         int err;
 *         rc_profile *p = RC_PROFILE_BEGIN(&err);
 *         rc_obj *a = repeat(rt, 1, 1000000);
 *         ...
 *         RC_PROFILE_END(p);
 *         return a;
 *     }
 *     ...
 *     rc_profile_print(p, stdout);
 *     rc_profile_free(p);
 *
 * prints memory_profiler's table for the lines of my_func:
 *
 *     Line #    Mem usage    Increment  Occurrences   Line Contents
 *     =============================================================
 *         12      0.0 MiB      0.0 MiB           1       rc_profile *p = RC_PROFILE_BEGIN(&err);
 *         13      7.6 MiB      7.6 MiB           1       rc_obj *a = repeat(rt, 1, 1000000);
 *
 * Between begin and end, every change of the traced memory that the
 * beginning thread makes (an allocation, free or reallocation of the
 * rc_malloc family, of an object or of an object's buffer, or
 * rc_trace_track/untrack) is charged to one line of the profiled function
 * (the function that called RC_PROFILE_BEGIN): the line of the innermost
 * frame of the thread's stack that lies in that function, so what a callee
 * allocates is charged to the line that called it. Per line:
 *   Mem usage    the traced memory (rc_trace_get_traced_memory's current,
 *                every thread's) after the last change charged to the line;
 *   Increment    bytes allocated minus bytes freed by the changes charged to
 *                the line (a free is charged where it happens);
 *   Occurrences  the number of changes charged to the line (C has no line
 *                events: a line that runs without touching the heap has
 *                blank columns), plus one for the line of RC_PROFILE_BEGIN
 *                and one for the line of RC_PROFILE_END.
 * The begin line shows the memory at begin with an increment of 0, the end
 * line the memory at end, so the increments add up to the change between
 * them when the other threads leave the heap alone. docs/profile.md has
 * the details (inlining, threads, what is not attributed).
 *
 * Tracing: a profile needs the tracer. Begin starts it (rc_trace_start(1))
 * when it is off, and the end of the last active profile stops it again;
 * memory allocated before tracing started is then untraced, so freeing it
 * shows nothing. Start tracing yourself before allocating what you want to
 * see freed.
 *
 * Threads: only the thread that began a profile is charged, and only it may
 * end it. Profiles nest (a profiled function calling another: each is
 * charged on its own lines); they must end innermost first. After end, a
 * profile is read-only: print and read it from any thread. */
#ifndef RECYCLE_PROFILE_H
#define RECYCLE_PROFILE_H

#include <stddef.h>
#include <stdio.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Active profiles one thread may have at once (nesting depth). */
#define RC_PROFILE_MAX_NESTED 8

typedef struct rc_profile rc_profile;

/* One line of the table. */
typedef struct rc_profile_line {
    int lineno;
    int has_data;        /* 0: no change charged (blank columns in the table) */
    size_t mem_usage;    /* traced bytes after the line's last change */
    long increment;      /* bytes allocated minus bytes freed under the line */
    size_t occurrences;  /* changes charged, plus begin / end markers */
    const char *text;    /* the source line, without its newline; "" if unread */
} rc_profile_line;       /* fields may be added after these */

/* Begin a profile of the calling function (the caller of this function;
 * function, file and line name it in the table and are copied). NULL on
 * failure with *error (when error is not NULL) set to: RC_ESTATE when the
 * thread already has RC_PROFILE_MAX_NESTED active profiles, or when the
 * caller's code has no unwind table (-fno-asynchronous-unwind-tables: its
 * frames cannot be found); RC_ENOMEM; or what rc_trace_start returned.
 * 0 on success. */
RC_API rc_profile *rc_profile_begin_at(const char *function, const char *file, int line, int *error);
#define RC_PROFILE_BEGIN(error) rc_profile_begin_at(__func__, __FILE__, __LINE__, (error))

/* End p (line: where, for the table) and resolve its lines: the
 * symbolizer turns the code addresses into lines and the source file is
 * read. 0; RC_EINVAL for NULL; RC_ESTATE when p has already ended, was
 * begun on another thread, or is not the innermost active profile of the
 * thread (a profile begun after it is still active): p is then unchanged;
 * RC_ENOMEM when the lines cannot be resolved (p has ended, with no lines). */
RC_API int rc_profile_end_at(rc_profile *p, int line);
#define RC_PROFILE_END(p) rc_profile_end_at((p), __LINE__)

/* Write the table as memory_profiler does ("Filename: ...", the header,
 * one row per line of the function, MiB with one decimal) to out (stdout
 * if NULL); then, only when some changes could not be charged to a line
 * of the function, a line saying how many and how much. 0; RC_EINVAL for
 * NULL; RC_ESTATE while p is active; RC_EIO when writing fails. */
RC_API int rc_profile_print(const rc_profile *p, FILE *out);

/* The table's rows, in line order (rc_profile_len of them, 0 while
 * active); borrowed from p. rc_profile_line_get finds a line by number
 * (NULL when it is not in the table). */
RC_API size_t rc_profile_len(const rc_profile *p);
RC_API const rc_profile_line *rc_profile_at(const rc_profile *p, size_t i);
RC_API const rc_profile_line *rc_profile_line_get(const rc_profile *p, int lineno);

/* The traced memory when p began and when it ended (either pointer may be
 * NULL), and the changes that were not charged to a line of the function
 * (returned; their net bytes into *bytes): frames deeper than the walk
 * reaches, code of the function that the symbolizer places in another
 * file. */
RC_API void   rc_profile_memory(const rc_profile *p, size_t *at_begin, size_t *at_end);
RC_API size_t rc_profile_unattributed(const rc_profile *p, long *bytes);
/* The source file the lines are read from, and the function's name. */
RC_API const char *rc_profile_filename(const rc_profile *p);
RC_API const char *rc_profile_function(const rc_profile *p);

/* Free p (NULL allowed). An active profile is ended first when this is its
 * thread (profiles begun inside it and still active are left active); on
 * another thread an active profile is left alone (not freed). */
RC_API void rc_profile_free(rc_profile *p);

#ifdef __cplusplus
}
#endif

#endif /* RECYCLE_PROFILE_H */
