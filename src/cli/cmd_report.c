/* cmd_report.c - `recycle report`: its options, then the report layer.
 *
 *   recycle report FILE [--top N] [--by function|line|file|stack] [--leaks]
 *                  [--peak] [--temporary] [--json]
 *
 * Options and FILE may come in any order. */
#include "cli/cli.h"
#include "report/report.h"

#include <string.h>

enum { OPT_TOP = 1, OPT_BY, OPT_LEAKS, OPT_PEAK, OPT_TEMPORARY, OPT_JSON, OPT_HELP };

static const rcl_option report_options[] = {
    {"top", 0, true, OPT_TOP},
    {"by", 0, true, OPT_BY},
    {"leaks", 0, false, OPT_LEAKS},
    {"peak", 0, false, OPT_PEAK},
    {"temporary", 0, false, OPT_TEMPORARY},
    {"json", 0, false, OPT_JSON},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

/* Text reports show this many sites unless --top says otherwise. */
#define DEFAULT_TOP 10

bool rcl_parse_by(const rcl_args *a, const char *v, rcr_by *by) {
    static const struct {
        const char *name;
        rcr_by by;
    } keys[] = {
        {"line", RCR_BY_LINE},
        {"function", RCR_BY_FUNCTION},
        {"file", RCR_BY_FILE},
        {"stack", RCR_BY_STACK},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(v, keys[i].name) == 0) {
            *by = keys[i].by;
            return true;
        }
    }
    rcl_usage_error(a->cmd, "--by: '%s' is not one of function, line, file, stack", v);
    return false;
}

int rcl_cmd_report(const rcl_command *cmd, int argc, char **argv) {
    rcr_options o = {.top = DEFAULT_TOP, .by = RCR_BY_LINE, .progress = true};
    const char *file = NULL;
    rcl_args a;
    rcl_args_init(&a, cmd, report_options, argc, argv);
    for (;;) {
        int id = rcl_args_next(&a);
        if (id == RCL_ARGS_END)
            break;
        uint64_t top;
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
        case OPT_TOP:
            if (!rcl_parse_number(&a, a.value, false, 0, SIZE_MAX, &top))
                return RCL_EXIT_USAGE;
            o.top = (size_t)top;
            o.top_given = true;
            break;
        case OPT_BY:
            if (!rcl_parse_by(&a, a.value, &o.by))
                return RCL_EXIT_USAGE;
            break;
        case OPT_LEAKS:
            o.views |= RCR_VIEW_LEAKS;
            break;
        case OPT_PEAK:
            o.views |= RCR_VIEW_PEAK;
            break;
        case OPT_TEMPORARY:
            o.views |= RCR_VIEW_TEMPORARY;
            break;
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
    int status = rcr_report(file, &o, stdout, stderr);
    return status == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
}
