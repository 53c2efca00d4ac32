/* snapshot.h - the snapshot's layout, shared by snapshot.c (take, filter,
 * statistics, compare) and dumpload.c (the snapshot file).
 *
 * A snapshot is traces (domain, size, traceback index) and the distinct
 * tracebacks they point to, each a private copy. A frame's file and line
 * come from one of two places:
 *
 *   - a snapshot taken in this process (syms == NULL): the symbolizer, asked
 *     for the frame's return address (rctr_symbolize_pc);
 *   - a snapshot loaded from a file (syms != NULL): the symbols stored in the
 *     file, because the addresses belong to the process that dumped it and
 *     mean nothing here.
 *
 * Invariants:
 *   - every traces[i].tb < ntbs; every tbs[i] is non-NULL;
 *   - with syms, syms->first has ntbs entries and frame f of traceback i is
 *     syms->v[syms->first[i] + f], for every f < tbs[i]->nframes;
 *   - syms is shared (reference counted) by the copies of a snapshot (filter
 *     results, the tracebacks kept by statistics) and by the statistics made
 *     from it, so the strings an rc_stat points to live as long as it does. */
#ifndef RC_TRACE_SNAPSHOT_H
#define RC_TRACE_SNAPSHOT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stddef.h>
#include <stdint.h>

#include "trace/tracer.h"

typedef struct snap_trace {
    unsigned domain;
    size_t size;
    size_t tb;                     /* index into tbs */
    uint32_t type;                 /* index into types + 1; 0: none known */
} snap_trace;

/* The stored symbols of one frame; file is never NULL (the same names as
 * rctr_symbolize_pc gives: "<unknown>" for an address in no module). */
typedef struct rctr_sym {
    const char *function;          /* NULL when unknown */
    const char *file;
    int line;
} rctr_sym;

/* Symbols of a loaded snapshot; one block of strings, reference counted. */
typedef struct rctr_symbols {
    size_t refs;                   /* changed atomically: copies may be freed on any thread */
    char *strings;                 /* every string, NUL-terminated */
    size_t *first;                 /* per traceback: its first frame in v */
    rctr_sym *v;
} rctr_symbols;

struct rc_snapshot {
    int limit;
    size_t ntraces;
    snap_trace *traces;
    size_t ntbs;
    rc_traceback **tbs;
    rctr_symbols *syms;            /* NULL: symbolize the addresses here */
    char **types;                  /* the objects' type names, copies */
    size_t ntypes;
};

/* The file, line and function of the return address pc in this process,
 * as statistics show them: the innermost (inlined) function's file and line;
 * without debug information the module's path and line 0; "<unknown>" for
 * an address in no module. Never fails; the strings are the symbolizer's. */
void rctr_symbolize_pc(uintptr_t pc, rctr_sym *out);

/* The symbols of frame f of traceback tb of s (either source above). */
void rctr_snapshot_frame(const rc_snapshot *s, size_t tb, size_t f, rctr_sym *out);

/* Take one more reference to syms (NULL allowed) and return it. */
rctr_symbols *rctr_symbols_hold(rctr_symbols *syms);
/* Drop a reference; the last one frees the symbols. NULL allowed. */
void rctr_symbols_release(rctr_symbols *syms);

/* Where rc_snapshot_load and the fuzz target meet: parse a whole snapshot
 * file held in memory. Returns a new snapshot, or NULL with *error set to
 * RC_EFORMAT (damaged or foreign bytes) or RC_ENOMEM. Never reads outside
 * buf[0..len) and allocates nothing before the counts that size it are
 * known to fit in the bytes left. flags: RCTR_LOAD_NO_CHECKSUM skips the
 * checksum test (the fuzz target uses it so that mutated inputs reach the
 * parser; the structure is checked the same either way). */
#define RCTR_LOAD_NO_CHECKSUM 1u
rc_snapshot *rctr_snapshot_load_mem(const void *buf, size_t len, unsigned flags, int *error);

/* The bytes of the snapshot file for s, in a malloc'd buffer (*len its
 * size). NULL on ENOMEM, or RC_EOVERFLOW (in *error) when a count does not
 * fit the format's fields. */
void *rctr_snapshot_dump_mem(const rc_snapshot *s, size_t *len, int *error);

#endif /* RC_TRACE_SNAPSHOT_H */
