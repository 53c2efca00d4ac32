// header_test.cpp - the public headers from C++ (built by .ci/run against an
// installed copy): they compile warning-free as C++11, the inline refcount
// fast paths (macros over static inline functions) and the exported
// functions behind them both work, and the library links and runs.
#include <recycle.h>
#include <recycle/annotate.h>  /* for profilers; C++ must compile it too */

#include <cstdio>
#include <cstdlib>

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            std::fprintf(stderr, "header_test: %s failed (line %d)\n",     \
                         #cond, __LINE__);                                 \
            std::exit(1);                                                  \
        }                                                                  \
    } while (0)

int main() {
    rc_runtime *rt = rc_runtime_new(nullptr);
    CHECK(rt != nullptr);
    size_t base = rc_runtime_object_count(rt);
    rc_obj *l = rc_list(rt);
    CHECK(l != nullptr);
    rc_obj *v = rc_int(rt, 1000);
    CHECK(rc_list_append(rt, l, v) == 0);
    CHECK(rc_refcount(v) == 2);
    rc_decref(v);                           // inline fast path
    CHECK(rc_refcount(v) == 1);
    rc_incref(l);
    void (*decref)(rc_obj *) = rc_decref;   // the exported function
    decref(l);
    CHECK(rc_refcount(l) == 1);
    rc_xdecref(nullptr);
    rc_xdecref(l);                          // frees the list and the int
    CHECK(rc_runtime_object_count(rt) == base);
    rc_runtime_free(rt);
    std::puts("header_test: C++ OK");
    return 0;
}
