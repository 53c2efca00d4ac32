/* fuzz_utf8.c - differential fuzzing of str construction and interning.
 *
 * Input: byte 0 holds flags (bit 0: object debug mode for the runtime); the
 * rest is the byte string S under test. Checked:
 *
 *   - rc_str_n accepts S exactly when ref_utf8 (below, RFC 3629) does, and
 *     the same for three prefix/suffix splits of S and for rc_str on S up to
 *     its first NUL; a refusal is NULL with RC_EINVAL on the runtime;
 *   - an accepted str holds S: same length, same bytes, a NUL after them,
 *     and rc_str_length is the number of code points ref_utf8 counted;
 *   - two valid halves concatenate (rc_str_concat) to exactly S;
 *   - rc_str_intern_n of S (valid) returns one immortal, interned object for
 *     equal contents however they are passed (a copy, rc_str_intern on a C
 *     string), and a plain str with the same contents is a different, not
 *     interned object that is rc_equal to it, hashes alike, and finds it as
 *     a dict key (and the other way round); a different string interns to a
 *     different object; rc_str_intern_n refuses invalid S with RC_EINVAL;
 *   - after everything is released the runtime's object count is back to
 *     its baseline plus the interned strs, which live as long as it does. */
#include "fuzz.h"

#include <string.h>

#include <recycle.h>

/* 1 if s[0..n) is valid UTF-8 under RFC 3629, with *ncp set to the number of
 * code points; 0 otherwise. Each sequence is decoded to its scalar value,
 * which is then checked against the shortest length able to encode it (no
 * overlong forms), the surrogate range and U+10FFFF: a different method from
 * the byte-range table of RFC 3629's grammar, so that the two can disagree. */
static int ref_utf8(const uint8_t *s, size_t n, size_t *ncp) {
    size_t i = 0, count = 0;
    while (i < n) {
        uint8_t b = s[i];
        size_t len;
        uint32_t cp, min;
        if (b < 0x80) {
            len = 1, cp = b, min = 0;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2, cp = b & 0x1Fu, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3, cp = b & 0x0Fu, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4, cp = b & 0x07u, min = 0x10000;
        } else {
            return 0;   /* a continuation byte, or 0xF8..0xFF */
        }
        if (n - i < len)
            return 0;   /* truncated */
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
        count++;
    }
    *ncp = count;
    return 1;
}

/* rc_str_n on s[0..n) must agree with ref_utf8 and, on success, hold
 * exactly those bytes. Returns the new str, or NULL when (rightly) refused. */
static rc_obj *check_str_n(rc_runtime *rt, const uint8_t *s, size_t n) {
    size_t ncp = 0;
    int valid = ref_utf8(s, n, &ncp);
    rc_error_clear(rt);
    rc_obj *o = rc_str_n(rt, (const char *)s, n);
    FZ_CHECK((o != NULL) == valid, "rc_str_n %s %zu bytes that RFC 3629 %s",
             o ? "accepted" : "refused", n, valid ? "accepts" : "refuses");
    if (!o) {
        FZ_CHECK(rc_error(rt) == RC_EINVAL, "refusal recorded %d, not RC_EINVAL", rc_error(rt));
        rc_error_clear(rt);
        return NULL;
    }
    FZ_CHECK(rc_is_str(o), "rc_str_n made a %s", rc_type_name(o));
    FZ_CHECK(rc_str_len(o) == n, "length %zu, expected %zu", rc_str_len(o), n);
    const char *d = rc_str_data(o);
    FZ_CHECK(n == 0 || memcmp(d, s, n) == 0, "the str's bytes differ from its input");
    FZ_CHECK(d[n] == '\0', "no NUL after the data");
    FZ_CHECK(rc_str_length(o) == ncp, "%zu code points, expected %zu", rc_str_length(o), ncp);
    FZ_CHECK(!rc_str_is_interned(o), "a plain str is interned");
    return o;
}

/* rc_str on s[0..n) up to its first NUL: accepted exactly when that prefix
 * is valid. */
static void check_cstr(rc_runtime *rt, const uint8_t *s, size_t n, char *buf) {
    size_t len = strnlen((const char *)s, n);
    memcpy(buf, s, len);
    buf[len] = '\0';
    size_t ncp;
    int valid = ref_utf8(s, len, &ncp);
    rc_obj *o = rc_str(rt, buf);
    FZ_CHECK((o != NULL) == valid, "rc_str %s a %zu-byte C string that RFC 3629 %s",
             o ? "accepted" : "refused", len, valid ? "accepts" : "refuses");
    if (o) {
        FZ_CHECK(rc_str_len(o) == len && memcmp(rc_str_data(o), buf, len) == 0,
                 "rc_str changed its input");
        FZ_CHECK(rc_str_equal_cstr(o, buf) == 1, "rc_str_equal_cstr denies its own input");
        rc_decref(o);
    } else {
        FZ_CHECK(rc_error(rt) == RC_EINVAL, "rc_str refusal recorded %d", rc_error(rt));
        rc_error_clear(rt);
    }
}

static uint64_t hash_of(rc_runtime *rt, rc_obj *o) {
    uint64_t h = 0;
    int r = rc_hash(rt, o, &h);
    FZ_CHECK(r == 0, "rc_hash of a str failed: %d", r);
    return h;
}

/* Interning of a valid S whose plain str is plain; buf has room for n + 2. */
static void check_intern(rc_runtime *rt, const uint8_t *s, size_t n, rc_obj *plain, char *buf,
                         size_t *ninterned) {
    rc_obj *i1 = rc_str_intern_n(rt, (const char *)s, n);
    FZ_CHECK(i1 != NULL, "rc_str_intern_n refused valid UTF-8 (%d)", rc_error(rt));
    (*ninterned)++;
    FZ_CHECK(rc_str_is_interned(i1) == 1, "the interned str is not marked interned");
    FZ_CHECK(rc_is_immortal(i1) == 1, "an interned str is mortal");
    FZ_CHECK(rc_str_len(i1) == n && (n == 0 || memcmp(rc_str_data(i1), s, n) == 0),
             "the interned str holds other bytes");

    /* equal contents from another buffer: the same object */
    memcpy(buf, s, n);
    rc_obj *i2 = rc_str_intern_n(rt, buf, n);
    FZ_CHECK(i2 == i1, "interning equal contents twice gave two objects");
    if (memchr(s, 0, n) == NULL) {
        buf[n] = '\0';
        FZ_CHECK(rc_str_intern(rt, buf) == i1, "rc_str_intern and rc_str_intern_n disagree");
    }

    /* the plain str: a distinct object, equal, same hash */
    FZ_CHECK(plain != i1, "rc_str_n returned the interned object");
    FZ_CHECK(rc_equal(rt, plain, i1) == 1, "a plain str is not equal to its interned twin");
    FZ_CHECK(rc_equal(rt, i1, plain) == 1, "equality is not symmetric");
    FZ_CHECK(hash_of(rt, plain) == hash_of(rt, i1), "equal strs hash differently");

    /* each finds the other as a dict key */
    rc_obj *d = rc_dict(rt);
    FZ_CHECK(d != NULL, "rc_dict failed");
    FZ_CHECK(rc_dict_set(rt, d, plain, plain) == 0, "rc_dict_set with a str key failed");
    FZ_CHECK(rc_dict_get(rt, d, i1) == plain, "the interned str does not find its plain twin");
    FZ_CHECK(rc_dict_set(rt, d, i1, i1) == 0, "rc_dict_set failed");
    FZ_CHECK(rc_dict_len(d) == 1, "equal strs made %zu dict entries", rc_dict_len(d));
    FZ_CHECK(rc_dict_get(rt, d, plain) == i1, "the plain str does not find the new value");
    rc_decref(d);

    /* one more byte: a different string, a different interned object */
    memcpy(buf, s, n);
    buf[n] = 'x';
    rc_obj *i3 = rc_str_intern_n(rt, buf, n + 1);
    FZ_CHECK(i3 != NULL && i3 != i1, "a longer string interned to the same object");
    (*ninterned)++;
    FZ_CHECK(rc_equal(rt, i3, i1) == 0, "different strs compare equal");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    rc_config cfg;
    rc_config_init(&cfg);
    cfg.debug = data[0] & 1;
    const uint8_t *s = data + 1;
    size_t n = size - 1;

    rc_runtime *rt = rc_runtime_new(&cfg);
    FZ_CHECK(rt != NULL, "rc_runtime_new failed");
    char *buf = malloc(n + 2);
    FZ_CHECK(buf != NULL, "out of memory");
    size_t base = rc_runtime_object_count(rt), ninterned = 0;

    rc_obj *whole = check_str_n(rt, s, n);

    /* splits: each half on its own, and the concatenation of valid halves */
    size_t cuts[3] = { n / 3, n / 2, n - n / 3 };
    for (int c = 0; c < 3; c++) {
        size_t k = cuts[c];
        rc_obj *a = check_str_n(rt, s, k);
        rc_obj *b = check_str_n(rt, s + k, n - k);
        if (a && b) {
            FZ_CHECK(whole != NULL, "two valid halves make invalid UTF-8 (reference validator)");
            rc_obj *ab = rc_str_concat(rt, a, b);
            FZ_CHECK(ab != NULL, "rc_str_concat failed: %d", rc_error(rt));
            FZ_CHECK(rc_str_len(ab) == n && (n == 0 || memcmp(rc_str_data(ab), s, n) == 0),
                     "concatenating at %zu does not give the input back", k);
            FZ_CHECK(rc_str_length(ab) == rc_str_length(a) + rc_str_length(b),
                     "code points do not add up under concatenation");
            FZ_CHECK(rc_equal(rt, ab, whole) == 1, "the concatenation differs from the whole");
            rc_decref(ab);
        }
        rc_xdecref(a);
        rc_xdecref(b);
    }

    check_cstr(rt, s, n, buf);

    if (whole) {
        rc_obj *again = check_str_n(rt, s, n);
        FZ_CHECK(rc_equal(rt, whole, again) == 1, "equal plain strs compare unequal");
        FZ_CHECK(hash_of(rt, whole) == hash_of(rt, again), "equal plain strs hash differently");
        rc_decref(again);
        check_intern(rt, s, n, whole, buf, &ninterned);
        rc_decref(whole);
    } else {
        rc_error_clear(rt);
        FZ_CHECK(rc_str_intern_n(rt, (const char *)s, n) == NULL,
                 "rc_str_intern_n accepted invalid UTF-8");
        FZ_CHECK(rc_error(rt) == RC_EINVAL, "intern refusal recorded %d", rc_error(rt));
        rc_error_clear(rt);
    }

    size_t left = rc_runtime_object_count(rt);
    FZ_CHECK(left >= base && left - base <= ninterned,
             "%zu objects left, baseline %zu, %zu interned strs", left, base, ninterned);
    free(buf);
    rc_runtime_free(rt);
    return 0;
}
