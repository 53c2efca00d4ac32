/* flame.c - rcr_flamegraph: the call tree of a capture's allocations
 * folded into boxes and written as a page (flame.h).
 *
 * The tree without a walk per allocation. The capture's stacks are a trie
 * already (replay.h: each node a pc under its parent), so the box a stack
 * node ends in depends on that node alone: end[n] is the box reached from
 * end[parent(n)] through the frames of n's pc (the function containing it,
 * then the functions inlined into it, outermost first). Each node is
 * expanded once, parents first, and each stack id's figures are added to
 * the box of its site's end; the boxes' weights are then summed into their parents, from
 * the last box made to the first (a box is made after its parent), so the
 * whole tree costs O(stack nodes + boxes).
 *
 * Invariants of the tree written out:
 *   - boxes in preorder: a box's parent comes before it, the root first;
 *   - a box weighs its own allocations plus its children's, so the root
 *     weighs the kind's total and the children of a box weigh no more
 *     than it;
 *   - every box but the root weighs at least a thousandth of the root
 *     (lighter ones were folded into their parent: their bytes stay in
 *     the parent's weight).
 *
 * Escaping. The data is JSON inside a <script> element, where the only
 * sequence that could end it early is "</script" (and "<!--" could change
 * how it is parsed): every '<', '>' and '&' the JSON holds is written as a
 * \u escape, which can only be inside a string there, so the text JSON.parse
 * reads is the same. Invalid UTF-8 in a name becomes U+FFFD
 * (rcr_json_string). Nothing else of the capture goes into the HTML: the
 * title is set by the script from the data. */
#define _GNU_SOURCE
#include "report/flame.h"

#include "report/assets.h"
#include "report/format.h"
#include "report/keys.h"
#include "report/load.h"
#include "report/output.h"
#include "report/sites.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MSG "recycle flamegraph: "
/* Boxes lighter than total / FOLD are folded into their parent. */
#define FOLD 1000u
/* Frames a pc may stand for (inlined functions) kept at most. */
#define MAX_INLINE 64
#define NONE UINT32_MAX

/* One distinct frame: a function at a line, or a module and offset. */
typedef struct flame_frame {
    const char *name;          /* the function, or "module+0x..." (owned) */
    const char *file;          /* NULL if unknown */
    const char *module;        /* NULL if unknown */
    int line;
    bool owned;                /* name is ours to free */
    uint32_t out;              /* its index in the page, NONE if unused */
} flame_frame;

typedef struct flame_box {
    uint64_t value, count;     /* own allocations, then with the children's */
    uint32_t frame;            /* NONE: the root */
    uint32_t parent;           /* NONE: the root */
    uint32_t first_child, next_sibling;
} flame_box;

typedef struct flame {
    rcr_replay *r;
    rcr_flame_kind kind;
    bool complete;             /* false: the capture ends early */
    flame_frame *frames;
    size_t nframes, cap_frames;
    rcr_keys frame_of;         /* frame key -> index in frames */
    flame_box *boxes;
    size_t nboxes, cap_boxes;
    rci_htable child_of;       /* (parent box << 32 | frame) + 1 -> box */
    uint32_t *end;             /* stack node -> its box, NONE not yet */
    /* the frames of one pc, reused */
    uint32_t pc_frames[MAX_INLINE];
} flame;

const char *rcr_flame_kind_name(rcr_flame_kind kind) {
    switch (kind) {
    case RCR_FLAME_PEAK: return "peak";
    case RCR_FLAME_LEAKED: return "leaked";
    case RCR_FLAME_ALLOCATED: break;
    }
    return "allocated";
}

static bool grow(void **v, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size)
            return false;
        n *= 2;
    }
    void *p = realloc(*v, n * size);
    if (!p)
        return false;
    *v = p;
    *cap = n;
    return true;
}

/* ---- frames ------------------------------------------------------------------------ */

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The index of the frame (name, file, line, module), added when new; NONE
 * on out of memory. When owned, name is the table's to free (also on
 * failure or when the frame existed). */
static uint32_t frame_add(flame *fl, const char *name, const char *file, int line,
                          const char *module, bool owned) {
    char *key = NULL;
    uint32_t at = NONE;
    if (asprintf(&key, "%s\x1f%s\x1f%d\x1f%s", name, file ? file : "", line,
                 module ? module : "") < 0) {
        key = NULL;
        goto done;
    }
    bool existed;
    if (!grow((void **)&fl->frames, &fl->cap_frames, fl->nframes + 1, sizeof *fl->frames))
        goto done;
    if (!rcr_keys_find_or_add(&fl->frame_of, key, (uint32_t)fl->nframes, &at, &existed)) {
        at = NONE;
        goto done;
    }
    if (!existed) {
        fl->frames[fl->nframes++] = (flame_frame){
            .name = name, .file = file, .module = module, .line = line, .owned = owned,
            .out = NONE};
        owned = false;
    }
done:
    free(key);
    if (owned)
        free((char *)name);
    return at;
}

/* The frames of stack node id's pc, outermost first, into fl->pc_frames;
 * how many (at least 1), or 0 on out of memory. */
static size_t frames_of_pc(flame *fl, uint32_t id) {
    rcs_frame f[MAX_INLINE];
    size_t n = rcr_frames_of(fl->r, id, f, MAX_INLINE);
    if (n > MAX_INLINE)
        n = MAX_INLINE;    /* the innermost are kept: the last is lost */
    size_t k = 0;
    for (size_t i = n; i-- > 0;) {
        uint32_t at;
        if (f[i].function) {
            at = frame_add(fl, f[i].function, f[i].file, f[i].line, f[i].module, false);
        } else {
            char *name = NULL;
            if (asprintf(&name, "%s+0x%" PRIxPTR, f[i].module ? base_name(f[i].module) : "?",
                         f[i].module_offset) < 0)
                return 0;
            at = frame_add(fl, name, f[i].file, f[i].line, f[i].module, true);
        }
        if (at == NONE)
            return 0;
        fl->pc_frames[k++] = at;
    }
    if (k)
        return k;
    /* Not symbolized: the module and offset, or the bare address. */
    rcr_frame rf;
    rcr_frame_of(fl->r, id, &rf);
    char *name = NULL;
    int len = rf.module ? asprintf(&name, "%s+0x%" PRIx64, base_name(rf.module), rf.offset)
                        : asprintf(&name, "0x%" PRIx64, rf.offset);
    if (len < 0)
        return 0;
    uint32_t at = frame_add(fl, name, NULL, 0, rf.module, true);
    if (at == NONE)
        return 0;
    fl->pc_frames[0] = at;
    return 1;
}

/* ---- the tree -------------------------------------------------------------------------- */

/* The child of box parent for frame, made when new; NONE on out of memory. */
static uint32_t child(flame *fl, uint32_t parent, uint32_t frame) {
    bool existed;
    uintptr_t *slot =
        rci_htable_slot(&fl->child_of, ((uintptr_t)parent << 32 | frame) + 1, &existed);
    if (!slot)
        return NONE;
    if (existed)
        return (uint32_t)*slot;
    if (fl->nboxes >= NONE - 1 ||
        !grow((void **)&fl->boxes, &fl->cap_boxes, fl->nboxes + 1, sizeof *fl->boxes)) {
        uintptr_t unused;
        rci_htable_remove(&fl->child_of, ((uintptr_t)parent << 32 | frame) + 1, &unused);
        return NONE;
    }
    uint32_t b = (uint32_t)fl->nboxes++;
    fl->boxes[b] = (flame_box){.frame = frame, .parent = parent, .first_child = NONE,
                         .next_sibling = fl->boxes[parent].first_child};
    fl->boxes[parent].first_child = b;
    *slot = b;
    return b;
}

/* The box stack node id ends in (expanding its ancestors first, without
 * recursion); NONE on out of memory. */
static uint32_t end_of(flame *fl, uint32_t id, uint32_t **chain, size_t *cap_chain) {
    size_t n = 0;
    for (uint32_t v = id; v != 0 && fl->end[v] == NONE; v = fl->r->nodes[v].parent) {
        if (!grow((void **)chain, cap_chain, n + 1, sizeof **chain))
            return NONE;
        (*chain)[n++] = v;
    }
    while (n-- > 0) {
        uint32_t v = (*chain)[n];
        uint32_t b = fl->end[fl->r->nodes[v].parent];
        size_t k = frames_of_pc(fl, v);
        if (!k)
            return NONE;
        for (size_t i = 0; i < k; i++)
            if ((b = child(fl, b, fl->pc_frames[i])) == NONE)
                return NONE;
        fl->end[v] = b;
    }
    return fl->end[id];
}

static void weigh(const rcr_figures *f, rcr_flame_kind kind, uint64_t *value, uint64_t *count) {
    switch (kind) {
    case RCR_FLAME_PEAK:
        *value = f->peak_bytes;
        *count = f->peak_allocations;
        return;
    case RCR_FLAME_LEAKED:
        *value = f->live_bytes;
        *count = f->live_allocations;
        return;
    case RCR_FLAME_ALLOCATED:
        break;
    }
    *value = f->bytes;
    *count = f->allocations;
}

static bool build(flame *fl) {
    rcr_replay *r = fl->r;
    if (!grow((void **)&fl->boxes, &fl->cap_boxes, 1, sizeof *fl->boxes))
        return false;
    fl->boxes[0] = (flame_box){.frame = NONE, .parent = NONE, .first_child = NONE,
                         .next_sibling = NONE};
    fl->nboxes = 1;
    size_t nn = r->nnodes ? r->nnodes : 1;
    fl->end = malloc(nn * sizeof *fl->end);
    if (!fl->end)
        return false;
    for (size_t i = 0; i < nn; i++)
        fl->end[i] = NONE;
    fl->end[0] = 0;

    uint32_t *chain = NULL;
    size_t cap_chain = 0;
    bool ok = true;
    for (size_t i = 0; i < r->nfigures && ok; i++) {
        uint64_t value, count;
        weigh(&r->figures[i], fl->kind, &value, &count);
        if (!value && !count)
            continue;
        uint32_t site = rcr_replay_site_of(r, r->figures[i].node);
        if (site >= r->nnodes || (site && !r->nodes[site].defined))
            site = 0;
        uint32_t b = end_of(fl, site, &chain, &cap_chain);
        if (b == NONE) {
            ok = false;
            break;
        }
        fl->boxes[b].value += value;
        fl->boxes[b].count += count;
    }
    free(chain);
    if (!ok)
        return false;
    /* children are made after their parent: sum from the last */
    for (size_t b = fl->nboxes; b-- > 1;) {
        fl->boxes[fl->boxes[b].parent].value += fl->boxes[b].value;
        fl->boxes[fl->boxes[b].parent].count += fl->boxes[b].count;
    }
    return true;
}

/* ---- the page --------------------------------------------------------------------------- */

static bool kept(const flame *fl, uint32_t b) {
    /* value / total >= 1 / FOLD, without overflow */
    uint64_t total = fl->boxes[0].value;
    if (!total)
        return false;
    return fl->boxes[b].value >= total / FOLD + (total % FOLD != 0);
}

static int by_weight(const void *a, const void *b, void *arg) {
    const flame *fl = arg;
    const flame_box *x = &fl->boxes[*(const uint32_t *)a], *y = &fl->boxes[*(const uint32_t *)b];
    if (x->value != y->value)
        return x->value > y->value ? -1 : 1;
    int c = strcmp(fl->frames[x->frame].name, fl->frames[y->frame].name);
    if (c)
        return c;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* The boxes kept, in preorder, children heaviest first, into *order; how
 * many, or 0 on out of memory. */
static size_t preorder(flame *fl, uint32_t **order) {
    uint32_t *out = malloc(fl->nboxes * sizeof *out);
    uint32_t *stack = malloc(fl->nboxes * sizeof *stack);
    size_t n = 0, top = 0;
    if (!out || !stack) {
        free(out);
        free(stack);
        return 0;
    }
    stack[top++] = 0;
    while (top) {
        uint32_t b = stack[--top];
        out[n++] = b;
        size_t first = top;
        for (uint32_t c = fl->boxes[b].first_child; c != NONE; c = fl->boxes[c].next_sibling)
            if (kept(fl, c))
                stack[top++] = c;
        /* pushed lightest last: popped heaviest first after the reverse */
        qsort_r(stack + first, top - first, sizeof *stack, by_weight, fl);
        for (size_t i = first, j = top; i + 1 < j; i++, j--) {
            uint32_t t = stack[i];
            stack[i] = stack[j - 1];
            stack[j - 1] = t;
        }
    }
    free(stack);
    *order = out;
    return n;
}

static void json_u64s(FILE *f, const char *key, const uint64_t *v, size_t n, bool comma) {
    fprintf(f, "\"%s\":[", key);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%" PRIu64, i ? "," : "", v[i]);
    fprintf(f, "]%s\n", comma ? "," : "");
}

static void json_i64s(FILE *f, const char *key, const int64_t *v, size_t n, bool comma) {
    fprintf(f, "\"%s\":[", key);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%" PRId64, i ? "," : "", v[i]);
    fprintf(f, "]%s\n", comma ? "," : "");
}

/* How the program ended, in words. */
/* The data block as JSON into f (a memory stream); false on out of memory. */
static bool write_data(flame *fl, FILE *f) {
    const rcr_replay *r = fl->r;
    uint32_t *order = NULL;
    size_t n = preorder(fl, &order);
    if (!n)
        return false;
    bool ok = false;
    uint32_t *index = malloc(fl->nboxes * sizeof *index);
    uint64_t *u = malloc(n * sizeof *u);
    int64_t *s = malloc(n * sizeof *s);
    uint32_t *used = malloc((fl->nframes ? fl->nframes : 1) * sizeof *used);
    rcr_keys strings = {0};
    const char **string_v = NULL;
    size_t nstrings = 0, cap_strings = 0;
    if (!index || !u || !s || !used)
        goto done;
    size_t nused = 0;
    for (size_t i = 0; i < n; i++) {
        index[order[i]] = (uint32_t)i;
        uint32_t fr = fl->boxes[order[i]].frame;
        if (fr != NONE && fl->frames[fr].out == NONE) {
            fl->frames[fr].out = (uint32_t)nused;
            used[nused++] = fr;
        }
    }

    bool exited = rcr_ended_by_itself(r);
    fputs("{\"program\":", f);
    rcr_json_string(f, r->program);
    fputs(",\n\"command_line\":", f);
    rcr_json_string(f, r->command_line[0] ? r->command_line : r->program);
    fprintf(f, ",\n\"pid\":%" PRIu64 ",\n\"ended\":", r->header.pid);
    char ended[RCR_END_TEXT];
    rcr_json_string(f, rcr_end_text(ended, r, false));
    fprintf(f, ",\n\"kind\":\"%s\",\n\"kind_label\":\"%s\",\n", rcr_flame_kind_name(fl->kind),
            fl->kind == RCR_FLAME_PEAK     ? "live at the peak"
            : fl->kind == RCR_FLAME_LEAKED ? (exited ? "leaked at exit" : "live at the end")
                                           : "allocated");
    fprintf(f, "\"total\":%" PRIu64 ",\n\"allocations\":%" PRIu64 ",\n", fl->boxes[0].value,
            fl->boxes[0].count);
    fprintf(f, "\"sampled\":%s,\n\"complete\":%s,\n\"fold\":%u,\n",
            r->header.sample_bytes ? "true" : "false", fl->complete ? "true" : "false", FOLD);

    /* the strings of the frames used, each once */
    int64_t *fidx[3];
    for (size_t k = 0; k < 3; k++)
        if (!(fidx[k] = malloc((nused ? nused : 1) * sizeof *fidx[k]))) {
            for (size_t j = 0; j < k; j++)
                free(fidx[j]);
            goto done;
        }
    bool strings_ok = true;
    for (size_t i = 0; i < nused && strings_ok; i++) {
        const flame_frame *fr = &fl->frames[used[i]];
        const char *str[3] = {fr->name, fr->file, fr->module};
        for (size_t k = 0; k < 3; k++) {
            if (!str[k]) {
                fidx[k][i] = -1;
                continue;
            }
            uint32_t at;
            bool existed;
            if (!grow((void **)&string_v, &cap_strings, nstrings + 1, sizeof *string_v) ||
                !rcr_keys_find_or_add(&strings, str[k], (uint32_t)nstrings, &at, &existed)) {
                strings_ok = false;
                break;
            }
            if (!existed)
                string_v[nstrings++] = str[k];
            fidx[k][i] = at;
        }
    }
    if (strings_ok) {
        fputs("\"strings\":[", f);
        for (size_t i = 0; i < nstrings; i++) {
            if (i)
                fputc(',', f);
            rcr_json_string(f, string_v[i]);
        }
        fputs("],\n\"frames\":{", f);
        json_i64s(f, "name", fidx[0], nused, true);
        json_i64s(f, "file", fidx[1], nused, true);
        for (size_t i = 0; i < nused; i++)
            fidx[1][i] = fl->frames[used[i]].line;
        json_i64s(f, "line", fidx[1], nused, true);
        json_i64s(f, "module", fidx[2], nused, false);
        fputs("},\n\"tree\":{", f);
        for (size_t i = 0; i < n; i++) {
            uint32_t fr = fl->boxes[order[i]].frame;
            s[i] = fr == NONE ? -1 : (int64_t)fl->frames[fr].out;
        }
        json_i64s(f, "frame", s, n, true);
        for (size_t i = 0; i < n; i++) {
            uint32_t p = fl->boxes[order[i]].parent;
            s[i] = p == NONE ? -1 : (int64_t)index[p];
        }
        json_i64s(f, "parent", s, n, true);
        for (size_t i = 0; i < n; i++)
            u[i] = fl->boxes[order[i]].value;
        json_u64s(f, "value", u, n, true);
        for (size_t i = 0; i < n; i++)
            u[i] = fl->boxes[order[i]].count;
        json_u64s(f, "count", u, n, false);
        fputs("}}", f);
        ok = true;
    }
    for (size_t k = 0; k < 3; k++)
        free(fidx[k]);
done:
    free(order);
    free(index);
    free(u);
    free(s);
    free(used);
    free(string_v);
    rcr_keys_free(&strings);
    return ok;
}

/* The data as it goes inside <script>: '<', '>' and '&' as \u escapes. */
void rcr_flame_put_script_json(FILE *out, const char *json, size_t len) {
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = json[i] == '<' ? "\\u003c"
                          : json[i] == '>' ? "\\u003e"
                          : json[i] == '&' ? "\\u0026"
                                           : NULL;
        if (esc) {
            fwrite(json + from, 1, i - from, out);
            fputs(esc, out);
            from = i + 1;
        }
    }
    fwrite(json + from, 1, len - from, out);
}

void rcr_flame_put_script(FILE *out) {
    fwrite(rcr_flame_js, 1, rcr_flame_js_size, out);
}

void rcr_flame_put_style(FILE *out) {
    fwrite(rcr_flame_css, 1, rcr_flame_css_size, out);
}

static void write_page(FILE *out, const char *json, size_t len) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"recycle flamegraph\">\n"
          "<title>recycle flame graph</title>\n<style>\n", out);
    fwrite(rcr_flame_css, 1, rcr_flame_css_size, out);
    fputs("</style>\n</head>\n<body>\n"
          "<header>\n<h1 id=\"title\">recycle flame graph</h1>\n<p id=\"subtitle\"></p>\n"
          "<div id=\"controls\">\n"
          "<input id=\"search\" type=\"search\" placeholder=\"search functions (regular "
          "expression)\" aria-label=\"search\">\n"
          "<span id=\"matched\"></span>\n"
          "<button id=\"reset\" type=\"button\">reset zoom</button>\n"
          "<label><input id=\"icicle\" type=\"checkbox\"> icicle</label>\n"
          "</div>\n</header>\n"
          "<main id=\"chart\"><canvas id=\"canvas\"></canvas>"
          "<div id=\"tip\" hidden></div></main>\n"
          "<footer id=\"details\">Click a box to zoom into it, the root or Escape to zoom out. "
          "Boxes narrower than 0.1% of the total are folded into their parent.</footer>\n"
          "<script type=\"application/json\" id=\"flame-data\">\n", out);
    rcr_flame_put_script_json(out, json, len);
    fputs("\n</script>\n<script>\n", out);
    fwrite(rcr_flame_js, 1, rcr_flame_js_size, out);
    fputs("</script>\n</body>\n</html>\n", out);
}

static void flame_free(flame *fl) {
    for (size_t i = 0; i < fl->nframes; i++)
        if (fl->frames[i].owned)
            free((char *)fl->frames[i].name);
    free(fl->frames);
    rcr_keys_free(&fl->frame_of);
    free(fl->boxes);
    rci_htable_free(&fl->child_of);
    free(fl->end);
}

bool rcr_flame_json(rcr_replay *r, rcr_flame_kind kind, bool complete, char **json,
                    size_t *len) {
    flame fl = {.r = r, .kind = kind, .complete = complete};
    rci_htable_init(&fl.child_of);
    *json = NULL;
    *len = 0;
    FILE *mem = NULL;
    bool ok = build(&fl) && (mem = open_memstream(json, len)) != NULL;
    if (mem) {
        ok = write_data(&fl, mem);
        if (fclose(mem) != 0)
            ok = false;
    }
    flame_free(&fl);
    if (!ok) {
        free(*json);
        *json = NULL;
        *len = 0;
    }
    return ok;
}

int rcr_flamegraph(const char *path, const rcr_flame_options *o, FILE *err) {
    rcr_replay replay;
    bool complete;
    rcr_load_options lo = {.prefix = MSG, .progress = o->progress};
    if (rcr_load(path, &lo, &replay, &complete, err) != 0)
        return 1;
    char *json;
    size_t len;
    int status = 1;
    if (!rcr_flame_json(&replay, o->kind, complete, &json, &len)) {
        fprintf(err, MSG "out of memory\n");
    } else {
        rcr_output out;
        if (rcr_output_open(&out, o->output, MSG, err)) {
            write_page(out.f, json, len);
            status = rcr_output_close(&out, true, MSG, err);
        }
        free(json);
    }
    rcr_replay_free(&replay);
    return status;
}
