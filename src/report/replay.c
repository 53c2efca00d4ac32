/* replay.c - a capture's records replayed into figures (replay.h). */
#include "report/replay.h"

#include <stdlib.h>
#include <string.h>

/* Makes room for `need` elements of `size` bytes in the array whose
 * pointer is at `array` (any object pointer: it is read and written with
 * memcpy); false (the array unchanged) on out of memory or overflow. */
static bool reserve(void *array, size_t *cap, size_t need, size_t size) {
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return false;
        n *= 2;
    }
    if (n > SIZE_MAX / size)
        return false;
    void *old;
    memcpy(&old, array, sizeof old);
    void *q = realloc(old, n * size);
    if (!q)
        return false;
    memcpy(array, &q, sizeof q);
    *cap = n;
    return true;
}

static char *copy_string(const char *s) {
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c)
        memcpy(c, s, n);
    return c;
}

/* ---- the run-time modules ------------------------------------------------- */

bool rcr_module_is_runtime(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    /* Prefixes of the file names, followed by '.' or '-' ("libc.so.6",
     * "libc-2.31.so", "ld-linux-x86-64.so.2", "libstdc++.so.6"). */
    static const char *const names[] = {
        "libc", "libm", "libpthread", "libdl", "librt", "libresolv",
        "libstdc++", "libc++", "libc++abi", "libgcc_s", "libsupc++",
        "ld-linux", "ld", "ld64", "librecycle-preload", "linux-vdso", "linux-gate",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(base, names[i], n) == 0 && (base[n] == '.' || base[n] == '-'))
            return true;
    }
    return strcmp(base, "[vdso]") == 0;
}

/* ---- set up and tear down ------------------------------------------------- */

bool rcr_replay_init(rcr_replay *r, const rccap_header *h) {
    memset(r, 0, sizeof *r);
    r->header = *h;
    r->program = copy_string(h->program);
    r->command_line = copy_string(h->command_line);
    r->header.program = r->program;
    r->header.command_line = r->command_line;
    r->end = RCCAP_END_UNKNOWN;
    r->free_block = RCR_NONE;
    rci_htable_init(&r->live);
    rci_htable_init(&r->fifo_of);
    rci_htable_init(&r->orphans);
    rci_htable_init(&r->orphan_thread);
    rci_htable_init(&r->pending);
    rci_htable_init(&r->early);
    r->free_pend = RCR_NONE;
    rci_htable_init(&r->deferred_at);
    r->free_deferred = RCR_NONE;
    /* stack id 0, the empty stack */
    if (!r->program || !r->command_line || !reserve(&r->nodes, &r->cap_nodes, 1, sizeof *r->nodes)) {
        rcr_replay_free(r);
        return false;
    }
    r->nodes[0] = (rcr_node){.module = RCR_NONE, .figures = RCR_NONE, .defined = true};
    r->nnodes = 1;
    return true;
}

void rcr_replay_free(rcr_replay *r) {
    for (size_t i = 0; i < r->nmodules; i++) {
        free(r->modules[i].path);
        free(r->modules[i].build_id);
    }
    free(r->modules);
    free(r->map);
    free(r->nodes);
    free(r->figures);
    free(r->blocks);
    for (size_t i = 0; i < r->nfifos; i++)
        free(r->fifos[i].v);
    free(r->fifos);
    free(r->ready);
    free(r->program);
    free(r->command_line);
    rci_htable_free(&r->live);
    rci_htable_free(&r->fifo_of);
    rci_htable_free(&r->orphans);
    rci_htable_free(&r->orphan_thread);
    rci_htable_free(&r->pending);
    rci_htable_free(&r->early);
    free(r->pends);
    rci_htable_free(&r->deferred_at);
    free(r->deferred);
    rcs_session_free(r->sym);
    free(r->sym_index);
    memset(r, 0, sizeof *r);
}

/* ---- modules ----------------------------------------------------------------- */

/* The index in map of the first module whose end is above addr. */
static size_t map_lower(const rcr_replay *r, uint64_t addr) {
    size_t lo = 0, hi = r->nmap;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->modules[r->map[mid]].end <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint32_t map_find(const rcr_replay *r, uint64_t pc) {
    size_t i = map_lower(r, pc);
    if (i < r->nmap && r->modules[r->map[i]].start <= pc)
        return r->map[i];
    return RCR_NONE;
}

static bool add_module(rcr_replay *r, const rccap_event *ev) {
    if (!reserve(&r->modules, &r->cap_modules, r->nmodules + 1, sizeof *r->modules) ||
        !reserve(&r->map, &r->cap_map, r->nmap + 1, sizeof *r->map))
        return false;
    rcr_module m = {
        .start = ev->u.module.start,
        .end = ev->u.module.end,
        .offset = ev->u.module.offset,
        .path = copy_string(ev->u.module.path),
        .build_id_len = ev->u.module.build_id_len,
    };
    if (!m.path)
        return false;
    if (m.build_id_len) {
        m.build_id = malloc(m.build_id_len);
        if (!m.build_id) {
            free(m.path);
            return false;
        }
        memcpy(m.build_id, ev->u.module.build_id, m.build_id_len);
    }
    m.runtime = rcr_module_is_runtime(m.path);
    uint32_t index = (uint32_t)r->nmodules;
    r->modules[r->nmodules++] = m;
    if (m.end <= m.start)
        return true;           /* maps nothing */
    /* Drop from the map whatever the new module overlaps (it was unmapped
     * for this one to be mapped there), then insert it in order. */
    size_t first = map_lower(r, m.start);
    size_t last = first;
    while (last < r->nmap && r->modules[r->map[last]].start < m.end)
        last++;
    memmove(r->map + first + 1, r->map + last, (r->nmap - last) * sizeof *r->map);
    r->map[first] = index;
    r->nmap = r->nmap - (last - first) + 1;
    return true;
}

uint32_t rcr_replay_module_of(rcr_replay *r, uint32_t id) {
    if (id >= r->nnodes || !r->nodes[id].defined || id == 0)
        return RCR_NONE;
    rcr_node *n = &r->nodes[id];
    if (n->module == RCR_NONE)
        n->module = map_find(r, n->pc);
    return n->module;
}

uint32_t rcr_replay_site_of(rcr_replay *r, uint32_t id) {
    /* Each step goes to a node defined before (a parent), so this ends. */
    for (uint32_t n = id; n != 0 && n < r->nnodes; n = r->nodes[n].parent) {
        uint32_t m = rcr_replay_module_of(r, n);
        if (m == RCR_NONE || !r->modules[m].runtime)
            return n;
    }
    return id;
}

/* ---- stacks -------------------------------------------------------------------- */

static bool define_node(rcr_replay *r, const rccap_event *ev) {
    uint32_t id = ev->u.stack.id;
    if (id == 0 || id == RCR_NONE)
        return true;           /* the reader refuses these */
    if (id >= r->nnodes) {
        if (!reserve(&r->nodes, &r->cap_nodes, (size_t)id + 1, sizeof *r->nodes))
            return false;
        for (size_t i = r->nnodes; i <= id; i++)
            r->nodes[i] = (rcr_node){.module = RCR_NONE, .figures = RCR_NONE};
        r->nnodes = (size_t)id + 1;
    }
    uint32_t parent = ev->u.stack.parent;
    if (parent >= r->nnodes || !r->nodes[parent].defined)
        parent = 0;
    r->nodes[id] = (rcr_node){
        .pc = ev->u.stack.pc,
        .time = ev->time_ns,
        .parent = parent,
        .module = map_find(r, ev->u.stack.pc),
        .figures = RCR_NONE,
        .defined = true,
    };
    return true;
}

/* The figures of stack id, created when it has none; RCR_NONE on out of
 * memory. */
static uint32_t figures_of(rcr_replay *r, uint32_t stack) {
    if (stack >= r->nnodes || !r->nodes[stack].defined)
        stack = 0;
    rcr_node *n = &r->nodes[stack];
    if (n->figures != RCR_NONE)
        return n->figures;
    if (r->nfigures >= RCR_NONE ||
        !reserve(&r->figures, &r->cap_figures, r->nfigures + 1, sizeof *r->figures))
        return RCR_NONE;
    r->figures[r->nfigures] = (rcr_figures){.epoch = r->epoch, .node = stack};
    n->figures = (uint32_t)r->nfigures++;
    return n->figures;
}

/* ---- the replay in time order ------------------------------------------------- */

/* Before f's live values change: keep what they were at the last peak. */
static void touch(rcr_replay *r, rcr_figures *f) {
    if (f->epoch != r->epoch) {
        f->peak_bytes = f->live_bytes;
        f->peak_allocations = f->live_allocations;
        f->epoch = r->epoch;
    }
}

/* Remove the block at ptr, if live; true with *b and *index (its slot in
 * blocks, now on the free list) filled. */
static bool take_block(rcr_replay *r, uint64_t ptr, rcr_block *b, uint32_t *index) {
    uintptr_t i;
    if (ptr == 0 || !rci_htable_remove(&r->live, (uintptr_t)ptr, &i))
        return false;
    *b = r->blocks[i];
    *index = (uint32_t)i;
    r->blocks[i].next_free = r->free_block;
    r->free_block = (uint32_t)i;
    return true;
}

/* Tell on_change of block `block` (at ptr, of figures fi) becoming live or
 * ceasing to be. */
static void notify(rcr_replay *r, uint32_t owner, uint64_t weight, uint64_t count, bool freed,
                   uint64_t ptr, uint32_t block, uint32_t fi) {
    if (!r->on_change)
        return;
    rcr_change c = {
        .time = r->applying_time,
        .thread = r->applying_thread,
        .owner = owner,
        .weight = weight,
        .count = count,
        .freed = freed,
        .ptr = ptr,
        .block = block,
        .figures = fi,
        .record = r->applying_record,
    };
    r->on_change(r->change_arg, r, &c);
}

static void block_gone(rcr_replay *r, const rcr_block *b, uint64_t ptr, uint32_t index) {
    rcr_figures *f = &r->figures[b->figures];
    touch(r, f);
    f->live_bytes -= b->weight;
    f->live_allocations -= b->count;
    f->frees += b->count;
    r->live_bytes -= b->weight;
    r->live_allocations -= b->count;
    r->totals.frees += b->count;
    notify(r, b->thread & ~RCR_BLOCK_JUDGED, b->weight, b->count, true, ptr, index, b->figures);
}

static void do_free(rcr_replay *r, uint64_t ptr, uint64_t time) {
    rcr_block b;
    uint32_t index;
    if (!take_block(r, ptr, &b, &index)) {
        if (ptr) {
            r->totals.unknown_frees++;
            /* Its allocation may still come, in a chunk later than the
             * window. A sampled capture frees blocks it never sampled. */
            if (!r->header.sample_bytes && r->orphans.count < RCR_ORPHANS_MAX) {
                bool existed;
                uintptr_t *slot = rci_htable_slot(&r->orphans, (uintptr_t)ptr, &existed);
                if (slot && !existed) {
                    *slot = (uintptr_t)time;
                    if (rci_htable_put(&r->orphan_thread, (uintptr_t)ptr,
                                       (uintptr_t)r->applying_thread + 1) != 0)
                        rci_htable_remove(&r->orphans, (uintptr_t)ptr, NULL);
                }
            }
        }
        r->last_alloc = 0;
        return;
    }
    /* heaptrack's temporary allocation: freed before any other allocation */
    if (r->last_alloc == ptr) {
        r->totals.temporary += b.count;
        r->figures[b.figures].temporary += b.count;
    }
    r->last_alloc = 0;
    block_gone(r, &b, ptr, index);
}

/* A late allocation whose free was released before it: counted as
 * allocated and freed, leaving the live blocks alone (its address may be
 * live again by now). true if q was one. */
static bool late_pair(rcr_replay *r, const rcr_qevent *q, bool late, bool *ok) {
    uintptr_t freed_at, by;
    if (!rci_htable_get(&r->orphans, (uintptr_t)q->ptr, &freed_at) || freed_at < q->time)
        return false;
    /* Not late: the free has the allocation's time (a tie), and came first
     * only if it was another thread's (see "Ties" in replay.h). */
    if (!late && (!rci_htable_get(&r->orphan_thread, (uintptr_t)q->ptr, &by) ||
                  by == (uintptr_t)r->applying_thread + 1))
        return false;
    rci_htable_remove(&r->orphans, (uintptr_t)q->ptr, NULL);
    rci_htable_remove(&r->orphan_thread, (uintptr_t)q->ptr, NULL);
    uint32_t fi = figures_of(r, q->stack);
    if (fi == RCR_NONE) {
        *ok = false;
        return true;
    }
    uint64_t count = rcr_record_count(q->size, q->weight);
    rcr_figures *f = &r->figures[fi];
    f->bytes += q->weight;
    f->allocations += count;
    f->frees += count;
    r->totals.allocations += count;
    r->totals.bytes_allocated += q->weight;
    r->totals.frees += count;
    r->totals.unknown_frees--;
    r->totals.late_pairs++;
    notify(r, r->applying_thread, q->weight, count, false, q->ptr, RCR_NONE, fi);
    notify(r, r->applying_thread, q->weight, count, true, q->ptr, RCR_NONE, fi);
    *ok = true;
    return true;
}

static bool do_alloc(rcr_replay *r, const rcr_qevent *q, bool late) {
    if (q->ptr == 0)
        return true;
    bool ok;
    if (r->orphans.count && late_pair(r, q, late, &ok))
        return ok;
    rcr_block old;
    uint32_t old_index;
    if (take_block(r, q->ptr, &old, &old_index)) {
        /* Its free was not recorded: it ends here. */
        r->totals.reused++;
        block_gone(r, &old, q->ptr, old_index);
    }
    uint32_t fi = figures_of(r, q->stack);
    if (fi == RCR_NONE)
        return false;
    uint32_t bi;
    if (r->free_block != RCR_NONE) {
        bi = r->free_block;
        r->free_block = r->blocks[bi].next_free;
    } else {
        if (r->nblocks >= RCR_NONE ||
            !reserve(&r->blocks, &r->cap_blocks, r->nblocks + 1, sizeof *r->blocks))
            return false;
        bi = (uint32_t)r->nblocks++;
    }
    uint64_t count = rcr_record_count(q->size, q->weight);
    r->blocks[bi] = (rcr_block){
        .weight = q->weight, .count = count, .figures = fi, .thread = r->applying_thread};
    if (rci_htable_put(&r->live, (uintptr_t)q->ptr, bi) != 0) {
        r->blocks[bi].next_free = r->free_block;
        r->free_block = bi;
        return false;
    }
    rcr_figures *f = &r->figures[fi];
    touch(r, f);
    f->bytes += q->weight;
    f->allocations += count;
    f->live_bytes += q->weight;
    f->live_allocations += count;
    r->totals.allocations += count;
    r->totals.bytes_allocated += q->weight;
    r->live_bytes += q->weight;
    r->live_allocations += count;
    if (r->live_bytes > r->totals.peak_bytes) {
        r->totals.peak_bytes = r->live_bytes;
        r->totals.peak_allocations = r->live_allocations;
        r->totals.peak_time_ns = q->time;
        r->epoch++;
    }
    r->last_alloc = q->ptr;
    notify(r, r->applying_thread, q->weight, count, false, q->ptr, bi, fi);
    return true;
}

static void do_leak(rcr_replay *r, const rcr_qevent *q) {
    uintptr_t index;
    if (!rci_htable_get(&r->live, (uintptr_t)q->ptr, &index)) {
        r->totals.unknown_leaks++;
        return;
    }
    rcr_block *b = &r->blocks[index];
    if (b->thread & RCR_BLOCK_JUDGED)
        return;   /* one verdict per block */
    b->thread |= RCR_BLOCK_JUDGED;
    rcr_figures *f = &r->figures[b->figures];
    if (q->lost) {
        f->lost_bytes += b->weight;
        f->lost_allocations += b->count;
        r->totals.lost_bytes += b->weight;
        r->totals.lost_allocations += b->count;
    } else {
        f->reachable_bytes += b->weight;
        f->reachable_allocations += b->count;
        r->totals.reachable_bytes += b->weight;
        r->totals.reachable_allocations += b->count;
    }
}

/* ---- ties: frees waiting in the window, allocations held back for them ---- */

/* A free of ptr (record seq, stamped time) enters the window. The frees
 * of one address waiting at once are a list in file order (head: the
 * oldest, which holds the index of the last), and leave it mostly from its
 * head, since the window releases in time order. */
static bool pending_add(rcr_replay *r, uint64_t ptr, uint64_t seq, uint64_t time,
                        uint32_t thread, bool plain) {
    uint32_t i = r->free_pend;
    if (i != RCR_NONE) {
        r->free_pend = r->pends[i].next;
    } else {
        if (r->npends >= RCR_NONE ||
            !reserve(&r->pends, &r->cap_pends, r->npends + 1, sizeof *r->pends))
            return false;
        i = (uint32_t)r->npends++;
    }
    bool existed;
    uintptr_t *head = rci_htable_slot(&r->pending, (uintptr_t)ptr, &existed);
    if (!head) {
        r->pends[i].next = r->free_pend;
        r->free_pend = i;
        return false;
    }
    r->pends[i] = (rcr_pend){.seq = seq, .time = time, .thread = thread, .plain = plain,
                             .next = RCR_NONE, .last = i};
    if (!existed) {
        *head = (uintptr_t)i + 1;
    } else {
        rcr_pend *h = &r->pends[*head - 1];
        r->pends[h->last].next = i;
        h->last = i;
    }
    return true;
}

/* The free of ptr that is record seq leaves the window. */
static void pending_remove(rcr_replay *r, uint64_t ptr, uint64_t seq) {
    uintptr_t head;
    if (!rci_htable_get(&r->pending, (uintptr_t)ptr, &head))
        return;
    uint32_t h = (uint32_t)(head - 1), prev = RCR_NONE;
    for (uint32_t i = h; i != RCR_NONE; prev = i, i = r->pends[i].next) {
        if (r->pends[i].seq != seq)
            continue;
        uint32_t next = r->pends[i].next;
        if (prev == RCR_NONE) {
            if (next == RCR_NONE) {
                rci_htable_remove(&r->pending, (uintptr_t)ptr, NULL);
            } else {
                r->pends[next].last = r->pends[i].last;
                rci_htable_put(&r->pending, (uintptr_t)ptr, (uintptr_t)next + 1);
            }
        } else {
            r->pends[prev].next = next;
            if (r->pends[h].last == i)
                r->pends[h].last = prev;
        }
        r->pends[i].next = r->free_pend;
        r->free_pend = i;
        return;
    }
}

/* Every free of ptr leaves the window's books (at the end). */
static void pending_clear(rcr_replay *r, uint64_t ptr) {
    uintptr_t head;
    if (!rci_htable_remove(&r->pending, (uintptr_t)ptr, &head))
        return;
    for (uint32_t i = (uint32_t)(head - 1); i != RCR_NONE;) {
        uint32_t next = r->pends[i].next;
        r->pends[i].next = r->free_pend;
        r->free_pend = i;
        i = next;
    }
}

/* The oldest FREE record of ptr stamped no later than time that waits in
 * the window, RCR_NONE if none. */
static uint32_t pending_free_by(const rcr_replay *r, uint64_t ptr, uint64_t time) {
    uintptr_t head;
    uint32_t best = RCR_NONE;
    if (!rci_htable_get(&r->pending, (uintptr_t)ptr, &head))
        return RCR_NONE;
    for (uint32_t i = (uint32_t)(head - 1); i != RCR_NONE; i = r->pends[i].next)
        if (r->pends[i].plain && r->pends[i].time <= time &&
            (best == RCR_NONE || r->pends[i].time < r->pends[best].time))
            best = i;
    return best;
}

/* Whether a free of ptr stamped no later than time waits in the window. */
static bool pending_by(const rcr_replay *r, uint64_t ptr, uint64_t time) {
    uintptr_t head;
    if (!rci_htable_get(&r->pending, (uintptr_t)ptr, &head))
        return false;
    for (uint32_t i = (uint32_t)(head - 1); i != RCR_NONE; i = r->pends[i].next)
        if (r->pends[i].time <= time)
            return true;
    return false;
}

/* The address a record frees (FREE, a moved REALLOC's old one), or 0. */
static uint64_t freed_ptr(const rcr_qevent *q) {
    if (q->kind == RCCAP_FREE)
        return q->ptr;
    if (q->kind == RCCAP_REALLOC && q->old_ptr && q->old_ptr != q->ptr)
        return q->old_ptr;
    return 0;
}

/* Whether q hands out an address still live whose free, stamped with
 * q's own time, waits in the window: then it waits for that free. (Every
 * record waiting is as late as q or later, since the window releases the
 * oldest first; a free later than q is the free of q's block, or of one
 * after it.) */
static bool must_wait(const rcr_replay *r, const rcr_qevent *q) {
    if (q->ptr == 0 || (q->kind != RCCAP_ALLOC && q->kind != RCCAP_REALLOC) ||
        (q->kind == RCCAP_REALLOC && q->old_ptr == q->ptr) || r->pending.count == 0)
        return false;
    uintptr_t index;
    return rci_htable_get(&r->live, (uintptr_t)q->ptr, &index) && pending_by(r, q->ptr, q->time);
}

static bool defer(rcr_replay *r, const rcr_qevent *q, uint32_t thread) {
    uint32_t i = r->free_deferred;
    if (i != RCR_NONE) {
        r->free_deferred = r->deferred[i].next;
    } else {
        if (r->ndeferred >= RCR_NONE ||
            !reserve(&r->deferred, &r->cap_deferred, r->ndeferred + 1, sizeof *r->deferred))
            return false;
        i = (uint32_t)r->ndeferred++;
    }
    r->deferred[i] = (rcr_deferred){.q = *q, .thread = thread, .next = RCR_NONE};
    bool existed;
    uintptr_t *slot = rci_htable_slot(&r->deferred_at, (uintptr_t)q->ptr, &existed);
    if (!slot)
        return false;
    if (!existed) {
        *slot = (uintptr_t)i + 1;
        return true;
    }
    uint32_t last = (uint32_t)(*slot - 1);
    while (r->deferred[last].next != RCR_NONE)
        last = r->deferred[last].next;
    r->deferred[last].next = i;
    return true;
}

static bool release(rcr_replay *r, const rcr_qevent *q, uint32_t thread);
static bool apply(rcr_replay *r, const rcr_qevent *q, uint32_t thread);

/* Take out of ptr's chain the records of `thread` (every record when
 * thread is RCR_NONE), in order, into a new chain; its head or RCR_NONE. */
static uint32_t detach_deferred(rcr_replay *r, uint64_t ptr, uint32_t thread) {
    uintptr_t first;
    if (r->deferred_at.count == 0 || !rci_htable_get(&r->deferred_at, (uintptr_t)ptr, &first))
        return RCR_NONE;
    uint32_t keep = RCR_NONE, keep_tail = RCR_NONE, out = RCR_NONE, out_tail = RCR_NONE;
    for (uint32_t i = (uint32_t)(first - 1); i != RCR_NONE;) {
        uint32_t next = r->deferred[i].next;
        r->deferred[i].next = RCR_NONE;
        bool take = thread == RCR_NONE || r->deferred[i].thread == thread;
        uint32_t *head = take ? &out : &keep, *tail = take ? &out_tail : &keep_tail;
        if (*tail == RCR_NONE)
            *head = i;
        else
            r->deferred[*tail].next = i;
        *tail = i;
        i = next;
    }
    if (keep == RCR_NONE)
        rci_htable_remove(&r->deferred_at, (uintptr_t)ptr, NULL);
    else
        rci_htable_put(&r->deferred_at, (uintptr_t)ptr, (uintptr_t)keep + 1);
    return out;
}

/* Release (or, forced, apply without waiting) a detached chain. */
static bool run_deferred(rcr_replay *r, uint32_t i, bool force) {
    while (i != RCR_NONE) {
        rcr_deferred d = r->deferred[i];
        r->deferred[i].next = r->free_deferred;
        r->free_deferred = i;
        if (force) {
            uint64_t freed = freed_ptr(&d.q);
            if (freed)
                pending_remove(r, freed, d.q.seq);
            /* The free it waited for is applied now, ahead of its turn, and
             * skipped when that comes (`early`). */
            uint32_t p = pending_free_by(r, d.q.ptr, d.q.time);
            if (p != RCR_NONE) {
                rcr_pend pf = r->pends[p];
                if (rci_htable_put(&r->early, (uintptr_t)pf.seq, 1) != 0)
                    return false;
                pending_remove(r, d.q.ptr, pf.seq);
                rcr_qevent fq = {.time = pf.time, .seq = pf.seq, .ptr = d.q.ptr,
                                 .kind = RCCAP_FREE};
                if (!apply(r, &fq, pf.thread))
                    return false;
            }
            if (!apply(r, &d.q, d.thread) ||
                (freed && !run_deferred(r, detach_deferred(r, freed, RCR_NONE), false)))
                return false;
        } else if (!release(r, &d.q, d.thread)) {
            return false;
        }
        i = d.next;
    }
    return true;
}

/* At the end, when the window is empty: what still waits for a free that
 * never came is applied, in the order it was held back per address. */
static bool apply_all_deferred(rcr_replay *r) {
    for (size_t i = 0; i < r->ndeferred && r->deferred_at.count; i++) {
        uint64_t ptr = r->deferred[i].q.ptr;
        uintptr_t first;
        if (!rci_htable_get(&r->deferred_at, (uintptr_t)ptr, &first) || first != i + 1)
            continue;
        pending_clear(r, ptr);
        if (!run_deferred(r, detach_deferred(r, ptr, RCR_NONE), true))
            return false;
    }
    return true;
}

/* Apply q, unless it must wait for a free of its address (see "Ties"). */
static bool release(rcr_replay *r, const rcr_qevent *q, uint32_t thread) {
    if (r->early.count && rci_htable_remove(&r->early, (uintptr_t)q->seq, NULL))
        return true;   /* applied already, for an allocation that waited */
    uint64_t freed = freed_ptr(q);
    if (freed) {
        pending_remove(r, freed, q->seq);
        /* what this thread allocated at that address while it waited came
         * before this free in the thread's own order */
        if (!run_deferred(r, detach_deferred(r, freed, thread), true))
            return false;
    }
    if (must_wait(r, q)) {
        /* its own free part waits with it: count it pending again */
        if (freed && !pending_add(r, freed, q->seq, q->time, thread, q->kind == RCCAP_FREE))
            return false;
        return defer(r, q, thread);
    }
    if (!apply(r, q, thread))
        return false;
    return freed ? run_deferred(r, detach_deferred(r, freed, RCR_NONE), false) : true;
}

static bool apply(rcr_replay *r, const rcr_qevent *q, uint32_t thread) {
    r->applying_time = q->time;
    r->applying_thread = thread;
    r->applying_record = q;
    bool late = r->released_any && q->time < r->released_time;
    if (late)
        r->totals.late++;
    else
        r->released_time = q->time;
    r->released_any = true;
    switch (q->kind) {
    case RCCAP_ALLOC:
        return do_alloc(r, q, late);
    case RCCAP_FREE:
        do_free(r, q->ptr, q->time);
        return true;
    case RCCAP_REALLOC:
        if (q->old_ptr)
            do_free(r, q->old_ptr, q->time);
        return do_alloc(r, q, late);
    case RCCAP_LEAK:
        r->have_leaks = true;
        do_leak(r, q);
        return true;
    default:
        return true;
    }
}

/* ---- the window ------------------------------------------------------------------ */

static bool q_less(const rcr_qevent *a, const rcr_qevent *b) {
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static const rcr_qevent *fifo_first(const rcr_fifo *f) {
    return &f->v[f->head];
}

static bool ready_less(const rcr_replay *r, size_t a, size_t b) {
    return q_less(fifo_first(&r->fifos[r->ready[a]]), fifo_first(&r->fifos[r->ready[b]]));
}

static void ready_swap(rcr_replay *r, size_t a, size_t b) {
    uint32_t t = r->ready[a];
    r->ready[a] = r->ready[b];
    r->ready[b] = t;
    r->fifos[r->ready[a]].heap_pos = a;
    r->fifos[r->ready[b]].heap_pos = b;
}

static void ready_up(rcr_replay *r, size_t i) {
    while (i > 0 && ready_less(r, i, (i - 1) / 2)) {
        ready_swap(r, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void ready_down(rcr_replay *r, size_t i) {
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->nready)
            return;
        if (c + 1 < r->nready && ready_less(r, c + 1, c))
            c++;
        if (!ready_less(r, c, i))
            return;
        ready_swap(r, i, c);
        i = c;
    }
}

/* The fifo of a thread number, created when new; RCR_NONE on out of memory. */
static uint32_t fifo_of(rcr_replay *r, uint32_t thread) {
    bool existed;
    uintptr_t *slot = rci_htable_slot(&r->fifo_of, (uintptr_t)thread + 1, &existed);
    if (!slot)
        return RCR_NONE;
    if (existed)
        return (uint32_t)*slot;
    if (!reserve(&r->fifos, &r->cap_fifos, r->nfifos + 1, sizeof *r->fifos) ||
        !reserve(&r->ready, &r->cap_ready, r->nfifos + 1, sizeof *r->ready)) {
        rci_htable_remove(&r->fifo_of, (uintptr_t)thread + 1, NULL);
        return RCR_NONE;
    }
    r->fifos[r->nfifos] = (rcr_fifo){.thread = thread};
    *slot = r->nfifos;
    if (thread)
        r->totals.threads++;
    return (uint32_t)r->nfifos++;
}

/* Release the oldest waiting record into the replay. */
static bool release_oldest(rcr_replay *r) {
    rcr_fifo *f = &r->fifos[r->ready[0]];
    uint32_t thread = f->thread;
    rcr_qevent e = f->v[f->head];
    f->head = (f->head + 1) & (f->cap - 1);
    f->len--;
    r->waiting--;
    if (f->len) {
        ready_down(r, 0);
    } else {
        ready_swap(r, 0, --r->nready);
        ready_down(r, 0);
        /* An empty ring that grew large goes back: every thread's ring may
         * have grown to most of the window at some time, and together
         * they would keep that many times the window. */
        if (f->cap > RCR_FIFO_KEEP) {
            free(f->v);
            f->v = NULL;
            f->cap = 0;
            f->head = 0;
        }
    }
    return release(r, &e, thread);
}

static bool enqueue(rcr_replay *r, uint32_t fi, const rcr_qevent *e) {
    uint64_t freed = freed_ptr(e);
    if (freed && !pending_add(r, freed, e->seq, e->time, r->fifos[fi].thread,
                              e->kind == RCCAP_FREE))
        return false;
    if (e->time > r->newest_time)
        r->newest_time = e->time;
    /* What waits longer than RCR_LAG_NS behind the newest record cannot be
     * overtaken any more (the preload writes a record within that time). */
    while (r->nready && fifo_first(&r->fifos[r->ready[0]])->time + RCR_LAG_NS < r->newest_time)
        if (!release_oldest(r))
            return false;
    if (r->waiting == RCR_WINDOW && !release_oldest(r))
        return false;
    rcr_fifo *f = &r->fifos[fi];
    if (f->len == f->cap) {
        /* Double the ring, unrolling it to start at 0. */
        size_t cap = f->cap ? 2 * f->cap : 64;
        rcr_qevent *v = malloc(cap * sizeof *v);
        if (!v)
            return false;
        for (size_t i = 0; i < f->len; i++)
            v[i] = f->v[(f->head + i) & (f->cap - 1)];
        free(f->v);
        f->v = v;
        f->cap = cap;
        f->head = 0;
    }
    f->v[(f->head + f->len) & (f->cap - 1)] = *e;
    f->len++;
    r->waiting++;
    if (f->len == 1) {
        f->heap_pos = r->nready;
        r->ready[r->nready++] = fi;
        ready_up(r, f->heap_pos);
    }
    return true;
}

/* ---- records ----------------------------------------------------------------- */

bool rcr_replay_event(rcr_replay *r, const rccap_event *ev) {
    r->totals.records++;
    if (ev->time_ns > r->totals.duration_ns)
        r->totals.duration_ns = ev->time_ns;
    uint32_t fi = fifo_of(r, ev->thread);
    if (fi == RCR_NONE)
        return false;
    rcr_qevent q = {.time = ev->time_ns, .seq = r->seq++, .kind = (uint8_t)ev->kind};
    switch (ev->kind) {
    case RCCAP_ALLOC:
        q.ptr = ev->u.alloc.ptr;
        q.size = ev->u.alloc.size;
        q.weight = ev->u.alloc.weight;
        q.stack = ev->u.alloc.stack;
        q.fn = (uint8_t)ev->u.alloc.fn;
        return enqueue(r, fi, &q);
    case RCCAP_REALLOC:
        q.old_ptr = ev->u.realloc.old_ptr;
        q.ptr = ev->u.realloc.ptr;
        q.size = ev->u.realloc.size;
        q.weight = ev->u.realloc.weight;
        q.stack = ev->u.realloc.stack;
        q.fn = RCCAP_FN_REALLOC;
        return enqueue(r, fi, &q);
    case RCCAP_FREE:
        q.ptr = ev->u.free.ptr;
        return enqueue(r, fi, &q);
    case RCCAP_LEAK:
        q.ptr = ev->u.leak.ptr;
        q.lost = ev->u.leak.state == RCCAP_LEAK_LOST;
        return enqueue(r, fi, &q);
    case RCCAP_STACK:
        return define_node(r, ev);
    case RCCAP_MODULE:
        return add_module(r, ev);
    case RCCAP_MEMORY:
        if (ev->u.memory.rss > r->totals.peak_rss)
            r->totals.peak_rss = ev->u.memory.rss;
        return true;
    case RCCAP_SYNC: {
        /* nothing stamped before the barrier can follow in the file */
        uint64_t barrier = ev->time_ns > ev->u.sync.lag ? ev->time_ns - ev->u.sync.lag : 0;
        while (r->nready && fifo_first(&r->fifos[r->ready[0]])->time < barrier)
            if (!release_oldest(r))
                return false;
        return true;
    }
    case RCCAP_GC:
        r->totals.collections[ev->u.gc.generation < 3 ? ev->u.gc.generation : 2]++;
        r->totals.gc_collected += ev->u.gc.collected;
        if (ev->u.gc.duration_ns > r->totals.gc_longest_ns)
            r->totals.gc_longest_ns = ev->u.gc.duration_ns;
        return true;
    case RCCAP_EXIT:
        r->have_exit = true;
        r->end = ev->u.exit.how;
        r->exit_status = ev->u.exit.status;
        r->exit_signal = ev->u.exit.signal;
        return true;
    default:
        return true;
    }
}

/* With the preload's verdicts on every block live at exit: a block live
 * here without one was not live in the program at exit. Its free and a
 * later allocation at its address, by different threads within one
 * millisecond, were replayed the wrong way round (see "Ties"); it is
 * counted as freed at the end. */
static bool settle_unjudged(rcr_replay *r) {
    size_t n = 0, cap = 0, pos = 0;
    uint64_t *ptrs = NULL;
    uintptr_t key, index;
    while (rci_htable_next(&r->live, &pos, &key, &index)) {
        if (r->blocks[index].thread & RCR_BLOCK_JUDGED)
            continue;
        if (n == cap && !reserve(&ptrs, &cap, n + 1, sizeof *ptrs)) {
            free(ptrs);
            return false;
        }
        ptrs[n++] = key;
    }
    r->applying_time = r->totals.duration_ns;
    r->applying_thread = 0;
    r->applying_record = NULL;
    for (size_t i = 0; i < n; i++) {
        rcr_block b;
        uint32_t slot;
        if (take_block(r, ptrs[i], &b, &slot)) {
            block_gone(r, &b, ptrs[i], slot);
            r->totals.unjudged += b.count;
        }
    }
    free(ptrs);
    return true;
}

bool rcr_replay_finish(rcr_replay *r) {
    while (r->waiting)
        if (!release_oldest(r))
            return false;
    if (!apply_all_deferred(r))
        return false;
    if (r->have_leaks && r->have_exit && !settle_unjudged(r))
        return false;
    for (size_t i = 0; i < r->nfigures; i++)
        touch(r, &r->figures[i]);
    r->totals.leaked_bytes = r->live_bytes;
    r->totals.leaked_allocations = r->live_allocations;
    return true;
}
