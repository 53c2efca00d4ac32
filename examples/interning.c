/* interning.c - equal strings built separately are separate objects; interned
 * they are one shared, immortal object, so a million records with the same
 * field names store one copy of each name. */
#include <recycle.h>
#include <stdio.h>

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    rc_obj *a = rc_str(rt, "customer_id"), *b = rc_str(rt, "customer_id");
    rc_obj *ia = rc_str_intern(rt, "customer_id"), *ib = rc_str_intern(rt, "customer_id");
    if (!a || !b || !ia || !ib)
        return 1;
    printf("rc_str twice:        %s objects (%zu bytes each)\n", a == b ? "the same" : "two", rc_sizeof(a));
    printf("rc_str_intern twice: %s object\n", ia == ib ? "one" : "two");
    int ok = a != b && ia == ib && rc_equal(rt, a, ia) == 1 && rc_is_immortal(ia);
    /* 10000 records keyed by the interned name cost no extra copies of it */
    size_t before = rc_runtime_object_count(rt);
    rc_obj *records = rc_list(rt);
    for (int i = 0; i < 10000 && records; i++) {
        rc_obj *rec = rc_dict(rt), *v = rc_int(rt, i);
        if (!rec || !v || rc_dict_set(rt, rec, rc_str_intern(rt, "customer_id"), v) != 0 ||
            rc_list_append(rt, records, rec) != 0)
            return 1;
        rc_decref(v);
        rc_decref(rec);
    }
    size_t objects = rc_runtime_object_count(rt) - before;
    printf("10000 records: %zu objects (no str among them)\n", objects);
    ok = ok && objects <= 1 + 10000 + 10000;
    rc_decref(records);
    rc_decref(a);
    rc_decref(b);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
