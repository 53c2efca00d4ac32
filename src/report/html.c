/* html.c - rcr_html (html.h): the capture read once, then each part of the
 * page made from the same replay by the renderers of the other commands
 * (rcr_text_run_totals, rcr_plot_draw, rcr_flame_json) and written around
 * them.
 *
 * Escaping. Every string of the capture (program, command line, names,
 * files) goes into the HTML through rcr_put_xml, which writes the five
 * special characters as entities and invalid UTF-8 as U+FFFD; the flame
 * graphs' JSON through rcr_flame_put_script_json, which leaves nothing
 * that could end its <script> element; the plot as base64 in a data: URL.
 * So no byte of a capture can become markup or script. */
#define _GNU_SOURCE
#include "report/html.h"

#include "report/assets.h"
#include "report/flame.h"
#include "report/format.h"
#include "report/load.h"
#include "report/markup.h"
#include "report/output.h"
#include "report/plot.h"
#include "report/sites.h"

#include <recycle/version.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MSG "recycle html: "

/* Sites in the plot's legend. */
#define PLOT_TOP 5

static const rcr_flame_kind kinds[] = {RCR_FLAME_ALLOCATED, RCR_FLAME_PEAK, RCR_FLAME_LEAKED};
#define NKINDS (sizeof kinds / sizeof kinds[0])

typedef struct page {
    const char *path;          /* of the capture */
    rcr_replay *r;
    bool complete;
    rcr_sites sites;           /* by line */
    char *svg;                 /* the plot */
    size_t svg_len;
    char *flame[NKINDS];       /* the data blocks, one per kind */
    size_t flame_len[NKINDS];
} page;

/* ---- pieces ---------------------------------------------------------------------- */

static void put_base64(FILE *out, const unsigned char *p, size_t n) {
    static const char digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        fputc(digits[v >> 18], out);
        fputc(digits[v >> 12 & 63], out);
        fputc(digits[v >> 6 & 63], out);
        fputc(digits[v & 63], out);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        fputc(digits[v >> 18], out);
        fputc(digits[v >> 12 & 63], out);
        fputs("==", out);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        fputc(digits[v >> 18], out);
        fputc(digits[v >> 12 & 63], out);
        fputc(digits[v >> 6 & 63], out);
        fputc('=', out);
    }
}

/* A number cell: the figure for people, the exact value to sort by and in
 * the tooltip. */
static void cell_bytes(FILE *out, uint64_t v) {
    char a[32], b[32];
    fprintf(out, "<td class=\"n\" data-v=\"%" PRIu64 "\" title=\"%s B\">%s</td>", v,
            rcr_fmt_count(b, v), rcr_fmt_bytes(a, v));
}

static void cell_count(FILE *out, uint64_t v) {
    char a[32];
    fprintf(out, "<td class=\"n\" data-v=\"%" PRIu64 "\">%s</td>", v, rcr_fmt_count(a, v));
}

/* A sortable column's head. */
static void head(FILE *out, const char *label, bool numeric) {
    fprintf(out, "<th%s data-type=\"%s\" scope=\"col\"><button type=\"button\">%s</button></th>",
            numeric ? " class=\"n\"" : "", numeric ? "num" : "text", label);
}

/* ---- the header and the totals ------------------------------------------------------ */

static void write_header(FILE *out, const page *pg) {
    const rcr_replay *r = pg->r;
    const char *program = r->command_line[0] ? r->command_line : r->program;
    fputs("<header>\n<h1 id=\"title\">", out);
    rcr_put_xml(out, program);
    fputs("</h1>\n<p class=\"run\">", out);
    rcr_put_end_xml(out, r);
    fprintf(out, " (pid %" PRIu64 ")</p>\n", r->header.pid);
    if (r->header.sample_bytes) {
        char b[32];
        fprintf(out, "<p class=\"note\" id=\"sampled\">Sampled: one allocation recorded per %s "
                "allocated on average; the figures are estimates.</p>\n",
                rcr_fmt_bytes(b, r->header.sample_bytes));
    }
    if (!pg->complete)
        fputs("<p class=\"note\" id=\"cut-short\">The capture is cut short: the figures cover "
              "the run up to where it ends.</p>\n", out);
    fputs("</header>\n<nav><a href=\"#totals\">totals</a><a href=\"#memory\">memory over "
          "time</a><a href=\"#flame\">flame graph</a><a href=\"#sites\">sites</a><a "
          "href=\"#leaks\">leaks</a></nav>\n", out);
}

/* The totals of `recycle report`, its "label  value" lines as rows: a
 * label is the first 17 columns of its line. */
static bool write_totals(FILE *out, const page *pg) {
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return false;
    rcr_text_run_totals(mem, pg->r);
    if (fclose(mem) != 0)
        return false;
    fputs("<section id=\"totals\">\n<h2>Totals</h2>\n<table class=\"totals\">\n", out);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        size_t n = strlen(line);
        if (n == 0)
            continue;
        size_t split = n < 17 ? n : 17;
        char *value = line + split;
        size_t label_end = split;
        while (label_end > 0 && line[label_end - 1] == ' ')
            label_end--;
        char saved = line[label_end];
        line[label_end] = 0;
        fputs("<tr><th scope=\"row\">", out);
        rcr_put_xml(out, line);
        line[label_end] = saved;
        fputs("</th><td>", out);
        rcr_put_xml(out, value);
        fputs("</td></tr>\n", out);
    }
    fprintf(out, "<tr><th scope=\"row\">threads</th><td>%" PRIu64 "</td></tr>\n",
            pg->r->totals.threads);
    fputs("</table>\n</section>\n", out);
    free(text);
    return true;
}

/* ---- the plot and the flame graph ---------------------------------------------------- */

static void write_plot(FILE *out, const page *pg) {
    fputs("<section id=\"memory\">\n<h2>Memory over time</h2>\n"
          "<img id=\"plot\" alt=\"the heap in use and the resident set size over the run\" "
          "src=\"data:image/svg+xml;base64,", out);
    put_base64(out, (const unsigned char *)pg->svg, pg->svg_len);
    fputs("\">\n</section>\n", out);
}

static void write_flame(FILE *out, const page *pg) {
    bool exited = rcr_ended_by_itself(pg->r);
    fputs("<section id=\"flame\">\n<h2>Flame graph</h2>\n<p id=\"subtitle\"></p>\n"
          "<div id=\"controls\">\n<label>boxes weigh <select id=\"flame-kind\">"
          "<option value=\"allocated\" selected>bytes allocated</option>"
          "<option value=\"peak\">bytes live at the peak</option>", out);
    fprintf(out, "<option value=\"leaked\">bytes %s</option></select></label>\n",
            exited ? "leaked at exit" : "live at the end");
    fputs("<input id=\"search\" type=\"search\" placeholder=\"search functions (regular "
          "expression)\" aria-label=\"search\">\n<span id=\"matched\"></span>\n"
          "<button id=\"reset\" type=\"button\">reset zoom</button>\n"
          "<label><input id=\"icicle\" type=\"checkbox\"> icicle</label>\n</div>\n"
          "<div id=\"chart\"><canvas id=\"canvas\"></canvas><div id=\"tip\" hidden></div></div>\n"
          "<p class=\"muted\">Click a box to zoom into it, the root or Escape to zoom out. Boxes "
          "narrower than 0.1% of the total are folded into their parent.</p>\n</section>\n",
          out);
}

/* ---- the tables -------------------------------------------------------------------- */

static int by_node(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The site's label, and its callers (up to RCR_HTML_CALLERS) in a
 * <details> when with_callers. */
static void site_cell(FILE *out, rcr_replay *r, const rcr_site *s, bool with_callers) {
    fputs("<td class=\"site\">", out);
    if (!with_callers || s->node == 0 || r->nodes[s->node].parent == 0) {
        rcr_put_frame_xml(out, &s->frame, s->node);
        fputs("</td>", out);
        return;
    }
    fputs("<details><summary>", out);
    rcr_put_frame_xml(out, &s->frame, s->node);
    fputs("</summary><ol>", out);
    size_t k = 0;
    for (uint32_t n = r->nodes[s->node].parent; n != 0; n = r->nodes[n].parent, k++) {
        if (k == RCR_HTML_CALLERS) {
            fputs("<li>\xE2\x80\xA6</li>", out);
            break;
        }
        rcr_frame f;
        rcr_frame_of(r, n, &f);
        fputs("<li>", out);
        rcr_put_frame_xml(out, &f, n);
        fputs("</li>", out);
    }
    fputs("</ol></details></td>", out);
}

/* The sites table: the sites in the top RCR_HTML_TOP of any column,
 * heaviest in bytes first. */
static bool write_sites(FILE *out, page *pg) {
    rcr_sites *s = &pg->sites;
    static const rcr_metric metrics[] = {RCR_METRIC_BYTES, RCR_METRIC_PEAK, RCR_METRIC_LEAKED,
                                         RCR_METRIC_TEMPORARY};
    size_t nmetrics = sizeof metrics / sizeof metrics[0];
    uint32_t *chosen = malloc((nmetrics * RCR_HTML_TOP + 1) * sizeof *chosen);
    if (!chosen)
        return false;
    size_t nchosen = 0;
    for (size_t m = 0; m < nmetrics; m++) {
        rcr_sites_sort(s, metrics[m]);
        for (size_t i = 0; i < s->n && i < RCR_HTML_TOP; i++)
            if (metrics[m] == RCR_METRIC_BYTES || rcr_site_metric(&s->v[i], metrics[m]) > 0)
                chosen[nchosen++] = s->v[i].node;
    }
    qsort(chosen, nchosen, sizeof *chosen, by_node);
    rcr_sites_sort(s, RCR_METRIC_BYTES);
    size_t shown = 0;
    for (size_t i = 0; i < s->n; i++)
        if (bsearch(&s->v[i].node, chosen, nchosen, sizeof *chosen, by_node))
            shown++;

    fputs("<section id=\"sites\">\n<h2>Allocation sites</h2>\n", out);
    if (s->n == 0) {
        fputs("<p>Nothing was allocated.</p>\n</section>\n", out);
        free(chosen);
        return true;
    }
    if (shown < s->n)
        fprintf(out, "<p>The %zu sites in the top %d of a column, of %zu sites (by line). Click "
                "a column to sort by it.</p>\n", shown, RCR_HTML_TOP, s->n);
    else
        fprintf(out, "<p>%zu %s (by line). Click a column to sort by it.</p>\n", s->n,
                rcr_plural(s->n, "site"));
    fputs("<table class=\"sortable\" id=\"sites-table\">\n<thead><tr>", out);
    head(out, "site", false);
    head(out, "bytes allocated", true);
    head(out, "allocations", true);
    head(out, "peak", true);
    head(out, rcr_ended_by_itself(pg->r) ? "leaked" : "live at end", true);
    head(out, "temporary", true);
    fputs("</tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < s->n; i++) {
        const rcr_site *site = &s->v[i];
        if (!bsearch(&site->node, chosen, nchosen, sizeof *chosen, by_node))
            continue;
        fputs("<tr>", out);
        site_cell(out, pg->r, site, false);
        cell_bytes(out, site->fig.bytes);
        cell_count(out, site->fig.allocations);
        cell_bytes(out, site->fig.peak_bytes);
        cell_bytes(out, site->fig.live_bytes);
        cell_count(out, site->fig.temporary);
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n</section>\n", out);
    free(chosen);
    return true;
}

typedef enum leak_kind { LEAK_LOST, LEAK_REACHABLE, LEAK_LIVE } leak_kind;

static uint64_t leak_bytes(const rcr_site *s, leak_kind k) {
    return k == LEAK_LOST ? s->fig.lost_bytes
           : k == LEAK_REACHABLE ? s->fig.reachable_bytes
                                 : s->fig.live_bytes;
}

static uint64_t leak_blocks(const rcr_site *s, leak_kind k) {
    return k == LEAK_LOST ? s->fig.lost_allocations
           : k == LEAK_REACHABLE ? s->fig.reachable_allocations
                                 : s->fig.live_allocations;
}

static int by_leak(const void *a, const void *b, void *arg) {
    const rcr_site *x = *(const rcr_site *const *)a, *y = *(const rcr_site *const *)b;
    leak_kind kind = *(const leak_kind *)arg;
    uint64_t bx = leak_bytes(x, kind), by = leak_bytes(y, kind);
    if (bx != by)
        return bx > by ? -1 : 1;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* One leaks table: the sites holding some of kind, heaviest first, at most
 * RCR_HTML_TOP of them, each with its callers. */
static void leak_table(FILE *out, page *pg, const rcr_site **v, leak_kind kind, const char *id,
                       const char *title, const char *none) {
    size_t n = 0;
    for (size_t i = 0; i < pg->sites.n; i++)
        if (leak_bytes(&pg->sites.v[i], kind) || leak_blocks(&pg->sites.v[i], kind))
            v[n++] = &pg->sites.v[i];
    qsort_r(v, n, sizeof *v, by_leak, &kind);
    fprintf(out, "<h3>%s</h3>\n", title);
    if (n == 0) {
        fprintf(out, "<p id=\"%s-none\">%s</p>\n", id, none);
        return;
    }
    size_t shown = n < RCR_HTML_TOP ? n : RCR_HTML_TOP;
    if (shown < n)
        fprintf(out, "<p>The top %zu of %zu sites. Open a site for its callers.</p>\n", shown, n);
    else
        fprintf(out, "<p>%zu %s. Open a site for its callers.</p>\n", n, rcr_plural(n, "site"));
    fprintf(out, "<table class=\"sortable\" id=\"%s\">\n<thead><tr>", id);
    head(out, "site", false);
    head(out, "bytes", true);
    head(out, "blocks", true);
    fputs("</tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < shown; i++) {
        fputs("<tr>", out);
        site_cell(out, pg->r, v[i], true);
        cell_bytes(out, leak_bytes(v[i], kind));
        cell_count(out, leak_blocks(v[i], kind));
        fputs("</tr>\n", out);
    }
    fputs("</tbody>\n</table>\n", out);
}

static bool write_leaks(FILE *out, page *pg) {
    const rcr_site **v = malloc((pg->sites.n ? pg->sites.n : 1) * sizeof *v);
    if (!v)
        return false;
    const rcr_totals *t = &pg->r->totals;
    char a[64], b[32];
    fputs("<section id=\"leaks\">\n<h2>Leaks</h2>\n", out);
    if (pg->r->have_leaks) {
        fprintf(out, "<p>%s in %s %s not freed at exit", rcr_fmt_bytes_exact(a, t->leaked_bytes),
                rcr_fmt_count(b, t->leaked_allocations),
                rcr_plural(t->leaked_allocations, "block"));
        fprintf(out, ": %s definitely lost (nothing pointed to them), ",
                rcr_fmt_bytes(a, t->lost_bytes));
        fprintf(out, "%s still reachable (pointed to from the program's memory).</p>\n",
                rcr_fmt_bytes(a, t->reachable_bytes));
        leak_table(out, pg, v, LEAK_LOST, "lost-table", "Definitely lost",
                   "Nothing was definitely lost.");
        leak_table(out, pg, v, LEAK_REACHABLE, "reachable-table", "Still reachable",
                   "Nothing was still reachable.");
    } else {
        fputs("<p>The capture does not say what is definitely lost: the program did not reach "
              "its normal exit. What was live at the end:</p>\n", out);
        leak_table(out, pg, v, LEAK_LIVE, "live-table", "Live at the end",
                   "Every block was freed.");
    }
    fputs("</section>\n", out);
    free(v);
    return true;
}

/* ---- the page ------------------------------------------------------------------------ */

static bool write_page(FILE *out, page *pg) {
    const rcr_replay *r = pg->r;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"recycle html " RC_VERSION_STRING "\">\n<title>",
          out);
    rcr_put_xml(out, r->program);
    fputs(": memory report</title>\n<style>\n", out);
    rcr_flame_put_style(out);
    fwrite(rcr_html_css, 1, rcr_html_css_size, out);
    fputs("</style>\n</head>\n<body class=\"report\">\n", out);
    write_header(out, pg);
    fputs("<main>\n", out);
    if (!write_totals(out, pg))
        return false;
    write_plot(out, pg);
    write_flame(out, pg);
    if (!write_sites(out, pg) || !write_leaks(out, pg))
        return false;
    fputs("</main>\n<footer class=\"page\">recycle " RC_VERSION_STRING ", from the capture ",
          out);
    rcr_put_xml(out, pg->path);
    fputs("</footer>\n", out);
    for (size_t k = 0; k < NKINDS; k++) {
        fprintf(out, "<script type=\"application/json\" id=\"flame-data-%s\">\n",
                rcr_flame_kind_name(kinds[k]));
        rcr_flame_put_script_json(out, pg->flame[k], pg->flame_len[k]);
        fputs("\n</script>\n", out);
    }
    fputs("<script>\n", out);
    rcr_flame_put_script(out);
    fputs("</script>\n<script>\n", out);
    fwrite(rcr_html_js, 1, rcr_html_js_size, out);
    fputs("</script>\n</body>\n</html>\n", out);
    return true;
}

/* The plot's SVG and the flame graphs' data, made before the page is
 * written so that running out of memory leaves no file. */
static bool make_parts(page *pg, const rcr_plot_data *plot) {
    rcr_sites_sort(&pg->sites, RCR_METRIC_PEAK);
    FILE *mem = open_memstream(&pg->svg, &pg->svg_len);
    if (!mem)
        return false;
    rcr_plot_draw(plot, pg->r, &pg->sites, PLOT_TOP, pg->complete, mem);
    if (fclose(mem) != 0)
        return false;
    for (size_t k = 0; k < NKINDS; k++)
        if (!rcr_flame_json(pg->r, kinds[k], pg->complete, &pg->flame[k], &pg->flame_len[k]))
            return false;
    return true;
}

int rcr_html(const char *path, const rcr_html_options *o, FILE *err) {
    rcr_replay replay;
    rcr_plot_data *plot = rcr_plot_new(&replay);
    if (!plot) {
        fprintf(err, MSG "out of memory\n");
        return 1;
    }
    page pg = {.path = path, .r = &replay};
    rcr_load_options lo = {
        .prefix = MSG,
        .progress = o->progress,
        .on_event = rcr_plot_on_event,
        .arg = plot,
    };
    if (rcr_load(path, &lo, &replay, &pg.complete, err) != 0) {
        rcr_plot_free(plot);
        return 1;
    }
    int status = 1;
    if (!rcr_sites_build(&replay, RCR_BY_LINE, &pg.sites)) {
        fprintf(err, MSG "out of memory\n");
    } else {
        if (!make_parts(&pg, plot)) {
            fprintf(err, MSG "out of memory\n");
        } else {
            rcr_output out;
            if (rcr_output_open(&out, o->output, MSG, err)) {
                bool ok = write_page(out.f, &pg);
                if (!ok)
                    fprintf(err, MSG "out of memory\n");
                status = rcr_output_close(&out, ok, MSG, err);
            }
        }
        rcr_sites_free(&pg.sites);
    }
    free(pg.svg);
    for (size_t k = 0; k < NKINDS; k++)
        free(pg.flame[k]);
    rcr_replay_free(&replay);
    rcr_plot_free(plot);
    return status;
}
