/* cmd_lines.c - `recycle lines`: its options, then the report layer.
 *
 *   recycle lines FILE FUNCTION [--source-dir DIR]... [--json]
 *
 * Options and operands may come in any order; the first operand is the
 * capture, the second the function. --source-dir may be repeated: the
 * directories are searched in the order given. */
#include "cli/cli.h"
#include "report/lines.h"

#include <stdlib.h>

enum { OPT_SOURCE_DIR = 1, OPT_JSON, OPT_HELP };

static const rcl_option lines_options[] = {
    {"source-dir", 0, true, OPT_SOURCE_DIR},
    {"json", 0, false, OPT_JSON},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

int rcl_cmd_lines(const rcl_command *cmd, int argc, char **argv) {
    rcr_lines_options o = {.progress = true};
    const char *file = NULL;
    /* at most one directory per argument */
    const char **dirs = malloc((size_t)(argc > 0 ? argc : 1) * sizeof *dirs);
    if (!dirs) {
        rcl_error(cmd, "out of memory");
        return RCL_EXIT_ERROR;
    }
    size_t ndirs = 0;
    int status = RCL_EXIT_USAGE;
    rcl_args a;
    rcl_args_init(&a, cmd, lines_options, argc, argv);
    for (;;) {
        int id = rcl_args_next(&a);
        if (id == RCL_ARGS_END)
            break;
        switch (id) {
        case RCL_ARGS_ERROR:
            goto done;
        case RCL_ARGS_OPERAND:
            if (!file) {
                file = a.value;
            } else if (!o.function) {
                o.function = a.value;
            } else {
                rcl_usage_error(cmd, "one capture and one function ('%s' is one too many)",
                                a.value);
                goto done;
            }
            break;
        case OPT_HELP:
            rcl_print_help(cmd);
            status = RCL_EXIT_OK;
            goto done;
        case OPT_SOURCE_DIR:
            if (!a.value[0]) {
                rcl_usage_error(cmd, "--source-dir: the directory is empty");
                goto done;
            }
            dirs[ndirs++] = a.value;
            break;
        case OPT_JSON:
            o.json = true;
            break;
        default:
            goto done;
        }
    }
    if (!file) {
        rcl_usage_error(cmd, "no capture file given");
        goto done;
    }
    if (!o.function) {
        rcl_usage_error(cmd, "no function given");
        goto done;
    }
    if (!o.function[0]) {
        rcl_usage_error(cmd, "the function name is empty");
        goto done;
    }
    o.source_dirs = dirs;
    o.nsource_dirs = ndirs;
    status = rcr_lines(file, &o, stdout, stderr) == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
done:
    free(dirs);
    return status;
}
