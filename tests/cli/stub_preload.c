/* stub_preload.c - a stand-in for librecycle-preload.so in the tests of
 * `recycle run`: when loaded, it writes the environment it was started
 * with into the file RECYCLE_OUTPUT names, one VARIABLE=value per line
 * (VARIABLE= when unset), so a test can check what recycle passed. With
 * RC_STUB_NO_WRITE set it writes nothing (a program the preload could not
 * record). With RECYCLE_FOLLOW_FORK=1 it also writes RECYCLE_OUTPUT.99999,
 * as the preload names the capture of a child process. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const names[] = {
    "RECYCLE_OUTPUT", "RECYCLE_FRAMES", "RECYCLE_SAMPLE", "RECYCLE_FOLLOW_FORK",
    "RECYCLE_PRELOAD_PID", "LD_PRELOAD",
};

__attribute__((constructor)) static void stub_start(void) {
    const char *out = getenv("RECYCLE_OUTPUT");
    if (!out || getenv("RC_STUB_NO_WRITE"))
        return;
    FILE *f = fopen(out, "w");
    if (!f)
        return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        fprintf(f, "%s=%s\n", names[i], v ? v : "");
    }
    fprintf(f, "pid=%ld\n", (long)getpid());
    fclose(f);
    const char *follow = getenv("RECYCLE_FOLLOW_FORK");
    if (follow && strcmp(follow, "1") == 0) {
        char child[4096];
        snprintf(child, sizeof child, "%s.99999", out);
        f = fopen(child, "w");
        if (f)
            fclose(f);
    }
}
