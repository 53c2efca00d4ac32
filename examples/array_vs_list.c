/* array_vs_list.c - a typed array stores raw numbers (8 bytes each for i64);
 * a list of ints stores a pointer per item plus an int object per value.
 * Each size is printed beside CPython 3.11's for the same Python object, not
 * checked against it (bench/objects/sizes.sh holds every built-in to
 * CPython's size). Summing each is timed as python -m timeit would (the time
 * is printed, never checked). */
#include <recycle.h>
#include <stdio.h>

/* CPython 3.11 on a 64-bit machine, measured with python3 (the expression
 * beside each figure gives it again), with
 *     import array; from sys import getsizeof as size
 *     a = array.array('q'); l = []
 *     for i in range(100000): a.append(i * 1000); l.append(i * 1000) */
static const size_t py_array = 816640;     /* size(a): the items are in it */
static const size_t py_list = 800984;      /* size(l) */
static const size_t py_list_deep = 3600984; /* size(l) + sum(map(size, l)) */

/* One line of the table: recycle's bytes, CPython's, their ratio and the
 * bytes per item. */
static void row(const char *what, size_t recycle, size_t cpython, size_t n) {
    printf("%-34s %8zu %21zu %18.2fx %12.1f %12.1f\n", what, recycle, cpython,
           (double)recycle / (double)cpython, (double)recycle / (double)n, (double)cpython / (double)n);
}

typedef struct sum { rc_runtime *rt; rc_obj *seq; int64_t total; int failed; } sum;

static void sum_array(void *arg) {
    sum *s = arg;
    const int64_t *v = rc_array_data(s->seq);
    int64_t t = 0;
    for (size_t i = 0, n = rc_array_len(s->seq); i < n; i++)
        t += v[i];
    s->total = t;
}

static void sum_list(void *arg) {
    sum *s = arg;
    int64_t t = 0;
    for (size_t i = 0, n = rc_list_len(s->seq); i < n; i++) {
        rc_obj *o = rc_list_get(s->rt, s->seq, i);
        s->failed |= o == NULL;
        t += o ? rc_int_value(o) : 0;
    }
    s->total = t;
}

static int time_sum(const char *label, rc_timeit_fn fn, sum *s) {
    rc_timeit_result r;
    if (rc_timeit(fn, s, NULL, &r) != 0)
        return 0;
    printf("%s", label);
    return rc_timeit_print(&r, stdout) == 0;
}

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    enum { N = 100000 };
    rc_obj *arr = rc_array(rt, RC_ARRAY_I64);
    rc_obj *lst = rc_list(rt);
    if (!arr || !lst)
        return 1;
    for (int64_t i = 0; i < N; i++) {
        rc_obj *v = rc_int(rt, i * 1000);
        if (!v || rc_list_append(rt, lst, v) != 0 || rc_array_append_i64(rt, arr, i * 1000) != 0)
            return 1;
        rc_decref(v);
    }
    size_t a = rc_deep_sizeof(rt, arr), l = rc_deep_sizeof(rt, lst);
    printf("%-34s %8s %21s %19s %12s %12s\n", "bytes of 100000 ints, i * 1000", "recycle",
           "CPython 3.11, 64-bit", "recycle / CPython", "recycle/item", "CPython/item");
    row("in an array('q'), appended", rc_sizeof(arr), py_array, N);
    row("in a list, appended", rc_sizeof(lst), py_list, N);
    row("  the list with its ints", l, py_list_deep, N);
    /* An array's items are inside it: its deep size is its size. */
    int ok = a == rc_sizeof(arr);
    int64_t last = 0;
    ok = ok && rc_array_get_i64(rt, arr, N - 1, &last) == 0 && last == (int64_t)(N - 1) * 1000 && a < l;
    const int64_t want = (int64_t)N * (N - 1) / 2 * 1000;
    sum sa = { rt, arr, 0, 0 }, sl = { rt, lst, 0, 0 };
    ok = ok && time_sum("sum of the array: ", sum_array, &sa) && sa.total == want;
    ok = ok && time_sum("sum of the list:  ", sum_list, &sl) && sl.total == want && !sl.failed;
    rc_decref(arr);
    rc_decref(lst);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
