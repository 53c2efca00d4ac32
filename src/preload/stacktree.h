/* stacktree.h - the call tree of the recorded stacks: every distinct
 * (parent node, return address) pair gets a node id, once, as heaptrack's
 * trace tree does. A stack of n frames is then one id: the node of its
 * innermost frame, whose parent is the node of the frames outward of it.
 *
 * Ids are 1, 2, 3, ... in the order the nodes are made; 0 is the empty
 * stack (and the parent of every outermost frame). A node is never removed
 * or changed once made, so an id stays valid for the tree's lifetime.
 *
 * Concurrency: lookups take no lock. Nodes are made under the tree's lock,
 * and the `made` callback runs under it too, before the node can be found
 * by anyone: the recorder uses it to append the node's RCCAP_STACK record
 * to a buffer that the same lock guards, so that a node's record always
 * precedes, in that buffer, any later node, and is written before any
 * record that a thread holding the id can have produced (tracker.c).
 *
 * Memory comes from the OS (rcpl_os_take): 16 bytes per node in chunks of
 * 65536 nodes, and a hash table of 16-byte slots kept at most half full.
 * A slot holds the whole key with the id, so that a lookup reads one slot
 * (one cache miss in a large tree) and no node: programs whose stacks are
 * all different, such as recursive ones, look up nodes that are cold.
 * Tables outgrown are kept until the tree is released (a reader without the
 * lock may still be probing one), which costs at most as much again as the
 * current table. */
#ifndef RC_PRELOAD_STACKTREE_H
#define RC_PRELOAD_STACKTREE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "preload/preload.h"
#include "trace/stack.h"

/* Called under the tree's lock for each node made, before it is published.
 * Returning false refuses the node (it is not made: the record could not be
 * stored), and the lookup that wanted it fails as on ENOMEM. */
typedef bool (*rcpl_node_made)(void *arg, uint32_t id, uint32_t parent, uintptr_t pc);

typedef struct rcpl_tnode {
    uintptr_t pc;
    uint32_t parent;
} rcpl_tnode;

/* A slot: written once, key first, id last (a release store); a reader that
 * sees a non-zero id sees the key written with it. */
typedef struct rcpl_tslot {
    uintptr_t pc;
    uint32_t parent;
    _Atomic uint32_t id;          /* 0: empty */
} rcpl_tslot;

typedef struct rcpl_ttab {
    rcpl_tslot *slot;
    size_t mask;
    struct rcpl_ttab *older;      /* outgrown tables, released with the tree */
} rcpl_ttab;

typedef struct rcpl_tree {
    _Atomic(rcpl_ttab *) tab;
    rcpl_tnode **chunk;           /* chunk i holds ids i * 65536 .. (OS memory) */
    _Atomic uint32_t count;       /* ids 1 .. count exist */
    size_t gen;                   /* tags of stack.c's memo are valid for this tree only */
    rcpl_lock lock;
    rcpl_node_made made;
    void *arg;
} rcpl_tree;

/* An empty tree; 0 or ENOMEM. made may be NULL. */
int rcpl_tree_init(rcpl_tree *t, rcpl_node_made made, void *arg);
/* Give back every page of t; t must be unused by any thread. */
void rcpl_tree_release(rcpl_tree *t);

/* The node (parent, pc), made if absent; 0 when it cannot be made (no
 * memory, or `made` refused it). parent must be 0 or an id of t. */
uint32_t rcpl_tree_node(rcpl_tree *t, uint32_t parent, uintptr_t pc);

/* The node of a stack, innermost frame first: either the frames of the
 * calling thread's memo (fr, as rctr_stack_walk returned them), whose tags
 * this fills in and reuses, or, when fr is NULL, the addresses in flat.
 * A tag is valid for this tree and for captures that end at the same
 * outermost frame (its %rsp is the tag's cut), as in the trace layer
 * (docs/trace.md "Not interning the frames that did not change either").
 * When a node cannot be made, the id of the frames outward of it is
 * returned (the stack loses its inner frames; never a wrong frame). */
uint32_t rcpl_tree_intern(rcpl_tree *t, rctr_frame *fr, const uintptr_t *flat, size_t n);

/* A node's parent and return address (id in 1 .. count). */
static inline const rcpl_tnode *rcpl_tree_get(const rcpl_tree *t, uint32_t id) {
    return &t->chunk[id >> 16][id & 0xffff];
}

/* Ids made so far. */
static inline uint32_t rcpl_tree_count(const rcpl_tree *t) {
    return atomic_load_explicit(&t->count, memory_order_acquire);
}

#endif /* RC_PRELOAD_STACKTREE_H */
