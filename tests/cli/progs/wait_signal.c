/* wait_signal READY_FILE: count SIGINT, SIGTERM and SIGHUP; write
 * READY_FILE once the handlers are in place; on the first signal wait a
 * little for duplicates, then print "got SIGNAME xN" and exit with
 * 100 + the signal's number. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t counts[NSIG];
static volatile sig_atomic_t first;

static void on_signal(int sig) {
    counts[sig]++;
    if (!first)
        first = sig;
}

int main(int argc, char **argv) {
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(sigs[i], &sa, NULL);
    }
    if (argc > 1) {
        FILE *f = fopen(argv[1], "w");
        if (!f)
            return 1;
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
    for (int i = 0; i < 3000 && !first; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (!first)
        return 1;
    struct timespec settle = {0, 200 * 1000 * 1000};
    nanosleep(&settle, NULL);
    printf("got %s x%d\n", sigabbrev_np(first), (int)counts[first]);
    return 100 + first;
}
