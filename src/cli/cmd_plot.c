/* cmd_plot.c - `recycle plot`: being written; until then it says so. */
#include "cli/cli.h"

int rcl_cmd_plot(const rcl_command *cmd, int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "recycle: '%s' is not available yet\n", cmd->name);
    return RCL_EXIT_USAGE;
}
