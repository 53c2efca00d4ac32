/* profile_seed.c - memory_profiler's documentation example, in C:
 *
 *     @profile
 *     def my_func():
 *         a = [1] * (10 ** 6)
 *         b = [2] * (2 * 10 ** 7)
 *         del b
 *         return a
 *
 * RC_PROFILE_BEGIN / RC_PROFILE_END play @profile: the table printed at the
 * end charges each line with what it allocated and freed, callees included
 * (repeat() allocates the lists; its lines are charged to the line that
 * called it). The program checks its own table: each list's line grew by
 * what rc_sizeof says the list holds (within 2 %), the decref of the second
 * gave all of it back, and the increments add up to the change of the
 * traced memory. */
#include <recycle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [value] * n: a list of n references to one int, sized exactly, as
 * Python's list repetition makes it. Small ints are cached and immortal, so
 * the items cost nothing but their slots. NULL on failure. */
static rc_obj *repeat(rc_runtime *rt, int64_t value, size_t n) {
    rc_obj *item = rc_int(rt, value);
    rc_obj *list = item ? rc_list_with_capacity(rt, n) : NULL;
    for (size_t i = 0; list && i < n; i++) {
        if (rc_list_append(rt, list, item) != 0) {
            rc_decref(list);
            list = NULL;
        }
    }
    rc_xdecref(item);
    return list;
}

/* The profiled function; the lines of the table are its lines. */
static rc_obj *my_func(rc_runtime *rt, rc_profile **prof, size_t *b_size) {
    rc_profile *p = RC_PROFILE_BEGIN(NULL);            /* @profile */
    rc_obj *a = repeat(rt, 1, 1000000);                 /* a = [1] * (10 ** 6) */
    rc_obj *b = repeat(rt, 2, 20000000);                /* b = [2] * (2 * 10 ** 7) */
    *b_size = b ? rc_sizeof(b) : 0;
    rc_xdecref(b);                                      /* del b */
    RC_PROFILE_END(p);
    *prof = p;
    return a;                                           /* return a */
}

/* The row whose source line contains text; NULL if none. */
static const rc_profile_line *row_with(const rc_profile *p, const char *text) {
    for (size_t i = 0; i < rc_profile_len(p); i++) {
        const rc_profile_line *r = rc_profile_at(p, i);
        if (strstr(r->text, text))
            return r;
    }
    return NULL;
}

static int near(long got, size_t want) {
    double d = (double)got - (double)want;
    return d <= 0.02 * (double)want && -d <= 0.02 * (double)want;
}

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    rc_profile *p = NULL;
    size_t b_size = 0;
    rc_obj *a = my_func(rt, &p, &b_size);
    if (!a || !p || b_size == 0) {
        fprintf(stderr, "profile_seed: the profile or the lists could not be made\n");
        return 1;
    }
    if (rc_profile_print(p, stdout) != 0)
        return 1;

    size_t a_size = rc_sizeof(a);
    const rc_profile_line *la = row_with(p, "rc_obj *a = repeat");
    const rc_profile_line *lb = row_with(p, "rc_obj *b = repeat");
    const rc_profile_line *ld = row_with(p, "rc_xdecref(b);");
    int ok = la && lb && ld && la->has_data && lb->has_data && ld->has_data;
    if (ok) {
        printf("a: rc_sizeof %zu bytes, its line +%ld bytes\n", a_size, la->increment);
        printf("b: rc_sizeof %zu bytes, its line +%ld bytes, its decref %ld bytes\n", b_size,
               lb->increment, ld->increment);
        ok = near(la->increment, a_size) && near(lb->increment, b_size) && near(-ld->increment, b_size);
        /* what b's line took, the decref gave back: the memory is a's again */
        ok = ok && ld->increment == -lb->increment && ld->mem_usage == la->mem_usage;
    }
    long sum = 0;
    for (size_t i = 0; i < rc_profile_len(p); i++)
        sum += rc_profile_at(p, i)->increment;
    size_t at_begin, at_end;
    rc_profile_memory(p, &at_begin, &at_end);
    ok = ok && sum == (long)at_end - (long)at_begin && rc_profile_unattributed(p, NULL) == 0;
    printf("%s\n", ok ? "the table matches the lists' sizes" : "the table does NOT match the lists' sizes");
    rc_profile_free(p);
    rc_decref(a);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
