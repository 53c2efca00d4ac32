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

/* The same walk without the calling thread's memo of its last walk (see
 * stack.c): every frame is unwound. The same frames as rctr_stack_capture
 * (frame 0 a pc inside this function); for tests and measurements. */
size_t rctr_stack_capture_plain(uintptr_t *out, size_t max, size_t skip);

#endif /* RC_TRACE_STACK_H */
