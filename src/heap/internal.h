/* internal.h - every per-concern header of src/heap/, for options.c until it
 * includes the ones it uses (debug.h, hooks.h). New code includes the
 * header of each concern it uses instead. */
#ifndef RC_HEAP_INTERNAL_H
#define RC_HEAP_INTERNAL_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "heap/alloc.h"
#include "heap/arena.h"
#include "heap/base.h"
#include "heap/debug.h"
#include "heap/hooks.h"
#include "heap/pool.h"
#include "heap/stats.h"
#include "heap/tlheap.h"

#endif /* RC_HEAP_INTERNAL_H */
