/* recycle.h - Python's memory management for C.
 *
 * The umbrella header: version macros and every public header. */
#ifndef RECYCLE_H
#define RECYCLE_H

#include "recycle/export.h"
#include "recycle/version.h"
#include "recycle/error.h"
#include "recycle/heap.h"
#include "recycle/object.h"
#include "recycle/types.h"
#include "recycle/gc.h"
#include "recycle/trace.h"
#include "recycle/timeit.h"
#include "recycle/profile.h"

#endif /* RECYCLE_H */
