/* sizes.c - rc_sizeof of every built-in, small and large instances, for
 * bench/objects/sizes.sh, which sets them beside sys.getsizeof of the same
 * Python objects (sizes.py builds them the same way: containers grown one
 * item at a time, as a program grows them).
 *
 * Output: one line "NAME BYTES" per object, in sizes.py's order; exits 1
 * if any object cannot be made. */
#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rc_runtime *rt;

static rc_obj *must(rc_obj *o, const char *what) {
    if (!o) {
        fprintf(stderr, "sizes: cannot make %s: %s\n", what, rc_error_message(rt));
        exit(1);
    }
    return o;
}

static void show(const char *name, rc_obj *o) {
    printf("%s %zu\n", name, rc_sizeof(o));
    rc_decref(o);
}

static rc_obj *ascii(size_t n) {
    char *buf = malloc(n + 1);
    if (!buf)
        exit(1);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + i % 26);
    buf[n] = '\0';
    rc_obj *s = must(rc_str_n(rt, buf, n), "str");
    free(buf);
    return s;
}

static rc_obj *bytes_of(size_t n) {
    unsigned char *buf = calloc(n + 1, 1);
    if (!buf)
        exit(1);
    rc_obj *b = must(rc_bytes(rt, buf, n), "bytes");
    free(buf);
    return b;
}

static rc_obj *tuple_of(size_t n) {
    rc_obj **items = calloc(n + 1, sizeof *items);
    if (!items)
        exit(1);
    for (size_t i = 0; i < n; i++)
        items[i] = must(rc_int(rt, (int64_t)i), "int");
    rc_obj *t = must(rc_tuple_from(rt, n, items), "tuple");
    for (size_t i = 0; i < n; i++)
        rc_decref(items[i]);
    free(items);
    return t;
}

static rc_obj *list_of(size_t n) {
    rc_obj *l = must(rc_list(rt), "list");
    for (size_t i = 0; i < n; i++) {
        rc_obj *v = must(rc_int(rt, (int64_t)i), "int");
        if (rc_list_append(rt, l, v) != 0)
            must(NULL, "list item");
        rc_decref(v);
    }
    return l;
}

static rc_obj *dict_of(size_t n) {
    rc_obj *d = must(rc_dict(rt), "dict");
    for (size_t i = 0; i < n; i++) {
        rc_obj *k = must(rc_str_printf(rt, "key%zu", i), "str");
        rc_obj *v = must(rc_int(rt, (int64_t)i), "int");
        if (rc_dict_set(rt, d, k, v) != 0)
            must(NULL, "dict item");
        rc_decref(k);
        rc_decref(v);
    }
    return d;
}

static rc_obj *set_of(size_t n) {
    rc_obj *s = must(rc_set(rt), "set");
    for (size_t i = 0; i < n; i++) {
        rc_obj *v = must(rc_int(rt, (int64_t)i), "int");
        if (rc_set_add(rt, s, v) != 0)
            must(NULL, "set item");
        rc_decref(v);
    }
    return s;
}

static rc_obj *array_of(size_t n) {
    rc_obj *a = must(rc_array(rt, RC_ARRAY_I64), "array");
    for (size_t i = 0; i < n; i++)
        if (rc_array_append_i64(rt, a, (int64_t)i) != 0)
            must(NULL, "array item");
    return a;
}

int main(void) {
    rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    show("str-empty", ascii(0));
    show("str-5", must(rc_str(rt, "hello"), "str"));
    show("str-100", ascii(100));
    show("str-10000", ascii(10000));
    show("str-nonascii-5", must(rc_str(rt, "h\xc3\xa9llo"), "str"));
    show("bytes-empty", bytes_of(0));
    show("bytes-3", bytes_of(3));
    show("bytes-100", bytes_of(100));
    show("bytes-10000", bytes_of(10000));
    show("int-0", must(rc_int(rt, 0), "int"));
    show("int-1000", must(rc_int(rt, 1000), "int"));
    show("int-2**62", must(rc_int(rt, (int64_t)1 << 62), "int"));
    show("float", must(rc_float(rt, 1.5), "float"));
    show("tuple-empty", tuple_of(0));
    show("tuple-2", tuple_of(2));
    show("tuple-100", tuple_of(100));
    show("list-empty", list_of(0));
    show("list-3", list_of(3));
    show("list-100", list_of(100));
    show("list-10000", list_of(10000));
    show("list-1000000", list_of(1000000));
    show("dict-empty", dict_of(0));
    show("dict-3", dict_of(3));
    show("dict-100", dict_of(100));
    show("dict-10000", dict_of(10000));
    show("set-empty", set_of(0));
    show("set-3", set_of(3));
    show("set-100", set_of(100));
    show("set-10000", set_of(10000));
    show("array-q-empty", array_of(0));
    show("array-q-100", array_of(100));
    show("array-q-10000", array_of(10000));
    show("array-q-1000000", array_of(1000000));
    rc_runtime_free(rt);
    return 0;
}
