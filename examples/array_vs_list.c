/* array_vs_list.c - a typed array stores raw numbers (8 bytes each for i64);
 * a list of ints stores a pointer per item plus an int object per value.
 * Summing each is timed as python -m timeit would (the time is printed,
 * never checked). */
#include <recycle.h>
#include <stdio.h>

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
    printf("%d ints in an array: %zu bytes (%.1f per item)\n", N, a, (double)a / N);
    printf("%d ints in a list:   %zu bytes (%.1f per item)\n", N, l, (double)l / N);
    int64_t last = 0;
    int ok = rc_array_get_i64(rt, arr, N - 1, &last) == 0 && last == (int64_t)(N - 1) * 1000 && a < l;
    const int64_t want = (int64_t)N * (N - 1) / 2 * 1000;
    sum sa = { rt, arr, 0, 0 }, sl = { rt, lst, 0, 0 };
    ok = ok && time_sum("sum of the array: ", sum_array, &sa) && sa.total == want;
    ok = ok && time_sum("sum of the list:  ", sum_list, &sl) && sl.total == want && !sl.failed;
    rc_decref(arr);
    rc_decref(lst);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
