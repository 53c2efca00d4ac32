/* text.c - the report for people: the run, the totals, then one table of
 * sites per view (sites.h).
 *
 *   program      ./leaky --rounds 3 (pid 4242)
 *   ended        exited with status 0 after 1.250 s
 *
 *   allocations      1,200 (1,166 freed)
 *   bytes allocated  5.6 MiB
 *   peak heap        1.2 MiB in 40 blocks at 0.532 s
 *   leaked at exit   3.4 KiB in 34 blocks: 1.0 KiB definitely lost, 2.4 KiB still reachable
 *   temporary        120 allocations (10.0%)
 *
 *   top 10 of 52 sites by bytes allocated (by line):
 *         bytes  allocations     leaked       peak  site
 *       2.0 MiB          100    1.0 KiB      512 B  make_node (tree.c:42)
 *
 * Sizes are rounded to one decimal of the largest binary unit below them
 * (format.h); the exact bytes are in --json. */
#include "report/sites.h"

#include "report/format.h"

#include <inttypes.h>
#include <string.h>

/* ---- frames ------------------------------------------------------------------ */

static const char *basename_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* How a frame reads in a table. */
static void print_frame(FILE *out, const rcr_frame *f, uint32_t node) {
    if (node == 0) {
        fputs("[no stack recorded]", out);
        return;
    }
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

/* A site's label under the grouping: its function alone (--by function),
 * its file alone (--by file), else the whole frame. */
static void print_site(FILE *out, const rcr_site *s, rcr_by by) {
    const rcr_frame *f = &s->frame;
    if (s->node != 0 && by == RCR_BY_FUNCTION && f->function) {
        fputs(f->function, out);
        return;
    }
    if (s->node != 0 && by == RCR_BY_FILE) {
        fputs(f->file ? f->file : f->module ? f->module : "(in no module)", out);
        return;
    }
    print_frame(out, f, s->node);
}

/* The callers of a site, one a line, for --by stack. */
static void print_callers(FILE *out, rcr_replay *r, uint32_t node, const char *indent) {
    for (uint32_t n = node ? r->nodes[node].parent : 0; n != 0; n = r->nodes[n].parent) {
        rcr_frame f;
        rcr_frame_of(r, n, &f);
        fprintf(out, "%s  from ", indent);
        print_frame(out, &f, n);
        fputc('\n', out);
    }
}

/* ---- the tables ------------------------------------------------------------------------ */

static const char *by_name(rcr_by by) {
    switch (by) {
    case RCR_BY_FUNCTION: return "function";
    case RCR_BY_FILE: return "file";
    case RCR_BY_STACK: return "stack";
    case RCR_BY_LINE: break;
    }
    return "line";
}

static void print_table(FILE *out, const rcr_render *rd, rcr_metric metric) {
    rcr_sites *s = rd->sites;
    const rcr_options *o = rd->options;
    static const char *const what[] = {
        [RCR_METRIC_BYTES] = "bytes allocated",
        [RCR_METRIC_LEAKED] = "memory not freed at the end",
        [RCR_METRIC_PEAK] = "memory live at the peak",
        [RCR_METRIC_TEMPORARY] = "temporary allocations",
    };
    static const char *const none[] = {
        [RCR_METRIC_BYTES] = "nothing was allocated",
        [RCR_METRIC_LEAKED] = "every block was freed",
        [RCR_METRIC_PEAK] = "nothing was live at the peak",
        [RCR_METRIC_TEMPORARY] = "no temporary allocations",
    };
    rcr_sites_sort(s, metric);
    size_t n = 0;
    while (n < s->n && (metric == RCR_METRIC_BYTES || rcr_site_metric(&s->v[n], metric) > 0))
        n++;
    size_t shown = o->top && o->top < n ? o->top : n;

    fputc('\n', out);
    if (n == 0) {
        fprintf(out, "%s\n", none[metric]);
        return;
    }
    if (shown < n)
        fprintf(out, "top %zu of %zu sites by %s (by %s):\n", shown, n, what[metric],
                by_name(o->by));
    else
        fprintf(out, "%zu %s by %s (by %s):\n", n, rcr_plural(n, "site"), what[metric],
                by_name(o->by));
    switch (metric) {
    case RCR_METRIC_BYTES:
        fputs("      bytes  allocations      leaked        peak  site\n", out);
        break;
    case RCR_METRIC_LEAKED:
        fputs("     leaked       blocks  definitely lost  still reachable  site\n", out);
        break;
    case RCR_METRIC_PEAK:
        fputs("  peak heap       blocks  site\n", out);
        break;
    case RCR_METRIC_TEMPORARY:
        fputs("  temporary  allocations  site\n", out);
        break;
    }
    for (size_t i = 0; i < shown; i++) {
        const rcr_site *site = &s->v[i];
        const rcr_figures *f = &site->fig;
        char a[32], b[32], c[32], d[32];
        switch (metric) {
        case RCR_METRIC_BYTES:
            fprintf(out, "%11s  %11s  %10s  %10s  ", rcr_fmt_bytes(a, f->bytes),
                    rcr_fmt_count(b, f->allocations), rcr_fmt_bytes(c, f->live_bytes),
                    rcr_fmt_bytes(d, f->peak_bytes));
            break;
        case RCR_METRIC_LEAKED:
            fprintf(out, "%11s  %11s  ", rcr_fmt_bytes(a, f->live_bytes),
                    rcr_fmt_count(b, f->live_allocations));
            if (rd->replay->have_leaks)
                fprintf(out, "%15s  %15s  ", rcr_fmt_bytes(c, f->lost_bytes),
                        rcr_fmt_bytes(d, f->reachable_bytes));
            else
                fprintf(out, "%15s  %15s  ", "-", "-");
            break;
        case RCR_METRIC_PEAK:
            fprintf(out, "%11s  %11s  ", rcr_fmt_bytes(a, f->peak_bytes),
                    rcr_fmt_count(b, f->peak_allocations));
            break;
        case RCR_METRIC_TEMPORARY:
            fprintf(out, "%11s  %11s  ", rcr_fmt_count(a, f->temporary),
                    rcr_fmt_count(b, f->allocations));
            break;
        }
        print_site(out, site, o->by);
        fputc('\n', out);
        if (o->by == RCR_BY_STACK)
            print_callers(out, rd->replay, site->node, "           ");
    }
    if (metric == RCR_METRIC_LEAKED && !rd->replay->have_leaks)
        fputs("(the capture does not say what is definitely lost: the program did not "
              "reach its normal exit)\n", out);
}

void rcr_render_text(const rcr_render *rd, FILE *out) {
    rcr_text_run_totals(out, rd->replay);
    unsigned v = rd->options->views;
    if (!v)
        print_table(out, rd, RCR_METRIC_BYTES);
    if (v & RCR_VIEW_LEAKS)
        print_table(out, rd, RCR_METRIC_LEAKED);
    if (v & RCR_VIEW_PEAK)
        print_table(out, rd, RCR_METRIC_PEAK);
    if (v & RCR_VIEW_TEMPORARY)
        print_table(out, rd, RCR_METRIC_TEMPORARY);
}
