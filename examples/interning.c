/* interning.c - equal strings built separately are separate objects; interned
 * they are one shared, immortal object, so a million records with the same
 * field names store one copy of each name. Each size is printed beside
 * CPython 3.11's for the same Python objects, not checked against it
 * (bench/objects/sizes.sh holds every built-in to CPython's size). */
#include <recycle.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { RECORDS = 10000 };

/* CPython 3.11 on a 64-bit machine, measured with python3 (the expression
 * beside each figure gives it again), with
 *     from sys import getsizeof as size
 *     r = [{'customer_id': i} for i in range(10000)]   # the key interned
 *     c = [{''.join(['customer', '_id']): i} for i in range(10000)]   # a new str each
 *     keys = lambda recs: [k for d in recs for k in d] */
static const size_t py_str = 60; /* size('customer_id') */
/* size(r) + sum(map(size, r)) + size('customer_id') + sum(map(size, range(10000))) */
static const size_t py_records_interned = 2205236;
/* size(c) + sum(map(size, c)) + sum(map(size, keys(c))) + sum(map(size, range(10000))) */
static const size_t py_records_copies = 2805176;
static const size_t py_keys_interned = 1;    /* len(set(map(id, keys(r)))) */
static const size_t py_keys_copies = 10000;  /* len(set(map(id, keys(c)))) */

/* One line of the table: recycle's figure, CPython's, and their ratio. */
static void row(const char *what, size_t recycle, size_t cpython) {
    printf("%-44s %8zu %21zu %18.2fx\n", what, recycle, cpython, (double)recycle / (double)cpython);
}

/* Getting the name each way, for rc_timeit (the time is printed, never
 * checked: it depends on the machine). */
typedef struct name { rc_runtime *rt; int failed; } name;

static void new_str(void *arg) {
    name *n = arg;
    rc_obj *s = rc_str(n->rt, "customer_id");
    n->failed |= s == NULL;
    rc_xdecref(s);
}

static void interned_str(void *arg) {
    name *n = arg;
    n->failed |= rc_str_intern(n->rt, "customer_id") == NULL;
}

/* A list of RECORDS dicts {"customer_id": i}, the key the interned str or a
 * new str per record. Returns the new list, or NULL. */
static rc_obj *make_records(rc_runtime *rt, int intern) {
    rc_obj *records = rc_list(rt);
    for (int i = 0; i < RECORDS && records; i++) {
        rc_obj *rec = rc_dict(rt), *v = rc_int(rt, i);
        rc_obj *key = intern ? rc_str_intern(rt, "customer_id") : rc_str(rt, "customer_id");
        int failed = !rec || !v || !key || rc_dict_set(rt, rec, key, v) != 0 ||
                     rc_list_append(rt, records, rec) != 0;
        rc_xdecref(rec);
        rc_xdecref(v);
        if (!intern)   /* an interned str is immortal: nothing to release */
            rc_xdecref(key);
        if (failed) {
            rc_decref(records);
            return NULL;
        }
    }
    return records;
}

static int by_address(const void *a, const void *b) {
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

/* How many distinct key objects the records' dicts hold (each has one key:
 * the first key of each is read); 0 on failure. */
static size_t distinct_keys(rc_runtime *rt, rc_obj *records) {
    size_t n = rc_list_len(records), k = 0, distinct = 0;
    uintptr_t *keys = malloc((n ? n : 1) * sizeof *keys);
    if (!keys)
        return 0;
    for (size_t i = 0; i < n; i++) {
        rc_iter it;
        rc_obj *key, *value;
        rc_iter_init(&it, rc_list_get(rt, records, i));
        if (rc_dict_next(rt, &it, &key, &value) == 1)
            keys[k++] = (uintptr_t)key;
    }
    qsort(keys, k, sizeof *keys, by_address);
    for (size_t i = 0; i < k; i++)
        distinct += i == 0 || keys[i] != keys[i - 1];
    free(keys);
    return distinct;
}

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    rc_obj *a = rc_str(rt, "customer_id"), *b = rc_str(rt, "customer_id");
    rc_obj *ia = rc_str_intern(rt, "customer_id"), *ib = rc_str_intern(rt, "customer_id");
    if (!a || !b || !ia || !ib)
        return 1;
    printf("rc_str twice:        %s objects\n", a == b ? "the same" : "two");
    printf("rc_str_intern twice: %s object\n", ia == ib ? "one" : "two");
    int ok = a != b && ia == ib && rc_equal(rt, a, ia) == 1 && rc_is_immortal(ia);

    /* 10000 records keyed by the interned name cost no extra copies of it */
    size_t before = rc_runtime_object_count(rt);
    rc_obj *records = make_records(rt, 1);
    if (!records)
        return 1;
    size_t objects = rc_runtime_object_count(rt) - before;
    rc_obj *copies = make_records(rt, 0);
    if (!copies)
        return 1;
    size_t shared = distinct_keys(rt, records), own = distinct_keys(rt, copies);

    printf("\n%-44s %8s %21s %19s\n", "", "recycle", "CPython 3.11, 64-bit", "recycle / CPython");
    row("bytes of one str \"customer_id\"", rc_sizeof(a), py_str);
    printf("%d records {\"customer_id\": i} in a list:\n", RECORDS);
    row("  bytes, the key interned", rc_deep_sizeof(rt, records), py_records_interned);
    row("  bytes, the key a new str in each record", rc_deep_sizeof(rt, copies), py_records_copies);
    row("  key objects, interned", shared, py_keys_interned);
    row("  key objects, a new str in each record", own, py_keys_copies);
    printf("(bytes: the list and everything it reaches, each object once; CPython: sys.getsizeof summed)\n\n");
    printf("%d records with the interned key: %zu objects made (no str among them)\n", RECORDS, objects);
    ok = ok && objects <= 1 + RECORDS + RECORDS && shared == 1 && own == RECORDS;

    name nm = { rt, 0 };
    rc_timeit_result r;
    ok = ok && rc_timeit(new_str, &nm, NULL, &r) == 0;
    printf("rc_str each time:        ");
    ok = ok && rc_timeit_print(&r, stdout) == 0;
    ok = ok && rc_timeit(interned_str, &nm, NULL, &r) == 0;
    printf("rc_str_intern each time: ");
    ok = ok && rc_timeit_print(&r, stdout) == 0 && !nm.failed;
    rc_decref(copies);
    rc_decref(records);
    rc_decref(a);
    rc_decref(b);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
