/* export_impl.h - what export.c takes from the files of the other formats:
 * from export_massif.c the heap over time, gathered from the replay's
 * change hook while the capture loads, and the massif.out file written
 * from it and the finished replay; export_pprof.c and export_sqlite.c
 * whole. */
#ifndef RC_REPORT_EXPORT_IMPL_H
#define RC_REPORT_EXPORT_IMPL_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "report/export.h"
#include "report/replay.h"

#include <stdbool.h>
#include <stdio.h>

/* Fine slots of the run, each the heap after its last change; halved (two
 * slots made one) whenever a change falls past the last. An even count. */
#define RCR_MASSIF_SLOTS 96
/* Snapshots over time written at most, besides the first (nothing live
 * at time 0, as massif starts) and the peak's: 50 in all. */
#define RCR_MASSIF_SNAPSHOTS 48
_Static_assert(RCR_MASSIF_SLOTS % 2 == 0, "slots merge two at a time");
_Static_assert(RCR_MASSIF_SLOTS / 2 <= RCR_MASSIF_SNAPSHOTS,
               "a grown run fills at most half the slots: one merge at the end suffices");

typedef struct rcr_massif_slot {
    uint64_t heap;
    bool has_heap;
} rcr_massif_slot;

typedef struct rcr_massif {
    rcr_massif_slot slots[RCR_MASSIF_SLOTS];
    uint64_t width;            /* of a slot, in ns: a power of two */
    uint64_t heap_time;        /* the latest time of a change */
} rcr_massif;

void rcr_massif_init(rcr_massif *m);
/* The change hook (replay.h), with arg the rcr_massif. */
void rcr_massif_on_change(void *arg, const rcr_replay *r, const rcr_change *c);
/* The massif.out text of the finished replay r; false on out of memory
 * (out may hold part of it). */
bool rcr_massif_write(rcr_massif *m, rcr_replay *r, FILE *out);

/* The pprof and sqlite formats, each reading the capture itself: the
 * contract of rcr_export (export.h). */
int rcr_export_pprof(const char *path, const rcr_export_options *o, FILE *out, FILE *err);
int rcr_export_sqlite(const char *path, const rcr_export_options *o, FILE *err);

#endif /* RC_REPORT_EXPORT_IMPL_H */
