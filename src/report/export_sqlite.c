/* export_sqlite.c - `recycle export --format sqlite` (export_impl.h): a
 * capture as a SQLite database, so that a question the reports do not
 * answer is one query away. docs/sqlite.md describes every table and
 * column, with example queries; SCHEMA below is the same text.
 *
 *   capture       name -> value: the run (program, pid, how it ended, ...)
 *                 and the report's totals
 *   modules       the MODULE records
 *   threads       every thread number that allocated, freed or was named
 *   frames        distinct frames: (module, function, file, line), or
 *                 (module, offset) where there is no symbol
 *   stack_nodes   the call tree as far as the stacks that allocated reach:
 *                 a node per return address, with its caller
 *   node_frames   the frames of each node's pc (several where functions
 *                 were inlined)
 *   stacks        each stack id that allocated: its site and figures
 *   stack_frames  a view: each stack's frames, depth 0 the site, 1 its
 *                 caller and so on outward; -1, -2, ... the frames inside
 *                 the allocator and the C/C++ run-time below the site
 *   sites         the sites of `recycle report --json` (by line), in its
 *                 order, with the same figures
 *   allocations   a full capture's every block (none when sampled)
 *   memory        the MEMORY records (RSS over time)
 *   heap          the heap after each millisecond that changed it
 *
 * Streaming. The allocations are written while the capture is read, from
 * the replay's change hook (replay.h). A block is numbered when it
 * becomes live, in the order the replay applies records (time order), and
 * what its row needs besides what its end tells is kept in `live`, an
 * array indexed like the replay's slab of blocks (a slot belongs to one
 * live block at a time): 32 bytes a live block. The row is inserted when
 * the block ends, and the blocks live at the end are inserted last. So
 * memory is the replay's, one entry per live block more and SQLite's page
 * cache (CACHE_KIB), never a figure of the capture's length. Rows arrive
 * in the order blocks end, not in the order of their ids; most blocks live
 * briefly, so most rows go to the table's last pages, which stay in the
 * cache.
 *
 * Speed. One transaction, statements prepared once, no rollback journal
 * and no syncing while filling (journal_mode=OFF, synchronous=OFF; the
 * file is a temporary one that the caller removes on any failure), the
 * indexes built after the rows. Neither pragma is stored in the file: the
 * database is an ordinary one afterwards. The allocations go in by batches
 * of BATCH rows through a virtual table (see "the allocations in
 * batches"), which takes a quarter off the export's time, inserted by a
 * second thread while the capture is read on (two buffers in turn: the
 * replay and SQLite's work overlap on two cores). The stacks are
 * stored as the call tree, not one row per level of each stack
 * (stack_frames is a view): binary-trees at depth 14 has 131,070 stacks
 * but 2.4 million levels, whose rows took 2 s.
 *
 * Errors. A SQLite error stops the writing; the capture is still read to
 * its end (a hook cannot stop the load, and the load would call the stop
 * "out of memory"), then "recycle export: DB: MESSAGE" is printed and 1
 * returned. Memory running out in this file stops the load at the next
 * record, with the load's message. */
#define _GNU_SOURCE
#include "report/export_impl.h"

#include "report/format.h"
#include "report/keys.h"
#include "report/load.h"
#include "report/sites.h"

#include <recycle/version.h>

#include <inttypes.h>
#include <sqlite3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG "recycle export: "

/* The tables' version (PRAGMA user_version): raised when they change. */
#define SCHEMA_VERSION 1
/* Inlined frames kept per pc at most. */
#define MAX_INLINE 16
/* SQLite's page cache, in KiB: the last pages of the allocations table,
 * where the rows of short-lived blocks land, and the sorts of the index
 * builds. */
#define CACHE_KIB 65536
/* Allocation rows inserted by one statement (about 100 bytes each while
 * they wait). */
#define BATCH 4096
/* The heap table's rows: one per millisecond that changed the heap. */
#define HEAP_STEP_NS UINT64_C(1000000)
/* The pages: larger ones cost fewer page splits per row. */
#define PAGE_SIZE 16384

/* The tables, one statement each; docs/sqlite.md has each column's
 * meaning. */
static const char *const SCHEMA[] = {
    "CREATE TABLE capture (\n"
    "    name  TEXT PRIMARY KEY,\n"
    "    value\n"
    ") WITHOUT ROWID;\n",
    "CREATE TABLE modules (\n"
    "    id            INTEGER PRIMARY KEY,\n"
    "    path          TEXT,\n"
    "    start_address INTEGER NOT NULL,\n"
    "    end_address   INTEGER NOT NULL,\n"
    "    file_offset   INTEGER NOT NULL,\n"
    "    build_id      TEXT,\n"
    "    runtime       INTEGER NOT NULL\n"
    ");\n",
    "CREATE TABLE threads (\n"
    "    number  INTEGER PRIMARY KEY,\n"
    "    os_tid  INTEGER,\n"
    "    name    TEXT\n"
    ");\n",
    "CREATE TABLE frames (\n"
    "    id           INTEGER PRIMARY KEY,\n"
    "    function     TEXT,\n"
    "    file         TEXT,\n"
    "    line         INTEGER,\n"
    "    module       INTEGER REFERENCES modules(id),\n"
    "    file_offset  INTEGER\n"
    ");\n",
    "CREATE TABLE sites (\n"
    "    id                           INTEGER PRIMARY KEY,\n"
    "    function                     TEXT,\n"
    "    file                         TEXT,\n"
    "    line                         INTEGER,\n"
    "    module                       INTEGER REFERENCES modules(id),\n"
    "    file_offset                  INTEGER NOT NULL,\n"
    "    allocations                  INTEGER NOT NULL,\n"
    "    bytes                        INTEGER NOT NULL,\n"
    "    frees                        INTEGER NOT NULL,\n"
    "    peak_bytes                   INTEGER NOT NULL,\n"
    "    peak_allocations             INTEGER NOT NULL,\n"
    "    leaked_bytes                 INTEGER NOT NULL,\n"
    "    leaked_allocations           INTEGER NOT NULL,\n"
    "    definitely_lost_bytes        INTEGER,\n"
    "    definitely_lost_allocations  INTEGER,\n"
    "    still_reachable_bytes        INTEGER,\n"
    "    still_reachable_allocations  INTEGER,\n"
    "    temporary_allocations        INTEGER NOT NULL\n"
    ");\n",
    "CREATE TABLE stack_nodes (\n"
    "    id       INTEGER PRIMARY KEY,\n"
    "    parent   INTEGER REFERENCES stack_nodes(id),\n"
    "    pc       INTEGER NOT NULL,\n"
    "    module   INTEGER REFERENCES modules(id),\n"
    "    frames   INTEGER NOT NULL\n"
    ");\n",
    "CREATE TABLE node_frames (\n"
    "    node      INTEGER NOT NULL REFERENCES stack_nodes(id),\n"
    "    position  INTEGER NOT NULL,\n"
    "    frame     INTEGER NOT NULL REFERENCES frames(id),\n"
    "    inlined   INTEGER NOT NULL,\n"
    "    PRIMARY KEY (node, position)\n"
    ") WITHOUT ROWID;\n",
    "CREATE TABLE stacks (\n"
    "    id                           INTEGER PRIMARY KEY,\n"
    "    site                         INTEGER NOT NULL REFERENCES sites(id),\n"
    "    runtime_frames               INTEGER NOT NULL,\n"
    "    allocations                  INTEGER NOT NULL,\n"
    "    bytes                        INTEGER NOT NULL,\n"
    "    frees                        INTEGER NOT NULL,\n"
    "    peak_bytes                   INTEGER NOT NULL,\n"
    "    peak_allocations             INTEGER NOT NULL,\n"
    "    leaked_bytes                 INTEGER NOT NULL,\n"
    "    leaked_allocations           INTEGER NOT NULL,\n"
    "    definitely_lost_bytes        INTEGER,\n"
    "    definitely_lost_allocations  INTEGER,\n"
    "    still_reachable_bytes        INTEGER,\n"
    "    still_reachable_allocations  INTEGER,\n"
    "    temporary_allocations        INTEGER NOT NULL\n"
    ");\n",
    "CREATE VIEW stack_frames (stack, depth, frame, pc, inlined) AS\n"
    "    WITH RECURSIVE walk (stack, node, first) AS (\n"
    "        SELECT id, id, -runtime_frames FROM stacks\n"
    "        UNION ALL\n"
    "        SELECT walk.stack, n.parent, walk.first + n.frames\n"
    "        FROM walk JOIN stack_nodes AS n ON n.id = walk.node\n"
    "        WHERE n.parent IS NOT NULL\n"
    "    )\n"
    "    SELECT walk.stack, walk.first + f.position, f.frame, n.pc, f.inlined\n"
    "    FROM walk JOIN stack_nodes AS n ON n.id = walk.node\n"
    "              JOIN node_frames AS f ON f.node = walk.node;\n",
    "CREATE TABLE allocations (\n"
    "    id            INTEGER PRIMARY KEY,\n"
    "    address       INTEGER NOT NULL,\n"
    "    size          INTEGER NOT NULL,\n"
    "    thread        INTEGER NOT NULL REFERENCES threads(number),\n"
    "    stack         INTEGER NOT NULL REFERENCES stacks(id),\n"
    "    allocator     TEXT NOT NULL,\n"
    "    allocated_ns  INTEGER NOT NULL,\n"
    "    freed_ns      INTEGER,\n"
    "    freed_by      INTEGER REFERENCES threads(number),\n"
    "    realloc_from  INTEGER REFERENCES allocations(id),\n"
    "    is_temporary  INTEGER NOT NULL,\n"
    "    leak          TEXT\n"
    ");\n",
    "CREATE TABLE memory (\n"
    "    time_ns  INTEGER NOT NULL,\n"
    "    rss      INTEGER NOT NULL,\n"
    "    heap     INTEGER NOT NULL\n"
    ");\n",
    "CREATE TABLE heap (\n"
    "    time_ns      INTEGER PRIMARY KEY,\n"
    "    bytes        INTEGER NOT NULL,\n"
    "    allocations  INTEGER NOT NULL,\n"
    "    max_bytes    INTEGER NOT NULL\n"
    ");\n",
};

/* Built once the rows are in: one sort each instead of a tree updated at
 * every row. allocations(stack) is left out: it took a quarter of the
 * export's time (1.7 s of 6 for 5 million rows), and the queries per site
 * mostly read every row anyway (docs/sqlite.md, "Indexes"). */
static const char INDEXES[] =
    "CREATE INDEX stacks_by_site ON stacks(site);\n"
    "CREATE INDEX stack_nodes_by_parent ON stack_nodes(parent);\n"
    "CREATE INDEX node_frames_by_frame ON node_frames(frame);\n"
    "CREATE INDEX allocations_by_realloc ON allocations(realloc_from)\n"
    "    WHERE realloc_from IS NOT NULL;\n";

/* ---- state ------------------------------------------------------------------------ */

/* What an allocation's row needs that its end does not tell, kept in the
 * slot of its block while the block is live. */
typedef struct live_row {
    uint64_t id;               /* 0: no block of ours in the slot */
    uint64_t allocated_ns;
    uint64_t realloc_from;     /* the id of the block it was reallocated from, 0: none */
    uint8_t allocator;         /* rccap_fn */
} live_row;

typedef struct thread_row {
    uint32_t number;
    bool named;                /* a THREAD record gave its OS id */
    uint64_t os_tid;
    char *name;                /* NULL: none given */
} thread_row;

/* A row of heap or of memory, waiting with the batch: (a, b, c, d) as the
 * table's columns (memory has three). */
typedef struct small_row {
    uint64_t v[4];
} small_row;

/* One row of allocations. */
typedef struct allocation_row {
    uint64_t id, address, size;
    uint32_t thread, stack;
    uint8_t allocator;
    uint64_t allocated_ns;
    bool freed;
    uint64_t freed_ns;
    bool has_freed_by;         /* false: the end counted the block as freed */
    uint32_t freed_by;
    uint64_t realloc_from;     /* 0: NULL */
    bool temporary;
    const char *leak;          /* "lost", "reachable" or NULL */
} allocation_row;

typedef struct exporter {
    sqlite3 *db;
    const char *path;          /* of the database, for messages */
    rcr_replay *replay;
    bool rows;                 /* a row per allocation: the capture is not sampled */
    sqlite3_stmt *insert_batch, *insert_memory, *insert_heap;
    allocation_row *batch;     /* rows filling up (BATCH) */
    size_t nbatch;
    small_row *heap_rows, *memory_rows;   /* filling up beside it (BATCH each) */
    size_t nheap, nmemory;
    /* The inserter thread: it inserts one full batch (rows, nrows: what
     * recycle_batch shows) while the replay fills the other buffer, so that
     * the two halves of the work share the machine's cores. The connection
     * is used by one thread at a time: while the capture is read only the
     * inserter runs SQL (the heap and memory rows wait in their buffers
     * beside the batch and go with it). busy, quit, rc and error are under
     * lock. */
    struct {
        pthread_t thread;
        bool started, busy, quit;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        allocation_row *rows, *spare;
        size_t nrows;
        small_row *heap, *heap_spare, *memory, *memory_spare;
        size_t nheap, nmemory;
        int rc;                /* the first failed step's code; 0: none */
        char error[256];
    } ins;

    live_row *live;            /* indexed like replay->blocks */
    size_t cap_live;
    uint64_t next_id;
    /* The block the REALLOC record of seq realloc_seq ended: the next
     * allocation of that record was reallocated from it. */
    bool realloc_pending;
    uint64_t realloc_seq, realloc_id;
    uint64_t temporary_seen;   /* the replay's totals.temporary at the last change */

    /* the heap at the latest time of a change, written when time moves on:
     * after its last change, and the highest it was at that time */
    bool heap_any;
    uint64_t heap_time, heap_bytes, heap_allocations, heap_max;

    thread_row *threads;
    size_t nthreads, cap_threads;
    rci_htable thread_of;      /* number + 1 -> index in threads */
    uint32_t last_thread;      /* known to be in threads (last_thread_known) */
    bool last_thread_known;
    rci_htable verdict;        /* ptr -> 1 + rccap_leak of its first LEAK record */

    bool failed;               /* SQLite failed: error holds its message */
    bool oom;
    char error[512];
} exporter;

/* ---- SQLite calls ------------------------------------------------------------------ */

/* Record the first SQLite failure; false. */
static bool sql_failed(exporter *ex, int rc) {
    if (!ex->failed) {
        ex->failed = true;
        if ((rc & 0xff) == SQLITE_NOMEM)
            ex->oom = true;
        const char *m = ex->db ? sqlite3_errmsg(ex->db) : sqlite3_errstr(rc);
        snprintf(ex->error, sizeof ex->error, "%s", m ? m : sqlite3_errstr(rc));
    }
    return false;
}

static bool sql_exec(exporter *ex, const char *sql) {
    int rc = sqlite3_exec(ex->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK || sql_failed(ex, rc);
}

static bool sql_prepare(exporter *ex, const char *sql, sqlite3_stmt **st) {
    int rc = sqlite3_prepare_v3(ex->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    return rc == SQLITE_OK || sql_failed(ex, rc);
}

/* Run a statement whose parameters are bound, and reset it. */
static bool sql_step(exporter *ex, sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || sql_failed(ex, rc);
}

/* Integers are stored as SQLite's signed 64 bits: values from 2^63 up
 * (none an address of user space has) come out negative. */
static void bind_u64(sqlite3_stmt *st, int i, uint64_t v) {
    sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

/* s with every byte that is not valid UTF-8 replaced by U+FFFD, as the
 * report's JSON has it; NULL when s is valid (or memory ran out: s is then
 * stored as it is, a benign failure). The caller frees it. */
static char *utf8_fixed(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        uint32_t code;
        size_t n = *p < 0x80 ? 1 : rcr_utf8_len(p, &code);
        if (n == 0)
            break;
        p += n - 1;
    }
    if (!*p)
        return NULL;
    size_t len = strlen(s);
    char *out = malloc(3 * len + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (p = (const unsigned char *)s; *p;) {
        uint32_t code;
        size_t n = *p < 0x80 ? 1 : rcr_utf8_len(p, &code);
        if (n == 0) {
            memcpy(o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        } else {
            memcpy(o, p, n);
            o += n;
            p += n;
        }
    }
    *o = '\0';
    return out;
}

/* A text (valid UTF-8: see utf8_fixed) or NULL; the text must live until
 * the statement is stepped. */
static void bind_text(sqlite3_stmt *st, int i, const char *s) {
    if (!s) {
        sqlite3_bind_null(st, i);
        return;
    }
    char *fixed = utf8_fixed(s);
    if (fixed) {
        sqlite3_bind_text(st, i, fixed, -1, SQLITE_TRANSIENT);
        free(fixed);
    } else {
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    }
}

/* ---- rows written while the capture is read ---------------------------------------- */

static const char *allocator_name(uint8_t fn) {
    switch ((rccap_fn)fn) {
    case RCCAP_FN_MALLOC: return "malloc";
    case RCCAP_FN_CALLOC: return "calloc";
    case RCCAP_FN_REALLOC: return "realloc";
    case RCCAP_FN_REALLOCARRAY: return "reallocarray";
    case RCCAP_FN_POSIX_MEMALIGN: return "posix_memalign";
    case RCCAP_FN_ALIGNED_ALLOC: return "aligned_alloc";
    case RCCAP_FN_MEMALIGN: return "memalign";
    case RCCAP_FN_VALLOC: return "valloc";
    case RCCAP_FN_PVALLOC: return "pvalloc";
    case RCCAP_FN_MAX: break;
    }
    return "malloc";
}

/* ---- the allocations in batches ----
 *
 * A row inserted with its own statement costs a step, a reset and twelve
 * binds, about as much as SQLite's work to store it. So rows wait in
 * `batch` and go in BATCH at a time with one INSERT ... SELECT from
 * recycle_batch, an eponymous virtual table (it exists for this connection
 * only, nothing of it is stored) whose rows are the batch's. */

typedef struct batch_table {
    sqlite3_vtab base;
    exporter *ex;
} batch_table;

typedef struct batch_cursor {
    sqlite3_vtab_cursor base;
    size_t at;
} batch_cursor;

static int batch_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                         sqlite3_vtab **out, char **err) {
    (void)argc, (void)argv, (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(id, address, size, thread, stack, "
                                      "allocator, allocated_ns, freed_ns, freed_by, "
                                      "realloc_from, is_temporary, leak)");
    if (rc != SQLITE_OK)
        return rc;
    batch_table *t = sqlite3_malloc(sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    t->ex = aux;
    *out = &t->base;
    return SQLITE_OK;
}

static int batch_disconnect(sqlite3_vtab *vt) {
    sqlite3_free(vt);
    return SQLITE_OK;
}

static int batch_best_index(sqlite3_vtab *vt, sqlite3_index_info *info) {
    (void)vt;
    info->estimatedCost = BATCH;
    info->estimatedRows = BATCH;
    return SQLITE_OK;
}

static int batch_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out) {
    (void)vt;
    batch_cursor *c = sqlite3_malloc(sizeof *c);
    if (!c)
        return SQLITE_NOMEM;
    memset(c, 0, sizeof *c);
    *out = &c->base;
    return SQLITE_OK;
}

static int batch_close(sqlite3_vtab_cursor *cur) {
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int batch_filter(sqlite3_vtab_cursor *cur, int index, const char *name, int argc,
                        sqlite3_value **argv) {
    (void)index, (void)name, (void)argc, (void)argv;
    ((batch_cursor *)cur)->at = 0;
    return SQLITE_OK;
}

static int batch_next(sqlite3_vtab_cursor *cur) {
    ((batch_cursor *)cur)->at++;
    return SQLITE_OK;
}

static int batch_eof(sqlite3_vtab_cursor *cur) {
    const batch_cursor *c = (const batch_cursor *)cur;
    return c->at >= ((const batch_table *)cur->pVtab)->ex->ins.nrows;
}

static void result_u64(sqlite3_context *ctx, uint64_t v) {
    sqlite3_result_int64(ctx, (sqlite3_int64)v);
}

static int batch_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int column) {
    const batch_cursor *c = (const batch_cursor *)cur;
    const allocation_row *a = &((const batch_table *)cur->pVtab)->ex->ins.rows[c->at];
    switch (column) {
    case 0: result_u64(ctx, a->id); break;
    case 1: result_u64(ctx, a->address); break;
    case 2: result_u64(ctx, a->size); break;
    case 3: sqlite3_result_int64(ctx, a->thread); break;
    case 4: sqlite3_result_int64(ctx, a->stack); break;
    case 5: sqlite3_result_text(ctx, allocator_name(a->allocator), -1, SQLITE_STATIC); break;
    case 6: result_u64(ctx, a->allocated_ns); break;
    case 7:
        if (a->freed)
            result_u64(ctx, a->freed_ns);
        break;              /* NULL unless set */
    case 8:
        if (a->has_freed_by)
            sqlite3_result_int64(ctx, a->freed_by);
        break;
    case 9:
        if (a->realloc_from)
            result_u64(ctx, a->realloc_from);
        break;
    case 10: sqlite3_result_int(ctx, a->temporary); break;
    case 11:
        if (a->leak)
            sqlite3_result_text(ctx, a->leak, -1, SQLITE_STATIC);
        break;
    default: break;
    }
    return SQLITE_OK;
}

static int batch_rowid(sqlite3_vtab_cursor *cur, sqlite_int64 *rowid) {
    *rowid = (sqlite_int64)((const batch_cursor *)cur)->at;
    return SQLITE_OK;
}

static const sqlite3_module batch_module = {
    .iVersion = 0,
    .xCreate = NULL,           /* eponymous only */
    .xConnect = batch_connect,
    .xBestIndex = batch_best_index,
    .xDisconnect = batch_disconnect,
    .xDestroy = batch_disconnect,
    .xOpen = batch_open,
    .xClose = batch_close,
    .xFilter = batch_filter,
    .xNext = batch_next,
    .xEof = batch_eof,
    .xColumn = batch_column,
    .xRowid = batch_rowid,
};

/* Insert ins.rows (set by the caller): on the inserter thread, or on the
 * caller's when there is none. The step's code, and its message saved. */
static bool insert_step(exporter *ex, sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && !ex->ins.rc) {
        const char *m = sqlite3_errmsg(ex->db);
        pthread_mutex_lock(&ex->ins.lock);
        ex->ins.rc = rc;
        snprintf(ex->ins.error, sizeof ex->ins.error, "%s", m ? m : sqlite3_errstr(rc));
        pthread_mutex_unlock(&ex->ins.lock);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

/* The rows of one handed-in batch: allocations, then the heap and memory
 * rows that waited beside them. */
static void insert_rows(exporter *ex) {
    if (ex->ins.nrows && !insert_step(ex, ex->insert_batch))
        return;
    for (size_t i = 0; i < ex->ins.nheap; i++) {
        for (int k = 0; k < 4; k++)
            bind_u64(ex->insert_heap, k + 1, ex->ins.heap[i].v[k]);
        if (!insert_step(ex, ex->insert_heap))
            return;
    }
    for (size_t i = 0; i < ex->ins.nmemory; i++) {
        for (int k = 0; k < 3; k++)
            bind_u64(ex->insert_memory, k + 1, ex->ins.memory[i].v[k]);
        if (!insert_step(ex, ex->insert_memory))
            return;
    }
}

static void *inserter_main(void *arg) {
    exporter *ex = arg;
    pthread_mutex_lock(&ex->ins.lock);
    for (;;) {
        while (!ex->ins.busy && !ex->ins.quit)
            pthread_cond_wait(&ex->ins.cond, &ex->ins.lock);
        if (!ex->ins.busy)
            break;
        pthread_mutex_unlock(&ex->ins.lock);
        insert_rows(ex);
        pthread_mutex_lock(&ex->ins.lock);
        ex->ins.busy = false;
        pthread_cond_broadcast(&ex->ins.cond);
    }
    pthread_mutex_unlock(&ex->ins.lock);
    return NULL;
}

/* Wait until no insert is in progress; a failed one becomes the export's
 * failure (here, on the replay's thread). */
static void inserter_wait(exporter *ex) {
    pthread_mutex_lock(&ex->ins.lock);
    while (ex->ins.busy)
        pthread_cond_wait(&ex->ins.cond, &ex->ins.lock);
    int rc = ex->ins.rc;
    pthread_mutex_unlock(&ex->ins.lock);
    if (rc && !ex->failed) {
        ex->failed = true;
        ex->oom = (rc & 0xff) == SQLITE_NOMEM;
        snprintf(ex->error, sizeof ex->error, "%s", ex->ins.error);
    }
}

static void inserter_stop(exporter *ex) {
    if (!ex->ins.started)
        return;
    pthread_mutex_lock(&ex->ins.lock);
    ex->ins.quit = true;
    pthread_cond_broadcast(&ex->ins.cond);
    pthread_mutex_unlock(&ex->ins.lock);
    pthread_join(ex->ins.thread, NULL);
    ex->ins.started = false;
}

/* Hand the rows waiting in the batch (and beside it) to the inserter
 * (after the previous batch is in), and go on filling the other buffers.
 * Nothing but the inserter runs SQL while the capture is read. */
static void batch_flush(exporter *ex) {
    if (ex->ins.started)
        inserter_wait(ex);
    if ((ex->nbatch || ex->nheap || ex->nmemory) && !ex->failed) {
        allocation_row *full = ex->batch;
        ex->batch = ex->ins.spare;
        ex->ins.spare = full;
        ex->ins.rows = full;
        ex->ins.nrows = ex->nbatch;
        small_row *h = ex->heap_rows, *m = ex->memory_rows;
        ex->heap_rows = ex->ins.heap_spare;
        ex->memory_rows = ex->ins.memory_spare;
        ex->ins.heap_spare = ex->ins.heap = h;
        ex->ins.memory_spare = ex->ins.memory = m;
        ex->ins.nheap = ex->nheap;
        ex->ins.nmemory = ex->nmemory;
        if (ex->ins.started) {
            pthread_mutex_lock(&ex->ins.lock);
            ex->ins.busy = true;
            pthread_cond_broadcast(&ex->ins.cond);
            pthread_mutex_unlock(&ex->ins.lock);
        } else {
            insert_rows(ex);
            inserter_wait(ex);
        }
    }
    ex->nbatch = ex->nheap = ex->nmemory = 0;
}

static void insert_allocation(exporter *ex, const allocation_row *a) {
    if (ex->failed)
        return;
    ex->batch[ex->nbatch++] = *a;
    if (ex->nbatch == BATCH)
        batch_flush(ex);
}

/* Write the heap of the latest time. */
static void heap_flush(exporter *ex) {
    if (!ex->heap_any || ex->failed)
        return;
    ex->heap_rows[ex->nheap++] =
        (small_row){{ex->heap_time, ex->heap_bytes, ex->heap_allocations, ex->heap_max}};
    if (ex->nheap == BATCH)
        batch_flush(ex);
}

/* The heap after a change at time: a row per millisecond (the preload's
 * clock; a capture with a finer one would otherwise make a row per
 * change), written when the time moves past it. */
static void heap_step(exporter *ex, const rcr_replay *r, uint64_t time) {
    time -= time % HEAP_STEP_NS;
    if (ex->heap_any && time > ex->heap_time)
        heap_flush(ex);
    /* A late record changes the heap of the latest time seen, where the
     * replay applies it. */
    if (!ex->heap_any || time > ex->heap_time) {
        ex->heap_time = time;
        ex->heap_max = 0;
    }
    ex->heap_any = true;
    ex->heap_bytes = r->live_bytes;
    ex->heap_allocations = r->live_allocations;
    if (r->live_bytes > ex->heap_max)
        ex->heap_max = r->live_bytes;
}

/* Room for slot `block` in live; false on out of memory. */
static bool live_reserve(exporter *ex, uint32_t block) {
    if (block < ex->cap_live)
        return true;
    size_t cap = ex->cap_live ? ex->cap_live : 1024;
    while (cap <= block)
        cap *= 2;
    live_row *v = realloc(ex->live, cap * sizeof *v);
    if (!v)
        return false;
    memset(v + ex->cap_live, 0, (cap - ex->cap_live) * sizeof *v);
    ex->live = v;
    ex->cap_live = cap;
    return true;
}

static void block_allocated(exporter *ex, const rcr_replay *r, const rcr_change *c) {
    const rcr_qevent *q = c->record;
    uint64_t from = 0;
    /* The allocation a REALLOC record makes comes right after the end of
     * its old block (replay.c, apply). */
    if (q && q->kind == RCCAP_REALLOC && ex->realloc_pending && ex->realloc_seq == q->seq)
        from = ex->realloc_id;
    ex->realloc_pending = false;
    live_row row = {
        .id = ++ex->next_id,
        .allocated_ns = c->time,
        .realloc_from = from,
        .allocator = q ? q->fn : RCCAP_FN_MALLOC,
    };
    if (c->block == RCR_NONE) {
        /* A late allocation whose free came first: the replay counts it
         * allocated and freed at its own time, on its own thread. */
        allocation_row a = {
            .id = row.id,
            .address = c->ptr,
            .size = c->weight,
            .thread = c->owner,
            .stack = r->figures[c->figures].node,
            .allocator = row.allocator,
            .allocated_ns = c->time,
            .freed = true,
            .freed_ns = c->time,
            .has_freed_by = true,
            .freed_by = c->thread,
            .realloc_from = from,
        };
        insert_allocation(ex, &a);
        return;
    }
    if (!live_reserve(ex, c->block)) {
        ex->oom = true;
        return;
    }
    ex->live[c->block] = row;
}

static void block_ended(exporter *ex, const rcr_replay *r, const rcr_change *c, bool temporary) {
    /* The end of a late pair was written with its allocation. */
    if (c->block == RCR_NONE || c->block >= ex->cap_live || !ex->live[c->block].id)
        return;
    live_row row = ex->live[c->block];
    ex->live[c->block].id = 0;
    const rcr_qevent *q = c->record;
    allocation_row a = {
        .id = row.id,
        .address = c->ptr,
        .size = c->weight,
        .thread = c->owner,
        .stack = r->figures[c->figures].node,
        .allocator = row.allocator,
        .allocated_ns = row.allocated_ns,
        .freed = true,
        .freed_ns = c->time,
        .has_freed_by = q != NULL,
        .freed_by = c->thread,
        .realloc_from = row.realloc_from,
        .temporary = temporary,
    };
    insert_allocation(ex, &a);
    if (q && q->kind == RCCAP_REALLOC && c->ptr == q->old_ptr) {
        ex->realloc_pending = true;
        ex->realloc_seq = q->seq;
        ex->realloc_id = row.id;
    }
}

static void on_change(void *arg, const rcr_replay *r, const rcr_change *c) {
    exporter *ex = arg;
    /* A free is temporary when the replay counted it so just before
     * telling of it (replay.c, do_free). */
    bool temporary = r->totals.temporary != ex->temporary_seen;
    ex->temporary_seen = r->totals.temporary;
    heap_step(ex, r, c->time);
    if (!ex->rows || ex->failed || ex->oom)
        return;
    if (c->freed)
        block_ended(ex, r, c, temporary);
    else
        block_allocated(ex, r, c);
}

/* The entry of a thread number, added when new; NULL on out of memory. */
static thread_row *thread_add(exporter *ex, uint32_t number) {
    uintptr_t i;
    if (rci_htable_get(&ex->thread_of, (uintptr_t)number + 1, &i))
        return &ex->threads[i];
    if (ex->nthreads == ex->cap_threads) {
        size_t cap = ex->cap_threads ? 2 * ex->cap_threads : 8;
        thread_row *v = realloc(ex->threads, cap * sizeof *v);
        if (!v)
            return NULL;
        ex->threads = v;
        ex->cap_threads = cap;
    }
    if (rci_htable_put(&ex->thread_of, (uintptr_t)number + 1, ex->nthreads) != 0)
        return NULL;
    thread_row *t = &ex->threads[ex->nthreads++];
    *t = (thread_row){.number = number};
    return t;
}

static bool thread_seen(exporter *ex, uint32_t number) {
    if (ex->last_thread_known && ex->last_thread == number)
        return true;
    if (!thread_add(ex, number))
        return false;
    ex->last_thread = number;
    ex->last_thread_known = true;
    return true;
}

static bool thread_named(exporter *ex, const rccap_event *ev) {
    thread_row *t = thread_add(ex, ev->thread);
    if (!t)
        return false;
    t->named = true;
    t->os_tid = ev->u.thread.os_tid;
    const char *name = ev->u.thread.name;
    if (!name || !name[0])
        return true;           /* keeps the name it had, as `recycle stats` does */
    char *copy = strdup(name);
    if (!copy)
        return false;
    free(t->name);
    t->name = copy;
    return true;
}

static bool on_event(void *arg, const rccap_event *ev) {
    exporter *ex = arg;
    /* rcr_load initialises the replay, its header read, before it reads
     * the first record */
    if (!ex->replay->on_change) {
        ex->replay->on_change = on_change;
        ex->replay->change_arg = ex;
        ex->rows = ex->replay->header.sample_bytes == 0;
    }
    if (ex->oom)
        return false;
    switch (ev->kind) {
    case RCCAP_ALLOC:
    case RCCAP_REALLOC:
    case RCCAP_FREE:
        return thread_seen(ex, ev->thread);
    case RCCAP_THREAD:
        return thread_named(ex, ev);
    case RCCAP_MEMORY:
        if (!ex->failed) {
            ex->memory_rows[ex->nmemory++] =
                (small_row){{ev->time_ns, ev->u.memory.rss, ev->u.memory.heap, 0}};
            if (ex->nmemory == BATCH)
                batch_flush(ex);
        }
        return true;
    case RCCAP_LEAK: {
        /* The replay keeps one verdict per block, the first. */
        if (!ev->u.leak.ptr)
            return true;
        bool existed;
        uintptr_t *slot = rci_htable_slot(&ex->verdict, (uintptr_t)ev->u.leak.ptr, &existed);
        if (!slot)
            return false;
        if (!existed)
            *slot = 1 + (uintptr_t)ev->u.leak.state;
        return true;
    }
    default:
        return true;
    }
}

/* ---- rows written at the end -------------------------------------------------------- */

typedef struct leaked {
    uint64_t id, ptr;
    uint32_t block;
} leaked;

static int by_id(const void *a, const void *b) {
    uint64_t x = ((const leaked *)a)->id, y = ((const leaked *)b)->id;
    return (x > y) - (x < y);
}

/* The blocks live at the end, by id; false on out of memory. */
static bool write_leaked(exporter *ex) {
    rcr_replay *r = ex->replay;
    if (!ex->rows || !r->live.count)
        return true;
    leaked *v = malloc(r->live.count * sizeof *v);
    if (!v)
        return false;
    size_t n = 0, pos = 0;
    uintptr_t ptr, block;
    while (rci_htable_next(&r->live, &pos, &ptr, &block))
        if (block < ex->cap_live && ex->live[block].id)
            v[n++] = (leaked){.id = ex->live[block].id, .ptr = ptr, .block = (uint32_t)block};
    qsort(v, n, sizeof *v, by_id);
    for (size_t i = 0; i < n && !ex->failed; i++) {
        const rcr_block *b = &r->blocks[v[i].block];
        const live_row *row = &ex->live[v[i].block];
        const char *leak = NULL;
        uintptr_t state;
        if (r->have_leaks && (b->thread & RCR_BLOCK_JUDGED) &&
            rci_htable_get(&ex->verdict, (uintptr_t)v[i].ptr, &state))
            leak = state - 1 == RCCAP_LEAK_LOST ? "lost" : "reachable";
        allocation_row a = {
            .id = row->id,
            .address = v[i].ptr,
            .size = b->weight,
            .thread = b->thread & ~RCR_BLOCK_JUDGED,
            .stack = r->figures[b->figures].node,
            .allocator = row->allocator,
            .allocated_ns = row->allocated_ns,
            .realloc_from = row->realloc_from,
            .leak = leak,
        };
        insert_allocation(ex, &a);
    }
    free(v);
    return true;
}

/* ---- capture ---- */

static const char *end_name(rccap_end end) {
    switch (end) {
    case RCCAP_END_RETURNED: return "exit";
    case RCCAP_END_EXIT_NOW: return "_exit";
    case RCCAP_END_SIGNAL: return "signal";
    case RCCAP_END_EXEC: return "exec";
    case RCCAP_END_UNKNOWN: break;
    }
    return "unknown";
}

typedef struct kv {
    exporter *ex;
    sqlite3_stmt *st;
} kv;

static void put_int(kv *k, const char *name, uint64_t v) {
    if (k->ex->failed)
        return;
    sqlite3_bind_text(k->st, 1, name, -1, SQLITE_STATIC);
    bind_u64(k->st, 2, v);
    sql_step(k->ex, k->st);
}

static void put_text(kv *k, const char *name, const char *s) {
    if (k->ex->failed)
        return;
    sqlite3_bind_text(k->st, 1, name, -1, SQLITE_STATIC);
    bind_text(k->st, 2, s);
    sql_step(k->ex, k->st);
}

/* A figure known only with the preload's verdicts at exit: NULL without. */
static void put_verdict(kv *k, const char *name, uint64_t v) {
    if (k->ex->replay->have_leaks)
        put_int(k, name, v);
    else
        put_text(k, name, NULL);
}

static bool write_capture(exporter *ex, bool complete) {
    const rcr_replay *r = ex->replay;
    const rcr_totals *t = &r->totals;
    kv k = {.ex = ex};
    if (!sql_prepare(ex, "INSERT INTO capture VALUES (?1, ?2)", &k.st))
        return false;
    put_text(&k, "program", r->program);
    put_text(&k, "command_line", r->command_line);
    put_int(&k, "pid", r->header.pid);
    put_int(&k, "ppid", r->header.ppid);
    put_int(&k, "start_time_ns", r->header.start_realtime_ns);
    time_t secs = (time_t)(r->header.start_realtime_ns / 1000000000u);
    struct tm tm;
    char when[64] = "";
    if (gmtime_r(&secs, &tm))
        snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(r->header.start_realtime_ns / 1000000u % 1000u));
    put_text(&k, "start_time", when[0] ? when : NULL);
    put_text(&k, "end", end_name(r->end));
    if (rcr_ended_by_itself(r))
        put_int(&k, "exit_status", (uint64_t)(int64_t)r->exit_status);
    else
        put_text(&k, "exit_status", NULL);
    if (r->end == RCCAP_END_SIGNAL)
        put_int(&k, "signal", (uint64_t)(int64_t)r->exit_signal);
    else
        put_text(&k, "signal", NULL);
    put_int(&k, "duration_ns", t->duration_ns);
    put_int(&k, "complete", complete);
    put_int(&k, "sampled", r->header.sample_bytes != 0);
    put_int(&k, "sample_bytes", r->header.sample_bytes);
    put_int(&k, "frames", r->header.frames);
    put_int(&k, "page_size", r->header.page_size);
    put_int(&k, "format_version", r->header.version);
    put_text(&k, "recycle_version", RC_VERSION_STRING);
    put_int(&k, "records", t->records);
    put_int(&k, "threads", t->threads);
    put_int(&k, "allocations", t->allocations);
    put_int(&k, "frees", t->frees);
    put_int(&k, "bytes_allocated", t->bytes_allocated);
    put_int(&k, "peak_bytes", t->peak_bytes);
    put_int(&k, "peak_allocations", t->peak_allocations);
    put_int(&k, "peak_time_ns", t->peak_time_ns);
    put_int(&k, "leaked_bytes", t->leaked_bytes);
    put_int(&k, "leaked_allocations", t->leaked_allocations);
    put_verdict(&k, "definitely_lost_bytes", t->lost_bytes);
    put_verdict(&k, "definitely_lost_allocations", t->lost_allocations);
    put_verdict(&k, "still_reachable_bytes", t->reachable_bytes);
    put_verdict(&k, "still_reachable_allocations", t->reachable_allocations);
    put_int(&k, "temporary_allocations", t->temporary);
    put_int(&k, "peak_rss_bytes", t->peak_rss);
    put_int(&k, "late_records", t->late);
    sqlite3_finalize(k.st);
    return !ex->failed;
}

/* ---- modules, threads ---- */

static bool write_modules(exporter *ex) {
    const rcr_replay *r = ex->replay;
    sqlite3_stmt *st = NULL;
    if (!sql_prepare(ex, "INSERT INTO modules VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &st))
        return false;
    char hex[2 * RCCAP_BUILD_ID_MAX + 1];
    for (size_t i = 0; i < r->nmodules && !ex->failed; i++) {
        const rcr_module *m = &r->modules[i];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
        bind_text(st, 2, m->path && m->path[0] ? m->path : NULL);
        bind_u64(st, 3, m->start);
        bind_u64(st, 4, m->end);
        bind_u64(st, 5, m->offset);
        uint32_t n = m->build_id_len < RCCAP_BUILD_ID_MAX ? m->build_id_len : RCCAP_BUILD_ID_MAX;
        for (uint32_t j = 0; j < n; j++)
            snprintf(hex + 2 * j, 3, "%02x", m->build_id[j]);
        hex[2 * n] = '\0';
        bind_text(st, 6, n ? hex : NULL);
        sqlite3_bind_int(st, 7, m->runtime);
        sql_step(ex, st);
    }
    sqlite3_finalize(st);
    return !ex->failed;
}

static bool write_threads(exporter *ex) {
    sqlite3_stmt *st = NULL;
    if (!sql_prepare(ex, "INSERT INTO threads VALUES (?1, ?2, ?3)", &st))
        return false;
    for (size_t i = 0; i < ex->nthreads && !ex->failed; i++) {
        const thread_row *t = &ex->threads[i];
        sqlite3_bind_int64(st, 1, t->number);
        if (t->named)
            bind_u64(st, 2, t->os_tid);
        else
            sqlite3_bind_null(st, 2);
        bind_text(st, 3, t->name);
        sql_step(ex, st);
    }
    sqlite3_finalize(st);
    return !ex->failed;
}

/* ---- frames, stacks, sites ---- */

typedef struct stack_writer {
    exporter *ex;
    rcr_keys frame_of;         /* the frame's key -> its id */
    uint32_t nframes;
    uint32_t *node_frames;     /* per stack node: how many frames its pc stands
                                  for; 0 until its rows are written */
    sqlite3_stmt *insert_frame, *insert_node, *insert_node_frame, *insert_stack;
} stack_writer;

/* The id of the frame (module, function, file, line), or (module,
 * offset) when both function and file are unknown, inserted when new;
 * false on out of memory or a SQLite error. */
static bool frame_id(stack_writer *w, uint32_t module, const char *function, const char *file,
                     int line, uint64_t offset, uint32_t *out) {
    bool symbol = function || file;
    char *key;
    if (asprintf(&key, "%" PRIu32 "\x1f%s\x1f%s\x1f%d\x1f%" PRIx64, module,
                 function ? function : "\x1e", file ? file : "\x1e", line,
                 symbol ? 0 : offset) < 0)
        return false;
    bool existed;
    bool ok = rcr_keys_find_or_add(&w->frame_of, key, w->nframes + 1, out, &existed);
    free(key);
    if (!ok || existed)
        return ok;
    w->nframes++;
    sqlite3_stmt *st = w->insert_frame;
    sqlite3_bind_int64(st, 1, *out);
    bind_text(st, 2, function);
    bind_text(st, 3, file);
    if (line)
        sqlite3_bind_int(st, 4, line);
    else
        sqlite3_bind_null(st, 4);
    if (module != RCR_NONE)
        sqlite3_bind_int64(st, 5, module);
    else
        sqlite3_bind_null(st, 5);
    if (symbol)
        sqlite3_bind_null(st, 6);
    else
        bind_u64(st, 6, offset);
    return sql_step(w->ex, st);
}

/* The rows of stack node id (its stack_nodes row and its frames), once;
 * false on out of memory or a SQLite error. */
static bool write_node(stack_writer *w, uint32_t id) {
    if (w->node_frames[id])
        return true;
    exporter *ex = w->ex;
    rcr_replay *r = ex->replay;
    rcs_frame f[MAX_INLINE];
    size_t k = rcr_frames_of(r, id, f, MAX_INLINE);
    if (k > MAX_INLINE)
        k = MAX_INLINE;
    rcr_frame plain;
    rcr_frame_of(r, id, &plain);
    uint32_t module = rcr_replay_module_of(r, id);
    /* Without symbols the pc is one frame, named by its module and offset. */
    size_t n = k ? k : 1;
    sqlite3_stmt *st = w->insert_node_frame;
    for (size_t i = 0; i < n; i++) {
        uint32_t frame;
        bool ok = k ? frame_id(w, module, f[i].function, f[i].file, f[i].line, plain.offset, &frame)
                    : frame_id(w, module, plain.function, plain.file, plain.line, plain.offset,
                               &frame);
        if (!ok)
            return false;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_int64(st, 3, frame);
        sqlite3_bind_int(st, 4, k && f[i].inlined);
        if (!sql_step(ex, st))
            return false;
    }
    st = w->insert_node;
    const rcr_node *node = &r->nodes[id];
    sqlite3_bind_int64(st, 1, id);
    if (node->parent)
        sqlite3_bind_int64(st, 2, node->parent);
    else
        sqlite3_bind_null(st, 2);
    bind_u64(st, 3, node->pc);
    if (module != RCR_NONE)
        sqlite3_bind_int64(st, 4, module);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)n);
    if (!sql_step(ex, st))
        return false;
    w->node_frames[id] = (uint32_t)n;
    return true;
}

/* The key that makes two site nodes one site of `recycle report` (by
 * line): sites.c's, the same text. */
static void site_key(const rcr_frame *f, char *buf, size_t len) {
    if (f->file)
        snprintf(buf, len, "l\x1f%s\x1f%s\x1f%d", f->function ? f->function : "", f->file,
                 f->line);
    else
        snprintf(buf, len, "a\x1f%s\x1f%llx", f->module ? f->module : "",
                 (unsigned long long)f->offset);
}

/* Bind the figures from parameter `at` on: 12 of them, in the order of the
 * columns of sites and stacks. */
static void bind_figures(sqlite3_stmt *st, int at, const rcr_figures *f, bool have_leaks) {
    bind_u64(st, at++, f->allocations);
    bind_u64(st, at++, f->bytes);
    bind_u64(st, at++, f->frees);
    bind_u64(st, at++, f->peak_bytes);
    bind_u64(st, at++, f->peak_allocations);
    bind_u64(st, at++, f->live_bytes);
    bind_u64(st, at++, f->live_allocations);
    const uint64_t verdicts[] = {f->lost_bytes, f->lost_allocations, f->reachable_bytes,
                                 f->reachable_allocations};
    for (size_t i = 0; i < 4; i++, at++) {
        if (have_leaks)
            bind_u64(st, at, verdicts[i]);
        else
            sqlite3_bind_null(st, at);
    }
    bind_u64(st, at, f->temporary);
}

/* The sites of the report, by bytes as its JSON lists them, numbered from
 * 1 in that order; their keys into *keys. false on out of memory or a
 * SQLite error. */
static bool write_sites(exporter *ex, rcr_keys *keys) {
    rcr_replay *r = ex->replay;
    rcr_sites sites;
    if (!rcr_sites_build(r, RCR_BY_LINE, &sites))
        return false;
    rcr_sites_sort(&sites, RCR_METRIC_BYTES);
    sqlite3_stmt *st = NULL;
    bool ok = sql_prepare(ex,
                          "INSERT INTO sites VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                          "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
                          &st);
    char key[8192];
    for (size_t i = 0; ok && i < sites.n; i++) {
        const rcr_site *s = &sites.v[i];
        site_key(&s->frame, key, sizeof key);
        uint32_t found;
        bool existed;
        if (!rcr_keys_find_or_add(keys, key, (uint32_t)i + 1, &found, &existed)) {
            ok = false;
            break;
        }
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
        bind_text(st, 2, s->frame.function);
        bind_text(st, 3, s->frame.file);
        if (s->frame.line)
            sqlite3_bind_int(st, 4, s->frame.line);
        else
            sqlite3_bind_null(st, 4);
        uint32_t m = rcr_replay_module_of(r, s->node);
        if (m != RCR_NONE)
            sqlite3_bind_int64(st, 5, m);
        else
            sqlite3_bind_null(st, 5);
        bind_u64(st, 6, s->frame.offset);
        bind_figures(st, 7, &s->fig, r->have_leaks);
        ok = sql_step(ex, st);
    }
    sqlite3_finalize(st);
    rcr_sites_free(&sites);
    return ok;
}

/* One stack id with figures: its row, and the rows of its nodes not
 * written yet; false on out of memory or a SQLite error. */
static bool write_stack(stack_writer *w, const rcr_keys *site_ids, const rcr_figures *fig) {
    exporter *ex = w->ex;
    rcr_replay *r = ex->replay;
    uint32_t id = fig->node;
    uint32_t site = id ? rcr_replay_site_of(r, id) : 0;
    /* The frames inside the allocator: those of the nodes below the site. */
    uint64_t runtime_frames = 0;
    for (uint32_t n = id; n != site; n = r->nodes[n].parent) {
        if (!write_node(w, n))
            return false;
        runtime_frames += w->node_frames[n];
    }
    /* From the site outward, up to a node written before (and so its
     * callers). */
    for (uint32_t n = site; n != 0 && n < r->nnodes && !w->node_frames[n]; n = r->nodes[n].parent)
        if (!write_node(w, n))
            return false;

    rcr_frame f;
    rcr_frame_of(r, site, &f);
    char key[8192];
    site_key(&f, key, sizeof key);
    uint32_t site_id;
    if (!rcr_keys_find(site_ids, key, &site_id))
        site_id = 0;           /* cannot be: every site node has its site */
    sqlite3_stmt *st = w->insert_stack;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, site_id);
    bind_u64(st, 3, runtime_frames);
    bind_figures(st, 4, fig, r->have_leaks);
    return sql_step(ex, st);
}

static bool write_stacks(exporter *ex) {
    rcr_replay *r = ex->replay;
    rcr_keys site_ids = {0};
    stack_writer w = {.ex = ex};
    bool ok = write_sites(ex, &site_ids) &&
              sql_prepare(ex, "INSERT INTO frames VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          &w.insert_frame) &&
              sql_prepare(ex, "INSERT INTO stack_nodes VALUES (?1, ?2, ?3, ?4, ?5)",
                          &w.insert_node) &&
              sql_prepare(ex, "INSERT INTO node_frames VALUES (?1, ?2, ?3, ?4)",
                          &w.insert_node_frame) &&
              sql_prepare(ex,
                          "INSERT INTO stacks VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                          "?11, ?12, ?13, ?14, ?15)",
                          &w.insert_stack);
    if (ok && r->nnodes && !(w.node_frames = calloc(r->nnodes, sizeof *w.node_frames)))
        ok = false;
    for (size_t i = 0; ok && i < r->nfigures; i++)
        ok = write_stack(&w, &site_ids, &r->figures[i]);
    sqlite3_finalize(w.insert_frame);
    sqlite3_finalize(w.insert_node);
    sqlite3_finalize(w.insert_node_frame);
    sqlite3_finalize(w.insert_stack);
    free(w.node_frames);
    rcr_keys_free(&w.frame_of);
    rcr_keys_free(&site_ids);
    return ok;
}

/* ---- the whole -------------------------------------------------------------------- */

static bool open_database(exporter *ex) {
    /* Two threads use the connection in turn, never at once (the inserter
     * while the capture is read, this one before and after; batch_flush and
     * inserter_stop hand it over under ins.lock): no mutex around each call. */
    int rc = sqlite3_open_v2(ex->path, &ex->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK)
        return sql_failed(ex, rc);
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA page_size = %d; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
             "PRAGMA cache_size = -%d; PRAGMA user_version = %d;",
             PAGE_SIZE, CACHE_KIB, SCHEMA_VERSION);
    if (!sql_exec(ex, pragmas) || !sql_exec(ex, "BEGIN"))
        return false;
    for (size_t i = 0; i < sizeof SCHEMA / sizeof SCHEMA[0]; i++)
        if (!sql_exec(ex, SCHEMA[i]))
            return false;
    rc = sqlite3_create_module_v2(ex->db, "recycle_batch", &batch_module, ex, NULL);
    if (rc != SQLITE_OK)
        return sql_failed(ex, rc);
    return sql_prepare(ex, "INSERT INTO allocations SELECT * FROM recycle_batch",
                       &ex->insert_batch) &&
           sql_prepare(ex, "INSERT INTO memory VALUES (?1, ?2, ?3)", &ex->insert_memory) &&
           sql_prepare(ex, "INSERT INTO heap VALUES (?1, ?2, ?3, ?4)", &ex->insert_heap);
}

static void exporter_free(exporter *ex) {
    inserter_stop(ex);
    pthread_mutex_destroy(&ex->ins.lock);
    pthread_cond_destroy(&ex->ins.cond);
    sqlite3_finalize(ex->insert_batch);
    free(ex->batch);
    free(ex->ins.spare);
    free(ex->heap_rows);
    free(ex->ins.heap_spare);
    free(ex->memory_rows);
    free(ex->ins.memory_spare);
    sqlite3_finalize(ex->insert_memory);
    sqlite3_finalize(ex->insert_heap);
    if (ex->db)
        sqlite3_close(ex->db);
    free(ex->live);
    for (size_t i = 0; i < ex->nthreads; i++)
        free(ex->threads[i].name);
    free(ex->threads);
    rci_htable_free(&ex->thread_of);
    rci_htable_free(&ex->verdict);
}

/* What went wrong, on err; 1. */
static int failure(const exporter *ex, FILE *err) {
    if (ex->oom)
        fprintf(err, MSG "out of memory\n");
    else if (ex->failed)
        fprintf(err, MSG "%s: %s\n", ex->path, ex->error);
    else
        fprintf(err, MSG "out of memory\n");
    return 1;
}

int rcr_export_sqlite(const char *path, const rcr_export_options *o, FILE *err) {
    if (!o->database) {
        fprintf(err, MSG "--format sqlite writes a database file: give it with -o FILE\n");
        return 1;
    }
    exporter ex = {.path = o->database};
    rci_htable_init(&ex.thread_of);
    rci_htable_init(&ex.verdict);
    pthread_mutex_init(&ex.ins.lock, NULL);
    pthread_cond_init(&ex.ins.cond, NULL);
    ex.batch = malloc(BATCH * sizeof *ex.batch);
    ex.ins.spare = malloc(BATCH * sizeof *ex.ins.spare);
    ex.heap_rows = malloc(BATCH * sizeof *ex.heap_rows);
    ex.ins.heap_spare = malloc(BATCH * sizeof *ex.ins.heap_spare);
    ex.memory_rows = malloc(BATCH * sizeof *ex.memory_rows);
    ex.ins.memory_spare = malloc(BATCH * sizeof *ex.ins.memory_spare);
    if (!ex.batch || !ex.ins.spare || !ex.heap_rows || !ex.ins.heap_spare || !ex.memory_rows ||
        !ex.ins.memory_spare) {
        fprintf(err, MSG "out of memory\n");
        exporter_free(&ex);
        return 1;
    }
    if (!open_database(&ex)) {
        int status = failure(&ex, err);
        exporter_free(&ex);
        return status;
    }
    /* without a thread the batches are inserted in line (slower, as sure) */
    ex.ins.started = pthread_create(&ex.ins.thread, NULL, inserter_main, &ex) == 0;
    rcr_replay replay;
    ex.replay = &replay;
    bool complete;
    rcr_load_options lo = {
        .prefix = MSG, .progress = o->progress, .on_event = on_event, .arg = &ex};
    if (rcr_load(path, &lo, &replay, &complete, err) != 0) {
        exporter_free(&ex);
        return 1;
    }
    bool ok = !ex.oom && !ex.failed && write_leaked(&ex);
    if (ok) {
        heap_flush(&ex);
        batch_flush(&ex);
        if (ex.ins.started)
            inserter_wait(&ex);
    }
    inserter_stop(&ex);
    ok = ok && !ex.failed && write_capture(&ex, complete) && write_modules(&ex) &&
         write_threads(&ex) && write_stacks(&ex) && sql_exec(&ex, INDEXES) &&
         sql_exec(&ex, "COMMIT");
    int status = ok ? 0 : failure(&ex, err);
    rcr_replay_free(&replay);
    exporter_free(&ex);
    return status;
}
