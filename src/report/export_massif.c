/* export_massif.c - the massif.out format of Valgrind's massif
 * (export_impl.h), read by ms_print and massif-visualizer:
 *
 *   desc: ...            cmd: the program's command line
 *   time_unit: ms
 *   snapshot=N           time=, mem_heap_B=, mem_heap_extra_B=0,
 *                        mem_stacks_B=0, heap_tree=empty|peak
 *
 * Snapshots over time. The run is cut into RCR_MASSIF_SLOTS slots of one
 * width, a power of two nanoseconds, that doubles (two neighbouring slots
 * become one) whenever a change falls past the last slot, so that their
 * memory is fixed whatever the run's length; at the end at most
 * RCR_MASSIF_SNAPSHOTS are in use, one more halving if not. The first
 * snapshot is the empty heap at time 0, as massif's is. Each slot in
 * which the heap changed is one more: the heap after its last change, at
 * the slot's end (or
 * the last change's time, for the last slot), in whole milliseconds as
 * massif's `--time-unit=ms` gives them: a run shorter than a millisecond
 * has every snapshot at time 0. The allocator's overhead and the stacks
 * are not recorded: mem_heap_extra_B and mem_stacks_B are 0.
 *
 * The peak. One snapshot more, in its place by time, is the heap at the
 * peak (totals.peak_bytes) with its tree as massif draws it: the root,
 * "(heap allocation functions)", holds everything; its children are the
 * sites live at the peak (the innermost frame outside the allocator),
 * theirs the callers, and so on outward, one entry per pc, heaviest first.
 * Entries under 1% of the peak are summed into one "in N places, below
 * massif's threshold (1.00%)" line per parent, as massif does. */
#define _GNU_SOURCE
#include "report/export_impl.h"

#include "report/sites.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Threshold of an entry in the peak's tree, in hundredths of a percent. */
#define THRESHOLD_BP 100

void rcr_massif_init(rcr_massif *m) {
    memset(m, 0, sizeof *m);
    m->width = 1;
}

static void widen(rcr_massif *m, uint64_t time) {
    while (time / m->width >= RCR_MASSIF_SLOTS) {
        for (size_t j = 0; j < RCR_MASSIF_SLOTS / 2; j++) {
            rcr_massif_slot s = m->slots[2 * j];
            if (m->slots[2 * j + 1].has_heap)
                s = m->slots[2 * j + 1];
            m->slots[j] = s;
        }
        memset(&m->slots[RCR_MASSIF_SLOTS / 2], 0,
               (RCR_MASSIF_SLOTS - RCR_MASSIF_SLOTS / 2) * sizeof m->slots[0]);
        m->width *= 2;
    }
}

void rcr_massif_on_change(void *arg, const rcr_replay *r, const rcr_change *c) {
    rcr_massif *m = arg;
    /* A late record changes the heap of the latest time seen, where the
     * replay applies it. */
    if (c->time > m->heap_time)
        m->heap_time = c->time;
    widen(m, m->heap_time);
    rcr_massif_slot *s = &m->slots[m->heap_time / m->width];
    s->heap = r->live_bytes;
    s->has_heap = true;
}

/* ---- the peak's tree --------------------------------------------------------------- */

typedef struct tree_node {
    uint32_t node;             /* the replay's stack node; 0 for the root */
    uint64_t bytes;
    uint32_t child, sibling;   /* indexes in the tree, 0: none */
} tree_node;

typedef struct tree {
    tree_node *v;
    size_t n, cap;
} tree;

static bool tree_add(tree *t, uint32_t node, uint32_t *out) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        if (cap > UINT32_MAX || cap > SIZE_MAX / sizeof *t->v)
            return false;
        tree_node *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return false;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n] = (tree_node){.node = node};
    *out = (uint32_t)t->n++;
    return true;
}

/* Add bytes along the stack from site outward; false on out of memory. */
static bool tree_insert(tree *t, const rcr_replay *r, uint32_t site, uint64_t bytes) {
    uint32_t at = 0;
    t->v[0].bytes += bytes;
    for (uint32_t n = site; n != 0 && n < r->nnodes; n = r->nodes[n].parent) {
        uint32_t c = t->v[at].child;
        while (c && r->nodes[t->v[c].node].pc != r->nodes[n].pc)
            c = t->v[c].sibling;
        if (!c) {
            if (!tree_add(t, n, &c))
                return false;
            t->v[c].sibling = t->v[at].child;
            t->v[at].child = c;
        }
        t->v[c].bytes += bytes;
        at = c;
    }
    return true;
}

static bool significant(uint64_t bytes, uint64_t total) {
    /* bytes / total >= THRESHOLD_BP / 10000, without overflow */
    return total == 0 || (long double)bytes * 10000 >= (long double)total * THRESHOLD_BP;
}

static int by_bytes(const void *a, const void *b, void *arg) {
    const tree *t = arg;
    uint64_t x = t->v[*(const uint32_t *)a].bytes, y = t->v[*(const uint32_t *)b].bytes;
    if (x != y)
        return x > y ? -1 : 1;
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    return i < j ? -1 : i > j;
}

/* A label without newlines (one entry a line). */
static void put_clean(FILE *out, const char *s) {
    for (; *s; s++)
        putc((unsigned char)*s < ' ' ? '_' : *s, out);
}

static void put_label(FILE *out, rcr_replay *r, uint32_t node) {
    rcr_frame f;
    rcr_frame_of(r, node, &f);
    fprintf(out, " 0x%" PRIX64 ": ", r->nodes[node].pc);
    put_clean(out, f.function ? f.function : "???");
    if (f.file) {
        fputs(" (", out);
        put_clean(out, f.file);
        fprintf(out, ":%d)", f.line);
    } else if (f.module) {
        fputs(" (in ", out);
        put_clean(out, f.module);
        putc(')', out);
    }
}

/* Write entry i and its children at depth; false on out of memory. */
static bool put_tree(FILE *out, rcr_replay *r, const tree *t, uint32_t i, unsigned depth,
                     uint64_t total) {
    size_t nchildren = 0;
    for (uint32_t c = t->v[i].child; c; c = t->v[c].sibling)
        nchildren++;
    uint32_t *kids = nchildren ? malloc(nchildren * sizeof *kids) : NULL;
    if (nchildren && !kids)
        return false;
    size_t nsig = 0;
    uint64_t below = 0;
    for (uint32_t c = t->v[i].child; c; c = t->v[c].sibling) {
        if (significant(t->v[c].bytes, total))
            kids[nsig++] = c;
        else
            below += t->v[c].bytes;
    }
    if (nsig > 1)
        qsort_r(kids, nsig, sizeof *kids, by_bytes, (void *)t);
    size_t nbelow = nchildren - nsig;
    fprintf(out, "%*sn%zu: %" PRIu64, (int)depth, "", nsig + (nbelow ? 1 : 0), t->v[i].bytes);
    if (i == 0)
        fputs(" (heap allocation functions) malloc/new/new[], --alloc-fns, etc.", out);
    else
        put_label(out, r, t->v[i].node);
    putc('\n', out);
    bool ok = true;
    for (size_t j = 0; ok && j < nsig; j++)
        ok = put_tree(out, r, t, kids[j], depth + 1, total);
    if (ok && nbelow)
        fprintf(out, "%*sn0: %" PRIu64 " in %zu place%s, %sbelow massif's threshold (1.00%%)\n",
                (int)depth + 1, "", below, nbelow, nbelow == 1 ? "" : "s", nsig ? "" : "all ");
    free(kids);
    return ok;
}

/* ---- the file -------------------------------------------------------------------- */

static void put_snapshot(FILE *out, unsigned number, uint64_t time_ns, uint64_t heap,
                         const char *tree_kind) {
    fprintf(out,
            "#-----------\nsnapshot=%u\n#-----------\ntime=%" PRIu64 "\nmem_heap_B=%" PRIu64
            "\nmem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=%s\n",
            number, time_ns / 1000000, heap, tree_kind);
}

bool rcr_massif_write(rcr_massif *m, rcr_replay *r, FILE *out) {
    /* the peak's tree first: nothing is written if memory runs out there */
    tree t = {0};
    uint32_t root;
    bool ok = tree_add(&t, 0, &root);
    for (size_t i = 0; ok && i < r->nfigures; i++) {
        const rcr_figures *f = &r->figures[i];
        if (f->peak_bytes)
            ok = tree_insert(&t, r, f->node ? rcr_replay_site_of(r, f->node) : 0, f->peak_bytes);
    }
    if (!ok) {
        free(t.v);
        return false;
    }

    fputs("desc: recycle export --format massif\ncmd: ", out);
    const char *cmd = r->command_line && r->command_line[0] ? r->command_line : r->program;
    put_clean(out, cmd && cmd[0] ? cmd : "(unknown)");
    fputs("\ntime_unit: ms\n", out);

    size_t used = (size_t)(m->heap_time / m->width) + 1;
    uint64_t width = m->width;
    if (used > RCR_MASSIF_SNAPSHOTS) {
        for (size_t j = 0; j < RCR_MASSIF_SLOTS / 2; j++)
            if (m->slots[2 * j + 1].has_heap)
                m->slots[2 * j] = m->slots[2 * j + 1];
        for (size_t j = 0; j < RCR_MASSIF_SLOTS / 2; j++)
            m->slots[j] = m->slots[2 * j];
        width *= 2;
        used = (size_t)(m->heap_time / width) + 1;
    }
    uint64_t peak_time = r->totals.peak_time_ns;
    bool peak_written = false;
    unsigned number = 0;
    put_snapshot(out, number++, 0, 0, "empty");
    for (size_t i = 0; i < used && ok; i++) {
        if (!m->slots[i].has_heap)
            continue;          /* nothing changed: massif takes none either */
        uint64_t heap = m->slots[i].heap;
        uint64_t time = i + 1 == used ? m->heap_time : (i + 1) * width;
        if (!peak_written && peak_time < time) {
            put_snapshot(out, number++, peak_time, r->totals.peak_bytes, "peak");
            ok = put_tree(out, r, &t, root, 0, r->totals.peak_bytes);
            peak_written = true;
        }
        put_snapshot(out, number++, time, heap, "empty");
    }
    if (ok && !peak_written) {
        put_snapshot(out, number++, peak_time, r->totals.peak_bytes, "peak");
        ok = put_tree(out, r, &t, root, 0, r->totals.peak_bytes);
    }
    free(t.v);
    return ok;
}
