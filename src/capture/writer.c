/* writer.c - the capture writer: the header, then one chunk per call.
 *
 * The writer runs inside the preload shim, where malloc is the function
 * being traced, and in signal handlers of a dying process. So:
 *
 *   - no malloc: the writer itself, zstd's compression state (through
 *     ZSTD_customMem) and the compressed chunk all live in memory from the
 *     OS layer (rci_os_alloc_aligned: mmap). The header is written from a
 *     stack buffer and the caller's strings, without a copy;
 *   - no stdio and no locks: chunks go out with write(2), retried on EINTR
 *     and continued after short writes;
 *   - rccap_writer_chunk_raw allocates nothing at all and calls only
 *     write(2) and pure functions: it is for a signal handler;
 *   - a call never aborts: every failure is an errno value returned.
 *
 * Compression: one zstd stream for the whole capture, flushed at the end
 * of every chunk (format.h), so a chunk's patterns are found in the chunks
 * before it. `fresh` says the next compressed chunk must start a new
 * stream: at first, and after anything that leaves the reader's
 * decompressor behind the writer's compressor (a compression that failed,
 * a compressed chunk that did not reach the file).
 *
 * State machine of a writer:
 *
 *   open --(chunk ok)--> open
 *   open --(write fails before any byte of the chunk)--> open (error returned)
 *   open --(write fails after some bytes)--> broken: every later chunk
 *        returns that error, so the partial chunk stays the last thing in
 *        the file and readers see a truncated capture, never garbage
 *        followed by chunks
 *   any  --(close)--> freed
 *
 * `busy` is set for the length of each chunk call: a call that finds it set
 * (only possible when the caller broke the rule of not overlapping calls,
 * or from a signal handler that interrupted a chunk being written) returns
 * EBUSY without writing, so chunks are never interleaved byte-wise.
 *
 * Memory: sizeof(rccap_writer) rounded to a page, zstd's state for the
 * level and a 4 MiB window (about 5 MiB at levels 1 to 3), and one buffer
 * of ZSTD_compressBound(largest chunk) + a frame, kept between chunks. */
#include "capture/format.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

/* ZSTD_createCCtx_advanced and ZSTD_customMem sit in zstd's "static
 * linking only" section, yet libzstd.so exports them and their signatures
 * have not changed since zstd 1.0. */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "heap/os/os.h"

struct rccap_writer {
    int fd;
    int error;              /* non-zero: broken (see the state machine) */
    bool fresh;             /* the next compressed chunk starts a zstd stream */
    atomic_bool busy;
    ZSTD_CCtx *cctx;
    uint8_t *out;           /* frame + compressed payload; OS memory */
    size_t out_size;
    size_t self_size;       /* bytes of the mapping holding this struct */
};

/* ---- memory from the OS layer ---- */

/* A block of OS memory carries its mapping size in front; 64 bytes keep
 * what zstd receives aligned for anything it stores. */
#define OS_BLOCK_HEADER 64

static size_t page_round(size_t n) {
    size_t ps = rci_os_page_size();
    if (n > SIZE_MAX - ps)
        return 0;
    return (n + ps - 1) & ~(ps - 1);
}

static void *os_take(size_t size) {
    if (size > SIZE_MAX - OS_BLOCK_HEADER)
        return NULL;
    size_t total = page_round(size + OS_BLOCK_HEADER);
    void *p;
    if (total == 0 || rci_os_alloc_aligned(total, rci_os_page_size(), &p) != 0)
        return NULL;
    memcpy(p, &total, sizeof total);
    return (char *)p + OS_BLOCK_HEADER;
}

static void os_give(void *p) {
    if (!p)
        return;
    char *base = (char *)p - OS_BLOCK_HEADER;
    size_t total;
    memcpy(&total, base, sizeof total);
    rci_os_free(base, total);
}

static void *zstd_alloc(void *opaque, size_t size) {
    (void)opaque;
    return os_take(size);
}

static void zstd_free(void *opaque, void *p) {
    (void)opaque;
    os_give(p);
}

/* ---- output ---- */

/* Write n bytes; 0 or an errno value. *done counts the bytes that went
 * out, whatever the result. */
static int write_all(int fd, const void *data, size_t n, size_t *done) {
    const uint8_t *p = data;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (k == 0)
            return EIO;   /* write(2) never does this for n > 0; do not spin */
        p += k;
        n -= (size_t)k;
        *done += (size_t)k;
    }
    return 0;
}

/* Write one chunk given as two pieces (the second may be empty). A failure
 * after some bytes breaks the writer. */
static int emit(rccap_writer *w, const void *a, size_t na, const void *b, size_t nb) {
    size_t done = 0;
    int err = write_all(w->fd, a, na, &done);
    if (!err && nb)
        err = write_all(w->fd, b, nb, &done);
    if (err && done)
        w->error = err;
    return err;
}

/* ---- the header ---- */

static int write_header(rccap_writer *w, const rccap_header *h) {
    /* Everything but the command line's bytes fits here. */
    uint8_t buf[RCF_HEADER_FIXED + 6 * 10 + 10 + RCCAP_STRING_MAX + 1 + 10];
    size_t plen = rcf_cut_len(h->program, RCCAP_STRING_MAX);
    size_t clen = rcf_cut_len(h->command_line, RCCAP_COMMAND_LINE_MAX);

    uint8_t *p = buf + RCF_HEADER_FIXED;
    p = rcf_put_varint(p, h->frames);
    p = rcf_put_varint(p, h->sample_bytes);
    p = rcf_put_varint(p, h->pid);
    p = rcf_put_varint(p, h->ppid);
    p = rcf_put_varint(p, h->start_realtime_ns);
    p = rcf_put_varint(p, h->page_size);
    p = rcf_put_varint(p, plen);
    if (plen)
        memcpy(p, h->program, plen);
    p += plen;
    *p++ = 0;
    p = rcf_put_varint(p, clen);
    size_t body = (size_t)(p - buf) - RCF_HEADER_FIXED + clen + 1;

    memcpy(buf, RCF_MAGIC, RCF_MAGIC_SIZE);
    rcf_put32(buf + 8, RCCAP_VERSION);
    rcf_put32(buf + 12, (uint32_t)body);
    uint8_t tail[5] = {0};
    uint32_t crc = rcf_crc32c(0, buf, (size_t)(p - buf));
    crc = rcf_crc32c(crc, h->command_line, clen);
    crc = rcf_crc32c(crc, tail, 1);
    rcf_put32(tail + 1, crc);

    size_t done = 0;
    int err = write_all(w->fd, buf, (size_t)(p - buf), &done);
    if (!err && clen)
        err = write_all(w->fd, h->command_line, clen, &done);
    if (!err)
        err = write_all(w->fd, tail, sizeof tail, &done);
    return err;
}

/* ---- the writer ---- */

rccap_writer *rccap_writer_open(int fd, const rccap_header *h, int level, int *err) {
    int ignored;
    if (!err)
        err = &ignored;
    if (fd < 0 || !h) {
        *err = fd < 0 ? EBADF : EINVAL;
        return NULL;
    }
    size_t self = page_round(sizeof(rccap_writer));
    void *mem;
    if (rci_os_alloc_aligned(self, rci_os_page_size(), &mem) != 0) {
        *err = ENOMEM;
        return NULL;
    }
    rccap_writer *w = mem;   /* zeroed by the OS */
    w->fd = fd;
    w->self_size = self;
    w->fresh = true;
    atomic_init(&w->busy, false);
    ZSTD_customMem cm = {zstd_alloc, zstd_free, NULL};
    w->cctx = ZSTD_createCCtx_advanced(cm);
    int e = ENOMEM;
    if (w->cctx) {
        /* zstd clamps the level to its range; these cannot fail for a
         * valid context. zstd's own checksum would repeat the chunks'
         * CRCs. */
        ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_windowLog, RCF_ZSTD_WINDOW_LOG);
        ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 0);
        e = write_header(w, h);
    }
    if (e) {
        ZSTD_freeCCtx(w->cctx);
        rci_os_free(w, self);
        *err = e;
        return NULL;
    }
    *err = 0;
    return w;
}

/* Make w->out hold at least n bytes; 0 or ENOMEM (then w->out is NULL). */
static int reserve_out(rccap_writer *w, size_t n) {
    if (w->out_size >= n)
        return 0;
    os_give(w->out);
    w->out = os_take(n);
    w->out_size = w->out ? n : 0;
    return w->out ? 0 : ENOMEM;
}

static int write_raw(rccap_writer *w, const uint8_t *records, size_t len, uint32_t count) {
    uint8_t frame[RCF_FRAME_SIZE];
    rcf_frame_fill(frame, RCF_RAW, (uint32_t)len, (uint32_t)len, count,
                   rcf_crc32c(0, records, len));
    return emit(w, frame, sizeof frame, records, len);
}

/* Compress e's records as the next piece of the stream (a new stream when
 * w->fresh) into w->out after room for the frame; the piece's size, or 0
 * when there is no memory or zstd fails (the stream is then unusable until
 * restarted). */
static size_t compress(rccap_writer *w, const rccap_encoder *e) {
    size_t room = ZSTD_compressBound(e->len) + RCF_ZSTD_SLACK;
    if (reserve_out(w, RCF_FRAME_SIZE + room) != 0)
        return 0;
    if (w->fresh)
        ZSTD_CCtx_reset(w->cctx, ZSTD_reset_session_only);
    ZSTD_inBuffer in = {e->buf, e->len, 0};
    ZSTD_outBuffer out = {w->out + RCF_FRAME_SIZE, room, 0};
    size_t left;
    do
        left = ZSTD_compressStream2(w->cctx, &out, &in, ZSTD_e_flush);
    while (!ZSTD_isError(left) && left != 0 && out.pos < out.size);
    if (ZSTD_isError(left) || left != 0 || in.pos != in.size)
        return 0;
    return out.pos;
}

/* The checks both chunk calls share; 0 when e may be written. */
static int check_encoder(const rccap_writer *w, const rccap_encoder *e) {
    if (!w || !e || (e->len && !e->buf) || e->len > RCCAP_CHUNK_MAX)
        return EINVAL;
    return 0;
}

int rccap_writer_chunk(rccap_writer *w, const rccap_encoder *e) {
    int err = check_encoder(w, e);
    if (err)
        return err;
    if ((e->count == 0) != (e->len == 0) || e->len < (size_t)e->count * RCF_RECORD_MIN)
        return EINVAL;
    if (atomic_exchange(&w->busy, true))
        return EBUSY;
    err = w->error;
    if (!err && e->count) {
        size_t z = compress(w, e);
        if (z) {
            int encoding = w->fresh ? RCF_ZSTD_START : RCF_ZSTD;
            rcf_frame_fill(w->out, encoding, (uint32_t)z, (uint32_t)e->len, e->count,
                           rcf_crc32c(0, w->out + RCF_FRAME_SIZE, z));
            err = emit(w, w->out, RCF_FRAME_SIZE + z, NULL, 0);
            /* a piece the reader never sees would leave its decompressor
             * behind: the next piece starts over */
            w->fresh = err != 0;
        } else {
            w->fresh = true;
            err = write_raw(w, e->buf, e->len, e->count);
        }
    }
    atomic_store(&w->busy, false);
    return err;
}

int rccap_writer_chunk_raw(rccap_writer *w, const rccap_encoder *e) {
    int saved_errno = errno;   /* a signal handler must leave errno alone */
    int err = check_encoder(w, e);
    if (err)
        return err;
    if (atomic_exchange(&w->busy, true))
        return EBUSY;
    err = w->error;
    if (!err) {
        /* Count the whole records: e->count may be one ahead of e->len
         * when rccap_encode was interrupted, and a damaged buffer (this
         * may run in a crashing process) is cut at its first bad record. */
        const uint8_t *p = e->buf, *end = e->buf + e->len, *whole = e->buf;
        uint32_t count = 0;
        rcf_state st = {.version = RCCAP_VERSION};
        rccap_event ev;
        while (p < end && rcf_decode(&st, NULL, &p, end, &ev, NULL, 0) == 0) {
            count++;
            whole = p;
        }
        if (count)
            err = write_raw(w, e->buf, (size_t)(whole - e->buf), count);
    }
    atomic_store(&w->busy, false);
    errno = saved_errno;
    return err;
}

int rccap_writer_close(rccap_writer *w) {
    if (!w)
        return 0;
    int err = w->error;
    ZSTD_freeCCtx(w->cctx);
    os_give(w->out);
    rci_os_free(w, w->self_size);
    return err;
}
