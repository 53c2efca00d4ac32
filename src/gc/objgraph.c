/* objgraph.c - objgraph for the objects of a runtime (recycle/gc.h): the
 * commonest types, their growth, the objects of a type, the chain of
 * references that keeps an object alive, and the graph around objects as
 * Graphviz DOT (or SVG through dot).
 *
 * The walks see the objects the collector tracks, generations 0 to 2 (the
 * frozen ones are in none, as for rc_gc_get_objects). While a walk holds
 * pointers to objects it allocates no object and runs no user code that
 * could free one, or it turns automatic collection off first (the search
 * for a root calls the program's predicate; the DOT writer asks for
 * reprs): a collection started by an allocation in between would free
 * what the walk still points to.
 *
 * Referrers. Who refers to an object is not stored anywhere: it is found by
 * asking every tracked object for its references (traverse). The searches
 * that go backwards do that once and keep the answer as an index from each
 * object to the tracked objects that refer to it (struct backrefs), so a
 * search of depth d costs one pass over the heap plus the part of the graph
 * it visits, not a pass per object visited. */
#include "gc/gc.h"
#include "heap/htable.h"
#include "heap/private.h"
#include "recycle/types.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- the tracked objects ---- */

/* Calls fn for each tracked object of generations 0..2 until it returns
 * nonzero; returns that value, or 0. */
static int each_tracked(rc_runtime *rt, int (*fn)(rc_obj *o, void *arg), void *arg) {
    for (int g = 0; g < 3; g++)
        for (rco_gc *x = rt->gen[g].gc_next; x != &rt->gen[g]; x = x->gc_next) {
            int r = fn(rco_from_gc(x), arg);
            if (r)
                return r;
        }
    return 0;
}

/* ---- counting by type ---- */

typedef struct type_count {
    const char *name;
    size_t count;
} type_count;

typedef struct counting {
    rci_htable index;          /* type pointer -> position in v + 1 */
    type_count *v;
    size_t n, cap;
} counting;

static int count_one(rc_obj *o, void *arg) {
    counting *c = arg;
    bool existed;
    uintptr_t *slot = rci_htable_slot(&c->index, (uintptr_t)o->rc_type_, &existed);
    if (!slot)
        return RC_ENOMEM;
    if (existed) {
        c->v[*slot - 1].count++;
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        type_count *v = rc_realloc(c->v, cap * sizeof *v);
        if (!v) {
            rci_htable_remove(&c->index, (uintptr_t)o->rc_type_, NULL);
            return RC_ENOMEM;
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n] = (type_count){o->rc_type_->name ? o->rc_type_->name : "?", 1};
    *slot = ++c->n;
    return 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const type_count *)a)->name, ((const type_count *)b)->name);
}

static int by_count(const void *a, const void *b) {
    const type_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The counts per type name, sorted by name, into *out (rc_free it); the
 * number of names, or RC_ENOMEM. Allocates no object. */
static long count_types(rc_runtime *rt, type_count **out) {
    counting c = {0};
    rci_htable_init(&c.index);
    int r = each_tracked(rt, count_one, &c);
    rci_htable_free(&c.index);
    if (r) {
        rc_free(c.v);
        return r;
    }
    qsort(c.v, c.n, sizeof *c.v, by_name);
    size_t m = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (m && strcmp(c.v[m - 1].name, c.v[i].name) == 0)
            c.v[m - 1].count += c.v[i].count;
        else
            c.v[m++] = c.v[i];
    }
    *out = c.v;
    return (long)m;
}

/* A tuple (name, count[, increase]) appended to list; 0 or an RC_E*. */
static int append_row(rc_runtime *rt, rc_obj *list, const char *name, size_t count,
                      const size_t *increase) {
    rc_obj *items[3] = {rc_str(rt, name), rc_int(rt, (int64_t)count), NULL};
    size_t n = 2;
    if (increase) {
        items[2] = rc_int(rt, (int64_t)*increase);
        n = 3;
    }
    int r = 0;
    rc_obj *row = NULL;
    if (!items[0] || !items[1] || (increase && !items[2]))
        r = RC_ENOMEM;
    else if (!(row = rc_tuple_from(rt, n, items)))
        r = RC_ENOMEM;
    else
        r = rc_list_append(rt, list, row);
    for (size_t i = 0; i < 3; i++)
        if (items[i])
            rco_decref(items[i]);
    if (row)
        rco_decref(row);
    return r;
}

RCI_ALLOC_FRAME rc_obj *rc_objgraph_most_common_types(rc_runtime *rt, size_t limit) {
    if (!rt)
        return NULL;
    rcg_settle(rt);
    type_count *v;
    long n = count_types(rt, &v);
    if (n < 0)
        return rco_nomem_null(rt);
    qsort(v, (size_t)n, sizeof *v, by_count);
    size_t shown = limit && limit < (size_t)n ? limit : (size_t)n;
    rc_obj *list = rc_list_with_capacity(rt, shown);
    for (size_t i = 0; list && i < shown; i++)
        if (append_row(rt, list, v[i].name, v[i].count, NULL) != 0) {
            rco_decref(list);
            list = NULL;
        }
    rc_free(v);
    return list;
}

/* ---- growth ---- */

struct rcg_peak {
    char *name;                /* a copy: a type may go before the runtime */
    size_t peak;
};

void rcg_objgraph_free(rcg_state *st) {
    for (size_t i = 0; i < st->npeaks; i++)
        rc_free(st->peaks[i].name);
    rc_free(st->peaks);
    st->peaks = NULL;
    st->npeaks = st->cappeaks = 0;
}

typedef struct growth_row {
    const char *name;
    size_t count, increase;
} growth_row;

static int by_increase(const void *a, const void *b) {
    const growth_row *x = a, *y = b;
    if (x->increase != y->increase)
        return x->increase > y->increase ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The new peaks: st->peaks merged with counts (both sorted by name), the
 * higher of the two per name; false on out of memory (st unchanged). */
static bool merge_peaks(rcg_state *st, const type_count *counts, size_t n) {
    size_t cap = st->npeaks + n;
    struct rcg_peak *merged = rc_malloc((cap ? cap : 1) * sizeof *merged);
    if (!merged)
        return false;
    size_t i = 0, j = 0, m = 0;
    bool ok = true;
    while (i < st->npeaks || j < n) {
        int c = i == st->npeaks ? 1 : j == n ? -1 : strcmp(st->peaks[i].name, counts[j].name);
        if (c < 0) {
            merged[m++] = st->peaks[i++];
        } else if (c == 0) {
            merged[m] = st->peaks[i++];
            if (counts[j].count > merged[m].peak)
                merged[m].peak = counts[j].count;
            m++, j++;
        } else {
            char *name = rc_malloc(strlen(counts[j].name) + 1);
            if (!name) {
                ok = false;
                break;
            }
            strcpy(name, counts[j].name);
            merged[m++] = (struct rcg_peak){name, counts[j++].count};
        }
    }
    if (!ok) {
        /* free the copies made here; the old array keeps its own */
        for (size_t k = 0; k < m; k++) {
            bool old = false;
            for (size_t q = 0; q < st->npeaks && !old; q++)
                old = st->peaks[q].name == merged[k].name;
            if (!old)
                rc_free(merged[k].name);
        }
        rc_free(merged);
        return false;
    }
    rc_free(st->peaks);
    st->peaks = merged;
    st->npeaks = m;
    st->cappeaks = cap;
    return true;
}

RCI_ALLOC_FRAME rc_obj *rc_objgraph_growth(rc_runtime *rt, size_t limit) {
    if (!rt)
        return NULL;
    rcg_settle(rt);
    rcg_state *st = rcg(rt);
    type_count *v;
    long n = count_types(rt, &v);
    if (n < 0)
        return rco_nomem_null(rt);
    growth_row *rows = rc_malloc(((size_t)n ? (size_t)n : 1) * sizeof *rows);
    if (!rows) {
        rc_free(v);
        return rco_nomem_null(rt);
    }
    size_t nrows = 0, p = 0;
    for (size_t i = 0; i < (size_t)n; i++) {
        while (p < st->npeaks && strcmp(st->peaks[p].name, v[i].name) < 0)
            p++;
        size_t peak = p < st->npeaks && strcmp(st->peaks[p].name, v[i].name) == 0
                          ? st->peaks[p].peak
                          : 0;
        if (v[i].count > peak)
            rows[nrows++] = (growth_row){v[i].name, v[i].count, v[i].count - peak};
    }
    qsort(rows, nrows, sizeof *rows, by_increase);
    size_t shown = limit && limit < nrows ? limit : nrows;
    rc_obj *list = rc_list_with_capacity(rt, shown);
    for (size_t i = 0; list && i < shown; i++)
        if (append_row(rt, list, rows[i].name, rows[i].count, &rows[i].increase) != 0) {
            rco_decref(list);
            list = NULL;
        }
    /* the peaks move only when the answer could be given */
    if (list && !merge_peaks(st, v, (size_t)n)) {
        rco_decref(list);
        list = rco_nomem_null(rt);
    }
    rc_free(rows);
    rc_free(v);
    return list;
}

/* ---- by type ---- */

typedef struct of_type {
    const char *name;
    rc_obj **v;
    size_t n, cap;
} of_type;

static int collect_of_type(rc_obj *o, void *arg) {
    of_type *c = arg;
    const char *name = o->rc_type_->name;
    if (!name || strcmp(name, c->name) != 0)
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        rc_obj **v = rc_realloc(c->v, cap * sizeof *v);
        if (!v)
            return RC_ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = o;
    return 0;
}

RCI_ALLOC_FRAME rc_obj *rc_objgraph_by_type(rc_runtime *rt, const char *type_name) {
    if (!rt)
        return NULL;
    if (!type_name)
        return rco_err_null(rt, RC_EINVAL, "rc_objgraph_by_type: NULL type name");
    rcg_settle(rt);
    /* The objects are gathered first, then each is given a reference
     * before anything is allocated: the list's allocation may start a
     * collection. */
    of_type c = {.name = type_name};
    if (each_tracked(rt, collect_of_type, &c) != 0) {
        rc_free(c.v);
        return rco_nomem_null(rt);
    }
    for (size_t i = 0; i < c.n; i++)
        rc_incref(c.v[i]);
    rc_obj *list = rc_list_with_capacity(rt, c.n);
    for (size_t i = 0; list && i < c.n; i++)
        if (rc_list_append(rt, list, c.v[i]) != 0) {
            rco_decref(list);
            list = NULL;
        }
    for (size_t i = 0; i < c.n; i++)
        rco_decref(c.v[i]);
    rc_free(c.v);
    return list;
}

/* ---- who refers to whom ---- */

/* For every object referred to by a tracked object, the tracked objects
 * that refer to it: parents[first[k - 1] .. fill[k - 1]) for the object
 * whose index value is k (a compressed row per object; fill reaches
 * first[k] unless a traverse reported less the second time). */
typedef struct backrefs {
    rci_htable index;          /* object -> k + 1 */
    size_t *first;             /* nobjects + 1 */
    rc_obj **parents;
    size_t nobjects, nedges;
    int err;
    size_t *fill;              /* while building: next free slot per row */
    rc_obj *current;           /* while building: the object traversed */
} backrefs;

static int visit_count_ref(rc_obj *child, void *arg) {
    backrefs *b = arg;
    if (!child)
        return 0;
    bool existed;
    uintptr_t *slot = rci_htable_slot(&b->index, (uintptr_t)child, &existed);
    if (!slot) {
        b->err = RC_ENOMEM;
        return 1;
    }
    if (!existed)
        *slot = ++b->nobjects;
    b->nedges++;
    return 0;
}

static int count_refs(rc_obj *o, void *arg) {
    backrefs *b = arg;
    if (o->rc_type_->traverse)
        o->rc_type_->traverse(o, visit_count_ref, b);
    return b->err;
}

static int visit_tally(rc_obj *child, void *arg) {
    backrefs *b = arg;
    uintptr_t k;
    if (child && rci_htable_get(&b->index, (uintptr_t)child, &k))
        b->first[k]++;
    return 0;
}

static int tally_refs(rc_obj *o, void *arg) {
    if (o->rc_type_->traverse)
        o->rc_type_->traverse(o, visit_tally, arg);
    return 0;
}

static int visit_place(rc_obj *child, void *arg) {
    backrefs *b = arg;
    uintptr_t k;
    /* a traverse that reports more the second time than the first: the
     * extra references are left out rather than overflow the row */
    if (child && rci_htable_get(&b->index, (uintptr_t)child, &k) && b->fill[k - 1] < b->first[k])
        b->parents[b->fill[k - 1]++] = b->current;
    return 0;
}

static int place_refs(rc_obj *o, void *arg) {
    backrefs *b = arg;
    b->current = o;
    if (o->rc_type_->traverse)
        o->rc_type_->traverse(o, visit_place, b);
    return 0;
}

static void backrefs_free(backrefs *b) {
    rci_htable_free(&b->index);
    rc_free(b->first);
    rc_free(b->parents);
    rc_free(b->fill);
}

/* Build b over every tracked object: three traverses of each (count the
 * objects referred to, count each one's referrers, place them). 0 or
 * RC_ENOMEM. Allocates no object. */
static int backrefs_build(rc_runtime *rt, backrefs *b) {
    memset(b, 0, sizeof *b);
    rci_htable_init(&b->index);
    if (each_tracked(rt, count_refs, b) != 0)
        return RC_ENOMEM;
    b->first = rc_calloc(b->nobjects + 2, sizeof *b->first);
    b->fill = rc_malloc((b->nobjects + 1) * sizeof *b->fill);
    b->parents = rc_malloc((b->nedges ? b->nedges : 1) * sizeof *b->parents);
    if (!b->first || !b->fill || !b->parents)
        return RC_ENOMEM;
    /* first[k] counts object k's referrers; then, read in order, each
     * count is replaced by where the row of the object before it starts,
     * so that object k's row is [first[k - 1], first[k]) */
    each_tracked(rt, tally_refs, b);
    size_t at = 0;
    for (size_t k = 1; k <= b->nobjects; k++) {
        size_t c = b->first[k];
        b->first[k - 1] = at;
        b->fill[k - 1] = at;
        at += c;
    }
    b->first[b->nobjects] = at;
    each_tracked(rt, place_refs, b);
    return 0;
}

/* The referrers of o: *out and their number (none when o is unknown). */
static size_t referrers_of(const backrefs *b, rc_obj *o, rc_obj *const **out) {
    uintptr_t k;
    if (!rci_htable_get(&b->index, (uintptr_t)o, &k)) {
        *out = NULL;
        return 0;
    }
    *out = b->parents + b->first[k - 1];
    return b->fill[k - 1] - b->first[k - 1];
}

/* ---- breadth-first search ---- */

typedef struct node {
    rc_obj *obj;
    size_t parent;             /* index of the node it was reached from; SIZE_MAX: a start */
    size_t depth;
} node;

typedef struct search {
    node *v;
    size_t n, cap;
    rci_htable seen;           /* object -> index + 1 */
} search;

/* o as a new node reached from parent, unless seen: its index, SIZE_MAX
 * when seen already, or SIZE_MAX - 1 on out of memory. */
static size_t search_add(search *s, rc_obj *o, size_t parent, size_t depth) {
    bool existed;
    uintptr_t *slot = rci_htable_slot(&s->seen, (uintptr_t)o, &existed);
    if (!slot)
        return SIZE_MAX - 1;
    if (existed)
        return SIZE_MAX;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        node *v = rc_realloc(s->v, cap * sizeof *v);
        if (!v) {
            rci_htable_remove(&s->seen, (uintptr_t)o, NULL);
            return SIZE_MAX - 1;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n] = (node){o, parent, depth};
    *slot = s->n + 1;
    return s->n++;
}

static void search_free(search *s) {
    rc_free(s->v);
    rci_htable_free(&s->seen);
}

RCI_ALLOC_FRAME rc_obj *rc_objgraph_find_backref_chain(rc_runtime *rt, rc_obj *o,
            int (*is_root)(rc_obj *candidate, void *arg), void *arg, size_t max_depth) {
    if (!rt)
        return NULL;
    if (!o || !is_root)
        return rco_err_null(rt, RC_EINVAL, "rc_objgraph_find_backref_chain: NULL %s",
                            o ? "predicate" : "object");
    rcg_settle(rt);
    bool enabled = rt->gc_enabled;
    rt->gc_enabled = false;
    backrefs b;
    search s = {0};
    rci_htable_init(&s.seen);
    size_t found = SIZE_MAX;
    int err = backrefs_build(rt, &b);
    if (!err && search_add(&s, o, SIZE_MAX, 0) != 0)
        err = RC_ENOMEM;
    for (size_t i = 0; !err && i < s.n && found == SIZE_MAX; i++) {
        if (is_root(s.v[i].obj, arg)) {
            found = i;
            break;
        }
        if (s.v[i].depth >= max_depth)
            continue;
        rc_obj *const *refs;
        size_t nrefs = referrers_of(&b, s.v[i].obj, &refs);
        for (size_t r = 0; r < nrefs; r++)
            if (search_add(&s, refs[r], i, s.v[i].depth + 1) == SIZE_MAX - 1) {
                err = RC_ENOMEM;
                break;
            }
    }
    backrefs_free(&b);
    /* The chain, root first; each object given a reference before the
     * list is allocated (which may collect, once collection is back on). */
    size_t len = 0;
    rc_obj **chain = NULL;
    if (!err) {
        for (size_t i = found; i != SIZE_MAX; i = s.v[i].parent)
            len++;
        if (found == SIZE_MAX)
            len = 1;
        chain = rc_malloc(len * sizeof *chain);
        if (!chain) {
            err = RC_ENOMEM;
        } else if (found == SIZE_MAX) {
            chain[0] = o;
        } else {
            size_t k = 0;
            for (size_t i = found; i != SIZE_MAX; i = s.v[i].parent)
                chain[k++] = s.v[i].obj;
        }
    }
    search_free(&s);
    if (err) {
        rt->gc_enabled = enabled;
        rc_free(chain);
        return rco_nomem_null(rt);
    }
    for (size_t k = 0; k < len; k++)
        rc_incref(chain[k]);
    rt->gc_enabled = enabled;
    rc_obj *list = rc_list_with_capacity(rt, len);
    for (size_t k = 0; list && k < len; k++)
        if (rc_list_append(rt, list, chain[k]) != 0) {
            rco_decref(list);
            list = NULL;
        }
    for (size_t k = 0; k < len; k++)
        rco_decref(chain[k]);
    rc_free(chain);
    return list;
}

/* ---- the graph as DOT ---- */

typedef struct edge {
    size_t from, to;           /* node indexes; to SIZE_MAX: a "more" box */
    size_t more;               /* for a "more" box: how many were left out */
} edge;

typedef struct graph {
    search s;
    edge *e;
    size_t ne, cape;
    int err;
} graph;

static int add_edge(graph *g, size_t from, size_t to, size_t more) {
    if (g->ne == g->cape) {
        size_t cap = g->cape ? 2 * g->cape : 64;
        edge *e = rc_realloc(g->e, cap * sizeof *e);
        if (!e)
            return RC_ENOMEM;
        g->e = e;
        g->cape = cap;
    }
    g->e[g->ne++] = (edge){from, to, more};
    return 0;
}

/* The children of a node while the graph grows forward. */
typedef struct forward {
    graph *g;
    size_t from, shown, skipped;
    bool expand;               /* within max_depth: new objects become nodes */
} forward;

static void link_to(graph *g, size_t from, rc_obj *o, bool expand, size_t *shown,
                    size_t *skipped) {
    if (g->err)
        return;
    uintptr_t k;
    if (rci_htable_get(&g->s.seen, (uintptr_t)o, &k)) {
        g->err = add_edge(g, from, k - 1, 0);
        return;
    }
    if (!expand)
        return;
    if (*shown == RC_OBJGRAPH_TOO_MANY) {
        (*skipped)++;
        return;
    }
    size_t to = search_add(&g->s, o, from, g->s.v[from].depth + 1);
    if (to == SIZE_MAX - 1) {
        g->err = RC_ENOMEM;
        return;
    }
    (*shown)++;
    g->err = add_edge(g, from, to, 0);
}

static int visit_forward(rc_obj *child, void *arg) {
    forward *f = arg;
    if (child)
        link_to(f->g, f->from, child, f->expand, &f->shown, &f->skipped);
    return f->g->err != 0;
}

/* The strongly connected components of the drawn graph (Tarjan's, without
 * recursion): comp[i] is the first node of i's component to be found, and
 * on_cycle[i] says whether i lies on a cycle (a component of two or more,
 * or an edge to itself). A reference lies on a cycle when both its ends are
 * in one such component. 0 or RC_ENOMEM. */
static int find_cycles(const graph *g, size_t *comp, bool *on_cycle) {
    size_t n = g->s.n, one = n ? n : 1;
    size_t *adj_first = rc_calloc(n + 1, sizeof *adj_first);
    size_t *adj = rc_malloc((g->ne ? g->ne : 1) * sizeof *adj);
    size_t *index = rc_malloc(one * sizeof *index);
    size_t *low = rc_malloc(one * sizeof *low);
    size_t *stack = rc_malloc(one * sizeof *stack);
    size_t *call = rc_malloc(one * sizeof *call);
    size_t *next = rc_malloc(one * sizeof *next);
    bool *on_stack = rc_calloc(one, sizeof *on_stack);
    int err = 0;
    if (!adj_first || !adj || !index || !low || !stack || !call || !next || !on_stack) {
        err = RC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < g->ne; i++)
        if (g->e[i].to != SIZE_MAX)
            adj_first[g->e[i].from + 1]++;
    for (size_t i = 0; i < n; i++)
        adj_first[i + 1] += adj_first[i];
    for (size_t i = 0; i < n; i++)
        next[i] = adj_first[i];
    for (size_t i = 0; i < g->ne; i++) {
        const edge *e = &g->e[i];
        if (e->to == SIZE_MAX)
            continue;
        adj[next[e->from]++] = e->to;
        if (e->to == e->from)
            on_cycle[e->from] = true;
    }
    for (size_t i = 0; i < n; i++)
        index[i] = SIZE_MAX;
    size_t counter = 0, sp = 0;
    for (size_t root = 0; root < n; root++) {
        if (index[root] != SIZE_MAX)
            continue;
        size_t depth = 0;
        call[0] = root;
        next[root] = adj_first[root];
        index[root] = low[root] = counter++;
        stack[sp++] = root;
        on_stack[root] = true;
        for (;;) {
            size_t v = call[depth];
            if (next[v] < adj_first[v + 1]) {
                size_t w = adj[next[v]++];
                if (index[w] == SIZE_MAX) {
                    index[w] = low[w] = counter++;
                    stack[sp++] = w;
                    on_stack[w] = true;
                    next[w] = adj_first[w];
                    call[++depth] = w;
                } else if (on_stack[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            if (low[v] == index[v]) {
                size_t bottom = sp;
                do
                    bottom--;
                while (stack[bottom] != v);
                for (size_t k = bottom; k < sp; k++) {
                    on_stack[stack[k]] = false;
                    comp[stack[k]] = v;
                    if (sp - bottom > 1)
                        on_cycle[stack[k]] = true;
                }
                sp = bottom;
            }
            if (depth == 0)
                break;
            size_t parent = call[--depth];
            if (low[v] < low[parent])
                low[parent] = low[v];
        }
    }
done:
    rc_free(adj_first);
    rc_free(adj);
    rc_free(index);
    rc_free(low);
    rc_free(stack);
    rc_free(call);
    rc_free(next);
    rc_free(on_stack);
    return err;
}

/* s as the inside of a DOT double-quoted string: '"' and '\' escaped,
 * control characters as spaces. */
static void put_dot_text(FILE *out, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fputc('\\', out), fputc(c, out);
        else if (c < 0x20 || c == 0x7f)
            fputc(' ', out);
        else
            fputc(c, out);
    }
}

/* A short description of o for its box: the length of a container, the
 * repr of anything else, cut to REPR_MAX bytes (at a character boundary). */
#define REPR_MAX 48
static void short_repr(rc_runtime *rt, rc_obj *o, char *buf, size_t len) {
    if (rc_is_list(o)) {
        snprintf(buf, len, "len %zu", rc_list_len(o));
    } else if (rc_is_tuple(o)) {
        snprintf(buf, len, "len %zu", rc_tuple_len(o));
    } else if (rc_typeof(o) == &rc_dict_type) {
        snprintf(buf, len, "len %zu", rc_dict_len(o));
    } else if (rc_typeof(o) == &rc_set_type) {
        snprintf(buf, len, "len %zu", rc_set_len(o));
    } else {
        rco_error_state saved;
        rco_error_save(rt, &saved);
        int need = rc_repr(rt, o, buf, len);
        rco_error_restore(rt, &saved);
        if (need < 0) {
            snprintf(buf, len, "%s at %p", rc_type_name(o), (void *)o);
        } else if ((size_t)need >= len) {
            size_t cut = len - 4;
            while (cut > 0 && ((unsigned char)buf[cut] & 0xC0) == 0x80)
                cut--;
            memcpy(buf + cut, "...", 4);
        }
    }
}

static int write_graph(rc_runtime *rt, graph *g, size_t nstarts, FILE *out) {
    size_t one = g->s.n ? g->s.n : 1;
    bool *on_cycle = rc_calloc(one, sizeof *on_cycle);
    size_t *comp = rc_malloc(one * sizeof *comp);
    int err = on_cycle && comp ? find_cycles(g, comp, on_cycle) : RC_ENOMEM;
    if (err) {
        rc_free(on_cycle);
        rc_free(comp);
        return err;
    }
    fputs("digraph ObjectGraph {\n"
          "  node [shape=box, style=filled, fillcolor=white, fontname=\"monospace\", "
          "fontsize=10];\n", out);
    char repr[REPR_MAX + 1];
    for (size_t i = 0; i < g->s.n; i++) {
        rc_obj *o = g->s.v[i].obj;
        short_repr(rt, o, repr, sizeof repr);
        fprintf(out, "  o%zu [label=\"", i);
        put_dot_text(out, rc_type_name(o));
        fprintf(out, "\\n%zu B\\n", rc_sizeof(o));
        put_dot_text(out, repr);
        fputc('"', out);
        if (i < nstarts)
            fputs(", fillcolor=\"#c8f0c8\"", out);
        if (on_cycle[i])
            fputs(", color=red, penwidth=2", out);
        fputs("];\n", out);
    }
    size_t more = 0;
    for (size_t i = 0; i < g->ne; i++) {
        const edge *e = &g->e[i];
        if (e->to == SIZE_MAX) {
            fprintf(out, "  m%zu [label=\"%zu more\", shape=plaintext, style=\"\"];\n", more,
                    e->more);
            fprintf(out, "  o%zu -> m%zu [style=dashed];\n", e->from, more++);
            continue;
        }
        fprintf(out, "  o%zu -> o%zu", e->from, e->to);
        if (on_cycle[e->from] && comp[e->from] == comp[e->to])
            fputs(" [color=red, penwidth=2]", out);
        fputs(";\n", out);
    }
    fputs("}\n", out);
    rc_free(on_cycle);
    rc_free(comp);
    return 0;
}

RCI_ALLOC_FRAME int rc_objgraph_write_dot(rc_runtime *rt, rc_obj *const *objs, size_t n,
                                          size_t max_depth, int backrefs_wanted, FILE *out) {
    if (!rt)
        return RC_EINVAL;
    if (!out || (n && !objs))
        return rco_err(rt, RC_EINVAL, "rc_objgraph_write_dot: NULL %s", out ? "objects" : "file");
    for (size_t i = 0; i < n; i++)
        if (!objs[i])
            return rco_err(rt, RC_EINVAL, "rc_objgraph_write_dot: object %zu is NULL", i);
    rcg_settle(rt);
    bool enabled = rt->gc_enabled;
    rt->gc_enabled = false;
    graph g = {0};
    rci_htable_init(&g.s.seen);
    backrefs b;
    bool have_b = false;
    if (backrefs_wanted) {
        g.err = backrefs_build(rt, &b);
        have_b = true;
    }
    for (size_t i = 0; i < n && !g.err; i++)
        if (search_add(&g.s, objs[i], SIZE_MAX, 0) == SIZE_MAX - 1)
            g.err = RC_ENOMEM;
    size_t nstarts = g.s.n;
    /* Nodes in breadth-first order; a node's references are drawn to
     * nodes already there whatever its depth, and bring new nodes only
     * within max_depth. Edges point the way the reference goes. */
    for (size_t i = 0; i < g.s.n && !g.err; i++) {
        bool expand = g.s.v[i].depth < max_depth;
        size_t shown = 0, skipped = 0;
        if (backrefs_wanted) {
            rc_obj *const *refs;
            size_t nrefs = referrers_of(&b, g.s.v[i].obj, &refs);
            for (size_t r = 0; r < nrefs && !g.err; r++) {
                uintptr_t k;
                if (rci_htable_get(&g.s.seen, (uintptr_t)refs[r], &k)) {
                    g.err = add_edge(&g, k - 1, i, 0);
                } else if (expand) {
                    if (shown == RC_OBJGRAPH_TOO_MANY) {
                        skipped++;
                        continue;
                    }
                    size_t to = search_add(&g.s, refs[r], i, g.s.v[i].depth + 1);
                    if (to == SIZE_MAX - 1)
                        g.err = RC_ENOMEM;
                    else
                        shown++, g.err = add_edge(&g, to, i, 0);
                }
            }
        } else if (g.s.v[i].obj->rc_type_->traverse) {
            forward f = {&g, i, 0, 0, expand};
            g.s.v[i].obj->rc_type_->traverse(g.s.v[i].obj, visit_forward, &f);
            shown = f.shown;
            skipped = f.skipped;
        }
        if (skipped && !g.err)
            g.err = add_edge(&g, i, SIZE_MAX, skipped);
    }
    if (have_b)
        backrefs_free(&b);
    /* Edges found twice (a node reached from a node found later) are drawn
     * once: the forward walk adds an edge per reference, and so may the
     * backward one; duplicates of a reference reported twice by a type
     * stay, as they are two references. */
    int err = g.err;
    if (!err)
        err = write_graph(rt, &g, nstarts, out);
    rt->gc_enabled = enabled;
    rc_free(g.e);
    search_free(&g.s);
    if (err == RC_ENOMEM)
        return rco_nomem(rt);
    if (!err && (fflush(out) != 0 || ferror(out)))
        return rco_err(rt, RC_EIO, "rc_objgraph_write_dot: write error: %s", strerror(errno));
    return err;
}

/* ---- the graph as SVG, through Graphviz ---- */

RCI_ALLOC_FRAME int rc_objgraph_write_svg(rc_runtime *rt, rc_obj *const *objs, size_t n,
                                          size_t max_depth, int backrefs_wanted,
                                          const char *svg_path) {
    if (!rt)
        return RC_EINVAL;
    if (!svg_path || !*svg_path)
        return rco_err(rt, RC_EINVAL, "rc_objgraph_write_svg: no file name");
    size_t plen = strlen(svg_path);
    char *dot_path = rc_malloc(plen + 16), *tmp_svg = rc_malloc(plen + 16);
    if (!dot_path || !tmp_svg) {
        rc_free(dot_path);
        rc_free(tmp_svg);
        return rco_nomem(rt);
    }
    snprintf(dot_path, plen + 16, "%s.dot.XXXXXX", svg_path);
    snprintf(tmp_svg, plen + 16, "%s.XXXXXX", svg_path);
    int err = 0;
    int dot_fd = mkstemp(dot_path);
    int svg_fd = dot_fd >= 0 ? mkstemp(tmp_svg) : -1;
    if (dot_fd < 0 || svg_fd < 0) {
        err = rco_err(rt, RC_EIO, "rc_objgraph_write_svg: cannot write beside %s: %s", svg_path,
                      strerror(errno));
        if (dot_fd >= 0) {
            close(dot_fd);
            unlink(dot_path);
        }
        rc_free(dot_path);
        rc_free(tmp_svg);
        return err;
    }
    /* mkstemp makes it 0600; the picture is an ordinary file */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(svg_fd, 0666 & ~mask);
    close(svg_fd);
    FILE *f = fdopen(dot_fd, "w");
    if (!f) {
        close(dot_fd);
        err = rco_err(rt, RC_EIO, "rc_objgraph_write_svg: %s: %s", dot_path, strerror(errno));
    } else {
        err = rc_objgraph_write_dot(rt, objs, n, max_depth, backrefs_wanted, f);
        if (fclose(f) != 0 && !err)
            err = rco_err(rt, RC_EIO, "rc_objgraph_write_svg: %s: %s", dot_path, strerror(errno));
    }
    if (!err) {
        char a_dot[] = "dot", a_fmt[] = "-Tsvg", a_out[] = "-o";
        char *argv[] = {a_dot, a_fmt, a_out, tmp_svg, dot_path, NULL};
        pid_t pid;
        int e = posix_spawnp(&pid, "dot", NULL, NULL, argv, environ);
        int status = 0;
        if (e == 0) {
            pid_t w;
            do
                w = waitpid(pid, &status, 0);
            while (w < 0 && errno == EINTR);
            if (w < 0)
                e = errno;
        }
        /* dot not found: ENOENT from posix_spawnp, or, where the child is
         * made before the program is looked up (under valgrind, say), its
         * exit status 127 as a shell gives */
        if (e == ENOENT || (e == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 127))
            err = rco_err(rt, RC_EIO, "rc_objgraph_write_svg: Graphviz's dot is not installed "
                          "(Debian: apt-get install graphviz); rc_objgraph_write_dot writes the "
                          "graph as DOT without it");
        else if (e != 0)
            err = rco_err(rt, RC_EIO, "rc_objgraph_write_svg: cannot run dot: %s", strerror(e));
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            err = rco_err(rt, RC_EIO, "rc_objgraph_write_svg: dot failed (%s %d)",
                          WIFEXITED(status) ? "exit status" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        else if (rename(tmp_svg, svg_path) != 0)
            err = rco_err(rt, RC_EIO, "rc_objgraph_write_svg: %s: %s", svg_path, strerror(errno));
    }
    unlink(dot_path);
    if (err)
        unlink(tmp_svg);
    rc_free(dot_path);
    rc_free(tmp_svg);
    return err;
}

/* ---- why is it alive? ---- */

/* How many references to x come from outside the tracked objects: its
 * count less those the index saw from tracked objects, less held (the
 * caller's own references to the object asked about). */
static size_t outside_refs(const backrefs *b, rc_obj *x, size_t held) {
    rc_obj *const *refs;
    size_t inside = referrers_of(b, x, &refs) + held;
    size_t count = rc_refcount(x);
    return count > inside ? count - inside : 0;
}

/* The generation each tracked object is in (object -> generation + 1). */
static int generations(rc_runtime *rt, rci_htable *gen) {
    for (int g = 0; g < 3; g++)
        for (rco_gc *x = rt->gen[g].gc_next; x != &rt->gen[g]; x = x->gc_next)
            if (rci_htable_put(gen, (uintptr_t)rco_from_gc(x), (uintptr_t)g + 1) != 0)
                return RC_ENOMEM;
    return 0;
}

/* The search of a "why": from o backwards to the nearest object held from
 * outside (or immortal). Returns the node index of that root, SIZE_MAX when
 * none was found; *cut tells whether the depth stopped the search (else
 * every object that refers to o, directly or not, was seen). */
static size_t search_root(const backrefs *b, search *s, rc_obj *o, size_t held, size_t max_depth,
                          bool *cut, int *err) {
    *cut = false;
    if (search_add(s, o, SIZE_MAX, 0) != 0) {
        *err = RC_ENOMEM;
        return SIZE_MAX;
    }
    for (size_t i = 0; i < s->n; i++) {
        rc_obj *x = s->v[i].obj;
        if (rc_is_immortal(x) || outside_refs(b, x, x == o ? held : 0) > 0)
            return i;
        rc_obj *const *refs;
        size_t nrefs = referrers_of(b, x, &refs);
        if (s->v[i].depth >= max_depth) {
            *cut = *cut || nrefs > 0;
            continue;
        }
        for (size_t r = 0; r < nrefs; r++)
            if (search_add(s, refs[r], i, s->v[i].depth + 1) == SIZE_MAX - 1) {
                *err = RC_ENOMEM;
                return SIZE_MAX;
            }
    }
    return SIZE_MAX;
}

static void why_row(rc_runtime *rt, const backrefs *b, const rci_htable *gen, rc_obj *x,
                    size_t held, size_t k, FILE *out) {
    char repr[REPR_MAX + 1];
    short_repr(rt, x, repr, sizeof repr);
    uintptr_t g = 0;
    char gtext[8] = "-";
    if (rci_htable_get(gen, (uintptr_t)x, &g))
        snprintf(gtext, sizeof gtext, "%u", (unsigned)(g - 1));
    if (rc_is_immortal(x))
        fprintf(out, "  %2zu  immortal         %3s  %8zu B  %s %s\n", k, gtext, rc_sizeof(x),
                rc_type_name(x), repr);
    else
        fprintf(out, "  %2zu  %8zu %8zu  %3s  %8zu B  %s %s\n", k, rc_refcount(x),
                outside_refs(b, x, held), gtext, rc_sizeof(x), rc_type_name(x), repr);
    /* where it was allocated, when the tracer knows: under a heading */
    char *where = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&where, &len);
    if (mem) {
        size_t frames = rci_pheap_origin(x, "            ", mem);
        if (fclose(mem) == 0 && frames && len)
            fprintf(out, "          allocated at:\n%s", where);
        free(where);
    }
}

/* One object's answer: printed on out (when not NULL), and, when path is
 * not NULL, the chain's types root first ("dict -> list -> session") into
 * *path (rc_malloc'd). 0 or RC_ENOMEM. */
static int why_one(rc_runtime *rt, const backrefs *b, const rci_htable *gen, rc_obj *o,
                   size_t held, size_t max_depth, FILE *out, char **path) {
    search s = {0};
    rci_htable_init(&s.seen);
    bool cut = false;
    int err = 0;
    size_t root = search_root(b, &s, o, held, max_depth, &cut, &err);
    if (!err && path) {
        size_t len = 1;
        for (size_t i = root; i != SIZE_MAX; i = s.v[i].parent)
            len += strlen(rc_type_name(s.v[i].obj)) + 4;
        const char *none = cut ? "(no root within the depth)" : "(cyclic garbage)";
        if (root == SIZE_MAX)
            len += strlen(none);
        char *p = rc_malloc(len);
        if (!p) {
            err = RC_ENOMEM;
        } else {
            p[0] = 0;
            if (root == SIZE_MAX)
                strcat(p, none);
            for (size_t i = root; i != SIZE_MAX; i = s.v[i].parent) {
                strcat(p, rc_type_name(s.v[i].obj));
                if (s.v[i].parent != SIZE_MAX)
                    strcat(p, " -> ");
            }
            *path = p;
        }
    }
    if (!err && out) {
        char repr[REPR_MAX + 1];
        short_repr(rt, o, repr, sizeof repr);
        fprintf(out, "why is %s %s alive?\n", rc_type_name(o), repr);
        if (root == SIZE_MAX) {
            if (cut)
                fprintf(out, "  no object held from outside within %zu steps back; look "
                        "further with a larger depth\n", max_depth);
            else
                fputs("  nothing outside the tracked objects holds it, directly or not: it is "
                      "cyclic garbage, which the next full collection frees\n", out);
        } else {
            fputs("   #      refs  outside  gen        size  type and repr\n", out);
            size_t k = 0;
            for (size_t i = root; i != SIZE_MAX; i = s.v[i].parent, k++)
                why_row(rt, b, gen, s.v[i].obj, s.v[i].obj == o ? held : 0, k, out);
            rc_obj *r = s.v[root].obj;
            if (rc_is_immortal(r))
                fputs("  #0 is immortal: it is never freed\n", out);
            else
                fprintf(out, "  #0 is held from outside the objects the collector tracks (a C "
                        "variable, a global, an untracked container): %zu of its %zu "
                        "references%s\n", outside_refs(b, r, r == o ? held : 0), rc_refcount(r),
                        k > 1 ? "; each next object is held by the one before" : "");
            if (!rci_pheap_traced())
                fputs("  (rc_trace_start before the objects are made shows where each was "
                      "allocated)\n", out);
        }
    }
    search_free(&s);
    return err;
}

/* The index and the generations for a "why"; automatic collection off
 * until why_end. */
static int why_begin(rc_runtime *rt, backrefs *b, rci_htable *gen, bool *enabled) {
    rcg_settle(rt);
    *enabled = rt->gc_enabled;
    rt->gc_enabled = false;
    rci_htable_init(gen);
    int err = backrefs_build(rt, b);
    return err ? err : generations(rt, gen);
}

static int why_end(rc_runtime *rt, backrefs *b, rci_htable *gen, bool enabled, int err,
                   FILE *out, const char *fn) {
    backrefs_free(b);
    rci_htable_free(gen);
    rt->gc_enabled = enabled;
    if (err == RC_ENOMEM)
        return rco_nomem(rt);
    if (!err && (fflush(out) != 0 || ferror(out)))
        return rco_err(rt, RC_EIO, "%s: write error: %s", fn, strerror(errno));
    return err;
}

RCI_ALLOC_FRAME int rc_objgraph_why_alive(rc_runtime *rt, rc_obj *o, size_t held,
                                          size_t max_depth, FILE *out) {
    if (!rt)
        return RC_EINVAL;
    if (!o || !out)
        return rco_err(rt, RC_EINVAL, "rc_objgraph_why_alive: NULL %s", o ? "file" : "object");
    backrefs b;
    rci_htable gen;
    bool enabled;
    int err = why_begin(rt, &b, &gen, &enabled);
    if (!err)
        err = why_one(rt, &b, &gen, o, held, max_depth, out, NULL);
    return why_end(rt, &b, &gen, enabled, err, out, "rc_objgraph_why_alive");
}

typedef struct why_group {
    char *path;
    size_t count;
    rc_obj *example;
} why_group;

static int by_path(const void *a, const void *b) {
    return strcmp(((const why_group *)a)->path, ((const why_group *)b)->path);
}

static int by_group_count(const void *a, const void *b) {
    const why_group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->path, y->path);
}

RCI_ALLOC_FRAME int rc_objgraph_why_alive_type(rc_runtime *rt, const char *type_name,
                                               size_t limit, size_t max_depth, FILE *out) {
    if (!rt)
        return RC_EINVAL;
    if (!type_name || !out)
        return rco_err(rt, RC_EINVAL, "rc_objgraph_why_alive_type: NULL %s",
                       type_name ? "file" : "type name");
    backrefs b;
    rci_htable gen;
    bool enabled;
    of_type c = {.name = type_name};
    why_group *g = NULL;
    size_t examined = 0, ngroups = 0;
    int err = why_begin(rt, &b, &gen, &enabled);
    if (!err && each_tracked(rt, collect_of_type, &c) != 0)
        err = RC_ENOMEM;
    examined = c.n < RC_OBJGRAPH_WHY_SAMPLE ? c.n : RC_OBJGRAPH_WHY_SAMPLE;
    if (!err && !(g = rc_calloc(examined ? examined : 1, sizeof *g)))
        err = RC_ENOMEM;
    for (size_t i = 0; !err && i < examined; i++) {
        err = why_one(rt, &b, &gen, c.v[i], 0, max_depth, NULL, &g[i].path);
        g[i].count = 1;
        g[i].example = c.v[i];
    }
    if (!err) {
        /* equal chains of types made one group, its first object the example */
        qsort(g, examined, sizeof *g, by_path);
        for (size_t i = 0; i < examined; i++) {
            if (ngroups && strcmp(g[ngroups - 1].path, g[i].path) == 0) {
                g[ngroups - 1].count++;
                rc_free(g[i].path);
            } else {
                g[ngroups++] = g[i];
            }
        }
        qsort(g, ngroups, sizeof *g, by_group_count);
        fprintf(out, "%zu %s object%s", c.n, type_name, c.n == 1 ? "" : "s");
        if (examined < c.n)
            fprintf(out, " (the first %zu examined)", examined);
        fputs(c.n ? ", by the chain of types from the nearest root:\n" : "\n", out);
        for (size_t i = 0; i < ngroups; i++)
            fprintf(out, "  %8zu  %5.1f%%  %s\n", g[i].count,
                    100.0 * (double)g[i].count / (double)examined, g[i].path);
        size_t shown = limit && limit < ngroups ? limit : ngroups;
        for (size_t i = 0; !err && i < shown; i++) {
            fputc('\n', out);
            err = why_one(rt, &b, &gen, g[i].example, 0, max_depth, out, NULL);
        }
    }
    for (size_t i = 0; g && i < (err ? examined : ngroups); i++)
        rc_free(g[i].path);
    rc_free(g);
    rc_free(c.v);
    return why_end(rt, &b, &gen, enabled, err, out, "rc_objgraph_why_alive_type");
}
