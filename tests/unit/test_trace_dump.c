/* rc-test: whitebox */
/* test_trace_dump.c - the snapshot file: a dump loads back into a snapshot
 * whose statistics (by each key, cumulative or not) and filter results are
 * those of the original; a loaded snapshot takes file and line from the
 * file, never from this process's symbols; and the damaged-file table:
 * every truncation, every flipped byte, lying counts, foreign headers,
 * empty files, directories and missing files are refused with the
 * documented code, without crashing and without allocating for a count the
 * file does not hold.
 *
 * With RC_TRACE_DUMP_SEEDS=<dir> set, test_write_seeds writes the seed
 * corpus of tests/fuzz/fuzz_snapshot_load.c into <dir>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <recycle.h>
#include "trace/snapshot.h"

static void *volatile sink;
static void *blocks[8];
static volatile int three = 3;

__attribute__((noinline)) static void *alloc_small(void) {
    sink = rc_malloc(48);
    return sink;
}

__attribute__((noinline)) static void *alloc_big(void) {
    sink = rc_malloc(4096);
    return sink;
}

/* Three blocks from one call site, one from another, one in domain 7. */
static void make_blocks(void) {
    for (int i = 0; i < three; i++)
        blocks[i] = alloc_small();
    blocks[3] = alloc_big();
    static char outside[64];
    assert_int_equal(rc_trace_track(7, outside, sizeof outside), 0);
}

static void free_blocks(void) {
    for (int i = 0; i < 4; i++)
        rc_free(blocks[i]);
}

/* A temporary directory per test, removed with what it holds. */
static char dir[256];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/rc-test-dump-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    rc_trace_stop();
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    rmdir(dir);
    return 0;
}

static const char *in_dir(const char *name) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* A snapshot of make_blocks' traces, with tracebacks of up to 3 frames. */
static rc_snapshot *small_snapshot(void) {
    assert_int_equal(rc_trace_start(3), 0);
    make_blocks();
    rc_snapshot *s = rc_trace_take_snapshot();
    assert_non_null(s);
    free_blocks();
    rc_trace_stop();
    return s;
}

/* Its file in memory. */
static unsigned char *small_dump(size_t *len) {
    rc_snapshot *s = small_snapshot();
    int err = 0;
    unsigned char *buf = rctr_snapshot_dump_mem(s, len, &err);
    assert_non_null(buf);
    rc_snapshot_free(s);
    return buf;
}

/* CRC-32 bit by bit (no table: a second implementation, not the library's). */
static uint32_t crc_bitwise(const unsigned char *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put32(unsigned char *p, uint32_t v) {
    for (int k = 0; k < 4; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static void put64(unsigned char *p, uint64_t v) {
    for (int k = 0; k < 8; k++)
        p[k] = (unsigned char)(v >> (8 * k));
}

static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

/* Make the trailing checksum right again after an edit. */
static void fix_crc(unsigned char *buf, size_t len) {
    put32(buf + len - 4, crc_bitwise(buf, len - 4));
}

/* Statistics by every key agree, entry by entry. */
static void assert_same_stats(const rc_snapshot *a, const rc_snapshot *b) {
    static const int keys[] = {RC_BY_FILENAME, RC_BY_LINENO, RC_BY_TRACEBACK};
    for (size_t k = 0; k < 3; k++) {
        for (int cumulative = 0; cumulative < 2; cumulative++) {
            rc_stats *sa = rc_snapshot_statistics(a, keys[k], cumulative);
            rc_stats *sb = rc_snapshot_statistics(b, keys[k], cumulative);
            assert_non_null(sa);
            assert_non_null(sb);
            assert_int_equal(rc_stats_len(sa), rc_stats_len(sb));
            assert_true(rc_stats_len(sa) > 0);
            for (size_t i = 0; i < rc_stats_len(sa); i++) {
                const rc_stat *x = rc_stats_at(sa, i), *y = rc_stats_at(sb, i);
                assert_string_equal(x->filename, y->filename);
                assert_int_equal(x->lineno, y->lineno);
                assert_int_equal(x->size, y->size);
                assert_int_equal(x->count, y->count);
                const rc_traceback *ta = rc_stats_traceback(sa, i), *tb = rc_stats_traceback(sb, i);
                assert_int_equal(rc_traceback_len(ta), rc_traceback_len(tb));
                for (size_t f = 0; f < rc_traceback_len(ta); f++)
                    assert_int_equal(rc_traceback_addr(ta, f), rc_traceback_addr(tb, f));
            }
            rc_stats_free(sa);
            rc_stats_free(sb);
        }
    }
}

/* ---- round trip ---- */

static void test_round_trip(void **state) {
    (void)state;
    rc_snapshot *s = small_snapshot();
    const char *path = in_dir("snap.bin");
    assert_int_equal(rc_snapshot_dump(s, path), 0);
    int err = 42;
    rc_snapshot *l = rc_snapshot_load(path, &err);
    assert_non_null(l);
    assert_int_equal(err, 0);
    assert_int_equal(rc_snapshot_trace_count(l), rc_snapshot_trace_count(s));
    assert_int_equal(rc_snapshot_trace_count(l), 5);
    assert_int_equal(rc_snapshot_traceback_limit(l), 3);
    assert_same_stats(s, l);

    /* this file's lines are there by name, not only as equal strings */
    rc_stats *st = rc_snapshot_statistics(l, RC_BY_LINENO, 0);
    int here = 0;
    for (size_t i = 0; i < rc_stats_len(st); i++) {
        const char *f = rc_stats_at(st, i)->filename;
        here += strstr(f, "test_trace_dump.c") != NULL && rc_stats_at(st, i)->lineno > 0;
    }
    assert_int_equal(here, 3);    /* alloc_small, alloc_big, rc_trace_track's caller */
    rc_stats_free(st);

    /* filters: on the stored file names, and on domains */
    rc_trace_filter only_here = {1, "*test_trace_dump.c", 0, 0, 0, 0};
    rc_trace_filter no_seven = {0, NULL, 0, 0, 1, 7};
    rc_snapshot *fs = rc_snapshot_filter_traces(s, &only_here, 1);
    rc_snapshot *fl = rc_snapshot_filter_traces(l, &only_here, 1);
    assert_int_equal(rc_snapshot_trace_count(fl), rc_snapshot_trace_count(fs));
    assert_int_equal(rc_snapshot_trace_count(fl), 5);
    assert_same_stats(fs, fl);
    rc_snapshot_free(fs);
    rc_snapshot_free(fl);
    fl = rc_snapshot_filter_traces(l, &no_seven, 1);
    assert_int_equal(rc_snapshot_trace_count(fl), 4);
    /* a copy keeps the stored symbols after its source is gone */
    rc_snapshot_free(l);
    st = rc_snapshot_statistics(fl, RC_BY_FILENAME, 0);
    assert_int_equal(rc_stats_len(st), 1);
    assert_non_null(strstr(rc_stats_at(st, 0)->filename, "test_trace_dump.c"));
    assert_int_equal(rc_stats_at(st, 0)->size, 3 * 48 + 4096);
    rc_snapshot_free(fl);
    /* and the statistics keep their strings after both are gone */
    assert_non_null(strstr(rc_stats_at(st, 0)->filename, "test_trace_dump.c"));
    rc_stats_free(st);

    /* a loaded snapshot dumps to the same bytes */
    size_t n1, n2;
    unsigned char *b1 = rctr_snapshot_dump_mem(s, &n1, &err);
    l = rctr_snapshot_load_mem(b1, n1, 0, &err);
    assert_non_null(l);
    unsigned char *b2 = rctr_snapshot_dump_mem(l, &n2, &err);
    assert_int_equal(n1, n2);
    assert_memory_equal(b1, b2, n1);
    /* compare_to between the two: nothing changed */
    rc_stats *d = rc_snapshot_compare_to(l, s, RC_BY_LINENO, 0);
    for (size_t i = 0; i < rc_stats_len(d); i++) {
        assert_int_equal(rc_stats_at(d, i)->size_diff, 0);
        assert_int_equal(rc_stats_at(d, i)->count_diff, 0);
    }
    rc_stats_free(d);
    free(b1);
    free(b2);
    rc_snapshot_free(l);
    rc_snapshot_free(s);
}

/* The loaded snapshot's files and lines come from the file: with every
 * address replaced by one that means nothing here, the statistics by file
 * and line are unchanged (the addresses of another process are as good). */
static void test_loaded_uses_stored_symbols(void **state) {
    (void)state;
    rc_snapshot *s = small_snapshot();
    size_t n;
    int err;
    unsigned char *buf = rctr_snapshot_dump_mem(s, &n, &err);
    rc_snapshot *l = rctr_snapshot_load_mem(buf, n, 0, &err);
    assert_non_null(l);
    for (size_t i = 0; i < l->ntbs; i++)
        for (size_t f = 0; f < l->tbs[i]->nframes; f++)
            l->tbs[i]->frames[f] = 16 + i * 8 + f;   /* no code there */
    rc_stats *a = rc_snapshot_statistics(s, RC_BY_LINENO, 1);
    rc_stats *b = rc_snapshot_statistics(l, RC_BY_LINENO, 1);
    assert_int_equal(rc_stats_len(a), rc_stats_len(b));
    for (size_t i = 0; i < rc_stats_len(a); i++) {
        assert_string_equal(rc_stats_at(a, i)->filename, rc_stats_at(b, i)->filename);
        assert_int_equal(rc_stats_at(a, i)->lineno, rc_stats_at(b, i)->lineno);
        assert_int_equal(rc_stats_at(a, i)->size, rc_stats_at(b, i)->size);
    }
    rc_stats_free(a);
    rc_stats_free(b);
    free(buf);
    rc_snapshot_free(l);
    rc_snapshot_free(s);
}

static void test_empty_snapshot(void **state) {
    (void)state;
    assert_int_equal(rc_trace_start(1), 0);
    rc_trace_clear_traces();
    rc_snapshot *s = rc_trace_take_snapshot();
    rc_trace_stop();
    assert_non_null(s);
    const char *path = in_dir("empty.bin");
    assert_int_equal(rc_snapshot_dump(s, path), 0);
    int err;
    rc_snapshot *l = rc_snapshot_load(path, &err);
    assert_non_null(l);
    assert_int_equal(rc_snapshot_trace_count(l), rc_snapshot_trace_count(s));
    assert_int_equal(rc_snapshot_traceback_limit(l), 1);
    rc_snapshot_free(l);
    rc_snapshot_free(s);
}

/* The target is replaced whole, and a failed dump leaves nothing behind. */
static void test_dump_replaces_whole(void **state) {
    (void)state;
    rc_snapshot *s = small_snapshot();
    const char *path = in_dir("snap.bin");
    write_bytes(path, "old", 3);
    assert_int_equal(rc_snapshot_dump(s, path), 0);
    int err;
    rc_snapshot *l = rc_snapshot_load(path, &err);
    assert_non_null(l);
    rc_snapshot_free(l);

    char missing[512];
    snprintf(missing, sizeof missing, "%s/no/such/dir/snap.bin", dir);
    errno = 0;
    assert_int_equal(rc_snapshot_dump(s, missing), RC_EIO);
    assert_int_equal(errno, ENOENT);
    /* a directory in the way: the rename fails, the temporary goes */
    assert_int_equal(mkdir(in_dir("adir"), 0755), 0);
    assert_int_equal(rc_snapshot_dump(s, in_dir("adir")), RC_EIO);
    assert_int_equal(errno, EISDIR);
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)) != NULL)
        files += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 2);   /* snap.bin and adir: no temporary left */

    assert_int_equal(rc_snapshot_dump(NULL, path), RC_EINVAL);
    assert_int_equal(rc_snapshot_dump(s, NULL), RC_EINVAL);
    rc_snapshot_free(s);
}

/* ---- the damaged-file table ---- */

/* Every proper prefix of a dump is refused as a format error, through the
 * file and in memory. */
static void test_truncated_every_offset(void **state) {
    (void)state;
    size_t n;
    unsigned char *buf = small_dump(&n);
    const char *path = in_dir("cut.bin");
    for (size_t len = 0; len < n; len++) {
        write_bytes(path, buf, len);
        int err = 0;
        assert_null(rc_snapshot_load(path, &err));
        assert_int_equal(err, RC_EFORMAT);
        err = 0;
        assert_null(rctr_snapshot_load_mem(buf, len, RCTR_LOAD_NO_CHECKSUM, &err));
        assert_int_equal(err, RC_EFORMAT);
    }
    /* one byte too many is refused as well */
    unsigned char *more = malloc(n + 1);
    memcpy(more, buf, n);
    more[n] = 0;
    int err = 0;
    assert_null(rctr_snapshot_load_mem(more, n + 1, 0, &err));
    assert_int_equal(err, RC_EFORMAT);
    free(more);
    free(buf);
}

/* Statistics of whatever loaded, so that a structure that passed the loader
 * is also walked (under the sanitizers and valgrind). */
static void exercise(rc_snapshot *s) {
    for (int key = RC_BY_FILENAME; key <= RC_BY_TRACEBACK; key++)
        for (int c = 0; c < 2; c++)
            rc_stats_free(rc_snapshot_statistics(s, key, c));
}

/* Every byte flipped in turn (three ways): the checksum refuses each. With
 * the checksum test off, the structure checks alone either refuse the bytes
 * or load a snapshot that is walked without fault. */
static void test_flipped_bytes(void **state) {
    (void)state;
    size_t n;
    unsigned char *buf = small_dump(&n);
    static const unsigned char masks[] = {0x01, 0x80, 0xFF};
    size_t loaded_unchecked = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            buf[i] ^= masks[m];
            int err = 0;
            assert_null(rctr_snapshot_load_mem(buf, n, 0, &err));
            assert_int_equal(err, RC_EFORMAT);
            rc_snapshot *s = rctr_snapshot_load_mem(buf, n, RCTR_LOAD_NO_CHECKSUM, &err);
            if (s) {
                assert_int_equal(err, 0);
                exercise(s);
                rc_snapshot_free(s);
                loaded_unchecked++;
            } else {
                assert_int_equal(err, RC_EFORMAT);
            }
            buf[i] ^= masks[m];
        }
    }
    /* addresses, sizes, domains and the checksum itself carry no structure */
    assert_true(loaded_unchecked > 0);
    /* and the same through a file, for the first bytes */
    const char *path = in_dir("flip.bin");
    for (size_t i = 0; i < 64; i++) {
        buf[i] ^= 0x01;
        write_bytes(path, buf, n);
        int err = 0;
        assert_null(rc_snapshot_load(path, &err));
        assert_int_equal(err, RC_EFORMAT);
        buf[i] ^= 0x01;
    }
    free(buf);
}

/* Counts that lie, with the checksum made right so that only the counts
 * are wrong: each is refused before anything is allocated for it (a huge
 * count would otherwise be an allocation of terabytes, which ASan and
 * valgrind report). */
static void test_lying_counts(void **state) {
    (void)state;
    size_t n;
    unsigned char *buf = small_dump(&n);
    unsigned char *copy = malloc(n);
    static const uint64_t lies[] = {UINT64_MAX, UINT64_MAX / 20 + 1, (uint64_t)1 << 62,
                                    (uint64_t)1 << 40, (uint64_t)1 << 32, UINT32_MAX};
    for (size_t field = 24; field <= 56; field += 8) {
        uint64_t truth = get64(buf + field);
        uint64_t tries[sizeof lies / sizeof lies[0] + 2];
        size_t nt = 0;
        for (size_t k = 0; k < sizeof lies / sizeof lies[0]; k++)
            tries[nt++] = lies[k];
        tries[nt++] = truth + 1;
        if (truth)
            tries[nt++] = truth - 1;
        for (size_t k = 0; k < nt; k++) {
            memcpy(copy, buf, n);
            put64(copy + field, tries[k]);
            fix_crc(copy, n);
            int err = 0;
            assert_null(rctr_snapshot_load_mem(copy, n, 0, &err));
            assert_int_equal(err, RC_EFORMAT);
        }
    }
    /* lies that keep the length right: one string more and four string
     * bytes fewer; one trace more and one frame fewer (both 20 bytes) */
    uint64_t nstrings = get64(buf + 24), sbytes = get64(buf + 32);
    memcpy(copy, buf, n);
    put64(copy + 24, nstrings + 1);
    put64(copy + 32, sbytes - 4);
    fix_crc(copy, n);
    int err = 0;
    assert_null(rctr_snapshot_load_mem(copy, n, 0, &err));
    assert_int_equal(err, RC_EFORMAT);
    uint64_t nframes = get64(buf + 48), ntraces = get64(buf + 56);
    memcpy(copy, buf, n);
    put64(copy + 48, nframes - 1);
    put64(copy + 56, ntraces + 1);
    fix_crc(copy, n);
    assert_null(rctr_snapshot_load_mem(copy, n, 0, &err));
    assert_int_equal(err, RC_EFORMAT);
    /* sizes adding up to more than any process holds: compare_to would
     * overflow its long differences */
    memcpy(copy, buf, n);
    size_t traces_at = n - 4 - 20 * (size_t)ntraces;
    for (size_t t = 0; t < ntraces; t++)
        put64(copy + traces_at + 20 * t + 4, (uint64_t)PTRDIFF_MAX / 2 + 1);
    fix_crc(copy, n);
    assert_null(rctr_snapshot_load_mem(copy, n, 0, &err));
    assert_int_equal(err, RC_EFORMAT);
    /* one size of PTRDIFF_MAX alone is allowed */
    memcpy(copy, buf, n);
    for (size_t t = 0; t < ntraces; t++)
        put64(copy + traces_at + 20 * t + 4, t ? 0 : (uint64_t)PTRDIFF_MAX);
    fix_crc(copy, n);
    rc_snapshot *big = rctr_snapshot_load_mem(copy, n, 0, &err);
    assert_non_null(big);
    rc_stats *d = rc_snapshot_compare_to(big, big, RC_BY_TRACEBACK, 0);
    assert_int_equal(rc_stats_at(d, 0)->size, (size_t)PTRDIFF_MAX);
    assert_int_equal(rc_stats_at(d, 0)->size_diff, 0);
    rc_stats_free(d);
    rc_snapshot_free(big);
    /* the first string's length far beyond the file */
    memcpy(copy, buf, n);
    put32(copy + 64, UINT32_MAX);
    fix_crc(copy, n);
    assert_null(rctr_snapshot_load_mem(copy, n, 0, &err));
    assert_int_equal(err, RC_EFORMAT);
    free(copy);
    free(buf);
}

/* Foreign headers, with the checksum made right. */
static void test_wrong_header(void **state) {
    (void)state;
    size_t n;
    unsigned char *buf = small_dump(&n);
    unsigned char *copy = malloc(n);
    struct { size_t at; unsigned char v; } edits[] = {
        {0, 'R'},       /* magic */
        {7, '\r'},      /* magic: a text-mode transfer */
        {8, 2},         /* version 2 */
        {11, 1},        /* version 1 << 24: a big-endian reading */
        {12, 1},        /* byte-order mark reversed (first byte of it) */
        {16, 3},        /* address size */
        {17, 1},        /* reserved byte */
        {20, 0},        /* limit 0 */
        {20, RC_TRACE_MAX_FRAMES + 1},
    };
    for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        memcpy(copy, buf, n);
        copy[edits[k].at] = edits[k].v;
        fix_crc(copy, n);
        int err = 0;
        assert_null(rctr_snapshot_load_mem(copy, n, 0, &err));
        assert_int_equal(err, RC_EFORMAT);
    }
    /* and the unedited copy with its checksum recomputed still loads: the
     * refusals above are the edits' doing */
    memcpy(copy, buf, n);
    fix_crc(copy, n);
    int err = 0;
    rc_snapshot *s = rctr_snapshot_load_mem(copy, n, 0, &err);
    assert_non_null(s);
    rc_snapshot_free(s);
    free(copy);
    free(buf);
}

static void test_not_a_snapshot_file(void **state) {
    (void)state;
    int err = 0;
    const char *path = in_dir("empty");
    write_bytes(path, "", 0);
    assert_null(rc_snapshot_load(path, &err));
    assert_int_equal(err, RC_EFORMAT);

    path = in_dir("text");
    write_bytes(path, "hello, world\n", 13);
    assert_null(rc_snapshot_load(path, &err));
    assert_int_equal(err, RC_EFORMAT);

    errno = 0;
    assert_null(rc_snapshot_load(dir, &err));
    assert_int_equal(err, RC_EIO);
    assert_int_equal(errno, EISDIR);

    errno = 0;
    assert_null(rc_snapshot_load(in_dir("missing"), &err));
    assert_int_equal(err, RC_EIO);
    assert_int_equal(errno, ENOENT);

    assert_null(rc_snapshot_load(NULL, &err));
    assert_int_equal(err, RC_EINVAL);
    assert_null(rc_snapshot_load(in_dir("missing"), NULL));   /* error may be NULL */
    assert_null(rctr_snapshot_load_mem(NULL, 0, 0, &err));
    assert_int_equal(err, RC_EFORMAT);
}

/* ---- seeds for the fuzz target ---- */

static void write_seed(const char *seeds, const char *name, rc_snapshot *s) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", seeds, name);
    assert_int_equal(rc_snapshot_dump(s, p), 0);
    rc_snapshot_free(s);
}

static void test_write_seeds(void **state) {
    (void)state;
    const char *seeds = getenv("RC_TRACE_DUMP_SEEDS");
    if (!seeds || !*seeds)
        return;
    write_seed(seeds, "small-3-frames", small_snapshot());
    assert_int_equal(rc_trace_start(1), 0);
    rc_trace_clear_traces();
    write_seed(seeds, "empty", rc_trace_take_snapshot());
    make_blocks();
    write_seed(seeds, "one-frame", rc_trace_take_snapshot());
    free_blocks();
    rc_trace_stop();
    assert_int_equal(rc_trace_start(8), 0);
    make_blocks();
    rc_snapshot *s = rc_trace_take_snapshot();
    rc_trace_filter heap_only = {1, NULL, 0, 0, 1, RC_TRACE_DOMAIN_HEAP};
    write_seed(seeds, "filtered-8-frames", rc_snapshot_filter_traces(s, &heap_only, 1));
    write_seed(seeds, "two-domains-8-frames", s);
    free_blocks();
    rc_trace_stop();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loaded_uses_stored_symbols, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_replaces_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lying_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_snapshot_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_seeds, setup, teardown),
    };
    return rct_run_tests(tests, NULL, NULL);
}
