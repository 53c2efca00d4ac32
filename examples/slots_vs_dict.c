/* slots_vs_dict.c - a fixed-layout type versus a dict-backed record: the
 * __slots__ habit. A point stored as a struct with three fields costs one
 * small block; the same point as a dict {"x":..,"y":..,"z":..} costs a dict
 * with its table plus the boxed values. */
#include <recycle.h>
#include <stdio.h>

typedef struct point { rc_obj ob; double x, y, z; } point;
static const rc_type point_type = { .name = "point", .size = sizeof(point) };

/* One record built each way, for rc_timeit (the time is printed, never
 * checked: it depends on the machine). */
typedef struct build { rc_runtime *rt; int failed; } build;

static void make_point(void *arg) {
    build *b = arg;
    point *p = (point *)rc_new(b->rt, &point_type);
    if (!p) {
        b->failed = 1;
        return;
    }
    p->x = 1.5;
    p->y = 2.5;
    p->z = 3.5;
    rc_decref(&p->ob);
}

static void make_dict(void *arg) {
    build *b = arg;
    static const char *const names[3] = { "x", "y", "z" };
    rc_obj *d = rc_dict(b->rt);
    for (int i = 0; d && i < 3; i++) {
        rc_obj *v = rc_float(b->rt, 1.5 + i);
        b->failed |= !v || rc_dict_set_str(b->rt, d, names[i], v) != 0;
        rc_xdecref(v);
    }
    b->failed |= d == NULL;
    rc_xdecref(d);
}

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    point *p = (point *)rc_new(rt, &point_type);
    if (!p)
        return 1;
    p->x = 1.5;
    p->y = 2.5;
    p->z = 3.5;

    rc_obj *d = rc_dict(rt);
    const char *names[3] = { "x", "y", "z" };
    double vals[3] = { 1.5, 2.5, 3.5 };
    for (int i = 0; i < 3; i++) {
        rc_obj *v = rc_float(rt, vals[i]);
        if (!v || rc_dict_set_str(rt, d, names[i], v) != 0)
            return 1;
        rc_decref(v);
    }
    size_t fixed = rc_deep_sizeof(rt, &p->ob);
    size_t dict = rc_deep_sizeof(rt, d);
    printf("point as a fixed-layout type: %zu bytes\n", fixed);
    printf("point as a dict record:       %zu bytes (%.1fx)\n", dict, (double)dict / (double)fixed);
    rc_obj *y = rc_dict_get_str(rt, d, "y");
    int ok = y && rc_float_value(y) == p->y && fixed < dict;
    build b = { rt, 0 };
    rc_timeit_result r;
    ok = ok && rc_timeit(make_point, &b, NULL, &r) == 0;
    printf("build a fixed-layout point:   ");
    ok = ok && rc_timeit_print(&r, stdout) == 0;
    ok = ok && rc_timeit(make_dict, &b, NULL, &r) == 0;
    printf("build a dict record:          ");
    ok = ok && rc_timeit_print(&r, stdout) == 0 && !b.failed;
    rc_decref(d);
    rc_decref(&p->ob);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
