/* stacktree.c - the call tree of recorded stacks (stacktree.h).
 *
 * Invariants:
 *   - every id in 1 .. count has its node written before count or any slot
 *     holding the id was published (release stores; readers acquire), and
 *     a slot's key before its id;
 *   - the current table holds every id, at most half of its slots used, so
 *     a probe ends at an empty slot; an outgrown table holds a subset, and a
 *     lookup that misses there is repeated under the lock on the current
 *     one before a node is made;
 *   - a node's (parent, pc) pair is unique in the tree. */
#include "preload/stacktree.h"

#include <errno.h>
#include <string.h>

#define CHUNK_BITS 16
#define CHUNK_NODES (1u << CHUNK_BITS)
#define CHUNKS (1u << (32 - CHUNK_BITS))
#define FIRST_SLOTS 4096u

/* Generations of trees made in this process: a memo tag names the tree it
 * was written for, and a tag of a tree released earlier never matches.
 * Starts at 1: a memo frame's tag_gen 0 means "no tag". */
static _Atomic size_t tree_gens;

/* The children of one node whose return addresses lie in the same 256
 * bytes of code (the call sites of one function, mostly) share their home
 * slot and so sit next to each other: a program that descends one level
 * deeper looks up a child of the node it made or found just before, often
 * in the same cache line. Which child it is, the full key decides. */
static uint64_t node_hash(uint32_t parent, uintptr_t pc) {
    uint64_t h = (uint64_t)(pc >> 8) ^ ((uint64_t)parent << 32 | parent);
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    return h ^ (h >> 33);
}

/* The slots start on their own page (the header takes the first one), so
 * that no slot straddles two cache lines. */
static size_t tab_bytes(size_t slots) {
    return rci_os_page_size() + slots * sizeof(rcpl_tslot);
}

static rcpl_ttab *tab_new(size_t slots) {
    rcpl_ttab *tb = rcpl_os_take(tab_bytes(slots));
    if (!tb)
        return NULL;
    tb->slot = (rcpl_tslot *)(void *)((char *)tb + rci_os_page_size());   /* fresh pages: every id 0 */
    tb->mask = slots - 1;
    return tb;
}

static void tab_give(rcpl_ttab *tb) {
    rcpl_os_give(tb, tab_bytes(tb->mask + 1));
}

int rcpl_tree_init(rcpl_tree *t, rcpl_node_made made, void *arg) {
    memset(t, 0, sizeof *t);
    t->chunk = rcpl_os_take(CHUNKS * sizeof *t->chunk);
    rcpl_ttab *tb = t->chunk ? tab_new(FIRST_SLOTS) : NULL;
    if (!tb) {
        rcpl_os_give(t->chunk, CHUNKS * sizeof *t->chunk);
        t->chunk = NULL;
        return ENOMEM;
    }
    atomic_store_explicit(&t->tab, tb, memory_order_release);
    t->gen = atomic_fetch_add(&tree_gens, 1) + 1;
    t->made = made;
    t->arg = arg;
    return 0;
}

void rcpl_tree_release(rcpl_tree *t) {
    rcpl_ttab *tb = atomic_load(&t->tab);
    while (tb) {
        rcpl_ttab *older = tb->older;
        tab_give(tb);
        tb = older;
    }
    if (t->chunk) {
        for (size_t i = 0; i < CHUNKS && t->chunk[i]; i++)
            rcpl_os_give(t->chunk[i], CHUNK_NODES * sizeof(rcpl_tnode));
        rcpl_os_give(t->chunk, CHUNKS * sizeof *t->chunk);
    }
    memset(t, 0, sizeof *t);
}

/* The id of (parent, pc) in tb, or 0. */
static uint32_t probe(const rcpl_ttab *tb, uint32_t parent, uintptr_t pc, uint64_t h) {
    for (size_t k = (size_t)h & tb->mask;; k = (k + 1) & tb->mask) {
        const rcpl_tslot *e = &tb->slot[k];
        uint32_t id = atomic_load_explicit(&e->id, memory_order_acquire);
        if (!id)
            return 0;
        if (e->pc == pc && e->parent == parent)
            return id;
    }
}

static void tab_put(const rcpl_tree *t, rcpl_ttab *tb, uint32_t id) {
    const rcpl_tnode *n = rcpl_tree_get(t, id);
    size_t k = (size_t)node_hash(n->parent, n->pc) & tb->mask;
    while (atomic_load_explicit(&tb->slot[k].id, memory_order_relaxed))
        k = (k + 1) & tb->mask;
    tb->slot[k].pc = n->pc;
    tb->slot[k].parent = n->parent;
    atomic_store_explicit(&tb->slot[k].id, id, memory_order_release);
}

/* Twice the slots, every id moved (lock held); false on ENOMEM. */
static bool grow(rcpl_tree *t) {
    rcpl_ttab *cur = atomic_load_explicit(&t->tab, memory_order_relaxed);
    size_t slots = (cur->mask + 1) * 2;
    if (slots > ((size_t)1 << 34))
        return false;
    rcpl_ttab *tb = tab_new(slots);
    if (!tb)
        return false;
    uint32_t count = atomic_load_explicit(&t->count, memory_order_relaxed);
    for (uint32_t id = 1; id <= count; id++)
        tab_put(t, tb, id);
    tb->older = cur;
    atomic_store_explicit(&t->tab, tb, memory_order_release);
    return true;
}

static RCPL_NOINLINE uint32_t make(rcpl_tree *t, uint32_t parent, uintptr_t pc, uint64_t h) {
    rcpl_lock_take(&t->lock);
    rcpl_ttab *tb = atomic_load_explicit(&t->tab, memory_order_relaxed);
    uint32_t id = probe(tb, parent, pc, h);
    if (id)
        goto out;
    uint32_t count = atomic_load_explicit(&t->count, memory_order_relaxed);
    if (count == UINT32_MAX - 1)
        goto out;   /* ids are spent: the stack is cut here */
    if ((size_t)(count + 1) * 2 > tb->mask + 1) {
        if (!grow(t))
            goto out;
        tb = atomic_load_explicit(&t->tab, memory_order_relaxed);
    }
    uint32_t fresh = count + 1;
    rcpl_tnode **chunk = &t->chunk[fresh >> CHUNK_BITS];
    if (!*chunk && !(*chunk = rcpl_os_take(CHUNK_NODES * sizeof(rcpl_tnode))))
        goto out;
    if (t->made && !t->made(t->arg, fresh, parent, pc))
        goto out;
    rcpl_tnode *n = &(*chunk)[fresh & (CHUNK_NODES - 1)];
    n->pc = pc;
    n->parent = parent;
    atomic_store_explicit(&t->count, fresh, memory_order_release);
    tab_put(t, tb, fresh);
    id = fresh;
out:
    rcpl_lock_give(&t->lock);
    return id;
}

uint32_t rcpl_tree_node(rcpl_tree *t, uint32_t parent, uintptr_t pc) {
    uint64_t h = node_hash(parent, pc);
    uint32_t id = probe(atomic_load_explicit(&t->tab, memory_order_acquire), parent, pc, h);
    return id ? id : make(t, parent, pc, h);
}

uint32_t rcpl_tree_intern(rcpl_tree *t, rctr_frame *fr, const uintptr_t *flat, size_t n) {
    uint32_t id = 0;
    if (n == 0)
        return 0;
    if (!fr) {
        for (size_t k = n; k-- > 0;) {
            uint32_t next = rcpl_tree_node(t, id, flat[k]);
            if (!next)
                return id;
            id = next;
        }
        return id;
    }
    /* The innermost frame whose tag holds for this capture: it and every
     * frame outward are unchanged since the tag was written (the memo keeps
     * a frame only then), and the capture ends at the same frame. */
    uintptr_t cut = fr[n - 1].sp;
    size_t i = 0;
    while (i < n && !(fr[i].tag_gen == t->gen && fr[i].tag_cut == cut))
        i++;
    if (i < n)
        id = (uint32_t)fr[i].tag;
    while (i-- > 0) {
        uint32_t next = rcpl_tree_node(t, id, fr[i].pc);
        if (!next)
            return id;
        id = next;
        fr[i].tag = id;
        fr[i].tag_cut = cut;
        fr[i].tag_gen = t->gen;
    }
    return id;
}
