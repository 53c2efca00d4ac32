/* plot.c - rcr_plot: the heap and the RSS over time as an SVG image
 * (plot.h).
 *
 *   load (load.c) --> every MEMORY record, in file order (on_event)
 *                 --> every change of the heap, in time order (the
 *                     replay's change hook)
 *                 --> both into COLUMNS columns of one width
 *   sites (sites.c, by line) --> sorted by the bytes live at the peak
 *   --> the image: axes with round ticks, the two lines, the peak, the
 *       legend, written to a temporary file and renamed
 *
 * Columns. Column i covers [i * width, (i + 1) * width) ns; width starts
 * at a millisecond (the capture clock's grain) and doubles when a record
 * lies beyond the last column. A column keeps, per line, how many values
 * fell in it, the first and the last by time (with their times) and the
 * lowest and the highest (with the order they came in): drawn, that is at
 * most four points a column (five on the heap's step line) and every
 * extreme of the run, the peak among them. Merging two columns keeps
 * exactly that of their union.
 *
 * The heap is a step function: it holds its value until the next change,
 * so its line goes across at the old value and then up or down. A late
 * record (replay.h) changes the heap where the replay applies it, at the
 * latest time seen, as `recycle stats` counts it. The RSS is a sample at
 * each MEMORY record: its line joins the samples.
 *
 * The change hook is installed by the first record's callback: rcr_load
 * initialises the replay before it reads a record. */
#define _GNU_SOURCE
#include "report/plot.h"

#include "report/format.h"
#include "report/load.h"
#include "report/markup.h"
#include "report/output.h"
#include "report/sites.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MSG "recycle plot: "

/* Columns of the run: about one per pixel of the plot's width. */
#define COLUMNS 800
_Static_assert(COLUMNS % 2 == 0, "columns merge two at a time");
/* The first column width: the capture clock's grain. */
#define FIRST_WIDTH_NS UINT64_C(1000000)

/* The image, in pixels: the plot area and the margins around it. */
#define PLOT_W 800
#define PLOT_H 400
#define LEFT 90
#define RIGHT 30
#define TOP 60
#define BOTTOM 60
#define LINE_H 18
#define IMAGE_W (LEFT + PLOT_W + RIGHT)

#define HEAP_COLOR "#1f77b4"
#define RSS_COLOR "#d62728"

typedef struct column {
    uint64_t n;                      /* values in it; 0: nothing else is set */
    uint64_t t_first, t_last;        /* ns */
    uint64_t first, last, min, max;  /* bytes */
    uint64_t first_seq, last_seq;    /* the order the values came in */
    uint64_t min_seq, max_seq;
} column;

/* The collections of librecycle's cycle collector (RCCAP_GC) ending in a
 * column: drawn as one mark, as tall as the oldest generation among them. */
typedef struct gc_column {
    uint64_t count, collected;
    uint64_t t_first, t_last;        /* ns, of their ends */
    uint64_t longest_ns;             /* the longest one's duration */
    int generation;                  /* the oldest; -1: none */
} gc_column;

struct rcr_plot_data {
    rcr_replay *replay;
    column heap[COLUMNS], rss[COLUMNS];
    gc_column gc[COLUMNS];
    uint64_t width;                  /* of a column, in ns */
    uint64_t seq;                    /* values added so far */
    uint64_t heap_time;              /* the latest time of a change */
    uint64_t rss_samples, rss_max;
};
typedef struct rcr_plot_data plot;

/* ---- columns ----------------------------------------------------------------------- */

static void column_add(column *c, uint64_t t, uint64_t v, uint64_t seq) {
    if (c->n == 0) {
        *c = (column){1, t, t, v, v, v, v, seq, seq, seq, seq};
        return;
    }
    c->n++;
    if (t >= c->t_last) {
        c->t_last = t;
        c->last = v;
        c->last_seq = seq;
    }
    if (t < c->t_first) {
        c->t_first = t;
        c->first = v;
        c->first_seq = seq;
    }
    if (v < c->min) {
        c->min = v;
        c->min_seq = seq;
    }
    if (v > c->max) {
        c->max = v;
        c->max_seq = seq;
    }
}

/* a and b merged, b covering the later time. */
static column column_merge(const column *a, const column *b) {
    if (a->n == 0)
        return *b;
    if (b->n == 0)
        return *a;
    column m = *a;
    m.n = a->n + b->n;
    if (b->t_last >= a->t_last) {
        m.t_last = b->t_last;
        m.last = b->last;
        m.last_seq = b->last_seq;
    }
    if (b->t_first < a->t_first) {
        m.t_first = b->t_first;
        m.first = b->first;
        m.first_seq = b->first_seq;
    }
    if (b->min < m.min) {
        m.min = b->min;
        m.min_seq = b->min_seq;
    }
    if (b->max > m.max) {
        m.max = b->max;
        m.max_seq = b->max_seq;
    }
    return m;
}

static void halve(column *c) {
    for (size_t j = 0; j < COLUMNS / 2; j++)
        c[j] = column_merge(&c[2 * j], &c[2 * j + 1]);
    memset(&c[COLUMNS / 2], 0, COLUMNS / 2 * sizeof c[0]);
}

static void gc_add(gc_column *g, uint64_t t, const rccap_event *ev) {
    if (g->count == 0) {
        *g = (gc_column){.t_first = t, .t_last = t, .generation = -1};
    }
    g->count++;
    g->collected += ev->u.gc.collected;
    if (t < g->t_first)
        g->t_first = t;
    if (t > g->t_last)
        g->t_last = t;
    if (ev->u.gc.duration_ns > g->longest_ns)
        g->longest_ns = ev->u.gc.duration_ns;
    if ((int)ev->u.gc.generation > g->generation)
        g->generation = (int)ev->u.gc.generation;
}

static gc_column gc_merge(const gc_column *a, const gc_column *b) {
    if (a->count == 0)
        return *b;
    if (b->count == 0)
        return *a;
    gc_column m = *a;
    m.count += b->count;
    m.collected += b->collected;
    m.t_first = a->t_first < b->t_first ? a->t_first : b->t_first;
    m.t_last = a->t_last > b->t_last ? a->t_last : b->t_last;
    m.longest_ns = a->longest_ns > b->longest_ns ? a->longest_ns : b->longest_ns;
    m.generation = a->generation > b->generation ? a->generation : b->generation;
    return m;
}

static void gc_halve(gc_column *g) {
    for (size_t j = 0; j < COLUMNS / 2; j++)
        g[j] = gc_merge(&g[2 * j], &g[2 * j + 1]);
    memset(&g[COLUMNS / 2], 0, COLUMNS / 2 * sizeof g[0]);
}

/* Make the columns cover time. */
static void widen(plot *p, uint64_t time) {
    while (time / p->width >= COLUMNS && p->width <= UINT64_MAX / 2) {
        halve(p->heap);
        halve(p->rss);
        gc_halve(p->gc);
        p->width *= 2;
    }
}

static size_t column_of(const plot *p, uint64_t time) {
    uint64_t i = time / p->width;
    return i < COLUMNS ? (size_t)i : COLUMNS - 1;
}

static void on_change(void *arg, const rcr_replay *r, const rcr_change *c) {
    plot *p = arg;
    if (c->time > p->heap_time)
        p->heap_time = c->time;
    widen(p, p->heap_time);
    column_add(&p->heap[column_of(p, p->heap_time)], p->heap_time, r->live_bytes, p->seq++);
}

bool rcr_plot_on_event(void *arg, const rccap_event *ev) {
    plot *p = arg;
    if (!p->replay->on_change) {
        p->replay->on_change = on_change;
        p->replay->change_arg = p;
    }
    widen(p, ev->time_ns);
    if (ev->kind == RCCAP_GC)
        gc_add(&p->gc[column_of(p, ev->time_ns)], ev->time_ns, ev);
    if (ev->kind == RCCAP_MEMORY) {
        uint64_t rss = ev->u.memory.rss;
        column_add(&p->rss[column_of(p, ev->time_ns)], ev->time_ns, rss, p->seq++);
        p->rss_samples++;
        if (rss > p->rss_max)
            p->rss_max = rss;
    }
    return true;
}

/* ---- text in SVG ----------------------------------------------------------------------- */

/* ---- axes ---------------------------------------------------------------------------- */

/* The smallest 1, 2 or 5 times a power of ten at least x (x > 0). Done
 * with loops rather than log10 and pow: the library does not link libm. */
static double nice_step(double x) {
    double p = 1;
    while (p * 10 <= x)
        p *= 10;
    while (p > x)
        p /= 10;
    static const double steps[] = {1, 2, 5, 10};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] * p >= x * (1 - 1e-9))
            return steps[i] * p;
    return 10 * p;
}

/* Decimals that show every multiple of step (1, 2 or 5 times a power of
 * ten) exactly. */
static int decimals_of(double step) {
    int d = 0;
    while (step < 1 - 1e-9 && d < 20) {
        step *= 10;
        d++;
    }
    return d;
}

/* The smallest whole number at least x (0 <= x < 2^63). */
static double ceil_of(double x) {
    double k = (double)(uint64_t)x;
    return k < x ? k + 1 : k;
}

typedef struct axis {
    double unit;             /* of the labels, in the axis's own measure */
    const char *unit_name;
    double step, max;        /* in units; max a multiple of step */
    int decimals;
} axis;

/* An axis from 0 to at least max (> 0) in unit, with at most about
 * `ticks` ticks at round values. */
static axis axis_make(double max, double unit, const char *unit_name, double ticks) {
    axis a = {.unit = unit, .unit_name = unit_name};
    double m = max / unit;
    a.step = nice_step(m / ticks);
    a.max = ceil_of(m / a.step - 1e-9) * a.step;
    if (a.max <= 0)
        a.max = a.step;
    a.decimals = decimals_of(a.step);
    return a;
}

/* Time: milliseconds for a run under a second, else seconds. */
static axis time_axis(uint64_t duration_ns) {
    double d = (double)(duration_ns > FIRST_WIDTH_NS ? duration_ns : FIRST_WIDTH_NS);
    return d < 1e9 ? axis_make(d, 1e6, "ms", 10) : axis_make(d, 1e9, "s", 10);
}

/* Memory: the binary unit that puts the top of the axis at 1 or more. */
static axis memory_axis(uint64_t max) {
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    if (max == 0)
        max = 1024;
    size_t u = 0;
    double unit = 1;
    while (u + 1 < sizeof names / sizeof names[0] && (double)max >= unit * 1024) {
        unit *= 1024;
        u++;
    }
    axis a = axis_make((double)max, unit, names[u], 5);
    if (u == 0 && a.step < 1) {  /* bytes come whole */
        a.step = 1;
        a.max = ceil_of(a.max);
        a.decimals = 0;
    }
    return a;
}

static double x_of(const axis *t, uint64_t ns) {
    return LEFT + (double)ns / t->unit / t->max * PLOT_W;
}

static double y_of(const axis *m, uint64_t bytes) {
    return TOP + PLOT_H - (double)bytes / m->unit / m->max * PLOT_H;
}

static void draw_axes(FILE *out, const axis *t, const axis *m) {
    fprintf(out, "<g id=\"axes\" font-size=\"12\" fill=\"#333\">\n");
    fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
            "stroke=\"#999\"/>\n", LEFT, TOP, PLOT_W, PLOT_H);
    long nt = (long)(t->max / t->step + 0.5);
    for (long i = 0; i <= nt; i++) {
        double x = LEFT + (double)i / (double)nt * PLOT_W;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n",
                x, TOP, x, TOP + PLOT_H);
        fprintf(out, "<text class=\"xtick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f"
                "</text>\n", x, TOP + PLOT_H + 16, t->decimals, (double)i * t->step);
    }
    long nm = (long)(m->max / m->step + 0.5);
    for (long i = 0; i <= nm; i++) {
        double y = TOP + PLOT_H - (double)i / (double)nm * PLOT_H;
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>\n",
                LEFT, y, LEFT + PLOT_W, y);
        fprintf(out, "<text class=\"ytick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.*f"
                "</text>\n", LEFT - 6, y + 4, m->decimals, (double)i * m->step);
    }
    fprintf(out, "<text id=\"xlabel\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (%s)"
            "</text>\n", LEFT + PLOT_W / 2, TOP + PLOT_H + 36, t->unit_name);
    fprintf(out, "<text id=\"ylabel\" transform=\"translate(%d,%d) rotate(-90)\" "
            "text-anchor=\"middle\">memory (%s)</text>\n", 24, TOP + PLOT_H / 2, m->unit_name);
    fputs("</g>\n", out);
}

/* ---- lines ---------------------------------------------------------------------------- */

/* A polyline's points in pixels, rounded to a hundredth. A point on the
 * pixel of the one before is dropped; with `steps`, so is the middle of
 * three on one horizontal: a long run where the heap holds still is two
 * points. (The RSS keeps a point per sample drawn.) */
typedef struct points {
    FILE *out;
    const axis *t, *m;
    long px, py;               /* pending: the last point given */
    long ey;                   /* the last point written */
    bool pending;
    bool steps;                /* drop the middle of a horizontal */
    size_t n;                  /* written */
} points;

static void point_flush(points *ps) {
    if (!ps->pending)
        return;
    fprintf(ps->out, "%s%ld.%02ld,%ld.%02ld", ps->n ? " " : "", ps->px / 100, ps->px % 100,
            ps->py / 100, ps->py % 100);
    ps->ey = ps->py;
    ps->n++;
    ps->pending = false;
}

static void point(points *ps, uint64_t t, uint64_t v) {
    long x = (long)(x_of(ps->t, t) * 100 + 0.5), y = (long)(y_of(ps->m, v) * 100 + 0.5);
    if (ps->pending) {
        if (x == ps->px && y == ps->py)
            return;
        if (!(ps->steps && ps->n && y == ps->py && ps->ey == y))
            point_flush(ps);
    }
    ps->px = x;
    ps->py = y;
    ps->pending = true;
}

/* A column's values in the order they came: first, lowest and highest (in
 * the middle of the column's span, in their own order, each unless it is
 * the first or the last value), last. */
static void column_points(points *ps, const column *c) {
    point(ps, c->t_first, c->first);
    uint64_t mid = c->t_first + (c->t_last - c->t_first) / 2;
    uint64_t seq[2] = {c->min_seq, c->max_seq}, v[2] = {c->min, c->max};
    int order = c->min_seq <= c->max_seq ? 0 : 1;
    for (int k = 0; k < 2; k++) {
        int i = k ^ order;
        if (seq[i] != c->first_seq && seq[i] != c->last_seq)
            point(ps, mid, v[i]);
    }
    point(ps, c->t_last, c->last);
}

static void draw_heap(FILE *out, const plot *p, const axis *t, const axis *m, uint64_t end) {
    fprintf(out, "<polyline id=\"heap\" fill=\"none\" stroke=\"" HEAP_COLOR "\" "
            "stroke-width=\"1.5\" points=\"");
    points ps = {.out = out, .t = t, .m = m, .steps = true};
    uint64_t value = 0;    /* nothing is live before the run */
    point(&ps, 0, 0);
    for (size_t i = 0; i < COLUMNS; i++) {
        const column *c = &p->heap[i];
        if (!c->n)
            continue;
        point(&ps, c->t_first, value);   /* held until the change */
        column_points(&ps, c);
        value = c->last;
    }
    point(&ps, end, value);
    point_flush(&ps);
    fputs("\"/>\n", out);
}

/* The RSS line; the points it has. */
static size_t draw_rss(FILE *out, const plot *p, const axis *t, const axis *m) {
    fprintf(out, "<polyline id=\"rss\" fill=\"none\" stroke=\"" RSS_COLOR "\" "
            "stroke-width=\"1.5\" points=\"");
    points ps = {.out = out, .t = t, .m = m};
    for (size_t i = 0; i < COLUMNS; i++)
        if (p->rss[i].n)
            column_points(&ps, &p->rss[i]);
    point_flush(&ps);
    fputs("\"/>\n", out);
    return ps.n;
}

/* The collections: a mark above the time axis per column that has some,
 * taller and darker for an older generation, each with its figures as a
 * tooltip; a full collection (generation 2) also as a faint line across
 * the plot. */
static const char *const gc_colors[3] = {"#9a9a9a", "#e08a00", "#6a3d9a"};

static void draw_collections(FILE *out, const plot *p, const axis *t, uint64_t total) {
    fprintf(out, "<g id=\"collections\" data-count=\"%" PRIu64 "\">\n", total);
    for (size_t i = 0; i < COLUMNS; i++) {
        const gc_column *g = &p->gc[i];
        if (!g->count)
            continue;
        double x = x_of(t, g->t_first + (g->t_last - g->t_first) / 2);
        int h = 6 + 5 * g->generation;
        char a[32], b[32], c[32];
        if (g->generation == 2)
            fprintf(out, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"%s\" "
                    "stroke-opacity=\"0.25\" stroke-dasharray=\"3,3\"/>\n", x, TOP, x,
                    TOP + PLOT_H, gc_colors[2]);
        fprintf(out, "<line class=\"gc gen%d\" data-count=\"%" PRIu64 "\" x1=\"%.2f\" "
                "y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\">"
                "<title>%s %s up to generation %d at %s: %s objects freed, longest %s</title>"
                "</line>\n", g->generation, g->count, x, TOP + PLOT_H, x, TOP + PLOT_H - h,
                gc_colors[g->generation], rcr_fmt_count(a, g->count),
                g->count == 1 ? "collection" : "collections", g->generation,
                rcr_fmt_seconds(b, g->t_last), rcr_fmt_count(c, g->collected),
                rcr_fmt_seconds(a, g->longest_ns));
    }
    fputs("</g>\n", out);
}

/* ---- the image ---------------------------------------------------------------------- */

void rcr_plot_draw(const rcr_plot_data *p, rcr_replay *r, const rcr_sites *sites, size_t top,
                   bool complete, FILE *out) {
    const rcr_totals *tot = &r->totals;
    bool sampled = r->header.sample_bytes != 0;
    axis t = time_axis(tot->duration_ns);
    uint64_t mmax = tot->peak_bytes > p->rss_max ? tot->peak_bytes : p->rss_max;
    axis m = memory_axis(mmax);

    size_t nsites = 0;
    while (nsites < sites->n && nsites < top && sites->v[nsites].fig.peak_bytes)
        nsites++;
    uint64_t collections = tot->collections[0] + tot->collections[1] + tot->collections[2];
    int legend_top = TOP + PLOT_H + BOTTOM;
    int height = legend_top + LINE_H * (int)(3 + (nsites ? nsites + 1 : 1) + (collections > 0)) +
                 10;

    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">\n",
            IMAGE_W, height, IMAGE_W, height);
    fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");

    /* the title: the program, how it ended, what kind of figures */
    const char *program = r->command_line[0] ? r->command_line : r->program;
    fputs("<title>", out);
    rcr_put_xml(out, "recycle plot: ");
    rcr_put_xml(out, program);
    fputs("</title>\n", out);
    fprintf(out, "<text id=\"title\" x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">",
            LEFT);
    rcr_put_xml(out, program);
    fprintf(out, " (pid %" PRIu64 ")</text>\n", r->header.pid);
    fprintf(out, "<text id=\"subtitle\" x=\"%d\" y=\"42\" font-size=\"12\">", LEFT);
    rcr_put_end_xml(out, r);
    if (sampled) {
        char b[32];
        fprintf(out, "; estimated from a sample (one allocation per %s)",
                rcr_fmt_bytes(b, r->header.sample_bytes));
    }
    if (!complete)
        fputs("; the capture is cut short", out);
    fputs("</text>\n", out);

    draw_axes(out, &t, &m);
    size_t rss_points = draw_rss(out, p, &t, &m);
    draw_heap(out, p, &t, &m, tot->duration_ns);
    if (collections)
        draw_collections(out, p, &t, collections);

    /* the peak */
    if (tot->peak_bytes) {
        char b[64], s[32];
        double x = x_of(&t, tot->peak_time_ns), y = y_of(&m, tot->peak_bytes);
        fprintf(out, "<circle id=\"peak\" cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"" HEAP_COLOR
                "\" stroke=\"black\"/>\n", x, y);
        bool right = x > LEFT + PLOT_W / 2;
        fprintf(out, "<text id=\"peak-label\" x=\"%.2f\" y=\"%.2f\" font-size=\"12\" "
                "text-anchor=\"%s\">peak %s at %s%s</text>\n", right ? x - 8 : x + 8,
                y < TOP + 16 ? y + 16 : y - 8, right ? "end" : "start",
                rcr_fmt_bytes_exact(b, tot->peak_bytes), rcr_fmt_seconds(s, tot->peak_time_ns),
                sampled ? " (estimated)" : "");
    }

    /* the legend */
    int y = legend_top;
    fprintf(out, "<g id=\"legend\" font-size=\"12\">\n");
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" HEAP_COLOR "\" "
            "stroke-width=\"3\"/><text x=\"%d\" y=\"%d\">heap in use%s</text>\n",
            LEFT, y - 4, LEFT + 24, y - 4, LEFT + 30, y, sampled ? " (estimated)" : "");
    y += LINE_H;
    fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"" RSS_COLOR "\" "
            "stroke-width=\"3\"/><text id=\"rss-legend\" x=\"%d\" y=\"%d\">", LEFT, y - 4,
            LEFT + 24, y - 4, LEFT + 30, y);
    if (p->rss_samples) {
        char b[64];
        fprintf(out, "RSS (%" PRIu64 " %s, %zu points; peak %s)", p->rss_samples,
                p->rss_samples == 1 ? "sample" : "samples", rss_points,
                rcr_fmt_bytes_exact(b, p->rss_max));
    } else {
        fputs("RSS: no RSS samples", out);
    }
    fputs("</text>\n", out);
    if (collections) {
        char a[32], b[32], c[32], d[32], e[32], f[32];
        y += LINE_H;
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
                "stroke-width=\"3\"/><text id=\"gc-legend\" x=\"%d\" y=\"%d\">%s cycle-collector "
                "%s (generation 0: %s, 1: %s, 2: %s): %s objects freed, longest %s</text>\n",
                LEFT + 11, y, LEFT + 11, y - 10, gc_colors[2], LEFT + 30, y,
                rcr_fmt_count(a, collections), collections == 1 ? "collection" : "collections",
                rcr_fmt_count(b, tot->collections[0]), rcr_fmt_count(c, tot->collections[1]),
                rcr_fmt_count(d, tot->collections[2]), rcr_fmt_count(e, tot->gc_collected),
                rcr_fmt_seconds(f, tot->gc_longest_ns));
    }
    y += LINE_H + 6;
    if (top == 0) {
        /* no legend of sites asked for */
    } else if (!nsites) {
        fprintf(out, "<text id=\"no-sites\" x=\"%d\" y=\"%d\">nothing was live at a peak"
                "</text>\n", LEFT, y);
    } else {
        fprintf(out, "<text id=\"sites-title\" x=\"%d\" y=\"%d\" font-weight=\"bold\">"
                "top %zu allocation %s at the peak%s</text>\n", LEFT, y, nsites,
                nsites == 1 ? "site" : "sites", sampled ? " (estimated)" : "");
        fprintf(out, "<g id=\"sites\">\n");
        for (size_t i = 0; i < nsites; i++) {
            const rcr_site *s = &sites->v[i];
            char b[64];
            y += LINE_H;
            fprintf(out, "<text class=\"site\" x=\"%d\" y=\"%d\"><tspan class=\"bytes\">%s"
                    "</tspan>  <tspan class=\"where\">", LEFT + 10, y,
                    rcr_fmt_bytes_exact(b, s->fig.peak_bytes));
            rcr_put_frame_xml(out, &s->frame, s->node);
            fputs("</tspan></text>\n", out);
        }
        fputs("</g>\n", out);
    }
    fputs("</g>\n</svg>\n", out);
}

/* ---- the whole ---------------------------------------------------------------------------- */

rcr_plot_data *rcr_plot_new(rcr_replay *replay) {
    plot *p = calloc(1, sizeof *p);
    if (p) {
        p->replay = replay;
        p->width = FIRST_WIDTH_NS;
    }
    return p;
}

void rcr_plot_free(rcr_plot_data *p) {
    free(p);
}

int rcr_plot(const char *path, const rcr_plot_options *options, const char *out_path,
             FILE *err) {
    rcr_replay replay;
    plot *p = rcr_plot_new(&replay);
    if (!p) {
        fprintf(err, MSG "out of memory\n");
        return 1;
    }
    bool complete;
    rcr_load_options lo = {
        .prefix = MSG,
        .progress = options->progress,
        .on_event = rcr_plot_on_event,
        .arg = p,
    };
    if (rcr_load(path, &lo, &replay, &complete, err) != 0) {
        rcr_plot_free(p);
        return 1;
    }
    int status = 1;
    rcr_sites sites;
    if (!rcr_sites_build(&replay, RCR_BY_LINE, &sites)) {
        fprintf(err, MSG "out of memory\n");
    } else {
        rcr_sites_sort(&sites, RCR_METRIC_PEAK);
        rcr_output out;
        if (rcr_output_open(&out, out_path, MSG, err)) {
            rcr_plot_draw(p, &replay, &sites, options->top, complete, out.f);
            status = rcr_output_close(&out, true, MSG, err);
        }
        rcr_sites_free(&sites);
    }
    rcr_replay_free(&replay);
    rcr_plot_free(p);
    return status;
}
