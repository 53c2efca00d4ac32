/* str.c - the str type (immutable, validated UTF-8) and the layer's shared
 * helpers: argument errors and the bounded repr writer (types.h).
 *
 * Layout: one block per str (rc_new_var, itemsize 1):
 *
 *   [ rco_var ][ rc_obj | hash | nchars | flags | data[len] '\0' ]
 *
 * len counts bytes (NUL excluded) and is the block's item count less one
 * (rco_var, which rc_sizeof reads too: the length is not kept twice);
 * nchars counts code points, counted once, at creation, by the validating
 * decoder, in 32 bits: a str of 2**32 - 1 code points or more keeps
 * STR_NCHARS_BIG and counts them again when asked (a 4 GiB str, where one
 * pass over it is the least of the costs). With the flags beside it this
 * makes the header 16 bytes after the object's, and a str the size of
 * CPython's compact ASCII str ("hello": 54 bytes). data is always NUL-terminated, so
 * rc_str_data can be handed to C; a str may still contain embedded NULs
 * (rc_str_n), as a Python str may.
 *
 * Invariants: data[0..len) is valid UTF-8 (RFC 3629: shortest form only, no
 * surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncated sequence)
 * and data[len] == '\0'; the contents never change after construction, so
 * the hash is computed on first use and cached (flag STR_HASHED). An interned
 * str (intern.c) is also immortal and flagged STR_INTERNED.
 *
 * No growth: a str never changes size. Concatenation builds a new block; an
 * empty operand gives back the other operand itself (a new reference), as
 * CPython does. There is no empty-string singleton: rc_str(rt, "") allocates
 * a small block like any other.
 *
 * sizeof_extra is 0: the characters are inline, counted by rc_sizeof. */
#include "types/types.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct str_obj {
    rc_obj ob;
    uint64_t hash;
    uint32_t nchars;          /* STR_NCHARS_BIG: counted on demand */
    uint32_t flags;
    char data[];
} str_obj;

#define STR_NCHARS_BIG UINT32_MAX

_Static_assert(offsetof(str_obj, hash) == sizeof(rc_obj), "rct_str_cached_hash reads the hash there");

#define STR_HASHED   1u
#define STR_INTERNED 2u

static int str_hash(rc_obj *self, uint64_t *out);
static int str_equal(rc_obj *a, rc_obj *b);
static int str_repr(rc_obj *self, char *buf, size_t len);

const rc_type rc_str_type = {
    .name = "str",
    .size = offsetof(str_obj, data),
    .itemsize = 1,
    .hash = str_hash,
    .equal = str_equal,
    .repr = str_repr,
};

static inline str_obj *as_str(const rc_obj *o) {
    return (str_obj *)(void *)(uintptr_t)o;
}

static inline size_t str_len(const str_obj *s) {
    return rco_var_of(&s->ob)->nitems - 1;
}

static inline void str_set_nchars(str_obj *s, size_t nchars) {
    s->nchars = nchars < STR_NCHARS_BIG ? (uint32_t)nchars : STR_NCHARS_BIG;
}

/* Code points of valid UTF-8: every byte but the continuation bytes. */
static size_t str_nchars(const str_obj *s) {
    if (s->nchars != STR_NCHARS_BIG)
        return s->nchars;
    size_t n = 0, len = str_len(s);
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s->data[i] & 0xC0) != 0x80;
    return n;
}

/* ---- shared helpers (types.h) ---------------------------------------------- */

int rct_check_arg_slow(rc_runtime *rt, const rc_obj *o, const rc_type *type, const char *fn) {
    if (!o)
        return rco_err(rt, RC_EINVAL, "%s: NULL object", fn);
    if (rt->debug && !rco_check_live(rt, o, fn))
        return RC_ESTATE;             /* reported and recorded by rco_check_live */
    if (type && o->rc_type_ != type)
        return rco_err(rt, RC_ETYPE, "%s: expected %s, got %s", fn, type->name, o->rc_type_->name);
    return 0;
}

void rct_writer_init(rct_writer *w, char *buf, size_t cap) {
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->written = 0;
    w->need = 0;
    w->full = false;
    if (w->cap > 0)
        buf[0] = '\0';
}

void rct_writer_put(rct_writer *w, const char *s, size_t n) {
    w->need += n;
    if (w->full)
        return;
    if (n < w->cap - w->written) {   /* room for the unit and the NUL */
        memcpy(w->buf + w->written, s, n);
        w->written += n;
        w->buf[w->written] = '\0';
    } else {
        w->full = true;
    }
}

void rct_writer_puts(rct_writer *w, const char *s) {
    rct_writer_put(w, s, strlen(s));
}

int rct_writer_repr(rct_writer *w, rc_runtime *rt, rc_obj *o) {
    int k;
    if (w->full || w->cap == 0) {
        char scratch[1];   /* only the length is wanted */
        k = rc_repr(rt, o, scratch, sizeof scratch);
        if (k < 0)
            return k;
    } else {
        k = rc_repr(rt, o, w->buf + w->written, w->cap - w->written);
        if (k < 0) {
            w->buf[w->written] = '\0';
            return k;
        }
        if ((size_t)k < w->cap - w->written) {
            w->written += (size_t)k;
        } else {
            /* The nested repr kept its own clean prefix: keep it too, and
             * write nothing more. */
            w->written += strlen(w->buf + w->written);
            w->full = true;
        }
    }
    w->need += (size_t)k;
    return 0;
}

int rct_writer_finish(rct_writer *w) {
    return w->need > (size_t)INT_MAX ? RC_EOVERFLOW : (int)w->need;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

size_t rct_utf8_check(const unsigned char *s, size_t len, size_t *nchars, const char **why) {
    size_t i = 0, count = 0;
    while (i < len) {
        /* ASCII runs, eight bytes at a time (most text is mostly ASCII). */
        while (len - i >= 8) {
            uint64_t word;
            memcpy(&word, s + i, 8);
            if (word & UINT64_C(0x8080808080808080))
                break;
            i += 8;
            count += 8;
        }
        if (i >= len)
            break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            count++;
            continue;
        }
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;   /* range of the first continuation byte */
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;               /* overlong below U+0800 */
            else if (c == 0xED)
                hi = 0x9F;               /* surrogates U+D800..U+DFFF */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;               /* overlong below U+10000 */
            else if (c == 0xF4)
                hi = 0x8F;               /* above U+10FFFF */
        } else {
            *why = "invalid start byte";  /* 0x80..0xC1 (continuation, overlong), 0xF5.. */
            return i + 1;
        }
        for (size_t k = 1; k <= need; k++) {
            if (i + k >= len) {
                *why = "unexpected end of data";
                return i + 1;
            }
            unsigned cc = s[i + k];
            unsigned klo = k == 1 ? lo : 0x80, khi = k == 1 ? hi : 0xBF;
            if (cc < klo || cc > khi) {
                *why = "invalid continuation byte";
                return i + 1;
            }
        }
        i += need + 1;
        count++;
    }
    *nchars = count;
    return 0;
}

/* Decode the (valid) sequence at s; *n receives its length in bytes. */
static uint32_t utf8_decode(const unsigned char *s, size_t *n) {
    unsigned c = s[0];
    if (c < 0x80) {
        *n = 1;
        return c;
    }
    if (c < 0xE0) {
        *n = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (c < 0xF0) {
        *n = 3;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *n = 4;
    return ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
           ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

/* ---- construction ----------------------------------------------------------- */

/* A str block for len bytes (contents zeroed, NUL in place); NULL with the
 * error recorded. */
RCI_INLINE str_obj *str_alloc(rc_runtime *rt, size_t len) {
    if (len >= SIZE_MAX / 2)
        return rco_err_null(rt, RC_EOVERFLOW, "str: length %zu is too large", len);
    rc_obj *o = rc_new_var(rt, &rc_str_type, len + 1);
    if (!o)
        return NULL;
    return as_str(o);
}

RCI_INLINE rc_obj *str_from_valid(rc_runtime *rt, const char *data, size_t len, size_t nchars) {
    str_obj *s = str_alloc(rt, len);
    if (!s)
        return NULL;
    if (len)
        memcpy(s->data, data, len);
    str_set_nchars(s, nchars);
    return &s->ob;
}

RCI_ALLOC_FRAME rc_obj *rct_str_from_valid(rc_runtime *rt, const char *data, size_t len,
                                           size_t nchars) {
    return str_from_valid(rt, data, len, nchars);
}

static void *utf8_error(rc_runtime *rt, const char *fn, const char *data, size_t bad,
                        const char *why) {
    return rco_err_null(rt, RC_EINVAL, "%s: invalid UTF-8: byte 0x%02x in position %zu: %s", fn,
                        (unsigned char)data[bad - 1], bad - 1, why);
}

RCI_ALLOC_FRAME rc_obj *rc_str_n(rc_runtime *rt, const char *utf8, size_t len) {
    if (!rt)
        return NULL;
    if (!utf8 && len > 0)
        return rco_err_null(rt, RC_EINVAL, "rc_str_n: NULL data");
    size_t nchars = 0;
    const char *why = NULL;
    size_t bad = rct_utf8_check((const unsigned char *)utf8, len, &nchars, &why);
    if (bad)
        return utf8_error(rt, "rc_str_n", utf8, bad, why);
    return str_from_valid(rt, utf8, len, nchars);
}

RCI_ALLOC_FRAME rc_obj *rc_str(rc_runtime *rt, const char *utf8) {
    if (!rt)
        return NULL;
    if (!utf8)
        return rco_err_null(rt, RC_EINVAL, "rc_str: NULL string");
    return rc_str_n(rt, utf8, strlen(utf8));
}

RCI_ALLOC_FRAME rc_obj *rc_str_printf(rc_runtime *rt, const char *fmt, ...) {
    if (!rt)
        return NULL;
    if (!fmt)
        return rco_err_null(rt, RC_EINVAL, "rc_str_printf: NULL format");
    /* Format once into a stack buffer; only when that is too small, format
     * again straight into a block of the exact size. */
    char small[256];
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        va_end(again);
        return rco_err_null(rt, RC_EINVAL, "rc_str_printf: bad format \"%s\"", fmt);
    }
    if ((size_t)n < sizeof small) {
        va_end(again);
        return rc_str_n(rt, small, (size_t)n);
    }
    str_obj *s = str_alloc(rt, (size_t)n);
    if (!s) {
        va_end(again);
        return NULL;
    }
    vsnprintf(s->data, (size_t)n + 1, fmt, again);
    va_end(again);
    const char *why = NULL;
    size_t nchars = 0;
    size_t bad = rct_utf8_check((const unsigned char *)s->data, str_len(s), &nchars, &why);
    str_set_nchars(s, nchars);
    if (bad) {
        utf8_error(rt, "rc_str_printf", s->data, bad, why);
        rco_decref(&s->ob);
        return NULL;
    }
    return &s->ob;
}

RCI_ALLOC_FRAME rc_obj *rc_str_concat(rc_runtime *rt, const rc_obj *a, const rc_obj *b) {
    if (!rt)
        return NULL;
    if (rct_check_arg(rt, a, &rc_str_type, "rc_str_concat") ||
        rct_check_arg(rt, b, &rc_str_type, "rc_str_concat"))
        return NULL;
    const str_obj *x = as_str(a), *y = as_str(b);
    size_t xlen = str_len(x), ylen = str_len(y);
    if (ylen == 0 || xlen == 0) {
        rc_obj *keep = (rc_obj *)(uintptr_t)(ylen == 0 ? a : b);
        rco_incref(keep);
        return keep;
    }
    if (xlen > SIZE_MAX / 2 - ylen)
        return rco_err_null(rt, RC_EOVERFLOW, "rc_str_concat: result too long");
    str_obj *s = str_alloc(rt, xlen + ylen);
    if (!s)
        return NULL;
    memcpy(s->data, x->data, xlen);
    memcpy(s->data + xlen, y->data, ylen);
    str_set_nchars(s, str_nchars(x) + str_nchars(y));
    return &s->ob;
}

/* ---- accessors ---------------------------------------------------------------- */

const char *rc_str_data(const rc_obj *o) {
    return rco_is(o, &rc_str_type) ? as_str(o)->data : NULL;
}

size_t rc_str_len(const rc_obj *o) {
    return rco_is(o, &rc_str_type) ? str_len(as_str(o)) : 0;
}

size_t rc_str_length(const rc_obj *o) {
    return rco_is(o, &rc_str_type) ? str_nchars(as_str(o)) : 0;
}

int rc_is_str(const rc_obj *o) {
    return rco_is(o, &rc_str_type);
}

int rc_str_is_interned(const rc_obj *o) {
    return rco_is(o, &rc_str_type) && (as_str(o)->flags & STR_INTERNED) != 0;
}

void rct_str_set_interned(rc_obj *o) {
    as_str(o)->flags |= STR_INTERNED;
}

int rc_str_equal_cstr(const rc_obj *o, const char *utf8) {
    if (!rco_is(o, &rc_str_type) || !utf8)
        return 0;
    const str_obj *s = as_str(o);
    /* strnlen never reads past utf8's NUL; a str with an embedded NUL
     * differs from every C string (the C string has no NUL there). */
    size_t len = str_len(s), n = strnlen(utf8, len + 1);
    return n == len && memcmp(s->data, utf8, n) == 0;
}

int rct_str_compare(const rc_obj *a, const rc_obj *b) {
    const str_obj *x = as_str(a), *y = as_str(b);
    size_t xlen = str_len(x), ylen = str_len(y);
    size_t n = xlen < ylen ? xlen : ylen;
    int c = n ? memcmp(x->data, y->data, n) : 0;
    if (c)
        return c;
    return (xlen > ylen) - (xlen < ylen);
}

uint64_t rct_str_hash(rc_obj *o) {
    str_obj *s = as_str(o);
    if (!(s->flags & STR_HASHED)) {
        s->hash = rco_hash_bytes(s->data, str_len(s));
        s->flags |= STR_HASHED;
    }
    return s->hash;
}

/* ---- slots -------------------------------------------------------------------- */

static int str_hash(rc_obj *self, uint64_t *out) {
    *out = rct_str_hash(self);
    return 0;
}

bool rct_str_equal(const rc_obj *a, const rc_obj *b) {
    const str_obj *x = as_str(a), *y = as_str(b);
    size_t len = str_len(x);
    if (len != str_len(y))
        return false;
    if ((x->flags & y->flags & STR_HASHED) && x->hash != y->hash)
        return false;
    return memcmp(x->data, y->data, len) == 0;
}

static int str_equal(rc_obj *a, rc_obj *b) {
    if (a == b)
        return 1;
    if (!rco_is(b, &rc_str_type))
        return 0;
    return rct_str_equal(a, b);
}

/* Python's str.isprintable() is false for the categories Cc, Cf, Co, Cs, Cn,
 * Zl, Zp and Zs other than the ASCII space. Without the Unicode database we
 * approximate it for non-ASCII code points: controls, the format characters
 * and separators in common use, private use, noncharacters and tags are
 * escaped; unassigned code points are printed as they are. */
static bool nonprintable(uint32_t cp) {
    if (cp < 0xA0)
        return true;   /* C1 controls (callers handle ASCII) */
    if (cp == 0xA0 || cp == 0xAD || (cp >= 0x600 && cp <= 0x605) || cp == 0x61C ||
        cp == 0x6DD || cp == 0x70F || cp == 0x1680 || cp == 0x180E)
        return true;
    if ((cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
        (cp >= 0x205F && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206F) || cp == 0x3000)
        return true;
    if ((cp >= 0xE000 && cp <= 0xF8FF) || (cp >= 0xFDD0 && cp <= 0xFDEF) || cp == 0xFEFF ||
        (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp & 0xFFFE) == 0xFFFE)
        return true;
    if ((cp >= 0xE0000 && cp <= 0xE007F) || cp >= 0xF0000)
        return true;
    return false;
}

/* Python's repr(str): single quotes unless the text has a ' and no ". */
static int str_repr(rc_obj *self, char *buf, size_t len) {
    const str_obj *s = as_str(self);
    const unsigned char *p = (const unsigned char *)s->data;
    size_t slen = str_len(s);
    char quote = '\'';
    if (memchr(p, '\'', slen) && !memchr(p, '"', slen))
        quote = '"';
    rct_writer w;
    rct_writer_init(&w, buf, len);
    rct_writer_put(&w, &quote, 1);
    size_t i = 0;
    while (i < slen) {
        size_t n;
        uint32_t cp = utf8_decode(p + i, &n);
        char esc[12];
        if (cp == (uint32_t)(unsigned char)quote || cp == '\\') {
            esc[0] = '\\';
            esc[1] = (char)cp;
            rct_writer_put(&w, esc, 2);
        } else if (cp == '\n') {
            rct_writer_put(&w, "\\n", 2);
        } else if (cp == '\r') {
            rct_writer_put(&w, "\\r", 2);
        } else if (cp == '\t') {
            rct_writer_put(&w, "\\t", 2);
        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && nonprintable(cp))) {
            int k;
            if (cp < 0x100)
                k = snprintf(esc, sizeof esc, "\\x%02x", (unsigned)cp);
            else if (cp < 0x10000)
                k = snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
            else
                k = snprintf(esc, sizeof esc, "\\U%08x", (unsigned)cp);
            rct_writer_put(&w, esc, (size_t)k);
        } else {
            rct_writer_put(&w, (const char *)p + i, n);   /* a whole character */
        }
        i += n;
    }
    rct_writer_put(&w, &quote, 1);
    return rct_writer_finish(&w);
}
