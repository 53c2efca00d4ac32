/* objgraph_leak.c - finding what keeps objects alive, as objgraph does for
 * Python: a service makes sessions that refer to each other in pairs (a
 * cycle, which the collector frees) and registers some of them as
 * listeners in a registry it never cleans (a leak the collector cannot
 * free). objgraph's growth shows the sessions piling up; the back-reference
 * chain of one survivor leads to the registry; the graph around it is
 * written as DOT and, when Graphviz is installed, drawn as SVG:
 *
 *   objgraph_leak.dot   the references to the session, three steps back
 *   objgraph_leak.svg   the same drawn by dot (open it in a browser)
 *
 * It checks its own results and exits 0 only when they hold. */
#include <recycle.h>

#include <stdio.h>
#include <string.h>

/* A session: an id, the user's name, its peer, a buffer of its own. */
typedef struct session {
    rc_obj ob;
    int id;
    rc_obj *user;          /* str */
    rc_obj *peer;          /* session, or NULL */
    char buffer[64];
} session;

static int session_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    session *s = (session *)self;
    if (s->user && visit(s->user, arg))
        return 1;
    return s->peer ? visit(s->peer, arg) : 0;
}

static void session_clear(rc_obj *self) {
    session *s = (session *)self;
    rc_obj *user = s->user, *peer = s->peer;
    s->user = s->peer = NULL;
    rc_xdecref(user);
    rc_xdecref(peer);
}

static int session_repr(rc_obj *self, char *buf, size_t len) {
    session *s = (session *)self;
    return snprintf(buf, len, "<session %d of %s>", s->id, s->user ? rc_str_data(s->user) : "?");
}

static const rc_type session_type = {
    .name = "session", .size = sizeof(session), .flags = RC_TYPE_GC,
    .traverse = session_traverse, .clear = session_clear, .destroy = session_clear,
    .repr = session_repr,
};

static session *session_new(rc_runtime *rt, int id, const char *user) {
    session *s = (session *)rc_new(rt, &session_type);
    if (!s)
        return NULL;
    s->id = id;
    s->user = rc_str(rt, user);
    snprintf(s->buffer, sizeof s->buffer, "session %d", id);
    return s;
}

/* One request: a pair of sessions that point at each other; every tenth
 * one is also registered as a listener (and never unregistered). */
static int handle_request(rc_runtime *rt, rc_obj *listeners, int id) {
    session *a = session_new(rt, 2 * id, "alice"), *b = session_new(rt, 2 * id + 1, "bob");
    if (!a || !b || !a->user || !b->user)
        return -1;
    a->peer = &b->ob;
    rc_incref(&b->ob);
    b->peer = &a->ob;
    rc_incref(&a->ob);
    if (id % 10 == 0 && rc_list_append(rt, listeners, &a->ob) != 0)
        return -1;
    rc_decref(&a->ob);
    rc_decref(&b->ob);
    return 0;
}

static int is_registry(rc_obj *candidate, void *arg) {
    return candidate == arg;
}

static long count_of(rc_runtime *rt, rc_obj *rows, const char *type, long *increase) {
    for (size_t i = 0; i < rc_list_len(rows); i++) {
        rc_obj *row = rc_list_get(rt, rows, i);
        if (rc_str_equal_cstr(rc_tuple_get(rt, row, 0), type)) {
            if (increase)
                *increase = (long)rc_int_value(rc_tuple_get(rt, row, 2));
            return (long)rc_int_value(rc_tuple_get(rt, row, 1));
        }
    }
    return 0;
}

int main(void) {
    /* traced from the start: the "why" report can then say where each
     * object on a chain was allocated */
    int traced = rc_trace_start(16) == 0;
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    rc_obj *registry = rc_dict(rt), *listeners = rc_list(rt), *key = rc_str(rt, "on_message");
    if (!registry || !listeners || !key || rc_dict_set(rt, registry, key, listeners) != 0)
        return 1;
    rc_decref(key);

    rc_obj *rows = rc_objgraph_growth(rt, 0);   /* the baseline */
    rc_decref(rows);
    for (int i = 0; i < 500; i++)
        if (handle_request(rt, listeners, i) != 0)
            return 1;
    rc_gc_collect(rt, 2);   /* the pairs nobody holds go */

    long increase = 0;
    rows = rc_objgraph_growth(rt, 5);
    printf("growth after 500 requests and a collection:\n");
    for (size_t i = 0; i < rc_list_len(rows); i++) {
        rc_obj *row = rc_list_get(rt, rows, i);
        printf("  %-10s %6lld %+6lld\n", rc_str_data(rc_tuple_get(rt, row, 0)),
               (long long)rc_int_value(rc_tuple_get(rt, row, 1)),
               (long long)rc_int_value(rc_tuple_get(rt, row, 2)));
    }
    long sessions = count_of(rt, rows, "session", &increase);
    rc_decref(rows);
    /* 50 listeners and their peers survive */
    int ok = sessions == 100 && increase == 100;

    rc_obj *all = rc_objgraph_by_type(rt, "session");
    rc_obj *one = all && rc_list_len(all) ? rc_list_get(rt, all, 0) : NULL;
    if (!one)
        return 1;
    rc_incref(one);
    rc_decref(all);
    char what[64];
    rc_repr(rt, one, what, sizeof what);
    rc_obj *chain = rc_objgraph_find_backref_chain(rt, one, is_registry, registry, 10);
    if (!chain)
        return 1;
    printf("\nwhy is %s alive?\n", what);
    for (size_t i = 0; i < rc_list_len(chain); i++) {
        rc_obj *o = rc_list_get(rt, chain, i);
        char r[64];
        rc_repr(rt, o, r, sizeof r);
        printf("  %s%-8s %s\n", i ? "-> " : "   ", rc_type_name(o), r);
    }
    ok = ok && rc_list_len(chain) >= 3 && rc_list_get(rt, chain, 0) == registry &&
         rc_list_get(rt, chain, rc_list_len(chain) - 1) == one;
    rc_decref(chain);

    /* the same question answered with each object's figures and origin:
     * we hold one reference to `one` ourselves */
    printf("\n");
    ok = ok && rc_objgraph_why_alive(rt, one, 1, 10, stdout) == 0;
    /* and for every session at once: which chains keep them */
    printf("\n");
    ok = ok && rc_objgraph_why_alive_type(rt, "session", 1, 10, stdout) == 0;

    FILE *f = fopen("objgraph_leak.dot", "w");
    ok = ok && f && rc_objgraph_write_dot(rt, &one, 1, 3, 1, f) == 0;
    if (f)
        fclose(f);
    printf("\nwrote objgraph_leak.dot (the references to it, three steps back)\n");
    if (rc_objgraph_write_svg(rt, &one, 1, 3, 1, "objgraph_leak.svg") == 0)
        printf("wrote objgraph_leak.svg (drawn by Graphviz's dot)\n");
    else
        printf("no SVG: %s\n", rc_error_message(rt));

    rc_decref(one);
    rc_decref(registry);
    rc_decref(listeners);
    rc_runtime_free(rt);
    if (traced)
        rc_trace_stop();
    printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
