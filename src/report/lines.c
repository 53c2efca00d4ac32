/* lines.c - rcr_lines: a function's source lines with their figures
 * (lines.h).
 *
 *   load (load.c) --> the names of every function on a stack that
 *                     allocated --> the one FUNCTION names
 *                 --> per stack: the innermost frame of that function,
 *                     charged with the stack's figures, per (file, line)
 *                 --> per file: its source found, the function's extent
 *                     scanned, the listing printed (text or JSON)
 *
 * Each stack node is symbolized once per pass: the search for the charged
 * frame remembers its answer per node (memo), and a node's answer is its
 * parent's when none of its own frames is the function, so the stacks of
 * a deep tree cost the size of the tree, not the sum of their depths.
 *
 * Invariant: every stack's figures are charged to at most one entry, so
 * the entries add up to the function's totals. */
#define _GNU_SOURCE
#include "report/lines.h"

#include "report/format.h"
#include "report/keys.h"
#include "report/load.h"
#include "report/sites.h"

#include <ctype.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MSG "recycle lines: "

/* Inlined frames looked at per pc: deeper inlining than this is rare, and
 * the function containing the pc is the last frame, which a deeper chain
 * would hide only from a function nested that deep. */
#define MAX_INLINE 32
/* Source files larger than this are not read: no function's file is. */
#define MAX_SOURCE ((size_t)64 << 20)
/* Similar names shown when FUNCTION names none, or several. */
#define MAX_SUGGESTIONS 8

/* ---- names ---------------------------------------------------------------------------- */

static bool is_ident(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* The length of name without the suffix a compiler gives a copy of the
 * function: " [clone .cold]" (demangled C++), ".part.0", ".constprop.0",
 * ".cold" (ELF names of C functions). A '.' inside brackets of any kind
 * belongs to a parameter ("...") and is kept. */
static size_t canonical_len(const char *name) {
    const char *clone = strstr(name, " [clone ");
    size_t n = clone ? (size_t)(clone - name) : strlen(name);
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c == '(' || c == '<' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == '>' || c == ']' || c == '}') && depth > 0)
            depth--;
        else if (c == '.' && depth == 0 && i > 0)
            return i;
    }
    return n;
}

/* The length of the part of a C++ name before its parameters:
 * "ns::A<int>::f" of "ns::A<int>::f(int) const". Template arguments and
 * lambdas ("{lambda(int)#1}") may hold parentheses; "(anonymous
 * namespace)" is a namespace; an operator's symbol ("operator()",
 * "operator<") is part of the name. */
static size_t base_len(const char *name, size_t n) {
    static const char anon[] = "(anonymous namespace)";
    int angle = 0, brace = 0;
    size_t i = 0;
    while (i < n) {
        if (n - i >= sizeof anon - 1 && memcmp(name + i, anon, sizeof anon - 1) == 0) {
            i += sizeof anon - 1;
            continue;
        }
        if (n - i >= 8 && memcmp(name + i, "operator", 8) == 0 &&
            (i == 0 || !is_ident(name[i - 1])) && (i + 8 == n || !is_ident(name[i + 8]))) {
            i += 8;
            if (i + 1 < n && name[i] == '(' && name[i + 1] == ')')
                i += 2;
            while (i < n && name[i] != '(')
                i++;
            continue;
        }
        char c = name[i];
        if (c == '<')
            angle++;
        else if (c == '>' && angle)
            angle--;
        else if (c == '{')
            brace++;
        else if (c == '}' && brace)
            brace--;
        else if (c == '(' && !angle && !brace)
            return i;
        i++;
    }
    return n;
}

/* Whether name[0..n) is want, or ends with "::" + want. */
static bool ends_with_name(const char *name, size_t n, const char *want) {
    size_t w = strlen(want);
    if (w == 0 || w > n || memcmp(name + n - w, want, w) != 0)
        return false;
    return w == n || (n - w >= 2 && name[n - w - 1] == ':' && name[n - w - 2] == ':');
}

/* Whether canonical name answers to want without being spelled as it is:
 * without leading scopes ("area(int)"), and then without parameters
 * ("area"), or without template arguments after that ("make" of
 * "Box<int>::make(int)"). */
static bool loose_match(const char *name, const char *want) {
    size_t n = strlen(name);
    if (ends_with_name(name, n, want))
        return true;
    size_t b = base_len(name, n);
    if (ends_with_name(name, b, want))
        return true;
    if (b > 0 && name[b - 1] == '>') {
        int depth = 0;
        for (size_t i = b; i-- > 0;) {
            if (name[i] == '>')
                depth++;
            else if (name[i] == '<' && --depth == 0)
                return i > 0 && ends_with_name(name, i, want);
        }
    }
    return false;
}

/* Whether a symbolizer's function name is the function canonical. */
static bool same_function(const char *name, const char *canonical, size_t canonical_n) {
    return canonical_len(name) == canonical_n && memcmp(name, canonical, canonical_n) == 0;
}

/* Edit distance of a and b, for suggestions; large when either is long. */
static size_t distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static bool contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    return false;
}

/* ---- the state of one listing ------------------------------------------------------------ */

/* What one line (or one address, without line information) was charged. */
typedef struct entry {
    const char *file;        /* symbolizer's; NULL: an address */
    const char *module;      /* replay's; NULL: in no module */
    int line;
    uint64_t offset;         /* in module, for an address */
    rcr_figures fig;         /* sums (node, epoch unused) */
} entry;

typedef struct lines_state {
    rcr_replay *r;
    const rcr_lines_options *o;
    const char *path;

    /* distinct canonical function names on the stacks */
    rcr_keys name_index;
    char **names;
    size_t nnames, cap_names;

    const char *target;      /* the canonical name FUNCTION stands for */
    size_t target_n;

    uint32_t *memo;          /* per node: 0 unknown, 1 none, 2 + entry */
    rcr_keys entry_index;
    entry *entries;
    size_t nentries, cap_entries;
    rcr_figures total;
} lines_state;

static bool grow(void **v, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * size);
    if (!p)
        return false;
    *v = p;
    *cap = n;
    return true;
}

static bool add_name(lines_state *st, const char *name) {
    size_t n = canonical_len(name);
    char buf[1024];
    char *key = n < sizeof buf ? buf : malloc(n + 1);
    if (!key)
        return false;
    memcpy(key, name, n);
    key[n] = '\0';
    uint32_t at;
    bool existed, ok = rcr_keys_find_or_add(&st->name_index, key, (uint32_t)st->nnames, &at,
                                             &existed);
    if (ok && !existed) {
        ok = grow((void **)&st->names, &st->cap_names, st->nnames + 1, sizeof *st->names);
        char *copy = ok ? strdup(key) : NULL;
        if (copy)
            st->names[st->nnames++] = copy;
        else
            ok = false;
    }
    if (key != buf)
        free(key);
    return ok;
}

/* Every function name on a stack that allocated. */
static bool collect_names(lines_state *st) {
    rcr_replay *r = st->r;
    uint8_t *seen = calloc(r->nnodes ? r->nnodes : 1, 1);
    if (!seen)
        return false;
    bool ok = true;
    rcs_frame f[MAX_INLINE];
    for (size_t i = 0; i < r->nfigures && ok; i++) {
        for (uint32_t n = r->figures[i].node; n != 0 && n < r->nnodes && !seen[n];
             n = r->nodes[n].parent) {
            seen[n] = 1;
            size_t k = rcr_frames_of(r, n, f, MAX_INLINE);
            for (size_t j = 0; j < k && j < MAX_INLINE && ok; j++)
                if (f[j].function && f[j].function[0])
                    ok = add_name(st, f[j].function);
        }
    }
    free(seen);
    return ok;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names like want, for a message: those containing it (any case),
 * else those within a few edits of it. */
static void print_similar(const lines_state *st, const char *want, FILE *err) {
    const char *shown[MAX_SUGGESTIONS];
    size_t n = 0, more = 0;
    for (size_t i = 0; i < st->nnames; i++) {
        if (!contains_nocase(st->names[i], want))
            continue;
        if (n < MAX_SUGGESTIONS)
            shown[n++] = st->names[i];
        else
            more++;
    }
    if (n == 0) {
        size_t limit = strlen(want) / 3 + 1;
        for (size_t i = 0; i < st->nnames; i++) {
            size_t b = base_len(st->names[i], strlen(st->names[i]));
            char base[72];
            if (b >= sizeof base)
                continue;
            memcpy(base, st->names[i], b);
            base[b] = '\0';
            if (distance(base, want) > limit)
                continue;
            if (n < MAX_SUGGESTIONS)
                shown[n++] = st->names[i];
            else
                more++;
        }
    }
    if (n == 0) {
        fprintf(err, MSG "(the capture's stacks hold %zu function names; `recycle report "
                "--by function` lists where memory was allocated)\n", st->nnames);
        return;
    }
    qsort(shown, n, sizeof *shown, cmp_names);
    fprintf(err, MSG "functions with a similar name:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(err, MSG "  %s\n", shown[i]);
    if (more)
        fprintf(err, MSG "  and %zu more\n", more);
}

/* The function FUNCTION stands for, into st->target; 1 after a message
 * when there is none, or more than one. */
static int resolve_function(lines_state *st, FILE *err) {
    const char *want = st->o->function;
    uint32_t at;
    /* The user's name may carry a clone suffix too. */
    size_t wn = canonical_len(want);
    char buf[1024];
    if (wn < sizeof buf) {
        memcpy(buf, want, wn);
        buf[wn] = '\0';
        if (rcr_keys_find(&st->name_index, buf, &at)) {
            st->target = st->names[at];
            st->target_n = strlen(st->target);
            return 0;
        }
    }
    const char *found[MAX_SUGGESTIONS];
    size_t n = 0, more = 0;
    for (size_t i = 0; i < st->nnames; i++) {
        if (!loose_match(st->names[i], want))
            continue;
        if (n < MAX_SUGGESTIONS)
            found[n++] = st->names[i];
        else
            more++;
    }
    if (n == 1) {
        st->target = found[0];
        st->target_n = strlen(st->target);
        return 0;
    }
    if (n > 1) {
        qsort(found, n, sizeof *found, cmp_names);
        fprintf(err, MSG "%s: '%s' names %zu functions; give one of them in full:\n", st->path,
                want, n + more);
        for (size_t i = 0; i < n; i++)
            fprintf(err, MSG "  %s\n", found[i]);
        if (more)
            fprintf(err, MSG "  and %zu more\n", more);
        return 1;
    }
    if (st->r->nfigures == 0)
        fprintf(err, MSG "%s: no function '%s': the capture holds no allocation\n", st->path,
                want);
    else
        fprintf(err, MSG "%s: no function '%s' on any stack that allocated\n", st->path, want);
    if (st->nnames)
        print_similar(st, want, err);
    else if (st->r->nfigures)
        fprintf(err, MSG "(no frame of the capture has a function name: the modules it names "
                "are missing, or have no symbols)\n");
    return 1;
}

/* ---- charging stacks to lines ----------------------------------------------------------- */

/* The entry of frame f of node id (a line, or the node's address when f
 * has no line); RCR_NONE on out of memory. */
static uint32_t entry_of(lines_state *st, uint32_t id, const rcs_frame *f) {
    rcr_frame where;
    rcr_frame_of(st->r, id, &where);
    bool by_line = f->file && f->line > 0;
    char key[4096];
    if (by_line)
        snprintf(key, sizeof key, "l\x1f%s\x1f%d", f->file, f->line);
    else
        snprintf(key, sizeof key, "a\x1f%s\x1f%" PRIx64, where.module ? where.module : "",
                 where.offset);
    uint32_t at;
    bool existed;
    if (!rcr_keys_find_or_add(&st->entry_index, key, (uint32_t)st->nentries, &at, &existed))
        return RCR_NONE;
    if (existed)
        return at;
    if (!grow((void **)&st->entries, &st->cap_entries, st->nentries + 1, sizeof *st->entries))
        return RCR_NONE;   /* the listing is abandoned: the dangling key is never read */
    entry *e = &st->entries[st->nentries++];
    memset(e, 0, sizeof *e);
    e->file = by_line ? f->file : NULL;
    e->line = by_line ? f->line : 0;
    e->module = where.module;
    e->offset = where.offset;
    return at;
}

/* memo value of node id alone: 2 + the entry of its innermost frame of
 * the function, 1 when none of its frames is; 0 on out of memory. */
static uint32_t match_node(lines_state *st, uint32_t id) {
    rcs_frame f[MAX_INLINE];
    size_t k = rcr_frames_of(st->r, id, f, MAX_INLINE);
    for (size_t j = 0; j < k && j < MAX_INLINE; j++) {
        if (!f[j].function || !same_function(f[j].function, st->target, st->target_n))
            continue;
        uint32_t e = entry_of(st, id, &f[j]);
        return e == RCR_NONE ? 0 : e + 2;
    }
    return 1;
}

/* The memo value of the stack ending at node id, found from its innermost
 * frame outward; 0 on out of memory. */
static uint32_t charge_of(lines_state *st, uint32_t id) {
    rcr_replay *r = st->r;
    uint32_t pending[256];
    size_t npending = 0;
    uint32_t result = 1;
    for (uint32_t n = id; n != 0 && n < r->nnodes; n = r->nodes[n].parent) {
        if (st->memo[n]) {
            result = st->memo[n];
            break;
        }
        uint32_t m = match_node(st, n);
        if (m == 0)
            return 0;
        if (m != 1) {
            st->memo[n] = m;
            result = m;
            break;
        }
        /* the memo only saves work: a deeper stack is just not remembered */
        if (npending < sizeof pending / sizeof pending[0])
            pending[npending++] = n;
    }
    for (size_t i = 0; i < npending; i++)
        st->memo[pending[i]] = result;
    return result;
}

static void add_figures(rcr_figures *to, const rcr_figures *f) {
    to->bytes += f->bytes;
    to->allocations += f->allocations;
    to->live_bytes += f->live_bytes;
    to->live_allocations += f->live_allocations;
    to->peak_bytes += f->peak_bytes;
    to->peak_allocations += f->peak_allocations;
}

static bool charge_stacks(lines_state *st) {
    rcr_replay *r = st->r;
    st->memo = calloc(r->nnodes ? r->nnodes : 1, sizeof *st->memo);
    if (!st->memo)
        return false;
    for (size_t i = 0; i < r->nfigures; i++) {
        uint32_t m = charge_of(st, r->figures[i].node);
        if (m == 0)
            return false;
        if (m == 1)
            continue;
        add_figures(&st->entries[m - 2].fig, &r->figures[i]);
        add_figures(&st->total, &r->figures[i]);
    }
    return true;
}

static int cmp_str(const char *a, const char *b) {
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

/* Files first (by name, then line), then addresses (by module, offset). */
static int cmp_entries(const void *pa, const void *pb) {
    const entry *a = pa, *b = pb;
    if ((a->file == NULL) != (b->file == NULL))
        return a->file ? -1 : 1;
    int c;
    if (a->file) {
        c = strcmp(a->file, b->file);
        if (!c)
            c = (a->line > b->line) - (a->line < b->line);
        return c;
    }
    c = cmp_str(a->module, b->module);
    if (!c)
        c = (a->offset > b->offset) - (a->offset < b->offset);
    return c;
}

/* ---- the source ----------------------------------------------------------------------------- */

typedef struct source {
    char *found;             /* the path it was read from; NULL: not found */
    char *text;
    size_t len;
    size_t *starts;          /* offset of each line (1-based: starts[0] is line 1) */
    int nlines;
    bool newer;              /* modified after the program was built */
} source;

static void source_free(source *s) {
    free(s->found);
    free(s->text);
    free(s->starts);
    memset(s, 0, sizeof *s);
}

/* The file at path, whole; NULL when it cannot be read, is not a regular
 * file, or is larger than MAX_SOURCE. */
static char *read_file(const char *path, size_t *len, struct stat *st) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    if (fstat(fileno(f), st) == 0 && S_ISREG(st->st_mode) && (size_t)st->st_size <= MAX_SOURCE) {
        size_t n = (size_t)st->st_size;
        text = malloc(n + 1);
        if (text && fread(text, 1, n, f) == n) {
            text[n] = '\0';
            *len = n;
        } else {
            free(text);
            text = NULL;
        }
    }
    fclose(f);
    return text;
}

/* Try one candidate path; true when it was read. */
static bool try_source(source *s, const char *candidate) {
    struct stat st;
    s->text = read_file(candidate, &s->len, &st);
    if (!s->text)
        return false;
    s->found = strdup(candidate);
    if (!s->found) {
        free(s->text);
        s->text = NULL;
        return false;
    }
    return true;
}

/* The source of file (as DWARF names it): as given (absolute, or relative
 * to the working directory), relative to the capture's directory, then
 * under each source directory with every tail of its path ("a/b/c.c",
 * "b/c.c", "c.c"), longest first, so that a tree moved or copied elsewhere
 * is found. The source is newer than the program when it was modified
 * after the module holding the code (or, that module gone, the capture)
 * was written: its lines may not be those the debug information names. */
static void find_source(source *s, const char *file, const char *capture, const char *module,
                        const rcr_lines_options *o) {
    memset(s, 0, sizeof *s);
    if (try_source(s, file))
        goto found;
    char *candidate = NULL;
    if (file[0] != '/') {
        char *copy = strdup(capture);
        if (copy && asprintf(&candidate, "%s/%s", dirname(copy), file) >= 0) {
            bool ok = try_source(s, candidate);
            free(candidate);
            if (ok) {
                free(copy);
                goto found;
            }
        }
        free(copy);
    }
    for (size_t d = 0; d < o->nsource_dirs; d++) {
        for (const char *tail = file; tail; tail = strchr(tail, '/')) {
            while (*tail == '/')
                tail++;
            if (!*tail)
                break;
            if (asprintf(&candidate, "%s/%s", o->source_dirs[d], tail) < 0)
                return;
            bool ok = try_source(s, candidate);
            free(candidate);
            if (ok)
                goto found;
        }
    }
    return;
found:;
    struct stat src, built;
    if (stat(s->found, &src) == 0 &&
        ((module && stat(module, &built) == 0) || stat(capture, &built) == 0) &&
        (src.st_mtim.tv_sec > built.st_mtim.tv_sec ||
         (src.st_mtim.tv_sec == built.st_mtim.tv_sec &&
          src.st_mtim.tv_nsec > built.st_mtim.tv_nsec)))
        s->newer = true;
    size_t n = 1;
    for (size_t i = 0; i < s->len; i++)
        n += s->text[i] == '\n';
    s->starts = malloc(n * sizeof *s->starts);
    if (!s->starts) {
        source_free(s);
        return;
    }
    s->starts[0] = 0;
    s->nlines = 1;
    for (size_t i = 0; i < s->len; i++)
        if (s->text[i] == '\n' && i + 1 < s->len)
            s->starts[s->nlines++] = i + 1;
}

/* Line k (1-based) of s: its text and length without the line end. */
static const char *source_line(const source *s, int k, size_t *len) {
    if (k < 1 || k > s->nlines) {
        *len = 0;
        return "";
    }
    const char *p = s->text + s->starts[k - 1];
    size_t n = 0;
    while (p + n < s->text + s->len && p[n] != '\n')
        n++;
    if (n && p[n - 1] == '\r')
        n--;
    *len = n;
    return p;
}

/* ---- where a function starts and ends ---------------------------------------------------------
 *
 * The file is scanned once, as a compiler's first pass would see its
 * braces: comments, string and character literals are skipped, and of
 * each #if/#elif/#else group only the branch a build would most likely
 * take (the first, or the #else of an #if 0) counts, so that two versions
 * of a signature do not open two braces. A '{' opens a function body when
 * the last thing before it, at the statement's top level, is a group of
 * parentheses after a name that is not a keyword: `f(int a) {`,
 * `A::A() : x(1) {`, `int f(void) const {`. Such a body spans from the
 * first token of its statement (the return type, `static`, a template
 * header) to its '}'. The listing is the outermost body holding the
 * lowest line with figures (a lambda or a nested function-like macro is
 * inside it). */

typedef struct span {
    int start, open, close;
} span;

typedef struct scanner {
    const char *s;
    size_t n, i;
    int line;
    bool bol;                /* only blanks since the line began */
    span *spans;
    size_t nspans, cap_spans;
    /* open braces, and whether each opened a function body */
    struct {
        int start, open;
        bool body;
    } braces[256];
    size_t depth;            /* may exceed 256: deeper braces are not kept */
    bool callee[256];        /* per open '(': it follows a name */
    size_t parens;
    int stmt;                /* line of the statement's first token, 0 none */
    bool after_call;         /* the last top-level ')' closed a call-like group */
    bool last_close;         /* the last token was ')' */
    char last_word[32];      /* the last token, when a word; "" otherwise */
    bool operator_name;      /* inside "operator<symbol>" */
    bool failed;             /* out of memory: bodies are missing, which is
                                benign (the listing falls back to the lines
                                with figures) */
} scanner;

static bool is_control(const char *w) {
    static const char *const words[] = {
        "if", "for", "while", "switch", "catch", "return", "sizeof", "alignof", "_Alignof",
        "decltype", "typeof", "__typeof__", "_Generic", "defined", "do", "else", "case",
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(w, words[i]) == 0)
            return true;
    return false;
}

static void token(scanner *sc) {
    if (!sc->stmt)
        sc->stmt = sc->line;
}

/* Skip a preprocessor line (and its continuations) from '#'; returns the
 * directive's name in word. */
static void skip_directive(scanner *sc, char word[16], bool *zero) {
    size_t i = sc->i + 1;
    while (i < sc->n && (sc->s[i] == ' ' || sc->s[i] == '\t'))
        i++;
    size_t w = 0;
    while (i < sc->n && is_ident(sc->s[i])) {
        if (w < 15)
            word[w++] = sc->s[i];
        i++;
    }
    word[w] = '\0';
    while (i < sc->n && (sc->s[i] == ' ' || sc->s[i] == '\t'))
        i++;
    *zero = i < sc->n && sc->s[i] == '0' && (i + 1 >= sc->n || !is_ident(sc->s[i + 1]));
    for (; i < sc->n; i++) {
        if (sc->s[i] == '\\' && i + 1 < sc->n && sc->s[i + 1] == '\n') {
            i++;
            sc->line++;
        } else if (sc->s[i] == '\n') {
            break;
        }
    }
    sc->i = i;   /* at the '\n' */
}

static void add_span(scanner *sc, int start, int open, int close) {
    if (sc->nspans == sc->cap_spans &&
        !grow((void **)&sc->spans, &sc->cap_spans, sc->nspans + 1, sizeof *sc->spans)) {
        sc->failed = true;
        return;
    }
    sc->spans[sc->nspans++] = (span){start, open, close};
}

static void open_brace(scanner *sc) {
    token(sc);
    bool body = sc->after_call && sc->parens == 0;
    if (sc->depth < sizeof sc->braces / sizeof sc->braces[0]) {
        sc->braces[sc->depth].start = sc->stmt;
        sc->braces[sc->depth].open = sc->line;
        sc->braces[sc->depth].body = body;
    }
    sc->depth++;
    sc->stmt = 0;
    sc->after_call = false;
}

static void close_brace(scanner *sc) {
    if (sc->depth == 0)
        return;
    sc->depth--;
    if (sc->depth < sizeof sc->braces / sizeof sc->braces[0] && sc->braces[sc->depth].body)
        add_span(sc, sc->braces[sc->depth].start, sc->braces[sc->depth].open, sc->line);
    sc->stmt = 0;
    sc->after_call = false;
}

/* Every function body of the file (spans, in the order they close). */
static void scan_source(scanner *sc, const char *s, size_t n) {
    memset(sc, 0, sizeof *sc);
    sc->s = s;
    sc->n = n;
    sc->line = 1;
    sc->bol = true;
    /* #if nesting: whether each level skips its current branch, and
     * whether it has taken a branch already */
    bool skipping[64] = {false}, taken[64] = {false};
    size_t cond = 0;
    size_t skip_levels = 0;    /* levels skipping (code counts when 0) */

    for (; sc->i < n; sc->i++) {
        char c = s[sc->i];
        if (c == '\n') {
            sc->line++;
            sc->bol = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
            continue;
        if (c == '#' && sc->bol) {
            char word[16];
            bool zero;
            skip_directive(sc, word, &zero);
            sc->i--;   /* the '\n' is taken by the loop */
            if (strcmp(word, "if") == 0 || strcmp(word, "ifdef") == 0 ||
                strcmp(word, "ifndef") == 0) {
                if (cond < 64) {
                    skipping[cond] = strcmp(word, "if") == 0 && zero;
                    taken[cond] = !skipping[cond];
                    skip_levels += skipping[cond];
                }
                cond++;
            } else if ((strcmp(word, "elif") == 0 || strcmp(word, "else") == 0 ||
                        strcmp(word, "elifdef") == 0 || strcmp(word, "elifndef") == 0) &&
                       cond > 0) {
                if (cond <= 64) {
                    size_t k = cond - 1;
                    bool skip = taken[k];
                    skip_levels -= skipping[k];
                    skipping[k] = skip;
                    skip_levels += skip;
                    taken[k] = true;
                }
            } else if (strcmp(word, "endif") == 0 && cond > 0) {
                cond--;
                if (cond < 64)
                    skip_levels -= skipping[cond];
            }
            /* a directive ends a statement as far as the next one goes */
            if (skip_levels == 0 && sc->parens == 0)
                sc->stmt = 0;
            continue;
        }
        sc->bol = false;
        /* comments are skipped even in skipped branches (they may hold '#') */
        if (c == '/' && sc->i + 1 < n && s[sc->i + 1] == '/') {
            while (sc->i + 1 < n && s[sc->i + 1] != '\n')
                sc->i++;
            continue;
        }
        if (c == '/' && sc->i + 1 < n && s[sc->i + 1] == '*') {
            sc->i += 2;
            while (sc->i < n && !(s[sc->i] == '*' && sc->i + 1 < n && s[sc->i + 1] == '/')) {
                if (s[sc->i] == '\n')
                    sc->line++;
                sc->i++;
            }
            sc->i++;   /* at the '/' */
            continue;
        }
        /* in a skipped branch only comments and directives are followed:
         * its text need not even be C */
        if (skip_levels)
            continue;
        if (c == '"') {
            token(sc);
            size_t len = strlen(sc->last_word);
            bool raw = len > 0 && sc->last_word[len - 1] == 'R' && sc->i > 0 && s[sc->i - 1] == 'R';
            if (raw) {
                /* R"delim( ... )delim" */
                size_t d0 = sc->i + 1, d = d0;
                while (d < n && s[d] != '(' && d - d0 < 16)
                    d++;
                size_t dlen = d - d0, i = d + 1;
                for (; i < n; i++) {
                    if (s[i] == '\n')
                        sc->line++;
                    if (s[i] == ')' && i + 1 + dlen < n && memcmp(s + i + 1, s + d0, dlen) == 0 &&
                        s[i + 1 + dlen] == '"') {
                        i += 1 + dlen;
                        break;
                    }
                }
                sc->i = i < n ? i : n - 1;
            } else {
                size_t i = sc->i + 1;
                for (; i < n && s[i] != '"' && s[i] != '\n'; i++)
                    if (s[i] == '\\' && i + 1 < n && s[i + 1] != '\n')
                        i++;
                sc->i = i < n && s[i] == '"' ? i : i - 1;
            }
            sc->last_word[0] = '\0';
            sc->last_close = false;
            continue;
        }
        if (c == '\'') {
            /* after a digit: a digit separator (1'000) */
            if (sc->i > 0 && isalnum((unsigned char)s[sc->i - 1]))
                continue;
            token(sc);
            size_t i = sc->i + 1;
            for (; i < n && s[i] != '\'' && s[i] != '\n'; i++)
                if (s[i] == '\\' && i + 1 < n && s[i + 1] != '\n')
                    i++;
            sc->i = i < n && s[i] == '\'' ? i : i - 1;
            sc->last_word[0] = '\0';
            sc->last_close = false;
            continue;
        }
        if (is_ident(c)) {
            token(sc);
            /* a number's '.' and digit separators are part of it */
            bool number = isdigit((unsigned char)c);
            size_t w = 0;
            while (sc->i < n &&
                   (is_ident(s[sc->i]) || (number && (s[sc->i] == '.' || s[sc->i] == '\'')))) {
                if (w < sizeof sc->last_word - 1)
                    sc->last_word[w++] = s[sc->i];
                sc->i++;
            }
            sc->i--;
            sc->last_word[w] = '\0';
            if (number)
                sc->last_word[0] = '\0';
            sc->operator_name = strcmp(sc->last_word, "operator") == 0;
            sc->last_close = false;
            continue;
        }
        token(sc);
        switch (c) {
        case '(': {
            bool callee = (sc->last_word[0] && !is_control(sc->last_word)) || sc->operator_name ||
                          (sc->last_close && sc->after_call);
            if (sc->parens < sizeof sc->callee)
                sc->callee[sc->parens] = callee;
            sc->parens++;
            sc->operator_name = false;
            sc->last_word[0] = '\0';
            sc->last_close = false;
            continue;
        }
        case ')':
            if (sc->parens) {
                sc->parens--;
                if (sc->parens == 0)
                    sc->after_call = sc->callee[0];   /* the group just closed */
            }
            sc->last_word[0] = '\0';
            sc->last_close = true;
            continue;
        case '{':
            open_brace(sc);
            break;
        case '}':
            close_brace(sc);
            break;
        case ';':
            if (sc->parens == 0) {
                sc->stmt = 0;
                sc->after_call = false;
            }
            break;
        case '=':
            if (sc->parens == 0 && !sc->operator_name)
                sc->after_call = false;
            break;
        case ':':
            /* "public:" ends a statement in a class body */
            if (strcmp(sc->last_word, "public") == 0 || strcmp(sc->last_word, "private") == 0 ||
                strcmp(sc->last_word, "protected") == 0)
                sc->stmt = 0;
            break;
        default:
            break;
        }
        if (c == '{' || c == ';')
            sc->operator_name = false;
        sc->last_word[0] = '\0';
        sc->last_close = false;
    }
}

/* The lines to list for a function whose lines with figures are lo..hi. */
static void function_extent(const source *src, int lo, int hi, int *first, int *last) {
    scanner sc;
    scan_source(&sc, src->text, src->len);
    const span *best = NULL;
    for (size_t i = 0; i < sc.nspans; i++) {
        const span *s = &sc.spans[i];
        if (s->start <= lo && lo <= s->close && (!best || s->start < best->start))
            best = s;
    }
    *first = lo;
    *last = hi;
    if (best) {
        *first = best->start;
        if (best->close > *last)
            *last = best->close;
    }
    free(sc.spans);
}

/* ---- text ------------------------------------------------------------------------------ */

#define ROW "%6s  %11s  %11s  %10s  "

static void print_figures(FILE *out, const char *label, const rcr_figures *f) {
    char a[32], b[32], c[32];
    fprintf(out, ROW, label, rcr_fmt_bytes(a, f->bytes), rcr_fmt_count(b, f->allocations),
            rcr_fmt_bytes(c, f->live_bytes));
}

static void put_text_line(FILE *out, const char *p, size_t len) {
    fwrite(p, 1, len, out);
    fputc('\n', out);
}

/* The entries [from, to) of one source file. */
static void text_file(FILE *out, lines_state *st, size_t from, size_t to) {
    const entry *e = &st->entries[from];
    source src;
    find_source(&src, e->file, st->path, e->module, st->o);
    fprintf(out, "\n%s\n", e->file);
    if (!src.text) {
        fprintf(out, "(source not found: the lines that allocated are shown; --source-dir DIR "
                "tells where to look)\n");
        fputs("       bytes  allocations      leaked  line\n", out);
        for (size_t i = from; i < to; i++) {
            char a[32], b[32], c[32];
            fprintf(out, "%12s  %11s  %10s  %s:%d\n", rcr_fmt_bytes(a, st->entries[i].fig.bytes),
                    rcr_fmt_count(b, st->entries[i].fig.allocations),
                    rcr_fmt_bytes(c, st->entries[i].fig.live_bytes), st->entries[i].file,
                    st->entries[i].line);
        }
        return;
    }
    if (strcmp(src.found, e->file) != 0)
        fprintf(out, "(source read from %s)\n", src.found);
    if (src.newer)
        fprintf(out, "(the source changed after the program was built: lines may have "
                "moved)\n");
    int first, last;
    function_extent(&src, e->line, st->entries[to - 1].line, &first, &last);
    fprintf(out, ROW "source\n", "line", "bytes", "allocations", "leaked");
    size_t next = from;
    for (int k = first; k <= last; k++) {
        char num[16];
        snprintf(num, sizeof num, "%d", k);
        while (next < to && st->entries[next].line < k)
            next++;
        size_t len;
        const char *p = source_line(&src, k, &len);
        if (next < to && st->entries[next].line == k)
            print_figures(out, num, &st->entries[next].fig);
        else if (len)
            fprintf(out, ROW, num, "", "", "");
        else
            fprintf(out, "%6s", num);   /* no blanks at the end of the line */
        put_text_line(out, p, len);
    }
    if (last > src.nlines)
        fprintf(out, "(the source has %d lines only: it is not the one the program was built "
                "from)\n", src.nlines);
    source_free(&src);
}

static const char *basename_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* The entries [from, to) without line information (one module). */
static void text_addresses(FILE *out, lines_state *st, size_t from, size_t to) {
    const entry *e = &st->entries[from];
    fprintf(out, "\n%s\n", e->module ? e->module : "(in no module)");
    fputs("(no line information: built without -g, or its debug information is missing; "
          "shown by address)\n", out);
    fputs("       bytes  allocations      leaked  address\n", out);
    for (size_t i = from; i < to; i++) {
        const entry *x = &st->entries[i];
        char a[32], b[32], c[32];
        fprintf(out, "%12s  %11s  %10s  ", rcr_fmt_bytes(a, x->fig.bytes),
                rcr_fmt_count(b, x->fig.allocations), rcr_fmt_bytes(c, x->fig.live_bytes));
        if (x->module)
            fprintf(out, "%s+0x%" PRIx64 "\n", basename_of(x->module), x->offset);
        else
            fprintf(out, "0x%" PRIx64 "\n", x->offset);
    }
}

/* The end of the group of entries starting at from: same file, or (for
 * addresses) same module. */
static size_t group_end(const lines_state *st, size_t from) {
    const entry *e = &st->entries[from];
    size_t i = from + 1;
    while (i < st->nentries) {
        const entry *x = &st->entries[i];
        if (e->file ? !x->file || strcmp(x->file, e->file) != 0
                    : x->file || cmp_str(x->module, e->module) != 0)
            break;
        i++;
    }
    return i;
}

static void render_text(FILE *out, lines_state *st) {
    const rcr_replay *r = st->r;
    char a[32], b[32], c[32], d[32];
    fprintf(out, "program          %s (pid %" PRIu64 ")\n",
            r->command_line[0] ? r->command_line : r->program, r->header.pid);
    fprintf(out, "function         %s\n", st->target);
    if (r->header.sample_bytes)
        fprintf(out, "sampled          one allocation per %s allocated on average: the "
                "figures are estimates\n", rcr_fmt_bytes(a, r->header.sample_bytes));
    fprintf(out, "allocated        %s in %s %s", rcr_fmt_bytes(a, st->total.bytes),
            rcr_fmt_count(b, st->total.allocations),
            rcr_plural(st->total.allocations, "allocation"));
    if (r->totals.bytes_allocated)
        fprintf(out, " (%.1f%% of the program's %s)",
                100.0 * (double)st->total.bytes / (double)r->totals.bytes_allocated,
                rcr_fmt_bytes(c, r->totals.bytes_allocated));
    fputc('\n', out);
    fprintf(out, "%s   %s in %s %s\n", rcr_ended_by_itself(r) ? "leaked at exit" : "live at end   ",
            rcr_fmt_bytes(c, st->total.live_bytes), rcr_fmt_count(d, st->total.live_allocations),
            rcr_plural(st->total.live_allocations, "block"));
    for (size_t i = 0; i < st->nentries;) {
        size_t end = group_end(st, i);
        if (st->entries[i].file)
            text_file(out, st, i, end);
        else
            text_addresses(out, st, i, end);
        i = end;
    }
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void json_figures(FILE *out, const rcr_figures *f) {
    fprintf(out, "\"bytes\": %" PRIu64 ", \"allocations\": %" PRIu64 ", \"leaked_bytes\": %" PRIu64
            ", \"leaked_allocations\": %" PRIu64 ", \"peak_bytes\": %" PRIu64
            ", \"peak_allocations\": %" PRIu64,
            f->bytes, f->allocations, f->live_bytes, f->live_allocations, f->peak_bytes,
            f->peak_allocations);
}

static void json_group(FILE *out, lines_state *st, size_t from, size_t to) {
    const entry *e = &st->entries[from];
    source src;
    memset(&src, 0, sizeof src);
    if (e->file)
        find_source(&src, e->file, st->path, e->module, st->o);
    fputs("    {\"file\": ", out);
    rcr_json_string(out, e->file);
    fputs(", \"module\": ", out);
    rcr_json_string(out, e->module);
    fputs(", \"source\": ", out);
    rcr_json_string(out, src.found);
    if (src.text) {
        int first, last;
        function_extent(&src, e->line, st->entries[to - 1].line, &first, &last);
        fprintf(out, ", \"first_line\": %d, \"last_line\": %d", first, last);
    } else {
        fputs(", \"first_line\": null, \"last_line\": null", out);
    }
    fputs(", \"lines\": [", out);
    for (size_t i = from; i < to; i++) {
        const entry *x = &st->entries[i];
        fputs(i == from ? "\n      {" : ",\n      {", out);
        if (x->file)
            fprintf(out, "\"line\": %d, \"offset\": null, ", x->line);
        else
            fprintf(out, "\"line\": null, \"offset\": %" PRIu64 ", ", x->offset);
        json_figures(out, &x->fig);
        fputs(", \"text\": ", out);
        if (src.text && x->line >= 1 && x->line <= src.nlines) {
            size_t len;
            const char *p = source_line(&src, x->line, &len);
            char *copy = strndup(p, len);
            rcr_json_string(out, copy ? copy : "");
            free(copy);
        } else {
            fputs("null", out);
        }
        fputc('}', out);
    }
    fputs(to > from ? "\n    ]}" : "]}", out);
    source_free(&src);
}

static void render_json(FILE *out, lines_state *st, bool complete) {
    fputs("{\n", out);
    rcr_json_run(out, st->r, complete);
    fputs("  \"function\": ", out);
    rcr_json_string(out, st->target);
    fputs(",\n  \"asked\": ", out);
    rcr_json_string(out, st->o->function);
    fputs(",\n", out);
    rcr_json_totals(out, st->r);
    fputs(",\n  \"function_totals\": {", out);
    json_figures(out, &st->total);
    fputs("},\n  \"files\": [", out);
    for (size_t i = 0; i < st->nentries;) {
        size_t end = group_end(st, i);
        fputs(i ? ",\n" : "\n", out);
        json_group(out, st, i, end);
        i = end;
    }
    fputs(st->nentries ? "\n  ]\n}\n" : "]\n}\n", out);
}

/* ---- the whole ------------------------------------------------------------------------------- */

int rcr_lines(const char *path, const rcr_lines_options *o, FILE *out, FILE *err) {
    rcr_replay replay;
    bool complete;
    rcr_load_options lo = {.prefix = MSG, .progress = o->progress};
    if (rcr_load(path, &lo, &replay, &complete, err) != 0)
        return 1;

    lines_state st = {.r = &replay, .o = o, .path = path};
    int status = 1;
    if (!collect_names(&st))
        goto oom;
    if (resolve_function(&st, err) != 0)
        goto done;
    if (!charge_stacks(&st))
        goto oom;
    if (st.nentries > 1)
        qsort(st.entries, st.nentries, sizeof *st.entries, cmp_entries);
    if (o->json)
        render_json(out, &st, complete);
    else
        render_text(out, &st);
    status = 0;
    goto done;
oom:
    fprintf(err, MSG "%s: out of memory\n", path);
done:
    for (size_t i = 0; i < st.nnames; i++)
        free(st.names[i]);
    free(st.names);
    rcr_keys_free(&st.name_index);
    rcr_keys_free(&st.entry_index);
    free(st.entries);
    free(st.memo);
    rcr_replay_free(&replay);
    return status;
}
