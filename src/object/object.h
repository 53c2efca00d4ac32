/* object.h - the object layer's internal contract: header layout, block
 * kinds, refcounting, and what the types and gc layers may call.
 *
 * Memory of an object (in its runtime's private heap, see heap/private.h):
 *
 *   [ rco_var (8 B) if RCO_F_VAR ][ rco_gc (16 B) if RCO_F_GC ][ rc_obj ... ]
 *   ^ block start                                                ^ the object
 *
 * so the collector's links are always just before the object.
 *
 * The heap block's kind says which prefixes are present (RCO_KIND_*), so a
 * walk of the heap finds every object. Auxiliary buffers (list items, dict
 * tables, str data beyond the object) are blocks of kind RCO_KIND_BUFFER in
 * the same heap, allocated with rco_alloc/rco_realloc/rco_free.
 *
 * rc_head_ (64 bits): the low 55 bits are the reference count, the top 9 are
 * flags. The count's top bit (54, RCO_COUNT_GUARD) is never reached by a
 * real count (2**54 references need more memory than the address space
 * holds), so the refcount fast paths treat it as a slow bit; the slow paths
 * count through it correctly. Every flag is documented here:
 *   63 IMMORTAL  refcount operations are ignored; never freed
 *   62 WEAKREFS  weak references to this object may exist (table lookup)
 *   61 FINALIZED type->finalize has run (PEP 442: at most once)
 *   60 FREED     the object is dead: set when its memory goes back to the
 *                heap; for an object at the block start the heap's free-list
 *                link, stored complemented, keeps it set (it is one of
 *                RCI_FREE_WORD_BITS; IMMORTAL then reads as set too), so a
 *                late incref/decref takes the slow path and is reported, not
 *                applied, while the block is free. Debug mode keeps the whole
 *                header (type included) readable in the quarantine.
 *   59 GC        the block has an rco_gc prefix (type has RC_TYPE_GC)
 *   58 VAR       the block has an rco_var prefix (made by rc_new_var)
 *   57 TRACKED   linked into a generation list of the collector
 *   55 BARRIER   in the set of an incremental (bounded-pause) collection:
 *                refcount changes go through the slow path, which tells the
 *                collector (rt->gc_barrier); cleared when that collection's
 *                last step has passed the object
 *   56 QUEUED    its count reached zero and it waits in the deferred
 *                deallocation queue; the count bits then hold the link to the
 *                next waiting object (the count is 0 by definition)
 * Immortal constants that live in no heap (small ints) are IMMORTAL objects
 * outside every arena (rc_heap_contains is false for them).
 */
#ifndef RC_OBJECT_OBJECT_H
#define RC_OBJECT_OBJECT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recycle/object.h"
#include "heap/htable.h"
#include "heap/private.h"

#define RCO_COUNT_MASK  ((UINT64_C(1) << 55) - 1)
#define RCO_COUNT_GUARD (UINT64_C(1) << 54)  /* top count bit: a slow bit of the fast paths */
#define RCO_F_BARRIER   (UINT64_C(1) << 55)
#define RCO_F_IMMORTAL  (UINT64_C(1) << 63)
#define RCO_F_WEAKREFS  (UINT64_C(1) << 62)
#define RCO_F_FINALIZED (UINT64_C(1) << 61)
#define RCO_F_FREED     (UINT64_C(1) << 60)
#define RCO_F_GC        (UINT64_C(1) << 59)
#define RCO_F_VAR       (UINT64_C(1) << 58)
#define RCO_F_TRACKED   (UINT64_C(1) << 57)
#define RCO_F_QUEUED    (UINT64_C(1) << 56)

/* Kinds of blocks in a runtime's private heap. */
enum {
    RCO_KIND_BUFFER = 0,   /* not an object */
    RCO_KIND_PLAIN = 1,    /* object at the block start */
    RCO_KIND_VAR = 2,      /* rco_var, then the object */
    RCO_KIND_GC = 3,       /* rco_gc, then the object */
    RCO_KIND_GC_VAR = 4    /* rco_var, rco_gc, then the object */
};

/* The collector's links, before a GC object. gc_next == NULL: untracked. */
typedef struct rco_gc {
    struct rco_gc *gc_next, *gc_prev;
} rco_gc;

/* The item count of a var-sized object (CPython's ob_size, in front of the
 * object rather than in it). 8 bytes: a var object is 8-byte aligned, not
 * 16 (as in CPython, whose var objects start 8 bytes off too), which every
 * field of the built-ins and the collector's three link flags need. */
typedef struct rco_var {
    size_t nitems;
} rco_var;

/* Statically initialised immortal object header (for constants). */
#define RCO_STATIC_HEAD(type_ptr) { RCO_F_IMMORTAL | 1u, (type_ptr) }

static inline size_t rco_prefix_size(uint64_t head) {
    return ((head & RCO_F_GC) ? sizeof(rco_gc) : 0) + ((head & RCO_F_VAR) ? sizeof(rco_var) : 0);
}
static inline rco_gc *rco_gc_of(const rc_obj *o) {
    return (rco_gc *)(void *)((char *)(uintptr_t)o - sizeof(rco_gc));
}
static inline rc_obj *rco_from_gc(const rco_gc *g) {
    return (rc_obj *)(void *)((char *)(uintptr_t)g + sizeof(rco_gc));
}
static inline rco_var *rco_var_of(const rc_obj *o) {
    return (rco_var *)(void *)((char *)(uintptr_t)o - rco_prefix_size(o->rc_head_));
}
static inline void *rco_block_of(const rc_obj *o) {
    return (char *)(uintptr_t)o - rco_prefix_size(o->rc_head_);
}

/* ---- the runtime (runtime.c) ---- */

/* ---- errors recorded lazily (error.c) ----
 *
 * A frequent, expected failure (a dict miss) records its code and the few
 * values its message needs; the text is formatted only if someone reads
 * rc_error_message. The values are copies, never object references: a lazy
 * error owns nothing, so replacing or clearing it releases nothing and runs
 * no code, and it cannot outlive what it describes (a key of another
 * runtime, a key the collector frees). */
#define RCO_ERR_MSG_SIZE 256
typedef struct rco_lazy_err rco_lazy_err;
/* Write the message for e into buf (cap > 0 bytes, NUL-terminated). Runs
 * no user code and allocates nothing. */
typedef void (*rco_errfmt)(char *buf, size_t cap, const rco_lazy_err *e);
struct rco_lazy_err {
    rco_errfmt format;        /* NULL: the runtime's err_msg is current */
    int kind;                 /* what the fields below hold, as format defines */
    int64_t num;              /* a number */
    size_t len;               /* e.g. the full length of what text is a prefix of */
    char text[64];            /* copied bytes (not NUL-terminated) */
};

/* The runtime's error, saved around work that is not the caller's operation
 * (a collection, a benign shrink) and put back afterwards. */
typedef struct rco_error_state {
    int code;
    rco_lazy_err lazy;
    char msg[RCO_ERR_MSG_SIZE];
} rco_error_state;

typedef struct rco_quarantine {
    rc_obj **slots;
    size_t cap, head, count;
} rco_quarantine;

struct rc_runtime {
    rci_heap *heap;                 /* private heap: objects and their buffers */
    rc_config config;
    bool debug;
    bool tearing_down;              /* rc_runtime_free is destroying what is left */
    int err_code;
    char err_msg[RCO_ERR_MSG_SIZE];
    /* when err_lazy.format is set, err_msg is stale: rc_error_message
     * formats it from err_lazy on first read (see error.c) */
    rco_lazy_err err_lazy;

    /* the recursion guard of rc_hash/rc_equal/rc_repr (see "recursion
     * guard" below): nesting depth, and the objects whose repr is running */
    int protocol_depth;
    const struct rco_repr_frame *repr_top;

    /* deferred deallocation (no deep recursion when freeing chains):
     * nesting of deallocations in progress, RCO_DEALLOC_TEARDOWN once
     * rc_runtime_free has started destroying what is left */
    int dealloc_depth;
    rc_obj *pending_head, *pending_tail;

    /* statistics: live objects; bytes of buffers (rco_alloc). Object bytes
     * are computed on demand by walking the heap. */
    size_t live_objects, buffer_bytes;
    /* Objects the library keeps for itself from the runtime's creation on
     * (the gc layer's garbage list): in live_objects, not in
     * rc_runtime_object_count, so that a new runtime counts 0 objects. */
    size_t internal_objects;

    /* cycle collector state lives in the gc layer; the object layer keeps
     * the generation lists it must maintain on track/untrack, and hooks the
     * gc layer installs (a lower layer calls upward only through these). */
    rco_gc gen[3];                  /* list heads (circular, sentinel) */
    size_t gen_count[3];            /* CPython's generations[i].count */
    size_t tracked_count;           /* objects tracked now (frozen included) */
    size_t frozen_count;            /* objects on the permanent list */
    rco_gc permanent;               /* frozen objects */
    size_t threshold[3];
    bool gc_enabled, gc_collecting;
    void *gc_state;
    void (*gc_on_alloc)(rc_runtime *rt);          /* after a tracked allocation */
    void (*gc_final)(rc_runtime *rt);             /* rc_runtime_free: final collection */
    void (*gc_emergency)(rc_runtime *rt);         /* out of memory: collect, then retry */
    void (*gc_teardown)(rc_runtime *rt);          /* free gc_state */
    /* Refcount change of an object carrying RCO_F_BARRIER. zero: the count
     * just reached zero. Returns true when the collector keeps the object
     * (its deallocation is deferred to the end of the collection). */
    bool (*gc_barrier)(rc_runtime *rt, rc_obj *o, bool zero);
    /* Is o, which carries RCO_F_BARRIER, garbage that an incremental
     * collection has found and is taking apart in steps? rc_weakref_get
     * then answers NULL, as if the reference were cleared already. */
    bool (*gc_doomed)(rc_runtime *rt, const rc_obj *o);
    /* The collector's cursor into a list it walks in steps: rco_untrack of
     * that node moves the cursor to the next node first. */
    rco_gc *gc_cursor;

    /* weak references: target -> first weakref object */
    rci_htable weakrefs;

    /* per-runtime state of the types layer (intern table, ...), with a
     * teardown the types layer registers (runtime_free calls it last) */
    void *types_state;
    void (*types_teardown)(rc_runtime *rt);

    /* fault injection for out-of-memory tests: allocations left before they
     * start failing (-1: never), and how many were failed */
    long fail_countdown;
    size_t fail_injected;

    /* debug */
    rc_debug_fn debug_fn;
    void *debug_arg;
    size_t debug_errors;
    rco_quarantine quarantine;
};

/* The runtime of a heap-allocated object (not for static constants). */
static inline rc_runtime *rco_runtime(const rc_obj *o) {
    return (rc_runtime *)rci_pheap_client_of(o);
}
/* Is o a constant outside every heap (a static small int)? */
static inline bool rco_is_static(const rc_obj *o) {
    return (o->rc_head_ & RCO_F_IMMORTAL) && !rci_arena_map_is_head((uintptr_t)o);
}

/* Does o belong to a runtime other than rt? Every object a container holds
 * must be of the container's runtime: rc_runtime_free of another runtime
 * would leave the container a dangling pointer. Static constants (small
 * ints) belong to no runtime and may be stored anywhere. The immortal test
 * comes first because a static object has no arena to read. */
static inline bool rco_is_foreign(const rc_runtime *rt, const rc_obj *o) {
    if (rci_unlikely(o->rc_head_ & RCO_F_IMMORTAL) && rco_is_static(o))
        return false;
    return rco_runtime(o) != rt;
}
/* Record the refusal of a foreign object (RC_EINVAL, naming both types and
 * the call) and return RC_EINVAL. */
int rco_refuse_foreign(rc_runtime *rt, const char *call, const rc_obj *container, const rc_obj *item);

/* ---- runtime creation (runtime.c); the public rc_runtime_new and
 * rc_runtime_free live in the gc layer, which attaches the collector ---- */
rc_runtime *rco_runtime_create(const rc_config *config);
void rco_runtime_destroy(rc_runtime *rt);

/* ---- errors (error.c): set the runtime's error, return code / NULL ---- */
int   rco_err(rc_runtime *rt, int code, const char *fmt, ...) RC_PRINTF(3, 4);
void *rco_err_null(rc_runtime *rt, int code, const char *fmt, ...) RC_PRINTF(3, 4);
int   rco_nomem(rc_runtime *rt);            /* RC_ENOMEM with a standard message */
void *rco_nomem_null(rc_runtime *rt);
/* Record code with a message that format writes from the fields of the
 * returned struct, which the caller fills before anything else touches the
 * runtime's error. Costs a few stores; the text is made on first read. */
static inline rco_lazy_err *rco_err_lazy(rc_runtime *rt, int code, rco_errfmt format) {
    rt->err_code = code;
    rt->err_lazy.format = format;
    return &rt->err_lazy;
}
/* Copy the runtime's error (lazy or not) into *s / put it back, replacing
 * whatever was recorded in between. Allocate nothing, run no code. */
void  rco_error_save(const rc_runtime *rt, rco_error_state *s);
void  rco_error_restore(rc_runtime *rt, const rco_error_state *s);

/* Fault injection: true when this allocation must fail (see
 * rc_runtime_fail_after). */
static inline bool rco_inject_failure(rc_runtime *rt) {
    if (__builtin_expect(rt->fail_countdown < 0, 1))
        return false;
    if (rt->fail_countdown == 0) {
        rt->fail_injected++;
        return true;
    }
    rt->fail_countdown--;
    return false;
}

/* ---- recursion guard (CPython's Py_EnterRecursiveCall and Py_ReprEnter) ----
 *
 * Held in the runtime, not in thread-locals: a runtime is used by one thread
 * at a time, and every object a container holds is of the container's
 * runtime, so the runtime sees the whole of a nested call. Two runtimes on
 * two threads have separate guards.
 *
 * Depth: rc_hash, rc_equal and rc_repr enter one level around the type's
 * slot (rt->protocol_depth) and fail with RC_EOVERFLOW, recorded, beyond
 * RCO_MAX_PROTOCOL_DEPTH, so nested containers cannot exhaust the C stack
 * (Python's RecursionError). A slot that recurses through those three
 * functions needs nothing more for depth.
 *
 * Cycles in repr: a container's repr slot calls rco_repr_enter(rt, &frame,
 * self) first. It returns false when self is already being printed further
 * out (the slot then writes "[...]", "{...}", ...), true after pushing frame
 * onto rt's chain; rco_repr_leave pops it on every way out. The frames live
 * on the C stack of the reprs in progress: nothing is allocated, and the
 * search is linear in the nesting depth, as CPython's. rt is the container's
 * own runtime (rco_runtime(self)). */
#define RCO_MAX_PROTOCOL_DEPTH 2000

typedef struct rco_repr_frame {
    const rc_obj *obj;
    const struct rco_repr_frame *up;
} rco_repr_frame;

static inline bool rco_repr_enter(rc_runtime *rt, rco_repr_frame *frame, const rc_obj *self) {
    for (const rco_repr_frame *f = rt->repr_top; f; f = f->up)
        if (f->obj == self)
            return false;
    frame->obj = self;
    frame->up = rt->repr_top;
    rt->repr_top = frame;
    return true;
}

static inline void rco_repr_leave(rc_runtime *rt, const rco_repr_frame *frame) {
    rt->repr_top = frame->up;
}

/* Nested deallocations up to this depth run directly (cheap, and the
 * memory is still hot); deeper ones are queued, so the C stack holds at
 * most this many levels of rc_dealloc_ and a type's destroy. 32 covers the
 * nesting of most data (a balanced tree of 2^32 nodes) without the queue. */
#define RCO_DEALLOC_DIRECT_DEPTH 32
#define RCO_DEALLOC_TEARDOWN (1 << 30)

/* ---- buffers from the runtime's heap (object.c) ---- */
void *rco_alloc(rc_runtime *rt, size_t size);             /* NULL + RC_ENOMEM recorded */
void *rco_realloc(rc_runtime *rt, void *p, size_t size);  /* p unchanged on failure */
void  rco_free(rc_runtime *rt, void *p);                  /* NULL allowed */

/* ---- objects (object.c) ---- */
/* The count reached zero (rc_dealloc_ is its exported name, for the public
 * inline rc_decref). */
static inline void rco_dealloc(rc_obj *o) { rc_dealloc_(o); }
/* Deallocations between these run as if nested in one (the direct path up
 * to RCO_DEALLOC_DIRECT_DEPTH, then the queue, drained by _end): for a
 * caller that frees many objects in a row from outside any deallocation
 * (the collector's deletion of garbage). _begin returns what _end takes.
 * Inside a batch, rco_dealloc_drain finishes what one operation set off
 * (a queued object still holds its references until it runs). */
int rco_dealloc_batch_begin(rc_runtime *rt);
void rco_dealloc_batch_end(rc_runtime *rt, int depth);
void rco_dealloc_drain(rc_runtime *rt);
_Static_assert(RC_HEAD_COUNT_MASK_ == RCO_COUNT_MASK, "public count mask");
_Static_assert((RCI_FREE_WORD_BITS & RCO_F_FREED) != 0, "a free heap block's first two words read as a freed header");
_Static_assert(RC_HEAD_SLOW_BITS_ == (RCO_F_IMMORTAL | RCO_F_FREED | RCO_F_BARRIER | RCO_COUNT_GUARD),
               "public slow-path bits");
_Static_assert(RCO_F_BARRIER == RCO_COUNT_MASK + 1 && RCO_COUNT_GUARD == RCO_F_BARRIER >> 1,
               "the decref's one test needs BARRIER right above the count, the guard its top bit");
_Static_assert(RC_HEAD_BARRIER_ == RCO_F_BARRIER && RC_HEAD_COUNT_GUARD_ == RCO_COUNT_GUARD,
               "public barrier and guard bits");
_Static_assert(RC_HEAD_IMMORTAL_ == RCO_F_IMMORTAL && RC_HEAD_FREED_ == RCO_F_FREED,
               "public immortal and freed bits");
/* Where the reports of rt go (debug errors, leak lists, the collector's
 * debug output): the config's report file, else stderr; stderr when rt is
 * NULL (an object of no runtime). */
static inline FILE *rco_report_stream(const rc_runtime *rt) {
    return rt && rt->config.report ? rt->config.report : stderr;
}
void rco_report(rc_runtime *rt, const char *fmt, ...) RC_PRINTF(2, 3);  /* debug report */
void rco_report_bad_decref(rc_obj *o);

void rco_incref_slow(rc_obj *o);
void rco_decref_slow(rc_obj *o);

/* The library's refcounting: the public fast paths (recycle/object.h) with
 * the internal slow paths, which handle every head with a slow bit. */
static inline void rco_incref(rc_obj *o) {
    rc_incref_with_(o, rco_incref_slow);
}

static inline void rco_decref(rc_obj *o) {
    rc_decref_with_(o, rco_decref_slow);
}

static inline void rco_xdecref(rc_obj *o) {
    if (o)
        rco_decref(o);
}

static inline size_t rco_refcount(const rc_obj *o) {
    return (size_t)(o->rc_head_ & RCO_COUNT_MASK);
}

/* Make o immortal (interned strings, constants). */
static inline void rco_immortalize(rc_obj *o) {
    o->rc_head_ |= RCO_F_IMMORTAL;
}

/* Debug: is o usable? Reports a freed object on rt and returns false. */
bool rco_check_live(rc_runtime *rt, const rc_obj *o, const char *fn);

/* ---- type checks ---- */
static inline bool rco_is(const rc_obj *o, const rc_type *t) {
    return o && o->rc_type_ == t;
}

/* ---- tracking (track.c): the collector's generation lists ---- */
void rco_gc_list_init(rco_gc *head);
void rco_gc_list_merge(rco_gc *from, rco_gc *to);    /* move all of from to the end of to */
bool rco_gc_list_empty(const rco_gc *head);
/* Inline: the allocation and deallocation paths use them. */
static inline void rco_gc_list_append(rco_gc *head, rco_gc *node) {
    rco_gc *last = head->gc_prev;
    node->gc_prev = last;
    node->gc_next = head;
    last->gc_next = node;
    head->gc_prev = node;
}
static inline void rco_gc_list_remove(rco_gc *node) {
    node->gc_prev->gc_next = node->gc_next;
    node->gc_next->gc_prev = node->gc_prev;
    node->gc_next = node->gc_prev = NULL;
}

void rco_untrack(rc_obj *o);                  /* no-op if not tracked */
/* Append o, not tracked yet, to generation 0 (rco_track is the checked form). */
static inline void rco_track_new(rc_runtime *rt, rc_obj *o) {
    rco_gc_list_append(&rt->gen[0], rco_gc_of(o));
    o->rc_head_ |= RCO_F_TRACKED;
    rt->gen_count[0]++;
    rt->tracked_count++;
}
static inline void rco_track(rc_runtime *rt, rc_obj *o) {
    if (!(o->rc_head_ & RCO_F_TRACKED))
        rco_track_new(rt, o);
}

/* rco_untrack of an object known to be tracked, whose runtime the caller
 * has at hand (the deallocation path). */
static inline void rco_untrack_in(rc_runtime *rt, rc_obj *o) {
    rco_gc *g = rco_gc_of(o);
    if (rt->gc_cursor == g)
        rt->gc_cursor = g->gc_next;
    rco_gc_list_remove(g);
    o->rc_head_ &= ~RCO_F_TRACKED;
    rt->tracked_count--;
}

/* ---- weak references (weakref.c) ---- */
/* Clear o's weak references and run their callbacks (after all are cleared). */
void rco_weakrefs_clear(rc_runtime *rt, rc_obj *o, bool call_callbacks);
/* The same in two steps, so that the collector clears the weak references
 * of every unreachable object before the first callback runs. */
typedef struct rco_weakref_chain { rc_obj *head, *tail; } rco_weakref_chain;
void rco_weakrefs_detach(rc_runtime *rt, rc_obj *o, rco_weakref_chain *pending);
void rco_weakrefs_run_callbacks(rco_weakref_chain *pending);
/* One callback at a time (the bounded-pause mode): take the first weak
 * reference off the chain (NULL when empty); it still holds the temporary
 * reference detach gave it, which the caller drops after
 * rco_weakref_call. */
rc_obj *rco_weakrefs_pop(rco_weakref_chain *pending);
void rco_weakref_call(rc_obj *ref);
void rco_weakrefs_teardown(rc_runtime *rt);

/* ---- hashing helpers shared by the types ---- */
uint64_t rco_hash_bytes(const void *data, size_t len);   /* never returns (uint64_t)-1 */
uint64_t rco_hash_int(int64_t v);                        /* as Python: equal numbers hash alike */
uint64_t rco_hash_double(double v);

#endif /* RC_OBJECT_OBJECT_H */
