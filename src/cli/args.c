/* args.c - the option parser, number parsing and the messages of the
 * `recycle` command (cli.h).
 *
 * Written here rather than taken from getopt_long because the command needs
 * what getopt_long does not give: messages that name the subcommand and end
 * with its usage, no abbreviated long options (an abbreviation that works
 * today breaks when an option is added), and a parse that stops at the
 * program of `recycle run` while the other subcommands take operands
 * anywhere. It keeps no global state. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages --------------------------------------------------------------- */

/* The top level is a command named "recycle" whose messages say "recycle:". */
static bool is_top(const rcl_command *cmd) {
    return !cmd || strcmp(cmd->name, "recycle") == 0;
}

__attribute__((format(printf, 2, 0)))
static void vmessage(const rcl_command *cmd, const char *fmt, va_list ap) {
    if (!is_top(cmd))
        fprintf(stderr, "recycle %s: ", cmd->name);
    else
        fputs("recycle: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void rcl_error(const rcl_command *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
}

/* Each line of cmd->usage is a form of the command, or, when it starts
 * with a space, the continuation of the form above it. */
void rcl_print_usage(const rcl_command *cmd, FILE *out) {
    const char *p = cmd->usage;
    const char *lead = "usage: ";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (*p == ' ')
            fprintf(out, "       %.*s\n", (int)n, p);
        else
            fprintf(out, "%srecycle %.*s\n", lead, (int)n, p);
        lead = "       ";
        p += n;
        if (*p == '\n')
            p++;
    }
}

void rcl_usage_error(const rcl_command *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vmessage(cmd, fmt, ap);
    va_end(ap);
    rcl_print_usage(cmd, stderr);
    if (is_top(cmd))
        fputs("Try 'recycle --help' for more information.\n", stderr);
    else
        fprintf(stderr, "Try 'recycle %s --help' for more information.\n", cmd->name);
}

void rcl_print_help(const rcl_command *cmd) {
    rcl_print_usage(cmd, stdout);
    if (cmd->help && *cmd->help)
        printf("\n%s", cmd->help);
}

int rcl_finish_stdout(int status) {
    /* A report redirected to a full disk must not end with status 0. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int err = errno;
        rcl_error(NULL, "write error on standard output: %s",
                  err ? strerror(err) : "unknown error");
        return RCL_EXIT_ERROR;
    }
    return status;
}

int rcl_capture_arg(const rcl_command *cmd, const rcl_args *a, int id, int help_id, int output_id,
                    const char **file, const char **output) {
    if (id == RCL_ARGS_ERROR)
        return RCL_EXIT_USAGE;
    if (id == RCL_ARGS_OPERAND) {
        if (*file) {
            rcl_usage_error(cmd, "one capture at a time ('%s' and '%s')", *file, a->value);
            return RCL_EXIT_USAGE;
        }
        *file = a->value;
        return RCL_ARG_TAKEN;
    }
    if (id == help_id) {
        rcl_print_help(cmd);
        return RCL_EXIT_OK;
    }
    if (output_id && id == output_id) {
        if (!a->value[0]) {
            rcl_usage_error(cmd, "%s: an empty file name", a->spelling);
            return RCL_EXIT_USAGE;
        }
        *output = a->value;
        return RCL_ARG_TAKEN;
    }
    return RCL_ARG_OTHER;
}

char *rcl_default_output(const char *file, const char *suffix) {
    size_t n = strlen(file), m = strlen(suffix);
    static const char rcap[] = ".rcap";
    size_t r = sizeof rcap - 1;
    if (n > r && strcmp(file + n - r, rcap) == 0 && file[n - r - 1] != '/')
        n -= r;
    char *out = malloc(n + m + 1);
    if (out) {
        memcpy(out, file, n);
        memcpy(out + n, suffix, m + 1);
    }
    return out;
}

/* ---- options ---------------------------------------------------------------- */

void rcl_args_init(rcl_args *a, const rcl_command *cmd, const rcl_option *options,
                   int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->options = options;
    a->argc = argc;
    a->argv = argv;
    a->index = 1;
}

static const rcl_option *find_long(const rcl_option *o, const char *name, size_t len) {
    for (; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static const rcl_option *find_short(const rcl_option *o, char c) {
    for (; o->name; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

/* The rest of a group of short options, starting at a->bundle. */
static int next_short(rcl_args *a) {
    char c = *a->bundle++;
    const rcl_option *o = find_short(a->options, c);
    a->short_spelling[0] = '-';
    a->short_spelling[1] = c;
    a->short_spelling[2] = '\0';
    a->spelling = a->short_spelling;
    if (!o) {
        a->bundle = NULL;
        rcl_usage_error(a->cmd, "unknown option '-%c'", c);
        return RCL_ARGS_ERROR;
    }
    if (!o->has_arg) {
        if (!*a->bundle)
            a->bundle = NULL;
        a->value = NULL;
        return o->id;
    }
    if (*a->bundle) {                   /* -oFILE */
        a->value = a->bundle;
        a->bundle = NULL;
        return o->id;
    }
    a->bundle = NULL;
    if (a->index >= a->argc) {
        rcl_usage_error(a->cmd, "option '-%c' needs an argument", c);
        return RCL_ARGS_ERROR;
    }
    a->value = a->argv[a->index++];
    return o->id;
}

int rcl_args_next(rcl_args *a) {
    if (a->bundle)
        return next_short(a);
    if (a->index >= a->argc)
        return RCL_ARGS_END;
    const char *s = a->argv[a->index];
    if (a->only_operands || s[0] != '-' || s[1] == '\0') {   /* "-" is an operand */
        if (a->stop_at_operand) {
            a->value = s;
            return RCL_ARGS_OPERAND;    /* left in argv for the caller */
        }
        a->index++;
        a->value = s;
        return RCL_ARGS_OPERAND;
    }
    a->index++;
    if (s[1] != '-') {
        a->bundle = s + 1;
        return next_short(a);
    }
    if (s[2] == '\0') {                 /* "--" */
        a->only_operands = true;
        return rcl_args_next(a);
    }
    const char *name = s + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const rcl_option *o = find_long(a->options, name, len);
    a->spelling = s;
    if (!o) {
        rcl_usage_error(a->cmd, "unknown option '--%.*s'", (int)len, name);
        return RCL_ARGS_ERROR;
    }
    if (!o->has_arg) {
        if (eq) {
            rcl_usage_error(a->cmd, "option '--%s' takes no argument", o->name);
            return RCL_ARGS_ERROR;
        }
        a->value = NULL;
        return o->id;
    }
    if (eq) {
        a->value = eq + 1;
        return o->id;
    }
    if (a->index >= a->argc) {
        rcl_usage_error(a->cmd, "option '--%s' needs an argument", o->name);
        return RCL_ARGS_ERROR;
    }
    a->value = a->argv[a->index++];
    return o->id;
}

/* ---- numbers ---------------------------------------------------------------- */

/* The option being parsed, as the user wrote it, without "=value". */
static void option_name(const rcl_args *a, char *buf, size_t len) {
    const char *s = a->spelling ? a->spelling : "argument";
    size_t n = strcspn(s, "=");
    if (n >= len)
        n = len - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
}

bool rcl_parse_number(const rcl_args *a, const char *text, bool size, uint64_t min,
                      uint64_t max, uint64_t *out) {
    char name[64];
    option_name(a, name, sizeof name);
    const char *p = text;
    uint64_t v = 0;
    if (*p < '0' || *p > '9') {
        rcl_usage_error(a->cmd, "%s: '%s' is not a number", name, text);
        return false;
    }
    bool overflow = false;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (*p && size) {
        unsigned shift;
        switch (*p) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: shift = 0; break;
        }
        if (shift) {
            p++;
            if (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0)
                p += strlen(p);
            if (v > (UINT64_MAX >> shift))
                overflow = true;
            else
                v <<= shift;
        } else if (strcmp(p, "B") == 0) {
            p++;
        }
    }
    if (*p) {
        if (size)
            rcl_usage_error(a->cmd, "%s: '%s' is not a size (a number, optionally "
                            "followed by K, M, G or T)", name, text);
        else
            rcl_usage_error(a->cmd, "%s: '%s' is not a number", name, text);
        return false;
    }
    if (overflow || v < min || v > max) {
        rcl_usage_error(a->cmd, "%s: %s is out of range (%llu to %llu)", name, text,
                        (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}
