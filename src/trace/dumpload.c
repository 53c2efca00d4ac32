/* dumpload.c - the snapshot file: rc_snapshot_dump and rc_snapshot_load.
 *
 * Format, version 1 (docs/trace.md, "Snapshot file format", is its prose
 * twin). Every integer is little-endian whatever the machine, so a file
 * moves between machines; the byte-order mark and the address size are
 * there to refuse a file written by anything that did not follow that rule.
 *
 *   offset size
 *        0    8  magic "\x89RCSNAP\n"
 *        8    4  version (1)
 *       12    4  byte-order mark 0x01020304
 *       16    1  address size of the dumping process (4 or 8)
 *       17    3  zero
 *       20    4  traceback limit (1..RC_TRACE_MAX_FRAMES)
 *       24    8  nstrings      strings in the string table
 *       32    8  string_bytes  their total length (terminators excluded)
 *       40    8  ntbs          tracebacks
 *       48    8  nframes       frames of all tracebacks together
 *       56    8  ntraces       traces
 *       64       strings:    nstrings x { u32 len; len bytes, no NUL }
 *                tracebacks: ntbs x { u32 n (<= RC_TRACE_MAX_FRAMES);
 *                                     n x frame }
 *                  frame:    { u64 address; u32 function (string + 1, 0: none);
 *                              u32 file (string index); i32 line (>= 0) }
 *                traces:     ntraces x { u32 domain; u64 size; u64 traceback }
 *                            (the sizes add up to at most PTRDIFF_MAX)
 *      end-4    4  CRC-32 (IEEE 802.3, zlib's crc32) of every byte before it
 *
 * Why the loader cannot be made to over-allocate: the header's counts fix
 * the file's exact length (64 + 4 nstrings + string_bytes + 4 ntbs +
 * 20 nframes + 20 ntraces + 4, computed with overflow checks), and a file
 * of any other length is refused before anything is allocated. After that
 * test every allocation is bounded by a small multiple of the file's size.
 * Each variable-length part is then checked against its count as it is
 * read (string lengths add up to string_bytes, traceback lengths to
 * nframes), and every index against what it indexes.
 *
 * Symbols: frames carry their function, file and line, found at dump time
 * (rctr_snapshot_frame: the symbolizer for a snapshot of this process, the
 * stored symbols for a loaded one), because the addresses mean nothing in
 * another process. A loaded snapshot answers statistics and filters from
 * them (snapshot.h). */
#include "trace/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SNAP_MAGIC "\x89RCSNAP\n"
#define SNAP_VERSION 1u
#define SNAP_BOM 0x01020304u
#define SNAP_HEADER 64u
#define SNAP_FRAME 20u            /* bytes of one frame record */
#define SNAP_TRACE 20u            /* bytes of one trace record */
#define SNAP_CRC 4u
#define NO_FUNCTION 0u            /* the function field of a frame without one */

_Static_assert(sizeof SNAP_MAGIC - 1 == 8, "the magic is 8 bytes");

/* ---- CRC-32 (reflected polynomial 0xEDB88320, as zlib) ---- */

/* The table costs 256 x 8 steps, next to nothing beside a file's I/O; built
 * per call, so there is no global to initialise. */
static uint32_t crc32_of(const unsigned char *p, size_t n) {
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

/* ---- little-endian writer over a buffer sized in advance ---- */

typedef struct wbuf {
    unsigned char *p;
    size_t i;
} wbuf;

static void put_u8(wbuf *w, unsigned v) {
    w->p[w->i++] = (unsigned char)v;
}

static void put_u32(wbuf *w, uint32_t v) {
    for (int k = 0; k < 4; k++)
        put_u8(w, (v >> (8 * k)) & 0xFF);
}

static void put_u64(wbuf *w, uint64_t v) {
    for (int k = 0; k < 8; k++)
        put_u8(w, (unsigned)(v >> (8 * k)) & 0xFF);
}

/* ---- dump ---- */

/* a + b * c into *out; false on overflow. */
static bool add_mul(size_t a, size_t b, size_t c, size_t *out) {
    size_t m;
    if (__builtin_mul_overflow(b, c, &m) || __builtin_add_overflow(a, m, out))
        return false;
    return true;
}

typedef struct dumper {
    rctr_sym *syms;               /* every frame's symbols, traceback by traceback */
    size_t nframes;
    const char **strs;            /* the string table, in file order */
    size_t nstrs, cap_strs, str_bytes;
    rci_htable index;             /* string pointer -> table index + 1 */
} dumper;

/* The table index of s, added when new. -1 on ENOMEM, -2 when s is too long
 * for the format or the table would exceed its 32-bit indexes. */
static long long intern(dumper *d, const char *s) {
    uintptr_t v;
    if (rci_htable_get(&d->index, (uintptr_t)s, &v))
        return (long long)(v - 1);
    size_t len = strlen(s);
    if (len > UINT32_MAX || d->nstrs >= UINT32_MAX - 1)
        return -2;
    if (d->nstrs == d->cap_strs) {
        size_t cap = d->cap_strs ? d->cap_strs * 2 : 64;
        const char **n = realloc(d->strs, cap * sizeof *n);
        if (!n)
            return -1;
        d->strs = n;
        d->cap_strs = cap;
    }
    if (rci_htable_put(&d->index, (uintptr_t)s, d->nstrs + 1) != 0)
        return -1;
    d->strs[d->nstrs] = s;
    d->str_bytes += len;
    return (long long)d->nstrs++;
}

void *rctr_snapshot_dump_mem(const rc_snapshot *s, size_t *len, int *error) {
    dumper d = {0};
    rci_htable_init(&d.index);
    unsigned char *buf = NULL;
    int err = RC_ENOMEM;
    for (size_t i = 0; i < s->ntbs; i++)
        d.nframes += s->tbs[i]->nframes;
    d.syms = malloc((d.nframes ? d.nframes : 1) * sizeof *d.syms);
    if (!d.syms)
        goto fail;
    /* symbols first: they decide the string table */
    for (size_t i = 0, k = 0; i < s->ntbs; i++) {
        if (s->tbs[i]->nframes > RC_TRACE_MAX_FRAMES) {
            err = RC_EOVERFLOW;
            goto fail;
        }
        for (size_t f = 0; f < s->tbs[i]->nframes; f++, k++) {
            rctr_snapshot_frame(s, i, f, &d.syms[k]);
            long long r = intern(&d, d.syms[k].file);
            if (r >= 0 && d.syms[k].function)
                r = intern(&d, d.syms[k].function);
            if (r < 0) {
                err = r == -1 ? RC_ENOMEM : RC_EOVERFLOW;
                goto fail;
            }
        }
    }
    size_t total = SNAP_HEADER + SNAP_CRC;
    if (!add_mul(total, d.nstrs, 4, &total) || !add_mul(total, d.str_bytes, 1, &total) ||
        !add_mul(total, s->ntbs, 4, &total) || !add_mul(total, d.nframes, SNAP_FRAME, &total) ||
        !add_mul(total, s->ntraces, SNAP_TRACE, &total)) {
        err = RC_EOVERFLOW;
        goto fail;
    }
    buf = malloc(total);
    if (!buf)
        goto fail;
    wbuf w = {buf, 0};
    memcpy(buf, SNAP_MAGIC, 8);
    w.i = 8;
    put_u32(&w, SNAP_VERSION);
    put_u32(&w, SNAP_BOM);
    put_u8(&w, (unsigned)sizeof(uintptr_t));
    put_u8(&w, 0);
    put_u8(&w, 0);
    put_u8(&w, 0);
    put_u32(&w, (uint32_t)s->limit);
    put_u64(&w, d.nstrs);
    put_u64(&w, d.str_bytes);
    put_u64(&w, s->ntbs);
    put_u64(&w, d.nframes);
    put_u64(&w, s->ntraces);
    for (size_t i = 0; i < d.nstrs; i++) {
        size_t n = strlen(d.strs[i]);
        put_u32(&w, (uint32_t)n);
        memcpy(buf + w.i, d.strs[i], n);
        w.i += n;
    }
    for (size_t i = 0, k = 0; i < s->ntbs; i++) {
        put_u32(&w, (uint32_t)s->tbs[i]->nframes);
        for (size_t f = 0; f < s->tbs[i]->nframes; f++, k++) {
            uintptr_t v;
            put_u64(&w, s->tbs[i]->frames[f]);
            if (d.syms[k].function && rci_htable_get(&d.index, (uintptr_t)d.syms[k].function, &v))
                put_u32(&w, (uint32_t)v);                 /* index + 1 */
            else
                put_u32(&w, NO_FUNCTION);
            rci_htable_get(&d.index, (uintptr_t)d.syms[k].file, &v);
            put_u32(&w, (uint32_t)(v - 1));
            put_u32(&w, (uint32_t)(d.syms[k].line < 0 ? 0 : d.syms[k].line));
        }
    }
    for (size_t i = 0; i < s->ntraces; i++) {
        put_u32(&w, s->traces[i].domain);
        put_u64(&w, s->traces[i].size);
        put_u64(&w, s->traces[i].tb);
    }
    put_u32(&w, crc32_of(buf, w.i));
    free(d.syms);
    free(d.strs);
    rci_htable_free(&d.index);
    *len = total;
    return buf;
fail:
    free(buf);
    free(d.syms);
    free(d.strs);
    rci_htable_free(&d.index);
    *error = err;
    return NULL;
}

/* Write n bytes to fd, through short writes and EINTR; false with errno. */
static bool write_all(int fd, const unsigned char *p, size_t n) {
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += k;
        n -= (size_t)k;
    }
    return true;
}

/* The file appears whole or not at all: the bytes go to a new file next to
 * path (same directory, hence same file system) that is synced and then
 * renamed over path, an atomic replacement on POSIX. The temporary name
 * carries the pid and a counter, and is opened with O_EXCL, so two dumps
 * running at once never share one. */
int rc_snapshot_dump(const rc_snapshot *s, const char *path) {
    static unsigned long counter;
    if (!s || !path || !*path)
        return RC_EINVAL;
    size_t len;
    int err = 0;
    unsigned char *buf = rctr_snapshot_dump_mem(s, &len, &err);
    if (!buf)
        return err;
    size_t tlen = strlen(path) + 64;
    char *tmp = malloc(tlen);
    if (!tmp) {
        free(buf);
        return RC_ENOMEM;
    }
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        unsigned long c = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
        snprintf(tmp, tlen, "%s.tmp.%ld.%lu", path, (long)getpid(), c);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    int rc = RC_EIO;
    if (fd >= 0) {
        bool ok = write_all(fd, buf, len) && fsync(fd) == 0;
        int saved = errno;
        if (close(fd) != 0 && ok) {
            ok = false;
            saved = errno;
        }
        if (ok && rename(tmp, path) != 0) {
            ok = false;
            saved = errno;
        }
        if (ok) {
            rc = 0;
        } else {
            unlink(tmp);
            errno = saved;
        }
    }
    int saved = errno;
    free(tmp);
    free(buf);
    errno = saved;
    return rc;
}

/* ---- load ---- */

/* A little-endian reader; the caller has checked that the bytes are there
 * (the length test in load_mem), so reads never fail. */
typedef struct rbuf {
    const unsigned char *p;
    size_t i;
} rbuf;

static uint32_t get_u32(rbuf *r) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v |= (uint32_t)r->p[r->i++] << (8 * k);
    return v;
}

static uint64_t get_u64(rbuf *r) {
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v |= (uint64_t)r->p[r->i++] << (8 * k);
    return v;
}

/* A 64-bit count as a size_t; false when it does not fit. */
static bool as_size(uint64_t v, size_t *out) {
    if (v > SIZE_MAX)
        return false;
    *out = (size_t)v;
    return true;
}

rc_snapshot *rctr_snapshot_load_mem(const void *data, size_t len, unsigned flags, int *error) {
    const unsigned char *p = data;
    int dummy;
    if (!error)
        error = &dummy;
    *error = RC_EFORMAT;
    if (!p || len < SNAP_HEADER + SNAP_CRC || memcmp(p, SNAP_MAGIC, 8) != 0)
        return NULL;
    rbuf r = {p, 8};
    uint32_t version = get_u32(&r), bom = get_u32(&r);
    unsigned addr_size = p[16];
    r.i = 20;
    uint32_t limit = get_u32(&r);
    if (version != SNAP_VERSION || bom != SNAP_BOM || (addr_size != 4 && addr_size != 8) ||
        p[17] || p[18] || p[19] || limit < 1 || limit > RC_TRACE_MAX_FRAMES)
        return NULL;
    size_t nstrs, str_bytes, ntbs, nframes, ntraces;
    if (!as_size(get_u64(&r), &nstrs) || !as_size(get_u64(&r), &str_bytes) ||
        !as_size(get_u64(&r), &ntbs) || !as_size(get_u64(&r), &nframes) ||
        !as_size(get_u64(&r), &ntraces))
        return NULL;
    /* the counts fix the length exactly: nothing is allocated for a count
     * the file does not hold */
    size_t want = SNAP_HEADER + SNAP_CRC;
    if (!add_mul(want, nstrs, 4, &want) || !add_mul(want, str_bytes, 1, &want) ||
        !add_mul(want, ntbs, 4, &want) || !add_mul(want, nframes, SNAP_FRAME, &want) ||
        !add_mul(want, ntraces, SNAP_TRACE, &want) || want != len)
        return NULL;
    if (!(flags & RCTR_LOAD_NO_CHECKSUM)) {
        r.i = len - SNAP_CRC;
        if (get_u32(&r) != crc32_of(p, len - SNAP_CRC))
            return NULL;
    }
    r.i = SNAP_HEADER;

    *error = RC_ENOMEM;
    rc_snapshot *s = calloc(1, sizeof *s);
    rctr_symbols *sy = calloc(1, sizeof *sy);
    const char **strs = malloc((nstrs ? nstrs : 1) * sizeof *strs);
    if (!s || !sy || !strs) {
        free(s);
        free(sy);
        free(strs);
        return NULL;
    }
    s->limit = (int)limit;
    s->syms = sy;
    sy->refs = 1;
    /* From here rc_snapshot_free(s) releases whatever has been set up, so
     * every failure below is one goto. */
    sy->strings = malloc(str_bytes + nstrs + 1);
    s->tbs = malloc((ntbs ? ntbs : 1) * sizeof *s->tbs);
    sy->first = malloc((ntbs ? ntbs : 1) * sizeof *sy->first);
    sy->v = malloc((nframes ? nframes : 1) * sizeof *sy->v);
    s->traces = malloc((ntraces ? ntraces : 1) * sizeof *s->traces);
    if (!sy->strings || !s->tbs || !sy->first || !sy->v || !s->traces)
        goto fail;

    *error = RC_EFORMAT;
    /* strings: each length within what string_bytes has left, no NUL */
    size_t used = 0;
    char *out = sy->strings;
    for (size_t i = 0; i < nstrs; i++) {
        uint32_t n = get_u32(&r);
        if (n > str_bytes - used || memchr(p + r.i, 0, n))
            goto fail;
        memcpy(out, p + r.i, n);
        out[n] = '\0';
        strs[i] = out;
        out += n + 1;
        r.i += n;
        used += n;
    }
    if (used != str_bytes)
        goto fail;

    /* tracebacks: lengths within what nframes has left; indexes in range */
    size_t k = 0;
    for (; s->ntbs < ntbs; s->ntbs++) {
        uint32_t n = get_u32(&r);
        if (n > RC_TRACE_MAX_FRAMES || n > nframes - k)
            goto fail;
        rc_traceback *tb = malloc(sizeof *tb + n * sizeof tb->frames[0]);
        if (!tb) {
            *error = RC_ENOMEM;
            goto fail;
        }
        tb->nframes = n;
        s->tbs[s->ntbs] = tb;
        sy->first[s->ntbs] = k;
        for (uint32_t f = 0; f < n; f++, k++) {
            uint64_t addr = get_u64(&r);
            uint32_t func = get_u32(&r), file = get_u32(&r), line = get_u32(&r);
            if ((addr_size == 4 && addr > UINT32_MAX) || addr > UINTPTR_MAX ||
                func > nstrs || file >= nstrs || line > INT32_MAX) {
                s->ntbs++;        /* tb is freed with the others */
                goto fail;
            }
            tb->frames[f] = (uintptr_t)addr;
            sy->v[k] = (rctr_sym){func == NO_FUNCTION ? NULL : strs[func - 1], strs[file],
                                  (int)line};
        }
    }
    if (k != nframes)
        goto fail;

    /* traces; their sizes add up to at most PTRDIFF_MAX, as the blocks of
     * one process must, so that no statistic's size or difference of sizes
     * (a long in rc_stat) can overflow */
    uint64_t total = 0;
    for (; s->ntraces < ntraces; s->ntraces++) {
        uint32_t domain = get_u32(&r);
        uint64_t size = get_u64(&r), tb = get_u64(&r);
        if (tb >= ntbs || size > (uint64_t)PTRDIFF_MAX - total)
            goto fail;
        total += size;
        s->traces[s->ntraces] = (snap_trace){domain, (size_t)size, (size_t)tb, 0};
    }
    free(strs);
    *error = 0;
    return s;
fail:
    free(strs);
    rc_snapshot_free(s);
    return NULL;
}

/* The whole file at path in a malloc'd buffer; NULL with errno set (an OS
 * error, or ENOMEM). A directory fails in read with EISDIR. */
static unsigned char *read_file(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    size_t cap = 64 * 1024, n = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uintmax_t)st.st_size < SIZE_MAX)
        cap = (size_t)st.st_size + 1;   /* +1: the read that sees the end */
    unsigned char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    for (;;) {
        if (n == cap) {
            unsigned char *b = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                close(fd);
                errno = ENOMEM;
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            free(buf);
            close(fd);
            errno = saved;
            return NULL;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    *len = n;
    return buf;
}

rc_snapshot *rc_snapshot_load(const char *path, int *error) {
    int dummy;
    if (!error)
        error = &dummy;
    if (!path) {
        *error = RC_EINVAL;
        return NULL;
    }
    size_t len = 0;
    unsigned char *buf = read_file(path, &len);
    if (!buf) {
        *error = errno == ENOMEM ? RC_ENOMEM : RC_EIO;
        return NULL;
    }
    rc_snapshot *s = rctr_snapshot_load_mem(buf, len, 0, error);
    free(buf);
    return s;
}
