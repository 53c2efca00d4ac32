/* markup.h - a capture's text in XML and HTML (the plot's SVG, the html
 * page): escaped so that a name from the capture can never be markup. */
#ifndef RC_REPORT_MARKUP_H
#define RC_REPORT_MARKUP_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include "report/replay.h"
#include "report/sites.h"

#include <stdio.h>

/* s as character data or an attribute's value, in XML and in HTML alike:
 * the five special characters as entities; bytes that are not valid
 * UTF-8, and control characters XML 1.0 does not allow, as U+FFFD; tabs
 * and newlines as spaces (a label is one line). */
void rcr_put_xml(FILE *out, const char *s);

/* A site as the report's tables name it: function (file:line), or the
 * module and offset when the pc has no source; "[no stack recorded]" for
 * node 0. */
void rcr_put_frame_xml(FILE *out, const rcr_frame *f, uint32_t node);

/* How the run ended, as `recycle report` says it ("exited with status 0
 * after 1.250 s", "killed by signal 9 (Killed) after ..."). */
void rcr_put_end_xml(FILE *out, const rcr_replay *r);

#endif /* RC_REPORT_MARKUP_H */
