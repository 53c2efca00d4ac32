/* hooks.h - the allocator in force (hooks.c), the PyMem_SetAllocator
 * pattern.
 *
 * rci_allocator is consulted only while rci_hooked is set. rci_slow_mode is
 * set whenever hooks are installed or debug mode is on, so that the public
 * functions test one flag before their fast path. */
#ifndef RC_HEAP_HOOKS_H
#define RC_HEAP_HOOKS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/base.h"

extern rc_allocator rci_allocator RCI_HIDDEN; /* in force when rci_hooked */
extern _Atomic int rci_hooked RCI_HIDDEN;
extern _Atomic int rci_slow_mode RCI_HIDDEN; /* hooks installed or debug mode on */
/* Recompute rci_slow_mode after a change of hooks or debug mode. */
void rci_update_slow_mode(void);

#endif /* RC_HEAP_HOOKS_H */
