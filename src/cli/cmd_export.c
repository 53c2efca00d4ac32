/* cmd_export.c - `recycle export`: being written; until then it says so. */
#include "cli/cli.h"

int rcl_cmd_export(const rcl_command *cmd, int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "recycle: '%s' is not available yet\n", cmd->name);
    return RCL_EXIT_USAGE;
}
