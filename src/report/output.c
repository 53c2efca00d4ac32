/* output.c - rcr_output (output.h). */
#define _GNU_SOURCE
#include "report/output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool rcr_output_open(rcr_output *o, const char *path, const char *prefix, FILE *err) {
    *o = (rcr_output){.path = path};
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->is_stdout = true;
        return true;
    }
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (!(o->f = fopen(path, "w"))) {
            fprintf(err, "%scannot write %s: %s\n", prefix, path, strerror(errno));
            return false;
        }
        return true;
    }
    if (asprintf(&o->tmp, "%s.XXXXXX", path) < 0) {
        o->tmp = NULL;
        fprintf(err, "%sout of memory\n", prefix);
        return false;
    }
    int fd = mkstemp(o->tmp);
    if (fd >= 0) {
        /* mkstemp makes the file 0600; the output is an ordinary file */
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0666 & ~mask) != 0 || !(o->f = fdopen(fd, "w"))) {
            int e = errno;
            close(fd);
            unlink(o->tmp);
            errno = e;
        }
    }
    if (!o->f) {
        fprintf(err, "%scannot write %s: %s\n", prefix, path, strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return false;
    }
    return true;
}

int rcr_output_close(rcr_output *o, bool ok, const char *prefix, FILE *err) {
    if (o->is_stdout) {
        /* flushed, and a write error reported, by the command's main */
        *o = (rcr_output){0};
        return ok ? 0 : 1;
    }
    int e = 0;
    if (fflush(o->f) != 0 || ferror(o->f))
        e = errno ? errno : EIO;
    if (fclose(o->f) != 0 && !e)
        e = errno ? errno : EIO;
    if (ok && !e && o->tmp && rename(o->tmp, o->path) != 0)
        e = errno;
    if (ok && e)
        fprintf(err, "%scannot write %s: %s\n", prefix, o->path, strerror(e));
    if ((!ok || e) && o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    *o = (rcr_output){0};
    return ok && !e ? 0 : 1;
}
