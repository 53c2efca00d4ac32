/* census.c - objgraph's census over a million objects, for
 * bench/objects/census.sh: N objects of a program's shape (orders and
 * customers, user types with a destroy and several fields, and a dict per
 * customer), then the time of rc_objgraph_most_common_types, of the first
 * rc_objgraph_growth and of a second one after N/100 more orders.
 *
 *   census N   prints the census and "@ mct_ns=... growth_ns=... growth2_ns=..." */
#define _POSIX_C_SOURCE 200809L
#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct order {
    rc_obj ob;
    int64_t id;
    double total;
    rc_obj *customer;       /* a customer */
    rc_obj *lines;          /* NULL here */
} order;

typedef struct customer {
    rc_obj ob;
    int64_t id;
    rc_obj *attrs;          /* a dict */
} customer;

static int order_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    order *o = (order *)self;
    if (o->customer && visit(o->customer, arg))
        return 1;
    return o->lines ? visit(o->lines, arg) : 0;
}
static void order_clear(rc_obj *self) {
    order *o = (order *)self;
    rc_obj *c = o->customer, *l = o->lines;
    o->customer = o->lines = NULL;
    rc_xdecref(c);
    rc_xdecref(l);
}
static int customer_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    customer *c = (customer *)self;
    return c->attrs ? visit(c->attrs, arg) : 0;
}
static void customer_clear(rc_obj *self) {
    customer *c = (customer *)self;
    rc_obj *a = c->attrs;
    c->attrs = NULL;
    rc_xdecref(a);
}
static const rc_type order_type = {
    .name = "Order", .size = sizeof(order), .flags = RC_TYPE_GC,
    .traverse = order_traverse, .clear = order_clear, .destroy = order_clear,
};
static const rc_type customer_type = {
    .name = "Customer", .size = sizeof(customer), .flags = RC_TYPE_GC,
    .traverse = customer_traverse, .clear = customer_clear, .destroy = customer_clear,
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static rc_obj *make_order(rc_runtime *rt, rc_obj *customers, int64_t i, size_t ncust) {
    order *o = (order *)rc_new(rt, &order_type);
    if (!o)
        exit(1);
    o->id = i;
    o->total = (double)i * 1.5;
    o->customer = rc_list_get(rt, customers, (size_t)i % ncust);
    rc_incref(o->customer);
    return &o->ob;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    rc_runtime *rt = rc_runtime_new(NULL);
    rc_gc_disable(rt);   /* building, not collecting, is not what is measured */
    size_t ncust = n * 3 / 10, ndict = ncust, norders = n - ncust - ndict;
    rc_obj *customers = rc_list(rt), *orders = rc_list(rt), *key = rc_str(rt, "tier");
    for (size_t i = 0; i < ncust; i++) {
        customer *c = (customer *)rc_new(rt, &customer_type);
        rc_obj *tier = rc_int(rt, (int64_t)(i % 3));
        if (!c || !(c->attrs = rc_dict(rt)) || rc_dict_set(rt, c->attrs, key, tier) != 0 ||
            rc_list_append(rt, customers, &c->ob) != 0)
            return 1;
        c->id = (int64_t)i;
        rc_decref(tier);
        rc_decref(&c->ob);
    }
    for (size_t i = 0; i < norders; i++) {
        rc_obj *o = make_order(rt, customers, (int64_t)i, ncust);
        if (rc_list_append(rt, orders, o) != 0)
            return 1;
        rc_decref(o);
    }
    uint64_t t0 = now_ns();
    rc_obj *mct = rc_objgraph_most_common_types(rt, 10);
    uint64_t t1 = now_ns();
    rc_obj *g1 = rc_objgraph_growth(rt, 10);
    uint64_t t2 = now_ns();
    for (size_t i = 0; i < n / 100; i++) {
        rc_obj *o = make_order(rt, customers, (int64_t)i, ncust);
        if (rc_list_append(rt, orders, o) != 0)
            return 1;
        rc_decref(o);
    }
    uint64_t t3 = now_ns();
    rc_obj *g2 = rc_objgraph_growth(rt, 10);
    uint64_t t4 = now_ns();
    if (!mct || !g1 || !g2)
        return 1;
    for (size_t i = 0; i < rc_list_len(mct) && i < 3; i++) {
        rc_obj *row = rc_list_get(rt, mct, i);
        printf("%s %lld\n", rc_str_data(rc_tuple_get(rt, row, 0)),
               (long long)rc_int_value(rc_tuple_get(rt, row, 1)));
    }
    rc_obj *row = rc_list_get(rt, g2, 0);
    printf("growth %s %lld %+lld\n", rc_str_data(rc_tuple_get(rt, row, 0)),
           (long long)rc_int_value(rc_tuple_get(rt, row, 1)),
           (long long)rc_int_value(rc_tuple_get(rt, row, 2)));
    printf("@ objects=%zu mct_ns=%llu growth_ns=%llu growth2_ns=%llu\n", n,
           (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1),
           (unsigned long long)(t4 - t3));
    rc_decref(mct);
    rc_decref(g1);
    rc_decref(g2);
    rc_decref(orders);
    rc_decref(customers);
    rc_decref(key);
    rc_runtime_free(rt);
    return 0;
}
