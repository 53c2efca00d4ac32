/* markup.c - text of a capture in XML and HTML (markup.h). */
#define _GNU_SOURCE
#include "report/markup.h"

#include "report/format.h"

#include <inttypes.h>
#include <string.h>

/* Length of the UTF-8 sequence at s, or 0 when it is not valid or not a
 * character XML allows (U+FFFE, U+FFFF). */
static size_t utf8_len(const unsigned char *s) {
    uint32_t cp;
    size_t n = rcr_utf8_len(s, &cp);
    return n && cp != 0xFFFE && cp != 0xFFFF ? n : 0;
}

/* s as XML character data or an attribute's value: the five special
 * characters as entities; bytes that are not valid UTF-8, and control
 * characters XML 1.0 does not allow, as U+FFFD; tabs and newlines as
 * spaces (a label is one line). */
void rcr_put_xml(FILE *out, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        switch (*p) {
        case '&': fputs("&amp;", out); p++; continue;
        case '<': fputs("&lt;", out); p++; continue;
        case '>': fputs("&gt;", out); p++; continue;
        case '"': fputs("&quot;", out); p++; continue;
        case '\'': fputs("&apos;", out); p++; continue;
        case '\t':
        case '\n':
        case '\r': fputc(' ', out); p++; continue;
        default: break;
        }
        size_t n = *p < 0x20 ? 0 : utf8_len(p);
        if (n == 0) {
            fputs("\xEF\xBF\xBD", out);
            p++;
        } else {
            fwrite(p, 1, n, out);
            p += n;
        }
    }
}

static const char *basename_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* A site as the report's tables name it: function (file:line), or the
 * module and offset when the pc has no source. */
void rcr_put_frame_xml(FILE *out, const rcr_frame *f, uint32_t node) {
    if (node == 0) {
        rcr_put_xml(out, "[no stack recorded]");
        return;
    }
    if (f->function)
        rcr_put_xml(out, f->function);
    if (f->file) {
        rcr_put_xml(out, f->function ? " (" : "");
        rcr_put_xml(out, f->file);
        if (f->line)
            fprintf(out, ":%d", f->line);
        if (f->function)
            fputc(')', out);
        return;
    }
    if (f->module) {
        rcr_put_xml(out, f->function ? " (" : "");
        rcr_put_xml(out, basename_of(f->module));
        fprintf(out, "+0x%" PRIx64 "%s", f->offset, f->function ? ")" : "");
        return;
    }
    fprintf(out, f->function ? " (0x%" PRIx64 ")" : "0x%" PRIx64 " (in no module)", f->offset);
}

void rcr_put_end_xml(FILE *out, const rcr_replay *r) {
    char e[RCR_END_TEXT];
    rcr_put_xml(out, rcr_end_text(e, r, true));
}
