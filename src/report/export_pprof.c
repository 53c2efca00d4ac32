/* export_pprof.c - `recycle export --format pprof`: not written yet. */
#include "report/export_impl.h"

int rcr_export_pprof(const char *path, const rcr_export_options *o, FILE *out, FILE *err) {
    (void)path, (void)o, (void)out;
    fprintf(err, "recycle export: --format pprof is not available yet\n");
    return 1;
}
