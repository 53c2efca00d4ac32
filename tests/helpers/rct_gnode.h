/* rct_gnode.h - the user container type shared by the collector's tests: a
 * node with an id, a magic word (to see that survivors are intact) and four
 * object slots. Each test file gives it its own clear/destroy/finalize (they
 * count into the file's own arrays); traversal and slot dropping are these. */
#ifndef RCT_GNODE_H
#define RCT_GNODE_H

#include <recycle.h>

#define RCT_GNODE_SLOTS 4

typedef struct rct_gnode {
    rc_obj ob;
    int id;
    unsigned magic;
    rc_obj *slot[RCT_GNODE_SLOTS];
} rct_gnode;

/* traverse slot: visits every non-NULL slot, stops at a nonzero result */
int rct_gnode_traverse(rc_obj *self, rc_visitfn visit, void *arg);
/* Empties every slot first, then drops the references (a decref may run
 * code that looks at the node again). */
void rct_gnode_drop_slots(rct_gnode *n);

#endif
