/* stack.h - stack capture for the trace layer: the return addresses of the
 * calling thread, innermost first.
 *
 * On x86-64, a walk over the .eh_frame unwind rules that compilers emit by
 * default, each address's rule computed once and cached, and the outer
 * frames that did not change since the thread's last walk taken from a
 * per-thread memo of that walk after checking the stack words it read;
 * libgcc's _Unwind_Backtrace for frames the walk does not model and on
 * other architectures. Both give correct tracebacks for code built without frame
 * pointers (Debian's -O2). docs/trace.md records the choice and the costs.
 *
 * Capture never allocates from the recycle heap and takes no lock of the
 * library: it may run inside an allocator hook. */
#ifndef RC_TRACE_STACK_H
#define RC_TRACE_STACK_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stddef.h>
#include <stdint.h>

/* The largest traceback the trace layer records (rc_trace_start's range). */
#define RCTR_MAX_FRAMES 128

/* Write up to max return addresses of the calling thread into out,
 * innermost first, after dropping the skip innermost ones. Frame 0 of the
 * raw walk is a program counter inside rctr_stack_capture itself; frame 1 is
 * the return address into its caller. Returns the number written (0 when
 * the unwinder finds nothing). Never fails otherwise. */
size_t rctr_stack_capture(uintptr_t *out, size_t max, size_t skip);

/* A frame of the calling thread's memo (stack.c): its address, and a tag
 * for the caller's bookkeeping. The memo keeps a frame from one walk to the
 * next only while the frame and every frame outward of it are unchanged,
 * so a tag describes the frames from its frame outward for as long as the
 * frame is kept; a frame the memo did not keep has tag_gen 0. tag_cut is
 * free for the caller too (the trace layer stores there the %rsp of the
 * outermost frame its tag covers). */
typedef struct rctr_frame {
    uintptr_t pc;
    uintptr_t sp;            /* the frame's %rsp: unique on the stack */
    uintptr_t tag, tag_cut;
    size_t tag_gen;
    /* the memo's own: the frame's %rbp, the words its step read (0: none),
     * its flags */
    uintptr_t bp, raaddr, bpaddr, flags;
} rctr_frame;

/* rctr_stack_capture's walk, leaving the frames in the memo where it can:
 * *frames is then set to the first of the n frames returned (innermost
 * first, skip dropped), valid until the calling thread's next capture, and
 * the caller may write their tags. Where the memo does not serve (a capture
 * from a signal handler that interrupted one, max + skip beyond its size or
 * so small that a plain walk is cheaper, a frame it does not model, no
 * memory for it), *frames is NULL and the addresses are copied to copy
 * (room for max) instead. Same raw frames as rctr_stack_capture (frame 0 a
 * pc inside this function). */
size_t rctr_stack_walk(rctr_frame **frames, uintptr_t *copy, size_t max, size_t skip);

/* A frame to start a walk from instead of the capture's own: a point in a
 * function that is still running (its pc, %rsp and %rbp there), taken by
 * RCTR_START_HERE. A walk from it finds [that pc, the return into the
 * function's caller, ...]: the frames between the start and the walk are
 * not walked at all, which is what makes a hook's capture cheap. The start
 * is valid while its function has not returned. */
typedef struct rctr_start {
    uintptr_t pc, sp, bp;
} rctr_start;
#if defined(__x86_64__)
/* One instruction apart, nothing moves %rsp between them: the unwind rule
 * at pc describes this %rsp and %rbp. */
#define RCTR_START_HERE(st)                                                        \
    __asm__ volatile("leaq 0(%%rip), %0\n\tmovq %%rsp, %1\n\tmovq %%rbp, %2"       \
                     : "=&r"((st).pc), "=&r"((st).sp), "=&r"((st).bp))
#else
/* libgcc's walk is used: it drops the frames whose CFA lies at or below sp. */
#define RCTR_START_HERE(st)                                                        \
    ((st).pc = 0, (st).sp = (uintptr_t)__builtin_frame_address(0), (st).bp = 0)
#endif

/* rctr_stack_capture, rctr_stack_walk and rctr_stack_capture_plain from a
 * start frame: raw frame 0 is the start's pc (skip counts it). */
size_t rctr_stack_capture_from(const rctr_start *st, uintptr_t *out, size_t max, size_t skip);
size_t rctr_stack_walk_from(const rctr_start *st, rctr_frame **frames, uintptr_t *copy, size_t max,
                            size_t skip);
size_t rctr_stack_capture_plain_from(const rctr_start *st, uintptr_t *out, size_t max, size_t skip);

/* The same walk without the calling thread's memo of its last walk (see
 * stack.c): every frame is unwound. The same frames as rctr_stack_capture
 * (frame 0 a pc inside this function); for tests and measurements. */
size_t rctr_stack_capture_plain(uintptr_t *out, size_t max, size_t skip);

#endif /* RC_TRACE_STACK_H */
