/* cmd_flamegraph.c - `recycle flamegraph`: its options, then the report
 * layer (report/flame.h).
 *
 *   recycle flamegraph FILE [-o OUT.html] [--kind allocated|peak|leaked]
 *
 * Without -o the page goes beside the capture: FILE with its ".rcap"
 * replaced by ".html" (or ".html" added). "-o -" writes it on stdout.
 * Options and FILE may come in any order. */
#include "cli/cli.h"
#include "report/flame.h"

#include <stdlib.h>
#include <string.h>

enum { OPT_OUTPUT = 1, OPT_KIND, OPT_HELP };

static const rcl_option flame_options[] = {
    {"output", 'o', true, OPT_OUTPUT},
    {"kind", 0, true, OPT_KIND},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

int rcl_cmd_flamegraph(const rcl_command *cmd, int argc, char **argv) {
    rcr_flame_options o = {.kind = RCR_FLAME_ALLOCATED, .progress = true};
    const char *file = NULL;
    rcl_args a;
    rcl_args_init(&a, cmd, flame_options, argc, argv);
    for (;;) {
        int id = rcl_args_next(&a);
        if (id == RCL_ARGS_END)
            break;
        int taken = rcl_capture_arg(cmd, &a, id, OPT_HELP, OPT_OUTPUT, &file, &o.output);
        if (taken == RCL_ARG_TAKEN)
            continue;
        if (taken != RCL_ARG_OTHER)
            return taken;
        switch (id) {
        case OPT_KIND:
            if (strcmp(a.value, "allocated") == 0) {
                o.kind = RCR_FLAME_ALLOCATED;
            } else if (strcmp(a.value, "peak") == 0) {
                o.kind = RCR_FLAME_PEAK;
            } else if (strcmp(a.value, "leaked") == 0) {
                o.kind = RCR_FLAME_LEAKED;
            } else {
                rcl_usage_error(cmd, "%s: '%s' is not allocated, peak or leaked", a.spelling,
                                a.value);
                return RCL_EXIT_USAGE;
            }
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
        if (!(owned = rcl_default_output(file, ".html"))) {
            rcl_error(cmd, "out of memory");
            return RCL_EXIT_ERROR;
        }
        o.output = owned;
    }
    int status = rcr_flamegraph(file, &o, stderr) == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
    free(owned);
    return status;
}
