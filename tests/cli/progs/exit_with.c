/* exit_with STATUS [MESSAGE]: print MESSAGE on stdout and exit with STATUS. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc > 2)
        printf("%s\n", argv[2]);
    return argc > 1 ? atoi(argv[1]) : 0;
}
