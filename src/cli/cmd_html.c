/* cmd_html.c - `recycle html`: its options, then the report layer
 * (report/html.h).
 *
 *   recycle html FILE [-o OUT.html]
 *
 * Without -o the page goes beside the capture: FILE with its ".rcap"
 * replaced by ".report.html" (so that it does not take the flame graph's
 * default name). "-o -" writes it on stdout. Options and FILE may come in
 * any order. */
#include "cli/cli.h"
#include "report/html.h"

#include <stdlib.h>

enum { OPT_OUTPUT = 1, OPT_HELP };

static const rcl_option html_options[] = {
    {"output", 'o', true, OPT_OUTPUT},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

int rcl_cmd_html(const rcl_command *cmd, int argc, char **argv) {
    rcr_html_options o = {.progress = true};
    const char *file = NULL;
    rcl_args a;
    rcl_args_init(&a, cmd, html_options, argc, argv);
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
        case OPT_OUTPUT:
            if (!a.value[0]) {
                rcl_usage_error(cmd, "%s: an empty file name", a.spelling);
                return RCL_EXIT_USAGE;
            }
            o.output = a.value;
            break;
        default:
            return RCL_EXIT_USAGE;
        }
    }
    if (!file) {
        rcl_usage_error(cmd, "no capture file given");
        return RCL_EXIT_USAGE;
    }
    char *owned = NULL;
    if (!o.output) {
        if (!(owned = rcl_default_output(file, ".report.html"))) {
            rcl_error(cmd, "out of memory");
            return RCL_EXIT_ERROR;
        }
        o.output = owned;
    }
    int status = rcr_html(file, &o, stderr) == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
    free(owned);
    return status;
}
