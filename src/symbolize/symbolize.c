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
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
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

/* One address range of a function whose code a CU holds: the concrete
 * DW_TAG_subprogram DIE, found by binary search instead of a walk over
 * every DIE of the CU, which costs tens of microseconds per address in a
 * CU that includes large headers. */
typedef struct rcs_funcrange {
    Dwarf_Addr lo, hi;   /* [lo, hi) in the DWARF's addresses (pc - bias) */
    Dwarf_Die die;
} rcs_funcrange;

typedef struct rcs_cuindex {
    uintptr_t key;       /* the CU DIE's addr: unique among reported modules */
    size_t n;
    rcs_funcrange ranges[];   /* sorted by lo */
} rcs_cuindex;

typedef struct rcs_state {
    pthread_mutex_t lock;
    Dwfl *dwfl;                       /* NULL until first used, or after reset */
    unsigned long long loads_seen;    /* dlpi_adds + dlpi_subs at the last report */
    /* pc -> rcs_entry (an rcs_table) */
    void **cache;
    size_t cache_mask, cache_count;
    /* CU -> its functions' address ranges, sorted (rcs_cuindex); open
     * addressing (an rcs_table). Keyed by the CU DIE's address in the
     * module's debug data, valid while the module is reported: dropped
     * whenever modules are re-reported. */
    void **cus;
    size_t cus_mask, cus_count;
    size_t cus_bytes;                 /* of the table and its items */
    /* interned strings; open addressing, NULL = empty slot */
    char **strings;
    size_t strings_mask, strings_count;
    size_t bytes;
    /* __cxa_demangle when the process has the C++ runtime loaded */
    char *(*demangle)(const char *, char *, size_t *, int *);
    bool demangle_looked_up;
    unsigned long reset_gen;          /* counts rcs_reset: sessions' caches older than it are stale */
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

/* ---- keyed tables --------------------------------------------------------
 * The address cache and the CU indexes share one open-addressing table
 * whose items begin with their uintptr_t key (linear probing, load under
 * 3/4, never shrunk, items owned by the table). */

typedef struct rcs_table {
    void ***slots;
    size_t *mask, *count;
} rcs_table;

static uintptr_t rcs_key_of(const void *item) {
    uintptr_t k;
    memcpy(&k, item, sizeof k);
    return k;
}

static void *rcs_table_get(rcs_table t, uintptr_t key) {
    if (!*t.slots)
        return NULL;
    for (size_t i = rcs_hash_pc(key) & *t.mask;; i = (i + 1) & *t.mask) {
        void *e = (*t.slots)[i];
        if (!e || rcs_key_of(e) == key)
            return e;
    }
}

/* Doubles the table (or creates it); false on ENOMEM, the table unchanged. */
static bool rcs_table_grow(rcs_table t) {
    size_t cap = *t.slots ? 2 * (*t.mask + 1) : 256;
    void **n = calloc(cap, sizeof *n);
    if (!n)
        return false;
    if (*t.slots) {
        for (size_t i = 0; i <= *t.mask; i++) {
            void *e = (*t.slots)[i];
            if (!e)
                continue;
            size_t j = rcs_hash_pc(rcs_key_of(e)) & (cap - 1);
            while (n[j])
                j = (j + 1) & (cap - 1);
            n[j] = e;
        }
        free(*t.slots);
        rcs.bytes -= (*t.mask + 1) * sizeof *n;
    }
    *t.slots = n;
    *t.mask = cap - 1;
    rcs.bytes += cap * sizeof *n;
    return true;
}

/* Inserts item (whose key is absent); false on ENOMEM (not inserted). */
static bool rcs_table_put(rcs_table t, void *item) {
    if ((*t.count + 1) * 4 > (*t.slots ? *t.mask + 1 : 0) * 3 && !rcs_table_grow(t))
        return false;
    size_t i = rcs_hash_pc(rcs_key_of(item)) & *t.mask;
    while ((*t.slots)[i])
        i = (i + 1) & *t.mask;
    (*t.slots)[i] = item;
    (*t.count)++;
    return true;
}

/* Frees every item and the slots; the table is empty afterwards. Returns
 * nothing to account: the caller resets rcs.bytes or subtracts itself. */
static void rcs_table_clear(rcs_table t) {
    if (*t.slots) {
        for (size_t i = 0; i <= *t.mask; i++)
            free((*t.slots)[i]);
        free(*t.slots);
    }
    *t.slots = NULL;
    *t.mask = *t.count = 0;
}

#define RCS_CACHE ((rcs_table){&rcs.cache, &rcs.cache_mask, &rcs.cache_count})
#define RCS_CUS ((rcs_table){&rcs.cus, &rcs.cus_mask, &rcs.cus_count})

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
            if (!f) {
                /* a C program (the report reading a C++ program's capture):
                 * the C++ runtime's demangler, if it is installed; kept
                 * loaded for the life of the process */
                void *cxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
                f = cxx ? dlsym(cxx, "__cxa_demangle") : NULL;
            }
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
static void rcs_drop_cus(void) {
    rcs_table_clear(RCS_CUS);
    rcs.bytes -= rcs.cus_bytes;
    rcs.cus_bytes = 0;
}

static void rcs_report(void) {
    /* a module dropped now frees the debug data the CU keys point into */
    rcs_drop_cus();
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

/* ---- the per-CU function index ------------------------------------------ */

typedef struct rcs_rangevec {
    rcs_funcrange *v;
    size_t n, cap;
    bool failed;
} rcs_rangevec;

static void rcs_rangevec_push(rcs_rangevec *rv, Dwarf_Addr lo, Dwarf_Addr hi, Dwarf_Die *die) {
    if (rv->failed || lo >= hi)
        return;
    if (rv->n == rv->cap) {
        size_t cap = rv->cap ? 2 * rv->cap : 64;
        rcs_funcrange *v = realloc(rv->v, cap * sizeof *v);
        if (!v) {
            rv->failed = true;
            return;
        }
        rv->v = v;
        rv->cap = cap;
    }
    rv->v[rv->n++] = (rcs_funcrange){lo, hi, *die};
}

/* Records the concrete subprograms among die's children, descending into
 * the DIEs that may hold definitions (namespaces, classes: C++) but not into
 * functions (a nested function's code is inside its parent's ranges or its
 * own entry at this level in GCC's output). */
static void rcs_collect_functions(Dwarf_Die *parent, rcs_rangevec *rv, int depth) {
    Dwarf_Die child;
    if (depth > 16 || dwarf_child(parent, &child) != 0)
        return;
    do {
        switch (dwarf_tag(&child)) {
        case DW_TAG_subprogram: {
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0)
                rcs_rangevec_push(rv, lo, hi, &child);
            break;
        }
        case DW_TAG_namespace:
        case DW_TAG_class_type:
        case DW_TAG_structure_type:
        case DW_TAG_union_type:
        case DW_TAG_module:
            rcs_collect_functions(&child, rv, depth + 1);
            break;
        default:
            break;
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

static int rcs_range_cmp(const void *a, const void *b) {
    const rcs_funcrange *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* The index of cu, built on first use (one walk over the CU's DIEs); NULL
 * on ENOMEM, and the caller then walks the CU itself. */
static rcs_cuindex *rcs_cu_index(Dwarf_Die *cu) {
    uintptr_t key = (uintptr_t)cu->addr;
    rcs_cuindex *x = rcs_table_get(RCS_CUS, key);
    if (x)
        return x;
    rcs_rangevec rv = {0};
    rcs_collect_functions(cu, &rv, 0);
    if (rv.failed) {
        free(rv.v);
        return NULL;
    }
    size_t size = sizeof *x + rv.n * sizeof x->ranges[0];
    x = malloc(size);
    if (x) {
        x->key = key;
        x->n = rv.n;
        if (rv.n)
            memcpy(x->ranges, rv.v, rv.n * sizeof rv.v[0]);
        qsort(x->ranges, x->n, sizeof x->ranges[0], rcs_range_cmp);
        size_t before = rcs.cus_mask + (rcs.cus ? 1 : 0);
        if (rcs_table_put(RCS_CUS, x)) {
            size_t after = rcs.cus_mask + 1;
            rcs.cus_bytes += size + (after - before) * sizeof(void *);
            rcs.bytes += size;
        } else {
            free(x);
            x = NULL;
        }
    }
    free(rv.v);
    return x;
}

/* The concrete subprogram of cu whose code holds addr (a DWARF address),
 * false if none. Ranges of distinct functions never overlap, so the last
 * range starting at or below addr is the only candidate. */
static bool rcs_cu_function(Dwarf_Die *cu, Dwarf_Addr addr, Dwarf_Die *out) {
    rcs_cuindex *x = rcs_cu_index(cu);
    if (!x)
        return false;
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->ranges[mid].lo <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || addr >= x->ranges[lo - 1].hi)
        return false;
    *out = x->ranges[lo - 1].die;
    return true;
}

/* ---- resolving one address ------------------------------------------------ */

/* Scopes inside a function that may hold code, and so inlined calls. */
static bool rcs_is_code_scope(int tag) {
    return tag == DW_TAG_lexical_block || tag == DW_TAG_inlined_subroutine ||
           tag == DW_TAG_try_block || tag == DW_TAG_catch_block;
}

/* Fills chain[0..] with the concrete scopes holding addr, from the function
 * fn inward (chain[0] = fn); returns their number (<= max). */
static size_t rcs_descend(Dwarf_Die *fn, Dwarf_Addr addr, Dwarf_Die *chain, size_t max) {
    size_t n = 0;
    chain[n++] = *fn;
    while (n < max) {
        Dwarf_Die child;
        bool found = false;
        if (dwarf_child(&chain[n - 1], &child) == 0) {
            do {
                if (rcs_is_code_scope(dwarf_tag(&child)) && dwarf_haspc(&child, addr) > 0) {
                    found = true;
                    break;
                }
            } while (dwarf_siblingof(&child, &child) == 0);
        }
        if (!found)
            break;
        chain[n++] = child;
    }
    return n;
}

/* Fills out[0..] with the DWARF frames of addr (a module address, already
 * pc - 1), innermost first; returns their number, 0 when the module has no
 * DWARF function for addr. */
/* The compilation unit of addr. libdw finds it through .debug_aranges,
 * which covers only the units whose compiler wrote an entry there (GCC
 * does; clang does not unless given -gdwarf-aranges): a program mixing both
 * has units that table does not know, which a walk of every unit's address
 * ranges finds. *cu_buf holds the unit found by the walk. */
static Dwarf_Die *rcs_find_cu(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Addr *bias,
                              Dwarf_Die *cu_buf, bool *walked) {
    *walked = false;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, bias);
    if (cu)
        return cu;
    for (cu = dwfl_module_nextcu(mod, NULL, bias); cu; cu = dwfl_module_nextcu(mod, cu, bias)) {
        if (dwarf_haspc(cu, addr - *bias) > 0) {
            *cu_buf = *cu;
            *walked = true;
            return cu_buf;
        }
    }
    return NULL;
}

/* File and line of addr from the line table of cu (found by the walk of
 * rcs_find_cu, which dwfl_module_getsrc does not do). */
static void rcs_cu_line(Dwarf_Die *cu, Dwarf_Addr daddr, const char **file, int *line) {
    Dwarf_Line *l = dwarf_getsrc_die(cu, daddr);
    if (!l)
        return;
    int n = 0;
    if (dwarf_lineno(l, &n) == 0 && n > 0)
        *line = n;
    const char *f = dwarf_linesrc(l, NULL, NULL);
    if (f)
        *file = rcs_intern_file(f, rcs_cu_comp_dir(cu));
}

static size_t rcs_dwarf_frames(Dwfl_Module *mod, Dwarf_Addr addr, rcs_frame *out) {
    Dwarf_Addr bias;
    Dwarf_Die cu_buf;
    bool walked;
    Dwarf_Die *cu = rcs_find_cu(mod, addr, &bias, &cu_buf, &walked);
    if (!cu)
        return 0;
    Dwarf_Addr daddr = addr - bias;

    /* The chain of concrete scopes, outermost (the function) first. Found
     * through the CU's function index; without one (out of memory, or code
     * only dwarf_getscopes can place), from dwarf_getscopes' innermost scope
     * and dwarf_getscopes_die's parents of it, outermost last. */
    Dwarf_Die inward[2 * RCS_MAX_FRAMES];
    Dwarf_Die *scopes = NULL;
    Dwarf_Die fn;
    size_t nchain;
    bool outward;
    if (rcs_cu_function(cu, daddr, &fn)) {
        nchain = rcs_descend(&fn, daddr, inward, sizeof inward / sizeof inward[0]);
        outward = false;
    } else {
        /* dwarf_getscopes may append the scopes of an inlined function's
         * abstract origin after the innermost one, which are no frames:
         * keep only its innermost scope and take that one's parents. */
        int n = dwarf_getscopes(cu, daddr, &scopes);
        if (n <= 0) {
            free(scopes);
            return 0;
        }
        Dwarf_Die inner = scopes[0];
        free(scopes);
        scopes = NULL;
        n = dwarf_getscopes_die(&inner, &scopes);
        if (n <= 0) {
            free(scopes);
            return 0;
        }
        nchain = (size_t)n;
        outward = true;
    }

    /* location of the next function-like DIE: pc's own line first */
    const char *file = NULL;
    int line = 0;
    Dwfl_Line *dl = walked ? NULL : dwfl_module_getsrc(mod, addr);
    if (dl) {
        const char *f = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
        file = rcs_intern_file(f, dwfl_line_comp_dir(dl));
        if (line < 0)
            line = 0;
    } else if (walked) {
        rcs_cu_line(cu, daddr, &file, &line);
    }

    size_t k = 0;
    for (size_t j = 0; j < nchain && k < RCS_MAX_FRAMES; j++) {
        Dwarf_Die *die = outward ? &scopes[j] : &inward[nchain - 1 - j];
        int tag = dwarf_tag(die);
        if (!rcs_is_function(tag))
            continue;
        rcs_frame *f = &out[k++];
        f->function = rcs_die_function(die);
        f->file = file;
        f->line = line;
        f->inlined = tag == DW_TAG_inlined_subroutine;
        if (!f->inlined)
            break;
        rcs_call_site(die, &file, &line);
    }
    free(scopes);
    return k;
}

static size_t rcs_resolve_in(Dwfl_Module *mod, uintptr_t pc, rcs_frame *frames);

/* Resolves pc into frames[] (room for RCS_MAX_FRAMES); returns their number
 * (>= 1). Called with the lock held. */
static size_t rcs_resolve(uintptr_t pc, rcs_frame *frames) {
    memset(&frames[0], 0, sizeof frames[0]);
    if (pc < RCS_MIN_PC || !rcs_open())
        return 1;
    /* a return address: the call instruction ends just before it */
    Dwfl_Module *mod = rcs_module((Dwarf_Addr)pc - 1);
    if (!mod)
        return 1;
    return rcs_resolve_in(mod, pc, frames);
}

/* pc (a return address in mod, in mod's Dwfl's addresses) into frames[]:
 * frames[0] zeroed by the caller. */
static size_t rcs_resolve_in(Dwfl_Module *mod, uintptr_t pc, rcs_frame *frames) {
    Dwarf_Addr addr = (Dwarf_Addr)pc - 1;
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
    rcs_entry *e = rcs_table_get(RCS_CACHE, pc);
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
        if (rcs_table_put(RCS_CACHE, e))
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
    rcs_table_clear(RCS_CACHE);
    rcs_table_clear(RCS_CUS);
    rcs.cus_bytes = 0;
    if (rcs.strings) {
        for (size_t i = 0; i <= rcs.strings_mask; i++)
            free(rcs.strings[i]);
        free(rcs.strings);
    }
    rcs.strings = NULL;
    rcs.strings_mask = rcs.strings_count = 0;
    rcs.bytes = 0;
    rcs.loads_seen = 0;
    rcs.reset_gen++;
    pthread_mutex_unlock(&rcs.lock);
}

size_t rcs_memory(void) {
    pthread_mutex_lock(&rcs.lock);
    size_t n = rcs.bytes;
    pthread_mutex_unlock(&rcs.lock);
    return n;
}

/* ---- offline sessions ------------------------------------------------------
 *
 * A session symbolizes addresses of a process that is gone, from the
 * modules its capture recorded: for each, the path and where its segments
 * were mapped. A module is opened the first time one of its addresses is
 * looked up: its load bias from the recorded mapping and the file's
 * program headers, then a libdwfl session of its own that reports the file
 * at that bias, so that libdwfl answers in the recorded addresses. A file
 * whose GNU build id differs from the recorded one (rebuilt since the run)
 * gives module+offset only: its symbols would be wrong. Each module has its
 * own address cache (a dlclosed library's addresses may be another's later);
 * the interned strings and the CU indexes are the process-wide ones, under
 * the same lock. */

typedef struct rcs_smod {
    char *path;
    uint64_t start, offset;          /* one recorded segment: where, and from which file offset */
    uint8_t build_id[64];
    size_t build_id_len;
    bool opened, usable;
    uint64_t bias;
    Dwfl *dwfl;
    Dwfl_Module *mod;
    void **cache;
    size_t cache_mask, cache_count;
} rcs_smod;

struct rcs_session {
    rcs_smod *m;
    size_t n, cap;
    size_t bytes;                    /* what this session added to rcs.bytes */
    unsigned long reset_gen;         /* rcs.reset_gen its caches were made in */
};

static const Dwfl_Callbacks rcs_offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
};

rcs_session *rcs_session_new(void) {
    rcs_session *s = calloc(1, sizeof *s);
    if (s) {
        pthread_mutex_lock(&rcs.lock);
        s->reset_gen = rcs.reset_gen;
        pthread_mutex_unlock(&rcs.lock);
    }
    return s;
}

/* Empty every module's cache (lock held): after rcs_reset their frames
 * point to freed strings. The modules stay open. */
static void rcs_session_forget(rcs_session *s) {
    for (size_t i = 0; i < s->n; i++)
        rcs_table_clear((rcs_table){&s->m[i].cache, &s->m[i].cache_mask, &s->m[i].cache_count});
    s->bytes = 0;
    s->reset_gen = rcs.reset_gen;
}

int rcs_session_add_module(rcs_session *s, const char *path, uint64_t start, uint64_t end,
                           uint64_t file_offset, const uint8_t *build_id, size_t build_id_len) {
    (void)end;
    if (!s || !path || start < file_offset)
        return -1;
    /* the segments of one mapping share start - offset (the linker keeps
     * addresses and file offsets congruent): one module for all of them */
    for (size_t i = 0; i < s->n; i++)
        if (s->m[i].start - s->m[i].offset == start - file_offset && strcmp(s->m[i].path, path) == 0)
            return (int)i;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        rcs_smod *m = realloc(s->m, cap * sizeof *m);
        if (!m)
            return -1;
        s->m = m;
        s->cap = cap;
    }
    if (s->n >= (size_t)INT32_MAX)
        return -1;
    rcs_smod *m = &s->m[s->n];
    memset(m, 0, sizeof *m);
    m->path = strdup(path);
    if (!m->path)
        return -1;
    m->start = start;
    m->offset = file_offset;
    if (build_id && build_id_len && build_id_len <= sizeof m->build_id) {
        memcpy(m->build_id, build_id, build_id_len);
        m->build_id_len = build_id_len;
    }
    return (int)s->n++;
}

/* The load bias of m's file: the PT_LOAD mapped from m's file offset was at
 * m's start. False when the file cannot be read or has no such segment. */
static bool rcs_smod_bias(rcs_smod *m, uint64_t *bias) {
    int fd = open(m->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = false;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    size_t phnum = 0;
    if (elf && elf_kind(elf) == ELF_K_ELF && elf_getphdrnum(elf, &phnum) == 0) {
        uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        for (size_t i = 0; i < phnum && !ok; i++) {
            GElf_Phdr ph;
            if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
                continue;
            if ((ph.p_offset & ~(page - 1)) == (m->offset & ~(page - 1))) {
                *bias = m->start - (ph.p_vaddr & ~(page - 1));
                ok = true;
            }
        }
    }
    if (elf)
        elf_end(elf);
    close(fd);
    return ok;
}

/* Open m (lock held): its libdwfl session at the recorded bias. */
static void rcs_smod_open(rcs_smod *m) {
    m->opened = true;
    if (!rcs_smod_bias(m, &m->bias))
        return;
    m->dwfl = dwfl_begin(&rcs_offline_callbacks);
    if (!m->dwfl)
        return;
    dwfl_report_begin(m->dwfl);
    m->mod = dwfl_report_elf(m->dwfl, m->path, m->path, -1, m->bias, false);
    dwfl_report_end(m->dwfl, NULL, NULL);
    if (!m->mod)
        return;
    if (m->build_id_len) {
        const unsigned char *bits = NULL;
        GElf_Addr vaddr;
        int len = dwfl_module_build_id(m->mod, &bits, &vaddr);
        if (len <= 0 || (size_t)len != m->build_id_len || memcmp(bits, m->build_id, m->build_id_len) != 0)
            return;   /* not the file that ran */
    }
    m->usable = true;
}

size_t rcs_session_symbolize(rcs_session *s, int module, uint64_t pc, rcs_frame *out, size_t max) {
    rcs_frame frames[RCS_MAX_FRAMES];
    memset(&frames[0], 0, sizeof frames[0]);
    if (!s || module < 0 || (size_t)module >= s->n || pc < RCS_MIN_PC)
        return rcs_copy_out(frames, 1, out, max);
    pthread_mutex_lock(&rcs.lock);
    if (s->reset_gen != rcs.reset_gen)
        rcs_session_forget(s);
    rcs_smod *m = &s->m[module];
    rcs_table cache = {&m->cache, &m->cache_mask, &m->cache_count};
    rcs_entry *e = rcs_table_get(cache, (uintptr_t)pc);
    if (e) {
        size_t n = rcs_copy_out(e->frames, e->nframes, out, max);
        pthread_mutex_unlock(&rcs.lock);
        return n;
    }
    if (!m->opened)
        rcs_smod_open(m);
    size_t n = 1;
    if (m->usable) {
        n = rcs_resolve_in(m->mod, (uintptr_t)pc, frames);
    } else {
        /* what is known without the file: which module, where in it */
        frames[0].module = rcs_intern(m->path);
        frames[0].module_offset = (uintptr_t)(pc - (m->opened && m->dwfl ? m->bias : m->start - m->offset));
    }
    size_t before = rcs.bytes;
    size_t size = sizeof *e + n * sizeof e->frames[0];
    e = malloc(size);
    if (e) {
        e->pc = (uintptr_t)pc;
        e->nframes = n;
        memcpy(e->frames, frames, n * sizeof frames[0]);
        if (rcs_table_put(cache, e))
            rcs.bytes += size;
        else
            free(e);
    }
    s->bytes += rcs.bytes - before;
    n = rcs_copy_out(frames, n, out, max);
    pthread_mutex_unlock(&rcs.lock);
    return n;
}

void rcs_session_free(rcs_session *s) {
    if (!s)
        return;
    pthread_mutex_lock(&rcs.lock);
    bool had_dwarf = false;
    for (size_t i = 0; i < s->n; i++) {
        rcs_smod *m = &s->m[i];
        rcs_table_clear((rcs_table){&m->cache, &m->cache_mask, &m->cache_count});
        if (m->dwfl) {
            dwfl_end(m->dwfl);
            had_dwarf = true;
        }
        free(m->path);
    }
    /* the CU indexes are keyed by addresses in the debug data just freed */
    if (had_dwarf)
        rcs_drop_cus();
    if (s->reset_gen == rcs.reset_gen)
        rcs.bytes -= s->bytes < rcs.bytes ? s->bytes : rcs.bytes;
    pthread_mutex_unlock(&rcs.lock);
    free(s->m);
    free(s);
}
