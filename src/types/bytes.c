/* bytes.c - the bytes type: an immutable byte string, either inline or a
 * file mapped read-only (rc_bytes_mmap).
 *
 * Layout: one block per object (rc_new_var, itemsize 1), CPython's bytes
 * layout with ob_size in the var prefix:
 *
 *   inline:  [ rco_var: len + 1 ][ rc_obj | hash | data[len] '\0' ]
 *   mapped:  [ rco_var: 24      ][ rc_obj | BYTES_MAPPED | bytes_map ]
 *
 * An inline bytes is 33 + len bytes, as sys.getsizeof(bytes) is: the
 * length is the block's item count less one (the NUL is an item, as in
 * str.c), so it is not kept twice. The NUL after the contents is a
 * convenience for C callers, not part of the value.
 *
 * The hash word of an inline bytes is BYTES_UNHASHED until the first rc_hash
 * and the hash after (rco_hash_bytes, the function a str hashes its text
 * with, so a bytes hashes as the str of the same bytes does, as in Python).
 * rco_hash_bytes never returns BYTES_UNHASHED. The word holds BYTES_MAPPED in
 * a mapped bytes and in nothing else: that is how the two kinds are told
 * apart, with the type (rc_type_of, rc_bytes_type) the same for both. An
 * inline bytes whose real hash is BYTES_MAPPED (one value in 2**64) does not
 * cache it and computes it on every rc_hash instead, which keeps the hash
 * equal to the str's.
 *
 * A mapped bytes keeps its data pointer, length and cached hash in a
 * bytes_map in its item bytes (24 of them: the object is 56 bytes). data
 * points at the mapping, or at a static empty string when the file is empty
 * (mmap cannot map zero bytes, so nothing is mapped); a mapping has no NUL
 * after it.
 *
 * Invariants: the contents never change (a MAP_PRIVATE, PROT_READ mapping
 * cannot be written through), so the hash is cached on first use; a mapping
 * (len > 0) is unmapped exactly once, by destroy, when the last reference
 * goes (or when the runtime is freed). The file's descriptor is closed as
 * soon as the mapping exists. bytes is not a GC type: its var prefix is the
 * 8 bytes right before the object.
 *
 * No growth: a bytes never changes size.
 *
 * Equality is by contents among bytes objects only: a bytes never equals a
 * str (Python 3), whatever the bytes.
 *
 * No sizeof_extra for either kind: inline contents are in the block,
 * the bytes_map too, and a mapping is page cache, not heap memory (Python's
 * getsizeof does not count an mmap's pages either). */
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
    uint64_t hash;              /* BYTES_UNHASHED, the hash, or BYTES_MAPPED */
    unsigned char data[];       /* inline: len bytes and a NUL; mapped: a bytes_map */
} bytes_obj;

typedef struct bytes_map {
    const unsigned char *data;  /* the mapping, or bytes_empty */
    size_t len;
    uint64_t hash;              /* BYTES_UNHASHED until computed */
} bytes_map;

#define BYTES_UNHASHED UINT64_MAX                /* rco_hash_bytes never returns it */
#define BYTES_MAPPED   (UINT64_MAX - 2)          /* an arbitrary value: see above */

_Static_assert(sizeof(bytes_obj) == 24, "CPython's bytes: 33 bytes with the var prefix and NUL");
_Static_assert(offsetof(bytes_obj, data) % _Alignof(bytes_map) == 0, "a bytes_map fits in the items");

static const unsigned char bytes_empty[1];

static void bytes_destroy(rc_obj *self);
static int bytes_hash(rc_obj *self, uint64_t *out);
static int bytes_equal(rc_obj *a, rc_obj *b);
static int bytes_repr(rc_obj *self, char *buf, size_t len);

const rc_type rc_bytes_type = {
    .name = "bytes",
    .size = sizeof(bytes_obj),
    .itemsize = 1,
    .destroy = bytes_destroy,
    .hash = bytes_hash,
    .equal = bytes_equal,
    .repr = bytes_repr,
};

static inline bytes_obj *as_bytes(const rc_obj *o) {
    return (bytes_obj *)(void *)(uintptr_t)o;
}

static inline bytes_map *map_of(const bytes_obj *b) {
    return (bytes_map *)(void *)(uintptr_t)b->data;
}

static inline bool is_mapped(const bytes_obj *b) {
    return b->hash == BYTES_MAPPED;
}

/* The item count of the block: bytes has no collector links, so the var
 * prefix is right before the object. */
static inline size_t nitems_of(const rc_obj *o) {
    return ((const rco_var *)(const void *)o)[-1].nitems;
}

/* The contents of a bytes of either kind. */
static inline const unsigned char *contents(const rc_obj *o, size_t *len) {
    const bytes_obj *b = as_bytes(o);
    if (rci_unlikely(is_mapped(b))) {
        *len = map_of(b)->len;
        return map_of(b)->data;
    }
    *len = nitems_of(o) - 1;
    return b->data;
}

/* The hash if it is cached, else BYTES_UNHASHED. */
static inline uint64_t cached_hash(const rc_obj *o) {
    const bytes_obj *b = as_bytes(o);
    return is_mapped(b) ? map_of(b)->hash : b->hash;
}

RCI_ALLOC_FRAME rc_obj *rc_bytes(rc_runtime *rt, const void *data, size_t len) {
    if (!rt)
        return NULL;
    if (!data && len > 0)
        return rco_err_null(rt, RC_EINVAL, "rc_bytes: NULL data");
    if (len >= SIZE_MAX / 2)
        return rco_err_null(rt, RC_EOVERFLOW, "rc_bytes: length %zu is too large", len);
    rc_obj *o = rc_new_var(rt, &rc_bytes_type, len + 1);   /* zeroed: the NUL is there */
    if (!o)
        return NULL;
    bytes_obj *b = as_bytes(o);
    b->hash = BYTES_UNHASHED;
    if (len)
        memcpy(b->data, data, len);
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
    rc_obj *o = rc_new_var(rt, &rc_bytes_type, sizeof(bytes_map));
    if (!o) {
        if (map)
            munmap(map, len);
        return NULL;   /* rc_new_var recorded the error */
    }
    bytes_obj *b = as_bytes(o);
    b->hash = BYTES_MAPPED;
    bytes_map *m = map_of(b);
    m->data = map ? map : bytes_empty;
    m->len = len;
    m->hash = BYTES_UNHASHED;
    return o;
}

const void *rc_bytes_data(const rc_obj *o) {
    if (!rco_is(o, &rc_bytes_type))
        return NULL;
    size_t len;
    return contents(o, &len);
}

size_t rc_bytes_len(const rc_obj *o) {
    size_t len = 0;
    if (rco_is(o, &rc_bytes_type))
        (void)contents(o, &len);
    return len;
}

int rc_bytes_is_mmap(const rc_obj *o) {
    return rco_is(o, &rc_bytes_type) && is_mapped(as_bytes(o));
}

int rc_is_bytes(const rc_obj *o) {
    return rco_is(o, &rc_bytes_type);
}

/* ---- slots -------------------------------------------------------------------- */

static void bytes_destroy(rc_obj *self) {
    bytes_obj *b = as_bytes(self);
    if (!is_mapped(b))
        return;
    bytes_map *m = map_of(b);
    if (m->len > 0) {
        munmap((void *)(uintptr_t)m->data, m->len);
        m->data = bytes_empty;   /* a second destroy must not unmap again */
        m->len = 0;
    }
}

static int bytes_hash(rc_obj *self, uint64_t *out) {
    bytes_obj *b = as_bytes(self);
    uint64_t h = b->hash;
    if (rci_likely(h != BYTES_UNHASHED && h != BYTES_MAPPED)) {
        *out = h;
        return 0;
    }
    if (h == BYTES_MAPPED) {
        bytes_map *m = map_of(b);
        if (m->hash == BYTES_UNHASHED)
            m->hash = rco_hash_bytes(m->data, m->len);
        *out = m->hash;
        return 0;
    }
    h = rco_hash_bytes(b->data, nitems_of(self) - 1);
    if (h != BYTES_MAPPED)   /* that value would mark the bytes mapped */
        b->hash = h;
    *out = h;
    return 0;
}

static int bytes_equal(rc_obj *a, rc_obj *b) {
    if (a == b)
        return 1;
    if (!rco_is(b, &rc_bytes_type))
        return 0;
    size_t xlen, ylen;
    const unsigned char *x = contents(a, &xlen), *y = contents(b, &ylen);
    if (xlen != ylen)
        return 0;
    uint64_t hx = cached_hash(a), hy = cached_hash(b);
    if (hx != hy && hx != BYTES_UNHASHED && hy != BYTES_UNHASHED)
        return 0;
    return xlen == 0 || memcmp(x, y, xlen) == 0;
}

/* Python's repr(bytes): b'...', double quotes when the contents have a '
 * and no "; \t \n \r \\ and the quote escaped, other bytes outside
 * 0x20..0x7e as \xNN. */
static int bytes_repr(rc_obj *self, char *buf, size_t len) {
    size_t n;
    const unsigned char *data = contents(self, &n);
    char quote = '\'';
    if (n && memchr(data, '\'', n) && !memchr(data, '"', n))
        quote = '"';
    rct_writer w;
    rct_writer_init(&w, buf, len);
    rct_writer_put(&w, "b", 1);
    rct_writer_put(&w, &quote, 1);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = data[i];
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
            rct_writer_put(&w, (const char *)&data[i], 1);
        }
    }
    rct_writer_put(&w, &quote, 1);
    return rct_writer_finish(&w);
}
