/* cmd_diff.c - `recycle diff`: its options, then the report layer.
 *
 *   recycle diff OLD NEW [--by function|line|file|stack]
 *                [--sort bytes|allocations|leaked|peak] [--top N] [--json]
 *
 * Options and operands may come in any order; the first operand is the
 * old capture, the second the new one. */
#include "cli/cli.h"
#include "report/diff.h"

#include <string.h>

enum { OPT_BY = 1, OPT_SORT, OPT_TOP, OPT_JSON, OPT_HELP };

static const rcl_option diff_options[] = {
    {"by", 0, true, OPT_BY},
    {"sort", 0, true, OPT_SORT},
    {"top", 0, true, OPT_TOP},
    {"json", 0, false, OPT_JSON},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

/* Text shows this many sites unless --top says otherwise. */
#define DEFAULT_TOP 10

static bool parse_sort(const rcl_args *a, const char *v, rcr_diff_sort *sort) {
    static const struct {
        const char *name;
        rcr_diff_sort sort;
    } keys[] = {
        {"bytes", RCR_DIFF_BYTES},
        {"allocations", RCR_DIFF_ALLOCATIONS},
        {"leaked", RCR_DIFF_LEAKED},
        {"peak", RCR_DIFF_PEAK},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (strcmp(v, keys[i].name) == 0) {
            *sort = keys[i].sort;
            return true;
        }
    }
    rcl_usage_error(a->cmd, "--sort: '%s' is not one of bytes, allocations, leaked, peak", v);
    return false;
}

int rcl_cmd_diff(const rcl_command *cmd, int argc, char **argv) {
    rcr_diff_options o = {.top = DEFAULT_TOP, .by = RCR_BY_LINE, .sort = RCR_DIFF_BYTES,
                          .progress = true};
    const char *old_path = NULL, *new_path = NULL;
    rcl_args a;
    rcl_args_init(&a, cmd, diff_options, argc, argv);
    for (;;) {
        int id = rcl_args_next(&a);
        if (id == RCL_ARGS_END)
            break;
        uint64_t top;
        switch (id) {
        case RCL_ARGS_ERROR:
            return RCL_EXIT_USAGE;
        case RCL_ARGS_OPERAND:
            if (!old_path) {
                old_path = a.value;
            } else if (!new_path) {
                new_path = a.value;
            } else {
                rcl_usage_error(cmd, "two captures to compare ('%s' is one too many)", a.value);
                return RCL_EXIT_USAGE;
            }
            break;
        case OPT_HELP:
            rcl_print_help(cmd);
            return RCL_EXIT_OK;
        case OPT_BY:
            if (!rcl_parse_by(&a, a.value, &o.by))
                return RCL_EXIT_USAGE;
            break;
        case OPT_SORT:
            if (!parse_sort(&a, a.value, &o.sort))
                return RCL_EXIT_USAGE;
            break;
        case OPT_TOP:
            if (!rcl_parse_number(&a, a.value, false, 0, SIZE_MAX, &top))
                return RCL_EXIT_USAGE;
            o.top = (size_t)top;
            o.top_given = true;
            break;
        case OPT_JSON:
            o.json = true;
            break;
        default:
            return RCL_EXIT_USAGE;
        }
    }
    if (!old_path) {
        rcl_usage_error(cmd, "no captures given (OLD and NEW)");
        return RCL_EXIT_USAGE;
    }
    if (!new_path) {
        rcl_usage_error(cmd, "only one capture given: diff compares OLD with NEW");
        return RCL_EXIT_USAGE;
    }
    int status = rcr_diff(old_path, new_path, &o, stdout, stderr);
    return status == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
}
