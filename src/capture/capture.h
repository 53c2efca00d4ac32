/* capture.h - the capture file: what `recycle run` records while a program
 * runs (librecycle-preload.so writes it) and what the reports read.
 * The byte format is documented in docs/capture-format.md.
 *
 * A capture is a header followed by chunks. A chunk is a run of records,
 * compressed with zstd (the next flushed piece of one zstd stream, so that
 * a chunk compresses against the ones before it) or stored raw, and written
 * whole: a program that crashes loses at most the chunks not yet written,
 * and a reader of a truncated file reads every complete chunk before it.
 * Records are events: allocations, frees, reallocations, the call-tree
 * nodes their stacks refer to (each emitted once, before its first use),
 * the modules mapped (so that addresses can be symbolized after the
 * program is gone, libraries it dlclosed included), threads, memory
 * samples, and how the program ended.
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

#define RCCAP_VERSION 3

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
    RCCAP_SYNC,        /* every record of every thread stamped before its time
                          minus its lag is earlier in the file (from version 2) */
    RCCAP_GC,          /* a collection of librecycle's cycle collector ended
                          (recycle/annotate.h; from version 3) */
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
 * of the reader.
 *
 * What a reader holds the stack ids to: each id is defined once; a STACK
 * record's parent is 0 or an id defined before it (so the tree has no
 * cycle); ALLOC and REALLOC name 0 or a defined id. Writers number ids 1,
 * 2, 3, ... as nodes are created, and chunks of several threads may define
 * them a little out of order, so the reader asks only that an id be at
 * most 2 * (ids defined before it) + RCCAP_STACK_ID_SLACK: what it keeps
 * per id (and what a report keeps in an array indexed by id) stays
 * proportional to the STACK records actually read. */
#define RCCAP_STACK_ID_SLACK 65536u
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
        struct {
            uint64_t lag;         /* every record stamped before time_ns - lag is earlier */
        } sync;
        struct {                  /* time_ns: when it ended */
            uint32_t generation;  /* 0, 1 or 2 */
            uint64_t collected, uncollectable;   /* objects */
            uint64_t duration_ns; /* from its start to its end */
            uint64_t steps;       /* 0: one pause; else incremental steps */
        } gc;
    } u;
} rccap_event;

/* ---- writing ---- */

/* Records are encoded into a caller's buffer (the preload keeps one per
 * thread) and handed to the writer a chunk at a time. */
typedef struct rccap_model rccap_model;
typedef struct rccap_encoder {
    uint8_t *buf;
    size_t len, cap;
    uint32_t count;               /* records in buf */
    uint64_t last_time;           /* times are stored as deltas within a chunk */
    /* The rest of the delta state of the chunk (pointers, call sites and
     * stack ids are stored relative to the previous ones, threads only when
     * they change, pointers also as references to the chunk's earlier frees
     * and allocations). Zero after rccap_encoder_reset: an encoder set up as
     * { .buf = b, .cap = n } with every other field zero is ready. */
    uint64_t last_ptr, last_pc, last_ref;
    uint32_t last_thread, last_stack;
    uint32_t last_fref;           /* free number the last reference to a free named */
    uint32_t last_astack;         /* stack id of the last ALLOC or REALLOC */
    uint32_t frees, allocs;
    rccap_model *model;           /* optional: rccap_encoder_set_model */
} rccap_encoder;

/* Largest encoding of one record, strings aside (a module's path, a
 * thread's name and a build id add their lengths and one byte each). */
#define RCCAP_RECORD_MAX 96
/* Longest module path, thread name and header program path, in bytes
 * without the NUL; the encoder and the writer cut longer ones there. */
#define RCCAP_STRING_MAX 4096
/* Longest build id, in bytes (cut there too). */
#define RCCAP_BUILD_ID_MAX 255
/* Longest header command line, in bytes (cut there). */
#define RCCAP_COMMAND_LINE_MAX (1u << 20)
/* Most record bytes in one chunk: the encoder fills at most this much of
 * a larger buffer, and a reader refuses bigger chunks (so that a damaged
 * length never makes it allocate more). */
#define RCCAP_CHUNK_MAX (16u << 20)

/* e = { .buf = buf, .cap = cap }, empty, without a model. */
void rccap_encoder_init(rccap_encoder *e, uint8_t *buf, size_t cap);

/* The pointer model. Addresses are most of what a capture holds, and as
 * deltas they cost about two bytes per allocation and free after zstd;
 * with a model an encoder writes most of them as references (the block
 * freed r frees ago, the block of allocation number n) that cost almost
 * nothing after zstd (docs/capture-format.md gives the figures). The model
 * is two caches from pointer to number, for the chunk's last `window` frees
 * and allocations: rccap_model_size(window) bytes, 64 per unit of window
 * (4 MiB for 65536, which a binary tree of 32768 nodes needs). It costs the
 * encoder 10 to 20 ns a record (the larger windows miss the caches), and
 * is optional: without one every pointer is a delta, and readers read
 * both. A reference reaches back at most
 * RCCAP_MODEL_WINDOW frees or allocations. */
#define RCCAP_MODEL_WINDOW (1u << 18)
/* Bytes of memory for a model of window (a power of two from 64 to
 * RCCAP_MODEL_WINDOW); 0 for any other window. */
size_t rccap_model_size(uint32_t window);
/* Give e the model laid out in mem (size bytes, at least
 * rccap_model_size(window), 16-byte aligned, contents ignored; the
 * caller's memory, which must outlive its use by e). e must be empty: just
 * initialised or reset. mem NULL takes e's model away. false (e unchanged)
 * when the window, the size or the alignment is wrong or e is not empty.
 * The encoder never allocates: this is the only memory the model uses. */
bool rccap_encoder_set_model(rccap_encoder *e, void *mem, size_t size, uint32_t window);
/* The same in two steps, for a model that moves between encoders (the
 * preload keeps one per thread and gives it to each buffer the thread
 * fills): lay a model out in mem (as above; NULL when the window, size or
 * alignment is wrong), then give it to an empty encoder, which makes it
 * forget what it held (O(1)). An encoder uses its model only inside
 * rccap_encode and rccap_encoder_reset; rccap_encoder_use_model(e, NULL)
 * takes it away at any time (records encoded after that, in the same
 * chunk, refer to nothing), so that a full buffer can be handed on while
 * its model goes on with the next one. false (e unchanged) when m is not
 * NULL and e is not empty. */
rccap_model *rccap_model_init(void *mem, size_t size, uint32_t window);
bool rccap_encoder_use_model(rccap_encoder *e, rccap_model *m);
/* Append ev to e; false (e unchanged) when it does not fit, or when ev is
 * not a valid event (a kind, fn, end or leak state out of range, a STACK
 * defining id 0, a build id length without bytes): an empty encoder that
 * refuses ev will always refuse it. Strings longer than the limits above
 * are cut. e->len is stored last, after the record's bytes, so a signal
 * handler that interrupts rccap_encode and writes e with
 * rccap_writer_chunk_raw sees whole records only. */
bool rccap_encode(rccap_encoder *e, const rccap_event *ev);
/* Empty e for the next chunk (the buffer and the model stay; the model
 * forgets the chunk's pointers in O(1)). */
void rccap_encoder_reset(rccap_encoder *e);

typedef struct rccap_writer rccap_writer;

/* Start a capture on fd (owned by the caller, written from its current
 * position): the header is written at once. NULL on failure, with *err an
 * errno value. level is zstd's compression level (1 is fast). The writer's
 * memory (itself, zstd's state, the compressed chunk) comes from the OS
 * layer; nothing here calls malloc.
 *
 * Calls on one writer must not overlap: the caller serialises them (a lock
 * or a single writer thread). A call that overlaps another anyway, such as
 * a signal handler's rccap_writer_chunk_raw interrupting a chunk being
 * written, writes nothing and returns EBUSY. */
rccap_writer *rccap_writer_open(int fd, const rccap_header *h, int level, int *err);
/* Compress and write the encoded records of e as one chunk; 0 or an errno
 * value. The chunk is written whole or (on an error) not at all as far as
 * a reader can tell: a write cut short leaves a partial chunk at the end of
 * the file, which readers report as truncation, and every later call on
 * this writer returns the same error, so nothing follows it. A chunk whose
 * compression fails (no memory) is written uncompressed. An empty e writes
 * nothing. */
int rccap_writer_chunk(rccap_writer *w, const rccap_encoder *e);
/* Write e uncompressed as one chunk, without allocating: for a signal
 * handler flushing what it can before the process dies. Only whole records
 * are written (the ones rccap_encode had finished: e->count is not
 * trusted, the records are counted), and only write(2) is called. */
int rccap_writer_chunk_raw(rccap_writer *w, const rccap_encoder *e);
/* Flush and free the writer (the fd stays open); 0 or an errno value (the
 * error that stopped an earlier chunk, if any). */
int rccap_writer_close(rccap_writer *w);

/* ---- reading ---- */

typedef struct rccap_reader rccap_reader;

/* Open a capture: NULL on failure, with msg (room for msg_len bytes) saying
 * why in a sentence ("not a recycle capture", "written by a newer version
 * (3) of recycle", "cannot open: ..."). */
rccap_reader *rccap_reader_open(const char *path, char *msg, size_t msg_len);
/* The same on fd, read from its current position (a pipe will do); fd
 * stays the caller's and is not closed by rccap_reader_close. */
rccap_reader *rccap_reader_open_fd(int fd, char *msg, size_t msg_len);
/* The same on len bytes at data, which must stay valid until the reader is
 * closed. flags: 0, or RCCAP_READ_NO_CHECKSUM to skip the checksum tests
 * (for the fuzzer: every other check still applies). */
#define RCCAP_READ_NO_CHECKSUM 1u
rccap_reader *rccap_reader_open_mem(const void *data, size_t len, unsigned flags, char *msg,
                                    size_t msg_len);
const rccap_header *rccap_reader_header(const rccap_reader *r);
/* The next record: 1 with *ev filled, 0 at the end of the file, -1 on
 * damage (rccap_reader_error says what and where). A file that ends in the
 * middle of a chunk ends there: 0, with rccap_reader_truncated true. */
int rccap_reader_next(rccap_reader *r, rccap_event *ev);
bool rccap_reader_truncated(const rccap_reader *r);
const char *rccap_reader_error(const rccap_reader *r);
/* Bytes of the file consumed so far and its size (a progress indicator;
 * the size is the bytes consumed when it cannot be known, as on a pipe). */
void rccap_reader_progress(const rccap_reader *r, uint64_t *done, uint64_t *total);
void rccap_reader_close(rccap_reader *r);

#endif /* RC_CAPTURE_CAPTURE_H */
