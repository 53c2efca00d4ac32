/* json.c - the report for programs (`recycle report --json`).
 *
 * The keys DESIGN.md fixes, and a few more (marked +):
 *
 *   program, command_line+, pid+, exit_status | signal, end+ ("exit",
 *   "_exit", "signal", "exec", "unknown"), duration_s+, complete+,
 *   sampled, sample_bytes+, by+,
 *   totals: allocations, frees, bytes_allocated, peak_bytes,
 *           peak_allocations+, peak_time_s, leaked_bytes,
 *           leaked_allocations, definitely_lost_bytes+,
 *           definitely_lost_allocations+, still_reachable_bytes+,
 *           still_reachable_allocations+, temporary_allocations,
 *           peak_rss_bytes+
 *   sites: [{function, file, line, module+, offset+, bytes, allocations,
 *            leaked_bytes, leaked_allocations, definitely_lost_bytes+,
 *            still_reachable_bytes+, peak_bytes, peak_allocations+,
 *            temporary_allocations+, stack: [{function, file, line,
 *            module, offset}]}]
 *
 * Sizes are bytes, times seconds with nanosecond digits. A field that is
 * not known is null: function and file without symbols, the lost and
 * reachable split of a program that did not reach its exit, exit_status of
 * a program whose end was not recorded. Strings are valid UTF-8: bytes of a
 * path that are not are replaced by U+FFFD. */
#include "report/sites.h"

#include "report/format.h"

#include <inttypes.h>
#include <string.h>

static void put_u64(FILE *out, const char *key, uint64_t v, bool comma) {
    fprintf(out, "\"%s\": %" PRIu64 "%s", key, v, comma ? ", " : "");
}

static void put_frame_fields(FILE *out, const rcr_frame *f) {
    fputs("\"function\": ", out);
    rcr_json_string(out, f->function);
    fputs(", \"file\": ", out);
    rcr_json_string(out, f->file);
    fputs(", \"line\": ", out);
    if (f->line)
        fprintf(out, "%d", f->line);
    else
        fputs("null", out);
    fputs(", \"module\": ", out);
    rcr_json_string(out, f->module);
    fprintf(out, ", \"offset\": %" PRIu64, f->offset);
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

static void put_site(FILE *out, rcr_replay *r, const rcr_site *s, rcr_by by) {
    const rcr_figures *f = &s->fig;
    /* A group by function or file has no one line (or function). */
    rcr_frame shown = s->frame;
    if (by == RCR_BY_FUNCTION || by == RCR_BY_FILE)
        shown.line = 0;
    if (by == RCR_BY_FILE)
        shown.function = NULL;
    fputs("    {", out);
    put_frame_fields(out, &shown);
    fputs(", ", out);
    put_u64(out, "bytes", f->bytes, true);
    put_u64(out, "allocations", f->allocations, true);
    put_u64(out, "leaked_bytes", f->live_bytes, true);
    put_u64(out, "leaked_allocations", f->live_allocations, true);
    if (r->have_leaks) {
        put_u64(out, "definitely_lost_bytes", f->lost_bytes, true);
        put_u64(out, "still_reachable_bytes", f->reachable_bytes, true);
    } else {
        fputs("\"definitely_lost_bytes\": null, \"still_reachable_bytes\": null, ", out);
    }
    put_u64(out, "peak_bytes", f->peak_bytes, true);
    put_u64(out, "peak_allocations", f->peak_allocations, true);
    put_u64(out, "temporary_allocations", f->temporary, true);
    fputs("\"stack\": [", out);
    for (uint32_t n = s->node; n != 0; n = r->nodes[n].parent) {
        rcr_frame fr;
        rcr_frame_of(r, n, &fr);
        fputs(n == s->node ? "{" : ", {", out);
        put_frame_fields(out, &fr);
        fputc('}', out);
    }
    fputs("]}", out);
}

void rcr_render_json(const rcr_render *rd, FILE *out) {
    rcr_replay *r = rd->replay;
    const rcr_options *o = rd->options;

    fputs("{\n", out);
    rcr_json_run(out, r, rd->complete);
    fprintf(out, "  \"by\": \"%s\",\n", by_name(o->by));
    rcr_json_totals(out, r);
    fputs(",\n", out);

    /* Sorted by bytes; a view sorts by its own figure and keeps the sites
     * that have some of it. */
    rcr_metric metric = RCR_METRIC_BYTES;
    if (o->views & RCR_VIEW_LEAKS)
        metric = RCR_METRIC_LEAKED;
    else if (o->views & RCR_VIEW_PEAK)
        metric = RCR_METRIC_PEAK;
    else if (o->views & RCR_VIEW_TEMPORARY)
        metric = RCR_METRIC_TEMPORARY;
    rcr_sites_sort(rd->sites, metric);
    fputs("  \"sites\": [", out);
    size_t shown = 0;
    for (size_t i = 0; i < rd->sites->n; i++) {
        const rcr_site *s = &rd->sites->v[i];
        if (o->top_given && o->top && shown == o->top)
            break;
        if (o->views) {
            bool some = ((o->views & RCR_VIEW_LEAKS) && s->fig.live_bytes) ||
                        ((o->views & RCR_VIEW_PEAK) && s->fig.peak_bytes) ||
                        ((o->views & RCR_VIEW_TEMPORARY) && s->fig.temporary);
            if (!some)
                continue;
        }
        fputs(shown ? ",\n" : "\n", out);
        put_site(out, r, s, o->by);
        shown++;
    }
    fputs(shown ? "\n  ]\n}\n" : "]\n}\n", out);
}
