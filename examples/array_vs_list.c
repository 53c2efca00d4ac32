/* array_vs_list.c - a typed array stores raw numbers (8 bytes each for i64);
 * a list of ints stores a pointer per item plus an int object per value. */
#include <recycle.h>
#include <stdio.h>

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
    rc_decref(arr);
    rc_decref(lst);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
