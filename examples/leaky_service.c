/* leaky_service.c - the program `make demo` profiles with `recycle run`: a
 * small "service" that has every problem a memory profiler should find,
 * each in a function of its own so that the report names it.
 *
 *   load_batch      a clear peak: 2 000 records of 4 KiB held at once
 *                   (8 MB), then freed
 *   cache_forever   still reachable at exit: a table a global points to
 *   lose_session    definitely lost: a linked list whose head is dropped
 *   format_lines    temporary allocations: a string made and freed at once,
 *                   1 000 times
 *   build_graph     recycle objects with reference cycles, which only the
 *                   cycle collector frees
 *
 * It prints what it did, so that the report can be read against it, and
 * checks its own results (the example test runs it plainly). */
#include <recycle.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

enum { BATCH = 2000, RECORD = 4096, CACHE = 64, SESSION = 100, LINES = 1000 };

typedef struct node {
    struct node *next;
    char payload[48];
} node;

/* Still reachable at exit, on purpose. Not static: a static that is never
 * read could lose its stores to the optimiser, and the table with them. */
extern void **service_cache;
void **service_cache;

static void die(const char *what) {
    fprintf(stderr, "leaky_service: %s\n", what);
    exit(1);
}

static NOINLINE size_t load_batch(void) {
    char **records = malloc(BATCH * sizeof *records);
    if (!records)
        die("out of memory");
    size_t sum = 0;
    for (int i = 0; i < BATCH; i++) {
        records[i] = malloc(RECORD);
        if (!records[i])
            die("out of memory");
        memset(records[i], i & 0xff, RECORD);
    }
    for (int i = 0; i < BATCH; i++) {
        sum += (unsigned char)records[i][i % RECORD];
        free(records[i]);
    }
    free(records);
    return sum;
}

static NOINLINE void cache_forever(void) {
    service_cache = calloc(CACHE, sizeof *service_cache);
    if (!service_cache)
        die("out of memory");
    for (int i = 0; i < CACHE; i++) {
        service_cache[i] = malloc(256);
        if (!service_cache[i])
            die("out of memory");
    }
}

static NOINLINE int lose_session(void) {
    node *head = NULL;
    for (int i = 0; i < SESSION; i++) {
        node *n = malloc(sizeof *n);
        if (!n)
            die("out of memory");
        snprintf(n->payload, sizeof n->payload, "request %d", i);
        n->next = head;
        head = n;
    }
    int count = 0;
    for (node *n = head; n; n = n->next)
        count++;
    head = NULL;   /* the list is lost: no pointer to it remains */
    return count;
}

static NOINLINE size_t format_lines(void) {
    size_t total = 0;
    for (int i = 0; i < LINES; i++) {
        char *line = malloc(64);
        if (!line)
            die("out of memory");
        total += (size_t)snprintf(line, 64, "line %d of the log", i);
        free(line);
    }
    return total;
}

typedef struct peer {
    rc_obj ob;
    rc_obj *other;
} peer;

static int peer_traverse(rc_obj *self, rc_visitfn visit, void *arg) {
    peer *p = (peer *)self;
    return p->other ? visit(p->other, arg) : 0;
}

static void peer_clear(rc_obj *self) {
    peer *p = (peer *)self;
    rc_obj *x = p->other;
    p->other = NULL;
    rc_xdecref(x);
}

static const rc_type peer_type = {
    .name = "peer", .size = sizeof(peer), .flags = RC_TYPE_GC,
    .traverse = peer_traverse, .clear = peer_clear,
};

/* Pairs of objects that point at each other: dropping the program's
 * references leaves every pair alive until the collector finds them. */
static NOINLINE size_t build_graph(rc_runtime *rt) {
    enum { PAIRS = 500 };
    size_t base = rc_runtime_object_count(rt);
    for (int i = 0; i < PAIRS; i++) {
        peer *a = (peer *)rc_new(rt, &peer_type), *b = (peer *)rc_new(rt, &peer_type);
        if (!a || !b)
            die("out of memory");
        rc_incref(&a->ob);
        rc_incref(&b->ob);
        a->other = &b->ob;
        b->other = &a->ob;
        rc_decref(&a->ob);
        rc_decref(&b->ob);
    }
    /* the collector may have run already (its thresholds); what is left of
     * the pairs goes now */
    rc_gc_collect(rt, 2);
    if (rc_runtime_object_count(rt) != base)
        die("the cycles were not collected");
    return 2 * PAIRS;
}

int main(void) {
    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        die("rc_runtime_new failed");
    size_t sum = load_batch();
    cache_forever();
    int lost = lose_session();
    size_t chars = format_lines();
    size_t freed = build_graph(rt);
    printf("load_batch:    peak of %d records of %d bytes (%d KiB), all freed (checksum %zu)\n", BATCH,
           RECORD, BATCH * RECORD / 1024, sum);
    printf("cache_forever: %d blocks of 256 bytes and a %zu-byte table, still reachable at exit\n", CACHE,
           CACHE * sizeof *service_cache);
    printf("lose_session:  %d nodes of %zu bytes, definitely lost\n", lost, sizeof(node));
    printf("format_lines:  %d temporary blocks of 64 bytes (%zu characters)\n", LINES, chars);
    printf("build_graph:   %zu objects in reference cycles, freed by the cycle collector\n", freed);
    rc_runtime_free(rt);
    return lost == SESSION && chars > 0 ? 0 : 1;
}
