/* assets.h - the scripts and styles of the pages (src/report/flame.js,
 * flame.css for the flame graph, html.js, html.css for the html page),
 * compiled in as bytes by cmake/tools/report.cmake so that a page needs no
 * file beside it and the command no data directory.
 *
 * Each array holds the file's bytes followed by a 0 that is not counted in
 * its size. */
#ifndef RC_REPORT_ASSETS_H
#define RC_REPORT_ASSETS_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stddef.h>

extern const unsigned char rcr_flame_js[];
extern const size_t rcr_flame_js_size;
extern const unsigned char rcr_flame_css[];
extern const size_t rcr_flame_css_size;
extern const unsigned char rcr_html_js[];
extern const size_t rcr_html_js_size;
extern const unsigned char rcr_html_css[];
extern const size_t rcr_html_css_size;

#endif /* RC_REPORT_ASSETS_H */
