/* track.c - the collector's generation lists: track, untrack, list helpers.
 * The algorithm that uses them lives in the gc layer; the object layer only
 * keeps the lists and counts right as objects come and go.
 *
 * Lists are circular and doubly linked through rco_gc, with a sentinel head
 * in the runtime. Invariant: RCO_F_TRACKED is set iff the object's rco_gc is
 * on some list (a generation, the permanent generation, or a list the
 * collector is working on). gen_count[0] counts allocations minus
 * deallocations of containers since the last generation-0 collection (never
 * below 0): rco_track counts the allocation (rc_new), the deallocation path
 * in object.c the other side; untracking alone changes no count. */
#include "object/object.h"

void rco_gc_list_init(rco_gc *head) {
    head->gc_next = head->gc_prev = head;
}

bool rco_gc_list_empty(const rco_gc *head) {
    return head->gc_next == head;
}

void rco_gc_list_merge(rco_gc *from, rco_gc *to) {
    if (rco_gc_list_empty(from))
        return;
    rco_gc *first = from->gc_next, *last = from->gc_prev;
    rco_gc *tail = to->gc_prev;
    tail->gc_next = first;
    first->gc_prev = tail;
    last->gc_next = to;
    to->gc_prev = last;
    rco_gc_list_init(from);
}

void rco_untrack(rc_obj *o) {
    if (o->rc_head_ & RCO_F_TRACKED)
        rco_untrack_in(rco_runtime(o), o);
}
