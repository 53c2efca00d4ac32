/* recycle.h - Python's memory management for C.
 *
 * The umbrella header: version macros and every public header. */
#ifndef RECYCLE_H
#define RECYCLE_H

#define RC_VERSION_MAJOR 0
#define RC_VERSION_MINOR 1
#define RC_VERSION_PATCH 0
#define RC_VERSION_STRING "0.1.0"
#define RC_VERSION_NUMBER (RC_VERSION_MAJOR * 10000 + RC_VERSION_MINOR * 100 + RC_VERSION_PATCH)

#include "recycle/export.h"
#include "recycle/heap.h"
#include "recycle/object.h"
#include "recycle/types.h"
#include "recycle/gc.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The version of the library linked at run time (RC_VERSION_STRING when it
 * matches the headers). */
RC_API const char *rc_version(void);
#ifdef __cplusplus
}
#endif

#endif /* RECYCLE_H */
