/* replay.h - a capture replayed into the figures the reports print.
 *
 * The replay reads the capture's records once, in a stream, and keeps
 *
 *   nodes     the call tree of the STACK records, an array indexed by
 *             stack id: pc, parent, the module the pc lies in, and the
 *             figures of the allocations whose stack ends there
 *   modules   every MODULE record (path, build id, address range), and the
 *             map of the modules mapped now, to place each pc in one
 *   figures   per stack id that allocated: bytes and allocations over the
 *             run, live now, live at the peak, leaked, temporary
 *   live      ptr -> the live block (its weight and its figures)
 *   window    recent records of each thread, released in time order
 *
 * so its memory is bounded by the live blocks, the call tree and the
 * window, never by the capture's length.
 *
 * Time order. Each thread of the traced program encodes its records into
 * its own chunks, so the file holds every thread's records in order but
 * interleaves the threads a chunk at a time: a block may be freed in the
 * file before another thread's chunk that allocated it. The ALLOC, FREE,
 * REALLOC and LEAK records therefore wait in a window of at most
 * RCR_WINDOW records and leave it oldest first, by (time, position in the
 * file). A record leaves when a SYNC record says that nothing stamped
 * before it can follow (the preload writes one every 10 ms), when it
 * is RCR_LAG_NS older than the newest record read (the preload hands in a
 * thread's records within 200 ms, so nothing older can still come from a
 * thread quiet that long), or when the window is full. The window
 * is one FIFO per thread (already in time order) and a heap of the
 * threads by their oldest waiting record, so a record costs O(1) plus
 * O(log threads waiting), where one heap of all the records would cost
 * O(log RCR_WINDOW) cache misses.
 *
 * A record older than one already released (its chunk came later than the
 * window) is replayed when it leaves and counted in `late`; the report then
 * says that the peak and the temporary allocations are approximate. The
 * pairing of allocations and frees stays exact: a free of a block not (yet)
 * seen is kept in `orphans` (ptr -> time), and a late allocation at that
 * address from before that time is counted as allocated and freed there.
 * Definitions (STACK, MODULE, THREAD) and the MEMORY and EXIT records take
 * effect where they are read.
 *
 * Ties. The preload stamps events to the millisecond, so records of
 * different threads often have equal times, and the window then releases
 * them in file order, which need not be the order they happened in. Two
 * cases matter, both about one address moving between threads within a
 * millisecond:
 *   - a block freed by thread A, its address handed out again to thread B:
 *     if B's allocation comes first, the address is still live. When a
 *     free of that address stamped no later waits in the window
 *     (`pending` lists them),
 *     the allocation is held back (`deferred`) and applied right after
 *     that free; if B frees the address itself before that free's turn,
 *     that free is applied first, ahead of its turn (`early`);
 *   - a block allocated by B and freed by A: if A's free comes first, it
 *     is an orphan; an allocation of that address at the same time by
 *     another thread than the free's is then paired with it, as a late
 *     one would be. (A free and an allocation of one address in the same
 *     thread are in their true order already.)
 *
 * Figures are kept per stack id, the finest grain: the sites of a report
 * (by line, function, file or stack) are sums of them (sites.c).
 *
 * Peak without a second pass. The peak is the largest sum of live weights
 * over time. What each stack id held at that instant is kept lazily: a
 * new peak only increments `epoch`; before a figures record is changed,
 * if its stamp is older than epoch, its live values are copied into its
 * at-peak values (they have not changed since the peak), and the stamp
 * set. At the end every record is brought up to date the same way. So the
 * cost is O(1) per event, where copying every site at each new peak would
 * be O(sites).
 *
 * Changes. A caller that wants the heap over time (`recycle stats`) sets
 * on_change after rcr_replay_init: it is called for every block that
 * becomes live or stops being live, in the order the replay applies them
 * (time order, but for the `late` records), with the record's time and
 * thread, the thread that allocated the block, and the replay's live
 * figures already updated. Every allocation and free the totals count is
 * one call, so the calls add up to the totals. A late allocation whose free
 * came first is an allocation and a free at its own time, both on its
 * thread (the free's thread is not kept). Each call also names the block
 * (address, slab index, figures) and the record applied, so that a caller
 * can pair every allocation with its end. */
#ifndef RC_REPORT_REPLAY_H
#define RC_REPORT_REPLAY_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "capture/capture.h"
#include "heap/htable.h"
#include "symbolize/symbolize.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Records kept in the time-order window at most (56 bytes each: 56 MiB). */
#ifndef RCR_WINDOW
#define RCR_WINDOW (1u << 20)
#endif
/* A thread's ring of waiting records larger than this is freed when it
 * empties. */
#ifndef RCR_FIFO_KEEP
#define RCR_FIFO_KEEP 4096u
#endif
/* How far behind the newest record a record may arrive: the preload hands
 * in a thread's records at most 200 ms after the first of them
 * (src/preload/tracker.c, IDLE_NS), written a tick (10 ms) later. */
#ifndef RCR_LAG_NS
#define RCR_LAG_NS UINT64_C(500000000)
#endif
/* Frees of blocks not seen allocated kept for a late allocation at most. */
#ifndef RCR_ORPHANS_MAX
#define RCR_ORPHANS_MAX (1u << 18)
#endif

#define RCR_NONE UINT32_MAX

typedef struct rcr_figures {
    uint64_t bytes, allocations;            /* allocated over the run */
    uint64_t frees;                         /* of those, freed */
    uint64_t live_bytes, live_allocations;  /* live now (at the end: leaked) */
    uint64_t peak_bytes, peak_allocations;  /* live at the peak */
    uint64_t lost_bytes, lost_allocations;  /* leaked, nothing pointing to them */
    uint64_t reachable_bytes, reachable_allocations;   /* leaked, still reachable */
    uint64_t temporary;                     /* allocations freed before any other */
    uint64_t epoch;                         /* peak epoch of the at-peak values */
    uint32_t node;                          /* the stack id they belong to */
} rcr_figures;

typedef struct rcr_node {
    uint64_t pc;
    uint64_t time;             /* when defined */
    uint32_t parent;           /* 0: outermost */
    uint32_t module;           /* index in modules, RCR_NONE unknown */
    uint32_t figures;          /* index in figures, RCR_NONE if none */
    bool defined;
} rcr_node;

typedef struct rcr_module {
    uint64_t start, end, offset;
    char *path;                /* "" when the record had none */
    uint8_t *build_id;
    uint32_t build_id_len;
    bool runtime;              /* the allocator or the C/C++ run-time */
} rcr_module;

typedef struct rcr_totals {
    uint64_t allocations, frees, bytes_allocated;
    uint64_t peak_bytes, peak_allocations, peak_time_ns;
    uint64_t leaked_bytes, leaked_allocations;       /* live at the end */
    uint64_t lost_bytes, lost_allocations;           /* from LEAK records */
    uint64_t reachable_bytes, reachable_allocations;
    uint64_t temporary;
    uint64_t peak_rss;                               /* from MEMORY records */
    uint64_t collections[3];   /* GC records: librecycle's collections per generation */
    uint64_t gc_collected;     /* objects they freed */
    uint64_t gc_longest_ns;    /* the longest one's duration */
    uint64_t duration_ns;                            /* time of the last record */
    uint64_t records;                                /* read */
    uint64_t threads;                                /* distinct thread numbers */
    /* oddities, for the warnings */
    uint64_t unknown_frees;    /* FREE / REALLOC of a block never seen allocated */
    uint64_t unknown_leaks;    /* LEAK records of blocks not live */
    uint64_t reused;           /* ALLOC of an address still live (a missed free) */
    uint64_t late;             /* records that arrived after the window */
    uint64_t late_pairs;       /* of them, allocations whose free came first */
    uint64_t unjudged;         /* live at the end without the preload's verdict:
                                  counted as freed (see settle_unjudged) */
} rcr_totals;

/* A block of the slab: live, or on the slab's free list. */
typedef struct rcr_block {
    uint64_t weight, count;    /* bytes and allocations it stands for */
    union {
        uint32_t figures;      /* while live */
        uint32_t next_free;    /* while on the free list */
    };
    uint32_t thread;           /* the thread number that allocated it, and
                                  RCR_BLOCK_JUDGED once a LEAK record named it */
} rcr_block;
#define RCR_BLOCK_JUDGED (1u << 31)
_Static_assert(sizeof(rcr_block) == 24, "a live block costs 24 bytes");

/* A record in the time-order window (56 bytes). */
typedef struct rcr_qevent {
    uint64_t time, seq;
    uint64_t ptr, old_ptr, size, weight;
    uint32_t stack;
    uint8_t kind;
    uint8_t lost;              /* LEAK: 1 lost, 0 reachable */
    uint8_t fn;                /* ALLOC: its rccap_fn; REALLOC: RCCAP_FN_REALLOC */
} rcr_qevent;
_Static_assert(sizeof(rcr_qevent) == 56, "the window's records stay 56 bytes");

/* A free waiting in the window, in the list of its address. */
typedef struct rcr_pend {
    uint64_t seq, time;        /* its record's */
    uint32_t thread;
    bool plain;                /* a FREE (not a moved REALLOC's old block) */
    uint32_t next;             /* RCR_NONE: the last of its list */
    uint32_t last;             /* in a list's first: its last */
} rcr_pend;

/* An allocation held back until the free of its address that waits in
 * the window is applied (a chain per address, oldest first). */
typedef struct rcr_deferred {
    rcr_qevent q;
    uint32_t thread;
    uint32_t next;             /* RCR_NONE: the last of its chain */
} rcr_deferred;

/* The waiting records of one thread: a ring buffer (cap a power of two). */
typedef struct rcr_fifo {
    rcr_qevent *v;
    size_t cap, head, len;
    size_t heap_pos;           /* in ready, while len > 0 */
    uint32_t thread;           /* the thread number whose records these are */
} rcr_fifo;

/* One block becoming live or ceasing to be (see "Changes" above). */
typedef struct rcr_change {
    uint64_t time;             /* of the record that made the change */
    uint32_t thread;           /* that record's thread number */
    uint32_t owner;            /* the thread number that allocated the block */
    uint64_t weight, count;    /* bytes and allocations the block stands for */
    bool freed;                /* false: allocated; true: freed, reallocated,
                                  or its address allocated again (a missed free) */
    /* Which block, for a caller that follows blocks one by one (the sqlite
     * export): */
    uint64_t ptr;              /* its address */
    uint32_t block;            /* its index in blocks, which no other live block
                                  has (a freed index is reused); RCR_NONE for a
                                  late allocation whose free came first */
    uint32_t figures;          /* its index in figures (figures[].node: its stack) */
    const rcr_qevent *record;  /* the record applied (kind, ptr, old_ptr, size,
                                  fn, seq), valid during the call; NULL for a
                                  block the end counts as freed (live without
                                  a verdict at exit) */
} rcr_change;

struct rcr_replay;
/* Must not change the replay. */
typedef void (*rcr_change_fn)(void *arg, const struct rcr_replay *r, const rcr_change *c);

typedef struct rcr_replay {
    /* the header, with its strings copied */
    rccap_header header;
    char *program, *command_line;

    rcr_totals totals;
    rccap_end end;
    int32_t exit_status, exit_signal;
    bool have_exit, have_leaks;

    rcr_node *nodes;           /* indexed by stack id; 0 is the empty stack */
    size_t nnodes, cap_nodes;

    rcr_module *modules;
    size_t nmodules, cap_modules;
    /* the modules mapped now: indexes into modules, sorted by start,
     * ranges disjoint (a newer module replaces what it overlaps) */
    uint32_t *map;
    size_t nmap, cap_map;

    rcr_figures *figures;
    size_t nfigures, cap_figures;

    rci_htable live;           /* ptr -> index in blocks */
    rcr_block *blocks;
    size_t nblocks, cap_blocks;
    uint32_t free_block;       /* head of the slab's free list, RCR_NONE */

    /* the window */
    rcr_fifo *fifos;           /* one per thread number seen */
    size_t nfifos, cap_fifos;
    rci_htable fifo_of;        /* thread number + 1 -> index in fifos */
    uint32_t *ready;           /* heap of the fifos holding records, by
                                  their first record's (time, seq) */
    size_t nready, cap_ready;
    size_t waiting;            /* records in the window */
    uint64_t seq, released_time, newest_time;
    rci_htable orphans;        /* ptr -> time of a free of an unknown block */
    rci_htable orphan_thread;  /* ptr -> thread number + 1 of that free */
    bool released_any;
    /* Same-millisecond order across threads (see "Ties" above) */
    rci_htable pending;        /* ptr -> first index in pends + 1: the frees
                                  of ptr waiting in the window */
    rcr_pend *pends;
    size_t npends, cap_pends;
    uint32_t free_pend;        /* free list of pends, RCR_NONE */
    rci_htable early;          /* seq -> 1: FREE records applied ahead of
                                  their turn, skipped when it comes */
    rcr_deferred *deferred;    /* allocations waiting for a pending free */
    size_t ndeferred, cap_deferred;
    uint32_t free_deferred;    /* free list of deferred, RCR_NONE */
    rci_htable deferred_at;    /* ptr -> first index in deferred + 1 */

    /* symbols: the capture's modules in an offline symbolizer session,
     * each added the first time one of its pcs is named (sym_index[m]: the
     * session's index of modules[m], -1 until added) */
    rcs_session *sym;
    int *sym_index;
    size_t nsym_index;

    uint64_t live_bytes, live_allocations;
    uint64_t epoch;
    uint64_t last_alloc;       /* ptr of the last allocation, 0 after a free */
    bool failed;               /* out of memory */

    /* optional, set after rcr_replay_init: told of every change */
    rcr_change_fn on_change;
    void *change_arg;
    uint64_t applying_time;    /* the record being applied: time, thread */
    uint32_t applying_thread;
    const rcr_qevent *applying_record;   /* NULL while the end settles blocks */
} rcr_replay;

/* How many allocations an ALLOC or REALLOC record stands for: one, or
 * when sampled (its weight above its size) as many of its size as fit in
 * its weight. */
static inline uint64_t rcr_record_count(uint64_t size, uint64_t weight) {
    return size && weight > size ? weight / size : 1;
}

/* An empty replay for a capture with header h (strings copied); false on
 * out of memory. */
bool rcr_replay_init(rcr_replay *r, const rccap_header *h);
/* Take one record; false on out of memory. */
bool rcr_replay_event(rcr_replay *r, const rccap_event *ev);
/* After the last record: drain the window, bring the at-peak values up
 * to date, place every pc in its module; false on out of memory. */
bool rcr_replay_finish(rcr_replay *r);
void rcr_replay_free(rcr_replay *r);

/* The module of node id's pc (RCR_NONE if none), resolved once. */
uint32_t rcr_replay_module_of(rcr_replay *r, uint32_t id);
/* The site of stack id: the innermost frame outside the allocator and the
 * C/C++ run-time, or the innermost frame when every frame is inside. */
uint32_t rcr_replay_site_of(rcr_replay *r, uint32_t id);

/* Whether a module path is the allocator or the C/C++ run-time (libc and
 * the rest of glibc, ld.so, libstdc++, libc++, libgcc_s, the preload). */
bool rcr_module_is_runtime(const char *path);

#endif /* RC_REPORT_REPLAY_H */
