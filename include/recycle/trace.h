/* recycle/trace.h - tracemalloc for C: where the recycle heap's memory was
 * allocated.
 *
 * rc_trace_start(nframes) wraps the allocator in force (rc_heap_set_allocator)
 * and from then on records every block of the rc_malloc family with its size
 * and the traceback of its allocation: up to nframes return addresses,
 * innermost first, frame 0 being the caller of rc_malloc (the allocator's own
 * frames are left out). Identical tracebacks are stored once. Memory
 * allocated elsewhere (a custom allocator, a GPU buffer) can be traced too,
 * in a domain of its own, with rc_trace_track / rc_trace_untrack.
 *
 * The tracer is a process-wide singleton behind one lock; every function
 * here may be called from any thread. Blocks allocated before start have no
 * trace; freeing them while tracing is not an error. Functions returning int
 * return 0 or a negative RC_E* code (recycle/error.h) and leave everything
 * unchanged on failure. docs/trace.md describes the design and its costs. */
#ifndef RECYCLE_TRACE_H
#define RECYCLE_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"
#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The range of rc_trace_start's nframes. */
#define RC_TRACE_MAX_FRAMES 128
/* The domain of the recycle heap's blocks (rc_malloc and friends). Other
 * domains are any other unsigned value, chosen by the program. */
#define RC_TRACE_DOMAIN_HEAP 0u

/* A traceback: return addresses, innermost first. Opaque. */
typedef struct rc_traceback rc_traceback;

/* ---------------------------------------------------------------------------
 * Tracing
 * ------------------------------------------------------------------------- */

/* Start tracing with tracebacks of up to nframes frames (1..128, else
 * RC_EINVAL). When already tracing, only the limit changes (as
 * tracemalloc.start). RC_ENOMEM when the tracer cannot set itself up. */
RC_API int  rc_trace_start(int nframes);
/* Stop tracing: put back the allocator that was in force at start, and
 * free every trace and traceback. Does nothing when not tracing. An
 * allocator installed over the tracer's after start is removed too. */
RC_API void rc_trace_stop(void);
/* 1 while tracing, else 0. */
RC_API int  rc_trace_is_tracing(void);
/* The nframes of the running tracer; 0 when not tracing. */
RC_API int  rc_trace_get_traceback_limit(void);
/* The bytes of the traced blocks now, and the most there were since start,
 * the last rc_trace_reset_peak or rc_trace_clear_traces (requested sizes,
 * every domain). Both 0 when not tracing. Either pointer may be NULL. */
RC_API void rc_trace_get_traced_memory(size_t *current, size_t *peak);
/* Set the peak to the current traced memory. */
RC_API void rc_trace_reset_peak(void);
/* Bytes the tracer uses for its traces, tracebacks and tables. */
RC_API size_t rc_trace_get_tracemalloc_memory(void);
/* Forget every trace and traceback (traced memory and peak become 0);
 * tracing goes on. Blocks traced before are then as if allocated before
 * start. */
RC_API void rc_trace_clear_traces(void);

/* Record a block of size bytes at ptr in domain (not RC_TRACE_DOMAIN_HEAP's
 * blocks: those the tracer sees by itself), with the caller's traceback; a
 * pointer already traced in that domain gets the new size and traceback.
 * RC_EINVAL for a NULL ptr, RC_ESTATE when not tracing, RC_ENOMEM. */
RC_API int  rc_trace_track(unsigned int domain, const void *ptr, size_t size);
/* Forget the trace of ptr in domain. 0 (also when there is none), or
 * RC_ESTATE when not tracing. */
RC_API int  rc_trace_untrack(unsigned int domain, const void *ptr);

/* A copy of the traceback of the heap block ptr (an rc_malloc block; for a
 * recycle object, pass the object's address when the object layer traces its
 * blocks); NULL when not tracing, when ptr has no trace, or on ENOMEM. The
 * caller frees it with rc_traceback_free. */
RC_API rc_traceback *rc_trace_get_object_traceback(const void *ptr);
/* Frames in tb (0 for NULL). */
RC_API size_t rc_traceback_len(const rc_traceback *tb);
/* Return address of frame i (0 innermost); 0 when i is out of range. */
RC_API uintptr_t rc_traceback_addr(const rc_traceback *tb, size_t i);
/* Free a traceback from rc_trace_get_object_traceback; NULL is allowed. */
RC_API void rc_traceback_free(rc_traceback *tb);

/* ---------------------------------------------------------------------------
 * Snapshots, statistics, compare, filters
 *
 * A snapshot is a consistent copy of every trace, taken under the tracer's
 * lock while other threads go on allocating; it stays valid after
 * rc_trace_stop. File names and lines come from the symbolizer (DWARF line
 * tables): a frame's line is the innermost function's at its return
 * address (an inlined function's own line); code without debug information
 * shows as its module's path, line 0; an address in no module as
 * "<unknown>". The strings of an rc_stat belong to the library and stay
 * valid until the process ends.
 * ------------------------------------------------------------------------- */

typedef struct rc_snapshot rc_snapshot;
typedef struct rc_stats rc_stats;

/* Statistics keys (tracemalloc's 'filename', 'lineno', 'traceback'). */
#define RC_BY_FILENAME  1
#define RC_BY_LINENO    2
#define RC_BY_TRACEBACK 3

typedef struct { const char *filename; int lineno; size_t size, count;
                 long size_diff, count_diff; } rc_stat;  /* fields may be added after */

/* A filter of rc_snapshot_filter_traces (tracemalloc's Filter and
 * DomainFilter in one). A trace matches when its frame 0 (every frame, with
 * all_frames) has a file name matching filename_pattern (fnmatch(3); NULL:
 * any) and, unless lineno is 0, that line. With match_domain, an inclusive
 * filter also requires the trace's domain to be domain, and an exclusive
 * one excludes only traces of that domain; with neither pattern nor lineno
 * the filter is on the domain alone. */
typedef struct rc_trace_filter {
    int inclusive;                 /* 1: keep matching traces; 0: drop them */
    const char *filename_pattern;  /* fnmatch pattern, or NULL */
    int lineno;                    /* 0: any line */
    int all_frames;                /* 1: any frame may match; 0: frame 0 only */
    int match_domain;              /* 1: domain below applies */
    unsigned int domain;
} rc_trace_filter;

/* A copy of every trace; NULL when not tracing or on ENOMEM. Free with
 * rc_snapshot_free. */
RC_API rc_snapshot *rc_trace_take_snapshot(void);
RC_API void    rc_snapshot_free(rc_snapshot *s);                 /* NULL allowed */
/* Traces in s, and the traceback limit it was taken with. */
RC_API size_t  rc_snapshot_trace_count(const rc_snapshot *s);
RC_API int     rc_snapshot_traceback_limit(const rc_snapshot *s);
/* A new snapshot of the traces of s that pass the filters: every inclusive
 * filter's traces (all traces when there is none) minus those of any
 * exclusive filter. NULL on ENOMEM or for a NULL s. */
RC_API rc_snapshot *rc_snapshot_filter_traces(const rc_snapshot *s,
                                              const rc_trace_filter *filters, size_t nfilters);

/* Statistics of s grouped by key (RC_BY_*), sorted by size then count, both
 * descending. cumulative (RC_BY_FILENAME and RC_BY_LINENO only) counts a
 * trace under every distinct frame of its traceback, not just frame 0.
 * For RC_BY_TRACEBACK, filename and lineno are frame 0's. NULL for a bad key
 * or on ENOMEM. Free with rc_stats_free. */
RC_API rc_stats *rc_snapshot_statistics(const rc_snapshot *s, int key, int cumulative);
/* The statistics of s with their differences to old: every key of either
 * (a key gone from s has size and count 0), sorted by the absolute size
 * difference, then size, then the absolute count difference. */
RC_API rc_stats *rc_snapshot_compare_to(const rc_snapshot *s, const rc_snapshot *old,
                                        int key, int cumulative);
RC_API size_t  rc_stats_len(const rc_stats *st);
/* Entry i, borrowed from st; NULL when out of range. */
RC_API const rc_stat *rc_stats_at(const rc_stats *st, size_t i);
/* The traceback of entry i of RC_BY_TRACEBACK statistics, borrowed from st;
 * NULL for the other keys or out of range. */
RC_API const rc_traceback *rc_stats_traceback(const rc_stats *st, size_t i);
/* Write the first limit entries (0: all) as tracemalloc prints them:
 *   file.c:12: size=1234 KiB, count=56, average=22.0 KiB
 * and for compare_to results
 *   file.c:12: size=1234 KiB (+12.0 KiB), count=56 (+3), average=22.0 KiB */
RC_API void    rc_stats_print(const rc_stats *st, FILE *out, size_t limit);
RC_API void    rc_stats_free(rc_stats *st);                      /* NULL allowed */

/* "Which lines make which types": while on (off by default), the tracer
 * remembers the type of every recycle object it traces, made from then on
 * (a table entry per traced object: about 20 bytes). Snapshots then carry
 * it, and rc_snapshot_statistics_by_type groups by key and type, so that
 * one line making lists and dicts shows as two entries. Snapshots loaded
 * from a file carry no types. Always 0. */
RC_API int     rc_trace_set_object_types(int on);
RC_API int     rc_trace_get_object_types(void);
/* As rc_snapshot_statistics, grouped by key and the objects' type (blocks
 * that are no object, or whose type is not known, are one group of type
 * NULL). */
RC_API rc_stats *rc_snapshot_statistics_by_type(const rc_snapshot *s, int key, int cumulative);
/* The type of entry i of statistics by type (borrowed from st), NULL when
 * not an object, for other statistics, or out of range. rc_stats_print
 * writes it after the line: "file.c:12: list: size=..., count=...". */
RC_API const char *rc_stats_type(const rc_stats *st, size_t i);

/* ---------------------------------------------------------------------------
 * Dump and load (the snapshot file: docs/trace.md, "Snapshot file format")
 *
 * The file holds every trace and traceback with each frame's function, file
 * and line, found when it is dumped, so that a snapshot loaded in another
 * process gives the same statistics and filter results by file and line.
 * Addresses are kept too (RC_BY_TRACEBACK groups by them), but mean nothing
 * outside the process that dumped them. For a loaded snapshot, the strings
 * of an rc_stat live as long as the rc_stats (or the snapshot) they came
 * from.
 * ------------------------------------------------------------------------- */

/* Write s to path: the bytes go to a temporary file in the same directory,
 * which is renamed over path once complete, so path is either left as it
 * was or holds the whole snapshot. 0; RC_EINVAL for a NULL s or path;
 * RC_EIO when an OS call fails (errno is left as that call set it);
 * RC_ENOMEM; RC_EOVERFLOW when a string or count exceeds the format. */
RC_API int rc_snapshot_dump(const rc_snapshot *s, const char *path);
/* Read a snapshot written by rc_snapshot_dump; free it with
 * rc_snapshot_free. NULL on failure with *error (when error is not NULL)
 * set to RC_EIO when the file cannot be opened or read (errno is left as
 * the failing call set it: ENOENT, EACCES, EISDIR for a directory, ...),
 * RC_EFORMAT when its bytes are not a whole, undamaged snapshot file of a
 * known version (truncated, extended, a checksum mismatch, a count that
 * disagrees with the file's length, an index out of range), RC_ENOMEM, or
 * RC_EINVAL for a NULL path; 0 on success. */
RC_API rc_snapshot *rc_snapshot_load(const char *path, int *error);

#ifdef __cplusplus
}
#endif

#endif /* RECYCLE_TRACE_H */
