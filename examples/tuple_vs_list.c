/* tuple_vs_list.c - an immutable tuple is a single block sized exactly for
 * its items; a list keeps a separate, over-allocated item array so that it
 * can grow. Prefer tuples for fixed records. Each size is printed beside
 * CPython 3.11's for the same Python object, not checked against it
 * (bench/objects/sizes.sh holds every built-in to CPython's size). The time
 * to build each is printed as python -m timeit prints it (never checked: it
 * depends on the machine). */
#include <recycle.h>
#include <stdio.h>

/* CPython 3.11 on a 64-bit machine, measured with python3 (the
 * expression beside each figure gives it again), with
 *     t = (1000, 2000, 3000)
 *     l = []; l.append(1000); l.append(2000); l.append(3000)
 *     from sys import getsizeof as size */
static const size_t py_tuple = 64;       /* size(t) */
static const size_t py_list = 88;        /* size(l) */
static const size_t py_tuple_deep = 148; /* size(t) + sum(map(size, t)) */
static const size_t py_list_deep = 172;  /* size(l) + sum(map(size, l)) */

/* One line of the table: recycle's bytes, CPython's, and their ratio. */
static void row(const char *what, size_t recycle, size_t cpython) {
    printf("%-34s %8zu %21zu %18.2fx\n", what, recycle, cpython, (double)recycle / (double)cpython);
}

typedef struct build { rc_runtime *rt; rc_obj *items[3]; int failed; } build;

static void build_tuple(void *arg) {
    build *b = arg;
    rc_obj *t = rc_tuple(b->rt, 3, b->items[0], b->items[1], b->items[2]);
    b->failed |= t == NULL;
    rc_xdecref(t);
}

static void build_list(void *arg) {
    build *b = arg;
    rc_obj *l = rc_list(b->rt);
    b->failed |= l == NULL;
    for (int i = 0; l && i < 3; i++)
        b->failed |= rc_list_append(b->rt, l, b->items[i]) != 0;
    rc_xdecref(l);
}

static int time_it(const char *label, rc_timeit_fn fn, build *b) {
    rc_timeit_result r;
    if (rc_timeit(fn, b, NULL, &r) != 0)
        return 0;
    printf("%-26s", label);
    return rc_timeit_print(&r, stdout) == 0;
}

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
    printf("%-34s %8s %21s %19s\n", "bytes of 1000, 2000, 3000 in a", "recycle",
           "CPython 3.11, 64-bit", "recycle / CPython");
    row("tuple", rc_sizeof(t), py_tuple);
    row("list (three appends)", rc_sizeof(l), py_list);
    row("tuple with its three ints", rc_deep_sizeof(rt, t), py_tuple_deep);
    row("list with its three ints", rc_deep_sizeof(rt, l), py_list_deep);
    /* equal contents, but only the tuple can be a dict key */
    uint64_t h;
    int tuple_hashable = rc_hash(rt, t, &h) == 0;
    int list_hashable = rc_hash(rt, l, &h) == 0;
    printf("tuple hashable: %s, list hashable: %s\n", tuple_hashable ? "yes" : "no",
           list_hashable ? "yes" : "no");
    int ok = tuple_hashable && !list_hashable && rc_sizeof(t) <= rc_sizeof(l);
    build bt = { rt, { a, b, c }, 0 };
    ok = ok && time_it("build a tuple of 3:", build_tuple, &bt);
    ok = ok && time_it("build a list of 3:", build_list, &bt) && !bt.failed;
    rc_decref(a);
    rc_decref(b);
    rc_decref(c);
    rc_decref(t);
    rc_decref(l);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
