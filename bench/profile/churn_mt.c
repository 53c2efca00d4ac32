/* churn_mt.c - a multi-threaded allocation churn, shaped like a server:
 * each thread keeps a working set of requests (a struct with a header, a
 * name string and a body buffer of a few hundred bytes to a few KiB),
 * replaces one at random per step, and hands every 16th request to the next
 * thread, which frees it (cross-thread frees, as producer/consumer code does).
 *
 *   churn_mt THREADS STEPS_PER_THREAD
 *
 * Output: "@ threads=... steps=... time_s=..." and a checksum line. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SET = 512, HANDOFF = 64 };

typedef struct request {
    uint64_t id;
    char *name;
    unsigned char *body;
    size_t body_len;
} request;

typedef struct mailbox {
    pthread_mutex_t lock;
    request *slot[HANDOFF];
    int count;
} mailbox;

typedef struct worker {
    pthread_t thread;
    int index;
    long steps;
    uint64_t rng;
    uint64_t checksum;
    struct worker *next;
    mailbox box;
} worker;

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void die(const char *what) {
    fprintf(stderr, "churn_mt: %s\n", what);
    exit(1);
}

static request *request_new(uint64_t *rng, uint64_t id) {
    request *r = malloc(sizeof *r);
    if (!r)
        die("out of memory");
    r->id = id;
    r->name = malloc(24 + rnd(rng) % 40);
    r->body_len = 200 + rnd(rng) % 3800;
    r->body = malloc(r->body_len);
    if (!r->name || !r->body)
        die("out of memory");
    snprintf(r->name, 24, "req-%llu", (unsigned long long)id);
    memset(r->body, (int)(id & 0xff), r->body_len);
    return r;
}

static uint64_t request_free(request *r) {
    uint64_t sum = r->id + r->body[r->body_len - 1] + (unsigned char)r->name[0];
    free(r->body);
    free(r->name);
    free(r);
    return sum;
}

static void drain(worker *w) {
    pthread_mutex_lock(&w->box.lock);
    for (int i = 0; i < w->box.count; i++)
        w->checksum += request_free(w->box.slot[i]);
    w->box.count = 0;
    pthread_mutex_unlock(&w->box.lock);
}

static void *run(void *arg) {
    worker *w = arg;
    request *set[SET];
    for (int i = 0; i < SET; i++)
        set[i] = request_new(&w->rng, (uint64_t)w->index << 40 | (uint64_t)i);
    for (long s = 0; s < w->steps; s++) {
        int i = (int)(rnd(&w->rng) % SET);
        request *old = set[i];
        set[i] = request_new(&w->rng, (uint64_t)w->index << 40 | (uint64_t)(SET + s));
        if (s % 16 == 0) {
            mailbox *b = &w->next->box;
            pthread_mutex_lock(&b->lock);
            if (b->count < HANDOFF) {
                b->slot[b->count++] = old;
                old = NULL;
            }
            pthread_mutex_unlock(&b->lock);
        }
        if (old)
            w->checksum += request_free(old);
        if (s % 256 == 0)
            drain(w);
    }
    for (int i = 0; i < SET; i++)
        w->checksum += request_free(set[i]);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    long steps = argc > 2 ? atol(argv[2]) : 200000;
    if (threads < 1 || threads > 64 || steps < 1)
        die("usage: churn_mt THREADS(1..64) STEPS");
    worker *w = calloc((size_t)threads, sizeof *w);
    if (!w)
        die("out of memory");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++) {
        w[i].index = i;
        w[i].steps = steps;
        w[i].rng = 0x9e3779b97f4a7c15u * (uint64_t)(i + 1);
        w[i].next = &w[(i + 1) % threads];
        pthread_mutex_init(&w[i].box.lock, NULL);
    }
    for (int i = 0; i < threads; i++)
        if (pthread_create(&w[i].thread, NULL, run, &w[i]) != 0)
            die("pthread_create failed");
    uint64_t sum = 0;
    for (int i = 0; i < threads; i++)
        pthread_join(w[i].thread, NULL);
    for (int i = 0; i < threads; i++) {
        drain(&w[i]);
        sum += w[i].checksum;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("checksum %llu\n", (unsigned long long)sum);
    printf("@ threads=%d steps=%ld time_s=%.6f\n", threads, steps,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
    free(w);
    return 0;
}
