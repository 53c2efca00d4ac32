/* make_capture NAME FILE: write the test capture NAME (captures.h) to FILE. */
#include "captures.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fputs("usage: make_capture NAME FILE\n", stderr);
        return 2;
    }
    int err = rct_capture_write(argv[1], argv[2]);
    if (err) {
        fprintf(stderr, "make_capture: %s: %s\n", argv[1], strerror(err));
        return 1;
    }
    return 0;
}
