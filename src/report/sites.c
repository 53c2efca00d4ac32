/* sites.c - stack ids' figures folded into allocation sites (sites.h). */
#define _GNU_SOURCE
#include "report/sites.h"

#include "report/keys.h"

#include <stdlib.h>
#include <string.h>

/* ---- frames ------------------------------------------------------------------ */

/* The symbolizer's index of module m, adding it (and the session) the
 * first time; -1 when it cannot (no path, out of memory): the frame stays
 * module+offset. */
static int session_module(rcr_replay *r, uint32_t m) {
    if (!r->modules[m].path || !r->modules[m].path[0])
        return -1;
    if (!r->sym && !(r->sym = rcs_session_new()))
        return -1;
    if (m >= r->nsym_index) {
        size_t n = r->nmodules;
        int *v = realloc(r->sym_index, n * sizeof *v);
        if (!v)
            return -1;
        for (size_t i = r->nsym_index; i < n; i++)
            v[i] = -2;   /* not added yet */
        r->sym_index = v;
        r->nsym_index = n;
    }
    if (r->sym_index[m] == -2) {
        const rcr_module *mod = &r->modules[m];
        r->sym_index[m] = rcs_session_add_module(r->sym, mod->path, mod->start, mod->end, mod->offset,
                                                 mod->build_id, mod->build_id_len);
    }
    return r->sym_index[m];
}

void rcr_frame_of(rcr_replay *r, uint32_t id, rcr_frame *out) {
    memset(out, 0, sizeof *out);
    if (id == 0 || id >= r->nnodes || !r->nodes[id].defined)
        return;
    uint64_t pc = r->nodes[id].pc;
    uint32_t m = rcr_replay_module_of(r, id);
    if (m == RCR_NONE) {
        out->offset = pc;
        return;
    }
    const rcr_module *mod = &r->modules[m];
    out->module = mod->path;
    out->offset = pc - mod->start + mod->offset;
    int sym = session_module(r, m);
    if (sym < 0)
        return;
    /* the innermost frame: where an inlined function's own line is */
    rcs_frame f[8];
    if (rcs_session_symbolize(r->sym, sym, pc, f, 8) >= 1) {
        out->function = f[0].function;
        out->file = f[0].file;
        out->line = f[0].line;
    }
}

size_t rcr_frames_of(rcr_replay *r, uint32_t id, rcs_frame *out, size_t max) {
    if (id == 0 || id >= r->nnodes || !r->nodes[id].defined)
        return 0;
    uint32_t m = rcr_replay_module_of(r, id);
    int sym = m == RCR_NONE ? -1 : session_module(r, m);
    if (sym < 0)
        return 0;
    return rcs_session_symbolize(r->sym, sym, r->nodes[id].pc, out, max);
}

/* ---- grouping keys ---------------------------------------------------------- */

/* The key that makes two site nodes one site under `by`, into buf. */
static void site_key(uint32_t node, const rcr_frame *f, rcr_by by, char *buf, size_t len) {
    const char *module = f->module ? f->module : "";
    switch (by) {
    case RCR_BY_STACK:
        snprintf(buf, len, "#%lu", (unsigned long)node);
        return;
    case RCR_BY_FUNCTION:
        if (f->function) {
            snprintf(buf, len, "f\x1f%s", f->function);
            return;
        }
        break;
    case RCR_BY_FILE:
        if (f->file)
            snprintf(buf, len, "s\x1f%s", f->file);
        else
            snprintf(buf, len, "m\x1f%s", module);
        return;
    case RCR_BY_LINE:
        if (f->file) {
            snprintf(buf, len, "l\x1f%s\x1f%s\x1f%d", f->function ? f->function : "", f->file,
                     f->line);
            return;
        }
        break;
    }
    snprintf(buf, len, "a\x1f%s\x1f%llx", module, (unsigned long long)f->offset);
}

/* ---- building ------------------------------------------------------------------ */

static void add_figures(rcr_figures *to, const rcr_figures *f) {
    to->bytes += f->bytes;
    to->allocations += f->allocations;
    to->frees += f->frees;
    to->live_bytes += f->live_bytes;
    to->live_allocations += f->live_allocations;
    to->peak_bytes += f->peak_bytes;
    to->peak_allocations += f->peak_allocations;
    to->lost_bytes += f->lost_bytes;
    to->lost_allocations += f->lost_allocations;
    to->reachable_bytes += f->reachable_bytes;
    to->reachable_allocations += f->reachable_allocations;
    to->temporary += f->temporary;
}

bool rcr_sites_build(rcr_replay *r, rcr_by by, rcr_sites *out) {
    memset(out, 0, sizeof *out);
    /* First per site node (several stacks differ only in the run-time
     * frames below the site), then per key. */
    rcr_figures *per_node = NULL;
    uint32_t *node_of = NULL;
    size_t nper = 0;
    rci_htable index;
    rci_htable_init(&index);
    rcr_keys keys = {0};
    bool ok = false;

    if (r->nfigures) {
        per_node = calloc(r->nfigures, sizeof *per_node);
        node_of = calloc(r->nfigures, sizeof *node_of);
        out->v = calloc(r->nfigures, sizeof *out->v);
        if (!per_node || !node_of || !out->v)
            goto done;
    }
    for (size_t i = 0; i < r->nfigures; i++) {
        uint32_t site = rcr_replay_site_of(r, r->figures[i].node);
        bool existed;
        /* key site + 1: the table reserves key 0 */
        uintptr_t *slot = rci_htable_slot(&index, (uintptr_t)site + 1, &existed);
        if (!slot)
            goto done;
        if (!existed) {
            *slot = nper;
            node_of[nper++] = site;
        }
        add_figures(&per_node[*slot], &r->figures[i]);
    }
    for (size_t i = 0; i < nper; i++) {
        rcr_frame f;
        rcr_frame_of(r, node_of[i], &f);
        char key[8192];
        site_key(node_of[i], &f, by, key, sizeof key);
        uint32_t at;
        bool existed;
        if (!rcr_keys_find_or_add(&keys, key, (uint32_t)out->n, &at, &existed))
            goto done;
        rcr_site *s = &out->v[at];
        if (!existed) {
            out->n++;
            s->node = node_of[i];
            s->node_bytes = per_node[i].bytes;
            s->frame = f;
        } else if (per_node[i].bytes > s->node_bytes) {
            s->node = node_of[i];
            s->node_bytes = per_node[i].bytes;
            s->frame = f;
        }
        add_figures(&s->fig, &per_node[i]);
    }
    ok = true;
done:
    free(per_node);
    free(node_of);
    rci_htable_free(&index);
    rcr_keys_free(&keys);
    if (!ok)
        rcr_sites_free(out);
    return ok;
}

void rcr_sites_free(rcr_sites *s) {
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- sorting ---------------------------------------------------------------------- */

uint64_t rcr_site_metric(const rcr_site *s, rcr_metric metric) {
    switch (metric) {
    case RCR_METRIC_LEAKED:
        return s->fig.live_bytes;
    case RCR_METRIC_PEAK:
        return s->fig.peak_bytes;
    case RCR_METRIC_TEMPORARY:
        return s->fig.temporary;
    case RCR_METRIC_BYTES:
        break;
    }
    return s->fig.bytes;
}

static int cmp_str(const char *a, const char *b) {
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/* The order of frames when the figures tie: by what is printed. */
static int cmp_frame(const rcr_frame *a, const rcr_frame *b) {
    int c = cmp_str(a->function, b->function);
    if (!c)
        c = cmp_str(a->file, b->file);
    if (!c)
        c = (a->line > b->line) - (a->line < b->line);
    if (!c)
        c = cmp_str(a->module, b->module);
    if (!c)
        c = (a->offset > b->offset) - (a->offset < b->offset);
    return c;
}

static int cmp_sites(const void *pa, const void *pb, void *arg) {
    const rcr_site *a = pa, *b = pb;
    rcr_metric metric = *(const rcr_metric *)arg;
    uint64_t ma = rcr_site_metric(a, metric), mb = rcr_site_metric(b, metric);
    if (ma != mb)
        return ma > mb ? -1 : 1;
    if (a->fig.bytes != b->fig.bytes)
        return a->fig.bytes > b->fig.bytes ? -1 : 1;
    int c = cmp_frame(&a->frame, &b->frame);
    if (!c)
        c = (a->node > b->node) - (a->node < b->node);
    return c;
}

void rcr_sites_sort(rcr_sites *s, rcr_metric metric) {
    if (s->n > 1)
        qsort_r(s->v, s->n, sizeof *s->v, cmp_sites, &metric);
}
