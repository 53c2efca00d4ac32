/* cli.h - what the files of the `recycle` command share: the subcommand
 * entry points, the option parser and the messages.
 *
 * The cli layer parses arguments and dispatches; the work is done by the
 * layers below (report) or by the program it runs (the preload shim inside
 * it). Conventions, as GNU tools have them:
 *
 *   exit 0   success
 *   exit 1   an error while doing the work (a file that cannot be read, a
 *            damaged capture, a write error on stdout)
 *   exit 2   a usage error: unknown subcommand or option, a missing or bad
 *            argument; the message is followed by the usage and a hint
 *
 * `recycle run` returns the exit status of the program it ran instead
 * (127 or 126 when it could not be started, 128+N when signal N killed it).
 *
 * Every message goes to stderr and starts with "recycle: " or, inside a
 * subcommand, "recycle <subcommand>: ". */
#ifndef RC_CLI_CLI_H
#define RC_CLI_CLI_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum {
    RCL_EXIT_OK = 0,
    RCL_EXIT_ERROR = 1,
    RCL_EXIT_USAGE = 2,
};

/* One subcommand. `usage` is the synopsis without "recycle " (one line or
 * more, each a form of the command); `help` the rest of --help's text. */
typedef struct rcl_command {
    const char *name;
    const char *summary;        /* one line for `recycle --help` */
    const char *usage;
    const char *help;
    /* NULL: not available yet. Called with argv[0] the subcommand's name;
     * returns the exit status. */
    int (*run)(const struct rcl_command *cmd, int argc, char **argv);
} rcl_command;

/* ---- the option parser ------------------------------------------------------
 * Strict, with GNU's syntax: `--name value`, `--name=value`, `-x value`,
 * `-xvalue`, bundled flags (`-ab`), `--` ending the options. Long options
 * must be spelled in full. A command whose operands start another program
 * (run) stops at its first operand; the others take operands anywhere. */

typedef struct rcl_option {
    const char *name;           /* long name without "--" */
    char short_name;            /* 0: none */
    bool has_arg;
    int id;                     /* > 0, returned by rcl_args_next */
} rcl_option;

enum {
    RCL_ARGS_END = 0,           /* no more arguments */
    RCL_ARGS_OPERAND = -1,      /* an operand: rcl_args.value */
    RCL_ARGS_ERROR = -2,        /* a usage error, already reported */
};

typedef struct rcl_args {
    const rcl_command *cmd;
    const rcl_option *options;  /* ends with an entry whose name is NULL */
    int argc;
    char **argv;
    int index;                  /* next element of argv to look at */
    const char *bundle;         /* rest of a group of short flags ("-ab") */
    bool only_operands;         /* after "--" */
    bool stop_at_operand;       /* the first operand ends the options */
    const char *value;          /* the option's argument, or the operand */
    const char *spelling;       /* the option as written, for messages */
    char short_spelling[3];     /* "-x" for the short option being parsed */
} rcl_args;

/* Start parsing argv[1..argc-1] of cmd with the given options. */
void rcl_args_init(rcl_args *a, const rcl_command *cmd, const rcl_option *options,
                   int argc, char **argv);
/* The next option's id (value = its argument, if it takes one), an operand,
 * the end, or an error (reported with rcl_usage_error). With
 * stop_at_operand, the first operand is returned and every later argument
 * is left in argv from a->index on. */
int rcl_args_next(rcl_args *a);

/* ---- numbers ------------------------------------------------------------------
 * Parse a whole decimal number in [min, max]. With sizes, a suffix K, M, G
 * or T (optionally followed by "iB", or "B" alone) multiplies by a power of
 * 1024. false with a usage error reported ("--top: 'x' is not a number"). */
bool rcl_parse_number(const rcl_args *a, const char *text, bool size, uint64_t min,
                      uint64_t max, uint64_t *out);

/* ---- messages ------------------------------------------------------------------ */

/* "recycle[ <cmd>]: <message>\n" on stderr. cmd may be NULL. */
void rcl_error(const rcl_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A usage error: the message, the command's usage, a hint to --help. */
void rcl_usage_error(const rcl_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The command's --help text on stdout. */
void rcl_print_help(const rcl_command *cmd);
/* The usage lines of cmd ("usage: recycle run ...") on out. */
void rcl_print_usage(const rcl_command *cmd, FILE *out);

/* Flush stdout; on a write error, say so: the exit status to return
 * (status unchanged, or RCL_EXIT_ERROR). */
int rcl_finish_stdout(int status);

/* The arguments every subcommand that reads one capture handles alike:
 * a usage error from the parser, the capture operand (one at a time, into
 * *file), help_id (--help) and, unless output_id is 0, output_id (-o, not
 * empty, into *output). Returns RCL_ARG_OTHER when id is none of them,
 * RCL_ARG_TAKEN when it was taken, or the status to exit with. */
#define RCL_ARG_OTHER (-2)
#define RCL_ARG_TAKEN (-1)
int rcl_capture_arg(const rcl_command *cmd, const rcl_args *a, int id, int help_id, int output_id,
                    const char **file, const char **output);

/* Where a picture of the capture FILE goes by default: FILE with its
 * ".rcap" replaced by suffix (".html", ".svg"), or suffix added. NULL on
 * out of memory; the caller frees it. */
char *rcl_default_output(const char *file, const char *suffix);

/* ---- subcommands ------------------------------------------------------------ */
int rcl_cmd_run(const rcl_command *cmd, int argc, char **argv);
int rcl_cmd_report(const rcl_command *cmd, int argc, char **argv);
#ifdef RC_CLI_HAVE_REPORT
#include "report/report.h"
/* The value of --by (report, diff): false after a usage error. */
bool rcl_parse_by(const rcl_args *a, const char *v, rcr_by *by);
#endif
int rcl_cmd_lines(const rcl_command *cmd, int argc, char **argv);
int rcl_cmd_stats(const rcl_command *cmd, int argc, char **argv);
int rcl_cmd_diff(const rcl_command *cmd, int argc, char **argv);
int rcl_cmd_flamegraph(const rcl_command *cmd, int argc, char **argv);
int rcl_cmd_plot(const rcl_command *cmd, int argc, char **argv);
int rcl_cmd_export(const rcl_command *cmd, int argc, char **argv);
int rcl_cmd_html(const rcl_command *cmd, int argc, char **argv);

#endif /* RC_CLI_CLI_H */
