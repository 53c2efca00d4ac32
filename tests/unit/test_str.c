/* rc-test: oom */
/* test_str.c - str: construction and accessors (bytes and code points,
 * embedded NULs), the UTF-8 validation table, hashing and equality,
 * rc_str_printf, rc_str_concat, rc_str_equal_cstr, Python's repr (escapes,
 * quotes, clean truncation), and interning (identity, immortality, growth of
 * the table, one table per runtime). Black-box: public headers only. Every
 * test ends with the runtime's object count back at its baseline (plus the
 * interned strs, which are immortal by design). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>

static uint64_t hash_of(rc_runtime *rt, rc_obj *o) {
    uint64_t h = 0;
    assert_int_equal(rc_hash(rt, o, &h), 0);
    return h;
}

static void check_repr(rc_runtime *rt, rc_obj *o, const char *want) {
    char buf[256];
    int n = rc_repr(rt, o, buf, sizeof buf);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(buf, want);
}

static void test_basics(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_str(rt, "h\xc3\xa9llo \xf0\x9f\x98\x80");   /* "héllo 😀" */
    assert_non_null(s);
    assert_true(rc_is_str(s));
    assert_string_equal(rc_type_name(s), "str");
    assert_int_equal(rc_str_len(s), 11);
    assert_int_equal(rc_str_length(s), 7);
    assert_string_equal(rc_str_data(s), "h\xc3\xa9llo \xf0\x9f\x98\x80");
    assert_int_equal(rc_refcount(s), 1);
    assert_false(rc_is_immortal(s));
    assert_false(rc_str_is_interned(s));
    assert_int_equal(rc_runtime_object_count(rt), base + 1);

    /* the contents are copied */
    char src[] = "mutable";
    rc_obj *c = rc_str(rt, src);
    src[0] = 'X';
    assert_string_equal(rc_str_data(c), "mutable");

    /* empty strings, and rc_str_n with NULL data and no length */
    rc_obj *e = rc_str(rt, ""), *e2 = rc_str_n(rt, NULL, 0);
    assert_non_null(e);
    assert_non_null(e2);
    assert_int_equal(rc_str_len(e), 0);
    assert_int_equal(rc_str_length(e2), 0);
    assert_string_equal(rc_str_data(e2), "");
    assert_int_equal(rc_equal(rt, e, e2), 1);

    /* embedded NULs are part of the value; data stays NUL-terminated */
    rc_obj *z = rc_str_n(rt, "a\0b", 3), *a = rc_str(rt, "a");
    assert_non_null(z);
    assert_int_equal(rc_str_len(z), 3);
    assert_int_equal(rc_str_length(z), 3);
    assert_memory_equal(rc_str_data(z), "a\0b", 4);
    assert_int_equal(rc_equal(rt, z, a), 0);
    rc_obj *sizes = rc_str_n(rt, "abcdef", 3);   /* a prefix */
    assert_string_equal(rc_str_data(sizes), "abc");

    /* accessors on other objects give nothing */
    rc_obj *i = rc_int(rt, 1);
    assert_null(rc_str_data(i));
    assert_null(rc_str_data(NULL));
    assert_int_equal(rc_str_len(i), 0);
    assert_int_equal(rc_str_length(NULL), 0);
    assert_false(rc_is_str(i));
    assert_false(rc_str_is_interned(i));

    rc_obj *all[] = { s, c, e, e2, z, a, sizes };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        rc_decref(all[k]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_bad_arguments(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    assert_null(rc_str(NULL, "x"));
    assert_null(rc_str_n(NULL, "x", 1));
    assert_null(rc_str_printf(NULL, "x"));
    assert_null(rc_str_intern(NULL, "x"));
    assert_null(rc_str(rt, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_str_n(rt, NULL, 4));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_str_intern(rt, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_str_intern_n(rt, NULL, 1));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_str_printf(rt, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_int_equal(rc_runtime_object_count(rt), base);

    /* a successful call leaves the recorded error alone */
    rc_obj *ok = rc_str(rt, "fine");
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_decref(ok);
    rc_runtime_free(rt);
}

/* ---- UTF-8 validation ----------------------------------------------------------- */

static const struct { const char *s; size_t len; size_t chars; } valid_utf8[] = {
    { "", 0, 0 },
    { "a", 1, 1 },
    { "\x7f", 1, 1 },
    { "\xc2\x80", 2, 1 },               /* U+0080, smallest 2-byte */
    { "\xdf\xbf", 2, 1 },               /* U+07FF */
    { "\xe0\xa0\x80", 3, 1 },           /* U+0800, smallest 3-byte */
    { "\xe2\x82\xac", 3, 1 },           /* U+20AC euro */
    { "\xed\x9f\xbf", 3, 1 },           /* U+D7FF, last before surrogates */
    { "\xee\x80\x80", 3, 1 },           /* U+E000, first after surrogates */
    { "\xef\xbf\xbf", 3, 1 },           /* U+FFFF */
    { "\xf0\x90\x80\x80", 4, 1 },       /* U+10000, smallest 4-byte */
    { "\xf0\x9f\x98\x80", 4, 1 },       /* U+1F600 */
    { "\xf4\x8f\xbf\xbf", 4, 1 },       /* U+10FFFF, the last code point */
    { "a\0b", 3, 3 },                   /* NUL is a character */
    { "abcdefgh\xc3\xa9", 10, 9 },      /* after a full ASCII word */
    { "abcdefghijklmnopqrstuvwxyz0123456789", 36, 36 },
    { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10, 5 },
};

static const struct { const char *s; size_t len; const char *why; } invalid_utf8[] = {
    { "\x80", 1, "lone continuation byte" },
    { "\xbf", 1, "lone continuation byte" },
    { "\xc0\x80", 2, "overlong NUL" },
    { "\xc1\xbf", 2, "overlong 2-byte" },
    { "\xe0\x80\x80", 3, "overlong 3-byte" },
    { "\xe0\x9f\xbf", 3, "overlong 3-byte (U+07FF)" },
    { "\xed\xa0\x80", 3, "surrogate U+D800" },
    { "\xed\xbf\xbf", 3, "surrogate U+DFFF" },
    { "\xf0\x80\x80\x80", 4, "overlong 4-byte" },
    { "\xf0\x8f\xbf\xbf", 4, "overlong 4-byte (U+FFFF)" },
    { "\xf4\x90\x80\x80", 4, "U+110000" },
    { "\xf5\x80\x80\x80", 4, "start byte F5" },
    { "\xf8\x88\x80\x80\x80", 5, "5-byte form" },
    { "\xfe", 1, "byte FE" },
    { "\xff", 1, "byte FF" },
    { "\xc2", 1, "truncated 2-byte" },
    { "\xe2\x82", 2, "truncated 3-byte" },
    { "\xf0\x9f\x98", 3, "truncated 4-byte" },
    { "\xc2\x41", 2, "bad continuation" },
    { "\xe2\x28\xa1", 3, "bad second byte" },
    { "\xe2\x82\x28", 3, "bad third byte" },
    { "\xf0\x9f\x98\x41", 4, "bad fourth byte" },
    { "abcdefgh\x80", 9, "after an ASCII word" },
    { "abcdefghijklmno\xc3", 16, "truncated at the end" },
    { "ok\xed\xa0\x80ok", 7, "surrogate in the middle" },
};

static void test_utf8_table(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    for (size_t i = 0; i < sizeof valid_utf8 / sizeof valid_utf8[0]; i++) {
        rc_obj *s = rc_str_n(rt, valid_utf8[i].s, valid_utf8[i].len);
        if (!s)
            fail_msg("valid case %zu rejected: %s", i, rc_error_message(rt));
        assert_int_equal(rc_str_len(s), valid_utf8[i].len);
        assert_int_equal(rc_str_length(s), valid_utf8[i].chars);
        assert_memory_equal(rc_str_data(s), valid_utf8[i].s, valid_utf8[i].len);
        rc_decref(s);
    }
    for (size_t i = 0; i < sizeof invalid_utf8 / sizeof invalid_utf8[0]; i++) {
        rc_error_clear(rt);
        rc_obj *s = rc_str_n(rt, invalid_utf8[i].s, invalid_utf8[i].len);
        if (s)
            fail_msg("invalid case %zu (%s) accepted", i, invalid_utf8[i].why);
        assert_int_equal(rc_error(rt), RC_EINVAL);
        assert_non_null(strstr(rc_error_message(rt), "UTF-8"));
        rc_error_clear(rt);
        assert_null(rc_str_intern_n(rt, invalid_utf8[i].s, invalid_utf8[i].len));
        assert_int_equal(rc_error(rt), RC_EINVAL);
    }
    /* rc_str stops at the NUL, so a bad byte after it is never seen */
    rc_obj *s = rc_str(rt, "ok\0\xff");
    assert_non_null(s);
    assert_int_equal(rc_str_len(s), 2);
    rc_decref(s);
    /* the message names the offending byte and its position */
    assert_null(rc_str(rt, "abc\xff"));
    assert_non_null(strstr(rc_error_message(rt), "0xff"));
    assert_non_null(strstr(rc_error_message(rt), "position 3"));
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- hashing, equality ------------------------------------------------------------- */

static void test_hash_and_equal(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *a = rc_str(rt, "spam"), *b = rc_str_n(rt, "spam and eggs", 4), *c = rc_str(rt, "eggs");
    rc_obj *by = rc_bytes(rt, "spam", 4), *i = rc_int(rt, 4);
    assert_ptr_not_equal(a, b);
    assert_int_equal(rc_equal(rt, a, b), 1);
    assert_int_equal(rc_equal(rt, a, a), 1);
    assert_int_equal(rc_equal(rt, a, c), 0);
    assert_int_equal(rc_equal(rt, a, by), 0);   /* str != bytes */
    assert_int_equal(rc_equal(rt, by, a), 0);
    assert_int_equal(rc_equal(rt, a, i), 0);
    uint64_t h = hash_of(rt, a);
    assert_true(h == hash_of(rt, a));   /* cached, stable */
    assert_true(h == hash_of(rt, b));   /* equal strs hash alike */
    assert_true(h != (uint64_t)-1);
    assert_true(hash_of(rt, c) != h);   /* (a collision here would be a poor hash) */
    /* equal after both hashes are cached, unequal with equal lengths */
    rc_obj *d = rc_str(rt, "spa!");
    (void)hash_of(rt, d);
    assert_int_equal(rc_equal(rt, a, d), 0);
    rc_obj *all[] = { a, b, c, by, i, d };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        rc_decref(all[k]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_equal_cstr(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_str(rt, "name"), *z = rc_str_n(rt, "na\0me", 5), *e = rc_str(rt, "");
    rc_obj *i = rc_int(rt, 3);
    assert_int_equal(rc_str_equal_cstr(s, "name"), 1);
    assert_int_equal(rc_str_equal_cstr(s, "nam"), 0);
    assert_int_equal(rc_str_equal_cstr(s, "names"), 0);
    assert_int_equal(rc_str_equal_cstr(s, ""), 0);
    assert_int_equal(rc_str_equal_cstr(s, NULL), 0);
    assert_int_equal(rc_str_equal_cstr(e, ""), 1);
    assert_int_equal(rc_str_equal_cstr(z, "na"), 0);   /* embedded NUL: never equal */
    assert_int_equal(rc_str_equal_cstr(z, "na\0me"), 0);
    assert_int_equal(rc_str_equal_cstr(i, "3"), 0);
    assert_int_equal(rc_str_equal_cstr(NULL, "x"), 0);
    rc_decref(s);
    rc_decref(z);
    rc_decref(e);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- printf, concat ---------------------------------------------------------------- */

static void test_printf(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_str_printf(rt, "%s-%d-%.2f-%c", "item", 42, 2.5, 'x');
    assert_non_null(s);
    assert_string_equal(rc_str_data(s), "item-42-2.50-x");
    assert_int_equal(rc_str_length(s), 14);
    rc_decref(s);

    rc_obj *e = rc_str_printf(rt, "%s", "");
    assert_int_equal(rc_str_len(e), 0);
    rc_decref(e);

    /* longer than the first attempt's stack buffer: formatted twice */
    rc_obj *big = rc_str_printf(rt, "<%0300d|%s>", 7, "\xc3\xa9");
    assert_non_null(big);
    assert_int_equal(rc_str_len(big), 1 + 300 + 1 + 2 + 1);
    assert_int_equal(rc_str_length(big), 1 + 300 + 1 + 1 + 1);
    assert_int_equal(rc_str_data(big)[300], '7');
    assert_string_equal(rc_str_data(big) + 301, "|\xc3\xa9>");
    rc_decref(big);

    /* the result is validated like any str, short or long */
    rc_error_clear(rt);
    assert_null(rc_str_printf(rt, "bad %s", "\xff"));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_error_clear(rt);
    assert_null(rc_str_printf(rt, "%0400d%s", 1, "\xc0\x80"));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_concat(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *a = rc_str(rt, "h\xc3\xa9"), *b = rc_str(rt, "llo"), *e = rc_str(rt, "");
    rc_obj *ab = rc_str_concat(rt, a, b);
    assert_non_null(ab);
    assert_string_equal(rc_str_data(ab), "h\xc3\xa9llo");
    assert_int_equal(rc_str_len(ab), 6);
    assert_int_equal(rc_str_length(ab), 5);
    assert_int_equal(rc_refcount(a), 1);   /* operands untouched */

    /* an empty operand gives back the other operand, a new reference */
    rc_obj *same = rc_str_concat(rt, a, e);
    assert_ptr_equal(same, a);
    assert_int_equal(rc_refcount(a), 2);
    rc_decref(same);
    rc_obj *same2 = rc_str_concat(rt, e, b);
    assert_ptr_equal(same2, b);
    rc_decref(same2);
    rc_obj *ee = rc_str_concat(rt, e, e);
    assert_int_equal(rc_str_len(ee), 0);
    rc_decref(ee);

    /* embedded NULs survive */
    rc_obj *z = rc_str_n(rt, "x\0", 2), *zz = rc_str_concat(rt, z, z);
    assert_int_equal(rc_str_len(zz), 4);
    assert_memory_equal(rc_str_data(zz), "x\0x\0", 5);

    /* bad arguments */
    rc_obj *i = rc_int(rt, 1000);
    rc_error_clear(rt);
    assert_null(rc_str_concat(rt, a, i));
    assert_int_equal(rc_error(rt), RC_ETYPE);
    assert_non_null(strstr(rc_error_message(rt), "int"));
    rc_error_clear(rt);
    assert_null(rc_str_concat(rt, NULL, a));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_str_concat(NULL, a, b));

    rc_obj *all[] = { a, b, e, ab, z, zz, i };
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        rc_decref(all[k]);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- repr ------------------------------------------------------------------------------ */

static void test_repr(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    static const struct { const char *s; size_t len; const char *repr; } cases[] = {
        { "abc", 3, "'abc'" },
        { "", 0, "''" },
        { "it's", 4, "\"it's\"" },
        { "a\"b", 3, "'a\"b'" },
        { "it's \"x\"", 8, "'it\\'s \"x\"'" },
        { "\n\t\r\\", 4, "'\\n\\t\\r\\\\'" },
        { "\x01\x1f\x7f", 3, "'\\x01\\x1f\\x7f'" },
        { "a\0b", 3, "'a\\x00b'" },
        { "h\xc3\xa9llo", 6, "'h\xc3\xa9llo'" },                 /* printable: as is */
        { "\xf0\x9f\x98\x80", 4, "'\xf0\x9f\x98\x80'" },
        { "\xc2\x85", 2, "'\\x85'" },                              /* C1 control */
        { "\xc2\xa0", 2, "'\\xa0'" },                              /* no-break space */
        { "\xc2\xad", 2, "'\\xad'" },                              /* soft hyphen */
        { "\xe2\x80\xa8", 3, "'\\u2028'" },                        /* line separator */
        { "\xef\xbb\xbf", 3, "'\\ufeff'" },                        /* BOM */
        { "\xee\x80\x80", 3, "'\\ue000'" },                        /* private use */
        { "\xf3\xb0\x80\x80", 4, "'\\U000f0000'" },                /* private use plane */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc_obj *s = rc_str_n(rt, cases[i].s, cases[i].len);
        assert_non_null(s);
        check_repr(rt, s, cases[i].repr);
        rc_decref(s);
    }

    /* truncation keeps whole characters and escapes, returns the full length */
    rc_obj *s = rc_str(rt, "h\xc3\xa9\n!");    /* repr 'hé\n!' : 8 bytes */
    char buf[16];
    memset(buf, '#', sizeof buf);
    assert_int_equal(rc_repr(rt, s, buf, 3), 8);
    assert_string_equal(buf, "'h");           /* é (2 bytes) would not fit whole */
    assert_int_equal(rc_repr(rt, s, buf, 5), 8);
    assert_string_equal(buf, "'h\xc3\xa9");
    assert_int_equal(rc_repr(rt, s, buf, 6), 8);
    assert_string_equal(buf, "'h\xc3\xa9");    /* \n (2 bytes) would not fit whole */
    assert_int_equal(rc_repr(rt, s, buf, 8), 8);
    assert_string_equal(buf, "'h\xc3\xa9\\n!");
    assert_int_equal(rc_repr(rt, s, buf, 9), 8);
    assert_string_equal(buf, "'h\xc3\xa9\\n!'");
    assert_int_equal(rc_repr(rt, s, buf, 1), 8);
    assert_string_equal(buf, "");
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- interning ------------------------------------------------------------------------- */

static void test_intern_identity(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *a = rc_str_intern(rt, "customer_id"), *b = rc_str_intern(rt, "customer_id");
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_true(rc_str_is_interned(a));
    assert_true(rc_is_immortal(a));
    assert_string_equal(rc_str_data(a), "customer_id");
    size_t rc = rc_refcount(a);
    rc_decref(a);
    rc_decref(a);
    rc_decref(a);
    assert_int_equal(rc_refcount(a), rc);
    assert_int_equal(rc_runtime_object_count(rt), base + 1);   /* one object, kept */

    /* a plain str with the same contents is a different, equal object */
    rc_obj *plain = rc_str(rt, "customer_id");
    assert_ptr_not_equal(plain, a);
    assert_false(rc_str_is_interned(plain));
    assert_int_equal(rc_equal(rt, plain, a), 1);
    assert_true(hash_of(rt, plain) == hash_of(rt, a));
    rc_decref(plain);

    /* _n variants: lengths and embedded NULs distinguish */
    rc_obj *n1 = rc_str_intern_n(rt, "customer_id_extra", 11);
    assert_ptr_equal(n1, a);
    rc_obj *z1 = rc_str_intern_n(rt, "a\0b", 3), *z2 = rc_str_intern_n(rt, "a\0b", 3),
           *z3 = rc_str_intern_n(rt, "a", 1);
    assert_ptr_equal(z1, z2);
    assert_ptr_not_equal(z1, z3);
    assert_int_equal(rc_str_len(z1), 3);
    rc_obj *e1 = rc_str_intern(rt, ""), *e2 = rc_str_intern_n(rt, NULL, 0);
    assert_ptr_equal(e1, e2);
    assert_int_equal(rc_runtime_object_count(rt), base + 4);

    /* one table per runtime */
    rc_runtime *rt2 = rc_runtime_new(NULL);
    rc_obj *other = rc_str_intern(rt2, "customer_id");
    assert_non_null(other);
    assert_ptr_not_equal(other, a);
    assert_ptr_equal(rc_runtime_of(other), rt2);
    assert_int_equal(rc_equal(rt, other, a), 1);
    rc_runtime_free(rt2);
    assert_ptr_equal(rc_str_intern(rt, "customer_id"), a);
    rc_runtime_free(rt);
}

static void test_intern_many(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    enum { N = 3000 };   /* several doublings of the table */
    static rc_obj *first[N];
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "name-%d", i);
        first[i] = rc_str_intern(rt, name);
        assert_non_null(first[i]);
    }
    assert_int_equal(rc_runtime_object_count(rt), base + N);
    for (int i = N - 1; i >= 0; i--) {
        snprintf(name, sizeof name, "name-%d", i);
        rc_obj *again = rc_str_intern(rt, name);
        assert_ptr_equal(again, first[i]);
        assert_string_equal(rc_str_data(again), name);
    }
    assert_int_equal(rc_runtime_object_count(rt), base + N);
    rc_runtime_free(rt);
}

/* ---- out of memory ---------------------------------------------------------------------- */

/* The str operations with the N-th allocation failing, for N = 0, 1, ...:
 * every failure is RC_ENOMEM with nothing leaked, and afterwards the
 * runtime works (interned names keep their identity). */
static void test_out_of_memory(void **state) {
    (void)state;
    enum { NAMES = 60 };   /* the intern table grows once on the way */
    char name[32], big[600];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (long n = 0;; n++) {
        rc_runtime *rt = rc_runtime_new(NULL);
        assert_non_null(rt);
        size_t base = rc_runtime_object_count(rt);
        rc_obj *interned[NAMES] = { 0 };
        size_t kept = 0;
        rc_runtime_fail_after(rt, n);
        for (int i = 0; i < NAMES; i++) {
            snprintf(name, sizeof name, "field-%d", i);
            interned[i] = rc_str_intern(rt, name);
            if (interned[i])
                kept++;
            else
                assert_int_equal(rc_error(rt), RC_ENOMEM);
        }
        rc_obj *objs[4];
        objs[0] = rc_str(rt, "plain");
        objs[1] = rc_str_printf(rt, "%s/%d", big, 1);   /* the long path */
        objs[2] = objs[0] ? rc_str_concat(rt, objs[0], objs[0]) : NULL;
        objs[3] = rc_str_printf(rt, "%d", 5);
        for (int i = 0; i < 4; i++) {
            if (!objs[i])
                assert_int_equal(rc_error(rt), RC_ENOMEM);
        }
        long failed = rc_runtime_fail_after(rt, -1);
        for (int i = 0; i < 4; i++)
            rc_xdecref(objs[i]);
        assert_int_equal(rc_runtime_object_count(rt), base + kept);
        /* usable again: every name interns, the earlier ones unchanged */
        for (int i = 0; i < NAMES; i++) {
            snprintf(name, sizeof name, "field-%d", i);
            rc_obj *again = rc_str_intern(rt, name);
            assert_non_null(again);
            if (interned[i])
                assert_ptr_equal(again, interned[i]);
            assert_string_equal(rc_str_data(again), name);
        }
        assert_int_equal(rc_runtime_object_count(rt), base + NAMES);
        rc_runtime_free(rt);
        if (failed == 0) {
            assert_true(n > NAMES);   /* the sweep did reach every allocation */
            break;   /* the workload needed fewer than n allocations */
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basics),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_hash_and_equal),
        cmocka_unit_test(test_equal_cstr),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_repr),
        cmocka_unit_test(test_intern_identity),
        cmocka_unit_test(test_intern_many),
        cmocka_unit_test(test_out_of_memory),
    };
    return rct_run_tests(tests, NULL, NULL);
}
