/* error.c - RC_E* codes and the runtime's last error (code + message).
 *
 * Invariant: rt->err_code is 0 or the code of the most recent failing call
 * that had the runtime; rt->err_msg describes it. Successful calls never
 * touch either, so a caller may check rc_error(rt) once after a sequence. */
#include "object/object.h"

#include <stdio.h>
#include <string.h>

const char *rc_strerror(int code) {
    switch (code) {
    case RC_OK: return "no error";
    case RC_ENOMEM: return "out of memory";
    case RC_EINVAL: return "invalid argument";
    case RC_EINDEX: return "index out of range";
    case RC_EKEY: return "key not found";
    case RC_ETYPE: return "wrong or unhashable type";
    case RC_EOVERFLOW: return "value too large";
    case RC_EIO: return "input/output error";
    case RC_EFORMAT: return "damaged or foreign input";
    case RC_ESTATE: return "not allowed in the current state";
    default: return "unknown error";
    }
}

int rc_error(const rc_runtime *rt) {
    return rt ? rt->err_code : RC_EINVAL;
}

const char *rc_error_message(const rc_runtime *rt) {
    return rt ? rt->err_msg : "no runtime";
}

void rc_error_clear(rc_runtime *rt) {
    if (!rt)
        return;
    rt->err_code = 0;
    rt->err_msg[0] = '\0';
}

__attribute__((format(printf, 3, 0)))
static int verr(rc_runtime *rt, int code, const char *fmt, va_list ap) {
    if (!rt)
        return code;
    rt->err_code = code;
    if (fmt) {
        int n = vsnprintf(rt->err_msg, sizeof rt->err_msg, fmt, ap);
        if (n < 0)
            snprintf(rt->err_msg, sizeof rt->err_msg, "%s", rc_strerror(code));
    } else {
        snprintf(rt->err_msg, sizeof rt->err_msg, "%s", rc_strerror(code));
    }
    return code;
}

int rco_err(rc_runtime *rt, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verr(rt, code, fmt, ap);
    va_end(ap);
    return code;
}

void *rco_err_null(rc_runtime *rt, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    verr(rt, code, fmt, ap);
    va_end(ap);
    return NULL;
}

int rc_error_set(rc_runtime *rt, int code, const char *fmt, ...) {
    if (code >= 0)
        return rco_err(rt, RC_EINVAL, "rc_error_set: %d is not an error code (error codes are negative)", code);
    va_list ap;
    va_start(ap, fmt);
    verr(rt, code, fmt, ap);
    va_end(ap);
    return code;
}

int rco_nomem(rc_runtime *rt) {
    return rco_err(rt, RC_ENOMEM, "out of memory");
}

void *rco_nomem_null(rc_runtime *rt) {
    rco_nomem(rt);
    return NULL;
}

int rco_refuse_foreign(rc_runtime *rt, const char *call, const rc_obj *container, const rc_obj *item) {
    return rco_err(rt, RC_EINVAL,
                   "%s: the %s %p belongs to another runtime; a %s may only hold objects of its own runtime",
                   call, rc_type_name(item), (const void *)item,
                   container ? rc_type_name(container) : "container");
}
