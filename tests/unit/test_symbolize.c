/* rc-test: whitebox threads */
/* test_symbolize.c - the symbolize layer: addresses of a known call chain
 * (built at -O2 -g without frame pointers, one function inlined) give the
 * right functions, files, lines and inline order; libc addresses give libc;
 * bad addresses give an unknown frame; cached answers equal the first; four
 * threads get identical answers; rcs_reset starts over. */
#define _GNU_SOURCE
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "symbolize/symbolize.h"
#include "symbolize/chain.h"   /* tests/unit/symbolize/ */

static const char *base_name(const char *path) {
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path;
}

static void assert_unknown(const rcs_frame *f) {
    assert_null(f->function);
    assert_null(f->file);
    assert_int_equal(f->line, 0);
    assert_int_equal(f->inlined, 0);
}

/* Every field equal, strings by content (pointers may differ across reset). */
static int frames_equal(const rcs_frame *a, const rcs_frame *b) {
#define STR_EQ(x, y) ((x) == (y) || ((x) && (y) && strcmp((x), (y)) == 0))
    return STR_EQ(a->function, b->function) && STR_EQ(a->file, b->file) &&
           STR_EQ(a->module, b->module) && a->line == b->line &&
           a->inlined == b->inlined && a->module_offset == b->module_offset;
#undef STR_EQ
}

/* ---- the known chain ------------------------------------------------------ */

static void check_chain(const chain_result *r) {
    rcs_frame f[8];
    memset(f, 0xa5, sizeof f);
    size_t n = rcs_symbolize(r->ra_in_outer, f, 8);
    assert_int_equal(n, 2);

    assert_non_null(f[0].function);
    assert_string_equal(f[0].function, "chain_middle");
    assert_non_null(f[0].file);
    assert_string_equal(base_name(f[0].file), "chain.c");
    assert_true(f[0].file[0] == '/');
    assert_int_equal(f[0].line, r->line_middle_call);
    assert_int_equal(f[0].inlined, 1);

    assert_non_null(f[1].function);
    assert_string_equal(f[1].function, "chain_outer");
    assert_string_equal(base_name(f[1].file), "chain.c");
    assert_int_equal(f[1].line, r->line_outer_call);
    assert_int_equal(f[1].inlined, 0);

    /* both frames stand for the same address of the same module */
    assert_non_null(f[0].module);
    assert_string_equal(base_name(f[0].module), "test_symbolize");
    assert_ptr_equal(f[0].module, f[1].module);
    assert_true(f[0].module_offset == f[1].module_offset);
    assert_true(f[0].module_offset != 0 && f[0].module_offset < r->ra_in_outer);
}

static void test_chain(void **state) {
    (void)state;
    chain_result r;
    chain_outer(&r);
    check_chain(&r);
}

/* A frame of this file's own code: not inlined, this function, this line. */
static __attribute__((noinline)) uintptr_t return_address(void) {
    return (uintptr_t)__builtin_return_address(0);
}

static void test_caller_frame(void **state) {
    (void)state;
    uintptr_t ra = return_address(); int line = __LINE__;
    rcs_frame f[4];
    size_t n = rcs_symbolize(ra, f, 4);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].function, "test_caller_frame");
    assert_string_equal(base_name(f[0].file), "test_symbolize.c");
    assert_int_equal(f[0].line, line);
    assert_int_equal(f[0].inlined, 0);
}

/* max smaller than the number of frames: the count is still the full one. */
static void test_short_output(void **state) {
    (void)state;
    chain_result r;
    chain_outer(&r);
    rcs_frame f[2];
    memset(f, 0, sizeof f);
    assert_int_equal(rcs_symbolize(r.ra_in_outer, f, 1), 2);
    assert_string_equal(f[0].function, "chain_middle");
    assert_null(f[1].function);   /* untouched */
    assert_int_equal(rcs_symbolize(r.ra_in_outer, NULL, 0), 2);
}

/* ---- libc ----------------------------------------------------------------- */

static uintptr_t cmp_ra;

static int cmp_ints(const void *a, const void *b) {
    cmp_ra = (uintptr_t)__builtin_return_address(0);
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

typedef void (*qsort_fn)(void *, size_t, size_t, int (*)(const void *, const void *));

/* libc's own qsort: by name in libc.so.6, since the sanitizers interpose
 * qsort (and a plain reference could reach their copy). */
static qsort_fn libc_qsort(void) {
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(libc);
    void *sym = dlsym(libc, "qsort");
    dlclose(libc);
    assert_non_null(sym);
    qsort_fn f;
    memcpy(&f, &sym, sizeof f);
    return f;
}

static void test_libc(void **state) {
    (void)state;
    /* the entry of qsort (+1: rcs_symbolize looks up pc - 1) */
    qsort_fn qs = libc_qsort();
    uintptr_t sym;
    memcpy(&sym, &qs, sizeof sym);
    rcs_frame f[8];
    size_t n = rcs_symbolize(sym + 1, f, 8);
    assert_true(n >= 1);
    assert_non_null(f[n - 1].module);
    assert_non_null(strstr(base_name(f[n - 1].module), "libc"));
    assert_non_null(f[n - 1].function);
    assert_non_null(strstr(f[n - 1].function, "qsort"));

    /* a real return address inside libc: the comparator's caller */
    int v[] = {3, 1, 2};
    qs(v, 3, sizeof v[0], cmp_ints);
    n = rcs_symbolize(cmp_ra, f, 8);
    assert_true(n >= 1);
    assert_non_null(f[n - 1].module);
    assert_non_null(strstr(base_name(f[n - 1].module), "libc"));
}

/* ---- bad addresses -------------------------------------------------------- */

static void test_bad_addresses(void **state) {
    (void)state;
    int on_stack = 0;
    void *heap = malloc(64);
    assert_non_null(heap);
    const uintptr_t bad[] = {0, 1, 4095, (uintptr_t)heap, (uintptr_t)heap + 1,
                             (uintptr_t)&on_stack, UINTPTR_MAX, UINTPTR_MAX - 4096,
                             (uintptr_t)1 << 46};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rcs_frame f[4];
        memset(f, 0x5a, sizeof f);
        assert_int_equal(rcs_symbolize(bad[i], f, 4), 1);
        assert_unknown(&f[0]);
        assert_null(f[0].module);
        /* and again, from the cache */
        assert_int_equal(rcs_symbolize(bad[i], f, 4), 1);
        assert_unknown(&f[0]);
    }
    free(heap);
    /* a data address inside a module: no function, no crash */
    static int in_data = 1;
    rcs_frame f[4];
    assert_true(rcs_symbolize((uintptr_t)&in_data, f, 4) >= 1);
    assert_null(f[0].file);
}

/* ---- cache, memory, reset ------------------------------------------------- */

static void test_cache_and_reset(void **state) {
    (void)state;
    chain_result r;
    chain_outer(&r);
    rcs_frame a[8], b[8];
    size_t na = rcs_symbolize(r.ra_in_outer, a, 8);
    size_t mem = rcs_memory();
    assert_true(mem > 0);
    size_t nb = rcs_symbolize(r.ra_in_outer, b, 8);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_true(frames_equal(&a[i], &b[i]));
        assert_ptr_equal(a[i].function, b[i].function);   /* the same interned copy */
    }
    assert_int_equal(rcs_memory(), mem);                   /* a hit allocates nothing */

    rcs_reset();
    assert_int_equal(rcs_memory(), 0);
    check_chain(&r);
    assert_true(rcs_memory() > 0);
    nb = rcs_symbolize(r.ra_in_outer, b, 8);
    assert_int_equal(na, nb);
    /* a is stale now except by content, which must match */
    rcs_reset();
    rcs_reset();
    check_chain(&r);
}

/* Many distinct addresses: the tables grow and every answer stays right. */
static void test_many_addresses(void **state) {
    (void)state;
    chain_result r;
    chain_outer(&r);
    uintptr_t fn = (uintptr_t)&chain_outer;
    for (int round = 0; round < 2; round++) {
        for (uintptr_t pc = fn + 1; pc < fn + 2000; pc++) {
            rcs_frame f[8];
            size_t n = rcs_symbolize(pc, f, 8);
            assert_true(n >= 1);
        }
        check_chain(&r);
    }
}

/* ---- threads -------------------------------------------------------------- */

enum { NTHREADS = 4, NADDR = 6, MAXF = 8 };

typedef struct worker {
    const uintptr_t *addrs;
    rcs_frame frames[NADDR][MAXF];
    size_t n[NADDR];
    int rounds;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    for (int round = 0; round < w->rounds; round++)
        for (size_t i = 0; i < NADDR; i++)
            w->n[i] = rcs_symbolize(w->addrs[i], w->frames[i], MAXF);
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    chain_result r;
    chain_outer(&r);
    int v[] = {2, 1};
    qsort_fn qs = libc_qsort();
    qs(v, 2, sizeof v[0], cmp_ints);
    uintptr_t qs_addr;
    memcpy(&qs_addr, &qs, sizeof qs_addr);
    const uintptr_t addrs[NADDR] = {r.ra_in_outer, cmp_ra, 0, (uintptr_t)&r, qs_addr + 1,
                                    (uintptr_t)&test_threads + 8};
    rcs_reset();   /* all four start cold: the first resolution races */
    static worker w[NTHREADS];
    pthread_t t[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i].addrs = addrs;
        w[i].rounds = 200;
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 1; i < NTHREADS; i++)
        for (size_t a = 0; a < NADDR; a++) {
            assert_int_equal(w[i].n[a], w[0].n[a]);
            for (size_t k = 0; k < w[0].n[a] && k < MAXF; k++) {
                assert_true(frames_equal(&w[i].frames[a][k], &w[0].frames[a][k]));
                assert_ptr_equal(w[i].frames[a][k].function, w[0].frames[a][k].function);
            }
        }
    check_chain(&r);
}

/* ---- cost (printed, not asserted: it depends on the machine) --------------- */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void test_cost(void **state) {
    (void)state;
    chain_result r;
    chain_outer(&r);
    rcs_frame f[MAXF];
    rcs_reset();
    double t0 = now_ns();
    rcs_symbolize(r.ra_in_outer, f, MAXF);            /* opens every module */
    double t1 = now_ns();
    /* cold addresses in an already opened module */
    uintptr_t fn = (uintptr_t)&chain_outer;
    const int ncold = 200;
    for (int i = 0; i < ncold; i++)
        rcs_symbolize(fn + 1 + (uintptr_t)i, f, MAXF);
    double t2 = now_ns();
    const int nhot = 1000000;
    for (int i = 0; i < nhot; i++)
        rcs_symbolize(r.ra_in_outer, f, MAXF);
    double t3 = now_ns();
    if (getenv("RC_TEST_VERBOSE"))
        printf("symbolize: first lookup %.0f us, cold %.0f ns, cached %.1f ns, memory %zu B\n",
               (t1 - t0) / 1e3, (t2 - t1) / ncold, (t3 - t2) / nhot, rcs_memory());
    check_chain(&r);
}

static int group_teardown(void **state) {
    (void)state;
    rcs_reset();   /* libdw's memory returned: valgrind sees no leak of ours */
    return 0;
}

/* ---- offline sessions ---------------------------------------------------- */

/* The modules of this process as a capture records them: every PT_LOAD
 * segment, page-rounded, with its file offset; the executable under its
 * path. */
typedef struct seg_rec {
    char path[512];
    uint64_t start, end, offset;
    uintptr_t bias;
} seg_rec;
typedef struct seg_list {
    seg_rec r[256];
    size_t n;
} seg_list;

static int collect_segments(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    seg_list *l = arg;
    char path[512];
    if (info->dlpi_name && info->dlpi_name[0]) {
        snprintf(path, sizeof path, "%s", info->dlpi_name);
    } else {
        ssize_t k = readlink("/proc/self/exe", path, sizeof path - 1);
        if (k <= 0)
            return 0;
        path[k] = 0;
    }
    if (path[0] != '/')
        return 0;   /* the vdso */
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum && l->n < 256; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        seg_rec *r = &l->r[l->n++];
        snprintf(r->path, sizeof r->path, "%s", path);
        r->start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
        r->end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
        r->offset = ph->p_offset & ~(page - 1);
        r->bias = info->dlpi_addr;
    }
    return 0;
}

/* The session's module index for pc, adding every segment of l. */
static int session_module_of(rcs_session *s, const seg_list *l, uintptr_t pc) {
    int found = -1;
    for (size_t i = 0; i < l->n; i++) {
        int m = rcs_session_add_module(s, l->r[i].path, l->r[i].start, l->r[i].end, l->r[i].offset, NULL, 0);
        assert_true(m >= 0);
        if (pc >= l->r[i].start && pc < l->r[i].end)
            found = m;
    }
    return found;
}

/* What a session finds for this process's addresses (read back from the
 * files at the recorded places) equals what the live symbolizer finds: the
 * known chain with its inlined frame, this file's function and line, libc. */
static void test_session_matches_live(void **state) {
    (void)state;
    static seg_list l;
    l.n = 0;
    dl_iterate_phdr(collect_segments, &l);
    assert_true(l.n >= 2);
    chain_result r;
    chain_outer(&r);
    uintptr_t ra = return_address();
    int v[] = {3, 1, 2};
    libc_qsort()(v, 3, sizeof v[0], cmp_ints);
    uintptr_t pcs[] = {r.ra_in_outer, ra, cmp_ra};
    rcs_session *s = rcs_session_new();
    assert_non_null(s);
    for (size_t k = 0; k < sizeof pcs / sizeof pcs[0]; k++) {
        int m = session_module_of(s, &l, pcs[k]);
        assert_true(m >= 0);
        rcs_frame live[8], off[8];
        size_t nl = rcs_symbolize(pcs[k], live, 8);
        size_t no = rcs_session_symbolize(s, m, pcs[k], off, 8);
        assert_int_equal(no, nl);
        for (size_t i = 0; i < nl && i < 8; i++) {
            if (!frames_equal(&live[i], &off[i]))
                print_error("pc %zu frame %zu: live %s %s:%d %s+%#lx %d, session %s %s:%d %s+%#lx %d\n", k, i,
                            live[i].function ? live[i].function : "?", live[i].file ? live[i].file : "?",
                            live[i].line, live[i].module ? live[i].module : "?",
                            (unsigned long)live[i].module_offset, live[i].inlined,
                            off[i].function ? off[i].function : "?", off[i].file ? off[i].file : "?",
                            off[i].line, off[i].module ? off[i].module : "?",
                            (unsigned long)off[i].module_offset, off[i].inlined);
            /* the module by its name: the loader's path and the maps' may
             * differ by a link (/lib is /usr/lib on Debian 12) */
            rcs_frame o = off[i];
            if (o.module && live[i].module && strcmp(base_name(o.module), base_name(live[i].module)) == 0)
                o.module = live[i].module;
            assert_true(frames_equal(&live[i], &o));
        }
        /* again: from the session's cache, the same */
        rcs_frame again[8];
        assert_int_equal(rcs_session_symbolize(s, m, pcs[k], again, 8), no);
        assert_true(frames_equal(&again[0], &off[0]));
    }
    /* after rcs_reset the session answers again (its cache pointed to
     * strings that are gone) */
    rcs_reset();
    int m = session_module_of(s, &l, ra);
    rcs_frame f[4];
    assert_int_equal(rcs_session_symbolize(s, m, ra, f, 4), 1);
    assert_string_equal(f[0].function, "test_session_matches_live");
    rcs_session_free(s);
}

/* A file that is not the one that ran (another build id), one that is
 * gone, and indexes that name no module: the module and the offset at
 * most, never a wrong function. */
static void test_session_unknown(void **state) {
    (void)state;
    static seg_list l;
    l.n = 0;
    dl_iterate_phdr(collect_segments, &l);
    uintptr_t ra = return_address();
    const seg_rec *exe = NULL;
    for (size_t i = 0; i < l.n; i++)
        if (ra >= l.r[i].start && ra < l.r[i].end)
            exe = &l.r[i];
    assert_non_null(exe);
    rcs_session *s = rcs_session_new();
    assert_non_null(s);
    static const uint8_t other_id[20] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    int rebuilt = rcs_session_add_module(s, exe->path, exe->start, exe->end, exe->offset, other_id, 20);
    int gone = rcs_session_add_module(s, "/nonexistent/libgone.so", exe->start, exe->end, exe->offset, NULL, 0);
    assert_true(rebuilt >= 0 && gone >= 0 && rebuilt != gone);
    rcs_frame f[4];
    assert_int_equal(rcs_session_symbolize(s, rebuilt, ra, f, 4), 1);
    assert_null(f[0].function);
    assert_string_equal(f[0].module, exe->path);
    assert_true(f[0].module_offset == ra - exe->bias);
    assert_int_equal(rcs_session_symbolize(s, gone, ra, f, 4), 1);
    assert_null(f[0].function);
    assert_string_equal(f[0].module, "/nonexistent/libgone.so");
    assert_int_equal(rcs_session_symbolize(s, 99, ra, f, 4), 1);
    assert_unknown(&f[0]);
    assert_int_equal(rcs_session_symbolize(s, -1, ra, f, 4), 1);
    assert_unknown(&f[0]);
    assert_int_equal(rcs_session_add_module(s, NULL, 0, 0, 0, NULL, 0), -1);
    rcs_session_free(s);
    rcs_session_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_caller_frame),
        cmocka_unit_test(test_short_output),
        cmocka_unit_test(test_libc),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_cache_and_reset),
        cmocka_unit_test(test_many_addresses),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_session_matches_live),
        cmocka_unit_test(test_session_unknown),
        cmocka_unit_test(test_cost),
    };
    return rct_run_tests(tests, NULL, group_teardown);
}
