/* runtime.c - rc_runtime: creation, configuration, teardown, statistics.
 *
 * A runtime owns a private heap (heap/private.h) holding all its objects and
 * their buffers. Tearing a runtime down therefore never needs to follow
 * references: it finds every object by walking the heap, destroys each one
 * (so that resources outside the heap, like mapped files, are released) with
 * every object made immortal first so that no destroy can free another, and
 * then returns the whole heap to the OS at once. */
#include "object/object.h"
#include "heap/options.h"

#include <stdlib.h>
#include <string.h>

#define RCO_QUARANTINE_SLOTS 4096

void rc_config_init(rc_config *c) {
    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->debug = -1;
}

rc_runtime *rco_runtime_create(const rc_config *config) {
    rc_runtime *rt = rc_calloc(1, sizeof *rt);
    if (!rt)
        return NULL;
    rc_config_init(&rt->config);
    if (config)
        rt->config = *config;
    rt->debug = rt->config.debug < 0 ? rci_option_bool(RCI_OPT_DEBUG) : rt->config.debug != 0;
    rt->heap = rci_pheap_new(rt);
    if (!rt->heap) {
        rc_free(rt);
        return NULL;
    }
    if (rt->debug) {
        rt->quarantine.slots = rc_calloc(RCO_QUARANTINE_SLOTS, sizeof(rc_obj *));
        if (!rt->quarantine.slots) {
            rci_pheap_destroy(rt->heap);
            rc_free(rt);
            return NULL;
        }
        rt->quarantine.cap = RCO_QUARANTINE_SLOTS;
    }
    static const size_t default_threshold[3] = { 700, 10, 10 };
    for (int g = 0; g < 3; g++) {
        rco_gc_list_init(&rt->gen[g]);
        rt->threshold[g] = rt->config.gc_threshold[g] ? rt->config.gc_threshold[g]
                                                      : default_threshold[g];
    }
    rco_gc_list_init(&rt->permanent);
    rt->gc_enabled = !rt->config.gc_disabled;
    rt->fail_countdown = -1;
    rci_htable_init(&rt->weakrefs);
    return rt;
}

/* ---- walking the objects of a runtime ---- */

static rc_obj *object_in_block(void *block, unsigned kind) {
    switch (kind) {
    case RCO_KIND_PLAIN: return block;
    case RCO_KIND_VAR: return (rc_obj *)(void *)((char *)block + sizeof(rco_var));
    case RCO_KIND_GC: return (rc_obj *)(void *)((char *)block + sizeof(rco_gc));
    case RCO_KIND_GC_VAR: return (rc_obj *)(void *)((char *)block + sizeof(rco_var) + sizeof(rco_gc));
    default: return NULL;
    }
}

typedef struct collect_ctx {
    rc_obj **objs;
    size_t n, cap;
    bool failed;
} collect_ctx;

static int collect_object(void *block, size_t usable, unsigned kind, void *arg) {
    (void)usable;
    collect_ctx *c = arg;
    rc_obj *o = object_in_block(block, kind);
    if (!o || (o->rc_head_ & RCO_F_FREED))
        return 0;
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 256;
        rc_obj **n = rci_raw_malloc(ncap * sizeof *n, false);
        if (!n) {
            c->failed = true;
            return 1;
        }
        if (c->objs) {
            memcpy(n, c->objs, c->n * sizeof *n);
            rci_raw_free(c->objs);
        }
        c->objs = n;
        c->cap = ncap;
    }
    c->objs[c->n++] = o;
    return 0;
}

/* All live objects of rt in an array from the raw allocator (caller frees
 * with rci_raw_free). Returns false when memory ran out. */
static bool live_objects(rc_runtime *rt, rc_obj ***out, size_t *n) {
    collect_ctx c = { 0 };
    rci_pheap_visit(rt->heap, collect_object, &c);
    if (c.failed) {
        if (c.objs)
            rci_raw_free(c.objs);
        *out = NULL;
        *n = 0;
        return false;
    }
    *out = c.objs;
    *n = c.n;
    return true;
}

typedef struct type_count { const rc_type *type; size_t count, bytes; } type_count;

static int cmp_type_count(const void *a, const void *b) {
    const type_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->type->name, y->type->name);
}

/* Count objects by type; returns the number of distinct types written. */
static size_t count_by_type(rc_obj **objs, size_t n, type_count *out, size_t cap) {
    size_t ntypes = 0;
    for (size_t i = 0; i < n; i++) {
        const rc_type *t = objs[i]->rc_type_;
        size_t j = 0;
        while (j < ntypes && out[j].type != t)
            j++;
        if (j == ntypes) {
            if (ntypes == cap)
                continue;
            out[ntypes].type = t;
            out[ntypes].count = 0;
            out[ntypes].bytes = 0;
            ntypes++;
        }
        out[j].count++;
        out[j].bytes += rc_sizeof(objs[i]);
    }
    qsort(out, ntypes, sizeof *out, cmp_type_count);
    return ntypes;
}

static void print_counts(FILE *out, rc_obj **objs, size_t n, const char *title) {
    type_count counts[64];
    size_t ntypes = count_by_type(objs, n, counts, 64);
    fprintf(out, "%s: %zu object%s\n", title, n, n == 1 ? "" : "s");
    for (size_t i = 0; i < ntypes; i++)
        fprintf(out, "  %8zu  %10zu bytes  %s\n", counts[i].count, counts[i].bytes,
                counts[i].type->name ? counts[i].type->name : "?");
}

void rc_runtime_print_objects(rc_runtime *rt, FILE *out) {
    if (!rt)
        return;
    if (!out)
        out = stdout;
    rc_obj **objs;
    size_t n;
    if (!live_objects(rt, &objs, &n)) {
        fprintf(out, "recycle: out of memory while listing objects\n");
        return;
    }
    print_counts(out, objs, n, "live objects");
    if (objs)
        rci_raw_free(objs);
}

size_t rc_runtime_object_count(rc_runtime *rt) {
    return rt ? rt->live_objects - rt->internal_objects : 0;
}

static int add_object_bytes(void *block, size_t usable, unsigned kind, void *arg) {
    rc_obj *o = object_in_block(block, kind);
    if (o && !(o->rc_head_ & RCO_F_FREED))
        *(size_t *)arg += usable;
    return 0;
}

/* Computed by a walk of the heap when asked, so that allocation and
 * deallocation pay nothing for it. */
size_t rc_runtime_object_bytes(rc_runtime *rt) {
    if (!rt)
        return 0;
    size_t n = 0;
    rci_pheap_visit(rt->heap, add_object_bytes, &n);
    return n;
}

size_t rc_runtime_buffer_bytes(rc_runtime *rt) {
    return rt ? rt->buffer_bytes : 0;
}

void rco_runtime_destroy(rc_runtime *rt) {
    if (!rt)
        return;
    /* 1. the collector: drop the garbage list, run a final collection
     *    (finalizers run); installed by the gc layer when it is used */
    if (rt->gc_final)
        rt->gc_final(rt);
    /* 2. settle anything queued */
    rt->tearing_down = true;
    rt->dealloc_depth = RCO_DEALLOC_TEARDOWN;
    rc_obj **objs = NULL;
    size_t n = 0;
    if (live_objects(rt, &objs, &n)) {
        size_t user = 0;
        for (size_t i = 0; i < n; i++)
            if (!(objs[i]->rc_head_ & RCO_F_IMMORTAL))
                user++;
        if ((rt->config.report_leaks || rt->debug) && user > 0) {
            FILE *out = rco_report_stream(rt);
            rc_obj **mortal = rci_raw_malloc(user * sizeof *mortal, false);
            if (mortal) {
                size_t k = 0;
                for (size_t i = 0; i < n; i++)
                    if (!(objs[i]->rc_head_ & RCO_F_IMMORTAL))
                        mortal[k++] = objs[i];
                print_counts(out, mortal, k, "recycle: objects still alive at rc_runtime_free");
                rci_raw_free(mortal);
            }
        }
        /* 3. destroy without finalizing. Everything becomes immortal first,
         *    so a destroy that drops references frees nothing: all memory
         *    goes at once with the heap. */
        for (size_t i = 0; i < n; i++)
            objs[i]->rc_head_ |= RCO_F_IMMORTAL;
        for (size_t i = 0; i < n; i++) {
            const rc_type *t = objs[i]->rc_type_;
            if (t->destroy)
                t->destroy(objs[i]);
            else if (t->clear)
                t->clear(objs[i]);
        }
        if (objs)
            rci_raw_free(objs);
    }
    /* Without memory for the list, objects are released without their
     * destroy hooks: memory is still returned, external resources are not. */
    if (rt->types_teardown)
        rt->types_teardown(rt);
    if (rt->gc_teardown)
        rt->gc_teardown(rt);
    rco_weakrefs_teardown(rt);
    if (rt->quarantine.slots)
        rc_free(rt->quarantine.slots);
    rci_pheap_destroy(rt->heap);
    rc_free(rt);
}

void rc_runtime_set_debug_handler(rc_runtime *rt, rc_debug_fn fn, void *arg) {
    if (!rt)
        return;
    rt->debug_fn = fn;
    rt->debug_arg = arg;
}

size_t rc_runtime_debug_errors(const rc_runtime *rt) {
    return rt ? rt->debug_errors : 0;
}
