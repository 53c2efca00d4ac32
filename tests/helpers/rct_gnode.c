/* rct_gnode.c - see rct_gnode.h. */
#include "rct_gnode.h"

int rct_gnode_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    rct_gnode *n = (rct_gnode *)self;
    for (int i = 0; i < RCT_GNODE_SLOTS; i++)
        if (n->slot[i]) {
            int r = visit(n->slot[i], arg);
            if (r)
                return r;
        }
    return 0;
}

void rct_gnode_drop_slots(rct_gnode *n) {
    for (int i = 0; i < RCT_GNODE_SLOTS; i++) {
        rc_obj *x = n->slot[i];
        n->slot[i] = NULL;
        rc_xdecref(x);
    }
}
