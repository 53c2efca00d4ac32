/* cat_stdin: copy standard input to standard output, then write "done" on
 * standard error. */
#include <stdio.h>

int main(void) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        fwrite(buf, 1, n, stdout);
    fputs("done\n", stderr);
    return 0;
}
