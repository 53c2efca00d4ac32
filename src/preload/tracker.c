/* tracker.c - the recorder: from the interposed calls to the capture file.
 *
 * Data model (one recorder per process, `R`):
 *
 *   threads   a state per program thread: its buffer of encoded records,
 *             its sampler, its share of the heap figure. States are made on
 *             a thread's first recorded call, kept on a list that only
 *             grows, and reused once their thread is gone.
 *   tree      the call-tree nodes (stacktree.h); each node's RCCAP_STACK
 *             record goes into G, a buffer guarded by the tree's lock.
 *   live      the blocks recorded and not yet freed (live.h).
 *   queue     full buffers waiting for the writer, first in first out.
 *   writer    the rccap_writer on the capture's fd, behind `wlock`. In
 *             a program with threads of its own, a background thread
 *             drains the queue, samples memory every 10 ms, notices
 *             libraries loaded behind dlopen's back, and hands in the
 *             buffers of idle threads. A single-threaded program gets no
 *             such thread (glibc's allocator takes no locks while a
 *             process has one thread, and a thread of ours would cost
 *             every malloc of the program that): its calls do the same
 *             work themselves, a buffer as it fills and the periodic work
 *             once 10 ms have passed.
 *
 *      program thread                      writer thread (or a program
 *   hook -> walk -> tree ----> G            thread helping when the queue
 *        -> live (time read)                is long)
 *        -> own buffer --full--> queue --> drain: G first, then the queue
 *                                                 -> rccap_writer_chunk
 *
 * Invariants:
 *   - a node's STACK record is in G (or a G buffer waiting to be written)
 *     before any thread can hold its id; a drain detaches the queue first
 *     and writes G after that, so every node a detached buffer names is
 *     written before the buffer: ids are defined before they are used, in
 *     file order, whichever thread's chunk comes first;
 *   - a thread's buffers enter the queue in the order it filled them (only
 *     under the thread's lock), and the queue is written in order: one
 *     thread's records are in time order in the file;
 *   - the time of an event on an address is read under the address's live
 *     shard, and a free is recorded before the real free: for one address
 *     the record ending a block is never later than the next block's;
 *   - nothing here calls malloc: memory is from the OS, strings are copied
 *     into buffers by the encoder, the writer uses OS memory too.
 *
 * Lock order (a lock may be taken while holding the ones to its left):
 *   modset -> thread buffer -> queue, pool
 *   wlock -> thread buffer (blocking only on the exit and exec paths),
 *            tree -> pool, queue
 *   live shard -> thread buffer: an allocation or a free appends its
 *   record while it holds its address's shard, so that the record is
 *   stamped under both (the exit's leak scan, too, holds the shards while
 *   it emits); appending never waits for a shard
 *   writer (no lock) -> each thread buffer in turn (hand_in_all)
 * No thread waits for wlock while holding a thread buffer's lock, the tree's
 * or a shard: append() leaves the writing to its caller, once that holds no
 * lock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "preload/tracker.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "preload/env.h"
#include "preload/leaks.h"
#include "preload/live.h"
#include "preload/modules.h"
#include "preload/sample.h"
#include "preload/stacktree.h"

_Atomic int rcpl_mode;
RCPL_TLS int64_t rcpl_left;
_Atomic(_Atomic uint8_t *) rcpl_filter;

/* One thread buffer: a chunk of the capture. Reports put the records of
 * different threads back in time order through a window of about half a
 * million records, so a program with threads fills smaller chunks, which
 * interleave in the file finely enough for that window. */
#define BUF_BYTES (1024u * 1024u)
#define SHARED_BUF_BYTES (256u * 1024u)
/* The pointer model of a busy thread (capture.h: 4 MiB for 65536, what a
 * tree of 32768 blocks freed at once needs to be written as references);
 * after BIG_MODELS threads have one, the next ones get SMALL_WINDOW ones
 * (512 KiB), and after MAX_MODELS, none. A thread gets its model when it
 * first fills a buffer: threads that allocate little never pay for one. */
#define BIG_WINDOW 65536u
#define SMALL_WINDOW 8192u
#define BIG_MODELS 8u
#define MAX_MODELS 256u   /* one thread buffer: a chunk of the capture */
#define QUEUE_MAX 8u              /* full buffers queued before producers help write */
#define TICK_NS UINT64_C(10000000)          /* memory samples and library checks */
#define IDLE_NS UINT64_C(200000000)         /* a thread's records wait at most this long */
/* The lag of SYNC records: allocations and frees are stamped under their
 * thread's lock, after the SYNC's time when they come after it; a realloc
 * reads the time before it takes that lock, a moment earlier. */
#define SYNC_LAG_NS UINT64_C(2000000)
#define OWN_IDLE_NS UINT64_C(1000000000)    /* the writer's own records (samples) */
#define PERIODIC_CALLS 256u     /* calls between two looks at the clock (no writer thread) */
#define ZSTD_LEVEL 3
#define FD_FLOOR 1000             /* the capture's fd is moved at or above this */
#define MAX_OUTPUT_TRIES 10000u

typedef struct rcpl_buf {
    struct rcpl_buf *next;        /* in the queue, the pool or G's pending list */
    rccap_encoder enc;            /* over the bytes that follow this header */
} rcpl_buf;

enum { T_LIVE, T_EXITED, T_FREE };

typedef struct rcpl_thread {
    rcpl_lock lock;               /* buf and since */
    rcpl_buf *buf;                /* NULL: none yet (taken on the next record) */
    uint64_t since;               /* time of the first record in buf */
    _Atomic int status;
    uint32_t number;              /* the capture's thread number; 0: the recorder's own */
    bool in_emit;                 /* the owner holds `lock` (read by its signal handler) */
    uint32_t countdown;           /* calls until this thread looks at the clock for periodic work */
    uint64_t os_tid;
    pthread_t self;
    _Atomic uint64_t heap_in, heap_out;   /* weights recorded as allocated / freed */
    rcpl_sampler sampler;
    rccap_model *model;           /* lock: NULL until the thread fills a buffer */
    struct rcpl_thread *next;     /* every state ever made */
} rcpl_thread;

static struct recorder {
    rcpl_config cfg;
    uint64_t pid;
    uint64_t t0;                  /* monotonic clock at the capture's start */

    int fd;                       /* the capture; -1 when none */
    dev_t dev;
    ino_t ino;
    char path[RCPL_PATH_MAX];

    rcpl_lock wlock;              /* w, broken, drain */
    _Atomic uint64_t wlock_tid;   /* who holds wlock (for a signal handler) */
    rccap_writer *w;
    bool broken;

    rcpl_lock qlock;
    rcpl_buf *qhead, *qtail;
    _Atomic size_t queued;
    rcpl_lock plock;
    rcpl_buf *pool;

    rcpl_tree tree;
    rcpl_buf *gbuf;               /* tree.lock: STACK records not yet written */
    rcpl_buf *ghead, *gtail;      /* tree.lock: full G buffers */
    _Atomic uint32_t models;      /* pointer models made */

    rcpl_live live;
    rcpl_modset mods;

    _Atomic(rcpl_thread *) threads;
    _Atomic uint32_t next_number;
    rcpl_thread *own;             /* the writer thread's state (number 0) */
    pthread_key_t key;
    bool key_ok;

    _Atomic int writer_started;   /* once per capture: the program made a thread */
    _Atomic int writer_running;
    _Atomic uint32_t wake;
    _Atomic int writer_sleeping;
    rcpl_lock tick_lock;          /* the periodic work done by a program thread */
    _Atomic uint64_t last_tick;

    _Atomic int starting;
    _Atomic int ending;           /* an ending (exit, _exit, crash) has begun */
    bool late_done;

    bool caught[NSIG];            /* signals whose handler is ours */
    struct sigaction prog[NSIG];  /* the program's view of those */
} R = {.fd = -1};

static RCPL_TLS rcpl_thread *tl_thread;

static inline void libs_check(void);

/* ---- small helpers ---- */

/* The monotonic clock as the kernel's tick left it, in nanoseconds: a
 * third of the cost of the precise clock on every event, at the tick's
 * resolution (1 to 4 ms), which is all the reports use. */
static uint64_t coarse_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Event times: from the capture's start, cut to the millisecond. A
 * finer stamp would be noise that zstd cannot remove (the capture's size
 * doubles); the order of one thread's events is their order in the file,
 * and only events of different threads in the same millisecond lose
 * their order. */
static uint64_t now(void) {
    uint64_t t = coarse_clock() - R.t0;
    return t - t % 1000000u;
}

static void say(const char *msg) {
    /* one line on stderr, without stdio (which may allocate or be locked) */
    char line[512];
    size_t n = 0;
    const char *pre = "recycle: ";
    for (const char *p = pre; *p; p++)
        line[n++] = *p;
    for (const char *p = msg; *p && n + 2 < sizeof line; p++)
        line[n++] = *p;
    line[n++] = '\n';
    ssize_t r = write(2, line, n);
    (void)r;
}

static size_t put_dec(char *p, uint64_t v) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* ---- buffers ---- */

static rcpl_buf *buf_take(void) {
    rcpl_lock_take(&R.plock);
    rcpl_buf *b = R.pool;
    if (b)
        R.pool = b->next;
    rcpl_lock_give(&R.plock);
    if (!b) {
        if (!(b = rcpl_os_take(BUF_BYTES)))
            return NULL;
        rccap_encoder_init(&b->enc, (uint8_t *)(b + 1), BUF_BYTES - sizeof *b);
    }
    b->next = NULL;
    /* the buffer is empty: its capacity may change */
    b->enc.cap = atomic_load_explicit(&R.writer_started, memory_order_relaxed)
                     ? SHARED_BUF_BYTES - sizeof *b
                     : BUF_BYTES - sizeof *b;
    return b;
}

static void buf_give(rcpl_buf *b) {
    rcpl_lock_take(&R.plock);
    b->next = R.pool;
    R.pool = b;
    rcpl_lock_give(&R.plock);
}

static void queue_push(rcpl_buf *b) {
    b->next = NULL;
    rcpl_lock_take(&R.qlock);
    if (R.qtail)
        R.qtail->next = b;
    else
        R.qhead = b;
    R.qtail = b;
    atomic_fetch_add_explicit(&R.queued, 1, memory_order_relaxed);
    rcpl_lock_give(&R.qlock);
}

/* ---- the writer: draining buffers into the file ---- */

static void capture_broken(int err, const char *what) {
    if (R.broken)
        return;
    R.broken = true;
    atomic_store(&rcpl_mode, RCPL_OFF);
    char msg[256];
    size_t n = 0;
    const char *parts[] = {"cannot write the capture ", R.path, ": ", what, "; recording stopped"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        for (const char *p = parts[i]; *p && n + 1 < sizeof msg; p++)
            msg[n++] = *p;
    msg[n] = '\0';
    (void)err;
    say(msg);
}

static void write_buf(rcpl_buf *b) {
    if (!R.broken && R.w && b->enc.count) {
        int e = rccap_writer_chunk(R.w, &b->enc);
        if (e)
            capture_broken(e, strerror(e));
    }
    rccap_encoder_reset(&b->enc);
}

static void write_list(rcpl_buf *b) {
    while (b) {
        rcpl_buf *next = b->next;
        write_buf(b);
        buf_give(b);
        b = next;
    }
}

/* The fd still names the capture: the program may have closed it behind
 * the shim's back (close_range, a raw syscall) and opened something else
 * under its number, which must never receive a chunk. */
static bool fd_is_ours(void) {
    struct stat st;
    return R.fd >= 0 && fstat(R.fd, &st) == 0 && st.st_dev == R.dev && st.st_ino == R.ino;
}

/* Write everything queued, stack nodes first (wlock held). */
static void drain_locked(void) {
    rcpl_lock_take(&R.qlock);
    rcpl_buf *list = R.qhead;
    R.qhead = R.qtail = NULL;
    atomic_store_explicit(&R.queued, 0, memory_order_relaxed);
    rcpl_lock_give(&R.qlock);

    rcpl_lock_take(&R.tree.lock);
    rcpl_buf *g = R.ghead;
    if (R.gbuf && R.gbuf->enc.count) {
        if (R.gtail)
            R.gtail->next = R.gbuf;
        else
            g = R.gbuf;
        R.gbuf = NULL;
    }
    R.ghead = R.gtail = NULL;
    rcpl_lock_give(&R.tree.lock);

    if ((g || list) && !R.broken && !fd_is_ours())
        capture_broken(EBADF, "the program closed or replaced its file descriptor");
    write_list(g);
    write_list(list);
}

static void wlock_take(void) {
    rcpl_lock_take(&R.wlock);
    atomic_store_explicit(&R.wlock_tid, rci_os_thread_id(), memory_order_relaxed);
}

static void wlock_give(void) {
    atomic_store_explicit(&R.wlock_tid, 0, memory_order_relaxed);
    rcpl_lock_give(&R.wlock);
}

static void wake_writer(void) {
    atomic_fetch_add(&R.wake, 1);
    if (atomic_load(&R.writer_sleeping))
        syscall(SYS_futex, &R.wake, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* A buffer was queued: wake the writer, or write now when there is no
 * writer thread or it is falling behind (the producers then go at the
 * writer's pace, and memory stays bounded). No lock held. */
static void after_handoff(void) {
    if (!atomic_load_explicit(&R.writer_running, memory_order_relaxed) ||
        atomic_load_explicit(&R.queued, memory_order_relaxed) > QUEUE_MAX) {
        wlock_take();
        if (!atomic_load(&R.ending))
            drain_locked();
        wlock_give();
    } else {
        wake_writer();
    }
}

/* A model for t, which has just filled a buffer (t's lock held); none when
 * MAX_MODELS exist or memory is short. */
static void model_make(rcpl_thread *t) {
    uint32_t k = atomic_fetch_add(&R.models, 1);
    if (k >= MAX_MODELS)
        return;
    uint32_t window = k < BIG_MODELS ? BIG_WINDOW : SMALL_WINDOW;
    size_t size = rccap_model_size(window);
    void *mem = rcpl_os_take(size);
    if (mem)
        t->model = rccap_model_init(mem, size, window);
}

/* A thread's buffer leaves it (to the queue): the model stays with the
 * thread, which goes on with it in its next buffer. */
static void buf_hand_on(rcpl_buf *b) {
    rccap_encoder_use_model(&b->enc, NULL);
    queue_push(b);
}

/* Append ev to t's buffer, stamped with the time now when `stamp` (read
 * under t's lock: a record appended after hand_in_all took t's buffer was
 * stamped after the SYNC's time). A full buffer goes to the queue: true,
 * and the caller calls after_handoff once it holds no lock. On ENOMEM the
 * record is dropped. */
static bool append(rcpl_thread *t, rccap_event *ev, bool stamp) {
    bool handed = false;
    rcpl_lock_take(&t->lock);
    t->in_emit = true;
    if (stamp)
        ev->time_ns = now();
    rcpl_buf *b = t->buf;
    if (!b) {
        if (!(b = buf_take()))
            goto out;
        rccap_encoder_use_model(&b->enc, t->model);
        t->buf = b;
    }
    if (b->enc.count == 0)
        t->since = ev->time_ns;
    if (!rccap_encode(&b->enc, ev)) {
        if (b->enc.count == 0)
            goto out;   /* refused by an empty buffer: never encodable */
        rcpl_buf *fresh = buf_take();
        if (!fresh)
            goto out;
        buf_hand_on(b);
        handed = true;
        if (!t->model)
            model_make(t);
        rccap_encoder_use_model(&fresh->enc, t->model);
        t->buf = b = fresh;
        t->since = ev->time_ns;
        rccap_encode(&b->enc, ev);
    }
out:
    t->in_emit = false;
    rcpl_lock_give(&t->lock);
    return handed;
}

/* Append ev (already stamped) to t's buffer. */
static void emit(rcpl_thread *t, const rccap_event *ev) {
    rccap_event copy = *ev;
    if (append(t, &copy, false))
        after_handoff();
}

/* Queue t's buffer if it holds records (the caller holds t's lock). */
static void hand_in_locked(rcpl_thread *t) {
    if (t->buf && t->buf->enc.count) {
        buf_hand_on(t->buf);
        t->buf = NULL;
    }
}

/* Every thread's records into the queue and out to the file (wlock held;
 * waits for each thread's lock: its holder never waits for wlock). */
static void flush_all_locked(void) {
    for (rcpl_thread *t = atomic_load(&R.threads); t; t = t->next) {
        rcpl_lock_take(&t->lock);
        hand_in_locked(t);
        rcpl_lock_give(&t->lock);
    }
    drain_locked();
}

/* One record as a chunk of its own, after everything else (wlock held). */
static void write_alone(const rccap_event *ev, bool raw) {
    uint8_t bytes[256];
    rccap_encoder e;
    rccap_encoder_init(&e, bytes, sizeof bytes);
    if (!R.w || R.broken || !rccap_encode(&e, ev))
        return;
    if (raw)
        rccap_writer_chunk_raw(R.w, &e);
    else if (rccap_writer_chunk(R.w, &e) != 0)
        R.broken = true;
}

/* ---- stack nodes ---- */

static bool node_made(void *arg, uint32_t id, uint32_t parent, uintptr_t pc) {
    (void)arg;
    /* thread 0: a node belongs to every thread whose stacks pass through it */
    rccap_event ev = {.kind = RCCAP_STACK, .time_ns = now(), .thread = 0};
    ev.u.stack.id = id;
    ev.u.stack.parent = parent;
    ev.u.stack.pc = pc;
    if (!R.gbuf && !(R.gbuf = buf_take()))
        return false;
    if (rccap_encode(&R.gbuf->enc, &ev))
        return true;
    rcpl_buf *fresh = buf_take();
    if (!fresh)
        return false;
    R.gbuf->next = NULL;
    if (R.gtail)
        R.gtail->next = R.gbuf;
    else
        R.ghead = R.gbuf;
    R.gtail = R.gbuf;
    R.gbuf = fresh;
    return rccap_encode(&fresh->enc, &ev);
}

static uint32_t capture_stack(const rctr_start *st) {
    rctr_frame *fr;
    uintptr_t flat[RCTR_MAX_FRAMES];
    /* raw frame 0 is a pc inside the interposed function, frame 1 the
     * program's call into it */
    size_t n = rctr_stack_walk_from(st, &fr, flat, R.cfg.frames, 1);
    return rcpl_tree_intern(&R.tree, fr, flat, n);
}

/* ---- threads ---- */

static void read_comm(uint64_t tid, char *out, size_t len) {
    char path[64] = "/proc/self/task/";
    size_t at = strlen(path);
    at += put_dec(path + at, tid);
    memcpy(path + at, "/comm", 6);
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, len - 1);
    close(fd);
    if (n <= 0)
        return;
    if (out[n - 1] == '\n')
        n--;
    out[n] = '\0';
}

static void emit_thread_record(rcpl_thread *t, const char *name) {
    char comm[64];
    if (!name) {
        read_comm(t->os_tid, comm, sizeof comm);
        name = comm;
    }
    rccap_event ev = {.kind = RCCAP_THREAD, .time_ns = now(), .thread = t->number};
    ev.u.thread.os_tid = t->os_tid;
    ev.u.thread.name = name;
    emit(t, &ev);
}

static void thread_init(rcpl_thread *t, uint32_t number) {
    t->number = number;
    t->os_tid = rci_os_thread_id();
    t->countdown = PERIODIC_CALLS;
    t->self = pthread_self();
    rcpl_sampler_init(&t->sampler, R.cfg.sample, rci_os_random() ^ t->os_tid);
    rcpl_left = R.cfg.sample ? (int64_t)rcpl_sample_gap(&t->sampler) : 0;
}

static RCPL_NOINLINE rcpl_thread *thread_register(void) {
    rcpl_thread *t;
    for (t = atomic_load(&R.threads); t; t = t->next) {
        int free_state = T_FREE;
        if (atomic_load_explicit(&t->status, memory_order_relaxed) == T_FREE &&
            atomic_compare_exchange_strong(&t->status, &free_state, T_LIVE))
            break;
    }
    if (!t) {
        if (!(t = rcpl_os_take(sizeof *t)))
            return NULL;
        atomic_store(&t->status, T_LIVE);
        rcpl_thread *head = atomic_load(&R.threads);
        do
            t->next = head;
        while (!atomic_compare_exchange_weak(&R.threads, &head, t));
    }
    thread_init(t, atomic_fetch_add(&R.next_number, 1));
    tl_thread = t;
    if (R.key_ok)
        pthread_setspecific(R.key, t);
    emit_thread_record(t, NULL);
    return t;
}

static inline rcpl_thread *thread_get(void) {
    rcpl_thread *t = tl_thread;
    return RCPL_LIKELY(t != NULL) ? t : thread_register();
}

/* The thread's TLS destructors ran ours: hand in its records. Its state
 * stays its own (later destructors may still allocate) until the writer
 * sees the thread gone. */
static void thread_gone(void *arg) {
    rcpl_thread *t = arg;
    rcpl_busy++;
    rcpl_lock_take(&t->lock);
    hand_in_locked(t);
    rcpl_lock_give(&t->lock);
    atomic_store(&t->status, T_EXITED);
    rcpl_busy--;
}

/* States of threads that no longer exist become reusable (writer thread). */
static void reap_exited(void) {
    for (rcpl_thread *t = atomic_load(&R.threads); t; t = t->next) {
        if (atomic_load(&t->status) != T_EXITED)
            continue;
        if (syscall(SYS_tgkill, (pid_t)R.pid, (pid_t)t->os_tid, 0) == 0 || errno != ESRCH)
            continue;   /* still there (or its tid was reused: wait) */
        rcpl_lock_take(&t->lock);
        hand_in_locked(t);
        rcpl_lock_give(&t->lock);
        atomic_store(&t->status, T_FREE);
    }
}

/* ---- events ---- */

static void periodic(rcpl_thread *self);
static void start_writer(void);

/* The weight of an allocation of size bytes by thread t, 0 when it is not
 * recorded; the sampler's position is rcpl_left (tracker.h). */
static inline uint64_t sample_size(rcpl_thread *t, size_t size) {
    if (!R.cfg.sample)
        return size;
    int64_t left = rcpl_left;
    if (left > 0 && (uint64_t)left > size) {
        rcpl_left = left - (int64_t)size;
        return 0;
    }
    /* a point falls inside: the next gap is drawn from its end */
    rcpl_left = (int64_t)rcpl_sample_gap(&t->sampler);
    return size ? rcpl_sample_weight(R.cfg.sample, size) : 0;
}

/* Every PERIODIC_CALLS calls of a thread: the periodic work, when no writer
 * thread does it. No lock held. */
static inline void count_call(rcpl_thread *t) {
    if (RCPL_UNLIKELY(--t->countdown == 0)) {
        t->countdown = PERIODIC_CALLS;
        periodic(t);
    }
}

void rcpl_on_alloc(void *p, size_t size, rccap_fn fn, const rctr_start *st) {
    rcpl_thread *t = thread_get();
    if (!t)
        return;
    count_call(t);
    libs_check();
    uint64_t w = sample_size(t, size);
    if (!w && (size || R.cfg.sample))
        return;   /* not sampled (malloc(0) never is: it stands for no bytes) */
    uint32_t stack = capture_stack(st);
    rcpl_shard *s = rcpl_live_shard(&R.live, (uintptr_t)p);
    rcpl_lock_take(&s->lock);
    if (rcpl_live_add(&R.live, s, (uintptr_t)p, w) != 0) {
        rcpl_lock_give(&s->lock);
        return;   /* cannot be followed: not recorded at all */
    }
    atomic_store_explicit(&t->heap_in, atomic_load_explicit(&t->heap_in, memory_order_relaxed) + w,
                          memory_order_relaxed);
    rccap_event ev = {.kind = RCCAP_ALLOC, .thread = t->number};
    ev.u.alloc.ptr = (uintptr_t)p;
    ev.u.alloc.size = size;
    ev.u.alloc.stack = stack;
    ev.u.alloc.fn = fn;
    ev.u.alloc.weight = w;
    /* stamped under the shard's lock (one address's records in time
     * order) and the thread's (SYNC) */
    bool handed = append(t, &ev, true);
    rcpl_lock_give(&s->lock);
    if (handed)
        after_handoff();
}

void rcpl_on_free(void *p) {
    rcpl_thread *t = tl_thread;
    if (t)
        count_call(t);
    if (!rcpl_live_maybe(&R.live, (uintptr_t)p))
        return;
    if (!t && !(t = thread_get()))
        return;
    rcpl_shard *s = rcpl_live_shard(&R.live, (uintptr_t)p);
    uint64_t w;
    rcpl_lock_take(&s->lock);
    if (!rcpl_live_remove(&R.live, s, (uintptr_t)p, &w)) {
        rcpl_lock_give(&s->lock);
        return;
    }
    atomic_store_explicit(&t->heap_out, atomic_load_explicit(&t->heap_out, memory_order_relaxed) + w,
                          memory_order_relaxed);
    rccap_event ev = {.kind = RCCAP_FREE, .thread = t->number};
    ev.u.free.ptr = (uintptr_t)p;
    bool handed = append(t, &ev, true);
    rcpl_lock_give(&s->lock);
    if (handed)
        after_handoff();
}

static void *real_resize(void *p, size_t nmemb, size_t size) {
    if (!nmemb)
        return rcpl_fn.realloc(p, size);
    if (rcpl_fn.reallocarray)
        return rcpl_fn.reallocarray(p, nmemb, size);
    size_t bytes;
    if (__builtin_mul_overflow(nmemb, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return rcpl_fn.realloc(p, bytes);
}

void *rcpl_realloc(void *p, size_t nmemb, size_t size, rccap_fn fn, const rctr_start *st) {
    size_t bytes = size;
    if (nmemb && __builtin_mul_overflow(nmemb, size, &bytes))
        return real_resize(p, nmemb, size);   /* fails, p unchanged */
    rcpl_thread *t = thread_get();
    if (!t)
        return real_resize(p, nmemb, size);
    count_call(t);
    if (!p) {
        void *q = real_resize(p, nmemb, size);
        if (q)
            rcpl_on_alloc(q, bytes, fn, st);
        return q;
    }
    uint64_t w = bytes ? sample_size(t, bytes) : 0;
    uint32_t stack = w ? capture_stack(st) : 0;

    /* The old address's shard is held across the real call: a thread that
     * receives p from the allocator once it is free records it only after
     * its old record is gone, and later in time. */
    rcpl_shard *s = rcpl_live_maybe(&R.live, (uintptr_t)p) ? rcpl_live_shard(&R.live, (uintptr_t)p) : NULL;
    if (s)
        rcpl_lock_take(&s->lock);
    void *q = real_resize(p, nmemb, size);
    /* realloc(p, 0) that returns NULL has freed p (glibc); any other NULL
     * is a failure that left p alone */
    bool old_gone = q != NULL || bytes == 0;
    uint64_t old_w = 0, time = 0;
    bool was = false, added = false;
    if (s) {
        if (old_gone)
            was = rcpl_live_remove(&R.live, s, (uintptr_t)p, &old_w);
        time = now();
        if (q && w && rcpl_live_shard(&R.live, (uintptr_t)q) == s)
            added = rcpl_live_add(&R.live, s, (uintptr_t)q, w) == 0, w = added ? w : 0;
        rcpl_lock_give(&s->lock);
    }
    if (q && w && !added) {
        rcpl_shard *s2 = rcpl_live_shard(&R.live, (uintptr_t)q);
        rcpl_lock_take(&s2->lock);
        added = rcpl_live_add(&R.live, s2, (uintptr_t)q, w) == 0;
        if (!s)
            time = now();
        rcpl_lock_give(&s2->lock);
    }
    if (!was && !added)
        return q;
    uint64_t in = atomic_load_explicit(&t->heap_in, memory_order_relaxed);
    uint64_t out = atomic_load_explicit(&t->heap_out, memory_order_relaxed);
    atomic_store_explicit(&t->heap_in, in + (added ? w : 0), memory_order_relaxed);
    atomic_store_explicit(&t->heap_out, out + (was ? old_w : 0), memory_order_relaxed);
    rccap_event ev = {.time_ns = time, .thread = t->number};
    if (was && added) {
        ev.kind = RCCAP_REALLOC;
        ev.u.realloc.old_ptr = (uintptr_t)p;
        ev.u.realloc.ptr = (uintptr_t)q;
        ev.u.realloc.size = bytes;
        ev.u.realloc.stack = stack;
        ev.u.realloc.weight = w;
    } else if (was) {
        ev.kind = RCCAP_FREE;
        ev.u.free.ptr = (uintptr_t)p;
    } else {
        ev.kind = RCCAP_ALLOC;
        ev.u.alloc.ptr = (uintptr_t)q;
        ev.u.alloc.size = bytes;
        ev.u.alloc.stack = stack;
        ev.u.alloc.fn = fn;
        ev.u.alloc.weight = w;
    }
    emit(t, &ev);
    return q;
}

/* ---- modules ---- */

static void module_emit(void *arg, const rcpl_object *o) {
    rcpl_thread *t = arg;
    for (size_t i = 0; i < o->nseg; i++) {
        rccap_event ev = {.kind = RCCAP_MODULE, .time_ns = now(), .thread = t->number};
        ev.u.module.start = o->seg[i].start;
        ev.u.module.end = o->seg[i].end;
        ev.u.module.offset = o->seg[i].offset;
        ev.u.module.path = o->path;
        ev.u.module.build_id = o->build_id_len ? o->build_id : NULL;
        ev.u.module.build_id_len = o->build_id_len;
        emit(t, &ev);
    }
}

/* Record the libraries not recorded yet. wait: false from the hooks,
 * which may run while the loader's lock is held (a program's
 * dl_iterate_phdr callback that allocates): the writer thread may hold the
 * modules' lock while it waits for the loader's, so a hook never waits for
 * the modules' lock. False when the lock was busy. */
static bool modules_update(bool force, bool wait) {
    rcpl_thread *t = thread_get();
    if (!t)
        return true;
    return rcpl_modset_update(&R.mods, force, wait, module_emit, t) != SIZE_MAX;
}

static _Atomic int libs_changed;

void rcpl_note_libs_changed(void) {
    atomic_store_explicit(&libs_changed, 1, memory_order_relaxed);
}

/* A dlopen noted a change: record its libraries now (hooks, no lock held). */
static inline void libs_check(void) {
    if (RCPL_UNLIKELY(atomic_load_explicit(&libs_changed, memory_order_relaxed)) &&
        atomic_exchange(&libs_changed, 0) && !modules_update(false, false))
        rcpl_note_libs_changed();   /* busy elsewhere: a later call looks again */
}

void rcpl_on_dlclose(void) {
    if (atomic_load(&rcpl_mode) != RCPL_RECORDING || rcpl_busy)
        return;
    rcpl_busy++;
    atomic_store(&libs_changed, 0);
    modules_update(false, true);
    rcpl_busy--;
}

void rcpl_on_thread_name(pthread_t thread, const char *name) {
    if (atomic_load(&rcpl_mode) != RCPL_RECORDING || rcpl_busy)
        return;
    rcpl_busy++;
    rcpl_thread *me = thread_get();
    for (rcpl_thread *t = atomic_load(&R.threads); me && t; t = t->next) {
        if (t != R.own && atomic_load(&t->status) != T_FREE && pthread_equal(t->self, thread)) {
            rccap_event ev = {.kind = RCCAP_THREAD, .time_ns = now(), .thread = t->number};
            ev.u.thread.os_tid = t->os_tid;
            ev.u.thread.name = name;
            emit(me, &ev);
            break;
        }
    }
    rcpl_busy--;
}

void rcpl_on_gc(uint32_t generation, uint64_t collected, uint64_t uncollectable,
                uint64_t duration_ns, uint64_t steps) {
    if (atomic_load(&rcpl_mode) != RCPL_RECORDING || rcpl_busy || generation > 2)
        return;
    rcpl_busy++;
    rcpl_thread *t = thread_get();
    if (t) {
        rccap_event ev = {.kind = RCCAP_GC, .thread = t->number};
        ev.u.gc.generation = generation;
        ev.u.gc.collected = collected;
        ev.u.gc.uncollectable = uncollectable;
        ev.u.gc.duration_ns = duration_ns;
        ev.u.gc.steps = steps;
        if (append(t, &ev, true))
            after_handoff();
    }
    rcpl_busy--;
}

void rcpl_on_thread_create(void) {
    if (atomic_load(&rcpl_mode) != RCPL_RECORDING || rcpl_busy)
        return;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&R.writer_started, &expect, 1))
        return;
    rcpl_busy++;
    start_writer();
    rcpl_busy--;
}

int rcpl_capture_fd(void) {
    return atomic_load(&rcpl_mode) == RCPL_RECORDING ? R.fd : -1;
}

/* ---- the writer thread ---- */

static void sample_memory(rcpl_thread *own) {
    uint64_t in = 0, out = 0;
    for (rcpl_thread *t = atomic_load(&R.threads); t; t = t->next) {
        in += atomic_load_explicit(&t->heap_in, memory_order_relaxed);
        out += atomic_load_explicit(&t->heap_out, memory_order_relaxed);
    }
    rccap_event ev = {.kind = RCCAP_MEMORY, .time_ns = now(), .thread = 0};
    ev.u.memory.rss = rci_os_rss();
    ev.u.memory.heap = in >= out ? in - out : 0;
    emit(own, &ev);
}

/* Queue the buffers of threads whose oldest record waited long enough,
 * so that a thread that went quiet does not hold its records back. */
static void hand_in_idle(uint64_t t_now) {
    for (rcpl_thread *t = atomic_load(&R.threads); t; t = t->next) {
        if (!rcpl_lock_try(&t->lock))
            continue;
        uint64_t limit = t == R.own ? OWN_IDLE_NS : IDLE_NS;
        if (t->buf && t->buf->enc.count && t_now - t->since >= limit)
            hand_in_locked(t);
        rcpl_lock_give(&t->lock);
    }
}

/* Every thread's records into the queue, then a SYNC record after them
 * (the writer's periodic work): a report may then put every record
 * stamped before t - SYNC_LAG_NS in time order without waiting for more.
 * t is read before any buffer is taken, and a record appended after its
 * thread's buffer was taken is stamped later (append). A thread's lock is
 * held only while it appends a record (never while waiting for anything),
 * so waiting for it is short; the writer holds no other lock here. */
static void hand_in_all(uint64_t t) {
    for (rcpl_thread *th = atomic_load(&R.threads); th; th = th->next) {
        if (th == R.own || atomic_load_explicit(&th->status, memory_order_relaxed) == T_FREE)
            continue;
        /* a lock held for long was left behind (a signal handler that
         * jumped out of an append): no SYNC then */
        if (!rcpl_lock_take_for(&th->lock, 100))
            return;
        hand_in_locked(th);
        rcpl_lock_give(&th->lock);
    }
    rccap_event ev = {.kind = RCCAP_SYNC, .time_ns = t, .thread = 0};
    ev.u.sync.lag = SYNC_LAG_NS;
    emit(R.own, &ev);
    rcpl_lock_take(&R.own->lock);
    hand_in_locked(R.own);
    rcpl_lock_give(&R.own->lock);
}

static void *writer_main(void *arg) {
    (void)arg;
    rcpl_busy = 1;   /* for good: nothing this thread does is recorded */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    prctl(PR_SET_NAME, "recycle-writer", 0, 0, 0);
    uint64_t last_tick = 0, last_idle = 0;
    while (atomic_load(&rcpl_mode) == RCPL_RECORDING) {
        uint32_t seen = atomic_load(&R.wake);
        atomic_store(&R.writer_sleeping, 1);
        if (atomic_load(&R.queued) == 0) {
            struct timespec ts = {0, (long)TICK_NS};
            syscall(SYS_futex, &R.wake, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
        }
        atomic_store(&R.writer_sleeping, 0);
        if (atomic_load(&rcpl_mode) != RCPL_RECORDING)
            break;
        uint64_t t = now();
        if (t - last_tick >= TICK_NS) {
            last_tick = t;
            sample_memory(R.own);
            rcpl_modset_update(&R.mods, false, true, module_emit, R.own);
            hand_in_all(t);
        }
        if (t - last_idle >= IDLE_NS / 4) {
            last_idle = t;
            reap_exited();
            hand_in_idle(t);
        }
        atomic_store_explicit(&R.last_tick, t, memory_order_relaxed);
        wlock_take();
        if (!atomic_load(&R.ending))
            drain_locked();
        wlock_give();
    }
    atomic_store(&R.writer_running, 0);
    return NULL;
}

/* The writer thread's work, done by a program thread while there is no
 * writer thread: at most once per TICK_NS, by one thread at a time. The
 * modules' lock is not waited for (this runs inside an interposed call). */
static void periodic(rcpl_thread *self) {
    if (atomic_load_explicit(&R.writer_running, memory_order_relaxed))
        return;
    uint64_t t = now();
    if (t - atomic_load_explicit(&R.last_tick, memory_order_relaxed) < TICK_NS || !rcpl_lock_try(&R.tick_lock))
        return;
    atomic_store_explicit(&R.last_tick, t, memory_order_relaxed);
    sample_memory(R.own);
    rcpl_modset_update(&R.mods, false, false, module_emit, R.own);
    reap_exited();
    hand_in_idle(t);
    /* The program's only thread: what it recorded before is in its buffer,
     * before this record. Once the program has made a thread (the writer
     * thread is on its way), only the writer writes SYNC records. */
    if (!atomic_load(&R.writer_started)) {
        rccap_event sync = {.kind = RCCAP_SYNC, .time_ns = t, .thread = self->number};
        sync.u.sync.lag = SYNC_LAG_NS;
        emit(self, &sync);
    }
    rcpl_lock_give(&R.tick_lock);
    if (atomic_load_explicit(&R.queued, memory_order_relaxed)) {
        wlock_take();
        if (!atomic_load(&R.ending))
            drain_locked();
        wlock_give();
    }
}

static void start_writer(void) {
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    atomic_store(&R.writer_running, 1);
    if (pthread_create(&th, &attr, writer_main, NULL) != 0)
        atomic_store(&R.writer_running, 0);   /* producers write themselves */
    pthread_attr_destroy(&attr);
}

/* ---- starting a capture ---- */

static bool open_capture(unsigned n) {
    for (unsigned tries = 0; tries < MAX_OUTPUT_TRIES; tries++, n = n < 2 ? 2 : n + 1) {
        if (!rcpl_output_name(R.cfg.output, R.pid, n, R.path, sizeof R.path))
            return false;
        /* the traced process's capture replaces an old file of that name
         * (as -o does); the others never clobber anything */
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (n == 0 ? O_TRUNC : O_EXCL);
        int fd = open(R.path, flags, 0666);
        if (fd < 0 && errno == EEXIST && n != 0)
            continue;
        if (fd < 0) {
            char msg[RCPL_PATH_MAX + 64] = "cannot create ";
            size_t at = strlen(msg), len = strlen(R.path);
            memcpy(msg + at, R.path, len);
            memcpy(msg + at + len, ": ", 2);
            const char *e = strerror(errno);
            memcpy(msg + at + len + 2, e, strlen(e) + 1);
            say(msg);
            return false;
        }
        /* out of the way of programs that use low fds by number */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, FD_FLOOR);
        if (high >= 0) {
            close(fd);
            fd = high;
        }
        struct stat st;
        if (fstat(fd, &st) != 0) {
            close(fd);
            return false;
        }
        R.fd = fd;
        R.dev = st.st_dev;
        R.ino = st.st_ino;
        return true;
    }
    return false;
}

static char exe_buf[RCPL_PATH_MAX];
static char cmdline_buf[64 * 1024];

static void read_identity(void) {
    ssize_t n = readlink("/proc/self/exe", exe_buf, sizeof exe_buf - 1);
    exe_buf[n > 0 ? n : 0] = '\0';
    size_t len = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r;
        while (len < sizeof cmdline_buf - 1 &&
               ((r = read(fd, cmdline_buf + len, sizeof cmdline_buf - 1 - len)) > 0 || (r < 0 && errno == EINTR)))
            len += r > 0 ? (size_t)r : 0;
        close(fd);
    }
    while (len > 0 && cmdline_buf[len - 1] == '\0')
        len--;
    for (size_t i = 0; i < len; i++)
        if (cmdline_buf[i] == '\0')
            cmdline_buf[i] = ' ';
    cmdline_buf[len] = '\0';
}

/* Open the file and the writer and make the first records; false (and
 * nothing left open) when it cannot. The caller sets the mode. */
static bool begin_capture(unsigned n) {
    R.t0 = coarse_clock();
    if (!open_capture(n))
        return false;
    read_identity();
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    rccap_header h = {
        .version = RCCAP_VERSION,
        .frames = R.cfg.frames,
        .sample_bytes = R.cfg.sample,
        .pid = R.pid,
        .ppid = (uint64_t)getppid(),
        .start_realtime_ns = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec,
        .page_size = rci_os_page_size(),
        .program = exe_buf,
        .command_line = cmdline_buf,
    };
    int err = 0;
    R.w = rccap_writer_open(R.fd, &h, ZSTD_LEVEL, &err);
    if (!R.w) {
        say("cannot start the capture (no memory for its writer); not recording");
        close(R.fd);
        R.fd = -1;
        return false;
    }
    R.broken = false;
    atomic_store(&R.ending, 0);
    atomic_store(&R.next_number, 1);
    rcpl_thread *t = thread_get();
    if (!t) {
        say("no memory for the recorder; not recording");
        return false;
    }
    modules_update(true, true);
    return true;
}

static void warn_env(const char *msg) {
    say(msg);
}

void rcpl_start_early(void) {
    if (atomic_exchange(&R.starting, 1))
        return;
    /* Before libc's own start (the loader's first mallocs) the environment
     * is not set: wait for a later call. */
    if (!environ) {
        atomic_store(&R.starting, 0);
        return;
    }
    rcpl_busy++;
    int mode = RCPL_OFF;
    if (rcpl_env_read(&R.cfg, warn_env)) {
        R.pid = (uint64_t)getpid();
        bool traced = R.cfg.preload_pid == 0 || R.cfg.preload_pid == R.pid;
        unsigned n = R.cfg.preload_pid == 0 ? 0 : 1;
        if ((traced || R.cfg.follow_fork) && rcpl_tree_init(&R.tree, node_made, NULL) == 0 &&
            rcpl_live_init(&R.live) == 0 && (R.own = rcpl_os_take(sizeof *R.own)) != NULL) {
            atomic_store(&rcpl_filter, R.live.filter);
            R.own->number = 0;
            R.own->status = T_LIVE;
            R.own->next = NULL;
            R.threads = R.own;
            R.key_ok = pthread_key_create(&R.key, thread_gone) == 0;
            if (begin_capture(n))
                mode = RCPL_RECORDING;
        }
    }
    atomic_store(&rcpl_mode, mode);
    rcpl_busy--;
}

/* ---- ending ---- */

static void leak_emit(void *arg, uintptr_t ptr, uint64_t size, bool reachable) {
    (void)size;
    rcpl_thread *t = arg;
    rccap_event ev = {.kind = RCCAP_LEAK, .time_ns = now(), .thread = t->number};
    ev.u.leak.ptr = ptr;
    ev.u.leak.state = reachable ? RCCAP_LEAK_REACHABLE : RCCAP_LEAK_LOST;
    emit(t, &ev);
}

/* The static TLS block of the calling thread and its thread control block
 * (where the pointer to dynamically allocated TLS lives): a root the stack
 * does not cover for the main thread, whose TLS the loader allocated. */
static void add_tls_root(rcpl_ranges *roots) {
#if defined(__x86_64__)
    void (*info)(size_t *, size_t *);
    *(void **)&info = dlsym(RTLD_DEFAULT, "_dl_get_tls_static_info");
    if (!info)
        return;
    size_t size = 0, align = 0;
    info(&size, &align);
    uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
    /* x86-64 (TLS variant II): the block lies below the thread pointer, the
     * control block (struct pthread, a few KiB) above it */
    rcpl_ranges_add(roots, tp > size ? tp - size : 0, tp + 4096);
#else
    (void)roots;
#endif
}

static void leak_scan(rcpl_thread *t) {
    rcpl_ranges roots = {0}, readable = {0};
    rcpl_objects objs = {0};
    /* the objects first: dl_iterate_phdr waits for the loader's lock, whose
     * holder may be waiting for a shard */
    bool listed = rcpl_objects_scan(&objs) == 0;
    rcpl_live_lock_all(&R.live);
    if (!listed || rcpl_maps_readable(&readable) != 0)
        goto out;
    /* the data and bss of every object but this library (its tables hold
     * every block's address) */
    uintptr_t self = (uintptr_t)&leak_scan;
    for (size_t i = 0; i < objs.count; i++) {
        const rcpl_object *o = &objs.obj[i];
        bool mine = false;
        for (size_t k = 0; k < o->nseg; k++)
            mine |= self >= o->seg[k].vstart && self < o->seg[k].vend;
        for (size_t k = 0; k < o->nseg && !mine; k++)
            if (o->seg[k].flags & RCPL_SEG_W)
                rcpl_ranges_add(&roots, o->seg[k].vstart, o->seg[k].vend);
    }
    /* this thread: registers (spilled by the call below into its frame)
     * and the stack from here up */
    __builtin_unwind_init();
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    rcpl_range m;
    if (rcpl_maps_find(sp, &m))
        rcpl_ranges_add(&roots, sp, m.hi);
    add_tls_root(&roots);
    /* every thread stack, whole: those of the other threads (their TLS is
     * there too; their registers are out of reach) and glibc's cached ones */
    rcpl_maps_thread_stacks(&roots);
    rcpl_leaks_scan(&R.live, roots.r, roots.count, &readable, leak_emit, t);
out:
    rcpl_live_unlock_all(&R.live);
    rcpl_objects_release(&objs);
    rcpl_ranges_release(&roots);
    rcpl_ranges_release(&readable);
}

/* The end of the capture: leak verdicts (full mode), everything flushed,
 * the EXIT record last, the file closed. Once per process. */
static void finish(rccap_end how, int status) {
    if (atomic_load(&rcpl_mode) != RCPL_RECORDING || (uint64_t)getpid() != R.pid)
        return;
    if (atomic_exchange(&R.ending, 1))
        return;
    rcpl_busy++;
    rcpl_thread *t = thread_get();
    modules_update(false, true);
    if (t && R.cfg.sample == 0)
        leak_scan(t);
    atomic_store(&rcpl_mode, RCPL_OFF);   /* from here every call passes through */
    wlock_take();
    flush_all_locked();
    rccap_event ev = {.kind = RCCAP_EXIT, .time_ns = now(), .thread = t ? t->number : 0};
    ev.u.exit.how = how;
    ev.u.exit.status = status;
    write_alone(&ev, false);
    if (R.w) {
        rccap_writer_close(R.w);
        R.w = NULL;
    }
    close(R.fd);
    R.fd = -1;
    wlock_give();
    rcpl_busy--;
}

/* exit() and main's return. This handler was registered in the library's
 * constructor, before __libc_start_main registered the loader's
 * destructor pass: exit runs it last, after the program's own handlers and
 * every library's destructors, so that what they free is recorded too. */
static void on_exit_status(int status, void *arg) {
    (void)arg;
    finish(RCCAP_END_RETURNED, status);
}

void rcpl_on_exit_now(int status) {
    finish(RCCAP_END_EXIT_NOW, status);
}

void rcpl_on_exec(void) {
    if (atomic_load(&rcpl_mode) != RCPL_RECORDING || rcpl_busy || (uint64_t)getpid() != R.pid)
        return;
    rcpl_busy++;
    wlock_take();
    flush_all_locked();
    rcpl_thread *t = tl_thread;
    rccap_event ev = {.kind = RCCAP_EXIT, .time_ns = now(), .thread = t ? t->number : 0};
    ev.u.exit.how = RCCAP_END_EXEC;
    write_alone(&ev, false);
    wlock_give();
    rcpl_busy--;
}

/* A fatal signal with the default action: write what can be written
 * without allocating or waiting long, the EXIT record last. */
static void crash(int sig) {
    if (atomic_load(&rcpl_mode) != RCPL_RECORDING || (uint64_t)getpid() != R.pid)
        return;
    if (atomic_exchange(&R.ending, 1))
        return;
    rcpl_busy++;
    atomic_store(&rcpl_mode, RCPL_OFF);
    uint64_t me = rci_os_thread_id();
    /* the writer's lock held by this very thread means a chunk was being
     * written when the signal came: nothing may follow its bytes */
    if (atomic_load(&R.wlock_tid) == me || !rcpl_lock_take_for(&R.wlock, 2000))
        goto out;
    atomic_store(&R.wlock_tid, me);
    if (R.w && !R.broken && rcpl_lock_take_for(&R.tree.lock, 500)) {
        for (rcpl_buf *b = R.ghead; b; b = b->next)
            rccap_writer_chunk_raw(R.w, &b->enc);
        if (R.gbuf)
            rccap_writer_chunk_raw(R.w, &R.gbuf->enc);
        if (rcpl_lock_take_for(&R.qlock, 200)) {
            for (rcpl_buf *b = R.qhead; b; b = b->next)
                rccap_writer_chunk_raw(R.w, &b->enc);
            for (rcpl_thread *t = atomic_load(&R.threads); t; t = t->next) {
                if (t == tl_thread && t->in_emit)
                    continue;   /* interrupted while appending: its lock is ours */
                if (!rcpl_lock_take_for(&t->lock, 100))
                    continue;
                if (t->buf)
                    rccap_writer_chunk_raw(R.w, &t->buf->enc);
            }
        }
    }
    rccap_event ev = {.kind = RCCAP_EXIT, .time_ns = now(), .thread = tl_thread ? tl_thread->number : 0};
    ev.u.exit.how = RCCAP_END_SIGNAL;
    ev.u.exit.signal = sig;
    write_alone(&ev, true);
out:
    rcpl_busy--;
}

/* ---- signals ---- */

static const int caught_signals[] = {SIGSEGV, SIGBUS,  SIGILL,  SIGFPE, SIGABRT, SIGTRAP, SIGSYS,
                                     SIGTERM, SIGINT,  SIGHUP,  SIGQUIT, SIGPIPE, SIGXCPU, SIGXFSZ};

static void on_signal(int sig, siginfo_t *info, void *uc) {
    int saved = errno;
    struct sigaction pa = R.prog[sig];
    if (pa.sa_handler != SIG_DFL && pa.sa_handler != SIG_IGN) {
        if (pa.sa_flags & SA_RESETHAND) {
            R.prog[sig].sa_handler = SIG_DFL;
            R.prog[sig].sa_flags &= ~(SA_SIGINFO | SA_RESETHAND);
        }
        errno = saved;
        if (pa.sa_flags & SA_SIGINFO)
            pa.sa_sigaction(sig, info, uc);
        else
            pa.sa_handler(sig);
        return;
    }
    if (pa.sa_handler == SIG_IGN)
        return;
    /* the default action: the process dies of sig */
    crash(sig);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    rcpl_fn.sigaction(sig, &dfl, NULL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    raise(sig);
    errno = saved;
}

static struct sigaction ours_for(const struct sigaction *prog) {
    struct sigaction a = *prog;
    a.sa_sigaction = on_signal;
    a.sa_flags = (prog->sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
    return a;
}

static void install_handlers(void) {
    if (!rcpl_fn.sigaction)
        return;
    for (size_t i = 0; i < sizeof caught_signals / sizeof caught_signals[0]; i++) {
        int sig = caught_signals[i];
        struct sigaction old;
        if (rcpl_fn.sigaction(sig, NULL, &old) != 0 || old.sa_handler == SIG_IGN)
            continue;   /* ignored at start: the program does not die of it */
        R.prog[sig] = old;
        struct sigaction a = ours_for(&old);
        if (rcpl_fn.sigaction(sig, &a, NULL) == 0)
            R.caught[sig] = true;
    }
}

bool rcpl_sigaction(int sig, const struct sigaction *act, struct sigaction *oact, int *result) {
    if (sig <= 0 || sig >= NSIG || !R.caught[sig])
        return false;
    struct sigaction before = R.prog[sig];
    *result = 0;
    if (act) {
        struct sigaction real_act = act->sa_handler == SIG_IGN ? *act : ours_for(act);
        R.prog[sig] = *act;
        if (rcpl_fn.sigaction(sig, &real_act, NULL) != 0) {
            R.prog[sig] = before;
            *result = -1;
            return true;
        }
    }
    if (oact)
        *oact = before;
    return true;
}

/* ---- fork ---- */

static void fork_prepare(void) {
    rcpl_busy++;   /* this thread passes through until its side resumes */
}

static void fork_parent(void) {
    rcpl_busy--;
}

/* The child of a recorded process, with follow-fork: a capture of its own.
 * Only this thread exists; every lock may have been held by a thread that
 * is gone, and everything the parent had buffered belongs to the parent's
 * capture, so all of it is dropped, never written (the parent's writer and
 * fd are abandoned, not closed: closing would flush into the parent's file). */
static void child_restart(void) {
    rcpl_thread *me = tl_thread;
    atomic_store(&R.wlock.held, 0);
    atomic_store(&R.wlock_tid, 0);
    atomic_store(&R.qlock.held, 0);
    atomic_store(&R.plock.held, 0);
    R.w = NULL;
    if (R.fd >= 0)
        close(R.fd);
    R.fd = -1;
    R.pool = NULL;                 /* the parent's buffers: abandoned pages */
    R.qhead = R.qtail = NULL;
    atomic_store(&R.queued, 0);
    R.gbuf = R.ghead = R.gtail = NULL;
    rcpl_tree_release(&R.tree);
    rcpl_live_clear(&R.live);
    rcpl_modset_release(&R.mods);
    for (rcpl_thread *t = atomic_load(&R.threads); t; t = t->next) {
        atomic_store(&t->lock.held, 0);
        t->buf = NULL;
        t->in_emit = false;
        atomic_store(&t->heap_in, 0);
        atomic_store(&t->heap_out, 0);
        if (t != me && t != R.own)
            atomic_store(&t->status, T_FREE);
    }
    atomic_store(&R.writer_running, 0);
    atomic_store(&R.writer_started, 0);
    atomic_store(&R.tick_lock.held, 0);
    atomic_store(&R.last_tick, 0);
    R.pid = (uint64_t)getpid();
    int mode = RCPL_OFF;
    if (rcpl_tree_init(&R.tree, node_made, NULL) == 0) {
        tl_thread = NULL;   /* registered again: thread 1 of the new capture */
        if (me)
            atomic_store(&me->status, T_FREE);
        if (begin_capture(1))
            mode = RCPL_RECORDING;
    }
    atomic_store(&rcpl_mode, mode);
}

static void fork_child(void) {
    if (atomic_load(&rcpl_mode) == RCPL_RECORDING) {
        if (R.cfg.follow_fork)
            child_restart();
        else
            atomic_store(&rcpl_mode, RCPL_OFF);
    }
    rcpl_busy--;
}

void rcpl_start_late(void) {
    if (atomic_load(&rcpl_mode) == RCPL_UNSTARTED)
        rcpl_start_early();
    if (atomic_load(&rcpl_mode) != RCPL_RECORDING || R.late_done)
        return;
    R.late_done = true;
    rcpl_busy++;
    if (R.cfg.preload_pid == 0) {
        /* programs this process runs by exec keep recording (same pid);
         * others started from it know they are children */
        char pid[24];
        pid[put_dec(pid, R.pid)] = '\0';
        setenv("RECYCLE_PRELOAD_PID", pid, 1);
    }
    on_exit(on_exit_status, NULL);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    install_handlers();
    rcpl_busy--;
}
