/* format.c - numbers, sizes and strings as the renderers write them
 * (format.h). */
#include "report/format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

const char *rcr_fmt_count(char buf[32], uint64_t n) {
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%" PRIu64, n);
    char *p = buf;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            *p++ = ',';
        *p++ = digits[i];
    }
    *p = '\0';
    return buf;
}

const char *rcr_fmt_bytes(char buf[32], uint64_t n) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024) {
        snprintf(buf, 32, "%" PRIu64 " B", n);
        return buf;
    }
    double v = (double)n / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, 32, "%.1f %s", v, units[u]);
    return buf;
}

size_t rcr_utf8_len(const unsigned char *s, uint32_t *code) {
    unsigned char c = s[0];
    if (c < 0x80) {
        *code = c;
        return 1;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *code = cp;
    return n;
}

void rcr_json_string(FILE *out, const char *s) {
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
            p++;
        } else if (c == '\n') {
            fputs("\\n", out);
            p++;
        } else if (c == '\t') {
            fputs("\\t", out);
            p++;
        } else if (c < 0x20 || c == 0x7F) {
            fprintf(out, "\\u%04x", c);
            p++;
        } else {
            uint32_t code;
            size_t n = rcr_utf8_len(p, &code);
            if (n == 0) {
                fputs("\\ufffd", out);
                p++;
            } else {
                fwrite(p, 1, n, out);
                p += n;
            }
        }
    }
    fputc('"', out);
}

/* ---- text: times, plurals, the run and its totals ----------------------------------- */

const char *rcr_fmt_bytes_exact(char buf[64], uint64_t n) {
    char a[32], b[32];
    if (n < 1024)
        return rcr_fmt_bytes(buf, n);
    snprintf(buf, 64, "%s (%s B)", rcr_fmt_bytes(a, n), rcr_fmt_count(b, n));
    return buf;
}

const char *rcr_fmt_seconds(char buf[32], uint64_t ns) {
    if (ns < 1000000000u)
        snprintf(buf, 32, "%" PRIu64 ".%03" PRIu64 " ms", ns / 1000000u, ns % 1000000u / 1000u);
    else
        snprintf(buf, 32, "%" PRIu64 ".%03" PRIu64 " s", ns / 1000000000u,
                 ns % 1000000000u / 1000000u);
    return buf;
}

const char *rcr_plural(uint64_t n, const char *word) {
    static const char *const plurals[][2] = {
        {"block", "blocks"}, {"allocation", "allocations"}, {"site", "sites"},
        {"thread", "threads"}, {"interval", "intervals"},
    };
    for (size_t i = 0; i < sizeof plurals / sizeof plurals[0]; i++)
        if (strcmp(plurals[i][0], word) == 0)
            return plurals[i][n != 1];
    return word;
}

bool rcr_ended_by_itself(const rcr_replay *r) {
    return r->end == RCCAP_END_RETURNED || r->end == RCCAP_END_EXIT_NOW;
}

const char *rcr_end_text(char buf[RCR_END_TEXT], const rcr_replay *r, bool with_time) {
    char t[32];
    rcr_fmt_seconds(t, r->totals.duration_ns);
    const char *after = with_time ? " after " : "";
    if (!with_time)
        t[0] = 0;
    switch (r->end) {
    case RCCAP_END_RETURNED:
        snprintf(buf, RCR_END_TEXT, "exited with status %d%s%s", r->exit_status, after, t);
        break;
    case RCCAP_END_EXIT_NOW:
        snprintf(buf, RCR_END_TEXT, "exited with status %d (_exit)%s%s", r->exit_status, after, t);
        break;
    case RCCAP_END_SIGNAL: {
        const char *name = strsignal(r->exit_signal);
        snprintf(buf, RCR_END_TEXT, "killed by signal %d (%.60s)%s%s", r->exit_signal,
                 name ? name : "unknown signal", after, t);
        break;
    }
    case RCCAP_END_EXEC:
        snprintf(buf, RCR_END_TEXT, "replaced itself by another program (exec)%s%s", after, t);
        break;
    case RCCAP_END_UNKNOWN:
    default:
        if (with_time)
            snprintf(buf, RCR_END_TEXT,
                     "unknown: the capture has no exit record (the last record is at %s)", t);
        else
            snprintf(buf, RCR_END_TEXT, "unknown: the capture has no exit record");
        break;
    }
    return buf;
}

void rcr_text_run_totals(FILE *out, const rcr_replay *r) {
    const rcr_totals *t = &r->totals;
    char a[64], b[32], c[32], d[32];

    fprintf(out, "program          %s", r->command_line[0] ? r->command_line : r->program);
    fprintf(out, " (pid %" PRIu64 ")\n", r->header.pid);
    char e[RCR_END_TEXT];
    fprintf(out, "ended            %s\n", rcr_end_text(e, r, true));
    if (r->header.sample_bytes)
        fprintf(out, "sampled          one allocation per %s allocated on average: the "
                "figures are estimates\n", rcr_fmt_bytes(a, r->header.sample_bytes));
    fputc('\n', out);

    fprintf(out, "allocations      %s (%s freed)\n", rcr_fmt_count(a, t->allocations),
            rcr_fmt_count(b, t->frees));
    fprintf(out, "bytes allocated  %s\n", rcr_fmt_bytes_exact(a, t->bytes_allocated));
    fprintf(out, "peak heap        %s in %s %s at %s\n", rcr_fmt_bytes_exact(a, t->peak_bytes),
            rcr_fmt_count(b, t->peak_allocations), rcr_plural(t->peak_allocations, "block"),
            rcr_fmt_seconds(c, t->peak_time_ns));
    bool exited = rcr_ended_by_itself(r);
    fprintf(out, "%s   %s in %s %s", exited ? "leaked at exit" : "live at end   ",
            rcr_fmt_bytes_exact(a, t->leaked_bytes), rcr_fmt_count(b, t->leaked_allocations),
            rcr_plural(t->leaked_allocations, "block"));
    if (r->have_leaks)
        fprintf(out, ": %s definitely lost, %s still reachable", rcr_fmt_bytes(c, t->lost_bytes),
                rcr_fmt_bytes(d, t->reachable_bytes));
    fputc('\n', out);
    fprintf(out, "temporary        %s %s", rcr_fmt_count(a, t->temporary),
            rcr_plural(t->temporary, "allocation"));
    if (t->allocations)
        fprintf(out, " (%.1f%%)", 100.0 * (double)t->temporary / (double)t->allocations);
    fputc('\n', out);
    if (t->peak_rss)
        fprintf(out, "peak RSS         %s\n", rcr_fmt_bytes_exact(a, t->peak_rss));
    uint64_t gc = t->collections[0] + t->collections[1] + t->collections[2];
    if (gc) {
        fprintf(out, "collections      %s (generation 0: %s, ", rcr_fmt_count(a, gc),
                rcr_fmt_count(b, t->collections[0]));
        fprintf(out, "1: %s, ", rcr_fmt_count(b, t->collections[1]));
        fprintf(out, "2: %s): %s objects freed, longest %s\n", rcr_fmt_count(b, t->collections[2]),
                rcr_fmt_count(c, t->gc_collected), rcr_fmt_seconds(d, t->gc_longest_ns));
    }
}

/* ---- JSON: seconds, the run and its totals ------------------------------------------ */

void rcr_json_seconds(FILE *out, uint64_t ns) {
    fprintf(out, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static void put_u64(FILE *out, const char *key, uint64_t v, bool comma) {
    fprintf(out, "\"%s\": %" PRIu64 "%s", key, v, comma ? ", " : "");
}

static const char *end_name(rccap_end end) {
    switch (end) {
    case RCCAP_END_RETURNED: return "exit";
    case RCCAP_END_EXIT_NOW: return "_exit";
    case RCCAP_END_SIGNAL: return "signal";
    case RCCAP_END_EXEC: return "exec";
    case RCCAP_END_UNKNOWN: break;
    }
    return "unknown";
}

void rcr_json_run(FILE *out, const rcr_replay *r, bool complete) {
    fputs("  \"program\": ", out);
    rcr_json_string(out, r->program);
    fputs(",\n  \"command_line\": ", out);
    rcr_json_string(out, r->command_line);
    fprintf(out, ",\n  \"pid\": %" PRIu64 ",\n", r->header.pid);
    if (r->end == RCCAP_END_SIGNAL)
        fprintf(out, "  \"signal\": %d,\n", (int)r->exit_signal);
    else if (rcr_ended_by_itself(r))
        fprintf(out, "  \"exit_status\": %d,\n", (int)r->exit_status);
    else
        fputs("  \"exit_status\": null,\n", out);
    fprintf(out, "  \"end\": \"%s\",\n  \"duration_s\": ", end_name(r->end));
    rcr_json_seconds(out, r->totals.duration_ns);
    fprintf(out, ",\n  \"complete\": %s,\n", complete ? "true" : "false");
    fprintf(out, "  \"sampled\": %s,\n", r->header.sample_bytes ? "true" : "false");
    fprintf(out, "  \"sample_bytes\": %" PRIu64 ",\n", r->header.sample_bytes);
}

void rcr_json_totals(FILE *out, const rcr_replay *r) {
    const rcr_totals *t = &r->totals;
    fputs("  \"totals\": {", out);
    put_u64(out, "allocations", t->allocations, true);
    put_u64(out, "frees", t->frees, true);
    put_u64(out, "bytes_allocated", t->bytes_allocated, true);
    put_u64(out, "peak_bytes", t->peak_bytes, true);
    put_u64(out, "peak_allocations", t->peak_allocations, true);
    fputs("\"peak_time_s\": ", out);
    rcr_json_seconds(out, t->peak_time_ns);
    fputs(", ", out);
    put_u64(out, "leaked_bytes", t->leaked_bytes, true);
    put_u64(out, "leaked_allocations", t->leaked_allocations, true);
    if (r->have_leaks) {
        put_u64(out, "definitely_lost_bytes", t->lost_bytes, true);
        put_u64(out, "definitely_lost_allocations", t->lost_allocations, true);
        put_u64(out, "still_reachable_bytes", t->reachable_bytes, true);
        put_u64(out, "still_reachable_allocations", t->reachable_allocations, true);
    } else {
        fputs("\"definitely_lost_bytes\": null, \"definitely_lost_allocations\": null, "
              "\"still_reachable_bytes\": null, \"still_reachable_allocations\": null, ",
              out);
    }
    put_u64(out, "temporary_allocations", t->temporary, true);
    put_u64(out, "peak_rss_bytes", t->peak_rss, false);
    fputc('}', out);
}
