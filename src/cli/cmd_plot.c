/* cmd_plot.c - `recycle plot`: its options, then the report layer
 * (report/plot.h).
 *
 *   recycle plot FILE [-o OUT.svg] [--top N]
 *
 * Without -o the image goes next to the capture: FILE with its ".rcap"
 * replaced by ".svg" (FILE.svg when it has no such suffix), so that
 * plotting several captures never makes one overwrite another's. "-o -"
 * writes to stdout. Options and FILE may come in any order. */
#include "cli/cli.h"
#include "report/plot.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 1, OPT_TOP, OPT_HELP };

static const rcl_option plot_options[] = {
    {"output", 'o', true, OPT_OUTPUT},
    {"top", 0, true, OPT_TOP},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

/* Sites in the legend, by default and at most (each a line of the image). */
#define DEFAULT_TOP 5
#define MAX_TOP 50

int rcl_cmd_plot(const rcl_command *cmd, int argc, char **argv) {
    rcr_plot_options o = {.progress = true, .top = DEFAULT_TOP};
    const char *file = NULL, *output = NULL;
    rcl_args a;
    rcl_args_init(&a, cmd, plot_options, argc, argv);
    for (;;) {
        int id = rcl_args_next(&a);
        if (id == RCL_ARGS_END)
            break;
        int taken = rcl_capture_arg(cmd, &a, id, OPT_HELP, OPT_OUTPUT, &file, &output);
        if (taken == RCL_ARG_TAKEN)
            continue;
        if (taken != RCL_ARG_OTHER)
            return taken;
        switch (id) {
        case OPT_TOP: {
            uint64_t n;
            if (!rcl_parse_number(&a, a.value, false, 0, MAX_TOP, &n))
                return RCL_EXIT_USAGE;
            o.top = (size_t)n;
            break;
        }
        default:
            return RCL_EXIT_USAGE;
        }
    }
    if (!file) {
        rcl_usage_error(cmd, "no capture file given");
        return RCL_EXIT_USAGE;
    }
    char *made = NULL;
    if (!output) {
        made = rcl_default_output(file, ".svg");
        if (!made) {
            rcl_error(cmd, "out of memory");
            return RCL_EXIT_ERROR;
        }
        output = made;
    }
    int status = rcr_plot(file, &o, output, stderr) == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
    free(made);
    return status;
}
