/* snapshot.c - snapshots of the traces, statistics, compare_to, filters and
 * the printed table (tracemalloc's Snapshot, Statistic, StatisticDiff and
 * Filter).
 *
 * A snapshot is a copy made under the tracer's lock: one record per trace
 * (domain, size, traceback index) and one copy of each distinct traceback,
 * so it stays valid whatever the program allocates or frees afterwards, and
 * after rc_trace_stop. Snapshots and statistics are the caller's, in libc
 * memory (never the traced heap).
 *
 * Symbols are looked up only here, never while an allocation is recorded:
 * each distinct return address of a snapshot is symbolized once per call
 * (rcs_symbolize caches across calls). A frame's file and line are those of
 * the innermost function at the return address: for a call inside inlined
 * code, the inlined function's line. A snapshot loaded from a file
 * (dumpload.c) is never symbolized here: its frames' files and lines are
 * those stored in the file (frame_get), whose addresses belong to another
 * process. */
#define _GNU_SOURCE
#include "trace/snapshot.h"
#include "symbolize/symbolize.h"

#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct rc_stats {
    size_t n;
    rc_stat *v;
    const rc_traceback **tb;       /* per entry for RC_BY_TRACEBACK, else NULL */
    rc_snapshot *keep;             /* the tracebacks tb points into (a copy) */
    rctr_symbols *syms[2];         /* held: the strings of loaded snapshots' entries */
    char **type;                   /* by type: per entry, a copy or NULL; else NULL */
    bool diff;                     /* made by compare_to: print the differences */
};

/* ---- snapshots ---- */

static rc_traceback *tb_copy(const uintptr_t *frames, size_t n) {
    rc_traceback *c = malloc(sizeof *c + n * sizeof *frames);
    if (c) {
        c->nframes = n;
        memcpy(c->frames, frames, n * sizeof *frames);
    }
    return c;
}

void rc_snapshot_free(rc_snapshot *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->ntbs; i++)
        free(s->tbs[i]);
    free(s->tbs);
    free(s->traces);
    for (size_t i = 0; i < s->ntypes; i++)
        free(s->types[i]);
    free(s->types);
    rctr_symbols_release(s->syms);
    free(s);
}

rctr_symbols *rctr_symbols_hold(rctr_symbols *syms) {
    if (syms)
        __atomic_add_fetch(&syms->refs, 1, __ATOMIC_RELAXED);
    return syms;
}

void rctr_symbols_release(rctr_symbols *syms) {
    if (!syms || __atomic_sub_fetch(&syms->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(syms->strings);
    free(syms->first);
    free(syms->v);
    free(syms);
}

typedef struct copier {
    rc_snapshot *s;
    rci_htable seen;               /* interned traceback -> index + 1 */
    size_t cap_tbs;
    rci_htable type_seen;          /* type name (the tracer's pointer) -> index + 1 */
    size_t cap_types;
} copier;

/* The snapshot's index + 1 of the type name at ptr (copied once); 0 on
 * ENOMEM (the trace is then untyped: *failed is set). */
static uint32_t type_index(copier *c, const char *name, int *failed) {
    uintptr_t idx;
    if (rci_htable_get(&c->type_seen, (uintptr_t)name, &idx))
        return (uint32_t)idx;
    rc_snapshot *s = c->s;
    if (s->ntypes == c->cap_types) {
        size_t cap = c->cap_types ? 2 * c->cap_types : 16;
        char **v = realloc(s->types, cap * sizeof *v);
        if (!v)
            goto nomem;
        s->types = v;
        c->cap_types = cap;
    }
    char *copy = strdup(name);
    if (!copy)
        goto nomem;
    if (rci_htable_put(&c->type_seen, (uintptr_t)name, s->ntypes + 1) != 0) {
        free(copy);
        goto nomem;
    }
    s->types[s->ntypes++] = copy;
    return (uint32_t)s->ntypes;
nomem:
    *failed = 1;
    return 0;
}

static int copy_one(unsigned domain, uintptr_t ptr, const rctr_trace *t, void *arg) {
    copier *c = arg;
    rc_snapshot *s = c->s;
    uintptr_t idx;
    if (!rci_htable_get(&c->seen, (uintptr_t)t->tb, &idx)) {
        if (s->ntbs == c->cap_tbs) {
            size_t cap = c->cap_tbs ? c->cap_tbs * 2 : 64;
            rc_traceback **v = realloc(s->tbs, cap * sizeof *v);
            if (!v)
                return 1;
            s->tbs = v;
            c->cap_tbs = cap;
        }
        uintptr_t frames[RCTR_MAX_FRAMES];
        rc_traceback *copy = tb_copy(frames, rctr_tb_frames(t->tb, frames));
        if (!copy)
            return 1;
        if (rci_htable_put(&c->seen, (uintptr_t)t->tb, s->ntbs + 1) != 0) {
            free(copy);
            return 1;
        }
        s->tbs[s->ntbs++] = copy;
        idx = s->ntbs;
    }
    int failed = 0;
    const char *type = rctr_type_of(domain, ptr);
    uint32_t ti = type ? type_index(c, type, &failed) : 0;
    if (failed)
        return 1;
    s->traces[s->ntraces++] = (snap_trace){domain, t->size, (size_t)idx - 1, ti};
    return 0;
}

rc_snapshot *rc_trace_take_snapshot(void) {
    rc_snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    copier c = {s, {0}, 0, {0}, 0};
    rci_htable_init(&c.seen);
    rci_htable_init(&c.type_seen);
    int failed = 1;
    rctr_lock();
    if (rc_trace_is_tracing()) {
        size_t n = rctr_trace_count();
        s->limit = rctr_limit();
        s->traces = malloc((n ? n : 1) * sizeof *s->traces);
        if (s->traces)
            failed = rctr_visit_traces(copy_one, &c);
    }
    rctr_unlock();
    rci_htable_free(&c.seen);
    rci_htable_free(&c.type_seen);
    if (failed) {
        rc_snapshot_free(s);
        return NULL;
    }
    return s;
}

size_t rc_snapshot_trace_count(const rc_snapshot *s) {
    return s ? s->ntraces : 0;
}

int rc_snapshot_traceback_limit(const rc_snapshot *s) {
    return s ? s->limit : 0;
}

/* ---- symbols of a snapshot's addresses ---- */

typedef struct symtab {
    rci_htable index;              /* address -> position + 1 in v */
    struct sym { const char *file; int line; } *v;
    size_t n, cap;
} symtab;

static const char *const unknown_file = "<unknown>";

static void symtab_free(symtab *t) {
    rci_htable_free(&t->index);
    free(t->v);
}

/* The file and line of pc, symbolized once per table; false on ENOMEM. */
static bool symtab_get(symtab *t, uintptr_t pc, const char **file, int *line) {
    uintptr_t pos;
    if (!rci_htable_get(&t->index, pc, &pos)) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 256;
            struct sym *v = realloc(t->v, cap * sizeof *v);
            if (!v)
                return false;
            t->v = v;
            t->cap = cap;
        }
        rctr_sym sym;
        rctr_symbolize_pc(pc, &sym);
        t->v[t->n] = (struct sym){sym.file, sym.line};
        if (rci_htable_put(&t->index, pc, t->n + 1) != 0)
            return false;
        pos = ++t->n;
    }
    *file = t->v[pos - 1].file;
    *line = t->v[pos - 1].line;
    return true;
}

void rctr_symbolize_pc(uintptr_t pc, rctr_sym *out) {
    rcs_frame f[1];
    rcs_symbolize(pc, f, 1);
    out->function = f[0].function;
    out->file = f[0].file ? f[0].file : f[0].module ? f[0].module : unknown_file;
    out->line = f[0].file ? f[0].line : 0;
}

void rctr_snapshot_frame(const rc_snapshot *s, size_t tb, size_t f, rctr_sym *out) {
    if (s->syms)
        *out = s->syms->v[s->syms->first[tb] + f];
    else
        rctr_symbolize_pc(s->tbs[tb]->frames[f], out);
}

/* The file and line of frame f of traceback tb of s: stored in a loaded
 * snapshot, else symbolized once per table; false on ENOMEM. */
static bool frame_get(symtab *t, const rc_snapshot *s, size_t tb, size_t f, const char **file,
                      int *line) {
    if (s->syms) {
        const rctr_sym *sym = &s->syms->v[s->syms->first[tb] + f];
        *file = sym->file;
        *line = sym->line;
        return true;
    }
    return symtab_get(t, s->tbs[tb]->frames[f], file, line);
}

/* ---- statistics ---- */

void rc_stats_free(rc_stats *st) {
    if (!st)
        return;
    if (st->type)
        for (size_t i = 0; i < st->n; i++)
            free(st->type[i]);
    free(st->type);
    free(st->v);
    free(st->tb);
    rc_snapshot_free(st->keep);
    rctr_symbols_release(st->syms[0]);
    rctr_symbols_release(st->syms[1]);
    free(st);
}

size_t rc_stats_len(const rc_stats *st) {
    return st ? st->n : 0;
}

const rc_stat *rc_stats_at(const rc_stats *st, size_t i) {
    return st && i < st->n ? &st->v[i] : NULL;
}

const rc_traceback *rc_stats_traceback(const rc_stats *st, size_t i) {
    return st && st->tb && i < st->n ? st->tb[i] : NULL;
}

const char *rc_stats_type(const rc_stats *st, size_t i) {
    return st && st->type && i < st->n ? st->type[i] : NULL;
}

/* One entry before grouping: a key and what it adds. For RC_BY_TRACEBACK,
 * tbi is tb's index in the snapshot's tbs (after grouping: the index of
 * one traceback with the group's frames), so that the tracebacks a result
 * keeps are found by index, never by a search. */
typedef struct entry {
    const char *file;
    int line;
    const rc_traceback *tb;
    size_t tbi;
    size_t size, count;
    const char *type;              /* by type: the snapshot's copy, or NULL */
} entry;

static int cmp_tb(const rc_traceback *a, const rc_traceback *b) {
    if (a == b)
        return 0;
    if (!a || !b)
        return a ? 1 : -1;
    size_t n = a->nframes < b->nframes ? a->nframes : b->nframes;
    for (size_t i = 0; i < n; i++)
        if (a->frames[i] != b->frames[i])
            return a->frames[i] < b->frames[i] ? -1 : 1;
    return a->nframes < b->nframes ? -1 : a->nframes > b->nframes;
}

static int cmp_key(const entry *a, const entry *b) {
    int c = cmp_tb(a->tb, b->tb);
    if (c)
        return c;
    c = strcmp(a->file, b->file);
    if (c)
        return c;
    c = (a->line > b->line) - (a->line < b->line);
    if (c || a->type == b->type)
        return c;
    if (!a->type || !b->type)
        return a->type ? 1 : -1;
    return strcmp(a->type, b->type);
}

static int cmp_key_q(const void *a, const void *b) {
    return cmp_key(a, b);
}

/* Largest size first, then largest count, then the key (a total order, so
 * the result does not depend on the hash order of the traces). */
static int cmp_stat(const rc_stat *a, const rc_stat *b) {
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    int c = strcmp(a->filename, b->filename);
    return c ? c : (a->lineno > b->lineno) - (a->lineno < b->lineno);
}

/* The entries of s for key: one per traceback that has traces, or,
 * cumulative, one per distinct frame of each such traceback. A statistic
 * looks at a trace's size and traceback only (never its domain or
 * address), so the traces are first summed per traceback, in one pass: what
 * is sorted afterwards is as long as the number of distinct tracebacks, not
 * the number of traces. NULL on ENOMEM. */
static entry *collect(const rc_snapshot *s, int key, int cumulative, bool by_type, symtab *syms,
                      size_t *out_n) {
    bool each_frame = cumulative && key != RC_BY_TRACEBACK;
    /* the traces summed per traceback (and type, by type) */
    typedef struct tb_sum { size_t tb; uint32_t type; size_t size, count; } tb_sum;
    size_t nsums = 0;
    tb_sum *sum = NULL;
    entry *v = NULL;
    if (!by_type) {
        sum = calloc(s->ntbs ? s->ntbs : 1, sizeof *sum);
        if (!sum)
            return NULL;
        for (size_t i = 0; i < s->ntraces; i++) {
            sum[s->traces[i].tb].size += s->traces[i].size;
            sum[s->traces[i].tb].count++;
        }
        for (size_t b = 0; b < s->ntbs; b++)
            if (sum[b].count)
                sum[nsums++] = (tb_sum){b, 0, sum[b].size, sum[b].count};
    } else {
        rci_htable at;             /* (tb, type) -> index + 1 */
        rci_htable_init(&at);
        size_t cap = 0;
        bool oom = false;
        for (size_t i = 0; i < s->ntraces && !oom; i++) {
            const snap_trace *t = &s->traces[i];
            uintptr_t k = (uintptr_t)t->tb * (s->ntypes + 1) + t->type + 1, idx;
            if (!rci_htable_get(&at, k, &idx)) {
                if (nsums == cap) {
                    size_t c = cap ? 2 * cap : 64;
                    tb_sum *w = realloc(sum, c * sizeof *w);
                    if (!w) {
                        oom = true;
                        break;
                    }
                    sum = w;
                    cap = c;
                }
                if (rci_htable_put(&at, k, nsums + 1) != 0) {
                    oom = true;
                    break;
                }
                sum[nsums] = (tb_sum){t->tb, t->type, 0, 0};
                idx = ++nsums;
            }
            sum[idx - 1].size += t->size;
            sum[idx - 1].count++;
        }
        rci_htable_free(&at);
        if (oom)
            goto nomem;
    }
    size_t cap = nsums ? nsums : 1, n = 0;
    v = malloc(cap * sizeof *v);
    if (!v)
        goto nomem;
    for (size_t g = 0; g < nsums; g++) {
        size_t b = sum[g].tb;
        const rc_traceback *tb = s->tbs[b];
        const char *type = sum[g].type ? s->types[sum[g].type - 1] : NULL;
        size_t frames = each_frame ? tb->nframes : (tb->nframes ? 1 : 0);
        size_t first = n;
        if (frames == 0) {
            frames = 1;          /* traces without frames still count */
        }
        for (size_t f = 0; f < frames; f++) {
            entry e = {unknown_file, 0, NULL, b, sum[g].size, sum[g].count, type};
            if (tb->nframes && !frame_get(syms, s, b, f, &e.file, &e.line))
                goto nomem;
            if (key == RC_BY_FILENAME)
                e.line = 0;
            else if (key == RC_BY_TRACEBACK)
                e.tb = tb;
            /* a frame seen twice in one traceback (recursion) counts once */
            bool dup = false;
            for (size_t k = first; k < n && !dup; k++)
                dup = cmp_key(&v[k], &e) == 0;
            if (dup)
                continue;
            if (n == cap) {
                entry *w = realloc(v, 2 * cap * sizeof *v);
                if (!w)
                    goto nomem;
                v = w;
                cap *= 2;
            }
            v[n++] = e;
        }
    }
    free(sum);
    *out_n = n;
    return v;
nomem:
    free(sum);
    free(v);
    return NULL;
}

/* Group sorted entries in place; returns the number of groups. */
static size_t group(entry *v, size_t n) {
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_key_q);
    size_t g = 0;
    for (size_t i = 1; i < n; i++) {
        if (cmp_key(&v[g], &v[i]) == 0) {
            v[g].size += v[i].size;
            v[g].count += v[i].count;
        } else {
            v[++g] = v[i];
        }
    }
    return g + 1;
}

static rc_snapshot *snapshot_copy(const rc_snapshot *s) {
    rc_snapshot *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->tbs = malloc((s->ntbs ? s->ntbs : 1) * sizeof *c->tbs);
    if (!c->tbs) {
        free(c);
        return NULL;
    }
    for (; c->ntbs < s->ntbs; c->ntbs++) {
        const rc_traceback *tb = s->tbs[c->ntbs];
        c->tbs[c->ntbs] = tb_copy(tb->frames, tb->nframes);
        if (!c->tbs[c->ntbs]) {
            rc_snapshot_free(c);
            return NULL;
        }
    }
    c->limit = s->limit;
    c->syms = rctr_symbols_hold(s->syms);
    if (s->ntypes) {
        c->types = malloc(s->ntypes * sizeof *c->types);
        if (!c->types) {
            rc_snapshot_free(c);
            return NULL;
        }
        for (; c->ntypes < s->ntypes; c->ntypes++)
            if (!(c->types[c->ntypes] = strdup(s->types[c->ntypes]))) {
                rc_snapshot_free(c);
                return NULL;
            }
    }
    return c;
}

/* Grouped entries of s (sorted by key), and the stats that will own them. */
static entry *grouped(const rc_snapshot *s, int key, int cumulative, symtab *syms, size_t *n) {
    entry *v = collect(s, key, cumulative, false, syms, n);
    if (v)
        *n = group(v, *n);
    return v;
}

static bool valid_key(int key) {
    return key == RC_BY_FILENAME || key == RC_BY_LINENO || key == RC_BY_TRACEBACK;
}

/* A stats of n entries; the tracebacks of RC_BY_TRACEBACK entries are
 * re-pointed into a private copy of the snapshot that made them (src). */
static rc_stats *stats_new(size_t n, int key, const rc_snapshot *src) {
    rc_stats *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->v = calloc(n ? n : 1, sizeof *st->v);
    if (key == RC_BY_TRACEBACK) {
        st->tb = calloc(n ? n : 1, sizeof *st->tb);
        st->keep = src ? snapshot_copy(src) : NULL;
    }
    if (!st->v || (key == RC_BY_TRACEBACK && (!st->tb || (src && !st->keep)))) {
        rc_stats_free(st);
        return NULL;
    }
    return st;
}

static int cmp_index_stat(const void *a, const void *b, void *arg) {
    const rc_stat *v = arg;
    return cmp_stat(&v[*(const size_t *)a], &v[*(const size_t *)b]);
}

/* rc_snapshot_statistics, by type or not. */
static rc_stats *statistics(const rc_snapshot *s, int key, int cumulative, bool by_type) {
    if (!s || !valid_key(key))
        return NULL;
    symtab syms = {0};
    size_t n = 0;
    entry *v = collect(s, key, cumulative, by_type, &syms, &n);
    if (v)
        n = group(v, n);
    rc_stats *st = v ? stats_new(n, key, s) : NULL;
    size_t *order = st ? malloc((n ? n : 1) * sizeof *order) : NULL;
    if (st && by_type && !(st->type = calloc(n ? n : 1, sizeof *st->type)))
        order = (free(order), NULL);
    if (st && !order) {
        rc_stats_free(st);
        st = NULL;
    }
    if (st) {
        st->syms[0] = rctr_symbols_hold(s->syms);
        for (size_t i = 0; i < n; i++)
            st->v[i] = (rc_stat){v[i].file, v[i].line, v[i].size, v[i].count, 0, 0};
        /* the entries sorted, with their tracebacks and types: through an
         * order of indexes, then each array put in it */
        for (size_t i = 0; i < n; i++)
            order[i] = i;
        qsort_r(order, n, sizeof *order, cmp_index_stat, st->v);
        rc_stat *sorted = malloc((n ? n : 1) * sizeof *sorted);
        bool ok = sorted != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            const entry *e = &v[order[i]];
            sorted[i] = st->v[order[i]];
            if (key == RC_BY_TRACEBACK)
                st->tb[i] = st->keep->tbs[e->tbi];   /* keep is a copy of s: same index */
            if (by_type && e->type && !(st->type[i] = strdup(e->type)))
                ok = false;
        }
        st->n = n;
        if (ok) {
            free(st->v);
            st->v = sorted;
        } else {
            free(sorted);
            rc_stats_free(st);
            st = NULL;
        }
    }
    free(order);
    free(v);
    symtab_free(&syms);
    return st;
}

rc_stats *rc_snapshot_statistics(const rc_snapshot *s, int key, int cumulative) {
    return statistics(s, key, cumulative, false);
}

rc_stats *rc_snapshot_statistics_by_type(const rc_snapshot *s, int key, int cumulative) {
    return statistics(s, key, cumulative, true);
}

/* compare_to: largest size change first, then size, count change, count.
 *
 * Both snapshots are grouped by key and sorted (group), then joined by one
 * merge of the two sorted runs: O(n log n) for n entries, whatever the
 * number of groups. For RC_BY_TRACEBACK the result keeps a copy of both
 * snapshots' tracebacks (the new one's first, then the old one's), and an
 * entry's traceback is found there by its index (entry.tbi). */
static int cmp_diff(const rc_stat *a, const rc_stat *b) {
    unsigned long da = (unsigned long)labs(a->size_diff), db = (unsigned long)labs(b->size_diff);
    if (da != db)
        return da > db ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    da = (unsigned long)labs(a->count_diff);
    db = (unsigned long)labs(b->count_diff);
    if (da != db)
        return da > db ? -1 : 1;
    return cmp_stat(a, b);
}

typedef struct diffpair { rc_stat s; const rc_traceback *tb; } diffpair;

static int cmp_diff_q(const void *a, const void *b) {
    return cmp_diff(a, b);
}

rc_stats *rc_snapshot_compare_to(const rc_snapshot *s, const rc_snapshot *old, int key, int cumulative) {
    if (!s || !old || !valid_key(key))
        return NULL;
    symtab syms = {0};
    size_t nn = 0, no = 0;
    entry *vn = grouped(s, key, cumulative, &syms, &nn);
    entry *vo = vn ? grouped(old, key, cumulative, &syms, &no) : NULL;
    rc_stats *st = NULL;
    diffpair *p = NULL;
    if (!vn || !vo)
        goto done;
    /* tracebacks that only the old snapshot has are kept from both */
    rc_snapshot both = {0};
    if (key == RC_BY_TRACEBACK) {
        both.ntbs = s->ntbs + old->ntbs;
        both.tbs = malloc((both.ntbs ? both.ntbs : 1) * sizeof *both.tbs);
        if (!both.tbs)
            goto done;
        memcpy(both.tbs, s->tbs, s->ntbs * sizeof *both.tbs);
        memcpy(both.tbs + s->ntbs, old->tbs, old->ntbs * sizeof *both.tbs);
    }
    st = stats_new(nn + no, key, key == RC_BY_TRACEBACK ? &both : NULL);
    p = malloc((nn + no ? nn + no : 1) * sizeof *p);
    if (!st || !p) {
        free(both.tbs);
        rc_stats_free(st);
        st = NULL;
        goto done;
    }
    size_t i = 0, j = 0, n = 0;
    while (i < nn || j < no) {
        int c = i == nn ? 1 : j == no ? -1 : cmp_key(&vn[i], &vo[j]);
        const entry *e = c <= 0 ? &vn[i] : &vo[j];
        size_t size = c <= 0 ? vn[i].size : 0, count = c <= 0 ? vn[i].count : 0;
        size_t osize = c >= 0 ? vo[j].size : 0, ocount = c >= 0 ? vo[j].count : 0;
        p[n].s = (rc_stat){e->file, e->line, size, count, (long)size - (long)osize,
                           (long)count - (long)ocount};
        p[n].tb = key != RC_BY_TRACEBACK ? NULL
                  : st->keep->tbs[c <= 0 ? vn[i].tbi : s->ntbs + vo[j].tbi];
        n++;
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
    }
    free(both.tbs);
    qsort(p, n, sizeof *p, cmp_diff_q);
    for (size_t k = 0; k < n; k++) {
        st->v[k] = p[k].s;
        if (st->tb)
            st->tb[k] = p[k].tb;
    }
    st->n = n;
    st->diff = true;
    st->syms[0] = rctr_symbols_hold(s->syms);
    st->syms[1] = rctr_symbols_hold(old->syms);
done:
    free(p);
    free(vn);
    free(vo);
    symtab_free(&syms);
    return st;
}

/* ---- printing (tracemalloc's Statistic and StatisticDiff strings) ---- */

/* tracemalloc's _format_size: B, KiB, ... with one decimal under 100, none
 * under 10240, the next unit above. */
static void format_size(char *buf, size_t len, double size, bool sign) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 5; u++) {
        double a = size < 0 ? -size : size;
        if (a < 100 && u != 0) {
            snprintf(buf, len, sign ? "%+.1f %s" : "%.1f %s", size, units[u]);
            return;
        }
        if (a < 10 * 1024 || u == 4) {
            snprintf(buf, len, sign ? "%+.0f %s" : "%.0f %s", size, units[u]);
            return;
        }
        size /= 1024;
    }
}

void rc_stats_print(const rc_stats *st, FILE *out, size_t limit) {
    if (!st || !out)
        return;
    bool diff = st->diff;
    size_t n = limit && limit < st->n ? limit : st->n;
    for (size_t i = 0; i < n; i++) {
        const rc_stat *s = &st->v[i];
        char size[32], dsize[32], avg[32];
        format_size(size, sizeof size, (double)s->size, false);
        fprintf(out, "%s:%d: ", s->filename, s->lineno);
        if (st->type)
            fprintf(out, "%s: ", st->type[i] ? st->type[i] : "(not an object)");
        fprintf(out, "size=%s", size);
        if (diff) {
            format_size(dsize, sizeof dsize, (double)s->size_diff, true);
            fprintf(out, " (%s), count=%zu (%+ld)", dsize, s->count, s->count_diff);
        } else {
            fprintf(out, ", count=%zu", s->count);
        }
        if (s->count) {
            format_size(avg, sizeof avg, (double)s->size / (double)s->count, false);
            fprintf(out, ", average=%s", avg);
        }
        fputc('\n', out);
    }
}

/* ---- filters ---- */

/* Does frame (file, line) match f's pattern and line? */
static bool frame_matches(const rc_trace_filter *f, const char *file, int line) {
    if (f->filename_pattern && fnmatch(f->filename_pattern, file, 0) != 0)
        return false;
    return f->lineno == 0 || f->lineno == line;
}

/* tracemalloc's Filter._match (DomainFilter's for a filter with neither
 * pattern nor line): 1 when the trace passes f, 0 when not, -1 on ENOMEM. */
static int filter_passes(const rc_trace_filter *f, const rc_snapshot *s, const snap_trace *t,
                         symtab *syms) {
    const rc_traceback *tb = s->tbs[t->tb];
    bool inclusive = f->inclusive != 0;
    if (!f->filename_pattern && f->lineno == 0) {
        if (!f->match_domain)
            return inclusive;
        return (t->domain == f->domain) != !inclusive;
    }
    size_t frames = f->all_frames ? tb->nframes : (tb->nframes ? 1 : 0);
    bool any = tb->nframes == 0 && frame_matches(f, unknown_file, 0);
    for (size_t i = 0; i < frames && !any; i++) {
        const char *file;
        int line;
        if (!frame_get(syms, s, t->tb, i, &file, &line))
            return -1;
        any = frame_matches(f, file, line);
    }
    bool res = any ? inclusive : !inclusive;
    if (f->match_domain)
        res = inclusive ? (res && t->domain == f->domain) : (res || t->domain != f->domain);
    return res;
}

rc_snapshot *rc_snapshot_filter_traces(const rc_snapshot *s, const rc_trace_filter *filters,
                                       size_t nfilters) {
    if (!s || (nfilters && !filters))
        return NULL;
    rc_snapshot *c = snapshot_copy(s);
    if (!c)
        return NULL;
    c->traces = malloc((s->ntraces ? s->ntraces : 1) * sizeof *c->traces);
    if (!c->traces) {
        rc_snapshot_free(c);
        return NULL;
    }
    bool has_include = false;
    for (size_t k = 0; k < nfilters; k++)
        has_include |= filters[k].inclusive != 0;
    symtab syms = {0};
    for (size_t i = 0; i < s->ntraces; i++) {
        const snap_trace *t = &s->traces[i];
        bool keep = !has_include, failed = false;
        for (size_t k = 0; k < nfilters && !failed; k++) {
            if (!filters[k].inclusive)
                continue;
            int r = filter_passes(&filters[k], s, t, &syms);
            failed = r < 0;
            keep |= r > 0;
        }
        for (size_t k = 0; k < nfilters && keep && !failed; k++) {
            if (filters[k].inclusive)
                continue;
            int r = filter_passes(&filters[k], s, t, &syms);
            failed = r < 0;
            keep = r > 0;
        }
        if (failed) {
            symtab_free(&syms);
            rc_snapshot_free(c);
            return NULL;
        }
        if (keep)
            c->traces[c->ntraces++] = *t;
    }
    symtab_free(&syms);
    return c;
}
