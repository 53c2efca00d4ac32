/* modules.h - the objects mapped into the process (the program, its
 * libraries, the vDSO), as dl_iterate_phdr lists them, and which of them
 * the recorder has not reported yet.
 *
 * An object is reported as its PT_LOAD segments, each as /proc/self/maps
 * would show it (start and end rounded out to pages, file offset rounded
 * down): what a symbolizer needs to map an address back into the file
 * (libdwfl reads exactly this from a maps file), plus the object's path
 * and GNU build id.
 *
 * An object is known by its load address, the address of its program
 * headers and its name, and is reported once for as long as it stays
 * loaded (a library closed and opened again is reported again). */
#ifndef RC_PRELOAD_MODULES_H
#define RC_PRELOAD_MODULES_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "preload/preload.h"

#define RCPL_MAX_SEGMENTS 16
#define RCPL_BUILD_ID_MAX 64

/* Segment flags (the PF_* bits of the program header). */
enum { RCPL_SEG_X = 1, RCPL_SEG_W = 2, RCPL_SEG_R = 4 };

typedef struct rcpl_segment {
    uintptr_t start, end;         /* page-rounded, as in /proc/self/maps */
    uintptr_t offset;             /* file offset of start */
    uintptr_t vstart, vend;       /* the exact bytes of the segment in memory */
    unsigned flags;
} rcpl_segment;

typedef struct rcpl_object {
    uintptr_t base;               /* dlpi_addr: load bias */
    uintptr_t phdr;               /* address of its program headers */
    uint64_t name_hash;
    const char *path;             /* never NULL; "" when unknown */
    uint8_t build_id[RCPL_BUILD_ID_MAX];
    uint32_t build_id_len;
    size_t nseg;
    rcpl_segment seg[RCPL_MAX_SEGMENTS];
} rcpl_object;

/* A list of objects, in OS memory (names copied into it). */
typedef struct rcpl_objects {
    rcpl_object *obj;
    size_t count, cap;
    char *names;
    size_t names_len, names_cap;
} rcpl_objects;

/* Take a snapshot of the loaded objects into *out (its memory reused and
 * grown); 0 or ENOMEM (then *out may hold part of the list). The main
 * program, listed with an empty name by the loader, gets the path of
 * /proc/self/exe. */
int rcpl_objects_scan(rcpl_objects *out);
void rcpl_objects_release(rcpl_objects *o);
/* Whether o holds an object with the identity of x. */
bool rcpl_objects_has(const rcpl_objects *o, const rcpl_object *x);

/* The loader's counts of objects added and removed since the process
 * started: unchanged counts mean an unchanged list. */
void rcpl_objects_counts(uint64_t *adds, uint64_t *subs);

/* The set of objects reported so far, and a scratch snapshot. */
typedef struct rcpl_modset {
    rcpl_lock lock;
    rcpl_objects known, scratch;
    uint64_t adds, subs;          /* the loader's counts at the last scan */
    bool scanned;
} rcpl_modset;

/* Called for each object not reported before (the modset's lock held). */
typedef void (*rcpl_object_fn)(void *arg, const rcpl_object *obj);

/* Report the objects loaded since the last call (all of them the first
 * time), then remember the current list. force: scan even if the loader's
 * counts did not change. wait: wait for the set's lock (else give up at
 * once when another thread holds it). Returns how many were reported, or
 * SIZE_MAX when the lock was busy; on ENOMEM the objects that could not be
 * listed are reported by a later call. */
size_t rcpl_modset_update(rcpl_modset *m, bool force, bool wait, rcpl_object_fn fn, void *arg);
void rcpl_modset_release(rcpl_modset *m);

#endif /* RC_PRELOAD_MODULES_H */
