/* tuple_vs_list.c - an immutable tuple is a single block sized exactly for
 * its items; a list keeps a separate, over-allocated item array so that it
 * can grow. Prefer tuples for fixed records. */
#include <recycle.h>
#include <stdio.h>

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    rc_obj *a = rc_int(rt, 1000), *b = rc_int(rt, 2000), *c = rc_int(rt, 3000);
    rc_obj *t = rc_tuple(rt, 3, a, b, c);
    rc_obj *l = rc_list(rt);
    if (!a || !b || !c || !t || !l)
        return 1;
    rc_obj *items[3] = { a, b, c };
    for (int i = 0; i < 3; i++)
        if (rc_list_append(rt, l, items[i]) != 0)
            return 1;
    printf("tuple of 3: %zu bytes\n", rc_sizeof(t));
    printf("list of 3:  %zu bytes\n", rc_sizeof(l));
    /* equal contents, but only the tuple can be a dict key */
    uint64_t h;
    int tuple_hashable = rc_hash(rt, t, &h) == 0;
    int list_hashable = rc_hash(rt, l, &h) == 0;
    printf("tuple hashable: %s, list hashable: %s\n", tuple_hashable ? "yes" : "no",
           list_hashable ? "yes" : "no");
    int ok = tuple_hashable && !list_hashable && rc_sizeof(t) <= rc_sizeof(l);
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(t);
    rc_decref(l);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
