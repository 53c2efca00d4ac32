/* sites.h - the figures of a replay folded into allocation sites, and the
 * renderers that print them (text.c, json.c).
 *
 * A site is where the program asked for memory: the innermost frame of an
 * allocation's stack outside the allocator and the C/C++ run-time
 * (rcr_replay_site_of). Every stack id's figures go to exactly one site, so
 * the sites' figures add up to the totals. Sites are then grouped by the
 * report's key (rcr_by): stacks that share the site node with the same
 * function, file and line (--by line), the same function, the same file,
 * or nothing (--by stack). A group shows the frame of its heaviest member,
 * whose stack stands for the group in JSON. */
#ifndef RC_REPORT_SITES_H
#define RC_REPORT_SITES_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "report/replay.h"
#include "report/report.h"

#include <stdio.h>

/* One frame, as far as it is known. */
typedef struct rcr_frame {
    const char *function;    /* NULL if unknown */
    const char *file;        /* NULL if unknown */
    int line;                /* 0 if unknown */
    const char *module;      /* path of the module; NULL if the pc is in none */
    uint64_t offset;         /* pc's offset in the module's file; the pc itself
                                when it is in no module */
} rcr_frame;

/* The frame of stack node id's pc. Strings belong to the replay. */
void rcr_frame_of(rcr_replay *r, uint32_t id, rcr_frame *out);
/* Every frame node id's pc stands for, innermost (inlined) first and the
 * function containing the pc last: up to max of them into out. Returns how
 * many there are (possibly more than max), 0 when the pc's module is
 * unknown or cannot be opened. Strings belong to the symbolizer. */
size_t rcr_frames_of(rcr_replay *r, uint32_t id, rcs_frame *out, size_t max);

typedef struct rcr_site {
    rcr_figures fig;         /* sums (epoch unused) */
    uint32_t node;           /* the heaviest site node of the group */
    uint64_t node_bytes;     /* its bytes */
    rcr_frame frame;         /* its frame */
} rcr_site;

typedef struct rcr_sites {
    rcr_site *v;
    size_t n;
} rcr_sites;

/* What sites are sorted by, heaviest first. */
typedef enum rcr_metric {
    RCR_METRIC_BYTES,
    RCR_METRIC_LEAKED,
    RCR_METRIC_PEAK,
    RCR_METRIC_TEMPORARY,
} rcr_metric;

/* The sites of a finished replay, grouped by `by`; false on out of memory. */
bool rcr_sites_build(rcr_replay *r, rcr_by by, rcr_sites *out);
/* Sort by metric, heaviest first; ties by bytes, then by the frame. */
void rcr_sites_sort(rcr_sites *s, rcr_metric metric);
/* The metric of a site. */
uint64_t rcr_site_metric(const rcr_site *s, rcr_metric metric);
void rcr_sites_free(rcr_sites *s);

/* What the renderers are given. */
typedef struct rcr_render {
    rcr_replay *replay;
    rcr_sites *sites;
    const rcr_options *options;
    const char *path;        /* of the capture */
    bool complete;           /* false: the capture ends early */
} rcr_render;

void rcr_render_text(const rcr_render *rd, FILE *out);
void rcr_render_json(const rcr_render *rd, FILE *out);

#endif /* RC_REPORT_SITES_H */
