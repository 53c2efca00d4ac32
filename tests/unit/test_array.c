/* test_array.c - rc_array through the public API: every kind's range checks
 * on append and set (RC_EOVERFLOW / RC_EINVAL, the array unchanged),
 * conversions on get, item sizes and raw data, growth and sizing (CPython's
 * growth, append by append), equality, repr, argument errors and
 * out-of-memory. Black-box. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

typedef struct kind_case {
    rc_array_kind kind;
    size_t itemsize;
    int64_t min, max;          /* accepted int64 range (max clipped to INT64_MAX) */
    int is_float;
} kind_case;

static const kind_case cases[] = {
    { RC_ARRAY_I8, 1, INT8_MIN, INT8_MAX, 0 },
    { RC_ARRAY_U8, 1, 0, UINT8_MAX, 0 },
    { RC_ARRAY_I16, 2, INT16_MIN, INT16_MAX, 0 },
    { RC_ARRAY_U16, 2, 0, UINT16_MAX, 0 },
    { RC_ARRAY_I32, 4, INT32_MIN, INT32_MAX, 0 },
    { RC_ARRAY_U32, 4, 0, UINT32_MAX, 0 },
    { RC_ARRAY_I64, 8, INT64_MIN, INT64_MAX, 0 },
    { RC_ARRAY_U64, 8, 0, INT64_MAX, 0 },
    { RC_ARRAY_F32, 4, INT64_MIN, INT64_MAX, 1 },
    { RC_ARRAY_F64, 8, INT64_MIN, INT64_MAX, 1 },
};
#define NCASES (sizeof cases / sizeof cases[0])

static rc_runtime *new_rt(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    return rt;
}

static void test_kinds_and_ranges(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    for (size_t c = 0; c < NCASES; c++) {
        const kind_case *k = &cases[c];
        rc_obj *a = rc_array(rt, k->kind);
        assert_non_null(a);
        assert_true(rc_is_array(a));
        assert_ptr_equal(rc_typeof(a), &rc_array_type);
        assert_int_equal(rc_array_kind_of(a), k->kind);
        assert_int_equal(rc_array_itemsize(a), k->itemsize);
        assert_int_equal(rc_array_len(a), 0);

        /* the limits fit */
        assert_int_equal(rc_array_append_i64(rt, a, k->min), 0);
        assert_int_equal(rc_array_append_i64(rt, a, k->max), 0);
        assert_int_equal(rc_array_append_i64(rt, a, 0), 0);
        int64_t v;
        assert_int_equal(rc_array_get_i64(rt, a, 2, &v), 0);
        assert_int_equal(v, 0);
        if (!k->is_float) {
            assert_int_equal(rc_array_get_i64(rt, a, 0, &v), 0);
            assert_int_equal(v, k->min);
            assert_int_equal(rc_array_get_i64(rt, a, 1, &v), 0);
            assert_int_equal(v, k->max);
        }

        /* one past them does not, and nothing changes */
        if (k->min > INT64_MIN) {
            rc_error_clear(rt);
            assert_int_equal(rc_array_append_i64(rt, a, k->min - 1), RC_EOVERFLOW);
            assert_int_equal(rc_error(rt), RC_EOVERFLOW);
            assert_int_equal(rc_array_set_i64(rt, a, 2, k->min - 1), RC_EOVERFLOW);
            assert_int_equal(rc_array_append_f64(rt, a, (double)(k->min - 1)), RC_EOVERFLOW);
        }
        if (k->max < INT64_MAX) {
            assert_int_equal(rc_array_append_i64(rt, a, k->max + 1), RC_EOVERFLOW);
            assert_int_equal(rc_array_set_i64(rt, a, 2, k->max + 1), RC_EOVERFLOW);
            assert_int_equal(rc_array_append_f64(rt, a, (double)(k->max + 1)), RC_EOVERFLOW);
        }
        assert_int_equal(rc_array_len(a), 3);
        assert_int_equal(rc_array_get_i64(rt, a, 2, &v), 0);
        assert_int_equal(v, 0);

        if (!k->is_float) {
            /* doubles into integer kinds: integral ones only */
            rc_error_clear(rt);
            assert_int_equal(rc_array_append_f64(rt, a, 1.5), RC_EINVAL);
            assert_int_equal(rc_error(rt), RC_EINVAL);
            assert_int_equal(rc_array_append_f64(rt, a, NAN), RC_EINVAL);
            assert_int_equal(rc_array_append_f64(rt, a, INFINITY), RC_EINVAL);
            assert_int_equal(rc_array_append_f64(rt, a, -INFINITY), RC_EINVAL);
            assert_int_equal(rc_array_set_f64(rt, a, 0, 0.25), RC_EINVAL);
            assert_int_equal(rc_array_append_f64(rt, a, 1e300), RC_EOVERFLOW);
            assert_int_equal(rc_array_append_f64(rt, a, -1e300), RC_EOVERFLOW);
            assert_int_equal(rc_array_len(a), 3);
            assert_int_equal(rc_array_append_f64(rt, a, 100.0), 0);
            assert_int_equal(rc_array_append_f64(rt, a, -0.0), 0);
            assert_int_equal(rc_array_get_i64(rt, a, 3, &v), 0);
            assert_int_equal(v, 100);
            double d;
            assert_int_equal(rc_array_get_f64(rt, a, 3, &d), 0);
            assert_true(d == 100.0);
            assert_int_equal(rc_array_get_f64(rt, a, 0, &d), 0);
            assert_true(d == (double)k->min);
        }
        rc_decref(a);
    }
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

static void test_64bit_edges(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    int64_t v;
    double d;
    /* U64: negative values overflow; values above INT64_MAX come in as
     * doubles and cannot be read back as int64 */
    rc_obj *u = rc_array(rt, RC_ARRAY_U64);
    assert_int_equal(rc_array_append_i64(rt, u, -1), RC_EOVERFLOW);
    assert_int_equal(rc_array_append_f64(rt, u, 0x1p63), 0);
    assert_int_equal(rc_array_append_f64(rt, u, 0x1p64 - 2048), 0);   /* largest double below 2^64 */
    assert_int_equal(rc_array_append_f64(rt, u, 0x1p64), RC_EOVERFLOW);
    assert_int_equal(rc_array_get_i64(rt, u, 0, &v), RC_EOVERFLOW);
    assert_int_equal(rc_array_get_f64(rt, u, 0, &d), 0);
    assert_true(d == 0x1p63);
    uint64_t *raw = rc_array_data(u);
    assert_non_null(raw);
    assert_true(raw[1] == UINT64_MAX - 2047);
    char buf[128];
    assert_true(rc_repr(rt, u, buf, sizeof buf) > 0);
    assert_string_equal(buf, "array('Q', [9223372036854775808, 18446744073709549568])");
    rc_decref(u);

    /* I64: -2^63 fits, 2^63 does not */
    rc_obj *s = rc_array(rt, RC_ARRAY_I64);
    assert_int_equal(rc_array_append_f64(rt, s, -0x1p63), 0);
    assert_int_equal(rc_array_append_f64(rt, s, 0x1p63), RC_EOVERFLOW);
    assert_int_equal(rc_array_get_i64(rt, s, 0, &v), 0);
    assert_true(v == INT64_MIN);
    rc_decref(s);

    /* F32: finite doubles beyond FLT_MAX overflow; inf and nan pass */
    rc_obj *f = rc_array(rt, RC_ARRAY_F32);
    assert_int_equal(rc_array_append_f64(rt, f, FLT_MAX), 0);
    assert_int_equal(rc_array_append_f64(rt, f, -FLT_MAX), 0);
    assert_int_equal(rc_array_append_f64(rt, f, 1e39), RC_EOVERFLOW);
    assert_int_equal(rc_array_append_f64(rt, f, -1e39), RC_EOVERFLOW);
    assert_int_equal(rc_array_append_f64(rt, f, INFINITY), 0);
    assert_int_equal(rc_array_append_f64(rt, f, NAN), 0);
    assert_int_equal(rc_array_append_f64(rt, f, 0.1), 0);
    assert_int_equal(rc_array_append_i64(rt, f, INT64_MAX), 0);         /* rounds */
    assert_int_equal(rc_array_len(f), 6);
    assert_int_equal(rc_array_get_f64(rt, f, 0, &d), 0);
    assert_true(d == FLT_MAX);
    assert_int_equal(rc_array_get_f64(rt, f, 4, &d), 0);
    assert_true(d == (double)0.1f);
    assert_int_equal(rc_array_get_f64(rt, f, 5, &d), 0);
    assert_true(d == 0x1p63);
    /* float items read as int64: integral and in range only */
    assert_int_equal(rc_array_get_i64(rt, f, 0, &v), RC_EOVERFLOW);
    assert_int_equal(rc_array_get_i64(rt, f, 2, &v), RC_EINVAL);        /* inf */
    assert_int_equal(rc_array_get_i64(rt, f, 3, &v), RC_EINVAL);        /* nan */
    assert_int_equal(rc_array_get_i64(rt, f, 4, &v), RC_EINVAL);        /* 0.1 */
    assert_int_equal(rc_array_set_f64(rt, f, 4, -3.0), 0);
    assert_int_equal(rc_array_get_i64(rt, f, 4, &v), 0);
    assert_int_equal(v, -3);
    rc_decref(f);

    rc_obj *g = rc_array(rt, RC_ARRAY_F64);
    assert_int_equal(rc_array_append_f64(rt, g, 1e300), 0);
    assert_int_equal(rc_array_append_f64(rt, g, 0.5), 0);
    assert_int_equal(rc_array_get_i64(rt, g, 0, &v), RC_EOVERFLOW);
    assert_int_equal(rc_array_get_i64(rt, g, 1, &v), RC_EINVAL);
    assert_int_equal(rc_array_set_i64(rt, g, 1, 42), 0);
    assert_int_equal(rc_array_get_i64(rt, g, 1, &v), 0);
    assert_int_equal(v, 42);
    rc_decref(g);
    rc_runtime_free(rt);
}

static void test_errors(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *a = rc_array(rt, RC_ARRAY_I32);
    rc_obj *l = rc_list(rt);
    int64_t v = 77;
    double d = 7.5;

    assert_null(rc_array(NULL, RC_ARRAY_I8));
    assert_null(rc_array(rt, (rc_array_kind)99));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_array(rt, (rc_array_kind)-1));

    assert_int_equal(rc_array_append_i64(NULL, a, 1), RC_EINVAL);
    assert_int_equal(rc_array_append_f64(NULL, a, 1), RC_EINVAL);
    assert_int_equal(rc_array_get_i64(NULL, a, 0, &v), RC_EINVAL);
    assert_int_equal(rc_array_get_f64(NULL, a, 0, &d), RC_EINVAL);
    assert_int_equal(rc_array_set_i64(NULL, a, 0, 1), RC_EINVAL);
    assert_int_equal(rc_array_set_f64(NULL, a, 0, 1), RC_EINVAL);

    assert_int_equal(rc_array_append_i64(rt, NULL, 1), RC_EINVAL);
    assert_int_equal(rc_array_append_i64(rt, l, 1), RC_ETYPE);
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_int_equal(rc_array_append_f64(rt, l, 1), RC_ETYPE);
    assert_int_equal(rc_array_get_i64(rt, l, 0, &v), RC_ETYPE);
    assert_int_equal(rc_array_get_f64(rt, l, 0, &d), RC_ETYPE);
    assert_int_equal(rc_array_set_i64(rt, l, 0, 1), RC_ETYPE);
    assert_int_equal(rc_array_set_f64(rt, l, 0, 1), RC_ETYPE);
    assert_int_equal(rc_array_len(l), 0);
    assert_int_equal(rc_array_itemsize(l), 0);
    assert_null(rc_array_data(l));
    assert_int_equal((int)rc_array_kind_of(l), -1);
    assert_int_equal(rc_array_len(NULL), 0);
    assert_int_equal(rc_array_itemsize(NULL), 0);
    assert_null(rc_array_data(NULL));
    assert_false(rc_is_array(NULL));
    assert_false(rc_is_array(l));

    /* bad indexes and outputs; outputs untouched on error */
    assert_null(rc_array_data(a));          /* empty: no buffer yet */
    assert_int_equal(rc_array_get_i64(rt, a, 0, &v), RC_EINDEX);
    assert_int_equal(rc_error(rt), RC_EINDEX);
    assert_int_equal(v, 77);
    assert_int_equal(rc_array_get_f64(rt, a, 0, &d), RC_EINDEX);
    assert_true(d == 7.5);
    assert_int_equal(rc_array_set_i64(rt, a, 0, 1), RC_EINDEX);
    assert_int_equal(rc_array_set_f64(rt, a, 0, 1), RC_EINDEX);
    assert_int_equal(rc_array_append_i64(rt, a, 5), 0);
    assert_int_equal(rc_array_get_i64(rt, a, 1, &v), RC_EINDEX);
    assert_int_equal(rc_array_get_i64(rt, a, SIZE_MAX, &v), RC_EINDEX);
    assert_int_equal(rc_array_get_i64(rt, a, 0, NULL), RC_EINVAL);
    assert_int_equal(rc_array_get_f64(rt, a, 0, NULL), RC_EINVAL);

    /* unhashable */
    uint64_t h;
    assert_int_equal(rc_hash(rt, a, &h), RC_ETYPE);

    rc_decref(l);
    rc_decref(a);
    rc_runtime_free(rt);
}

static void test_growth_data_sizeof(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base_buf = rc_runtime_buffer_bytes(rt);
    size_t n = rct_scaled(1000000, 20000);
    rc_obj *a = rc_array(rt, RC_ARRAY_I16);
    size_t empty = rc_sizeof(a);
    assert_int_equal(rc_array_append_i64(rt, a, 1), 0);
    assert_int_equal(rc_sizeof(a) - empty, 4 * 2);        /* 4 items of 2 bytes */
    for (size_t i = 1; i < n; i++)
        assert_int_equal(rc_array_append_i64(rt, a, (int64_t)(i % 30000)), 0);
    assert_int_equal(rc_array_len(a), n);
    size_t extra = rc_sizeof(a) - empty;
    assert_true(extra >= n * 2);
    assert_true(extra <= (n + n / 16 + 8) * 2);       /* at most ~1/16 spare */
    int16_t *p = rc_array_data(a);
    assert_non_null(p);
    for (size_t i = 1; i < n; i += 997)
        assert_int_equal(p[i], (int16_t)(i % 30000));
    /* set through the API shows in the data, and vice versa */
    assert_int_equal(rc_array_set_i64(rt, a, 10, -5), 0);
    assert_int_equal(p[10], -5);
    p[11] = 1234;
    int64_t v;
    assert_int_equal(rc_array_get_i64(rt, a, 11, &v), 0);
    assert_int_equal(v, 1234);
    rc_decref(a);
    assert_int_equal(rc_runtime_buffer_bytes(rt), base_buf);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

/* CPython 3.11's array_resize: the capacity after appending one item to an
 * array of len items with cap slots. */
static size_t cpython_array_cap(size_t len, size_t cap) {
    size_t n = len + 1;
    if (n <= cap)
        return cap;
    return n + (n >> 4) + (len < 8 ? 3 : 7);
}

/* The header is 64 bytes whatever the kind (sys.getsizeof(array('q')) is
 * 80), and every append grows the items as CPython's array does, so every
 * size is CPython's less 16 bytes. */
static void test_growth_matches_cpython(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    for (size_t c = 0; c < NCASES; c++) {
        rc_obj *a = rc_array(rt, cases[c].kind);
        size_t item = rc_array_itemsize(a);
        assert_int_equal(rc_sizeof(a), 64);
        size_t cap = 0, grows = 0;
        for (size_t i = 0; i < 300; i++) {
            assert_int_equal(rc_array_append_i64(rt, a, (int64_t)(i % 100)), 0);
            size_t next = cpython_array_cap(i, cap);
            grows += next != cap;
            cap = next;
            if (rc_sizeof(a) != 64 + cap * item)
                fail_msg("array kind %d after %zu appends: %zu bytes, want %zu", (int)cases[c].kind,
                         i + 1, rc_sizeof(a), 64 + cap * item);
        }
        assert_true(grows > 10);
        rc_decref(a);
    }
    /* the capacities CPython reports for the first appends */
    static const size_t caps[] = { 4, 8, 16, 25, 34, 44, 54, 65, 77, 89, 102 };
    rc_obj *a = rc_array(rt, RC_ARRAY_I64);
    size_t k = 0, last = 0;
    for (int64_t i = 0; i < 100; i++) {
        assert_int_equal(rc_array_append_i64(rt, a, i), 0);
        size_t cap = (rc_sizeof(a) - 64) / 8;
        if (cap != last) {
            assert_true(k < sizeof caps / sizeof caps[0]);
            assert_int_equal(cap, caps[k++]);
            last = cap;
        }
    }
    assert_int_equal(k, sizeof caps / sizeof caps[0]);
    assert_int_equal(rc_sizeof(a), 896 - 16);           /* CPython: 896 */
    for (int64_t i = 100; i < 10000; i++)
        assert_int_equal(rc_array_append_f64(rt, a, (double)i), 0);
    assert_int_equal(rc_sizeof(a), 80760 - 16);         /* CPython: 80760 */
    rc_decref(a);
    rc_runtime_free(rt);
}

static void test_equal(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *a = rc_array(rt, RC_ARRAY_I32), *b = rc_array(rt, RC_ARRAY_I32);
    rc_obj *c = rc_array(rt, RC_ARRAY_I64);
    assert_int_equal(rc_equal(rt, a, b), 1);              /* both empty */
    assert_int_equal(rc_equal(rt, a, c), 0);              /* kinds differ */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(rc_array_append_i64(rt, a, i * 3), 0);
        assert_int_equal(rc_array_append_i64(rt, b, i * 3), 0);
        assert_int_equal(rc_array_append_i64(rt, c, i * 3), 0);
    }
    assert_int_equal(rc_equal(rt, a, b), 1);
    assert_int_equal(rc_equal(rt, a, c), 0);
    assert_int_equal(rc_array_set_i64(rt, b, 9, 0), 0);
    assert_int_equal(rc_equal(rt, a, b), 0);
    assert_int_equal(rc_array_append_i64(rt, b, 0), 0);
    assert_int_equal(rc_equal(rt, a, b), 0);              /* lengths differ */
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_equal(rt, a, l), 0);
    assert_int_equal(rc_equal(rt, l, a), 0);

    /* floats compare by value: NaN is not equal to itself, -0.0 == 0.0 */
    rc_obj *f = rc_array(rt, RC_ARRAY_F64), *g = rc_array(rt, RC_ARRAY_F64);
    assert_int_equal(rc_array_append_f64(rt, f, 0.0), 0);
    assert_int_equal(rc_array_append_f64(rt, g, -0.0), 0);
    assert_int_equal(rc_equal(rt, f, g), 1);
    assert_int_equal(rc_array_append_f64(rt, f, NAN), 0);
    assert_int_equal(rc_array_append_f64(rt, g, NAN), 0);
    assert_int_equal(rc_equal(rt, f, g), 0);
    rc_decref(f);
    rc_decref(g);
    rc_decref(l);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_runtime_free(rt);
}

static void test_repr(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    char buf[256];
    static const char codes[] = "bBhHiIqQfd";
    for (size_t c = 0; c < NCASES; c++) {
        rc_obj *a = rc_array(rt, cases[c].kind);
        char want[64];
        snprintf(want, sizeof want, "array('%c')", codes[c]);
        assert_int_equal(rc_repr(rt, a, buf, sizeof buf), (int)strlen(want));
        assert_string_equal(buf, want);
        assert_int_equal(rc_array_append_i64(rt, a, 1), 0);
        assert_int_equal(rc_array_append_i64(rt, a, 2), 0);
        snprintf(want, sizeof want, cases[c].is_float ? "array('%c', [1.0, 2.0])"
                                                      : "array('%c', [1, 2])", codes[c]);
        assert_int_equal(rc_repr(rt, a, buf, sizeof buf), (int)strlen(want));
        assert_string_equal(buf, want);
        rc_decref(a);
    }
    rc_obj *d = rc_array(rt, RC_ARRAY_F64);
    double vals[] = { 0.1, -2.5, 1e16, 1.5e-5, 0.0001, 123456789012345.0, -0.0, INFINITY, NAN };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        assert_int_equal(rc_array_append_f64(rt, d, vals[i]), 0);
    const char *want = "array('d', [0.1, -2.5, 1e+16, 1.5e-05, 0.0001, 123456789012345.0, -0.0, "
                       "inf, nan])";
    assert_int_equal(rc_repr(rt, d, buf, sizeof buf), (int)strlen(want));
    assert_string_equal(buf, want);
    /* truncated: full length returned, a NUL-terminated prefix written */
    char small[20];
    assert_int_equal(rc_repr(rt, d, small, sizeof small), (int)strlen(want));
    assert_true(strlen(small) < sizeof small);
    assert_memory_equal(small, want, strlen(small));
    assert_int_equal(rc_repr(rt, d, NULL, 0), (int)strlen(want));
    rc_decref(d);

    rc_obj *f = rc_array(rt, RC_ARRAY_F32);
    assert_int_equal(rc_array_append_f64(rt, f, 0.1), 0);    /* widened: as Python */
    assert_true(rc_repr(rt, f, buf, sizeof buf) > 0);
    assert_string_equal(buf, "array('f', [0.10000000149011612])");
    rc_decref(f);
    rc_runtime_free(rt);
}

static void test_out_of_memory(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *a = rc_array(rt, RC_ARRAY_I64);
    for (int i = 0; i < 4; i++)
        assert_int_equal(rc_array_append_i64(rt, a, i), 0);     /* 4 of 4 slots, 32 bytes: the next needs a new block */
    rc_runtime_fail_after(rt, 0);
    rc_error_clear(rt);
    assert_int_equal(rc_array_append_i64(rt, a, 9), RC_ENOMEM);
    assert_int_equal(rc_error(rt), RC_ENOMEM);
    assert_int_equal(rc_array_append_f64(rt, a, 9), RC_ENOMEM);
    assert_null(rc_array(rt, RC_ARRAY_U8));
    assert_int_equal(rc_array_set_i64(rt, a, 1, 1), 0);      /* no allocation */
    assert_int_equal(rc_array_len(a), 4);
    const int64_t *p = rc_array_data(a);
    for (int i = 0; i < 4; i++)
        assert_int_equal(p[i], i);
    assert_int_equal(rc_array_set_i64(rt, a, 0, 200), 0);      /* no allocation */
    rc_runtime_fail_after(rt, -1);
    assert_int_equal(rc_array_append_i64(rt, a, 9), 0);
    assert_int_equal(rc_array_len(a), 5);
    rc_decref(a);
    assert_int_equal(rc_runtime_object_count(rt), 0);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_and_ranges),
        cmocka_unit_test(test_64bit_edges),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_growth_data_sizeof),
        cmocka_unit_test(test_growth_matches_cpython),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_repr),
        cmocka_unit_test(test_out_of_memory),
    };
    return rct_run_tests(tests, NULL, NULL);
}
