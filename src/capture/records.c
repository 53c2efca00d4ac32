/* records.c - records to bytes and back: rccap_encode and rcf_decode.
 *
 * The two are written side by side so that each field's encoding can be
 * read against its decoding; docs/capture-format.md gives the same in
 * tables. Each record is
 *
 *   tag [time delta if T] [thread if H] fields of its kind
 *
 * and every delta is taken against the chunk's delta state (the encoder's
 * last_* fields, the decoder's rcf_state), which both sides advance in the
 * same order (format.h).
 *
 * The encoder is on the traced program's allocation path: it calls
 * nothing but memcpy and never allocates. It writes a record straight into
 * the caller's buffer when the buffer has room for the longest encoding;
 * only near the end of the buffer does it first measure the record (into a
 * small scratch buffer, strings counted rather than copied) to decide
 * whether it fits.
 *
 * The decoder checks every byte it reads: a field that runs past the end of
 * the chunk, a varint longer than 64 bits, a value out of its range, a flag
 * the kind does not have, a string without its NUL or with a NUL inside. It
 * does not know which stack ids were defined: the reader checks that. */
#include "capture/format.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/* ---- encoding ---- */

void rccap_encoder_init(rccap_encoder *e, uint8_t *buf, size_t cap) {
    memset(e, 0, sizeof *e);
    e->buf = buf;
    e->cap = cap;
}

void rccap_encoder_reset(rccap_encoder *e) {
    e->len = 0;
    e->count = 0;
    e->last_time = 0;
    e->last_ptr = 0;
    e->last_pc = 0;
    e->last_ref = 0;
    e->last_thread = 0;
    e->last_stack = 0;
    e->last_fref = 0;
    e->last_astack = 0;
    e->frees = 0;
    e->allocs = 0;
    if (e->model)
        rcf_model_forget_all(e->model);
}

/* How one pointer field will be written: a reference found in the model,
 * or a delta or the absolute value, decided by encode_record. Found before
 * anything is written, so that measuring a record changes nothing. */
typedef struct ptr_plan {
    bool ref;
    uint32_t n;             /* the referenced free or allocation number */
} ptr_plan;

/* A field that hands a block out refers to the frees; one that takes a
 * block back, to the allocations. */
static ptr_plan plan_ptr(const rccap_encoder *e, int table, uint64_t ptr) {
    ptr_plan pl = {false, 0};
    uint32_t count = table == RCF_FREED ? e->frees : e->allocs;
    pl.ref = rcf_model_find(e->model, table, ptr, count, &pl.n);
    return pl;
}

static uint8_t *put_ptr(uint8_t *p, rccap_encoder *st, const ptr_plan *pl, int table,
                        uint64_t ptr) {
    uint64_t base = st->last_ptr;
    st->last_ptr = ptr;
    if (pl->ref) {
        uint64_t r;
        if (table == RCF_FREED) {
            /* the shorter of "frees ago" and "next to the last free
             * referred to" (see format.h) */
            uint64_t ago = st->frees - 1 - pl->n;
            uint64_t step = rcf_zigzag((uint64_t)pl->n - st->last_fref);
            st->last_fref = pl->n;
            if (step < ago)
                return rcf_put_varint(p, (step + 1) << 2 | 3);
            r = ago;
        } else {
            r = rcf_zigzag((uint64_t)pl->n - st->last_ref);
            st->last_ref = pl->n;
        }
        return rcf_put_varint(p, r << 2 | 1);
    }
    uint64_t d = ptr - base;
    if ((d & 15) == 0) {
        /* d / 16 as a signed number: shift, then copy the sign bit into
         * the four bits the shift emptied. |q| < 2^59, so the zigzag is
         * below 2^60 and the doubling cannot overflow. */
        uint64_t q = (d >> 4) | (0 - (d >> 63)) << 60;
        return rcf_put_varint(p, rcf_zigzag(q) << 1);
    }
    *p++ = RCF_PTR_ABSOLUTE;
    return rcf_put_varint(p, ptr);
}

/* Bytes ev's strings add to its fixed part (RCCAP_RECORD_MAX covers the
 * rest), or SIZE_MAX when ev is not a valid event. */
static size_t event_extra(const rccap_event *ev) {
    switch (ev->kind) {
    case RCCAP_ALLOC:
        if ((unsigned)ev->u.alloc.fn >= RCCAP_FN_MAX)
            return SIZE_MAX;
        return 0;
    case RCCAP_FREE:
    case RCCAP_REALLOC:
    case RCCAP_MEMORY:
        return 0;
    case RCCAP_STACK:
        return ev->u.stack.id == 0 ? SIZE_MAX : 0;
    case RCCAP_MODULE: {
        if (ev->u.module.end < ev->u.module.start)
            return SIZE_MAX;
        if (ev->u.module.build_id_len && !ev->u.module.build_id)
            return SIZE_MAX;
        size_t n = ev->u.module.path ? rcf_cut_len(ev->u.module.path, RCCAP_STRING_MAX) + 1 : 0;
        uint32_t b = ev->u.module.build_id_len;
        return n + (b > RCCAP_BUILD_ID_MAX ? RCCAP_BUILD_ID_MAX : b);
    }
    case RCCAP_THREAD:
        return ev->u.thread.name ? rcf_cut_len(ev->u.thread.name, RCCAP_STRING_MAX) + 1 : 0;
    case RCCAP_EXIT:
        return (unsigned)ev->u.exit.how > RCCAP_END_UNKNOWN ? SIZE_MAX : 0;
    case RCCAP_LEAK:
        return (unsigned)ev->u.leak.state > RCCAP_LEAK_LOST ? SIZE_MAX : 0;
    case RCCAP_SYNC:
        return 0;
    case RCCAP_GC:
        return ev->u.gc.generation > 2 ? SIZE_MAX : 0;
    default:
        return SIZE_MAX;
    }
}

/* Write bytes of a string (copy) or only count them (skip). */
typedef struct strsink {
    bool copy;
    size_t skipped;
} strsink;

static uint8_t *put_bytes(uint8_t *p, strsink *s, const void *src, size_t n, bool nul) {
    p = rcf_put_varint(p, n);
    if (!s->copy) {
        s->skipped += n + nul;
        return p;
    }
    memcpy(p, src, n);
    p += n;
    if (nul)
        *p++ = 0;
    return p;
}

/* Encode ev (valid) at out following the plans of its pointer fields
 * (pl[0]: ALLOC's, FREE's, LEAK's or REALLOC's old one; pl[1]: REALLOC's
 * new one), advancing the delta state in st (an encoder; its buffer, len
 * and count are not touched); the record's length. With copy false,
 * string bytes are counted but not written, so out needs only
 * RCCAP_RECORD_MAX bytes. */
static size_t encode_record(uint8_t *out, rccap_encoder *st, const rccap_event *ev,
                            const ptr_plan pl[2], bool copy) {
    strsink s = {copy, 0};
    uint8_t tag = (uint8_t)ev->kind;
    uint8_t *p = out + 1;
    if (ev->time_ns != st->last_time) {
        tag |= RCF_T;
        p = rcf_put_varint(p, rcf_zigzag(ev->time_ns - st->last_time));
        st->last_time = ev->time_ns;
    }
    if (ev->thread != st->last_thread) {
        tag |= RCF_H;
        p = rcf_put_varint(p, ev->thread);
        st->last_thread = ev->thread;
    }
    switch (ev->kind) {
    case RCCAP_ALLOC:
        p = put_ptr(p, st, &pl[0], RCF_FREED, ev->u.alloc.ptr);
        st->allocs++;
        p = rcf_put_varint(p, ev->u.alloc.size);
        p = rcf_put_varint(p, rcf_zigzag((uint64_t)ev->u.alloc.stack - st->last_astack));
        st->last_astack = ev->u.alloc.stack;
        if (ev->u.alloc.fn != RCCAP_FN_MALLOC) {
            tag |= RCF_X;
            p = rcf_put_varint(p, (uint64_t)ev->u.alloc.fn);
        }
        if (ev->u.alloc.weight != ev->u.alloc.size) {
            tag |= RCF_Y;
            p = rcf_put_varint(p, ev->u.alloc.weight);
        }
        break;
    case RCCAP_FREE:
        p = put_ptr(p, st, &pl[0], RCF_ALLOCED, ev->u.free.ptr);
        st->frees++;
        break;
    case RCCAP_REALLOC:
        p = put_ptr(p, st, &pl[0], RCF_ALLOCED, ev->u.realloc.old_ptr);
        if (ev->u.realloc.ptr != ev->u.realloc.old_ptr) {
            tag |= RCF_X;
            p = put_ptr(p, st, &pl[1], RCF_FREED, ev->u.realloc.ptr);
            st->frees++;   /* the old block, after the new pointer's reference */
        }
        st->allocs++;
        p = rcf_put_varint(p, ev->u.realloc.size);
        p = rcf_put_varint(p, rcf_zigzag((uint64_t)ev->u.realloc.stack - st->last_astack));
        st->last_astack = ev->u.realloc.stack;
        if (ev->u.realloc.weight != ev->u.realloc.size) {
            tag |= RCF_Y;
            p = rcf_put_varint(p, ev->u.realloc.weight);
        }
        break;
    case RCCAP_STACK:
        p = rcf_put_varint(p, rcf_zigzag((uint64_t)ev->u.stack.id - st->last_stack));
        p = rcf_put_varint(p, rcf_zigzag((uint64_t)ev->u.stack.id - ev->u.stack.parent));
        p = rcf_put_varint(p, rcf_zigzag(ev->u.stack.pc - st->last_pc));
        st->last_stack = ev->u.stack.id;
        st->last_pc = ev->u.stack.pc;
        break;
    case RCCAP_MODULE: {
        p = rcf_put_varint(p, ev->u.module.start);
        p = rcf_put_varint(p, ev->u.module.end - ev->u.module.start);
        p = rcf_put_varint(p, ev->u.module.offset);
        if (ev->u.module.path) {
            tag |= RCF_X;
            const char *path = ev->u.module.path;
            p = put_bytes(p, &s, path, rcf_cut_len(path, RCCAP_STRING_MAX), true);
        }
        uint32_t b = ev->u.module.build_id_len;
        if (b) {
            tag |= RCF_Y;
            uint32_t kept = b > RCCAP_BUILD_ID_MAX ? RCCAP_BUILD_ID_MAX : b;
            p = put_bytes(p, &s, ev->u.module.build_id, kept, false);
        }
        break;
    }
    case RCCAP_THREAD:
        p = rcf_put_varint(p, ev->u.thread.os_tid);
        if (ev->u.thread.name) {
            tag |= RCF_X;
            const char *name = ev->u.thread.name;
            p = put_bytes(p, &s, name, rcf_cut_len(name, RCCAP_STRING_MAX), true);
        }
        break;
    case RCCAP_MEMORY:
        p = rcf_put_varint(p, ev->u.memory.rss);
        p = rcf_put_varint(p, ev->u.memory.heap);
        break;
    case RCCAP_EXIT:
        p = rcf_put_varint(p, (uint64_t)ev->u.exit.how);
        p = rcf_put_varint(p, rcf_zigzag((uint64_t)(int64_t)ev->u.exit.status));
        p = rcf_put_varint(p, rcf_zigzag((uint64_t)(int64_t)ev->u.exit.signal));
        break;
    case RCCAP_LEAK:
        p = put_ptr(p, st, &pl[0], RCF_ALLOCED, ev->u.leak.ptr);
        if (ev->u.leak.state == RCCAP_LEAK_LOST)
            tag |= RCF_X;
        break;
    case RCCAP_SYNC:
        p = rcf_put_varint(p, ev->u.sync.lag);
        break;
    case RCCAP_GC:
        p = rcf_put_varint(p, ev->u.gc.generation);
        p = rcf_put_varint(p, ev->u.gc.collected);
        p = rcf_put_varint(p, ev->u.gc.uncollectable);
        p = rcf_put_varint(p, ev->u.gc.duration_ns);
        p = rcf_put_varint(p, ev->u.gc.steps);
        break;
    default:
        break;   /* refused by event_extra */
    }
    out[0] = tag;
    return (size_t)(p - out) + s.skipped;
}

/* Plan ev's pointer fields against e's model (pl must hold two). */
static void plan_event(const rccap_encoder *e, const rccap_event *ev, ptr_plan pl[2]) {
    pl[0].ref = pl[1].ref = false;
    if (!e->model)
        return;
    switch (ev->kind) {
    case RCCAP_ALLOC:
        pl[0] = plan_ptr(e, RCF_FREED, ev->u.alloc.ptr);
        break;
    case RCCAP_FREE:
        pl[0] = plan_ptr(e, RCF_ALLOCED, ev->u.free.ptr);
        break;
    case RCCAP_LEAK:
        pl[0] = plan_ptr(e, RCF_ALLOCED, ev->u.leak.ptr);
        break;
    case RCCAP_REALLOC:
        pl[0] = plan_ptr(e, RCF_ALLOCED, ev->u.realloc.old_ptr);
        if (ev->u.realloc.ptr != ev->u.realloc.old_ptr)
            pl[1] = plan_ptr(e, RCF_FREED, ev->u.realloc.ptr);
        break;
    default:
        break;
    }
}

/* Tell the model the frees and allocations the record just encoded made,
 * numbered as the decoder numbers them (frees and allocs are the counts
 * before the record). */
static void commit_event(rccap_model *m, const rccap_event *ev, uint32_t frees,
                         uint32_t allocs) {
    switch (ev->kind) {
    case RCCAP_ALLOC:
        rcf_model_add(m, RCF_ALLOCED, ev->u.alloc.ptr, allocs);
        break;
    case RCCAP_FREE:
        rcf_model_add(m, RCF_FREED, ev->u.free.ptr, frees);
        break;
    case RCCAP_REALLOC:
        if (ev->u.realloc.ptr != ev->u.realloc.old_ptr)
            rcf_model_add(m, RCF_FREED, ev->u.realloc.old_ptr, frees);
        rcf_model_add(m, RCF_ALLOCED, ev->u.realloc.ptr, allocs);
        break;
    default:
        break;
    }
}

bool rccap_encode(rccap_encoder *e, const rccap_event *ev) {
    size_t extra = event_extra(ev);
    if (extra == SIZE_MAX)
        return false;
    size_t limit = e->cap < RCCAP_CHUNK_MAX ? e->cap : RCCAP_CHUNK_MAX;
    if (e->len > limit || e->count == UINT32_MAX)
        return false;
    size_t room = limit - e->len;
    ptr_plan pl[2];
    plan_event(e, ev, pl);
    if (room < RCCAP_RECORD_MAX + extra) {
        /* Near the end: measure first, on a copy of the state. */
        uint8_t scratch[RCCAP_RECORD_MAX];
        rccap_encoder probe = *e;
        if (encode_record(scratch, &probe, ev, pl, false) > room)
            return false;
    }
    uint32_t frees = e->frees, allocs = e->allocs;
    size_t n = encode_record(e->buf + e->len, e, ev, pl, true);
    if (e->model)
        commit_event(e->model, ev, frees, allocs);
    e->count++;
    /* The record's bytes before its length: a signal handler on this
     * thread that writes the buffer must not see a length covering bytes
     * not yet stored (it recounts the records, so count may run ahead). */
    atomic_signal_fence(memory_order_release);
    e->len += n;
    return true;
}

/* ---- decoding ---- */

typedef struct cursor {
    const uint8_t *p, *end;
    char *msg;
    size_t msg_len;
    const char *scope;      /* what end is the end of: "chunk", "header" */
} cursor;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(cursor *c, const char *fmt, ...) {
    if (c->msg && c->msg_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, c->msg_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int get_varint(cursor *c, uint64_t *out, const char *what) {
    if (c->p < c->end && *c->p < 0x80) {
        *out = *c->p++;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
        if (c->p == c->end)
            return fail(c, "%s runs past the end of the %s", what, c->scope);
        uint8_t b = *c->p++;
        if (shift == 63 && b > 1)
            return fail(c, "%s does not fit in 64 bits", what);
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            break;
    }
    *out = v;
    return 0;
}

static int get_u32(cursor *c, uint32_t *out, const char *what) {
    uint64_t v;
    if (get_varint(c, &v, what) != 0)
        return -1;
    if (v > UINT32_MAX)
        return fail(c, "%s %llu is larger than 2^32 - 1", what, (unsigned long long)v);
    *out = (uint32_t)v;
    return 0;
}

static int get_int32(cursor *c, int32_t *out, const char *what) {
    uint64_t v;
    if (get_varint(c, &v, what) != 0)
        return -1;
    int64_t s = (int64_t)rcf_unzigzag(v);
    if (s < INT32_MIN || s > INT32_MAX)
        return fail(c, "%s %lld does not fit in 32 bits", what, (long long)s);
    *out = (int32_t)s;
    return 0;
}

/* A pointer field (format.h, "Pointers"); a reference refers to the
 * frees (table RCF_FREED: the field hands a block out) or to the
 * allocations (RCF_ALLOCED: it takes one back). */
static int get_ptr(cursor *c, rcf_state *st, const rcf_history *h, int table, uint64_t *out,
                   const char *what) {
    uint64_t x, v;
    if (get_varint(c, &x, what) != 0)
        return -1;
    if ((x & 1) == 0) {
        v = st->ptr + (rcf_unzigzag(x >> 1) << 4);
    } else if (x == RCF_PTR_ABSOLUTE) {
        if (get_varint(c, &v, what) != 0)
            return -1;
    } else if ((x & 3) == 1 && table == RCF_FREED) {
        uint64_t r = x >> 2;
        if (r >= st->frees || r >= RCCAP_MODEL_WINDOW)
            return fail(c, "%s refers to the block freed %llu frees before, but the chunk has "
                        "freed %u blocks so far", what, (unsigned long long)r + 1, st->frees);
        uint32_t n = st->frees - 1 - (uint32_t)r;
        st->fref = n;
        v = h ? h->freed[n & h->mask] : 0;
    } else if ((x & 3) == 3 && table == RCF_FREED && st->version >= 2) {
        uint64_t n = st->fref + rcf_unzigzag((x >> 2) - 1);
        if (n >= st->frees || st->frees - n > RCCAP_MODEL_WINDOW)
            return fail(c, "%s refers to free %lld of the chunk, which is not one of its "
                        "last %u (of %u so far)", what, (long long)n, RCCAP_MODEL_WINDOW,
                        st->frees);
        st->fref = (uint32_t)n;
        v = h ? h->freed[n & h->mask] : 0;
    } else if ((x & 3) == 1) {
        uint64_t n = st->ref + rcf_unzigzag(x >> 2);
        if (n >= st->allocs || st->allocs - n > RCCAP_MODEL_WINDOW)
            return fail(c, "%s refers to allocation %lld of the chunk, which is not one of its "
                        "last %u (of %u so far)", what, (long long)n, RCCAP_MODEL_WINDOW,
                        st->allocs);
        st->ref = n;
        v = h ? h->alloced[n & h->mask] : 0;
    } else {
        return fail(c, "%s: bad pointer encoding %llu", what, (unsigned long long)x);
    }
    st->ptr = v;
    *out = v;
    return 0;
}

/* The stack id of an ALLOC or REALLOC: absolute in version 1, from
 * version 2 a step from the previous one's. */
static int get_stack(cursor *c, rcf_state *st, uint32_t *out) {
    if (st->version < 2)
        return get_u32(c, out, "stack id");
    uint64_t d;
    if (get_varint(c, &d, "stack id") != 0)
        return -1;
    uint64_t id = st->astack + rcf_unzigzag(d);
    if (id > UINT32_MAX)
        return fail(c, "stack id %lld out of range", (long long)id);
    st->astack = (uint32_t)id;
    *out = (uint32_t)id;
    return 0;
}

/* The chunk freed, or allocated, ptr: its next number. */
static void note_free(rcf_state *st, rcf_history *h, uint64_t ptr) {
    if (h)
        h->freed[st->frees & h->mask] = ptr;
    st->frees++;
}

static void note_alloc(rcf_state *st, rcf_history *h, uint64_t ptr) {
    if (h)
        h->alloced[st->allocs & h->mask] = ptr;
    st->allocs++;
}

/* A length, then that many bytes, then a NUL when nul; *out points at the
 * bytes in the chunk. */
static int get_bytes(cursor *c, const uint8_t **out, uint32_t *len, size_t max, bool nul,
                     const char *what) {
    uint64_t n;
    if (get_varint(c, &n, what) != 0)
        return -1;
    if (n > max)
        return fail(c, "%s length %llu is above the limit of %zu", what, (unsigned long long)n,
                    max);
    size_t left = (size_t)(c->end - c->p);
    if (n + nul > left)
        return fail(c, "%s of %llu bytes runs past the end of the %s (%zu bytes left)", what,
                    (unsigned long long)n, c->scope, left);
    const uint8_t *s = c->p;
    if (nul) {
        if (s[n] != 0)
            return fail(c, "%s is not terminated", what);
        if (memchr(s, 0, (size_t)n))
            return fail(c, "%s holds a NUL byte", what);
    }
    c->p += n + nul;
    *out = s;
    *len = (uint32_t)n;
    return 0;
}

static const char *const kind_names[RCCAP_KIND_MAX] = {
    [RCCAP_ALLOC] = "alloc",   [RCCAP_FREE] = "free",     [RCCAP_REALLOC] = "realloc",
    [RCCAP_STACK] = "stack",   [RCCAP_MODULE] = "module", [RCCAP_THREAD] = "thread",
    [RCCAP_MEMORY] = "memory", [RCCAP_EXIT] = "exit",     [RCCAP_LEAK] = "leak",
    [RCCAP_SYNC] = "sync",     [RCCAP_GC] = "gc",
};

/* The kind-specific flags each kind may carry. */
static const uint8_t kind_flags[RCCAP_KIND_MAX] = {
    [RCCAP_ALLOC] = RCF_X | RCF_Y,  [RCCAP_REALLOC] = RCF_X | RCF_Y,
    [RCCAP_MODULE] = RCF_X | RCF_Y, [RCCAP_THREAD] = RCF_X,
    [RCCAP_LEAK] = RCF_X,
};

int rcf_decode(rcf_state *st, rcf_history *h, const uint8_t **pp, const uint8_t *end,
               rccap_event *ev, char *msg, size_t msg_len) {
    cursor cur = {*pp, end, msg, msg_len, "chunk"};
    cursor *c = &cur;
    if (c->p >= c->end)
        return fail(c, "record runs past the end of the chunk");
    uint8_t tag = *c->p++;
    unsigned kind = tag & RCF_KIND_MASK;
    if (kind == 0 || kind >= RCCAP_KIND_MAX || (kind == RCCAP_SYNC && st->version < 2) ||
        (kind == RCCAP_GC && st->version < 3))
        return fail(c, "unknown record kind %u", kind);
    uint8_t extra = tag & (RCF_X | RCF_Y) & (uint8_t)~kind_flags[kind];
    if (extra)
        return fail(c, "%s record with unknown flags 0x%02x", kind_names[kind], extra);
    memset(ev, 0, sizeof *ev);
    ev->kind = (rccap_kind)kind;
    if (tag & RCF_T) {
        uint64_t d;
        if (get_varint(c, &d, "time") != 0)
            return -1;
        st->time += rcf_unzigzag(d);
    }
    ev->time_ns = st->time;
    if (tag & RCF_H) {
        if (get_u32(c, &st->thread, "thread") != 0)
            return -1;
    }
    ev->thread = st->thread;

    uint64_t v;
    const uint8_t *bytes;
    uint32_t len;
    switch (kind) {
    case RCCAP_ALLOC:
        if (get_ptr(c, st, h, RCF_FREED, &ev->u.alloc.ptr, "pointer") != 0)
            return -1;
        note_alloc(st, h, ev->u.alloc.ptr);
        if (get_varint(c, &ev->u.alloc.size, "size") != 0 ||
            get_stack(c, st, &ev->u.alloc.stack) != 0)
            return -1;
        ev->u.alloc.fn = RCCAP_FN_MALLOC;
        if (tag & RCF_X) {
            if (get_varint(c, &v, "function") != 0)
                return -1;
            if (v >= RCCAP_FN_MAX)
                return fail(c, "unknown allocating function %llu", (unsigned long long)v);
            ev->u.alloc.fn = (rccap_fn)v;
        }
        ev->u.alloc.weight = ev->u.alloc.size;
        if ((tag & RCF_Y) && get_varint(c, &ev->u.alloc.weight, "weight") != 0)
            return -1;
        break;
    case RCCAP_FREE:
        if (get_ptr(c, st, h, RCF_ALLOCED, &ev->u.free.ptr, "pointer") != 0)
            return -1;
        note_free(st, h, ev->u.free.ptr);
        break;
    case RCCAP_REALLOC:
        if (get_ptr(c, st, h, RCF_ALLOCED, &ev->u.realloc.old_ptr, "old pointer") != 0)
            return -1;
        ev->u.realloc.ptr = ev->u.realloc.old_ptr;
        if (tag & RCF_X) {
            /* the new pointer may be a block freed before; the old block
             * is freed after it */
            if (get_ptr(c, st, h, RCF_FREED, &ev->u.realloc.ptr, "new pointer") != 0)
                return -1;
            note_free(st, h, ev->u.realloc.old_ptr);
        }
        note_alloc(st, h, ev->u.realloc.ptr);
        if (get_varint(c, &ev->u.realloc.size, "size") != 0 ||
            get_stack(c, st, &ev->u.realloc.stack) != 0)
            return -1;
        ev->u.realloc.weight = ev->u.realloc.size;
        if ((tag & RCF_Y) && get_varint(c, &ev->u.realloc.weight, "weight") != 0)
            return -1;
        break;
    case RCCAP_STACK: {
        uint64_t id, up, pc;
        if (get_varint(c, &id, "stack id") != 0 || get_varint(c, &up, "parent") != 0 ||
            get_varint(c, &pc, "pc") != 0)
            return -1;
        id = st->stack + rcf_unzigzag(id);
        if (id == 0 || id > UINT32_MAX)
            return fail(c, "stack id %lld out of range", (long long)id);
        uint64_t parent = id - rcf_unzigzag(up);
        if (parent > UINT32_MAX)
            return fail(c, "parent id %lld of stack %llu out of range", (long long)parent,
                        (unsigned long long)id);
        ev->u.stack.id = (uint32_t)id;
        ev->u.stack.parent = (uint32_t)parent;
        ev->u.stack.pc = st->pc + rcf_unzigzag(pc);
        st->stack = ev->u.stack.id;
        st->pc = ev->u.stack.pc;
        break;
    }
    case RCCAP_MODULE: {
        uint64_t size;
        if (get_varint(c, &ev->u.module.start, "module start") != 0 ||
            get_varint(c, &size, "module size") != 0 ||
            get_varint(c, &ev->u.module.offset, "module offset") != 0)
            return -1;
        if (size > UINT64_MAX - ev->u.module.start)
            return fail(c, "module at 0x%llx of %llu bytes ends past 2^64",
                        (unsigned long long)ev->u.module.start, (unsigned long long)size);
        ev->u.module.end = ev->u.module.start + size;
        if (tag & RCF_X) {
            if (get_bytes(c, &bytes, &len, RCCAP_STRING_MAX, true, "module path") != 0)
                return -1;
            ev->u.module.path = (const char *)bytes;
        }
        if (tag & RCF_Y) {
            if (get_bytes(c, &bytes, &len, RCCAP_BUILD_ID_MAX, false, "build id") != 0)
                return -1;
            if (len == 0)
                return fail(c, "empty build id");
            ev->u.module.build_id = bytes;
            ev->u.module.build_id_len = len;
        }
        break;
    }
    case RCCAP_THREAD:
        if (get_varint(c, &ev->u.thread.os_tid, "thread id") != 0)
            return -1;
        if (tag & RCF_X) {
            if (get_bytes(c, &bytes, &len, RCCAP_STRING_MAX, true, "thread name") != 0)
                return -1;
            ev->u.thread.name = (const char *)bytes;
        }
        break;
    case RCCAP_MEMORY:
        if (get_varint(c, &ev->u.memory.rss, "rss") != 0 ||
            get_varint(c, &ev->u.memory.heap, "heap") != 0)
            return -1;
        break;
    case RCCAP_EXIT:
        if (get_varint(c, &v, "way of ending") != 0)
            return -1;
        if (v > RCCAP_END_UNKNOWN)
            return fail(c, "unknown way of ending %llu", (unsigned long long)v);
        ev->u.exit.how = (rccap_end)v;
        if (get_int32(c, &ev->u.exit.status, "exit status") != 0 ||
            get_int32(c, &ev->u.exit.signal, "signal") != 0)
            return -1;
        break;
    case RCCAP_LEAK:
        if (get_ptr(c, st, h, RCF_ALLOCED, &ev->u.leak.ptr, "pointer") != 0)
            return -1;
        ev->u.leak.state = (tag & RCF_X) ? RCCAP_LEAK_LOST : RCCAP_LEAK_REACHABLE;
        break;
    case RCCAP_SYNC:
        if (get_varint(c, &ev->u.sync.lag, "lag") != 0)
            return -1;
        break;
    case RCCAP_GC:
        if (get_varint(c, &v, "generation") != 0)
            return -1;
        if (v > 2)
            return fail(c, "collection of generation %llu (there are three)",
                        (unsigned long long)v);
        ev->u.gc.generation = (uint32_t)v;
        if (get_varint(c, &ev->u.gc.collected, "objects collected") != 0 ||
            get_varint(c, &ev->u.gc.uncollectable, "objects uncollectable") != 0 ||
            get_varint(c, &ev->u.gc.duration_ns, "duration") != 0 ||
            get_varint(c, &ev->u.gc.steps, "steps") != 0)
            return -1;
        break;
    default:
        return fail(c, "unknown record kind %u", kind);   /* excluded above */
    }
    *pp = c->p;
    return 0;
}

/* ---- the header body ---- */

int rcf_decode_header(const uint8_t *p, size_t n, rccap_header *h, char *msg, size_t msg_len) {
    cursor cur = {p, p + n, msg, msg_len, "header"};
    cursor *c = &cur;
    const uint8_t *program, *command_line;
    uint32_t len;
    if (get_u32(c, &h->frames, "frame limit") != 0 ||
        get_varint(c, &h->sample_bytes, "sampling interval") != 0 ||
        get_varint(c, &h->pid, "pid") != 0 || get_varint(c, &h->ppid, "ppid") != 0 ||
        get_varint(c, &h->start_realtime_ns, "start time") != 0 ||
        get_varint(c, &h->page_size, "page size") != 0 ||
        get_bytes(c, &program, &len, RCCAP_STRING_MAX, true, "program path") != 0 ||
        get_bytes(c, &command_line, &len, RCCAP_COMMAND_LINE_MAX, true, "command line") != 0)
        return -1;
    if (c->p != c->end)
        return fail(c, "%zu bytes after the last field", (size_t)(c->end - c->p));
    h->program = (const char *)program;
    h->command_line = (const char *)command_line;
    return 0;
}

/* ---- chunk frames ---- */

void rcf_frame_fill(uint8_t frame[RCF_FRAME_SIZE], int encoding, uint32_t stored,
                    uint32_t content, uint32_t count, uint32_t payload_crc) {
    memcpy(frame, RCF_CHUNK_MAGIC, 4);
    frame[4] = (uint8_t)encoding;
    frame[5] = frame[6] = frame[7] = 0;
    rcf_put32(frame + 8, stored);
    rcf_put32(frame + 12, content);
    rcf_put32(frame + 16, count);
    rcf_put32(frame + 20, payload_crc);
    rcf_put32(frame + 24, rcf_crc32c(0, frame, 24));
}
