/* test_dict_api.c - the dict calls beyond get/set, through the public API:
 * rc_dict_find (a miss records nothing), rc_dict_setdefault, rc_dict_incr and
 * rc_dict_modify (one lookup; the dict unchanged on every error, out of
 * memory included; callbacks that change the dict), the C-string lookups
 * (no allocation: they work with every allocation failing; a non-str key of
 * the same hash never matches), the lazily formatted RC_EKEY message (right
 * text, kept across a collection that records errors of its own, replaced
 * by a later error), and clearing an empty dict or set under an iterator
 * (the iteration ends, as in Python). Every test checks that the objects it
 * made are gone (rc_runtime_object_count back to its baseline). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include "rct.h"

static rc_runtime *new_rt(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    return rt;
}

/* d[k] = v, dropping our references. */
static void put(rc_runtime *rt, rc_obj *d, rc_obj *k, rc_obj *v) {
    assert_non_null(k);
    assert_non_null(v);
    assert_int_equal(rc_dict_set(rt, d, k, v), 0);
    rc_decref(k);
    rc_decref(v);
}

/* d[s] as an int, -1 when absent (via rc_dict_find_str). */
static int64_t get_s(rc_runtime *rt, rc_obj *d, const char *s) {
    rc_obj *v = NULL;
    int r = rc_dict_find_str(rt, d, s, &v);
    assert_true(r == 0 || r == 1);
    return r ? rc_int_value(v) : -1;
}

/* A user key type: hash and equality are chosen per object; equal() of a
 * "liar" says yes to anything, and hash may be made to fail. */
typedef struct ukey {
    rc_obj ob;
    uint64_t hash;
    int liar;
    int fail_hash;
} ukey;

static int ukey_hash(rc_obj *self, uint64_t *out) {
    ukey *k = (ukey *)self;
    if (k->fail_hash)
        return RC_EINVAL;
    *out = k->hash;
    return 0;
}

static int ukey_equal(rc_obj *a, rc_obj *b) {
    if (((ukey *)a)->liar)
        return 1;
    return a == b;
}

static const rc_type ukey_type = {
    .name = "ukey", .size = sizeof(ukey), .hash = ukey_hash, .equal = ukey_equal,
};

static rc_obj *new_ukey(rc_runtime *rt, uint64_t hash, int liar) {
    ukey *k = (ukey *)rc_new(rt, &ukey_type);
    assert_non_null(k);
    k->hash = hash;
    k->liar = liar;
    return &k->ob;
}

/* ---- rc_dict_find ---- */

static void test_find(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    put(rt, d, rc_str(rt, "a"), rc_int(rt, 1000));
    rc_obj *ka = rc_str(rt, "a"), *kb = rc_str(rt, "b");

    rc_obj *v = NULL;
    assert_int_equal(rc_dict_find(rt, d, ka, &v), 1);
    assert_int_equal(rc_int_value(v), 1000);
    assert_int_equal(rc_refcount(v), 1);               /* borrowed: the dict's */
    assert_int_equal(rc_dict_find(rt, d, ka, NULL), 1);

    /* a miss records nothing, and leaves an earlier error as it was */
    v = ka;
    assert_int_equal(rc_dict_find(rt, d, kb, &v), 0);
    assert_null(v);
    assert_int_equal(rc_error(rt), 0);
    rc_error_set(rt, RC_EIO, "earlier");
    assert_int_equal(rc_dict_find(rt, d, kb, &v), 0);
    assert_int_equal(rc_error(rt), RC_EIO);
    assert_string_equal(rc_error_message(rt), "earlier");
    rc_error_clear(rt);

    /* real errors are errors */
    rc_obj *unhashable = rc_list(rt);
    assert_int_equal(rc_dict_find(rt, d, unhashable, &v), RC_ETYPE);
    assert_null(v);
    assert_int_equal(rc_error(rt), RC_ETYPE);
    rc_error_clear(rt);
    rc_obj *bad = new_ukey(rt, 1, 0);
    ((ukey *)bad)->fail_hash = 1;
    assert_true(rc_dict_find(rt, d, bad, &v) < 0);
    assert_true(rc_error(rt) < 0);
    rc_error_clear(rt);
    assert_int_equal(rc_dict_find(rt, NULL, ka, &v), RC_EINVAL);
    assert_int_equal(rc_dict_find(rt, unhashable, ka, &v), RC_ETYPE);
    assert_int_equal(rc_dict_find(NULL, d, ka, &v), RC_EINVAL);
    rc_error_clear(rt);

    /* 1 and 1.0 are one key, as for rc_dict_get */
    put(rt, d, rc_int(rt, 1), rc_int(rt, 7));
    rc_obj *f = rc_float(rt, 1.0);
    assert_int_equal(rc_dict_find(rt, d, f, &v), 1);
    assert_int_equal(rc_int_value(v), 7);

    rc_decref(f);
    rc_decref(bad);
    rc_decref(unhashable);
    rc_decref(ka);
    rc_decref(kb);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- the RC_EKEY message, made lazily ---- */

static void test_miss_message(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);

    rc_obj *k = rc_str(rt, "zzz");
    assert_null(rc_dict_get(rt, d, k));
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_string_equal(rc_error_message(rt), "key not found: 'zzz'");
    assert_string_equal(rc_error_message(rt), "key not found: 'zzz'");   /* read twice */
    rc_decref(k);
    /* the message does not depend on the key staying alive */
    k = rc_str(rt, "gone");
    assert_null(rc_dict_get(rt, d, k));
    rc_decref(k);
    assert_string_equal(rc_error_message(rt), "key not found: 'gone'");

    k = rc_int(rt, -123456789012345);
    assert_null(rc_dict_get(rt, d, k));
    rc_decref(k);
    assert_string_equal(rc_error_message(rt), "key not found: -123456789012345");

    k = new_ukey(rt, 5, 0);
    assert_null(rc_dict_get(rt, d, k));
    rc_decref(k);
    assert_string_equal(rc_error_message(rt), "key not found (a ukey object)");

    /* a long key is cut at 60 bytes, never inside a UTF-8 sequence: 59
     * ASCII bytes, then a 2-byte e-acute across the cut */
    char buf[128];
    memset(buf, 'x', 59);
    strcpy(buf + 59, "\xc3\xa9tail-of-the-key-beyond-the-cut");
    k = rc_str(rt, buf);
    assert_non_null(k);
    assert_null(rc_dict_get(rt, d, k));
    rc_decref(k);
    char want[160];
    snprintf(want, sizeof want, "key not found: '%.59s...'", buf);
    assert_string_equal(rc_error_message(rt), want);
    /* the same from the C-string getter (nothing allocated) */
    assert_null(rc_dict_get_str(rt, d, buf));
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_string_equal(rc_error_message(rt), want);

    /* a later error replaces a lazy one, and a lazy one an eager one */
    assert_null(rc_dict_get_str(rt, d, "q"));
    rc_error_set(rt, RC_EIO, "disk %d", 3);
    assert_string_equal(rc_error_message(rt), "disk 3");
    assert_null(rc_dict_get_str(rt, d, "r"));
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_string_equal(rc_error_message(rt), "key not found: 'r'");
    rc_error_clear(rt);
    assert_int_equal(rc_error(rt), 0);
    assert_string_equal(rc_error_message(rt), "");

    /* a miss allocates nothing: it works with every allocation failing */
    k = rc_str(rt, "absent");
    rc_runtime_fail_after(rt, 0);
    assert_null(rc_dict_get(rt, d, k));
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_int_equal(rc_runtime_fail_after(rt, -1), 0);
    assert_string_equal(rc_error_message(rt), "key not found: 'absent'");
    rc_decref(k);
    rc_error_clear(rt);

    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* A collection saves the caller's error and puts it back; the callback
 * records errors of its own in between (an eager one, then a lazy one). */
static void gc_cb_records(rc_runtime *rt, int phase, const rc_gc_info *info, void *arg) {
    (void)info;
    rc_obj *d = arg;
    if (phase == RC_GC_START) {
        rc_error_set(rt, RC_EIO, "inside the collection");
    } else {
        assert_null(rc_dict_get_str(rt, d, "inner"));
    }
}

static void test_lazy_error_across_collection(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    assert_int_equal(rc_gc_callback_add(rt, gc_cb_records, d), 0);

    /* lazy before: still the same message after */
    assert_null(rc_dict_get_str(rt, d, "outer"));
    rc_gc_collect(rt, 2);
    assert_int_equal(rc_error(rt), RC_EKEY);
    assert_string_equal(rc_error_message(rt), "key not found: 'outer'");

    /* eager before (and already read) */
    rc_error_set(rt, RC_EFORMAT, "eager %s", "message");
    assert_string_equal(rc_error_message(rt), "eager message");
    rc_gc_collect(rt, 0);
    assert_int_equal(rc_error(rt), RC_EFORMAT);
    assert_string_equal(rc_error_message(rt), "eager message");

    /* a lazy message already read: formatted, still right */
    assert_null(rc_dict_get_str(rt, d, "read"));
    assert_string_equal(rc_error_message(rt), "key not found: 'read'");
    rc_gc_collect(rt, 1);
    assert_string_equal(rc_error_message(rt), "key not found: 'read'");

    /* no error before: none after */
    rc_error_clear(rt);
    rc_gc_collect(rt, 2);
    assert_int_equal(rc_error(rt), 0);
    assert_string_equal(rc_error_message(rt), "");

    assert_int_equal(rc_gc_callback_remove(rt, gc_cb_records, d), 0);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- setdefault ---- */

static void test_setdefault(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    rc_obj *k = rc_str(rt, "k"), *v1 = rc_int(rt, 1001), *v2 = rc_int(rt, 1002), *out = NULL;

    assert_int_equal(rc_dict_setdefault(rt, d, k, v1, &out), 0);    /* stored */
    assert_ptr_equal(out, v1);
    assert_int_equal(rc_refcount(v1), 2);
    assert_int_equal(rc_dict_len(d), 1);
    assert_int_equal(rc_dict_setdefault(rt, d, k, v2, &out), 1);    /* present */
    assert_ptr_equal(out, v1);
    assert_int_equal(rc_refcount(v2), 1);
    assert_int_equal(rc_dict_setdefault(rt, d, k, v2, NULL), 1);
    assert_int_equal(rc_dict_len(d), 1);
    assert_int_equal(rc_error(rt), 0);

    /* errors: the dict unchanged, out NULL */
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_dict_setdefault(rt, d, l, v2, &out), RC_ETYPE);
    assert_null(out);
    assert_int_equal(rc_dict_setdefault(rt, d, k, NULL, &out), RC_EINVAL);
    rc_error_clear(rt);
    /* out of memory on the insert that needs a table: unchanged */
    rc_obj *e = rc_dict(rt);
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_dict_setdefault(rt, e, k, v2, &out), RC_ENOMEM);
    rc_runtime_fail_after(rt, -1);
    assert_int_equal(rc_dict_len(e), 0);
    assert_int_equal(rc_refcount(v2), 1);
    rc_error_clear(rt);
    /* and it works once memory is back */
    assert_int_equal(rc_dict_setdefault(rt, e, k, v2, &out), 0);
    assert_ptr_equal(rc_dict_get(rt, e, k), v2);

    rc_decref(e);
    rc_decref(l);
    rc_decref(k);
    rc_decref(v1);
    rc_decref(v2);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- incr ---- */

static void test_incr_word_count(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    static const char *const text[] = {"the", "cat", "the", "hat", "the", "cat", "a"};
    int64_t res = 0;
    for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
        rc_obj *w = rc_str(rt, text[i]);
        assert_int_equal(rc_dict_incr(rt, d, w, 1, 0, &res), 0);
        rc_decref(w);
    }
    assert_int_equal(rc_dict_len(d), 4);
    assert_int_equal(get_s(rt, d, "the"), 3);
    assert_int_equal(get_s(rt, d, "cat"), 2);
    assert_int_equal(get_s(rt, d, "hat"), 1);
    assert_int_equal(get_s(rt, d, "a"), 1);
    assert_int_equal(res, 1);

    /* insertion order is the order of first sight */
    rc_iter it;
    rc_obj *key;
    const char *order[] = {"the", "cat", "hat", "a"};
    rc_iter_init(&it, d);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rc_iter_next(rt, &it, &key), 1);
        assert_true(rc_str_equal_cstr(key, order[i]));
    }
    assert_int_equal(rc_iter_next(rt, &it, &key), 0);

    /* start applies to an absent key; large values leave the small ints */
    rc_obj *k = rc_str(rt, "big");
    assert_int_equal(rc_dict_incr(rt, d, k, 5, 1000000, &res), 0);
    assert_int_equal(res, 1000005);
    assert_int_equal(rc_dict_incr(rt, d, k, -1000005, 0, NULL), 0);
    assert_int_equal(get_s(rt, d, "big"), 0);

    /* overflow: RC_EOVERFLOW, the value unchanged */
    assert_int_equal(rc_dict_incr(rt, d, k, INT64_MAX, 0, &res), 0);
    assert_int_equal(rc_dict_incr(rt, d, k, 1, 0, &res), RC_EOVERFLOW);
    assert_int_equal(rc_error(rt), RC_EOVERFLOW);
    assert_int_equal(get_s(rt, d, "big"), INT64_MAX);
    rc_obj *k2 = rc_str(rt, "new");
    assert_int_equal(rc_dict_incr(rt, d, k2, -2, INT64_MIN, &res), RC_EOVERFLOW);
    assert_int_equal(rc_dict_contains(rt, d, k2), 0);
    rc_error_clear(rt);

    /* a value that is not an int: RC_ETYPE, unchanged */
    rc_obj *fl = rc_float(rt, 1.5);
    assert_int_equal(rc_dict_set(rt, d, k2, fl), 0);
    assert_int_equal(rc_dict_incr(rt, d, k2, 1, 0, &res), RC_ETYPE);
    assert_ptr_equal(rc_dict_get(rt, d, k2), fl);
    rc_error_clear(rt);

    /* out of memory making the int: unchanged (present and absent key) */
    size_t n = rc_dict_len(d);
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_dict_incr(rt, d, k, -(INT64_MAX - 5000), 0, &res), RC_ENOMEM);
    rc_obj *k3 = NULL;
    rc_runtime_fail_after(rt, -1);
    k3 = rc_str(rt, "k3");
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_dict_incr(rt, d, k3, 5000, 0, &res), RC_ENOMEM);
    rc_runtime_fail_after(rt, -1);
    assert_int_equal(get_s(rt, d, "big"), INT64_MAX);
    assert_int_equal(rc_dict_len(d), n);
    rc_error_clear(rt);

    /* unhashable key, wrong container */
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_dict_incr(rt, d, l, 1, 0, &res), RC_ETYPE);
    assert_int_equal(rc_dict_incr(rt, l, k, 1, 0, &res), RC_ETYPE);
    rc_error_clear(rt);

    rc_decref(l);
    rc_decref(fl);
    rc_decref(k);
    rc_decref(k2);
    rc_decref(k3);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- modify ---- */

typedef struct mod_arg {
    int calls;
    rc_obj *seen;          /* the value the callback was given */
    int mode;              /* what the callback does, below */
    rc_obj *dict;          /* for the modes that change the dict */
} mod_arg;

enum { MOD_ADD10, MOD_REMOVE, MOD_FAIL, MOD_FAIL_SILENT, MOD_GROW, MOD_DELETE_SELF };

static int mod_cb(rc_runtime *rt, rc_obj *key, rc_obj *value, rc_obj **out, void *argp) {
    mod_arg *a = argp;
    a->calls++;
    a->seen = value;
    switch (a->mode) {
    case MOD_ADD10:
        *out = rc_int(rt, (value ? rc_int_value(value) : 0) + 10);
        return *out ? 0 : rc_error(rt);
    case MOD_REMOVE:
        return 0;
    case MOD_FAIL:
        return rc_error_set(rt, RC_EFORMAT, "callback refuses");
    case MOD_FAIL_SILENT:
        return RC_EINDEX;
    case MOD_GROW:
        /* force a resize (the entry array moves) before answering */
        for (int i = 0; i < 100; i++) {
            rc_obj *k = rc_int(rt, 10000 + i), *v = rc_int(rt, i);
            assert_int_equal(rc_dict_set(rt, a->dict, k, v), 0);
            rc_decref(k);
            rc_decref(v);
        }
        *out = rc_int(rt, 4242);
        return 0;
    case MOD_DELETE_SELF:
        /* remove the key the call is about, then answer a value */
        assert_int_equal(rc_dict_del(rt, a->dict, key), 0);
        *out = rc_int(rt, 77);
        return 0;
    }
    return RC_EINVAL;
}

static void test_modify(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    rc_obj *k = rc_str(rt, "k");
    mod_arg a = {0, NULL, MOD_ADD10, d};

    /* absent: inserted; present: replaced in place */
    assert_int_equal(rc_dict_modify(rt, d, k, mod_cb, &a), 0);
    assert_null(a.seen);
    assert_int_equal(get_s(rt, d, "k"), 10);
    put(rt, d, rc_str(rt, "after"), rc_int(rt, 1));
    assert_int_equal(rc_dict_modify(rt, d, k, mod_cb, &a), 0);
    assert_int_equal(rc_int_value(a.seen), 10);
    assert_int_equal(get_s(rt, d, "k"), 20);
    assert_int_equal(a.calls, 2);
    rc_iter it;
    rc_obj *key;
    rc_iter_init(&it, d);
    assert_int_equal(rc_iter_next(rt, &it, &key), 1);
    assert_ptr_equal(key, k);                       /* kept its position */

    /* the callback fails: its code, the dict unchanged */
    a.mode = MOD_FAIL;
    assert_int_equal(rc_dict_modify(rt, d, k, mod_cb, &a), RC_EFORMAT);
    assert_string_equal(rc_error_message(rt), "callback refuses");
    a.mode = MOD_FAIL_SILENT;
    rc_error_clear(rt);
    assert_int_equal(rc_dict_modify(rt, d, k, mod_cb, &a), RC_EINDEX);
    assert_int_equal(rc_error(rt), RC_EINDEX);      /* recorded for it */
    assert_int_equal(get_s(rt, d, "k"), 20);
    assert_int_equal(rc_dict_len(d), 2);
    rc_error_clear(rt);

    /* no value: remove (absent: nothing) */
    a.mode = MOD_REMOVE;
    assert_int_equal(rc_dict_modify(rt, d, k, mod_cb, &a), 0);
    assert_int_equal(rc_dict_len(d), 1);
    assert_int_equal(rc_dict_contains(rt, d, k), 0);
    assert_int_equal(rc_dict_modify(rt, d, k, mod_cb, &a), 0);
    assert_int_equal(rc_dict_len(d), 1);
    assert_int_equal(rc_error(rt), 0);

    /* the callback resizes the dict: stored from a new lookup */
    put(rt, d, rc_str(rt, "k"), rc_int(rt, 5));
    a.mode = MOD_GROW;
    assert_int_equal(rc_dict_modify(rt, d, k, mod_cb, &a), 0);
    assert_int_equal(get_s(rt, d, "k"), 4242);
    assert_int_equal(rc_dict_len(d), 102);
    /* the callback deletes the key: it is stored again */
    a.mode = MOD_DELETE_SELF;
    assert_int_equal(rc_dict_modify(rt, d, k, mod_cb, &a), 0);
    assert_int_equal(get_s(rt, d, "k"), 77);
    assert_int_equal(rc_dict_len(d), 102);

    /* bad arguments */
    assert_int_equal(rc_dict_modify(rt, d, k, NULL, &a), RC_EINVAL);
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_dict_modify(rt, d, l, mod_cb, &a), RC_ETYPE);
    rc_error_clear(rt);

    /* out of memory inserting: unchanged (the callback's int is released) */
    rc_obj *e = rc_dict(rt);
    a.mode = MOD_ADD10;
    rc_runtime_fail_after(rt, 0);
    assert_int_equal(rc_dict_modify(rt, e, k, mod_cb, &a), RC_ENOMEM);
    rc_runtime_fail_after(rt, -1);
    assert_int_equal(rc_dict_len(e), 0);
    rc_error_clear(rt);

    rc_decref(e);
    rc_decref(l);
    rc_decref(k);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- C-string lookups ---- */

static void test_find_str(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    for (int i = 0; i < 200; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "key%d", i);
        rc_obj *v = rc_int(rt, i);
        assert_int_equal(rc_dict_set_str(rt, d, buf, v), 0);
        rc_decref(v);
    }
    put(rt, d, rc_str_n(rt, "a\0b", 3), rc_int(rt, 3000));
    put(rt, d, rc_str(rt, "\xc3\xa9t\xc3\xa9"), rc_int(rt, 4000));
    put(rt, d, rc_str(rt, ""), rc_int(rt, 5000));

    /* every lookup works with every allocation failing */
    size_t objects = rc_runtime_object_count(rt);
    rc_runtime_fail_after(rt, 0);
    rc_obj *v = NULL;
    for (int i = 0; i < 200; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "key%d", i);
        assert_int_equal(rc_dict_find_str(rt, d, buf, &v), 1);
        assert_int_equal(rc_int_value(v), i);
        assert_ptr_equal(rc_dict_get_str(rt, d, buf), v);
    }
    assert_int_equal(rc_dict_find_str_n(rt, d, "a\0b", 3, &v), 1);
    assert_int_equal(rc_int_value(v), 3000);
    assert_int_equal(rc_dict_find_str_n(rt, d, "a\0c", 3, &v), 0);
    assert_int_equal(rc_dict_find_str(rt, d, "a", &v), 0);        /* "a" is not "a\0b" */
    assert_null(v);
    assert_int_equal(rc_dict_find_str(rt, d, "\xc3\xa9t\xc3\xa9", &v), 1);
    assert_int_equal(rc_int_value(v), 4000);
    assert_int_equal(rc_dict_find_str(rt, d, "", &v), 1);
    assert_int_equal(rc_int_value(v), 5000);
    assert_int_equal(rc_dict_find_str_n(rt, d, "key12", 4, &v), 1);   /* "key1" */
    assert_int_equal(rc_int_value(v), 1);
    assert_int_equal(rc_dict_find_str(rt, d, "\xff\xfe", &v), 0);    /* not UTF-8: no match */
    assert_int_equal(rc_dict_find_str(rt, d, "key200", NULL), 0);
    assert_int_equal(rc_error(rt), 0);                             /* misses record nothing */
    /* replacing the value of a present key allocates nothing either */
    rc_obj *small = rc_int(rt, 7);                                 /* static: no allocation */
    assert_int_equal(rc_dict_set_str(rt, d, "key5", small), 0);
    assert_int_equal(rc_runtime_fail_after(rt, -1), 0);
    assert_int_equal(rc_runtime_object_count(rt), objects);
    assert_int_equal(get_s(rt, d, "key5"), 7);

    /* errors */
    assert_int_equal(rc_dict_find_str(rt, d, NULL, &v), RC_EINVAL);
    assert_null(rc_dict_get_str(rt, d, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    rc_obj *l = rc_list(rt);
    assert_int_equal(rc_dict_find_str(rt, l, "x", &v), RC_ETYPE);
    assert_int_equal(rc_dict_find_str_n(NULL, d, "x", 1, &v), RC_EINVAL);
    rc_error_clear(rt);

    rc_decref(l);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* A key of another type with the same hash as a str, whose equal says yes
 * to everything: rc_dict_get with a str object finds it (Python's rules),
 * the C-string lookups never do. */
static void test_find_str_other_type_same_hash(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    rc_obj *s = rc_str(rt, "abc");
    uint64_t h;
    assert_int_equal(rc_hash(rt, s, &h), 0);
    rc_obj *liar = new_ukey(rt, h, 1);
    rc_obj *v = rc_int(rt, 9000);
    assert_int_equal(rc_dict_set(rt, d, liar, v), 0);

    rc_obj *out = NULL;
    assert_int_equal(rc_dict_find(rt, d, liar, &out), 1);
    assert_int_equal(rc_dict_find_str(rt, d, "abc", &out), 0);
    assert_null(rc_dict_get_str(rt, d, "abc"));
    assert_int_equal(rc_error(rt), RC_EKEY);
    rc_error_clear(rt);
    /* set_str stores as rc_dict_set does, by Python's equality: the str it
     * makes equals the liar, whose value is replaced; the key stays the
     * liar, which the C-string lookups still do not see */
    rc_obj *v2 = rc_int(rt, 9001);
    assert_int_equal(rc_dict_set_str(rt, d, "abc", v2), 0);
    assert_int_equal(rc_dict_len(d), 1);
    assert_ptr_equal(rc_dict_get(rt, d, liar), v2);
    assert_int_equal(rc_dict_find_str(rt, d, "abc", &out), 0);
    rc_decref(v2);

    rc_decref(v);
    rc_decref(liar);
    rc_decref(s);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

/* ---- clearing an empty container under an iterator ---- */

static void test_clear_empty_dict_iterating(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *d = rc_dict(rt);
    put(rt, d, rc_int(rt, 1), rc_int(rt, 2));
    rc_obj *k = rc_int(rt, 1);
    assert_int_equal(rc_dict_del(rt, d, k), 0);     /* empty, with a table */
    size_t with_table = rc_sizeof(d);

    rc_iter it;
    rc_obj *key, *value;
    rc_iter_init(&it, d);
    rc_dict_clear(d);
    assert_true(rc_sizeof(d) < with_table);                    /* the table was freed */
    assert_int_equal(rc_dict_next(rt, &it, &key, &value), 0);   /* ends, as Python */
    assert_int_equal(rc_error(rt), 0);
    rc_dict_clear(d);                                          /* twice: the same */
    rc_iter_init(&it, d);
    assert_int_equal(rc_iter_next(rt, &it, &key), 0);

    /* a clear that drops entries still invalidates the iterator */
    put(rt, d, rc_int(rt, 1), rc_int(rt, 2));
    rc_iter_init(&it, d);
    rc_dict_clear(d);
    assert_int_equal(rc_dict_next(rt, &it, &key, &value), RC_ESTATE);
    rc_error_clear(rt);
    /* and an insert after the empty clear does too */
    rc_iter_init(&it, d);
    rc_dict_clear(d);
    put(rt, d, rc_int(rt, 3), rc_int(rt, 4));
    assert_int_equal(rc_iter_next(rt, &it, &key), RC_ESTATE);
    rc_error_clear(rt);

    rc_decref(k);
    rc_decref(d);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

static void test_clear_empty_set_iterating(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    size_t base = rc_runtime_object_count(rt);
    rc_obj *s = rc_set(rt);
    rc_obj *k = rc_int(rt, 1000);
    assert_int_equal(rc_set_add(rt, s, k), 0);
    assert_int_equal(rc_set_discard(rt, s, k), 1);      /* empty, with a table */
    size_t with_table = rc_sizeof(s);

    rc_iter it;
    rc_obj *key;
    rc_iter_init(&it, s);
    rc_set_clear(s);
    assert_true(rc_sizeof(s) < with_table);             /* the table was freed */
    assert_int_equal(rc_iter_next(rt, &it, &key), 0);   /* ends, as Python */
    assert_int_equal(rc_error(rt), 0);

    assert_int_equal(rc_set_add(rt, s, k), 0);
    rc_iter_init(&it, s);
    rc_set_clear(s);
    assert_int_equal(rc_iter_next(rt, &it, &key), RC_ESTATE);
    rc_error_clear(rt);

    rc_decref(k);
    rc_decref(s);
    assert_int_equal(rc_runtime_object_count(rt), base);
    rc_runtime_free(rt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_miss_message),
        cmocka_unit_test(test_lazy_error_across_collection),
        cmocka_unit_test(test_setdefault),
        cmocka_unit_test(test_incr_word_count),
        cmocka_unit_test(test_modify),
        cmocka_unit_test(test_find_str),
        cmocka_unit_test(test_find_str_other_type_same_hash),
        cmocka_unit_test(test_clear_empty_dict_iterating),
        cmocka_unit_test(test_clear_empty_set_iterating),
    };
    return rct_run_tests(tests, NULL, NULL);
}
