/* interning.c - equal strings built separately are separate objects; interned
 * they are one shared, immortal object, so a million records with the same
 * field names store one copy of each name. */
#include <recycle.h>
#include <stdio.h>

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
    name nm = { rt, 0 };
    rc_timeit_result r;
    ok = ok && rc_timeit(new_str, &nm, NULL, &r) == 0;
    printf("rc_str each time:        ");
    ok = ok && rc_timeit_print(&r, stdout) == 0;
    ok = ok && rc_timeit(interned_str, &nm, NULL, &r) == 0;
    printf("rc_str_intern each time: ");
    ok = ok && rc_timeit_print(&r, stdout) == 0 && !nm.failed;
    rc_decref(records);
    rc_decref(a);
    rc_decref(b);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
