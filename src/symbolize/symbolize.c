/* symbolize.c - code addresses to frames, with libdwfl, cached per address.
 *
 * Data model
 * ----------
 * One process-wide symbolizer (the layer's API has no handle: the trace and
 * report layers share it), all of it under one mutex because libdwfl is not
 * thread-safe:
 *
 *   dwfl        the libdwfl session for this process: every module of
 *               /proc/self/maps (executable, shared libraries, vdso), each
 *               with its load bias; ELF and DWARF opened lazily by libdwfl
 *               the first time an address in the module is looked up.
 *   cache       pc -> entry. An entry is one allocation: the pc, the number
 *               of frames and the frames themselves, written once before it
 *               is published and never changed, so a hit is a probe and a
 *               copy of the frames.
 *   strings     every string a frame points to (function, file, module),
 *               interned: one copy per distinct string, owned here and never
 *               moved, so frames of all entries share them and a caller may
 *               keep them until rcs_reset. No frame points into libdw's
 *               memory, which libdwfl may free when it drops a module.
 *
 *      rcs_symbolize(pc) --lock--> cache hit? --yes--> copy frames --unlock
 *                                      | no
 *                                      v
 *             dwfl_addrmodule(pc - 1) --none--> loaded objects changed since
 *                                      |        the last report? re-report
 *                                      v        and retry once
 *             CU DIE -> dwarf_getscopes -> innermost scope -> its chain of
 *             parents (dwarf_getscopes_die) -> one frame per subprogram or
 *             inlined_subroutine, innermost first; else the ELF symbol
 *             -> intern strings -> insert entry -> copy frames
 *
 * Invariants
 *  - Every entry in the cache holds nframes >= 1 frames whose strings are
 *    interned in `strings` (or NULL). An unknown address is cached too (one
 *    frame, every field unknown), so a bad address costs one miss only.
 *  - `bytes` is the sum of the sizes of everything this file allocated
 *    (tables, entries, strings): rcs_memory's answer.
 *  - Nothing here allocates through the recycle heap: libc malloc only, like
 *    libdw itself, so a tracer of the recycle heap never sees symbolization.
 *  - A failure (out of memory, a module libdwfl cannot read, damaged DWARF)
 *    degrades the answer to fewer or unknown fields; it never aborts and
 *    never fails the call.
 *
 * The inline chain: the innermost concrete scope containing pc (a lexical
 * block, an inlined_subroutine or the subprogram) and its parents are walked
 * outward. The first function-like DIE met gets pc's own line (from the line
 * table); every inlined_subroutine carries in DW_AT_call_file/DW_AT_call_line
 * the place in its caller where it was inlined, which is the location of the
 * next function-like DIE outward. The walk ends at the first subprogram: the
 * function whose code this is. */
#define _GNU_SOURCE
#include "symbolize/symbolize.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Frames of one address kept in the cache at most. Inlining deeper than this
 * (rare: each level is a function the compiler chose to inline into the next)
 * loses its outermost inlined levels, never the containing function. */
#define RCS_MAX_FRAMES 64

/* Addresses below this are never code (the first page is never mapped). */
#define RCS_MIN_PC 4096

typedef struct rcs_entry {
    uintptr_t pc;
    size_t nframes;
    rcs_frame frames[];
} rcs_entry;

typedef struct rcs_state {
    pthread_mutex_t lock;
    Dwfl *dwfl;                       /* NULL until first used, or after reset */
    unsigned long long loads_seen;    /* dlpi_adds + dlpi_subs at the last report */
    /* pc -> entry; open addressing, linear probing, NULL = empty slot */
    rcs_entry **cache;
    size_t cache_mask, cache_count;
    /* interned strings; open addressing, NULL = empty slot */
    char **strings;
    size_t strings_mask, strings_count;
    size_t bytes;
    /* __cxa_demangle when the process has the C++ runtime loaded */
    char *(*demangle)(const char *, char *, size_t *, int *);
    bool demangle_looked_up;
} rcs_state;

static rcs_state rcs = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- hashing -------------------------------------------------------------- */

static size_t rcs_hash_pc(uintptr_t pc) {
    uint64_t h = (uint64_t)pc * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29));
}

static size_t rcs_hash_str(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;            /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (size_t)(h ^ (h >> 32));
}

/* ---- the address cache ---------------------------------------------------- */

static rcs_entry *rcs_cache_get(uintptr_t pc) {
    if (!rcs.cache)
        return NULL;
    for (size_t i = rcs_hash_pc(pc) & rcs.cache_mask;; i = (i + 1) & rcs.cache_mask) {
        rcs_entry *e = rcs.cache[i];
        if (!e || e->pc == pc)
            return e;
    }
}

/* Doubles the table (or creates it); false on ENOMEM, the table unchanged. */
static bool rcs_cache_grow(void) {
    size_t cap = rcs.cache ? 2 * (rcs.cache_mask + 1) : 256;
    rcs_entry **t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    if (rcs.cache) {
        for (size_t i = 0; i <= rcs.cache_mask; i++) {
            rcs_entry *e = rcs.cache[i];
            if (!e)
                continue;
            size_t j = rcs_hash_pc(e->pc) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = e;
        }
        free(rcs.cache);
        rcs.bytes -= (rcs.cache_mask + 1) * sizeof *t;
    }
    rcs.cache = t;
    rcs.cache_mask = cap - 1;
    rcs.bytes += cap * sizeof *t;
    return true;
}

/* Inserts e (whose pc is absent); false on ENOMEM (e is not inserted). */
static bool rcs_cache_put(rcs_entry *e) {
    if ((rcs.cache_count + 1) * 4 > (rcs.cache ? rcs.cache_mask + 1 : 0) * 3 && !rcs_cache_grow())
        return false;
    size_t i = rcs_hash_pc(e->pc) & rcs.cache_mask;
    while (rcs.cache[i])
        i = (i + 1) & rcs.cache_mask;
    rcs.cache[i] = e;
    rcs.cache_count++;
    return true;
}

/* ---- interned strings ----------------------------------------------------- */

static bool rcs_strings_grow(void) {
    size_t cap = rcs.strings ? 2 * (rcs.strings_mask + 1) : 256;
    char **t = calloc(cap, sizeof *t);
    if (!t)
        return false;
    if (rcs.strings) {
        for (size_t i = 0; i <= rcs.strings_mask; i++) {
            char *s = rcs.strings[i];
            if (!s)
                continue;
            size_t j = rcs_hash_str(s) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = s;
        }
        free(rcs.strings);
        rcs.bytes -= (rcs.strings_mask + 1) * sizeof *t;
    }
    rcs.strings = t;
    rcs.strings_mask = cap - 1;
    rcs.bytes += cap * sizeof *t;
    return true;
}

/* The interned copy of s; NULL when s is NULL or on ENOMEM (the field then
 * reads as unknown, which is the documented degradation). */
static const char *rcs_intern(const char *s) {
    if (!s)
        return NULL;
    size_t h = rcs_hash_str(s);
    if (rcs.strings) {
        for (size_t i = h & rcs.strings_mask; rcs.strings[i]; i = (i + 1) & rcs.strings_mask)
            if (strcmp(rcs.strings[i], s) == 0)
                return rcs.strings[i];
    }
    if ((rcs.strings_count + 1) * 4 > (rcs.strings ? rcs.strings_mask + 1 : 0) * 3 &&
        !rcs_strings_grow())
        return NULL;
    size_t len = strlen(s) + 1;
    char *copy = malloc(len);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    size_t i = h & rcs.strings_mask;
    while (rcs.strings[i])
        i = (i + 1) & rcs.strings_mask;
    rcs.strings[i] = copy;
    rcs.strings_count++;
    rcs.bytes += len;
    return copy;
}

/* A function name as users read it: C++ linkage names demangled when the
 * process has the C++ runtime (looked up once, never linked: a C program
 * carries no C++ dependency), anything else as it is. Interned. */
static const char *rcs_intern_function(const char *name) {
    if (!name)
        return NULL;
    if (name[0] == '_' && name[1] == 'Z') {
        if (!rcs.demangle_looked_up) {
            void *f = dlsym(RTLD_DEFAULT, "__cxa_demangle");
            memcpy(&rcs.demangle, &f, sizeof f);
            rcs.demangle_looked_up = true;
        }
        if (rcs.demangle) {
            int status = -1;
            char *plain = rcs.demangle(name, NULL, NULL, &status);
            if (plain && status == 0) {
                const char *s = rcs_intern(plain);
                free(plain);
                if (s)
                    return s;
            } else {
                free(plain);
            }
        }
    }
    return rcs_intern(name);
}

/* ---- the libdwfl session -------------------------------------------------- */

static const Dwfl_Callbacks rcs_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
};

static int rcs_count_loads(struct dl_phdr_info *info, size_t size, void *arg) {
    unsigned long long *out = arg;
    /* dlpi_adds/dlpi_subs exist when the structure is that large (glibc). */
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        *out = info->dlpi_adds + info->dlpi_subs;
    return 1;   /* the counters are the same in every entry: stop at the first */
}

static unsigned long long rcs_loads(void) {
    unsigned long long n = 0;
    dl_iterate_phdr(rcs_count_loads, &n);
    return n;
}

/* (Re)reads the process's modules. Modules still mapped are kept as they are
 * (their opened ELF and DWARF with them); unmapped ones are dropped. */
static void rcs_report(void) {
    rcs.loads_seen = rcs_loads();
    dwfl_report_begin(rcs.dwfl);
    int rc = dwfl_linux_proc_report(rcs.dwfl, getpid());
    /* On failure (no /proc) the modules reported so far are still usable. */
    (void)rc;
    dwfl_report_end(rcs.dwfl, NULL, NULL);
}

static bool rcs_open(void) {
    if (rcs.dwfl)
        return true;
    rcs.dwfl = dwfl_begin(&rcs_callbacks);
    if (!rcs.dwfl)
        return false;
    rcs_report();
    return true;
}

/* dwfl_addrmodule, but only a module whose range holds pc: libdwfl may
 * answer with the nearest module for an address beyond every module (the
 * stack, for one). */
static Dwfl_Module *rcs_module_containing(Dwarf_Addr pc) {
    Dwfl_Module *mod = dwfl_addrmodule(rcs.dwfl, pc);
    Dwarf_Addr start = 0, end = 0;
    if (mod && dwfl_module_info(mod, NULL, &start, &end, NULL, NULL, NULL, NULL) &&
        start <= pc && pc < end)
        return mod;
    return NULL;
}

/* The module containing pc, re-reading the process's modules once when a
 * library was loaded or unloaded since the last report. */
static Dwfl_Module *rcs_module(Dwarf_Addr pc) {
    Dwfl_Module *mod = rcs_module_containing(pc);
    if (!mod && rcs_loads() != rcs.loads_seen) {
        rcs_report();
        mod = rcs_module_containing(pc);
    }
    return mod;
}

/* ---- resolving one address ------------------------------------------------ */

static bool rcs_is_function(int tag) {
    return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_entry_point;
}

/* The name of a subprogram or inlined_subroutine DIE: its linkage name when
 * it has one (C++: demangled into the qualified name), else DW_AT_name, both
 * followed through DW_AT_abstract_origin and DW_AT_specification. */
static const char *rcs_die_function(Dwarf_Die *die) {
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
        dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
        name = dwarf_formstring(&attr);
    if (!name)
        name = dwarf_diename(die);
    return rcs_intern_function(name);
}

/* file name as DWARF records it, made absolute with comp_dir when relative */
static const char *rcs_intern_file(const char *file, const char *comp_dir) {
    if (!file)
        return NULL;
    if (file[0] == '/' || !comp_dir || !comp_dir[0])
        return rcs_intern(file);
    size_t a = strlen(comp_dir), b = strlen(file);
    char *path = malloc(a + 1 + b + 1);
    if (!path)
        return rcs_intern(file);
    memcpy(path, comp_dir, a);
    path[a] = '/';
    memcpy(path + a + 1, file, b + 1);
    const char *s = rcs_intern(path);
    free(path);
    return s;
}

static const char *rcs_cu_comp_dir(Dwarf_Die *cu) {
    Dwarf_Attribute attr;
    return dwarf_attr(cu, DW_AT_comp_dir, &attr) ? dwarf_formstring(&attr) : NULL;
}

/* The caller's location recorded in an inlined_subroutine DIE. */
static void rcs_call_site(Dwarf_Die *inl, const char **file, int *line) {
    Dwarf_Attribute attr;
    Dwarf_Word w;
    *file = NULL;
    *line = 0;
    if (dwarf_attr(inl, DW_AT_call_line, &attr) && dwarf_formudata(&attr, &w) == 0 &&
        w <= (Dwarf_Word)0x7fffffff)
        *line = (int)w;
    Dwarf_Die cu;
    Dwarf_Files *files;
    size_t nfiles;
    if (dwarf_attr(inl, DW_AT_call_file, &attr) && dwarf_formudata(&attr, &w) == 0 &&
        dwarf_diecu(inl, &cu, NULL, NULL) && dwarf_getsrcfiles(&cu, &files, &nfiles) == 0 &&
        w < nfiles)
        *file = rcs_intern_file(dwarf_filesrc(files, w, NULL, NULL), rcs_cu_comp_dir(&cu));
}

/* Fills out[0..] with the DWARF frames of addr (a module address, already
 * pc - 1), innermost first; returns their number, 0 when the module has no
 * DWARF scope for addr. */
static size_t rcs_dwarf_frames(Dwfl_Module *mod, Dwarf_Addr addr, rcs_frame *out) {
    Dwarf_Addr bias;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias);
    if (!cu)
        return 0;
    Dwarf_Die *scopes = NULL;
    int n = dwarf_getscopes(cu, addr - bias, &scopes);
    if (n <= 0) {
        free(scopes);
        return 0;
    }
    /* scopes[0] is the innermost concrete scope; dwarf_getscopes may append
     * the scopes of an inlined function's abstract origin after it, which
     * are no frames. Its lexical parents are the chain we want. */
    Dwarf_Die inner = scopes[0];
    free(scopes);
    Dwarf_Die *chain = NULL;
    n = dwarf_getscopes_die(&inner, &chain);
    if (n <= 0) {
        free(chain);
        return 0;
    }

    /* location of the next function-like DIE: pc's own line first */
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *dl = dwfl_module_getsrc(mod, addr);
    if (dl) {
        const char *f = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
        file = rcs_intern_file(f, dwfl_line_comp_dir(dl));
        if (line < 0)
            line = 0;
    }

    size_t k = 0;
    for (int i = 0; i < n && k < RCS_MAX_FRAMES; i++) {
        int tag = dwarf_tag(&chain[i]);
        if (!rcs_is_function(tag))
            continue;
        rcs_frame *f = &out[k++];
        f->function = rcs_die_function(&chain[i]);
        f->file = file;
        f->line = line;
        f->inlined = tag == DW_TAG_inlined_subroutine;
        if (!f->inlined)
            break;
        rcs_call_site(&chain[i], &file, &line);
    }
    free(chain);
    return k;
}

/* Resolves pc into frames[] (room for RCS_MAX_FRAMES); returns their number
 * (>= 1). Called with the lock held. */
static size_t rcs_resolve(uintptr_t pc, rcs_frame *frames) {
    memset(&frames[0], 0, sizeof frames[0]);
    if (pc < RCS_MIN_PC || !rcs_open())
        return 1;
    /* a return address: the call instruction ends just before it */
    Dwarf_Addr addr = (Dwarf_Addr)pc - 1;
    Dwfl_Module *mod = rcs_module(addr);
    if (!mod)
        return 1;

    const char *modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    Dwarf_Addr load_bias = 0;
    if (!dwfl_module_getelf(mod, &load_bias))
        load_bias = 0;
    const char *module = rcs_intern(modname);
    uintptr_t offset = pc - (uintptr_t)load_bias;

    size_t n = rcs_dwarf_frames(mod, addr, frames);
    if (n == 0) {
        /* no DWARF: the ELF symbol table's function, if any; the line
         * table may still know the line (it does when only the DIEs of this
         * function are missing) */
        GElf_Off symoff;
        GElf_Sym sym;
        const char *name = dwfl_module_addrinfo(mod, addr, &symoff, &sym, NULL, NULL, NULL);
        rcs_frame *f = &frames[0];
        memset(f, 0, sizeof *f);
        if (name && GELF_ST_TYPE(sym.st_info) != STT_OBJECT && GELF_ST_TYPE(sym.st_info) != STT_TLS)
            f->function = rcs_intern_function(name);
        Dwfl_Line *dl = dwfl_module_getsrc(mod, addr);
        if (dl) {
            int line = 0;
            const char *file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
            f->file = rcs_intern_file(file, dwfl_line_comp_dir(dl));
            f->line = line > 0 ? line : 0;
        }
        n = 1;
    } else if (!frames[n - 1].function || frames[n - 1].inlined) {
        /* the chain ended without a named subprogram (DWARF without one for
         * this code): name the outermost frame from the symbol table */
        GElf_Off symoff;
        GElf_Sym sym;
        const char *name = dwfl_module_addrinfo(mod, addr, &symoff, &sym, NULL, NULL, NULL);
        if (name && !frames[n - 1].function)
            frames[n - 1].function = rcs_intern_function(name);
    }
    for (size_t i = 0; i < n; i++) {
        frames[i].module = module;
        frames[i].module_offset = offset;
    }
    return n;
}

/* ---- the API -------------------------------------------------------------- */

static size_t rcs_copy_out(const rcs_frame *frames, size_t n, rcs_frame *out, size_t max) {
    if (out && max)
        memcpy(out, frames, (n < max ? n : max) * sizeof *out);
    return n;
}

size_t rcs_symbolize(uintptr_t pc, rcs_frame *out, size_t max) {
    pthread_mutex_lock(&rcs.lock);
    rcs_entry *e = rcs_cache_get(pc);
    if (e) {
        size_t n = rcs_copy_out(e->frames, e->nframes, out, max);
        pthread_mutex_unlock(&rcs.lock);
        return n;
    }
    rcs_frame frames[RCS_MAX_FRAMES];
    size_t n = rcs_resolve(pc, frames);
    size_t size = sizeof *e + n * sizeof e->frames[0];
    e = malloc(size);
    if (e) {
        e->pc = pc;
        e->nframes = n;
        memcpy(e->frames, frames, n * sizeof frames[0]);
        if (rcs_cache_put(e))
            rcs.bytes += size;
        else
            free(e);   /* answered, just not cached: the next call resolves again */
    }
    n = rcs_copy_out(frames, n, out, max);
    pthread_mutex_unlock(&rcs.lock);
    return n;
}

void rcs_reset(void) {
    pthread_mutex_lock(&rcs.lock);
    if (rcs.dwfl) {
        dwfl_end(rcs.dwfl);
        rcs.dwfl = NULL;
    }
    if (rcs.cache) {
        for (size_t i = 0; i <= rcs.cache_mask; i++)
            free(rcs.cache[i]);
        free(rcs.cache);
    }
    if (rcs.strings) {
        for (size_t i = 0; i <= rcs.strings_mask; i++)
            free(rcs.strings[i]);
        free(rcs.strings);
    }
    rcs.cache = NULL;
    rcs.cache_mask = rcs.cache_count = 0;
    rcs.strings = NULL;
    rcs.strings_mask = rcs.strings_count = 0;
    rcs.bytes = 0;
    rcs.loads_seen = 0;
    pthread_mutex_unlock(&rcs.lock);
}

size_t rcs_memory(void) {
    pthread_mutex_lock(&rcs.lock);
    size_t n = rcs.bytes;
    pthread_mutex_unlock(&rcs.lock);
    return n;
}
