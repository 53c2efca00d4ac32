/* fuzz_capture_read.c - the capture reader on arbitrary bytes.
 *
 * Input: the bytes of a capture file (the seeds are captures that
 * tests/unit/test_capture.c writes). The reader runs twice: with the
 * checksum tests and without them (RCCAP_READ_NO_CHECKSUM), so that mutated
 * inputs, whose checksums are almost never right, still reach every
 * structural check. Checked:
 *
 *   - the reader's contract: open gives a reader or a message; next gives
 *     1 with an event, or 0 (the end; truncation only then) or -1 with a
 *     message naming an offset, and stays there; progress never goes back
 *     and never passes the input's size;
 *   - a model of what a reader may return: kinds, functions, ways of
 *     ending and leak states in range, strings terminated within their
 *     limits, modules that do not wrap, and the stack ids held to the
 *     rules of capture.h by a set the target keeps itself (defined once,
 *     parents and allocations naming defined ids, ids within the bound);
 *   - what is accepted with the checksums is accepted without, record for
 *     record;
 *   - the events read (the first MAX_KEPT) are written again by the
 *     writer, compressed or raw, with or without the pointer model, and
 *     read back equal, header included. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fuzz.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "capture/capture.h"

#define MAX_KEPT 20000

/* An event with its strings copied (the reader's stay valid only until
 * its next call). */
typedef struct kept {
    rccap_event ev;
    char *path, *name;
    uint8_t *build_id;
} kept;

static void keep(kept *k, const rccap_event *ev) {
    k->ev = *ev;
    k->path = k->name = NULL;
    k->build_id = NULL;
    if (ev->kind == RCCAP_MODULE) {
        if (ev->u.module.path)
            k->path = strdup(ev->u.module.path);
        if (ev->u.module.build_id_len) {
            k->build_id = malloc(ev->u.module.build_id_len);
            FZ_CHECK(k->build_id != NULL, "out of memory");
            memcpy(k->build_id, ev->u.module.build_id, ev->u.module.build_id_len);
        }
        k->ev.u.module.path = k->path;
        k->ev.u.module.build_id = k->build_id;
    } else if (ev->kind == RCCAP_THREAD && ev->u.thread.name) {
        k->name = strdup(ev->u.thread.name);
        k->ev.u.thread.name = k->name;
    }
}

static void unkeep(kept *k) {
    free(k->path);
    free(k->name);
    free(k->build_id);
}

static int str_same(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same(const rccap_event *a, const rccap_event *b) {
    if (a->kind != b->kind || a->time_ns != b->time_ns || a->thread != b->thread)
        return 0;
    switch (a->kind) {
    case RCCAP_ALLOC:
        return a->u.alloc.ptr == b->u.alloc.ptr && a->u.alloc.size == b->u.alloc.size &&
               a->u.alloc.stack == b->u.alloc.stack && a->u.alloc.fn == b->u.alloc.fn &&
               a->u.alloc.weight == b->u.alloc.weight;
    case RCCAP_FREE:
        return a->u.free.ptr == b->u.free.ptr;
    case RCCAP_REALLOC:
        return a->u.realloc.old_ptr == b->u.realloc.old_ptr &&
               a->u.realloc.ptr == b->u.realloc.ptr && a->u.realloc.size == b->u.realloc.size &&
               a->u.realloc.stack == b->u.realloc.stack &&
               a->u.realloc.weight == b->u.realloc.weight;
    case RCCAP_STACK:
        return a->u.stack.id == b->u.stack.id && a->u.stack.parent == b->u.stack.parent &&
               a->u.stack.pc == b->u.stack.pc;
    case RCCAP_MODULE:
        return a->u.module.start == b->u.module.start && a->u.module.end == b->u.module.end &&
               a->u.module.offset == b->u.module.offset &&
               str_same(a->u.module.path, b->u.module.path) &&
               a->u.module.build_id_len == b->u.module.build_id_len &&
               (!a->u.module.build_id_len ||
                memcmp(a->u.module.build_id, b->u.module.build_id, a->u.module.build_id_len) == 0);
    case RCCAP_THREAD:
        return a->u.thread.os_tid == b->u.thread.os_tid &&
               str_same(a->u.thread.name, b->u.thread.name);
    case RCCAP_MEMORY:
        return a->u.memory.rss == b->u.memory.rss && a->u.memory.heap == b->u.memory.heap;
    case RCCAP_EXIT:
        return a->u.exit.how == b->u.exit.how && a->u.exit.status == b->u.exit.status &&
               a->u.exit.signal == b->u.exit.signal;
    case RCCAP_LEAK:
        return a->u.leak.ptr == b->u.leak.ptr && a->u.leak.state == b->u.leak.state;
    case RCCAP_SYNC:
        return a->u.sync.lag == b->u.sync.lag;
    case RCCAP_GC:
        return a->u.gc.generation == b->u.gc.generation &&
               a->u.gc.collected == b->u.gc.collected &&
               a->u.gc.uncollectable == b->u.gc.uncollectable &&
               a->u.gc.duration_ns == b->u.gc.duration_ns && a->u.gc.steps == b->u.gc.steps;
    default:
        return 0;
    }
}

/* ---- the model of stack ids ---- */

typedef struct ids {
    uint8_t *bits;
    size_t nbytes;
    uint64_t defined;
} ids;

static int id_defined(const ids *s, uint32_t id) {
    return id == 0 || ((size_t)id / 8 < s->nbytes && (s->bits[id / 8] >> (id % 8) & 1));
}

static void id_define(ids *s, uint32_t id) {
    size_t need = (size_t)id / 8 + 1;
    if (need > s->nbytes) {
        uint8_t *nb = realloc(s->bits, need);
        FZ_CHECK(nb != NULL, "out of memory for %zu bytes", need);
        memset(nb + s->nbytes, 0, need - s->nbytes);
        s->bits = nb;
        s->nbytes = need;
    }
    s->bits[id / 8] |= (uint8_t)(1u << (id % 8));
    s->defined++;
}

static size_t str_len_within(const char *s, size_t max) {
    size_t n = 0;
    while (n <= max && s[n])
        n++;
    return n;
}

/* An event the reader returned, against the model. */
static void check_event(ids *s, const rccap_event *ev) {
    FZ_CHECK(ev->kind >= RCCAP_ALLOC && ev->kind < RCCAP_KIND_MAX, "kind %d", ev->kind);
    switch (ev->kind) {
    case RCCAP_ALLOC:
        FZ_CHECK((unsigned)ev->u.alloc.fn < RCCAP_FN_MAX, "fn %d", ev->u.alloc.fn);
        FZ_CHECK(id_defined(s, ev->u.alloc.stack), "alloc names undefined stack %u",
                 ev->u.alloc.stack);
        break;
    case RCCAP_REALLOC:
        FZ_CHECK(id_defined(s, ev->u.realloc.stack), "realloc names undefined stack %u",
                 ev->u.realloc.stack);
        break;
    case RCCAP_STACK: {
        uint32_t id = ev->u.stack.id;
        FZ_CHECK(id != 0 && !id_defined(s, id), "stack %u defined twice or zero", id);
        FZ_CHECK(id_defined(s, ev->u.stack.parent), "stack %u: parent %u undefined", id,
                 ev->u.stack.parent);
        FZ_CHECK(id <= 2 * s->defined + RCCAP_STACK_ID_SLACK, "stack %u beyond the bound (%llu)",
                 id, (unsigned long long)s->defined);
        id_define(s, id);
        break;
    }
    case RCCAP_MODULE:
        FZ_CHECK(ev->u.module.end >= ev->u.module.start, "module wraps");
        if (ev->u.module.path)
            FZ_CHECK(str_len_within(ev->u.module.path, RCCAP_STRING_MAX) <= RCCAP_STRING_MAX,
                     "module path too long");
        FZ_CHECK(ev->u.module.build_id_len <= RCCAP_BUILD_ID_MAX, "build id of %u bytes",
                 ev->u.module.build_id_len);
        FZ_CHECK(!ev->u.module.build_id_len || ev->u.module.build_id, "build id without bytes");
        break;
    case RCCAP_THREAD:
        if (ev->u.thread.name)
            FZ_CHECK(str_len_within(ev->u.thread.name, RCCAP_STRING_MAX) <= RCCAP_STRING_MAX,
                     "thread name too long");
        break;
    case RCCAP_EXIT:
        FZ_CHECK((unsigned)ev->u.exit.how <= RCCAP_END_UNKNOWN, "how %d", ev->u.exit.how);
        break;
    case RCCAP_LEAK:
        FZ_CHECK((unsigned)ev->u.leak.state <= RCCAP_LEAK_LOST, "leak state %d",
                 ev->u.leak.state);
        break;
    default:
        break;
    }
}

/* Read everything of r, checking the contract and the model; the events
 * (up to MAX_KEPT) go to out when it is not NULL. Returns the last result
 * of next (0 or -1) and the number of events in *n. */
static int read_all(rccap_reader *r, size_t size, kept *out, size_t *n, size_t *nkept) {
    ids s = {NULL, 0, 0};
    uint64_t last = 0, done, total;
    rccap_event ev;
    int k;
    *n = *nkept = 0;
    while ((k = rccap_reader_next(r, &ev)) == 1) {
        check_event(&s, &ev);
        rccap_reader_progress(r, &done, &total);
        FZ_CHECK(done >= last && done <= total && total <= size, "progress %llu/%llu of %zu",
                 (unsigned long long)done, (unsigned long long)total, size);
        last = done;
        if (out && *nkept < MAX_KEPT)
            keep(&out[(*nkept)++], &ev);
        (*n)++;
        FZ_CHECK(!rccap_reader_truncated(r), "truncated before the end");
    }
    FZ_CHECK(k == 0 || k == -1, "next returned %d", k);
    const char *err = rccap_reader_error(r);
    if (k < 0)
        FZ_CHECK(*err && strstr(err, "offset"), "damage without an offset: \"%s\"", err);
    else
        FZ_CHECK(!*err, "an end with an error: \"%s\"", err);
    FZ_CHECK(rccap_reader_next(r, &ev) == k, "the end did not stay the end");
    free(s.bits);
    return k;
}

/* Write the kept events again and read them back. */
static void rewrite(const rccap_header *h, const kept *ev, size_t n, unsigned how) {
    int fd = memfd_create("fuzz-capture", MFD_CLOEXEC);
    FZ_CHECK(fd >= 0, "memfd_create");
    int err;
    rccap_writer *w = rccap_writer_open(fd, h, 1, &err);
    FZ_CHECK(w != NULL, "writer: error %d", err);
    size_t cap = (how & 1) ? 4096 + RCCAP_STRING_MAX * 2 : 1 << 16;
    uint8_t *buf = malloc(cap);
    FZ_CHECK(buf != NULL, "out of memory");
    rccap_encoder e;
    rccap_encoder_init(&e, buf, cap);
    void *model = NULL;
    if (how & 2) {
        size_t size = rccap_model_size(64);
        model = aligned_alloc(64, (size + 63) & ~(size_t)63);
        FZ_CHECK(model && rccap_encoder_set_model(&e, model, size, 64), "model");
    }
    for (size_t i = 0; i <= n; i++) {
        if (i < n && rccap_encode(&e, &ev[i].ev))
            continue;
        int rc = (how & 4) ? rccap_writer_chunk(w, &e) : rccap_writer_chunk_raw(w, &e);
        FZ_CHECK(rc == 0, "chunk: error %d", rc);
        rccap_encoder_reset(&e);
        if (i < n)
            FZ_CHECK(rccap_encode(&e, &ev[i].ev), "event %zu (kind %d) was read but cannot be "
                     "written", i, ev[i].ev.kind);
    }
    FZ_CHECK(rccap_writer_close(w) == 0, "close");
    free(buf);
    free(model);

    off_t len = lseek(fd, 0, SEEK_END);
    uint8_t *data = malloc(len > 0 ? (size_t)len : 1);
    FZ_CHECK(data && pread(fd, data, (size_t)len, 0) == len, "read back");
    close(fd);
    char msg[256];
    rccap_reader *r = rccap_reader_open_mem(data, (size_t)len, 0, msg, sizeof msg);
    FZ_CHECK(r != NULL, "rewritten capture: %s", msg);
    const rccap_header *g = rccap_reader_header(r);
    FZ_CHECK(g->frames == h->frames && g->sample_bytes == h->sample_bytes && g->pid == h->pid &&
                 g->ppid == h->ppid && g->start_realtime_ns == h->start_realtime_ns &&
                 g->page_size == h->page_size && strcmp(g->program, h->program) == 0 &&
                 strcmp(g->command_line, h->command_line) == 0,
             "rewritten header differs");
    rccap_event got;
    size_t i = 0;
    int k;
    while ((k = rccap_reader_next(r, &got)) == 1) {
        FZ_CHECK(i < n, "rewritten capture has more than %zu events", n);
        FZ_CHECK(same(&got, &ev[i].ev), "rewritten event %zu (kind %d) differs", i, got.kind);
        i++;
    }
    FZ_CHECK(k == 0 && !rccap_reader_truncated(r), "rewritten capture: %s",
             rccap_reader_error(r));
    FZ_CHECK(i == n, "rewritten capture has %zu of %zu events", i, n);
    rccap_reader_close(r);
    free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char msg_checked[256] = "", msg[256] = "";
    rccap_reader *checked = rccap_reader_open_mem(data, size, 0, msg_checked, sizeof msg_checked);
    rccap_reader *r = rccap_reader_open_mem(data, size, RCCAP_READ_NO_CHECKSUM, msg, sizeof msg);
    FZ_CHECK(checked || *msg_checked, "open failed without a message");
    FZ_CHECK(r || *msg, "open failed without a message (no checksums)");
    FZ_CHECK(!checked || r, "opened only with the checksums: %s", msg);
    if (!r)
        return 0;

    kept *ev = calloc(MAX_KEPT, sizeof *ev);
    FZ_CHECK(ev != NULL, "out of memory");
    size_t n, nkept;
    int k = read_all(r, size, ev, &n, &nkept);

    if (checked) {
        /* the checked reader returns the same events, and ends where the
         * unchecked one does unless a checksum stops it first */
        rccap_event e1;
        size_t i = 0;
        int k1;
        while ((k1 = rccap_reader_next(checked, &e1)) == 1) {
            FZ_CHECK(i < n, "more events with the checksums than without");
            if (i < nkept)
                FZ_CHECK(same(&e1, &ev[i].ev), "event %zu differs with the checksums", i);
            i++;
        }
        if (k1 == 0) {
            FZ_CHECK(i == n && k == 0, "checked read ends at %zu of %zu (unchecked %d)", i, n,
                     k);
            FZ_CHECK(rccap_reader_truncated(checked) == rccap_reader_truncated(r),
                     "truncation differs");
        } else {
            FZ_CHECK(*rccap_reader_error(checked), "checked damage without a message");
        }
        rccap_reader_close(checked);
    }

    rewrite(rccap_reader_header(r), ev, nkept, (unsigned)(size % 8));
    rccap_reader_close(r);
    for (size_t i = 0; i < nkept; i++)
        unkeep(&ev[i]);
    free(ev);
    return 0;
}
