/* stub_preload.c - a stand-in for librecycle-preload.so in the tests of
 * `recycle run`: when loaded, it writes the environment it was started
 * with into the file RECYCLE_OUTPUT names, one VARIABLE=value per line
 * (VARIABLE= when unset), so a test can check what recycle passed. With
 * RC_STUB_NO_WRITE set it writes nothing (a program the preload could not
 * record). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const names[] = {
    "RECYCLE_OUTPUT", "RECYCLE_FRAMES", "RECYCLE_SAMPLE", "RECYCLE_FOLLOW_FORK", "LD_PRELOAD",
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
}
