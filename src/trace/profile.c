/* profile.c - memory_profiler's @profile for C (recycle/profile.h).
 *
 * Data model:
 *
 *   thread-local list of active profiles, innermost first (tl_top -> outer)
 *   rc_profile
 *     func        start of the profiled function's code (its FDE's), found
 *                 from the return address of rc_profile_begin_at
 *     sites       open table: code address -> { in the function?, bytes
 *                 added and removed, changes, last change's number, traced
 *                 memory after it }   (libc memory, never the traced heap)
 *     after end:  rows, one per source line of the function
 *
 * How a change is charged. The tracer tells its change listener (tracer.h)
 * of every change of the traced memory, on the thread that made it, after
 * its lock is released. The listener walks that thread's stack (the
 * tracer's walk, trace/stack.h) and, for each active profile of the thread,
 * charges the change to the innermost return address that lies in the
 * profiled function: the call in that function under which the change
 * happened (or the call of rc_malloc itself). Whether an address lies in
 * the function is asked once per address (_Unwind_Find_FDE: the function
 * whose unwind entry covers it, the same lookup the walk's rules come
 * from) and kept in the site table, so a change costs a walk and a few
 * probes. Nothing is symbolized then: at end, each charged address is
 * turned into a line by the symbolizer (the frame of the profiled function
 * among the inlined frames at that address), and the lines are summed.
 *
 * Invariants:
 *   - a profile's sites are written only by its own thread, while active
 *     (the listener runs on the thread that made the change, and only the
 *     profiles of that thread's list are charged); after end nothing writes
 *     to it but rc_profile_free.
 *   - every change a profile was told of is counted once: in one site that
 *     lies in the function, or in `lost` (no frame in the function within
 *     the walk, or no memory for a new site).
 *   - the listener is installed while some thread has an active profile
 *     (`nactive`, under `global.lock`); if a profile started tracing, the
 *     end of the last active one stops it. */
#include "recycle/profile.h"
#include "recycle/trace.h"
#include "symbolize/symbolize.h"
#include "trace/stack.h"
#include "trace/tracer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libgcc's FDE lookup (trace/stack.c reads the unwind rules through it):
 * the FDE covering pc, and in bases->func the start of its function. */
struct dwarf_eh_bases {
    void *tbase;
    void *dbase;
    void *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

/* Frames walked per change: a change deeper than this below the profiled
 * function is not charged to a line (counted as lost). */
#define WALK_MAX 160
/* Lines searched above begin for the function's header, and below end for
 * its closing brace. */
#define SCAN_LINES 400
/* Frames asked of the symbolizer per address (inlined frames). */
#define SYM_MAX 32

typedef struct site {
    uintptr_t pc;             /* 0: empty slot */
    bool in;                  /* pc lies in the profiled function */
    size_t added, removed, events;
    uint64_t seq;             /* number of the last change charged here; 0: none */
    size_t mem;               /* traced memory after it */
} site;

struct rc_profile {
    rc_profile *outer;        /* the thread's next active profile */
    pthread_t thread;
    bool active;
    uintptr_t func;           /* start of the profiled function */
    uintptr_t begin_pc;       /* the return address of the begin call */
    char *function, *file;    /* as given to begin */
    int begin_line, end_line;
    size_t mem_begin, mem_end;
    uint64_t seq;
    site *sites;
    size_t mask, count;       /* slots - 1; used slots */
    size_t lost;              /* changes not charged to a line */
    long lost_bytes;
    /* resolved at end */
    char *filename, *funcname;
    char *source;             /* the file's bytes, lines split at '\n' */
    rc_profile_line *rows;
    size_t nrows;
};

static _Thread_local rc_profile *tl_top;

static struct {
    pthread_mutex_t lock;
    size_t nactive;           /* active profiles of every thread */
    bool started_tracing;     /* a profile started the tracer */
} global = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- sites ---- */

static size_t site_home(const rc_profile *p, uintptr_t pc) {
    uint64_t h = (uint64_t)pc * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 17) & p->mask;
}

/* Twice the slots (64 the first time); false on ENOMEM (unchanged). */
static bool sites_grow(rc_profile *p) {
    size_t slots = p->sites ? (p->mask + 1) * 2 : 64;
    site *fresh = calloc(slots, sizeof *fresh);
    if (!fresh)
        return false;
    site *old = p->sites;
    size_t oldslots = old ? p->mask + 1 : 0;
    p->sites = fresh;
    p->mask = slots - 1;
    for (size_t i = 0; i < oldslots; i++) {
        if (!old[i].pc)
            continue;
        size_t k = site_home(p, old[i].pc);
        while (fresh[k].pc)
            k = (k + 1) & p->mask;
        fresh[k] = old[i];
    }
    free(old);
    return true;
}

static bool in_function(uintptr_t func, uintptr_t pc) {
    struct dwarf_eh_bases bases;
    const void *fde = _Unwind_Find_FDE((void *)(pc - 1), &bases);
    return fde && (uintptr_t)bases.func == func;
}

/* The site of pc, made (and classified) when new; NULL on ENOMEM. */
static site *site_get(rc_profile *p, uintptr_t pc) {
    if (p->sites) {
        for (size_t k = site_home(p, pc);; k = (k + 1) & p->mask) {
            if (p->sites[k].pc == pc)
                return &p->sites[k];
            if (!p->sites[k].pc)
                break;
        }
    }
    if ((p->count + 1) * 2 > (p->sites ? p->mask + 1 : 0) && !sites_grow(p))
        return NULL;
    size_t k = site_home(p, pc);
    while (p->sites[k].pc)
        k = (k + 1) & p->mask;
    p->sites[k] = (site){.pc = pc, .in = in_function(p->func, pc)};
    p->count++;
    return &p->sites[k];
}

/* ---- the listener ---- */

static void charge(rc_profile *p, const uintptr_t *pcs, size_t n, size_t added, size_t removed,
                   size_t current) {
    for (size_t i = 0; i < n; i++) {
        if (!pcs[i])
            continue;
        site *s = site_get(p, pcs[i]);
        if (!s)
            break;
        if (!s->in)
            continue;
        s->added += added;
        s->removed += removed;
        s->events++;
        s->seq = ++p->seq;
        s->mem = current;
        return;
    }
    p->lost++;
    p->lost_bytes += (long)added - (long)removed;
}

static void on_change(size_t added, size_t removed, size_t current) {
    rc_profile *top = tl_top;
    if (!top)
        return;
    uintptr_t pcs[WALK_MAX];
    size_t n = rctr_stack_capture(pcs, WALK_MAX, 0);
    for (rc_profile *p = top; p; p = p->outer)
        charge(p, pcs, n, added, removed, current);
}

/* ---- begin / end ---- */

static size_t traced_now(void) {
    size_t cur = 0;
    rc_trace_get_traced_memory(&cur, NULL);
    return cur;
}

static void set_error(int *error, int code) {
    if (error)
        *error = code;
}

static char *copy_string(const char *s) {
    if (!s)
        s = "?";
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

static void profile_release(rc_profile *p) {
    free(p->sites);
    free(p->function);
    free(p->file);
    free(p->filename);
    free(p->funcname);
    free(p->source);
    free(p->rows);
    free(p);
}

__attribute__((noinline)) rc_profile *rc_profile_begin_at(const char *function, const char *file,
                                                          int line, int *error) {
    uintptr_t ra = (uintptr_t)__builtin_return_address(0);
    size_t depth = 0;
    for (rc_profile *q = tl_top; q; q = q->outer)
        depth++;
    if (depth >= RC_PROFILE_MAX_NESTED) {
        set_error(error, RC_ESTATE);
        return NULL;
    }
    struct dwarf_eh_bases bases;
    if (!_Unwind_Find_FDE((void *)(ra - 1), &bases)) {
        set_error(error, RC_ESTATE);
        return NULL;
    }
    rc_profile *p = calloc(1, sizeof *p);
    if (!p || !(p->function = copy_string(function)) || !(p->file = copy_string(file)) ||
        !sites_grow(p)) {
        if (p)
            profile_release(p);
        set_error(error, RC_ENOMEM);
        return NULL;
    }
    p->thread = pthread_self();
    p->func = (uintptr_t)bases.func;
    p->begin_pc = ra;
    p->begin_line = line;
    pthread_mutex_lock(&global.lock);
    if (!rc_trace_is_tracing()) {
        int r = rc_trace_start(1);
        if (r != 0) {
            pthread_mutex_unlock(&global.lock);
            profile_release(p);
            set_error(error, r);
            return NULL;
        }
        global.started_tracing = true;
    }
    if (global.nactive++ == 0)
        rctr_set_change_listener(on_change);
    pthread_mutex_unlock(&global.lock);
    p->active = true;
    p->mem_begin = traced_now();
    p->outer = tl_top;
    tl_top = p;
    set_error(error, 0);
    return p;
}

/* Take p off its thread's list (wherever it is) and off the global count;
 * the caller is p's thread. */
static void deactivate(rc_profile *p) {
    for (rc_profile **link = &tl_top; *link; link = &(*link)->outer) {
        if (*link == p) {
            *link = p->outer;
            break;
        }
    }
    p->outer = NULL;
    p->active = false;
    pthread_mutex_lock(&global.lock);
    if (--global.nactive == 0) {
        rctr_set_change_listener(NULL);
        if (global.started_tracing) {
            global.started_tracing = false;
            rc_trace_stop();
        }
    }
    pthread_mutex_unlock(&global.lock);
}

/* ---- lines ---- */

/* Read path whole into p->source, split into lines; the line pointers go
 * to *lines (lines[i] is line i + 1). 0 lines when it cannot be read. */
static size_t read_source(rc_profile *p, const char *path, char ***lines) {
    *lines = NULL;
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f)
        return 0;
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return 0;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += buf[i] == '\n';
    if (len > 0 && buf[len - 1] != '\n')
        n++;
    char **v = malloc((n + 1) * sizeof *v);
    if (!v) {
        free(buf);
        return 0;
    }
    size_t k = 0;
    char *s = buf;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            buf[i] = '\0';
            if (i > 0 && buf[i - 1] == '\r')
                buf[i - 1] = '\0';
            v[k++] = s;
            s = buf + i + 1;
        }
    }
    if (k < n)
        v[k++] = s;
    p->source = buf;
    *lines = v;
    return n;
}

/* Does line (a source line) open the definition of name: starting in
 * column 0 and holding name followed by '('? */
static bool is_header(const char *line, const char *name) {
    if (!line[0] || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '}')
        return false;
    size_t len = strlen(name);
    for (const char *s = strstr(line, name); s; s = strstr(s + 1, name)) {
        bool start = s == line || !(s[-1] == '_' || (s[-1] >= '0' && s[-1] <= '9') ||
                                    ((s[-1] | 32) >= 'a' && (s[-1] | 32) <= 'z'));
        const char *t = s + len;
        while (*t == ' ' || *t == '\t')
            t++;
        if (start && *t == '(')
            return true;
    }
    return false;
}

/* The line of pc in the profiled function (fname in file), or 0. */
static int line_of(uintptr_t pc, const char *fname, const char *file) {
    rcs_frame fr[SYM_MAX];
    size_t n = rcs_symbolize(pc, fr, SYM_MAX);
    if (n > SYM_MAX)
        n = SYM_MAX;
    for (size_t k = 0; k < n; k++)
        if (fr[k].function && fr[k].file && strcmp(fr[k].function, fname) == 0 &&
            strcmp(fr[k].file, file) == 0)
            return fr[k].line;
    /* not named so (a static function's clone, say): the containing
     * function's line, when it is in the same file */
    if (n > 0 && fr[n - 1].file && strcmp(fr[n - 1].file, file) == 0)
        return fr[n - 1].line;
    return 0;
}

typedef struct acc {
    int line;
    const site *s;
} acc;

static int acc_cmp(const void *a, const void *b) {
    const acc *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->s->seq < y->s->seq ? -1 : x->s->seq > y->s->seq;
}

/* Resolve p's sites into rows. 0 or RC_ENOMEM. */
static int resolve(rc_profile *p) {
    rcs_frame fr[SYM_MAX];
    size_t n = rcs_symbolize(p->begin_pc, fr, SYM_MAX);
    const char *fname = n > 0 && fr[0].function ? fr[0].function : p->function;
    const char *file = n > 0 && fr[0].file ? fr[0].file : p->file;
    if (!(p->funcname = copy_string(fname)) || !(p->filename = copy_string(file)))
        return RC_ENOMEM;
    acc *a = malloc((p->count + 1) * sizeof *a);
    if (!a)
        return RC_ENOMEM;
    size_t na = 0;
    for (size_t i = 0; i <= p->mask; i++) {
        const site *s = &p->sites[i];
        if (!s->pc || !s->in || !s->events)
            continue;
        int line = line_of(s->pc, p->funcname, p->filename);
        if (line <= 0) {
            p->lost += s->events;
            p->lost_bytes += (long)s->added - (long)s->removed;
            continue;
        }
        a[na++] = (acc){line, s};
    }
    qsort(a, na, sizeof *a, acc_cmp);

    char **lines;
    size_t nlines = read_source(p, p->filename, &lines);
    if (!nlines && strcmp(p->filename, p->file) != 0)
        nlines = read_source(p, p->file, &lines);
    int first = p->begin_line > 0 ? p->begin_line : 1;
    int last = p->end_line >= first ? p->end_line : first;
    /* the function's header above begin, its closing brace below end */
    for (int l = first - 1; l >= 1 && l > first - SCAN_LINES && (size_t)l <= nlines; l--) {
        if (lines[l - 1][0] == '}')
            break;
        if (is_header(lines[l - 1], p->function)) {
            first = l;
            break;
        }
    }
    for (int l = last; l >= 1 && l < p->end_line + SCAN_LINES && (size_t)l <= nlines; l++) {
        if (lines[l - 1][0] == '}') {
            last = l;
            break;
        }
    }
    if (na > 0) {
        if (a[0].line < first)
            first = a[0].line;
        if (a[na - 1].line > last)
            last = a[na - 1].line;
    }
    p->nrows = (size_t)(last - first + 1);
    p->rows = calloc(p->nrows, sizeof *p->rows);
    if (!p->rows) {
        free(a);
        free(lines);
        p->nrows = 0;
        return RC_ENOMEM;
    }
    /* seq of the change that set each row's mem_usage: the begin marker
     * comes before every change, the end marker after */
    uint64_t *seq = calloc(p->nrows, sizeof *seq);
    if (!seq) {
        free(a);
        free(lines);
        free(p->rows);
        p->rows = NULL;
        p->nrows = 0;
        return RC_ENOMEM;
    }
    for (size_t i = 0; i < p->nrows; i++) {
        int l = first + (int)i;
        p->rows[i].lineno = l;
        p->rows[i].text = (size_t)l <= nlines ? lines[l - 1] : "";
    }
    if (p->begin_line >= first && p->begin_line <= last) {
        rc_profile_line *r = &p->rows[p->begin_line - first];
        r->has_data = 1;
        r->occurrences++;
        r->mem_usage = p->mem_begin;
    }
    for (size_t i = 0; i < na; i++) {
        size_t k = (size_t)(a[i].line - first);
        rc_profile_line *r = &p->rows[k];
        const site *s = a[i].s;
        r->has_data = 1;
        r->increment += (long)s->added - (long)s->removed;
        r->occurrences += s->events;
        if (s->seq >= seq[k]) {
            seq[k] = s->seq;
            r->mem_usage = s->mem;
        }
    }
    if (p->end_line >= first && p->end_line <= last) {
        rc_profile_line *r = &p->rows[p->end_line - first];
        r->has_data = 1;
        r->occurrences++;
        r->mem_usage = p->mem_end;
    }
    free(seq);
    free(a);
    free(lines);
    return 0;
}

int rc_profile_end_at(rc_profile *p, int line) {
    if (!p)
        return RC_EINVAL;
    if (!p->active || !pthread_equal(p->thread, pthread_self()) || tl_top != p)
        return RC_ESTATE;
    p->mem_end = traced_now();
    p->end_line = line;
    deactivate(p);
    return resolve(p);
}

void rc_profile_free(rc_profile *p) {
    if (!p)
        return;
    if (p->active) {
        if (!pthread_equal(p->thread, pthread_self()))
            return;
        deactivate(p);
    }
    profile_release(p);
}

/* ---- reading and printing ---- */

size_t rc_profile_len(const rc_profile *p) {
    return p && !p->active ? p->nrows : 0;
}

const rc_profile_line *rc_profile_at(const rc_profile *p, size_t i) {
    return i < rc_profile_len(p) ? &p->rows[i] : NULL;
}

const rc_profile_line *rc_profile_line_get(const rc_profile *p, int lineno) {
    size_t n = rc_profile_len(p);
    if (n == 0 || lineno < p->rows[0].lineno)
        return NULL;
    size_t i = (size_t)(lineno - p->rows[0].lineno);
    return i < n ? &p->rows[i] : NULL;
}

void rc_profile_memory(const rc_profile *p, size_t *at_begin, size_t *at_end) {
    if (at_begin)
        *at_begin = p ? p->mem_begin : 0;
    if (at_end)
        *at_end = p && !p->active ? p->mem_end : 0;
}

size_t rc_profile_unattributed(const rc_profile *p, long *bytes) {
    if (bytes)
        *bytes = p ? p->lost_bytes : 0;
    return p ? p->lost : 0;
}

const char *rc_profile_filename(const rc_profile *p) {
    return p ? (p->filename ? p->filename : p->file) : NULL;
}

const char *rc_profile_function(const rc_profile *p) {
    return p ? (p->funcname ? p->funcname : p->function) : NULL;
}

#define MIB 1048576.0

int rc_profile_print(const rc_profile *p, FILE *out) {
    if (!p)
        return RC_EINVAL;
    if (p->active)
        return RC_ESTATE;
    if (!out)
        out = stdout;
    /* memory_profiler's show_results: '{0:>6} {1:>12} {2:>12}  {3:>10}   {4:<}'
     * and '{0:5.1f} MiB' */
    static const char header[] = "Line #    Mem usage    Increment  Occurrences   Line Contents";
    int bad = fprintf(out, "Filename: %s\n\n%s\n", rc_profile_filename(p), header) < 0;
    for (size_t i = 0; i + 1 < sizeof header; i++)
        bad |= fputc('=', out) == EOF;
    bad |= fputc('\n', out) == EOF;
    for (size_t i = 0; i < p->nrows; i++) {
        const rc_profile_line *r = &p->rows[i];
        char mem[32] = "", inc[32] = "", occ[32] = "";
        if (r->has_data) {
            snprintf(mem, sizeof mem, "%5.1f MiB", (double)r->mem_usage / MIB);
            snprintf(inc, sizeof inc, "%5.1f MiB", (double)r->increment / MIB);
            snprintf(occ, sizeof occ, "%zu", r->occurrences);
        }
        bad |= fprintf(out, "%6d %12s %12s  %10s   %s\n", r->lineno, mem, inc, occ, r->text) < 0;
    }
    bad |= fputs("\n\n", out) == EOF;
    if (p->lost) {
        bad |= fprintf(out,
                       "(%zu change%s of %.1f MiB not charged to a line of %s: deeper than %d frames "
                       "below it, or placed in another file by the debug information)\n",
                       p->lost, p->lost == 1 ? "" : "s", (double)p->lost_bytes / MIB,
                       rc_profile_function(p), WALK_MAX) < 0;
    }
    bad |= fflush(out) != 0;
    return bad ? RC_EIO : 0;
}
