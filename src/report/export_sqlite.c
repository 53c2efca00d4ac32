/* export_sqlite.c - `recycle export --format sqlite`: not written yet. */
#include "report/export_impl.h"

int rcr_export_sqlite(const char *path, const rcr_export_options *o, FILE *err) {
    (void)path, (void)o;
    fprintf(err, "recycle export: --format sqlite is not available yet\n");
    return 1;
}
