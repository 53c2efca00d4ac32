/* export_pprof.c - `recycle export --format pprof` (export_impl.h): a
 * replay as pprof's Profile message (src/report/profile.proto), gzipped,
 * for `go tool pprof`, Pyroscope, Parca. docs/pprof.md says how to use it.
 *
 * What the profile holds.
 *
 *   sample_type   alloc_objects/count alloc_space/bytes   over the run
 *                 inuse_objects/count inuse_space/bytes   live at the end
 *                                                         (the leaks)
 *                 peak_objects/count  peak_space/bytes    live at the peak
 *                 default_sample_type inuse_space, as in Go's heap profiles
 *   sample        one per distinct stack: its location ids from the site
 *                 (the innermost frame outside the allocator and the C/C++
 *                 run-time, rcr_replay_site_of) outward, the six values
 *   location      one per pc (and module it lies in): the pc as the capture
 *                 recorded it (a return address), its mapping, and one line
 *                 per function at the pc, the inlined ones first and the
 *                 function they were inlined into last (as the symbolizer
 *                 gives them); a pc without symbols has no line, and pprof
 *                 names it by its module and offset
 *   function      one per (name, file): name and system_name are the
 *                 symbolizer's (demangled) name, start_line 0 (unknown)
 *   mapping       one per MODULE record a location lies in: its range and
 *                 file offset as recorded, its file, its build id in hex;
 *                 has_functions and the rest set when a location of it was
 *                 symbolized, so that pprof does not try again, and clear
 *                 when not, so that pprof may look for the file itself
 *   the rest      time_nanos (the capture's start), duration_nanos,
 *                 period_type space/bytes, period (the sampling interval
 *                 of a sampled capture, else 1), comments (the program,
 *                 its command line, sampling, a capture cut short)
 *
 * Each stack id's figures are in exactly one sample, and the values are
 * the replay's (estimates for a sampled capture, as in the report), so the
 * values of each type add up to `recycle report --json`'s totals exactly:
 * allocations, bytes_allocated, leaked_allocations, leaked_bytes,
 * peak_allocations, peak_bytes.
 *
 * Streaming. The parts are gathered first into compact arrays: a string
 * table, and per function, mapping, location, line and sample a few
 * integers. They are then written one at a time, each wrapped in a Profile
 * message that holds only it, packed by protobuf-c straight into zlib and
 * from there to the output. A protobuf message is the concatenation of its
 * fields, and a repeated field may come in any number of pieces, so the
 * pieces read as one Profile. Memory is thus proportional to the distinct
 * pcs, functions and stacks (plus the replay's own), never to the events
 * nor to the size of the serialized profile. */
#define _GNU_SOURCE
#define ZLIB_CONST
#include "report/export_impl.h"

#include "report/format.h"
#include "report/keys.h"
#include "report/load.h"
#include "report/profile.pb-c.h"
#include "report/sites.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MSG "recycle export: "

/* Functions kept per pc at most (inlined ones and their caller); deeper
 * inlining keeps the innermost. */
#define MAX_INLINE 64

/* The sample types, in the order of each sample's values. */
enum {
    V_ALLOC_OBJECTS,
    V_ALLOC_SPACE,
    V_INUSE_OBJECTS,
    V_INUSE_SPACE,
    V_PEAK_OBJECTS,
    V_PEAK_SPACE,
    NVALUES
};
static const char *const value_type[NVALUES][2] = {
    [V_ALLOC_OBJECTS] = {"alloc_objects", "count"}, [V_ALLOC_SPACE] = {"alloc_space", "bytes"},
    [V_INUSE_OBJECTS] = {"inuse_objects", "count"}, [V_INUSE_SPACE] = {"inuse_space", "bytes"},
    [V_PEAK_OBJECTS] = {"peak_objects", "count"},   [V_PEAK_SPACE] = {"peak_space", "bytes"},
};
#define DEFAULT_VALUE V_INUSE_SPACE

/* Comments at most: program, command line, sampling, cut short. */
#define MAX_COMMENTS 4

/* ---- the gathered profile ------------------------------------------------------------
 *
 * Ids in the profile are 1-based indexes into these arrays; strings are
 * indexes into the string table (0: ""). */

typedef struct pp_function {
    uint32_t name, file;
} pp_function;

typedef struct pp_mapping {
    uint32_t module;           /* index in the replay's modules */
    uint32_t file, build_id;
    bool has_functions, has_filenames, has_line_numbers;
} pp_mapping;

typedef struct pp_line {
    uint32_t function;         /* id */
    int32_t line;              /* 0: unknown */
} pp_line;

typedef struct pp_location {
    uint64_t address;
    uint32_t mapping;          /* id, 0: none */
    uint32_t first_line, nlines;   /* in lines */
} pp_location;

typedef struct pp_sample {
    uint32_t first, count;     /* in sample_locations */
    uint64_t value[NVALUES];
} pp_sample;

typedef struct profile {
    rcr_replay *r;

    rcr_keys string_of;        /* string -> index */
    char **strings;            /* by index: the table's own keys (set at the end) */
    size_t nstrings;

    rcr_keys function_of;      /* "name\x1f" "file" -> index in functions */
    pp_function *functions;
    size_t nfunctions, cap_functions;

    uint32_t *mapping_of_module;   /* per replay module: mapping id, 0: none yet */
    pp_mapping *mappings;
    size_t nmappings, cap_mappings;

    uint32_t *location_of_node;    /* per replay node: location id, 0: not yet */
    rcr_keys location_of;      /* "pc/module" -> index in locations */
    pp_location *locations;
    size_t nlocations, cap_locations;
    pp_line *lines;
    size_t nlines, cap_lines;
    uint32_t unknown_location; /* "[unknown]", for allocations without a stack; 0: none yet */

    rcr_keys sample_of;        /* location ids as text -> index in samples */
    pp_sample *samples;
    size_t nsamples, cap_samples;
    uint64_t *sample_locations;
    size_t nsample_locations, cap_sample_locations;

    uint32_t comments[MAX_COMMENTS];
    size_t ncomments;
    uint32_t value_strings[NVALUES][2];
    uint32_t space, bytes;
} profile;

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

/* s with every byte that is not part of valid UTF-8 made U+FFFD, in a new
 * string; NULL on out of memory. */
static char *valid_utf8(const char *s) {
    size_t n = strlen(s);
    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    char *v = malloc(3 * n + 1), *at = v;
    if (!v)
        return NULL;
    while (*s) {
        uint32_t code;
        size_t len = rcr_utf8_len((const unsigned char *)s, &code);
        if (len) {
            memcpy(at, s, len);
            at += len;
            s += len;
        } else {
            memcpy(at, "\xef\xbf\xbd", 3);
            at += 3;
            s++;
        }
    }
    *at = '\0';
    return v;
}

/* The string table index of s, added when new; false on out of memory.
 * proto3 strings are UTF-8, and decoders such as Go's protobuf refuse a
 * message with another: names and paths that are not valid UTF-8 (a file
 * name can be any bytes) are written with U+FFFD for each bad byte. */
static bool string_index(profile *p, const char *s, uint32_t *out) {
    if (p->nstrings >= UINT32_MAX)
        return false;
    char *fixed = NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c;) {
        uint32_t code;
        size_t len = rcr_utf8_len(c, &code);
        if (!len) {
            if (!(fixed = valid_utf8(s)))
                return false;
            s = fixed;
            break;
        }
        c += len;
    }
    bool existed;
    bool ok = rcr_keys_find_or_add(&p->string_of, s, (uint32_t)p->nstrings, out, &existed);
    free(fixed);
    if (ok && !existed)
        p->nstrings++;
    return ok;
}

/* The id of function (name, file), added when new; false on out of memory. */
static bool function_id(profile *p, const char *name, const char *file, uint32_t *out) {
    char *key;
    if (asprintf(&key, "%s\x1f%s", name, file ? file : "") < 0)
        return false;
    uint32_t index;
    bool existed;
    bool ok = rcr_keys_find_or_add(&p->function_of, key, (uint32_t)p->nfunctions, &index,
                                   &existed);
    free(key);
    if (!ok)
        return false;
    if (!existed) {
        pp_function f;
        /* On failure the key stays, naming an index no function has: the
         * export fails anyway. */
        if (!string_index(p, name, &f.name) || !string_index(p, file ? file : "", &f.file) ||
            !grow(&p->functions, &p->cap_functions, p->nfunctions + 1, sizeof *p->functions))
            return false;
        p->functions[p->nfunctions++] = f;
    }
    *out = index + 1;
    return true;
}

/* The mapping id of replay module m, added when new; false on out of
 * memory. */
static bool mapping_id(profile *p, uint32_t m, uint32_t *out) {
    if (p->mapping_of_module[m]) {
        *out = p->mapping_of_module[m];
        return true;
    }
    const rcr_module *mod = &p->r->modules[m];
    pp_mapping map = {.module = m};
    if (!string_index(p, mod->path, &map.file))
        return false;
    if (mod->build_id_len) {
        char hex[2 * 255 + 1];
        uint32_t n = mod->build_id_len < 255 ? mod->build_id_len : 255;
        for (uint32_t i = 0; i < n; i++)
            snprintf(&hex[2 * i], 3, "%02x", mod->build_id[i]);
        if (!string_index(p, hex, &map.build_id))
            return false;
    }
    if (!grow(&p->mappings, &p->cap_mappings, p->nmappings + 1, sizeof *p->mappings))
        return false;
    p->mappings[p->nmappings++] = map;
    *out = p->mapping_of_module[m] = (uint32_t)p->nmappings;
    return true;
}

/* A location without an address or a mapping, standing for a stack the
 * capture did not record; false on out of memory. */
static bool unknown_location(profile *p, uint32_t *out) {
    if (!p->unknown_location) {
        uint32_t f;
        if (!function_id(p, "[unknown]", NULL, &f) ||
            !grow(&p->lines, &p->cap_lines, p->nlines + 1, sizeof *p->lines) ||
            !grow(&p->locations, &p->cap_locations, p->nlocations + 1, sizeof *p->locations))
            return false;
        p->lines[p->nlines] = (pp_line){.function = f};
        p->locations[p->nlocations++] =
            (pp_location){.first_line = (uint32_t)p->nlines, .nlines = 1};
        p->nlines++;
        p->unknown_location = (uint32_t)p->nlocations;
    }
    *out = p->unknown_location;
    return true;
}

/* The location id of stack node id, worked out the first time; false on
 * out of memory. */
static bool location_id(profile *p, uint32_t id, uint32_t *out) {
    if (p->location_of_node[id]) {
        *out = p->location_of_node[id];
        return true;
    }
    rcr_replay *r = p->r;
    /* An undefined node (a damaged parent link) has neither pc nor module. */
    uint64_t pc = r->nodes[id].defined ? r->nodes[id].pc : 0;
    uint32_t m = rcr_replay_module_of(r, id);
    char key[40];
    snprintf(key, sizeof key, "%" PRIx64 "/%" PRIx32, pc, m);
    uint32_t index;
    bool existed;
    if (!rcr_keys_find_or_add(&p->location_of, key, (uint32_t)p->nlocations, &index, &existed))
        return false;
    if (!existed) {
        /* On failure the key stays, naming an index no location has: the
         * export fails anyway. */
        pp_location loc = {.address = pc};
        if (m != RCR_NONE && !mapping_id(p, m, &loc.mapping))
            return false;
        rcs_frame f[MAX_INLINE];
        size_t k = rcr_frames_of(r, id, f, MAX_INLINE);
        if (k > MAX_INLINE)
            k = MAX_INLINE;
        /* lines are numbered by uint32_t: past that, as out of memory */
        if (p->nlines + k > UINT32_MAX ||
            !grow(&p->lines, &p->cap_lines, p->nlines + k, sizeof *p->lines))
            return false;
        loc.first_line = (uint32_t)p->nlines;
        pp_mapping *map = loc.mapping ? &p->mappings[loc.mapping - 1] : NULL;
        /* innermost first: pprof's order too */
        for (size_t i = 0; i < k; i++) {
            if (!f[i].function)
                continue;      /* the module without symbols: no line */
            pp_line line = {.line = f[i].line > 0 ? f[i].line : 0};
            if (!function_id(p, f[i].function, f[i].file, &line.function))
                return false;
            p->lines[p->nlines++] = line;
            if (map) {
                map->has_functions = true;
                map->has_filenames |= f[i].file != NULL;
                map->has_line_numbers |= f[i].line > 0;
            }
        }
        loc.nlines = (uint32_t)(p->nlines - loc.first_line);
        if (!grow(&p->locations, &p->cap_locations, p->nlocations + 1, sizeof *p->locations))
            return false;
        p->locations[p->nlocations++] = loc;
    }
    *out = p->location_of_node[id] = index + 1;
    return true;
}

/* The sample of figures record fig, added or summed into; path and key
 * are scratch space kept between calls. False on out of memory. */
static bool add_sample(profile *p, const rcr_figures *fig, uint64_t **path, size_t *cap_path,
                       char **key, size_t *cap_key) {
    rcr_replay *r = p->r;
    size_t depth = 0;
    uint32_t site = fig->node ? rcr_replay_site_of(r, fig->node) : 0;
    for (uint32_t n = site; n != 0 && n < r->nnodes; n = r->nodes[n].parent) {
        uint32_t loc;
        if (!location_id(p, n, &loc) || !grow(path, cap_path, depth + 1, sizeof **path))
            return false;
        (*path)[depth++] = loc;
    }
    if (depth == 0) {
        uint32_t loc;
        if (!unknown_location(p, &loc) || !grow(path, cap_path, 1, sizeof **path))
            return false;
        (*path)[depth++] = loc;
    }
    /* the key: the location ids, leaf first, in hex */
    if (depth > (SIZE_MAX - 1) / 9 || !grow(key, cap_key, depth * 9 + 1, 1))
        return false;
    char *k = *key;
    for (size_t i = 0; i < depth; i++)
        k += sprintf(k, "%" PRIx64 ",", (*path)[i]);
    *k = '\0';
    uint32_t index;
    bool existed;
    if (!rcr_keys_find_or_add(&p->sample_of, *key, (uint32_t)p->nsamples, &index, &existed))
        return false;
    if (!existed) {
        size_t first = p->nsample_locations;
        if (first + depth > UINT32_MAX ||   /* numbered by uint32_t, as lines */
            !grow(&p->sample_locations, &p->cap_sample_locations, first + depth,
                  sizeof *p->sample_locations) ||
            !grow(&p->samples, &p->cap_samples, p->nsamples + 1, sizeof *p->samples))
            return false;
        memcpy(&p->sample_locations[first], *path, depth * sizeof **path);
        p->nsample_locations += depth;
        p->samples[p->nsamples++] = (pp_sample){.first = (uint32_t)first, .count = (uint32_t)depth};
    }
    uint64_t *v = p->samples[index].value;
    v[V_ALLOC_OBJECTS] += fig->allocations;
    v[V_ALLOC_SPACE] += fig->bytes;
    v[V_INUSE_OBJECTS] += fig->live_allocations;
    v[V_INUSE_SPACE] += fig->live_bytes;
    v[V_PEAK_OBJECTS] += fig->peak_allocations;
    v[V_PEAK_SPACE] += fig->peak_bytes;
    return true;
}

/* A comment, added to the profile's; false on out of memory. */
static bool comment(profile *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool comment(profile *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *text;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    bool ok = p->ncomments < MAX_COMMENTS && string_index(p, text, &p->comments[p->ncomments]);
    free(text);
    if (ok)
        p->ncomments++;
    return ok;
}

static void profile_free(profile *p) {
    rcr_keys_free(&p->string_of);
    free(p->strings);
    rcr_keys_free(&p->function_of);
    free(p->functions);
    free(p->mapping_of_module);
    free(p->mappings);
    free(p->location_of_node);
    rcr_keys_free(&p->location_of);
    free(p->locations);
    free(p->lines);
    rcr_keys_free(&p->sample_of);
    free(p->samples);
    free(p->sample_locations);
}

/* Everything of a finished replay; false on out of memory (p freed). */
static bool profile_build(profile *p, rcr_replay *r, bool complete) {
    memset(p, 0, sizeof *p);
    p->r = r;
    uint32_t empty;
    bool ok = string_index(p, "", &empty);   /* index 0, as the format wants */
    for (int i = 0; ok && i < NVALUES; i++)
        ok = string_index(p, value_type[i][0], &p->value_strings[i][0]) &&
             string_index(p, value_type[i][1], &p->value_strings[i][1]);
    ok = ok && string_index(p, "space", &p->space) && string_index(p, "bytes", &p->bytes);
    if (ok && r->program && r->program[0])
        ok = comment(p, "program: %s", r->program);
    if (ok && r->command_line && r->command_line[0])
        ok = comment(p, "command line: %s", r->command_line);
    if (ok && r->header.sample_bytes)
        ok = comment(p, "sampled: one allocation recorded per %" PRIu64 " bytes on average; "
                        "the values are estimates", r->header.sample_bytes);
    if (ok && !complete)
        ok = comment(p, "incomplete: the capture ends early; the profile covers what it holds");
    if (ok && r->nmodules)
        ok = (p->mapping_of_module = calloc(r->nmodules, sizeof *p->mapping_of_module)) != NULL;
    if (ok && r->nnodes)
        ok = (p->location_of_node = calloc(r->nnodes, sizeof *p->location_of_node)) != NULL;
    uint64_t *path = NULL;
    char *key = NULL;
    size_t cap_path = 0, cap_key = 0;
    for (size_t i = 0; ok && i < r->nfigures; i++)
        ok = add_sample(p, &r->figures[i], &path, &cap_path, &key, &cap_key);
    free(path);
    free(key);
    /* The string table in index order: the keys the table owns. */
    ok = ok && (p->strings = calloc(p->nstrings, sizeof *p->strings)) != NULL;
    for (size_t k = 0; ok && k <= p->string_of.mask; k++)
        if (p->string_of.keys[k])
            p->strings[p->string_of.values[k]] = p->string_of.keys[k];
    if (!ok)
        profile_free(p);
    return ok;
}

/* ---- writing: protobuf-c into zlib into the output ---------------------------------- */

/* A protobuf-c output buffer that deflates what it is given into a gzip
 * stream on out. */
typedef struct gzip_sink {
    ProtobufCBuffer base;      /* first: protobuf-c is handed &base */
    z_stream z;
    FILE *out;
    unsigned char buf[1 << 16];
} gzip_sink;

/* Deflate what z holds with flush, writing every full buffer. Write errors
 * are left on out for the caller. */
static void gzip_run(gzip_sink *s, int flush) {
    do {
        s->z.next_out = s->buf;
        s->z.avail_out = sizeof s->buf;
        int rc = deflate(&s->z, flush);
        /* Z_BUF_ERROR: no progress was possible, nothing lost; Z_STREAM_END
         * after Z_FINISH. Nothing else can happen with a valid stream. */
        (void)rc;
        size_t n = sizeof s->buf - s->z.avail_out;
        if (n)
            fwrite(s->buf, 1, n, s->out);
    } while (s->z.avail_out == 0);
}

static void gzip_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
    gzip_sink *s = (gzip_sink *)b;
    while (len) {
        /* avail_in is a uInt: hand over at most 1 GiB at a time */
        uInt n = len < (1u << 30) ? (uInt)len : (1u << 30);
        s->z.next_in = data;
        s->z.avail_in = n;
        gzip_run(s, Z_NO_FLUSH);
        data += n;
        len -= n;
    }
}

/* Ready to take the profile; false on out of memory. */
static bool gzip_open(gzip_sink *s, FILE *out) {
    memset(&s->z, 0, sizeof s->z);
    s->base.append = gzip_append;
    s->out = out;
    /* 15 + 16: the largest window, with a gzip header and trailer */
    return deflateInit2(&s->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                        Z_DEFAULT_STRATEGY) == Z_OK;
}

static void gzip_close(gzip_sink *s) {
    s->z.next_in = NULL;
    s->z.avail_in = 0;
    gzip_run(s, Z_FINISH);
    deflateEnd(&s->z);
}

/* The profile's values are int64; a sum past its range (exabytes) is
 * written as the largest. */
static int64_t value_of(uint64_t v) {
    return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Pack piece (a Profile holding some of the profile's fields) into s. */
static void put(gzip_sink *s, const Perftools__Profiles__Profile *piece) {
    perftools__profiles__profile__pack_to_buffer(piece, &s->base);
}

/* The header: sample types, period, times, comments, the default type. */
static void write_header(gzip_sink *s, const profile *p) {
    const rcr_replay *r = p->r;
    Perftools__Profiles__ValueType types[NVALUES], *type_list[NVALUES];
    for (int i = 0; i < NVALUES; i++) {
        types[i] = (Perftools__Profiles__ValueType)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
        types[i].type = p->value_strings[i][0];
        types[i].unit = p->value_strings[i][1];
        type_list[i] = &types[i];
    }
    Perftools__Profiles__ValueType period_type = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    period_type.type = p->space;
    period_type.unit = p->bytes;
    int64_t comments[MAX_COMMENTS];
    for (size_t i = 0; i < p->ncomments; i++)
        comments[i] = p->comments[i];
    Perftools__Profiles__Profile piece = PERFTOOLS__PROFILES__PROFILE__INIT;
    piece.n_sample_type = NVALUES;
    piece.sample_type = type_list;
    piece.time_nanos = value_of(r->header.start_realtime_ns);
    piece.duration_nanos = value_of(r->totals.duration_ns);
    piece.period_type = &period_type;
    piece.period = r->header.sample_bytes ? value_of(r->header.sample_bytes) : 1;
    piece.n_comment = p->ncomments;
    piece.comment = comments;
    piece.default_sample_type = p->value_strings[DEFAULT_VALUE][0];
    put(s, &piece);
}

static void write_mappings(gzip_sink *s, const profile *p) {
    for (size_t i = 0; i < p->nmappings; i++) {
        const pp_mapping *map = &p->mappings[i];
        const rcr_module *mod = &p->r->modules[map->module];
        Perftools__Profiles__Mapping m = PERFTOOLS__PROFILES__MAPPING__INIT, *list = &m;
        m.id = i + 1;
        m.memory_start = mod->start;
        m.memory_limit = mod->end;
        m.file_offset = mod->offset;
        m.filename = map->file;
        m.build_id = map->build_id;
        m.has_functions = map->has_functions;
        m.has_filenames = map->has_filenames;
        m.has_line_numbers = map->has_line_numbers;
        /* libdw gives the inlined functions wherever it gives lines */
        m.has_inline_frames = map->has_line_numbers;
        Perftools__Profiles__Profile piece = PERFTOOLS__PROFILES__PROFILE__INIT;
        piece.n_mapping = 1;
        piece.mapping = &list;
        put(s, &piece);
    }
}

static void write_functions(gzip_sink *s, const profile *p) {
    for (size_t i = 0; i < p->nfunctions; i++) {
        Perftools__Profiles__Function f = PERFTOOLS__PROFILES__FUNCTION__INIT, *list = &f;
        f.id = i + 1;
        f.name = f.system_name = p->functions[i].name;
        f.filename = p->functions[i].file;
        Perftools__Profiles__Profile piece = PERFTOOLS__PROFILES__PROFILE__INIT;
        piece.n_function = 1;
        piece.function = &list;
        put(s, &piece);
    }
}

static void write_locations(gzip_sink *s, const profile *p) {
    Perftools__Profiles__Line lines[MAX_INLINE], *line_list[MAX_INLINE];
    for (size_t i = 0; i < p->nlocations; i++) {
        const pp_location *loc = &p->locations[i];
        for (uint32_t j = 0; j < loc->nlines; j++) {
            const pp_line *pl = &p->lines[loc->first_line + j];
            lines[j] = (Perftools__Profiles__Line)PERFTOOLS__PROFILES__LINE__INIT;
            lines[j].function_id = pl->function;
            lines[j].line = pl->line;
            line_list[j] = &lines[j];
        }
        Perftools__Profiles__Location l = PERFTOOLS__PROFILES__LOCATION__INIT, *list = &l;
        l.id = i + 1;
        l.mapping_id = loc->mapping;
        l.address = loc->address;
        l.n_line = loc->nlines;
        l.line = line_list;
        Perftools__Profiles__Profile piece = PERFTOOLS__PROFILES__PROFILE__INIT;
        piece.n_location = 1;
        piece.location = &list;
        put(s, &piece);
    }
}

static void write_samples(gzip_sink *s, const profile *p) {
    for (size_t i = 0; i < p->nsamples; i++) {
        const pp_sample *ps = &p->samples[i];
        int64_t values[NVALUES];
        for (int j = 0; j < NVALUES; j++)
            values[j] = value_of(ps->value[j]);
        Perftools__Profiles__Sample sm = PERFTOOLS__PROFILES__SAMPLE__INIT, *list = &sm;
        sm.n_location_id = ps->count;
        sm.location_id = &p->sample_locations[ps->first];
        sm.n_value = NVALUES;
        sm.value = values;
        Perftools__Profiles__Profile piece = PERFTOOLS__PROFILES__PROFILE__INIT;
        piece.n_sample = 1;
        piece.sample = &list;
        put(s, &piece);
    }
}

static void write_strings(gzip_sink *s, const profile *p) {
    Perftools__Profiles__Profile piece = PERFTOOLS__PROFILES__PROFILE__INIT;
    piece.n_string_table = p->nstrings;
    piece.string_table = p->strings;
    put(s, &piece);
}

/* ---- the whole ---------------------------------------------------------------------- */

int rcr_export_pprof(const char *path, const rcr_export_options *o, FILE *out, FILE *err) {
    rcr_replay replay;
    bool complete;
    rcr_load_options lo = {.prefix = MSG, .progress = o->progress};
    if (rcr_load(path, &lo, &replay, &complete, err) != 0)
        return 1;
    int status = 1;
    profile p;
    gzip_sink *sink = malloc(sizeof *sink);
    if (sink && profile_build(&p, &replay, complete)) {
        if (gzip_open(sink, out)) {
            write_header(sink, &p);
            write_mappings(sink, &p);
            write_functions(sink, &p);
            write_locations(sink, &p);
            write_samples(sink, &p);
            write_strings(sink, &p);
            gzip_close(sink);
            status = 0;
        }
        profile_free(&p);
    }
    free(sink);
    if (status)
        fprintf(err, MSG "out of memory\n");
    rcr_replay_free(&replay);
    return status;
}
