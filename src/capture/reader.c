/* reader.c - the capture reader: streams records out of a capture file,
 * checking everything.
 *
 * Memory is bounded by one chunk, never by the file: the reader holds the
 * header, the current chunk (its stored bytes, and its records when they
 * were compressed), zstd's window (at most 2^RCF_ZSTD_WINDOW_LOG_MAX
 * bytes), the chunk's pointer history and one bit per stack id defined so
 * far. Reports stream through captures many times larger than memory.
 *
 * Nothing in the file is trusted:
 *   - the header and every chunk frame carry a CRC-32C of themselves, and
 *     every payload one of its bytes, so damage is found before any field
 *     is believed (RCCAP_READ_NO_CHECKSUM skips only these comparisons);
 *   - no length makes the reader allocate more than the bytes actually
 *     present, give or take a factor of two: stored bytes are read into a
 *     buffer that grows with what the file delivers; the records of a
 *     compressed chunk take at most RCCAP_CHUNK_MAX, allocated only once
 *     its payload is all there and its CRC right;
 *   - every record is decoded with bounds and range checks (rcf_decode),
 *     and the stack ids are held to the rules of capture.h.
 *
 * A file that ends inside a chunk (the writer's process died while writing
 * it, or the file was copied while being written) ends the records there:
 * every complete chunk before it is read, rccap_reader_next returns 0 and
 * rccap_reader_truncated says so. Anything else wrong is damage: -1, and
 * rccap_reader_error names the offset and the fault. Both states are final.
 *
 * Records of a chunk are returned as they are decoded, so a damaged record
 * is reported after the records before it in its chunk were returned. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "capture/format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

enum { READING, ENDED, FAILED };

/* Reads from a file grow their buffer by at most this much beyond what has
 * arrived, so a lying length costs at most this much memory. */
#define GROW_MIN (64u << 10)

struct rccap_reader {
    /* the source: an fd, or bytes in memory */
    int fd;
    bool own_fd;
    const uint8_t *mem;
    size_t mem_len;
    uint64_t pos;           /* bytes consumed, from the start of the capture */
    uint64_t size;          /* the capture's size when known, else 0 */
    bool size_known;
    unsigned flags;

    rccap_header h;
    uint8_t *hbuf;          /* header body: h's strings point into it */

    /* the current chunk */
    uint8_t *stored;        /* payload read from an fd (unused for memory) */
    size_t stored_cap;
    uint8_t *content;       /* records of a compressed chunk */
    size_t content_cap;
    const uint8_t *rec, *rec_start, *rec_end;
    uint32_t rec_index, rec_count;
    uint64_t chunk_off;
    rcf_state st;
    rcf_history hist;       /* two rings in one block of 2 * (mask + 1) */
    ZSTD_DCtx *dctx;
    bool stream;            /* a zstd stream was started (RCF_ZSTD may follow) */

    /* stack ids: bit i set <=> id i defined */
    uint64_t *defined;
    size_t defined_words;
    uint64_t ndefined;

    int state;
    bool truncated;
    char err[384];
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int damaged(rccap_reader *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    r->state = FAILED;
    return -1;
}

/* ---- the source ---- */

/* Read up to n bytes at dst; the number read (short only at the end), or
 * -1 with errno set. */
static ssize_t src_read(rccap_reader *r, void *dst, size_t n) {
    if (r->mem) {
        size_t left = r->mem_len - (size_t)r->pos;
        size_t k = n < left ? n : left;
        memcpy(dst, r->mem + r->pos, k);
        r->pos += k;
        return (ssize_t)k;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(r->fd, (uint8_t *)dst + got, n - got);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    r->pos += got;
    return (ssize_t)got;
}

/* Make n bytes of the source available at *out: in place for memory, in
 * *buf (of *cap bytes, grown as bytes arrive) for an fd. *got receives how
 * many there were (< n at the end of the source). 0, or -1 with r->err set
 * (out of memory, read error). */
static int src_take(rccap_reader *r, size_t n, uint8_t **buf, size_t *cap, const uint8_t **out,
                    size_t *got) {
    if (r->mem) {
        size_t left = r->mem_len - (size_t)r->pos;
        *got = n < left ? n : left;
        *out = r->mem + r->pos;
        r->pos += *got;
        return 0;
    }
    size_t have = 0;
    while (have < n) {
        /* Grow to at most twice what has arrived (GROW_MIN at first). */
        size_t step = have > GROW_MIN ? have : GROW_MIN;
        size_t want = n - have < step ? n : have + step;
        if (*cap < want) {
            uint8_t *nb = realloc(*buf, want);
            if (!nb)
                return damaged(r, "offset %llu: out of memory for %zu bytes",
                               (unsigned long long)r->pos, want);
            *buf = nb;
            *cap = want;
        }
        ssize_t k = src_read(r, *buf + have, want - have);
        if (k < 0)
            return damaged(r, "offset %llu: read error: %s", (unsigned long long)r->pos,
                           strerror(errno));
        have += (size_t)k;
        if (have < want)
            break;   /* the end of the source */
    }
    *got = have;
    *out = *buf;
    return 0;
}

/* ---- the header ---- */

static int read_header(rccap_reader *r) {
    uint8_t fixed[RCF_HEADER_FIXED];
    ssize_t k = src_read(r, fixed, sizeof fixed);
    if (k < 0)
        return damaged(r, "cannot read: %s", strerror(errno));
    size_t got = (size_t)k;
    size_t cmp = got < RCF_MAGIC_SIZE ? got : RCF_MAGIC_SIZE;
    if (got == 0)
        return damaged(r, "not a recycle capture (the file is empty)");
    if (memcmp(fixed, RCF_MAGIC, cmp) != 0)
        return damaged(r, "not a recycle capture (no capture signature at offset 0)");
    if (got < sizeof fixed)
        return damaged(r, "truncated header: the file ends at offset %zu, inside the header", got);
    uint32_t version = rcf_get32(fixed + 8);
    if (version > RCCAP_VERSION)
        return damaged(r, "written by a newer version (%u) of recycle; this one reads captures "
                       "up to version %d", version, RCCAP_VERSION);
    if (version == 0)
        return damaged(r, "offset 8: version 0 is not a capture version");
    uint32_t body = rcf_get32(fixed + 12);
    if (body > RCF_HEADER_BODY_MAX)
        return damaged(r, "offset 12: header length %u is above the limit of %u", body,
                       (unsigned)RCF_HEADER_BODY_MAX);
    const uint8_t *p;
    size_t size = 0;
    if (src_take(r, (size_t)body + 4, &r->hbuf, &size, &p, &got) != 0)
        return -1;
    if (got < (size_t)body + 4)
        return damaged(r, "truncated header: the file ends at offset %llu, inside the header "
                       "of %u bytes", (unsigned long long)r->pos, RCF_HEADER_FIXED + body + 4);
    if (!(r->flags & RCCAP_READ_NO_CHECKSUM)) {
        uint32_t crc = rcf_crc32c(rcf_crc32c(0, fixed, sizeof fixed), p, body);
        if (crc != rcf_get32(p + body))
            return damaged(r, "offset %u: header checksum mismatch (stored 0x%08x, computed "
                           "0x%08x)", RCF_HEADER_FIXED + body, rcf_get32(p + body), crc);
    }
    /* h's strings point into p: r->hbuf, or the caller's bytes, which
     * outlive the reader. */
    char why[256];
    if (rcf_decode_header(p, body, &r->h, why, sizeof why) != 0)
        return damaged(r, "offset %d: damaged header: %s", RCF_HEADER_FIXED, why);
    r->h.version = version;
    return 0;
}

static rccap_reader *reader_new(unsigned flags) {
    rccap_reader *r = calloc(1, sizeof *r);
    if (r) {
        r->fd = -1;
        r->flags = flags;
    }
    return r;
}

/* Read the header of r; r, or NULL (r closed) with msg filled. */
static rccap_reader *finish_open(rccap_reader *r, char *msg, size_t msg_len) {
    if (read_header(r) == 0)
        return r;
    if (msg && msg_len)
        snprintf(msg, msg_len, "%s", r->err);
    rccap_reader_close(r);
    return NULL;
}

/* msg = "what: strerror(err)", or what alone for err 0. */
static void set_msg(char *msg, size_t msg_len, const char *what, int err) {
    if (msg && msg_len)
        snprintf(msg, msg_len, "%s%s%s", what, err ? ": " : "", err ? strerror(err) : "");
}

/* Size of what is left of fd from its position, if it is a regular file. */
static void size_of_fd(rccap_reader *r) {
    struct stat sb;
    if (fstat(r->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        off_t at = lseek(r->fd, 0, SEEK_CUR);
        if (at >= 0 && at <= sb.st_size) {
            r->size = (uint64_t)(sb.st_size - at);
            r->size_known = true;
        }
    }
}

rccap_reader *rccap_reader_open(const char *path, char *msg, size_t msg_len) {
    if (!path) {
        set_msg(msg, msg_len, "cannot open", EINVAL);
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_msg(msg, msg_len, "cannot open", errno);
        return NULL;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        close(fd);
        set_msg(msg, msg_len, "cannot read", EISDIR);
        return NULL;
    }
    rccap_reader *r = reader_new(0);
    if (!r) {
        close(fd);
        set_msg(msg, msg_len, "out of memory for the reader", 0);
        return NULL;
    }
    r->fd = fd;
    r->own_fd = true;
    size_of_fd(r);
    return finish_open(r, msg, msg_len);
}

rccap_reader *rccap_reader_open_fd(int fd, char *msg, size_t msg_len) {
    if (fd < 0) {
        set_msg(msg, msg_len, "cannot read", EBADF);
        return NULL;
    }
    rccap_reader *r = reader_new(0);
    if (!r) {
        set_msg(msg, msg_len, "out of memory for the reader", 0);
        return NULL;
    }
    r->fd = fd;
    size_of_fd(r);
    return finish_open(r, msg, msg_len);
}

rccap_reader *rccap_reader_open_mem(const void *data, size_t len, unsigned flags, char *msg,
                                    size_t msg_len) {
    if (!data && len) {
        set_msg(msg, msg_len, "cannot read", EINVAL);
        return NULL;
    }
    rccap_reader *r = reader_new(flags);
    if (!r) {
        set_msg(msg, msg_len, "out of memory for the reader", 0);
        return NULL;
    }
    static const uint8_t nothing[1];
    r->mem = data ? data : nothing;
    r->mem_len = len;
    r->size = len;
    r->size_known = true;
    return finish_open(r, msg, msg_len);
}

const rccap_header *rccap_reader_header(const rccap_reader *r) {
    return &r->h;
}

/* ---- chunks ---- */

/* The file ended inside the chunk that starts at chunk_off. */
static int truncated(rccap_reader *r) {
    r->truncated = true;
    r->state = ENDED;
    return 0;
}

/* Decompress the next piece of the zstd stream (a new stream when start)
 * into r->content, which must come out exactly content bytes: 0, or -1 on
 * damage. */
static int decompress(rccap_reader *r, bool start, const uint8_t *payload, uint32_t stored,
                      uint32_t content) {
    unsigned long long o = r->chunk_off + RCF_FRAME_SIZE;
    if (!r->dctx) {
        if (!(r->dctx = ZSTD_createDCtx()))
            return damaged(r, "offset %llu: out of memory for zstd", o);
        /* the window is what a stream makes the reader hold: bounded */
        ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_windowLogMax, RCF_ZSTD_WINDOW_LOG_MAX);
    }
    if (start)
        ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
    r->stream = true;
    if (r->content_cap < content) {
        free(r->content);
        r->content = malloc(content);
        r->content_cap = r->content ? content : 0;
        if (!r->content)
            return damaged(r, "offset %llu: out of memory for %u bytes of records", o, content);
    }
    ZSTD_inBuffer in = {payload, stored, 0};
    ZSTD_outBuffer out = {r->content, content, 0};
    for (;;) {
        size_t in_was = in.pos, out_was = out.pos;
        size_t k = ZSTD_decompressStream(r->dctx, &out, &in);
        if (ZSTD_isError(k))
            return damaged(r, "offset %llu: zstd cannot decompress the chunk: %s", o,
                           ZSTD_getErrorName(k));
        if (in.pos == in_was && out.pos == out_was)
            break;   /* no progress: all there is */
        if (out.pos == out.size && in.pos == in.size)
            break;
    }
    if (in.pos != in.size || out.pos != content)
        return damaged(r, "offset %llu: the chunk decompresses to %s%zu bytes, not the %u it "
                       "says", o, in.pos != in.size ? "more than " : "", out.pos, content);
    /* Nothing more may come out of it: a flushed piece ends with its
     * records. */
    uint8_t extra;
    ZSTD_outBuffer more = {&extra, 1, 0};
    ZSTD_inBuffer none = {payload, 0, 0};
    size_t k = ZSTD_decompressStream(r->dctx, &more, &none);
    if (ZSTD_isError(k) || more.pos)
        return damaged(r, "offset %llu: the chunk decompresses to more than the %u bytes it "
                       "says", o, content);
    return 0;
}

/* Load the next chunk: 1, 0 at the end of the file (or a truncated chunk),
 * -1 on damage. */
static int load_chunk(rccap_reader *r) {
    uint64_t off = r->chunk_off = r->pos;
    uint8_t frame[RCF_FRAME_SIZE];
    ssize_t k = src_read(r, frame, sizeof frame);
    if (k < 0)
        return damaged(r, "offset %llu: read error: %s", (unsigned long long)off, strerror(errno));
    if (k == 0) {
        r->state = ENDED;
        return 0;
    }
    if ((size_t)k < sizeof frame)
        return truncated(r);
    unsigned long long o = off;
    if (!(r->flags & RCCAP_READ_NO_CHECKSUM)) {
        uint32_t crc = rcf_crc32c(0, frame, 24);
        if (crc != rcf_get32(frame + 24))
            return damaged(r, "offset %llu: chunk frame checksum mismatch (stored 0x%08x, "
                           "computed 0x%08x)", o, rcf_get32(frame + 24), crc);
    }
    if (memcmp(frame, RCF_CHUNK_MAGIC, 4) != 0)
        return damaged(r, "offset %llu: no chunk signature where a chunk should start", o);
    int encoding = frame[4];
    if (encoding != RCF_RAW && encoding != RCF_ZSTD && encoding != RCF_ZSTD_START)
        return damaged(r, "offset %llu: unknown chunk encoding %d", o + 4, encoding);
    if (frame[5] | frame[6] | frame[7])
        return damaged(r, "offset %llu: reserved bytes of the chunk frame are not zero", o + 5);
    uint32_t stored = rcf_get32(frame + 8), content = rcf_get32(frame + 12);
    uint32_t count = rcf_get32(frame + 16);
    if (content > RCCAP_CHUNK_MAX)
        return damaged(r, "offset %llu: chunk of %u record bytes is above the limit of %u",
                       o + 12, content, (unsigned)RCCAP_CHUNK_MAX);
    if (count == 0 || content == 0)
        return damaged(r, "offset %llu: empty chunk (%u records in %u bytes)", o + 12, count,
                       content);
    if (count > content / RCF_RECORD_MIN)
        return damaged(r, "offset %llu: %u records cannot fit in %u bytes", o + 16, count,
                       content);
    if (encoding == RCF_RAW && stored != content)
        return damaged(r, "offset %llu: uncompressed chunk stores %u bytes for %u bytes of "
                       "records", o + 8, stored, content);
    if (encoding != RCF_RAW && stored > ZSTD_compressBound(content) + RCF_ZSTD_SLACK)
        return damaged(r, "offset %llu: %u compressed bytes for %u bytes of records is more "
                       "than zstd ever writes", o + 8, stored, content);
    if (encoding == RCF_ZSTD && !r->stream)
        return damaged(r, "offset %llu: the chunk continues a compressed stream that no chunk "
                       "started", o + 4);

    const uint8_t *payload;
    size_t got;
    if (src_take(r, stored, &r->stored, &r->stored_cap, &payload, &got) != 0)
        return -1;
    if (got < stored)
        return truncated(r);
    if (!(r->flags & RCCAP_READ_NO_CHECKSUM)) {
        uint32_t crc = rcf_crc32c(0, payload, stored);
        if (crc != rcf_get32(frame + 20))
            return damaged(r, "offset %llu: chunk checksum mismatch (stored 0x%08x, computed "
                           "0x%08x)", o, rcf_get32(frame + 20), crc);
    }
    if (encoding != RCF_RAW) {
        if (decompress(r, encoding == RCF_ZSTD_START, payload, stored, content) != 0)
            return -1;
        payload = r->content;
    }
    /* The pointer history: rings deep enough for every reference the
     * chunk may make, and no deeper than its records (count is at most
     * half its bytes, so a lying count cannot make this large). */
    uint32_t ring = 64;
    while (ring < count && ring < RCCAP_MODEL_WINDOW)
        ring *= 2;
    if (!r->hist.freed || r->hist.mask + 1 < ring) {
        uint64_t *nr = realloc(r->hist.freed, 2 * (size_t)ring * sizeof *nr);
        if (!nr)
            return damaged(r, "offset %llu: out of memory for the pointers of %u records", o,
                           count);
        r->hist.freed = nr;
        r->hist.alloced = nr + ring;
        r->hist.mask = ring - 1;
    }
    r->rec = r->rec_start = payload;
    r->rec_end = payload + content;
    r->rec_index = 0;
    r->rec_count = count;
    memset(&r->st, 0, sizeof r->st);
    r->st.version = r->h.version;
    return 1;
}

/* ---- records ---- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int bad_record(rccap_reader *r, const uint8_t *at, const char *fmt, ...) {
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return damaged(r, "chunk at offset %llu, record %u of %u (byte %zu of %zu): %s",
                   (unsigned long long)r->chunk_off, r->rec_index + 1, r->rec_count,
                   (size_t)(at - r->rec_start), (size_t)(r->rec_end - r->rec_start), why);
}

static bool stack_defined(const rccap_reader *r, uint32_t id) {
    if (id == 0)
        return true;
    size_t w = id / 64;
    return w < r->defined_words && (r->defined[w] >> (id % 64) & 1);
}

static int define_stack(rccap_reader *r, const uint8_t *at, uint32_t id, uint32_t parent) {
    if (id > 2 * r->ndefined + RCCAP_STACK_ID_SLACK)
        return bad_record(r, at, "stack id %u is far out of order (%llu ids defined so far)", id,
                          (unsigned long long)r->ndefined);
    if (stack_defined(r, id))
        return bad_record(r, at, "stack id %u defined twice", id);
    if (!stack_defined(r, parent))
        return bad_record(r, at, "parent id %u of stack %u is not defined", parent, id);
    size_t need = (size_t)id / 64 + 1;
    if (need > r->defined_words) {
        size_t n = r->defined_words ? r->defined_words : 64;
        while (n < need)
            n *= 2;
        uint64_t *nd = realloc(r->defined, n * sizeof *nd);
        if (!nd)
            return bad_record(r, at, "out of memory for stack id %u", id);
        memset(nd + r->defined_words, 0, (n - r->defined_words) * sizeof *nd);
        r->defined = nd;
        r->defined_words = n;
    }
    r->defined[id / 64] |= (uint64_t)1 << (id % 64);
    r->ndefined++;
    return 0;
}

int rccap_reader_next(rccap_reader *r, rccap_event *ev) {
    if (r->state != READING)
        return r->state == ENDED ? 0 : -1;
    if (r->rec_index == r->rec_count) {
        int k = load_chunk(r);
        if (k <= 0)
            return k;
    }
    const uint8_t *at = r->rec;
    char why[256];
    if (rcf_decode(&r->st, &r->hist, &r->rec, r->rec_end, ev, why, sizeof why) != 0)
        return bad_record(r, at, "%s", why);
    uint32_t stack = ev->kind == RCCAP_ALLOC     ? ev->u.alloc.stack
                     : ev->kind == RCCAP_REALLOC ? ev->u.realloc.stack
                                                 : 0;
    if (!stack_defined(r, stack))
        return bad_record(r, at, "stack id %u used before it was defined", stack);
    if (ev->kind == RCCAP_STACK && define_stack(r, at, ev->u.stack.id, ev->u.stack.parent) != 0)
        return -1;
    r->rec_index++;
    if (r->rec_index == r->rec_count && r->rec != r->rec_end)
        return damaged(r, "chunk at offset %llu: %zu bytes after its last record (it says it "
                       "holds %u)", (unsigned long long)r->chunk_off,
                       (size_t)(r->rec_end - r->rec), r->rec_count);
    if (r->rec_index < r->rec_count && r->rec == r->rec_end)
        return damaged(r, "chunk at offset %llu: says it holds %u records, holds %u",
                       (unsigned long long)r->chunk_off, r->rec_count, r->rec_index);
    return 1;
}

bool rccap_reader_truncated(const rccap_reader *r) {
    return r->truncated;
}

const char *rccap_reader_error(const rccap_reader *r) {
    return r->state == FAILED ? r->err : "";
}

void rccap_reader_progress(const rccap_reader *r, uint64_t *done, uint64_t *total) {
    if (done)
        *done = r->pos;
    if (total)
        *total = r->size_known && r->size >= r->pos ? r->size : r->pos;
}

void rccap_reader_close(rccap_reader *r) {
    if (!r)
        return;
    if (r->own_fd)
        close(r->fd);
    free(r->hbuf);
    free(r->stored);
    free(r->content);
    free(r->defined);
    free(r->hist.freed);
    ZSTD_freeDCtx(r->dctx);
    free(r);
}
