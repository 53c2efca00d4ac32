/* rc-test: whitebox */
/* test_int_float.c - int and float: values, the static small-int cache
 * (shared, immortal, no allocation), exact int/float equality and hash
 * agreement (1 == 1.0, 2**53 + 1 != 2.0**53), Python's float repr, and the
 * comparison used by the default list sort (rct_numeric_compare, internal:
 * this test is white-box for it). Every test ends with the runtime's object
 * count back at its baseline. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "types/types.h"

static void check_repr(rc_runtime *rt, rc_obj *o, const char *want) {
    char buf[128];
    int n = rc_repr(rt, o, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

static uint64_t hash_of(rc_runtime *rt, rc_obj *o) {
    uint64_t h = 0;
    assert_int_equal(rc_hash(rt, o, &h), 0);
    return h;
}

/* ---- int ------------------------------------------------------------------ */

static void test_small_ints_cached(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL), *rt2 = rc_runtime_new(NULL);
    assert_non_null(rt);
    assert_non_null(rt2);
    size_t base = rc_runtime_object_count(rt);
    for (int64_t v = -5; v <= 256; v++) {
        rc_obj *a = rc_int(rt, v), *b = rc_int(rt, v), *c = rc_int(rt2, v);
        assert_non_null(a);
        assert_ptr_equal(a, b);
        assert_ptr_equal(a, c);   /* shared by every runtime */
        assert_true(rc_is_int(a));
        assert_int_equal(rc_int_value(a), v);
        assert_true(rc_is_immortal(a));
        assert_null(rc_runtime_of(a));
    }
    assert_int_equal(rc_runtime_object_count(rt), base);   /* nothing allocated */

    rc_obj *seven = rc_int(rt, 7);
    size_t rc = rc_refcount(seven);
    for (int i = 0; i < 10; i++)
        rc_incref(seven);
    for (int i = 0; i < 20; i++)
        rc_decref(seven);   /* more decrefs than increfs: immortal, harmless */
    assert_int_equal(rc_refcount(seven), rc);
    assert_int_equal(rc_int_value(seven), 7);
    rc_runtime_free(rt2);
    assert_int_equal(rc_int_value(rc_int(rt, 7)), 7);   /* survive a runtime */
    rc_runtime_free(rt);
}

static void test_ints_outside_cache_allocate(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    const int64_t vals[] = { -6, 257, 1000, -1000000, INT64_MAX, INT64_MIN, INT64_MIN + 1 };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        rc_obj *a = rc_int(rt, vals[i]), *b = rc_int(rt, vals[i]);
        assert_non_null(a);
        assert_non_null(b);
        assert_ptr_not_equal(a, b);
        assert_false(rc_is_immortal(a));
        assert_int_equal(rc_refcount(a), 1);
        assert_ptr_equal(rc_runtime_of(a), rt);
        assert_int_equal(rc_int_value(a), vals[i]);
        assert_int_equal(rc_runtime_object_count(rt), base + 2);
        assert_int_equal(rc_equal(rt, a, b), 1);
        assert_int_equal(hash_of(rt, a), hash_of(rt, b));
        rc_decref(a);
        rc_decref(b);
        assert_int_equal(rc_runtime_object_count(rt), base);
    }
    rc_runtime_free(rt);
}

static void test_int_accessors_and_args(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    assert_null(rc_int(NULL, 5));
    assert_null(rc_int(NULL, 5000));
    rc_obj *f = rc_float(rt, 2.5), *s = rc_str(rt, "12");
    assert_int_equal(rc_int_value(f), 0);   /* not an int */
    assert_int_equal(rc_int_value(s), 0);
    assert_int_equal(rc_int_value(NULL), 0);
    assert_false(rc_is_int(f));
    assert_false(rc_is_int(NULL));
    assert_false(rc_is_float(rc_int(rt, 3)));
    assert_true(rc_is_float(f));
    assert_string_equal(rc_type_name(rc_int(rt, 1)), "int");
    assert_string_equal(rc_type_name(f), "float");
    rc_decref(f);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_int_repr(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    check_repr(rt, rc_int(rt, 0), "0");
    check_repr(rt, rc_int(rt, -5), "-5");
    check_repr(rt, rc_int(rt, 123), "123");
    rc_obj *big = rc_int(rt, INT64_MIN), *max = rc_int(rt, INT64_MAX);
    check_repr(rt, big, "-9223372036854775808");
    check_repr(rt, max, "9223372036854775807");
    char small[4];
    assert_int_equal(rc_repr(rt, max, small, sizeof small), 19);   /* full length */
    assert_string_equal(small, "922");
    rc_decref(big);
    rc_decref(max);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- float ------------------------------------------------------------------ */

static void test_float_values(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    assert_null(rc_float(NULL, 1.0));
    const double vals[] = { 0.0, -0.0, 1.5, -2.25, 1e300, 5e-324, INFINITY, -INFINITY };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        rc_obj *f = rc_float(rt, vals[i]);
        assert_non_null(f);
        assert_true(rc_is_float(f));
        assert_false(rc_is_immortal(f));
        assert_memory_equal(&(double){ rc_float_value(f) }, &vals[i], sizeof(double));
        rc_decref(f);
    }
    rc_obj *nan = rc_float(rt, NAN);
    assert_true(isnan(rc_float_value(nan)));
    rc_decref(nan);
    /* rc_float_value converts ints and gives 0.0 for anything else */
    rc_obj *i = rc_int(rt, -123456789);
    assert_true(rc_float_value(i) == -123456789.0);
    rc_decref(i);
    rc_obj *s = rc_str(rt, "1.5");
    assert_true(rc_float_value(s) == 0.0);
    assert_true(rc_float_value(NULL) == 0.0);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Equal numbers are equal whatever their types, and hash alike. */
static void expect_num_eq(rc_runtime *rt, int64_t i, double d, int eq) {
    rc_obj *a = rc_int(rt, i), *b = rc_float(rt, d);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(rc_equal(rt, a, b), eq);
    assert_int_equal(rc_equal(rt, b, a), eq);
    if (eq)
        assert_true(hash_of(rt, a) == hash_of(rt, b));
    rc_decref(a);
    rc_decref(b);
}

static void test_int_float_equality_and_hash(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    expect_num_eq(rt, 1, 1.0, 1);
    expect_num_eq(rt, 0, 0.0, 1);
    expect_num_eq(rt, 0, -0.0, 1);
    expect_num_eq(rt, -1, -1.0, 1);
    expect_num_eq(rt, -2, -2.0, 1);
    expect_num_eq(rt, 256, 256.0, 1);
    expect_num_eq(rt, 1000000, 1e6, 1);
    expect_num_eq(rt, INT64_C(1000000000000000000), 1e18, 1);
    expect_num_eq(rt, INT64_C(9007199254740992), 9007199254740992.0, 1);   /* 2**53 */
    expect_num_eq(rt, INT64_C(9007199254740993), 9007199254740992.0, 0);   /* 2**53 + 1 */
    expect_num_eq(rt, INT64_MIN, -9223372036854775808.0, 1);
    expect_num_eq(rt, INT64_MAX, 9223372036854775808.0, 0);   /* 2**63 > INT64_MAX */
    expect_num_eq(rt, 0, 0.5, 0);
    expect_num_eq(rt, 1, 0.5, 0);
    expect_num_eq(rt, 0, -0.5, 0);
    expect_num_eq(rt, -1, -0.5, 0);
    expect_num_eq(rt, 3, 3.0000000000000004, 0);
    expect_num_eq(rt, 0, INFINITY, 0);
    expect_num_eq(rt, INT64_MAX, INFINITY, 0);
    expect_num_eq(rt, 0, NAN, 0);
    /* hash agreement straight from the helpers too */
    assert_true(rco_hash_double(1.0) == rco_hash_int(1));
    assert_true(rco_hash_double(-1.0) == rco_hash_int(-1));
    assert_true(rco_hash_double(0.0) == rco_hash_int(0));
    assert_true(rco_hash_double(-0.0) == rco_hash_int(0));
    assert_true(rco_hash_double(4503599627370496.0) == rco_hash_int(INT64_C(4503599627370496)));

    /* float == float by value; NaN is not equal to itself (but is to the
     * same object, as in Python's containers: identity is checked first by
     * containers, not by ==) */
    rc_obj *x = rc_float(rt, 0.1), *y = rc_float(rt, 0.1), *n1 = rc_float(rt, NAN),
           *n2 = rc_float(rt, NAN);
    assert_int_equal(rc_equal(rt, x, y), 1);
    assert_true(hash_of(rt, x) == hash_of(rt, y));
    assert_int_equal(rc_equal(rt, n1, n2), 0);
    /* numbers are never equal to strs */
    rc_obj *s = rc_str(rt, "1"), *one = rc_int(rt, 1);
    assert_int_equal(rc_equal(rt, one, s), 0);
    assert_int_equal(rc_equal(rt, s, one), 0);
    assert_int_equal(rc_equal(rt, x, s), 0);
    rc_decref(x);
    rc_decref(y);
    rc_decref(n1);
    rc_decref(n2);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_float_repr(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    static const struct { double v; const char *repr; } cases[] = {
        { 1.0, "1.0" },
        { 0.0, "0.0" },
        { -0.0, "-0.0" },
        { 0.1, "0.1" },
        { 0.3, "0.3" },
        { 2.5, "2.5" },
        { -2.5, "-2.5" },
        { 100.0, "100.0" },
        { 123.456, "123.456" },
        { 1.0 / 3.0, "0.3333333333333333" },
        { 2.0 / 3.0, "0.6666666666666666" },
        { 0.1 + 0.2, "0.30000000000000004" },
        { 0.0001, "0.0001" },
        { 0.00001, "1e-05" },
        { 0.000123, "0.000123" },
        { 1.5e-7, "1.5e-07" },
        { 1e16, "1e+16" },
        { 1e15, "1000000000000000.0" },
        { 1234567890123456.0, "1234567890123456.0" },
        { 12345678901234567.0, "1.2345678901234568e+16" },
        { 1e22, "1e+22" },
        { 1.5e300, "1.5e+300" },
        { -1e100, "-1e+100" },
        { 5e-324, "5e-324" },
        { 1.7976931348623157e308, "1.7976931348623157e+308" },
        { 2.2250738585072014e-308, "2.2250738585072014e-308" },
        { 9007199254740993.0, "9007199254740992.0" },
        { INFINITY, "inf" },
        { -INFINITY, "-inf" },
        { NAN, "nan" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc_obj *f = rc_float(rt, cases[i].v);
        check_repr(rt, f, cases[i].repr);
        rc_decref(f);
    }
    /* truncation: snprintf's contract */
    rc_obj *f = rc_float(rt, 0.1 + 0.2);
    char small[6];
    assert_int_equal(rc_repr(rt, f, small, sizeof small), 19);
    assert_string_equal(small, "0.300");
    rc_decref(f);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Every repr reads back (strtod) as the same double. */
static void test_float_repr_round_trips(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d;
        memcpy(&d, &x, sizeof d);
        if (isnan(d) || isinf(d))
            continue;
        rc_obj *f = rc_float(rt, d);
        char buf[64];
        assert_true(rc_repr(rt, f, buf, sizeof buf) > 0);
        assert_true(strtod(buf, NULL) == d);
        rc_decref(f);
    }
    rc_runtime_free(rt);
}

/* ---- the comparison of the default sort (internal) -------------------------- */

static int cmp(rc_runtime *rt, rc_obj *a, rc_obj *b) {
    int out = 99;
    assert_int_equal(rct_numeric_compare(rt, a, b, &out), 0);
    int back = 99;
    assert_int_equal(rct_numeric_compare(rt, b, a, &back), 0);
    assert_int_equal(back, -out);
    return out;
}

static void test_numeric_compare(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *i1 = rc_int(rt, 1), *i2 = rc_int(rt, 2), *f15 = rc_float(rt, 1.5),
           *f1 = rc_float(rt, 1.0), *big = rc_int(rt, INT64_C(9007199254740993)),
           *fbig = rc_float(rt, 9007199254740992.0), *neg = rc_float(rt, -0.5),
           *zero = rc_int(rt, 0), *inf = rc_float(rt, INFINITY),
           *max = rc_int(rt, INT64_MAX), *nan = rc_float(rt, NAN),
           *sa = rc_str(rt, "a"), *sb = rc_str(rt, "b"), *sab = rc_str(rt, "ab"),
           *se = rc_str(rt, "\xc3\xa9"), *sz = rc_str(rt, "z");
    assert_int_equal(cmp(rt, i1, i2), -1);
    assert_int_equal(cmp(rt, i1, i1), 0);
    assert_int_equal(cmp(rt, i1, f15), -1);
    assert_int_equal(cmp(rt, i2, f15), 1);
    assert_int_equal(cmp(rt, i1, f1), 0);
    assert_int_equal(cmp(rt, big, fbig), 1);   /* exact, no rounding of the int */
    assert_int_equal(cmp(rt, zero, neg), 1);
    assert_int_equal(cmp(rt, max, inf), -1);
    assert_int_equal(cmp(rt, f15, f1), 1);
    assert_int_equal(cmp(rt, nan, i1), 0);     /* unordered: "not less" both ways */
    assert_int_equal(cmp(rt, sa, sb), -1);
    assert_int_equal(cmp(rt, sa, sab), -1);
    assert_int_equal(cmp(rt, sb, sab), 1);
    assert_int_equal(cmp(rt, se, sz), 1);      /* by code point: U+00E9 > 'z' */
    assert_true(rct_str_compare(sa, sa) == 0);
    int out = 42;
    rc_error_clear(rt);
    assert_int_equal(rct_numeric_compare(rt, i1, sa, &out), RC_ETYPE);
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_non_null(strstr(rc_error_message(rt), "'int' and 'str'"));
    assert_int_equal(out, 42);
    assert_int_equal(rct_numeric_compare(rt, NULL, sa, &out), RC_EINVAL);
    rc_obj *b = rc_bytes(rt, "a", 1);
    assert_int_equal(rct_numeric_compare(rt, b, b, &out), RC_ETYPE);
    rc_obj *all[] = { i1, i2, f15, f1, big, fbig, neg, zero, inf, max, nan, sa, sb, sab, se, sz, b };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rc_decref(all[i]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_compare_int_double_edges(void **state) {
    (void)state;
    assert_int_equal(rct_compare_int_double(0, NAN), 2);
    assert_int_equal(rct_compare_int_double(INT64_MAX, 9223372036854775808.0), -1);
    assert_int_equal(rct_compare_int_double(INT64_MIN, -9223372036854775808.0), 0);
    assert_int_equal(rct_compare_int_double(INT64_MIN, -9223372036854777856.0), 1);
    assert_int_equal(rct_compare_int_double(-1, -0.5), -1);
    assert_int_equal(rct_compare_int_double(-1, -1.5), 1);
    assert_int_equal(rct_compare_int_double(-2, -1.5), -1);
    assert_int_equal(rct_compare_int_double(5, 5.0), 0);
    assert_int_equal(rct_compare_int_double(INT64_MIN, -INFINITY), 1);
    assert_int_equal(rct_compare_int_double(INT64_C(9007199254740993), 9007199254740994.0), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_ints_cached),
        cmocka_unit_test(test_ints_outside_cache_allocate),
        cmocka_unit_test(test_int_accessors_and_args),
        cmocka_unit_test(test_int_repr),
        cmocka_unit_test(test_float_values),
        cmocka_unit_test(test_int_float_equality_and_hash),
        cmocka_unit_test(test_float_repr),
        cmocka_unit_test(test_float_repr_round_trips),
        cmocka_unit_test(test_numeric_compare),
        cmocka_unit_test(test_compare_int_double_edges),
    };
    return rct_run_tests(tests, NULL, NULL);
}
