/* diff.c - rcr_diff: two captures' sites matched and compared (diff.h).
 *
 *   for OLD, then NEW:  load (load.c) --> sites (sites.c, by --by)
 *                       --> each site's identity (a text key) --> the
 *                           table of compared sites: figures added to
 *                           the side's column, frames copied on first sight
 *                       --> replay freed
 *   then:               sorted by the size of the change --> text or JSON
 *
 * Invariant: every site of each capture is added to exactly one compared
 * site, so the OLD and NEW columns add up to each capture's totals. Two
 * sites of one capture with the same identity (--by stack: two call
 * instructions on one line, with the same callers) are one compared site. */
#define _GNU_SOURCE
#include "report/diff.h"

#include "report/format.h"
#include "report/keys.h"
#include "report/load.h"
#include "report/sites.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MSG "recycle diff: "

enum { OLD, NEW };

/* A frame whose strings are the diff's own (the replay that named it is
 * gone by the time it is printed). */
typedef struct dframe {
    char *function, *file, *module;    /* NULL if unknown */
    int line;
    uint64_t offset;
} dframe;

typedef struct dsite {
    dframe frame;            /* as the first capture holding the site named it */
    dframe *callers;         /* --by stack: the frames outward from the site */
    size_t ncallers;
    bool none;               /* the site of allocations without a stack */
    bool in[2];
    rcr_figures fig[2];      /* sums over the side's sites (node, epoch unused) */
} dsite;

/* What the header needs of a capture after its replay is freed. */
typedef struct dside {
    const char *path;
    char *program, *command_line;
    uint64_t pid, sample_bytes;
    bool complete, ended;
    rcr_totals totals;
} dside;

typedef struct diff_state {
    const rcr_diff_options *o;
    dside side[2];
    rcr_keys index;          /* identity -> index in sites */
    dsite *sites;
    size_t nsites, cap_sites;
} diff_state;

/* ---- identities ----------------------------------------------------------------------------- */

/* A growing string. */
typedef struct text {
    char *s;
    size_t len, cap;
    bool failed;
} text;

static void append(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(text *t, const char *fmt, ...) {
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if (t->s && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap : 256;
        while (cap <= t->len + (size_t)n)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->failed = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
}

/* A frame as part of an identity: what the report prints of it, never an
 * address. */
static void append_frame(text *t, const rcr_frame *f) {
    if (f->file)
        append(t, "%s\x1f%s\x1f%d", f->function ? f->function : "", f->file, f->line);
    else
        append(t, "\x1f%s\x1f%" PRIx64, f->module ? f->module : "", f->offset);
}

/* The identity of site s under `by` (sites.c groups by the same fields,
 * so every member of a group has the same identity). */
static void identity(text *t, rcr_replay *r, const rcr_site *s, rcr_by by) {
    const rcr_frame *f = &s->frame;
    if (s->node == 0) {
        append(t, "none");
        return;
    }
    switch (by) {
    case RCR_BY_FUNCTION:
        if (f->function) {
            append(t, "f\x1f%s", f->function);
            return;
        }
        break;
    case RCR_BY_FILE:
        if (f->file)
            append(t, "s\x1f%s", f->file);
        else
            append(t, "m\x1f%s", f->module ? f->module : "");
        return;
    case RCR_BY_STACK:
        append(t, "k");
        for (uint32_t n = s->node; n != 0; n = r->nodes[n].parent) {
            rcr_frame fr;
            rcr_frame_of(r, n, &fr);
            append(t, "\x1e");
            append_frame(t, &fr);
        }
        return;
    case RCR_BY_LINE:
        break;
    }
    append(t, "l\x1f");
    append_frame(t, f);
}

/* ---- the compared sites ---------------------------------------------------------------------- */

static char *copy(const char *s, bool *failed) {
    if (!s)
        return NULL;
    char *c = strdup(s);
    if (!c)
        *failed = true;
    return c;
}

static bool copy_frame(dframe *to, const rcr_frame *f) {
    bool failed = false;
    to->function = copy(f->function, &failed);
    to->file = copy(f->file, &failed);
    to->module = copy(f->module, &failed);
    to->line = f->line;
    to->offset = f->offset;
    return !failed;
}

static void free_frame(dframe *f) {
    free(f->function);
    free(f->file);
    free(f->module);
}

static void add_figures(rcr_figures *to, const rcr_figures *f) {
    to->bytes += f->bytes;
    to->allocations += f->allocations;
    to->frees += f->frees;
    to->live_bytes += f->live_bytes;
    to->live_allocations += f->live_allocations;
    to->peak_bytes += f->peak_bytes;
    to->peak_allocations += f->peak_allocations;
    to->temporary += f->temporary;
}

/* A new compared site for site s of replay r; false on out of memory
 * (nothing added). */
static bool new_site(diff_state *st, rcr_replay *r, const rcr_site *s) {
    if (st->nsites == st->cap_sites) {
        size_t cap = st->cap_sites ? 2 * st->cap_sites : 64;
        dsite *v = realloc(st->sites, cap * sizeof *v);
        if (!v)
            return false;
        st->sites = v;
        st->cap_sites = cap;
    }
    dsite *d = &st->sites[st->nsites];
    memset(d, 0, sizeof *d);
    d->none = s->node == 0;
    bool ok = copy_frame(&d->frame, &s->frame);
    if (ok && st->o->by == RCR_BY_STACK && s->node != 0) {
        size_t n = 0;
        for (uint32_t k = r->nodes[s->node].parent; k != 0; k = r->nodes[k].parent)
            n++;
        d->callers = n ? calloc(n, sizeof *d->callers) : NULL;
        ok = !n || d->callers;
        for (uint32_t k = r->nodes[s->node].parent; ok && k != 0; k = r->nodes[k].parent) {
            rcr_frame f;
            rcr_frame_of(r, k, &f);
            ok = copy_frame(&d->callers[d->ncallers++], &f);
        }
    }
    if (!ok) {
        free_frame(&d->frame);
        for (size_t i = 0; i < d->ncallers; i++)
            free_frame(&d->callers[i]);
        free(d->callers);
        return false;
    }
    st->nsites++;
    return true;
}

static void free_sites(diff_state *st) {
    for (size_t i = 0; i < st->nsites; i++) {
        free_frame(&st->sites[i].frame);
        for (size_t k = 0; k < st->sites[i].ncallers; k++)
            free_frame(&st->sites[i].callers[k]);
        free(st->sites[i].callers);
    }
    free(st->sites);
    rcr_keys_free(&st->index);
    for (int k = OLD; k <= NEW; k++) {
        free(st->side[k].program);
        free(st->side[k].command_line);
    }
}

/* Load one capture and add its sites to column k: 0, or 1 after a
 * message. */
static int add_capture(diff_state *st, int k, const char *path, FILE *err) {
    rcr_replay r;
    bool complete;
    rcr_load_options lo = {.prefix = MSG, .progress = st->o->progress};
    if (rcr_load(path, &lo, &r, &complete, err) != 0)
        return 1;
    dside *side = &st->side[k];
    side->path = path;
    side->program = strdup(r.program);
    side->command_line = strdup(r.command_line);
    side->pid = r.header.pid;
    side->sample_bytes = r.header.sample_bytes;
    side->complete = complete;
    side->ended = rcr_ended_by_itself(&r);
    side->totals = r.totals;

    int status = 1;
    rcr_sites sites;
    text key = {0};
    if (!side->program || !side->command_line || !rcr_sites_build(&r, st->o->by, &sites))
        goto oom;
    for (size_t i = 0; i < sites.n; i++) {
        const rcr_site *s = &sites.v[i];
        key.len = 0;
        identity(&key, &r, s, st->o->by);
        if (key.failed)
            goto oom_sites;
        uint32_t at;
        bool existed;
        if (!rcr_keys_find_or_add(&st->index, key.s, (uint32_t)st->nsites, &at, &existed))
            goto oom_sites;
        if (!existed && !new_site(st, &r, s))
            goto oom_sites;   /* the dangling key is never read: the diff stops */
        dsite *d = &st->sites[at];
        d->in[k] = true;
        add_figures(&d->fig[k], &s->fig);
    }
    status = 0;
    goto done_sites;
oom_sites:
    fprintf(err, MSG "%s: out of memory\n", path);
done_sites:
    rcr_sites_free(&sites);
    free(key.s);
    rcr_replay_free(&r);
    return status;
oom:
    fprintf(err, MSG "%s: out of memory\n", path);
    rcr_replay_free(&r);
    return 1;
}

/* ---- order ---------------------------------------------------------------------------------- */

static uint64_t metric(const rcr_figures *f, rcr_diff_sort sort) {
    switch (sort) {
    case RCR_DIFF_ALLOCATIONS: return f->allocations;
    case RCR_DIFF_LEAKED: return f->live_bytes;
    case RCR_DIFF_PEAK: return f->peak_bytes;
    case RCR_DIFF_BYTES: break;
    }
    return f->bytes;
}

static uint64_t magnitude(uint64_t a, uint64_t b) {
    return a > b ? a - b : b - a;
}

static int cmp_str(const char *a, const char *b) {
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int cmp_frames(const dframe *a, const dframe *b) {
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

/* The largest change first; then the larger figure in NEW, in OLD; then
 * by frame, callers last, so the order is the same on every run. */
static int cmp_sites(const void *pa, const void *pb, void *arg) {
    const dsite *a = pa, *b = pb;
    rcr_diff_sort sort = *(const rcr_diff_sort *)arg;
    uint64_t ma = magnitude(metric(&a->fig[OLD], sort), metric(&a->fig[NEW], sort));
    uint64_t mb = magnitude(metric(&b->fig[OLD], sort), metric(&b->fig[NEW], sort));
    if (ma != mb)
        return ma > mb ? -1 : 1;
    uint64_t na = metric(&a->fig[NEW], sort), nb = metric(&b->fig[NEW], sort);
    if (na != nb)
        return na > nb ? -1 : 1;
    uint64_t oa = metric(&a->fig[OLD], sort), ob = metric(&b->fig[OLD], sort);
    if (oa != ob)
        return oa > ob ? -1 : 1;
    if (a->none != b->none)
        return a->none ? 1 : -1;
    int c = cmp_frames(&a->frame, &b->frame);
    for (size_t i = 0; !c && i < a->ncallers && i < b->ncallers; i++)
        c = cmp_frames(&a->callers[i], &b->callers[i]);
    if (!c)
        c = (a->ncallers > b->ncallers) - (a->ncallers < b->ncallers);
    return c;
}

/* ---- text ------------------------------------------------------------------------------------ */

/* A change of a size: "+1.0 KiB", "-50 B", "0 B". */
static const char *fmt_bytes_change(char buf[40], uint64_t old, uint64_t now) {
    char b[32];
    if (old == now)
        return "0 B";
    snprintf(buf, 40, "%c%s", now > old ? '+' : '-', rcr_fmt_bytes(b, magnitude(old, now)));
    return buf;
}

/* A change of a count: "+10", "-3", "0". */
static const char *fmt_count_change(char buf[40], uint64_t old, uint64_t now) {
    char b[32];
    if (old == now)
        return "0";
    snprintf(buf, 40, "%c%s", now > old ? '+' : '-', rcr_fmt_count(b, magnitude(old, now)));
    return buf;
}

static const char *basename_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

static void print_frame(FILE *out, const dframe *f) {
    if (f->function)
        fputs(f->function, out);
    if (f->file) {
        fprintf(out, f->function ? " (%s" : "%s", f->file);
        if (f->line)
            fprintf(out, ":%d", f->line);
        if (f->function)
            fputc(')', out);
        return;
    }
    if (f->module) {
        fprintf(out, f->function ? " (%s+0x%" PRIx64 ")" : "%s+0x%" PRIx64, basename_of(f->module),
                f->offset);
        return;
    }
    fprintf(out, f->function ? " (0x%" PRIx64 ")" : "0x%" PRIx64 " (in no module)", f->offset);
}

/* A site's label under the grouping, as `recycle report` prints it. */
static void print_site(FILE *out, const dsite *d, rcr_by by) {
    const dframe *f = &d->frame;
    if (d->none)
        fputs("[no stack recorded]", out);
    else if (by == RCR_BY_FUNCTION && f->function)
        fputs(f->function, out);
    else if (by == RCR_BY_FILE)
        fputs(f->file ? f->file : f->module ? f->module : "(in no module)", out);
    else
        print_frame(out, f);
    if (!d->in[OLD])
        fputs("  [new]", out);
    else if (!d->in[NEW])
        fputs("  [gone]", out);
}

static const char *side_command(const dside *s) {
    return s->command_line[0] ? s->command_line : s->program;
}

#define TOTAL_ROW "%-16s %14s  %14s  %14s\n"

static void print_totals(FILE *out, const diff_state *st) {
    const dside *o = &st->side[OLD], *n = &st->side[NEW];
    const rcr_totals *a = &o->totals, *b = &n->totals;
    char x[32], y[32], z[40];
    fprintf(out, "old              %s (pid %" PRIu64 "): %s\n", side_command(o), o->pid, o->path);
    fprintf(out, "new              %s (pid %" PRIu64 "): %s\n", side_command(n), n->pid, n->path);
    if (o->sample_bytes || n->sample_bytes)
        fputs("sampled          the figures of a sampled capture are estimates\n", out);
    fputc('\n', out);
    fprintf(out, TOTAL_ROW, "", "old", "new", "change");
    fprintf(out, TOTAL_ROW, "allocations", rcr_fmt_count(x, a->allocations),
            rcr_fmt_count(y, b->allocations), fmt_count_change(z, a->allocations, b->allocations));
    fprintf(out, TOTAL_ROW, "bytes allocated", rcr_fmt_bytes(x, a->bytes_allocated),
            rcr_fmt_bytes(y, b->bytes_allocated),
            fmt_bytes_change(z, a->bytes_allocated, b->bytes_allocated));
    fprintf(out, TOTAL_ROW, "peak heap", rcr_fmt_bytes(x, a->peak_bytes),
            rcr_fmt_bytes(y, b->peak_bytes), fmt_bytes_change(z, a->peak_bytes, b->peak_bytes));
    fprintf(out, TOTAL_ROW, o->ended && n->ended ? "leaked at exit" : "live at end",
            rcr_fmt_bytes(x, a->leaked_bytes), rcr_fmt_bytes(y, b->leaked_bytes),
            fmt_bytes_change(z, a->leaked_bytes, b->leaked_bytes));
    fprintf(out, TOTAL_ROW, "leaked blocks", rcr_fmt_count(x, a->leaked_allocations),
            rcr_fmt_count(y, b->leaked_allocations),
            fmt_count_change(z, a->leaked_allocations, b->leaked_allocations));
}

static const char *by_name(rcr_by by) {
    switch (by) {
    case RCR_BY_FUNCTION: return "function";
    case RCR_BY_FILE: return "file";
    case RCR_BY_STACK: return "stack";
    case RCR_BY_LINE: break;
    }
    return "line";
}

static const char *sort_name(rcr_diff_sort sort) {
    switch (sort) {
    case RCR_DIFF_ALLOCATIONS: return "allocations";
    case RCR_DIFF_LEAKED: return "leaked";
    case RCR_DIFF_PEAK: return "peak";
    case RCR_DIFF_BYTES: break;
    }
    return "bytes";
}

#define SITE_ROW "%-4s%11s  %11s  %10s  %10s"

/* One side's figures under a site, or dashes when the site is not in it. */
static void print_side(FILE *out, const char *label, const dsite *d, int k) {
    char a[32], b[32], c[32], e[32];
    const rcr_figures *f = &d->fig[k];
    if (!d->in[k])
        fprintf(out, SITE_ROW "\n", label, "-", "-", "-", "-");
    else
        fprintf(out, SITE_ROW "\n", label, rcr_fmt_bytes(a, f->bytes),
                rcr_fmt_count(b, f->allocations), rcr_fmt_bytes(c, f->live_bytes),
                rcr_fmt_bytes(e, f->peak_bytes));
}

static void render_text(FILE *out, diff_state *st) {
    const rcr_diff_options *o = st->o;
    static const char *const what[] = {
        [RCR_DIFF_BYTES] = "bytes allocated",
        [RCR_DIFF_ALLOCATIONS] = "allocations",
        [RCR_DIFF_LEAKED] = "memory not freed at the end",
        [RCR_DIFF_PEAK] = "memory live at the peak",
    };
    print_totals(out, st);
    fputc('\n', out);
    if (st->nsites == 0) {
        fputs("no allocation site in either capture\n", out);
        return;
    }
    size_t shown = o->top && o->top < st->nsites ? o->top : st->nsites;
    if (shown < st->nsites)
        fprintf(out, "top %zu of %zu sites by change in %s (by %s):\n", shown, st->nsites,
                what[o->sort], by_name(o->by));
    else
        fprintf(out, "%zu %s by change in %s (by %s):\n", st->nsites,
                rcr_plural(st->nsites, "site"), what[o->sort], by_name(o->by));
    fprintf(out, SITE_ROW "  site\n", "", "bytes", "allocations", "leaked", "peak");
    for (size_t i = 0; i < shown; i++) {
        const dsite *d = &st->sites[i];
        const rcr_figures *a = &d->fig[OLD], *b = &d->fig[NEW];
        char w[40], x[40], y[40], z[40];
        fprintf(out, SITE_ROW "  ", "", fmt_bytes_change(w, a->bytes, b->bytes),
                fmt_count_change(x, a->allocations, b->allocations),
                fmt_bytes_change(y, a->live_bytes, b->live_bytes),
                fmt_bytes_change(z, a->peak_bytes, b->peak_bytes));
        print_site(out, d, o->by);
        fputc('\n', out);
        print_side(out, "old", d, OLD);
        print_side(out, "new", d, NEW);
        for (size_t k = 0; k < d->ncallers; k++) {
            fputs("           from ", out);
            print_frame(out, &d->callers[k]);
            fputc('\n', out);
        }
    }
}

/* ---- JSON ----------------------------------------------------------------------------------- */

/* new - old as a JSON integer. */
static void put_change(FILE *out, const char *key, uint64_t old, uint64_t now, bool comma) {
    fprintf(out, "\"%s\": %s%" PRIu64 "%s", key, now < old ? "-" : "", magnitude(old, now),
            comma ? ", " : "");
}

static void put_side(FILE *out, const dside *s) {
    fputs("{\"path\": ", out);
    rcr_json_string(out, s->path);
    fputs(", \"program\": ", out);
    rcr_json_string(out, s->program);
    fputs(", \"command_line\": ", out);
    rcr_json_string(out, s->command_line);
    fprintf(out, ", \"pid\": %" PRIu64 ", \"complete\": %s, \"sampled\": %s}", s->pid,
            s->complete ? "true" : "false", s->sample_bytes ? "true" : "false");
}

static void put_total(FILE *out, const char *key, uint64_t old, uint64_t now, bool comma) {
    fprintf(out, "\"%s\": {\"old\": %" PRIu64 ", \"new\": %" PRIu64 ", ", key, old, now);
    put_change(out, "change", old, now, false);
    fputs(comma ? "}, " : "}", out);
}

static void put_figures(FILE *out, const dsite *d, int k) {
    if (!d->in[k]) {
        fputs("null", out);
        return;
    }
    const rcr_figures *f = &d->fig[k];
    fprintf(out, "{\"bytes\": %" PRIu64 ", \"allocations\": %" PRIu64 ", \"leaked_bytes\": %" PRIu64
            ", \"leaked_allocations\": %" PRIu64 ", \"peak_bytes\": %" PRIu64
            ", \"peak_allocations\": %" PRIu64 "}",
            f->bytes, f->allocations, f->live_bytes, f->live_allocations, f->peak_bytes,
            f->peak_allocations);
}

static void put_frame_fields(FILE *out, const dframe *f, bool with_function, bool with_line) {
    fputs("\"function\": ", out);
    rcr_json_string(out, with_function ? f->function : NULL);
    fputs(", \"file\": ", out);
    rcr_json_string(out, f->file);
    fputs(", \"line\": ", out);
    if (with_line && f->line)
        fprintf(out, "%d", f->line);
    else
        fputs("null", out);
    fputs(", \"module\": ", out);
    rcr_json_string(out, f->module);
    fprintf(out, ", \"offset\": %" PRIu64, f->offset);
}

static void put_site(FILE *out, const dsite *d, rcr_by by) {
    const rcr_figures *a = &d->fig[OLD], *b = &d->fig[NEW];
    fprintf(out, "    {\"status\": \"%s\", ", !d->in[OLD] ? "new" : !d->in[NEW] ? "gone" : "both");
    /* A group by function or file has no one line (or function). */
    put_frame_fields(out, &d->frame, by != RCR_BY_FILE, by != RCR_BY_FUNCTION && by != RCR_BY_FILE);
    fputs(", \"old\": ", out);
    put_figures(out, d, OLD);
    fputs(", \"new\": ", out);
    put_figures(out, d, NEW);
    fputs(", \"change\": {", out);
    put_change(out, "bytes", a->bytes, b->bytes, true);
    put_change(out, "allocations", a->allocations, b->allocations, true);
    put_change(out, "leaked_bytes", a->live_bytes, b->live_bytes, true);
    put_change(out, "leaked_allocations", a->live_allocations, b->live_allocations, true);
    put_change(out, "peak_bytes", a->peak_bytes, b->peak_bytes, true);
    put_change(out, "peak_allocations", a->peak_allocations, b->peak_allocations, false);
    fputc('}', out);
    if (by == RCR_BY_STACK) {
        fputs(", \"stack\": [", out);
        if (!d->none) {
            fputc('{', out);
            put_frame_fields(out, &d->frame, true, true);
            fputc('}', out);
            for (size_t k = 0; k < d->ncallers; k++) {
                fputs(", {", out);
                put_frame_fields(out, &d->callers[k], true, true);
                fputc('}', out);
            }
        }
        fputc(']', out);
    }
    fputc('}', out);
}

static void render_json(FILE *out, diff_state *st) {
    const rcr_diff_options *o = st->o;
    const rcr_totals *a = &st->side[OLD].totals, *b = &st->side[NEW].totals;
    fputs("{\n  \"old\": ", out);
    put_side(out, &st->side[OLD]);
    fputs(",\n  \"new\": ", out);
    put_side(out, &st->side[NEW]);
    fprintf(out, ",\n  \"by\": \"%s\",\n  \"sort\": \"%s\",\n  \"totals\": {", by_name(o->by),
            sort_name(o->sort));
    put_total(out, "allocations", a->allocations, b->allocations, true);
    put_total(out, "frees", a->frees, b->frees, true);
    put_total(out, "bytes_allocated", a->bytes_allocated, b->bytes_allocated, true);
    put_total(out, "peak_bytes", a->peak_bytes, b->peak_bytes, true);
    put_total(out, "leaked_bytes", a->leaked_bytes, b->leaked_bytes, true);
    put_total(out, "leaked_allocations", a->leaked_allocations, b->leaked_allocations, true);
    put_total(out, "temporary_allocations", a->temporary, b->temporary, false);
    fputs("},\n  \"sites\": [", out);
    size_t shown = o->top_given && o->top && o->top < st->nsites ? o->top : st->nsites;
    for (size_t i = 0; i < shown; i++) {
        fputs(i ? ",\n" : "\n", out);
        put_site(out, &st->sites[i], o->by);
    }
    fputs(shown ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* ---- the whole ------------------------------------------------------------------------------ */

int rcr_diff(const char *old_path, const char *new_path, const rcr_diff_options *o, FILE *out,
             FILE *err) {
    diff_state st = {.o = o};
    int status = add_capture(&st, OLD, old_path, err);
    if (status == 0)
        status = add_capture(&st, NEW, new_path, err);
    if (status == 0) {
        rcr_diff_sort sort = o->sort;
        if (st.nsites > 1)
            qsort_r(st.sites, st.nsites, sizeof *st.sites, cmp_sites, &sort);
        if (o->json)
            render_json(out, &st);
        else
            render_text(out, &st);
    }
    free_sites(&st);
    return status;
}
