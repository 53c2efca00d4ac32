/* export.c - rcr_export (export.h): the stacks of a replay, and the
 * collapsed and speedscope formats written from them (massif is in
 * export_massif.c).
 *
 * The stacks. Each stack id with figures becomes the list of its frames
 * from the outermost to its site. Frames are functions, numbered once each
 * (a name and a file, not a line: a function calling from two lines is one
 * frame), and the frames of a node (a pc: the functions inlined there,
 * outermost first) are worked out once and kept, since many stacks share
 * their outer nodes. Stack ids whose frame lists are equal (they differ
 * only in run-time frames below the site, or in pcs of the same functions)
 * are one stack, found by their list written as text in a string table;
 * their figures are added. Collapsed lines are summed once more by their
 * text: two functions of one name in different files, or names that
 * became equal when escaped, make one line.
 *
 * Names in collapsed output. The format has no quoting: ';' separates
 * frames and the last space the value, and tools split a line on those. So
 * in a name ';' becomes ':', and a space, a tab or another control
 * character becomes '_' ("operator new(unsigned long)" is written
 * "operator_new(unsigned_long)"). Speedscope's JSON keeps names as they
 * are. */
#define _GNU_SOURCE
#include "report/export.h"

#include "report/export_impl.h"
#include "report/format.h"
#include "report/keys.h"
#include "report/load.h"
#include "report/sites.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MSG "recycle export: "

/* Inlined frames kept per pc at most. */
#define MAX_INLINE 16

/* ---- growing arrays ----------------------------------------------------------- */

/* Room for n elements of size in *v (capacity *cap); false on out of memory
 * or overflow, *v unchanged. */
static bool grow(void *v, size_t *cap, size_t n, size_t size) {
    if (n <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < n) {
        if (c > SIZE_MAX / 2)
            return false;
        c *= 2;
    }
    if (c > SIZE_MAX / size)
        return false;
    void *p = realloc(*(void **)v, c * size);
    if (!p)
        return false;
    *(void **)v = p;
    *cap = c;
    return true;
}

/* ---- frames ------------------------------------------------------------------- */

/* A function: a name and the file it is in (its lines are not told
 * apart, so that a function called from two lines is one frame). */
typedef struct frame {
    char *name;
    char *file;                /* NULL: unknown */
} frame;

typedef struct node_frames {
    uint32_t first, count;     /* in model.node_list */
    bool done;
} node_frames;

typedef struct stack {
    uint32_t first, count;     /* in model.stack_list */
    rcr_figures fig;           /* sums of its stack ids' */
} stack;

typedef struct model {
    rcr_replay *r;
    frame *frames;
    size_t nframes, cap_frames;
    rcr_keys frame_of;         /* "name\x1f" "file" -> index */
    node_frames *nodes;        /* per stack node */
    uint32_t *node_list;
    size_t nnode_list, cap_node_list;
    stack *stacks;
    size_t nstacks, cap_stacks;
    uint32_t *stack_list;
    size_t nstack_list, cap_stack_list;
    rcr_keys stack_of;         /* frame indexes as text -> index in stacks */
} model;

static char *copy_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* The index of frame (name, file), added when new; false on out of
 * memory. */
static bool frame_index(model *m, const char *name, const char *file, uint32_t *out) {
    char *key;
    if (asprintf(&key, "%s\x1f%s", name, file ? file : "") < 0)
        return false;
    bool existed;
    bool ok = rcr_keys_find_or_add(&m->frame_of, key, (uint32_t)m->nframes, out, &existed);
    free(key);
    if (!ok)
        return false;
    if (existed)
        return true;
    frame f = {.name = copy_string(name), .file = file ? copy_string(file) : NULL};
    if (!f.name || (file && !f.file) || !grow(&m->frames, &m->cap_frames, m->nframes + 1, sizeof *m->frames)) {
        free(f.name);
        free(f.file);
        /* The key stays, naming an index no frame has: the export fails. */
        return false;
    }
    m->frames[m->nframes++] = f;
    return true;
}

/* "libfoo.so.1+0x1a2b" or "0x7f00..." for a pc without a symbol. */
static void unknown_name(const rcr_frame *f, char buf[512]) {
    if (f->module) {
        const char *base = strrchr(f->module, '/');
        base = base ? base + 1 : f->module;
        snprintf(buf, 512, "%s+0x%" PRIx64, base[0] ? base : "?", f->offset);
    } else {
        snprintf(buf, 512, "0x%" PRIx64, f->offset);
    }
}

/* Work out the frames of node id (outermost first); false on out of memory. */
static bool node_frames_of(model *m, uint32_t id) {
    node_frames *nf = &m->nodes[id];
    if (nf->done)
        return true;
    rcs_frame f[MAX_INLINE];
    size_t k = rcr_frames_of(m->r, id, f, MAX_INLINE);
    if (k > MAX_INLINE)
        k = MAX_INLINE;
    rcr_frame plain;
    rcr_frame_of(m->r, id, &plain);
    char buf[512];
    uint32_t idx[MAX_INLINE];
    size_t n = 0;
    if (k == 0) {
        unknown_name(&plain, buf);
        if (!frame_index(m, plain.function ? plain.function : buf, plain.file, &idx[n++]))
            return false;
    } else {
        /* rcs gives the innermost first */
        for (size_t i = k; i-- > 0;) {
            const char *name = f[i].function;
            if (!name) {
                unknown_name(&plain, buf);
                name = buf;
            }
            if (!frame_index(m, name, f[i].file, &idx[n++]))
                return false;
        }
    }
    if (!grow(&m->node_list, &m->cap_node_list, m->nnode_list + n, sizeof *m->node_list))
        return false;
    nf->first = (uint32_t)m->nnode_list;
    nf->count = (uint32_t)n;
    memcpy(&m->node_list[m->nnode_list], idx, n * sizeof idx[0]);
    m->nnode_list += n;
    nf->done = true;
    return true;
}

static void add_figures(rcr_figures *to, const rcr_figures *f) {
    to->bytes += f->bytes;
    to->allocations += f->allocations;
    to->live_bytes += f->live_bytes;
    to->live_allocations += f->live_allocations;
    to->peak_bytes += f->peak_bytes;
    to->peak_allocations += f->peak_allocations;
}

/* The stack of figures record fi, added or summed into; false on out of
 * memory. */
static bool add_stack(model *m, const rcr_figures *fig, uint32_t **path, size_t *cap_path,
                      char **key, size_t *cap_key) {
    rcr_replay *r = m->r;
    /* the nodes from the site outward */
    size_t depth = 0;
    uint32_t site = fig->node ? rcr_replay_site_of(r, fig->node) : 0;
    for (uint32_t n = site; n != 0 && n < r->nnodes; n = r->nodes[n].parent) {
        if (!grow(path, cap_path, depth + 1, sizeof **path))
            return false;
        (*path)[depth++] = n;
        if (!node_frames_of(m, n))
            return false;
    }
    size_t nframes = 0;
    for (size_t i = 0; i < depth; i++)
        nframes += m->nodes[(*path)[i]].count;
    uint32_t unknown = 0;
    if (nframes == 0) {
        if (!frame_index(m, "[unknown]", NULL, &unknown))
            return false;
        nframes = 1;
    }
    /* the key: the frame indexes, outermost first, in hex */
    if (!grow(key, cap_key, nframes * 9 + 1, 1))
        return false;
    size_t start = m->nstack_list;
    if (!grow(&m->stack_list, &m->cap_stack_list, start + nframes, sizeof *m->stack_list))
        return false;
    uint32_t *list = &m->stack_list[start];
    size_t at = 0;
    if (depth == 0)
        list[at++] = unknown;
    for (size_t i = depth; i-- > 0;) {
        const node_frames *nf = &m->nodes[(*path)[i]];
        memcpy(&list[at], &m->node_list[nf->first], nf->count * sizeof *list);
        at += nf->count;
    }
    char *p = *key;
    for (size_t i = 0; i < nframes; i++)
        p += sprintf(p, "%" PRIx32 ",", list[i]);
    *p = '\0';
    uint32_t found;
    bool existed;
    if (!rcr_keys_find_or_add(&m->stack_of, *key, (uint32_t)m->nstacks, &found, &existed))
        return false;
    if (!existed) {
        if (!grow(&m->stacks, &m->cap_stacks, m->nstacks + 1, sizeof *m->stacks))
            return false;
        m->stacks[m->nstacks++] = (stack){.first = (uint32_t)start, .count = (uint32_t)nframes};
        m->nstack_list += nframes;
    }
    add_figures(&m->stacks[found].fig, fig);
    return true;
}

static void model_free(model *m) {
    for (size_t i = 0; i < m->nframes; i++) {
        free(m->frames[i].name);
        free(m->frames[i].file);
    }
    free(m->frames);
    rcr_keys_free(&m->frame_of);
    free(m->nodes);
    free(m->node_list);
    free(m->stacks);
    free(m->stack_list);
    rcr_keys_free(&m->stack_of);
}

/* Every stack of a finished replay; false on out of memory (m freed). */
static bool model_build(model *m, rcr_replay *r) {
    memset(m, 0, sizeof *m);
    m->r = r;
    uint32_t *path = NULL;
    char *key = NULL;
    size_t cap_path = 0, cap_key = 0;
    bool ok = r->nnodes == 0 || (m->nodes = calloc(r->nnodes, sizeof *m->nodes)) != NULL;
    for (size_t i = 0; ok && i < r->nfigures; i++)
        ok = add_stack(m, &r->figures[i], &path, &cap_path, &key, &cap_key);
    free(path);
    free(key);
    if (!ok)
        model_free(m);
    return ok;
}

static uint64_t value_of(const rcr_figures *f, rcr_export_kind kind, bool allocations) {
    switch (kind) {
    case RCR_EXPORT_PEAK:
        return allocations ? f->peak_allocations : f->peak_bytes;
    case RCR_EXPORT_LEAKED:
        return allocations ? f->live_allocations : f->live_bytes;
    case RCR_EXPORT_ALLOCATED:
        break;
    }
    return allocations ? f->allocations : f->bytes;
}

/* ---- collapsed ------------------------------------------------------------------ */

/* Append name to *buf (length *len, capacity *cap) as a collapsed frame;
 * false on out of memory. */
static bool append_collapsed_name(char **buf, size_t *len, size_t *cap, const char *name) {
    size_t n = strlen(name);
    if (!grow(buf, cap, *len + n + 2, 1))
        return false;
    char *p = *buf + *len;
    if (*len)
        *p++ = ';';
    for (; *name; name++) {
        unsigned char c = (unsigned char)*name;
        if (c == ';')
            c = ':';
        else if (c <= ' ' || c == 0x7f)
            c = '_';
        *p++ = (char)c;
    }
    *p = '\0';
    *len = (size_t)(p - *buf);
    return true;
}

/* The lines, stacks whose text is the same (their names are, or became so
 * when escaped) summed into one, in the order first seen; false on out of
 * memory (nothing written). */
static bool write_collapsed(const model *m, const rcr_export_options *o, FILE *out) {
    rcr_keys lines = {0};
    uint64_t *values = NULL;
    char **texts = NULL;
    size_t nlines = 0, cap_values = 0, cap_texts = 0;
    char *buf = NULL;
    size_t cap_buf = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < m->nstacks; i++) {
        const stack *s = &m->stacks[i];
        uint64_t v = value_of(&s->fig, o->kind, o->allocations);
        if (!v)
            continue;
        size_t len = 0;
        for (uint32_t j = 0; ok && j < s->count; j++)
            ok = append_collapsed_name(&buf, &len, &cap_buf,
                                       m->frames[m->stack_list[s->first + j]].name);
        uint32_t found;
        bool existed;
        ok = ok && rcr_keys_find_or_add(&lines, buf, (uint32_t)nlines, &found, &existed);
        if (ok && !existed) {
            ok = grow(&values, &cap_values, nlines + 1, sizeof *values) &&
                 grow(&texts, &cap_texts, nlines + 1, sizeof *texts);
            if (ok) {
                values[nlines] = 0;
                /* the table owns its copy of the key, found again below */
                texts[nlines] = NULL;
                nlines++;
            }
        }
        if (ok)
            values[found] += v;
    }
    /* The table's keys in line order. */
    for (size_t k = 0; ok && k <= lines.mask && lines.keys; k++)
        if (lines.keys[k])
            texts[lines.values[k]] = lines.keys[k];
    for (size_t i = 0; ok && i < nlines; i++)
        fprintf(out, "%s %" PRIu64 "\n", texts[i], values[i]);
    free(buf);
    free(values);
    free(texts);
    rcr_keys_free(&lines);
    return ok;
}

/* ---- speedscope ------------------------------------------------------------------ */

static void write_speedscope_profile(const model *m, const rcr_export_options *o,
                                     rcr_export_kind kind, const char *name, uint64_t total,
                                     bool last, FILE *out) {
    fputs("    {\"type\": \"sampled\", \"name\": ", out);
    rcr_json_string(out, name);
    fprintf(out, ", \"unit\": \"%s\", \"startValue\": 0, \"endValue\": %" PRIu64 ",\n",
            o->allocations ? "none" : "bytes", total);
    fputs("     \"samples\": [", out);
    bool first = true;
    for (size_t i = 0; i < m->nstacks; i++) {
        const stack *s = &m->stacks[i];
        if (!value_of(&s->fig, kind, o->allocations))
            continue;
        fputs(first ? "[" : ", [", out);
        first = false;
        for (uint32_t j = 0; j < s->count; j++)
            fprintf(out, j ? ", %" PRIu32 : "%" PRIu32, m->stack_list[s->first + j]);
        putc(']', out);
    }
    fputs("],\n     \"weights\": [", out);
    first = true;
    for (size_t i = 0; i < m->nstacks; i++) {
        uint64_t v = value_of(&m->stacks[i].fig, kind, o->allocations);
        if (!v)
            continue;
        fprintf(out, first ? "%" PRIu64 : ", %" PRIu64, v);
        first = false;
    }
    fputs(last ? "]}\n" : "]},\n", out);
}

static void write_speedscope(const model *m, const rcr_export_options *o, const char *path,
                             FILE *out) {
    const rcr_totals *t = &m->r->totals;
    fputs("{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\",\n", out);
    fputs(" \"name\": ", out);
    rcr_json_string(out, path);
    fputs(",\n \"exporter\": \"recycle export\",\n \"activeProfileIndex\": 0,\n", out);
    fputs(" \"shared\": {\"frames\": [", out);
    for (size_t i = 0; i < m->nframes; i++) {
        const frame *f = &m->frames[i];
        fputs(i ? ",\n   {\"name\": " : "\n   {\"name\": ", out);
        rcr_json_string(out, f->name);
        if (f->file) {
            fputs(", \"file\": ", out);
            rcr_json_string(out, f->file);
        }
        putc('}', out);
    }
    fputs("]},\n \"profiles\": [\n", out);
    bool a = o->allocations;
    write_speedscope_profile(m, o, RCR_EXPORT_ALLOCATED, a ? "allocations" : "allocated bytes",
                             a ? t->allocations : t->bytes_allocated, false, out);
    write_speedscope_profile(m, o, RCR_EXPORT_PEAK,
                             a ? "allocations live at the peak" : "bytes live at the peak",
                             a ? t->peak_allocations : t->peak_bytes, false, out);
    write_speedscope_profile(m, o, RCR_EXPORT_LEAKED, a ? "leaked allocations" : "leaked bytes",
                             a ? t->leaked_allocations : t->leaked_bytes, true, out);
    fputs(" ]}\n", out);
}

/* ---- the whole ---------------------------------------------------------------------- */

typedef struct load_state {
    rcr_replay *replay;
    rcr_massif *massif;        /* NULL unless writing massif */
} load_state;

static bool on_event(void *arg, const rccap_event *ev) {
    load_state *ls = arg;
    (void)ev;
    if (ls->massif && !ls->replay->on_change) {
        ls->replay->on_change = rcr_massif_on_change;
        ls->replay->change_arg = ls->massif;
    }
    return true;
}

int rcr_export(const char *path, const rcr_export_options *o, FILE *out, FILE *err) {
    if (o->format == RCR_EXPORT_PPROF)
        return rcr_export_pprof(path, o, out, err);
    if (o->format == RCR_EXPORT_SQLITE)
        return rcr_export_sqlite(path, o, err);
    rcr_replay replay;
    bool complete;
    rcr_massif massif;
    rcr_massif_init(&massif);
    load_state ls = {.replay = &replay,
                     .massif = o->format == RCR_EXPORT_MASSIF ? &massif : NULL};
    rcr_load_options lo = {.prefix = MSG, .progress = o->progress, .on_event = on_event, .arg = &ls};
    if (rcr_load(path, &lo, &replay, &complete, err) != 0)
        return 1;
    int status = 0;
    if (o->format == RCR_EXPORT_MASSIF) {
        if (!rcr_massif_write(&massif, &replay, out))
            status = 1;
    } else {
        model m;
        if (!model_build(&m, &replay)) {
            status = 1;
        } else {
            if (o->format == RCR_EXPORT_COLLAPSED)
                status = write_collapsed(&m, o, out) ? 0 : 1;
            else
                write_speedscope(&m, o, path, out);
            model_free(&m);
        }
    }
    if (status)
        fprintf(err, MSG "out of memory\n");
    rcr_replay_free(&replay);
    return status;
}
