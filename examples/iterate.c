/* iterate.c - iterating without building lists (the generator habit): an
 * rc_iter lives on the stack and walks a container in place, allocating
 * nothing; changing the container under it is an error, not a crash. */
#include <recycle.h>
#include <stdio.h>

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    rc_obj *d = rc_dict(rt);
    for (int i = 0; i < 1000 && d; i++) {
        rc_obj *k = rc_str_printf(rt, "key%d", i), *v = rc_int(rt, i * i);
        if (!k || !v || rc_dict_set(rt, d, k, v) != 0)
            return 1;
        rc_decref(k);
        rc_decref(v);
    }
    size_t objects = rc_runtime_object_count(rt);
    rc_iter it;
    rc_obj *k, *v;
    int64_t sum = 0;
    int r;
    rc_iter_init(&it, d);
    while ((r = rc_dict_next(rt, &it, &k, &v)) == 1)
        sum += rc_int_value(v);
    printf("sum of 1000 squares by iteration: %lld (objects created while iterating: %zu)\n",
           (long long)sum, rc_runtime_object_count(rt) - objects);
    int ok = r == 0 && sum == 332833500 && rc_runtime_object_count(rt) == objects;
    /* modifying during iteration is detected */
    rc_iter_init(&it, d);
    rc_dict_next(rt, &it, &k, &v);
    rc_obj *nk = rc_str(rt, "new");
    rc_dict_set(rt, d, nk, nk);
    r = rc_dict_next(rt, &it, &k, &v);
    printf("after adding a key mid-iteration: %s\n", r == RC_ESTATE ? "RC_ESTATE" : "no error?");
    ok = ok && r == RC_ESTATE;
    rc_decref(nk);
    rc_decref(d);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
