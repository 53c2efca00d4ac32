/* test_bytes.c - bytes: inline construction (copies, embedded zeros, empty),
 * hashing and equality (by contents, never equal to a str), repr, and
 * rc_bytes_mmap on real temporary files: contents, the mapping visible in
 * /proc/self/maps while the object lives and gone after the last reference
 * (or rc_runtime_free), empty files, and RC_EIO with the path and strerror
 * for a missing file or a directory; the sizes of both kinds (CPython's
 * for inline bytes). Black-box: public headers only. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* A temporary file holding len bytes of a pattern; path receives its name. */
static void make_file(char path[64], size_t len) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, 64, "%s/rc-test-bytes-XXXXXX", dir && strlen(dir) < 32 ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char chunk[4096];
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < sizeof chunk ? len - done : sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = (char)((done + i) * 31 + 7);
        assert_int_equal(write(fd, chunk, n), (ssize_t)n);
        done += n;
    }
    close(fd);
}

/* Is path mapped into this process (a line of /proc/self/maps ends with it)? */
static int is_mapped(const char *path) {
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[1024];
    int found = 0;
    size_t plen = strlen(path);
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
            line[--n] = '\0';
        if (n >= plen && strcmp(line + n - plen, path) == 0)
            found = 1;
    }
    fclose(f);
    return found;
}

static int mapped_any(const char *path) {
    /* after unlink, maps shows "path (deleted)" */
    char deleted[96];
    snprintf(deleted, sizeof deleted, "%s (deleted)", path);
    return is_mapped(path) || is_mapped(deleted);
}

static void test_inline(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    unsigned char src[5] = { 'a', 0, 0xff, 'b', 0 };
    rc_obj *b = rc_bytes(rt, src, sizeof src);
    assert_non_null(b);
    assert_true(rc_is_bytes(b));
    assert_string_equal(rc_type_name(b), "bytes");
    assert_false(rc_bytes_is_mmap(b));
    assert_int_equal(rc_bytes_len(b), 5);
    assert_ptr_not_equal(rc_bytes_data(b), src);   /* a copy */
    assert_memory_equal(rc_bytes_data(b), src, 5);
    src[0] = 'X';
    assert_int_equal(((const unsigned char *)rc_bytes_data(b))[0], 'a');
    assert_int_equal(rc_runtime_object_count(rt), base + 1);

    rc_obj *e = rc_bytes(rt, NULL, 0), *e2 = rc_bytes(rt, "", 0);
    assert_non_null(e);
    assert_int_equal(rc_bytes_len(e), 0);
    assert_non_null(rc_bytes_data(e));
    assert_int_equal(rc_equal(rt, e, e2), 1);

    /* sizeof counts the inline contents: CPython's 33 + len (header 16,
     * length 8, hash 8, the NUL) */
    char zs[1000];
    memset(zs, 'z', sizeof zs);
    rc_obj *big = rc_bytes(rt, zs, sizeof zs);
    assert_int_equal(rc_sizeof(e), 33);
    assert_int_equal(rc_sizeof(b), 33 + 5);
    assert_int_equal(rc_sizeof(big), 33 + 1000);
    for (size_t n = 0; n <= 100; n++) {
        rc_obj *x = rc_bytes(rt, zs, n);
        assert_int_equal(rc_sizeof(x), 33 + n);
        assert_int_equal(rc_bytes_len(x), n);
        assert_int_equal(((const char *)rc_bytes_data(x))[n], '\0');   /* NUL after the contents */
        rc_decref(x);
    }

    /* accessors on other objects */
    rc_obj *s = rc_str(rt, "a");
    assert_null(rc_bytes_data(s));
    assert_int_equal(rc_bytes_len(s), 0);
    assert_false(rc_bytes_is_mmap(s));
    assert_false(rc_is_bytes(s));
    assert_false(rc_is_bytes(NULL));

    /* bad arguments */
    assert_null(rc_bytes(NULL, "a", 1));
    rc_error_clear(rt);
    assert_null(rc_bytes(rt, NULL, 3));
    assert_int_equal(rc_error(rt), RC_EINVAL);

    rc_decref(b);
    rc_decref(e);
    rc_decref(e2);
    rc_decref(big);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_hash_equal_repr(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *a = rc_bytes(rt, "spam", 4), *b = rc_bytes(rt, "spam!", 4), *c = rc_bytes(rt, "eggs", 4);
    rc_obj *s = rc_str(rt, "spam");
    assert_int_equal(rc_equal(rt, a, b), 1);
    assert_true(hash_of(rt, a) == hash_of(rt, b));
    assert_int_equal(rc_equal(rt, a, c), 0);
    assert_int_equal(rc_equal(rt, a, s), 0);     /* bytes != str */
    assert_int_equal(rc_equal(rt, s, a), 0);
    assert_true(hash_of(rt, a) != (uint64_t)-1);
    /* a bytes hashes as the str of the same text (as in Python), though the
     * two are never equal */
    assert_true(hash_of(rt, a) == hash_of(rt, s));
    rc_obj *s2 = rc_str(rt, "eggs");
    assert_true(hash_of(rt, c) == hash_of(rt, s2));
    rc_decref(s2);
    /* equal lengths, both hashes cached: unequal */
    assert_true(hash_of(rt, c) != hash_of(rt, a));
    assert_int_equal(rc_equal(rt, a, c), 0);
    assert_int_equal(rc_equal(rt, c, a), 0);
    /* a hash computed on one of two equal objects only */
    rc_obj *a2 = rc_bytes(rt, "spam", 4);
    assert_int_equal(rc_equal(rt, a2, a), 1);
    assert_int_equal(rc_equal(rt, a, a2), 1);
    assert_true(hash_of(rt, a2) == hash_of(rt, a));
    rc_decref(a2);

    static const struct { const char *data; size_t len; const char *repr; } cases[] = {
        { "abc", 3, "b'abc'" },
        { "", 0, "b''" },
        { "\x00\xff\x80\x7f\x1f", 5, "b'\\x00\\xff\\x80\\x7f\\x1f'" },
        { "\n\t\r\\", 4, "b'\\n\\t\\r\\\\'" },
        { "it's", 4, "b\"it's\"" },
        { "a\"b", 3, "b'a\"b'" },
        { "'\"", 2, "b'\\'\"'" },
        { "\xc3\xa9", 2, "b'\\xc3\\xa9'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rc_obj *o = rc_bytes(rt, cases[i].data, cases[i].len);
        check_repr(rt, o, cases[i].repr);
        rc_decref(o);
    }
    /* truncation never splits an escape */
    rc_obj *t = rc_bytes(rt, "a\xff", 2);   /* b'a\xff' : 8 bytes */
    char buf[8];
    assert_int_equal(rc_repr(rt, t, buf, 6), 8);
    assert_string_equal(buf, "b'a");
    assert_int_equal(rc_repr(rt, t, buf, 8), 8);
    assert_string_equal(buf, "b'a\\xff");
    rc_decref(t);

    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_mmap_file(void **state) {
    (void)state;
    char path[64];
    enum { LEN = 3 * 4096 + 123 };
    make_file(path, LEN);
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    assert_false(is_mapped(path));
    rc_obj *m = rc_bytes_mmap(rt, path);
    if (!m)
        fail_msg("rc_bytes_mmap: %s", rc_error_message(rt));
    assert_true(rc_is_bytes(m));
    assert_true(rc_bytes_is_mmap(m));
    assert_int_equal(rc_bytes_len(m), LEN);
    const unsigned char *d = rc_bytes_data(m);
    for (size_t i = 0; i < LEN; i++)
        if (d[i] != (unsigned char)(i * 31 + 7))
            fail_msg("byte %zu differs", i);
    assert_true(is_mapped(path));
    assert_int_equal(rc_runtime_object_count(rt), base + 1);
    /* the mapping is not heap memory: sizeof is the small object only (its
     * header, a marker word, and the pointer, length and hash) */
    assert_int_equal(rc_sizeof(m), 56);
    assert_ptr_equal(rc_typeof(m), &rc_bytes_type);
    assert_string_equal(rc_type_name(m), "bytes");

    /* equal to the same contents held inline, and hashed alike */
    unsigned char *copy = malloc(LEN);
    assert_non_null(copy);
    memcpy(copy, d, LEN);
    rc_obj *inl = rc_bytes(rt, copy, LEN);
    free(copy);
    assert_int_equal(rc_equal(rt, m, inl), 1);
    assert_int_equal(rc_equal(rt, inl, m), 1);
    assert_true(hash_of(rt, m) == hash_of(rt, inl));
    assert_true(hash_of(rt, m) == hash_of(rt, m));   /* cached */
    assert_int_equal(rc_equal(rt, m, inl), 1);       /* with both hashes cached */
    assert_false(rc_bytes_is_mmap(inl));
    /* not equal to the same length of other contents, hashed or not */
    copy = malloc(LEN);
    assert_non_null(copy);
    memcpy(copy, d, LEN);
    copy[LEN / 2] ^= 1;
    rc_obj *other = rc_bytes(rt, copy, LEN), *shorter = rc_bytes(rt, d, LEN - 1);
    free(copy);
    assert_int_equal(rc_equal(rt, m, other), 0);
    assert_int_equal(rc_equal(rt, other, m), 0);
    (void)hash_of(rt, other);
    assert_int_equal(rc_equal(rt, m, other), 0);
    assert_int_equal(rc_equal(rt, m, shorter), 0);
    assert_int_equal(rc_equal(rt, shorter, m), 0);
    rc_decref(other);
    rc_decref(shorter);
    /* the mapped bytes works as a dict key found by its inline twin */
    rc_obj *dict = rc_dict(rt), *one = rc_int(rt, 1);
    assert_int_equal(rc_dict_set(rt, dict, m, one), 0);
    assert_ptr_equal(rc_dict_get(rt, dict, inl), one);
    rc_decref(dict);
    rc_decref(one);
    rc_decref(inl);

    /* the file may go; the mapping keeps the data */
    assert_int_equal(unlink(path), 0);
    assert_true(mapped_any(path));
    assert_int_equal(d[LEN - 1], (unsigned char)((LEN - 1) * 31 + 7));

    /* a second reference keeps it mapped; the last one unmaps */
    rc_incref(m);
    rc_decref(m);
    assert_int_equal(d[0], 7);
    rc_decref(m);
    assert_false(mapped_any(path));
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_mmap_unmapped_by_runtime_free(void **state) {
    (void)state;
    char path[64];
    make_file(path, 10000);
    rc_runtime *rt = rc_runtime_new(NULL);
    rc_obj *m = rc_bytes_mmap(rt, path);
    assert_non_null(m);
    rc_obj *m2 = rc_bytes_mmap(rt, path);   /* a second, independent mapping */
    assert_non_null(m2);
    assert_ptr_not_equal(rc_bytes_data(m), rc_bytes_data(m2));
    rc_decref(m2);
    assert_true(mapped_any(path));
    rc_runtime_free(rt);                      /* m is still referenced */
    assert_false(mapped_any(path));
    unlink(path);
}

static void test_mmap_empty_file(void **state) {
    (void)state;
    char path[64];
    make_file(path, 0);
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *m = rc_bytes_mmap(rt, path);
    if (!m)
        fail_msg("rc_bytes_mmap: %s", rc_error_message(rt));
    assert_true(rc_bytes_is_mmap(m));
    assert_int_equal(rc_bytes_len(m), 0);
    assert_non_null(rc_bytes_data(m));
    assert_false(is_mapped(path));
    assert_int_equal(rc_sizeof(m), 56);
    rc_obj *e = rc_bytes(rt, "", 0);
    assert_int_equal(rc_equal(rt, m, e), 1);
    assert_int_equal(rc_equal(rt, e, m), 1);
    assert_true(hash_of(rt, m) == hash_of(rt, e));
    check_repr(rt, m, "b''");
    rc_decref(e);
    rc_decref(m);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
    unlink(path);
}

/* A small file of given contents, mapped: the same repr, hash and equality
 * as the inline bytes and the str of that text. */
static void test_mmap_small(void **state) {
    (void)state;
    char path[64];
    make_file(path, 0);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite("it's", 1, 4, f), 4);
    fclose(f);
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *m = rc_bytes_mmap(rt, path);
    if (!m)
        fail_msg("rc_bytes_mmap: %s", rc_error_message(rt));
    assert_int_equal(rc_bytes_len(m), 4);
    assert_memory_equal(rc_bytes_data(m), "it's", 4);
    check_repr(rt, m, "b\"it's\"");
    rc_obj *b = rc_bytes(rt, "it's", 4), *s = rc_str(rt, "it's");
    assert_int_equal(rc_equal(rt, m, b), 1);
    assert_int_equal(rc_equal(rt, m, s), 0);
    assert_int_equal(rc_equal(rt, s, m), 0);
    assert_true(hash_of(rt, m) == hash_of(rt, b));
    assert_true(hash_of(rt, m) == hash_of(rt, s));
    rc_decref(b);
    rc_decref(s);
    rc_decref(m);
    assert_false(mapped_any(path));
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
    unlink(path);
}

static void test_mmap_errors(void **state) {
    (void)state;
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    const char *missing = "/nonexistent-dir-rc/no-such-file.bin";
    assert_null(rc_bytes_mmap(rt, missing));
    assert_int_equal(rc_error(rt), RC_EIO);
    assert_non_null(strstr(rc_error_message(rt), missing));
    assert_non_null(strstr(rc_error_message(rt), strerror(ENOENT)));

    rc_error_clear(rt);
    assert_null(rc_bytes_mmap(rt, "/"));
    assert_int_equal(rc_error(rt), RC_EIO);
    assert_non_null(strstr(rc_error_message(rt), strerror(EISDIR)));

    rc_error_clear(rt);
    assert_null(rc_bytes_mmap(rt, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_bytes_mmap(NULL, "/etc/hostname"));
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* Out of memory: no object, no mapping left behind, no leak. */
static void test_out_of_memory(void **state) {
    (void)state;
    char path[64];
    make_file(path, 5000);
    rc_runtime *rt = rc_runtime_new(NULL);
    size_t base = rc_runtime_object_count(rt);
    rc_runtime_fail_after(rt, 0);
    rc_error_clear(rt);
    assert_null(rc_bytes_mmap(rt, path));
    assert_int_equal(rc_error(rt), RC_ENOMEM);
    assert_false(mapped_any(path));
    rc_error_clear(rt);
    assert_null(rc_bytes(rt, "abc", 3));
    assert_int_equal(rc_error(rt), RC_ENOMEM);
    assert_true(rc_runtime_fail_after(rt, -1) >= 2);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_obj *m = rc_bytes_mmap(rt, path);   /* and then it works */
    assert_non_null(m);
    assert_true(mapped_any(path));
    rc_decref(m);
    assert_false(mapped_any(path));
    rc_runtime_free(rt);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_hash_equal_repr),
        cmocka_unit_test(test_mmap_file),
        cmocka_unit_test(test_mmap_unmapped_by_runtime_free),
        cmocka_unit_test(test_mmap_empty_file),
        cmocka_unit_test(test_mmap_small),
        cmocka_unit_test(test_mmap_errors),
        cmocka_unit_test(test_out_of_memory),
    };
    return rct_run_tests(tests, NULL, NULL);
}
