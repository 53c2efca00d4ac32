/* test_objgraph.c - objgraph over a runtime's objects (recycle/gc.h):
 * exact counts per type and their order, growth against the highest count
 * seen, objects by type name, back-reference chains (found, not within the
 * depth, the object itself a root, a predicate that allocates while
 * collection is due), the DOT output parsed back (nodes, edges, the cycle's
 * references red and the others not, the start filled, the "N more" box,
 * references backwards), a write error, the SVG through Graphviz and the
 * message when dot is missing, and each during an incremental collection
 * and with the tracer on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <recycle.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rct.h"
#include "rct_gnode.h"

typedef rct_gnode gnode;

static void gnode_destroy(rc_obj *self) {
    rct_gnode_drop_slots((gnode *)self);
}

static void gnode_clear(rc_obj *self) {
    rct_gnode_drop_slots((gnode *)self);
}

static int gnode_repr(rc_obj *self, char *buf, size_t len) {
    return snprintf(buf, len, "<og_node #%d \"q\">", ((gnode *)self)->id);
}

static const rc_type node_type = {
    .name = "og_node", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
    .repr = gnode_repr,
};
static const rc_type leaf_type = {
    .name = "og_leaf", .size = sizeof(gnode), .flags = RC_TYPE_GC,
    .traverse = rct_gnode_traverse, .clear = gnode_clear, .destroy = gnode_destroy,
};

static int g_next_id;

static gnode *mk(rc_runtime *rt, const rc_type *t) {
    gnode *n = (gnode *)rc_new(rt, t);
    assert_non_null(n);
    n->id = g_next_id++;
    return n;
}

static void link_(gnode *a, int i, void *b) {
    assert_null(a->slot[i]);
    a->slot[i] = b;
    rc_incref(b);
}

static rc_runtime *new_rt(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    assert_non_null(rt);
    return rt;
}

/* The count the row of name has in a [(name, count[, increase])] list;
 * -1 when absent. With inc, the increase too. */
static long row_of(rc_obj *rows, const char *name, long *inc) {
    rc_runtime *rt = rc_runtime_of(rows);
    for (size_t i = 0; i < rc_list_len(rows); i++) {
        rc_obj *row = rc_list_get(rt, rows, i);
        if (rc_str_equal_cstr(rc_tuple_get(rt, row, 0), name)) {
            if (inc)
                *inc = rc_tuple_len(row) > 2 ? (long)rc_int_value(rc_tuple_get(rt, row, 2)) : -1;
            return (long)rc_int_value(rc_tuple_get(rt, row, 1));
        }
    }
    return -1;
}

/* ---- counts ---------------------------------------------------------------------- */

static void test_most_common_types(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    gnode *nodes[7], *leaves[3];
    for (int i = 0; i < 7; i++)
        nodes[i] = mk(rt, &node_type);
    for (int i = 0; i < 3; i++)
        leaves[i] = mk(rt, &leaf_type);
    rc_obj *rows = rc_objgraph_most_common_types(rt, 0);
    assert_non_null(rows);
    assert_int_equal(row_of(rows, "og_node", NULL), 7);
    assert_int_equal(row_of(rows, "og_leaf", NULL), 3);
    /* the commonest first, ties by name */
    for (size_t i = 1; i < rc_list_len(rows); i++) {
        rc_obj *a = rc_list_get(rt, rows, i - 1), *b = rc_list_get(rt, rows, i);
        int64_t ca = rc_int_value(rc_tuple_get(rt, a, 1)), cb = rc_int_value(rc_tuple_get(rt, b, 1));
        assert_true(ca > cb || (ca == cb && strcmp(rc_str_data(rc_tuple_get(rt, a, 0)),
                                                   rc_str_data(rc_tuple_get(rt, b, 0))) < 0));
    }
    rc_decref(rows);
    rows = rc_objgraph_most_common_types(rt, 1);
    assert_int_equal(rc_list_len(rows), 1);
    rc_decref(rows);
    /* freed objects are no longer counted */
    rc_decref(&nodes[0]->ob);
    rc_decref(&nodes[1]->ob);
    rows = rc_objgraph_most_common_types(rt, 0);
    assert_int_equal(row_of(rows, "og_node", NULL), 5);
    rc_decref(rows);
    for (int i = 2; i < 7; i++)
        rc_decref(&nodes[i]->ob);
    for (int i = 0; i < 3; i++)
        rc_decref(&leaves[i]->ob);
    rows = rc_objgraph_most_common_types(rt, 0);
    assert_int_equal(row_of(rows, "og_node", NULL), -1);
    rc_decref(rows);
    rc_runtime_free(rt);
}

static void test_growth(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    rc_obj *g = rc_objgraph_growth(rt, 0);   /* the first call: everything */
    assert_non_null(g);
    rc_decref(g);
    gnode *nodes[9];
    for (int i = 0; i < 5; i++)
        nodes[i] = mk(rt, &node_type);
    long inc;
    g = rc_objgraph_growth(rt, 0);
    assert_int_equal(row_of(g, "og_node", &inc), 5);
    assert_int_equal(inc, 5);
    /* largest increase first */
    for (size_t i = 1; i < rc_list_len(g); i++)
        assert_true(rc_int_value(rc_tuple_get(rt, rc_list_get(rt, g, i - 1), 2)) >=
                    rc_int_value(rc_tuple_get(rt, rc_list_get(rt, g, i), 2)));
    rc_decref(g);
    g = rc_objgraph_growth(rt, 0);            /* nothing new */
    assert_int_equal(row_of(g, "og_node", NULL), -1);
    rc_decref(g);
    rc_decref(&nodes[0]->ob);
    rc_decref(&nodes[1]->ob);
    nodes[0] = mk(rt, &node_type);            /* 4: under the peak of 5 */
    g = rc_objgraph_growth(rt, 0);
    assert_int_equal(row_of(g, "og_node", NULL), -1);
    rc_decref(g);
    nodes[1] = mk(rt, &node_type);
    for (int i = 5; i < 8; i++)
        nodes[i] = mk(rt, &node_type);        /* 8: 3 above the peak */
    g = rc_objgraph_growth(rt, 1);
    assert_int_equal(rc_list_len(g), 1);
    assert_int_equal(row_of(g, "og_node", &inc), 8);
    assert_int_equal(inc, 3);
    rc_decref(g);
    for (int i = 0; i < 8; i++)
        rc_decref(&nodes[i]->ob);
    rc_runtime_free(rt);
}

static void test_by_type(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    gnode *nodes[4];
    for (int i = 0; i < 4; i++)
        nodes[i] = mk(rt, &node_type);
    gnode *leaf = mk(rt, &leaf_type);
    rc_obj *list = rc_objgraph_by_type(rt, "og_node");
    assert_non_null(list);
    assert_int_equal(rc_list_len(list), 4);
    for (int i = 0; i < 4; i++) {
        int seen = 0;
        for (size_t k = 0; k < 4; k++)
            seen += rc_list_get(rt, list, k) == &nodes[i]->ob;
        assert_int_equal(seen, 1);
        assert_int_equal(rc_refcount(&nodes[i]->ob), 2);
    }
    rc_decref(list);
    assert_int_equal(rc_refcount(&nodes[0]->ob), 1);
    list = rc_objgraph_by_type(rt, "no such type");
    assert_int_equal(rc_list_len(list), 0);
    rc_decref(list);
    assert_null(rc_objgraph_by_type(rt, NULL));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    for (int i = 0; i < 4; i++)
        rc_decref(&nodes[i]->ob);
    rc_decref(&leaf->ob);
    rc_runtime_free(rt);
}

/* ---- back-reference chains ---------------------------------------------------------- */

static int is_this(rc_obj *candidate, void *arg) {
    return candidate == arg;
}

static int allocating_root(rc_obj *candidate, void *arg) {
    /* enough containers to trigger several young collections */
    rc_runtime *rt = rc_runtime_of(candidate);
    for (int i = 0; i < 2000; i++) {
        rc_obj *l = rc_list(rt);
        rc_decref(l);
    }
    return candidate == arg;
}

static void test_backref_chain(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    /* registry (dict) -> list -> n, and n in a cycle with m */
    rc_obj *registry = rc_dict(rt), *holder = rc_list(rt), *key = rc_str(rt, "sessions");
    gnode *n = mk(rt, &node_type), *m = mk(rt, &node_type);
    link_(n, 0, m);
    link_(m, 0, n);
    assert_int_equal(rc_list_append(rt, holder, &n->ob), 0);
    assert_int_equal(rc_dict_set(rt, registry, key, holder), 0);
    rc_decref(key);
    rc_decref(holder);
    rc_decref(&m->ob);

    rc_obj *chain = rc_objgraph_find_backref_chain(rt, &n->ob, is_this, registry, 10);
    assert_non_null(chain);
    assert_int_equal(rc_list_len(chain), 3);
    assert_ptr_equal(rc_list_get(rt, chain, 0), registry);
    assert_ptr_equal(rc_list_get(rt, chain, 1), holder);
    assert_ptr_equal(rc_list_get(rt, chain, 2), &n->ob);
    rc_decref(chain);
    /* two steps suffice, one does not */
    chain = rc_objgraph_find_backref_chain(rt, &n->ob, is_this, registry, 2);
    assert_int_equal(rc_list_len(chain), 3);
    rc_decref(chain);
    chain = rc_objgraph_find_backref_chain(rt, &n->ob, is_this, registry, 1);
    assert_int_equal(rc_list_len(chain), 1);
    assert_ptr_equal(rc_list_get(rt, chain, 0), &n->ob);
    rc_decref(chain);
    /* the object itself a root */
    chain = rc_objgraph_find_backref_chain(rt, &n->ob, is_this, &n->ob, 0);
    assert_int_equal(rc_list_len(chain), 1);
    rc_decref(chain);
    /* a predicate that allocates while a collection is due: collection
     * waits, and is back on afterwards */
    assert_true(rc_gc_isenabled(rt));
    chain = rc_objgraph_find_backref_chain(rt, &n->ob, allocating_root, registry, 10);
    assert_int_equal(rc_list_len(chain), 3);
    rc_decref(chain);
    assert_true(rc_gc_isenabled(rt));
    /* bad arguments */
    assert_null(rc_objgraph_find_backref_chain(rt, NULL, is_this, registry, 3));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_null(rc_objgraph_find_backref_chain(rt, &n->ob, NULL, registry, 3));
    assert_int_equal(rc_error(rt), RC_EINVAL);
    assert_int_equal(rc_refcount(&n->ob), 3);   /* ours, holder's, m's */
    rc_decref(&n->ob);
    rc_decref(registry);
    assert_true(rc_gc_collect(rt, 2) >= 2);
    rc_runtime_free(rt);
}

/* ---- DOT -------------------------------------------------------------------------------- */

typedef struct dot {
    char *text;
    size_t len;
    int nodes, edges, red_edges, more, filled;
} dot;

static int write_to(rc_runtime *rt, rc_obj *const *objs, size_t n, size_t depth, int back,
                    dot *d) {
    memset(d, 0, sizeof *d);
    FILE *f = open_memstream(&d->text, &d->len);
    assert_non_null(f);
    int r = rc_objgraph_write_dot(rt, objs, n, depth, back, f);
    fclose(f);
    char *copy = strdup(d->text);
    assert_non_null(copy);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "  o", 3) == 0 && strstr(line, "[label=")) {
            d->nodes++;
            d->filled += strstr(line, "fillcolor=\"#c8f0c8\"") != NULL;
        } else if (strstr(line, " -> ")) {
            d->edges++;
            d->red_edges += strstr(line, "color=red") != NULL;
        } else if (strncmp(line, "  m", 3) == 0) {
            d->more++;
        }
    }
    free(copy);
    return r;
}

static bool has_edge(const char *text, int from, int to, bool red) {
    char want[64];
    snprintf(want, sizeof want, "  o%d -> o%d%s", from, to, red ? " [color=red" : ";");
    return strstr(text, want) != NULL;
}

static void test_write_dot(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    /* a -> b -> c -> a (a cycle), a -> d */
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type), *c = mk(rt, &node_type);
    gnode *d = mk(rt, &leaf_type);
    link_(a, 0, b);
    link_(b, 0, c);
    link_(c, 0, a);
    link_(a, 1, d);
    rc_obj *start = &a->ob;
    dot g;
    assert_int_equal(write_to(rt, &start, 1, 5, 0, &g), 0);
    /* breadth first: a o0, b o1, d o2, c o3 */
    assert_int_equal(g.nodes, 4);
    assert_int_equal(g.edges, 4);
    assert_int_equal(g.red_edges, 3);
    assert_int_equal(g.filled, 1);
    assert_true(strstr(g.text, "digraph ObjectGraph {") == g.text);
    assert_true(strstr(g.text, "o0 [label=\"og_node\\n") != NULL);
    assert_true(strstr(g.text, "<og_node #") != NULL);
    assert_true(strstr(g.text, "\\\"q\\\"") != NULL);   /* the repr's quotes escaped */
    assert_true(has_edge(g.text, 0, 1, true));
    assert_true(has_edge(g.text, 1, 3, true));
    assert_true(has_edge(g.text, 3, 0, true));
    assert_true(has_edge(g.text, 0, 2, false));
    free(g.text);
    /* depth 1: a, b, d; the references of b and d not followed */
    write_to(rt, &start, 1, 1, 0, &g);
    assert_int_equal(g.nodes, 3);
    assert_int_equal(g.red_edges, 0);
    free(g.text);
    /* backwards from c, one step: b refers to it */
    rc_obj *from_c = &c->ob;
    write_to(rt, &from_c, 1, 1, 1, &g);
    assert_int_equal(g.nodes, 2);
    assert_true(has_edge(g.text, 1, 0, false));
    free(g.text);
    /* backwards all the way round: the cycle again, red */
    write_to(rt, &from_c, 1, 5, 1, &g);
    assert_int_equal(g.nodes, 3);
    assert_int_equal(g.red_edges, 3);
    free(g.text);

    /* a list of 25 objects: 10 drawn and a "15 more" box */
    rc_obj *list = rc_list(rt);
    for (int i = 0; i < 25; i++) {
        rc_obj *s = rc_str_printf(rt, "item %d", i);
        assert_int_equal(rc_list_append(rt, list, s), 0);
        rc_decref(s);
    }
    write_to(rt, &list, 1, 3, 0, &g);
    assert_int_equal(g.nodes, 1 + RC_OBJGRAPH_TOO_MANY);
    assert_int_equal(g.more, 1);
    assert_true(strstr(g.text, "[label=\"15 more\"") != NULL);
    assert_true(strstr(g.text, "len 25") != NULL);
    free(g.text);

    /* errors */
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        assert_int_equal(rc_objgraph_write_dot(rt, &start, 1, 3, 0, full), RC_EIO);
        fclose(full);
    }
    assert_int_equal(rc_objgraph_write_dot(rt, &start, 1, 3, 0, NULL), RC_EINVAL);
    rc_obj *none[1] = {NULL};
    assert_int_equal(rc_objgraph_write_dot(rt, none, 1, 3, 0, stdout), RC_EINVAL);

    rc_decref(list);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_decref(&c->ob);
    rc_decref(&d->ob);
    rc_runtime_free(rt);
}

/* ---- SVG through Graphviz --------------------------------------------------------------- */

static bool dot_installed(void) {
    return system("command -v dot > /dev/null 2>&1") == 0;
}

static void test_write_svg(void **state) {
    (void)state;
    rc_runtime *rt = new_rt();
    gnode *a = mk(rt, &node_type), *b = mk(rt, &node_type);
    link_(a, 0, b);
    link_(b, 0, a);
    rc_obj *start = &a->ob;
    char dir[] = "/tmp/rct-objgraph.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/graph.svg", dir);
    if (dot_installed()) {
        assert_int_equal(rc_objgraph_write_svg(rt, &start, 1, 3, 0, path), 0);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        char head[4096] = {0};
        size_t got = fread(head, 1, sizeof head - 1, f);
        fclose(f);
        assert_true(got > 100);
        assert_non_null(strstr(head, "<svg"));
        assert_non_null(strstr(head, "og_node"));
        unlink(path);
    } else if (getenv("CI")) {
        fail_msg("Graphviz's dot is missing (make deps installs graphviz)");
    }
    /* without dot on PATH: a message that says what to install, no file */
    const char *old = getenv("PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("PATH", dir, 1);
    assert_int_equal(rc_objgraph_write_svg(rt, &start, 1, 3, 0, path), RC_EIO);
    assert_non_null(strstr(rc_error_message(rt), "graphviz"));
    if (saved) {
        setenv("PATH", saved, 1);
        free(saved);
    }
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rmdir %s", dir);
    assert_int_equal(system(cmd), 0);   /* empty: no temporary file left */
    assert_int_equal(rc_objgraph_write_svg(rt, &start, 1, 3, 0, ""), RC_EINVAL);
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    rc_runtime_free(rt);
}

/* ---- why is it alive? ------------------------------------------------------------------- */

static char *why(rc_runtime *rt, rc_obj *o, size_t held, size_t depth) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(rc_objgraph_why_alive(rt, o, held, depth, f), 0);
    fclose(f);
    return text;
}

static int count_lines_starting(const char *text, const char *prefix) {
    int n = 0;
    for (const char *p = text; p; p = strchr(p, '\n')) {
        if (*p == '\n')
            p++;
        n += strncmp(p, prefix, strlen(prefix)) == 0;
    }
    return n;
}

static void test_why_alive(void **state) {
    (void)state;
    int traced = rc_trace_start(8) == 0;
    rc_runtime *rt = new_rt();
    /* holder (held here) -> n <-> m */
    rc_obj *holder = rc_list(rt);
    gnode *n = mk(rt, &node_type), *m = mk(rt, &node_type);
    link_(n, 0, m);
    link_(m, 0, n);
    assert_int_equal(rc_list_append(rt, holder, &n->ob), 0);
    rc_decref(&m->ob);
    rc_decref(&n->ob);   /* borrowed from here on: the holder and m keep it */
    char *t = why(rt, &m->ob, 0, 10);
    /* holder -> n -> m: three rows, the root the list with 1 outside */
    assert_non_null(strstr(t, "why is og_node <og_node #"));
    assert_int_equal(count_lines_starting(t, "   0 "), 1);
    assert_int_equal(count_lines_starting(t, "   2 "), 1);
    assert_int_equal(count_lines_starting(t, "   3 "), 0);
    assert_non_null(strstr(t, "list len 1"));
    assert_non_null(strstr(t, "is held from outside the objects the collector tracks"));
    assert_non_null(strstr(t, "1 of its 1 references"));
    if (traced) {
        assert_non_null(strstr(t, "allocated at:"));
        assert_non_null(strstr(t, "test_objgraph.c:"));
    }
    free(t);
    /* n is held by us too (held 1 says so): the list is still the root */
    rc_incref(&n->ob);
    t = why(rt, &n->ob, 1, 10);
    assert_int_equal(count_lines_starting(t, "   1 "), 1);
    assert_int_equal(count_lines_starting(t, "   2 "), 0);
    free(t);
    /* without held, our reference makes n its own root */
    t = why(rt, &n->ob, 0, 10);
    assert_int_equal(count_lines_starting(t, "   0 "), 1);
    assert_int_equal(count_lines_starting(t, "   1 "), 0);
    free(t);
    rc_decref(&n->ob);
    /* not within one step back */
    t = why(rt, &m->ob, 0, 1);
    assert_non_null(strstr(t, "no object held from outside within 1 steps back"));
    free(t);
    /* cyclic garbage: a pair nothing else holds */
    gnode *p = mk(rt, &leaf_type), *q = mk(rt, &leaf_type);
    link_(p, 0, q);
    link_(q, 0, p);
    rc_decref(&q->ob);
    rc_decref(&p->ob);
    t = why(rt, &p->ob, 0, 10);
    assert_non_null(strstr(t, "it is cyclic garbage"));
    free(t);
    assert_true(rc_gc_collect(rt, 2) >= 2);

    /* by type: three nodes in the holder, one in a dict held here */
    for (int i = 0; i < 2; i++) {
        gnode *x = mk(rt, &node_type);
        assert_int_equal(rc_list_append(rt, holder, &x->ob), 0);
        rc_decref(&x->ob);
    }
    rc_obj *registry = rc_dict(rt), *k = rc_str(rt, "k");
    gnode *y = mk(rt, &node_type);
    assert_int_equal(rc_dict_set(rt, registry, k, &y->ob), 0);
    rc_decref(k);
    rc_decref(&y->ob);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_int_equal(rc_objgraph_why_alive_type(rt, "og_node", 1, 10, f), 0);
    fclose(f);
    /* n, the two new ones: list -> og_node; m: list -> og_node -> og_node;
     * y: dict -> og_node; the commonest first, one full answer */
    assert_non_null(strstr(text, "5 og_node objects, by the chain of types"));
    assert_non_null(strstr(text, "       3   60.0%  list -> og_node\n"));
    assert_non_null(strstr(text, "       1   20.0%  dict -> og_node\n"));
    assert_non_null(strstr(text, "       1   20.0%  list -> og_node -> og_node\n"));
    assert_int_equal(count_lines_starting(text, "why is og_node"), 1);
    free(text);
    assert_int_equal(rc_objgraph_why_alive(rt, NULL, 0, 3, stdout), RC_EINVAL);
    assert_int_equal(rc_objgraph_why_alive_type(rt, NULL, 0, 3, stdout), RC_EINVAL);
    assert_true(rc_gc_isenabled(rt));
    rc_decref(registry);
    rc_decref(holder);
    rc_runtime_free(rt);
    if (traced)
        rc_trace_stop();
}

/* ---- with the other features ------------------------------------------------------------ */

static void test_during_incremental_and_traced(void **state) {
    (void)state;
    int traced = rc_trace_start(8) == 0;
    rc_runtime *rt = new_rt();
    gnode *keep[50];
    for (int i = 0; i < 50; i++)
        keep[i] = mk(rt, &node_type);
    for (int i = 0; i < 200; i++) {   /* cyclic garbage for the collection */
        gnode *x = mk(rt, &leaf_type), *y = mk(rt, &leaf_type);
        link_(x, 0, y);
        link_(y, 0, x);
        rc_decref(&x->ob);
        rc_decref(&y->ob);
    }
    rc_gc_set_incremental(rt, 16);
    assert_int_equal(rc_gc_collect_incremental(rt), 1);   /* in progress */
    rc_obj *rows = rc_objgraph_most_common_types(rt, 0);  /* finishes it first */
    assert_int_equal(row_of(rows, "og_node", NULL), 50);
    assert_int_equal(row_of(rows, "og_leaf", NULL), -1);
    rc_decref(rows);
    assert_int_equal(rc_gc_step(rt), 0);
    rc_obj *start = &keep[0]->ob;
    dot g;
    assert_int_equal(write_to(rt, &start, 1, 2, 1, &g), 0);
    assert_int_equal(g.nodes, 1);
    free(g.text);
    for (int i = 0; i < 50; i++)
        rc_decref(&keep[i]->ob);
    rc_runtime_free(rt);
    if (traced)
        rc_trace_stop();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_most_common_types),
        cmocka_unit_test(test_growth),
        cmocka_unit_test(test_by_type),
        cmocka_unit_test(test_backref_chain),
        cmocka_unit_test(test_write_dot),
        cmocka_unit_test(test_write_svg),
        cmocka_unit_test(test_why_alive),
        cmocka_unit_test(test_during_incremental_and_traced),
    };
    return rct_run_tests(tests, NULL, NULL);
}
