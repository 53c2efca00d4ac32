/* float.c - the float type (an immutable IEEE 754 double) and the numeric
 * comparisons shared with int and the list sort.
 *
 * Layout: { rc_obj; double value; }, a plain (not GC) object. Every rc_float
 * call allocates: unlike small ints there is no useful set of floats to
 * cache, and the heap's size-class pools already act as CPython's float
 * free list.
 *
 * Comparison with ints is exact, as in Python's float_richcompare: an int64
 * is never converted to double when that could round (|i| > 2**53); the
 * double is split into its integral part (exact in int64 whenever it is in
 * range) and a fractional rest instead. Equal numbers hash alike because
 * rco_hash_double(d) == rco_hash_int(i) whenever d == i (the object layer's
 * promise; the unit tests check it).
 *
 * repr is Python's: the shortest decimal string that reads back as the same
 * double, in positional notation for exponents -4..15 and scientific
 * otherwise ("1e+16", "1e-05"), with ".0" on integral values; "inf", "-inf",
 * "nan". */
#include "types/types.h"

#include <math.h>     /* isnan, isinf: macros, no libm needed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct float_obj {
    rc_obj ob;
    double value;
} float_obj;

static int float_hash(rc_obj *self, uint64_t *out);
static int float_equal(rc_obj *a, rc_obj *b);
static int float_repr(rc_obj *self, char *buf, size_t len);

const rc_type rc_float_type = {
    .name = "float",
    .size = sizeof(float_obj),
    .hash = float_hash,
    .equal = float_equal,
    .repr = float_repr,
};

static inline double float_of(const rc_obj *o) {
    return ((const float_obj *)(const void *)o)->value;
}

RCI_ALLOC_FRAME rc_obj *rc_float(rc_runtime *rt, double v) {
    if (!rt)
        return NULL;
    rc_obj *o = rc_new(rt, &rc_float_type);
    if (!o)
        return NULL;   /* rc_new recorded the error */
    ((float_obj *)(void *)o)->value = v;
    return o;
}

double rc_float_value(const rc_obj *o) {
    if (rco_is(o, &rc_float_type))
        return float_of(o);
    if (rco_is(o, &rc_int_type))
        return (double)rc_int_value(o);
    return 0.0;
}

int rc_is_float(const rc_obj *o) {
    return rco_is(o, &rc_float_type);
}

/* ---- comparisons ---------------------------------------------------------- */

int rct_compare_int_double(int64_t i, double d) {
    if (isnan(d))
        return 2;
    /* 2**63 and -2**63 are exact doubles: outside [-2**63, 2**63) no int64
     * can reach d (this also covers the infinities). */
    if (d >= 9223372036854775808.0)
        return -1;
    if (d < -9223372036854775808.0)
        return 1;
    /* floor(d) without libm: the cast truncates toward zero and is exact
     * in this range; step down once for a negative d with a fraction.
     * (double)whole is exact too: either |d| < 2**53, or d is integral. */
    int64_t whole = (int64_t)d;
    if ((double)whole > d)
        whole--;
    if (i < whole)
        return -1;
    if (i > whole)
        return 1;
    return d == (double)whole ? 0 : -1;   /* i == floor(d) < d: d has a fraction */
}

static int compare_double(double a, double b) {
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    return 0;   /* equal, or unordered (NaN): "not less" either way */
}

int rct_numeric_compare(rc_runtime *rt, rc_obj *a, rc_obj *b, int *out) {
    if (!a || !b || !out)
        return rco_err(rt, RC_EINVAL, "compare: NULL %s", out ? "object" : "result pointer");
    const rc_type *ta = a->rc_type_, *tb = b->rc_type_;
    int c;
    if (ta == &rc_int_type && tb == &rc_int_type) {
        int64_t x = rc_int_value(a), y = rc_int_value(b);
        c = (x > y) - (x < y);
    } else if (ta == &rc_float_type && tb == &rc_float_type) {
        c = compare_double(float_of(a), float_of(b));
    } else if (ta == &rc_int_type && tb == &rc_float_type) {
        c = rct_compare_int_double(rc_int_value(a), float_of(b));
        if (c == 2)
            c = 0;
    } else if (ta == &rc_float_type && tb == &rc_int_type) {
        c = rct_compare_int_double(rc_int_value(b), float_of(a));
        c = c == 2 ? 0 : -c;
    } else if (ta == &rc_str_type && tb == &rc_str_type) {
        int r = rct_str_compare(a, b);
        c = (r > 0) - (r < 0);
    } else {
        return rco_err(rt, RC_ETYPE, "'<' not supported between instances of '%s' and '%s'",
                       ta->name, tb->name);
    }
    *out = c;
    return 0;
}

/* ---- slots ------------------------------------------------------------------ */

static int float_hash(rc_obj *self, uint64_t *out) {
    *out = rco_hash_double(float_of(self));
    return 0;
}

static int float_equal(rc_obj *a, rc_obj *b) {
    if (rco_is(b, &rc_float_type))
        return float_of(a) == float_of(b);   /* NaN != NaN, as in Python */
    if (rco_is(b, &rc_int_type))
        return rct_compare_int_double(rc_int_value(b), float_of(a)) == 0;
    return 0;
}

/* Python's float repr into out (at least 32 bytes); returns its length.
 * The shortest round-tripping precision is found by trying 1..17
 * significant digits; the digits and exponent of that "%.*e" form are then
 * laid out by Python's rule (positional for -4 <= exponent < 16). */
size_t rct_format_double(double v, char *out) {
    if (isnan(v) || isinf(v)) {
        const char *word = isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";
        size_t n = strlen(word);
        memcpy(out, word, n + 1);
        return n;
    }

    char sci[40];
    int prec;
    for (prec = 1; prec < 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    if (prec == 17)
        snprintf(sci, sizeof sci, "%.16e", v);   /* 17 digits always round-trip */

    /* Split "-d.ddde+XX" into sign, digits and exponent; any decimal point
     * character the locale uses is skipped along with the other non-digits. */
    const char *p = sci;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    char digits[24];
    size_t nd = 0;
    for (; *p && *p != 'e' && *p != 'E'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof digits - 1)
            digits[nd++] = *p;
    int exp = (*p == 'e' || *p == 'E') ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;   /* trailing zeros carry no information */
    digits[nd] = '\0';

    char *q = out;
    if (neg)
        *q++ = '-';
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            *q++ = '0';
            *q++ = '.';
            for (int k = -1; k > exp; k--)
                *q++ = '0';
            memcpy(q, digits, nd);
            q += nd;
        } else {
            size_t whole = (size_t)exp + 1;
            for (size_t k = 0; k < whole; k++)
                *q++ = k < nd ? digits[k] : '0';
            *q++ = '.';
            if (nd > whole) {
                memcpy(q, digits + whole, nd - whole);
                q += nd - whole;
            } else {
                *q++ = '0';
            }
        }
    } else {
        *q++ = digits[0];
        if (nd > 1) {
            *q++ = '.';
            memcpy(q, digits + 1, nd - 1);
            q += nd - 1;
        }
        q += sprintf(q, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    }
    *q = '\0';
    return (size_t)(q - out);
}

static int float_repr(rc_obj *self, char *buf, size_t len) {
    char text[48];
    rct_format_double(float_of(self), text);
    /* ASCII only: any cut is clean, as snprintf would make it. */
    return snprintf(buf, len, "%s", text);
}
