/* object.c - object creation, reference counting, deallocation (with a
 * queue instead of recursion), buffers, and the generic protocol calls
 * (hash, equality, repr).
 *
 * Deallocation order for an object whose count reached zero
 * (docs/design/object.md):
 *   1. untrack from the collector (before any user code runs, so that a
 *      collection started by that code never sees a dying object);
 *   2. finalize, once (PEP 442): the object is alive during the call with a
 *      temporary reference; if the count is above that reference afterwards
 *      the object was resurrected, is tracked again, and stays;
 *   3. weak references are cleared, then their callbacks run;
 *   4. destroy (or clear when there is no destroy);
 *   5. the memory goes back to the heap (debug: to the quarantine first).
 * A zero count met while another deallocation is running does not recurse:
 * the object is queued (RCO_F_QUEUED, linked through its count bits) and the
 * outermost deallocation drains the queue. Freeing a 10-million-node chain
 * therefore uses constant C stack (CPython's trashcan problem).
 */
#include "object/object.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- buffers ---- */

/* The constructors and buffer functions carry RCI_ALLOC_FRAME (private.h):
 * a tracer drops their frames, so that a traceback starts at their caller. */

RCI_ALLOC_FRAME void *rco_alloc(rc_runtime *rt, size_t size) {
    if (rco_inject_failure(rt))
        return rco_nomem_null(rt);
    void *p = rci_pheap_alloc(rt->heap, size, RCO_KIND_BUFFER);
    if (!p)
        return rco_nomem_null(rt);
    rt->buffer_bytes += rci_pheap_block_size(p);
    return p;
}

void rco_free(rc_runtime *rt, void *p) {
    if (!p)
        return;
    size_t n = rci_pheap_block_size(p);
    rt->buffer_bytes -= n < rt->buffer_bytes ? n : rt->buffer_bytes;
    rci_pheap_free(rt->heap, p);
}


RCI_ALLOC_FRAME void *rco_realloc(rc_runtime *rt, void *p, size_t size) {
    if (!p)
        return rco_alloc(rt, size);
    size_t old = rci_pheap_block_size(p);
    if (size <= old && size >= old / 2)
        return p;
    if (!rco_inject_failure(rt)) {
        void *moved = rci_pheap_try_resize(rt->heap, p, size);
        if (moved) {
            rt->buffer_bytes += rci_pheap_block_size(moved);
            rt->buffer_bytes -= old < rt->buffer_bytes ? old : rt->buffer_bytes;
            return moved;
        }
    } else {
        return rco_nomem_null(rt);
    }
    void *q = rco_alloc(rt, size);
    if (!q)
        return NULL;
    memcpy(q, p, size < old ? size : old);
    rco_free(rt, p);
    return q;
}

/* ---- reports (debug) ---- */

void rco_report(rc_runtime *rt, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (rt) {
        rt->debug_errors++;
        if (rt->debug_fn) {
            rt->debug_fn(rt, msg, rt->debug_arg);
            return;
        }
    }
    FILE *out = rco_report_stream(rt);
    fprintf(out, "recycle: %s\n", msg);
    fflush(out);
}

static const char *type_name(const rc_obj *o) {
    return o->rc_type_ && o->rc_type_->name ? o->rc_type_->name : "?";
}

void rco_report_bad_decref(rc_obj *o) {
    rc_runtime *rt = rco_is_static(o) ? NULL : rco_runtime(o);
    /* Outside debug mode a freed object's memory belongs to the heap, which
     * keeps only the FREED bit readable: the type is not known any more. */
    if ((o->rc_head_ & RCO_F_FREED) && !(rt && rt->debug))
        rco_report(rt, "use of a freed object at %p (an incref or decref after its count reached "
                       "zero); RECYCLE_DEBUG=1 names its type", (void *)o);
    else if (o->rc_head_ & RCO_F_FREED)
        rco_report(rt, "use of a freed object: %s object at %p (its count reached zero earlier)",
                   type_name(o), (void *)o);
    else
        rco_report(rt, "refcount underflow: decref of %s object at %p whose count is already zero",
                   type_name(o), (void *)o);
}

bool rco_check_live(rc_runtime *rt, const rc_obj *o, const char *fn) {
    if (!o)
        return false;
    if (o->rc_head_ & RCO_F_FREED) {
        rco_report(rt, "%s: use of a freed object: %s object at %p", fn, type_name(o), (void *)o);
        rco_err(rt, RC_ESTATE, "%s: object at %p was freed", fn, (void *)o);
        return false;
    }
    return true;
}

int rc_check(rc_obj *o) {
    if (!o)
        return RC_EINVAL;
    if (o->rc_head_ & RCO_F_FREED) {
        rc_runtime *rt = rco_runtime(o);
        rco_report(rt, "rc_check: use of a freed object: %s object at %p", type_name(o), (void *)o);
        return RC_ESTATE;
    }
    return 0;
}

/* ---- creation ---- */

static bool type_ok(const rc_type *t) {
    return t && t->name && t->size >= sizeof(rc_obj);
}

static RCI_ALLOC_FRAME rc_obj *new_object(rc_runtime *rt, const rc_type *type, size_t nitems, bool var) {
    if (!rt)
        return NULL;
    if (!type_ok(type))
        return rco_err_null(rt, RC_EINVAL, "rc_new: invalid type (needs a name and size >= sizeof(rc_obj))");
    bool gc = (type->flags & RC_TYPE_GC) != 0;
    size_t prefix = (gc ? sizeof(rco_gc) : 0) + (var ? sizeof(rco_var) : 0);
    size_t body = type->size, items;
    if (__builtin_mul_overflow(nitems, type->itemsize, &items) ||
        __builtin_add_overflow(body, items, &body) ||
        __builtin_add_overflow(body, prefix, &body) || body > (size_t)PTRDIFF_MAX)
        return rco_err_null(rt, RC_EOVERFLOW, "rc_new_var: %zu items of %zu bytes is too large",
                            nitems, type->itemsize);
    unsigned kind = gc ? (var ? RCO_KIND_GC_VAR : RCO_KIND_GC) : (var ? RCO_KIND_VAR : RCO_KIND_PLAIN);
    if (rco_inject_failure(rt))
        return rco_nomem_null(rt);
    void *block = rci_pheap_alloc(rt->heap, body, kind);
    if (!block && rt->gc_emergency && !rt->gc_collecting) {
        /* Out of memory: a full collection may free some (Lua's tryagain). */
        rt->gc_emergency(rt);
        block = rci_pheap_alloc(rt->heap, body, kind);
    }
    if (!block)
        return rco_nomem_null(rt);
    memset(block, 0, body);
    rc_obj *o = (rc_obj *)(void *)((char *)block + prefix);
    o->rc_head_ = 1 | (gc ? RCO_F_GC : 0) | (var ? RCO_F_VAR : 0);
    o->rc_type_ = type;
    if (var)
        rco_var_of(o)->nitems = nitems;
    /* a tracer that keeps types learns this block's (the fast paths above
     * are off while one listens, so every traced object comes here) */
    rci_pheap_typed(block, type->name);
    rt->live_objects++;
    if (gc) {
        rco_track(rt, o);
        if (rt->gc_on_alloc)
            rt->gc_on_alloc(rt);
    }
    return o;
}

/* Zero the body of a fresh object of size bytes past its 16-byte header. The
 * block is at least size rounded up to 16 bytes (the fast paths index the
 * size classes by that), so whole 16-byte units are cleared; small objects
 * get straight-line stores rather than a call to memset. */
static inline void zero_body(rc_obj *o, size_t size) {
    uint64_t *w = (uint64_t *)(void *)o;
    size_t units = (size + 15) >> 4;
    if (units > 4) {
        memset(w + 2, 0, size - 16);
        return;
    }
    if (units >= 2) { w[2] = 0; w[3] = 0; }
    if (units >= 3) { w[4] = 0; w[5] = 0; }
    if (units >= 4) { w[6] = 0; w[7] = 0; }
}

/* An object of a valid type of size bytes from a free block of its size
 * class (a container linked into generation 0), or NULL when the pool has
 * none at hand (or a tracer listens): the fast paths of rc_new. */
RCI_INLINE rc_obj *new_fast(rc_runtime *rt, const rc_type *type, size_t size) {
    rci_heap *h = rt->heap;
    long unflushed;
    if (!(type->flags & RC_TYPE_GC)) {
        rc_obj *o = rci_pheap_alloc_fast(h, size, RCO_KIND_PLAIN, &unflushed);
        if (rci_unlikely(o == NULL))
            return NULL;
        zero_body(o, size);
        o->rc_head_ = 1;
        o->rc_type_ = type;
        rt->live_objects++;
        return rci_pheap_settle(h, o, unflushed);
    }
    char *block = rci_pheap_alloc_fast(h, size + sizeof(rco_gc), RCO_KIND_GC, &unflushed);
    if (rci_unlikely(block == NULL))
        return NULL;
    rci_pheap_settle(h, block, unflushed);
    rc_obj *o = (rc_obj *)(void *)(block + sizeof(rco_gc));
    zero_body(o, size);
    o->rc_head_ = 1 | RCO_F_GC;
    o->rc_type_ = type;
    rt->live_objects++;
    rco_track_new(rt, o);
    if (rci_unlikely(rt->gen_count[0] > rt->threshold[0]) && rt->gc_enabled && rt->gc_on_alloc)
        rt->gc_on_alloc(rt);
    return o;
}

/* rc_new's paths for bodies over 64 bytes, and every slow one. */
static RCI_ALLOC_FRAME rc_obj *new_small(rc_runtime *rt, const rc_type *type) {
    if (rt && type && type->name && type->size >= sizeof(rc_obj) &&
        type->size + sizeof(rco_gc) <= RC_DIRECT_MAX && rt->fail_countdown < 0) {
        rc_obj *o = new_fast(rt, type, type->size);
        if (rci_likely(o != NULL))
            return o;
    }
    return new_object(rt, type, 0, false);
}

RCI_ALLOC_FRAME rc_obj *rc_new(rc_runtime *rt, const rc_type *type) {
    /* The fastest paths, for the commonest objects: at most 64 bytes, a free
     * block in the size class's pool, no fault injection; a container is
     * linked into generation 0 here too. */
    size_t size;
    if (rci_likely(rt && type && (size = type->size) - sizeof(rc_obj) <= 64 - sizeof(rc_obj) &&
                   type->name && rt->fail_countdown < 0)) {
        rc_obj *o = new_fast(rt, type, size);
        if (rci_likely(o != NULL))
            return o;
    }
    return new_small(rt, type);
}

RCI_ALLOC_FRAME rc_obj *rc_new_var(rc_runtime *rt, const rc_type *type, size_t nitems) {
    /* Fast path: a valid type, at most 64 items of at most 64 bytes each (so
     * the size cannot overflow), a block within the direct size classes with
     * a free block in its pool, no fault injection. Everything else, every
     * error included, goes through new_object. */
    if (rci_likely(rt && type && type->name && rt->fail_countdown < 0)) {
        size_t size = type->size, itemsize = type->itemsize;
        if (rci_likely(size >= sizeof(rc_obj) && size <= RC_DIRECT_MAX && itemsize <= 64 &&
                       nitems <= 64)) {
            bool gc = (type->flags & RC_TYPE_GC) != 0;
            size_t prefix = sizeof(rco_var) + (gc ? sizeof(rco_gc) : 0);
            size_t body = prefix + size + nitems * itemsize;
            rci_heap *h = rt->heap;
            long unflushed;
            char *block = rci_pheap_alloc_fast(h, body, gc ? RCO_KIND_GC_VAR : RCO_KIND_VAR, &unflushed);
            if (block) {
                rci_pheap_settle(h, block, unflushed);
                /* zero whole 16-byte units (every block has them), two
                 * stores per unit */
                uint64_t *w = (uint64_t *)(void *)block;
                for (size_t i = 0, n = ((body + 15) >> 4) << 1; i < n; i += 2) {
                    w[i] = 0;
                    w[i + 1] = 0;
                }
                ((rco_var *)(void *)block)->nitems = nitems;
                rc_obj *o = (rc_obj *)(void *)(block + prefix);
                o->rc_head_ = 1 | RCO_F_VAR | (gc ? RCO_F_GC : 0);
                o->rc_type_ = type;
                rt->live_objects++;
                if (gc) {
                    rco_track_new(rt, o);
                    if (rt->gen_count[0] > rt->threshold[0] && rt->gc_enabled && rt->gc_on_alloc)
                        rt->gc_on_alloc(rt);
                }
                return o;
            }
        }
    }
    return new_object(rt, type, nitems, true);
}

size_t rc_var_len(const rc_obj *o) {
    if (!o || !(o->rc_head_ & RCO_F_VAR))
        return 0;
    return rco_var_of(o)->nitems;
}

long rc_runtime_fail_after(rc_runtime *rt, long n) {
    if (!rt)
        return 0;
    long injected = (long)rt->fail_injected;
    rt->fail_injected = 0;
    rt->fail_countdown = n < 0 ? -1 : n;
    return injected;
}

/* ---- reference counting ---- */

void rco_incref_slow(rc_obj *o) {
    uint64_t h = o->rc_head_;
    if (h & RCO_F_FREED) {
        rco_report_bad_decref(o);
        return;
    }
    if (h & RCO_F_IMMORTAL)
        return;
    if (h & RCO_F_BARRIER) {
        rc_runtime *rt = rco_runtime(o);
        if (rt->gc_barrier)
            rt->gc_barrier(rt, o, false);
        else
            o->rc_head_ &= ~RCO_F_BARRIER;
    }
    o->rc_head_ += 1;
}

void rco_decref_slow(rc_obj *o) {
    uint64_t h = o->rc_head_;
    if (h & (RCO_F_FREED | RCO_F_IMMORTAL)) {
        if (h & RCO_F_FREED)
            rco_report_bad_decref(o);
        return;
    }
    if ((h & RCO_COUNT_MASK) == 0) {
        rco_report_bad_decref(o);
        return;
    }
    o->rc_head_ = h - 1;
    bool zero = ((h - 1) & RCO_COUNT_MASK) == 0;
    if (h & RCO_F_BARRIER) {
        rc_runtime *rt = rco_runtime(o);
        if (rt->gc_barrier) {
            if (rt->gc_barrier(rt, o, zero))
                return;        /* the collector frees it when its step is done */
        } else {
            o->rc_head_ &= ~RCO_F_BARRIER;
        }
    }
    if (zero)
        rco_dealloc(o);
}

void rc_incref(rc_obj *o) {
    rco_incref(o);
}

void rc_decref(rc_obj *o) {
    rco_decref(o);
}

void rc_xdecref(rc_obj *o) {
    if (o)
        rco_decref(o);
}

size_t rc_refcount(const rc_obj *o) {
    if (!o)
        return 0;
    if (o->rc_head_ & RCO_F_QUEUED)
        return 0;
    return rco_refcount(o);
}

const rc_type *rc_typeof(const rc_obj *o) {
    return o ? o->rc_type_ : NULL;
}

const char *rc_type_name(const rc_obj *o) {
    return o ? type_name(o) : "NULL";
}

rc_runtime *rc_runtime_of(const rc_obj *o) {
    if (!o || rco_is_static(o))
        return NULL;
    return rco_runtime(o);
}

int rc_is_immortal(const rc_obj *o) {
    return o && (o->rc_head_ & RCO_F_IMMORTAL) ? 1 : 0;
}

/* ---- deallocation ---- */

/* Debug: keep the header (type, FREED) readable for a while so that late
 * uses are reported; free the oldest when the ring is full. For a tracer
 * the object is freed here, when the program lets go of it (tracemalloc's
 * meaning), not when the ring gives its memory back. */
static void quarantine_put(rc_runtime *rt, rc_obj *o) {
    rci_pheap_retire(rco_block_of(o));
    o->rc_head_ = (o->rc_head_ & ~(RCO_COUNT_MASK | RCO_F_QUEUED)) | RCO_F_FREED;
    rco_quarantine *q = &rt->quarantine;
    if (q->count == q->cap) {
        rc_obj *old = q->slots[q->head];
        q->head = (q->head + 1) % q->cap;
        q->count--;
        rci_pheap_free(rt->heap, rco_block_of(old));
    }
    q->slots[(q->head + q->count) % q->cap] = o;
    q->count++;
}

/* Give o's memory back. The quarantine has slots only in debug mode.
 * maybe_gc false: o is not a container, so its only possible prefix is
 * rco_var. */
RCI_INLINE void release_block(rc_runtime *rt, rc_obj *o, void *block) {
    rt->live_objects--;
    if (rci_unlikely(rt->quarantine.cap != 0)) {
        quarantine_put(rt, o);
        return;
    }
    o->rc_head_ = RCO_F_FREED;    /* see the FREED bit in object.h */
    rci_pheap_free(rt->heap, block);
}

RCI_INLINE void release_memory(rc_runtime *rt, rc_obj *o, bool maybe_gc) {
    release_block(rt, o, maybe_gc ? rco_block_of(o)
                                  : (char *)o - ((o->rc_head_ & RCO_F_VAR) ? sizeof(rco_var) : 0));
}

/* An object brought back to life during its deallocation: a container
 * that was untracked when it was queued is tracked again. */
static void resurrected(rc_runtime *rt, rc_obj *o) {
    if ((o->rc_head_ & RCO_F_GC) && !(o->rc_head_ & RCO_F_TRACKED))
        rco_track(rt, o);
}

static void clear_weakrefs_of(rc_obj *o) {
    rco_weakrefs_clear(rco_runtime(o), o, true);
}

/* Run fn (a finalizer, or the weakref callbacks) on o while o holds a
 * temporary reference. Returns false when o came back to life. */
static bool run_user_code(rc_runtime *rt, rc_obj *o, void (*fn)(rc_obj *)) {
    o->rc_head_ += 1;
    fn(o);
    uint64_t h = o->rc_head_ - 1;
    o->rc_head_ = h;
    if ((h & RCO_COUNT_MASK) != 0) {
        resurrected(rt, o);
        return false;
    }
    return true;
}

/* The last steps of a deallocation, once no finalizer or weak reference
 * can bring o back: untrack, count the container's deallocation, destroy
 * (or clear), free the block. */
RCI_INLINE void destroy_and_release_as(rc_runtime *rt, rc_obj *o, bool fixed_container) {
    const rc_type *t = o->rc_type_;
    uint64_t h = o->rc_head_;
    if (h & RCO_F_TRACKED)
        rco_untrack_in(rt, o);
    if ((fixed_container || (h & RCO_F_GC)) && rt->gen_count[0] > 0)
        rt->gen_count[0]--;
    if (t->destroy)
        t->destroy(o);
    else if (t->clear)
        t->clear(o);
    release_block(rt, o, fixed_container ? (void *)rco_gc_of(o) : rco_block_of(o));
}

RCI_INLINE void destroy_and_release(rc_runtime *rt, rc_obj *o) {
    destroy_and_release_as(rt, o, false);
}

/* The general case of dealloc_one: a finalizer to run, or weak references
 * to clear. Returns false when o was resurrected.
 *
 * o leaves the generation lists before any user code runs: that code may
 * allocate and so start a collection or advance an incremental one, which
 * must not take a dying object into its set (an incremental collection
 * keeps its state in the links of its set and would be corrupted by the
 * unlink that follows). A resurrected o is tracked again (resurrected()). */
static bool dealloc_full(rc_runtime *rt, rc_obj *o) {
    const rc_type *t = o->rc_type_;
    if (o->rc_head_ & RCO_F_TRACKED)
        rco_untrack_in(rt, o);
    if (t->finalize && !(o->rc_head_ & RCO_F_FINALIZED)) {
        o->rc_head_ |= RCO_F_FINALIZED;
        if (!run_user_code(rt, o, t->finalize))
            return false;
    }
    if ((o->rc_head_ & RCO_F_WEAKREFS) && !run_user_code(rt, o, clear_weakrefs_of))
        return false;
    destroy_and_release(rt, o);
    return true;
}

/* Returns false when the object was resurrected by its finalizer. */
RCI_INLINE bool dealloc_one(rc_runtime *rt, rc_obj *o) {
    const rc_type *t = o->rc_type_;
    uint64_t h = o->rc_head_;
    if (rci_unlikely(t->finalize || (h & RCO_F_WEAKREFS)))
        return dealloc_full(rt, o);
    /* the common case: nothing to run before destroy */
    destroy_and_release(rt, o);
    return true;
}

static void enqueue(rc_runtime *rt, rc_obj *o) {
    /* Dead objects are not the collector's: untrack before the count bits
     * become a queue link (a resurrecting finalizer tracks it again). */
    if (o->rc_head_ & RCO_F_TRACKED)
        rco_untrack_in(rt, o);
    o->rc_head_ = (o->rc_head_ & ~RCO_COUNT_MASK) | RCO_F_QUEUED;
    if (rt->pending_tail) {
        rc_obj *t = rt->pending_tail;
        t->rc_head_ = (t->rc_head_ & ~RCO_COUNT_MASK) | ((uint64_t)(uintptr_t)o & RCO_COUNT_MASK);
    } else {
        rt->pending_head = o;
    }
    rt->pending_tail = o;
}

static rc_obj *dequeue(rc_runtime *rt) {
    rc_obj *o = rt->pending_head;
    if (!o)
        return NULL;
    rc_obj *next = (rc_obj *)(uintptr_t)(o->rc_head_ & RCO_COUNT_MASK);
    rt->pending_head = next;
    if (!next)
        rt->pending_tail = NULL;
    o->rc_head_ &= ~(RCO_COUNT_MASK | RCO_F_QUEUED);
    return o;
}


/* Deallocations that are not nested inside another (depth 0: drain the
 * queue afterwards), too deep (queue), or during teardown (ignored: the
 * heap goes at once). rt->dealloc_depth is RCO_DEALLOC_TEARDOWN from the
 * start of teardown, so the fast path's one compare also excludes it. */
static RCI_NOINLINE void dealloc_outer(rc_runtime *rt, rc_obj *o, int depth) {
    if (rt->tearing_down)
        return;
    if (depth > 0) {
        enqueue(rt, o);
        return;
    }
    rt->dealloc_depth = 1;
    dealloc_one(rt, o);
    while ((o = dequeue(rt)) != NULL)
        dealloc_one(rt, o);
    rt->dealloc_depth = 0;
}

int rco_dealloc_batch_begin(rc_runtime *rt) {
    int depth = rt->dealloc_depth;
    if (depth == 0)
        rt->dealloc_depth = 1;
    return depth;
}

void rco_dealloc_drain(rc_runtime *rt) {
    rc_obj *o;
    while ((o = dequeue(rt)) != NULL)
        dealloc_one(rt, o);
}

void rco_dealloc_batch_end(rc_runtime *rt, int depth) {
    if (depth != 0)
        return;
    rco_dealloc_drain(rt);
    rt->dealloc_depth = 0;
}

void rc_dealloc_(rc_obj *o) {
    rc_runtime *rt = rco_runtime(o);
    int depth = rt->dealloc_depth;
    /* the common case: a deallocation nested in another one's destroy, of
     * an object with nothing to run before destroy */
    if (rci_likely((unsigned)depth - 1u < RCO_DEALLOC_DIRECT_DEPTH - 1u)) {
        const rc_type *t = o->rc_type_;
        if (rci_likely(!t->finalize && !(o->rc_head_ & (RCO_F_WEAKREFS | RCO_F_TRACKED | RCO_F_GC)))) {
            void (*fn)(rc_obj *) = t->destroy ? t->destroy : t->clear;
            if (fn) {
                rt->dealloc_depth = depth + 1;
                fn(o);
                rt->dealloc_depth--;
            }
            release_memory(rt, o, false);
            return;
        }
        rt->dealloc_depth = depth + 1;
        /* a container of a fixed-size type with nothing to run before
         * destroy: the block is known, two tests fold away */
        if (rci_likely(!t->finalize && (o->rc_head_ & (RCO_F_WEAKREFS | RCO_F_VAR | RCO_F_GC)) == RCO_F_GC))
            destroy_and_release_as(rt, o, true);
        else
            dealloc_one(rt, o);
        rt->dealloc_depth = depth;
        return;
    }
    dealloc_outer(rt, o, depth);
}

/* ---- protocol ---- */

static rc_runtime *protocol_runtime(rc_runtime *rt, const rc_obj *o) {
    if (rt)
        return rt;
    return rco_is_static(o) ? NULL : rco_runtime(o);
}

/* The depth half of the recursion guard (object.h): enter one level; false,
 * with RC_EOVERFLOW recorded, when that would pass RCO_MAX_PROTOCOL_DEPTH. */
static bool enter(rc_runtime *rt, const char *fn) {
    if (!rt)
        return true;
    if (rt->protocol_depth >= RCO_MAX_PROTOCOL_DEPTH) {
        rco_err(rt, RC_EOVERFLOW, "%s: maximum nesting depth (%d) exceeded", fn,
                RCO_MAX_PROTOCOL_DEPTH);
        return false;
    }
    rt->protocol_depth++;
    return true;
}

static void leave(rc_runtime *rt) {
    if (rt)
        rt->protocol_depth--;
}

/* Record code unless the slot that failed already recorded it. */
static int slot_failed(rc_runtime *rt, int code, const char *what, const char *a, const char *b) {
    if (rt && rt->err_code == code)
        return code;
    return rco_err(rt, code, "%s %s%s%s failed", what, a, b[0] ? " with " : "", b);
}

int rc_hash(rc_runtime *rt, rc_obj *o, uint64_t *out) {
    if (!o || !out)
        return rco_err(rt, RC_EINVAL, "rc_hash: NULL argument");
    if (!rco_check_live(rt, o, "rc_hash"))
        return RC_ESTATE;
    if (!o->rc_type_->hash)
        return rco_err(rt, RC_ETYPE, "unhashable type: '%s'", type_name(o));
    rc_runtime *prt = protocol_runtime(rt, o);
    if (!enter(prt, "rc_hash"))
        return RC_EOVERFLOW;
    int r = o->rc_type_->hash(o, out);
    leave(prt);
    if (r < 0)
        return slot_failed(rt, r, "hashing", type_name(o), "");
    return 0;
}

int rc_equal(rc_runtime *rt, rc_obj *a, rc_obj *b) {
    if (!a || !b)
        return rco_err(rt, RC_EINVAL, "rc_equal: NULL argument");
    if (a == b)
        return 1;
    if (!rco_check_live(rt, a, "rc_equal") || !rco_check_live(rt, b, "rc_equal"))
        return RC_ESTATE;
    rc_runtime *prt = protocol_runtime(rt, a);
    if (!enter(prt, "rc_equal"))
        return RC_EOVERFLOW;
    int r = 0;
    if (a->rc_type_->equal)
        r = a->rc_type_->equal(a, b);
    if (r == 0 && a->rc_type_ != b->rc_type_ && b->rc_type_->equal)
        r = b->rc_type_->equal(b, a);
    leave(prt);
    if (r < 0)
        return slot_failed(rt, r, "comparing", type_name(a), type_name(b));
    return r > 0 ? 1 : 0;
}

int rc_repr(rc_runtime *rt, rc_obj *o, char *buf, size_t len) {
    if (!o)
        return rco_err(rt, RC_EINVAL, "rc_repr: NULL object");
    if (!buf && len)
        return rco_err(rt, RC_EINVAL, "rc_repr: NULL buffer");
    if (o->rc_head_ & RCO_F_FREED)
        return snprintf(buf, len, "<freed %s object at %p>", type_name(o), (void *)o);
    if (!o->rc_type_->repr)
        return snprintf(buf, len, "<%s object at %p>", type_name(o), (void *)o);
    rc_runtime *prt = protocol_runtime(rt, o);
    if (!enter(prt, "rc_repr"))
        return RC_EOVERFLOW;
    int r = o->rc_type_->repr(o, buf, len);
    leave(prt);
    if (r < 0)
        return slot_failed(rt, r, "repr of", type_name(o), "");
    return r;
}

/* ---- hashing helpers (Python's numeric hash: equal numbers hash alike) ---- */

#define HASH_MODULUS_BITS 61
#define HASH_MODULUS (((uint64_t)1 << HASH_MODULUS_BITS) - 1)

static uint64_t finish_signed(int64_t h) {
    if (h == -1)
        h = -2;
    return (uint64_t)h;
}

uint64_t rco_hash_int(int64_t v) {
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int64_t h = (int64_t)(m % HASH_MODULUS);
    if (v < 0)
        h = -h;
    return finish_signed(h);
}

uint64_t rco_hash_double(double v) {
    if (isinf(v))
        return v > 0 ? 314159u : finish_signed(-314159);
    if (isnan(v))
        return 0;
    int e;
    double m = frexp(v, &e);
    int sign = 1;
    if (m < 0) {
        sign = -1;
        m = -m;
    }
    /* process 28 bits at a time, as CPython's _Py_HashDouble */
    uint64_t x = 0;
    while (m) {
        x = ((x << 28) & HASH_MODULUS) | x >> (HASH_MODULUS_BITS - 28);
        m *= 268435456.0;
        e -= 28;
        uint64_t y = (uint64_t)m;
        m -= (double)y;
        x += y;
        if (x >= HASH_MODULUS)
            x -= HASH_MODULUS;
    }
    e = e >= 0 ? e % HASH_MODULUS_BITS : HASH_MODULUS_BITS - 1 - ((-1 - e) % HASH_MODULUS_BITS);
    x = ((x << e) & HASH_MODULUS) | x >> (HASH_MODULUS_BITS - e);
    int64_t h = (int64_t)x * sign;
    return finish_signed(h);
}

uint64_t rco_hash_bytes(const void *data, size_t len) {
    /* 64-bit multiply-xorshift over 8-byte words; good dispersion, fast. */
    const unsigned char *p = data;
    uint64_t h = UINT64_C(0x9E3779B97F4A7C15) ^ (len * UINT64_C(0xC2B2AE3D27D4EB4F));
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h ^= w * UINT64_C(0x87C37B91114253D5);
        h = (h << 31 | h >> 33) * UINT64_C(0x4CF5AD432745937F);
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)p[i] << (8 * i);
    h ^= w * UINT64_C(0x87C37B91114253D5);
    h ^= h >> 33;
    h *= UINT64_C(0xFF51AFD7ED558CCD);
    h ^= h >> 33;
    h *= UINT64_C(0xC4CEB9FE1A85EC53);
    h ^= h >> 33;
    if (h == (uint64_t)-1)
        h = (uint64_t)-2;
    return h;
}
