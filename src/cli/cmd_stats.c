/* cmd_stats.c - `recycle stats`: its options, then the report layer
 * (report/stats.h).
 *
 *   recycle stats FILE [--json]
 *
 * Options and FILE may come in any order. */
#include "cli/cli.h"
#include "report/stats.h"

enum { OPT_JSON = 1, OPT_HELP };

static const rcl_option stats_options[] = {
    {"json", 0, false, OPT_JSON},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

int rcl_cmd_stats(const rcl_command *cmd, int argc, char **argv) {
    rcr_stats_options o = {.progress = true};
    const char *file = NULL;
    rcl_args a;
    rcl_args_init(&a, cmd, stats_options, argc, argv);
    for (;;) {
        int id = rcl_args_next(&a);
        if (id == RCL_ARGS_END)
            break;
        switch (id) {
        case RCL_ARGS_ERROR:
            return RCL_EXIT_USAGE;
        case RCL_ARGS_OPERAND:
            if (file) {
                rcl_usage_error(cmd, "one capture at a time ('%s' and '%s')", file, a.value);
                return RCL_EXIT_USAGE;
            }
            file = a.value;
            break;
        case OPT_HELP:
            rcl_print_help(cmd);
            return RCL_EXIT_OK;
        case OPT_JSON:
            o.json = true;
            break;
        default:
            return RCL_EXIT_USAGE;
        }
    }
    if (!file) {
        rcl_usage_error(cmd, "no capture file given");
        return RCL_EXIT_USAGE;
    }
    return rcr_stats(file, &o, stdout, stderr) == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
}
