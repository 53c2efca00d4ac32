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
        int taken = rcl_capture_arg(cmd, &a, id, OPT_HELP, OPT_OUTPUT, &file, &o.output);
        if (taken == RCL_ARG_TAKEN)
            continue;
        return taken == RCL_ARG_OTHER ? RCL_EXIT_USAGE : taken;
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
