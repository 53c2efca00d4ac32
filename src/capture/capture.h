/* capture.h - the capture file: what `recycle run` records while a program
 * runs (librecycle-preload.so writes it) and what the reports read.
 * The byte format is documented in docs/capture-format.md.
 *
 * A capture is a header followed by chunks. A chunk is a run of records,
 * compressed with zstd as one frame, and written whole: a program that
 * crashes loses at most the chunks not yet written, and a reader of a
 * truncated file reads every complete chunk before it. Records are events:
 * allocations, frees, reallocations, the call-tree nodes their stacks refer
 * to (each emitted once, before its first use), the modules mapped (so
 * that addresses can be symbolized after the program is gone, libraries it
 * dlclosed included), threads, memory samples, and how the program ended.
 *
 * Nothing here allocates from the recycle heap or calls malloc on the
 * writer's path (the writer runs inside the preload shim, where malloc is
 * the traced function): its memory comes from the OS layer and zstd is
 * given allocation functions over it. The reader uses libc malloc. */
#ifndef RC_CAPTURE_CAPTURE_H
#define RC_CAPTURE_CAPTURE_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RCCAP_VERSION 1

/* What a record is. */
typedef enum rccap_kind {
    RCCAP_ALLOC = 1,   /* a block handed to the program */
    RCCAP_FREE,        /* a block given back */
    RCCAP_REALLOC,     /* a block resized (possibly moved): the old one is gone */
    RCCAP_STACK,       /* a call-tree node: (id, parent id, return address) */
    RCCAP_MODULE,      /* a module mapped: address range, file offset, path, build id */
    RCCAP_THREAD,      /* a thread seen for the first time (or renamed) */
    RCCAP_MEMORY,      /* a sample of the process's memory over time */
    RCCAP_EXIT,        /* how the program ended */
    RCCAP_LEAK,        /* at exit: a block still live, and whether anything points to it */
    RCCAP_KIND_MAX
} rccap_kind;

/* Which function of the malloc family made an allocation. */
typedef enum rccap_fn {
    RCCAP_FN_MALLOC,
    RCCAP_FN_CALLOC,
    RCCAP_FN_REALLOC,
    RCCAP_FN_REALLOCARRAY,
    RCCAP_FN_POSIX_MEMALIGN,
    RCCAP_FN_ALIGNED_ALLOC,
    RCCAP_FN_MEMALIGN,
    RCCAP_FN_VALLOC,
    RCCAP_FN_PVALLOC,
    RCCAP_FN_MAX
} rccap_fn;

/* How the program ended. */
typedef enum rccap_end {
    RCCAP_END_RETURNED,   /* main returned or exit() was called: status */
    RCCAP_END_EXIT_NOW,   /* _exit / _Exit: status */
    RCCAP_END_SIGNAL,     /* killed by a signal: signal (abort() is SIGABRT) */
    RCCAP_END_EXEC,       /* replaced itself by another program (execve) */
    RCCAP_END_UNKNOWN,    /* no EXIT record was written (the reader reports this) */
} rccap_end;

/* Leak classification at exit (conservative scan, as valgrind memcheck). */
typedef enum rccap_leak {
    RCCAP_LEAK_REACHABLE,   /* a pointer to its start is reachable from the roots */
    RCCAP_LEAK_LOST,        /* nothing reachable points to it */
} rccap_leak;

/* The header: who ran, when, how. Strings are NUL-terminated. */
typedef struct rccap_header {
    uint32_t version;             /* RCCAP_VERSION of the writer */
    uint32_t frames;              /* traceback limit of the recording */
    uint64_t sample_bytes;        /* 0: every allocation; else the mean sampling interval */
    uint64_t pid, ppid;
    uint64_t start_realtime_ns;   /* CLOCK_REALTIME at the start */
    uint64_t page_size;
    const char *program;          /* path of the executable */
    const char *command_line;     /* argv joined by spaces */
} rccap_header;

/* One record. time_ns counts from the start of the capture (monotonic);
 * thread is the capture's thread number (1: the first thread seen), not
 * the OS id, which RCCAP_THREAD gives. Stack ids are call-tree nodes: 0 is
 * the empty stack, every other id was defined by an RCCAP_STACK record
 * earlier in the file. Pointers in strings stay valid until the next call
 * of the reader. */
typedef struct rccap_event {
    rccap_kind kind;
    uint64_t time_ns;
    uint32_t thread;
    union {
        struct {
            uint64_t ptr, size;
            uint32_t stack;
            rccap_fn fn;
            uint64_t weight;      /* bytes this record stands for (size, or more when sampled) */
        } alloc;
        struct {
            uint64_t ptr;
        } free;
        struct {
            uint64_t old_ptr, ptr, size;
            uint32_t stack;
            uint64_t weight;
        } realloc;
        struct {
            uint32_t id, parent;
            uint64_t pc;          /* a return address (the innermost: a call site) */
        } stack;
        struct {
            uint64_t start, end, offset;
            const char *path;
            const uint8_t *build_id;
            uint32_t build_id_len;
        } module;
        struct {
            uint64_t os_tid;
            const char *name;
        } thread;
        struct {
            uint64_t rss, heap;   /* resident set; bytes live in the malloc family */
        } memory;
        struct {
            rccap_end how;
            int32_t status, signal;
        } exit;
        struct {
            uint64_t ptr;
            rccap_leak state;
        } leak;
    } u;
} rccap_event;

/* ---- writing ---- */

/* Records are encoded into a caller's buffer (the preload keeps one per
 * thread) and handed to the writer a chunk at a time. */
typedef struct rccap_encoder {
    uint8_t *buf;
    size_t len, cap;
    uint32_t count;               /* records in buf */
    uint64_t last_time;           /* times are stored as deltas within a chunk */
} rccap_encoder;

/* Largest encoding of one record, strings aside (a module's path, a
 * thread's name and a build id add their lengths). */
#define RCCAP_RECORD_MAX 96

/* Append ev to e; false (e unchanged) when it does not fit. */
bool rccap_encode(rccap_encoder *e, const rccap_event *ev);
/* Empty e for the next chunk (the buffer stays). */
void rccap_encoder_reset(rccap_encoder *e);

typedef struct rccap_writer rccap_writer;

/* Start a capture on fd (owned by the caller, written from its current
 * position): the header is written at once. NULL on failure, with *err an
 * errno value. level is zstd's compression level (1 is fast). */
rccap_writer *rccap_writer_open(int fd, const rccap_header *h, int level, int *err);
/* Compress and write the encoded records of e as one chunk; 0 or an errno
 * value. The chunk is written whole or (on an error) not at all as far as
 * a reader can tell. */
int rccap_writer_chunk(rccap_writer *w, const rccap_encoder *e);
/* Write e uncompressed as one chunk, without allocating: for a signal
 * handler flushing what it can before the process dies. */
int rccap_writer_chunk_raw(rccap_writer *w, const rccap_encoder *e);
/* Flush and free the writer (the fd stays open); 0 or an errno value. */
int rccap_writer_close(rccap_writer *w);

/* ---- reading ---- */

typedef struct rccap_reader rccap_reader;

/* Open a capture: NULL on failure, with msg (room for msg_len bytes) saying
 * why in a sentence ("not a recycle capture", "written by a newer version
 * (3) of recycle", "cannot open: ..."). */
rccap_reader *rccap_reader_open(const char *path, char *msg, size_t msg_len);
const rccap_header *rccap_reader_header(const rccap_reader *r);
/* The next record: 1 with *ev filled, 0 at the end of the file, -1 on
 * damage (rccap_reader_error says what and where). A file that ends in the
 * middle of a chunk ends there: 0, with rccap_reader_truncated true. */
int rccap_reader_next(rccap_reader *r, rccap_event *ev);
bool rccap_reader_truncated(const rccap_reader *r);
const char *rccap_reader_error(const rccap_reader *r);
/* Bytes of the file consumed so far and its size (a progress indicator). */
void rccap_reader_progress(const rccap_reader *r, uint64_t *done, uint64_t *total);
void rccap_reader_close(rccap_reader *r);

#endif /* RC_CAPTURE_CAPTURE_H */
