/* cmd_export.c - `recycle export`: its options, the output file, then the
 * report layer (report/export.h).
 *
 *   recycle export FILE --format collapsed|speedscope|massif|pprof|sqlite
 *                  [-o OUT] [--kind allocated|peak|leaked]
 *                  [--unit bytes|allocations]
 *
 * Options and FILE may come in any order. sqlite writes a database, which
 * is a file and not a stream: it needs -o naming a file (a usage error
 * otherwise).
 *
 * The output goes to stdout, or with -o to OUT, and never half-written:
 * it is written to a temporary file next to OUT (same directory, so the
 * rename cannot cross file systems), flushed and closed, and renamed over
 * OUT only when every write succeeded. On any failure the temporary file
 * is removed and OUT is left as it was. */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "report/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_FORMAT = 1, OPT_OUTPUT, OPT_KIND, OPT_UNIT, OPT_HELP };

static const rcl_option export_options[] = {
    {"format", 'f', true, OPT_FORMAT},
    {"output", 'o', true, OPT_OUTPUT},
    {"kind", 0, true, OPT_KIND},
    {"unit", 0, true, OPT_UNIT},
    {"help", 'h', false, OPT_HELP},
    {NULL, 0, false, 0},
};

/* Write the export into out_path as it is (not a regular file). */
static int export_in_place(const rcl_command *cmd, const char *file, const rcr_export_options *o,
                           const char *out_path) {
    if (o->format == RCR_EXPORT_SQLITE) {
        rcl_error(cmd, "cannot write a database into '%s': not a regular file", out_path);
        return RCL_EXIT_ERROR;
    }
    FILE *out = fopen(out_path, "w");
    if (!out) {
        rcl_error(cmd, "cannot write '%s': %s", out_path, strerror(errno));
        return RCL_EXIT_ERROR;
    }
    int status = rcr_export(file, o, out, stderr) == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
    int write_errno = 0;
    if (fflush(out) != 0 || ferror(out))
        write_errno = errno ? errno : EIO;
    if (fclose(out) != 0 && !write_errno)
        write_errno = errno ? errno : EIO;
    if (status == RCL_EXIT_OK && write_errno) {
        rcl_error(cmd, "error writing '%s': %s", out_path, strerror(write_errno));
        status = RCL_EXIT_ERROR;
    }
    return status;
}

/* Write the export into a temporary file renamed to out_path. */
static int export_to_file(const rcl_command *cmd, const char *file, const rcr_export_options *opt,
                          const char *out_path) {
    rcr_export_options o_db = *opt;
    const rcr_export_options *o = &o_db;
    /* OUT that exists and is not a regular file (a device, a pipe,
     * /dev/stdout) is written in place: renaming over it would replace it. */
    struct stat st;
    if (stat(out_path, &st) == 0 && !S_ISREG(st.st_mode))
        return export_in_place(cmd, file, o, out_path);
    char *tmp;
    if (asprintf(&tmp, "%s.XXXXXX", out_path) < 0) {
        rcl_error(cmd, "out of memory");
        return RCL_EXIT_ERROR;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        rcl_error(cmd, "cannot write '%s': %s", out_path, strerror(errno));
        free(tmp);
        return RCL_EXIT_ERROR;
    }
    /* mkstemp makes the file 0600; an export is an ordinary file. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    /* The database is written by SQLite into the (empty) temporary file. */
    if (o->format == RCR_EXPORT_SQLITE)
        o_db.database = tmp;
    FILE *out = fdopen(fd, "w");
    if (!out) {
        rcl_error(cmd, "cannot write '%s': %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return RCL_EXIT_ERROR;
    }
    int status = rcr_export(file, o, out, stderr) == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
    int write_errno = 0;
    if (fflush(out) != 0 || ferror(out))
        write_errno = errno ? errno : EIO;
    if (fclose(out) != 0 && !write_errno)
        write_errno = errno ? errno : EIO;
    if (status == RCL_EXIT_OK && write_errno) {
        rcl_error(cmd, "error writing '%s': %s", out_path, strerror(write_errno));
        status = RCL_EXIT_ERROR;
    }
    if (status == RCL_EXIT_OK && rename(tmp, out_path) != 0) {
        rcl_error(cmd, "cannot write '%s': %s", out_path, strerror(errno));
        status = RCL_EXIT_ERROR;
    }
    if (status != RCL_EXIT_OK)
        unlink(tmp);
    free(tmp);
    return status;
}

int rcl_cmd_export(const rcl_command *cmd, int argc, char **argv) {
    rcr_export_options o = {.progress = true};
    const char *file = NULL, *output = NULL, *format = NULL;
    rcl_args a;
    rcl_args_init(&a, cmd, export_options, argc, argv);
    for (;;) {
        int id = rcl_args_next(&a);
        if (id == RCL_ARGS_END)
            break;
        int taken = rcl_capture_arg(cmd, &a, id, OPT_HELP, 0, &file, NULL);
        if (taken == RCL_ARG_TAKEN)
            continue;
        if (taken != RCL_ARG_OTHER)
            return taken;
        switch (id) {
        case OPT_FORMAT:
            format = a.value;
            if (!strcmp(a.value, "collapsed")) {
                o.format = RCR_EXPORT_COLLAPSED;
            } else if (!strcmp(a.value, "speedscope")) {
                o.format = RCR_EXPORT_SPEEDSCOPE;
            } else if (!strcmp(a.value, "massif")) {
                o.format = RCR_EXPORT_MASSIF;
            } else if (!strcmp(a.value, "pprof")) {
                o.format = RCR_EXPORT_PPROF;
            } else if (!strcmp(a.value, "sqlite")) {
                o.format = RCR_EXPORT_SQLITE;
            } else {
                rcl_usage_error(cmd, "--format: '%s' is not a format (collapsed, speedscope, "
                                "massif, pprof, sqlite)", a.value);
                return RCL_EXIT_USAGE;
            }
            break;
        case OPT_OUTPUT:
            if (!a.value[0]) {
                rcl_usage_error(cmd, "-o: an empty file name");
                return RCL_EXIT_USAGE;
            }
            output = a.value;
            break;
        case OPT_KIND:
            if (!strcmp(a.value, "allocated")) {
                o.kind = RCR_EXPORT_ALLOCATED;
            } else if (!strcmp(a.value, "peak")) {
                o.kind = RCR_EXPORT_PEAK;
            } else if (!strcmp(a.value, "leaked")) {
                o.kind = RCR_EXPORT_LEAKED;
            } else {
                rcl_usage_error(cmd, "--kind: '%s' is not allocated, peak or leaked", a.value);
                return RCL_EXIT_USAGE;
            }
            break;
        case OPT_UNIT:
            if (!strcmp(a.value, "bytes")) {
                o.allocations = false;
            } else if (!strcmp(a.value, "allocations")) {
                o.allocations = true;
            } else {
                rcl_usage_error(cmd, "--unit: '%s' is not bytes or allocations", a.value);
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
    if (!format) {
        rcl_usage_error(cmd, "no --format given (collapsed, speedscope, massif, pprof or sqlite)");
        return RCL_EXIT_USAGE;
    }
    if (o.format == RCR_EXPORT_SQLITE && (!output || !strcmp(output, "-"))) {
        rcl_usage_error(cmd, "--format sqlite writes a database file: give it with -o FILE");
        return RCL_EXIT_USAGE;
    }
    if (output && strcmp(output, "-") != 0)
        return export_to_file(cmd, file, &o, output);
    /* main checks stdout's writes (rcl_finish_stdout) */
    return rcr_export(file, &o, stdout, stderr) == 0 ? RCL_EXIT_OK : RCL_EXIT_ERROR;
}
