/* stack.c - stack capture through libgcc's unwinder (see stack.h). */
#include "trace/stack.h"

#include <unwind.h>

typedef struct walk {
    uintptr_t *out;
    size_t max;      /* room left in out */
    size_t skip;     /* innermost frames still to drop */
    size_t n;        /* frames written */
} walk;

static _Unwind_Reason_Code walk_step(struct _Unwind_Context *ctx, void *arg) {
    walk *w = arg;
    uintptr_t pc = (uintptr_t)_Unwind_GetIP(ctx);
    if (pc == 0)
        return _URC_END_OF_STACK;
    if (w->skip) {
        w->skip--;
        return _URC_NO_REASON;
    }
    if (w->n == w->max)
        return _URC_END_OF_STACK;
    w->out[w->n++] = pc;
    return _URC_NO_REASON;
}

/* noinline: the frame count between a caller and the walk must not depend
 * on the optimiser's choices at each call site (the tracer calibrates it). */
__attribute__((noinline)) size_t rctr_stack_capture(uintptr_t *out, size_t max, size_t skip) {
    if (max == 0)
        return 0;
    walk w = {out, max, skip, 0};
    _Unwind_Backtrace(walk_step, &w);
    return w.n;
}
