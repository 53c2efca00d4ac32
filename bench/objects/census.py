"""census.py - objgraph's census over a million Python objects, the
counterpart of bench/objects/census.c: orders and customers (classes with
several attributes, as a program writes them) and a dict per customer, then
objgraph.most_common_types, a first objgraph.growth and a second one after
N/100 more orders. Prints the census and "@ objects=... mct_ns=... ..."."""
import gc
import sys
import time

import objgraph


class Customer:
    __slots__ = ("id", "attrs")

    def __init__(self, i):
        self.id = i
        self.attrs = {"tier": i % 3}


class Order:
    __slots__ = ("id", "total", "customer", "lines")

    def __init__(self, i, customer):
        self.id = i
        self.total = i * 1.5
        self.customer = customer
        self.lines = None


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    gc.disable()
    ncust = n * 3 // 10
    norders = n - 2 * ncust
    customers = [Customer(i) for i in range(ncust)]
    orders = [Order(i, customers[i % ncust]) for i in range(norders)]
    t0 = time.perf_counter_ns()
    mct = objgraph.most_common_types(limit=10)
    t1 = time.perf_counter_ns()
    objgraph.growth(limit=10)
    t2 = time.perf_counter_ns()
    orders.extend(Order(i, customers[i % ncust]) for i in range(n // 100))
    t3 = time.perf_counter_ns()
    g2 = objgraph.growth(limit=10)
    t4 = time.perf_counter_ns()
    for name, count in mct[:3]:
        print(name, count)
    print("growth", *g2[0][:1], g2[0][1], "%+d" % g2[0][2])
    print("@ objects=%d mct_ns=%d growth_ns=%d growth2_ns=%d" % (n, t1 - t0, t2 - t1, t4 - t3))


main()
