/* bytes.c - the bytes type: an immutable byte string, either inline or a
 * file mapped read-only (rc_bytes_mmap).
 *
 * Layout: one block per object (rc_new_var, itemsize 1):
 *
 *   [ rco_var ][ rc_obj | data | len | hash | flags | inline[] ]
 *
 * An inline bytes (rc_bytes) has len + 1 trailing bytes: its contents and a
 * NUL, and data points at inline[]. A mapped bytes has one trailing byte (a
 * NUL) and data points at the mapping, or at inline[] when the file is empty
 * (mmap cannot map zero bytes, so nothing is mapped). The NUL after inline
 * contents is a convenience for C callers, not part of the value; a mapping
 * has no NUL after it.
 *
 * Invariants: the contents never change (a MAP_PRIVATE, PROT_READ mapping
 * cannot be written through), so the hash is cached on first use; a mapping
 * (flag BYTES_MMAP with len > 0) is unmapped exactly once, by destroy, when
 * the last reference goes (or when the runtime is freed). The file's
 * descriptor is closed as soon as the mapping exists.
 *
 * No growth: a bytes never changes size.
 *
 * Equality and hashing are by contents among bytes objects only: a bytes
 * never equals a str (Python 3), whatever the bytes.
 *
 * sizeof_extra is 0 for both kinds: inline contents are in the block, and a
 * mapping is page cache, not heap memory (Python's getsizeof does not count
 * an mmap's pages either). */
#include "types/types.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct bytes_obj {
    rc_obj ob;
    const unsigned char *data;
    size_t len;
    uint64_t hash;
    uint32_t flags;
    unsigned char inline_data[];
} bytes_obj;

#define BYTES_HASHED 1u
#define BYTES_MMAP   2u

static void bytes_destroy(rc_obj *self);
static int bytes_hash(rc_obj *self, uint64_t *out);
static int bytes_equal(rc_obj *a, rc_obj *b);
static int bytes_repr(rc_obj *self, char *buf, size_t len);

const rc_type rc_bytes_type = {
    .name = "bytes",
    .size = offsetof(bytes_obj, inline_data),
    .itemsize = 1,
    .destroy = bytes_destroy,
    .hash = bytes_hash,
    .equal = bytes_equal,
    .repr = bytes_repr,
};

static inline bytes_obj *as_bytes(const rc_obj *o) {
    return (bytes_obj *)(void *)(uintptr_t)o;
}

RCI_ALLOC_FRAME rc_obj *rc_bytes(rc_runtime *rt, const void *data, size_t len) {
    if (!rt)
        return NULL;
    if (!data && len > 0)
        return rco_err_null(rt, RC_EINVAL, "rc_bytes: NULL data");
    if (len >= SIZE_MAX / 2)
        return rco_err_null(rt, RC_EOVERFLOW, "rc_bytes: length %zu is too large", len);
    rc_obj *o = rc_new_var(rt, &rc_bytes_type, len + 1);
    if (!o)
        return NULL;
    bytes_obj *b = as_bytes(o);
    if (len)
        memcpy(b->inline_data, data, len);
    b->data = b->inline_data;
    b->len = len;
    return o;
}

static void *io_error(rc_runtime *rt, const char *path, int e) {
    return rco_err_null(rt, RC_EIO, "%s: %s", path, strerror(e));
}

RCI_ALLOC_FRAME rc_obj *rc_bytes_mmap(rc_runtime *rt, const char *path) {
    if (!rt)
        return NULL;
    if (!path)
        return rco_err_null(rt, RC_EINVAL, "rc_bytes_mmap: NULL path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_error(rt, path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return io_error(rt, path, e);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return io_error(rt, path, EISDIR);   /* mmap would say ENODEV */
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > SIZE_MAX / 2) {
        close(fd);
        return io_error(rt, path, EFBIG);
    }
    size_t len = (size_t)st.st_size;
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return io_error(rt, path, e);
        }
    }
    close(fd);   /* the mapping keeps the file alive */
    rc_obj *o = rc_new_var(rt, &rc_bytes_type, 1);
    if (!o) {
        if (map)
            munmap(map, len);
        return NULL;   /* rc_new_var recorded the error */
    }
    bytes_obj *b = as_bytes(o);
    b->data = map ? map : b->inline_data;
    b->len = len;
    b->flags = BYTES_MMAP;
    return o;
}

const void *rc_bytes_data(const rc_obj *o) {
    return rco_is(o, &rc_bytes_type) ? as_bytes(o)->data : NULL;
}

size_t rc_bytes_len(const rc_obj *o) {
    return rco_is(o, &rc_bytes_type) ? as_bytes(o)->len : 0;
}

int rc_bytes_is_mmap(const rc_obj *o) {
    return rco_is(o, &rc_bytes_type) && (as_bytes(o)->flags & BYTES_MMAP) != 0;
}

int rc_is_bytes(const rc_obj *o) {
    return rco_is(o, &rc_bytes_type);
}

/* ---- slots -------------------------------------------------------------------- */

static void bytes_destroy(rc_obj *self) {
    bytes_obj *b = as_bytes(self);
    if ((b->flags & BYTES_MMAP) && b->data && b->data != b->inline_data) {
        munmap((void *)(uintptr_t)b->data, b->len);
        b->data = b->inline_data;   /* a second destroy must not unmap again */
        b->len = 0;
    }
}

static int bytes_hash(rc_obj *self, uint64_t *out) {
    bytes_obj *b = as_bytes(self);
    if (!(b->flags & BYTES_HASHED)) {
        b->hash = rco_hash_bytes(b->data, b->len);
        b->flags |= BYTES_HASHED;
    }
    *out = b->hash;
    return 0;
}

static int bytes_equal(rc_obj *a, rc_obj *b) {
    if (a == b)
        return 1;
    if (!rco_is(b, &rc_bytes_type))
        return 0;
    const bytes_obj *x = as_bytes(a), *y = as_bytes(b);
    if (x->len != y->len)
        return 0;
    if ((x->flags & y->flags & BYTES_HASHED) && x->hash != y->hash)
        return 0;
    return x->len == 0 || memcmp(x->data, y->data, x->len) == 0;
}

/* Python's repr(bytes): b'...', double quotes when the contents have a '
 * and no "; \t \n \r \\ and the quote escaped, other bytes outside
 * 0x20..0x7e as \xNN. */
static int bytes_repr(rc_obj *self, char *buf, size_t len) {
    const bytes_obj *b = as_bytes(self);
    char quote = '\'';
    if (b->len && memchr(b->data, '\'', b->len) && !memchr(b->data, '"', b->len))
        quote = '"';
    rct_writer w;
    rct_writer_init(&w, buf, len);
    rct_writer_put(&w, "b", 1);
    rct_writer_put(&w, &quote, 1);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = b->data[i];
        char esc[4] = { '\\', 0, 0, 0 };
        if (c == (unsigned char)quote || c == '\\') {
            esc[1] = (char)c;
            rct_writer_put(&w, esc, 2);
        } else if (c == '\n') {
            rct_writer_put(&w, "\\n", 2);
        } else if (c == '\r') {
            rct_writer_put(&w, "\\r", 2);
        } else if (c == '\t') {
            rct_writer_put(&w, "\\t", 2);
        } else if (c < 0x20 || c >= 0x7F) {
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            rct_writer_put(&w, esc, 4);
        } else {
            rct_writer_put(&w, (const char *)&b->data[i], 1);
        }
    }
    rct_writer_put(&w, &quote, 1);
    return rct_writer_finish(&w);
}
