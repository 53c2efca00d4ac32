/* recycle/error.h - the error codes every part of recycle returns.
 *
 * Functions returning int return 0 (or, for predicates, 1/0) or one of the
 * negative codes below. Functions that take a runtime also record the code,
 * with a message, on it (recycle/object.h: rc_error, rc_error_message).
 * The malloc family of recycle/heap.h keeps the C library's contract instead:
 * NULL with errno set (ENOMEM, the errno counterpart of RC_ENOMEM; EINVAL,
 * that of RC_EINVAL). Codes are negative so that a count or length and an
 * error can share one int. */
#ifndef RECYCLE_ERROR_H
#define RECYCLE_ERROR_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RC_OK        0
#define RC_ENOMEM    (-1)   /* out of memory */
#define RC_EINVAL    (-2)   /* bad argument or value, invalid UTF-8 */
#define RC_EINDEX    (-3)   /* index out of range */
#define RC_EKEY      (-4)   /* key not found */
#define RC_ETYPE     (-5)   /* wrong or unhashable type */
#define RC_EOVERFLOW (-6)   /* a size or value does not fit */
#define RC_EIO       (-7)   /* an OS call failed (message has strerror and path) */
#define RC_EFORMAT   (-8)   /* damaged or foreign input */
#define RC_ESTATE    (-9)   /* not allowed now (e.g. modified during iteration) */

/* A short, static description of code: RC_OK, an RC_E* code, or
 * "unknown error" for any other value. */
RC_API const char *rc_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* RECYCLE_ERROR_H */
