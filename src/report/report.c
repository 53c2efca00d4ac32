/* report.c - rcr_report: read, replay, fold into sites, print (report.h).
 *
 * Loading (errors, warnings, progress) is load.c's; a damaged capture
 * stops the report (exit 1), one that ends early is reported up to where
 * it ends. */
#define _GNU_SOURCE
#include "report/report.h"
#include "report/sites.h"

#include "report/load.h"

#define MSG "recycle report: "

int rcr_report(const char *path, const rcr_options *options, FILE *out, FILE *err) {
    rcr_replay replay;
    bool complete;
    rcr_load_options lo = {.prefix = MSG, .progress = options->progress};
    if (rcr_load(path, &lo, &replay, &complete, err) != 0)
        return 1;

    int status = 0;
    rcr_sites sites;
    if (!rcr_sites_build(&replay, options->by, &sites)) {
        fprintf(err, MSG "%s: out of memory\n", path);
        status = 1;
        goto done;
    }
    rcr_render rd = {
        .replay = &replay,
        .sites = &sites,
        .options = options,
        .path = path,
        .complete = complete,
    };
    if (options->json)
        rcr_render_json(&rd, out);
    else
        rcr_render_text(&rd, out);
    rcr_sites_free(&sites);

done:
    rcr_replay_free(&replay);
    return status;
}
