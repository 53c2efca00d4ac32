/* objects_tour.c - the README's tour of objects and the collector, checked:
 * a dict with borrowed and new references, a user container type, a cycle
 * that only the collector can free, and a runtime freed with everything. */
#include <recycle.h>
#include <stdio.h>

typedef struct node { rc_obj ob; rc_obj *next; long value; } node;

static int node_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    node *n = (node *)self;
    return n->next ? visit(n->next, arg) : 0;
}

static void node_clear(rc_obj *self) {
    node *n = (node *)self;
    rc_obj *x = n->next;
    n->next = NULL;
    rc_xdecref(x);
}

static const rc_type node_type = { .name = "node", .size = sizeof(node), .flags = RC_TYPE_GC,
                                   .traverse = node_traverse, .clear = node_clear };

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    rc_obj *d = rc_dict(rt);
    rc_obj *k = rc_str(rt, "answer"), *v = rc_int(rt, 42);
    if (!d || !k || !v || rc_dict_set(rt, d, k, v) != 0)
        return 1;
    rc_decref(v);
    rc_obj *got = rc_dict_get(rt, d, k);            /* borrowed */
    rc_decref(k);

    node *a = (node *)rc_new(rt, &node_type), *b = (node *)rc_new(rt, &node_type);
    if (!a || !b)
        return 1;
    a->next = &b->ob;                               /* a owns our reference to b */
    rc_incref(&a->ob);
    b->next = &a->ob;                               /* a cycle */
    size_t before = rc_runtime_object_count(rt);
    rc_decref(&a->ob);                              /* unreachable, but not freed... */
    size_t after_decref = rc_runtime_object_count(rt);
    long found = rc_gc_collect(rt, 2);              /* ...until the collector finds it */
    size_t after_gc = rc_runtime_object_count(rt);

    printf("dict['answer'] = %lld, dict size %zu bytes\n", (long long)rc_int_value(got), rc_sizeof(d));
    printf("objects: %zu with the cycle, %zu after dropping it, %zu after rc_gc_collect (found %ld)\n",
           before, after_decref, after_gc, found);
    int ok = got && rc_int_value(got) == 42 && after_decref == before && found == 2 &&
             after_gc == before - 2;
    rc_decref(d);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
