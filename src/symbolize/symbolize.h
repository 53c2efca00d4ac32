/* symbolize.h - code addresses to function, file and line (elfutils libdw).
 *
 * The symbolize layer turns a return address captured in this process into
 * the frames it stands for: the function containing it and, when the
 * compiler inlined other functions at that point, one frame per inlined
 * function, innermost first (as a debugger shows them). It depends only on
 * libc, libdw/libelf and the heap's doors (src/heap/htable.h, os/os.h); the
 * trace layer and, later, the report layer call it.
 *
 * Modules (the executable, PIE or not, and every shared library) are found
 * from the process's loaded objects and opened once; results are cached per
 * address, so symbolizing the same return addresses again costs a hash
 * lookup. Code without debug information gives the ELF symbol table's
 * function name (when there is one) and `module+0xoffset`, file NULL and
 * line 0. Thread-safe: every function may be called from any thread.
 *
 * Memory: the layer allocates with libc's malloc (libdw does too), never
 * through the recycle heap, so the tracer that traces the recycle heap never
 * sees the symbolizer's allocations. */
#ifndef RC_SYMBOLIZE_SYMBOLIZE_H
#define RC_SYMBOLIZE_SYMBOLIZE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stddef.h>
#include <stdint.h>

/* One frame of a symbolized address. The strings belong to the symbolizer
 * and stay valid until rcs_reset (or the end of the process). */
typedef struct rcs_frame {
    const char *function;   /* demangled where the name is C++; NULL if unknown */
    const char *file;       /* source file (as recorded in DWARF, made absolute
                               with the compilation directory); NULL if unknown */
    int line;               /* 1-based; 0 if unknown */
    int inlined;            /* 1: this frame was inlined into the next one */
    const char *module;     /* path of the executable or shared library; NULL if none */
    uintptr_t module_offset;/* pc minus the module's load bias */
} rcs_frame;

/* Symbolize the code address pc (a return address: pass it as captured,
 * the layer looks up pc - 1 so that a call at the end of a function
 * resolves to the call's line). Writes up to max frames, innermost
 * (inlined) first, the containing function last, and returns how many
 * frames pc stands for (which may exceed max; at least 1). Never fails: an
 * address in no module gives one frame with every field unknown. */
size_t rcs_symbolize(uintptr_t pc, rcs_frame *out, size_t max);

/* ---- offline: the addresses of a process that is gone ----
 *
 * A report symbolizes what a capture recorded, in another process: the
 * modules and where they were mapped come from the capture. A session holds
 * those modules; each is opened the first time one of its addresses is
 * looked up, and its answers are cached. A module whose file is missing, or
 * whose GNU build id differs from the recorded one (rebuilt since), gives
 * one frame with only the module and the offset. Frames and strings are as
 * rcs_symbolize's: valid until rcs_reset, also after the session is freed.
 * Thread-safe like the rest of the layer. */
typedef struct rcs_session rcs_session;

/* NULL on ENOMEM. */
rcs_session *rcs_session_new(void);
/* A segment of a module as it was mapped: [start, end) from file offset
 * file_offset of path, and the module's build id (NULL, 0 when unknown).
 * Segments of one mapping share one module. Returns the module's index
 * (>= 0), or -1 on ENOMEM or arguments that cannot describe a mapping. */
int rcs_session_add_module(rcs_session *s, const char *path, uint64_t start, uint64_t end,
                           uint64_t file_offset, const uint8_t *build_id, size_t build_id_len);
/* As rcs_symbolize, for pc (a return address as the capture recorded it)
 * in module (an index from rcs_session_add_module; any other value gives
 * one unknown frame). */
size_t rcs_session_symbolize(rcs_session *s, int module, uint64_t pc, rcs_frame *out, size_t max);
void rcs_session_free(rcs_session *s);

/* Drop every cache and opened module (after dlclose, or to release memory).
 * Strings returned before are invalid afterwards. */
void rcs_reset(void);

/* Bytes the symbolizer holds for its caches (not counting libdw's own). */
size_t rcs_memory(void);

#endif /* RC_SYMBOLIZE_SYMBOLIZE_H */
