/* slots_vs_dict.c - a fixed-layout type versus a dict-backed record: the
 * __slots__ habit. A point stored as a struct with three fields costs one
 * small block; the same point as a dict {"x":..,"y":..,"z":..} costs a dict
 * with its table plus the boxed values. Each size is printed beside CPython
 * 3.11's for the same Python object, not checked against it
 * (bench/objects/sizes.sh holds every built-in to CPython's size). */
#include <recycle.h>
#include <stdio.h>

/* CPython 3.11 on a 64-bit machine, measured with python3 (the
 * expression beside each figure gives it again), with
 *     class P:
 *         __slots__ = ('x', 'y', 'z')
 *         def __init__(self, x, y, z): self.x = x; self.y = y; self.z = z
 *     class Q:                          # the same class without __slots__
 *         def __init__(self, x, y, z): self.x = x; self.y = y; self.z = z
 *     p = P(1.5, 2.5, 3.5); q = Q(1.5, 2.5, 3.5)
 *     d = {'x': 1.5, 'y': 2.5, 'z': 3.5}
 *     from sys import getsizeof as size */
static const size_t py_slots = 56;       /* size(p) */
static const size_t py_slots_deep = 128; /* size(p) + size(p.x) + size(p.y) + size(p.z) */
static const size_t py_dict = 184;       /* size(d) */
static const size_t py_dict_deep = 406;  /* size(d) + sum(size(k) + size(v) for k, v in d.items()) */
static const size_t py_inst = 352;       /* size(q) + size(q.__dict__) */
static const size_t py_inst_deep = 424;  /* size(q) + size(q.__dict__) + size(q.x) + size(q.y) + size(q.z) */

/* One line of the table: recycle's bytes (0: no such object in recycle),
 * CPython's, and their ratio. */
static void row(const char *what, size_t recycle, size_t cpython) {
    if (recycle)
        printf("%-46s %8zu %21zu %18.2fx\n", what, recycle, cpython,
               (double)recycle / (double)cpython);
    else
        printf("%-46s %8s %21zu\n", what, "-", cpython);
}

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
    printf("%-46s %8s %21s %19s\n", "bytes of the point (1.5, 2.5, 3.5)", "recycle",
           "CPython 3.11, 64-bit", "recycle / CPython");
    row("fixed-layout type / class with __slots__", rc_sizeof(&p->ob), py_slots);
    row("  with its three values", fixed, py_slots_deep);
    row("dict record {\"x\": 1.5, \"y\": 2.5, \"z\": 3.5}", rc_sizeof(d), py_dict);
    row("  with its keys and values", dict, py_dict_deep);
    row("instance without __slots__: object + __dict__", 0, py_inst);
    row("  with its values", 0, py_inst_deep);
    printf("(the values: three float objects in CPython, three doubles inside recycle's point)\n");
    printf("recycle: the dict record with its keys and values takes %.1fx the fixed-layout point\n",
           (double)dict / (double)fixed);
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
