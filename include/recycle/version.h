/* recycle/version.h - version macros and the run-time version. */
#ifndef RECYCLE_VERSION_H
#define RECYCLE_VERSION_H

#include "export.h"

#define RC_VERSION_MAJOR 0
#define RC_VERSION_MINOR 2
#define RC_VERSION_PATCH 0
#define RC_VERSION_STRING "0.2.0"
#define RC_VERSION_NUMBER (RC_VERSION_MAJOR * 10000 + RC_VERSION_MINOR * 100 + RC_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif
/* The version of the library linked at run time (RC_VERSION_STRING when it
 * matches the headers). */
RC_API const char *rc_version(void);
#ifdef __cplusplus
}
#endif
#endif /* RECYCLE_VERSION_H */
