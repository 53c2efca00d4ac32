/* error.c - RC_E* codes and the runtime's last error (code + message).
 *
 * Invariant: rt->err_code is 0 or the code of the most recent failing call
 * that had the runtime. Its message is rt->err_msg when
 * rt->err_lazy.format is NULL; otherwise err_msg is stale and the message is
 * what format writes from err_lazy (object.h: rco_err_lazy). Successful
 * calls never touch any of these, so a caller may check rc_error(rt) once
 * after a sequence.
 *
 * Why lazy: formatting with vsnprintf costs several times a dict lookup,
 * and a miss is often expected (the caller asks, gets RC_EKEY, clears it).
 * A lazy error records the code and copies of a few values; the text is
 * made by rc_error_message, once, and cached in err_msg. rc_error_message
 * takes a const runtime and still writes that cache: a runtime is never a
 * const object (rc_runtime_new allocates it), so writing through the
 * pointer with const cast away is defined, and the message a reader gets
 * is the same whenever it reads it.
 *
 * Code that must keep the caller's error across work of its own (the
 * collector, a benign shrink) saves and restores it with rco_error_save /
 * rco_error_restore, which carry the lazy part too: copying err_code and
 * err_msg alone would pair a restored code with a stale message. */
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
    if (!rt)
        return "no runtime";
    if (rt->err_lazy.format) {
        rc_runtime *w = (rc_runtime *)(uintptr_t)rt;     /* see the file comment */
        rco_errfmt format = w->err_lazy.format;
        w->err_lazy.format = NULL;
        format(w->err_msg, sizeof w->err_msg, &w->err_lazy);
    }
    return rt->err_msg;
}

void rc_error_clear(rc_runtime *rt) {
    if (!rt)
        return;
    rt->err_code = 0;
    rt->err_msg[0] = '\0';
    rt->err_lazy.format = NULL;
}

void rco_error_save(const rc_runtime *rt, rco_error_state *s) {
    s->code = rt->err_code;
    s->lazy.format = NULL;
    s->msg[0] = '\0';
    if (s->code == 0)
        return;
    if (rt->err_lazy.format)
        s->lazy = rt->err_lazy;
    else
        memcpy(s->msg, rt->err_msg, sizeof s->msg);
}

void rco_error_restore(rc_runtime *rt, const rco_error_state *s) {
    rt->err_code = s->code;
    rt->err_lazy = s->lazy;
    if (!s->lazy.format)
        memcpy(rt->err_msg, s->msg, sizeof rt->err_msg);
}

__attribute__((format(printf, 3, 0)))
static int verr(rc_runtime *rt, int code, const char *fmt, va_list ap) {
    if (!rt)
        return code;
    rt->err_code = code;
    rt->err_lazy.format = NULL;
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
    if (container && rco_runtime(container) != rt)
        return rco_err(rt, RC_EINVAL, "%s: the %s at %p belongs to another runtime than the one passed",
                       call, rc_type_name(container), (const void *)container);
    return rco_err(rt, RC_EINVAL,
                   "%s: the %s at %p belongs to another runtime; a %s holds only objects of its own runtime",
                   call, rc_type_name(item), (const void *)item,
                   container ? rc_type_name(container) : "container");
}
